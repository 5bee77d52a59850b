#include "render/render.h"

#include <assert.h>
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
    r->job.layers.prog = &r->plain;
    rc = rc_baked_program_create(r, err);
    if (rc != RC_OK) {
        goto out;
    }
    r->line_program = rc_gl_program("line", rc_shader_line_vert, rc_shader_line_frag, err);
    if (!r->line_program) {
        rc = err ? err->code : RC_ERR_INTERNAL;
        goto out;
    }
    rc = rc_vectors_program_create(r, err);
    if (rc != RC_OK) {
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

/* The overlay's canvas texture and the band pages' copies. */
static void panels_destroy(struct rc_render *r)
{
    struct rc_panels *p = &r->job.panels;
    glDeleteTextures(1, &p->overlay_tex);
    for (int k = 0; k < 2; k++) {
        free(p->pages[k].pages);
    }
    *p = (struct rc_panels){0};
}

/* Every piece of the job, each freed by the file that made it. */
static void release_job_objects(struct rc_render *r)
{
    rc_layers_destroy(r);
    panels_destroy(r);
    rc_lines_release(r);
    rc_baked_release(r);
    rc_vectors_release(r);
    rc_target_destroy(r);
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
        glDeleteProgram(render->vector_program);
        glDeleteProgram(render->drape_program);
        glDeleteProgram(render->lit.program);
        glDeleteProgram(render->kit.program);
        glDeleteProgram(render->kit_baked.program);
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
    glGenTextures(1, &r->job.panels.overlay_tex);
    glBindTexture(GL_TEXTURE_2D, r->job.panels.overlay_tex);
    glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA8, o->canvas.width, o->canvas.height);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, o->canvas.width, o->canvas.height, GL_RGBA,
                    GL_UNSIGNED_BYTE, o->canvas.rgba);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    r->job.panels.scene = o->scene;
    r->job.panels.panel_count = o->panel_count;
    memcpy(r->job.panels.panels, o->panels, sizeof(r->job.panels.panels));
    const struct rc_band_pages *from[2] = {&o->labels, &o->colorbars};
    for (int k = 0; k < 2; k++) {
        free(r->job.panels.pages[k].pages);
        r->job.panels.page_shown[k] = 0; /* the canvas holds the first page */
        if (!copy_pages(&r->job.panels.pages[k], from[k])) {
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
        const struct rc_band_pages *p = &r->job.panels.pages[k];
        if (band >= p->count || band == r->job.panels.page_shown[k]) {
            continue;
        }
        glBindTexture(GL_TEXTURE_2D, r->job.panels.overlay_tex);
        glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
        glTexSubImage2D(GL_TEXTURE_2D, 0, p->rect.x, p->rect.y, p->rect.w, p->rect.h, GL_RGBA,
                        GL_UNSIGNED_BYTE, rc_band_page(p, band));
        r->job.panels.page_shown[k] = band;
    }
}

void rc_render_overlay_pass(struct rc_render *r, GLuint tex, const struct rc_canvas *atlas)
{
    /* Surface mode culls back faces above the relief; these quads are not part of
     * it and must be drawn whatever their winding. */
    glDisable(GL_CULL_FACE);
    glDisable(GL_DEPTH_TEST);
    glViewport(0, 0, (GLsizei)r->job.target.width, (GLsizei)r->job.target.height);
    glEnable(GL_BLEND);
    glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
    glUseProgram(r->overlay_program);
    glUniform1i(r->o_canvas_tex, 3);
    glUniform2f(r->o_canvas, (float)r->job.target.width, (float)r->job.target.height);
    glUniform2f(r->o_tex, atlas ? (float)atlas->width : 0, atlas ? (float)atlas->height : 0);
    glActiveTexture(GL_TEXTURE3);
    glBindTexture(GL_TEXTURE_2D, tex);
    glBindVertexArray(r->quad_vao);
}

static void draw_overlay(struct rc_render *r)
{
    if (!r->job.panels.panel_count) {
        return;
    }
    rc_render_overlay_pass(r, r->job.panels.overlay_tex, NULL);
    for (size_t i = 0; i < r->job.panels.panel_count; i++) {
        const struct rc_rect *p = &r->job.panels.panels[i];
        glUniform4f(r->o_rect, (float)p->x, (float)p->y, (float)p->w, (float)p->h);
        glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    }
    glBindVertexArray(0);
    glDisable(GL_BLEND);
}

