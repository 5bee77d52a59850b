/* Colormap lookup against matplotlib's published float tables (_cm_listed.py),
 * converted the way matplotlib converts to bytes (truncation of x * 255). */
#include <stdio.h>
#include <string.h>

#include "base/colormap.h"
#include "check.h"

static unsigned char byte_of(double x)
{
    return (unsigned char)(x * 255.0);
}

static void check_entry(const char *name, unsigned index, double r, double g, double b)
{
    struct rc_colormap map;
    CHECK(rc_colormap_from_name(&map, name, "style.colormap", NULL) == RC_OK);
    CHECK(map.entries == 256);
    CHECK(map.rgba[index][0] == byte_of(r));
    CHECK(map.rgba[index][1] == byte_of(g));
    CHECK(map.rgba[index][2] == byte_of(b));
    CHECK(map.rgba[index][3] == 255);
}

static void test_published_values(void)
{
    check_entry("viridis", 0, 0.267004, 0.004874, 0.329415);
    check_entry("viridis", 255, 0.993248, 0.906157, 0.143936);
    check_entry("viridis", 128, 0.127568, 0.566949, 0.550556);
    check_entry("magma", 0, 0.001462, 0.000466, 0.013866);
    check_entry("magma", 255, 0.987053, 0.991438, 0.749504);
    check_entry("inferno", 255, 0.988362, 0.998364, 0.644924);
    check_entry("plasma", 0, 0.050383, 0.029803, 0.527975);
    check_entry("plasma", 255, 0.940015, 0.975158, 0.131326);
    check_entry("cividis", 0, 0.000000, 0.135112, 0.304751);
    for (unsigned i = 0; i < 256; i += 51) {
        check_entry("gray", i, i / 255.0, i / 255.0, i / 255.0);
    }
}

static void test_names(void)
{
    struct rc_colormap a, b;
    struct rc_error err = {0};
    CHECK(rc_colormap_from_name(&a, "RdBu", "f", &err) == RC_OK);
    CHECK(rc_colormap_from_name(&b, "rdbu", "f", &err) == RC_OK);
    CHECK(a.entries == b.entries && memcmp(a.rgba, b.rgba, (size_t)a.entries * 4) == 0);
    CHECK(rc_colormap_from_name(&b, "RDBU_R", "f", &err) == RC_OK);
    CHECK(memcmp(a.rgba[0], b.rgba[255], 4) == 0);
    CHECK(memcmp(a.rgba[255], b.rgba[0], 4) == 0);
    CHECK(rc_colormap_from_name(&a, "tab10", "f", &err) == RC_OK);
    CHECK(a.entries == 10);
    CHECK(rc_colormap_from_name(&a, "no-such-map", "style.colormap", &err) == RC_ERR_INVALID);
    CHECK(strcmp(err.field, "style.colormap") == 0);
    CHECK(rc_colormap_count() >= 80);
    /* Every registered map resolves, reversed too (twilight has 510 entries). */
    for (size_t i = 0; i < rc_colormap_count(); i++) {
        char name[80];
        snprintf(name, sizeof(name), "%s_r", rc_colormap_name(i));
        CHECK(rc_colormap_from_name(&a, rc_colormap_name(i), "f", &err) == RC_OK);
        CHECK(rc_colormap_from_name(&b, name, "f", &err) == RC_OK);
        CHECK(a.entries == b.entries && memcmp(a.rgba[0], b.rgba[b.entries - 1], 4) == 0);
    }
    CHECK(rc_colormap_from_name(&a, "twilight", "f", &err) == RC_OK && a.entries == 510);
    /* cmocean's spellings and any case name the same map. */
    CHECK(rc_colormap_from_name(&a, "thermal", "f", &err) == RC_OK);
    static const char *const thermal[] = {"cmo.thermal", "cmocean.thermal", "CMO.Thermal",
                                          "Thermal"};
    for (size_t i = 0; i < sizeof(thermal) / sizeof(thermal[0]); i++) {
        CHECK(rc_colormap_from_name(&b, thermal[i], "f", &err) == RC_OK);
        CHECK(a.entries == b.entries && memcmp(a.rgba, b.rgba, (size_t)a.entries * 4) == 0);
    }
    CHECK(rc_colormap_from_name(&b, "cmo.thermal_r", "f", &err) == RC_OK);
    CHECK(memcmp(a.rgba[0], b.rgba[b.entries - 1], 4) == 0);
    /* An unknown name is told the nearest ones. */
    CHECK(rc_colormap_from_name(&a, "virdis", "style.colormap", &err) == RC_ERR_INVALID);
    CHECK(strstr(err.message, "did you mean") && strstr(err.message, "viridis"));
    CHECK(rc_colormap_from_name(&a, "cmo.thermla", "style.colormap", &err) == RC_ERR_INVALID);
    CHECK(strstr(err.message, "thermal") != NULL);
    CHECK(rc_colormap_from_name(&a, "zzzzzzzzzzzzzzzzzzzz", "f", &err) == RC_ERR_INVALID);
    CHECK(strstr(err.message, "did you mean") == NULL);
}

