/*
 * test_http_request.c -- reading requests, from outside weftd: the request
 * line (methods, target forms, versions, malformed lines), the header
 * table as /reqinfo shows it, Host rules, MaxHeaderBytes, Transfer-Encoding
 * and Content-Length rules, Expect, pipelining, and a burst of bad requests.
 * Refusals are compared with Go's exact bytes (contract/testapp.md).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft_test.h"

/* Every wait is bounded by this; generous for sanitizer builds. */
#define WAIT_MS 10000

/* Go's (*conn).serve answers refused requests with these bytes. */
#define ERR_HEADERS \
    "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
#define R400 "HTTP/1.1 400 Bad Request" ERR_HEADERS "400 Bad Request"
#define R400_WHY(why) \
    "HTTP/1.1 400 Bad Request: " why ERR_HEADERS "400 Bad Request: " why
#define R431                                                   \
    "HTTP/1.1 431 Request Header Fields Too Large" ERR_HEADERS \
    "431 Request Header Fields Too Large"
#define R501 \
    "HTTP/1.1 501 Not Implemented" ERR_HEADERS "Unsupported transfer encoding"
#define R505                                                         \
    "HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol " \
    "version" ERR_HEADERS                                            \
    "505 HTTP Version Not Supported: unsupported protocol version"
/* Go's sendExpectationFailed (Date normalised, see norm()). */
#define R417                                                              \
    "HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nDate: D\r\n" \
    "Content-Length: 0\r\n\r\n"
#define R404                                                                \
    "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n" \
    "X-Content-Type-Options: nosniff\r\nDate: D\r\nContent-Length: 19\r\n"  \
    "\r\n404 page not found\n"
#define HELLO                                                        \
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n" \
    "Date: D\r\nContent-Length: 6\r\n\r\nhello\n"

/* A byte string that may hold NULs: the literal and its length. */
#define RAW(s) s, sizeof(s) - 1

/* The server a TCase shares (started by an unchecked fixture, so every
 * forked test talks to the same process). */
static wt_server_t srv;

/* ---- memory: what a test allocates is freed by teardown ---------------- */

static void **heap;
static size_t nheap, capheap;

static void *keep(void *p)
{
    ck_assert_ptr_nonnull(p);
    if (nheap == capheap) {
        capheap = capheap ? capheap * 2 : 256;
        heap = realloc(heap, capheap * sizeof(*heap));
        ck_assert_ptr_nonnull(heap);
    }
    heap[nheap++] = p;
    return p;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, f);
    ck_assert_int_ge(vasprintf(&s, f, ap), 0);
    va_end(ap);
    return keep(s);
}

/* A string of n copies of ch. */
static char *repeat(char ch, size_t n)
{
    char *s = keep(malloc(n + 1));

    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a client connection that reads one framed response at a time ----- */

typedef struct {
    int fd;
    char *buf; /* received and not yet handed out */
    size_t len, cap;
    int eof; /* the peer closed (or reset) */
} conn_t;

/* Open connections, closed by teardown whatever the test's outcome. */
static conn_t *conns[64];
static int nconns;

static void conn_close(conn_t *c)
{
    int i;

    for (i = 0; i < nconns; i++) {
        if (conns[i] == c) {
            conns[i] = conns[--nconns];
            break;
        }
    }
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    free(c);
}

static int server_port(void)
{
    ck_assert_msg(srv.port > 0, "the TCase's weftd did not start");
    return srv.port;
}

static conn_t *conn_open_port(int port)
{
    conn_t *c = calloc(1, sizeof(*c));

    ck_assert_ptr_nonnull(c);
    ck_assert_int_lt(nconns, (int)(sizeof(conns) / sizeof(conns[0])));
    conns[nconns++] = c;
    c->cap = 65536;
    c->buf = malloc(c->cap);
    ck_assert_ptr_nonnull(c->buf);
    c->fd = wt_connect(port, WAIT_MS);
    ck_assert_msg(c->fd >= 0, "cannot connect to port %d", port);
    return c;
}

static conn_t *conn_open(void)
{
    return conn_open_port(server_port());
}

static void conn_send(conn_t *c, const void *raw, size_t n)
{
    ck_assert_msg(wt_send(c->fd, raw, n) == 0, "send failed: %s",
                  strerror(errno));
}

static void conn_sends(conn_t *c, const char *s)
{
    conn_send(c, s, strlen(s));
}

/* One read, waiting until deadline: 1 with new bytes, 0 at EOF or reset,
 * -1 when the deadline passed. */
static int conn_fill(conn_t *c, long long deadline)
{
    for (;;) {
        struct pollfd pf = { c->fd, POLLIN, 0 };
        long long left = deadline - now_ms();
        ssize_t got;

        if (left <= 0)
            return -1;
        if (poll(&pf, 1, (int)left) <= 0)
            continue;
        if (c->cap - c->len < 16384) {
            c->cap *= 2;
            c->buf = realloc(c->buf, c->cap);
            ck_assert_ptr_nonnull(c->buf);
        }
        got = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            c->eof = 1;
            return 0;
        }
        c->len += (size_t)got;
        return 1;
    }
}

/* Takes the first n buffered bytes out as a NUL-terminated string. */
static char *conn_take(conn_t *c, size_t n)
{
    char *s = keep(malloc(n + 1));

    memcpy(s, c->buf, n);
    s[n] = '\0';
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    return s;
}

/* The value of header name in the head [h, h + n), or NULL. */
static const char *head_field(const char *h, size_t n, const char *name,
                              size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = h, *end = h + n;

    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (eol == NULL)
            break;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 &&
            p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && *v == ' ')
                v++;
            *vlen = (size_t)(eol - v);
            return v;
        }
        p = eol + 2;
    }
    return NULL;
}

/*
 * How many buffered bytes make up the first response, or 0 while it is
 * incomplete: Content-Length, chunked (trailers allowed) or, without
 * either, everything up to the close.
 */
static size_t frame_end(conn_t *c)
{
    const char *e = memmem(c->buf, c->len, "\r\n\r\n", 4);
    size_t head, vlen;
    const char *v;
    int code;

    if (e == NULL)
        return 0;
    head = (size_t)(e - c->buf) + 4;
    code = c->len > 12 ? atoi(c->buf + 9) : 0;
    if ((code >= 100 && code < 200) || code == 204 || code == 304)
        return head;
    v = head_field(c->buf, head, "Transfer-Encoding", &vlen);
    if (v != NULL && vlen == 7 && strncasecmp(v, "chunked", 7) == 0) {
        size_t pos = head;
        for (;;) {
            const char *eol = memmem(c->buf + pos, c->len - pos, "\r\n", 2);
            unsigned long size;
            if (eol == NULL)
                return 0;
            size = strtoul(c->buf + pos, NULL, 16);
            pos = (size_t)(eol - c->buf) + 2;
            if (size == 0) {
                const char *t;
                if (c->len - pos >= 2 && memcmp(c->buf + pos, "\r\n", 2) == 0)
                    return pos + 2;
                t = memmem(c->buf + pos, c->len - pos, "\r\n\r\n", 4);
                return t ? (size_t)(t - c->buf) + 4 : 0;
            }
            if (c->len < pos + size + 2)
                return 0;
            pos += size + 2;
        }
    }
    v = head_field(c->buf, head, "Content-Length", &vlen);
    if (v != NULL) {
        size_t cl = strtoul(v, NULL, 10);
        return c->len >= head + cl ? head + cl : 0;
    }
    return c->eof ? c->len : 0;
}

