#include "raster/orient.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal_utils.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "raster/raster.h"

enum rc_err rc_orient_unrotate(GDALDatasetH ds, const char *resampling, const char *field,
                               GDALDatasetH *out, struct rc_error *err)
{
    *out = NULL;
    double gt[6];
    if (GDALGetGeoTransform(ds, gt) != CE_None || (gt[2] == 0 && gt[4] == 0)) {
        return RC_OK;
    }
    /* Float32 so that NaN can mark the corners the rotated source does not cover;
     * the source's nodata, scale and offset travel with the bands. */
    char *argv[] = {"-of",        "VRT", "-ot", "Float32",
                    "-dstnodata", "nan", "-r",  (char *)(resampling ? resampling : "near"),
                    NULL};
    GDALWarpAppOptions *opts = GDALWarpAppOptionsNew(argv, NULL);
    if (!opts) {
        return rc_error_set(err, RC_ERR_INTERNAL, field, "cannot set up the warp");
    }
    int usage_error = 0;
    CPLErrorReset();
    *out = GDALWarp("", NULL, 1, &ds, opts, &usage_error);
    GDALWarpAppOptionsFree(opts);
    if (!*out) {
        rc_log(RC_LOG_INFO, "msg=\"unrotate failed\" detail=\"%.300s\"", CPLGetLastErrorMsg());
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "the raster's geotransform rotates or shears its grid, and it "
                            "cannot be warped north up");
    }
    return RC_OK;
}

struct rc_orient_flip rc_orient_flips(const double gt[6])
{
    return (struct rc_orient_flip){.columns = gt[1]<0, .rows = gt[5]> 0};
}

void rc_orient_apply(float *plane, unsigned w, unsigned h, struct rc_orient_flip flip)
{
    if (flip.rows) {
        for (unsigned y = 0; y < h / 2; y++) {
            float *a = plane + (size_t)y * w, *b = plane + (size_t)(h - 1 - y) * w;
            for (unsigned x = 0; x < w; x++) {
                float t = a[x];
                a[x] = b[x];
                b[x] = t;
            }
        }
    }
    if (flip.columns) {
        for (unsigned y = 0; y < h; y++) {
            float *row = plane + (size_t)y * w;
            for (unsigned x = 0; x < w / 2; x++) {
                float t = row[x];
                row[x] = row[w - 1 - x];
                row[w - 1 - x] = t;
            }
        }
    }
}

void rc_orient_geotransform(double gt[6], unsigned w, unsigned h, struct rc_orient_flip flip)
{
    if (flip.columns) {
        gt[0] += gt[1] * w;
        gt[1] = -gt[1];
    }
    if (flip.rows) {
        gt[3] += gt[5] * h;
        gt[5] = -gt[5];
    }
}

/* The stored grid's bounds in EPSG:4326, longitude first, into r->lonlat. */
static void lonlat_bounds(OGRSpatialReferenceH srs, struct rc_raster *r)
{
    double e[4];
    rc_raster_extent(r, e);
    OGRSpatialReferenceH own = OSRClone(srs), wgs84 = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    if (own && wgs84 && OSRImportFromEPSG(wgs84, 4326) == OGRERR_NONE) {
        OSRSetAxisMappingStrategy(own, OAMS_TRADITIONAL_GIS_ORDER);
        OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
        ct = OCTNewCoordinateTransformation(own, wgs84);
    }
    double *b = r->lonlat;
    r->has_lonlat =
        ct && OCTTransformBounds(ct, e[0], e[1], e[2], e[3], &b[0], &b[1], &b[2], &b[3], 21);
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(own);
    OSRDestroySpatialReference(wgs84);
}

void rc_orient_crs(GDALDatasetH ds, struct rc_raster *r)
{
    r->crs = RC_CRS_UNKNOWN;
    r->crs_unit_m = 1.0;
    r->crs_unit[0] = '\0';
    r->has_lonlat = false;
    r->crs_wkt[0] = '\0';
    OGRSpatialReferenceH srs = GDALGetSpatialRef(ds);
    if (!srs) {
        return;
    }
    lonlat_bounds(srs, r);
    char *wkt = NULL;
    if (OSRExportToWkt(srs, &wkt) == OGRERR_NONE && wkt && strlen(wkt) < sizeof(r->crs_wkt)) {
        memcpy(r->crs_wkt, wkt, strlen(wkt) + 1);
    }
    CPLFree(wkt);
    if (OSRIsGeographic(srs)) {
        r->crs = RC_CRS_GEOGRAPHIC;
        snprintf(r->crs_unit, sizeof(r->crs_unit), "deg");
        return;
    }
    if (!OSRIsProjected(srs)) {
        return;
    }
    char *name = NULL;
    double m = OSRGetLinearUnits(srs, &name);
    if (!isfinite(m) || m <= 0) {
        return;
    }
    r->crs = RC_CRS_PROJECTED;
    r->crs_unit_m = m;
    /* The symbols people write; any other unit by its own name. */
    static const struct {
        double metres;
        const char *symbol;
    } known[] = {{1.0, "m"}, {1000.0, "km"}, {0.3048, "ft"}, {1200.0 / 3937.0, "US ft"}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (fabs(m - known[i].metres) < 1e-9 * known[i].metres) {
            snprintf(r->crs_unit, sizeof(r->crs_unit), "%s", known[i].symbol);
            return;
        }
    }
    snprintf(r->crs_unit, sizeof(r->crs_unit), "%s", name ? name : "");
}