static void test_index_rule(void)
{
    struct rc_colormap m;
    rc_colormap_from_name(&m, "viridis", "f", NULL);
    CHECK(rc_colormap_index(&m, 0.0) == 0);
    CHECK(rc_colormap_index(&m, -1.0) == 0);
    CHECK(rc_colormap_index(&m, 1.0) == 255);
    CHECK(rc_colormap_index(&m, 2.0) == 255);
    CHECK(rc_colormap_index(&m, 0.5) == 128);
    CHECK(rc_colormap_index(&m, 0.499) == 127);
    rc_colormap_from_name(&m, "tab10", "f", NULL);
    CHECK(rc_colormap_index(&m, 0.35) == 3);
}

static void test_stops_and_colors(void)
{
    uint8_t c[4];
    CHECK(rc_color_parse("#440154", c) && c[0] == 0x44 && c[1] == 0x01 && c[2] == 0x54 &&
          c[3] == 255);
    CHECK(rc_color_parse("#00000000", c) && c[3] == 0);
    CHECK(rc_color_parse("#fff", c) && c[0] == 255 && c[2] == 255);
    CHECK(!rc_color_parse("440154", c));
    CHECK(!rc_color_parse("#44015", c));
    CHECK(!rc_color_parse("#gg0154", c));

    struct rc_color_stop stops[2] = {{0.0, {0, 0, 0, 255}}, {1.0, {255, 255, 255, 255}}};
    struct rc_colormap m;
    CHECK(rc_colormap_from_stops(&m, stops, 2, "style.colormap.stops", NULL) == RC_OK);
    CHECK(m.entries == 256);
    CHECK(m.rgba[0][0] == 0 && m.rgba[255][0] == 255);
    CHECK(m.rgba[128][0] == 128); /* 128/255 of the way */
    stops[1].position = 0.5;
    CHECK(rc_colormap_from_stops(&m, stops, 2, "style.colormap.stops", NULL) == RC_ERR_INVALID);
}

/* Class values spread wider than the table: each class still shows its colour
 * where the shader looks it up (index = floor(t * entries), t over vmin..vmax). */
static void test_sparse_classes(void)
{
    static const double classes[] = {250, 500, 750, 1000};
    struct rc_value_colour list[4];
    for (int k = 0; k < 4; k++) {
        list[k] =
            (struct rc_value_colour){classes[k], classes[k] + 1, {(uint8_t)(k + 1), 0, 0, 255}};
    }
    struct rc_colormap map;
    double vmin, vmax;
    CHECK(rc_colormap_from_values(&map, list, 4, &vmin, &vmax, "", NULL) == RC_OK);
    for (int k = 0; k < 4; k++) {
        double t = (classes[k] - vmin) / (vmax - vmin);
        const uint8_t *c = map.rgba[rc_colormap_index(&map, t)];
        CHECK(c[0] == k + 1 && c[3] == 255);
    }
}

int main(void)
{
    test_sparse_classes();
    test_published_values();
    test_names();
    test_index_rule();
    test_stops_and_colors();
    return CHECK_DONE();
}
