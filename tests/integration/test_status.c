/*
 * test_status.c -- mod_status on the wire: the three formats parsed back
 * (plain text, JSON by a strict parser, Prometheus text checked against
 * the exposition grammar by a small validator tested here too), counters
 * consistent with known activity, connections counted per state, methods.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "weft_test.h"

/* Every wait is bounded by this; generous for sanitizer builds. */
#define WAIT_MS 10000
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

#define CT_TEXT "text/plain; charset=utf-8"
#define CT_JSON "application/json"
#define CT_PROMETHEUS "text/plain; version=0.0.4"
#define STATUS_PATH "/server-status"

/* The live states, in the order every format lists them. */
static const char *const states[] = { "new", "active", "idle", "hijacked" };
enum { NEW, ACTIVE, IDLE, HIJACKED, NSTATES };

typedef enum { FMT_TEXT, FMT_JSON, FMT_PROMETHEUS } format_t;
static const char *const format_query[] = { "", "?format=json",
                                            "?format=prometheus" };
static const char *const format_ctype[] = { CT_TEXT, CT_JSON, CT_PROMETHEUS };

/* One scrape, whatever its format. */
typedef struct {
    double uptime;
    unsigned long long requests, bytes;
    long conns[NSTATES];
} snap_t;

/* One server per TCase, started by an unchecked fixture in the parent:
 * every forked test of the case talks to the same weftd.  started_us is
 * the wall clock just before it was started (uptime cannot exceed it). */
static wt_server_t srv;
static long long started_us;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long wall_us(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* ---- a client connection that keeps what it received -------------------- */

typedef struct {
    int fd;
    char buf[32768]; /* received and not yet consumed: buf[0, len) */
    size_t len;
    int eof; /* the server closed (FIN or reset) */
} client_t;

static client_t clients[4];
static int nclients;

static void teardown(void)
{
    while (nclients > 0)
        close(clients[--nclients].fd);
}

static client_t *client_open(void)
{
    client_t *c;

    ck_assert_msg(srv.port > 0, "weftd did not start");
    ck_assert(nclients < N(clients));
    c = &clients[nclients++];
    memset(c, 0, sizeof(*c));
    c->fd = wt_connect(srv.port, WAIT_MS);
    ck_assert_msg(c->fd >= 0, "cannot connect to weftd on port %d", srv.port);
    return c;
}

static void send_str(client_t *c, const char *s)
{
    ck_assert_msg(wt_sends(c->fd, s) == 0, "send failed: %s", strerror(errno));
}

/* Waits (until deadline) for more bytes; 1 if some came, 0 on a close,
 * a reset or the deadline (c->eof tells which). */
static int recv_some(client_t *c, long long deadline)
{
    for (;;) {
        struct pollfd pf = { c->fd, POLLIN, 0 };
        long long left = deadline - now_ms();
        ssize_t n;

        if (c->eof || left <= 0)
            return 0;
        if (poll(&pf, 1, (int)left) <= 0)
            continue;
        ck_assert_msg(c->len + 1 < sizeof(c->buf), "response too large");
        n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len - 1, 0);
        if (n > 0) {
            c->len += (size_t)n;
            c->buf[c->len] = '\0';
            return 1;
        }
        if (n < 0 && errno == EINTR)
            continue;
        c->eof = 1;
        return 0;
    }
}

static void consume(client_t *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    c->buf[c->len] = '\0';
}

/* Asserts the server closes the connection with nothing more sent. */
static void expect_close(client_t *c)
{
    long long deadline = now_ms() + WAIT_MS;

    while (recv_some(c, deadline))
        ;
    ck_assert_msg(c->eof, "the server kept the connection open");
    ck_assert_msg(c->len == 0, "%zu unexpected bytes before the close: %.200s",
                  c->len, c->buf);
}

/* ---- reading responses -------------------------------------------------- */

typedef struct {
    char head[2048]; /* through the blank line, the Date value masked '*' */
    char body[8192];
    size_t len;
} resp_t;

/* The value of field name in a head, up to its CRLF, or NULL. */
static const char *field(const char *head, const char *name, char *out,
                         size_t cap)
{
    size_t n = strlen(name);
    const char *line = strstr(head, "\r\n");

    while (line != NULL && line[2] != '\r') {
        line += 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1, *end;
            while (*v == ' ')
                v++;
            end = strstr(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(end - v), v);
            return out;
        }
        line = strstr(line, "\r\n");
    }
    return NULL;
}

static void mask_date(char *head)
{
    char *d = strstr(head, "\r\nDate: "), *end;

    if (d != NULL && (end = strstr(d + 2, "\r\n")) != NULL) {
        d += 8;
        *d = '*';
        memmove(d + 1, end, strlen(end) + 1);
    }
}

/*
 * Reads the next response and consumes it.  Every page here fits the
 * response buffer, so it must come with a Content-Length (the core's
 * framing for a handler that finished within it); a HEAD's carries the
 * length of the body it does not send.
 */
static void read_response(client_t *c, resp_t *r, int head_only)
{
    long long deadline = now_ms() + WAIT_MS;
    char cl[32];
    char *end;
    size_t hlen, n;

    memset(r, 0, sizeof(*r));
    while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
        ck_assert_msg(recv_some(c, deadline),
                      "no response head (%s); got %zu bytes: %.300s",
                      c->eof ? "closed" : "timed out", c->len, c->buf);
    hlen = (size_t)(end + 4 - c->buf);
    ck_assert(hlen < sizeof(r->head));
    memcpy(r->head, c->buf, hlen);
    ck_assert_msg(field(r->head, "Content-Length", cl, sizeof(cl)) != NULL,
                  "no Content-Length: %s", r->head);
    mask_date(r->head);
    n = head_only ? 0 : (size_t)strtoull(cl, NULL, 10);
    ck_assert(n < sizeof(r->body));
    while (c->len - hlen < n)
        ck_assert_msg(recv_some(c, deadline), "body cut off at %zu of %zu",
                      c->len - hlen, n);
    memcpy(r->body, c->buf + hlen, n);
    r->len = n;
    consume(c, hlen + n);
}

/* Sends one request (extra: more header lines, each ending in CRLF) and
 * reads its response. */
static void request(client_t *c, const char *method, const char *target,
                    const char *extra, resp_t *r)
{
    char req[512];

    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: t\r\n%s\r\n", method,
             target, extra);
    send_str(c, req);
    read_response(c, r, strcmp(method, "HEAD") == 0);
}

