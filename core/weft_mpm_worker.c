/*
 * weft_mpm_worker.c -- MPM worker, Apache's: a fixed pool of Threads
 * owner threads; a connection keeps its thread while open.  A listener
 * accepts only after reserving an idle thread, so when all are busy new
 * connections wait in the kernel's listen backlog.
 */
#include <stdlib.h>

#include "weft_engine.h"

typedef struct {
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t avail_changed;
    weft_idle_t *idle; /* idle workers (weft_idle.c) */
    int avail;         /* idle workers not yet reserved */
    int nthreads;
    int stopping;
} worker_mpm_t;

static worker_mpm_t *mpm_of(weft_server_t *s)
{
    return s->mpm_data;
}

/* Takes the next connection for me (NULL: the server stops).  Called and
 * returns with mu held. */
static weft_conn_t *worker_wait(worker_mpm_t *m, weft_idle_t *me)
{
    weft_idle_push(&m->idle, me);
    m->avail++;
    pthread_cond_signal(&m->avail_changed);
    /* Stopping, an idle worker leaves only while more are idle than
     * reserved: a listener that reserved before the stop still finds
     * one to take its connection. */
    while (me->conn == NULL && !(m->stopping && m->avail > 0)) {
        pthread_mutex_unlock(&m->mu);
        weft_idle_wait(me, 0);
        pthread_mutex_lock(&m->mu);
    }
    if (me->conn == NULL) {
        weft_idle_unlink(&m->idle, me); /* submit did not take us */
        m->avail--;
    }
    return me->conn;
}

static void *worker_main(void *arg)
{
    weft_server_t *s = arg;
    worker_mpm_t *m = mpm_of(s);
    weft_idle_t me;
    weft_conn_t *c;

    sem_init(&me.wake, 0, 0);
    pthread_mutex_lock(&m->mu);
    while (!m->stopping && (c = worker_wait(m, &me)) != NULL) {
        pthread_mutex_unlock(&m->mu);
        weft_conn_serve(c);
        pthread_mutex_lock(&m->mu);
    }
    m->nthreads--;
    pthread_mutex_unlock(&m->mu);
    sem_destroy(&me.wake);
    weft_owner_thread_exit(s);
    return NULL;
}

static apr_status_t worker_start(weft_server_t *s)
{
    worker_mpm_t *m = apr_pcalloc(s->pool, sizeof(*m));
    int i, n = s->conf->threads;

    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->avail_changed, NULL);
    s->mpm_data = m;
    for (i = 0; i < n; i++) {
        apr_status_t rv;
        pthread_mutex_lock(&m->mu);
        m->nthreads++;
        pthread_mutex_unlock(&m->mu);
        rv = weft_owner_thread_start(s, worker_main, s);
        if (rv != APR_SUCCESS) {
            pthread_mutex_lock(&m->mu);
            m->nthreads--;
            pthread_mutex_unlock(&m->mu);
            weft_log_error(WEFT_LOG_ERR, rv,
                           "cannot create worker thread %d of %d", i + 1, n);
            return rv;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t worker_reserve(weft_server_t *s)
{
    worker_mpm_t *m = mpm_of(s);
    apr_status_t rv = APR_SUCCESS;

    pthread_mutex_lock(&m->mu);
    while (m->avail == 0 && !m->stopping)
        pthread_cond_wait(&m->avail_changed, &m->mu);
    if (m->stopping)
        rv = APR_EOF;
    else
        m->avail--;
    pthread_mutex_unlock(&m->mu);
    return rv;
}

static void worker_unreserve(weft_server_t *s)
{
    worker_mpm_t *m = mpm_of(s);

    pthread_mutex_lock(&m->mu);
    m->avail++;
    pthread_cond_signal(&m->avail_changed);
    /* A worker kept for this reservation by a stop may leave now. */
    if (m->stopping && m->idle != NULL)
        sem_post(&m->idle->wake);
    pthread_mutex_unlock(&m->mu);
}

static apr_status_t worker_submit(weft_server_t *s, weft_conn_t *c)
{
    worker_mpm_t *m = mpm_of(s);
    weft_idle_t *w;

    pthread_mutex_lock(&m->mu);
    /* The reservation kept an idle worker in the stack, stop or not. */
    w = weft_idle_take(&m->idle, c);
    pthread_mutex_unlock(&m->mu);
    /* w stays valid: its thread waits for this post (conn is set). */
    sem_post(&w->wake);
    return APR_SUCCESS;
}

static void worker_stop(weft_server_t *s)
{
    worker_mpm_t *m = mpm_of(s);
    weft_idle_t *w;

    pthread_mutex_lock(&m->mu);
    m->stopping = 1;
    for (w = m->idle; w != NULL; w = w->next)
        sem_post(&w->wake);
    pthread_cond_broadcast(&m->avail_changed);
    pthread_mutex_unlock(&m->mu);
}

static int worker_count(weft_server_t *s)
{
    worker_mpm_t *m = mpm_of(s);
    int n;

    pthread_mutex_lock(&m->mu);
    n = m->nthreads;
    pthread_mutex_unlock(&m->mu);
    return n;
}

const weft_mpm_t weft_mpm_worker = {
    "worker",      worker_start, worker_reserve, worker_unreserve,
    worker_submit, worker_stop,  worker_count,
};
