/*
 * fixture_alpn.c -- a test module for mod_tls: claims connections that
 * negotiated the made-up ALPN protocol "weft-test/1" from
 * process_connection (Go's TLSNextProto), answers them with a fixed line
 * and closes; and registers the handler `tlsinfo`, which prints
 * weft_req_tls for /tlsinfo, hands /status to `status` (mod_status) and
 * every other path to `testapp`.
 */
#include <string.h>

#include "weft.h"
#include "weft_tls.h"

#define ALPN_PROTO "weft-test/1"
#define ALPN_ANSWER "weft-test/1 claimed\n"

/* Owns a claimed connection: one line out, then close. */
static int alpn_process_connection(weft_conn_t *c)
{
    const weft_tls_info_t *info = weft_conn_tls(c);
    weft_hijack_t *h;
    weft_transport_t *t;
    struct iovec iov;
    apr_size_t written;

    if (info == NULL || info->alpn == NULL ||
        strcmp(info->alpn, ALPN_PROTO) != 0)
        return WEFT_DECLINED;
    if (weft_conn_claim(c, &h) != APR_SUCCESS)
        return WEFT_DECLINED;
    t = h->transport;
    iov.iov_base = (void *)ALPN_ANSWER;
    iov.iov_len = sizeof(ALPN_ANSWER) - 1;
    t->ops->writev(t, &iov, 1, &written,
                   apr_time_now() + apr_time_from_sec(10));
    weft_hijack_close(h);
    return WEFT_DONE;
}

static const char *or_dash(const char *s)
{
    return s != NULL ? s : "-";
}

static void tlsinfo_handler(weft_rw_t *w, weft_request_t *r)
{
    const weft_tls_info_t *info;
    weft_handler_fn *next;

    if (strcmp(weft_req_path(r), "/tlsinfo") != 0) {
        next = weft_handler_find(
            strcmp(weft_req_path(r), "/status") == 0 ? "status" : "testapp");
        if (next != NULL)
            next(w, r);
        else
            weft_rw_error(w, 404, "404 page not found");
        return;
    }
    apr_table_set(weft_rw_headers(w), "Content-Type",
                  "text/plain; charset=utf-8");
    info = weft_req_tls(r);
    if (info == NULL) {
        weft_rw_puts(w, "plain\n");
        return;
    }
    weft_rw_printf(w, "version %s\ncipher %s\nsni %s\nalpn %s\n",
                   or_dash(info->version), or_dash(info->cipher),
                   or_dash(info->sni), or_dash(info->alpn));
    weft_rw_printf(w, "peer %s\nverified %d\npem %s\n",
                   or_dash(info->peer_subject), info->peer_verified,
                   info->peer_cert_pem != NULL &&
                           strncmp(info->peer_cert_pem,
                                   "-----BEGIN CERTIFICATE-----", 27) == 0
                       ? "yes"
                       : "no");
}

static void alpn_register_hooks(apr_pool_t *p)
{
    weft_hook_process_connection(alpn_process_connection, NULL, NULL,
                                 WEFT_HOOK_MIDDLE);
    weft_handler_register("tlsinfo", tlsinfo_handler);
}

WEFT_DECLARE_MODULE(alpn) = {
    WEFT_MODULE_HEADER,  /* magic and ABI version */
    "alpn",              /* name, for logs and hook ordering */
    NULL,                /* no directives */
    NULL,                /* no per-server config */
    alpn_register_hooks, /* process_connection, and the tlsinfo handler */
};
