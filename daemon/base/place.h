/*
 * place: where and in which projection a clip shows its raster (output.crs,
 * output.bbox, output.bbox_crs). Plain data: the job parses it (job/output.c),
 * the reader applies it as a warp (raster/place.h); it travels to the reader as
 * bytes.
 */
#ifndef RC_PLACE_H
#define RC_PLACE_H

#include <stdbool.h>

/* A CRS as "EPSG:<code>" or WKT, with its terminating NUL. */
#define RC_PLACE_CRS_MAX 4096

struct rc_place {
    char crs[RC_PLACE_CRS_MAX]; /* the output's; "": the raster's own */
    bool has_bbox;
    double bbox[4];                  /* west, south, east, north in bbox_crs */
    char bbox_crs[RC_PLACE_CRS_MAX]; /* "EPSG:4326" unless the job names another */
};

/* Where a clip lies: its grid's bounds in its CRS (the output's), and in
 * EPSG:4326 when the CRS carries there. */
struct rc_bounds {
    bool known;       /* the grid is georeferenced */
    double xy[4];     /* west, south, east, north */
    bool has_lonlat;  /* ... and in degrees: */
    double lonlat[4]; /* west, south, east, north */
};

/* True when the raster is to be warped: a CRS or a bounding box was given. */
static inline bool rc_place_warps(const struct rc_place *p)
{
    return p && (p->crs[0] != '\0' || p->has_bbox);
}

#endif
