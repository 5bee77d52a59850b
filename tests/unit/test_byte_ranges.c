/* Range and If-None-Match as RFC 9110 reads them (examples from its section 14). */
#include <string.h>

#include "check.h"
#include "http/ranges.h"

static enum rc_range_answer parse(const char *header, uint64_t size, struct rc_range *r,
                                  size_t *count)
{
    return rc_http_parse_ranges(header, size, r, count);
}

int main(void)
{
    struct rc_range r[RC_HTTP_MAX_RANGES];
    size_t n = 0;
    /* RFC 9110 14.1.2: the first 500 bytes, the second 500, the final 500, of 10000. */
    CHECK(parse("bytes=0-499", 10000, r, &n) == RC_RANGES_OK && n == 1 && r[0].first == 0 &&
          r[0].last == 499);
    CHECK(parse("bytes=500-999", 10000, r, &n) == RC_RANGES_OK && r[0].first == 500 &&
          r[0].last == 999);
    CHECK(parse("bytes=-500", 10000, r, &n) == RC_RANGES_OK && r[0].first == 9500 &&
          r[0].last == 9999);
    CHECK(parse("bytes=9500-", 10000, r, &n) == RC_RANGES_OK && r[0].first == 9500 &&
          r[0].last == 9999);
    CHECK(parse("bytes=0-0,-1", 10000, r, &n) == RC_RANGES_OK && n == 2 && r[1].first == 9999);
    CHECK(parse("bytes= 0-999, 4500-5499, -1000", 10000, r, &n) == RC_RANGES_OK && n == 3);
    /* A last position past the end is the end; a suffix longer than the file, all of it. */
    CHECK(parse("bytes=0-99999", 10000, r, &n) == RC_RANGES_OK && r[0].last == 9999);
    CHECK(parse("bytes=-20000", 10000, r, &n) == RC_RANGES_OK && r[0].first == 0);
    /* Unsatisfiable: every range starts at or past the end, or a zero suffix. */
    CHECK(parse("bytes=10000-", 10000, r, &n) == RC_RANGES_UNSATISFIABLE && n == 0);
    CHECK(parse("bytes=-0", 10000, r, &n) == RC_RANGES_UNSATISFIABLE);
    CHECK(parse("bytes=0-", 0, r, &n) == RC_RANGES_UNSATISFIABLE);
    /* One satisfiable range among unsatisfiable ones is served. */
    CHECK(parse("bytes=20000-,0-1", 10000, r, &n) == RC_RANGES_OK && n == 1 && r[0].last == 1);
    /* Invalid: the whole field is ignored (the full file). */
    static const char *const ignored[] = {
        "",           "bytes=",     "bytes=5-1", "bytes=a-b",      "items=0-1",
        "bytes=0-1;", "bytes=1--2", "bytes=-",   "bytes=0-1,,2-3", "bytes=18446744073709551616-"};
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
        CHECK(parse(ignored[i], 10000, r, &n) == RC_RANGES_IGNORE);
    }
    /* Too many ranges, or overlapping ones adding up past the file: the whole file. */
    char many[256] = "bytes=";
    for (int i = 0; i < RC_HTTP_MAX_RANGES + 1; i++) {
        strcat(many, i ? ",0-0" : "0-0");
    }
    CHECK(parse(many, 10000, r, &n) == RC_RANGES_IGNORE);
    CHECK(parse("bytes=0-9999,0-9999", 10000, r, &n) == RC_RANGES_IGNORE);

    const char *tag = "\"abc\"";
    CHECK(rc_http_etag_listed("\"abc\"", tag));
    CHECK(rc_http_etag_listed("W/\"abc\"", tag));
    CHECK(rc_http_etag_listed("\"x\", \"abc\"", tag));
    CHECK(rc_http_etag_listed("*", tag));
    CHECK(!rc_http_etag_listed("\"abcd\"", tag));
    CHECK(!rc_http_etag_listed("\"ab\"", tag));
    CHECK(!rc_http_etag_listed("", tag));
    return CHECK_DONE();
}
