/*
 * mod_continue.c -- Expect: 100-continue as a module (Go's
 * expectContinueReader): claims the expectation through the core's expect
 * hook and sends "HTTP/1.1 100 Continue" on the handler's first body
 * read, never once the final response has begun.
 */
#include <string.h>

#include "weft.h"

/* The body, as the handler reads it: the first read asks the client for
 * it (a no-op once the response has started or the 100 went out). */
static apr_status_t continue_read(weft_request_t *r, void *data, void *buf,
                                  apr_size_t *n)
{
    weft_rw_send_continue(weft_req_rw(r));
    return weft_req_body_read_raw(r, buf, n);
}

static int continue_expect(weft_request_t *r, const char *value)
{
    if (!weft_has_token(value, "100-continue"))
        return WEFT_DECLINED;
    /* Go: HTTP/1.0 clients' expectation is ignored, and a request with no
     * body needs no 100. */
    if (weft_req_proto_at_least(r, 1, 1) && weft_req_content_length(r) != 0) {
        weft_rw_expect_continue(weft_req_rw(r));
        weft_req_set_body_filter(r, continue_read, NULL);
    }
    return WEFT_OK;
}

static void continue_register_hooks(apr_pool_t *p)
{
    weft_hook_expect(continue_expect, NULL, NULL, WEFT_HOOK_MIDDLE);
}

WEFT_DECLARE_MODULE(continue) = {
    WEFT_MODULE_HEADER,      /* magic and ABI version */
    "continue",              /* name, for logs and hook ordering */
    NULL,                    /* no directives: loading it is enabling it */
    NULL,                    /* no per-server config */
    continue_register_hooks, /* the expect hook */
};
