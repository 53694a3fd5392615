/*
 * test_tls.c -- mod_tls from outside: certificates made at test time by
 * the openssl command, weftd with mod_tls, mod_testapp and fixture_alpn,
 * and curl, openssl s_client and OpenSSL from C as clients.  Versions,
 * SNI, ALPN claims, keep-alive, pipelining, hijack, disconnects, Shutdown,
 * handshake deadlines, plain HTTP on the TLS port, client certificates
 * and configuration errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "weft_test.h"

/* Every wait is bounded by this; generous for sanitizer builds. */
#define WAIT_MS 10000
/* A disconnect must cancel the handler within this (see test_cancel). */
#define CANCEL_MS 2000
/* The tick of a client's blocking reads, so deadlines are checked. */
#define TICK_MS 100

#define TEXT "text/plain; charset=utf-8"
#define CANCEL_LINE "cancel /wait\n"
#define PLAIN_ANSWER                   \
    "HTTP/1.0 400 Bad Request\r\n\r\n" \
    "Client sent an HTTP request to an HTTPS server.\n"
#define ALPN_PROTO "weft-test/1"
#define ALPN_ANSWER "weft-test/1 claimed\n"
#define HEAD_101                                            \
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n" \
    "Connection: Upgrade\r\n\r\n"

/* The certificates, made once by main() before any test runs. */
static char *pki;

/* The server of the current TCase (unchecked fixtures, in the parent),
 * or of the current test (tsrv, started and stopped by the test). */
static wt_server_t srv, tsrv;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *pem(const char *name)
{
    return wt_fmt("%s/%s", pki, name);
}

/* ---- certificates -------------------------------------------------------- */

static int sh(const char *cmd)
{
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    wt_run_t r;

    if (wt_run(&r, 30000, argv) != 0 || r.status != 0) {
        fprintf(stderr, "failed: %s\n%s%s\n", cmd, r.out, r.err);
        return -1;
    }
    return 0;
}

/* A key and a certificate signed by the test CA. */
static int make_leaf(const char *name, const char *subject, const char *ext,
                     int serial)
{
    return sh(wt_fmt("cd '%s' && openssl req -newkey ec -pkeyopt "
                     "ec_paramgen_curve:P-256 -nodes -keyout %s.key -out "
                     "%s.csr -subj '%s' && printf '%%s\\n' '%s' > %s.ext && "
                     "openssl x509 -req -in %s.csr -CA ca.crt -CAkey ca.key "
                     "-set_serial %d -days 3 -extfile %s.ext -out %s.crt",
                     pki, name, name, subject, ext, name, name, serial, name,
                     name));
}

/*
 * The CA; alpha (the default pair: alpha.test, localhost, 127.0.0.1);
 * beta (beta.test only, so a client checking beta.test fails on alpha's
 * certificate); gamma (*.wild.test and delta.test); a client certificate
 * from the CA, and a self-signed one the CA does not know.
 */
static int make_pki(void)
{
    pki = wt_tmpdir();
    if (pki == NULL)
        return -1;
    if (sh(wt_fmt("cd '%s' && openssl req -x509 -newkey ec -pkeyopt "
                  "ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt "
                  "-days 3 -subj /CN=weft-test-ca",
                  pki)) != 0 ||
        make_leaf("alpha", "/CN=alpha.test",
                  "subjectAltName=DNS:alpha.test,DNS:localhost,IP:127.0.0.1",
                  2) != 0 ||
        make_leaf("beta", "/CN=beta.test", "subjectAltName=DNS:beta.test", 3) !=
            0 ||
        make_leaf("gamma", "/CN=gamma.test",
                  "subjectAltName=DNS:*.wild.test,DNS:delta.test", 4) != 0 ||
        make_leaf("client", "/O=weft/CN=weft-client",
                  "extendedKeyUsage=clientAuth", 5) != 0)
        return -1;
    return sh(wt_fmt("cd '%s' && openssl req -x509 -newkey ec -pkeyopt "
                     "ec_paramgen_curve:P-256 -nodes -keyout rogue.key -out "
                     "rogue.crt -days 3 -subj /CN=rogue",
                     pki));
}

/* ---- servers ------------------------------------------------------------- */

/*
 * The common configuration.  `Listen ... tls` comes before `LoadModule
 * tls_module` on purpose: the contract allows it.
 */
static char *conf_with(const char *extra)
{
    return wt_fmt("Listen 127.0.0.1:0 tls\n"
                  "LoadModule tls_module %s\n"
                  "LoadModule testapp_module %s\n"
                  "LoadModule alpn_module %s\n"
                  "LoadModule status_module %s\n"
                  "TLSCertificateFile %s\n"
                  "TLSCertificateKeyFile %s\n"
                  "TLSServerName beta.test %s %s\n"
                  "TLSServerName *.wild.test %s %s\n"
                  "Handler tlsinfo\n"
                  "LogLevel debug\n%s",
                  wt_built("modules/.libs/mod_tls.so"), wt_testapp(),
                  wt_built("tests/modules/.libs/fixture_alpn.so"),
                  wt_built("modules/.libs/mod_status.so"), pem("alpha.crt"),
                  pem("alpha.key"), pem("beta.crt"), pem("beta.key"),
                  pem("gamma.crt"), pem("gamma.key"), extra);
}

static void start_srv(const char *extra)
{
    if (pki == NULL || wt_server_start(&srv, conf_with(extra)) != 0)
        srv.port = 0; /* every test then fails with "did not start" */
}

static void start_main(void)
{
    start_srv("TLSALPN " ALPN_PROTO " unclaimed/1\nReadHeaderTimeout 10s\n");
}

/* The same under MPM worker: the transport does not care who owns. */
static void start_worker(void)
{
    start_srv("TLSALPN " ALPN_PROTO "\nReadHeaderTimeout 10s\n"
              "MPM worker\nThreads 16\n");
}

static void start_hs_timeout(void)
{
    start_srv("TLSHandshakeTimeout 500ms\nReadHeaderTimeout 10s\n");
}

/* No TLSHandshakeTimeout: Go's rule takes WriteTimeout, the smallest. */
static void start_go_rule(void)
{
    start_srv("ReadHeaderTimeout 4s\nReadTimeout 6s\nWriteTimeout 700ms\n");
}

static void start_tls12(void)
{
    start_srv("TLSProtocols TLSv1.2\n"
              "TLSCiphers ECDHE-ECDSA-CHACHA20-POLY1305\n");
}

static void start_tls13(void)
{
    start_srv("TLSProtocols TLSv1.3\n"
              "TLSCipherSuites TLS_CHACHA20_POLY1305_SHA256\n");
}

static void start_require(void)
{
    start_srv(wt_fmt("TLSVerifyClient require\nTLSCACertificateFile %s\n",
                     pem("ca.crt")));
}

static void start_optional(void)
{
    start_srv(wt_fmt("TLSVerifyClient optional\nTLSCACertificateFile %s\n",
                     pem("ca.crt")));
}

