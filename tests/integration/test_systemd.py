"""systemd: the units pass `systemd-analyze verify`, and the daemon serves a clip
on the socket systemd-socket-activate hands it (sd_listen_fds' protocol, spoken by
rasterclipd itself), refusing clearly when it is handed more than one."""
import http.client
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import DAEMON, SANITIZER_MARKS, SOURCE, ffprobe

UNITS = os.path.join(SOURCE, "systemd")


def connect(port, timeout=30):
    """A connection to the activated socket, once systemd-socket-activate listens."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=120)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise AssertionError("nothing listens on port %d" % port)
            time.sleep(0.05)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SystemdTest(unittest.TestCase):
    def test_units_verify(self):
        analyze = shutil.which("systemd-analyze")
        self.assertIsNotNone(analyze, "systemd-analyze is missing: scripts/setup.sh installs it")
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("rasterclipd.socket", "rasterclipd.service"):
                with open(os.path.join(UNITS, name)) as f:
                    text = f.read()
                # The unit names the installed binary; here, the one just built.
                text = text.replace("/usr/local/bin/rasterclipd", DAEMON)
                with open(os.path.join(tmp, name), "w") as f:
                    f.write(text)
            out = subprocess.run([analyze, "verify", os.path.join(tmp, "rasterclipd.socket"),
                                  os.path.join(tmp, "rasterclipd.service")],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertNotIn("rasterclipd", out.stderr, out.stderr)  # no warnings about ours
        with open(os.path.join(UNITS, "rasterclipd.service")) as f:
            service = f.read()
        for line in ("Type=notify", "WatchdogSec=", "DeviceAllow=char-drm rw",
                     "RestrictAddressFamilies=", "WantedBy=multi-user.target",
                     "EnvironmentFile=-/etc/default/rasterclipd"):
            self.assertIn(line, service)
        # Settings come as environment, which /etc/default/rasterclipd overrides: a
        # flag in ExecStart would silently win over it.
        exec_start = re.search(r"^ExecStart=(.*)$", service, re.M).group(1)
        self.assertNotIn("--", exec_start)
        usage = subprocess.run([DAEMON, "--help"], capture_output=True, text=True).stdout
        for var in re.findall(r"(RASTERCLIP_[A-Z_]+)=", service):
            self.assertIn("env %s;" % var, usage)

    def activate(self, root, *listen):
        tool = shutil.which("systemd-socket-activate")
        self.assertIsNotNone(tool, "systemd-socket-activate is missing: scripts/setup.sh "
                             "installs it")
        args = [tool]
        for address in listen:
            args += ["-l", address]
        # It starts the daemon with a fresh environment: the sanitizers' settings
        # (suppressions for the libraries' own reports) are passed on by name.
        for name in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"):
            if name in os.environ:
                args += ["-E", name]
        log = tempfile.TemporaryFile("w+")
        proc = subprocess.Popen(args + [DAEMON, "--listen", "127.0.0.1:1", "--data-root", root],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                text=True)
        return proc, log

    def stop(self, proc, log):
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=60)
        log.seek(0)
        text = log.read()
        log.close()
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, text)
        return text

    def test_socket_activation_serves_a_clip(self):
        root = tempfile.mkdtemp(prefix="rasterclip-data-")
        shutil.copy(os.path.join(SOURCE, "demo", "jacksboro_dem.tif"), root)
        port = free_port()
        proc, log = self.activate(root, "127.0.0.1:%d" % port)
        try:
            # The socket listens before the daemon runs: the first connection starts it.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.sock = connect(port)
            conn.request("GET", "/v1/render?url=jacksboro_dem.tif&width=320&height=180"
                                "&frames=10")
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            self.assertEqual(resp.status, 200, body[:300])
            with tempfile.NamedTemporaryFile(suffix=".webm") as f:
                f.write(body)
                f.flush()
                stream, _ = ffprobe(f.name)
            self.assertEqual(int(stream["nb_read_frames"]), 10)
        finally:
            text = self.stop(proc, log)
            shutil.rmtree(root, ignore_errors=True)
        self.assertIn('url=http://127.0.0.1:%d' % port, text)
        self.assertIn("activated=1", text)
        self.assertEqual(proc.returncode, 0, text[-2000:])

    def test_two_sockets_are_refused(self):
        root = tempfile.mkdtemp(prefix="rasterclip-data-")
        port = free_port()
        proc, log = self.activate(root, "127.0.0.1:%d" % port, "127.0.0.1:%d" % free_port())
        try:
            # Starting the daemon takes a connection; it then exits with the reason.
            with connect(port) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                s.settimeout(60)
                try:
                    answer = s.recv(100)
                except ConnectionResetError:
                    answer = b""
                self.assertEqual(answer, b"")  # closed without an answer
            proc.wait(timeout=60)
        finally:
            text = self.stop(proc, log)
            shutil.rmtree(root, ignore_errors=True)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("takes exactly one", text)


if __name__ == "__main__":
    unittest.main()
