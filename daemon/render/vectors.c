/*
 * vectors: the job's vector layers (style.vectors, style.graticule), drawn once
 * into a texture over the raster's grid and laid on the scene every frame.
 *
 * The texture has the grid's shape at about twice the output's resolution, so
 * a line keeps its width in output pixels wherever the raster fills the scene
 * (map and image modes); the scene samples it with mipmaps, so it stays smooth
 * farther off on a surface, where it is draped by drawing the same surface again
 * (scene.vert, its depths exactly) with drape.frag. Lines become triangles on the
 * CPU, in batches of 16,384 — a quad a segment and a disc a point, so joins are
 * round — drawn once per sample through the stencil, so a translucent layer does
 * not darken where its lines cross; polygons are filled by the even-odd rule in
 * the stencil (a fan per ring, then the grid's rectangle where the count is
 * odd). Everything is drawn multisampled and resolved into the texture: edges
 * are anti-aliased.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "render/gl.h"

enum {
    VECTORS_UNIT = 6,  /* a unit the scene's programs do not read */
    DISC_SIDES = 8,    /* a join's disc: triangles about its centre */
    MAX_TEXTURE = 4096 /* the texture's longer side at most */
};

/* Triangles being gathered, drawn a batch at a time (so a layer of 500,000
 * points never holds more than one batch): vertices in grid cells, three a
 * triangle, drawn with whatever state the caller set. */
enum { BATCH_VERTICES = 3 * 16384 };

struct tris {
    struct rc_render *r;
    float (*v)[2]; /* BATCH_VERTICES */
    size_t n;
};

static void flush(struct tris *t)
{
    if (!t->n) {
        return;
    }
    glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)(t->n * sizeof(t->v[0])), t->v, GL_STREAM_DRAW);
    glDrawArrays(GL_TRIANGLES, 0, (GLsizei)t->n);
    t->n = 0;
}

static void tri(struct tris *t, const float a[2], const float b[2], const float c[2])
{
    if (t->n + 3 > BATCH_VERTICES) {
        flush(t);
    }
    memcpy(t->v[t->n++], a, sizeof(t->v[0]));
    memcpy(t->v[t->n++], b, sizeof(t->v[0]));
    memcpy(t->v[t->n++], c, sizeof(t->v[0]));
}

/* A part's outline as triangles `hw` cells either side of its line. */
static void stroke(struct tris *t, const float (*p)[2], size_t count, bool closed, float hw)
{
    for (size_t i = 0; i < count; i++) {
        const float *a = p[i];
        for (int k = 0; k < DISC_SIDES; k++) {
            double t0 = 2 * M_PI * k / DISC_SIDES, t1 = 2 * M_PI * (k + 1) / DISC_SIDES;
            float b[2] = {a[0] + hw * (float)cos(t0), a[1] + hw * (float)sin(t0)};
            float c[2] = {a[0] + hw * (float)cos(t1), a[1] + hw * (float)sin(t1)};
            tri(t, a, b, c);
        }
        if (i + 1 == count && !closed) {
            break;
        }
        const float *b = p[(i + 1) % count];
        float dx = b[0] - a[0], dy = b[1] - a[1], len = hypotf(dx, dy);
        if (len <= 0) {
            continue;
        }
        float nx = -dy / len * hw, ny = dx / len * hw;
        float a0[2] = {a[0] + nx, a[1] + ny}, a1[2] = {a[0] - nx, a[1] - ny};
        float b0[2] = {b[0] + nx, b[1] + ny}, b1[2] = {b[0] - nx, b[1] - ny};
        tri(t, a0, a1, b0);
        tri(t, b0, a1, b1);
    }
}

/* Each ring as a fan from its first point: inverting the stencil's low bit
 * leaves it set where the point is inside an odd number of rings. */
static void fans(struct tris *t, const struct rc_vectors *g)
{
    for (size_t i = 0; i < g->part_count; i++) {
        const struct rc_vector_part *part = &g->parts[i];
        if (part->kind != RC_VECTOR_RING) {
            continue;
        }
        const float(*p)[2] = g->xy + part->first;
        for (size_t k = 1; k + 1 < part->count; k++) {
            tri(t, p[0], p[k], p[k + 1]);
        }
    }
}

static void set_colour(struct rc_render *r, const uint8_t rgba[4], float opacity)
{
    float a = rgba[3] / 255.0f * opacity;
    glUniform4f(r->v_color, rgba[0] / 255.0f * a, rgba[1] / 255.0f * a, rgba[2] / 255.0f * a, a);
}

