/*
 * test_log.c -- mod_log from outside weftd: each format parsed back field
 * by field (common and combined with Apache's escaping, json through
 * Python's strict parser, custom % directives), refused requests, config
 * errors, several logs, flushing at shutdown, reopening, and whole lines
 * under concurrent load.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"
#include "weft_test.h"

/* Every wait is bounded by this; generous for sanitizer builds. */
#define WAIT_MS 30000
#define PYTHON "/usr/bin/python3"

/* The server a test started; teardown stops it whatever the outcome. */
static wt_server_t srv;

/* ---- memory: what a test allocates is freed by teardown ---------------- */

static void **heap;
static size_t nheap, capheap;

static void *keep(void *p)
{
    ck_assert_ptr_nonnull(p);
    if (nheap == capheap) {
        capheap = capheap ? capheap * 2 : 256;
        heap = realloc(heap, capheap * sizeof(*heap));
        ck_assert_ptr_nonnull(heap);
    }
    heap[nheap++] = p;
    return p;
}

static void teardown(void)
{
    if (srv.pid > 0)
        wt_server_stop(&srv, SIGKILL, WAIT_MS);
    while (nheap > 0)
        free(heap[--nheap]);
    free(heap);
    heap = NULL;
    capheap = 0;
    wt_cleanup();
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the server --------------------------------------------------------- */

static const char *mod_log_so(void)
{
    return wt_built("modules/.libs/mod_log.so");
}

/* Starts weftd with mod_testapp as the root handler, mod_log, and extra
 * (AccessLog lines; relative paths land in srv.dir). */
static void start(const char *extra)
{
    char *conf = wt_fmt("LoadModule testapp_module %s\n"
                        "LoadModule log_module %s\n"
                        "Handler testapp\n%s\n",
                        wt_testapp(), mod_log_so(), extra);

    ck_assert_msg(wt_server_start(&srv, conf) == 0, "weftd did not start");
}

static char *in_dir(const char *name)
{
    return wt_fmt("%s/%s", srv.dir, name);
}

/* The local port of a connected socket: the "remote" the server logs. */
static int local_port(int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    return ntohs(sa.sin_port);
}

/* Sends raw on a new connection and reads until the server closes;
 * *port (if not NULL) gets the client's port. */
static char *exchange(const char *raw, size_t n, int *port)
{
    int fd = wt_connect(srv.port, WAIT_MS), closed = 0;
    char *buf = keep(malloc(1 << 16));

    ck_assert_int_ge(fd, 0);
    if (port != NULL)
        *port = local_port(fd);
    ck_assert_int_eq(wt_send(fd, raw, n), 0);
    wt_recv_all(fd, buf, 1 << 16, WAIT_MS, &closed);
    close(fd);
    ck_assert_msg(closed, "the server did not close: %s", buf);
    return buf;
}

static char *exchanges(const char *raw, int *port)
{
    return exchange(raw, strlen(raw), port);
}

/* A GET that closes the connection after the response. */
static char *get(const char *target)
{
    return exchanges(wt_fmt("GET %s HTTP/1.1\r\nHost: t\r\n"
                            "Connection: close\r\n\r\n",
                            target),
                     NULL);
}

/* ---- log files ---------------------------------------------------------- */

typedef struct {
    char **v; /* each line, without its newline */
    int n;
    char *raw; /* the whole file */
    size_t len;
} lines_t;

static int count_newlines(const char *s, size_t n)
{
    int c = 0;
    size_t i;

    for (i = 0; i < n; i++)
        c += s[i] == '\n';
    return c;
}

/* Splits the file as it is now.  Every line must be whole: the file
 * ends in a newline (or is empty). */
static void read_lines(const char *path, lines_t *out)
{
    char *p;
    int i = 0;

    memset(out, 0, sizeof(*out));
    out->raw = wt_read(path, &out->len);
    if (out->raw == NULL) {
        out->raw = keep(calloc(1, 1));
        return;
    }
    ck_assert_msg(out->len == 0 || out->raw[out->len - 1] == '\n',
                  "%s does not end in a whole line", path);
    out->n = count_newlines(out->raw, out->len);
    out->v = keep(calloc((size_t)out->n + 1, sizeof(char *)));
    for (p = out->raw; i < out->n; i++) {
        char *nl = memchr(p, '\n', (size_t)(out->raw + out->len - p));
        *nl = '\0';
        out->v[i] = p;
        p = nl + 1;
    }
}

/* Polls path (bounded) until it holds at least want lines, then reads
 * it; the caller checks the exact count. */
static void wait_lines(const char *path, int want, lines_t *out)
{
    long long deadline = now_ms() + WAIT_MS;

    for (;;) {
        size_t len = 0;
        char *raw = wt_read(path, &len);
        int n = raw ? count_newlines(raw, len) : 0;
        free(raw);
        if (n >= want || now_ms() >= deadline)
            break;
        poll(NULL, 0, 20);
    }
    read_lines(path, out);
    ck_assert_msg(out->n >= want, "%s: %d lines, wanted %d", path, out->n,
                  want);
}

/* The one line holding needle. */
static char *line_with(const lines_t *l, const char *needle)
{
    char *found = NULL;
    int i;

    for (i = 0; i < l->n; i++) {
        if (strstr(l->v[i], needle) != NULL) {
            ck_assert_msg(found == NULL, "two lines hold %s", needle);
            found = l->v[i];
        }
    }
    ck_assert_msg(found != NULL, "no line holds %s", needle);
    return found;
}

/* ---- Apache's common and combined formats, parsed back ----------------- */

typedef struct {
    char *host, *ident, *user, *time, *request, *status, *bytes;
    char *referer, *agent; /* combined only */
} clf_t;

/* A field up to the next space (or the end). */
static char *clf_word(char **s)
{
    char *start = *s, *sp = strchr(start, ' ');

    if (sp == NULL) {
        *s = start + strlen(start);
    } else {
        *sp = '\0';
        *s = sp + 1;
    }
    return start;
}

/* A quoted field, escapes left as logged; NULL when malformed. */
static char *clf_quoted(char **s)
{
    char *start = *s, *p;

    if (*start != '"')
        return NULL;
    for (p = start + 1; *p != '\0' && *p != '"'; p++)
        if (*p == '\\' && p[1] != '\0')
            p++;
    if (*p != '"')
        return NULL;
    *p = '\0';
    *s = p + 1;
    if (**s == ' ')
        (*s)++;
    return start + 1;
}

/* Parses a copy of line in Apache's common (combined == 0) or combined
 * layout; every byte of a line must be printable ASCII (Apache's escaping
 * leaves nothing else), and nothing may follow the last field. */
static void clf_parse(const char *line, int combined, clf_t *c)
{
    char *s = keep(strdup(line)), *end;
    const unsigned char *u;

    for (u = (const unsigned char *)line; *u; u++)
        ck_assert_msg(*u >= 0x20 && *u < 0x7f, "raw byte %#x in %s", *u, line);
    memset(c, 0, sizeof(*c));
    c->host = clf_word(&s);
    c->ident = clf_word(&s);
    c->user = clf_word(&s);
    ck_assert_msg(*s == '[', "no [time] in %s", line);
    end = strchr(s, ']');
    ck_assert_ptr_nonnull(end);
    ck_assert_msg(end[1] == ' ', "no space after [time] in %s", line);
    c->time = s;
    end[1] = '\0';
    s = end + 2;
    c->request = clf_quoted(&s);
    ck_assert_msg(c->request != NULL, "bad request field in %s", line);
    c->status = clf_word(&s);
    c->bytes = clf_word(&s);
    if (combined) {
        c->referer = clf_quoted(&s);
        c->agent = clf_quoted(&s);
        ck_assert_msg(c->referer != NULL && c->agent != NULL,
                      "bad referer/agent in %s", line);
    }
    ck_assert_msg(*s == '\0', "trailing text in %s", line);
}

/*
 * %t: "[10/Oct/2000:13:55:36 -0700]".  Checks the layout, that the offset
 * is this machine's for that instant, and that the time lies within
 * [lo, hi] (seconds since the epoch).
 */
static void check_clf_time(const char *t, time_t lo, time_t hi)
{
    static const char *months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm, local;
    char mon[4], sign;
    int oh, om, used = 0;
    const char *m;
    time_t at;
    long off, local_off;

    memset(&tm, 0, sizeof(tm));
    ck_assert_msg(strlen(t) == 28, "bad %%t %s", t);
    ck_assert_int_eq(sscanf(t, "[%2d/%3s/%4d:%2d:%2d:%2d %c%2d%2d]%n",
                            &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour,
                            &tm.tm_min, &tm.tm_sec, &sign, &oh, &om, &used),
                     9);
    ck_assert_int_eq(used, 28);
    m = strstr(months, mon);
    ck_assert_msg(m != NULL && (m - months) % 3 == 0, "bad month in %s", t);
    ck_assert(sign == '+' || sign == '-');
    tm.tm_mon = (int)(m - months) / 3;
    tm.tm_year -= 1900;
    off = (sign == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
    at = timegm(&tm) - off;
    ck_assert_msg(at >= lo - 1 && at <= hi + 1, "%s is not between %ld and %ld",
                  t, (long)lo, (long)hi);
    localtime_r(&at, &local);
    local_off = local.tm_gmtoff;
    ck_assert_int_eq(off, local_off);
}

/* ---- json, through Python's strict parser ------------------------------- */

/* Prints "key TAB type TAB value-as-ASCII-JSON" per field (duplicates and
 * order kept), "--" after each object; fails on invalid UTF-8, a control
 * byte inside a string, or anything but one object a line. */
static const char py_dump[] =
    "import json,sys\n"
    "data=open(sys.argv[1],'rb').read()\n"
    "assert data.endswith(b'\\n'),'last line not whole'\n"
    "for raw in data.split(b'\\n')[:-1]:\n"
    "    o=json.loads(raw.decode('utf-8'),object_pairs_hook=lambda p:p)\n"
    "    assert isinstance(o,list),raw\n"
    "    for k,v in o:\n"
    "        print(k,type(v).__name__,json.dumps(v),sep='\\t')\n"
    "    print('--')\n";

#define JSON_FIELDS 10
static const char *const json_keys[JSON_FIELDS] = {
    "time",   "remote", "method",      "uri",     "proto",
    "status", "bytes",  "duration_us", "referer", "user_agent",
};
static const char *const json_types[JSON_FIELDS] = {
    "str", "str", "str", "str", "str", "int", "int", "int", "str", "str",
};

typedef struct {
    char *val[JSON_FIELDS]; /* json.dumps of each value, by json_keys */
} jrec_t;

/* Checks one record's keys and types, in order. */
static void json_record(char *text, jrec_t *rec)
{
    char *save = NULL, *ln;
    int i = 0;

    for (ln = strtok_r(text, "\n", &save); ln != NULL;
         ln = strtok_r(NULL, "\n", &save), i++) {
        char *t1 = strchr(ln, '\t'), *t2;
        ck_assert_msg(i < JSON_FIELDS, "extra field %s", ln);
        ck_assert_ptr_nonnull(t1);
        *t1 = '\0';
        t2 = strchr(t1 + 1, '\t');
        ck_assert_ptr_nonnull(t2);
        *t2 = '\0';
        ck_assert_str_eq(ln, json_keys[i]);
        ck_assert_msg(strcmp(t1 + 1, json_types[i]) == 0, "%s is a %s",
                      json_keys[i], t1 + 1);
        rec->val[i] = t2 + 1;
    }
    ck_assert_int_eq(i, JSON_FIELDS);
}

/* Parses every line of path as JSON; returns the records (n of them). */
static jrec_t *json_read(const char *path, int *n)
{
    const char *argv[] = { PYTHON, "-c", py_dump, path, NULL };
    wt_run_t r;
    jrec_t *recs;
    char *p, *sep;
    int cap = 64;

    ck_assert_int_eq(wt_run(&r, WAIT_MS, argv), 0);
    ck_assert_msg(r.status == 0, "not JSON lines: %s", r.err);
    recs = keep(calloc((size_t)cap, sizeof(*recs)));
    *n = 0;
    for (p = r.out; (sep = strstr(p, "--\n")) != NULL; p = sep + 3) {
        ck_assert_int_lt(*n, cap);
        *sep = '\0';
        json_record(p, &recs[(*n)++]);
    }
    return recs;
}

static const char *jget(const jrec_t *r, const char *key)
{
    int i;

    for (i = 0; i < JSON_FIELDS; i++)
        if (strcmp(json_keys[i], key) == 0)
            return r->val[i];
    ck_abort_msg("no key %s", key);
    return NULL;
}

/* The record whose uri is the JSON string uri. */
static const jrec_t *json_find(const jrec_t *recs, int n, const char *uri)
{
    int i;

    for (i = 0; i < n; i++)
        if (strcmp(jget(&recs[i], "uri"), uri) == 0)
            return &recs[i];
    ck_abort_msg("no record for %s", uri);
    return NULL;
}

/* "time": RFC 3339 UTC with milliseconds, within [lo, hi]. */
static void check_json_time(const char *v, time_t lo, time_t hi)
{
    struct tm tm;
    int ms, used = 0;
    time_t at;

    memset(&tm, 0, sizeof(tm));
    ck_assert_msg(strlen(v) == 26, "bad time %s", v);
    ck_assert_int_eq(sscanf(v, "\"%4d-%2d-%2dT%2d:%2d:%2d.%3dZ\"%n",
                            &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                            &tm.tm_min, &tm.tm_sec, &ms, &used),
                     7);
    ck_assert_int_eq(used, 26);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    at = timegm(&tm);
    ck_assert_msg(at >= lo - 1 && at <= hi + 1, "%s not in [%ld, %ld]", v,
                  (long)lo, (long)hi);
}

/* ---- the formats -------------------------------------------------------- */

/* A request whose headers need every kind of escaping a client can send
 * (control bytes other than tab are refused by the server itself). */
#define ODD_REQUEST                                \
    "GET /hello?x=1&y=%41 HTTP/1.1\r\nHost: h\r\n" \
    "Referer: http://r.example/a\"b\r\n"           \
    "User-Agent: q\"u\\o\tt\xc3\xa9\xff end\r\n"   \
    "Connection: close\r\n\r\n"

START_TEST(combined_is_the_default)
{
    time_t lo = time(NULL), hi;
    lines_t l;
    clf_t a, b;
    char *resp;

    start("AccessLog access.log");
    resp = exchanges(ODD_REQUEST, NULL);
    ck_assert_ptr_nonnull(strstr(resp, "\r\n\r\nhello\n"));
    resp = exchanges("GET /size?n=0 HTTP/1.0\r\n\r\n", NULL);
    ck_assert_ptr_nonnull(strstr(resp, "HTTP/1.0 200 OK"));
    hi = time(NULL);
    wait_lines(in_dir("access.log"), 2, &l);
    ck_assert_int_eq(l.n, 2);

    clf_parse(line_with(&l, "/hello"), 1, &a);
    ck_assert_str_eq(a.host, "127.0.0.1");
    ck_assert_str_eq(a.ident, "-");
    ck_assert_str_eq(a.user, "-");
    check_clf_time(a.time, lo, hi);
    ck_assert_str_eq(a.request, "GET /hello?x=1&y=%41 HTTP/1.1");
    ck_assert_str_eq(a.status, "200");
    ck_assert_str_eq(a.bytes, "6");
    /* ap_escape_logitem: \" \\ \t, and \xhh for bytes past ASCII. */
    ck_assert_str_eq(a.referer, "http://r.example/a\\\"b");
    ck_assert_str_eq(a.agent, "q\\\"u\\\\o\\tt\\xc3\\xa9\\xff end");

    clf_parse(line_with(&l, "/size"), 1, &b);
    ck_assert_str_eq(b.request, "GET /size?n=0 HTTP/1.0");
    ck_assert_str_eq(b.status, "200");
    ck_assert_str_eq(b.bytes, "-"); /* %b: no body is "-" */
    ck_assert_str_eq(b.referer, "-");
    ck_assert_str_eq(b.agent, "-");
}
END_TEST

START_TEST(common_format)
{
    time_t lo = time(NULL), hi;
    lines_t l;
    clf_t a, b;

    start("AccessLog common.log common");
    ck_assert_ptr_nonnull(strstr(get("/nope"), "404 Not Found"));
    ck_assert_ptr_nonnull(strstr(get("/status?code=204"), "204 No Content"));
    hi = time(NULL);
    wait_lines(in_dir("common.log"), 2, &l);
    ck_assert_int_eq(l.n, 2);

    clf_parse(line_with(&l, "/nope"), 0, &a);
    ck_assert_str_eq(a.host, "127.0.0.1");
    ck_assert_str_eq(a.ident, "-");
    ck_assert_str_eq(a.user, "-");
    check_clf_time(a.time, lo, hi);
    ck_assert_str_eq(a.request, "GET /nope HTTP/1.1");
    ck_assert_str_eq(a.status, "404");
    ck_assert_str_eq(a.bytes, "19");

    clf_parse(line_with(&l, "/status"), 0, &b);
    ck_assert_str_eq(b.request, "GET /status?code=204 HTTP/1.1");
    ck_assert_str_eq(b.status, "204");
    ck_assert_str_eq(b.bytes, "-");
}
END_TEST

START_TEST(json_format)
{
    time_t lo = time(NULL), hi;
    int n, odd_port, big_port;
    const jrec_t *odd, *big, *slow;
    jrec_t *recs;
    lines_t l;

    start("AccessLog access.json json");
    exchanges(ODD_REQUEST, &odd_port);
    ck_assert_ptr_nonnull(strstr(exchanges("GET /size?n=5000 HTTP/1.1\r\n"
                                           "Host: t\r\nConnection: close"
                                           "\r\n\r\n",
                                           &big_port),
                                 "Transfer-Encoding: chunked"));
    get("/sleep?ms=100");
    hi = time(NULL);
    wait_lines(in_dir("access.json"), 3, &l);
    ck_assert_int_eq(l.n, 3);
    recs = json_read(in_dir("access.json"), &n);
    ck_assert_int_eq(n, 3);

    odd = json_find(recs, n, "\"/hello?x=1&y=%41\"");
    check_json_time(jget(odd, "time"), lo, hi);
    ck_assert_str_eq(jget(odd, "remote"), wt_fmt("\"127.0.0.1:%d\"", odd_port));
    ck_assert_str_eq(jget(odd, "method"), "\"GET\"");
    ck_assert_str_eq(jget(odd, "proto"), "\"HTTP/1.1\"");
    ck_assert_str_eq(jget(odd, "status"), "200");
    ck_assert_str_eq(jget(odd, "bytes"), "6");
    ck_assert_int_ge(atol(jget(odd, "duration_us")), 0);
    ck_assert_str_eq(jget(odd, "referer"), "\"http://r.example/a\\\"b\"");
    /* é stays é; the lone \xff byte comes back as U+00FF (escaped, so
     * the line is valid UTF-8). */
    ck_assert_str_eq(jget(odd, "user_agent"),
                     "\"q\\\"u\\\\o\\tt\\u00e9\\u00ff end\"");
    ck_assert_ptr_nonnull(strstr(line_with(&l, "/hello"),
                                 "\"user_agent\":\"q\\\"u\\\\o\\u0009t"
                                 "\xc3\xa9\\u00ff end\"}"));

    /* Body bytes, not the chunked framing around them. */
    big = json_find(recs, n, "\"/size?n=5000\"");
    ck_assert_str_eq(jget(big, "remote"), wt_fmt("\"127.0.0.1:%d\"", big_port));
    ck_assert_str_eq(jget(big, "bytes"), "5000");
    ck_assert_str_eq(jget(big, "referer"), "\"\"");
    ck_assert_str_eq(jget(big, "user_agent"), "\"\"");

    slow = json_find(recs, n, "\"/sleep?ms=100\"");
    ck_assert_int_ge(atol(jget(slow, "duration_us")), 100000);
    ck_assert_str_eq(jget(slow, "bytes"), "6");
}
END_TEST

START_TEST(custom_format)
{
    lines_t l;
    char *line, *f[32], *save = NULL, *p;
    int n = 0;

    /* Inside quotes the config keeps \t as written; the format makes it
     * a tab (Apache's escape). */
    start("AccessLog custom.log \"%h|%a|%l|%u|%>s|%s|%<s|%b|%B|%D|%T|%m|%U|"
          "%q|%H|%{X-In}i|%{X-Out}o|%{X-None}i|%%|\\t|%r\"");
    exchanges("GET /header?name=X-Out&value=o%22ut HTTP/1.1\r\nHost: h\r\n"
              "X-In: in\\side\r\nConnection: close\r\n\r\n",
              NULL);
    get("/sleep?ms=1000");
    get("/a%20b");
    wait_lines(in_dir("custom.log"), 3, &l);
    ck_assert_int_eq(l.n, 3);

    line = keep(strdup(line_with(&l, "/header")));
    for (p = strtok_r(line, "|", &save); p != NULL && n < 32;
         p = strtok_r(NULL, "|", &save))
        f[n++] = p;
    ck_assert_int_eq(n, 21);
    ck_assert_str_eq(f[0], "127.0.0.1");
    ck_assert_str_eq(f[1], "127.0.0.1");
    ck_assert_str_eq(f[2], "-");
    ck_assert_str_eq(f[3], "-");
    ck_assert_str_eq(f[4], "200");
    ck_assert_str_eq(f[5], "200");
    ck_assert_str_eq(f[6], "200");
    ck_assert_str_eq(f[7], "3");
    ck_assert_str_eq(f[8], "3");
    ck_assert_int_eq((int)strspn(f[9], "0123456789"), (int)strlen(f[9]));
    ck_assert_str_eq(f[10], "0");
    ck_assert_str_eq(f[11], "GET");
    ck_assert_str_eq(f[12], "/header");
    ck_assert_str_eq(f[13], "?name=X-Out&value=o%22ut");
    ck_assert_str_eq(f[14], "HTTP/1.1");
    ck_assert_str_eq(f[15], "in\\\\side");
    ck_assert_str_eq(f[16], "o\\\"ut");
    ck_assert_str_eq(f[17], "-");
    ck_assert_str_eq(f[18], "%");
    ck_assert_str_eq(f[19], "\t");
    ck_assert_str_eq(f[20], "GET /header?name=X-Out&value=o%22ut HTTP/1.1");

    /* %D in microseconds and %T in whole seconds, for a 1 s handler. */
    line = keep(strdup(line_with(&l, "/sleep")));
    n = 0;
    for (p = strtok_r(line, "|", &save); p != NULL && n < 32;
         p = strtok_r(NULL, "|", &save))
        f[n++] = p;
    ck_assert_int_eq(n, 21);
    ck_assert_int_ge(atol(f[9]), 1000000);
    ck_assert_int_ge(atol(f[10]), 1);
    ck_assert_str_eq(f[7], "6");
    ck_assert_str_eq(f[13], "?ms=1000");

    /* %U is the decoded path; %q is empty without a query. */
    ck_assert_ptr_nonnull(
        strstr(line_with(&l, "/a%20b"), "|GET|/a b||HTTP/1.1|"));
}
END_TEST

/* Whether this machine has an IPv6 loopback to test with. */
static int have_ipv6_loopback(void)
{
    struct sockaddr_in6 sa;
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    if (fd < 0)
        return 0;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

/* %h drops the brackets and the port of an IPv6 client; json keeps Go's
 * RemoteAddr form, "[::1]:port". */
START_TEST(ipv6_client)
{
    struct sockaddr_in6 sa;
    socklen_t len = sizeof(sa);
    char buf[4096];
    int fd, closed = 0, n;
    jrec_t *recs;
    lines_t l;

    if (!have_ipv6_loopback()) {
        fprintf(stderr, "ipv6_client: no IPv6 loopback here, not checked\n");
        return;
    }
    start("Listen [::1]:0\nAccessLog h.log \"%h|%a|%r\"\n"
          "AccessLog h.json json");
    fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    sa.sin6_port = htons((unsigned short)srv.port);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    ck_assert_int_eq(wt_sends(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n"
                                  "Connection: close\r\n\r\n"),
                     0);
    wt_recv_all(fd, buf, sizeof(buf), WAIT_MS, &closed);
    close(fd);
    ck_assert_ptr_nonnull(strstr(buf, "\r\n\r\nhello\n"));

    wait_lines(in_dir("h.log"), 1, &l);
    ck_assert_int_eq(l.n, 1);
    ck_assert_str_eq(l.v[0], "::1|::1|GET /hello HTTP/1.1");
    wait_lines(in_dir("h.json"), 1, &l);
    recs = json_read(in_dir("h.json"), &n);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(jget(&recs[0], "remote"),
                     wt_fmt("\"[::1]:%d\"", ntohs(sa.sin6_port)));
}
END_TEST

/* ---- refused requests --------------------------------------------------- */

/* Waits until the testapp's event log shows conn closed; returns the
 * number of /events requests it made (each is logged). */
static int wait_closed(int port)
{
    char *want = wt_fmt("state 127.0.0.1:%d closed\n", port);
    long long deadline = now_ms() + WAIT_MS;
    int n = 0;

    for (;;) {
        char *r = get("/events");
        n++;
        if (strstr(r, want) != NULL)
            return n;
        ck_assert_msg(now_ms() < deadline, "connection never closed");
        poll(NULL, 0, 20);
    }
}

#define R505_BODY "505 HTTP Version Not Supported: unsupported protocol version"
#define R431_BODY "431 Request Header Fields Too Large"

START_TEST(refused_requests)
{
    char big[2048 + 64];
    int fd, silent, events, n, i, port505;
    jrec_t *recs;
    const jrec_t *j;
    lines_t l;
    clf_t c;

    start("MaxHeaderBytes 1K\nAccessLog c.log\nAccessLog j.log json");
    /* A connection that never sends a request is not logged. */
    fd = wt_connect(srv.port, WAIT_MS);
    ck_assert_int_ge(fd, 0);
    silent = local_port(fd);
    close(fd);
    events = wait_closed(silent);

    ck_assert_ptr_nonnull(strstr(
        exchanges("GET / HTTP/2.0\r\nHost: x\r\n\r\n", &port505), R505_BODY));
    ck_assert_ptr_nonnull(
        strstr(exchanges("GARBAGE\r\n\r\n", NULL), "400 Bad Request"));
    ck_assert_ptr_nonnull(strstr(
        exchanges("GET /bad HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", NULL),
        "400 Bad Request"));
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /big HTTP/1.1\r\nHost: x\r\nX-Big: ", 35);
    memcpy(big + sizeof(big) - 5, "\r\n\r\n", 5);
    ck_assert_ptr_nonnull(strstr(exchanges(big, NULL), R431_BODY));
    get("/hello?marker");

    /* Stop the server: every queued line is written at shutdown, so the
     * count below is final. */
    wait_lines(in_dir("c.log"), events + 5, &l);
    ck_assert_int_eq(wt_server_stop(&srv, SIGTERM, WAIT_MS), 0);
    read_lines(in_dir("c.log"), &l);
    ck_assert_int_eq(l.n, events + 5);
    for (i = 0; i < l.n; i++)
        ck_assert_msg(strstr(l.v[i], wt_fmt(":%d", silent)) == NULL,
                      "silent connection logged");

    /* The 505's request line is refused before it is parsed into parts:
     * "-" (or the line itself, were the core to keep it). */
    clf_parse(line_with(&l, " 505 "), 1, &c);
    ck_assert_msg(strcmp(c.request, "-") == 0 ||
                      strcmp(c.request, "GET / HTTP/2.0") == 0,
                  "505 logged as %s", c.request);
    ck_assert_str_eq(c.bytes, wt_fmt("%zu", strlen(R505_BODY)));
    clf_parse(line_with(&l, "\"GET /bad HTTP/1.1\""), 1, &c);
    ck_assert_str_eq(c.status, "400");
    ck_assert_str_eq(c.bytes, "15");
    clf_parse(line_with(&l, "\"GET /big HTTP/1.1\""), 1, &c);
    ck_assert_str_eq(c.status, "431");
    ck_assert_str_eq(c.bytes, wt_fmt("%zu", strlen(R431_BODY)));
    clf_parse(line_with(&l, "\"-\" 400 "), 1, &c);
    ck_assert_str_eq(c.bytes, "15");
    ck_assert_str_eq(c.agent, "-");

    recs = json_read(in_dir("j.log"), &n);
    ck_assert_int_eq(n, events + 5);
    for (i = 0, j = NULL; i < n; i++)
        if (strcmp(jget(&recs[i], "status"), "505") == 0)
            j = &recs[i];
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(jget(j, "remote"), wt_fmt("\"127.0.0.1:%d\"", port505));
    ck_assert_msg(strcmp(jget(j, "method"), "\"\"") == 0 ||
                      strcmp(jget(j, "method"), "\"GET\"") == 0,
                  "505 method %s", jget(j, "method"));
    ck_assert_str_eq(jget(j, "bytes"), "60");
    j = json_find(recs, n, "\"/big\"");
    ck_assert_str_eq(jget(j, "status"), "431");
    ck_assert_str_eq(jget(j, "method"), "\"GET\"");
}
END_TEST

/* ---- configuration ------------------------------------------------------ */

static const char *const bad_formats[][2] = {
    { "AccessLog x.log bogus", "unknown log format 'bogus'" },
    { "AccessLog x.log \"%h %Z\"", "unknown log format directive %Z" },
    { "AccessLog x.log \"%{Referer\"", "unterminated %{" },
    { "AccessLog x.log \"%i\"", "%i needs a header name" },
    { "AccessLog x.log \"%>b\"", "only %s takes < or >" },
    { "AccessLog x.log \"%{x}t\"", "takes no {argument}" },
    { "AccessLog x.log \"%h\\n\"", "cannot contain a line break" },
    { "AccessLog x.log \"%h %\"", "ends in the middle of a % directive" },
    { "AccessLog \"|/bin/cat\"", "piped logs are not supported" },
    { "AccessLog a b c", "AccessLog" },
};
#define N_BAD_FORMATS ((int)(sizeof(bad_formats) / sizeof(bad_formats[0])))

/* weftd -t on a file whose third line is directive. */
static wt_run_t *check_config(const char *directive, char **conf)
{
    char *dir = wt_tmpdir();
    const char *argv[] = { wt_weftd(), "-t", "-f", NULL, NULL };
    wt_run_t *r = keep(calloc(1, sizeof(*r)));

    ck_assert_ptr_nonnull(dir);
    *conf = wt_write(dir, "weft.conf",
                     wt_fmt("LoadModule testapp_module %s\n"
                            "LoadModule log_module %s\n%s\n",
                            wt_testapp(), mod_log_so(), directive));
    argv[3] = *conf;
    ck_assert_int_eq(wt_run(r, WAIT_MS, argv), 0);
    return r;
}

START_TEST(bad_format_refused)
{
    char *conf, *want;
    wt_run_t *r = check_config(bad_formats[_i][0], &conf);

    ck_assert_int_eq(r->status, 1);
    want = wt_fmt("%s:3: AccessLog: ", conf);
    ck_assert_msg(strncmp(r->err, want, strlen(want)) == 0,
                  "stderr: %s (wanted it to begin %s)", r->err, want);
    ck_assert_msg(strstr(r->err, bad_formats[_i][1]) != NULL,
                  "stderr: %s (wanted %s)", r->err, bad_formats[_i][1]);
}
END_TEST

START_TEST(check_opens_nothing)
{
    char *conf, *dir;
    wt_run_t *r = check_config("AccessLog x.log json\nAccessLog y.log "
                               "\"%h %{User-Agent}i %>s\"",
                               &conf);
    struct stat st;

    ck_assert_int_eq(r->status, 0);
    ck_assert_ptr_nonnull(strstr(r->out, "Syntax OK"));
    dir = keep(strdup(conf));
    *strrchr(dir, '/') = '\0';
    ck_assert_int_ne(stat(wt_fmt("%s/x.log", dir), &st), 0);
}
END_TEST

START_TEST(open_failure_names_the_line)
{
    char *dir = wt_tmpdir(), *conf, *want;
    const char *argv[] = { wt_weftd(), "-f", NULL, NULL };
    wt_run_t r;

    conf = wt_write(dir, "weft.conf",
                    wt_fmt("Listen 127.0.0.1:0\n"
                           "LoadModule log_module %s\n"
                           "AccessLog %s/no/such/dir/a.log\n",
                           mod_log_so(), dir));
    argv[2] = conf;
    ck_assert_int_eq(wt_run(&r, WAIT_MS, argv), 0);
    ck_assert_int_eq(r.status, 1);
    want =
        wt_fmt("%s:3: AccessLog: cannot open %s/no/such/dir/a.log", conf, dir);
    ck_assert_msg(strstr(r.err, want) != NULL, "stderr: %s", r.err);
}
END_TEST

START_TEST(no_directives_no_change)
{
    char *listing;
    wt_run_t r;
    const char *argv[] = { "/bin/ls", "-A", NULL, NULL };

    start("");
    ck_assert_ptr_nonnull(strstr(get("/hello"), "\r\n\r\nhello\n"));
    ck_assert_int_eq(wt_server_stop(&srv, SIGTERM, WAIT_MS), 0);
    argv[2] = srv.dir;
    ck_assert_int_eq(wt_run(&r, WAIT_MS, argv), 0);
    listing = r.out;
    ck_assert_str_eq(listing, "weft.conf\nweftd.log\n");
}
END_TEST

/* ---- several logs, shutdown, reopen ------------------------------------- */

/* Every line is one of /hello?i=0..9, and each of those is there once. */
static void check_targets(const lines_t *l)
{
    int i, seen[10] = { 0 };

    for (i = 0; i < l->n; i++) {
        const char *q = strstr(l->v[i], "/hello?i=");
        ck_assert_ptr_nonnull(q);
        ck_assert(q[9] >= '0' && q[9] <= '9');
        seen[q[9] - '0']++;
    }
    for (i = 0; i < 10; i++)
        ck_assert_msg(seen[i] == 1, "request %d logged %d times", i, seen[i]);
}

START_TEST(every_log_gets_every_request)
{
    const char *names[] = { "a.log", "b.json", "c.log", "d.log" };
    int i;

    start("AccessLog a.log\nAccessLog b.json json\nAccessLog c.log "
          "combined\nAccessLog d.log \"%r %>s\"");
    for (i = 0; i < 10; i++)
        get(wt_fmt("/hello?i=%d", i));
    for (i = 0; i < 4; i++) {
        lines_t l;
        wait_lines(in_dir(names[i]), 10, &l);
        ck_assert_int_eq(l.n, 10);
        check_targets(&l);
        if (i == 3)
            ck_assert_ptr_nonnull(line_with(&l, "GET /hello?i=7 HTTP/1.1 200"));
    }
    /* Two logs in one format hold the same lines. */
    {
        lines_t a, c;
        read_lines(in_dir("a.log"), &a);
        read_lines(in_dir("c.log"), &c);
        for (i = 0; i < a.n; i++)
            ck_assert_str_eq(a.v[i],
                             line_with(&c, strstr(a.v[i], "/hello?i=")));
    }
}
END_TEST

START_TEST(flushed_at_shutdown)
{
    lines_t l;
    int i;

    start("AccessLog s.log");
    for (i = 0; i < 20; i++)
        get(wt_fmt("/hello?n=%d", i));
    ck_assert_int_eq(wt_server_stop(&srv, SIGTERM, WAIT_MS), 0);
    /* No wait: the server is gone and must have written everything. */
    read_lines(in_dir("s.log"), &l);
    ck_assert_int_eq(l.n, 20);
}
END_TEST

/* Rotation as logrotate does it: rename, signal, new lines in a new
 * file at the old path, the renamed file keeping what it had. */
START_TEST(sigusr1_reopens)
{
    char *path, *old;
    lines_t l, o;

    start("AccessLog access.log");
    path = in_dir("access.log");
    old = in_dir("access.log.1");
    get("/hello?before");
    wait_lines(path, 1, &l);
    ck_assert_int_eq(rename(path, old), 0);
    ck_assert_int_eq(kill(srv.pid, SIGUSR1), 0);
    ck_assert_msg(wt_server_wait_log(&srv, "logs reopened", WAIT_MS),
                  "SIGUSR1 did not reopen the logs");
    get("/hello?after");
    wait_lines(path, 1, &l);
    ck_assert_int_eq(l.n, 1);
    line_with(&l, "/hello?after");
    ck_assert_int_eq(wt_server_stop(&srv, SIGTERM, WAIT_MS), 0);
    read_lines(old, &o);
    ck_assert_int_eq(o.n, 1);
    line_with(&o, "/hello?before");
    read_lines(path, &l);
    ck_assert_int_eq(l.n, 1);
}
END_TEST

/*
 * The same, in this process through the runtime API: the reopen_logs
 * hook as weft_server_reopen_logs runs it (the error log rotating with
 * the access log), and the final flush when the server is destroyed.
 */
START_TEST(reopen_in_process)
{
    apr_pool_t *pool;
    weft_server_t *s;
    const char *err = NULL, *dir = wt_tmpdir();
    char *path = wt_fmt("%s/a.log", dir);
    char *old = wt_fmt("%s/a.log.1", dir);
    char *elog = wt_fmt("%s/error.log", dir);
    const char *conf[] = {
        "Listen 127.0.0.1:0",
        wt_fmt("ErrorLog %s", elog),
        wt_fmt("LoadModule testapp_module %s", wt_testapp()),
        wt_fmt("LoadModule log_module %s", mod_log_so()),
        "Handler testapp",
        wt_fmt("AccessLog %s json", path),
    };
    char *errors;
    lines_t l;
    unsigned i;

    ck_assert_int_eq(apr_initialize(), APR_SUCCESS);
    apr_pool_create(&pool, NULL);
    ck_assert_int_eq(weft_server_create(pool, &s), APR_SUCCESS);
    for (i = 0; i < sizeof(conf) / sizeof(conf[0]); i++)
        ck_assert_msg(weft_server_config_line(s, conf[i], "t.conf", i + 1,
                                              &err) == APR_SUCCESS,
                      "%s", err);
    ck_assert_msg(weft_server_check_config(s, &err) == APR_SUCCESS, "%s", err);
    ck_assert_msg(weft_server_open(s, &err) == APR_SUCCESS, "%s", err);
    ck_assert_int_eq(weft_server_serve(s), APR_SUCCESS);
    srv.port = weft_server_listener_addr(s, 0)->port;

    get("/hello?one");
    wait_lines(path, 1, &l);
    ck_assert_int_eq(rename(path, old), 0);
    ck_assert_int_eq(rename(elog, wt_fmt("%s.1", elog)), 0);
    weft_server_reopen_logs(s);
    errors = wt_read(elog, NULL);
    ck_assert_msg(errors != NULL && strstr(errors, "logs reopened") != NULL,
                  "the error log was not reopened");
    get("/hello?two");
    get("/hello?three");

    weft_server_stop(s, 1, apr_time_from_sec(10));
    weft_server_wait(s);
    ck_assert(weft_server_quiesce(s, apr_time_from_sec(10)));
    weft_server_destroy(s);
    /* Destroyed: no wait, every line is written. */
    read_lines(path, &l);
    ck_assert_int_eq(l.n, 2);
    line_with(&l, "/hello?two");
    line_with(&l, "/hello?three");
    read_lines(old, &l);
    ck_assert_int_eq(l.n, 1);
    line_with(&l, "/hello?one");
    apr_pool_destroy(pool);
    apr_terminate();
}
END_TEST

/* ---- whole lines under load --------------------------------------------- */

#define LOAD_THREADS 50
#define LOAD_REQUESTS 200
/* Characters of the varied User-Agent values: quotes and backslashes too,
 * so escaping happens under load. */
static const char ua_chars[] = "abcdefghijklmnopqrstuvwxyz\"\\0123456789";
#define UA_NCHARS ((int)sizeof(ua_chars) - 1)
/* Some requests carry a value longer than a log buffer (64 KiB). */
#define UA_HUGE 70000

static int ua_len(int t, int r)
{
    if (r == 0 && t % 10 == 0)
        return UA_HUGE + t;
    return (t * 131 + r * 977) % 2500;
}

/* The value request r of thread t sends (escaped: as combined logs it). */
static char *ua_make(int t, int r, int escaped)
{
    int n = ua_len(t, r), k;
    char *s = malloc((size_t)n * 2 + 32), *o = s;

    if (s == NULL)
        return NULL;
    o += sprintf(o, "t%d-r%d-", t, r);
    for (k = 0; k < n; k++) {
        char c = ua_chars[(t + r + k) % UA_NCHARS];
        if (escaped && (c == '"' || c == '\\'))
            *o++ = '\\';
        *o++ = c;
    }
    *o = '\0';
    return s;
}

static atomic_int load_failures;

/* One keep-alive connection, LOAD_REQUESTS requests in turn.  Failures
 * are counted, not asserted: this is not the test's thread. */
static void *load_main(void *arg)
{
    int t = (int)(long)arg, r, fd = wt_connect(srv.port, WAIT_MS);
    size_t cap = 1 << 14;
    char *buf = malloc(cap);

    if (fd < 0 || buf == NULL) {
        atomic_fetch_add(&load_failures, LOAD_REQUESTS);
        free(buf);
        return NULL;
    }
    for (r = 0; r < LOAD_REQUESTS; r++) {
        char *ua = ua_make(t, r, 0), *req;
        if (ua == NULL || asprintf(&req,
                                   "GET /hello?t=%d&r=%d HTTP/1.1\r\n"
                                   "Host: t\r\nUser-Agent: %s\r\n\r\n",
                                   t, r, ua) < 0) {
            free(ua);
            atomic_fetch_add(&load_failures, 1);
            continue;
        }
        if (wt_sends(fd, req) != 0 ||
            wt_recv_until(fd, buf, cap, "\r\n\r\nhello\n", WAIT_MS) == 0 ||
            strstr(buf, "\r\n\r\nhello\n") == NULL)
            atomic_fetch_add(&load_failures, 1);
        free(req);
        free(ua);
    }
    close(fd);
    free(buf);
    return NULL;
}

/* Python checks the json log: every line parses, every request once,
 * each value exactly as sent. */
static const char py_load[] =
    "import json,re,sys\n"
    "A='abcdefghijklmnopqrstuvwxyz\"\\\\0123456789'\n"
    "T,R=int(sys.argv[2]),int(sys.argv[3])\n"
    "def ua(t,r):\n"
    "    n=70000+t if r==0 and t%10==0 else (t*131+r*977)%2500\n"
    "    s=A*(n//len(A)+2)\n"
    "    return 't%d-r%d-'%(t,r)+s[(t+r)%len(A):][:n]\n"
    "data=open(sys.argv[1],'rb').read()\n"
    "assert data.endswith(b'\\n')\n"
    "seen=set()\n"
    "for raw in data.split(b'\\n')[:-1]:\n"
    "    o=json.loads(raw.decode('utf-8'))\n"
    "    m=re.fullmatch(r'/hello\\?t=(\\d+)&r=(\\d+)',o['uri'])\n"
    "    t,r=int(m[1]),int(m[2])\n"
    "    assert o['user_agent']==ua(t,r),(t,r)\n"
    "    assert (o['status'],o['bytes'],o['method'])==(200,6,'GET'),raw\n"
    "    assert (t,r) not in seen\n"
    "    seen.add((t,r))\n"
    "assert len(seen)==T*R,len(seen)\n"
    "print('ok',len(seen))\n";

START_TEST(concurrent_lines_whole)
{
    pthread_t th[LOAD_THREADS];
    static char seen[LOAD_THREADS][LOAD_REQUESTS];
    const int total = LOAD_THREADS * LOAD_REQUESTS;
    char targ[8], rarg[8];
    const char *argv[] = { PYTHON, "-c", py_load, NULL, targ, rarg, NULL };
    wt_run_t run;
    lines_t l;
    long i;

    start("AccessLog load.log\nAccessLog load.json json");
    for (i = 0; i < LOAD_THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, load_main, (void *)i), 0);
    for (i = 0; i < LOAD_THREADS; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(atomic_load(&load_failures), 0);

    wait_lines(in_dir("load.log"), total, &l);
    ck_assert_int_eq(l.n, total);
    for (i = 0; i < l.n; i++) {
        clf_t c;
        int t = -1, r = -1, used = 0;
        char *want;
        clf_parse(l.v[i], 1, &c);
        ck_assert_int_eq(
            sscanf(c.request, "GET /hello?t=%d&r=%d HTTP/1.1%n", &t, &r, &used),
            2);
        ck_assert_int_eq(used, (int)strlen(c.request));
        ck_assert(t >= 0 && t < LOAD_THREADS && r >= 0 && r < LOAD_REQUESTS);
        ck_assert_msg(!seen[t][r], "t%d r%d logged twice", t, r);
        seen[t][r] = 1;
        ck_assert_str_eq(c.status, "200");
        ck_assert_str_eq(c.bytes, "6");
        want = ua_make(t, r, 1);
        ck_assert_msg(strcmp(c.agent, want) == 0, "t%d r%d: agent differs", t,
                      r);
        free(want);
    }

    wait_lines(in_dir("load.json"), total, &l);
    ck_assert_int_eq(l.n, total);
    snprintf(targ, sizeof(targ), "%d", LOAD_THREADS);
    snprintf(rarg, sizeof(rarg), "%d", LOAD_REQUESTS);
    argv[3] = in_dir("load.json");
    ck_assert_int_eq(wt_run(&run, WAIT_MS, argv), 0);
    ck_assert_msg(run.status == 0, "json log: %s", run.err);
    ck_assert_str_eq(run.out, wt_fmt("ok %d\n", total));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *formats = tcase_create("formats");
    TCase *config = tcase_create("config");
    TCase *files = tcase_create("files");
    TCase *load = tcase_create("load");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(formats, NULL, teardown);
    tcase_add_checked_fixture(config, NULL, teardown);
    tcase_add_checked_fixture(files, NULL, teardown);
    tcase_add_checked_fixture(load, NULL, teardown);
    tcase_set_timeout(formats, 120);
    tcase_set_timeout(config, 120);
    tcase_set_timeout(files, 120);
    tcase_set_timeout(load, 600);
    suite_add_tcase(s, formats);
    suite_add_tcase(s, config);
    suite_add_tcase(s, files);
    suite_add_tcase(s, load);

    tcase_add_test(formats, combined_is_the_default);
    tcase_add_test(formats, common_format);
    tcase_add_test(formats, json_format);
    tcase_add_test(formats, custom_format);
    tcase_add_test(formats, ipv6_client);
    tcase_add_test(formats, refused_requests);

    tcase_add_loop_test(config, bad_format_refused, 0, N_BAD_FORMATS);
    tcase_add_test(config, check_opens_nothing);
    tcase_add_test(config, open_failure_names_the_line);
    tcase_add_test(config, no_directives_no_change);

    tcase_add_test(files, every_log_gets_every_request);
    tcase_add_test(files, flushed_at_shutdown);
    tcase_add_test(files, sigusr1_reopens);
    tcase_add_test(files, reopen_in_process);

    tcase_add_test(load, concurrent_lines_whole);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
