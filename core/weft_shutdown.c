/*
 * weft_shutdown.c -- serving and stopping: weft_server_serve, Go's
 * Shutdown (the idle-closing poll) and Close, the background stop that
 * signals and handlers use, and the wait the main thread does before the
 * process exits.
 */
#include <stdlib.h>
#include <string.h>

#include "weft_engine.h"

#define POLL_MIN apr_time_from_msec(1)
#define POLL_MAX apr_time_from_msec(500)
#define NEW_IS_IDLE_AFTER 5 /* seconds: Go's issue 22682 rule */

WEFT_DECLARE(apr_status_t) weft_server_serve(weft_server_t *s)
{
    apr_status_t rv;

    if (s->serving)
        return APR_EINVAL;
    s->serving = 1;
    s->start_time = apr_time_now();
    s->mpm = strcmp(s->conf->mpm, "worker") == 0 ? &weft_mpm_worker
                                                 : &weft_mpm_thread;
    rv = weft_watch_start(s);
    if (rv == APR_SUCCESS)
        rv = s->mpm->start(s);
    if (rv == APR_SUCCESS)
        rv = weft_accept_start(s);
    if (rv != APR_SUCCESS)
        weft_log_error(WEFT_LOG_EMERG, rv, "cannot start serving");
    return rv;
}

/*
 * Go's closeIdleConns, under the server's mu: shuts idle connections (and
 * new ones older than 5 s) and reports whether none was busy.  A shut
 * connection stays in the live set until its owner notices and closes.
 */
static int close_idle(weft_server_t *s, int *busy)
{
    apr_time_t now = apr_time_now();
    weft_conn_t *c;
    int quiescent = 1;

    pthread_mutex_lock(&s->mu);
    /* Go's Close forgets every connection it closes, so a Shutdown still
     * polling finds none left: it does not wait for their handlers. */
    if (s->closed) {
        pthread_mutex_unlock(&s->mu);
        *busy = 0;
        return 1;
    }
    /* Beyond Go: hijacked sessions that asked to be waited for. */
    *busy = weft_hijack_waited(s);
    if (*busy > 0)
        quiescent = 0;
    for (c = s->live; c != NULL; c = c->next) {
        apr_time_t since;
        weft_conn_state_t st = weft_conn_state(c, &since);
        /* In whole seconds, as Go compares them: the state's time is
         * kept to the second, so a sub-second "now" would call a
         * connection 4.1 s old "over 5 s". */
        if (st == WEFT_STATE_NEW &&
            apr_time_sec(since) < apr_time_sec(now) - NEW_IS_IDLE_AFTER)
            st = WEFT_STATE_IDLE;
        if (st != WEFT_STATE_IDLE || since == 0) {
            quiescent = 0;
            (*busy)++;
            continue;
        }
        weft_conn_kill(c);
    }
    pthread_mutex_unlock(&s->mu);
    return quiescent;
}

WEFT_DECLARE(apr_status_t)
weft_server_shutdown(weft_server_t *s, apr_time_t deadline, int *remaining)
{
    apr_interval_time_t base = POLL_MIN;
    int busy = 0;

    atomic_store(&s->shutting_down, 1);
    weft_accept_stop(s);
    weft_run_on_shutdown(s);
    weft_hijack_notify(s);
    for (;;) {
        apr_time_t now, until;
        apr_interval_time_t interval;

        if (close_idle(s, &busy)) {
            if (remaining != NULL)
                *remaining = 0;
            return APR_SUCCESS;
        }
        now = apr_time_now();
        if (deadline != 0 && now >= deadline)
            break;
        interval = base + (apr_interval_time_t)(rand() % (base / 10 + 1));
        base = base * 2 > POLL_MAX ? POLL_MAX : base * 2;
        until = now + interval;
        if (deadline != 0 && until > deadline)
            until = deadline;
        /* A connection leaving wakes us early: nothing else does. */
        pthread_mutex_lock(&s->mu);
        weft_server_wait_changed(s, until);
        pthread_mutex_unlock(&s->mu);
    }
    if (remaining != NULL)
        *remaining = busy;
    return APR_TIMEUP;
}

