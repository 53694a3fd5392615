/*
 * test_weftd.c -- the weftd binary from outside: the command line, `-t`
 * and `-f` on valid and broken files (one "FILE:LINE: " line, no bind),
 * start-up logging, pid and error log files, and stopping on signals.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "weft_test.h"

/* Every wait is bounded by this; generous for sanitizer builds. */
#define WAIT_MS 10000

/* What a test allocates is kept here and freed by teardown, so that no
 * test leaks (LeakSanitizer checks every forked test) on any path. */
static void *heap[1024];
static int nheap;

static void *keep(void *p)
{
    ck_assert_msg(nheap < (int)(sizeof(heap) / sizeof(heap[0])),
                  "too many allocations for the test's heap list");
    heap[nheap++] = p;
    return p;
}

static void teardown(void)
{
    while (nheap > 0)
        free(heap[--nheap]);
    wt_cleanup();
}

/* The weft_test.h allocators, kept. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, f);
    ck_assert_int_ge(vasprintf(&s, f, ap), 0);
    va_end(ap);
    return keep(s);
}

static char *write_file(const char *dir, const char *name, const char *content)
{
    return keep(wt_write(dir, name, content));
}

static char *read_file(const char *path, size_t *len)
{
    return keep(wt_read(path, len));
}

static char *server_log(const wt_server_t *srv)
{
    return keep(wt_server_log(srv));
}

static int start_server(wt_server_t *srv, const char *body)
{
    int rv = wt_server_start(srv, body);

    keep(srv->conf);
    keep(srv->log);
    return rv;
}

/* ---- helpers ------------------------------------------------------------- */

/* Runs weftd with the given arguments (NULL-terminated); asserts it ended
 * on its own within WAIT_MS. */
static void run_weftd(wt_run_t *r, const char *a1, const char *a2,
                      const char *a3, const char *a4)
{
    const char *argv[] = { wt_weftd(), a1, a2, a3, a4, NULL };

    int rv = wt_run(r, WAIT_MS, argv);

    keep(r->out);
    keep(r->err);
    ck_assert_msg(rv == 0, "weftd %s %s did not exit within %d ms",
                  a1 ? a1 : "", a2 ? a2 : "", WAIT_MS);
}

