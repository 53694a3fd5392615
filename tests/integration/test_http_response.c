/*
 * test_http_response.c -- the response writer on the wire, against Go's
 * bytes: framing (Content-Length, chunked with bufio's cuts, close-delimited,
 * HEAD, 1xx/204/304), status lines, header hygiene, Date, trailers, flushes,
 * keep-alive and pipelining, aborts and clients that vanish mid-write.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "weft_test.h"

/* Every wait is bounded by this; generous for sanitizer builds. */
#define WAIT_MS 10000

/* Pieces of expected responses.  Date varies: read_response checks it
 * (format and clock) and replaces its value with "DATE". */
#define CT "Content-Type: text/plain; charset=utf-8\r\n"
#define DATE "Date: DATE\r\n"
#define CHUNKED "Transfer-Encoding: chunked\r\n"
#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

/* ---- the shared server --------------------------------------------------- */

/* Started by each TCase's unchecked fixture in Check's parent process, so
 * every (forked) test of the TCase talks to the same weftd. */
static wt_server_t srv;
static int srv_ok;

static void start_server(const char *extra)
{
    char *conf = wt_fmt("LoadModule testapp_module %s\nHandler testapp\n%s",
                        wt_testapp(), extra);

    srv_ok = wt_server_start(&srv, conf) == 0;
    free(conf);
}

static void stop_server(void)
{
    if (srv_ok && wt_server_stop(&srv, SIGTERM, WAIT_MS) != 0)
        fprintf(stderr, "weftd did not stop cleanly; log in %s\n", srv.log);
    free(srv.conf);
    free(srv.log);
    memset(&srv, 0, sizeof(srv));
    srv_ok = 0;
    wt_cleanup();
}

static void setup_default(void)
{
    start_server("");
}

static void setup_buf1k(void)
{
    start_server("ResponseBufferSize 1K\n");
}

static void setup_buf64k(void)
{
    start_server("ResponseBufferSize 64K\n");
}

static void setup_buf512(void)
{
    start_server("ResponseBufferSize 512\n");
}

static void setup_keepalive_off(void)
{
    start_server("KeepAlive off\n");
}

/* ---- what a test allocates, freed by the checked teardown ---------------- */

static void **heap;
static size_t nheap, heapcap;

