/*
 * weft_response.c -- the response writer (Go's response, chunkWriter and
 * writeHeader): the handler's buffer, the framing decision (Content-Length
 * when the handler finished within the buffer, else chunked or
 * close-delimited), keep-alive rules, 1xx interim responses, trailers,
 * Date, and header and body leaving together in one writev.
 */
#include <apr_portable.h>
#include <apr_strings.h>
#include <stdio.h>
#include <string.h>

#include "weft_engine.h"

#define TRAILER_PREFIX "Trailer:"

/* ---- small helpers ------------------------------------------------------ */

/* Go's http.TimeFormat for now, cached per thread for the second. */
const char *weft_http_date(void)
{
    static WEFT_THREAD_LOCAL char buf[32];
    static WEFT_THREAD_LOCAL apr_time_t last = -1;
    apr_time_t now = apr_time_sec(weft_time_coarse());

    if (now != last) {
        apr_time_exp_t tm;
        static const char days[] = "SunMonTueWedThuFriSat";
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        apr_time_exp_gmt(&tm, apr_time_from_sec(now));
        apr_snprintf(buf, sizeof(buf),
                     "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT",
                     days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        last = now;
    }
    return buf;
}

static int h11(const weft_request_t *r)
{
    return r->line.major > 1 || (r->line.major == 1 && r->line.minor >= 1);
}

static int is_head(const weft_request_t *r)
{
    return strcmp(r->line.method, "HEAD") == 0;
}

/* Go's CanonicalMIMEHeaderKey into out (at least n + 1 bytes).  ASCII
 * letters only, as Go's: the C library's toupper would consult the locale
 * for every byte of every header name. */
static void canonical_key(const char *k, apr_size_t n, char *out)
{
    int upper = 1;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        char ch = k[i];
        if (upper && ch >= 'a' && ch <= 'z')
            out[i] = (char)(ch - 'a' + 'A');
        else if (!upper && ch >= 'A' && ch <= 'Z')
            out[i] = (char)(ch - 'A' + 'a');
        else
            out[i] = ch;
        upper = ch == '-';
    }
    out[n] = '\0';
}

/* A name in a comma-separated list (Go's foreachHeaderElement, for the
 * Trailer declaration). */
static int list_has(const char *v, const char *token)
{
    apr_size_t tn = strlen(token);

    if (v == NULL)
        return 0;
    while (*v != '\0') {
        const char *end, *e;
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        for (end = v; *end != '\0' && *end != ','; end++)
            ;
        for (e = end; e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
            ;
        if ((apr_size_t)(e - v) == tn && strncasecmp(v, token, tn) == 0)
            return 1;
        v = end;
    }
    return 0;
}

/* ---- writing to the connection ------------------------------------------ */

/* Writes iov under the write deadline; the first error sticks to the
 * connection (Go's checkConnErrorWriter), so later writes report it. */
apr_status_t weft_conn_writev(weft_conn_t *c, struct iovec *iov, int n)
{
    apr_size_t written;
    apr_status_t rv;

    if (c->werr != APR_SUCCESS)
        return c->werr;
    rv = c->transport->ops->writev(c->transport, iov, n, &written,
                                   c->write_deadline);
    if (rv != APR_SUCCESS) {
        c->werr = rv;
        weft_log(WEFT_LOG_DEBUG, rv, "%s: write failed", c->remote);
    }
    return rv;
}

/* One header field, sanitised: a name that is not a token is dropped;
 * CR and LF in the value become spaces and the value is trimmed (Go's
 * Header.writeSubset). */
typedef struct {
    char *key; /* canonical */
    const char *val;
    apr_size_t klen, vlen;
} field_t;

static int collect(weft_request_t *r, const apr_table_t *t, field_t **out,
                   int (*skip)(const char *key, void *data), void *data)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    field_t *f = apr_palloc(r->pool, sizeof(*f) * (arr->nelts + 1));
    int i, n = 0;

    for (i = 0; i < arr->nelts; i++) {
        apr_size_t klen;
        const char *v;
        char *fixed = NULL;
        int j;

        if (e[i].key == NULL || e[i].val == NULL)
            continue;
        klen = strlen(e[i].key);
        if (!weft_token_valid(e[i].key, klen))
            continue;
        if (skip != NULL && skip(e[i].key, data))
            continue;
        f[n].key = apr_palloc(r->pool, klen + 1);
        canonical_key(e[i].key, klen, f[n].key);
        f[n].klen = klen;
        v = e[i].val;
        if (strpbrk(v, "\r\n") != NULL) {
            char *q;
            fixed = apr_pstrdup(r->pool, v);
            for (q = fixed; *q; q++)
                if (*q == '\r' || *q == '\n')
                    *q = ' ';
            v = fixed;
        }
        while (*v == ' ' || *v == '\t')
            v++;
        f[n].vlen = strlen(v);
        while (f[n].vlen > 0 &&
               (v[f[n].vlen - 1] == ' ' || v[f[n].vlen - 1] == '\t'))
            f[n].vlen--;
        f[n].val = v;
        /* Go writes keys sorted; insertion keeps equal keys in order. */
        for (j = n; j > 0 && strcmp(f[j - 1].key, f[n].key) > 0; j--)
            ;
        if (j < n) {
            field_t tmp = f[n];
            memmove(&f[j + 1], &f[j], sizeof(*f) * (size_t)(n - j));
            f[j] = tmp;
        }
        n++;
    }
    *out = f;
    return n;
}

