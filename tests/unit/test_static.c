/*
 * test_static.c -- mod_static's pure parts against Go's answers: path
 * cleaning and StripPrefix, HTTP dates, preconditions (fs_test.go's
 * TestServeContent), parseRange (range_test.go), the multipart layout,
 * dirList's page, the MIME table, and opening files confined to a root.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <apr_strings.h>

#include "static.h"
#include "weft_test.h"

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
    wt_cleanup();
}

/* ---- request paths ---------------------------------------------------- */

START_TEST(unescape_keeps_nul_bytes)
{
    apr_size_t n = 0;
    const char *s;

    s = static_unescape(pool, "/a%00b", &n);
    ck_assert_uint_eq(n, 4);
    ck_assert_mem_eq(s, "/a\0b", 4);
    s = static_unescape(pool, "/a%2fb%2F%2e%2E", &n);
    ck_assert_str_eq(s, "/a/b/..");
    ck_assert_uint_eq(n, 7);
    s = static_unescape(pool, "/plain+path", &n);
    ck_assert_str_eq(s, "/plain+path"); /* '+' stays: Go's encodePath */
    ck_assert_ptr_null(static_unescape(pool, "/a%zz", &n));
    ck_assert_ptr_null(static_unescape(pool, "/a%4", &n));
    ck_assert_ptr_null(static_unescape(pool, "/a%", &n));
}
END_TEST

/* path_test.go's cleantests, and each result cleans to itself. */
START_TEST(clean_like_go)
{
    static const char *const t[][2] = {
        { "", "." },
        { "abc", "abc" },
        { "abc/def", "abc/def" },
        { "a/b/c", "a/b/c" },
        { ".", "." },
        { "..", ".." },
        { "../..", "../.." },
        { "../../abc", "../../abc" },
        { "/abc", "/abc" },
        { "/", "/" },
        { "abc/", "abc" },
        { "abc/def/", "abc/def" },
        { "a/b/c/", "a/b/c" },
        { "./", "." },
        { "../", ".." },
        { "../../", "../.." },
        { "/abc/", "/abc" },
        { "abc//def//ghi", "abc/def/ghi" },
        { "//abc", "/abc" },
        { "///abc", "/abc" },
        { "//abc//", "/abc" },
        { "abc//", "abc" },
        { "abc/./def", "abc/def" },
        { "/./abc/def", "/abc/def" },
        { "abc/.", "abc" },
        { "abc/def/ghi/../jkl", "abc/def/jkl" },
        { "abc/def/../ghi/../jkl", "abc/jkl" },
        { "abc/def/..", "abc" },
        { "abc/def/../..", "." },
        { "/abc/def/../..", "/" },
        { "abc/def/../../..", ".." },
        { "/abc/def/../../..", "/" },
        { "abc/def/../../../ghi/jkl/../../../mno", "../../mno" },
        { "abc/./../def", "def" },
        { "abc//./../def", "def" },
        { "abc/../../././../def", "../../def" },
        /* what a request can carry: never above the root */
        { "/../../etc/passwd", "/etc/passwd" },
        { "/a/..%2f/b", "/a/..%2f/b" },
    };
    int i;

    for (i = 0; i < N_OF(t); i++) {
        ck_assert_msg(strcmp(static_path_clean(pool, t[i][0]), t[i][1]) == 0,
                      "Clean(%s) = %s, want %s", t[i][0],
                      static_path_clean(pool, t[i][0]), t[i][1]);
        ck_assert_str_eq(static_path_clean(pool, t[i][1]), t[i][1]);
    }
}
END_TEST

START_TEST(base_like_go)
{
    static const char *const t[][2] = {
        { "", "." },        { ".", "." },         { "/.", "." },
        { "/", "/" },       { "////", "/" },      { "x/", "x" },
        { "abc", "abc" },   { "abc/def", "def" }, { "a/b/.x", ".x" },
        { "a/b/c.", "c." }, { "a/b/c.x", "c.x" },
    };
    int i;

    for (i = 0; i < N_OF(t); i++)
        ck_assert_str_eq(static_path_base(pool, t[i][0]), t[i][1]);
}
END_TEST

/* http.StripPrefix: Path and (when Go keeps it) RawPath must both lose
 * the prefix. */
START_TEST(strip_prefix_like_go)
{
    ck_assert_str_eq(
        static_strip_prefix(pool, "/assets/a.css", "/assets/a.css", "/assets"),
        "/a.css");
    ck_assert_str_eq(
        static_strip_prefix(pool, "/assets/", "/assets/", "/assets"), "/");
    ck_assert_str_eq(static_strip_prefix(pool, "/assets", "/assets", "/assets"),
                     "");
    ck_assert_ptr_null(
        static_strip_prefix(pool, "/other/a", "/other/a", "/assets"));
    /* Escapes the default encoding would write: RawPath is "". */
    ck_assert_str_eq(
        static_strip_prefix(pool, "/assets/a b", "/assets/a%20b", "/assets"),
        "/a b");
    /* An escaped prefix: Go keeps RawPath, which lacks the prefix. */
    ck_assert_ptr_null(
        static_strip_prefix(pool, "/assets/x", "/%61ssets/x", "/assets"));
    /* An escaped slash after the prefix: RawPath kept, and has it. */
    ck_assert_str_eq(
        static_strip_prefix(pool, "/assets/a/b", "/assets/a%2Fb", "/assets"),
        "/a/b");
    /* StripPrefix("") is the handler itself. */
    ck_assert_str_eq(static_strip_prefix(pool, "/x", "/x", ""), "/x");
}
END_TEST