static void stop_srv(void)
{
    if (srv.pid > 0)
        wt_server_stop(&srv, SIGTERM, WAIT_MS);
}

static int port(void)
{
    ck_assert_msg(srv.port > 0, "weftd did not start");
    return srv.port;
}

/* ---- a TLS client ---------------------------------------------------------- */

typedef struct {
    const char *sni;  /* server name sent and verified; NULL: localhost */
    const char *alpn; /* the one protocol offered, or NULL */
    int version;      /* TLS1_2_VERSION or TLS1_3_VERSION only; 0: any */
    const char *cert; /* client certificate and key, or NULL */
    const char *key;
    int port; /* 0: the TCase's server */
} topts_t;

typedef struct {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    int ok;          /* the handshake completed */
    char remote[64]; /* our address as the server logs it */
    char buf[262144];
    size_t len;
    int eof; /* close_notify, FIN or reset seen */
} tclient_t;

static tclient_t *clients[32];
static int nclients;

static void teardown(void)
{
    while (nclients > 0) {
        tclient_t *c = clients[--nclients];
        SSL_free(c->ssl);
        SSL_CTX_free(c->ctx);
        if (c->fd >= 0)
            close(c->fd);
        free(c);
    }
    if (tsrv.pid > 0)
        wt_server_stop(&tsrv, SIGKILL, WAIT_MS);
}

static void set_tick(int fd)
{
    struct timeval tv = { 0, TICK_MS * 1000 };

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static void our_address(int fd, char *out, size_t n)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    char ip[INET_ADDRSTRLEN] = "?";

    if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
    snprintf(out, n, "%s:%u", ip, (unsigned)ntohs(sa.sin_port));
}

static SSL_CTX *client_ctx(const topts_t *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, pem("ca.crt"), NULL),
                     1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (o->version != 0) {
        SSL_CTX_set_min_proto_version(ctx, o->version);
        SSL_CTX_set_max_proto_version(ctx, o->version);
    }
    if (o->alpn != NULL) {
        unsigned char wire[256];
        size_t n = strlen(o->alpn);
        wire[0] = (unsigned char)n;
        memcpy(wire + 1, o->alpn, n);
        ck_assert_int_eq(SSL_CTX_set_alpn_protos(ctx, wire, n + 1), 0);
    }
    if (o->cert != NULL) {
        ck_assert_int_eq(
            SSL_CTX_use_certificate_file(ctx, o->cert, SSL_FILETYPE_PEM), 1);
        ck_assert_int_eq(
            SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM), 1);
    }
    return ctx;
}

/* Connects and tries the handshake (c->ok says whether it completed),
 * checking the server's certificate for the SNI name. */
static tclient_t *tls_try(const topts_t *o)
{
    const char *name = o->sni != NULL ? o->sni : "localhost";
    long long deadline = now_ms() + WAIT_MS;
    tclient_t *c;

    ck_assert(nclients < (int)(sizeof(clients) / sizeof(clients[0])));
    c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    clients[nclients++] = c;
    c->fd = wt_connect(o->port ? o->port : port(), WAIT_MS);
    ck_assert_msg(c->fd >= 0, "cannot connect");
    set_tick(c->fd);
    our_address(c->fd, c->remote, sizeof(c->remote));
    c->ctx = client_ctx(o);
    c->ssl = SSL_new(c->ctx);
    ck_assert_ptr_nonnull(c->ssl);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, name);
    SSL_set1_host(c->ssl, name);
    for (;;) {
        int rc = SSL_connect(c->ssl), err;
        if (rc == 1) {
            c->ok = 1;
            break;
        }
        err = SSL_get_error(c->ssl, rc);
        if ((err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) ||
            now_ms() >= deadline)
            break;
    }
    ERR_clear_error();
    return c;
}

static tclient_t *tls_open(const topts_t *o)
{
    tclient_t *c = tls_try(o);

    ck_assert_msg(c->ok, "TLS handshake failed (sni %s)",
                  o->sni ? o->sni : "localhost");
    return c;
}

static tclient_t *tls_default(void)
{
    topts_t o = { 0 };

    return tls_open(&o);
}

static void tls_send(tclient_t *c, const char *s)
{
    size_t n = strlen(s), off = 0;
    long long deadline = now_ms() + WAIT_MS;

    while (off < n) {
        size_t w = 0;
        int err;
        if (SSL_write_ex(c->ssl, s + off, n - off, &w) == 1) {
            off += w;
            continue;
        }
        err = SSL_get_error(c->ssl, 0);
        ck_assert_msg(
            (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) &&
                now_ms() < deadline,
            "TLS write failed (%d)", err);
    }
}

/* Waits (until deadline) for more bytes; 1 if some came, 0 on the end of
 * the stream or the deadline (c->eof tells which). */
static int recv_some(tclient_t *c, long long deadline)
{
    while (!c->eof && now_ms() < deadline) {
        size_t got = 0;
        int err;
        ck_assert_msg(c->len < sizeof(c->buf) - 1, "response too large");
        if (SSL_read_ex(c->ssl, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
                        &got) == 1) {
            c->len += got;
            c->buf[c->len] = '\0';
            return 1;
        }
        err = SSL_get_error(c->ssl, 0);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
            c->eof = 1; /* close_notify, FIN, reset or alert */
        ERR_clear_error();
    }
    return 0;
}

/* Reads until the buffer holds needle; asserts it does within WAIT_MS. */
static void recv_until(tclient_t *c, const char *needle)
{
    long long deadline = now_ms() + WAIT_MS;

    while (strstr(c->buf, needle) == NULL)
        ck_assert_msg(recv_some(c, deadline), "no '%s' (%s); got: %.400s",
                      needle, c->eof ? "closed" : "timed out", c->buf);
}

/* Reads to the end of the stream; asserts it comes within WAIT_MS. */
static void recv_to_end(tclient_t *c)
{
    long long deadline = now_ms() + WAIT_MS;

    while (recv_some(c, deadline))
        ;
    ck_assert_msg(c->eof, "the server kept the connection open; got: %.300s",
                  c->buf);
}

/* Asserts the server closes with nothing more sent. */
static void expect_close(tclient_t *c)
{
    recv_to_end(c);
    ck_assert_msg(c->len == 0, "%zu unexpected bytes before the close: %.200s",
                  c->len, c->buf);
}

/* The head with Date's value (the one thing that varies) as '*'. */
static char *mask_date(const char *raw, size_t n)
{
    char *head = wt_fmt("%.*s", (int)n, raw);
    char *d = strstr(head, "\r\nDate: "), *end;

    if (d != NULL && (end = strstr(d + 2, "\r\n")) != NULL) {
        d += 8;
        *d = '*';
        memmove(d + 1, end, strlen(end) + 1);
    }
    return head;
}

/* Reads one Content-Length response and consumes it (a pipelined one
 * after it stays); returns its body, and its masked head in *head. */
