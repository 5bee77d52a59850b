/* The scene's layers (render/gl.h, struct rc_layers): the values, colour table,
 * normals and heights textures and the grid a job draws, made by
 * rc_layers_create() and freed by rc_layers_destroy(), both here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "render/gl.h"
#include "render/meshes.h"
#include "render/rtin.h"
#include "render/terrain.h"

/* The surface's mesh while it is made: a uniform grid of cols x rows cells, or
 * with `tree` one refined where the heights bend over a square grid — a tree kept
 * from an earlier job (render/meshes.h), or a fresh one this job fills. */
struct mesh_build {
    unsigned cols, rows;
    uint8_t *missing;          /* (cols + 1) * (rows + 1) vertices over missing data */
    struct rc_mesh_tree *tree; /* NULL: the uniform grid */
    bool fresh;                /* the tree is this job's to fill */
    char key[256];             /* its key among the kept trees ("": not kept) */
    double ms;                 /* spent refining */
};

static void array_texture(GLuint *tex, GLenum format, unsigned w, unsigned h, size_t layers,
                          GLint filter)
{
    glGenTextures(1, tex);
    glBindTexture(GL_TEXTURE_2D_ARRAY, *tex);
    glTexStorage3D(GL_TEXTURE_2D_ARRAY, 1, format, (GLsizei)w, (GLsizei)h, (GLsizei)layers);
    glTexParameteri(GL_TEXTURE_2D_ARRAY, GL_TEXTURE_MIN_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D_ARRAY, GL_TEXTURE_MAG_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D_ARRAY, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D_ARRAY, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
}

/* Uploads every band of `raster` normalised to 0..1 over [vmin, vmax], or with
 * `per_band` over the band's own valid range (no data: -1), into *values_tex and, when
 * `normals_tex` is given, the bands' normals for `height_scale`. Grid vertices over missing data
 * are marked in mesh->missing; with `heights`, the bands are the mesh's heights. */
static enum rc_err upload_layers(struct rc_render *r, const struct rc_bands *raster, double vmin,
                                 double vmax, bool per_band, GLuint *values_tex,
                                 GLuint *normals_tex, float height_scale, struct mesh_build *mesh,
                                 bool heights, struct rc_error *err)
{
    unsigned w = raster->width, h = raster->height;
    size_t plane = (size_t)w * h;
    float *t = malloc(plane * sizeof(float));
    uint8_t *normals = normals_tex ? malloc(plane * 4) : NULL;
    if (!t || (normals_tex && !normals)) {
        free(t);
        free(normals);
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    /* R32F is not filterable in GLES 3.0; nearest also keeps pixels crisp. */
    array_texture(values_tex, GL_R32F, w, h, raster->count, GL_NEAREST);
    if (normals_tex) {
        array_texture(normals_tex, GL_RGBA8, w, h, raster->count, GL_LINEAR);
    }
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    for (size_t b = 0; b < raster->count; b++) {
        rc_terrain_normalize(raster->values + b * plane, plane,
                             per_band ? raster->range[b][0] : vmin,
                             per_band ? raster->range[b][1] : vmax, t);
        if (mesh->missing) {
            rc_terrain_mark_missing(t, w, h, mesh->cols, mesh->rows, mesh->missing);
        }
        if (heights && mesh->tree && mesh->fresh) {
            double started = rc_clock_ms();
            rc_rtin_add_band(&mesh->tree->rtin, t, w, h);
            mesh->ms += rc_clock_ms() - started;
        }
        glBindTexture(GL_TEXTURE_2D_ARRAY, *values_tex);
        glTexSubImage3D(GL_TEXTURE_2D_ARRAY, 0, 0, 0, (GLint)b, (GLsizei)w, (GLsizei)h, 1, GL_RED,
                        GL_FLOAT, t);
        if (normals_tex) {
            rc_terrain_normals(t, w, h, r->job.layers.extent[0], r->job.layers.extent[1],
                               height_scale, normals);
            glBindTexture(GL_TEXTURE_2D_ARRAY, *normals_tex);
            glTexSubImage3D(GL_TEXTURE_2D_ARRAY, 0, 0, 0, (GLint)b, (GLsizei)w, (GLsizei)h, 1,
                            GL_RGBA, GL_UNSIGNED_BYTE, normals);
        }
    }
    free(t);
    free(normals);
    return RC_OK;
}

static void upload_lut(struct rc_render *r, const struct rc_colormap *map)
{
    glGenTextures(1, &r->job.layers.lut_tex);
    glBindTexture(GL_TEXTURE_2D, r->job.layers.lut_tex);
    glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA8, (GLsizei)map->entries, 1);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, (GLsizei)map->entries, 1, GL_RGBA, GL_UNSIGNED_BYTE,
                    map->rgba);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
}

