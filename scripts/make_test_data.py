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
    for name, body in files.items():
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(body)
        os.replace(tmp, os.path.join(out, name))


if __name__ == "__main__":
    main()
