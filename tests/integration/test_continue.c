/*
 * test_continue.c -- Expect: 100-continue through mod_continue, on the
 * wire against Go's bytes (expectContinueReader, sendExpectationFailed,
 * writeHeader's "ecr && !sawEOF -> closeAfterReply"): clients that wait
 * for the 100, that do not, that give up waiting; handlers that never read
 * or read part; HTTP/1.0, empty bodies, hasToken, and 417 for the rest.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "weft_test.h"

/* Every wait is bounded by this; generous for sanitizer builds. */
#define WAIT_MS 10000
#define KIB 1024
/* The servers' ResponseBufferSize (the default, stated): /echo answers
 * with Content-Length within it, chunked beyond. */
#define RESPONSE_BUFFER 4096

#define OCTETS "application/octet-stream"
#define TEXT "text/plain; charset=utf-8"
/* Go's expectContinueReader writes exactly this, whatever the request's
 * minor version. */
#define CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"
#define CONTINUE_LEN (sizeof(CONTINUE) - 1)
/* Go's sendExpectationFailed: Connection: close from the header map, then
 * Date and the automatic Content-Length of the empty body. */
#define EXPECTATION_FAILED                                                \
    "HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nDate: *\r\n" \
    "Content-Length: 0\r\n\r\n"

/* One server per TCase, started by an unchecked fixture in the parent:
 * every forked test of the case talks to the same weftd. */
static wt_server_t srv;

/* ---- memory: what a test allocates is freed by its teardown ---------- */

static void *heap[512];
static int nheap;

static void *keep(void *p)
{
    ck_assert_msg(p != NULL, "out of memory");
    ck_assert_msg(nheap < (int)(sizeof(heap) / sizeof(heap[0])),
                  "too many allocations for the test's heap list");
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

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a client connection that keeps what it received -------------------- */

typedef struct {
    int fd;
    char *buf; /* received and not yet consumed: buf[0, len) */
    size_t len, cap;
    int eof; /* the server closed (FIN or reset) */
} client_t;

static client_t *clients[8];
static int nclients;

static void teardown(void)
{
    while (nclients > 0) {
        client_t *c = clients[--nclients];
        close(c->fd);
        free(c->buf);
        free(c);
    }
    while (nheap > 0)
        free(heap[--nheap]);
}

static client_t *client_open(void)
{
    client_t *c;

    ck_assert_msg(srv.port > 0, "weftd did not start");
    ck_assert(nclients < (int)(sizeof(clients) / sizeof(clients[0])));
    c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    c->fd = -1;
    c->cap = 64 * KIB;
    c->buf = malloc(c->cap);
    clients[nclients++] = c;
    ck_assert_ptr_nonnull(c->buf);
    c->fd = wt_connect(srv.port, WAIT_MS);
    ck_assert_msg(c->fd >= 0, "cannot connect to weftd on port %d", srv.port);
    return c;
}

static void send_buf(client_t *c, const void *p, size_t n)
{
    ck_assert_msg(wt_send(c->fd, p, n) == 0, "send failed: %s",
                  strerror(errno));
}

static void send_str(client_t *c, const char *s)
{
    send_buf(c, s, strlen(s));
}

/* Waits (until deadline) for more bytes; 1 if some came, 0 on a close,
 * a reset or the deadline (c->eof tells which). */
static int recv_some(client_t *c, long long deadline)
{
    for (;;) {
        struct pollfd pf = { c->fd, POLLIN, 0 };
        long long left = deadline - now_ms();
        ssize_t n;

        if (c->eof || left <= 0)
            return 0;
        if (poll(&pf, 1, (int)left) <= 0)
            continue;
        if (c->cap - c->len < 16 * KIB) {
            char *nb = realloc(c->buf, c->cap * 2);
            ck_assert_ptr_nonnull(nb);
            c->buf = nb;
            c->cap *= 2;
        }
        n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
        if (n > 0) {
            c->len += (size_t)n;
            c->buf[c->len] = '\0';
            return 1;
        }
        if (n < 0 && errno == EINTR)
            continue;
        /* 0 is a FIN; ECONNRESET counts as a close too (a server that
         * closes with our unread body in its socket resets, and Linux
         * still hands over what arrived before the reset). */
        c->eof = 1;
        return 0;
    }
}

static void consume(client_t *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    c->buf[c->len] = '\0';
}

/* ---- reading responses -------------------------------------------------- */

typedef struct {
    char *head; /* status line and fields through the blank line, with the
                   Date value (the one thing that varies) replaced by '*' */
    char *body; /* decoded from its framing */
    size_t len;
} resp_t;

/* The value of field name in a raw head, or NULL (names case-blind). */
static const char *field(const char *head, const char *name)
{
    size_t n = strlen(name);
    const char *line = strstr(head, "\r\n");

    while (line != NULL && line[2] != '\r') {
        line += 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            line += n + 1;
            while (*line == ' ')
                line++;
            return line;
        }
        line = strstr(line, "\r\n");
    }
    return NULL;
}

