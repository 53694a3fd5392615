/*
 * weft_reqline.c -- the request line as Go's net/http reads it: Cut on
 * single spaces, validMethod, ParseHTTPVersion, url.ParseRequestURI (with
 * readRequest's CONNECT rule), and httpguts' field and Host checks.
 */
#include <string.h>
#include <strings.h>

#include "weft_reqline.h"
#include "weft_http.h"

/*
 * One table answers every per-byte question; bytes >= 0x80 are 0 in it
 * and the callers that accept them (URL hosts) test for that first.
 */
#define C_TOKEN 0x01    /* RFC 9110 tchar */
#define C_HOSTHDR 0x02  /* httpguts validHostByte */
#define C_URLHOST 0x04  /* !url.shouldEscape(c, encodeHost); not '%' */
#define C_USERINFO 0x08 /* url.validUserinfo */
#define C_SCHEME 0x10   /* after a scheme's first letter */
#define C_HEX 0x20
#define C_STOP 0x40 /* what the target scan stops at: CTL, '%', '?' */
#define C_ALPHA 0x80

#define C_ALNUM (C_TOKEN | C_HOSTHDR | C_URLHOST | C_USERINFO | C_SCHEME)
#define C_LETTER (C_ALNUM | C_ALPHA)
#define C_XLETTER (C_LETTER | C_HEX)
#define C_DIGIT (C_ALNUM | C_HEX)
#define C_SUBDELIM (C_HOSTHDR | C_URLHOST | C_USERINFO)

#define CTL8(b)                                                 \
    [(b)] = C_STOP, [(b) + 1] = C_STOP, [(b) + 2] = C_STOP,     \
    [(b) + 3] = C_STOP, [(b) + 4] = C_STOP, [(b) + 5] = C_STOP, \
    [(b) + 6] = C_STOP, [(b) + 7] = C_STOP

/* clang-format off */
static const unsigned char cls[256] = {
    CTL8(0x00), CTL8(0x08), CTL8(0x10), CTL8(0x18), [0x7f] = C_STOP,
    ['0'] = C_DIGIT, ['1'] = C_DIGIT, ['2'] = C_DIGIT, ['3'] = C_DIGIT,
    ['4'] = C_DIGIT, ['5'] = C_DIGIT, ['6'] = C_DIGIT, ['7'] = C_DIGIT,
    ['8'] = C_DIGIT, ['9'] = C_DIGIT,
    ['a'] = C_XLETTER, ['b'] = C_XLETTER, ['c'] = C_XLETTER,
    ['d'] = C_XLETTER, ['e'] = C_XLETTER, ['f'] = C_XLETTER,
    ['g'] = C_LETTER, ['h'] = C_LETTER, ['i'] = C_LETTER, ['j'] = C_LETTER,
    ['k'] = C_LETTER, ['l'] = C_LETTER, ['m'] = C_LETTER, ['n'] = C_LETTER,
    ['o'] = C_LETTER, ['p'] = C_LETTER, ['q'] = C_LETTER, ['r'] = C_LETTER,
    ['s'] = C_LETTER, ['t'] = C_LETTER, ['u'] = C_LETTER, ['v'] = C_LETTER,
    ['w'] = C_LETTER, ['x'] = C_LETTER, ['y'] = C_LETTER, ['z'] = C_LETTER,
    ['A'] = C_XLETTER, ['B'] = C_XLETTER, ['C'] = C_XLETTER,
    ['D'] = C_XLETTER, ['E'] = C_XLETTER, ['F'] = C_XLETTER,
    ['G'] = C_LETTER, ['H'] = C_LETTER, ['I'] = C_LETTER, ['J'] = C_LETTER,
    ['K'] = C_LETTER, ['L'] = C_LETTER, ['M'] = C_LETTER, ['N'] = C_LETTER,
    ['O'] = C_LETTER, ['P'] = C_LETTER, ['Q'] = C_LETTER, ['R'] = C_LETTER,
    ['S'] = C_LETTER, ['T'] = C_LETTER, ['U'] = C_LETTER, ['V'] = C_LETTER,
    ['W'] = C_LETTER, ['X'] = C_LETTER, ['Y'] = C_LETTER, ['Z'] = C_LETTER,
    ['!'] = C_TOKEN | C_SUBDELIM,
    ['"'] = C_URLHOST,
    ['#'] = C_TOKEN,
    ['$'] = C_TOKEN | C_SUBDELIM,
    ['%'] = C_TOKEN | C_HOSTHDR | C_USERINFO | C_STOP,
    ['&'] = C_TOKEN | C_SUBDELIM,
    ['\''] = C_TOKEN | C_SUBDELIM,
    ['('] = C_SUBDELIM,
    [')'] = C_SUBDELIM,
    ['*'] = C_TOKEN | C_SUBDELIM,
    ['+'] = C_TOKEN | C_SUBDELIM | C_SCHEME,
    [','] = C_SUBDELIM,
    ['-'] = C_TOKEN | C_SUBDELIM | C_SCHEME,
    ['.'] = C_TOKEN | C_SUBDELIM | C_SCHEME,
    [':'] = C_SUBDELIM,
    [';'] = C_SUBDELIM,
    ['<'] = C_URLHOST,
    ['='] = C_SUBDELIM,
    ['>'] = C_URLHOST,
    ['?'] = C_STOP,
    ['@'] = C_USERINFO,
    ['['] = C_HOSTHDR | C_URLHOST,
    [']'] = C_HOSTHDR | C_URLHOST,
    ['^'] = C_TOKEN,
    ['_'] = C_TOKEN | C_SUBDELIM,
    ['`'] = C_TOKEN,
    ['|'] = C_TOKEN,
    ['~'] = C_TOKEN | C_SUBDELIM,
};
/* clang-format on */

