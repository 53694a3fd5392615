/*
 * weft_request_api.c -- the handler's view of a request (weft_request.h):
 * accessors, the lazily parsed query, and the router's pattern and path
 * values.
 */
#include <apr_lib.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "weft_engine.h"

WEFT_DECLARE(const char *) weft_req_method(const weft_request_t *r)
{
    return r->line.method;
}

WEFT_DECLARE(const char *) weft_req_uri(const weft_request_t *r)
{
    return r->line.target;
}

WEFT_DECLARE(const char *) weft_req_path(const weft_request_t *r)
{
    return r->line.path;
}

WEFT_DECLARE(const char *) weft_req_raw_path(const weft_request_t *r)
{
    return r->line.raw_path;
}

WEFT_DECLARE(const char *) weft_req_query(const weft_request_t *r)
{
    return r->line.query;
}

WEFT_DECLARE(const char *) weft_req_proto(const weft_request_t *r)
{
    return r->line.proto;
}

WEFT_DECLARE(int)
weft_req_proto_at_least(const weft_request_t *r, int major, int minor)
{
    return r->line.major > major ||
           (r->line.major == major && r->line.minor >= minor);
}

WEFT_DECLARE(const char *) weft_req_host(const weft_request_t *r)
{
    return r->host;
}

WEFT_DECLARE(const char *) weft_req_remote(const weft_request_t *r)
{
    return r->conn->remote;
}

WEFT_DECLARE(apr_table_t *) weft_req_headers(const weft_request_t *r)
{
    return r->headers;
}

WEFT_DECLARE(const char *)
weft_req_header(const weft_request_t *r, const char *name)
{
    return apr_table_get(r->headers, name);
}

WEFT_DECLARE(apr_off_t) weft_req_content_length(const weft_request_t *r)
{
    return r->content_length;
}

WEFT_DECLARE(int) weft_req_chunked(const weft_request_t *r)
{
    return r->chunked;
}

WEFT_DECLARE(weft_ctx_t *) weft_req_ctx(const weft_request_t *r)
{
    return weft_request_ctx((weft_request_t *)r);
}

WEFT_DECLARE(apr_pool_t *) weft_req_pool(const weft_request_t *r)
{
    return r->pool;
}

WEFT_DECLARE(weft_conn_t *) weft_req_conn(const weft_request_t *r)
{
    return r->conn;
}

WEFT_DECLARE(apr_time_t) weft_req_start(const weft_request_t *r)
{
    return r->start;
}

WEFT_DECLARE(int) weft_req_status(const weft_request_t *r)
{
    return r->rw.status;
}

WEFT_DECLARE(apr_off_t) weft_req_bytes_sent(const weft_request_t *r)
{
    return r->rw.body_sent;
}

WEFT_DECLARE(weft_rw_t *) weft_req_rw(weft_request_t *r)
{
    return &r->rw;
}

WEFT_DECLARE(weft_server_t *) weft_req_server(const weft_request_t *r)
{
    return r->server;
}

/* Go's url.QueryUnescape for one key or value: '+' is a space.  A bad
 * escape leaves the text as it is (Go drops the pair instead). */
static char *query_unescape(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *out = apr_palloc(p, n + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            *o++ = ' ';
        } else if (s[i] == '%' && i + 2 < n && apr_isxdigit(s[i + 1]) &&
                   apr_isxdigit(s[i + 2])) {
            char hex[3] = { s[i + 1], s[i + 2], 0 };
            *o++ = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

WEFT_DECLARE(const char *)
weft_req_query_value(weft_request_t *r, const char *name)
{
    const char *q = r->line.query;

    if (q == NULL)
        return NULL;
    if (r->query == NULL) {
        r->query = apr_table_make(r->pool, 4);
        while (*q != '\0') {
            const char *end = q + strcspn(q, "&"), *eq;
            eq = memchr(q, '=', (size_t)(end - q));
            /* Go 1.17+: ';' no longer separates, and a pair holding one is
             * dropped. */
            if (end > q && memchr(q, ';', (size_t)(end - q)) == NULL) {
                const char *kend = eq ? eq : end;
                char *k = query_unescape(r->pool, q, (apr_size_t)(kend - q));
                char *v = eq ? query_unescape(r->pool, eq + 1,
                                              (apr_size_t)(end - eq - 1))
                             : "";
                apr_table_addn(r->query, k, v);
            }
            q = *end ? end + 1 : end;
        }
    }
    return apr_table_get(r->query, name);
}

WEFT_DECLARE(const char *) weft_req_pattern(const weft_request_t *r)
{
    return r->pattern;
}

WEFT_DECLARE(const char *)
weft_req_path_value(const weft_request_t *r, const char *name)
{
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    int i;

    if (r->path_values == NULL || name == NULL)
        return NULL;
    /* Wildcard names are case-sensitive ({a} and {A} differ, as in Go);
     * apr_table_get is not. */
    arr = apr_table_elts(r->path_values);
    e = (const apr_table_entry_t *)arr->elts;
    for (i = 0; i < arr->nelts; i++)
        if (strcmp(e[i].key, name) == 0)
            return e[i].val;
    return NULL;
}

WEFT_DECLARE(const apr_table_t *) weft_req_path_values(const weft_request_t *r)
{
    return r->path_values;
}

WEFT_DECLARE(void)
weft_req_set_pattern(weft_request_t *r, const char *pattern, int n,
                     const char *const *names, const char *const *values)
{
    int i;

    r->pattern = apr_pstrdup(r->pool, pattern);
    r->path_values = apr_table_make(r->pool, n > 0 ? n : 1);
    for (i = 0; i < n; i++)
        apr_table_add(r->path_values, names[i], values[i]);
}
