#include "raster/labels.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Days since 1970-01-01 of a civil date (proleptic Gregorian; Howard Hinnant's
 * days_from_civil). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long)yoe + era * 400 + (*m <= 2);
}

/* "<days|hours|minutes|seconds> since YYYY-MM-DD[...]": seconds a unit is, and the
 * epoch in days since 1970. */
static bool parse_units(const char *units, double *unit_days, long *epoch)
{
    char unit[16];
    long y;
    unsigned m, d;
    if (!units || sscanf(units, "%15s since %ld-%u-%u", unit, &y, &m, &d) != 4 || m < 1 || m > 12 ||
        d < 1 || d > 31) {
        return false;
    }
    static const struct {
        const char *name;
        double days;
    } scale[] = {{"days", 1},
                 {"day", 1},
                 {"hours", 1.0 / 24},
                 {"hour", 1.0 / 24},
                 {"minutes", 1.0 / 1440},
                 {"seconds", 1.0 / 86400}};
    for (size_t i = 0; i < sizeof(scale) / sizeof(scale[0]); i++) {
        if (strcmp(unit, scale[i].name) == 0) {
            *unit_days = scale[i].days;
            *epoch = days_from_civil(y, m, d);
            return true;
        }
    }
    return false;
}

/* An acquisition date GDAL reports for the band, else for the file: the band's
 * own metadata, the IMAGERY domain's ACQUISITIONDATETIME, then the TIFF tag.
 * TIFF's "YYYY:MM:DD HH:MM:SS" reads as ISO 8601's "YYYY-MM-DD HH:MM:SS". */
static bool date_label(GDALDatasetH ds, GDALRasterBandH band, char *out, size_t size)
{
    static const char *const band_keys[] = {"ACQUISITIONDATETIME", "ACQUISITION_DATE", "DATETIME",
                                            "TIFFTAG_DATETIME"};
    const char *date = NULL;
    for (size_t k = 0; band && !date && k < sizeof(band_keys) / sizeof(band_keys[0]); k++) {
        date = GDALGetMetadataItem(band, band_keys[k], NULL);
    }
    date = date ? date : GDALGetMetadataItem(ds, "ACQUISITIONDATETIME", "IMAGERY");
    date = date ? date : GDALGetMetadataItem(ds, "TIFFTAG_DATETIME", NULL);
    if (!date || !date[0]) {
        return false;
    }
    snprintf(out, size, "%s", date);
    unsigned y, m, d;
    char c1, c2;
    if (strlen(out) >= 10 && sscanf(out, "%4u%c%2u%c%2u", &y, &c1, &m, &c2, &d) == 5 && c1 == ':' &&
        c2 == ':') {
        out[4] = out[7] = '-';
    }
    return true;
}

void rc_raster_read_labels(GDALDatasetH ds, const unsigned *bands, size_t count,
                           char (*out)[RC_RASTER_LABEL_MAX])
{
    double unit_days = 0;
    long epoch = 0;
    bool has_time = parse_units(GDALGetMetadataItem(ds, "time#units", NULL), &unit_days, &epoch);
    long *days = calloc(count ? count : 1, sizeof(*days));
    bool all_times = has_time && days != NULL;
    for (size_t i = 0; i < count; i++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, (int)bands[i]);
        const char *description = band ? GDALGetDescription(band) : NULL;
        const char *t = band ? GDALGetMetadataItem(band, "NETCDF_DIM_time", NULL) : NULL;
        char *end = NULL;
        double value = t ? strtod(t, &end) : NAN;
        bool timed = has_time && t && end != t && isfinite(value);
        if (days && timed) {
            days[i] = epoch + (long)floor(value * unit_days);
        }
        all_times = all_times && timed && !(description && description[0]);
        if (description && description[0]) {
            snprintf(out[i], RC_RASTER_LABEL_MAX, "%s", description);
        } else if (!date_label(ds, band, out[i], RC_RASTER_LABEL_MAX)) {
            snprintf(out[i], RC_RASTER_LABEL_MAX, "band %u", bands[i]);
        }
    }
    /* Times for every band: a month apart (28 to 31 days) reads as months. */
    bool monthly = all_times && count > 1;
    for (size_t i = 1; monthly && i < count; i++) {
        long step = days[i] - days[i - 1];
        monthly = step >= 28 && step <= 31;
    }
    for (size_t i = 0; all_times && i < count; i++) {
        long y;
        unsigned m, d;
        civil_from_days(days[i], &y, &m, &d);
        if (monthly) {
            snprintf(out[i], RC_RASTER_LABEL_MAX, "%04ld-%02u", y, m);
        } else {
            snprintf(out[i], RC_RASTER_LABEL_MAX, "%04ld-%02u-%02u", y, m, d);
        }
    }
    free(days);
}
