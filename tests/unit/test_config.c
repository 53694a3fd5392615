/*
 * test_config.c -- the configuration parser: argument shapes, quoting,
 * comments, continuation, Include and ServerRoot, core directive values
 * and errors, and the checks that need the whole file (Handler, tls).
 */
#include <apr_strings.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "weft_core.h"
#include "weft_test.h"

/* ---- a test module with one directive per argument shape -------------- */

/* What the shape module's directives leave behind. */
typedef struct {
    int calls;        /* recording directives run so far */
    const char *name; /* the last one's declared name */
    int argc;         /* its argc and argv */
    const char *argv[8];
    int flag;         /* its cmd->flag */
    const char *file; /* its cmd->file and cmd->line */
    unsigned line;
    const weft_module_t *module; /* its cmd->module */
    apr_pool_t *pool;            /* its cmd->pool */
    const char *log; /* every call: argv joined with '|', then ';' */
    /* typed setters */
    const char *str;
    const char *path;
    int fl;
    apr_interval_time_t dur;
    apr_size_t size;
    int count;
} shape_conf_t;

static void *shape_create(apr_pool_t *p, weft_server_t *s)
{
    shape_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->log = "";
    c->fl = -1;
    c->dur = -1;
    c->size = 12345;
    c->count = -1;
    return c;
}

static const char *record(const weft_cmd_t *cmd, void *mconfig, int argc,
                          const char *const *argv)
{
    shape_conf_t *c = mconfig;
    int i;

    c->calls++;
    c->name = cmd->directive->name;
    c->argc = argc;
    for (i = 0; i < argc && i < 8; i++)
        c->argv[i] = argv[i];
    c->flag = cmd->flag;
    c->file = cmd->file;
    c->line = cmd->line;
    c->module = cmd->module;
    c->pool = cmd->pool;
    for (i = 0; i < argc; i++)
        c->log = apr_pstrcat(cmd->pool, c->log, i ? "|" : "", argv[i], NULL);
    c->log = apr_pstrcat(cmd->pool, c->log, ";", NULL);
    return NULL;
}

static const char *refuse(const weft_cmd_t *cmd, void *mconfig, int argc,
                          const char *const *argv)
{
    return apr_psprintf(cmd->pool, "failed on %s", argv[0]);
}

#define SETTER(name, setter, field, help) \
    WEFT_DIRECTIVE_SLOT(name, WEFT_ARGS_ONE, setter, shape_conf_t, field, help)

static const weft_directive_t shape_directives[] = {
    WEFT_DIRECTIVE("ArgsNone", WEFT_ARGS_NONE, record, "ArgsNone"),
    WEFT_DIRECTIVE("ArgsOne", WEFT_ARGS_ONE, record, "ArgsOne A"),
    WEFT_DIRECTIVE("ArgsTwo", WEFT_ARGS_TWO, record, "ArgsTwo A B"),
    WEFT_DIRECTIVE("ArgsOneOrTwo", WEFT_ARGS_ONE_OR_TWO, record,
                   "ArgsOneOrTwo A [B]"),
    WEFT_DIRECTIVE("ArgsThree", WEFT_ARGS_THREE, record, "ArgsThree A B C"),
    WEFT_DIRECTIVE("ArgsFlag", WEFT_ARGS_FLAG, record, "ArgsFlag on|off"),
    WEFT_DIRECTIVE("ArgsList", WEFT_ARGS_LIST, record, "ArgsList A..."),
    WEFT_DIRECTIVE("ArgsRaw", WEFT_ARGS_RAW, record, "ArgsRaw TEXT"),
    WEFT_DIRECTIVE("Fail", WEFT_ARGS_ONE, refuse, "Fail X: always refuses"),
    SETTER("SetString", weft_set_string, str, "SetString S"),
    SETTER("SetPath", weft_set_path, path, "SetPath P"),
    WEFT_DIRECTIVE_SLOT("SetFlag", WEFT_ARGS_FLAG, weft_set_flag, shape_conf_t,
                        fl, "SetFlag on|off"),
    SETTER("SetDuration", weft_set_duration, dur, "SetDuration D"),
    SETTER("SetSize", weft_set_size, size, "SetSize N"),
    SETTER("SetCount", weft_set_count, count, "SetCount N"),
    WEFT_DIRECTIVE_END,
};

static const weft_module_t shape_module = {
    WEFT_MODULE_HEADER, "shape", shape_directives, shape_create, NULL,
};

/* A stand-in for mod_tls: only its name matters to the core's check. */
static const weft_module_t fake_tls_module = {
    WEFT_MODULE_HEADER, "tls", NULL, NULL, NULL,
};

/* ---- fixture and helpers ---------------------------------------------- */

static apr_pool_t *pool;
static weft_server_t *srv;
static const char *err;
static char *dir; /* a private directory for this test's files */

static void setup(void)
{
    const char *why = NULL;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    ck_assert_int_eq(weft_server_create(pool, &srv), APR_SUCCESS);
    ck_assert_int_eq(weft_module_add(srv, &shape_module, "shape_module", NULL,
                                     "test", 0, &why),
                     APR_SUCCESS);
    dir = wt_tmpdir();
    ck_assert_ptr_nonnull(dir);
    err = NULL;
}

static void teardown(void)
{
    weft_server_destroy(srv);
    apr_pool_destroy(pool);
    apr_terminate();
    wt_cleanup();
}

static shape_conf_t *shape(void)
{
    return weft_module_config(srv, &shape_module);
}

static const weft_core_config_t *core(void)
{
    return weft_server_config(srv);
}

/* Runs one line as test.conf:7. */
static apr_status_t line(const char *text)
{
    err = NULL;
    return weft_server_config_line(srv, text, "test.conf", 7, &err);
}

/* Writes dir/name and reads it as a configuration file. */
static apr_status_t read_file(const char *name, const char *content,
                              char **path)
{
    *path = wt_write(dir, name, content);
    err = NULL;
    return weft_server_read_config(srv, *path, &err);
}

static apr_status_t check(void)
{
    err = NULL;
    return weft_server_check_config(srv, &err);
}

static void subdir(const char *name)
{
    ck_assert_int_eq(mkdir(wt_fmt("%s/%s", dir, name), 0700), 0);
}

#define ERR_STARTS(want)                                                     \
    ck_assert_msg(err != NULL && strncmp(err, (want), strlen(want)) == 0,    \
                  "error '%s' should start with '%s'", err ? err : "(null)", \
                  (want))

#define ERR_HAS(needle)                                                   \
    ck_assert_msg(err != NULL && strstr(err, (needle)) != NULL,           \
                  "error '%s' should contain '%s'", err ? err : "(null)", \
                  (needle))

