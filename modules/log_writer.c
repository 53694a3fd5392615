/*
 * log_writer.c -- mod_log's files: lines queue in lock-striped buffers
 * (a memcpy under a short, mostly uncontended lock), and leave in one
 * write(2) of whole lines per buffer, always outside the lock; a flusher
 * thread writes what waits at least once per interval; reopen swaps the
 * descriptor in place with dup3, as the error log does.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log_private.h"

/* A buffer holds this many bytes of whole lines; nginx's default. */
#define LOG_BUFFER_SIZE (64 * 1024)
/* Owner threads spread over this many buffers per file, so two of them
 * rarely want the same lock. */
#define LOG_STRIPES 16
/* Spare buffers kept for reuse per file; more are freed. */
#define LOG_SPARES_MAX (2 * LOG_STRIPES)

typedef struct log_buf_t {
    struct log_buf_t *next; /* on the spare list */
    apr_size_t len;
    char data[LOG_BUFFER_SIZE];
} log_buf_t;

typedef struct {
    pthread_mutex_t mu;
    log_buf_t *buf; /* guarded by mu: lines not yet written, or NULL */
    char pad[64];   /* keeps neighbouring stripes off one cache line */
} log_stripe_t;

struct log_file_t {
    char *path;         /* immutable */
    int fd;             /* immutable: reopen dup3s over the number */
    atomic_int through; /* atomic: write each line as it comes */
    atomic_int failing; /* atomic: the last write failed (said once) */
    pthread_mutex_t spare_mu;
    log_buf_t *spares; /* guarded by spare_mu */
    int nspares;       /* guarded by spare_mu */
    log_stripe_t stripes[LOG_STRIPES];
};

/* Each thread keeps one stripe, handed out round-robin on first use. */
static atomic_uint next_stripe;
static __thread int my_stripe = -1;

static log_stripe_t *stripe_of(log_file_t *f)
{
    if (my_stripe < 0)
        my_stripe = (int)(atomic_fetch_add(&next_stripe, 1) % LOG_STRIPES);
    return &f->stripes[my_stripe];
}

/* ---- buffers ------------------------------------------------------------- */

/* A spare buffer, or a new one (NULL when memory ran out).  Allocations
 * happen only while the set of buffers in flight grows, never per line. */
static log_buf_t *buf_get(log_file_t *f)
{
    log_buf_t *b;

    pthread_mutex_lock(&f->spare_mu);
    b = f->spares;
    if (b != NULL) {
        f->spares = b->next;
        f->nspares--;
    }
    pthread_mutex_unlock(&f->spare_mu);
    if (b == NULL)
        b = malloc(sizeof(*b));
    if (b != NULL)
        b->len = 0;
    return b;
}

static void buf_put(log_file_t *f, log_buf_t *b)
{
    pthread_mutex_lock(&f->spare_mu);
    if (f->nspares < LOG_SPARES_MAX) {
        b->next = f->spares;
        f->spares = b;
        f->nspares++;
        b = NULL;
    }
    pthread_mutex_unlock(&f->spare_mu);
    free(b);
}

/* ---- writing ------------------------------------------------------------- */

/* Says once per run of failures that lines are being lost. */
static void note_result(log_file_t *f, int ok, int err)
{
    if (ok) {
        atomic_store(&f->failing, 0);
        return;
    }
    if (atomic_exchange(&f->failing, 1) == 0)
        weft_log_error(WEFT_LOG_ERR, APR_FROM_OS_ERROR(err),
                       "AccessLog %s: write failed, lines lost", f->path);
}

/*
 * Writes the pieces with writev, resuming after a short write.  With
 * O_APPEND on a regular file each call lands whole at the end, so lines
 * from other threads never cut into these.
 */
static void write_iov(log_file_t *f, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t w = writev(f->fd, iov, cnt);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            note_result(f, 0, errno);
            return;
        }
        while (cnt > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    note_result(f, 1, 0);
}

/* Writes b (if it holds anything) and extra, then recycles b. */
static void write_out(log_file_t *f, log_buf_t *b, const char *extra,
                      apr_size_t n)
{
    struct iovec iov[2];
    int cnt = 0;

    if (b != NULL && b->len > 0) {
        iov[cnt].iov_base = b->data;
        iov[cnt++].iov_len = b->len;
    }
    if (n > 0) {
        iov[cnt].iov_base = (void *)extra;
        iov[cnt++].iov_len = n;
    }
    if (cnt > 0)
        write_iov(f, iov, cnt);
    if (b != NULL)
        buf_put(f, b);
}

/* Takes a stripe's queued lines out under its lock (NULL if none). */
static log_buf_t *take(log_stripe_t *st)
{
    log_buf_t *b;

    pthread_mutex_lock(&st->mu);
    b = st->buf;
    if (b != NULL && b->len == 0)
        b = NULL;
    else
        st->buf = NULL;
    pthread_mutex_unlock(&st->mu);
    return b;
}

static void flush_stripe(log_file_t *f, log_stripe_t *st)
{
    log_buf_t *b = take(st);

    if (b != NULL)
        write_out(f, b, NULL, 0);
}

