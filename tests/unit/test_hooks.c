/*
 * test_hooks.c -- hook ordering and run modes as the core uses APR's hooks:
 * FIRST/MIDDLE/LAST, predecessor and successor lists naming modules,
 * RUN_ALL stopping at an error, VOID running all, and per-server tables.
 */
#include <apr_strings.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "weft_core.h"

/* ---- in-process modules a, b, c, d ------------------------------------ */

/* What module i registers and what its hook functions return. */
typedef struct {
    int order;               /* WEFT_HOOK_* */
    const char *const *pred; /* modules that must run before it, or NULL */
    const char *const *succ; /* modules that must run after it, or NULL */
    int post_ret;            /* post_config's return */
    int test_ret;            /* test_config's return */
    const char *test_err;    /* set into *err by test_config, or NULL */
} plan_t;

static plan_t plans[4];
static char calls[256]; /* "a b c": the order the hooks ran in */
static weft_server_t *seen_server;
static apr_pool_t *seen_pconf;

static void note(const char *who)
{
    if (calls[0] != '\0')
        strncat(calls, " ", sizeof(calls) - strlen(calls) - 1);
    strncat(calls, who, sizeof(calls) - strlen(calls) - 1);
}

#define HOOK_MODULE(X, I)                                                    \
    static int X##_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,         \
                               weft_server_t *s)                             \
    {                                                                        \
        note(#X);                                                            \
        seen_server = s;                                                     \
        seen_pconf = pconf;                                                  \
        return plans[I].post_ret;                                            \
    }                                                                        \
    static int X##_test_config(apr_pool_t *pconf, apr_pool_t *ptemp,         \
                               weft_server_t *s, const char **err)           \
    {                                                                        \
        note(#X);                                                            \
        seen_server = s;                                                     \
        seen_pconf = pconf;                                                  \
        if (plans[I].test_err != NULL)                                       \
            *err = plans[I].test_err;                                        \
        return plans[I].test_ret;                                            \
    }                                                                        \
    static void X##_on_shutdown(weft_server_t *s)                            \
    {                                                                        \
        note(#X);                                                            \
    }                                                                        \
    static void X##_register_hooks(apr_pool_t *p)                            \
    {                                                                        \
        weft_hook_post_config(X##_post_config, plans[I].pred, plans[I].succ, \
                              plans[I].order);                               \
        weft_hook_test_config(X##_test_config, plans[I].pred, plans[I].succ, \
                              plans[I].order);                               \
        weft_hook_on_shutdown(X##_on_shutdown, plans[I].pred, plans[I].succ, \
                              plans[I].order);                               \
    }                                                                        \
    static const weft_module_t X##_module = {                                \
        WEFT_MODULE_HEADER, #X, NULL, NULL, X##_register_hooks,              \
    };

HOOK_MODULE(a, 0)
HOOK_MODULE(b, 1)
HOOK_MODULE(c, 2)
HOOK_MODULE(d, 3)

static const char *const after_a[] = { "a", NULL };
static const char *const after_b[] = { "b", NULL };
static const char *const before_a[] = { "a", NULL };
static const char *const before_b[] = { "b", NULL };
static const char *const after_nobody[] = { "nosuch", NULL };

/* ---- fixture and helpers ---------------------------------------------- */

static apr_pool_t *pool;
static weft_server_t *srv;

static void setup(void)
{
    int i;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    ck_assert_int_eq(weft_server_create(pool, &srv), APR_SUCCESS);
    for (i = 0; i < 4; i++) {
        memset(&plans[i], 0, sizeof(plans[i]));
        plans[i].order = WEFT_HOOK_MIDDLE;
        plans[i].post_ret = WEFT_OK;
        plans[i].test_ret = WEFT_OK;
    }
    calls[0] = '\0';
    seen_server = NULL;
    seen_pconf = NULL;
}

static void teardown(void)
{
    if (srv != NULL)
        weft_server_destroy(srv);
    apr_pool_destroy(pool);
    apr_terminate();
}

/* Registers m with srv as weft_module_add does for LoadModule. */
static void add(const weft_module_t *m)
{
    const char *why = NULL;

    ck_assert_msg(weft_module_add(srv, m,
                                  apr_pstrcat(pool, m->name, "_module", NULL),
                                  NULL, "test.conf", 1, &why) == APR_SUCCESS,
                  "adding %s: %s", m->name, why ? why : "?");
}

/* Sorts (through the check) and runs test_config; the order it ran in. */
static const char *run_check(void)
{
    const char *err = NULL;

    calls[0] = '\0';
    ck_assert_msg(weft_server_check_config(srv, &err) == APR_SUCCESS,
                  "check failed: %s", err ? err : "?");
    return calls;
}

static const char *run_post_config(void)
{
    calls[0] = '\0';
    ck_assert_int_eq(weft_run_post_config(weft_server_pool(srv), pool, srv),
                     WEFT_OK);
    return calls;
}

static const char *run_on_shutdown(void)
{
    calls[0] = '\0';
    weft_run_on_shutdown(srv);
    return calls;
}

/* ---- ordering --------------------------------------------------------- */

START_TEST(first_middle_last)
{
    plans[0].order = WEFT_HOOK_FIRST;
    plans[1].order = WEFT_HOOK_MIDDLE;
    plans[2].order = WEFT_HOOK_LAST;
    /* registered backwards */
    add(&c_module);
    add(&b_module);
    add(&a_module);
    ck_assert_str_eq(run_check(), "a b c");
    ck_assert_str_eq(run_post_config(), "a b c");
    ck_assert_str_eq(run_on_shutdown(), "a b c");
}
END_TEST

START_TEST(really_first_and_really_last)
{
    plans[0].order = WEFT_HOOK_REALLY_LAST;
    plans[1].order = WEFT_HOOK_LAST;
    plans[2].order = WEFT_HOOK_FIRST;
    plans[3].order = WEFT_HOOK_REALLY_FIRST;
    add(&a_module);
    add(&b_module);
    add(&c_module);
    add(&d_module);
    ck_assert_str_eq(run_check(), "d c b a");
    ck_assert_str_eq(run_post_config(), "d c b a");
}
END_TEST

START_TEST(sorted_by_the_check)
{
    plans[0].order = WEFT_HOOK_FIRST;
    plans[2].order = WEFT_HOOK_LAST;
    add(&c_module);
    add(&a_module);
    /* before the check the table is in registration order */
    ck_assert_str_eq(run_post_config(), "c a");
    ck_assert_str_eq(run_check(), "a c");
    ck_assert_str_eq(run_post_config(), "a c");
}
END_TEST

START_TEST(predecessor_orders_middle_hooks)
{
    /* b must run after a: both MIDDLE, b registered first */
    plans[1].pred = after_a;
    add(&b_module);
    add(&a_module);
    ck_assert_str_eq(run_check(), "a b");
    ck_assert_str_eq(run_post_config(), "a b");
    ck_assert_str_eq(run_on_shutdown(), "a b");
}
END_TEST

START_TEST(predecessor_chain)
{
    plans[2].pred = after_b;
    plans[1].pred = after_a;
    add(&c_module);
    add(&b_module);
    add(&a_module);
    ck_assert_str_eq(run_check(), "a b c");
    ck_assert_str_eq(run_post_config(), "a b c");
}
END_TEST

START_TEST(predecessor_outranks_position)
{
    /* a predecessor runs first even when its own position is later */
    plans[0].order = WEFT_HOOK_LAST;
    plans[1].order = WEFT_HOOK_FIRST;
    plans[1].pred = after_a;
    plans[2].order = WEFT_HOOK_MIDDLE;
    add(&b_module);
    add(&c_module);
    add(&a_module);
    ck_assert_str_eq(run_post_config(), "b c a"); /* unsorted */
    ck_assert_str_eq(run_check(), "a b c");
}
END_TEST

START_TEST(successor_orders_middle_hooks)
{
    /* a must run before b: a says so, b knows nothing of it */
    plans[0].succ = before_b;
    add(&b_module);
    add(&a_module);
    ck_assert_str_eq(run_check(), "a b");
    ck_assert_str_eq(run_post_config(), "a b");
}
END_TEST

START_TEST(successor_and_predecessor_together)
{
    /* c before a (c's successor list), a before b (b's predecessor list) */
    plans[2].succ = before_a;
    plans[1].pred = after_a;
    add(&b_module);
    add(&a_module);
    add(&c_module);
    ck_assert_str_eq(run_check(), "c a b");
    ck_assert_str_eq(run_on_shutdown(), "c a b");
}
END_TEST

START_TEST(unknown_names_ignored)
{
    plans[0].order = WEFT_HOOK_FIRST;
    plans[1].pred = after_nobody;
    plans[1].succ = after_nobody;
    add(&b_module);
    add(&a_module);
    ck_assert_str_eq(run_check(), "a b");
}
END_TEST

/* ---- run modes -------------------------------------------------------- */

START_TEST(run_all_stops_at_error)
{
    plans[0].order = WEFT_HOOK_FIRST;
    plans[2].order = WEFT_HOOK_LAST;
    plans[1].post_ret = WEFT_ERROR;
    add(&c_module);
    add(&b_module);
    add(&a_module);
    run_check();
    calls[0] = '\0';
    ck_assert_int_eq(weft_run_post_config(weft_server_pool(srv), pool, srv),
                     WEFT_ERROR);
    ck_assert_str_eq(calls, "a b");
}
END_TEST

START_TEST(run_all_stops_at_done)
{
    /* RUN_ALL goes on only through OK and DECLINED */
    plans[0].order = WEFT_HOOK_FIRST;
    plans[2].order = WEFT_HOOK_LAST;
    plans[0].post_ret = WEFT_DONE;
    add(&a_module);
    add(&b_module);
    add(&c_module);
    run_check();
    calls[0] = '\0';
    ck_assert_int_eq(weft_run_post_config(weft_server_pool(srv), pool, srv),
                     WEFT_DONE);
    ck_assert_str_eq(calls, "a");
}
END_TEST

START_TEST(declined_does_not_stop)
{
    plans[0].order = WEFT_HOOK_FIRST;
    plans[2].order = WEFT_HOOK_LAST;
    plans[0].post_ret = WEFT_DECLINED;
    plans[1].post_ret = WEFT_DECLINED;
    plans[0].test_ret = WEFT_DECLINED;
    add(&a_module);
    add(&b_module);
    add(&c_module);
    ck_assert_str_eq(run_check(), "a b c");
    ck_assert_str_eq(run_post_config(), "a b c"); /* and WEFT_OK overall */
    /* all declining is still success */
    plans[2].post_ret = WEFT_DECLINED;
    ck_assert_str_eq(run_post_config(), "a b c");
}
END_TEST

START_TEST(hooks_get_the_server)
{
    add(&a_module);
    run_check();
    ck_assert_ptr_eq(seen_server, srv);
    ck_assert_ptr_eq(seen_pconf, weft_server_pool(srv));
    seen_server = NULL;
    run_post_config();
    ck_assert_ptr_eq(seen_server, srv);
}
END_TEST

START_TEST(test_config_error_propagates)
{
    const char *err = NULL;

    plans[0].order = WEFT_HOOK_FIRST;
    plans[2].order = WEFT_HOOK_LAST;
    plans[1].test_ret = WEFT_ERROR;
    plans[1].test_err =
        weft_config_errorf(pool, "x.conf", 3, "Thing", "broken %d", 42);
    add(&c_module);
    add(&a_module);
    add(&b_module);
    ck_assert_int_ne(weft_server_check_config(srv, &err), APR_SUCCESS);
    ck_assert_str_eq(calls, "a b");
    ck_assert_str_eq(err, "x.conf:3: Thing: broken 42");
    ck_assert_ptr_eq(err, plans[1].test_err);
}
END_TEST

START_TEST(test_config_error_without_message)
{
    const char *err = NULL;

    plans[0].test_ret = WEFT_ERROR;
    add(&a_module);
    add(&b_module);
    ck_assert_int_ne(weft_server_check_config(srv, &err), APR_SUCCESS);
    ck_assert_str_eq(calls, "a");
    ck_assert_str_eq(err, "(config): a module's configuration check failed");
}
END_TEST

START_TEST(test_config_declined_passes)
{
    const char *err = "untouched";

    plans[0].test_ret = WEFT_DECLINED;
    plans[1].test_ret = WEFT_DECLINED;
    add(&a_module);
    add(&b_module);
    ck_assert_int_eq(weft_server_check_config(srv, &err), APR_SUCCESS);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(calls, "a b");
}
END_TEST

START_TEST(on_shutdown_runs_all)
{
    /* VOID: nothing a function does stops the others */
    plans[0].order = WEFT_HOOK_LAST;
    plans[0].post_ret = WEFT_ERROR;
    plans[3].order = WEFT_HOOK_FIRST;
    plans[2].pred = after_b;
    add(&a_module);
    add(&b_module);
    add(&c_module);
    add(&d_module);
    ck_assert_str_eq(run_check(), "d b c a");
    ck_assert_str_eq(run_on_shutdown(), "d b c a");
}
END_TEST

/* ---- the hook table belongs to the live server ------------------------ */

START_TEST(new_server_starts_empty)
{
    weft_server_t *old = srv;

    add(&a_module);
    ck_assert_int_eq(weft_server_create(pool, &srv), APR_SUCCESS);
    add(&b_module);
    ck_assert_str_eq(run_check(), "b");
    ck_assert_str_eq(run_post_config(), "b");
    ck_assert_str_eq(run_on_shutdown(), "b");
    /* destroying the old server leaves the live one's hooks alone */
    weft_server_destroy(old);
    ck_assert_ptr_eq(apr_hook_global_pool, srv->hook_pool);
    ck_assert_str_eq(run_post_config(), "b");
}
END_TEST

START_TEST(destroy_empties_the_table)
{
    add(&a_module);
    add(&b_module);
    ck_assert_str_eq(run_check(), "a b");
    weft_server_destroy(srv);
    srv = NULL;
    ck_assert_ptr_null(apr_hook_global_pool);
    calls[0] = '\0';
    ck_assert_int_eq(weft_run_post_config(pool, pool, NULL), WEFT_OK);
    weft_run_on_shutdown(NULL);
    ck_assert_str_eq(calls, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hooks");
    TCase *order = tcase_create("order");
    TCase *modes = tcase_create("run_modes");
    TCase *table = tcase_create("table");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(order, setup, teardown);
    tcase_add_test(order, first_middle_last);
    tcase_add_test(order, really_first_and_really_last);
    tcase_add_test(order, sorted_by_the_check);
    tcase_add_test(order, predecessor_orders_middle_hooks);
    tcase_add_test(order, predecessor_chain);
    tcase_add_test(order, predecessor_outranks_position);
    tcase_add_test(order, successor_orders_middle_hooks);
    tcase_add_test(order, successor_and_predecessor_together);
    tcase_add_test(order, unknown_names_ignored);
    suite_add_tcase(s, order);

    tcase_add_checked_fixture(modes, setup, teardown);
    tcase_add_test(modes, run_all_stops_at_error);
    tcase_add_test(modes, run_all_stops_at_done);
    tcase_add_test(modes, declined_does_not_stop);
    tcase_add_test(modes, hooks_get_the_server);
    tcase_add_test(modes, test_config_error_propagates);
    tcase_add_test(modes, test_config_error_without_message);
    tcase_add_test(modes, test_config_declined_passes);
    tcase_add_test(modes, on_shutdown_runs_all);
    suite_add_tcase(s, modes);

    tcase_add_checked_fixture(table, setup, teardown);
    tcase_add_test(table, new_server_starts_empty);
    tcase_add_test(table, destroy_empties_the_table);
    suite_add_tcase(s, table);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
