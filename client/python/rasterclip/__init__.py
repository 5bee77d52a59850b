"""Client for the rasterclip daemon: a raster in, a clip out, in one call.

    import rasterclip
    gif = rasterclip.render({"style": {"colormap": "viridis"},
                             "output": {"format": "gif"}}, raster=array)

The raster may be

* a NumPy array, sent as .npy: 2-D (y, x) or 3-D (time or band, y, x); NaN and a
  masked array's mask are no data. Other axis orders are named with
  ``dims=("y", "x", "time")`` and put in order here; a 3-D array whose last axis
  is short (at most 4) and whose first is not looks like (y, x, band) and is
  refused unless ``dims`` says which axis is which. Every real dtype is accepted:
  bool as 0/1 (uint8), float16 as float32, int64 and uint64 as float64 when every
  value is exactly representable there (|v| <= 2**53; else ValueError), the rest
  as they are. Complex and object arrays are refused (TypeError).
* an xarray ``DataArray``, or a ``Dataset`` with ``var=`` naming the variable:
  sent as CF NetCDF, so its dimensions, coordinates (latitudes in either order),
  time labels, units, long name and CRS (rioxarray's ``spatial_ref`` or a CF
  ``grid_mapping``) travel with the values; raster.variable is set to its name.
* a path to any file the daemon's GDAL reads (or a .npy), or the bytes of one.

Without a raster the job's raster.url names one the daemon can reach.

The server is ``server=``, else ``$RASTERCLIP_SERVER`` (``http(s)://HOST:PORT`` or
``unix:PATH``), else a private rasterclipd this process starts on a Unix socket on
first use (found on PATH or at ``$RASTERCLIP_DAEMON``), reuses, and stops when the
interpreter exits; ``with rasterclip.local(workers=2) as server:`` does the same
explicitly. Standard library only; NumPy and xarray are imported only when such an
object is given.
"""
import http.client
import io
import json
import os
import threading
import time
import uuid
from typing import IO, Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import _http
from ._arrays import is_xarray, netcdf, plain_array
from ._local import LocalServer, NoDaemon, default_server
from ._sign import sign_url

__all__ = ["render", "render_to", "show", "info", "colormaps", "health", "local", "sign_url",
           "RenderError", "NoDaemon", "LocalServer", "Clip", "__version__"]
__version__ = "0.1.0"

RETRIES = 3           # 429/503 answers retried this many times
MAX_RETRY_AFTER = 30  # seconds: a longer Retry-After is capped
CHUNK = 1024 * 1024
PROGRESS_SECONDS = 0.5

Progress = Callable[[int, int], None]


class RenderError(Exception):
    """The daemon refused or failed the job.

    Attributes
    ----------
    status : int
        The HTTP status; 0 for a cut stream or a network failure.
    code, field, message : str
        From the daemon's JSON error (``field`` names the job field at fault).
    job_id : str or None
        The daemon's id of the job (``X-Request-Id``), when it got that far.
    url : str
        The server the call went to.
    """

    def __init__(self, status, code, message, field=None, job_id=None, url=""):
        super().__init__("%s%s: %s" % (code, " (%s)" % field if field else "", message))
        self.status = status
        self.code = code
        self.field = field
        self.message = message
        self.job_id = job_id
        self.url = url


class Clip(bytes):
    """The clip's bytes, with the job's ``job_id``, ``content_type`` and ``frames``;
    in Jupyter it displays itself (a GIF as an image, MP4 and WebM as a video)."""

    job_id = None  # type: Optional[str]
    content_type = ""
    frames = None  # type: Optional[int]

    def _repr_html_(self):
        import base64
        data = base64.b64encode(self).decode("ascii")
        if self.content_type == "image/gif":
            return '<img src="data:image/gif;base64,%s"/>' % data
        return ('<video controls autoplay loop muted playsinline src="data:%s;base64,%s">'
                "</video>" % (self.content_type, data))


def info(server: Union[str, LocalServer, None] = None, token: Optional[str] = None,
         timeout: Optional[float] = 10) -> Dict[str, Any]:
    """The daemon's GET /v1/info: renderer, GL strings, library versions, limits
    (``rasterclip info``)."""
    return _get_json(server, "/v1/info", token, timeout)


