/*
 * test_mux.c -- mod_mux's patterns, tree and routing against Go's answers:
 * the tables of net/http's pattern_test.go, routing_tree_test.go,
 * server_test.go, serve_test.go and request_test.go, and weft's own cases.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "mux.h"

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

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

/* A handler the tests register; never run. */
static void nop(weft_rw_t *w, weft_request_t *r)
{
    (void)w;
    (void)r;
}

static const mux_pattern_t *parse(const char *s)
{
    mux_pattern_t *pat = NULL;
    const char *why = mux_pattern_parse(pool, s, &pat);

    ck_assert_msg(why == NULL, "%s: %s", s, why ? why : "");
    return pat;
}

/* Segments as Go's test helpers name them: lit(a) wild(x) multi(). */
static const char *segments(const mux_pattern_t *pat)
{
    const char *out = "";
    int i;

    for (i = 0; i < pat->nsegs; i++) {
        const mux_segment_t *g = &pat->segs[i];
        out = apr_psprintf(pool, "%s%s%s(%.*s)", out, i ? " " : "",
                           g->multi  ? "multi"
                           : g->wild ? "wild"
                                     : "lit",
                           (int)g->len, g->s);
    }
    return out;
}

/* A mux holding the patterns (NULL-terminated), each at "t:N". */
static mux_t *build(const char *const *pats)
{
    mux_t *m = mux_create(pool);
    int i;

    for (i = 0; pats[i] != NULL; i++) {
        const char *why = mux_register(
            m, pats[i], apr_psprintf(pool, "t:%d", i + 1), nop, NULL);
        ck_assert_msg(why == NULL, "%s: %s", pats[i], why ? why : "");
    }
    return m;
}

/* ---- parsing (pattern_test.go TestParsePattern, TestParsePatternError) -- */

static const struct {
    const char *in, *method, *host, *segs;
} parse_cases[] = {
    { "/", "", "", "multi()" },
    { "/a", "", "", "lit(a)" },
    { "/a/", "", "", "lit(a) multi()" },
    { "/path/to/something", "", "", "lit(path) lit(to) lit(something)" },
    { "/{w1}/lit/{w2}", "", "", "wild(w1) lit(lit) wild(w2)" },
    { "/{w1}/lit/{w2}/", "", "", "wild(w1) lit(lit) wild(w2) multi()" },
    { "example.com/", "", "example.com", "multi()" },
    { "GET /", "GET", "", "multi()" },
    { "POST example.com/foo/{w}", "POST", "example.com", "lit(foo) wild(w)" },
    { "/{$}", "", "", "lit(/)" },
    { "DELETE example.com/a/{foo12}/{$}", "DELETE", "example.com",
      "lit(a) wild(foo12) lit(/)" },
    { "/foo/{$}", "", "", "lit(foo) lit(/)" },
    { "/{a}/foo/{rest...}", "", "", "wild(a) lit(foo) multi(rest)" },
    { "//", "", "", "lit() multi()" },
    { "/foo///./../bar", "", "",
      "lit(foo) lit() lit() lit(.) lit(..) lit(bar)" },
    { "a.com/foo//", "", "a.com", "lit(foo) lit() multi()" },
    { "/%61%62/%7b/%", "", "", "lit(ab) lit({) lit(%)" },
    { "GET\t  /", "GET", "", "multi()" },
    { "POST \t  example.com/foo/{w}", "POST", "example.com",
      "lit(foo) wild(w)" },
    { "DELETE    \texample.com/a/{foo12}/{$}", "DELETE", "example.com",
      "lit(a) wild(foo12) lit(/)" },
    /* weft's own */
    { "GET /a ", "GET", "", "lit(a)" }, /* TrimSpace trims the end too */
    { "/{caf\xc3\xa9}", "", "", "wild(caf\xc3\xa9)" },
    { "/{_}/{x1}", "", "", "wild(_) wild(x1)" },
    { "/a%2Fb", "", "", "lit(a/b)" },
    { "CONNECT /a/../b", "CONNECT", "", "lit(a) lit(..) lit(b)" },
    { "* /", "*", "", "multi()" },
};

START_TEST(parses_like_go)
{
    const mux_pattern_t *pat = parse(parse_cases[_i].in);

    ck_assert_str_eq(pat->str, parse_cases[_i].in);
    ck_assert_str_eq(pat->method, parse_cases[_i].method);
    ck_assert_str_eq(pat->host, parse_cases[_i].host);
    ck_assert_str_eq(segments(pat), parse_cases[_i].segs);
}
END_TEST

static const struct {
    const char *in, *why;
} bad_cases[] = {
    { "", "empty pattern" },
    { "A=B /", "at offset 0: invalid method \"A=B\"" },
    { " ", "at offset 1: host/path missing /" },
    { "/{w}x", "at offset 1: bad wildcard segment (must end with '}')" },
    { "/x{w}", "at offset 1: bad wildcard segment (must start with '{')" },
    { "/{wx", "at offset 1: bad wildcard segment (must end with '}')" },
    { "/a/{/}/c", "at offset 3: bad wildcard segment (must end with '}')" },
    { "/a/{%61}/c", "at offset 3: bad wildcard name \"%61\"" },
    { "/{a$}", "at offset 1: bad wildcard name \"a$\"" },
    { "/{}", "at offset 1: empty wildcard" },
    { "POST a.com/x/{}/y", "at offset 13: empty wildcard" },
    { "/{...}", "at offset 1: empty wildcard" },
    { "/{$...}", "at offset 1: bad wildcard name \"$\"" },
    { "/{$}/", "at offset 1: {$} not at end" },
    { "/{$}/x", "at offset 1: {$} not at end" },
    { "/abc/{$}/x", "at offset 5: {$} not at end" },
    { "/{a...}/", "at offset 1: {...} wildcard not at end" },
    { "/{a...}/x", "at offset 1: {...} wildcard not at end" },
    { "{a}/b", "at offset 0: host contains '{' (missing initial '/'?)" },
    { "/a/{x}/b/{x...}", "at offset 9: duplicate wildcard name \"x\"" },
    { "GET //",
      "at offset 4: non-CONNECT pattern with unclean path can never match" },
    /* weft's own */
    { "GET /a/../b",
      "at offset 4: non-CONNECT pattern with unclean path can never match" },
    { "GET  {x}/", "at offset 4: host contains '{' (missing initial '/'?)" },
    { "example.com", "at offset 0: host/path missing /" },
    { "/{1x}", "at offset 1: bad wildcard name \"1x\"" },
    { "/{a-b}", "at offset 1: bad wildcard name \"a-b\"" },
    { "/{x y}", "at offset 0: invalid method \"/{x\"" },
    { "G\"T /", "at offset 0: invalid method \"G\\\"T\"" },
    { "/{a}/{b}/{a}", "at offset 9: duplicate wildcard name \"a\"" },
};

START_TEST(refuses_like_go)
{
    mux_pattern_t *pat = NULL;
    const char *why = mux_pattern_parse(pool, bad_cases[_i].in, &pat);

    ck_assert_msg(why != NULL, "\"%s\" was accepted", bad_cases[_i].in);
    ck_assert_str_eq(why, bad_cases[_i].why);
}
END_TEST

START_TEST(names_in_order)
{
    const mux_pattern_t *pat = parse("/{a}/x/{b}/{c...}");

    ck_assert_int_eq(pat->nnames, 3);
    ck_assert_str_eq(pat->names[0], "a");
    ck_assert_str_eq(pat->names[1], "b");
    ck_assert_str_eq(pat->names[2], "c");
    ck_assert_int_eq(parse("/a/")->nnames, 0);
    ck_assert_int_eq(parse("/a/{$}")->nnames, 0);
}
END_TEST