/* The status line and header block expected for a 200 of n bytes. */
static void head_ok(char *out, size_t cap, const char *ctype, size_t n,
                    int close)
{
    snprintf(out, cap,
             "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nDate: *\r\n"
             "Content-Length: %zu\r\n%s\r\n",
             ctype, n, close ? "Connection: close\r\n" : "");
}

/* ---- the plain text page ------------------------------------------------ */

/* An unsigned decimal filling s exactly. */
static int parse_u64(const char *s, unsigned long long *v)
{
    char *end;

    if (*s < '0' || *s > '9')
        return 0;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0';
}

/* A decimal float (digits, '.', digits) filling s exactly. */
static int parse_seconds(const char *s, double *v)
{
    char *end;

    if (*s < '0' || *s > '9')
        return 0;
    *v = strtod(s, &end);
    return *end == '\0' && strspn(s, "0123456789.") == strlen(s);
}

/* "weft VERSION status", then one "name: value" line per figure, each
 * exactly once, nothing else. */
static void parse_text(const char *body, snap_t *sn)
{
    char copy[8192], *save = NULL, *line;
    int seen[3 + NSTATES] = { 0 }, i;

    ck_assert(strlen(body) < sizeof(copy));
    ck_assert_msg(body[0] != '\0' && body[strlen(body) - 1] == '\n',
                  "the page does not end with a newline: %s", body);
    strcpy(copy, body);
    line = strtok_r(copy, "\n", &save);
    ck_assert_msg(line != NULL && strncmp(line, "weft ", 5) == 0 &&
                      strstr(line, " status") != NULL,
                  "no title line: %s", body);
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *colon = strstr(line, ": ");
        unsigned long long u;
        ck_assert_msg(colon != NULL, "not a \"name: value\" line: %s", line);
        *colon = '\0';
        colon += 2;
        if (strcmp(line, "uptime_seconds") == 0) {
            ck_assert_msg(parse_seconds(colon, &sn->uptime), "uptime %s",
                          colon);
            seen[0]++;
        } else if (strcmp(line, "requests_total") == 0) {
            ck_assert_msg(parse_u64(colon, &sn->requests), "requests %s",
                          colon);
            seen[1]++;
        } else if (strcmp(line, "bytes_total") == 0) {
            ck_assert_msg(parse_u64(colon, &sn->bytes), "bytes %s", colon);
            seen[2]++;
        } else {
            for (i = 0; i < NSTATES; i++)
                if (strncmp(line, "connections_", 12) == 0 &&
                    strcmp(line + 12, states[i]) == 0)
                    break;
            ck_assert_msg(i < NSTATES, "unknown line %s: %s", line, colon);
            ck_assert_msg(parse_u64(colon, &u), "%s: %s", line, colon);
            sn->conns[i] = (long)u;
            seen[3 + i]++;
        }
    }
    for (i = 0; i < N(seen); i++)
        ck_assert_msg(seen[i] == 1, "figure %d appears %d times: %s", i,
                      seen[i], body);
}

/* ---- JSON: a strict parser for one object of numbers and objects -------- */

typedef struct {
    char path[64]; /* "requests_total", "connections.idle" */
    double value;
    int integer; /* written without fraction or exponent */
    int object;  /* an object, its members listed under its path */
} json_kv_t;

typedef struct {
    const char *p, *end;
    const char *err; /* the first error, or NULL */
    json_kv_t kv[32];
    int nkv;
} json_t;

static void json_ws(json_t *j)
{
    while (j->p < j->end && strchr(" \t\r\n", *j->p) != NULL && *j->p != '\0')
        j->p++;
}

static int json_fail(json_t *j, const char *why)
{
    if (j->err == NULL)
        j->err = why;
    return 0;
}

/* A string without escapes is all this object needs; anything else in a
 * key is reported, not decoded. */
static int json_string(json_t *j, char *out, size_t cap)
{
    size_t n = 0;

    if (j->p >= j->end || *j->p != '"')
        return json_fail(j, "string expected");
    for (j->p++; j->p < j->end && *j->p != '"'; j->p++) {
        if ((unsigned char)*j->p < 0x20 || *j->p == '\\')
            return json_fail(j, "control character or escape in a key");
        if (n + 1 >= cap)
            return json_fail(j, "key too long");
        out[n++] = *j->p;
    }
    if (j->p >= j->end)
        return json_fail(j, "unterminated string");
    j->p++;
    out[n] = '\0';
    return 1;
}

static size_t json_digits(json_t *j)
{
    const char *s = j->p;

    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return (size_t)(j->p - s);
}

/* RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(json_t *j, double *v, int *integer)
{
    const char *s = j->p;
    char tmp[64];

    *integer = 1;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (json_digits(j) == 0)
        return json_fail(j, "number expected");
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        *integer = 0;
        if (json_digits(j) == 0)
            return json_fail(j, "digits expected after '.'");
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        *integer = 0;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (json_digits(j) == 0)
            return json_fail(j, "digits expected in the exponent");
    }
    if ((size_t)(j->p - s) >= sizeof(tmp))
        return json_fail(j, "number too long");
    memcpy(tmp, s, (size_t)(j->p - s));
    tmp[j->p - s] = '\0';
    *v = strtod(tmp, NULL);
    return 1;
}

/* An object whose values are numbers or objects; every member (objects
 * too) is recorded under prefix.  Duplicate keys are an error. */
static int json_object(json_t *j, const char *prefix)
{
    int first = 1;

    json_ws(j);
    if (j->p >= j->end || *j->p != '{')
        return json_fail(j, "object expected");
    j->p++;
    for (;;) {
        char key[48], path[64];
        json_kv_t *kv;
        int i;

        json_ws(j);
        if (j->p < j->end && *j->p == '}' && first) {
            j->p++;
            return 1;
        }
        if (!json_string(j, key, sizeof(key)))
            return 0;
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
        for (i = 0; i < j->nkv; i++)
            if (strcmp(j->kv[i].path, path) == 0)
                return json_fail(j, "duplicate key");
        if (j->nkv == N(j->kv))
            return json_fail(j, "too many members");
        kv = &j->kv[j->nkv++];
        snprintf(kv->path, sizeof(kv->path), "%s", path);
        json_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return json_fail(j, "':' expected");
        j->p++;
        json_ws(j);
        if (j->p < j->end && *j->p == '{') {
            kv->object = 1;
            if (!json_object(j, path))
                return 0;
        } else if (!json_number(j, &kv->value, &kv->integer)) {
            return 0;
        }
        json_ws(j);
        first = 0;
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return 1;
        }
        return json_fail(j, "',' or '}' expected");
    }
}

