/*
 * weft_http.h -- HTTP helpers a handler or module needs beside the
 * request and response objects: Go's status texts and Go's content-type
 * sniffing.
 */
#ifndef WEFT_HTTP_H
#define WEFT_HTTP_H

#include "weft_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Go's http.StatusText: the reason phrase for code ("OK", "Not Found",
 * "I'm a teapot"...), or NULL for a code Go does not name (the response
 * line then reads "NNN status code NNN", as Go writes it).
 */
WEFT_DECLARE(const char *) weft_status_text(int code);

/*
 * Go's hasToken: 1 when token (ASCII, compared case-insensitively) occurs
 * in a header value v with a space, comma, tab or an end of v on each
 * side ("Connection: keep-alive, Close", "Expect: foo 100-continue").
 */
WEFT_DECLARE(int) weft_has_token(const char *v, const char *token);

/* Go's bodyAllowedForStatus: 0 for 1xx, 204 and 304. */
WEFT_DECLARE(int) weft_status_allows_body(int code);

/*
 * Go's http.DetectContentType (the WHATWG MIME sniffing algorithm): looks
 * at no more than the first 512 bytes of data and returns a MIME type,
 * "application/octet-stream" when nothing more specific matches.  The
 * result is a static string.
 */
#define WEFT_SNIFF_LEN 512
WEFT_DECLARE(const char *)
weft_detect_content_type(const void *data, apr_size_t n);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_HTTP_H */