def colormaps(server: Union[str, LocalServer, None] = None, token: Optional[str] = None,
              timeout: Optional[float] = 10) -> List[str]:
    """The colormap names the daemon knows (``rasterclip colormaps --names``)."""
    return [m["name"] for m in _get_json(server, "/v1/colormaps", token, timeout)["colormaps"]]


def health(server: Union[str, LocalServer, None] = None, token: Optional[str] = None,
           timeout: Optional[float] = 10) -> Dict[str, Any]:
    """The daemon's GET /healthz (``rasterclip health``)."""
    return _get_json(server, "/healthz", token, timeout)


def _get_json(server, path, token, timeout):
    url = _server_url(server)
    token = token or os.environ.get("RASTERCLIP_TOKEN")
    headers = {"Authorization": "Bearer " + token} if token else {}
    try:
        status, body = _http.get(url, path, headers=headers, timeout=timeout)
    except OSError as e:
        raise RenderError(0, "network", "cannot reach %s: %s" % (url, e), url=url) from e
    if status != 200 or not isinstance(body, dict):
        err = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        raise RenderError(status, err.get("code", "http_%d" % status), err.get("message", ""),
                          err.get("field"), url=url)
    return body


def local(workers: Optional[int] = None, data_root: Optional[str] = None,
          args: Sequence[str] = (), daemon: Optional[str] = None) -> LocalServer:
    """Starts a private rasterclipd on a Unix socket; use it as a context manager
    (``with rasterclip.local() as server:``) and pass ``server=server``.
    See :class:`LocalServer`."""
    return LocalServer(workers=workers, data_root=data_root, args=args, daemon=daemon)


def render(job: Mapping[str, Any], raster: Any = None, heights: Any = None,
           server: Union[str, LocalServer, None] = None, timeout: Optional[float] = None,
           dims: Optional[Sequence[str]] = None, var: Optional[str] = None,
           token: Optional[str] = None, headers: Optional[Mapping[str, str]] = None,
           progress: Optional[Progress] = None) -> Clip:
    """Renders `job` and returns the clip.

    Parameters
    ----------
    job : dict
        The job (the daemon's wire contract: raster, style, camera, timeline, output).
    raster, heights : array, xarray object, path or bytes, optional
        What to draw (see the module's text); ``heights`` a surface's relief.
    server : str or LocalServer, optional
        ``http(s)://HOST:PORT`` or ``unix:PATH``; ``$RASTERCLIP_SERVER`` or a local
        daemon otherwise.
    timeout : float, optional
        Seconds any one network operation may take.
    dims : sequence of str, optional
        A NumPy raster's axes, e.g. ``("y", "x", "time")``.
    var : str, optional
        The variable of an xarray Dataset.
    token : str, optional
        A bearer token (``$RASTERCLIP_TOKEN`` otherwise).
    headers : dict, optional
        More request headers.
    progress : callable, optional
        Called as ``progress(frames_done, frames_total)`` about twice a second while
        the job renders, and once at the end.

    Returns
    -------
    Clip
        The clip's bytes (a ``bytes``), with ``job_id``, ``content_type`` and
        ``frames``.

    Raises
    ------
    RenderError
        The daemon refused or failed the job, or could not be reached (the
        message names the URL).
    NoDaemon
        No server is named and no rasterclipd can be started here.
    """
    out = io.BytesIO()
    meta = {}  # type: Dict[str, Any]
    render_to(out, job, raster=raster, heights=heights, server=server, timeout=timeout,
              dims=dims, var=var, token=token, headers=headers, progress=progress, _meta=meta)
    clip = Clip(out.getvalue())
    clip.job_id = meta.get("job_id")
    clip.content_type = meta.get("content_type", "")
    clip.frames = meta.get("frames")
    return clip


def show(job: Mapping[str, Any], raster: Any = None, **kwargs: Any) -> Any:
    """Renders `job` and returns what Jupyter displays: the GIF as an image, an MP4
    or WebM as a playing video. Takes :func:`render`'s arguments."""
    clip = render(job, raster=raster, **kwargs)
    try:
        from IPython.display import HTML, Image
    except ImportError:
        return clip
    if clip.content_type == "image/gif":
        return Image(data=bytes(clip), format="gif")
    return HTML(clip._repr_html_())