/* One layer: its polygons' inside, then its lines, each sample covered once. */
static void draw_layer(struct tris *t, const struct rc_render_vectors *layer, float hw, unsigned gw,
                       unsigned gh)
{
    const struct rc_vectors *g = layer->geometry;
    glClear(GL_STENCIL_BUFFER_BIT);
    if (layer->filled) {
        glColorMask(GL_FALSE, GL_FALSE, GL_FALSE, GL_FALSE);
        glStencilFunc(GL_ALWAYS, 0, 0x01);
        glStencilOp(GL_KEEP, GL_KEEP, GL_INVERT);
        glStencilMask(0x01);
        fans(t, g);
        flush(t);
        glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
        /* Where the count is odd, once, clearing the bit as it goes. */
        glStencilFunc(GL_EQUAL, 0x01, 0x01);
        glStencilOp(GL_KEEP, GL_KEEP, GL_ZERO);
        set_colour(t->r, layer->fill, layer->opacity);
        float c[4][2] = {{0, 0}, {(float)gw, 0}, {(float)gw, (float)gh}, {0, (float)gh}};
        tri(t, c[0], c[1], c[2]);
        tri(t, c[0], c[2], c[3]);
        flush(t);
    }
    glStencilFunc(GL_NOTEQUAL, 0x02, 0x02);
    glStencilOp(GL_KEEP, GL_KEEP, GL_REPLACE);
    glStencilMask(0x02);
    set_colour(t->r, layer->color, layer->opacity);
    for (size_t i = 0; i < g->part_count; i++) {
        const struct rc_vector_part *part = &g->parts[i];
        stroke(t, g->xy + part->first, part->count, part->kind == RC_VECTOR_RING, hw);
    }
    flush(t);
    glStencilMask(0xff);
}

enum rc_err rc_vectors_program_create(struct rc_render *r, struct rc_error *err)
{
    r->vector_program = rc_gl_program("vector", rc_shader_vector_vert, rc_shader_vector_frag, err);
    r->drape_program = rc_gl_program("drape", rc_shader_scene_vert, rc_shader_drape_frag, err);
    if (!r->vector_program || !r->drape_program) {
        return err ? err->code : RC_ERR_INTERNAL;
    }
    r->v_grid = glGetUniformLocation(r->vector_program, "u_grid");
    r->v_color = glGetUniformLocation(r->vector_program, "u_color");
    GLuint p = r->drape_program;
    r->d_view_projection = glGetUniformLocation(p, "u_view_projection");
    r->d_band_a = glGetUniformLocation(p, "u_band_a");
    r->d_band_b = glGetUniformLocation(p, "u_band_b");
    r->d_blend = glGetUniformLocation(p, "u_blend");
    r->d_extent = glGetUniformLocation(p, "u_extent");
    r->d_surface = glGetUniformLocation(p, "u_surface");
    r->d_height_scale = glGetUniformLocation(p, "u_height_scale");
    r->d_has_heights = glGetUniformLocation(p, "u_has_heights");
    glUseProgram(p);
    glUniform1i(glGetUniformLocation(p, "u_values"), 0);
    glUniform1i(glGetUniformLocation(p, "u_heights"), 4);
    glUniform1i(glGetUniformLocation(p, "u_vectors"), VECTORS_UNIT);
    glUseProgram(0);
    return RC_OK;
}

/* The texture's size: the grid's shape, about twice the output's longer side. */
static void texture_size(const struct rc_render *r, const struct rc_render_settings *in,
                         unsigned *tw, unsigned *th)
{
    double gw = r->job.layers.values_w, gh = r->job.layers.values_h;
    double longest = fmin(fmin(2.0 * fmax(in->width, in->height), MAX_TEXTURE), r->max_texture);
    double k = longest / fmax(gw, gh);
    *tw = (unsigned)fmax(1, lround(gw * k));
    *th = (unsigned)fmax(1, lround(gh * k));
}

