/*
 * job: a render job, from its JSON text to the object the pipeline shares.
 *
 * rc_job_spec_parse() turns a request body into a validated `struct rc_job_spec`
 * (every field of wire contract v1, unknown fields refused by name). The spec is
 * plain data owned by its caller; rc_job_spec_finish() frees what it holds.
 *
 * `struct rc_job` is one running job, shared by the HTTP connection that asked for
 * it and the worker that renders it, so it is reference-counted: rc_job_create()
 * returns one reference, rc_job_ref()/rc_job_unref() add and drop one, and the
 * last unref frees it with its spec and byte queue. `cancel` may be set by any
 * thread; the worker checks it once a frame.
 */
#ifndef RC_JOB_H
#define RC_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/bytequeue.h"
#include "base/camera.h"
#include "base/colormap.h"
#include "base/config.h"
#include "base/error.h"
#include "base/place.h"
#include "base/slice.h"

enum rc_mode {
    RC_MODE_IMAGE,
    RC_MODE_SURFACE,
    RC_MODE_MAP, /* straight down, the raster filling the frame: a web map's overlay */
};

/* How a raster's cells are shaped on screen (style.aspect). */
enum rc_aspect {
    RC_ASPECT_AUTO,   /* "data" with a geotransform, else "square" */
    RC_ASPECT_DATA,   /* as wide and tall as the ground (degrees as plate carree) */
    RC_ASPECT_SQUARE, /* one cell one unit, as mayavi's imshow draws an array */
};

enum rc_speed {
    RC_SPEED_REALTIME,
    RC_SPEED_GOOD,
};

/* style.detail's largest value: cells along the longer side of the surface mesh. */
#define RC_JOB_MAX_DETAIL 8192

/* output.format: the clip's container and codec. */
enum rc_format {
    RC_FORMAT_WEBM, /* VP9 (with an alpha plane on a transparent background) */
    RC_FORMAT_MP4,  /* H.264 in fragmented MP4 */
    RC_FORMAT_GIF,  /* animated GIF, one global palette */
};

/* output.dither (GIF only): how colours between palette entries are drawn. */
enum rc_job_dither {
    RC_JOB_DITHER_AUTO, /* ordered where the palette cannot be exact (lit surfaces), else none */
    RC_JOB_DITHER_ORDERED,
    RC_JOB_DITHER_DIFFUSION,
    RC_JOB_DITHER_NONE,
};

/* What a job answers with: its clip, or (GET /v1/legend) its colorbar alone as
 * an image, or (GET /v1/vectors) its vector layers as GeoJSON. */
enum rc_answer {
    RC_ANSWER_CLIP,
    RC_ANSWER_LEGEND_PNG,
    RC_ANSWER_LEGEND_SVG,
    RC_ANSWER_VECTORS,
};

/* The Content-Type of a clip, and the format's name in a job. */
const char *rc_format_content_type(enum rc_format format);
const char *rc_format_name(enum rc_format format);

/* style.vectors: at most this many layers. */
#define RC_JOB_MAX_VECTORS 8

/* One vector layer (style.vectors[i]) drawn over the raster. */
struct rc_job_vector {
    char *source;     /* owned (rc_job_spec_finish()): a path under the data root, or a URL
                         under the URL policy; NULL: uploaded with the job, as its multipart
                         part vector<i> */
    uint8_t color[4]; /* lines and polygon edges */
    double width;     /* line width in output pixels where the raster fills the scene */
    bool filled;
    uint8_t fill[4]; /* polygons' inside, when filled */
    double opacity;  /* of the whole layer */
};

