/*
 * test_websocket.c -- mod_upgrade's WebSocket against a running weftd: the
 * handshake and its refusals, frames and protocol errors from a raw socket,
 * real clients (Python's websockets, Node's ws), and close 1001 on Shutdown.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft_test.h"

/* Every wait is bounded by this; generous for sanitizer builds. */
#define WAIT_MS 10000
/* "Promptly", as test_shutdown.c has it: about a second, with room for
 * ASan and TSan. */
#define PROMPT_MS 3000
/* A client script's whole run. */
#define CLIENT_MS 120000
/* WebSocketMaxMessage in most tests here. */
#define MAX_MESSAGE (1 << 20)

/* RFC 6455 section 1.3's example key and the answer it must get. */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define SWITCHING                          \
    "HTTP/1.1 101 Switching Protocols\r\n" \
    "Upgrade: websocket\r\n"               \
    "Connection: Upgrade\r\n"              \
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
#define HANDSHAKE(path)              \
    "GET " path " HTTP/1.1\r\n"      \
    "Host: weft.test\r\n"            \
    "Upgrade: websocket\r\n"         \
    "Connection: Upgrade\r\n"        \
    "Sec-WebSocket-Key: " KEY "\r\n" \
    "Sec-WebSocket-Version: 13\r\n\r\n"

/* Sent by Shutdown: 1001 and its reason, exactly. */
#define GOING_AWAY "\x88\x16\x03\xe9server shutting down"

static wt_server_t srv;

static const char *const mpms[] = { "thread", "worker" };
#define N_MPMS ((int)(sizeof(mpms) / sizeof(mpms[0])))

/* Set by main before the tests fork: Node and the ws package. */
static const char *node_bin;     /* NULL: node or npm is missing */
static const char *node_modules; /* where npm installed ws */
static const char *npm_failure;  /* npm's output when it failed */
static char npm_dir[256];        /* removed when the suite ends */

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the server ---------------------------------------------------------- */

static const char *upgrade_so(void)
{
    return wt_built("modules/.libs/mod_upgrade.so");
}

/* weftd with websocket-echo as the root handler; extra adds directives
 * (WebSocketMaxMessage 1M unless extra sets it). */
static void start(const char *mpm, const char *extra)
{
    const char *body = wt_fmt(
        "LoadModule upgrade_module \"%s\"\n"
        "Handler websocket-echo\n"
        "MPM %s\n%s%s%s",
        upgrade_so(), mpm, strcmp(mpm, "worker") == 0 ? "Threads 32\n" : "",
        strstr(extra, "WebSocketMaxMessage") ? "" : "WebSocketMaxMessage 1M\n",
        extra);

    ck_assert_msg(wt_server_start(&srv, body) == 0, "weftd did not start");
}

/* Waits at most timeout_ms for weftd to exit by itself: its exit status,
 * -1 if a signal ended it, -2 while it still runs. */