/* The mesh's triangles in every draw order, one order after another: the
 * uniform grid's cells touching no missing vertex, or the refined mesh's for a
 * height error of `max_error`. Sets *count (indices per order); NULL when out of
 * memory. */
static uint32_t *mesh_indices(struct mesh_build *mesh, float max_error, size_t *count)
{
    if (!mesh->tree) {
        size_t per_order = (size_t)mesh->cols * mesh->rows * 6;
        uint32_t *idx = malloc(per_order * RC_GRID_ORDERS * sizeof(uint32_t));
        for (int order = 0; idx && order < RC_GRID_ORDERS; order++) {
            *count =
                rc_terrain_grid_indices(mesh->cols, mesh->rows, mesh->missing,
                                        (enum rc_grid_order)order, idx + *count * (size_t)order);
        }
        return idx;
    }
    double started = rc_clock_ms();
    const struct rc_rtin *rtin = &mesh->tree->rtin;
    uint32_t *tris = NULL;
    size_t n = 0;
    bool ok = rc_rtin_triangles(rtin, max_error, &tris, &n);
    uint32_t *idx = ok ? malloc((n ? n : 1) * 3 * RC_GRID_ORDERS * sizeof(uint32_t)) : NULL;
    ok = idx != NULL;
    for (int order = 0; ok && order < RC_GRID_ORDERS; order++) {
        ok = rc_rtin_order(rtin, tris, n, (enum rc_grid_order)order, idx + 3 * n * (size_t)order);
    }
    free(tris);
    if (!ok) {
        free(idx);
        return NULL;
    }
    *count = 3 * n;
    mesh->ms += rc_clock_ms() - started;
    return idx;
}

/* Keeps only the vertices the indices use, numbered as the first order first uses
 * them, and renumbers every order's `count` indices: a refined mesh uses a
 * fraction of its grid's vertices, and only those go into the vertex buffer.
 * Returns the vertices kept in `uv` (two floats each), or 0 when out of memory. */
static size_t compact_vertices(float *uv, size_t verts, uint32_t *idx, size_t count)
{
    uint32_t *renumber = malloc(verts * sizeof(uint32_t));
    float *kept = malloc(verts * 2 * sizeof(float));
    if (!renumber || !kept) {
        free(renumber);
        free(kept);
        return 0;
    }
    memset(renumber, 0xff, verts * sizeof(uint32_t));
    uint32_t next = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t v = idx[i];
        if (renumber[v] == UINT32_MAX) {
            kept[2 * next] = uv[2 * v];
            kept[2 * next + 1] = uv[2 * v + 1];
            renumber[v] = next++;
        }
    }
    for (size_t i = 0; i < count * RC_GRID_ORDERS; i++) {
        idx[i] = renumber[idx[i]];
    }
    memcpy(uv, kept, (size_t)next * 2 * sizeof(float));
    free(renumber);
    free(kept);
    return next ? next : 1;
}

/* The mesh's vertices, (cols + 1) x (rows + 1) over uv [0,1]^2 (a refined mesh's:
 * those it uses), and its indices. */
static enum rc_err upload_mesh(struct rc_render *r, struct mesh_build *mesh, float max_error,
                               struct rc_error *err)
{
    unsigned cols = mesh->cols, rows = mesh->rows;
    size_t verts = (size_t)(cols + 1) * (rows + 1), count = 0;
    float *uv = malloc(verts * 2 * sizeof(float));
    uint32_t *idx = uv ? mesh_indices(mesh, max_error, &count) : NULL;
    if (!uv || !idx) {
        free(uv);
        free(idx);
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    for (unsigned y = 0; y <= rows; y++) {
        for (unsigned x = 0; x <= cols; x++) {
            float *p = uv + 2 * ((size_t)y * (cols + 1) + x);
            p[0] = (float)x / (float)cols;
            p[1] = (float)y / (float)rows;
        }
    }
    if (mesh->tree && !(verts = compact_vertices(uv, verts, idx, count))) {
        free(uv);
        free(idx);
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    glGenVertexArrays(1, &r->job.layers.vao);
    glBindVertexArray(r->job.layers.vao);
    glGenBuffers(1, &r->job.layers.vbo);
    glBindBuffer(GL_ARRAY_BUFFER, r->job.layers.vbo);
    glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)(verts * 2 * sizeof(float)), uv, GL_STATIC_DRAW);
    glGenBuffers(1, &r->job.layers.ibo);
    glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, r->job.layers.ibo);
    glBufferData(GL_ELEMENT_ARRAY_BUFFER, (GLsizeiptr)(count * RC_GRID_ORDERS * sizeof(uint32_t)),
                 idx, GL_STATIC_DRAW);
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
    glBindVertexArray(0);
    free(uv);
    free(idx);
    r->job.layers.index_count = (GLsizei)count;
    return RC_OK;
}

/* The mesh: `cells` along the raster's longer side, as square as the raster's
 * cells allow (never more cells than raster pixels). */
