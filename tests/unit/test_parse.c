/* Strict parsing of outside values: byte counts, and the tick-label format that
 * reaches snprintf. */
#include <stdint.h>

#include "base/parse.h"
#include "check.h"

int main(void)
{
    uint64_t v = 0;
    CHECK(rc_parse_u64("0", &v) && v == 0);
    CHECK(rc_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
    CHECK(!rc_parse_u64("18446744073709551616", &v)); /* one past */
    CHECK(!rc_parse_u64("", &v) && !rc_parse_u64("-1", &v) && !rc_parse_u64(" 1", &v));
    CHECK(!rc_parse_u64("1x", &v) && !rc_parse_u64("+1", &v) && !rc_parse_u64(NULL, &v));

    static const char *const good[] = {"%.1f", "%g m", "%+08.3e", "%.0f%%", "T = %5.2F K", "%G"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        CHECK(rc_parse_format_one_double(good[i]));
    }
    static const char *const bad[] = {"",     "no conversion", "%s",     "%d",  "%n",
                                      "%f%f", "%123f",         "%.100f", "%*f", "%lf",
                                      "%",    "%.f%",          "%1$f"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(!rc_parse_format_one_double(bad[i]));
    }
    return CHECK_DONE();
}
