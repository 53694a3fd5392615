/*
 * weft_ctx.c -- contexts (Go's context.Context): a tree of cancellable
 * nodes, each with its own mutex and condition, allocated in the caller's
 * pool and unlinked from the tree by that pool's cleanup.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "weft_core.h"

/*
 * Locking.  Each context has a mutex (mu).  The only nesting is parent
 * before child: a cancel holds a context's mu while it cancels each child
 * under the child's mu, down the whole subtree (Go's cancelCtx.cancel).  A
 * child that leaves its parent (cancelled by itself, or its pool cleared)
 * takes the parent's mu only after releasing its own.  No user code runs
 * under any mu: after-cancel callbacks are collected while the locks are
 * held and run once every lock is released.
 */

/* An after-cancel registration's state (guarded by ctx->mu). */
enum {
    AFTER_PENDING, /* in ctx's list; stop can still prevent it */
    AFTER_CLAIMED, /* a cancel took it: queued, running or ran */
    AFTER_STOPPED  /* weft_ctx_stop prevented it */
};

struct weft_ctx_after_t {
    weft_ctx_t *ctx;            /* immutable */
    void (*fn)(void *data);     /* immutable */
    void *data;                 /* immutable */
    int state;                  /* guarded by ctx->mu */
    weft_ctx_after_t *prev;     /* guarded by ctx->mu: ctx's pending list */
    weft_ctx_after_t *next;     /* guarded by ctx->mu: ctx's pending list */
    weft_ctx_after_t *run_next; /* once claimed: the cancelling thread's */
};

struct weft_ctx_t {
    weft_ctx_t *parent;  /* immutable; NULL for a root */
    apr_pool_t *pool;    /* immutable: holds this struct and registrations */
    const void *key;     /* immutable: a value context's key, else NULL */
    void *value;         /* immutable */
    apr_time_t deadline; /* immutable: min(own, parent's); 0 for none */
    /* immutable: the context (self or an ancestor) whose own deadline
     * is ours; expiry cancels it, as Go's timer would have. */
    weft_ctx_t *deadline_owner;

    /* atomic: 0 while live, then the cause, written once under mu.  This
     * is the done flag: weft_ctx_done is one load of it. */
    _Atomic apr_status_t cause;
    /* atomic, written under parent->mu: 1 while in parent's children.  The
     * parent's cancel clears it last, with release, so a child that reads
     * 0 knows the parent is done with it and need not lock the parent. */
    atomic_int attached;
    weft_ctx_t *prev; /* guarded by parent->mu: parent's children */
    weft_ctx_t *next; /* guarded by parent->mu */

    pthread_mutex_t mu;
    /* With mu: cause set, inflight or waiters drop.  Made by the first
     * thread to wait on it (has_cond): most contexts, a request's among
     * them, are never waited on, and skip its set-up and tear-down. */
    pthread_cond_t cond;
    int has_cond;                  /* guarded by mu */
    weft_ctx_t *children;          /* guarded by mu; NULL once done */
    weft_ctx_after_t *afters;      /* guarded by mu: pending, oldest first */
    weft_ctx_after_t *afters_tail; /* guarded by mu */
    unsigned inflight;       /* guarded by mu: claimed, fn not yet returned */
    unsigned waiters;        /* guarded by mu: threads inside weft_ctx_wait */
    int dying;               /* guarded by mu: the pool cleanup is waiting */
    struct ctx_timer *timer; /* guarded by timer_mu: armed for the deadline */
};

/*
 * Registrations a cancel claimed, run in order once its locks are released.
 * A claimed registration counts in its context's inflight until its fn
 * returns, and the pool cleanup waits for inflight to drain: fn's data
 * may live in that pool, and the cleanup may run on another thread.  The
 * queue lives on the cancelling thread's stack; while it runs it is also
 * linked from running_batches, so that a callback which clears the pool of
 * a context whose registrations are queued or running here has the cleanup
 * take them over rather than wait on itself.
 */
