/*
 * tls_config.c -- mod_tls's directives, and turning them into OpenSSL
 * contexts once the files are read: certificates and keys checked against
 * each other (so `weftd -t` refuses a wrong pair), protocol versions,
 * ciphers, client verification; SNI and ALPN selection (Go's
 * getCertificate and negotiateALPN).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls.h"

/* ---- directives --------------------------------------------------------- */

static tls_where_t where(const weft_cmd_t *cmd)
{
    tls_where_t w;

    w.file = cmd->file;
    w.line = cmd->line;
    return w;
}

static const char *resolve(const weft_cmd_t *cmd, const char *path)
{
    return weft_server_root_relative(cmd->pool, cmd->server, path);
}

void *tls_create_config(apr_pool_t *p, weft_server_t *s)
{
    tls_config_t *cf = apr_pcalloc(p, sizeof(*cf));

    cf->main.directive = "TLSCertificateFile";
    cf->named = apr_array_make(p, 2, sizeof(tls_pair_t));
    cf->handshake_timeout = -1;
    cf->verify = TLS_VERIFY_NONE;
    return cf;
}

static const char *set_cert(const weft_cmd_t *cmd, void *mconfig, int argc,
                            const char *const *argv)
{
    tls_config_t *cf = mconfig;

    cf->main.cert = resolve(cmd, argv[0]);
    cf->main.cert_at = where(cmd);
    return NULL;
}

static const char *set_key(const weft_cmd_t *cmd, void *mconfig, int argc,
                           const char *const *argv)
{
    tls_config_t *cf = mconfig;

    cf->main.key = resolve(cmd, argv[0]);
    cf->main.key_at = where(cmd);
    return NULL;
}

/* An SNI name as a certificate would carry it: a host name, optionally
 * with a leading "*." wildcard label. */
static int valid_name(const char *name)
{
    const char *p = strncmp(name, "*.", 2) == 0 ? name + 2 : name;

    if (*p == '\0' || strlen(name) > 253)
        return 0;
    for (; *p != '\0'; p++)
        if (!(apr_isalnum(*p) || *p == '-' || *p == '.' || *p == '_'))
            return 0;
    return 1;
}

static const char *add_server_name(const weft_cmd_t *cmd, void *mconfig,
                                   int argc, const char *const *argv)
{
    tls_config_t *cf = mconfig;
    tls_pair_t *pair;
    int i;

    if (!valid_name(argv[0]))
        return apr_psprintf(cmd->pool, "'%s' is not a host name (or *.domain)",
                            argv[0]);
    for (i = 0; i < cf->named->nelts; i++) {
        tls_pair_t *o = &APR_ARRAY_IDX(cf->named, i, tls_pair_t);
        if (strcasecmp(o->name, argv[0]) == 0)
            return apr_psprintf(cmd->pool, "%s is already given at %s:%u",
                                argv[0], o->cert_at.file, o->cert_at.line);
    }
    pair = apr_array_push(cf->named);
    memset(pair, 0, sizeof(*pair));
    pair->name = apr_pstrdup(cmd->pool, argv[0]);
    pair->cert = resolve(cmd, argv[1]);
    pair->key = resolve(cmd, argv[2]);
    pair->directive = "TLSServerName";
    pair->cert_at = pair->key_at = where(cmd);
    return NULL;
}

/* Only TLS 1.2 and 1.3: Go's servers refuse older versions by default,
 * and OpenSSL 3 needs its security level lowered for them. */
static const char *set_protocols(const weft_cmd_t *cmd, void *mconfig, int argc,
                                 const char *const *argv)
{
    tls_config_t *cf = mconfig;
    int i, lo = 0, hi = 0;

    for (i = 0; i < argc; i++) {
        int v;
        if (strcasecmp(argv[i], "TLSv1.2") == 0)
            v = TLS1_2_VERSION;
        else if (strcasecmp(argv[i], "TLSv1.3") == 0)
            v = TLS1_3_VERSION;
        else
            return apr_psprintf(cmd->pool,
                                "unknown protocol '%s' (TLSv1.2 or TLSv1.3)",
                                argv[i]);
        if (lo == 0 || v < lo)
            lo = v;
        if (v > hi)
            hi = v;
    }
    cf->proto_min = lo;
    cf->proto_max = hi;
    return NULL;
}

