#include "pipeline/plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/datastyle.h"
#include "raster/range.h"

/* At the default camera the raster spans about half the output's height, so a
 * grid as long as the output's longer side already oversamples the screen about
 * twice; more detail costs texture bandwidth every frame and shows nowhere. Larger
 * rasters are read downsampled (GDAL uses overviews when the file has them). */
void rc_plan_raster_request(const struct rc_job *job, unsigned max_texture,
                            struct rc_raster_request *out)
{
    const struct rc_job_spec *spec = &job->spec;
    unsigned cap = spec->width > spec->height ? spec->width : spec->height;
    *out = (struct rc_raster_request){.url = spec->url,
                                      .data = job->raster.data,
                                      .data_len = job->raster.len,
                                      .bands = spec->bands,
                                      .band_count = spec->band_count,
                                      .nodata = spec->has_nodata ? &spec->nodata : NULL,
                                      .resampling = spec->resampling,
                                      .max_dim = cap < max_texture ? cap : max_texture,
                                      /* A map's cells are the frame's pixels. */
                                      .width = spec->mode == RC_MODE_MAP ? spec->width : 0,
                                      .height = spec->mode == RC_MODE_MAP ? spec->height : 0,
                                      .field = spec->raster_upload ? "raster" : "raster.url",
                                      .bands_field = "raster.bands",
                                      .slice = &spec->slice,
                                      .place = &spec->place};
}

bool rc_plan_height_request(const struct rc_job *job, struct rc_raster_request *out)
{
    const struct rc_job_spec *spec = &job->spec;
    *out =
        (struct rc_raster_request){.url = spec->height_url,
                                   .data = job->heights.data,
                                   .data_len = job->heights.len,
                                   .bands = &spec->height_band,
                                   .band_count = 1,
                                   .resampling = spec->resampling,
                                   .field = spec->heights_upload ? "heights" : "raster.height.url",
                                   .bands_field = "raster.height.band",
                                   .place = &spec->place};
    return spec->height_url[0] != '\0' || spec->heights_upload;
}

/* The value range the colormap spans: colours given for data values set it
 * themselves; else the job's rescale, its 2..98 percentile ("auto"), or the valid
 * minimum..maximum of every chosen band ("per_band" too: the bar's layout is
 * measured for it, and each band's own range replaces it frame by frame). */
static void value_range(const struct rc_job_spec *spec, const struct rc_raster *values,
                        double *vmin, double *vmax)
{
    *vmin = values->valid_min;
    *vmax = values->valid_max;
    if (spec->colormap_sets_range) {
        *vmin = spec->cmap_vmin;
        *vmax = spec->cmap_vmax;
    } else if (spec->has_rescale) {
        *vmin = spec->rescale_min;
        *vmax = spec->rescale_max;
    } else if (spec->rescale_auto && values->valid_count > 0) {
        rc_raster_percentiles(values, 2.0, 98.0, vmin, vmax);
    }
}

/* The light kit's terms (VTK's: the kit's lights sum to about 1.3 where a surface
 * faces them all); or the job's single light. */
static struct rc_light_settings light_settings(const struct rc_job_spec *spec)
{
    if (!spec->light_custom) {
        return (struct rc_light_settings){.enabled = spec->lighting,
                                          .kit = true,
                                          .ambient = RC_PLAN_KIT_AMBIENT,
                                          .diffuse = 1.0,
                                          .specular = 0.0,
                                          .shininess = 20};
    }
    return (struct rc_light_settings){.enabled = true,
                                      .azimuth_deg = spec->light_azimuth,
                                      .elevation_deg = spec->light_elevation,
                                      .ambient = spec->light_ambient,
                                      .diffuse = spec->light_diffuse,
                                      .specular = spec->light_specular,
                                      .shininess = spec->light_shininess};
}

/* The z axis's title: the relief's values by their name and unit, as the file
 * gives them (the job's colorbar label when the relief is the colours' raster). */
