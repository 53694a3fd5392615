/*
 * weft_upgrade.h -- protocol upgrades (mod_upgrade, `upgrade_module`): the
 * `upgrade` hook protocol modules register on, the call a handler makes to
 * upgrade its request, and WebSocket (RFC 6455), the first protocol, as a
 * blocking per-connection API in the style of Go's WebSocket packages.
 *
 * mod_upgrade exports nothing but its module symbol, so this API reaches
 * it through APR-util's optional functions and optional hooks, Apache's
 * mechanism for APIs that a module (not the core) declares.  A module that
 * uses it loads after nothing in particular: it fetches the functions in
 * its post_config hook (or lazily, on first use), when every LoadModule
 * has run; NULL means mod_upgrade is not loaded.
 *
 *     static weft_ws_api_t ws;
 *
 *     static int my_post_config(apr_pool_t *p, apr_pool_t *t,
 *                               weft_server_t *s)
 *     {
 *         if (!weft_ws_api_get(&ws))
 *             weft_log_error(WEFT_LOG_WARN, 0, "mod_upgrade is not loaded");
 *         return WEFT_OK;
 *     }
 *
 *     static void chat(weft_rw_t *w, weft_request_t *r)
 *     {
 *         weft_ws_t *c;
 *         int type;
 *         const char *msg;
 *         apr_size_t n;
 *
 *         if (ws.accept == NULL || ws.accept(w, r, &c) != APR_SUCCESS)
 *             return;               -- refused: the 400/426 is written
 *         while (ws.read(c, &type, &msg, &n) == APR_SUCCESS)
 *             if (ws.write(c, type, msg, n) != APR_SUCCESS)
 *                 break;
 *         ws.close(c, WEFT_WS_CLOSE_NORMAL, NULL);   -- always, once
 *     }
 */
#ifndef WEFT_UPGRADE_H
#define WEFT_UPGRADE_H

#include <apr_optional.h>
#include <apr_optional_hooks.h>

#include "weft_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Errors of this API.  The core uses APR_OS_START_USERERR + 1..99;
 * mod_upgrade takes + 200..219.
 */
/* The protocol refused the handshake and answered it (a 400 or 426 with
 * the reason in the body): return from the handler. */
#define WEFT_UPGRADE_EREFUSED (APR_OS_START_USERERR + 200)
/* The protocol took the connection but could not start (the 101 could not
 * be sent): the connection is closed; return from the handler. */
#define WEFT_UPGRADE_EFAILED (APR_OS_START_USERERR + 201)
/* The WebSocket closing handshake has begun or ended: a close frame was
 * received, or sent (by weft_ws_close, by Shutdown's 1001, or because the
 * peer broke the protocol).  weft_ws_close_code says which code. */
#define WEFT_WS_ECLOSED (APR_OS_START_USERERR + 202)

/* ---- the upgrade hook ------------------------------------------------- */

/*
 * upgrade -- RUN_FIRST, on the handler's thread (the connection's owner),
 * from weft_upgrade.  protocol is one token of the Upgrade field
 * ("websocket"), compared case-insensitively by the implementation.  An
 * implementation that does not speak it returns WEFT_DECLINED and touches
 * nothing; the first that does not decline wins and returns:
 *   WEFT_OK     upgraded: it hijacked the connection (weft_rw_hijack),
 *               sent its 101, and set *session to its own session object;
 *   WEFT_DONE   refused: it answered through w (4xx with the reason);
 *   WEFT_ERROR  it hijacked the connection and failed; the connection is
 *               closed.
 * Register from register_hooks (apr_hook_global_pool is set then):
 *
 *     weft_optional_hook_upgrade(my_upgrade, NULL, NULL, WEFT_HOOK_MIDDLE);
 *
 * mod_upgrade's WebSocket registers at WEFT_HOOK_MIDDLE; predecessor and
 * successor lists name modules, as for the core's hooks ("upgrade").
 */
typedef int weft_HOOK_upgrade_t(weft_rw_t *w, weft_request_t *r,
                                const char *protocol, void **session);
#define weft_optional_hook_upgrade(fn, pre, succ, order) \
    APR_OPTIONAL_HOOK(weft, upgrade, fn, pre, succ, order)

/*
 * Upgrades the request (the handler's own w and r, on its thread) by
 * running the upgrade hook for protocol, or, when protocol is NULL, for
 * each token of the request's Upgrade field in the client's order until
 * one is claimed.  Returns APR_SUCCESS with *session set (its type is the
 * claiming protocol's: a weft_ws_t for mod_upgrade's "websocket"; it lives
 * in the hijacked connection's pool), WEFT_UPGRADE_EREFUSED (answered;
 * return), WEFT_UPGRADE_EFAILED (connection closed; return), or
 * APR_ENOTIMPL when no module speaks the protocol (nothing was written:
 * the handler answers).
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, weft_upgrade,
                        (weft_rw_t * w, weft_request_t *r, const char *protocol,
                         void **session));

/* ---- WebSocket ----------------------------------------------------------- */

