/*
 * test_ctx.c -- contexts: cancellation down the tree, causes, values,
 * deadlines observed without a timer, bounded waits, after-cancel
 * callbacks, pool cleanup detaching a child, and races between them.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <apr_allocator.h>

#include "weft_core.h"

#define MS 1000 /* apr_interval_time_t is in microseconds */

static apr_pool_t *pool;

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
    apr_terminate();
}

/* A callback's record: how often it ran, on which thread, what it saw. */
typedef struct {
    atomic_int ran;
    pthread_t thread;
    weft_ctx_t *ctx; /* when set: the cause seen inside the callback */
    apr_status_t seen;
    int *order, *next_slot; /* when set: appends id in run order */
    int id;
} rec_t;

static void count_cb(void *data)
{
    rec_t *r = data;

    r->thread = pthread_self();
    if (r->ctx != NULL)
        r->seen = weft_ctx_cause(r->ctx);
    if (r->order != NULL)
        r->order[(*r->next_slot)++] = r->id;
    atomic_fetch_add(&r->ran, 1);
}

static int ran(rec_t *r)
{
    return atomic_load(&r->ran);
}

/* Runs fn(arg) on a new thread; join with pthread_join. */
static pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;

    ck_assert_int_eq(pthread_create(&t, NULL, fn, arg), 0);
    return t;
}

/* Lets time pass for d without sleeping: a wait on a context nobody
 * cancels is the same clock the deadlines use. */
static void pass_time(apr_interval_time_t d)
{
    apr_pool_t *p;

    apr_pool_create(&p, pool);
    ck_assert_int_eq(weft_ctx_wait(weft_ctx_root(p), d), APR_TIMEUP);
    apr_pool_destroy(p);
}

START_TEST(root_is_live_until_cancelled)
{
    weft_ctx_t *root = weft_ctx_root(pool);

    ck_assert_int_eq(weft_ctx_done(root), 0);
    ck_assert_int_eq(weft_ctx_cause(root), 0);
    ck_assert_int_eq(weft_ctx_deadline(root), 0);
    ck_assert_int_eq(weft_ctx_wait(root, 0), APR_TIMEUP);
    weft_ctx_cancel(root, 0);
    ck_assert_int_eq(weft_ctx_done(root), 1);
    ck_assert_int_eq(weft_ctx_cause(root), WEFT_CTX_CANCELED);
    ck_assert_int_eq(weft_ctx_wait(root, 0), APR_SUCCESS);
    ck_assert_int_eq(weft_ctx_wait(root, -1), APR_SUCCESS);
}
END_TEST

START_TEST(cancel_reaches_descendants)
{
    weft_ctx_t *root = weft_ctx_root(pool);
    weft_ctx_t *a = weft_ctx_with_cancel(root, pool);
    weft_ctx_t *b = weft_ctx_with_cancel(a, pool);
    weft_ctx_t *c = weft_ctx_with_value(b, pool, &pool, NULL);
    weft_ctx_t *d = weft_ctx_with_deadline(
        c, pool, apr_time_now() + apr_time_from_sec(3600));
    weft_ctx_t *a2 = weft_ctx_with_cancel(a, pool);
    weft_ctx_t *s = weft_ctx_with_cancel(root, pool);
    weft_ctx_t *late;

    weft_ctx_cancel(a, WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_cause(a), WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_cause(b), WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_cause(c), WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_cause(d), WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_cause(a2), WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_done(root), 0);
    ck_assert_int_eq(weft_ctx_done(s), 0);

    /* a child of a done context starts done, with its parent's cause */
    late = weft_ctx_with_cancel(b, pool);
    ck_assert_int_eq(weft_ctx_cause(late), WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_done(weft_ctx_with_cancel(s, pool)), 0);

    weft_ctx_cancel(root, WEFT_CTX_DISCONNECT);
    ck_assert_int_eq(weft_ctx_cause(s), WEFT_CTX_DISCONNECT);
    ck_assert_int_eq(weft_ctx_cause(a), WEFT_CTX_SHUTDOWN);
}
END_TEST

