/*
 * weft_watch.c -- the disconnect watcher (Go's backgroundRead): one epoll
 * thread for the whole server.  When a handler has run for a moment with
 * the request fully read, its socket is armed in epoll; if the peer
 * closes, half-closes or resets, the connection context is cancelled.  A
 * pipelined byte ends the watch without cancelling (Go's rule).
 *
 * Arming is lazy: the owner only marks "handler running" (no syscall, no
 * lock) and the watcher, ticking, arms sockets whose handler outlives
 * ARM_DELAY.  Most handlers finish first and cost two atomic stores; a
 * client that leaves is noticed within ARM_DELAY plus one tick.  A
 * connection stays on the watcher's list while requests keep coming, so a
 * busy keep-alive connection is queued once, not once per request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "weft_engine.h"

#define MAX_EVENTS 64
#define ARM_DELAY apr_time_from_msec(20)
#define TICK_MS 20
#define IDLE_TICKS 50 /* a second of empty ticks before sleeping */
/* A connection with no handler for this long leaves the list (it comes
 * back through incoming with its next handler). */
#define LINGER apr_time_from_sec(1)

struct weft_watcher_t {
    weft_server_t *server; /* immutable */
    int epfd;              /* immutable */
    int wakefd;            /* immutable: eventfd, written to stop */
    pthread_t thread;
    /* Connections whose owner started a handler and that the watcher has
     * not picked up yet: a lock-free stack (owners push, the thread takes
     * all at once). */
    _Atomic(weft_conn_t *) incoming;
    /* Set while the thread sleeps with nothing to tick for: only then
     * does a new arrival need to wake it. */
    atomic_int sleeping;
    /* Set by weft_watch_stop before its wake-up: a wake-up alone could be
     * taken for an arrival's. */
    atomic_int stop;
    /* Watcher thread only: the connections it keeps an eye on. */
    weft_conn_t *list;
};

/* Under c->watch_mu. */
static void arm(weft_watcher_t *w, weft_conn_t *c)
{
    struct epoll_event ev;
    int op = c->watch_added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.ptr = c;
    if (epoll_ctl(w->epfd, op, c->fd, &ev) == 0) {
        c->watch_added = 1;
        c->watch_armed = 1;
    }
}

/*
 * Under c->watch_mu, before the watcher looks at in_handler to act on c:
 * the Dekker pair with weft_unwatch_conn, which stores in_handler = 0 and
 * then loads watch_engaged.  Either the owner sees the flag (and cleans up
 * under the lock) or the watcher sees the handler gone.
 */
static int engage(weft_conn_t *c)
{
    atomic_store(&c->watch_engaged, 1);
    return atomic_load(&c->in_handler);
}

/* Under c->watch_mu: the flag stays up while anything is left for the
 * owner to undo (an armed socket, a check running, a finished watch). */
static void disengage(weft_conn_t *c)
{
    if (!c->watch_armed && !c->watch_busy && !c->watch_over)
        atomic_store(&c->watch_engaged, 0);
}

/* The handler ran long enough: arm its socket, unless the owner ended the
 * handler meanwhile. */
static void maybe_arm(weft_watcher_t *w, weft_conn_t *c, apr_time_t now)
{
    pthread_mutex_lock(&c->watch_mu);
    if (engage(c) && !c->watch_armed && !c->watch_over &&
        now - atomic_load_explicit(&c->handler_since, memory_order_relaxed) >=
            ARM_DELAY)
        arm(w, c);
    disengage(c);
    pthread_mutex_unlock(&c->watch_mu);
}

/*
 * Whether c may leave the list.  watch_queued is the owners' cue to push
 * (weft_watch_conn exchanges it to 1 after storing in_handler): clearing
 * it and then seeing a handler start means the owner may have seen the 1
 * and relied on us, so we take the flag back; if the owner took it first,
 * it has pushed c and this list must let go.
 */
static int leave_list(weft_conn_t *c)
{
    int zero = 0;

    atomic_store(&c->watch_queued, 0);
    if (!atomic_load(&c->in_handler))
        return 1;
    return !atomic_compare_exchange_strong(&c->watch_queued, &zero, 1);
}

/* One tick: pick up new arrivals, arm handlers that ran long enough, drop
 * connections that had no handler for a while.  Returns whether any
 * remain. */
static int tick(weft_watcher_t *w)
{
    apr_time_t now = weft_time_coarse(); /* handler_since's clock */
    weft_conn_t *c = atomic_exchange(&w->incoming, NULL), **pp;

    while (c != NULL) {
        weft_conn_t *next = c->watch_next;
        c->watch_next = w->list;
        w->list = c;
        c = next;
    }
    pp = &w->list;
    while ((c = *pp) != NULL) {
        /* Once c leaves, its owner may push it again and rewrite
         * watch_next: read it first. */
        weft_conn_t *next = c->watch_next;
        apr_time_t ran =
            now - atomic_load_explicit(&c->handler_since, memory_order_relaxed);
        if (atomic_load(&c->in_handler)) {
            if (ran >= ARM_DELAY)
                maybe_arm(w, c, now);
        } else if (ran >= LINGER && leave_list(c)) {
            *pp = next;
            continue;
        }
        pp = &c->watch_next;
    }
    return w->list != NULL;
}

/* An armed socket became readable or hung up.  The owner cannot end the
 * handler (and so cannot close or recycle c) while watch_busy is set. */
