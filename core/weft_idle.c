/*
 * weft_idle.c -- the idle owner threads both thread MPMs keep: a stack,
 * most recent on top, each thread waiting on its own semaphore, so that
 * a hand-over wakes one chosen thread that need not take any lock first.
 */
#include <errno.h>
#include <time.h>

#include "weft_engine.h"

void weft_idle_push(weft_idle_t **top, weft_idle_t *me)
{
    me->conn = NULL;
    me->next = *top;
    *top = me;
}

void weft_idle_unlink(weft_idle_t **top, weft_idle_t *me)
{
    while (*top != me)
        top = &(*top)->next;
    *top = me->next;
}

weft_idle_t *weft_idle_take(weft_idle_t **top, weft_conn_t *c)
{
    weft_idle_t *w = *top;

    if (w != NULL) {
        *top = w->next;
        w->conn = c;
    }
    return w;
}

int weft_idle_wait(weft_idle_t *me, apr_time_t deadline)
{
    struct timespec until;
    int rc;

    if (deadline == 0) {
        while ((rc = sem_wait(&me->wake)) != 0 && errno == EINTR)
            ;
        return rc == 0 ? 0 : errno;
    }
    /* sem_timedwait counts on CLOCK_REALTIME, as apr_time_t does. */
    until.tv_sec = (time_t)apr_time_sec(deadline);
    until.tv_nsec = (long)apr_time_usec(deadline) * 1000;
    while ((rc = sem_timedwait(&me->wake, &until)) != 0 && errno == EINTR)
        ;
    return rc == 0 ? 0 : errno;
}