static const char *set_ciphers(const weft_cmd_t *cmd, void *mconfig, int argc,
                               const char *const *argv)
{
    tls_config_t *cf = mconfig;

    cf->ciphers = apr_pstrdup(cmd->pool, argv[0]);
    cf->ciphers_at = where(cmd);
    return NULL;
}

static const char *set_suites(const weft_cmd_t *cmd, void *mconfig, int argc,
                              const char *const *argv)
{
    tls_config_t *cf = mconfig;

    cf->suites = apr_pstrdup(cmd->pool, argv[0]);
    cf->suites_at = where(cmd);
    return NULL;
}

static const char *set_verify(const weft_cmd_t *cmd, void *mconfig, int argc,
                              const char *const *argv)
{
    tls_config_t *cf = mconfig;

    if (strcasecmp(argv[0], "none") == 0)
        cf->verify = TLS_VERIFY_NONE;
    else if (strcasecmp(argv[0], "optional") == 0)
        cf->verify = TLS_VERIFY_OPTIONAL;
    else if (strcasecmp(argv[0], "require") == 0)
        cf->verify = TLS_VERIFY_REQUIRE;
    else
        return apr_psprintf(cmd->pool,
                            "unknown mode '%s' (none, optional or require)",
                            argv[0]);
    cf->verify_at = where(cmd);
    return NULL;
}

static const char *set_ca(const weft_cmd_t *cmd, void *mconfig, int argc,
                          const char *const *argv)
{
    tls_config_t *cf = mconfig;

    cf->ca_file = resolve(cmd, argv[0]);
    cf->ca_at = where(cmd);
    return NULL;
}

static const char *set_alpn(const weft_cmd_t *cmd, void *mconfig, int argc,
                            const char *const *argv)
{
    tls_config_t *cf = mconfig;
    int i, j;

    cf->alpn = apr_array_make(cmd->pool, argc + 1, sizeof(const char *));
    for (i = 0; i < argc; i++) {
        apr_size_t n = strlen(argv[i]);
        if (n == 0 || n > 255)
            return apr_psprintf(
                cmd->pool, "'%s': a protocol name is 1 to 255 bytes", argv[i]);
        for (j = 0; j < i; j++)
            if (strcmp(argv[i], argv[j]) == 0)
                return apr_psprintf(cmd->pool, "%s is listed twice", argv[i]);
        APR_ARRAY_PUSH(cf->alpn, const char *) =
            apr_pstrdup(cmd->pool, argv[i]);
    }
    return NULL;
}

const weft_directive_t tls_directives[] = {
    WEFT_DIRECTIVE("TLSCertificateFile", WEFT_ARGS_ONE, set_cert,
                   "TLSCertificateFile PATH: the default certificate chain "
                   "(PEM, leaf first)"),
    WEFT_DIRECTIVE("TLSCertificateKeyFile", WEFT_ARGS_ONE, set_key,
                   "TLSCertificateKeyFile PATH: its private key (default: "
                   "in the certificate file)"),
    WEFT_DIRECTIVE("TLSServerName", WEFT_ARGS_THREE, add_server_name,
                   "TLSServerName NAME CERT KEY: the pair for clients asking "
                   "for NAME (SNI; *.domain allowed)"),
    WEFT_DIRECTIVE("TLSProtocols", WEFT_ARGS_LIST, set_protocols,
                   "TLSProtocols TLSv1.2 TLSv1.3: versions offered (default: "
                   "both)"),
    WEFT_DIRECTIVE("TLSCiphers", WEFT_ARGS_ONE, set_ciphers,
                   "TLSCiphers LIST: OpenSSL cipher list for TLS 1.2"),
    WEFT_DIRECTIVE("TLSCipherSuites", WEFT_ARGS_ONE, set_suites,
                   "TLSCipherSuites LIST: OpenSSL ciphersuites for TLS 1.3"),
    WEFT_DIRECTIVE_SLOT("TLSHandshakeTimeout", WEFT_ARGS_ONE, weft_set_duration,
                        tls_config_t, handshake_timeout,
                        "TLSHandshakeTimeout DUR: handshake deadline "
                        "(default: the smallest of ReadHeaderTimeout, "
                        "ReadTimeout, WriteTimeout)"),
    WEFT_DIRECTIVE("TLSVerifyClient", WEFT_ARGS_ONE, set_verify,
                   "TLSVerifyClient none|optional|require: client "
                   "certificates"),
    WEFT_DIRECTIVE("TLSCACertificateFile", WEFT_ARGS_ONE, set_ca,
                   "TLSCACertificateFile PATH: CAs client certificates must "
                   "chain to"),
    WEFT_DIRECTIVE("TLSALPN", WEFT_ARGS_LIST, set_alpn,
                   "TLSALPN PROTO...: ALPN protocols offered, preferred "
                   "first (http/1.1 is always offered)"),
    WEFT_DIRECTIVE_END,
};

