/* Fuzz target: query strings. The input is split at '&' and '=' into parameters,
 * turned into a job's JSON and parsed as a job. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_config.h"
#include "http/query.h"
#include "job/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct rc_config *cfg = fuzz_config();
    if (!cfg) {
        __builtin_trap();
    }
    char *text = malloc(size + 1);
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    struct rc_query_param params[32];
    size_t count = 0;
    for (char *p = text; p && count < 32;) {
        char *amp = strchr(p, '&');
        if (amp) {
            *amp = '\0';
        }
        char *eq = strchr(p, '=');
        if (eq) {
            *eq = '\0';
        }
        params[count].key = p;
        params[count].value = eq ? eq + 1 : NULL;
        count++;
        p = amp ? amp + 1 : NULL;
    }
    json_t *job = NULL;
    struct rc_error err;
    char unknown[256];
    if (rc_query_to_job(params, count, &job, unknown, sizeof(unknown), &err) == RC_OK) {
        struct rc_job_spec spec;
        if (rc_job_spec_from_json(&spec, cfg, job, false, false, &err) == RC_OK) {
            rc_job_spec_finish(&spec);
        }
        (void)rc_query_param_for_field(err.field);
    }
    json_decref(job);
    free(text);
    return 0;
}
