/*
 * weft_wait.h -- the one waiting primitive.  Every place a connection's
 * owner waits (socket readiness under a deadline, a sleep, a context)
 * goes through these functions, which the MPM provides: the thread MPMs
 * block the thread in poll or on a condition variable; an M:N MPM parks a
 * fiber instead.  Modules must not block on sockets or sleep any other way.
 */
#ifndef WEFT_WAIT_H
#define WEFT_WAIT_H

#include "weft_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_WAIT_READ 1  /* readable, or the peer closed/reset */
#define WEFT_WAIT_WRITE 2 /* writable */

/*
 * Waits until fd is ready for events or the absolute deadline passes (0:
 * no deadline).  APR_SUCCESS when ready (including error or hang-up
 * conditions, which the next read or write reports), APR_TIMEUP at the
 * deadline, or an error.  A shutdown(2) of fd from another thread ends the
 * wait.
 */
WEFT_DECLARE(apr_status_t)
weft_wait_fd(int fd, int events, apr_time_t deadline);

/*
 * Waits until socket fd has bytes (or the peer closed) or deadline passes,
 * and reads at most n of them into buf: one syscall where the MPM allows
 * (the thread MPMs block in recv(2) under the socket's receive timeout;
 * the socket is switched to blocking mode, and *timeo caches the timeout
 * last set on it: the caller keeps it per socket, 0 before the first
 * call).  Returns the bytes read, 0 at
 * the peer's close, -1 with errno (EAGAIN: the deadline passed).  For the
 * keep-alive wait, where the next request is usually not there yet.
 */
WEFT_DECLARE(apr_ssize_t)
weft_wait_recv(int fd, void *buf, apr_size_t n, apr_time_t deadline,
               apr_interval_time_t *timeo);

/* Sleeps for d (the handler's time.Sleep). */
WEFT_DECLARE(void) weft_sleep(apr_interval_time_t d);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_WAIT_H */