static void *keep(void *p)
{
    if (nheap == heapcap) {
        heapcap = heapcap ? heapcap * 2 : 256;
        heap = realloc(heap, heapcap * sizeof(*heap));
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

/* n bytes of 'x', as /size writes them. */
static char *xs(size_t n)
{
    char *s = keep(malloc(n + 1));

    memset(s, 'x', n);
    s[n] = '\0';
    return s;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a buffered client connection ---------------------------------------- */

typedef struct {
    int fd;
    char *buf; /* received bytes; [pos, len) not consumed yet */
    size_t len, pos, cap;
    int eof; /* the server closed (FIN or reset) */
} client_t;

static client_t *clients[16];
static int nclients;

static void teardown(void)
{
    while (nclients > 0) {
        client_t *c = clients[--nclients];
        if (c->fd >= 0)
            close(c->fd);
        free(c->buf);
        free(c);
    }
    while (nheap > 0)
        free(heap[--nheap]);
    free(heap);
    heap = NULL;
    heapcap = 0;
}

static client_t *client_new(int fd)
{
    client_t *c = calloc(1, sizeof(*c));

    ck_assert_ptr_nonnull(c);
    ck_assert_msg(nclients < (int)(sizeof(clients) / sizeof(clients[0])),
                  "too many clients");
    clients[nclients++] = c;
    c->fd = fd;
    c->cap = 1 << 16;
    c->buf = malloc(c->cap);
    ck_assert_ptr_nonnull(c->buf);
    return c;
}

static client_t *dial(void)
{
    int fd;

    ck_assert_msg(srv_ok, "weftd did not start (see the log above)");
    fd = wt_connect(srv.port, WAIT_MS);
    ck_assert_msg(fd >= 0, "cannot connect to weftd on port %d", srv.port);
    return client_new(fd);
}

static void send_str(client_t *c, const char *s)
{
    ck_assert_msg(wt_sends(c->fd, s) == 0, "send failed: %s", strerror(errno));
}

/* One receive, waiting until deadline: 1 if bytes came (or a retry is in
 * order), 0 at the server's close, -1 when the deadline passed. */
static int fill(client_t *c, long long deadline)
{
    struct pollfd pf = { c->fd, POLLIN, 0 };
    long long left = deadline - now_ms();
    ssize_t n;

    if (c->eof)
        return 0;
    if (left <= 0)
        return -1;
    if (c->cap - c->len < 16384) {
        c->cap *= 2;
        c->buf = realloc(c->buf, c->cap);
        ck_assert_ptr_nonnull(c->buf);
    }
    switch (poll(&pf, 1, (int)left)) {
    case 1:
        break;
    case 0:
        return -1;
    default:
        return errno == EINTR ? 1 : -1;
    }
    n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
    if (n < 0 && errno == EINTR)
        return 1;
    if (n <= 0) {
        c->eof = 1; /* a reset counts as the close it is */
        return 0;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    return 1;
}

/* Waits until n unconsumed bytes are buffered; 0 on close or timeout. */
static int need(client_t *c, size_t n, long long deadline)
{
    while (c->len - c->pos < n)
        if (fill(c, deadline) <= 0)
            return 0;
    return 1;
}

/* Waits until the unconsumed bytes hold needle; returns the offset just
 * past it (from pos), or -1 on close or timeout. */
static long find(client_t *c, const char *needle, long long deadline)
{
    size_t nl = strlen(needle);

    for (;;) {
        char *at = memmem(c->buf + c->pos, c->len - c->pos, needle, nl);
        if (at != NULL)
            return (long)(at - (c->buf + c->pos) + nl);
        if (fill(c, deadline) <= 0)
            return -1;
    }
}

/* Asserts the server closes the connection with nothing more to say. */
static void expect_close(client_t *c)
{
    long long deadline = now_ms() + WAIT_MS;
    int r;

    while ((r = fill(c, deadline)) > 0)
        ;
    ck_assert_msg(r == 0, "the server did not close the connection");
    ck_assert_msg(c->len == c->pos, "unexpected bytes before the close: %s",
                  c->buf + c->pos);
}

/* ---- responses ----------------------------------------------------------- */

typedef struct {
    int status;
    char *text; /* the response's bytes as received, Date masked */
    char *head; /* its header block (masked), up to the empty line */
    char *body; /* the decoded body */
    size_t body_len;
    size_t chunks[64]; /* chunk sizes, in order (the last 0 included) */
    int nchunks;
    char *trailers; /* the trailer section's fields, "" if none */
    int complete;   /* the framing's end was reached (not cut by a close) */
} resp_t;

/* Checks a Date value is Go's http.TimeFormat for about now. */
static void check_date(const char *v, size_t n)
{
    char value[64], again[64];
    struct tm tm;
    const char *end;
    time_t t, now = time(NULL);

    ck_assert_msg(n == 29, "Date \"%.*s\" is not 29 bytes", (int)n, v);
    memcpy(value, v, n);
    value[n] = '\0';
    memset(&tm, 0, sizeof(tm));
    end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ck_assert_msg(end != NULL && *end == '\0',
                  "Date \"%s\" is not in http.TimeFormat", value);
    t = timegm(&tm);
    /* Formatting the parsed time again must give the same bytes: this
     * checks the weekday and the zero padding too. */
    strftime(again, sizeof(again), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&t));
    ck_assert_str_eq(again, value);
    ck_assert_msg(t >= now - 120 && t <= now + 120,
                  "Date \"%s\" is far from now", value);
}

/* The header block with the Date value checked and replaced by "DATE". */
static char *mask_date(const char *head, int required)
{
    const char *at = strstr(head, "\r\nDate: "), *v, *eol;

    if (at == NULL) {
        ck_assert_msg(!required, "no Date header in:\n%s", head);
        return fmt("%s", head);
    }
    ck_assert_msg(strstr(at + 2, "\r\nDate: ") == NULL,
                  "two Date headers in:\n%s", head);
    v = at + 8;
    eol = strstr(v, "\r\n");
    check_date(v, (size_t)(eol - v));
    return fmt("%.*sDATE%s", (int)(v - head), head, eol);
}

/* The value of header name (exact, canonical spelling) in a header
 * block, or NULL. */
static char *header_value(const char *head, const char *name)
{
    char *key = fmt("\r\n%s: ", name);
    const char *at = strstr(head, key), *eol;

    if (at == NULL)
        return NULL;
    at += strlen(key);
    eol = strstr(at, "\r\n");
    return fmt("%.*s", (int)(eol - at), at);
}

static void append(char **body, size_t *len, size_t *cap, const char *p,
                   size_t n)
{
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap)
            *cap *= 2;
        *body = realloc(*body, *cap);
        ck_assert_ptr_nonnull(*body);
    }
    memcpy(*body + *len, p, n);
    *len += n;
    (*body)[*len] = '\0';
}

/*
 * Reads one response the way a client must frame it: a 1xx, HEAD, 204
 * or 304 ends at its header block; then chunked, Content-Length, or
 * until the close.  no_body is set for HEAD requests.
 */
static void read_response(client_t *c, int no_body, resp_t *r)
{
    long long deadline = now_ms() + WAIT_MS;
    size_t start = c->pos, cap = 256, blen = 0;
    long hlen = find(c, "\r\n\r\n", deadline);
    char *body, *cl, *te, *head;

    memset(r, 0, sizeof(*r));
    ck_assert_msg(hlen > 0, "no response header (got %zu bytes: \"%s\")",
                  c->len - c->pos, c->buf + c->pos);
    head = fmt("%.*s", (int)hlen, c->buf + c->pos);
    c->pos += (size_t)hlen;
    ck_assert_msg(sscanf(head, "HTTP/1.%*d %d ", &r->status) == 1,
                  "bad status line in:\n%s", head);
    r->head = mask_date(head, r->status >= 200);
    r->trailers = "";
    body = malloc(cap);
    ck_assert_ptr_nonnull(body);
    body[0] = '\0';
    cl = header_value(head, "Content-Length");
    te = header_value(head, "Transfer-Encoding");
    if (no_body || r->status < 200 || r->status == 204 || r->status == 304) {
        r->complete = 1;
    } else if (te != NULL && strcmp(te, "chunked") == 0) {
        for (;;) {
            long line = find(c, "\r\n", deadline);
            unsigned long size;
            char *end;
            if (line < 0)
                break;
            size = strtoul(c->buf + c->pos, &end, 16);
            ck_assert_msg(end > c->buf + c->pos, "bad chunk size line");
            c->pos += (size_t)line;
            if (r->nchunks < 64)
                r->chunks[r->nchunks++] = size;
            if (size == 0) {
                /* Trailer fields, up to the empty line. */
                long t = 0;
                if (!need(c, 2, deadline))
                    break;
                if (memcmp(c->buf + c->pos, "\r\n", 2) != 0) {
                    t = find(c, "\r\n\r\n", deadline);
                    if (t < 0)
                        break;
                    r->trailers = fmt("%.*s", (int)t - 2, c->buf + c->pos);
                }
                c->pos += t > 0 ? (size_t)t : 2;
                r->complete = 1;
                break;
            }
            if (!need(c, size + 2, deadline))
                break;
            append(&body, &blen, &cap, c->buf + c->pos, size);
            ck_assert_msg(memcmp(c->buf + c->pos + size, "\r\n", 2) == 0,
                          "chunk data not followed by CRLF");
            c->pos += size + 2;
        }
    } else if (cl != NULL) {
        size_t n = strtoul(cl, NULL, 10);
        r->complete = need(c, n, deadline);
        if (!r->complete)
            n = c->len - c->pos;
        append(&body, &blen, &cap, c->buf + c->pos, n);
        c->pos += n;
    } else {
        /* Close-delimited: HTTP/1.0 without a length. */
        while (fill(c, deadline) > 0)
            ;
        ck_assert_msg(c->eof, "close-delimited body did not end");
        append(&body, &blen, &cap, c->buf + c->pos, c->len - c->pos);
        c->pos = c->len;
        r->complete = 1;
    }
    r->body = keep(body);
    r->body_len = blen;
    r->text = fmt("%s%.*s", r->head, (int)(c->pos - start - (size_t)hlen),
                  c->buf + start + hlen);
}

/* Sends raw on a new connection and reads one response. */
static client_t *exchange(const char *raw, int no_body, resp_t *r)
{
    client_t *c = dial();

    send_str(c, raw);
    read_response(c, no_body, r);
    return c;
}

/* The connection still serves requests: /hello answers in full. */
static void expect_reusable(client_t *c)
{
    resp_t r;

    send_str(c, GET("/hello"));
    read_response(c, 0, &r);
    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT DATE
                             "Content-Length: 6\r\n\r\nhello\n");
}

