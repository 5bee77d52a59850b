/* Fuzz target: the JSON job parser must reject or accept any bytes without
 * crashing, leaking or reading out of bounds. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_config.h"
#include "job/job.h"
#include "job/timeline.h"

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
        struct rc_timeline timeline;
        if (rc_timeline_init(&timeline, &spec, cfg, 3, &err) == RC_OK && timeline.frames > 0) {
            struct rc_timeline_frame frame;
            rc_timeline_at(&timeline, timeline.frames - 1, &frame);
        }
        rc_job_spec_finish(&spec);
    }
    return 0;
}
