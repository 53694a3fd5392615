/*
 * weft_server.c -- the server object's life up to serving: create with Go's
 * defaults, read and check the configuration, open (log, post_config,
 * listeners, pid file), destroy.
 */
#include <apr_file_io.h>
#include <apr_strings.h>
#include <string.h>
#include <unistd.h>

#include "weft_engine.h"

WEFT_DECLARE(apr_status_t)
weft_server_create(apr_pool_t *parent, weft_server_t **out)
{
    apr_pool_t *p;
    weft_server_t *s;
    const char *why;
    apr_status_t rv;

    rv = apr_pool_create(&p, parent);
    if (rv != APR_SUCCESS)
        return rv;
    apr_pool_tag(p, "weft_server");
    s = apr_pcalloc(p, sizeof(*s));
    s->pool = p;
    apr_pool_create(&s->temp_pool, p);
    apr_pool_create(&s->hook_pool, p);
    /* Hooks and the handler table are process-wide: they belong to the
     * live server and go when it is destroyed. */
    apr_hook_deregister_all();
    weft_handlers_reset();
    apr_hook_global_pool = s->hook_pool;
    pthread_mutex_init(&s->mu, NULL);
    weft_cond_init(&s->changed);
    weft_cond_init(&s->done_cond);
    s->base_ctx = weft_ctx_root(p);
    s->modules = apr_array_make(p, 16, sizeof(weft_loaded_module_t));
    s->directives = apr_hash_make(p);
    s->reading = apr_array_make(p, 4, sizeof(const char *));
    s->listeners = apr_array_make(p, 2, sizeof(apr_socket_t *));
    rv = weft_module_add(s, &weft_core_module, "core_module", NULL,
                         "(built-in)", 0, &why);
    if (rv != APR_SUCCESS)
        return rv;
    s->conf = weft_module_config(s, &weft_core_module);
    *out = s;
    return APR_SUCCESS;
}

WEFT_DECLARE(apr_status_t)
weft_server_read_config(weft_server_t *s, const char *path, const char **err)
{
    if (s->main_file == NULL) {
        char *abs, *slash;
        s->main_file = apr_pstrdup(s->pool, path);
        if (!s->server_root_set &&
            apr_filepath_merge(&abs, NULL, path, 0, s->pool) == APR_SUCCESS &&
            (slash = strrchr(abs, '/')) != NULL) {
            *(slash == abs ? slash + 1 : slash) = '\0';
            s->conf->server_root = abs;
        }
    }
    return weft_config_read_file(s, path, NULL, 0, err);
}

WEFT_DECLARE(apr_status_t)
weft_server_check_config(weft_server_t *s, const char **err)
{
    apr_status_t rv;
    int hrv;

    *err = NULL;
    rv = weft_core_check(s, err);
    if (rv != APR_SUCCESS)
        return rv;
    apr_hook_sort_all();
    hrv = weft_run_test_config(s->pool, s->temp_pool, s, err);
    if (hrv != WEFT_OK) {
        if (*err == NULL)
            *err = apr_psprintf(s->pool,
                                "%s: a module's configuration "
                                "check failed",
                                s->main_file ? s->main_file : "(config)");
        return APR_EINVAL;
    }
    apr_pool_clear(s->temp_pool);
    s->checked = 1;
    return APR_SUCCESS;
}

static apr_status_t remove_pid_file(void *data)
{
    unlink((const char *)data);
    return APR_SUCCESS;
}

static apr_status_t write_pid_file(weft_server_t *s, const char **err)
{
    const char *path = s->conf->pid_file;
    apr_file_t *f;
    apr_status_t rv;
    char e[128];

    rv = apr_file_open(
        &f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
        APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD | APR_FPROT_WREAD,
        s->temp_pool);
    if (rv == APR_SUCCESS) {
        apr_file_printf(f, "%ld\n", (long)getpid());
        rv = apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(s->pool, "PidFile: cannot write %s: %s", path,
                            apr_strerror(rv, e, sizeof(e)));
        return rv;
    }
    s->pid_path = path;
    apr_pool_cleanup_register(s->pool, path, remove_pid_file,
                              apr_pool_cleanup_null);
    return APR_SUCCESS;
}

WEFT_DECLARE(apr_status_t) weft_server_open(weft_server_t *s, const char **err)
{
    weft_core_config_t *c = s->conf;
    apr_status_t rv;
    char e[128];

    *err = NULL;
    if (!s->checked) {
        rv = weft_server_check_config(s, err);
        if (rv != APR_SUCCESS)
            return rv;
    }
    if (c->listens->nelts == 0) {
        *err = apr_psprintf(s->pool,
                            "%s: no Listen directive: the server "
                            "would accept nothing",
                            s->main_file ? s->main_file : "(config)");
        return APR_EINVAL;
    }
    rv = weft_log_open(c->error_log);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(s->pool, "ErrorLog: cannot open %s: %s",
                            c->error_log, apr_strerror(rv, e, sizeof(e)));
        return rv;
    }
    weft_log_level = c->log_level;
    if (weft_run_post_config(s->pool, s->temp_pool, s) != WEFT_OK) {
        *err = "a module failed to start (see the error log)";
        return APR_EGENERAL;
    }
    rv = weft_listen_open(s, err);
    if (rv != APR_SUCCESS)
        return rv;
    if (c->pid_file != NULL) {
        rv = write_pid_file(s, err);
        if (rv != APR_SUCCESS)
            return rv;
    }
    apr_pool_clear(s->temp_pool);
    return APR_SUCCESS;
}

WEFT_DECLARE(void) weft_server_destroy(weft_server_t *s)
{
    weft_watch_stop(s);
    weft_conn_free_all(s);
    if (apr_hook_global_pool == s->hook_pool) {
        apr_hook_deregister_all();
        weft_handlers_reset();
        apr_hook_global_pool = NULL;
    }
    apr_pool_destroy(s->pool);
}

WEFT_DECLARE(apr_pool_t *) weft_server_pool(const weft_server_t *s)
{
    return s->pool;
}

WEFT_DECLARE(const weft_core_config_t *)
weft_server_config(const weft_server_t *s)
{
    return s->conf;
}

WEFT_DECLARE(weft_handler_fn *) weft_server_handler(const weft_server_t *s)
{
    return s->handler;
}

WEFT_DECLARE(int) weft_server_listener_count(const weft_server_t *s)
{
    return s->listeners->nelts;
}

WEFT_DECLARE(apr_sockaddr_t *)
weft_server_listener_addr(const weft_server_t *s, int i)
{
    apr_sockaddr_t *sa = NULL;

    if (i < 0 || i >= s->listeners->nelts)
        return NULL;
    apr_socket_addr_get(&sa, APR_LOCAL,
                        APR_ARRAY_IDX(s->listeners, i, apr_socket_t *));
    return sa;
}
