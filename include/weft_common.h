/*
 * weft_common.h -- what every weft header needs: export control, version,
 * the hook/handler return codes, and the opaque types the API passes around.
 */
#ifndef WEFT_COMMON_H
#define WEFT_COMMON_H

#include <apr.h>
#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_time.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * WEFT_DECLARE(type) marks a function libweft exports.  libweft is built
 * with -fvisibility=hidden, so anything without it stays private.  Modules
 * build with the same header and see plain declarations.
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#define WEFT_DECLARE(type) __attribute__((visibility("default"))) type
#define WEFT_DECLARE_DATA __attribute__((visibility("default")))
#else
#define WEFT_DECLARE(type) type
#define WEFT_DECLARE_DATA
#endif

#if defined(__GNUC__)
#define WEFT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define WEFT_PRINTF(fmt, args)
#endif

#define WEFT_VERSION_MAJOR 0
#define WEFT_VERSION_MINOR 1
#define WEFT_VERSION_PATCH 0
#define WEFT_VERSION_STRING "0.1.0"

/*
 * Hook return codes.  RUN_ALL hooks go on while every function returns
 * WEFT_OK or WEFT_DECLINED and stop at anything else; RUN_FIRST hooks stop
 * at the first function that does not return WEFT_DECLINED.
 */
#define WEFT_OK 0
#define WEFT_DECLINED -1
#define WEFT_DONE -2  /* claimed, and nothing more is to be done */
#define WEFT_ERROR -3 /* failed; the caller stops what it was doing */

/* The opaque objects of the API.  Each is documented where it lives. */
typedef struct weft_server_t weft_server_t;
typedef struct weft_module_t weft_module_t;
typedef struct weft_directive_t weft_directive_t;
typedef struct weft_cmd_t weft_cmd_t;
typedef struct weft_conn_t weft_conn_t;
typedef struct weft_request_t weft_request_t;
typedef struct weft_rw_t weft_rw_t;
typedef struct weft_ctx_t weft_ctx_t;

/*
 * A request handler: Go's Handler.ServeHTTP(w, r).  It runs on the
 * connection's owner thread, reads the request through r and answers
 * through w; it returns when the response is complete.
 */
typedef void weft_handler_fn(weft_rw_t *w, weft_request_t *r);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_COMMON_H */