static void z_title(const struct rc_job_spec *spec, const struct rc_raster *relief, bool own,
                    struct rc_plan *plan)
{
    char *t = plan->axis_z_title;
    size_t size = sizeof(plan->axis_z_title);
    if (!own && spec->colorbar_label_given && spec->colorbar_label[0]) {
        snprintf(t, size, "%s", spec->colorbar_label);
    } else if (relief->units[0]) {
        snprintf(t, size, "%s (%s)", relief->long_name[0] ? relief->long_name : "z", relief->units);
    } else {
        snprintf(t, size, "%s", relief->long_name[0] ? relief->long_name : "z");
    }
    plan->overlay.axis_z_title = t;
}

/* The axes' ranges: the raster's coordinates from its geotransform (pixel
 * columns and rows without one) in its CRS's terms, and for a surface the values
 * its relief spans. */
static void axes_settings(const struct rc_job_spec *spec, const struct rc_raster *values,
                          bool surface, const double extent[2], struct rc_plan *plan)
{
    struct rc_overlay_settings *o = &plan->overlay;
    static const double pixels[6] = {0, 1, 0, 0, 0, 1};
    const double *g = values->has_geotransform ? values->geotransform : pixels;
    double w = values->source_width, h = values->source_height;
    o->axes = true;
    o->axis_kind = !values->has_geotransform          ? RC_AXES_CELLS
                   : values->crs == RC_CRS_PROJECTED  ? RC_AXES_PROJECTED
                   : values->crs == RC_CRS_GEOGRAPHIC ? RC_AXES_DEGREES
                                                      : RC_AXES_PLAIN;
    o->axis_unit_m = values->crs_unit_m;
    o->axis_unit = values->crs_unit;
    z_title(spec, values, false, plan);
    o->axis_x[0] = g[0];
    o->axis_x[1] = g[0] + w * g[1];
    o->axis_y[0] = g[3] + h * g[5];
    o->axis_y[1] = g[3];
    o->extent[0] = (float)extent[0];
    o->extent[1] = (float)extent[1];
    o->top = surface ? (float)(RC_PLAN_SURFACE_RELIEF * spec->exaggeration) : 0.0f;
    o->axis_z[0] = o->axis_z[1] = NAN;
    if (surface && !spec->rescale_per_band) {
        o->axis_z[0] = plan->vmin;
        o->axis_z[1] = plan->vmax;
    }
}

/* The raster's drawn width and height, the longer 1: the ground's shape (pixel
 * width and height from the geotransform; degrees as plate carree) or one unit a
 * cell. */
static enum rc_err drawn_extent(const struct rc_job_spec *spec, const struct rc_raster *values,
                                double out[2], struct rc_error *err)
{
    double w = values->width, h = values->height;
    if (spec->mode == RC_MODE_MAP) {
        w = spec->width; /* the raster fills the frame, pixel on pixel */
        h = spec->height;
        double longest = fmax(w, h);
        out[0] = w / longest;
        out[1] = h / longest;
        return RC_OK;
    }
    enum rc_aspect aspect = spec->aspect;
    if (aspect == RC_ASPECT_AUTO) {
        aspect = values->has_geotransform ? RC_ASPECT_DATA : RC_ASPECT_SQUARE;
    }
    if (aspect == RC_ASPECT_DATA) {
        if (!values->has_geotransform) {
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, "style.aspect",
                                "the raster has no geotransform, so the ground's shape is "
                                "unknown: use \"square\"");
        }
        w = values->source_width * fabs(values->geotransform[1]);
        h = values->source_height * fabs(values->geotransform[5]);
    }
    double longest = fmax(w, h);
    out[0] = w / longest;
    out[1] = h / longest;
    return RC_OK;
}

/* Values: the timeline, the value range, the drawn shape and the camera that
 * frames it. */
