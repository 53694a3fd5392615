/*
 * test_module.c -- the module loader through the public API, in process:
 * LoadModule of mod_testapp and of the fixtures the loader must refuse,
 * path resolution against ServerRoot, and the handler table.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_file_info.h>

#include "weft.h"
#include "weft_test.h"

/* The file name every directive below pretends to come from. */
#define CONF "test.conf"

static apr_pool_t *pool;
static weft_server_t *srv;

/* What a test allocates is kept here and freed by teardown, so that no
 * test leaks (LeakSanitizer checks every forked test) on any path. */
static void *heap[256];
static int nheap;

static void *keep(void *p)
{
    ck_assert_msg(nheap < (int)(sizeof(heap) / sizeof(heap[0])),
                  "too many allocations for the test's heap list");
    heap[nheap++] = p;
    return p;
}

/* wt_fmt, kept. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, f);
    ck_assert_int_ge(vasprintf(&s, f, ap), 0);
    va_end(ap);
    return keep(s);
}

static char *write_file(const char *dir, const char *name, const char *content)
{
    return keep(wt_write(dir, name, content));
}

static void setup(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    ck_assert_int_eq(weft_server_create(pool, &srv), APR_SUCCESS);
}

static void teardown(void)
{
    if (srv != NULL)
        weft_server_destroy(srv);
    srv = NULL;
    apr_pool_destroy(pool);
    apr_terminate();
    while (nheap > 0)
        free(heap[--nheap]);
    wt_cleanup();
}

/* A refused-module fixture, as built: tests/modules/.libs/NAME.so. */
static char *fixture(const char *name)
{
    char *rel = fmt("tests/modules/.libs/%s.so", name);

    return keep(wt_built(rel));
}

/* Runs one directive as CONF:line; returns NULL or the error line. */
static const char *line_err(unsigned line, const char *f, ...)
    __attribute__((format(printf, 2, 3)));
static const char *line_err(unsigned line, const char *f, ...)
{
    va_list ap;
    char *text = NULL;
    const char *err = NULL;
    apr_status_t rv;

    va_start(ap, f);
    ck_assert_int_ge(vasprintf(&text, f, ap), 0);
    va_end(ap);
    keep(text);
    rv = weft_server_config_line(srv, text, CONF, line, &err);
    if (rv == APR_SUCCESS)
        return NULL;
    ck_assert_msg(err != NULL, "failure without a message");
    return err;
}

/* Runs one directive that must succeed. */
#define LINE_OK(line, ...)                                                 \
    do {                                                                   \
        const char *e_ = line_err((line), __VA_ARGS__);                    \
        ck_assert_msg(e_ == NULL, "line %u refused: %s", (unsigned)(line), \
                      e_);                                                 \
    } while (0)

/* err must start with "CONF:line: LoadModule: " and hold every needle. */
static void assert_load_error(const char *err, unsigned line,
                              const char *const *needles)
{
    char *prefix = fmt("%s:%u: LoadModule: ", CONF, line);

    ck_assert_msg(err != NULL, "LoadModule at line %u was accepted", line);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
                  "'%s' does not start with '%s'", err, prefix);
    ck_assert_msg(strchr(err, '\n') == NULL, "not one line: '%s'", err);
    for (; needles != NULL && *needles != NULL; needles++)
        ck_assert_msg(strstr(err, *needles) != NULL, "'%s' lacks '%s'", err,
                      *needles);
}

/* ---- loading mod_testapp ------------------------------------------------- */

START_TEST(testapp_loads)
{
    ck_assert_ptr_null(weft_handler_find("testapp"));
    ck_assert_ptr_null(weft_module_find(srv, "testapp"));
    LINE_OK(1, "LoadModule testapp_module %s", wt_testapp());
    ck_assert_ptr_nonnull(weft_module_find(srv, "testapp"));
    ck_assert_str_eq(weft_module_find(srv, "testapp")->name, "testapp");
    ck_assert_ptr_nonnull(weft_handler_find("testapp"));
    /* the core is a module too; nothing else appeared */
    ck_assert_ptr_nonnull(weft_module_find(srv, "core"));
    ck_assert_ptr_null(weft_module_find(srv, "mux"));
    ck_assert_ptr_null(weft_handler_find("nosuch"));
}
END_TEST

START_TEST(testapp_quoted_path_and_case)
{
    /* directive names are case-insensitive; quoted arguments work */
    LINE_OK(4, "loadmodule \"testapp_module\" \"%s\"  # comment", wt_testapp());
    ck_assert_ptr_nonnull(weft_module_find(srv, "testapp"));
    ck_assert_ptr_nonnull(weft_handler_find("testapp"));
}
END_TEST

