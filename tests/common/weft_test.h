/*
 * weft_test.h -- helpers the Check suites share: paths into the build
 * tree, temporary files, running weftd to completion or as a server on a
 * kernel-chosen loopback port, and raw sockets with bounded waits.  Every
 * wait here has a deadline; nothing sleeps to synchronise.  Every string
 * returned stays reachable until the process exits: freeing it is allowed
 * but not needed (LeakSanitizer stays quiet either way).
 */
#ifndef WEFT_TEST_H
#define WEFT_TEST_H

#include <stddef.h>
#include <sys/types.h>

/* Build and source trees (WEFT_BUILDDIR / WEFT_SRCDIR from make check). */
const char *wt_builddir(void);
const char *wt_srcdir(void);
const char *wt_weftd(void);   /* the in-tree weftd (libtool wrapper) */
const char *wt_testapp(void); /* tests/modules/.libs/mod_testapp.so */
/* A built file under the build tree, e.g. "tests/modules/.libs/x.so". */
char *wt_built(const char *rel);

/* A new private directory under $TMPDIR, removed by wt_cleanup(). */
char *wt_tmpdir(void);
/* Writes content to dir/name; returns the full path. */
char *wt_write(const char *dir, const char *name, const char *content);
/* Reads a whole file (NUL-terminated), or NULL. */
char *wt_read(const char *path, size_t *len);
/* Removes every directory wt_tmpdir made. */
void wt_cleanup(void);
/* printf into a fresh heap string. */
char *wt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A finished run of a program: exit status (-1 if killed or timed out). */
typedef struct {
    int status;
    char *out;
    char *err;
} wt_run_t;

/* Runs argv[0] with argv (NULL-terminated), at most timeout_ms. */
int wt_run(wt_run_t *r, int timeout_ms, const char *const *argv);

/* A weftd started in the background. */
typedef struct {
    pid_t pid;
    int port;  /* the first listener's port, read from the log */
    char *dir; /* private directory: config and log */
    char *conf;
    char *log; /* weftd's stderr */
} wt_server_t;

/*
 * Writes conf_body to a file after a `Listen 127.0.0.1:0` line (unless
 * the body has its own Listen), starts weftd -f on it, and waits (10 s at
 * most) until the log says which port it listens on.  Returns 0, or -1
 * with the log on stderr.
 */
int wt_server_start(wt_server_t *srv, const char *conf_body);
/* Sends sig and waits up to timeout_ms; returns the exit status, or -1
 * (and SIGKILLs) when it did not exit in time or died of a signal. */
int wt_server_stop(wt_server_t *srv, int sig, int timeout_ms);
/* The server's stderr so far. */
char *wt_server_log(const wt_server_t *srv);
/* Waits until the log contains text (or timeout); 1 if it did. */
int wt_server_wait_log(const wt_server_t *srv, const char *text,
                       int timeout_ms);
/* How many file descriptors the server process has open (-1: unknown). */
int wt_server_fds(const wt_server_t *srv);
/* Waits up to timeout_ms until it has at most `most` open; returns the
 * last count (more than most: it did not get there). */
int wt_server_wait_fds(const wt_server_t *srv, int most, int timeout_ms);

/* A loopback TCP connection to port, or -1. */
int wt_connect(int port, int timeout_ms);
/* Writes all of buf; 0 or -1. */
int wt_send(int fd, const void *buf, size_t n);
int wt_sends(int fd, const char *s);
/* Reads until the peer closes, cap is full, or timeout_ms passes.  Returns
 * bytes read (buf NUL-terminated); *closed is 1 when the peer closed. */
size_t wt_recv_all(int fd, char *buf, size_t cap, int timeout_ms, int *closed);
/* Reads until buf holds needle (or close/timeout); bytes read. */
size_t wt_recv_until(int fd, char *buf, size_t cap, const char *needle,
                     int timeout_ms);
/* Connects, sends raw, reads until close; a heap string (or NULL). */
char *wt_request(int port, const char *raw, int timeout_ms);

#endif /* WEFT_TEST_H */
