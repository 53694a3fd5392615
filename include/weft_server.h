/*
 * weft_server.h -- the server object (Go's http.Server) and its life:
 * create, configure from files, check, open (bind), serve, stop.  A process
 * holds one configured server: hooks and the handler table are process-wide.
 */
#ifndef WEFT_SERVER_H
#define WEFT_SERVER_H

#include <apr_network_io.h>
#include <apr_tables.h>

#include "weft_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Go's DefaultMaxHeaderBytes. */
#define WEFT_DEFAULT_MAX_HEADER_BYTES (1024 * 1024)
/* The seed's bufferBeforeChunkingSize (Go's own is 2 KiB). */
#define WEFT_DEFAULT_RESPONSE_BUFFER 4096
#define WEFT_DEFAULT_THREADS 256
#define WEFT_DEFAULT_SHUTDOWN_TIMEOUT apr_time_from_sec(30)

/* One `Listen` line.  Immutable once the files are read. */
typedef struct weft_listen_t {
    const char *text; /* as written: "127.0.0.1:8080" */
    const char *host; /* NULL for every address */
    apr_port_t port;
    int tls;          /* the optional `tls` flag */
    const char *file; /* where it was written, for errors */
    unsigned line;
} weft_listen_t;

/*
 * The core's configuration: the fields of Go's http.Server that the config
 * file sets, and the process settings.  Filled while the files are read;
 * immutable once the server opens, so any thread may read it.  Durations
 * are microseconds, 0 meaning no limit, as in Go.
 */
typedef struct weft_core_config_t {
    const char *server_root;  /* ServerRoot; default: the main file's dir */
    const char *handler_name; /* Handler; NULL: the mux if loaded, else 404 */
    apr_interval_time_t read_timeout;        /* ReadTimeout */
    apr_interval_time_t read_header_timeout; /* ReadHeaderTimeout */
    apr_interval_time_t write_timeout;       /* WriteTimeout */
    apr_interval_time_t idle_timeout;        /* IdleTimeout */
    apr_interval_time_t shutdown_timeout;    /* ShutdownTimeout, 30s */
    apr_size_t max_header_bytes;     /* MaxHeaderBytes; 0 means the default */
    int keep_alive;                  /* KeepAlive on|off */
    const char *mpm;                 /* MPM thread|worker */
    int threads;                     /* Threads, for MPM worker */
    int max_connections;             /* MaxConnections; 0: no limit */
    apr_size_t response_buffer_size; /* ResponseBufferSize */
    const char *error_log;           /* ErrorLog path, or NULL for stderr */
    int log_level;                   /* LogLevel */
    const char *pid_file;            /* PidFile, resolved; NULL: none */
    apr_array_header_t *listens;     /* of weft_listen_t */
} weft_core_config_t;

/*
 * Creates a server with Go's defaults in a subpool of parent (the server
 * pool: it lives until weft_server_destroy).  Main thread, start-up.
 */
WEFT_DECLARE(apr_status_t)
weft_server_create(apr_pool_t *parent, weft_server_t **out);

/*
 * Reads a configuration file (and what it includes), running every
 * directive.  On failure returns non-success and sets *err to one line,
 * "FILE:LINE: DIRECTIVE: message" (allocated in the server pool).
 */
WEFT_DECLARE(apr_status_t)
weft_server_read_config(weft_server_t *s, const char *path, const char **err);

/*
 * Runs one directive line as if it were at file:line (for embedding and
 * tests, and for the command line).  Same error contract.
 */
WEFT_DECLARE(apr_status_t)
weft_server_config_line(weft_server_t *s, const char *text, const char *file,
                        unsigned line, const char **err);

/*
 * Finishes the configuration: resolves what needs the whole file (the
 * root handler, Listen's tls flag), sorts the hooks, and runs the
 * test_config hook.  What `weftd -t` runs.  Same error contract.
 */
WEFT_DECLARE(apr_status_t)
weft_server_check_config(weft_server_t *s, const char **err);

