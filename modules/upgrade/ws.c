/*
 * ws.c -- WebSocket (RFC 6455) for mod_upgrade: the handshake (SHA-1 and
 * base64 from APR-util), frames read from and written to the hijacked
 * transport, message reassembly with incremental UTF-8 checks, automatic
 * pongs, the closing handshake, and the 1001 that Shutdown asks for.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_base64.h>
#include <apr_hash.h>
#include <apr_sha1.h>

#include "ws.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* Input is read in chunks of this size (frame headers, small frames);
 * a payload at least this large is read straight into the message. */
#define WS_RBUF 16384
/* A message buffer larger than this is freed before the next message, so
 * one large message does not pin its memory for the session's life. */
#define WS_KEEP 65536
/* How long Shutdown's thread may spend writing a 1001 (25 bytes: it fits
 * any socket buffer that is not full of unread data). */
#define WS_SHUTDOWN_WRITE apr_time_from_msec(250)
#define WS_GOING_AWAY "server shutting down"

enum {
    OP_CONT = 0,
    OP_TEXT = 1,
    OP_BINARY = 2,
    OP_CLOSE = 8,
    OP_PING = 9,
    OP_PONG = 10
};

/*
 * The sessions Shutdown's callback may still reach.  The core calls the
 * callback outside its lock, so it can race weft_hijack_close, which frees
 * the session; the callback therefore gets the session's id, not its
 * address, and looks it up here under registry_mu, which weft_ws_close
 * takes to unregister before it frees.  The pool has its own allocator:
 * sessions register from every handler thread.
 */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static apr_pool_t *registry_pool; /* guarded by registry_mu */
static apr_hash_t *registry;      /* id -> weft_ws_t *, by registry_mu */
static uintptr_t registry_next;   /* guarded by registry_mu */

static apr_status_t registry_free(void *data)
{
    pthread_mutex_lock(&registry_mu);
    if (registry_pool != NULL)
        apr_pool_destroy(registry_pool);
    registry_pool = NULL;
    registry = NULL;
    pthread_mutex_unlock(&registry_mu);
    return APR_SUCCESS;
}

apr_status_t ws_registry_init(apr_pool_t *pconf)
{
    apr_status_t rv;

    registry_free(NULL);
    pthread_mutex_lock(&registry_mu);
    rv = apr_pool_create_unmanaged_ex(&registry_pool, NULL, NULL);
    if (rv == APR_SUCCESS)
        registry = apr_hash_make(registry_pool);
    else
        registry_pool = NULL;
    pthread_mutex_unlock(&registry_mu);
    if (rv == APR_SUCCESS)
        apr_pool_cleanup_register(pconf, NULL, registry_free,
                                  apr_pool_cleanup_null);
    return rv;
}

/* ---- tokens and the handshake -------------------------------------------- */

