/*
 * test_http_body.c -- request bodies on the wire: Content-Length and
 * chunked bodies echoed (sizes, extensions, trailers, split writes),
 * malformed chunking, bodies cut short or timed out, Go's 256 KiB drain
 * rule for unread bodies, pipelining after a body, and bounded memory.
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
#define MIB (1024 * 1024)
/* Go's maxPostHandlerReadBytes: unread body the server drains. */
#define DRAIN_LIMIT (256 * KIB)
/* The servers' MaxHeaderBytes, which also bounds chunked trailers. */
#define MAX_HEADER 8192
/* The servers' ResponseBufferSize (the default, stated): a handler that
 * finishes within it gets Content-Length, beyond it chunked. */
#define RESPONSE_BUFFER 4096

#define OCTETS "application/octet-stream"
#define TEXT "text/plain; charset=utf-8"

/* One server per TCase, started by an unchecked fixture in the parent:
 * every forked test of the case talks to the same weftd. */
static wt_server_t srv;

/* ---- memory: what a test allocates is freed by its teardown ---------- */

static void *heap[256];
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

static client_t *clients[16];
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
        if (c->cap - c->len < 64 * KIB) {
            char *nb = realloc(c->buf, c->cap * 2);
            ck_assert_ptr_nonnull(nb);
            c->buf = nb;
            c->cap *= 2;
        }
        n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n > 0) {
            c->len += (size_t)n;
            return 1;
        }
        if (n < 0 && errno == EINTR)
            continue;
        c->eof = 1; /* 0 is a FIN; ECONNRESET counts as a close too */
        return 0;
    }
}

