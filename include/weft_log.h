/*
 * weft_log.h -- the error log: one process-wide log with Apache's levels,
 * written a whole line per write(2) so concurrent threads never interleave.
 */
#ifndef WEFT_LOG_H
#define WEFT_LOG_H

#include "weft_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    WEFT_LOG_EMERG = 0,
    WEFT_LOG_ALERT,
    WEFT_LOG_CRIT,
    WEFT_LOG_ERR,
    WEFT_LOG_WARN,
    WEFT_LOG_NOTICE,
    WEFT_LOG_INFO,
    WEFT_LOG_DEBUG
} weft_log_level_t;

/* The current level (LogLevel).  Written at start-up before other threads
 * exist; read-only afterwards, so any thread may test it without a lock. */
WEFT_DECLARE_DATA extern int weft_log_level;

/*
 * Writes one line at level: timestamp, level, pid and thread id, the
 * message, and, when status is not APR_SUCCESS, APR's text for it.  Any
 * thread.  Client mistakes belong at WEFT_LOG_DEBUG, server faults at
 * WEFT_LOG_ERR.
 */
WEFT_DECLARE(void)
weft_log_error(int level, apr_status_t status, const char *fmt, ...)
    WEFT_PRINTF(3, 4);

/* Cheap test-first form for hot paths: arguments are not evaluated when
 * the level is off. */
#define weft_log(level, status, ...)                        \
    do {                                                    \
        if ((level) <= weft_log_level)                      \
            weft_log_error((level), (status), __VA_ARGS__); \
    } while (0)

/* Level names ("debug"); weft_log_level_parse returns -1 for unknown. */
WEFT_DECLARE(const char *) weft_log_level_name(int level);
WEFT_DECLARE(int) weft_log_level_parse(const char *name);

/*
 * Sends the error log to path (or standard error when path is NULL or
 * "stderr"), opened for appending.  Main or signal thread; safe while other
 * threads log: the descriptor is swapped in place, so a line goes wholly
 * to the old file or wholly to the new.
 */
WEFT_DECLARE(apr_status_t) weft_log_open(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_LOG_H */
