/*
 * weft_request.c -- reading one request off a connection, as Go's
 * (*conn).readRequest does: header and whole-request deadlines, the
 * request line (weft_reqline), header fields through llhttp in strict
 * mode, MaxHeaderBytes, and Go's checks on Host, Transfer-Encoding and
 * friends, each refusal mapped to Go's status and bytes.
 */
#include <apr_strings.h>
#include <string.h>

#include "weft_engine.h"

static llhttp_settings_t settings;
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;

/* ---- llhttp callbacks (owner thread, inside llhttp_execute) ---------- */

/* Appends a span to a growable buffer in the request pool. */
static void grow_append(apr_pool_t *p, char **buf, apr_size_t *len,
                        apr_size_t *cap, const char *at, apr_size_t n)
{
    if (*len + n + 1 > *cap) {
        apr_size_t ncap = *cap ? *cap * 2 : 64;
        char *nb;
        while (ncap < *len + n + 1)
            ncap *= 2;
        nb = apr_palloc(p, ncap);
        if (*len > 0)
            memcpy(nb, *buf, *len);
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, at, n);
    *len += n;
    (*buf)[*len] = '\0';
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    weft_conn_t *c = p->data;

    grow_append(c->req_pool, &c->field, &c->field_len, &c->field_cap, at, n);
    return 0;
}

static int is_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/*
 * A value arrives in spans.  Spans that follow each other in the stream
 * are one value split across reads; a gap means llhttp skipped a CRLF:
 * an obs-fold continuation line, which Go joins to the value with one
 * space (textproto.readContinuedLineSlice).
 */
static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    weft_conn_t *c = p->data;
    apr_off_t start = c->stream_pos + (at - c->exec_base);

    if (c->value_cap > 0 && start != c->value_end) {
        while (c->value_len > 0 && is_ows(c->value[c->value_len - 1]))
            c->value_len--;
        while (n > 0 && is_ows(*at)) {
            at++;
            n--;
            start++;
        }
        /* Only the continuation's indent so far (a read ended inside
         * it): leave value_end alone, so the span with the text is seen
         * as the fold too, rather than as the value's next bytes. */
        if (n == 0)
            return 0;
        if (c->value_len > 0)
            grow_append(c->req_pool, &c->value, &c->value_len, &c->value_cap,
                        " ", 1);
    }
    grow_append(c->req_pool, &c->value, &c->value_len, &c->value_cap, at, n);
    c->value_end = start + (apr_off_t)n;
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    weft_conn_t *c = p->data;
    weft_request_t *r = c->parsing;
    const char *name = c->field ? c->field : "";
    const char *value = c->value ? c->value : "";
    apr_size_t nlen = c->field_len, vlen = c->value_len;

    /* llhttp hands trailing whitespace over as part of the value; Go's
     * textproto trims it from every line (readContinuedLineSlice). */
    while (vlen > 0 && is_ows(value[vlen - 1]))
        vlen--;
    if (c->value != NULL)
        c->value[vlen] = '\0';
    /* Defence in depth: llhttp checks these too, but our table is the
     * one handlers read. */
    if (!weft_token_valid(name, nlen) || !weft_field_value_valid(value, vlen))
        return HPE_USER;
    if (value != c->value)
        value = "";
    if (c->in_trailers) {
        r->trailer_bytes += nlen + vlen + 4;
        apr_table_addn(r->trailers, name, value);
    } else if (strcasecmp(name, "Host") == 0) {
        if (r->host_count++ == 0)
            r->host = value;
    } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
        /* Go moves it out of Header into Request.TransferEncoding. */
        r->te_count++;
        r->te_value = value;
    } else {
        apr_table_addn(r->headers, name, value);
        if (strcasecmp(name, "Connection") == 0) {
            if (weft_has_token(value, "close"))
                r->wants_close = 1;
            if (weft_has_token(value, "keep-alive"))
                r->wants10_keepalive = 1;
        } else if (strcasecmp(name, "Expect") == 0 && r->expect == NULL) {
            r->expect = value;
        }
    }
    c->field = c->value = NULL;
    c->field_len = c->value_len = c->field_cap = c->value_cap = 0;
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    weft_conn_t *c = p->data;

    c->headers_done = 1;
    c->in_trailers = 1;
    return HPE_PAUSED; /* the body waits for the handler */
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    weft_conn_t *c = p->data;

    /* The caller feeds llhttp no more input than there is room, so a
     * span always fits (framing only makes the body smaller). */
    memcpy(c->body_dst + c->body_got, at, n);
    c->body_got += n;
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    weft_conn_t *c = p->data;

    c->message_done = 1;
    return HPE_PAUSED; /* what follows is the next request */
}