static const json_kv_t *json_get(const json_t *j, const char *path)
{
    int i;

    for (i = 0; i < j->nkv; i++)
        if (strcmp(j->kv[i].path, path) == 0)
            return &j->kv[i];
    return NULL;
}

/* The whole body is one object (then only whitespace) with exactly the
 * members the issue names, counts as integers. */
static void parse_json(const char *body, size_t len, snap_t *sn)
{
    static const char *const ints[] = { "requests_total", "bytes_total" };
    json_t j;
    const json_kv_t *kv;
    int i;

    memset(&j, 0, sizeof(j));
    j.p = body;
    j.end = body + len;
    json_object(&j, "");
    json_ws(&j);
    if (j.err == NULL && j.p != j.end)
        j.err = "bytes after the object";
    ck_assert_msg(j.err == NULL, "bad JSON (%s) at offset %d: %s", j.err,
                  (int)(j.p - body), body);
    /* The three figures, "connections", and its members. */
    ck_assert_msg(j.nkv == 4 + NSTATES, "%d members, want %d: %s", j.nkv,
                  4 + NSTATES, body);
    kv = json_get(&j, "connections");
    ck_assert_msg(kv != NULL && kv->object, "no connections object: %s", body);
    kv = json_get(&j, "uptime_seconds");
    ck_assert_msg(kv != NULL && !kv->object && kv->value >= 0,
                  "uptime_seconds: %s", body);
    sn->uptime = kv->value;
    for (i = 0; i < N(ints); i++) {
        kv = json_get(&j, ints[i]);
        ck_assert_msg(kv != NULL && !kv->object && kv->integer &&
                          kv->value >= 0,
                      "%s is not a count: %s", ints[i], body);
        /* Doubles are exact far beyond what a test serves. */
        *(i == 0 ? &sn->requests : &sn->bytes) = (unsigned long long)kv->value;
    }
    for (i = 0; i < NSTATES; i++) {
        char path[64];
        snprintf(path, sizeof(path), "connections.%s", states[i]);
        kv = json_get(&j, path);
        ck_assert_msg(kv != NULL && !kv->object && kv->integer &&
                          kv->value >= 0,
                      "%s is not a count: %s", path, body);
        sn->conns[i] = (long)kv->value;
    }
}

/* ---- Prometheus text format 0.0.4: a validator ---------------------------
 *
 * The grammar (prometheus.io, "Exposition formats", text-based format):
 * LF-terminated lines; "# HELP name docstring" (escapes \\ and \n), "#
 * TYPE name type", other "#" comments, empty lines; samples
 * `name{label="value",...} value [timestamp]` (label values escape \\,
 * \" and \n; a trailing comma is allowed).  Names match
 * [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and not
 * "__" reserved.  One HELP and one TYPE per family, before its samples;
 * a family's lines form one group; no series twice.  Stricter than the
 * format in one way, as the issue asks: every sample needs a TYPE first.
 */

typedef struct {
    char name[128];
    char type[16];
    int help, samples, closed;
} prom_family_t;

typedef struct {
    char series[256]; /* name{labels sorted by name} */
    char value[64];
} prom_sample_t;

typedef struct {
    prom_family_t fam[32];
    int nfam;
    prom_sample_t smp[64];
    int nsmp;
    int cur; /* the family whose group is open, or -1 */
    char err[256];
} prom_t;

static int prom_fail(prom_t *pm, int line, const char *why, const char *text)
{
    if (pm->err[0] == '\0')
        snprintf(pm->err, sizeof(pm->err), "line %d: %s: %.80s", line, why,
                 text);
    return 0;
}

static size_t name_len(const char *s, int colons)
{
    size_t n = 0;

    while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
           s[n] == '_' || (colons && s[n] == ':') ||
           (n > 0 && s[n] >= '0' && s[n] <= '9'))
        n++;
    return n;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *s)
{
    while (is_blank(*s))
        s++;
    return s;
}

/* A float as Go's ParseFloat takes it in this format: decimal, or NaN,
 * +Inf, -Inf. */
static int prom_float(const char *s, size_t n)
{
    size_t i = 0, d = 0;

    if ((n == 3 && strncmp(s, "NaN", 3) == 0) ||
        (n == 4 && (strncmp(s, "+Inf", 4) == 0 || strncmp(s, "-Inf", 4) == 0)))
        return 1;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, d++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            d++;
    if (d == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            e++;
        if (e == 0)
            return 0;
    }
    return i == n;
}

static int prom_find(const prom_t *pm, const char *name, size_t n)
{
    int i;

    for (i = 0; i < pm->nfam; i++)
        if (strlen(pm->fam[i].name) == n &&
            strncmp(pm->fam[i].name, name, n) == 0)
            return i;
    return -1;
}

/* The family a line of name belongs to, created if new; -1 when its
 * group was already closed (its lines are not one group). */
static int prom_enter(prom_t *pm, const char *name, size_t n)
{
    int f = prom_find(pm, name, n);

    if (f < 0) {
        if (pm->nfam == N(pm->fam) || n >= sizeof(pm->fam[0].name))
            return -1;
        f = pm->nfam++;
        memset(&pm->fam[f], 0, sizeof(pm->fam[f]));
        memcpy(pm->fam[f].name, name, n);
    }
    if (f != pm->cur) {
        if (pm->fam[f].closed)
            return -1;
        if (pm->cur >= 0)
            pm->fam[pm->cur].closed = 1;
        pm->cur = f;
    }
    return f;
}

/* HELP and TYPE lines; other comments are free text. */
static int prom_comment(prom_t *pm, int ln, const char *line)
{
    const char *s = skip_blanks(line + 1), *name;
    int help = strncmp(s, "HELP", 4) == 0 && is_blank(s[4]);
    int type = strncmp(s, "TYPE", 4) == 0 && is_blank(s[4]);
    size_t n;
    int f;

    if (!help && !type)
        return 1;
    name = skip_blanks(s + 4);
    n = name_len(name, 1);
    if (n == 0 || (name[n] != '\0' && !is_blank(name[n])))
        return prom_fail(pm, ln, "bad metric name", line);
    if ((f = prom_enter(pm, name, n)) < 0)
        return prom_fail(pm, ln, "family's lines are not one group", line);
    s = name[n] == '\0' ? name + n : name + n + 1;
    if (help) {
        if (pm->fam[f].help++)
            return prom_fail(pm, ln, "second HELP", line);
        for (; *s != '\0'; s++)
            if (*s == '\\' && *++s != '\\' && *s != 'n')
                return prom_fail(pm, ln, "bad escape in HELP", line);
        return 1;
    }
    s = skip_blanks(s);
    if (pm->fam[f].type[0] != '\0')
        return prom_fail(pm, ln, "second TYPE", line);
    if (pm->fam[f].samples)
        return prom_fail(pm, ln, "TYPE after samples", line);
    if (strcmp(s, "counter") != 0 && strcmp(s, "gauge") != 0 &&
        strcmp(s, "histogram") != 0 && strcmp(s, "summary") != 0 &&
        strcmp(s, "untyped") != 0)
        return prom_fail(pm, ln, "unknown TYPE", line);
    snprintf(pm->fam[f].type, sizeof(pm->fam[f].type), "%s", s);
    return 1;
}

