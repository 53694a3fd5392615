/*
 * test_stress.c -- graceful Shutdown under load: 200 client threads doing
 * keep-alive requests (Content-Length, chunked and flushed chunked answers,
 * request bodies), some hanging up mid-request, while SIGTERM starts the
 * drain.  Every answer is parsed strictly and matched to its request.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "weft_test.h"

#define NCLIENTS 200
/* SIGTERM goes out once the clients together have this many answers and
 * every client has at least one (or LOAD_MAX_MS passed: sanitizer builds
 * on 2 cores are slow, and the load is then lighter, not shorter). */
#define LOAD_TARGET (NCLIENTS * 100)
#define LOAD_MAX_MS 5000
/* A client gives up this long after it started: the bound on the test. */
#define CLIENT_BOUND_MS 40000
/* The longest wait for the bytes of one answer (or for the close). */
#define RESPONSE_MS 25000
/* SIGTERM to exit; the drain itself is bounded by ShutdownTimeout 10s. */
#define STOP_MS 30000
/* /stream answers: a few flushed chunks this far apart, so that many
 * responses are in flight when the drain starts. */
#define STREAM_DELAY_MS 20
#define READ_BUF 65536
#define MAX_BODY (1 << 20)

/* Set before SIGTERM is sent: what a client sees while it is 0 happened
 * before the server could have started shutting down. */
static atomic_int sigterm_sent;
static atomic_long total_completed;
static atomic_int clients_progressing;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- one client thread ------------------------------------------------ */

typedef enum {
    R_COMPLETE, /* a whole, well-framed answer */
    R_DROPPED,  /* the connection ended before any byte of the answer */
    R_CUT,      /* it ended in the middle of the answer */
    R_TIMEOUT,  /* nothing happened within RESPONSE_MS */
    R_BAD       /* bytes that are not a valid answer */
} result_t;

typedef struct {
    /* Immutable once the thread starts. */
    int idx;
    int port;
    long long deadline;
    pthread_t thread;
    /* Owned by the client thread until it is joined. */
    unsigned rng;
    long seq;                /* requests sent (ids T-0 .. T-seq-1) */
    unsigned char *answered; /* per id: complete answers seen */
    size_t answered_cap;
    long completed, drained, cut, dropped, refused, abandoned, hung, bad;
    char why[512]; /* the first failure, for the test's message */
    /* The connection being read. */
    int fd;
    char *rbuf;
    size_t rstart, rend;
    int got_bytes;    /* a byte of the current answer arrived */
    int began_before; /* ... while sigterm_sent was still 0 */
    char *body;
    size_t bodylen, bodycap;
    int chunked, conn_close;
} client_t;

