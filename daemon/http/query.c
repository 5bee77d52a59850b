#include "http/query.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum kind {
    K_STRING,
    K_NUMBER,
    K_INT,
    K_BOOL,
    K_BANDS,    /* repeatable integers: a list */
    K_RESCALE,  /* min,max or [min,max] (repeatable: their union), auto or per_band */
    K_NODATA,   /* number, nan, inf, -inf */
    K_COLOR,    /* rrggbb[aa] with or without # */
    K_COLORBAR, /* true, false, or a label */
    K_COLORMAP, /* TiTiler's JSON: {value: colour} or [[[min, max], colour], ...] */
    K_FORMAT,   /* a clip format; TiTiler's still-image formats are accepted and ignored */
    K_DETAIL,   /* "auto" or an integer */
    K_DISTANCE, /* "fit" or a number */
    K_SEL,      /* repeatable dim=value: a datacube dimension held at a coordinate value */
    K_ISEL,     /* repeatable dim=index: ... at an index */
    K_BBOX,     /* west,south,east,north */
    K_VECTOR,   /* repeatable: a vector layer's source, drawn as the job's defaults say */
    K_JSON      /* the field's JSON, as a POST job gives it */
};

struct param {
    const char *name;
    const char *field; /* dotted path in the JSON job */
    enum kind kind;
};

static const struct param params[] = {
    {"url", "raster.url", K_STRING},
    {"bidx", "raster.bands", K_BANDS},
    {"rescale", "raster.rescale", K_RESCALE},
    {"nodata", "raster.nodata", K_NODATA},
    {"resampling", "raster.resampling", K_STRING},
    {"variable", "raster.variable", K_STRING},
    {"sel", "raster.select", K_SEL},
    {"isel", "raster.select", K_ISEL},
    {"datetime", "raster.datetime", K_STRING},
    {"step", "raster.step", K_STRING},
    {"colormap_name", "style.colormap", K_STRING},
    {"colormap", "style.colormap", K_COLORMAP},
    {"mode", "style.mode", K_STRING},
    {"reverse", "style.reverse", K_BOOL},
    {"nan_color", "style.nan_color", K_COLOR},
    {"background", "style.background", K_COLOR},
    {"text_color", "style.text_color", K_COLOR},
    {"exaggeration", "style.exaggeration", K_NUMBER},
    {"detail", "style.detail", K_DETAIL},
    {"outline", "style.outline", K_BOOL},
    {"axes", "style.axes", K_BOOL},
    {"aspect", "style.aspect", K_STRING},
    {"interpolation", "style.interpolation", K_STRING},
    {"band_labels", "style.band_labels", K_BOOL},
    {"band_label_format", "style.band_label_format", K_STRING},
    {"lighting", "style.lighting", K_BOOL},
    {"colorbar", "style.colorbar", K_COLORBAR},
    {"colorbar_orientation", "style.colorbar.orientation", K_STRING},
    {"colorbar_ticks", "style.colorbar.ticks", K_INT},
    {"colorbar_format", "style.colorbar.format", K_STRING},
    {"title_size", "style.title_size", K_INT},
    {"light_azimuth", "style.lighting.azimuth", K_NUMBER},
    {"light_elevation", "style.lighting.elevation", K_NUMBER},
    {"light_ambient", "style.lighting.ambient", K_NUMBER},
    {"light_diffuse", "style.lighting.diffuse", K_NUMBER},
    {"light_specular", "style.lighting.specular", K_NUMBER},
    {"light_shininess", "style.lighting.shininess", K_NUMBER},
    {"title", "style.title", K_STRING},
    {"orbit", "camera.orbit.degrees", K_NUMBER},
    {"azimuth", "camera.orbit.start", K_NUMBER},
    {"elevation", "camera.orbit.elevation", K_NUMBER},
    {"distance", "camera.orbit.distance", K_DISTANCE},
    {"roll", "camera.orbit.roll", K_NUMBER},
    {"view", "camera.preset", K_STRING},
    {"fov", "camera.orbit.fov", K_NUMBER},
    {"frames_per_band", "timeline.frames_per_band", K_INT},
    {"blend", "timeline.blend", K_BOOL},
    {"width", "output.width", K_INT},
    {"height", "output.height", K_INT},
    {"fps", "output.fps", K_INT},
    {"frames", "output.frames", K_INT},
    {"duration", "output.duration", K_NUMBER},
    {"speed", "output.speed", K_STRING},
    {"bitrate_kbps", "output.bitrate_kbps", K_INT},
    {"crf", "output.crf", K_INT},
    {"keyframe_interval", "output.keyframe_interval", K_INT},
    {"format", "output.format", K_FORMAT},
    {"dither", "output.dither", K_STRING},
    {"seekable", "output.seekable", K_BOOL},
    {"dst_crs", "output.crs", K_STRING},
    {"bbox", "output.bbox", K_BBOX},
    {"coord_crs", "output.bbox_crs", K_STRING},
    {"vector", "style.vectors", K_VECTOR},
    {"vectors", "style.vectors", K_JSON},
    {"graticule", "style.graticule.step", K_NUMBER},
};

