/*
 * test_wait.c -- the waiting primitive: weft_wait_fd and weft_wait_recv
 * (the keep-alive wait) return data at once or when it comes, never time
 * out before the deadline (also when a cached socket timeout is shorter),
 * and wake on the peer's close and on a shutdown(2) from another thread.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "weft_core.h"
#include "weft_wait.h"

#define MS 1000 /* apr_interval_time_t is in microseconds */
#define LONG_DEADLINE apr_time_from_sec(10)

static int sv[2]; /* sv[0]: the waiting side; sv[1]: the peer */

static void setup(void)
{
    apr_initialize();
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* As accept leaves a connection: non-blocking. */
    ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
}

static void teardown(void)
{
    close(sv[0]);
    close(sv[1]);
    apr_terminate();
}

/* Runs on a helper thread: after the waiter has had time to block (the
 * test does not depend on it), writes or shuts down. */
typedef struct {
    int fd;
    int how; /* 0: write "late", 1: shutdown(SHUT_RDWR) */
} poke_t;

static void *poke(void *arg)
{
    poke_t *p = arg;

    weft_sleep(50 * MS);
    if (p->how == 0)
        ck_assert_int_eq(write(p->fd, "late", 4), 4);
    else
        shutdown(p->fd, SHUT_RDWR);
    return NULL;
}

