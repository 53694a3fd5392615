/*
 * weft_engine.h -- the HTTP/1.1 engine's private types: connections,
 * requests, response writers, the MPM interface, and the entry points the
 * engine's files share.  Each shared field says who may touch it.
 */
#ifndef WEFT_ENGINE_H
#define WEFT_ENGINE_H

#include <llhttp.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "weft_core.h"
#include "weft_conn.h"
#include "weft_reqline.h"
#include "weft_request.h"
#include "weft_response.h"

/* Read buffer per connection: bodies stream through it in slices this
 * big; headers larger than it are accumulated in the request pool. */
#define WEFT_READ_BUFFER 16384
/* Go's maxPostHandlerReadBytes: unread body drained to keep the conn. */
#define WEFT_MAX_DRAIN (256 * 1024)
/* Chunk extensions allowed per chunk, and trailer bytes per request. */
#define WEFT_MAX_CHUNK_EXT 4096
#define WEFT_ADDR_LEN 64

typedef enum {
    BODY_NONE,    /* no body, or fully read */
    BODY_READING, /* bytes remain */
    BODY_ERROR,   /* framing error or read failure: conn must close */
} weft_body_state_t;

/*
 * A response writer (Go's response + chunkWriter).  Owner thread only.
 */
struct weft_rw_t {
    weft_request_t *req;
    weft_conn_t *conn;
    apr_table_t *headers;  /* the handler's table (live) */
    apr_table_t *snapshot; /* headers as of the final WriteHeader */
    int status;            /* final status, 0 until written */
    int wrote_header;      /* a final status was (logically) written */
    int header_sent;       /* the header block is on the wire */
    int chunking;          /* body framed as chunks */
    int handler_done;      /* finish_request started */
    int close_after;       /* Go's closeAfterReply */
    int trailers;          /* the snapshot declared trailers */
    int aborted;           /* weft_rw_abort: nothing more is written */
    int body_limit_hit;    /* unread body over the drain limit */
    /* 100-continue (Go's writeContinueMu): continue_armed is the owner's;
     * can_continue is guarded by continue_mu, which a body read on
     * another thread would share with the writer. */
    int continue_armed;
    int can_continue;
    pthread_mutex_t *continue_mu;
    apr_off_t content_length; /* declared or decided; -1 unknown */
    apr_off_t written;        /* body bytes accepted from the handler */
    apr_off_t body_sent;      /* body bytes put on the wire */
    char *buf;                /* handler output not yet framed */
    apr_size_t buflen;
    apr_size_t bufcap;
};

/*
 * A request (Go's *http.Request), in the request pool.  Owner thread only,
 * except ctx (cancelled from any thread).
 */
struct weft_request_t {
    weft_conn_t *conn;
    weft_server_t *server;
    apr_pool_t *pool;
    /* The request context, made on the first weft_req_ctx (most handlers
     * never ask) in the connection's req_ctx_mem: atomic, written once
     * under conn->req_ctx_mu (weft_request_ctx). */
    _Atomic(weft_ctx_t *) ctx;
    atomic_int ctx_ok;    /* read, and its pool not yet cleared */
    atomic_int ctx_ended; /* the handler returned: cancelled from birth */
    weft_reqline_t line;
    apr_time_t start; /* when its first byte was read */
    const char *host; /* Go's Request.Host */
    int host_count;   /* Host fields received */
    apr_table_t *headers;
    apr_table_t *trailers;
    apr_table_t *query;       /* parsed lazily by weft_req_query_value */
    apr_off_t content_length; /* -1: chunked */
    int chunked;
    int te_count;          /* Transfer-Encoding fields received */
    const char *te_value;  /* the single Transfer-Encoding value */
    int wants_close;       /* Connection: close */
    int wants10_keepalive; /* HTTP/1.0 with Connection: keep-alive */
    const char *expect;    /* the Expect value, or NULL */
    weft_body_state_t body;
    int body_closed;                  /* weft_req_body_close was called */
    apr_off_t body_read;              /* body bytes handed out */
    apr_size_t trailer_bytes;         /* bytes of trailer fields so far */
    weft_body_filter_fn *body_filter; /* weft_req_set_body_filter */
    void *body_filter_data;
    const char *pattern; /* set by a router */
    apr_table_t *path_values;
    weft_rw_t rw;
};

/*
 * A connection (Go's conn).  The struct and its buffers are recycled; the
 * pool is cleared when the connection closes.
 */
struct weft_conn_t {
    /* Immutable once the listener hands the connection to the MPM. */
    weft_server_t *server;
    apr_pool_t *pool; /* connection lifetime */
    apr_uint64_t id;
    int fd;
    const weft_listen_t *listen; /* the Listen line it came through */
    char remote[WEFT_ADDR_LEN];
    char local[WEFT_ADDR_LEN];
    weft_ctx_t *ctx;      /* conn_context's result; cancel: any thread */
    weft_transport_t tcp; /* the plain transport, embedded */
    apr_interval_time_t tcp_timeo; /* its state: owner thread only */