static char *read_response(tclient_t *c, char **head)
{
    long long deadline = now_ms() + WAIT_MS;
    const char *cl;
    char *end, *h, *body;
    size_t hlen, n;

    while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
        ck_assert_msg(recv_some(c, deadline),
                      "no response head (%s); got %zu bytes: %.300s",
                      c->eof ? "closed" : "timed out", c->len, c->buf);
    hlen = (size_t)(end + 4 - c->buf);
    h = mask_date(c->buf, hlen);
    cl = strstr(h, "\r\nContent-Length: ");
    ck_assert_msg(cl != NULL, "no Content-Length in %s", h);
    n = (size_t)strtoull(cl + 18, NULL, 10);
    while (c->len - hlen < n)
        ck_assert_msg(recv_some(c, deadline),
                      "body cut off at %zu of %zu bytes (%s)", c->len - hlen, n,
                      c->eof ? "closed" : "timed out");
    body = wt_fmt("%.*s", (int)n, c->buf + hlen);
    memmove(c->buf, c->buf + hlen + n, c->len - hlen - n + 1);
    c->len -= hlen + n;
    if (head != NULL)
        *head = h;
    return body;
}

/* Reads one chunked response and returns its decoded body. */
static char *read_chunked(tclient_t *c)
{
    long long deadline = now_ms() + WAIT_MS;
    char *end, *body = wt_fmt("%s", ""), *p;
    size_t blen = 0;

    while ((end = memmem(c->buf, c->len, "\r\n0\r\n\r\n", 7)) == NULL)
        ck_assert_msg(recv_some(c, deadline), "no last chunk (%s): %.300s",
                      c->eof ? "closed" : "timed out", c->buf);
    p = strstr(c->buf, "\r\n\r\n");
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(strstr(mask_date(c->buf, (size_t)(p - c->buf)),
                         "\r\nTransfer-Encoding: chunked") != NULL,
                  "not chunked: %.300s", c->buf);
    p += 4;
    for (;;) {
        char *data;
        size_t n = (size_t)strtoull(p, &data, 16);
        ck_assert_msg(strncmp(data, "\r\n", 2) == 0, "bad chunk at %.40s", p);
        if (n == 0)
            break;
        body = realloc(body, blen + n + 1);
        ck_assert_ptr_nonnull(body);
        memcpy(body + blen, data + 2, n);
        blen += n;
        body[blen] = '\0';
        p = data + 2 + n;
        ck_assert_msg(strncmp(p, "\r\n", 2) == 0, "chunk not ended");
        p += 2;
    }
    end += 7;
    memmove(c->buf, end, c->len - (size_t)(end - c->buf) + 1);
    c->len -= (size_t)(end - c->buf);
    return body;
}

/* Go's head for a testapp answer of n bytes. */
static char *head_text(size_t n)
{
    return wt_fmt("HTTP/1.1 200 OK\r\nContent-Type: " TEXT "\r\nDate: *\r\n"
                  "Content-Length: %zu\r\n\r\n",
                  n);
}

static void expect_response(tclient_t *c, const char *body)
{
    char *head, *got = read_response(c, &head);

    ck_assert_str_eq(head, head_text(strlen(body)));
    ck_assert_str_eq(got, body);
}

