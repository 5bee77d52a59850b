/* The bounds kept beside a clip cache entry (pipeline/clipbounds.h). */
#include "pipeline/clipbounds.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool rc_clipbounds_keep(int dir, const char *name)
{
    size_t n = strlen(name);
    if (n < 3 || strcmp(name + n - 2, ".b") != 0 || n - 2 >= 192) {
        return false;
    }
    char base[192];
    struct stat st;
    snprintf(base, sizeof(base), "%.*s", (int)(n - 2), name);
    if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
        unlinkat(dir, name, 0);
    }
    return true;
}

void rc_clipbounds_read(int dir, const char *name, struct rc_bounds *out)
{
    char side[256], text[512] = "";
    snprintf(side, sizeof(side), "%s.b", name);
    memset(out, 0, sizeof(*out));
    int fd = openat(dir, side, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
    if (fd >= 0) {
        close(fd);
    }
    text[n > 0 ? n : 0] = '\0';
    int lonlat = 0;
    double *x = out->xy, *l = out->lonlat;
    out->known = sscanf(text, "%lf %lf %lf %lf %d %lf %lf %lf %lf", &x[0], &x[1], &x[2], &x[3],
                        &lonlat, &l[0], &l[1], &l[2], &l[3]) == 9 &&
                 isfinite(x[0] + x[1] + x[2] + x[3] + l[0] + l[1] + l[2] + l[3]);
    out->has_lonlat = out->known && lonlat == 1;
}

bool rc_clipbounds_write(int dir, const char *temp, const char *name, const struct rc_bounds *b)
{
    char text[512], side[256];
    int len = snprintf(text, sizeof(text), "%.17g %.17g %.17g %.17g %d %.17g %.17g %.17g %.17g\n",
                       b->xy[0], b->xy[1], b->xy[2], b->xy[3], b->has_lonlat, b->lonlat[0],
                       b->lonlat[1], b->lonlat[2], b->lonlat[3]);
    snprintf(side, sizeof(side), "%s.b", name);
    int fd = openat(dir, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    bool ok = fd >= 0 && write(fd, text, (size_t)len) == len;
    if (fd >= 0) {
        ok = close(fd) == 0 && ok;
    }
    ok = ok && renameat(dir, temp, dir, side) == 0;
    if (!ok) {
        unlinkat(dir, temp, 0);
    }
    return ok;
}

void rc_clipbounds_remove(int dir, const char *name)
{
    char side[256];
    snprintf(side, sizeof(side), "%s.b", name);
    unlinkat(dir, side, 0);
}
