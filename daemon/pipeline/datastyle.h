/*
 * datastyle: what the data itself says about its picture, used where the job is
 * silent — a colour table as the colormap, class names as a legend in place of
 * the bar, the values' units as the bar's label, the variable's long name as the
 * title, and the bands' instants as labels in the job's strftime format.
 * Internal to pipeline/plan.c; the worker's thread.
 */
#ifndef RC_PIPELINE_DATASTYLE_H
#define RC_PIPELINE_DATASTYLE_H

#include "base/error.h"
#include "job/job.h"
#include "pipeline/plan.h"
#include "raster/raster.h"

/* Sets plan->palette (and *colormap to it, with plan->vmin and vmax its range),
 * plan->legend and the overlay's label, title, legend and band labels. */
enum rc_err rc_datastyle_apply(const struct rc_job_spec *spec, const struct rc_raster *values,
                               struct rc_plan *plan, const struct rc_colormap **colormap,
                               struct rc_error *err);

#endif