#define LINE_OK(text)                                                 \
    do {                                                              \
        apr_status_t rv_ = line(text);                                \
        ck_assert_msg(rv_ == APR_SUCCESS, "'%s' refused: %s", (text), \
                      err ? err : "(no message)");                    \
    } while (0)

/* The line is refused; the error starts with prefix and holds needle. */
#define LINE_ERR(text, prefix, needle)                              \
    do {                                                            \
        apr_status_t rv_ = line(text);                              \
        ck_assert_msg(rv_ != APR_SUCCESS, "'%s' accepted", (text)); \
        ERR_STARTS(prefix);                                         \
        ERR_HAS(needle);                                            \
    } while (0)

#define READ_OK(name, content, path)                                \
    do {                                                            \
        apr_status_t rv_ = read_file((name), (content), (path));    \
        ck_assert_msg(rv_ == APR_SUCCESS, "%s refused: %s", (name), \
                      err ? err : "(no message)");                  \
    } while (0)

#define READ_ERR(name, content, path)                             \
    do {                                                          \
        apr_status_t rv_ = read_file((name), (content), (path));  \
        ck_assert_msg(rv_ != APR_SUCCESS, "%s accepted", (name)); \
        ck_assert_ptr_nonnull(err);                               \
    } while (0)

/* ---- argument shapes -------------------------------------------------- */

START_TEST(shape_none)
{
    LINE_OK("ArgsNone");
    ck_assert_int_eq(shape()->calls, 1);
    ck_assert_int_eq(shape()->argc, 0);
    LINE_ERR("ArgsNone x",
             "test.conf:7: ArgsNone: ", "takes no argument (got 1)");
    ck_assert_int_eq(shape()->calls, 1); /* not called when refused */
}
END_TEST

START_TEST(shape_one)
{
    LINE_OK("ArgsOne a");
    ck_assert_int_eq(shape()->argc, 1);
    ck_assert_str_eq(shape()->argv[0], "a");
    LINE_ERR("ArgsOne", "test.conf:7: ArgsOne: ", "takes one argument (got 0)");
    LINE_ERR("ArgsOne a b",
             "test.conf:7: ArgsOne: ", "takes one argument (got 2)");
    ERR_HAS("usage: ArgsOne A"); /* the help line follows */
    ck_assert_int_eq(shape()->calls, 1);
}
END_TEST

START_TEST(shape_two)
{
    LINE_OK("ArgsTwo a b");
    ck_assert_int_eq(shape()->argc, 2);
    ck_assert_str_eq(shape()->argv[1], "b");
    LINE_ERR("ArgsTwo a",
             "test.conf:7: ArgsTwo: ", "takes two arguments (got 1)");
    LINE_ERR("ArgsTwo a b c",
             "test.conf:7: ArgsTwo: ", "takes two arguments (got 3)");
    ck_assert_int_eq(shape()->calls, 1);
}
END_TEST

START_TEST(shape_one_or_two)
{
    LINE_OK("ArgsOneOrTwo a");
    ck_assert_int_eq(shape()->argc, 1);
    LINE_OK("ArgsOneOrTwo a b");
    ck_assert_int_eq(shape()->argc, 2);
    LINE_ERR("ArgsOneOrTwo", "test.conf:7: ArgsOneOrTwo: ",
             "takes one or two arguments (got 0)");
    LINE_ERR("ArgsOneOrTwo a b c", "test.conf:7: ArgsOneOrTwo: ",
             "takes one or two arguments (got 3)");
    ck_assert_int_eq(shape()->calls, 2);
}
END_TEST

START_TEST(shape_three)
{
    LINE_OK("ArgsThree a b c");
    ck_assert_int_eq(shape()->argc, 3);
    ck_assert_str_eq(shape()->log, "a|b|c;");
    LINE_ERR("ArgsThree a b",
             "test.conf:7: ArgsThree: ", "takes three arguments (got 2)");
    LINE_ERR("ArgsThree a b c d",
             "test.conf:7: ArgsThree: ", "takes three arguments (got 4)");
    ck_assert_int_eq(shape()->calls, 1);
}
END_TEST

START_TEST(shape_flag)
{
    LINE_OK("ArgsFlag on");
    ck_assert_int_eq(shape()->flag, 1);
    ck_assert_str_eq(shape()->argv[0], "on");
    LINE_OK("ArgsFlag OFF");
    ck_assert_int_eq(shape()->flag, 0);
    LINE_OK("ArgsFlag On");
    ck_assert_int_eq(shape()->flag, 1);
    LINE_ERR("ArgsFlag", "test.conf:7: ArgsFlag: ",
             "takes one argument, on or off (got 0)");
    LINE_ERR("ArgsFlag on off", "test.conf:7: ArgsFlag: ",
             "takes one argument, on or off (got 2)");
    LINE_ERR("ArgsFlag yes",
             "test.conf:7: ArgsFlag: ", "takes on or off, not 'yes'");
    ck_assert_int_eq(shape()->calls, 3);
}
END_TEST

START_TEST(shape_list)
{
    LINE_OK("ArgsList a");
    ck_assert_int_eq(shape()->argc, 1);
    LINE_OK("ArgsList a b c d e");
    ck_assert_int_eq(shape()->argc, 5);
    ck_assert_str_eq(shape()->log, "a;a|b|c|d|e;");
    LINE_ERR("ArgsList",
             "test.conf:7: ArgsList: ", "takes one or more arguments (got 0)");
    ck_assert_int_eq(shape()->calls, 2);
}
END_TEST

START_TEST(shape_raw)
{
    /* the rest of the line as written: inner blanks and quotes kept,
     * edges and the comment removed */
    LINE_OK("ArgsRaw   a  \"b  c\"\td   # a comment");
    ck_assert_int_eq(shape()->argc, 1);
    ck_assert_str_eq(shape()->argv[0], "a  \"b  c\"\td");
    LINE_OK("ArgsRaw");
    ck_assert_int_eq(shape()->argc, 1);
    ck_assert_str_eq(shape()->argv[0], "");
    LINE_OK("ArgsRaw one");
    ck_assert_str_eq(shape()->argv[0], "one");
    ck_assert_int_eq(shape()->calls, 3);
}
END_TEST

START_TEST(callback_error_and_context)
{
    LINE_ERR("Fail x", "test.conf:7: Fail: ", "failed on x");
    ck_assert_str_eq(err, "test.conf:7: Fail: failed on x");
    ck_assert_int_eq(
        weft_server_config_line(srv, "ArgsOne a", "other.conf", 42, &err),
        APR_SUCCESS);
    ck_assert_str_eq(shape()->name, "ArgsOne");
    ck_assert_str_eq(shape()->file, "other.conf");
    ck_assert_uint_eq(shape()->line, 42);
    ck_assert_ptr_eq(shape()->module, &shape_module);
    ck_assert_ptr_eq(shape()->pool, weft_server_pool(srv));
    /* the one-line form, for checks made after reading */
    ck_assert_str_eq(weft_config_errorf(pool, "f.conf", 9, "Dir", "x %d", 1),
                     "f.conf:9: Dir: x 1");
    ck_assert_str_eq(weft_config_errorf(pool, "f.conf", 9, NULL, "x"),
                     "f.conf:9: x");
}
END_TEST