static char *put(char *p, const char *s, apr_size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_fields(char *p, const field_t *f, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        p = put(p, f[i].key, f[i].klen);
        p = put(p, ": ", 2);
        p = put(p, f[i].val, f[i].vlen);
        p = put(p, "\r\n", 2);
    }
    return p;
}

static apr_size_t fields_size(const field_t *f, int n)
{
    apr_size_t size = 0;
    int i;

    for (i = 0; i < n; i++)
        size += f[i].klen + f[i].vlen + 4;
    return size;
}

/* Decimal (base 10) or hex (base 16) digits of v at p; the hot path's
 * numbers, without printf's parsing. */
static char *put_uint(char *p, apr_uint64_t v, unsigned base)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

static char *put_status_line(char *p, int is11, int code)
{
    const char *text = weft_status_text(code);

    p = put(p, is11 ? "HTTP/1.1 " : "HTTP/1.0 ", 9);
    /* codes are 100-999: always three digits */
    *p++ = (char)('0' + code / 100);
    *p++ = (char)('0' + code / 10 % 10);
    *p++ = (char)('0' + code % 10);
    *p++ = ' ';
    if (text != NULL) {
        p = put(p, text, strlen(text));
    } else {
        p = put(p, "status code ", 12);
        p = put_uint(p, (apr_uint64_t)code, 10);
    }
    return put(p, "\r\n", 2);
}

/* ---- interim responses --------------------------------------------------- */

static int skip_no_body(const char *key, void *data)
{
    return strcasecmp(key, "Content-Length") == 0 ||
           strcasecmp(key, "Transfer-Encoding") == 0;
}

/* Go: 1xx (but 101) go out at once with the headers set so far. */
static apr_status_t send_interim(weft_rw_t *w, int code)
{
    weft_request_t *r = w->req;
    field_t *f;
    int n = collect(r, w->headers, &f, skip_no_body, NULL);
    char *buf = apr_palloc(r->pool, 64 + fields_size(f, n) + 2), *p;
    struct iovec iov;

    p = put_status_line(buf, h11(r), code);
    p = put_fields(p, f, n);
    p = put(p, "\r\n", 2);
    iov.iov_base = buf;
    iov.iov_len = (size_t)(p - buf);
    return weft_conn_writev(w->conn, &iov, 1);
}

/* ---- the final header --------------------------------------------------- */

/* Which snapshot fields writeHeader leaves out (Go's excludeHeader). */
enum {
    X_CONTENT_LENGTH = 1,
    X_TRANSFER_ENCODING = 2,
    X_CONNECTION = 4,
    X_CONTENT_TYPE = 8
};