START_TEST(quotes_like_go)
{
    ck_assert_str_eq(mux_quote(pool, "a\"b\\c\td"), "\"a\\\"b\\\\c\\td\"");
    ck_assert_str_eq(mux_quote(pool, "\x01\x7f"), "\"\\x01\\x7f\"");
    ck_assert_str_eq(mux_quote(pool, "caf\xc3\xa9"), "\"caf\xc3\xa9\"");
    ck_assert_str_eq(mux_quote(pool, "\xff"), "\"\\xff\"");
    ck_assert_str_eq(mux_quote(pool, "\xc2\xa0"), "\"\\u00a0\"");
    ck_assert_str_eq(mux_quote(pool, "{$}"), "\"{$}\"");
}
END_TEST

/* ---- precedence (TestCompareMethods, TestComparePaths) ------------------ */

static mux_rel_t inverse(mux_rel_t r)
{
    return r == MUX_MORE_GENERAL    ? MUX_MORE_SPECIFIC
           : r == MUX_MORE_SPECIFIC ? MUX_MORE_GENERAL
                                    : r;
}

static const struct {
    const char *p1, *p2;
    mux_rel_t want;
} method_cases[] = {
    { "/", "/", MUX_EQUIVALENT },
    { "GET /", "GET /", MUX_EQUIVALENT },
    { "HEAD /", "HEAD /", MUX_EQUIVALENT },
    { "POST /", "POST /", MUX_EQUIVALENT },
    { "GET /", "POST /", MUX_DISJOINT },
    { "GET /", "/", MUX_MORE_SPECIFIC },
    { "HEAD /", "/", MUX_MORE_SPECIFIC },
    { "GET /", "HEAD /", MUX_MORE_GENERAL },
};

START_TEST(compares_methods_like_go)
{
    const mux_pattern_t *a = parse(method_cases[_i].p1);
    const mux_pattern_t *b = parse(method_cases[_i].p2);

    ck_assert_str_eq(mux_rel_name(mux_compare_methods(a, b)),
                     mux_rel_name(method_cases[_i].want));
    ck_assert_str_eq(mux_rel_name(mux_compare_methods(b, a)),
                     mux_rel_name(inverse(method_cases[_i].want)));
}
END_TEST

#define EQ MUX_EQUIVALENT
#define GEN MUX_MORE_GENERAL
#define SPEC MUX_MORE_SPECIFIC
#define DIS MUX_DISJOINT
#define OVER MUX_OVERLAPS

static const struct {
    const char *p1, *p2;
    mux_rel_t want;
} path_cases[] = {
    /* A literal is more specific than anything it overlaps but itself. */
    { "/a", "/a", EQ },
    { "/a", "/b", DIS },
    { "/a", "/", SPEC },
    { "/a", "/{$}", DIS },
    { "/a", "/{x}", SPEC },
    { "/a", "/{x...}", SPEC },
    { "/b/a", "/b/a", EQ },
    { "/b/a", "/b/b", DIS },
    { "/b/a", "/b/", SPEC },
    { "/b/a", "/b/{$}", DIS },
    { "/b/a", "/b/{x}", SPEC },
    { "/b/a", "/b/{x...}", SPEC },
    { "/{z}/a", "/{z}/a", EQ },
    { "/{z}/a", "/{z}/b", DIS },
    { "/{z}/a", "/{z}/", SPEC },
    { "/{z}/a", "/{z}/{$}", DIS },
    { "/{z}/a", "/{z}/{x}", SPEC },
    { "/{z}/a", "/{z}/{x...}", SPEC },
    /* Single wildcard on the left. */
    { "/{z}", "/a", GEN },
    { "/{z}", "/a/b", DIS },
    { "/{z}", "/{$}", DIS },
    { "/{z}", "/{x}", EQ },
    { "/{z}", "/", SPEC },
    { "/{z}", "/{x...}", SPEC },
    { "/b/{z}", "/b/a", GEN },
    { "/b/{z}", "/b/a/b", DIS },
    { "/b/{z}", "/b/{$}", DIS },
    { "/b/{z}", "/b/{x}", EQ },
    { "/b/{z}", "/b/", SPEC },
    { "/b/{z}", "/b/{x...}", SPEC },
    /* Trailing slash on the left. */
    { "/", "/a", GEN },
    { "/", "/a/b", GEN },
    { "/", "/{$}", GEN },
    { "/", "/{x}", GEN },
    { "/", "/", EQ },
    { "/", "/{x...}", EQ },
    { "/b/", "/b/a", GEN },
    { "/b/", "/b/a/b", GEN },
    { "/b/", "/b/{$}", GEN },
    { "/b/", "/b/{x}", GEN },
    { "/b/", "/b/", EQ },
    { "/b/", "/b/{x...}", EQ },
    { "/{z}/", "/{z}/a", GEN },
    { "/{z}/", "/{z}/a/b", GEN },
    { "/{z}/", "/{z}/{$}", GEN },
    { "/{z}/", "/{z}/{x}", GEN },
    { "/{z}/", "/{z}/", EQ },
    { "/{z}/", "/a/", GEN },
    { "/{z}/", "/{z}/{x...}", EQ },
    { "/{z}/", "/a/{x...}", GEN },
    { "/a/{z}/", "/{z}/a/", OVER },
    { "/a/{z}/b/", "/{x}/c/{y...}", OVER },
    /* Multi wildcard on the left. */
    { "/{m...}", "/a", GEN },
    { "/{m...}", "/a/b", GEN },
    { "/{m...}", "/{$}", GEN },
    { "/{m...}", "/{x}", GEN },
    { "/{m...}", "/", EQ },
    { "/{m...}", "/{x...}", EQ },
    { "/b/{m...}", "/b/a", GEN },
    { "/b/{m...}", "/b/a/b", GEN },
    { "/b/{m...}", "/b/{$}", GEN },
    { "/b/{m...}", "/b/{x}", GEN },
    { "/b/{m...}", "/b/", EQ },
    { "/b/{m...}", "/b/{x...}", EQ },
    { "/b/{m...}", "/a/{x...}", DIS },
    { "/{z}/{m...}", "/{z}/a", GEN },
    { "/{z}/{m...}", "/{z}/a/b", GEN },
    { "/{z}/{m...}", "/{z}/{$}", GEN },
    { "/{z}/{m...}", "/{z}/{x}", GEN },
    { "/{z}/{m...}", "/{w}/", EQ },
    { "/{z}/{m...}", "/a/", GEN },
    { "/{z}/{m...}", "/{z}/{x...}", EQ },
    { "/{z}/{m...}", "/a/{x...}", GEN },
    { "/a/{m...}", "/a/b/{y...}", GEN },
    { "/a/{m...}", "/a/{x}/{y...}", GEN },
    { "/a/{z}/{m...}", "/a/b/{y...}", GEN },
    { "/a/{z}/{m...}", "/{z}/a/", OVER },
    { "/a/{z}/{m...}", "/{z}/b/{y...}", OVER },
    { "/a/{z}/b/{m...}", "/{x}/c/{y...}", OVER },
    { "/a/{z}/a/{m...}", "/{x}/b", DIS },
    /* Dollar on the left. */
    { "/{$}", "/a", DIS },
    { "/{$}", "/a/b", DIS },
    { "/{$}", "/{$}", EQ },
    { "/{$}", "/{x}", DIS },
    { "/{$}", "/", SPEC },
    { "/{$}", "/{x...}", SPEC },
    { "/b/{$}", "/b", DIS },
    { "/b/{$}", "/b/a", DIS },
    { "/b/{$}", "/b/a/b", DIS },
    { "/b/{$}", "/b/{$}", EQ },
    { "/b/{$}", "/b/{x}", DIS },
    { "/b/{$}", "/b/", SPEC },
    { "/b/{$}", "/b/{x...}", SPEC },
    { "/b/{$}", "/b/c/{x...}", DIS },
    { "/b/{x}/a/{$}", "/{x}/c/{y...}", OVER },
    { "/{x}/b/{$}", "/a/{x}/{y}", DIS },
    { "/{x}/b/{$}", "/a/{x}/c", DIS },
    { "/{z}/{$}", "/{z}/a", DIS },
    { "/{z}/{$}", "/{z}/a/b", DIS },
    { "/{z}/{$}", "/{z}/{$}", EQ },
    { "/{z}/{$}", "/{z}/{x}", DIS },
    { "/{z}/{$}", "/{z}/", SPEC },
    { "/{z}/{$}", "/a/", OVER },
    { "/{z}/{$}", "/a/{x...}", OVER },
    { "/{z}/{$}", "/{z}/{x...}", SPEC },
    { "/a/{z}/{$}", "/{z}/a/", OVER },
};

