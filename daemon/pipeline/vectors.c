#include "pipeline/vectors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raster/vectors.h"

bool rc_job_layers_identities(const struct rc_config *cfg, const struct rc_job_spec *spec,
                              char (*ids)[65])
{
    for (size_t i = 0; i < spec->vector_count; i++) {
        struct rc_raster_request req = {.url = spec->vectors[i].source, .field = "style.vectors"};
        if (!rc_raster_identity(cfg, &req, ids[i])) {
            return false;
        }
    }
    return true;
}

static void drawn_as(const struct rc_job_vector *v, const struct rc_vectors *g,
                     struct rc_render_vectors *out)
{
    *out = (struct rc_render_vectors){
        .geometry = g, .filled = v->filled, .width = v->width, .opacity = (float)v->opacity};
    memcpy(out->color, v->color, sizeof(out->color));
    memcpy(out->fill, v->fill, sizeof(out->fill));
}

enum rc_err rc_job_layers_load(const struct rc_config *cfg, const struct rc_job_spec *spec,
                               const struct rc_raster *values, struct rc_raster_budget *budget,
                               struct rc_job_layers *out, struct rc_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t total = spec->vector_count + (spec->graticule_step > 0);
    if (!total) {
        return RC_OK;
    }
    const char *field = spec->vector_count ? "style.vectors" : "style.graticule";
    struct rc_vector_grid *grid = malloc(sizeof(*grid));
    if (!grid) {
        return rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    enum rc_err rc = rc_vectors_grid(values, field, grid, err) ? RC_OK : RC_ERR_IMPOSSIBLE;
    for (size_t i = 0; rc == RC_OK && i < total; i++) {
        bool graticule = i == spec->vector_count;
        char name[48];
        snprintf(name, sizeof(name), graticule ? "style.graticule" : "style.vectors[%zu].source",
                 i);
        grid->graticule_step = graticule ? spec->graticule_step : 0;
        const char *url = graticule ? NULL : spec->vectors[i].source;
        rc = rc_vectors_load(cfg, url, name, grid, budget, &out->geometry[i], err);
        if (rc == RC_OK) {
            drawn_as(graticule ? &spec->graticule : &spec->vectors[i], out->geometry[i],
                     &out->drawn[i]);
            out->count = i + 1;
        }
    }
    free(grid);
    if (rc != RC_OK) {
        rc_job_layers_release(out);
    }
    return rc;
}

void rc_job_layers_release(struct rc_job_layers *layers)
{
    for (size_t i = 0; i < RC_JOB_MAX_VECTORS + 1; i++) {
        rc_vectors_free(layers->geometry[i]);
    }
    memset(layers, 0, sizeof(*layers));
}

void rc_job_layers_label(struct rc_job_layers *layers, const struct rc_job_spec *spec,
                         const struct rc_raster *values, const float extent[2],
                         struct rc_overlay_settings *overlay)
{
    layers->anchor_count = 0;
    if (!(spec->graticule_step > 0) || layers->count <= spec->vector_count) {
        return;
    }
    const struct rc_vectors *g = layers->geometry[spec->vector_count];
    for (uint32_t axis = 0; axis < 2; axis++) {
        size_t n = 0;
        for (size_t i = 0; i < g->label_count; i++) {
            n += g->labels[i].axis == axis;
        }
        size_t every = (n + RC_AXES_MAX_LABELS / 2 - 1) / (RC_AXES_MAX_LABELS / 2), k = 0;
        for (size_t i = 0; i < g->label_count; i++) {
            const struct rc_vector_label *l = &g->labels[i];
            if (l->axis != axis || k++ % (every ? every : 1)) {
                continue;
            }
            struct rc_graticule_anchor *a = &layers->anchors[layers->anchor_count++];
            *a = (struct rc_graticule_anchor){.axis = (int)axis, .value = l->value};
            a->at[0] = (l->at[0] / (float)values->width - 0.5f) * extent[0];
            a->at[1] = (0.5f - l->at[1] / (float)values->height) * extent[1];
            a->out[axis ? 0 : 1] = 1.0f; /* north from the south edge, east from the west */
        }
    }
    overlay->graticule = layers->anchors;
    overlay->graticule_count = layers->anchor_count;
    overlay->graticule_step = spec->graticule_step;
}
