#include "pipeline/legend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encode/png.h"
#include "overlay/overlay.h"

/* The panel's pixels with straight alpha, over the background when it is opaque. */
static uint8_t *panel_pixels(const struct rc_canvas *c, struct rc_rect p, const uint8_t bg[4])
{
    uint8_t *rgba = malloc((size_t)p.w * (size_t)p.h * 4 + 1);
    for (int y = 0; rgba && y < p.h; y++) {
        for (int x = 0; x < p.w; x++) {
            const uint8_t *s =
                c->rgba + 4 * ((size_t)(p.y + y) * (size_t)c->width + (size_t)(p.x + x));
            uint8_t *d = rgba + 4 * ((size_t)y * (size_t)p.w + (size_t)x);
            unsigned a = s[3];
            for (int k = 0; k < 3; k++) {
                d[k] = bg[3] ? (uint8_t)(s[k] + (bg[k] * (255u - a) + 127) / 255)
                       : a   ? (uint8_t)((s[k] * 255u + a / 2) / a)
                             : 0;
            }
            d[3] = bg[3] ? 255 : (uint8_t)a;
        }
    }
    return rgba;
}

enum rc_err rc_legend_make(const struct rc_job_spec *spec, const struct rc_plan *plan,
                           struct rc_text *text, struct rc_buf *out, struct rc_error *err)
{
    if (spec->rescale_per_band) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "rescale",
                            "each band has its own range (per_band): a legend shows one; give "
                            "rescale=min,max");
    }
    struct rc_overlay_settings st = plan->overlay;
    st.colorbar = true;
    st.title = "";
    st.band_labels = NULL;
    st.band_label_count = 0;
    st.band_range = NULL;
    st.band_range_count = 0;
    st.axes = false;
    st.graticule = NULL;
    st.graticule_count = 0;
    st.record = spec->answer == RC_ANSWER_LEGEND_SVG;
    if (!st.legend_count && !(isfinite(st.vmin) && isfinite(st.vmax) && st.vmax > st.vmin)) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "rescale",
                            "the values span no range: there is no colorbar to draw; give "
                            "rescale=min,max");
    }
    struct rc_overlay *o = NULL;
    enum rc_err rc = rc_overlay_create(&st, text, &o, err);
    if (rc != RC_OK) {
        return rc;
    }
    struct rc_rect panel = o->panel_count ? o->panels[o->panel_count - 1] : (struct rc_rect){0};
    if (panel.w <= 0 || panel.h <= 0) {
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, "width", "the clip is too small for a legend");
    } else if (spec->answer == RC_ANSWER_LEGEND_SVG) {
        rc = rc_overlay_svg(o, panel, spec->background, out);
        rc = rc == RC_OK ? rc : rc_error_set(err, rc, "", "out of memory");
    } else {
        uint8_t *rgba = panel_pixels(&o->canvas, panel, spec->background);
        rc = rgba ? rc_png_encode(rgba, (unsigned)panel.w, (unsigned)panel.h, out, err)
                  : rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        free(rgba);
    }
    rc_overlay_destroy(o);
    return rc;
}