struct rc_job_spec {
    /* raster */
    char url[4096];
    unsigned *bands; /* 1-based band numbers; NULL with band_count 0 means all */
    size_t band_count;
    bool has_nodata;
    double nodata;
    bool rescale_auto;     /* 2nd..98th percentile of the valid values */
    bool rescale_per_band; /* each band over its own valid min..max */
    bool has_rescale;
    double rescale_min, rescale_max;
    char resampling[16];   /* how rasters are downsampled: nearest (default), bilinear, ... */
    char height_url[4096]; /* raster.height: heights from another raster; empty: none */
    bool raster_upload;    /* the raster came with the request (struct rc_job.uploads) */
    bool heights_upload;   /* ... and so did the heights */
    unsigned height_band;
    struct rc_slice slice; /* what to take of a datacube */
    struct rc_place place; /* output.crs and output.bbox: the raster warped there */
    /* style */
    enum rc_mode mode;
    enum rc_aspect aspect;
    bool linear; /* style.interpolation "linear": colours blend between cells */
    struct rc_colormap colormap;
    bool colormap_sets_range; /* colours given in data values: normalise over cmap_vmin..max */
    double cmap_vmin, cmap_vmax;
    uint8_t nan_color[4];
    uint8_t background[4]; /* alpha 0 ("transparent") or 255 */
    bool background_given;
    double exaggeration;
    unsigned detail; /* surface mesh cells along the longer side; 0: auto */
    bool lighting;
    /* style.lighting as an object: one light fixed to the ground; else the light kit */
    bool light_custom;
    double light_azimuth, light_elevation, light_ambient, light_diffuse, light_specular,
        light_shininess;
    bool colorbar;
    char colorbar_label[128];   /* UTF-8; empty: none */
    bool colorbar_label_given;  /* else the values' units, when the data has them */
    bool title_given;           /* else the variable's long name, when the data has one */
    bool colormap_given;        /* else a colour table the raster has */
    bool colorbar_horizontal;   /* along the bottom; else beside the scene */
    unsigned colorbar_ticks;    /* tick intervals wanted; 0: about four */
    char colorbar_format[32];   /* printf-like for one double ("%.1f km"); empty: auto */
    unsigned title_size;        /* pixels; 0: from the output's height */
    bool outline;               /* the raster's bounding box as lines (mlab.outline) */
    bool axes;                  /* axes with ticks in the raster's coordinates (mlab.axes) */
    bool show_band_labels;      /* each frame's band label, below the scene */
    char (*band_labels)[48];    /* owned: given labels, one per chosen band; NULL: the file's */
    char band_label_format[32]; /* strftime form for bands with instants; "": the data's */
    size_t band_label_count;
    bool text_colored; /* style.text_color given; else the ink that suits the background */
    uint8_t text_rgb[4];
    bool outline_colored; /* outline_rgb given; else the ink that suits the background */
    uint8_t outline_rgb[4];
    char title[256]; /* UTF-8; empty: none */
    struct rc_job_vector vectors[RC_JOB_MAX_VECTORS];
    size_t vector_count;
    double graticule_step;          /* style.graticule.step in degrees; 0: no graticule */
    struct rc_job_vector graticule; /* its colour, width and opacity (no source) */
    /* camera */
    struct rc_camera_path camera;
    /* timeline */
    unsigned frames_per_band; /* 0: not given */
    bool blend;
    /* output */
    unsigned width, height, fps;
    size_t frames; /* from output.frames or duration; 0: from the bands (job/timeline.h) */
    enum rc_speed speed;
    unsigned bitrate_kbps; /* 0 with crf >= 0: constant quality */
    int crf;               /* -1: bitrate mode */
    unsigned keyframe_interval;
    enum rc_format format;
    enum rc_job_dither dither;
    bool seekable;         /* a finished file (Cues; moov first) instead of a stream; not in the
                            * canonical text: a cached clip is always the finished file */
    enum rc_answer answer; /* the clip, or what stands beside it (never cached) */
};

/* The Content-Type of the job's answer. */
const char *rc_job_content_type(const struct rc_job_spec *spec);

/* The job as one canonical text (job/canonical.c): every field above but
 * `seekable`, defaults filled in, so one job reads alike whichever form it came in.
 * A field added to the spec is added there. */
enum rc_err rc_job_spec_canonical(const struct rc_job_spec *spec, struct rc_buf *out);

/* Parses and validates a JSON job. On failure `err` names the field. */
enum rc_err rc_job_spec_parse(struct rc_job_spec *spec, const struct rc_config *cfg,
                              const char *text, size_t len, struct rc_error *err);
/* The same for a job whose raster (and heights) came with the request: raster.url
 * (raster.height.url) must then be absent. */
enum rc_err rc_job_spec_parse_uploads(struct rc_job_spec *spec, const struct rc_config *cfg,
                                      const char *text, size_t len, bool raster_upload,
                                      bool heights_upload, struct rc_error *err);
/* The same from a parsed JSON object (the GET form's, built from its query). */
struct json_t;
enum rc_err rc_job_spec_from_json(struct rc_job_spec *spec, const struct rc_config *cfg,
                                  const struct json_t *root, bool raster_upload,
                                  bool heights_upload, struct rc_error *err);