/* Chunk sizes as bufio cuts n bytes of output with a buffer of size buf:
 * full buffers, then the rest, then the terminating 0. */
static void expect_cuts(const resp_t *r, size_t n, size_t buf)
{
    int i, full = (int)(n / buf);

    ck_assert_int_eq(r->nchunks, full + (n % buf ? 1 : 0) + 1);
    for (i = 0; i < full; i++)
        ck_assert_uint_eq(r->chunks[i], buf);
    if (n % buf)
        ck_assert_uint_eq(r->chunks[i++], n % buf);
    ck_assert_uint_eq(r->chunks[i], 0);
    ck_assert_uint_eq(r->body_len, n);
    ck_assert_str_eq(r->body, xs(n));
}

/* ---- framing ------------------------------------------------------------- */

/* A handler that finishes within the buffer gets a Content-Length. */
START_TEST(hello_content_length)
{
    resp_t r;
    client_t *c = exchange(GET("/hello"), 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT DATE
                             "Content-Length: 6\r\n\r\nhello\n");
    expect_reusable(c);
}
END_TEST

/* Exactly a full buffer still fits: bufio flushes only when a write does
 * not fit, and the handler is done by then. */
START_TEST(size_fills_buffer)
{
    resp_t r;

    exchange(GET("/size?n=4096"), 0, &r);
    ck_assert_str_eq(r.head, "HTTP/1.1 200 OK\r\n" CT DATE
                             "Content-Length: 4096\r\n\r\n");
    ck_assert_str_eq(r.body, xs(4096));
}
END_TEST

START_TEST(size_one_past_buffer_is_chunked)
{
    resp_t r;
    client_t *c = exchange(GET("/size?n=4097"), 0, &r);

    ck_assert_str_eq(r.head, "HTTP/1.1 200 OK\r\n" CT DATE CHUNKED "\r\n");
    expect_cuts(&r, 4097, 4096);
    expect_reusable(c);
}
END_TEST

/* Go's bufio cuts: writes of 1000 fill 4096 exactly, then the rest. */
START_TEST(size_5000_exact_chunks)
{
    resp_t r;

    exchange(GET("/size?n=5000"), 0, &r);
    ck_assert_str_eq(r.text, fmt("HTTP/1.1 200 OK\r\n" CT DATE CHUNKED
                                 "\r\n1000\r\n%s\r\n388\r\n%s\r\n0\r\n\r\n",
                                 xs(4096), xs(904)));
}
END_TEST

START_TEST(size_100000_chunked_total)
{
    resp_t r;
    client_t *c = exchange(GET("/size?n=100000"), 0, &r);

    ck_assert(r.complete);
    ck_assert_str_eq(r.head, "HTTP/1.1 200 OK\r\n" CT DATE CHUNKED "\r\n");
    expect_cuts(&r, 100000, 4096); /* 24 x 0x1000, then 0x6a0 */
    expect_reusable(c);
}
END_TEST

/* HTTP/1.0 cannot chunk: no length, the close ends the body, and no
 * Connection header (Go only says "close" to 1.1 clients). */
START_TEST(http10_large_close_delimited)
{
    resp_t r;
    client_t *c = exchange("GET /size?n=5000 HTTP/1.0\r\n\r\n", 0, &r);

    ck_assert_str_eq(r.text,
                     fmt("HTTP/1.0 200 OK\r\n" CT DATE "\r\n%s", xs(5000)));
    ck_assert(c->eof);
}
END_TEST

