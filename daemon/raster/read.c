#include "raster/read.h"

#include <cpl_error.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "base/log.h"

/* rio-tiler's resampling names, as GDAL's RasterIO takes them. */
static GDALRIOResampleAlg resample_alg(const char *name)
{
    static const struct {
        const char *name;
        GDALRIOResampleAlg alg;
    } table[] = {
        {"bilinear", GRIORA_Bilinear},
        {"cubic", GRIORA_Cubic},
        {"cubic_spline", GRIORA_CubicSpline},
        {"lanczos", GRIORA_Lanczos},
        {"average", GRIORA_Average},
        {"mode", GRIORA_Mode},
        {"gauss", GRIORA_Gauss},
        {"rms", GRIORA_RMS},
    };
    for (size_t i = 0; name && i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i].name, name) == 0) {
            return table[i].alg;
        }
    }
    return GRIORA_NearestNeighbour;
}

/* The coarsest overview that still has at least the pixels asked for: a
 * cloud-optimised file then sends only that level's tiles. */
static GDALRasterBandH source_band(GDALRasterBandH band, unsigned w, unsigned h)
{
    GDALRasterBandH source = band;
    for (int i = 0; i < GDALGetOverviewCount(band); i++) {
        GDALRasterBandH ov = GDALGetOverview(band, i);
        if (ov && (unsigned)GDALGetRasterBandXSize(ov) >= w &&
            (unsigned)GDALGetRasterBandYSize(ov) >= h &&
            GDALGetRasterBandXSize(ov) < GDALGetRasterBandXSize(source)) {
            source = ov;
        }
    }
    return source;
}

double rc_raster_read_cost(GDALRasterBandH band, unsigned w, unsigned h)
{
    GDALRasterBandH source = source_band(band, w, h);
    return (double)GDALGetRasterBandXSize(source) * (double)GDALGetRasterBandYSize(source);
}

enum rc_err rc_raster_read_band(GDALRasterBandH band, const double *nodata_override,
                                const struct rc_read_mask *mask, const char *resampling,
                                const struct rc_config *cfg, float *dst, unsigned w, unsigned h,
                                const char *field, struct rc_error *err)
{
    int has_file_nodata = 0;
    double nodata = GDALGetRasterNoDataValue(band, &has_file_nodata);
    bool has_nodata = has_file_nodata != 0;
    if (nodata_override) {
        has_nodata = true;
        nodata = *nodata_override;
    }
    int has_scale = 0, has_offset = 0;
    double scale = GDALGetRasterScale(band, &has_scale);
    double offset = GDALGetRasterOffset(band, &has_offset);
    if (mask && mask->has_scale && !has_scale && !has_offset) {
        scale = mask->scale;
        offset = mask->offset;
        has_scale = has_offset = 1;
    }
    if (mask && mask->has_fill && !has_nodata && !nodata_override) {
        nodata = mask->fill;
        has_nodata = true;
    }
    GDALRasterBandH source = source_band(band, w, h);
    /* GDAL decodes whole blocks. A file that declares blocks larger than its block
     * cache (one strip for the whole image, a giant tile) makes every read hold,
     * and decode again, far more than the output needs. */
    int block_w = 0, block_h = 0;
    GDALGetBlockSize(source, &block_w, &block_h);
    double block_bytes = (double)block_w * (double)block_h *
                         (double)GDALGetDataTypeSizeBytes(GDALGetRasterDataType(source));
    if (block_bytes > (double)cfg->gdal_cache_mb * 1048576.0) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "the file is stored in blocks of %dx%d pixels (%.0f MiB each), more "
                            "than GDAL's block cache holds (gdal_cache_mb %ld): retile it",
                            block_w, block_h, block_bytes / 1048576.0, cfg->gdal_cache_mb);
    }
    CPLErrorReset();
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    extra.eResampleAlg = resample_alg(resampling);
    CPLErr e = GDALRasterIOEx(source, GF_Read, 0, 0, GDALGetRasterBandXSize(source),
                              GDALGetRasterBandYSize(source), dst, (int)w, (int)h, GDT_Float32, 0,
                              0, &extra);
    if (e != CE_None) {
        rc_log(RC_LOG_WARN, "msg=\"raster read failed\" detail=\"%.300s\"", CPLGetLastErrorMsg());
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "the raster's pixels could not be read (damaged file?)");
    }
    float nodata_f = (float)nodata;
    bool nodata_nan = isnan(nodata);
    bool apply = (has_scale && scale != 1.0) || (has_offset && offset != 0.0);
    size_t count = (size_t)w * h;
    bool masked =
        mask && (mask->has_missing || isfinite(mask->valid[0]) || isfinite(mask->valid[1]));
    for (size_t i = 0; i < count; i++) {
        float v = dst[i];
        if (masked && ((mask->has_missing && v == (float)mask->missing) || v < mask->valid[0] ||
                       v > mask->valid[1])) {
            dst[i] = NAN;
        } else if (has_nodata && (nodata_nan ? isnan(v) : v == nodata_f)) {
            dst[i] = NAN;
        } else if (apply) {
            dst[i] = (float)(v * scale + offset);
        }
    }
    return RC_OK;
}
