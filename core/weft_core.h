/*
 * weft_core.h -- libweft's private declarations: the server object and the
 * internal entry points that the core's files share.  Not installed.
 */
#ifndef WEFT_CORE_H
#define WEFT_CORE_H

#include <apr_hash.h>
#include <apr_network_io.h>
#include <apr_tables.h>
#include <pthread.h>
#include <stdatomic.h>

#include "weft.h"

/* Thread-local storage for libweft's own variables.  weftd loads libweft
 * at start, so the initial-exec model holds, and an access is one
 * %fs-relative load instead of a __tls_get_addr call: measurable with a
 * thousand owner threads, whose TLS blocks are cold on every switch. */
#define WEFT_THREAD_LOCAL \
    _Thread_local __attribute__((tls_model("initial-exec")))

/* A module as loaded.  Owned by the server; immutable after load. */
typedef struct weft_loaded_module_t {
    const weft_module_t *module;
    void *mconfig;      /* what create_server_config made, or NULL */
    const char *symbol; /* LoadModule's NAME; "core_module" for the core */
    const char *path;   /* resolved; NULL for the core */
    const char *file;   /* the LoadModule line, for "already loaded" */
    unsigned line;
} weft_loaded_module_t;

/* A directive as the parser finds it: the declaration and its owner. */
typedef struct weft_directive_entry_t {
    const weft_directive_t *directive;
    const weft_module_t *module;
    void *mconfig;
} weft_directive_entry_t;

/*
 * The server (Go's http.Server).  Every field is written on the main thread
 * while the configuration is read and the server opens, before any other
 * thread exists; after weft_server_open returns it is immutable, except
 * where a field says otherwise.
 */
struct weft_server_t {
    apr_pool_t *pool;         /* server lifetime: config, modules, listeners */
    apr_pool_t *hook_pool;    /* apr_hook_global_pool while this server lives */
    weft_core_config_t *conf; /* the core module's config */
    apr_array_header_t *modules; /* weft_loaded_module_t, load order */
    apr_hash_t *directives;      /* lower-cased name -> entry */
    const char *main_file;       /* the first file read, as given */
    int server_root_set;         /* ServerRoot was written */
    apr_array_header_t *reading; /* while reading: open files, for loops */
    apr_pool_t *temp_pool;       /* while reading; cleared by the check */
    const char *nested_error;    /* an included file's error, as is */

    const char *handler_file; /* where Handler was written */
    unsigned handler_line;
    weft_handler_fn *handler; /* resolved root handler, or NULL */
    int checked;              /* weft_server_check_config succeeded */

    apr_array_header_t *listeners; /* apr_socket_t *, Listen order */
    const char *pid_path;          /* written pid file, removed at destroy */

    /* Serving (weft_accept.c, weft_conn.c, weft_shutdown.c).  mpm and
     * base_ctx are immutable once serving starts. */
    const struct weft_mpm_t *mpm;
    void *mpm_data;                 /* the MPM's own state */
    weft_ctx_t *base_ctx;           /* Go's BaseContext */
    struct weft_watcher_t *watcher; /* the disconnect watcher */
    pthread_mutex_t mu;             /* guards the fields down to 'done' */
    struct weft_conn_t *live;       /* live connections (Go's activeConn) */
    struct weft_conn_t *hijacked;   /* hijacked, not yet closed */
    int nlive;
    int nopen;                      /* accepted and not yet closed, hijacked
                                      ones included (MaxConnections) */
    int owner_threads;              /* MPM threads alive (for the exit) */
    pthread_t last_exited;          /* the last to leave, not yet joined */
    int has_last_exited;            /* (weft_owner_thread_exit says why) */
    pthread_cond_t changed;         /* a connection left, a thread ended */
    int changed_waiters;            /* (weft_server_changed says why) */
    pthread_cond_t done_cond;       /* done was set (weft_server_wait) */
    struct weft_conn_t *free_conns; /* recycled connection structs */
    int nfree;
    apr_array_header_t *accepters; /* weft_accepter_t, one per listener */
    int serving;                   /* weft_server_serve ran */
    int accept_stopped;            /* listeners shut (once) */
    int stopping;                  /* a stop thread was started */
    int stop_close;                /* ...and it should close, not drain */
    pthread_t stop_thread;         /* the stop thread, until wait joins */
    int stop_joinable;             /* ...it */
    int closed;                    /* Close shut every connection */
    int done;                      /* shutdown or close finished */
    /* Atomics: read without the lock on hot paths. */
    _Atomic int shutting_down; /* Go's inShutdown */
    _Atomic apr_uint64_t next_conn_id;
    _Atomic apr_uint64_t requests;   /* requests served */
    _Atomic apr_uint64_t bytes_sent; /* response body bytes */
    apr_time_t start_time;           /* immutable once serving */
};

