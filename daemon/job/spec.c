#include "job/job.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job/fields.h"

static enum rc_err parse_bands(struct rc_job_spec *spec, const struct rc_config *cfg,
                               const json_t *v, struct rc_error *err)
{
    static const char *const range_keys[] = {"first", "last", NULL};
    static const char field[] = "raster.bands";
    size_t count;
    unsigned first = 1, last = 0;
    if (json_is_array(v)) {
        count = json_array_size(v);
    } else if (json_is_object(v)) {
        enum rc_err rc = rc_field_check_keys(v, field, range_keys, err);
        unsigned max_band = (unsigned)cfg->max_bands * 64;
        rc = rc ? rc : rc_field_get_uint(v, "first", field, 1, max_band, &first, err);
        rc = rc ? rc : rc_field_get_uint(v, "last", field, 1, max_band, &last, err);
        if (rc != RC_OK) {
            return rc;
        }
        if (!json_object_get(v, "first") || !json_object_get(v, "last")) {
            return rc_error_set(err, RC_ERR_INVALID, field, "a range needs first and last");
        }
        if (last < first) {
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.bands.last",
                                "must not be below first");
        }
        count = (size_t)(last - first) + 1;
    } else {
        return rc_error_set(err, RC_ERR_INVALID, field,
                            "must be a list of band numbers or {\"first\",\"last\"}");
    }
    if (count == 0) {
        return rc_error_set(err, RC_ERR_INVALID, field, "must name at least one band");
    }
    if (count > (size_t)cfg->max_bands) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field, "at most %ld bands (max_bands)",
                            cfg->max_bands);
    }
    spec->bands = calloc(count, sizeof(*spec->bands));
    if (!spec->bands) {
        return rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    spec->band_count = count;
    for (size_t i = 0; i < count; i++) {
        if (!json_is_array(v)) {
            spec->bands[i] = first + (unsigned)i;
            continue;
        }
        const json_t *b = json_array_get(v, i);
        if (!json_is_integer(b) || json_integer_value(b) < 1 || json_integer_value(b) > INT32_MAX) {
            return rc_error_set(err, RC_ERR_INVALID, field, "band numbers are integers from 1");
        }
        spec->bands[i] = (unsigned)json_integer_value(b);
    }
    return RC_OK;
}

static enum rc_err parse_height(struct rc_job_spec *spec, const json_t *height,
                                struct rc_error *err)
{
    static const char *const keys[] = {"url", "band", NULL};
    if (!height) {
        return RC_OK;
    }
    if (!json_is_object(height)) {
        return rc_error_set(err, RC_ERR_INVALID, "raster.height",
                            "must be {\"url\": ..., \"band\": n}");
    }
    spec->height_band = 1;
    enum rc_err rc = rc_field_check_keys(height, "raster.height", keys, err);
    const json_t *url = json_object_get(height, "url");
    if (rc == RC_OK && url && spec->heights_upload) {
        return rc_error_set(err, RC_ERR_INVALID, "raster.height.url",
                            "give either raster.height.url or a heights upload, not both");
    }
    if (rc == RC_OK && !url && !spec->heights_upload) {
        return rc_error_set(err, RC_ERR_INVALID, "raster.height.url", "is required");
    }
    if (rc == RC_OK && url) {
        rc = rc_field_copy_location(url, "raster.height.url", spec->height_url,
                                    sizeof(spec->height_url), err);
    }
    rc = rc ? rc
            : rc_field_get_uint(height, "band", "raster.height", 1, INT32_MAX, &spec->height_band,
                                err);
    return rc;
}

