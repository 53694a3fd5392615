/*
 * test_http_conn.c -- connections, from outside a running weftd: the
 * ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout deadlines
 * (firing and not), ConnState sequences read back from mod_testapp's
 * /events log, the accept loop (MaxConnections, several Listen lines,
 * IPv6, running out of descriptors) and the thread and worker MPMs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft_test.h"

/* Every wait is bounded by this; generous for sanitizer builds. */
#define WAIT_MS 10000
/* How late a deadline may fire and still count as "on time": the suite
 * also runs under ASan and TSan on a busy machine. */
#define LATE_MS 5000
/* A deadline fires no earlier than this before its nominal time (clock
 * granularity between the test and the server). */
#define EARLY_MS 50
#define CLIENT_BUF 32768

/* ---- memory and temporary directories ------------------------------------ */

/* What a test allocates is kept here and freed by teardown, so that no
 * test leaks (LeakSanitizer checks every forked test) on any path. */
static void *heap[4096];
static int nheap;

static void *keep(void *p)
{
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

/*
 * Directories this suite made, with the process that made them.  Check
 * forks each test from the process that started the shared servers, so
 * a test's cleanup must remove its own directories only (wt_cleanup
 * would remove the shared server's too).
 */
static struct {
    char *path;
    pid_t owner;
} dirs[32];
static int ndirs;

static char *make_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *t = fmt("%s/weft-conn-XXXXXX", base ? base : "/tmp");

    ck_assert_ptr_nonnull(mkdtemp(t));
    ck_assert_int_lt(ndirs, (int)(sizeof(dirs) / sizeof(dirs[0])));
    dirs[ndirs].path = t;
    dirs[ndirs].owner = getpid();
    ndirs++;
    return t;
}

static void remove_dirs(void)
{
    int i, kept = 0;

    for (i = 0; i < ndirs; i++) {
        if (dirs[i].owner == getpid()) {
            char *cmd = NULL;
            if (asprintf(&cmd, "rm -rf '%s'", dirs[i].path) >= 0 &&
                system(cmd) != 0) {
                /* best effort: a leftover directory is not a failure */
            }
            free(cmd);
        } else {
            dirs[kept++] = dirs[i];
        }
    }
    ndirs = kept;
}

