"""deploy/kubernetes/: every kustomization builds and every object validates against
the Kubernetes schema of its API version (tests/kubernetes/validate.mjs); the
metrics the autoscalers read exist under those names in a daemon's /metrics; the
probes, options and timings the Deployment uses are the daemon's."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import DAEMON, SOURCE, Daemon

MANIFESTS = os.path.join(SOURCE, "deploy", "kubernetes")
VALIDATOR = os.path.join(SOURCE, "tests", "kubernetes", "validate.mjs")


class KubernetesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        node = shutil.which("node")
        if not node:
            raise AssertionError("node is missing: scripts/setup.sh installs it")
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            run = subprocess.run([node, VALIDATOR, MANIFESTS, out.name], capture_output=True,
                                 text=True, cwd=os.path.dirname(VALIDATOR))
            cls.report = run.stdout + run.stderr
            cls.returncode = run.returncode
            cls.builds = json.load(open(out.name)) if run.returncode == 0 else {}
        cls.daemon = Daemon("--workers", "2")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def objects(self, build, kind):
        return [o for o in self.builds[build] if o["kind"] == kind]

    def test_manifests_validate(self):
        self.assertEqual(self.returncode, 0, self.report)
        self.assertEqual(set(self.builds), {"base", "overlays/gpu", "overlays/keda",
                                            "overlays/prometheus-operator"})
        for kind in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler",
                     "ConfigMap"):
            self.assertEqual(len(self.objects("base", kind)), 1, kind)
        self.assertEqual(len(self.objects("overlays/keda", "ScaledObject")), 1)
        self.assertEqual(self.objects("overlays/keda", "HorizontalPodAutoscaler"), [])
        gpu = self.objects("overlays/gpu", "Deployment")[0]["spec"]["template"]["spec"]
        self.assertEqual(gpu["containers"][0]["resources"]["limits"]["nvidia.com/gpu"], "1")
        base = self.objects("base", "Deployment")[0]["spec"]["template"]["spec"]
        self.assertNotIn("nvidia.com/gpu", base["containers"][0]["resources"]["limits"])
        monitor = self.objects("overlays/prometheus-operator", "PodMonitor")[0]["spec"]
        self.assertEqual(monitor["selector"]["matchLabels"],
                         self.objects("base", "Deployment")[0]["spec"]["selector"]["matchLabels"])
        self.assertEqual(monitor["podMetricsEndpoints"][0]["path"], "/metrics")

    def test_the_pod_runs_as_the_images_numeric_user(self):
        pod = self.objects("base", "Deployment")[0]["spec"]["template"]["spec"]
        ctx = pod["securityContext"]
        self.assertTrue(ctx["runAsNonRoot"])
        with open(os.path.join(SOURCE, "Dockerfile")) as f:
            user = re.search(r"^USER (\d+):(\d+)$", f.read(), re.M)
        self.assertIsNotNone(user, "the image's USER is not numeric")
        self.assertEqual((ctx["runAsUser"], ctx["runAsGroup"]), (int(user[1]), int(user[2])))
        self.assertEqual(ctx["fsGroup"], int(user[2]))
        container = pod["containers"][0]
        self.assertTrue(container["securityContext"]["readOnlyRootFilesystem"])
        # Everything the daemon writes is on a volume: the clip cache and /tmp.
        env = {e["name"]: e["value"] for e in container["env"]}
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        self.assertIn(env["RASTERCLIP_CLIP_CACHE"], mounts)
        self.assertIn("/tmp", mounts)
        data = mounts[env["RASTERCLIP_DATA_ROOT"]]
        self.assertTrue(data["readOnly"])
        volumes = {v["name"]: v for v in pod["volumes"]}
        self.assertIn("persistentVolumeClaim", volumes[data["name"]])

    def metric_names(self):
        _, _, text = self.daemon.request("GET", "/metrics")
        return set(re.findall(r"^([a-z_]+)(?:\{[^}]*\})? ", text.decode(), re.M))

    def test_the_autoscalers_read_the_daemons_metrics(self):
        served = self.metric_names()
        # The adapter's rules: the series they read, and the names they serve.
        rules = self.objects("base", "ConfigMap")[0]["data"]["config.yaml"]
        read = set(re.findall(r"\b(rasterclip_[a-z_]+)\{", rules))
        self.assertEqual(read, {"rasterclip_queue_depth", "rasterclip_workers_busy",
                                "rasterclip_workers"})
        self.assertLessEqual(read, served)
        offered = set(re.findall(r'as: "([a-z_]+)"', rules))
        hpa = self.objects("base", "HorizontalPodAutoscaler")[0]
        wanted = {m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"]}
        self.assertEqual(wanted, {"rasterclip_queue_depth", "rasterclip_workers_busy_ratio"})
        self.assertLessEqual(wanted, offered)
        self.assertNotIn("Resource", {m["type"] for m in hpa["spec"]["metrics"]})  # not CPU
        # KEDA's queries read the same series.
        scaled = self.objects("overlays/keda", "ScaledObject")[0]
        queries = " ".join(t["metadata"]["query"] for t in scaled["spec"]["triggers"])
        self.assertLessEqual(set(re.findall(r"\b(rasterclip_[a-z_]+)\{", queries)), served)

    def test_the_deployment_fits_the_daemon(self):
        pod = self.objects("base", "Deployment")[0]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            self.assertEqual(container[probe]["httpGet"]["path"], path)
            self.assertEqual(self.daemon.request("GET", path)[0], 200)
        # Every setting the pods pass is one the daemon knows (its --help names each
        # option's variable), and none goes as a flag, which would hide the env.
        usage = subprocess.run([DAEMON, "--help"], capture_output=True, text=True)
        known = set(re.findall(r"env (RASTERCLIP_[A-Z0-9_]+)", usage.stdout + usage.stderr))
        self.assertIn("RASTERCLIP_DATA_ROOT", known)
        for build in ("base", "overlays/gpu"):
            spec = self.objects(build, "Deployment")[0]["spec"]["template"]["spec"][
                "containers"][0]
            self.assertNotIn("args", spec)
            for var in spec["env"]:
                if var["name"].startswith("RASTERCLIP_"):
                    self.assertIn(var["name"], known, var)
        gpu = self.objects("overlays/gpu", "Deployment")[0]["spec"]["template"]["spec"]
        gpu_env = {e["name"]: e["value"] for e in gpu["containers"][0]["env"]}
        self.assertEqual((gpu_env["RASTERCLIP_WORKERS"], gpu_env["RASTERCLIP_DEVICE"]), ("4", "0"))
        self.assertIn("RASTERCLIP_DATA_ROOT", gpu_env)  # merged, not replaced
        # The kubelet waits longer than preStop and the drain grace together.
        args = {e["name"][len("RASTERCLIP_"):].lower().replace("_", "-"): e["value"]
                for e in container["env"]}
        pre_stop = container["lifecycle"]["preStop"]["exec"]["command"][-1]
        sleep = int(re.search(r"sleep (\d+)", pre_stop).group(1))
        self.assertIn("kill -TERM 1", pre_stop)  # new work stops first
        self.assertGreater(pod["terminationGracePeriodSeconds"],
                           sleep + int(args["drain-grace-seconds"]))
        self.assertEqual(container["ports"][0]["containerPort"],
                         int(args["listen"].rsplit(":", 1)[1]))


if __name__ == "__main__":
    unittest.main()