START_TEST(first_cause_wins)
{
    weft_ctx_t *root = weft_ctx_root(pool);
    weft_ctx_t *p = weft_ctx_with_cancel(root, pool);
    weft_ctx_t *c = weft_ctx_with_cancel(p, pool);
    weft_ctx_t *c2 = weft_ctx_with_cancel(p, pool);

    weft_ctx_cancel(c, WEFT_CTX_DISCONNECT);
    weft_ctx_cancel(c, WEFT_CTX_SHUTDOWN);
    weft_ctx_cancel(c, 0);
    ck_assert_int_eq(weft_ctx_cause(c), WEFT_CTX_DISCONNECT);
    ck_assert_int_eq(weft_ctx_done(p), 0);

    /* a child cancelled first keeps its cause when the parent goes */
    weft_ctx_cancel(p, 0);
    ck_assert_int_eq(weft_ctx_cause(p), WEFT_CTX_CANCELED);
    ck_assert_int_eq(weft_ctx_cause(c), WEFT_CTX_DISCONNECT);
    ck_assert_int_eq(weft_ctx_cause(c2), WEFT_CTX_CANCELED);
    weft_ctx_cancel(p, WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_cause(p), WEFT_CTX_CANCELED);

    /* a user cause is kept as given */
    weft_ctx_cancel(root, APR_EGENERAL);
    ck_assert_int_eq(weft_ctx_cause(root), APR_EGENERAL);
}
END_TEST

static const char key1, key2, key3;

START_TEST(values_up_the_chain)
{
    int va = 1, vb = 2, vc = 3;
    weft_ctx_t *root = weft_ctx_root(pool);
    weft_ctx_t *v1 = weft_ctx_with_value(root, pool, &key1, &va);
    weft_ctx_t *mid = weft_ctx_with_cancel(v1, pool);
    weft_ctx_t *v2 = weft_ctx_with_value(mid, pool, &key2, &vb);
    weft_ctx_t *v3 = weft_ctx_with_value(v2, pool, &key1, &vc);
    weft_ctx_t *leaf = weft_ctx_with_cancel(v3, pool);

    ck_assert_ptr_eq(weft_ctx_value(leaf, &key1), &vc); /* shadowed */
    ck_assert_ptr_eq(weft_ctx_value(leaf, &key2), &vb);
    ck_assert_ptr_eq(weft_ctx_value(v2, &key1), &va);
    ck_assert_ptr_eq(weft_ctx_value(mid, &key1), &va);
    ck_assert_ptr_null(weft_ctx_value(mid, &key2));
    ck_assert_ptr_null(weft_ctx_value(root, &key1));
    ck_assert_ptr_null(weft_ctx_value(leaf, &key3));
    ck_assert_ptr_null(weft_ctx_value(leaf, NULL));

    /* a value context is cancelled with its parent, and alone */
    weft_ctx_cancel(v3, WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_cause(leaf), WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_done(v2), 0);
    weft_ctx_cancel(mid, 0);
    ck_assert_int_eq(weft_ctx_cause(v2), WEFT_CTX_CANCELED);
    ck_assert_int_eq(weft_ctx_done(v1), 0);
    /* values outlive cancellation */
    ck_assert_ptr_eq(weft_ctx_value(leaf, &key2), &vb);
}
END_TEST

START_TEST(deadline_is_the_earlier)
{
    apr_time_t now = apr_time_now();
    apr_time_t hour = now + apr_time_from_sec(3600);
    weft_ctx_t *root = weft_ctx_root(pool);
    weft_ctx_t *p = weft_ctx_with_deadline(root, pool, hour);
    weft_ctx_t *later = weft_ctx_with_deadline(p, pool, hour + 1000);
    weft_ctx_t *sooner = weft_ctx_with_deadline(p, pool, hour - 1000);
    weft_ctx_t *plain = weft_ctx_with_cancel(p, pool);
    weft_ctx_t *val = weft_ctx_with_value(sooner, pool, &key1, NULL);

    ck_assert_int_eq(weft_ctx_deadline(p), hour);
    ck_assert_int_eq(weft_ctx_deadline(later), hour);
    ck_assert_int_eq(weft_ctx_deadline(sooner), hour - 1000);
    ck_assert_int_eq(weft_ctx_deadline(plain), hour);
    ck_assert_int_eq(weft_ctx_deadline(val), hour - 1000);
    ck_assert_int_eq(weft_ctx_done(later), 0);
    ck_assert_int_eq(weft_ctx_cause(val), 0);
    /* cancelling before the deadline keeps the caller's cause */
    weft_ctx_cancel(later, 0);
    ck_assert_int_eq(weft_ctx_cause(later), WEFT_CTX_CANCELED);
}
END_TEST