static int on_chunk_header(llhttp_t *p)
{
    ((weft_conn_t *)p->data)->chunk_ext = 0;
    return 0;
}

/* llhttp puts no bound on chunk extensions; weft does (Go caps a chunk
 * line at 4096 bytes). */
static int on_chunk_ext(llhttp_t *p, const char *at, size_t n)
{
    weft_conn_t *c = p->data;

    c->chunk_ext += n;
    return c->chunk_ext > WEFT_MAX_CHUNK_EXT ? HPE_USER : 0;
}

/*
 * llhttp knows only its own methods, so it gets a stand-in request line
 * with the version we parsed (weft_reqline.h says why): an HTTP/1.0 one
 * and an HTTP/1.1 one.  Each is parsed once, here, and every request
 * starts from a copy of the parser as the line left it (no callback runs
 * for a request line, so the copy is exactly a fresh parse).  Immutable
 * after settings_init.
 */
static llhttp_t after_line[2];

static void settings_init(void)
{
    static const char *const synth[2] = { "PUT / HTTP/1.0\r\n",
                                          "PUT / HTTP/1.1\r\n" };
    int i;

    llhttp_settings_init(&settings);
    settings.on_header_field = on_header_field;
    settings.on_header_value = on_header_value;
    settings.on_header_value_complete = on_header_value_complete;
    settings.on_headers_complete = on_headers_complete;
    settings.on_body = on_body;
    settings.on_message_complete = on_message_complete;
    settings.on_chunk_header = on_chunk_header;
    settings.on_chunk_extension_name = on_chunk_ext;
    settings.on_chunk_extension_value = on_chunk_ext;
    /* Cannot fail: two fixed lines llhttp accepts (and the fields of a
     * parser that had failed would all be refused, never let through). */
    for (i = 0; i < 2; i++) {
        llhttp_init(&after_line[i], HTTP_REQUEST, &settings);
        (void)llhttp_execute(&after_line[i], synth[i], strlen(synth[i]));
    }
}

/* ---- reading ------------------------------------------------------------ */

/*
 * Reads more bytes into the read buffer under the read deadline, making
 * room first.  APR_SUCCESS with at least one new byte, or the transport's
 * status (APR_EOF, APR_TIMEUP...).
 */
