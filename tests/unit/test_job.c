/* Job parsing and validation: defaults, every error names its field, timeline. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "defaults.h"
#include "job/job.h"
#include "job/timeline.h"

static struct rc_config cfg;

static enum rc_err parse(const char *text, struct rc_job_spec *spec, struct rc_error *err)
{
    memset(err, 0, sizeof(*err));
    return rc_job_spec_parse(spec, &cfg, text, strlen(text), err);
}

static void expect_error(const char *text, enum rc_err code, const char *field)
{
    struct rc_job_spec spec;
    struct rc_error err;
    enum rc_err rc = parse(text, &spec, &err);
    CHECK(rc == code);
    CHECK(err.code == code);
    if (strcmp(err.field, field) != 0) {
        fprintf(stderr, "  job %s: field \"%s\", expected \"%s\" (%s)\n", text, err.field, field,
                err.message);
    }
    CHECK(strcmp(err.field, field) == 0);
    CHECK(err.message[0] != '\0');
    if (rc == RC_OK) {
        rc_job_spec_finish(&spec);
    }
}

static void test_defaults(void)
{
    struct rc_job_spec spec;
    struct rc_error err;
    CHECK(parse("{\"raster\":{\"url\":\"dem.tif\"}}", &spec, &err) == RC_OK);
    CHECK(strcmp(spec.url, "dem.tif") == 0);
    CHECK(spec.width == 1280 && spec.height == 720 && spec.fps == 30);
    CHECK(spec.frames == 0); /* follows from the bands */
    CHECK(spec.mode == RC_MODE_IMAGE);
    CHECK(spec.colormap.entries == 256);
    CHECK(spec.background[0] == 255 && spec.nan_color[3] == 0);
    CHECK(spec.camera.kind == RC_CAMERA_ORBIT && spec.camera.orbit_degrees == 360);
    CHECK(spec.camera.base.elevation_deg == 35 && spec.camera.base.distance == 2.2);
    CHECK(spec.keyframe_interval == 60 && spec.crf == -1 && spec.bitrate_kbps == 2000);
    struct rc_timeline timeline;
    CHECK(rc_timeline_init(&timeline, &spec, &cfg, 1, &err) == RC_OK);
    CHECK(timeline.frames == 120); /* 4 s at 30 fps */
    CHECK(spec.frames == 0);       /* the spec is never written */
    CHECK(rc_timeline_init(&timeline, &spec, &cfg, 5, &err) == RC_OK);
    CHECK(timeline.frames == 50); /* 10 frames a band */
    rc_job_spec_finish(&spec);

    CHECK(parse("{\"raster\":{\"url\":\"a.tif\",\"bands\":{\"first\":2,\"last\":5},"
                "\"rescale\":[0,10],\"nodata\":-9999},"
                "\"style\":{\"colormap\":\"magma\",\"reverse\":true,\"background\":\"#000000\"},"
                "\"timeline\":{\"frames_per_band\":3,\"blend\":true},"
                "\"output\":{\"width\":640,\"height\":360,\"duration\":2.5,\"fps\":24}}",
                &spec, &err) == RC_OK);
    CHECK(spec.band_count == 4 && spec.bands[0] == 2 && spec.bands[3] == 5);
    CHECK(spec.has_rescale && spec.rescale_min == 0 && spec.rescale_max == 10);
    CHECK(spec.has_nodata && spec.nodata == -9999);
    CHECK(spec.frames == 60);
    CHECK(spec.background[0] == 0);
    CHECK(rc_timeline_init(&timeline, &spec, &cfg, 4, &err) == RC_OK);
    CHECK(timeline.frames == 60);
    struct rc_timeline_frame f;
    rc_timeline_at(&timeline, 4, &f); /* 4/3 of the way: band 1 to 2 */
    CHECK(f.band_a == 1 && f.band_b == 2);
    CHECK_NEAR(f.blend, 1.0f / 3.0f, 1e-6f);
    rc_timeline_at(&timeline, 59, &f); /* past the end: held on the last */
    CHECK(f.band_a == 3 && f.band_b == 3 && f.blend == 0.0f);
    CHECK(f.pose.elevation_deg == 35);
    rc_job_spec_finish(&spec);
}