START_TEST(compares_paths_like_go)
{
    const mux_pattern_t *a = parse(path_cases[_i].p1);
    const mux_pattern_t *b = parse(path_cases[_i].p2);

    ck_assert_str_eq(mux_rel_name(mux_compare_paths(a, a)), "equivalent");
    ck_assert_str_eq(mux_rel_name(mux_compare_paths(b, b)), "equivalent");
    ck_assert_msg(mux_compare_paths(a, b) == path_cases[_i].want,
                  "%s vs %s: got %s, want %s", path_cases[_i].p1,
                  path_cases[_i].p2, mux_rel_name(mux_compare_paths(a, b)),
                  mux_rel_name(path_cases[_i].want));
    ck_assert_msg(mux_compare_paths(b, a) == inverse(path_cases[_i].want),
                  "%s vs %s: got %s", path_cases[_i].p2, path_cases[_i].p1,
                  mux_rel_name(mux_compare_paths(b, a)));
}
END_TEST

/* ---- conflicts (TestConflictsWith, TestDescribeConflict, ...) ----------- */

static const struct {
    const char *p1, *p2;
    int want;
} conflict_cases[] = {
    { "/a", "/a", 1 },
    { "/a", "/ab", 0 },
    { "/a/b/cd", "/a/b/cd", 1 },
    { "/a/b/cd", "/a/b/c", 0 },
    { "/a/b/c", "/a/c/c", 0 },
    { "/{x}", "/{y}", 1 },
    { "/{x}", "/a", 0 },
    { "/{x}/{y}", "/{x}/a", 0 },
    { "/{x}/{y}", "/{x}/a/b", 0 },
    { "/{x}", "/a/{y}", 0 },
    { "/{x}/{y}", "/{x}/a/", 0 },
    { "/{x}", "/a/{y...}", 0 },
    { "/{x}/a/{y}", "/{x}/a/{y...}", 0 },
    { "/{x}/{y}", "/{x}/a/{$}", 0 },
    { "/{x}/{y}/{$}", "/{x}/a/{$}", 0 },
    { "/a/{x}", "/{x}/b", 1 },
    { "/", "GET /", 0 },
    { "/", "GET /foo", 0 },
    { "GET /", "GET /foo", 0 },
    { "GET /", "/foo", 1 },
    { "GET /foo", "HEAD /", 1 },
    /* weft's own: hosts */
    { "a.com/x", "/x", 0 },
    { "a.com/x", "b.com/x", 0 },
    { "a.com/{x}", "a.com/{y}", 1 },
};

START_TEST(conflicts_like_go)
{
    const mux_pattern_t *a = parse(conflict_cases[_i].p1);
    const mux_pattern_t *b = parse(conflict_cases[_i].p2);

    ck_assert_int_eq(mux_conflicts(a, b), conflict_cases[_i].want);
    ck_assert_int_eq(mux_conflicts(b, a), conflict_cases[_i].want);
}
END_TEST

START_TEST(describes_conflicts_like_go)
{
    static const struct {
        const char *p1, *p2, *want;
    } cases[] = {
        { "/a/{x}", "/a/{y}", "/a/{x} matches the same requests as /a/{y}" },
        { "/", "/{m...}", "/ matches the same requests as /{m...}" },
        { "/a/{x}", "/{y}/b",
          "/a/{x} and /{y}/b both match some paths, like \"/a/b\". But "
          "neither is more specific than the other. /a/{x} matches "
          "\"/a/x\", but /{y}/b doesn't. /{y}/b matches \"/y/b\", but "
          "/a/{x} doesn't." },
        { "/a", "GET /{x}",
          "/a matches more methods than GET /{x}, but has a more specific "
          "path pattern" },
        { "GET /a", "HEAD /",
          "GET /a matches more methods than HEAD /, but has a more specific "
          "path pattern" },
        { "POST /", "/a",
          "POST / matches fewer methods than /a, but has a more general "
          "path pattern" },
    };
    int i;

    for (i = 0; i < N_OF(cases); i++)
        ck_assert_str_eq(
            mux_describe_conflict(pool, parse(cases[i].p1), parse(cases[i].p2)),
            cases[i].want);
}
END_TEST

START_TEST(common_paths_like_go)
{
    static const struct {
        const char *p1, *p2, *want;
    } cases[] = {
        { "/a/{x}", "/{x}/a", "/a/a" },
        { "/a/{z}/", "/{z}/a/", "/a/a/" },
        { "/a/{z}/{m...}", "/{z}/a/", "/a/a/" },
        { "/{z}/{$}", "/a/", "/a/" },
        { "/{z}/{$}", "/a/{x...}", "/a/" },
        { "/a/{z}/{$}", "/{z}/a/", "/a/a/" },
        { "/a/{x}/b/{y...}", "/{x}/c/{y...}", "/a/c/b/" },
        { "/a/{x}/b/", "/{x}/c/{y...}", "/a/c/b/" },
        { "/a/{x}/b/{$}", "/{x}/c/{y...}", "/a/c/b/" },
        { "/a/{z}/{x...}", "/{z}/b/{y...}", "/a/b/" },
    };
    int i;

    for (i = 0; i < N_OF(cases); i++) {
        const mux_pattern_t *a = parse(cases[i].p1), *b = parse(cases[i].p2);
        ck_assert_int_eq(mux_compare_paths(a, b), MUX_OVERLAPS);
        ck_assert_str_eq(mux_common_path(pool, a, b), cases[i].want);
    }
}
END_TEST

START_TEST(difference_paths_like_go)
{
    static const struct {
        const char *p1, *p2, *want;
    } cases[] = {
        { "/a/{x}", "/{x}/a", "/a/x" },
        { "/{x}/a", "/a/{x}", "/x/a" },
        { "/a/{z}/", "/{z}/a/", "/a/z/" },
        { "/{z}/a/", "/a/{z}/", "/z/a/" },
        { "/{a}/a/", "/a/{z}/", "/ax/a/" },
        { "/a/{z}/{x...}", "/{z}/b/{y...}", "/a/z/" },
        { "/{z}/b/{y...}", "/a/{z}/{x...}", "/z/b/" },
        { "/a/b/", "/a/b/c", "/a/b/" },
        { "/a/b/{x...}", "/a/b/c", "/a/b/" },
        { "/a/b/{x...}", "/a/b/c/d", "/a/b/" },
        { "/a/b/{x...}", "/a/b/c/d/", "/a/b/" },
        { "/a/{z}/{m...}", "/{z}/a/", "/a/z/" },
        { "/{z}/a/", "/a/{z}/{m...}", "/z/a/" },
        { "/{z}/{$}", "/a/", "/z/" },
        { "/a/", "/{z}/{$}", "/a/x" },
        { "/{z}/{$}", "/a/{x...}", "/z/" },
        { "/a/{foo...}", "/{z}/{$}", "/a/foo" },
        { "/a/{z}/{$}", "/{z}/a/", "/a/z/" },
        { "/{z}/a/", "/a/{z}/{$}", "/z/a/x" },
        { "/a/{x}/b/{y...}", "/{x}/c/{y...}", "/a/x/b/" },
        { "/{x}/c/{y...}", "/a/{x}/b/{y...}", "/x/c/" },
        { "/a/{c}/b/", "/{x}/c/{y...}", "/a/cx/b/" },
        { "/{x}/c/{y...}", "/a/{c}/b/", "/x/c/" },
        { "/a/{x}/b/{$}", "/{x}/c/{y...}", "/a/x/b/" },
        { "/{x}/c/{y...}", "/a/{x}/b/{$}", "/x/c/" },
    };
    int i;

    for (i = 0; i < N_OF(cases); i++) {
        const mux_pattern_t *a = parse(cases[i].p1), *b = parse(cases[i].p2);
        mux_rel_t rel = mux_compare_paths(a, b);
        ck_assert(rel == MUX_OVERLAPS || rel == MUX_MORE_GENERAL);
        ck_assert_msg(strcmp(mux_difference_path(pool, a, b), cases[i].want) ==
                          0,
                      "%s vs %s: got %s, want %s", cases[i].p1, cases[i].p2,
                      mux_difference_path(pool, a, b), cases[i].want);
    }
}
END_TEST