static int skip_excluded(const char *key, void *data)
{
    int x = *(int *)data;

    if (strncasecmp(key, TRAILER_PREFIX, sizeof(TRAILER_PREFIX) - 1) == 0)
        return 1;
    return ((x & X_CONTENT_LENGTH) && strcasecmp(key, "Content-Length") == 0) ||
           ((x & X_TRANSFER_ENCODING) &&
            strcasecmp(key, "Transfer-Encoding") == 0) ||
           ((x & X_CONNECTION) && strcasecmp(key, "Connection") == 0) ||
           ((x & X_CONTENT_TYPE) && strcasecmp(key, "Content-Type") == 0);
}

static int has_trailer_prefix(const apr_table_t *t)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i;

    for (i = 0; i < arr->nelts; i++)
        if (e[i].key != NULL && strncasecmp(e[i].key, TRAILER_PREFIX,
                                            sizeof(TRAILER_PREFIX) - 1) == 0)
            return 1;
    return 0;
}

/*
 * Go's chunkWriter.writeHeader: decides the framing and keep-alive, and
 * builds the header block.  p is the first body chunk (sniffed for
 * Content-Type, and its length is the Content-Length when the handler is
 * done).  Drains an unread request body first, as Go does, so the
 * connection can be kept.
 */
static char *header_block(weft_rw_t *w, const char *p, apr_size_t plen,
                          apr_size_t *len)
{
    weft_request_t *r = w->req;
    weft_server_t *s = r->server;
    apr_table_t *hdr = w->snapshot;
    int keepalives = s->conf->keep_alive && !atomic_load(&s->shutting_down);
    int head = is_head(r), is11 = h11(r), exclude = 0, n;
    int allows = weft_status_allows_body(w->status);
    const char *te = apr_table_get(hdr, "Transfer-Encoding");
    const char *conn_hdr = apr_table_get(hdr, "Connection");
    const char *set_ctype = NULL, *set_conn = NULL, *set_te = NULL;
    int has_te = te != NULL && te[0] != '\0', has_cl;
    char *buf, *q;
    int set_cl = 0;
    field_t *f;

    w->trailers =
        has_trailer_prefix(hdr) || apr_table_get(hdr, "Trailer") != NULL;
    if (w->handler_done && !w->trailers && !has_te && allows &&
        apr_table_get(hdr, "Content-Length") == NULL && (!head || plen > 0)) {
        w->content_length = (apr_off_t)plen;
        set_cl = 1;
    }
    if (r->wants10_keepalive && keepalives) {
        const char *cl = apr_table_get(hdr, "Content-Length");
        if (cl != NULL && cl[0] != '\0' && conn_hdr != NULL &&
            strcmp(conn_hdr, "keep-alive") == 0)
            w->close_after = 0;
    }
    has_cl = w->content_length != -1;
    if (r->wants10_keepalive && (head || has_cl || !allows)) {
        if (conn_hdr == NULL)
            set_conn = "keep-alive";
    } else if (!is11 || r->wants_close) {
        w->close_after = 1;
    }
    if ((conn_hdr != NULL && strcmp(conn_hdr, "close") == 0) || !keepalives)
        w->close_after = 1;

    /* Go: a 100-continue body not read to its end leaves the connection in
     * an unknown state (the client may send it after a timer, or not). */
    if (w->continue_armed && r->body != BODY_NONE)
        w->close_after = 1;

    /* The unread body: drain up to 256 KiB to keep the connection. */
    if (r->content_length != 0 && !w->close_after) {
        if (r->body_closed && r->body != BODY_NONE) {
            w->close_after = 1;
        } else {
            int too_big = 0;
            if (weft_body_drain(r, WEFT_MAX_DRAIN, &too_big) != APR_SUCCESS)
                w->close_after = 1;
            if (too_big) {
                w->close_after = 1;
                w->body_limit_hit = 1;
                exclude |= X_CONNECTION;
                set_conn = "close";
            }
        }
    }

    if (allows) {
        const char *ce = apr_table_get(hdr, "Content-Encoding");
        if (apr_table_get(hdr, "Content-Type") == NULL &&
            (ce == NULL || ce[0] == '\0') && !has_te && plen > 0)
            set_ctype = weft_detect_content_type(p, plen);
    } else if (w->status == 304) {
        exclude |= X_CONTENT_TYPE | X_CONTENT_LENGTH | X_TRANSFER_ENCODING;
    } else {
        exclude |= X_CONTENT_LENGTH | X_TRANSFER_ENCODING;
    }
    if (has_cl && has_te && strcasecmp(te, "identity") != 0) {
        weft_log(WEFT_LOG_DEBUG, 0,
                 "%s: handler set both Transfer-Encoding %s and "
                 "Content-Length; Content-Length dropped",
                 r->conn->remote, te);
        exclude |= X_CONTENT_LENGTH;
        has_cl = 0;
    }
    if (head || !allows || w->status == 204) {
        exclude |= X_TRANSFER_ENCODING;
    } else if (has_cl) {
        exclude |= X_TRANSFER_ENCODING;
    } else if (is11) {
        if (has_te && strcasecmp(te, "identity") == 0) {
            w->chunking = 0;
            w->close_after = 1;
            exclude |= X_TRANSFER_ENCODING;
        } else {
            w->chunking = 1;
            set_te = "chunked";
            if (has_te && strcasecmp(te, "chunked") == 0)
                exclude |= X_TRANSFER_ENCODING;
        }
    } else {
        /* HTTP/1.0 cannot chunk: the end of the body is the close. */
        w->close_after = 1;
        exclude |= X_TRANSFER_ENCODING;
    }
    if (w->chunking)
        exclude |= X_CONTENT_LENGTH;
    if (w->close_after && (!keepalives || !weft_has_token(conn_hdr, "close")) &&
        !(w->status == 101 && apr_table_get(hdr, "Upgrade") != NULL &&
          weft_has_token(conn_hdr, "Upgrade"))) {
        exclude |= X_CONNECTION;
        if (is11)
            set_conn = "close";
    }

    n = collect(r, hdr, &f, skip_excluded, &exclude);
    buf = apr_palloc(r->pool, 256 + fields_size(f, n));
    q = put_status_line(buf, is11, w->status);
    q = put_fields(q, f, n);
    if (apr_table_get(hdr, "Date") == NULL) {
        q = put(q, "Date: ", 6);
        q = put(q, weft_http_date(), 29);
        q = put(q, "\r\n", 2);
    }
    if (set_cl) {
        q = put(q, "Content-Length: ", 16);
        q = put_uint(q, (apr_uint64_t)plen, 10);
        q = put(q, "\r\n", 2);
    }
    if (set_ctype != NULL) {
        q = put(q, "Content-Type: ", 14);
        q = put(q, set_ctype, strlen(set_ctype));
        q = put(q, "\r\n", 2);
    }
    if (set_conn != NULL) {
        q = put(q, "Connection: ", 12);
        q = put(q, set_conn, strlen(set_conn));
        q = put(q, "\r\n", 2);
    }
    if (set_te != NULL)
        q = put(q, "Transfer-Encoding: chunked\r\n", 28);
    q = put(q, "\r\n", 2);
    *len = (apr_size_t)(q - buf);
    return buf;
}