apr_status_t weft_conn_fill(weft_conn_t *c)
{
    apr_size_t n;
    apr_status_t rv;

    if (c->rstart == c->rend) {
        c->rstart = c->rend = 0;
    } else if (c->rend == WEFT_READ_BUFFER) {
        memmove(c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
        c->rend -= c->rstart;
        c->rstart = 0;
    }
    n = WEFT_READ_BUFFER - c->rend;
    if (n == 0)
        return APR_ENOSPC;
    rv = c->transport->ops->read(c->transport, c->rbuf + c->rend, &n,
                                 c->read_deadline);
    if (rv != APR_SUCCESS)
        return rv;
    c->rend += n;
    c->saw_bytes = 1;
    return APR_SUCCESS;
}

static weft_read_result_t refuse(weft_conn_t *c, int code, const char *reason)
{
    c->err_code = code;
    c->err_reason = reason;
    c->err_body = NULL;
    return READ_REFUSED;
}

/*
 * The request line, into a pool string.  Leading empty lines are skipped
 * (RFC 9112 §2.2; the contract allows it where Go says 400).  The line
 * must end in CRLF, as llhttp in strict mode requires of header lines.
 */
static weft_read_result_t read_line(weft_conn_t *c, apr_size_t limit,
                                    apr_size_t *used, char **line,
                                    apr_size_t *len)
{
    char *acc = NULL;
    apr_size_t acc_len = 0, acc_cap = 0;

    for (;;) {
        char *start = c->rbuf + c->rstart, *end = c->rbuf + c->rend, *lf;

        while (acc_len == 0 && start < end &&
               (*start == '\r' || *start == '\n')) {
            start++;
            c->rstart++;
            (*used)++;
        }
        lf = memchr(start, '\n', (size_t)(end - start));
        if (lf != NULL) {
            apr_size_t n = (apr_size_t)(lf - start);
            *used += n + 1;
            if (*used > limit)
                return refuse(c, 431, NULL);
            grow_append(c->req_pool, &acc, &acc_len, &acc_cap, start, n);
            c->rstart += n + 1;
            if (acc_len == 0 || acc[acc_len - 1] != '\r')
                return refuse(c, 400, NULL);
            acc[--acc_len] = '\0';
            *line = acc;
            *len = acc_len;
            return READ_OK;
        }
        if (*used + acc_len + (apr_size_t)(end - start) > limit)
            return refuse(c, 431, NULL);
        /* No LF yet: keep what we have and read on. */
        grow_append(c->req_pool, &acc, &acc_len, &acc_cap, start,
                    (apr_size_t)(end - start));
        c->rstart = c->rend;
        {
            apr_status_t rv = weft_conn_fill(c);
            if (rv != APR_SUCCESS) {
                /* Go: a cut-off line parses as malformed (400); nothing
                 * at all, a timeout, or a reset is a silent close. */
                if (rv == APR_EOF && acc_len > 0)
                    return refuse(c, 400, NULL);
                return READ_CLOSED;
            }
        }
    }
}

/* Feeds llhttp a slice of the read buffer; returns its status and how
 * many bytes it consumed. */
static llhttp_errno_t feed(weft_conn_t *c, apr_size_t n, apr_size_t *used)
{
    llhttp_errno_t e;

    c->exec_base = c->rbuf + c->rstart;
    e = llhttp_execute(&c->parser, c->exec_base, n);
    if (e == HPE_OK)
        *used = n;
    else if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE)
        *used = (apr_size_t)(llhttp_get_error_pos(&c->parser) - c->exec_base);
    else
        *used = 0;
    c->rstart += *used;
    c->stream_pos += (apr_off_t)*used;
    return e;
}

/* A Transfer-Encoding llhttp refused while reading fields: Go answers
 * 501 for several fields, weft 400 when chunked is not last. */
static weft_read_result_t refuse_te(weft_conn_t *c, weft_request_t *r)
{
    if (r->te_count > 0 && c->field != NULL &&
        strcasecmp(c->field, "Transfer-Encoding") == 0) {
        c->err_code = 501;
        c->err_reason = NULL;
        c->err_body = "Unsupported transfer encoding";
        return READ_REFUSED;
    }
    return refuse(c, 400, NULL);
}

static weft_read_result_t read_fields(weft_conn_t *c, weft_request_t *r,
                                      apr_size_t limit, apr_size_t *used)
{
    char prev = '\0'; /* the last byte of the previous slice fed */

    while (!c->headers_done) {
        apr_size_t n;
        llhttp_errno_t e;
        const char *base;

        if (c->rstart == c->rend) {
            apr_status_t rv = weft_conn_fill(c);
            /* Go's readRequest turns an EOF after the request line into
             * io.ErrUnexpectedEOF, which (*conn).serve answers with 400;
             * a timeout or a reset is a silent close. */
            if (rv == APR_EOF)
                return refuse(c, 400, NULL);
            if (rv != APR_SUCCESS)
                return READ_CLOSED;
        }
        base = c->rbuf + c->rstart;
        e = feed(c, c->rend - c->rstart, &n);
        *used += n;
        if (*used > limit)
            return refuse(c, 431, NULL);
        /* llhttp, even strict, ends the fields at a bare LF.  Every other
         * line must end in CRLF (read_line, llhttp), so this one must
         * too: a parser that disagrees on where a request ends is how
         * requests get smuggled. */
        if (c->headers_done && (n >= 2 ? base[n - 2] : prev) != '\r')
            return refuse(c, 400, NULL);
        if (n > 0)
            prev = base[n - 1];
        if (e == HPE_OK || e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE)
            continue;
        if (e == HPE_INVALID_TRANSFER_ENCODING)
            return refuse_te(c, r);
        weft_log(WEFT_LOG_DEBUG, 0, "%s: bad request: %s", c->remote,
                 llhttp_get_error_reason(&c->parser));
        return refuse(c, 400, NULL);
    }
    return READ_OK;
}

