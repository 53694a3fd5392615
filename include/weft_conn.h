/*
 * weft_conn.h -- a client connection as modules see it: identity,
 * addresses, context, transport, and Go's ConnState.
 */
#ifndef WEFT_CONN_H
#define WEFT_CONN_H

#include "weft_common.h"
#include "weft_server.h"
#include "weft_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Go's ConnState, in its order. */
typedef enum {
    WEFT_STATE_NEW = 0,
    WEFT_STATE_ACTIVE,
    WEFT_STATE_IDLE,
    WEFT_STATE_HIJACKED,
    WEFT_STATE_CLOSED
} weft_conn_state_t;
#define WEFT_STATE_COUNT 5

/* "new", "active", "idle", "hijacked", "closed". */
WEFT_DECLARE(const char *) weft_conn_state_name(weft_conn_state_t st);

/* Immutable after accept; any thread while the connection lives. */
WEFT_DECLARE(apr_uint64_t) weft_conn_id(const weft_conn_t *c);
WEFT_DECLARE(const char *) weft_conn_remote(const weft_conn_t *c); /* ip:port */
WEFT_DECLARE(const char *) weft_conn_local(const weft_conn_t *c);
WEFT_DECLARE(weft_server_t *) weft_conn_server(const weft_conn_t *c);
/* The Listen line the connection came through (its tls flag tells a TLS
 * module which connections are its own). */
WEFT_DECLARE(const weft_listen_t *) weft_conn_listen(const weft_conn_t *c);
/* The connection's pool: cleared when the connection closes.  Owner
 * thread (and the conn_context hook, before the owner starts). */
WEFT_DECLARE(apr_pool_t *) weft_conn_pool(const weft_conn_t *c);
/* The connection context (after the conn_context hook ran). */
WEFT_DECLARE(weft_ctx_t *) weft_conn_ctx(const weft_conn_t *c);
/* The state and the second it was entered: one atomic load. */
WEFT_DECLARE(weft_conn_state_t)
weft_conn_state(const weft_conn_t *c, apr_time_t *since);
/* The transport; pre_connection hooks may replace it (TLS).  Owner. */
WEFT_DECLARE(weft_transport_t *) weft_conn_transport(const weft_conn_t *c);
WEFT_DECLARE(void) weft_conn_set_transport(weft_conn_t *c, weft_transport_t *t);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_CONN_H */