static enum rc_err plan_values(const struct rc_job_spec *spec, const struct rc_config *cfg,
                               const struct rc_raster *values, struct rc_plan *plan,
                               double extent[2], struct rc_error *err)
{
    enum rc_err rc = rc_timeline_init(&plan->timeline, spec, cfg, values->band_count, err);
    if (rc != RC_OK) {
        return rc;
    }
    if (spec->rescale_per_band && spec->colormap_sets_range) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.rescale",
                            "\"per_band\" cannot apply to a colormap whose colours are given "
                            "for data values");
    }
    value_range(spec, values, &plan->vmin, &plan->vmax);
    rc = drawn_extent(spec, values, extent, err);
    if (rc != RC_OK) {
        return rc;
    }
    /* "fit" distances frame the raster (and its relief) at the output's aspect. */
    bool surface = spec->mode == RC_MODE_SURFACE;
    plan->camera = spec->camera;
    rc_camera_fit(&plan->camera, extent[0], extent[1],
                  surface ? RC_PLAN_SURFACE_RELIEF * spec->exaggeration : 0.0,
                  (double)spec->width / (double)spec->height,
                  spec->axes ? RC_CAMERA_FIT_MARGIN_AXES : RC_CAMERA_FIT_MARGIN);
    plan->timeline.camera = &plan->camera;
    return RC_OK;
}

/* The overlay: colorbar, title, band labels, axes. */
static enum rc_err plan_overlay(const struct rc_job_spec *spec, const struct rc_raster *values,
                                const double extent[2], struct rc_plan *plan, struct rc_error *err)
{
    plan->overlay = (struct rc_overlay_settings){.width = spec->width,
                                                 .height = spec->height,
                                                 .colorbar = spec->colorbar,
                                                 .colorbar_label = spec->colorbar_label,
                                                 .horizontal = spec->colorbar_horizontal,
                                                 .tick_intervals = spec->colorbar_ticks,
                                                 .tick_format = spec->colorbar_format,
                                                 .title_px = spec->title_size,
                                                 .title = spec->title,
                                                 .colormap = &spec->colormap,
                                                 .vmin = plan->vmin,
                                                 .vmax = plan->vmax};
    if (spec->rescale_per_band) {
        plan->overlay.band_range = (const double(*)[2])values->band_range;
        plan->overlay.band_range_count = values->band_count;
    }
    for (int c = 0; c < 4; c++) {
        plan->overlay.background[c] = spec->background[c];
    }
    plan->overlay.text_colored = spec->text_colored;
    memcpy(plan->overlay.text_rgb, spec->text_rgb, 3);
    if (spec->show_band_labels) {
        if (spec->band_labels && spec->band_label_count != values->band_count) {
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, "style.band_labels",
                                "%zu labels for %zu bands", spec->band_label_count,
                                values->band_count);
        }
        plan->overlay.band_labels = spec->band_labels ? (const char(*)[48])spec->band_labels
                                                      : (const char(*)[48])values->labels;
        plan->overlay.band_label_count = values->band_count;
    }
    if (spec->axes) {
        axes_settings(spec, values, spec->mode == RC_MODE_SURFACE, extent, plan);
    }
    return RC_OK;
}

/* The height error (heights' 0..1 units) a refined mesh may keep: what `px`
 * output pixels span at the nearest the camera comes to the raster's box along
 * its path. */
static double mesh_error(const struct rc_job_spec *spec, const struct rc_plan *plan,
                         const double extent[2], double relief, double px)
{
    const struct rc_camera_path *cam = &plan->camera;
    double nearest = cam->base.distance, fov = cam->base.fov_deg;
    for (size_t i = 0; i < cam->key_count; i++) {
        nearest = fmin(nearest, cam->keys[i].pose.distance);
        fov = fmax(fov, cam->keys[i].pose.fov_deg);
    }
    double radius = 0.5 * sqrt(extent[0] * extent[0] + extent[1] * extent[1] + relief * relief);
    double d = fmax(nearest - radius, 0.05 * nearest);
    double focal_px = spec->height / 2.0 / tan(fov * M_PI / 360.0);
    return relief > 0 ? px * d / focal_px / relief : 0.0;
}

