#include "raster/range.h"

#include <math.h>
#include <stdlib.h>

static void swap_f(float *a, float *b)
{
    float t = *a;
    *a = *b;
    *b = t;
}

/* Moves the k-th smallest of v[0..n) to v[k] (Hoare's selection). */
static void select_kth(float *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) {
                i++;
            }
            while (v[j] > pivot) {
                j--;
            }
            if (i <= j) {
                swap_f(&v[i], &v[j]);
                i++;
                if (j == 0) {
                    break;
                }
                j--;
            }
        }
        if (k <= j) {
            hi = j;
        } else if (k >= i) {
            lo = i;
        } else {
            return;
        }
    }
}

double rc_percentile(float *v, size_t n, double q)
{
    double idx = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(idx);
    select_kth(v, n, lo);
    double a = v[lo];
    if (lo + 1 >= n || idx == (double)lo) {
        return a;
    }
    float b = v[lo + 1];
    for (size_t i = lo + 2; i < n; i++) {
        b = v[i] < b ? v[i] : b;
    }
    return a + ((double)b - a) * (idx - (double)lo);
}

/* Past this many valid values "auto" samples the values evenly. */
enum { AUTO_SAMPLE_MAX = 1 << 22 };

bool rc_raster_percentiles(const struct rc_raster *r, double q_lo, double q_hi, double *lo,
                           double *hi)
{
    size_t total = r->band_count * (size_t)r->width * r->height;
    size_t stride = r->valid_count > AUTO_SAMPLE_MAX ? r->valid_count / AUTO_SAMPLE_MAX + 1 : 1;
    float *scratch = malloc((r->valid_count / stride + 1) * sizeof(float));
    if (!scratch) {
        return false;
    }
    size_t n = 0, seen = 0;
    for (size_t i = 0; i < total; i++) {
        float v = r->values[i];
        if (!isnan(v) && !isinf(v) && seen++ % stride == 0) {
            scratch[n++] = v;
        }
    }
    bool ok = n > 0;
    if (ok) {
        *lo = rc_percentile(scratch, n, q_lo);
        *hi = rc_percentile(scratch, n, q_hi);
    }
    free(scratch);
    return ok;
}