static int has_nul_escape(const char *p)
{
    for (p = strchr(p, '%'); p != NULL; p = strchr(p + 1, '%'))
        if (p[1] == '0' && p[2] == '0')
            return 1;
    return 0;
}

static weft_read_result_t map_line_error(weft_conn_t *c, weft_rl_error_t e)
{
    if (e == WEFT_RL_UNSUPPORTED)
        return refuse(c, 505, "unsupported protocol version");
    return refuse(c, 400, NULL);
}

/* Go's checks once the fields are in (readRequest, transfer.go). */
static weft_read_result_t check_fields(weft_conn_t *c, weft_request_t *r)
{
    weft_reqline_t *rl = &r->line;
    int h11 = rl->major > 1 || (rl->major == 1 && rl->minor >= 1);
    int h2_upgrade = rl->major == 2 && rl->asterisk &&
                     apr_is_empty_table(r->headers) && r->host_count == 0;

    if (h11 && r->host_count == 0 && !h2_upgrade &&
        strcmp(rl->method, "CONNECT") != 0)
        return refuse(c, 400, "missing required Host header");
    if (r->host_count > 1)
        return refuse(c, 400, "too many Host headers");
    if (r->host_count == 1 && !weft_host_valid(r->host, strlen(r->host)))
        return refuse(c, 400, "malformed Host header");
    if (rl->host != NULL && rl->host[0] != '\0')
        r->host = rl->host; /* absolute-form wins, as in Go */
    else if (r->host == NULL)
        r->host = "";

    if (r->te_count > 0) {
        /* Safer than Go (RFC 9112 §6.1): Transfer-Encoding on HTTP/1.0 is
         * refused rather than ignored, so no body can be smuggled. */
        if (!h11)
            return refuse(c, 400, NULL);
        if (r->te_count > 1 || strcasecmp(r->te_value, "chunked") != 0) {
            c->err_code = 501;
            c->err_reason = NULL;
            c->err_body = "Unsupported transfer encoding";
            return READ_REFUSED;
        }
        r->chunked = 1;
    }
    if (r->chunked) {
        r->content_length = -1;
    } else if (c->parser.flags & F_CONTENT_LENGTH) {
        /* llhttp takes any uint64; Go's parseContentLength parses 63
         * bits, and apr_off_t could not hold more. */
        if (c->parser.content_length > (uint64_t)APR_INT64_MAX)
            return refuse(c, 400, NULL);
        r->content_length = (apr_off_t)c->parser.content_length;
    } else {
        r->content_length = 0;
    }
    if (h2_upgrade)
        r->wants_close = 1;
    if (h11)
        r->wants10_keepalive = 0; /* Go's wantsHttp10KeepAlive */
    return READ_OK;
}

/* With the request pool: what the context's own cleanup would do, if
 * one was made.  Registered before any context made under it, so it runs
 * after theirs. */
static apr_status_t req_ctx_cleanup(void *data)
{
    weft_request_t *r = data;
    weft_ctx_t *x;

    /* A cleanup that runs after this one and asks gets NULL rather than
     * a context nothing would release. */
    atomic_store(&r->ctx_ok, 0);
    x = atomic_load(&r->ctx);
    if (x != NULL) {
        weft_ctx_release(x);
        atomic_store(&r->ctx, NULL);
    }
    return APR_SUCCESS;
}