START_TEST(deadline_past_is_done)
{
    apr_time_t past = apr_time_now() - apr_time_from_sec(1);
    weft_ctx_t *root = weft_ctx_root(pool);
    weft_ctx_t *c = weft_ctx_with_deadline(root, pool, past);
    weft_ctx_t *g = weft_ctx_with_cancel(weft_ctx_with_cancel(c, pool), pool);
    weft_ctx_t *c2 = weft_ctx_with_deadline(root, pool, past);
    rec_t r = { 0 };

    ck_assert_int_eq(weft_ctx_deadline(c), past);
    ck_assert_int_eq(weft_ctx_deadline(g), past);
    ck_assert_int_eq(weft_ctx_done(c), 1);
    ck_assert_int_eq(weft_ctx_cause(c), WEFT_CTX_DEADLINE);
    ck_assert_int_eq(weft_ctx_cause(g), WEFT_CTX_DEADLINE);
    ck_assert_int_eq(weft_ctx_done(root), 0);
    /* a later cancel changes nothing */
    weft_ctx_cancel(c, WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_cause(c), WEFT_CTX_DEADLINE);

    /* observed by cause, by wait, by cancel, by a new child */
    ck_assert_int_eq(weft_ctx_cause(c2), WEFT_CTX_DEADLINE);
    c2 = weft_ctx_with_deadline(root, pool, past);
    ck_assert_int_eq(weft_ctx_wait(c2, 0), APR_SUCCESS);
    ck_assert_int_eq(weft_ctx_cause(c2), WEFT_CTX_DEADLINE);
    c2 = weft_ctx_with_deadline(root, pool, past);
    weft_ctx_cancel(c2, WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_cause(c2), WEFT_CTX_DEADLINE);
    c2 = weft_ctx_with_deadline(root, pool, past);
    ck_assert_int_eq(weft_ctx_cause(weft_ctx_with_cancel(c2, pool)),
                     WEFT_CTX_DEADLINE);

    /* registering on an expired context runs the callback at once */
    c2 = weft_ctx_with_deadline(root, pool, past);
    ck_assert_ptr_null(weft_ctx_after(c2, count_cb, &r));
    ck_assert_int_eq(ran(&r), 1);
    ck_assert_int_eq(weft_ctx_done(root), 0);
}
END_TEST

START_TEST(deadline_expiry_observed_later)
{
    apr_time_t dl = apr_time_now() + 200 * MS;
    weft_ctx_t *root = weft_ctx_root(pool);
    weft_ctx_t *p = weft_ctx_with_deadline(root, pool, dl);
    weft_ctx_t *c = weft_ctx_with_cancel(p, pool);
    weft_ctx_t *s = weft_ctx_with_cancel(p, pool);
    rec_t rp = { 0 }, rs = { 0 };
    int i;

    rp.ctx = p;
    ck_assert_ptr_nonnull(weft_ctx_after(p, count_cb, &rp));
    ck_assert_ptr_nonnull(weft_ctx_after(s, count_cb, &rs));
    ck_assert_int_eq(weft_ctx_done(c), 0);
    ck_assert_int_eq(ran(&rp), 0);

    /* Nobody looks: with callbacks registered, the timer thread cancels
     * the deadline's owner on time, and with it the sibling.  Bounded
     * wait for it (sanitizer builds are slow), never on this thread's
     * own observation. */
    for (i = 0; i < 500 && (ran(&rp) == 0 || ran(&rs) == 0); i++)
        pass_time(10 * MS);
    ck_assert(apr_time_now() >= dl);
    ck_assert_int_eq(ran(&rp), 1);
    ck_assert_int_eq(ran(&rs), 1);
    ck_assert(!pthread_equal(rp.thread, pthread_self()));
    ck_assert_int_eq(rp.seen, WEFT_CTX_DEADLINE);
    ck_assert_int_eq(weft_ctx_done(c), 1);
    ck_assert_int_eq(weft_ctx_cause(c), WEFT_CTX_DEADLINE);
    ck_assert_int_eq(weft_ctx_cause(s), WEFT_CTX_DEADLINE);
    ck_assert_int_eq(weft_ctx_cause(p), WEFT_CTX_DEADLINE);
    ck_assert_int_eq(weft_ctx_done(root), 0);
    ck_assert_int_eq(ran(&rp), 1);
}
END_TEST

/* Without callbacks nothing needs the timer: expiry is observed by the
 * first look, on the looking thread. */
START_TEST(deadline_expiry_observed_by_looking)
{
    apr_time_t dl = apr_time_now() + 50 * MS;
    weft_ctx_t *root = weft_ctx_root(pool);
    weft_ctx_t *p = weft_ctx_with_deadline(root, pool, dl);
    weft_ctx_t *c = weft_ctx_with_cancel(p, pool);

    pass_time(80 * MS);
    ck_assert_int_eq(weft_ctx_done(c), 1);
    ck_assert_int_eq(weft_ctx_cause(p), WEFT_CTX_DEADLINE);
}
END_TEST

