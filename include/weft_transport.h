/*
 * weft_transport.h -- how a connection moves bytes.  The core reads and
 * writes only through this interface: plain TCP is built in, TLS plugs in
 * from a module (pre_connection hook), and a hijacker receives a transport
 * rather than a bare descriptor.
 */
#ifndef WEFT_TRANSPORT_H
#define WEFT_TRANSPORT_H

#include <sys/uio.h>

#include "weft_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_transport_t weft_transport_t;

/*
 * A transport's operations.  Deadlines are absolute (apr_time_now()
 * clock), 0 meaning none; every wait goes through weft_wait_fd.  Except
 * where noted, only the connection's owner thread calls them.
 */
typedef struct weft_transport_ops_t {
    const char *name; /* "tcp", "tls" */
    /* Reads at most *n bytes into buf, waiting for at least one.  Sets *n
     * to what was read.  APR_EOF when the peer closed (nothing read),
     * APR_TIMEUP at the deadline, another status on error. */
    apr_status_t (*read)(weft_transport_t *t, char *buf, apr_size_t *n,
                         apr_time_t deadline);
    /* Optional: like read, for when the bytes are probably not there yet
     * (the keep-alive wait for the next request), so a transport may wait
     * first in a way cheaper than read's try-then-wait.  NULL: the core
     * calls wait_readable, then read. */
    apr_status_t (*read_idle)(weft_transport_t *t, char *buf, apr_size_t *n,
                              apr_time_t deadline);
    /* Waits until a read would not block (data, or the peer's close),
     * or the deadline passes (APR_TIMEUP).  A transport that buffers
     * (TLS) answers for its own buffer first. */
    apr_status_t (*wait_readable)(weft_transport_t *t, apr_time_t deadline);
    /* Writes every byte of iov, waiting as needed; *written says how many
     * left even on error.  APR_TIMEUP at the deadline. */
    apr_status_t (*writev)(weft_transport_t *t, const struct iovec *iov,
                           int iovcnt, apr_size_t *written,
                           apr_time_t deadline);
    /* Optional (NULL: the core copies through a buffer): sends up to len
     * bytes of file fd from offset without a user-space copy, waiting as
     * needed; *sent is what went (0 at the file's end). */
    apr_status_t (*sendfile)(weft_transport_t *t, int fd, apr_off_t offset,
                             apr_size_t len, apr_size_t *sent,
                             apr_time_t deadline);
    /* The disconnect watcher's question, asked from its own thread while
     * the owner runs a handler: 1 if the peer has sent data (pipelined;
     * never consumed), 0 if nothing is pending, -1 if the peer closed,
     * half-closed or reset.  Must not block. */
    int (*alive)(weft_transport_t *t);
    /* Stops both directions (shutdown(2)): any thread, any time before
     * close; wakes an owner blocked in read or write. */
    void (*shutdown)(weft_transport_t *t);
    /* Half-close: no more writes from us (Go's CloseWrite). Owner only. */
    void (*close_write)(weft_transport_t *t);
    /* Releases the transport and its descriptor.  Owner only, once. */
    void (*close)(weft_transport_t *t);
} weft_transport_ops_t;

struct weft_transport_t {
    const weft_transport_ops_t *ops;
    int fd;     /* the socket underneath, for the watcher's epoll */
    void *data; /* the implementation's own state */
};

#ifdef __cplusplus
}
#endif

#endif /* WEFT_TRANSPORT_H */
