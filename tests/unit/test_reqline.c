/*
 * test_reqline.c -- the request line against Go's answers (cases from
 * net/http's readrequest_test.go and request_test.go, net/url's
 * url_test.go), and the token, field value and Host validators.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "weft_reqline.h"

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

/* NULL and "" differ in the struct (no query vs an empty one). */
static void str_is(const char *line, const char *what, const char *got,
                   const char *want)
{
    if (want == NULL) {
        ck_assert_msg(got == NULL, "'%s': %s is '%s', want NULL", line, what,
                      got);
        return;
    }
    ck_assert_msg(got != NULL, "'%s': %s is NULL, want '%s'", line, what, want);
    ck_assert_msg(strcmp(got, want) == 0, "'%s': %s is '%s', want '%s'", line,
                  what, got, want);
}

#define AST 1  /* asterisk */
#define AUTH 2 /* authority-form */

/* Lines Go serves, and the URL Go's Request gets from each. */
static const struct {
    const char *line;
    const char *scheme, *host, *raw_path, *path, *query;
    int flags, major, minor;
} ok_cases[] = {
    /* readrequest_test.go */
    { "GET / HTTP/1.1", NULL, NULL, "/", "/", NULL, 0, 1, 1 },
    { "GET http://www.techcrunch.com/ HTTP/1.1", "http", "www.techcrunch.com",
      "/", "/", NULL, 0, 1, 1 },
    { "GET //user@host/is/actually/a/path/ HTTP/1.1", NULL, NULL,
      "//user@host/is/actually/a/path/", "//user@host/is/actually/a/path/",
      NULL, 0, 1, 1 },
    { "CONNECT www.google.com:443 HTTP/1.1", NULL, "www.google.com:443", "", "",
      NULL, AUTH, 1, 1 },
    { "CONNECT 127.0.0.1:6060 HTTP/1.1", NULL, "127.0.0.1:6060", "", "", NULL,
      AUTH, 1, 1 },
    { "CONNECT /_goRPC_ HTTP/1.1", NULL, NULL, "/_goRPC_", "/_goRPC_", NULL, 0,
      1, 1 },
    { "NOTIFY * HTTP/1.1", NULL, NULL, "*", "*", NULL, AST, 1, 1 },
    { "OPTIONS * HTTP/1.1", NULL, NULL, "*", "*", NULL, AST, 1, 1 },
    { "PRI * HTTP/2.0", NULL, NULL, "*", "*", NULL, AST, 2, 0 },
    /* methods: any token */
    { "M-SEARCH * HTTP/1.1", NULL, NULL, "*", "*", NULL, AST, 1, 1 },
    { "!#$%&'*+-.^_`|~09azAZ / HTTP/1.1", NULL, NULL, "/", "/", NULL, 0, 1, 1 },
    { "get / HTTP/1.1", NULL, NULL, "/", "/", NULL, 0, 1, 1 },
    /* versions: HTTP/1.x is served whatever x is */
    { "GET /index.html HTTP/1.0", NULL, NULL, "/index.html", "/index.html",
      NULL, 0, 1, 0 },
    { "GET /x HTTP/1.2", NULL, NULL, "/x", "/x", NULL, 0, 1, 2 },
    { "GET /x HTTP/1.9", NULL, NULL, "/x", "/x", NULL, 0, 1, 9 },
    /* query: split at the first '?', never checked or decoded */
    { "GET /search?q=go+lang&x=%zz HTTP/1.1", NULL, NULL, "/search", "/search",
      "q=go+lang&x=%zz", 0, 1, 1 },
    { "GET /? HTTP/1.1", NULL, NULL, "/", "/", "", 0, 1, 1 },
    { "GET /a?b?c HTTP/1.1", NULL, NULL, "/a", "/a", "b?c", 0, 1, 1 },
    { "GET /a?b#c HTTP/1.1", NULL, NULL, "/a", "/a", "b#c", 0, 1, 1 },
    /* path: %XX decoded, '+' kept, '#' is just a path byte */
    { "GET /a%2Fb%20c+d HTTP/1.1", NULL, NULL, "/a%2Fb%20c+d", "/a/b c+d", NULL,
      0, 1, 1 },
    { "GET /%2e%2e/%2E HTTP/1.1", NULL, NULL, "/%2e%2e/%2E", "/../.", NULL, 0,
      1, 1 },
    { "GET /p#frag HTTP/1.1", NULL, NULL, "/p#frag", "/p#frag", NULL, 0, 1, 1 },
    { "GET /%e2%98%BA?x=%41 HTTP/1.1", NULL, NULL, "/%e2%98%BA",
      "/\xe2\x98\xba", "x=%41", 0, 1, 1 },
    { "GET /a%41?q HTTP/1.1", NULL, NULL, "/a%41", "/aA", "q", 0, 1, 1 },
    /* non-ASCII bytes are not control bytes */
    { "GET /caf\xc3\xa9 HTTP/1.1", NULL, NULL, "/caf\xc3\xa9", "/caf\xc3\xa9",
      NULL, 0, 1, 1 },
    { "GET http://foo.com/ctl\x80 HTTP/1.1", "http", "foo.com", "/ctl\x80",
      "/ctl\x80", NULL, 0, 1, 1 },
    { "GET /\"<>\\^`{|}[]!$&'()*,;=:@~ HTTP/1.1", NULL, NULL,
      "/\"<>\\^`{|}[]!$&'()*,;=:@~", "/\"<>\\^`{|}[]!$&'()*,;=:@~", NULL, 0, 1,
      1 },
    /* absolute-form */
    { "GET http://foo.com HTTP/1.1", "http", "foo.com", "", "", NULL, 0, 1, 1 },
    { "GET http://foo.com?a=b HTTP/1.1", "http", "foo.com", "", "", "a=b", 0, 1,
      1 },
    { "GET http://foo.com/path?a=b HTTP/1.1", "http", "foo.com", "/path",
      "/path", "a=b", 0, 1, 1 },
    { "GET HTTP://Example.COM/P HTTP/1.1", "http", "Example.COM", "/P", "/P",
      NULL, 0, 1, 1 },
    { "GET https://x/ HTTP/1.1", "https", "x", "/", "/", NULL, 0, 1, 1 },
    { "GET HttpS://x/ HTTP/1.1", "https", "x", "/", "/", NULL, 0, 1, 1 },
    { "GET ahttp://foo.com HTTP/1.1", "ahttp", "foo.com", "", "", NULL, 0, 1,
      1 },
    { "GET svn+SSH.v-2://h/ HTTP/1.1", "svn+ssh.v-2", "h", "/", "/", NULL, 0, 1,
      1 },
    { "GET http://192.168.0.1:8080/ HTTP/1.1", "http", "192.168.0.1:8080", "/",
      "/", NULL, 0, 1, 1 },
    { "GET http://user:pass@host:80/p HTTP/1.1", "http", "host:80", "/p", "/p",
      NULL, 0, 1, 1 },
    { "GET http://a@b@c/ HTTP/1.1", "http", "c", "/", "/", NULL, 0, 1, 1 },
    { "GET http://u%40x:p%3A@h/ HTTP/1.1", "http", "h", "/", "/", NULL, 0, 1,
      1 },
    { "GET http://x: HTTP/1.1", "http", "x:", "", "", NULL, 0, 1, 1 },
    { "GET http://::1/ HTTP/1.1", "http", "::1", "/", "/", NULL, 0, 1, 1 },
    { "GET http:///p HTTP/1.1", "http", "", "/p", "/p", NULL, 0, 1, 1 },
    { "GET http:// HTTP/1.1", "http", "", "", "", NULL, 0, 1, 1 },
    { "GET http:/p HTTP/1.1", "http", NULL, "/p", "/p", NULL, 0, 1, 1 },
    { "GET http://h//x HTTP/1.1", "http", "h", "//x", "//x", NULL, 0, 1, 1 },
    { "GET http://h/%48i HTTP/1.1", "http", "h", "/%48i", "/Hi", NULL, 0, 1,
      1 },
    { "GET http://a\"<>b/ HTTP/1.1", "http", "a\"<>b", "/", "/", NULL, 0, 1,
      1 },
    { "GET http://!$&'()*+,;=/ HTTP/1.1", "http", "!$&'()*+,;=", "/", "/", NULL,
      0, 1, 1 },
    /* hosts: non-ASCII raw or %-encoded, decoded; %25 is a '%' */
    { "GET http://\xc3\xa9.com/ HTTP/1.1", "http", "\xc3\xa9.com", "/", "/",
      NULL, 0, 1, 1 },
    { "GET http://%C3%A9.com/ HTTP/1.1", "http", "\xc3\xa9.com", "/", "/", NULL,
      0, 1, 1 },
    { "GET http://%c3%a9.com HTTP/1.1", "http", "\xc3\xa9.com", "", "", NULL, 0,
      1, 1 },
    { "GET http://a%25b/ HTTP/1.1", "http", "a%b", "/", "/", NULL, 0, 1, 1 },
    /* IP literals: Go 1.22 checks the port and the escapes, not the IP */
    { "GET http://[::1]:8080/x HTTP/1.1", "http", "[::1]:8080", "/x", "/x",
      NULL, 0, 1, 1 },
    { "GET http://[fe80::1] HTTP/1.1", "http", "[fe80::1]", "", "", NULL, 0, 1,
      1 },
    { "GET http://[::1]: HTTP/1.1", "http", "[::1]:", "", "", NULL, 0, 1, 1 },
    { "GET http://[::1]/%48 HTTP/1.1", "http", "[::1]", "/%48", "/H", NULL, 0,
      1, 1 },
    { "GET http://[fe80::1%25en0]:8080/ HTTP/1.1", "http", "[fe80::1%en0]:8080",
      "/", "/", NULL, 0, 1, 1 },
    { "GET http://[fe80::1%25%65%6e%301-._~]/ HTTP/1.1", "http",
      "[fe80::1%en01-._~]", "/", "/", NULL, 0, 1, 1 },
    { "GET http://[::1%25%41] HTTP/1.1", "http", "[::1%A]", "", "", NULL, 0, 1,
      1 },
    { "GET http://[::1%25%20x] HTTP/1.1", "http", "[::1% x]", "", "", NULL, 0,
      1, 1 },
    { "GET http://[::1%25\xc3\xa9] HTTP/1.1", "http", "[::1%\xc3\xa9]", "", "",
      NULL, 0, 1, 1 },
    { "GET http://[::1]]:80/ HTTP/1.1", "http", "[::1]]:80", "/", "/", NULL, 0,
      1, 1 },
    { "GET http://[google.com]:80/ HTTP/1.1", "http", "[google.com]:80", "/",
      "/", NULL, 0, 1, 1 },
    /* scheme:opaque -- Go's URL.Path (and so weft's path) is "" */
    { "GET mailto:someone@example.com HTTP/1.1", "mailto", NULL, "", "", NULL,
      0, 1, 1 },
    { "GET http: HTTP/1.1", "http", NULL, "", "", NULL, 0, 1, 1 },
    { "GET foo:bar?baz HTTP/1.1", "foo", NULL, "", "", "baz", 0, 1, 1 },
    { "GET foo:%zz\x80 HTTP/1.1", "foo", NULL, "", "", NULL, 0, 1, 1 },
    /* CONNECT: parsed as "http://" + target, scheme dropped */
    { "CONNECT host:443/p?q HTTP/1.1", NULL, "host:443", "/p", "/p", "q", AUTH,
      1, 1 },
    { "CONNECT  HTTP/1.1", NULL, "", "", "", NULL, AUTH, 1, 1 },
    { "CONNECT * HTTP/1.1", NULL, "*", "", "", NULL, AUTH, 1, 1 },
    { "CONNECT http://x/ HTTP/1.1", NULL, "http:", "//x/", "//x/", NULL, AUTH,
      1, 1 },
    { "CONNECT [::1]:443 HTTP/1.1", NULL, "[::1]:443", "", "", NULL, AUTH, 1,
      1 },
    { "CONNECT u:p@h:1 HTTP/1.1", NULL, "h:1", "", "", NULL, AUTH, 1, 1 },
    { "CONNECT h:1?x HTTP/1.0", NULL, "h:1", "", "", "x", AUTH, 1, 0 },
    { "CONNECT %C3%A9:443 HTTP/1.1", NULL, "\xc3\xa9:443", "", "", NULL, AUTH,
      1, 1 },
    /* only the exact method "CONNECT" is special */
    { "connect h:1 HTTP/1.1", "h", NULL, "", "", NULL, 0, 1, 1 },
};

