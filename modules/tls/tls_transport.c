/*
 * tls_transport.c -- the TLS implementation of weft's transport: OpenSSL
 * over the connection's socket through a small BIO of our own (recv and
 * send never block), every wait through the waiting primitive under the
 * caller's deadline (the keep-alive wait receiving the next record in the
 * same call); the handshake (with Go's answer to plain HTTP), the
 * disconnect watcher's alive check, and the TLS state handlers read
 * (weft_req_tls).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls.h"

/* Go's answer to a client speaking plain HTTP to a TLS port. */
#define PLAIN_HTTP_ANSWER              \
    "HTTP/1.0 400 Bad Request\r\n\r\n" \
    "Client sent an HTTP request to an HTTPS server.\n"
/* Unread plaintext drained before that answer, so that the close that
 * follows sends a FIN rather than a reset that could destroy it. */
#define PLAIN_HTTP_DRAIN 65536
/* How long the answer may wait for room when no handshake deadline is
 * set. */
#define PLAIN_HTTP_WRITE_TIME apr_time_from_sec(1)
/* Bytes of a write gathered into one TLS record (the maximum plaintext
 * of a record): a response's head and body go out as one record. */
#define STAGE_SIZE 16384
/* Room for the bytes the keep-alive wait receives before OpenSSL asks for
 * them: a request's record or more; the rest of a bigger one comes
 * through the BIO's own recv. */
#define IDLE_STAGE_SIZE 4096

/*
 * One TLS connection.  The disconnect watcher calls alive() from its own
 * thread while the owner may be inside SSL_write, and OpenSSL objects are
 * not thread-safe: every SSL_* call on ssl happens with mu held.  mu is
 * held only around those calls (never across a wait), so alive() never
 * waits for more than one non-blocking OpenSSL call.
 */
typedef struct tls_conn_t {
    weft_transport_t t; /* what the core holds; t.data is this */
    /* Immutable once the handshake starts. */
    weft_conn_t *conn;
    pthread_mutex_t mu;
    /* Guarded by mu: OpenSSL's state, and what our BIO records from
     * inside SSL_* calls.  (head and plain_http are read without it after
     * a failed handshake: no other thread knows the connection yet.) */
    SSL *ssl;
    unsigned char head[5]; /* the first bytes received (plain HTTP?) */
    apr_size_t head_len;
    int plain_http; /* they were Go's tlsRecordHeaderLooksLikeHTTP */
    int io_errno;   /* the BIO's last errno (SSL_ERROR_SYSCALL) */
    int bio_eof;    /* recv saw the peer's FIN */
    /* Bytes the keep-alive wait received for OpenSSL, served by bio_read
     * first: [idle_off, idle_len) of idle_buf.  The owner fills idle_buf
     * outside mu, but only while idle_len is 0 (no reader looks at it). */
    char *idle_buf;
    apr_size_t idle_off, idle_len;
    int failed;            /* a fatal error: no close_notify may follow */
    unsigned long ssl_err; /* OpenSSL's code for it, for the log */
    /* Owner thread only; written before any handler runs, so before the
     * watcher can call alive(), which reads refused. */
    int handshaken;
    int refused; /* an ALPN protocol nobody claimed: reads see EOF */
    apr_interval_time_t timeo; /* the keep-alive wait's (weft_wait_recv) */
    const char *alpn;
    weft_tls_info_t *info; /* built on the first weft_req_tls */
} tls_conn_t;

typedef enum { OP_HANDSHAKE, OP_READ, OP_WRITE } tls_op_t;

static const weft_transport_ops_t tls_ops;
/* Created once on the main thread before serving; read-only after. */
static BIO_METHOD *bio_method;

/* Go's tlsRecordHeaderLooksLikeHTTP. */
static int looks_like_http(const unsigned char *head)
{
    static const char *const starts[] = { "GET /", "HEAD ", "POST ", "PUT /",
                                          "OPTIO" };
    apr_size_t i;

    for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
        if (memcmp(head, starts[i], 5) == 0)
            return 1;
    return 0;
}

/* ---- the BIO: non-blocking recv/send on the socket -------------------- */

/*
 * Keeps the connection's first five bytes.  When they are plain HTTP the
 * read fails before OpenSSL sees them, so no TLS alert goes out ahead of
 * Go's 400 (OpenSSL alerts on "OPTIO", though not on "GET /").
 */
