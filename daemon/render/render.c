#include "render/render.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "render/gl.h"
#include "render/terrain.h"

void rc_render_assert_current(const struct rc_render *r)
{
    assert(pthread_equal(pthread_self(), r->owner));
    assert(eglGetCurrentContext() == r->context);
    (void)r;
}

enum rc_err rc_render_create(struct rc_gpu *gpu, size_t slot, struct rc_render **out,
                             struct rc_error *err)
{
    *out = NULL;
    struct rc_render *r = calloc(1, sizeof(*r));
    if (!r) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    r->gpu = gpu;
    r->display = &gpu->displays[slot % gpu->count];
    enum rc_err rc = rc_gl_context_create(r->display, &r->context, err);
    if (rc != RC_OK) {
        goto out;
    }
    r->owner = pthread_self();
    rc_gl_enable_debug();
    snprintf(r->renderer, sizeof(r->renderer), "%s", (const char *)glGetString(GL_RENDERER));
    snprintf(r->version, sizeof(r->version), "%s", (const char *)glGetString(GL_VERSION));
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &r->max_texture);

    rc = rc_scene_programs_create(r, err);
    if (rc != RC_OK) {
        goto out;
    }
    r->prog = &r->plain;
    rc = rc_baked_program_create(r, err);
    if (rc != RC_OK) {
        goto out;
    }
    r->line_program = rc_gl_program("line", rc_shader_line_vert, rc_shader_line_frag, err);
    if (!r->line_program) {
        rc = err ? err->code : RC_ERR_INTERNAL;
        goto out;
    }
    r->l_view_projection = glGetUniformLocation(r->line_program, "u_view_projection");
    r->l_color = glGetUniformLocation(r->line_program, "u_color");
    r->overlay_program =
        rc_gl_program("overlay", rc_shader_overlay_vert, rc_shader_overlay_frag, err);
    if (!r->overlay_program) {
        rc = err ? err->code : RC_ERR_INTERNAL;
        goto out;
    }
    r->yuv_program = rc_gl_program("yuv", rc_shader_overlay_vert, rc_shader_yuv_frag, err);
    if (!r->yuv_program) {
        rc = err ? err->code : RC_ERR_INTERNAL;
        goto out;
    }
    r->y_rect = glGetUniformLocation(r->yuv_program, "u_rect");
    r->y_canvas = glGetUniformLocation(r->yuv_program, "u_canvas");
    r->y_scene = glGetUniformLocation(r->yuv_program, "u_scene");
    r->y_width = glGetUniformLocation(r->yuv_program, "u_width");
    r->y_height = glGetUniformLocation(r->yuv_program, "u_height");
    r->o_rect = glGetUniformLocation(r->overlay_program, "u_rect");
    r->o_canvas = glGetUniformLocation(r->overlay_program, "u_canvas");
    r->o_canvas_tex = glGetUniformLocation(r->overlay_program, "u_canvas_tex");
    r->o_shift = glGetUniformLocation(r->overlay_program, "u_shift");
    r->o_tex = glGetUniformLocation(r->overlay_program, "u_tex");
    static const float corners[] = {0, 0, 1, 0, 0, 1, 1, 1};
    glGenVertexArrays(1, &r->quad_vao);
    glBindVertexArray(r->quad_vao);
    glGenBuffers(1, &r->quad_vbo);
    glBindBuffer(GL_ARRAY_BUFFER, r->quad_vbo);
    glBufferData(GL_ARRAY_BUFFER, sizeof(corners), corners, GL_STATIC_DRAW);
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
    glBindVertexArray(0);