/* ---- registration (server_test.go TestRegisterErr and weft's lines) ----- */

START_TEST(register_errors)
{
    mux_t *m = mux_create(pool);

    ck_assert_ptr_null(mux_register(m, "/a", "f:2", nop, NULL));
    ck_assert_str_eq(mux_register(m, "/{x", "f:3", nop, NULL),
                     "invalid pattern \"/{x\": at offset 1: bad wildcard "
                     "segment (must end with '}')");
    ck_assert_str_eq(mux_register(m, "", "f:3", nop, NULL),
                     "invalid pattern \"\": empty pattern");
    /* The same pattern twice: Go's wording for equivalent patterns. */
    ck_assert_str_eq(mux_register(m, "/a", "f:4", nop, NULL),
                     "pattern \"/a\" (f:4) conflicts with pattern \"/a\" "
                     "(f:2): /a matches the same requests as /a");
    ck_assert_ptr_null(mux_register(m, "/a/b", "f:5", nop, NULL));
    ck_assert_str_eq(mux_register(m, "GET /a/{x}", "f:6", nop, NULL),
                     "pattern \"GET /a/{x}\" (f:6) conflicts with pattern "
                     "\"/a/b\" (f:5): GET /a/{x} matches fewer methods than "
                     "/a/b, but has a more general path pattern");
    ck_assert_ptr_null(mux_register(m, "/c/{x}", "f:7", nop, NULL));
    ck_assert_str_eq(
        mux_register(m, "/{y}/d", "f:8", nop, NULL),
        "pattern \"/{y}/d\" (f:8) conflicts with pattern \"/c/{x}\" (f:7): "
        "/{y}/d and /c/{x} both match some paths, like \"/c/d\". But neither "
        "is more specific than the other. /{y}/d matches \"/y/d\", but "
        "/c/{x} doesn't. /c/{x} matches \"/c/x\", but /{y}/d doesn't.");
    /* A refused pattern leaves nothing behind. */
    ck_assert_int_eq(m->patterns->nelts, 3);
}
END_TEST

START_TEST(register_conflict_same_requests)
{
    /* pattern_test.go TestRegisterConflict */
    mux_t *m = mux_create(pool);
    const char *why;

    ck_assert_ptr_null(mux_register(m, "/a/{x}/", "t:1", nop, NULL));
    why = mux_register(m, "/a/{y}/{z...}", "t:2", nop, NULL);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "matches the same requests as"));
}
END_TEST

/* The index narrows candidates: every kind of pattern still meets the one
 * it conflicts with among many unrelated ones. */
START_TEST(index_finds_conflicts_among_many)
{
    static const struct {
        const char *pattern, *with;
    } cases[] = {
        { "/r5/{id}", "/r5/{x}" },         /* literal then wildcard */
        { "/{a}/{b}", "/{x}/{y}" },        /* all wildcards */
        { "/r7/{id}/{$}", "/r7/{x}/{$}" }, /* dollar */
        { "/r9/{rest...}", "/r9/" },       /* multi */
        { "GET /m/{x}", "/m/new" },        /* methods */
        { "/r2/{x}/edit", "/{x}/1/edit" }, /* overlap */
    };
    int i, j;

    for (i = 0; i < N_OF(cases); i++) {
        mux_t *m = mux_create(pool);
        const char *why;
        for (j = 0; j < 200; j++) {
            ck_assert_ptr_null(mux_register(
                m, apr_psprintf(pool, "/r%d/list", j), "t:0", nop, NULL));
            ck_assert_ptr_null(mux_register(
                m, apr_psprintf(pool, "GET /r%d/{id}/x", j), "t:0", nop, NULL));
        }
        ck_assert_ptr_null(mux_register(m, cases[i].with, "t:1", nop, NULL));
        why = mux_register(m, cases[i].pattern, "t:2", nop, NULL);
        ck_assert_msg(why != NULL, "%s was not refused", cases[i].pattern);
        ck_assert_ptr_nonnull(
            strstr(why, apr_psprintf(pool, "conflicts with pattern %s (t:1)",
                                     mux_quote(pool, cases[i].with))));
    }
}
END_TEST

/* ---- the tree (routing_tree_test.go) ------------------------------------ */

typedef struct {
    const char *method, *host, *path;
    const char *want;   /* the pattern, "" for no match */
    const char *values; /* the values joined by '|' */
} match_case_t;

static void check_matches(mux_t *m, const match_case_t *cases, int n)
{
    int i, j;

    for (i = 0; i < n; i++) {
        mux_span_t spans[16];
        int nspans = -1;
        const mux_pattern_t *pat =
            mux_tree_match(m, pool, cases[i].host, cases[i].method,
                           cases[i].path, spans, &nspans);
        const char *got = pat ? pat->str : "", *vals = "";
        for (j = 0; j < nspans; j++)
            vals = apr_pstrcat(
                pool, vals, j ? "|" : "",
                mux_path_unescape(pool, spans[j].p, spans[j].n, NULL), NULL);
        ck_assert_msg(strcmp(got, cases[i].want) == 0,
                      "%s %s %s: got \"%s\", want \"%s\"", cases[i].method,
                      cases[i].host, cases[i].path, got, cases[i].want);
        ck_assert_msg(strcmp(vals, cases[i].values) == 0,
                      "%s %s %s: values \"%s\", want \"%s\"", cases[i].method,
                      cases[i].host, cases[i].path, vals, cases[i].values);
    }
}