def render_to(fileobj: IO[bytes], job: Mapping[str, Any], raster: Any = None,
              heights: Any = None, server: Union[str, LocalServer, None] = None,
              timeout: Optional[float] = None, dims: Optional[Sequence[str]] = None,
              var: Optional[str] = None, token: Optional[str] = None,
              headers: Optional[Mapping[str, str]] = None, progress: Optional[Progress] = None,
              _meta: Optional[Dict[str, Any]] = None) -> int:
    """Renders `job` and writes the clip into `fileobj` (anything with write()) as
    it streams; returns the number of bytes written. Takes :func:`render`'s
    arguments."""
    url = _server_url(server)
    if is_xarray(raster):
        raster, name = netcdf(raster, var)
        job = dict(job)
        job["raster"] = dict(job.get("raster") or {})
        job["raster"].setdefault("variable", name)
    elif var is not None:
        raise ValueError("var= names a variable of an xarray Dataset")
    sent = dict(headers or {})
    token = token or os.environ.get("RASTERCLIP_TOKEN")
    if token:
        sent["Authorization"] = "Bearer " + token
    parts = [("job", "job.json", "application/json", [json.dumps(job).encode()])]
    for name, value in (("raster", raster), ("heights", heights)):
        if value is not None:
            parts.append((name,) + _payload(value, dims if name == "raster" else None))
    _check_upload_size(url, parts, sent, timeout)
    body, content_type = _multipart(parts) if len(parts) > 1 else (
        parts[0][3], "application/json")
    sent["Content-Type"] = content_type
    sent["Content-Length"] = str(sum(memoryview(b).nbytes for b in body))
    for attempt in range(RETRIES + 1):
        conn, prefix = _http.connection(url, timeout)
        try:
            resp = _post(conn, prefix + "/v1/render", sent, body, url)
            job_id = resp.getheader("X-Request-Id")
            if resp.status in (429, 503) and attempt < RETRIES:
                resp.read()
                time.sleep(_retry_after(resp))
                continue
            if resp.status != 200:
                raise _error(resp, url, job_id)
            if _meta is not None:
                frames = resp.getheader("X-Frame-Count")
                _meta.update(job_id=job_id, content_type=resp.getheader("Content-Type", ""),
                             frames=int(frames) if frames and frames.isdigit() else None)
            with _Progress(progress, url, job_id, sent, resp.getheader("X-Frame-Count")):
                return _copy(resp, fileobj, url, job_id)
        finally:
            conn.close()
    raise AssertionError("unreachable")


def _post(conn, path, headers, body, url):
    """Sends the request and returns the response. The daemon may answer before
    the body is all sent (a 401, 413 or 503 decided on the headers) and close: that
    answer is read rather than reported as the broken pipe it causes."""
    try:
        conn.putrequest("POST", path, skip_accept_encoding=True)
        for key, value in headers.items():
            conn.putheader(key, value)
        conn.endheaders()
    except OSError as e:
        raise RenderError(0, "network", "cannot reach %s: %s" % (url, e), url=url) from e
    failed = None
    try:
        for piece in body:
            conn.send(piece)
    except OSError as e:
        failed = e
    try:
        return conn.getresponse()
    except OSError as e:
        raise RenderError(0, "network", "cannot reach %s: %s" % (url, failed or e),
                          url=url) from (failed or e)


def _server_url(server):
    if isinstance(server, LocalServer):
        return server.url
    return server or os.environ.get("RASTERCLIP_SERVER") or default_server()


class _Progress:
    """Polls /v1/jobs/{id} on its own connection while the clip streams."""

    def __init__(self, callback, url, job_id, headers, total):
        self._callback = callback
        self._url, self._job_id = url, job_id
        self._headers = {k: v for k, v in headers.items() if k == "Authorization"}
        self._total = int(total) if total and total.isdigit() else 0
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if self._callback and self._job_id:
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        return self

    def _poll(self):
        while not self._stop.wait(PROGRESS_SECONDS):
            try:
                status, state = _http.get(self._url, "/v1/jobs/" + self._job_id,
                                          headers=self._headers, timeout=5)
            except OSError:
                continue
            if status == 200 and isinstance(state, dict):
                self._total = int(state.get("frames_total") or self._total)
                self._callback(int(state.get("frames_done") or 0), self._total)

    def __exit__(self, kind, value, tb):
        self._stop.set()
        if self._thread:
            self._thread.join()
        if self._callback and kind is None:
            self._callback(self._total, self._total)


