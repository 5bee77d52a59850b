/* The job's "output" object: size, rate, length, encoder settings and format. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "job/fields.h"
#include "job/job.h"

/* Picks `*out` from `names` by the string at obj[key]; absent keeps the default. */
static enum rc_err get_choice(const json_t *obj, const char *key, const char *field,
                              const char *const *names, int *out, struct rc_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        return RC_OK;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    for (int i = 0; names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return RC_OK;
        }
    }
    char list[128] = "";
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof(list) - n, "%s\"%s\"", i ? ", " : "", names[i]);
    }
    return rc_error_set(err, RC_ERR_INVALID, field, "must be one of %s", list);
}

/* output.format and output.dither, and the combinations no format can carry. */
static enum rc_err parse_format(struct rc_job_spec *spec, const json_t *output,
                                struct rc_error *err)
{
    static const char *const formats[] = {"webm", "mp4", "gif", NULL};
    static const char *const dithers[] = {"auto", "ordered", "diffusion", "none", NULL};
    int format = RC_FORMAT_WEBM, dither = RC_JOB_DITHER_AUTO;
    enum rc_err rc = get_choice(output, "format", "output.format", formats, &format, err);
    rc = rc ? rc : get_choice(output, "dither", "output.dither", dithers, &dither, err);
    if (rc != RC_OK) {
        return rc;
    }
    spec->format = (enum rc_format)format;
    spec->dither = (enum rc_job_dither)dither;
    if (json_object_get(output, "dither") && spec->format != RC_FORMAT_GIF) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "output.dither",
                            "only applies to output.format \"gif\"");
    }
    if (spec->format == RC_FORMAT_GIF && spec->fps > 50) {
        /* GIF delays are whole hundredths, and browsers slow anything under 2 to 10. */
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "output.fps",
                            "a GIF plays at most 50 frames a second, got %u", spec->fps);
    }
    return RC_OK;
}

/* A CRS as a job may name it: "EPSG:<code>" or WKT (never a file name or URL,
 * which GDAL's own parser would open). Its meaning is checked by the reader. */
