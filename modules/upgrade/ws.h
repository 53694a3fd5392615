/*
 * ws.h -- mod_upgrade's WebSocket engine (RFC 6455), shared by
 * mod_upgrade.c and ws.c: the session, the handshake, and the functions
 * mod_upgrade registers as weft_upgrade.h's optional functions.
 */
#ifndef WEFT_MOD_UPGRADE_WS_H
#define WEFT_MOD_UPGRADE_WS_H

#include <pthread.h>
#include <stdatomic.h>

#include "weft.h"
#include "weft_upgrade.h"

/* What a session takes from the module's configuration. */
typedef struct ws_config_t {
    apr_size_t max_message;            /* WebSocketMaxMessage */
    apr_interval_time_t close_timeout; /* WebSocketCloseTimeout */
} ws_config_t;

/* Incremental UTF-8 validation: a message may split a character across
 * fragments, so the state carries over between them. */
typedef struct ws_utf8_t {
    unsigned need;        /* continuation bytes still expected */
    unsigned char lo, hi; /* the range the next one must fall in */
} ws_utf8_t;

/*
 * A session.  Who may touch each field, as in the core's structs: the
 * reader is the one thread in weft_ws_read at a time; writers hold wmu.
 */
struct weft_ws_t {
    /* Immutable after the handshake. */
    weft_hijack_t *h;
    weft_transport_t *t;
    uintptr_t id; /* the key Shutdown's callback finds the session by */
    apr_interval_time_t close_timeout;
    const char *remote; /* the client's ip:port, for the debug log */

    /* Reader thread only. */
    const char *in; /* unread input: the hijack's buffered bytes first */
    apr_size_t in_len;
    char *rbuf;         /* WS_RBUF bytes from the connection pool */
    char *msg;          /* the message being assembled (malloc) */
    apr_size_t msg_len; /* bytes in it */
    apr_size_t msg_cap; /* its size */
    int msg_type;       /* 0 between messages, else its opcode */
    ws_utf8_t utf8;     /* over the text message so far */
    apr_size_t max_message;
    apr_time_t read_deadline;
    int ended; /* reads fail from now on, with end_status */
    apr_status_t end_status;
    int peer_code;         /* from the peer's close frame; 0: none yet */
    char peer_reason[124]; /* NUL-terminated */

    /* Guarded by wmu. */
    pthread_mutex_t wmu;
    apr_time_t write_deadline;
    int sent_code; /* the close code sent (1005: sent without) */
    char sent_reason[124];

    /* Atomic: set under wmu, read anywhere. */
    atomic_int close_sent; /* no frame may follow a close */
    atomic_int going_away; /* Shutdown asked for 1001 */
};

/* The next token of a comma-separated field value *v (blanks trimmed),
 * advancing *v past it; NULL at the end.  *len is the token's length. */
const char *ws_token_next(const char **v, apr_size_t *len);

/* Initialises and frees the registry Shutdown's callback looks sessions
 * up in.  Main thread: post_config, and the server pool's cleanup. */
apr_status_t ws_registry_init(apr_pool_t *pconf);

/*
 * The handshake for weft_ws_accept and the upgrade hook: WEFT_OK with *out
 * set, WEFT_DONE when it answered the refusal through w, WEFT_ERROR when
 * the hijacked connection failed (it is closed).  Handler thread.
 */
int ws_handshake(weft_rw_t *w, weft_request_t *r, const ws_config_t *conf,
                 weft_ws_t **out);

/* The optional functions (weft_upgrade.h documents them). */
apr_status_t weft_ws_read(weft_ws_t *ws, int *type, const char **data,
                          apr_size_t *len);
apr_status_t weft_ws_write(weft_ws_t *ws, int type, const void *data,
                           apr_size_t len);
apr_status_t weft_ws_close(weft_ws_t *ws, int code, const char *reason);
int weft_ws_close_code(weft_ws_t *ws, const char **reason);
void weft_ws_set_max_message(weft_ws_t *ws, apr_size_t max);
void weft_ws_set_read_deadline(weft_ws_t *ws, apr_time_t deadline);
void weft_ws_set_write_deadline(weft_ws_t *ws, apr_time_t deadline);

#endif /* WEFT_MOD_UPGRADE_WS_H */