static char *mask_date(const char *raw, size_t n)
{
    char *head = keep(strndup(raw, n));
    char *d = strstr(head, "\r\nDate: "), *end;

    if (d != NULL && (end = strstr(d + 2, "\r\n")) != NULL) {
        d += 8;
        *d = '*';
        memmove(d + 1, end, strlen(end) + 1);
    }
    return head;
}

static void body_add(resp_t *r, size_t *cap, const char *p, size_t n)
{
    if (r->len + n + 1 > *cap) {
        char *nb;
        while (r->len + n + 1 > *cap)
            *cap = *cap ? *cap * 2 : 4096;
        nb = realloc(r->body, *cap);
        ck_assert_ptr_nonnull(nb);
        r->body = nb;
    }
    memcpy(r->body + r->len, p, n);
    r->len += n;
    r->body[r->len] = '\0';
}

/* Decodes a chunked body starting at buf[at]; returns the offset after
 * the last chunk's CRLF, or 0 when the stream ended first. */
static size_t read_chunked(client_t *c, size_t at, resp_t *r, size_t *cap,
                           long long deadline)
{
    for (;;) {
        char *eol, *end;
        unsigned long long size;

        while ((eol = memmem(c->buf + at, c->len - at, "\r\n", 2)) == NULL)
            if (!recv_some(c, deadline))
                return 0;
        size = strtoull(c->buf + at, &end, 16);
        ck_assert_msg(end == eol && end > c->buf + at,
                      "bad chunk size line in the response: %.20s",
                      c->buf + at);
        at = (size_t)(eol - c->buf) + 2;
        if (size == 0) {
            /* No trailers from the handlers used here: the blank line. */
            while (c->len - at < 2)
                if (!recv_some(c, deadline))
                    return 0;
            ck_assert_msg(memcmp(c->buf + at, "\r\n", 2) == 0,
                          "the last chunk is not followed by CRLF");
            return at + 2;
        }
        while (c->len - at < size + 2)
            if (!recv_some(c, deadline))
                return 0;
        body_add(r, cap, c->buf + at, (size_t)size);
        ck_assert_msg(memcmp(c->buf + at + size, "\r\n", 2) == 0,
                      "chunk data not followed by CRLF");
        at += (size_t)size + 2;
    }
}

/*
 * Reads the next response head and its body (framed by Content-Length,
 * chunked, none for a 1xx, or the close for HTTP/1.0) within WAIT_MS and
 * consumes it, so what follows stays for the next call.  A 100 Continue
 * is a response of its own here: the exact head assertions then show
 * where (and whether) one came.
 */
static void read_response(client_t *c, resp_t *r)
{
    long long deadline = now_ms() + WAIT_MS;
    const char *cl, *te;
    char *end, *raw;
    size_t hlen, cap = 0, done = 0;

    memset(r, 0, sizeof(*r));
    while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
        ck_assert_msg(recv_some(c, deadline),
                      "no response head (%s); got %zu bytes: %.300s",
                      c->eof ? "closed" : "timed out", c->len, c->buf);
    hlen = (size_t)(end + 4 - c->buf);
    r->head = mask_date(c->buf, hlen);
    raw = keep(strndup(c->buf, hlen));
    cl = field(raw, "Content-Length");
    te = field(raw, "Transfer-Encoding");
    body_add(r, &cap, "", 0);
    if (strncmp(raw + 8, " 1", 2) == 0) {
        done = hlen; /* an interim response has no body */
    } else if (te != NULL && strncmp(te, "chunked", 7) == 0) {
        done = read_chunked(c, hlen, r, &cap, deadline);
        ck_assert_msg(done > 0, "chunked body cut off after %zu bytes (%s)",
                      r->len, c->eof ? "closed" : "timed out");
    } else if (cl != NULL) {
        size_t n = (size_t)strtoull(cl, NULL, 10);
        while (c->len - hlen < n)
            ck_assert_msg(recv_some(c, deadline),
                          "body cut off at %zu of %zu bytes (%s)",
                          c->len - hlen, n, c->eof ? "closed" : "timed out");
        body_add(r, &cap, c->buf + hlen, n);
        done = hlen + n;
    } else {
        /* Close-delimited (HTTP/1.0): the close is the end. */
        while (recv_some(c, deadline))
            ;
        ck_assert_msg(c->eof, "close-delimited body: no close in time");
        body_add(r, &cap, c->buf + hlen, c->len - hlen);
        done = c->len;
    }
    keep(r->body);
    consume(c, done);
}

