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
    r->job.target.color_tex = texture_2d(GL_RGBA8, w, h);
    glGenRenderbuffers(1, &r->job.target.depth_rb);
    glBindRenderbuffer(GL_RENDERBUFFER, r->job.target.depth_rb);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_DEPTH_COMPONENT24, (GLsizei)w, (GLsizei)h);
    glGenFramebuffers(1, &r->job.target.fbo);
    glBindFramebuffer(GL_FRAMEBUFFER, r->job.target.fbo);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D,
                           r->job.target.color_tex, 0);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT, GL_RENDERBUFFER,
                              r->job.target.depth_rb);
    enum rc_err rc = check_framebuffer(err);
    if (rc != RC_OK) {
        return rc;
    }
    r->job.target.i420 = gpu_convert && w % 8 == 0 && h % 4 == 0;
    if (r->job.target.i420) {
        r->job.target.yuv_tex = texture_2d(GL_RGBA8, w / 4, h * 3 / 2);
        glGenFramebuffers(1, &r->job.target.yuv_fbo);
        glBindFramebuffer(GL_FRAMEBUFFER, r->job.target.yuv_fbo);
        glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D,
                               r->job.target.yuv_tex, 0);
        rc = check_framebuffer(err);
        if (rc != RC_OK) {
            return rc;
        }
    }
    r->job.target.frame_bytes = r->job.target.i420 ? (size_t)w * h * 3 / 2 : (size_t)w * h * 4;
    r->job.target.ring_size = r->display->info.hardware ? RC_RENDER_RING : 1;
    for (size_t i = 0; i < r->job.target.ring_size; i++) {
        glGenBuffers(1, &r->job.target.ring[i].pbo);
        glBindBuffer(GL_PIXEL_PACK_BUFFER, r->job.target.ring[i].pbo);
        glBufferData(GL_PIXEL_PACK_BUFFER, (GLsizeiptr)r->job.target.frame_bytes, NULL,
                     GL_STREAM_READ);
    }
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    r->job.target.width = w;
    r->job.target.height = h;
    return RC_OK;
}

void rc_target_destroy(struct rc_render *r)
{
    struct rc_target *t = &r->job.target;
    for (size_t i = 0; i < RC_RENDER_RING; i++) {
        if (t->ring[i].fence) {
            glDeleteSync(t->ring[i].fence);
        }
        if (t->ring[i].pbo) {
            glDeleteBuffers(1, &t->ring[i].pbo);
        }
    }
    GLuint textures[] = {t->color_tex, t->yuv_tex};
    glDeleteTextures(2, textures);
    GLuint framebuffers[] = {t->fbo, t->yuv_fbo};
    glDeleteFramebuffers(2, framebuffers);
    glDeleteRenderbuffers(1, &t->depth_rb);
    *t = (struct rc_target){0};
}

/* The finished frame, packed as I420 bytes into the width/4 x 3h/2 target. */
static void convert_to_i420(struct rc_render *r)
{
    glBindFramebuffer(GL_FRAMEBUFFER, r->job.target.yuv_fbo);
    glDisable(GL_CULL_FACE);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_BLEND);
    GLsizei tw = (GLsizei)(r->job.target.width / 4), th = (GLsizei)(r->job.target.height * 3 / 2);
    glViewport(0, 0, tw, th);
    glUseProgram(r->yuv_program);
    glActiveTexture(GL_TEXTURE5);
    glBindTexture(GL_TEXTURE_2D, r->job.target.color_tex);
    glUniform1i(r->y_scene, 5);
    glUniform1i(r->y_width, (GLint)r->job.target.width);
    glUniform1i(r->y_height, (GLint)r->job.target.height);
    glUniform4f(r->y_rect, 0.0f, 0.0f, (float)tw, (float)th);
    glUniform2f(r->y_canvas, (float)tw, (float)th);
    glBindVertexArray(r->quad_vao);
    glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    glBindVertexArray(0);
}

void rc_target_read_back(struct rc_render *r, size_t index)
{
    if (r->job.target.i420) {
        convert_to_i420(r);
    }

    struct slot *s = &r->job.target.ring[r->job.target.drawn % r->job.target.ring_size];
    glBindBuffer(GL_PIXEL_PACK_BUFFER, s->pbo);
    if (r->job.target.i420) {
        glReadPixels(0, 0, (GLsizei)(r->job.target.width / 4),
                     (GLsizei)(r->job.target.height * 3 / 2), GL_RGBA, GL_UNSIGNED_BYTE, NULL);
    } else {
        glReadPixels(0, 0, (GLsizei)r->job.target.width, (GLsizei)r->job.target.height, GL_RGBA,
                     GL_UNSIGNED_BYTE, NULL);
    }
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    s->fence = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
    s->index = index;
    glFlush();
    r->job.target.drawn++;
}

size_t rc_render_ring_size(const struct rc_render *render)
{
    return render->job.target.ring_size;
}

size_t rc_render_in_flight(const struct rc_render *render)
{
    return render->job.target.drawn - render->job.target.read;
}

bool rc_render_frames_are_i420(const struct rc_render *render)
{
    return render->job.target.i420;
}

size_t rc_render_frame_bytes(const struct rc_render *render)
{
    return render->job.target.frame_bytes;
}

enum rc_err rc_render_read(struct rc_render *render, rc_render_take take, void *ctx, size_t *index,
                           struct rc_error *err)
{
    struct rc_render *r = render;
    rc_render_assert_current(r);
    if (rc_render_in_flight(r) == 0) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "no frame in flight");
    }
    struct slot *s = &r->job.target.ring[r->job.target.read % r->job.target.ring_size];
    const GLuint64 timeout_ns = 10ull * 1000 * 1000 * 1000;
    GLenum waited = glClientWaitSync(s->fence, GL_SYNC_FLUSH_COMMANDS_BIT, timeout_ns);
    glDeleteSync(s->fence);
    s->fence = NULL;
    if (waited == GL_TIMEOUT_EXPIRED || waited == GL_WAIT_FAILED) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "GPU did not finish a frame");
    }
    size_t bytes = r->job.target.frame_bytes;
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
    r->job.target.read++;
    return rc;
}