/* weft_config.c */
extern const char weft_config_nested_error[];
const char *weft_config_include(const weft_cmd_t *cmd, void *mconfig, int argc,
                                const char *const *argv);
apr_status_t weft_config_read_file(weft_server_t *s, const char *path,
                                   const char *from_file, unsigned from_line,
                                   const char **err);

/* weft_core_module.c: the built-in module holding the core directives. */
extern const weft_module_t weft_core_module;
apr_status_t weft_core_check(weft_server_t *s, const char **err);

/* weft_module.c */
apr_status_t weft_module_add(weft_server_t *s, const weft_module_t *m,
                             const char *symbol, const char *path,
                             const char *file, unsigned line, const char **why);
const char *weft_module_load(const weft_cmd_t *cmd, const char *symbol,
                             const char *path);
const char *weft_module_hint(const char *directive);
const weft_directive_entry_t *weft_directive_lookup(const weft_server_t *s,
                                                    const char *name);
void weft_handlers_reset(void);

/* weft_ctx.c, for the request context (weft_request.c): a cancel context
 * in caller-provided memory of weft_ctx_size() bytes, with no pool
 * cleanup: weft_ctx_release, before p is cleared, does what the cleanup
 * would.  Registrations are allocated from p. */
apr_size_t weft_ctx_size(void);
weft_ctx_t *weft_ctx_place_cancel(void *mem, weft_ctx_t *parent, apr_pool_t *p);
void weft_ctx_release(weft_ctx_t *c);

/* weft_wait.c: condition waits under an absolute apr_time_t deadline (0:
 * none), through the thread MPMs' primitive.  weft_cond_init makes a
 * condition on CLOCK_MONOTONIC, which weft_wait_cond requires.  Both return
 * pthread codes (0, ETIMEDOUT). */
int weft_cond_init(pthread_cond_t *cond);
int weft_wait_cond(pthread_cond_t *cond, pthread_mutex_t *mu,
                   apr_time_t deadline);

/* weft_wait.c: the time at the kernel's tick resolution (a few ms), for
 * hot paths that need seconds (state stamps, Date) or a deadline check
 * that may be a tick late; much cheaper than apr_time_now. */
apr_time_t weft_time_coarse(void);

/* weft_shutdown.c, with s->mu held: tell the waiters on s->changed, and
 * wait on it until the deadline (0: none; a pthread code back). */
void weft_server_changed(weft_server_t *s);
int weft_server_wait_changed(weft_server_t *s, apr_time_t until);
/* The deadline d from now (0 for d <= 0) on the coarse clock, plus one
 * tick so that it is never earlier than apr_time_now() + d would be: at
 * most a tick late, as a timer may be.  For the deadlines set on every
 * request, whose durations are seconds. */
apr_time_t weft_deadline_after(apr_interval_time_t d);

/* weft_listen.c */
const char *weft_listen_parse(apr_pool_t *p, const char *text,
                              weft_listen_t *l);
apr_status_t weft_listen_open(weft_server_t *s, const char **err);

#endif /* WEFT_CORE_H */
