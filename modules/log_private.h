/*
 * log_private.h -- mod_log's two halves and the seam between them:
 * compiled formats that render a request into one line (log_format.c),
 * and buffered, reopenable log files with their flusher (log_writer.c).
 */
#ifndef LOG_PRIVATE_H
#define LOG_PRIVATE_H

#include "weft.h"

/* ---- formats (log_format.c) ------------------------------------------- */

/* A compiled format: immutable once compiled, so any thread may render
 * with it. */
typedef struct log_format_t log_format_t;

/*
 * Compiles spec: a named format ("common", "combined", "json") or a
 * string of Apache's % directives.  Returns NULL and sets *out (in p), or
 * a message saying what is wrong (in p or static).
 */
const char *log_format_compile(apr_pool_t *p, const char *spec,
                               const log_format_t **out);

/* Whether spec names one of the built-in formats. */
int log_format_is_named(const char *spec);

/*
 * A line being built: starts on the caller's stack and grows into pool
 * (the request pool) when a line is longer, so no request mallocs.
 */
typedef struct {
    char *p;
    apr_size_t len, cap;
    apr_pool_t *pool;
} log_line_t;

/* Appends r's line in format f, newline included.  now is when the
 * response ended (for durations).  The owner thread of r. */
void log_format_render(const log_format_t *f, weft_request_t *r, apr_time_t now,
                       log_line_t *out);

/* ---- files (log_writer.c) --------------------------------------------- */

/* One open access log: striped buffers in front of an O_APPEND fd. */
typedef struct log_file_t log_file_t;

/* Opens path for appending (creating it 0644); the result lives until
 * log_file_close.  Main thread, start-up. */
apr_status_t log_file_open(const char *path, log_file_t **out);

/*
 * Queues one whole line (ending in '\n') without a syscall, unless a
 * buffer filled up: then that buffer is written, outside every lock, in
 * one write(2).  Any thread.
 */
void log_file_append(log_file_t *f, const char *line, apr_size_t n);

/* Writes everything queued so far.  Any thread. */
void log_file_flush(log_file_t *f);

/* From now on every line is written as it comes (shutdown: the process
 * may exit without another flush), and what is queued is written now. */
void log_file_write_through(log_file_t *f);

/* Writes what is queued to the current file, then points the descriptor
 * at a fresh open of the path (logrotate).  Any thread. */
apr_status_t log_file_reopen(log_file_t *f);

/* Writes what is queued, closes the file and frees it.  No other thread
 * may use f any more. */
void log_file_close(log_file_t *f);

/* The background flusher: writes every file's queued lines at least once
 * per interval. */
typedef struct log_flusher_t log_flusher_t;

apr_status_t log_flusher_start(log_file_t *const *files, int n,
                               apr_interval_time_t interval,
                               log_flusher_t **out);
/* Stops the thread and waits for it (the files stay open). */
void log_flusher_stop(log_flusher_t *fl);

#endif /* LOG_PRIVATE_H */
