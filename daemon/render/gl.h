/*
 * gl: EGL and GL ES plumbing shared by render/'s files — the displays opened at
 * start-up (struct rc_gpu), a worker's surfaceless context, program linking with
 * its info log, and KHR_debug routed to the log. Not for use outside render/.
 */
#ifndef RC_GL_H
#define RC_GL_H

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl3.h>

/* After gl3.h, which it extends (KHR_debug entry points). */
#include <GLES2/gl2ext.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "render/render.h"

struct rc_gpu_display {
    EGLDisplay display;
    struct rc_gpu_info info;
    bool no_config_context;
};

struct rc_gpu {
    struct rc_gpu_display displays[RC_GPU_MAX_DEVICES];
    size_t count;
};

struct slot {
    GLuint pbo;
    GLsync fence;
    size_t index;
};

/* The texture unit of a band's colours worked out once (render/baked.c); the
 * scene's samplers use 0-4. */
enum { RC_BAKED_UNIT = 5 };

struct scene_program {
    GLuint program;
    GLint u_view_projection, u_extent, u_values, u_lut, u_lut_size, u_band_a, u_band_b, u_blend,
        u_background, u_nodata_rgb, u_surface, u_height_scale, u_light_dirs, u_light_power,
        u_ambient, u_diffuse, u_specular, u_shininess, u_eye, u_normals, u_heights, u_has_heights,
        u_normal_a, u_normal_b, u_transparent, u_nodata_rgba, u_linear, u_raw;
};

/* One job's GL objects, in pieces; each piece is made and freed by one file. */

/* The scene's layers (render/layers.c): the values, colours, normals and
 * heights textures, the grid, and how the job draws them. */
struct rc_layers {
    struct scene_program *prog; /* the job's */
    bool surface;
    struct rc_light_settings lighting;
    float height_scale; /* world units of the full value range */
    size_t band_count;
    unsigned values_w, values_h; /* the values texture's size */
    GLuint values_tex, lut_tex, normals_tex, heights_tex;
    bool has_heights;
    GLuint vao, vbo, ibo; /* the job's grid */
    GLsizei index_count;
    unsigned mesh_cols, mesh_rows; /* the job's grid of cells */
    double mesh_ms;                /* spent refining the mesh (0: a uniform grid) */
    bool mesh_kept;                /* its error tree was kept from an earlier job */
    float extent[2];
    bool linear; /* colours blended between cell centres */
    bool map;    /* orthographic, the extent filling the scene (style.mode "map") */
};

/* The overlay (render/render.c): its canvas texture, the panels drawn from it,
 * owned copies of its band pages and the page each shows now. */
struct rc_panels {
    GLuint overlay_tex;
    struct rc_band_pages pages[2];
    size_t page_shown[2];
    struct rc_rect scene;
    struct rc_rect panels[RC_OVERLAY_MAX_PANELS];
    size_t panel_count;
};

/* Image mode's band coloured once (render/baked.c): an RGBA8 texture of one band
 * at the raster's size. */
struct rc_baked {
    GLuint baked_tex, baked_fbo;
    size_t baked_band;   /* the band baked_tex holds; SIZE_MAX: none yet */
    size_t baked_frames; /* frames drawn from it this job */
    bool baked_off;      /* the driver could not make the target: colour per pixel */
};

/* The outline and axes (render/lines.c). */
struct rc_lines {
    GLuint outline_vao, outline_vbo;       /* 0: none */
    GLsizei outline_vertices;              /* the box's, first in the buffer */
    GLint axis_first[3], axis_vertices[3]; /* then each axis's edge and ticks */
    GLuint axes_tex;                       /* the axes' label atlas; 0: none */
    struct rc_axes axes; /* the labels and their atlas's size (its pixels: in axes_tex) */
    float outline_rgb[3];
};

/* The vector layers' texture over the grid (render/vectors.c). */
struct rc_drape {
    GLuint tex;            /* premultiplied RGBA8 with mipmaps; 0: no layers */
    GLuint labels_tex;     /* the graticule's label atlas; 0: none */
    struct rc_axes labels; /* where they go (their atlas's pixels: in labels_tex) */
};

