/*
 * weft_test.c -- see weft_test.h.  Plain POSIX; no Check calls, so the
 * helpers can run on any thread and leave assertions to the test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "weft_test.h"

#include <arpa/inet.h>
#include <dirent.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *tmpdirs[64];
static int ntmpdirs;

/* Every string the helpers hand out stays reachable from here, so a test
 * need not free it and LeakSanitizer (on in CI) does not report it. */
static void **kept;
static size_t nkept, capkept;

static void *keep(void *p)
{
    if (p == NULL)
        return NULL;
    if (nkept == capkept) {
        capkept = capkept ? capkept * 2 : 256;
        kept = realloc(kept, capkept * sizeof(*kept));
    }
    kept[nkept++] = p;
    return p;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *wt_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return keep(s);
}

const char *wt_builddir(void)
{
    const char *d = getenv("WEFT_BUILDDIR");
    return d ? d : ".";
}

const char *wt_srcdir(void)
{
    const char *d = getenv("WEFT_SRCDIR");
    return d ? d : wt_builddir();
}

char *wt_built(const char *rel)
{
    return wt_fmt("%s/%s", wt_builddir(), rel);
}

const char *wt_weftd(void)
{
    static char *p;
    if (p == NULL)
        p = wt_built("core/weftd");
    return p;
}

const char *wt_testapp(void)
{
    static char *p;
    if (p == NULL)
        p = wt_built("tests/modules/.libs/mod_testapp.so");
    return p;
}

char *wt_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *t = wt_fmt("%s/weft-test-XXXXXX", base ? base : "/tmp");

    if (mkdtemp(t) == NULL) {
        free(t);
        return NULL;
    }
    if (ntmpdirs < 64)
        tmpdirs[ntmpdirs++] = t;
    return t;
}

void wt_cleanup(void)
{
    while (ntmpdirs > 0) {
        char *cmd = wt_fmt("rm -rf '%s'", tmpdirs[--ntmpdirs]);
        if (system(cmd) != 0) {
            /* best effort: a leftover temp dir is not a test failure */
        }
        free(cmd);
    }
}

char *wt_write(const char *dir, const char *name, const char *content)
{
    char *path = wt_fmt("%s/%s", dir, name);
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return path;
    fputs(content, f);
    fclose(f);
    return path;
}

char *wt_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return keep(buf);
}

