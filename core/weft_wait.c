/*
 * weft_wait.c -- the waiting primitive as the thread MPMs implement it:
 * poll(2) for sockets, nanosleep for sleeps, pthread condition variables
 * for in-process events.  The one place that turns deadlines into
 * relative timeouts.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <poll.h>
#include <time.h>

#include "weft_core.h"
#include "weft_wait.h"

/* Milliseconds left until deadline, rounded up so a wait never ends early;
 * -1 for no deadline, 0 when it has passed. */
static int ms_left(apr_time_t deadline)
{
    apr_time_t left;

    if (deadline == 0)
        return -1;
    left = deadline - apr_time_now();
    if (left <= 0)
        return 0;
    if (left > (apr_time_t)1000 * 0x7fffffff)
        return 0x7fffffff;
    return (int)((left + 999) / 1000);
}

WEFT_DECLARE(apr_status_t) weft_wait_fd(int fd, int events, apr_time_t deadline)
{
    struct pollfd pf;

    pf.fd = fd;
    pf.events = (short)(((events & WEFT_WAIT_READ) ? POLLIN : 0) |
                        ((events & WEFT_WAIT_WRITE) ? POLLOUT : 0));
    for (;;) {
        int ms = ms_left(deadline);
        int rc;

        if (ms == 0 && deadline != 0)
            return APR_TIMEUP;
        pf.revents = 0;
        rc = poll(&pf, 1, ms);
        if (rc > 0)
            return APR_SUCCESS;
        if (rc == 0)
            continue; /* re-check: poll may wake a little early */
        if (errno != EINTR)
            return APR_FROM_OS_ERROR(errno);
    }
}

/* The socket timeout is re-set only when the wanted one moved by more
 * than this: a keep-alive wait asks for IdleTimeout minus a few
 * microseconds every time, and the syscall is what this saves. */
#define TIMEO_SLACK apr_time_from_msec(5)

/* Sets fd's receive timeout to want (0: none) unless the one already set
 * (*timeo, plus one) is at most TIMEO_SLACK shorter: a shorter one only
 * wakes the caller early, to wait again for the rest; a longer one would
 * overrun the deadline.  The first call puts the socket in blocking mode,
 * so that recv itself waits. */
static int set_timeo(int fd, apr_interval_time_t want,
                     apr_interval_time_t *timeo)
{
    struct timeval tv;

    if (*timeo == 0) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || ((flags & O_NONBLOCK) &&
                          fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0))
            return -1;
    } else if (want == 0 ? *timeo == 1
                         : *timeo > 1 && *timeo - 1 <= want &&
                               *timeo - 1 >= want - TIMEO_SLACK) {
        return 0;
    }
    tv.tv_sec = (time_t)(want / APR_USEC_PER_SEC);
    tv.tv_usec = (suseconds_t)(want % APR_USEC_PER_SEC);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
        return -1;
    *timeo = want + 1;
    return 0;
}

WEFT_DECLARE(apr_ssize_t)
weft_wait_recv(int fd, void *buf, apr_size_t n, apr_time_t deadline,
               apr_interval_time_t *timeo)
{
    for (;;) {
        apr_interval_time_t want = 0;
        ssize_t got;

        if (deadline != 0) {
            want = deadline - apr_time_now();
            if (want <= 0) {
                errno = EAGAIN;
                return -1;
            }
        }
        if (set_timeo(fd, want, timeo) < 0)
            return -1;
        do
            got = recv(fd, buf, n, 0);
        while (got < 0 && errno == EINTR);
        if (got >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            return got;
        /* The socket's timeout ran out, perhaps before the deadline (the
         * cached one was shorter): wait for the rest.  With no deadline
         * there is no timeout, and EAGAIN means the socket is not ours to
         * block on: report it rather than spin. */
        if (deadline == 0) {
            errno = EAGAIN;
            return -1;
        }
    }
}

WEFT_DECLARE(void) weft_sleep(apr_interval_time_t d)
{
    struct timespec ts, rem;

    if (d <= 0)
        return;
    ts.tv_sec = (time_t)(d / APR_USEC_PER_SEC);
    ts.tv_nsec = (long)(d % APR_USEC_PER_SEC) * 1000;
    while (nanosleep(&ts, &rem) < 0 && errno == EINTR)
        ts = rem;
}

int weft_wait_cond(pthread_cond_t *cond, pthread_mutex_t *mu,
                   apr_time_t deadline)
{
    struct timespec ts;

    if (deadline == 0)
        return pthread_cond_wait(cond, mu);
    /* The conditions are created with CLOCK_MONOTONIC (weft_cond_init);
     * convert the wall-clock deadline into that clock. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    {
        apr_time_t left = deadline - apr_time_now();
        long long ns;
        if (left <= 0)
            return ETIMEDOUT;
        ns =
            (long long)ts.tv_nsec + (long long)(left % APR_USEC_PER_SEC) * 1000;
        ts.tv_sec +=
            (time_t)(left / APR_USEC_PER_SEC) + (time_t)(ns / 1000000000LL);
        ts.tv_nsec = (long)(ns % 1000000000LL);
    }
    return pthread_cond_timedwait(cond, mu, &ts);
}

int weft_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int rc;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

apr_time_t weft_time_coarse(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (apr_time_t)ts.tv_sec * APR_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* The coarse clock's resolution (a kernel tick), read once. */
static apr_interval_time_t coarse_tick;
static pthread_once_t coarse_once = PTHREAD_ONCE_INIT;

static void coarse_init(void)
{
    struct timespec res;

    if (clock_getres(CLOCK_REALTIME_COARSE, &res) == 0)
        coarse_tick = (apr_interval_time_t)res.tv_sec * APR_USEC_PER_SEC +
                      (res.tv_nsec + 999) / 1000;
    else
        coarse_tick = apr_time_from_msec(10); /* more than any HZ gives */
}

apr_time_t weft_deadline_after(apr_interval_time_t d)
{
    if (d <= 0)
        return 0;
    pthread_once(&coarse_once, coarse_init);
    return weft_time_coarse() + d + coarse_tick;
}
