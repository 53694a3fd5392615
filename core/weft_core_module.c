/*
 * weft_core_module.c -- the core as a module: the directives of
 * contract/testapp.md and the process settings, declared in a table like
 * any module's, and the checks that need the whole file read.
 */
#include <apr_file_info.h>
#include <apr_strings.h>
#include <string.h>

#include "weft_core.h"

static void *core_create_config(apr_pool_t *p, weft_server_t *s)
{
    weft_core_config_t *c = apr_pcalloc(p, sizeof(*c));

    c->keep_alive = 1;
    c->shutdown_timeout = WEFT_DEFAULT_SHUTDOWN_TIMEOUT;
    c->mpm = "thread";
    c->threads = WEFT_DEFAULT_THREADS;
    c->response_buffer_size = WEFT_DEFAULT_RESPONSE_BUFFER;
    c->log_level = WEFT_LOG_NOTICE;
    c->listens = apr_array_make(p, 2, sizeof(weft_listen_t));
    return c;
}

static const char *set_server_root(const weft_cmd_t *cmd, void *mconfig,
                                   int argc, const char *const *argv)
{
    weft_core_config_t *c = mconfig;
    apr_finfo_t fi;
    char *abs;

    if (apr_filepath_merge(&abs, NULL, argv[0], 0, cmd->pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "'%s' is not a valid path", argv[0]);
    if (apr_stat(&fi, abs, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS ||
        fi.filetype != APR_DIR)
        return apr_psprintf(cmd->pool, "%s is not a directory", abs);
    c->server_root = abs;
    cmd->server->server_root_set = 1;
    return NULL;
}

static const char *load_module(const weft_cmd_t *cmd, void *mconfig, int argc,
                               const char *const *argv)
{
    return weft_module_load(cmd, argv[0], argv[1]);
}

static const char *set_handler(const weft_cmd_t *cmd, void *mconfig, int argc,
                               const char *const *argv)
{
    weft_core_config_t *c = mconfig;

    c->handler_name = apr_pstrdup(cmd->pool, argv[0]);
    cmd->server->handler_file = cmd->file;
    cmd->server->handler_line = cmd->line;
    return NULL;
}

static const char *add_listen(const weft_cmd_t *cmd, void *mconfig, int argc,
                              const char *const *argv)
{
    weft_core_config_t *c = mconfig;
    weft_listen_t l;
    const char *why;
    int i;

    memset(&l, 0, sizeof(l));
    why = weft_listen_parse(cmd->pool, argv[0], &l);
    if (why != NULL)
        return why;
    if (argc == 2) {
        if (strcasecmp(argv[1], "tls") != 0)
            return apr_psprintf(cmd->pool,
                                "unknown option '%s' (the only one is tls)",
                                argv[1]);
        l.tls = 1;
    }
    for (i = 0; i < c->listens->nelts; i++) {
        weft_listen_t *o = &APR_ARRAY_IDX(c->listens, i, weft_listen_t);
        /* Port 0 is a fresh kernel-chosen port each time: no clash. */
        if (o->port == l.port && l.port != 0 &&
            ((o->host == NULL && l.host == NULL) ||
             (o->host != NULL && l.host != NULL &&
              strcasecmp(o->host, l.host) == 0)))
            return apr_psprintf(cmd->pool, "%s is already listed at %s:%u",
                                argv[0], o->file, o->line);
    }
    l.file = cmd->file;
    l.line = cmd->line;
    *(weft_listen_t *)apr_array_push(c->listens) = l;
    return NULL;
}

static const char *set_mpm(const weft_cmd_t *cmd, void *mconfig, int argc,
                           const char *const *argv)
{
    weft_core_config_t *c = mconfig;

    if (strcasecmp(argv[0], "thread") == 0)
        c->mpm = "thread";
    else if (strcasecmp(argv[0], "worker") == 0)
        c->mpm = "worker";
    else
        return apr_psprintf(cmd->pool, "unknown MPM '%s' (thread or worker)",
                            argv[0]);
    return NULL;
}

static const char *set_threads(const weft_cmd_t *cmd, void *mconfig, int argc,
                               const char *const *argv)
{
    weft_core_config_t *c = mconfig;
    const char *why = weft_set_count(cmd, mconfig, argc, argv);

    if (why == NULL && c->threads < 1)
        return "needs at least 1 thread";
    return why;
}

static const char *set_response_buffer(const weft_cmd_t *cmd, void *mconfig,
                                       int argc, const char *const *argv)
{
    weft_core_config_t *c = mconfig;
    const char *why = weft_set_size(cmd, mconfig, argc, argv);

    if (why == NULL && (c->response_buffer_size < 1 ||
                        c->response_buffer_size > 64 * 1024 * 1024))
        return apr_psprintf(cmd->pool, "'%s' is out of range (1 byte to 64M)",
                            argv[0]);
    return why;
}

static const char *set_error_log(const weft_cmd_t *cmd, void *mconfig, int argc,
                                 const char *const *argv)
{
    weft_core_config_t *c = mconfig;

    if (strcmp(argv[0], "stderr") == 0)
        c->error_log = NULL;
    else
        c->error_log =
            weft_server_root_relative(cmd->pool, cmd->server, argv[0]);
    return NULL;
}

static const char *set_log_level(const weft_cmd_t *cmd, void *mconfig, int argc,
                                 const char *const *argv)
{
    weft_core_config_t *c = mconfig;
    int level = weft_log_level_parse(argv[0]);

    if (level < 0)
        return apr_psprintf(cmd->pool,
                            "unknown level '%s' (emerg, alert, crit, error, "
                            "warn, notice, info, debug)",
                            argv[0]);
    c->log_level = level;
    return NULL;
}

#define CORE(name, args, fn, help) WEFT_DIRECTIVE(name, args, fn, help)
#define SLOT(name, args, setter, field, help) \
    WEFT_DIRECTIVE_SLOT(name, args, setter, weft_core_config_t, field, help)

static const weft_directive_t core_directives[] = {
    CORE("ServerRoot", WEFT_ARGS_ONE, set_server_root,
         "ServerRoot DIR: base of relative paths (default: the main "
         "file's directory)"),
    CORE("Include", WEFT_ARGS_ONE, weft_config_include,
         "Include FILE|GLOB: read more configuration, relative to "
         "ServerRoot"),
    CORE("LoadModule", WEFT_ARGS_TWO, load_module,
         "LoadModule NAME_module PATH: load a module's shared object"),
    CORE("Listen", WEFT_ARGS_ONE_OR_TWO, add_listen,
         "Listen [HOST:]PORT [tls]: accept connections there"),
    CORE("Handler", WEFT_ARGS_ONE, set_handler,
         "Handler NAME: the root handler (default: the mux, else 404)"),
    SLOT("ReadTimeout", WEFT_ARGS_ONE, weft_set_duration, read_timeout,
         "ReadTimeout DUR: time to read a whole request (0: none)"),
    SLOT("ReadHeaderTimeout", WEFT_ARGS_ONE, weft_set_duration,
         read_header_timeout,
         "ReadHeaderTimeout DUR: time to read request headers (0: "
         "ReadTimeout)"),
    SLOT("WriteTimeout", WEFT_ARGS_ONE, weft_set_duration, write_timeout,
         "WriteTimeout DUR: time to write a response (0: none)"),
    SLOT("IdleTimeout", WEFT_ARGS_ONE, weft_set_duration, idle_timeout,
         "IdleTimeout DUR: keep-alive wait for the next request (0: "
         "ReadTimeout)"),
    SLOT("ShutdownTimeout", WEFT_ARGS_ONE, weft_set_duration, shutdown_timeout,
         "ShutdownTimeout DUR: graceful shutdown deadline on SIGTERM"),
    SLOT("MaxHeaderBytes", WEFT_ARGS_ONE, weft_set_size, max_header_bytes,
         "MaxHeaderBytes SIZE: request line plus headers (0: 1M)"),
    SLOT("KeepAlive", WEFT_ARGS_FLAG, weft_set_flag, keep_alive,
         "KeepAlive on|off: reuse connections between requests"),
    CORE("MPM", WEFT_ARGS_ONE, set_mpm,
         "MPM thread|worker: how connections get threads"),
    SLOT("Threads", WEFT_ARGS_ONE, set_threads, threads,
         "Threads N: worker pool size for MPM worker"),
    SLOT("MaxConnections", WEFT_ARGS_ONE, weft_set_count, max_connections,
         "MaxConnections N: stop accepting while N are open (0: no limit)"),
    SLOT("ResponseBufferSize", WEFT_ARGS_ONE, set_response_buffer,
         response_buffer_size,
         "ResponseBufferSize SIZE: handler output buffered before framing"),
    CORE("ErrorLog", WEFT_ARGS_ONE, set_error_log,
         "ErrorLog FILE|stderr: where the error log goes"),
    CORE("LogLevel", WEFT_ARGS_ONE, set_log_level,
         "LogLevel LEVEL: emerg alert crit error warn notice info debug"),
    SLOT("PidFile", WEFT_ARGS_ONE, weft_set_path, pid_file,
         "PidFile FILE: write the process id there"),
    WEFT_DIRECTIVE_END,
};

const weft_module_t weft_core_module = {
    WEFT_MODULE_HEADER, "core", core_directives, core_create_config, NULL,
};

/* The checks that need the whole configuration read. */
apr_status_t weft_core_check(weft_server_t *s, const char **err)
{
    weft_core_config_t *c = s->conf;
    int i;

    for (i = 0; i < c->listens->nelts; i++) {
        weft_listen_t *l = &APR_ARRAY_IDX(c->listens, i, weft_listen_t);
        if (l->tls && weft_module_find(s, "tls") == NULL) {
            *err = weft_config_errorf(s->pool, l->file, l->line, "Listen",
                                      "%s tls needs tls_module: add "
                                      "`LoadModule tls_module PATH`",
                                      l->text);
            return APR_EINVAL;
        }
    }
    s->handler = NULL;
    if (c->handler_name != NULL) {
        s->handler = weft_handler_find(c->handler_name);
        if (s->handler == NULL) {
            *err = weft_config_errorf(
                s->pool, s->handler_file, s->handler_line, "Handler",
                "no handler named '%s' (registered: %s)", c->handler_name,
                weft_handler_names(s->temp_pool));
            return APR_EINVAL;
        }
    } else {
        s->handler = weft_handler_find("mux");
    }
    return APR_SUCCESS;
}