/* ---- quoting ---------------------------------------------------------- */

START_TEST(quoted_blanks_and_hash)
{
    LINE_OK("ArgsList \"a b\"  c\t\"d\te\"");
    ck_assert_int_eq(shape()->argc, 3);
    ck_assert_str_eq(shape()->argv[0], "a b");
    ck_assert_str_eq(shape()->argv[1], "c");
    ck_assert_str_eq(shape()->argv[2], "d\te");
    LINE_OK("ArgsOne \"a # not a comment\"  # but this is");
    ck_assert_int_eq(shape()->argc, 1);
    ck_assert_str_eq(shape()->argv[0], "a # not a comment");
    LINE_OK("ArgsList \"q\"# comment right after the quote");
    ck_assert_int_eq(shape()->argc, 1);
    ck_assert_str_eq(shape()->argv[0], "q");
    /* '#' outside quotes starts a comment, even inside a word */
    LINE_OK("ArgsList a#b c");
    ck_assert_int_eq(shape()->argc, 1);
    ck_assert_str_eq(shape()->argv[0], "a");
    LINE_OK("ArgsList \"\" x");
    ck_assert_int_eq(shape()->argc, 2);
    ck_assert_str_eq(shape()->argv[0], "");
}
END_TEST

START_TEST(quote_escapes)
{
    LINE_OK("ArgsList \"say \\\"hi\\\"\" \"back\\\\slash\" \"end\\\\\"");
    ck_assert_int_eq(shape()->argc, 3);
    ck_assert_str_eq(shape()->argv[0], "say \"hi\"");
    ck_assert_str_eq(shape()->argv[1], "back\\slash");
    ck_assert_str_eq(shape()->argv[2], "end\\");
    /* other backslashes are literal, quoted or not */
    LINE_OK("ArgsList \"C:\\dir\\n\" a\\b \\t");
    ck_assert_int_eq(shape()->argc, 3);
    ck_assert_str_eq(shape()->argv[0], "C:\\dir\\n");
    ck_assert_str_eq(shape()->argv[1], "a\\b");
    ck_assert_str_eq(shape()->argv[2], "\\t");
}
END_TEST

START_TEST(quote_errors)
{
    LINE_ERR("ArgsList \"abc", "test.conf:7: ", "unterminated quoted argument");
    LINE_ERR("ArgsList \"abc\\\"",
             "test.conf:7: ", "unterminated quoted argument");
    LINE_ERR("ArgsList \"a\"b",
             "test.conf:7: ", "text right after a closing quote");
    LINE_ERR("ArgsList a\"b\"",
             "test.conf:7: ", "double quote inside an unquoted argument");
    LINE_ERR("ArgsList ab\"",
             "test.conf:7: ", "double quote inside an unquoted argument");
    ck_assert_int_eq(shape()->calls, 0);
}
END_TEST

/*
 * contract/testapp.md says the error line "names the directive": a quoting
 * error found after the directive's name was read names it.
 */
START_TEST(quote_errors_name_the_directive)
{
    LINE_ERR("ArgsList \"abc",
             "test.conf:7: ArgsList: ", "unterminated quoted argument");
    LINE_ERR("ArgsList \"a\"b",
             "test.conf:7: ArgsList: ", "text right after a closing quote");
    LINE_ERR("ArgsList a\"b\"", "test.conf:7: ArgsList: ",
             "double quote inside an unquoted argument");
}
END_TEST

/* ---- lines: comments, blank lines, CRLF, continuation, names ---------- */

START_TEST(comments_and_blank_lines)
{
    char *path;

    READ_OK("main.conf",
            "# a comment\n"
            "\n"
            "   # an indented comment\n"
            "\t\n"
            "ArgsList a   # a trailing comment\n"
            "    \n"
            "#ArgsList commented out\n"
            "ArgsList b\n",
            &path);
    ck_assert_str_eq(shape()->log, "a;b;");
    ck_assert_uint_eq(shape()->line, 8);
    ck_assert_str_eq(shape()->file, path);
    /* the count of physical lines goes on through comments */
    READ_ERR("bad.conf", "# one\n\n# three\nArgsOne\n", &path);
    ERR_STARTS(wt_fmt("%s:4: ArgsOne: takes one argument", path));
}
END_TEST

START_TEST(crlf_line_endings)
{
    char *path;

    READ_OK("crlf.conf",
            "# comment\r\nArgsList a b\r\n\r\nArgsOne \"q\"\r\n"
            "ArgsList c \\\r\n d\r\n",
            &path);
    ck_assert_str_eq(shape()->log, "a|b;q;c|d;");
    READ_ERR("crlf-bad.conf", "ArgsOne x\r\n\r\nArgsOne\r\n", &path);
    ERR_STARTS(wt_fmt("%s:3: ArgsOne: takes one argument (got 0)", path));
}
END_TEST

START_TEST(continuation_lines)
{
    char *path;

    READ_OK("cont.conf",
            "# comment\n"
            "ArgsList a \\\n"
            "   b \\\n"
            "   \"c d\"\n"
            "ArgsOne e\n",
            &path);
    ck_assert_str_eq(shape()->log, "a|b|c d;e;");
    ck_assert_uint_eq(shape()->line, 5);
    READ_OK("cont2.conf", "ArgsList x \\\ny\n", &path);
    ck_assert_uint_eq(shape()->line, 1); /* the first physical line */
    ck_assert_str_eq(shape()->log, "a|b|c d;e;x|y;");
}
END_TEST

START_TEST(continuation_error_line)
{
    char *path;

    READ_ERR("cont.conf",
             "ArgsOne ok\n"
             "\n"
             "ArgsOne a \\\n"
             "  b \\\n"
             "  c\n",
             &path);
    ERR_STARTS(wt_fmt("%s:3: ArgsOne: takes one argument (got 3)", path));
    READ_ERR("unknown.conf", "\nBogus \\\n  x\n", &path);
    ERR_STARTS(wt_fmt("%s:2: Bogus: unknown directive", path));
}
END_TEST

START_TEST(directive_names_case_insensitive)
{
    LINE_OK("argsone a");
    LINE_OK("ARGSONE b");
    LINE_OK("aRgSoNe c");
    ck_assert_str_eq(shape()->log, "a;b;c;");
    ck_assert_str_eq(shape()->name, "ArgsOne");
    LINE_OK("keepalive OFF");
    ck_assert_int_eq(core()->keep_alive, 0);
    LINE_OK("READTIMEOUT 2s");
    ck_assert_int_eq(core()->read_timeout, 2000000);
    /* shape errors use the declared spelling */
    LINE_ERR("argsone", "test.conf:7: ArgsOne: ", "takes one argument");
}
END_TEST