START_TEST(wait_ends_at_deadline)
{
    weft_ctx_t *root = weft_ctx_root(pool);
    apr_time_t start = apr_time_now();
    apr_time_t dl = start + 80 * MS;
    weft_ctx_t *c = weft_ctx_with_deadline(root, pool, dl);
    weft_ctx_t *child = weft_ctx_with_cancel(c, pool);
    rec_t r = { 0 };
    apr_time_t end;
    int i;

    ck_assert_ptr_nonnull(weft_ctx_after(c, count_cb, &r));
    /* the timeout is far; the deadline ends the wait */
    ck_assert_int_eq(weft_ctx_wait(child, apr_time_from_sec(20)), APR_SUCCESS);
    end = apr_time_now();
    ck_assert(end >= dl);
    ck_assert(end - start < apr_time_from_sec(10));
    ck_assert_int_eq(weft_ctx_cause(child), WEFT_CTX_DEADLINE);
    ck_assert_int_eq(weft_ctx_cause(c), WEFT_CTX_DEADLINE);
    /* Whoever cancelled runs the callback: this thread, if its wait saw
     * the deadline first, or the timer thread, which wakes the wait
     * before it runs the callbacks it claimed (Go's AfterFunc promises no
     * order either).  Bounded wait for it. */
    for (i = 0; i < 500 && ran(&r) == 0; i++)
        pass_time(10 * MS);
    ck_assert_int_eq(ran(&r), 1);

    /* without a timeout too */
    start = apr_time_now();
    dl = start + 30 * MS;
    c = weft_ctx_with_deadline(root, pool, dl);
    ck_assert_int_eq(weft_ctx_wait(c, -1), APR_SUCCESS);
    ck_assert(apr_time_now() >= dl);
    ck_assert_int_eq(weft_ctx_cause(c), WEFT_CTX_DEADLINE);

    /* a timeout shorter than the deadline ends it first */
    start = apr_time_now();
    c = weft_ctx_with_deadline(root, pool, start + apr_time_from_sec(3600));
    ck_assert_int_eq(weft_ctx_wait(c, 30 * MS), APR_TIMEUP);
    ck_assert(apr_time_now() - start >= 30 * MS);
    ck_assert_int_eq(weft_ctx_done(c), 0);
}
END_TEST

START_TEST(wait_times_out)
{
    weft_ctx_t *c = weft_ctx_with_cancel(weft_ctx_root(pool), pool);
    apr_time_t start = apr_time_now();

    ck_assert_int_eq(weft_ctx_wait(c, 0), APR_TIMEUP);
    ck_assert_int_eq(weft_ctx_wait(c, 50 * MS), APR_TIMEUP);
    ck_assert(apr_time_now() - start >= 50 * MS);
    ck_assert_int_eq(weft_ctx_done(c), 0);
    ck_assert_int_eq(weft_ctx_cause(c), 0);
}
END_TEST

typedef struct {
    weft_ctx_t *ctx;
    apr_status_t cause;
    apr_interval_time_t delay;
} canceller_t;

static void *cancel_thread(void *arg)
{
    canceller_t *k = arg;

    /* The delay only makes it likely that the waiter is blocked by then;
     * the test holds either way. */
    weft_sleep(k->delay);
    weft_ctx_cancel(k->ctx, k->cause);
    return NULL;
}

START_TEST(wait_wakes_on_cancel)
{
    weft_ctx_t *root = weft_ctx_root(pool);
    weft_ctx_t *p = weft_ctx_with_cancel(root, pool);
    weft_ctx_t *c = weft_ctx_with_value(p, pool, &key1, NULL);
    canceller_t k = { p, WEFT_CTX_DISCONNECT, 20 * MS };
    apr_time_t start = apr_time_now();
    pthread_t t = spawn(cancel_thread, &k);

    /* a wait on a child is woken by its parent's cancel */
    ck_assert_int_eq(weft_ctx_wait(c, apr_time_from_sec(30)), APR_SUCCESS);
    ck_assert(apr_time_now() - start < apr_time_from_sec(10));
    ck_assert_int_eq(weft_ctx_cause(c), WEFT_CTX_DISCONNECT);
    pthread_join(t, NULL);

    /* and with no limit at all */
    c = weft_ctx_with_cancel(root, pool);
    k.ctx = c;
    k.cause = 0;
    t = spawn(cancel_thread, &k);
    ck_assert_int_eq(weft_ctx_wait(c, -1), APR_SUCCESS);
    ck_assert_int_eq(weft_ctx_cause(c), WEFT_CTX_CANCELED);
    pthread_join(t, NULL);
}
END_TEST

START_TEST(after_runs_once_on_cancelling_thread)
{
    weft_ctx_t *c = weft_ctx_with_cancel(weft_ctx_root(pool), pool);
    rec_t r = { 0 };
    weft_ctx_after_t *a;
    canceller_t k = { c, WEFT_CTX_SHUTDOWN, 0 };
    pthread_t t;

    r.ctx = c;
    a = weft_ctx_after(c, count_cb, &r);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(ran(&r), 0);
    t = spawn(cancel_thread, &k);
    pthread_join(t, NULL);
    ck_assert_int_eq(ran(&r), 1);
    ck_assert(pthread_equal(r.thread, t));
    /* the context was done when the callback ran */
    ck_assert_int_eq(r.seen, WEFT_CTX_SHUTDOWN);
    weft_ctx_cancel(c, 0);
    ck_assert_int_eq(ran(&r), 1);
    ck_assert_int_eq(weft_ctx_stop(a), 0);
    ck_assert_int_eq(ran(&r), 1);
}
END_TEST

