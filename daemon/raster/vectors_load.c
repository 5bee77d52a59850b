/* The daemon's side of raster/vectors.h: where a layer's bytes come from. */
#include <limits.h>

#include "base/clock.h"
#include "base/log.h"
#include "raster/fetch.h"
#include "raster/reader.h"
#include "raster/root.h"
#include "raster/vectors.h"

enum rc_err rc_vectors_load(const struct rc_config *cfg, const struct rc_vector_source *source,
                            const char *field, const struct rc_vector_grid *grid,
                            struct rc_raster_budget *budget, struct rc_vectors **out,
                            struct rc_error *err)
{
    *out = NULL;
    const char *url = source->url && source->url[0] && !source->data ? source->url : NULL;
    char path[PATH_MAX] = "";
    struct rc_fetch *fetch = NULL;
    enum rc_err rc = RC_OK;
    if (url && rc_raster_is_remote(url)) {
        struct rc_fetch_config fc;
        rc_raster_fetch_config(cfg, &fc);
        uint64_t spent = budget ? budget->fetched : 0;
        fc.max_bytes = spent < fc.max_bytes ? fc.max_bytes - spent : 0;
        rc = rc_fetch_open(&fc, url, field, &fetch, err);
    } else if (url) {
        rc = rc_raster_resolve_path(cfg->data_root, url, field, path, sizeof(path), err);
    }
    if (rc != RC_OK) {
        return rc;
    }
    struct rc_reader_call call = {
        .decode = {.path = fetch || source->data ? NULL : path,
                   .data = source->data,
                   .data_len = source->len,
                   .field = field},
        .remote = fetch,
        .readers = budget ? budget->readers : NULL,
        .cancel = budget ? budget->cancel : NULL,
        .deadline_ms = budget ? budget->deadline_ms : 0,
        .vectors = grid,
    };
    double began = rc_clock_ms();
    rc = rc_reader_vectors(cfg, &call, out, err);
    if (fetch) {
        const struct rc_error *failure = rc_fetch_failure(fetch);
        if (rc != RC_OK && rc != RC_ERR_CANCELLED && failure) {
            *err = *failure;
            rc = failure->code;
        }
        if (budget) {
            budget->fetched += rc_fetch_bytes(fetch);
        }
        rc_fetch_close(fetch);
    }
    if (rc == RC_OK) {
        rc_log(RC_LOG_INFO, "msg=\"vectors read\" field=%s parts=%zu points=%zu ms=%.1f", field,
               (*out)->part_count, (*out)->point_count, rc_clock_ms() - began);
    }
    return rc;
}