static void teardown(void)
{
    remove_dirs();
    while (nheap > 0)
        free(heap[--nheap]);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- servers ------------------------------------------------------------- */

/* A weftd of our own: wt_server_t (for wt_server_stop and friends) plus
 * every port it listens on, in Listen order. */
typedef struct {
    wt_server_t w;
    int ports[4];
    int nports;
} server_t;

static char *server_log(const wt_server_t *w)
{
    return keep(wt_server_log(w));
}

static int count_str(const char *text, const char *needle)
{
    int n = 0;
    const char *p = text;

    while (p != NULL && (p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

/* The ports of every "listening on HOST:PORT" line, in order. */
static int parse_ports(const char *log, int *ports, int max)
{
    const char *p = log;
    int n = 0;

    while (n < max && (p = strstr(p, "listening on ")) != NULL) {
        const char *end = p + strlen("listening on ");
        const char *colon;
        while (*end != '\0' && *end != ' ' && *end != '\n')
            end++;
        for (colon = end; colon > p && colon[-1] != ':'; colon--)
            ;
        ports[n++] = atoi(colon);
        p = end;
    }
    return n;
}

/*
 * Starts the in-tree weftd on "LoadModule testapp + Handler testapp +
 * extra" (plus `Listen 127.0.0.1:0` unless extra has a Listen), with
 * RLIMIT_NOFILE set to nofile when it is above 0, and waits until the
 * log names a port for every Listen line.  wt_server_start cannot set a
 * limit, and its server outlives a test that fails an assertion (Check
 * then _exits without teardown): this one dies with the test process
 * (PR_SET_PDEATHSIG).
 */
static void start_server(server_t *s, const char *extra, int nofile)
{
    long long deadline = now_ms() + WAIT_MS;
    char *body, *conf;
    int fd, want;

    memset(s, 0, sizeof(*s));
    body = fmt("%sLoadModule testapp_module \"%s\"\nHandler testapp\n%s",
               strstr(extra, "Listen ") ? "" : "Listen 127.0.0.1:0\n",
               wt_testapp(), extra);
    want = count_str(body, "Listen ");
    s->w.dir = make_dir();
    s->w.conf = conf = keep(wt_write(s->w.dir, "weft.conf", body));
    s->w.log = fmt("%s/weftd.log", s->w.dir);
    fd = open(s->w.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    s->w.pid = fork();
    ck_assert_int_ge(s->w.pid, 0);
    if (s->w.pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (nofile > 0) {
            struct rlimit rl = { (rlim_t)nofile, (rlim_t)nofile };
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
                _exit(126);
        }
        dup2(fd, 1);
        dup2(fd, 2);
        execl(wt_weftd(), wt_weftd(), "-f", conf, (char *)NULL);
        _exit(127);
    }
    close(fd);
    while (now_ms() < deadline) {
        char *log = server_log(&s->w);
        int status;
        s->nports = parse_ports(log, s->ports, 4);
        if (s->nports >= want) {
            s->w.port = s->ports[0];
            return;
        }
        if (waitpid(s->w.pid, &status, WNOHANG) == s->w.pid) {
            s->w.pid = -1;
            ck_abort_msg("weftd exited at start-up; its log:\n%s", log);
        }
        poll(NULL, 0, 20);
    }
    ck_abort_msg("weftd named no port within %d ms; its log:\n%s", WAIT_MS,
                 server_log(&s->w));
}

/* Graceful stop; every test ends its own servers this way. */
static void stop_server(server_t *s)
{
    int rc = wt_server_stop(&s->w, SIGTERM, WAIT_MS);

    ck_assert_msg(rc == 0, "weftd did not exit 0 on SIGTERM (%d); log:\n%s", rc,
                  server_log(&s->w));
}

/* ---- clients ------------------------------------------------------------- */

typedef struct {
    int fd;
    int closed;  /* the server closed (EOF or reset) */
    size_t len;  /* bytes in buf not yet handed out */
    char *local; /* our ip:port as the server's log names us */
    char buf[CLIENT_BUF];
} client_t;

/* "ip:port" of our end, as weft formats a remote address. */
static char *local_addr(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char ip[INET6_ADDRSTRLEN];

    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        return fmt("[%s]:%u", ip, ntohs(s6->sin6_port));
    }
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
    return fmt("%s:%u", ip, ntohs(((struct sockaddr_in *)&ss)->sin_port));
}

static client_t *client_on(int fd)
{
    client_t *c = keep(calloc(1, sizeof(*c)));

    ck_assert_msg(fd >= 0, "cannot connect: %s", strerror(errno));
    c->fd = fd;
    c->local = local_addr(fd);
    return c;
}

static client_t *client_new(int port)
{
    return client_on(wt_connect(port, WAIT_MS));
}

static void client_close(client_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void client_send(client_t *c, const char *raw)
{
    ck_assert_msg(wt_sends(c->fd, raw) == 0, "send failed: %s",
                  strerror(errno));
}

/* A GET with Host and the given extra header lines (each with CRLF). */
static void send_get(client_t *c, const char *path, const char *extra)
{
    client_send(c, fmt("GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n", path, extra));
}

/* Reads what is there (waiting until deadline for something); 0 when
 * nothing came in time. */
static int client_fill(client_t *c, long long deadline)
{
    struct pollfd pf = { c->fd, POLLIN, 0 };
    long long left = deadline - now_ms();
    ssize_t got;

    if (c->closed || left <= 0 || poll(&pf, 1, (int)left) <= 0)
        return 0;
    ck_assert_msg(c->len < sizeof(c->buf) - 1, "client buffer full");
    got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
    if (got <= 0) {
        c->closed = 1;
        return 1;
    }
    c->len += (size_t)got;
    c->buf[c->len] = '\0';
    return 1;
}

/* Reads everything the socket holds now, its close included, without
 * waiting: so a response and the FIN behind it are seen together. */
static void client_drain(client_t *c)
{
    while (!c->closed) {
        ssize_t got;
        ck_assert_msg(c->len < sizeof(c->buf) - 1, "client buffer full");
        got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
                   MSG_DONTWAIT);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            c->closed = 1;
            return;
        }
        c->len += (size_t)got;
        c->buf[c->len] = '\0';
    }
}

/* Length of the first complete response in buf, or 0. */
static size_t response_len(const char *buf, size_t len, int closed)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4), *cl, *body;
    size_t hdr;

    if (end == NULL)
        return 0;
    hdr = (size_t)(end - buf) + 4;
    body = buf + hdr;
    cl = memmem(buf, hdr, "\r\nContent-Length: ", 18);
    if (cl != NULL) {
        size_t total = hdr + strtoul(cl + 18, NULL, 10);
        return total <= len ? total : 0;
    }
    if (memmem(buf, hdr, "\r\nTransfer-Encoding: chunked", 28) != NULL) {
        const char *last = memmem(body - 2, len - hdr + 2, "\r\n0\r\n\r\n", 7);
        return last != NULL ? (size_t)(last - buf) + 7 : 0;
    }
    return closed ? len : 0; /* close-delimited */
}

/* The next whole response (a kept string), or NULL if the connection
 * closed first or timeout_ms passed. */
static char *next_response(client_t *c, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;

    for (;;) {
        size_t n = response_len(c->buf, c->len, c->closed);
        if (n > 0) {
            char *r = keep(strndup(c->buf, n));
            memmove(c->buf, c->buf + n, c->len - n);
            c->len -= n;
            c->buf[c->len] = '\0';
            return r;
        }
        if (!client_fill(c, deadline))
            return NULL;
    }
}

/* Reads until the server closes (1) or timeout_ms passes (0); what came
 * stays in c->buf. */
static int wait_closed(client_t *c, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;

    while (!c->closed && client_fill(c, deadline))
        ;
    return c->closed;
}

/* 1 when nothing at all arrives (no byte, no close) for ms. */
static int quiet_for(client_t *c, int ms)
{
    long long deadline = now_ms() + ms;

    while (client_fill(c, deadline))
        if (c->closed || c->len > 0)
            return 0;
    return 1;
}

/* The response with its Date value (checked for shape) replaced by "*",
 * so whole responses can be compared byte for byte. */
static char *no_date(const char *resp)
{
    const char *d = strstr(resp, "\r\nDate: "), *eol;

    if (d == NULL)
        return (char *)resp;
    d += 8;
    eol = strstr(d, "\r\n");
    if (eol == NULL || eol - d != 29 || strncmp(eol - 4, " GMT", 4) != 0)
        return (char *)resp;
    return fmt("%.*s*%s", (int)(d - resp), resp, eol);
}

/* A text/plain answer, as testapp and Go's framing make it. */
static char *text_ok(const char *body, int close)
{
    return fmt("HTTP/1.1 200 OK\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n"
               "Date: *\r\n"
               "Content-Length: %zu\r\n"
               "%s"
               "\r\n%s",
               strlen(body), close ? "Connection: close\r\n" : "", body);
}

#define ck_assert_response(resp, expected)                 \
    do {                                                   \
        const char *r_ = (resp);                           \
        ck_assert_msg(r_ != NULL, "no complete response"); \
        ck_assert_str_eq(no_date(r_), (expected));         \
    } while (0)

static const char *body_of(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");

    ck_assert_ptr_nonnull(b);
    return b + 4;
}

/* GET path on c and return the next response (asserted present). */
static char *get(client_t *c, const char *path)
{
    char *r;

    send_get(c, path, "");
    r = next_response(c, WAIT_MS);
    ck_assert_msg(r != NULL, "no response to %s (got %zu bytes%s)", path,
                  c->len, c->closed ? ", closed" : "");
    return r;
}

/* A request line cut off by a deadline: Go closes silently; the contract
 * allows weft its 400 too.  Nothing else may come. */
static void assert_silent_or_400(const client_t *c)
{
    if (c->len > 0)
        ck_assert_str_eq(c->buf, "HTTP/1.1 400 Bad Request\r\n"
                                 "Content-Type: text/plain; charset=utf-8\r\n"
                                 "Connection: close\r\n\r\n"
                                 "400 Bad Request");
}

/* ---- the event log ------------------------------------------------------- */

static int connect6(int port);

/*
 * The event log's text, fetched on a connection of its own (over IPv6
 * when v6): a heap string the caller frees, or NULL.  Not kept, so that
 * a long poll of the log does not pile up allocations.
 */
static char *events_raw(int port, int v6, int clear)
{
    int fd = v6 ? connect6(port) : wt_connect(port, WAIT_MS);
    size_t cap = 1 << 20;
    char *buf, *body;

    if (fd < 0)
        return NULL;
    buf = malloc(cap);
    if (wt_sends(fd, clear ? "GET /events?clear=1 HTTP/1.1\r\nHost: t\r\n"
                             "Connection: close\r\n\r\n"
                           : "GET /events HTTP/1.1\r\nHost: t\r\n"
                             "Connection: close\r\n\r\n") == 0)
        wt_recv_all(fd, buf, cap, WAIT_MS, NULL);
    else
        buf[0] = '\0';
    close(fd);
    body = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) != 0 || body == NULL) {
        free(buf);
        return NULL;
    }
    memmove(buf, body + 4, strlen(body + 4) + 1);
    return buf;
}

