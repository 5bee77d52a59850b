#include "raster/vectors.h"

#include <cpl_conv.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raster/raster.h"

/* Vector formats a layer may be read with; nothing else is tried on its bytes. */
static const char *const vector_drivers[] = {"GeoJSON",    "GeoJSONSeq", "GPKG", "ESRI Shapefile",
                                             "FlatGeobuf", "TopoJSON",   NULL};

/* Points kept along a graticule line or a segment of a densified line, across the view. */
enum { DENSIFY_STEPS = 512 };

struct payload_head {
    uint32_t part_count, point_count, label_count, unused;
};

/* A graticule has at most this many lines, each with one label. */
#define MAX_LABELS 1024u

/* What a read collects: parts and their points in the grid's cells. */
struct collect {
    struct rc_vector_part *parts;
    size_t part_count, part_cap;
    float (*xy)[2];
    size_t point_count, point_cap;
    struct rc_vector_label labels[MAX_LABELS];
    size_t label_count;
    double inverse[6]; /* georeferenced to source pixels */
    double sx, sy;     /* source pixels to stored cells */
    bool over;         /* RC_VECTORS_MAX_POINTS reached */
    bool nomem;
};

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) {
        return true;
    }
    size_t cap2 = *cap ? *cap * 2 : 256;
    while (cap2 < need) {
        cap2 *= 2;
    }
    void *q = realloc(*p, cap2 * size);
    if (!q) {
        return false;
    }
    *p = q;
    *cap = cap2;
    return true;
}

/* One line string or ring, its points carried into the grid's cells. */
static void add_line(struct collect *c, OGRGeometryH line, enum rc_vector_kind kind)
{
    int n = OGR_G_GetPointCount(line);
    if (n < 2 || c->over || c->nomem) {
        return;
    }
    if (c->point_count + (size_t)n > RC_VECTORS_MAX_POINTS) {
        c->over = true;
        return;
    }
    if (!grow((void **)&c->xy, &c->point_cap, c->point_count + (size_t)n, sizeof(*c->xy)) ||
        !grow((void **)&c->parts, &c->part_cap, c->part_count + 1, sizeof(*c->parts))) {
        c->nomem = true;
        return;
    }
    const double *g = c->inverse;
    size_t kept = 0;
    for (int i = 0; i < n; i++) {
        double x = OGR_G_GetX(line, i), y = OGR_G_GetY(line, i);
        double col = (g[0] + g[1] * x + g[2] * y) * c->sx;
        double row = (g[3] + g[4] * x + g[5] * y) * c->sy;
        if (!isfinite(col) || !isfinite(row)) {
            continue;
        }
        /* Far outside the grid a point only sets a direction: keep it in float's range. */
        c->xy[c->point_count + kept][0] = (float)fmax(-1e6, fmin(1e6, col));
        c->xy[c->point_count + kept][1] = (float)fmax(-1e6, fmin(1e6, row));
        kept++;
    }
    if (kept < 2) {
        return;
    }
    c->parts[c->part_count++] = (struct rc_vector_part){
        .first = (uint32_t)c->point_count, .count = (uint32_t)kept, .kind = kind};
    c->point_count += kept;
}

/* A geometry's lines and rings, whatever it nests them in. */
static void walk(struct collect *c, OGRGeometryH g)
{
    if (!g || c->over || c->nomem) {
        return;
    }
    if (OGR_G_HasCurveGeometry(g, TRUE)) {
        OGRGeometryH linear = OGR_G_GetLinearGeometry(g, 0, NULL);
        if (linear && !OGR_G_HasCurveGeometry(linear, TRUE)) {
            walk(c, linear);
        }
        OGR_G_DestroyGeometry(linear);
        return;
    }
    switch (wkbFlatten(OGR_G_GetGeometryType(g))) {
    case wkbLineString:
    case wkbLinearRing:
        add_line(c, g, RC_VECTOR_LINE);
        break;
    case wkbPolygon:
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++) {
            add_line(c, OGR_G_GetGeometryRef(g, i), RC_VECTOR_RING);
        }
        break;
    case wkbMultiLineString:
    case wkbMultiPolygon:
    case wkbGeometryCollection:
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++) {
            walk(c, OGR_G_GetGeometryRef(g, i));
        }
        break;
    default:
        break; /* points have no line to draw */
    }
}

/* A spatial reference from WKT (never a name GDAL would open as a file), or
 * EPSG:4326 for NULL; x east. */
static OGRSpatialReferenceH srs_from(const char *wkt)
{
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    char *text = (char *)wkt; /* OSRImportFromWkt advances a copy of the pointer */
    if (s && (wkt ? OSRImportFromWkt(s, &text) : OSRImportFromEPSG(s, 4326)) != OGRERR_NONE) {
        OSRDestroySpatialReference(s);
        return NULL;
    }
    if (s) {
        OSRSetAxisMappingStrategy(s, OAMS_TRADITIONAL_GIS_ORDER);
    }
    return s;
}