START_TEST(tree_matches_like_go)
{
    static const char *const tree1[] = { "/a",       "/a/b",     "/a/{x}",
                                         "/g/h/i",   "/g/{x}/j", "/a/b/{x...}",
                                         "/a/b/{y}", "/a/b/{$}", NULL };
    static const match_case_t cases1[] = {
        { "GET", "", "/a", "/a", "" },
        { "Get", "", "/b", "", "" },
        { "Get", "", "/a/b", "/a/b", "" },
        { "Get", "", "/a/c", "/a/{x}", "c" },
        { "Get", "", "/a/b/", "/a/b/{$}", "" },
        { "Get", "", "/a/b/c", "/a/b/{y}", "c" },
        { "Get", "", "/a/b/c/d", "/a/b/{x...}", "c/d" },
        { "Get", "", "/g/h/i", "/g/h/i", "" },
        { "Get", "", "/g/h/j", "/g/{x}/j", "h" },
    };
    static const char *const tree2[] = { "/item/",
                                         "POST /item/{user}",
                                         "GET /item/{user}",
                                         "/item/{user}",
                                         "/item/{user}/{id}",
                                         "/item/{user}/new",
                                         "/item/{$}",
                                         "POST alt.com/item/{user}",
                                         "GET /headwins",
                                         "HEAD /headwins",
                                         "/path/{p...}",
                                         NULL };
    static const match_case_t cases2[] = {
        { "GET", "", "/item/jba", "GET /item/{user}", "jba" },
        { "POST", "", "/item/jba", "POST /item/{user}", "jba" },
        { "HEAD", "", "/item/jba", "GET /item/{user}", "jba" },
        { "get", "", "/item/jba", "/item/{user}", "jba" },
        { "POST", "", "/item/jba/17", "/item/{user}/{id}", "jba|17" },
        { "GET", "", "/item/jba/new", "/item/{user}/new", "jba" },
        { "GET", "", "/item/", "/item/{$}", "" },
        { "GET", "", "/item/jba/17/line2", "/item/", "" },
        { "POST", "alt.com", "/item/jba", "POST alt.com/item/{user}", "jba" },
        { "GET", "alt.com", "/item/jba", "GET /item/{user}", "jba" },
        { "GET", "", "/item", "", "" },
        { "GET", "", "/headwins", "GET /headwins", "" },
        { "HEAD", "", "/headwins", "HEAD /headwins", "" },
        { "GET", "", "/path/to/file", "/path/{p...}", "to/file" },
        { "GET", "", "/path/*", "/path/{p...}", "*" },
    };
    static const char *const dollar[] = { "/a/b/{$}", NULL };
    static const char *const single[] = { "/a/b/{w}", NULL };
    static const char *const multi[] = { "/a/b/{w...}", NULL };
    static const char *const all3[] = { "/a/b/{$}", "/a/b/{w}", "/a/b/{w...}",
                                        NULL };
    static const match_case_t dollar_cases[] = {
        { "GET", "", "/a/b", "", "" },
        { "GET", "", "/a/b/", "/a/b/{$}", "" },
        { "GET", "", "/a/b/c", "", "" },
        { "GET", "", "/a/b/c/d", "", "" },
    };
    static const match_case_t single_cases[] = {
        { "GET", "", "/a/b", "", "" },
        { "GET", "", "/a/b/", "", "" },
        { "GET", "", "/a/b/c", "/a/b/{w}", "c" },
        { "GET", "", "/a/b/c/d", "", "" },
    };
    static const match_case_t multi_cases[] = {
        { "GET", "", "/a/b", "", "" },
        { "GET", "", "/a/b/", "/a/b/{w...}", "" },
        { "GET", "", "/a/b/c", "/a/b/{w...}", "c" },
        { "GET", "", "/a/b/c/d", "/a/b/{w...}", "c/d" },
    };
    static const match_case_t all3_cases[] = {
        { "GET", "", "/a/b", "", "" },
        { "GET", "", "/a/b/", "/a/b/{$}", "" },
        { "GET", "", "/a/b/c", "/a/b/{w}", "c" },
        { "GET", "", "/a/b/c/d", "/a/b/{w...}", "c/d" },
    };

    check_matches(build(tree1), cases1, N_OF(cases1));
    check_matches(build(tree2), cases2, N_OF(cases2));
    check_matches(build(dollar), dollar_cases, N_OF(dollar_cases));
    check_matches(build(single), single_cases, N_OF(single_cases));
    check_matches(build(multi), multi_cases, N_OF(multi_cases));
    check_matches(build(all3), all3_cases, N_OF(all3_cases));
}
END_TEST

/* Go's TestRoutingFirstSegment, through what the tree matches: a segment
 * is unescaped alone, so %2F stays inside it. */
START_TEST(tree_unescapes_per_segment)
{
    static const char *const pats[] = { "/{a}/{b}/{c}", "/one/{x}", "/a%2Fb",
                                        "/lit/%7B%7D", NULL };
    static const match_case_t cases[] = {
        { "GET", "", "/a/%62/c", "/{a}/{b}/{c}", "a|b|c" },
        { "GET", "", "/one/a%2Fb%2fc", "/one/{x}", "a/b/c" },
        { "GET", "", "/a%2Fb", "/a%2Fb", "" },
        { "GET", "", "/a%2fb", "/a%2Fb", "" },
        { "GET", "", "/a/b", "", "" },
        { "GET", "", "/lit/%7b%7d", "/lit/%7B%7D", "" },
        { "GET", "", "/one/100%25", "/one/{x}", "100%" },
    };

    check_matches(build(pats), cases, N_OF(cases));
}
END_TEST

/* Many literal siblings go through the node's hash table. */
START_TEST(tree_hashes_many_siblings)
{
    mux_t *m = mux_create(pool);
    int i;

    for (i = 0; i < 500; i++) {
        ck_assert_ptr_null(mux_register(
            m, apr_psprintf(pool, "GET /api/r%d/{id}", i), "t", nop, NULL));
        ck_assert_ptr_null(mux_register(
            m, apr_psprintf(pool, "/api/r%d/{id}/s%d", i, i), "t", nop, NULL));
    }
    ck_assert_ptr_null(mux_register(m, "/api/{any}/", "t", nop, NULL));
    for (i = 0; i < 500; i++) {
        match_case_t c[3] = {
            { "GET", "", apr_psprintf(pool, "/api/r%d/7", i),
              apr_psprintf(pool, "GET /api/r%d/{id}", i), "7" },
            { "PUT", "", apr_psprintf(pool, "/api/r%d/8/s%d", i, i),
              apr_psprintf(pool, "/api/r%d/{id}/s%d", i, i), "8" },
            { "PUT", "", apr_psprintf(pool, "/api/r%d/8", i), "/api/{any}/",
              "" },
        };
        c[2].values = apr_psprintf(pool, "r%d", i);
        check_matches(m, c, 3);
    }
}
END_TEST

START_TEST(allowed_methods_like_go)
{
    static const char *const post[] = { "POST /", NULL };
    static const char *const get[] = { "GET /", NULL };
    static const char *const hosts[] = { "GET a.com/", "PUT b.com/",
                                         "POST /foo/{x}", NULL };
    static const char *const root[] = { "/", NULL };

    ck_assert_str_eq(mux_allowed_methods(build(post), pool, "", "/foo"),
                     "POST");
    ck_assert_str_eq(mux_allowed_methods(build(get), pool, "", "/foo"),
                     "GET, HEAD");
    ck_assert_str_eq(mux_allowed_methods(build(hosts), pool, "", "/foo"), "");
    ck_assert_str_eq(mux_allowed_methods(build(hosts), pool, "", "/foo/bar"),
                     "POST");
    ck_assert_str_eq(
        mux_allowed_methods(build(hosts), pool, "a.com", "/foo/bar"),
        "GET, HEAD, POST");
    ck_assert_str_eq(mux_allowed_methods(build(hosts), pool, "b.com", "/bar"),
                     "PUT");
    ck_assert_str_eq(mux_allowed_methods(build(root), pool, "", "/"), "");
}
END_TEST

/* ---- paths and hosts ----------------------------------------------------- */

START_TEST(cleans_paths_like_go)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        /* server_test.go TestCleanPath */
        { "//", "/" },
        { "/x", "/x" },
        { "//x", "/x" },
        { "x//", "/x/" },
        { "a//b/////c", "/a/b/c" },
        { "/foo/../bar/./..//baz", "/baz" },
        /* weft's own */
        { "", "/" },
        { "/", "/" },
        { "/a/", "/a/" },
        { "/a/.", "/a" },
        { "/a/./", "/a/" },
        { "/a/..", "/" },
        { "/..", "/" },
        { "/../a/", "/a/" },
        { "/a/b/../../..", "/" },
        { "/.a/..b/...", "/.a/..b/..." },
        { "/a//", "/a/" },
    };
    int i;

    for (i = 0; i < N_OF(cases); i++)
        ck_assert_msg(
            strcmp(mux_clean_path(pool, cases[i].in), cases[i].want) == 0,
            "%s: got %s, want %s", cases[i].in,
            mux_clean_path(pool, cases[i].in), cases[i].want);
    /* A clean path comes back as it is: no copy per request. */
    {
        const char *p = "/a/b/";
        ck_assert_ptr_eq(mux_clean_path(pool, p), p);
    }
}
END_TEST

START_TEST(strips_ports_like_go)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        { "example.com", "example.com" },
        { "example.com:8080", "example.com" },
        { "example.com:", "example.com" },
        { "[::1]:8080", "::1" },
        { "[::1]", "[::1]" },   /* missing port: unchanged */
        { "a:b:c", "a:b:c" },   /* too many colons */
        { "[a]b:1", "[a]b:1" }, /* ']' not before the last ':' */
        { "a[b:1", "a[b:1" },   /* unexpected '[' */
        { "", "" },
    };
    int i;

    for (i = 0; i < N_OF(cases); i++)
        ck_assert_str_eq(mux_strip_host_port(pool, cases[i].in), cases[i].want);
}
END_TEST

