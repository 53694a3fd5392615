/*
 * test_static.c -- mod_static in a running weftd, against Go's FileServer
 * bytes: files, redirects, index.html, listings, error bodies, path
 * confinement (.., %2e%2e, %2f, absolute forms, NUL, symlinks), every
 * precondition and range case, multipart bodies parsed back, sendfile of
 * large files, a slow reader under WriteTimeout, and a file that shrinks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <check.h>
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
#include <time.h>
#include <unistd.h>

#include "weft_test.h"

#define WAIT_MS 10000

/* Every file of the tree carries this mtime, so Last-Modified is exact. */
#define MTIME 1403716338 /* Wed, 25 Jun 2014 17:12:18 GMT */
#define MTIME_S "Wed, 25 Jun 2014 17:12:18 GMT"
#define BEFORE_S "Wed, 25 Jun 2014 17:12:17 GMT"
#define AFTER_S "Wed, 25 Jun 2014 17:12:19 GMT"

#define TEXT "Content-Type: text/plain; charset=utf-8\r\n"
#define NOSNIFF "X-Content-Type-Options: nosniff\r\n"
#define NOT_FOUND                                              \
    "HTTP/1.1 404 Not Found\r\n" TEXT NOSNIFF "Date: DATE\r\n" \
    "Content-Length: 19\r\n\r\n404 page not found\n"
#define FORBIDDEN                                              \
    "HTTP/1.1 403 Forbidden\r\n" TEXT NOSNIFF "Date: DATE\r\n" \
    "Content-Length: 14\r\n\r\n403 Forbidden\n"

#define BIG_SIZE (1024 * 1024 + 77) /* over StaticSendfileMin */

/* ---- the tree and the server ---------------------------------------------- */

/* Built by the unchecked fixture in Check's parent, shared by the forked
 * tests of a TCase. */
static wt_server_t srv;
static int srv_ok;
static char *top;  /* the temporary directory */
static char *root; /* StaticRoot, inside top */

/* The byte at offset i of every generated file. */
static unsigned char pattern(long long i)
{
    return (unsigned char)((i * 131 + (i >> 12)) & 0xff);
}

static void set_mtime(const char *path)
{
    struct timespec ts[2] = { { MTIME, 0 }, { MTIME, 0 } };

    if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0)
        fprintf(stderr, "utimensat %s: %s\n", path, strerror(errno));
}

static char *put(const char *rel, const char *content, size_t n)
{
    char *path = wt_fmt("%s/%s", root, rel);
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(content, 1, n, f) != n || fclose(f) != 0)
        fprintf(stderr, "cannot write %s\n", path);
    set_mtime(path);
    return path;
}

/* A file of n pattern bytes (a header of its own first, if any). */
static char *put_pattern(const char *rel, long long n, const char *head)
{
    char *path = wt_fmt("%s/%s", root, rel);
    FILE *f = fopen(path, "wb");
    static char buf[65536];
    long long i = 0;

    if (f == NULL)
        return path;
    while (i < n) {
        size_t k = 0;
        for (; k < sizeof(buf) && i < n; k++, i++)
            buf[k] = head != NULL && (size_t)i < strlen(head)
                         ? head[i]
                         : (char)pattern(i);
        fwrite(buf, 1, k, f);
    }
    fclose(f);
    set_mtime(path);
    return path;
}

static void sub(const char *rel)
{
    char *path = wt_fmt("%s/%s", root, rel);

    mkdir(path, 0755);
}

static void build_tree(void)
{
    top = wt_tmpdir();
    root = wt_fmt("%s/root", top);
    mkdir(root, 0755);
    wt_write(top, "secret.txt", "secret\n");
    wt_write(top, "mime.types",
             "application/x-weft weft\n"
             "text/x-weftdoc wdoc\n");
    put("hello.txt", "hello\n", 6);
    put("style.css", "body{}\n\n", 8);
    put("empty.txt", "", 0);
    put("page", "<html><body>sniffed</body></html>\n", 34);
    put("blob", "\x01\x02\x03\x04", 4);
    put("data.weft", "w\n", 2);
    put("notes.wdoc", "doc\n", 4);
    put("sp ace.txt", "space\n", 6);
    put("ques?tion.txt", "q\n", 2);
    put_pattern("big.bin", BIG_SIZE, NULL);
    put_pattern("big.unknownext", 20000, "%PDF-1.4\n");
    sub("dir");
    put("dir/index.html", "<p>index</p>\n", 13);
    put("dir/other.txt", "other\n", 6);
    sub("emptydir");
    sub("list");
    put("list/b.txt", "b\n", 2);
    put("list/a&<x>.txt", "a\n", 2);
    sub("list/sub");
    sub("list/sp ace");
    if (symlink("hello.txt", wt_fmt("%s/in", root)) != 0 ||
        symlink("../secret.txt", wt_fmt("%s/out", root)) != 0 ||
        symlink(top, wt_fmt("%s/outdir", root)) != 0 ||
        symlink("../dir", wt_fmt("%s/list/dirlink", root)) != 0)
        fprintf(stderr, "symlink: %s\n", strerror(errno));
    set_mtime(wt_fmt("%s/list", root));
}

static void start(const char *extra)
{
    char *conf;

    build_tree();
    conf = wt_fmt("LoadModule static_module %s\n"
                  "Handler static\n"
                  "StaticRoot \"%s\"\n"
                  "StaticMimeTypes \"%s/mime.types\"\n%s",
                  wt_built("modules/.libs/mod_static.so"), root, top, extra);
    srv_ok = wt_server_start(&srv, conf) == 0;
}

static void stop(void)
{
    if (srv_ok && wt_server_stop(&srv, SIGTERM, WAIT_MS) != 0)
        fprintf(stderr, "weftd did not stop cleanly; log in %s\n", srv.log);
    memset(&srv, 0, sizeof(srv));
    srv_ok = 0;
    wt_cleanup();
}

static void setup_main(void)
{
    start("");
}

static void setup_listing(void)
{
    start("StaticListing on\n");
}

static void setup_follow(void)
{
    start("StaticFollowSymlinks on\n");
}

static void setup_strip(void)
{
    start("StaticStripPrefix /assets\n");
}

static void setup_write_timeout(void)
{
    start("WriteTimeout 1s\n");
}

/* ---- a buffered client ------------------------------------------------------ */

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct {
    int fd;
    char *buf; /* [pos, len) not consumed yet */
    size_t len, pos, cap;
    int eof;
} client_t;

/* What a test allocates, freed by the checked teardown. */
static client_t **clients;
static int nclients, capclients;
static void **heap;
static int nheap, capheap;

static void *keep(void *p)
{
    ck_assert_ptr_nonnull(p);
    if (nheap == capheap) {
        capheap = capheap ? capheap * 2 : 256;
        heap = realloc(heap, (size_t)capheap * sizeof(*heap));
        ck_assert_ptr_nonnull(heap);
    }
    heap[nheap++] = p;
    return p;
}

