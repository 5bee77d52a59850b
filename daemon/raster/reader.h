/*
 * reader: decodes a raster in a separate process, so that no byte of a raster
 * file is parsed inside the daemon.
 *
 * For each decode the daemon starts a reader (this binary again, as
 * `rasterclipd --reader`, with a scrubbed environment and only its socket open),
 * which confines itself (raster/sandbox.h) before it opens the raster: the data
 * root read-only when the job names a file there, the upload as a memory file,
 * a remote file as bytes the daemon fetches under the URL policy and sends over
 * the socket on request. The decoded values come back in a sealed memory file,
 * mapped read-only (no copy). The job's cancel flag and deadline are watched
 * every few milliseconds while the reader works: either kills it at once. A reader
 * that crashes, is killed by its limits, or breaks the protocol costs its job a
 * 422 and nothing else; it is always killed and reaped before the call returns.
 *
 * Starting a reader (exec, loading GDAL and its libraries, its network
 * namespace) takes ~100 ms, so a few are kept started ahead (struct rc_readers):
 * each waits, unconfined but with nothing to read and no request yet, until a
 * decode takes it, and a replacement is started at once. A reader serves one
 * decode and is then killed: nothing of one job's file survives into another's.
 *
 * The calling thread owns the reader for the length of the call (a render worker).
 */
#ifndef RC_READER_H
#define RC_READER_H

#include <stdatomic.h>
#include <stdint.h>

#include "base/config.h"
#include "base/error.h"
#include "raster/decode.h"
#include "raster/sandbox.h"
#include "raster/vectors.h"

struct rc_fetch;
struct rc_raster;

/* Readers started ahead. Any thread; destroy after the last decode. */
struct rc_readers;

struct rc_readers *rc_readers_create(size_t spares);
void rc_readers_destroy(struct rc_readers *readers);

struct rc_reader_call {
    struct rc_decode_request decode;      /* its path: a resolved file under the data root */
    struct rc_readers *readers;           /* spares to take from (NULL: start one) */
    struct rc_fetch *remote;              /* instead of a file or an upload (borrowed) */
    const atomic_bool *cancel;            /* may be NULL */
    double deadline_ms;                   /* rc_clock_ms(); 0: none */
    const struct rc_vector_grid *vectors; /* rc_reader_vectors(): the grid to carry them onto */
};

/* Decodes in a reader process. On RC_OK the caller gets one reference to the
 * raster (identity left empty) and `*read_pixels` the source pixels decoded. */
enum rc_err rc_reader_decode(const struct rc_config *cfg, const struct rc_reader_call *call,
                             struct rc_raster **out, uint64_t *read_pixels, struct rc_error *err);

/* Reads the vector layer at the call's path or remote file (or, with the
 * grid's graticule_step, draws the graticule) onto call->vectors in a reader
 * process, confined as for a raster. On RC_OK *out is the caller's. */
enum rc_err rc_reader_vectors(const struct rc_config *cfg, const struct rc_reader_call *call,
                              struct rc_vectors **out, struct rc_error *err);

/* Starts a reader that only confines itself, as a reader for a file under the
 * data root is confined, and reports what is in force; with `probe` (may be
 * NULL) it also tries what the sandbox forbids (rc_sandbox_probe()). */
enum rc_err rc_reader_check(const struct rc_config *cfg, struct rc_sandbox_report *report,
                            struct rc_sandbox_probe *probe, struct rc_error *err);

/* The reader's side: `rasterclipd --reader` runs this and exits with its value. */
int rc_reader_main(void);

#endif
