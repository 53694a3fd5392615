/*
 * mod_testapp.c -- the contract's test module (contract/testapp.md): the
 * `testapp` handler dispatching on the path, the `route` handler for the
 * mux, and the process-wide event log fed by the conn_state hook.
 */
#include <apr_lib.h>
#include <apr_strings.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

#define EVENT_LOG_MAX 10000
/* "state [v6 address]:port hijacked" fits; longer lines are cut. */
#define EVENT_LINE_MAX 96

/* ---- the event log: in order, thread-safe, bounded ------------------ */

/*
 * A ring of fixed slots: adding a line is a copy under a short lock, with
 * no allocation, so load tests through mod_testapp measure the server and
 * not the log (the contract asks for that).  960 KB of static memory.
 *
 * Every owner thread adds two lines a request, so the lock is contended
 * across cores; a plain mutex sent one waiter in thirty to sleep in the
 * kernel (a futex wait and a context switch each).  The adaptive kind
 * spins a little first, longer than a copy of a hundred bytes takes.
 * (A lock-free ring was tried, with and without a load of the slot
 * before the write, and measured slower under load than this lock.)
 */
static pthread_mutex_t log_mu = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static char events[EVENT_LOG_MAX][EVENT_LINE_MAX]; /* guarded by log_mu */
static int ev_head, ev_len;                        /* guarded by log_mu */

/* A line of len bytes (less than EVENT_LINE_MAX). */
static void event_addn(const char *line, apr_size_t len)
{
    int slot;

    pthread_mutex_lock(&log_mu);
    if (ev_len == EVENT_LOG_MAX) {
        slot = ev_head; /* the oldest line goes */
        ev_head = (ev_head + 1) % EVENT_LOG_MAX;
    } else {
        slot = (ev_head + ev_len) % EVENT_LOG_MAX;
        ev_len++;
    }
    memcpy(events[slot], line, len);
    events[slot][len] = '\0';
    pthread_mutex_unlock(&log_mu);
}

static void event_add(const char *line)
{
    apr_size_t len = strlen(line);

    event_addn(line, len < EVENT_LINE_MAX ? len : EVENT_LINE_MAX - 1);
}

/* The log as one string in p, emptied afterwards when clear is set. */
static char *event_dump(apr_pool_t *p, int clear)
{
    apr_size_t size = 1;
    char *out, *o;
    int i;

    pthread_mutex_lock(&log_mu);
    for (i = 0; i < ev_len; i++)
        size += strlen(events[(ev_head + i) % EVENT_LOG_MAX]) + 1;
    o = out = apr_palloc(p, size);
    for (i = 0; i < ev_len; i++) {
        const char *e = events[(ev_head + i) % EVENT_LOG_MAX];
        apr_size_t n = strlen(e);
        memcpy(o, e, n);
        o[n] = '\n';
        o += n + 1;
    }
    *o = '\0';
    if (clear)
        ev_head = ev_len = 0;
    pthread_mutex_unlock(&log_mu);
    return out;
}

/* Appends the string s to line at *len, within EVENT_LINE_MAX. */
static void put(char *line, apr_size_t *len, const char *s)
{
    apr_size_t n = strlen(s);

    if (n > EVENT_LINE_MAX - 1 - *len)
        n = EVENT_LINE_MAX - 1 - *len;
    memcpy(line + *len, s, n);
    *len += n;
}

static void on_conn_state(weft_conn_t *c, int state)
{
    char line[EVENT_LINE_MAX];
    apr_size_t len = 0;

    /* By hand, with no allocation: this runs twice per request. */
    put(line, &len, "state ");
    put(line, &len, weft_conn_remote(c));
    put(line, &len, " ");
    put(line, &len, weft_conn_state_name((weft_conn_state_t)state));
    event_addn(line, len);
}

/* The connection id lives in the connection context (Go's ConnContext). */
static const char conn_id_key;
static apr_uint64_t next_conn_id; /* guarded by log_mu */

