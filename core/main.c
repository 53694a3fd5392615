/*
 * main.c -- weftd: command line, configuration, start-up, and the signal
 * thread that is the only place signals are handled.
 */
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_signal.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apu_version.h>
#include <apr_version.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft_build.h"
#include "weft_core.h"

#ifndef WEFT_CONF_FILE
#define WEFT_CONF_FILE "/usr/local/etc/weft/weft.conf"
#endif
#ifndef WEFT_MODULE_DIR
#define WEFT_MODULE_DIR "/usr/local/lib/weft/modules"
#endif

/* How long the exit waits for connections and threads to finish before
 * leaving them to die with the process. */
#define QUIESCE_WAIT apr_time_from_msec(500)

static const apr_getopt_option_t options[] = {
    { "config", 'f', 1, "read configuration from FILE" },
    { "test", 't', 0, "check the configuration, print Syntax OK, exit" },
    { "version", 'V', 0, "print version and build settings, exit" },
    { "help", 'h', 0, "print this help, exit" },
    { NULL, 0, 0, NULL },
};

static void usage(FILE *out)
{
    const apr_getopt_option_t *o;

    fprintf(out, "Usage: weftd [-f FILE] [-t] [-V] [-h]\n");
    for (o = options; o->name != NULL; o++)
        fprintf(out, "  -%c, --%-8s %s%s\n", o->optch, o->name,
                o->has_arg ? "FILE " : "", o->description);
    fprintf(out, "Default configuration file: %s\n", WEFT_CONF_FILE);
}

static void version(void)
{
    printf("weftd %s\n", WEFT_VERSION_STRING);
    printf("module ABI:   %d.%d\n", WEFT_MODULE_ABI_MAJOR,
           WEFT_MODULE_ABI_MINOR);
    printf("APR:          %s (built against %s)\n", apr_version_string(),
           APR_VERSION_STRING);
    printf("APR-util:     %s (built against %s)\n", apu_version_string(),
           APU_VERSION_STRING);
    printf("llhttp:       %s\n", WEFT_LLHTTP_DESC);
    printf("MPMs:         thread worker\n");
    printf("compiler:     %s\n", WEFT_CC);
    printf("sanitizers:   %s\n", WEFT_SANITIZERS);
    printf("config file:  %s\n", WEFT_CONF_FILE);
    printf("modules dir:  %s\n", WEFT_MODULE_DIR);
}

static weft_server_t *the_server; /* set before the signal thread starts */
static int term_signals;          /* signal thread only: SIGTERM/SIGINT seen */

/*
 * The signal thread's handler: the only place signals are acted on.
 * SIGTERM/SIGINT start Go's Shutdown with ShutdownTimeout (then Close);
 * SIGQUIT closes at once; a second signal of either kind during a
 * graceful stop closes; SIGUSR1 reopens the logs.  The main thread
 * waits for the stop to finish.
 */
static int on_signal(int signum)
{
    weft_server_t *s = the_server;

    switch (signum) {
    case SIGTERM:
    case SIGINT:
        if (term_signals++ > 0) {
            /* Asked twice (Ctrl-C again): stop waiting for the drain. */
            weft_log_error(WEFT_LOG_NOTICE, 0, "caught %s again, closing",
                           apr_signal_description_get(signum));
            weft_server_stop(s, 0, 0);
            return 0;
        }
        weft_log_error(WEFT_LOG_NOTICE, 0, "caught %s, shutting down",
                       apr_signal_description_get(signum));
        weft_server_stop(s, 1, weft_server_config(s)->shutdown_timeout);
        return 0;
    case SIGUSR1:
        /* logrotate moved the files: reopen them at their paths. */
        weft_server_reopen_logs(s);
        return 0;
    case SIGQUIT:
        weft_log_error(WEFT_LOG_NOTICE, 0, "caught %s, closing",
                       apr_signal_description_get(signum));
        weft_server_stop(s, 0, 0);
        return 0;
    default:
        return 0;
    }
}

static void *APR_THREAD_FUNC signal_main(apr_thread_t *t, void *data)
{
    apr_signal_thread(on_signal);
    return NULL;
}