START_TEST(recv_returns_buffered_bytes)
{
    apr_interval_time_t timeo = 0;
    char buf[16];

    ck_assert_int_eq(write(sv[1], "GET ", 4), 4);
    ck_assert_int_eq(weft_wait_recv(sv[0], buf, sizeof(buf),
                                    apr_time_now() + LONG_DEADLINE, &timeo),
                     4);
    ck_assert_int_eq(memcmp(buf, "GET ", 4), 0);
    /* The first call made the socket blocking and cached its timeout. */
    ck_assert_int_eq(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
    ck_assert(timeo > 1);
}
END_TEST

START_TEST(recv_waits_for_bytes)
{
    apr_interval_time_t timeo = 0;
    poke_t p = { sv[1], 0 };
    pthread_t t;
    char buf[16];

    pthread_create(&t, NULL, poke, &p);
    ck_assert_int_eq(weft_wait_recv(sv[0], buf, sizeof(buf),
                                    apr_time_now() + LONG_DEADLINE, &timeo),
                     4);
    ck_assert_int_eq(memcmp(buf, "late", 4), 0);
    pthread_join(t, NULL);
}
END_TEST

START_TEST(recv_without_deadline_waits_for_bytes)
{
    apr_interval_time_t timeo = 0;
    poke_t p = { sv[1], 0 };
    pthread_t t;
    char buf[16];

    pthread_create(&t, NULL, poke, &p);
    ck_assert_int_eq(weft_wait_recv(sv[0], buf, sizeof(buf), 0, &timeo), 4);
    ck_assert_int_eq(timeo, 1); /* "no timeout" cached */
    pthread_join(t, NULL);
}
END_TEST

START_TEST(recv_times_out_not_before_deadline)
{
    apr_interval_time_t timeo = 0;
    apr_time_t deadline = apr_time_now() + 150 * MS;
    char buf[16];

    ck_assert_int_eq(weft_wait_recv(sv[0], buf, sizeof(buf), deadline, &timeo),
                     -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert(apr_time_now() >= deadline);
}
END_TEST

/* A second wait asking for a little more than the cached timeout keeps
 * the socket's (shorter) one: it must wake, see time left, and wait for
 * the rest rather than report a timeout early. */
START_TEST(recv_cached_shorter_timeout_is_not_early)
{
    apr_interval_time_t timeo = 0;
    apr_time_t deadline = apr_time_now() + 100 * MS;
    char buf[16];

    ck_assert_int_eq(weft_wait_recv(sv[0], buf, sizeof(buf), deadline, &timeo),
                     -1);
    /* Now the cache holds ~100 ms; ask for 3 ms more than it holds. */
    deadline = apr_time_now() + (timeo - 1) + 3 * MS;
    ck_assert_int_eq(weft_wait_recv(sv[0], buf, sizeof(buf), deadline, &timeo),
                     -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert(apr_time_now() >= deadline);
}
END_TEST

/* A longer cached timeout would overrun a shorter deadline: it is
 * replaced, and the wait ends in time (well before the old timeout). */
START_TEST(recv_cached_longer_timeout_is_replaced)
{
    apr_interval_time_t timeo = 0;
    poke_t p = { sv[1], 0 };
    pthread_t t;
    apr_time_t deadline, start;
    char buf[16];

    pthread_create(&t, NULL, poke, &p);
    ck_assert_int_eq(weft_wait_recv(sv[0], buf, sizeof(buf),
                                    apr_time_now() + apr_time_from_sec(600),
                                    &timeo),
                     4);
    pthread_join(t, NULL);
    start = apr_time_now();
    deadline = start + 100 * MS;
    ck_assert_int_eq(weft_wait_recv(sv[0], buf, sizeof(buf), deadline, &timeo),
                     -1);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert(apr_time_now() >= deadline);
    /* Generous: only a wait under the old 600 s timeout could take this. */
    ck_assert(apr_time_now() - start < apr_time_from_sec(60));
    ck_assert(timeo - 1 <= 100 * MS);
}
END_TEST

START_TEST(recv_past_deadline_reads_nothing)
{
    apr_interval_time_t timeo = 0;
    char buf[16];

    ck_assert_int_eq(write(sv[1], "GET ", 4), 4);
    ck_assert_int_eq(
        weft_wait_recv(sv[0], buf, sizeof(buf), apr_time_now() - 1, &timeo),
        -1);
    ck_assert_int_eq(errno, EAGAIN);
    /* The bytes are still there for the next read. */
    ck_assert_int_eq(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), 4);
}
END_TEST

START_TEST(recv_sees_peer_close)
{
    apr_interval_time_t timeo = 0;
    char buf[16];

    close(sv[1]);
    sv[1] = -1;
    ck_assert_int_eq(weft_wait_recv(sv[0], buf, sizeof(buf),
                                    apr_time_now() + LONG_DEADLINE, &timeo),
                     0);
}
END_TEST

/* What Shutdown and Close rely on to end a keep-alive wait. */
START_TEST(recv_woken_by_shutdown)
{
    apr_interval_time_t timeo = 0;
    poke_t p = { sv[0], 1 };
    pthread_t t;
    char buf[16];

    pthread_create(&t, NULL, poke, &p);
    ck_assert_int_eq(weft_wait_recv(sv[0], buf, sizeof(buf),
                                    apr_time_now() + LONG_DEADLINE, &timeo),
                     0);
    pthread_join(t, NULL);
}
END_TEST

START_TEST(recv_reports_errors)
{
    apr_interval_time_t timeo = 0;
    char buf[16];

    ck_assert_int_eq(weft_wait_recv(-1, buf, sizeof(buf),
                                    apr_time_now() + LONG_DEADLINE, &timeo),
                     -1);
    ck_assert_int_eq(errno, EBADF);
}
END_TEST

START_TEST(fd_ready_and_timeout)
{
    apr_time_t deadline = apr_time_now() + 100 * MS;

    ck_assert_int_eq(weft_wait_fd(sv[0], WEFT_WAIT_WRITE, deadline),
                     APR_SUCCESS);
    ck_assert_int_eq(weft_wait_fd(sv[0], WEFT_WAIT_READ, deadline), APR_TIMEUP);
    ck_assert(apr_time_now() >= deadline);
    ck_assert_int_eq(write(sv[1], "x", 1), 1);
    ck_assert_int_eq(
        weft_wait_fd(sv[0], WEFT_WAIT_READ, apr_time_now() + LONG_DEADLINE),
        APR_SUCCESS);
}
END_TEST

START_TEST(fd_woken_by_shutdown)
{
    poke_t p = { sv[0], 1 };
    pthread_t t;

    pthread_create(&t, NULL, poke, &p);
    ck_assert_int_eq(
        weft_wait_fd(sv[0], WEFT_WAIT_READ, apr_time_now() + LONG_DEADLINE),
        APR_SUCCESS);
    pthread_join(t, NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wait");
    TCase *tc = tcase_create("wait");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, recv_returns_buffered_bytes);
    tcase_add_test(tc, recv_waits_for_bytes);
    tcase_add_test(tc, recv_without_deadline_waits_for_bytes);
    tcase_add_test(tc, recv_times_out_not_before_deadline);
    tcase_add_test(tc, recv_cached_shorter_timeout_is_not_early);
    tcase_add_test(tc, recv_cached_longer_timeout_is_replaced);
    tcase_add_test(tc, recv_past_deadline_reads_nothing);
    tcase_add_test(tc, recv_sees_peer_close);
    tcase_add_test(tc, recv_woken_by_shutdown);
    tcase_add_test(tc, recv_reports_errors);
    tcase_add_test(tc, fd_ready_and_timeout);
    tcase_add_test(tc, fd_woken_by_shutdown);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
