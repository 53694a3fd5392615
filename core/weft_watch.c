/*
 * weft_watch.c -- the disconnect watcher (Go's backgroundRead): one epoll
 * thread for the whole server watches connections whose handler is
 * running with the request fully read.  When the peer closes, half-closes
 * or resets, it cancels the connection context; when a pipelined byte
 * arrives it just stops watching (Go does not cancel on pipelining).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "weft_engine.h"

#define MAX_EVENTS 64

/*
 * A watch slot.  The epoll event carries (slot index, generation), never a
 * pointer, so an event that raced an unwatch is recognised as stale
 * rather than touching a connection that was recycled.
 */
typedef struct {
    weft_conn_t *conn; /* guarded by watcher.mu; NULL when free */
    apr_uint32_t gen;  /* guarded by watcher.mu; bumped on release */
    int busy;          /* guarded by watcher.mu: the thread is checking */
    int next_free;     /* guarded by watcher.mu */
} slot_t;

struct weft_watcher_t {
    weft_server_t *server; /* immutable */
    int epfd;              /* immutable */
    int wakefd;            /* eventfd: stop */
    pthread_t thread;
    pthread_mutex_t mu;  /* guards the slot table */
    pthread_cond_t idle; /* a slot stopped being busy */
    slot_t *slots;
    int nslots, free_head;
    int stopping; /* guarded by mu */
};

static apr_uint64_t event_key(int idx, apr_uint32_t gen)
{
    return ((apr_uint64_t)gen << 32) | (apr_uint32_t)idx;
}

/* The thread's view of one event: decide, outside the lock, whether the
 * peer left; cancel the connection's context if so. */
static void check(weft_watcher_t *w, apr_uint64_t key)
{
    int idx = (int)(key & 0xffffffffu);
    apr_uint32_t gen = (apr_uint32_t)(key >> 32);
    weft_conn_t *c;
    int alive;

    pthread_mutex_lock(&w->mu);
    if (idx >= w->nslots || w->slots[idx].gen != gen ||
        w->slots[idx].conn == NULL) {
        pthread_mutex_unlock(&w->mu);
        return; /* unwatched meanwhile */
    }
    c = w->slots[idx].conn;
    w->slots[idx].busy = 1;
    pthread_mutex_unlock(&w->mu);

    /* The owner cannot unwatch (and so cannot close or recycle c) while
     * busy is set; it waits on w->idle. */
    alive = c->transport->ops->alive(c->transport);
    if (alive < 0) {
        weft_log(WEFT_LOG_DEBUG, 0, "%s: client went away during the handler",
                 c->remote);
        weft_ctx_cancel(c->serve_ctx, WEFT_CTX_DISCONNECT);
    } else if (alive == 0) {
        /* Nothing after all: watch on (the event was one-shot). */
        struct epoll_event ev;
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
        ev.data.u64 = key;
        epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    }
    /* alive > 0: a pipelined byte; the watch ends (no busy loop on a
     * readable socket), as Go's backgroundRead does. */

    pthread_mutex_lock(&w->mu);
    w->slots[idx].busy = 0;
    pthread_cond_broadcast(&w->idle);
    pthread_mutex_unlock(&w->mu);
}

static void *watch_main(void *arg)
{
    weft_watcher_t *w = arg;
    struct epoll_event evs[MAX_EVENTS];

    for (;;) {
        int i, n = epoll_wait(w->epfd, evs, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            weft_log_error(WEFT_LOG_ERR, APR_FROM_OS_ERROR(errno),
                           "disconnect watcher: epoll_wait");
            break;
        }
        for (i = 0; i < n; i++) {
            if (evs[i].data.u64 == (apr_uint64_t)-1)
                return NULL; /* the wake fd: stop */
            check(w, evs[i].data.u64);
        }
    }
    return NULL;
}

apr_status_t weft_watch_start(weft_server_t *s)
{
    weft_watcher_t *w = apr_pcalloc(s->pool, sizeof(*w));
    struct epoll_event ev;
    int rc;

    w->server = s;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->epfd < 0 || w->wakefd < 0)
        return APR_FROM_OS_ERROR(errno);
    ev.events = EPOLLIN;
    ev.data.u64 = (apr_uint64_t)-1;
    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->idle, NULL);
    w->free_head = -1;
    rc = pthread_create(&w->thread, NULL, watch_main, w);
    if (rc != 0)
        return APR_FROM_OS_ERROR(rc);
    s->watcher = w;
    return APR_SUCCESS;
}

void weft_watch_stop(weft_server_t *s)
{
    weft_watcher_t *w = s->watcher;
    apr_uint64_t one = 1;

    if (w == NULL)
        return;
    if (write(w->wakefd, &one, sizeof(one)) < 0) {
        /* cannot happen on an eventfd below its maximum */
    }
    pthread_join(w->thread, NULL);
    close(w->epfd);
    close(w->wakefd);
    free(w->slots);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->idle);
    s->watcher = NULL;
}

/* Owner thread: the handler runs with the request read; watch the peer.
 * Bytes already buffered are a pipelined request: nothing to watch. */
void weft_watch_conn(weft_conn_t *c)
{
    weft_watcher_t *w = c->server->watcher;
    struct epoll_event ev;
    int idx, op;

    if (w == NULL || c->watch_idx >= 0 || c->rstart < c->rend ||
        c->transport->ops->alive(c->transport) > 0)
        return;
    pthread_mutex_lock(&w->mu);
    if (w->free_head >= 0) {
        idx = w->free_head;
        w->free_head = w->slots[idx].next_free;
    } else {
        if (w->nslots % 64 == 0) {
            slot_t *ns = realloc(w->slots, sizeof(*ns) * (w->nslots + 64));
            if (ns == NULL) {
                pthread_mutex_unlock(&w->mu);
                return;
            }
            w->slots = ns;
        }
        idx = w->nslots++;
        w->slots[idx].gen = 0;
    }
    w->slots[idx].conn = c;
    w->slots[idx].busy = 0;
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.u64 = event_key(idx, w->slots[idx].gen);
    /* The fd stays in the epoll set between requests (disarmed), so
     * arming costs one syscall per request. */
    op = c->watch_added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(w->epfd, op, c->fd, &ev) == 0) {
        c->watch_added = 1;
        c->watch_idx = idx;
    } else {
        w->slots[idx].conn = NULL;
        w->slots[idx].gen++;
        w->slots[idx].next_free = w->free_head;
        w->free_head = idx;
    }
    pthread_mutex_unlock(&w->mu);
}

/* Owner thread: the handler is done (or hijacked).  After this returns,
 * the watcher will not touch c again. */
void weft_unwatch_conn(weft_conn_t *c)
{
    weft_watcher_t *w = c->server->watcher;
    int idx = c->watch_idx;

    if (w == NULL || idx < 0)
        return;
    pthread_mutex_lock(&w->mu);
    while (w->slots[idx].busy)
        pthread_cond_wait(&w->idle, &w->mu);
    w->slots[idx].conn = NULL;
    w->slots[idx].gen++; /* a pending event for it is now stale */
    w->slots[idx].next_free = w->free_head;
    w->free_head = idx;
    pthread_mutex_unlock(&w->mu);
    c->watch_idx = -1;
}

/* Owner thread, before the fd is closed or handed over. */
void weft_watch_forget(weft_conn_t *c)
{
    weft_watcher_t *w = c->server->watcher;

    weft_unwatch_conn(c);
    if (w != NULL && c->watch_added)
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    c->watch_added = 0;
}