/* The family of a sample name: itself, or for histograms and summaries
 * the name without _bucket, _sum or _count. */
static int prom_sample_family(prom_t *pm, const char *name, size_t n)
{
    static const char *const sfx[] = { "_bucket", "_sum", "_count" };
    int f = prom_find(pm, name, n), i;

    for (i = 0; f < 0 && i < N(sfx); i++) {
        size_t k = strlen(sfx[i]);
        int g;
        if (n > k && strncmp(name + n - k, sfx[i], k) == 0 &&
            (g = prom_find(pm, name, n - k)) >= 0 &&
            (strcmp(pm->fam[g].type, "histogram") == 0 ||
             (i > 0 && strcmp(pm->fam[g].type, "summary") == 0)))
            f = g;
    }
    if (f < 0 || pm->fam[f].type[0] == '\0')
        return -1;
    return prom_enter(pm, pm->fam[f].name, strlen(pm->fam[f].name));
}

typedef struct {
    char name[64];
    char value[128]; /* as written, escapes kept */
} prom_label_t;

static int label_cmp(const void *a, const void *b)
{
    return strcmp(((const prom_label_t *)a)->name,
                  ((const prom_label_t *)b)->name);
}

/* {name="value",...}: parsed into lb (at most 8); returns the position
 * after '}', or NULL. */
static const char *prom_labels(prom_t *pm, int ln, const char *line,
                               const char *s, prom_label_t *lb, int *nlb)
{
    for (s = skip_blanks(s + 1); *s != '}'; s = skip_blanks(s)) {
        size_t n = name_len(s, 0), v = 0;
        int i;
        if (n == 0 || n >= sizeof(lb[0].name) || *nlb == 8)
            return prom_fail(pm, ln, "bad label name", line), NULL;
        if (strncmp(s, "__", 2) == 0)
            return prom_fail(pm, ln, "reserved label name", line), NULL;
        memcpy(lb[*nlb].name, s, n);
        lb[*nlb].name[n] = '\0';
        for (i = 0; i < *nlb; i++)
            if (strcmp(lb[i].name, lb[*nlb].name) == 0)
                return prom_fail(pm, ln, "duplicate label", line), NULL;
        s = skip_blanks(s + n);
        if (*s != '=')
            return prom_fail(pm, ln, "'=' expected", line), NULL;
        s = skip_blanks(s + 1);
        if (*s != '"')
            return prom_fail(pm, ln, "'\"' expected", line), NULL;
        for (s++; *s != '"'; s++) {
            if (*s == '\0' || v + 2 >= sizeof(lb[0].value))
                return prom_fail(pm, ln, "unterminated label value", line),
                       NULL;
            if (*s == '\\') {
                if (s[1] != '\\' && s[1] != '"' && s[1] != 'n')
                    return prom_fail(pm, ln, "bad escape in label value", line),
                           NULL;
                lb[*nlb].value[v++] = *s++;
            }
            lb[*nlb].value[v++] = *s;
        }
        lb[(*nlb)++].value[v] = '\0';
        s = skip_blanks(s + 1);
        if (*s == ',')
            s++;
        else if (*s != '}')
            return prom_fail(pm, ln, "',' or '}' expected", line), NULL;
    }
    return s + 1;
}

static int prom_sample(prom_t *pm, int ln, const char *line)
{
    prom_label_t lb[8];
    prom_sample_t *sm;
    const char *s = line, *v;
    size_t n = name_len(line, 1), vn, len;
    int nlb = 0, f, i;

    if (n == 0)
        return prom_fail(pm, ln, "bad metric name", line);
    if ((f = prom_sample_family(pm, line, n)) < 0)
        return prom_fail(pm, ln,
                         "sample without a TYPE before it, or "
                         "not grouped with its family",
                         line);
    s = line + n;
    if (*s == '{' && (s = prom_labels(pm, ln, line, s, lb, &nlb)) == NULL)
        return 0;
    if (!is_blank(*s))
        return prom_fail(pm, ln, "blank expected before the value", line);
    v = skip_blanks(s);
    vn = strcspn(v, " \t");
    if (!prom_float(v, vn))
        return prom_fail(pm, ln, "bad value", line);
    s = v + vn;
    if (*s != '\0') {
        s = skip_blanks(s);
        if (*s == '-')
            s++;
        if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
            return prom_fail(pm, ln, "bad timestamp", line);
    }
    if (pm->nsmp == N(pm->smp) || vn >= sizeof(pm->smp[0].value))
        return prom_fail(pm, ln, "too many samples", line);
    sm = &pm->smp[pm->nsmp];
    qsort(lb, (size_t)nlb, sizeof(lb[0]), label_cmp);
    len =
        (size_t)snprintf(sm->series, sizeof(sm->series), "%.*s", (int)n, line);
    for (i = 0; i < nlb && len < sizeof(sm->series); i++)
        len += (size_t)snprintf(sm->series + len, sizeof(sm->series) - len,
                                "%s%s=\"%s\"%s", i == 0 ? "{" : ",", lb[i].name,
                                lb[i].value, i == nlb - 1 ? "}" : "");
    if (len >= sizeof(sm->series))
        return prom_fail(pm, ln, "series too long", line);
    for (i = 0; i < pm->nsmp; i++)
        if (strcmp(pm->smp[i].series, sm->series) == 0)
            return prom_fail(pm, ln, "duplicate series", line);
    memcpy(sm->value, v, vn);
    sm->value[vn] = '\0';
    pm->nsmp++;
    pm->fam[f].samples++;
    return 1;
}

