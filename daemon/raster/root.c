#include "raster/root.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Removes "." and ".." components and repeated slashes from an absolute path, in
 * place, without touching the file system; ".." above "/" stays at "/". */
static void normalize_lexically(char *path)
{
    char *out = path;
    const char *p = path;
    while (*p) {
        while (*p == '/') {
            p++;
        }
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (out > path && *--out != '/') {
            }
        } else {
            *out++ = '/';
            memmove(out, p, n);
            out += n;
        }
        p += n;
    }
    if (out == path) {
        *out++ = '/';
    }
    *out = '\0';
}

static bool is_inside(const char *path, const char *root)
{
    size_t len = strlen(root);
    if (len == 1 && root[0] == '/') {
        return true;
    }
    return strncmp(path, root, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

/* Whether `path` (absolute, normalised) stays under `root` once resolved: the
 * longest prefix that exists is resolved (symlinks followed) and must be inside; a
 * dangling symlink is followed by its text; what does not exist cannot lead
 * anywhere. `depth` bounds symlink chains as the kernel does (ELOOP). */
static bool stays_inside(const char *path, const char *root, int depth)
{
    char prefix[PATH_MAX], real[PATH_MAX];
    snprintf(prefix, sizeof(prefix), "%s", path);
    for (;;) {
        if (realpath(prefix, real)) {
            return is_inside(real, root);
        }
        struct stat st;
        if (lstat(prefix, &st) == 0 && S_ISLNK(st.st_mode)) {
            char target[PATH_MAX], next[PATH_MAX];
            ssize_t n = readlink(prefix, target, sizeof(target) - 1);
            if (n < 0 || depth <= 0) {
                return false;
            }
            target[n] = '\0';
            char *slash = strrchr(prefix, '/');
            *slash = '\0';
            int len = target[0] == '/' ? snprintf(next, sizeof(next), "%s", target)
                                       : snprintf(next, sizeof(next), "%s/%s", prefix, target);
            if (len < 0 || (size_t)len >= sizeof(next)) {
                return false;
            }
            normalize_lexically(next);
            return stays_inside(next, root, depth - 1);
        }
        char *slash = strrchr(prefix, '/');
        if (!slash || slash == prefix) {
            return false;
        }
        *slash = '\0';
    }
}

enum rc_err rc_raster_resolve_path(const char *data_root, const char *url, const char *field,
                                   char *out, size_t out_size, struct rc_error *err)
{
    const char *path = url;
    if (strncmp(url, "file://", 7) == 0) {
        path = url + 7;
        if (path[0] != '/') {
            return rc_error_set(err, RC_ERR_INVALID, field, "file:// URLs need an absolute path");
        }
    } else if (strstr(url, "://") || strncmp(url, "/vsi", 4) == 0) {
        return rc_error_set(err, RC_ERR_INVALID, field,
                            "must be a path under the data root, file:// or http(s)://");
    }
    char root[PATH_MAX], joined[PATH_MAX], real[PATH_MAX];
    if (!realpath(data_root, root)) {
        return rc_error_set(err, RC_ERR_INTERNAL, field, "the data root is unavailable");
    }
    int n = path[0] == '/' ? snprintf(joined, sizeof(joined), "%s", path)
                           : snprintf(joined, sizeof(joined), "%s/%s", root, path);
    if (n < 0 || (size_t)n >= sizeof(joined)) {
        return rc_error_set(err, RC_ERR_INVALID, field, "path too long");
    }
    /* Leaving the root is refused the same way whether or not the target exists, so
     * the answer says nothing about files outside it: first by the path's text,
     * then through the symlinks of the part that exists. */
    normalize_lexically(joined);
    if (!is_inside(joined, root) || !stays_inside(joined, root, 40)) {
        return rc_error_set(err, RC_ERR_FORBIDDEN, field, "the path leaves the data root");
    }
    if (!realpath(joined, real)) {
        return rc_error_set(err, RC_ERR_NOT_FOUND, field, "no such raster under the data root");
    }
    if (!is_inside(real, root)) {
        return rc_error_set(err, RC_ERR_FORBIDDEN, field, "the path leaves the data root");
    }
    if ((size_t)snprintf(out, out_size, "%s", real) >= out_size) {
        return rc_error_set(err, RC_ERR_INVALID, field, "path too long");
    }
    return RC_OK;
}