static unsigned unhex(unsigned char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/* Go's unescape test: '%' needs two hex digits after it, in the string. */
static int escape_ok(const unsigned char *s, apr_size_t i, apr_size_t n)
{
    return n - i >= 3 && (cls[s[i + 1]] & C_HEX) && (cls[s[i + 2]] & C_HEX);
}

/*
 * Decodes n bytes of s into dst and NUL-terminates it; -1 on a malformed
 * escape.  '+' stays '+' (Go's encodePath mode).  A %00 decodes to a NUL
 * byte as in Go, which a C string then ends at.
 */
static int decode(char *dst, const unsigned char *s, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] != '%') {
            *dst++ = (char)s[i];
            continue;
        }
        if (!escape_ok(s, i, n)) {
            return -1;
        }
        *dst++ = (char)(unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
        i += 2;
    }
    *dst = '\0';
    return 0;
}

int weft_token_valid(const char *s, apr_size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i;

    if (n == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!(cls[u[i]] & C_TOKEN)) {
            return 0;
        }
    }
    return 1;
}

int weft_field_value_valid(const char *s, apr_size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i;

    /* obs-text (>= 0x80) is allowed, as Go allows it */
    for (i = 0; i < n; i++) {
        if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

int weft_host_valid(const char *s, apr_size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (!(cls[u[i]] & C_HOSTHDR)) {
            return 0;
        }
    }
    return 1;
}

char *weft_unescape(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *out = apr_palloc(p, n + 1);

    return decode(out, (const unsigned char *)s, n) == 0 ? out : NULL;
}

/*
 * url.validOptionalPort: "" or ':' followed by digits only (an empty port
 * is fine; a named one is not).
 */
static int port_ok(const unsigned char *s, apr_size_t n)
{
    apr_size_t i;

    if (n == 0) {
        return 1;
    }
    if (s[0] != ':') {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/*
 * Go's unescape(s, encodeHost) or (zone) unescape(s, encodeZone) as a
 * check only.  Raw bytes: ASCII that shouldEscape lets through in a host,
 * and all of non-ASCII.  Escapes: a host may %-encode only non-ASCII
 * bytes (and %25); a zone may encode anything it could write plainly,
 * plus a space, but no non-ASCII.
 */
static int host_part_ok(const unsigned char *s, apr_size_t n, int zone)
{
    apr_size_t i;
    unsigned v;
    int pct25;

    for (i = 0; i < n; i++) {
        if (s[i] != '%') {
            if (s[i] < 0x80 && !(cls[s[i]] & C_URLHOST)) {
                return 0;
            }
            continue;
        }
        if (!escape_ok(s, i, n)) {
            return 0;
        }
        pct25 = s[i + 1] == '2' && s[i + 2] == '5';
        v = unhex(s[i + 1]) << 4 | unhex(s[i + 2]);
        if (!pct25 && !zone && v < 0x80) {
            return 0;
        }
        if (!pct25 && zone && v != ' ' && !(v < 0x80 && (cls[v] & C_URLHOST))) {
            return 0;
        }
        i += 2;
    }
    return 1;
}

/* url.parseHost's checks: IP-literal with optional zone, or name[:port]. */
static int host_ok(const unsigned char *h, apr_size_t n)
{
    apr_size_t i, rb, zone;

    if (n > 0 && h[0] == '[') {
        /* the LAST ']' closes the literal, as strings.LastIndex finds it */
        for (rb = n; rb > 0 && h[rb - 1] != ']'; rb--) {
        }
        if (rb == 0) {
            return 0; /* missing ']' in host */
        }
        rb--;
        if (!port_ok(h + rb + 1, n - rb - 1)) {
            return 0;
        }
        /* RFC 6874: "%25" in the literal starts the zone identifier */
        for (zone = 0; zone + 3 <= rb; zone++) {
            if (h[zone] == '%' && h[zone + 1] == '2' && h[zone + 2] == '5') {
                return host_part_ok(h, zone, 0) &&
                       host_part_ok(h + zone, rb - zone, 1) &&
                       host_part_ok(h + rb, n - rb, 0);
            }
        }
    } else {
        for (i = n; i > 0; i--) {
            if (h[i - 1] == ':') {
                if (!port_ok(h + i - 1, n - i + 1)) {
                    return 0;
                }
                break;
            }
        }
    }
    return host_part_ok(h, n, 0);
}

/*
 * url.parseAuthority: [userinfo@]host, split at the LAST '@'.  Sets *host
 * to the offset of the host within a.  The userinfo is checked, not kept.
 */
static int authority_ok(const unsigned char *a, apr_size_t n, apr_size_t *host)
{
    apr_size_t at, i;

    for (at = n; at > 0 && a[at - 1] != '@'; at--) {
    }
    *host = at;
    if (!host_ok(a + at, n - at)) {
        return 0;
    }
    /* at > 0: userinfo is a[0, at - 1) */
    for (i = 0; i + 1 < at; i++) {
        if (!(cls[a[i]] & C_USERINFO)) {
            return 0;
        }
        if (a[i] == '%') {
            if (!escape_ok(a, i, at - 1)) {
                return 0;
            }
            i += 2;
        }
    }
    return 1;
}

/* Where a target's parts lie, as offsets into it. */
typedef struct {
    apr_size_t scheme_len; /* 0: no scheme */
    apr_size_t host_off, host_len;
    apr_size_t path_off, path_len;
    apr_size_t qpos; /* the first '?', or the target's length */
    int has_host, host_pct, path_pct, has_query;
    int asterisk, authority, opaque;
} target_t;

/*
 * url.getScheme on the target: letters, then letters, digits, "+-.", then
 * ':'.  Returns the scheme's length, 0 for none, or -1 for a leading ':'
 * ("missing protocol scheme").  It never passes a '?', so the scheme lies
 * before the query.
 */
static long scheme_len(const unsigned char *t, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (cls[t[i]] & C_ALPHA) {
            continue;
        }
        if (cls[t[i]] & C_SCHEME) {
            if (i == 0) {
                return 0;
            }
            continue;
        }
        if (t[i] == ':') {
            return i == 0 ? -1 : (long)i;
        }
        return 0;
    }
    return 0;
}

/*
 * Locates and checks the target's parts: url.ParseRequestURI, or for a
 * CONNECT whose target does not start with '/' the same on "http://" +
 * target.  Path escapes are checked later, while decoding.
 */
static int split_target(const unsigned char *t, apr_size_t n, int connect,
                        target_t *tg)
{
    apr_size_t i, first_pct = n, a0, a1, rest, hoff;
    const unsigned char *slash;
    long sl;

    memset(tg, 0, sizeof(*tg));
    tg->qpos = n;
    /* one scan: control bytes refused, first '?' and first '%' noted */
    for (i = 0; i < n; i++) {
        if (!(cls[t[i]] & C_STOP)) {
            continue;
        }
        if (t[i] == '?') {
            if (!tg->has_query) {
                tg->has_query = 1;
                tg->qpos = i;
            }
        } else if (t[i] == '%') {
            if (first_pct == n && !tg->has_query) {
                first_pct = i;
            }
        } else {
            return 0; /* CTL: "invalid control character in URL" */
        }
    }

    if (connect && (n == 0 || t[0] != '/')) {
        /* readRequest's justAuthority: "http://" + target, scheme dropped */
        tg->authority = 1;
        a0 = 0;
    } else if (n == 0) {
        return 0; /* "empty url" */
    } else if (n == 1 && t[0] == '*') {
        tg->asterisk = 1;
        return 1;
    } else {
        sl = scheme_len(t, n);
        if (sl < 0) {
            return 0;
        }
        tg->scheme_len = (apr_size_t)sl;
        rest = sl > 0 ? (apr_size_t)sl + 1 : 0;
        if (rest == tg->qpos || t[rest] != '/') {
            if (sl == 0) {
                return 0; /* "invalid URI for request" */
            }
            /* scheme:opaque -- Go keeps it in URL.Opaque, Path stays "" */
            tg->opaque = 1;
            return 1;
        }
        if (sl == 0 || rest + 1 >= tg->qpos || t[rest + 1] != '/') {
            /* origin-form, or "scheme:/path" without an authority; a
             * "//x/y" origin-form target is all path, never a host */
            tg->path_off = rest;
            tg->path_len = tg->qpos - rest;
            /* [0, rest) is a scheme and ':', never a '%' */
            tg->path_pct = first_pct < tg->qpos;
            return 1;
        }
        a0 = rest + 2;
    }

    /* the authority runs to the first '/' before the query */
    slash = memchr(t + a0, '/', tg->qpos - a0);
    a1 = slash != NULL ? (apr_size_t)(slash - t) : tg->qpos;
    if (!authority_ok(t + a0, a1 - a0, &hoff)) {
        return 0;
    }
    tg->has_host = 1;
    tg->host_off = a0 + hoff;
    tg->host_len = a1 - tg->host_off;
    tg->path_off = a1;
    tg->path_len = tg->qpos - a1;
    if (first_pct < tg->qpos) {
        tg->host_pct = memchr(t + tg->host_off, '%', tg->host_len) != NULL;
        tg->path_pct = memchr(t + a1, '%', tg->path_len) != NULL;
    }
    return 1;
}

/* HTTP/D.D, single digits; Go's fast paths give the same answers. */
static int parse_version(const char *v, apr_size_t n, int *major, int *minor)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' ||
        v[5] > '9' || v[7] < '0' || v[7] > '9') {
        return 0;
    }
    *major = v[5] - '0';
    *minor = v[7] - '0';
    return 1;
}

