"""A private rasterclipd on a Unix socket, started when no server is named (as
dask.distributed.Client() starts a local cluster) and stopped with the
interpreter."""
import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

DAEMON_ENV = "RASTERCLIP_DAEMON"
START_SECONDS = 60

HOW_TO_GET_ONE = (
    "no rasterclip server: pass server=, set RASTERCLIP_SERVER=http://HOST:PORT, or install "
    "the daemon so that rasterclipd is on PATH (the rasterclip Debian package: "
    "scripts/package.sh builds it) or named by RASTERCLIP_DAEMON")


class NoDaemon(RuntimeError):
    """No server was named and no rasterclipd can be started here."""


def find_daemon():
    """The rasterclipd to start: $RASTERCLIP_DAEMON, else the one on PATH."""
    named = os.environ.get(DAEMON_ENV)
    if named:
        if not (os.path.isfile(named) and os.access(named, os.X_OK)):
            raise NoDaemon("%s=%s is not an executable file" % (DAEMON_ENV, named))
        return named
    found = shutil.which("rasterclipd") or next(
        (p for p in ("/usr/bin/rasterclipd", "/usr/sbin/rasterclipd") if os.access(p, os.X_OK)),
        None)
    if not found:
        raise NoDaemon(HOW_TO_GET_ONE)
    return found


class LocalServer:
    """A rasterclipd of this process's own, reached at ``url`` ("unix:PATH").

    ``with rasterclip.local(workers=2) as server: rasterclip.render(job, server=server)``
    starts one and stops it at the end of the block; :func:`rasterclip.render` with
    no server starts one on first use and keeps it for later calls.

    Parameters
    ----------
    workers : int, optional
        Render workers (the daemon's --workers); its default otherwise.
    data_root : str, optional
        Where ``raster.url`` paths are read from; an empty private folder otherwise
        (rasters then come with the call).
    args : sequence of str
        More daemon flags.
    daemon : str, optional
        The rasterclipd to run; ``$RASTERCLIP_DAEMON`` or the one on PATH otherwise.
    """

    returncode = None  # the daemon's exit status once stopped

    def __init__(self, workers=None, data_root=None, args=(), daemon=None):
        self._dir = tempfile.mkdtemp(prefix="rasterclip-")
        os.chmod(self._dir, 0o700)
        self.socket = os.path.join(self._dir, "rasterclipd.sock")
        self.url = "unix:" + self.socket
        root = data_root or os.path.join(self._dir, "data")
        os.makedirs(root, exist_ok=True)
        command = [daemon or find_daemon(), "--listen", self.url, "--data-root", root]
        if workers:
            command += ["--workers", str(int(workers))]
        command += list(args)
        self._log_path = os.path.join(self._dir, "rasterclipd.log")
        with open(self._log_path, "wb") as log:
            self._proc = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=log,
                                          start_new_session=True)
        self._wait_ready()

    def _wait_ready(self):
        from . import _http
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                log = self.log()
                self.close()
                raise NoDaemon("rasterclipd exited (%d) while starting: %s"
                               % (self._proc.returncode, log[-800:]))
            if os.path.exists(self.socket):
                try:
                    if _http.get(self.url, "/readyz", timeout=2)[0] == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        self.close()
        raise NoDaemon("rasterclipd did not become ready in %d s" % START_SECONDS)

    def log(self):
        """What the daemon has written to its log."""
        try:
            with open(self._log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    @property
    def running(self):
        return self._proc.poll() is None

    def close(self):
        """Stops the daemon (SIGTERM: it finishes what is streaming) and removes its
        folder."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self.returncode = self._proc.returncode
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<rasterclip.LocalServer %s%s>" % (self.url, "" if self.running else " stopped")


_default = None
_default_lock = threading.Lock()


def default_server():
    """The URL of this process's shared local daemon, started on first use."""
    global _default
    with _default_lock:
        if _default is None or not _default.running:
            _default = LocalServer()
            atexit.register(_default.close)
        return _default.url