static void consume(client_t *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
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

/* Appends n bytes to a growing body. */
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
 * Reads one whole response (framed by Content-Length, chunked, or the
 * close for HTTP/1.0) within WAIT_MS and consumes it from the buffer, so
 * a pipelined response after it stays for the next call.
 */
static void read_response(client_t *c, resp_t *r)
{
    long long deadline = now_ms() + WAIT_MS;
    const char *cl, *te;
    char *end, *raw;
    size_t hlen, cap = 0, done = 0;

    memset(r, 0, sizeof(*r));
    while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL) {
        c->buf[c->len < c->cap ? c->len : c->cap - 1] = '\0';
        ck_assert_msg(recv_some(c, deadline),
                      "no response head (%s); got %zu bytes: %.300s",
                      c->eof ? "closed" : "timed out", c->len, c->buf);
    }
    hlen = (size_t)(end + 4 - c->buf);
    r->head = mask_date(c->buf, hlen);
    raw = keep(strndup(c->buf, hlen));
    cl = field(raw, "Content-Length");
    te = field(raw, "Transfer-Encoding");
    body_add(r, &cap, "", 0);
    if (te != NULL && strncmp(te, "chunked", 7) == 0) {
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

/* Asserts the server closes the connection (within WAIT_MS) with nothing
 * more sent. */
static void expect_close(client_t *c)
{
    long long deadline = now_ms() + WAIT_MS;

    while (recv_some(c, deadline))
        ;
    ck_assert_msg(c->eof, "the server kept the connection open");
    c->buf[c->len < c->cap ? c->len : c->cap - 1] = '\0';
    ck_assert_msg(c->len == 0, "%zu unexpected bytes before the close: %.200s",
                  c->len, c->buf);
}

/* ---- expected responses ------------------------------------------------ */

static char *head_cl(const char *ctype, size_t n, int close)
{
    return fmt("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nDate: *\r\n"
               "Content-Length: %zu\r\n%s\r\n",
               ctype, n, close ? "Connection: close\r\n" : "");
}

static char *head_chunked(const char *ctype)
{
    return fmt("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nDate: *\r\n"
               "Transfer-Encoding: chunked\r\n\r\n",
               ctype);
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

/* What /echo sends for a body of n bytes read whole: Content-Length when
 * it fits the response buffer, chunked beyond (Go's rule). */
static void expect_echo(client_t *c, const char *body, size_t n)
{
    expect_response(
        c, n <= RESPONSE_BUFFER ? head_cl(OCTETS, n, 0) : head_chunked(OCTETS),
        body, n);
}

/* What /echo sends when reading failed after n bytes: those bytes, and
 * Connection: close; then the connection must close. */
static void expect_echo_failed(client_t *c, const char *body, size_t n)
{
    expect_response(c, head_cl(OCTETS, n, 1), body, n);
    expect_close(c);
}

/* The keep-alive proof: another request on the same connection is
 * served. */
static void expect_usable(client_t *c)
{
    send_str(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_response(c, head_cl(TEXT, 6, 0), "hello\n", 6);
}

/* n bytes that are not all alike, so a shift or a dropped slice shows. */
static char *pattern(size_t n)
{
    char *p = keep(malloc(n + 1));
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (char)((i * 131 + i / 251) & 0xff);
    p[n] = '\0';
    return p;
}

/* ---- servers ------------------------------------------------------------- */

static void start(const char *extra)
{
    char *conf = wt_fmt("LoadModule testapp_module %s\nHandler testapp\n"
                        "MaxHeaderBytes %d\nResponseBufferSize %d\n%s",
                        wt_testapp(), MAX_HEADER, RESPONSE_BUFFER, extra);

    if (wt_server_start(&srv, conf) != 0)
        srv.port = 0; /* every test then fails with "did not start" */
    free(conf);
}

static void start_main(void)
{
    start("");
}

static void start_read_timeout(void)
{
    start("ReadTimeout 1s\n");
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

/* ---- Content-Length bodies ---------------------------------------------- */

/* Around the 4 KiB response buffer the echo's framing flips from
 * Content-Length to chunked; 1 and 10 MiB stream through the 16 KiB read
 * buffer. */
static const size_t cl_sizes[] = { 0,
                                   1,
                                   11,
                                   RESPONSE_BUFFER - 1,
                                   RESPONSE_BUFFER,
                                   RESPONSE_BUFFER + 1,
                                   65537,
                                   MIB,
                                   10 * MIB };
#define N_CL_SIZES (int)(sizeof(cl_sizes) / sizeof(cl_sizes[0]))

START_TEST(cl_echo)
{
    size_t n = cl_sizes[_i];
    client_t *c = client_open();
    char *body = pattern(n);

    send_str(c, fmt("POST /echo HTTP/1.1\r\nHost: t\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    n));
    send_buf(c, body, n);
    expect_echo(c, body, n);
    expect_usable(c);
}
END_TEST

static long vm_rss_kib(pid_t pid)
{
    char path[64], *status, *at;
    long kib = -1;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    status = wt_read(path, NULL);
    if (status != NULL && (at = strstr(status, "VmRSS:")) != NULL)
        kib = strtol(at + 6, NULL, 10);
    free(status);
    return kib;
}

/* Streams n body bytes of a /read?n=N request, then checks "read N". */
static void read_all(client_t *c, size_t n)
{
    size_t block = 256 * KIB, sent = 0;
    char *chunk = pattern(block);
    char *want = fmt("read %zu\n", n);

    send_str(c, fmt("POST /read?n=%zu HTTP/1.1\r\nHost: t\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    n, n));
    while (sent < n) {
        size_t k = n - sent < block ? n - sent : block;
        send_buf(c, chunk, k);
        sent += k;
    }
    expect_response(c, head_cl(TEXT, strlen(want), 0), want, strlen(want));
}

/* The body streams through the connection's fixed buffers: a 64 MiB body
 * the handler reads and discards leaves the server's resident size
 * nearly where it was. */
START_TEST(memory_bounded)
{
    client_t *c = client_open();
    long before, after;

    /* Warm up first (thread, buffers, pools) so only the body counts. */
    read_all(c, MIB);
    before = vm_rss_kib(srv.pid);
    ck_assert_int_gt(before, 0);
    read_all(c, 64 * MIB);
    after = vm_rss_kib(srv.pid);
    ck_assert_msg(after - before < 16 * KIB,
                  "VmRSS grew by %ld KiB for a 64 MiB body", after - before);
    expect_usable(c);
}
END_TEST

/* HTTP/1.0 bodies are framed by Content-Length as in 1.1; the response is
 * not kept alive, so no Connection header and the close follows. */
START_TEST(http10_body)
{
    client_t *c = client_open();

    send_str(c, "POST /echo HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello");
    expect_response(c,
                    "HTTP/1.0 200 OK\r\nContent-Type: " OCTETS
                    "\r\nDate: *\r\nContent-Length: 5\r\n\r\n",
                    "hello", 5);
    expect_close(c);
}
END_TEST

/* Go hands a GET's body to the handler like any other. */
START_TEST(get_with_body)
{
    client_t *c = client_open();

    send_str(c, "GET /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\n"
                "abc");
    expect_echo(c, "abc", 3);
    expect_usable(c);
}
END_TEST

/* A request that follows a body in the same segment is not part of it:
 * both are answered, in order. */
static const char *const pipelined_first[] = {
    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n0\r\n\r\n",
};

START_TEST(pipelined_after_body)
{
    client_t *c = client_open();

    send_str(c, fmt("%sGET /hello HTTP/1.1\r\nHost: t\r\n\r\n",
                    pipelined_first[_i]));
    expect_echo(c, "hello", 5);
    expect_response(c, head_cl(TEXT, 6, 0), "hello\n", 6);
    expect_usable(c);
}
END_TEST

/* ---- chunked bodies ------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *wire; /* the chunked body */
    const char *body; /* what the handler reads */
} chunk_case_t;

static const chunk_case_t chunked_ok[] = {
    { "single chunk", "5\r\nhello\r\n0\r\n\r\n", "hello" },
    { "two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world" },
    { "extensions",
      "3;name=value\r\nabc\r\n4;a;b=\"q s\"\r\ndefg\r\n0;end\r\n\r\n",
      "abcdefg" },
    { "uppercase hex",
      "A\r\n0123456789\r\n1F\r\nabcdefghijklmnopqrstuvwxyz01234\r\n"
      "0\r\n\r\n",
      "0123456789abcdefghijklmnopqrstuvwxyz01234" },
    { "leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello" },
    { "trailers", "5\r\nhello\r\n0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n",
      "hello" },
    { "zero length", "0\r\n\r\n", "" },
    { "zero length with trailer", "0\r\nX-Trailer: yes\r\n\r\n", "" },
};
#define N_CHUNKED_OK (int)(sizeof(chunked_ok) / sizeof(chunked_ok[0]))

START_TEST(chunked_echo)
{
    const chunk_case_t *k = &chunked_ok[_i];
    client_t *c = client_open();

    send_str(c, fmt("POST /echo HTTP/1.1\r\nHost: t\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n%s",
                    k->wire));
    expect_echo(c, k->body, strlen(k->body));
    /* Trailers and all were consumed: the next request parses. */
    expect_usable(c);
}
END_TEST

/* A thousand chunks of varied sizes, hex sizes of one to two digits, in
 * one stream larger than the read buffer. */
START_TEST(chunked_many)
{
    client_t *c = client_open();
    size_t total = 0, wlen = 0, i;
    char *wire = keep(malloc(256 * KIB)), *body = keep(malloc(128 * KIB));

    for (i = 0; i < 1000; i++) {
        size_t n = 1 + (i * 37) % 200, j;
        wlen += (size_t)sprintf(wire + wlen, "%zx\r\n", n);
        for (j = 0; j < n; j++)
            body[total + j] = wire[wlen + j] = (char)('a' + (i + j) % 26);
        wlen += n;
        total += n;
        memcpy(wire + wlen, "\r\n", 2);
        wlen += 2;
    }
    memcpy(wire + wlen, "0\r\n\r\n", 5);
    wlen += 5;
    send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                "Transfer-Encoding: chunked\r\n\r\n");
    send_buf(c, wire, wlen);
    expect_echo(c, body, total);
    expect_usable(c);
}
END_TEST

/*
 * The framing cut at every awkward place: inside a size, between CR and
 * LF, inside data, inside an extension and a trailer.  The short pauses
 * only make it likely that the pieces arrive in separate reads; the
 * assertions do not depend on how they arrive.
 */
START_TEST(chunked_split_writes)
{
    static const char *const pieces[] = {
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
        "1",
        "0\r",
        "\n0123456",
        "789abcdef\r",
        "\n",
        "3;ex",
        "t=v\r\nxy",
        "z\r\n0",
        "\r\nX-T",
        "railer: 1\r",
        "\n",
        "\r",
        "\n"
    };
    client_t *c = client_open();
    size_t i;

    for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        send_str(c, pieces[i]);
        poll(NULL, 0, 5);
    }
    expect_echo(c, "0123456789abcdefxyz", 19);
    expect_usable(c);
}
END_TEST

/* Malformed framing: the handler's read fails, /echo writes what it read
 * before the error, and the connection closes (Go's chunkedReader). */
static const chunk_case_t chunked_bad[] = {
    { "bad hex", "5\r\nhello\r\nzz\r\nab\r\n0\r\n\r\n", "hello" },
    { "hex prefix", "0x5\r\nhello\r\n0\r\n\r\n", "" },
    { "negative size", "-5\r\nhello\r\n0\r\n\r\n", "" },
    { "empty size line", "5\r\nhello\r\n\r\n0\r\n\r\n", "hello" },
    { "data not followed by CRLF", "5\r\nhelloXY0\r\n\r\n", "hello" },
    { "data longer than its size", "3\r\nhello\r\n0\r\n\r\n", "hel" },
    { "LF after data", "5\r\nhello\n0\r\n\r\n", "hello" },
    { "LF-only size line", "5\nhello\r\n0\r\n\r\n", "" },
    { "LF-only last chunk", "5\r\nhello\r\n0\n\n", "hello" },
    { "size overflow", "5\r\nhello\r\n1ffffffffffffffff\r\nabc\r\n0\r\n\r\n",
      "hello" },
};
#define N_CHUNKED_BAD (int)(sizeof(chunked_bad) / sizeof(chunked_bad[0]))

START_TEST(chunked_malformed)
{
    const chunk_case_t *k = &chunked_bad[_i];
    client_t *c = client_open();

    send_str(c, fmt("POST /echo HTTP/1.1\r\nHost: t\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n%s",
                    k->wire));
    expect_echo_failed(c, k->body, strlen(k->body));
}
END_TEST

/* A request whose chunk extension is over the limit: "hello", then a
 * chunk line with n bytes of extension. */
static void send_long_extension(client_t *c, size_t n)
{
    char *ext = keep(malloc(n + 1));

    memset(ext, 'a', n);
    ext[0] = 'x';
    ext[1] = '=';
    ext[n] = '\0';
    send_str(c, fmt("POST /echo HTTP/1.1\r\nHost: t\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n5;%s\r\nworld\r\n0\r\n\r\n",
                    ext));
}

/* Chunk extensions are bounded (Go refuses a chunk line over 4 KiB):
 * 4000 bytes of them pass, 5000 in one chunk fail the read. */
START_TEST(chunk_extension_limit)
{
    client_t *c = client_open();

    send_long_extension(c, 4000);
    expect_echo(c, "helloworld", 10);
    send_long_extension(c, 5000);
    expect_echo_failed(c, "hello", 5);
}
END_TEST

/* The count is per chunk: a connection that failed on a long extension
 * must not leave it to the next one (which may well get the same
 * recycled connection struct), so a short extension still passes. */
START_TEST(chunk_extension_count_resets)
{
    int i;

    for (i = 0; i < 3; i++) {
        client_t *c = client_open();

        send_long_extension(c, 5000);
        expect_echo_failed(c, "hello", 5);
        c = client_open();
        send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"
                    "5;a=b\r\nhello\r\n0\r\n\r\n");
        expect_echo(c, "hello", 5);
    }
}
END_TEST

/* Trailers count against MaxHeaderBytes: many small ones, or one huge
 * value, over the limit fail the read and close the connection. */
START_TEST(trailers_too_large)
{
    client_t *c = client_open();
    size_t cap = 2 * MAX_HEADER + 256, n = 0;
    char *trailers = keep(malloc(cap));
    int i;

    if (_i == 0) {
        /* 64 bytes a field, a little over the limit in all. */
        for (i = 0; i < MAX_HEADER / 64 + 8; i++)
            n += (size_t)snprintf(trailers + n, cap - n,
                                  "X-Trailer-%03d: %048d\r\n", i, i);
    } else {
        n = (size_t)snprintf(trailers, cap, "X-Big: ");
        memset(trailers + n, 'v', MAX_HEADER);
        n += MAX_HEADER;
        n += (size_t)snprintf(trailers + n, cap - n, "\r\n");
    }
    send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n");
    send_buf(c, trailers, n);
    send_str(c, "\r\n");
    expect_echo_failed(c, "hello", 5);
}
END_TEST

/* ---- the drain rule for unread bodies ------------------------------------ */

typedef struct {
    const char *name;
    int chunked;
    size_t declared; /* Content-Length, or the chunked body's size */
    size_t sent;     /* body bytes actually sent */
} drain_case_t;

/* Sends POST target with a body per k: Content-Length, or chunked in
 * 16 KiB chunks (the terminator only when the whole body is sent). */
static void send_body_request(client_t *c, const char *target,
                              const drain_case_t *k)
{
    char *data = pattern(16 * KIB);
    size_t sent = 0;

    if (!k->chunked) {
        send_str(c, fmt("POST %s HTTP/1.1\r\nHost: t\r\n"
                        "Content-Length: %zu\r\n\r\n",
                        target, k->declared));
        while (sent < k->sent) {
            size_t n = k->sent - sent < 16 * KIB ? k->sent - sent : 16 * KIB;
            send_buf(c, data, n);
            sent += n;
        }
        return;
    }
    send_str(c, fmt("POST %s HTTP/1.1\r\nHost: t\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n",
                    target));
    while (sent < k->sent) {
        size_t n = k->sent - sent < 16 * KIB ? k->sent - sent : 16 * KIB;
        send_str(c, fmt("%zx\r\n", n));
        send_buf(c, data, n);
        send_str(c, "\r\n");
        sent += n;
    }
    if (sent == k->declared)
        send_str(c, "0\r\n\r\n");
}

/* Under 256 KiB left unread: the server drains it and keeps the
 * connection. */
static const drain_case_t drain_kept[] = {
    { "length 100 KiB", 0, 100 * KIB, 100 * KIB },
    { "chunked 100 KiB", 1, 100 * KIB, 100 * KIB },
    { "length 256 KiB - 1", 0, DRAIN_LIMIT - 1, DRAIN_LIMIT - 1 },
    { "chunked 200 KiB", 1, 200 * KIB, 200 * KIB },
};
#define N_DRAIN_KEPT (int)(sizeof(drain_kept) / sizeof(drain_kept[0]))

START_TEST(unread_body_drained)
{
    client_t *c = client_open();

    send_body_request(c, "/ignore", &drain_kept[_i]);
    expect_response(c, head_cl(TEXT, 8, 0), "ignored\n", 8);
    expect_usable(c);
}
END_TEST

/*
 * 256 KiB or more unread: Go does not read a declared length at all and
 * reads at most 256 KiB of a chunked body; the response says
 * Connection: close and the connection closes after it.  Only part of a
 * large declared body is sent: the decision must not wait for the rest.
 */
static const drain_case_t drain_closed[] = {
    { "length 1 MiB", 0, MIB, 16 * KIB },
    { "length exactly 256 KiB", 0, DRAIN_LIMIT, 16 * KIB },
    { "chunked 300 KiB", 1, 400 * KIB, 300 * KIB },
};
#define N_DRAIN_CLOSED (int)(sizeof(drain_closed) / sizeof(drain_closed[0]))

START_TEST(unread_body_too_big)
{
    client_t *c = client_open();

    send_body_request(c, "/ignore", &drain_closed[_i]);
    expect_response(c, head_cl(TEXT, 8, 1), "ignored\n", 8);
    expect_close(c);
}
END_TEST

/* A partly read body: the rest is what the drain rule weighs. */
START_TEST(partly_read_small_rest)
{
    static const drain_case_t k = { "length 100", 0, 100, 100 };
    client_t *c = client_open();

    send_body_request(c, "/read?n=10", &k);
    expect_response(c, head_cl(TEXT, 8, 0), "read 10\n", 8);
    expect_usable(c);
}
END_TEST

START_TEST(partly_read_big_rest)
{
    static const drain_case_t k = { "length 1 MiB", 0, MIB, 16 * KIB };
    client_t *c = client_open();

    send_body_request(c, "/read?n=10", &k);
    expect_response(c, head_cl(TEXT, 8, 1), "read 10\n", 8);
    expect_close(c);
}
END_TEST

/* ---- bodies cut short ----------------------------------------------------- */

/* The client half-closes before the declared end: the read fails with an
 * unexpected EOF, /echo answers with what came, and the server closes
 * rather than waiting for bytes that cannot come. */
START_TEST(cut_short_half_close)
{
    client_t *c = client_open();

    if (_i == 0)
        send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n"
                    "\r\n0123456789");
    else
        send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"
                    "5\r\n01234\r\na\r\n56789");
    ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
    expect_echo_failed(c, "0123456789", 10);
}
END_TEST

/* ReadTimeout covers the whole request: a client that stops mid-body
 * has its read time out, gets what was read, and is closed. */
START_TEST(read_timeout_mid_body)
{
    client_t *c = client_open();
    long long t0 = now_ms(), took;

    if (_i == 0)
        send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n"
                    "\r\n0123456789");
    else
        send_str(c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"
                    "5\r\n01234\r\na\r\n56789");
    expect_echo_failed(c, "0123456789", 10);
    took = now_ms() - t0;
    /* The deadline is 1 s from when the request began to be read. */
    ck_assert_msg(took >= 900, "answered after %lld ms, before ReadTimeout",
                  took);
}
END_TEST

/* ---- the suite ---------------------------------------------------------- */

int main(void)
{
    Suite *s = suite_create("http_body");
    TCase *length = tcase_create("content-length");
    TCase *chunked = tcase_create("chunked");
    TCase *drain = tcase_create("drain");
    TCase *cut = tcase_create("cut short");
    TCase *timeout = tcase_create("read timeout");
    TCase *all[] = { length, chunked, drain, cut, timeout };
    SRunner *sr;
    size_t i;
    int failed;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_add_unchecked_fixture(
            all[i], all[i] == timeout ? start_read_timeout : start_main,
            stop_server);
        tcase_add_checked_fixture(all[i], NULL, teardown);
        tcase_set_timeout(all[i], 120);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_loop_test(length, cl_echo, 0, N_CL_SIZES);
    tcase_add_test(length, memory_bounded);
    tcase_add_test(length, http10_body);
    tcase_add_test(length, get_with_body);
    tcase_add_loop_test(length, pipelined_after_body, 0, 2);

    tcase_add_loop_test(chunked, chunked_echo, 0, N_CHUNKED_OK);
    tcase_add_test(chunked, chunked_many);
    tcase_add_test(chunked, chunked_split_writes);
    tcase_add_loop_test(chunked, chunked_malformed, 0, N_CHUNKED_BAD);
    tcase_add_test(chunked, chunk_extension_limit);
    tcase_add_test(chunked, chunk_extension_count_resets);
    tcase_add_loop_test(chunked, trailers_too_large, 0, 2);

    tcase_add_loop_test(drain, unread_body_drained, 0, N_DRAIN_KEPT);
    tcase_add_loop_test(drain, unread_body_too_big, 0, N_DRAIN_CLOSED);
    tcase_add_test(drain, partly_read_small_rest);
    tcase_add_test(drain, partly_read_big_rest);

    tcase_add_loop_test(cut, cut_short_half_close, 0, 2);
    tcase_add_loop_test(timeout, read_timeout_mid_body, 0, 2);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
