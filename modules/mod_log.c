/*
 * mod_log.c -- access logs: the AccessLog directive, and the hooks that
 * drive the files: post_config opens them and starts the flusher,
 * log_transaction renders and queues each request's line, reopen_logs
 * rotates them on SIGUSR1, on_shutdown, pre_exit and the server pool's
 * end flush.
 */
#include <apr_hash.h>
#include <apr_strings.h>
#include <string.h>

#include "log_private.h"

/* Lines wait in buffers at most this long (the "at least once a
 * second"). */
#define FLUSH_INTERVAL apr_time_from_sec(1)
/* A line starts on the owner's stack; longer ones grow into the request
 * pool. */
#define LINE_STACK 2048

/* One AccessLog line. */
typedef struct {
    const char *path;        /* resolved against ServerRoot */
    const char *file;        /* where the directive was written */
    unsigned line;           /* ... for errors found later */
    const log_format_t *fmt; /* shared by every log naming one format */
    log_file_t *out;         /* opened by post_config, NULL before */
} log_entry_t;

/*
 * The module's per-server config.  logs and named are filled while the
 * files are read and immutable afterwards; files and flusher are set by
 * post_config on the main thread before any other thread exists, and
 * released by the server pool's cleanup after serving ended.
 */
typedef struct {
    apr_array_header_t *logs; /* of log_entry_t, in directive order */
    apr_hash_t *named;        /* format name -> compiled format */
    log_file_t **files;       /* logs' files, for the flusher */
    log_flusher_t *flusher;   /* NULL until post_config */
} log_config_t;

WEFT_DECLARE_MODULE(log); /* defined below; the hooks need it */

static void *log_create_config(apr_pool_t *p, weft_server_t *s)
{
    log_config_t *c = apr_pcalloc(p, sizeof(*c));

    c->logs = apr_array_make(p, 2, sizeof(log_entry_t));
    c->named = apr_hash_make(p);
    return c;
}

/* ---- the directive ------------------------------------------------------- */

/* A named format is compiled once, so logs that share it share the line
 * each request renders. */
static const char *format_for(const weft_cmd_t *cmd, log_config_t *c,
                              const char *spec, const log_format_t **out)
{
    const char *why;

    if (log_format_is_named(spec)) {
        *out = apr_hash_get(c->named, spec, APR_HASH_KEY_STRING);
        if (*out != NULL)
            return NULL;
    }
    why = log_format_compile(cmd->pool, spec, out);
    if (why == NULL && log_format_is_named(spec))
        apr_hash_set(c->named, apr_pstrdup(cmd->pool, spec),
                     APR_HASH_KEY_STRING, *out);
    return why;
}

static const char *set_access_log(const weft_cmd_t *cmd, void *mconfig,
                                  int argc, const char *const *argv)
{
    log_config_t *c = mconfig;
    const log_format_t *fmt;
    log_entry_t *e;
    const char *why;

    if (argv[0][0] == '\0')
        return "needs a file path";
    if (argv[0][0] == '|')
        return "piped logs are not supported: give a file path";
    why = format_for(cmd, c, argc > 1 ? argv[1] : "combined", &fmt);
    if (why != NULL)
        return why;
    e = apr_array_push(c->logs);
    e->path = weft_server_root_relative(cmd->pool, cmd->server, argv[0]);
    e->file = apr_pstrdup(cmd->pool, cmd->file);
    e->line = cmd->line;
    e->fmt = fmt;
    e->out = NULL;
    return NULL;
}

static const weft_directive_t log_directives[] = {
    WEFT_DIRECTIVE("AccessLog", WEFT_ARGS_ONE_OR_TWO, set_access_log,
                   "AccessLog PATH [FORMAT]: log every request to PATH; "
                   "FORMAT is common, combined (the default), json, or "
                   "Apache % directives"),
    WEFT_DIRECTIVE_END,
};

/* ---- start and stop ------------------------------------------------------ */

/* The server pool's end: stop the flusher, write what is left, close. */
static apr_status_t log_cleanup(void *data)
{
    log_config_t *c = data;
    int i;

    if (c->flusher != NULL)
        log_flusher_stop(c->flusher);
    c->flusher = NULL;
    for (i = 0; i < c->logs->nelts; i++) {
        log_entry_t *e = &APR_ARRAY_IDX(c->logs, i, log_entry_t);
        if (e->out != NULL)
            log_file_close(e->out);
        e->out = NULL;
    }
    return APR_SUCCESS;
}