static int count_lines(const char *s)
{
    int n = 0;

    for (; *s != '\0'; s++)
        if (*s == '\n')
            n++;
    return n;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The first line of text that starts with prefix (a heap copy), or NULL. */
static char *line_starting(const char *text, const char *prefix)
{
    const char *at = text;

    while (at != NULL && *at != '\0') {
        const char *end = strchr(at, '\n');
        size_t n = end ? (size_t)(end - at) : strlen(at);
        if (starts_with(at, prefix))
            return keep(strndup(at, n));
        at = end ? end + 1 : NULL;
    }
    return NULL;
}

/* How many entries a directory holds, "." and ".." aside. */
static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static int exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* A TCP socket listening on a kernel-chosen loopback port, held by the
 * test so that nobody else can bind it; *port gets the port. */
static int hold_port(int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 1), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Replaces every "@KEY@" in text; a fresh heap string. */
static char *subst(const char *text, const char *key, const char *value)
{
    char *tag = fmt("@%s@", key), *out = fmt("%s", text), *at;

    while ((at = strstr(out, tag)) != NULL) {
        *at = '\0';
        out = fmt("%s%s%s", out, value, at + strlen(tag));
    }
    return out;
}

static char *fixture(const char *name)
{
    char *rel = fmt("tests/modules/.libs/%s.so", name);

    return keep(wt_built(rel));
}

/* The configuration lines a served testapp needs. */
static char *testapp_body(const char *extra)
{
    return fmt("LoadModule testapp_module \"%s\"\n"
               "Handler testapp\n"
               "%s",
               wt_testapp(), extra);
}

/*
 * Starts weftd -f conf with stdout/stderr on the given descriptors and
 * the signals the tests use at their defaults (whatever the harness
 * inherited), so a signal's effect is weftd's own choice.
 */
static pid_t spawn_weftd(const char *conf, int out_fd, int err_fd)
{
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        execl(wt_weftd(), wt_weftd(), "-f", conf, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Waits (bounded) until path exists; 1 if it did. */
static int wait_file(const char *path, pid_t pid)
{
    int i;

    for (i = 0; i < WAIT_MS / 10; i++) {
        if (exists(path))
            return 1;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        poll(NULL, 0, 10);
    }
    return 0;
}

/* ---- the command line ---------------------------------------------------- */

START_TEST(version)
{
    wt_run_t r;
    char *ll, *abi;

    run_weftd(&r, "-V", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(starts_with(r.out, "weftd "), "stdout: %s", r.out);
    ll = line_starting(r.out, "llhttp:");
    ck_assert_msg(ll != NULL, "no llhttp: line in %s", r.out);
    ck_assert_msg(strstr(ll, "strict") != NULL, "llhttp is not strict: %s", ll);
    abi = line_starting(r.out, "module ABI:");
    ck_assert_msg(abi != NULL, "no module ABI: line in %s", r.out);
    ck_assert_str_eq(r.err, "");
}
END_TEST

START_TEST(version_long)
{
    wt_run_t r;

    run_weftd(&r, "--version", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(starts_with(r.out, "weftd "), "stdout: %s", r.out);
}
END_TEST

START_TEST(help)
{
    wt_run_t r;

    run_weftd(&r, "-h", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(starts_with(r.out, "Usage: weftd"), "stdout: %s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "-f"));
    ck_assert_ptr_nonnull(strstr(r.out, "-t"));
    ck_assert_str_eq(r.err, "");
    run_weftd(&r, "--help", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(starts_with(r.out, "Usage: weftd"), "stdout: %s", r.out);
}
END_TEST

START_TEST(bad_options)
{
    wt_run_t r;

    run_weftd(&r, "-x", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    ck_assert_ptr_nonnull(strstr(r.err, "Usage: weftd"));
    run_weftd(&r, "--nosuch", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    /* -f without its FILE */
    run_weftd(&r, "-f", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    /* a stray argument */
    run_weftd(&r, "-t", "stray", NULL, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    ck_assert_ptr_nonnull(strstr(r.err, "Usage: weftd"));
}
END_TEST

/* ---- weftd -t on a valid file -------------------------------------------- */

START_TEST(syntax_ok)
{
    /* The Listen port is held by the test and the file asks for a pid
     * file and an error log: -t binds nothing and writes nothing. */
    char *dir = wt_tmpdir();
    int port, held = hold_port(&port);
    char *extra = fmt("Listen 127.0.0.1:%d\n"
                      "ReadHeaderTimeout 5s\n"
                      "PidFile weftd.pid\n"
                      "ErrorLog error.log\n",
                      port);
    char *body = testapp_body(extra);
    char *conf = write_file(dir, "good.conf", body);
    char *pid = fmt("%s/weftd.pid", dir);
    char *elog = fmt("%s/error.log", dir);
    wt_run_t r;

    run_weftd(&r, "-t", "-f", conf, NULL);
    ck_assert_msg(r.status == 0, "status %d, stderr: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "Syntax OK\n");
    ck_assert_str_eq(r.err, "");
    ck_assert_msg(!exists(pid), "-t wrote the pid file");
    ck_assert_msg(!exists(elog), "-t opened the error log");
    /* long options, in the other order */
    run_weftd(&r, "--config", conf, "--test", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "Syntax OK\n");
    close(held);
}
END_TEST

START_TEST(syntax_ok_quotes_comments_continuations)
{
    char *dir = wt_tmpdir();
    char *body = fmt("# a comment line\n"
                     "Listen 127.0.0.1:8080   # trailing comment\n"
                     "\n"
                     "LoadModule testapp_module \\\n"
                     "    \"%s\"\n"
                     "Handler \"testapp\"\n"
                     "readtimeout 1m30s\n"
                     "MaxHeaderBytes 64K\n"
                     "KeepAlive off\n"
                     "ShutdownTimeout 250ms\n",
                     wt_testapp());
    char *conf = write_file(dir, "good.conf", body);
    wt_run_t r;

    run_weftd(&r, "-t", "-f", conf, NULL);
    ck_assert_msg(r.status == 0, "status %d, stderr: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "Syntax OK\n");
}
END_TEST

START_TEST(listen_port_zero)
{
    /* APR refuses port 0; weft accepts `Listen HOST:0` written out, which
     * is what wt_server_start writes. */
    char *dir = wt_tmpdir();
    char *conf = write_file(dir, "zero.conf",
                            "Listen 127.0.0.1:0\n"
                            "Listen [::1]:0\n"
                            "Listen localhost:0\n");
    wt_run_t r;

    run_weftd(&r, "-t", "-f", conf, NULL);
    ck_assert_msg(r.status == 0, "status %d, stderr: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "Syntax OK\n");
}
END_TEST

/* ---- weftd -t and -f on broken files ------------------------------------- */

/*
 * One broken file each.  Lines 1-3 are the same everywhere: a comment, a
 * pid file, and a Listen on a port the test holds, so a weftd that got as
 * far as binding would say something else.  @TESTAPP@, @BADABI@ and
 * @PORT@ are filled in; `prefix` follows "FILE:"; every needle must be on
 * the line too.
 */
static const struct {
    const char *what;
    const char *body;
    const char *prefix;
    const char *needles[3];
} broken[] = {
    { "unknown directive, with the module it belongs to",
      "LoadModule testapp_module \"@TESTAPP@\"\n"
      "Handle \"/\" testapp\n",
      "5: Handle: unknown directive",
      { "mux_module", "LoadModule mux_module", NULL } },
    { "unknown directive, misspelled",
      "ReadTimout 5s\n",
      "4: ReadTimout: unknown directive",
      { "misspelled", NULL, NULL } },
    { "too many arguments",
      "ReadTimeout 5s 10s\n",
      "4: ReadTimeout: takes one argument (got 2)",
      { "usage: ReadTimeout DUR", NULL, NULL } },
    { "too few arguments",
      "\n\nLoadModule testapp_module\n",
      "6: LoadModule: takes two arguments (got 1)",
      { NULL, NULL, NULL } },
    { "bad duration",
      "ReadHeaderTimeout 5\n",
      "4: ReadHeaderTimeout: '5' is not a duration",
      { NULL, NULL, NULL } },
    { "negative duration",
      "ShutdownTimeout -1s\n",
      "4: ShutdownTimeout: '-1s' is not a duration",
      { NULL, NULL, NULL } },
    { "bad size",
      "MaxHeaderBytes 1KB\n",
      "4: MaxHeaderBytes: '1KB' is not a size",
      { NULL, NULL, NULL } },
    { "bad flag",
      "KeepAlive yes\n",
      "4: KeepAlive: takes on or off, not 'yes'",
      { NULL, NULL, NULL } },
    { "unreadable Include",
      "Include nosuch.conf\n",
      "4: Include: cannot read ",
      { "nosuch.conf", "No such file", NULL } },
    { "bad module (wrong ABI)",
      "LoadModule badabi_module \"@BADABI@\"\n",
      "4: LoadModule: ",
      { "fixture_badabi.so", "ABI", NULL } },
    { "missing module file",
      "LoadModule testapp_module /nonexistent/mod_testapp.so\n",
      "4: LoadModule: cannot load /nonexistent/mod_testapp.so",
      { NULL, NULL, NULL } },
    { "unknown handler",
      "LoadModule testapp_module \"@TESTAPP@\"\n"
      "ReadTimeout 5s\n"
      "Handler nosuch\n"
      "IdleTimeout 5s\n",
      "6: Handler: no handler named 'nosuch'",
      { "(registered: route,testapp)", NULL, NULL } },
    { "Listen without a port",
      "Listen 127.0.0.1\n",
      "4: Listen: '127.0.0.1' has no port",
      { NULL, NULL, NULL } },
    { "Listen tls without tls_module",
      "Listen 127.0.0.1:1 tls\n",
      "4: Listen: 127.0.0.1:1 tls needs tls_module",
      { NULL, NULL, NULL } },
    { "module directive before its LoadModule (hint)",
      "StaticRoot /tmp\n",
      "4: StaticRoot: unknown directive",
      { "static_module", NULL, NULL } },
    /* a quoting error still names its directive */
    { "unterminated quote",
      "Handler \"testapp\n",
      "4: Handler: ",
      { "unterminated", NULL, NULL } },
};

#define N_BROKEN ((int)(sizeof(broken) / sizeof(broken[0])))

START_TEST(refuses_broken_file)
{
    char *dir = wt_tmpdir();
    int port, held = hold_port(&port);
    char *sport = fmt("%d", port);
    char *badabi = fixture("fixture_badabi");
    char *head = fmt("# weftd must refuse this file: %s\n"
                     "PidFile weftd.pid\n"
                     "Listen 127.0.0.1:@PORT@\n",
                     broken[_i].what);
    char *body0 = fmt("%s%s", head, broken[_i].body);
    char *body1 = subst(body0, "TESTAPP", wt_testapp());
    char *body2 = subst(body1, "BADABI", badabi);
    char *body = subst(body2, "PORT", sport);
    char *conf = write_file(dir, "broken.conf", body);
    char *prefix = fmt("%s:%s", conf, broken[_i].prefix);
    char *pid = fmt("%s/weftd.pid", dir);
    char *first;
    wt_run_t r;
    int i;

    run_weftd(&r, "-t", "-f", conf, NULL);
    ck_assert_msg(r.status == 1, "%s: -t status %d, stderr: %s",
                  broken[_i].what, r.status, r.err);
    ck_assert_str_eq(r.out, "");
    ck_assert_msg(count_lines(r.err) == 1, "%s: not exactly one line: '%s'",
                  broken[_i].what, r.err);
    ck_assert_msg(starts_with(r.err, prefix), "%s: '%s' does not start '%s'",
                  broken[_i].what, r.err, prefix);
    for (i = 0; i < 3 && broken[_i].needles[i] != NULL; i++)
        ck_assert_msg(strstr(r.err, broken[_i].needles[i]) != NULL,
                      "%s: '%s' lacks '%s'", broken[_i].what, r.err,
                      broken[_i].needles[i]);
    first = keep(strdup(r.err));

    /* -f refuses it the same way, before binding anything */
    run_weftd(&r, "-f", conf, NULL, NULL);
    ck_assert_msg(r.status == 1, "%s: -f status %d, stderr: %s",
                  broken[_i].what, r.status, r.err);
    ck_assert_str_eq(r.out, "");
    ck_assert_str_eq(r.err, first);
    ck_assert_msg(!exists(pid), "%s: -f wrote a pid file", broken[_i].what);

    close(held);
}
END_TEST

START_TEST(error_in_included_file)
{
    char *dir = wt_tmpdir();
    char *inc = write_file(dir, "inc.conf",
                           "# included\n"
                           "ReadTimeout 5s\n"
                           "WriteTimeout forever\n");
    char *conf = write_file(dir, "main.conf",
                            "Listen 127.0.0.1:8080\n"
                            "Include inc.conf\n");
    char *prefix = fmt("%s:3: WriteTimeout: 'forever' is not a duration", inc);
    wt_run_t r;

    run_weftd(&r, "-t", "-f", conf, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_int_eq(count_lines(r.err), 1);
    ck_assert_msg(starts_with(r.err, prefix), "'%s' does not start '%s'", r.err,
                  prefix);
}
END_TEST

START_TEST(error_names_path_as_given)
{
    /* the prefix is the path as written on the command line, relative */
    char *dir = wt_tmpdir();
    wt_run_t r;

    write_file(dir, "bad.conf",
               "Listen 127.0.0.1:8080\n"
               "NoSuchDirective x\n");
    ck_assert_int_eq(chdir(dir), 0);
    run_weftd(&r, "-t", "-f", "bad.conf", NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_int_eq(count_lines(r.err), 1);
    ck_assert_msg(starts_with(r.err, "bad.conf:2: NoSuchDirective: "),
                  "stderr: %s", r.err);
    run_weftd(&r, "-t", "-f", "./bad.conf", NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(starts_with(r.err, "./bad.conf:2: NoSuchDirective: "),
                  "stderr: %s", r.err);
}
END_TEST

START_TEST(missing_config_file)
{
    char *dir = wt_tmpdir();
    char *conf = fmt("%s/nosuch.conf", dir);
    char *prefix = fmt("%s: cannot read", conf);
    wt_run_t r;

    run_weftd(&r, "-t", "-f", conf, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(count_lines(r.err), 1);
    ck_assert_msg(starts_with(r.err, prefix), "stderr: %s", r.err);
}
END_TEST

/* ---- weftd -f failing at start-up ---------------------------------------- */

START_TEST(listen_port_in_use)
{
    char *dir = wt_tmpdir();
    int port, held = hold_port(&port);
    char *body = fmt("PidFile weftd.pid\n"
                     "Listen 127.0.0.1:%d\n",
                     port);
    char *conf = write_file(dir, "weft.conf", body);
    char *prefix =
        fmt("%s:2: Listen: cannot listen on 127.0.0.1:%d", conf, port);
    char *pid = fmt("%s/weftd.pid", dir);
    wt_run_t r;

    run_weftd(&r, "-f", conf, NULL, NULL);
    ck_assert_msg(r.status == 1, "status %d, stderr: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "");
    ck_assert_msg(starts_with(r.err, prefix), "'%s' does not start '%s'", r.err,
                  prefix);
    ck_assert_int_eq(count_lines(r.err), 1);
    ck_assert_msg(!exists(pid), "wrote a pid file without serving");
    /* -t does not bind, so it has nothing to say about the port */
    run_weftd(&r, "-t", "-f", conf, NULL);
    ck_assert_int_eq(r.status, 0);
    close(held);
}
END_TEST

START_TEST(no_listen)
{
    char *dir = wt_tmpdir();
    char *body = testapp_body("ReadTimeout 5s\n");
    char *conf = write_file(dir, "weft.conf", body);
    wt_run_t r;

    run_weftd(&r, "-f", conf, NULL, NULL);
    ck_assert_msg(r.status == 1, "status %d, stderr: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(count_lines(r.err), 1);
    ck_assert_msg(starts_with(r.err, conf), "stderr: %s", r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "no Listen"));
}
END_TEST

START_TEST(error_log_unopenable)
{
    /* the message is printed once on stderr, not again by the log */
    char *dir = wt_tmpdir();
    char *body = fmt("Listen 127.0.0.1:8080\n"
                     "ErrorLog %s/nosuch/error.log\n",
                     dir);
    char *conf = write_file(dir, "weft.conf", body);
    char *want = fmt("%s/nosuch/error.log", dir);
    wt_run_t r;

    run_weftd(&r, "-f", conf, NULL, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "ErrorLog"));
    ck_assert_ptr_nonnull(strstr(r.err, want));
    ck_assert_msg(count_lines(r.err) == 1, "not one line: '%s'", r.err);
}
END_TEST

/* ---- a running weftd ----------------------------------------------------- */

/* The signals that stop weftd, and whether the test starts it with that
 * signal ignored (as a shell does for a background job without job
 * control): weftd must stop either way. */
static const struct {
    int sig;
    int ignored;
} stops[] = {
    { SIGTERM, 0 }, { SIGINT, 0 }, { SIGQUIT, 0 },
    { SIGTERM, 1 }, { SIGINT, 1 }, { SIGQUIT, 1 },
};

#define N_STOPS ((int)(sizeof(stops) / sizeof(stops[0])))

START_TEST(lifecycle_signal)
{
    int sig = stops[_i].sig;
    char *body = testapp_body("ReadHeaderTimeout 5s\n");
    char *listening, *loaded, *log;
    wt_server_t srv;
    int fd;

    signal(sig, stops[_i].ignored ? SIG_IGN : SIG_DFL);
    ck_assert_msg(start_server(&srv, body) == 0, "weftd did not start");
    signal(sig, SIG_DFL);
    ck_assert_int_gt(srv.port, 0);
    fd = wt_connect(srv.port, WAIT_MS);
    ck_assert_msg(fd >= 0, "cannot connect to port %d", srv.port);
    close(fd);
    listening = fmt("listening on 127.0.0.1:%d", srv.port);
    loaded = fmt("module testapp loaded from %s", wt_testapp());
    ck_assert_msg(wt_server_wait_log(&srv, listening, WAIT_MS), "no '%s'",
                  listening);
    ck_assert_msg(wt_server_wait_log(&srv, loaded, WAIT_MS), "no '%s'", loaded);

    ck_assert_int_eq(wt_server_stop(&srv, sig, WAIT_MS), 0);
    log = server_log(&srv);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strstr(log, "weftd stopped") != NULL, "log: %s", log);
    /* ReadHeaderTimeout is set: no Slowloris warning */
    ck_assert_msg(strstr(log, "Slowloris") == NULL, "log: %s", log);
    /* nothing listens there any more */
    fd = wt_connect(srv.port, 1000);
    ck_assert_msg(fd < 0, "port %d still accepts after exit", srv.port);
}
END_TEST

START_TEST(slowloris_warning)
{
    char *body = testapp_body("");
    wt_server_t srv;

    ck_assert_msg(start_server(&srv, body) == 0, "weftd did not start");
    ck_assert_msg(wt_server_wait_log(&srv, "Slowloris", WAIT_MS),
                  "no Slowloris warning without ReadHeaderTimeout/ReadTimeout");
    ck_assert_int_eq(wt_server_wait_log(&srv, "[warn]", WAIT_MS), 1);
    ck_assert_int_eq(wt_server_stop(&srv, SIGTERM, WAIT_MS), 0);
}
END_TEST

START_TEST(read_timeout_silences_warning)
{
    char *body = testapp_body("ReadTimeout 10s\n");
    char *log;
    wt_server_t srv;

    ck_assert_msg(start_server(&srv, body) == 0, "weftd did not start");
    ck_assert_int_eq(wt_server_stop(&srv, SIGTERM, WAIT_MS), 0);
    log = server_log(&srv);
    ck_assert_ptr_nonnull(strstr(log, "weftd stopped"));
    ck_assert_msg(strstr(log, "Slowloris") == NULL, "log: %s", log);
}
END_TEST

START_TEST(pid_file)
{
    char *body = testapp_body("ReadHeaderTimeout 5s\nPidFile weftd.pid\n");
    char *path, *got, *want;
    wt_server_t srv;

    ck_assert_msg(start_server(&srv, body) == 0, "weftd did not start");
    /* relative to ServerRoot, which defaults to the file's folder */
    path = fmt("%s/weftd.pid", srv.dir);
    got = read_file(path, NULL);
    ck_assert_msg(got != NULL, "no pid file at %s", path);
    want = fmt("%ld\n", (long)srv.pid);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(wt_server_stop(&srv, SIGTERM, WAIT_MS), 0);
    ck_assert_msg(!exists(path), "pid file left behind after SIGTERM");
}
END_TEST

START_TEST(no_pid_file_by_default)
{
    char *body = testapp_body("ReadHeaderTimeout 5s\n");
    wt_server_t srv;

    ck_assert_msg(start_server(&srv, body) == 0, "weftd did not start");
    /* the private directory holds the config and the captured log only */
    ck_assert_int_eq(count_entries(srv.dir), 2);
    ck_assert_int_eq(wt_server_stop(&srv, SIGTERM, WAIT_MS), 0);
    ck_assert_int_eq(count_entries(srv.dir), 2);
}
END_TEST

START_TEST(error_log_file)
{
    char *dir = wt_tmpdir();
    char *body = fmt("Listen 127.0.0.1:0\n"
                     "ErrorLog error.log\n"
                     "LoadModule testapp_module \"%s\"\n"
                     "Handler testapp\n"
                     "ReadHeaderTimeout 5s\n",
                     wt_testapp());
    char *conf = write_file(dir, "weft.conf", body);
    char *errpath = fmt("%s/stderr.txt", dir);
    char *log, *at, *err;
    int efd, fd, port = 0;
    wt_server_t srv;

    efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(efd, 0);
    memset(&srv, 0, sizeof(srv));
    srv.dir = dir;
    srv.conf = conf;
    srv.log = fmt("%s/error.log", dir);
    srv.pid = spawn_weftd(conf, efd, efd);
    close(efd);

    ck_assert_msg(wt_server_wait_log(&srv, "listening on 127.0.0.1:", WAIT_MS),
                  "error.log never said where it listens");
    ck_assert_msg(wt_server_wait_log(&srv, "module testapp loaded", WAIT_MS),
                  "no module line in error.log");
    log = server_log(&srv);
    at = strstr(log, "listening on 127.0.0.1:");
    port = atoi(at + strlen("listening on 127.0.0.1:"));
    ck_assert_int_gt(port, 0);
    fd = wt_connect(port, WAIT_MS);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(wt_server_stop(&srv, SIGTERM, WAIT_MS), 0);
    log = server_log(&srv);
    ck_assert_ptr_nonnull(strstr(log, "started (pid "));
    ck_assert_ptr_nonnull(strstr(log, "weftd stopped"));
    /* nothing went to standard error */
    err = read_file(errpath, NULL);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(err[0] == '\0', "stderr: %s", err);
}
END_TEST

START_TEST(survives_closed_stderr)
{
    /* A log line written to a stderr nobody reads must not kill weftd
     * (DESIGN.md: "SIGPIPE is ignored").  The "caught ..., stopping" line is written after SIGTERM
     * arrives, so the write to the dead pipe is certain to happen. */
    char *dir = wt_tmpdir();
    char *body = fmt("Listen 127.0.0.1:0\n"
                     "PidFile weftd.pid\n"
                     "ReadHeaderTimeout 5s\n");
    char *conf = write_file(dir, "weft.conf", body);
    char *pid = fmt("%s/weftd.pid", dir);
    int p[2], devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    wt_server_t srv;

    ck_assert_int_ge(devnull, 0);
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    close(p[0]); /* nobody will ever read weftd's stderr */
    memset(&srv, 0, sizeof(srv));
    srv.pid = spawn_weftd(conf, devnull, p[1]);
    close(p[1]);
    close(devnull);
    ck_assert_msg(wait_file(pid, srv.pid), "weftd did not start");
    ck_assert_int_eq(wt_server_stop(&srv, SIGTERM, WAIT_MS), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("weftd");
    TCase *cli = tcase_create("command line");
    TCase *conf = tcase_create("configuration");
    TCase *start = tcase_create("start-up failures");
    TCase *run = tcase_create("running");
    TCase *all[] = { cli, conf, start, run };
    SRunner *sr;
    size_t i;
    int failed;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_add_checked_fixture(all[i], NULL, teardown);
        tcase_set_timeout(all[i], 60);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(cli, version);
    tcase_add_test(cli, version_long);
    tcase_add_test(cli, help);
    tcase_add_test(cli, bad_options);

    tcase_add_test(conf, syntax_ok);
    tcase_add_test(conf, syntax_ok_quotes_comments_continuations);
    tcase_add_test(conf, listen_port_zero);
    tcase_add_loop_test(conf, refuses_broken_file, 0, N_BROKEN);
    tcase_add_test(conf, error_in_included_file);
    tcase_add_test(conf, error_names_path_as_given);
    tcase_add_test(conf, missing_config_file);

    tcase_add_test(start, listen_port_in_use);
    tcase_add_test(start, no_listen);
    tcase_add_test(start, error_log_unopenable);

    tcase_add_loop_test(run, lifecycle_signal, 0, N_STOPS);
    tcase_add_test(run, slowloris_warning);
    tcase_add_test(run, read_timeout_silences_warning);
    tcase_add_test(run, pid_file);
    tcase_add_test(run, no_pid_file_by_default);
    tcase_add_test(run, error_log_file);
    tcase_add_test(run, survives_closed_stderr);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
