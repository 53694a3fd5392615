/*
 * weft_hooks.c -- the implementation of every hook weft_hooks.h declares.
 * APR-util's macros keep all of a file's hooks in one static table, so the
 * core's hooks live together here.
 */
#include "weft_core.h"

APR_HOOK_STRUCT(APR_HOOK_LINK(test_config) APR_HOOK_LINK(post_config)
                    APR_HOOK_LINK(on_shutdown) APR_HOOK_LINK(conn_context)
                        APR_HOOK_LINK(conn_state) APR_HOOK_LINK(pre_connection)
                            APR_HOOK_LINK(process_connection)
                                APR_HOOK_LINK(expect)
                                    APR_HOOK_LINK(log_transaction)
                                        APR_HOOK_LINK(reopen_logs)
                                            APR_HOOK_LINK(pre_exit))

APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(weft, WEFT, int, test_config,
                                    (apr_pool_t * pconf, apr_pool_t *ptemp,
                                     weft_server_t *s, const char **err),
                                    (pconf, ptemp, s, err), WEFT_OK,
                                    WEFT_DECLINED)

APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(weft, WEFT, int, post_config,
                                    (apr_pool_t * pconf, apr_pool_t *ptemp,
                                     weft_server_t *s),
                                    (pconf, ptemp, s), WEFT_OK, WEFT_DECLINED)

APR_IMPLEMENT_EXTERNAL_HOOK_VOID(weft, WEFT, on_shutdown, (weft_server_t * s),
                                 (s))

APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(weft, WEFT, int, conn_context,
                                    (weft_conn_t * c, weft_ctx_t **ctx),
                                    (c, ctx), WEFT_OK, WEFT_DECLINED)

APR_IMPLEMENT_EXTERNAL_HOOK_VOID(weft, WEFT, conn_state,
                                 (weft_conn_t * c, int state), (c, state))

APR_IMPLEMENT_EXTERNAL_HOOK_RUN_ALL(weft, WEFT, int, pre_connection,
                                    (weft_conn_t * c), (c), WEFT_OK,
                                    WEFT_DECLINED)

APR_IMPLEMENT_EXTERNAL_HOOK_RUN_FIRST(weft, WEFT, int, process_connection,
                                      (weft_conn_t * c), (c), WEFT_DECLINED)

APR_IMPLEMENT_EXTERNAL_HOOK_RUN_FIRST(weft, WEFT, int, expect,
                                      (weft_request_t * r, const char *value),
                                      (r, value), WEFT_DECLINED)

APR_IMPLEMENT_EXTERNAL_HOOK_VOID(weft, WEFT, log_transaction,
                                 (weft_request_t * r), (r))

APR_IMPLEMENT_EXTERNAL_HOOK_VOID(weft, WEFT, reopen_logs, (weft_server_t * s),
                                 (s))

APR_IMPLEMENT_EXTERNAL_HOOK_VOID(weft, WEFT, pre_exit, (weft_server_t * s), (s))
