/* The job in one canonical text: every field of the spec after parsing, so
 * defaults are filled in and the JSON and GET forms of one job read alike. */
#include "job/job.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The buffer keeps the first failure (base/buf.h); the text is checked once. */
struct text {
    struct rc_buf *out;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rc_buf_vprintf(t->out, fmt, ap);
    va_end(ap);
}

/* Text fields may hold anything but NUL: their length first keeps them apart. */
static void put_text(struct text *t, const char *name, const char *value)
{
    size_t len = strlen(value);
    put(t, "%s=%zu:", name, len);
    rc_buf_append(t->out, value, len);
    put(t, "\n");
}

static void put_rgba(struct text *t, const char *name, const uint8_t c[4])
{
    put(t, "%s=%02x%02x%02x%02x\n", name, c[0], c[1], c[2], c[3]);
}

static void put_vector(struct text *t, const struct rc_job_vector *v)
{
    put_text(t, "vector", v->source ? v->source : "");
    put_rgba(t, "vector_color", v->color);
    put(t, "vector_width=%.17g opacity=%.17g filled=%d\n", v->width, v->opacity, v->filled);
    put_rgba(t, "vector_fill", v->fill);
}

static void put_pose(struct text *t, const char *name, const struct rc_camera_pose *p)
{
    put(t, "%s=%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", name, p->azimuth_deg,
        p->elevation_deg, p->distance, p->target[0], p->target[1], p->target[2], p->fov_deg,
        p->roll_deg);
}

enum rc_err rc_job_spec_canonical(const struct rc_job_spec *s, struct rc_buf *out)
{
    struct text t = {.out = out};
    put(&t, "rasterclip job 1\n");
    put_text(&t, "url", s->raster_upload ? "" : s->url);
    put(&t, "bands=");
    for (size_t i = 0; i < s->band_count; i++) {
        put(&t, "%s%u", i ? "," : "", s->bands[i]);
    }
    put(&t, "\nnodata=%d,%.17g\n", s->has_nodata, s->has_nodata ? s->nodata : 0);
    put(&t, "rescale=%d,%d,%d,%.17g,%.17g\n", s->rescale_auto, s->rescale_per_band, s->has_rescale,
        s->has_rescale ? s->rescale_min : 0, s->has_rescale ? s->rescale_max : 0);
    put_text(&t, "resampling", s->resampling);
    put_text(&t, "height_url", s->heights_upload ? "" : s->height_url);
    put(&t, "uploads=%d,%d height_band=%u\n", s->raster_upload, s->heights_upload, s->height_band);
    put_text(&t, "variable", s->slice.variable);
    for (unsigned i = 0; i < s->slice.select_count; i++) {
        put_text(&t, "select", s->slice.select[i].dim);
        put(&t, "at=%d,%.17g\n", s->slice.select[i].by_index, s->slice.select[i].value);
    }
    for (unsigned i = 0; i < s->slice.range_count; i++) {
        put(&t, "datetime=%.17g,%.17g\n", s->slice.ranges[i][0], s->slice.ranges[i][1]);
    }
    put(&t, "step=%d,%.17g\n", s->slice.step_months, s->slice.step_seconds);
    if (rc_place_warps(&s->place)) {
        put_text(&t, "crs", s->place.crs);
        put(&t, "bbox=%d,%.17g,%.17g,%.17g,%.17g\n", s->place.has_bbox, s->place.bbox[0],
            s->place.bbox[1], s->place.bbox[2], s->place.bbox[3]);
        put_text(&t, "bbox_crs", s->place.has_bbox ? s->place.bbox_crs : "");
    }
    put_text(&t, "band_label_format", s->band_label_format);
    put(&t, "mode=%d aspect=%d linear=%d colormap=%u:", (int)s->mode, (int)s->aspect, s->linear,
        s->colormap.entries);
    for (unsigned i = 0; i < s->colormap.entries && i < RC_COLORMAP_MAX_ENTRIES; i++) {
        put(&t, "%02x%02x%02x%02x", s->colormap.rgba[i][0], s->colormap.rgba[i][1],
            s->colormap.rgba[i][2], s->colormap.rgba[i][3]);
    }
    put(&t, "\ncolormap_range=%d,%.17g,%.17g\n", s->colormap_sets_range, s->cmap_vmin,
        s->cmap_vmax);
    put_rgba(&t, "nan_color", s->nan_color);
    put_rgba(&t, "background", s->background);
    put(&t, "exaggeration=%.17g detail=%u lighting=%d\n", s->exaggeration, s->detail, s->lighting);
    put(&t, "light=%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", s->light_custom, s->light_azimuth,
        s->light_elevation, s->light_ambient, s->light_diffuse, s->light_specular,
        s->light_shininess);
    put(&t, "colorbar=%d,%d,%u\n", s->colorbar, s->colorbar_horizontal, s->colorbar_ticks);
    put_text(&t, "colorbar_label", s->colorbar_label);
    put_text(&t, "colorbar_format", s->colorbar_format);
    put(&t, "title_size=%u outline=%d axes=%d band_labels=%d\n", s->title_size, s->outline, s->axes,
        s->show_band_labels);
    for (size_t i = 0; s->band_labels && i < s->band_label_count; i++) {
        put_text(&t, "band_label", s->band_labels[i]);
    }
    put(&t, "text_colored=%d\n", s->text_colored);
    put_rgba(&t, "text_rgb", s->text_rgb);
    put(&t, "outline_colored=%d\n", s->outline_colored);
    put_rgba(&t, "outline_rgb", s->outline_rgb);
    put_text(&t, "title", s->title);
    for (size_t i = 0; i < s->vector_count; i++) {
        put_vector(&t, &s->vectors[i]);
    }
    put(&t, "graticule=%.17g\n", s->graticule_step);
    if (s->graticule_step > 0) {
        put_vector(&t, &s->graticule);
    }
    const struct rc_camera_path *c = &s->camera;
    put(&t, "camera=%d,%.17g,%d\n", (int)c->kind, c->orbit_degrees, c->smooth);
    put_pose(&t, "camera_base", &c->base);
    for (size_t i = 0; i < c->key_count && i < RC_CAMERA_MAX_KEYFRAMES; i++) {
        put(&t, "key_t=%.17g\n", c->keys[i].t_s);
        put_pose(&t, "key", &c->keys[i].pose);
    }
    put(&t, "timeline=%u,%d\n", s->frames_per_band, s->blend);
    put(&t, "output=%ux%u@%u frames=%zu speed=%d bitrate=%u crf=%d key=%u format=%d dither=%d\n",
        s->width, s->height, s->fps, s->frames, (int)s->speed, s->bitrate_kbps, s->crf,
        s->keyframe_interval, (int)s->format, (int)s->dither);
    return rc_buf_error(t.out);
}
