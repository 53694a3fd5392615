/*
 * mux.h -- mod_mux's internals: Go 1.22+ ServeMux patterns (parsing,
 * precedence, conflicts), the routing tree and request routing.  Shared by
 * the module, tests/unit/test_mux.c and tests/bench/mux_bench.c; hidden.
 */
#ifndef MUX_H
#define MUX_H

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "weft.h"

#if defined(__GNUC__) && __GNUC__ >= 4
#define MUX_HIDDEN __attribute__((visibility("hidden")))
#else
#define MUX_HIDDEN
#endif

/* ---- patterns (mux_pattern.c) ------------------------------------------ */

/*
 * One piece of a pattern's path, as Go represents it: a literal (escapes
 * decoded), a single wildcard {s}, or a multi wildcard {s...}.  A trailing
 * slash is a multi wildcard with an empty name; "{$}" is the literal "/".
 */
typedef struct mux_segment_t {
    const char *s; /* literal bytes or wildcard name; NUL-terminated */
    apr_size_t len;
    int wild;
    int multi;
} mux_segment_t;

/* A parsed pattern.  Immutable once registered: any thread may read it. */
typedef struct mux_pattern_t {
    const char *str;    /* as written */
    const char *method; /* "" matches every method */
    const char *host;   /* "" matches every host */
    const mux_segment_t *segs;
    int nsegs;          /* at least 1 */
    int nnames;         /* named wildcards: the values a match yields */
    const char **names; /* their names, in pattern order */
    const char *loc;    /* where it was registered ("FILE:LINE") */
    weft_handler_fn *handler;
} mux_pattern_t;

/* How two patterns relate: the requests p1 matches against p2's. */
typedef enum {
    MUX_EQUIVALENT,    /* both match the same requests */
    MUX_MORE_GENERAL,  /* p1 matches everything p2 does, and more */
    MUX_MORE_SPECIFIC, /* p2 matches everything p1 does, and more */
    MUX_DISJOINT,      /* no request matches both */
    MUX_OVERLAPS       /* some request matches both; neither is wider */
} mux_rel_t;

/*
 * Go's parsePattern.  Returns NULL and sets *out (in p), or Go's reason the
 * pattern is invalid ("at offset 1: bad wildcard segment (must start with
 * '{')"), in p.
 */
MUX_HIDDEN const char *mux_pattern_parse(apr_pool_t *p, const char *s,
                                         mux_pattern_t **out);

MUX_HIDDEN mux_rel_t mux_compare_methods(const mux_pattern_t *p1,
                                         const mux_pattern_t *p2);
MUX_HIDDEN mux_rel_t mux_compare_paths(const mux_pattern_t *p1,
                                       const mux_pattern_t *p2);
/* Go's conflictsWith: a request both match, and neither wins. */
MUX_HIDDEN int mux_conflicts(const mux_pattern_t *p1, const mux_pattern_t *p2);
/* Go's describeConflict, its lines joined by spaces; in p. */
MUX_HIDDEN const char *mux_describe_conflict(apr_pool_t *p,
                                             const mux_pattern_t *p1,
                                             const mux_pattern_t *p2);
/* A path both overlapping patterns match, and one only p1 matches. */
MUX_HIDDEN const char *mux_common_path(apr_pool_t *p, const mux_pattern_t *p1,
                                       const mux_pattern_t *p2);
MUX_HIDDEN const char *mux_difference_path(apr_pool_t *p,
                                           const mux_pattern_t *p1,
                                           const mux_pattern_t *p2);
MUX_HIDDEN const char *mux_rel_name(mux_rel_t rel);

/* Go's %q (strconv.Quote) of s, in p. */
MUX_HIDDEN const char *mux_quote(apr_pool_t *p, const char *s);

/* ---- the mux: registration (mux_pattern.c), routing (mux_tree.c) ------- */

typedef struct mux_node_t mux_node_t;

/*
 * A ServeMux.  Built on one thread (registration is not locked); once the
 * last pattern is in, it is never written again, so any number of threads
 * may route with it at once.  Everything lives in pool.
 */
typedef struct mux_t {
    apr_pool_t *pool;
    mux_node_t *root;             /* the routing tree: host, method, segments */
    apr_hash_t *index;            /* Go's routingIndex: (position, literal) */
    apr_array_header_t *multis;   /* patterns ending in a multi wildcard */
    apr_array_header_t *patterns; /* every pattern, in registration order */
    int max_values;               /* most named wildcards of one pattern */
} mux_t;

MUX_HIDDEN mux_t *mux_create(apr_pool_t *p);

/*
 * Go's registerErr: parses pattern, checks it against those registered
 * (the index narrows the candidates, as Go's does) and adds it.  loc says
 * where it was written ("FILE:LINE"), for messages.  Returns NULL, or one
 * line saying why not, in the mux's pool:
 *   invalid pattern "P": at offset N: REASON
 *   pattern "P" (LOC) conflicts with pattern "Q" (LOC2): DESCRIPTION
 * On success *out (if not NULL) is the registered pattern.
 */