typedef struct batch_t {
    weft_ctx_after_t *head;
    weft_ctx_after_t **tail;
    weft_ctx_after_t *current; /* running now; NULL once its ctx is gone */
    struct batch_t *outer;     /* the batch this thread was running before */
} batch_t;

/* This thread's, innermost. */
static WEFT_THREAD_LOCAL batch_t *running_batches;

/*
 * Deadlines are observed lazily (observe below), which covers done, cause
 * and wait; but an after-cancel callback must run when the deadline
 * passes even if nobody looks.  Deadline owners with callbacks are armed
 * on one timer thread for the process (Go's runtime timer), started on
 * first use.  Entries are malloc'd, not pool memory, so the thread can
 * drop one whose context went away while it was firing it.
 */
typedef struct ctx_timer {
    weft_ctx_t *ctx;        /* guarded by timer_mu; NULL once ctx is gone */
    apr_time_t when;        /* immutable */
    int busy;               /* guarded by timer_mu: being fired */
    pthread_t firer;        /* guarded by timer_mu: who fires it */
    struct ctx_timer *next; /* guarded by timer_mu: sorted by when */
} ctx_timer_t;

static pthread_mutex_t timer_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond; /* the earliest entry changed; or idle */
static ctx_timer_t *timers;       /* guarded by timer_mu */
static pthread_once_t timer_once = PTHREAD_ONCE_INIT;

static void cancel(weft_ctx_t *c, apr_status_t cause, int remove);

static void *timer_main(void *arg)
{
    pthread_mutex_lock(&timer_mu);
    for (;;) {
        ctx_timer_t *t = timers;
        weft_ctx_t *c;

        if (t == NULL || t->when > apr_time_now()) {
            weft_wait_cond(&timer_cond, &timer_mu, t != NULL ? t->when : 0);
            continue;
        }
        timers = t->next;
        t->busy = 1;
        t->firer = pthread_self();
        c = t->ctx;
        pthread_mutex_unlock(&timer_mu);
        cancel(c, WEFT_CTX_DEADLINE, 1);
        pthread_mutex_lock(&timer_mu);
        /* A callback may have cleared c's pool: then t->ctx is NULL and c
         * must not be touched. */
        if (t->ctx != NULL)
            t->ctx->timer = NULL;
        t->busy = 0;
        pthread_cond_broadcast(&timer_cond);
        free(t);
    }
    return NULL;
}

static void timer_start(void)
{
    pthread_t th;
    pthread_attr_t attr;

    weft_cond_init(&timer_cond);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, timer_main, NULL) != 0)
        weft_log_error(WEFT_LOG_ERR, 0,
                       "no context timer thread: deadline callbacks run only "
                       "when the deadline is observed");
    pthread_attr_destroy(&attr);
}

/* Arms c (a deadline owner) so its deadline cancels it on time. */
static void timer_arm(weft_ctx_t *c)
{
    ctx_timer_t *t, **pp;

    pthread_once(&timer_once, timer_start);
    pthread_mutex_lock(&timer_mu);
    if (c->timer == NULL && (t = malloc(sizeof(*t))) != NULL) {
        t->ctx = c;
        t->when = c->deadline;
        t->busy = 0;
        for (pp = &timers; *pp != NULL && (*pp)->when <= t->when;
             pp = &(*pp)->next)
            ;
        t->next = *pp;
        *pp = t;
        c->timer = t;
        if (timers == t)
            pthread_cond_broadcast(&timer_cond);
    }
    pthread_mutex_unlock(&timer_mu);
}

/* The pool cleanup's part: c leaves the timer list, waiting out a firing
 * on another thread (c must outlive it); a firing on this thread (a
 * callback clearing c's own pool) is left to drop the entry itself. */