static enum rc_err get_crs(const json_t *output, const char *key, const char *field, char *out,
                           size_t size, struct rc_error *err)
{
    const json_t *v = json_object_get(output, key);
    if (!v) {
        return RC_OK;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (!s || !s[0] || strlen(s) >= size) {
        return rc_error_set(err, RC_ERR_INVALID, field,
                            "must be \"EPSG:<code>\" or WKT of at most %zu bytes", size - 1);
    }
    static const char *const wkt[] = {"PROJCS[",      "GEOGCS[",   "GEOCCS[",  "COMPD_CS[",
                                      "PROJCRS[",     "GEOGCRS[",  "GEODCRS[", "BASEGEOGCRS[",
                                      "COMPOUNDCRS[", "BOUNDCRS[", NULL};
    bool ok = false;
    if (strncasecmp(s, "EPSG:", 5) == 0) {
        const char *d = s + 5;
        ok = *d != '\0' && strspn(d, "0123456789") == strlen(d) && strlen(d) <= 6;
    }
    for (int i = 0; wkt[i] && !ok; i++) {
        ok = strncasecmp(s, wkt[i], strlen(wkt[i])) == 0;
    }
    if (!ok) {
        return rc_error_set(err, RC_ERR_INVALID, field,
                            "must be \"EPSG:<code>\" (\"EPSG:3857\" for web maps) or WKT");
    }
    snprintf(out, size, "%s", s);
    return RC_OK;
}

/* output.crs, output.bbox and output.bbox_crs: where the clip lies. */
static enum rc_err parse_place(struct rc_job_spec *spec, const json_t *output, struct rc_error *err)
{
    struct rc_place *p = &spec->place;
    snprintf(p->bbox_crs, sizeof(p->bbox_crs), "EPSG:4326");
    enum rc_err rc = get_crs(output, "crs", "output.crs", p->crs, sizeof(p->crs), err);
    rc = rc ? rc
            : get_crs(output, "bbox_crs", "output.bbox_crs", p->bbox_crs, sizeof(p->bbox_crs), err);
    if (rc != RC_OK) {
        return rc;
    }
    const json_t *bbox = json_object_get(output, "bbox");
    if (!bbox) {
        if (json_object_get(output, "bbox_crs")) {
            return rc_error_set(err, RC_ERR_INVALID, "output.bbox_crs",
                                "only applies with output.bbox");
        }
        return RC_OK;
    }
    if (!json_is_array(bbox) || json_array_size(bbox) != 4) {
        return rc_error_set(err, RC_ERR_INVALID, "output.bbox",
                            "must be [west, south, east, north]");
    }
    for (size_t i = 0; i < 4; i++) {
        const json_t *v = json_array_get(bbox, i);
        if (!json_is_number(v) || !isfinite(json_number_value(v))) {
            return rc_error_set(err, RC_ERR_INVALID, "output.bbox",
                                "must be [west, south, east, north], four numbers");
        }
        p->bbox[i] = json_number_value(v);
    }
    if (!(p->bbox[0] < p->bbox[2]) || !(p->bbox[1] < p->bbox[3])) {
        return rc_error_set(err, RC_ERR_INVALID, "output.bbox",
                            "west must be less than east and south less than north");
    }
    p->has_bbox = true;
    return RC_OK;
}

enum rc_err rc_spec_parse_output(struct rc_job_spec *spec, const struct rc_config *cfg,
                                 const json_t *output, struct rc_error *err)
{
    static const char *const keys[] = {"width",
                                       "height",
                                       "fps",
                                       "frames",
                                       "duration",
                                       "speed",
                                       "bitrate_kbps",
                                       "crf",
                                       "keyframe_interval",
                                       "format",
                                       "dither",
                                       "seekable",
                                       "crs",
                                       "bbox",
                                       "bbox_crs",
                                       NULL};
    spec->width = 1280;
    spec->height = 720;
    spec->fps = 30;
    spec->bitrate_kbps = 2000;
    spec->crf = -1;
    spec->keyframe_interval = 60;
    if (!output) {
        return RC_OK;
    }
    static const struct rc_field fields[] = {
        FIELD_LIMIT(struct rc_job_spec, "width", width, 16, max_width),
        FIELD_LIMIT(struct rc_job_spec, "height", height, 16, max_height),
        FIELD_LIMIT(struct rc_job_spec, "fps", fps, 1, max_fps),
        FIELD(struct rc_job_spec, "keyframe_interval", RC_FIELD_UINT, keyframe_interval, 1, 100000),
    };
    enum rc_err rc = rc_field_check_keys(output, "output", keys, err);
    rc = rc ? rc : rc_field_read(output, "output", fields, COUNT(fields), cfg, spec, err);
    rc = rc ? rc : rc_field_get_bool(output, "seekable", "output", &spec->seekable, err);
    if (rc != RC_OK) {
        return rc;
    }
    if (spec->width % 2 || spec->height % 2) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE,
                            spec->width % 2 ? "output.width" : "output.height",
                            "must be even (4:2:0 video)");
    }
    if ((long long)spec->width * spec->height > cfg->max_pixels) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "output.width",
                            "width x height is %u x %u; at most %ld pixels (max_pixels)",
                            spec->width, spec->height, cfg->max_pixels);
    }
    const json_t *frames = json_object_get(output, "frames");
    const json_t *duration = json_object_get(output, "duration");
    if (frames && duration) {
        return rc_error_set(err, RC_ERR_INVALID, "output.frames",
                            "give either frames or duration, not both");
    }
    unsigned n = 0;
    rc = rc_field_get_uint(output, "frames", "output", 1, cfg->max_frames, &n, err);
    if (rc == RC_OK && duration) {
        double seconds = 0;
        rc = rc_field_get_number(output, "duration", "output", 1e-3, 86400.0, &seconds, err);
        double count = round(seconds * spec->fps);
        if (rc == RC_OK && (count < 1 || count > (double)cfg->max_frames)) {
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, "output.duration",
                                "gives %.0f frames; allowed 1..%ld (max_frames)", count,
                                cfg->max_frames);
        }
        n = (unsigned)count;
    }
    spec->frames = n;
    const json_t *speed = json_object_get(output, "speed");
    if (rc == RC_OK && speed) {
        const char *s = json_is_string(speed) ? json_string_value(speed) : "";
        if (strcmp(s, "good") == 0) {
            spec->speed = RC_SPEED_GOOD;
        } else if (strcmp(s, "realtime") != 0) {
            return rc_error_set(err, RC_ERR_INVALID, "output.speed",
                                "must be \"realtime\" or \"good\"");
        }
    }
    rc = rc ? rc : parse_format(spec, output, err);
    rc = rc ? rc : parse_place(spec, output, err);
    if (rc != RC_OK) {
        return rc;
    }
    if (json_object_get(output, "bitrate_kbps") && json_object_get(output, "crf")) {
        return rc_error_set(err, RC_ERR_INVALID, "output.crf",
                            "give either bitrate_kbps or crf, not both");
    }
    unsigned crf = 0;
    rc = rc ? rc
            : rc_field_get_uint(output, "bitrate_kbps", "output", 50, 100000, &spec->bitrate_kbps,
                                err);
    if (rc == RC_OK && json_object_get(output, "crf")) {
        rc = rc_field_get_uint(output, "crf", "output", 0, 63, &crf, err);
        spec->crf = (int)crf;
        spec->bitrate_kbps = 0;
    }
    return rc;
}
