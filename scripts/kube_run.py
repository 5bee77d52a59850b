#!/usr/bin/python3
"""Prints the `podman run` arguments that run the rasterclip Deployment's container
as its manifest says: image, command and args, env, the pod's user and group,
read-only root, dropped capabilities, no new privileges, and its volumes (emptyDir
as tmpfs, a PersistentVolumeClaim as a bind mount of a host folder). Used by
scripts/image-test.sh where `podman kube play` cannot start a pod; the readiness
probe's path and port are printed too, for the caller to poll.

    scripts/kube_run.py [--manifest FILE] [--image IMAGE] --claim NAME=DIR [-e K=V]...

Output, one JSON object: {"args": [...], "probe": {"path": ..., "port": ...}}.
"""
import argparse
import json
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def port_number(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    raise SystemExit("kube_run: no container port named %s" % port)


def run_args(deployment, image, claims, extra_env):
    pod = deployment["spec"]["template"]["spec"]
    if len(pod["containers"]) != 1:
        raise SystemExit("kube_run: one container expected")
    c = pod["containers"][0]
    args = ["--name", deployment["metadata"]["name"]]
    ctx = dict(pod.get("securityContext", {}))
    ctx.update(c.get("securityContext", {}))
    if "runAsUser" in ctx:
        args += ["--user", "%d:%d" % (ctx["runAsUser"], ctx.get("runAsGroup", ctx["runAsUser"]))]
    if "fsGroup" in pod.get("securityContext", {}):
        args += ["--group-add", str(pod["securityContext"]["fsGroup"])]
    if ctx.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    if ctx.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    for cap in ctx.get("capabilities", {}).get("drop", []):
        args += ["--cap-drop", cap]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in c.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        read_only = mount.get("readOnly", False)
        if "emptyDir" in volume:
            # Writable by the pod's group, as the kubelet makes an emptyDir under fsGroup.
            options = "rw,mode=1777" if not read_only else "ro"
            size = volume["emptyDir"].get("sizeLimit")
            if size:
                options += ",size=" + size.replace("Gi", "g").replace("Mi", "m")
            args += ["--tmpfs", "%s:%s" % (mount["mountPath"], options)]
        elif "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            if claim not in claims:
                raise SystemExit("kube_run: give --claim %s=DIR" % claim)
            read_only = read_only or volume["persistentVolumeClaim"].get("readOnly", False)
            args += ["--volume", "%s:%s:%s" % (os.path.abspath(claims[claim]),
                                              mount["mountPath"], "ro" if read_only else "rw")]
        else:
            raise SystemExit("kube_run: volume %s: only emptyDir and persistentVolumeClaim"
                             % mount["name"])
    for var in c.get("env", []):
        args += ["--env", "%s=%s" % (var["name"], var["value"])]
    for var in extra_env:
        args += ["--env", var]
    if "command" in c:
        args += ["--entrypoint", json.dumps(c["command"])]
    args.append(image or c["image"])
    args += c.get("args", [])
    probe = c["readinessProbe"]["httpGet"]
    return {"args": args, "probe": {"path": probe["path"], "port": port_number(c, probe["port"])}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--manifest",
                        default=os.path.join(ROOT, "deploy", "kubernetes", "base",
                                             "deployment.yaml"))
    parser.add_argument("--image")
    parser.add_argument("--claim", action="append", default=[])
    parser.add_argument("-e", "--env", action="append", default=[])
    opts = parser.parse_args()
    with open(opts.manifest) as f:
        docs = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "Deployment"]
    claims = dict(c.split("=", 1) for c in opts.claim)
    json.dump(run_args(docs[0], opts.image, claims, opts.env), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