const char *ws_token_next(const char **v, apr_size_t *len)
{
    const char *s = *v, *end, *e;

    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    if (*s == '\0') {
        *v = s;
        return NULL;
    }
    for (end = s; *end != '\0' && *end != ','; end++)
        ;
    for (e = end; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
        ;
    *v = end;
    *len = (apr_size_t)(e - s);
    return s;
}

typedef struct {
    const char *token;
    int found;
    int fields;
} field_scan_t;

static int scan_field(void *data, const char *key, const char *value)
{
    field_scan_t *fs = data;
    const char *tok;
    apr_size_t n;

    fs->fields++;
    if (fs->token == NULL)
        return 1;
    while ((tok = ws_token_next(&value, &n)) != NULL)
        if (n == strlen(fs->token) && strncasecmp(tok, fs->token, n) == 0) {
            fs->found = 1;
            return 0;
        }
    return 1;
}

/* Whether any field called name lists token (Go's headerListContainsValue:
 * a field may repeat, and each holds a comma-separated list). */
static int has_token(weft_request_t *r, const char *name, const char *token)
{
    field_scan_t fs = { token, 0, 0 };

    apr_table_do(scan_field, &fs, weft_req_headers(r), name, NULL);
    return fs.found;
}

static int is_base64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* RFC 6455 4.2.1: one Sec-WebSocket-Key whose value decodes to 16 bytes,
 * which in base64 is 22 digits and "==". */
static const char *handshake_key(weft_request_t *r)
{
    field_scan_t fs = { NULL, 0, 0 };
    const char *key;
    int i;

    apr_table_do(scan_field, &fs, weft_req_headers(r), "Sec-WebSocket-Key",
                 NULL);
    key = weft_req_header(r, "Sec-WebSocket-Key");
    if (fs.fields != 1 || key == NULL || strlen(key) != 24 ||
        strcmp(key + 22, "==") != 0)
        return NULL;
    for (i = 0; i < 22; i++)
        if (!is_base64(key[i]))
            return NULL;
    return key;
}

static void accept_key(const char *key, char out[32])
{
    apr_sha1_ctx_t c;
    unsigned char d[APR_SHA1_DIGESTSIZE];

    apr_sha1_init(&c);
    apr_sha1_update(&c, key, (unsigned int)strlen(key));
    apr_sha1_update(&c, WS_GUID, (unsigned int)strlen(WS_GUID));
    apr_sha1_final(d, &c);
    apr_base64_encode(out, (const char *)d, (int)sizeof(d));
}

/* Why the request is not a WebSocket handshake (NULL if it is one), and
 * the status that says so: 426 when it does not ask for an upgrade to
 * WebSocket 13, which the client may then retry (RFC 6455 4.4), else 400. */
static const char *handshake_check(weft_request_t *r, int *code,
                                   const char **key)
{
    const char *version = weft_req_header(r, "Sec-WebSocket-Version");

    *code = 400;
    if (strcmp(weft_req_method(r), "GET") != 0)
        return "websocket: the handshake's method must be GET";
    if (!weft_req_proto_at_least(r, 1, 1))
        return "websocket: the handshake needs HTTP/1.1";
    *code = 426;
    if (!has_token(r, "Connection", "upgrade"))
        return "websocket: the Connection field lacks the upgrade token";
    if (!has_token(r, "Upgrade", "websocket"))
        return "websocket: the Upgrade field lacks the websocket token";
    if (version == NULL || strcmp(version, "13") != 0)
        return "websocket: unsupported version: Sec-WebSocket-Version "
               "must be 13";
    *code = 400;
    if ((*key = handshake_key(r)) == NULL)
        return "websocket: Sec-WebSocket-Key must be one field of 16 bytes "
               "in base64";
    if (weft_req_content_length(r) != 0)
        return "websocket: the handshake must not have a body";
    return NULL;
}

static apr_status_t session_cleanup(void *data)
{
    weft_ws_t *ws = data;

    free(ws->msg);
    ws->msg = NULL;
    pthread_mutex_destroy(&ws->wmu);
    return APR_SUCCESS;
}

static void ws_on_shutdown(void *data);
static void going_away_check(weft_ws_t *ws);

/* Out of the registry, so Shutdown's callback no longer finds it. */
static void unregister(weft_ws_t *ws)
{
    pthread_mutex_lock(&registry_mu);
    if (registry != NULL && ws->id != 0)
        apr_hash_set(registry, &ws->id, sizeof(ws->id), NULL);
    pthread_mutex_unlock(&registry_mu);
}

int ws_handshake(weft_rw_t *w, weft_request_t *r, const ws_config_t *conf,
                 weft_ws_t **out)
{
    const char *key = NULL, *why;
    char accept[32], head[160];
    weft_hijack_t *h;
    weft_ws_t *ws;
    struct iovec iov;
    apr_size_t written;
    apr_status_t rv;
    int code, n;

    why = handshake_check(r, &code, &key);
    if (why != NULL) {
        apr_table_t *hdr = weft_rw_headers(w);
        weft_log(WEFT_LOG_DEBUG, 0, "%s: %s", weft_req_remote(r), why);
        apr_table_set(hdr, "Sec-WebSocket-Version", "13");
        if (code == 426)
            apr_table_set(hdr, "Upgrade", "websocket");
        weft_rw_error(w, code, why);
        return WEFT_DONE;
    }
    accept_key(key, accept);
    rv = weft_rw_hijack(w, &h);
    if (rv != APR_SUCCESS) {
        weft_log_error(WEFT_LOG_ERR, rv, "websocket: cannot hijack %s",
                       weft_req_remote(r));
        return WEFT_ERROR;
    }
    /* The session lives in the connection's pool, which the hijack hands
     * over and weft_hijack_close clears. */
    ws = apr_pcalloc(h->pool, sizeof(*ws));
    ws->h = h;
    ws->t = h->transport;
    ws->close_timeout = conf->close_timeout;
    ws->remote = weft_conn_remote(h->conn);
    ws->in = h->buffered;
    ws->in_len = h->buffered_len;
    ws->rbuf = apr_palloc(h->pool, WS_RBUF);
    ws->max_message = conf->max_message;
    pthread_mutex_init(&ws->wmu, NULL);
    atomic_init(&ws->close_sent, 0);
    atomic_init(&ws->going_away, 0);
    apr_pool_cleanup_register(h->pool, ws, session_cleanup,
                              apr_pool_cleanup_null);

    /*
     * Registered for Shutdown before the 101 leaves: a client that has
     * read the 101 and then sees the server stop must find its session
     * waited for (until ShutdownTimeout), not cut when the process exits.
     * The 101 goes out under the write lock, so a callback that runs
     * meanwhile (or here, at once, if Shutdown already began) only marks
     * the session going away, and the 1001 follows the 101
     * (going_away_check).
     */
    pthread_mutex_lock(&ws->wmu);
    pthread_mutex_lock(&registry_mu);
    if (registry != NULL) {
        ws->id = ++registry_next;
        apr_hash_set(registry, &ws->id, sizeof(ws->id), ws);
    }
    pthread_mutex_unlock(&registry_mu);
    if (ws->id != 0)
        weft_hijack_on_shutdown(h, ws_on_shutdown, (void *)ws->id);
    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 101 Switching Protocols\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n",
                 accept);
    iov.iov_base = head;
    iov.iov_len = (size_t)n;
    rv = h->transport->ops->writev(
        h->transport, &iov, 1, &written,
        conf->close_timeout > 0 ? apr_time_now() + conf->close_timeout : 0);
    pthread_mutex_unlock(&ws->wmu);
    if (rv != APR_SUCCESS) {
        weft_log(WEFT_LOG_DEBUG, rv, "websocket %s: cannot send the 101",
                 weft_req_remote(r));
        unregister(ws);
        weft_hijack_close(h);
        return WEFT_ERROR;
    }
    going_away_check(ws);
    weft_log(WEFT_LOG_DEBUG, 0, "websocket %s: open", ws->remote);
    *out = ws;
    return WEFT_OK;
}