/* ---- SNI and ALPN --------------------------------------------------------- */

/* A configured name against the client's: exact, or "*.rest" for one
 * more label, case-insensitively. */
static int name_matches(const char *pattern, const char *name)
{
    const char *dot;

    if (strcasecmp(pattern, name) == 0)
        return 1;
    if (strncmp(pattern, "*.", 2) != 0)
        return 0;
    dot = strchr(name, '.');
    return dot != NULL && dot != name && strcasecmp(dot + 1, pattern + 2) == 0;
}

const tls_pair_t *tls_config_pick(const tls_config_t *cf, const char *name)
{
    int i;

    for (i = 0; i < cf->pairs->nelts; i++) {
        const tls_pair_t *p = APR_ARRAY_IDX(cf->pairs, i, tls_pair_t *);
        if (p->name != NULL && name_matches(p->name, name))
            return p;
    }
    /* Go's getCertificate: the first certificate valid for the name. */
    for (i = 0; i < cf->pairs->nelts; i++) {
        const tls_pair_t *p = APR_ARRAY_IDX(cf->pairs, i, tls_pair_t *);
        if (X509_check_host(p->leaf, name, 0, 0, NULL) == 1)
            return p;
    }
    return APR_ARRAY_IDX(cf->pairs, 0, tls_pair_t *);
}

/* The servername callback, during the ClientHello: switch to the picked
 * pair's context (same settings, another certificate). */
static int sni_select(SSL *ssl, int *alert, void *arg)
{
    const tls_config_t *cf = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const tls_pair_t *p;

    if (name == NULL || cf->pairs->nelts < 2)
        return SSL_TLSEXT_ERR_OK;
    p = tls_config_pick(cf, name);
    if (p->ctx != SSL_get_SSL_CTX(ssl))
        SSL_set_SSL_CTX(ssl, p->ctx);
    return SSL_TLSEXT_ERR_OK;
}

/* Go's negotiateALPN: the server's order decides; no protocol in common
 * is a fatal no_application_protocol alert. */
