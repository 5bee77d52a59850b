/* A legend's panel as SVG: the marks its canvas recorded (overlay/text.h), each
 * fill a rectangle and each text a <text> in the same face, size and place. */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "overlay/overlay.h"

/* Text as XML character data. */
static void escaped(struct rc_buf *out, const char *s)
{
    for (; *s; s++) {
        const char *entity = *s == '&'   ? "&amp;"
                             : *s == '<' ? "&lt;"
                             : *s == '>' ? "&gt;"
                             : *s == '"' ? "&quot;"
                                         : NULL;
        if (entity) {
            rc_buf_append(out, entity, strlen(entity));
        } else {
            rc_buf_append(out, s, 1);
        }
    }
}

static bool inside(const struct rc_mark *m, struct rc_rect p)
{
    return m->x >= p.x && m->y >= p.y && m->x < p.x + p.w && m->y < p.y + p.h;
}

enum rc_err rc_overlay_svg(const struct rc_overlay *o, struct rc_rect panel,
                           const uint8_t background[4], struct rc_buf *out)
{
    const struct rc_marks *marks = &o->marks;
    if (marks->failed) {
        return RC_ERR_NOMEM;
    }
    rc_buf_printf(out,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                  "viewBox=\"0 0 %d %d\">\n",
                  panel.w, panel.h, panel.w, panel.h);
    if (background[3]) {
        rc_buf_printf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#%02x%02x%02x\"/>\n", panel.w,
                      panel.h, background[0], background[1], background[2]);
    }
    rc_buf_printf(out, "<g shape-rendering=\"crispEdges\">\n");
    for (size_t i = 0; i < marks->count; i++) {
        const struct rc_mark *m = &marks->items[i];
        if (m->text || !m->rgba[3] || !inside(m, panel)) {
            continue;
        }
        unsigned a = m->rgba[3];
        rc_buf_printf(out,
                      "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                      "fill=\"#%02x%02x%02x\"%s",
                      m->x - panel.x, m->y - panel.y, m->w, m->h, m->rgba[0] * 255 / a,
                      m->rgba[1] * 255 / a, m->rgba[2] * 255 / a, a < 255 ? "" : "/>\n");
        if (a < 255) {
            rc_buf_printf(out, " fill-opacity=\"%.3f\"/>\n", a / 255.0);
        }
    }
    rc_buf_printf(out, "</g>\n<g font-family=\"DejaVu Sans, sans-serif\">\n");
    for (size_t i = 0; i < marks->count; i++) {
        const struct rc_mark *m = &marks->items[i];
        if (!m->text || !inside(m, panel)) {
            continue;
        }
        rc_buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"%u\" fill=\"#%02x%02x%02x\"",
                      m->x - panel.x, m->y - panel.y, m->px, m->rgba[0], m->rgba[1], m->rgba[2]);
        if (m->halo) {
            rc_buf_printf(out,
                          " stroke=\"#%02x%02x%02x\" stroke-width=\"%d\" paint-order=\"stroke\" "
                          "stroke-linejoin=\"round\"",
                          m->halo_rgb[0], m->halo_rgb[1], m->halo_rgb[2], 2 * m->halo_px);
        }
        rc_buf_printf(out, ">");
        escaped(out, m->words);
        rc_buf_printf(out, "</text>\n");
    }
    rc_buf_printf(out, "</g>\n</svg>\n");
    return rc_buf_error(out);
}