static char *get(tclient_t *c, const char *path)
{
    tls_send(c, wt_fmt("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path));
    return read_response(c, NULL);
}

/* GET /tlsinfo on a fresh connection made with o. */
static char *tlsinfo(const topts_t *o)
{
    return get(tls_open(o), "/tlsinfo");
}

/* ---- the event log (over TLS: the servers listen for nothing else) ------ */

static char *events_fetch(int clear)
{
    topts_t o = { 0 };
    tclient_t *c = tls_open(&o);
    char *body;

    tls_send(c, clear ? "GET /events?clear=1 HTTP/1.1\r\nHost: x\r\n"
                        "Connection: close\r\n\r\n"
                      : "GET /events HTTP/1.1\r\nHost: x\r\n"
                        "Connection: close\r\n\r\n");
    recv_to_end(c);
    body = strstr(c->buf, "\r\n\r\n");
    ck_assert_msg(body != NULL, "no /events answer: %.200s", c->buf);
    body = wt_fmt("%s", body + 4);
    /* These fetches would fill the client table in a long wait. */
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    close(c->fd);
    free(c);
    nclients--;
    return body;
}

static const char *tail(const char *ev)
{
    size_t n = strlen(ev);

    return n > 1500 ? ev + n - 1500 : ev;
}

static char *state_line(const tclient_t *c, const char *state)
{
    return wt_fmt("state %s %s\n", c->remote, state);
}

/* Polls the log until it holds needle (or timeout_ms passes); returns the
 * log and sets *took to the milliseconds it took (-1: never). */
static char *wait_event(const char *needle, int timeout_ms, long long *took)
{
    long long t0 = now_ms();
    char *ev;

    for (;;) {
        ev = events_fetch(0);
        if (strstr(ev, needle) != NULL) {
            if (took != NULL)
                *took = now_ms() - t0;
            return ev;
        }
        if (now_ms() - t0 >= timeout_ms)
            break;
        poll(NULL, 0, 20);
    }
    if (took != NULL)
        *took = -1;
    return ev;
}

static void wait_state(const tclient_t *c, const char *state)
{
    char *line = state_line(c, state);
    long long took;
    char *ev = wait_event(line, WAIT_MS, &took);

    ck_assert_msg(took >= 0, "no '%s' in the events:\n%s", line, tail(ev));
}

/* ---- real clients: curl and openssl s_client ------------------------------ */

/* curl --http1.1 for https://HOST:PORT/PATH, HOST resolved to loopback;
 * extra arguments (NULL-terminated) first.  Returns stdout; *status its
 * exit status. */
static char *curl(const char *host, const char *path, int *status,
                  const char *a1, const char *a2, const char *a3)
{
    const char *argv[20];
    wt_run_t r;
    int n = 0;

    argv[n++] = "/usr/bin/env";
    argv[n++] = "curl";
    argv[n++] = "-sS";
    argv[n++] = "--http1.1";
    argv[n++] = "--max-time";
    argv[n++] = "20";
    argv[n++] = "--cacert";
    argv[n++] = pem("ca.crt");
    argv[n++] = "--resolve";
    argv[n++] = wt_fmt("%s:%d:127.0.0.1", host, port());
    if (a1 != NULL)
        argv[n++] = a1;
    if (a2 != NULL)
        argv[n++] = a2;
    if (a3 != NULL)
        argv[n++] = a3;
    argv[n++] = wt_fmt("https://%s:%d%s", host, port(), path);
    argv[n] = NULL;
    ck_assert_int_eq(wt_run(&r, 30000, argv), 0);
    *status = r.status;
    if (r.status != 0)
        fprintf(stderr, "curl: %s\n", r.err);
    return r.out;
}

START_TEST(curl_hello)
{
    int st;
    char *out = curl("alpha.test", "/hello", &st, NULL, NULL, NULL);

    ck_assert_int_eq(st, 0);
    ck_assert_str_eq(out, "hello\n");
}
END_TEST

/* curl offers ALPN http/1.1 and sends SNI; weft_req_tls reports both. */
START_TEST(curl_tlsinfo)
{
    int st;
    char *out = curl("alpha.test", "/tlsinfo", &st, NULL, NULL, NULL);

    ck_assert_int_eq(st, 0);
    ck_assert_msg(strncmp(out, "version TLSv1.3\ncipher TLS_", 27) == 0,
                  "got:\n%s", out);
    ck_assert_msg(strstr(out, "\nsni alpha.test\nalpn http/1.1\npeer -\n"
                              "verified 0\npem no\n") != NULL,
                  "got:\n%s", out);
}
END_TEST

/* beta.test's certificate names only beta.test: curl verifies it, so
 * the server picked it by SNI. */
START_TEST(curl_sni_beta)
{
    int st;
    char *out = curl("beta.test", "/tlsinfo", &st, NULL, NULL, NULL);

    ck_assert_msg(st == 0, "curl refused the certificate for beta.test");
    ck_assert_msg(strstr(out, "\nsni beta.test\n") != NULL, "got:\n%s", out);
}
END_TEST

START_TEST(curl_tls12)
{
    int st;
    char *out =
        curl("alpha.test", "/tlsinfo", &st, "--tlsv1.2", "--tls-max", "1.2");

    ck_assert_int_eq(st, 0);
    ck_assert_msg(strncmp(out, "version TLSv1.2\n", 16) == 0, "got:\n%s", out);
}
END_TEST

/* openssl s_client, with each version, asking for beta.test. */
START_TEST(s_client_sni)
{
    static const char *const flags[] = { "-tls1_3", "-tls1_2" };
    static const char *const versions[] = { "version TLSv1.3\n",
                                            "version TLSv1.2\n" };
    const char *cmd =
        wt_fmt("printf 'GET /tlsinfo HTTP/1.1\\r\\nHost: beta.test\\r\\n"
               "Connection: close\\r\\n\\r\\n' | openssl s_client -connect "
               "127.0.0.1:%d -servername beta.test -verify_hostname beta.test "
               "-CAfile '%s' -verify_return_error -ign_eof %s 2>&1",
               port(), pem("ca.crt"), flags[_i]);
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    wt_run_t r;

    ck_assert_int_eq(wt_run(&r, 30000, argv), 0);
    ck_assert_msg(r.status == 0, "s_client failed:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "Verify return code: 0 (ok)") != NULL,
                  "s_client:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "HTTP/1.1 200 OK\r\n") != NULL, "s_client:\n%s",
                  r.out);
    ck_assert_msg(strstr(r.out, versions[_i]) != NULL, "s_client:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "\nsni beta.test\nalpn -\n") != NULL,
                  "s_client:\n%s", r.out);
}
END_TEST

/* ---- SNI from C ------------------------------------------------------------ */

/* Each name gets the certificate that names it (the client checks):
 * exact, wildcard, by the certificate's own names, and the default. */
START_TEST(sni_picks_certificate)
{
    static const char *const names[] = { "beta.test", "x.wild.test",
                                         "delta.test", "alpha.test",
                                         "localhost" };
    topts_t o = { 0 };
    char *info;

    o.sni = names[_i];
    info = tlsinfo(&o);
    ck_assert_msg(strstr(info, wt_fmt("\nsni %s\n", names[_i])) != NULL,
                  "got:\n%s", info);
}
END_TEST

/* A name nobody configured still gets the default pair (Go's first
 * certificate): the handshake completes, and the certificate is
 * alpha's (verifying it as alpha.test works, as nowhere.test fails). */
START_TEST(sni_unknown_gets_default)
{
    topts_t o = { 0 };
    tclient_t *c;
    X509 *x;

    o.sni = "nowhere.test";
    c = tls_try(&o);
    ck_assert_msg(!c->ok, "nowhere.test verified against a test certificate");
    o.sni = NULL;
    c = tls_open(&o);
    x = SSL_get1_peer_certificate(c->ssl);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(X509_check_host(x, "alpha.test", 0, 0, NULL), 1);
    X509_free(x);
}
END_TEST

/* ---- HTTP over TLS ------------------------------------------------------- */

START_TEST(keep_alive)
{
    tclient_t *c = tls_default();
    char *first = get(c, "/conn-id");

    ck_assert_str_eq(get(c, "/conn-id"), first);
    tls_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_response(c, "hello\n");
    tls_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    read_response(c, NULL);
    expect_close(c);
}
END_TEST

/* Three requests in one TLS record, three answers in order. */
START_TEST(pipelining)
{
    tclient_t *c = tls_default();

    tls_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /size?n=3 HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect_response(c, "hello\n");
    expect_response(c, "xxx");
    ck_assert_str_eq(read_response(c, NULL), "hello\n");
    expect_close(c);
}
END_TEST

/* How a client leaves: here while idle, below during a handler. */
enum { LEAVE_NOTIFY, LEAVE_FIN, LEAVE_RST };
static const char *const leave_names[] = { "close_notify alone",
                                           "FIN without close_notify",
                                           "reset" };

/*
 * Two requests in two records that reach the server in one segment, the
 * second bigger than what the keep-alive wait receives at once: the wait
 * hands OpenSSL the first record and part of the second, and both are
 * answered in order.
 */
START_TEST(records_in_one_segment)
{
    tclient_t *c = tls_default();
    char pad[6001];
    BIO *mem = BIO_new(BIO_s_mem());
    char *out;
    long n;

    /* A first exchange puts the server in its keep-alive wait. */
    ck_assert_str_eq(get(c, "/size?n=1"), "x");
    memset(pad, 'p', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    ck_assert_ptr_nonnull(mem);
    BIO_up_ref(mem);
    SSL_set0_wbio(c->ssl, mem);
    tls_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    tls_send(c, wt_fmt("GET /size?n=3 HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n"
                       "Connection: close\r\n\r\n",
                       pad));
    n = BIO_get_mem_data(mem, &out);
    ck_assert_int_gt(n, 6000);
    ck_assert_int_eq(wt_send(c->fd, out, (size_t)n), 0);
    BIO_free(mem);
    SSL_set0_wbio(c->ssl, BIO_new_socket(c->fd, BIO_NOCLOSE));
    expect_response(c, "hello\n");
    ck_assert_str_eq(read_response(c, NULL), "xxx");
    expect_close(c);
}
END_TEST

/* The keep-alive wait ends when the client leaves (close_notify, FIN or
 * reset), and the connection closes. */
START_TEST(leave_while_idle)
{
    int how = _i;
    tclient_t *c;

    events_fetch(1);
    c = tls_default();
    ck_assert_str_eq(get(c, "/size?n=1"), "x");
    wait_state(c, "idle");
    if (how == LEAVE_NOTIFY) {
        ck_assert_int_ge(SSL_shutdown(c->ssl), 0);
    } else if (how == LEAVE_FIN) {
        ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
    } else {
        struct linger lg = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(c->fd);
        c->fd = -1;
    }
    wait_state(c, "closed");
}
END_TEST

/* IdleTimeout over TLS: the connection closes once the keep-alive wait
 * has lasted it, not before. */
START_TEST(idle_timeout)
{
    topts_t o = { 0 };
    tclient_t *c;
    long long t0, took;

    ck_assert_msg(wt_server_start(&tsrv, conf_with("IdleTimeout 300ms\n")) == 0,
                  "weftd did not start");
    o.port = tsrv.port;
    c = tls_open(&o);
    /* Before the request, so before the server's idle deadline starts. */
    t0 = now_ms();
    tls_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_response(c, "hello\n");
    expect_close(c);
    took = now_ms() - t0;
    ck_assert_msg(took >= 300, "closed %lld ms after the request", took);
    ck_assert_int_eq(wt_server_stop(&tsrv, SIGTERM, WAIT_MS), 0);
}
END_TEST

/* Bodies larger than a record, both ways. */
START_TEST(large_bodies)
{
    tclient_t *c = tls_default();
    size_t n = 150000, i;
    char *body = malloc(n + 1), *got;

    ck_assert_ptr_nonnull(body);
    for (i = 0; i < n; i++)
        body[i] = (char)('a' + i % 26);
    body[n] = '\0';
    tls_send(c, wt_fmt("POST /echo HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: %zu\r\n\r\n",
                       n));
    tls_send(c, body);
    got = read_chunked(c);
    ck_assert_uint_eq(strlen(got), n);
    ck_assert_msg(strcmp(got, body) == 0, "the echo differs");
    free(body);
    free(got);
    /* /size writes 1000 bytes at a time: many chunks, many records. */
    tls_send(c, "GET /size?n=100000 HTTP/1.1\r\nHost: x\r\n\r\n");
    got = read_chunked(c);
    ck_assert_uint_eq(strlen(got), 100000);
    ck_assert_uint_eq(strspn(got, "x"), 100000);
    free(got);
    /* The connection is still good for another request. */
    tls_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_response(c, "hello\n");
}
END_TEST

/*
 * Hijack hands over the TLS stream: the 101 and the echo come back
 * encrypted, the bytes that came with the request first.
 */
START_TEST(hijack_over_tls)
{
    tclient_t *c = tls_default();
    char *ev;

    tls_send(c, "GET /hijack HTTP/1.1\r\nHost: x\r\n\r\nearly;");
    recv_until(c, "\r\n\r\nearly;");
    ck_assert_str_eq(c->buf, HEAD_101 "early;");
    c->len = 0;
    c->buf[0] = '\0';
    tls_send(c, "ping over tls");
    recv_until(c, "ping over tls");
    ck_assert_str_eq(c->buf, "ping over tls");
    SSL_shutdown(c->ssl); /* close_notify: the echo loop reads EOF */
    c->len = 0;
    c->buf[0] = '\0';
    recv_to_end(c);
    ck_assert_uint_eq(c->len, 0);
    ev = events_fetch(0);
    ck_assert_msg(strstr(ev, state_line(c, "hijacked")) != NULL, "events:\n%s",
                  tail(ev));
}
END_TEST

/* ---- plain HTTP to the TLS port ------------------------------------------- */

/* Go's tlsRecordHeaderLooksLikeHTTP prefixes: its exact 400, no TLS
 * alert before it, then the close. */
START_TEST(plain_http_gets_400)
{
    static const char *const reqs[] = {
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    char *out = wt_request(port(), reqs[_i], WAIT_MS);
    char *log;

    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, PLAIN_ANSWER);
    free(out);
    ck_assert_msg(wt_server_wait_log(&srv,
                                     "client sent an HTTP request to an "
                                     "HTTPS server",
                                     WAIT_MS),
                  "no debug line");
    log = wt_server_log(&srv);
    ck_assert_msg(strstr(log, "TLS handshake error from 127.0.0.1:") != NULL,
                  "log:\n%s", log);
    free(log);
}
END_TEST

/* Not HTTP and not TLS: closed without the 400. */
START_TEST(garbage_is_closed)
{
    char *out = wt_request(port(), "hello there, server\r\n", WAIT_MS);

    ck_assert_ptr_nonnull(out);
    ck_assert_msg(strstr(out, "HTTP/") == NULL, "got: %s", out);
    free(out);
}
END_TEST

/* ---- ALPN ------------------------------------------------------------------ */

/*
 * The fixture claims weft-test/1 from process_connection: its line, then
 * its close.  The core marks the connection hijacked without running the
 * conn_state hook: the log shows "new" for it and nothing after.  Once
 * closed it counts nowhere (the claim once left the hijacked count at -1).
 */
START_TEST(alpn_claimed)
{
    topts_t o = { 0 };
    tclient_t *c;
    const unsigned char *proto;
    unsigned int len;
    char *ev, *prefix, *status;

    o.alpn = ALPN_PROTO;
    c = tls_open(&o);
    SSL_get0_alpn_selected(c->ssl, &proto, &len);
    ck_assert_uint_eq(len, strlen(ALPN_PROTO));
    ck_assert(memcmp(proto, ALPN_PROTO, len) == 0);
    recv_to_end(c);
    ck_assert_str_eq(c->buf, ALPN_ANSWER);
    ev = events_fetch(0);
    ck_assert_msg(strstr(ev, state_line(c, "new")) != NULL, "events:\n%s",
                  tail(ev));
    prefix = wt_fmt("state %s ", c->remote);
    ck_assert_msg(strstr(strstr(ev, prefix) + 1, prefix) == NULL,
                  "conn_state ran for a claimed connection:\n%s", tail(ev));
    /* The claim closed before the client saw EOF; the scrape itself is
     * the one active connection. */
    status = get(tls_default(), "/status");
    ck_assert_msg(strstr(status, "\nconnections_hijacked: 0\n") != NULL &&
                      strstr(status, "\nconnections_active: 1\n") != NULL,
                  "status after the claim:\n%s", status);
}
END_TEST

/* Offering http/1.1 (or nothing) gets HTTP/1.1. */
START_TEST(alpn_http11)
{
    topts_t o = { 0 };
    tclient_t *c;
    const unsigned char *proto;
    unsigned int len;

    o.alpn = _i ? "http/1.1" : NULL;
    c = tls_open(&o);
    SSL_get0_alpn_selected(c->ssl, &proto, &len);
    ck_assert_uint_eq(len, _i ? 8 : 0);
    tls_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_response(c, "hello\n");
}
END_TEST

/* A protocol other than HTTP/1.x that nobody claims: Go's serve returns
 * and the connection closes, its conn_state hooks running (new, then
 * closed) as for any connection that never sent a request. */
START_TEST(alpn_unclaimed_closes)
{
    topts_t o = { 0 };
    tclient_t *c;
    char *ev;

    o.alpn = "unclaimed/1";
    c = tls_open(&o);
    tls_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_close(c);
    wait_state(c, "closed");
    ev = events_fetch(0);
    ck_assert_msg(strstr(ev, state_line(c, "active")) == NULL,
                  "served over an unclaimed protocol:\n%s", tail(ev));
}
END_TEST

/* Go's negotiateALPN: no protocol in common fails the handshake. */
START_TEST(alpn_no_overlap)
{
    topts_t o = { 0 };
    tclient_t *c;

    o.alpn = "h2";
    c = tls_try(&o);
    if (c->ok) /* TLS 1.3 clients may see the alert on the first read */
        recv_to_end(c);
    ck_assert_msg(!c->ok || c->len == 0, "served: %.200s", c->buf);
}
END_TEST

/* ---- disconnects during a handler -------------------------------------- */

/*
 * The watcher's alive check over TLS: a close_notify with the TCP
 * connection left open (encrypted in TLS 1.3, so only OpenSSL can tell it
 * from data), a bare FIN, a reset: each cancels /wait.  Loop: the three
 * ways, in TLS 1.3 and then 1.2.
 */
START_TEST(cancel_on_leave)
{
    int how = _i % 3;
    topts_t o = { 0 };
    tclient_t *c;
    long long t0, took;
    char *ev;

    o.version = _i < 3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    ev = events_fetch(1);
    c = tls_open(&o);
    tls_send(c, wt_fmt("GET /wait?ms=%d HTTP/1.1\r\nHost: x\r\n\r\n", WAIT_MS));
    wait_state(c, "active");
    t0 = now_ms();
    if (how == LEAVE_NOTIFY) {
        ck_assert_int_ge(SSL_shutdown(c->ssl), 0);
    } else if (how == LEAVE_FIN) {
        ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
    } else {
        struct linger lg = { 1, 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(c->fd);
        c->fd = -1;
    }
    ev = wait_event(CANCEL_LINE, WAIT_MS, &took);
    ck_assert_msg(took >= 0, "no cancellation after a %s; events:\n%s",
                  leave_names[how], tail(ev));
    took = now_ms() - t0;
    ck_assert_msg(took < CANCEL_MS, "cancellation after a %s took %lld ms",
                  leave_names[how], took);
    wait_state(c, "closed");
}
END_TEST

/* A request pipelined while the handler runs is data, not a leave: /wait
 * runs its time, then both are answered. */
START_TEST(no_cancel_after_pipelined)
{
    tclient_t *c;
    char *ev;

    events_fetch(1);
    c = tls_default();
    tls_send(c, "GET /wait?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n");
    wait_state(c, "active");
    tls_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_response(c, "done\n");
    expect_response(c, "hello\n");
    ev = events_fetch(0);
    ck_assert_msg(strstr(ev, CANCEL_LINE) == NULL,
                  "cancelled despite the pipelined request:\n%s", tail(ev));
}
END_TEST

/* ---- handshake deadlines ---------------------------------------------------- */

/* A client that connects and says nothing (or half a record) is closed
 * at the handshake deadline; returns how long that took. */
static long long silent_client(const char *partial)
{
    int fd = wt_connect(port(), WAIT_MS);
    long long t0 = now_ms(), took;
    char buf[256];
    int closed = 0;

    ck_assert_int_ge(fd, 0);
    if (partial != NULL)
        ck_assert_int_eq(wt_send(fd, partial, 3), 0);
    wt_recv_all(fd, buf, sizeof(buf), WAIT_MS, &closed);
    took = now_ms() - t0;
    close(fd);
    ck_assert_msg(closed, "still open after %d ms", WAIT_MS);
    ck_assert_msg(wt_server_wait_log(&srv, ": timeout", WAIT_MS),
                  "no debug line for the timeout");
    return took;
}

/* TLSHandshakeTimeout 500ms, ReadHeaderTimeout 10s. */
START_TEST(handshake_timeout)
{
    long long took = silent_client(_i ? "\x16\x03\x01" : NULL);

    ck_assert_msg(took >= 450 && took < 5000,
                  "closed after %lld ms, not at 500 ms", took);
}
END_TEST

/* Go's rule: WriteTimeout 700ms is the smallest of the three. */
START_TEST(handshake_timeout_go_rule)
{
    long long took = silent_client(NULL);

    ck_assert_msg(took >= 650 && took < 3500,
                  "closed after %lld ms, not at 700 ms", took);
}
END_TEST

/* ---- versions and ciphers ------------------------------------------------- */

/* The server's one version and one cipher (the head of /tlsinfo), and
 * a handshake at the other version refused. */
static void only(const char *head, int other, const char *other_name)
{
    topts_t o = { 0 };
    char *info = tlsinfo(&o);

    ck_assert_msg(strncmp(info, head, strlen(head)) == 0, "got:\n%s", info);
    o.version = other;
    ck_assert_msg(!tls_try(&o)->ok, "a %s handshake succeeded", other_name);
}

/* TLSProtocols TLSv1.2 with one TLSCiphers suite. */
START_TEST(tls12_only)
{
    only("version TLSv1.2\ncipher ECDHE-ECDSA-CHACHA20-POLY1305\n",
         TLS1_3_VERSION, "TLS 1.3");
}
END_TEST

/* TLSProtocols TLSv1.3 with one TLSCipherSuites suite. */
START_TEST(tls13_only)
{
    only("version TLSv1.3\ncipher TLS_CHACHA20_POLY1305_SHA256\n",
         TLS1_2_VERSION, "TLS 1.2");
}
END_TEST

/* ---- client certificates ------------------------------------------------------ */

/* Whether a request on a connection made with o is served: a refused
 * certificate fails the handshake, or (TLS 1.3) the first read. */
static int served(const topts_t *o)
{
    tclient_t *c = tls_try(o);
    long long deadline = now_ms() + WAIT_MS;

    if (!c->ok)
        return 0;
    tls_send(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    while (strstr(c->buf, "hello\n") == NULL)
        if (!recv_some(c, deadline))
            return 0;
    return 1;
}

START_TEST(verify_require)
{
    topts_t o = { 0 };
    char *info;

    ck_assert_msg(!served(&o), "served a client with no certificate");
    o.cert = pem("rogue.crt");
    o.key = pem("rogue.key");
    ck_assert_msg(!served(&o), "served an unknown CA's certificate");
    o.cert = pem("client.crt");
    o.key = pem("client.key");
    info = tlsinfo(&o);
    ck_assert_msg(strstr(info, "\npeer CN=weft-client,O=weft\nverified 1\n"
                               "pem yes\n") != NULL,
                  "got:\n%s", info);
}
END_TEST

START_TEST(verify_optional)
{
    topts_t o = { 0 };
    char *info = tlsinfo(&o);

    ck_assert_msg(strstr(info, "\npeer -\nverified 0\npem no\n") != NULL,
                  "got:\n%s", info);
    o.cert = pem("client.crt");
    o.key = pem("client.key");
    info = tlsinfo(&o);
    ck_assert_msg(strstr(info, "\npeer CN=weft-client,O=weft\nverified 1\n") !=
                      NULL,
                  "got:\n%s", info);
}
END_TEST

/* ---- Shutdown with TLS connections ------------------------------------------ */

static int wait_exit(wt_server_t *s, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    int status;

    while (now_ms() < deadline) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        poll(NULL, 0, 5);
    }
    return -2;
}

/*
 * SIGTERM with one TLS connection idle and one in the middle of a
 * streamed response: the idle one is closed at once, the other gets the
 * rest of its response and then the close, and weftd exits 0.
 */
START_TEST(shutdown_idle_and_in_flight)
{
    topts_t o = { 0 };
    tclient_t *idle, *busy;
    int rc;

    ck_assert_msg(wt_server_start(&tsrv, conf_with("ShutdownTimeout 20s\n")) ==
                      0,
                  "weftd did not start");
    o.port = tsrv.port;
    idle = tls_open(&o);
    tls_send(idle, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_response(idle, "hello\n");
    busy = tls_open(&o);
    tls_send(busy, "GET /stream?n=2&delay=1000 HTTP/1.1\r\nHost: x\r\n\r\n");
    recv_until(busy, "chunk 0\n");

    ck_assert_int_eq(kill(tsrv.pid, SIGTERM), 0);
    expect_close(idle);
    recv_until(busy, "chunk 1\n\r\n0\r\n\r\n");
    recv_to_end(busy);
    rc = wait_exit(&tsrv, WAIT_MS);
    ck_assert_msg(rc == 0, "weftd: %d after SIGTERM; log:\n%s", rc,
                  wt_server_log(&tsrv));
}
END_TEST

/* ---- configuration ----------------------------------------------------------- */

/* weftd -t on a configuration: its exit status, and stderr in *err. */
static int check_conf(const char *body, char **conf_path, char **err)
{
    char *dir = wt_tmpdir();
    const char *argv[5];
    wt_run_t r;

    ck_assert_ptr_nonnull(dir);
    *conf_path = wt_write(dir, "weft.conf", body);
    argv[0] = wt_weftd();
    argv[1] = "-t";
    argv[2] = "-f";
    argv[3] = *conf_path;
    argv[4] = NULL;
    ck_assert_int_eq(wt_run(&r, 30000, argv), 0);
    *err = wt_fmt("%s%s", r.out, r.err);
    return r.status;
}

static char *tls_only(const char *directives)
{
    return wt_fmt("Listen 127.0.0.1:0 tls\nLoadModule tls_module %s\n%s",
                  wt_built("modules/.libs/mod_tls.so"), directives);
}

/* The wrong key for a certificate is refused at start, naming both. */
START_TEST(wrong_key_refused)
{
    char *conf, *err;
    int st = check_conf(tls_only(wt_fmt("TLSCertificateFile %s\n"
                                        "TLSCertificateKeyFile %s\n",
                                        pem("alpha.crt"), pem("beta.key"))),
                        &conf, &err);
    char *want = wt_fmt("%s:4: TLSCertificateKeyFile: key %s does not match "
                        "certificate %s",
                        conf, pem("beta.key"), pem("alpha.crt"));

    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(err, want) != NULL, "want %s\ngot %s", want, err);
}
END_TEST

START_TEST(wrong_servername_key_refused)
{
    char *conf, *err;
    int st = check_conf(tls_only(wt_fmt("TLSServerName beta.test %s %s\n",
                                        pem("beta.crt"), pem("gamma.key"))),
                        &conf, &err);
    char *want = wt_fmt("%s:3: TLSServerName: key %s does not match "
                        "certificate %s",
                        conf, pem("gamma.key"), pem("beta.crt"));

    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(err, want) != NULL, "want %s\ngot %s", want, err);
}
END_TEST

/* A normal start refuses the same file, and says why. */
START_TEST(wrong_key_stops_start)
{
    char *dir = wt_tmpdir();
    char *conf = wt_write(dir, "weft.conf",
                          tls_only(wt_fmt("TLSCertificateFile %s\n"
                                          "TLSCertificateKeyFile %s\n",
                                          pem("alpha.crt"), pem("beta.key"))));
    const char *argv[] = { wt_weftd(), "-f", conf, NULL };
    wt_run_t r;

    ck_assert_int_eq(wt_run(&r, 30000, argv), 0);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "does not match certificate") != NULL,
                  "stderr: %s", r.err);
}
END_TEST

/* Errors found after the files were read point at their line. */
START_TEST(config_errors)
{
    struct {
        const char *body;
        const char *want; /* after "CONF:" */
    } cases[] = {
        { "", "1: Listen: 127.0.0.1:0 tls needs a certificate" },
        { "TLSCertificateKeyFile /k\n",
          "3: TLSCertificateKeyFile: no TLSCertificateFile for this key" },
        { "TLSCertificateFile /nonexistent/c.pem\n",
          "3: TLSCertificateFile: cannot open certificate "
          "/nonexistent/c.pem: No such file or directory" },
        { "TLSServerName a.test /nonexistent/c.pem k\n",
          "3: TLSServerName: cannot open certificate" },
        { "TLSVerifyClient optional\n",
          "3: TLSVerifyClient: client verification needs "
          "TLSCACertificateFile" },
        { "TLSProtocols TLSv1.1\n",
          "3: TLSProtocols: unknown protocol 'TLSv1.1' (TLSv1.2 or "
          "TLSv1.3)" },
        { "TLSVerifyClient maybe\n", "3: TLSVerifyClient: unknown mode" },
        { "TLSServerName \"bad name\" c k\n",
          "3: TLSServerName: 'bad name' is not a host name" },
        { "TLSALPN h2 h2\n", "3: TLSALPN: h2 is listed twice" },
        { "TLSHandshakeTimeout soon\n", "3: TLSHandshakeTimeout:" },
    };
    char *conf, *err, *body;
    int st;

    body = wt_fmt("%s", cases[_i].body);
    if (_i == 4) /* certificates fine: the CA check is what fails */
        body = wt_fmt("%sTLSCertificateFile %s\nTLSCertificateKeyFile %s\n",
                      body, pem("alpha.crt"), pem("alpha.key"));
    st = check_conf(tls_only(body), &conf, &err);
    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(err, wt_fmt("%s:%s", conf, cases[_i].want)) != NULL,
                  "want %s:%s\ngot %s", conf, cases[_i].want, err);
}
END_TEST