static int on_conn_context(weft_conn_t *c, weft_ctx_t **ctx)
{
    apr_uint64_t *id = apr_palloc(weft_conn_pool(c), sizeof(*id));

    pthread_mutex_lock(&log_mu);
    *id = ++next_conn_id;
    pthread_mutex_unlock(&log_mu);
    *ctx = weft_ctx_with_value(*ctx, weft_conn_pool(c), &conn_id_key, id);
    return WEFT_OK;
}

/* ---- handlers -------------------------------------------------------- */

static void text(weft_rw_t *w)
{
    apr_table_set(weft_rw_headers(w), "Content-Type",
                  "text/plain; charset=utf-8");
}

static long query_num(weft_request_t *r, const char *name, long dflt)
{
    const char *v = weft_req_query_value(r, name);
    return v != NULL && *v != '\0' ? strtol(v, NULL, 10) : dflt;
}

static void do_echo(weft_rw_t *w, weft_request_t *r)
{
    apr_pool_t *p = weft_req_pool(r);
    apr_size_t cap = 16384, len = 0;
    char *buf = apr_palloc(p, cap);

    for (;;) {
        apr_size_t n;
        apr_status_t rv;
        if (len == cap) {
            char *nb = apr_palloc(p, cap * 2);
            memcpy(nb, buf, len);
            buf = nb;
            cap *= 2;
        }
        n = cap - len;
        rv = weft_req_body_read(r, buf + len, &n);
        len += n;
        if (rv != APR_SUCCESS)
            break;
    }
    apr_table_set(weft_rw_headers(w), "Content-Type",
                  "application/octet-stream");
    weft_rw_write(w, buf, len);
}

static void do_size(weft_rw_t *w, weft_request_t *r)
{
    char chunk[1000];
    long n = query_num(r, "n", 0);

    memset(chunk, 'x', sizeof(chunk));
    text(w);
    while (n > 0) {
        long k = n > 1000 ? 1000 : n;
        if (weft_rw_write(w, chunk, (apr_size_t)k) != APR_SUCCESS)
            return;
        n -= k;
    }
}

static void do_stream(weft_rw_t *w, weft_request_t *r)
{
    long i, n = query_num(r, "n", 0), delay = query_num(r, "delay", 0);

    text(w);
    for (i = 0; i < n; i++) {
        if (weft_rw_printf(w, "chunk %ld\n", i) != APR_SUCCESS ||
            weft_rw_flush(w) != APR_SUCCESS)
            return;
        weft_sleep(apr_time_from_msec(delay));
    }
}

static void do_wait(weft_rw_t *w, weft_request_t *r)
{
    long ms = query_num(r, "ms", 0);

    text(w);
    if (weft_ctx_wait(weft_req_ctx(r), apr_time_from_msec(ms)) == APR_SUCCESS) {
        event_add("cancel /wait");
        return;
    }
    weft_rw_puts(w, "done\n");
}

static void do_read(weft_rw_t *w, weft_request_t *r)
{
    long want = query_num(r, "n", 0), got = 0;
    char buf[8192];

    while (got < want) {
        apr_size_t n = (apr_size_t)(want - got) < sizeof(buf)
                           ? (apr_size_t)(want - got)
                           : sizeof(buf);
        apr_status_t rv = weft_req_body_read(r, buf, &n);
        got += (long)n;
        if (rv != APR_SUCCESS)
            break;
    }
    text(w);
    weft_rw_printf(w, "read %ld\n", got);
}

