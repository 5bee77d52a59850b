#include "http/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "http/query.h"
#include "pipeline/pool.h"

static void stream_park(void *ctx)
{
    struct stream *s = ctx;
    MHD_suspend_connection(s->conn);
}

static void stream_wake(void *ctx)
{
    struct stream *s = ctx;
    MHD_resume_connection(s->conn);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    size_t copied = 0;
    switch (rc_bytequeue_read(s->job->out, buf, max, &copied)) {
    case RC_BQ_DATA:
        atomic_fetch_add(&s->job->progress->bytes_sent, copied);
        if (!s->first_byte_seen) {
            s->first_byte_seen = true;
            s->first_byte_ms = rc_clock_ms();
            rc_histogram_observe(&s->http->ttfb, (s->first_byte_ms - s->start_ms) / 1e3);
        }
        return (ssize_t)copied;
    case RC_BQ_PARKED:
        return 0; /* suspended; the next write resumes the connection */
    case RC_BQ_END:
        rc_histogram_observe(&s->http->send, (rc_clock_ms() - s->first_byte_ms) / 1e3);
        return MHD_CONTENT_READER_END_OF_STREAM;
    case RC_BQ_FAILED:
        break;
    }
    /* No terminating chunk: the client sees an incomplete transfer. */
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    atomic_fetch_sub(&s->http->streams, 1);
    /* Finished or not, the client is gone: stop the job at its next frame. */
    atomic_store(&s->job->cancel, true);
    rc_bytequeue_abort(s->job->out);
    rc_job_unref(s->job);
    free(s);
}

static enum MHD_Result start_stream(struct request *req)
{
    struct stream *s = calloc(1, sizeof(*s));
    if (!s) {
        return MHD_NO;
    }
    s->http = req->http;
    s->conn = req->conn;
    s->job = req->job;
    s->start_ms = req->start_ms;
    rc_job_ref(s->job);
    atomic_fetch_add(&s->http->streams, 1);
    struct rc_bytequeue_waker waker = {.park = stream_park, .wake = stream_wake, .ctx = s};
    rc_bytequeue_set_waker(s->job->out, &waker);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, s, stream_free);
    if (!resp) {
        stream_free(s);
        return MHD_NO;
    }
    rc_http_add_bounds(resp, &s->job->bounds);
    return rc_http_queue_clip(req->http, req->conn, resp, rc_job_content_type(&s->job->spec),
                              s->job->id, s->job->frames, req->ignored, UINT64_MAX);
}

/* A HEAD's body: never read. */
static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_OF_STREAM;
}

/* Called by the worker once the job streams or has failed. */
static void job_ready(struct rc_job *job, void *ctx)
{
    (void)job;
    struct request *req = ctx;
    pthread_mutex_lock(&req->lock);
    req->ready = true;
    if (req->suspended) {
        req->suspended = false;
        MHD_resume_connection(req->conn);
    }
    pthread_mutex_unlock(&req->lock);
}

enum { MAX_QUERY_PARAMS = 64 };

struct query_args {
    struct rc_query_param params[MAX_QUERY_PARAMS];
    size_t count;
    bool overflow;
    const char *skip; /* a parameter the route reads itself; NULL: none */
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct query_args *q = cls;
    if (q->skip && strcmp(key, q->skip) == 0) {
        return MHD_YES;
    }
    if (q->count == MAX_QUERY_PARAMS) {
        q->overflow = true;
        return MHD_NO;
    }
    q->params[q->count].key = key;
    q->params[q->count].value = value;
    q->count++;
    return MHD_YES;
}

/* The GET form: query parameters into the JSON job; errors name the parameter. */
static enum rc_err query_job(struct request *req, json_t **job, struct rc_error *err)
{
    struct query_args q = {.count = 0, .skip = req->answer ? "format" : NULL};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    if (q.overflow) {
        return rc_error_set(err, RC_ERR_TOO_LARGE, "", "more than %d query parameters",
                            MAX_QUERY_PARAMS);
    }
    enum rc_err rc =
        rc_query_to_job(q.params, q.count, job, req->ignored, sizeof(req->ignored), err);
    if (rc == RC_OK && req->ignored[0]) {
        rc_log(RC_LOG_INFO, "msg=\"query parameters ignored\" names=\"%s\"", req->ignored);
    }
    return rc;
}

/* A body the job cannot be read from: its answer, or MHD_YES when it is whole. */
static bool body_refused(struct request *req, enum MHD_Result *answer)
{
    struct rc_http *http = req->http;
    const char *field = "", *message = NULL;
    enum rc_err code = RC_ERR_INVALID;
    if (req->in.too_large) {
        code = RC_ERR_TOO_LARGE;
        message = req->in.too_large_what ? req->in.too_large_what
                                         : "the request body exceeds max_body_bytes";
    } else if (req->in.malformed) {
        field = "body";
        message = "the multipart body is malformed or cut short (parts job, raster and heights, "
                  "each within the boundary)";
    } else if (req->in.unknown_part[0]) {
        field = req->in.unknown_part;
        message = "unknown part: the parts are job, raster, heights and vector0 ... vector7";
    } else if (atomic_load(&http->draining)) {
        code = RC_ERR_DRAINING;
        message = "the server is shutting down";
    }
    if (message) {
        *answer = rc_http_send_error_code(http, req->conn, code, field, message);
    }
    return message != NULL;
}