/* How one layer's coordinates reach the grid: a transformation, and the view
 * (the grid's bounds with a margin) in the layer's coordinates when they carry
 * there as an ordinary box. */
struct route {
    OGRCoordinateTransformationH to_grid;
    bool has_view;
    double view[4];
    OGRGeometryH view_box;
    bool same; /* the layer is in the grid's CRS: straight lines stay straight */
};

static bool route_open(struct route *r, OGRSpatialReferenceH from, OGRSpatialReferenceH grid_srs,
                       const double extent[4])
{
    memset(r, 0, sizeof(*r));
    OGRSpatialReferenceH own = OSRClone(from);
    if (!own) {
        return false;
    }
    OSRSetAxisMappingStrategy(own, OAMS_TRADITIONAL_GIS_ORDER);
    r->to_grid = OCTNewCoordinateTransformation(own, grid_srs);
    r->same = OSRIsSame(own, grid_srs) != 0;
    OGRCoordinateTransformationH back = OCTNewCoordinateTransformation(grid_srs, own);
    OSRDestroySpatialReference(own);
    double dx = (extent[2] - extent[0]) * 0.05, dy = (extent[3] - extent[1]) * 0.05;
    double *v = r->view;
    r->has_view = back &&
                  OCTTransformBounds(back, extent[0] - dx, extent[1] - dy, extent[2] + dx,
                                     extent[3] + dy, &v[0], &v[1], &v[2], &v[3], 21) &&
                  v[0] < v[2] && v[1] < v[3];
    OCTDestroyCoordinateTransformation(back);
    if (r->has_view) {
        OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
        OGR_G_AddPoint_2D(ring, v[0], v[1]);
        OGR_G_AddPoint_2D(ring, v[2], v[1]);
        OGR_G_AddPoint_2D(ring, v[2], v[3]);
        OGR_G_AddPoint_2D(ring, v[0], v[3]);
        OGR_G_AddPoint_2D(ring, v[0], v[1]);
        r->view_box = OGR_G_CreateGeometry(wkbPolygon);
        OGR_G_AddGeometryDirectly(r->view_box, ring);
    }
    return r->to_grid != NULL;
}

static void route_close(struct route *r)
{
    OCTDestroyCoordinateTransformation(r->to_grid);
    OGR_G_DestroyGeometry(r->view_box);
}

/* One geometry (the caller's, changed here): cut to the view, densified so that
 * it bends as the grid's projection bends it (in another CRS than the grid's),
 * carried into the grid's CRS. */
static void add_geometry(struct collect *c, const struct route *r, OGRGeometryH g)
{
    OGRGeometryH cut = NULL;
    if (r->view_box && OGR_G_Intersects(g, r->view_box)) {
        cut = OGR_G_Intersection(g, r->view_box); /* NULL without GEOS: drawn whole */
    } else if (r->view_box) {
        return;
    }
    OGRGeometryH use = cut ? cut : g;
    if (r->has_view && !r->same) {
        double span = fmax(r->view[2] - r->view[0], r->view[3] - r->view[1]);
        OGR_G_Segmentize(use, span / DENSIFY_STEPS);
    }
    if (OGR_G_Transform(use, r->to_grid) == OGRERR_NONE) {
        walk(c, use);
    }
    OGR_G_DestroyGeometry(cut);
}

static enum rc_err read_layers(struct collect *c, const char *path, OGRSpatialReferenceH grid_srs,
                               const double extent[4], const char *field, struct rc_error *err)
{
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                                 vector_drivers, NULL, NULL);
    if (!ds) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "not a vector dataset this daemon reads (GeoJSON, GeoPackage, "
                            "Shapefile, FlatGeobuf, TopoJSON)");
    }
    enum rc_err rc = RC_OK;
    int layers = GDALDatasetGetLayerCount(ds);
    for (int i = 0; i < layers && rc == RC_OK && !c->over && !c->nomem; i++) {
        OGRLayerH layer = GDALDatasetGetLayer(ds, i);
        OGRSpatialReferenceH srs = layer ? OGR_L_GetSpatialRef(layer) : NULL;
        if (!srs) {
            rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                              "layer %d has no coordinate reference system", i + 1);
            break;
        }
        struct route r;
        if (!route_open(&r, srs, grid_srs, extent)) {
            route_close(&r);
            rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                              "layer %d's CRS does not carry into the raster's", i + 1);
            break;
        }
        if (r.has_view) {
            OGR_L_SetSpatialFilterRect(layer, r.view[0], r.view[1], r.view[2], r.view[3]);
        }
        OGR_L_ResetReading(layer);
        OGRFeatureH f;
        while (!c->over && !c->nomem && (f = OGR_L_GetNextFeature(layer)) != NULL) {
            OGRGeometryH g = OGR_F_GetGeometryRef(f);
            if (g) {
                add_geometry(c, &r, g);
            }
            OGR_F_Destroy(f);
        }
        route_close(&r);
    }
    GDALClose(ds);
    return rc;
}