static enum rc_err parse_raster(struct rc_job_spec *spec, const struct rc_config *cfg,
                                const json_t *raster, struct rc_error *err)
{
    static const char *const keys[] = {"url",      "bands",      "nodata",   "rescale",
                                       "height",   "resampling", "variable", "select",
                                       "datetime", "step",       NULL};
    if (!raster && spec->raster_upload) {
        return RC_OK; /* everything from the upload, with the defaults */
    }
    if (!raster) {
        return rc_error_set(err, RC_ERR_INVALID, "raster", "is required");
    }
    enum rc_err rc = rc_field_check_keys(raster, "raster", keys, err);
    if (rc != RC_OK) {
        return rc;
    }
    const json_t *url = json_object_get(raster, "url");
    if (url && spec->raster_upload) {
        return rc_error_set(err, RC_ERR_INVALID, "raster.url",
                            "give either raster.url or a raster upload, not both");
    }
    if (!url && !spec->raster_upload) {
        return rc_error_set(err, RC_ERR_INVALID, "raster.url", "is required");
    }
    if (url) {
        rc = rc_field_copy_location(url, "raster.url", spec->url, sizeof(spec->url), err);
    }
    rc = rc ? rc : parse_height(spec, json_object_get(raster, "height"), err);
    rc = rc ? rc : rc_spec_parse_slice(spec, raster, err);
    if (rc != RC_OK) {
        return rc;
    }

    const json_t *bands = json_object_get(raster, "bands");
    if (bands) {
        rc = parse_bands(spec, cfg, bands, err);
        if (rc != RC_OK) {
            return rc;
        }
    }
    const json_t *nodata = json_object_get(raster, "nodata");
    if (nodata) {
        /* JSON has no NaN or infinity; nodata may need them, so they come as strings. */
        const char *word = json_is_string(nodata) ? json_string_value(nodata) : "";
        if (json_is_number(nodata)) {
            spec->nodata = json_number_value(nodata);
        } else if (strcasecmp(word, "nan") == 0) {
            spec->nodata = NAN;
        } else if (strcasecmp(word, "inf") == 0 || strcasecmp(word, "-inf") == 0) {
            spec->nodata = word[0] == '-' ? -INFINITY : INFINITY;
        } else {
            return rc_error_set(err, RC_ERR_INVALID, "raster.nodata",
                                "must be a number, \"nan\", \"inf\" or \"-inf\"");
        }
        spec->has_nodata = true;
    }
    const json_t *resampling = json_object_get(raster, "resampling");
    snprintf(spec->resampling, sizeof(spec->resampling), "nearest");
    if (resampling) {
        static const char *const methods[] = {"nearest", "bilinear", "cubic", "cubic_spline",
                                              "lanczos", "average",  "mode",  "gauss",
                                              "rms",     NULL};
        const char *m = json_is_string(resampling) ? json_string_value(resampling) : "";
        size_t i = 0;
        while (methods[i] && strcmp(methods[i], m) != 0) {
            i++;
        }
        if (!methods[i]) {
            return rc_error_set(err, RC_ERR_INVALID, "raster.resampling",
                                "must be nearest, bilinear, cubic, cubic_spline, lanczos, "
                                "average, mode, gauss or rms");
        }
        snprintf(spec->resampling, sizeof(spec->resampling), "%s", m);
    }
    const json_t *rescale = json_object_get(raster, "rescale");
    if (rescale && json_is_string(rescale) && strcmp(json_string_value(rescale), "auto") == 0) {
        spec->rescale_auto = true;
    } else if (rescale && json_is_string(rescale) &&
               strcmp(json_string_value(rescale), "per_band") == 0) {
        spec->rescale_per_band = true;
    } else if (rescale) {
        if (!json_is_array(rescale) || json_array_size(rescale) != 2 ||
            !json_is_number(json_array_get(rescale, 0)) ||
            !json_is_number(json_array_get(rescale, 1))) {
            return rc_error_set(err, RC_ERR_INVALID, "raster.rescale",
                                "must be [min, max], \"auto\" or \"per_band\"");
        }
        spec->rescale_min = json_number_value(json_array_get(rescale, 0));
        spec->rescale_max = json_number_value(json_array_get(rescale, 1));
        if (!(spec->rescale_max > spec->rescale_min) || !isfinite(spec->rescale_min) ||
            !isfinite(spec->rescale_max)) {
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.rescale",
                                "max must be greater than min");
        }
        spec->has_rescale = true;
    }
    return RC_OK;
}

static const struct rc_field pose_fields[] = {
    FIELD(struct rc_camera_pose, "elevation", RC_FIELD_NUMBER, elevation_deg, -90.0, 90.0),
    FIELD(struct rc_camera_pose, "fov", RC_FIELD_NUMBER, fov_deg, 0.0, 180.0),
    FIELD(struct rc_camera_pose, "roll", RC_FIELD_NUMBER, roll_deg, -36000.0, 36000.0),
};

