/* Colorbar and title: ticks, labels, text rendering, layout beside the scene;
 * the axes' labels and where they go. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/camera.h"
#include "base/colormap.h"
#include "check.h"
#include "overlay/overlay.h"
#include "overlay/text.h"

static void test_ticks(void)
{
    double t[RC_OVERLAY_MAX_TICKS];
    size_t n = rc_overlay_ticks(236, 1076, 0, RC_OVERLAY_MAX_TICKS, t);
    CHECK(n == 4 && t[0] == 250 && t[1] == 500 && t[3] == 1000);
    n = rc_overlay_ticks(0, 1, 0, RC_OVERLAY_MAX_TICKS, t);
    CHECK(n == 3 && t[0] == 0.25 && t[2] == 0.75); /* ends excluded */
    n = rc_overlay_ticks(-1.88, 1.41, 0, RC_OVERLAY_MAX_TICKS, t);
    CHECK(n == 3 && t[0] == -1 && t[1] == 0 && t[2] == 1);
    CHECK(rc_overlay_ticks(5, 5, 0, RC_OVERLAY_MAX_TICKS, t) == 0);
    char buf[32];
    rc_overlay_format(0.25, 0.25, buf, sizeof(buf));
    CHECK(strcmp(buf, "0.25") == 0);
    rc_overlay_format(750, 250, buf, sizeof(buf));
    CHECK(strcmp(buf, "750") == 0);
    rc_overlay_format(1e20, 1e19, buf, sizeof(buf));
    CHECK(strcmp(buf, "1e+20") == 0);
}

static void test_utf8(void)
{
    const char *s = "a\xc3\xa9\xe2\x80\x94\xff";
    CHECK(rc_utf8_next(&s) == 'a');
    CHECK(rc_utf8_next(&s) == 0xE9);
    CHECK(rc_utf8_next(&s) == 0x2014);
    CHECK(rc_utf8_next(&s) == 0xFFFD);
    CHECK(*s == '\0');
    const char *overlong = "\xc0\xaf";
    CHECK(rc_utf8_next(&overlong) == 0xFFFD);
}

static size_t inked(const struct rc_canvas *c, struct rc_rect r)
{
    size_t n = 0;
    for (int y = r.y; y < r.y + r.h; y++) {
        for (int x = r.x; x < r.x + r.w; x++) {
            n += c->rgba[4 * ((size_t)y * c->width + x) + 3] > 0;
        }
    }
    return n;
}

static void test_layout(void)
{
    struct rc_text *text = NULL;
    struct rc_error err = {0};
    CHECK(rc_text_create(&text, &err) == RC_OK);
    int w, ascent, descent;
    rc_text_measure(text, "Elevation", 12, &w, &ascent, &descent);
    CHECK(w > 30 && w < 100 && ascent > 5 && descent > 0);

    struct rc_colormap viridis;
    rc_colormap_from_name(&viridis, "viridis", "", NULL);
    struct rc_overlay_settings spec = {.width = 640,
                                       .height = 360,
                                       .colorbar = true,
                                       .colorbar_label = "m",
                                       .title = "Title",
                                       .colormap = &viridis,
                                       .vmin = 236,
                                       .vmax = 1076};
    memset(spec.background, 255, 4);
    CHECK(rc_overlay_wanted(&spec));
    struct rc_overlay *o = NULL;
    CHECK(rc_overlay_create(&spec, text, &o, &err) == RC_OK);
    CHECK(o->panel_count == 2);
    const struct rc_rect *title = &o->panels[0], *bar_panel = &o->panels[1];
    /* The scene is what the title and the bar leave. */
    CHECK(o->scene.y == title->h && o->scene.x == 0);
    CHECK(o->scene.x + o->scene.w == bar_panel->x);
    CHECK(o->scene.h == 360 - title->h);
    CHECK(bar_panel->x + bar_panel->w == 640 && bar_panel->w < 640 / 3);
    /* The title has ink; the scene area has none. */
    CHECK(inked(&o->canvas, *title) > 50);
    CHECK(inked(&o->canvas, o->scene) == 0);
    /* The ramp: bottom row is the map's first colour, top row its last. */
    const struct rc_rect *bar = &o->bar;
    CHECK(bar->x >= bar_panel->x && bar->y >= bar_panel->y && bar->h > 100);
    const uint8_t *bottom = o->canvas.rgba + 4 * ((size_t)(bar->y + bar->h - 1) * 640 + bar->x + 2);
    const uint8_t *top = o->canvas.rgba + 4 * ((size_t)bar->y * 640 + bar->x + 2);
    CHECK(memcmp(bottom, viridis.rgba[0], 3) == 0 && bottom[3] == 255);
    CHECK(memcmp(top, viridis.rgba[255], 3) == 0);
    rc_overlay_destroy(o);

    spec.title = "";
    spec.colorbar = false;
    CHECK(!rc_overlay_wanted(&spec));
    rc_text_destroy(text);
}