/*
 * Opens the server: error log, post_config hooks, binds every Listen
 * address, writes the pid file.  Main thread, before any other thread.  On
 * failure *err says why in one line (a bind failure names the address).
 */
WEFT_DECLARE(apr_status_t) weft_server_open(weft_server_t *s, const char **err);

/*
 * Starts serving (Go's Serve on every listener): the MPM and one accept
 * thread per listener.  Returns at once; weft_server_wait blocks until the
 * server has stopped.  Main thread, after weft_server_open.
 */
WEFT_DECLARE(apr_status_t) weft_server_serve(weft_server_t *s);

/*
 * Go's Shutdown: stop accepting, run the on_shutdown hooks, then close
 * idle connections (and new ones silent for over 5 s) on a poll that
 * starts at 1 ms and doubles to 500 ms (plus up to 10% jitter) until none
 * is left, or until deadline (absolute; 0: none) passes.  In-flight
 * requests finish and their responses say Connection: close.  Returns
 * APR_SUCCESS, or APR_TIMEUP with *remaining (if not NULL) set to the
 * connections still open.  Hijacked connections are not waited for.  Any
 * thread but a connection's own.
 */
WEFT_DECLARE(apr_status_t)
weft_server_shutdown(weft_server_t *s, apr_time_t deadline, int *remaining);

/* Go's Close: stop accepting and shut every live connection now (their
 * owners see the error and close).  Any thread. */
WEFT_DECLARE(void) weft_server_close(weft_server_t *s);

/*
 * Stops the server in the background and returns at once (for signal
 * handlers and handlers): with graceful set, Shutdown with the deadline
 * timeout from now (0: none), then Close for what is left; otherwise
 * Close.  A later call may turn a graceful stop into a close.
 */
WEFT_DECLARE(void)
weft_server_stop(weft_server_t *s, int graceful, apr_interval_time_t timeout);

/* Blocks until a stop has finished.  Main thread. */
WEFT_DECLARE(void) weft_server_wait(weft_server_t *s);

/*
 * Waits up to timeout for every connection to be closed and every owner
 * thread to exit; returns 1 when the server is quiet (then it can be
 * destroyed), 0 when handlers are still running or connections are
 * hijacked (then the process should exit without destroying it).
 */
WEFT_DECLARE(int)
weft_server_quiesce(weft_server_t *s, apr_interval_time_t timeout);

/* Live connections in a state (WEFT_STATE_NEW .. WEFT_STATE_HIJACKED;
 * counted under the server's lock, for status pages rather than hot
 * paths), and requests served (an atomic read); any thread. */
WEFT_DECLARE(int) weft_server_conn_count(const weft_server_t *s, int state);
WEFT_DECLARE(apr_uint64_t) weft_server_requests(const weft_server_t *s);
/* Response body bytes sent, and when serving started (for uptime). */
WEFT_DECLARE(apr_uint64_t) weft_server_bytes_sent(const weft_server_t *s);
WEFT_DECLARE(apr_time_t) weft_server_start_time(const weft_server_t *s);

/* SIGUSR1 (logrotate): reopens the error log and runs reopen_logs.  The
 * signal thread, or any thread. */
WEFT_DECLARE(void) weft_server_reopen_logs(weft_server_t *s);

/* Releases everything the server holds (listeners, pid file, pool). */
WEFT_DECLARE(void) weft_server_destroy(weft_server_t *s);

/* Accessors.  The results are immutable once the server is open. */
WEFT_DECLARE(apr_pool_t *) weft_server_pool(const weft_server_t *s);
WEFT_DECLARE(const weft_core_config_t *)
weft_server_config(const weft_server_t *s);
/* The root handler resolved by weft_server_check_config (NULL: none). */
WEFT_DECLARE(weft_handler_fn *) weft_server_handler(const weft_server_t *s);
/* Each bound listener's local address, in Listen order (after open). */
WEFT_DECLARE(int) weft_server_listener_count(const weft_server_t *s);
WEFT_DECLARE(apr_sockaddr_t *)
weft_server_listener_addr(const weft_server_t *s, int i);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_SERVER_H */