void log_file_append(log_file_t *f, const char *line, apr_size_t n)
{
    log_stripe_t *st = stripe_of(f);
    log_buf_t *full = NULL;
    int dropped = 0;

    pthread_mutex_lock(&st->mu);
    if (st->buf != NULL && st->buf->len + n > LOG_BUFFER_SIZE) {
        full = st->buf;
        st->buf = NULL;
    }
    if (n > LOG_BUFFER_SIZE) {
        /* A line no buffer holds goes straight out, in the same write as
         * the lines queued before it. */
        pthread_mutex_unlock(&st->mu);
        write_out(f, full, line, n);
        return;
    }
    if (st->buf == NULL)
        st->buf = buf_get(f);
    if (st->buf != NULL) {
        memcpy(st->buf->data + st->buf->len, line, n);
        st->buf->len += n;
    } else {
        dropped = 1; /* out of memory: lose the line, not the server */
    }
    pthread_mutex_unlock(&st->mu);
    if (full != NULL)
        write_out(f, full, NULL, 0);
    if (dropped)
        note_result(f, 0, ENOMEM);
    /* After the append, so that log_file_write_through (which sets the
     * flag, then flushes) either sees this line or leaves it to us. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&f->through))
        flush_stripe(f, st);
}

void log_file_flush(log_file_t *f)
{
    int i;

    for (i = 0; i < LOG_STRIPES; i++)
        flush_stripe(f, &f->stripes[i]);
}

void log_file_write_through(log_file_t *f)
{
    atomic_store(&f->through, 1);
    log_file_flush(f);
}

/* ---- opening, reopening, closing ----------------------------------------- */

static int open_path(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

apr_status_t log_file_open(const char *path, log_file_t **out)
{
    log_file_t *f;
    int i, fd = open_path(path);

    if (fd < 0)
        return APR_FROM_OS_ERROR(errno);
    f = calloc(1, sizeof(*f));
    if (f == NULL || (f->path = strdup(path)) == NULL) {
        free(f);
        close(fd);
        return APR_ENOMEM;
    }
    f->fd = fd;
    atomic_init(&f->through, 0);
    atomic_init(&f->failing, 0);
    pthread_mutex_init(&f->spare_mu, NULL);
    for (i = 0; i < LOG_STRIPES; i++)
        pthread_mutex_init(&f->stripes[i].mu, NULL);
    *out = f;
    return APR_SUCCESS;
}

apr_status_t log_file_reopen(log_file_t *f)
{
    apr_status_t rv = APR_SUCCESS;
    int fd;

    /* Lines queued before the signal belong to the file being rotated
     * away; a line being written right now lands wholly in one file. */
    log_file_flush(f);
    fd = open_path(f->path);
    if (fd < 0)
        return APR_FROM_OS_ERROR(errno);
    if (dup3(fd, f->fd, O_CLOEXEC) < 0)
        rv = APR_FROM_OS_ERROR(errno);
    close(fd);
    return rv;
}

void log_file_close(log_file_t *f)
{
    int i;

    log_file_flush(f);
    close(f->fd);
    for (i = 0; i < LOG_STRIPES; i++)
        pthread_mutex_destroy(&f->stripes[i].mu);
    while (f->spares != NULL) {
        log_buf_t *b = f->spares;
        f->spares = b->next;
        free(b);
    }
    pthread_mutex_destroy(&f->spare_mu);
    free(f->path);
    free(f);
}

/* ---- the flusher ----------------------------------------------------------- */

struct log_flusher_t {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;      /* on CLOCK_MONOTONIC */
    int stop;                 /* guarded by mu */
    log_file_t *const *files; /* immutable */
    int nfiles;
    apr_interval_time_t interval;
};

static void deadline_after(struct timespec *ts, apr_interval_time_t d)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(d / APR_USEC_PER_SEC);
    ts->tv_nsec += (long)(d % APR_USEC_PER_SEC) * 1000;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *flusher_main(void *arg)
{
    log_flusher_t *fl = arg;
    struct timespec next;

    pthread_mutex_lock(&fl->mu);
    deadline_after(&next, fl->interval);
    while (!fl->stop) {
        int i;
        /* A spurious wake-up keeps the deadline it had. */
        if (pthread_cond_timedwait(&fl->cond, &fl->mu, &next) != ETIMEDOUT)
            continue;
        pthread_mutex_unlock(&fl->mu);
        for (i = 0; i < fl->nfiles; i++)
            log_file_flush(fl->files[i]);
        pthread_mutex_lock(&fl->mu);
        deadline_after(&next, fl->interval);
    }
    pthread_mutex_unlock(&fl->mu);
    return NULL;
}

apr_status_t log_flusher_start(log_file_t *const *files, int n,
                               apr_interval_time_t interval,
                               log_flusher_t **out)
{
    log_flusher_t *fl = calloc(1, sizeof(*fl));
    pthread_condattr_t ca;
    int rc;

    if (fl == NULL)
        return APR_ENOMEM;
    fl->files = files;
    fl->nfiles = n;
    fl->interval = interval;
    pthread_mutex_init(&fl->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&fl->cond, &ca);
    pthread_condattr_destroy(&ca);
    rc = pthread_create(&fl->thread, NULL, flusher_main, fl);
    if (rc != 0) {
        pthread_cond_destroy(&fl->cond);
        pthread_mutex_destroy(&fl->mu);
        free(fl);
        return APR_FROM_OS_ERROR(rc);
    }
    *out = fl;
    return APR_SUCCESS;
}

void log_flusher_stop(log_flusher_t *fl)
{
    pthread_mutex_lock(&fl->mu);
    fl->stop = 1;
    pthread_cond_signal(&fl->cond);
    pthread_mutex_unlock(&fl->mu);
    pthread_join(fl->thread, NULL);
    pthread_cond_destroy(&fl->cond);
    pthread_mutex_destroy(&fl->mu);
    free(fl);
}
