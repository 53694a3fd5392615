/*
 * weft_mpm_thread.c -- MPM thread, Go's model: every connection gets its
 * own owner thread for as long as it is open.  Finished threads park and
 * are reused, so steady traffic creates no threads; threads parked for a
 * minute beyond a small reserve exit.
 */
#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <time.h>

#include "weft_engine.h"

#define IDLE_TRIM apr_time_from_sec(60)
#define IDLE_KEEP 16

/*
 * A parked thread sleeps on its own semaphore, not on a condition under
 * the MPM's mutex: the accept thread hands a connection over by setting
 * conn under mu and posting after it unlocks, so the woken thread starts
 * serving at once instead of first queueing for the mutex the accept
 * thread still holds (a futex round trip and a context switch more per
 * connection).
 */
typedef struct parked_t {
    sem_t wake;        /* posted once for each hand-over, and by stop */
    weft_conn_t *conn; /* guarded by mu: set by submit before its post */
    struct parked_t *next;
} parked_t;

typedef struct {
    pthread_mutex_t mu; /* guards everything below */
    parked_t *idle;     /* parked threads, most recent first */
    int nidle;
    int nthreads; /* running or parked */
    int stopping;
} thread_mpm_t;

static thread_mpm_t *mpm_of(weft_server_t *s)
{
    return s->mpm_data;
}

/* Waits for a post until the trim time; 0 when one came. */
static int park_wait(parked_t *me, const struct timespec *until)
{
    int rc;

    while ((rc = sem_timedwait(&me->wake, until)) != 0 && errno == EINTR)
        ;
    return rc;
}

/* Parks the calling thread until a connection comes (returned) or it
 * should leave (NULL): the server stops, or it idled for IDLE_TRIM beyond
 * the IDLE_KEEP reserve.  Called and returns with mu held. */
static weft_conn_t *park(thread_mpm_t *m, parked_t *me)
{
    me->conn = NULL;
    me->next = m->idle;
    m->idle = me;
    m->nidle++;
    for (;;) {
        struct timespec until;
        weft_conn_t *c;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)apr_time_sec(IDLE_TRIM);
        pthread_mutex_unlock(&m->mu);
        if (park_wait(me, &until) == 0) {
            pthread_mutex_lock(&m->mu);
            if (me->conn != NULL)
                return me->conn; /* submit unlinked us */
            if (m->stopping)
                break;
            continue; /* a stop's post that found us */
        }
        pthread_mutex_lock(&m->mu);
        if ((c = me->conn) != NULL) {
            /* Taken as the wait ran out: its post is on the way. */
            pthread_mutex_unlock(&m->mu);
            while (sem_wait(&me->wake) != 0 && errno == EINTR)
                ;
            pthread_mutex_lock(&m->mu);
            return c;
        }
        if (m->stopping || m->nidle > IDLE_KEEP)
            break;
    }
    /* Leaving: unlink ourselves (submit did not take us); a pending stop
     * post dies with the semaphore. */
    {
        parked_t **pp = &m->idle;
        while (*pp != me)
            pp = &(*pp)->next;
        *pp = me->next;
        m->nidle--;
    }
    return NULL;
}

static void *owner_main(void *arg)
{
    weft_conn_t *c = arg;
    weft_server_t *s = c->server;
    thread_mpm_t *m = mpm_of(s);
    parked_t me;

    sem_init(&me.wake, 0, 0);
    for (;;) {
        weft_conn_serve(c);
        pthread_mutex_lock(&m->mu);
        if (m->stopping || (c = park(m, &me)) == NULL)
            break;
        pthread_mutex_unlock(&m->mu);
    }
    m->nthreads--;
    pthread_mutex_unlock(&m->mu);
    sem_destroy(&me.wake);
    weft_owner_thread_exit(s);
    return NULL;
}

static apr_status_t thread_start(weft_server_t *s)
{
    thread_mpm_t *m = apr_pcalloc(s->pool, sizeof(*m));

    pthread_mutex_init(&m->mu, NULL);
    s->mpm_data = m;
    return APR_SUCCESS;
}

/* A thread is always available: one is made when none is parked. */
static apr_status_t thread_reserve(weft_server_t *s)
{
    return atomic_load(&s->shutting_down) ? APR_EOF : APR_SUCCESS;
}

static void thread_unreserve(weft_server_t *s)
{
}

static apr_status_t thread_submit(weft_server_t *s, weft_conn_t *c)
{
    thread_mpm_t *m = mpm_of(s);
    apr_status_t rv;

    pthread_mutex_lock(&m->mu);
    if (m->idle != NULL) {
        parked_t *p = m->idle;
        m->idle = p->next;
        m->nidle--;
        p->conn = c;
        pthread_mutex_unlock(&m->mu);
        /* p stays valid: its thread waits for this post in every case. */
        sem_post(&p->wake);
        return APR_SUCCESS;
    }
    m->nthreads++;
    pthread_mutex_unlock(&m->mu);
    rv = weft_owner_thread_start(s, owner_main, c);
    if (rv != APR_SUCCESS) {
        pthread_mutex_lock(&m->mu);
        m->nthreads--;
        pthread_mutex_unlock(&m->mu);
        weft_log_error(WEFT_LOG_ERR, rv, "cannot create a thread");
    }
    return rv;
}

static void thread_stop(weft_server_t *s)
{
    thread_mpm_t *m = mpm_of(s);
    parked_t *p;

    pthread_mutex_lock(&m->mu);
    m->stopping = 1;
    for (p = m->idle; p != NULL; p = p->next)
        sem_post(&p->wake);
    pthread_mutex_unlock(&m->mu);
}

static int thread_count(weft_server_t *s)
{
    thread_mpm_t *m = mpm_of(s);
    int n;

    pthread_mutex_lock(&m->mu);
    n = m->nthreads;
    pthread_mutex_unlock(&m->mu);
    return n;
}

const weft_mpm_t weft_mpm_thread = {
    "thread",      thread_start, thread_reserve, thread_unreserve,
    thread_submit, thread_stop,  thread_count,
};