enum rc_err rc_vectors_make(struct rc_render *r, const struct rc_render_settings *in,
                            struct rc_error *err)
{
    if (!in->vector_count) {
        return RC_OK;
    }
    struct rc_drape *d = &r->job.drape;
    unsigned tw, th, gw = r->job.layers.values_w, gh = r->job.layers.values_h;
    texture_size(r, in, &tw, &th);
    GLint max_samples = 0;
    glGetIntegerv(GL_MAX_SAMPLES, &max_samples);
    GLsizei samples = max_samples >= 4 ? 4 : 0;
    glGenTextures(1, &d->tex);
    glActiveTexture(GL_TEXTURE0 + VECTORS_UNIT);
    glBindTexture(GL_TEXTURE_2D, d->tex);
    GLsizei levels = 1;
    for (unsigned s = tw > th ? tw : th; s > 1; s /= 2) {
        levels++;
    }
    glTexStorage2D(GL_TEXTURE_2D, levels, GL_RGBA8, (GLsizei)tw, (GLsizei)th);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR_MIPMAP_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    /* Drawn into multisampled colour and stencil, resolved into the texture. */
    GLuint fbo[2], rb[2];
    glGenFramebuffers(2, fbo);
    glGenRenderbuffers(2, rb);
    glBindRenderbuffer(GL_RENDERBUFFER, rb[0]);
    glRenderbufferStorageMultisample(GL_RENDERBUFFER, samples, GL_RGBA8, (GLsizei)tw, (GLsizei)th);
    glBindRenderbuffer(GL_RENDERBUFFER, rb[1]);
    glRenderbufferStorageMultisample(GL_RENDERBUFFER, samples, GL_DEPTH24_STENCIL8, (GLsizei)tw,
                                     (GLsizei)th);
    glBindFramebuffer(GL_FRAMEBUFFER, fbo[0]);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb[0]);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_STENCIL_ATTACHMENT, GL_RENDERBUFFER, rb[1]);
    bool ok = glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
    glViewport(0, 0, (GLsizei)tw, (GLsizei)th);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_CULL_FACE);
    glDisable(GL_SCISSOR_TEST);
    glEnable(GL_STENCIL_TEST);
    glEnable(GL_BLEND);
    glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
    GLfloat clear[4];
    glGetFloatv(GL_COLOR_CLEAR_VALUE, clear);
    glClearColor(0, 0, 0, 0);
    glClear(GL_COLOR_BUFFER_BIT);
    glClearColor(clear[0], clear[1], clear[2], clear[3]);
    glUseProgram(r->vector_program);
    glUniform2f(r->v_grid, (float)gw, (float)gh);
    /* The triangles' buffer, bound while they are drawn (flush() fills it). */
    GLuint vao, vbo;
    glGenVertexArrays(1, &vao);
    glGenBuffers(1, &vbo);
    glBindVertexArray(vao);
    glBindBuffer(GL_ARRAY_BUFFER, vbo);
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
    /* Output pixels to cells: the raster filling the scene, as in map mode. */
    double across = fmin(r->job.panels.scene.w,
                         r->job.panels.scene.h * r->job.layers.extent[0] / r->job.layers.extent[1]);
    float cells_per_pixel = (float)(gw / fmax(across, 1.0));
    struct tris t = {.r = r, .v = malloc(BATCH_VERTICES * sizeof(*t.v))};
    ok = ok && t.v;
    for (size_t i = 0; ok && i < in->vector_count; i++) {
        draw_layer(&t, &in->vectors[i], (float)in->vectors[i].width / 2 * cells_per_pixel, gw, gh);
    }
    free(t.v);
    glBindVertexArray(0);
    glDisable(GL_STENCIL_TEST);
    glDisable(GL_BLEND);
    /* Resolved into level 0, then the smaller levels from it. */
    glBindFramebuffer(GL_FRAMEBUFFER, fbo[1]);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, d->tex, 0);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo[0]);
    glBindFramebuffer(GL_DRAW_FRAMEBUFFER, fbo[1]);
    glBlitFramebuffer(0, 0, (GLint)tw, (GLint)th, 0, 0, (GLint)tw, (GLint)th, GL_COLOR_BUFFER_BIT,
                      GL_NEAREST);
    glBindTexture(GL_TEXTURE_2D, d->tex);
    glGenerateMipmap(GL_TEXTURE_2D);
    glBindFramebuffer(GL_FRAMEBUFFER, r->job.target.fbo);
    glDeleteFramebuffers(2, fbo);
    glDeleteRenderbuffers(2, rb);
    glDeleteBuffers(1, &vbo);
    glDeleteVertexArrays(1, &vao);
    if (!ok) {
        return rc_error_set(err, RC_ERR_NOMEM, "style.vectors",
                            "the vector layers could not be drawn (out of memory)");
    }
    return RC_OK;
}