enum { PARAM_COUNT = sizeof(params) / sizeof(params[0]) };

/* TiTiler parameters with no meaning for a clip. */
static const char *const ignored[] = {"return_mask", "max_size", "tilesize",
                                      "buffer",      "padding",  NULL};

/* TiTiler's still-image formats: `format=png` asks for nothing a clip can be. */
static const char *const still_formats[] = {"png", "npy",  "tif",    "jpeg", "jpg",
                                            "jp2", "webp", "pngraw", NULL};

static bool is_still_format(const char *v)
{
    for (size_t i = 0; still_formats[i]; i++) {
        if (strcasecmp(still_formats[i], v) == 0) {
            return true;
        }
    }
    return false;
}

const char *const *rc_query_ignored(void)
{
    return ignored;
}

const char *rc_query_param_for_field(const char *field)
{
    if (strcmp(field, "raster") == 0) {
        return "url";
    }
    if (strncmp(field, "raster.select", 13) == 0) {
        return "sel"; /* isel shares raster.select */
    }
    if (strncmp(field, "style.colormap.values", 21) == 0 ||
        strncmp(field, "style.colormap.intervals", 24) == 0) {
        return "colormap"; /* colormap_name shares style.colormap */
    }
    /* The most specific: style.colorbar.ticks is colorbar_ticks, not colorbar. */
    const char *best = field;
    size_t best_len = 0;
    for (size_t i = 0; i < PARAM_COUNT; i++) {
        size_t n = strlen(params[i].field);
        if (n > best_len && strncmp(field, params[i].field, n) == 0 &&
            (field[n] == '\0' || field[n] == '.' || field[n] == '[')) {
            best = params[i].name;
            best_len = n;
        }
    }
    return best;
}

static const struct param *find(const char *key)
{
    for (size_t i = 0; i < PARAM_COUNT; i++) {
        if (strcmp(params[i].name, key) == 0) {
            return &params[i];
        }
    }
    return NULL;
}

static bool is_ignored(const char *key)
{
    for (size_t i = 0; ignored[i]; i++) {
        if (strcmp(ignored[i], key) == 0) {
            return true;
        }
    }
    return false;
}

/* Sets `value` at a dotted path, creating objects on the way; takes `value`.
 * Objects merge, and `true` (colorbar=true, lighting=true) gives way to an object
 * of options (colorbar_ticks=…, light_azimuth=…) on either side; -1 when one says false and the
 * other an option. */
static int set_path(json_t *root, const char *path, json_t *value)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *node = root;
    char *part = buf;
    for (char *dot; (dot = strchr(part, '.')) != NULL; part = dot + 1) {
        *dot = '\0';
        json_t *child = json_object_get(node, part);
        if (!child || json_is_true(child)) {
            child = json_object();
            json_object_set_new(node, part, child);
        } else if (!json_is_object(child)) {
            json_decref(value);
            return -1;
        }
        node = child;
    }
    json_t *existing = json_object_get(node, part);
    if (json_is_object(existing)) {
        int rc = json_is_object(value) ? json_object_update(existing, value)
                 : json_is_true(value) ? 0
                                       : -1;
        json_decref(value);
        return rc;
    }
    return json_object_set_new(node, part, value);
}

