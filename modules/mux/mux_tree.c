/*
 * mux_tree.c -- Go's routing tree (net/http routing_tree.go) and the
 * request side of ServeMux (server.go's findHandler): host stripping, path
 * cleaning, the redirect order, 405 with Allow, and the URL helpers.
 */
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "mux.h"

/* Up to this many literal children are scanned; past it they are hashed,
 * so a lookup costs the same however many siblings a segment has. */
#define MUX_SCAN_MAX 8

/* Value spans kept on the stack; deeper patterns take them from the pool. */
#define MUX_STACK_SPANS 16

typedef struct mux_edge_t {
    const char *key; /* a host, a method or a literal segment */
    apr_size_t len;
    apr_uint32_t hash;
    mux_node_t *node;
} mux_edge_t;

/*
 * A node of the tree.  The root's children are hosts, theirs methods, and
 * below that one level per path segment.  Written only while patterns are
 * added (one thread, at start-up); read-only afterwards.
 */
struct mux_node_t {
    const mux_pattern_t *pattern; /* a pattern ends here */
    mux_edge_t *edges;            /* literal children, in insertion order */
    int nedges, cap;
    apr_uint32_t *slots; /* open addressing: edge index + 1, 0 for none */
    apr_uint32_t mask;   /* slots - 1; no table while nedges is small */
    mux_node_t *empty;   /* no host, no method, or a single wildcard */
    mux_node_t *multi;   /* a multi wildcard or a trailing slash */
};

/* ---- bytes and escapes -------------------------------------------------- */

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Go's url.PathUnescape into dst (n bytes of room): the length, or -1 for
 * a malformed escape. */
static apr_ssize_t unescape(char *dst, const char *s, apr_size_t n)
{
    apr_size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return -1;
            hi = unhex(s[i + 1]);
            lo = unhex(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            dst[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            dst[o++] = s[i];
        }
    }
    return (apr_ssize_t)o;
}

const char *mux_path_unescape(apr_pool_t *p, const char *s, apr_size_t n,
                              apr_size_t *len)
{
    char *d = apr_palloc(p, n + 1);
    apr_ssize_t dn = memchr(s, '%', n) ? unescape(d, s, n) : -1;

    if (dn < 0) {
        memcpy(d, s, n);
        dn = (apr_ssize_t)n;
    }
    d[dn] = '\0';
    if (len != NULL)
        *len = (apr_size_t)dn;
    return d;
}

/* Go's shouldEscape(c, encodePath). */
static int escape_in_path(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return 0;
    switch (c) {
    case '-':
    case '_':
    case '.':
    case '~':
    case '$':
    case '&':
    case '+':
    case ',':
    case '/':
    case ':':
    case ';':
    case '=':
    case '@':
        return 0;
    }
    return 1; /* '?' and everything else */
}

/* Go's validEncoded(s, encodePath): s is a path as Go would send it. */
static int valid_encoded(const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '!':
        case '$':
        case '&':
        case '\'':
        case '(':
        case ')':
        case '*':
        case '+':
        case ',':
        case ';':
        case '=':
        case ':':
        case '@':
        case '[':
        case ']':
        case '%':
            continue;
        }
        if (escape_in_path((unsigned char)*s))
            return 0;
    }
    return 1;
}

