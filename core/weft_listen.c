/*
 * weft_listen.c -- `Listen` addresses: parsing HOST:PORT (IPv4, [IPv6],
 * bare port) and binding the listening sockets at open.  Accepting on them
 * is the engine's (weft_accept.c).
 */
#include <apr_strings.h>
#include <string.h>

#include "weft_core.h"

/* Linux caps this at net.core.somaxconn. */
#define LISTEN_BACKLOG 4096

const char *weft_listen_parse(apr_pool_t *p, const char *text, weft_listen_t *l)
{
    char *host = NULL, *scope = NULL;
    apr_port_t port = 0;
    const char *s = text;
    apr_size_t n;

    if (s[0] == ':')
        s++; /* ":8080", as nginx and Go write "every address" */
    n = strlen(s);
    /* Port 0 asks the kernel for a free port (tests, like Go's httptest);
     * the start-up log names the port it got.  Only when written out:
     * "HOST:0".  apr_parse_addr_port refuses port 0, so parse HOST alone. */
    if (n > 2 && strcmp(s + n - 2, ":0") == 0) {
        if (apr_parse_addr_port(&host, &scope, &port,
                                apr_pstrmemdup(p, s, n - 2),
                                p) != APR_SUCCESS ||
            host == NULL || port != 0)
            return apr_psprintf(p, "'%s' is not HOST:PORT", text);
    } else if (apr_parse_addr_port(&host, &scope, &port, s, p) != APR_SUCCESS) {
        return apr_psprintf(p, "'%s' is not HOST:PORT", text);
    } else if (port == 0) {
        return apr_psprintf(p, "'%s' has no port (HOST:PORT)", text);
    }
    if (scope != NULL)
        return apr_psprintf(p,
                            "'%s': scoped IPv6 addresses are not "
                            "supported",
                            text);
    if (host != NULL && (strcmp(host, "*") == 0 || host[0] == '\0'))
        host = NULL;
    l->text = apr_pstrdup(p, text);
    l->host = host;
    l->port = port;
    return NULL;
}

static apr_status_t bind_one(weft_server_t *s, const weft_listen_t *l,
                             apr_socket_t **out)
{
    apr_sockaddr_t *sa;
    apr_socket_t *sock;
    apr_status_t rv;
    const char *host = l->host;
    apr_int32_t family = APR_UNSPEC;

#if APR_HAVE_IPV6
    if (host == NULL) {
        /* Every address: one dual-stack IPv6 socket, else IPv4. */
        host = "::";
        family = APR_INET6;
        rv = apr_sockaddr_info_get(&sa, host, family, l->port, 0, s->pool);
        if (rv == APR_SUCCESS &&
            apr_socket_create(&sock, sa->family, SOCK_STREAM, APR_PROTO_TCP,
                              s->pool) == APR_SUCCESS) {
            apr_socket_opt_set(sock, APR_IPV6_V6ONLY, 0);
            goto bind;
        }
        host = "0.0.0.0";
        family = APR_INET;
    }
#endif
    rv = apr_sockaddr_info_get(&sa, host, family, l->port, 0, s->pool);
    if (rv != APR_SUCCESS)
        return rv;
    rv = apr_socket_create(&sock, sa->family, SOCK_STREAM, APR_PROTO_TCP,
                           s->pool);
    if (rv != APR_SUCCESS)
        return rv;
#if APR_HAVE_IPV6
bind:
#endif
    apr_socket_opt_set(sock, APR_SO_REUSEADDR, 1);
    apr_socket_opt_set(sock, APR_TCP_NODELAY, 1);
    rv = apr_socket_bind(sock, sa);
    if (rv == APR_SUCCESS)
        rv = apr_socket_listen(sock, LISTEN_BACKLOG);
    if (rv != APR_SUCCESS) {
        apr_socket_close(sock);
        return rv;
    }
    *out = sock;
    return APR_SUCCESS;
}

apr_status_t weft_listen_open(weft_server_t *s, const char **err)
{
    weft_core_config_t *c = s->conf;
    int i;

    for (i = 0; i < c->listens->nelts; i++) {
        weft_listen_t *l = &APR_ARRAY_IDX(c->listens, i, weft_listen_t);
        apr_socket_t *sock;
        apr_status_t rv = bind_one(s, l, &sock);
        if (rv != APR_SUCCESS) {
            char e[128];
            *err = apr_psprintf(s->pool,
                                "%s:%u: Listen: cannot listen on "
                                "%s: %s",
                                l->file, l->line, l->text,
                                apr_strerror(rv, e, sizeof(e)));
            return rv;
        }
        APR_ARRAY_PUSH(s->listeners, apr_socket_t *) = sock;
    }
    return APR_SUCCESS;
}