/* What a scene program keeps for the whole job. */
static void set_job_uniforms(const struct scene_program *p, const struct rc_render_settings *in,
                             float height_scale, bool has_heights, const float extent[2])
{
    glUseProgram(p->program);
    glUniform1i(p->u_surface, in->surface);
    glUniform1f(p->u_ambient, (float)in->lighting.ambient);
    glUniform1f(p->u_diffuse, (float)in->lighting.diffuse);
    glUniform1f(p->u_specular, (float)in->lighting.specular);
    glUniform1f(p->u_shininess, (float)in->lighting.shininess);
    glUniform1f(p->u_height_scale, height_scale);
    glUniform1i(p->u_has_heights, has_heights);
    glUniform1i(p->u_heights, 4);
    glUniform1i(p->u_values, 0);
    glUniform1i(p->u_lut, 1);
    glUniform1i(p->u_normals, 2);
    glUniform1i(p->u_lut_size, (GLint)in->colormap->entries);
    glUniform2f(p->u_extent, extent[0], extent[1]);
    float bg[3], nd[3];
    float alpha = in->nan_color[3] / 255.0f;
    for (int c = 0; c < 3; c++) {
        bg[c] = in->background[c] / 255.0f;
        nd[c] = bg[c] * (1.0f - alpha) + in->nan_color[c] / 255.0f * alpha;
    }
    glUniform3fv(p->u_background, 1, bg);
    glUniform3fv(p->u_nodata_rgb, 1, nd);
    glUniform1i(p->u_transparent, in->transparent);
    glUniform1i(p->u_linear, in->linear);
    glUniform4f(p->u_nodata_rgba, in->nan_color[0] / 255.0f, in->nan_color[1] / 255.0f,
                in->nan_color[2] / 255.0f, alpha);
}