/* Reads a response and asserts its masked head and its body exactly. */
static void expect_response(client_t *c, const char *head, const char *body,
                            size_t len)
{
    resp_t r;

    read_response(c, &r);
    ck_assert_str_eq(r.head, head);
    ck_assert_msg(r.len == len, "body of %zu bytes, want %zu: %.100s", r.len,
                  len, r.body);
    ck_assert_msg(memcmp(r.body, body, len) == 0, "body differs: %.100s",
                  r.body);
}

/* Asserts the server closes the connection (within WAIT_MS) with nothing
 * more sent: no late 100, no second response. */
static void expect_close(client_t *c)
{
    long long deadline = now_ms() + WAIT_MS;

    while (recv_some(c, deadline))
        ;
    ck_assert_msg(c->eof, "the server kept the connection open");
    ck_assert_msg(c->len == 0, "%zu unexpected bytes before the close: %.200s",
                  c->len, c->buf);
}

/*
 * The client's side of the handshake: waits (bounded) for the interim
 * response and asserts it is exactly Go's 100 line and that nothing came
 * with it (the final response cannot precede the body it was asked for).
 */
static void expect_continue(client_t *c)
{
    long long deadline = now_ms() + WAIT_MS;

    while (c->len < CONTINUE_LEN)
        ck_assert_msg(recv_some(c, deadline),
                      "no 100 Continue (%s); got %zu bytes: %.300s",
                      c->eof ? "closed" : "timed out", c->len, c->buf);
    ck_assert_msg(memcmp(c->buf, CONTINUE, CONTINUE_LEN) == 0,
                  "want exactly \"HTTP/1.1 100 Continue\\r\\n\\r\\n\", "
                  "got: %.300s",
                  c->buf);
    consume(c, CONTINUE_LEN);
}

/* ---- expected responses ------------------------------------------------ */

static char *head_cl(const char *status, const char *ctype, size_t n, int close)
{
    return fmt("HTTP/1.1 %s\r\nContent-Type: %s\r\nDate: *\r\n"
               "Content-Length: %zu\r\n%s\r\n",
               status, ctype, n, close ? "Connection: close\r\n" : "");
}

/* What /echo sends for a body of n bytes read whole: Content-Length when
 * it fits the response buffer, chunked beyond; the connection is kept
 * (the body reached its EOF, Go's ecr.sawEOF). */
static void expect_echo(client_t *c, const char *body, size_t n)
{
    expect_response(
        c,
        n <= RESPONSE_BUFFER
            ? head_cl("200 OK", OCTETS, n, 0)
            : fmt("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nDate: *\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n",
                  OCTETS),
        body, n);
}

/* The keep-alive proof: another request on the same connection is
 * served. */