/* Go's escape(s, encodePath). */
static const char *escape_path(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t n = 0;
    const char *q;
    char *out, *o;

    for (q = s; *q != '\0'; q++)
        n += escape_in_path((unsigned char)*q) ? 3 : 1;
    if (n == (apr_size_t)(q - s))
        return s;
    o = out = apr_palloc(p, n + 1);
    for (q = s; *q != '\0'; q++) {
        unsigned char c = (unsigned char)*q;
        if (escape_in_path(c)) {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

const char *mux_escaped_path(apr_pool_t *p, const char *raw, const char *path)
{
    /* Go keeps the sent form when it is a valid encoding of the path (the
     * request parser saw to the second half), else escapes the path. */
    if (raw != NULL && valid_encoded(raw))
        return raw;
    return escape_path(p, path);
}

const char *mux_html_escape(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0;
    const char *q;
    char *out, *o;

    for (q = s; *q != '\0'; q++)
        n += strchr("&<>\"'", *q) != NULL ? 5 : 1;
    if (n == (apr_size_t)(q - s))
        return s;
    o = out = apr_palloc(p, n + 1);
    for (q = s; *q != '\0'; q++) {
        const char *rep = NULL;
        switch (*q) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&#34;"; /* shorter than &quot; */
            break;
        case '\'':
            rep = "&#39;";
            break;
        }
        if (rep != NULL) {
            memcpy(o, rep, strlen(rep));
            o += strlen(rep);
        } else {
            *o++ = *q;
        }
    }
    *o = '\0';
    return out;
}

/* ---- paths -------------------------------------------------------------- */

/* Go's path.Clean of n bytes of s, in p. */
static const char *path_clean(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *out = apr_palloc(p, n + 2);
    apr_size_t r = 0, w = 0, dotdot = 0;
    int rooted = n > 0 && s[0] == '/';

    if (n == 0)
        return ".";
    if (rooted) {
        out[w++] = '/';
        r = dotdot = 1;
    }
    while (r < n) {
        if (s[r] == '/') {
            r++;
        } else if (s[r] == '.' && (r + 1 == n || s[r + 1] == '/')) {
            r++;
        } else if (s[r] == '.' && s[r + 1] == '.' &&
                   (r + 2 == n || s[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                /* Back up over the last element. */
                w--;
                while (w > dotdot && out[w] != '/')
                    w--;
            } else if (!rooted) {
                if (w > 0)
                    out[w++] = '/';
                out[w++] = '.';
                out[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0))
                out[w++] = '/';
            for (; r < n && s[r] != '/'; r++)
                out[w++] = s[r];
        }
    }
    if (w == 0)
        return ".";
    out[w] = '\0';
    return out;
}

/* Whether cleanPath would return path unchanged: rooted, and no element
 * empty (but a final one: the trailing slash), "." or "..". */
static int is_clean(const char *path)
{
    const char *s = path;

    if (*s != '/')
        return 0;
    while (*s == '/') {
        const char *e = s + 1;
        apr_size_t n;
        while (*e != '\0' && *e != '/')
            e++;
        n = (apr_size_t)(e - s - 1);
        if ((n == 0 && *e != '\0') || (n == 1 && s[1] == '.') ||
            (n == 2 && s[1] == '.' && s[2] == '.'))
            return 0;
        s = e;
    }
    return 1;
}

const char *mux_clean_path(apr_pool_t *p, const char *path)
{
    apr_size_t n, cn;
    const char *rooted = path, *np;

    if (is_clean(path))
        return path;
    if (*path == '\0')
        return "/";
    if (*path != '/')
        rooted = apr_pstrcat(p, "/", path, NULL);
    n = strlen(rooted);
    np = path_clean(p, rooted, n);
    cn = strlen(np);
    /* path.Clean drops a trailing slash; put it back. */
    if (rooted[n - 1] == '/' && strcmp(np, "/") != 0) {
        if (n == cn + 1 && strncmp(rooted, np, cn) == 0)
            np = rooted;
        else
            np = apr_pstrcat(p, np, "/", NULL);
    }
    return strcmp(np, path) == 0 ? path : np;
}

/* Go's net.SplitHostPort, for its host: 0 when h is malformed. */
static int split_host(const char *h, const char **host, apr_size_t *len)
{
    const char *last = strrchr(h, ':'), *end;
    apr_size_t j = 0, k = 0;

    if (last == NULL)
        return 0;
    if (h[0] == '[') {
        end = strchr(h, ']');
        if (end == NULL || end + 1 != last)
            return 0; /* no ']', no port, or too many colons */
        *host = h + 1;
        *len = (apr_size_t)(end - h - 1);
        j = 1;
        k = (apr_size_t)(end - h) + 1;
    } else {
        *host = h;
        *len = (apr_size_t)(last - h);
        if (memchr(h, ':', *len) != NULL)
            return 0;
    }
    if (strchr(h + j, '[') != NULL || strchr(h + k, ']') != NULL)
        return 0;
    return 1;
}

const char *mux_strip_host_port(apr_pool_t *p, const char *h)
{
    const char *host;
    apr_size_t len;

    if (strchr(h, ':') == NULL || !split_host(h, &host, &len))
        return h;
    return apr_pstrmemdup(p, host, len);
}

const char *mux_url_string(apr_pool_t *p, const char *path, const char *query)
{
    const char *e = escape_path(p, path);

    /* A first segment holding ':' would read as a scheme: Go adds "./". */
    if (*e != '/' && *e != '\0') {
        const char *colon = strchr(e, ':'), *slash = strchr(e, '/');
        if (colon != NULL && (slash == NULL || colon < slash))
            e = apr_pstrcat(p, "./", e, NULL);
    }
    if (query != NULL && *query != '\0')
        return apr_pstrcat(p, e, "?", query, NULL);
    return e;
}

const char *mux_redirect_url(apr_pool_t *p, const char *url)
{
    apr_size_t plen = strcspn(url, "?#"), n;
    const char *q, *path;
    int trailing;

    /* url.Parse reads "//x" as an authority: Redirect leaves a URL with a
     * host (or one Parse refuses) as it is, and cleans the rest. */
    if (plen > 2 && url[0] == '/' && url[1] == '/' && url[2] != '/')
        return url;
    if (url[0] != '/')
        return url; /* the mux only makes rooted URLs */
    n = strcspn(url, "?");
    q = url + n;
    trailing = n > 0 && url[n - 1] == '/';
    path = path_clean(p, url, n);
    if (trailing && path[strlen(path) - 1] != '/')
        path = apr_pstrcat(p, path, "/", NULL);
    return apr_pstrcat(p, path, q, NULL);
}

/* ---- the tree ----------------------------------------------------------- */

static apr_uint32_t hash_key(const char *s, apr_size_t n)
{
    apr_uint32_t h = 2166136261u; /* FNV-1a */
    apr_size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

mux_node_t *mux_tree_create(apr_pool_t *p)
{
    return apr_pcalloc(p, sizeof(mux_node_t));
}

static mux_node_t *find_child(const mux_node_t *n, const char *key,
                              apr_size_t len)
{
    int i;

    if (n == NULL)
        return NULL;
    if (n->slots != NULL) {
        apr_uint32_t h = hash_key(key, len), s;
        for (s = h & n->mask;; s = (s + 1) & n->mask) {
            const mux_edge_t *e;
            if (n->slots[s] == 0)
                return NULL;
            e = &n->edges[n->slots[s] - 1];
            if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
                return e->node;
        }
    }
    for (i = 0; i < n->nedges; i++) {
        const mux_edge_t *e = &n->edges[i];
        if (e->len == len && memcmp(e->key, key, len) == 0)
            return e->node;
    }
    return NULL;
}

/* Rebuilds the hash table so it stays at most half full. */
static void rehash(apr_pool_t *p, mux_node_t *n)
{
    apr_uint32_t size = 16, i;

    while (size < (apr_uint32_t)n->nedges * 4)
        size *= 2;
    n->slots = apr_pcalloc(p, sizeof(*n->slots) * size);
    n->mask = size - 1;
    for (i = 0; i < (apr_uint32_t)n->nedges; i++) {
        apr_uint32_t s = n->edges[i].hash & n->mask;
        while (n->slots[s] != 0)
            s = (s + 1) & n->mask;
        n->slots[s] = i + 1;
    }
}

static mux_node_t *add_child(apr_pool_t *p, mux_node_t *n, const char *key,
                             apr_size_t len)
{
    mux_node_t *c = find_child(n, key, len);
    mux_edge_t *e;

    if (c != NULL)
        return c;
    if (n->nedges == n->cap) {
        /* The old array stays in the pool: the tree is built once. */
        mux_edge_t *ne;
        n->cap = n->cap ? n->cap * 2 : 4;
        ne = apr_palloc(p, sizeof(*ne) * (apr_size_t)n->cap);
        if (n->nedges > 0)
            memcpy(ne, n->edges, sizeof(*ne) * (apr_size_t)n->nedges);
        n->edges = ne;
    }
    c = mux_tree_create(p);
    e = &n->edges[n->nedges++];
    e->key = apr_pstrmemdup(p, key, len);
    e->len = len;
    e->hash = hash_key(key, len);
    e->node = c;
    if (n->nedges > MUX_SCAN_MAX &&
        (n->slots == NULL || (apr_uint32_t)n->nedges * 2 > n->mask + 1))
        rehash(p, n);
    else if (n->slots != NULL) {
        apr_uint32_t s = e->hash & n->mask;
        while (n->slots[s] != 0)
            s = (s + 1) & n->mask;
        n->slots[s] = (apr_uint32_t)n->nedges;
    }
    return c;
}

static mux_node_t *empty_child(apr_pool_t *p, mux_node_t *n)
{
    if (n->empty == NULL)
        n->empty = mux_tree_create(p);
    return n->empty;
}

/*
 * Go's addPattern.  One deliberate difference: Go files an empty literal
 * segment ("/a//b") under the single-wildcard key, where it routes as a
 * wildcard and can collide with one; here it is a literal.
 */
void mux_tree_add(apr_pool_t *p, mux_node_t *root, const mux_pattern_t *pat)
{
    mux_node_t *n;
    int i;

    n = *pat->host ? add_child(p, root, pat->host, strlen(pat->host))
                   : empty_child(p, root);
    n = *pat->method ? add_child(p, n, pat->method, strlen(pat->method))
                     : empty_child(p, n);
    for (i = 0; i < pat->nsegs; i++) {
        const mux_segment_t *g = &pat->segs[i];
        if (g->multi) {
            if (n->multi == NULL) {
                n->multi = mux_tree_create(p);
                n->multi->pattern = pat;
            }
            return;
        }
        n = g->wild ? empty_child(p, n) : add_child(p, n, g->s, g->len);
    }
    /* Registration refused every pattern equivalent to one already here. */
    if (n->pattern == NULL)
        n->pattern = pat;
}

/* One lookup's state: the path, its segments decoded in place, and the
 * wildcard values found so far. */
typedef struct {
    const char *base; /* the path being matched */
    char *scratch;    /* decoded segments at their offsets in base, or NULL
                         when base holds no escape */
    mux_span_t *spans;
    int n;
} match_t;

/*
 * Go's matchPath: a literal child first, then a single wildcard (never for
 * the trailing slash), then the multi wildcard; the order makes the most
 * specific pattern win, and registration guarantees the rest.  Recursion
 * goes no deeper than the tree.  On failure c->n is as it was.
 */
static const mux_node_t *match_path(const mux_node_t *n, match_t *c,
                                    const char *path, apr_size_t len)
{
    const char *seg, *body, *rest;
    apr_size_t seglen, blen, restlen;
    const mux_node_t *r;
    int saved = c->n;

    if (n == NULL)
        return NULL;
    if (len == 0)
        return n->pattern != NULL ? n : NULL;
    body = path + 1;
    if (len == 1) {
        seg = "/";
        seglen = 1;
        blen = restlen = 0;
        rest = body;
    } else {
        const char *slash = memchr(body, '/', len - 1);
        blen = slash != NULL ? (apr_size_t)(slash - body) : len - 1;
        rest = body + blen;
        restlen = len - 1 - blen;
        seg = body;
        seglen = blen;
        if (c->scratch != NULL && memchr(body, '%', blen) != NULL) {
            char *d = c->scratch + (body - c->base);
            apr_ssize_t dn = unescape(d, body, blen);
            if (dn >= 0) {
                seg = d;
                seglen = (apr_size_t)dn;
            }
        }
    }
    r = match_path(find_child(n, seg, seglen), c, rest, restlen);
    if (r != NULL)
        return r;
    if (n->empty != NULL && !(seglen == 1 && seg[0] == '/')) {
        c->spans[c->n].p = body;
        c->spans[c->n].n = blen;
        c->n++;
        r = match_path(n->empty, c, rest, restlen);
        if (r != NULL)
            return r;
        c->n = saved;
    }
    if (n->multi != NULL) {
        const mux_pattern_t *pat = n->multi->pattern;
        /* A trailing slash is a nameless multi: no value. */
        if (pat->segs[pat->nsegs - 1].len > 0) {
            c->spans[c->n].p = body;
            c->spans[c->n].n = len - 1;
            c->n++;
        }
        return n->multi;
    }
    return NULL;
}

/* Go's matchMethodAndPath: the exact method, then GET for HEAD, then the
 * patterns without a method. */
static const mux_node_t *match_method_and_path(const mux_node_t *n, match_t *c,
                                               const char *method,
                                               const char *path, apr_size_t len)
{
    const mux_node_t *r;

    if (n == NULL)
        return NULL;
    r = match_path(find_child(n, method, strlen(method)), c, path, len);
    if (r == NULL && strcmp(method, "HEAD") == 0)
        r = match_path(find_child(n, "GET", 3), c, path, len);
    if (r == NULL)
        r = match_path(n->empty, c, path, len);
    return r;
}

static void match_init(match_t *c, apr_pool_t *p, const char *path,
                       apr_size_t len, mux_span_t *spans)
{
    c->base = path;
    c->scratch = memchr(path, '%', len) != NULL ? apr_palloc(p, len + 1) : NULL;
    c->spans = spans;
    c->n = 0;
}

const mux_pattern_t *mux_tree_match(const mux_t *m, apr_pool_t *p,
                                    const char *host, const char *method,
                                    const char *path, mux_span_t *spans,
                                    int *nspans)
{
    apr_size_t len = strlen(path);
    const mux_node_t *r = NULL;
    match_t c;

    match_init(&c, p, path, len, spans);
    /* A pattern with the request's host wins over every host-less one. */
    if (*host != '\0')
        r = match_method_and_path(find_child(m->root, host, strlen(host)), &c,
                                  method, path, len);
    if (r == NULL)
        r = match_method_and_path(m->root->empty, &c, method, path, len);
    *nspans = r != NULL ? c.n : 0;
    return r != NULL ? r->pattern : NULL;
}

/* ---- 405: the methods that would match ---------------------------------- */

static void add_method(apr_array_header_t *set, const char *method)
{
    int i;

    for (i = 0; i < set->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(set, i, const char *), method) == 0)
            return;
    APR_ARRAY_PUSH(set, const char *) = method;
}

/* Go's matchingMethodsPath: every method child whose subtree matches; the
 * method-less child is no help, as the request matched none of it. */
static void methods_path(const mux_node_t *n, apr_pool_t *p, const char *path,
                         mux_span_t *spans, apr_array_header_t *set)
{
    apr_size_t len = strlen(path);
    match_t c;
    int i;

    if (n == NULL)
        return;
    match_init(&c, p, path, len, spans);
    for (i = 0; i < n->nedges; i++)
        if (match_path(n->edges[i].node, &c, path, len) != NULL)
            add_method(set, n->edges[i].key);
}

static void matching_methods(const mux_t *m, apr_pool_t *p, const char *host,
                             const char *path, mux_span_t *spans,
                             apr_array_header_t *set)
{
    int i;

    if (*host != '\0')
        methods_path(find_child(m->root, host, strlen(host)), p, path, spans,
                     set);
    methods_path(m->root->empty, p, path, spans, set);
    for (i = 0; i < set->nelts; i++)
        if (strcmp(APR_ARRAY_IDX(set, i, const char *), "GET") == 0) {
            add_method(set, "HEAD");
            break;
        }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *mux_allowed_methods(const mux_t *m, apr_pool_t *p, const char *host,
                                const char *path)
{
    apr_array_header_t *set = apr_array_make(p, 4, sizeof(const char *));
    mux_span_t *spans =
        apr_palloc(p, sizeof(*spans) * (apr_size_t)(m->max_values + 1));
    apr_size_t n = strlen(path);
    const char *out;
    int i;

    matching_methods(m, p, host, path, spans, set);
    /* The match is tried again with a trailing slash: so is this. */
    if (n == 0 || path[n - 1] != '/')
        matching_methods(m, p, host, apr_pstrcat(p, path, "/", NULL), spans,
                         set);
    if (set->nelts == 0)
        return "";
    qsort(set->elts, (size_t)set->nelts, sizeof(const char *), cmp_str);
    out = APR_ARRAY_IDX(set, 0, const char *);
    for (i = 1; i < set->nelts; i++)
        out = apr_pstrcat(p, out, ", ", APR_ARRAY_IDX(set, i, const char *),
                          NULL);
    return out;
}

/* ---- findHandler -------------------------------------------------------- */

/* Go's exactMatch: no multi wildcard matched a non-empty string. */
static int exact_match(const mux_pattern_t *pat, const char *path)
{
    apr_size_t n = strlen(path), slashes = 0, i;

    if (pat == NULL)
        return 0;
    if (!pat->segs[pat->nsegs - 1].multi)
        return 1;
    if (n > 0 && path[n - 1] != '/')
        return 0;
    /* "/a/b/{$}" and "/a/b/" match "/a/b/" exactly; "/a/" does not. */
    for (i = 0; i < n; i++)
        slashes += path[i] == '/';
    return (apr_size_t)pat->nsegs == slashes;
}

/*
 * Go's matchOrRedirect.  With rq, a path that no pattern matches exactly
 * is tried again with a trailing slash; when that one matches exactly,
 * *location is the redirect (the request's path, cleaned, plus "/" and the
 * query) and *target the pattern it leads to.  spans2 is room for the
 * second match, which must not clobber the first's values.
 */
static const mux_pattern_t *
match_or_redirect(const mux_t *m, apr_pool_t *p, const char *host,
                  const char *method, const char *path, const mux_request_t *rq,
                  mux_span_t *spans, int *nspans, mux_span_t *spans2,
                  const char **location, const mux_pattern_t **target)
{
    const mux_pattern_t *pat =
        mux_tree_match(m, p, host, method, path, spans, nspans);
    apr_size_t n = strlen(path);

    *location = NULL;
    if (!exact_match(pat, path) && rq != NULL &&
        (n == 0 || path[n - 1] != '/')) {
        const char *path2 = apr_pstrcat(p, path, "/", NULL);
        int n2;
        const mux_pattern_t *pat2 =
            mux_tree_match(m, p, host, method, path2, spans2, &n2);
        if (exact_match(pat2, path2)) {
            *location = mux_url_string(
                p, apr_pstrcat(p, mux_clean_path(p, rq->path), "/", NULL),
                rq->query);
            *target = pat2;
            return NULL;
        }
    }
    return pat;
}

static void redirect(mux_result_t *res, apr_pool_t *p, const char *url,
                     const char *pattern)
{
    res->outcome = MUX_REDIRECT;
    res->location = mux_redirect_url(p, url);
    res->pattern_str = pattern;
}

void mux_find(const mux_t *m, apr_pool_t *p, const mux_request_t *rq,
              mux_result_t *res)
{
    mux_span_t stack1[MUX_STACK_SPANS], stack2[MUX_STACK_SPANS];
    mux_span_t *spans = stack1, *spans2 = stack2;
    const char *escaped, *path, *host, *loc, *allow;
    const char *rhost = rq->host != NULL ? rq->host : "";
    const mux_pattern_t *pat, *target = NULL;
    int nspans = 0, i;

    memset(res, 0, sizeof(*res));
    res->pattern_str = "";
    if (rq->uri != NULL && strcmp(rq->uri, "*") == 0) {
        res->outcome = MUX_BAD_REQUEST;
        return;
    }
    if (m->max_values + 1 > MUX_STACK_SPANS) {
        apr_size_t sz = sizeof(*spans) * (apr_size_t)(m->max_values + 1);
        spans = apr_palloc(p, sz);
        spans2 = apr_palloc(p, sz);
    }
    escaped = mux_escaped_path(p, rq->raw_path, rq->path);
    if (strcmp(rq->method, "CONNECT") == 0) {
        /* CONNECT paths are not cleaned, and the first match is by the
         * URL's host, the second by the Host the request names. */
        host = rq->url_host != NULL ? rq->url_host : "";
        path = escaped;
        match_or_redirect(m, p, host, rq->method, path, rq, spans2, &nspans,
                          spans, &loc, &target);
        if (loc != NULL) {
            redirect(res, p, loc, target->str);
            return;
        }
        pat = match_or_redirect(m, p, rhost, rq->method, path, NULL, spans,
                                &nspans, spans2, &loc, &target);
    } else {
        host = mux_strip_host_port(p, rhost);
        path = mux_clean_path(p, escaped);
        pat = match_or_redirect(m, p, host, rq->method, path, rq, spans,
                                &nspans, spans2, &loc, &target);
        if (loc != NULL) {
            redirect(res, p, loc, target->str);
            return;
        }
        if (path != escaped && strcmp(path, escaped) != 0) {
            /* Go builds this URL from the escaped path, so its escapes are
             * escaped again ("%20" becomes "%2520"), as they are here. */
            redirect(res, p, mux_url_string(p, path, rq->query),
                     pat != NULL ? pat->str : "");
            return;
        }
    }
    if (pat == NULL) {
        allow = mux_allowed_methods(m, p, host, path);
        res->outcome = *allow != '\0' ? MUX_NOT_ALLOWED : MUX_NOT_FOUND;
        res->allow = *allow != '\0' ? allow : NULL;
        return;
    }
    res->outcome = MUX_FOUND;
    res->pattern = pat;
    res->pattern_str = pat->str;
    res->values = apr_palloc(p, sizeof(*res->values) *
                                    (apr_size_t)(nspans > 0 ? nspans : 1));
    for (i = 0; i < nspans; i++)
        res->values[i] = mux_path_unescape(p, spans[i].p, spans[i].n, NULL);
}
