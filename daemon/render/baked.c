/*
 * baked: a band's colours, worked out once instead of every frame.
 *
 * A band's colour at each raster texel is the same in every frame that shows that
 * band alone: the value, its colormap entry, no data and the background depend on
 * nothing that moves, and neither does the light of a sun fixed to the ground
 * (diffuse and ambient; a specular term follows the eye). So the first such frame
 * draws the scene program over the raster's plane, texel for texel, into an RGBA8
 * texture of the raster's size, and every frame showing that band draws that
 * texture with one fetch a pixel (coloured.frag) through the same vertex shader:
 * the same texel is chosen, and 8-bit colours survive the round trip exactly. A
 * surface lit that way is shaded per texel, from the normals of the full-resolution
 * heights, as matplotlib's LightSource.shade shades an image. Frames between two
 * bands (blend) and surfaces under the light kit, which follows the camera, still
 * colour every pixel. On llvmpipe, where a fine surface mesh runs the fragment
 * shader several times a pixel (partly covered blocks), this is most of a frame's
 * drawing (bench/NOTES.md).
 */
#include <stdint.h>

#include "assets.h"
#include "render/gl.h"

enum rc_err rc_baked_program_create(struct rc_render *r, struct rc_error *err)
{
    r->baked_program =
        rc_gl_program("coloured", rc_shader_scene_vert, rc_shader_coloured_frag, err);
    if (!r->baked_program) {
        return err ? err->code : RC_ERR_INTERNAL;
    }
    GLuint p = r->baked_program;
    r->k_view_projection = glGetUniformLocation(p, "u_view_projection");
    r->k_extent = glGetUniformLocation(p, "u_extent");
    r->k_surface = glGetUniformLocation(p, "u_surface");
    r->k_height_scale = glGetUniformLocation(p, "u_height_scale");
    r->k_has_heights = glGetUniformLocation(p, "u_has_heights");
    r->k_band_a = glGetUniformLocation(p, "u_band_a");
    r->k_band_b = glGetUniformLocation(p, "u_band_b");
    glUseProgram(p);
    /* Each sampler type on its own unit. */
    glUniform1i(glGetUniformLocation(p, "u_values"), 0);
    glUniform1i(glGetUniformLocation(p, "u_heights"), 4);
    glUniform1i(glGetUniformLocation(p, "u_colours"), RC_BAKED_UNIT);
    glUseProgram(0);
    r->job.baked.baked_band = SIZE_MAX;
    return RC_OK;
}

/* The job's RGBA8 target of the raster's size; false (and nothing left) when the
 * driver cannot make it, and the frames colour their pixels as before. */
static bool make_target(struct rc_render *r)
{
    glGenTextures(1, &r->job.baked.baked_tex);
    glActiveTexture(GL_TEXTURE0 + RC_BAKED_UNIT); /* a unit the scene program does not read */
    glBindTexture(GL_TEXTURE_2D, r->job.baked.baked_tex);
    glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA8, (GLsizei)r->job.layers.values_w,
                   (GLsizei)r->job.layers.values_h);
    /* "linear": the band's colours blend between texel centres, as scene.frag's do. */
    GLint filter = r->job.layers.linear ? GL_LINEAR : GL_NEAREST;
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glGenFramebuffers(1, &r->job.baked.baked_fbo);
    glBindFramebuffer(GL_FRAMEBUFFER, r->job.baked.baked_fbo);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D,
                           r->job.baked.baked_tex, 0);
    bool complete = glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
    glBindFramebuffer(GL_FRAMEBUFFER, r->job.target.fbo);
    /* The job's, for every frame: a surface's vertices rise as the scene's do. */
    const struct rc_layers *l = &r->job.layers;
    glUseProgram(r->baked_program);
    glUniform2f(r->k_extent, l->extent[0], l->extent[1]);
    glUniform1i(r->k_surface, l->surface);
    glUniform1f(r->k_height_scale, l->height_scale);
    glUniform1i(r->k_has_heights, l->has_heights);
    if (!complete) {
        glDeleteTextures(1, &r->job.baked.baked_tex);
        glDeleteFramebuffers(1, &r->job.baked.baked_fbo);
        r->job.baked.baked_tex = r->job.baked.baked_fbo = 0;
        r->job.baked.baked_off = true;
    }
    return complete;
}

/* Colours `band` into r->job.baked.baked_tex with the job's scene program, whose other
 * uniforms and textures rc_render_draw() has set for this frame. */
