#include "render/meshes.h"

#include <stdio.h>
#include <stdlib.h>

static void tree_retain(void *value)
{
    struct rc_mesh_tree *tree = value;
    atomic_fetch_add(&tree->refs, 1);
}

void rc_mesh_tree_unref(struct rc_mesh_tree *tree)
{
    if (tree && atomic_fetch_sub(&tree->refs, 1) == 1) {
        rc_rtin_destroy(&tree->rtin);
        free(tree);
    }
}

static void tree_release(void *value)
{
    rc_mesh_tree_unref(value);
}

struct rc_cache *rc_meshes_create(size_t budget_bytes)
{
    static const struct rc_cache_ops ops = {.retain = tree_retain, .release = tree_release};
    return rc_cache_create(budget_bytes, &ops);
}

static bool known(const struct rc_bands *b)
{
    return b && b->identity && b->identity[0];
}

void rc_meshes_key(const struct rc_bands *values, const struct rc_bands *heights, unsigned cols,
                   unsigned rows, double hmin, double hmax, bool per_band, char *key, size_t size)
{
    key[0] = '\0';
    if (!known(values) || (heights && !known(heights))) {
        return;
    }
    /* %a: the normalisation's bounds exactly, as the heights were cut to them. */
    int n = snprintf(key, size, "%s %s %ux%u %a %a %d", values->identity,
                     heights ? heights->identity : "-", cols, rows, hmin, hmax, per_band);
    if (n < 0 || (size_t)n >= size) {
        key[0] = '\0';
    }
}

static struct rc_mesh_tree *tree_create(unsigned cols, unsigned rows)
{
    struct rc_mesh_tree *tree = calloc(1, sizeof(*tree));
    if (!tree || !rc_rtin_create(&tree->rtin, cols, rows)) {
        free(tree);
        return NULL;
    }
    atomic_init(&tree->refs, 1);
    return tree;
}

struct rc_mesh_tree *rc_meshes_get(struct rc_cache *meshes, const char *key, unsigned cols,
                                   unsigned rows, bool *fresh)
{
    *fresh = true;
    if (!meshes || !key[0]) {
        return tree_create(cols, rows);
    }
    bool claimed = false;
    struct rc_mesh_tree *tree = rc_cache_get(meshes, key, &claimed);
    if (tree) {
        *fresh = false;
        return tree;
    }
    tree = tree_create(cols, rows);
    if (!tree && claimed) {
        rc_cache_abandon(meshes, key);
    }
    return tree;
}

void rc_meshes_done(struct rc_cache *meshes, const char *key, struct rc_mesh_tree *tree,
                    bool filled)
{
    if (!meshes || !key[0]) {
        return;
    }
    if (filled) {
        rc_cache_put(meshes, key, tree, rc_rtin_bytes(&tree->rtin));
    } else {
        rc_cache_abandon(meshes, key);
    }
}