static void test_errors(void)
{
    expect_error("", RC_ERR_INVALID, "");
    expect_error("[1,2]", RC_ERR_INVALID, "");
    expect_error("{\"raster\":{\"url\":\"a\"},\"raster\":{}}", RC_ERR_INVALID, "");
    expect_error("{}", RC_ERR_INVALID, "raster");
    expect_error("{\"raster\":{}}", RC_ERR_INVALID, "raster.url");
    expect_error("{\"raster\":{\"url\":7}}", RC_ERR_INVALID, "raster.url");
    expect_error("{\"raster\":{\"url\":\"a\"},\"colour\":1}", RC_ERR_INVALID, "colour");
    expect_error("{\"raster\":{\"url\":\"a\",\"band\":[1]}}", RC_ERR_INVALID, "raster.band");
    expect_error("{\"raster\":{\"url\":\"a\",\"bands\":[]}}", RC_ERR_INVALID, "raster.bands");
    expect_error("{\"raster\":{\"url\":\"a\",\"bands\":[0]}}", RC_ERR_INVALID, "raster.bands");
    expect_error("{\"raster\":{\"url\":\"a\",\"bands\":{\"first\":3,\"last\":2}}}",
                 RC_ERR_IMPOSSIBLE, "raster.bands.last");
    expect_error("{\"raster\":{\"url\":\"a\",\"rescale\":[5,1]}}", RC_ERR_IMPOSSIBLE,
                 "raster.rescale");
    expect_error("{\"raster\":{\"url\":\"a\",\"rescale\":\"auto-ish\"}}", RC_ERR_INVALID,
                 "raster.rescale");
    expect_error("{\"raster\":{\"url\":\"a\"},\"style\":{\"colormap\":\"nope\"}}", RC_ERR_INVALID,
                 "style.colormap");
    expect_error("{\"raster\":{\"url\":\"a\"},\"style\":{\"mode\":\"volume\"}}", RC_ERR_INVALID,
                 "style.mode");
    expect_error("{\"raster\":{\"url\":\"a\"},\"style\":{\"nan_color\":\"red\"}}", RC_ERR_INVALID,
                 "style.nan_color");
    expect_error("{\"raster\":{\"url\":\"a\"},\"style\":{\"colormap\":{\"stops\":[[0,\"#000\"]]}}}",
                 RC_ERR_INVALID, "style.colormap.stops");
    expect_error("{\"raster\":{\"url\":\"a\"},\"style\":{\"lighting\":1}}", RC_ERR_INVALID,
                 "style.lighting");
    expect_error("{\"raster\":{\"url\":\"a\"},\"camera\":{\"orbit\":{\"elevation\":91}}}",
                 RC_ERR_IMPOSSIBLE, "camera.orbit.elevation");
    expect_error("{\"raster\":{\"url\":\"a\"},\"camera\":{\"orbit\":{\"distance\":0}}}",
                 RC_ERR_IMPOSSIBLE, "camera.orbit.distance");
    expect_error("{\"raster\":{\"url\":\"a\"},\"camera\":{\"orbit\":{\"spin\":1}}}", RC_ERR_INVALID,
                 "camera.orbit.spin");
    expect_error("{\"raster\":{\"url\":\"a\"},\"camera\":{\"keyframes\":[{\"t\":1},{\"t\":1}]}}",
                 RC_ERR_IMPOSSIBLE, "camera.keyframes[1].t");
    expect_error("{\"raster\":{\"url\":\"a\"},\"camera\":{\"keyframes\":[{\"t\":0,\"fov\":180}]}}",
                 RC_ERR_IMPOSSIBLE, "camera.keyframes[0].fov");
    expect_error("{\"raster\":{\"url\":\"a\"},\"output\":{\"width\":100000}}", RC_ERR_IMPOSSIBLE,
                 "output.width");
    expect_error("{\"raster\":{\"url\":\"a\"},\"output\":{\"width\":641}}", RC_ERR_IMPOSSIBLE,
                 "output.width");
    expect_error("{\"raster\":{\"url\":\"a\"},\"output\":{\"height\":\"720\"}}", RC_ERR_INVALID,
                 "output.height");
    expect_error("{\"raster\":{\"url\":\"a\"},\"output\":{\"frames\":0}}", RC_ERR_IMPOSSIBLE,
                 "output.frames");
    expect_error("{\"raster\":{\"url\":\"a\"},\"output\":{\"frames\":10,\"duration\":1}}",
                 RC_ERR_INVALID, "output.frames");
    expect_error("{\"raster\":{\"url\":\"a\"},\"output\":{\"duration\":100000}}", RC_ERR_IMPOSSIBLE,
                 "output.duration");
    expect_error("{\"raster\":{\"url\":\"a\"},\"output\":{\"speed\":\"fast\"}}", RC_ERR_INVALID,
                 "output.speed");
    expect_error("{\"raster\":{\"url\":\"a\"},\"output\":{\"fps\":1000}}", RC_ERR_IMPOSSIBLE,
                 "output.fps");
    expect_error("{\"raster\":{\"url\":\"a\"},\"timeline\":{\"blend\":\"yes\"}}", RC_ERR_INVALID,
                 "timeline.blend");
}

int main(void)
{
    if (!rc_test_default_config(&cfg)) {
        return 1;
    }
    test_defaults();
    test_errors();
    return CHECK_DONE();
}