/* Go's finalTrailers: Trailer:-prefixed keys, and the declared names'
 * current values.  Returns the "0\r\n...\r\n" end of a chunked body. */
static char *last_chunk(weft_rw_t *w, apr_size_t *len)
{
    weft_request_t *r = w->req;
    apr_table_t *t = apr_table_make(r->pool, 4);
    const apr_array_header_t *arr = apr_table_elts(w->headers);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *declared = apr_table_get(w->snapshot, "Trailer");
    field_t *f;
    char *buf, *q;
    int i, n;

    for (i = 0; i < arr->nelts; i++) {
        const char *k = e[i].key;
        if (k == NULL || e[i].val == NULL)
            continue;
        if (strncasecmp(k, TRAILER_PREFIX, sizeof(TRAILER_PREFIX) - 1) == 0)
            apr_table_addn(t, k + sizeof(TRAILER_PREFIX) - 1, e[i].val);
        else if (declared != NULL && list_has(declared, k) &&
                 strcasecmp(k, "Trailer") != 0 &&
                 strcasecmp(k, "Content-Length") != 0 &&
                 strcasecmp(k, "Transfer-Encoding") != 0)
            apr_table_addn(t, k, e[i].val);
    }
    n = collect(r, t, &f, NULL, NULL);
    buf = apr_palloc(r->pool, 8 + fields_size(f, n));
    q = put(buf, "0\r\n", 3);
    q = put_fields(q, f, n);
    q = put(q, "\r\n", 2);
    *len = (apr_size_t)(q - buf);
    return buf;
}