static void expect_usable(client_t *c)
{
    send_str(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_response(c, head_cl("200 OK", TEXT, 6, 0), "hello\n", 6);
}

/* n bytes that are not all alike, so a shift or a dropped slice shows. */
static char *pattern(size_t n)
{
    char *p = keep(malloc(n + 1));
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (char)('a' + (i * 7 + i / 26) % 26);
    p[n] = '\0';
    return p;
}

/* A chunked encoding of body in pieces of at most piece bytes. */
static char *chunked(const char *body, size_t n, size_t piece)
{
    size_t cap = n + (n / piece + 2) * 16, len = 0, at = 0;
    char *out = keep(malloc(cap));

    while (at < n) {
        size_t k = n - at < piece ? n - at : piece;
        len += (size_t)sprintf(out + len, "%zx\r\n", k);
        memcpy(out + len, body + at, k);
        len += k;
        memcpy(out + len, "\r\n", 2);
        len += 2;
        at += k;
    }
    memcpy(out + len, "0\r\n\r\n", 6);
    return out;
}

/* A request head with Expect: 100-continue and a Content-Length. */
static char *expect_head(const char *target, size_t n)
{
    return fmt("POST %s HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
               "Content-Length: %zu\r\n\r\n",
               target, n);
}

/* ---- servers ------------------------------------------------------------- */

static void start(int with_continue)
{
    char *mod = wt_built("modules/.libs/mod_continue.so");
    char *load = with_continue ? wt_fmt("LoadModule continue_module %s\n", mod)
                               : wt_fmt("%s", "");
    char *conf = wt_fmt("%sLoadModule testapp_module %s\nHandler testapp\n"
                        "ResponseBufferSize %d\n",
                        load, wt_testapp(), RESPONSE_BUFFER);

    if (wt_server_start(&srv, conf) != 0)
        srv.port = 0; /* every test then fails with "did not start" */
    free(conf);
    free(load);
    free(mod);
}

static void start_continue(void)
{
    start(1);
}

static void start_plain(void)
{
    start(0);
}

static void stop_server(void)
{
    if (srv.pid > 0)
        wt_server_stop(&srv, SIGTERM, WAIT_MS);
    free(srv.conf);
    free(srv.log);
    memset(&srv, 0, sizeof(srv));
    wt_cleanup();
}

/* ---- a client that waits for the 100 ---------------------------------- */

/* Headers, the 100, then the body: /echo's 200 with the body, and the
 * connection stays usable. */
START_TEST(cl_waits_for_continue)
{
    client_t *c = client_open();
    const char *body = "0123456789";

    send_str(c, expect_head("/echo", 10));
    expect_continue(c);
    ck_assert_msg(c->len == 0, "bytes after the 100 before the body: %s",
                  c->buf);
    send_str(c, body);
    expect_echo(c, body, 10);
    expect_usable(c);
}
END_TEST

/* A chunked body sent chunk by chunk after the 100: the handler reads
 * many times, and only its first read sends a 100 (exactly one on the
 * wire).  Small (Content-Length reply) and past the response buffer
 * (chunked reply). */
static const size_t chunked_sizes[] = { 11, 9000 };

START_TEST(chunked_waits_for_continue)
{
    client_t *c = client_open();
    size_t n = chunked_sizes[_i];
    const char *body = pattern(n);
    const char *enc = chunked(body, n, 3000);
    const char *p = enc;

    send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                "Transfer-Encoding: chunked\r\n\r\n");
    expect_continue(c);
    ck_assert_int_eq(c->len, 0);
    /* One send per chunk line and per chunk, so the handler's reads see
     * the body arrive in pieces. */
    while (*p != '\0') {
        const char *eol = strstr(p, "\r\n");
        size_t k = (size_t)(eol + 2 - p);
        unsigned long long size = strtoull(p, NULL, 16);
        send_buf(c, p, k);
        p += k;
        if (size > 0) {
            send_buf(c, p, (size_t)size + 2);
            p += size + 2;
        }
    }
    expect_echo(c, body, n);
    expect_usable(c);
}
END_TEST

/* ---- clients that do not wait ------------------------------------------ */

/* Headers and body in one send: Go still writes the 100 on the first
 * read (canWriteContinue was set), so the wire holds the 100 and then the
 * final response, in that order; the body was read whole, the connection
 * is kept.  Content-Length and chunked. */
START_TEST(body_sent_at_once)
{
    client_t *c = client_open();
    const char *body = "hello, continue";

    if (_i == 0)
        send_str(c, fmt("%s%s", expect_head("/echo", strlen(body)), body));
    else
        send_str(c, fmt("POST /echo HTTP/1.1\r\nHost: t\r\n"
                        "Expect: 100-continue\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n%s",
                        chunked(body, strlen(body), 4)));
    expect_continue(c);
    expect_echo(c, body, strlen(body));
    expect_usable(c);
}
END_TEST

/* A client with its own short timer (Go's Transport waits
 * ExpectContinueTimeout, then sends anyway): whether the 100 came within
 * the timer or comes after the body, the wire is the same: one 100, then
 * the final response. */