/* The renderer's settings (values, colours, mesh, light, outline). */
static void plan_render(const struct rc_job_spec *spec, const struct rc_raster *values,
                        const struct rc_colormap *colormap, const double extent[2], bool hardware,
                        struct rc_plan *plan)
{
    bool surface = spec->mode == RC_MODE_SURFACE;
    unsigned out_long = spec->width > spec->height ? spec->width : spec->height;
    plan->values = rc_raster_bands(values);
    struct rc_render_settings *r = &plan->render;
    *r = (struct rc_render_settings){
        .width = spec->width,
        .height = spec->height,
        .surface = surface,
        .lighting = light_settings(spec),
        .height_scale = RC_PLAN_SURFACE_RELIEF * spec->exaggeration,
        .mesh_cells = !surface       ? 1
                      : spec->detail ? spec->detail
                                     : out_long,
        .mesh_error =
            surface && !spec->detail
                ? mesh_error(spec, plan, extent, RC_PLAN_SURFACE_RELIEF * spec->exaggeration,
                             hardware ? RC_PLAN_MESH_ERROR_PX : RC_PLAN_SOFTWARE_MESH_ERROR_PX)
                : 0.0,
        .colormap = colormap,
        .values = &plan->values,
        .extent = {(float)extent[0], (float)extent[1]},
        .vmin = plan->vmin,
        .vmax = plan->vmax,
        .per_band = spec->rescale_per_band,
        .transparent = spec->background[3] == 0,
        .outline = spec->outline,
        .linear = spec->linear,
        .map = spec->mode == RC_MODE_MAP,
    };
    for (int c = 0; c < 4; c++) {
        r->background[c] = spec->background[c];
        r->nan_color[c] = spec->nan_color[c];
    }
    for (int c = 0; c < 3; c++) {
        /* Dark on a light background, light on a dark or transparent one. */
        const uint8_t *b = spec->background;
        double luma = r->transparent ? 0 : 0.299 * b[0] + 0.587 * b[1] + 0.114 * b[2];
        r->outline_rgb[c] = spec->outline_colored ? spec->outline_rgb[c] : luma > 128 ? 32 : 235;
    }
}

/* The output: the frame kind, the encoder, the container and the GIF's settings. */
static void plan_output(const struct rc_job_spec *spec, bool gpu_convert, bool hardware,
                        struct rc_plan *plan)
{
    bool transparent = plan->render.transparent;
    struct rc_output *o = &plan->output;
    static const struct rc_format_ops *const formats[] = {
        [RC_FORMAT_WEBM] = &rc_format_webm,
        [RC_FORMAT_MP4] = &rc_format_mp4,
        [RC_FORMAT_GIF] = &rc_format_gif,
    };
    o->format = spec->format;
    o->ops = formats[spec->format];
    o->seekable = spec->seekable;
    o->frame = spec->format == RC_FORMAT_GIF ? RC_FRAME_RGBA
               : transparent                 ? RC_FRAME_I420A
                                             : RC_FRAME_I420;
    /* The conversion shader makes opaque I420 only. */
    plan->render.gpu_convert = gpu_convert && o->frame == RC_FRAME_I420;
    o->codec.encode = (struct rc_encode_settings){.width = spec->width,
                                                  .height = spec->height,
                                                  .fps = spec->fps,
                                                  .realtime = spec->speed == RC_SPEED_REALTIME,
                                                  .bitrate_kbps = spec->bitrate_kbps,
                                                  .crf = spec->crf,
                                                  .keyframe_interval = spec->keyframe_interval,
                                                  .shared_cores = !hardware};
    o->codec.webm =
        (struct rc_mux_settings){.width = spec->width,
                                 .height = spec->height,
                                 .fps = spec->fps,
                                 .frames = plan->timeline.frames,
                                 .writing_app = "rasterclip " RC_VERSION,
                                 .alpha = transparent && spec->format == RC_FORMAT_WEBM};
    bool lit = spec->mode == RC_MODE_SURFACE && spec->lighting;
    static const enum rc_dither dithers[] = {
        [RC_JOB_DITHER_AUTO] = RC_DITHER_ORDERED,
        [RC_JOB_DITHER_ORDERED] = RC_DITHER_ORDERED,
        [RC_JOB_DITHER_DIFFUSION] = RC_DITHER_DIFFUSION,
        [RC_JOB_DITHER_NONE] = RC_DITHER_NONE,
    };
    o->codec.gif = (struct rc_gif_settings){.width = spec->width,
                                            .height = spec->height,
                                            .fps = spec->fps,
                                            .dither = spec->dither == RC_JOB_DITHER_AUTO && !lit
                                                          ? RC_DITHER_NONE
                                                          : dithers[spec->dither],
                                            .transparent = transparent};
}

