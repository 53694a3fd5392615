/*
 * weft_conn.c -- connection objects: creation from a recycled struct, the
 * packed atomic ConnState with its hook, the server's live set (counted
 * per state when asked), and the rule that only the owner closes the fd
 * while others may only shut it down.
 */
#include <apr_strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "weft_engine.h"

/* Recycled connection structs beyond this many keep no buffers. */
#define MAX_FREE_CONNS 1024

static const char *const state_names[WEFT_STATE_COUNT] = {
    "new", "active", "idle", "hijacked", "closed",
};

WEFT_DECLARE(const char *) weft_conn_state_name(weft_conn_state_t st)
{
    if ((unsigned)st >= WEFT_STATE_COUNT)
        return "unknown";
    return state_names[st];
}

void weft_conn_format_addr(char *out, const struct sockaddr_storage *ss)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        port = ntohs(sin->sin_port);
        apr_snprintf(out, WEFT_ADDR_LEN, "%s:%u", ip, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
        port = ntohs(sin6->sin6_port);
        /* An IPv4 client on a dual-stack socket reads as plain IPv4, as
         * Go's RemoteAddr shows it. */
        if (strncmp(ip, "::ffff:", 7) == 0 && strchr(ip + 7, '.') != NULL)
            apr_snprintf(out, WEFT_ADDR_LEN, "%s:%u", ip + 7, port);
        else
            apr_snprintf(out, WEFT_ADDR_LEN, "[%s]:%u", ip, port);
    } else {
        apr_cpystrn(out, "?", WEFT_ADDR_LEN);
    }
}

/* Gives a recycled struct's buffers and pool back (conn_fill remakes
 * them); the struct itself stays, for the watcher's sake. */
static void conn_shrink(weft_conn_t *c)
{
    if (c->pool != NULL)
        apr_pool_destroy(c->pool);
    free(c->rbuf);
    free(c->wbuf);
    c->pool = NULL;
    c->rbuf = c->wbuf = NULL;
}

/* Makes sure c has its buffers and its pool.  Each connection has its own
 * allocator: its owner thread allocates without taking any lock. */
static int conn_fill(weft_conn_t *c)
{
    apr_allocator_t *a;

    if (c->pool != NULL)
        return 1;
    c->rbuf = malloc(WEFT_READ_BUFFER);
    c->wbuf = malloc(c->wcap);
    if (c->rbuf == NULL || c->wbuf == NULL ||
        apr_allocator_create(&a) != APR_SUCCESS) {
        conn_shrink(c);
        return 0;
    }
    apr_allocator_max_free_set(a, 64 * 1024);
    if (apr_pool_create_unmanaged_ex(&c->pool, NULL, a) != APR_SUCCESS) {
        apr_allocator_destroy(a);
        c->pool = NULL;
        conn_shrink(c);
        return 0;
    }
    apr_allocator_owner_set(a, c->pool);
    return 1;
}

/* A struct from the free list, or a new one. */
static weft_conn_t *conn_get(weft_server_t *s)
{
    weft_conn_t *c;

    pthread_mutex_lock(&s->mu);
    c = s->free_conns;
    if (c != NULL) {
        s->free_conns = c->free_next;
        s->nfree--;
    }
    pthread_mutex_unlock(&s->mu);
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL)
            return NULL;
        c->server = s;
        c->wcap = s->conf->response_buffer_size;
        c->req_ctx_mem = malloc(weft_ctx_size());
        if (c->req_ctx_mem == NULL) {
            free(c);
            return NULL;
        }
        pthread_mutex_init(&c->watch_mu, NULL);
        pthread_cond_init(&c->watch_cond, NULL);
        pthread_mutex_init(&c->req_ctx_mu, NULL);
    }
    if (!conn_fill(c)) {
        /* Back to the list as it is: the watcher rule holds for it too. */
        pthread_mutex_lock(&s->mu);
        c->free_next = s->free_conns;
        s->free_conns = c;
        s->nfree++;
        pthread_mutex_unlock(&s->mu);
        return NULL;
    }
    return c;
}

static void conn_free(weft_conn_t *c)
{
    pthread_mutex_destroy(&c->watch_mu);
    pthread_cond_destroy(&c->watch_cond);
    pthread_mutex_destroy(&c->req_ctx_mu);
    free(c->req_ctx_mem);
    conn_shrink(c);
    free(c);
}

/* On the listener thread, right after accept. */
weft_conn_t *weft_conn_create(weft_server_t *s, const weft_listen_t *l, int fd,
                              const struct sockaddr_storage *peer,
                              const char *local)
{
    weft_conn_t *c = conn_get(s);
    struct sockaddr_storage ss;
    socklen_t len;

    if (c == NULL)
        return NULL;
    c->fd = fd;
    c->listen = l;
    c->id = atomic_fetch_add(&s->next_conn_id, 1) + 1;
    weft_conn_format_addr(c->remote, peer);
    /* A listener bound to one address is every connection's local
     * address; only a wildcard one needs the syscall. */
    len = sizeof(ss);
    if (local != NULL)
        apr_cpystrn(c->local, local, sizeof(c->local));
    else if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        weft_conn_format_addr(c->local, &ss);
    else
        apr_cpystrn(c->local, "?", sizeof(c->local));
    weft_tcp_transport_init(&c->tcp, fd, &c->tcp_timeo);
    c->transport = &c->tcp;
    c->ctx = weft_ctx_with_cancel(s->base_ctx, c->pool);
    c->serve_ctx = NULL;
    c->req_pool = NULL;
    c->rstart = c->rend = 0;
    c->read_deadline = c->write_deadline = 0;
    c->werr = APR_SUCCESS;
    c->hijacked = 0;
    c->saw_bytes = 0;
    c->handling = 0;
    atomic_store(&c->state, 0);
    return c;
}

