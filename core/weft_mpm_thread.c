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

typedef struct parked_t {
    pthread_cond_t wake;
    weft_conn_t *conn; /* set by submit before it signals */
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

static void *owner_main(void *arg)
{
    weft_conn_t *c = arg;
    weft_server_t *s = c->server;
    thread_mpm_t *m = mpm_of(s);
    parked_t me;

    weft_cond_init(&me.wake);
    for (;;) {
        weft_conn_serve(c);
        pthread_mutex_lock(&m->mu);
        if (m->stopping)
            break;
        me.conn = NULL;
        me.next = m->idle;
        m->idle = &me;
        m->nidle++;
        while (me.conn == NULL && !m->stopping) {
            apr_time_t until = apr_time_now() + IDLE_TRIM;
            if (weft_wait_cond(&me.wake, &m->mu, until) != 0 &&
                me.conn == NULL && m->nidle > IDLE_KEEP)
                break;
        }
        if (me.conn == NULL) {
            /* Leaving: unlink ourselves (submit did not take us). */
            parked_t **pp = &m->idle;
            while (*pp != &me)
                pp = &(*pp)->next;
            *pp = me.next;
            m->nidle--;
            break;
        }
        c = me.conn;
        pthread_mutex_unlock(&m->mu);
    }
    m->nthreads--;
    pthread_mutex_unlock(&m->mu);
    pthread_cond_destroy(&me.wake);
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
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&m->mu);
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
        pthread_cond_signal(&p->wake);
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
