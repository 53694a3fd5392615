/*
 * weft_config.c -- reading configuration files: lines, quoting and
 * comments, Include, finding each directive's declaration and checking its
 * argument shape, the typed setters, and one-line error messages.
 */
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <errno.h>
#include <glob.h>
#include <string.h>

#include "weft_core.h"

/* Config files are small; this bounds what a mistaken Include can read. */
#define CONFIG_MAX_BYTES (16 * 1024 * 1024)
#define INCLUDE_MAX_DEPTH 16

WEFT_DECLARE(const char *)
weft_config_errorf(apr_pool_t *p, const char *file, unsigned line,
                   const char *directive, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    if (directive == NULL)
        return apr_psprintf(p, "%s:%u: %s", file, line, msg);
    return apr_psprintf(p, "%s:%u: %s: %s", file, line, directive, msg);
}

WEFT_DECLARE(const char *)
weft_server_root_relative(apr_pool_t *p, const weft_server_t *s,
                          const char *path)
{
    char *out;
    const char *root = s->conf->server_root;

    if (path == NULL || path[0] == '/')
        return path;
    if (apr_filepath_merge(&out, root, path, 0, p) != APR_SUCCESS)
        return apr_pstrcat(p, root ? root : ".", "/", path, NULL);
    return out;
}

/*
 * Splits one logical line into arguments (Apache's rules): blanks separate
 * them, '#' outside quotes ends the line, an argument that starts with '"'
 * runs to the next unescaped '"' with \" and \\ as its only escapes.
 * *raw gets the text after the first argument, comment and edges removed.
 */
static const char *split_line(apr_pool_t *p, const char *line,
                              apr_array_header_t *argv, const char **raw)
{
    const char *s = line, *raw_start = NULL, *raw_end = NULL;

    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0' || *s == '#')
            break;
        if (argv->nelts == 1)
            raw_start = s;
        if (*s == '"') {
            char *out = apr_palloc(p, strlen(s) + 1), *o = out;
            s++;
            while (*s != '\0' && *s != '"') {
                if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
                    s++;
                *o++ = *s++;
            }
            if (*s != '"')
                return "unterminated quoted argument";
            s++;
            if (*s != '\0' && *s != ' ' && *s != '\t' && *s != '#')
                return "text right after a closing quote "
                       "(separate arguments with a blank)";
            *o = '\0';
            APR_ARRAY_PUSH(argv, const char *) = out;
        } else {
            const char *start = s;
            while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '#') {
                if (*s == '"')
                    return "a double quote inside an unquoted argument "
                           "(quote the whole argument)";
                s++;
            }
            APR_ARRAY_PUSH(argv, const char *) =
                apr_pstrmemdup(p, start, s - start);
        }
        raw_end = s;
    }
    *raw = raw_start ? apr_pstrmemdup(p, raw_start, raw_end - raw_start) : "";
    return NULL;
}

static const char *shape_text(weft_args_t args)
{
    switch (args) {
    case WEFT_ARGS_NONE:
        return "takes no argument";
    case WEFT_ARGS_ONE:
        return "takes one argument";
    case WEFT_ARGS_TWO:
        return "takes two arguments";
    case WEFT_ARGS_ONE_OR_TWO:
        return "takes one or two arguments";
    case WEFT_ARGS_THREE:
        return "takes three arguments";
    case WEFT_ARGS_FLAG:
        return "takes one argument, on or off";
    case WEFT_ARGS_LIST:
        return "takes one or more arguments";
    case WEFT_ARGS_RAW:
        break;
    }
    return "takes any arguments";
}

static int shape_fits(weft_args_t args, int n)
{
    switch (args) {
    case WEFT_ARGS_NONE:
        return n == 0;
    case WEFT_ARGS_ONE:
    case WEFT_ARGS_FLAG:
        return n == 1;
    case WEFT_ARGS_TWO:
        return n == 2;
    case WEFT_ARGS_ONE_OR_TWO:
        return n == 1 || n == 2;
    case WEFT_ARGS_THREE:
        return n == 3;
    case WEFT_ARGS_LIST:
        return n >= 1;
    case WEFT_ARGS_RAW:
        return 1;
    }
    return 0;
}