out:
    if (rc != RC_OK) {
        rc_render_destroy(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

static void release_job_objects(struct rc_render *r)
{
    for (size_t i = 0; i < RC_RENDER_RING; i++) {
        if (r->ring[i].fence) {
            glDeleteSync(r->ring[i].fence);
        }
        if (r->ring[i].pbo) {
            glDeleteBuffers(1, &r->ring[i].pbo);
        }
        memset(&r->ring[i], 0, sizeof(r->ring[i]));
    }
    GLuint textures[] = {r->values_tex, r->lut_tex, r->normals_tex, r->overlay_tex, r->heights_tex};
    glDeleteTextures(5, textures);
    r->heights_tex = 0;
    r->has_heights = false;
    r->overlay_tex = 0;
    r->panel_count = 0;
    for (int k = 0; k < 2; k++) {
        free(r->pages[k].pages);
        r->pages[k] = (struct rc_band_pages){0};
    }
    GLuint buffers[] = {r->vbo, r->ibo};
    glDeleteBuffers(2, buffers);
    glDeleteVertexArrays(1, &r->vao);
    r->vbo = r->ibo = r->vao = 0;
    rc_lines_release(r);
    rc_baked_release(r);
    r->index_count = 0;
    GLuint targets[] = {r->color_tex, r->yuv_tex};
    glDeleteTextures(2, targets);
    GLuint framebuffers[] = {r->fbo, r->yuv_fbo};
    glDeleteFramebuffers(2, framebuffers);
    glDeleteRenderbuffers(1, &r->depth_rb);
    r->values_tex = r->lut_tex = r->normals_tex = r->fbo = r->depth_rb = 0;
    r->color_tex = r->yuv_tex = r->yuv_fbo = 0;
    r->i420 = false;
    r->drawn = r->read = 0;
}

void rc_render_destroy(struct rc_render *render)
{
    if (!render) {
        return;
    }
    if (render->context != EGL_NO_CONTEXT && eglGetCurrentContext() == render->context) {
        release_job_objects(render);
        glDeleteProgram(render->plain.program);
        glDeleteProgram(render->line_program);
        glDeleteProgram(render->lit.program);
        glDeleteProgram(render->kit.program);
        glDeleteProgram(render->baked_program);
        glDeleteProgram(render->overlay_program);
        glDeleteProgram(render->yuv_program);
        glDeleteBuffers(1, &render->quad_vbo);
        glDeleteVertexArrays(1, &render->quad_vao);
        eglMakeCurrent(render->display->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    }
    if (render->context != EGL_NO_CONTEXT) {
        eglDestroyContext(render->display->display, render->context);
    }
    eglReleaseThread();
    free(render);
}

const char *rc_render_renderer(const struct rc_render *render)
{
    return render->renderer;
}

const char *rc_render_version(const struct rc_render *render)
{
    return render->version;
}

unsigned rc_render_max_texture_size(const struct rc_render *render)
{
    return (unsigned)render->max_texture;
}

static void array_texture(GLuint *tex, GLenum format, unsigned w, unsigned h, size_t layers,
                          GLint filter)
{
    glGenTextures(1, tex);
    glBindTexture(GL_TEXTURE_2D_ARRAY, *tex);
    glTexStorage3D(GL_TEXTURE_2D_ARRAY, 1, format, (GLsizei)w, (GLsizei)h, (GLsizei)layers);
    glTexParameteri(GL_TEXTURE_2D_ARRAY, GL_TEXTURE_MIN_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D_ARRAY, GL_TEXTURE_MAG_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D_ARRAY, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D_ARRAY, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
}

/* Uploads every band of `raster` normalised to 0..1 over [vmin, vmax], or with
 * `per_band` over the band's own valid range (no data: -1), into *values_tex and, when
 * `normals_tex` is given, the bands' normals for `height_scale`. Grid vertices over missing data
 * are marked in `missing`. */
static enum rc_err upload_layers(struct rc_render *r, const struct rc_bands *raster, double vmin,
                                 double vmax, bool per_band, GLuint *values_tex,
                                 GLuint *normals_tex, float height_scale, unsigned cols,
                                 unsigned rows, uint8_t *missing, struct rc_error *err)
{
    unsigned w = raster->width, h = raster->height;
    size_t plane = (size_t)w * h;
    float *t = malloc(plane * sizeof(float));
    uint8_t *normals = normals_tex ? malloc(plane * 4) : NULL;
    if (!t || (normals_tex && !normals)) {
        free(t);
        free(normals);
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    /* R32F is not filterable in GLES 3.0; nearest also keeps pixels crisp. */
    array_texture(values_tex, GL_R32F, w, h, raster->count, GL_NEAREST);
    if (normals_tex) {
        array_texture(normals_tex, GL_RGBA8, w, h, raster->count, GL_LINEAR);
    }
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    for (size_t b = 0; b < raster->count; b++) {
        rc_terrain_normalize(raster->values + b * plane, plane,
                             per_band ? raster->range[b][0] : vmin,
                             per_band ? raster->range[b][1] : vmax, t);
        if (missing) {
            rc_terrain_mark_missing(t, w, h, cols, rows, missing);
        }
        glBindTexture(GL_TEXTURE_2D_ARRAY, *values_tex);
        glTexSubImage3D(GL_TEXTURE_2D_ARRAY, 0, 0, 0, (GLint)b, (GLsizei)w, (GLsizei)h, 1, GL_RED,
                        GL_FLOAT, t);
        if (normals_tex) {
            rc_terrain_normals(t, w, h, r->extent[0], r->extent[1], height_scale, normals);
            glBindTexture(GL_TEXTURE_2D_ARRAY, *normals_tex);
            glTexSubImage3D(GL_TEXTURE_2D_ARRAY, 0, 0, 0, (GLint)b, (GLsizei)w, (GLsizei)h, 1,
                            GL_RGBA, GL_UNSIGNED_BYTE, normals);
        }
    }
    free(t);
    free(normals);
    return RC_OK;
}

static void upload_lut(struct rc_render *r, const struct rc_colormap *map)
{
    glGenTextures(1, &r->lut_tex);
    glBindTexture(GL_TEXTURE_2D, r->lut_tex);
    glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA8, (GLsizei)map->entries, 1);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, (GLsizei)map->entries, 1, GL_RGBA, GL_UNSIGNED_BYTE,
                    map->rgba);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
}

/* A grid of cols x rows cells over uv [0,1]^2 as indexed triangles, in every
 * draw order; cells touching a `missing` vertex are left out. */
static enum rc_err make_grid(struct rc_render *r, unsigned cols, unsigned rows,
                             const uint8_t *missing, struct rc_error *err)
{
    size_t verts = (size_t)(cols + 1) * (rows + 1);
    size_t per_order = (size_t)cols * rows * 6;
    float *uv = malloc(verts * 2 * sizeof(float));
    uint32_t *idx = malloc(per_order * RC_GRID_ORDERS * sizeof(uint32_t));
    if (!uv || !idx) {
        free(uv);
        free(idx);
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    for (unsigned y = 0; y <= rows; y++) {
        for (unsigned x = 0; x <= cols; x++) {
            float *p = uv + 2 * ((size_t)y * (cols + 1) + x);
            p[0] = (float)x / (float)cols;
            p[1] = (float)y / (float)rows;
        }
    }
    size_t count = 0;
    for (int order = 0; order < RC_GRID_ORDERS; order++) {
        count = rc_terrain_grid_indices(cols, rows, missing, (enum rc_grid_order)order,
                                        idx + count * (size_t)order);
    }
    glGenVertexArrays(1, &r->vao);
    glBindVertexArray(r->vao);
    glGenBuffers(1, &r->vbo);
    glBindBuffer(GL_ARRAY_BUFFER, r->vbo);
    glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)(verts * 2 * sizeof(float)), uv, GL_STATIC_DRAW);
    glGenBuffers(1, &r->ibo);
    glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, r->ibo);
    glBufferData(GL_ELEMENT_ARRAY_BUFFER, (GLsizeiptr)(count * RC_GRID_ORDERS * sizeof(uint32_t)),
                 idx, GL_STATIC_DRAW);
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
    glBindVertexArray(0);
    free(uv);
    free(idx);
    r->index_count = (GLsizei)count;
    return RC_OK;
}

/* The mesh: `cells` along the raster's longer side, as square as the raster's
 * cells allow (never more cells than raster pixels). */
static void grid_size(unsigned cells, const struct rc_bands *raster, unsigned *cols, unsigned *rows)
{
    unsigned ras_long = raster->width > raster->height ? raster->width : raster->height;
    cells = cells < ras_long ? cells : ras_long;
    cells = cells > 1 ? cells : 1;
    double per_pixel = (double)cells / (double)ras_long;
    *cols = (unsigned)fmax(1.0, round(raster->width * per_pixel));
    *rows = (unsigned)fmax(1.0, round(raster->height * per_pixel));
}

static bool copy_pages(struct rc_band_pages *dst, const struct rc_band_pages *src)
{
    size_t bytes = (size_t)src->rect.w * (size_t)src->rect.h * 4 * src->count;
    *dst = (struct rc_band_pages){0};
    if (!src->count) {
        return true;
    }
    if (!(dst->pages = malloc(bytes))) {
        return false;
    }
    memcpy(dst->pages, src->pages, bytes);
    dst->rect = src->rect;
    dst->count = src->count;
    return true;
}

static enum rc_err upload_overlay(struct rc_render *r, const struct rc_overlay *o,
                                  struct rc_error *err)
{
    glGenTextures(1, &r->overlay_tex);
    glBindTexture(GL_TEXTURE_2D, r->overlay_tex);
    glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA8, o->canvas.width, o->canvas.height);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, o->canvas.width, o->canvas.height, GL_RGBA,
                    GL_UNSIGNED_BYTE, o->canvas.rgba);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    r->scene = o->scene;
    r->panel_count = o->panel_count;
    memcpy(r->panels, o->panels, sizeof(r->panels));
    const struct rc_band_pages *from[2] = {&o->labels, &o->colorbars};
    for (int k = 0; k < 2; k++) {
        free(r->pages[k].pages);
        r->page_shown[k] = 0; /* the canvas holds the first page */
        if (!copy_pages(&r->pages[k], from[k])) {
            return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        }
    }
    return RC_OK;
}