static enum rc_err parse_pose(const json_t *obj, const char *path, struct rc_camera_pose *pose,
                              struct rc_error *err)
{
    /* distance: a number, or "fit" (resolved once the raster's extent is known). */
    const json_t *distance = json_object_get(obj, "distance");
    enum rc_err rc = RC_OK;
    if (json_is_string(distance) && strcmp(json_string_value(distance), "fit") == 0) {
        pose->distance = RC_CAMERA_FIT;
    } else {
        rc = rc_field_get_number(obj, "distance", path, 1e-3, 1000.0, &pose->distance, err);
    }
    rc = rc ? rc : rc_field_read(obj, path, pose_fields, COUNT(pose_fields), NULL, pose, err);
    if (rc == RC_OK && !(pose->fov_deg > 0.0 && pose->fov_deg < 180.0)) {
        struct rc_field_path p;
        rc_field_path_join(&p, path, "fov");
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, p.text, "must be in (0, 180), got %g",
                            pose->fov_deg);
    }
    const json_t *target = json_object_get(obj, "target");
    if (rc == RC_OK && target) {
        struct rc_field_path p;
        rc_field_path_join(&p, path, "target");
        if (!json_is_array(target) || json_array_size(target) != 3) {
            return rc_error_set(err, RC_ERR_INVALID, p.text, "must be [x, y, z]");
        }
        for (size_t i = 0; i < 3; i++) {
            const json_t *c = json_array_get(target, i);
            if (!json_is_number(c) || fabs(json_number_value(c)) > 100.0) {
                return rc_error_set(err, RC_ERR_INVALID, p.text,
                                    "must be three numbers within +-100");
            }
            pose->target[i] = json_number_value(c);
        }
    }
    return rc;
}

static enum rc_err parse_keyframes(struct rc_job_spec *spec, const json_t *keys_json,
                                   struct rc_error *err)
{
    static const char *const keys[] = {"t",      "azimuth", "elevation", "distance",
                                       "target", "fov",     "roll",      NULL};
    struct rc_camera_path *cam = &spec->camera;
    size_t n = json_array_size(keys_json);
    if (!json_is_array(keys_json) || n == 0 || n > RC_CAMERA_MAX_KEYFRAMES) {
        return rc_error_set(err, RC_ERR_INVALID, "camera.keyframes",
                            "must be a list of 1..%d keyframes", RC_CAMERA_MAX_KEYFRAMES);
    }
    cam->kind = RC_CAMERA_KEYFRAMES;
    cam->key_count = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *k = json_array_get(keys_json, i);
        char path[40];
        snprintf(path, sizeof(path), "camera.keyframes[%zu]", i);
        if (!json_is_object(k)) {
            return rc_error_set(err, RC_ERR_INVALID, path, "must be an object");
        }
        struct rc_camera_keyframe *key = &cam->keys[i];
        key->pose = i > 0 ? cam->keys[i - 1].pose : cam->base;
        key->t_s = -1;
        enum rc_err rc = rc_field_check_keys(k, path, keys, err);
        static const struct rc_field key_fields[] = {
            FIELD(struct rc_camera_keyframe, "t", RC_FIELD_NUMBER, t_s, 0.0, 86400.0),
            FIELD(struct rc_camera_keyframe, "azimuth", RC_FIELD_NUMBER, pose.azimuth_deg, -36000.0,
                  36000.0),
        };
        rc = rc ? rc : rc_field_read(k, path, key_fields, COUNT(key_fields), NULL, key, err);
        rc = rc ? rc : parse_pose(k, path, &key->pose, err);
        if (rc != RC_OK) {
            return rc;
        }
        struct rc_field_path tp;
        rc_field_path_join(&tp, path, "t");
        if (key->t_s < 0) {
            return rc_error_set(err, RC_ERR_INVALID, tp.text, "is required");
        }
        if (i > 0 && !(key->t_s > cam->keys[i - 1].t_s)) {
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, tp.text, "keyframe times must increase");
        }
    }
    rc_camera_unwrap_azimuths(cam);
    return RC_OK;
}

