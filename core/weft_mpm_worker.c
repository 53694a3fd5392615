/*
 * weft_mpm_worker.c -- MPM worker, Apache's: a fixed pool of Threads
 * owner threads; a connection keeps its thread while open.  A listener
 * accepts only after reserving an idle thread, so when all are busy new
 * connections wait in the kernel's listen backlog.
 */
#include <stdlib.h>

#include "weft_engine.h"

typedef struct {
    pthread_mutex_t mu;  /* guards everything below */
    pthread_cond_t work; /* a connection was queued, or stopping */
    pthread_cond_t avail_changed;
    weft_conn_t **queue; /* ring of reserved, accepted connections */
    int head, len, cap;
    int avail; /* idle threads not yet reserved */
    int nthreads;
    int stopping;
} worker_mpm_t;

static worker_mpm_t *mpm_of(weft_server_t *s)
{
    return s->mpm_data;
}

static void *worker_main(void *arg)
{
    weft_server_t *s = arg;
    worker_mpm_t *m = mpm_of(s);

    pthread_mutex_lock(&m->mu);
    for (;;) {
        weft_conn_t *c;

        m->avail++;
        pthread_cond_signal(&m->avail_changed);
        while (m->len == 0 && !m->stopping)
            pthread_cond_wait(&m->work, &m->mu);
        if (m->len == 0) {
            m->avail--;
            break;
        }
        c = m->queue[m->head];
        m->head = (m->head + 1) % m->cap;
        m->len--;
        pthread_mutex_unlock(&m->mu);
        weft_conn_serve(c);
        pthread_mutex_lock(&m->mu);
    }
    m->nthreads--;
    pthread_mutex_unlock(&m->mu);
    weft_owner_thread_exit(s);
    return NULL;
}

static apr_status_t worker_start(weft_server_t *s)
{
    worker_mpm_t *m = apr_pcalloc(s->pool, sizeof(*m));
    int i, n = s->conf->threads;

    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->work, NULL);
    pthread_cond_init(&m->avail_changed, NULL);
    m->cap = n;
    m->queue = apr_pcalloc(s->pool, sizeof(*m->queue) * (apr_size_t)n);
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
    pthread_mutex_unlock(&m->mu);
}

static apr_status_t worker_submit(weft_server_t *s, weft_conn_t *c)
{
    worker_mpm_t *m = mpm_of(s);

    pthread_mutex_lock(&m->mu);
    /* At most one queued connection per reservation, so it fits. */
    m->queue[(m->head + m->len) % m->cap] = c;
    m->len++;
    pthread_mutex_unlock(&m->mu);
    /* After the unlock, so the woken worker does not queue for mu. */
    pthread_cond_signal(&m->work);
    return APR_SUCCESS;
}

static void worker_stop(weft_server_t *s)
{
    worker_mpm_t *m = mpm_of(s);

    pthread_mutex_lock(&m->mu);
    m->stopping = 1;
    pthread_cond_broadcast(&m->work);
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