START_TEST(url_helpers_like_go)
{
    ck_assert_str_eq(mux_escaped_path(pool, "/a%2fb", "/a/b"), "/a%2fb");
    ck_assert_str_eq(mux_escaped_path(pool, "/{x}", "/{x}"), "/%7Bx%7D");
    ck_assert_str_eq(mux_escaped_path(pool, "/caf\xc3\xa9", "/caf\xc3\xa9"),
                     "/caf%C3%A9");
    ck_assert_str_eq(mux_escaped_path(pool, "/a!$&'()*+,;=:@[]", "x"),
                     "/a!$&'()*+,;=:@[]");
    ck_assert_str_eq(mux_url_string(pool, "/a b?/", "x=1"), "/a%20b%3F/?x=1");
    ck_assert_str_eq(mux_url_string(pool, "/a", ""), "/a");
    ck_assert_str_eq(mux_url_string(pool, "/a!", NULL), "/a%21");
    ck_assert_str_eq(mux_redirect_url(pool, "/a/./b/?q=/../"), "/a/b/?q=/../");
    ck_assert_str_eq(mux_redirect_url(pool, "//?q"), "/?q");
    ck_assert_str_eq(mux_redirect_url(pool, "//evil.com/"), "//evil.com/");
    ck_assert_str_eq(mux_html_escape(pool, "/a?x=1&y='<\">'"),
                     "/a?x=1&amp;y=&#39;&lt;&#34;&gt;&#39;");
    ck_assert_str_eq(mux_path_unescape(pool, "a%2Fb%zz", 8, NULL), "a%2Fb%zz");
    ck_assert_str_eq(mux_path_unescape(pool, "a%2Fb+", 6, NULL), "a/b+");
    ck_assert_str_eq(mux_path_unescape(pool, "a%2", 3, NULL), "a%2");
}
END_TEST

/* ---- findHandler --------------------------------------------------------- */

/* What the mux does for one request, as one line:
 *   "found PATTERN [v1|v2]", "redirect LOCATION (PATTERN)",
 *   "405 ALLOW", "404", "400". */
static const char *route(const mux_t *m, const char *method, const char *host,
                         const char *target)
{
    mux_request_t rq;
    mux_result_t res;
    const char *q = strchr(target, '?'), *raw, *vals = "";
    char *path;
    int i;

    memset(&rq, 0, sizeof(rq));
    rq.method = method;
    rq.uri = target;
    rq.host = host;
    raw = q != NULL ? apr_pstrmemdup(pool, target, (apr_size_t)(q - target))
                    : target;
    rq.query = q != NULL ? q + 1 : NULL;
    /* As weft's request line parser gives it: decoded, escapes checked. */
    path = apr_pstrdup(pool, mux_path_unescape(pool, raw, strlen(raw), NULL));
    rq.raw_path = raw;
    rq.path = path;
    rq.url_host = "";
    mux_find(m, pool, &rq, &res);
    switch (res.outcome) {
    case MUX_FOUND:
        for (i = 0; i < res.pattern->nnames; i++)
            vals = apr_pstrcat(pool, vals, i ? "|" : " ", res.values[i], NULL);
        ck_assert_str_eq(res.pattern_str, res.pattern->str);
        return apr_psprintf(pool, "found %s%s", res.pattern->str, vals);
    case MUX_REDIRECT:
        return apr_psprintf(pool, "redirect %s (%s)", res.location,
                            res.pattern_str);
    case MUX_NOT_ALLOWED:
        ck_assert_str_eq(res.pattern_str, "");
        return apr_psprintf(pool, "405 %s", res.allow);
    case MUX_NOT_FOUND:
        ck_assert_str_eq(res.pattern_str, "");
        return "404";
    case MUX_BAD_REQUEST:
        return "400";
    }
    return "?";
}

typedef struct {
    const char *method, *host, *target, *want;
} route_case_t;

static void check_routes(const mux_t *m, const route_case_t *cases, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        const char *got =
            route(m, cases[i].method, cases[i].host, cases[i].target);
        ck_assert_msg(strcmp(got, cases[i].want) == 0,
                      "%s %s %s: got \"%s\", want \"%s\"", cases[i].method,
                      cases[i].host, cases[i].target, got, cases[i].want);
    }
}

START_TEST(finds_handlers_like_go)
{
    /* server_test.go TestFindHandler */
    static const char *const pats[] = { "/",     "/foo/", "/foo",
                                        "/bar/", "//foo", NULL };
    static const route_case_t cases[] = {
        { "GET", "example.com", "/", "found /" },
        { "GET", "example.com", "//", "redirect / (/)" },
        { "GET", "example.com", "/foo/../bar/./..//baz", "redirect /baz (/)" },
        { "GET", "example.com", "/foo", "found /foo" },
        { "GET", "example.com", "/foo/x", "found /foo/" },
        { "GET", "example.com", "/bar/x", "found /bar/" },
        { "GET", "example.com", "/bar", "redirect /bar/ (/bar/)" },
        { "CONNECT", "example.com", "/", "found /" },
        { "CONNECT", "example.com", "//", "found /" },
        { "CONNECT", "example.com", "//foo", "found //foo" },
        { "CONNECT", "example.com", "/foo/../bar/./..//baz", "found /foo/" },
        { "CONNECT", "example.com", "/foo", "found /foo" },
        { "CONNECT", "example.com", "/foo/x", "found /foo/" },
        { "CONNECT", "example.com", "/bar/x", "found /bar/" },
        { "CONNECT", "example.com", "/bar", "redirect /bar/ (/bar/)" },
    };

    check_routes(build(pats), cases, N_OF(cases));
}
END_TEST

START_TEST(serve_mux_handler_like_go)
{
    /* serve_test.go serveMuxRegister and serveMuxTests */
    static const char *const pats[] = { "/dir/",
                                        "/search",
                                        "codesearch.google.com/search",
                                        "codesearch.google.com/",
                                        "example.com/",
                                        NULL };
    static const route_case_t cases[] = {
        { "GET", "google.com", "/", "404" },
        { "GET", "google.com", "/dir", "redirect /dir/ (/dir/)" },
        { "GET", "google.com", "/dir/", "found /dir/" },
        { "GET", "google.com", "/dir/file", "found /dir/" },
        { "GET", "google.com", "/search", "found /search" },
        { "GET", "google.com", "/search/", "404" },
        { "GET", "google.com", "/search/foo", "404" },
        { "GET", "codesearch.google.com", "/search",
          "found codesearch.google.com/search" },
        { "GET", "codesearch.google.com", "/search/",
          "found codesearch.google.com/" },
        { "GET", "codesearch.google.com", "/search/foo",
          "found codesearch.google.com/" },
        { "GET", "codesearch.google.com", "/", "found codesearch.google.com/" },
        { "GET", "codesearch.google.com:443", "/",
          "found codesearch.google.com/" },
        { "GET", "images.google.com", "/search", "found /search" },
        { "GET", "images.google.com", "/search/", "404" },
        { "GET", "images.google.com", "/search/foo", "404" },
        { "GET", "google.com", "/../search", "redirect /search (/search)" },
        { "GET", "google.com", "/dir/..", "redirect / ()" },
        { "GET", "google.com", "/dir/./file", "redirect /dir/file (/dir/)" },
        /* The /foo -> /foo/ redirect applies to CONNECT requests, but the
         * path canonicalization does not. */
        { "CONNECT", "google.com", "/dir", "redirect /dir/ (/dir/)" },
        { "CONNECT", "google.com", "/../search", "404" },
        { "CONNECT", "google.com", "/dir/..", "found /dir/" },
        { "CONNECT", "google.com", "/dir/./file", "found /dir/" },
        /* serveMuxTests2 and TestServeMuxHandlerRedirects: queries stay */
        { "GET", "example.com", "/test/?example.com/test/",
          "found example.com/" },
    };

    check_routes(build(pats), cases, N_OF(cases));
}
END_TEST