/* ---- writing ----------------------------------------------------------- */

/* One unmasked frame with FIN set (a server never masks). */
static apr_status_t write_frame(weft_ws_t *ws, int op, const void *data,
                                apr_size_t len, apr_time_t deadline)
{
    unsigned char hdr[10];
    struct iovec iov[2];
    apr_size_t hn, written;
    int i;

    hdr[0] = (unsigned char)(0x80 | op);
    if (len < 126) {
        hdr[1] = (unsigned char)len;
        hn = 2;
    } else if (len <= 0xFFFF) {
        hdr[1] = 126;
        hdr[2] = (unsigned char)(len >> 8);
        hdr[3] = (unsigned char)len;
        hn = 4;
    } else {
        hdr[1] = 127;
        for (i = 0; i < 8; i++)
            hdr[2 + i] = (unsigned char)((apr_uint64_t)len >> (56 - 8 * i));
        hn = 10;
    }
    iov[0].iov_base = hdr;
    iov[0].iov_len = hn;
    iov[1].iov_base = (void *)data;
    iov[1].iov_len = len;
    return ws->t->ops->writev(ws->t, iov, 2, &written, deadline);
}

/* Nothing may follow a frame cut short: no more frames, and the
 * connection is shut so the reader stops too.  Under wmu. */
