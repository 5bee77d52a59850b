/*
 * render: everything that touches EGL and OpenGL ES.
 *
 * `struct rc_gpu` holds the EGL displays, opened once on the main thread at
 * start-up: every hardware EGL device (EGL_EXT_platform_device), or one pinned by
 * --device, otherwise Mesa's surfaceless platform (llvmpipe on a CPU-only host).
 * It must outlive every renderer made from it.
 *
 * `struct rc_render` is one worker's GLES 3.0 context with its program, FBO and a
 * ring of pixel-pack buffers. rc_render_create() makes the context current on the
 * calling thread, and every other rc_render_* call must come from that thread
 * (they assert it). Per job: rc_render_begin() uploads the bands and colormap,
 * rc_render_draw() draws a frame (and converts it to I420 on the GPU when the size
 * allows) and starts its asynchronous readback, rc_render_read() waits for the
 * oldest frame in flight and copies it out (top row first), rc_render_end()
 * releases the job's GL objects.
 */
#ifndef RC_RENDER_H
#define RC_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bands.h"
#include "base/camera.h"
#include "base/colormap.h"
#include "base/error.h"
#include "base/vectors.h"
#include "overlay/overlay.h"

struct rc_cache; /* base/cache.h */

/* Frames whose readback may be in flight at once on a GPU (draw n while n-2 is
 * mapped). A software renderer's readback waits for the drawing anyway, so there
 * one buffer does (rc_render_ring_size): a 720p job holds 7 MiB less. */
#define RC_RENDER_RING 3

struct rc_gpu;
struct rc_render;

struct rc_gpu_info {
    bool hardware;     /* EGL device platform on a non-software device */
    char platform[32]; /* "device" or "surfaceless" */
    char device[128];  /* EGL device's DRM path or driver name, when known */
};

#define RC_GPU_MAX_DEVICES 16

/* Opens every hardware EGL device (`device` < 0) or only hardware device number
 * `device`; without any, Mesa's surfaceless platform. */
enum rc_err rc_gpu_create(long device, struct rc_gpu **out, struct rc_error *err);
void rc_gpu_destroy(struct rc_gpu *gpu);
/* The first display's description, and how many displays there are. */
const struct rc_gpu_info *rc_gpu_info(const struct rc_gpu *gpu);
size_t rc_gpu_count(const struct rc_gpu *gpu);

/* Worker `slot` renders on display slot % rc_gpu_count(): workers spread over GPUs. */
enum rc_err rc_render_create(struct rc_gpu *gpu, size_t slot, struct rc_render **out,
                             struct rc_error *err);
void rc_render_destroy(struct rc_render *render);

/* GL_RENDERER, GL_VERSION of the context. */
const char *rc_render_renderer(const struct rc_render *render);
const char *rc_render_version(const struct rc_render *render);
unsigned rc_render_max_texture_size(const struct rc_render *render);

/* How a surface is lit: Lambert diffuse and Blinn-Phong specular terms over an
 * ambient floor, from a light kit that follows the camera (key, fill, head and
 * two back lights, as VTK's vtkLightKit) or from one light fixed to the ground. */
struct rc_light_settings {
    bool enabled;
    bool kit;             /* else the single light below */
    double azimuth_deg;   /* where it comes from, clockwise from north */
    double elevation_deg; /* above the horizon */
    double ambient, diffuse, specular, shininess;
};

/* A vector layer as drawn: its lines and polygons on the values' grid. */
struct rc_render_vectors {
    const struct rc_vectors *geometry;
    uint8_t color[4];
    bool filled;
    uint8_t fill[4];
    double width; /* output pixels, where the raster fills the scene */
    float opacity;
};

/* What one job draws, made by the plan (pipeline/plan.h). Everything is copied
 * into GL objects by rc_render_begin(); nothing is kept. */