/* The output framebuffer, the I420 target and the readback ring (render/target.c). */
struct rc_target {
    GLuint fbo, color_tex, depth_rb;
    bool i420;               /* frames leave as I420, converted on the GPU */
    GLuint yuv_fbo, yuv_tex; /* width/4 x 3*height/2 RGBA8: the I420 bytes */
    size_t frame_bytes;
    unsigned width, height;
    struct slot ring[RC_RENDER_RING];
    size_t ring_size; /* slots this job uses: RC_RENDER_RING on hardware, else 1 */
    size_t drawn;     /* frames drawn this job */
    size_t read;      /* frames read this job */
};

struct rc_render_job {
    struct rc_layers layers;
    struct rc_panels panels;
    struct rc_baked baked;
    struct rc_lines lines;
    struct rc_drape drape;
    struct rc_target target;
};

/* A worker's renderer: what lives as long as its context (the context, the
 * programs and their uniforms, the overlay quad), and the job it draws now. */
struct rc_render {
    struct rc_gpu *gpu;
    struct rc_gpu_display *display; /* the EGL display this worker uses */
    EGLContext context;
    pthread_t owner;
    char renderer[256];
    char version[256];
    GLint max_texture;
    GLuint overlay_program;
    GLint o_rect, o_canvas, o_canvas_tex, o_shift, o_tex;
    GLuint yuv_program; /* overlay.vert + yuv.frag */
    GLint y_rect, y_canvas, y_scene, y_width, y_height;
    GLuint quad_vao, quad_vbo;
    /* The scene's programs: surfaces lit by the light kit, by one light, and
     * everything else (a lighting branch left in costs llvmpipe twice the fragment
     * time even when not taken). */
    struct scene_program plain, lit, kit;
    struct scene_program kit_baked; /* the kit's, colours from render/baked.c */
    /* Image mode's program (render/baked.c): scene.vert with coloured.frag. */
    GLuint baked_program;
    GLint k_view_projection, k_extent, k_surface, k_height_scale, k_has_heights, k_band_a, k_band_b;
    GLuint line_program; /* line.vert + line.frag: the outline */
    GLint l_view_projection, l_color;
    GLuint vector_program; /* vector.vert + vector.frag: layers into their texture */
    GLint v_grid, v_color;
    GLuint drape_program; /* scene.vert + drape.frag: that texture over the scene */
    GLint d_view_projection, d_band_a, d_band_b, d_blend, d_extent, d_surface, d_height_scale,
        d_has_heights;
    struct rc_render_job job; /* between rc_render_begin() and rc_render_end() */
};

/* A label atlas (premultiplied RGBA8, nearest) into the texture `tex`, made by
 * the caller (who deletes it), bound on unit 3 afterwards. */
static inline void rc_gl_atlas_upload(GLuint tex, const struct rc_canvas *atlas)
{
    glActiveTexture(GL_TEXTURE3);
    glBindTexture(GL_TEXTURE_2D, tex);
    glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA8, atlas->width, atlas->height);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, atlas->width, atlas->height, GL_RGBA, GL_UNSIGNED_BYTE,
                    atlas->rgba);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
}

/* Readies the overlay program (render/render.c) to draw rectangles of `tex`
 * over the whole frame, premultiplied: an atlas's (its size from `atlas`) or,
 * with NULL, the overlay canvas's, which has the frame's size. */
void rc_render_overlay_pass(struct rc_render *r, GLuint tex, const struct rc_canvas *atlas);

/* Exact token match in a space-separated extension list. */
bool rc_gl_has_ext(const char *list, const char *name);
/* A GLES 3.0 context on `display`, made current on the calling thread. */
enum rc_err rc_gl_context_create(const struct rc_gpu_display *display, EGLContext *out,
                                 struct rc_error *err);
/* Routes GL_KHR_debug messages to the log, when the context offers it. */
void rc_gl_enable_debug(void);
/* Compiles and links; 0 with `err` set (and the info log in the log) on failure. */
GLuint rc_gl_program(const char *name, const char *vs_src, const char *fs_src,
                     struct rc_error *err);

/* The scene's programs (render/scene.c): r->plain, r->lit (one light, with the
 * specular term), r->kit (VTK's light kit) and r->kit_baked (the kit over colours
 * from render/baked.c), each with its uniforms' locations; and a frame's lights
 * for program `p`, from the camera's pose and eye. */