/* HEAD: the handler's output is counted, not sent. */
START_TEST(head_small_has_length)
{
    resp_t r;
    client_t *c = exchange("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n", 1, &r);

    ck_assert_str_eq(r.text,
                     "HTTP/1.1 200 OK\r\n" CT DATE "Content-Length: 6\r\n\r\n");
    /* No body bytes leaked: the next response starts right here. */
    expect_reusable(c);
}
END_TEST

/* HEAD whose output overflowed the buffer: neither Content-Length (the
 * size is unknown) nor chunked (there is no body), and keep-alive. */
START_TEST(head_large_no_framing)
{
    resp_t r;
    client_t *c =
        exchange("HEAD /size?n=100000 HTTP/1.1\r\nHost: t\r\n\r\n", 1, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT DATE "\r\n");
    expect_reusable(c);
}
END_TEST

START_TEST(status_204_keeps_content_type)
{
    resp_t r;
    client_t *c = exchange(GET("/status?code=204"), 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 204 No Content\r\n" CT DATE "\r\n");
    expect_reusable(c);
}
END_TEST

START_TEST(status_304_drops_content_type)
{
    resp_t r;
    client_t *c = exchange(GET("/status?code=304"), 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 304 Not Modified\r\n" DATE "\r\n");
    expect_reusable(c);
}
END_TEST

/* A 1xx goes out at once with the headers set so far (no Date), then
 * the handler returns and Go writes 200 with an empty body. */
START_TEST(status_102_interim_then_200)
{
    resp_t r;
    client_t *c = exchange(GET("/status?code=102"), 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 102 Processing\r\n" CT "\r\n");
    read_response(c, 0, &r);
    ck_assert_str_eq(r.text,
                     "HTTP/1.1 200 OK\r\n" CT DATE "Content-Length: 0\r\n\r\n");
    expect_reusable(c);
}
END_TEST

START_TEST(early_hints)
{
    resp_t r;
    client_t *c = exchange(GET("/early-hints"), 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 103 Early Hints\r\n"
                             "Link: </style.css>; rel=preload\r\n\r\n");
    read_response(c, 0, &r);
    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT
                             "Link: </style.css>; rel=preload\r\n" DATE
                             "Content-Length: 7\r\n\r\nhinted\n");
}
END_TEST

START_TEST(status_unknown_code)
{
    resp_t r;

    exchange(GET("/status?code=799"), 0, &r);
    ck_assert_str_eq(r.text, "HTTP/1.1 799 status code 799\r\n" CT DATE
                             "Content-Length: 11\r\n\r\nstatus 799\n");
}
END_TEST

/* Go's StatusText (the old texts it kept), and its fallback for codes it
 * does not name.  All on one keep-alive connection. */
static const struct {
    int code;
    const char *line;
} phrases[] = {
    { 200, "HTTP/1.1 200 OK\r\n" },
    { 201, "HTTP/1.1 201 Created\r\n" },
    { 226, "HTTP/1.1 226 IM Used\r\n" },
    { 299, "HTTP/1.1 299 status code 299\r\n" },
    { 306, "HTTP/1.1 306 status code 306\r\n" },
    { 308, "HTTP/1.1 308 Permanent Redirect\r\n" },
    { 404, "HTTP/1.1 404 Not Found\r\n" },
    { 413, "HTTP/1.1 413 Request Entity Too Large\r\n" },
    { 418, "HTTP/1.1 418 I'm a teapot\r\n" },
    { 422, "HTTP/1.1 422 Unprocessable Entity\r\n" },
    { 425, "HTTP/1.1 425 Too Early\r\n" },
    { 451, "HTTP/1.1 451 Unavailable For Legal Reasons\r\n" },
    { 500, "HTTP/1.1 500 Internal Server Error\r\n" },
    { 505, "HTTP/1.1 505 HTTP Version Not Supported\r\n" },
    { 511, "HTTP/1.1 511 Network Authentication Required\r\n" },
    { 600, "HTTP/1.1 600 status code 600\r\n" },
};

START_TEST(status_reason_phrases)
{
    client_t *c = dial();
    size_t i;

    for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
        resp_t r;
        send_str(c, fmt("GET /status?code=%d HTTP/1.1\r\nHost: t\r\n\r\n",
                        phrases[i].code));
        read_response(c, 0, &r);
        ck_assert_str_eq(r.text, fmt("%s" CT DATE "Content-Length: 11\r\n"
                                     "\r\nstatus %d\n",
                                     phrases[i].line, phrases[i].code));
    }
}
END_TEST

/* Go's NotFound (http.Error): its own Content-Type and nosniff. */
START_TEST(not_found)
{
    resp_t r;
    client_t *c = exchange(GET("/no/such/path"), 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 404 Not Found\r\n" CT
                             "X-Content-Type-Options: nosniff\r\n" DATE
                             "Content-Length: 19\r\n\r\n404 page not found\n");
    expect_reusable(c);
}
END_TEST

/* A declared trailer forces chunking; its value follows the last chunk. */
START_TEST(trailers)
{
    resp_t r;
    client_t *c = exchange(GET("/trailers"), 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT
                             "Trailer: X-Checksum\r\n" DATE CHUNKED
                             "\r\n5\r\nbody\n\r\n"
                             "0\r\nX-Checksum: 42\r\n\r\n");
    ck_assert_str_eq(r.trailers, "X-Checksum: 42\r\n");
    expect_reusable(c);
}
END_TEST

/* HTTP/1.0 has no trailers: the body is close-delimited, the trailer
 * value is lost (Go writes trailers only when chunking). */
START_TEST(trailers_http10)
{
    resp_t r;

    exchange("GET /trailers HTTP/1.0\r\n\r\n", 0, &r);
    ck_assert_str_eq(r.text, "HTTP/1.0 200 OK\r\n" CT
                             "Trailer: X-Checksum\r\n" DATE "\r\nbody\n");
}
END_TEST

START_TEST(stream_chunks)
{
    resp_t r;
    client_t *c = exchange(GET("/stream?n=3&delay=50"), 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT DATE CHUNKED "\r\n"
                             "8\r\nchunk 0\n\r\n8\r\nchunk 1\n\r\n"
                             "8\r\nchunk 2\n\r\n0\r\n\r\n");
    expect_reusable(c);
}
END_TEST

/* A flush sends the header and the first chunk while the handler still
 * runs: "chunk 0" arrives alone, a second before "chunk 1" is written
 * (a delay long enough that no slow machine blurs the two). */
START_TEST(stream_flushes)
{
    client_t *c = dial();
    const char *body;
    char *head;

    send_str(c, GET("/stream?n=2&delay=1000"));
    ck_assert_msg(find(c, "chunk 0\n\r\n", now_ms() + WAIT_MS) > 0,
                  "chunk 0 did not arrive: \"%s\"", c->buf);
    /* Everything received so far, and nothing more. */
    body = strstr(c->buf, "\r\n\r\n") + 4;
    head = mask_date(fmt("%.*s", (int)(body - c->buf), c->buf), 1);
    ck_assert_str_eq(fmt("%s%s", head, body),
                     "HTTP/1.1 200 OK\r\n" CT DATE CHUNKED "\r\n"
                     "8\r\nchunk 0\n\r\n");
}
END_TEST

/* ---- headers ------------------------------------------------------------- */

START_TEST(date_header)
{
    resp_t r;

    /* read_response checks the format and the clock; here: exactly one
     * Date, placed after the handler's fields as Go writes it. */
    exchange(GET("/hello"), 0, &r);
    ck_assert_ptr_nonnull(strstr(r.head, "\r\n" DATE));
    ck_assert_str_eq(r.head,
                     "HTTP/1.1 200 OK\r\n" CT DATE "Content-Length: 6\r\n\r\n");
}
END_TEST

/* Names go out canonicalised, the handler's fields sorted by name. */
START_TEST(header_names_canonical_sorted)
{
    client_t *c = dial();
    resp_t r;

    send_str(c, GET("/header?name=x-custom-thing&value=v"));
    read_response(c, 0, &r);
    ck_assert_str_eq(r.text,
                     "HTTP/1.1 200 OK\r\n" CT "X-Custom-Thing: v\r\n" DATE
                     "Content-Length: 3\r\n\r\nok\n");
    send_str(c, GET("/header?name=a-FIRST&value=1"));
    read_response(c, 0, &r);
    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\nA-First: 1\r\n" CT DATE
                             "Content-Length: 3\r\n\r\nok\n");
}
END_TEST

