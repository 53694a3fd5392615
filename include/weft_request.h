/*
 * weft_request.h -- the request a handler serves (Go's *http.Request):
 * the request line's parts, headers, the body as a pull API, trailers,
 * the request context, and the mux's pattern and path values.  Every
 * function is for the handler's own thread (the connection's owner), and
 * every string lives in the request pool, cleared after the response.
 */
#ifndef WEFT_REQUEST_H
#define WEFT_REQUEST_H

#include <apr_tables.h>

#include "weft_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Errors the request and response APIs return (Go's sentinel errors). */
#define WEFT_EBODYCLOSED (APR_OS_START_USERERR + 1) /* ErrBodyReadAfterClose */
#define WEFT_EBADBODY (APR_OS_START_USERERR + 2)    /* malformed chunking */
#define WEFT_EBODYLIMIT (APR_OS_START_USERERR + 3)  /* trailers too large */
#define WEFT_EHIJACKED (APR_OS_START_USERERR + 4)   /* ErrHijacked */
#define WEFT_ENOBODY (APR_OS_START_USERERR + 5)     /* ErrBodyNotAllowed */
#define WEFT_ECONTENTLENGTH (APR_OS_START_USERERR + 6) /* ErrContentLength */
#define WEFT_EABORTED (APR_OS_START_USERERR + 7)       /* after weft_rw_abort */
#define WEFT_EUNEXPECTEDEOF (APR_OS_START_USERERR + 8) /* body cut short */
#define WEFT_EFILESHRANK (APR_OS_START_USERERR + 9)    /* weft_rw_send_file */

WEFT_DECLARE(const char *) weft_req_method(const weft_request_t *r);
/* The request-target exactly as sent (Go's RequestURI). */
WEFT_DECLARE(const char *) weft_req_uri(const weft_request_t *r);
/* The decoded path (Go's URL.Path); "*" for OPTIONS *; "" for CONNECT
 * host:port. */
WEFT_DECLARE(const char *) weft_req_path(const weft_request_t *r);
/* The path as sent, escapes intact (Go's URL.EscapedPath()). */
WEFT_DECLARE(const char *) weft_req_raw_path(const weft_request_t *r);
/* The query after '?', without it; NULL when the target had no '?'. */
WEFT_DECLARE(const char *) weft_req_query(const weft_request_t *r);
/* The first value of query parameter name, decoded ('+' is a space), or
 * NULL (Go's URL.Query().Get, which returns "" instead). */
WEFT_DECLARE(const char *)
weft_req_query_value(weft_request_t *r, const char *name);
/* "HTTP/1.1"; and its numbers. */
WEFT_DECLARE(const char *) weft_req_proto(const weft_request_t *r);
WEFT_DECLARE(int)
weft_req_proto_at_least(const weft_request_t *r, int major, int minor);
/* Go's Request.Host: the absolute-form target's host, else the Host
 * header ("" when there is none). */
WEFT_DECLARE(const char *) weft_req_host(const weft_request_t *r);
/* The client's "ip:port" (Go's RemoteAddr). */
WEFT_DECLARE(const char *) weft_req_remote(const weft_request_t *r);
/* Header fields in the order received, duplicates kept, names as sent;
 * lookups are case-insensitive.  Host and Transfer-Encoding are not in it
 * (Go removes them: see weft_req_host and weft_req_chunked). */
WEFT_DECLARE(apr_table_t *) weft_req_headers(const weft_request_t *r);
WEFT_DECLARE(const char *)
weft_req_header(const weft_request_t *r, const char *name);
/* Go's ContentLength: -1 when unknown (chunked), 0 when no body. */
WEFT_DECLARE(apr_off_t) weft_req_content_length(const weft_request_t *r);
WEFT_DECLARE(int) weft_req_chunked(const weft_request_t *r);
/* Trailer fields of a chunked body, once the body was read to its end. */
WEFT_DECLARE(apr_table_t *) weft_req_trailers(const weft_request_t *r);

/*
 * Reads at most *n bytes of the body into buf, waiting for at least one
 * (under ReadTimeout's deadline).  Sets *n.  APR_SUCCESS with *n > 0;
 * APR_EOF at the end of the body (*n may be 0); APR_TIMEUP when the read
 * deadline passed; WEFT_EBADBODY for malformed chunked framing;
 * WEFT_EBODYCLOSED after weft_req_body_close; another status when the
 * connection failed.  Memory stays bounded however large the body.
 */
WEFT_DECLARE(apr_status_t)
weft_req_body_read(weft_request_t *r, void *buf, apr_size_t *n);
/*
 * A body filter stands in front of weft_req_body_read (Go wraps
 * Request.Body the same way: expectContinueReader, MaxBytesReader).  fn
 * gets the caller's arguments and reads the real body with
 * weft_req_body_read_raw.  One filter per request; set it before the
 * handler runs (an expect or router hook).
 */
typedef apr_status_t weft_body_filter_fn(weft_request_t *r, void *data,
                                         void *buf, apr_size_t *n);
WEFT_DECLARE(void)
weft_req_set_body_filter(weft_request_t *r, weft_body_filter_fn *fn,
                         void *data);
WEFT_DECLARE(apr_status_t)
weft_req_body_read_raw(weft_request_t *r, void *buf, apr_size_t *n);
/* The request's response writer (for hooks that run before the handler). */
WEFT_DECLARE(weft_rw_t *) weft_req_rw(weft_request_t *r);

/* Closes the body: later reads return WEFT_EBODYCLOSED.  The server still
 * drains what is left (up to 256 KiB) to keep the connection. */
WEFT_DECLARE(void) weft_req_body_close(weft_request_t *r);

/* For logging (mostly once the response is done): when the request's
 * first byte was read, the final status sent (0 if none), and the body
 * bytes sent on the wire. */
WEFT_DECLARE(apr_time_t) weft_req_start(const weft_request_t *r);
WEFT_DECLARE(int) weft_req_status(const weft_request_t *r);
WEFT_DECLARE(apr_off_t) weft_req_bytes_sent(const weft_request_t *r);

/* The request context: cancelled when the client goes away, when the
 * connection ends, and after the handler returns.  Made on the first call
 * (any thread; a context first asked for after the handler returned is
 * cancelled already); NULL for a request that was refused unread. */
WEFT_DECLARE(weft_ctx_t *) weft_req_ctx(const weft_request_t *r);
WEFT_DECLARE(apr_pool_t *) weft_req_pool(const weft_request_t *r);
WEFT_DECLARE(weft_conn_t *) weft_req_conn(const weft_request_t *r);
WEFT_DECLARE(weft_server_t *) weft_req_server(const weft_request_t *r);

/*
 * The mux's results (Go's Request.Pattern and PathValue), in libweft so
 * any module can read them.  A router sets them with weft_req_set_pattern
 * (names and values: n strings each, copied into the request pool).
 */
WEFT_DECLARE(const char *) weft_req_pattern(const weft_request_t *r);
WEFT_DECLARE(const char *)
weft_req_path_value(const weft_request_t *r, const char *name);
/* Every path value, in the pattern's order (NULL before a router ran). */
WEFT_DECLARE(const apr_table_t *) weft_req_path_values(const weft_request_t *r);
WEFT_DECLARE(void)
weft_req_set_pattern(weft_request_t *r, const char *pattern, int n,
                     const char *const *names, const char *const *values);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_REQUEST_H */