/* Runs one logical line.  Errors come back in weft's one-line form. */
static apr_status_t run_line(weft_server_t *s, const char *text,
                             const char *file, unsigned line, const char **err)
{
    apr_pool_t *p = s->pool;
    apr_array_header_t *argv = apr_array_make(p, 4, sizeof(const char *));
    const weft_directive_entry_t *e;
    weft_cmd_t cmd;
    const char *raw, *msg, *name;
    const char *const *args;
    int argc;

    msg = split_line(p, text, argv, &raw);
    if (msg != NULL) {
        /* name the directive when it was read before the mistake */
        *err = weft_config_errorf(
            p, file, line,
            argv->nelts > 0 ? APR_ARRAY_IDX(argv, 0, const char *) : NULL, "%s",
            msg);
        return APR_EINVAL;
    }
    if (argv->nelts == 0)
        return APR_SUCCESS;
    name = APR_ARRAY_IDX(argv, 0, const char *);
    e = weft_directive_lookup(s, name);
    if (e == NULL) {
        *err = weft_config_errorf(p, file, line, name, "unknown directive%s",
                                  weft_module_hint(name));
        return APR_EINVAL;
    }
    args = (const char *const *)argv->elts + 1;
    argc = argv->nelts - 1;
    if (e->directive->args == WEFT_ARGS_RAW) {
        args = &raw;
        argc = 1;
    } else if (!shape_fits(e->directive->args, argc)) {
        *err = weft_config_errorf(
            p, file, line, e->directive->name, "%s (got %d); usage: %s",
            shape_text(e->directive->args), argc, e->directive->help);
        return APR_EINVAL;
    }
    memset(&cmd, 0, sizeof(cmd));
    cmd.server = s;
    cmd.directive = e->directive;
    cmd.module = e->module;
    cmd.pool = p;
    cmd.temp_pool = s->temp_pool;
    cmd.file = file;
    cmd.line = line;
    if (e->directive->args == WEFT_ARGS_FLAG &&
        weft_parse_flag(args[0], &cmd.flag) != APR_SUCCESS) {
        *err = weft_config_errorf(p, file, line, e->directive->name,
                                  "takes on or off, not '%s'", args[0]);
        return APR_EINVAL;
    }
    msg = e->directive->fn(&cmd, e->mconfig, argc, args);
    if (msg == NULL)
        return APR_SUCCESS;
    if (msg == weft_config_nested_error)
        *err = s->nested_error; /* an Include's file said it already */
    else
        *err = weft_config_errorf(p, file, line, e->directive->name, "%s", msg);
    return APR_EINVAL;
}

WEFT_DECLARE(apr_status_t)
weft_server_config_line(weft_server_t *s, const char *text, const char *file,
                        unsigned line, const char **err)
{
    return run_line(s, text, apr_pstrdup(s->pool, file), line, err);
}

/* Runs every line of buf; a line ending in '\' continues on the next. */
static apr_status_t run_text(weft_server_t *s, char *buf, const char *file,
                             const char **err)
{
    char *pos = buf, *logical = NULL;
    unsigned lineno = 0, first = 0;

    while (*pos != '\0') {
        char *nl = strchr(pos, '\n'), *end;
        apr_size_t len;
        apr_status_t rv;

        if (nl != NULL)
            *nl = '\0';
        lineno++;
        len = strlen(pos);
        if (len > 0 && pos[len - 1] == '\r')
            pos[--len] = '\0';
        end = pos + len;
        if (logical == NULL) {
            logical = pos;
            first = lineno;
        } else {
            logical = apr_pstrcat(s->temp_pool, logical, " ", pos, NULL);
        }
        if (len > 0 && end[-1] == '\\' && nl != NULL) {
            size_t l = strlen(logical);
            logical[l - 1] = '\0'; /* drop the backslash, keep reading */
        } else {
            rv = run_line(s, logical, file, first, err);
            if (rv != APR_SUCCESS)
                return rv;
            logical = NULL;
        }
        if (nl == NULL)
            break;
        pos = nl + 1;
    }
    if (logical != NULL)
        return run_line(s, logical, file, first, err);
    return APR_SUCCESS;
}