static void timer_disarm(weft_ctx_t *c)
{
    ctx_timer_t *t, **pp;

    pthread_mutex_lock(&timer_mu);
    while ((t = c->timer) != NULL && t->busy &&
           !pthread_equal(t->firer, pthread_self()))
        weft_wait_cond(&timer_cond, &timer_mu, 0);
    if (t != NULL) {
        if (t->busy) {
            t->ctx = NULL;
        } else {
            for (pp = &timers; *pp != NULL && *pp != t; pp = &(*pp)->next)
                ;
            if (*pp == t)
                *pp = t->next;
            free(t);
        }
        c->timer = NULL;
    }
    pthread_mutex_unlock(&timer_mu);
}

/* Under c->mu: the condition, made on first use. */
static pthread_cond_t *cond_of(weft_ctx_t *c)
{
    if (!c->has_cond) {
        weft_cond_init(&c->cond);
        c->has_cond = 1;
    }
    return &c->cond;
}

/* Under c->mu: wakes the waiters, if there can be any. */
static void wake(weft_ctx_t *c)
{
    if (c->has_cond)
        pthread_cond_broadcast(&c->cond);
}

static apr_status_t load_cause(weft_ctx_t *c)
{
    return atomic_load_explicit(&c->cause, memory_order_acquire);
}

/* Cancels c and its subtree; c->mu is held and c is not done.  Each child
 * is cancelled under its own mu while ours is held (parent before child),
 * then dropped: a done context keeps no children. */
static void cancel_locked(weft_ctx_t *c, apr_status_t cause, batch_t *b)
{
    weft_ctx_after_t *a;
    weft_ctx_t *child, *next;

    atomic_store_explicit(&c->cause, cause, memory_order_release);
    wake(c);

    for (a = c->afters; a != NULL; a = a->next) {
        a->state = AFTER_CLAIMED;
        a->run_next = NULL;
        *b->tail = a;
        b->tail = &a->run_next;
        c->inflight++;
    }
    c->afters = c->afters_tail = NULL;

    for (child = c->children; child != NULL; child = next) {
        next = child->next;
        pthread_mutex_lock(&child->mu);
        if (atomic_load_explicit(&child->cause, memory_order_relaxed) == 0)
            cancel_locked(child, cause, b);
        pthread_mutex_unlock(&child->mu);
        /* The last touch: once the child reads 0 its pool may go. */
        atomic_store_explicit(&child->attached, 0, memory_order_release);
    }
    c->children = NULL;
}

/* Runs a batch's callbacks, no lock held.  If fn cleared its own
 * context's pool, the cleanup took the registration over (current is
 * NULL) and neither it nor its context may be touched again. */
static void run_batch(batch_t *b)
{
    weft_ctx_after_t *a;

    if (b->head == NULL)
        return;
    b->outer = running_batches;
    running_batches = b;
    while ((a = b->head) != NULL) {
        weft_ctx_t *x = a->ctx;

        b->head = a->run_next;
        b->current = a;
        a->fn(a->data);
        if (b->current == a) {
            pthread_mutex_lock(&x->mu);
            if (--x->inflight == 0 && x->dying)
                wake(x);
            pthread_mutex_unlock(&x->mu);
        }
        b->current = NULL;
    }
    running_batches = b->outer;
}

/* Unlinks c from its parent's children, taking the parent's mu (c's own
 * mu is not held: parent before child). */
static void detach(weft_ctx_t *c)
{
    weft_ctx_t *p = c->parent;

    if (p == NULL || !atomic_load_explicit(&c->attached, memory_order_acquire))
        return;
    pthread_mutex_lock(&p->mu);
    if (atomic_load_explicit(&c->attached, memory_order_relaxed)) {
        if (c->prev != NULL)
            c->prev->next = c->next;
        else
            p->children = c->next;
        if (c->next != NULL)
            c->next->prev = c->prev;
        atomic_store_explicit(&c->attached, 0, memory_order_relaxed);
    }
    pthread_mutex_unlock(&p->mu);
}

/* Cancels c with cause unless it is done, then leaves the parent (when
 * remove: Go's removeFromParent).  The callbacks this claimed are left in
 * b for run_batch. */