/* The next whole response on c, as sent (asserts it came in time). */
static char *conn_response(conn_t *c)
{
    long long deadline = now_ms() + WAIT_MS;

    for (;;) {
        size_t n = frame_end(c);
        if (n > 0)
            return conn_take(c, n);
        if (c->eof || conn_fill(c, deadline) < 0)
            break;
    }
    c->buf[c->len] = '\0';
    ck_abort_msg("no complete response (eof %d); got %zu bytes: '%s'", c->eof,
                 c->len, c->buf);
    return NULL;
}

/* Everything up to the server's close (asserts that it closed). */
static char *conn_rest(conn_t *c)
{
    long long deadline = now_ms() + WAIT_MS;

    while (!c->eof && conn_fill(c, deadline) >= 0)
        ;
    c->buf[c->len] = '\0';
    ck_assert_msg(c->eof, "server did not close within %d ms; got '%s'",
                  WAIT_MS, c->buf);
    return conn_take(c, c->len);
}

/*
 * The response with every Date value replaced by "D", after checking it
 * has the shape of Go's http.TimeFormat ("Mon, 02 Jan 2006 15:04:05 GMT").
 */
static char *norm(const char *resp)
{
    char *out = fmt("%s", resp), *at = out;

    while ((at = strstr(at, "\r\nDate: ")) != NULL) {
        char *v = at + 8;
        ck_assert_msg(strlen(v) >= 31 && v[3] == ',' && v[26] == 'G' &&
                          memcmp(v + 29, "\r\n", 2) == 0,
                      "odd Date in '%s'", resp);
        v[0] = 'D';
        memmove(v + 1, v + 29, strlen(v + 29) + 1);
        at = v;
    }
    return out;
}

/* For long strings: where got first differs from want, with a little
 * context, rather than both whole strings in the failure message. */
static void assert_same(const char *got, const char *want)
{
    size_t i = 0;

    while (got[i] != '\0' && got[i] == want[i])
        i++;
    ck_assert_msg(got[i] == want[i],
                  "differs at byte %zu (got %zu bytes, want %zu): got "
                  "'%.80s' want '%.80s'",
                  i, strlen(got), strlen(want), got + i, want + i);
}

/* A 200 text/plain response as Go frames it, Date normalised. */
static char *ok_text(const char *proto, const char *body, int conn_close_hdr)
{
    return fmt("%s 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Date: D\r\nContent-Length: %zu\r\n%s\r\n%s",
               proto, strlen(body),
               conn_close_hdr ? "Connection: close\r\n" : "", body);
}

/* Sends raw on a new connection and expects exactly want (Date
 * normalised), then the server's close. */
static void expect_refused(const char *raw, size_t n, const char *want)
{
    conn_t *c = conn_open();
    char *got;

    conn_send(c, raw, n);
    got = conn_rest(c);
    ck_assert_str_eq(norm(got), want);
    conn_close(c);
}

/* Sends raw on a new connection and returns the one response (normalised);
 * the connection stays open and is closed here. */
static char *round_trip(const char *raw)
{
    conn_t *c = conn_open();
    char *got;

    conn_sends(c, raw);
    got = norm(conn_response(c));
    conn_close(c);
    return got;
}

/*
 * Sends a large request in 64 KiB pieces, stopping early once the server
 * has answered (it refuses as soon as the limit is passed and stops
 * reading), then reads to the close.  A send timeout bounds every piece.
 */