/* Validates text; 1 if it is well-formed, else 0 with pm->err set. */
static int prom_validate(prom_t *pm, const char *text, size_t len)
{
    char line[1024];
    size_t at = 0;
    int ln = 0;

    memset(pm, 0, sizeof(*pm));
    pm->cur = -1;
    if (len == 0 || text[len - 1] != '\n')
        return prom_fail(pm, 0, "the last line does not end with LF", "");
    while (at < len) {
        const char *eol = memchr(text + at, '\n', len - at);
        size_t n = (size_t)(eol - (text + at));
        ln++;
        if (n >= sizeof(line))
            return prom_fail(pm, ln, "line too long", "");
        memcpy(line, text + at, n);
        line[n] = '\0';
        at += n + 1;
        if (strlen(line) != n || strchr(line, '\r') != NULL)
            return prom_fail(pm, ln, "NUL or CR in a line", line);
        if (*skip_blanks(line) == '\0')
            continue;
        if (line[0] == '#' ? !prom_comment(pm, ln, line)
                           : !prom_sample(pm, ln, line))
            return 0;
    }
    return 1;
}

static const char *prom_value(const prom_t *pm, const char *series)
{
    int i;

    for (i = 0; i < pm->nsmp; i++)
        if (strcmp(pm->smp[i].series, series) == 0)
            return pm->smp[i].value;
    return NULL;
}

/* Valid, and exactly the issue's metric set: four families with HELP and
 * the right TYPE, seven series, counts as integers. */
static void parse_prometheus(const char *body, size_t len, snap_t *sn)
{
    static const char *const fams[][2] = {
        { "weft_uptime_seconds", "gauge" },
        { "weft_requests_total", "counter" },
        { "weft_bytes_total", "counter" },
        { "weft_connections", "gauge" },
    };
    prom_t pm;
    const char *v;
    int i;

    ck_assert_msg(prom_validate(&pm, body, len), "invalid exposition: %s\n%s",
                  pm.err, body);
    ck_assert_msg(pm.nfam == N(fams), "%d families: %s", pm.nfam, body);
    for (i = 0; i < N(fams); i++) {
        int f = prom_find(&pm, fams[i][0], strlen(fams[i][0]));
        ck_assert_msg(f >= 0, "no %s: %s", fams[i][0], body);
        ck_assert_str_eq(pm.fam[f].type, fams[i][1]);
        ck_assert_msg(pm.fam[f].help == 1, "%s has no HELP", fams[i][0]);
    }
    ck_assert_int_eq(pm.nsmp, 3 + NSTATES);
    v = prom_value(&pm, "weft_uptime_seconds");
    ck_assert_msg(v && parse_seconds(v, &sn->uptime), "uptime %s", v);
    v = prom_value(&pm, "weft_requests_total");
    ck_assert_msg(v && parse_u64(v, &sn->requests), "requests %s", v);
    v = prom_value(&pm, "weft_bytes_total");
    ck_assert_msg(v && parse_u64(v, &sn->bytes), "bytes %s", v);
    for (i = 0; i < NSTATES; i++) {
        char series[64];
        unsigned long long u;
        snprintf(series, sizeof(series), "weft_connections{state=\"%s\"}",
                 states[i]);
        v = prom_value(&pm, series);
        ck_assert_msg(v && parse_u64(v, &u), "%s: %s", series, v);
        sn->conns[i] = (long)u;
    }
}

/* ---- scraping ------------------------------------------------------------ */

/* GETs the page in format f on c, checks its head exactly and parses it;
 * returns the body's length.  With close, asks for Connection: close and
 * waits for the server to close (its counters are then final). */
static size_t scrape_on(client_t *c, format_t f, int close, snap_t *sn)
{
    char target[64], want[256];
    resp_t r;

    snprintf(target, sizeof(target), STATUS_PATH "%s", format_query[f]);
    request(c, "GET", target, close ? "Connection: close\r\n" : "", &r);
    head_ok(want, sizeof(want), format_ctype[f], r.len, close);
    ck_assert_str_eq(r.head, want);
    memset(sn, 0, sizeof(*sn));
    if (f == FMT_TEXT)
        parse_text(r.body, sn);
    else if (f == FMT_JSON)
        parse_json(r.body, r.len, sn);
    else
        parse_prometheus(r.body, r.len, sn);
    if (close)
        expect_close(c);
    return r.len;
}

static size_t scrape(client_t *c, format_t f, snap_t *sn)
{
    return scrape_on(c, f, 0, sn);
}

/*
 * Scrapes (JSON) on c until every state's count lies in [lo, hi] (hi -1:
 * no bound), backing off 1 ms doubling to 50 ms, for at most WAIT_MS: the
 * counts follow other connections asynchronously.  Asserts it got there.
 */
static void await_conns(client_t *c, const long lo[NSTATES],
                        const long hi[NSTATES])
{
    long long deadline = now_ms() + WAIT_MS;
    long pause_ms = 1;
    snap_t sn;

    for (;;) {
        int i, ok = 1;
        scrape(c, FMT_JSON, &sn);
        for (i = 0; i < NSTATES; i++)
            if (sn.conns[i] < lo[i] || (hi[i] >= 0 && sn.conns[i] > hi[i]))
                ok = 0;
        if (ok)
            return;
        ck_assert_msg(now_ms() < deadline,
                      "connections new %ld active %ld idle %ld hijacked %ld "
                      "never reached [%ld,%ld] [%ld,%ld] [%ld,%ld] [%ld,%ld]",
                      sn.conns[NEW], sn.conns[ACTIVE], sn.conns[IDLE],
                      sn.conns[HIJACKED], lo[0], hi[0], lo[1], hi[1], lo[2],
                      hi[2], lo[3], hi[3]);
        poll(NULL, 0, (int)pause_ms);
        if (pause_ms < 50)
            pause_ms *= 2;
    }
}

/* ---- servers ------------------------------------------------------------- */

static void start_status(void)
{
    char *mod = wt_built("modules/.libs/mod_status.so");
    char *conf = wt_fmt("LoadModule status_module %s\nHandler status\n", mod);

    started_us = wall_us();
    if (wt_server_start(&srv, conf) != 0)
        srv.port = 0; /* every test then fails with "did not start" */
    free(conf);
    free(mod);
}

/* Mounted through the mux beside the test app. */
static void start_with_app(void)
{
    char *mux = wt_built("modules/.libs/mod_mux.so");
    char *mod = wt_built("modules/.libs/mod_status.so");
    char *conf = wt_fmt("LoadModule mux_module %s\n"
                        "LoadModule status_module %s\n"
                        "LoadModule testapp_module %s\n"
                        "Handle \"" STATUS_PATH "\" status\n"
                        "Handle / testapp\n",
                        mux, mod, wt_testapp());

    started_us = wall_us();
    if (wt_server_start(&srv, conf) != 0)
        srv.port = 0;
    free(conf);
    free(mod);
    free(mux);
}

