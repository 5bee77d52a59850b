/* The plan as a contract: a job (JSON) and a small raster in memory in, each
 * stage's settings out, against expectations worked out by hand (percentiles by
 * numpy.percentile's linear rule: the q-th of 0..n-1 is q/100*(n-1)). */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "defaults.h"
#include "pipeline/plan.h"

static struct rc_config cfg;

/* A 20 x 10 raster of 0..199 row by row, one band; `geo` gives it 2-by-1 degree
 * cells (so its ground is 40 by 10 degrees). */
static void ramp(struct rc_raster *r, float *values, double (*range)[2],
                 char (*labels)[RC_RASTER_LABEL_MAX], bool geo)
{
    for (int i = 0; i < 200; i++) {
        values[i] = (float)i;
    }
    range[0][0] = 0;
    range[0][1] = 199;
    snprintf(labels[0], RC_RASTER_LABEL_MAX, "band 1");
    *r = (struct rc_raster){.width = 20,
                            .height = 10,
                            .source_width = 20,
                            .source_height = 10,
                            .band_count = 1,
                            .values = values,
                            .values_bytes = 200 * sizeof(float),
                            .valid_min = 0,
                            .valid_max = 199,
                            .valid_count = 200,
                            .has_geotransform = geo,
                            .geotransform = {-20, 2, 0, 5, 0, -1},
                            .labels = labels,
                            .band_range = range};
}

struct expect {
    const char *job;
    bool geo, hardware;
    double vmin, vmax;
    enum rc_frame_kind frame;
    unsigned mesh_cells;
    enum rc_dither dither;
    double extent_x, extent_y; /* the drawn shape, the longer side 1 */
};

/* A job planned over the ramp, with what the plan points into. */
struct planned {
    float values[200];
    double range[1][2];
    char labels[1][RC_RASTER_LABEL_MAX];
    struct rc_raster raster;
    struct rc_job_spec spec;
    struct rc_plan plan;
    bool parsed, made;
};

/* Parses and plans `job`; false, said on stderr, when either refuses it. Release
 * with planned_finish() whatever the outcome. */
static bool plan_job(struct planned *p, const char *job, bool geo, bool hardware)
{
    ramp(&p->raster, p->values, p->range, p->labels, geo);
    struct rc_error err = {0};
    p->parsed = rc_job_spec_parse(&p->spec, &cfg, job, strlen(job), &err) == RC_OK;
    p->made = p->parsed &&
              rc_plan_make(&p->spec, &cfg, &p->raster, false, hardware, &p->plan, &err) == RC_OK;
    if (!p->made) {
        fprintf(stderr, "  job %s: %s\n", job, err.message);
    }
    return p->made;
}

static void planned_finish(struct planned *p)
{
    if (p->made) {
        rc_plan_release(&p->plan);
    }
    if (p->parsed) {
        rc_job_spec_finish(&p->spec);
    }
}

static void check_plan(const struct expect *e)
{
    struct planned p;
    bool made = plan_job(&p, e->job, e->geo, e->hardware);
    CHECK(made);
    if (made) {
        const struct rc_plan *plan = &p.plan;
        if (fabs(plan->vmin - e->vmin) > 1e-9 || fabs(plan->vmax - e->vmax) > 1e-9 ||
            plan->output.frame != e->frame || plan->render.mesh_cells != e->mesh_cells ||
            plan->output.codec.gif.dither != e->dither) {
            fprintf(stderr, "  job %s: range %g..%g frame %d cells %u dither %d\n", e->job,
                    plan->vmin, plan->vmax, (int)plan->output.frame, plan->render.mesh_cells,
                    (int)plan->output.codec.gif.dither);
        }
        CHECK_NEAR(plan->vmin, e->vmin, 1e-9);
        CHECK_NEAR(plan->vmax, e->vmax, 1e-9);
        CHECK(plan->output.frame == e->frame);
        CHECK(plan->render.mesh_cells == e->mesh_cells);
        CHECK(plan->output.codec.gif.dither == e->dither);
        CHECK_NEAR(plan->render.extent[0], e->extent_x, 1e-6);
        CHECK_NEAR(plan->render.extent[1], e->extent_y, 1e-6);
        /* The renderer reads the raster's own values, through the plan's view. */
        CHECK(p.plan.render.values == &p.plan.values && p.plan.values.values == p.values);
        CHECK(plan->values.width == 20 && plan->values.height == 10 && plan->values.count == 1);
        CHECK(plan->render.heights == NULL);
        /* The colorbar spans what the colours span. */
        CHECK(plan->overlay.vmin == plan->vmin && plan->overlay.vmax == plan->vmax);
    }
    planned_finish(&p);
}

