/* Colorbar and title: ticks, labels, text rendering, layout beside the scene. */
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    test_ticks();
    test_utf8();
    test_layout();
    return CHECK_DONE();
}
