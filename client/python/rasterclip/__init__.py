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

Without a raster the job's raster.url names one the daemon can reach. Standard
library only; NumPy and xarray are imported only when such an object is given.
"""
import http.client
import io
import json
import os
import time
import urllib.parse
import uuid

__all__ = ["render", "render_to", "RenderError", "DEFAULT_SERVER"]

DEFAULT_SERVER = "http://127.0.0.1:8080"
RETRIES = 3           # 429/503 answers retried this many times
MAX_RETRY_AFTER = 30  # seconds: a longer Retry-After is capped
CHUNK = 64 * 1024


class RenderError(Exception):
    """The daemon refused or failed the job: `status` (HTTP; 0 for a cut stream or
    a network failure), and from the JSON error `code`, `field` and `message`."""

    def __init__(self, status, code, message, field=None):
        super().__init__("%s%s: %s" % (code, " (%s)" % field if field else "", message))
        self.status = status
        self.code = code
        self.field = field
        self.message = message


def render(job, raster=None, heights=None, server=None, timeout=None, dims=None, var=None):
    """Renders `job` and returns the clip's bytes. `dims` names a NumPy raster's
    axes; `var` a Dataset's variable (see the module's text)."""
    out = io.BytesIO()
    render_to(out, job, raster=raster, heights=heights, server=server, timeout=timeout,
              dims=dims, var=var)
    return out.getvalue()


def render_to(fileobj, job, raster=None, heights=None, server=None, timeout=None, dims=None,
              var=None):
    """Renders `job` and writes the clip into `fileobj` (anything with write()) as
    it streams; returns the number of bytes written."""
    if _is_xarray(raster):
        raster, name = _netcdf(raster, var)
        job = dict(job)
        job["raster"] = dict(job.get("raster") or {})
        job["raster"].setdefault("variable", name)
    elif var is not None:
        raise ValueError("var= names a variable of an xarray Dataset")
    parts = [("job", "job.json", "application/json", json.dumps(job).encode())]
    for name, value in (("raster", raster), ("heights", heights)):
        if value is not None:
            parts.append((name,) + _payload(value, dims if name == "raster" else None))
    body, content_type = _multipart(parts) if len(parts) > 1 else (
        parts[0][3], "application/json")
    url = urllib.parse.urlsplit(server or os.environ.get("RASTERCLIP_SERVER") or DEFAULT_SERVER)
    if url.scheme not in ("http", "https"):
        raise ValueError("server must be an http(s) URL, got %r" % (server,))
    for attempt in range(RETRIES + 1):
        conn_type = http.client.HTTPSConnection if url.scheme == "https" else (
            http.client.HTTPConnection)
        conn = conn_type(url.hostname, url.port, timeout=timeout)
        try:
            try:
                conn.request("POST", (url.path.rstrip("/") or "") + "/v1/render", body=body,
                             headers={"Content-Type": content_type})
                resp = conn.getresponse()
            except OSError as e:
                raise RenderError(0, "network", str(e)) from e
            if resp.status in (429, 503) and attempt < RETRIES:
                resp.read()
                time.sleep(_retry_after(resp))
                continue
            if resp.status != 200:
                raise _error(resp)
            return _copy(resp, fileobj)
        finally:
            conn.close()
    raise AssertionError("unreachable")


def _payload(value, dims=None):
    """(filename, content type, bytes) of a raster given as an array, path or bytes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        is_npy = data[:6] == b"\x93NUMPY"
        return ("raster.npy" if is_npy else "raster", _type_of(is_npy), data)
    if isinstance(value, (str, os.PathLike)):
        with open(value, "rb") as f:
            data = f.read()
        return (os.path.basename(os.fspath(value)), _type_of(data[:6] == b"\x93NUMPY"), data)
    if hasattr(value, "__array__") or type(value).__module__.startswith("numpy"):
        import numpy as np  # only when an array is given
        buf = io.BytesIO()
        np.save(buf, _plain_array(np, value, dims), allow_pickle=False)
        return ("raster.npy", "application/x-npy", buf.getvalue())
    if dims is not None:
        raise ValueError("dims= names the axes of a NumPy array")
    raise TypeError("raster must be a NumPy array, a path or bytes, not %s" % type(value).__name__)


_FRAME_AXES = ("time", "band", "t")
_Y_AXES = ("y", "lat", "latitude", "row", "rows")
_X_AXES = ("x", "lon", "longitude", "col", "cols", "column", "columns")
_EXACT = 2 ** 53  # float64 holds every integer up to this exactly