/* Bad cipher strings are refused by OpenSSL at start, at their line. */
START_TEST(bad_ciphers)
{
    static const char *const names[] = { "TLSCiphers", "TLSCipherSuites" };
    char *conf, *err;
    int st = check_conf(
        tls_only(wt_fmt("TLSCertificateFile %s\n"
                        "TLSCertificateKeyFile %s\n"
                        "%s NO-SUCH-CIPHER\n",
                        pem("alpha.crt"), pem("alpha.key"), names[_i])),
        &conf, &err);

    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(err, wt_fmt("%s:5: %s: no usable", conf, names[_i])) !=
                      NULL,
                  "got %s", err);
}
END_TEST

/* The key may sit in the certificate file (no TLSCertificateKeyFile). */
START_TEST(key_in_certificate_file)
{
    char *dir = wt_tmpdir(), *both, *conf, *err;
    char *crt = wt_read(pem("alpha.crt"), NULL);
    char *key = wt_read(pem("alpha.key"), NULL);

    ck_assert_ptr_nonnull(crt);
    ck_assert_ptr_nonnull(key);
    both = wt_write(dir, "both.pem", wt_fmt("%s%s", crt, key));
    ck_assert_int_eq(
        check_conf(tls_only(wt_fmt("TLSCertificateFile %s\n", both)), &conf,
                   &err),
        0);
    ck_assert_int_eq(check_conf(tls_only(wt_fmt("TLSCertificateFile %s\n",
                                                pem("alpha.crt"))),
                                &conf, &err),
                     1);
    ck_assert_msg(strstr(err, "TLSCertificateFile: no private key in") != NULL,
                  "got %s", err);
}
END_TEST