    /* Atomic: (unix seconds << 8) | weft_conn_state_t (Go's curState). */
    _Atomic apr_uint64_t state;

    /* Guarded by the server's mu: the live set. */
    weft_conn_t *prev, *next;

    /* Owner thread only. */
    weft_transport_t *transport;
    weft_ctx_t *serve_ctx;   /* ctx + cancel, for this serve loop */
    apr_pool_t *req_pool;    /* cleared after each request */
    char *rbuf;              /* WEFT_READ_BUFFER bytes */
    apr_size_t rstart, rend; /* unconsumed bytes: rbuf[rstart, rend) */
    char *wbuf;              /* the response buffer */
    apr_size_t wcap;
    apr_time_t read_deadline;
    apr_time_t write_deadline;
    apr_status_t werr; /* first write error (Go's c.werr) */
    int hijacked;
    int saw_bytes;          /* a byte of the current request was read */
    int err_code;           /* read refused: status to answer with */
    const char *err_reason; /* Go's statusError text, or NULL */
    const char *err_body;   /* or a body of its own (501) */
    llhttp_t parser;
    /* llhttp callback state while parsing one request: */
    weft_request_t *parsing;
    char *field, *value; /* the header field being assembled */
    apr_size_t field_len, value_len, field_cap, value_cap;
    apr_off_t stream_pos;  /* bytes fed to llhttp for this message */
    apr_off_t value_end;   /* stream offset where the last value span
                                  ended, to tell obs-fold from a split */
    const char *exec_base; /* the buffer given to llhttp_execute */
    apr_size_t chunk_ext;  /* extension bytes of the current chunk */
    int in_trailers;       /* header callbacks now mean trailers */
    int headers_done, message_done;
    char *body_dst; /* where on_body copies during a read */
    apr_size_t body_room, body_got;

    /* Guarded by the server's mu: the hijacked registry. */
    weft_conn_t *hj_prev, *hj_next;
    void (*hj_fn)(void *data); /* weft_hijack_on_shutdown's, or NULL */
    void *hj_data;
    int hj_told; /* hj_fn ran */
    /* Who still holds it: the hijacker until weft_hijack_close, and after
     * weft_rw_hijack the serve loop too, until its handler has returned;
     * the last to let go recycles it. */
    int hj_holders;

    int handling; /* the handler is running (owner only) */
    /* Where the current request's context lives once asked for, and the
     * lock for making it (weft_request_ctx); both for the struct's life. */
    void *req_ctx_mem;
    pthread_mutex_t req_ctx_mu;
    /* The disconnect watch (weft_watch.c).  The owner's side of a request
     * is lock-free: it publishes handler_since and in_handler, and takes
     * watch_mu only when watch_engaged says the watcher left state behind
     * (in_handler and watch_engaged are a Dekker pair). */
    _Atomic apr_time_t handler_since; /* owner writes, watcher reads */
    atomic_int in_handler;    /* owner writes: a handler runs, request read */
    atomic_int watch_queued;  /* on the watcher's lists (both, see there) */
    atomic_int watch_engaged; /* under watch_mu: watcher sets, both clear */
    pthread_mutex_t watch_mu;
    pthread_cond_t watch_cond; /* watch_busy went to 0 */
    int watch_armed;           /* watch_mu: armed in epoll */
    int watch_busy;            /* watch_mu: the watcher checks the socket */
    int watch_over;            /* watch_mu: the peer left or pipelined */
    int watch_added;           /* watch_mu: the fd is in the epoll set */
    weft_conn_t *watch_next;   /* the watcher's lists (whoever queued it) */

    weft_conn_t *free_next; /* the server's free list (its mu) */
};

/* The MPM: which thread owns which connection.  See weft_mpm.c. */
typedef struct weft_mpm_t {
    const char *name;
    apr_status_t (*start)(weft_server_t *s);
    /* Before accept: blocks until the MPM can take one more connection.
     * APR_SUCCESS, or APR_EOF once the server stops. */
    apr_status_t (*reserve)(weft_server_t *s);
    void (*unreserve)(weft_server_t *s);
    /* Runs weft_conn_serve(c) on an owner thread. */
    apr_status_t (*submit)(weft_server_t *s, weft_conn_t *c);
    /* Wakes listeners waiting in reserve and lets idle threads exit. */
    void (*stop)(weft_server_t *s);
    /* Owner threads that exist now (running or parked). */
    int (*threads)(weft_server_t *s);
} weft_mpm_t;

extern const weft_mpm_t weft_mpm_thread;
extern const weft_mpm_t weft_mpm_worker;

/*
 * weft_idle.c: owner threads waiting for a connection, in a stack with
 * the most recent on top (its stack and caches are the warmest), each on
 * its own semaphore.  The MPM's mutex guards the stack and conn; the
 * hand-over (weft_idle_take) sets conn under it, and the post comes after
 * the unlock, so the woken thread does not queue for that mutex.
 */
