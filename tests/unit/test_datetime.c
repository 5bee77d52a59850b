/* base/datetime.c: ISO 8601 dates, intervals and durations, CF time units and
 * labels, against instants worked out by hand (and `date -u -d ... +%s`). */
#include <math.h>
#include <string.h>

#include "base/datetime.h"
#include "check.h"

static void intervals(void)
{
    double t[2];
    CHECK(rc_datetime_parse_interval("2001-03", t));
    CHECK(t[0] == 983404800.0 && t[1] == 986083200.0); /* 2001-03-01 .. 2001-04-01 */
    CHECK(rc_datetime_parse_interval("2001", t));
    CHECK(t[0] == 978307200.0 && t[1] == 1009843200.0);
    CHECK(rc_datetime_parse_interval("2000-02-29", t));
    CHECK(t[0] == 951782400.0 && t[1] == t[0] + 86400);
    CHECK(rc_datetime_parse_interval("2001-03-15T06:30:00Z", t));
    CHECK(t[0] == 984637800.0 && t[1] == t[0] + 1);
    CHECK(rc_datetime_parse_interval("2001-01/2002-12", t));
    CHECK(t[0] == 978307200.0 && t[1] == 1041379200.0); /* to the end of 2002-12 */
    CHECK(rc_datetime_parse_interval("../2003", t));
    CHECK(isinf(t[0]) && t[0] < 0 && t[1] == 1072915200.0);
    CHECK(rc_datetime_parse_interval("2003/..", t));
    CHECK(t[0] == 1041379200.0 && isinf(t[1]));
    CHECK(rc_datetime_parse_interval("1969-12-31", t) && t[0] == -86400.0);
    static const char *const bad[] = {
        "",         "../..",     "2001-13",          "2001-00",    "2001-02-32", "01-03",
        "2001-03x", "2002/2001", "2001-03-15T25:00", "march 2001", "2001--03"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(!rc_datetime_parse_interval(bad[i], t));
    }
}

static void durations(void)
{
    int months;
    double seconds;
    CHECK(rc_datetime_parse_duration("P1M", &months, &seconds) && months == 1 && seconds == 0);
    CHECK(rc_datetime_parse_duration("P2Y", &months, &seconds) && months == 24);
    CHECK(rc_datetime_parse_duration("P1Y6M", &months, &seconds) && months == 18);
    CHECK(rc_datetime_parse_duration("P7D", &months, &seconds) && seconds == 7 * 86400.0);
    CHECK(rc_datetime_parse_duration("P1W", &months, &seconds) && seconds == 7 * 86400.0);
    CHECK(rc_datetime_parse_duration("PT6H", &months, &seconds) && seconds == 21600.0);
    CHECK(rc_datetime_parse_duration("P1DT12H", &months, &seconds) && seconds == 129600.0);
    static const char *const bad[] = {"P",    "1M",    "P0M",  "PT",    "P1H",
                                      "PT1D", "P1M1D", "P-1M", "P1.5M", "monthly"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(!rc_datetime_parse_duration(bad[i], &months, &seconds));
    }
}

static void cf_units(void)
{
    double unit, epoch;
    CHECK(rc_datetime_parse_cf_units("days since 2001-01-01", &unit, &epoch));
    CHECK(unit == 86400 && epoch == 978307200.0);
    CHECK(rc_datetime_parse_cf_units("hours since 1900-01-01 00:00:00", &unit, &epoch));
    CHECK(unit == 3600 && epoch == -2208988800.0);
    CHECK(rc_datetime_parse_cf_units("seconds since 1970-01-01T00:00:00Z", &unit, &epoch));
    CHECK(unit == 1 && epoch == 0);
    CHECK(rc_datetime_parse_cf_units("minutes since 2000-01-01 06:00", &unit, &epoch));
    CHECK(unit == 60 && epoch == 946706400.0);
    CHECK(!rc_datetime_parse_cf_units("degC", &unit, &epoch));
    CHECK(!rc_datetime_parse_cf_units("months since 2001-01-01", &unit, &epoch));
    CHECK(rc_datetime_calendar_supported(NULL) && rc_datetime_calendar_supported("standard"));
    CHECK(rc_datetime_calendar_supported("proleptic_gregorian"));
    CHECK(!rc_datetime_calendar_supported("noleap") && !rc_datetime_calendar_supported("360_day"));
}

static void labels(void)
{
    char out[48];
    CHECK(rc_datetime_format(984637800.0, "%Y-%m-%d %H:%M", out, sizeof(out)));
    CHECK(strcmp(out, "2001-03-15 06:30") == 0);
    CHECK(rc_datetime_format(984637800.0, "%b %Y", out, sizeof(out)) && !strcmp(out, "Mar 2001"));
    CHECK(!rc_datetime_format(NAN, "%Y", out, sizeof(out)));
    CHECK(!rc_datetime_format(0, "", out, sizeof(out)));
    double monthly[] = {979516800, 982195200, 984614400}; /* the 15ths of 2001-01 .. 03 */
    CHECK(strcmp(rc_datetime_default_format(monthly, 3), "%Y-%m") == 0);
    double yearly[] = {978307200, 1009843200, 1041379200};
    CHECK(strcmp(rc_datetime_default_format(yearly, 3), "%Y") == 0);
    double daily[] = {978307200, 978393600};
    CHECK(strcmp(rc_datetime_default_format(daily, 2), "%Y-%m-%d") == 0);
    double hourly[] = {978307200, 978310800};
    CHECK(strcmp(rc_datetime_default_format(hourly, 2), "%Y-%m-%d %H:%M") == 0);
    CHECK(rc_datetime_month_index(984637800.0) == 2001 * 12 + 2);
}

int main(void)
{
    intervals();
    durations();
    cf_units();
    labels();
    return CHECK_DONE();
}