static enum rc_err parse_camera(struct rc_job_spec *spec, const json_t *camera,
                                struct rc_error *err)
{
    static const char *const keys[] = {"orbit", "keyframes", "interpolation", "preset", NULL};
    static const char *const orbit_keys[] = {"start",  "degrees", "elevation", "distance",
                                             "target", "fov",     "roll",      NULL};
    struct rc_camera_path *cam = &spec->camera;
    cam->kind = RC_CAMERA_ORBIT;
    /* With axes, the default distance leaves room for their labels ("fit"). */
    cam->base = (struct rc_camera_pose){.azimuth_deg = 0,
                                        .elevation_deg = 35,
                                        .distance = spec->axes ? RC_CAMERA_FIT : 2.2,
                                        .fov_deg = 30};
    cam->orbit_degrees = 360;
    if (!camera) {
        return RC_OK;
    }
    enum rc_err rc = rc_field_check_keys(camera, "camera", keys, err);
    if (rc != RC_OK) {
        return rc;
    }
    const json_t *preset = json_object_get(camera, "preset");
    if (preset) {
        if (!json_is_string(preset) || strcmp(json_string_value(preset), "isometric") != 0) {
            return rc_error_set(err, RC_ERR_INVALID, "camera.preset", "must be \"isometric\"");
        }
        /* mayavi's default view: the orbit and keyframes may still change any part. */
        cam->base.azimuth_deg = RC_CAMERA_ISOMETRIC_AZIMUTH;
        cam->base.elevation_deg = RC_CAMERA_ISOMETRIC_ELEVATION;
        cam->base.distance = RC_CAMERA_FIT;
    }
    const json_t *orbit = json_object_get(camera, "orbit");
    const json_t *keyframes = json_object_get(camera, "keyframes");
    if (orbit && keyframes) {
        return rc_error_set(err, RC_ERR_INVALID, "camera",
                            "give either orbit or keyframes, not both");
    }
    if (orbit) {
        rc = rc_field_get_object(camera, "orbit", "camera", &orbit, err);
        rc = rc ? rc : rc_field_check_keys(orbit, "camera.orbit", orbit_keys, err);
        static const struct rc_field orbit_fields[] = {
            FIELD(struct rc_camera_path, "start", RC_FIELD_NUMBER, base.azimuth_deg, -36000.0,
                  36000.0),
            FIELD(struct rc_camera_path, "degrees", RC_FIELD_NUMBER, orbit_degrees, -36000.0,
                  36000.0),
        };
        rc = rc ? rc
                : rc_field_read(orbit, "camera.orbit", orbit_fields, COUNT(orbit_fields), NULL, cam,
                                err);
        rc = rc ? rc : parse_pose(orbit, "camera.orbit", &cam->base, err);
    } else if (keyframes) {
        rc = parse_keyframes(spec, keyframes, err);
    }
    const json_t *interp = json_object_get(camera, "interpolation");
    if (rc == RC_OK && interp) {
        const char *s = json_is_string(interp) ? json_string_value(interp) : "";
        if (!keyframes) {
            return rc_error_set(err, RC_ERR_INVALID, "camera.interpolation",
                                "only applies to keyframes");
        }
        if (strcmp(s, "smooth") == 0) {
            cam->smooth = true;
        } else if (strcmp(s, "linear") != 0) {
            return rc_error_set(err, RC_ERR_INVALID, "camera.interpolation",
                                "must be \"linear\" or \"smooth\"");
        }
    }
    return rc;
}

static enum rc_err parse_timeline(struct rc_job_spec *spec, const json_t *timeline,
                                  struct rc_error *err)
{
    static const char *const keys[] = {"frames_per_band", "blend", NULL};
    if (!timeline) {
        return RC_OK;
    }
    static const struct rc_field fields[] = {
        FIELD(struct rc_job_spec, "frames_per_band", RC_FIELD_UINT, frames_per_band, 1, 100000),
        FIELD(struct rc_job_spec, "blend", RC_FIELD_BOOL, blend, 0, 1),
    };
    enum rc_err rc = rc_field_check_keys(timeline, "timeline", keys, err);
    return rc ? rc : rc_field_read(timeline, "timeline", fields, COUNT(fields), NULL, spec, err);
}

/* What the sections allow one by one but not together. */
/* style.mode "map": the frame is all map. Its background is transparent unless
 * the job says otherwise (or the format has no alpha); nothing may take room
 * from the raster. */
static enum rc_err check_map(struct rc_job_spec *spec, bool camera, struct rc_error *err)
{
    if (spec->mode != RC_MODE_MAP) {
        return RC_OK;
    }
    if (!spec->background_given && spec->format != RC_FORMAT_MP4) {
        memset(spec->background, 0, sizeof(spec->background));
    }
    static const char *const why = "a map overlay is all map: style.mode \"map\" draws no %s";
    if (spec->colorbar) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "style.colorbar",
                            "a map overlay is all map: style.mode \"map\" draws no colorbar; "
                            "GET /v1/legend with the clip's query gives it as an image");
    }
    if (spec->title[0]) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "style.title", why, "title");
    }
    if (spec->axes) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "style.axes", why, "axes");
    }
    if (spec->show_band_labels) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "style.band_labels", why, "band labels");
    }
    if (camera) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "camera",
                            "style.mode \"map\" looks straight down onto the raster (or "
                            "output.bbox), its pixels on the frame's: it takes no camera");
    }
    return RC_OK;
}