static char *events(int port, int v6, int clear)
{
    char *log = events_raw(port, v6, clear);

    ck_assert_msg(log != NULL, "GET /events failed");
    return keep(log);
}

/* The states logged for one client, space-separated, oldest first: a
 * heap string the caller frees. */
static char *states_of(const char *log, const char *remote)
{
    size_t plen = strlen(remote) + 7, n = 0;
    char *prefix = malloc(plen + 1), *out = malloc(strlen(log) + 1);
    const char *p = log;

    snprintf(prefix, plen + 1, "state %s ", remote);
    out[0] = '\0';
    while ((p = strstr(p, prefix)) != NULL) {
        const char *st = p + plen, *eol = strchr(st, '\n');
        size_t len = eol ? (size_t)(eol - st) : strlen(st);
        if (p == log || p[-1] == '\n') {
            if (n > 0)
                out[n++] = ' ';
            memcpy(out + n, st, len);
            n += len;
            out[n] = '\0';
        }
        p = st;
    }
    free(prefix);
    return out;
}

/* Polls /events (bounded) until remote's last state is last; returns
 * its whole sequence (kept). */
static char *wait_states(int port, int v6, const char *remote, const char *last)
{
    long long deadline = now_ms() + WAIT_MS;
    char *seq = NULL;

    for (;;) {
        char *log = events_raw(port, v6, 0);
        size_t n, t = strlen(last);
        free(seq);
        seq = states_of(log ? log : "", remote);
        free(log);
        n = strlen(seq);
        if ((n >= t && strcmp(seq + n - t, last) == 0 &&
             (n == t || seq[n - t - 1] == ' ')) ||
            now_ms() >= deadline)
            return keep(seq);
        poll(NULL, 0, 20);
    }
}

/* ---- ReadHeaderTimeout --------------------------------------------------- */

START_TEST(header_timeout_cuts_partial_line)
{
    server_t s;
    client_t *c;
    long long t0, took;

    start_server(&s, "ReadHeaderTimeout 1s\n", 0);
    t0 = now_ms();
    c = client_new(s.w.port);
    client_send(c, "GET /hello HT");
    ck_assert_msg(wait_closed(c, WAIT_MS), "still open after %d ms", WAIT_MS);
    took = now_ms() - t0;
    ck_assert_msg(took >= 1000 - EARLY_MS, "closed after %lld ms", took);
    ck_assert_msg(took <= 1000 + LATE_MS, "closed after %lld ms", took);
    assert_silent_or_400(c);
    client_close(c);
    stop_server(&s);
}
END_TEST

START_TEST(header_timeout_spares_prompt_client)
{
    server_t s;
    client_t *c;

    start_server(&s, "ReadHeaderTimeout 1s\n", 0);
    c = client_new(s.w.port);
    /* Half the request, a pause well inside the deadline, the rest. */
    client_send(c, "GET /hello HTTP/1.1\r\nHo");
    ck_assert(quiet_for(c, 300));
    client_send(c, "st: t\r\n\r\n");
    ck_assert_response(next_response(c, WAIT_MS), text_ok("hello\n", 0));
    /* The deadline is per request, counted from its first read: idling
     * longer than it between requests (no IdleTimeout, no ReadTimeout)
     * costs nothing. */
    ck_assert(quiet_for(c, 1300));
    ck_assert_response(get(c, "/hello"), text_ok("hello\n", 0));
    client_close(c);
    stop_server(&s);
}
END_TEST