struct rc_render_settings {
    unsigned width, height;            /* the output */
    bool surface;                      /* a height field (mlab.surf); else a flat plane */
    struct rc_light_settings lighting; /* surface only */
    double height_scale;               /* world units the full value range rises */
    unsigned mesh_cells;               /* surface mesh cells along the raster's longer side */
    double mesh_error;       /* > 0: the mesh refined where the heights bend, to this error
                                (heights' units, 0..1 of the range); else a uniform grid */
    struct rc_cache *meshes; /* refined meshes' error trees kept between jobs
                                (render/meshes.h); NULL: none kept */
    const struct rc_colormap *colormap; /* the lookup table */
    uint8_t background[4];
    uint8_t nan_color[4];          /* over the background where data is missing */
    const struct rc_bands *values; /* coloured, normalised over [vmin, vmax] */
    float extent[2];               /* its drawn width and height in world units */
    double vmin, vmax;
    bool per_band;                    /* each band over its own values->band_range instead */
    const struct rc_bands *heights;   /* surface heights; NULL: from the values */
    const struct rc_overlay *overlay; /* colorbar/title; NULL: none */
    bool gpu_convert;                 /* convert to I420 in a shader when the size allows */
    bool transparent;                 /* background alpha 0: frames keep an alpha channel */
    bool outline;                     /* the raster's bounding box (and relief), as lines */
    bool linear;                      /* colours blended between cell centres */
    bool map; /* straight down, orthographic: the raster's extent is the frame */
    uint8_t outline_rgb[3];
    const struct rc_render_vectors *vectors; /* drawn over the raster in this order */
    size_t vector_count;
};

/* One frame: the timeline's answer for frame `index` (pipeline/plan.h). */
struct rc_render_frame {
    size_t index;
    struct rc_camera_pose pose;
    size_t band_a, band_b; /* 0-based positions among the loaded bands */
    float blend;           /* weight of band_b; 0 shows band_a alone */
};

/* Prepares a job: textures, mesh, output framebuffer and readback ring. With an
 * overlay, the scene is drawn inside its scene rectangle only. */
enum rc_err rc_render_begin(struct rc_render *render, const struct rc_render_settings *settings,
                            struct rc_error *err);

/* Draws `frame` and queues its readback. At most rc_render_ring_size() frames may
 * be in flight: read one before drawing more. */
enum rc_err rc_render_draw(struct rc_render *render, const struct rc_render_frame *frame,
                           struct rc_error *err);

/* Frames drawn but not yet read, and how many may be (after rc_render_begin()). */
size_t rc_render_in_flight(const struct rc_render *render);
size_t rc_render_ring_size(const struct rc_render *render);

/* After rc_render_begin(): whether frames come out as I420 (converted on the GPU:
 * width % 8 == 0 and height % 4 == 0; Y, U, V planes back to back, strides width,
 * width/2, width/2) or as RGBA, and how many bytes each frame takes. */
bool rc_render_frames_are_i420(const struct rc_render *render);
size_t rc_render_frame_bytes(const struct rc_render *render);

/* Waits for the oldest frame in flight and hands its rc_render_frame_bytes() pixels
 * (top row first) to `take` while they are mapped; `take` must not keep the pointer.
 * *index receives the frame's number. */
typedef void (*rc_render_take)(void *ctx, const uint8_t *pixels);
enum rc_err rc_render_read(struct rc_render *render, rc_render_take take, void *ctx, size_t *index,
                           struct rc_error *err);

/* After rc_render_begin(): the mesh drawn — its grid in cells (1x1 in image
 * mode), the triangles a frame draws, the milliseconds spent refining it, and
 * whether its error tree was kept from an earlier job (only the triangles for
 * this job's bound were picked). */
struct rc_render_mesh_info {
    unsigned cols, rows;
    size_t triangles;
    double ms;
    bool kept;
};
void rc_render_mesh(const struct rc_render *render, struct rc_render_mesh_info *out);
/* Frames of this job drawn from a band's colours worked out once (image mode, one
 * band shown) rather than coloured pixel by pixel. */
size_t rc_render_baked_frames(const struct rc_render *render);

void rc_render_end(struct rc_render *render);

#endif
