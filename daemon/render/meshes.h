/*
 * meshes: refined meshes' error trees (render/rtin.h) kept between jobs, in a
 * base/cache of their own under what a tree depends on — the identities of the
 * rasters that give its heights and its holes, the grid's size, and how the
 * heights were normalised — so a job over a raster an earlier job refined only
 * picks its triangles for its own bound. A kept tree is read-only, and workers
 * share it.
 *
 * Any thread. A tree is owned by its references: rc_mesh_tree_unref() drops the
 * caller's, the cache drops its own when it lets the tree go.
 */
#ifndef RC_MESHES_H
#define RC_MESHES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/bands.h"
#include "base/cache.h"
#include "render/rtin.h"

/* The trees' budget: the decoded rasters' (cache_mb) over this. */
#define RC_MESHES_SHARE 8

struct rc_mesh_tree {
    struct rc_rtin rtin;
    atomic_int refs;
};

/* The cache the daemon keeps trees in, within `budget_bytes`. */
struct rc_cache *rc_meshes_create(size_t budget_bytes);

/* The key of the tree over a cols x rows grid whose heights are `heights`
 * normalised over [hmin, hmax] (each band over its own range with `per_band`) and
 * whose holes are those of `heights` and `values` (the same bands when the values
 * are the heights); "" when a raster has no identity (nothing is kept). */
void rc_meshes_key(const struct rc_bands *values, const struct rc_bands *heights, unsigned cols,
                   unsigned rows, double hmin, double hmax, bool per_band, char *key, size_t size);

/* The tree for `key`: one kept (*fresh false), or a new empty one (*fresh true)
 * the caller fills with its bands and holes and then passes to rc_meshes_done().
 * A NULL `meshes` or an empty key always gives a new one. NULL when out of memory
 * (nothing to pass to rc_meshes_done()). Waits while another caller fills the
 * same key's tree. */
struct rc_mesh_tree *rc_meshes_get(struct rc_cache *meshes, const char *key, unsigned cols,
                                   unsigned rows, bool *fresh);

/* After filling a fresh tree: keeps it under `key` when `filled` (the caller's
 * reference stays the caller's), or lets other callers waiting for the key fill
 * their own. Nothing for a NULL `meshes` or an empty key. */
void rc_meshes_done(struct rc_cache *meshes, const char *key, struct rc_mesh_tree *tree,
                    bool filled);

void rc_mesh_tree_unref(struct rc_mesh_tree *tree);

#endif
