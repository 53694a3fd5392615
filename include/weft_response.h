/*
 * weft_response.h -- the response writer (Go's http.ResponseWriter,
 * Flusher and Hijacker).  The handler's output is buffered up to
 * ResponseBufferSize before framing is decided: a handler that finishes
 * within it gets Content-Length; otherwise HTTP/1.1 gets chunked and
 * HTTP/1.0 a close-delimited body.  Owner thread only (the handler's).
 *
 * Content-Type: when the handler sets none and writes a body, the server
 * sniffs the first bytes it sends (up to 512) with Go's algorithm
 * (weft_detect_content_type): "text/plain; charset=utf-8" for text,
 * "text/html; charset=utf-8" for HTML, and so on; with no body, no
 * Content-Type is sent.  Set it yourself to skip the sniffing.
 */
#ifndef WEFT_RESPONSE_H
#define WEFT_RESPONSE_H

#include <apr_file_io.h>
#include <apr_tables.h>

#include "weft_common.h"
#include "weft_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The response header table (Go's w.Header()).  Changes after the final
 * status was written do not reach the wire, except trailers: a name listed
 * in a "Trailer" header (set before the status), or set afterwards as
 * "Trailer:NAME" (Go's TrailerPrefix), is sent after the last chunk.
 * Names are sent in Go's canonical form ("content-type" as
 * "Content-Type"); a name that is not a token is dropped and CR/LF in a
 * value become spaces, so a handler cannot forge header lines.
 */
WEFT_DECLARE(apr_table_t *) weft_rw_headers(weft_rw_t *w);

/*
 * Writes the status (Go's WriteHeader).  1xx codes other than 101 are
 * sent at once as interim responses with the headers set so far, and may
 * repeat (103 Early Hints); any other code is final and logical: it is
 * sent with the first body bytes or when the handler returns.  A second
 * final status is ignored (logged at debug level).  Codes outside 100-999
 * are refused with APR_EINVAL.
 */
WEFT_DECLARE(apr_status_t) weft_rw_write_header(weft_rw_t *w, int code);

/* Writes body bytes (status 200 first when none was written).
 * WEFT_ENOBODY after a 204 or 304 status, WEFT_ECONTENTLENGTH
 * past a declared Content-Length, WEFT_EHIJACKED after hijack; after a
 * failed write every later write reports the same error. */
WEFT_DECLARE(apr_status_t)
weft_rw_write(weft_rw_t *w, const void *data, apr_size_t n);
WEFT_DECLARE(apr_status_t) weft_rw_puts(weft_rw_t *w, const char *s);
WEFT_DECLARE(apr_status_t)
weft_rw_printf(weft_rw_t *w, const char *fmt, ...) WEFT_PRINTF(2, 3);

/*
 * Sends len bytes of f from offset as body (Go's ServeContent path through
 * io.Copy to a TCPConn's ReadFrom): with sendfile(2) where the transport
 * allows, under the write deadline, so a large file costs no user-space
 * copies.  Set Content-Length first for a length-framed response.  A file
 * that proves shorter than len ends the response and the connection
 * (WEFT_EFILESHRANK); the bytes sent before are correct.
 */
WEFT_DECLARE(apr_status_t)
weft_rw_send_file(weft_rw_t *w, apr_file_t *f, apr_off_t offset, apr_off_t len);

/* Sends what is buffered now (Go's Flush): the header if not yet sent,
 * then the buffered body as a chunk. */
WEFT_DECLARE(apr_status_t) weft_rw_flush(weft_rw_t *w);

/*
 * Hijack (Go's Hijacker): the handler takes the connection over.  What
 * the response already buffered is sent first; deadlines are cleared; the
 * connection leaves the server's live set (state hijacked) and the
 * disconnect watch, and the core never touches it again.  The handler
 * gets the transport and the bytes the server had read but not consumed
 * (pipelined data), and must call weft_hijack_close when done, from any
 * one thread.  Hijacking twice, or after the handler returned, fails with
 * WEFT_EHIJACKED.
 */
typedef struct weft_hijack_t {
    weft_transport_t *transport;
    const char *buffered; /* read but not consumed; valid until close */
    apr_size_t buffered_len;
    apr_pool_t *pool;  /* lives until weft_hijack_close */
    weft_conn_t *conn; /* identity only: its accessors still work */
} weft_hijack_t;
WEFT_DECLARE(apr_status_t) weft_rw_hijack(weft_rw_t *w, weft_hijack_t **out);
/* Closes the transport and frees the connection, h included. */
WEFT_DECLARE(void) weft_hijack_close(weft_hijack_t *h);

/*
 * Claims a connection for another protocol (Go's TLSNextProto), from a
 * process_connection hook on the owner thread, before any request was
 * read: like a hijack with no request.  The connection leaves the live set
 * and its state becomes hijacked WITHOUT running the conn_state hook (Go's
 * skipHooks); deadlines are cleared.  *out (transport, bytes already read:
 * usually none) belongs to the caller, who must end with weft_hijack_close
 * and may ask to be told of a shutdown with weft_hijack_on_shutdown.  The
 * hook then returns anything but WEFT_DECLINED.  Fails with
 * WEFT_EHIJACKED when the connection was already claimed or hijacked.
 */
WEFT_DECLARE(apr_status_t) weft_conn_claim(weft_conn_t *c, weft_hijack_t **out);

/*
 * Beyond Go (golang/go#17721): asks Shutdown to tell this connection's
 * owner and to wait for it.  When a graceful shutdown starts, fn(data)
 * runs once on the shutdown thread (at once if one already started); it
 * must not block, only ask the session to end (a WebSocket sends close
 * 1001 Going Away).  Shutdown then waits, within its deadline, for
 * weft_hijack_close; the Close that follows a missed deadline shuts the
 * socket.  Other hijacked connections are not waited for (Go).  Any
 * thread that owns h.
 */
WEFT_DECLARE(void)
weft_hijack_on_shutdown(weft_hijack_t *h, void (*fn)(void *data), void *data);

/*
 * Go's panic(http.ErrAbortHandler): nothing more is written, the
 * connection closes when the handler returns (a client reading a body
 * sees it cut short), and nothing is logged as an error.  Return from the
 * handler after calling it.
 */
WEFT_DECLARE(void) weft_rw_abort(weft_rw_t *w);

/* Go's http.Error: text/plain with X-Content-Type-Options: nosniff, the
 * status, then text and a newline. */
WEFT_DECLARE(void) weft_rw_error(weft_rw_t *w, int code, const char *text);

/*
 * Expect: 100-continue support (Go's writeContinueMu and canWriteContinue,
 * for a module such as mod_continue).  weft_rw_expect_continue arms it:
 * from then on, the first of these wins under one lock: the final status,
 * a body write, a flush or a hijack (the 100 is then never sent), or
 * weft_rw_send_continue, which writes "HTTP/1.1 100 Continue" and returns
 * 1 (0 when it is too late or already sent).  While armed, a response
 * whose request body was not read to its end closes the connection, since
 * the client may or may not send that body (Go's rule).
 */
WEFT_DECLARE(void) weft_rw_expect_continue(weft_rw_t *w);
WEFT_DECLARE(int) weft_rw_send_continue(weft_rw_t *w);

/* The status written so far (0 if none) and body bytes accepted. */
WEFT_DECLARE(int) weft_rw_status(const weft_rw_t *w);
WEFT_DECLARE(apr_off_t) weft_rw_written(const weft_rw_t *w);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_RESPONSE_H */