/* Axis `axis`'s labels of an overlay with axes over x, y (and z when given),
 * joined by "|", the title last after "/". */
static void axis_texts(struct rc_text *text, enum rc_axes_kind kind, double unit_m,
                       const char *unit, const double x[2], const double y[2], const double z[2],
                       int axis, char *out, size_t size)
{
    struct rc_overlay_settings st = {.width = 640,
                                     .height = 360,
                                     .title = "",
                                     .axes = true,
                                     .axis_kind = kind,
                                     .axis_unit_m = unit_m,
                                     .axis_unit = unit,
                                     .axis_z_title = "Height (m)",
                                     .axis_x = {x[0], x[1]},
                                     .axis_y = {y[0], y[1]},
                                     .axis_z = {z ? z[0] : NAN, z ? z[1] : NAN},
                                     .extent = {1.0f, 0.8f},
                                     .top = z ? 0.3f : 0.0f};
    memset(st.background, 255, 4);
    struct rc_overlay *o = NULL;
    struct rc_error err = {0};
    out[0] = '\0';
    CHECK(rc_overlay_create(&st, text, &o, &err) == RC_OK);
    if (!o) {
        return;
    }
    size_t n = 0;
    const char *title = "";
    for (size_t i = 0; i < o->axes.count; i++) {
        const struct rc_axis_label *l = &o->axes.labels[i];
        if (l->axis == axis && l->title) {
            title = l->text;
        } else if (l->axis == axis) {
            n += (size_t)snprintf(out + n, size - n, "%s%s", n ? "|" : "", l->text);
        }
    }
    snprintf(out + n, size - n, "/%s", title);
    rc_overlay_destroy(o);
}

static void test_axes_texts(void)
{
    struct rc_text *text = NULL;
    struct rc_error err = {0};
    CHECK(rc_text_create(&text, &err) == RC_OK);
    char got[512];
    /* UTM 17N, 31 km across: kilometres, one notation, titles with the unit. */
    const double e[2] = {194015.86, 225173.4}, n[2] = {4037869.5, 4070679.98};
    axis_texts(text, RC_AXES_PROJECTED, 1.0, "m", e, n, NULL, 0, got, sizeof(got));
    CHECK(strcmp(got, "200|210|220/Easting (km)") == 0);
    axis_texts(text, RC_AXES_PROJECTED, 1.0, "m", e, n, NULL, 1, got, sizeof(got));
    CHECK(strcmp(got, "4040|4050|4060|4070/Northing (km)") == 0);
    /* Under 10 km across: the CRS's own unit, never 5.16e+06. */
    const double e2[2] = {500000, 508000}, n2[2] = {5160000, 5166000};
    axis_texts(text, RC_AXES_PROJECTED, 1.0, "m", e2, n2, NULL, 1, got, sizeof(got));
    CHECK(strcmp(got, "5162000|5164000/Northing (m)") == 0);
    /* Feet: 20000 ft (6 km) stays in feet; 40000 ft (12 km) is in km. */
    const double f1[2] = {0, 20000}, f2[2] = {0, 40000};
    axis_texts(text, RC_AXES_PROJECTED, 0.3048, "ft", f1, f1, NULL, 0, got, sizeof(got));
    CHECK(strcmp(got, "5000|10000|15000/Easting (ft)") == 0);
    axis_texts(text, RC_AXES_PROJECTED, 0.3048, "ft", f2, f2, NULL, 0, got, sizeof(got));
    CHECK(strcmp(got, "5|10/Easting (km)") == 0);
    /* Degrees with their hemisphere. */
    const double lon[2] = {-84.41375, -84.0779}, lat[2] = {36.4463, 36.7329};
    axis_texts(text, RC_AXES_DEGREES, 1.0, "deg", lon, lat, NULL, 0, got, sizeof(got));
    CHECK(strcmp(got, "84.4\u00b0W|84.3\u00b0W|84.2\u00b0W|84.1\u00b0W/Longitude") == 0);
    axis_texts(text, RC_AXES_DEGREES, 1.0, "deg", lon, lat, NULL, 1, got, sizeof(got));
    CHECK(strcmp(got, "36.5\u00b0N|36.6\u00b0N|36.7\u00b0N/Latitude") == 0);
    const double across[2] = {-1, 1}, south[2] = {-20, -5}, east360[2] = {170, 200};
    axis_texts(text, RC_AXES_DEGREES, 1.0, "deg", across, south, NULL, 0, got, sizeof(got));
    CHECK(strcmp(got, "0.5\u00b0W|0\u00b0|0.5\u00b0E/Longitude") == 0);
    axis_texts(text, RC_AXES_DEGREES, 1.0, "deg", across, south, NULL, 1, got, sizeof(got));
    CHECK(strcmp(got, "15\u00b0S|10\u00b0S/Latitude") == 0);
    axis_texts(text, RC_AXES_DEGREES, 1.0, "deg", east360, south, NULL, 0, got, sizeof(got));
    CHECK(strcmp(got, "180\u00b0|170\u00b0W/Longitude") == 0);
    /* z: data values in one notation, scientific for all when large. */
    const double z[2] = {0, 2e6}, cells[2] = {0, 400};
    axis_texts(text, RC_AXES_CELLS, 1.0, "", cells, cells, z, 2, got, sizeof(got));
    CHECK(strcmp(got, "5.0e+05|1.0e+06|1.5e+06/Height (m)") == 0);
    axis_texts(text, RC_AXES_CELLS, 1.0, "", cells, cells, z, 0, got, sizeof(got));
    CHECK(strcmp(got, "100|200|300/Column") == 0);
    axis_texts(text, RC_AXES_PLAIN, 1.0, "", cells, cells, z, 1, got, sizeof(got));
    CHECK(strcmp(got, "100|200|300/y") == 0);
    rc_text_destroy(text);
}