START_TEST(unknown_directive)
{
    char *path;

    LINE_ERR("Bogus 1 2", "test.conf:7: Bogus: unknown directive",
             "misspelled, or defined by a module that is not loaded");
    ck_assert_str_eq(err, "test.conf:7: Bogus: unknown directive (misspelled, "
                          "or defined by a module that is not loaded)");
    /* named as written */
    LINE_ERR("bOgUs", "test.conf:7: bOgUs: unknown directive", "misspelled");
    READ_ERR("main.conf", "ArgsOne a\n# comment\n\nNoSuchThing x\n", &path);
    ERR_STARTS(wt_fmt("%s:4: NoSuchThing: unknown directive", path));
    /* the lines before it ran */
    ck_assert_str_eq(shape()->log, "a;");
}
END_TEST

START_TEST(unknown_directive_hints)
{
    LINE_ERR("Handle \"/\" testapp", "test.conf:7: Handle: ", "mux_module");
    ck_assert_str_eq(err, "test.conf:7: Handle: unknown directive (it belongs "
                          "to mux_module: put `LoadModule mux_module PATH` "
                          "before this line)");
    LINE_ERR("TLSCertificateFile cert.pem",
             "test.conf:7: TLSCertificateFile: unknown directive",
             "tls_module");
    LINE_ERR("StaticRoot /srv", "test.conf:7: StaticRoot: ", "static_module");
    LINE_ERR("AccessLog x common", "test.conf:7: AccessLog: ", "log_module");
    /* only Handle itself belongs to the mux */
    LINE_ERR("HandleAll x", "test.conf:7: HandleAll: ", "misspelled");
    ck_assert_ptr_null(strstr(err, "mux_module"));
}
END_TEST

/* ---- Include and ServerRoot ------------------------------------------- */

START_TEST(include_file_relative_to_main_dir)
{
    char *path, *inc;

    subdir("sub");
    inc = wt_write(dir, "sub/inc.conf", "ArgsList inc\n");
    wt_write(dir, "spaced name.conf", "ArgsList spaced\n");
    READ_OK("main.conf",
            "ArgsList before\n"
            "Include sub/inc.conf\n"
            "Include \"spaced name.conf\"\n"
            "Include sub/inc.conf\n" /* twice in a row is no loop */
            "ArgsList after\n",
            &path);
    ck_assert_str_eq(shape()->log, "before;inc;spaced;inc;after;");
    ck_assert_str_eq(core()->server_root, dir);
    /* an absolute Include works from anywhere */
    ck_assert_int_eq(line(wt_fmt("Include %s", inc)), APR_SUCCESS);
    ck_assert_str_eq(shape()->log, "before;inc;spaced;inc;after;inc;");
}
END_TEST

START_TEST(include_glob_sorted)
{
    char *path;

    subdir("conf.d");
    wt_write(dir, "conf.d/20-b.conf", "ArgsList b\n");
    wt_write(dir, "conf.d/30-c.conf", "ArgsList c1\nArgsList c2\n");
    wt_write(dir, "conf.d/10-a.conf", "ArgsList a\n");
    wt_write(dir, "conf.d/README", "not a directive\n");
    wt_write(dir, "conf.d/15-x.conf.off", "Bogus\n");
    READ_OK("main.conf",
            "ArgsList first\nInclude conf.d/*.conf\nArgsList end\n", &path);
    ck_assert_str_eq(shape()->log, "first;a;b;c1;c2;end;");
    /* a glob that matches nothing is fine */
    LINE_OK(wt_fmt("Include %s/conf.d/*.none", dir));
    LINE_OK(wt_fmt("Include %s/conf.d/9?-*.conf", dir));
    ck_assert_str_eq(shape()->log, "first;a;b;c1;c2;end;");
}
END_TEST

START_TEST(include_glob_nested_error)
{
    char *path;

    subdir("conf.d");
    wt_write(dir, "conf.d/10-a.conf", "ArgsList a\n");
    wt_write(dir, "conf.d/20-b.conf", "ArgsList b\n\nArgsTwo x\n");
    wt_write(dir, "conf.d/30-c.conf", "ArgsList c\n");
    READ_ERR("main.conf", "\nInclude conf.d/*.conf\n", &path);
    ERR_STARTS(
        wt_fmt("%s/conf.d/20-b.conf:3: ArgsTwo: takes two arguments", dir));
    ck_assert_str_eq(shape()->log, "a;b;");
}
END_TEST

START_TEST(include_missing_file)
{
    char *path;

    READ_ERR("main.conf", "# comment\nArgsList a\nInclude nope.conf\n", &path);
    ERR_STARTS(wt_fmt("%s:3: Include: cannot read %s/nope.conf: ", path, dir));
    ERR_HAS("No such file");
}
END_TEST

START_TEST(include_nested_error)
{
    char *path;

    wt_write(dir, "inner.conf", "ArgsList inner\n# two\nBogus thing\n");
    wt_write(dir, "middle.conf", "ArgsList middle\nInclude inner.conf\n");
    READ_ERR("main.conf", "ArgsList main\n\n\nInclude middle.conf\n", &path);
    /* the included file's own name and line, not the Include line */
    ERR_STARTS(wt_fmt("%s/inner.conf:3: Bogus: unknown directive", dir));
    ck_assert_str_eq(shape()->log, "main;middle;inner;");

    /* the same through one line */
    LINE_ERR(wt_fmt("Include %s/inner.conf", dir),
             wt_fmt("%s/inner.conf:3: Bogus: ", dir), "unknown directive");
}
END_TEST

START_TEST(include_self_loop)
{
    char *path;

    READ_ERR("main.conf", "ArgsList a\nInclude main.conf\n", &path);
    ERR_STARTS(wt_fmt("%s:2: Include: ", path));
    ERR_HAS("includes itself");
    ck_assert_str_eq(shape()->log, "a;");
}
END_TEST

START_TEST(include_indirect_loop)
{
    char *path;

    wt_write(dir, "a.conf", "ArgsList a\nInclude b.conf\n");
    wt_write(dir, "b.conf", "ArgsList b\n\nInclude a.conf\n");
    path = wt_fmt("%s/a.conf", dir);
    ck_assert_int_ne(weft_server_read_config(srv, path, &err), APR_SUCCESS);
    ERR_STARTS(wt_fmt("%s/b.conf:3: Include: ", dir));
    ERR_HAS("includes itself");
    ck_assert_str_eq(shape()->log, "a;b;");
}
END_TEST