static int log_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                           weft_server_t *s)
{
    log_config_t *c = weft_module_config(s, &log_module);
    apr_status_t rv;
    int i;

    if (c == NULL || c->logs->nelts == 0)
        return WEFT_DECLINED;
    /* First, so files opened before a failure are closed too. */
    apr_pool_cleanup_register(pconf, c, log_cleanup, apr_pool_cleanup_null);
    c->files =
        apr_pcalloc(pconf, sizeof(*c->files) * (apr_size_t)c->logs->nelts);
    for (i = 0; i < c->logs->nelts; i++) {
        log_entry_t *e = &APR_ARRAY_IDX(c->logs, i, log_entry_t);
        rv = log_file_open(e->path, &e->out);
        if (rv != APR_SUCCESS) {
            e->out = NULL;
            weft_log_error(WEFT_LOG_EMERG, rv, "%s",
                           weft_config_errorf(ptemp, e->file, e->line,
                                              "AccessLog", "cannot open %s",
                                              e->path));
            return WEFT_ERROR;
        }
        c->files[i] = e->out;
    }
    /* A thread made here is the only one so far; it inherits the main
     * thread's blocked signals, so it never takes SIGTERM or SIGUSR1. */
    rv = log_flusher_start(c->files, c->logs->nelts, FLUSH_INTERVAL,
                           &c->flusher);
    if (rv != APR_SUCCESS) {
        weft_log_error(WEFT_LOG_EMERG, rv,
                       "AccessLog: cannot start the "
                       "flusher thread");
        return WEFT_ERROR;
    }
    return WEFT_OK;
}

/* ---- the hooks that serve ----------------------------------------------- */

static void log_transaction(weft_request_t *r)
{
    log_config_t *c = weft_module_config(weft_req_server(r), &log_module);
    const log_format_t *rendered = NULL;
    char stack[LINE_STACK];
    log_line_t line;
    apr_time_t now;
    int i;

    if (c == NULL || c->logs->nelts == 0)
        return;
    now = apr_time_now();
    line.p = stack;
    line.cap = sizeof(stack);
    line.len = 0;
    line.pool = weft_req_pool(r);
    for (i = 0; i < c->logs->nelts; i++) {
        log_entry_t *e = &APR_ARRAY_IDX(c->logs, i, log_entry_t);
        if (e->out == NULL)
            continue; /* not opened: a server that was never opened */
        if (e->fmt != rendered) {
            line.len = 0;
            log_format_render(e->fmt, r, now, &line);
            rendered = e->fmt;
        }
        log_file_append(e->out, line.p, line.len);
    }
}

/* SIGUSR1, on the signal thread, after the error log was reopened. */
static void log_reopen(weft_server_t *s)
{
    log_config_t *c = weft_module_config(s, &log_module);
    int i;

    if (c == NULL)
        return;
    for (i = 0; i < c->logs->nelts; i++) {
        log_entry_t *e = &APR_ARRAY_IDX(c->logs, i, log_entry_t);
        apr_status_t rv;
        if (e->out == NULL)
            continue;
        rv = log_file_reopen(e->out);
        if (rv != APR_SUCCESS)
            weft_log_error(WEFT_LOG_ERR, rv,
                           "AccessLog: cannot reopen %s (still writing to "
                           "the old file)",
                           e->path);
    }
}

/*
 * Shutdown has begun, or the process is about to exit without destroying
 * the server (pre_exit: a Close with handlers still running): flush, and
 * from now on write each line as it comes, since in-flight requests still
 * log and no pool cleanup may run.
 */
static void log_on_shutdown(weft_server_t *s)
{
    log_config_t *c = weft_module_config(s, &log_module);
    int i;

    if (c == NULL)
        return;
    for (i = 0; i < c->logs->nelts; i++) {
        log_entry_t *e = &APR_ARRAY_IDX(c->logs, i, log_entry_t);
        if (e->out != NULL)
            log_file_write_through(e->out);
    }
}

static void log_register_hooks(apr_pool_t *p)
{
    weft_hook_post_config(log_post_config, NULL, NULL, WEFT_HOOK_MIDDLE);
    weft_hook_log_transaction(log_transaction, NULL, NULL, WEFT_HOOK_MIDDLE);
    weft_hook_reopen_logs(log_reopen, NULL, NULL, WEFT_HOOK_MIDDLE);
    weft_hook_on_shutdown(log_on_shutdown, NULL, NULL, WEFT_HOOK_MIDDLE);
    weft_hook_pre_exit(log_on_shutdown, NULL, NULL, WEFT_HOOK_MIDDLE);
}

WEFT_DECLARE_MODULE(log) = {
    WEFT_MODULE_HEADER, /* magic and ABI version */
    "log",              /* name, for logs and hook ordering */
    log_directives,     /* AccessLog */
    log_create_config,  /* the logs and their files */
    log_register_hooks, /* post_config, log_transaction, reopen, shutdown */
};