void rc_job_spec_finish(struct rc_job_spec *spec);

enum rc_job_state {
    RC_JOB_QUEUED,
    RC_JOB_STREAMING, /* raster loaded; bytes flow */
    RC_JOB_FAILED,    /* failed before the first byte: `error` says why */
    RC_JOB_FINISHED,  /* a finished clip to send whole: `clip_fd` */
};

/* Where a job's time goes, per stage (the worker's measurements). */
enum rc_job_stage {
    RC_STAGE_LOAD,
    RC_STAGE_RENDER,
    RC_STAGE_READBACK,
    RC_STAGE_CONVERT,
    RC_STAGE_ENCODE,
    RC_STAGE_MUX,
    RC_STAGE_COUNT
};
extern const char *const rc_job_stage_names[RC_STAGE_COUNT];

/* What a job is doing, for GET /v1/jobs/{id}. */
enum rc_job_phase {
    RC_PHASE_QUEUED,
    RC_PHASE_RUNNING,
    RC_PHASE_DONE,
    RC_PHASE_FAILED,
    RC_PHASE_CANCELLED,
};
const char *rc_job_phase_name(enum rc_job_phase phase);

/* Written by the worker (and bytes_sent by HTTP) as the job goes, read by any
 * thread: each field on its own, so a reader may see one frame's skew. Its own
 * small object, reference-counted, so it can be read after the job is freed. */
struct rc_job_progress {
    atomic_int refs;
    char id[24];
    enum rc_format format;
    atomic_int phase;           /* enum rc_job_phase */
    atomic_size_t frames_total; /* once planned */
    atomic_size_t frames_done;  /* encoded */
    atomic_uint_fast64_t stage_us[RC_STAGE_COUNT];
    atomic_uint_fast64_t bytes_sent;           /* body bytes handed to the connection */
    atomic_uint_fast64_t started_us, ended_us; /* rc_clock_ms() x 1000; 0: not yet */
    atomic_bool cached;                        /* answered from the clip cache */
    atomic_bool has_bounds;                    /* `bounds` is written (once, before this) */
    struct rc_bounds bounds;
};

struct rc_job;
typedef void (*rc_job_ready_fn)(struct rc_job *job, void *ctx);

/* Bytes that came with the request; owned by the job, freed with it. */
struct rc_upload {
    uint8_t *data;
    size_t len;
};

struct rc_job {
    atomic_int refs;
    atomic_bool cancel;
    char id[24];
    struct rc_job_spec spec;                      /* owned; read-only once queued */
    struct rc_bytequeue *out;                     /* owned; encoder writes, HTTP reads */
    struct rc_upload raster, heights;             /* owned; set before queueing, read-only after */
    struct rc_upload vectors[RC_JOB_MAX_VECTORS]; /* ... each layer's without a source */
    /* Written by the worker before it calls on_ready, read by HTTP after. */
    enum rc_job_state state;
    struct rc_error error;
    size_t frames;           /* the clip's length, once streaming */
    struct rc_bounds bounds; /* where it lies, once streaming (or answered from the cache):
                                set by rc_job_set_bounds() */
    /* RC_JOB_FINISHED: the whole clip, its strong ETag ("" when the job has no
     * stable identity); HTTP takes the descriptor (-1 once taken). */
    int clip_fd;
    uint64_t clip_size;
    char etag[72];
    struct rc_job_progress *progress; /* one reference */
    rc_job_ready_fn on_ready;         /* set before queueing; called once, from the worker */
    void *on_ready_ctx;
};

/* The clip's bounds, in the job and its progress; once, by the job's worker (or
 * the clip cache's early answer), before the job is ready. */
void rc_job_set_bounds(struct rc_job *job, const struct rc_bounds *bounds);

/* Takes `spec` (its contents move into the job; the caller's copy is cleared). */
struct rc_job *rc_job_create(struct rc_job_spec *spec, size_t byte_queue_bytes);
void rc_job_ref(struct rc_job *job);
void rc_job_unref(struct rc_job *job);
void rc_job_progress_ref(struct rc_job_progress *progress);
void rc_job_progress_unref(struct rc_job_progress *progress);
/* Frees the uploads (the worker, once they are decoded; the last unref otherwise). */
void rc_job_drop_uploads(struct rc_job *job);

#endif