/* The band's label and colorbar numbers for the frame: the nearer of the two
 * bands while blending. */
static void show_band_pages(struct rc_render *r, const struct rc_render_frame *frame)
{
    size_t band = frame->blend >= 0.5f ? frame->band_b : frame->band_a;
    for (int k = 0; k < 2; k++) {
        const struct rc_band_pages *p = &r->pages[k];
        if (band >= p->count || band == r->page_shown[k]) {
            continue;
        }
        glBindTexture(GL_TEXTURE_2D, r->overlay_tex);
        glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
        glTexSubImage2D(GL_TEXTURE_2D, 0, p->rect.x, p->rect.y, p->rect.w, p->rect.h, GL_RGBA,
                        GL_UNSIGNED_BYTE, rc_band_page(p, band));
        r->page_shown[k] = band;
    }
}

static void draw_overlay(struct rc_render *r)
{
    if (!r->panel_count) {
        return;
    }
    /* Surface mode culls back faces above the relief; the panels' quads are not
     * part of it and must be drawn whatever their winding. */
    glDisable(GL_CULL_FACE);
    glDisable(GL_DEPTH_TEST);
    glViewport(0, 0, (GLsizei)r->width, (GLsizei)r->height);
    glEnable(GL_BLEND);
    glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
    glUseProgram(r->overlay_program);
    glUniform1i(r->o_canvas_tex, 3);
    glUniform2f(r->o_canvas, (float)r->width, (float)r->height);
    glActiveTexture(GL_TEXTURE3);
    glBindTexture(GL_TEXTURE_2D, r->overlay_tex);
    glBindVertexArray(r->quad_vao);
    for (size_t i = 0; i < r->panel_count; i++) {
        const struct rc_rect *p = &r->panels[i];
        glUniform4f(r->o_rect, (float)p->x, (float)p->y, (float)p->w, (float)p->h);
        glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    }
    glBindVertexArray(0);
    glDisable(GL_BLEND);
}

