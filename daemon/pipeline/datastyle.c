#include "pipeline/datastyle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The file's colour table over the classes present, unless the job chose a
 * colormap: each class its own entry, exactly the file's colour. */
static enum rc_err table_colormap(const struct rc_job_spec *spec, const struct rc_raster *values,
                                  struct rc_plan *plan, const struct rc_colormap **colormap,
                                  struct rc_error *err)
{
    if (spec->colormap_given || !values->classes_coloured || !values->class_count) {
        return RC_OK;
    }
    if (spec->rescale_per_band || spec->has_rescale || spec->rescale_auto) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.rescale",
                            "the raster's colour table gives each class its colour: drop "
                            "rescale, or choose style.colormap");
    }
    struct rc_value_colour list[RC_RASTER_MAX_CLASSES];
    for (size_t i = 0; i < values->class_count; i++) {
        list[i].lo = values->classes[i].value;
        list[i].hi = values->classes[i].value + 1;
        memcpy(list[i].rgba, values->classes[i].rgba, 4);
    }
    enum rc_err rc = rc_colormap_from_values(&plan->palette, list, values->class_count, &plan->vmin,
                                             &plan->vmax, "raster", err);
    if (rc == RC_OK) {
        *colormap = &plan->palette;
    }
    return rc;
}

/* One swatch and name per class present, coloured as the scene colours it. */
static enum rc_err legend(const struct rc_job_spec *spec, const struct rc_raster *values,
                          const struct rc_colormap *colormap, struct rc_plan *plan,
                          struct rc_error *err)
{
    if (!values->classes_named || !spec->colorbar) {
        return RC_OK;
    }
    plan->legend = calloc(values->class_count, sizeof(*plan->legend));
    if (!plan->legend) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    double span = plan->vmax - plan->vmin;
    for (size_t i = 0; i < values->class_count; i++) {
        const struct rc_raster_class *c = &values->classes[i];
        double t = span > 0 ? (c->value - plan->vmin) / span : 0.5;
        memcpy(plan->legend[i].rgba, colormap->rgba[rc_colormap_index(colormap, t)], 4);
        if (c->name[0]) {
            snprintf(plan->legend[i].name, sizeof(plan->legend[i].name), "%s", c->name);
        } else {
            snprintf(plan->legend[i].name, sizeof(plan->legend[i].name), "%.0f", c->value);
        }
    }
    plan->overlay.legend = plan->legend;
    plan->overlay.legend_count = values->class_count;
    return RC_OK;
}

/* The bands' instants in the job's format. */
static enum rc_err time_labels(const struct rc_job_spec *spec, const struct rc_raster *values,
                               struct rc_plan *plan, struct rc_error *err)
{
    if (!spec->band_label_format[0]) {
        return RC_OK;
    }
    if (!values->times) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "style.band_label_format",
                            "the bands have no instants (a datacube's time axis or NetCDF's "
                            "time dimension) to format");
    }
    plan->time_labels = calloc(values->band_count, sizeof(*plan->time_labels));
    if (!plan->time_labels) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    if (!rc_raster_time_labels(values->times, values->band_count, spec->band_label_format,
                               plan->time_labels)) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "style.band_label_format",
                            "gives an empty or too long label (at most %d bytes)",
                            RC_RASTER_LABEL_MAX - 1);
    }
    if (spec->show_band_labels && !spec->band_labels) {
        plan->overlay.band_labels = (const char(*)[48])plan->time_labels;
    }
    return RC_OK;
}

enum rc_err rc_datastyle_apply(const struct rc_job_spec *spec, const struct rc_raster *values,
                               struct rc_plan *plan, const struct rc_colormap **colormap,
                               struct rc_error *err)
{
    enum rc_err rc = table_colormap(spec, values, plan, colormap, err);
    if (rc == RC_OK) {
        plan->overlay.colormap = *colormap;
        plan->overlay.vmin = plan->vmin;
        plan->overlay.vmax = plan->vmax;
        if (!spec->colorbar_label_given && values->units[0]) {
            plan->overlay.colorbar_label = values->units;
        }
        if (!spec->title_given && values->long_name[0] && spec->mode != RC_MODE_MAP) {
            plan->overlay.title = values->long_name;
        }
        rc = legend(spec, values, *colormap, plan, err);
    }
    return rc ? rc : time_labels(spec, values, plan, err);
}
