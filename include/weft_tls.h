/*
 * weft_tls.h -- what a handler or a protocol module may learn about a TLS
 * connection (Go's Request.TLS, a tls.ConnectionState).  mod_tls provides
 * it as an APR optional function, so a module that includes this header
 * loads and runs whether mod_tls is loaded or not: without it, or on a
 * plain connection, the answer is NULL.
 */
#ifndef WEFT_TLS_H
#define WEFT_TLS_H

#include <apr_optional.h>

#include "weft_common.h"
#include "weft_request.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A TLS connection's state after its handshake.  Every string lives in the
 * connection's pool (valid until the connection closes, hijacked or not);
 * NULL means "none".  Owner thread only, like the connection it describes.
 */
typedef struct weft_tls_info_t {
    const char *version; /* "TLSv1.2", "TLSv1.3" (OpenSSL's names) */
    const char *cipher;  /* "TLS_AES_128_GCM_SHA256", "ECDHE-RSA-..." */
    const char *sni;     /* the server name the client asked for */
    const char *alpn;    /* the negotiated application protocol */
    /* The client's certificate (TLSVerifyClient optional|require): its
     * subject (RFC 2253, "CN=alice,O=Example"), PEM, and whether it
     * verified against TLSCACertificateFile. */
    const char *peer_subject;
    const char *peer_cert_pem;
    int peer_verified;
} weft_tls_info_t;

/* The optional function mod_tls registers (Go's conn.tlsState).  Returns
 * NULL for a connection that is not TLS.  The first call on a connection
 * builds the answer; later calls return the same struct. */
APR_DECLARE_OPTIONAL_FN(const weft_tls_info_t *, weft_tls_conn_info,
                        (weft_conn_t * c));

/* The TLS state of c, or NULL (plain connection, or mod_tls not loaded).
 * For a process_connection hook (ALPN: info->alpn) and for handlers. */
static inline const weft_tls_info_t *weft_conn_tls(weft_conn_t *c)
{
    APR_OPTIONAL_FN_TYPE(weft_tls_conn_info) *fn =
        APR_RETRIEVE_OPTIONAL_FN(weft_tls_conn_info);

    return fn != NULL ? fn(c) : NULL;
}

/* Go's r.TLS: the TLS state of the connection r arrived on, or NULL. */
static inline const weft_tls_info_t *weft_req_tls(const weft_request_t *r)
{
    return weft_conn_tls(weft_req_conn(r));
}

#ifdef __cplusplus
}
#endif

#endif /* WEFT_TLS_H */