/* CR and LF in a value become spaces: no header line can be forged. */
START_TEST(header_value_crlf_neutralised)
{
    resp_t r;

    exchange(GET("/header?name=X-A&value=a%0D%0AX-Injected:%20yes"), 0, &r);
    ck_assert_str_eq(r.text,
                     "HTTP/1.1 200 OK\r\n" CT "X-A: a  X-Injected: yes\r\n" DATE
                     "Content-Length: 3\r\n\r\nok\n");
}
END_TEST

/* Go trims blanks around a value (textproto.TrimString). */
START_TEST(header_value_trimmed)
{
    resp_t r;

    exchange(GET("/header?name=X-A&value=%20%09v%20w%09%20"), 0, &r);
    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT "X-A: v w\r\n" DATE
                             "Content-Length: 3\r\n\r\nok\n");
}
END_TEST

/* A name that is not a token is dropped, not sent broken. */
START_TEST(header_bad_names_dropped)
{
    static const char *const names[] = { "Bad%20Name", "Bad:Name",
                                         "X-A%0D%0AX-Evil" };
    client_t *c = dial();
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        resp_t r;
        send_str(c, fmt("GET /header?name=%s&value=v HTTP/1.1\r\nHost: t"
                        "\r\n\r\n",
                        names[i]));
        read_response(c, 0, &r);
        ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT DATE
                                 "Content-Length: 3\r\n\r\nok\n");
    }
}
END_TEST

/* The handler's own Content-Length is used as is, and the connection
 * stays in sync. */
START_TEST(handler_content_length)
{
    resp_t r;
    client_t *c = exchange(GET("/header?name=Content-Length&value=3"), 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n" CT DATE
                             "\r\nok\n");
    expect_reusable(c);
}
END_TEST

/* Declared more than written: the client is owed bytes it will never
 * get, so Go closes rather than let the next response be misread. */
START_TEST(handler_content_length_short)
{
    resp_t r;
    client_t *c = exchange(GET("/header?name=Content-Length&value=10"), 0, &r);

    ck_assert(!r.complete);
    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n" CT DATE
                             "\r\nok\n");
    ck_assert(c->eof);
}
END_TEST

/* Declared less than the write: the write is refused whole
 * (ErrContentLength), and the connection closes. */