START_TEST(include_glob_of_own_directory)
{
    char *path;

    wt_write(dir, "other.conf", "ArgsList other\n");
    READ_ERR("main.conf", "ArgsList main\nInclude *.conf\n", &path);
    ERR_STARTS(wt_fmt("%s:2: Include: ", path));
    ERR_HAS("includes itself");
}
END_TEST

/* Writes c0.conf .. cN.conf, each including the next; cN ends the chain. */
static char *include_chain(int n)
{
    int i;

    for (i = 0; i < n; i++)
        wt_write(dir, wt_fmt("c%d.conf", i),
                 wt_fmt("Include c%d.conf\n", i + 1));
    wt_write(dir, wt_fmt("c%d.conf", n), "ArgsList end\n");
    return wt_fmt("%s/c0.conf", dir);
}

START_TEST(include_depth_limit)
{
    /* 16 files open at once is the limit: c0 .. c15 */
    char *path = include_chain(15);

    ck_assert_msg(weft_server_read_config(srv, path, &err) == APR_SUCCESS,
                  "16 nested files refused: %s", err);
    ck_assert_str_eq(shape()->log, "end;");
}
END_TEST

START_TEST(include_too_deep)
{
    char *path = include_chain(16);

    ck_assert_int_ne(weft_server_read_config(srv, path, &err), APR_SUCCESS);
    ERR_STARTS(wt_fmt("%s/c15.conf:1: Include: ", dir));
    ERR_HAS("nested deeper than 16");
    ck_assert_str_eq(shape()->log, "");
}
END_TEST

START_TEST(server_root_explicit)
{
    char *path, *other = wt_fmt("%s/other", dir);

    subdir("other");
    wt_write(dir, "inc.conf", "ArgsList wrong\n");
    wt_write(dir, "other/inc.conf", "ArgsList right\n");
    READ_OK("main.conf",
            wt_fmt("ServerRoot %s\nInclude inc.conf\nSetPath rel/x\n"
                   "PidFile run/weft.pid\nErrorLog logs/error.log\n",
                   other),
            &path);
    ck_assert_str_eq(shape()->log, "right;");
    ck_assert_str_eq(core()->server_root, other);
    ck_assert_str_eq(shape()->path, wt_fmt("%s/rel/x", other));
    ck_assert_str_eq(core()->pid_file, wt_fmt("%s/run/weft.pid", other));
    ck_assert_str_eq(core()->error_log, wt_fmt("%s/logs/error.log", other));
    /* absolute paths come back unchanged */
    LINE_OK("SetPath /abs/x");
    ck_assert_str_eq(shape()->path, "/abs/x");
    LINE_OK("ErrorLog stderr");
    ck_assert_ptr_null(core()->error_log);
}
END_TEST

START_TEST(server_root_before_main_file)
{
    char *path, *other = wt_fmt("%s/other", dir);

    /* a ServerRoot given before the main file is read is kept */
    subdir("other");
    wt_write(dir, "inc.conf", "ArgsList wrong\n");
    wt_write(dir, "other/inc.conf", "ArgsList right\n");
    LINE_OK(wt_fmt("ServerRoot %s", other));
    READ_OK("main.conf", "Include inc.conf\n", &path);
    ck_assert_str_eq(shape()->log, "right;");
    ck_assert_str_eq(core()->server_root, other);
}
END_TEST

START_TEST(server_root_default_paths)
{
    char *path;

    READ_OK("main.conf", "SetPath rel/x\nPidFile weft.pid\n", &path);
    ck_assert_str_eq(core()->server_root, dir);
    ck_assert_str_eq(shape()->path, wt_fmt("%s/rel/x", dir));
    ck_assert_str_eq(core()->pid_file, wt_fmt("%s/weft.pid", dir));
}
END_TEST

START_TEST(server_root_not_directory)
{
    char *path, *file = wt_write(dir, "plain", "x\n");

    READ_ERR("main.conf", wt_fmt("# root\nServerRoot %s\n", file), &path);
    ERR_STARTS(wt_fmt("%s:2: ServerRoot: %s is not a directory", path, file));
    LINE_ERR(
        wt_fmt("ServerRoot %s/missing", dir),
        wt_fmt("test.conf:7: ServerRoot: %s/missing is not a directory", dir),
        "not a directory");
}
END_TEST

START_TEST(main_file_missing)
{
    char *path = wt_fmt("%s/missing.conf", dir);

    ck_assert_int_ne(weft_server_read_config(srv, path, &err), APR_SUCCESS);
    ERR_STARTS(wt_fmt("%s: cannot read: ", path));
    ERR_HAS("No such file");
}
END_TEST

/* ---- typed setters ---------------------------------------------------- */

START_TEST(typed_setters)
{
    LINE_OK("SetString \"a b\"");
    ck_assert_str_eq(shape()->str, "a b");
    LINE_OK("SetFlag off");
    ck_assert_int_eq(shape()->fl, 0);
    LINE_OK("SetFlag ON");
    ck_assert_int_eq(shape()->fl, 1);
    LINE_OK("SetDuration 1m30s");
    ck_assert_int_eq(shape()->dur, 90000000);
    LINE_OK("SetDuration 250ms");
    ck_assert_int_eq(shape()->dur, 250000);
    LINE_OK("SetDuration 0");
    ck_assert_int_eq(shape()->dur, 0);
    LINE_OK("SetSize 64K");
    ck_assert_uint_eq(shape()->size, 65536);
    LINE_OK("SetSize 2m");
    ck_assert_uint_eq(shape()->size, 2 * 1024 * 1024);
    LINE_OK("SetSize 100");
    ck_assert_uint_eq(shape()->size, 100);
    LINE_OK("SetCount 12");
    ck_assert_int_eq(shape()->count, 12);
    LINE_OK("SetCount 0");
    ck_assert_int_eq(shape()->count, 0);
}
END_TEST

START_TEST(typed_setter_errors)
{
    LINE_ERR("SetDuration 5",
             "test.conf:7: SetDuration: ", "'5' is not a duration");
    LINE_ERR("SetDuration -1s",
             "test.conf:7: SetDuration: ", "'-1s' is not a duration");
    LINE_ERR("SetDuration 99999999999999999999h",
             "test.conf:7: SetDuration: ", "too large");
    ck_assert_int_eq(shape()->dur, -1); /* untouched */
    LINE_ERR("SetSize 1KB", "test.conf:7: SetSize: ", "'1KB' is not a size");
    LINE_ERR("SetSize 99999999999999999999",
             "test.conf:7: SetSize: ", "too large");
    ck_assert_uint_eq(shape()->size, 12345);
    LINE_ERR("SetCount -1",
             "test.conf:7: SetCount: ", "'-1' is not a whole number >= 0");
    LINE_ERR("SetCount 2147483648", "test.conf:7: SetCount: ", "too large");
    ck_assert_int_eq(shape()->count, -1);
    LINE_ERR("SetFlag yes",
             "test.conf:7: SetFlag: ", "takes on or off, not 'yes'");
    ck_assert_int_eq(shape()->fl, -1);
}
END_TEST