static apr_status_t slurp(apr_pool_t *p, const char *path, char **out)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    apr_status_t rv;
    char *buf;

    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS)
        return rv;
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv == APR_SUCCESS && fi.filetype == APR_DIR)
        rv = APR_FROM_OS_ERROR(EISDIR);
    if (rv == APR_SUCCESS && fi.size > CONFIG_MAX_BYTES)
        rv = APR_EGENERAL;
    if (rv != APR_SUCCESS) {
        apr_file_close(f);
        return rv;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF)
        return rv;
    buf[n] = '\0';
    if (strlen(buf) != n)
        return APR_EINVAL; /* a NUL byte: not a text file */
    *out = buf;
    return APR_SUCCESS;
}

static const char *open_error(apr_pool_t *p, apr_status_t rv)
{
    char e[128];

    if (rv == APR_EGENERAL)
        return "larger than 16 MiB";
    if (rv == APR_EINVAL)
        return "contains a NUL byte";
    return apr_pstrdup(p, apr_strerror(rv, e, sizeof(e)));
}

apr_status_t weft_config_read_file(weft_server_t *s, const char *path,
                                   const char *from_file, unsigned from_line,
                                   const char **err)
{
    char *abs, *buf;
    apr_status_t rv;
    int i;

    if (apr_filepath_merge(&abs, NULL, path, 0, s->temp_pool) != APR_SUCCESS)
        abs = (char *)path;
    for (i = 0; i < s->reading->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(s->reading, i, const char *), abs) == 0) {
            *err = weft_config_errorf(s->pool, from_file, from_line, "Include",
                                      "%s includes itself", path);
            return APR_EINVAL;
        }
    }
    if (s->reading->nelts >= INCLUDE_MAX_DEPTH) {
        *err = weft_config_errorf(s->pool, from_file, from_line, "Include",
                                  "includes nested deeper than %d",
                                  INCLUDE_MAX_DEPTH);
        return APR_EINVAL;
    }
    /* cmd->file outlives the read: Listen and Handler keep it */
    path = apr_pstrdup(s->pool, path);
    rv = slurp(s->temp_pool, path, &buf);
    if (rv != APR_SUCCESS) {
        if (from_file == NULL)
            *err = apr_psprintf(s->pool, "%s: cannot read: %s", path,
                                open_error(s->pool, rv));
        else
            *err = weft_config_errorf(s->pool, from_file, from_line, "Include",
                                      "cannot read %s: %s", path,
                                      open_error(s->pool, rv));
        return rv;
    }
    APR_ARRAY_PUSH(s->reading, const char *) = abs;
    rv = run_text(s, buf, path, err);
    apr_array_pop(s->reading);
    return rv;
}

