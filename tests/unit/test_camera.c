/* Camera math: eye placement, projection, orbit and keyframe paths. */
#include <math.h>

#include "base/camera.h"
#include "check.h"

static const double PI = 3.14159265358979323846;

static struct rc_camera_pose top_down(double distance)
{
    struct rc_camera_pose p = {
        .azimuth_deg = 0, .elevation_deg = 90, .distance = distance, .fov_deg = 30};
    return p;
}

static void test_eye(void)
{
    struct rc_camera_pose p = {.azimuth_deg = 0, .elevation_deg = 0, .distance = 2, .fov_deg = 30};
    double eye[3];
    rc_camera_eye(&p, eye);
    CHECK_NEAR(eye[0], 0.0, 1e-12);
    CHECK_NEAR(eye[1], -2.0, 1e-12); /* azimuth 0 looks north from the south */
    CHECK_NEAR(eye[2], 0.0, 1e-12);
    p.azimuth_deg = 90;
    rc_camera_eye(&p, eye);
    CHECK_NEAR(eye[0], 2.0, 1e-12); /* counter-clockwise seen from above: east */
    p.elevation_deg = 90;
    rc_camera_eye(&p, eye);
    CHECK_NEAR(eye[2], 2.0, 1e-12);
}

static void test_projection(void)
{
    struct rc_camera_pose p = top_down(2.0);
    double px, py;
    double origin[3] = {0, 0, 0};
    CHECK(rc_camera_project(&p, 640, 360, origin, &px, &py));
    CHECK_NEAR(px, 320.0, 1e-9);
    CHECK_NEAR(py, 180.0, 1e-9);
    /* A point north of the centre is above it; east is right. Half the visible
     * height at distance d is d * tan(fov / 2). */
    double half_h = 2.0 * tan(15.0 * PI / 180.0);
    double north[3] = {0, half_h, 0};
    CHECK(rc_camera_project(&p, 640, 360, north, &px, &py));
    CHECK_NEAR(px, 320.0, 1e-9);
    CHECK_NEAR(py, 0.0, 1e-9);
    double east[3] = {half_h, 0, 0};
    CHECK(rc_camera_project(&p, 640, 360, east, &px, &py));
    CHECK_NEAR(px, 320.0 + 180.0, 1e-9); /* square pixels */

    /* The GL matrix agrees with the projection. */
    float m[16];
    rc_camera_matrix(&p, 640.0 / 360.0, m);
    double pt[3] = {0.1, -0.2, 0.0};
    double clip[4];
    for (int row = 0; row < 4; row++) {
        clip[row] = m[0 * 4 + row] * pt[0] + m[1 * 4 + row] * pt[1] + m[2 * 4 + row] * pt[2] +
                    m[3 * 4 + row];
    }
    CHECK(rc_camera_project(&p, 640, 360, pt, &px, &py));
    CHECK_NEAR((clip[0] / clip[3] + 1) * 0.5 * 640, px, 1e-3);
    CHECK_NEAR((1 - clip[1] / clip[3]) * 0.5 * 360, py, 1e-3);
    CHECK(clip[2] / clip[3] > -1 && clip[2] / clip[3] < 1);

    double behind[3] = {0, 0, 5};
    CHECK(!rc_camera_project(&p, 640, 360, behind, &px, &py));
}

static void test_orbit(void)
{
    struct rc_camera_path path = {.kind = RC_CAMERA_ORBIT, .orbit_degrees = 360};
    path.base = (struct rc_camera_pose){
        .azimuth_deg = 10, .elevation_deg = 35, .distance = 2.2, .fov_deg = 30};
    struct rc_camera_pose p;
    rc_camera_pose_at(&path, 0, 120, 30, &p);
    CHECK_NEAR(p.azimuth_deg, 10.0, 1e-12);
    rc_camera_pose_at(&path, 60, 120, 30, &p);
    CHECK_NEAR(p.azimuth_deg, 190.0, 1e-12);
    rc_camera_pose_at(&path, 119, 120, 30, &p);
    CHECK_NEAR(p.azimuth_deg, 10.0 + 357.0, 1e-9); /* the last frame is not the first again */
    CHECK_NEAR(p.elevation_deg, 35.0, 1e-12);
}

static void test_keyframes(void)
{
    struct rc_camera_path path = {.kind = RC_CAMERA_KEYFRAMES, .key_count = 3};
    double az[3] = {350, 20, 80}, el[3] = {30, 60, 10}, t[3] = {0, 1, 3};
    for (int i = 0; i < 3; i++) {
        path.keys[i].t_s = t[i];
        path.keys[i].pose = (struct rc_camera_pose){
            .azimuth_deg = az[i], .elevation_deg = el[i], .distance = 2 + i, .fov_deg = 30};
    }
    rc_camera_unwrap_azimuths(&path);
    CHECK_NEAR(path.keys[1].pose.azimuth_deg, 380.0, 1e-12); /* 350 -> 20 the short way */
    for (int smooth = 0; smooth < 2; smooth++) {
        path.smooth = smooth;
        struct rc_camera_pose p;
        /* At 30 fps, frames 0, 30 and 90 are the keyframe times: hit exactly. */
        rc_camera_pose_at(&path, 0, 100, 30, &p);
        CHECK_NEAR(p.elevation_deg, 30.0, 1e-9);
        rc_camera_pose_at(&path, 30, 100, 30, &p);
        CHECK_NEAR(p.elevation_deg, 60.0, 1e-9);
        CHECK_NEAR(fmod(p.azimuth_deg, 360.0), 20.0, 1e-9);
        CHECK_NEAR(p.distance, 3.0, 1e-9);
        rc_camera_pose_at(&path, 90, 100, 30, &p);
        CHECK_NEAR(p.elevation_deg, 10.0, 1e-9);
        rc_camera_pose_at(&path, 99, 100, 30, &p); /* held after the last key */
        CHECK_NEAR(p.elevation_deg, 10.0, 1e-9);
    }
    path.smooth = false;
    struct rc_camera_pose p;
    rc_camera_pose_at(&path, 15, 100, 30, &p); /* halfway between keys 0 and 1 */
    CHECK_NEAR(p.elevation_deg, 45.0, 1e-9);
    CHECK_NEAR(p.azimuth_deg, 365.0, 1e-9);
}

int main(void)
{
    test_eye();
    test_projection();
    test_orbit();
    test_keyframes();
    return CHECK_DONE();
}
