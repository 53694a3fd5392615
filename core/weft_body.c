/*
 * weft_body.c -- the request body as a pull API (Go's transfer.go body):
 * Content-Length and chunked bodies decoded by llhttp straight into the
 * caller's buffer, trailers, read-after-close, and the post-handler drain
 * that decides whether the connection can be kept.
 */
#include <string.h>

#include "weft_engine.h"

/*
 * The body is broken: later reads fail too.  Bytes decoded before the
 * error in this same call are still the caller's, as Go's chunkedReader
 * returns n > 0 together with the error (an echo writes what it read).
 */
static apr_status_t body_fail(weft_request_t *r, apr_size_t *n, apr_status_t rv)
{
    weft_conn_t *c = r->conn;

    r->body = BODY_ERROR;
    *n = c->body_got;
    r->body_read += (apr_off_t)c->body_got;
    return rv;
}

/* Reads body bytes into buf (at most n); see weft_req_body_read. */
static apr_status_t body_read(weft_request_t *r, char *buf, apr_size_t *n)
{
    weft_conn_t *c = r->conn;
    apr_size_t room = *n;

    *n = 0;
    if (r->body == BODY_NONE)
        return APR_EOF;
    if (r->body == BODY_ERROR)
        return WEFT_EBADBODY;
    if (room == 0)
        return APR_SUCCESS;
    c->body_dst = buf;
    c->body_room = room;
    c->body_got = 0;
    while (c->body_got == 0 && !c->message_done) {
        apr_size_t avail, used;
        llhttp_errno_t e;

        if (c->rstart == c->rend) {
            apr_status_t rv = weft_conn_fill(c);
            /* Go: io.ErrUnexpectedEOF when the body is cut short. */
            if (rv != APR_SUCCESS)
                return body_fail(r, n,
                                 rv == APR_EOF ? WEFT_EUNEXPECTEDEOF : rv);
        }
        /* Never more input than room: the body is at most the input, so
         * on_body always fits. */
        avail = c->rend - c->rstart;
        if (avail > room)
            avail = room;
        c->exec_base = c->rbuf + c->rstart;
        e = llhttp_execute(&c->parser, c->exec_base, avail);
        if (e == HPE_OK)
            used = avail;
        else if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE)
            used =
                (apr_size_t)(llhttp_get_error_pos(&c->parser) - c->exec_base);
        else {
            weft_log(WEFT_LOG_DEBUG, 0, "%s: bad request body: %s", c->remote,
                     llhttp_get_error_reason(&c->parser));
            return body_fail(r, n, WEFT_EBADBODY);
        }
        c->rstart += used;
        c->stream_pos += (apr_off_t)used;
        /* Fields done and the one being assembled (a single huge value
         * must not grow without bound either). */
        if (r->trailer_bytes + c->field_len + c->value_len >
            (r->server->conf->max_header_bytes
                 ? r->server->conf->max_header_bytes
                 : WEFT_DEFAULT_MAX_HEADER_BYTES))
            return body_fail(r, n, WEFT_EBODYLIMIT);
    }
    *n = c->body_got;
    r->body_read += (apr_off_t)c->body_got;
    if (c->message_done) {
        r->body = BODY_NONE;
        /* Go's registerOnHitEOF(startBackgroundRead): from the body's
         * end the peer is watched while the handler runs. */
        if (c->handling)
            weft_watch_conn(c);
        return APR_EOF;
    }
    return APR_SUCCESS;
}

WEFT_DECLARE(apr_status_t)
weft_req_body_read(weft_request_t *r, void *buf, apr_size_t *n)
{
    if (r->body_closed) {
        *n = 0;
        return WEFT_EBODYCLOSED;
    }
    if (r->body_filter != NULL)
        return r->body_filter(r, r->body_filter_data, buf, n);
    return body_read(r, buf, n);
}

WEFT_DECLARE(apr_status_t)
weft_req_body_read_raw(weft_request_t *r, void *buf, apr_size_t *n)
{
    if (r->body_closed) {
        *n = 0;
        return WEFT_EBODYCLOSED;
    }
    return body_read(r, buf, n);
}

WEFT_DECLARE(void)
weft_req_set_body_filter(weft_request_t *r, weft_body_filter_fn *fn, void *data)
{
    r->body_filter = fn;
    r->body_filter_data = data;
}

WEFT_DECLARE(void) weft_req_body_close(weft_request_t *r)
{
    r->body_closed = 1;
}

/*
 * Go's rule after the handler (chunkWriter.writeHeader): read and discard
 * at most max more body bytes so the next request can be read.  *too_big
 * is set when more remain (the connection must close after the response);
 * a non-success status means the body is broken or the read failed.
 */
apr_status_t weft_body_drain(weft_request_t *r, apr_size_t max, int *too_big)
{
    char scratch[8192];
    apr_size_t total = 0;

    *too_big = 0;
    if (r->body == BODY_NONE)
        return APR_SUCCESS;
    if (r->body == BODY_ERROR)
        return WEFT_EBADBODY;
    /* A declared length already over the limit is not read at all. */
    if (r->content_length >= 0 &&
        r->content_length - r->body_read >= (apr_off_t)max) {
        *too_big = 1;
        return APR_SUCCESS;
    }
    while (total <= max) {
        apr_size_t n = sizeof(scratch);
        apr_status_t rv = body_read(r, scratch, &n);
        total += n;
        if (rv == APR_EOF)
            return APR_SUCCESS;
        if (rv != APR_SUCCESS)
            return rv;
    }
    *too_big = 1;
    return APR_SUCCESS;
}

WEFT_DECLARE(apr_table_t *) weft_req_trailers(const weft_request_t *r)
{
    return r->trailers;
}