START_TEST(after_on_done_runs_at_once)
{
    weft_ctx_t *c = weft_ctx_with_cancel(weft_ctx_root(pool), pool);
    rec_t r = { 0 };

    weft_ctx_cancel(c, 0);
    ck_assert_ptr_null(weft_ctx_after(c, count_cb, &r));
    ck_assert_int_eq(ran(&r), 1);
    ck_assert(pthread_equal(r.thread, pthread_self()));
    ck_assert_int_eq(weft_ctx_stop(NULL), 0);
}
END_TEST

START_TEST(after_stopped_never_runs)
{
    weft_ctx_t *c = weft_ctx_with_cancel(weft_ctx_root(pool), pool);
    rec_t r[4];
    weft_ctx_after_t *a[4];
    int order[4], slot = 0, i;

    memset(r, 0, sizeof(r));
    for (i = 0; i < 4; i++) {
        r[i].order = order;
        r[i].next_slot = &slot;
        r[i].id = i;
        a[i] = weft_ctx_after(c, count_cb, &r[i]);
        ck_assert_ptr_nonnull(a[i]);
    }
    /* stop the first, one in the middle, and the last */
    ck_assert_int_eq(weft_ctx_stop(a[0]), 1);
    ck_assert_int_eq(weft_ctx_stop(a[2]), 1);
    ck_assert_int_eq(weft_ctx_stop(a[3]), 1);
    ck_assert_int_eq(weft_ctx_stop(a[2]), 0); /* already stopped */
    weft_ctx_cancel(c, 0);
    ck_assert_int_eq(ran(&r[0]), 0);
    ck_assert_int_eq(ran(&r[1]), 1);
    ck_assert_int_eq(ran(&r[2]), 0);
    ck_assert_int_eq(ran(&r[3]), 0);
    ck_assert_int_eq(slot, 1);
    ck_assert_int_eq(weft_ctx_stop(a[1]), 0);

    /* the survivors run in registration order */
    c = weft_ctx_with_cancel(weft_ctx_root(pool), pool);
    slot = 0;
    for (i = 0; i < 4; i++)
        a[i] = weft_ctx_after(c, count_cb, &r[i]);
    ck_assert_int_eq(weft_ctx_stop(a[1]), 1);
    weft_ctx_cancel(c, 0);
    ck_assert_int_eq(slot, 3);
    ck_assert_int_eq(order[0], 0);
    ck_assert_int_eq(order[1], 2);
    ck_assert_int_eq(order[2], 3);
}
END_TEST