START_TEST(redirects_keep_the_query)
{
    /* serve_test.go TestServeWithSlashRedirectKeepsQueryString */
    static const char *const pats[] = { "/testOne", "/testTwo/", "/testThree",
                                        "/testThree/", NULL };
    static const route_case_t cases[] = {
        { "GET", "t", "/testOne?this=that", "found /testOne" },
        { "GET", "t", "/testTwo?foo=bar",
          "redirect /testTwo/?foo=bar (/testTwo/)" },
        { "GET", "t", "/testTwo?a=1&b=2&a=3",
          "redirect /testTwo/?a=1&b=2&a=3 (/testTwo/)" },
        { "GET", "t", "/testTwo?", "redirect /testTwo/ (/testTwo/)" },
        { "GET", "t", "/testThree?foo", "found /testThree" },
        { "GET", "t", "/testThree/?foo", "found /testThree/" },
        { "CONNECT", "t", "/testThree?foo", "found /testThree" },
        { "CONNECT", "t", "/testThree/?foo", "found /testThree/" },
        { "GET", "t", "/testOne/foo/..?foo",
          "redirect /testOne?foo (/testOne)" },
        { "CONNECT", "t", "/testOne/foo/..?foo", "404" },
    };

    check_routes(build(pats), cases, N_OF(cases));
}
END_TEST

START_TEST(redirects_for_host_patterns_like_go)
{
    /* serve_test.go TestServeWithSlashRedirectForHostPatterns: the client
     * sent absolute URLs, so a CONNECT's URL.Host is its Host. */
    static const char *const pats[] = { "example.com/pkg/foo/",
                                        "example.com/pkg/bar",
                                        "example.com/pkg/bar/",
                                        "example.com:3000/pkg/connect/",
                                        "example.com:9000/",
                                        "/pkg/baz/",
                                        NULL };
    static const struct {
        const char *method, *host, *path, *want;
    } cases[] = {
        { "GET", "example.com", "/", "404" },
        { "GET", "example.com", "/pkg/foo",
          "redirect /pkg/foo/ (example.com/pkg/foo/)" },
        { "GET", "example.com", "/pkg/bar", "found example.com/pkg/bar" },
        { "GET", "example.com", "/pkg/bar/", "found example.com/pkg/bar/" },
        { "GET", "example.com", "/pkg/baz", "redirect /pkg/baz/ (/pkg/baz/)" },
        { "GET", "example.com:3000", "/pkg/foo",
          "redirect /pkg/foo/ (example.com/pkg/foo/)" },
        { "CONNECT", "example.com", "/", "404" },
        { "CONNECT", "example.com:3000", "/", "404" },
        { "CONNECT", "example.com:9000", "/", "found example.com:9000/" },
        { "CONNECT", "example.com", "/pkg/foo",
          "redirect /pkg/foo/ (example.com/pkg/foo/)" },
        { "CONNECT", "example.com:3000", "/pkg/foo", "404" },
        { "CONNECT", "example.com:3000", "/pkg/baz",
          "redirect /pkg/baz/ (/pkg/baz/)" },
        { "CONNECT", "example.com:3000", "/pkg/connect",
          "redirect /pkg/connect/ (example.com:3000/pkg/connect/)" },
    };
    mux_t *m = build(pats);
    int i;

    for (i = 0; i < N_OF(cases); i++) {
        mux_request_t rq;
        mux_result_t res;
        const char *got;
        memset(&rq, 0, sizeof(rq));
        rq.method = cases[i].method;
        rq.uri =
            apr_pstrcat(pool, "http://", cases[i].host, cases[i].path, NULL);
        rq.host = rq.url_host = cases[i].host;
        rq.path = rq.raw_path = cases[i].path;
        mux_find(m, pool, &rq, &res);
        got = res.outcome == MUX_FOUND
                  ? apr_psprintf(pool, "found %s", res.pattern->str)
              : res.outcome == MUX_REDIRECT
                  ? apr_psprintf(pool, "redirect %s (%s)", res.location,
                                 res.pattern_str)
              : res.outcome == MUX_NOT_FOUND ? "404"
                                             : "other";
        ck_assert_msg(strcmp(got, cases[i].want) == 0,
                      "#%d %s %s%s: got \"%s\", want \"%s\"", i,
                      cases[i].method, cases[i].host, cases[i].path, got,
                      cases[i].want);
    }
}
END_TEST

START_TEST(method_not_allowed_like_go)
{
    /* request_test.go TestStatus, and the trailing-slash fixes */
    static const char *const pats[] = { "GET /g", "POST /p", "PATCH /p",
                                        "PUT /r", "GET /r/", NULL };
    static const route_case_t cases[] = {
        { "GET", "t", "/g", "found GET /g" },
        { "HEAD", "t", "/g", "found GET /g" },
        { "POST", "t", "/g", "405 GET, HEAD" },
        { "GET", "t", "/x", "404" },
        { "GET", "t", "/p", "405 PATCH, POST" },
        { "GET", "t", "/./p", "redirect /p ()" },
        { "GET", "t", "/r/", "found GET /r/" },
        { "GET", "t", "/r", "redirect /r/ (GET /r/)" },
        { "HEAD", "t", "/r/", "found GET /r/" },
        { "HEAD", "t", "/r", "redirect /r/ (GET /r/)" },
        { "PUT", "t", "/r/", "405 GET, HEAD" },
        { "PUT", "t", "/r", "found PUT /r" },
    };
    static const char *const slash[] = { "/{x}/", NULL };
    static const char *const get_slash[] = { "GET /{x}/", NULL };
    static const route_case_t slash_cases[] = {
        /* TestMuxNoSlashRedirectWithTrailingSlash (issue 65624) */
        { "GET", "t", "/", "404" },
        /* TestServeMuxHandlerTrailingSlash (issue 73688): the redirect
         * reports the pattern it leads to */
        { "POST", "t", "/foo", "redirect /foo/ (/{x}/)" },
    };
    static const route_case_t get_slash_cases[] = {
        /* TestMuxNoSlash405WithTrailingSlash (issue 67657) */
        { "GET", "t", "/", "404" },
        { "POST", "t", "/a/", "405 GET, HEAD" },
    };

    check_routes(build(pats), cases, N_OF(cases));
    check_routes(build(slash), slash_cases, N_OF(slash_cases));
    check_routes(build(get_slash), get_slash_cases, N_OF(get_slash_cases));
}
END_TEST

START_TEST(escaped_paths_and_patterns_like_go)
{
    /* server_test.go TestEscapedPathsAndPatterns */
    static const char *const pats[] = { "/a", "/%62", "/%7B/%7D", "/%x", NULL };
    static const route_case_t cases[] = {
        { "GET", "", "/a", "found /a" },
        { "GET", "", "/%61", "found /a" },
        { "GET", "", "/b", "found /%62" },
        { "GET", "", "/%62", "found /%62" },
        { "GET", "", "/{/}", "found /%7B/%7D" },
        { "GET", "", "/%7b/}", "found /%7B/%7D" },
        { "GET", "", "/{/%7d", "found /%7B/%7D" },
        { "GET", "", "/%7B/%7D", "found /%7B/%7D" },
        { "GET", "", "/%25x", "found /%x" },
    };

    check_routes(build(pats), cases, N_OF(cases));
}
END_TEST

START_TEST(path_values_like_go)
{
    /* request_test.go TestPathValueAndPattern */
    static const char *const p1[] = { "/{a}/is/{b}/{c...}", NULL };
    static const char *const p2[] = { "/names/{name}/{other...}", NULL };
    static const route_case_t c1[] = {
        { "GET", "", "/now/is/the/time/for/all",
          "found /{a}/is/{b}/{c...} now|the|time/for/all" },
    };
    static const route_case_t c2[] = {
        { "GET", "", "/names/%2fjohn/address",
          "found /names/{name}/{other...} /john|address" },
        { "GET", "", "/names/john%2Fdoe/there/is%2F/more",
          "found /names/{name}/{other...} john/doe|there/is//more" },
        { "GET", "", "/names/n/*", "found /names/{name}/{other...} n|*" },
    };

    check_routes(build(p1), c1, N_OF(c1));
    check_routes(build(p2), c2, N_OF(c2));
}
END_TEST