static void bake(struct rc_render *r, size_t band)
{
    GLboolean culled = glIsEnabled(GL_CULL_FACE);
    glDisable(GL_CULL_FACE);
    glDisable(GL_DEPTH_TEST);
    glBindFramebuffer(GL_FRAMEBUFFER, r->job.baked.baked_fbo);
    glViewport(0, 0, (GLsizei)r->job.layers.values_w, (GLsizei)r->job.layers.values_h);
    /* The raster's plane onto the whole target, texel row j at target row j: world
     * x = (u - 0.5) * extent, y = (0.5 - v) * extent (scene.vert), so clip x = 2u - 1
     * and clip y = 2v - 1; a surface's heights are flattened (clip z = 0). The whole
     * plane, holes included, as one quad. Column-major. */
    const float m[16] = {2.0f / r->job.layers.extent[0],
                         0,
                         0,
                         0,
                         0,
                         -2.0f / r->job.layers.extent[1],
                         0,
                         0,
                         0,
                         0,
                         0,
                         0,
                         0,
                         0,
                         0,
                         1};
    glUseProgram(r->job.layers.prog->program);
    glUniformMatrix4fv(r->job.layers.prog->u_view_projection, 1, GL_FALSE, m);
    glUniform1i(r->job.layers.prog->u_band_a, (GLint)band);
    glUniform1i(r->job.layers.prog->u_band_b, (GLint)band);
    glUniform1f(r->job.layers.prog->u_blend, 0.0f);
    glBindVertexArray(r->quad_vao);
    glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    r->job.baked.baked_band = band;
    glBindFramebuffer(GL_FRAMEBUFFER, r->job.target.fbo);
    glViewport(r->job.panels.scene.x, r->job.panels.scene.y, r->job.panels.scene.w,
               r->job.panels.scene.h);
    if (r->job.layers.surface) {
        glEnable(GL_DEPTH_TEST);
    }
    if (culled) {
        glEnable(GL_CULL_FACE);
    }
}

/* Whether a frame showing bands `band_a` and `band_b` can draw from colours worked
 * out once: one band, and the job's texture for them made (now, if need be). */
static bool one_band_ready(struct rc_render *r, size_t band_a, size_t band_b)
{
    return band_a == band_b && !r->job.baked.baked_off &&
           (r->job.baked.baked_tex || make_target(r));
}

/* Whether the job's colours stay put from frame to frame: not under the light kit
 * (it follows the camera) nor with a specular term (it follows the eye). */
static bool fixed_colours(const struct rc_layers *l)
{
    const struct rc_light_settings *light = &l->lighting;
    return !l->surface || !light->enabled || (!light->kit && light->specular <= 0);
}

bool rc_baked_draw(struct rc_render *r, size_t band_a, size_t band_b, const float m[16],
                   const void *indices)
{
    if (!fixed_colours(&r->job.layers) || !one_band_ready(r, band_a, band_b)) {
        return false;
    }
    if (r->job.baked.baked_band != band_a) {
        bake(r, band_a);
    }
    glUseProgram(r->baked_program);
    glUniformMatrix4fv(r->k_view_projection, 1, GL_FALSE, m);
    glUniform1i(r->k_band_a, (GLint)band_a); /* the heights a surface's vertices read */
    glUniform1i(r->k_band_b, (GLint)band_a);
    glActiveTexture(GL_TEXTURE0 + RC_BAKED_UNIT);
    glBindTexture(GL_TEXTURE_2D, r->job.baked.baked_tex);
    glBindVertexArray(r->job.layers.vao);
    glDrawElements(GL_TRIANGLES, r->job.layers.index_count, GL_UNSIGNED_INT, indices);
    glBindVertexArray(0);
    r->job.baked.baked_frames++;
    return true;
}

struct scene_program *rc_baked_lit(struct rc_render *r, size_t band_a, size_t band_b)
{
    struct rc_layers *l = &r->job.layers;
    /* Blended colours mark no data by alpha 0 only texel for texel: not "linear". */
    bool kit = l->surface && l->lighting.enabled && l->lighting.kit && !l->linear;
    if (!kit || !one_band_ready(r, band_a, band_b)) {
        return l->prog;
    }
    if (r->job.baked.baked_band != band_a) {
        glUseProgram(l->prog->program);
        glUniform1i(l->prog->u_raw, 1);
        bake(r, band_a);
        glUniform1i(l->prog->u_raw, 0);
    }
    glActiveTexture(GL_TEXTURE0 + RC_BAKED_UNIT);
    glBindTexture(GL_TEXTURE_2D, r->job.baked.baked_tex);
    r->job.baked.baked_frames++;
    return &r->kit_baked;
}

void rc_baked_release(struct rc_render *r)
{
    glDeleteTextures(1, &r->job.baked.baked_tex);
    glDeleteFramebuffers(1, &r->job.baked.baked_fbo);
    r->job.baked.baked_tex = r->job.baked.baked_fbo = 0;
    r->job.baked.baked_band = SIZE_MAX;
    r->job.baked.baked_frames = 0;
    r->job.baked.baked_off = false;
}