enum rc_err rc_plan_make(const struct rc_job_spec *spec, const struct rc_config *cfg,
                         const struct rc_raster *values, bool gpu_convert, bool hardware,
                         struct rc_plan *plan, struct rc_error *err)
{
    *plan = (struct rc_plan){0};
    double extent[2] = {1, 1};
    enum rc_err rc = plan_values(spec, cfg, values, plan, extent, err);
    rc = rc ? rc : plan_overlay(spec, values, extent, plan, err);
    const struct rc_colormap *colormap = &spec->colormap;
    rc = rc ? rc : rc_datastyle_apply(spec, values, plan, &colormap, err);
    if (rc != RC_OK) {
        return rc;
    }
    plan->has_overlay = rc_overlay_wanted(&plan->overlay);
    plan_render(spec, values, colormap, extent, hardware, plan);
    plan_output(spec, gpu_convert, hardware, plan);
    return RC_OK;
}

void rc_plan_set_heights(struct rc_plan *plan, const struct rc_raster *heights)
{
    if (heights) {
        plan->heights = rc_raster_bands(heights);
    }
    plan->render.heights = heights ? &plan->heights : NULL;
    if (heights && plan->overlay.axes && plan->overlay.top > 0) {
        plan->overlay.axis_z[0] = heights->valid_min;
        plan->overlay.axis_z[1] = heights->valid_max;
        z_title(NULL, heights, true, plan);
    }
}

void rc_plan_frame(const struct rc_plan *plan, size_t index, struct rc_render_frame *out)
{
    struct rc_timeline_frame t;
    rc_timeline_at(&plan->timeline, index, &t);
    *out = (struct rc_render_frame){
        .index = index, .pose = t.pose, .band_a = t.band_a, .band_b = t.band_b, .blend = t.blend};
}

/* Grows a list of colours with their weights. */
struct colours {
    uint8_t (*rgb)[3];
    uint32_t *weight;
    size_t count, cap;
    bool failed;
};

static void add_colour(struct colours *c, const uint8_t rgb[3], uint32_t weight)
{
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        uint8_t(*grown_rgb)[3] = realloc(c->rgb, cap * sizeof(*c->rgb));
        if (grown_rgb) {
            c->rgb = grown_rgb;
        }
        uint32_t *grown_weight = realloc(c->weight, cap * sizeof(*c->weight));
        if (grown_weight) {
            c->weight = grown_weight;
        }
        if (!grown_rgb || !grown_weight) {
            c->failed = true;
            return;
        }
        c->cap = cap;
    }
    memcpy(c->rgb[c->count], rgb, 3);
    c->weight[c->count++] = weight;
}

/* `rgb` at opacity alpha/255 over `under` (the shader's mix()), rounded. */
static void over(const uint8_t rgb[3], unsigned alpha, const uint8_t under[3], uint8_t out[3])
{
    for (int k = 0; k < 3; k++) {
        out[k] = (uint8_t)((rgb[k] * alpha + under[k] * (255 - alpha) + 127) / 255);
    }
}

/* Shades of the lighting (scene.frag) the GIF palette samples. */
enum { SHADES = 8 };

void rc_plan_release(struct rc_plan *plan)
{
    free(plan->legend);
    plan->legend = NULL;
    free(plan->time_labels);
    plan->time_labels = NULL;
    plan->overlay.legend = NULL;
    plan->overlay.band_labels = NULL;
}

/* The colours of a premultiplied canvas's pixels in `r`, as they show over the
 * background. */
static void add_canvas(struct colours *c, const struct rc_canvas *canvas, struct rc_rect r,
                       const uint8_t bg[4], bool transparent)
{
    for (int y = r.y; y < r.y + r.h; y++) {
        for (int x = r.x; x < r.x + r.w; x++) {
            const uint8_t *px = canvas->rgba + 4 * ((size_t)y * (size_t)canvas->width + (size_t)x);
            if (px[3] == 0) {
                continue;
            }
            uint8_t shown[3];
            for (int k = 0; k < 3; k++) {
                unsigned under = transparent ? 0 : bg[k];
                shown[k] = (uint8_t)(px[k] + (under * (255u - px[3]) + 127) / 255);
            }
            add_colour(c, shown, 1);
        }
    }
}