weft_read_result_t weft_read_request(weft_conn_t *c, weft_request_t **out)
{
    weft_server_t *s = c->server;
    const weft_core_config_t *cf = s->conf;
    apr_size_t limit = cf->max_header_bytes ? cf->max_header_bytes
                                            : WEFT_DEFAULT_MAX_HEADER_BYTES;
    apr_time_t t0 = apr_time_now(), hdr = 0, whole = 0;
    apr_interval_time_t rht =
        cf->read_header_timeout ? cf->read_header_timeout : cf->read_timeout;
    weft_request_t *r;
    weft_read_result_t res;
    weft_rl_error_t le;
    char *line;
    apr_size_t len, used = 0;
    int unsupported = 0;

    pthread_once(&settings_once, settings_init);
    if (rht > 0)
        hdr = t0 + rht;
    if (cf->read_timeout > 0)
        whole = t0 + cf->read_timeout;
    c->read_deadline = hdr;
    c->saw_bytes = c->rstart < c->rend;
    c->err_code = 0;

    r = apr_pcalloc(c->req_pool, sizeof(*r));
    r->conn = c;
    r->server = s;
    r->pool = c->req_pool;
    r->headers = apr_table_make(r->pool, 16);
    r->trailers = apr_table_make(r->pool, 2);
    r->start = t0;
    weft_rw_init(&r->rw, r);
    /* The caller gets the request even when it is refused: the access
     * log records what is known of it. */
    *out = r;
    c->parsing = r;
    c->field = c->value = NULL;
    c->field_len = c->value_len = c->field_cap = c->value_cap = 0;
    c->headers_done = c->message_done = c->in_trailers = 0;
    c->stream_pos = 0;
    c->chunk_ext = 0;
    c->value_end = -1;

    res = read_line(c, limit, &used, &line, &len);
    if (res == READ_OK) {
        le = weft_reqline_parse(r->pool, line, len, &r->line);
        /* Go reads the fields before refusing the version (a bad field
         * still means 400), so 505 waits for them. */
        if (le == WEFT_RL_UNSUPPORTED)
            unsupported = 1;
        else if (le != WEFT_RL_OK)
            res = map_line_error(c, le);
        else if (has_nul_escape(r->line.raw_path))
            /* Deliberately stricter than Go, which keeps a NUL in
             * URL.Path: C strings cannot, and a path that means something
             * else to a handler than to a router is a security bug. */
            res = refuse(c, 400, NULL);
    }
    if (res == READ_OK) {
        c->parser =
            after_line[r->line.major == 1 && r->line.minor == 0 ? 0 : 1];
        c->parser.data = c;
    }
    if (res == READ_OK)
        res = read_fields(c, r, limit, &used);
    if (res == READ_OK && unsupported)
        res = map_line_error(c, WEFT_RL_UNSUPPORTED);
    if (res == READ_OK)
        res = check_fields(c, r);
    if (cf->write_timeout > 0)
        c->write_deadline = weft_deadline_after(cf->write_timeout);
    if (res != READ_OK)
        return res;

    c->read_deadline = whole;
    r->body = (r->chunked || r->content_length > 0) ? BODY_READING : BODY_NONE;
    if (r->body == BODY_READING)
        llhttp_resume(&c->parser);
    /* The context itself waits for a handler to ask (weft_request_ctx). */
    atomic_store_explicit(&r->ctx_ok, 1, memory_order_relaxed);
    apr_pool_cleanup_register(r->pool, r, req_ctx_cleanup,
                              apr_pool_cleanup_null);
    return READ_OK;
}

/*
 * Go makes every request a context; most handlers never look at it, and
 * making one costs a mutex and four lock round trips (join the parent,
 * cancel, leave, clean up).  So it is made on first use, in memory the
 * connection keeps, and born cancelled once the handler has returned.
 * ctx_ended and ctx are a Dekker pair: the end stores one and loads the
 * other, a late maker the reverse, so at least one of them cancels.
 */
weft_ctx_t *weft_request_ctx(weft_request_t *r)
{
    weft_conn_t *c = r->conn;
    weft_ctx_t *x = atomic_load_explicit(&r->ctx, memory_order_acquire);

    if (x != NULL || !atomic_load(&r->ctx_ok))
        return x;
    pthread_mutex_lock(&c->req_ctx_mu);
    x = atomic_load_explicit(&r->ctx, memory_order_relaxed);
    if (x == NULL && atomic_load(&r->ctx_ok)) {
        x = weft_ctx_place_cancel(c->req_ctx_mem, weft_conn_ctx(c), r->pool);
        atomic_store(&r->ctx, x);
        if (atomic_load(&r->ctx_ended))
            weft_ctx_cancel(x, WEFT_CTX_CANCELED);
    }
    pthread_mutex_unlock(&c->req_ctx_mu);
    return x;
}

void weft_request_ctx_end(weft_request_t *r)
{
    weft_ctx_t *x;

    atomic_store(&r->ctx_ended, 1);
    x = atomic_load(&r->ctx);
    if (x != NULL)
        weft_ctx_cancel(x, WEFT_CTX_CANCELED);
}
