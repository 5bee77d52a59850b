#include "render/gl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"

/* VTK's light kit (vtkLightKit defaults): elevation and azimuth relative to the
 * camera, in degrees, and intensity. */
static const struct {
    double elevation, azimuth, power;
} light_kit[] = {
    {50, 10, 0.75},        /* key */
    {-75, -10, 0.75 / 3},  /* fill */
    {0, 110, 0.75 / 3.5},  /* back, right */
    {0, -110, 0.75 / 3.5}, /* back, left */
    {0, 0, 0.75 / 6},      /* head: along the view */
};

enum { KIT_LIGHTS = sizeof(light_kit) / sizeof(light_kit[0]) };

/* One variant of the scene program: `lights` > 0 compiles the lighting in
 * (RC_LIT) for that many lights (RC_LIGHTS, a loop of constant length, which
 * unrolls: bounded by a uniform it cost llvmpipe 10 % more for the kit's five);
 * one light also gets the specular term (the kit has none). */
static enum rc_err scene_program(struct scene_program *p, int lights, bool baked,
                                 struct rc_error *err)
{
    const char *src = rc_shader_scene_frag;
    const char *line = strchr(src, '\n'); /* after "#version 300 es" */
    size_t head = line ? (size_t)(line - src) + 1 : 0;
    char define[128] = "";
    if (lights > 0) {
        /* The kit's per-pixel program also writes the unlit colours its baked
         * variant reads (u_raw); no other program pays for that branch. */
        snprintf(define, sizeof(define), "#define RC_LIT 1\n#define RC_LIGHTS %d\n%s%s", lights,
                 lights == 1 ? "#define RC_SPECULAR 1\n" : "",
                 baked        ? "#define RC_BAKED 1\n"
                 : lights > 1 ? "#define RC_RAW 1\n"
                              : "");
    }
    size_t len = strlen(src) + strlen(define) + 1;
    char *frag = malloc(len);
    if (!frag) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    snprintf(frag, len, "%.*s%s%s", (int)head, src, define, src + head);
    p->program = rc_gl_program(baked        ? "scene_kit_baked"
                               : lights > 1 ? "scene_kit"
                               : lights     ? "scene_lit"
                                            : "scene",
                               rc_shader_scene_vert, frag, err);
    free(frag);
    if (!p->program) {
        return err ? err->code : RC_ERR_INTERNAL;
    }
#define UNIFORM(name) p->name = glGetUniformLocation(p->program, #name)
    UNIFORM(u_view_projection);
    UNIFORM(u_extent);
    UNIFORM(u_values);
    UNIFORM(u_lut);
    UNIFORM(u_lut_size);
    UNIFORM(u_band_a);
    UNIFORM(u_band_b);
    UNIFORM(u_blend);
    UNIFORM(u_background);
    UNIFORM(u_nodata_rgb);
    UNIFORM(u_surface);
    UNIFORM(u_height_scale);
    UNIFORM(u_normals);
    UNIFORM(u_light_dirs);
    UNIFORM(u_light_power);
    UNIFORM(u_ambient);
    UNIFORM(u_diffuse);
    UNIFORM(u_specular);
    UNIFORM(u_shininess);
    UNIFORM(u_eye);
    UNIFORM(u_heights);
    UNIFORM(u_has_heights);
    UNIFORM(u_normal_a);
    UNIFORM(u_normal_b);
    UNIFORM(u_transparent);
    UNIFORM(u_linear);
    UNIFORM(u_nodata_rgba);
    UNIFORM(u_raw);
#undef UNIFORM
    if (baked) {
        glUseProgram(p->program);
        glUniform1i(glGetUniformLocation(p->program, "u_colours"), RC_BAKED_UNIT);
        glUseProgram(0);
    }
    return RC_OK;
}

enum rc_err rc_scene_programs_create(struct rc_render *r, struct rc_error *err)
{
    enum rc_err rc = scene_program(&r->plain, 0, false, err);
    rc = rc ? rc : scene_program(&r->lit, 1, false, err);
    rc = rc ? rc : scene_program(&r->kit, (int)KIT_LIGHTS, false, err);
    return rc ? rc : scene_program(&r->kit_baked, (int)KIT_LIGHTS, true, err);
}

/* The frame's light directions (towards the lights, world space) and the eye. */
void rc_scene_set_lights(struct rc_render *r, const struct scene_program *p,
                         const struct rc_camera_pose *pose, const double eye[3])
{
    const struct rc_light_settings *l = &r->job.layers.lighting;
    float dirs[KIT_LIGHTS][3], power[KIT_LIGHTS];
    int count = 0;
    if (l->kit) {
        /* The camera's frame: back towards the eye, right, and up on screen. */
        double az = pose->azimuth_deg * M_PI / 180, back[3], right[3], up[3], len = 0;
        for (int i = 0; i < 3; i++) {
            back[i] = eye[i] - pose->target[i];
            len += back[i] * back[i];
        }
        len = sqrt(len);
        right[0] = cos(az);
        right[1] = sin(az);
        right[2] = 0;
        for (int i = 0; i < 3; i++) {
            back[i] /= len;
        }
        up[0] = back[1] * right[2] - back[2] * right[1];
        up[1] = back[2] * right[0] - back[0] * right[2];
        up[2] = back[0] * right[1] - back[1] * right[0];
        if (up[2] < 0) {
            for (int i = 0; i < 3; i++) {
                up[i] = -up[i];
            }
        }
        for (size_t k = 0; k < KIT_LIGHTS; k++) {
            double el = light_kit[k].elevation * M_PI / 180, la = light_kit[k].azimuth * M_PI / 180;
            for (int i = 0; i < 3; i++) {
                dirs[count][i] = (float)(cos(el) * cos(la) * back[i] +
                                         cos(el) * sin(la) * right[i] + sin(el) * up[i]);
            }
            power[count++] = (float)light_kit[k].power;
        }
    } else {
        /* Fixed to the ground, as matplotlib's LightSource: azimuth clockwise from
         * north (+y), towards east (+x). */
        double az = l->azimuth_deg * M_PI / 180, el = l->elevation_deg * M_PI / 180;
        dirs[0][0] = (float)(sin(az) * cos(el));
        dirs[0][1] = (float)(cos(az) * cos(el));
        dirs[0][2] = (float)sin(el);
        power[count++] = 1.0f;
    }
    glUniform3fv(p->u_light_dirs, count, &dirs[0][0]);
    glUniform1fv(p->u_light_power, count, power);
    glUniform3f(p->u_eye, (float)eye[0], (float)eye[1], (float)eye[2]);
}
