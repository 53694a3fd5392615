/*
 * weft_hijack.c -- handing a connection over (Go's Hijack and abort):
 * flush, clear deadlines, leave the disconnect watch, mark it hijacked so
 * the serve loop lets go; the registry of hijacked connections that
 * Shutdown tells and waits for; freeing it when the new owner closes.
 * Also a protocol module's claim of a fresh connection (Go's TLSNextProto).
 */
#include <string.h>
#include <sys/socket.h>

#include "weft_engine.h"

/* Under the server's mu: c joins the registry, held by holders, with no
 * Shutdown callback yet. */
static void registry_add(weft_conn_t *c, int holders)
{
    weft_server_t *s = c->server;

    c->hj_fn = NULL;
    c->hj_told = 0;
    c->hj_holders = holders;
    c->hj_prev = NULL;
    c->hj_next = s->hijacked;
    if (s->hijacked != NULL)
        s->hijacked->hj_prev = c;
    s->hijacked = c;
}

WEFT_DECLARE(apr_status_t) weft_rw_hijack(weft_rw_t *w, weft_hijack_t **out)
{
    weft_conn_t *c = w->conn;
    weft_server_t *s = c->server;
    weft_hijack_t *h;

    if (c->hijacked || w->handler_done || w->aborted)
        return WEFT_EHIJACKED;
    weft_rw_disable_continue(w);
    if (w->wrote_header || w->buflen > 0)
        weft_rw_flush(w);
    /* The watcher lets go of the socket: the hijacker reads it now. */
    weft_watch_forget(c);
    if (c->transport == &c->tcp)
        weft_tcp_transport_nonblocking(&c->tcp);
    c->read_deadline = c->write_deadline = 0;
    h = apr_pcalloc(c->pool, sizeof(*h));
    h->transport = c->transport;
    h->buffered = c->rbuf + c->rstart;
    h->buffered_len = c->rend - c->rstart;
    h->pool = c->pool;
    h->conn = c;
    c->hijacked = 1;
    pthread_mutex_lock(&s->mu);
    /* The serve loop still touches c after the handler returns, and the
     * handler may close the hijacked connection before that. */
    registry_add(c, 2);
    pthread_mutex_unlock(&s->mu);
    weft_conn_set_state(c, WEFT_STATE_HIJACKED);
    *out = h;
    return APR_SUCCESS;
}

/*
 * Go's setState(rwc, ..., skipHooks) for a claimed connection: the packed
 * word, the live set as weft_conn_set_state keeps it, and the hijacked
 * registry, in one critical section; no conn_state hook runs.
 */
static void claim_quietly(weft_conn_t *c)
{
    weft_server_t *s = c->server;
    apr_uint64_t now = (apr_uint64_t)apr_time_sec(weft_time_coarse());

    atomic_store(&c->state, (now << 8) | WEFT_STATE_HIJACKED);
    c->hijacked = 1;
    pthread_mutex_lock(&s->mu);
    weft_conn_leave_live(c);
    registry_add(c, 1); /* the claimer only: the serve loop returns */
    weft_server_changed(s);
    pthread_mutex_unlock(&s->mu);
}

WEFT_DECLARE(apr_status_t) weft_conn_claim(weft_conn_t *c, weft_hijack_t **out)
{
    weft_hijack_t *h;

    if (c->hijacked)
        return WEFT_EHIJACKED;
    /* No handler ran, so the watcher never saw it; forget it anyway, as
     * hijack does, so nothing of the watch outlives the claim. */
    weft_watch_forget(c);
    c->read_deadline = c->write_deadline = 0;
    h = apr_pcalloc(c->pool, sizeof(*h));
    h->transport = c->transport;
    h->buffered = c->rbuf + c->rstart;
    h->buffered_len = c->rend - c->rstart;
    h->pool = c->pool;
    h->conn = c;
    claim_quietly(c);
    *out = h;
    return APR_SUCCESS;
}

WEFT_DECLARE(void)
weft_hijack_on_shutdown(weft_hijack_t *h, void (*fn)(void *data), void *data)
{
    weft_conn_t *c = h->conn;
    weft_server_t *s = c->server;
    int now;

    pthread_mutex_lock(&s->mu);
    c->hj_fn = fn;
    c->hj_data = data;
    now = s->accept_stopped;
    pthread_mutex_unlock(&s->mu);
    if (now && fn != NULL)
        fn(data); /* registered after the shutdown began: tell at once */
}

WEFT_DECLARE(void) weft_hijack_close(weft_hijack_t *h)
{
    weft_conn_t *c = h->conn;
    weft_server_t *s = c->server;

    pthread_mutex_lock(&s->mu);
    if (c->hj_prev != NULL)
        c->hj_prev->hj_next = c->hj_next;
    else
        s->hijacked = c->hj_next;
    if (c->hj_next != NULL)
        c->hj_next->hj_prev = c->hj_prev;
    c->hj_fn = NULL;
    weft_server_changed(s);
    pthread_mutex_unlock(&s->mu);
    c->transport->ops->close(c->transport);
    weft_hijack_let_go(c);
}

void weft_hijack_let_go(weft_conn_t *c)
{
    weft_server_t *s = c->server;
    int last;

    pthread_mutex_lock(&s->mu);
    last = --c->hj_holders == 0;
    pthread_mutex_unlock(&s->mu);
    if (last)
        weft_conn_release(c);
}

/* Under s->mu: hijacked connections Shutdown still waits for. */
int weft_hijack_waited(weft_server_t *s)
{
    weft_conn_t *c;
    int n = 0;

    for (c = s->hijacked; c != NULL; c = c->hj_next)
        if (c->hj_fn != NULL)
            n++;
    return n;
}

/* Shutdown began: tell every registered owner, outside the lock (their
 * callbacks may close at once, which takes it).  Each is told once. */
void weft_hijack_notify(weft_server_t *s)
{
    for (;;) {
        void (*fn)(void *) = NULL;
        void *data = NULL;
        weft_conn_t *c, *told = NULL;

        pthread_mutex_lock(&s->mu);
        for (c = s->hijacked; c != NULL; c = c->hj_next) {
            if (c->hj_fn != NULL && !c->hj_told) {
                c->hj_told = 1;
                fn = c->hj_fn;
                data = c->hj_data;
                /* fn runs outside the lock and may race the owner's
                 * weft_hijack_close: hold the connection until it returns. */
                c->hj_holders++;
                told = c;
                break;
            }
        }
        pthread_mutex_unlock(&s->mu);
        if (fn == NULL)
            return;
        fn(data);
        weft_hijack_let_go(told);
    }
}

/* Under s->mu: Close shuts the sockets of the waited-for sessions. */
void weft_hijack_kill_waited(weft_server_t *s)
{
    weft_conn_t *c;

    for (c = s->hijacked; c != NULL; c = c->hj_next)
        if (c->hj_fn != NULL)
            shutdown(c->fd, SHUT_RDWR);
}

WEFT_DECLARE(void) weft_rw_abort(weft_rw_t *w)
{
    w->aborted = 1;
}
