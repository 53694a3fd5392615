/*
 * mod_mux.c -- Go 1.22+ ServeMux as a module: `Handle "PATTERN" HANDLER`
 * lines, checked together by test_config as Go's Handle would (invalid
 * patterns, conflicts), and the handler "mux" that routes every request.
 */
#include <apr_strings.h>
#include <string.h>

#include "mux.h"

/* One Handle line, as written. */
typedef struct {
    const char *pattern;
    const char *handler;
    const char *file;
    unsigned line;
} mux_handle_t;

/* Per-server config.  Immutable once the server opens: any thread. */
typedef struct {
    apr_array_header_t *handles; /* of mux_handle_t, in file order */
    mux_t *mux;                  /* built by test_config, in pconf */
} mux_config_t;

extern WEFT_DECLARE_DATA const weft_module_t mux_module;

static void mux_handler(weft_rw_t *w, weft_request_t *r);

static void *mux_create_config(apr_pool_t *p, weft_server_t *s)
{
    mux_config_t *c = apr_pcalloc(p, sizeof(*c));

    c->handles = apr_array_make(p, 8, sizeof(mux_handle_t));
    return c;
}

/* Handle "PATTERN" HANDLER: recorded here, checked once the files are read
 * (the handler's module may be loaded further down). */
static const char *add_handle(const weft_cmd_t *cmd, void *mconfig, int argc,
                              const char *const *argv)
{
    mux_config_t *c = mconfig;
    mux_handle_t *h = apr_array_push(c->handles);

    h->pattern = apr_pstrdup(cmd->pool, argv[0]);
    h->handler = apr_pstrdup(cmd->pool, argv[1]);
    h->file = cmd->file;
    h->line = cmd->line;
    return NULL;
}

static const weft_directive_t mux_directives[] = {
    WEFT_DIRECTIVE("Handle", WEFT_ARGS_TWO, add_handle,
                   "Handle \"PATTERN\" HANDLER: route requests matching a "
                   "Go ServeMux pattern ([METHOD ][HOST]/[PATH]) to HANDLER"),
    WEFT_DIRECTIVE_END,
};

/*
 * Registers every Handle line in file order, as a Go program calling
 * Handle would: the first invalid pattern, unknown handler or conflict
 * stops the start, at its line.  `weftd -t` runs this too.
 */
static int mux_test_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                           weft_server_t *s, const char **err)
{
    mux_config_t *c = weft_module_config(s, &mux_module);
    mux_t *m;
    int i;

    if (c == NULL)
        return WEFT_DECLINED;
    m = mux_create(pconf);
    for (i = 0; i < c->handles->nelts; i++) {
        const mux_handle_t *h = &APR_ARRAY_IDX(c->handles, i, mux_handle_t);
        weft_handler_fn *fn = weft_handler_find(h->handler);
        const char *why = NULL;

        /* Go checks the pattern is not empty before the handler. */
        if (*h->pattern == '\0')
            why = "invalid pattern \"\": empty pattern";
        else if (fn == NULL)
            why = apr_psprintf(ptemp, "no handler named '%s' (registered: %s)",
                               h->handler, weft_handler_names(ptemp));
        else if (fn == mux_handler)
            /* Go would recurse until the stack runs out. */
            why = "the mux cannot be its own handler";
        else
            why = mux_register(m, h->pattern,
                               apr_psprintf(ptemp, "%s:%u", h->file, h->line),
                               fn, NULL);
        if (why != NULL) {
            *err = weft_config_errorf(pconf, h->file, h->line, "Handle", "%s",
                                      why);
            return WEFT_ERROR;
        }
    }
    c->mux = m;
    return WEFT_OK;
}

/* Go's http.Redirect with code 301: Location, and for GET a short HTML
 * body (none for HEAD or other methods). */
static void send_redirect(weft_rw_t *w, weft_request_t *r, const char *url)
{
    apr_table_t *h = weft_rw_headers(w);
    const char *method = weft_req_method(r);
    int get = strcmp(method, "GET") == 0;

    apr_table_set(h, "Location", url);
    if (get || strcmp(method, "HEAD") == 0)
        apr_table_set(h, "Content-Type", "text/html; charset=utf-8");
    weft_rw_write_header(w, 301);
    if (get)
        weft_rw_printf(w, "<a href=\"%s\">%s</a>.\n\n",
                       mux_html_escape(weft_req_pool(r), url),
                       weft_status_text(301));
}

/*
 * The root handler when no `Handler` is configured (Go's ServeMux
 * ServeHTTP): route, record the pattern and path values, run the handler.
 * Runs on the connection's thread; reads the tree without locks.
 */
static void mux_handler(weft_rw_t *w, weft_request_t *r)
{
    const mux_config_t *c = weft_module_config(weft_req_server(r), &mux_module);
    const char *uri = weft_req_uri(r);
    mux_request_t rq;
    mux_result_t res;

    if (c == NULL || c->mux == NULL || c->mux->patterns->nelts == 0) {
        /* No Handle lines: everything is 404, as without the module. */
        weft_rw_error(w, 404, "404 page not found");
        return;
    }
    rq.method = weft_req_method(r);
    rq.uri = uri;
    rq.host = weft_req_host(r);
    rq.path = weft_req_path(r);
    rq.raw_path = weft_req_raw_path(r);
    rq.query = weft_req_query(r);
    /* Go's URL.Host: a CONNECT's authority-form target, else nothing that
     * the mux reads. */
    rq.url_host =
        strcmp(rq.method, "CONNECT") == 0 && uri[0] != '/' ? rq.host : "";
    mux_find(c->mux, weft_req_pool(r), &rq, &res);

    switch (res.outcome) {
    case MUX_FOUND:
        weft_req_set_pattern(r, res.pattern_str, res.pattern->nnames,
                             res.pattern->names, res.values);
        res.pattern->handler(w, r);
        return;
    case MUX_REDIRECT:
        weft_req_set_pattern(r, res.pattern_str, 0, NULL, NULL);
        send_redirect(w, r, res.location);
        return;
    case MUX_NOT_ALLOWED:
        weft_req_set_pattern(r, "", 0, NULL, NULL);
        apr_table_set(weft_rw_headers(w), "Allow", res.allow);
        weft_rw_error(w, 405, "Method Not Allowed");
        return;
    case MUX_NOT_FOUND:
        weft_req_set_pattern(r, "", 0, NULL, NULL);
        weft_rw_error(w, 404, "404 page not found");
        return;
    case MUX_BAD_REQUEST:
        if (weft_req_proto_at_least(r, 1, 1))
            apr_table_set(weft_rw_headers(w), "Connection", "close");
        weft_rw_write_header(w, 400);
        return;
    }
}

static void mux_register_hooks(apr_pool_t *p)
{
    weft_handler_register("mux", mux_handler);
    weft_hook_test_config(mux_test_config, NULL, NULL, WEFT_HOOK_MIDDLE);
}

WEFT_DECLARE_DATA const weft_module_t mux_module = {
    WEFT_MODULE_HEADER, "mux", /* name */
    mux_directives,            /* Handle */
    mux_create_config,         /* the Handle lines and the built mux */
    mux_register_hooks,        /* the "mux" handler and test_config */
};
