/*
 * test_parse.c -- the configuration value syntaxes: Go durations, sizes,
 * flags, counts, and Go-style duration formatting.
 */
#include <check.h>
#include <stdlib.h>

#include "weft_core.h"

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

static apr_interval_time_t dur(const char *s)
{
    apr_interval_time_t d = -42;
    ck_assert_msg(weft_parse_duration(s, &d) == APR_SUCCESS,
                  "'%s' should parse", s);
    return d;
}

static void dur_bad(const char *s, apr_status_t want)
{
    apr_interval_time_t d = -42;
    ck_assert_int_eq(weft_parse_duration(s, &d), want);
    ck_assert_msg(d == -42, "'%s': out written on error", s);
}

START_TEST(durations_go_syntax)
{
    ck_assert_int_eq(dur("0"), 0);
    ck_assert_int_eq(dur("+0"), 0);
    ck_assert_int_eq(dur("0s"), 0);
    ck_assert_int_eq(dur("250ms"), 250000);
    ck_assert_int_eq(dur("5s"), 5000000);
    ck_assert_int_eq(dur("1m30s"), 90000000);
    ck_assert_int_eq(dur("1h"), 3600000000LL);
    ck_assert_int_eq(dur("1.5s"), 1500000);
    ck_assert_int_eq(dur(".5s"), 500000);
    ck_assert_int_eq(dur("1.5h"), 5400000000LL);
    ck_assert_int_eq(dur("300us"), 300);
    ck_assert_int_eq(dur("300\xc2\xb5s"), 300);
    ck_assert_int_eq(dur("300\xce\xbcs"), 300);
    ck_assert_int_eq(dur("2h45m10s"), (2 * 3600 + 45 * 60 + 10) * 1000000LL);
    ck_assert_int_eq(dur("1ms1us"), 1001);
    /* below APR's microsecond: a nonzero duration never becomes 0 */
    ck_assert_int_eq(dur("1ns"), 1);
    ck_assert_int_eq(dur("1500ns"), 2);
    ck_assert_int_eq(dur("1000ns"), 1);
}
END_TEST

START_TEST(durations_refused)
{
    dur_bad("", APR_EINVAL);
    dur_bad("5", APR_EINVAL); /* Go: missing unit */
    dur_bad("5 s", APR_EINVAL);
    dur_bad("5sec", APR_EINVAL);
    dur_bad("5d", APR_EINVAL);  /* Go has no days */
    dur_bad("-5s", APR_EINVAL); /* no weft duration is negative */
    dur_bad("s", APR_EINVAL);
    dur_bad(".s", APR_EINVAL);
    dur_bad("1.5", APR_EINVAL);
    dur_bad("99999999999999999999h", APR_ERANGE);
    dur_bad("5000000000h", APR_ERANGE);
}
END_TEST

START_TEST(sizes)
{
    apr_size_t n = 7;
    ck_assert_int_eq(weft_parse_size("0", &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(weft_parse_size("4096", &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 4096);
    ck_assert_int_eq(weft_parse_size("64K", &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 65536);
    ck_assert_int_eq(weft_parse_size("1m", &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 1048576);
    ck_assert_int_eq(weft_parse_size("2G", &n), APR_SUCCESS);
    ck_assert_uint_eq(n, 2147483648ULL);
    n = 7;
    ck_assert_int_eq(weft_parse_size("", &n), APR_EINVAL);
    ck_assert_int_eq(weft_parse_size("K", &n), APR_EINVAL);
    ck_assert_int_eq(weft_parse_size("1KB", &n), APR_EINVAL);
    ck_assert_int_eq(weft_parse_size("1T", &n), APR_EINVAL);
    ck_assert_int_eq(weft_parse_size("-1", &n), APR_EINVAL);
    ck_assert_int_eq(weft_parse_size("1.5K", &n), APR_EINVAL);
    ck_assert_int_eq(weft_parse_size(" 1", &n), APR_EINVAL);
    ck_assert_int_eq(weft_parse_size("99999999999999999999", &n), APR_ERANGE);
    ck_assert_int_eq(weft_parse_size("17179869184G", &n), APR_ERANGE);
    ck_assert_uint_eq(n, 7);
}
END_TEST

START_TEST(flags_and_counts)
{
    int v = 7;
    ck_assert_int_eq(weft_parse_flag("on", &v), APR_SUCCESS);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(weft_parse_flag("OFF", &v), APR_SUCCESS);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(weft_parse_flag("yes", &v), APR_EINVAL);
    ck_assert_int_eq(weft_parse_flag("1", &v), APR_EINVAL);
    ck_assert_int_eq(weft_parse_count("0", &v), APR_SUCCESS);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(weft_parse_count("256", &v), APR_SUCCESS);
    ck_assert_int_eq(v, 256);
    ck_assert_int_eq(weft_parse_count("2147483647", &v), APR_SUCCESS);
    ck_assert_int_eq(weft_parse_count("2147483648", &v), APR_ERANGE);
    ck_assert_int_eq(weft_parse_count("-1", &v), APR_EINVAL);
    ck_assert_int_eq(weft_parse_count("12a", &v), APR_EINVAL);
    ck_assert_int_eq(weft_parse_count("", &v), APR_EINVAL);
}
END_TEST

START_TEST(format_like_go)
{
    ck_assert_str_eq(weft_format_duration(pool, 0), "0s");
    ck_assert_str_eq(weft_format_duration(pool, 300), "300\xc2\xb5s");
    ck_assert_str_eq(weft_format_duration(pool, 250000), "250ms");
    ck_assert_str_eq(weft_format_duration(pool, 1500), "1.5ms");
    ck_assert_str_eq(weft_format_duration(pool, 5000000), "5s");
    ck_assert_str_eq(weft_format_duration(pool, 1500000), "1.5s");
    ck_assert_str_eq(weft_format_duration(pool, 90000000), "1m30s");
    ck_assert_str_eq(weft_format_duration(pool, 3600000000LL), "1h0m0s");
    /* round trip */
    ck_assert_int_eq(dur(weft_format_duration(pool, 5432123)), 5432123);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = tcase_create("values");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, durations_go_syntax);
    tcase_add_test(tc, durations_refused);
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, flags_and_counts);
    tcase_add_test(tc, format_like_go);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