/*
 * A WebSocket session (one connection).  Threads: one reader at a time
 * (weft_ws_read and the read-side setters), any number of writers
 * (weft_ws_write is serialised by the session's write lock, and never
 * interleaves with the reader's automatic pongs or with Shutdown's 1001),
 * and weft_ws_close once, after every other thread is done with it.
 * Memory: the session lives in the hijacked connection's pool and is freed
 * by weft_ws_close; the current message's buffer is the session's, bounded
 * by the maximum message size.
 */
typedef struct weft_ws_t weft_ws_t;

/* Message types (the frame opcodes).  PING and PONG only for writing:
 * reads answer pings by themselves and skip pongs. */
#define WEFT_WS_TEXT 1
#define WEFT_WS_BINARY 2
#define WEFT_WS_PING 9
#define WEFT_WS_PONG 10

/* Close codes (RFC 6455 section 7.4.1). */
#define WEFT_WS_CLOSE_NORMAL 1000
#define WEFT_WS_CLOSE_GOING_AWAY 1001
#define WEFT_WS_CLOSE_PROTOCOL_ERROR 1002
#define WEFT_WS_CLOSE_UNSUPPORTED 1003
#define WEFT_WS_CLOSE_NO_STATUS 1005 /* received a close with no code */
#define WEFT_WS_CLOSE_ABNORMAL 1006  /* connection lost without a close */
#define WEFT_WS_CLOSE_INVALID_DATA 1007
#define WEFT_WS_CLOSE_POLICY 1008
#define WEFT_WS_CLOSE_TOO_BIG 1009
#define WEFT_WS_CLOSE_EXTENSION 1010
#define WEFT_WS_CLOSE_INTERNAL 1011

/* WebSocketMaxMessage's default: 16 MiB. */
#define WEFT_WS_DEFAULT_MAX_MESSAGE (16 * 1024 * 1024)

/*
 * The WebSocket handshake, on the handler's thread: checks the request
 * (GET, HTTP/1.1, Connection: Upgrade, Upgrade: websocket,
 * Sec-WebSocket-Version: 13, a Sec-WebSocket-Key of 16 base64 bytes, no
 * body), hijacks the connection, sends the 101 and starts the session,
 * registered with Shutdown (weft_hijack_on_shutdown).  No subprotocol or
 * extension is negotiated.  A bad handshake is answered 400 (426 for a
 * missing upgrade or another version), always with
 * Sec-WebSocket-Version: 13 and the reason as a text/plain body, and
 * WEFT_UPGRADE_EREFUSED returned.  APR_SUCCESS sets *ws.  The same as
 * weft_upgrade(w, r, "websocket", ...) when no other module claims
 * "websocket" first.
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, weft_ws_accept,
                        (weft_rw_t * w, weft_request_t *r, weft_ws_t **ws));

/*
 * Reads the next message (the reader thread), blocking until one arrives.
 * Fragments are reassembled; pings are answered with pongs and pongs
 * skipped, in between.  On APR_SUCCESS *type is WEFT_WS_TEXT (valid UTF-8)
 * or WEFT_WS_BINARY, and *data and *len the message: the session's buffer,
 * followed by a NUL byte not counted in *len, valid until the next read or
 * the close.  Otherwise no message, and every later read fails too:
 *   WEFT_WS_ECLOSED  the peer's close frame arrived (it was answered with
 *                    the same code), or weft failed the connection for
 *                    the peer's mistake (close 1002 for a protocol error:
 *                    unmasked frame, RSV bits, unknown opcode, bad control
 *                    frame or fragmentation, bad close code; 1007 for text
 *                    that is not UTF-8; 1009 for a frame or message over
 *                    the maximum, refused on its declared length before
 *                    the payload is read), or a close was sent (after it,
 *                    data is discarded until the peer's close);
 *   APR_TIMEUP       the read deadline passed;
 *   another status   the connection broke (APR_EOF: closed without a
 *                    close frame).
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, weft_ws_read,
                        (weft_ws_t * ws, int *type, const char **data,
                         apr_size_t *len));

/*
 * Sends one message as a single frame: WEFT_WS_TEXT (the caller ensures
 * UTF-8) or WEFT_WS_BINARY of any size, or a WEFT_WS_PING or WEFT_WS_PONG
 * of at most 125 bytes.  Any thread; writers are serialised.  Blocks until
 * written or the write deadline.  APR_SUCCESS; APR_EINVAL for a bad type
 * or control size; WEFT_WS_ECLOSED once a close frame was sent; the
 * transport's error otherwise (the connection is then shut: a frame cut
 * short cannot be followed by another).
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, weft_ws_write,
                        (weft_ws_t * ws, int type, const void *data,
                         apr_size_t len));

/*
 * Ends the session and frees it, h2o's "dispose": call exactly once, from
 * any one thread, when no other thread uses ws.  Sends a close frame with
 * code and reason (at most 123 bytes are sent) unless one was sent already
 * (code 0 sends a close with no code), waits up to WebSocketCloseTimeout
 * for the peer's close frame (discarding data), then half-closes, drains
 * what the peer still sends until it closes or the same timeout, and
 * closes the connection (weft_hijack_close), which lets a Shutdown waiting
 * for it finish.  Returns APR_SUCCESS when the closing handshake
 * completed, WEFT_WS_ECLOSED when it did not (the peer did not answer, or
 * the connection broke); ws is freed either way.
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, weft_ws_close,
                        (weft_ws_t * ws, int code, const char *reason));

/*
 * How the session ended, for a reader after WEFT_WS_ECLOSED or an error:
 * the peer's close code when its close frame arrived (1005 when it had
 * none), else the code weft sent (1002, 1007, 1009, 1001 on Shutdown, or
 * weft_ws_close's), else 1006 when the connection broke, 0 while open.
 * *reason (if not NULL) gets the matching reason text ("" when none),
 * valid until weft_ws_close.  The reader thread.
 */