static void grid_size(unsigned cells, const struct rc_bands *raster, unsigned *cols, unsigned *rows)
{
    unsigned ras_long = raster->width > raster->height ? raster->width : raster->height;
    cells = cells < ras_long ? cells : ras_long;
    cells = cells > 1 ? cells : 1;
    double per_pixel = (double)cells / (double)ras_long;
    *cols = (unsigned)fmax(1.0, round(raster->width * per_pixel));
    *rows = (unsigned)fmax(1.0, round(raster->height * per_pixel));
}

enum rc_err rc_layers_create(struct rc_render *r, const struct rc_render_settings *in,
                             struct rc_error *err)
{
    struct rc_layers *l = &r->job.layers;
    const struct rc_bands *raster = in->values;
    l->surface = in->surface;
    l->lighting = in->lighting;
    l->height_scale = (float)in->height_scale;
    l->band_count = raster->count;
    l->values_w = raster->width;
    l->values_h = raster->height;
    l->extent[0] = in->extent[0];
    l->extent[1] = in->extent[1];
    l->linear = in->linear;
    l->map = in->map;
    GLint max_layers = 0;
    glGetIntegerv(GL_MAX_ARRAY_TEXTURE_LAYERS, &max_layers);
    if (raster->count > (size_t)max_layers) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.bands",
                            "at most %d bands on this renderer", (int)max_layers);
    }
    struct mesh_build mesh = {0};
    bool surface = in->surface, refined = surface && in->mesh_error > 0;
    unsigned cells = !surface                                        ? 1
                     : refined && in->mesh_cells > RC_RTIN_MAX_CELLS ? RC_RTIN_MAX_CELLS
                                                                     : in->mesh_cells;
    grid_size(cells, raster, &mesh.cols, &mesh.rows);
    if (refined) {
        const struct rc_bands *heights = in->heights ? in->heights : raster;
        rc_meshes_key(raster, in->heights, mesh.cols, mesh.rows,
                      in->heights ? heights->valid_min : in->vmin,
                      in->heights ? heights->valid_max : in->vmax, !in->heights && in->per_band,
                      mesh.key, sizeof(mesh.key));
        mesh.tree = rc_meshes_get(in->meshes, mesh.key, mesh.cols, mesh.rows, &mesh.fresh);
        if (!mesh.tree) {
            return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        }
    }
    l->mesh_cols = mesh.cols;
    l->mesh_rows = mesh.rows;
    bool lit = surface && in->lighting.enabled;
    l->prog = !lit ? &r->plain : in->lighting.kit ? &r->kit : &r->lit;
    mesh.missing = surface ? calloc((size_t)(mesh.cols + 1) * (mesh.rows + 1), 1) : NULL;
    enum rc_err rc = RC_OK;
    if (surface && !mesh.missing) {
        rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    /* Normals, and the mesh's heights, come from whatever gives the heights. */
    if (rc == RC_OK) {
        rc = upload_layers(r, raster, in->vmin, in->vmax, in->per_band, &l->values_tex,
                           lit && !in->heights ? &l->normals_tex : NULL, l->height_scale, &mesh,
                           !in->heights, err);
    }
    if (rc == RC_OK && in->heights) {
        rc = upload_layers(r, in->heights, in->heights->valid_min, in->heights->valid_max, false,
                           &l->heights_tex, lit ? &l->normals_tex : NULL, l->height_scale, &mesh,
                           true, err);
    }
    if (mesh.tree && mesh.fresh) {
        /* Filled now or never: waiting jobs over the same heights go on either way. */
        double started = rc_clock_ms();
        bool filled = rc == RC_OK && rc_rtin_add_holes(&mesh.tree->rtin, mesh.missing);
        mesh.ms += rc_clock_ms() - started;
        rc_meshes_done(in->meshes, mesh.key, mesh.tree, filled);
        if (rc == RC_OK && !filled) {
            rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        }
    }
    if (rc == RC_OK) {
        rc = upload_mesh(r, &mesh, (float)in->mesh_error, err);
    }
    free(mesh.missing);
    l->mesh_kept = mesh.tree && !mesh.fresh;
    rc_mesh_tree_unref(mesh.tree);
    l->mesh_ms = mesh.ms;
    if (rc != RC_OK) {
        return rc;
    }
    l->has_heights = in->heights != NULL;
    upload_lut(r, in->colormap);
    return RC_OK;
}

void rc_layers_destroy(struct rc_render *r)
{
    struct rc_layers *l = &r->job.layers;
    GLuint textures[] = {l->values_tex, l->lut_tex, l->normals_tex, l->heights_tex};
    glDeleteTextures(4, textures);
    GLuint buffers[] = {l->vbo, l->ibo};
    glDeleteBuffers(2, buffers);
    glDeleteVertexArrays(1, &l->vao);
    *l = (struct rc_layers){.prog = &r->plain};
}