static void test_table(void)
{
    /* 1280 x 720 by default: a surface mesh is refined over a grid of up to a cell
     * a pixel of the longer side (1280; the raster's own 20 caps it later). */
    static const struct expect cases[] = {
        /* The valid minimum and maximum; WebM, opaque: I420. */
        {"{\"raster\":{\"url\":\"x\"}}", false, false, 0, 199, RC_FRAME_I420, 1, RC_DITHER_NONE, 1,
         0.5},
        /* "auto": the 2nd and 98th percentiles of 0..199: 3.98 and 195.02. */
        {"{\"raster\":{\"url\":\"x\",\"rescale\":\"auto\"}}", false, false, 3.98, 195.02,
         RC_FRAME_I420, 1, RC_DITHER_NONE, 1, 0.5},
        {"{\"raster\":{\"url\":\"x\",\"rescale\":[10,20]}}", false, false, 10, 20, RC_FRAME_I420, 1,
         RC_DITHER_NONE, 1, 0.5},
        /* A see-through background keeps alpha: I420A for WebM. */
        {"{\"raster\":{\"url\":\"x\"},\"style\":{\"background\":\"#00000000\"}}", false, false, 0,
         199, RC_FRAME_I420A, 1, RC_DITHER_NONE, 1, 0.5},
        /* GIF frames stay RGBA; image mode's flat colours need no dither. */
        {"{\"raster\":{\"url\":\"x\"},\"output\":{\"format\":\"gif\"}}", false, false, 0, 199,
         RC_FRAME_RGBA, 1, RC_DITHER_NONE, 1, 0.5},
        /* A lit surface's shading is dithered (ordered) unless the job says. */
        {"{\"raster\":{\"url\":\"x\"},\"style\":{\"mode\":\"surface\"},\"output\":{\"format\":"
         "\"gif\"}}",
         false, false, 0, 199, RC_FRAME_RGBA, 1280, RC_DITHER_ORDERED, 1, 0.5},
        {"{\"raster\":{\"url\":\"x\"},\"style\":{\"mode\":\"surface\"},\"output\":{\"format\":"
         "\"gif\",\"dither\":\"diffusion\"}}",
         false, false, 0, 199, RC_FRAME_RGBA, 1280, RC_DITHER_DIFFUSION, 1, 0.5},
        {"{\"raster\":{\"url\":\"x\"},\"style\":{\"mode\":\"surface\"}}", false, true, 0, 199,
         RC_FRAME_I420, 1280, RC_DITHER_ORDERED, 1, 0.5},
        {"{\"raster\":{\"url\":\"x\"},\"style\":{\"mode\":\"surface\",\"detail\":64}}", false,
         false, 0, 199, RC_FRAME_I420, 64, RC_DITHER_ORDERED, 1, 0.5},
        /* With a geotransform the ground's shape: 40 by 10 degrees, 1 : 0.25. */
        {"{\"raster\":{\"url\":\"x\"}}", true, false, 0, 199, RC_FRAME_I420, 1, RC_DITHER_NONE, 1,
         0.25},
        {"{\"raster\":{\"url\":\"x\"},\"style\":{\"aspect\":\"square\"}}", true, false, 0, 199,
         RC_FRAME_I420, 1, RC_DITHER_NONE, 1, 0.5},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_plan(&cases[i]);
    }
}

