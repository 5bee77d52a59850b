/*
 * legend: GET /v1/legend's answer — the colorbar (or a categorical raster's
 * legend) that the same query's clip would draw, alone, as PNG or SVG, with the
 * range worked out from the data as the clip's is. Internal to pipeline/; the
 * worker's thread.
 */
#ifndef RC_PIPELINE_LEGEND_H
#define RC_PIPELINE_LEGEND_H

#include "base/buf.h"
#include "job/job.h"
#include "overlay/text.h"
#include "pipeline/plan.h"

/* Appends the legend of the job planned as `plan` in spec->answer's format. */
enum rc_err rc_legend_make(const struct rc_job_spec *spec, const struct rc_plan *plan,
                           struct rc_text *text, struct rc_buf *out, struct rc_error *err);

#endif
