/* Bearer tokens and CORS origins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "http/access.h"

static void test_tokens(void)
{
    char path[] = "/tmp/rasterclip-tokens-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# comment\n\nalpha\nbeta-token\n", f);
    fclose(f);

    struct rc_access *a = NULL;
    struct rc_error err;
    CHECK(rc_access_create("", &a, &err) == RC_OK);
    CHECK(rc_access_allows(a, NULL)); /* no token file: open */
    CHECK(rc_access_reload(a, path, &err) == RC_OK);
    CHECK(!rc_access_allows(a, NULL));
    CHECK(rc_access_allows(a, "Bearer alpha"));
    CHECK(rc_access_allows(a, "bearer beta-token"));
    CHECK(!rc_access_allows(a, "Bearer alph"));
    CHECK(!rc_access_allows(a, "Bearer alphaa"));
    CHECK(!rc_access_allows(a, "Bearer "));
    CHECK(!rc_access_allows(a, "Bearer # comment"));
    CHECK(!rc_access_allows(a, "Basic YWxwaGE="));
    CHECK(!rc_access_allows(a, "alpha"));
    /* A failed reload keeps the tokens in force. */
    CHECK(rc_access_reload(a, "/nonexistent/tokens", &err) == RC_ERR_INVALID);
    CHECK(strcmp(err.field, "token_file") == 0);
    CHECK(rc_access_allows(a, "Bearer alpha"));
    rc_access_destroy(a);

    f = fopen(path, "w");
    fputs("# only comments\n", f);
    fclose(f);
    CHECK(rc_access_create(path, &a, &err) == RC_ERR_INVALID);
    unlink(path);
}

static void test_cors(void)
{
    const char *list = "https://a.example, https://b.example";
    CHECK(strcmp(rc_access_cors_origin(list, "https://b.example"), "https://b.example") == 0);
    CHECK(rc_access_cors_origin(list, "https://c.example") == NULL);
    CHECK(rc_access_cors_origin(list, "https://a.exampl") == NULL);
    CHECK(rc_access_cors_origin(list, NULL) == NULL);
    CHECK(rc_access_cors_origin("", "https://a.example") == NULL);
    CHECK(strcmp(rc_access_cors_origin("*", "https://x.example"), "*") == 0);
}

int main(void)
{
    test_tokens();
    test_cors();
    return CHECK_DONE();
}
