/*
 * weft_serve.c -- Go's (*conn).serve: the life of one connection on its
 * owner thread.  Read a request, run the handler here, finish the
 * response, go idle, repeat; close when keep-alive ends.  The core's own
 * handlers (404, OPTIONS *) live here too.
 */
#include <string.h>

#include "weft_engine.h"

/* Go's closeWriteAndWait waits this long for the client to read our
 * last bytes before the close would reset them away. */
#define RST_AVOIDANCE_DELAY apr_time_from_msec(500)

/* Go's http.Error. */
WEFT_DECLARE(void) weft_rw_error(weft_rw_t *w, int code, const char *text)
{
    apr_table_t *h = weft_rw_headers(w);

    apr_table_unset(h, "Content-Length");
    apr_table_set(h, "Content-Type", "text/plain; charset=utf-8");
    apr_table_set(h, "X-Content-Type-Options", "nosniff");
    weft_rw_write_header(w, code);
    weft_rw_puts(w, text);
    weft_rw_puts(w, "\n");
}

/* Go's NotFound: the root handler when none is configured. */
static void not_found(weft_rw_t *w, weft_request_t *r)
{
    weft_rw_error(w, 404, "404 page not found");
}

/* Go's globalOptionsHandler: OPTIONS * gets 200 with no body; up to 4 KiB
 * of request body is read, more closes the connection. */
static void options_star(weft_rw_t *w, weft_request_t *r)
{
    apr_table_set(weft_rw_headers(w), "Content-Length", "0");
    if (r->content_length != 0) {
        char buf[4096];
        apr_size_t total = 0;
        for (;;) {
            apr_size_t n = sizeof(buf);
            apr_status_t rv = weft_req_body_read(r, buf, &n);
            total += n;
            if (rv == APR_EOF)
                break;
            if (rv != APR_SUCCESS || total > sizeof(buf)) {
                w->close_after = 1;
                break;
            }
        }
    }
    weft_rw_write_header(w, 200);
}

/* ServeMux's answer to "*" for anything but OPTIONS. */
static void bad_asterisk(weft_rw_t *w, weft_request_t *r)
{
    if (weft_req_proto_at_least(r, 1, 1))
        apr_table_set(weft_rw_headers(w), "Connection", "close");
    weft_rw_write_header(w, 400);
}

/* Go's sendExpectationFailed. */
static void expectation_failed(weft_rw_t *w, weft_request_t *r)
{
    apr_table_set(weft_rw_headers(w), "Connection", "close");
    weft_rw_write_header(w, 417);
}

static weft_handler_fn *pick_handler(weft_conn_t *c, weft_request_t *r)
{
    weft_handler_fn *h;

    if (r->line.asterisk)
        return strcmp(r->line.method, "OPTIONS") == 0 ? options_star
                                                      : bad_asterisk;
    h = weft_server_handler(c->server);
    return h != NULL ? h : not_found;
}

/*
 * Go's closeWriteAndWait: our FIN first, then read and discard until the
 * client closes too (or half a second passes), so that closing a socket
 * with unread input does not reset our last response away.
 */
static void close_write_and_wait(weft_conn_t *c)
{
    char sink[4096];

    c->transport->ops->close_write(c->transport);
    c->read_deadline = apr_time_now() + RST_AVOIDANCE_DELAY;
    for (;;) {
        apr_size_t n = sizeof(sink);
        if (c->transport->ops->read(c->transport, sink, &n, c->read_deadline) !=
            APR_SUCCESS)
            break;
    }
}

/* The keep-alive wait for the next request's first bytes, under
 * IdleTimeout (else ReadTimeout), as Go's Peek(4). */
static int wait_next(weft_conn_t *c)
{
    const weft_core_config_t *cf = c->server->conf;
    apr_interval_time_t d =
        cf->idle_timeout ? cf->idle_timeout : cf->read_timeout;
    apr_status_t rv = APR_SUCCESS;

    c->read_deadline = weft_deadline_after(d);
    if (c->rstart == c->rend) {
        /* A client that waits for each response has not sent its next
         * request yet: wait first rather than read into EAGAIN and then
         * wait, in one syscall where the transport can.  A pipelining
         * client's next request is usually buffered already. */
        const weft_transport_ops_t *ops = c->transport->ops;
        if (ops->read_idle != NULL) {
            apr_size_t n = WEFT_READ_BUFFER;
            c->rstart = c->rend = 0;
            rv = ops->read_idle(c->transport, c->rbuf, &n, c->read_deadline);
            if (rv == APR_SUCCESS)
                c->rend = n;
        } else {
            rv = ops->wait_readable(c->transport, c->read_deadline);
        }
    }
    /* Go's Peek(4): the idle deadline lasts until four bytes are in, so a
     * client cannot park a connection by sending one and stalling. */
    while (rv == APR_SUCCESS && c->rend - c->rstart < 4)
        rv = weft_conn_fill(c);
    c->read_deadline = 0;
    return rv == APR_SUCCESS;
}

