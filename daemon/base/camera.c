#include "base/camera.h"

#include <math.h>

static const double DEG = 3.14159265358979323846 / 180.0;

static void normalize(double v[3])
{
    double len = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (len > 0) {
        v[0] /= len;
        v[1] /= len;
        v[2] /= len;
    }
}

static void cross(const double a[3], const double b[3], double out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

static double dot(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

void rc_camera_eye(const struct rc_camera_pose *pose, double eye[3])
{
    double az = pose->azimuth_deg * DEG, el = pose->elevation_deg * DEG;
    eye[0] = pose->target[0] + pose->distance * cos(el) * sin(az);
    eye[1] = pose->target[1] - pose->distance * cos(el) * cos(az);
    eye[2] = pose->target[2] + pose->distance * sin(el);
}

static double lerp(double a, double b, double f)
{
    return a + (b - a) * f;
}

/* Uniform Catmull-Rom between p1 and p2; passes through both ends. */
static double catmull_rom(double p0, double p1, double p2, double p3, double f)
{
    double f2 = f * f, f3 = f2 * f;
    return 0.5 * ((2 * p1) + (-p0 + p2) * f + (2 * p0 - 5 * p1 + 4 * p2 - p3) * f2 +
                  (-p0 + 3 * p1 - 3 * p2 + p3) * f3);
}

enum { POSE_COMPONENTS = 8 };

static void pose_to_array(const struct rc_camera_pose *p, double a[POSE_COMPONENTS])
{
    a[0] = p->azimuth_deg;
    a[1] = p->elevation_deg;
    a[2] = p->distance;
    a[3] = p->target[0];
    a[4] = p->target[1];
    a[5] = p->target[2];
    a[6] = p->fov_deg;
    a[7] = p->roll_deg;
}

static void array_to_pose(const double a[POSE_COMPONENTS], struct rc_camera_pose *p)
{
    p->azimuth_deg = a[0];
    p->elevation_deg = a[1];
    p->distance = a[2];
    p->target[0] = a[3];
    p->target[1] = a[4];
    p->target[2] = a[5];
    p->fov_deg = a[6];
    p->roll_deg = a[7];
}

static void keyframe_pose(const struct rc_camera_path *path, double t, struct rc_camera_pose *out)
{
    const struct rc_camera_keyframe *k = path->keys;
    size_t n = path->key_count;
    if (n == 1 || t <= k[0].t_s) {
        *out = k[0].pose;
        return;
    }
    if (t >= k[n - 1].t_s) {
        *out = k[n - 1].pose;
        return;
    }
    size_t i = 0;
    while (i + 1 < n && k[i + 1].t_s <= t) {
        i++;
    }
    if (t == k[i].t_s) {
        *out = k[i].pose;
        return;
    }
    double f = (t - k[i].t_s) / (k[i + 1].t_s - k[i].t_s);
    double p0[POSE_COMPONENTS], p1[POSE_COMPONENTS], p2[POSE_COMPONENTS], p3[POSE_COMPONENTS];
    double r[POSE_COMPONENTS];
    pose_to_array(&k[i > 0 ? i - 1 : i].pose, p0);
    pose_to_array(&k[i].pose, p1);
    pose_to_array(&k[i + 1].pose, p2);
    pose_to_array(&k[i + 2 < n ? i + 2 : i + 1].pose, p3);
    for (int c = 0; c < POSE_COMPONENTS; c++) {
        r[c] = path->smooth ? catmull_rom(p0[c], p1[c], p2[c], p3[c], f) : lerp(p1[c], p2[c], f);
    }
    array_to_pose(r, out);
}

void rc_camera_pose_at(const struct rc_camera_path *path, size_t index, size_t frames, double fps,
                       struct rc_camera_pose *out)
{
    if (path->kind == RC_CAMERA_KEYFRAMES && path->key_count > 0) {
        keyframe_pose(path, (double)index / fps, out);
        return;
    }
    *out = path->base;
    /* index / frames, so a 360-degree loop does not repeat its first frame. */
    double f = frames ? (double)index / (double)frames : 0.0;
    out->azimuth_deg = path->base.azimuth_deg + path->orbit_degrees * f;
}

void rc_camera_unwrap_azimuths(struct rc_camera_path *path)
{
    for (size_t i = 1; i < path->key_count; i++) {
        double prev = path->keys[i - 1].pose.azimuth_deg;
        double *az = &path->keys[i].pose.azimuth_deg;
        while (*az - prev > 180.0) {
            *az -= 360.0;
        }
        while (*az - prev < -180.0) {
            *az += 360.0;
        }
    }
}

/* Camera basis: right stays horizontal (it follows the azimuth), so looking
 * straight down is as well defined as looking at the horizon. */
static void basis(const struct rc_camera_pose *pose, double eye[3], double right[3], double up[3],
                  double fwd[3])
{
    rc_camera_eye(pose, eye);
    for (int i = 0; i < 3; i++) {
        fwd[i] = pose->target[i] - eye[i];
    }
    normalize(fwd);
    double az = pose->azimuth_deg * DEG;
    right[0] = cos(az);
    right[1] = sin(az);
    right[2] = 0;
    cross(right, fwd, up);
    normalize(up);
    /* Roll turns the camera about its line of sight: the picture turns clockwise. */
    if (pose->roll_deg != 0.0) {
        double c = cos(pose->roll_deg * DEG), s = sin(pose->roll_deg * DEG), r[3], u[3];
        for (int i = 0; i < 3; i++) {
            r[i] = c * right[i] + s * up[i];
            u[i] = c * up[i] - s * right[i];
        }
        for (int i = 0; i < 3; i++) {
            right[i] = r[i];
            up[i] = u[i];
        }
    }
}

static void clip_planes(const struct rc_camera_pose *pose, double *near, double *far)
{
    /* The scene fits in a few units around the target. */
    *near = fmax(pose->distance * 0.02, 1e-3);
    *far = pose->distance + 8.0;
}

void rc_camera_matrix(const struct rc_camera_pose *pose, double aspect, float out[16])
{
    double eye[3], right[3], up[3], fwd[3];
    basis(pose, eye, right, up, fwd);
    double view[16] = {
        right[0], up[0], -fwd[0], 0, right[1],         up[1],         -fwd[1],       0,
        right[2], up[2], -fwd[2], 0, -dot(right, eye), -dot(up, eye), dot(fwd, eye), 1,
    };
    double near, far;
    clip_planes(pose, &near, &far);
    double f = 1.0 / tan(pose->fov_deg * DEG / 2.0);
    double proj[16] = {0};
    proj[0] = f / aspect;
    proj[5] = f;
    proj[10] = (far + near) / (near - far);
    proj[11] = -1.0;
    proj[14] = 2.0 * far * near / (near - far);
    for (int col = 0; col < 4; col++) {
        for (int row = 0; row < 4; row++) {
            double sum = 0;
            for (int k = 0; k < 4; k++) {
                sum += proj[k * 4 + row] * view[col * 4 + k];
            }
            out[col * 4 + row] = (float)sum;
        }
    }
}

bool rc_camera_project(const struct rc_camera_pose *pose, unsigned width, unsigned height,
                       const double point[3], double *px, double *py)
{
    double eye[3], right[3], up[3], fwd[3];
    basis(pose, eye, right, up, fwd);
    double rel[3] = {point[0] - eye[0], point[1] - eye[1], point[2] - eye[2]};
    double depth = dot(rel, fwd);
    if (depth <= 0) {
        return false;
    }
    double half_h = tan(pose->fov_deg * DEG / 2.0) * depth;
    double aspect = (double)width / (double)height;
    double ndc_x = dot(rel, right) / (half_h * aspect);
    double ndc_y = dot(rel, up) / half_h;
    *px = (ndc_x + 1.0) * 0.5 * width;
    *py = (1.0 - ndc_y) * 0.5 * height;
    return true;
}

double rc_camera_fit_distance(double extent_x, double extent_y, double relief, double fov_deg,
                              double aspect)
{
    /* The box's bounding sphere, seen whole through the narrower of the two fields of
     * view whatever the camera's direction. */
    double radius = 0.5 * sqrt(extent_x * extent_x + extent_y * extent_y + relief * relief);
    double half_v = fov_deg * DEG / 2.0;
    double half_h = atan(tan(half_v) * aspect);
    double half = half_v < half_h ? half_v : half_h;
    return radius / sin(half);
}

/* Whether every corner of the box (x, y across the extent about the origin, z from
 * 0 to the relief) is seen by `pose` inside the frame less a margin of `margin`
 * (a fraction of each side). */
static bool box_in_frame(const struct rc_camera_pose *pose, double extent_x, double extent_y,
                         double relief, double aspect, double margin)
{
    unsigned h = 1000, w = (unsigned)lround(1000.0 * aspect);
    for (int corner = 0; corner < 8; corner++) {
        double p[3] = {(corner & 1 ? 0.5 : -0.5) * extent_x, (corner & 2 ? 0.5 : -0.5) * extent_y,
                       corner & 4 ? relief : 0.0};
        double x, y;
        if (!rc_camera_project(pose, w, h, p, &x, &y) || x < margin * w || x > (1.0 - margin) * w ||
            y < margin * h || y > (1.0 - margin) * h) {
            return false;
        }
    }
    return true;
}

/* The box and what "fit" frames it in: the output's aspect and the margin. */
struct fit_frame {
    double extent_x, extent_y, relief, aspect, margin;
};

static bool fits_all(struct rc_camera_pose *p, double azimuth, double step, size_t count,
                     const struct fit_frame *f)
{
    for (size_t k = 0; k < count; k++) {
        p->azimuth_deg = azimuth + step * (double)k;
        if (!box_in_frame(p, f->extent_x, f->extent_y, f->relief, f->aspect, f->margin)) {
            return false;
        }
    }
    return true;
}

/* The nearest distance at which `pose`, turned to each of `count` azimuths from
 * `azimuth` by `step` degrees, sees the whole box inside the frame's margin. */
static double fit_pose(const struct rc_camera_pose *pose, double azimuth, double step, size_t count,
                       const struct fit_frame *f)
{
    struct rc_camera_pose p = *pose;
    /* From the bounding sphere's distance, out until it fits (it soon does), then in. */
    double far =
        rc_camera_fit_distance(f->extent_x, f->extent_y, f->relief, pose->fov_deg, f->aspect);
    for (int i = 0; i < 20; i++) {
        p.distance = far;
        if (fits_all(&p, azimuth, step, count, f)) {
            break;
        }
        far *= 1.25;
    }
    double near = 0.0;
    for (int iteration = 0; iteration < 40; iteration++) {
        p.distance = 0.5 * (near + far);
        if (fits_all(&p, azimuth, step, count, f)) {
            far = p.distance;
        } else {
            near = p.distance;
        }
    }
    return far;
}

void rc_camera_fit(struct rc_camera_path *path, double extent_x, double extent_y, double relief,
                   double aspect, double margin)
{
    const struct fit_frame f = {extent_x, extent_y, relief, aspect, margin};
    /* An orbit is fitted at every azimuth it turns through (every 5 degrees); a
     * keyframe at its own. */
    if (path->base.distance == RC_CAMERA_FIT) {
        bool orbit = path->kind == RC_CAMERA_ORBIT;
        double turn = orbit ? fabs(path->orbit_degrees) : 0.0;
        size_t count = orbit ? (size_t)ceil(fmin(turn, 360.0) / 5.0) + 1 : 1;
        double step = count > 1 ? (path->orbit_degrees < 0 ? -1.0 : 1.0) * fmin(turn, 360.0) /
                                      (double)(count - 1)
                                : 0.0;
        path->base.distance = fit_pose(&path->base, path->base.azimuth_deg, step, count, &f);
    }
    for (size_t i = 0; i < path->key_count; i++) {
        struct rc_camera_pose *pose = &path->keys[i].pose;
        if (pose->distance == RC_CAMERA_FIT) {
            pose->distance = fit_pose(pose, pose->azimuth_deg, 0.0, 1, &f);
        }
    }
}