static void event(weft_watcher_t *w, weft_conn_t *c)
{
    int alive;

    pthread_mutex_lock(&c->watch_mu);
    c->watch_armed = 0; /* one-shot: the event disarmed it */
    if (!engage(c) || c->watch_over) {
        disengage(c);
        pthread_mutex_unlock(&c->watch_mu);
        return;
    }
    c->watch_busy = 1;
    pthread_mutex_unlock(&c->watch_mu);

    alive = c->transport->ops->alive(c->transport);
    if (alive < 0) {
        weft_log(WEFT_LOG_DEBUG, 0, "%s: client went away during the handler",
                 c->remote);
        weft_ctx_cancel(c->serve_ctx, WEFT_CTX_DISCONNECT);
    }

    pthread_mutex_lock(&c->watch_mu);
    c->watch_busy = 0;
    if (alive == 0 && atomic_load(&c->in_handler))
        arm(w, c); /* nothing after all: watch on */
    else
        c->watch_over = 1; /* gone, or a pipelined byte: Go stops here */
    pthread_cond_broadcast(&c->watch_cond);
    pthread_mutex_unlock(&c->watch_mu);
}

static void *watch_main(void *arg)
{
    weft_watcher_t *w = arg;
    struct epoll_event evs[MAX_EVENTS];
    int busy = 0, idle_ticks = 0;

    for (;;) {
        int i, n;

        if (!busy) {
            /* Announce the sleep, then look once more: a push that missed
             * the announcement is seen here (both sides are seq_cst). */
            atomic_store(&w->sleeping, 1);
            if (atomic_load(&w->incoming) != NULL)
                busy = 1;
        }
        n = epoll_wait(w->epfd, evs, MAX_EVENTS, busy ? TICK_MS : -1);
        atomic_store(&w->sleeping, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            weft_log_error(WEFT_LOG_ERR, APR_FROM_OS_ERROR(errno),
                           "disconnect watcher: epoll_wait");
            return NULL;
        }
        for (i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                apr_uint64_t v;
                if (read(w->wakefd, &v, sizeof(v)) < 0) {
                    /* a stop races nothing: the counter was non-zero */
                }
                if (atomic_load(&w->stop))
                    return NULL;
                continue; /* a new arrival woke us: tick below */
            }
            event(w, evs[i].data.ptr);
        }
        /* Keep ticking for a while after the list empties: under load it
         * empties and refills between ticks, and each refill of a
         * sleeping watcher costs the pushing owner a write(2). */
        if (tick(w))
            idle_ticks = 0;
        busy = ++idle_ticks <= IDLE_TICKS;
    }
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
    ev.data.ptr = NULL;
    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev);
    atomic_store(&w->incoming, NULL);
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
    /* The flag, then a wake-up like any other: the eventfd stays readable
     * until the thread reads it, so the stop cannot be missed. */
    atomic_store(&w->stop, 1);
    if (write(w->wakefd, &one, sizeof(one)) < 0) {
        /* only near the counter's maximum: readable anyway */
    }
    pthread_join(w->thread, NULL);
    close(w->epfd);
    close(w->wakefd);
    s->watcher = NULL;
}

/*
 * Owner thread: the handler is running with the request read.  A
 * pipelined request already in our read buffer does not stop the watch:
 * Go's startBackgroundRead reads the socket whatever bufio holds, so a
 * peer that half-closes after it is a disconnect there too.  Only a byte
 * that reaches the socket during the watch ends it (see event).
 */
void weft_watch_conn(weft_conn_t *c)
{
    weft_watcher_t *w = c->server->watcher;
    apr_uint64_t one = 1;
    weft_conn_t *head;

    if (w == NULL)
        return;
    atomic_store_explicit(&c->handler_since, weft_time_coarse(),
                          memory_order_relaxed);
    atomic_store(&c->in_handler, 1); /* publishes handler_since */
    if (atomic_exchange(&c->watch_queued, 1))
        return; /* on the list already: the watcher sees in_handler */
    head = atomic_load(&w->incoming);
    do
        c->watch_next = head;
    while (!atomic_compare_exchange_weak(&w->incoming, &head, c));
    /* A ticking watcher picks arrivals up by itself; only a sleeping one
     * needs the syscall. */
    if (atomic_load(&w->sleeping) && write(w->wakefd, &one, sizeof(one)) < 0) {
        /* an eventfd below its maximum does not refuse */
    }
}

/* Owner thread: the handler is done (or hijacked).  After this returns,
 * the watcher will not cancel anything for this request. */
void weft_unwatch_conn(weft_conn_t *c)
{
    weft_watcher_t *w = c->server->watcher;

    if (w == NULL)
        return;
    atomic_store(&c->in_handler, 0);
    if (!atomic_load(&c->watch_engaged))
        return; /* the watcher did nothing, and now will not (engage) */
    pthread_mutex_lock(&c->watch_mu);
    while (c->watch_busy)
        pthread_cond_wait(&c->watch_cond, &c->watch_mu);
    if (c->watch_armed) {
        /* Disarm, so the next request's bytes do not wake the watcher. */
        struct epoll_event ev;
        ev.events = 0;
        ev.data.ptr = c;
        epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
        c->watch_armed = 0;
    }
    c->watch_over = 0;
    atomic_store(&c->watch_engaged, 0);
    pthread_mutex_unlock(&c->watch_mu);
}

/* Owner thread, before the fd is closed or handed to a hijacker. */
void weft_watch_forget(weft_conn_t *c)
{
    weft_watcher_t *w = c->server->watcher;

    if (w == NULL)
        return;
    weft_unwatch_conn(c);
    pthread_mutex_lock(&c->watch_mu);
    if (c->watch_added)
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    c->watch_added = 0;
    pthread_mutex_unlock(&c->watch_mu);
}
