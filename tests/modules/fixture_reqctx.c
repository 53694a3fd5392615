/*
 * fixture_reqctx.c -- a test module for the request context's life: the
 * handler `reqctx` answers /ctx/early with whether the context it gets is
 * live, and /ctx/late without asking for one; the access-log hook (after
 * the handler) asks for each one's context and records whether it is
 * done, why, and whether it is the one the handler had; /ctx/report
 * writes those records.  Every other path goes to `testapp`.
 */
#include <pthread.h>
#include <string.h>

#include <apr_strings.h>

#include "weft.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char report[4096];       /* guarded by mu */
static apr_size_t report_len;   /* guarded by mu */
static const weft_ctx_t *early; /* guarded by mu: /ctx/early's */

static void reqctx_handler(weft_rw_t *w, weft_request_t *r)
{
    const char *path = weft_req_path(r);
    weft_handler_fn *next;

    if (strcmp(path, "/ctx/early") == 0) {
        weft_ctx_t *ctx = weft_req_ctx(r);
        pthread_mutex_lock(&mu);
        early = ctx;
        pthread_mutex_unlock(&mu);
        weft_rw_printf(w, "live %d\n", ctx != NULL && !weft_ctx_done(ctx));
    } else if (strcmp(path, "/ctx/late") == 0) {
        weft_rw_puts(w, "late\n");
    } else if (strcmp(path, "/ctx/report") == 0) {
        pthread_mutex_lock(&mu);
        weft_rw_write(w, report, report_len);
        report_len = 0;
        pthread_mutex_unlock(&mu);
    } else if ((next = weft_handler_find("testapp")) != NULL) {
        next(w, r);
    } else {
        weft_rw_error(w, 404, "404 page not found");
    }
}

static void reqctx_log(weft_request_t *r)
{
    const char *path = weft_req_path(r);
    int is_early = strcmp(path, "/ctx/early") == 0;
    weft_ctx_t *ctx;
    char line[256];

    if (!is_early && strcmp(path, "/ctx/late") != 0)
        return;
    ctx = weft_req_ctx(r);
    pthread_mutex_lock(&mu);
    apr_snprintf(line, sizeof(line), "%s done %d cause %s same %s\n", path,
                 ctx != NULL && weft_ctx_done(ctx),
                 ctx != NULL && weft_ctx_cause(ctx) == WEFT_CTX_CANCELED
                     ? "canceled"
                     : "other",
                 !is_early      ? "-"
                 : ctx == early ? "yes"
                                : "no");
    if (report_len + strlen(line) < sizeof(report)) {
        memcpy(report + report_len, line, strlen(line));
        report_len += strlen(line);
    }
    pthread_mutex_unlock(&mu);
}

static void reqctx_register_hooks(apr_pool_t *p)
{
    weft_hook_log_transaction(reqctx_log, NULL, NULL, WEFT_HOOK_MIDDLE);
    weft_handler_register("reqctx", reqctx_handler);
}

WEFT_DECLARE_MODULE(reqctx) = {
    WEFT_MODULE_HEADER,    /* magic and ABI version */
    "reqctx",              /* name, for logs and hook ordering */
    NULL,                  /* no directives */
    NULL,                  /* no per-server config */
    reqctx_register_hooks, /* the handler and the log hook */
};
