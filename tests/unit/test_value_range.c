/* The "auto" value range: percentiles by numpy.percentile's default (linear) rule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "raster/range.h"

static void test_small(void)
{
    /* numpy.percentile(np.float32([3.5, -1, 7, 2, 2, 9.25, 0, 4, 11, -3.5]), q) for
     * q = 0, 2, 25, 50, 98, 100 gives -3.5, -3.05, 0.5, 2.75, 10.685, 11.0. */
    static const float values[] = {3.5f, -1, 7, 2, 2, 9.25f, 0, 4, 11, -3.5f};
    static const double q[] = {0, 2, 25, 50, 98, 100};
    static const double numpy[] = {-3.5, -3.05, 0.5, 2.75, 10.685, 11.0};
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        float v[10];
        memcpy(v, values, sizeof(v));
        CHECK_NEAR(rc_percentile(v, 10, q[i]), numpy[i], 1e-5);
    }
    float one = 42;
    CHECK(rc_percentile(&one, 1, 98) == 42);
}

/* A permutation of 0..n-1: the linear rule puts the q-th percentile at q/100*(n-1). */
static void test_permutation(void)
{
    enum { N = 1001 };
    float *v = malloc(N * sizeof(float));
    for (size_t i = 0; i < N; i++) {
        v[i] = (float)i;
    }
    unsigned seed = 12345;
    for (size_t i = N - 1; i > 0; i--) {
        seed = seed * 1103515245u + 12345u;
        size_t j = (seed >> 8) % (i + 1);
        float t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
    for (double q = 0; q <= 100; q += 12.5) {
        float *copy = malloc(N * sizeof(float));
        memcpy(copy, v, N * sizeof(float));
        CHECK_NEAR(rc_percentile(copy, N, q), q / 100 * (N - 1), 1e-6);
        free(copy);
    }
    free(v);
}

static void test_raster_skips_missing(void)
{
    float values[2 * 3 * 2] = {1, NAN, 3, 4, NAN, 6, /* band 2: */ 7, 8, NAN, 10, 11, 12};
    struct rc_raster r = {
        .width = 3, .height = 2, .band_count = 2, .values = values, .valid_count = 9};
    double lo, hi;
    CHECK(rc_raster_percentiles(&r, 0, 100, &lo, &hi));
    CHECK(lo == 1 && hi == 12);
    /* numpy.percentile([1, 3, 4, 6, 7, 8, 10, 11, 12], [2, 98]) = 1.32, 11.84 */
    CHECK(rc_raster_percentiles(&r, 2, 98, &lo, &hi));
    CHECK_NEAR(lo, 1.32, 1e-9);
    CHECK_NEAR(hi, 11.84, 1e-9);
    float none[2] = {NAN, NAN};
    struct rc_raster empty = {.width = 2, .height = 1, .band_count = 1, .values = none};
    CHECK(!rc_raster_percentiles(&empty, 2, 98, &lo, &hi));
}

int main(void)
{
    test_small();
    test_permutation();
    test_raster_skips_missing();
    return CHECK_DONE();
}