/* True when `key` came before position k. */
static bool seen_before(const struct rc_query_param *qp, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        if (strcmp(qp[i].key, qp[k].key) == 0) {
            return true;
        }
    }
    return false;
}

static bool parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(d)) {
        return false;
    }
    *out = d;
    return true;
}

static bool parse_long(const char *s, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

/* "0,1" or "[0,1]" into two numbers. */
static bool parse_pair(const char *s, double *lo, double *hi)
{
    char buf[128];
    size_t len = strlen(s);
    if (len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s, len + 1);
    char *p = buf;
    if (*p == '[' && len > 1 && buf[len - 1] == ']') {
        buf[len - 1] = '\0';
        p++;
    }
    char *comma = strchr(p, ',');
    if (!comma) {
        return false;
    }
    *comma = '\0';
    return parse_double(p, lo) && parse_double(comma + 1, hi);
}

/* dim=value into the select object built so far. */
static json_t *convert_select(bool by_index, const char *v, json_t *previous)
{
    const char *eq = strchr(v, '=');
    char dim[64];
    double d;
    long long i;
    if (!eq || eq == v || (size_t)(eq - v) >= sizeof(dim)) {
        return NULL;
    }
    snprintf(dim, sizeof(dim), "%.*s", (int)(eq - v), v);
    json_t *at = by_index ? (parse_long(eq + 1, &i) ? json_pack("{s:I}", "index", i) : NULL)
                 : parse_double(eq + 1, &d) ? json_real(d)
                                            : NULL;
    if (!at || (previous && json_object_get(previous, dim))) {
        json_decref(at);
        return NULL;
    }
    json_t *select = previous ? json_incref(previous) : json_object();
    json_object_set_new(select, dim, at);
    return select;
}

static json_t *convert(const struct param *p, const char *v, json_t *previous)
{
    double d, lo, hi;
    long long i;
    switch (p->kind) {
    case K_STRING:
        return json_string(v);
    case K_BBOX: {
        double b[4];
        char *end = NULL;
        const char *at = v;
        for (int k = 0; k < 4; k++) {
            b[k] = strtod(at, &end);
            if (end == at || !isfinite(b[k]) || *end != (k < 3 ? ',' : '\0')) {
                return NULL;
            }
            at = end + 1;
        }
        return json_pack("[f,f,f,f]", b[0], b[1], b[2], b[3]);
    }
    case K_NUMBER:
        return parse_double(v, &d) ? json_real(d) : NULL;
    case K_INT:
        return parse_long(v, &i) ? json_integer(i) : NULL;
    case K_BOOL:
        if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0) {
            return json_true();
        }
        return strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 ? json_false() : NULL;
    case K_BANDS: {
        if (!parse_long(v, &i)) {
            return NULL;
        }
        json_t *list = previous ? json_incref(previous) : json_array();
        json_array_append_new(list, json_integer(i));
        return list;
    }
    case K_RESCALE:
        if (strcasecmp(v, "auto") == 0 || strcasecmp(v, "per_band") == 0) {
            return json_string(strcasecmp(v, "auto") == 0 ? "auto" : "per_band");
        }
        if (!parse_pair(v, &lo, &hi)) {
            return NULL;
        }
        if (previous && json_is_array(previous)) {
            lo = fmin(lo, json_number_value(json_array_get(previous, 0)));
            hi = fmax(hi, json_number_value(json_array_get(previous, 1)));
        }
        return json_pack("[f,f]", lo, hi);
    case K_NODATA:
        if (strcasecmp(v, "nan") == 0 || strcasecmp(v, "inf") == 0 || strcasecmp(v, "-inf") == 0) {
            return json_string(v);
        }
        return parse_double(v, &d) ? json_real(d) : NULL;
    case K_COLOR: {
        char hex[16];
        if (strcmp(v, "transparent") == 0) {
            return json_string(v);
        }
        if (strlen(v) > 9) {
            return NULL;
        }
        snprintf(hex, sizeof(hex), "%s%s", v[0] == '#' ? "" : "#", v);
        return json_string(hex);
    }
    case K_DISTANCE:
        if (strcmp(v, "fit") == 0) {
            return json_string(v);
        }
        return parse_double(v, &d) ? json_real(d) : NULL;
    case K_DETAIL:
        if (strcmp(v, "auto") == 0) {
            return json_string(v);
        }
        return parse_long(v, &i) ? json_integer(i) : NULL;
    case K_FORMAT:
        return json_string(v); /* still formats never get here (rc_query_to_job) */
    case K_COLORBAR:
        if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0) {
            return json_true();
        }
        if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0) {
            return json_false();
        }
        return json_pack("{s:s}", "label", v);
    case K_SEL:
    case K_ISEL:
        return convert_select(p->kind == K_ISEL, v, previous);
    case K_VECTOR: {
        json_t *list = json_is_array(previous) ? json_incref(previous) : json_array();
        json_array_append_new(list, json_pack("{s:s}", "source", v));
        return list;
    }
    case K_JSON:
        return json_loads(v, JSON_REJECT_DUPLICATES, NULL);
    case K_COLORMAP: {
        json_t *parsed = json_loads(v, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object(parsed)) {
            return json_pack("{s:o}", "values", parsed);
        }
        if (json_is_array(parsed)) {
            return json_pack("{s:o}", "intervals", parsed);
        }
        json_decref(parsed);
        return NULL;
    }
    }
    return NULL;
}