/*
 * Go's setState: the packed word first (so a hook reading it sees the new
 * state), the live set, then the conn_state hook on this thread.  No
 * per-state counters: two shared atomics per transition, four per
 * request, cost more than counting the live set when a status page asks.
 */
void weft_conn_set_state(weft_conn_t *c, weft_conn_state_t st)
{
    weft_server_t *s = c->server;
    apr_uint64_t now = (apr_uint64_t)apr_time_sec(weft_time_coarse());
    atomic_store(&c->state, (now << 8) | st);
    if (st == WEFT_STATE_NEW) {
        pthread_mutex_lock(&s->mu);
        c->prev = NULL;
        c->next = s->live;
        if (s->live != NULL)
            s->live->prev = c;
        s->live = c;
        s->nlive++;
        s->nopen++;
        pthread_mutex_unlock(&s->mu);
    } else if (st == WEFT_STATE_HIJACKED || st == WEFT_STATE_CLOSED) {
        pthread_mutex_lock(&s->mu);
        weft_conn_leave_live(c);
        weft_server_changed(s);
        pthread_mutex_unlock(&s->mu);
    }
    weft_run_conn_state(c, st);
}

void weft_conn_leave_live(weft_conn_t *c)
{
    weft_server_t *s = c->server;

    if (c->prev != NULL)
        c->prev->next = c->next;
    else if (s->live == c)
        s->live = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->nlive--;
}

/*
 * From another thread, with the server's mu held (so the owner cannot
 * remove c from the live set and close its fd meanwhile): stop both
 * directions on the socket itself, whatever transport sits on it.  The
 * owner sees the error and ends its loop; only it closes the fd.
 */
void weft_conn_kill(weft_conn_t *c)
{
    shutdown(c->fd, SHUT_RDWR);
}

/* On the owner thread, after the state went to closed (or the
 * connection was never served): close and recycle. */
void weft_conn_release(weft_conn_t *c)
{
    weft_server_t *s = c->server;

    if (!c->hijacked) {
        weft_watch_forget(c);
        c->transport->ops->close(c->transport);
    }
    apr_pool_clear(c->pool);
    c->ctx = NULL;
    pthread_mutex_lock(&s->mu);
    s->nopen--;
    weft_server_changed(s);
    /* The struct is kept for reuse and never freed while serving: the
     * disconnect watcher may still hold a pointer to it (weft_watch.c).
     * Beyond a reserve, its buffers and pool go back to the system. */
    if (s->nfree >= MAX_FREE_CONNS)
        conn_shrink(c);
    c->free_next = s->free_conns;
    s->free_conns = c;
    s->nfree++;
    pthread_mutex_unlock(&s->mu);
}

WEFT_DECLARE(apr_uint64_t) weft_conn_id(const weft_conn_t *c)
{
    return c->id;
}

WEFT_DECLARE(const char *) weft_conn_remote(const weft_conn_t *c)
{
    return c->remote;
}

WEFT_DECLARE(const char *) weft_conn_local(const weft_conn_t *c)
{
    return c->local;
}

WEFT_DECLARE(const weft_listen_t *) weft_conn_listen(const weft_conn_t *c)
{
    return c->listen;
}

WEFT_DECLARE(weft_server_t *) weft_conn_server(const weft_conn_t *c)
{
    return c->server;
}

WEFT_DECLARE(apr_pool_t *) weft_conn_pool(const weft_conn_t *c)
{
    return c->pool;
}

WEFT_DECLARE(weft_ctx_t *) weft_conn_ctx(const weft_conn_t *c)
{
    return c->serve_ctx != NULL ? c->serve_ctx : c->ctx;
}

WEFT_DECLARE(weft_conn_state_t)
weft_conn_state(const weft_conn_t *c, apr_time_t *since)
{
    apr_uint64_t v = atomic_load(&((weft_conn_t *)c)->state);

    if (since != NULL)
        *since = apr_time_from_sec((apr_time_t)(v >> 8));
    return (weft_conn_state_t)(v & 0xff);
}

WEFT_DECLARE(weft_transport_t *) weft_conn_transport(const weft_conn_t *c)
{
    return c->transport;
}

WEFT_DECLARE(void) weft_conn_set_transport(weft_conn_t *c, weft_transport_t *t)
{
    c->transport = t;
}

void weft_conn_free_all(weft_server_t *s)
{
    weft_conn_t *c;

    pthread_mutex_lock(&s->mu);
    c = s->free_conns;
    s->free_conns = NULL;
    s->nfree = 0;
    pthread_mutex_unlock(&s->mu);
    while (c != NULL) {
        weft_conn_t *next = c->free_next;
        conn_free(c);
        c = next;
    }
}