static int alpn_select(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg)
{
    const tls_config_t *cf = arg;
    int i;

    for (i = 0; i < cf->alpn->nelts; i++) {
        const char *s = APR_ARRAY_IDX(cf->alpn, i, const char *);
        apr_size_t sl = strlen(s);
        unsigned int j = 0;
        while (j < inlen) {
            unsigned int l = in[j];
            if (j + 1 + l > inlen)
                break;
            if (l == sl && memcmp(in + j + 1, s, l) == 0) {
                *out = in + j + 1;
                *outlen = (unsigned char)l;
                return SSL_TLSEXT_ERR_OK;
            }
            j += 1 + l;
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int tls_valid_next_proto(const char *proto)
{
    return proto != NULL && proto[0] != '\0' &&
           strcmp(proto, "http/1.1") != 0 && strcmp(proto, "http/1.0") != 0;
}

/* ---- building the contexts ----------------------------------------------- */

/* OpenSSL's reason for the last failure, and a clean queue after it. */
static const char *ssl_reason(apr_pool_t *p)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

    ERR_clear_error();
    return apr_pstrdup(p, r != NULL ? r : "unknown error");
}

static const char *fail(apr_pool_t *p, tls_where_t at, const char *directive,
                        const char *msg)
{
    return weft_config_errorf(p, at.file, at.line, directive, "%s", msg);
}

/* A key file that asks for a passphrase is refused, not prompted for. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

static apr_status_t free_ctx(void *data)
{
    SSL_CTX_free(data);
    return APR_SUCCESS;
}

/* Can the file be opened at all: a clearer message than OpenSSL's. */
static const char *unreadable(apr_pool_t *p, const char *what, const char *path)
{
    FILE *f = fopen(path, "r");

    if (f != NULL) {
        fclose(f);
        return NULL;
    }
    return apr_psprintf(p, "cannot open %s %s: %s", what, path,
                        strerror(errno));
}

/* The settings every pair's context shares. */
static const char *ctx_settings(tls_config_t *cf, SSL_CTX *ctx, apr_pool_t *p)
{
    int mode;

    SSL_CTX_set_min_proto_version(ctx, cf->proto_min ? cf->proto_min
                                                     : TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, cf->proto_max ? cf->proto_max
                                                     : TLS1_3_VERSION);
    /* No renegotiation, the server's cipher order; a FIN without
     * close_notify reads as EOF, as in Go's crypto/tls. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
                                 | SSL_OP_IGNORE_UNEXPECTED_EOF
#endif
    );
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* Read whole socket buffers rather than a record header and then its
     * body: half the recv calls.  The transport answers for what OpenSSL
     * then holds (SSL_has_pending). */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"weft", 4);
    /* Resumption as Go's crypto/tls does it: by session ticket alone (one
     * per handshake), no server-side cache: nothing to lock, to grow, or
     * to sweep every 255 handshakes. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER |
                                            SSL_SESS_CACHE_NO_INTERNAL |
                                            SSL_SESS_CACHE_NO_AUTO_CLEAR);
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    SSL_CTX_set_tlsext_servername_callback(ctx, sni_select);
    SSL_CTX_set_tlsext_servername_arg(ctx, cf);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, cf);
    if (cf->ciphers != NULL && !SSL_CTX_set_cipher_list(ctx, cf->ciphers))
        return fail(p, cf->ciphers_at, "TLSCiphers",
                    apr_psprintf(p, "no usable cipher in '%s': %s", cf->ciphers,
                                 ssl_reason(p)));
    if (cf->suites != NULL && !SSL_CTX_set_ciphersuites(ctx, cf->suites))
        return fail(p, cf->suites_at, "TLSCipherSuites",
                    apr_psprintf(p, "no usable ciphersuite in '%s': %s",
                                 cf->suites, ssl_reason(p)));
    if (cf->verify == TLS_VERIFY_NONE)
        return NULL;
    mode = SSL_VERIFY_PEER;
    if (cf->verify == TLS_VERIFY_REQUIRE)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, NULL);
    if (SSL_CTX_load_verify_locations(ctx, cf->ca_file, NULL) != 1)
        return fail(p, cf->ca_at, "TLSCACertificateFile",
                    apr_psprintf(p, "cannot read CA certificates from %s: %s",
                                 cf->ca_file, ssl_reason(p)));
    SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(cf->ca_file));
    ERR_clear_error();
    return NULL;
}

/* The certificate chain, then the key checked against it. */
static const char *load_pair(tls_pair_t *pr, apr_pool_t *p)
{
    const char *key_directive = pr->name != NULL || pr->key_at.file == NULL
                                    ? pr->directive
                                    : "TLSCertificateKeyFile";
    tls_where_t key_at = pr->key_at.file != NULL ? pr->key_at : pr->cert_at;
    const char *key = pr->key != NULL ? pr->key : pr->cert;
    const char *why;
    EVP_PKEY *pkey;
    BIO *b;

    if ((why = unreadable(p, "certificate", pr->cert)) != NULL)
        return fail(p, pr->cert_at, pr->directive, why);
    if (SSL_CTX_use_certificate_chain_file(pr->ctx, pr->cert) != 1)
        return fail(p, pr->cert_at, pr->directive,
                    apr_psprintf(p, "cannot read certificate %s: %s", pr->cert,
                                 ssl_reason(p)));
    pr->leaf = SSL_CTX_get0_certificate(pr->ctx);
    if ((why = unreadable(p, "key", key)) != NULL)
        return fail(p, key_at, key_directive, why);
    b = BIO_new_file(key, "r");
    pkey = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)
                     : NULL;
    BIO_free(b);
    if (pkey == NULL) {
        if (pr->key == NULL)
            return fail(p, pr->cert_at, pr->directive,
                        apr_psprintf(p,
                                     "no private key in %s: add "
                                     "TLSCertificateKeyFile",
                                     pr->cert));
        return fail(p, key_at, key_directive,
                    apr_psprintf(p, "cannot read private key %s: %s", key,
                                 ssl_reason(p)));
    }
    if (X509_check_private_key(pr->leaf, pkey) != 1) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        return fail(p, key_at, key_directive,
                    apr_psprintf(p, "key %s does not match certificate %s", key,
                                 pr->cert));
    }
    SSL_CTX_use_PrivateKey(pr->ctx, pkey);
    EVP_PKEY_free(pkey);
    return NULL;
}