static void write_failed(weft_ws_t *ws)
{
    if (!atomic_load(&ws->close_sent)) {
        ws->sent_code = WEFT_WS_CLOSE_ABNORMAL;
        ws->sent_reason[0] = '\0';
        atomic_store(&ws->close_sent, 1);
    }
    ws->t->ops->shutdown(ws->t);
}

/* Sends the close frame unless one went already.  Under wmu.  code 0 (or
 * one that must not be sent, RFC 6455 7.4.1) sends none. */
static apr_status_t close_locked(weft_ws_t *ws, int code, const char *reason,
                                 apr_time_t deadline)
{
    unsigned char p[125];
    apr_size_t n = 0, rn = 0;
    apr_status_t rv;

    if (atomic_load(&ws->close_sent))
        return WEFT_WS_ECLOSED;
    if ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
        (code >= 3000 && code <= 4999)) {
        p[0] = (unsigned char)(code >> 8);
        p[1] = (unsigned char)code;
        n = 2;
        rn = reason != NULL ? strlen(reason) : 0;
        if (rn > sizeof(p) - 2) {
            /* Cut at a character boundary: the reason must stay UTF-8. */
            rn = sizeof(p) - 2;
            while (rn > 0 && ((unsigned char)reason[rn] & 0xC0) == 0x80)
                rn--;
        }
        if (rn > 0)
            memcpy(p + 2, reason, rn);
        n += rn;
    } else {
        code = WEFT_WS_CLOSE_NO_STATUS;
    }
    rv = write_frame(ws, OP_CLOSE, p, n, deadline);
    ws->sent_code = code;
    memcpy(ws->sent_reason, p + 2, rn);
    ws->sent_reason[rn] = '\0';
    atomic_store(&ws->close_sent, 1);
    if (rv != APR_SUCCESS)
        ws->t->ops->shutdown(ws->t);
    return rv;
}

/* Shutdown asked for 1001 while a writer held the lock: the writer that
 * lets go of it sends it (ws_on_shutdown could not wait for the lock). */
static void going_away_check(weft_ws_t *ws)
{
    if (atomic_load(&ws->going_away) && !atomic_load(&ws->close_sent)) {
        pthread_mutex_lock(&ws->wmu);
        close_locked(ws, WEFT_WS_CLOSE_GOING_AWAY, WS_GOING_AWAY,
                     ws->write_deadline);
        pthread_mutex_unlock(&ws->wmu);
    }
}

/* WRITE_DEADLINE: the session's write deadline, read under the lock. */
#define WRITE_DEADLINE ((apr_time_t)-1)

static apr_status_t send_close(weft_ws_t *ws, int code, const char *reason,
                               apr_time_t deadline)
{
    apr_status_t rv;

    pthread_mutex_lock(&ws->wmu);
    if (deadline == WRITE_DEADLINE)
        deadline = ws->write_deadline;
    rv = close_locked(ws, code, reason, deadline);
    pthread_mutex_unlock(&ws->wmu);
    return rv;
}

apr_status_t weft_ws_write(weft_ws_t *ws, int type, const void *data,
                           apr_size_t len)
{
    apr_status_t rv;

    if (type != OP_TEXT && type != OP_BINARY && type != OP_PING &&
        type != OP_PONG)
        return APR_EINVAL;
    if (type >= OP_PING && len > 125)
        return APR_EINVAL;
    pthread_mutex_lock(&ws->wmu);
    if (atomic_load(&ws->close_sent)) {
        rv = WEFT_WS_ECLOSED;
    } else {
        rv = write_frame(ws, type, data, len, ws->write_deadline);
        if (rv != APR_SUCCESS)
            write_failed(ws);
    }
    pthread_mutex_unlock(&ws->wmu);
    going_away_check(ws);
    return rv;
}

void weft_ws_set_write_deadline(weft_ws_t *ws, apr_time_t deadline)
{
    pthread_mutex_lock(&ws->wmu);
    ws->write_deadline = deadline;
    pthread_mutex_unlock(&ws->wmu);
}