static int has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* s with glob's special characters backslash-escaped, in p. */
static const char *glob_escape(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, 2 * strlen(s) + 1), *o = out;

    for (; *s != '\0'; s++) {
        if (strchr("*?[\\", *s) != NULL)
            *o++ = '\\';
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* Include PATTERN: a file, or a glob (sorted; matching nothing is fine). */
const char *weft_config_include(const weft_cmd_t *cmd, void *mconfig, int argc,
                                const char *const *argv)
{
    weft_server_t *s = cmd->server;
    const char *path = weft_server_root_relative(cmd->temp_pool, s, argv[0]);
    glob_t g;
    size_t i;
    int rc;

    if (!has_glob(argv[0])) {
        if (weft_config_read_file(s, path, cmd->file, cmd->line,
                                  &s->nested_error) != APR_SUCCESS)
            return weft_config_nested_error;
        return NULL;
    }
    if (argv[0][0] != '/' && s->conf->server_root != NULL)
        path = apr_pstrcat(cmd->temp_pool,
                           glob_escape(cmd->temp_pool, s->conf->server_root),
                           "/", argv[0], NULL);
    rc = glob(path, GLOB_ERR, NULL, &g);
    if (rc == GLOB_NOMATCH)
        return NULL;
    if (rc != 0)
        return apr_psprintf(cmd->pool, "cannot expand %s: %s", path,
                            rc == GLOB_NOSPACE ? "out of memory"
                                               : strerror(errno));
    for (i = 0; i < g.gl_pathc; i++) {
        const char *one = apr_pstrdup(cmd->pool, g.gl_pathv[i]);
        if (weft_config_read_file(s, one, cmd->file, cmd->line,
                                  &s->nested_error) != APR_SUCCESS) {
            globfree(&g);
            return weft_config_nested_error;
        }
    }
    globfree(&g);
    return NULL;
}

const char weft_config_nested_error[] = "(reported by the included file)";

/* ---- typed setters ---------------------------------------------------- */

#define SLOT(type, cmd, mconfig) \
    ((type *)((char *)(mconfig) + (cmd)->directive->offset))

WEFT_DECLARE(const char *)
weft_set_string(const weft_cmd_t *cmd, void *mconfig, int argc,
                const char *const *argv)
{
    *SLOT(const char *, cmd, mconfig) = apr_pstrdup(cmd->pool, argv[0]);
    return NULL;
}

WEFT_DECLARE(const char *)
weft_set_path(const weft_cmd_t *cmd, void *mconfig, int argc,
              const char *const *argv)
{
    *SLOT(const char *, cmd, mconfig) =
        weft_server_root_relative(cmd->pool, cmd->server, argv[0]);
    return NULL;
}

WEFT_DECLARE(const char *)
weft_set_flag(const weft_cmd_t *cmd, void *mconfig, int argc,
              const char *const *argv)
{
    *SLOT(int, cmd, mconfig) = cmd->flag;
    return NULL;
}

WEFT_DECLARE(const char *)
weft_set_duration(const weft_cmd_t *cmd, void *mconfig, int argc,
                  const char *const *argv)
{
    apr_status_t rv =
        weft_parse_duration(argv[0], SLOT(apr_interval_time_t, cmd, mconfig));

    if (rv == APR_ERANGE)
        return apr_psprintf(cmd->pool, "duration '%s' is too large", argv[0]);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool,
                            "'%s' is not a duration (Go syntax: 0, 250ms, "
                            "5s, 1m30s, 2h)",
                            argv[0]);
    return NULL;
}

WEFT_DECLARE(const char *)
weft_set_size(const weft_cmd_t *cmd, void *mconfig, int argc,
              const char *const *argv)
{
    apr_status_t rv = weft_parse_size(argv[0], SLOT(apr_size_t, cmd, mconfig));

    if (rv == APR_ERANGE)
        return apr_psprintf(cmd->pool, "size '%s' is too large", argv[0]);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool,
                            "'%s' is not a size (bytes, optionally with K, "
                            "M or G: 4096, 64K, 1M)",
                            argv[0]);
    return NULL;
}

WEFT_DECLARE(const char *)
weft_set_count(const weft_cmd_t *cmd, void *mconfig, int argc,
               const char *const *argv)
{
    apr_status_t rv = weft_parse_count(argv[0], SLOT(int, cmd, mconfig));

    if (rv == APR_ERANGE)
        return apr_psprintf(cmd->pool, "'%s' is too large", argv[0]);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "'%s' is not a whole number >= 0",
                            argv[0]);
    return NULL;
}