enum rc_err rc_render_begin(struct rc_render *render, const struct rc_render_settings *in,
                            struct rc_error *err)
{
    struct rc_render *r = render;
    const struct rc_bands *raster = in->values;
    rc_render_assert_current(r);
    release_job_objects(r);
    r->surface = in->surface;
    r->lighting = in->lighting;
    r->height_scale = (float)in->height_scale;
    r->band_count = raster->count;
    r->values_w = raster->width;
    r->values_h = raster->height;
    r->extent[0] = in->extent[0];
    r->extent[1] = in->extent[1];
    GLint max_layers = 0;
    glGetIntegerv(GL_MAX_ARRAY_TEXTURE_LAYERS, &max_layers);
    if (raster->count > (size_t)max_layers) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.bands",
                            "at most %d bands on this renderer", (int)max_layers);
    }
    unsigned cols, rows;
    grid_size(in->surface ? in->mesh_cells : 1, raster, &cols, &rows);
    r->mesh_cols = cols;
    r->mesh_rows = rows;
    bool surface = in->surface;
    bool lit = surface && in->lighting.enabled;
    r->prog = !lit ? &r->plain : in->lighting.kit ? &r->kit : &r->lit;
    float height_scale = r->height_scale;
    uint8_t *missing = surface ? calloc((size_t)(cols + 1) * (rows + 1), 1) : NULL;
    if (surface && !missing) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    /* Normals come from whatever gives the heights. */
    enum rc_err rc = upload_layers(r, raster, in->vmin, in->vmax, in->per_band, &r->values_tex,
                                   lit && !in->heights ? &r->normals_tex : NULL, height_scale, cols,
                                   rows, missing, err);
    if (rc == RC_OK && in->heights) {
        rc = upload_layers(r, in->heights, in->heights->valid_min, in->heights->valid_max, false,
                           &r->heights_tex, lit ? &r->normals_tex : NULL, height_scale, cols, rows,
                           missing, err);
    }
    if (rc == RC_OK) {
        rc = make_grid(r, cols, rows, missing, err);
    }
    free(missing);
    if (rc != RC_OK) {
        return rc;
    }
    r->has_heights = in->heights != NULL;

    upload_lut(r, in->colormap);
    rc = rc_target_create(r, in->width, in->height, in->gpu_convert, err);
    if (rc != RC_OK) {
        return rc;
    }
    glUseProgram(r->prog->program);
    glUniform1i(r->prog->u_surface, surface);
    glUniform1f(r->prog->u_ambient, (float)in->lighting.ambient);
    glUniform1f(r->prog->u_diffuse, (float)in->lighting.diffuse);
    glUniform1f(r->prog->u_specular, (float)in->lighting.specular);
    glUniform1f(r->prog->u_shininess, (float)in->lighting.shininess);
    glUniform1f(r->prog->u_height_scale, height_scale);
    glUniform1i(r->prog->u_has_heights, r->has_heights);
    glUniform1i(r->prog->u_heights, 4);
    if (surface) {
        glEnable(GL_DEPTH_TEST);
        glDepthFunc(GL_LESS);
    } else {
        glDisable(GL_DEPTH_TEST);
    }
    glUniform1i(r->prog->u_values, 0);
    glUniform1i(r->prog->u_lut, 1);
    glUniform1i(r->prog->u_normals, 2);
    glUniform1i(r->prog->u_lut_size, (GLint)in->colormap->entries);
    glUniform2f(r->prog->u_extent, r->extent[0], r->extent[1]);
    float bg[3], nd[3];
    float alpha = in->nan_color[3] / 255.0f;
    for (int c = 0; c < 3; c++) {
        bg[c] = in->background[c] / 255.0f;
        nd[c] = bg[c] * (1.0f - alpha) + in->nan_color[c] / 255.0f * alpha;
    }
    glUniform3fv(r->prog->u_background, 1, bg);
    glUniform3fv(r->prog->u_nodata_rgb, 1, nd);
    glUniform1i(r->prog->u_transparent, in->transparent);
    glUniform4f(r->prog->u_nodata_rgba, in->nan_color[0] / 255.0f, in->nan_color[1] / 255.0f,
                in->nan_color[2] / 255.0f, alpha);
    glClearColor(bg[0], bg[1], bg[2], in->transparent ? 0.0f : 1.0f);
    r->scene = (struct rc_rect){0, 0, (int)in->width, (int)in->height};
    if (in->overlay) {
        rc = upload_overlay(r, in->overlay, err);
        if (rc != RC_OK) {
            return rc;
        }
        rc_lines_upload_labels(r, &in->overlay->axes);
    }
    rc_lines_make(r, surface ? r->height_scale : 0.0f, in->outline_rgb, in->outline,
                  in->overlay ? &in->overlay->axes : NULL);
    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    GLenum gl_err = glGetError();
    if (gl_err != GL_NO_ERROR) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "GL setup failed (0x%x)", (unsigned)gl_err);
    }
    return RC_OK;
}