static int bio_head(tls_conn_t *tc, const char *buf, ssize_t n)
{
    ssize_t k = 0;

    while (tc->head_len < sizeof(tc->head) && k < n)
        tc->head[tc->head_len++] = (unsigned char)buf[k++];
    if (k == 0 || tc->head_len < sizeof(tc->head) || !looks_like_http(tc->head))
        return 0;
    tc->plain_http = 1;
    tc->io_errno = EPROTO;
    return 1;
}

static int bio_read(BIO *b, char *buf, int len)
{
    tls_conn_t *tc = BIO_get_data(b);
    ssize_t n;

    BIO_clear_retry_flags(b);
    if (tc->idle_len > 0) {
        apr_size_t k = tc->idle_len - tc->idle_off;
        if (k > (apr_size_t)len)
            k = (apr_size_t)len;
        memcpy(buf, tc->idle_buf + tc->idle_off, k);
        tc->idle_off += k;
        if (tc->idle_off == tc->idle_len)
            tc->idle_off = tc->idle_len = 0;
        return (int)k;
    }
    do
        n = recv(tc->t.fd, buf, (size_t)len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        if (tc->head_len < sizeof(tc->head) && bio_head(tc, buf, n))
            return -1;
        return (int)n;
    }
    if (n == 0) {
        tc->bio_eof = 1; /* BIO_CTRL_EOF: OpenSSL's clean EOF */
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        BIO_set_retry_read(b);
    else
        tc->io_errno = errno;
    return -1;
}

static int bio_write(BIO *b, const char *buf, int len)
{
    tls_conn_t *tc = BIO_get_data(b);
    ssize_t n;

    BIO_clear_retry_flags(b);
    do
        n = send(tc->t.fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        BIO_set_retry_write(b);
    else
        tc->io_errno = errno;
    return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    tls_conn_t *tc = BIO_get_data(b);

    if (cmd == BIO_CTRL_FLUSH)
        return 1; /* send() does not buffer */
    if (cmd == BIO_CTRL_EOF)
        return tc != NULL && tc->bio_eof;
    return 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static apr_status_t free_bio_method(void *data)
{
    BIO_meth_free(bio_method);
    bio_method = NULL;
    return APR_SUCCESS;
}

apr_status_t tls_transport_init(apr_pool_t *pconf)
{
    if (bio_method != NULL)
        return APR_SUCCESS;
    bio_method =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "weft socket");
    if (bio_method == NULL)
        return APR_ENOMEM;
    BIO_meth_set_read(bio_method, bio_read);
    BIO_meth_set_write(bio_method, bio_write);
    BIO_meth_set_ctrl(bio_method, bio_ctrl);
    BIO_meth_set_create(bio_method, bio_create);
    apr_pool_cleanup_register(pconf, NULL, free_bio_method,
                              apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* ---- driving OpenSSL under a deadline ------------------------------------ */

/* Go's pollDesc.prepareRead/Write: a passed deadline fails the I/O at
 * once, whatever is buffered (as weft's TCP transport does). */
static int expired(apr_time_t deadline)
{
    return deadline != 0 && apr_time_now() >= deadline;
}

/*
 * One SSL_* call under mu; returns SSL_get_error's verdict, and in *sys
 * the socket's errno for SSL_ERROR_SYSCALL (read under mu: the watcher's
 * peek writes it too).  OpenSSL's error queue is per thread, and mod_tls
 * (the one OpenSSL user in weftd) leaves it empty after every failed call
 * (keeping the reason in tc->ssl_err), so the hot path needs no
 * ERR_clear_error before each call.
 */
static int ssl_step(tls_conn_t *tc, tls_op_t op, void *buf, apr_size_t len,
                    apr_size_t *done, int *sys)
{
    int rc = 0, err;

    pthread_mutex_lock(&tc->mu);
    tc->io_errno = 0;
    switch (op) {
    case OP_HANDSHAKE:
        rc = SSL_do_handshake(tc->ssl);
        break;
    case OP_READ:
        rc = SSL_read_ex(tc->ssl, buf, len, done);
        break;
    case OP_WRITE:
        rc = SSL_write_ex(tc->ssl, buf, len, done);
        break;
    }
    err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(tc->ssl, rc);
    if (err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL) {
        tc->failed = 1;
        tc->ssl_err = ERR_peek_last_error();
        ERR_clear_error();
    }
    *sys = tc->io_errno;
    pthread_mutex_unlock(&tc->mu);
    return err;
}

/* Runs op to completion, waiting as OpenSSL asks, until deadline.
 * APR_EOF for the peer's close_notify or FIN. */
static apr_status_t ssl_run(tls_conn_t *tc, tls_op_t op, void *buf,
                            apr_size_t len, apr_size_t *done,
                            apr_time_t deadline)
{
    if (expired(deadline))
        return APR_TIMEUP;
    for (;;) {
        apr_status_t rv;
        int sys;

        switch (ssl_step(tc, op, buf, len, done, &sys)) {
        case SSL_ERROR_NONE:
            return APR_SUCCESS;
        case SSL_ERROR_WANT_READ:
            rv = weft_wait_fd(tc->t.fd, WEFT_WAIT_READ, deadline);
            break;
        case SSL_ERROR_WANT_WRITE:
            rv = weft_wait_fd(tc->t.fd, WEFT_WAIT_WRITE, deadline);
            break;
        case SSL_ERROR_ZERO_RETURN:
            return APR_EOF;
        case SSL_ERROR_SYSCALL:
            return sys != 0 ? APR_FROM_OS_ERROR(sys) : APR_EOF;
        default:
            return APR_EGENERAL; /* a TLS protocol error */
        }
        if (rv != APR_SUCCESS)
            return rv;
    }
}

/* ---- the transport ------------------------------------------------------- */

static apr_status_t tls_read(weft_transport_t *t, char *buf, apr_size_t *n,
                             apr_time_t deadline)
{
    tls_conn_t *tc = t->data;
    apr_size_t got = 0;
    apr_status_t rv;

    if (tc->refused) {
        *n = 0;
        return APR_EOF;
    }
    rv = ssl_run(tc, OP_READ, buf, *n, &got, deadline);
    *n = rv == APR_SUCCESS ? got : 0;
    return rv;
}

/* Whether a read can answer without the socket: bytes in OpenSSL or in
 * our stage, the peer's close_notify or an error to report.  Under mu. */
static int tls_pending(tls_conn_t *tc)
{
    return tc->failed || tc->idle_len > 0 || SSL_has_pending(tc->ssl) ||
           (SSL_get_shutdown(tc->ssl) & SSL_RECEIVED_SHUTDOWN);
}

/*
 * OpenSSL's state first: the socket may be empty while a request waits
 * in OpenSSL's buffer (decrypted, or raw bytes read ahead), or while the
 * peer's close_notify (or an error) that the watcher's peek consumed
 * waits to be reported by the next read.
 */
static apr_status_t tls_wait_readable(weft_transport_t *t, apr_time_t deadline)
{
    tls_conn_t *tc = t->data;
    int pending;

    if (tc->refused)
        return APR_SUCCESS;
    pthread_mutex_lock(&tc->mu);
    pending = tls_pending(tc);
    pthread_mutex_unlock(&tc->mu);
    if (pending)
        return APR_SUCCESS;
    return weft_wait_fd(tc->t.fd, WEFT_WAIT_READ, deadline);
}

/*
 * The keep-alive wait: when nothing is buffered, receive the next bytes
 * in the wait itself (one syscall rather than poll and recv, as the TCP
 * transport does), outside mu, and let OpenSSL take them through the BIO.
 */
static apr_status_t tls_read_idle(weft_transport_t *t, char *buf, apr_size_t *n,
                                  apr_time_t deadline)
{
    tls_conn_t *tc = t->data;
    apr_ssize_t got;
    int pending;

    if (tc->refused) {
        *n = 0;
        return APR_EOF;
    }
    pthread_mutex_lock(&tc->mu);
    pending = tls_pending(tc);
    pthread_mutex_unlock(&tc->mu);
    if (!pending) {
        if (tc->idle_buf == NULL)
            tc->idle_buf =
                apr_palloc(weft_conn_pool(tc->conn), IDLE_STAGE_SIZE);
        got = weft_wait_recv(t->fd, tc->idle_buf, IDLE_STAGE_SIZE, deadline,
                             &tc->timeo);
        if (got < 0) {
            *n = 0;
            return errno == EAGAIN ? APR_TIMEUP : APR_FROM_OS_ERROR(errno);
        }
        if (got > 0) {
            pthread_mutex_lock(&tc->mu);
            tc->idle_off = 0;
            tc->idle_len = (apr_size_t)got;
            pthread_mutex_unlock(&tc->mu);
        }
        /* 0, the peer's FIN: the read below finds it again and tells a
         * close_notify'd end from a cut one, as OpenSSL sees it. */
    }
    return tls_read(t, buf, n, deadline);
}

/* One SSL_write of len bytes, counted into *written when it completes. */
static apr_status_t write_all(tls_conn_t *tc, const char *buf, apr_size_t len,
                              apr_size_t *written, apr_time_t deadline)
{
    apr_size_t done = 0;
    apr_status_t rv = ssl_run(tc, OP_WRITE, (void *)buf, len, &done, deadline);

    if (rv == APR_SUCCESS)
        *written += done;
    return rv;
}

/*
 * The core writes a response as a few small pieces (head, body, chunk
 * framing): gather them into one record of up to STAGE_SIZE rather than
 * one record (and one send) each.  A piece at least that large goes
 * straight to OpenSSL, which encrypts it in place of our copy.
 */
static apr_status_t tls_writev(weft_transport_t *t, const struct iovec *iov,
                               int iovcnt, apr_size_t *written,
                               apr_time_t deadline)
{
    tls_conn_t *tc = t->data;
    char stage[STAGE_SIZE];
    apr_size_t used = 0;
    apr_status_t rv = APR_SUCCESS;
    int i;

    *written = 0; /* each SSL_write checks the deadline (ssl_run) */
    for (i = 0; i < iovcnt && rv == APR_SUCCESS; i++) {
        const char *p = iov[i].iov_base;
        apr_size_t left = iov[i].iov_len;
        while (left > 0 && rv == APR_SUCCESS) {
            apr_size_t k;
            if (used == 0 && left >= STAGE_SIZE) {
                rv = write_all(tc, p, left, written, deadline);
                break;
            }
            k = left < STAGE_SIZE - used ? left : STAGE_SIZE - used;
            memcpy(stage + used, p, k);
            used += k;
            p += k;
            left -= k;
            if (used == STAGE_SIZE) {
                rv = write_all(tc, stage, used, written, deadline);
                used = 0;
            }
        }
    }
    if (rv == APR_SUCCESS && used > 0)
        rv = write_all(tc, stage, used, written, deadline);
    return rv;
}

/*
 * The watcher's question, from its thread: SSL_peek under mu decrypts
 * what arrived without consuming it.  Application data is a pipelined
 * request (1); a close_notify (which TLS 1.3 encrypts, so the record
 * header cannot tell it from data), a FIN or a reset is a disconnect
 * (-1); a partial record is nothing yet (0).  Never blocks: the socket is
 * non-blocking and mu is held by the owner only for one such call.
 */
static int tls_alive(weft_transport_t *t)
{
    tls_conn_t *tc = t->data;
    char b;
    int rc, err;

    if (tc->refused)
        return -1;
    pthread_mutex_lock(&tc->mu);
    ERR_clear_error();
    rc = SSL_peek(tc->ssl, &b, 1);
    err = rc > 0 ? SSL_ERROR_NONE : SSL_get_error(tc->ssl, rc);
    if (err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL)
        tc->failed = 1;
    ERR_clear_error();
    pthread_mutex_unlock(&tc->mu);
    if (err == SSL_ERROR_NONE)
        return 1;
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return 0;
    return -1;
}

static void tls_shutdown(weft_transport_t *t)
{
    shutdown(t->fd, SHUT_RDWR); /* any thread: no OpenSSL call */
}

/* Our close_notify, one non-blocking attempt, once and only after a
 * completed handshake with no fatal error (OpenSSL's rule).  Under mu. */
static void send_close_notify(tls_conn_t *tc)
{
    if (!tc->handshaken || tc->failed ||
        (SSL_get_shutdown(tc->ssl) & SSL_SENT_SHUTDOWN))
        return;
    ERR_clear_error();
    SSL_shutdown(tc->ssl);
    ERR_clear_error();
}

/* Go's tls.Conn.CloseWrite (close_notify), then the TCP half-close the
 * core's closeWriteAndWait expects. */
static void tls_close_write(weft_transport_t *t)
{
    tls_conn_t *tc = t->data;

    pthread_mutex_lock(&tc->mu);
    send_close_notify(tc);
    pthread_mutex_unlock(&tc->mu);
    shutdown(t->fd, SHUT_WR);
}

static void tls_close(weft_transport_t *t)
{
    tls_conn_t *tc = t->data;

    pthread_mutex_lock(&tc->mu);
    send_close_notify(tc);
    SSL_free(tc->ssl); /* and the BIO */
    tc->ssl = NULL;
    pthread_mutex_unlock(&tc->mu);
    pthread_mutex_destroy(&tc->mu);
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

static const weft_transport_ops_t tls_ops = {
    .name = "tls",
    .read = tls_read,
    .read_idle = tls_read_idle,
    .wait_readable = tls_wait_readable,
    .writev = tls_writev,
    .sendfile = NULL, /* encryption needs the bytes: the core copies */
    .alive = tls_alive,
    .shutdown = tls_shutdown,
    .close_write = tls_close_write,
    .close = tls_close,
};

/* ---- the handshake ------------------------------------------------------- */

/* Go writes its 400 on the raw connection and closes it. */
static void answer_plain_http(tls_conn_t *tc, apr_time_t deadline)
{
    static const char answer[] = PLAIN_HTTP_ANSWER;
    char sink[4096];
    apr_size_t drained = 0, off = 0;

    while (drained < PLAIN_HTTP_DRAIN) {
        ssize_t n = recv(tc->t.fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (n <= 0)
            break;
        drained += (apr_size_t)n;
    }
    if (deadline == 0)
        deadline = apr_time_now() + PLAIN_HTTP_WRITE_TIME;
    while (off < sizeof(answer) - 1) {
        ssize_t n = send(tc->t.fd, answer + off, sizeof(answer) - 1 - off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            off += (apr_size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) ||
            weft_wait_fd(tc->t.fd, WEFT_WAIT_WRITE, deadline) != APR_SUCCESS)
            break;
    }
}

/* Why a handshake failed, in words for the debug log. */
static const char *failure_reason(tls_conn_t *tc, apr_status_t rv,
                                  apr_pool_t *p)
{
    unsigned long e;
    char buf[256];

    if (rv == APR_TIMEUP)
        return "timeout";
    if (rv == APR_EOF)
        return "EOF";
    if (rv != APR_EGENERAL)
        return apr_strerror(rv, buf, sizeof(buf)) != NULL ? apr_pstrdup(p, buf)
                                                          : "I/O error";
    e = tc->ssl_err;
    if (e == 0)
        return "TLS error";
    ERR_error_string_n(e, buf, sizeof(buf));
    return apr_pstrdup(p, buf);
}

static void handshake_failed(tls_conn_t *tc, apr_status_t rv,
                             apr_time_t deadline)
{
    const char *why;

    if (tc->plain_http) {
        answer_plain_http(tc, deadline);
        why = "client sent an HTTP request to an HTTPS server";
    } else {
        why = failure_reason(tc, rv, weft_conn_pool(tc->conn));
    }
    ERR_clear_error();
    weft_log(WEFT_LOG_DEBUG, 0, "TLS handshake error from %s: %s",
             weft_conn_remote(tc->conn), why);
}

/* Frees the connection's state if the core never got to close it. */
static apr_status_t tls_conn_cleanup(void *data)
{
    tls_conn_t *tc = data;

    if (tc->ssl != NULL) {
        SSL_free(tc->ssl);
        tc->ssl = NULL;
        pthread_mutex_destroy(&tc->mu);
    }
    return APR_SUCCESS;
}

/* Go's tlsHandshakeTimeout, or TLSHandshakeTimeout. */
static apr_time_t handshake_deadline(const tls_config_t *cf)
{
    return cf->hs_timeout > 0 ? apr_time_now() + cf->hs_timeout : 0;
}

int tls_handshake(weft_conn_t *c, const tls_config_t *cf)
{
    apr_pool_t *pool = weft_conn_pool(c);
    tls_conn_t *tc = apr_pcalloc(pool, sizeof(*tc));
    int fd = weft_conn_transport(c)->fd, one = 1;
    const unsigned char *proto = NULL;
    unsigned int proto_len = 0;
    apr_time_t deadline;
    apr_status_t rv;
    BIO *bio;

    tc->conn = c;
    tc->t.ops = &tls_ops;
    tc->t.fd = fd;
    tc->t.data = tc;
    tc->ssl = SSL_new(cf->default_ctx);
    bio = tc->ssl != NULL ? BIO_new(bio_method) : NULL;
    if (bio == NULL) {
        weft_log_error(WEFT_LOG_ERR, APR_ENOMEM, "%s: cannot start TLS",
                       weft_conn_remote(c));
        SSL_free(tc->ssl);
        ERR_clear_error();
        return WEFT_ERROR; /* the core closes the plain transport */
    }
    pthread_mutex_init(&tc->mu, NULL);
    BIO_set_data(bio, tc);
    SSL_set_bio(tc->ssl, bio, bio);
    SSL_set_accept_state(tc->ssl);
    apr_pool_cleanup_register(pool, tc, tls_conn_cleanup,
                              apr_pool_cleanup_null);
    /* From here the core closes (and frees) through our transport. */
    weft_conn_set_transport(c, &tc->t);
    /* A response must not wait for the ACK of the session tickets that
     * precede it (Nagle with delayed ACKs: 40 ms a connection). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    deadline = handshake_deadline(cf);
    rv = ssl_run(tc, OP_HANDSHAKE, NULL, 0, NULL, deadline);
    if (rv != APR_SUCCESS) {
        handshake_failed(tc, rv, deadline);
        return WEFT_ERROR;
    }
    tc->handshaken = 1;
    SSL_get0_alpn_selected(tc->ssl, &proto, &proto_len);
    if (proto_len > 0)
        tc->alpn = apr_pstrmemdup(pool, (const char *)proto, proto_len);
    return WEFT_OK;
}

/* ---- what the module and handlers ask ----------------------------------- */

static tls_conn_t *tls_conn_of(weft_conn_t *c)
{
    weft_transport_t *t = weft_conn_transport(c);

    return t != NULL && t->ops == &tls_ops ? t->data : NULL;
}

const char *tls_conn_alpn(weft_conn_t *c)
{
    tls_conn_t *tc = tls_conn_of(c);

    return tc != NULL ? tc->alpn : NULL;
}

void tls_conn_refuse(weft_conn_t *c)
{
    tls_conn_t *tc = tls_conn_of(c);

    if (tc != NULL)
        tc->refused = 1;
}

/* The client's certificate into info, in the connection's pool.  Under
 * tc->mu. */
static void peer_info(tls_conn_t *tc, weft_tls_info_t *info, apr_pool_t *p)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    X509 *x = SSL_get1_peer_certificate(tc->ssl);
#else
    X509 *x = SSL_get_peer_certificate(tc->ssl);
#endif
    BIO *mem;
    char *data;
    long n;

    if (x == NULL)
        return;
    info->peer_verified = SSL_get_verify_result(tc->ssl) == X509_V_OK;
    mem = BIO_new(BIO_s_mem());
    if (mem != NULL) {
        X509_NAME_print_ex(mem, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
        n = BIO_get_mem_data(mem, &data);
        info->peer_subject = apr_pstrmemdup(p, data, (apr_size_t)n);
        (void)BIO_reset(mem);
        PEM_write_bio_X509(mem, x);
        n = BIO_get_mem_data(mem, &data);
        info->peer_cert_pem = apr_pstrmemdup(p, data, (apr_size_t)n);
        BIO_free(mem);
    }
    X509_free(x);
    ERR_clear_error();
}

const weft_tls_info_t *weft_tls_conn_info(weft_conn_t *c)
{
    tls_conn_t *tc = tls_conn_of(c);
    apr_pool_t *p;
    weft_tls_info_t *info;
    const char *sni;

    if (tc == NULL || !tc->handshaken)
        return NULL;
    if (tc->info != NULL)
        return tc->info;
    p = weft_conn_pool(c);
    info = apr_pcalloc(p, sizeof(*info));
    /* The watcher may be peeking at the same SSL object. */
    pthread_mutex_lock(&tc->mu);
    info->version = SSL_get_version(tc->ssl);
    info->cipher = SSL_get_cipher_name(tc->ssl);
    sni = SSL_get_servername(tc->ssl, TLSEXT_NAMETYPE_host_name);
    info->sni = sni != NULL ? apr_pstrdup(p, sni) : NULL;
    info->alpn = tc->alpn;
    peer_info(tc, info, p);
    pthread_mutex_unlock(&tc->mu);
    tc->info = info;
    return info;
}