START_TEST(handler_content_length_exceeded)
{
    resp_t r;
    client_t *c = exchange(GET("/header?name=Content-Length&value=2"), 0, &r);

    ck_assert(!r.complete);
    ck_assert_str_eq(r.text,
                     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" CT DATE "\r\n");
    ck_assert(c->eof);
}
END_TEST

/* An unparsable Content-Length is no length: Go's header snapshot still
 * holds it, so no automatic length is added, and chunking removes it. */
START_TEST(handler_content_length_invalid)
{
    resp_t r;
    client_t *c = exchange(GET("/header?name=Content-Length&value=abc"), 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT DATE CHUNKED
                             "\r\n3\r\nok\n\r\n0\r\n\r\n");
    expect_reusable(c);
}
END_TEST

/*
 * Sniffing happens only when the handler set no Content-Type at all; an
 * empty one is kept and sent as is (Go tests the key's presence).  No
 * testapp path writes a body without setting Content-Type, so sniffing
 * itself is left to the unit suite (test_sniff).
 */
START_TEST(empty_content_type_not_sniffed)
{
    resp_t r;

    exchange(GET("/header?name=Content-Type&value="), 0, &r);
    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\nContent-Type: \r\n" DATE
                             "Content-Length: 3\r\n\r\nok\n");
}
END_TEST

/* ---- keep-alive and pipelining ------------------------------------------- */

START_TEST(http11_keepalive_default)
{
    client_t *c = dial();
    resp_t r1, r2;

    send_str(c, GET("/conn-id"));
    read_response(c, 0, &r1);
    ck_assert_ptr_null(header_value(r1.head, "Connection"));
    send_str(c, GET("/conn-id"));
    read_response(c, 0, &r2);
    ck_assert_str_eq(r2.text, fmt("HTTP/1.1 200 OK\r\n" CT DATE
                                  "Content-Length: %zu\r\n\r\n%s",
                                  r1.body_len, r1.body));
}
END_TEST

START_TEST(client_connection_close)
{
    resp_t r;
    client_t *c = exchange("GET /hello HTTP/1.1\r\nHost: t\r\n"
                           "Connection: close\r\n\r\n",
                           0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT DATE
                             "Content-Length: 6\r\nConnection: close\r\n\r\n"
                             "hello\n");
    expect_close(c);
}
END_TEST

/* HTTP/1.0 closes by default, and says nothing about it. */
START_TEST(http10_default_close)
{
    resp_t r;
    client_t *c = exchange("GET /hello HTTP/1.0\r\n\r\n", 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.0 200 OK\r\n" CT DATE
                             "Content-Length: 6\r\n\r\nhello\n");
    expect_close(c);
}
END_TEST

/* HTTP/1.0 keep-alive works when the response has a length. */
START_TEST(http10_keepalive_with_length)
{
    static const char req[] = "GET /hello HTTP/1.0\r\n"
                              "Connection: keep-alive\r\n\r\n";
    static const char want[] =
        "HTTP/1.0 200 OK\r\n" CT DATE "Content-Length: 6\r\n"
        "Connection: keep-alive\r\n\r\nhello\n";
    client_t *c = dial();
    resp_t r;

    send_str(c, req);
    read_response(c, 0, &r);
    ck_assert_str_eq(r.text, want);
    send_str(c, req);
    read_response(c, 0, &r);
    ck_assert_str_eq(r.text, want);
    send_str(c, "GET /hello HTTP/1.0\r\n\r\n");
    read_response(c, 0, &r);
    expect_close(c);
}
END_TEST

/* ... and not when it has none: the close ends the body. */
START_TEST(http10_keepalive_without_length)
{
    resp_t r;
    client_t *c = exchange("GET /size?n=5000 HTTP/1.0\r\n"
                           "Connection: keep-alive\r\n\r\n",
                           0, &r);

    ck_assert_str_eq(r.text,
                     fmt("HTTP/1.0 200 OK\r\n" CT DATE "\r\n%s", xs(5000)));
    ck_assert(c->eof);
}
END_TEST

/* Ten requests in one write: ten responses, in order, on the one
 * connection, mixing lengths and chunking. */
START_TEST(pipelining)
{
    client_t *c = dial();
    char *all = fmt("%s", "");
    int i;

    for (i = 0; i < 10; i++)
        all = i % 3 == 0 ? fmt("%s" GET("/size?n=%d"), all, 4090 + i)
                         : fmt("%s" GET("/header?name=X-Seq&value=%d"), all, i);
    send_str(c, all);
    for (i = 0; i < 10; i++) {
        resp_t r;
        read_response(c, 0, &r);
        if (i % 3 == 0) {
            ck_assert_uint_eq(r.body_len, (size_t)(4090 + i));
            ck_assert_str_eq(r.body, xs((size_t)(4090 + i)));
        } else {
            ck_assert_str_eq(r.text,
                             fmt("HTTP/1.1 200 OK\r\n" CT "X-Seq: %d\r\n" DATE
                                 "Content-Length: 3\r\n\r\nok\n",
                                 i));
        }
    }
    /* Nothing extra came after the tenth response. */
    ck_assert_uint_eq(c->len, c->pos);
    expect_reusable(c);
}
END_TEST

/* ---- aborts and vanishing clients ---------------------------------------- */

START_TEST(abort_no_bytes)
{
    client_t *c = dial();

    send_str(c, GET("/abort"));
    expect_close(c);
    ck_assert_uint_eq(c->len, 0);
}
END_TEST

/* The flushed part arrives; the 0-chunk never does, so the client knows
 * the body is cut short. */
