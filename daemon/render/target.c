#include "render/gl.h"

#include <assert.h>
#include <stdlib.h>

static GLuint texture_2d(GLenum format, unsigned w, unsigned h)
{
    GLuint tex;
    glGenTextures(1, &tex);
    glBindTexture(GL_TEXTURE_2D, tex);
    glTexStorage2D(GL_TEXTURE_2D, 1, format, (GLsizei)w, (GLsizei)h);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    return tex;
}

static enum rc_err check_framebuffer(struct rc_error *err)
{
    GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
    if (status != GL_FRAMEBUFFER_COMPLETE) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "framebuffer incomplete (0x%x)",
                            (unsigned)status);
    }
    return RC_OK;
}

/* The frame's framebuffer (a texture, so it can be converted), the I420 target
 * when the size allows packing four bytes a texel, and the readback ring. */
enum rc_err rc_target_create(struct rc_render *r, unsigned w, unsigned h, bool gpu_convert,
                             struct rc_error *err)
{
    r->color_tex = texture_2d(GL_RGBA8, w, h);
    glGenRenderbuffers(1, &r->depth_rb);
    glBindRenderbuffer(GL_RENDERBUFFER, r->depth_rb);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_DEPTH_COMPONENT24, (GLsizei)w, (GLsizei)h);
    glGenFramebuffers(1, &r->fbo);
    glBindFramebuffer(GL_FRAMEBUFFER, r->fbo);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, r->color_tex, 0);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT, GL_RENDERBUFFER, r->depth_rb);
    enum rc_err rc = check_framebuffer(err);
    if (rc != RC_OK) {
        return rc;
    }
    r->i420 = gpu_convert && w % 8 == 0 && h % 4 == 0;
    if (r->i420) {
        r->yuv_tex = texture_2d(GL_RGBA8, w / 4, h * 3 / 2);
        glGenFramebuffers(1, &r->yuv_fbo);
        glBindFramebuffer(GL_FRAMEBUFFER, r->yuv_fbo);
        glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, r->yuv_tex, 0);
        rc = check_framebuffer(err);
        if (rc != RC_OK) {
            return rc;
        }
    }
    r->frame_bytes = r->i420 ? (size_t)w * h * 3 / 2 : (size_t)w * h * 4;
    r->ring_size = r->display->info.hardware ? RC_RENDER_RING : 1;
    for (size_t i = 0; i < r->ring_size; i++) {
        glGenBuffers(1, &r->ring[i].pbo);
        glBindBuffer(GL_PIXEL_PACK_BUFFER, r->ring[i].pbo);
        glBufferData(GL_PIXEL_PACK_BUFFER, (GLsizeiptr)r->frame_bytes, NULL, GL_STREAM_READ);
    }
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    r->width = w;
    r->height = h;
    return RC_OK;
}

/* The finished frame, packed as I420 bytes into the width/4 x 3h/2 target. */
static void convert_to_i420(struct rc_render *r)
{
    glBindFramebuffer(GL_FRAMEBUFFER, r->yuv_fbo);
    glDisable(GL_CULL_FACE);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_BLEND);
    GLsizei tw = (GLsizei)(r->width / 4), th = (GLsizei)(r->height * 3 / 2);
    glViewport(0, 0, tw, th);
    glUseProgram(r->yuv_program);
    glActiveTexture(GL_TEXTURE5);
    glBindTexture(GL_TEXTURE_2D, r->color_tex);
    glUniform1i(r->y_scene, 5);
    glUniform1i(r->y_width, (GLint)r->width);
    glUniform1i(r->y_height, (GLint)r->height);
    glUniform4f(r->y_rect, 0.0f, 0.0f, (float)tw, (float)th);
    glUniform2f(r->y_canvas, (float)tw, (float)th);
    glBindVertexArray(r->quad_vao);
    glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    glBindVertexArray(0);
}

void rc_target_read_back(struct rc_render *r, size_t index)
{
    if (r->i420) {
        convert_to_i420(r);
    }

    struct slot *s = &r->ring[r->drawn % r->ring_size];
    glBindBuffer(GL_PIXEL_PACK_BUFFER, s->pbo);
    if (r->i420) {
        glReadPixels(0, 0, (GLsizei)(r->width / 4), (GLsizei)(r->height * 3 / 2), GL_RGBA,
                     GL_UNSIGNED_BYTE, NULL);
    } else {
        glReadPixels(0, 0, (GLsizei)r->width, (GLsizei)r->height, GL_RGBA, GL_UNSIGNED_BYTE, NULL);
    }
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    s->fence = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
    s->index = index;
    glFlush();
    r->drawn++;
}

size_t rc_render_ring_size(const struct rc_render *render)
{
    return render->ring_size;
}

size_t rc_render_in_flight(const struct rc_render *render)
{
    return render->drawn - render->read;
}

bool rc_render_frames_are_i420(const struct rc_render *render)
{
    return render->i420;
}

size_t rc_render_frame_bytes(const struct rc_render *render)
{
    return render->frame_bytes;
}

enum rc_err rc_render_read(struct rc_render *render, rc_render_take take, void *ctx, size_t *index,
                           struct rc_error *err)
{
    struct rc_render *r = render;
    rc_render_assert_current(r);
    if (rc_render_in_flight(r) == 0) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "no frame in flight");
    }
    struct slot *s = &r->ring[r->read % r->ring_size];
    const GLuint64 timeout_ns = 10ull * 1000 * 1000 * 1000;
    GLenum waited = glClientWaitSync(s->fence, GL_SYNC_FLUSH_COMMANDS_BIT, timeout_ns);
    glDeleteSync(s->fence);
    s->fence = NULL;
    if (waited == GL_TIMEOUT_EXPIRED || waited == GL_WAIT_FAILED) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "GPU did not finish a frame");
    }
    size_t bytes = r->frame_bytes;
    glBindBuffer(GL_PIXEL_PACK_BUFFER, s->pbo);
    const void *mapped =
        glMapBufferRange(GL_PIXEL_PACK_BUFFER, 0, (GLsizeiptr)bytes, GL_MAP_READ_BIT);
    enum rc_err rc = RC_OK;
    if (mapped) {
        take(ctx, mapped);
        glUnmapBuffer(GL_PIXEL_PACK_BUFFER);
    } else {
        rc = rc_error_set(err, RC_ERR_INTERNAL, "", "mapping a readback buffer failed");
    }
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    *index = s->index;
    r->read++;
    return rc;
}