/* url.getScheme's result goes through strings.ToLower. */
static const char *lower_scheme(char **cur, const char *s, apr_size_t n)
{
    char *out;
    apr_size_t i;

    if (n == 4 && strncasecmp(s, "http", 4) == 0) {
        return "http";
    }
    if (n == 5 && strncasecmp(s, "https", 5) == 0) {
        return "https";
    }
    out = *cur;
    *cur += n + 1;
    for (i = 0; i < n; i++) {
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] | 0x20 : s[i]);
    }
    out[n] = '\0';
    return out;
}

/*
 * Copies the line once (its spaces become NULs, so method, target and
 * proto point into it), then hands out the target's parts: a part that
 * ends the target points into the copy; only a part followed by more of
 * the target, a decoded one, or a lowered scheme takes pool bytes, all
 * from the same allocation.  A refused line leaves *rl as it was.
 */
weft_rl_error_t weft_reqline_parse(apr_pool_t *p, const char *line,
                                   apr_size_t len, weft_reqline_t *rl)
{
    const char *sp1, *sp2, *tsrc;
    apr_size_t mlen, tlen, extra = 0;
    int major, minor, connect, host_inline, path_inline;
    target_t tg;
    weft_reqline_t out;
    char *buf, *cur, *tgt, *s;

    if (len == 0 || (sp1 = memchr(line, ' ', len)) == NULL) {
        return WEFT_RL_MALFORMED;
    }
    mlen = (apr_size_t)(sp1 - line);
    sp2 = memchr(sp1 + 1, ' ', len - mlen - 1);
    if (sp2 == NULL) {
        return WEFT_RL_MALFORMED;
    }
    tsrc = sp1 + 1;
    tlen = (apr_size_t)(sp2 - tsrc);

    /* Go's order: method, then version, then the URL; 505 comes last */
    if (!weft_token_valid(line, mlen)) {
        return WEFT_RL_BAD_METHOD;
    }
    if (!parse_version(sp2 + 1, len - mlen - tlen - 2, &major, &minor)) {
        return WEFT_RL_BAD_VERSION;
    }
    connect = mlen == 7 && memcmp(line, "CONNECT", 7) == 0;
    if (!split_target((const unsigned char *)tsrc, tlen, connect, &tg)) {
        return WEFT_RL_BAD_TARGET;
    }

    host_inline =
        tg.has_host && !tg.host_pct && tg.host_off + tg.host_len == tlen;
    path_inline = tg.path_len == 0 || tg.path_off + tg.path_len == tlen;
    if (tg.scheme_len > 0) {
        extra += tg.scheme_len + 1;
    }
    if (tg.has_host && !host_inline) {
        extra += tg.host_len + 1;
    }
    if (!path_inline) {
        extra += tg.path_len + 1;
    }
    if (tg.path_pct) {
        extra += tg.path_len + 1;
    }

    buf = apr_palloc(p, len + 1 + extra);
    memcpy(buf, line, len);
    buf[len] = '\0';
    buf[mlen] = '\0';
    tgt = buf + mlen + 1;
    tgt[tlen] = '\0';
    cur = buf + len + 1;

    memset(&out, 0, sizeof(out));
    out.method = buf;
    out.target = tgt;
    out.proto = tgt + tlen + 1;
    out.major = major;
    out.minor = minor;
    out.asterisk = tg.asterisk;
    out.authority = tg.authority;
    if (tg.asterisk) {
        out.raw_path = out.path = tgt;
    } else if (tg.opaque) {
        out.raw_path = out.path = tgt + tlen; /* "" */
    } else {
        if (tg.has_host) {
            if (host_inline) {
                out.host = tgt + tg.host_off;
            } else {
                s = cur;
                cur += tg.host_len + 1;
                /* escapes were checked by host_ok */
                decode(s, (const unsigned char *)tgt + tg.host_off,
                       tg.host_len);
                out.host = s;
            }
        }
        if (tg.path_len == 0) {
            out.raw_path = tgt + tlen;
        } else if (path_inline) {
            out.raw_path = tgt + tg.path_off;
        } else {
            s = cur;
            cur += tg.path_len + 1;
            memcpy(s, tgt + tg.path_off, tg.path_len);
            s[tg.path_len] = '\0';
            out.raw_path = s;
        }
        out.path = out.raw_path;
        if (tg.path_pct) {
            s = cur;
            cur += tg.path_len + 1;
            if (decode(s, (const unsigned char *)out.raw_path, tg.path_len) <
                0) {
                return WEFT_RL_BAD_TARGET; /* "invalid URL escape" */
            }
            out.path = s;
        }
    }
    if (tg.scheme_len > 0) {
        out.scheme = lower_scheme(&cur, tgt, tg.scheme_len);
    }
    if (tg.has_query) {
        out.query = tgt + tg.qpos + 1;
    }

    /* http1ServerSupportsRequest: 1.x, or the HTTP/2 preface line.  The
     * line is well formed, so rl is filled either way (the access log
     * records a 505's request line, as Go's Request has it). */
    *rl = out;
    if (major != 1 &&
        !(major == 2 && minor == 0 && mlen == 3 &&
          memcmp(line, "PRI", 3) == 0 && tlen == 1 && tsrc[0] == '*')) {
        return WEFT_RL_UNSUPPORTED;
    }
    return WEFT_RL_OK;
}

static int token_boundary(char b)
{
    return b == ' ' || b == ',' || b == '\t';
}

WEFT_DECLARE(int) weft_has_token(const char *v, const char *token)
{
    apr_size_t vn, tn, sp;

    if (v == NULL || token == NULL)
        return 0;
    vn = strlen(v);
    tn = strlen(token);
    if (tn == 0 || tn > vn)
        return 0;
    for (sp = 0; sp + tn <= vn; sp++) {
        if (sp > 0 && !token_boundary(v[sp - 1]))
            continue;
        if (sp + tn != vn && !token_boundary(v[sp + tn]))
            continue;
        if (strncasecmp(v + sp, token, tn) == 0)
            return 1;
    }
    return 0;
}