static int wait_exit(int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    int status;

    if (srv.pid <= 0)
        return -3;
    for (;;) {
        if (waitpid(srv.pid, &status, WNOHANG) == srv.pid) {
            srv.pid = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        if (now_ms() >= deadline)
            return -2;
        poll(NULL, 0, 5);
    }
}

static void expect_exit(int timeout_ms)
{
    int rc = wait_exit(timeout_ms);

    ck_assert_msg(rc == 0, "weftd: %s %d; log:\n%s",
                  rc == -2 ? "still running after ms" : "exit status",
                  rc == -2 ? timeout_ms : rc, wt_server_log(&srv));
}

static void stop_server(void)
{
    int rc = wt_server_stop(&srv, SIGTERM, WAIT_MS);

    ck_assert_msg(rc == 0, "weftd: %d after SIGTERM; log:\n%s", rc,
                  wt_server_log(&srv));
}

static void sigterm(void)
{
    ck_assert_msg(srv.pid > 0 && kill(srv.pid, SIGTERM) == 0,
                  "cannot signal weftd");
}

/* ---- raw WebSocket frames ------------------------------------------------ */

static int dial(void)
{
    int fd = wt_connect(srv.port, WAIT_MS);

    ck_assert_msg(fd >= 0, "cannot connect to weftd on port %d", srv.port);
    return fd;
}

/* Reads exactly n bytes before deadline: 0, or -1 at EOF or the deadline
 * (*got, if not NULL, says how many came). */
static int recv_exact(int fd, void *buf, size_t n, long long deadline,
                      size_t *got)
{
    char *p = buf;
    size_t have = 0;

    while (have < n) {
        struct pollfd pf = { fd, POLLIN, 0 };
        long long left = deadline - now_ms();
        ssize_t k;
        if (left <= 0)
            break;
        if (poll(&pf, 1, (int)left) <= 0)
            continue;
        k = recv(fd, p + have, n - have, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        have += (size_t)k;
    }
    if (got != NULL)
        *got = have;
    return have == n ? 0 : -1;
}

/* A frame as received: header size kept, to check the length encoding. */
typedef struct {
    int fin, rsv, op, masked;
    size_t hlen, len;
    unsigned char *data; /* malloc'd, len + 1 bytes */
} frame_t;

static int recv_frame(int fd, frame_t *f, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    unsigned char h[8];
    size_t i, ext;

    memset(f, 0, sizeof(*f));
    if (recv_exact(fd, h, 2, deadline, NULL) < 0)
        return -1;
    f->fin = h[0] >> 7;
    f->rsv = (h[0] >> 4) & 7;
    f->op = h[0] & 15;
    f->masked = h[1] >> 7;
    f->len = h[1] & 127;
    ext = f->len == 126 ? 2 : f->len == 127 ? 8 : 0;
    f->hlen = 2 + ext;
    if (ext > 0) {
        if (recv_exact(fd, h, ext, deadline, NULL) < 0)
            return -1;
        for (f->len = 0, i = 0; i < ext; i++)
            f->len = f->len << 8 | h[i];
    }
    f->data = malloc(f->len + 1);
    if (f->data == NULL || recv_exact(fd, f->data, f->len, deadline, NULL))
        return -1;
    f->data[f->len] = '\0';
    return 0;
}

/* One frame as a client sends it: first byte b0 (FIN, RSV, opcode), the
 * payload masked unless masked is 0. */
static void send_frame_m(int fd, int b0, int masked, const void *p, size_t n)
{
    static const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    unsigned char *buf = malloc(n + 14);
    size_t h = 0, i;

    ck_assert_ptr_nonnull(buf);
    buf[h++] = (unsigned char)b0;
    if (n < 126) {
        buf[h++] = (unsigned char)((masked ? 0x80 : 0) | n);
    } else if (n <= 0xFFFF) {
        buf[h++] = (unsigned char)((masked ? 0x80 : 0) | 126);
        buf[h++] = (unsigned char)(n >> 8);
        buf[h++] = (unsigned char)n;
    } else {
        buf[h++] = (unsigned char)((masked ? 0x80 : 0) | 127);
        for (i = 0; i < 8; i++)
            buf[h++] = (unsigned char)((unsigned long long)n >> (56 - 8 * i));
    }
    if (masked) {
        memcpy(buf + h, key, 4);
        h += 4;
    }
    for (i = 0; i < n; i++)
        buf[h + i] = ((const unsigned char *)p)[i] ^ (masked ? key[i & 3] : 0);
    ck_assert_int_eq(wt_send(fd, buf, h + n), 0);
    free(buf);
}

static void send_frame(int fd, int b0, const void *p, size_t n)
{
    send_frame_m(fd, b0, 1, p, n);
}

/* A masked frame header that declares len bytes; no payload follows. */
static void send_header(int fd, int b0, unsigned long long len)
{
    unsigned char h[14] = { (unsigned char)b0, 0x80 | 127 };
    int i;

    for (i = 0; i < 8; i++)
        h[2 + i] = (unsigned char)(len >> (56 - 8 * i));
    memcpy(h + 10, "\x37\xfa\x21\x3d", 4);
    ck_assert_int_eq(wt_send(fd, h, sizeof(h)), 0);
}

/* The next frame must be exactly op with this payload. */
static void expect_frame(int fd, int op, const void *p, size_t n)
{
    frame_t f;

    ck_assert_msg(recv_frame(fd, &f, WAIT_MS) == 0,
                  "no frame (op %d, %zu bytes) from weftd; log:\n%s", op, n,
                  wt_server_log(&srv));
    ck_assert_msg(f.fin == 1 && f.rsv == 0 && f.masked == 0,
                  "frame flags fin %d rsv %d masked %d", f.fin, f.rsv,
                  f.masked);
    ck_assert_msg(f.op == op, "opcode %d, wanted %d", f.op, op);
    ck_assert_msg(f.len == n, "payload %zu bytes, wanted %zu", f.len, n);
    /* The shortest length encoding (RFC 6455 5.2). */
    ck_assert_uint_eq(f.hlen, n < 126 ? 2 : n <= 0xFFFF ? 4 : 10);
    ck_assert_msg(memcmp(f.data, p, n) == 0, "payload differs");
    free(f.data);
}

/* The next frame must be a close with code and reason, exactly. */
static void expect_close(int fd, int code, const char *reason)
{
    char want[128];
    size_t n = 0;

    if (code != 0) {
        want[0] = (char)(code >> 8);
        want[1] = (char)code;
        n = 2 + strlen(reason);
        memcpy(want + 2, reason, strlen(reason));
    }
    {
        frame_t f;
        ck_assert_msg(recv_frame(fd, &f, WAIT_MS) == 0,
                      "no close %d from weftd; log:\n%s", code,
                      wt_server_log(&srv));
        ck_assert_msg(f.op == 8, "opcode %d, wanted a close", f.op);
        ck_assert_msg(f.len == n && memcmp(f.data, want, n) == 0,
                      "close payload %d '%s', wanted %d '%s'",
                      f.len >= 2 ? f.data[0] << 8 | f.data[1] : 0,
                      f.len > 2 ? (char *)f.data + 2 : "", code, reason);
        free(f.data);
    }
}

/* The server must close its side now: EOF with no more bytes. */
static void expect_eof(int fd)
{
    char b[256];
    int closed = 0;
    size_t n = wt_recv_all(fd, b, sizeof(b), WAIT_MS, &closed);

    ck_assert_msg(closed && n == 0, "wanted EOF, got %zu bytes%s", n,
                  closed ? "" : " and no close");
}

/* A connection upgraded to WebSocket: the 101 must be exactly this. */
static int ws_dial_path(const char *request)
{
    int fd = dial();
    char buf[sizeof(SWITCHING)];
    size_t got = 0;

    ck_assert_int_eq(wt_sends(fd, request), 0);
    recv_exact(fd, buf, strlen(SWITCHING), now_ms() + WAIT_MS, &got);
    buf[got] = '\0';
    ck_assert_msg(got == strlen(SWITCHING) && memcmp(buf, SWITCHING, got) == 0,
                  "handshake answered:\n%s", buf);
    return fd;
}

static int ws_dial(void)
{
    return ws_dial_path(HANDSHAKE("/chat"));
}

/* A masked close frame from the client: its first word, or its answer. */
static void client_close(int fd, const char *payload, size_t n)
{
    send_frame(fd, 0x88, payload, n);
}

/* ---- the handshake ------------------------------------------------------- */

/* RFC 6455's own example: the accept key, then its masked "Hello". */
START_TEST(handshake_rfc_example)
{
    static const unsigned char hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                           0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    int fd;

    start(mpms[_i], "");
    fd = ws_dial();
    ck_assert_int_eq(wt_send(fd, hello, sizeof(hello)), 0);
    expect_frame(fd, 1, "Hello", 5);
    client_close(fd, "\x03\xe8", 2);
    expect_close(fd, 1000, "");
    expect_eof(fd);
    close(fd);
    stop_server();
}
END_TEST

/* Frames sent with the handshake are read from the server's buffer. */
START_TEST(handshake_pipelined_frames)
{
    static const unsigned char hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                           0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    char req[512];
    size_t n = strlen(HANDSHAKE("/"));
    int fd;

    start("thread", "");
    memcpy(req, HANDSHAKE("/"), n);
    memcpy(req + n, hello, sizeof(hello));
    memcpy(req + n + sizeof(hello), hello, sizeof(hello));
    fd = dial();
    ck_assert_int_eq(wt_send(fd, req, n + 2 * sizeof(hello)), 0);
    {
        char buf[sizeof(SWITCHING)];
        ck_assert_int_eq(
            recv_exact(fd, buf, strlen(SWITCHING), now_ms() + WAIT_MS, NULL),
            0);
        ck_assert(memcmp(buf, SWITCHING, strlen(SWITCHING)) == 0);
    }
    expect_frame(fd, 1, "Hello", 5);
    expect_frame(fd, 1, "Hello", 5);
    close(fd);
    stop_server();
}
END_TEST

/* Token lists and case: "keep-alive, Upgrade" and "WebSocket" qualify. */
START_TEST(handshake_token_lists)
{
    int fd;

    start("thread", "");
    fd = ws_dial_path("GET / HTTP/1.1\r\nHost: x\r\n"
                      "Connection: keep-alive\r\nConnection: x, Upgrade\r\n"
                      "Upgrade: h2c, WebSocket\r\n"
                      "Sec-WebSocket-Key: " KEY "\r\n"
                      "Sec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
    send_frame(fd, 0x82, "\x00\x01", 2);
    expect_frame(fd, 2, "\x00\x01", 2);
    close(fd);
    stop_server();
}
END_TEST

static const struct {
    const char *request;
    int status;
    const char *reason;
} refused[] = {
    { "POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
      "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
      400, "websocket: the handshake's method must be GET" },
    { "GET / HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n",
      400, "websocket: the handshake needs HTTP/1.1" },
    { "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 426,
      "websocket: the Connection field lacks the upgrade token" },
    { "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: keep-alive\r\nSec-WebSocket-Key: " KEY "\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n",
      426, "websocket: the Connection field lacks the upgrade token" },
    { "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
      426, "websocket: the Upgrade field lacks the websocket token" },
    { "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
      "Sec-WebSocket-Version: 8\r\n\r\n",
      426, "websocket: unsupported version: Sec-WebSocket-Version must be 13" },
    { "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n\r\n",
      426, "websocket: unsupported version: Sec-WebSocket-Version must be 13" },
    { "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
      400,
      "websocket: Sec-WebSocket-Key must be one field of 16 bytes in "
      "base64" },
    { "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n",
      400,
      "websocket: Sec-WebSocket-Key must be one field of 16 bytes in "
      "base64" },
    { "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
      "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
      400,
      "websocket: Sec-WebSocket-Key must be one field of 16 bytes in "
      "base64" },
    { "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
      "Sec-WebSocket-Version: 13\r\nContent-Length: 2\r\n\r\nhi",
      400, "websocket: the handshake must not have a body" },
};
#define N_REFUSED ((int)(sizeof(refused) / sizeof(refused[0])))

/* Refusals answer with the status, Sec-WebSocket-Version: 13 (and
 * Upgrade: websocket for 426), and the reason as the body. */
START_TEST(handshake_refused)
{
    const char *req = refused[_i].request;
    int status = refused[_i].status;
    char *resp, *body;
    /* After the version: HTTP/1.0 gets its own back. */
    const char *line =
        status == 400 ? " 400 Bad Request\r\n" : " 426 Upgrade Required\r\n";
    int fd;

    start("thread", "");
    fd = dial();
    ck_assert_int_eq(wt_sends(fd, req), 0);
    resp = malloc(65536);
    ck_assert_ptr_nonnull(resp);
    /* The answer keeps the connection (HTTP/1.0: closes it): read up to
     * the body's end. */
    wt_recv_until(fd, resp, 65536, wt_fmt("%s\n", refused[_i].reason), WAIT_MS);
    ck_assert_msg(strncmp(resp, "HTTP/1.", 7) == 0 &&
                      strncmp(resp + 8, line, strlen(line)) == 0,
                  "case %d:\n%s", _i, resp);
    ck_assert_msg(strcasestr(resp, "\r\nSec-WebSocket-Version: 13\r\n") != NULL,
                  "no version in:\n%s", resp);
    ck_assert_msg((strcasestr(resp, "\r\nUpgrade: websocket\r\n") != NULL) ==
                      (status == 426),
                  "Upgrade field in a %d:\n%s", status, resp);
    ck_assert_msg(strstr(resp, "\r\nContent-Type: text/plain; charset=utf-8"
                               "\r\n") != NULL,
                  "%s", resp);
    body = strstr(resp, "\r\n\r\n");
    ck_assert_ptr_nonnull(body);
    ck_assert_str_eq(body + 4, wt_fmt("%s\n", refused[_i].reason));
    free(resp);
    close(fd);
    stop_server();
}
END_TEST

/* ---- frames -------------------------------------------------------------- */

/* Echo of every length encoding, up to the maximum exactly. */
START_TEST(echo_sizes)
{
    static const size_t sizes[] = { 0, 1, 125, 126, 65535, 65536, MAX_MESSAGE };
    unsigned char *p = malloc(MAX_MESSAGE);
    size_t i, j;
    int fd;

    ck_assert_ptr_nonnull(p);
    for (j = 0; j < MAX_MESSAGE; j++)
        p[j] = (unsigned char)('a' + j % 26);
    start(mpms[_i], "");
    fd = ws_dial();
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        send_frame(fd, 0x81, p, sizes[i]);
        expect_frame(fd, 1, p, sizes[i]);
        send_frame(fd, 0x82, p, sizes[i]);
        expect_frame(fd, 2, p, sizes[i]);
    }
    client_close(fd, "\x03\xe8", 2);
    expect_close(fd, 1000, "");
    expect_eof(fd);
    close(fd);
    free(p);
    stop_server();
}
END_TEST

/* Fragments are joined; a ping between them is answered at once. */
START_TEST(fragments_and_ping)
{
    int fd;

    start(mpms[_i], "");
    fd = ws_dial();
    send_frame(fd, 0x01, "Hel", 3);
    send_frame(fd, 0x89, "p", 1);
    expect_frame(fd, 10, "p", 1);
    send_frame(fd, 0x00, "", 0);
    send_frame(fd, 0x8A, "unsolicited", 11); /* a pong is skipped */
    send_frame(fd, 0x80, "lo", 2);
    expect_frame(fd, 1, "Hello", 5);
    /* A character split between fragments is still one character. */
    send_frame(fd, 0x01, "h\xc3", 2);
    send_frame(fd, 0x80, "\xa9", 1);
    expect_frame(fd, 1, "h\xc3\xa9", 3);
    send_frame(fd, 0x02, "\x00", 1);
    send_frame(fd, 0x80, "\x01", 1);
    expect_frame(fd, 2, "\x00\x01", 2);
    send_frame(fd, 0x89, "", 0);
    expect_frame(fd, 10, "", 0);
    client_close(fd, "", 0);
    expect_close(fd, 0, "");
    expect_eof(fd);
    close(fd);
    stop_server();
}
END_TEST

/* The peer's close code comes back; weft closes the TCP connection. */
START_TEST(close_handshake)
{
    static const struct {
        const char *payload;
        size_t n;
        int code;
    } c[] = { { "\x03\xe8"
                "bye",
                5, 1000 },
              { "\x0f\xa0", 2, 4000 },
              { "\x03\xe9", 2, 1001 } };
    int fd;

    start("thread", "");
    fd = ws_dial();
    client_close(fd, c[_i].payload, c[_i].n);
    expect_close(fd, c[_i].code, "");
    expect_eof(fd);
    close(fd);
    stop_server();
}
END_TEST

/* 126 bytes of 'x', for a control frame one byte too long. */
static const char x126[] =
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

typedef struct {
    int b0, masked;
    const char *p;
    size_t n;
} spec_t;

static const struct {
    const char *what;
    spec_t f[2];
    int nf, code;
    const char *reason;
} bad[] = {
    { "unmasked", { { 0x81, 0, "hi", 2 } }, 1, 1002, "unmasked client frame" },
    { "RSV1",
      { { 0xC1, 1, "hi", 2 } },
      1,
      1002,
      "reserved bits set without an extension" },
    { "RSV2",
      { { 0xA2, 1, "hi", 2 } },
      1,
      1002,
      "reserved bits set without an extension" },
    { "RSV3",
      { { 0x91, 1, "hi", 2 } },
      1,
      1002,
      "reserved bits set without an extension" },
    { "opcode 3", { { 0x83, 1, "", 0 } }, 1, 1002, "unknown opcode" },
    { "opcode 11", { { 0x8B, 1, "", 0 } }, 1, 1002, "unknown opcode" },
    { "fragmented ping",
      { { 0x09, 1, "p", 1 } },
      1,
      1002,
      "fragmented control frame" },
    { "126-byte ping",
      { { 0x89, 1, x126, 126 } },
      1,
      1002,
      "control frame over 125 bytes" },
    { "lone continuation",
      { { 0x80, 1, "x", 1 } },
      1,
      1002,
      "continuation frame outside a message" },
    { "text inside text",
      { { 0x01, 1, "a", 1 }, { 0x81, 1, "b", 1 } },
      2,
      1002,
      "new message inside a fragmented one" },
    { "1-byte close",
      { { 0x88, 1, "\x03", 1 } },
      1,
      1002,
      "close frame with a 1-byte payload" },
    { "close 1005",
      { { 0x88, 1, "\x03\xed", 2 } },
      1,
      1002,
      "invalid close code" },
    { "close 999",
      { { 0x88, 1, "\x03\xe7", 2 } },
      1,
      1002,
      "invalid close code" },
    { "close 2000",
      { { 0x88, 1, "\x07\xd0", 2 } },
      1,
      1002,
      "invalid close code" },
    { "bad byte",
      { { 0x81, 1, "ok \xff", 4 } },
      1,
      1007,
      "text message is not UTF-8" },
    { "surrogate",
      { { 0x81, 1, "\xed\xa0\x80", 3 } },
      1,
      1007,
      "text message is not UTF-8" },
    { "overlong",
      { { 0x81, 1, "\xc0\xaf", 2 } },
      1,
      1007,
      "text message is not UTF-8" },
    { "past U+10FFFF",
      { { 0x81, 1, "\xf4\x90\x80\x80", 4 } },
      1,
      1007,
      "text message is not UTF-8" },
    { "bad later fragment",
      { { 0x01, 1, "ok", 2 }, { 0x80, 1, "\xfe", 1 } },
      2,
      1007,
      "text message is not UTF-8" },
    { "cut character",
      { { 0x01, 1, "h\xc3", 2 }, { 0x80, 1, "", 0 } },
      2,
      1007,
      "text message ends inside a character" },
    { "bad close reason",
      { { 0x88, 1, "\x03\xe8\xff", 3 } },
      1,
      1007,
      "close reason is not UTF-8" },
};
#define N_BAD ((int)(sizeof(bad) / sizeof(bad[0])))

/* The peer's mistakes fail the connection: close with the code and the
 * reason, then the server's FIN. */
START_TEST(protocol_errors)
{
    int fd, i;

    start("thread", "");
    fd = ws_dial();
    for (i = 0; i < bad[_i].nf; i++)
        send_frame_m(fd, bad[_i].f[i].b0, bad[_i].f[i].masked, bad[_i].f[i].p,
                     bad[_i].f[i].n);
    expect_close(fd, bad[_i].code, bad[_i].reason);
    expect_eof(fd);
    close(fd);
    stop_server();
}
END_TEST

/* A frame or message over the maximum is refused on its declared length:
 * no payload is sent here, and the 1009 still comes. */
START_TEST(too_big_refused_before_payload)
{
    unsigned char *p;
    int fd;

    start("thread", "");
    fd = ws_dial();
    switch (_i) {
    case 0:
        send_header(fd, 0x82, 1ULL << 40);
        break;
    case 1:
        send_header(fd, 0x81, MAX_MESSAGE + 1);
        break;
    case 2:
        /* Fragments add up: the second would pass the maximum. */
        p = calloc(1, MAX_MESSAGE);
        ck_assert_ptr_nonnull(p);
        send_frame(fd, 0x02, p, MAX_MESSAGE - 10);
        free(p);
        send_header(fd, 0x80, 11);
        break;
    default:
        /* The length's top bit is not a length (RFC 6455 5.2). */
        send_header(fd, 0x82, 1ULL << 63);
        expect_close(fd, 1002, "frame length over 2^63");
        expect_eof(fd);
        close(fd);
        stop_server();
        return;
    }
    expect_close(fd, 1009, "message too big");
    expect_eof(fd);
    close(fd);
    stop_server();
}
END_TEST

/* The default WebSocketMaxMessage is 16 MiB: that much echoes, a byte
 * more is refused. */
START_TEST(default_max_message)
{
    size_t max = 16 << 20;
    unsigned char *p = malloc(max);
    int fd;

    ck_assert_ptr_nonnull(p);
    memset(p, 0x5a, max);
    ck_assert_msg(
        wt_server_start(&srv, wt_fmt("LoadModule upgrade_module \"%s\"\n"
                                     "Handler websocket-echo\n",
                                     upgrade_so())) == 0,
        "weftd did not start");
    fd = ws_dial();
    send_frame(fd, 0x82, p, max);
    expect_frame(fd, 2, p, max);
    send_header(fd, 0x82, max + 1);
    expect_close(fd, 1009, "message too big");
    expect_eof(fd);
    close(fd);
    free(p);
    stop_server();
}
END_TEST

/* ---- Shutdown ------------------------------------------------------------ */

#define N_SESSIONS 4

/* Every open session gets close 1001; when each answers, Shutdown is done
 * well before its deadline and weftd exits 0. */
START_TEST(shutdown_going_away)
{
    int fd[N_SESSIONS], i;
    long long answered;

    start(mpms[_i], "ShutdownTimeout 30s\n");
    for (i = 0; i < N_SESSIONS; i++) {
        fd[i] = ws_dial();
        send_frame(fd[i], 0x81, "hi", 2);
        expect_frame(fd[i], 1, "hi", 2);
    }
    sigterm();
    for (i = 0; i < N_SESSIONS; i++) {
        char buf[sizeof(GOING_AWAY)];
        ck_assert_msg(recv_exact(fd[i], buf, sizeof(GOING_AWAY) - 1,
                                 now_ms() + WAIT_MS, NULL) == 0 &&
                          memcmp(buf, GOING_AWAY, sizeof(GOING_AWAY) - 1) == 0,
                      "session %d: no close 1001; log:\n%s", i,
                      wt_server_log(&srv));
        client_close(fd[i], "\x03\xe9", 2);
        expect_eof(fd[i]);
        close(fd[i]);
    }
    answered = now_ms();
    expect_exit(PROMPT_MS);
    ck_assert_msg(now_ms() - answered < PROMPT_MS, "slow exit");
    ck_assert_ptr_null(strstr(wt_server_log(&srv), "deadline passed"));
}
END_TEST

/* A session writing a large message when Shutdown starts holds the write
 * lock: the 1001 follows the message instead of cutting into it. */
START_TEST(shutdown_during_write)
{
    size_t n = 12 << 20, got = 0;
    unsigned char *p = malloc(n), *echo = malloc(n), h[10];
    int fd;

    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(echo);
    memset(p, 0xa5, n);
    start("thread", "WebSocketMaxMessage 16M\nShutdownTimeout 30s\n");
    fd = ws_dial();
    send_frame(fd, 0x82, p, n);
    /* The echo has begun; 12 MiB is more than the socket buffers hold
     * while we do not read, so its writer waits for us. */
    ck_assert_int_eq(recv_exact(fd, h, sizeof(h), now_ms() + WAIT_MS, NULL), 0);
    ck_assert(h[0] == 0x82 && h[1] == 127);
    sigterm();
    ck_assert(wt_server_wait_log(&srv, "shutting down gracefully", WAIT_MS));
    ck_assert_msg(recv_exact(fd, echo, n, now_ms() + WAIT_MS, &got) == 0,
                  "echo cut at %zu bytes", got);
    ck_assert(memcmp(echo, p, n) == 0);
    expect_close(fd, 1001, "server shutting down");
    client_close(fd, "\x03\xe9", 2);
    expect_eof(fd);
    close(fd);
    free(p);
    free(echo);
    expect_exit(PROMPT_MS);
}
END_TEST

/* A peer that ignores the 1001 is cut when ShutdownTimeout passes. */
START_TEST(shutdown_ignored_close_is_cut)
{
    long long t0, cut;
    int fd;

    start("thread", "ShutdownTimeout 1s\n");
    fd = ws_dial();
    t0 = now_ms();
    sigterm();
    expect_close(fd, 1001, "server shutting down");
    expect_eof(fd);
    cut = now_ms() - t0;
    close(fd);
    ck_assert_msg(cut >= 900 && cut < 1000 + PROMPT_MS, "cut after %lld ms",
                  cut);
    expect_exit(PROMPT_MS);
    ck_assert_msg(strstr(wt_server_log(&srv), "deadline passed with 1 "
                                              "connection") != NULL,
                  "log:\n%s", wt_server_log(&srv));
}
END_TEST

/* Close (SIGQUIT) does not wait: the sessions' sockets are shut. */
START_TEST(sigquit_cuts_sessions)
{
    long long t0;
    int fd;

    start(mpms[_i], "ShutdownTimeout 30s\n");
    fd = ws_dial();
    send_frame(fd, 0x81, "hi", 2);
    expect_frame(fd, 1, "hi", 2);
    t0 = now_ms();
    ck_assert_msg(kill(srv.pid, SIGQUIT) == 0, "cannot signal weftd");
    expect_eof(fd);
    close(fd);
    expect_exit(PROMPT_MS);
    ck_assert_msg(now_ms() - t0 < PROMPT_MS, "exited %lld ms after SIGQUIT",
                  now_ms() - t0);
}
END_TEST

/* ---- real clients -------------------------------------------------------- */

static const char *const client_cases[] = { "echo",  "fragment", "ping",
                                            "close", "utf8",     "toobig" };
#define N_CLIENT_CASES ((int)(sizeof(client_cases) / sizeof(client_cases[0])))

#define ECHO_OUT                                            \
    "text 0 ok\nbinary 0 ok\ntext 125 ok\nbinary 125 ok\n"  \
    "text 126 ok\nbinary 126 ok\ntext 65536 ok\n"           \
    "binary 65536 ok\ntext 1048576 ok\nbinary 1048576 ok\n" \
    "text utf-8 ok\n"

static const char *const python_out[] = {
    ECHO_OUT,
    "fragmented text ok\nfragmented binary ok\n",
    "pong 4 ok\npong 0 ok\necho after ping\n",
    "closed 4000 ''\n",
    "closed 1007\n",
    "max ok\nclosed 1009\n",
};
static const char *const node_out[] = {
    ECHO_OUT,
    "fragmented text ok\nsplit character ok\nfragmented binary ok\n",
    "pong 4 ok\npong 0 ok\necho after ping\n",
    "closed 4000 ''\n",
    "closed 1007\n",
    "max ok\nclosed 1009\n",
};

static char *client_url(void)
{
    return wt_fmt("ws://127.0.0.1:%d/ws", srv.port);
}

static const char *python_script(void)
{
    return wt_fmt("%s/tests/integration/ws_client.py", wt_srcdir());
}

static const char *node_script(void)
{
    return wt_fmt("%s/tests/integration/ws_client.js", wt_srcdir());
}

/* Whether the Node cases can run: skipped (passing) only when node or
 * npm is missing; an npm failure fails them. */
static int node_ready(void)
{
    if (node_bin == NULL) {
        fprintf(stderr, "SKIP: node or npm is not installed\n");
        return 0;
    }
    ck_assert_msg(npm_failure == NULL, "npm install ws failed:\n%s",
                  npm_failure);
    setenv("NODE_PATH", node_modules, 1);
    return 1;
}

static void run_client(const char *interp, const char *script,
                       const char *which, const char *expected)
{
    const char *argv[] = { interp, script, client_url(), which, NULL };
    wt_run_t r;

    ck_assert_msg(wt_run(&r, CLIENT_MS, argv) == 0, "%s %s did not finish",
                  script, which);
    ck_assert_msg(r.status == 0 && strcmp(r.out, expected) == 0,
                  "%s %s: exit %d\n--- stdout\n%s--- stderr\n%s--- log\n%s",
                  script, which, r.status, r.out, r.err, wt_server_log(&srv));
}

START_TEST(python_client)
{
    start("thread", "");
    run_client("/usr/bin/python3", python_script(), client_cases[_i],
               python_out[_i]);
    stop_server();
}
END_TEST

START_TEST(node_client)
{
    if (!node_ready())
        return;
    start("thread", "");
    run_client(node_bin, node_script(), client_cases[_i], node_out[_i]);
    stop_server();
}
END_TEST

/* Starts a client with stdout and stderr on one pipe. */
static pid_t spawn(const char *const *argv, int *out)
{
    int p[2];
    pid_t pid;

    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    *out = p[0];
    return pid;
}

/* Reads the pipe until it holds needle (NULL: until EOF) or timeout_ms
 * passes; bytes read, buf NUL-terminated. */
static size_t read_pipe(int fd, char *buf, size_t cap, const char *needle,
                        int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    size_t n = 0;

    buf[0] = '\0';
    while (n < cap - 1) {
        struct pollfd pf = { fd, POLLIN, 0 };
        long long left = deadline - now_ms();
        ssize_t k;
        if (left <= 0)
            break;
        if (poll(&pf, 1, (int)left) <= 0)
            continue;
        k = read(fd, buf + n, cap - 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        n += (size_t)k;
        buf[n] = '\0';
        if (needle != NULL && strstr(buf, needle) != NULL)
            break;
    }
    return n;
}

/* The client says "open", weftd gets SIGTERM, the client must see close
 * 1001 with its reason and finish the handshake; weftd exits 0. */
static void client_shutdown(const char *interp, const char *script)
{
    const char *argv[] = { interp, script, client_url(), "shutdown", NULL };
    char out[4096];
    size_t n;
    int fd, status;
    pid_t pid;
    long long deadline;

    pid = spawn(argv, &fd);
    n = read_pipe(fd, out, sizeof(out), "open\n", CLIENT_MS);
    if (strstr(out, "open\n") == NULL) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        ck_abort_msg("%s never opened: %s\nlog:\n%s", script, out,
                     wt_server_log(&srv));
    }
    sigterm();
    read_pipe(fd, out + n, sizeof(out) - n, NULL, WAIT_MS);
    close(fd);
    deadline = now_ms() + WAIT_MS;
    while (waitpid(pid, &status, WNOHANG) != pid) {
        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        poll(NULL, 0, 5);
    }
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                      strcmp(out, "open\nclosed 1001 server shutting "
                                  "down\n") == 0,
                  "%s: %s\nlog:\n%s", script, out, wt_server_log(&srv));
    expect_exit(PROMPT_MS);
}

START_TEST(python_shutdown)
{
    start("thread", "ShutdownTimeout 30s\n");
    client_shutdown("/usr/bin/python3", python_script());
}
END_TEST

START_TEST(node_shutdown)
{
    if (!node_ready())
        return;
    start("thread", "ShutdownTimeout 30s\n");
    client_shutdown(node_bin, node_script());
}
END_TEST

/* ---- configuration and mounting ------------------------------------------ */

START_TEST(config_errors)
{
    char *dir = wt_tmpdir();
    const char *conf = wt_write(dir, "weft.conf",
                                wt_fmt("LoadModule upgrade_module \"%s\"\n"
                                       "WebSocketCloseTimeout 2s\n"
                                       "WebSocketMaxMessage lots\n",
                                       upgrade_so()));
    const char *argv[] = { wt_weftd(), "-t", "-f", conf, NULL };
    wt_run_t r;

    ck_assert_int_eq(wt_run(&r, WAIT_MS, argv), 0);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, wt_fmt("%s:3: WebSocketMaxMessage: ", conf)),
                  "%s", r.err);
}
END_TEST