static char *send_large_then_read(conn_t *c, const char *raw, size_t n)
{
    struct timeval tv = { WAIT_MS / 1000, 0 };
    size_t off = 0;

    ck_assert_int_eq(
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
    while (off < n) {
        struct pollfd pf = { c->fd, POLLIN, 0 };
        size_t piece = n - off < 65536 ? n - off : 65536;
        if (poll(&pf, 1, 0) > 0)
            break; /* answered (or closed) already */
        if (wt_send(c->fd, raw + off, piece) < 0)
            break; /* reset after the answer: read what came */
        off += piece;
    }
    return conn_rest(c);
}

/* ---- fixtures ----------------------------------------------------------- */

static void start_with(const char *extra)
{
    char *body = wt_fmt("LoadModule testapp_module \"%s\"\n"
                        "Handler testapp\n"
                        "ReadHeaderTimeout 30s\n"
                        "%s",
                        wt_testapp(), extra);

    if (wt_server_start(&srv, body) != 0)
        srv.port = 0;
}

static void start_default(void)
{
    start_with("");
}

static void start_small(void)
{
    start_with("MaxHeaderBytes 4K\n");
}

static void stop_server(void)
{
    if (srv.pid > 0)
        wt_server_stop(&srv, SIGTERM, WAIT_MS);
    memset(&srv, 0, sizeof(srv));
    wt_cleanup();
}

/* Frees what keep() holds (a long loop calls it between rounds). */
static void free_kept(void)
{
    while (nheap > 0)
        free(heap[--nheap]);
}

/* Per test: close what is open and free what was kept.  The temporary
 * directories are left to stop_server: they hold the shared server's
 * configuration and log. */
static void teardown(void)
{
    while (nconns > 0)
        conn_close(conns[0]);
    free_kept();
    free(heap);
    heap = NULL;
    capheap = 0;
}

/* ---- the request line --------------------------------------------------- */

START_TEST(token_methods)
{
    /* Any token is a method (Go's validMethod); the handler sees it as
     * sent, and the connection stays usable after each. */
    static const char *const methods[] = { "FOO", "PROPFIND", "M-SEARCH", "get",
                                           "!#$%&'*+-.^_`|~0aZ" };
    conn_t *c = conn_open();
    size_t i;

    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        char *body = fmt("method %s\nuri /reqinfo\nproto HTTP/1.1\n"
                         "host h\n",
                         methods[i]);
        conn_sends(c,
                   fmt("%s /reqinfo HTTP/1.1\r\nHost: h\r\n\r\n", methods[i]));
        ck_assert_str_eq(norm(conn_response(c)), ok_text("HTTP/1.1", body, 0));
    }
    conn_sends(c, "FOO /hello HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
}
END_TEST

START_TEST(origin_form_with_query)
{
    /* The handler dispatches on the decoded path; uri is as sent. */
    ck_assert_str_eq(
        round_trip("GET /reqinfo?a=1&b=%20x&c HTTP/1.1\r\nHost: h\r\n\r\n"),
        ok_text("HTTP/1.1",
                "method GET\nuri /reqinfo?a=1&b=%20x&c\nproto HTTP/1.1\n"
                "host h\n",
                0));
    ck_assert_str_eq(
        round_trip("GET /req%69nfo?q=%2F HTTP/1.1\r\nHost: h\r\n\r\n"),
        ok_text("HTTP/1.1",
                "method GET\nuri /req%69nfo?q=%2F\nproto HTTP/1.1\n"
                "host h\n",
                0));
}
END_TEST

START_TEST(absolute_form_sets_host)
{
    /* Go's readRequest: the URL's host wins over the Host field, which
     * must still be there on HTTP/1.1. */
    ck_assert_str_eq(
        round_trip("GET http://example.org:8080/reqinfo?x=1 HTTP/1.1\r\n"
                   "Host: other.example\r\n\r\n"),
        ok_text("HTTP/1.1",
                "method GET\nuri http://example.org:8080/reqinfo?x=1\n"
                "proto HTTP/1.1\nhost example.org:8080\n",
                0));
    ck_assert_str_eq(
        round_trip("GET HTTP://u:p@example.net/reqinfo HTTP/1.1\r\n"
                   "Host: other.example\r\n\r\n"),
        ok_text("HTTP/1.1",
                "method GET\nuri HTTP://u:p@example.net/reqinfo\n"
                "proto HTTP/1.1\nhost example.net\n",
                0));
    ck_assert_str_eq(
        round_trip("GET http://[::1]:81/reqinfo HTTP/1.0\r\n\r\n"),
        ok_text("HTTP/1.0",
                "method GET\nuri http://[::1]:81/reqinfo\nproto HTTP/1.0\n"
                "host [::1]:81\n",
                0));
    expect_refused(RAW("GET http://example.org/reqinfo HTTP/1.1\r\n\r\n"),
                   R400_WHY("missing required Host header"));
}
END_TEST

START_TEST(options_asterisk)
{
    /* Go's globalOptionsHandler: 200, Content-Length 0, keep-alive. */
    conn_t *c = conn_open();

    conn_sends(c, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)),
                     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nDate: D\r\n\r\n");
    conn_sends(c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
}
END_TEST

START_TEST(asterisk_other_methods)
{
    /* "*" is only for OPTIONS: 400 with Connection: close (HTTP/1.1) and
     * the connection ends (ServeMux's answer). */
    expect_refused(RAW("GET * HTTP/1.1\r\nHost: h\r\n\r\n"),
                   "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
                   "Date: D\r\nContent-Length: 0\r\n\r\n");
    expect_refused(RAW("POST * HTTP/1.1\r\nHost: h\r\n\r\n"),
                   "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
                   "Date: D\r\nContent-Length: 0\r\n\r\n");
    expect_refused(RAW("GET * HTTP/1.0\r\n\r\n"),
                   "HTTP/1.0 400 Bad Request\r\nDate: D\r\n"
                   "Content-Length: 0\r\n\r\n");
}
END_TEST

START_TEST(connect_forms)
{
    /* CONNECT host:port (authority-form) needs no Host field and reaches
     * the handler with an empty path: testapp's 404.  A CONNECT whose
     * target starts with '/' is parsed as a path (net/rpc's use). */
    conn_t *c = conn_open();

    conn_sends(c, "CONNECT example.com:443 HTTP/1.1\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), R404);
    conn_sends(c, "CONNECT /reqinfo HTTP/1.1\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)),
                     ok_text("HTTP/1.1",
                             "method CONNECT\nuri /reqinfo\nproto HTTP/1.1\n"
                             "host \n",
                             0));
    conn_sends(c, "CONNECT /reqinfo HTTP/1.1\r\nHost: proxy:3128\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)),
                     ok_text("HTTP/1.1",
                             "method CONNECT\nuri /reqinfo\nproto HTTP/1.1\n"
                             "host proxy:3128\n",
                             0));
    /* a port must be digits (url.validOptionalPort) */
    expect_refused(RAW("CONNECT example.com:https HTTP/1.1\r\n\r\n"), R400);
}
END_TEST

START_TEST(http10_and_http11)
{
    conn_t *c = conn_open();

    /* HTTP/1.0 needs no Host; the answer is HTTP/1.0 and the connection
     * closes after it (no keep-alive asked). */
    conn_sends(c, "GET /reqinfo HTTP/1.0\r\n\r\n");
    ck_assert_str_eq(
        norm(conn_rest(c)),
        ok_text("HTTP/1.0", "method GET\nuri /reqinfo\nproto HTTP/1.0\nhost \n",
                0));
    conn_close(c);

    /* HTTP/1.1 keeps the connection. */
    c = conn_open();
    conn_sends(c, "GET /reqinfo HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(
        norm(conn_response(c)),
        ok_text("HTTP/1.1",
                "method GET\nuri /reqinfo\nproto HTTP/1.1\nhost h\n", 0));
    conn_sends(c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
}
END_TEST

START_TEST(http12_served_as_11)
{
    /* Go's http1ServerSupportsRequest takes any 1.x: served with
     * HTTP/1.1 semantics (keep-alive), proto as sent. */
    conn_t *c = conn_open();

    conn_sends(c, "GET /reqinfo HTTP/1.2\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(
        norm(conn_response(c)),
        ok_text("HTTP/1.1",
                "method GET\nuri /reqinfo\nproto HTTP/1.2\nhost h\n", 0));
    conn_sends(c, "GET /hello HTTP/1.9\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
}
END_TEST

static const char *const unsupported[] = { "HTTP/2.0", "HTTP/0.9", "HTTP/3.0",
                                           "HTTP/9.9", "HTTP/0.0" };

START_TEST(unsupported_versions)
{
    char *raw = fmt("GET /hello %s\r\nHost: h\r\n\r\n", unsupported[_i]);

    expect_refused(raw, strlen(raw), R505);
}
END_TEST

START_TEST(version_checked_after_fields)
{
    /* Go reads the fields before refusing the version: a bad field wins
     * with 400, a missing Host does not matter for HTTP/2.0 (505). */
    expect_refused(RAW("GET /hello HTTP/2.0\r\nBad Field\r\n\r\n"), R400);
    expect_refused(RAW("GET /hello HTTP/2.0\r\n\r\n"), R505);
}
END_TEST

/* Malformed request lines: Go's plain 400, then the close. */
static const struct {
    const char *what;
    const char *raw;
    size_t len;
} bad_lines[] = {
    { "method only", RAW("GET\r\nHost: h\r\n\r\n") },
    { "no version", RAW("GET /hello\r\nHost: h\r\n\r\n") },
    { "two spaces after method",
      RAW("GET  /hello HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "two spaces before version",
      RAW("GET /hello  HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "empty target", RAW("GET  HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "trailing space", RAW("GET /hello HTTP/1.1 \r\nHost: h\r\n\r\n") },
    { "leading space", RAW(" GET /hello HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "tabs", RAW("GET\t/hello\tHTTP/1.1\r\nHost: h\r\n\r\n") },
    { "HTTP/1.10", RAW("GET /hello HTTP/1.10\r\nHost: h\r\n\r\n") },
    { "HTTP/x.y", RAW("GET /hello HTTP/x.y\r\nHost: h\r\n\r\n") },
    { "HTTP/1", RAW("GET /hello HTTP/1\r\nHost: h\r\n\r\n") },
    { "HTTP/01.1", RAW("GET /hello HTTP/01.1\r\nHost: h\r\n\r\n") },
    { "HTTP/1.1.1", RAW("GET /hello HTTP/1.1.1\r\nHost: h\r\n\r\n") },
    { "lower-case http", RAW("GET /hello http/1.1\r\nHost: h\r\n\r\n") },
    { "not HTTP", RAW("GET /hello FTP/1.1\r\nHost: h\r\n\r\n") },
    { "method not a token", RAW("G(T /hello HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "NUL in method", RAW("GE\0T /hello HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "SOH in target", RAW("GET /he\001llo HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "DEL in target", RAW("GET /he\177llo HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "CR in target", RAW("GET /he\rllo HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "CTL in query", RAW("GET /hello?a=\033 HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "bad escape %zz", RAW("GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "short escape %4", RAW("GET /a%4 HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "bare %", RAW("GET /a% HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "escaped NUL", RAW("GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "relative target", RAW("GET hello HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "unclosed IPv6 literal",
      RAW("GET http://[::1/hello HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "named port",
      RAW("GET http://h:http/hello HTTP/1.1\r\nHost: h\r\n\r\n") },
    { "missing scheme", RAW("GET :/hello HTTP/1.1\r\nHost: h\r\n\r\n") },
};

#define N_BAD_LINES ((int)(sizeof(bad_lines) / sizeof(bad_lines[0])))

START_TEST(malformed_request_line)
{
    conn_t *c = conn_open();
    char *got;

    conn_send(c, bad_lines[_i].raw, bad_lines[_i].len);
    got = conn_rest(c);
    ck_assert_msg(strcmp(got, R400) == 0, "%s: got '%s'", bad_lines[_i].what,
                  got);
}
END_TEST

START_TEST(leading_empty_lines_skipped)
{
    /* RFC 9112 §2.2 (the contract's deliberate difference from Go):
     * empty lines before a request line, also between pipelined ones. */
    conn_t *c = conn_open();

    conn_sends(c, "\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
    conn_sends(c, "\r\nGET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
}
END_TEST

START_TEST(cut_off_then_eof)
{
    /* The client half-closes mid-request.  Go answers 400 both when the
     * request line is cut (it parses as malformed) and when the fields
     * are (readRequest's io.ErrUnexpectedEOF); nothing at all is a
     * silent close. */
    static const char *const cuts[] = {
        "GET /hel",
        "GET /hello HTTP/1.1\r\n",
        "GET /hello HTTP/1.1\r\nHost: h\r\n",
        "GET /hello HTTP/1.1\r\nHost: h\r\nX-Cut: va",
    };
    conn_t *c;
    size_t i;

    for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        char *got;
        c = conn_open();
        conn_sends(c, cuts[i]);
        ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
        got = conn_rest(c);
        ck_assert_msg(strcmp(got, R400) == 0, "cut '%s': got '%s'", cuts[i],
                      got);
        conn_close(c);
    }
    c = conn_open();
    ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
    ck_assert_str_eq(conn_rest(c), "");
}
END_TEST

/* ---- header fields ------------------------------------------------------ */

START_TEST(header_table)
{
    /* Names lower-cased and sorted by /reqinfo, each name's values in the
     * order received; values trimmed; obs-fold joined with one space;
     * empty values kept; Host and Transfer-Encoding not in the table. */
    conn_t *c = conn_open();

    conn_sends(c, "GET /reqinfo HTTP/1.1\r\n"
                  "X-B: 2\r\n"
                  "x-a: first\r\n"
                  "Host: example.com\r\n"
                  "X-A: second\r\n"
                  "X-Trim: \t  padded value \t \r\n"
                  "X-Empty:\r\n"
                  "X-Blank:    \r\n"
                  "X-Fold: line one  \r\n"
                  "   line two\r\n"
                  "\tline three\r\n"
                  "X-A:third\r\n"
                  "X-Obs-Text: caf\xc3\xa9\r\n"
                  "Accept: */*\r\n"
                  "\r\n");
    ck_assert_str_eq(norm(conn_response(c)),
                     ok_text("HTTP/1.1",
                             "method GET\n"
                             "uri /reqinfo\n"
                             "proto HTTP/1.1\n"
                             "host example.com\n"
                             "h:accept: */*\n"
                             "h:x-a: first\n"
                             "h:x-a: second\n"
                             "h:x-a: third\n"
                             "h:x-b: 2\n"
                             "h:x-blank: \n"
                             "h:x-empty: \n"
                             "h:x-fold: line one line two line three\n"
                             "h:x-obs-text: caf\xc3\xa9\n"
                             "h:x-trim: padded value\n",
                             0));
}
END_TEST

START_TEST(case_insensitive_lookup)
{
    /* The server's own lookups ignore case: Host, Content-Length,
     * Connection, Expect. */
    conn_t *c = conn_open();

    conn_sends(c, "GET /reqinfo HTTP/1.1\r\nhOsT: Example.COM\r\n\r\n");
    ck_assert_str_eq(
        norm(conn_response(c)),
        ok_text("HTTP/1.1",
                "method GET\nuri /reqinfo\nproto HTTP/1.1\nhost Example.COM\n",
                0));
    conn_sends(c, "POST /echo HTTP/1.1\r\nHOST: h\r\n"
                  "content-LENGTH: 5\r\n\r\nhello");
    ck_assert_str_eq(norm(conn_response(c)),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                     "\r\nDate: D\r\nContent-Length: 5\r\n\r\nhello");
    conn_sends(c,
               "GET /hello HTTP/1.1\r\nhost: h\r\nCONNECTION: Close\r\n\r\n");
    ck_assert_str_eq(norm(conn_rest(c)),
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
                     "charset=utf-8\r\nDate: D\r\nContent-Length: 6\r\n"
                     "Connection: close\r\n\r\nhello\n");
    conn_close(c);
    expect_refused(RAW("GET /hello HTTP/1.1\r\nHost: h\r\neXpEcT: foo\r\n\r\n"),
                   R417);
}
END_TEST

START_TEST(host_required_on_http11)
{
    expect_refused(RAW("GET /hello HTTP/1.1\r\n\r\n"),
                   R400_WHY("missing required Host header"));
    expect_refused(RAW("GET /hello HTTP/1.1\r\nX-Host: h\r\n\r\n"),
                   R400_WHY("missing required Host header"));
    /* HTTP/1.0 without Host is fine: host is "" */
    ck_assert_str_eq(
        norm(keep(wt_request(server_port(), "GET /reqinfo HTTP/1.0\r\n\r\n",
                             WAIT_MS))),
        ok_text("HTTP/1.0", "method GET\nuri /reqinfo\nproto HTTP/1.0\nhost \n",
                0));
    /* an empty Host is present, and valid */
    ck_assert_str_eq(round_trip("GET /reqinfo HTTP/1.1\r\nHost:\r\n\r\n"),
                     ok_text("HTTP/1.1",
                             "method GET\nuri /reqinfo\nproto HTTP/1.1\n"
                             "host \n",
                             0));
}
END_TEST

START_TEST(too_many_host_fields)
{
    expect_refused(RAW("GET /hello HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
                   R400_WHY("too many Host headers"));
    expect_refused(RAW("GET /hello HTTP/1.1\r\nHost: a\r\nX: y\r\n"
                       "host: b\r\n\r\n"),
                   R400_WHY("too many Host headers"));
    /* the absolute-form does not excuse a second Host field */
    expect_refused(RAW("GET http://a/hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
                       "\r\n"),
                   R400_WHY("too many Host headers"));
}
END_TEST

/* Host values httpguts.ValidHostHeader refuses. */
static const char *const bad_hosts[] = {
    "exa mple.com", "exa/mple.com",   "a\tb", "<x>",  "a@b",
    "a\"b",         "ex\xc3\xa9.com", "a{b}", "a\\b", "a^b",
};

#define N_BAD_HOSTS ((int)(sizeof(bad_hosts) / sizeof(bad_hosts[0])))

START_TEST(malformed_host)
{
    char *raw = fmt("GET /hello HTTP/1.1\r\nHost: %s\r\n\r\n", bad_hosts[_i]);

    expect_refused(raw, strlen(raw), R400_WHY("malformed Host header"));
}
END_TEST

START_TEST(valid_hosts)
{
    static const char *const hosts[] = { "example.com:8080", "[::1]:80",
                                         "xn--bcher-kva.example", "a_b-c~d",
                                         "h%41!$&'()*+,;=" };
    conn_t *c = conn_open();
    size_t i;

    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        conn_sends(c,
                   fmt("GET /reqinfo HTTP/1.1\r\nHost: %s\r\n\r\n", hosts[i]));
        ck_assert_str_eq(norm(conn_response(c)),
                         ok_text("HTTP/1.1",
                                 fmt("method GET\nuri /reqinfo\n"
                                     "proto HTTP/1.1\nhost %s\n",
                                     hosts[i]),
                                 0));
    }
}
END_TEST

/* Field lines that are not `token ":" value`, or values with control
 * bytes: a plain 400 (textproto's "malformed MIME header"). */
static const struct {
    const char *what;
    const char *raw;
    size_t len;
} bad_fields[] = {
    { "space before colon", RAW("GET /hello HTTP/1.1\r\nHost : h\r\n\r\n") },
    { "space before colon, other field",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX-A : v\r\n\r\n") },
    { "tab before colon",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX\t: v\r\n\r\n") },
    { "space in name",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX A: v\r\n\r\n") },
    { "parenthesis in name",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX(A): v\r\n\r\n") },
    { "quote in name",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX\"A: v\r\n\r\n") },
    { "brace in name",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX{}: v\r\n\r\n") },
    { "slash in name",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX/A: v\r\n\r\n") },
    { "NUL in name", RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX\0A: v\r\n\r\n") },
    { "UTF-8 in name",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: v\r\n\r\n") },
    { "empty name", RAW("GET /hello HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n") },
    { "no colon", RAW("GET /hello HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n") },
    { "first line folded",
      RAW("GET /hello HTTP/1.1\r\n X: v\r\nHost: h\r\n\r\n") },
    { "SOH in value",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX: a\001b\r\n\r\n") },
    { "NUL in value",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n") },
    { "DEL in value",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX: a\177b\r\n\r\n") },
    { "ESC in value",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX: a\033b\r\n\r\n") },
    { "bare CR in value",
      RAW("GET /hello HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n") },
    { "CTL in Host value", RAW("GET /hello HTTP/1.1\r\nHost: h\001\r\n\r\n") },
};

#define N_BAD_FIELDS ((int)(sizeof(bad_fields) / sizeof(bad_fields[0])))

START_TEST(malformed_fields)
{
    conn_t *c = conn_open();
    char *got;

    conn_send(c, bad_fields[_i].raw, bad_fields[_i].len);
    got = conn_rest(c);
    ck_assert_msg(strcmp(got, R400) == 0, "%s: got '%s'", bad_fields[_i].what,
                  got);
}
END_TEST

/* Bare LF line ends: llhttp in strict mode refuses them (a deliberate
 * choice: Go accepts them). */
static const char *const bare_lf[] = {
    "GET /hello HTTP/1.1\nHost: h\r\n\r\n",
    "GET /hello HTTP/1.1\r\nHost: h\n\r\n",
    "GET /hello HTTP/1.1\r\nHost: h\r\n\n",
    "GET /hello HTTP/1.1\nHost: h\n\n",
    "GET /hello HTTP/1.1\r\nHost: h\r\nX: a\nY: b\r\n\r\n",
};

#define N_BARE_LF ((int)(sizeof(bare_lf) / sizeof(bare_lf[0])))

START_TEST(bare_lf_refused)
{
    expect_refused(bare_lf[_i], strlen(bare_lf[_i]), R400);
}
END_TEST

/* ---- MaxHeaderBytes ----------------------------------------------------- */

START_TEST(small_limit_header_over)
{
    /* MaxHeaderBytes 4K, one 16 KiB field: 431, then the close. */
    char *raw = fmt("GET /hello HTTP/1.1\r\nHost: h\r\nX-Big: %s\r\n\r\n",
                    repeat('a', 16384));
    conn_t *c = conn_open();

    ck_assert_str_eq(send_large_then_read(c, raw, strlen(raw)), R431);
}
END_TEST

START_TEST(small_limit_many_fields_over)
{
    /* 400 fields of about 40 bytes: the sum counts, not the largest. */
    size_t i, n = 0, cap = 400 * 48 + 64;
    char *raw = keep(malloc(cap));
    conn_t *c = conn_open();

    n += (size_t)sprintf(raw + n, "GET /hello HTTP/1.1\r\nHost: h\r\n");
    for (i = 0; i < 400; i++)
        n += (size_t)sprintf(raw + n, "X-Field-%03zu: 0123456789abcdef012\r\n",
                             i);
    n += (size_t)sprintf(raw + n, "\r\n");
    ck_assert_str_eq(send_large_then_read(c, raw, n), R431);
}
END_TEST

START_TEST(small_limit_request_line_over)
{
    char *raw =
        fmt("GET /hello?%s HTTP/1.1\r\nHost: h\r\n\r\n", repeat('q', 16384));
    conn_t *c = conn_open();

    ck_assert_str_eq(send_large_then_read(c, raw, strlen(raw)), R431);
}
END_TEST

START_TEST(small_limit_under)
{
    /* About 1.5 KiB in all, well under 4 KiB: served, value intact. */
    char *v = repeat('v', 1200);
    char *raw = fmt("GET /reqinfo?%s HTTP/1.1\r\nHost: h\r\nX-Big: %s\r\n\r\n",
                    repeat('q', 100), v);

    ck_assert_str_eq(round_trip(raw),
                     ok_text("HTTP/1.1",
                             fmt("method GET\nuri /reqinfo?%s\n"
                                 "proto HTTP/1.1\nhost h\nh:x-big: %s\n",
                                 repeat('q', 100), v),
                             0));
}
END_TEST

START_TEST(default_limit_headers_over)
{
    /* The default 1 MiB, with about 1.5 MiB of fields sent in pieces. */
    size_t i, n = 0, lines = 1536, cap = lines * 1040 + 64;
    char *raw = keep(malloc(cap)), *v = repeat('f', 1000);
    conn_t *c = conn_open();

    n += (size_t)sprintf(raw + n, "GET /hello HTTP/1.1\r\nHost: h\r\n");
    for (i = 0; i < lines; i++)
        n += (size_t)sprintf(raw + n, "X-Filler-%04zu: %s\r\n", i, v);
    n += (size_t)sprintf(raw + n, "\r\n");
    ck_assert_str_eq(send_large_then_read(c, raw, n), R431);
}
END_TEST

START_TEST(default_limit_request_line_over)
{
    char *raw = fmt("GET /hello?%s HTTP/1.1\r\nHost: h\r\n\r\n",
                    repeat('q', 1536 * 1024));
    conn_t *c = conn_open();

    ck_assert_str_eq(send_large_then_read(c, raw, strlen(raw)), R431);
}
END_TEST

START_TEST(default_limit_large_fields_ok)
{
    /* 256 KiB of fields, each far larger than the 16 KiB read buffer,
     * well under 1 MiB: served with every value intact.  HTTP/1.0, so
     * the long answer is close-delimited and compares as one string. */
    char *a = repeat('a', 64 * 1024), *b = repeat('b', 96 * 1024);
    char *d = repeat('d', 96 * 1024);
    char *raw = fmt("GET /reqinfo HTTP/1.0\r\nX-A: %s\r\nX-B: %s\r\n"
                    "X-D: %s\r\n\r\n",
                    a, b, d);
    conn_t *c = conn_open();

    conn_sends(c, raw);
    assert_same(norm(conn_rest(c)),
                fmt("HTTP/1.0 200 OK\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n"
                    "Date: D\r\n\r\n"
                    "method GET\nuri /reqinfo\nproto HTTP/1.0\nhost \n"
                    "h:x-a: %s\nh:x-b: %s\nh:x-d: %s\n",
                    a, b, d));
}
END_TEST

/* ---- Transfer-Encoding and Content-Length -------------------------------- */

static const struct {
    const char *what;
    const char *raw;
    size_t len;
    const char *want;
} framing[] = {
    /* the contract's stricter table: 400 and close */
    { "TE then CL",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
          "Content-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
      R400 },
    { "CL then TE",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
          "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
      R400 },
    { "duplicate Content-Length",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
          "Content-Length: 5\r\n\r\nhello"),
      R400 },
    { "TE on HTTP/1.0",
      RAW("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5\r\nhello\r\n0\r\n\r\n"),
      R400 },
    { "chunked not last",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\n"
          "Transfer-Encoding: chunked, gzip\r\n\r\n"),
      R400 },
    /* Go's unsupportedTEError: 501 */
    { "gzip",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"),
      R501 },
    { "identity",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\n"
          "Transfer-Encoding: identity\r\n\r\n"),
      R501 },
    { "gzip, chunked",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\n"
          "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
      R501 },
    { "two TE fields",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
          "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
      R501 },
    { "two TE fields, chunked last",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
          "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
      R501 },
    /* Go's parseContentLength: digits only, no overflow */
    { "CL +5",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello"),
      R400 },
    { "CL -1",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\nhello"),
      R400 },
    { "CL abc",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n"
          "hello"),
      R400 },
    { "CL 0x5",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\n"
          "hello"),
      R400 },
    { "CL 5 5",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\n"
          "hello"),
      R400 },
    { "CL list",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n"
          "hello"),
      R400 },
    { "CL empty",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\nhello"),
      R400 },
    { "CL overflow",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\n"
          "Content-Length: 99999999999999999999\r\n\r\nhello"),
      R400 },
    { "CL 2^63",
      RAW("POST /echo HTTP/1.1\r\nHost: h\r\n"
          "Content-Length: 9223372036854775808\r\n\r\nhello"),
      R400 },
};

#define N_FRAMING ((int)(sizeof(framing) / sizeof(framing[0])))

START_TEST(framing_refused)
{
    conn_t *c = conn_open();
    char *got;

    conn_send(c, framing[_i].raw, framing[_i].len);
    got = conn_rest(c);
    ck_assert_msg(strcmp(got, framing[_i].want) == 0, "%s: got '%s'",
                  framing[_i].what, got);
}
END_TEST

START_TEST(framing_accepted)
{
    /* What the rules let through: chunked in any case, a padded
     * Content-Length, and the connection stays usable. */
    static const char echo5[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        "Date: D\r\nContent-Length: 5\r\n\r\nhello";
    conn_t *c = conn_open();

    conn_sends(c, "POST /echo HTTP/1.1\r\nHost: h\r\n"
                  "Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), echo5);
    conn_sends(c, "POST /echo HTTP/1.1\r\nHost: h\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n"
                  "0\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), echo5);
    conn_sends(c, "POST /echo HTTP/1.1\r\nHost: h\r\n"
                  "Content-Length:   5  \r\n\r\nhello");
    ck_assert_str_eq(norm(conn_response(c)), echo5);
    conn_sends(c, "POST /echo HTTP/1.1\r\nHost: h\r\n"
                  "Content-Length: 00005\r\n\r\nhello");
    ck_assert_str_eq(norm(conn_response(c)), echo5);
    conn_sends(c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
}
END_TEST

/* ---- Expect ------------------------------------------------------------- */

static const struct {
    const char *raw;
    const char *want;
} expects[] = {
    { "GET /hello HTTP/1.1\r\nHost: h\r\nExpect: foo\r\n\r\n", R417 },
    { "POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
      "Content-Length: 5\r\n\r\n",
      R417 },
    { "POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
      "Transfer-Encoding: chunked\r\n\r\n",
      R417 },
    /* an HTTP/1.0 request gets an HTTP/1.0 status line */
    { "GET /hello HTTP/1.0\r\nExpect: something-else\r\n\r\n",
      "HTTP/1.0 417 Expectation Failed\r\nConnection: close\r\nDate: D\r\n"
      "Content-Length: 0\r\n\r\n" },
};

#define N_EXPECTS ((int)(sizeof(expects) / sizeof(expects[0])))

START_TEST(expect_unclaimed)
{
    /* No module claims these (mod_continue is not loaded): Go's
     * sendExpectationFailed, and the connection closes. */
    expect_refused(expects[_i].raw, strlen(expects[_i].raw), expects[_i].want);
}
END_TEST

START_TEST(expect_empty_ignored)
{
    /* An empty Expect is no expectation (Go's Header.get(...) != ""). */
    ck_assert_str_eq(
        round_trip("GET /hello HTTP/1.1\r\nHost: h\r\nExpect:\r\n\r\n"), HELLO);
}
END_TEST

/* ---- pipelining ---------------------------------------------------------- */

START_TEST(pipelined_in_order)
{
    /* One write, four requests: four answers in order, on one
     * connection (the same conn id both times). */
    conn_t *c = conn_open();
    char *first, *id;

    conn_sends(c, "GET /conn-id HTTP/1.1\r\nHost: h\r\n\r\n"
                  "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n"
                  "GET /reqinfo?n=3 HTTP/1.1\r\nHost: h\r\nX-N: 3\r\n\r\n"
                  "GET /conn-id HTTP/1.1\r\nHost: h\r\n\r\n");
    first = norm(conn_response(c));
    id = strstr(first, "\r\n\r\nconn ");
    ck_assert_msg(id != NULL, "not a conn-id answer: '%s'", first);
    id += 4;
    ck_assert_str_eq(first, ok_text("HTTP/1.1", id, 0));
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
    ck_assert_str_eq(norm(conn_response(c)),
                     ok_text("HTTP/1.1",
                             "method GET\nuri /reqinfo?n=3\nproto HTTP/1.1\n"
                             "host h\nh:x-n: 3\n",
                             0));
    ck_assert_str_eq(norm(conn_response(c)), ok_text("HTTP/1.1", id, 0));
}
END_TEST

START_TEST(pipelined_conn_id)
{
    /* Three /conn-id in one write share an id; another connection's
     * differs. */
    conn_t *c = conn_open(), *other;
    char *a, *b, *d, *e;

    conn_sends(c, "GET /conn-id HTTP/1.1\r\nHost: h\r\n\r\n"
                  "GET /conn-id HTTP/1.1\r\nHost: h\r\n\r\n"
                  "GET /conn-id HTTP/1.1\r\nHost: h\r\n\r\n");
    a = norm(conn_response(c));
    b = norm(conn_response(c));
    d = norm(conn_response(c));
    ck_assert_ptr_nonnull(strstr(a, "\r\n\r\nconn "));
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(a, d);
    other = conn_open();
    conn_sends(other, "GET /conn-id HTTP/1.1\r\nHost: h\r\n\r\n");
    e = norm(conn_response(other));
    ck_assert_ptr_nonnull(strstr(e, "\r\n\r\nconn "));
    ck_assert_str_ne(a, e);
}
END_TEST

START_TEST(pipelined_after_body)
{
    /* The next request's bytes arrive with the body of the previous one:
     * they stay buffered and are served next. */
    conn_t *c = conn_open();

    conn_sends(c, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"
                  "helloGET /hello HTTP/1.1\r\nHost: h\r\n\r\n"
                  "POST /echo HTTP/1.1\r\nHost: h\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                  "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                     "\r\nDate: D\r\nContent-Length: 5\r\n\r\nhello");
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
    ck_assert_str_eq(norm(conn_response(c)),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                     "\r\nDate: D\r\nContent-Length: 3\r\n\r\nabc");
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
}
END_TEST

START_TEST(pipelined_then_bad)
{
    /* A good request, then a malformed one in the same write: the first
     * is answered, then the 400, then the close; nothing after it runs. */
    conn_t *c = conn_open();

    conn_sends(c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n"
                  "GET /hello HTTP/1.1 junk\r\nHost: h\r\n\r\n"
                  "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
    ck_assert_str_eq(conn_rest(c), R400);
}
END_TEST

/* A request with a query, an obs-fold, padding and a split-prone value,
 * and its /reqinfo answer. */
static const char split_req[] = "GET /reqinfo?q=1 HTTP/1.1\r\n"
                                "Host: h\r\n"
                                "X-Split: abcd\r\n"
                                "X-Fold: a\r\n"
                                " b\r\n"
                                "X-Pad: v  \r\n"
                                "\r\n";
static const char split_body[] = "method GET\nuri /reqinfo?q=1\n"
                                 "proto HTTP/1.1\nhost h\n"
                                 "h:x-fold: a b\nh:x-pad: v\nh:x-split: abcd\n";

START_TEST(split_at_every_byte)
{
    /* The same request in two writes, cut at each byte in turn, on one
     * keep-alive connection: every cut parses alike (a value cut in two
     * is not an obs-fold; CR and LF may arrive apart). */
    conn_t *c = conn_open();
    size_t k, n = sizeof(split_req) - 1;
    char *want = ok_text("HTTP/1.1", split_body, 0);
    int pass;

    /* Whether the server reads the two writes apart is up to the
     * scheduler, so each cut is tried a few times (no sleeps). */
    for (pass = 0; pass < 3; pass++) {
        for (k = 1; k < n; k++) {
            char *got;
            conn_send(c, split_req, k);
            conn_send(c, split_req + k, n - k);
            got = norm(conn_response(c));
            ck_assert_msg(strcmp(got, want) == 0, "cut at %zu: '%s'", k, got);
        }
        free_kept();
        want = ok_text("HTTP/1.1", split_body, 0);
    }
}
END_TEST

START_TEST(split_in_three)
{
    static const size_t cuts[][2] = {
        { 3, 20 }, { 14, 30 }, { 25, 26 }, { 40, 48 }, { 47, 60 }, { 59, 71 },
    };
    conn_t *c = conn_open();
    size_t i, n = sizeof(split_req) - 1;
    char *want = ok_text("HTTP/1.1", split_body, 0);

    for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        size_t a = cuts[i][0], b = cuts[i][1];
        ck_assert_uint_lt(b, n);
        conn_send(c, split_req, a);
        conn_send(c, split_req + a, b - a);
        conn_send(c, split_req + b, n - b);
        ck_assert_str_eq(norm(conn_response(c)), want);
    }
}
END_TEST

/* ---- robustness ---------------------------------------------------------- */

/* 2 KiB of field value: well over the burst server's MaxHeaderBytes. */
#define X64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define X512 X64 X64 X64 X64 X64 X64 X64 X64
#define X2K X512 X512 X512 X512

/* The burst's kinds of bad request, each with its exact answer.  Every
 * one is followed by a half-close, so each ends without a timeout. */
static const struct {
    const char *raw;
    size_t len;
    const char *want;
} burst[] = {
    { RAW("GET /hello HTTP/1.1 x\r\nHost: h\r\n\r\n"), R400 },
    { RAW("GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n"), R400 },
    { RAW("GET /a\001 HTTP/1.1\r\nHost: h\r\n\r\n"), R400 },
    { RAW("GET /a%00 HTTP/1.1\r\nHost: h\r\n\r\n"), R400 },
    { RAW("G@T / HTTP/1.1\r\nHost: h\r\n\r\n"), R400 },
    { RAW("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), R505 },
    { RAW("GET / HTTP/1.1\r\n\r\n"), R400_WHY("missing required Host header") },
    { RAW("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
      R400_WHY("too many Host headers") },
    { RAW("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
      R400_WHY("malformed Host header") },
    { RAW("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), R400 },
    { RAW("GET / HTTP/1.1\r\nHost: h\r\nX: \001\r\n\r\n"), R400 },
    { RAW("GET / HTTP/1.1\nHost: h\n\n"), R400 },
    { RAW("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"),
      R501 },
    { RAW("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
          "Content-Length: 3\r\n\r\n"),
      R400 },
    { RAW("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"),
      R400 },
    { RAW("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
          "Content-Length: 1\r\n\r\nx"),
      R400 },
    { RAW("GET / HTTP/1.1\r\nHost: h\r\nExpect: foo\r\n\r\n"), R417 },
    { RAW("GET /hel"), R400 },
    { RAW("GET / HTTP/1.1\r\nHost: h\r\nX-Cut"), R400 },
    { RAW("\026\003\001\000\245\001\000\000\241\003\003"), R400 },
    { RAW("\0\0\0\0\r\n\r\n"), R400 },
    { RAW(""), "" },
    { RAW("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " X2K "\r\n\r\n"), R431 },
};

#define N_BURST ((int)(sizeof(burst) / sizeof(burst[0])))
#define BURST_TOTAL 1000

START_TEST(burst_of_bad_requests)
{
    /* 1,000 bad requests of mixed kinds, each on its own connection: each
     * gets its answer, the server keeps serving, stays alive, and logs no
     * error for any of them.  MaxHeaderBytes is small so the 431 kind is
     * cheap. */
    wt_server_t s;
    conn_t *c;
    char *body, *log, *got;
    int i, status, fds0, fds;

    body = wt_fmt("LoadModule testapp_module \"%s\"\n"
                  "Handler testapp\n"
                  "ReadHeaderTimeout 30s\n"
                  "MaxHeaderBytes 512\n",
                  wt_testapp());
    ck_assert_msg(wt_server_start(&s, body) == 0, "weftd did not start");
    fds0 = wt_server_fds(&s);
    ck_assert_int_gt(fds0, 0);
    for (i = 0; i < BURST_TOTAL; i++) {
        int k = i % N_BURST;
        c = conn_open_port(s.port);
        if (burst[k].len > 0)
            conn_send(c, burst[k].raw, burst[k].len);
        ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
        got = norm(conn_rest(c));
        ck_assert_msg(strcmp(got, burst[k].want) == 0,
                      "request %d (kind %d): got '%s'", i, k, got);
        conn_close(c);
        /* the per-iteration strings would pile up: free them now */
        teardown();
    }
    /* No descriptor leaked: every refused connection's socket is closed
     * once the server's lingering close sees ours. */
    fds = wt_server_wait_fds(&s, fds0, WAIT_MS);
    ck_assert_msg(fds == fds0, "weftd has %d fds open, %d before the burst",
                  fds, fds0);

    c = conn_open_port(s.port);
    conn_sends(c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_str_eq(norm(conn_response(c)), HELLO);
    conn_sends(c, "GET /events?clear=1 HTTP/1.1\r\nHost: h\r\n\r\n");
    got = conn_response(c);
    ck_assert_msg(strncmp(got, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
                      strstr(got, "state 127.0.0.1:") != NULL &&
                      strstr(got, " closed\n") != NULL,
                  "/events: '%.300s'", got);
    conn_close(c);

    ck_assert_int_eq(kill(s.pid, 0), 0);
    ck_assert_int_eq(waitpid(s.pid, &status, WNOHANG), 0);
    log = wt_server_log(&s);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, "[error]") == NULL, "error logged: %s", log);
    ck_assert_msg(strstr(log, "[crit]") == NULL, "crit logged: %s", log);
    ck_assert_int_eq(wt_server_stop(&s, SIGTERM, WAIT_MS), 0);
    log = wt_server_log(&s);
    ck_assert_msg(strstr(log, "[error]") == NULL, "error logged: %s", log);
}
END_TEST

START_TEST(no_error_logged)
{
    /* Runs last in its TCase: every refusal above was the client's
     * mistake, and none may be logged as an error (DESIGN.md). */
    char *log;

    server_port();
    log = wt_server_log(&srv);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, "listening on") != NULL, "log: %s", log);
    ck_assert_msg(strstr(log, "[error]") == NULL, "error logged: %s", log);
    ck_assert_msg(strstr(log, "[crit]") == NULL, "crit logged: %s", log);
}
END_TEST

static void robustness_teardown(void)
{
    teardown();
    wt_cleanup();
}

int main(void)
{
    Suite *s = suite_create("http_request");
    TCase *line = tcase_create("request line");
    TCase *fields = tcase_create("header fields");
    TCase *small = tcase_create("MaxHeaderBytes 4K");
    TCase *dflt = tcase_create("default limit");
    TCase *framing_tc = tcase_create("framing");
    TCase *expect = tcase_create("expect");
    TCase *pipe = tcase_create("pipelining");
    TCase *robust = tcase_create("robustness");
    TCase *shared[] = { line, fields, dflt, framing_tc, expect, pipe };
    SRunner *sr;
    size_t i;
    int failed;

    for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
        tcase_add_unchecked_fixture(shared[i], start_default, stop_server);
        tcase_add_checked_fixture(shared[i], NULL, teardown);
        tcase_set_timeout(shared[i], 60);
        suite_add_tcase(s, shared[i]);
    }
    tcase_add_unchecked_fixture(small, start_small, stop_server);
    tcase_add_checked_fixture(small, NULL, teardown);
    tcase_set_timeout(small, 60);
    suite_add_tcase(s, small);
    tcase_add_checked_fixture(robust, NULL, robustness_teardown);
    tcase_set_timeout(robust, 120);
    suite_add_tcase(s, robust);

    tcase_add_test(line, token_methods);
    tcase_add_test(line, origin_form_with_query);
    tcase_add_test(line, absolute_form_sets_host);
    tcase_add_test(line, options_asterisk);
    tcase_add_test(line, asterisk_other_methods);
    tcase_add_test(line, connect_forms);
    tcase_add_test(line, http10_and_http11);
    tcase_add_test(line, http12_served_as_11);
    tcase_add_loop_test(line, unsupported_versions, 0,
                        (int)(sizeof(unsupported) / sizeof(unsupported[0])));
    tcase_add_test(line, version_checked_after_fields);
    tcase_add_loop_test(line, malformed_request_line, 0, N_BAD_LINES);
    tcase_add_test(line, leading_empty_lines_skipped);
    tcase_add_test(line, cut_off_then_eof);

    tcase_add_test(fields, header_table);
    tcase_add_test(fields, case_insensitive_lookup);
    tcase_add_test(fields, host_required_on_http11);
    tcase_add_test(fields, too_many_host_fields);
    tcase_add_loop_test(fields, malformed_host, 0, N_BAD_HOSTS);
    tcase_add_test(fields, valid_hosts);
    tcase_add_loop_test(fields, malformed_fields, 0, N_BAD_FIELDS);
    tcase_add_loop_test(fields, bare_lf_refused, 0, N_BARE_LF);

    tcase_add_test(small, small_limit_header_over);
    tcase_add_test(small, small_limit_many_fields_over);
    tcase_add_test(small, small_limit_request_line_over);
    tcase_add_test(small, small_limit_under);

    tcase_add_test(dflt, default_limit_headers_over);
    tcase_add_test(dflt, default_limit_request_line_over);
    tcase_add_test(dflt, default_limit_large_fields_ok);

    tcase_add_loop_test(framing_tc, framing_refused, 0, N_FRAMING);
    tcase_add_test(framing_tc, framing_accepted);

    tcase_add_loop_test(expect, expect_unclaimed, 0, N_EXPECTS);
    tcase_add_test(expect, expect_empty_ignored);

    tcase_add_test(pipe, pipelined_in_order);
    tcase_add_test(pipe, pipelined_conn_id);
    tcase_add_test(pipe, pipelined_after_body);
    tcase_add_test(pipe, pipelined_then_bad);
    tcase_add_test(pipe, split_at_every_byte);
    tcase_add_test(pipe, split_in_three);

    tcase_add_test(robust, burst_of_bad_requests);

    for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
        tcase_add_test(shared[i], no_error_logged);
    tcase_add_test(small, no_error_logged);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