MUX_HIDDEN const char *mux_register(mux_t *m, const char *pattern,
                                    const char *loc, weft_handler_fn *handler,
                                    const mux_pattern_t **out);

/* The tree's half of registration (mux_tree.c). */
MUX_HIDDEN mux_node_t *mux_tree_create(apr_pool_t *p);
MUX_HIDDEN void mux_tree_add(apr_pool_t *p, mux_node_t *root,
                             const mux_pattern_t *pat);

/* A wildcard's match: bytes of the escaped path, decoded when read. */
typedef struct mux_span_t {
    const char *p;
    apr_size_t n;
} mux_span_t;

/*
 * Go's routingNode.match: the most specific pattern for host, method and
 * path (an escaped, rooted path), or NULL.  spans (room for the mux's
 * max_values) receive the wildcard values in pattern order, *nspans their
 * count.  Allocates from p only when the path holds escapes.
 */
MUX_HIDDEN const mux_pattern_t *mux_tree_match(const mux_t *m, apr_pool_t *p,
                                               const char *host,
                                               const char *method,
                                               const char *path,
                                               mux_span_t *spans, int *nspans);

/* Go's ServeMux.matchingMethods: the sorted methods that would match
 * host and path (or path + "/"), HEAD with GET, joined by ", "; "" if
 * none.  In p. */
MUX_HIDDEN const char *mux_allowed_methods(const mux_t *m, apr_pool_t *p,
                                           const char *host, const char *path);

/* What the mux decides for a request (Go's findHandler and ServeHTTP). */
typedef enum {
    MUX_FOUND,       /* call pattern->handler with values */
    MUX_REDIRECT,    /* 301 to location (http.Redirect) */
    MUX_NOT_ALLOWED, /* 405 with Allow: allow */
    MUX_NOT_FOUND,   /* 404 */
    MUX_BAD_REQUEST  /* the request-target "*": 400 */
} mux_outcome_t;

/* The parts of a request the mux reads (Go's Request fields). */
typedef struct mux_request_t {
    const char *method;
    const char *uri;      /* RequestURI: the target as sent */
    const char *host;     /* Request.Host */
    const char *url_host; /* URL.Host: the authority of a CONNECT */
    const char *path;     /* URL.Path: decoded */
    const char *raw_path; /* the path as sent, escapes intact */
    const char *query;    /* URL.RawQuery, or NULL */
} mux_request_t;

typedef struct mux_result_t {
    mux_outcome_t outcome;
    const mux_pattern_t *pattern; /* MUX_FOUND: the pattern that matched */
    const char **values;          /* MUX_FOUND: pattern->nnames values */
    const char *pattern_str;      /* Go's Request.Pattern ("" if none) */
    const char *location;         /* MUX_REDIRECT: the Location value */
    const char *allow;            /* MUX_NOT_ALLOWED: the Allow value */
} mux_result_t;

/* Routes one request.  Results live in p (the request pool). */
MUX_HIDDEN void mux_find(const mux_t *m, apr_pool_t *p, const mux_request_t *rq,
                         mux_result_t *res);

/* ---- paths and hosts (mux_tree.c) --------------------------------------- */

/* Go's cleanPath: rooted, no "//", "." or ".." element, a trailing slash
 * kept.  Returns path itself when it is already clean. */
MUX_HIDDEN const char *mux_clean_path(apr_pool_t *p, const char *path);
/* Go's stripHostPort: host without ":port" (unchanged if malformed). */
MUX_HIDDEN const char *mux_strip_host_port(apr_pool_t *p, const char *host);
/* Go's url.PathUnescape of n bytes, or the bytes as given when an escape
 * is bad; NUL-terminated in p, *len (if not NULL) its length. */
MUX_HIDDEN const char *mux_path_unescape(apr_pool_t *p, const char *s,
                                         apr_size_t n, apr_size_t *len);
/* Go's URL.EscapedPath() for the path as sent and its decoded form. */
MUX_HIDDEN const char *mux_escaped_path(apr_pool_t *p, const char *raw,
                                        const char *path);
/* Go's (&url.URL{Path: path, RawQuery: query}).String(). */
MUX_HIDDEN const char *mux_url_string(apr_pool_t *p, const char *path,
                                      const char *query);
/* The URL http.Redirect puts in Location for url (relative paths made
 * clean, as Go does before it escapes non-ASCII bytes). */
MUX_HIDDEN const char *mux_redirect_url(apr_pool_t *p, const char *url);
/* Go's htmlEscape, for the redirect body. */
MUX_HIDDEN const char *mux_html_escape(apr_pool_t *p, const char *s);

#endif /* MUX_H */