/* Where the part just added crosses the grid's south edge (a meridian) or its
 * west edge (a parallel), as its label's anchor. */
static void label_crossing(struct collect *c, size_t part, int axis, double value, double gw,
                           double gh)
{
    if (part >= c->part_count || c->label_count >= MAX_LABELS) {
        return;
    }
    const struct rc_vector_part *p = &c->parts[part];
    double edge = axis ? 0.0 : gh;
    for (uint32_t i = 0; i + 1 < p->count; i++) {
        const float *a = c->xy[p->first + i], *b = c->xy[p->first + i + 1];
        double da = a[axis ? 0 : 1] - edge, db = b[axis ? 0 : 1] - edge;
        if (da * db > 0 || da == db) {
            continue;
        }
        double t = da / (da - db);
        double along = a[axis ? 1 : 0] + t * (b[axis ? 1 : 0] - a[axis ? 1 : 0]);
        if (along < 0 || along > (axis ? gh : gw)) {
            continue;
        }
        struct rc_vector_label *l = &c->labels[c->label_count++];
        *l = (struct rc_vector_label){.axis = (uint32_t)axis, .value = value};
        l->at[0] = (float)(axis ? edge : along);
        l->at[1] = (float)(axis ? along : edge);
        return;
    }
}

/* Meridians and parallels `step` degrees apart over the grid's extent. */
static void graticule(struct collect *c, OGRSpatialReferenceH grid_srs, const double extent[4],
                      double step, double gw, double gh)
{
    OGRSpatialReferenceH wgs84 = srs_from(NULL);
    struct route r;
    if (!wgs84 || !route_open(&r, wgs84, grid_srs, extent) || !r.has_view) {
        if (wgs84) {
            route_close(&r);
        }
        OSRDestroySpatialReference(wgs84);
        return;
    }
    const double *v = r.view;
    double west = fmax(v[0], -180), east = fmin(v[2], 180);
    double south = fmax(v[1], -90), north = fmin(v[3], 90);
    for (int axis = 0; axis < 2 && !c->over; axis++) {
        double lo = axis ? south : west, hi = axis ? north : east;
        for (double t = ceil(lo / step) * step; t <= hi && !c->over; t += step) {
            OGRGeometryH line = OGR_G_CreateGeometry(wkbLineString);
            for (int k = 0; k <= DENSIFY_STEPS; k++) {
                double s = (axis ? west : south) +
                           ((axis ? east : north) - (axis ? west : south)) * k / DENSIFY_STEPS;
                OGR_G_AddPoint_2D(line, axis ? s : t, axis ? t : s);
            }
            size_t part = c->part_count;
            if (OGR_G_Transform(line, r.to_grid) == OGRERR_NONE) {
                walk(c, line);
            }
            label_crossing(c, part, axis, t, gw, gh);
            OGR_G_DestroyGeometry(line);
        }
    }
    route_close(&r);
    OSRDestroySpatialReference(wgs84);
}