/* Each vector layer without a source came as the part vector<i>, and each such
 * part belongs to one. */
static enum rc_err check_vector_parts(const struct request *req, const struct rc_job_spec *spec,
                                      struct rc_error *err)
{
    bool multipart = req->in.kind == BODY_MULTIPART;
    for (size_t i = 0; i < RC_JOB_MAX_VECTORS; i++) {
        bool part = multipart && req->in.parts[PART_VECTOR0 + i].len > 0;
        bool wants = i < spec->vector_count && !spec->vectors[i].source;
        if (wants && !part) {
            char field[48];
            snprintf(field, sizeof(field), "style.vectors[%zu].source", i);
            return rc_error_set(err, RC_ERR_INVALID, field,
                                "is required: a vector file under the data root, a URL, or "
                                "the layer itself as the multipart part vector%zu",
                                i);
        }
        if (part && !wants) {
            char field[16];
            snprintf(field, sizeof(field), "vector%zu", i);
            return rc_error_set(err, RC_ERR_INVALID, field,
                                "a layer uploaded as part vector%zu needs style.vectors[%zu] "
                                "without a source",
                                i, i);
        }
    }
    return RC_OK;
}

/* The job, from the query (GET, or a raster body) or the body (JSON, or the
 * multipart's part "job"), with the uploads that came with it. Errors from the
 * query name its parameter. */
static enum rc_err read_job(struct request *req, struct rc_job_spec *spec, struct rc_buf **raster,
                            struct rc_buf **heights, struct rc_error *err)
{
    *raster = *heights = NULL;
    const struct rc_config *cfg = rc_http_config(req->http);
    if (req->in.kind == BODY_MULTIPART) {
        if (!req->in.parts[PART_JOB].len) {
            return rc_error_set(err, RC_ERR_INVALID, "job",
                                "the part \"job\" (the JSON job) is missing");
        }
        *raster = req->in.parts[PART_RASTER].len ? &req->in.parts[PART_RASTER] : NULL;
        *heights = req->in.parts[PART_HEIGHTS].len ? &req->in.parts[PART_HEIGHTS] : NULL;
        return rc_job_spec_parse_uploads(spec, cfg, (const char *)req->in.parts[PART_JOB].data,
                                         req->in.parts[PART_JOB].len, *raster != NULL,
                                         *heights != NULL, err);
    }
    if (req->route == ROUTE_RENDER && req->in.kind == BODY_RASTER) {
        *raster = req->in.data.len ? &req->in.data : NULL;
        if (!*raster) {
            return rc_error_set(err, RC_ERR_INVALID, "raster", "the raster upload is empty");
        }
    }
    if (req->route == ROUTE_RENDER_QUERY || req->in.kind == BODY_RASTER) {
        json_t *object = NULL;
        enum rc_err rc = query_job(req, &object, err); /* its errors name the parameter */
        if (rc != RC_OK) {
            return rc;
        }
        /* A map clip draws no colorbar of its own: its legend is parsed as an image
         * job's would be (which allows one), then made the map's again. */
        json_t *mode = json_object_get(json_object_get(object, "style"), "mode");
        bool map =
            req->answer && json_is_string(mode) && strcmp(json_string_value(mode), "map") == 0;
        if (map) {
            json_object_set_new(json_object_get(object, "style"), "mode", json_string("image"));
        }
        rc = rc_job_spec_from_json(spec, cfg, object, *raster != NULL, false, err);
        json_decref(object);
        if (rc == RC_OK && map) {
            spec->mode = RC_MODE_MAP;
            if (!spec->background_given && spec->format != RC_FORMAT_MP4) {
                memset(spec->background, 0, sizeof(spec->background));
            }
        }
        if (rc != RC_OK && err->field[0]) {
            char param[sizeof(err->field)];
            snprintf(param, sizeof(param), "%s", rc_query_param_for_field(err->field));
            snprintf(err->field, sizeof(err->field), "%s", param);
        }
        return rc;
    }
    return rc_job_spec_parse_uploads(spec, cfg, (const char *)req->in.data.data, req->in.data.len,
                                     false, false, err);
}

/* GET /v1/legend: the clip's job made to answer with its colorbar, in the
 * `format` asked for (png, the default, or svg); GET /v1/vectors: with its
 * vector layers (`format` geojson, the default). */