START_TEST(header_timeout_cuts_trickle)
{
    server_t s;
    client_t *c;
    long long t0, took;
    int i, cut = 0;

    start_server(&s, "ReadHeaderTimeout 1s\n", 0);
    t0 = now_ms();
    c = client_new(s.w.port);
    client_send(c, "GET /hello HTTP/1.1\r\nHost: t\r\nX-Trickle: ");
    /* One byte every ~200 ms, each resetting nothing: the deadline is for
     * the whole header.  The wait for the next byte is the wait for the
     * server's close; 50 rounds (10 s) bound it. */
    for (i = 0; i < 50 && !cut; i++) {
        struct pollfd pf = { c->fd, POLLIN, 0 };
        if (poll(&pf, 1, 200) > 0 || send(c->fd, "a", 1, MSG_NOSIGNAL) != 1)
            cut = 1;
    }
    ck_assert_msg(cut, "still reading headers after %d rounds", i);
    ck_assert_msg(i >= 3, "cut after %d rounds: too early", i);
    ck_assert(wait_closed(c, WAIT_MS));
    took = now_ms() - t0;
    ck_assert_msg(took >= 1000 - EARLY_MS, "closed after %lld ms", took);
    ck_assert_msg(took <= 1000 + LATE_MS, "closed after %lld ms", took);
    assert_silent_or_400(c);
    client_close(c);
    stop_server(&s);
}
END_TEST

START_TEST(header_timeout_spares_body)
{
    server_t s;
    client_t *c;

    /* Without ReadTimeout nothing bounds the body: a body that trickles
     * in past ReadHeaderTimeout is read, as in Go. */
    start_server(&s, "ReadHeaderTimeout 1s\n", 0);
    c = client_new(s.w.port);
    client_send(c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                   "Content-Length: 6\r\n\r\nabc");
    ck_assert(quiet_for(c, 1500));
    client_send(c, "def");
    ck_assert_response(next_response(c, WAIT_MS),
                       "HTTP/1.1 200 OK\r\n"
                       "Content-Type: application/octet-stream\r\n"
                       "Date: *\r\n"
                       "Content-Length: 6\r\n\r\nabcdef");
    client_close(c);
    stop_server(&s);
}
END_TEST

/* ---- ReadTimeout --------------------------------------------------------- */

START_TEST(read_timeout_cuts_body)
{
    server_t s;
    client_t *c;
    long long t0, took;

    start_server(&s, "ReadTimeout 1s\n", 0);
    t0 = now_ms();
    c = client_new(s.w.port);
    client_send(c, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                   "Content-Length: 10\r\n\r\nabc");
    /* The body read fails at the deadline; /echo writes what it got and
     * the rest of the body can no longer be found, so Go answers with
     * Connection: close and closes. */
    ck_assert(wait_closed(c, WAIT_MS));
    took = now_ms() - t0;
    ck_assert_msg(took >= 1000 - EARLY_MS, "answered after %lld ms", took);
    ck_assert_msg(took <= 1000 + LATE_MS, "answered after %lld ms", took);
    ck_assert_response(next_response(c, 0),
                       "HTTP/1.1 200 OK\r\n"
                       "Content-Type: application/octet-stream\r\n"
                       "Date: *\r\n"
                       "Content-Length: 3\r\n"
                       "Connection: close\r\n\r\nabc");
    ck_assert_uint_eq(c->len, 0);
    client_close(c);
    stop_server(&s);
}
END_TEST

START_TEST(read_timeout_bounds_headers)
{
    server_t s;
    client_t *c;
    long long t0, took;

    /* ReadHeaderTimeout 0 falls back to ReadTimeout. */
    start_server(&s, "ReadTimeout 1s\n", 0);
    t0 = now_ms();
    c = client_new(s.w.port);
    client_send(c, "GET /hello HT");
    ck_assert_msg(wait_closed(c, WAIT_MS), "still open after %d ms", WAIT_MS);
    took = now_ms() - t0;
    ck_assert_msg(took >= 1000 - EARLY_MS, "closed after %lld ms", took);
    ck_assert_msg(took <= 1000 + LATE_MS, "closed after %lld ms", took);
    assert_silent_or_400(c);
    client_close(c);
    /* A prompt request is served. */
    c = client_new(s.w.port);
    ck_assert_response(get(c, "/hello"), text_ok("hello\n", 0));
    client_close(c);
    stop_server(&s);
}
END_TEST

START_TEST(read_timeout_bounds_idle)
{
    server_t s;
    client_t *c;
    long long t0, took;
    char *seq;

    /* IdleTimeout 0 falls back to ReadTimeout. */
    start_server(&s, "ReadTimeout 1s\n", 0);
    events(s.w.port, 0, 1);
    c = client_new(s.w.port);
    /* The idle deadline starts after the response, so after t0 (taken
     * before the request: a client slow to wake cannot skew it). */
    t0 = now_ms();
    ck_assert_response(get(c, "/hello"), text_ok("hello\n", 0));
    ck_assert_msg(wait_closed(c, WAIT_MS), "still open after %d ms", WAIT_MS);
    took = now_ms() - t0;
    ck_assert_msg(took >= 1000 - EARLY_MS, "closed after %lld ms", took);
    ck_assert_msg(took <= 1000 + LATE_MS, "closed after %lld ms", took);
    ck_assert_uint_eq(c->len, 0);
    seq = wait_states(s.w.port, 0, c->local, "closed");
    ck_assert_str_eq(seq, "new active idle closed");
    client_close(c);
    stop_server(&s);
}
END_TEST

