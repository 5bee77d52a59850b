#include <stdio.h>

#include "overlay/paint.h"

enum { LABEL_PX = 12, MARGIN = 10, GAP = 5 };

void rc_overlay_legend(struct rc_overlay *o, const struct rc_overlay_settings *st,
                       struct rc_text *text, double s, int top, const struct rc_ink *ink)
{
    int margin = rc_overlay_scaled(MARGIN, s), gap = rc_overlay_scaled(GAP, s);
    int avail = o->canvas.height - top - 2 * margin;
    unsigned px = rc_overlay_font_px(LABEL_PX, s);
    int w = 0, ascent = 0, descent = 0;
    /* Smaller text until every class fits, down to the smallest readable size. */
    for (;; px--) {
        rc_text_measure(text, "Hg", px, &w, &ascent, &descent);
        if ((size_t)(avail / (ascent + descent + gap)) >= st->legend_count ||
            px <= RC_OVERLAY_MIN_PX) {
            break;
        }
    }
    int row_h = ascent + descent + gap, swatch = ascent + descent;
    size_t rows = (size_t)(avail > row_h ? avail / row_h : 1);
    size_t shown = rows >= st->legend_count ? st->legend_count : rows - 1;
    char more[48] = "";
    if (shown < st->legend_count) {
        snprintf(more, sizeof(more), "+%zu more", st->legend_count - shown);
    }
    int widest = 0;
    for (size_t i = 0; i <= shown && i < st->legend_count; i++) {
        rc_text_measure(text, i < shown ? st->legend[i].name : more, px, &w, &ascent, &descent);
        widest = w > widest ? w : widest;
    }
    int panel_w = margin + swatch + gap + widest + margin;
    panel_w = panel_w > o->canvas.width / 3 ? o->canvas.width / 3 : panel_w;
    struct rc_rect panel = {o->canvas.width - panel_w, top, panel_w, o->canvas.height - top};
    int used = (int)(shown + (more[0] ? 1 : 0)) * row_h - gap;
    int y = panel.y + margin + (avail - used) / 2;
    uint8_t ink_rgba[4] = {ink->rgb[0], ink->rgb[1], ink->rgb[2], 255};
    for (size_t i = 0; i < shown; i++, y += row_h) {
        const uint8_t *c = st->legend[i].rgba;
        uint8_t px_rgba[4] = {0, 0, 0, 255};
        for (int k = 0; k < 3; k++) {
            px_rgba[k] = (uint8_t)((c[k] * c[3] + st->background[k] * (255 - c[3]) + 127) / 255);
        }
        struct rc_rect box = {panel.x + margin, y, swatch, swatch};
        rc_overlay_fill(&o->canvas, box, px_rgba);
        rc_overlay_outline(&o->canvas, box, ink_rgba);
        rc_text_draw_ink(text, &o->canvas, box.x + swatch + gap, y + ascent, st->legend[i].name, px,
                         ink);
    }
    if (more[0]) {
        rc_text_draw_ink(text, &o->canvas, panel.x + margin, y + ascent, more, px, ink);
    }
    o->panels[o->panel_count++] = panel;
    o->scene.w -= panel_w;
}
