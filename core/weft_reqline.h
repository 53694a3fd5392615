/*
 * weft_reqline.h -- the request line and the syntax checks around it, as
 * Go's net/http does them (parseRequestLine, ParseHTTPVersion,
 * url.ParseRequestURI, httpguts): weft parses the request line itself
 * because llhttp accepts only the methods it knows, while Go takes any
 * token.  Pure functions; any thread.
 */
#ifndef WEFT_REQLINE_H
#define WEFT_REQLINE_H

#include "weft_common.h"

/* What a request line was refused for; each maps to Go's answer. */
typedef enum {
    WEFT_RL_OK = 0,
    WEFT_RL_MALFORMED,   /* 400: not "METHOD SP TARGET SP VERSION" */
    WEFT_RL_BAD_METHOD,  /* 400: method is not a token */
    WEFT_RL_BAD_VERSION, /* 400: not HTTP/D.D (Go: "malformed HTTP version") */
    WEFT_RL_UNSUPPORTED, /* 505: a version Go's HTTP/1 server refuses */
    WEFT_RL_BAD_TARGET   /* 400: url.ParseRequestURI would fail */
} weft_rl_error_t;

/*
 * A parsed request line.  Every string is NUL-terminated and allocated in
 * the pool given to weft_reqline_parse (or points into it).
 */
typedef struct weft_reqline_t {
    const char *method; /* as sent: any token */
    const char *target; /* the request-target exactly as sent */
    const char *proto;  /* as sent: "HTTP/1.1" */
    int major, minor;
    /* The target's parts (Go's *url.URL of Request.URL): */
    const char *scheme;   /* absolute-form only ("http"), else NULL */
    const char *host;     /* absolute-form or CONNECT authority, else NULL */
    const char *raw_path; /* escaped path as sent ("" for authority-form;
                             "*" for the asterisk form) */
    const char *path;     /* raw_path with %XX decoded */
    const char *query;    /* after '?', without it; NULL when no '?' */
    int asterisk;         /* target is "*" */
    int authority;        /* CONNECT host:port (authority-form) */
} weft_reqline_t;

/*
 * Parses one request line (without its CRLF) of len bytes.  Go's rules:
 * exactly two single spaces separate method, target and version; the
 * method is a token; the version is "HTTP/" DIGIT "." DIGIT (HTTP/1.x is
 * served, "PRI * HTTP/2.0" is accepted, anything else is 505); the target
 * is origin-form ("/..."), absolute-form ("scheme://host/..."), "*", or
 * for CONNECT authority-form; no control bytes; %XX escapes well formed.
 * Returns WEFT_RL_OK and fills rl, or the reason it was refused: rl is
 * then untouched, except for WEFT_RL_UNSUPPORTED, where the line is well
 * formed and rl is filled (only its version is refused).
 */
weft_rl_error_t weft_reqline_parse(apr_pool_t *p, const char *line,
                                   apr_size_t len, weft_reqline_t *rl);

/* RFC 9110 token (Go's httpguts.ValidHeaderFieldName / validMethod). */
int weft_token_valid(const char *s, apr_size_t n);
/* Go's httpguts.ValidHeaderFieldValue: no CTL but HTAB. */
int weft_field_value_valid(const char *s, apr_size_t n);
/* Go's httpguts.ValidHostHeader (an empty host is valid). */
int weft_host_valid(const char *s, apr_size_t n);

/*
 * Decodes %XX escapes of s into a new string in p (Go's url.PathUnescape
 * rules for paths: '+' stays '+').  Returns NULL when an escape is
 * malformed.
 */
char *weft_unescape(apr_pool_t *p, const char *s, apr_size_t n);

#endif /* WEFT_REQLINE_H */
