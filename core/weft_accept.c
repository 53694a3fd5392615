/*
 * weft_accept.c -- one accept loop per listener (Go's Serve): wait for
 * room (MaxConnections) and for the MPM to take a connection, accept,
 * build the connection, run conn_context, mark it new, hand it over.
 * Temporary errors back off 5 ms doubling to 1 s.
 */
#include <apr_portable.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "weft_engine.h"

#define BACKOFF_MIN apr_time_from_msec(5)
#define BACKOFF_MAX apr_time_from_sec(1)

typedef struct weft_accepter_t {
    weft_server_t *server;       /* immutable */
    apr_socket_t *sock;          /* immutable; closed after the thread ends */
    const weft_listen_t *listen; /* immutable: its Listen line */
    int fd;                      /* immutable */
    /* immutable: the bound address, "" for a wildcard listener (then each
     * connection asks its socket) */
    char local[WEFT_ADDR_LEN];
    pthread_t thread;
    int started; /* main thread only */
} weft_accepter_t;

/* Blocks while MaxConnections are open; 0 once the server stops. */
static int wait_for_room(weft_server_t *s)
{
    int max = s->conf->max_connections, ok;

    if (max <= 0)
        return !atomic_load(&s->shutting_down);
    pthread_mutex_lock(&s->mu);
    while (s->nopen >= max && !atomic_load(&s->shutting_down))
        weft_server_wait_changed(s, 0);
    ok = !atomic_load(&s->shutting_down);
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* Sleeps for d unless the server stops first (Go's time.Sleep in Serve,
 * made interruptible so Shutdown does not wait for a back-off). */
static void backoff_sleep(weft_server_t *s, apr_interval_time_t d)
{
    apr_time_t until = apr_time_now() + d;

    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->shutting_down) &&
           weft_server_wait_changed(s, until) == 0)
        ;
    pthread_mutex_unlock(&s->mu);
}

/* Go retries these (Temporary() errors) rather than giving up on the
 * listener: out of descriptors or memory will pass. */
static int temporary(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
           err == EPERM || err == ETIMEDOUT;
}

static void serve_accepted(weft_server_t *s, weft_accepter_t *a, int fd,
                           const struct sockaddr_storage *peer)
{
    weft_conn_t *c = weft_conn_create(s, a->listen, fd, peer,
                                      a->local[0] != '\0' ? a->local : NULL);
    weft_ctx_t *ctx;

    if (c == NULL) {
        weft_log_error(WEFT_LOG_ERR, APR_ENOMEM,
                       "cannot allocate a connection; closing it");
        close(fd);
        s->mpm->unreserve(s);
        return;
    }
    ctx = c->ctx;
    weft_run_conn_context(c, &ctx);
    c->ctx = ctx;
    weft_conn_set_state(c, WEFT_STATE_NEW);
    if (s->mpm->submit(s, c) != APR_SUCCESS) {
        weft_log_error(WEFT_LOG_ERR, 0, "%s: no thread to serve it; closed",
                       c->remote);
        weft_conn_set_state(c, WEFT_STATE_CLOSED);
        weft_conn_release(c);
    }
}

static void *accept_main(void *arg)
{
    weft_accepter_t *a = arg;
    weft_server_t *s = a->server;
    apr_interval_time_t delay = 0;

    for (;;) {
        struct sockaddr_storage peer;
        socklen_t plen;
        int fd, err;

        if (!wait_for_room(s))
            break;
        if (s->mpm->reserve(s) != APR_SUCCESS)
            break;
        plen = sizeof(peer);
        fd = accept4(a->fd, (struct sockaddr *)&peer, &plen,
                     SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            delay = 0;
            serve_accepted(s, a, fd, &peer);
            continue;
        }
        err = errno;
        s->mpm->unreserve(s);
        if (atomic_load(&s->shutting_down))
            break;
        /* A client that reset before we took it, or a signal: Go's poller
         * retries these at once. */
        if (err == ECONNABORTED || err == EINTR || err == EPROTO)
            continue;
        if (!temporary(err)) {
            weft_log_error(WEFT_LOG_ERR, APR_FROM_OS_ERROR(err),
                           "accept failed; this listener stops");
            break;
        }
        delay = delay == 0 ? BACKOFF_MIN : delay * 2;
        if (delay > BACKOFF_MAX)
            delay = BACKOFF_MAX;
        weft_log_error(WEFT_LOG_ERR, APR_FROM_OS_ERROR(err),
                       "accept error; retrying in %" APR_TIME_T_FMT "ms",
                       apr_time_as_msec(delay));
        backoff_sleep(s, delay);
    }
    return NULL;
}

apr_status_t weft_accept_start(weft_server_t *s)
{
    int i;

    s->accepters =
        apr_array_make(s->pool, s->listeners->nelts, sizeof(weft_accepter_t));
    for (i = 0; i < s->listeners->nelts; i++) {
        weft_accepter_t *a = apr_array_push(s->accepters);
        apr_os_sock_t fd;
        int rc;

        memset(a, 0, sizeof(*a));
        a->server = s;
        a->sock = APR_ARRAY_IDX(s->listeners, i, apr_socket_t *);
        a->listen = &APR_ARRAY_IDX(s->conf->listens, i, weft_listen_t);
        apr_os_sock_get(&fd, a->sock);
        a->fd = fd;
        if (a->listen->host != NULL) {
            struct sockaddr_storage ss;
            socklen_t len = sizeof(ss);
            if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
                weft_conn_format_addr(a->local, &ss);
        }
        rc = pthread_create(&a->thread, NULL, accept_main, a);
        if (rc != 0)
            return APR_FROM_OS_ERROR(rc);
        a->started = 1;
    }
    return APR_SUCCESS;
}

/*
 * Stops every accept loop and closes the listeners.  On Linux, closing a
 * listening socket does not wake a thread blocked in accept(); shutdown()
 * does (accept fails with EINVAL), so that comes first, then the join.
 * Any thread, once; the caller has set shutting_down.
 */
void weft_accept_stop(weft_server_t *s)
{
    int i;

    pthread_mutex_lock(&s->mu);
    if (s->accept_stopped || s->accepters == NULL) {
        s->accept_stopped = 1;
        pthread_mutex_unlock(&s->mu);
        return;
    }
    s->accept_stopped = 1;
    weft_server_changed(s);
    pthread_mutex_unlock(&s->mu);
    s->mpm->stop(s);
    for (i = 0; i < s->accepters->nelts; i++) {
        weft_accepter_t *a = &APR_ARRAY_IDX(s->accepters, i, weft_accepter_t);
        shutdown(a->fd, SHUT_RDWR);
    }
    for (i = 0; i < s->accepters->nelts; i++) {
        weft_accepter_t *a = &APR_ARRAY_IDX(s->accepters, i, weft_accepter_t);
        if (a->started)
            pthread_join(a->thread, NULL);
        a->started = 0;
        apr_socket_close(a->sock);
    }
}