/* For camera poses all round and from low to overhead: every label shown lies
 * in the scene, clear of the others and of the projected box's corners. */
static void test_axes_placement(void)
{
    struct rc_text *text = NULL;
    struct rc_error err = {0};
    CHECK(rc_text_create(&text, &err) == RC_OK);
    struct rc_overlay_settings st = {.width = 640,
                                     .height = 360,
                                     .title = "",
                                     .axes = true,
                                     .axis_kind = RC_AXES_DEGREES,
                                     .axis_x = {-84.41, -84.08},
                                     .axis_y = {36.45, 36.73},
                                     .axis_z = {250, 1050},
                                     .extent = {1.0f, 0.85f},
                                     .top = 0.25f};
    memset(st.background, 255, 4);
    struct rc_overlay *o = NULL;
    CHECK(rc_overlay_create(&st, text, &o, &err) == RC_OK);
    size_t worst = o->axes.count;
    struct rc_rect scene = {0, 0, 640, 360};
    for (int el = 10; el <= 90; el += 20) {
        for (int az = 0; az < 360; az += 15) {
            /* The renderer's camera, its clip-space y flipped as render.c flips it. */
            struct rc_camera_pose pose = {
                .azimuth_deg = az, .elevation_deg = el, .distance = 2.4, .fov_deg = 30};
            double eye[3];
            float m[16];
            rc_camera_eye(&pose, eye);
            rc_camera_matrix(&pose, 640.0 / 360.0, m);
            for (int col = 0; col < 4; col++) {
                m[col * 4 + 1] = -m[col * 4 + 1];
            }
            struct rc_rect at[RC_AXES_MAX_LABELS];
            size_t shown = rc_axes_place(&o->axes, m, eye, scene, at);
            worst = shown < worst ? shown : worst;
            for (size_t i = 0; i < o->axes.count; i++) {
                if (!at[i].w) {
                    continue;
                }
                CHECK(at[i].x >= 0 && at[i].y >= 0 && at[i].x + at[i].w <= 640 &&
                      at[i].y + at[i].h <= 360);
                for (size_t j = 0; j < i; j++) {
                    bool apart = !at[j].w || at[i].x >= at[j].x + at[j].w ||
                                 at[j].x >= at[i].x + at[i].w || at[i].y >= at[j].y + at[j].h ||
                                 at[j].y >= at[i].y + at[i].h;
                    CHECK(apart);
                }
                /* No corner of the box inside a label. */
                for (int k = 0; k < 8; k++) {
                    float q[3] = {k & 1 ? 0.5f : -0.5f, k & 2 ? 0.425f : -0.425f,
                                  k & 4 ? 0.25f : 0.0f};
                    float c[4];
                    for (int r = 0; r < 4; r++) {
                        c[r] = m[r] * q[0] + m[4 + r] * q[1] + m[8 + r] * q[2] + m[12 + r];
                    }
                    float px = (c[0] / c[3] + 1) / 2 * 640, py = (c[1] / c[3] + 1) / 2 * 360;
                    CHECK(!(px > at[i].x && px < at[i].x + at[i].w && py > at[i].y &&
                            py < at[i].y + at[i].h));
                }
            }
        }
    }
    /* Some of every frame's labels show, from any side. */
    CHECK(worst >= 4);
    printf("axes placement: at least %zu of %zu labels shown in every view\n", worst,
           o->axes.count);
    rc_overlay_destroy(o);
    rc_text_destroy(text);
}

int main(void)
{
    test_ticks();
    test_utf8();
    test_layout();
    test_axes_texts();
    test_axes_placement();
    return CHECK_DONE();
}