def _plain_array(np, value, dims):
    """The array as the daemon reads a .npy: (y, x) or (frames, y, x), a dtype it
    takes, no data as NaN."""
    mask = np.ma.getmaskarray(value) if np.ma.isMaskedArray(value) else None
    a = np.ma.getdata(value) if mask is not None else np.asarray(value)
    if a.ndim not in (2, 3):
        raise ValueError("a raster array has 2 dimensions (y, x) or 3 (time, y, x), not %d"
                         % a.ndim)
    if dims is not None:
        a, mask = _ordered(np, a, mask, dims)
    elif a.ndim == 3 and a.shape[2] <= 4 < a.shape[0]:
        raise ValueError(
            "a %s array reads as (y, x, band) as well as (time, y, x): name its axes, e.g. "
            "dims=(\"y\", \"x\", \"band\") or dims=(\"time\", \"y\", \"x\")"
            % (a.shape,))
    kind = a.dtype.kind
    if kind in "cOSUVMm":
        raise TypeError("a raster array must hold real numbers, not %s" % a.dtype)
    if kind == "b":
        a = a.astype(np.uint8)
    elif a.dtype == np.float16:
        a = a.astype(np.float32)
    elif kind in "iu" and a.dtype.itemsize == 8:
        if a.size and (int(a.max()) > _EXACT or int(a.min()) < -_EXACT):
            raise ValueError("%s values beyond +-2**53 cannot be sent exactly (as float64)"
                             % a.dtype)
        a = a.astype(np.float64)
    if mask is not None and mask.any():
        if a.dtype.kind != "f":
            a = a.astype(np.float64 if a.dtype.itemsize >= 4 else np.float32)
        a = np.where(mask, np.nan, a)
    return np.ascontiguousarray(a)


def _ordered(np, a, mask, dims):
    """`a` transposed from the axes `dims` names to (frames, y, x) or (y, x)."""
    names = tuple(str(d).lower() for d in dims)
    if len(names) != a.ndim:
        raise ValueError("dims names %d axes for a %d-dimensional array" % (len(names), a.ndim))

    def find(group):
        hits = [i for i, n in enumerate(names) if n in group]
        if len(hits) != 1:
            raise ValueError("dims=%r must name one axis of %s" % (tuple(dims), "/".join(group)))
        return hits[0]

    order = [find(_Y_AXES), find(_X_AXES)]
    if a.ndim == 3:
        order.insert(0, find(_FRAME_AXES))
    a = np.transpose(a, order)
    return a, (np.transpose(mask, order) if mask is not None else None)


def _is_xarray(value):
    return type(value).__module__.split(".")[0] == "xarray"


def _netcdf(value, var):
    """(CF NetCDF bytes, the variable's name) of a DataArray or a Dataset's `var`."""
    import tempfile
    if hasattr(value, "data_vars"):  # a Dataset
        if var is None:
            names = list(value.data_vars)
            if len(names) != 1:
                raise ValueError("the Dataset holds %s: name one with var=" % names)
            var = names[0]
        if var not in value.data_vars:
            raise ValueError("the Dataset has no variable %r" % (var,))
        name = var
        dataset = value[[var]]
    else:
        if var is not None:
            raise ValueError("var= names a variable of a Dataset, not of a DataArray")
        name = str(value.name) if value.name is not None else "values"
        dataset = value.to_dataset(name=name)
    with tempfile.NamedTemporaryFile(suffix=".nc") as f:
        dataset.to_netcdf(f.name)
        f.seek(0)
        return f.read(), name


def _type_of(is_npy):
    return "application/x-npy" if is_npy else "application/octet-stream"


def _multipart(parts):
    boundary = "rasterclip-" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, filename, ctype, data in parts:
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                   "Content-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(("--%s--\r\n" % boundary).encode())
    return out.getvalue(), "multipart/form-data; boundary=" + boundary


def _retry_after(resp):
    try:
        return min(max(float(resp.getheader("Retry-After", "1")), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


def _error(resp):
    data = resp.read()
    try:
        err = json.loads(data)["error"]
        return RenderError(resp.status, err.get("code", "error"), err.get("message", ""),
                           err.get("field"))
    except (ValueError, KeyError, TypeError):
        return RenderError(resp.status, "http_%d" % resp.status,
                           data[:200].decode("utf-8", "replace"))


def _copy(resp, fileobj):
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
                          "while rendering" % (written + len(e.partial))) from e
    return written