START_TEST(client_timer_then_body)
{
    client_t *c = client_open();
    const char *body = "late body";

    send_str(c, expect_head("/echo", strlen(body)));
    /* The client's timer: at most 50 ms for any byte; not a sync point,
     * both outcomes must give the bytes asserted below. */
    recv_some(c, now_ms() + 50);
    send_str(c, body);
    expect_continue(c);
    expect_echo(c, body, strlen(body));
    expect_usable(c);
}
END_TEST

/*
 * The timer runs out because no 100 will come: /sleep answers without
 * reading.  The client sends its body anyway; the reply is the final
 * response alone (never a 100, before or after it) with Connection:
 * close (Go: ecr && !sawEOF), and the server closes.
 */
START_TEST(client_timer_handler_never_reads)
{
    client_t *c = client_open();

    send_str(c, expect_head("/sleep?ms=200", 5));
    recv_some(c, now_ms() + 50);
    /* The server may close as soon as it answered; a send into that is
     * the client's loss, not the test's. */
    (void)wt_send(c->fd, "abcde", 5);
    expect_response(c, head_cl("200 OK", TEXT, 6, 1), "slept\n", 6);
    expect_close(c);
}
END_TEST

/* ---- handlers that do not read the body (to its end) ------------------ */

/* The handler writes its final response without reading: no 100 is ever
 * sent, the response carries Connection: close, and the server closes
 * without waiting for a body it never asked for. */
static const struct {
    const char *target, *status, *body;
} no_read[] = {
    { "/ignore", "200 OK", "ignored\n" },
    { "/hello", "200 OK", "hello\n" },
    { "/status?code=403", "403 Forbidden", "status 403\n" },
};

START_TEST(handler_never_reads)
{
    client_t *c = client_open();
    const char *body = no_read[_i].body;

    send_str(c, expect_head(no_read[_i].target, 10));
    expect_response(c, head_cl(no_read[_i].status, TEXT, strlen(body), 1), body,
                    strlen(body));
    expect_close(c);
}
END_TEST

/* The same with the body sent at once: the handler wrote first, so no
 * 100 follows the final status line even though the body is there. */
START_TEST(handler_never_reads_body_sent)
{
    client_t *c = client_open();

    send_str(c, fmt("%s0123456789", expect_head("/status?code=403", 10)));
    expect_response(c, head_cl("403 Forbidden", TEXT, 11, 1), "status 403\n",
                    11);
    expect_close(c);
}
END_TEST

/* /read?n=2 of a 10-byte body: the 100 goes out on the first read, the
 * handler stops before the body's end, so the response closes the
 * connection (Go: the next bytes could be the body or a request). */
START_TEST(read_part_closes)
{
    client_t *c = client_open();

    send_str(c, expect_head("/read?n=2", 10));
    expect_continue(c);
    send_str(c, "0123456789");
    expect_response(c, head_cl("200 OK", TEXT, 7, 1), "read 2\n", 7);
    expect_close(c);
}
END_TEST

/* /read?n=10 of a 10-byte body: the last read returns the end of the body
 * with its bytes (Go's body returns io.EOF with them), so sawEOF holds
 * and the connection is kept. */
START_TEST(read_to_end_keeps)
{
    client_t *c = client_open();

    send_str(c, expect_head("/read?n=10", 10));
    expect_continue(c);
    send_str(c, "0123456789");
    expect_response(c, head_cl("200 OK", TEXT, 8, 0), "read 10\n", 8);
    expect_usable(c);
}
END_TEST

/* The handler sends its own 100 (WriteHeader(100)): Go then never writes
 * the automatic one (writeContinueMu), so the only 100 is the handler's,
 * carrying the headers set so far; the final 200 closes, as the body was
 * not read. */
START_TEST(handler_sends_own_100)
{
    client_t *c = client_open();

    send_str(c, expect_head("/status?code=100", 5));
    expect_response(
        c, "HTTP/1.1 100 Continue\r\nContent-Type: " TEXT "\r\n\r\n", "", 0);
    expect_response(c, head_cl("200 OK", TEXT, 0, 1), "", 0);
    expect_close(c);
}
END_TEST

/* ---- requests with nothing to continue ---------------------------------- */

