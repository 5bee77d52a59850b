#include "job/timeline.h"

#include <stdint.h>

/* Without output.frames/duration: a stack plays frames_per_band (default 10)
 * frames per band; a single band makes a 4-second clip. */
enum { DEFAULT_FRAMES_PER_BAND = 10, SINGLE_BAND_SECONDS = 4 };

enum rc_err rc_timeline_init(struct rc_timeline *timeline, const struct rc_job_spec *spec,
                             const struct rc_config *cfg, size_t band_count, struct rc_error *err)
{
    size_t frames = spec->frames;
    if (frames == 0 && band_count <= 1 && !spec->frames_per_band) {
        frames = (size_t)spec->fps * SINGLE_BAND_SECONDS;
    } else if (frames == 0) {
        size_t per = spec->frames_per_band ? spec->frames_per_band : DEFAULT_FRAMES_PER_BAND;
        frames = band_count > SIZE_MAX / per ? SIZE_MAX : band_count * per;
    }
    if (frames > (size_t)cfg->max_frames) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "timeline.frames_per_band",
                            "the bands make %zu frames; at most %ld (max_frames)", frames,
                            cfg->max_frames);
    }
    *timeline = (struct rc_timeline){.frames = frames,
                                     .band_count = band_count,
                                     .frames_per_band = spec->frames_per_band,
                                     .blend = spec->blend,
                                     .fps = spec->fps,
                                     .camera = &spec->camera};
    return RC_OK;
}

/* Position along the stack, in bands: frames_per_band frames per band when given,
 * otherwise the bands spread evenly over the clip. */
static void bands_at(const struct rc_timeline *t, size_t index, struct rc_timeline_frame *out)
{
    out->band_a = out->band_b = 0;
    out->blend = 0;
    if (t->band_count <= 1 || t->frames == 0) {
        return;
    }
    double pos;
    if (t->frames_per_band) {
        pos = (double)index / (double)t->frames_per_band;
    } else if (t->blend) {
        pos = t->frames > 1 ? (double)index * (double)(t->band_count - 1) / (double)(t->frames - 1)
                            : 0.0;
    } else {
        pos = (double)index * (double)t->band_count / (double)t->frames;
    }
    double last = (double)(t->band_count - 1);
    if (pos > last) {
        pos = last;
    }
    out->band_a = (size_t)pos;
    if (t->blend && out->band_a < t->band_count - 1) {
        out->band_b = out->band_a + 1;
        out->blend = (float)(pos - (double)out->band_a);
    } else {
        out->band_b = out->band_a;
    }
}

void rc_timeline_at(const struct rc_timeline *timeline, size_t index, struct rc_timeline_frame *out)
{
    bands_at(timeline, index, out);
    rc_camera_pose_at(timeline->camera, index, timeline->frames, timeline->fps, &out->pose);
}