START_TEST(after_on_descendants)
{
    weft_ctx_t *root = weft_ctx_root(pool);
    weft_ctx_t *a = weft_ctx_with_cancel(root, pool);
    weft_ctx_t *g = weft_ctx_with_cancel(weft_ctx_with_cancel(a, pool), pool);
    rec_t ra = { 0 }, rg = { 0 };

    ra.ctx = a;
    rg.ctx = g;
    weft_ctx_after(a, count_cb, &ra);
    weft_ctx_after(g, count_cb, &rg);
    weft_ctx_cancel(root, WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(ran(&ra), 1);
    ck_assert_int_eq(ran(&rg), 1);
    ck_assert_int_eq(ra.seen, WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(rg.seen, WEFT_CTX_SHUTDOWN);
    weft_ctx_cancel(g, 0);
    weft_ctx_cancel(a, 0);
    ck_assert_int_eq(ran(&ra), 1);
    ck_assert_int_eq(ran(&rg), 1);
}
END_TEST

/* A callback that uses the API on the tree it belongs to: no lock may be
 * held while it runs. */
typedef struct {
    weft_ctx_t *self, *parent, *root;
    weft_ctx_after_t *handle;
    rec_t inner;
    int stop_rc;
    weft_ctx_t *made;
} reentrant_t;

static void reentrant_cb(void *data)
{
    reentrant_t *x = data;

    x->stop_rc = weft_ctx_stop(x->handle);
    weft_ctx_after(x->self, count_cb, &x->inner); /* done: runs at once */
    x->made = weft_ctx_with_cancel(x->parent, pool);
    weft_ctx_cancel(x->root, WEFT_CTX_SHUTDOWN);
}

START_TEST(after_may_use_the_tree)
{
    reentrant_t x;

    memset(&x, 0, sizeof(x));
    x.root = weft_ctx_root(pool);
    x.parent = weft_ctx_with_cancel(x.root, pool);
    x.self = weft_ctx_with_cancel(x.parent, pool);
    x.stop_rc = -1;
    x.handle = weft_ctx_after(x.self, reentrant_cb, &x);
    weft_ctx_cancel(x.self, WEFT_CTX_DISCONNECT);
    ck_assert_int_eq(x.stop_rc, 0);
    ck_assert_int_eq(ran(&x.inner), 1);
    ck_assert_ptr_nonnull(x.made);
    ck_assert_int_eq(weft_ctx_cause(x.made), WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_cause(x.root), WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(weft_ctx_cause(x.self), WEFT_CTX_DISCONNECT);
}
END_TEST

/* A pool with its own allocator, so destroying it hands its memory back to
 * malloc: AddressSanitizer then sees any later touch of it. */
static apr_pool_t *own_pool(void)
{
    apr_allocator_t *al;
    apr_pool_t *p;

    ck_assert_int_eq(apr_allocator_create(&al), APR_SUCCESS);
    ck_assert_int_eq(apr_pool_create_ex(&p, NULL, NULL, al), APR_SUCCESS);
    apr_allocator_owner_set(al, p);
    return p;
}

START_TEST(pool_destroy_detaches)
{
    weft_ctx_t *root = weft_ctx_root(pool);
    weft_ctx_t *p = weft_ctx_with_cancel(root, pool);
    apr_pool_t *cp = own_pool(), *cp2 = own_pool();
    weft_ctx_t *c, *g, *keep;
    rec_t rc = { 0 }, rg = { 0 }, rk = { 0 };

    c = weft_ctx_with_cancel(p, cp);
    g = weft_ctx_with_value(c, cp, &key1, NULL);
    keep = weft_ctx_with_cancel(p, cp2);
    rc.ctx = c;
    weft_ctx_after(c, count_cb, &rc);
    weft_ctx_after(g, count_cb, &rg);
    weft_ctx_after(keep, count_cb, &rk);

    /* clearing the pool cancels (cause: cancelled) and runs callbacks */
    apr_pool_destroy(cp);
    ck_assert_int_eq(ran(&rc), 1);
    ck_assert_int_eq(ran(&rg), 1);
    ck_assert_int_eq(rc.seen, WEFT_CTX_CANCELED);
    ck_assert_int_eq(weft_ctx_done(p), 0);

    /* the parent no longer reaches the freed children */
    weft_ctx_cancel(p, WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(ran(&rk), 1);
    ck_assert_int_eq(weft_ctx_cause(keep), WEFT_CTX_SHUTDOWN);
    ck_assert_int_eq(ran(&rc), 1);
    apr_pool_destroy(cp2);
}
END_TEST

START_TEST(pool_clear_detaches_then_reuses)
{
    weft_ctx_t *root = weft_ctx_root(pool);
    weft_ctx_t *p = weft_ctx_with_cancel(root, pool);
    apr_pool_t *cp;
    weft_ctx_t *c, *c2;
    rec_t r = { 0 };
    int i;

    apr_pool_create(&cp, pool);
    for (i = 0; i < 8; i++)
        weft_ctx_with_cancel(weft_ctx_with_cancel(p, cp), cp);
    c = weft_ctx_with_cancel(p, cp);
    weft_ctx_after(c, count_cb, &r);
    apr_pool_clear(cp);
    ck_assert_int_eq(ran(&r), 1);
    /* scribble over the cleared memory, in small pieces so they land
     * where the contexts were: a stale pointer to it would follow garbage */
    for (i = 0; i < 64; i++)
        memset(apr_palloc(cp, 512), 0xa5, 512);
    c2 = weft_ctx_with_cancel(p, cp);
    weft_ctx_cancel(p, 0);
    ck_assert_int_eq(weft_ctx_cause(c2), WEFT_CTX_CANCELED);
    ck_assert_int_eq(ran(&r), 1);

    /* a subpool goes before its parent pool's contexts do */
    apr_pool_clear(pool);
}
END_TEST

/* A callback that destroys another context's pool while that context's
 * own callbacks are still queued behind it on this thread. */
typedef struct {
    apr_pool_t *victim;
} destroyer_t;

static void destroy_cb(void *data)
{
    destroyer_t *d = data;

    apr_pool_destroy(d->victim);
}

START_TEST(after_may_clear_a_queued_pool)
{
    weft_ctx_t *conn = weft_ctx_with_cancel(weft_ctx_root(pool), pool);
    apr_pool_t *rp = own_pool();
    weft_ctx_t *req = weft_ctx_with_cancel(conn, rp);
    rec_t rr = { 0 }, rr2 = { 0 };
    destroyer_t d;

    /* the request's data lives in the request pool, as it would */
    weft_ctx_after(req, count_cb, &rr);
    weft_ctx_after(weft_ctx_with_cancel(req, rp), count_cb, &rr2);
    d.victim = rp;
    weft_ctx_after(conn, destroy_cb, &d);
    /* conn's callback runs first (a context's before its children's) */
    weft_ctx_cancel(conn, WEFT_CTX_DISCONNECT);
    ck_assert_int_eq(ran(&rr), 1);
    ck_assert_int_eq(ran(&rr2), 1);
}
END_TEST

static void destroy_own_cb(void *data)
{
    destroyer_t *d = data;

    apr_pool_destroy(d->victim);
}

START_TEST(after_may_clear_its_own_pool)
{
    weft_ctx_t *root = weft_ctx_root(pool);
    apr_pool_t *cp = own_pool();
    weft_ctx_t *c = weft_ctx_with_cancel(root, cp);
    destroyer_t *d = malloc(sizeof(*d));
    rec_t r = { 0 };

    d->victim = cp;
    weft_ctx_after(c, destroy_own_cb, d);
    weft_ctx_after(c, count_cb, &r);
    weft_ctx_cancel(root, 0);
    ck_assert_int_eq(ran(&r), 1);
    free(d);
}
END_TEST

/*
 * The races: N threads cancel one context while M wait on it and K churn
 * children (each in its own subpool, some with deadlines about to pass)
 * with callbacks that are sometimes stopped.  Everyone must return, each
 * callback must run exactly once unless stopped, and never after a
 * successful stop.
 */
#define N_CANCEL 3
#define M_WAIT 3
#define K_CHURN 3
#define TARGET_AFTERS 4
#define CHURN_ROUNDS 24

typedef struct {
    weft_ctx_t *target;
    pthread_barrier_t start;
    apr_status_t wait_rc[M_WAIT];
    atomic_int next_waiter;
    atomic_int created, ran, stopped, wrong;
} race_t;

typedef struct {
    race_t *race;
    atomic_int ran;
} child_rec_t;

static void child_cb(void *data)
{
    child_rec_t *r = data;

    if (atomic_fetch_add(&r->ran, 1) != 0)
        atomic_fetch_add(&r->race->wrong, 1);
    atomic_fetch_add(&r->race->ran, 1);
}

static void *race_cancel(void *arg)
{
    race_t *r = arg;
    static const apr_status_t causes[] = { WEFT_CTX_SHUTDOWN,
                                           WEFT_CTX_DISCONNECT, 0 };
    static atomic_int n;
    int i = atomic_fetch_add(&n, 1);

    pthread_barrier_wait(&r->start);
    weft_ctx_cancel(r->target, causes[i % 3]);
    weft_ctx_done(r->target);
    return NULL;
}

static void *race_wait(void *arg)
{
    race_t *r = arg;
    int slot = atomic_fetch_add(&r->next_waiter, 1);

    pthread_barrier_wait(&r->start);
    r->wait_rc[slot] = weft_ctx_wait(r->target, apr_time_from_sec(30));
    return NULL;
}

/* One churned child: a context (with a grandchild) in its own subpool,
 * with a callback whose record lives in that pool too. */
typedef struct {
    apr_pool_t *sp;
    weft_ctx_t *c, *g;
    weft_ctx_after_t *a;
} churned_t;

static void churn_make(race_t *r, apr_pool_t *tp, int i, churned_t *ch)
{
    child_rec_t *rec;

    apr_pool_create(&ch->sp, tp);
    switch (i % 3) {
    case 0:
        ch->c = weft_ctx_with_cancel(r->target, ch->sp);
        break;
    case 1: /* a deadline about to pass, observed while others cancel */
        ch->c = weft_ctx_with_deadline(r->target, ch->sp,
                                       apr_time_now() + (i % 4) * 20);
        break;
    default:
        ch->c = weft_ctx_with_value(r->target, ch->sp, &key1, r);
        break;
    }
    ch->g = weft_ctx_with_cancel(ch->c, ch->sp);
    rec = apr_pcalloc(ch->sp, sizeof(*rec));
    rec->race = r;
    atomic_fetch_add(&r->created, 1);
    ch->a = weft_ctx_after(i % 2 ? ch->g : ch->c, child_cb, rec);
}

static void *race_churn(void *arg)
{
    race_t *r = arg;
    churned_t ch[CHURN_ROUNDS];
    apr_pool_t *tp;
    int i;

    /* Half the children exist before the start, so the cancels reach
     * them while this thread stops their callbacks and clears their
     * pools; the other half are made while the cancels run. */
    apr_pool_create(&tp, NULL);
    for (i = 0; i < CHURN_ROUNDS; i += 2)
        churn_make(r, tp, i, &ch[i]);
    pthread_barrier_wait(&r->start);
    for (i = 0; i < CHURN_ROUNDS; i++) {
        if (i % 2 == 1)
            churn_make(r, tp, i, &ch[i]);
        weft_ctx_done(ch[i].g);
        if (i % 4 == 1)
            weft_ctx_wait(ch[i].g, 50);
        if (i % 3 != 2 && weft_ctx_stop(ch[i].a))
            atomic_fetch_add(&r->stopped, 1);
        if (i % 5 == 0)
            weft_ctx_cancel(ch[i].c, 0);
        /* the cleanup waits for a callback another thread is running */
        apr_pool_destroy(ch[i].sp);
    }
    apr_pool_destroy(tp);
    return NULL;
}

static int race_once(int with_deadline)
{
    race_t r;
    pthread_t t[N_CANCEL + M_WAIT + K_CHURN];
    rec_t target_rec[TARGET_AFTERS];
    apr_pool_t *ip;
    apr_status_t cause;
    int i, n = 0, wrong, ran_n, stopped, created;

    memset(&r, 0, sizeof(r));
    memset(target_rec, 0, sizeof(target_rec));
    apr_pool_create(&ip, pool);
    r.target = with_deadline ? weft_ctx_with_deadline(weft_ctx_root(ip), ip,
                                                      apr_time_now() + 100)
                             : weft_ctx_with_cancel(weft_ctx_root(ip), ip);
    for (i = 0; i < TARGET_AFTERS; i++)
        weft_ctx_after(r.target, count_cb, &target_rec[i]);
    pthread_barrier_init(&r.start, NULL, N_CANCEL + M_WAIT + K_CHURN);
    for (i = 0; i < N_CANCEL; i++)
        t[n++] = spawn(race_cancel, &r);
    for (i = 0; i < M_WAIT; i++)
        t[n++] = spawn(race_wait, &r);
    for (i = 0; i < K_CHURN; i++)
        t[n++] = spawn(race_churn, &r);
    for (i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&r.start);

    for (i = 0; i < M_WAIT; i++)
        ck_assert_int_eq(r.wait_rc[i], APR_SUCCESS);
    for (i = 0; i < TARGET_AFTERS; i++)
        ck_assert_int_eq(ran(&target_rec[i]), 1);
    cause = weft_ctx_cause(r.target);
    ck_assert(cause == WEFT_CTX_SHUTDOWN || cause == WEFT_CTX_DISCONNECT ||
              cause == WEFT_CTX_CANCELED ||
              (with_deadline && cause == WEFT_CTX_DEADLINE));
    wrong = atomic_load(&r.wrong);
    ran_n = atomic_load(&r.ran);
    stopped = atomic_load(&r.stopped);
    created = atomic_load(&r.created);
    ck_assert_int_eq(wrong, 0);
    ck_assert_int_eq(created, K_CHURN * CHURN_ROUNDS);
    ck_assert_int_eq(ran_n + stopped, created);
    apr_pool_destroy(ip);
    return 1;
}

START_TEST(races)
{
    apr_time_t end = apr_time_now() + apr_time_from_sec(5);
    int iter;

    /* bounded in count and in time (sanitizer builds are slower) */
    for (iter = 0; iter < 300 && (iter < 10 || apr_time_now() < end); iter++)
        race_once(iter % 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctx");
    TCase *tc = tcase_create("ctx");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, root_is_live_until_cancelled);
    tcase_add_test(tc, cancel_reaches_descendants);
    tcase_add_test(tc, first_cause_wins);
    tcase_add_test(tc, values_up_the_chain);
    tcase_add_test(tc, deadline_is_the_earlier);
    tcase_add_test(tc, deadline_past_is_done);
    tcase_add_test(tc, deadline_expiry_observed_later);
    tcase_add_test(tc, deadline_expiry_observed_by_looking);
    tcase_add_test(tc, wait_ends_at_deadline);
    tcase_add_test(tc, wait_times_out);
    tcase_add_test(tc, wait_wakes_on_cancel);
    tcase_add_test(tc, after_runs_once_on_cancelling_thread);
    tcase_add_test(tc, after_on_done_runs_at_once);
    tcase_add_test(tc, after_stopped_never_runs);
    tcase_add_test(tc, after_on_descendants);
    tcase_add_test(tc, after_may_use_the_tree);
    tcase_add_test(tc, pool_destroy_detaches);
    tcase_add_test(tc, pool_clear_detaches_then_reuses);
    tcase_add_test(tc, after_may_clear_a_queued_pool);
    tcase_add_test(tc, after_may_clear_its_own_pool);
    tcase_add_test(tc, races);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