static bool has_control(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return true;
        }
    }
    return false;
}

static json_t *get_path(json_t *root, const char *path)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *node = root;
    char *part = buf;
    for (char *dot; node && (dot = strchr(part, '.')) != NULL; part = dot + 1) {
        *dot = '\0';
        node = json_object_get(node, part);
    }
    return node ? json_object_get(node, part) : NULL;
}

enum rc_err rc_query_to_job(const struct rc_query_param *qp, size_t count, json_t **job,
                            char *unknown, size_t unknown_size, struct rc_error *err)
{
    *job = NULL;
    if (unknown && unknown_size) {
        unknown[0] = '\0';
    }
    json_t *root = json_object();
    enum rc_err rc = RC_OK;
    for (size_t k = 0; k < count && rc == RC_OK; k++) {
        const char *key = qp[k].key, *value = qp[k].value ? qp[k].value : "";
        if (has_control(key) || has_control(value)) {
            /* %00 among them: the server turns a decoded NUL into DEL. */
            rc = rc_error_set(err, RC_ERR_INVALID, has_control(key) ? "query" : key,
                              "control characters (%%00..%%1F, %%7F) are not allowed");
            break;
        }
        if (is_ignored(key) || (strcmp(key, "format") == 0 && is_still_format(value))) {
            continue;
        }
        if (strcmp(key, "expires") == 0 || strcmp(key, "sig") == 0) {
            continue; /* a signed URL's, checked before the job is read */
        }
        const struct param *p = find(key);
        if (!p) {
            if (unknown && unknown_size) {
                size_t n = strlen(unknown);
                snprintf(unknown + n, unknown_size - n, "%s%.64s", n ? "," : "", key);
            }
            continue;
        }
        bool repeatable = p->kind == K_BANDS || p->kind == K_RESCALE || p->kind == K_SEL ||
                          p->kind == K_ISEL || p->kind == K_VECTOR;
        if (!repeatable && seen_before(qp, k)) {
            rc = rc_error_set(err, RC_ERR_INVALID, key, "given more than once");
            break;
        }
        json_t *v = convert(p, value, repeatable ? get_path(root, p->field) : NULL);
        if (!v) {
            rc = rc_error_set(err, RC_ERR_INVALID, key, "malformed value");
            break;
        }
        if (set_path(root, p->field, v) != 0) {
            rc = rc_error_set(err, RC_ERR_INVALID, key,
                              "conflicts with its group set to false (colorbar, lighting)");
            break;
        }
    }
    if (rc == RC_OK && !root) {
        rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    if (rc != RC_OK) {
        json_decref(root);
        return rc;
    }
    *job = root;
    return RC_OK;
}