static enum rc_err beside_job(struct request *req, struct rc_job_spec *spec, struct rc_error *err)
{
    const char *format = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "format");
    if (req->answer == RC_ANSWER_VECTORS) {
        spec->answer = RC_ANSWER_VECTORS;
        if (format && strcmp(format, "geojson") != 0) {
            rc_job_spec_finish(spec);
            return rc_error_set(err, RC_ERR_INVALID, "format", "vectors are \"geojson\"");
        }
        if (!spec->vector_count) {
            rc_job_spec_finish(spec);
            return rc_error_set(err, RC_ERR_INVALID, "vector",
                                "name the layers (vector= or vectors=) as for the clip");
        }
        return RC_OK;
    }
    if (!format || strcmp(format, "png") == 0) {
        spec->answer = RC_ANSWER_LEGEND_PNG;
    } else if (strcmp(format, "svg") == 0) {
        spec->answer = RC_ANSWER_LEGEND_SVG;
    } else {
        rc_job_spec_finish(spec);
        return rc_error_set(err, RC_ERR_INVALID, "format", "a legend is \"png\" or \"svg\"");
    }
    spec->colorbar = true; /* whatever the clip would show: a map's has none of its own */
    return RC_OK;
}

/* A HEAD: what a GET would get, rendering nothing. A clip the clip cache holds
 * answers with its file's headers (length, ETag, ranges, frames); any other
 * would stream, so the answer is a stream's (no length). */
static enum MHD_Result answer_head(struct request *req, const char *type, size_t frames)
{
    if (rc_workers_cached_clip(req->http->workers, req->job)) {
        return rc_http_send_clip_file(req);
    }
    rc_job_unref(req->job);
    req->job = NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, no_body, NULL, NULL);
    return rc_http_queue_clip(req->http, req->conn, resp, type, NULL, frames, req->ignored, 0);
}

/* Resumed: the worker has decided (it wrote the state before job_ready). */
static enum MHD_Result answer_resumed(struct request *req)
{
    pthread_mutex_lock(&req->lock);
    enum rc_job_state state = req->job->state;
    pthread_mutex_unlock(&req->lock);
    if (state == RC_JOB_FAILED && req->job->error.code == RC_ERR_CANCELLED) {
        return MHD_NO; /* cancelled by id before its first byte: the connection ends */
    }
    if (state == RC_JOB_FAILED) {
        return rc_http_send_error(req->http, req->conn, &req->job->error, req->job->id);
    }
    if (state == RC_JOB_FINISHED) {
        return rc_http_send_clip_file(req);
    }
    return start_stream(req);
}

enum MHD_Result rc_http_handle_render(struct request *req)
{
    struct rc_http *http = req->http;
    if (req->job) {
        return answer_resumed(req);
    }
    enum MHD_Result answer;
    if (body_refused(req, &answer)) {
        return answer;
    }
    struct rc_job_spec spec;
    struct rc_error err = {0};
    struct rc_buf *raster = NULL, *heights = NULL;
    if (read_job(req, &spec, &raster, &heights, &err) != RC_OK) {
        return rc_http_send_error(http, req->conn, &err, NULL);
    }
    if (check_vector_parts(req, &spec, &err) != RC_OK) {
        rc_job_spec_finish(&spec);
        return rc_http_send_error(http, req->conn, &err, NULL);
    }
    if (req->answer && beside_job(req, &spec, &err) != RC_OK) {
        return rc_http_send_error(http, req->conn, &err, NULL);
    }
    const char *type = rc_job_content_type(&spec);
    size_t frames = spec.frames; /* 0 when the bands decide it */
    req->job = rc_job_create(&spec, (size_t)rc_http_config(http)->byte_queue_kb * 1024);
    if (!req->job) {
        rc_job_spec_finish(&spec);
        return rc_http_send_error_code(http, req->conn, RC_ERR_NOMEM, "", "out of memory");
    }
    if (req->head) {
        return answer_head(req, type, frames);
    }
    /* The uploads move into the job, which frees them. */
    if (raster) {
        req->job->raster = (struct rc_upload){raster->data, raster->len};
        rc_buf_init(raster);
    }
    if (heights) {
        req->job->heights = (struct rc_upload){heights->data, heights->len};
        rc_buf_init(heights);
    }
    for (size_t i = 0; req->in.kind == BODY_MULTIPART && i < RC_JOB_MAX_VECTORS; i++) {
        struct rc_buf *part = &req->in.parts[PART_VECTOR0 + i];
        req->job->vectors[i] = (struct rc_upload){part->data, part->len};
        rc_buf_init(part);
    }
    req->job->on_ready = job_ready;
    req->job->on_ready_ctx = req;
    rc_jobs_add(
        http->jobs, req->job,
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
    if (rc_workers_cached_clip(http->workers, req->job)) {
        return rc_http_send_clip_file(req); /* from the clip cache, no worker needed */
    }
    /* Suspend before the worker can possibly call job_ready. */
    pthread_mutex_lock(&req->lock);
    req->suspended = true;
    MHD_suspend_connection(req->conn);
    pthread_mutex_unlock(&req->lock);
    bool reserved = req->reserved;
    req->reserved = false; /* the submit uses it, or gives it back */
    if (rc_workers_submit(http->workers, req->job, reserved, &err) != RC_OK) {
        pthread_mutex_lock(&req->lock);
        req->suspended = false;
        MHD_resume_connection(req->conn);
        pthread_mutex_unlock(&req->lock);
        atomic_fetch_add(&http->rejected_busy, 1);
        /* The job never ran: answer on the next call, when the connection runs again. */
        req->job->state = RC_JOB_FAILED;
        req->job->error = err;
    }
    return MHD_YES;
}