START_TEST(hosts_win_and_ports_are_stripped)
{
    static const char *const pats[] = {
        "/{x}", "/a/b", "example.com/a/", "GET example.com/b", "/c/", NULL
    };
    static const route_case_t cases[] = {
        { "GET", "example.com", "/z", "found /{x} z" },
        /* a host pattern wins even over a more specific host-less one */
        { "GET", "example.com", "/a/b", "found example.com/a/" },
        { "GET", "example.com:8080", "/a/b", "found example.com/a/" },
        { "GET", "EXAMPLE.com", "/a/b", "found /a/b" }, /* exact hosts */
        { "GET", "other.com", "/a/b", "found /a/b" },
        { "GET", "other.com", "/a/c", "404" },
        /* "/{x}" matches "/a" exactly: no trailing-slash redirect */
        { "GET", "example.com", "/a", "found /{x} a" },
        { "GET", "example.com", "/a/", "found example.com/a/" },
        { "GET", "example.com", "/c/d", "found /c/" },
        { "HEAD", "example.com", "/b", "found GET example.com/b" },
        /* no method matches: the host-less patterns are tried */
        { "POST", "example.com", "/b", "found /{x} b" },
    };

    check_routes(build(pats), cases, N_OF(cases));
}
END_TEST

START_TEST(dollar_and_multi)
{
    static const char *const pats[] = { "/{$}", "/files/{path...}",
                                        "/files/{$}", "GET /static/", NULL };
    static const route_case_t cases[] = {
        { "GET", "", "/", "found /{$}" },
        { "GET", "", "/x", "404" },
        { "GET", "", "/files/", "found /files/{$}" },
        { "GET", "", "/files/a/b%20c", "found /files/{path...} a/b c" },
        { "GET", "", "/files", "redirect /files/ (/files/{$})" },
        { "GET", "", "/static/css/x.css", "found GET /static/" },
        { "GET", "", "/static", "redirect /static/ (GET /static/)" },
        { "POST", "", "/static/x", "405 GET, HEAD" },
        { "GET", "", "*", "400" },
    };

    check_routes(build(pats), cases, N_OF(cases));
}
END_TEST

START_TEST(redirect_urls_like_go)
{
    static const char *const root[] = { "/", NULL };
    static const route_case_t cases[] = {
        /* serve_test.go TestMuxRedirectLeadingSlashes */
        { "GET", "test", "//foo.txt", "redirect /foo.txt (/)" },
        { "GET", "test", "///foo.txt", "redirect /foo.txt (/)" },
        { "GET", "test", "/../../foo.txt", "redirect /foo.txt (/)" },
        /* Go builds the cleaned URL from the escaped path and escapes it
         * again (golang/go#79897) */
        { "GET", "test", "//a%20b?x=%20", "redirect /a%2520b?x=%20 (/)" },
        { "GET", "test", "//a%2Fb", "redirect /a%252Fb (/)" },
    };
    mux_t *empty = mux_create(pool);

    check_routes(build(root), cases, N_OF(cases));
    /* An empty mux answers the same redirects (mod_mux itself answers 404
     * for everything while it has no pattern). */
    ck_assert_str_eq(route(empty, "GET", "t", "//foo.txt"),
                     "redirect /foo.txt ()");
    ck_assert_str_eq(route(empty, "GET", "t", "/foo.txt"), "404");
}
END_TEST

START_TEST(trailing_slash_redirect_escapes_the_path)
{
    /* The trailing-slash redirect is built from the decoded path, so it
     * escapes it once (and a %2F becomes a real slash, as in Go). */
    static const char *const pats[] = { "/a%20b/", "/x%2Fy/", "/q?/", NULL };
    static const route_case_t cases[] = {
        { "GET", "t", "/a%20b", "redirect /a%20b/ (/a%20b/)" },
        { "GET", "t", "/x%2Fy", "redirect /x/y/ (/x%2Fy/)" },
        { "GET", "t", "/q%3F", "redirect /q%3F/ (/q?/)" },
    };

    check_routes(build(pats), cases, N_OF(cases));
}
END_TEST

/* Routing allocates nothing for a clean path without escapes beyond the
 * values it returns. */
START_TEST(routing_is_frugal)
{
    static const char *const pats[] = { "GET /users/{id}", "/static/", NULL };
    mux_t *m = build(pats);
    apr_pool_t *rp;
    mux_request_t rq;
    mux_result_t res;
    apr_size_t before, after;

    apr_pool_create(&rp, pool);
    memset(&rq, 0, sizeof(rq));
    rq.method = "GET";
    rq.uri = rq.path = rq.raw_path = "/static/a/b";
    rq.host = "example.com";
    rq.url_host = "";
    /* A fresh pool's first allocation shows whether anything came
     * before it. */
    before = (apr_size_t)apr_palloc(rp, 1);
    mux_find(m, rp, &rq, &res);
    after = (apr_size_t)apr_palloc(rp, 1);
    ck_assert_int_eq(res.outcome, MUX_FOUND);
    /* values array of one slot: at most a few bytes */
    ck_assert_msg(after - before <= 64, "routing took %lu bytes",
                  (unsigned long)(after - before));
    apr_pool_destroy(rp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mux");
    TCase *tp = tcase_create("patterns");
    TCase *tr = tcase_create("registration");
    TCase *tt = tcase_create("tree");
    TCase *tf = tcase_create("findHandler");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tp, setup, teardown);
    tcase_add_loop_test(tp, parses_like_go, 0, N_OF(parse_cases));
    tcase_add_loop_test(tp, refuses_like_go, 0, N_OF(bad_cases));
    tcase_add_test(tp, names_in_order);
    tcase_add_test(tp, quotes_like_go);
    tcase_add_loop_test(tp, compares_methods_like_go, 0, N_OF(method_cases));
    tcase_add_loop_test(tp, compares_paths_like_go, 0, N_OF(path_cases));
    tcase_add_loop_test(tp, conflicts_like_go, 0, N_OF(conflict_cases));
    tcase_add_test(tp, describes_conflicts_like_go);
    tcase_add_test(tp, common_paths_like_go);
    tcase_add_test(tp, difference_paths_like_go);
    suite_add_tcase(s, tp);

    tcase_add_checked_fixture(tr, setup, teardown);
    tcase_add_test(tr, register_errors);
    tcase_add_test(tr, register_conflict_same_requests);
    tcase_add_test(tr, index_finds_conflicts_among_many);
    suite_add_tcase(s, tr);

    tcase_add_checked_fixture(tt, setup, teardown);
    tcase_add_test(tt, tree_matches_like_go);
    tcase_add_test(tt, tree_unescapes_per_segment);
    tcase_add_test(tt, tree_hashes_many_siblings);
    tcase_add_test(tt, allowed_methods_like_go);
    suite_add_tcase(s, tt);

    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_add_test(tf, cleans_paths_like_go);
    tcase_add_test(tf, strips_ports_like_go);
    tcase_add_test(tf, url_helpers_like_go);
    tcase_add_test(tf, finds_handlers_like_go);
    tcase_add_test(tf, serve_mux_handler_like_go);
    tcase_add_test(tf, redirects_keep_the_query);
    tcase_add_test(tf, redirects_for_host_patterns_like_go);
    tcase_add_test(tf, method_not_allowed_like_go);
    tcase_add_test(tf, escaped_paths_and_patterns_like_go);
    tcase_add_test(tf, path_values_like_go);
    tcase_add_test(tf, hosts_win_and_ports_are_stripped);
    tcase_add_test(tf, dollar_and_multi);
    tcase_add_test(tf, redirect_urls_like_go);
    tcase_add_test(tf, trailing_slash_redirect_escapes_the_path);
    tcase_add_test(tf, routing_is_frugal);
    suite_add_tcase(s, tf);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
