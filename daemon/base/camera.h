/*
 * camera: camera paths (orbit or keyframes) and the matrices that follow from them.
 *
 * World: the raster lies in the plane z = 0, centred on the origin, its longer
 * side 1 unit long, north towards +y, heights towards +z. Azimuth 0 looks north
 * from the south; azimuth grows counter-clockwise seen from above; elevation 90
 * looks straight down with north up on screen. Matrices are column-major floats
 * as OpenGL takes them. Pure functions; any thread; no allocation.
 */
#ifndef RC_CAMERA_H
#define RC_CAMERA_H

#include <stdbool.h>
#include <stddef.h>

#define RC_CAMERA_MAX_KEYFRAMES 64

/* A distance that means "fit": resolved by rc_camera_fit() once the raster's extent
 * is known. */
#define RC_CAMERA_FIT (-1.0)

/* mayavi's default (isometric) view in this camera's terms. */
#define RC_CAMERA_ISOMETRIC_AZIMUTH 135.0
#define RC_CAMERA_ISOMETRIC_ELEVATION 35.264389682754654 /* atan(1 / sqrt(2)) */

struct rc_camera_pose {
    double azimuth_deg;
    double elevation_deg;
    double distance;
    double target[3];
    double fov_deg;  /* vertical field of view */
    double roll_deg; /* about the line of sight; the picture turns clockwise */
};

struct rc_camera_keyframe {
    double t_s; /* seconds from the clip's start */
    struct rc_camera_pose pose;
};

enum rc_camera_kind {
    RC_CAMERA_ORBIT,
    RC_CAMERA_KEYFRAMES,
};

struct rc_camera_path {
    enum rc_camera_kind kind;
    /* orbit: `base` is the pose at the start; azimuth turns by `orbit_degrees` */
    struct rc_camera_pose base;
    double orbit_degrees;
    /* keyframes: times strictly increasing */
    struct rc_camera_keyframe keys[RC_CAMERA_MAX_KEYFRAMES];
    size_t key_count;
    bool smooth; /* Catmull-Rom through every keyframe instead of linear */
};

/* The pose at frame `index` of a clip of `frames` frames at `fps`. */
void rc_camera_pose_at(const struct rc_camera_path *path, size_t index, size_t frames, double fps,
                       struct rc_camera_pose *out);

/* Rewrites keyframe azimuths so each turn between neighbours takes the short way. */
void rc_camera_unwrap_azimuths(struct rc_camera_path *path);

/* Eye position in world units. */
void rc_camera_eye(const struct rc_camera_pose *pose, double eye[3]);

/* Projection x view for a viewport of `aspect` = width / height. */
void rc_camera_matrix(const struct rc_camera_pose *pose, double aspect, float out[16]);

/* Projects a world point to pixel coordinates (origin top-left, y down) of a
 * width x height viewport. Returns false for points behind the camera. */
bool rc_camera_project(const struct rc_camera_pose *pose, unsigned width, unsigned height,
                       const double point[3], double *px, double *py);

/* The distance at which a box of extent_x x extent_y x relief around the target
 * fits the view whatever the direction (its bounding sphere in the narrower field
 * of view). */
double rc_camera_fit_distance(double extent_x, double extent_y, double relief, double fov_deg,
                              double aspect);
/* What "fit" leaves around the raster: 4 % of each side; with the axes, room
 * for their tick labels and titles too (two lines of text at 360 rows). */
#define RC_CAMERA_FIT_MARGIN 0.04
#define RC_CAMERA_FIT_MARGIN_AXES 0.14

/* Replaces every RC_CAMERA_FIT distance of the path by the nearest at which the
 * raster's box (and relief) fills the frame less `margin` of each side: an
 * orbit's at every azimuth it turns through, a keyframe's at its own. */
void rc_camera_fit(struct rc_camera_path *path, double extent_x, double extent_y, double relief,
                   double aspect, double margin);

#endif