/* ---- the core directives ---------------------------------------------- */

START_TEST(core_defaults)
{
    const weft_core_config_t *c = core();

    ck_assert_ptr_null(c->handler_name);
    ck_assert_int_eq(c->read_timeout, 0);
    ck_assert_int_eq(c->read_header_timeout, 0);
    ck_assert_int_eq(c->write_timeout, 0);
    ck_assert_int_eq(c->idle_timeout, 0);
    ck_assert_int_eq(c->shutdown_timeout, 30000000);
    ck_assert_uint_eq(c->max_header_bytes, 0);
    ck_assert_int_eq(c->keep_alive, 1);
    ck_assert_str_eq(c->mpm, "thread");
    ck_assert_int_eq(c->threads, 256);
    ck_assert_int_eq(c->max_connections, 0);
    ck_assert_uint_eq(c->response_buffer_size, 4096);
    ck_assert_ptr_null(c->error_log);
    ck_assert_int_eq(c->log_level, WEFT_LOG_NOTICE);
    ck_assert_ptr_null(c->pid_file);
    ck_assert_int_eq(c->listens->nelts, 0);
}
END_TEST

START_TEST(core_values)
{
    const weft_core_config_t *c = core();
    char *path;

    READ_OK("main.conf",
            "ReadTimeout 250ms\n"
            "ReadHeaderTimeout 5s\n"
            "WriteTimeout 1m30s\n"
            "IdleTimeout 1.5s\n"
            "ShutdownTimeout 0\n"
            "MaxHeaderBytes 64K\n"
            "KeepAlive off\n"
            "MPM Worker\n"
            "Threads 8\n"
            "MaxConnections 100\n"
            "ResponseBufferSize 1M\n"
            "LogLevel DEBUG\n"
            "Handler testapp\n",
            &path);
    ck_assert_int_eq(c->read_timeout, 250000);
    ck_assert_int_eq(c->read_header_timeout, 5000000);
    ck_assert_int_eq(c->write_timeout, 90000000);
    ck_assert_int_eq(c->idle_timeout, 1500000);
    ck_assert_int_eq(c->shutdown_timeout, 0);
    ck_assert_uint_eq(c->max_header_bytes, 65536);
    ck_assert_int_eq(c->keep_alive, 0);
    ck_assert_str_eq(c->mpm, "worker");
    ck_assert_int_eq(c->threads, 8);
    ck_assert_int_eq(c->max_connections, 100);
    ck_assert_uint_eq(c->response_buffer_size, 1048576);
    ck_assert_int_eq(c->log_level, WEFT_LOG_DEBUG);
    ck_assert_str_eq(c->handler_name, "testapp");
    LINE_OK("MPM thread");
    ck_assert_str_eq(c->mpm, "thread");
    LINE_OK("KeepAlive on");
    ck_assert_int_eq(c->keep_alive, 1);
    LINE_OK("ResponseBufferSize 64M"); /* the upper bound is allowed */
    ck_assert_uint_eq(c->response_buffer_size, 64 * 1024 * 1024);
    LINE_OK("LogLevel warn");
    ck_assert_int_eq(c->log_level, WEFT_LOG_WARN);
}
END_TEST

START_TEST(core_duration_errors)
{
    LINE_ERR("ReadTimeout 5",
             "test.conf:7: ReadTimeout: ", "'5' is not a duration");
    LINE_ERR("ReadHeaderTimeout -1s",
             "test.conf:7: ReadHeaderTimeout: ", "'-1s' is not a duration");
    LINE_ERR("WriteTimeout 5sec",
             "test.conf:7: WriteTimeout: ", "not a duration");
    LINE_ERR("IdleTimeout 1d", "test.conf:7: IdleTimeout: ", "not a duration");
    LINE_ERR("ShutdownTimeout",
             "test.conf:7: ShutdownTimeout: ", "takes one argument (got 0)");
    LINE_ERR("ReadTimeout 1s 2s",
             "test.conf:7: ReadTimeout: ", "takes one argument (got 2)");
    ck_assert_int_eq(core()->read_timeout, 0);
    ck_assert_int_eq(core()->shutdown_timeout, 30000000);
}
END_TEST

START_TEST(core_size_flag_count_errors)
{
    LINE_ERR("MaxHeaderBytes 1KB",
             "test.conf:7: MaxHeaderBytes: ", "'1KB' is not a size");
    LINE_ERR("MaxHeaderBytes -1",
             "test.conf:7: MaxHeaderBytes: ", "not a size");
    LINE_ERR("KeepAlive yes",
             "test.conf:7: KeepAlive: ", "takes on or off, not 'yes'");
    LINE_ERR("KeepAlive", "test.conf:7: KeepAlive: ",
             "takes one argument, on or off (got 0)");
    LINE_ERR("MaxConnections lots", "test.conf:7: MaxConnections: ",
             "'lots' is not a whole number >= 0");
    LINE_ERR("MaxConnections -5",
             "test.conf:7: MaxConnections: ", "not a whole number");
    LINE_ERR("MaxConnections 99999999999",
             "test.conf:7: MaxConnections: ", "too large");
    LINE_ERR("Threads -1", "test.conf:7: Threads: ", "not a whole number");
    ck_assert_uint_eq(core()->max_header_bytes, 0);
    ck_assert_int_eq(core()->keep_alive, 1);
    ck_assert_int_eq(core()->max_connections, 0);
}
END_TEST

START_TEST(core_mpm_threads_buffer_level_errors)
{
    LINE_ERR("MPM event", "test.conf:7: MPM: ", "unknown MPM 'event'");
    ck_assert_str_eq(core()->mpm, "thread");
    LINE_ERR("Threads 0", "test.conf:7: Threads: ", "at least 1");
    LINE_ERR("ResponseBufferSize 0",
             "test.conf:7: ResponseBufferSize: ", "out of range");
    LINE_ERR("ResponseBufferSize 65M",
             "test.conf:7: ResponseBufferSize: ", "out of range");
    LINE_ERR("ResponseBufferSize 4KB",
             "test.conf:7: ResponseBufferSize: ", "not a size");
    LINE_ERR("LogLevel bogus",
             "test.conf:7: LogLevel: ", "unknown level 'bogus'");
    ck_assert_int_eq(core()->log_level, WEFT_LOG_NOTICE);
    LINE_ERR("LoadModule x_module",
             "test.conf:7: LoadModule: ", "takes two arguments (got 1)");
    LINE_ERR("Handler", "test.conf:7: Handler: ", "takes one argument");
}
END_TEST