static void cancel_begin(weft_ctx_t *c, apr_status_t cause, int remove,
                         batch_t *b)
{
    b->head = NULL;
    b->tail = &b->head;
    b->current = NULL;
    b->outer = NULL;
    if (load_cause(c) != 0)
        return;
    pthread_mutex_lock(&c->mu);
    if (atomic_load_explicit(&c->cause, memory_order_relaxed) != 0) {
        pthread_mutex_unlock(&c->mu);
        return;
    }
    cancel_locked(c, cause, b);
    pthread_mutex_unlock(&c->mu);
    if (remove)
        detach(c);
}

static void cancel(weft_ctx_t *c, apr_status_t cause, int remove)
{
    batch_t b;

    cancel_begin(c, cause, remove, &b);
    run_batch(&b);
}

/* 1 when c is done, cancelling the deadline's owner first if the deadline
 * has passed: this is where expiry is observed, without a timer thread.
 * The owner's cancel reaches c through the tree (every context between is
 * alive while c is), so c is done when this returns 1. */
static int observe(weft_ctx_t *c)
{
    if (load_cause(c) != 0)
        return 1;
    if (c->deadline == 0 || apr_time_now() < c->deadline)
        return 0;
    cancel(c->deadline_owner, WEFT_CTX_DEADLINE, 1);
    return 1;
}

/* Takes over c's registrations that this thread's running batches still
 * hold (we are inside one of their callbacks, clearing c's pool): the one
 * running is released, the queued ones run now.  Waiting for them would
 * wait on ourselves. */
static void run_queued_here(weft_ctx_t *c)
{
    weft_ctx_after_t *mine = NULL, **tail = &mine, **pp, *a, *next;
    unsigned taken = 0;
    batch_t *b;

    for (b = running_batches; b != NULL; b = b->outer) {
        if (b->current != NULL && b->current->ctx == c) {
            b->current = NULL;
            taken++;
        }
        pp = &b->head;
        while ((a = *pp) != NULL) {
            if (a->ctx != c) {
                pp = &a->run_next;
                continue;
            }
            *pp = a->run_next;
            a->run_next = NULL;
            *tail = a;
            tail = &a->run_next;
            taken++;
        }
    }
    if (taken == 0)
        return;
    pthread_mutex_lock(&c->mu);
    c->inflight -= taken;
    pthread_mutex_unlock(&c->mu);
    /* The registrations stay valid: their pool's cleanup is this one. */
    for (a = mine; a != NULL; a = next) {
        next = a->run_next;
        a->fn(a->data);
    }
}

/* The pool cleanup: cancel, leave the parent, let queued callbacks and
 * waiters drain, then destroy the primitives.  After this no other
 * context points at c: a done context has no children and its parent's
 * list no longer holds it. */
static apr_status_t ctx_cleanup(void *data)
{
    weft_ctx_t *c = data;

    cancel(c, WEFT_CTX_CANCELED, 0);
    detach(c);
    if (c->deadline_owner == c)
        timer_disarm(c);
    if (running_batches != NULL)
        run_queued_here(c);
    pthread_mutex_lock(&c->mu);
    c->dying = 1;
    while (c->inflight != 0 || c->waiters != 0)
        weft_wait_cond(cond_of(c), &c->mu, 0);
    pthread_mutex_unlock(&c->mu);
    if (c->has_cond)
        pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    return APR_SUCCESS;
}