static void do_hijack(weft_rw_t *w, weft_request_t *r)
{
    static const char head[] = "HTTP/1.1 101 Switching Protocols\r\n"
                               "Upgrade: echo\r\nConnection: Upgrade\r\n\r\n";
    weft_hijack_t *h;
    weft_transport_t *t;
    struct iovec iov;
    apr_size_t written;
    char buf[4096];

    if (weft_rw_hijack(w, &h) != APR_SUCCESS)
        return;
    t = h->transport;
    iov.iov_base = (void *)head;
    iov.iov_len = sizeof(head) - 1;
    if (t->ops->writev(t, &iov, 1, &written, 0) == APR_SUCCESS &&
        h->buffered_len > 0) {
        iov.iov_base = (void *)h->buffered;
        iov.iov_len = h->buffered_len;
        t->ops->writev(t, &iov, 1, &written, 0);
    }
    for (;;) {
        apr_size_t n = sizeof(buf);
        if (t->ops->read(t, buf, &n, 0) != APR_SUCCESS)
            break;
        iov.iov_base = buf;
        iov.iov_len = n;
        if (t->ops->writev(t, &iov, 1, &written, 0) != APR_SUCCESS)
            break;
    }
    weft_hijack_close(h);
}

static int cmp_entry(const void *a, const void *b)
{
    const apr_table_entry_t *x = a, *y = b;
    return strcmp(x->key, y->key);
}

static void do_reqinfo(weft_rw_t *w, weft_request_t *r)
{
    const apr_array_header_t *arr = apr_table_elts(weft_req_headers(r));
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    apr_pool_t *p = weft_req_pool(r);
    apr_table_entry_t *sorted =
        apr_pcalloc(p, sizeof(*sorted) * (apr_size_t)(arr->nelts + 1));
    int i, n = 0;

    for (i = 0; i < arr->nelts; i++) {
        char *k = apr_pstrdup(p, e[i].key), *q;
        for (q = k; *q; q++)
            *q = (char)apr_tolower(*q);
        sorted[n].key = k;
        sorted[n].val = e[i].val;
        n++;
    }
    /* Sort by name; a stable insertion sort keeps each name's values in
     * the order received. */
    for (i = 1; i < n; i++) {
        apr_table_entry_t cur = sorted[i];
        int j = i;
        while (j > 0 && cmp_entry(&sorted[j - 1], &cur) > 0) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = cur;
    }
    text(w);
    weft_rw_printf(w, "method %s\nuri %s\nproto %s\nhost %s\n",
                   weft_req_method(r), weft_req_uri(r), weft_req_proto(r),
                   weft_req_host(r));
    for (i = 0; i < n; i++)
        weft_rw_printf(w, "h:%s: %s\n", sorted[i].key, sorted[i].val);
}

static void do_status(weft_rw_t *w, weft_request_t *r)
{
    long code = query_num(r, "code", 200);

    text(w);
    weft_rw_write_header(w, (int)code);
    if (code >= 200 && code != 204 && code != 304)
        weft_rw_printf(w, "status %ld\n", code);
}

static void do_early_hints(weft_rw_t *w, weft_request_t *r)
{
    apr_table_t *h = weft_rw_headers(w);

    apr_table_set(h, "Link", "</style.css>; rel=preload");
    weft_rw_write_header(w, 103);
    text(w);
    weft_rw_write_header(w, 200);
    weft_rw_puts(w, "hinted\n");
}

static void do_trailers(weft_rw_t *w, weft_request_t *r)
{
    apr_table_t *h = weft_rw_headers(w);

    text(w);
    apr_table_set(h, "Trailer", "X-Checksum");
    weft_rw_puts(w, "body\n");
    weft_rw_flush(w);
    apr_table_set(h, "X-Checksum", "42");
}