void rc_plan_palette(struct rc_plan *plan, const struct rc_overlay *overlay)
{
    struct colours c = {0};
    bool transparent = plan->output.codec.gif.transparent;
    const struct rc_render_settings *rs = &plan->render;
    bool lit = rs->surface && rs->lighting.enabled;
    const uint8_t *bg = rs->background;
    const struct rc_colormap *map = plan->render.colormap;
    /* From the ambient floor to full light (brighter is clipped to the colour). */
    double floor = plan->render.lighting.kit ? RC_PLAN_KIT_AMBIENT : plan->render.lighting.ambient;
    for (unsigned i = 0; i < map->entries; i++) {
        for (int s = lit ? 0 : SHADES - 1; s < SHADES; s++) {
            double shade = floor + (1.0 - floor) * s / (SHADES - 1);
            uint8_t rgb[3], shown[3];
            for (int k = 0; k < 3; k++) {
                rgb[k] = (uint8_t)(map->rgba[i][k] * shade + 0.5);
            }
            over(rgb, transparent ? 255 : map->rgba[i][3], bg, shown);
            add_colour(&c, shown, lit ? 8 : 64);
        }
    }
    if (!transparent) {
        add_colour(&c, bg, 256);
    }
    if (rs->nan_color[3] > 0) {
        uint8_t shown[3];
        over(rs->nan_color, transparent ? 255 : rs->nan_color[3], bg, shown);
        add_colour(&c, shown, 16);
    }
    for (size_t p = 0; overlay && p < overlay->panel_count; p++) {
        add_canvas(&c, &overlay->canvas, overlay->panels[p], bg, transparent);
    }
    bool lines = rs->outline || (overlay && overlay->axes.count);
    if (lines) {
        add_colour(&c, rs->outline_rgb, 64);
    }
    /* A layer's ink, and its inside over a spread of the colormap's colours. */
    for (size_t i = 0; i < rs->vector_count; i++) {
        add_colour(&c, rs->vectors[i].color, 64);
        for (unsigned k = 0; rs->vectors[i].filled && k < 16; k++) {
            const uint8_t *under = map->rgba[k * map->entries / 16];
            double a = rs->vectors[i].fill[3] / 255.0 * rs->vectors[i].opacity;
            uint8_t shown[3];
            for (int ch = 0; ch < 3; ch++) {
                shown[ch] = (uint8_t)(rs->vectors[i].fill[ch] * a + under[ch] * (1 - a) + 0.5);
            }
            add_colour(&c, shown, 8);
        }
    }
    if (overlay && overlay->axes.count) {
        const struct rc_canvas *atlas = &overlay->axes.atlas;
        add_canvas(&c, atlas, (struct rc_rect){0, 0, atlas->width, atlas->height}, bg, transparent);
    }
    size_t max = transparent ? 255 : 256;
    if (c.failed) {
        c.count = c.count < max ? c.count : max; /* a palette of what was gathered */
    }
    struct rc_palette *palette = &plan->output.codec.gif.palette;
    rc_palette_build((const uint8_t(*)[3])c.rgb, c.weight, c.count, max, palette);
    /* What the clip shows flat is an entry exactly: drawn as it is, not dithered. */
    if (!transparent) {
        rc_palette_pin(palette, bg, max);
    }
    if (rs->nan_color[3] > 0) {
        uint8_t shown[3];
        over(rs->nan_color, transparent ? 255 : rs->nan_color[3], bg, shown);
        rc_palette_pin(palette, shown, max);
    }
    if (lines) {
        rc_palette_pin(palette, rs->outline_rgb, max);
    }
    for (size_t i = 0; i < rs->vector_count; i++) {
        rc_palette_pin(palette, rs->vectors[i].color, max);
    }
    free(c.rgb);
    free(c.weight);
}