/*
 * Go's chunkWriter.Write: sends the header block if it is not out yet,
 * then p framed as a chunk when chunking (HEAD eats the body), and with
 * last set the chunked terminator too: all in one writev.
 */
static apr_status_t chunk_write(weft_rw_t *w, const char *p, apr_size_t n,
                                int last)
{
    struct iovec iov[5];
    char size_line[24];
    apr_status_t rv;
    int k = 0;

    if (!w->header_sent) {
        apr_size_t hlen;
        char *h = header_block(w, p, n, &hlen);
        iov[k].iov_base = h;
        iov[k++].iov_len = hlen;
        w->header_sent = 1;
    }
    if (n > 0 && !is_head(w->req)) {
        if (w->chunking) {
            char *e = put(put_uint(size_line, (apr_uint64_t)n, 16), "\r\n", 2);
            iov[k].iov_base = size_line;
            iov[k++].iov_len = (size_t)(e - size_line);
        }
        iov[k].iov_base = (void *)p;
        iov[k++].iov_len = n;
        if (w->chunking) {
            iov[k].iov_base = "\r\n";
            iov[k++].iov_len = 2;
        }
    }
    if (last && w->chunking) {
        apr_size_t tlen;
        iov[k].iov_base = last_chunk(w, &tlen);
        iov[k++].iov_len = tlen;
    }
    if (k == 0)
        return APR_SUCCESS;
    rv = weft_conn_writev(w->conn, iov, k);
    if (rv == APR_SUCCESS && !is_head(w->req))
        w->body_sent += (apr_off_t)n;
    return rv;
}

/*
 * A region of an open file as body bytes, without copying them through
 * user space when the transport can (sendfile(2) for plain TCP).  The
 * header and any buffered output go first; chunked framing, if chosen,
 * wraps the region as one chunk.  A file that turns out shorter than len
 * (it shrank) ends the response: nothing more is sent, the connection
 * closes, and WEFT_EFILESHRANK says so.
 */