/* ---- WriteTimeout -------------------------------------------------------- */

START_TEST(write_timeout_cuts_slow_handler)
{
    server_t s;
    client_t *c;
    long long t0, took;

    start_server(&s, "WriteTimeout 500ms\n", 0);
    c = client_new(s.w.port);
    /* Fast handlers are served, and the deadline is per request (set
     * after each request is read): idling past it in between is fine. */
    ck_assert_response(get(c, "/hello"), text_ok("hello\n", 0));
    ck_assert(quiet_for(c, 700));
    ck_assert_response(get(c, "/hello"), text_ok("hello\n", 0));
    /* A handler slower than the deadline cannot get its response out:
     * the write fails and the connection closes with nothing sent. */
    t0 = now_ms();
    send_get(c, "/sleep?ms=2000", "");
    ck_assert_msg(wait_closed(c, WAIT_MS), "still open after %d ms", WAIT_MS);
    took = now_ms() - t0;
    ck_assert_msg(c->len == 0, "got a response past WriteTimeout: %s", c->buf);
    ck_assert_msg(took >= 2000 - EARLY_MS, "closed after %lld ms", took);
    client_close(c);
    stop_server(&s);
}
END_TEST

START_TEST(write_timeout_spares_fast_handler)
{
    server_t s;
    client_t *c;

    start_server(&s, "WriteTimeout 5s\n", 0);
    c = client_new(s.w.port);
    ck_assert_response(get(c, "/sleep?ms=100"), text_ok("slept\n", 0));
    ck_assert_response(get(c, "/sleep?ms=100"), text_ok("slept\n", 0));
    client_close(c);
    stop_server(&s);
}
END_TEST

/* ---- IdleTimeout --------------------------------------------------------- */

START_TEST(idle_timeout_closes_idle)
{
    server_t s;
    client_t *c;
    long long t0, took;
    char *seq;

    start_server(&s, "IdleTimeout 500ms\n", 0);
    events(s.w.port, 0, 1);
    c = client_new(s.w.port);
    /* The idle deadline starts after the response, so after t0 (taken
     * before the request: a client slow to wake cannot skew it). */
    t0 = now_ms();
    ck_assert_response(get(c, "/hello"), text_ok("hello\n", 0));
    ck_assert_msg(wait_closed(c, WAIT_MS), "still open after %d ms", WAIT_MS);
    took = now_ms() - t0;
    ck_assert_msg(took >= 500 - EARLY_MS, "closed after %lld ms", took);
    ck_assert_msg(took <= 500 + LATE_MS, "closed after %lld ms", took);
    ck_assert_uint_eq(c->len, 0);
    seq = wait_states(s.w.port, 0, c->local, "closed");
    ck_assert_str_eq(seq, "new active idle closed");
    client_close(c);
    stop_server(&s);
}
END_TEST

START_TEST(idle_timeout_spares_active)
{
    server_t s;
    client_t *c;

    /* The idle deadline covers only the wait for a request: neither a
     * slow handler nor a request's headers are bound by it. */
    start_server(&s, "IdleTimeout 500ms\n", 0);
    c = client_new(s.w.port);
    ck_assert_response(get(c, "/sleep?ms=1000"), text_ok("slept\n", 0));
    client_send(c, "GET /hello HTTP/1.1\r\n");
    ck_assert(quiet_for(c, 1000));
    client_send(c, "Host: t\r\n\r\n");
    ck_assert_response(next_response(c, WAIT_MS), text_ok("hello\n", 0));
    client_close(c);
    stop_server(&s);
}
END_TEST

/* ---- connection states, and no timeouts (one shared server) -------------- */

static server_t shared;

static void shared_start(void)
{
    start_server(&shared, "", 0);
}

static void shared_stop(void)
{
    wt_server_stop(&shared.w, SIGTERM, WAIT_MS);
    teardown();
}

START_TEST(states_keep_alive)
{
    client_t *c;

    events(shared.w.port, 0, 1);
    c = client_new(shared.w.port);
    ck_assert_response(get(c, "/hello"), text_ok("hello\n", 0));
    ck_assert_response(get(c, "/hello"), text_ok("hello\n", 0));
    client_close(c);
    ck_assert_str_eq(wait_states(shared.w.port, 0, c->local, "closed"),
                     "new active idle active idle closed");
}
END_TEST

START_TEST(states_connection_close)
{
    client_t *c;

    /* Go's serve loop returns before StateIdle when the connection will
     * not be reused. */
    events(shared.w.port, 0, 1);
    c = client_new(shared.w.port);
    send_get(c, "/hello", "Connection: close\r\n");
    ck_assert_response(next_response(c, WAIT_MS), text_ok("hello\n", 1));
    ck_assert(wait_closed(c, WAIT_MS));
    ck_assert_uint_eq(c->len, 0);
    ck_assert_str_eq(wait_states(shared.w.port, 0, c->local, "closed"),
                     "new active closed");
    client_close(c);
}
END_TEST

START_TEST(states_silent_client)
{
    client_t *c;

    /* Never a byte read: never active. */
    events(shared.w.port, 0, 1);
    c = client_new(shared.w.port);
    client_close(c);
    ck_assert_str_eq(wait_states(shared.w.port, 0, c->local, "closed"),
                     "new closed");
}
END_TEST

