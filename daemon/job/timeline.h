/*
 * timeline: the clip's length and what each frame shows — which bands (and how
 * far between them), and the camera's pose — from the job's timeline, camera and
 * output, once the raster's band count is known.
 *
 * rc_timeline_init() reads the spec (it never writes it); the timeline keeps a
 * pointer to the spec's camera path, so the spec must outlive it. Pure data; any
 * thread.
 */
#ifndef RC_TIMELINE_H
#define RC_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/camera.h"
#include "base/config.h"
#include "base/error.h"
#include "job/job.h"

struct rc_timeline {
    size_t frames;            /* the clip's length */
    size_t band_count;        /* bands loaded, in the job's order */
    unsigned frames_per_band; /* 0: the bands spread over the clip */
    bool blend;
    unsigned fps;
    const struct rc_camera_path *camera;
};

struct rc_timeline_frame {
    size_t band_a, band_b; /* 0-based positions among the loaded bands */
    float blend;           /* weight of band_b */
    struct rc_camera_pose pose;
};

/* The clip's length: output.frames or duration x fps when given, else
 * frames_per_band (default 10) per band, or 4 seconds for a single band; more
 * than max_frames is RC_ERR_IMPOSSIBLE naming the field. */
enum rc_err rc_timeline_init(struct rc_timeline *timeline, const struct rc_job_spec *spec,
                             const struct rc_config *cfg, size_t band_count, struct rc_error *err);

/* What frame `index` (< frames) shows. */
void rc_timeline_at(const struct rc_timeline *timeline, size_t index,
                    struct rc_timeline_frame *out);

#endif