START_TEST(handler_resolves_after_load)
{
    const char *err = NULL;

    LINE_OK(1, "LoadModule testapp_module %s", wt_testapp());
    LINE_OK(2, "Handler testapp");
    ck_assert_int_eq(weft_server_check_config(srv, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(weft_server_handler(srv));
    ck_assert_ptr_eq(weft_server_handler(srv), weft_handler_find("testapp"));
}
END_TEST

START_TEST(handler_unknown_names_registered)
{
    const char *err = NULL;

    LINE_OK(1, "LoadModule testapp_module %s", wt_testapp());
    LINE_OK(7, "Handler nosuch");
    ck_assert_int_ne(weft_server_check_config(srv, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(err, CONF ":7: Handler: no handler named 'nosuch' "
                               "(registered: route,testapp)");
}
END_TEST

START_TEST(handler_before_loadmodule_is_unknown)
{
    const char *err = NULL;

    /* without the module, the handler does not exist */
    LINE_OK(3, "Handler testapp");
    ck_assert_int_ne(weft_server_check_config(srv, &err), APR_SUCCESS);
    ck_assert_str_eq(err, CONF ":3: Handler: no handler named 'testapp' "
                               "(registered: none)");
}
END_TEST

START_TEST(handlers_reset_with_server)
{
    /* the handler table is process-wide but belongs to the live server:
     * a new server starts empty and can load the module again */
    LINE_OK(1, "LoadModule testapp_module %s", wt_testapp());
    ck_assert_ptr_nonnull(weft_handler_find("testapp"));
    weft_server_destroy(srv);
    srv = NULL;
    ck_assert_ptr_null(weft_handler_find("testapp"));
    ck_assert_int_eq(weft_server_create(pool, &srv), APR_SUCCESS);
    ck_assert_ptr_null(weft_handler_find("testapp"));
    ck_assert_ptr_null(weft_module_find(srv, "testapp"));
    LINE_OK(1, "LoadModule testapp_module %s", wt_testapp());
    ck_assert_ptr_nonnull(weft_handler_find("testapp"));
    ck_assert_ptr_nonnull(weft_module_find(srv, "testapp"));
}
END_TEST

/* ---- modules the loader refuses ------------------------------------------ */

START_TEST(refuses_wrong_abi)
{
    char *path = fixture("fixture_badabi");
    char *want = fmt("%s: badabi_module was built for module ABI %d.0, "
                     "this weftd has %d.%d",
                     path, WEFT_MODULE_ABI_MAJOR + 1, WEFT_MODULE_ABI_MAJOR,
                     WEFT_MODULE_ABI_MINOR);
    const char *needles[] = { path, "ABI", want, NULL };
    const char *err = line_err(3, "LoadModule badabi_module %s", path);

    assert_load_error(err, 3, needles);
    ck_assert_ptr_null(weft_module_find(srv, "badabi"));
}
END_TEST

/* The message is built before apr_dso_unload: reading m->magic after it
 * would crash. */
START_TEST(refuses_bad_magic)
{
    char *path = fixture("fixture_badmagic");
    const char *needles[] = { path, "badmagic_module", "not a weft module",
                              NULL };
    const char *err = line_err(5, "LoadModule badmagic_module %s", path);

    assert_load_error(err, 5, needles);
    ck_assert_ptr_null(weft_module_find(srv, "badmagic"));
}
END_TEST

START_TEST(refuses_missing_symbol)
{
    char *path = fixture("fixture_nosym");
    const char *needles[] = { path, "nosym_module", "does not export", NULL };
    const char *err = line_err(2, "LoadModule nosym_module %s", path);

    assert_load_error(err, 2, needles);
    /* the symbol the file does export is a module, but not that one */
    ck_assert_ptr_null(weft_module_find(srv, "other"));
}
END_TEST

START_TEST(refuses_missing_file)
{
    char *dir = wt_tmpdir();
    char *path = fmt("%s/mod_nosuch.so", dir);
    const char *needles[] = { path, "cannot load", NULL };
    const char *err = line_err(9, "LoadModule nosuch_module %s", path);

    assert_load_error(err, 9, needles);
}
END_TEST

START_TEST(refuses_same_module_twice)
{
    char *first = fmt("%s:%u", CONF, 4u);
    const char *needles[] = { "testapp_module", wt_testapp(), "already loaded",
                              first, NULL };
    const char *err;

    LINE_OK(4, "LoadModule testapp_module %s", wt_testapp());
    err = line_err(11, "LoadModule testapp_module %s", wt_testapp());
    assert_load_error(err, 11, needles);
    /* the first load stands */
    ck_assert_ptr_nonnull(weft_module_find(srv, "testapp"));
    ck_assert_ptr_nonnull(weft_handler_find("testapp"));
}
END_TEST

START_TEST(refuses_same_symbol_other_path)
{
    const char *needles[] = { "already loaded", CONF ":1", NULL };
    const char *err;

    LINE_OK(1, "LoadModule testapp_module %s", wt_testapp());
    /* the name alone is a clash, whatever file it would come from */
    err = line_err(2, "LoadModule testapp_module /nonexistent/mod_x.so");
    assert_load_error(err, 2, needles);
}
END_TEST

START_TEST(refuses_same_file_other_symbol)
{
    const char *needles[] = { wt_testapp(), "already loaded", CONF ":1", NULL };
    const char *err;

    LINE_OK(1, "LoadModule testapp_module %s", wt_testapp());
    err = line_err(6, "LoadModule other_module %s", wt_testapp());
    assert_load_error(err, 6, needles);
}
END_TEST

START_TEST(refuses_duplicate_directive)
{
    char *path = fixture("fixture_dupdir");
    const char *needles[] = { path, "dupdir", "Listen", "already declares",
                              NULL };
    const char *err = line_err(2, "LoadModule dupdir_module %s", path);
    const weft_core_config_t *c;

    assert_load_error(err, 2, needles);
    ck_assert_ptr_null(weft_module_find(srv, "dupdir"));
    /* refused before it changed anything: Listen is still the core's,
     * a second attempt is refused the same way (nothing was recorded),
     * and the server goes on to a valid configuration */
    LINE_OK(3, "Listen 127.0.0.1:8081");
    err = line_err(4, "LoadModule dupdir_module %s", path);
    assert_load_error(err, 4, needles);
    ck_assert_ptr_null(strstr(err, "already loaded"));
    LINE_OK(5, "LoadModule testapp_module %s", wt_testapp());
    LINE_OK(6, "Handler testapp");
    LINE_OK(7, "Listen 127.0.0.1:8080");
    c = weft_server_config(srv);
    ck_assert_int_eq(c->listens->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(c->listens, 0, weft_listen_t).text,
                     "127.0.0.1:8081");
    ck_assert_uint_eq(APR_ARRAY_IDX(c->listens, 0, weft_listen_t).line, 3);
    ck_assert_uint_eq(APR_ARRAY_IDX(c->listens, 1, weft_listen_t).port, 8080);
    ck_assert_int_eq(weft_server_check_config(srv, &err), APR_SUCCESS);
    ck_assert_ptr_eq(weft_server_handler(srv), weft_handler_find("testapp"));
}
END_TEST

START_TEST(refused_then_loads_fine)
{
    char *path = fixture("fixture_badabi");

    /* a refusal leaves no trace: the good module loads after it */
    ck_assert_ptr_nonnull(line_err(1, "LoadModule badabi_module %s", path));
    ck_assert_ptr_nonnull(
        line_err(2, "LoadModule testapp_module /nonexistent/mod_testapp.so"));
    LINE_OK(3, "LoadModule testapp_module %s", wt_testapp());
    ck_assert_ptr_nonnull(weft_module_find(srv, "testapp"));
}
END_TEST

START_TEST(loadmodule_argument_count)
{
    const char *err = line_err(8, "LoadModule testapp_module");

    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strncmp(err,
                          CONF ":8: LoadModule: takes two arguments "
                               "(got 1)",
                          strlen(CONF ":8: LoadModule: takes two arguments "
                                      "(got 1)")) == 0,
                  "unexpected: '%s'", err);
}
END_TEST

/* ---- relative module paths ----------------------------------------------- */

START_TEST(relative_path_against_server_root)
{
    char *root = fmt("%s/tests/modules", wt_builddir());
    const char *needles[] = { "already loaded", wt_testapp(), NULL };
    const char *err;

    LINE_OK(1, "ServerRoot %s", root);
    LINE_OK(2, "LoadModule testapp_module .libs/mod_testapp.so");
    ck_assert_ptr_nonnull(weft_module_find(srv, "testapp"));
    ck_assert_ptr_nonnull(weft_handler_find("testapp"));
    /* it resolved to the very file wt_testapp() names: loading that again
     * is a duplicate, and the message shows the resolved path */
    err = line_err(3, "LoadModule testapp_module %s", wt_testapp());
    assert_load_error(err, 3, needles);
}
END_TEST

START_TEST(bare_name_in_server_root)
{
    char *root = fmt("%s/tests/modules/.libs", wt_builddir());

    LINE_OK(1, "ServerRoot %s", root);
    LINE_OK(2, "LoadModule testapp_module mod_testapp.so");
    ck_assert_ptr_nonnull(weft_module_find(srv, "testapp"));
    ck_assert_ptr_nonnull(weft_handler_find("testapp"));
}
END_TEST

START_TEST(relative_missing_names_resolved_path)
{
    char *root = fmt("%s/tests/modules", wt_builddir());
    char *want = fmt("%s/nosuch/mod_nosuch.so", root);
    const char *needles[] = { want, NULL };
    const char *err;

    LINE_OK(1, "ServerRoot %s", root);
    err = line_err(2, "LoadModule nosuch_module nosuch/mod_nosuch.so");
    assert_load_error(err, 2, needles);
}
END_TEST

START_TEST(default_root_is_config_dir)
{
    /* Without ServerRoot, relative paths start at the main file's folder:
     * a config in a temp dir loads mods/mod_testapp.so (a symlink) */
    char *dir = wt_tmpdir();
    char *mods = fmt("%s/mods", dir);
    char *link = fmt("%s/mod_testapp.so", mods);
    char *conf, *abs;
    const char *err = NULL;

    ck_assert_ptr_nonnull(dir);
    ck_assert_int_eq(mkdir(mods, 0755), 0);
    ck_assert_int_eq(symlink(wt_testapp(), link), 0);
    conf = write_file(dir, "weft.conf",
                      "# modules next to the file\n"
                      "LoadModule testapp_module mods/mod_testapp.so\n"
                      "Handler testapp\n");
    ck_assert_int_eq(weft_server_read_config(srv, conf, &err), APR_SUCCESS);
    ck_assert_int_eq(weft_server_check_config(srv, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(weft_module_find(srv, "testapp"));
    ck_assert_ptr_eq(weft_server_handler(srv), weft_handler_find("testapp"));
    ck_assert_int_eq(apr_filepath_merge(&abs, NULL, dir, 0, pool), APR_SUCCESS);
    ck_assert_str_eq(weft_server_config(srv)->server_root, abs);
}
END_TEST

START_TEST(file_error_names_file_and_line)
{
    /* read from a file, the prefix is that file as given and its line. */
    char *dir = wt_tmpdir();
    char *body = fmt("Listen 127.0.0.1:8080\n"
                     "\n"
                     "LoadModule testapp_module %s\n"
                     "LoadModule badmagic_module %s\n",
                     wt_testapp(), fixture("fixture_badmagic"));
    char *conf = write_file(dir, "weft.conf", body);
    char *prefix = fmt("%s:4: LoadModule: ", conf);
    const char *err = NULL;

    ck_assert_int_ne(weft_server_read_config(srv, conf, &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
                  "'%s' does not start with '%s'", err, prefix);
    ck_assert_ptr_nonnull(strstr(err, "not a weft module"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("module");
    TCase *load = tcase_create("load");
    TCase *refuse = tcase_create("refuse");
    TCase *paths = tcase_create("paths");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(load, setup, teardown);
    tcase_set_timeout(load, 60);
    tcase_add_test(load, testapp_loads);
    tcase_add_test(load, testapp_quoted_path_and_case);
    tcase_add_test(load, handler_resolves_after_load);
    tcase_add_test(load, handler_unknown_names_registered);
    tcase_add_test(load, handler_before_loadmodule_is_unknown);
    tcase_add_test(load, handlers_reset_with_server);
    suite_add_tcase(s, load);

    tcase_add_checked_fixture(refuse, setup, teardown);
    tcase_set_timeout(refuse, 60);
    tcase_add_test(refuse, refuses_wrong_abi);
    tcase_add_test(refuse, refuses_bad_magic);
    tcase_add_test(refuse, refuses_missing_symbol);
    tcase_add_test(refuse, refuses_missing_file);
    tcase_add_test(refuse, refuses_same_module_twice);
    tcase_add_test(refuse, refuses_same_symbol_other_path);
    tcase_add_test(refuse, refuses_same_file_other_symbol);
    tcase_add_test(refuse, refuses_duplicate_directive);
    tcase_add_test(refuse, refused_then_loads_fine);
    tcase_add_test(refuse, loadmodule_argument_count);
    suite_add_tcase(s, refuse);

    tcase_add_checked_fixture(paths, setup, teardown);
    tcase_set_timeout(paths, 60);
    tcase_add_test(paths, relative_path_against_server_root);
    tcase_add_test(paths, bare_name_in_server_root);
    tcase_add_test(paths, relative_missing_names_resolved_path);
    tcase_add_test(paths, default_root_is_config_dir);
    tcase_add_test(paths, file_error_names_file_and_line);
    suite_add_tcase(s, paths);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