APR_DECLARE_OPTIONAL_FN(int, weft_ws_close_code,
                        (weft_ws_t * ws, const char **reason));

/* The largest message (and frame) weft_ws_read accepts, from the next
 * frame on; the default is WebSocketMaxMessage.  0: no limit but memory.
 * The reader thread. */
APR_DECLARE_OPTIONAL_FN(void, weft_ws_set_max_message,
                        (weft_ws_t * ws, apr_size_t max));

/*
 * Go's SetReadDeadline and SetWriteDeadline: absolute (apr_time_now()
 * clock), 0 for none, which is the default.  The read deadline is the
 * reader thread's; the write deadline is taken under the write lock and
 * applies to every writer, automatic pongs included.
 */
APR_DECLARE_OPTIONAL_FN(void, weft_ws_set_read_deadline,
                        (weft_ws_t * ws, apr_time_t deadline));
APR_DECLARE_OPTIONAL_FN(void, weft_ws_set_write_deadline,
                        (weft_ws_t * ws, apr_time_t deadline));

/*
 * Every WebSocket function at once, for a module's post_config: fills api
 * and returns 1, or 0 when mod_upgrade is not loaded (api is then zeroed).
 * Header-only; reads a table that is immutable once the server runs, so
 * any thread may call it.
 */
typedef struct weft_ws_api_t {
    APR_OPTIONAL_FN_TYPE(weft_upgrade) * upgrade;
    APR_OPTIONAL_FN_TYPE(weft_ws_accept) * accept;
    APR_OPTIONAL_FN_TYPE(weft_ws_read) * read;
    APR_OPTIONAL_FN_TYPE(weft_ws_write) * write;
    APR_OPTIONAL_FN_TYPE(weft_ws_close) * close;
    APR_OPTIONAL_FN_TYPE(weft_ws_close_code) * close_code;
    APR_OPTIONAL_FN_TYPE(weft_ws_set_max_message) * set_max_message;
    APR_OPTIONAL_FN_TYPE(weft_ws_set_read_deadline) * set_read_deadline;
    APR_OPTIONAL_FN_TYPE(weft_ws_set_write_deadline) * set_write_deadline;
} weft_ws_api_t;

static inline int weft_ws_api_get(weft_ws_api_t *api)
{
    api->upgrade = APR_RETRIEVE_OPTIONAL_FN(weft_upgrade);
    api->accept = APR_RETRIEVE_OPTIONAL_FN(weft_ws_accept);
    api->read = APR_RETRIEVE_OPTIONAL_FN(weft_ws_read);
    api->write = APR_RETRIEVE_OPTIONAL_FN(weft_ws_write);
    api->close = APR_RETRIEVE_OPTIONAL_FN(weft_ws_close);
    api->close_code = APR_RETRIEVE_OPTIONAL_FN(weft_ws_close_code);
    api->set_max_message = APR_RETRIEVE_OPTIONAL_FN(weft_ws_set_max_message);
    api->set_read_deadline =
        APR_RETRIEVE_OPTIONAL_FN(weft_ws_set_read_deadline);
    api->set_write_deadline =
        APR_RETRIEVE_OPTIONAL_FN(weft_ws_set_write_deadline);
    if (api->upgrade == NULL || api->accept == NULL || api->read == NULL ||
        api->write == NULL || api->close == NULL || api->close_code == NULL ||
        api->set_max_message == NULL || api->set_read_deadline == NULL ||
        api->set_write_deadline == NULL) {
        weft_ws_api_t none = { 0 };
        *api = none;
        return 0;
    }
    return 1;
}

#ifdef __cplusplus
}
#endif

#endif /* WEFT_UPGRADE_H */