void rc_vectors_drape(struct rc_render *r, const float m[16], size_t band_a, size_t band_b,
                      float blend, const void *indices)
{
    if (!r->job.drape.tex) {
        return;
    }
    glUseProgram(r->drape_program);
    glUniformMatrix4fv(r->d_view_projection, 1, GL_FALSE, m);
    glUniform1i(r->d_band_a, (GLint)band_a);
    glUniform1i(r->d_band_b, (GLint)band_b);
    glUniform1f(r->d_blend, blend);
    glUniform2f(r->d_extent, r->job.layers.extent[0], r->job.layers.extent[1]);
    glUniform1i(r->d_surface, r->job.layers.surface);
    glUniform1f(r->d_height_scale, r->job.layers.height_scale);
    glUniform1i(r->d_has_heights, r->job.layers.has_heights);
    glActiveTexture(GL_TEXTURE0 + VECTORS_UNIT);
    glBindTexture(GL_TEXTURE_2D, r->job.drape.tex);
    glEnable(GL_BLEND);
    glBlendFuncSeparate(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
    if (r->job.layers.surface) {
        glDepthFunc(GL_LEQUAL);
        glDepthMask(GL_FALSE);
    }
    glBindVertexArray(r->job.layers.vao);
    glDrawElements(GL_TRIANGLES, r->job.layers.index_count, GL_UNSIGNED_INT, indices);
    glBindVertexArray(0);
    glDepthFunc(GL_LESS);
    glDepthMask(GL_TRUE);
    glDisable(GL_BLEND);
}

void rc_vectors_upload_labels(struct rc_render *r, const struct rc_axes *labels)
{
    if (!labels->count) {
        return;
    }
    struct rc_drape *d = &r->job.drape;
    glGenTextures(1, &d->labels_tex);
    rc_gl_atlas_upload(d->labels_tex, &labels->atlas);
    d->labels = *labels;
    d->labels.atlas.rgba = NULL; /* the overlay's; uploaded above */
}

/* `p` in the scene's pixels, top row first (m is flipped); false behind the eye. */
static bool project(const float m[16], struct rc_rect scene, const float p[3], float out[2])
{
    float c[4];
    for (int row = 0; row < 4; row++) {
        c[row] = m[row] * p[0] + m[4 + row] * p[1] + m[8 + row] * p[2] + m[12 + row];
    }
    if (c[3] <= 1e-6f) {
        return false;
    }
    out[0] = (float)scene.x + (c[0] / c[3] + 1) / 2 * (float)scene.w;
    out[1] = (float)scene.y + (c[1] / c[3] + 1) / 2 * (float)scene.h;
    return true;
}

static bool overlaps(const struct rc_rect *a, const struct rc_rect *b)
{
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

/* Each label just inside the raster from where its line meets the edge: moved
 * along the direction into the raster as the frame shows it, by half its size
 * and a gap; one that leaves the scene or meets a label already placed is left
 * out of this frame. */
void rc_vectors_draw_labels(struct rc_render *r, const float m[16])
{
    const struct rc_axes *a = &r->job.drape.labels;
    if (!a->count) {
        return;
    }
    struct rc_rect scene = r->job.panels.scene, placed[RC_AXES_MAX_LABELS];
    size_t n = 0;
    rc_render_overlay_pass(r, r->job.drape.labels_tex, &a->atlas);
    for (size_t i = 0; i < a->count; i++) {
        const struct rc_axis_label *l = &a->labels[i];
        float in[3] = {l->at[0] + 0.01f * l->out[0], l->at[1] + 0.01f * l->out[1], l->at[2]};
        float p[2], q[2];
        if (!project(m, scene, l->at, p) || !project(m, scene, in, q)) {
            continue;
        }
        float dx = q[0] - p[0], dy = q[1] - p[1], len = hypotf(dx, dy);
        if (len <= 0) {
            continue;
        }
        dx /= len;
        dy /= len;
        float push = fabsf(dx) * (float)l->src.w / 2 + fabsf(dy) * (float)l->src.h / 2 + 3;
        struct rc_rect at = {(int)lroundf(p[0] + dx * push - (float)l->src.w / 2),
                             (int)lroundf(p[1] + dy * push - (float)l->src.h / 2), l->src.w,
                             l->src.h};
        bool clear = at.x >= scene.x && at.y >= scene.y && at.x + at.w <= scene.x + scene.w &&
                     at.y + at.h <= scene.y + scene.h;
        for (size_t k = 0; clear && k < n; k++) {
            clear = !overlaps(&at, &placed[k]);
        }
        if (!clear) {
            continue;
        }
        placed[n++] = at;
        glUniform4f(r->o_rect, (float)at.x, (float)at.y, (float)at.w, (float)at.h);
        glUniform2f(r->o_shift, (float)l->src.x - (float)at.x, (float)l->src.y - (float)at.y);
        glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    }
    glUniform2f(r->o_shift, 0, 0);
    glUniform2f(r->o_tex, 0, 0);
    glBindVertexArray(0);
    glDisable(GL_BLEND);
}

void rc_vectors_release(struct rc_render *r)
{
    glDeleteTextures(1, &r->job.drape.labels_tex);
    glDeleteTextures(1, &r->job.drape.tex);
    r->job.drape = (struct rc_drape){0};
}
