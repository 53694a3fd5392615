/*
 * test_mux.c -- mod_mux in a running weftd over raw sockets: `route`'s
 * pattern and values, HEAD, hosts, 404, 405, 301s with Go's bytes, and
 * `weftd -t`/`-f` refusing invalid and conflicting patterns.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft_test.h"

/* Every wait is bounded by this; generous for sanitizer builds. */
#define WAIT_MS 10000

/* Header lines of the answers, as Go writes them.  Date varies: ask()
 * replaces its value with DATE. */
#define TEXT "Content-Type: text/plain; charset=utf-8\r\n"
#define HTML "Content-Type: text/html; charset=utf-8\r\n"
#define NOSNIFF "X-Content-Type-Options: nosniff\r\n"
#define DATE "Date: DATE\r\n"
#define CLOSE "Connection: close\r\n"
#define REQ(method, target, host)                                   \
    method " " target " HTTP/1.1\r\nHost: " host "\r\nConnection: " \
           "close\r\n\r\n"

/* The routes every serving test uses, one per line. */
#define ROUTES                                          \
    "Handle \"GET /items/{id}\" route\n"                \
    "Handle \"POST /items/{id}\" route\n"               \
    "Handle \"/files/{path...}\" route\n"               \
    "Handle \"/dir/\" route\n"                          \
    "Handle \"GET /{$}\" route\n"                       \
    "Handle \"example.com/\" route\n"                   \
    "Handle \"/esc/{seg}/x\" route\n"                   \
    "Handle \"PATCH /p\" route\n"                       \
    "Handle \"POST /p\" route\n"                        \
    "Handle \"GET /users/{name}/posts/{post}\" route\n" \
    "Handle \"/hello\" testapp\n"

/* ---- what a test allocates, freed by the checked teardown ---------------- */

static void *heap[256];
static int nheap;

static void *keep(void *p)
{
    ck_assert_msg(nheap < (int)(sizeof(heap) / sizeof(heap[0])),
                  "too many allocations for the test's heap list");
    heap[nheap++] = p;
    return p;
}

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

/* A server a test started itself, stopped by the teardown on any path. */
static wt_server_t own;
static int own_ok;

static void free_heap(void)
{
    while (nheap > 0)
        free(heap[--nheap]);
}

/* For the tests that start weftd or write files themselves: stop it and
 * remove what they wrote (in the forked test, which alone knows). */
static void teardown_own(void)
{
    if (own_ok) {
        wt_server_stop(&own, SIGTERM, WAIT_MS);
        own_ok = 0;
    }
    wt_cleanup();
    free_heap();
}

/* "LoadModule" lines for the mux and mod_testapp. */
static char *modules(void)
{
    char *so = wt_built("modules/.libs/mod_mux.so");

    return fmt("LoadModule mux_module %s\nLoadModule testapp_module %s\n", so,
               wt_testapp());
}

/* ---- the shared server --------------------------------------------------- */

static wt_server_t srv;
static int srv_ok;

static void start_server(void)
{
    char *so = wt_built("modules/.libs/mod_mux.so");
    char *conf = wt_fmt("LoadModule mux_module %s\nLoadModule "
                        "testapp_module %s\n" ROUTES,
                        so, wt_testapp());

    srv_ok = wt_server_start(&srv, conf) == 0;
    free(conf);
    free(so);
}

static void stop_server(void)
{
    if (srv_ok && wt_server_stop(&srv, SIGTERM, WAIT_MS) != 0)
        fprintf(stderr, "weftd did not stop cleanly; log in %s\n", srv.log);
    free(srv.conf);
    free(srv.log);
    memset(&srv, 0, sizeof(srv));
    srv_ok = 0;
    wt_cleanup();
}

/* The answer to one request (which asks for Connection: close), read to
 * the server's close, with the Date value replaced by "DATE". */
static char *ask_port(int port, const char *raw)
{
    char *resp = wt_request(port, raw, WAIT_MS);
    char *at, *eol;

    ck_assert_msg(resp != NULL, "no answer from weftd on port %d", port);
    at = strstr(resp, "\r\nDate: ");
    if (at == NULL)
        return resp;
    eol = strstr(at + 2, "\r\n");
    ck_assert_int_eq((int)(eol - (at + 8)), 29); /* http.TimeFormat */
    return fmt("%.*sDATE%s", (int)(at + 8 - resp), resp, eol);
}