/* Loaded, not mounted: the module changes nothing. */
static void start_unmounted(void)
{
    char *mod = wt_built("modules/.libs/mod_status.so");
    char *conf = wt_fmt("LoadModule status_module %s\n", mod);

    if (wt_server_start(&srv, conf) != 0)
        srv.port = 0;
    free(conf);
    free(mod);
}

static void stop_server(void)
{
    if (srv.pid > 0)
        wt_server_stop(&srv, SIGTERM, WAIT_MS);
    free(srv.conf);
    free(srv.log);
    memset(&srv, 0, sizeof(srv));
    wt_cleanup();
}

/* ---- the validator itself ------------------------------------------------ */

/* The format document's own examples (and a histogram, NaN, -Inf, a
 * trailing comma, blanks) pass. */
START_TEST(validator_accepts_valid)
{
    static const char ok[] =
        "# HELP http_requests_total The total number of HTTP requests.\n"
        "# TYPE http_requests_total counter\n"
        "http_requests_total{method=\"post\",code=\"200\"} 1027 "
        "1395066363000\n"
        "http_requests_total{method=\"post\",code=\"400\"}    3 "
        "1395066363000\n"
        "\n"
        "# Escaping in label values:\n"
        "# TYPE msdos_file_access_time_seconds untyped\n"
        "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\","
        "error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
        "# HELP h A histogram: \\\\ and \\n escaped.\n"
        "# TYPE h histogram\n"
        "h_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 3\n"
        "h_sum 5.5\nh_count 3\n"
        "# TYPE g gauge\ng NaN\ng{x=\"y\",} -Inf\ng{ x = \"z\" } +Inf -5\n";
    prom_t pm;

    ck_assert_msg(prom_validate(&pm, ok, strlen(ok)), "%s", pm.err);
    ck_assert_int_eq(pm.nsmp, 10);
    ck_assert_str_eq(prom_value(&pm, "http_requests_total{code=\"400\","
                                     "method=\"post\"}"),
                     "3");
}
END_TEST

/* Each breaks one rule; the validator must say so. */
static const char *const invalid[] = {
    "m 1\n",                                         /* no TYPE */
    "# TYPE m gauge\nm 1\nm 2\n",                    /* duplicate series */
    "# TYPE m gauge\nm{a=\"1\"} 1\nm{a=\"1\",} 2\n", /* the same, again */
    "# TYPE m gauge\nm{a=\"x\\q\"} 1\n",             /* bad escape */
    "# TYPE m gauge\nm{a=\"x} 1\n",                  /* unterminated value */
    "# TYPE m gauge\nm{a=x} 1\n",                    /* unquoted value */
    "# TYPE m gauge\nm one\n",                       /* bad value */
    "# TYPE m gauge\nm 1.2.3\n",                     /* bad value */
    "# TYPE m gauge\nm\n",                           /* no value */
    "# TYPE m gauge\nm 1",                           /* no final LF */
    "# TYPE m gauge\nm 1\r\n",                       /* CR */
    "# TYPE m gauge\n# TYPE m gauge\nm 1\n",         /* second TYPE */
    "# HELP m a\n# HELP m b\n# TYPE m gauge\n",      /* second HELP */
    "# TYPE m gauge\nm 1\n# TYPE m counter\n",       /* TYPE after samples */
    "# TYPE m gauge\n# TYPE n gauge\nm 1\nn 1\n",    /* m not one group */
    "# TYPE m gauge\nm 1\n# TYPE n gauge\nn 1\nm{a=\"b\"} 2\n",
    "# TYPE m bogus\nm 1\n",                           /* unknown type */
    "# TYPE m gauge\nm{a=\"1\",a=\"2\"} 1\n",          /* duplicate label */
    "# TYPE m gauge\nm{__a=\"1\"} 1\n",                /* reserved label */
    "# TYPE m gauge\nm{1a=\"1\"} 1\n",                 /* bad label name */
    "# TYPE 1m gauge\n",                               /* bad metric name */
    "# TYPE m gauge\nm 1 12x\n",                       /* bad timestamp */
    "# HELP m a\\tb\n# TYPE m gauge\nm 1\n",           /* bad HELP escape */
    "# TYPE m_count gauge\n# TYPE m gauge\nm_sum 1\n", /* _sum of a gauge */
};

START_TEST(validator_rejects_invalid)
{
    prom_t pm;

    ck_assert_msg(!prom_validate(&pm, invalid[_i], strlen(invalid[_i])),
                  "accepted: %s", invalid[_i]);
    ck_assert(pm.err[0] != '\0');
}
END_TEST

/* ---- formats --------------------------------------------------------------
 */

/* Each format: exact head (Content-Type, Content-Length), the body
 * parsed strictly, the scraping connection counted as active, and an
 * uptime no longer than the server has existed. */
START_TEST(format_parses)
{
    client_t *c = client_open();
    snap_t sn;

    scrape(c, (format_t)_i, &sn);
    ck_assert_msg(sn.conns[ACTIVE] >= 1, "the scraper is not active: %ld",
                  sn.conns[ACTIVE]);
    ck_assert_msg(sn.uptime >= 0 &&
                      sn.uptime <= (wall_us() - started_us) / 1e6 + 0.001,
                  "uptime %f s, but the server started at most %f s ago",
                  sn.uptime, (wall_us() - started_us) / 1e6);
}
END_TEST

/* "?format=text" and an empty "?format=" are the plain page too. */
START_TEST(text_aliases)
{
    static const char *const targets[] = {
        STATUS_PATH "?format=text", STATUS_PATH "?format=", "/elsewhere"
    };
    client_t *c = client_open();
    char want[256];
    snap_t sn;
    resp_t r;
    int i;

    for (i = 0; i < N(targets); i++) {
        request(c, "GET", targets[i], "", &r);
        head_ok(want, sizeof(want), CT_TEXT, r.len, 0);
        ck_assert_str_eq(r.head, want);
        parse_text(r.body, &sn);
    }
}
END_TEST

/* HEAD: the GET head (same Content-Type, a Content-Length) and no body:
 * the next response follows the head at once. */
START_TEST(head_has_no_body)
{
    client_t *c = client_open();
    char target[64], cl[32];
    snap_t sn;
    resp_t r;

    snprintf(target, sizeof(target), STATUS_PATH "%s", format_query[_i]);
    request(c, "HEAD", target, "", &r);
    ck_assert_msg(field(r.head, "Content-Type", cl, sizeof(cl)) != NULL &&
                      strcmp(cl, format_ctype[_i]) == 0,
                  "HEAD head: %s", r.head);
    ck_assert_msg(field(r.head, "Content-Length", cl, sizeof(cl)) != NULL &&
                      atoi(cl) > 0,
                  "HEAD head: %s", r.head);
    ck_assert_int_eq(strncmp(r.head, "HTTP/1.1 200 OK\r\n", 17), 0);
    scrape(c, FMT_JSON, &sn);
}
END_TEST