WEFT_DECLARE(apr_status_t)
weft_rw_send_file(weft_rw_t *w, apr_file_t *f, apr_off_t offset, apr_off_t len)
{
    weft_conn_t *c = w->conn;
    weft_transport_t *t = c->transport;
    apr_os_file_t fd;
    apr_status_t rv;

    if (c->hijacked)
        return WEFT_EHIJACKED;
    if (w->aborted)
        return WEFT_EABORTED;
    if (c->werr != APR_SUCCESS)
        return c->werr;
    weft_rw_disable_continue(w);
    if (!w->wrote_header)
        weft_rw_write_header(w, 200);
    if (len <= 0)
        return APR_SUCCESS;
    if (!weft_status_allows_body(w->status))
        return WEFT_ENOBODY;
    if (w->content_length != -1 && w->written + len > w->content_length)
        return WEFT_ECONTENTLENGTH;
    /* What is buffered goes first, and so does the header: the framing is
     * decided before the file's bytes leave. */
    if (w->buflen > 0 || !w->header_sent) {
        rv = chunk_write(w, w->buf, w->buflen, 0);
        w->buflen = 0;
        if (rv != APR_SUCCESS)
            return rv;
    }
    w->written += len;
    if (is_head(w->req))
        return APR_SUCCESS;
    if (w->chunking) {
        char line[24];
        struct iovec iov;
        iov.iov_base = line;
        iov.iov_len =
            (size_t)(put(put_uint(line, (apr_uint64_t)len, 16), "\r\n", 2) -
                     line);
        rv = weft_conn_writev(c, &iov, 1);
        if (rv != APR_SUCCESS)
            return rv;
    }
    apr_os_file_get(&fd, f);
    while (len > 0) {
        apr_size_t sent = 0;
        if (t->ops->sendfile != NULL) {
            rv = t->ops->sendfile(t, fd, offset, (apr_size_t)len, &sent,
                                  c->write_deadline);
        } else {
            /* A transport that must see the bytes (TLS): through a
             * buffer, in pieces. */
            char buf[16384];
            apr_size_t n =
                len < (apr_off_t)sizeof(buf) ? (apr_size_t)len : sizeof(buf);
            struct iovec iov;
            rv = apr_file_seek(f, APR_SET, &offset);
            if (rv == APR_SUCCESS)
                rv = apr_file_read(f, buf, &n);
            if (rv == APR_EOF)
                rv = APR_SUCCESS, n = 0;
            if (rv == APR_SUCCESS && n > 0) {
                iov.iov_base = buf;
                iov.iov_len = n;
                rv = weft_conn_writev(c, &iov, 1);
                sent = rv == APR_SUCCESS ? n : 0;
            }
        }
        if (rv != APR_SUCCESS) {
            if (c->werr == APR_SUCCESS)
                c->werr = rv;
            return rv;
        }
        if (sent == 0) {
            /* The file shrank: what went out is correct, the rest cannot
             * be, so the response ends here and the connection closes. */
            weft_log(WEFT_LOG_DEBUG, 0, "%s: file shorter than announced",
                     c->remote);
            w->aborted = 1;
            return WEFT_EFILESHRANK;
        }
        w->body_sent += (apr_off_t)sent;
        offset += (apr_off_t)sent;
        len -= (apr_off_t)sent;
    }
    if (w->chunking) {
        struct iovec iov;
        iov.iov_base = "\r\n";
        iov.iov_len = 2;
        return weft_conn_writev(c, &iov, 1);
    }
    return APR_SUCCESS;
}

/* ---- 100-continue --------------------------------------------------------- */

static apr_status_t continue_mu_destroy(void *data)
{
    pthread_mutex_destroy(data);
    return APR_SUCCESS;
}

WEFT_DECLARE(void) weft_rw_expect_continue(weft_rw_t *w)
{
    if (w->continue_armed)
        return;
    w->continue_mu = apr_palloc(w->req->pool, sizeof(*w->continue_mu));
    pthread_mutex_init(w->continue_mu, NULL);
    apr_pool_cleanup_register(w->req->pool, w->continue_mu, continue_mu_destroy,
                              apr_pool_cleanup_null);
    w->can_continue = !w->wrote_header && !w->header_sent;
    w->continue_armed = 1;
}

/* Go's disableWriteContinue: the final response has begun, so a 100 must
 * never follow.  Taking the lock waits out a 100 being written. */
void weft_rw_disable_continue(weft_rw_t *w)
{
    if (!w->continue_armed)
        return;
    pthread_mutex_lock(w->continue_mu);
    w->can_continue = 0;
    pthread_mutex_unlock(w->continue_mu);
}

WEFT_DECLARE(int) weft_rw_send_continue(weft_rw_t *w)
{
    static char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct iovec iov;
    int sent = 0;

    if (!w->continue_armed)
        return 0;
    pthread_mutex_lock(w->continue_mu);
    if (w->can_continue) {
        iov.iov_base = line;
        iov.iov_len = sizeof(line) - 1;
        sent = weft_conn_writev(w->conn, &iov, 1) == APR_SUCCESS;
        w->can_continue = 0;
    }
    pthread_mutex_unlock(w->continue_mu);
    return sent;
}