enum rc_err rc_scene_programs_create(struct rc_render *r, struct rc_error *err);
void rc_scene_set_lights(struct rc_render *r, const struct scene_program *p,
                         const struct rc_camera_pose *pose, const double eye[3]);

/* A band's colours worked out once (render/baked.c). The program is made with the
 * context; rc_baked_draw() draws the scene for a frame showing one band (band_a ==
 * band_b) from that band's final colours, colouring them first when the texture
 * holds another, and returns false, drawing nothing, for any other frame (between
 * two bands, or a surface whose light moves); `indices` as for glDrawElements.
 * rc_baked_lit() gives the program that draws such a frame of a surface under the
 * light kit: r->kit_baked, its band's unlit colours made ready, or else the job's.
 * rc_baked_release() frees what the job made. */
enum rc_err rc_baked_program_create(struct rc_render *r, struct rc_error *err);
bool rc_baked_draw(struct rc_render *r, size_t band_a, size_t band_b, const float m[16],
                   const void *indices);
struct scene_program *rc_baked_lit(struct rc_render *r, size_t band_a, size_t band_b);
void rc_baked_release(struct rc_render *r);

/* The job's output framebuffer (a texture, so it can be converted), the I420
 * target when the size allows packing four bytes a texel, and the readback ring
 * (render/target.c). */
enum rc_err rc_target_create(struct rc_render *r, unsigned w, unsigned h, bool gpu_convert,
                             struct rc_error *err);
/* After a frame is drawn into the framebuffer: converts it on the GPU when asked,
 * then queues its asynchronous readback into the next ring slot. */
void rc_target_read_back(struct rc_render *r, size_t index);
/* Frees what rc_target_create() made (what the ring still holds included). */
void rc_target_destroy(struct rc_render *r);

/* The job's layers (render/layers.c): the bands normalised into textures (with
 * normals for a lit surface, heights from a second raster), the colour table,
 * and the grid, as `in` asks; rc_layers_destroy() frees them. */
enum rc_err rc_layers_create(struct rc_render *r, const struct rc_render_settings *in,
                             struct rc_error *err);
void rc_layers_destroy(struct rc_render *r);

/* The job's outline and axes (render/lines.c): rc_lines_make() builds their line
 * segments (after rc_lines_upload_labels(), whose ticks it draws), rc_lines_draw()
 * and rc_lines_draw_labels() draw them for a frame's flipped view-projection `m`
 * seen from `eye`, rc_lines_release() frees what the job made. */
void rc_lines_make(struct rc_render *r, float top, const uint8_t rgb[3], bool outline,
                   const struct rc_axes *axes);
void rc_lines_upload_labels(struct rc_render *r, const struct rc_axes *axes);
void rc_lines_draw(struct rc_render *r, const float m[16], const double eye[3]);
void rc_lines_draw_labels(struct rc_render *r, const float m[16], const double eye[3]);
void rc_lines_release(struct rc_render *r);
/* The job's vector layers (render/vectors.c): the programs made with the
 * context; rc_vectors_make() draws the layers into their texture once a job
 * (after the overlay: line widths follow the scene's size), rc_vectors_drape()
 * lays it over the frame's scene just drawn (the same view-projection, bands and
 * `indices`), rc_vectors_release() frees what the job made. */
enum rc_err rc_vectors_program_create(struct rc_render *r, struct rc_error *err);
enum rc_err rc_vectors_make(struct rc_render *r, const struct rc_render_settings *in,
                            struct rc_error *err);
void rc_vectors_drape(struct rc_render *r, const float m[16], size_t band_a, size_t band_b,
                      float blend, const void *indices);
/* The graticule's labels: their atlas uploaded once a job, then drawn each frame
 * inside the raster's edge where the frame's `m` puts each line's end. */
void rc_vectors_upload_labels(struct rc_render *r, const struct rc_axes *labels);
void rc_vectors_draw_labels(struct rc_render *r, const float m[16]);
void rc_vectors_release(struct rc_render *r);
void rc_render_assert_current(const struct rc_render *r);

#endif