/* Replaces the pointer keep() holds for old (a realloc). */
static void *rekeep(void *old, void *now)
{
    int i;

    ck_assert_ptr_nonnull(now);
    for (i = nheap - 1; i >= 0; i--)
        if (heap[i] == old) {
            heap[i] = now;
            return now;
        }
    return keep(now);
}

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

static void teardown(void)
{
    while (nclients > 0) {
        client_t *c = clients[--nclients];
        close(c->fd);
        free(c->buf);
        free(c);
    }
    free(clients);
    clients = NULL;
    capclients = 0;
    while (nheap > 0)
        free(heap[--nheap]);
    free(heap);
    heap = NULL;
    capheap = 0;
}

static client_t *client_of(int fd)
{
    client_t *c = calloc(1, sizeof(*c));

    ck_assert_ptr_nonnull(c);
    if (nclients == capclients) {
        capclients = capclients ? capclients * 2 : 16;
        clients = realloc(clients, (size_t)capclients * sizeof(*clients));
        ck_assert_ptr_nonnull(clients);
    }
    clients[nclients++] = c;
    c->fd = fd;
    c->cap = 1 << 16;
    c->buf = malloc(c->cap);
    ck_assert_ptr_nonnull(c->buf);
    return c;
}

static client_t *dial(void)
{
    int fd;

    ck_assert_msg(srv_ok, "weftd did not start (see the log above)");
    fd = wt_connect(srv.port, WAIT_MS);
    ck_assert_msg(fd >= 0, "cannot connect to port %d", srv.port);
    return client_of(fd);
}

/* A connection whose receive buffer is small, so the server blocks
 * soon on a large body (set before connect: the window is fixed then). */
static client_t *dial_small_window(void)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), rcv = 16384;

    ck_assert_msg(srv_ok, "weftd did not start (see the log above)");
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)),
                     0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)srv.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return client_of(fd);
}

static void send_str(client_t *c, const char *s)
{
    ck_assert_msg(wt_sends(c->fd, s) == 0, "send: %s", strerror(errno));
}

/* One receive by the deadline: 1 bytes came, 0 the server closed, -1
 * the deadline passed. */
static int fill(client_t *c, long long deadline)
{
    struct pollfd pf = { c->fd, POLLIN, 0 };
    long long left = deadline - now_ms();
    ssize_t n;

    if (c->eof)
        return 0;
    if (left <= 0)
        return -1;
    if (c->pos == c->len)
        c->pos = c->len = 0;
    if (c->cap - c->len < 65536) {
        c->cap *= 2;
        c->buf = realloc(c->buf, c->cap);
        ck_assert_ptr_nonnull(c->buf);
    }
    if (poll(&pf, 1, (int)left) != 1)
        return errno == EINTR ? 1 : -1;
    n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
    if (n < 0 && errno == EINTR)
        return 1;
    if (n <= 0) {
        c->eof = 1;
        return 0;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    return 1;
}

static void expect_close(client_t *c)
{
    long long deadline = now_ms() + WAIT_MS;
    int r;

    while ((r = fill(c, deadline)) > 0)
        ;
    ck_assert_msg(r == 0, "the server did not close the connection");
    ck_assert_msg(c->len == c->pos, "bytes before the close: %s",
                  c->buf + c->pos);
}

/* ---- responses ---------------------------------------------------------------- */

typedef struct {
    int status;
    char *head; /* the header block, Date's value masked as "DATE" */
    char *body;
    size_t body_len;
    char *text; /* head and body, for exact comparisons */
} resp_t;

static void check_date(const char *v, size_t n)
{
    char value[64], again[64];
    struct tm tm;
    const char *end;
    time_t t, now = time(NULL);

    ck_assert_msg(n == 29, "Date \"%.*s\" is not 29 bytes", (int)n, v);
    memcpy(value, v, n);
    value[n] = '\0';
    memset(&tm, 0, sizeof(tm));
    end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ck_assert_msg(end != NULL && *end == '\0', "Date \"%s\"", value);
    t = timegm(&tm);
    strftime(again, sizeof(again), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&t));
    ck_assert_str_eq(again, value);
    ck_assert_msg(t >= now - 120 && t <= now + 120, "Date \"%s\"", value);
}

static char *mask_date(const char *head)
{
    const char *at = strstr(head, "\r\nDate: "), *v, *eol;

    ck_assert_msg(at != NULL, "no Date in:\n%s", head);
    v = at + 8;
    eol = strstr(v, "\r\n");
    check_date(v, (size_t)(eol - v));
    return fmt("%.*sDATE%s", (int)(v - head), head, eol);
}

/* A header's value in a header block, or NULL. */
static char *hval(const char *head, const char *name)
{
    char *key = fmt("\r\n%s: ", name);
    const char *at = strstr(head, key), *eol;

    if (at == NULL)
        return NULL;
    at += strlen(key);
    eol = strstr(at, "\r\n");
    return fmt("%.*s", (int)(eol - at), at);
}

/* One response from c: Content-Length framing, or chunked, or the close;
 * no body for HEAD, 1xx, 204 and 304. */
static resp_t *read_resp(client_t *c, int head_req)
{
    long long deadline = now_ms() + WAIT_MS;
    resp_t *r = keep(calloc(1, sizeof(*r)));
    const char *cl, *te;
    char *end;
    size_t hlen;

    while ((end = memmem(c->buf + c->pos, c->len - c->pos, "\r\n\r\n", 4)) ==
           NULL)
        ck_assert_msg(fill(c, deadline) > 0, "no response header; got: %.*s",
                      (int)(c->len - c->pos), c->buf + c->pos);
    hlen = (size_t)(end + 4 - (c->buf + c->pos));
    r->head = fmt("%.*s", (int)hlen, c->buf + c->pos);
    c->pos += hlen;
    ck_assert_int_eq(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1);
    r->head = mask_date(r->head);
    cl = hval(r->head, "Content-Length");
    te = hval(r->head, "Transfer-Encoding");
    r->body = keep(malloc(1));
    if (head_req || r->status == 304 || r->status == 204 || r->status < 200) {
        r->body_len = 0;
    } else if (cl != NULL) {
        size_t n = strtoul(cl, NULL, 10);
        while (c->len - c->pos < n)
            ck_assert_msg(fill(c, deadline) > 0, "body cut at %zu of %zu",
                          c->len - c->pos, n);
        r->body = rekeep(r->body, realloc(r->body, n + 1));
        memcpy(r->body, c->buf + c->pos, n);
        r->body_len = n;
        c->pos += n;
    } else if (te != NULL && strcmp(te, "chunked") == 0) {
        size_t total = 0;
        for (;;) {
            char *eol;
            size_t n;
            while ((eol = memmem(c->buf + c->pos, c->len - c->pos, "\r\n",
                                 2)) == NULL)
                ck_assert(fill(c, deadline) > 0);
            n = strtoul(c->buf + c->pos, NULL, 16);
            c->pos = (size_t)(eol + 2 - c->buf);
            while (c->len - c->pos < n + 2)
                ck_assert(fill(c, deadline) > 0);
            r->body = rekeep(r->body, realloc(r->body, total + n + 1));
            memcpy(r->body + total, c->buf + c->pos, n);
            total += n;
            c->pos += n + 2;
            if (n == 0)
                break;
        }
        r->body_len = total;
    } else {
        while (fill(c, deadline) > 0)
            ;
        r->body_len = c->len - c->pos;
        r->body = rekeep(r->body, realloc(r->body, r->body_len + 1));
        memcpy(r->body, c->buf + c->pos, r->body_len);
        c->pos = c->len;
    }
    r->body[r->body_len] = '\0';
    r->text = fmt("%s%.*s", r->head, (int)r->body_len, r->body);
    return r;
}

