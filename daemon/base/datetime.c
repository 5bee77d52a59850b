#include "base/datetime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). */
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

double rc_datetime_from_civil(long year, unsigned month, unsigned day, double seconds_of_day)
{
    return (double)days_from_civil(year, month, day) * 86400.0 + seconds_of_day;
}

long rc_datetime_month_index(double seconds)
{
    long y;
    unsigned m, d;
    civil_from_days((long)floor(seconds / 86400.0), &y, &m, &d);
    return y * 12 + (long)m - 1;
}

/* One date or instant: its start and the start of the unit after it. */
static bool parse_point(const char *s, double *lo, double *hi)
{
    long y = 0;
    unsigned mo = 1, d = 1, hh = 0, mi = 0;
    double sec = 0;
    int n = 0, fields = 0;
    char tail[8] = "";
    if (sscanf(s, "%4ld%n", &y, &n) != 1 || n != 4) {
        return false;
    }
    const char *p = s + n;
    fields = 1;
    if (*p == '-' && sscanf(p, "-%2u%n", &mo, &n) == 1 && n == 3) {
        p += n;
        fields = 2;
        if (*p == '-' && sscanf(p, "-%2u%n", &d, &n) == 1 && n == 3) {
            p += n;
            fields = 3;
            if ((*p == 'T' || *p == ' ') && sscanf(p + 1, "%2u:%2u%n", &hh, &mi, &n) == 2 &&
                n == 5) {
                p += 1 + n;
                fields = 4;
                if (*p == ':' && sscanf(p, ":%lf%n", &sec, &n) == 1) {
                    p += n;
                    fields = 5;
                }
            }
        }
    }
    if (sscanf(p, "%7s", tail) == 1 && strcmp(tail, "Z") != 0) {
        return false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || !(sec >= 0 && sec < 61)) {
        return false;
    }
    *lo = rc_datetime_from_civil(y, mo, d, hh * 3600.0 + mi * 60.0 + sec);
    switch (fields) {
    case 1:
        *hi = rc_datetime_from_civil(y + 1, 1, 1, 0);
        break;
    case 2:
        *hi = rc_datetime_from_civil(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1, 1, 0);
        break;
    case 3:
        *hi = *lo + 86400.0;
        break;
    case 4:
        *hi = *lo + 60.0;
        break;
    default:
        *hi = *lo + 1.0;
    }
    return true;
}

bool rc_datetime_parse_interval(const char *text, double out[2])
{
    char a[64], b[64];
    const char *slash = strchr(text, '/');
    if (strlen(text) >= sizeof(a)) {
        return false;
    }
    if (!slash) {
        return text[0] && parse_point(text, &out[0], &out[1]);
    }
    snprintf(a, sizeof(a), "%.*s", (int)(slash - text), text);
    snprintf(b, sizeof(b), "%s", slash + 1);
    double ignore;
    bool open_a = a[0] == '\0' || strcmp(a, "..") == 0;
    bool open_b = b[0] == '\0' || strcmp(b, "..") == 0;
    out[0] = -INFINITY;
    out[1] = INFINITY;
    if ((open_a && open_b) || (!open_a && !parse_point(a, &out[0], &ignore)) ||
        (!open_b && !parse_point(b, &ignore, &out[1]))) {
        return false;
    }
    return out[0] < out[1];
}

bool rc_datetime_parse_duration(const char *text, int *months, double *seconds)
{
    *months = 0;
    *seconds = 0;
    if (text[0] != 'P' || !text[1]) {
        return false;
    }
    bool in_time = false;
    const char *p = text + 1;
    while (*p) {
        if (*p == 'T' && !in_time) {
            in_time = true;
            p++;
            continue;
        }
        char *end = NULL;
        double v = strtod(p, &end);
        if (end == p || !(v >= 0) || v > 1e6) {
            return false;
        }
        char unit = *end;
        p = end + 1;
        if (!in_time && (unit == 'Y' || unit == 'M') && v == floor(v)) {
            *months += (int)v * (unit == 'Y' ? 12 : 1);
        } else if (!in_time && (unit == 'W' || unit == 'D')) {
            *seconds += v * (unit == 'W' ? 7 * 86400.0 : 86400.0);
        } else if (in_time && (unit == 'H' || unit == 'M' || unit == 'S')) {
            *seconds += v * (unit == 'H' ? 3600.0 : unit == 'M' ? 60.0 : 1.0);
        } else {
            return false;
        }
    }
    return (*months > 0) != (*seconds > 0);
}

bool rc_datetime_parse_cf_units(const char *units, double *unit_seconds, double *epoch)
{
    static const struct {
        const char *name;
        double seconds;
    } table[] = {{"days", 86400},         {"day", 86400},   {"d", 86400},
                 {"hours", 3600},         {"hour", 3600},   {"h", 3600},
                 {"minutes", 60},         {"minute", 60},   {"min", 60},
                 {"seconds", 1},          {"second", 1},    {"s", 1},
                 {"milliseconds", 0.001}, {"weeks", 604800}};
    char unit[16], rest[64];
    if (!units || sscanf(units, " %15s since %63[^\n]", unit, rest) != 2) {
        return false;
    }
    /* A date alone, or with a time after a space or a T. */
    for (char *c = rest; *c; c++) {
        if (*c == ' ' && c[1] >= '0' && c[1] <= '9' && strchr(c + 1, ':')) {
            *c = 'T';
            break;
        }
    }
    char *space = strchr(rest, ' ');
    if (space) {
        *space = '\0'; /* a time zone after the time: only UTC is read */
    }
    double hi;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcasecmp(unit, table[i].name) == 0) {
            *unit_seconds = table[i].seconds;
            return parse_point(rest, epoch, &hi);
        }
    }
    return false;
}

bool rc_datetime_calendar_supported(const char *calendar)
{
    static const char *const gregorian[] = {"standard", "gregorian", "proleptic_gregorian", NULL};
    if (!calendar || !calendar[0]) {
        return true;
    }
    for (size_t i = 0; gregorian[i]; i++) {
        if (strcasecmp(calendar, gregorian[i]) == 0) {
            return true;
        }
    }
    return false;
}

bool rc_datetime_format(double seconds, const char *format, char *out, size_t size)
{
    if (!isfinite(seconds) || !format[0]) {
        return false;
    }
    double whole = floor(seconds);
    if (whole < -62135596800.0 || whole > 253402300799.0) { /* years 1..9999 */
        return false;
    }
    time_t t = (time_t)whole;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        return false;
    }
    /* The format is the job's (checked when parsed) or one of the defaults. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = strftime(out, size, format, &tm);
#pragma GCC diagnostic pop
    return n > 0;
}

const char *rc_datetime_default_format(const double *times, size_t count)
{
    bool yearly = count > 1, monthly = count > 1, daily = true;
    for (size_t i = 0; i < count; i++) {
        double step = i ? times[i] - times[i - 1] : 0;
        if (i) {
            yearly = yearly && step >= 365 * 86400.0 && step <= 366 * 86400.0;
            monthly = monthly && step >= 28 * 86400.0 && step <= 31 * 86400.0;
        }
        daily = daily && fmod(times[i], 86400.0) == 0;
    }
    return yearly ? "%Y" : monthly ? "%Y-%m" : daily ? "%Y-%m-%d" : "%Y-%m-%d %H:%M";
}