START_TEST(parses_like_go)
{
    const char *line = ok_cases[_i].line;
    weft_reqline_t rl;
    char *again;

    memset(&rl, 0, sizeof(rl));
    ck_assert_msg(weft_reqline_parse(pool, line, strlen(line), &rl) ==
                      WEFT_RL_OK,
                  "'%s' should parse", line);
    /* the three parts, each as sent */
    again = apr_pstrcat(pool, rl.method, " ", rl.target, " ", rl.proto, NULL);
    str_is(line, "method target proto", again, line);
    ck_assert_int_eq(rl.major, ok_cases[_i].major);
    ck_assert_int_eq(rl.minor, ok_cases[_i].minor);
    str_is(line, "scheme", rl.scheme, ok_cases[_i].scheme);
    str_is(line, "host", rl.host, ok_cases[_i].host);
    str_is(line, "raw_path", rl.raw_path, ok_cases[_i].raw_path);
    str_is(line, "path", rl.path, ok_cases[_i].path);
    str_is(line, "query", rl.query, ok_cases[_i].query);
    ck_assert_int_eq(rl.asterisk, !!(ok_cases[_i].flags & AST));
    ck_assert_int_eq(rl.authority, !!(ok_cases[_i].flags & AUTH));
}
END_TEST

/* Lines Go refuses, and how. */
static const struct {
    const char *line;
    apr_size_t len; /* 0: strlen */
    weft_rl_error_t want;
} bad_cases[] = {
    /* not METHOD SP TARGET SP VERSION */
    { "", 0, WEFT_RL_MALFORMED },
    { "GET", 0, WEFT_RL_MALFORMED },
    { "GET /", 0, WEFT_RL_MALFORMED },
    { "GET/ HTTP/1.1", 0, WEFT_RL_MALFORMED },
    { "GET\t/\tHTTP/1.1", 0, WEFT_RL_MALFORMED },
    { " ", 0, WEFT_RL_MALFORMED },
    /* method */
    { " / HTTP/1.1", 0, WEFT_RL_BAD_METHOD },
    { "  ", 0, WEFT_RL_BAD_METHOD },
    { "GE(T / HTTP/1.1", 0, WEFT_RL_BAD_METHOD }, /* serve_test.go */
    { "GE:T / HTTP/1.1", 0, WEFT_RL_BAD_METHOD },
    { "GET\x7f / HTTP/1.1", 0, WEFT_RL_BAD_METHOD },
    { "G\xc3\x89T / HTTP/1.1", 0, WEFT_RL_BAD_METHOD },
    { "GET\0 / HTTP/1.1", 15, WEFT_RL_BAD_METHOD },
    { "\tGET / HTTP/1.1", 0, WEFT_RL_BAD_METHOD },
    /* the method is checked before the version */
    { "G@T / HTTP/9", 0, WEFT_RL_BAD_METHOD },
    /* version: Cut on single spaces makes extra spaces part of it */
    { "GET / ", 0, WEFT_RL_BAD_VERSION },
    { "GET  / HTTP/1.1", 0, WEFT_RL_BAD_VERSION },
    { "GET / HTTP/1.1 ", 0, WEFT_RL_BAD_VERSION },
    { "GET /a b HTTP/1.1", 0, WEFT_RL_BAD_VERSION },
    { "GET http://a b.com/ HTTP/1.1", 0, WEFT_RL_BAD_VERSION },
    { "GET / http/1.1", 0, WEFT_RL_BAD_VERSION },
    { "GET / HTTP/1.10", 0, WEFT_RL_BAD_VERSION },
    { "GET / HTTP/1", 0, WEFT_RL_BAD_VERSION },
    { "GET / HTTP/1.1\r", 0, WEFT_RL_BAD_VERSION },
    { "GET / HTTP/1.1\0", 15, WEFT_RL_BAD_VERSION },
    { "GET / HTTP/\xd9\xa1.1", 0, WEFT_RL_BAD_VERSION },
    /* the version is checked before the target */
    { "GET foo HTTP/x", 0, WEFT_RL_BAD_VERSION },
    /* versions Go's HTTP/1 server answers 505 */
    { "GET / HTTP/0.9", 0, WEFT_RL_UNSUPPORTED },
    { "GET / HTTP/2.0", 0, WEFT_RL_UNSUPPORTED },
    { "GET / HTTP/3.0", 0, WEFT_RL_UNSUPPORTED },
    { "GET * HTTP/2.0", 0, WEFT_RL_UNSUPPORTED },
    { "PRI / HTTP/2.0", 0, WEFT_RL_UNSUPPORTED },
    { "PRI * HTTP/2.1", 0, WEFT_RL_UNSUPPORTED },
    { "pri * HTTP/2.0", 0, WEFT_RL_UNSUPPORTED },
    { "PRI http://x/ HTTP/2.0", 0, WEFT_RL_UNSUPPORTED },
    /* a bad target is a 400 even on an unsupported version */
    { "GET foo HTTP/2.0", 0, WEFT_RL_BAD_TARGET },
    { "PRI *x HTTP/2.0", 0, WEFT_RL_BAD_TARGET },
    { "GET /%zz HTTP/0.9", 0, WEFT_RL_BAD_TARGET },
    /* targets url.ParseRequestURI refuses */
    { "GET  HTTP/1.1", 0, WEFT_RL_BAD_TARGET }, /* "empty url" */
    { "GET ../../../../etc/passwd HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET foo.html HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET *?x HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET ** HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET ?x HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET :foo HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET a/b:c HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET /a%zz HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET /a% HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET /a%4 HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET /a%4?x HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET /a\x01"
      "b HTTP/1.1",
      0, WEFT_RL_BAD_TARGET },
    { "GET /\x7f HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET /\tx HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET /?x\ny HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET /a\0b HTTP/1.1", 17, WEFT_RL_BAD_TARGET },
    { "GET http\r://foo.com/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://foo\x7f.com/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    /* schemes */
    { "GET 1http://foo.com HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET cache_object://foo HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET cache_object/:foo/bar HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http:/%zz HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    /* ports */
    { "GET http://x:namedport/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[::1]:namedport HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[::1]a HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[::1]%23 HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[::1]:%38%30 HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://x:8%30/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://x:-1/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET mysql://x@y(z:123)/foo HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET mysql://x@y(1.2.3.4:123)/foo HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "CONNECT host:https HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "CONNECT host:443%zz HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    /* IP literals */
    { "GET http://[fe80::1 HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[fe80::1/]/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[%10::1] HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[fe80::%31]/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[fe80::%31%25en0]/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[fe80::1%en0]/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[fe80::1%25%2F]/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[fe80::1%25%C3%A9]/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[fe80::1%25%0a]/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[fe80::1%25e{n]/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://[fe80::1%25en0%]/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "CONNECT []%20%48%54%54%50%2f%31%2e%31%0a%4d%79%48%65%61%64%65%72%3a%20"
      "%31%32%33%0a%0a HTTP/1.0",
      0, WEFT_RL_BAD_TARGET }, /* readrequest_test.go, bad_connect_host */
    /* host bytes and escapes */
    { "GET http://192.168.0.%31/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://192.168.0.%31:8080/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://%41:8080/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://h%/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://h%c/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://h{x}/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://h|/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://h\\/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://h^/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://h`/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://h#f HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "CONNECT h#f:1 HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    /* userinfo */
    { "GET http://user^:passwo^rd@foo.com/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://us%zzer@h/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://us%4@h/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://\xc3\xa9@h/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://a[b]@h/ HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "CONNECT a\"b@h:1 HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    /* path escapes after an authority */
    { "GET http://h/%zz HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "GET http://h/a%2 HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
    { "CONNECT h:1/%g0 HTTP/1.1", 0, WEFT_RL_BAD_TARGET },
};

START_TEST(refuses_like_go)
{
    const char *line = bad_cases[_i].line;
    apr_size_t len = bad_cases[_i].len ? bad_cases[_i].len : strlen(line);
    weft_reqline_t rl, before;

    memset(&rl, 0x5a, sizeof(rl));
    before = rl;
    ck_assert_msg(weft_reqline_parse(pool, line, len, &rl) ==
                      bad_cases[_i].want,
                  "'%s': want error %d", line, (int)bad_cases[_i].want);
    /* refused lines leave rl alone, but a well-formed line whose version
     * is refused (505) fills it, for the access log */
    if (bad_cases[_i].want == WEFT_RL_UNSUPPORTED)
        ck_assert_ptr_nonnull(rl.method);
    else
        ck_assert(memcmp(&rl, &before, sizeof(rl)) == 0);
}
END_TEST

/* net/http request_test.go parseHTTPVersionTests, plus the 505 rule. */
static const struct {
    const char *vers;
    weft_rl_error_t want;
    int major, minor;
} version_cases[] = {
    { "HTTP/0.0", WEFT_RL_UNSUPPORTED, 0, 0 },
    { "HTTP/0.9", WEFT_RL_UNSUPPORTED, 0, 9 },
    { "HTTP/1.0", WEFT_RL_OK, 1, 0 },
    { "HTTP/1.1", WEFT_RL_OK, 1, 1 },
    { "HTTP/1.2", WEFT_RL_OK, 1, 2 },
    { "HTTP/2.0", WEFT_RL_UNSUPPORTED, 2, 0 },
    { "HTTP/9.9", WEFT_RL_UNSUPPORTED, 9, 9 },
    { "HTTP", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/one.one", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/1.1/", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/-1,0", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/0,-1", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/1,1", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/+1.1", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/1.+1", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/0000000001.1", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/1.0000000001", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/3.14", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/12.3", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/1.a", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/a.1", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTP/1-1", WEFT_RL_BAD_VERSION, 0, 0 },
    { "HTTPS/1.1", WEFT_RL_BAD_VERSION, 0, 0 },
    { "Http/1.1", WEFT_RL_BAD_VERSION, 0, 0 },
    { "XTTP/1.1", WEFT_RL_BAD_VERSION, 0, 0 },
    { "", WEFT_RL_BAD_VERSION, 0, 0 },
};

START_TEST(versions_like_go)
{
    const char *line =
        apr_pstrcat(pool, "GET / ", version_cases[_i].vers, NULL);
    weft_reqline_t rl;

    memset(&rl, 0, sizeof(rl));
    ck_assert_msg(weft_reqline_parse(pool, line, strlen(line), &rl) ==
                      version_cases[_i].want,
                  "'%s'", line);
    if (version_cases[_i].want == WEFT_RL_OK) {
        ck_assert_int_eq(rl.major, version_cases[_i].major);
        ck_assert_int_eq(rl.minor, version_cases[_i].minor);
        ck_assert_str_eq(rl.proto, version_cases[_i].vers);
    }
}
END_TEST

/* net/url url_test.go: parseRequestURLTests, TestParseErrors. */
static const struct {
    const char *target;
    int valid;
} uri_cases[] = {
    { "http://foo.com", 1 },
    { "http://foo.com/", 1 },
    { "http://foo.com/path", 1 },
    { "/", 1 },
    { "//not.a.user@not.a.host/just/a/path", 1 },
    { "//not.a.user@%66%6f%6f.com/just/a/path/also", 1 },
    { "*", 1 },
    { "http://192.168.0.1/", 1 },
    { "http://192.168.0.1:8080/", 1 },
    { "http://[fe80::1]/", 1 },
    { "http://[fe80::1]:8080/", 1 },
    { "http://[fe80::1%25en0]/", 1 },
    { "http://[fe80::1%25en0]:8080/", 1 },
    { "http://[fe80::1%25%65%6e%301-._~]/", 1 },
    { "http://[fe80::1%25%65%6e%301-._~]:8080/", 1 },
    { "foo.html", 0 },
    { "../dir/", 0 },
    { "http://192.168.0.%31/", 0 },
    { "http://192.168.0.%31:8080/", 0 },
    { "http://[fe80::%31]/", 0 },
    { "http://[fe80::%31]:8080/", 0 },
    { "http://[fe80::%31%25en0]/", 0 },
    { "http://[fe80::%31%25en0]:8080/", 0 },
    { "http://[fe80::1%en0]/", 0 },
    { "http://[fe80::1%en0]:8080/", 0 },
    { "http://[::1]", 1 },
    { "http://[::1]:80", 1 },
    { "http://[::1]:namedport", 0 },
    { "http://x:namedport", 0 },
    { "http://[::1]/", 1 },
    { "http://[::1]a", 0 },
    { "http://[::1]%23", 0 },
    { "http://[::1%25en0]", 1 },
    { "http://[::1]:", 1 },
    { "http://x:", 1 },
    { "http://[::1]:%38%30", 0 },
    { "http://[::1%25%41]", 1 },
    { "http://[%10::1]", 0 },
    { "http://[::1]/%48", 1 },
    { "http://%41:8080/", 0 },
    { "mysql://x@y(z:123)/foo", 0 },
    { "mysql://x@y(1.2.3.4:123)/foo", 0 },
    { "ahttp://foo.com", 1 },
    { "1http://foo.com", 0 },
    { "http://[]%20%48%54%54%50%2f%31%2e%31%0a%4d%79%48%65%61%64%65%72%3a%20"
      "%31%32%33%0a%0a/",
      0 },
    { "cache_object://foo", 0 },
    { "cache_object:foo", 0 },
    { "cache_object:foo/bar", 0 },
    { "cache_object/:foo/bar", 0 }, /* Parse takes it; ParseRequestURI not */
    { "http://foo.com/?foo\nbar", 0 },
    { "http\r://foo.com/", 0 },
    { "http://foo\x7f.com/", 0 },
    { "http://foo.com/ctl\x80", 1 },
};

START_TEST(request_uris_like_go)
{
    const char *line =
        apr_pstrcat(pool, "GET ", uri_cases[_i].target, " HTTP/1.1", NULL);
    weft_reqline_t rl;
    weft_rl_error_t want =
        uri_cases[_i].valid ? WEFT_RL_OK : WEFT_RL_BAD_TARGET;

    ck_assert_msg(weft_reqline_parse(pool, line, strlen(line), &rl) == want,
                  "'%s' should be %s", uri_cases[_i].target,
                  uri_cases[_i].valid ? "valid" : "refused");
    if (want == WEFT_RL_OK) {
        ck_assert_str_eq(rl.target, uri_cases[_i].target);
    }
}
END_TEST

START_TEST(nul_from_escape)
{
    /* Go's Path holds the NUL; a C string ends there */
    const char *line = "GET /a%00b HTTP/1.1";
    weft_reqline_t rl;

    ck_assert_int_eq(weft_reqline_parse(pool, line, strlen(line), &rl),
                     WEFT_RL_OK);
    ck_assert_str_eq(rl.raw_path, "/a%00b");
    ck_assert_mem_eq(rl.path, "/a\0b", 5);
}
END_TEST

START_TEST(strings_live_in_the_pool)
{
    static const char src[] = "GET http://u@h:1/a%41/b?q=1 HTTP/1.1";
    char *line = strdup(src);
    weft_reqline_t rl;

    ck_assert_ptr_ne(line, NULL);
    ck_assert_int_eq(weft_reqline_parse(pool, line, strlen(line), &rl),
                     WEFT_RL_OK);
    /* nothing points into the caller's buffer */
    memset(line, 'X', strlen(line));
    free(line);
    ck_assert_str_eq(rl.method, "GET");
    ck_assert_str_eq(rl.target, "http://u@h:1/a%41/b?q=1");
    ck_assert_str_eq(rl.proto, "HTTP/1.1");
    ck_assert_str_eq(rl.scheme, "http");
    ck_assert_str_eq(rl.host, "h:1");
    ck_assert_str_eq(rl.raw_path, "/a%41/b");
    ck_assert_str_eq(rl.path, "/aA/b");
    ck_assert_str_eq(rl.query, "q=1");
}
END_TEST

START_TEST(shares_when_nothing_to_decode)
{
    weft_reqline_t rl;
    const char *l1 = "GET /a/b HTTP/1.1";
    const char *l2 = "GET /a/b?x=%41 HTTP/1.1";
    const char *l3 = "GET /a%2Fb HTTP/1.1";
    const char *l4 = "CONNECT h:443 HTTP/1.1";

    /* no query, no escape: path is raw_path is the target */
    ck_assert_int_eq(weft_reqline_parse(pool, l1, strlen(l1), &rl), WEFT_RL_OK);
    ck_assert_ptr_eq(rl.raw_path, rl.target);
    ck_assert_ptr_eq(rl.path, rl.raw_path);
    ck_assert_ptr_eq(rl.method + 4, rl.target);
    ck_assert_ptr_eq(rl.target + 5, rl.proto);
    /* the query ends the target, so it points into it */
    ck_assert_int_eq(weft_reqline_parse(pool, l2, strlen(l2), &rl), WEFT_RL_OK);
    ck_assert_ptr_eq(rl.query, rl.target + 5);
    ck_assert_ptr_eq(rl.path, rl.raw_path);
    ck_assert_str_eq(rl.query, "x=%41");
    /* an escape means a decoded copy */
    ck_assert_int_eq(weft_reqline_parse(pool, l3, strlen(l3), &rl), WEFT_RL_OK);
    ck_assert_ptr_eq(rl.raw_path, rl.target);
    ck_assert_ptr_ne(rl.path, rl.raw_path);
    ck_assert_str_eq(rl.path, "/a/b");
    /* an authority that ends the target is the host as is */
    ck_assert_int_eq(weft_reqline_parse(pool, l4, strlen(l4), &rl), WEFT_RL_OK);
    ck_assert_ptr_eq(rl.host, rl.target);
}
END_TEST

START_TEST(long_targets)
{
    enum { N = 65536 };
    char *path = apr_palloc(pool, N + 1), *want = apr_palloc(pool, N / 3 + 2);
    const char *line;
    weft_reqline_t rl;
    apr_size_t i;

    /* a long plain path */
    path[0] = '/';
    for (i = 1; i < N; i++) {
        path[i] = (char)('a' + i % 26);
    }
    path[N] = '\0';
    line = apr_pstrcat(pool, "GET ", path, "?", path + 1, " HTTP/1.1", NULL);
    ck_assert_int_eq(weft_reqline_parse(pool, line, strlen(line), &rl),
                     WEFT_RL_OK);
    ck_assert_str_eq(rl.raw_path, path);
    ck_assert_ptr_eq(rl.path, rl.raw_path);
    ck_assert_str_eq(rl.query, path + 1);

    /* a long path of escapes, through an absolute-form target */
    want[0] = '/';
    for (i = 1; i * 3 + 3 <= N; i++) {
        memcpy(path + (i - 1) * 3 + 1, "%41", 3);
        want[i] = 'A';
    }
    path[(i - 1) * 3 + 1] = '\0';
    want[i] = '\0';
    line = apr_pstrcat(pool, "POST http://host", path, " HTTP/1.0", NULL);
    ck_assert_int_eq(weft_reqline_parse(pool, line, strlen(line), &rl),
                     WEFT_RL_OK);
    ck_assert_str_eq(rl.host, "host");
    ck_assert_str_eq(rl.raw_path, path);
    ck_assert_str_eq(rl.path, want);

    /* one bad escape at the very end still refuses it */
    line = apr_pstrcat(pool, "GET ", path, "%4 HTTP/1.1", NULL);
    ck_assert_int_eq(weft_reqline_parse(pool, line, strlen(line), &rl),
                     WEFT_RL_BAD_TARGET);
}
END_TEST

START_TEST(length_not_nul)
{
    /* the line is len bytes; what follows is not read */
    const char *line = "GET /a HTTP/1.1 and more";
    weft_reqline_t rl;

    ck_assert_int_eq(weft_reqline_parse(pool, line, 15, &rl), WEFT_RL_OK);
    ck_assert_str_eq(rl.proto, "HTTP/1.1");
    ck_assert_int_eq(weft_reqline_parse(pool, line, 14, &rl),
                     WEFT_RL_BAD_VERSION);
    ck_assert_int_eq(weft_reqline_parse(pool, line, 0, &rl), WEFT_RL_MALFORMED);
}
END_TEST

/* Independent statements of the byte sets, to check the tables. */
static int is_alnum(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

START_TEST(token_bytes)
{
    int c;
    char s[3];

    for (c = 0; c < 256; c++) {
        int want = c != 0 && (is_alnum(c) || strchr("!#$%&'*+-.^_`|~", c));

        s[0] = (char)c;
        ck_assert_msg(weft_token_valid(s, 1) == want, "byte 0x%02x", c);
        /* and in the middle of a token */
        s[0] = 'a';
        s[1] = (char)c;
        s[2] = 'b';
        ck_assert_msg(weft_token_valid(s, 3) == want, "byte 0x%02x", c);
    }
    ck_assert(!weft_token_valid("", 0));
    ck_assert(weft_token_valid("Content-Type", 12));
    ck_assert(weft_token_valid("X-Custom_Header.v1~", 19));
    ck_assert(!weft_token_valid("Content Type", 12));
    ck_assert(!weft_token_valid("Content-Type:", 13));
    ck_assert(!weft_token_valid("G\0T", 3));
    ck_assert(!weft_token_valid("caf\xc3\xa9", 5));
    ck_assert(weft_token_valid("GET /", 3)); /* only n bytes count */
}
END_TEST

START_TEST(field_value_bytes)
{
    int c;
    char s[3];

    for (c = 0; c < 256; c++) {
        /* no CTL but HTAB; SP and obs-text are fine */
        int want = !((c < 0x20 && c != '\t') || c == 0x7f);

        s[0] = 'a';
        s[1] = (char)c;
        s[2] = 'b';
        ck_assert_msg(weft_field_value_valid(s, 3) == want, "byte 0x%02x", c);
    }
    ck_assert(weft_field_value_valid("", 0));
    ck_assert(weft_field_value_valid("text/html; charset=utf-8", 24));
    ck_assert(weft_field_value_valid(" a\tb ", 5));
    ck_assert(weft_field_value_valid("\x80\xff caf\xc3\xa9", 8));
    ck_assert(!weft_field_value_valid("a\r\nb", 4));
    ck_assert(!weft_field_value_valid("a\nb", 3));
    ck_assert(!weft_field_value_valid("a\0b", 3));
    ck_assert(!weft_field_value_valid("a\x7f", 2));
    ck_assert(weft_field_value_valid("ok\nX", 2));
}
END_TEST

START_TEST(host_header_bytes)
{
    int c;
    char s[3];

    for (c = 0; c < 256; c++) {
        /* httpguts validHostByte */
        int want = c != 0 && (is_alnum(c) || strchr("!$%&'()*+,-.:;=[]_~", c));

        s[0] = (char)c;
        ck_assert_msg(weft_host_valid(s, 1) == want, "byte 0x%02x", c);
        s[0] = 'h';
        s[1] = (char)c;
        s[2] = 'x';
        ck_assert_msg(weft_host_valid(s, 3) == want, "byte 0x%02x", c);
    }
    ck_assert(weft_host_valid("", 0));
    ck_assert(weft_host_valid("example.com", 11));
    ck_assert(weft_host_valid("example.com:8080", 16));
    ck_assert(weft_host_valid("[::1]:80", 8));
    ck_assert(weft_host_valid("[fe80::1%en0]", 13));
    ck_assert(weft_host_valid("xn--caf-dma.example", 19));
    ck_assert(!weft_host_valid("caf\xc3\xa9.example", 13));
    ck_assert(!weft_host_valid("a b", 3));
    ck_assert(!weft_host_valid("a/b", 3));
    ck_assert(!weft_host_valid("user@host", 9));
    ck_assert(!weft_host_valid("a?b", 3));
    ck_assert(!weft_host_valid("a#b", 3));
    ck_assert(!weft_host_valid("a\"b", 3));
    ck_assert(!weft_host_valid("<a>", 3));
    ck_assert(!weft_host_valid("{client}", 8));
    ck_assert(!weft_host_valid("a\tb", 3));
    ck_assert(!weft_host_valid("a\x7f", 2));
    ck_assert(!weft_host_valid("a\0b", 3));
}
END_TEST

/* net/url url_test.go unescapeTests, in PathUnescape's terms. */
static const struct {
    const char *in;
    const char *out; /* NULL: refused */
} unescape_cases[] = {
    { "", "" },
    { "abc", "abc" },
    { "1%41", "1A" },
    { "1%41%42%43", "1ABC" },
    { "%4a", "J" },
    { "%6F", "o" },
    { "%", NULL },
    { "%a", NULL },
    { "%1", NULL },
    { "123%45%6", NULL },
    { "%zzzzz", NULL },
    { "a+b", "a+b" },
    { "a%20b", "a b" },
    { "%2F%2f", "//" },
    { "%25", "%" },
    { "%2541", "%41" },
    { "%e2%98%BA", "\xe2\x98\xba" },
    { "%G0", NULL },
    { "%0G", NULL },
    { "abc%", NULL },
    { "caf\xc3\xa9", "caf\xc3\xa9" },
};

START_TEST(unescape_like_go)
{
    const char *in = unescape_cases[_i].in;
    char *out = weft_unescape(pool, in, strlen(in));

    if (unescape_cases[_i].out == NULL) {
        ck_assert_msg(out == NULL, "'%s' should be refused", in);
    } else {
        ck_assert_msg(out != NULL, "'%s' should decode", in);
        ck_assert_str_eq(out, unescape_cases[_i].out);
    }
}
END_TEST

START_TEST(unescape_takes_n_bytes)
{
    ck_assert_str_eq(weft_unescape(pool, "a%41bXYZ", 4), "aA");
    ck_assert_str_eq(weft_unescape(pool, "a%41bXYZ", 5), "aAb");
    /* an escape cut by n is malformed */
    ck_assert_ptr_eq(weft_unescape(pool, "%41", 2), NULL);
    ck_assert_mem_eq(weft_unescape(pool, "x%00y", 5), "x\0y", 4);
}
END_TEST

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
    Suite *s = suite_create("reqline");
    TCase *tl = tcase_create("request line");
    TCase *tv = tcase_create("validators");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tl, setup, teardown);
    tcase_add_loop_test(tl, parses_like_go, 0, N_OF(ok_cases));
    tcase_add_loop_test(tl, refuses_like_go, 0, N_OF(bad_cases));
    tcase_add_loop_test(tl, versions_like_go, 0, N_OF(version_cases));
    tcase_add_loop_test(tl, request_uris_like_go, 0, N_OF(uri_cases));
    tcase_add_test(tl, nul_from_escape);
    tcase_add_test(tl, strings_live_in_the_pool);
    tcase_add_test(tl, shares_when_nothing_to_decode);
    tcase_add_test(tl, long_targets);
    tcase_add_test(tl, length_not_nul);
    suite_add_tcase(s, tl);

    tcase_add_checked_fixture(tv, setup, teardown);
    tcase_add_test(tv, token_bytes);
    tcase_add_test(tv, field_value_bytes);
    tcase_add_test(tv, host_header_bytes);
    tcase_add_loop_test(tv, unescape_like_go, 0, N_OF(unescape_cases));
    tcase_add_test(tv, unescape_takes_n_bytes);
    suite_add_tcase(s, tv);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