def _check_upload_size(url, parts, headers, timeout):
    """An upload over the daemon's max_upload_mb is refused here, as the daemon
    would (413), before a byte of it is sent."""
    size = sum(memoryview(b).nbytes for p in parts[1:] for b in p[3])
    if not size:
        return
    try:
        status, info = _http.get(url, "/v1/info",
                                 headers={k: v for k, v in headers.items()
                                          if k == "Authorization"}, timeout=timeout or 10)
    except OSError as e:
        raise RenderError(0, "network", "cannot reach %s: %s" % (url, e), url=url) from e
    limit_mb = (info or {}).get("limits", {}).get("max_upload_mb") if status == 200 else None
    if limit_mb and size > int(limit_mb) << 20:
        raise RenderError(413, "too_large", "the upload is %.1f MiB; the server takes at most "
                          "%d MiB (max_upload_mb)" % (size / 1048576.0, limit_mb),
                          field="raster", url=url)


def _payload(value, dims=None):
    """(filename, content type, pieces) of a raster given as an array, path or bytes:
    the pieces, sent one after another, are the file; an array's are its .npy
    header and its own buffer, not a copy."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = memoryview(value).cast("B")
        is_npy = bytes(data[:6]) == b"\x93NUMPY"
        return ("raster.npy" if is_npy else "raster", _type_of(is_npy), [data])
    if isinstance(value, (str, os.PathLike)):
        with open(value, "rb") as f:
            data = f.read()
        return (os.path.basename(os.fspath(value)), _type_of(data[:6] == b"\x93NUMPY"),
                [memoryview(data)])
    if hasattr(value, "__array__") or type(value).__module__.startswith("numpy"):
        import numpy as np  # only when an array is given
        a = plain_array(np, value, dims)
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(a))
        return ("raster.npy", "application/x-npy",
                [memoryview(header.getvalue()), memoryview(a.reshape(-1).view(np.uint8))])
    if dims is not None:
        raise ValueError("dims= names the axes of a NumPy array")
    raise TypeError("raster must be a NumPy array, an xarray object, a path or bytes, not %s"
                    % type(value).__name__)


def _type_of(is_npy):
    return "application/x-npy" if is_npy else "application/octet-stream"


def _multipart(parts):
    """The body's pieces (the parts' own buffers between small framing pieces) and
    its content type."""
    boundary = "rasterclip-" + uuid.uuid4().hex
    pieces = []
    for name, filename, ctype, data in parts:
        pieces.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\""
                       "\r\nContent-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode())
        pieces.extend(data)
        pieces.append(b"\r\n")
    pieces.append(("--%s--\r\n" % boundary).encode())
    return pieces, "multipart/form-data; boundary=" + boundary


def _retry_after(resp):
    try:
        return min(max(float(resp.getheader("Retry-After", "1")), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


def _error(resp, url, job_id):
    data = resp.read()
    try:
        err = json.loads(data)["error"]
        return RenderError(resp.status, err.get("code", "error"), err.get("message", ""),
                           err.get("field"), job_id=job_id, url=url)
    except (ValueError, KeyError, TypeError):
        return RenderError(resp.status, "http_%d" % resp.status,
                           data[:200].decode("utf-8", "replace"), job_id=job_id, url=url)


def _copy(resp, fileobj, url, job_id):
    written = 0
    try:
        while True:
            chunk = resp.read1(CHUNK) if hasattr(resp, "read1") else resp.read(CHUNK)
            if not chunk:
                break
            fileobj.write(chunk)
            written += len(chunk)
    except http.client.IncompleteRead as e:
        raise RenderError(0, "incomplete", "the stream was cut after %d bytes: the job failed "
                          "while rendering" % (written + len(e.partial)), job_id=job_id,
                          url=url) from e
    return written