/* The refined mesh's height error for `job`: relief units, 0 for a uniform grid. */
static double mesh_error(const char *job, bool hardware)
{
    struct planned p;
    double e = plan_job(&p, job, false, hardware) ? p.plan.render.mesh_error : -1;
    planned_finish(&p);
    return e;
}

/* style.detail "auto" bounds the mesh's error in output pixels at the camera
 * path's nearest point: nearer or taller pictures get a finer mesh, a software
 * renderer a bound RC_PLAN_SOFTWARE_MESH_ERROR_PX / RC_PLAN_MESH_ERROR_PX wider,
 * and cells given keep the uniform grid. */
static void test_mesh_error(void)
{
    const char *surface = "{\"raster\":{\"url\":\"x\"},\"style\":{\"mode\":\"surface\"}}";
    double soft = mesh_error(surface, false), gpu = mesh_error(surface, true);
    CHECK(soft > 0 && gpu > 0);
    CHECK_NEAR(soft / gpu, RC_PLAN_SOFTWARE_MESH_ERROR_PX / RC_PLAN_MESH_ERROR_PX, 1e-9);
    double near = mesh_error("{\"raster\":{\"url\":\"x\"},\"style\":{\"mode\":\"surface\"},"
                             "\"camera\":{\"orbit\":{\"distance\":1.2}}}",
                             false);
    double far = mesh_error("{\"raster\":{\"url\":\"x\"},\"style\":{\"mode\":\"surface\"},"
                            "\"camera\":{\"orbit\":{\"distance\":4}}}",
                            false);
    CHECK(near > 0 && near < far);
    double tall = mesh_error("{\"raster\":{\"url\":\"x\"},\"style\":{\"mode\":\"surface\"},"
                             "\"output\":{\"width\":1280,\"height\":1440}}",
                             false);
    CHECK_NEAR(tall, soft / 2, 1e-9);
    CHECK(mesh_error("{\"raster\":{\"url\":\"x\"},\"style\":{\"mode\":\"surface\","
                     "\"detail\":64}}",
                     false) == 0);
    CHECK(mesh_error("{\"raster\":{\"url\":\"x\"}}", false) == 0);
}

/* What the plan refuses names the field to change. */
static void test_refusals(void)
{
    static const struct {
        const char *job;
        const char *field;
    } cases[] = {
        {"{\"raster\":{\"url\":\"x\"},\"style\":{\"aspect\":\"data\"}}", "style.aspect"},
        {"{\"raster\":{\"url\":\"x\"},\"style\":{\"band_labels\":[\"a\",\"b\"]}}",
         "style.band_labels"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        float values[200];
        double range[1][2];
        char labels[1][RC_RASTER_LABEL_MAX];
        struct rc_raster raster;
        ramp(&raster, values, range, labels, false);
        struct rc_job_spec spec;
        struct rc_error err = {0};
        CHECK(rc_job_spec_parse(&spec, &cfg, cases[i].job, strlen(cases[i].job), &err) == RC_OK);
        struct rc_plan plan;
        CHECK(rc_plan_make(&spec, &cfg, &raster, false, false, &plan, &err) == RC_ERR_IMPOSSIBLE);
        if (strcmp(err.field, cases[i].field) != 0) {
            fprintf(stderr, "  job %s: field %s (%s)\n", cases[i].job, err.field, err.message);
        }
        CHECK(strcmp(err.field, cases[i].field) == 0);
        rc_plan_release(&plan);
        rc_job_spec_finish(&spec);
    }
}

int main(void)
{
    if (!rc_test_default_config(&cfg)) {
        return 1;
    }
    test_table();
    test_mesh_error();
    test_refusals();
    return CHECK_DONE();
}
