/*
 * datetime: instants as seconds since 1970-01-01 UTC on the proleptic Gregorian
 * calendar — ISO 8601 dates and intervals as STAC writes them ("2001-03",
 * "2001-01/2002-12", "../2003"), ISO 8601 durations ("P1M", "PT6H"), CF time
 * units ("days since 2001-01-01"), and strftime labels.
 *
 * Any thread; pure functions.
 */
#ifndef RC_DATETIME_H
#define RC_DATETIME_H

#include <stdbool.h>
#include <stddef.h>

/* Seconds since 1970 of a civil date and time (month 1..12, day 1..31). */
double rc_datetime_from_civil(long year, unsigned month, unsigned day, double seconds_of_day);

/* The calendar month an instant falls in, counted from year 0 (year * 12 + month - 1). */
long rc_datetime_month_index(double seconds);

/* The interval [lo, hi) a date or instant covers: "2001" a year, "2001-03" a month,
 * "2001-03-15" a day, "2001-03-15T06:00[:00][Z]" from that instant to the end of its
 * last given unit; "a/b" from a's start to b's end, ".." or "" an open end. */
bool rc_datetime_parse_interval(const char *text, double out[2]);

/* An ISO 8601 duration: whole years and months go to *months, days, weeks, hours,
 * minutes and seconds to *seconds. False for a malformed or zero duration, or one
 * mixing months with shorter units. */
bool rc_datetime_parse_duration(const char *text, int *months, double *seconds);

/* CF time units, "<unit> since <date>[ <time>]": the seconds one unit is and the
 * epoch's seconds since 1970. */
bool rc_datetime_parse_cf_units(const char *units, double *unit_seconds, double *epoch);

/* Whether a CF calendar attribute (NULL or "": the default) counts days as the
 * proleptic Gregorian calendar does over the dates the data spans. */
bool rc_datetime_calendar_supported(const char *calendar);

/* `format` (strftime's) of the instant, UTC. False when it is empty or too long. */
bool rc_datetime_format(double seconds, const char *format, char *out, size_t size);

/* The label format that fits instants `step` seconds apart: "%Y" yearly, "%Y-%m"
 * monthly, "%Y-%m-%d" daily, else "%Y-%m-%d %H:%M". */
const char *rc_datetime_default_format(const double *times, size_t count);

#endif
