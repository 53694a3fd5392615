/*
 * weft_mpm_thread.c -- MPM thread, Go's model: every connection gets its
 * own owner thread for as long as it is open.  Finished threads park and
 * are reused, so steady traffic creates no threads; threads parked for a
 * minute beyond a small reserve exit.
 */
#include <stdlib.h>

#include "weft_engine.h"

#define IDLE_TRIM apr_time_from_sec(60)
#define IDLE_KEEP 16

typedef struct {
    pthread_mutex_t mu; /* guards everything below */
    weft_idle_t *idle;  /* parked threads (weft_idle.c) */
    int nidle;
    int nthreads; /* running or parked */
    int stopping;
} thread_mpm_t;

static thread_mpm_t *mpm_of(weft_server_t *s)
{
    return s->mpm_data;
}

/* Parks the calling thread until a connection comes (returned) or it
 * should leave (NULL): the server stops, or it idled for IDLE_TRIM beyond
 * the IDLE_KEEP reserve.  Called and returns with mu held. */
static weft_conn_t *park(thread_mpm_t *m, weft_idle_t *me)
{
    weft_idle_push(&m->idle, me);
    m->nidle++;
    for (;;) {
        apr_time_t until = apr_time_now() + IDLE_TRIM;
        int rc;
        pthread_mutex_unlock(&m->mu);
        rc = weft_idle_wait(me, until);
        pthread_mutex_lock(&m->mu);
        if (me->conn != NULL) {
            /* submit unlinked us; a wait that ran out as it did so
             * still has its post to come, consumed here. */
            weft_conn_t *c = me->conn;
            if (rc != 0) {
                pthread_mutex_unlock(&m->mu);
                weft_idle_wait(me, 0);
                pthread_mutex_lock(&m->mu);
            }
            return c;
        }
        if (m->stopping || (rc != 0 && m->nidle > IDLE_KEEP))
            break;
    }
    /* Leaving (a pending stop post dies with the semaphore). */
    weft_idle_unlink(&m->idle, me);
    m->nidle--;
    return NULL;
}

static void *owner_main(void *arg)
{
    weft_conn_t *c = arg;
    weft_server_t *s = c->server;
    thread_mpm_t *m = mpm_of(s);
    weft_idle_t me;

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
    weft_idle_t *p;
    apr_status_t rv;

    pthread_mutex_lock(&m->mu);
    if ((p = weft_idle_take(&m->idle, c)) != NULL) {
        m->nidle--;
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
    weft_idle_t *p;

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