enum rc_err rc_vectors_read(const char *path, const struct rc_vector_grid *grid, const char *field,
                            uint8_t **payload, size_t *len, struct rc_error *err)
{
    *payload = NULL;
    *len = 0;
    struct collect c = {.sx = (double)grid->width / grid->source_width,
                        .sy = (double)grid->height / grid->source_height};
    OGRSpatialReferenceH grid_srs = srs_from(grid->crs);
    if (!grid_srs || !GDALInvGeoTransform((double *)grid->geotransform, c.inverse)) {
        OSRDestroySpatialReference(grid_srs);
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "the raster's grid has no CRS vectors can be carried onto");
    }
    const double *g = grid->geotransform;
    double x1 = g[0] + grid->source_width * g[1], y1 = g[3] + grid->source_height * g[5];
    double extent[4] = {fmin(g[0], x1), fmin(g[3], y1), fmax(g[0], x1), fmax(g[3], y1)};
    enum rc_err rc = RC_OK;
    if (grid->graticule_step > 0) {
        graticule(&c, grid_srs, extent, grid->graticule_step, grid->width, grid->height);
    } else {
        rc = read_layers(&c, path, grid_srs, extent, field, err);
    }
    OSRDestroySpatialReference(grid_srs);
    if (rc == RC_OK && c.over) {
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                          "more than %u points lie in the view; simplify the layer or cut it "
                          "to the output's bbox",
                          RC_VECTORS_MAX_POINTS);
    }
    if (rc == RC_OK && c.nomem) {
        rc = rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    size_t parts = c.part_count * sizeof(*c.parts), labels = c.label_count * sizeof(*c.labels);
    size_t bytes = sizeof(struct payload_head) + parts + labels + c.point_count * sizeof(*c.xy);
    uint8_t *p = rc == RC_OK ? malloc(bytes) : NULL;
    if (rc == RC_OK && !p) {
        rc = rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    if (p) {
        struct payload_head head = {(uint32_t)c.part_count, (uint32_t)c.point_count,
                                    (uint32_t)c.label_count, 0};
        memcpy(p, &head, sizeof(head));
        memcpy(p + sizeof(head), c.parts, parts);
        memcpy(p + sizeof(head) + parts, c.labels, labels);
        memcpy(p + sizeof(head) + parts + labels, c.xy, c.point_count * sizeof(*c.xy));
        *payload = p;
        *len = bytes;
    }
    free(c.parts);
    free(c.xy);
    return rc;
}

/* A reader that parsed a hostile file is not trusted: every part, point and
 * label in range. */
static bool parsed_sane(const struct rc_vectors *v, const struct rc_vector_grid *grid)
{
    for (size_t i = 0; i < v->part_count; i++) {
        const struct rc_vector_part *p = &v->parts[i];
        if (p->count < 2 || p->first > v->point_count || p->count > v->point_count - p->first ||
            p->kind > RC_VECTOR_RING) {
            return false;
        }
    }
    for (size_t i = 0; i < v->point_count; i++) {
        if (!(fabsf(v->xy[i][0]) <= 1e6f) || !(fabsf(v->xy[i][1]) <= 1e6f)) {
            return false;
        }
    }
    for (size_t i = 0; i < v->label_count; i++) {
        const struct rc_vector_label *l = &v->labels[i];
        if (l->axis > 1 || !(fabs(l->value) <= 360) || !(l->at[0] >= 0) ||
            !(l->at[0] <= (float)grid->width) || !(l->at[1] >= 0) ||
            !(l->at[1] <= (float)grid->height)) {
            return false;
        }
    }
    return true;
}

enum rc_err rc_vectors_parse(const uint8_t *payload, size_t len, const struct rc_vector_grid *grid,
                             struct rc_vectors **out)
{
    *out = NULL;
    struct payload_head head;
    if (len < sizeof(head)) {
        return RC_ERR_INTERNAL;
    }
    memcpy(&head, payload, sizeof(head));
    size_t parts = head.part_count * sizeof(struct rc_vector_part);
    size_t labels = head.label_count * sizeof(struct rc_vector_label);
    if (head.point_count > RC_VECTORS_MAX_POINTS || head.part_count > head.point_count / 2 ||
        head.label_count > MAX_LABELS ||
        len != sizeof(head) + parts + labels + head.point_count * sizeof(float[2])) {
        return RC_ERR_INTERNAL;
    }
    struct rc_vectors *v = calloc(1, sizeof(*v));
    if (!v) {
        return RC_ERR_NOMEM;
    }
    v->part_count = head.part_count;
    v->point_count = head.point_count;
    v->label_count = head.label_count;
    v->parts = malloc(parts ? parts : 1);
    v->labels = malloc(labels ? labels : 1);
    v->xy = malloc((head.point_count ? head.point_count : 1) * sizeof(*v->xy));
    if (!v->parts || !v->labels || !v->xy) {
        rc_vectors_free(v);
        return RC_ERR_NOMEM;
    }
    memcpy(v->parts, payload + sizeof(head), parts);
    memcpy(v->labels, payload + sizeof(head) + parts, labels);
    memcpy(v->xy, payload + sizeof(head) + parts + labels, head.point_count * sizeof(*v->xy));
    if (!parsed_sane(v, grid)) {
        rc_vectors_free(v);
        return RC_ERR_INTERNAL;
    }
    *out = v;
    return RC_OK;
}

bool rc_vectors_grid(const struct rc_raster *r, const char *field, struct rc_vector_grid *grid,
                     struct rc_error *err)
{
    memset(grid, 0, sizeof(*grid));
    if (!r->has_geotransform || !r->crs_wkt[0] || !r->source_width || !r->source_height) {
        rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                     "the raster has no coordinate reference system to lay vectors on");
        return false;
    }
    snprintf(grid->crs, sizeof(grid->crs), "%s", r->crs_wkt);
    memcpy(grid->geotransform, r->geotransform, sizeof(grid->geotransform));
    grid->source_width = r->source_width;
    grid->source_height = r->source_height;
    grid->width = r->width;
    grid->height = r->height;
    return true;
}