/* Counts an answered request and runs the access-log hook on it. */
static void log_request(weft_server_t *s, weft_request_t *r)
{
    atomic_fetch_add(&s->requests, 1);
    atomic_fetch_add(&s->bytes_sent, (apr_uint64_t)r->rw.body_sent);
    weft_run_log_transaction(r);
}

static int keep_alives(weft_server_t *s)
{
    return s->conf->keep_alive && !atomic_load(&s->shutting_down);
}

void weft_conn_serve(weft_conn_t *c)
{
    weft_server_t *s = c->server;
    int rv;

    rv = weft_run_pre_connection(c);
    if (rv != WEFT_OK && rv != WEFT_DECLINED)
        goto closed;
    if (weft_run_process_connection(c) != WEFT_DECLINED)
        return; /* claimed (weft_conn_claim): the module owns it now */

    c->serve_ctx = weft_ctx_with_cancel(c->ctx, c->pool);
    apr_pool_create(&c->req_pool, c->pool);
    for (;;) {
        weft_request_t *r = NULL;
        weft_read_result_t res = weft_read_request(c, &r);
        weft_rw_t *w;

        if (c->saw_bytes && weft_conn_state(c, NULL) != WEFT_STATE_ACTIVE)
            weft_conn_set_state(c, WEFT_STATE_ACTIVE);
        if (res == READ_REFUSED) {
            weft_log(WEFT_LOG_DEBUG, 0, "%s: request refused with %d",
                     c->remote, c->err_code);
            weft_send_error(c, r, c->err_code, c->err_reason, c->err_body);
            log_request(s, r);
            if (c->err_code == 431)
                close_write_and_wait(c);
            break;
        }
        if (res != READ_OK)
            break;

        w = &r->rw;
        if (r->expect != NULL && r->expect[0] != '\0' &&
            weft_run_expect(r, r->expect) == WEFT_DECLINED) {
            expectation_failed(w, r);
        } else {
            /* Go's startBackgroundRead: with the request read, a peer
             * that leaves cancels the context (else at the body's EOF). */
            if (r->body == BODY_NONE)
                weft_watch_conn(c);
            c->handling = 1;
            pick_handler(c, r)(w, r);
            c->handling = 0;
            if (!c->hijacked)
                weft_unwatch_conn(c);
        }
        weft_request_ctx_end(r);
        if (c->hijacked) {
            /* The hijacker owns the connection, and may have closed it;
             * this loop's hold keeps r and c valid until let_go. */
            log_request(s, r);
            weft_hijack_let_go(c);
            return;
        }
        if (w->aborted) {
            log_request(s, r); /* as Apache logs an aborted request */
            break; /* Go's ErrAbortHandler: close, send nothing more */
        }
        weft_rw_finish(w);
        c->write_deadline = 0;
        log_request(s, r);
        if (!weft_rw_should_reuse(w)) {
            /* Closing with request bytes unread would reset the
             * connection and could cost the client our response: FIN
             * first, then discard briefly (Go's closeWriteAndWait; for
             * 100-continue, what Go's body close achieves). */
            if (w->body_limit_hit ||
                (r->body != BODY_NONE && (r->body_closed || w->continue_armed)))
                close_write_and_wait(c);
            break;
        }
        weft_conn_set_state(c, WEFT_STATE_IDLE);
        apr_pool_clear(c->req_pool);
        if (!keep_alives(s))
            break;
        if (!wait_next(c))
            break;
    }
closed:
    if (c->serve_ctx != NULL)
        weft_ctx_cancel(c->serve_ctx, WEFT_CTX_CANCELED);
    weft_conn_set_state(c, WEFT_STATE_CLOSED);
    weft_conn_release(c);
}
