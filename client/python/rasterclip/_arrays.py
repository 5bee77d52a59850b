"""What the daemon reads from Python objects: NumPy arrays as .npy (axes put in
order, dtypes it takes, masks as NaN) and xarray objects as CF NetCDF."""

_FRAME_AXES = ("time", "band", "t")
_Y_AXES = ("y", "lat", "latitude", "row", "rows")
_X_AXES = ("x", "lon", "longitude", "col", "cols", "column", "columns")
_EXACT = 2 ** 53  # float64 holds every integer up to this exactly


def plain_array(np, value, dims):
    """The array as the daemon reads a .npy: (y, x) or (frames, y, x), a dtype it
    takes, no data as NaN."""
    mask = np.ma.getmaskarray(value) if np.ma.isMaskedArray(value) else None
    a = np.ma.getdata(value) if mask is not None else np.asarray(value)
    if a.ndim not in (2, 3):
        raise ValueError("a raster array has 2 dimensions (y, x) or 3 (time, y, x), not %d"
                         % a.ndim)
    if dims is not None:
        a, mask = ordered(np, a, mask, dims)
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


def ordered(np, a, mask, dims):
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


def is_xarray(value):
    return type(value).__module__.split(".")[0] == "xarray"


def netcdf(value, var):
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