START_TEST(states_pipelined)
{
    client_t *c;

    /* Go goes idle after each response even when the next request is
     * already buffered, then active again at once. */
    events(shared.w.port, 0, 1);
    c = client_new(shared.w.port);
    client_send(c,
                "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
                "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ck_assert_response(next_response(c, WAIT_MS), text_ok("hello\n", 0));
    ck_assert_response(next_response(c, WAIT_MS), text_ok("hello\n", 1));
    ck_assert(wait_closed(c, WAIT_MS));
    ck_assert_str_eq(wait_states(shared.w.port, 0, c->local, "closed"),
                     "new active idle active closed");
    client_close(c);
}
END_TEST

START_TEST(no_timeouts_stay_open)
{
    client_t *c, *silent;

    /* No deadline at all: an idle keep-alive connection and one that
     * never sent a byte both stay (bounded check), and still work. */
    silent = client_new(shared.w.port);
    c = client_new(shared.w.port);
    ck_assert_response(get(c, "/hello"), text_ok("hello\n", 0));
    ck_assert(quiet_for(c, 1500));
    ck_assert(quiet_for(silent, 10));
    ck_assert_response(get(c, "/hello"), text_ok("hello\n", 0));
    ck_assert_response(get(silent, "/hello"), text_ok("hello\n", 0));
    client_close(c);
    client_close(silent);
}
END_TEST

/* ---- MPMs and the accept loop -------------------------------------------- */

START_TEST(worker_pool_full_waits_in_backlog)
{
    server_t s;
    client_t *cl[3];
    long long t0, first[3], eof[3];
    int it_first[3], it_eof[3], i, it = 0, left = 3;
    long long deadline;

    start_server(&s, "MPM worker\nThreads 2\n", 0);
    t0 = now_ms();
    /* Two connections take both threads for 1.5 s; the listener reserves
     * a thread before it accepts, so the third waits in the backlog. */
    for (i = 0; i < 3; i++) {
        cl[i] = client_new(s.w.port);
        first[i] = eof[i] = -1;
        it_first[i] = it_eof[i] = -1;
    }
    send_get(cl[0], "/sleep?ms=1500", "Connection: close\r\n");
    send_get(cl[1], "/sleep?ms=1500", "Connection: close\r\n");
    send_get(cl[2], "/hello", "Connection: close\r\n");
    /* Read all three at once, noting in which poll round each first got
     * a byte and saw its close.  The server closes the first connection
     * before it can accept the third, so that close is in by the round
     * the third's first byte is. */
    deadline = now_ms() + WAIT_MS;
    while (left > 0 && now_ms() < deadline) {
        struct pollfd pf[3];
        for (i = 0; i < 3; i++)
            pf[i] =
                (struct pollfd){ cl[i]->closed ? -1 : cl[i]->fd, POLLIN, 0 };
        if (poll(pf, 3, (int)(deadline - now_ms())) <= 0)
            continue;
        it++;
        for (i = 0; i < 3; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            client_drain(cl[i]);
            if (cl[i]->len > 0 && it_first[i] < 0) {
                it_first[i] = it;
                first[i] = now_ms() - t0;
            }
            if (cl[i]->closed) {
                it_eof[i] = it;
                eof[i] = now_ms() - t0;
                left--;
            }
        }
    }
    ck_assert_msg(left == 0, "%d connection(s) not finished", left);
    ck_assert_response(next_response(cl[0], 0), text_ok("slept\n", 1));
    ck_assert_response(next_response(cl[1], 0), text_ok("slept\n", 1));
    ck_assert_response(next_response(cl[2], 0), text_ok("hello\n", 1));
    /* Both sleeps ran at once (one thread each), and the third was
     * answered only after one of them had closed, freeing its thread. */
    ck_assert_msg(eof[0] < 2900 && eof[1] < 2900,
                  "sleeps did not overlap: %lld %lld ms", eof[0], eof[1]);
    ck_assert_msg(it_first[2] >=
                      (it_eof[0] < it_eof[1] ? it_eof[0] : it_eof[1]),
                  "third answered (round %d) before a thread was free "
                  "(rounds %d, %d)",
                  it_first[2], it_eof[0], it_eof[1]);
    ck_assert_msg(first[2] >= 1500 - EARLY_MS, "third answered after %lld ms",
                  first[2]);
    for (i = 0; i < 3; i++)
        client_close(cl[i]);
    stop_server(&s);
}
END_TEST

#define MANY 50

START_TEST(thread_mpm_many_connections)
{
    server_t s;
    client_t *cl[MANY];
    char *ids[MANY];
    long long t0, took;
    int i, j;

    start_server(&s, "MPM thread\n", 0);
    for (i = 0; i < MANY; i++) {
        cl[i] = client_new(s.w.port);
        ids[i] = (char *)body_of(get(cl[i], "/conn-id"));
        for (j = 0; j < i; j++)
            ck_assert_str_ne(ids[i], ids[j]);
    }
    /* All 50 in a handler at once: a thread each, so the whole round
     * takes about one sleep, not fifty. */
    t0 = now_ms();
    for (i = 0; i < MANY; i++)
        send_get(cl[i], "/sleep?ms=1000", "");
    for (i = 0; i < MANY; i++)
        ck_assert_response(next_response(cl[i], WAIT_MS),
                           text_ok("slept\n", 0));
    took = now_ms() - t0;
    ck_assert_msg(took < 1000 + LATE_MS, "50 sleeps took %lld ms", took);
    /* Still the same keep-alive connections. */
    for (i = 0; i < MANY; i++) {
        ck_assert_str_eq(body_of(get(cl[i], "/conn-id")), ids[i]);
        client_close(cl[i]);
    }
    stop_server(&s);
}
END_TEST

START_TEST(max_connections_holds_third)
{
    server_t s;
    client_t *a, *b, *c;

    start_server(&s, "MaxConnections 2\n", 0);
    a = client_new(s.w.port);
    b = client_new(s.w.port);
    ck_assert_response(get(a, "/hello"), text_ok("hello\n", 0));
    ck_assert_response(get(b, "/hello"), text_ok("hello\n", 0));
    /* Two idle keep-alive connections are open: the third completes its
     * TCP handshake in the kernel's backlog but is not accepted. */
    c = client_new(s.w.port);
    send_get(c, "/hello", "");
    ck_assert_msg(quiet_for(c, 1000), "third connection answered: %s", c->buf);
    client_close(a);
    ck_assert_response(next_response(c, WAIT_MS), text_ok("hello\n", 0));
    ck_assert_response(get(b, "/hello"), text_ok("hello\n", 0));
    client_close(b);
    client_close(c);
    stop_server(&s);
}
END_TEST

static const char *const mpms[] = { "MPM thread\n", "MPM worker\nThreads 4\n" };

START_TEST(protocol_under_mpm)
{
    server_t s;
    client_t *c;
    char *id, *id2;

    start_server(&s, mpms[_i], 0);
    /* Keep-alive: one connection, two requests, no Connection: close. */
    c = client_new(s.w.port);
    id = (char *)body_of(get(c, "/conn-id"));
    ck_assert_msg(strncmp(id, "conn ", 5) == 0, "%s", id);
    ck_assert_response(get(c, "/conn-id"), text_ok(id, 0));
    client_close(c);
    /* Pipelining: three requests in one write, answered in order. */
    c = client_new(s.w.port);
    client_send(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
                   "GET /conn-id HTTP/1.1\r\nHost: t\r\n\r\n"
                   "GET /size?n=3 HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_response(next_response(c, WAIT_MS), text_ok("hello\n", 0));
    id2 = (char *)body_of(next_response(c, WAIT_MS));
    ck_assert_str_ne(id2, id);
    ck_assert_response(next_response(c, WAIT_MS), text_ok("xxx", 0));
    ck_assert(quiet_for(c, 100));
    client_close(c);
    /* Connection: close: the answer says so, then the server closes. */
    c = client_new(s.w.port);
    send_get(c, "/hello", "Connection: close\r\n");
    ck_assert_response(next_response(c, WAIT_MS), text_ok("hello\n", 1));
    ck_assert(wait_closed(c, WAIT_MS));
    ck_assert_uint_eq(c->len, 0);
    client_close(c);
    stop_server(&s);
}
END_TEST

/* ---- Listen -------------------------------------------------------------- */

static int ipv6_loopback(void)
{
    struct sockaddr_in6 sa;
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    if (fd < 0)
        return 0;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

static int connect6(int port)
{
    struct sockaddr_in6 sa;
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    sa.sin6_port = htons((unsigned short)port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

START_TEST(listen_ipv6)
{
    server_t s;
    client_t *c;
    char *log;

    if (!ipv6_loopback()) {
        fprintf(stderr, "listen_ipv6: no IPv6 loopback here; skipped\n");
        return;
    }
    start_server(&s, "Listen [::1]:0\n", 0);
    log = server_log(&s.w);
    ck_assert_ptr_nonnull(strstr(log, fmt("listening on [::1]:%d", s.w.port)));
    c = client_on(connect6(s.w.port));
    ck_assert_response(get(c, "/hello"), text_ok("hello\n", 0));
    client_close(c);
    /* The remote address is bracketed, as Go's RemoteAddr prints it. */
    ck_assert_str_eq(wait_states(s.w.port, 1, c->local, "closed"),
                     "new active idle closed");
    ck_assert_int_eq(c->local[0], '[');
    stop_server(&s);
}
END_TEST

START_TEST(listen_twice)
{
    server_t s;
    client_t *a, *b;

    start_server(&s, "Listen 127.0.0.1:0\nListen 127.0.0.1:0\n", 0);
    ck_assert_int_eq(s.nports, 2);
    ck_assert_int_ne(s.ports[0], s.ports[1]);
    a = client_new(s.ports[0]);
    b = client_new(s.ports[1]);
    /* Both answer, at the same time (one accept loop each). */
    send_get(a, "/hello", "");
    send_get(b, "/hello", "");
    ck_assert_response(next_response(a, WAIT_MS), text_ok("hello\n", 0));
    ck_assert_response(next_response(b, WAIT_MS), text_ok("hello\n", 0));
    client_close(a);
    client_close(b);
    stop_server(&s);
}
END_TEST

/* ---- out of descriptors -------------------------------------------------- */

/* utime + stime of pid in clock ticks, or -1. */
static long long cpu_ticks(pid_t pid)
{
    char *stat = keep(wt_read(fmt("/proc/%d/stat", (int)pid), NULL));
    const char *p = stat ? strrchr(stat, ')') : NULL;
    unsigned long long ut, st;

    /* Fields after "(comm)": state ppid pgrp session tty tpgid flags
     * minflt cminflt majflt cmajflt utime stime. */
    if (p == NULL || sscanf(p + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                            "%llu %llu",
                            &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

#define NOFILE 32
#define FLOOD 48

START_TEST(accept_backs_off_without_descriptors)
{
    server_t s;
    client_t *cl[FLOOD];
    const char *needle = "accept error; retrying in ";
    char *log, *p;
    long long cpu0, cpu1, deadline;
    size_t mark;
    int i, lines = 0, prev = 0, again;

    start_server(&s, "", NOFILE);
    /* More clients than descriptors: the first ones are accepted and
     * held (idle, no timeouts), the rest wait in the backlog while
     * accept fails with EMFILE. */
    for (i = 0; i < FLOOD; i++)
        cl[i] = client_new(s.w.port);
    ck_assert_msg(wt_server_wait_log(&s.w, needle, WAIT_MS),
                  "no accept error logged; log:\n%s", server_log(&s.w));
    /* A window of one second is the measurement itself: a listener that
     * retries at once logs (and burns a core) thousands of times in it;
     * one that backs off 5 ms, 10 ms, ... up to 1 s logs about eight. */
    cpu0 = cpu_ticks(s.w.pid);
    poll(NULL, 0, 1000);
    cpu1 = cpu_ticks(s.w.pid);
    log = server_log(&s.w);
    for (p = strstr(log, needle); p != NULL; p = strstr(p, needle)) {
        int ms = atoi(p + strlen(needle));
        p += strlen(needle);
        if (lines == 0)
            ck_assert_msg(ms == 5, "first back-off %d ms", ms);
        else if (prev < 1000)
            ck_assert_msg(ms == prev * 2 || (prev * 2 > 1000 && ms == 1000),
                          "back-off %d ms after %d ms", ms, prev);
        else
            ck_assert_int_eq(ms, 1000);
        prev = ms;
        lines++;
    }
    ck_assert_msg(lines >= 3 && lines < 100,
                  "%d accept error lines in about a second", lines);
    if (cpu0 >= 0 && cpu1 >= 0)
        ck_assert_msg(cpu1 - cpu0 < sysconf(_SC_CLK_TCK) / 2,
                      "weftd used %lld ticks of CPU in one second",
                      cpu1 - cpu0);
    /* Descriptors come back: the listener catches up and serves. */
    for (i = 0; i < FLOOD; i++)
        client_close(cl[i]);
    cl[0] = client_new(s.w.port);
    ck_assert_response(get(cl[0], "/hello"), text_ok("hello\n", 0));
    client_close(cl[0]);
    /* A success reset the back-off: the next shortage starts at 5 ms
     * again (Go's Serve sets tempDelay = 0 after each accept). */
    mark = strlen(server_log(&s.w));
    for (i = 0; i < FLOOD; i++)
        cl[i] = client_new(s.w.port);
    deadline = now_ms() + WAIT_MS;
    for (;;) {
        char *now = wt_server_log(&s.w);
        const char *q = now != NULL && strlen(now) > mark
                            ? strstr(now + mark, needle)
                            : NULL;
        again = q != NULL ? atoi(q + strlen(needle)) : -1;
        free(now);
        if (again >= 0 || now_ms() >= deadline)
            break;
        poll(NULL, 0, 10);
    }
    ck_assert_msg(again == 5, "second shortage: first back-off %d ms", again);
    for (i = 0; i < FLOOD; i++)
        client_close(cl[i]);
    stop_server(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http_conn");
    TCase *hdr = tcase_create("read header timeout");
    TCase *rd = tcase_create("read timeout");
    TCase *wr = tcase_create("write timeout");
    TCase *idle = tcase_create("idle timeout");
    TCase *st = tcase_create("states");
    TCase *mpm = tcase_create("mpm");
    TCase *lis = tcase_create("listen");
    TCase *all[] = { hdr, rd, wr, idle, st, mpm, lis };
    SRunner *sr;
    int i, failed;

    for (i = 0; i < (int)(sizeof(all) / sizeof(all[0])); i++) {
        tcase_add_checked_fixture(all[i], NULL, teardown);
        tcase_set_timeout(all[i], 90);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_unchecked_fixture(st, shared_start, shared_stop);

    tcase_add_test(hdr, header_timeout_cuts_partial_line);
    tcase_add_test(hdr, header_timeout_spares_prompt_client);
    tcase_add_test(hdr, header_timeout_cuts_trickle);
    tcase_add_test(hdr, header_timeout_spares_body);

    tcase_add_test(rd, read_timeout_cuts_body);
    tcase_add_test(rd, read_timeout_bounds_headers);
    tcase_add_test(rd, read_timeout_bounds_idle);

    tcase_add_test(wr, write_timeout_cuts_slow_handler);
    tcase_add_test(wr, write_timeout_spares_fast_handler);

    tcase_add_test(idle, idle_timeout_closes_idle);
    tcase_add_test(idle, idle_timeout_spares_active);

    tcase_add_test(st, states_keep_alive);
    tcase_add_test(st, states_connection_close);
    tcase_add_test(st, states_silent_client);
    tcase_add_test(st, states_pipelined);
    tcase_add_test(st, no_timeouts_stay_open);

    tcase_add_test(mpm, worker_pool_full_waits_in_backlog);
    tcase_add_test(mpm, thread_mpm_many_connections);
    tcase_add_test(mpm, max_connections_holds_third);
    tcase_add_loop_test(mpm, protocol_under_mpm, 0,
                        (int)(sizeof(mpms) / sizeof(mpms[0])));

    tcase_add_test(lis, listen_ipv6);
    tcase_add_test(lis, listen_twice);
    tcase_add_test(lis, accept_backs_off_without_descriptors);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
