/*
 * mod_tls.c -- TLS for `Listen ... tls` (Go's ServeTLS): the module's
 * hooks.  test_config builds the OpenSSL contexts (so `weftd -t` checks
 * certificates and keys), pre_connection runs the handshake on the owner
 * thread and installs the TLS transport, process_connection closes a
 * connection whose ALPN protocol no module claimed (Go's TLSNextProto
 * lookup), and the weft_tls_conn_info optional function answers
 * weft_req_tls.
 */
#include "tls.h"

static int tls_test_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                           weft_server_t *s, const char **err)
{
    tls_config_t *cf = weft_module_config(s, &tls_module);
    const char *why = tls_config_build(cf, s, pconf);

    if (why != NULL) {
        *err = why;
        return WEFT_ERROR;
    }
    return cf->default_ctx != NULL ? WEFT_OK : WEFT_DECLINED;
}

/* Go's tlsHandshakeTimeout: the smallest non-zero of ReadHeaderTimeout,
 * ReadTimeout and WriteTimeout (0: none). */
static apr_interval_time_t go_handshake_timeout(const weft_core_config_t *cc)
{
    apr_interval_time_t v[3], best = 0;
    int i;

    v[0] = cc->read_header_timeout;
    v[1] = cc->read_timeout;
    v[2] = cc->write_timeout;
    for (i = 0; i < 3; i++)
        if (v[i] > 0 && (best == 0 || v[i] < best))
            best = v[i];
    return best;
}

static int tls_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                           weft_server_t *s)
{
    tls_config_t *cf = weft_module_config(s, &tls_module);
    const char *why = tls_config_build(cf, s, pconf);

    if (why != NULL) {
        weft_log_error(WEFT_LOG_ERR, 0, "%s", why);
        return WEFT_ERROR;
    }
    if (cf->default_ctx == NULL)
        return WEFT_DECLINED; /* not configured: nothing to do */
    cf->hs_timeout = cf->handshake_timeout >= 0
                         ? cf->handshake_timeout
                         : go_handshake_timeout(weft_server_config(s));
    if (tls_transport_init(pconf) != APR_SUCCESS) {
        weft_log_error(WEFT_LOG_ERR, APR_ENOMEM, "mod_tls: cannot start");
        return WEFT_ERROR;
    }
    weft_log(WEFT_LOG_INFO, 0,
             "mod_tls: %d certificate(s), handshake timeout %s, %s",
             cf->pairs->nelts, weft_format_duration(ptemp, cf->hs_timeout),
             OpenSSL_version(OPENSSL_VERSION));
    return WEFT_OK;
}

/* Only connections from a `Listen ... tls` line are ours. */
static int tls_pre_connection(weft_conn_t *c)
{
    const weft_listen_t *l = weft_conn_listen(c);
    const tls_config_t *cf;

    if (l == NULL || !l->tls)
        return WEFT_DECLINED;
    cf = weft_module_config(weft_conn_server(c), &tls_module);
    if (cf->default_ctx == NULL)
        return WEFT_ERROR; /* refused at start; cannot happen */
    return tls_handshake(c, cf);
}

/*
 * Last in line: a protocol other than HTTP/1.x was negotiated and no
 * module claimed it.  Go's serve returns (closing the connection, the
 * closed ConnState hook running); here the connection reads EOF, so the
 * core closes it the same way.
 */
static int tls_process_connection(weft_conn_t *c)
{
    const char *proto = tls_conn_alpn(c);

    if (tls_valid_next_proto(proto)) {
        weft_log(WEFT_LOG_DEBUG, 0, "%s: no module claimed ALPN protocol %s",
                 weft_conn_remote(c), proto);
        tls_conn_refuse(c);
    }
    return WEFT_DECLINED;
}

static void tls_register_hooks(apr_pool_t *p)
{
    weft_hook_test_config(tls_test_config, NULL, NULL, WEFT_HOOK_MIDDLE);
    weft_hook_post_config(tls_post_config, NULL, NULL, WEFT_HOOK_MIDDLE);
    /* The handshake comes before anything else reads the connection. */
    weft_hook_pre_connection(tls_pre_connection, NULL, NULL,
                             WEFT_HOOK_REALLY_FIRST);
    weft_hook_process_connection(tls_process_connection, NULL, NULL,
                                 WEFT_HOOK_REALLY_LAST);
    APR_REGISTER_OPTIONAL_FN(weft_tls_conn_info);
}

WEFT_DECLARE_MODULE(tls) = {
    WEFT_MODULE_HEADER, /* magic and ABI version */
    "tls",              /* name, for logs and hook ordering */
    tls_directives,     /* TLSCertificateFile, TLSServerName, ... */
    tls_create_config,  /* per-server tls_config_t */
    tls_register_hooks, /* test_config, post_config, pre/process_connection */
};