/* A request on a fresh connection. */
static resp_t *ask(const char *raw)
{
    client_t *c = dial();

    send_str(c, raw);
    return read_resp(c, strncmp(raw, "HEAD ", 5) == 0);
}

static resp_t *get(const char *target)
{
    return ask(fmt("GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target));
}

/* GET path with one more header line ("Name: value"). */
static resp_t *get_with(const char *path, const char *header)
{
    return ask(fmt("GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n\r\n", path, header));
}

/* The weak validator weft computes: W/"<size hex>-<mtime ns hex>". */
static char *etag_of(const char *rel)
{
    struct stat st;

    ck_assert_int_eq(stat(fmt("%s/%s", root, rel), &st), 0);
    return fmt("W/\"%llx-%llx\"", (unsigned long long)st.st_size,
               (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                   (unsigned long long)st.st_mtim.tv_nsec);
}

/* The 200 header block for a small file of the tree. */
static char *ok_head(const char *rel, long long size, const char *ctype)
{
    return fmt("HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\n"
               "Content-Length: %lld\r\nContent-Type: %s\r\nEtag: %s\r\n"
               "Last-Modified: " MTIME_S "\r\nDate: DATE\r\n\r\n",
               size, ctype, etag_of(rel));
}

static char *redirect(const char *location)
{
    return fmt("HTTP/1.1 301 Moved Permanently\r\nLocation: %s\r\n"
               "Date: DATE\r\nContent-Length: 0\r\n\r\n",
               location);
}

/* ---- files and headers --------------------------------------------------------- */

START_TEST(serves_a_file_like_go)
{
    resp_t *r = get("/hello.txt");

    ck_assert_str_eq(r->text, fmt("%shello\n", ok_head("hello.txt", 6,
                                                       "text/plain; "
                                                       "charset=utf-8")));
    r = get("/style.css");
    ck_assert_str_eq(r->text,
                     fmt("%sbody{}\n\n",
                         ok_head("style.css", 8, "text/css; charset=utf-8")));
    /* An empty file still says its length. */
    r = get("/empty.txt");
    ck_assert_str_eq(r->text,
                     ok_head("empty.txt", 0, "text/plain; charset=utf-8"));
    /* A decoded name: the request escapes the space. */
    r = get("/sp%20ace.txt");
    ck_assert_str_eq(r->body, "space\n");
    r = get("/ques%3Ftion.txt?ignored=1");
    ck_assert_str_eq(r->body, "q\n");
    /* The absolute form names the same file. */
    r = get("http://example.com/hello.txt");
    ck_assert_str_eq(r->body, "hello\n");
}
END_TEST

START_TEST(content_type_by_table_types_file_or_sniffing)
{
    resp_t *r;

    r = get("/data.weft"); /* only in StaticMimeTypes' file */
    ck_assert_str_eq(hval(r->head, "Content-Type"), "application/x-weft");
    r = get("/notes.wdoc"); /* a text/ type gains Go's charset */
    ck_assert_str_eq(hval(r->head, "Content-Type"),
                     "text/x-weftdoc; charset=utf-8");
    r = get("/page"); /* no extension: Go's DetectContentType */
    ck_assert_str_eq(hval(r->head, "Content-Type"), "text/html; charset=utf-8");
    ck_assert_str_eq(r->body, "<html><body>sniffed</body></html>\n");
    r = get("/blob");
    ck_assert_str_eq(hval(r->head, "Content-Type"), "application/octet-stream");
    ck_assert_uint_eq(r->body_len, 4);
    ck_assert_mem_eq(r->body, "\x01\x02\x03\x04", 4);
    /* Sniffed from the first 512 bytes of a file sent with sendfile. */
    r = get("/big.unknownext");
    ck_assert_str_eq(hval(r->head, "Content-Type"), "application/pdf");
    ck_assert_uint_eq(r->body_len, 20000);
    ck_assert_mem_eq(r->body, "%PDF-1.4\n", 9);
    ck_assert_int_eq((unsigned char)r->body[19999], pattern(19999));
}
END_TEST

START_TEST(head_sends_the_headers_only)
{
    client_t *c = dial();
    resp_t *r;

    /* HEAD, then GET on the same connection: the HEAD carried no body. */
    send_str(c, "HEAD /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n"
                "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    r = read_resp(c, 1);
    ck_assert_str_eq(r->text,
                     ok_head("hello.txt", 6, "text/plain; charset=utf-8"));
    r = read_resp(c, 0);
    ck_assert_str_eq(r->body, "hello\n");
    /* HEAD of a large file: its length, no bytes. */
    send_str(c,
             "HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"
             "HEAD /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-9\r\n\r\n"
             "GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    r = read_resp(c, 1);
    ck_assert_str_eq(hval(r->head, "Content-Length"), fmt("%d", BIG_SIZE));
    r = read_resp(c, 1);
    ck_assert_int_eq(r->status, 206);
    ck_assert_str_eq(hval(r->head, "Content-Range"),
                     fmt("bytes 0-9/%d", BIG_SIZE));
    ck_assert_str_eq(hval(r->head, "Content-Length"), "10");
    r = read_resp(c, 0);
    ck_assert_str_eq(r->body, "hello\n");
    expect_close(c);
}
END_TEST

START_TEST(other_methods_get_405)
{
    static const char *const methods[] = { "POST", "PUT", "DELETE", "OPTIONS",
                                           "PATCH" };
    int i;

    for (i = 0; i < 5; i++) {
        resp_t *r = ask(fmt("%s /hello.txt HTTP/1.1\r\nHost: t\r\n"
                            "Content-Length: 0\r\n\r\n",
                            methods[i]));
        ck_assert_str_eq(r->text,
                         "HTTP/1.1 405 Method Not Allowed\r\n"
                         "Allow: GET, HEAD\r\n" TEXT NOSNIFF "Date: DATE\r\n"
                         "Content-Length: 19\r\n\r\nMethod Not Allowed\n");
    }
}
END_TEST

/* ---- redirects and directories ------------------------------------------------- */

START_TEST(redirects_like_go)
{
    ck_assert_str_eq(get("/dir")->text, redirect("dir/"));
    ck_assert_str_eq(get("/dir?a=1&b=2")->text, redirect("dir/?a=1&b=2"));
    ck_assert_str_eq(get("/dir?")->text, redirect("dir/"));
    ck_assert_str_eq(get("/dir/index.html")->text, redirect("./"));
    ck_assert_str_eq(get("/dir/index.html?x=y")->text, redirect("./?x=y"));
    /* Go looks at the suffix before the disk: no such file needed. */
    ck_assert_str_eq(get("/nowhere/index.html")->text, redirect("./"));
    ck_assert_str_eq(get("/index.html")->text, redirect("./"));
    ck_assert_str_eq(get("/hello.txt/")->text, redirect("../hello.txt"));
    ck_assert_str_eq(get("/dir/other.txt/?q")->text,
                     redirect("../other.txt?q"));
    /* A cleaned path keeps the URL's last element. */
    ck_assert_str_eq(get("/x/../dir")->text, redirect("dir/"));
}
END_TEST

START_TEST(index_html_serves_the_directory)
{
    resp_t *r = get("/dir/");

    ck_assert_str_eq(
        r->text, fmt("%s<p>index</p>\n", ok_head("dir/index.html", 13,
                                                 "text/html; charset=utf-8")));
    r = get("/dir//");
    ck_assert_str_eq(r->body, "<p>index</p>\n");
    /* Without index.html and StaticListing off: 403, as a refusal. */
    ck_assert_str_eq(get("/emptydir/")->text, FORBIDDEN);
    ck_assert_str_eq(get("/list/")->text, FORBIDDEN);
    ck_assert_str_eq(get("/")->text, FORBIDDEN);
}
END_TEST

START_TEST(listing_like_go)
{
    resp_t *r = get("/list/");

    ck_assert_str_eq(r->text,
                     "HTTP/1.1 200 OK\r\n"
                     "Content-Type: text/html; charset=utf-8\r\n"
                     "Last-Modified: " MTIME_S "\r\nDate: DATE\r\n"
                     "Content-Length: 241\r\n\r\n"
                     "<!doctype html>\n"
                     "<meta name=\"viewport\" content=\"width=device-width\">\n"
                     "<pre>\n"
                     "<a href=\"a&%3Cx%3E.txt\">a&amp;&lt;x&gt;.txt</a>\n"
                     "<a href=\"b.txt\">b.txt</a>\n"
                     "<a href=\"dirlink\">dirlink</a>\n"
                     "<a href=\"sp%20ace/\">sp ace/</a>\n"
                     "<a href=\"sub/\">sub/</a>\n"
                     "</pre>\n");
    r = get_with("/list/", "If-Modified-Since: " MTIME_S);
    ck_assert_str_eq(r->text,
                     "HTTP/1.1 304 Not Modified\r\nDate: DATE\r\n\r\n");
    r = get_with("/list/", "If-Modified-Since: " BEFORE_S);
    ck_assert_int_eq(r->status, 200);
    /* A directory with an index.html still serves the index. */
    ck_assert_str_eq(get("/dir/")->body, "<p>index</p>\n");
    ck_assert_str_eq(get("/list")->text, redirect("list/"));
}
END_TEST

/* ---- errors and confinement --------------------------------------------------- */

START_TEST(errors_carry_go_bodies)
{
    ck_assert_str_eq(get("/missing")->text, NOT_FOUND);
    ck_assert_str_eq(get("/missing/deeper")->text, NOT_FOUND);
    ck_assert_str_eq(get("/hello.txt/x")->text, NOT_FOUND); /* issue 18984 */
    ck_assert_str_eq(get("/out")->text, FORBIDDEN);
    ck_assert_str_eq(get("/outdir/secret.txt")->text, FORBIDDEN);
    ck_assert_str_eq(get("/outdir/")->text, FORBIDDEN);
    /* A link that stays inside is followed. */
    ck_assert_str_eq(get("/in")->body, "hello\n");
    ck_assert_str_eq(get("/list/dirlink/other.txt")->body, "other\n");
}
END_TEST

/* Every spelling of "the parent of the root" stays inside: the answer
 * is the root's own file or a 404, never the secret beside it. */
START_TEST(paths_stay_confined)
{
    static const char *const targets[] = {
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/dir/..%2F..%2Fsecret.txt",
        "/dir/%2e%2e/%2e%2e/secret.txt",
        "//../secret.txt",
        "/..\\secret.txt",
        "/./.././../secret.txt",
        "http://h/../secret.txt",
        "http://h/%2e%2e/%2e%2e/secret.txt",
    };
    int i;

    for (i = 0; i < (int)(sizeof(targets) / sizeof(targets[0])); i++) {
        resp_t *r = get(targets[i]);
        ck_assert_msg(strcmp(r->text, NOT_FOUND) == 0, "%s:\n%s", targets[i],
                      r->text);
    }
    /* An encoded slash is a slash, and .. is cleaned inside the root. */
    ck_assert_str_eq(get("/dir%2fother.txt")->body, "other\n");
    ck_assert_str_eq(get("/dir/%2e%2e/hello.txt")->body, "hello\n");
    ck_assert_str_eq(get("/../../hello.txt")->body, "hello\n");
    /* An absolute path in the URL is under the root too. */
    ck_assert_str_eq(get(fmt("%s/hello.txt", top))->text, NOT_FOUND);
    /* A NUL byte never reaches the file system (the core refuses it). */
    {
        char *out = wt_request(srv.port,
                               "GET /hello.txt%00.css HTTP/1.1\r\nHost: t\r\n"
                               "Connection: close\r\n\r\n",
                               WAIT_MS);
        ck_assert_ptr_nonnull(out);
        ck_assert_msg(strncmp(out, "HTTP/1.1 200", 12) != 0, "%s", out);
        ck_assert_ptr_null(strstr(out, "hello"));
    }
}
END_TEST

START_TEST(follow_symlinks_on_leaves_the_root)
{
    ck_assert_str_eq(get("/out")->body, "secret\n");
    ck_assert_str_eq(get("/outdir/secret.txt")->body, "secret\n");
    /* .. is still cleaned away: only links lead out. */
    ck_assert_str_eq(get("/../secret.txt")->text, NOT_FOUND);
}
END_TEST

START_TEST(strip_prefix_like_go)
{
    ck_assert_str_eq(get("/assets/hello.txt")->body, "hello\n");
    ck_assert_str_eq(get("/assets/dir")->text, redirect("dir/"));
    ck_assert_str_eq(get("/assets/dir/")->body, "<p>index</p>\n");
    ck_assert_str_eq(get("/assets/dir/index.html")->text, redirect("./"));
    /* Without the prefix: Go's StripPrefix answers NotFound. */
    ck_assert_str_eq(get("/hello.txt")->text, NOT_FOUND);
    ck_assert_str_eq(get("/%61ssets/hello.txt")->text, NOT_FOUND);
    /* "/assets" alone strips to "" and serves the root: 403 here. */
    ck_assert_str_eq(get("/assets")->text, FORBIDDEN);
}
END_TEST

/* ---- preconditions -------------------------------------------------------------- */

START_TEST(conditional_requests_like_go)
{
    char *etag = etag_of("hello.txt");
    char *not_mod = fmt(
        "HTTP/1.1 304 Not Modified\r\nEtag: %s\r\nDate: DATE\r\n\r\n", etag);
    char *failed = fmt("HTTP/1.1 412 Precondition Failed\r\nEtag: %s\r\n"
                       "Last-Modified: " MTIME_S "\r\nDate: DATE\r\n"
                       "Content-Length: 0\r\n\r\n",
                       etag);
    char *full =
        fmt("%shello\n", ok_head("hello.txt", 6, "text/plain; charset=utf-8"));

    /* If-None-Match: weak comparison, lists, '*'. */
    ck_assert_str_eq(
        get_with("/hello.txt", fmt("If-None-Match: %s", etag))->text, not_mod);
    ck_assert_str_eq(
        get_with("/hello.txt", fmt("If-None-Match: \"x\", %s", etag + 2))->text,
        not_mod);
    ck_assert_str_eq(get_with("/hello.txt", "If-None-Match: *")->text, not_mod);
    ck_assert_str_eq(get_with("/hello.txt", "If-None-Match: \"other\"")->text,
                     full);
    ck_assert_str_eq(get_with("/hello.txt", "If-None-Match: ,")->text, full);
    /* If-Modified-Since, only when If-None-Match is absent. */
    ck_assert_str_eq(
        get_with("/hello.txt", "If-Modified-Since: " MTIME_S)->text, not_mod);
    ck_assert_str_eq(
        get_with("/hello.txt", "If-Modified-Since: " AFTER_S)->text, not_mod);
    ck_assert_str_eq(
        get_with("/hello.txt", "If-Modified-Since: " BEFORE_S)->text, full);
    ck_assert_str_eq(get_with("/hello.txt",
                              "If-Modified-Since: Wednesday, 25-Jun-14 "
                              "17:12:18 GMT")
                         ->text,
                     not_mod);
    ck_assert_str_eq(
        get_with("/hello.txt", "If-Modified-Since: Wed Jun 25 17:12:18 2014")
            ->text,
        not_mod);
    ck_assert_str_eq(
        get_with("/hello.txt", "If-Modified-Since: yesterday")->text, full);
    ck_assert_str_eq(get_with("/hello.txt", "If-None-Match: \"other\"\r\n"
                                            "If-Modified-Since: " MTIME_S)
                         ->text,
                     full);
    /* If-Match: strong comparison, so a weak validator never matches. */
    ck_assert_str_eq(get_with("/hello.txt", fmt("If-Match: %s", etag))->text,
                     failed);
    ck_assert_str_eq(get_with("/hello.txt", "If-Match: *")->text, full);
    ck_assert_str_eq(get_with("/hello.txt", "If-Match: \"x\"")->text, failed);
    /* If-Unmodified-Since, when If-Match is absent. */
    ck_assert_str_eq(
        get_with("/hello.txt", "If-Unmodified-Since: " MTIME_S)->text, full);
    ck_assert_str_eq(
        get_with("/hello.txt", "If-Unmodified-Since: " BEFORE_S)->text, failed);
    ck_assert_str_eq(
        get_with("/hello.txt", "If-Match: *\r\nIf-Unmodified-Since: " BEFORE_S)
            ->text,
        full);
    /* HEAD is answered the same way. */
    ck_assert_str_eq(ask(fmt("HEAD /hello.txt HTTP/1.1\r\nHost: t\r\n"
                             "If-None-Match: %s\r\n\r\n",
                             etag))
                         ->text,
                     not_mod);
}
END_TEST

/* ---- ranges --------------------------------------------------------------------- */

static char *partial(const char *rel, const char *crange, long long len,
                     const char *ctype)
{
    return fmt("HTTP/1.1 206 Partial Content\r\nAccept-Ranges: bytes\r\n"
               "Content-Length: %lld\r\nContent-Range: %s\r\n"
               "Content-Type: %s\r\nEtag: %s\r\nLast-Modified: " MTIME_S
               "\r\nDate: DATE\r\n\r\n",
               len, crange, ctype, etag_of(rel));
}

#define CSS "text/css; charset=utf-8"

START_TEST(single_ranges_like_go)
{
    ck_assert_str_eq(
        get_with("/style.css", "Range: bytes=0-4")->text,
        fmt("%sbody{", partial("style.css", "bytes 0-4/8", 5, CSS)));
    ck_assert_str_eq(
        get_with("/style.css", "Range: bytes=5-")->text,
        fmt("%s}\n\n", partial("style.css", "bytes 5-7/8", 3, CSS)));
    ck_assert_str_eq(
        get_with("/style.css", "Range: bytes=-2")->text,
        fmt("%s\n\n", partial("style.css", "bytes 6-7/8", 2, CSS)));
    ck_assert_str_eq(
        get_with("/style.css", "Range: bytes=4-100")->text,
        fmt("%s{}\n\n", partial("style.css", "bytes 4-7/8", 4, CSS)));
    ck_assert_str_eq(
        get_with("/style.css", "Range: bytes=-100")->text,
        fmt("%sbody{}\n\n", partial("style.css", "bytes 0-7/8", 8, CSS)));
    /* One satisfiable range among unsatisfiable ones. */
    ck_assert_str_eq(get_with("/style.css", "Range: bytes=20-,1-1")->text,
                     fmt("%so", partial("style.css", "bytes 1-1/8", 1, CSS)));
    /* A range in the middle of a large file: sendfile from an offset. */
    {
        resp_t *r = get_with("/big.bin", "Range: bytes=100000-299999");
        long long i;
        ck_assert_int_eq(r->status, 206);
        ck_assert_uint_eq(r->body_len, 200000);
        for (i = 0; i < 200000; i++)
            if ((unsigned char)r->body[i] != pattern(100000 + i))
                ck_abort_msg("byte %lld differs", i);
    }
}
END_TEST

START_TEST(unsatisfiable_and_invalid_ranges_like_go)
{
    char *etag = etag_of("style.css");

    ck_assert_str_eq(
        get_with("/style.css", "Range: bytes=8-")->text,
        fmt("HTTP/1.1 416 Requested Range Not Satisfiable\r\n"
            "Content-Range: bytes */8\r\n" TEXT "Etag: %s\r\n"
            "Last-Modified: " MTIME_S "\r\n" NOSNIFF "Date: DATE\r\n"
            "Content-Length: 33\r\n\r\ninvalid range: failed to overlap\n",
            etag));
    /* Unknown units and malformed specs: Go's 416 "invalid range". */
    {
        static const char *const bad[] = {
            "Range: items=0-1", "Range: bytes=5-4", "Range: bytes=a-b",
            "Range: bytes=1",   "Range: Bytes=0-1", "Range: bytes=0-1,x",
        };
        int i;
        for (i = 0; i < 6; i++)
            ck_assert_str_eq(
                get_with("/style.css", bad[i])->text,
                fmt("HTTP/1.1 416 Requested Range Not Satisfiable\r\n" TEXT
                    "Etag: %s\r\nLast-Modified: " MTIME_S "\r\n" NOSNIFF
                    "Date: DATE\r\nContent-Length: 14\r\n\r\ninvalid range\n",
                    etag));
    }
    /* Ignored: more bytes than the file, an empty file, "bytes=". */
    ck_assert_int_eq(get_with("/style.css", "Range: bytes=0-7,0-7")->status,
                     200);
    ck_assert_str_eq(get_with("/empty.txt", "Range: bytes=0-10")->text,
                     ok_head("empty.txt", 0, "text/plain; charset=utf-8"));
    ck_assert_int_eq(get_with("/style.css", "Range: bytes=")->status, 200);
}
END_TEST

START_TEST(if_range_like_go)
{
    char *etag = etag_of("style.css");

    ck_assert_int_eq(get_with("/style.css", "Range: bytes=0-4\r\n"
                                            "If-Range: " MTIME_S)
                         ->status,
                     206);
    ck_assert_int_eq(get_with("/style.css", "Range: bytes=0-4\r\n"
                                            "If-Range: " AFTER_S)
                         ->status,
                     200);
    /* A weak validator never matches If-Range (strong comparison). */
    ck_assert_str_eq(
        get_with("/style.css", fmt("Range: bytes=0-4\r\nIf-Range: %s", etag))
            ->text,
        fmt("%sbody{}\n\n", ok_head("style.css", 8, CSS)));
    ck_assert_int_eq(get_with("/style.css", "Range: bytes=0-4\r\n"
                                            "If-Range: \"strong\"")
                         ->status,
                     200);
    /* If-Range voids an unsatisfiable Range too. */
    ck_assert_int_eq(get_with("/style.css", "Range: bytes=100-\r\n"
                                            "If-Range: " AFTER_S)
                         ->status,
                     200);
}
END_TEST

/* Parses a multipart/byteranges body back and checks every part against
 * the file (pattern bytes, or text). */
static void check_multipart(resp_t *r, const char *ctype, long long size,
                            const long long (*want)[2], int nwant,
                            const char *text)
{
    const char *ct = hval(r->head, "Content-Type");
    const char *prefix = "multipart/byteranges; boundary=";
    const char *b, *p, *end = r->body + r->body_len;
    int i;

    ck_assert_int_eq(r->status, 206);
    ck_assert_ptr_null(hval(r->head, "Content-Range"));
    ck_assert_msg(strncmp(ct, prefix, strlen(prefix)) == 0, "%s", ct);
    b = ct + strlen(prefix);
    ck_assert_uint_eq(strlen(b), 60);
    ck_assert_uint_eq(strspn(b, "0123456789abcdef"), 60);
    ck_assert_str_eq(hval(r->head, "Content-Length"), fmt("%zu", r->body_len));
    p = r->body;
    for (i = 0; i < nwant; i++) {
        char *delim = fmt("%s--%s\r\n", i ? "\r\n" : "", b);
        char *hdr = fmt("Content-Range: bytes %lld-%lld/%lld\r\n"
                        "Content-Type: %s\r\n\r\n",
                        want[i][0], want[i][1], size, ctype);
        long long k, n = want[i][1] - want[i][0] + 1;
        ck_assert_msg(strncmp(p, delim, strlen(delim)) == 0, "part %d", i);
        p += strlen(delim);
        ck_assert_msg(strncmp(p, hdr, strlen(hdr)) == 0, "part %d header", i);
        p += strlen(hdr);
        ck_assert(p + n <= end);
        for (k = 0; k < n; k++) {
            unsigned char w = text ? (unsigned char)text[want[i][0] + k]
                                   : pattern(want[i][0] + k);
            if ((unsigned char)p[k] != w)
                ck_abort_msg("part %d byte %lld differs", i, k);
        }
        p += n;
    }
    ck_assert_str_eq(p, fmt("\r\n--%s--\r\n", b));
}

START_TEST(multipart_ranges_parsed_back)
{
    static const long long small[][2] = { { 0, 1 }, { 4, 5 }, { 7, 7 } };
    static const long long big[][2] = { { 0, 99999 },
                                        { 500000, 700000 },
                                        { BIG_SIZE - 10, BIG_SIZE - 1 } };
    static const long long overlap[][2] = { { 0, 3 }, { 2, 5 } };

    check_multipart(get_with("/style.css", "Range: bytes=0-1,4-5,-1"), CSS, 8,
                    small, 3, "body{}\n\n");
    /* Large parts: the bytes of each go out with sendfile. */
    check_multipart(
        get_with("/big.bin", fmt("Range: bytes=0-99999, 500000-700000,-10")),
        "application/octet-stream", BIG_SIZE, big, 3, NULL);
    /* Overlapping ranges are served as asked while they fit the file. */
    check_multipart(get_with("/style.css", "Range: bytes=0-3,2-5"), CSS, 8,
                    overlap, 2, "body{}\n\n");
    /* HEAD: the multipart length, no body. */
    {
        resp_t *r = ask("HEAD /style.css HTTP/1.1\r\nHost: t\r\n"
                        "Range: bytes=0-1,4-5\r\n\r\n");
        ck_assert_int_eq(r->status, 206);
        ck_assert_int_gt(atoi(hval(r->head, "Content-Length")), 200);
    }
}
END_TEST

/* ---- large files, keep-alive, slow readers, shrinking files ----------------- */

START_TEST(large_file_by_sendfile)
{
    client_t *c = dial();
    resp_t *r;
    long long i;
    int round;

    /* Twice on one connection: the framing stays in step. */
    for (round = 0; round < 2; round++) {
        send_str(c, "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
        r = read_resp(c, 0);
        ck_assert_str_eq(
            r->head, ok_head("big.bin", BIG_SIZE, "application/octet-stream"));
        ck_assert_uint_eq(r->body_len, BIG_SIZE);
        for (i = 0; i < BIG_SIZE; i++)
            if ((unsigned char)r->body[i] != pattern(i))
                ck_abort_msg("byte %lld differs", i);
    }
    send_str(c, "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_str_eq(read_resp(c, 0)->body, "hello\n");
}
END_TEST

START_TEST(pipelined_requests_keep_the_connection)
{
    client_t *c = dial();
    char *etag = etag_of("hello.txt");
    resp_t *r;

    send_str(c, fmt("GET /hello.txt HTTP/1.1\r\nHost: t\r\n"
                    "If-None-Match: %s\r\n\r\n"
                    "GET /style.css HTTP/1.1\r\nHost: t\r\n"
                    "Range: bytes=0-1,3-3\r\n\r\n"
                    "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"
                    "GET /dir HTTP/1.1\r\nHost: t\r\n\r\n"
                    "GET /style.css HTTP/1.1\r\nHost: t\r\n"
                    "Range: bytes=9-\r\n\r\n"
                    "GET /hello.txt HTTP/1.1\r\nHost: t\r\n"
                    "Connection: close\r\n\r\n",
                    etag));
    ck_assert_int_eq(read_resp(c, 0)->status, 304);
    ck_assert_int_eq(read_resp(c, 0)->status, 206);
    ck_assert_int_eq(read_resp(c, 0)->status, 404);
    ck_assert_int_eq(read_resp(c, 0)->status, 301);
    ck_assert_int_eq(read_resp(c, 0)->status, 416);
    r = read_resp(c, 0);
    ck_assert_str_eq(r->body, "hello\n");
    expect_close(c);
}
END_TEST

/* Reads the rest of a body until the server closes; returns the bytes
 * after the header, checking each against the pattern.  pace_ms > 0 reads
 * at most 16 KiB per pace_ms (a slow reader: the pause is the point). */
static long long drain_pattern(client_t *c, int pace_ms, long long limit_ms)
{
    long long got = (long long)(c->len - c->pos), i, deadline;
    long long start = now_ms();

    for (i = 0; i < got; i++)
        if ((unsigned char)c->buf[c->pos + i] != pattern(i))
            ck_abort_msg("byte %lld differs", i);
    c->pos = c->len = 0;
    for (;;) {
        char buf[16384];
        struct pollfd pf = { c->fd, POLLIN, 0 };
        ssize_t n;
        ck_assert_msg(now_ms() - start < limit_ms,
                      "still reading after %lld ms (%lld bytes)", limit_ms,
                      got);
        deadline = now_ms() + WAIT_MS;
        if (poll(&pf, 1, (int)(deadline - now_ms())) != 1)
            ck_abort_msg("no byte and no close within %d ms", WAIT_MS);
        n = recv(c->fd, buf, sizeof(buf), 0);
        if (n <= 0)
            return got; /* closed (or reset): the end */
        for (i = 0; i < n; i++)
            if ((unsigned char)buf[i] != pattern(got + i))
                ck_abort_msg("byte %lld differs", got + i);
        got += n;
        if (pace_ms > 0)
            poll(NULL, 0, pace_ms);
    }
}

/* The header of a response, consumed from c. */
static char *read_head(client_t *c)
{
    long long deadline = now_ms() + WAIT_MS;
    char *end;
    char *head;

    while ((end = memmem(c->buf + c->pos, c->len - c->pos, "\r\n\r\n", 4)) ==
           NULL)
        ck_assert_msg(fill(c, deadline) > 0, "no header");
    head = fmt("%.*s", (int)(end + 4 - (c->buf + c->pos)), c->buf + c->pos);
    c->pos += strlen(head);
    return head;
}

START_TEST(slow_reader_under_write_timeout)
{
    const long long size = 64LL << 20;
    client_t *c;
    char *path, *head;
    long long got, t0;

    path = put_pattern("slow.bin", size, NULL);
    c = dial_small_window();
    t0 = now_ms();
    send_str(c, "GET /slow.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    head = read_head(c);
    ck_assert_str_eq(hval(head, "Content-Length"), fmt("%lld", size));
    /* 16 KiB every 2 ms (about 8 MB/s) would need 8 s for the whole
     * file: WriteTimeout (1 s) ends the response long before. */
    got = drain_pattern(c, 2, 60000);
    ck_assert_msg(got < size, "the whole file came (%lld bytes)", got);
    ck_assert_int_gt(got, 0);
    ck_assert_msg(now_ms() - t0 < 30000, "took %lld ms", now_ms() - t0);
    unlink(path);
}
END_TEST

START_TEST(shrinking_file_ends_the_connection)
{
    const long long size = 32LL << 20, cut = 16LL << 20;
    client_t *c;
    char *path, *head;
    long long got;

    path = put_pattern("shrink.bin", size, NULL);
    c = dial_small_window();
    send_str(c, "GET /shrink.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    head = read_head(c);
    ck_assert_str_eq(hval(head, "Content-Length"), fmt("%lld", size));
    /* The server is blocked by the small window, at most a few MiB (the
     * socket buffers) into the file: cut it behind that point. */
    ck_assert_int_eq(truncate(path, cut), 0);
    got = drain_pattern(c, 0, 60000);
    ck_assert_int_eq(got, cut); /* correct up to the new end, then close */
    unlink(path);
}
END_TEST

/* ---- unconfigured, configuration checks, the mux ---------------------------- */

START_TEST(unconfigured_changes_nothing)
{
    wt_server_t s;
    char *conf;
    char *out;

    /* Loaded beside testapp: testapp still answers as before. */
    conf = wt_fmt("LoadModule static_module %s\nLoadModule testapp_module %s\n"
                  "Handler testapp\n",
                  wt_built("modules/.libs/mod_static.so"), wt_testapp());
    ck_assert_int_eq(wt_server_start(&s, conf), 0);
    out = wt_request(s.port,
                     "GET /hello HTTP/1.1\r\nHost: t\r\n"
                     "Connection: close\r\n\r\n",
                     WAIT_MS);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nhello\n"));
    ck_assert_int_eq(wt_server_stop(&s, SIGTERM, WAIT_MS), 0);
    /* The static handler without StaticRoot: Go's NotFound. */
    conf = wt_fmt("LoadModule static_module %s\nHandler static\n",
                  wt_built("modules/.libs/mod_static.so"));
    ck_assert_int_eq(wt_server_start(&s, conf), 0);
    out = wt_request(s.port,
                     "GET /etc/passwd HTTP/1.1\r\nHost: t\r\n"
                     "Connection: close\r\n\r\n",
                     WAIT_MS);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(strncmp(out, "HTTP/1.1 404 Not Found\r\n", 24) == 0, "%s",
                  out);
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\n404 page not found\n"));
    ck_assert_int_eq(wt_server_stop(&s, SIGTERM, WAIT_MS), 0);
    wt_cleanup();
}
END_TEST

/* weftd -t on a file; returns its stderr, *status set. */
static char *check_conf(const char *body, int *status)
{
    char *dir = wt_tmpdir();
    char *conf = wt_write(dir, "weft.conf", body);
    const char *argv[] = { wt_weftd(), "-t", "-f", conf, NULL };
    wt_run_t r;

    ck_assert_int_eq(wt_run(&r, WAIT_MS, argv), 0);
    *status = r.status;
    return wt_fmt("%s%s|%s", conf, r.err ? r.err : "", r.out ? r.out : "");
}

START_TEST(static_root_checked_at_test_config)
{
    char *dir = wt_tmpdir();
    char *file = wt_write(dir, "plain.txt", "x");
    char *mod = wt_built("modules/.libs/mod_static.so");
    char *out;
    int st;

    out = check_conf(wt_fmt("Listen 127.0.0.1:0\n"
                            "LoadModule static_module %s\n"
                            "\n"
                            "StaticRoot %s/nonexistent\n",
                            mod, dir),
                     &st);
    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(out, "weft.conf:4: StaticRoot: ") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "nonexistent") != NULL, "%s", out);
    out = check_conf(wt_fmt("Listen 127.0.0.1:0\n"
                            "LoadModule static_module %s\n"
                            "StaticRoot %s\n",
                            mod, file),
                     &st);
    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(out, "weft.conf:3: StaticRoot: ") != NULL &&
                      strstr(out, "is not a directory") != NULL,
                  "%s", out);
    out = check_conf(wt_fmt("Listen 127.0.0.1:0\n"
                            "LoadModule static_module %s\n"
                            "StaticRoot %s\nStaticListing on\n"
                            "StaticFollowSymlinks off\n"
                            "StaticSendfileMin 64K\n"
                            "StaticStripPrefix /assets\n",
                            mod, dir),
                     &st);
    ck_assert_msg(st == 0 && strstr(out, "Syntax OK") != NULL, "%s", out);
    out = check_conf(wt_fmt("Listen 127.0.0.1:0\n"
                            "LoadModule static_module %s\n"
                            "StaticSendfileMin lots\n",
                            mod),
                     &st);
    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(out, "weft.conf:3: StaticSendfileMin") != NULL, "%s",
                  out);
    wt_cleanup();
}
END_TEST

/* Mounted through the mux, the matched prefix kept or stripped. */
START_TEST(mounted_through_the_mux)
{
    char *mux = wt_built("modules/.libs/mod_mux.so");
    wt_server_t s;
    char *conf, *out;

    build_tree();
    conf = wt_fmt("LoadModule mux_module %s\nLoadModule static_module %s\n"
                  "Handle \"GET /assets/\" static\n"
                  "StaticRoot \"%s\"\nStaticStripPrefix /assets\n",
                  mux, wt_built("modules/.libs/mod_static.so"), root);
    ck_assert_int_eq(wt_server_start(&s, conf), 0);
    out = wt_request(s.port,
                     "GET /assets/hello.txt HTTP/1.1\r\nHost: t\r\n"
                     "Connection: close\r\n\r\n",
                     WAIT_MS);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nhello\n"));
    out = wt_request(s.port,
                     "GET /assets/dir HTTP/1.1\r\nHost: t\r\n"
                     "Connection: close\r\n\r\n",
                     WAIT_MS);
    ck_assert_ptr_nonnull(strstr(out, "\r\nLocation: dir/\r\n"));
    out = wt_request(s.port,
                     "GET /hello.txt HTTP/1.1\r\nHost: t\r\n"
                     "Connection: close\r\n\r\n",
                     WAIT_MS);
    ck_assert_msg(strncmp(out, "HTTP/1.1 404 ", 13) == 0, "%s", out);
    ck_assert_int_eq(wt_server_stop(&s, SIGTERM, WAIT_MS), 0);

    /* Without StaticStripPrefix the path is looked up as it came. */
    conf = wt_fmt("LoadModule mux_module %s\nLoadModule static_module %s\n"
                  "Handle \"GET /dir/\" static\nStaticRoot \"%s\"\n",
                  mux, wt_built("modules/.libs/mod_static.so"), root);
    ck_assert_int_eq(wt_server_start(&s, conf), 0);
    out = wt_request(s.port,
                     "GET /dir/other.txt HTTP/1.1\r\nHost: t\r\n"
                     "Connection: close\r\n\r\n",
                     WAIT_MS);
    ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nother\n"));
    ck_assert_int_eq(wt_server_stop(&s, SIGTERM, WAIT_MS), 0);
    wt_cleanup();
}
END_TEST

static TCase *tcase(Suite *s, const char *name, void (*up)(void),
                    void (*down)(void), int timeout)
{
    TCase *tc = tcase_create(name);

    if (up != NULL)
        tcase_add_unchecked_fixture(tc, up, down);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, timeout);
    suite_add_tcase(s, tc);
    return tc;
}

static Suite *static_suite(void)
{
    Suite *s = suite_create("static");
    TCase *tc;

    tc = tcase(s, "files", setup_main, stop, 60);
    tcase_add_test(tc, serves_a_file_like_go);
    tcase_add_test(tc, content_type_by_table_types_file_or_sniffing);
    tcase_add_test(tc, head_sends_the_headers_only);
    tcase_add_test(tc, other_methods_get_405);
    tcase_add_test(tc, redirects_like_go);
    tcase_add_test(tc, index_html_serves_the_directory);
    tcase_add_test(tc, errors_carry_go_bodies);
    tcase_add_test(tc, paths_stay_confined);
    tcase_add_test(tc, conditional_requests_like_go);
    tcase_add_test(tc, single_ranges_like_go);
    tcase_add_test(tc, unsatisfiable_and_invalid_ranges_like_go);
    tcase_add_test(tc, if_range_like_go);
    tcase_add_test(tc, multipart_ranges_parsed_back);
    tcase_add_test(tc, large_file_by_sendfile);
    tcase_add_test(tc, pipelined_requests_keep_the_connection);
    tcase_add_test(tc, shrinking_file_ends_the_connection);

    tc = tcase(s, "listing", setup_listing, stop, 60);
    tcase_add_test(tc, listing_like_go);

    tc = tcase(s, "follow", setup_follow, stop, 60);
    tcase_add_test(tc, follow_symlinks_on_leaves_the_root);

    tc = tcase(s, "strip", setup_strip, stop, 60);
    tcase_add_test(tc, strip_prefix_like_go);

    tc = tcase(s, "write_timeout", setup_write_timeout, stop, 120);
    tcase_add_test(tc, slow_reader_under_write_timeout);

    tc = tcase(s, "config", NULL, NULL, 60);
    tcase_add_test(tc, unconfigured_changes_nothing);
    tcase_add_test(tc, static_root_checked_at_test_config);
    tcase_add_test(tc, mounted_through_the_mux);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(static_suite());
    int failed;

    signal(SIGPIPE, SIG_IGN);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