enum rc_err rc_render_begin(struct rc_render *render, const struct rc_render_settings *in,
                            struct rc_error *err)
{
    struct rc_render *r = render;
    rc_render_assert_current(r);
    release_job_objects(r);
    enum rc_err rc = rc_layers_create(r, in, err);
    if (rc != RC_OK) {
        return rc;
    }
    bool surface = in->surface;
    float height_scale = r->job.layers.height_scale;
    rc = rc_target_create(r, in->width, in->height, in->gpu_convert, err);
    if (rc != RC_OK) {
        return rc;
    }
    set_job_uniforms(r->job.layers.prog, in, height_scale, r->job.layers.has_heights,
                     r->job.layers.extent);
    if (r->job.layers.prog == &r->kit) {
        set_job_uniforms(&r->kit_baked, in, height_scale, r->job.layers.has_heights,
                         r->job.layers.extent);
    }
    if (surface) {
        glEnable(GL_DEPTH_TEST);
        glDepthFunc(GL_LESS);
    } else {
        glDisable(GL_DEPTH_TEST);
    }
    float bg[3];
    for (int c = 0; c < 3; c++) {
        bg[c] = in->background[c] / 255.0f;
    }
    glClearColor(bg[0], bg[1], bg[2], in->transparent ? 0.0f : 1.0f);
    r->job.panels.scene = (struct rc_rect){0, 0, (int)in->width, (int)in->height};
    if (in->overlay) {
        rc = upload_overlay(r, in->overlay, err);
        if (rc != RC_OK) {
            return rc;
        }
        rc_lines_upload_labels(r, &in->overlay->axes);
        rc_vectors_upload_labels(r, &in->overlay->graticule);
    }
    rc_lines_make(r, surface ? r->job.layers.height_scale : 0.0f, in->outline_rgb, in->outline,
                  in->overlay ? &in->overlay->axes : NULL);
    rc = rc_vectors_make(r, in, err);
    if (rc != RC_OK) {
        return rc;
    }
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
    if (rc_render_in_flight(r) >= r->job.target.ring_size) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "readback ring full");
    }
    if (frame->band_a >= r->job.layers.band_count || frame->band_b >= r->job.layers.band_count) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "frame %zu names a band not loaded",
                            frame->index);
    }
    const struct rc_camera_pose pose = frame->pose;
    float m[16];
    if (r->job.layers.map) {
        /* Orthographic, straight down, north up: the extent is clip space's square. */
        memset(m, 0, sizeof(m));
        m[0] = 2.0f / r->job.layers.extent[0];
        m[5] = 2.0f / r->job.layers.extent[1];
        m[10] = -1.0f;
        m[15] = 1.0f;
    } else {
        rc_camera_matrix(&pose, (double)r->job.panels.scene.w / (double)r->job.panels.scene.h, m);
    }
    /* Flip clip-space y so the framebuffer's first row is the image's top row and
     * readback needs no flip. */
    for (int col = 0; col < 4; col++) {
        m[col * 4 + 1] = -m[col * 4 + 1];
    }
    size_t a = frame->band_a, b = frame->band_b;
    float weight = frame->blend;

    glBindFramebuffer(GL_FRAMEBUFFER, r->job.target.fbo);
    glViewport(0, 0, (GLsizei)r->job.target.width, (GLsizei)r->job.target.height);
    /* Image mode draws one flat plane without a depth test: no depth to clear. */
    glClear(GL_COLOR_BUFFER_BIT | (r->job.layers.surface ? GL_DEPTH_BUFFER_BIT : 0));
    /* Framebuffer rows are image rows (see the flip above), so the top-left scene
     * rectangle is the viewport as it stands. */
    glViewport(r->job.panels.scene.x, r->job.panels.scene.y, r->job.panels.scene.w,
               r->job.panels.scene.h);
    if (r->job.layers.surface) {
        glEnable(GL_DEPTH_TEST);
    }
    double eye[3];
    rc_camera_eye(&pose, eye);
    /* Seen from above its highest point, a height field's first hit along every ray
     * is its upper side, so faces turned away can be skipped without changing the
     * picture. Up-facing cells are counter-clockwise from above, clockwise on screen
     * after the y flip. */
    if (r->job.layers.surface && eye[2] > r->job.layers.height_scale) {
        glEnable(GL_CULL_FACE);
        glFrontFace(GL_CW);
        glCullFace(GL_BACK);
    } else {
        glDisable(GL_CULL_FACE);
    }
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D_ARRAY, r->job.layers.values_tex);
    glActiveTexture(GL_TEXTURE1);
    glBindTexture(GL_TEXTURE_2D, r->job.layers.lut_tex);
    glActiveTexture(GL_TEXTURE2);
    glBindTexture(GL_TEXTURE_2D_ARRAY, r->job.layers.normals_tex);
    glActiveTexture(GL_TEXTURE4);
    glBindTexture(GL_TEXTURE_2D_ARRAY, r->job.layers.heights_tex);
    const struct scene_program *p = rc_baked_lit(r, a, b);
    glUseProgram(p->program);
    glUniformMatrix4fv(p->u_view_projection, 1, GL_FALSE, m);
    rc_scene_set_lights(r, p, &pose, eye);
    glUniform1i(p->u_band_a, (GLint)a);
    glUniform1i(p->u_band_b, (GLint)b);
    glUniform1i(p->u_normal_a, r->job.layers.has_heights ? 0 : (GLint)a);
    glUniform1i(p->u_normal_b, r->job.layers.has_heights ? 0 : (GLint)b);
    glUniform1f(p->u_blend, weight);
    size_t order = rc_terrain_order_for(pose.azimuth_deg);
    const void *indices =
        (const void *)(order * (size_t)r->job.layers.index_count * sizeof(uint32_t));
    if (!rc_baked_draw(r, a, b, m, indices)) {
        glBindVertexArray(r->job.layers.vao);
        glDrawElements(GL_TRIANGLES, r->job.layers.index_count, GL_UNSIGNED_INT, indices);
        glBindVertexArray(0);
    }
    rc_vectors_drape(r, m, a, b, weight, indices);
    rc_lines_draw(r, m, eye);
    rc_lines_draw_labels(r, m, eye);
    rc_vectors_draw_labels(r, m);
    show_band_pages(r, frame);
    draw_overlay(r);
    rc_target_read_back(r, frame->index);
    return RC_OK;
}

void rc_render_mesh(const struct rc_render *render, struct rc_render_mesh_info *out)
{
    out->cols = render->job.layers.mesh_cols;
    out->rows = render->job.layers.mesh_rows;
    out->triangles = (size_t)render->job.layers.index_count / 3;
    out->ms = render->job.layers.mesh_ms;
    out->kept = render->job.layers.mesh_kept;
}

size_t rc_render_baked_frames(const struct rc_render *render)
{
    return render->job.baked.baked_frames;
}

void rc_render_end(struct rc_render *render)
{
    rc_render_assert_current(render);
    /* A job cut short leaves frames queued in the driver, which then holds on to
     * every texture they read: let them finish, and let go of the job's textures
     * on every unit, so its memory goes with it rather than with the next job. */
    glFinish();
    for (GLenum unit = 0; unit <= RC_BAKED_UNIT; unit++) {
        glActiveTexture(GL_TEXTURE0 + unit);
        glBindTexture(GL_TEXTURE_2D, 0);
        glBindTexture(GL_TEXTURE_2D_ARRAY, 0);
    }
    glActiveTexture(GL_TEXTURE0);
    glUseProgram(0);
    release_job_objects(render);
}
