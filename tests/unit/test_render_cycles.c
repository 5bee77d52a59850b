/* A worker's renderer over many jobs: 50 begin / draw / read / end cycles on
 * Mesa's llvmpipe (or the GPU EGL finds), in image and surface mode, lit and
 * not, with and without heights and the outline, and afterwards no GL name is
 * alive that was not before the first job: each job piece is freed by the file
 * that made it. */
#include <GLES3/gl3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "render/render.h"

enum { NAMES = 4096 };

/* Which texture, buffer, framebuffer, renderbuffer and vertex-array names exist. */
static void alive(uint8_t out[5][NAMES])
{
    for (GLuint n = 1; n < NAMES; n++) {
        out[0][n] = glIsTexture(n);
        out[1][n] = glIsBuffer(n);
        out[2][n] = glIsFramebuffer(n);
        out[3][n] = glIsRenderbuffer(n);
        out[4][n] = glIsVertexArray(n);
    }
}

static void take(void *ctx, const uint8_t *pixels)
{
    *(uint8_t *)ctx = pixels[0];
}

int main(void)
{
    struct rc_error err = {0};
    struct rc_gpu *gpu = NULL;
    struct rc_render *r = NULL;
    if (rc_gpu_create(-1, &gpu, &err) != RC_OK || rc_render_create(gpu, 0, &r, &err) != RC_OK) {
        fprintf(stderr, "no renderer: %s\n", err.message);
        return 1;
    }
    static uint8_t before[5][NAMES], after[5][NAMES];
    alive(before);
    float values[2 * 16 * 8];
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        values[i] = (float)(i % 37);
    }
    double range[2][2] = {{0, 36}, {0, 36}};
    struct rc_bands bands = {.values = values,
                             .width = 16,
                             .height = 8,
                             .count = 2,
                             .valid_min = 0,
                             .valid_max = 36,
                             .range = (const double(*)[2])range};
    struct rc_colormap map;
    CHECK(rc_colormap_from_name(&map, "viridis", "", &err) == RC_OK);
    for (int job = 0; job < 50; job++) {
        bool surface = job % 2 == 1;
        struct rc_render_settings s = {
            .width = 64,
            .height = 36,
            .surface = surface,
            .lighting = {.enabled = job % 4 == 1,
                         .kit = job % 8 == 1,
                         .ambient = 0.25,
                         .diffuse = 1},
            .height_scale = 0.2,
            .mesh_cells = surface ? 8 : 1,
            .colormap = &map,
            .values = &bands,
            .heights = job % 6 == 3 ? &bands : NULL,
            .extent = {1, 0.5f},
            .vmin = 0,
            .vmax = 36,
            .per_band = job % 5 == 0,
            .background = {255, 255, 255, job % 7 == 0 ? 0 : 255},
            .outline = job % 3 == 0,
            .outline_rgb = {32, 32, 32},
            .transparent = job % 7 == 0,
        };
        CHECK(rc_render_begin(r, &s, &err) == RC_OK);
        for (size_t f = 0; f < 3; f++) {
            struct rc_render_frame frame = {.index = f,
                                            .pose = {.azimuth_deg = 30.0 * (double)f,
                                                     .elevation_deg = 35,
                                                     .distance = 2.2,
                                                     .fov_deg = 30},
                                            .band_a = f % 2,
                                            .band_b = (f + 1) % 2,
                                            .blend = f == 1 ? 0.5f : 0.0f};
            CHECK(rc_render_draw(r, &frame, &err) == RC_OK);
            uint8_t first = 0;
            size_t index = 99;
            CHECK(rc_render_read(r, take, &first, &index, &err) == RC_OK);
            CHECK(index == f);
        }
        rc_render_end(r);
    }
    alive(after);
    size_t leaked = 0;
    static const char *const kinds[] = {"texture", "buffer", "framebuffer", "renderbuffer",
                                        "vertex array"};
    for (int k = 0; k < 5; k++) {
        for (GLuint n = 1; n < NAMES; n++) {
            if (after[k][n] && !before[k][n]) {
                fprintf(stderr, "  %s %u is alive after the jobs\n", kinds[k], n);
                leaked++;
            }
        }
    }
    CHECK(leaked == 0);
    CHECK(glGetError() == GL_NO_ERROR);
    rc_render_destroy(r);
    rc_gpu_destroy(gpu);
    return CHECK_DONE();
}