/*
 * Shutdown's callback, on its thread: it must not block, so it sends the
 * 1001 itself only when the write lock is free (the usual case: the
 * session waits in a read), with a short deadline; otherwise the writer
 * holding the lock sends it on its way out (going_away_check).  Either
 * way the reader then gets the peer's answering close and the handler
 * ends the session; one that never answers is cut when Shutdown's
 * deadline passes and Close shuts the socket.
 */
static void ws_on_shutdown(void *data)
{
    uintptr_t id = (uintptr_t)data;
    weft_ws_t *ws;

    pthread_mutex_lock(&registry_mu);
    ws = registry != NULL ? apr_hash_get(registry, &id, sizeof(id)) : NULL;
    if (ws != NULL) {
        atomic_store(&ws->going_away, 1);
        if (pthread_mutex_trylock(&ws->wmu) == 0) {
            close_locked(ws, WEFT_WS_CLOSE_GOING_AWAY, WS_GOING_AWAY,
                         apr_time_now() + WS_SHUTDOWN_WRITE);
            pthread_mutex_unlock(&ws->wmu);
        }
    }
    pthread_mutex_unlock(&registry_mu);
}

/* ---- reading ----------------------------------------------------------- */

/* Copies n bytes of input to dst: the hijack's buffered bytes first, then
 * the transport, large remainders straight into dst. */
static apr_status_t read_exact(weft_ws_t *ws, void *dst, apr_size_t n)
{
    char *d = dst;

    while (n > 0) {
        apr_size_t k;
        apr_status_t rv;

        if (ws->in_len > 0) {
            k = n < ws->in_len ? n : ws->in_len;
            memcpy(d, ws->in, k);
            ws->in += k;
            ws->in_len -= k;
            d += k;
            n -= k;
            continue;
        }
        if (n >= WS_RBUF) {
            k = n;
            rv = ws->t->ops->read(ws->t, d, &k, ws->read_deadline);
            if (rv != APR_SUCCESS)
                return rv;
            d += k;
            n -= k;
            continue;
        }
        k = WS_RBUF;
        rv = ws->t->ops->read(ws->t, ws->rbuf, &k, ws->read_deadline);
        if (rv != APR_SUCCESS)
            return rv;
        ws->in = ws->rbuf;
        ws->in_len = k;
    }
    return APR_SUCCESS;
}

/* Discards n bytes of input (a data frame that arrives while closing). */
static apr_status_t skip(weft_ws_t *ws, apr_uint64_t n)
{
    while (n > 0) {
        apr_size_t k;
        apr_status_t rv;

        if (ws->in_len > 0) {
            k = n < ws->in_len ? (apr_size_t)n : ws->in_len;
            ws->in += k;
            ws->in_len -= k;
            n -= k;
            continue;
        }
        k = WS_RBUF;
        rv = ws->t->ops->read(ws->t, ws->rbuf, &k, ws->read_deadline);
        if (rv != APR_SUCCESS)
            return rv;
        ws->in = ws->rbuf;
        ws->in_len = k;
    }
    return APR_SUCCESS;
}

/* Client frames are masked with a 4-byte key (RFC 6455 5.3); eight bytes
 * at a time keep 16 MiB messages cheap. */
static void unmask(unsigned char *p, apr_size_t n, const unsigned char key[4])
{
    unsigned char k8[8];
    apr_uint64_t k, v;
    apr_size_t i = 0;

    memcpy(k8, key, 4);
    memcpy(k8 + 4, key, 4);
    memcpy(&k, k8, 8);
    for (; i + 8 <= n; i += 8) {
        memcpy(&v, p + i, 8);
        v ^= k;
        memcpy(p + i, &v, 8);
    }
    for (; i < n; i++)
        p[i] ^= key[i & 3];
}

/* Feeds bytes to the validator: 0 at the first byte that cannot continue
 * well-formed UTF-8 (RFC 3629: no overlongs, surrogates or values past
 * U+10FFFF).  An incomplete character at the end is left in u. */
