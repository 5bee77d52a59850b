#include "raster/place.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal_utils.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"

/* `text` ("EPSG:<code>" or WKT, as the job checked) as a spatial reference with
 * x east (longitude first); NULL when it names no CRS PROJ knows. */
static OGRSpatialReferenceH crs_of(const char *text)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    if (!srs) {
        return NULL;
    }
    OGRErr e;
    if (strncasecmp(text, "EPSG:", 5) == 0) {
        e = OSRImportFromEPSG(srs, (int)strtol(text + 5, NULL, 10));
    } else {
        char *wkt = (char *)text; /* OSRImportFromWkt advances a copy of the pointer */
        e = OSRImportFromWkt(srs, &wkt);
    }
    if (e != OGRERR_NONE) {
        OSRDestroySpatialReference(srs);
        return NULL;
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    return srs;
}

/* `b` (west, south, east, north in `from`) as the box that holds it in `to`. */
static bool transform_bounds(OGRSpatialReferenceH from, OGRSpatialReferenceH to, const double b[4],
                             double out[4])
{
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(from, to);
    if (!ct) {
        return false;
    }
    int ok = OCTTransformBounds(ct, b[0], b[1], b[2], b[3], &out[0], &out[1], &out[2], &out[3], 21);
    OCTDestroyCoordinateTransformation(ct);
    return ok && isfinite(out[0]) && isfinite(out[1]) && isfinite(out[2]) && isfinite(out[3]);
}

/* The raster's own bounds, in its CRS. */
static void source_bounds(GDALDatasetH ds, const double gt[6], double out[4])
{
    double w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    double xs[2] = {gt[0], gt[0] + w * gt[1]}, ys[2] = {gt[3], gt[3] + h * gt[5]};
    out[0] = fmin(xs[0], xs[1]);
    out[2] = fmax(xs[0], xs[1]);
    out[1] = fmin(ys[0], ys[1]);
    out[3] = fmax(ys[0], ys[1]);
}

/* The CRSs and, with a box, the box in the output's CRS (`te`) and the share of
 * the source under it. */
struct frame {
    OGRSpatialReferenceH source, target, box;
    double te[4];
    double share;
};

static enum rc_err frame_of(GDALDatasetH ds, const struct rc_place *p, struct frame *f,
                            struct rc_error *err)
{
    double gt[6];
    const char *field = p->crs[0] ? "output.crs" : "output.bbox";
    OGRSpatialReferenceH own = GDALGetSpatialRef(ds);
    if (!own || GDALGetGeoTransform(ds, gt) != CE_None) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "the raster has no coordinate reference system to warp from");
    }
    f->source = OSRClone(own);
    OSRSetAxisMappingStrategy(f->source, OAMS_TRADITIONAL_GIS_ORDER);
    f->target = p->crs[0] ? crs_of(p->crs) : OSRClone(f->source);
    if (!f->target) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "output.crs", "names no known CRS");
    }
    OSRSetAxisMappingStrategy(f->target, OAMS_TRADITIONAL_GIS_ORDER);
    f->share = 1.0;
    if (!p->has_bbox) {
        return RC_OK;
    }
    f->box = crs_of(p->bbox_crs);
    if (!f->box) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "output.bbox_crs", "names no known CRS");
    }
    double own_bounds[4], in_source[4], source_in_target[4];
    source_bounds(ds, gt, own_bounds);
    if (!transform_bounds(f->box, f->target, p->bbox, f->te) ||
        !transform_bounds(f->box, f->source, p->bbox, in_source) ||
        !transform_bounds(f->source, f->target, own_bounds, source_in_target)) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "output.bbox",
                            "cannot be carried into the raster's or the output's CRS");
    }
    double w = fmin(in_source[2], own_bounds[2]) - fmax(in_source[0], own_bounds[0]);
    double h = fmin(in_source[3], own_bounds[3]) - fmax(in_source[1], own_bounds[1]);
    bool meets = f->te[0] < source_in_target[2] && source_in_target[0] < f->te[2] &&
                 f->te[1] < source_in_target[3] && source_in_target[1] < f->te[3];
    if (!meets || w <= 0 || h <= 0) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "output.bbox",
                            "lies outside the raster, whose bounds in its own CRS are "
                            "[%.10g, %.10g, %.10g, %.10g]",
                            own_bounds[0], own_bounds[1], own_bounds[2], own_bounds[3]);
    }
    f->share = w * h / ((own_bounds[2] - own_bounds[0]) * (own_bounds[3] - own_bounds[1]));
    return RC_OK;
}

static void frame_free(struct frame *f)
{
    OSRDestroySpatialReference(f->source);
    OSRDestroySpatialReference(f->target);
    OSRDestroySpatialReference(f->box);
}

enum rc_err rc_place_open(GDALDatasetH ds, const struct rc_place_warp *w, GDALDatasetH *out,
                          double *source_pixels, struct rc_error *err)
{
    *out = NULL;
    struct frame f = {0};
    char *target_wkt = NULL;
    enum rc_err rc = frame_of(ds, w->place, &f, err);
    if (rc == RC_OK && OSRExportToWkt(f.target, &target_wkt) != OGRERR_NONE) {
        rc = rc_error_set(err, RC_ERR_INTERNAL, "output.crs", "cannot write the CRS");
    }
    if (rc != RC_OK) {
        frame_free(&f);
        CPLFree(target_wkt);
        return rc;
    }
    /* Float32, so that NaN marks what the source does not cover. */
    char te[4][32], ts[2][16], nodata[32];
    const char *argv[24] = {"-of",        "VRT",     "-ot", "Float32",
                            "-dstnodata", "nan",     "-r",  w->resampling ? w->resampling : "near",
                            "-t_srs",     target_wkt};
    int n = 10;
    if (w->place->has_bbox) {
        argv[n++] = "-te";
        for (int i = 0; i < 4; i++) {
            snprintf(te[i], sizeof(te[i]), "%.17g", f.te[i]);
            argv[n++] = te[i];
        }
    }
    if (w->width && w->height) {
        snprintf(ts[0], sizeof(ts[0]), "%u", w->width);
        snprintf(ts[1], sizeof(ts[1]), "%u", w->height);
        argv[n++] = "-ts";
        argv[n++] = ts[0];
        argv[n++] = ts[1];
    }
    if (w->nodata) {
        snprintf(nodata, sizeof(nodata), "%.17g", *w->nodata);
        argv[n++] = "-srcnodata";
        argv[n++] = nodata;
    }
    argv[n] = NULL;
    GDALWarpAppOptions *opts = GDALWarpAppOptionsNew((char **)argv, NULL);
    if (opts) {
        int usage_error = 0;
        CPLErrorReset();
        *out = GDALWarp("", NULL, 1, &ds, opts, &usage_error);
        GDALWarpAppOptionsFree(opts);
    }
    CPLFree(target_wkt);
    frame_free(&f);
    if (!*out) {
        rc_log(RC_LOG_INFO, "msg=\"warp failed\" detail=\"%.300s\"", CPLGetLastErrorMsg());
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, w->place->crs[0] ? "output.crs" : "output.bbox",
                            "the raster cannot be warped there");
    }
    *source_pixels = f.share * (double)GDALGetRasterXSize(ds) * (double)GDALGetRasterYSize(ds);
    return RC_OK;
}
