/*
 * mod_upgrade.c -- protocol upgrades as a module: runs the `upgrade`
 * optional hook for a handler that asks to upgrade its request, provides
 * WebSocket (ws.c) as the first protocol on that hook, publishes the API
 * of weft_upgrade.h as optional functions, and ships the websocket-echo
 * handler.
 */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "ws.h"

/* The per-server configuration: WebSocket's directives. */
typedef struct {
    apr_size_t ws_max_message;            /* WebSocketMaxMessage */
    apr_interval_time_t ws_close_timeout; /* WebSocketCloseTimeout */
} upgrade_config_t;

/* A registered implementation of the upgrade hook, as APR-util stores it
 * (the layout APR_DECLARE_EXTERNAL_HOOK would give weft_LINK_upgrade_t). */
typedef struct {
    weft_HOOK_upgrade_t *fn;
    const char *module;
    const char *const *predecessors;
    const char *const *successors;
    int order;
} upgrade_link_t;

WEFT_DECLARE_MODULE(upgrade); /* defined below; the hooks need it */

static void *upgrade_create_config(apr_pool_t *p, weft_server_t *s)
{
    upgrade_config_t *c = apr_pcalloc(p, sizeof(*c));

    c->ws_max_message = WEFT_WS_DEFAULT_MAX_MESSAGE;
    c->ws_close_timeout = apr_time_from_sec(5);
    return c;
}

static const weft_directive_t upgrade_directives[] = {
    WEFT_DIRECTIVE_SLOT("WebSocketMaxMessage", WEFT_ARGS_ONE, weft_set_size,
                        upgrade_config_t, ws_max_message,
                        "WebSocketMaxMessage SIZE: the largest WebSocket "
                        "message or frame read (16M; 0: no limit); more "
                        "closes with 1009"),
    WEFT_DIRECTIVE_SLOT("WebSocketCloseTimeout", WEFT_ARGS_ONE,
                        weft_set_duration, upgrade_config_t, ws_close_timeout,
                        "WebSocketCloseTimeout DURATION: how long a closing "
                        "WebSocket waits for the peer's close (5s; 0: no "
                        "limit)"),
    WEFT_DIRECTIVE_END,
};

/* ---- the upgrade hook and weft_upgrade ------------------------------------ */

/* RUN_FIRST over the hook's implementations (APR-util offers RUN_ALL
 * only for optional hooks): the first that does not decline wins. */
static apr_status_t run_upgrade(weft_rw_t *w, weft_request_t *r,
                                const char *protocol, void **session)
{
    apr_array_header_t *a = apr_optional_hook_get("upgrade");
    const upgrade_link_t *l;
    int i;

    if (a == NULL)
        return APR_ENOTIMPL;
    l = (const upgrade_link_t *)a->elts;
    for (i = 0; i < a->nelts; i++) {
        int rc = l[i].fn(w, r, protocol, session);
        if (rc == WEFT_DECLINED)
            continue;
        if (rc == WEFT_OK)
            return APR_SUCCESS;
        return rc == WEFT_DONE ? WEFT_UPGRADE_EREFUSED : WEFT_UPGRADE_EFAILED;
    }
    return APR_ENOTIMPL;
}

static apr_status_t weft_upgrade(weft_rw_t *w, weft_request_t *r,
                                 const char *protocol, void **session)
{
    const char *v, *tok;
    apr_size_t n;

    *session = NULL;
    if (protocol != NULL)
        return run_upgrade(w, r, protocol, session);
    /* The client's tokens in its order; "websocket/13" stays whole. */
    v = weft_req_header(r, "Upgrade");
    if (v == NULL)
        return APR_ENOTIMPL;
    while ((tok = ws_token_next(&v, &n)) != NULL) {
        apr_status_t rv = run_upgrade(
            w, r, apr_pstrmemdup(weft_req_pool(r), tok, n), session);
        if (rv != APR_ENOTIMPL)
            return rv;
    }
    return APR_ENOTIMPL;
}

/* ---- WebSocket on the hook ------------------------------------------------ */