enum rc_err rc_render_draw(struct rc_render *render, const struct rc_render_frame *frame,
                           struct rc_error *err)
{
    struct rc_render *r = render;
    rc_render_assert_current(r);
    if (rc_render_in_flight(r) >= r->ring_size) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "readback ring full");
    }
    if (frame->band_a >= r->band_count || frame->band_b >= r->band_count) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "frame %zu names a band not loaded",
                            frame->index);
    }
    const struct rc_camera_pose pose = frame->pose;
    float m[16];
    rc_camera_matrix(&pose, (double)r->scene.w / (double)r->scene.h, m);
    /* Flip clip-space y so the framebuffer's first row is the image's top row and
     * readback needs no flip. */
    for (int col = 0; col < 4; col++) {
        m[col * 4 + 1] = -m[col * 4 + 1];
    }
    size_t a = frame->band_a, b = frame->band_b;
    float weight = frame->blend;

    glBindFramebuffer(GL_FRAMEBUFFER, r->fbo);
    glViewport(0, 0, (GLsizei)r->width, (GLsizei)r->height);
    /* Image mode draws one flat plane without a depth test: no depth to clear. */
    glClear(GL_COLOR_BUFFER_BIT | (r->surface ? GL_DEPTH_BUFFER_BIT : 0));
    /* Framebuffer rows are image rows (see the flip above), so the top-left scene
     * rectangle is the viewport as it stands. */
    glViewport(r->scene.x, r->scene.y, r->scene.w, r->scene.h);
    if (r->surface) {
        glEnable(GL_DEPTH_TEST);
    }
    glUseProgram(r->prog->program);
    glUniformMatrix4fv(r->prog->u_view_projection, 1, GL_FALSE, m);
    double eye[3];
    rc_camera_eye(&pose, eye);
    /* Seen from above its highest point, a height field's first hit along every ray
     * is its upper side, so faces turned away can be skipped without changing the
     * picture. Up-facing cells are counter-clockwise from above, clockwise on screen
     * after the y flip. */
    if (r->surface && eye[2] > r->height_scale) {
        glEnable(GL_CULL_FACE);
        glFrontFace(GL_CW);
        glCullFace(GL_BACK);
    } else {
        glDisable(GL_CULL_FACE);
    }
    rc_scene_set_lights(r, &pose, eye);
    glUniform1i(r->prog->u_band_a, (GLint)a);
    glUniform1i(r->prog->u_band_b, (GLint)b);
    glUniform1i(r->prog->u_normal_a, r->has_heights ? 0 : (GLint)a);
    glUniform1i(r->prog->u_normal_b, r->has_heights ? 0 : (GLint)b);
    glUniform1f(r->prog->u_blend, weight);
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D_ARRAY, r->values_tex);
    glActiveTexture(GL_TEXTURE1);
    glBindTexture(GL_TEXTURE_2D, r->lut_tex);
    glActiveTexture(GL_TEXTURE2);
    glBindTexture(GL_TEXTURE_2D_ARRAY, r->normals_tex);
    glActiveTexture(GL_TEXTURE4);
    glBindTexture(GL_TEXTURE_2D_ARRAY, r->heights_tex);
    size_t order = rc_terrain_order_for(pose.azimuth_deg);
    const void *indices = (const void *)(order * (size_t)r->index_count * sizeof(uint32_t));
    if (!rc_baked_draw(r, a, b, m, indices)) {
        glBindVertexArray(r->vao);
        glDrawElements(GL_TRIANGLES, r->index_count, GL_UNSIGNED_INT, indices);
        glBindVertexArray(0);
    }
    rc_lines_draw(r, m, eye);
    rc_lines_draw_labels(r, m, eye);
    show_band_pages(r, frame);
    draw_overlay(r);
    rc_target_read_back(r, frame->index);
    return RC_OK;
}

void rc_render_mesh(const struct rc_render *render, unsigned *cols, unsigned *rows)
{
    *cols = render->mesh_cols;
    *rows = render->mesh_rows;
}

size_t rc_render_baked_frames(const struct rc_render *render)
{
    return render->baked_frames;
}

void rc_render_end(struct rc_render *render)
{
    rc_render_assert_current(render);
    release_job_objects(render);
}
