/*
 * weft_hooks.h -- the core's hook table.  Each hook says its run mode and
 * the thread it runs on.  Modules register in their register_hooks with
 * weft_hook_NAME(fn, predecessors, successors, WEFT_HOOK_FIRST|MIDDLE|LAST);
 * predecessor and successor lists name modules by their weft_module_t name.
 * The core sorts every hook once, after the configuration is read.
 */
#ifndef WEFT_HOOKS_H
#define WEFT_HOOKS_H

#include <apr_hooks.h>

#include "weft_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_HOOK_REALLY_FIRST APR_HOOK_REALLY_FIRST
#define WEFT_HOOK_FIRST APR_HOOK_FIRST
#define WEFT_HOOK_MIDDLE APR_HOOK_MIDDLE
#define WEFT_HOOK_LAST APR_HOOK_LAST
#define WEFT_HOOK_REALLY_LAST APR_HOOK_REALLY_LAST

/*
 * test_config -- RUN_ALL, main thread, after every configuration file was
 * read and before anything is bound.  `weftd -t` runs it and stops; a
 * normal start runs it too, so a file that passes -t starts.  A module
 * checks what single directives could not (conflicts between them) and
 * returns WEFT_OK or WEFT_DECLINED, or WEFT_ERROR with *err set to a line
 * made by weft_config_errorf() (FILE:LINE: DIRECTIVE: message).
 */
APR_DECLARE_EXTERNAL_HOOK(weft, WEFT, int, test_config,
                          (apr_pool_t * pconf, apr_pool_t *ptemp,
                           weft_server_t *s, const char **err))

/*
 * post_config -- RUN_ALL, main thread, once at start after test_config and
 * the error log is open, before listeners are bound and before any other
 * thread exists.  Allocate process-lifetime state from pconf.  Return
 * WEFT_OK or WEFT_DECLINED; anything else stops the start (log why first).
 */
APR_DECLARE_EXTERNAL_HOOK(weft, WEFT, int, post_config,
                          (apr_pool_t * pconf, apr_pool_t *ptemp,
                           weft_server_t *s))

/*
 * conn_context -- RUN_ALL, on the listener thread, once per accepted
 * connection before its owner starts (Go's ConnContext).  *ctx is the
 * connection's context so far; a module may replace it with a child of it
 * (weft_ctx_with_value(*ctx, weft_conn_pool(c), ...)).  Must not block.
 */
APR_DECLARE_EXTERNAL_HOOK(weft, WEFT, int, conn_context,
                          (weft_conn_t * c, weft_ctx_t **ctx))

/*
 * conn_state -- VOID, on the thread making the transition, after the new
 * state is stored (Go's ConnState): new on the listener thread, active,
 * idle and closed on the owner, hijacked on the hijacking handler's
 * thread.  In order per connection.  Must not block or call back into the
 * server's shutdown.
 */
APR_DECLARE_EXTERNAL_HOOK(weft, WEFT, void, conn_state,
                          (weft_conn_t * c, int state))

/*
 * pre_connection -- RUN_ALL, on the owner thread before the first request
 * (TLS handshakes, under their own deadline).  Return WEFT_OK or
 * WEFT_DECLINED to go on; anything else closes the connection quietly.
 */
APR_DECLARE_EXTERNAL_HOOK(weft, WEFT, int, pre_connection, (weft_conn_t * c))

/*
 * process_connection -- RUN_FIRST, on the owner thread after
 * pre_connection (Go's TLSNextProto).  Return WEFT_DECLINED to let the
 * core speak HTTP/1.1; any other value claims the connection: it is marked
 * hijacked without running conn_state, and the claiming module owns it
 * (it must close its transport).
 */
APR_DECLARE_EXTERNAL_HOOK(weft, WEFT, int, process_connection,
                          (weft_conn_t * c))

/*
 * expect -- RUN_FIRST, on the owner thread, for a request carrying an
 * Expect field, before the handler.  A module that implements the
 * expectation returns WEFT_OK; when every module declines, the core
 * answers 417 Expectation Failed and closes the connection.
 */
APR_DECLARE_EXTERNAL_HOOK(weft, WEFT, int, expect,
                          (weft_request_t * r, const char *value))

/*
 * log_transaction -- VOID, on the owner thread once a response is
 * complete (or the request was refused before a handler ran, with what is
 * known of it: method, target and protocol may be NULL).  Connections that
 * never sent a request are not logged.  Must not block on I/O for long:
 * this thread serves the connection's next request.
 */
APR_DECLARE_EXTERNAL_HOOK(weft, WEFT, void, log_transaction,
                          (weft_request_t * r))

/*
 * reopen_logs -- VOID, on the signal thread on SIGUSR1 (logrotate), after
 * the error log was reopened.  Reopen what you write to.
 */
APR_DECLARE_EXTERNAL_HOOK(weft, WEFT, void, reopen_logs, (weft_server_t * s))

/*
 * pre_exit -- VOID, on the main thread when the process is about to exit
 * without destroying the server (handlers still running or hijacked
 * connections open die with it): flush buffered output now, since no
 * pool cleanup will run.  Other threads may still be working.
 */
APR_DECLARE_EXTERNAL_HOOK(weft, WEFT, void, pre_exit, (weft_server_t * s))

/*
 * on_shutdown -- VOID (every function runs), on the thread that started the
 * shutdown or close, after listeners stop accepting (Go's
 * RegisterOnShutdown).  Must not block: start the work and return.
 */
APR_DECLARE_EXTERNAL_HOOK(weft, WEFT, void, on_shutdown, (weft_server_t * s))

#ifdef __cplusplus
}
#endif

#endif /* WEFT_HOOKS_H */