/* Methods other than GET and HEAD: Go's mux answer, 405 with Allow, and
 * the connection is kept. */
static const char *const other_methods[] = { "POST", "PUT", "DELETE", "OPTIONS",
                                             "PATCH" };

START_TEST(other_methods_405)
{
    client_t *c = client_open();
    const char *extra = strcmp(other_methods[_i], "POST") == 0 ||
                                strcmp(other_methods[_i], "PUT") == 0
                            ? "Content-Length: 3\r\n\r\nabc"
                            : "";
    char req[256];
    resp_t r;
    snap_t sn;

    snprintf(req, sizeof(req), "%s " STATUS_PATH " HTTP/1.1\r\nHost: t\r\n%s",
             other_methods[_i], extra);
    if (*extra == '\0')
        strcat(req, "\r\n");
    send_str(c, req);
    read_response(c, &r, 0);
    ck_assert_str_eq(r.head, "HTTP/1.1 405 Method Not Allowed\r\n"
                             "Allow: GET, HEAD\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "X-Content-Type-Options: nosniff\r\n"
                             "Date: *\r\nContent-Length: 19\r\n\r\n");
    ck_assert_str_eq(r.body, "Method Not Allowed\n");
    scrape(c, FMT_TEXT, &sn);
}
END_TEST

/* An unknown format: 400 with a short reason, the connection kept. */
static const char *const bad_formats[] = { "xml", "JSON", "prometheus2",
                                           "json%20" };

START_TEST(unknown_format_400)
{
    client_t *c = client_open();
    char target[64];
    resp_t r;
    snap_t sn;

    snprintf(target, sizeof(target), STATUS_PATH "?format=%s", bad_formats[_i]);
    request(c, "GET", target, "", &r);
    ck_assert_str_eq(r.head, "HTTP/1.1 400 Bad Request\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "X-Content-Type-Options: nosniff\r\n"
                             "Date: *\r\nContent-Length: 45\r\n\r\n");
    ck_assert_str_eq(r.body, "unknown format: use text, json or prometheus\n");
    scrape(c, FMT_JSON, &sn);
}
END_TEST

/* ---- counters -------------------------------------------------------------
 */

/*
 * A fresh server: nothing counted yet; after N requests exactly N are,
 * and exactly their body bytes.  The last scrape closes its connection,
 * which orders the server's accounting before the test ends.
 */
START_TEST(fresh_server_counts)
{
    client_t *c = client_open();
    size_t bytes = 0;
    snap_t sn;
    int i;

    bytes += scrape(c, FMT_JSON, &sn);
    ck_assert_msg(sn.requests == 0 && sn.bytes == 0,
                  "fresh server: requests %llu bytes %llu", sn.requests,
                  sn.bytes);
    for (i = 0; i < 4; i++)
        bytes += scrape(c, (format_t)(i % 3), &sn);
    scrape_on(c, FMT_PROMETHEUS, 1, &sn);
    ck_assert_int_eq(sn.requests, 5);
    ck_assert_int_eq(sn.bytes, bytes);
}
END_TEST

/*
 * Scrapes in every format in turn on one connection, with HEAD, 405 and
 * 400 answers between some: from one scrape to the next, requests_total
 * grows by exactly the requests made and bytes_total by exactly their
 * body bytes (a HEAD sends none), and uptime grows by the time between
 * the two snapshots, which lie inside [sent, received] of their scrapes
 * (the server's clock is the client's).  The three formats agree.
 */
START_TEST(counters_follow_activity)
{
    client_t *c = client_open();
    long long sent = wall_us(), prev_sent, prev_recv;
    snap_t prev, cur;
    size_t len = scrape(c, (format_t)_i, &prev);
    long long recvd = wall_us();
    int k;

    for (k = 1; k <= 9; k++) {
        unsigned long long reqs = 1, bytes = len;
        double up;
        resp_t r;
        if (k % 3 == 1) {
            request(c, "HEAD", STATUS_PATH "?format=json", "", &r);
            reqs++;
        } else if (k % 3 == 2) {
            request(c, "DELETE", STATUS_PATH, "", &r);
            request(c, "GET", STATUS_PATH "?format=yaml", "", &r);
            reqs += 2;
            bytes += strlen("Method Not Allowed\n") +
                     strlen("unknown format: use text, json or prometheus\n");
        }
        prev_sent = sent;
        prev_recv = recvd;
        sent = wall_us();
        len = scrape_on(c, (format_t)((_i + k) % 3), k == 9, &cur);
        recvd = wall_us();
        ck_assert_msg(cur.requests - prev.requests == reqs,
                      "step %d: requests %llu -> %llu, want +%llu", k,
                      prev.requests, cur.requests, reqs);
        ck_assert_msg(cur.bytes - prev.bytes == bytes,
                      "step %d: bytes %llu -> %llu, want +%llu", k, prev.bytes,
                      cur.bytes, bytes);
        /* 10 us of slack for the pages' rounding to microseconds. */
        up = cur.uptime - prev.uptime;
        ck_assert_msg(up >= (sent - prev_recv) / 1e6 - 1e-5 &&
                          up <= (recvd - prev_sent) / 1e6 + 1e-5,
                      "step %d: uptime %f -> %f, want a step in [%f, %f]", k,
                      prev.uptime, cur.uptime, (sent - prev_recv) / 1e6,
                      (recvd - prev_sent) / 1e6);
        prev = cur;
    }
}
END_TEST

/* ---- connections ----------------------------------------------------------
 */

/* On a quiet server the scraper is the one active connection. */
START_TEST(scraper_alone_is_active)
{
    client_t *c = client_open();
    const long lo[] = { 0, 1, 0, 0 }, hi[] = { 0, 1, 0, 0 };

    await_conns(c, lo, hi);
}
END_TEST

/*
 * A connection that has sent nothing is new; after one request on it,
 * idle (keep-alive); closed, it is counted no more.
 */