static char *ask(const char *raw)
{
    ck_assert_msg(srv_ok, "weftd did not start (see the log above)");
    return ask_port(srv.port, raw);
}

/* route's answer: "pattern P\n" and a "value N=V\n" per wildcard. */
static char *routed(const char *body)
{
    return fmt("HTTP/1.1 200 OK\r\n" TEXT DATE "Content-Length: %zu\r\n" CLOSE
               "\r\n%s",
               strlen(body), body);
}

/* http.Redirect's 301 to a GET: Location, and a body linking to it. */
static char *moved(const char *location, const char *href)
{
    char *body = fmt("<a href=\"%s\">Moved Permanently</a>.\n\n", href);

    return fmt("HTTP/1.1 301 Moved Permanently\r\n" HTML "Location: %s\r\n" DATE
               "Content-Length: %zu\r\n" CLOSE "\r\n%s",
               location, strlen(body), body);
}

/* ---- routing ------------------------------------------------------------- */

START_TEST(routes_with_values)
{
    ck_assert_str_eq(ask(REQ("GET", "/items/42", "t")),
                     routed("pattern GET /items/{id}\nvalue id=42\n"));
    ck_assert_str_eq(ask(REQ("POST", "/items/7", "t")),
                     routed("pattern POST /items/{id}\nvalue id=7\n"));
    ck_assert_str_eq(
        ask(REQ("GET", "/users/ann/posts/7", "t")),
        routed("pattern GET /users/{name}/posts/{post}\nvalue name=ann\n"
               "value post=7\n"));
    ck_assert_str_eq(ask(REQ("GET", "/", "t")), routed("pattern GET /{$}\n"));
    ck_assert_str_eq(ask(REQ("GET", "/hello", "t")),
                     "HTTP/1.1 200 OK\r\n" TEXT DATE
                     "Content-Length: 6\r\n" CLOSE "\r\nhello\n");
}
END_TEST

START_TEST(head_is_served_by_get)
{
    /* The GET pattern answers; the server sends no body for HEAD. */
    ck_assert_str_eq(ask(REQ("HEAD", "/items/42", "t")),
                     "HTTP/1.1 200 OK\r\n" TEXT DATE
                     "Content-Length: 36\r\n" CLOSE "\r\n");
}
END_TEST

START_TEST(escapes_stay_in_their_segment)
{
    /* %2F is part of one segment; values are decoded. */
    ck_assert_str_eq(ask(REQ("GET", "/esc/a%2Fb/x", "t")),
                     routed("pattern /esc/{seg}/x\nvalue seg=a/b\n"));
    ck_assert_str_eq(ask(REQ("GET", "/esc/%7Bq%7D/x", "t")),
                     routed("pattern /esc/{seg}/x\nvalue seg={q}\n"));
    ck_assert_str_eq(ask(REQ("GET", "/files/a/b%20c/%2F", "t")),
                     routed("pattern /files/{path...}\nvalue path=a/b c//\n"));
    ck_assert_str_eq(ask(REQ("GET", "/esc/a/b/x", "t")),
                     "HTTP/1.1 404 Not Found\r\n" TEXT NOSNIFF DATE
                     "Content-Length: 19\r\n" CLOSE "\r\n404 page not found\n");
}
END_TEST

START_TEST(hosts_route_without_their_port)
{
    /* A pattern with a host beats every host-less one. */
    ck_assert_str_eq(ask(REQ("GET", "/items/42", "example.com:8080")),
                     routed("pattern example.com/\n"));
    ck_assert_str_eq(ask(REQ("PUT", "/anything", "example.com")),
                     routed("pattern example.com/\n"));
    ck_assert_str_eq(ask(REQ("GET", "/items/42", "other.com")),
                     routed("pattern GET /items/{id}\nvalue id=42\n"));
    /* The absolute-form target's host is Request.Host. */
    ck_assert_str_eq(
        ask("GET http://example.com/x HTTP/1.1\r\nHost: t\r\nConnection: "
            "close\r\n\r\n"),
        routed("pattern example.com/\n"));
}
END_TEST