/* HTTP/1.0: Go ignores the expectation (ProtoAtLeast(1, 1) fails), so the
 * client sends its body at once and gets the plain HTTP/1.0 answer, no
 * 100, closed as HTTP/1.0 without keep-alive is. */
START_TEST(http10_ignored)
{
    client_t *c = client_open();

    send_str(c, "POST /echo HTTP/1.0\r\nHost: t\r\nExpect: 100-continue\r\n"
                "Content-Length: 5\r\n\r\nhello");
    expect_response(c,
                    "HTTP/1.0 200 OK\r\nContent-Type: " OCTETS
                    "\r\nDate: *\r\nContent-Length: 5\r\n\r\n",
                    "hello", 5);
    expect_close(c);
}
END_TEST

/* HTTP/1.0 keep-alive to a handler that does not read: had the
 * expectation been armed, the response would close; ignored, the unread
 * body is drained and the connection kept (Go's Connection: keep-alive). */
START_TEST(http10_keepalive_ignored)
{
    client_t *c = client_open();

    send_str(c, "POST /ignore HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n"
                "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello");
    expect_response(c,
                    "HTTP/1.0 200 OK\r\nContent-Type: " TEXT
                    "\r\nDate: *\r\nContent-Length: 8\r\n"
                    "Connection: keep-alive\r\n\r\n",
                    "ignored\n", 8);
    send_str(c, "GET /hello HTTP/1.0\r\nHost: t\r\n"
                "Connection: keep-alive\r\n\r\n");
    expect_response(c,
                    "HTTP/1.0 200 OK\r\nContent-Type: " TEXT
                    "\r\nDate: *\r\nContent-Length: 6\r\n"
                    "Connection: keep-alive\r\n\r\n",
                    "hello\n", 6);
}
END_TEST

/* No body (Content-Length: 0, or a GET with none): no 100 is needed
 * (Go: ContentLength != 0), the request is served and the connection
 * kept. */
START_TEST(zero_length_body)
{
    client_t *c = client_open();

    if (_i == 0) {
        send_str(c, expect_head("/echo", 0));
        expect_response(c, head_cl("200 OK", OCTETS, 0, 0), "", 0);
    } else {
        send_str(c, "GET /hello HTTP/1.1\r\nHost: t\r\n"
                    "Expect: 100-continue\r\n\r\n");
        expect_response(c, head_cl("200 OK", TEXT, 6, 0), "hello\n", 6);
    }
    expect_usable(c);
}
END_TEST

/* ---- which Expect values are claimed ------------------------------------- */

/*
 * Go's expectsContinue is hasToken(Header.get("Expect"), "100-continue"):
 * the first field's value; the token anywhere, case-blind, bounded by
 * space, comma, tab or the value's ends.  Anything else non-empty gets
 * sendExpectationFailed.
 */
static const struct {
    const char *fields; /* the Expect field line(s) */
    int claimed;        /* 1: a 100; 0: 417 */
} tokens[] = {
    { "Expect: 100-continue\r\n", 1 },
    { "Expect: 100-CONTINUE\r\n", 1 },
    { "Expect: 100-continue, foo\r\n", 1 },
    { "Expect: foo, 100-continue\r\n", 1 },
    { "Expect: foo,100-continue\r\n", 1 },
    { "Expect: foo 100-continue\r\n", 1 },  /* space is a boundary */
    { "Expect: 100-continue\tfoo\r\n", 1 }, /* and so is a tab */
    { "Expect: 100-continue\r\nExpect: foo\r\n", 1 },
    { "Expect: foo\r\n", 0 },
    { "Expect: foo\r\nExpect: 100-continue\r\n", 0 }, /* the first only */
    { "Expect: 100-continue;q=1\r\n", 0 },
    { "Expect: 100-continuex\r\n", 0 },
    { "Expect: x100-continue\r\n", 0 },
    { "Expect: continue\r\n", 0 },
};

START_TEST(expect_tokens)
{
    client_t *c = client_open();

    send_str(c, fmt("POST /echo HTTP/1.1\r\nHost: t\r\n%sContent-Length: 5"
                    "\r\n\r\n",
                    tokens[_i].fields));
    if (tokens[_i].claimed) {
        expect_continue(c);
        send_str(c, "hello");
        expect_echo(c, "hello", 5);
        expect_usable(c);
    } else {
        /* The body is never sent: 417 does not ask for it. */
        expect_response(c, EXPECTATION_FAILED, "", 0);
        expect_close(c);
    }
}
END_TEST