WEFT_DECLARE(void) weft_server_close(weft_server_t *s)
{
    weft_conn_t *c;

    atomic_store(&s->shutting_down, 1);
    weft_accept_stop(s);
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    for (c = s->live; c != NULL; c = c->next)
        weft_conn_kill(c);
    weft_hijack_kill_waited(s);
    weft_server_changed(s); /* wakes a Shutdown's poll */
    pthread_mutex_unlock(&s->mu);
}

typedef struct {
    weft_server_t *s;
    apr_interval_time_t timeout;
} stop_args_t;

static void *stop_main(void *arg)
{
    stop_args_t *a = arg;
    weft_server_t *s = a->s;
    int graceful, remaining = 0;

    pthread_mutex_lock(&s->mu);
    graceful = !s->stop_close;
    pthread_mutex_unlock(&s->mu);
    if (graceful) {
        apr_time_t deadline = a->timeout > 0 ? apr_time_now() + a->timeout : 0;
        weft_log_error(
            WEFT_LOG_NOTICE, 0, "shutting down gracefully%s%s",
            a->timeout > 0 ? " within " : "",
            a->timeout > 0 ? weft_format_duration(s->pool, a->timeout) : "");
        if (weft_server_shutdown(s, deadline, &remaining) == APR_TIMEUP)
            weft_log_error(WEFT_LOG_WARN, 0,
                           "shutdown deadline passed with %d connection%s "
                           "still open; closing them",
                           remaining, remaining == 1 ? "" : "s");
    }
    weft_server_close(s);
    free(a);
    pthread_mutex_lock(&s->mu);
    s->done = 1;
    pthread_cond_broadcast(&s->done_cond);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

WEFT_DECLARE(void)
weft_server_stop(weft_server_t *s, int graceful, apr_interval_time_t timeout)
{
    stop_args_t *a;
    pthread_t t;
    int start;

    pthread_mutex_lock(&s->mu);
    start = !s->stopping;
    s->stopping = 1;
    if (!graceful)
        s->stop_close = 1;
    pthread_mutex_unlock(&s->mu);
    if (!start) {
        /* A stop is running: a close request cuts a graceful one short. */
        if (!graceful)
            weft_server_close(s);
        return;
    }
    a = malloc(sizeof(*a));
    if (a != NULL) {
        a->s = s;
        a->timeout = timeout;
        pthread_mutex_lock(&s->mu);
        if (pthread_create(&t, NULL, stop_main, a) == 0) {
            s->stop_thread = t;
            s->stop_joinable = 1;
            pthread_mutex_unlock(&s->mu);
            return;
        }
        pthread_mutex_unlock(&s->mu);
        free(a);
    }
    /* No thread: stop inline rather than not at all. */
    weft_server_close(s);
    pthread_mutex_lock(&s->mu);
    s->done = 1;
    pthread_cond_broadcast(&s->done_cond);
    pthread_mutex_unlock(&s->mu);
}

/*
 * s->changed has few waiters (a stop, quiesce, MaxConnections, the accept
 * back-off) and none while serving normally; counting them lets every
 * connection's close skip the broadcast then (a futex call, and a wake-up
 * of whoever waits, per connection otherwise).
 */
void weft_server_changed(weft_server_t *s)
{
    if (s->changed_waiters > 0)
        pthread_cond_broadcast(&s->changed);
}

int weft_server_wait_changed(weft_server_t *s, apr_time_t until)
{
    int rc;

    s->changed_waiters++;
    rc = weft_wait_cond(&s->changed, &s->mu, until);
    s->changed_waiters--;
    return rc;
}

WEFT_DECLARE(void) weft_server_wait(weft_server_t *s)
{
    pthread_t stopper;
    int join;

    pthread_mutex_lock(&s->mu);
    while (!s->done)
        pthread_cond_wait(&s->done_cond, &s->mu);
    stopper = s->stop_thread;
    join = s->stop_joinable;
    s->stop_joinable = 0;
    pthread_mutex_unlock(&s->mu);
    /* The stop thread still holds s->mu when it sets done: joined, it can
     * no longer touch a server the caller is about to destroy. */
    if (join)
        pthread_join(stopper, NULL);
}

/* An owner thread for the MPM, counted until it leaves (joinable: see
 * weft_owner_thread_exit). */
apr_status_t weft_owner_thread_start(weft_server_t *s, void *(*fn)(void *),
                                     void *arg)
{
    pthread_t t;
    int rc;

    pthread_mutex_lock(&s->mu);
    s->owner_threads++;
    pthread_mutex_unlock(&s->mu);
    rc = pthread_create(&t, NULL, fn, arg);
    if (rc == 0)
        return APR_SUCCESS;
    pthread_mutex_lock(&s->mu);
    s->owner_threads--;
    weft_server_changed(s);
    pthread_mutex_unlock(&s->mu);
    return APR_FROM_OS_ERROR(rc);
}

/*
 * The last thing an owner thread does.  Owner threads are joinable, and
 * each one leaving joins the one that left before it; the exit joins the
 * last.  A thread that has counted
 * itself out still runs its thread-local destructors (OpenSSL's among
 * them), and an exit that ran its atexit cleanups meanwhile (OpenSSL's
 * again) would free what those destructors use: a crash, or per-thread
 * state leaked.  Chaining the joins keeps at most one finished thread
 * unjoined however many the MPM trims, and needs no list.
 */
void weft_owner_thread_exit(weft_server_t *s)
{
    pthread_t prev;
    int join;

    pthread_mutex_lock(&s->mu);
    prev = s->last_exited;
    join = s->has_last_exited;
    s->last_exited = pthread_self();
    s->has_last_exited = 1;
    pthread_mutex_unlock(&s->mu);
    /* prev has counted itself out: it is only finishing its exit. */
    if (join)
        pthread_join(prev, NULL);
    pthread_mutex_lock(&s->mu);
    s->owner_threads--;
    weft_server_changed(s);
    pthread_mutex_unlock(&s->mu);
}

WEFT_DECLARE(int)
weft_server_quiesce(weft_server_t *s, apr_interval_time_t timeout)
{
    apr_time_t until = apr_time_now() + timeout;
    int quiet;

    pthread_mutex_lock(&s->mu);
    while (!(quiet = s->nopen == 0 && s->owner_threads == 0) &&
           weft_server_wait_changed(s, until) == 0)
        ;
    quiet = s->nopen == 0 && s->owner_threads == 0;
    /* Every thread that left was joined by the next one to leave, but the
     * last: it is only finishing, so join it too (quiet or not: the exit
     * that follows a timeout must not leave a finished thread behind). */
    if (s->has_last_exited) {
        pthread_t last = s->last_exited;
        s->has_last_exited = 0;
        pthread_mutex_unlock(&s->mu);
        pthread_join(last, NULL);
        return quiet;
    }
    pthread_mutex_unlock(&s->mu);
    return quiet;
}

/* The live set holds new, active and idle connections; the hijacked
 * registry those a hijacker or a claiming module holds until it closes
 * them (weft_rw_hijack enters it just before the state word says so).
 * Closed ones are gone from both. */
WEFT_DECLARE(int) weft_server_conn_count(const weft_server_t *s, int state)
{
    weft_server_t *ms = (weft_server_t *)s;
    const weft_conn_t *c;
    int n = 0;

    if (state < 0 || state >= WEFT_STATE_COUNT)
        return 0;
    pthread_mutex_lock(&ms->mu);
    for (c = state == WEFT_STATE_HIJACKED ? ms->hijacked : ms->live; c != NULL;
         c = state == WEFT_STATE_HIJACKED ? c->hj_next : c->next)
        n += weft_conn_state(c, NULL) == (weft_conn_state_t)state;
    pthread_mutex_unlock(&ms->mu);
    return n;
}

WEFT_DECLARE(apr_uint64_t) weft_server_requests(const weft_server_t *s)
{
    return atomic_load(&((weft_server_t *)s)->requests);
}

WEFT_DECLARE(apr_uint64_t) weft_server_bytes_sent(const weft_server_t *s)
{
    return atomic_load(&((weft_server_t *)s)->bytes_sent);
}

WEFT_DECLARE(apr_time_t) weft_server_start_time(const weft_server_t *s)
{
    return s->start_time;
}

WEFT_DECLARE(void) weft_server_reopen_logs(weft_server_t *s)
{
    apr_status_t rv = weft_log_open(s->conf->error_log);

    if (rv != APR_SUCCESS)
        weft_log_error(WEFT_LOG_ERR, rv, "cannot reopen the error log %s",
                       s->conf->error_log);
    weft_run_reopen_logs(s);
    weft_log_error(WEFT_LOG_NOTICE, 0, "logs reopened");
}