/* ---- the handler's API -------------------------------------------------- */

void weft_rw_init(weft_rw_t *w, weft_request_t *r)
{
    memset(w, 0, sizeof(*w));
    w->req = r;
    w->conn = r->conn;
    w->headers = apr_table_make(r->pool, 8);
    w->content_length = -1;
    w->buf = r->conn->wbuf;
    w->bufcap = r->conn->wcap;
}

WEFT_DECLARE(apr_table_t *) weft_rw_headers(weft_rw_t *w)
{
    return w->headers;
}

WEFT_DECLARE(apr_status_t) weft_rw_write_header(weft_rw_t *w, int code)
{
    const char *cl;

    if (w->conn->hijacked) {
        weft_log(WEFT_LOG_DEBUG, 0, "WriteHeader on a hijacked connection");
        return WEFT_EHIJACKED;
    }
    if (w->aborted)
        return WEFT_EABORTED;
    if (w->wrote_header) {
        weft_log(WEFT_LOG_DEBUG, 0, "%s: superfluous WriteHeader(%d)",
                 w->conn->remote, code);
        return APR_SUCCESS;
    }
    if (code < 100 || code > 999)
        return APR_EINVAL;
    /* A 100 from the handler, or any final status, ends the chance of an
     * automatic 100 Continue (Go). */
    if (code < 101 || code > 199)
        weft_rw_disable_continue(w);
    if (code >= 100 && code <= 199 && code != 101)
        return send_interim(w, code);
    w->wrote_header = 1;
    w->status = code;
    /* Later changes to the table must not reach the header (Go clones). */
    w->snapshot = apr_table_copy(w->req->pool, w->headers);
    cl = apr_table_get(w->snapshot, "Content-Length");
    if (cl != NULL) {
        char *end;
        apr_int64_t v = apr_strtoi64(cl, &end, 10);
        if (cl[0] >= '0' && cl[0] <= '9' && *end == '\0' && v >= 0) {
            w->content_length = (apr_off_t)v;
        } else {
            weft_log(WEFT_LOG_DEBUG, 0, "invalid Content-Length \"%s\"", cl);
            /* Go deletes it from the handler's map only after cloning the
             * header it will send, so a bad value stays in the snapshot:
             * it blocks the automatic length, and chunking drops it.  An
             * empty one goes (Go would send it beside its own length). */
            if (cl[0] == '\0')
                apr_table_unset(w->snapshot, "Content-Length");
        }
    }
    return APR_SUCCESS;
}

/* bufio.Writer.Write over chunk_write, with the handler's buffer. */
WEFT_DECLARE(apr_status_t)
weft_rw_write(weft_rw_t *w, const void *data, apr_size_t n)
{
    const char *p = data;
    apr_status_t rv;

    if (w->conn->hijacked)
        return WEFT_EHIJACKED;
    if (w->aborted)
        return WEFT_EABORTED;
    if (w->conn->werr != APR_SUCCESS)
        return w->conn->werr;
    weft_rw_disable_continue(w);
    if (!w->wrote_header)
        weft_rw_write_header(w, 200);
    if (n == 0)
        return APR_SUCCESS;
    if (!weft_status_allows_body(w->status))
        return WEFT_ENOBODY;
    w->written += (apr_off_t)n;
    if (w->content_length != -1 && w->written > w->content_length)
        return WEFT_ECONTENTLENGTH;
    while (n > w->bufcap - w->buflen) {
        if (w->buflen == 0) {
            /* A large write into an empty buffer goes out directly. */
            return chunk_write(w, p, n, 0);
        }
        {
            apr_size_t k = w->bufcap - w->buflen;
            memcpy(w->buf + w->buflen, p, k);
            w->buflen += k;
            p += k;
            n -= k;
            rv = chunk_write(w, w->buf, w->buflen, 0);
            w->buflen = 0;
            if (rv != APR_SUCCESS)
                return rv;
        }
    }
    memcpy(w->buf + w->buflen, p, n);
    w->buflen += n;
    return APR_SUCCESS;
}

