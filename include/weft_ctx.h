/*
 * weft_ctx.h -- contexts: Go's context.Context for C.  A tree of
 * cancellable contexts with a cause, an optional deadline, values, a
 * bounded wait, and after-cancel callbacks (context.AfterFunc).  The server
 * builds base -> connection -> request; handlers get theirs with
 * weft_req_ctx().
 */
#ifndef WEFT_CTX_H
#define WEFT_CTX_H

#include "weft_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Causes (context.Canceled, context.DeadlineExceeded, and the server's). */
#define WEFT_CTX_CANCELED (APR_OS_START_USERERR + 100)
#define WEFT_CTX_DEADLINE (APR_OS_START_USERERR + 101)
#define WEFT_CTX_DISCONNECT (APR_OS_START_USERERR + 102) /* peer left */
#define WEFT_CTX_SHUTDOWN (APR_OS_START_USERERR + 103)   /* server stops */

/*
 * Every function here may be called from any thread.  A context is
 * allocated in the pool given at creation and lives until that pool is
 * cleared; clearing the pool cancels it (cause WEFT_CTX_CANCELED) and
 * detaches it from its parent, so a parent never points at a dead child.
 * A child's pool must not outlive its parent's.
 */

/* A root context: never done unless cancelled itself. */
WEFT_DECLARE(weft_ctx_t *) weft_ctx_root(apr_pool_t *p);

/* A child cancelled when parent is, or by weft_ctx_cancel. */
WEFT_DECLARE(weft_ctx_t *)
weft_ctx_with_cancel(weft_ctx_t *parent, apr_pool_t *p);

/*
 * A child that is also cancelled, with cause WEFT_CTX_DEADLINE, once
 * deadline (absolute, apr_time_now() clock) passes.  The deadline is the
 * earlier of its own and its parent's.  Expiry is observed by every
 * function below and by weft_ctx_wait; when after-cancel callbacks are
 * registered under a deadline, one process-wide timer thread cancels the
 * context when it passes, so they run on time (on that thread) even if
 * nobody looks.
 */
WEFT_DECLARE(weft_ctx_t *)
weft_ctx_with_deadline(weft_ctx_t *parent, apr_pool_t *p, apr_time_t deadline);

/* A child carrying key -> value (keys compare by pointer, as Go's do by
 * identity: use the address of a static).  Cancelled with its parent. */
WEFT_DECLARE(weft_ctx_t *)
weft_ctx_with_value(weft_ctx_t *parent, apr_pool_t *p, const void *key,
                    void *value);

/* The nearest value for key up the tree, or NULL. */
WEFT_DECLARE(void *) weft_ctx_value(const weft_ctx_t *c, const void *key);

/*
 * Cancels c and every descendant with cause (0 means WEFT_CTX_CANCELED).
 * Idempotent: the first cause wins.  Runs c's after-cancel callbacks on
 * the calling thread, once each.
 */
WEFT_DECLARE(void) weft_ctx_cancel(weft_ctx_t *c, apr_status_t cause);

/* 1 once c is cancelled (or its deadline passed), else 0.  Cheap: one
 * atomic load when no deadline is involved. */
WEFT_DECLARE(int) weft_ctx_done(weft_ctx_t *c);

/* Why c is done: 0 while it is not, else its cause. */
WEFT_DECLARE(apr_status_t) weft_ctx_cause(weft_ctx_t *c);

/* c's deadline, or 0 when it has none. */
WEFT_DECLARE(apr_time_t) weft_ctx_deadline(const weft_ctx_t *c);

/*
 * Waits until c is done or timeout passes (negative: no limit).  Returns
 * APR_SUCCESS when done, APR_TIMEUP otherwise.  Goes through the MPM's
 * waiting primitive.
 */
WEFT_DECLARE(apr_status_t)
weft_ctx_wait(weft_ctx_t *c, apr_interval_time_t timeout);

/*
 * Go's context.AfterFunc: runs fn(data) once c is done, on the thread that
 * cancels it (at once, on this thread, when c is already done).  Returns a
 * handle for weft_ctx_stop, or NULL when fn already ran.  The registration
 * is allocated in c's pool.
 */
typedef struct weft_ctx_after_t weft_ctx_after_t;
WEFT_DECLARE(weft_ctx_after_t *)
weft_ctx_after(weft_ctx_t *c, void (*fn)(void *data), void *data);
/* Stops a pending callback: 1 if it was stopped before running, 0 if it
 * ran (or is running) already. */
WEFT_DECLARE(int) weft_ctx_stop(weft_ctx_after_t *a);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_CTX_H */