static void note_bad(client_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note_bad(client_t *c, const char *fmt, ...)
{
    va_list ap;

    if (c->bad++ > 0)
        return;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
}

static long long wait_until(const client_t *c)
{
    long long t = now_ms() + RESPONSE_MS;
    return t < c->deadline ? t : c->deadline;
}

/* Reads more bytes into rbuf: 1 on bytes, 0 on EOF or reset, -1 on
 * timeout, -2 when the buffer is full of one unfinished line. */
static int fill(client_t *c)
{
    long long until = wait_until(c);

    if (c->rstart > 0) {
        memmove(c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
        c->rend -= c->rstart;
        c->rstart = 0;
    }
    if (c->rend == READ_BUF)
        return -2;
    for (;;) {
        struct pollfd pf = { c->fd, POLLIN, 0 };
        long long left = until - now_ms();
        ssize_t n;
        if (left <= 0)
            return -1;
        int rc = poll(&pf, 1, (int)left);
        if (rc < 0 && errno != EINTR)
            return 0;
        if (rc <= 0)
            continue;
        n = recv(c->fd, c->rbuf + c->rend, READ_BUF - c->rend, 0);
        if (n > 0) {
            if (!c->got_bytes) {
                c->got_bytes = 1;
                c->began_before = !atomic_load(&sigterm_sent);
            }
            c->rend += (size_t)n;
            return 1;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return 0;
    }
}

/* Maps a fill() failure to the answer's fate. */
static result_t ended(client_t *c, int rc, const char *where)
{
    if (rc == -1)
        return R_TIMEOUT;
    if (rc == -2) {
        note_bad(c, "client %d: a line longer than %d bytes in %s", c->idx,
                 READ_BUF, where);
        return R_BAD;
    }
    return c->got_bytes ? R_CUT : R_DROPPED;
}

/* The next CRLF-terminated line (without CRLF, NUL-terminated in place). */
static result_t get_line(client_t *c, char **line, const char *where)
{
    for (;;) {
        char *nl = memmem(c->rbuf + c->rstart, c->rend - c->rstart, "\r\n", 2);
        int rc;
        if (nl != NULL) {
            *nl = '\0';
            *line = c->rbuf + c->rstart;
            c->rstart = (size_t)(nl + 2 - c->rbuf);
            return R_COMPLETE;
        }
        if ((rc = fill(c)) <= 0)
            return ended(c, rc, where);
    }
}

/* Appends exactly n bytes of body. */
static result_t get_bytes(client_t *c, size_t n)
{
    if (c->bodylen + n + 1 > c->bodycap) {
        while (c->bodylen + n + 1 > c->bodycap)
            c->bodycap *= 2;
        c->body = realloc(c->body, c->bodycap);
    }
    while (n > 0) {
        size_t have = c->rend - c->rstart, k = have < n ? have : n;
        int rc;
        memcpy(c->body + c->bodylen, c->rbuf + c->rstart, k);
        c->bodylen += k;
        c->rstart += k;
        n -= k;
        if (n > 0 && (rc = fill(c)) <= 0)
            return ended(c, rc, "a body");
    }
    c->body[c->bodylen] = '\0';
    return R_COMPLETE;
}

/* A decimal or hex number that is the whole string, or -1. */
static long parse_num(const char *s, int base)
{
    char *end;
    long v;

    if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    errno = 0;
    v = strtol(s, &end, base);
    if (errno != 0 || *end != '\0' || v < 0 || v > MAX_BODY)
        return -1;
    return v;
}

/*
 * Reads one answer, strictly: "HTTP/1.1 200 OK", header fields, and a body
 * framed by exactly one of Content-Length or chunked.  An answer that ends
 * early is R_CUT, never complete.
 */
static result_t read_response(client_t *c)
{
    char *line;
    result_t res;
    long cl = -1;
    int te = 0;

    c->got_bytes = c->rstart != c->rend;
    c->began_before = !atomic_load(&sigterm_sent);
    c->bodylen = 0;
    c->chunked = c->conn_close = 0;
    if ((res = get_line(c, &line, "the status line")) != R_COMPLETE)
        return res;
    if (strcmp(line, "HTTP/1.1 200 OK") != 0) {
        note_bad(c, "client %d: status line \"%.100s\"", c->idx, line);
        return R_BAD;
    }
    for (;;) {
        char *colon, *v;
        if ((res = get_line(c, &line, "the header")) != R_COMPLETE)
            return res;
        if (line[0] == '\0')
            break;
        colon = strchr(line, ':');
        if (colon == NULL || colon == line) {
            note_bad(c, "client %d: header line \"%.100s\"", c->idx, line);
            return R_BAD;
        }
        *colon = '\0';
        for (v = colon + 1; *v == ' '; v++)
            ;
        if (strcasecmp(line, "Content-Length") == 0) {
            if (cl != -1 || (cl = parse_num(v, 10)) < 0) {
                note_bad(c, "client %d: Content-Length \"%.40s\" (again?)",
                         c->idx, v);
                return R_BAD;
            }
        } else if (strcasecmp(line, "Transfer-Encoding") == 0) {
            if (te || strcmp(v, "chunked") != 0) {
                note_bad(c, "client %d: Transfer-Encoding \"%.40s\"", c->idx,
                         v);
                return R_BAD;
            }
            te = 1;
        } else if (strcasecmp(line, "Connection") == 0) {
            if (strcmp(v, "close") != 0) {
                note_bad(c, "client %d: Connection \"%.40s\"", c->idx, v);
                return R_BAD;
            }
            c->conn_close = 1;
        }
    }
    if ((cl >= 0) == te) {
        note_bad(c, "client %d: an answer framed by %s", c->idx,
                 te ? "both Content-Length and chunked" : "neither");
        return R_BAD;
    }
    if (!te)
        return get_bytes(c, (size_t)cl);
    c->chunked = 1;
    for (;;) {
        long n;
        if ((res = get_line(c, &line, "a chunk size")) != R_COMPLETE)
            return res;
        if ((n = parse_num(line, 16)) < 0 ||
            c->bodylen + (size_t)n > MAX_BODY) {
            note_bad(c, "client %d: chunk size line \"%.40s\"", c->idx, line);
            return R_BAD;
        }
        if (n == 0)
            break;
        if ((res = get_bytes(c, (size_t)n)) != R_COMPLETE)
            return res;
        if ((res = get_line(c, &line, "a chunk end")) != R_COMPLETE)
            return res;
        if (line[0] != '\0') {
            note_bad(c, "client %d: chunk data runs past its size", c->idx);
            return R_BAD;
        }
    }
    /* Trailer fields (none expected) up to the empty line. */
    for (;;) {
        if ((res = get_line(c, &line, "the trailer")) != R_COMPLETE)
            return res;
        if (line[0] == '\0')
            return R_COMPLETE;
    }
}

/* The id a /reqinfo or /echo answer carries, to name a misplaced one. */
static int echoed_id(const char *body, int *t, long *n)
{
    const char *p = strstr(body, "uri /reqinfo?id=");

    if (p != NULL)
        return sscanf(p + 16, "%d-%ld", t, n) == 2;
    return sscanf(body, "echo %d-%ld", t, n) == 2;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void close_conn(client_t *c, int reset)
{
    if (reset) {
        /* An abortive close: the server sees RST, not FIN. */
        struct linger l = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    close(c->fd);
    c->fd = -1;
    c->rstart = c->rend = 0;
}

static long next_seq(client_t *c)
{
    if ((size_t)c->seq == c->answered_cap) {
        c->answered = realloc(c->answered, c->answered_cap * 2);
        memset(c->answered + c->answered_cap, 0, c->answered_cap);
        c->answered_cap *= 2;
    }
    return c->seq++;
}

/* The connection ended without an answer, or with part of one. */
static void lost(client_t *c, result_t res, const char *what)
{
    if (res == R_TIMEOUT) {
        c->hung++;
        note_bad(c, "client %d: no answer to %s within %d ms", c->idx, what,
                 RESPONSE_MS);
    } else if (!atomic_load(&sigterm_sent)) {
        /* Nothing closes a keep-alive connection before the shutdown:
         * no timeouts are configured. */
        note_bad(c, "client %d: connection %s before any shutdown (%s)", c->idx,
                 res == R_CUT ? "cut mid-answer" : "closed", what);
    } else if (res == R_CUT && c->began_before) {
        /* The server sent the start of this answer before it got SIGTERM,
         * so the connection was active: Shutdown must let it finish. */
        c->cut++;
        note_bad(c, "client %d: an answer to %s begun before SIGTERM was cut",
                 c->idx, what);
    } else if (res == R_CUT) {
        c->cut++;
    } else {
        c->dropped++;
    }
}

/*
 * Hangs up in the middle of a request, one of four ways: half the header,
 * half a declared body, part of a large answer then RST, or the start of a
 * flushed stream then FIN.  Returns 0 to go on, -1 when the thread ends.
 */
static int abandon(client_t *c, long seq, int how)
{
    char req[256];
    char *line;
    result_t res;

    c->abandoned++;
    switch (how) {
    case 0:
        snprintf(req, sizeof(req),
                 "GET /reqinfo?id=%d-%ld HTTP/1.1\r\nHost: s\r\nX-I", c->idx,
                 seq);
        break;
    case 1:
        snprintf(req, sizeof(req),
                 "POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 100\r\n"
                 "\r\n%050d",
                 0);
        break;
    case 2:
        snprintf(req, sizeof(req),
                 "GET /size?n=400000 HTTP/1.1\r\nHost: s\r\n\r\n");
        break;
    default:
        snprintf(req, sizeof(req),
                 "GET /stream?n=5&delay=%d HTTP/1.1\r\nHost: s\r\n\r\n",
                 STREAM_DELAY_MS);
        break;
    }
    if (send_all(c->fd, req, strlen(req)) < 0) {
        if (!atomic_load(&sigterm_sent))
            lost(c, R_DROPPED, "an abandoned request");
    } else if (how >= 2) {
        c->got_bytes = 0;
        c->began_before = !atomic_load(&sigterm_sent);
        res = get_line(c, &line, "the status line");
        if (res == R_COMPLETE && strcmp(line, "HTTP/1.1 200 OK") != 0)
            note_bad(c, "client %d: status line \"%.100s\"", c->idx, line);
        else if (res == R_TIMEOUT ||
                 (res != R_COMPLETE && !atomic_load(&sigterm_sent)))
            lost(c, res, "an abandoned request");
    }
    close_conn(c, how == 2);
    return c->hung > 0 ? -1 : 0;
}

/*
 * One keep-alive request and its answer, checked against what was asked.
 * Returns 1 to reuse the connection, 0 to open a new one, -1 to stop.
 */
static int one_request(client_t *c)
{
    long seq = next_seq(c), n = 0;
    int roll = (int)(rand_r(&c->rng) % 100), want_chunked;
    char req[512], want_head[512], what[64];
    const char *want = want_head;
    size_t want_len;
    result_t res;

    if (roll < 8)
        return abandon(c, seq, roll % 4) < 0 ? -1 : 0;
    if (roll < 45) {
        /* The id comes back in the body: an answer to any other request
         * (a duplicate, or another connection's) cannot pass. */
        snprintf(req, sizeof(req),
                 "GET /reqinfo?id=%d-%ld HTTP/1.1\r\nHost: s\r\n"
                 "X-Id: %d-%ld\r\n\r\n",
                 c->idx, seq, c->idx, seq);
        snprintf(want_head, sizeof(want_head),
                 "method GET\nuri /reqinfo?id=%d-%ld\nproto HTTP/1.1\n"
                 "host s\nh:x-id: %d-%ld\n",
                 c->idx, seq, c->idx, seq);
        want_len = strlen(want_head);
        want_chunked = 0;
    } else if (roll < 80) {
        /* Sizes vary per request, so a misplaced answer has the wrong
         * length; below 4 KiB it fits the response buffer and gets
         * Content-Length, above it the server must chunk. */
        n = roll < 65 ? 1 + (long)(rand_r(&c->rng) % 3000)
                      : 5000 + (long)(rand_r(&c->rng) % 20000);
        snprintf(req, sizeof(req),
                 "GET /size?n=%ld HTTP/1.1\r\nHost: s\r\nX-Id: %d-%ld\r\n\r\n",
                 n, c->idx, seq);
        want = NULL;
        want_len = (size_t)n;
        want_chunked = n > 4096;
    } else if (roll < 92) {
        int k = 2 + (int)(rand_r(&c->rng) % 3), i;
        size_t off = 0;
        snprintf(req, sizeof(req),
                 "GET /stream?n=%d&delay=%d HTTP/1.1\r\nHost: s\r\n"
                 "X-Id: %d-%ld\r\n\r\n",
                 k, STREAM_DELAY_MS, c->idx, seq);
        for (i = 0; i < k; i++)
            off += (size_t)snprintf(want_head + off, sizeof(want_head) - off,
                                    "chunk %d\n", i);
        want_len = off;
        want_chunked = 1;
    } else {
        char body[64];
        snprintf(body, sizeof(body), "echo %d-%ld\n", c->idx, seq);
        snprintf(req, sizeof(req),
                 "POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: %zu\r\n"
                 "\r\n%s",
                 strlen(body), body);
        snprintf(want_head, sizeof(want_head), "%s", body);
        want_len = strlen(body);
        want_chunked = 0;
    }
    snprintf(what, sizeof(what), "request %d-%ld", c->idx, seq);

    if (send_all(c->fd, req, strlen(req)) < 0) {
        lost(c, R_DROPPED, what);
        return 0;
    }
    res = read_response(c);
    if (res == R_BAD)
        return -1;
    if (res != R_COMPLETE) {
        lost(c, res, what);
        return res == R_TIMEOUT ? -1 : 0;
    }
    if (c->chunked != want_chunked) {
        note_bad(c, "client %d: %s answered %s, want %s", c->idx, what,
                 c->chunked ? "chunked" : "with Content-Length",
                 want_chunked ? "chunked" : "Content-Length");
        return -1;
    }
    if (c->bodylen != want_len ||
        (want != NULL ? memcmp(c->body, want, want_len) != 0
                      : strspn(c->body, "x") != want_len)) {
        int t;
        long other;
        if (echoed_id(c->body, &t, &other)) {
            const char *whose = "";
            if (t != c->idx) {
                whose = " (another client's)";
            } else if (other >= 0 && other < seq && c->answered[other] > 0) {
                whose = " (a second time)";
                c->answered[other]++;
            }
            note_bad(c, "client %d: %s got the answer to request %d-%ld%s",
                     c->idx, what, t, other, whose);
            return -1;
        }
        note_bad(c,
                 "client %d: %s answered with a wrong body (%zu bytes): "
                 "\"%.120s\"",
                 c->idx, what, c->bodylen, c->body);
        return -1;
    }
    if (c->answered[seq] < 255)
        c->answered[seq]++;
    c->completed++;
    if (c->completed == 1)
        atomic_fetch_add(&clients_progressing, 1);
    atomic_fetch_add(&total_completed, 1);
    if (c->began_before && atomic_load(&sigterm_sent))
        c->drained++;
    if (c->conn_close && c->began_before) {
        /* Nothing here asks for a close, and the server was not shutting
         * down when it decided on this one. */
        note_bad(c, "client %d: \"Connection: close\" before any shutdown (%s)",
                 c->idx, what);
        return -1;
    }
    if (c->rstart != c->rend) {
        note_bad(c, "client %d: %zu bytes nobody asked for after %s", c->idx,
                 c->rend - c->rstart, what);
        return -1;
    }
    if (c->conn_close) {
        /* The server said so: the next thing on this connection is its
         * close, and nothing else. */
        int rc;
        c->got_bytes = 0;
        rc = fill(c);
        if (rc == 1) {
            note_bad(c, "client %d: bytes after \"Connection: close\" (%s)",
                     c->idx, what);
            return -1;
        }
        if (rc == -1) {
            c->hung++;
            note_bad(c, "client %d: no close after \"Connection: close\" (%s)",
                     c->idx, what);
            return -1;
        }
        return 0;
    }
    return 1;
}

static void *client_main(void *arg)
{
    client_t *c = arg;

    while (now_ms() < c->deadline) {
        int nreq = 1 + (int)(rand_r(&c->rng) % 20), i, rc = 1;

        c->fd = wt_connect(c->port, 5000);
        if (c->fd < 0) {
            if (!atomic_load(&sigterm_sent))
                note_bad(c, "client %d: connect failed before any shutdown",
                         c->idx);
            else
                c->refused++;
            break;
        }
        for (i = 0; i < nreq && rc == 1 && now_ms() < c->deadline; i++)
            rc = one_request(c);
        if (c->fd >= 0)
            close_conn(c, 0);
        if (rc < 0)
            break;
    }
    if (c->fd >= 0)
        close_conn(c, 0);
    return NULL;
}

/* ---- the test --------------------------------------------------------- */

static void teardown(void)
{
    wt_cleanup();
}

static const char *const sanitizer_marks[] = {
    "ThreadSanitizer",
    "AddressSanitizer",
    "LeakSanitizer",
    "runtime error:",
};

/*
 * Starts weftd with extra config (name says which), loads it with NCLIENTS
 * keep-alive clients, sends SIGTERM mid-load and checks every answer,
 * every thread, and the exit.  Nothing is asserted before weftd is
 * stopped and the clients joined, so a failure leaves no process behind.
 */
static void stress(const char *name, const char *extra)
{
    wt_server_t srv;
    client_t *cl = calloc(NCLIENTS, sizeof(*cl));
    pthread_attr_t attr;
    long long start, load_end, stop_end;
    long loaded;
    long completed = 0, drained = 0, cut = 0, dropped = 0, refused = 0,
         abandoned = 0, hung = 0, bad = 0, dups = 0;
    int i, status, started = 0, unjoined = 0;
    const char *why = NULL;
    char *log;
    size_t k;

    atomic_store(&sigterm_sent, 0);
    atomic_store(&total_completed, 0);
    atomic_store(&clients_progressing, 0);
    ck_assert_ptr_nonnull(cl);
    ck_assert_int_eq(
        wt_server_start(&srv, wt_fmt("LoadModule testapp_module %s\n"
                                     "Handler testapp\n"
                                     "ShutdownTimeout 10s\n%s",
                                     wt_testapp(), extra)),
        0);

    /* Small stacks: 200 threads here and as many in weftd, on 2 cores. */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    start = now_ms();
    for (i = 0; i < NCLIENTS; i++) {
        client_t *c = &cl[i];
        c->idx = i;
        c->port = srv.port;
        c->deadline = start + CLIENT_BOUND_MS;
        c->rng = 0x9e3779b9u * (unsigned)(i + 1);
        c->fd = -1;
        c->answered_cap = 1024;
        c->answered = calloc(1, c->answered_cap);
        c->rbuf = malloc(READ_BUF);
        c->bodycap = 65536;
        c->body = malloc(c->bodycap);
        if (c->answered == NULL || c->rbuf == NULL || c->body == NULL ||
            pthread_create(&c->thread, &attr, client_main, c) != 0)
            break;
        started++;
    }
    pthread_attr_destroy(&attr);

    /* Load until every client is being answered and enough answers went
     * by: then the drain starts with requests in flight everywhere. */
    while (started == NCLIENTS && now_ms() - start < LOAD_MAX_MS &&
           (atomic_load(&total_completed) < LOAD_TARGET ||
            atomic_load(&clients_progressing) < NCLIENTS))
        poll(NULL, 0, 10);
    load_end = now_ms();
    loaded = atomic_load(&total_completed);

    atomic_store(&sigterm_sent, 1);
    status = wt_server_stop(&srv, SIGTERM, STOP_MS);
    stop_end = now_ms();

    /* Every client ends by itself: its connection closes, and the next
     * connect is refused. */
    for (i = 0; i < started; i++) {
        struct timespec until;
        long long left = start + CLIENT_BOUND_MS + 5000 - now_ms();
        clock_gettime(CLOCK_REALTIME, &until);
        if (left < 0)
            left = 0;
        until.tv_sec += (time_t)(left / 1000);
        until.tv_nsec += (long)(left % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        if (pthread_timedjoin_np(cl[i].thread, NULL, &until) != 0)
            unjoined++;
    }
    ck_assert_int_eq(started, NCLIENTS);
    ck_assert_msg(unjoined == 0, "%d client threads still running after %d s",
                  unjoined, CLIENT_BOUND_MS / 1000 + 5);
    ck_assert_msg(loaded >= NCLIENTS, "only %ld answers in %lld ms of load",
                  loaded, load_end - start);

    for (i = 0; i < NCLIENTS; i++) {
        client_t *c = &cl[i];
        completed += c->completed;
        drained += c->drained;
        cut += c->cut;
        dropped += c->dropped;
        refused += c->refused;
        abandoned += c->abandoned;
        hung += c->hung;
        bad += c->bad;
        if (why == NULL && c->bad > 0)
            why = c->why;
        for (k = 0; k < (size_t)c->seq; k++)
            if (c->answered[k] > 1)
                dups++;
    }
    fprintf(stderr,
            "%s: load %lld ms, exit %lld ms after SIGTERM; "
            "%ld answers (%ld drained across SIGTERM), %ld cut, %ld dropped, "
            "%ld refused, %ld abandoned by the client, %ld hung, %ld bad\n",
            name, load_end - start, stop_end - load_end, completed, drained,
            cut, dropped, refused, abandoned, hung, bad);

    ck_assert_msg(bad == 0, "%ld failures; the first: %s", bad, why);
    ck_assert_msg(dups == 0, "%ld requests answered more than once", dups);
    ck_assert_int_eq(hung, 0);
    ck_assert_msg(status == 0, "weftd exit status %d (-1: not within %d ms)",
                  status, STOP_MS);
    /* The drain let answers begun before SIGTERM finish: with an abrupt
     * close instead, the flushed streams in flight would all be cut. */
    ck_assert_msg(drained > 0, "no answer in flight at SIGTERM completed");
    /* After the listener closed, every client found it closed. */
    ck_assert_int_eq(refused, NCLIENTS);

    log = wt_server_log(&srv);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, "shutting down gracefully") != NULL,
                  "no graceful shutdown in the log:\n%s", log);
    ck_assert_msg(strstr(log, "deadline passed") == NULL,
                  "the drain did not end before ShutdownTimeout:\n%s", log);
    for (k = 0; k < sizeof(sanitizer_marks) / sizeof(sanitizer_marks[0]); k++)
        ck_assert_msg(strstr(log, sanitizer_marks[k]) == NULL,
                      "a sanitizer report from weftd:\n%s", log);
    free(log);

    for (i = 0; i < NCLIENTS; i++) {
        free(cl[i].answered);
        free(cl[i].rbuf);
        free(cl[i].body);
    }
    free(cl);
}

/* MPM thread (the default): a thread per connection. */
START_TEST(shutdown_under_load_thread)
{
    stress("MPM thread", "");
}
END_TEST

/* MPM worker with fewer threads than clients: connections wait in the
 * backlog for a thread, and the listener closes on some of them. */
START_TEST(shutdown_under_load_worker)
{
    stress("MPM worker, 64 threads", "MPM worker\nThreads 64\n");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stress");
    TCase *tc = tcase_create("graceful shutdown under load");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, shutdown_under_load_thread);
    tcase_add_test(tc, shutdown_under_load_worker);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