/* Sets up a zeroed c under parent (or as a root), not yet linked. */
static weft_ctx_t *ctx_init(weft_ctx_t *c, weft_ctx_t *parent, apr_pool_t *p)
{
    c->parent = parent;
    c->pool = p;
    if (parent != NULL) {
        c->deadline = parent->deadline;
        c->deadline_owner = parent->deadline_owner;
    }
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

/* A new context in p under parent (or a root), not yet linked. */
static weft_ctx_t *ctx_alloc(weft_ctx_t *parent, apr_pool_t *p)
{
    return ctx_init(apr_pcalloc(p, sizeof(weft_ctx_t)), parent, p);
}

/* Joins the parent's children, or starts done with the parent's cause
 * when the parent is done already.  c is not yet visible to any other
 * thread, so its own fields need no lock here. */
static weft_ctx_t *ctx_join(weft_ctx_t *c)
{
    weft_ctx_t *p = c->parent;
    apr_status_t cause;

    if (p == NULL)
        return c;
    observe(p);
    pthread_mutex_lock(&p->mu);
    cause = atomic_load_explicit(&p->cause, memory_order_relaxed);
    if (cause == 0) {
        c->next = p->children;
        if (p->children != NULL)
            p->children->prev = c;
        p->children = c;
        atomic_store_explicit(&c->attached, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&p->mu);
    if (cause != 0)
        atomic_store_explicit(&c->cause, cause, memory_order_release);
    return c;
}

/* Registers the cleanup, then joins the parent. */
static weft_ctx_t *ctx_link(weft_ctx_t *c)
{
    apr_pool_cleanup_register(c->pool, c, ctx_cleanup, apr_pool_cleanup_null);
    return ctx_join(c);
}

apr_size_t weft_ctx_size(void)
{
    return sizeof(weft_ctx_t);
}

weft_ctx_t *weft_ctx_place_cancel(void *mem, weft_ctx_t *parent, apr_pool_t *p)
{
    memset(mem, 0, sizeof(weft_ctx_t));
    return ctx_join(ctx_init(mem, parent, p));
}

void weft_ctx_release(weft_ctx_t *c)
{
    ctx_cleanup(c);
}

WEFT_DECLARE(weft_ctx_t *) weft_ctx_root(apr_pool_t *p)
{
    return ctx_link(ctx_alloc(NULL, p));
}

WEFT_DECLARE(weft_ctx_t *)
weft_ctx_with_cancel(weft_ctx_t *parent, apr_pool_t *p)
{
    return ctx_link(ctx_alloc(parent, p));
}

WEFT_DECLARE(weft_ctx_t *)
weft_ctx_with_deadline(weft_ctx_t *parent, apr_pool_t *p, apr_time_t deadline)
{
    weft_ctx_t *c = ctx_alloc(parent, p);

    /* 0 means "no deadline" in weft_ctx_deadline; a deadline at or before
     * the epoch is simply past. */
    if (deadline <= 0)
        deadline = 1;
    if (c->deadline == 0 || deadline < c->deadline) {
        c->deadline = deadline;
        c->deadline_owner = c;
    }
    return ctx_link(c);
}

WEFT_DECLARE(weft_ctx_t *)
weft_ctx_with_value(weft_ctx_t *parent, apr_pool_t *p, const void *key,
                    void *value)
{
    weft_ctx_t *c = ctx_alloc(parent, p);

    c->key = key;
    c->value = value;
    return ctx_link(c);
}

WEFT_DECLARE(void *) weft_ctx_value(const weft_ctx_t *c, const void *key)
{
    if (key == NULL)
        return NULL;
    for (; c != NULL; c = c->parent)
        if (c->key == key)
            return c->value;
    return NULL;
}

WEFT_DECLARE(void) weft_ctx_cancel(weft_ctx_t *c, apr_status_t cause)
{
    if (observe(c))
        return;
    cancel(c, cause != 0 ? cause : WEFT_CTX_CANCELED, 1);
}

WEFT_DECLARE(int) weft_ctx_done(weft_ctx_t *c)
{
    return observe(c);
}

WEFT_DECLARE(apr_status_t) weft_ctx_cause(weft_ctx_t *c)
{
    apr_status_t cause;

    if (!observe(c))
        return 0;
    cause = load_cause(c);
    return cause != 0 ? cause : WEFT_CTX_DEADLINE;
}

WEFT_DECLARE(apr_time_t) weft_ctx_deadline(const weft_ctx_t *c)
{
    return c->deadline;
}

WEFT_DECLARE(apr_status_t)
weft_ctx_wait(weft_ctx_t *c, apr_interval_time_t timeout)
{
    apr_time_t limit = 0;
    apr_status_t cause;
    int expired;
    batch_t b;

    if (observe(c))
        return APR_SUCCESS;
    if (timeout == 0)
        return APR_TIMEUP;
    if (timeout > 0) {
        apr_time_t now = apr_time_now();
        /* saturate rather than overflow: such a limit is "never" */
        limit = timeout < APR_INT64_MAX - now ? now + timeout : 0;
    }
    if (c->deadline != 0 && (limit == 0 || c->deadline < limit))
        limit = c->deadline;

    pthread_mutex_lock(&c->mu);
    c->waiters++;
    while ((cause = atomic_load_explicit(&c->cause, memory_order_relaxed)) ==
           0) {
        if (limit != 0 && apr_time_now() >= limit)
            break;
        weft_wait_cond(cond_of(c), &c->mu, limit);
    }
    expired = cause == 0 && c->deadline != 0 && apr_time_now() >= c->deadline;
    if (!expired && --c->waiters == 0 && c->dying)
        wake(c);
    pthread_mutex_unlock(&c->mu);
    /* Once out of waiters, c may be freed (its pool cleared by another
     * thread after the cancel that woke us): touch nothing of it. */
    if (!expired)
        return cause != 0 ? APR_SUCCESS : APR_TIMEUP;

    /* Still counted in waiters, so c outlives the expiry; its callbacks
     * run after we leave, since one of them may clear c's pool. */
    cancel_begin(c->deadline_owner, WEFT_CTX_DEADLINE, 1, &b);
    pthread_mutex_lock(&c->mu);
    if (--c->waiters == 0 && c->dying)
        wake(c);
    pthread_mutex_unlock(&c->mu);
    run_batch(&b);
    return APR_SUCCESS;
}

WEFT_DECLARE(weft_ctx_after_t *)
weft_ctx_after(weft_ctx_t *c, void (*fn)(void *data), void *data)
{
    weft_ctx_after_t *a;

    if (observe(c)) {
        fn(data);
        return NULL;
    }
    /* Allocated before locking; wasted only if c is cancelled meanwhile. */
    a = apr_palloc(c->pool, sizeof(*a));
    a->ctx = c;
    a->fn = fn;
    a->data = data;
    a->state = AFTER_PENDING;
    a->next = NULL;
    a->run_next = NULL;
    /* A callback under a deadline must run when it passes, looked at or
     * not: arm the timer for the context that owns the deadline. */
    if (c->deadline != 0)
        timer_arm(c->deadline_owner);
    pthread_mutex_lock(&c->mu);
    if (atomic_load_explicit(&c->cause, memory_order_relaxed) != 0) {
        pthread_mutex_unlock(&c->mu);
        fn(data);
        return NULL;
    }
    a->prev = c->afters_tail;
    if (c->afters_tail != NULL)
        c->afters_tail->next = a;
    else
        c->afters = a;
    c->afters_tail = a;
    pthread_mutex_unlock(&c->mu);
    return a;
}

WEFT_DECLARE(int) weft_ctx_stop(weft_ctx_after_t *a)
{
    weft_ctx_t *c;
    int stopped = 0;

    if (a == NULL)
        return 0;
    c = a->ctx;
    /* A deadline that passed would have run the callback in Go. */
    observe(c);
    pthread_mutex_lock(&c->mu);
    if (a->state == AFTER_PENDING) {
        if (a->prev != NULL)
            a->prev->next = a->next;
        else
            c->afters = a->next;
        if (a->next != NULL)
            a->next->prev = a->prev;
        else
            c->afters_tail = a->prev;
        a->state = AFTER_STOPPED;
        stopped = 1;
    }
    pthread_mutex_unlock(&c->mu);
    return stopped;
}