START_TEST(abort_after_write)
{
    client_t *c = dial();
    resp_t r;

    send_str(c, GET("/abort-after-write"));
    read_response(c, 0, &r);
    ck_assert(!r.complete);
    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT DATE CHUNKED "\r\n"
                             "8\r\npartial\n\r\n");
    ck_assert(c->eof);
}
END_TEST

/* A connection with a tiny receive window, so a big response cannot
 * sit whole in socket buffers: the server really is mid-write. */
static client_t *dial_small_window(void)
{
    struct sockaddr_in sa;
    int fd, small = 4096;

    ck_assert_msg(srv_ok, "weftd did not start (see the log above)");
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)srv.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
                  "connect: %s", strerror(errno));
    return client_new(fd);
}

/* The client's address as the server's event log names it. */
static char *local_name(int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    return fmt("127.0.0.1:%d", ntohs(sa.sin_port));
}

/*
 * A client that goes away while a 10 MB body is being written: the write
 * fails, the handler stops (its next write reports the error), the
 * connection closes, and the server keeps serving everyone else.
 */
START_TEST(client_gone_mid_write)
{
    client_t *big = dial_small_window(), *other;
    char *closed_line = fmt("state %s closed\n", local_name(big->fd));
    long long deadline;
    int seen = 0;

    send_str(big, GET("/size?n=10000000"));
    ck_assert_msg(find(big, "\r\n\r\n", now_ms() + WAIT_MS) > 0,
                  "no header for the big response");
    /* While that write is blocked on the full window, others are served. */
    other = dial();
    expect_reusable(other);
    {
        /* 10 MB cannot fit in the socket buffers: the big response is
         * still being written when the client leaves. */
        resp_t r;
        send_str(other, GET("/events"));
        read_response(other, 0, &r);
        ck_assert_ptr_null(strstr(r.body, closed_line));
    }
    /* Closing with unread data resets the connection. */
    close(big->fd);
    big->fd = -1;
    deadline = now_ms() + WAIT_MS;
    while (!seen && now_ms() < deadline) {
        resp_t r;
        send_str(other, GET("/events"));
        read_response(other, 0, &r);
        seen = strstr(r.body, closed_line) != NULL;
        if (!seen)
            poll(NULL, 0, 20);
    }
    ck_assert_msg(seen, "the server never closed the abandoned connection");
    expect_reusable(other);
    expect_reusable(dial());
}
END_TEST

/* ---- ResponseBufferSize and KeepAlive off -------------------------------- */

START_TEST(buf1k_framing)
{
    client_t *c = dial();
    resp_t r;

    send_str(c, GET("/size?n=1024"));
    read_response(c, 0, &r);
    ck_assert_str_eq(r.head, "HTTP/1.1 200 OK\r\n" CT DATE
                             "Content-Length: 1024\r\n\r\n");
    ck_assert_str_eq(r.body, xs(1024));
    /* Writes of 1000 then 25: 24 bytes fill the buffer, it goes out as a
     * 0x400 chunk, and the last byte follows alone. */
    send_str(c, GET("/size?n=1025"));
    read_response(c, 0, &r);
    ck_assert_str_eq(r.text, fmt("HTTP/1.1 200 OK\r\n" CT DATE CHUNKED
                                 "\r\n400\r\n%s\r\n1\r\nx\r\n0\r\n\r\n",
                                 xs(1024)));
    send_str(c, GET("/size?n=5000"));
    read_response(c, 0, &r);
    expect_cuts(&r, 5000, 1024);
}
END_TEST

START_TEST(buf64k_framing)
{
    client_t *c = dial();
    resp_t r;

    /* What the default buffer would chunk now has a length. */
    send_str(c, GET("/size?n=5000"));
    read_response(c, 0, &r);
    ck_assert_str_eq(r.head, "HTTP/1.1 200 OK\r\n" CT DATE
                             "Content-Length: 5000\r\n\r\n");
    send_str(c, GET("/size?n=65536"));
    read_response(c, 0, &r);
    ck_assert_str_eq(r.head, "HTTP/1.1 200 OK\r\n" CT DATE
                             "Content-Length: 65536\r\n\r\n");
    ck_assert_str_eq(r.body, xs(65536));
    send_str(c, GET("/size?n=65537"));
    read_response(c, 0, &r);
    ck_assert_str_eq(r.text, fmt("HTTP/1.1 200 OK\r\n" CT DATE CHUNKED
                                 "\r\n10000\r\n%s\r\n1\r\nx\r\n0\r\n\r\n",
                                 xs(65536)));
    send_str(c, GET("/size?n=200000"));
    read_response(c, 0, &r);
    expect_cuts(&r, 200000, 65536);
}
END_TEST

/* A write larger than the whole buffer, into an empty buffer, goes out
 * at once as one chunk of its own size (bufio's large-write path). */
START_TEST(buf512_large_writes_direct)
{
    client_t *c = dial();
    resp_t r;

    send_str(c, GET("/size?n=1000"));
    read_response(c, 0, &r);
    ck_assert_str_eq(r.text, fmt("HTTP/1.1 200 OK\r\n" CT DATE CHUNKED
                                 "\r\n3e8\r\n%s\r\n0\r\n\r\n",
                                 xs(1000)));
    /* 1000, 1000 direct; the last 500 fit and wait for the handler's end. */
    send_str(c, GET("/size?n=2500"));
    read_response(c, 0, &r);
    ck_assert_str_eq(r.text, fmt("HTTP/1.1 200 OK\r\n" CT DATE CHUNKED
                                 "\r\n3e8\r\n%s\r\n3e8\r\n%s\r\n"
                                 "1f4\r\n%s\r\n0\r\n\r\n",
                                 xs(1000), xs(1000), xs(500)));
    send_str(c, GET("/size?n=512"));
    read_response(c, 0, &r);
    ck_assert_str_eq(r.head, "HTTP/1.1 200 OK\r\n" CT DATE
                             "Content-Length: 512\r\n\r\n");
}
END_TEST