WEFT_DECLARE(apr_status_t) weft_rw_puts(weft_rw_t *w, const char *s)
{
    return weft_rw_write(w, s, strlen(s));
}

WEFT_DECLARE(apr_status_t) weft_rw_printf(weft_rw_t *w, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = apr_vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if ((apr_size_t)n < sizeof(small) - 1)
        return weft_rw_write(w, small, (apr_size_t)n);
    {
        char *big;
        va_start(ap, fmt);
        big = apr_pvsprintf(w->req->pool, fmt, ap);
        va_end(ap);
        return weft_rw_write(w, big, strlen(big));
    }
}

WEFT_DECLARE(apr_status_t) weft_rw_flush(weft_rw_t *w)
{
    apr_status_t rv;

    if (w->conn->hijacked)
        return WEFT_EHIJACKED;
    if (w->aborted)
        return WEFT_EABORTED;
    if (!w->wrote_header)
        weft_rw_write_header(w, 200);
    rv = chunk_write(w, w->buf, w->buflen, 0);
    w->buflen = 0;
    return rv;
}

WEFT_DECLARE(int) weft_rw_status(const weft_rw_t *w)
{
    return w->status;
}

WEFT_DECLARE(apr_off_t) weft_rw_written(const weft_rw_t *w)
{
    return w->written;
}

/* Go's finishRequest: the rest of the buffer, the header if it is not
 * out, and the chunked terminator with trailers, in one writev. */
void weft_rw_finish(weft_rw_t *w)
{
    w->handler_done = 1;
    weft_rw_disable_continue(w);
    if (w->aborted || w->conn->hijacked)
        return;
    if (!w->wrote_header)
        weft_rw_write_header(w, 200);
    if (w->conn->werr == APR_SUCCESS)
        chunk_write(w, w->buf, w->buflen, 1);
    w->buflen = 0;
}

/* Go's shouldReuseConnection. */
int weft_rw_should_reuse(weft_rw_t *w)
{
    weft_request_t *r = w->req;

    if (w->close_after || w->aborted)
        return 0;
    if (!is_head(r) && w->content_length != -1 &&
        weft_status_allows_body(w->status) && w->content_length != w->written)
        return 0; /* did not write what it declared: out of sync */
    if (w->conn->werr != APR_SUCCESS)
        return 0;
    if (r->body_closed && r->body != BODY_NONE)
        return 0;
    return 1;
}

/*
 * Go's answer to a request refused before any handler ran, byte for
 * byte: "HTTP/1.1 CODE TEXT[: reason]" with a text/plain body repeating
 * the status line's text (or a body of its own), then the close.
 */
void weft_send_error(weft_conn_t *c, weft_request_t *r, int code,
                     const char *reason, const char *body)
{
    char buf[512];
    const char *text = weft_status_text(code);
    struct iovec iov;
    int n;

    if (body != NULL)
        n = apr_snprintf(buf, sizeof(buf),
                         "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
                         "charset=utf-8\r\nConnection: close\r\n\r\n%s",
                         code, text, body);
    else if (reason != NULL)
        n = apr_snprintf(buf, sizeof(buf),
                         "HTTP/1.1 %d %s: %s\r\nContent-Type: text/plain; "
                         "charset=utf-8\r\nConnection: close\r\n\r\n%d %s: %s",
                         code, text, reason, code, text, reason);
    else
        n = apr_snprintf(buf, sizeof(buf),
                         "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
                         "charset=utf-8\r\nConnection: close\r\n\r\n%d %s",
                         code, text, code, text);
    iov.iov_base = buf;
    iov.iov_len = (size_t)n;
    if (weft_conn_writev(c, &iov, 1) == APR_SUCCESS && r != NULL) {
        /* For the access log: what was answered. */
        r->rw.status = code;
        r->rw.body_sent = (apr_off_t)strlen(strstr(buf, "\r\n\r\n") + 4);
    }
}