START_TEST(listen_parse)
{
    const weft_core_config_t *c = core();
    weft_listen_t *l;
    char *path;

    READ_OK("main.conf",
            "# listeners\n"
            "Listen 127.0.0.1:8080\n"
            "Listen 8081\n"
            "listen [::1]:8443 TLS\n"
            "Listen :8082\n",
            &path);
    ck_assert_int_eq(c->listens->nelts, 4);
    l = &APR_ARRAY_IDX(c->listens, 0, weft_listen_t);
    ck_assert_str_eq(l->text, "127.0.0.1:8080");
    ck_assert_str_eq(l->host, "127.0.0.1");
    ck_assert_uint_eq(l->port, 8080);
    ck_assert_int_eq(l->tls, 0);
    ck_assert_str_eq(l->file, path);
    ck_assert_uint_eq(l->line, 2);
    l = &APR_ARRAY_IDX(c->listens, 1, weft_listen_t);
    ck_assert_ptr_null(l->host);
    ck_assert_uint_eq(l->port, 8081);
    l = &APR_ARRAY_IDX(c->listens, 2, weft_listen_t);
    ck_assert_str_eq(l->host, "::1");
    ck_assert_uint_eq(l->port, 8443);
    ck_assert_int_eq(l->tls, 1);
    ck_assert_uint_eq(l->line, 4);
    l = &APR_ARRAY_IDX(c->listens, 3, weft_listen_t);
    ck_assert_ptr_null(l->host);
    ck_assert_uint_eq(l->port, 8082);
}
END_TEST

START_TEST(listen_errors)
{
    LINE_ERR("Listen 127.0.0.1",
             "test.conf:7: Listen: ", "'127.0.0.1' has no port");
    LINE_ERR("Listen 127.0.0.1:80 ssl", "test.conf:7: Listen: ",
             "unknown option 'ssl' (the only one is tls)");
    LINE_ERR("Listen 127.0.0.1:99999",
             "test.conf:7: Listen: ", "'127.0.0.1:99999' is not HOST:PORT");
    LINE_ERR("Listen [::1", "test.conf:7: Listen: ", "'[::1' is not HOST:PORT");
    LINE_ERR("Listen",
             "test.conf:7: Listen: ", "takes one or two arguments (got 0)");
    LINE_ERR("Listen 127.0.0.1:80 tls extra",
             "test.conf:7: Listen: ", "takes one or two arguments (got 3)");
    ck_assert_int_eq(core()->listens->nelts, 0);
}
END_TEST

START_TEST(listen_duplicate)
{
    char *path;

    READ_ERR("main.conf",
             "Listen 127.0.0.1:8080\n"
             "Listen 8080\n"
             "# comment\n"
             "Listen 127.0.0.1:8080 tls\n",
             &path);
    ERR_STARTS(wt_fmt("%s:4: Listen: 127.0.0.1:8080 is already listed at %s:1",
                      path, path));
    /* every address, written two ways */
    LINE_ERR("Listen *:8080", "test.conf:7: Listen: ",
             wt_fmt("*:8080 is already listed at %s:2", path));
}
END_TEST

START_TEST(listen_tls_needs_module)
{
    char *path;

    READ_OK("main.conf", "Listen 127.0.0.1:2\n\nListen 127.0.0.1:1 tls\n",
            &path);
    ck_assert_int_ne(check(), APR_SUCCESS);
    ERR_STARTS(wt_fmt("%s:3: Listen: 127.0.0.1:1 tls needs tls_module", path));
}
END_TEST

START_TEST(listen_tls_resolved_after_reading)
{
    const char *why = NULL;
    char *path;

    /* tls may come before the module that provides it */
    READ_OK("main.conf", "Listen 127.0.0.1:1 tls\n", &path);
    ck_assert_int_eq(weft_module_add(srv, &fake_tls_module, "tls_module", NULL,
                                     path, 2, &why),
                     APR_SUCCESS);
    ck_assert_msg(check() == APR_SUCCESS, "check failed: %s", err);
}
END_TEST

/* ---- the root handler ------------------------------------------------- */

static void handler_a(weft_rw_t *w, weft_request_t *r)
{
}

static void handler_b(weft_rw_t *w, weft_request_t *r)
{
}

START_TEST(handler_unresolved)
{
    char *path;

    ck_assert_int_eq(weft_handler_register("beta", handler_b), APR_SUCCESS);
    ck_assert_int_eq(weft_handler_register("alpha", handler_a), APR_SUCCESS);
    READ_OK("main.conf", "ArgsOne x\n\nHandler nosuch\nArgsOne y\n", &path);
    ck_assert_int_ne(check(), APR_SUCCESS);
    ERR_STARTS(wt_fmt("%s:3: Handler: no handler named 'nosuch'", path));
    ERR_HAS("registered: ");
    ERR_HAS("alpha");
    ERR_HAS("beta");
    ck_assert_msg(strstr(err, "alpha") < strstr(err, "beta"),
                  "handler names not sorted: %s", err);
}
END_TEST

START_TEST(handler_none_registered)
{
    LINE_OK("Handler testapp");
    ck_assert_int_ne(check(), APR_SUCCESS);
    ERR_STARTS("test.conf:7: Handler: no handler named 'testapp'");
    ERR_HAS("(registered: none)");
}
END_TEST

START_TEST(handler_resolved)
{
    char *path;

    READ_OK("main.conf", "Handler alpha\n", &path);
    /* resolution waits for the whole configuration */
    ck_assert_int_eq(weft_handler_register("alpha", handler_a), APR_SUCCESS);
    ck_assert_int_eq(weft_handler_register("beta", handler_b), APR_SUCCESS);
    ck_assert_msg(check() == APR_SUCCESS, "check failed: %s", err);
    ck_assert_ptr_null(err);
    ck_assert_ptr_eq(weft_server_handler(srv), handler_a);
    /* the last Handler line wins */
    LINE_OK("Handler beta");
    ck_assert_msg(check() == APR_SUCCESS, "check failed: %s", err);
    ck_assert_ptr_eq(weft_server_handler(srv), handler_b);
}
END_TEST

START_TEST(handler_default_mux)
{
    ck_assert_msg(check() == APR_SUCCESS, "check failed: %s", err);
    ck_assert_ptr_null(weft_server_handler(srv));
    ck_assert_int_eq(weft_handler_register("mux", handler_b), APR_SUCCESS);
    ck_assert_msg(check() == APR_SUCCESS, "check failed: %s", err);
    ck_assert_ptr_eq(weft_server_handler(srv), handler_b);
}
END_TEST

START_TEST(handler_table_per_server)
{
    weft_server_t *s2;

    ck_assert_int_eq(weft_handler_register("alpha", handler_a), APR_SUCCESS);
    ck_assert_int_eq(weft_handler_register("alpha", handler_b), APR_EEXIST);
    ck_assert_ptr_eq(weft_handler_find("alpha"), handler_a);
    /* a new server starts with an empty table */
    ck_assert_int_eq(weft_server_create(pool, &s2), APR_SUCCESS);
    ck_assert_ptr_null(weft_handler_find("alpha"));
    weft_server_destroy(s2);
}
END_TEST

