/*
 * weft_hijack.c -- handing a connection over (Go's Hijack and abort):
 * flush, clear deadlines, mark it hijacked so the serve loop lets go, and
 * free it when the new owner closes.
 */
#include <string.h>

#include "weft_engine.h"

WEFT_DECLARE(apr_status_t) weft_rw_hijack(weft_rw_t *w, weft_hijack_t **out)
{
    weft_conn_t *c = w->conn;
    weft_hijack_t *h;

    if (c->hijacked || w->handler_done || w->aborted)
        return WEFT_EHIJACKED;
    if (w->wrote_header || w->buflen > 0)
        weft_rw_flush(w);
    c->read_deadline = c->write_deadline = 0;
    h = apr_pcalloc(c->pool, sizeof(*h));
    h->transport = c->transport;
    h->buffered = c->rbuf + c->rstart;
    h->buffered_len = c->rend - c->rstart;
    h->pool = c->pool;
    h->conn = c;
    c->hijacked = 1;
    weft_conn_set_state(c, WEFT_STATE_HIJACKED);
    *out = h;
    return APR_SUCCESS;
}

WEFT_DECLARE(void) weft_hijack_close(weft_hijack_t *h)
{
    weft_conn_t *c = h->conn;

    c->transport->ops->close(c->transport);
    weft_conn_release(c);
}

WEFT_DECLARE(void) weft_rw_abort(weft_rw_t *w)
{
    w->aborted = 1;
}