static void ws_config(weft_request_t *r, ws_config_t *wc)
{
    upgrade_config_t *c =
        weft_module_config(weft_req_server(r), &upgrade_module);

    wc->max_message = c->ws_max_message;
    wc->close_timeout = c->ws_close_timeout;
}

static int upgrade_websocket(weft_rw_t *w, weft_request_t *r,
                             const char *protocol, void **session)
{
    ws_config_t wc;

    if (strcasecmp(protocol, "websocket") != 0)
        return WEFT_DECLINED;
    ws_config(r, &wc);
    return ws_handshake(w, r, &wc, (weft_ws_t **)session);
}

/* Always mod_upgrade's WebSocket, whoever else claims "websocket". */
static apr_status_t weft_ws_accept(weft_rw_t *w, weft_request_t *r,
                                   weft_ws_t **ws)
{
    ws_config_t wc;
    int rc;

    *ws = NULL;
    ws_config(r, &wc);
    rc = ws_handshake(w, r, &wc, ws);
    if (rc == WEFT_OK)
        return APR_SUCCESS;
    return rc == WEFT_DONE ? WEFT_UPGRADE_EREFUSED : WEFT_UPGRADE_EFAILED;
}

/*
 * websocket-echo: sends every message back with its type until the peer
 * closes (or breaks the protocol, or Shutdown says 1001), then ends the
 * session.  The blocking loop is the whole API in use.
 */
static void ws_echo_handler(weft_rw_t *w, weft_request_t *r)
{
    weft_ws_t *ws;

    if (weft_ws_accept(w, r, &ws) != APR_SUCCESS)
        return; /* refused: the 400 or 426 is written */
    for (;;) {
        const char *data;
        apr_size_t len;
        int type;

        if (weft_ws_read(ws, &type, &data, &len) != APR_SUCCESS)
            break;
        if (weft_ws_write(ws, type, data, len) != APR_SUCCESS)
            break;
    }
    weft_ws_close(ws, WEFT_WS_CLOSE_NORMAL, NULL);
}

/* ---- the module ----------------------------------------------------------- */

static int upgrade_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                               weft_server_t *s)
{
    apr_status_t rv = ws_registry_init(pconf);

    if (rv != APR_SUCCESS) {
        weft_log_error(WEFT_LOG_EMERG, rv, "mod_upgrade: cannot start");
        return WEFT_ERROR;
    }
    return WEFT_OK;
}

static void upgrade_register_hooks(apr_pool_t *p)
{
    /* The registries live in apr_hook_global_pool, set by now. */
    APR_REGISTER_OPTIONAL_FN(weft_upgrade);
    APR_REGISTER_OPTIONAL_FN(weft_ws_accept);
    APR_REGISTER_OPTIONAL_FN(weft_ws_read);
    APR_REGISTER_OPTIONAL_FN(weft_ws_write);
    APR_REGISTER_OPTIONAL_FN(weft_ws_close);
    APR_REGISTER_OPTIONAL_FN(weft_ws_close_code);
    APR_REGISTER_OPTIONAL_FN(weft_ws_set_max_message);
    APR_REGISTER_OPTIONAL_FN(weft_ws_set_read_deadline);
    APR_REGISTER_OPTIONAL_FN(weft_ws_set_write_deadline);
    weft_optional_hook_upgrade(upgrade_websocket, NULL, NULL, WEFT_HOOK_MIDDLE);
    weft_hook_post_config(upgrade_post_config, NULL, NULL, WEFT_HOOK_MIDDLE);
    weft_handler_register("websocket-echo", ws_echo_handler);
}

WEFT_DECLARE_MODULE(upgrade) = {
    WEFT_MODULE_HEADER,     /* magic and ABI version */
    "upgrade",              /* name, for logs and hook ordering */
    upgrade_directives,     /* WebSocketMaxMessage, WebSocketCloseTimeout */
    upgrade_create_config,  /* their defaults */
    upgrade_register_hooks, /* optional functions, the upgrade hook, and
                               the websocket-echo handler */
};