START_TEST(new_then_idle_then_gone)
{
    client_t *c = client_open(), *x = client_open();
    const long new_lo[] = { 1, 1, 0, 0 }, new_hi[] = { 1, 1, 0, 0 };
    const long idle_lo[] = { 0, 1, 1, 0 }, idle_hi[] = { 0, 1, 1, 0 };
    const long gone_lo[] = { 0, 1, 0, 0 }, gone_hi[] = { 0, 1, 0, 0 };
    snap_t sn;

    await_conns(c, new_lo, new_hi);
    scrape(x, FMT_TEXT, &sn);
    await_conns(c, idle_lo, idle_hi);
    /* x, idle, is still served (the count did not lie about it). */
    scrape(x, FMT_TEXT, &sn);
    await_conns(c, idle_lo, idle_hi);
    close(x->fd);
    x->fd = -1;
    await_conns(c, gone_lo, gone_hi);
}
END_TEST

/* Several idle keep-alive connections are each counted. */
START_TEST(idle_counts_add_up)
{
    client_t *c = client_open();
    const long lo[] = { 0, 1, 3, 0 }, hi[] = { 0, 1, 3, 0 };
    snap_t sn;
    int i;

    for (i = 0; i < 3; i++)
        scrape(client_open(), FMT_JSON, &sn);
    await_conns(c, lo, hi);
}
END_TEST

/* ---- beside mod_testapp, through mod_mux --------------------------------- */

/* Body bytes served by the test app count, framing or not: a chunked
 * /size (past the response buffer) and a length-framed /hello. */
START_TEST(app_bytes_counted)
{
    client_t *c = client_open();
    snap_t a, b;
    size_t len = scrape(c, FMT_JSON, &a);
    resp_t r;

    send_str(c, "GET /size?n=10000 HTTP/1.1\r\nHost: t\r\n\r\n");
    /* Chunked: read up to the last chunk rather than parse the framing. */
    while (memmem(c->buf, c->len, "\r\n0\r\n\r\n", 7) == NULL)
        ck_assert_msg(recv_some(c, now_ms() + WAIT_MS), "/size cut off");
    ck_assert_msg(strstr(c->buf, "Transfer-Encoding: chunked\r\n") != NULL,
                  "%.200s", c->buf);
    consume(c, (size_t)((char *)memmem(c->buf, c->len, "\r\n0\r\n\r\n", 7) + 7 -
                        c->buf));
    request(c, "GET", "/hello", "", &r);
    ck_assert_str_eq(r.body, "hello\n");
    scrape_on(c, FMT_PROMETHEUS, 1, &b);
    ck_assert_int_eq(b.requests - a.requests, 3);
    ck_assert_msg(b.bytes - a.bytes >= len + 10000 + 6,
                  "bytes %llu -> %llu, want at least +%zu", a.bytes, b.bytes,
                  len + 10006);
}
END_TEST

/* A connection whose handler is still running counts as active beside
 * the scraper's, until its client leaves and cancels it (/wait). */
START_TEST(busy_connection_is_active)
{
    client_t *c = client_open(), *x = client_open();
    const long busy[] = { 0, 2, 0, 0 }, quiet[] = { 0, 1, 0, 0 };

    send_str(x, "GET /wait?ms=30000 HTTP/1.1\r\nHost: t\r\n\r\n");
    await_conns(c, busy, busy);
    close(x->fd);
    x->fd = -1;
    await_conns(c, quiet, quiet);
}
END_TEST

/*
 * A hijacked connection leaves new, active and idle and is counted under
 * hijacked while its session goes on (the echo still answers after the
 * scrape), until its owner closes it.
 */
START_TEST(hijacked_leaves_live_states)
{
    client_t *c = client_open(), *x = client_open();
    const long lo[] = { 0, 1, 0, 1 }, hi[] = { 0, 1, 0, 1 };
    long long deadline = now_ms() + WAIT_MS;
    const char *ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n"
                     "Connection: Upgrade\r\n\r\n";

    send_str(x, "GET /hijack HTTP/1.1\r\nHost: t\r\n\r\n");
    while (x->len < strlen(ok))
        ck_assert_msg(recv_some(x, deadline), "no 101: %s", x->buf);
    ck_assert_str_eq(x->buf, ok);
    consume(x, x->len);
    await_conns(c, lo, hi);
    send_str(x, "ping");
    while (x->len < 4)
        ck_assert_msg(recv_some(x, deadline), "no echo: %s", x->buf);
    ck_assert_str_eq(x->buf, "ping");
}
END_TEST

/* ---- not mounted ---------------------------------------------------------- */

/* Loaded without Handler status: nothing changes, everything is 404. */
START_TEST(unmounted_changes_nothing)
{
    char *got = wt_request(srv.port,
                           "GET /server-status?format=json HTTP/1.1\r\n"
                           "Host: t\r\nConnection: close\r\n\r\n",
                           WAIT_MS);

    ck_assert_ptr_nonnull(got);
    mask_date(got);
    ck_assert_str_eq(got, "HTTP/1.1 404 Not Found\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "X-Content-Type-Options: nosniff\r\n"
                          "Date: *\r\nContent-Length: 19\r\n"
                          "Connection: close\r\n\r\n404 page not found\n");
    free(got);
}
END_TEST

static TCase *server_case(Suite *s, const char *name, void (*start)(void))
{
    TCase *tc = tcase_create(name);

    tcase_add_unchecked_fixture(tc, start, stop_server);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("status");
    TCase *validator = tcase_create("prometheus validator");
    TCase *formats = server_case(s, "formats", start_status);
    TCase *fresh = server_case(s, "fresh server", start_status);
    TCase *counters = server_case(s, "counters", start_status);
    TCase *conns = server_case(s, "connections", start_status);
    TCase *app = server_case(s, "beside the test app", start_with_app);
    TCase *unmounted = server_case(s, "not mounted", start_unmounted);
    SRunner *sr;
    int failed;

    suite_add_tcase(s, validator);
    tcase_add_test(validator, validator_accepts_valid);
    tcase_add_loop_test(validator, validator_rejects_invalid, 0, N(invalid));

    tcase_add_loop_test(formats, format_parses, 0, 3);
    tcase_add_test(formats, text_aliases);
    tcase_add_loop_test(formats, head_has_no_body, 0, 3);
    tcase_add_loop_test(formats, other_methods_405, 0, N(other_methods));
    tcase_add_loop_test(formats, unknown_format_400, 0, N(bad_formats));

    tcase_add_test(fresh, fresh_server_counts);

    tcase_add_loop_test(counters, counters_follow_activity, 0, 3);

    tcase_add_test(conns, scraper_alone_is_active);
    tcase_add_test(conns, new_then_idle_then_gone);
    tcase_add_test(conns, idle_counts_add_up);

    tcase_add_test(app, app_bytes_counted);
    tcase_add_test(app, busy_connection_is_active);
    tcase_add_test(app, hijacked_leaves_live_states);

    tcase_add_test(unmounted, unmounted_changes_nothing);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
