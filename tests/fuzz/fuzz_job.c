/* Fuzz target: the JSON job parser must reject or accept any bytes without
 * crashing, leaking or reading out of bounds. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_config.h"
#include "job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct rc_config *cfg = fuzz_config();
    if (!cfg) {
        __builtin_trap();
    }
    struct rc_job_spec spec;
    struct rc_error err;
    if (rc_job_spec_parse(&spec, cfg, (const char *)data, size, &err) == RC_OK) {
        rc_job_spec_resolve_length(&spec, cfg, 3, &err);
        rc_job_spec_finish(&spec);
    }
    return 0;
}