static void log_started(const weft_server_t *s)
{
    int i;
    const weft_core_config_t *c = weft_server_config(s);

    for (i = 0; i < weft_server_listener_count(s); i++) {
        apr_sockaddr_t *sa = weft_server_listener_addr(s, i);
        char *ip = NULL;
        weft_listen_t *l = &APR_ARRAY_IDX(c->listens, i, weft_listen_t);
        apr_sockaddr_ip_get(&ip, sa);
        weft_log_error(WEFT_LOG_NOTICE, 0, "listening on %s%s%s:%u%s",
                       sa->family == APR_INET6 ? "[" : "", ip,
                       sa->family == APR_INET6 ? "]" : "", sa->port,
                       l->tls ? " (tls)" : "");
    }
    for (i = 0; i < s->modules->nelts; i++) {
        weft_loaded_module_t *lm =
            &APR_ARRAY_IDX(s->modules, i, weft_loaded_module_t);
        if (lm->path != NULL)
            weft_log_error(WEFT_LOG_NOTICE, 0, "module %s loaded from %s",
                           lm->module->name, lm->path);
    }
    if (c->read_header_timeout == 0 && c->read_timeout == 0)
        weft_log_error(WEFT_LOG_WARN, 0,
                       "neither ReadHeaderTimeout nor ReadTimeout is set: a "
                       "client can hold a connection open forever by "
                       "sending headers slowly (Slowloris)");
}

int main(int argc, const char *const *argv, const char *const *env)
{
    apr_pool_t *pool;
    apr_getopt_t *opt;
    weft_server_t *s;
    const char *conf = WEFT_CONF_FILE, *arg, *err = NULL;
    int ch, test_only = 0;
    apr_status_t rv;
    apr_threadattr_t *tattr;
    apr_thread_t *sig;

    if (apr_app_initialize(&argc, &argv, &env) != APR_SUCCESS) {
        fprintf(stderr, "weftd: cannot initialize APR\n");
        return 1;
    }
    atexit(apr_terminate);
    /* Before any other thread exists, so every thread inherits the mask
     * and only the signal wait below sees SIGTERM and friends. */
    apr_setup_signal_thread();
    /* apr_setup_signal_thread leaves SIGPIPE unblocked (a synchronous
     * signal): ignore it, so a write to a closed pipe or socket is an
     * EPIPE error, not the end of the process. */
    apr_signal(SIGPIPE, SIG_IGN);
    apr_pool_create(&pool, NULL);

    apr_getopt_init(&opt, pool, argc, argv);
    while ((rv = apr_getopt_long(opt, options, &ch, &arg)) == APR_SUCCESS) {
        switch (ch) {
        case 'f':
            conf = arg;
            break;
        case 't':
            test_only = 1;
            break;
        case 'V':
            version();
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        }
    }
    if (rv != APR_EOF || opt->ind < argc) {
        usage(stderr);
        return 1;
    }

    if (weft_server_create(pool, &s) != APR_SUCCESS) {
        fprintf(stderr, "weftd: cannot create the server\n");
        return 1;
    }
    if (weft_server_read_config(s, conf, &err) != APR_SUCCESS ||
        weft_server_check_config(s, &err) != APR_SUCCESS) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (test_only) {
        printf("Syntax OK\n");
        return 0;
    }
    if (weft_server_open(s, &err) != APR_SUCCESS) {
        fprintf(stderr, "%s\n", err);
        /* Also in the error log, unless that is what failed to open
         * (then the line would go to stderr a second time). */
        if (weft_server_config(s)->error_log != NULL &&
            strncmp(err, "ErrorLog: ", 10) != 0)
            weft_log_error(WEFT_LOG_EMERG, 0, "%s", err);
        return 1;
    }
    the_server = s;
    if (weft_server_serve(s) != APR_SUCCESS ||
        apr_threadattr_create(&tattr, pool) != APR_SUCCESS ||
        apr_threadattr_detach_set(tattr, 1) != APR_SUCCESS ||
        apr_thread_create(&sig, tattr, signal_main, NULL, pool) !=
            APR_SUCCESS) {
        fprintf(stderr, "weftd: cannot start serving\n");
        return 1;
    }
    weft_log_error(WEFT_LOG_NOTICE, 0, "weftd %s started (pid %ld, MPM %s)",
                   WEFT_VERSION_STRING, (long)getpid(),
                   weft_server_config(s)->mpm);
    log_started(s);

    weft_server_wait(s);
    /* Handlers still running and hijacked connections are not waited
     * for (the contract): they die with the process.  When everything
     * finished within a moment, tear down cleanly instead. */
    if (!weft_server_quiesce(s, QUIESCE_WAIT)) {
        weft_run_pre_exit(s);
        weft_log_error(WEFT_LOG_NOTICE, 0,
                       "weftd stopped (not waiting for handlers still "
                       "running or hijacked connections)");
        _exit(0);
    }
    weft_server_destroy(s);
    weft_log_error(WEFT_LOG_NOTICE, 0, "weftd stopped");
    return 0;
}