/* The first `Listen ... tls` line, or NULL. */
static const weft_listen_t *tls_listen(weft_server_t *s)
{
    const apr_array_header_t *ls = weft_server_config(s)->listens;
    int i;

    for (i = 0; ls != NULL && i < ls->nelts; i++)
        if (APR_ARRAY_IDX(ls, i, weft_listen_t).tls)
            return &APR_ARRAY_IDX(ls, i, weft_listen_t);
    return NULL;
}

/* What single directives could not check: pairs exist where TLS is
 * listened for, a key has a certificate, verification has its CAs. */
static const char *check_whole(tls_config_t *cf, weft_server_t *s,
                               apr_pool_t *p)
{
    const weft_listen_t *l = tls_listen(s);

    if (cf->main.key != NULL && cf->main.cert == NULL)
        return fail(p, cf->main.key_at, "TLSCertificateKeyFile",
                    "no TLSCertificateFile for this key");
    if (l != NULL && cf->main.cert == NULL && cf->named->nelts == 0)
        return weft_config_errorf(
            p, l->file, l->line, "Listen",
            "%s tls needs a certificate: add TLSCertificateFile and "
            "TLSCertificateKeyFile (or TLSServerName NAME CERT KEY)",
            l->text);
    if (cf->verify != TLS_VERIFY_NONE && cf->ca_file == NULL)
        return fail(p, cf->verify_at, "TLSVerifyClient",
                    "client verification needs TLSCACertificateFile");
    return NULL;
}

/* The ALPN list: TLSALPN's, with http/1.1 last unless listed (Go). */
static void finish_alpn(tls_config_t *cf, apr_pool_t *p)
{
    int i;

    if (cf->alpn == NULL)
        cf->alpn = apr_array_make(p, 1, sizeof(const char *));
    for (i = 0; i < cf->alpn->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(cf->alpn, i, const char *), "http/1.1") == 0)
            return;
    APR_ARRAY_PUSH(cf->alpn, const char *) = "http/1.1";
}

const char *tls_config_build(tls_config_t *cf, weft_server_t *s, apr_pool_t *p)
{
    const char *err;
    int i;

    if (cf->default_ctx != NULL)
        return NULL; /* built already */
    if ((err = check_whole(cf, s, p)) != NULL)
        return err;
    if (cf->main.cert == NULL && cf->named->nelts == 0)
        return NULL; /* nothing configured: the module does nothing */
    finish_alpn(cf, p);
    cf->pairs = apr_array_make(p, cf->named->nelts + 1, sizeof(tls_pair_t *));
    if (cf->main.cert != NULL)
        APR_ARRAY_PUSH(cf->pairs, tls_pair_t *) = &cf->main;
    for (i = 0; i < cf->named->nelts; i++)
        APR_ARRAY_PUSH(cf->pairs, tls_pair_t *) =
            &APR_ARRAY_IDX(cf->named, i, tls_pair_t);
    for (i = 0; i < cf->pairs->nelts; i++) {
        tls_pair_t *pr = APR_ARRAY_IDX(cf->pairs, i, tls_pair_t *);
        pr->ctx = SSL_CTX_new(TLS_server_method());
        if (pr->ctx == NULL)
            return fail(p, pr->cert_at, pr->directive,
                        apr_psprintf(p, "cannot create a TLS context: %s",
                                     ssl_reason(p)));
        apr_pool_cleanup_register(p, pr->ctx, free_ctx, apr_pool_cleanup_null);
        if ((err = ctx_settings(cf, pr->ctx, p)) != NULL ||
            (err = load_pair(pr, p)) != NULL)
            return err;
    }
    cf->default_ctx = APR_ARRAY_IDX(cf->pairs, 0, tls_pair_t *)->ctx;
    return NULL;
}
