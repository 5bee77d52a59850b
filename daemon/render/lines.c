/*
 * lines: what the scene shows as lines and labels beside it — the raster's
 * bounding box (style.outline) and the axes with their tick labels (style.axes),
 * placed each frame by the frame's camera.
 */
#include <math.h>
#include <string.h>

#include "render/gl.h"

/* Line segments: the raster's bounding box when `outline` (its rectangle on the
 * ground, and for a surface the box up to the top of the relief, mlab.outline),
 * and the axes with their tick marks (mlab.axes). */
void rc_lines_make(struct rc_render *r, float top, const uint8_t rgb[3], bool outline,
                   const struct rc_axes *axes)
{
    float x = r->job.layers.extent[0] / 2, y = r->job.layers.extent[1] / 2;
    float c[8][3] = {{-x, -y, 0},   {x, -y, 0},   {x, y, 0},   {-x, y, 0},
                     {-x, -y, top}, {x, -y, top}, {x, y, top}, {-x, y, top}};
    static const int edges[12][2] = {{0, 1}, {1, 2}, {2, 3}, {3, 0}, {4, 5}, {5, 6},
                                     {6, 7}, {7, 4}, {0, 4}, {1, 5}, {2, 6}, {3, 7}};
    float v[2 * (12 + 3 + RC_AXES_MAX_LABELS)][3];
    int n = 0;
    for (int e = 0; outline && e < (top > 0 ? 12 : 4); e++) {
        memcpy(v[n++], c[edges[e][0]], sizeof(v[0]));
        memcpy(v[n++], c[edges[e][1]], sizeof(v[0]));
    }
    r->job.lines.outline_vertices = n;
    static const int axis_edges[3][2] = {{0, 1}, {0, 3}, {0, 4}};
    for (int e = 0; axes && axes->count && e < (top > 0 ? 3 : 2); e++) {
        r->job.lines.axis_first[e] = n;
        memcpy(v[n++], c[axis_edges[e][0]], sizeof(v[0]));
        memcpy(v[n++], c[axis_edges[e][1]], sizeof(v[0]));
        for (size_t i = 0; i < axes->count; i++) {
            const struct rc_axis_label *l = &axes->labels[i];
            if (l->axis != e || l->title) {
                continue;
            }
            for (int k = 0; k < 3; k++) {
                v[n][k] = l->at[k];
                v[n + 1][k] = l->at[k] + RC_AXES_TICK * l->out[k];
            }
            n += 2;
        }
        r->job.lines.axis_vertices[e] = n - r->job.lines.axis_first[e];
    }
    if (!n) {
        return;
    }
    glGenVertexArrays(1, &r->job.lines.outline_vao);
    glBindVertexArray(r->job.lines.outline_vao);
    glGenBuffers(1, &r->job.lines.outline_vbo);
    glBindBuffer(GL_ARRAY_BUFFER, r->job.lines.outline_vbo);
    glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)(sizeof(v[0]) * (size_t)n), v, GL_STATIC_DRAW);
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 3, GL_FLOAT, GL_FALSE, 0, NULL);
    glBindVertexArray(0);
    for (int i = 0; i < 3; i++) {
        r->job.lines.outline_rgb[i] = rgb[i] / 255.0f;
    }
}

/* The axes' label atlas as a texture, and where its labels go. */
void rc_lines_upload_labels(struct rc_render *r, const struct rc_axes *axes)
{
    if (!axes->count) {
        return;
    }
    glGenTextures(1, &r->job.lines.axes_tex);
    rc_gl_atlas_upload(r->job.lines.axes_tex, &axes->atlas);
    r->job.lines.axes = *axes;
    r->job.lines.axes.atlas.rgba = NULL; /* the overlay's; uploaded above */
}

/* The labels where rc_axes_place() puts them for this frame, over everything
 * drawn so far. `m` is the frame's (flipped) view-projection. */
void rc_lines_draw_labels(struct rc_render *r, const float m[16], const double eye[3])
{
    if (!r->job.lines.axes.count) {
        return;
    }
    rc_render_overlay_pass(r, r->job.lines.axes_tex, &r->job.lines.axes.atlas);
    glEnable(GL_SCISSOR_TEST);
    glScissor(r->job.panels.scene.x, r->job.panels.scene.y, r->job.panels.scene.w,
              r->job.panels.scene.h);
    struct rc_rect at[RC_AXES_MAX_LABELS];
    rc_axes_place(&r->job.lines.axes, m, eye, r->job.panels.scene, at);
    for (size_t i = 0; i < r->job.lines.axes.count; i++) {
        const struct rc_axis_label *l = &r->job.lines.axes.labels[i];
        if (!at[i].w) {
            continue; /* it meets the box, a tick or another label in this frame */
        }
        glUniform4f(r->o_rect, (float)at[i].x, (float)at[i].y, (float)at[i].w, (float)at[i].h);
        glUniform2f(r->o_shift, (float)l->src.x - (float)at[i].x, (float)l->src.y - (float)at[i].y);
        glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    }
    glUniform2f(r->o_shift, 0, 0);
    glUniform2f(r->o_tex, 0, 0);
    glBindVertexArray(0);
    glDisable(GL_BLEND);
    glDisable(GL_SCISSOR_TEST);
}

void rc_lines_draw(struct rc_render *r, const float m[16], const double eye[3])
{
    if (!r->job.lines.outline_vao) {
        return;
    }
    glDisable(GL_CULL_FACE);
    glUseProgram(r->line_program);
    glUniform3fv(r->l_color, 1, r->job.lines.outline_rgb);
    glBindVertexArray(r->job.lines.outline_vao);
    glUniformMatrix4fv(r->l_view_projection, 1, GL_FALSE, m);
    if (r->job.lines.outline_vertices) {
        glDrawArrays(GL_LINES, 0, r->job.lines.outline_vertices);
    }
    for (int e = 0; e < 3; e++) {
        if (!r->job.lines.axis_vertices[e]) {
            continue;
        }
        /* m times diag(mirror x, mirror y, 1, 1): columns 0 and 1 change sign. */
        float mirror[2], mm[16];
        rc_axes_mirror(e, eye, mirror);
        for (int k = 0; k < 16; k++) {
            mm[k] = k < 8 ? m[k] * mirror[k / 4] : m[k];
        }
        glUniformMatrix4fv(r->l_view_projection, 1, GL_FALSE, mm);
        glDrawArrays(GL_LINES, r->job.lines.axis_first[e], r->job.lines.axis_vertices[e]);
    }
    glBindVertexArray(0);
}

void rc_lines_release(struct rc_render *r)
{
    glDeleteBuffers(1, &r->job.lines.outline_vbo);
    glDeleteVertexArrays(1, &r->job.lines.outline_vao);
    r->job.lines.outline_vbo = r->job.lines.outline_vao = 0;
    r->job.lines.outline_vertices = 0;
    memset(r->job.lines.axis_vertices, 0, sizeof(r->job.lines.axis_vertices));
    glDeleteTextures(1, &r->job.lines.axes_tex);
    r->job.lines.axes_tex = 0;
    r->job.lines.axes.count = 0;
}
