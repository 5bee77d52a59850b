#include "pipeline/plan.h"

#include <math.h>

#include "raster/range.h"

/* At the default camera the raster spans about half the output's height, so a
 * grid as long as the output's longer side already oversamples the screen about
 * twice; more detail costs texture bandwidth every frame and shows nowhere. Larger
 * rasters are read downsampled (GDAL uses overviews when the file has them). */
void rc_plan_raster_request(const struct rc_job_spec *spec, unsigned max_texture,
                            struct rc_raster_request *out)
{
    unsigned cap = spec->width > spec->height ? spec->width : spec->height;
    *out = (struct rc_raster_request){.url = spec->url,
                                      .bands = spec->bands,
                                      .band_count = spec->band_count,
                                      .nodata = spec->has_nodata ? &spec->nodata : NULL,
                                      .resampling = spec->resampling,
                                      .max_dim = cap < max_texture ? cap : max_texture,
                                      .field = "raster.url",
                                      .bands_field = "raster.bands"};
}

bool rc_plan_height_request(const struct rc_job_spec *spec, struct rc_raster_request *out)
{
    *out = (struct rc_raster_request){.url = spec->height_url,
                                      .bands = &spec->height_band,
                                      .band_count = 1,
                                      .resampling = spec->resampling,
                                      .field = "raster.height.url",
                                      .bands_field = "raster.height.band"};
    return spec->height_url[0] != '\0';
}

/* The value range the colormap spans: colours given for data values set it
 * themselves; else the job's rescale, its 2..98 percentile ("auto"), or the valid
 * minimum..maximum of every chosen band. */
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

enum rc_err rc_plan_make(const struct rc_job_spec *spec, const struct rc_config *cfg,
                         const struct rc_raster *values, bool gpu_convert, struct rc_plan *plan,
                         struct rc_error *err)
{
    *plan = (struct rc_plan){0};
    enum rc_err rc = rc_timeline_init(&plan->timeline, spec, cfg, values->band_count, err);
    if (rc != RC_OK) {
        return rc;
    }
    value_range(spec, values, &plan->vmin, &plan->vmax);
    bool surface = spec->mode == RC_MODE_SURFACE;
    unsigned out_long = spec->width > spec->height ? spec->width : spec->height;

    plan->overlay = (struct rc_overlay_settings){.width = spec->width,
                                                 .height = spec->height,
                                                 .colorbar = spec->colorbar,
                                                 .colorbar_label = spec->colorbar_label,
                                                 .title = spec->title,
                                                 .colormap = &spec->colormap,
                                                 .vmin = plan->vmin,
                                                 .vmax = plan->vmax};
    for (int c = 0; c < 4; c++) {
        plan->overlay.background[c] = spec->background[c];
    }
    plan->has_overlay = rc_overlay_wanted(&plan->overlay);

    struct rc_render_settings *r = &plan->render;
    *r = (struct rc_render_settings){
        .width = spec->width,
        .height = spec->height,
        .surface = surface,
        .lighting = spec->lighting,
        .height_scale = RC_PLAN_SURFACE_RELIEF * spec->exaggeration,
        .mesh_cells = surface ? out_long / RC_PLAN_SURFACE_PIXELS_PER_CELL : 1,
        .colormap = &spec->colormap,
        .values = values,
        .vmin = plan->vmin,
        .vmax = plan->vmax,
        .gpu_convert = gpu_convert,
    };
    for (int c = 0; c < 4; c++) {
        r->background[c] = spec->background[c];
        r->nan_color[c] = spec->nan_color[c];
    }

    plan->encode = (struct rc_encode_settings){.width = spec->width,
                                               .height = spec->height,
                                               .fps = spec->fps,
                                               .realtime = spec->speed == RC_SPEED_REALTIME,
                                               .bitrate_kbps = spec->bitrate_kbps,
                                               .crf = spec->crf,
                                               .keyframe_interval = spec->keyframe_interval};
    plan->mux = (struct rc_mux_settings){.width = spec->width,
                                         .height = spec->height,
                                         .fps = spec->fps,
                                         .frames = plan->timeline.frames,
                                         .writing_app = "rasterclip " RC_VERSION};
    return RC_OK;
}

void rc_plan_frame(const struct rc_plan *plan, size_t index, struct rc_render_frame *out)
{
    struct rc_timeline_frame t;
    rc_timeline_at(&plan->timeline, index, &t);
    *out = (struct rc_render_frame){
        .index = index, .pose = t.pose, .band_a = t.band_a, .band_b = t.band_b, .blend = t.blend};
}
