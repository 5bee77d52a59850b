#!/usr/bin/python3
"""Writes the damaged rasters the tests need into OUTDIR (the build tree), so no
test depends on files outside the repository:

    broken_truncated.tif    a tiled, compressed GeoTIFF cut at 60 %: it opens, its
                            pixels cannot all be read
    broken_empty.tif        zero bytes
    broken_header_only.tif  a TIFF header and nothing after it
    huge_sparse.tif         100000 x 100000, no overviews, every tile absent (a few
                            hundred KB): costly to read decimated, cheap to send
    giant_tiles.tif         10000 x 10000 float32 in tiles of 8192 x 8192 (absent,
                            so the file is tiny): every read would decode 256 MiB blocks
    many_bands_sparse.tif   1024 bands of 32000 x 32000, every tile absent (~300 KB):
                            each band's decimated read takes a reader tens of ms
    sst_monthly.nc          a CF NetCDF datacube: "sst", 24 monthly steps (2001-01 ..
                            2002-12) x 90 ascending latitudes x 180 longitudes, int16
                            with scale_factor, add_offset and _FillValue (a block of
                            land), units degC; and "temp", the same steps x 3 depths (0, 10,
                            50 m) x the same grid

    /usr/bin/python3 scripts/make_test_data.py OUTDIR
"""
import os
import sys

import numpy as np
from osgeo import gdal


def sparse(path, size, data_type, tile, bands=1):
    """A size x size GeoTIFF whose tiles are all absent: a few hundred bytes a band."""
    if os.path.exists(path):
        return
    ds = gdal.GetDriverByName("GTiff").Create(
        path + ".tmp.tif", size, size, bands, data_type,
        options=["TILED=YES", "BLOCKXSIZE=%d" % tile, "BLOCKYSIZE=%d" % tile, "SPARSE_OK=TRUE",
                 "COMPRESS=DEFLATE"] + (["BIGTIFF=YES", "INTERLEAVE=BAND"] if bands > 1 else []))
    ds.SetGeoTransform([0, 1, 0, 0, 0, -1])
    ds = None
    os.replace(path + ".tmp.tif", path)


def sst_cube(path):
    """The CF datacube described above, written through netCDF4 (not GDAL)."""
    if os.path.exists(path):
        return
    import datetime
    import netCDF4
    nc = netCDF4.Dataset(path + ".tmp", "w", format="NETCDF4")
    nc.createDimension("time", 24)
    nc.createDimension("depth", 3)
    nc.createDimension("lat", 90)
    nc.createDimension("lon", 180)
    time = nc.createVariable("time", "f8", ("time",))
    time.units = "days since 2001-01-01 00:00:00"
    time.calendar = "standard"
    time.standard_name = "time"
    start = datetime.date(2001, 1, 1)
    time[:] = [(datetime.date(2001 + m // 12, m % 12 + 1, 15) - start).days for m in range(24)]
    depth = nc.createVariable("depth", "f4", ("depth",))
    depth.units = "m"
    depth.positive = "down"
    depth[:] = [0, 10, 50]
    lat = nc.createVariable("lat", "f4", ("lat",))
    lat.units = "degrees_north"
    lat.standard_name = "latitude"
    lat[:] = np.arange(90) * 2.0 - 89
    lon = nc.createVariable("lon", "f4", ("lon",))
    lon.units = "degrees_east"
    lon.standard_name = "longitude"
    lon[:] = np.arange(180) * 2.0 - 179
    y, x = np.mgrid[0:90, 0:180]
    sst = nc.createVariable("sst", "i2", ("time", "lat", "lon"), fill_value=-32768, zlib=True)
    sst.set_auto_maskandscale(False)
    sst.scale_factor = 0.01
    sst.add_offset = 15.0
    sst.units = "degC"
    sst.long_name = "sea surface temperature"
    cells = np.stack([np.cos(np.radians(y * 2.0 - 89)) * 1500 + np.sin(x / 15.0 + m) * 300
                      + m * 20 for m in range(24)]).astype(np.int16)
    cells[:, 60:75, 20:50] = -32768  # land in the north-west
    sst[:] = cells
    temp = nc.createVariable("temp", "i2", ("time", "depth", "lat", "lon"), fill_value=-32768,
                             zlib=True)
    temp.set_auto_maskandscale(False)
    temp.scale_factor = 0.01
    temp.units = "degC"
    land = cells == -32768
    temp[:] = np.stack([np.stack([np.where(land[m], cells[m], cells[m] - d * 30)
                                  for d in range(3)]) for m in range(24)]).astype(np.int16)
    nc.close()
    os.replace(path + ".tmp", path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    gdal.UseExceptions()
    values = (np.arange(256 * 256).reshape(256, 256) % 977).astype(np.float32)
    mem = gdal.GetDriverByName("MEM").Create("", 256, 256, 1, gdal.GDT_Float32)
    mem.GetRasterBand(1).WriteArray(values)
    full = "/vsimem/full.tif"
    gdal.GetDriverByName("GTiff").CreateCopy(
        full, mem, options=["TILED=YES", "COMPRESS=DEFLATE", "BLOCKXSIZE=64", "BLOCKYSIZE=64"])
    f = gdal.VSIFOpenL(full, "rb")
    gdal.VSIFSeekL(f, 0, 2)
    size = gdal.VSIFTellL(f)
    gdal.VSIFSeekL(f, 0, 0)
    data = gdal.VSIFReadL(1, size, f)
    gdal.VSIFCloseL(f)
    gdal.Unlink(full)
    files = {"broken_truncated.tif": data[: len(data) * 6 // 10],
             "broken_empty.tif": b"",
             "broken_header_only.tif": data[:8]}
    sparse(os.path.join(out, "huge_sparse.tif"), 100000, gdal.GDT_Byte, 512)
    sparse(os.path.join(out, "giant_tiles.tif"), 10000, gdal.GDT_Float32, 8192)
    sparse(os.path.join(out, "many_bands_sparse.tif"), 32000, gdal.GDT_Byte, 8192, bands=1024)
    sst_cube(os.path.join(out, "sst_monthly.nc"))
    for name, body in files.items():
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(body)
        os.replace(tmp, os.path.join(out, name))


if __name__ == "__main__":
    main()