/* mod_upgrade exports its module symbol and nothing else (sanitizers
 * add their own "__" names beside it). */
START_TEST(exports_only_the_module)
{
    const char *argv[] = { "/usr/bin/nm", "-D", "--defined-only", upgrade_so(),
                           NULL };
    wt_run_t r;
    char *line, *save = NULL;
    int n = 0;

    if (access(argv[0], X_OK) != 0) {
        fprintf(stderr, "SKIP: no nm\n");
        return;
    }
    ck_assert_int_eq(wt_run(&r, WAIT_MS, argv), 0);
    ck_assert_int_eq(r.status, 0);
    for (line = strtok_r(r.out, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        const char *name = strrchr(line, ' ');
        name = name != NULL ? name + 1 : line;
        if (strncmp(name, "__", 2) == 0)
            continue;
        ck_assert_msg(strcmp(name, "upgrade_module") == 0, "exported: %s",
                      line);
        n++;
    }
    ck_assert_int_eq(n, 1);
}
END_TEST

/* Mounted through the mux as `Handle "GET /ws" websocket-echo`, when
 * mod_mux is built and takes Handle. */
START_TEST(mounted_by_mux)
{
    const char *mux = wt_built("modules/.libs/mod_mux.so");
    const char *body = wt_fmt("LoadModule upgrade_module \"%s\"\n"
                              "LoadModule mux_module \"%s\"\n"
                              "Handle \"GET /ws\" websocket-echo\n",
                              upgrade_so(), mux);
    char *dir = wt_tmpdir();
    const char *conf = wt_write(dir, "weft.conf", body);
    const char *argv[] = { wt_weftd(), "-t", "-f", conf, NULL };
    wt_run_t r;
    char *resp;
    int fd;

    if (access(mux, R_OK) != 0 || wt_run(&r, WAIT_MS, argv) != 0 ||
        r.status != 0) {
        fprintf(stderr, "SKIP: mod_mux does not take Handle yet\n");
        return;
    }
    ck_assert_msg(wt_server_start(&srv, body) == 0, "weftd did not start");
    fd = ws_dial_path(HANDSHAKE("/ws"));
    send_frame(fd, 0x81, "via mux", 7);
    expect_frame(fd, 1, "via mux", 7);
    client_close(fd, "\x03\xe8", 2);
    expect_close(fd, 1000, "");
    expect_eof(fd);
    close(fd);
    resp = wt_request(srv.port,
                      "GET /other HTTP/1.1\r\nHost: x\r\n"
                      "Connection: close\r\n\r\n",
                      WAIT_MS);
    ck_assert_msg(resp != NULL && strncmp(resp, "HTTP/1.1 404 ", 13) == 0, "%s",
                  resp ? resp : "(none)");
    stop_server();
}
END_TEST

/* ---- the suite ----------------------------------------------------------- */

static const char *find_program(const char *name)
{
    const char *path = getenv("PATH");
    char *copy, *dir, *save = NULL;

    if (path == NULL)
        return NULL;
    copy = wt_fmt("%s", path);
    for (dir = strtok_r(copy, ":", &save); dir != NULL;
         dir = strtok_r(NULL, ":", &save)) {
        char *p = wt_fmt("%s/%s", dir, name);
        if (access(p, X_OK) == 0)
            return p;
    }
    return NULL;
}

/* npm installs ws once for the whole suite, before the tests fork, into a
 * private directory under $TMPDIR (never the source tree: distcheck's is
 * read-only, and its build tree must be left clean). */
static void setup_node(void)
{
    const char *node = find_program("node"), *npm = find_program("npm");
    const char *tmp = getenv("TMPDIR");
    wt_run_t r;

    if (node == NULL || npm == NULL)
        return;
    node_bin = node;
    snprintf(npm_dir, sizeof(npm_dir), "%s/weft-ws-npm-XXXXXX",
             tmp ? tmp : "/tmp");
    if (mkdtemp(npm_dir) == NULL) {
        npm_failure = "cannot make a directory for npm";
        npm_dir[0] = '\0';
        return;
    }
    {
        const char *argv[] = { npm,         "install",          "--prefix",
                               npm_dir,     "--no-audit",       "--no-fund",
                               "--no-save", "--loglevel=error", "ws",
                               NULL };
        if (wt_run(&r, 300000, argv) != 0 || r.status != 0)
            npm_failure = wt_fmt("%s%s", r.out, r.err);
    }
    node_modules = wt_fmt("%s/node_modules", npm_dir);
}

static void teardown(void)
{
    wt_cleanup();
}

int main(void)
{
    Suite *s = suite_create("websocket");
    TCase *handshake = tcase_create("handshake");
    TCase *frames = tcase_create("frames");
    TCase *shutdown_ = tcase_create("shutdown");
    TCase *clients = tcase_create("clients");
    TCase *setup = tcase_create("setup");
    TCase *all[] = { handshake, frames, shutdown_, clients, setup };
    SRunner *sr;
    size_t i;
    int failed;

    setup_node();
    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_add_checked_fixture(all[i], NULL, teardown);
        tcase_set_timeout(all[i], 240);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_loop_test(handshake, handshake_rfc_example, 0, N_MPMS);
    tcase_add_test(handshake, handshake_pipelined_frames);
    tcase_add_test(handshake, handshake_token_lists);
    tcase_add_loop_test(handshake, handshake_refused, 0, N_REFUSED);

    tcase_add_loop_test(frames, echo_sizes, 0, N_MPMS);
    tcase_add_loop_test(frames, fragments_and_ping, 0, N_MPMS);
    tcase_add_loop_test(frames, close_handshake, 0, 3);
    tcase_add_loop_test(frames, protocol_errors, 0, N_BAD);
    tcase_add_loop_test(frames, too_big_refused_before_payload, 0, 4);
    tcase_add_test(frames, default_max_message);

    tcase_add_loop_test(shutdown_, shutdown_going_away, 0, N_MPMS);
    tcase_add_test(shutdown_, shutdown_during_write);
    tcase_add_test(shutdown_, shutdown_ignored_close_is_cut);
    tcase_add_loop_test(shutdown_, sigquit_cuts_sessions, 0, N_MPMS);

    tcase_add_loop_test(clients, python_client, 0, N_CLIENT_CASES);
    tcase_add_test(clients, python_shutdown);
    tcase_add_loop_test(clients, node_client, 0, N_CLIENT_CASES);
    tcase_add_test(clients, node_shutdown);

    tcase_add_test(setup, config_errors);
    tcase_add_test(setup, exports_only_the_module);
    tcase_add_test(setup, mounted_by_mux);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (npm_dir[0] != '\0' && system(wt_fmt("rm -rf '%s'", npm_dir)) != 0) {
        /* best effort, as wt_cleanup */
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
