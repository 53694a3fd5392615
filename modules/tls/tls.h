/*
 * tls.h -- mod_tls's private interface: the module's configuration (the
 * directives' values, then the OpenSSL contexts built from them), and
 * what the module file, the configuration file and the transport share.
 */
#ifndef MOD_TLS_H
#define MOD_TLS_H

#include <openssl/ssl.h>

#include "weft.h"
#include "weft_tls.h"

/* Where a directive was written, for errors found after the files were
 * read ("FILE:LINE: DIRECTIVE: ..."). */
typedef struct tls_where_t {
    const char *file; /* NULL: the directive was not given */
    unsigned line;
} tls_where_t;

/* One certificate and its key: the default pair (TLSCertificateFile) or
 * one TLSServerName line.  Immutable once built. */
typedef struct tls_pair_t {
    const char *name; /* the SNI name it answers for; NULL: default pair */
    const char *cert; /* chain file, resolved against ServerRoot */
    const char *key;
    const char *directive; /* the directive errors are reported under */
    tls_where_t cert_at, key_at;
    SSL_CTX *ctx; /* built by tls_config_build */
    X509 *leaf;   /* the ctx's certificate (owned by ctx) */
} tls_pair_t;

#define TLS_VERIFY_NONE 0
#define TLS_VERIFY_OPTIONAL 1
#define TLS_VERIFY_REQUIRE 2

/*
 * The per-server configuration.  Written while the files are read and by
 * test_config/post_config on the main thread; immutable once the server
 * serves, so every thread reads it freely.
 */
typedef struct tls_config_t {
    /* TLSCertificateFile / TLSCertificateKeyFile */
    tls_pair_t main;
    /* TLSServerName NAME CERT KEY lines, in order (of tls_pair_t) */
    apr_array_header_t *named;
    int proto_min, proto_max; /* TLSProtocols; 0: TLS 1.2 to 1.3 */
    const char *ciphers;      /* TLSCiphers (TLS 1.2), NULL: OpenSSL's */
    const char *suites;       /* TLSCipherSuites (1.3), NULL: OpenSSL's */
    tls_where_t ciphers_at, suites_at;
    apr_interval_time_t handshake_timeout; /* -1: Go's rule */
    int verify;                            /* TLSVerifyClient */
    tls_where_t verify_at;
    const char *ca_file; /* TLSCACertificateFile */
    tls_where_t ca_at;
    /* TLSALPN, in the server's order of preference (http/1.1 added last
     * when missing, as Go's ServeTLS does) */
    apr_array_header_t *alpn;

    /* Built by tls_config_build (test_config): every pair with its own
     * SSL_CTX, the default first; SNI picks among them. */
    apr_array_header_t *pairs;      /* of tls_pair_t * */
    SSL_CTX *default_ctx;           /* NULL: no TLS configured */
    apr_interval_time_t hs_timeout; /* resolved at post_config; 0: none */
} tls_config_t;

/* The module (mod_tls.c), for weft_module_config. */
extern WEFT_DECLARE_MODULE(tls);

/* tls_config.c */
extern const weft_directive_t tls_directives[];
void *tls_create_config(apr_pool_t *p, weft_server_t *s);
/* Loads and checks certificates and settings into SSL contexts; NULL on
 * success, else a "FILE:LINE: DIRECTIVE: message" line in p. */
const char *tls_config_build(tls_config_t *cf, weft_server_t *s, apr_pool_t *p);
/* The pair for an SNI name (Go's getCertificate): a TLSServerName that
 * names it, else a certificate valid for it, else the default. */
const tls_pair_t *tls_config_pick(const tls_config_t *cf, const char *name);
/* Go's validNextProto: an ALPN protocol that is not HTTP/1.x. */
int tls_valid_next_proto(const char *proto);

/* tls_transport.c */
/* Process-wide set-up (the BIO method); main thread, before serving. */
apr_status_t tls_transport_init(apr_pool_t *pconf);
/* The handshake on the owner thread (pre_connection): installs the TLS
 * transport on c and runs the handshake under cf->hs_timeout.  WEFT_OK,
 * or WEFT_ERROR when the connection must close (logged at debug). */
int tls_handshake(weft_conn_t *c, const tls_config_t *cf);
/* The negotiated ALPN protocol of a TLS connection (NULL: none, or not
 * TLS); and making such a connection read EOF (an unclaimed protocol). */
const char *tls_conn_alpn(weft_conn_t *c);
void tls_conn_refuse(weft_conn_t *c);
/* The optional function behind weft_conn_tls / weft_req_tls. */
const weft_tls_info_t *weft_tls_conn_info(weft_conn_t *c);

#endif /* MOD_TLS_H */