/* The port of the `(tls)` listener in a server's log. */
static int tls_port(const wt_server_t *s)
{
    char *log = wt_server_log(s), *p, *line;
    int port = 0;

    ck_assert_ptr_nonnull(log);
    for (line = log; (p = strstr(line, "listening on ")) != NULL;
         line = p + 1) {
        char *end = strchr(p, '\n'), *colon;
        if (end == NULL || memmem(p, (size_t)(end - p), "(tls)", 5) == NULL)
            continue;
        colon = memrchr(p, ':', (size_t)(end - p));
        ck_assert_ptr_nonnull(colon);
        port = atoi(colon + 1);
        break;
    }
    free(log);
    ck_assert_msg(port > 0, "no tls listener in the log");
    return port;
}

/* Plain and TLS listeners side by side: only the tls one is mod_tls's,
 * and weft_req_tls is NULL on the other. */
START_TEST(plain_beside_tls)
{
    topts_t o = { 0 };
    char *out;

    ck_assert_msg(wt_server_start(&tsrv, wt_fmt("Listen 127.0.0.1:0\n%s",
                                                conf_with(""))) == 0,
                  "weftd did not start");
    out = wt_request(tsrv.port,
                     "GET /tlsinfo HTTP/1.1\r\nHost: x\r\n"
                     "Connection: close\r\n\r\n",
                     WAIT_MS);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(strstr(out, "\r\n\r\nplain\n") != NULL, "got %s", out);
    free(out);
    o.port = tls_port(&tsrv);
    ck_assert_msg(strncmp(tlsinfo(&o), "version TLSv1.3\n", 16) == 0,
                  "no TLS on the tls listener");
    ck_assert_int_eq(wt_server_stop(&tsrv, SIGTERM, WAIT_MS), 0);
}
END_TEST