START_TEST(not_found)
{
    static const char want[] =
        "HTTP/1.1 404 Not Found\r\n" TEXT NOSNIFF DATE
        "Content-Length: 19\r\n" CLOSE "\r\n404 page not found\n";

    ck_assert_str_eq(ask(REQ("GET", "/nope", "t")), want);
    ck_assert_str_eq(ask(REQ("GET", "/items/1/2", "t")), want);
    ck_assert_str_eq(ask(REQ("GET", "/ITEMS/1", "t")), want);
}
END_TEST

START_TEST(method_not_allowed)
{
    ck_assert_str_eq(
        ask("PUT /items/42 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n"),
        "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST\r\n" TEXT
            NOSNIFF DATE "Content-Length: 19\r\n" CLOSE
        "\r\nMethod Not Allowed\n");
    ck_assert_str_eq(
        ask(REQ("GET", "/p", "t")),
        "HTTP/1.1 405 Method Not Allowed\r\nAllow: PATCH, POST\r\n" TEXT NOSNIFF
            DATE "Content-Length: 19\r\n" CLOSE "\r\nMethod Not Allowed\n");
    /* HEAD gets the headers alone. */
    ck_assert_str_eq(
        ask(REQ("HEAD", "/p", "t")),
        "HTTP/1.1 405 Method Not Allowed\r\nAllow: PATCH, POST\r\n" TEXT NOSNIFF
            DATE "Content-Length: 19\r\n" CLOSE "\r\n");
}
END_TEST

START_TEST(trailing_slash_redirects)
{
    /* http.Redirect's bytes: Location, HTML for GET (its href escaped),
     * the query kept. */
    ck_assert_str_eq(ask(REQ("GET", "/dir?a=1&b='2'", "t")),
                     moved("/dir/?a=1&b='2'", "/dir/?a=1&amp;b=&#39;2&#39;"));
    ck_assert_str_eq(ask(REQ("HEAD", "/dir", "t")),
                     "HTTP/1.1 301 Moved Permanently\r\n" HTML
                     "Location: /dir/\r\n" DATE CLOSE "\r\n");
    ck_assert_str_eq(
        ask("POST /dir HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n"),
        "HTTP/1.1 301 Moved Permanently\r\nLocation: /dir/\r\n" DATE
        "Content-Length: 0\r\n" CLOSE "\r\n");
    /* With a path that matches exactly, no redirect. */
    ck_assert_str_eq(ask(REQ("GET", "/dir/", "t")), routed("pattern /dir/\n"));
}
END_TEST

START_TEST(cleaned_path_redirects)
{
    ck_assert_str_eq(ask(REQ("GET", "//items/42?q=1", "t")),
                     moved("/items/42?q=1", "/items/42?q=1"));
    ck_assert_str_eq(ask(REQ("GET", "/dir/./a/../b", "t")),
                     moved("/dir/b", "/dir/b"));
    /* Go builds this URL from the escaped path and escapes it again. */
    ck_assert_str_eq(ask(REQ("GET", "//items/4%202", "t")),
                     moved("/items/4%25202", "/items/4%25202"));
}
END_TEST

START_TEST(connect_paths_are_not_cleaned)
{
    /* Go cleans no CONNECT path, but still adds the subtree's slash. */
    ck_assert_str_eq(ask(REQ("CONNECT", "/dir/..", "t")),
                     routed("pattern /dir/\n"));
    ck_assert_str_eq(
        ask(REQ("CONNECT", "/dir", "t")),
        "HTTP/1.1 301 Moved Permanently\r\nLocation: /dir/\r\n" DATE
        "Content-Length: 0\r\n" CLOSE "\r\n");
    /* Nor are a CONNECT's host and port taken apart; its empty path
     * meets "GET /{$}" once the slash is added, so the method is wrong. */
    ck_assert_str_eq(
        ask(REQ("CONNECT", "example.com:443", "t")),
        "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n" TEXT NOSNIFF
            DATE "Content-Length: 19\r\n" CLOSE "\r\nMethod Not Allowed\n");
}
END_TEST

START_TEST(keeps_the_connection)
{
    /* Two requests on one connection, pipelined: the mux holds no state
     * between them. */
    char *resp =
        ask("GET /items/1 HTTP/1.1\r\nHost: t\r\n\r\n"
            "GET /items/2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");

    ck_assert_ptr_nonnull(strstr(resp, "value id=1\n"));
    ck_assert_ptr_nonnull(strstr(resp, "value id=2\n"));
}
END_TEST