/* Drains both pipes until the child exits and they close, or deadline. */
int wt_run(wt_run_t *r, int timeout_ms, const char *const *argv)
{
    int out[2], err[2], status;
    pid_t pid;
    long long deadline = now_ms() + timeout_ms;
    size_t on = 0, en = 0, ocap = 65536, ecap = 65536;
    int open_fds = 2;

    memset(r, 0, sizeof(*r));
    r->status = -1;
    r->out = keep(calloc(1, ocap));
    r->err = keep(calloc(1, ecap));
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    while (open_fds > 0) {
        struct pollfd pf[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
        long long left = deadline - now_ms();
        int i;
        if (left <= 0)
            break;
        if (poll(pf, 2, (int)left) <= 0)
            continue;
        for (i = 0; i < 2; i++) {
            char *buf = i ? r->err : r->out;
            size_t *n = i ? &en : &on, cap = i ? ecap : ocap;
            ssize_t got;
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP)))
                continue;
            got = read(pf[i].fd, buf + *n, cap - 1 - *n);
            if (got <= 0) {
                close(pf[i].fd);
                if (i)
                    err[0] = -1;
                else
                    out[0] = -1;
                open_fds--;
            } else {
                *n += (size_t)got;
            }
        }
    }
    if (out[0] >= 0)
        close(out[0]);
    if (err[0] >= 0)
        close(err[0]);
    while (now_ms() < deadline) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            return 0;
        }
        poll(NULL, 0, 10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static int port_from_log(const char *log)
{
    const char *p = log ? strstr(log, "listening on ") : NULL;
    const char *colon;

    if (p == NULL)
        return 0;
    p += strlen("listening on ");
    /* the port follows the last ':' of the address */
    for (colon = p; *colon && *colon != ' ' && *colon != '\n'; colon++)
        ;
    while (colon > p && colon[-1] != ':')
        colon--;
    return atoi(colon);
}

int wt_server_start(wt_server_t *srv, const char *conf_body)
{
    long long deadline = now_ms() + 10000;
    char *conf;
    int fd;

    memset(srv, 0, sizeof(*srv));
    srv->pid = -1;
    srv->dir = wt_tmpdir();
    if (srv->dir == NULL)
        return -1;
    if (strstr(conf_body, "Listen ") != NULL)
        conf = wt_fmt("%s\n", conf_body);
    else
        conf = wt_fmt("Listen 127.0.0.1:0\n%s\n", conf_body);
    srv->conf = wt_write(srv->dir, "weft.conf", conf);
    free(conf);
    srv->log = wt_fmt("%s/weftd.log", srv->dir);
    fd = open(srv->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    srv->pid = fork();
    if (srv->pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        execl(wt_weftd(), wt_weftd(), "-f", srv->conf, (char *)NULL);
        _exit(127);
    }
    close(fd);
    while (now_ms() < deadline) {
        char *log = wt_read(srv->log, NULL);
        int status;
        srv->port = port_from_log(log);
        free(log);
        if (srv->port > 0)
            return 0;
        if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
            srv->pid = -1;
            break;
        }
        poll(NULL, 0, 20);
    }
    {
        char *log = wt_read(srv->log, NULL);
        fprintf(stderr, "weftd did not start; its log:\n%s\n",
                log ? log : "(none)");
        free(log);
    }
    if (srv->pid > 0) {
        kill(srv->pid, SIGKILL);
        waitpid(srv->pid, NULL, 0);
        srv->pid = -1;
    }
    return -1;
}

int wt_server_stop(wt_server_t *srv, int sig, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    int status;

    if (srv->pid <= 0)
        return -1;
    kill(srv->pid, sig);
    while (now_ms() < deadline) {
        if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
            srv->pid = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        poll(NULL, 0, 10);
    }
    kill(srv->pid, SIGKILL);
    waitpid(srv->pid, NULL, 0);
    srv->pid = -1;
    return -1;
}

char *wt_server_log(const wt_server_t *srv)
{
    return wt_read(srv->log, NULL);
}

int wt_server_wait_log(const wt_server_t *srv, const char *text, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;

    do {
        char *log = wt_read(srv->log, NULL);
        int found = log != NULL && strstr(log, text) != NULL;
        free(log);
        if (found)
            return 1;
        poll(NULL, 0, 10);
    } while (now_ms() < deadline);
    return 0;
}

int wt_server_fds(const wt_server_t *srv)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)srv->pid);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int wt_server_wait_fds(const wt_server_t *srv, int most, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    int n;

    for (;;) {
        n = wt_server_fds(srv);
        if (n >= 0 && n <= most)
            return n;
        if (now_ms() >= deadline)
            return n;
        poll(NULL, 0, 10);
    }
}

int wt_connect(int port, int timeout_ms)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct pollfd pf;
    int err = 0, one = 1;
    socklen_t len = sizeof(err);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
        errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    pf.fd = fd;
    pf.events = POLLOUT;
    if (poll(&pf, 1, timeout_ms) != 1 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int wt_send(int fd, const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int wt_sends(int fd, const char *s)
{
    return wt_send(fd, s, strlen(s));
}

static size_t recv_loop(int fd, char *buf, size_t cap, int timeout_ms,
                        const char *needle, int *closed)
{
    long long deadline = now_ms() + timeout_ms;
    size_t n = 0;

    if (closed)
        *closed = 0;
    buf[0] = '\0';
    while (n < cap - 1) {
        struct pollfd pf = { fd, POLLIN, 0 };
        long long left = deadline - now_ms();
        ssize_t got;
        if (left <= 0)
            break;
        if (poll(&pf, 1, (int)left) <= 0)
            continue;
        got = recv(fd, buf + n, cap - 1 - n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (closed)
                *closed = 1;
            break;
        }
        n += (size_t)got;
        buf[n] = '\0';
        if (needle && memmem(buf, n, needle, strlen(needle)) != NULL)
            break;
    }
    buf[n] = '\0';
    return n;
}

size_t wt_recv_all(int fd, char *buf, size_t cap, int timeout_ms, int *closed)
{
    return recv_loop(fd, buf, cap, timeout_ms, NULL, closed);
}

size_t wt_recv_until(int fd, char *buf, size_t cap, const char *needle,
                     int timeout_ms)
{
    return recv_loop(fd, buf, cap, timeout_ms, needle, NULL);
}

char *wt_request(int port, const char *raw, int timeout_ms)
{
    int fd = wt_connect(port, timeout_ms);
    size_t cap = 1 << 20;
    char *buf;

    if (fd < 0)
        return NULL;
    buf = keep(malloc(cap));
    if (wt_sends(fd, raw) < 0) {
        close(fd);
        free(buf);
        return NULL;
    }
    wt_recv_all(fd, buf, cap, timeout_ms, NULL);
    close(fd);
    return buf;
}