/* Loaded with no directives (and no tls Listen), mod_tls changes nothing:
 * plain HTTP is served as before. */
START_TEST(unconfigured_changes_nothing)
{
    char *body = wt_fmt("LoadModule tls_module %s\nLoadModule testapp_module "
                        "%s\nHandler testapp\n",
                        wt_built("modules/.libs/mod_tls.so"), wt_testapp());
    char *out;

    ck_assert_msg(wt_server_start(&tsrv, body) == 0, "weftd did not start");
    out = wt_request(tsrv.port,
                     "GET /hello HTTP/1.1\r\nHost: x\r\n"
                     "Connection: close\r\n\r\n",
                     WAIT_MS);
    ck_assert_ptr_nonnull(out);
    ck_assert_msg(strstr(out, "HTTP/1.1 200 OK\r\n") == out &&
                      strstr(out, "\r\n\r\nhello\n") != NULL,
                  "got %s", out);
    free(out);
    ck_assert_int_eq(wt_server_stop(&tsrv, SIGTERM, WAIT_MS), 0);
}
END_TEST

/* ---- the suite ------------------------------------------------------------- */

static TCase *server_case(Suite *s, const char *name, void (*start)(void))
{
    TCase *tc = tcase_create(name);

    tcase_add_unchecked_fixture(tc, start, stop_srv);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("tls");
    TCase *tc;
    SRunner *sr;
    int failed;

    if (make_pki() != 0)
        fprintf(stderr, "test_tls: cannot make the test certificates\n");

    tc = server_case(s, "real clients", start_main);
    tcase_add_test(tc, curl_hello);
    tcase_add_test(tc, curl_tlsinfo);
    tcase_add_test(tc, curl_sni_beta);
    tcase_add_test(tc, curl_tls12);
    tcase_add_loop_test(tc, s_client_sni, 0, 2);

    tc = server_case(s, "https", start_main);
    tcase_add_loop_test(tc, sni_picks_certificate, 0, 5);
    tcase_add_test(tc, sni_unknown_gets_default);
    tcase_add_test(tc, keep_alive);
    tcase_add_test(tc, pipelining);
    tcase_add_test(tc, records_in_one_segment);
    tcase_add_loop_test(tc, leave_while_idle, 0, 3);
    tcase_add_test(tc, large_bodies);
    tcase_add_test(tc, hijack_over_tls);
    tcase_add_loop_test(tc, plain_http_gets_400, 0, 5);
    tcase_add_test(tc, garbage_is_closed);
    tcase_add_test(tc, alpn_claimed);
    tcase_add_loop_test(tc, alpn_http11, 0, 2);
    tcase_add_test(tc, alpn_unclaimed_closes);
    tcase_add_test(tc, alpn_no_overlap);

    tc = server_case(s, "MPM worker", start_worker);
    tcase_add_test(tc, keep_alive);
    tcase_add_test(tc, pipelining);
    tcase_add_test(tc, hijack_over_tls);
    tcase_add_test(tc, alpn_claimed);
    tcase_add_loop_test(tc, cancel_on_leave, 0, 6);

    tc = server_case(s, "disconnect", start_main);
    tcase_add_loop_test(tc, cancel_on_leave, 0, 6);
    tcase_add_test(tc, no_cancel_after_pipelined);

    tc = server_case(s, "handshake timeout", start_hs_timeout);
    tcase_add_loop_test(tc, handshake_timeout, 0, 2);
    tc = server_case(s, "handshake timeout, Go's rule", start_go_rule);
    tcase_add_test(tc, handshake_timeout_go_rule);

    tc = server_case(s, "TLS 1.2 only", start_tls12);
    tcase_add_test(tc, tls12_only);
    tc = server_case(s, "TLS 1.3 only", start_tls13);
    tcase_add_test(tc, tls13_only);

    tc = server_case(s, "client certificate required", start_require);
    tcase_add_test(tc, verify_require);
    tc = server_case(s, "client certificate optional", start_optional);
    tcase_add_test(tc, verify_optional);

    tc = tcase_create("shutdown");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, shutdown_idle_and_in_flight);
    tcase_add_test(tc, idle_timeout);

    tc = tcase_create("configuration");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, wrong_key_refused);
    tcase_add_test(tc, wrong_servername_key_refused);
    tcase_add_test(tc, wrong_key_stops_start);
    tcase_add_loop_test(tc, config_errors, 0, 10);
    tcase_add_loop_test(tc, bad_ciphers, 0, 2);
    tcase_add_test(tc, key_in_certificate_file);
    tcase_add_test(tc, unconfigured_changes_nothing);
    tcase_add_test(tc, plain_beside_tls);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    wt_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