static enum rc_err check_combinations(const struct rc_job_spec *spec, struct rc_error *err)
{
    uint8_t alpha = spec->background[3];
    if (alpha != 0 && alpha != 255) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "style.background",
                            "must be opaque or \"transparent\" (alpha 0), got alpha %u", alpha);
    }
    if (alpha == 0 && spec->format == RC_FORMAT_MP4) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "style.background",
                            "H.264 MP4 has no alpha: a transparent background needs "
                            "output.format \"webm\" or \"gif\"");
    }
    return RC_OK;
}

enum rc_err rc_job_spec_parse(struct rc_job_spec *spec, const struct rc_config *cfg,
                              const char *text, size_t len, struct rc_error *err)
{
    return rc_job_spec_parse_uploads(spec, cfg, text, len, false, false, err);
}

enum rc_err rc_job_spec_parse_uploads(struct rc_job_spec *spec, const struct rc_config *cfg,
                                      const char *text, size_t len, bool raster_upload,
                                      bool heights_upload, struct rc_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        memset(spec, 0, sizeof(*spec));
        return rc_error_set(err, RC_ERR_INVALID, "", "malformed JSON at line %d column %d: %.120s",
                            jerr.line, jerr.column, jerr.text);
    }
    enum rc_err rc = rc_job_spec_from_json(spec, cfg, root, raster_upload, heights_upload, err);
    json_decref(root);
    return rc;
}

enum rc_err rc_job_spec_from_json(struct rc_job_spec *spec, const struct rc_config *cfg,
                                  const json_t *root, bool raster_upload, bool heights_upload,
                                  struct rc_error *err)
{
    static const char *const keys[] = {"raster", "style", "camera", "timeline", "output", NULL};
    memset(spec, 0, sizeof(*spec));
    spec->background[0] = spec->background[1] = spec->background[2] = spec->background[3] = 255;
    spec->exaggeration = 1.0;
    spec->lighting = true;
    spec->blend = false;
    spec->raster_upload = raster_upload;
    spec->heights_upload = heights_upload;
    spec->height_band = 1;
    if (!json_is_object(root)) {
        return rc_error_set(err, RC_ERR_INVALID, "", "the job must be a JSON object");
    }
    const json_t *raster = NULL, *style = NULL, *camera = NULL, *timeline = NULL, *output = NULL;
    enum rc_err rc = rc_field_check_keys(root, "", keys, err);
    rc = rc ? rc : rc_field_get_object(root, "raster", "", &raster, err);
    rc = rc ? rc : rc_field_get_object(root, "style", "", &style, err);
    rc = rc ? rc : rc_field_get_object(root, "camera", "", &camera, err);
    rc = rc ? rc : rc_field_get_object(root, "timeline", "", &timeline, err);
    rc = rc ? rc : rc_field_get_object(root, "output", "", &output, err);
    rc = rc ? rc : parse_raster(spec, cfg, raster, err);
    rc = rc ? rc : rc_spec_parse_style(spec, style, err);
    rc = rc ? rc : parse_camera(spec, camera, err);
    rc = rc ? rc : parse_timeline(spec, timeline, err);
    rc = rc ? rc : rc_spec_parse_output(spec, cfg, output, err);
    rc = rc ? rc : check_map(spec, camera != NULL, err);
    rc = rc ? rc : check_combinations(spec, err);
    if (rc == RC_OK && (spec->height_url[0] || spec->heights_upload) &&
        spec->mode != RC_MODE_SURFACE) {
        rc =
            rc_error_set(err, RC_ERR_IMPOSSIBLE, spec->heights_upload ? "heights" : "raster.height",
                         "heights only apply to style.mode \"surface\"");
    }
    if (rc != RC_OK) {
        rc_job_spec_finish(spec);
    }
    return rc;
}

void rc_job_spec_finish(struct rc_job_spec *spec)
{
    if (!spec) {
        return;
    }
    free(spec->bands);
    spec->bands = NULL;
    spec->band_count = 0;
    free(spec->band_labels);
    spec->band_labels = NULL;
    spec->band_label_count = 0;
    for (size_t i = 0; i < RC_JOB_MAX_VECTORS; i++) {
        free(spec->vectors[i].source);
        spec->vectors[i].source = NULL;
    }
    spec->vector_count = 0;
}
