/*
 * parse: strict number parsing for values that arrive from outside (headers,
 * upstream responses): the whole string must be the number, no sign, no spaces,
 * no overflow. Pure functions; any thread.
 */
#ifndef RC_PARSE_H
#define RC_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal digits only (at least one), value <= UINT64_MAX. */
bool rc_parse_u64(const char *text, uint64_t *out);

/* A printf format for exactly one double: literal text, %% escapes and one
 * %[-+ #0]*[width][.precision](f|F|e|E|g|G), widths and precisions of two digits at
 * most. Only such a format is ever handed to snprintf with a value. */
bool rc_parse_format_one_double(const char *format);

#endif