/* An unclaimed expectation on a request without a body: 417 all the
 * same, before any handler runs. */
START_TEST(unclaimed_without_body)
{
    client_t *c = client_open();

    send_str(c, "GET /hello HTTP/1.1\r\nHost: t\r\nExpect: foo\r\n\r\n");
    expect_response(c, EXPECTATION_FAILED, "", 0);
    expect_close(c);
}
END_TEST

/* An empty Expect value is no expectation (Go: Header.get(...) != ""):
 * served, no 100, kept. */
START_TEST(empty_expect_ignored)
{
    client_t *c = client_open();

    send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: \r\n"
                "Content-Length: 5\r\n\r\nhello");
    expect_echo(c, "hello", 5);
    expect_usable(c);
}
END_TEST

/* ---- many on one connection ------------------------------------------- */

/* Sequential 100-continue requests on one keep-alive connection, the
 * client waiting for each 100; Content-Length and chunked alternate. */
START_TEST(many_on_one_connection)
{
    client_t *c = client_open();
    int i;

    for (i = 0; i < 40; i++) {
        const char *body = fmt("request %d of many", i);
        size_t n = strlen(body);

        if (i % 2 == 0)
            send_str(c, expect_head("/echo", n));
        else
            send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                        "Expect: 100-continue\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n");
        expect_continue(c);
        ck_assert_msg(c->len == 0, "request %d: bytes after the 100: %s", i,
                      c->buf);
        send_str(c, i % 2 == 0 ? body : chunked(body, n, 5));
        expect_echo(c, body, n);
    }
    expect_usable(c);
}
END_TEST

/* ---- without mod_continue ------------------------------------------------ */

/* Nothing claims 100-continue: the core answers 417 and closes. */
START_TEST(no_module_417)
{
    client_t *c = client_open();

    send_str(c, expect_head("/echo", 5));
    expect_response(c, EXPECTATION_FAILED, "", 0);
    expect_close(c);
}
END_TEST

/* ---- the suite ---------------------------------------------------------- */

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
    Suite *s = suite_create("continue");
    TCase *wait = tcase_create("client waits");
    TCase *nowait = tcase_create("client does not wait");
    TCase *noread = tcase_create("handler does not read");
    TCase *nothing = tcase_create("nothing to continue");
    TCase *claim = tcase_create("expect values");
    TCase *plain = tcase_create("without mod_continue");
    TCase *with[] = { wait, nowait, noread, nothing, claim };
    SRunner *sr;
    int i, failed;

    for (i = 0; i < N(with); i++)
        tcase_add_unchecked_fixture(with[i], start_continue, stop_server);
    tcase_add_unchecked_fixture(plain, start_plain, stop_server);
    for (i = 0; i < N(with); i++) {
        tcase_add_checked_fixture(with[i], NULL, teardown);
        tcase_set_timeout(with[i], 120);
        suite_add_tcase(s, with[i]);
    }
    tcase_add_checked_fixture(plain, NULL, teardown);
    tcase_set_timeout(plain, 120);
    suite_add_tcase(s, plain);

    tcase_add_test(wait, cl_waits_for_continue);
    tcase_add_loop_test(wait, chunked_waits_for_continue, 0, N(chunked_sizes));
    tcase_add_test(wait, many_on_one_connection);

    tcase_add_loop_test(nowait, body_sent_at_once, 0, 2);
    tcase_add_test(nowait, client_timer_then_body);
    tcase_add_test(nowait, client_timer_handler_never_reads);

    tcase_add_loop_test(noread, handler_never_reads, 0, N(no_read));
    tcase_add_test(noread, handler_never_reads_body_sent);
    tcase_add_test(noread, read_part_closes);
    tcase_add_test(noread, read_to_end_keeps);
    tcase_add_test(noread, handler_sends_own_100);

    tcase_add_test(nothing, http10_ignored);
    tcase_add_test(nothing, http10_keepalive_ignored);
    tcase_add_loop_test(nothing, zero_length_body, 0, 2);
    tcase_add_test(nothing, empty_expect_ignored);

    tcase_add_loop_test(claim, expect_tokens, 0, N(tokens));
    tcase_add_test(claim, unclaimed_without_body);

    tcase_add_test(plain, no_module_417);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
