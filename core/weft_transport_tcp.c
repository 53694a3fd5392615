/*
 * weft_transport_tcp.c -- the plain TCP transport: non-blocking
 * recv/sendmsg/sendfile, waiting through weft_wait_fd (the MPM's
 * primitive) under the deadline, and the keep-alive wait as one blocking
 * recv (weft_wait_recv); any thread may shutdown(2) the socket to wake
 * its owner.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "weft_engine.h"
#include "weft_wait.h"

/*
 * A deadline that has passed fails the I/O before it is tried, even when
 * the socket is ready (Go's pollDesc.prepareRead/prepareWrite): otherwise
 * a handler slower than WriteTimeout would still get its response out
 * whenever the socket buffer has room, and a body read after ReadTimeout
 * would still succeed on bytes that arrived in time.
 */
static int expired(apr_time_t deadline)
{
    /* A tick of lateness is fine here; the waits themselves are exact. */
    return deadline != 0 && weft_time_coarse() >= deadline;
}

static apr_status_t tcp_read(weft_transport_t *t, char *buf, apr_size_t *n,
                             apr_time_t deadline)
{
    if (expired(deadline)) {
        *n = 0;
        return APR_TIMEUP;
    }
    for (;;) {
        ssize_t got = recv(t->fd, buf, *n, MSG_DONTWAIT);
        apr_status_t rv;

        if (got > 0) {
            *n = (apr_size_t)got;
            return APR_SUCCESS;
        }
        if (got == 0) {
            *n = 0;
            return APR_EOF;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            *n = 0;
            return APR_FROM_OS_ERROR(errno);
        }
        rv = weft_wait_fd(t->fd, WEFT_WAIT_READ, deadline);
        if (rv != APR_SUCCESS) {
            *n = 0;
            return rv;
        }
    }
}

/* The keep-alive wait: one blocking recv under the socket's timeout
 * rather than poll then recv.  t->data points at the connection's cached
 * socket timeout (weft_wait_recv's *timeo). */
static apr_status_t tcp_read_idle(weft_transport_t *t, char *buf, apr_size_t *n,
                                  apr_time_t deadline)
{
    apr_ssize_t got = weft_wait_recv(t->fd, buf, *n, deadline, t->data);

    if (got > 0) {
        *n = (apr_size_t)got;
        return APR_SUCCESS;
    }
    *n = 0;
    if (got == 0)
        return APR_EOF;
    return errno == EAGAIN ? APR_TIMEUP : APR_FROM_OS_ERROR(errno);
}

static apr_status_t tcp_wait_readable(weft_transport_t *t, apr_time_t deadline)
{
    return weft_wait_fd(t->fd, WEFT_WAIT_READ, deadline);
}

static apr_status_t tcp_writev(weft_transport_t *t, const struct iovec *iov,
                               int iovcnt, apr_size_t *written,
                               apr_time_t deadline)
{
    struct iovec local[64];
    struct msghdr msg = { 0 };
    int i, n = 0;

    *written = 0;
    if (iovcnt > 64)
        return APR_EINVAL;
    if (expired(deadline))
        return APR_TIMEUP;
    for (i = 0; i < iovcnt; i++)
        if (iov[i].iov_len > 0)
            local[n++] = iov[i];
    msg.msg_iov = local;
    msg.msg_iovlen = (size_t)n;
    while (msg.msg_iovlen > 0) {
        ssize_t w = sendmsg(t->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0) {
            apr_status_t rv;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return APR_FROM_OS_ERROR(errno);
            rv = weft_wait_fd(t->fd, WEFT_WAIT_WRITE, deadline);
            if (rv != APR_SUCCESS)
                return rv;
            continue;
        }
        *written += (apr_size_t)w;
        /* Skip what went out; adjust the first partial iovec. */
        while (msg.msg_iovlen > 0 && (size_t)w >= msg.msg_iov->iov_len) {
            w -= (ssize_t)msg.msg_iov->iov_len;
            msg.msg_iov++;
            msg.msg_iovlen--;
        }
        if (msg.msg_iovlen > 0) {
            msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + w;
            msg.msg_iov->iov_len -= (size_t)w;
        }
    }
    return APR_SUCCESS;
}

/* sendfile(2) rather than apr_socket_sendfile: APR waits in its own poll,
 * and every wait here must go through the MPM's primitive. */
static apr_status_t tcp_sendfile_nb(weft_transport_t *t, int fd,
                                    apr_off_t offset, apr_size_t len,
                                    apr_size_t *sent, apr_time_t deadline)
{
    off_t off = (off_t)offset;

    for (;;) {
        ssize_t n = sendfile(t->fd, fd, &off, len);
        apr_status_t rv;

        if (n >= 0) {
            *sent = (apr_size_t)n; /* 0: the file ends before offset */
            return APR_SUCCESS;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return APR_FROM_OS_ERROR(errno);
        rv = weft_wait_fd(t->fd, WEFT_WAIT_WRITE, deadline);
        if (rv != APR_SUCCESS)
            return rv;
    }
}

static apr_status_t tcp_sendfile(weft_transport_t *t, int fd, apr_off_t offset,
                                 apr_size_t len, apr_size_t *sent,
                                 apr_time_t deadline)
{
    int flags = -1;
    apr_status_t rv;

    *sent = 0;
    if (expired(deadline))
        return APR_TIMEUP;
    /* sendfile has no MSG_DONTWAIT: a socket the keep-alive wait put in
     * blocking mode goes back to non-blocking for it, so the wait stays
     * under the deadline. */
    if (*(apr_interval_time_t *)t->data != 0) {
        flags = fcntl(t->fd, F_GETFL);
        if (flags >= 0)
            fcntl(t->fd, F_SETFL, flags | O_NONBLOCK);
    }
    rv = tcp_sendfile_nb(t, fd, offset, len, sent, deadline);
    if (flags >= 0)
        fcntl(t->fd, F_SETFL, flags);
    return rv;
}

static int tcp_alive(weft_transport_t *t)
{
    char b;
    ssize_t got = recv(t->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

    if (got > 0)
        return 1;
    if (got == 0)
        return -1; /* FIN: Go treats a half-close as a disconnect */
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return -1;
}

static void tcp_shutdown(weft_transport_t *t)
{
    shutdown(t->fd, SHUT_RDWR);
}

static void tcp_close_write(weft_transport_t *t)
{
    shutdown(t->fd, SHUT_WR);
}

static void tcp_close(weft_transport_t *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

static const weft_transport_ops_t tcp_ops = {
    .name = "tcp",
    .read = tcp_read,
    .read_idle = tcp_read_idle,
    .wait_readable = tcp_wait_readable,
    .writev = tcp_writev,
    .sendfile = tcp_sendfile,
    .alive = tcp_alive,
    .shutdown = tcp_shutdown,
    .close_write = tcp_close_write,
    .close = tcp_close,
};

void weft_tcp_transport_init(weft_transport_t *t, int fd,
                             apr_interval_time_t *timeo)
{
    t->ops = &tcp_ops;
    t->fd = fd;
    *timeo = 0;
    t->data = timeo;
}

void weft_tcp_transport_nonblocking(weft_transport_t *t)
{
    apr_interval_time_t *timeo = t->data;
    int flags;

    if (*timeo == 0)
        return;
    flags = fcntl(t->fd, F_GETFL);
    if (flags >= 0)
        fcntl(t->fd, F_SETFL, flags | O_NONBLOCK);
    *timeo = 0;
}