/* ---- regressions ------------------------------------------------------ */

/*
 * A plain `Include FILE` under a ServerRoot holding a glob character ('[',
 * '*', '?') is still a plain file, not a glob matching nothing.
 */
START_TEST(include_plain_file_under_glob_like_root)
{
    char *path, *root = wt_fmt("%s/r[1]", dir);

    subdir("r[1]");
    wt_write(root, "inc.conf", "ArgsList inc\n");
    READ_OK("main.conf", wt_fmt("ServerRoot \"%s\"\nInclude inc.conf\n", root),
            &path);
    ck_assert_str_eq(shape()->log, "inc;");
}
END_TEST

/*
 * A Listen line in a file reached by a plain Include records cmd->file; it
 * must outlive the temp pool the check clears, since weft_listen_open's
 * "FILE:LINE: Listen: cannot listen" message prints it later.
 */
START_TEST(listen_file_outlives_temp_pool)
{
    const weft_listen_t *l;
    char *path, *inc;
    int i;

    inc = wt_write(dir, "listen.conf", "\nListen 127.0.0.1:1\n");
    READ_OK("main.conf", "Include listen.conf\n", &path);
    ck_assert_msg(check() == APR_SUCCESS, "check failed: %s", err);
    /* reuse the temp pool, as weft_server_open's hooks may */
    for (i = 0; i < 256; i++)
        memset(apr_palloc(srv->temp_pool, 64), 'Z', 64);
    l = &APR_ARRAY_IDX(core()->listens, 0, weft_listen_t);
    ck_assert_uint_eq(l->line, 2);
    ck_assert_msg(strncmp(l->file, inc, strlen(inc) + 1) == 0,
                  "Listen's file is '%.*s', not '%s'", (int)strlen(inc),
                  l->file, inc);
}
END_TEST

/*
 * Every test's files go under one directory that main() makes and removes:
 * a failed test skips its teardown (Check ends the forked child at the
 * failed assertion), so wt_cleanup() there is not enough.
 */
static char *make_base_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *base = wt_fmt("%s/weft-test-config-XXXXXX", tmp ? tmp : "/tmp");

    if (mkdtemp(base) == NULL || setenv("TMPDIR", base, 1) != 0) {
        free(base);
        return NULL;
    }
    return base;
}

static void remove_base_dir(char *base)
{
    char *cmd;

    if (base == NULL)
        return;
    cmd = wt_fmt("rm -rf '%s'", base);
    if (system(cmd) != 0) {
        /* best effort: a leftover directory is not a test failure */
    }
    free(cmd);
    free(base);
}

int main(void)
{
    Suite *s = suite_create("config");
    TCase *shapes = tcase_create("shapes");
    TCase *syntax = tcase_create("syntax");
    TCase *include = tcase_create("include");
    TCase *values = tcase_create("values");
    TCase *checks = tcase_create("checks");
    TCase *bugs = tcase_create("regressions");
    SRunner *sr;
    char *base;
    int failed;

    tcase_add_checked_fixture(shapes, setup, teardown);
    tcase_add_test(shapes, shape_none);
    tcase_add_test(shapes, shape_one);
    tcase_add_test(shapes, shape_two);
    tcase_add_test(shapes, shape_one_or_two);
    tcase_add_test(shapes, shape_three);
    tcase_add_test(shapes, shape_flag);
    tcase_add_test(shapes, shape_list);
    tcase_add_test(shapes, shape_raw);
    tcase_add_test(shapes, callback_error_and_context);
    suite_add_tcase(s, shapes);

    tcase_add_checked_fixture(syntax, setup, teardown);
    tcase_add_test(syntax, quoted_blanks_and_hash);
    tcase_add_test(syntax, quote_escapes);
    tcase_add_test(syntax, quote_errors);
    tcase_add_test(syntax, comments_and_blank_lines);
    tcase_add_test(syntax, crlf_line_endings);
    tcase_add_test(syntax, continuation_lines);
    tcase_add_test(syntax, continuation_error_line);
    tcase_add_test(syntax, directive_names_case_insensitive);
    tcase_add_test(syntax, unknown_directive);
    tcase_add_test(syntax, unknown_directive_hints);
    suite_add_tcase(s, syntax);

    tcase_add_checked_fixture(include, setup, teardown);
    tcase_add_test(include, include_file_relative_to_main_dir);
    tcase_add_test(include, include_glob_sorted);
    tcase_add_test(include, include_glob_nested_error);
    tcase_add_test(include, include_missing_file);
    tcase_add_test(include, include_nested_error);
    tcase_add_test(include, include_self_loop);
    tcase_add_test(include, include_indirect_loop);
    tcase_add_test(include, include_glob_of_own_directory);
    tcase_add_test(include, include_depth_limit);
    tcase_add_test(include, include_too_deep);
    tcase_add_test(include, server_root_explicit);
    tcase_add_test(include, server_root_before_main_file);
    tcase_add_test(include, server_root_default_paths);
    tcase_add_test(include, server_root_not_directory);
    tcase_add_test(include, main_file_missing);
    suite_add_tcase(s, include);

    tcase_add_checked_fixture(values, setup, teardown);
    tcase_add_test(values, typed_setters);
    tcase_add_test(values, typed_setter_errors);
    tcase_add_test(values, core_defaults);
    tcase_add_test(values, core_values);
    tcase_add_test(values, core_duration_errors);
    tcase_add_test(values, core_size_flag_count_errors);
    tcase_add_test(values, core_mpm_threads_buffer_level_errors);
    tcase_add_test(values, listen_parse);
    tcase_add_test(values, listen_errors);
    tcase_add_test(values, listen_duplicate);
    suite_add_tcase(s, values);

    tcase_add_checked_fixture(checks, setup, teardown);
    tcase_add_test(checks, listen_tls_needs_module);
    tcase_add_test(checks, listen_tls_resolved_after_reading);
    tcase_add_test(checks, handler_unresolved);
    tcase_add_test(checks, handler_none_registered);
    tcase_add_test(checks, handler_resolved);
    tcase_add_test(checks, handler_default_mux);
    tcase_add_test(checks, handler_table_per_server);
    suite_add_tcase(s, checks);

    /* Each guards a bug found and fixed in the parser. */
    tcase_add_checked_fixture(bugs, setup, teardown);
    tcase_add_test(bugs, quote_errors_name_the_directive);
    tcase_add_test(bugs, include_plain_file_under_glob_like_root);
    tcase_add_test(bugs, listen_file_outlives_temp_pool);
    suite_add_tcase(s, bugs);

    base = make_base_dir();
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_base_dir(base);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