static int utf8_feed(ws_utf8_t *u, const unsigned char *p, apr_size_t n)
{
    apr_size_t i = 0;

    while (i < n) {
        unsigned c;

        if (u->need > 0) {
            c = p[i++];
            if (c < u->lo || c > u->hi)
                return 0;
            u->lo = 0x80;
            u->hi = 0xBF;
            u->need--;
            continue;
        }
        /* ASCII runs, eight bytes at a time. */
        while (i + 8 <= n) {
            apr_uint64_t v;
            memcpy(&v, p + i, 8);
            if (v & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        c = p[i++];
        if (c < 0x80)
            continue;
        u->lo = 0x80;
        u->hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            u->need = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            u->need = 2;
        else if (c >= 0xF0 && c <= 0xF4)
            u->need = 3;
        else
            return 0;
        if (c == 0xE0)
            u->lo = 0xA0; /* no overlong 3-byte forms */
        else if (c == 0xED)
            u->hi = 0x9F; /* no surrogates */
        else if (c == 0xF0)
            u->lo = 0x90; /* no overlong 4-byte forms */
        else if (c == 0xF4)
            u->hi = 0x8F; /* nothing past U+10FFFF */
    }
    return 1;
}

static apr_status_t read_end(weft_ws_t *ws, apr_status_t rv)
{
    ws->ended = 1;
    ws->end_status = rv;
    return rv;
}

/* RFC 6455 7.1.7, "Fail the WebSocket Connection": close with code, and
 * read nothing more (the input is no longer in step with the frames). */
static apr_status_t read_fail(weft_ws_t *ws, int code, const char *why)
{
    weft_log(WEFT_LOG_DEBUG, 0, "websocket %s: %s: closing with %d", ws->remote,
             why, code);
    send_close(ws, code, why, WRITE_DEADLINE);
    return read_end(ws, WEFT_WS_ECLOSED);
}

/* Room for need bytes and a NUL in the message buffer; 0 when memory
 * ran out.  The buffer doubles, within the maximum. */
static int reserve(weft_ws_t *ws, apr_size_t need)
{
    apr_size_t cap;
    char *m;

    if (need < ws->msg_cap)
        return 1;
    cap = ws->msg_cap > 0 ? ws->msg_cap : 4096;
    while (cap <= need) {
        if (cap > APR_SIZE_MAX / 2) {
            cap = need + 1;
            break;
        }
        cap *= 2;
    }
    if (ws->max_message > 0 && cap > ws->max_message + 1 &&
        need < ws->max_message + 1)
        cap = ws->max_message + 1;
    m = realloc(ws->msg, cap);
    if (m == NULL)
        return 0;
    ws->msg = m;
    ws->msg_cap = cap;
    return 1;
}

static int close_code_ok(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* A control frame's payload, already read and unmasked.  APR_SUCCESS to
 * go on reading; anything else ends the read. */
static apr_status_t control(weft_ws_t *ws, int op, const unsigned char *p,
                            apr_size_t n)
{
    ws_utf8_t u = { 0, 0, 0 };
    int code;

    if (op == OP_PING) {
        apr_status_t rv = weft_ws_write(ws, OP_PONG, p, n);
        return rv == WEFT_WS_ECLOSED ? APR_SUCCESS : rv;
    }
    if (op == OP_PONG)
        return APR_SUCCESS;
    /* The peer's close: its code, validated, and ours in answer. */
    if (n == 1)
        return read_fail(ws, WEFT_WS_CLOSE_PROTOCOL_ERROR,
                         "close frame with a 1-byte payload");
    code = n >= 2 ? (p[0] << 8 | p[1]) : WEFT_WS_CLOSE_NO_STATUS;
    if (n >= 2 && !close_code_ok(code))
        return read_fail(ws, WEFT_WS_CLOSE_PROTOCOL_ERROR,
                         "invalid close code");
    if (n > 2 && (!utf8_feed(&u, p + 2, n - 2) || u.need > 0))
        return read_fail(ws, WEFT_WS_CLOSE_INVALID_DATA,
                         "close reason is not UTF-8");
    ws->peer_code = code;
    if (n > 2)
        memcpy(ws->peer_reason, p + 2, n - 2);
    ws->peer_reason[n > 2 ? n - 2 : 0] = '\0';
    send_close(ws, code == WEFT_WS_CLOSE_NO_STATUS ? 0 : code, NULL,
               WRITE_DEADLINE);
    weft_log(WEFT_LOG_DEBUG, 0, "websocket %s: closed by the peer with %d",
             ws->remote, code);
    return read_end(ws, WEFT_WS_ECLOSED);
}

apr_status_t weft_ws_read(weft_ws_t *ws, int *type, const char **data,
                          apr_size_t *len)
{
    if (ws->ended)
        return ws->end_status;
    if (ws->msg_cap > WS_KEEP) {
        free(ws->msg);
        ws->msg = NULL;
        ws->msg_cap = 0;
    }
    ws->msg_len = 0;
    ws->msg_type = 0;
    for (;;) {
        unsigned char hdr[8], key[4], ctl[125];
        apr_uint64_t plen;
        apr_status_t rv;
        int fin, op, i;

        rv = read_exact(ws, hdr, 2);
        if (rv != APR_SUCCESS)
            return read_end(ws, rv);
        fin = hdr[0] & 0x80;
        op = hdr[0] & 0x0F;
        plen = hdr[1] & 0x7F;
        if (hdr[0] & 0x70)
            return read_fail(ws, WEFT_WS_CLOSE_PROTOCOL_ERROR,
                             "reserved bits set without an extension");
        if (op != OP_CONT && op != OP_TEXT && op != OP_BINARY &&
            op != OP_CLOSE && op != OP_PING && op != OP_PONG)
            return read_fail(ws, WEFT_WS_CLOSE_PROTOCOL_ERROR,
                             "unknown opcode");
        if (op >= OP_CLOSE && !fin)
            return read_fail(ws, WEFT_WS_CLOSE_PROTOCOL_ERROR,
                             "fragmented control frame");
        if (op >= OP_CLOSE && plen > 125)
            return read_fail(ws, WEFT_WS_CLOSE_PROTOCOL_ERROR,
                             "control frame over 125 bytes");
        if (!(hdr[1] & 0x80))
            return read_fail(ws, WEFT_WS_CLOSE_PROTOCOL_ERROR,
                             "unmasked client frame");
        if (plen >= 126) {
            int k = plen == 126 ? 2 : 8;
            rv = read_exact(ws, hdr, (apr_size_t)k);
            if (rv != APR_SUCCESS)
                return read_end(ws, rv);
            for (plen = 0, i = 0; i < k; i++)
                plen = plen << 8 | hdr[i];
            if (plen >> 63)
                return read_fail(ws, WEFT_WS_CLOSE_PROTOCOL_ERROR,
                                 "frame length over 2^63");
        }
        rv = read_exact(ws, key, 4);
        if (rv != APR_SUCCESS)
            return read_end(ws, rv);

        if (op >= OP_CLOSE) {
            rv = read_exact(ws, ctl, (apr_size_t)plen);
            if (rv != APR_SUCCESS)
                return read_end(ws, rv);
            unmask(ctl, (apr_size_t)plen, key);
            rv = control(ws, op, ctl, (apr_size_t)plen);
            if (rv != APR_SUCCESS)
                return ws->ended ? rv : read_end(ws, rv);
            continue;
        }
        if (op == OP_CONT && ws->msg_type == 0)
            return read_fail(ws, WEFT_WS_CLOSE_PROTOCOL_ERROR,
                             "continuation frame outside a message");
        if (op != OP_CONT && ws->msg_type != 0)
            return read_fail(ws, WEFT_WS_CLOSE_PROTOCOL_ERROR,
                             "new message inside a fragmented one");
        if (op != OP_CONT) {
            ws->msg_type = op;
            ws->msg_len = 0;
            memset(&ws->utf8, 0, sizeof(ws->utf8));
        }
        if (atomic_load(&ws->close_sent)) {
            /* Closing: data is discarded until the peer's close. */
            rv = skip(ws, plen);
            if (rv != APR_SUCCESS)
                return read_end(ws, rv);
            if (fin)
                ws->msg_type = 0;
            continue;
        }
        /* Refused on the declared length, before the payload is read. */
        if (ws->max_message > 0 &&
            plen > (apr_uint64_t)(ws->max_message - ws->msg_len))
            return read_fail(ws, WEFT_WS_CLOSE_TOO_BIG, "message too big");
        if (plen >= APR_SIZE_MAX - ws->msg_len ||
            !reserve(ws, ws->msg_len + (apr_size_t)plen))
            return read_fail(ws, WEFT_WS_CLOSE_TOO_BIG,
                             "message too big for memory");
        rv = read_exact(ws, ws->msg + ws->msg_len, (apr_size_t)plen);
        if (rv != APR_SUCCESS)
            return read_end(ws, rv);
        unmask((unsigned char *)ws->msg + ws->msg_len, (apr_size_t)plen, key);
        if (ws->msg_type == OP_TEXT &&
            !utf8_feed(&ws->utf8, (const unsigned char *)ws->msg + ws->msg_len,
                       (apr_size_t)plen))
            return read_fail(ws, WEFT_WS_CLOSE_INVALID_DATA,
                             "text message is not UTF-8");
        ws->msg_len += (apr_size_t)plen;
        if (!fin)
            continue;
        if (ws->msg_type == OP_TEXT && ws->utf8.need > 0)
            return read_fail(ws, WEFT_WS_CLOSE_INVALID_DATA,
                             "text message ends inside a character");
        ws->msg[ws->msg_len] = '\0';
        *type = ws->msg_type;
        *data = ws->msg;
        *len = ws->msg_len;
        ws->msg_type = 0;
        return APR_SUCCESS;
    }
}

void weft_ws_set_max_message(weft_ws_t *ws, apr_size_t max)
{
    ws->max_message = max;
}

void weft_ws_set_read_deadline(weft_ws_t *ws, apr_time_t deadline)
{
    ws->read_deadline = deadline;
}

int weft_ws_close_code(weft_ws_t *ws, const char **reason)
{
    int code = 0;

    if (reason != NULL)
        *reason = "";
    if (ws->peer_code != 0) {
        if (reason != NULL)
            *reason = ws->peer_reason;
        return ws->peer_code;
    }
    pthread_mutex_lock(&ws->wmu);
    if (atomic_load(&ws->close_sent)) {
        code = ws->sent_code;
        if (reason != NULL)
            *reason = ws->sent_reason;
    }
    pthread_mutex_unlock(&ws->wmu);
    if (code == 0 && ws->ended)
        code = WEFT_WS_CLOSE_ABNORMAL;
    return code;
}

/* ---- closing ----------------------------------------------------------- */

apr_status_t weft_ws_close(weft_ws_t *ws, int code, const char *reason)
{
    apr_time_t until =
        ws->close_timeout > 0 ? apr_time_now() + ws->close_timeout : 0;
    apr_status_t rv;
    int done;

    send_close(ws, code, reason, until);
    /* Wait for the peer's close; reads discard data once ours went out. */
    ws->read_deadline = until;
    while (!ws->ended) {
        int type;
        const char *data;
        apr_size_t len;
        weft_ws_read(ws, &type, &data, &len);
    }
    done = ws->peer_code != 0;
    /*
     * Lingering close, as Apache and Go's closeWriteAndWait do: FIN first,
     * then read until the peer closes too.  Closing with unread input
     * would reset the connection, and a reset can destroy the close frame
     * still in flight to the peer (the 1009 case: the payload is never
     * read).
     */
    ws->t->ops->close_write(ws->t);
    ws->in_len = 0;
    for (;;) {
        apr_size_t k = WS_RBUF;
        rv = ws->t->ops->read(ws->t, ws->rbuf, &k, until);
        if (rv != APR_SUCCESS)
            break;
    }
    unregister(ws);
    weft_log(WEFT_LOG_DEBUG, 0, "websocket %s: closed%s", ws->remote,
             done ? "" : " without the peer's close");
    weft_hijack_close(ws->h); /* frees ws: session_cleanup */
    return done ? APR_SUCCESS : WEFT_WS_ECLOSED;
}