/* ---- configuration ------------------------------------------------------- */

/* Runs `weftd -t -f` (or `-f` alone) on the body; returns its stderr and
 * sets *status. */
static char *check_conf(const char *body, int test_only, int *status,
                        char **path)
{
    char *dir = wt_tmpdir();
    char *conf =
        wt_write(dir != NULL ? dir : "/nonexistent", "weft.conf", body);
    const char *argv_t[] = { wt_weftd(), "-t", "-f", conf, NULL };
    const char *argv_f[] = { wt_weftd(), "-f", conf, NULL };
    wt_run_t r;

    ck_assert_ptr_nonnull(dir);
    ck_assert_int_eq(wt_run(&r, WAIT_MS, test_only ? argv_t : argv_f), 0);
    *status = r.status;
    if (path != NULL)
        *path = conf;
    return fmt("%s%s", r.out, r.err);
}

START_TEST(test_config_accepts_routes)
{
    int status;
    /* A handler may come from a module loaded after its Handle line. */
    char *so = wt_built("modules/.libs/mod_mux.so");
    char *out =
        check_conf(fmt("LoadModule mux_module %s\nHandle \"/late\" route\n"
                       "LoadModule testapp_module %s\n" ROUTES,
                       so, wt_testapp()),
                   1, &status, NULL);

    ck_assert_int_eq(status, 0);
    ck_assert_str_eq(out, "Syntax OK\n");
}
END_TEST

START_TEST(test_config_refuses_conflicts)
{
    int status;
    char *conf;
    char *out = check_conf(fmt("%sListen 127.0.0.1:0\n"
                               "Handle \"/a/b\" route\n"
                               "Handle \"GET /a/{x}\" route\n",
                               modules()),
                           1, &status, &conf);

    /* Go's wording; the later line, both patterns and both lines. */
    ck_assert_int_eq(status, 1);
    ck_assert_str_eq(out, fmt("%s:5: Handle: pattern \"GET /a/{x}\" (%s:5) "
                              "conflicts with pattern \"/a/b\" (%s:4): GET "
                              "/a/{x} matches fewer methods than /a/b, but "
                              "has a more general path pattern\n",
                              conf, conf, conf));
    /* `weftd -f` refuses the same file before it binds anything. */
    out = check_conf(fmt("%sListen 127.0.0.1:0\n"
                         "Handle \"/a/b\" route\n"
                         "Handle \"GET /a/{x}\" route\n",
                         modules()),
                     0, &status, &conf);
    ck_assert_int_eq(status, 1);
    ck_assert_ptr_nonnull(
        strstr(out, fmt("%s:5: Handle: pattern \"GET /a/{x}\"", conf)));
}
END_TEST

START_TEST(test_config_refuses_duplicates)
{
    int status;
    char *conf;
    char *out = check_conf(fmt("%sHandle \"/a/{x}\" route\n"
                               "Handle \"/b\" route\n"
                               "Handle \"/a/{x}\" testapp\n",
                               modules()),
                           1, &status, &conf);

    ck_assert_int_eq(status, 1);
    ck_assert_str_eq(out, fmt("%s:5: Handle: pattern \"/a/{x}\" (%s:5) "
                              "conflicts with pattern \"/a/{x}\" (%s:3): "
                              "/a/{x} matches the same requests as /a/{x}\n",
                              conf, conf, conf));
}
END_TEST

START_TEST(test_config_refuses_overlaps)
{
    int status;
    char *conf;
    char *out = check_conf(fmt("%sHandle \"/a/{x}\" route\n"
                               "Handle \"/{y}/b\" route\n",
                               modules()),
                           1, &status, &conf);

    ck_assert_int_eq(status, 1);
    ck_assert_str_eq(
        out, fmt("%s:4: Handle: pattern \"/{y}/b\" (%s:4) conflicts with "
                 "pattern \"/a/{x}\" (%s:3): /{y}/b and /a/{x} both match "
                 "some paths, like \"/a/b\". But neither is more specific "
                 "than the other. /{y}/b matches \"/y/b\", but /a/{x} "
                 "doesn't. /a/{x} matches \"/a/x\", but /{y}/b doesn't.\n",
                 conf, conf, conf));
}
END_TEST

