#include "pipeline/vectors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raster/vectors.h"

/* Layer i's source: its path or URL, or what came with the job. */
static struct rc_vector_source source_of(const struct rc_job *job, size_t i)
{
    const struct rc_upload *up = &job->vectors[i];
    return (struct rc_vector_source){
        .url = job->spec.vectors[i].source, .data = up->len ? up->data : NULL, .len = up->len};
}

bool rc_job_layers_identities(const struct rc_config *cfg, const struct rc_job *job,
                              char (*ids)[65])
{
    for (size_t i = 0; i < job->spec.vector_count; i++) {
        struct rc_vector_source src = source_of(job, i);
        struct rc_raster_request req = {
            .url = src.url, .data = src.data, .data_len = src.len, .field = "style.vectors"};
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

enum rc_err rc_job_layers_load(const struct rc_config *cfg, const struct rc_job *job,
                               const struct rc_raster *values, struct rc_raster_budget *budget,
                               struct rc_job_layers *out, struct rc_error *err)
{
    const struct rc_job_spec *spec = &job->spec;
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
        struct rc_vector_source src = graticule ? (struct rc_vector_source){0} : source_of(job, i);
        rc = rc_vectors_load(cfg, &src, name, grid, budget, &out->geometry[i], err);
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

/* EPSG:4326 with longitude first, as GeoJSON has it. */
static const char lonlat_wkt[] =
    "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,"
    "AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,"
    "AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\","
    "\"9122\"]],AXIS[\"Longitude\",EAST],AXIS[\"Latitude\",NORTH],AUTHORITY[\"EPSG\",\"4326\"]]";

/* Cells across the degrees grid: fine enough that float cells lose nothing a map
 * shows, coarse enough that the view's margin stays in the points' range. */
enum { LONLAT_CELLS = 1 << 19 };

static void put_layer(struct rc_buf *out, size_t index, const struct rc_vectors *v,
                      const double lonlat[4])
{
    double dx = (lonlat[2] - lonlat[0]) / LONLAT_CELLS, dy = (lonlat[3] - lonlat[1]) / LONLAT_CELLS;
    rc_buf_printf(out,
                  "%s{\"type\":\"Feature\",\"properties\":{\"layer\":%zu},\"geometry\":"
                  "{\"type\":\"MultiLineString\",\"coordinates\":[",
                  index ? "," : "", index);
    for (size_t i = 0; i < v->part_count; i++) {
        const struct rc_vector_part *p = &v->parts[i];
        rc_buf_printf(out, "%s[", i ? "," : "");
        for (uint32_t k = 0; k < p->count; k++) {
            const float *c = v->xy[p->first + k];
            rc_buf_printf(out, "%s[%.7f,%.7f]", k ? "," : "", lonlat[0] + c[0] * dx,
                          lonlat[3] - c[1] * dy);
        }
        rc_buf_printf(out, "]");
    }
    rc_buf_printf(out, "]}}");
}

enum rc_err rc_job_layers_geojson(const struct rc_config *cfg, const struct rc_job *job,
                                  const struct rc_raster *values, struct rc_raster_budget *budget,
                                  struct rc_buf *out, struct rc_error *err)
{
    const struct rc_job_spec *spec = &job->spec;
    if (!values->has_lonlat) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "url",
                            "the raster's bounds do not carry into EPSG:4326");
    }
    struct rc_vector_grid *grid = calloc(1, sizeof(*grid));
    if (!grid) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    const double *b = values->lonlat;
    snprintf(grid->crs, sizeof(grid->crs), "%s", lonlat_wkt);
    const double gt[6] = {b[0], (b[2] - b[0]) / LONLAT_CELLS, 0, b[3],
                          0,    -(b[3] - b[1]) / LONLAT_CELLS};
    memcpy(grid->geotransform, gt, sizeof(gt));
    grid->source_width = grid->source_height = grid->width = grid->height = LONLAT_CELLS;
    rc_buf_printf(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    enum rc_err rc = RC_OK;
    for (size_t i = 0; rc == RC_OK && i < spec->vector_count; i++) {
        char name[48];
        snprintf(name, sizeof(name), "style.vectors[%zu].source", i);
        struct rc_vectors *v = NULL;
        struct rc_vector_source src = source_of(job, i);
        rc = rc_vectors_load(cfg, &src, name, grid, budget, &v, err);
        if (rc == RC_OK) {
            put_layer(out, i, v, b);
        }
        rc_vectors_free(v);
    }
    free(grid);
    rc_buf_printf(out, "]}\n");
    if (rc == RC_OK && rc_buf_error(out) != RC_OK) {
        rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    return rc;
}
