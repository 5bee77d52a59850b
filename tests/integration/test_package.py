"""The Debian package from this build tree (cpack, as scripts/package.sh makes
it): its files, its dependencies, and the README's first Python example run from
what it unpacks, with no server configured — the client starts the packaged
daemon itself. scripts/package_test.sh installs the real package on a fresh
Debian 12 instead."""
import os
import re
import subprocess
import tempfile
import unittest

from harness import DAEMON
from test_python_client import extract_readme_example

BUILD = os.path.dirname(DAEMON)


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        out = os.path.join(cls.tmp.name, "out")
        run = subprocess.run(["cpack", "-G", "DEB", "-B", out], cwd=BUILD, capture_output=True,
                             text=True, timeout=600)
        assert run.returncode == 0, run.stdout + run.stderr
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(out, debs[0])
        cls.root = os.path.join(cls.tmp.name, "root")
        subprocess.run(["dpkg-deb", "-x", cls.deb, cls.root], check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_name_files_and_dependencies(self):
        self.assertRegex(os.path.basename(self.deb), r"^rasterclip_\d+\.\d+\.\d+_amd64\.deb$")
        for path in ("usr/bin/rasterclipd", "usr/bin/rasterclip",
                     "usr/lib/python3/dist-packages/rasterclip/__init__.py",
                     "usr/lib/python3/dist-packages/rasterclip/py.typed",
                     "usr/lib/systemd/system/rasterclipd.service",
                     "usr/lib/systemd/system/rasterclipd.socket",
                     "usr/share/man/man8/rasterclipd.8", "usr/share/man/man1/rasterclip.1",
                     "usr/share/doc/rasterclip/copyright"):
            self.assertTrue(os.path.exists(os.path.join(self.root, path)), path)
        fields = subprocess.run(["dpkg-deb", "-f", self.deb, "Depends"], capture_output=True,
                                text=True, check=True).stdout
        for dep in ("python3", "libgdal", "libvpx", "libmicrohttpd", "libseccomp", "libegl",
                    "libjs-leaflet"):
            self.assertIn(dep, fields)
        with open(os.path.join(self.root, "usr/lib/systemd/system/rasterclipd.service")) as f:
            self.assertRegex(f.read(), r"(?m)^ExecStart=/usr/bin/rasterclipd$")

    def test_man_pages_are_the_help(self):
        help_text = subprocess.run([DAEMON, "--help"], capture_output=True, text=True).stdout
        with open(os.path.join(self.root, "usr/share/man/man8/rasterclipd.8")) as f:
            page = f.read().replace("\\-", "-")
        self.assertTrue(page.startswith(".TH RASTERCLIPD 8"))
        flags = re.findall(r"^  (--[\w-]+)", help_text, re.M)
        self.assertGreater(len(flags), 30)
        for flag in flags:
            self.assertIn(flag, page)

    def test_readme_example_with_nothing_started(self):
        with tempfile.TemporaryDirectory() as work:
            script = os.path.join(work, "example.py")
            with open(script, "w") as f:
                f.write(extract_readme_example())
            env = {k: v for k, v in os.environ.items()
                   if k not in ("RASTERCLIP_SERVER", "PYTHONPATH")}
            env.update(PYTHONPATH=os.path.join(self.root, "usr/lib/python3/dist-packages"),
                       RASTERCLIP_DAEMON=os.path.join(self.root, "usr/bin/rasterclipd"))
            run = subprocess.run(["/usr/bin/python3", script], capture_output=True, text=True,
                                 cwd=work, env=env, timeout=300)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr[-3000:])
            self.assertIn("GIF89a", run.stdout)


if __name__ == "__main__":
    unittest.main()