START_TEST(test_config_refuses_invalid_patterns)
{
    static const struct {
        const char *pattern, *why;
    } cases[] = {
        { "/{x", "invalid pattern \"/{x\": at offset 1: bad wildcard segment "
                 "(must end with '}')" },
        { "/{a...}/b", "invalid pattern \"/{a...}/b\": at offset 1: {...} "
                       "wildcard not at end" },
        { "GET /a//b", "invalid pattern \"GET /a//b\": at offset 4: "
                       "non-CONNECT pattern with unclean path can never "
                       "match" },
        { "", "invalid pattern \"\": empty pattern" },
        { "x{y}/", "invalid pattern \"x{y}/\": at offset 1: host contains "
                   "'{' (missing initial '/'?)" },
    };
    int i, status;

    for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
        char *conf;
        char *out = check_conf(fmt("%sHandle \"/ok\" route\n"
                                   "Handle \"%s\" route\n",
                                   modules(), cases[i].pattern),
                               1, &status, &conf);
        ck_assert_int_eq(status, 1);
        ck_assert_str_eq(out, fmt("%s:4: Handle: %s\n", conf, cases[i].why));
    }
}
END_TEST

START_TEST(test_config_refuses_unknown_handlers)
{
    int status;
    char *conf;
    char *out = check_conf(fmt("%sHandle \"/a\" nosuch\n", modules()), 1,
                           &status, &conf);
    char *self;

    ck_assert_int_eq(status, 1);
    ck_assert_msg(strncmp(out,
                          fmt("%s:3: Handle: no handler named 'nosuch' "
                              "(registered: ",
                              conf),
                          strlen(conf) + 51) == 0,
                  "unexpected: %s", out);
    self =
        check_conf(fmt("%sHandle \"/\" mux\n", modules()), 1, &status, &conf);
    ck_assert_int_eq(status, 1);
    ck_assert_str_eq(self, fmt("%s:3: Handle: the mux cannot be its own "
                               "handler\n",
                               conf));
}
END_TEST

START_TEST(no_patterns_change_nothing)
{
    char *so = wt_built("modules/.libs/mod_mux.so");
    static const char want[] =
        "HTTP/1.1 404 Not Found\r\n" TEXT NOSNIFF DATE
        "Content-Length: 19\r\n" CLOSE "\r\n404 page not found\n";

    own_ok = wt_server_start(&own, fmt("LoadModule mux_module %s\n", so)) == 0;
    ck_assert_msg(own_ok, "weftd did not start");
    ck_assert_str_eq(ask_port(own.port, REQ("GET", "/x", "t")), want);
    ck_assert_str_eq(ask_port(own.port, REQ("GET", "//x/../y", "t")), want);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mux");
    TCase *tr = tcase_create("routing");
    TCase *tc = tcase_create("configuration");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tr, start_server, stop_server);
    tcase_add_checked_fixture(tr, NULL, free_heap);
    tcase_set_timeout(tr, 60);
    tcase_add_test(tr, routes_with_values);
    tcase_add_test(tr, head_is_served_by_get);
    tcase_add_test(tr, escapes_stay_in_their_segment);
    tcase_add_test(tr, hosts_route_without_their_port);
    tcase_add_test(tr, not_found);
    tcase_add_test(tr, method_not_allowed);
    tcase_add_test(tr, trailing_slash_redirects);
    tcase_add_test(tr, cleaned_path_redirects);
    tcase_add_test(tr, connect_paths_are_not_cleaned);
    tcase_add_test(tr, keeps_the_connection);
    suite_add_tcase(s, tr);

    tcase_add_checked_fixture(tc, NULL, teardown_own);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_config_accepts_routes);
    tcase_add_test(tc, test_config_refuses_conflicts);
    tcase_add_test(tc, test_config_refuses_duplicates);
    tcase_add_test(tc, test_config_refuses_overlaps);
    tcase_add_test(tc, test_config_refuses_invalid_patterns);
    tcase_add_test(tc, test_config_refuses_unknown_handlers);
    tcase_add_test(tc, no_patterns_change_nothing);
    suite_add_tcase(s, tc);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