START_TEST(keepalive_off_http11)
{
    resp_t r;
    client_t *c = exchange(GET("/hello"), 0, &r);

    ck_assert_str_eq(r.text, "HTTP/1.1 200 OK\r\n" CT DATE
                             "Content-Length: 6\r\nConnection: close\r\n\r\n"
                             "hello\n");
    expect_close(c);
}
END_TEST

START_TEST(keepalive_off_chunked)
{
    resp_t r;
    client_t *c = exchange(GET("/size?n=5000"), 0, &r);

    ck_assert(r.complete);
    ck_assert_str_eq(r.head, "HTTP/1.1 200 OK\r\n" CT DATE
                             "Connection: close\r\n" CHUNKED "\r\n");
    expect_cuts(&r, 5000, 4096);
    expect_close(c);
}
END_TEST

/*
 * Go's wart, kept: an HTTP/1.0 keep-alive request with a length still
 * gets "Connection: keep-alive" (set before keep-alives are consulted;
 * only a 1.1 response is told "close"), and then the connection closes.
 */
START_TEST(keepalive_off_http10)
{
    resp_t r;
    client_t *c = exchange("GET /hello HTTP/1.0\r\n"
                           "Connection: keep-alive\r\n\r\n",
                           0, &r);

    ck_assert_str_eq(r.text,
                     "HTTP/1.0 200 OK\r\n" CT DATE "Content-Length: 6\r\n"
                     "Connection: keep-alive\r\n\r\nhello\n");
    expect_close(c);
}
END_TEST

/* ---- the suite ----------------------------------------------------------- */

static TCase *tcase(Suite *s, const char *name, void (*setup)(void))
{
    TCase *tc = tcase_create(name);

    tcase_add_unchecked_fixture(tc, setup, stop_server);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 90);
    suite_add_tcase(s, tc);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("http_response");
    TCase *framing = tcase(s, "framing", setup_default);
    TCase *headers = tcase(s, "headers", setup_default);
    TCase *keepalive = tcase(s, "keep-alive", setup_default);
    TCase *abort = tcase(s, "abort", setup_default);
    TCase *buf1k = tcase(s, "ResponseBufferSize 1K", setup_buf1k);
    TCase *buf64k = tcase(s, "ResponseBufferSize 64K", setup_buf64k);
    TCase *buf512 = tcase(s, "ResponseBufferSize 512", setup_buf512);
    TCase *ka_off = tcase(s, "KeepAlive off", setup_keepalive_off);
    SRunner *sr;
    int failed;

    tcase_add_test(framing, hello_content_length);
    tcase_add_test(framing, size_fills_buffer);
    tcase_add_test(framing, size_one_past_buffer_is_chunked);
    tcase_add_test(framing, size_5000_exact_chunks);
    tcase_add_test(framing, size_100000_chunked_total);
    tcase_add_test(framing, http10_large_close_delimited);
    tcase_add_test(framing, head_small_has_length);
    tcase_add_test(framing, head_large_no_framing);
    tcase_add_test(framing, status_204_keeps_content_type);
    tcase_add_test(framing, status_304_drops_content_type);
    tcase_add_test(framing, status_102_interim_then_200);
    tcase_add_test(framing, early_hints);
    tcase_add_test(framing, status_unknown_code);
    tcase_add_test(framing, status_reason_phrases);
    tcase_add_test(framing, not_found);
    tcase_add_test(framing, trailers);
    tcase_add_test(framing, trailers_http10);
    tcase_add_test(framing, stream_chunks);
    tcase_add_test(framing, stream_flushes);

    tcase_add_test(headers, date_header);
    tcase_add_test(headers, header_names_canonical_sorted);
    tcase_add_test(headers, header_value_crlf_neutralised);
    tcase_add_test(headers, header_value_trimmed);
    tcase_add_test(headers, header_bad_names_dropped);
    tcase_add_test(headers, handler_content_length);
    tcase_add_test(headers, handler_content_length_short);
    tcase_add_test(headers, handler_content_length_exceeded);
    tcase_add_test(headers, handler_content_length_invalid);
    tcase_add_test(headers, empty_content_type_not_sniffed);

    tcase_add_test(keepalive, http11_keepalive_default);
    tcase_add_test(keepalive, client_connection_close);
    tcase_add_test(keepalive, http10_default_close);
    tcase_add_test(keepalive, http10_keepalive_with_length);
    tcase_add_test(keepalive, http10_keepalive_without_length);
    tcase_add_test(keepalive, pipelining);

    tcase_add_test(abort, abort_no_bytes);
    tcase_add_test(abort, abort_after_write);
    tcase_add_test(abort, client_gone_mid_write);

    tcase_add_test(buf1k, buf1k_framing);
    tcase_add_test(buf64k, buf64k_framing);
    tcase_add_test(buf512, buf512_large_writes_direct);
    tcase_add_test(ka_off, keepalive_off_http11);
    tcase_add_test(ka_off, keepalive_off_chunked);
    tcase_add_test(ka_off, keepalive_off_http10);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
