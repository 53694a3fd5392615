/*
 * weft_config.h -- directives: how a module declares the configuration it
 * takes, the typed setters that fill its per-server config struct, and the
 * parsers for weft's value syntaxes (durations, sizes, flags).
 */
#ifndef WEFT_CONFIG_H
#define WEFT_CONFIG_H

#include <stddef.h>

#include "weft_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How many arguments a directive takes; the parser checks the count. */
typedef enum {
    WEFT_ARGS_NONE,       /* no argument */
    WEFT_ARGS_ONE,        /* exactly one */
    WEFT_ARGS_TWO,        /* exactly two */
    WEFT_ARGS_ONE_OR_TWO, /* one, optionally a second */
    WEFT_ARGS_THREE,      /* exactly three */
    WEFT_ARGS_FLAG,       /* one of on|off; cmd->flag holds 1 or 0 */
    WEFT_ARGS_LIST,       /* one or more */
    WEFT_ARGS_RAW         /* the rest of the line as written, as argv[0] */
} weft_args_t;

/*
 * What a directive's callback is told.  Valid only during the call; the
 * strings live in cmd->pool (the configuration pool, server lifetime).
 */
struct weft_cmd_t {
    weft_server_t *server;
    const weft_directive_t *directive;
    const weft_module_t *module; /* the module that declared it */
    apr_pool_t *pool;            /* configuration pool: server lifetime */
    apr_pool_t *temp_pool;       /* cleared when reading the files ends */
    const char *file;            /* the file being read, as given */
    unsigned line;               /* line of the directive in that file */
    int flag;                    /* WEFT_ARGS_FLAG: 1 for on, 0 for off */
};

/*
 * A directive's callback.  mconfig is the module's per-server config (what
 * its create_server_config returned).  Return NULL on success, or a short
 * message saying what is wrong (no file, line or directive name: the
 * parser adds them), allocated in cmd->pool or static.
 */
typedef const char *weft_directive_fn(const weft_cmd_t *cmd, void *mconfig,
                                      int argc, const char *const *argv);

struct weft_directive_t {
    const char *name; /* matched case-insensitively, as in Apache */
    weft_args_t args; /* argument shape */
    weft_directive_fn *fn;
    apr_size_t offset; /* for the typed setters: the field's offset */
    const void *data;  /* free for the callback's own use */
    const char *help;  /* one line: the syntax, then what it does */
};

/* Table helpers: WEFT_DIRECTIVE_SLOT points a typed setter at a field. */
#define WEFT_DIRECTIVE(name, args, fn, help)  \
    {                                         \
        (name), (args), (fn), 0, NULL, (help) \
    }
#define WEFT_DIRECTIVE_SLOT(name, args, setter, type, field, help)    \
    {                                                                 \
        (name), (args), (setter), offsetof(type, field), NULL, (help) \
    }
#define WEFT_DIRECTIVE_END                        \
    {                                             \
        NULL, WEFT_ARGS_NONE, NULL, 0, NULL, NULL \
    }

/*
 * Typed setters, for WEFT_DIRECTIVE_SLOT.  Each takes argv[0] and writes the
 * field at directive->offset in mconfig.
 *   weft_set_string    const char *        the argument as given
 *   weft_set_path      const char *        resolved against ServerRoot
 *   weft_set_flag      int                 on|off (shape WEFT_ARGS_FLAG)
 *   weft_set_duration  apr_interval_time_t Go syntax, >= 0
 *   weft_set_size      apr_size_t          bytes with optional K/M/G
 *   weft_set_count     int                 a whole number >= 0
 */
WEFT_DECLARE(const char *)
weft_set_string(const weft_cmd_t *cmd, void *mconfig, int argc,
                const char *const *argv);
WEFT_DECLARE(const char *)
weft_set_path(const weft_cmd_t *cmd, void *mconfig, int argc,
              const char *const *argv);
WEFT_DECLARE(const char *)
weft_set_flag(const weft_cmd_t *cmd, void *mconfig, int argc,
              const char *const *argv);
WEFT_DECLARE(const char *)
weft_set_duration(const weft_cmd_t *cmd, void *mconfig, int argc,
                  const char *const *argv);
WEFT_DECLARE(const char *)
weft_set_size(const weft_cmd_t *cmd, void *mconfig, int argc,
              const char *const *argv);
WEFT_DECLARE(const char *)
weft_set_count(const weft_cmd_t *cmd, void *mconfig, int argc,
               const char *const *argv);

/*
 * Value parsers, for callbacks that take several values.  Each returns
 * APR_SUCCESS, or APR_EINVAL for malformed text and APR_ERANGE for a value
 * that does not fit; *out is untouched on error.
 *
 * Durations use Go's time.ParseDuration syntax: "0", or one or more
 * decimal numbers with a unit (ns us µs ms s m h), e.g. "250ms", "1m30s",
 * "1.5h".  The result is in microseconds (APR's unit); a nonzero duration
 * under 1us rounds up to 1us.  A leading '-' is refused: no weft duration
 * may be negative.
 */
WEFT_DECLARE(apr_status_t)
weft_parse_duration(const char *text, apr_interval_time_t *out);
/* Sizes: a whole number of bytes with an optional K, M or G suffix
 * (powers of 1024, either case). */
WEFT_DECLARE(apr_status_t) weft_parse_size(const char *text, apr_size_t *out);
/* Flags: on|off, case-insensitive; *out is 1 or 0. */
WEFT_DECLARE(apr_status_t) weft_parse_flag(const char *text, int *out);
/* Whole numbers >= 0 that fit an int. */
WEFT_DECLARE(apr_status_t) weft_parse_count(const char *text, int *out);

/* Formats a duration the way Go prints one ("1m30s", "250ms"), in p. */
WEFT_DECLARE(const char *)
weft_format_duration(apr_pool_t *p, apr_interval_time_t d);

/*
 * Resolves path against the server's ServerRoot (absolute paths come back
 * unchanged); the result is in p.
 */
WEFT_DECLARE(const char *)
weft_server_root_relative(apr_pool_t *p, const weft_server_t *s,
                          const char *path);

/*
 * A configuration error in weft's one-line form, "FILE:LINE: DIRECTIVE:
 * message", allocated in p.  For checks that run after the files were read
 * (the test_config hook) and must still point at the offending line.
 */
WEFT_DECLARE(const char *)
weft_config_errorf(apr_pool_t *p, const char *file, unsigned line,
                   const char *directive, const char *fmt, ...)
    WEFT_PRINTF(5, 6);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_CONFIG_H */
