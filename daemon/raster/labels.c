#include "raster/labels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/datetime.h"

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

/* NetCDF's time axis through GDAL's classic driver: the file's time#units on a
 * Gregorian calendar (false when it has none). */
static bool netcdf_units(GDALDatasetH ds, double *unit, double *epoch)
{
    return rc_datetime_parse_cf_units(GDALGetMetadataItem(ds, "time#units", NULL), unit, epoch) &&
           rc_datetime_calendar_supported(GDALGetMetadataItem(ds, "time#calendar", NULL));
}

/* A band's NETCDF_DIM_time in those units, as seconds since 1970. */
static double netcdf_time(GDALRasterBandH band, double unit, double epoch)
{
    const char *t = band ? GDALGetMetadataItem(band, "NETCDF_DIM_time", NULL) : NULL;
    char *end = NULL;
    double value = t ? strtod(t, &end) : NAN;
    return t && end != t && isfinite(value) ? epoch + value * unit : NAN;
}

bool rc_raster_time_labels(const double *times, size_t count, const char *format,
                           char (*out)[RC_RASTER_LABEL_MAX])
{
    for (size_t i = 0; i < count; i++) {
        if (!rc_datetime_format(times[i], format, out[i], RC_RASTER_LABEL_MAX)) {
            return false;
        }
    }
    return true;
}

bool rc_raster_read_labels(GDALDatasetH ds, const unsigned *bands, size_t count,
                           const double *times, const char *time_format, struct rc_raster *r)
{
    double *t = calloc(count ? count : 1, sizeof(*t));
    if (!t) {
        return false;
    }
    double unit = 0, epoch = 0;
    bool all_times = count > 0 && (times || netcdf_units(ds, &unit, &epoch));
    for (size_t i = 0; i < count; i++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, (int)bands[i]);
        const char *description = band ? GDALGetDescription(band) : NULL;
        bool described = description && description[0];
        t[i] = times ? times[i] : all_times ? netcdf_time(band, unit, epoch) : NAN;
        all_times = all_times && isfinite(t[i]) && (times || !described);
        if (described) {
            snprintf(r->labels[i], RC_RASTER_LABEL_MAX, "%s", description);
        } else if (!date_label(ds, band, r->labels[i], RC_RASTER_LABEL_MAX)) {
            snprintf(r->labels[i], RC_RASTER_LABEL_MAX, "band %u", bands[i]);
        }
    }
    if (all_times) {
        snprintf(r->time_format, sizeof(r->time_format), "%s",
                 time_format && time_format[0] ? time_format
                                               : rc_datetime_default_format(t, count));
        if (rc_raster_time_labels(t, count, r->time_format, r->labels)) {
            r->times = t;
            return true;
        }
        r->time_format[0] = '\0';
    }
    free(t);
    return true;
}