static void testapp_handler(weft_rw_t *w, weft_request_t *r)
{
    const char *path = weft_req_path(r);

    if (strcmp(path, "/hello") == 0) {
        text(w);
        weft_rw_puts(w, "hello\n");
    } else if (strcmp(path, "/echo") == 0) {
        do_echo(w, r);
    } else if (strcmp(path, "/size") == 0) {
        do_size(w, r);
    } else if (strcmp(path, "/stream") == 0) {
        do_stream(w, r);
    } else if (strcmp(path, "/sleep") == 0) {
        weft_sleep(apr_time_from_msec(query_num(r, "ms", 0)));
        text(w);
        weft_rw_puts(w, "slept\n");
    } else if (strcmp(path, "/wait") == 0) {
        do_wait(w, r);
    } else if (strcmp(path, "/events") == 0) {
        const char *clear = weft_req_query_value(r, "clear");
        text(w);
        weft_rw_puts(w, event_dump(weft_req_pool(r),
                                   clear != NULL && strcmp(clear, "1") == 0));
    } else if (strcmp(path, "/ignore") == 0) {
        text(w);
        weft_rw_puts(w, "ignored\n");
    } else if (strcmp(path, "/read") == 0) {
        do_read(w, r);
    } else if (strcmp(path, "/hijack") == 0) {
        do_hijack(w, r);
    } else if (strcmp(path, "/abort") == 0) {
        weft_rw_abort(w);
    } else if (strcmp(path, "/abort-after-write") == 0) {
        text(w);
        weft_rw_puts(w, "partial\n");
        weft_rw_flush(w);
        weft_rw_abort(w);
    } else if (strcmp(path, "/header") == 0) {
        const char *n = weft_req_query_value(r, "name");
        const char *v = weft_req_query_value(r, "value");
        text(w);
        if (n != NULL && *n != '\0')
            apr_table_set(weft_rw_headers(w), n, v ? v : "");
        weft_rw_puts(w, "ok\n");
    } else if (strcmp(path, "/status") == 0) {
        do_status(w, r);
    } else if (strcmp(path, "/reqinfo") == 0) {
        do_reqinfo(w, r);
    } else if (strcmp(path, "/conn-id") == 0) {
        apr_uint64_t *id = weft_ctx_value(weft_req_ctx(r), &conn_id_key);
        text(w);
        weft_rw_printf(w, "conn %" APR_UINT64_T_FMT "\n", id ? *id : 0);
    } else if (strcmp(path, "/early-hints") == 0) {
        do_early_hints(w, r);
    } else if (strcmp(path, "/trailers") == 0) {
        do_trailers(w, r);
    } else if (strcmp(path, "/shutdown") == 0) {
        weft_server_stop(weft_req_server(r), 1,
                         apr_time_from_msec(query_num(r, "timeout", 0)));
        text(w);
        weft_rw_puts(w, "shutting down\n");
    } else if (strcmp(path, "/close") == 0) {
        text(w);
        weft_rw_puts(w, "closing\n");
        weft_rw_flush(w);
        weft_server_stop(weft_req_server(r), 0, 0);
    } else {
        weft_rw_error(w, 404, "404 page not found");
    }
}

/* For the mux: the pattern that matched, then each wildcard's value. */
static void route_handler(weft_rw_t *w, weft_request_t *r)
{
    const apr_table_t *values = weft_req_path_values(r);
    const char *pattern = weft_req_pattern(r);

    text(w);
    weft_rw_printf(w, "pattern %s\n", pattern ? pattern : "");
    if (values != NULL) {
        const apr_array_header_t *arr = apr_table_elts(values);
        const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
        int i;
        for (i = 0; i < arr->nelts; i++)
            weft_rw_printf(w, "value %s=%s\n", e[i].key, e[i].val);
    }
}

static void testapp_register_hooks(apr_pool_t *p)
{
    weft_handler_register("testapp", testapp_handler);
    weft_handler_register("route", route_handler);
    weft_hook_conn_state(on_conn_state, NULL, NULL, WEFT_HOOK_MIDDLE);
    weft_hook_conn_context(on_conn_context, NULL, NULL, WEFT_HOOK_MIDDLE);
}

WEFT_DECLARE_MODULE(testapp) = {
    WEFT_MODULE_HEADER, "testapp", NULL, NULL, testapp_register_hooks,
};
