/*
 * weft_log.c -- the process-wide error log.  Each message is formatted on
 * the caller's stack and leaves in one write(2), so lines from concurrent
 * threads never interleave; reopening swaps the descriptor with dup3.
 */
#include <apr_strings.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "weft_build.h"
#include "weft_core.h"

WEFT_DECLARE_DATA int weft_log_level = WEFT_LOG_NOTICE;

/* The descriptor lines go to: -1 means standard error.  Atomic: the
 * signal thread reopens while any thread logs. */
static atomic_int log_fd = -1;

static const char *const level_names[] = {
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
};

WEFT_DECLARE(const char *) weft_log_level_name(int level)
{
    if (level < WEFT_LOG_EMERG || level > WEFT_LOG_DEBUG)
        return "unknown";
    return level_names[level];
}

WEFT_DECLARE(int) weft_log_level_parse(const char *name)
{
    int i;

    for (i = WEFT_LOG_EMERG; i <= WEFT_LOG_DEBUG; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return WEFT_LOG_WARN;
    if (strcasecmp(name, "err") == 0)
        return WEFT_LOG_ERR;
    return -1;
}

static long thread_id(void)
{
#ifdef HAVE_GETTID
    return (long)gettid();
#else
    return (long)syscall(SYS_gettid);
#endif
}

WEFT_DECLARE(void)
weft_log_error(int level, apr_status_t status, const char *fmt, ...)
{
    char line[8192];
    apr_size_t n;
    apr_time_exp_t tm;
    apr_time_t now = apr_time_now();
    va_list ap;
    int fd;
    char *p;

    apr_time_exp_lt(&tm, now);
    n = (apr_size_t)apr_snprintf(
        line, sizeof(line),
        "[%04d-%02d-%02d %02d:%02d:%02d.%06d] [%s] [pid %ld:tid %ld] ",
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
        tm.tm_sec, tm.tm_usec, weft_log_level_name(level), (long)getpid(),
        thread_id());
    va_start(ap, fmt);
    n += (apr_size_t)apr_vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (status != APR_SUCCESS && n < sizeof(line) - 1) {
        char err[256];
        apr_strerror(status, err, sizeof(err));
        n += (apr_size_t)apr_snprintf(line + n, sizeof(line) - n, ": %s (%d)",
                                      err, status);
    }
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    /* One message, one line: a newline inside would forge a log line. */
    for (p = line; p < line + n; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    line[n++] = '\n';

    fd = atomic_load(&log_fd);
    if (fd < 0)
        fd = STDERR_FILENO;
    while (write(fd, line, n) < 0 && errno == EINTR) {
    }
}

WEFT_DECLARE(apr_status_t) weft_log_open(const char *path)
{
    int fd, old;

    if (path == NULL || strcmp(path, "stderr") == 0) {
        old = atomic_exchange(&log_fd, -1);
        /* A descriptor may be in use by a thread that loaded it just now;
         * leaving it open costs one fd and is safe. */
        (void)old;
        return APR_SUCCESS;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return APR_FROM_OS_ERROR(errno);
    old = atomic_load(&log_fd);
    if (old < 0) {
        atomic_store(&log_fd, fd);
        return APR_SUCCESS;
    }
    if (dup3(fd, old, O_CLOEXEC) < 0) {
        apr_status_t rv = APR_FROM_OS_ERROR(errno);
        close(fd);
        return rv;
    }
    close(fd);
    return APR_SUCCESS;
}