typedef struct weft_idle_t {
    sem_t wake;        /* posted for a hand-over, and by a stop */
    weft_conn_t *conn; /* guarded by the MPM's mutex */
    struct weft_idle_t *next;
} weft_idle_t;
/* Under the MPM's mutex: me goes on top, waiting; me leaves the stack
 * (it must be in it); the top is handed c and leaves (NULL: none). */
void weft_idle_push(weft_idle_t **top, weft_idle_t *me);
void weft_idle_unlink(weft_idle_t **top, weft_idle_t *me);
weft_idle_t *weft_idle_take(weft_idle_t **top, weft_conn_t *c);
/* Without it: waits for a post until deadline (0: none); 0 when one
 * came, else ETIMEDOUT. */
int weft_idle_wait(weft_idle_t *me, apr_time_t deadline);

/* weft_conn.c */
/* On the listener thread: peer as accept4 gave it; local is the
 * listener's own address when it is bound to one (NULL: ask the socket). */
weft_conn_t *weft_conn_create(weft_server_t *s, const weft_listen_t *l, int fd,
                              const struct sockaddr_storage *peer,
                              const char *local);
void weft_conn_format_addr(char *out, const struct sockaddr_storage *ss);
void weft_conn_set_state(weft_conn_t *c, weft_conn_state_t st);
/* Under the server's mu: c leaves the live set. */
void weft_conn_leave_live(weft_conn_t *c);
void weft_conn_release(weft_conn_t *c);
void weft_conn_kill(weft_conn_t *c);
void weft_conn_free_all(weft_server_t *s);

/* weft_hijack.c: hijacked connections Shutdown waits for (registered with
 * weft_hijack_on_shutdown); call under the server's mu. */
int weft_hijack_waited(weft_server_t *s);
void weft_hijack_notify(weft_server_t *s);
void weft_hijack_kill_waited(weft_server_t *s);
/* The serve loop is done with a connection its handler hijacked. */
void weft_hijack_let_go(weft_conn_t *c);

/* weft_serve.c: the serve loop, on the owner thread. */
void weft_conn_serve(weft_conn_t *c);

/* weft_request.c */
typedef enum {
    READ_OK,
    READ_CLOSED, /* EOF, timeout or error before a complete request */
    READ_REFUSED /* answered with an error status; close */
} weft_read_result_t;
weft_read_result_t weft_read_request(weft_conn_t *c, weft_request_t **out);
apr_status_t weft_conn_fill(weft_conn_t *c);
/* The request's context, made on first use (any thread; NULL for a
 * request that was refused), and the end of the handler, which cancels
 * it (owner thread). */
weft_ctx_t *weft_request_ctx(weft_request_t *r);
void weft_request_ctx_end(weft_request_t *r);

/* weft_body.c */
apr_status_t weft_body_drain(weft_request_t *r, apr_size_t max, int *too_big);

/* weft_response.c */
void weft_rw_init(weft_rw_t *w, weft_request_t *r);
void weft_rw_disable_continue(weft_rw_t *w);
void weft_rw_finish(weft_rw_t *w);
int weft_rw_should_reuse(weft_rw_t *w);
apr_status_t weft_conn_writev(weft_conn_t *c, struct iovec *iov, int n);
void weft_send_error(weft_conn_t *c, weft_request_t *r, int code,
                     const char *reason, const char *body);
const char *weft_http_date(void);

/* weft_shutdown.c: MPMs start their threads here, counted and joined,
 * so the exit knows when none can touch the server (or a library's
 * thread-local state) any more.  exit is the thread's very last call. */
apr_status_t weft_owner_thread_start(weft_server_t *s, void *(*fn)(void *),
                                     void *arg);
void weft_owner_thread_exit(weft_server_t *s);

/* weft_accept.c */
apr_status_t weft_accept_start(weft_server_t *s);
void weft_accept_stop(weft_server_t *s);

/* weft_watch.c: the disconnect watcher.  Connection structs are never
 * freed while the server serves (the watcher may still hold one). */
typedef struct weft_watcher_t weft_watcher_t;
apr_status_t weft_watch_start(weft_server_t *s);
void weft_watch_stop(weft_server_t *s);
void weft_watch_conn(weft_conn_t *c);
void weft_unwatch_conn(weft_conn_t *c);
void weft_watch_forget(weft_conn_t *c);

/* weft_transport_tcp.c */
/* timeo: where the transport keeps its socket's receive timeout (the
 * keep-alive wait's, weft_wait_recv). */
void weft_tcp_transport_init(weft_transport_t *t, int fd,
                             apr_interval_time_t *timeo);
/* Puts the socket back in non-blocking mode if the keep-alive wait took
 * it out: a hijacker gets the socket as accept left it. */
void weft_tcp_transport_nonblocking(weft_transport_t *t);

#endif /* WEFT_ENGINE_H */