/* url.URL{Path: name}.String() as dirList uses it. */
START_TEST(url_path_like_go)
{
    ck_assert_str_eq(static_url_path(pool, "a b.txt"), "a%20b.txt");
    ck_assert_str_eq(static_url_path(pool, "q?#x"), "q%3F%23x");
    ck_assert_str_eq(static_url_path(pool, "a:b"), "./a:b");
    ck_assert_str_eq(static_url_path(pool, "dir/a:b"), "dir/a:b");
    ck_assert_str_eq(static_url_path(pool, "a&b=c;d,e@f$g+h~i"),
                     "a&b=c;d,e@f$g+h~i");
    ck_assert_str_eq(static_url_path(pool, "<\"'>%"), "%3C%22%27%3E%25");
    ck_assert_str_eq(static_url_path(pool, "\xc3\xa9"), "%C3%A9");
    ck_assert_str_eq(static_escape_path(pool, "/x/y z/"), "/x/y%20z/");
}
END_TEST

/* ---- dates ------------------------------------------------------------ */

START_TEST(http_date_format_like_go)
{
    char buf[32], want[32];
    apr_int64_t t;

    static_http_date(buf, 0);
    ck_assert_str_eq(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
    static_http_date(buf, 784111777);
    ck_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    static_http_date(buf, 951782400); /* a leap day */
    ck_assert_str_eq(buf, "Tue, 29 Feb 2000 00:00:00 GMT");
    /* Against the C library over six decades and back again. */
    for (t = 0; t < 4102444800LL; t += 7777777) {
        time_t tt = (time_t)t;
        struct tm tm;
        apr_int64_t back = -1;
        gmtime_r(&tt, &tm);
        strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        static_http_date(buf, t);
        ck_assert_str_eq(buf, want);
        ck_assert(static_parse_http_date(buf, &back));
        ck_assert(back == t);
    }
}
END_TEST

/* header_test.go's parseTimeTests, and the corners of Go's layouts. */
START_TEST(http_date_parse_like_go)
{
    static const char *const good[] = {
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Sun Nov 6 08:49:37 1994",           /* _2 takes one digit */
        "sun, 06 nov 1994 08:49:37 GMT",     /* names case-insensitive */
        "Sun, 06 Nov 1994 8:49:37 GMT",      /* the hour may be one digit */
        "Sun,  06 Nov 1994 08:49:37 GMT",    /* a layout space: any run */
        "Sun, 06 Nov 1994 08:49:37.123 GMT", /* an unasked fraction */
        "Sunday, 06-Nov-94 08:49:37 UTC",
    };
    static const char *const bad[] = {
        "",
        "invalid",
        "1994-11-06T08:49:37Z00:00",
        "Sun, 6 Nov 1994 08:49:37 GMT",   /* 02 needs two digits */
        "Sun, 06 Nov 1994 08:49:37 UTC",  /* TimeFormat says GMT */
        "Sun, 06 Nov 1994 08:49:37 GMT ", /* extra text */
        "Sun, 31 Nov 1994 08:49:37 GMT",  /* day out of range */
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 G",
    };
    apr_int64_t t;
    int i;

    for (i = 0; i < N_OF(good); i++) {
        t = 0;
        ck_assert_msg(static_parse_http_date(good[i], &t), "%s", good[i]);
        ck_assert_msg(t == 784111777, "%s", good[i]);
    }
    for (i = 0; i < N_OF(bad); i++)
        ck_assert_msg(!static_parse_http_date(bad[i], &t), "%s", bad[i]);
    ck_assert(static_parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", &t));
    ck_assert(t == 0);
    ck_assert(static_parse_http_date("Wednesday, 01-Jan-69 00:00:00 GMT", &t));
    ck_assert(t == -31536000); /* "69" is 1969, "68" would be 2068 */
}
END_TEST

START_TEST(etag_is_weak_size_and_mtime)
{
    struct stat st;

    memset(&st, 0, sizeof(st));
    st.st_size = 4096;
    st.st_mtim.tv_sec = 1;
    st.st_mtim.tv_nsec = 5;
    ck_assert_str_eq(static_etag(pool, &st), "W/\"1000-3b9aca05\"");
    st.st_mtim.tv_nsec = 6; /* a rewrite within the second changes it */
    ck_assert_str_eq(static_etag(pool, &st), "W/\"1000-3b9aca06\"");
}
END_TEST

/* ---- preconditions ----------------------------------------------------- */

typedef struct {
    const char *name;
    const char *etag;
    apr_int64_t mtime;
    static_conds_t c;
    static_pre_t want;
    int want_range; /* on STATIC_PRE_GO: the Range survives */
} pre_case_t;

#define HTML_MOD 1400000000 /* Tue, 13 May 2014 16:53:20 GMT */
#define HTML_MOD_S "Tue, 13 May 2014 16:53:20 GMT"

/* fs_test.go's TestServeContent, the precondition half, for GET. */
START_TEST(preconditions_like_go)
{
    static const pre_case_t t[] = {
        { "no_last_modified", NULL, 0, { 1, .range = NULL }, STATIC_PRE_GO, 0 },
        { "not_modified_modtime",
          "\"foo\"",
          HTML_MOD,
          { 1, .if_modified_since = HTML_MOD_S },
          STATIC_PRE_NOT_MODIFIED,
          0 },
        { "modified_since_earlier",
          NULL,
          HTML_MOD,
          { 1, .if_modified_since = "Tue, 13 May 2014 16:53:19 GMT" },
          STATIC_PRE_GO,
          0 },
        { "not_modified_etag",
          "\"foo\"",
          0,
          { 1, .if_none_match = "\"foo\"" },
          STATIC_PRE_NOT_MODIFIED,
          0 },
        { "not_modified_etag_weak",
          "W/\"foo\"",
          0,
          { 1, .if_none_match = "\"baz\", W/\"foo\"" },
          STATIC_PRE_NOT_MODIFIED,
          0 },
        { "if_none_match_mismatch",
          "\"foo\"",
          0,
          { 1, .if_none_match = "\"Foo\"" },
          STATIC_PRE_GO,
          0 },
        { "if_none_match_malformed",
          "\"foo\"",
          0,
          { 1, .if_none_match = "," },
          STATIC_PRE_GO,
          0 },
        { "if_none_match_star",
          "\"foo\"",
          0,
          { 1, .if_none_match = "*" },
          STATIC_PRE_NOT_MODIFIED,
          0 },
        { "if_none_match_not_get",
          "\"foo\"",
          0,
          { 0, .if_none_match = "\"foo\"" },
          STATIC_PRE_FAILED,
          0 },
        /* If-None-Match present: If-Modified-Since is not looked at. */
        { "inm_beats_ims",
          "\"foo\"",
          HTML_MOD,
          { 1, .if_none_match = "\"bar\"", .if_modified_since = HTML_MOD_S },
          STATIC_PRE_GO,
          0 },
        { "range_good",
          "\"A\"",
          0,
          { 1, .range = "bytes=0-4" },
          STATIC_PRE_GO,
          1 },
        { "range_match",
          "\"A\"",
          0,
          { 1, .range = "bytes=0-4", .if_range = "\"A\"" },
          STATIC_PRE_GO,
          1 },
        { "range_match_weak_etag",
          "W/\"A\"",
          0,
          { 1, .range = "bytes=0-4", .if_range = "W/\"A\"" },
          STATIC_PRE_GO,
          0 },
        { "range_no_match",
          "\"A\"",
          0,
          { 1, .range = "bytes=0-4", .if_range = "\"B\"" },
          STATIC_PRE_GO,
          0 },
        { "range_with_modtime",
          NULL,
          1403716338,
          { 1, .range = "bytes=0-4",
            .if_range = "Wed, 25 Jun 2014 17:12:18 GMT" },
          STATIC_PRE_GO,
          1 },
        { "range_with_modtime_mismatch",
          NULL,
          1403716338,
          { 1, .range = "bytes=0-4",
            .if_range = "Wed, 25 Jun 2014 17:12:19 GMT" },
          STATIC_PRE_GO,
          0 },
        { "range_if_range_garbage",
          NULL,
          1403716338,
          { 1, .range = "bytes=0-4", .if_range = "yesterday" },
          STATIC_PRE_GO,
          0 },
        { "ifmatch_matches",
          "\"A\"",
          0,
          { 1, .if_match = "\"Z\", \"A\"" },
          STATIC_PRE_GO,
          0 },
        { "ifmatch_star",
          "\"A\"",
          0,
          { 1, .if_match = "*" },
          STATIC_PRE_GO,
          0 },
        { "ifmatch_failed",
          "\"A\"",
          0,
          { 1, .if_match = "\"B\"" },
          STATIC_PRE_FAILED,
          0 },
        { "ifmatch_fails_on_weak_etag",
          "W/\"A\"",
          0,
          { 1, .if_match = "W/\"A\"" },
          STATIC_PRE_FAILED,
          0 },
        { "ifmatch_malformed",
          "\"A\"",
          0,
          { 1, .if_match = "A" },
          STATIC_PRE_FAILED,
          0 },
        { "if_unmodified_since_true",
          NULL,
          HTML_MOD,
          { 1, .if_unmodified_since = HTML_MOD_S },
          STATIC_PRE_GO,
          0 },
        { "if_unmodified_since_false",
          NULL,
          HTML_MOD,
          { 1, .if_unmodified_since = "Tue, 13 May 2014 16:53:18 GMT" },
          STATIC_PRE_FAILED,
          0 },
        /* If-Match decides; If-Unmodified-Since is not looked at. */
        { "ifmatch_beats_ius",
          "\"A\"",
          HTML_MOD,
          { 1, .if_match = "\"A\"",
            .if_unmodified_since = "Tue, 13 May 2014 16:53:18 GMT" },
          STATIC_PRE_GO,
          0 },
        { "ius_unparsable_ignored",
          NULL,
          HTML_MOD,
          { 1, .if_unmodified_since = "garbage" },
          STATIC_PRE_GO,
          0 },
        { "unix_zero_modtime_ignores_dates",
          NULL,
          0,
          { 1, .if_modified_since = HTML_MOD_S,
            .if_unmodified_since = "Thu, 01 Jan 1970 00:00:00 GMT" },
          STATIC_PRE_GO,
          0 },
    };
    int i;

    for (i = 0; i < N_OF(t); i++) {
        const char *range = "unset";
        static_pre_t got =
            static_preconditions(&t[i].c, t[i].etag, t[i].mtime, &range);
        ck_assert_msg(got == t[i].want, "%s: got %d, want %d", t[i].name,
                      (int)got, (int)t[i].want);
        if (got == STATIC_PRE_GO)
            ck_assert_msg((range != NULL) == t[i].want_range, "%s: range %s",
                          t[i].name, range ? range : "NULL");
    }
}
END_TEST

START_TEST(listing_not_modified_since)
{
    static_conds_t c = { 1, .if_modified_since = HTML_MOD_S };

    ck_assert(static_not_modified_since(&c, HTML_MOD));
    ck_assert(!static_not_modified_since(&c, HTML_MOD + 1));
    c.get_or_head = 0;
    ck_assert(!static_not_modified_since(&c, HTML_MOD));
}
END_TEST

/* ---- ranges ---------------------------------------------------------------- */

typedef struct {
    const char *s;
    apr_off_t size;
    int n; /* -1: an error (Go's ranges are nil) */
    static_range_t r[3];
} range_case_t;

/* range_test.go's ParseRangeTests (Go 1.22). */
START_TEST(parse_range_like_go)
{
    static const range_case_t t[] = {
        { "", 0, 0, { { 0 } } },
        { "", 1000, 0, { { 0 } } },
        { "foo", 0, -1, { { 0 } } },
        { "bytes=", 0, 0, { { 0 } } },
        { "bytes=7", 10, -1, { { 0 } } },
        { "bytes= 7 ", 10, -1, { { 0 } } },
        { "bytes=1-", 0, -1, { { 0 } } },
        { "bytes=5-4", 10, -1, { { 0 } } },
        { "bytes=0-2,5-4", 10, -1, { { 0 } } },
        { "bytes=2-5,4-3", 10, -1, { { 0 } } },
        { "bytes=--5,4--3", 10, -1, { { 0 } } },
        { "bytes=A-", 10, -1, { { 0 } } },
        { "bytes=A- ", 10, -1, { { 0 } } },
        { "bytes=A-Z", 10, -1, { { 0 } } },
        { "bytes= -Z", 10, -1, { { 0 } } },
        { "bytes=5-Z", 10, -1, { { 0 } } },
        { "bytes=Ran-dom, garbage", 10, -1, { { 0 } } },
        { "bytes=0x01-0x02", 10, -1, { { 0 } } },
        { "bytes=         ", 10, 0, { { 0 } } },
        { "bytes= , , ,   ", 10, 0, { { 0 } } },
        { "bytes=0-9", 10, 1, { { 0, 10 } } },
        { "bytes=0-", 10, 1, { { 0, 10 } } },
        { "bytes=5-", 10, 1, { { 5, 5 } } },
        { "bytes=0-20", 10, 1, { { 0, 10 } } },
        { "bytes=15-,0-5", 10, 1, { { 0, 6 } } },
        { "bytes=1-2,5-", 10, 2, { { 1, 2 }, { 5, 5 } } },
        { "bytes=-2 , 7-", 11, 2, { { 9, 2 }, { 7, 4 } } },
        { "bytes=0-0 ,2-2, 7-", 11, 3, { { 0, 1 }, { 2, 1 }, { 7, 4 } } },
        { "bytes=-5", 10, 1, { { 5, 5 } } },
        { "bytes=-15", 10, 1, { { 0, 10 } } },
        { "bytes=0-499", 10000, 1, { { 0, 500 } } },
        { "bytes=500-999", 10000, 1, { { 500, 500 } } },
        { "bytes=-500", 10000, 1, { { 9500, 500 } } },
        { "bytes=9500-", 10000, 1, { { 9500, 500 } } },
        { "bytes=0-0,-1", 10000, 2, { { 0, 1 }, { 9999, 1 } } },
        { "bytes=500-600,601-999", 10000, 2, { { 500, 101 }, { 601, 399 } } },
        { "bytes=500-700,601-999", 10000, 2, { { 500, 201 }, { 601, 399 } } },
        { "bytes=   1 -2   ,  4- 5, 7 - 8 , ,,",
          11,
          3,
          { { 1, 2 }, { 4, 2 }, { 7, 2 } } },
        /* strconv.ParseInt takes a sign; overflow is invalid */
        { "bytes=+1-+2", 10, 1, { { 1, 2 } } },
        { "bytes=0-99999999999999999999", 10, -1, { { 0 } } },
        { "Bytes=0-1", 10, -1, { { 0 } } },
    };
    int i, j;

    for (i = 0; i < N_OF(t); i++) {
        apr_array_header_t *got = NULL;
        static_range_status_t st =
            static_parse_range(pool, t[i].s, t[i].size, &got);
        if (t[i].n < 0) {
            ck_assert_msg(st != STATIC_RANGE_OK, "%s: accepted", t[i].s);
            continue;
        }
        ck_assert_msg(st == STATIC_RANGE_OK, "%s: refused (%d)", t[i].s,
                      (int)st);
        ck_assert_msg(got->nelts == t[i].n, "%s: %d ranges", t[i].s,
                      got->nelts);
        for (j = 0; j < t[i].n; j++) {
            const static_range_t *r = &APR_ARRAY_IDX(got, j, static_range_t);
            ck_assert_msg(r->start == t[i].r[j].start &&
                              r->length == t[i].r[j].length,
                          "%s[%d]", t[i].s, j);
        }
    }
}
END_TEST

/* Which error: Go's 416 bodies differ. */
START_TEST(range_errors_like_go)
{
    apr_array_header_t *r;

    ck_assert_int_eq(static_parse_range(pool, "bytes=10-20", 8, &r),
                     STATIC_RANGE_NO_OVERLAP);
    ck_assert_int_eq(static_parse_range(pool, "bytes=8-,9-", 8, &r),
                     STATIC_RANGE_NO_OVERLAP);
    ck_assert_int_eq(static_parse_range(pool, "bytes=1-", 0, &r),
                     STATIC_RANGE_NO_OVERLAP);
    ck_assert_int_eq(static_parse_range(pool, "items=0-1", 8, &r),
                     STATIC_RANGE_INVALID);
    ck_assert_int_eq(static_parse_range(pool, "bytes=5-4", 8, &r),
                     STATIC_RANGE_INVALID);
    ck_assert_int_eq(static_parse_range(pool, "bytes=0-1,5-4", 8, &r),
                     STATIC_RANGE_INVALID);
    ck_assert_int_eq(static_parse_range(pool, "bytes=0-1,3-4", 8, &r),
                     STATIC_RANGE_OK);
    ck_assert_int_eq(static_ranges_sum(r), 4);
    ck_assert_str_eq(
        static_content_range(pool, &APR_ARRAY_IDX(r, 1, static_range_t), 8),
        "bytes 3-4/8");
}
END_TEST

/* ---- multipart ------------------------------------------------------------- */

START_TEST(multipart_layout_like_go)
{
    static_multipart_t m, m2;
    apr_array_header_t *r;
    const char *s;
    apr_size_t n, total = 0;
    int i;

    ck_assert_int_eq(static_multipart_init(&m, "text/plain; charset=utf-8", 10),
                     APR_SUCCESS);
    ck_assert_int_eq(static_multipart_init(&m2, "x", 10), APR_SUCCESS);
    ck_assert_uint_eq(strlen(m.boundary), 60);
    ck_assert_uint_eq(strspn(m.boundary, "0123456789abcdef"), 60);
    ck_assert_str_ne(m.boundary, m2.boundary);
    memcpy(m.boundary, "B", 2); /* a short one makes the bytes readable */

    static_parse_range(pool, "bytes=0-1,5-", 10, &r);
    s = static_multipart_head(pool, &m, 0, &APR_ARRAY_IDX(r, 0, static_range_t),
                              &n);
    ck_assert_str_eq(s, "--B\r\nContent-Range: bytes 0-1/10\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n\r\n");
    ck_assert_uint_eq(n, strlen(s));
    s = static_multipart_head(pool, &m, 1, &APR_ARRAY_IDX(r, 1, static_range_t),
                              &n);
    ck_assert_str_eq(s, "\r\n--B\r\nContent-Range: bytes 5-9/10\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n\r\n");
    s = static_multipart_tail(pool, &m, &n);
    ck_assert_str_eq(s, "\r\n--B--\r\n");

    /* rangesMIMESize: every head, every range's bytes, the tail. */
    for (i = 0; i < r->nelts; i++) {
        static_range_t *ra = &APR_ARRAY_IDX(r, i, static_range_t);
        static_multipart_head(pool, &m, i, ra, &n);
        total += n + (apr_size_t)ra->length;
    }
    static_multipart_tail(pool, &m, &n);
    total += n;
    ck_assert_int_eq(static_multipart_size(pool, &m, r), (apr_off_t)total);
}
END_TEST

/* ---- the listing ----------------------------------------------------------- */

START_TEST(listing_html_like_go)
{
    apr_array_header_t *e = apr_array_make(pool, 4, sizeof(static_dirent_t));
    static_dirent_t *d;
    apr_size_t n;
    const char *html;

    d = apr_array_push(e);
    d->name = "<b>&\"'.txt";
    d->is_dir = 0;
    d = apr_array_push(e);
    d->name = "a b";
    d->is_dir = 1;
    d = apr_array_push(e);
    d->name = "c:d?";
    d->is_dir = 0;
    html = static_listing_html(pool, e, &n);
    ck_assert_str_eq(html,
                     "<!doctype html>\n"
                     "<meta name=\"viewport\" content=\"width=device-width\">\n"
                     "<pre>\n"
                     "<a href=\"%3Cb%3E&%22%27.txt\">&lt;b&gt;&amp;&#34;&#39;"
                     ".txt</a>\n"
                     "<a href=\"a%20b/\">a b/</a>\n"
                     "<a href=\"./c:d%3F\">c:d?</a>\n"
                     "</pre>\n");
    ck_assert_uint_eq(n, strlen(html));
}
END_TEST

/* ---- MIME -------------------------------------------------------------------- */

START_TEST(mime_builtin_like_go)
{
    /* Go's mime builtinTypesLower, exactly. */
    static const char *const go[][2] = {
        { ".avif", "image/avif" },
        { ".css", "text/css; charset=utf-8" },
        { ".gif", "image/gif" },
        { ".htm", "text/html; charset=utf-8" },
        { ".html", "text/html; charset=utf-8" },
        { ".jpeg", "image/jpeg" },
        { ".jpg", "image/jpeg" },
        { ".js", "text/javascript; charset=utf-8" },
        { ".json", "application/json" },
        { ".mjs", "text/javascript; charset=utf-8" },
        { ".pdf", "application/pdf" },
        { ".png", "image/png" },
        { ".svg", "image/svg+xml" },
        { ".wasm", "application/wasm" },
        { ".webp", "image/webp" },
        { ".xml", "text/xml; charset=utf-8" },
    };
    int i;

    for (i = 0; i < N_OF(go); i++)
        ck_assert_str_eq(static_mime_builtin(go[i][0]), go[i][1]);
    ck_assert_str_eq(static_mime_builtin(".HTML"), "text/html; charset=utf-8");
    ck_assert_str_eq(static_mime_builtin(".woff2"), "font/woff2");
    ck_assert_str_eq(static_mime_builtin(".7z"), "application/x-7z-compressed");
    ck_assert_str_eq(static_mime_builtin(".zip"), "application/zip");
    ck_assert_ptr_null(static_mime_builtin(".nosuchext"));
    ck_assert_ptr_null(static_mime_builtin(""));
    ck_assert_ptr_null(static_mime_builtin("."));
    /* filepath.Ext */
    ck_assert_str_eq(static_ext("path.go"), ".go");
    ck_assert_str_eq(static_ext("path.pb.go"), ".go");
    ck_assert_str_eq(static_ext("a.dir/b"), "");
    ck_assert_str_eq(static_ext("a.dir/b.go"), ".go");
    ck_assert_str_eq(static_ext("a.dir/"), "");
    ck_assert_str_eq(static_ext("Makefile"), "");
}
END_TEST

START_TEST(mime_types_file_fills_the_gaps)
{
    char *dir = wt_tmpdir();
    char *path = wt_write(dir, "mime.types",
                          "# comment line\n"
                          "application/x-weft\tweft wft # trailing\n"
                          "text/x-weftdoc wdoc\n"
                          "text/x-other; charset=latin1 wlat\n"
                          "image/png png\n"
                          "application/first dup\n"
                          "application/second dup\n"
                          "application/no-extensions\n"
                          "\n");
    apr_hash_t *h = NULL;

    ck_assert_int_eq(static_mime_load(pool, path, &h), APR_SUCCESS);
    ck_assert_str_eq(static_mime_type(h, ".weft"), "application/x-weft");
    ck_assert_str_eq(static_mime_type(h, ".WFT"), "application/x-weft");
    ck_assert_str_eq(static_mime_type(h, ".wdoc"),
                     "text/x-weftdoc; charset=utf-8");
    ck_assert_ptr_null(static_mime_type(h, ".trailing"));
    ck_assert_str_eq(static_mime_type(h, ".dup"), "application/second");
    /* The built-in table comes first. */
    ck_assert_str_eq(static_mime_type(h, ".png"), "image/png");
    ck_assert_str_eq(static_mime_type(h, ".css"), "text/css; charset=utf-8");
    ck_assert_ptr_null(static_mime_type(h, ".nothing"));
    ck_assert_ptr_null(static_mime_type(NULL, ".weft"));
    ck_assert_int_ne(static_mime_load(pool, "/nonexistent/mime.types", &h),
                     APR_SUCCESS);
}
END_TEST

/* ---- opening under the root ------------------------------------------------ */

/* A tree with a file, a directory, links inside and outside, and a
 * secret beside the root. */
static char *make_tree(void)
{
    char *top = wt_tmpdir();
    char *root = wt_fmt("%s/root", top);

    ck_assert_int_eq(mkdir(root, 0755), 0);
    wt_write(top, "secret.txt", "secret\n");
    wt_write(root, "a.txt", "hello\n");
    ck_assert_int_eq(mkdir(wt_fmt("%s/dir", root), 0755), 0);
    ck_assert_int_eq(mkdir(wt_fmt("%s/dir/sub", root), 0755), 0);
    wt_write(wt_fmt("%s/dir", root), "b.txt", "bee\n");
    wt_write(wt_fmt("%s/dir", root), "index.html", "<p>i</p>\n");
    ck_assert_int_eq(symlink("../secret.txt", wt_fmt("%s/up", root)), 0);
    ck_assert_int_eq(
        symlink(wt_fmt("%s/secret.txt", top), wt_fmt("%s/abs_out", root)), 0);
    ck_assert_int_eq(
        symlink(wt_fmt("%s/a.txt", root), wt_fmt("%s/abs_in", root)), 0);
    ck_assert_int_eq(symlink("a.txt", wt_fmt("%s/rel_in", root)), 0);
    ck_assert_int_eq(symlink("../a.txt", wt_fmt("%s/dir/parent_in", root)), 0);
    ck_assert_int_eq(
        symlink("../../secret.txt", wt_fmt("%s/dir/parent_out", root)), 0);
    ck_assert_int_eq(symlink("dir", wt_fmt("%s/dirlink", root)), 0);
    ck_assert_int_eq(symlink("..", wt_fmt("%s/dotdot", root)), 0);
    ck_assert_int_eq(symlink("rel_in", wt_fmt("%s/chain", root)), 0);
    ck_assert_int_eq(symlink("loop2", wt_fmt("%s/loop1", root)), 0);
    ck_assert_int_eq(symlink("loop1", wt_fmt("%s/loop2", root)), 0);
    ck_assert_int_eq(
        symlink("dir/sub/../../a.txt", wt_fmt("%s/dotted_in", root)), 0);
    ck_assert_int_eq(mkfifo(wt_fmt("%s/fifo", root), 0644), 0);
    return root;
}

static static_fs_status_t open_rel(const char *root, const char *rel,
                                   int follow, static_file_t *f)
{
    return static_fs_open(pool, root, rel, follow, f);
}

static char *read_fd(int fd)
{
    char *buf = apr_pcalloc(pool, 256);
    ssize_t n = pread(fd, buf, 255, 0);

    ck_assert_int_ge(n, 0);
    return buf;
}

START_TEST(fs_open_confines_symlinks)
{
    char *root = make_tree();
    static_file_t f;

    ck_assert_int_eq(open_rel(root, "a.txt", 0, &f), STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "hello\n");
    ck_assert(S_ISREG(f.st.st_mode));
    ck_assert_int_eq(f.st.st_size, 6);
    ck_assert_int_eq(open_rel(root, "", 0, &f), STATIC_FS_OK);
    ck_assert(S_ISDIR(f.st.st_mode));
    ck_assert_int_eq(open_rel(root, "dir/b.txt", 0, &f), STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "bee\n");

    /* Links that stay inside: followed by hand. */
    ck_assert_int_eq(open_rel(root, "rel_in", 0, &f), STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "hello\n");
    ck_assert_int_eq(open_rel(root, "abs_in", 0, &f), STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "hello\n");
    ck_assert_int_eq(open_rel(root, "dir/parent_in", 0, &f), STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "hello\n");
    ck_assert_int_eq(open_rel(root, "chain", 0, &f), STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "hello\n");
    ck_assert_int_eq(open_rel(root, "dirlink/b.txt", 0, &f), STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "bee\n");
    ck_assert_int_eq(open_rel(root, "dirlink", 0, &f), STATIC_FS_OK);
    ck_assert(S_ISDIR(f.st.st_mode));
    ck_assert_int_eq(open_rel(root, "dotted_in", 0, &f), STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "hello\n");

    /* Links that leave: refused, at the end or on the way. */
    ck_assert_int_eq(open_rel(root, "up", 0, &f), STATIC_FS_FORBIDDEN);
    ck_assert_int_eq(open_rel(root, "abs_out", 0, &f), STATIC_FS_FORBIDDEN);
    ck_assert_int_eq(open_rel(root, "dir/parent_out", 0, &f),
                     STATIC_FS_FORBIDDEN);
    ck_assert_int_eq(open_rel(root, "dotdot", 0, &f), STATIC_FS_FORBIDDEN);
    ck_assert_int_eq(open_rel(root, "dotdot/secret.txt", 0, &f),
                     STATIC_FS_FORBIDDEN);
    ck_assert_int_eq(open_rel(root, "loop1", 0, &f), STATIC_FS_ERROR);

    /* StaticFollowSymlinks on: the kernel follows them all. */
    ck_assert_int_eq(open_rel(root, "up", 1, &f), STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "secret\n");
    ck_assert_int_eq(open_rel(root, "dotdot/secret.txt", 1, &f), STATIC_FS_OK);
    ck_assert_int_eq(open_rel(root, "loop1", 1, &f), STATIC_FS_ERROR);
}
END_TEST

START_TEST(fs_open_maps_errors_like_go)
{
    char *root = make_tree();
    static_file_t f;

    ck_assert_int_eq(open_rel(root, "missing", 0, &f), STATIC_FS_NOT_FOUND);
    ck_assert_int_eq(open_rel(root, "missing/x", 0, &f), STATIC_FS_NOT_FOUND);
    /* Issue 18984: a file in the way is "not there", not a 500. */
    ck_assert_int_eq(open_rel(root, "a.txt/x", 0, &f), STATIC_FS_NOT_FOUND);
    ck_assert_int_eq(open_rel(root, "a.txt/x", 1, &f), STATIC_FS_NOT_FOUND);
    ck_assert_int_eq(open_rel(root, "fifo", 0, &f), STATIC_FS_FORBIDDEN);
    ck_assert_int_eq(open_rel(wt_fmt("%s/nope", root), "a.txt", 0, &f),
                     STATIC_FS_NOT_FOUND);
    ck_assert_int_eq(open_rel(root,
                              apr_pstrcat(pool, "a", wt_fmt("%0300d", 0), NULL),
                              0, &f),
                     STATIC_FS_ERROR); /* ENAMETOOLONG: Go's 500 */
    if (geteuid() != 0) {
        /* Permissions bind only when not root. */
        char *locked = wt_write(root, "locked.txt", "x");
        ck_assert_int_eq(chmod(locked, 0), 0);
        ck_assert_int_eq(open_rel(root, "locked.txt", 0, &f),
                         STATIC_FS_FORBIDDEN);
    }
}
END_TEST

START_TEST(fs_open_index)
{
    char *root = make_tree();
    static_file_t d, f;

    ck_assert_int_eq(open_rel(root, "dir", 0, &d), STATIC_FS_OK);
    ck_assert_int_eq(static_fs_open_index(pool, root, "dir", 0, &d, &f),
                     STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "<p>i</p>\n");
    ck_assert_int_eq(open_rel(root, "", 0, &d), STATIC_FS_OK);
    ck_assert_int_eq(static_fs_open_index(pool, root, "", 0, &d, &f),
                     STATIC_FS_NOT_FOUND);
    /* An index.html that is a link: inside is served, outside refused. */
    ck_assert_int_eq(symlink("a.txt", wt_fmt("%s/index.html", root)), 0);
    ck_assert_int_eq(static_fs_open_index(pool, root, "", 0, &d, &f),
                     STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "hello\n");
    ck_assert_int_eq(mkdir(wt_fmt("%s/out", root), 0755), 0);
    ck_assert_int_eq(
        symlink("../../secret.txt", wt_fmt("%s/out/index.html", root)), 0);
    ck_assert_int_eq(open_rel(root, "out", 0, &d), STATIC_FS_OK);
    ck_assert_int_eq(static_fs_open_index(pool, root, "out", 0, &d, &f),
                     STATIC_FS_FORBIDDEN);
    ck_assert_int_eq(static_fs_open_index(pool, root, "out", 1, &d, &f),
                     STATIC_FS_OK);
    ck_assert_str_eq(read_fd(f.fd), "secret\n");
}
END_TEST

START_TEST(fs_list_sorted_like_go)
{
    char *root = make_tree();
    apr_array_header_t *e;
    static_file_t d;
    static const char *const want[] = {
        "a.txt",   "abs_in", "abs_out",   "chain", "dir",
        "dirlink", "dotdot", "dotted_in", "fifo",  "loop1",
        "loop2",   "rel_in", "up",
    };
    int i;

    ck_assert_int_eq(open_rel(root, "", 0, &d), STATIC_FS_OK);
    ck_assert_int_eq(static_fs_list(pool, &d, &e), APR_SUCCESS);
    ck_assert_int_eq(e->nelts, N_OF(want));
    for (i = 0; i < e->nelts; i++) {
        const static_dirent_t *x = &APR_ARRAY_IDX(e, i, static_dirent_t);
        ck_assert_str_eq(x->name, want[i]);
        /* A link to a directory is not one (Go's DirEntry.IsDir). */
        ck_assert_int_eq(x->is_dir, strcmp(x->name, "dir") == 0);
    }
}
END_TEST

static Suite *static_suite(void)
{
    Suite *s = suite_create("static");
    TCase *tp = tcase_create("paths");
    TCase *th = tcase_create("http");
    TCase *tm = tcase_create("mime");
    TCase *tf = tcase_create("fs");

    tcase_add_checked_fixture(tp, setup, teardown);
    tcase_add_test(tp, unescape_keeps_nul_bytes);
    tcase_add_test(tp, clean_like_go);
    tcase_add_test(tp, base_like_go);
    tcase_add_test(tp, strip_prefix_like_go);
    tcase_add_test(tp, url_path_like_go);
    suite_add_tcase(s, tp);

    tcase_add_checked_fixture(th, setup, teardown);
    tcase_add_test(th, http_date_format_like_go);
    tcase_add_test(th, http_date_parse_like_go);
    tcase_add_test(th, etag_is_weak_size_and_mtime);
    tcase_add_test(th, preconditions_like_go);
    tcase_add_test(th, listing_not_modified_since);
    tcase_add_test(th, parse_range_like_go);
    tcase_add_test(th, range_errors_like_go);
    tcase_add_test(th, multipart_layout_like_go);
    tcase_add_test(th, listing_html_like_go);
    suite_add_tcase(s, th);

    tcase_add_checked_fixture(tm, setup, teardown);
    tcase_add_test(tm, mime_builtin_like_go);
    tcase_add_test(tm, mime_types_file_fills_the_gaps);
    suite_add_tcase(s, tm);

    tcase_add_checked_fixture(tf, setup, teardown);
    tcase_set_timeout(tf, 30);
    tcase_add_test(tf, fs_open_confines_symlinks);
    tcase_add_test(tf, fs_open_maps_errors_like_go);
    tcase_add_test(tf, fs_open_index);
    tcase_add_test(tf, fs_list_sorted_like_go);
    suite_add_tcase(s, tf);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(static_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
