/*
 * mux_pattern.c -- Go's ServeMux patterns (net/http pattern.go): parsing
 * with Go's messages, precedence, conflicts and how Go describes them, and
 * registration through Go's routing index of candidate conflicts.
 */
#include <apr_hash.h>
#include <apr_strings.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <wctype.h>

#include "mux.h"

/* ---- a string builder in a pool ----------------------------------------- */

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
} sb_t;

static void sb_init(sb_t *b, apr_pool_t *p)
{
    b->p = p;
    b->cap = 64;
    b->len = 0;
    b->buf = apr_palloc(p, b->cap);
    b->buf[0] = '\0';
}

static void sb_add(sb_t *b, const char *s, apr_size_t n)
{
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap * 2;
        char *nb;
        while (b->len + n + 1 > cap)
            cap *= 2;
        nb = apr_palloc(b->p, cap); /* the old buffer stays in the pool */
        memcpy(nb, b->buf, b->len);
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void sb_puts(sb_t *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_putc(sb_t *b, char c)
{
    sb_add(b, &c, 1);
}

/* ---- UTF-8, as Go's strings see it -------------------------------------- */

/* Decodes the rune at s (n bytes left): its width, or 0 for an invalid
 * byte (Go's RuneError of width 1). */
static int utf8_rune(const unsigned char *s, apr_size_t n, unsigned *cp)
{
    unsigned c = s[0], r;
    int w, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        w = 2;
        r = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        w = 3;
        r = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        w = 4;
        r = c & 0x07;
    } else {
        return 0;
    }
    if ((apr_size_t)w > n)
        return 0;
    for (i = 1; i < w; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        r = (r << 6) | (s[i] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
    if ((w == 3 && r < 0x800) || (w == 4 && (r < 0x10000 || r > 0x10FFFF)) ||
        (r >= 0xD800 && r <= 0xDFFF))
        return 0;
    *cp = r;
    return w;
}

/* Go's unicode.IsSpace. */
static int is_space_rune(unsigned r)
{
    switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return 1;
    }
    return r >= 0x2000 && r <= 0x200A;
}

/*
 * Go's unicode.IsPrint for the runes a configuration file may hold.  Exact
 * for ASCII; beyond it, the separators, format and control characters and
 * private-use planes that strconv.Quote escapes.
 */
static int is_print_rune(unsigned r)
{
    if (r < 0x80)
        return r >= 0x20 && r < 0x7F;
    if (r <= 0xA0 || r == 0xAD || r == 0x1680 || r == 0x3000 || r == 0xFEFF)
        return 0;
    if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F) ||
        (r >= 0x205F && r <= 0x206F) || (r >= 0xE000 && r <= 0xF8FF) ||
        (r >= 0xFFF0 && r <= 0xFFFB) || (r >= 0xE0000 && r <= 0xE007F) ||
        r >= 0xF0000)
        return 0;
    return 1;
}

const char *mux_quote(apr_pool_t *p, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n = strlen(s), i = 0;
    sb_t b;
    char esc[16];

    sb_init(&b, p);
    sb_putc(&b, '"');
    while (i < n) {
        unsigned r;
        int w = utf8_rune(u + i, n - i, &r);
        if (w == 0) {
            apr_snprintf(esc, sizeof(esc), "\\x%02x", u[i]);
            sb_puts(&b, esc);
            i++;
            continue;
        }
        if (r == '"' || r == '\\') {
            sb_putc(&b, '\\');
            sb_putc(&b, (char)r);
        } else if (is_print_rune(r)) {
            sb_add(&b, s + i, (apr_size_t)w);
        } else {
            switch (r) {
            case '\a':
                sb_puts(&b, "\\a");
                break;
            case '\b':
                sb_puts(&b, "\\b");
                break;
            case '\f':
                sb_puts(&b, "\\f");
                break;
            case '\n':
                sb_puts(&b, "\\n");
                break;
            case '\r':
                sb_puts(&b, "\\r");
                break;
            case '\t':
                sb_puts(&b, "\\t");
                break;
            case '\v':
                sb_puts(&b, "\\v");
                break;
            default:
                if (r < 0x20 || r == 0x7F)
                    apr_snprintf(esc, sizeof(esc), "\\x%02x", r);
                else if (r < 0x10000)
                    apr_snprintf(esc, sizeof(esc), "\\u%04x", r);
                else
                    apr_snprintf(esc, sizeof(esc), "\\U%08x", r);
                sb_puts(&b, esc);
            }
        }
        i += (apr_size_t)w;
    }
    sb_putc(&b, '"');
    return b.buf;
}

/* Go's strings.TrimSpace, on the bytes [*start, *end) of s. */
static void trim_space(const char *s, apr_size_t *start, apr_size_t *end)
{
    const unsigned char *u = (const unsigned char *)s;

    while (*start < *end) {
        unsigned r;
        int w = utf8_rune(u + *start, *end - *start, &r);
        if (w == 0 || !is_space_rune(r))
            break;
        *start += (apr_size_t)w;
    }
    while (*end > *start) {
        /* Step back to the start of the last rune. */
        apr_size_t k = *end - 1;
        unsigned r;
        int w;
        while (k > *start && *end - k < 4 && (u[k] & 0xC0) == 0x80)
            k--;
        w = utf8_rune(u + k, *end - k, &r);
        if (w == 0 || k + (apr_size_t)w != *end || !is_space_rune(r))
            break;
        *end = k;
    }
}

/* ---- parsing ------------------------------------------------------------ */

/* Go's validMethod: a non-empty RFC 9110 token. */
static int valid_method(const char *s, apr_size_t n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    apr_size_t i;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || (c != '\0' && strchr(extra, c))))
            return 0;
    }
    return 1;
}

/*
 * Go's isValidWildcardName: a Go identifier.  Letters beyond ASCII are
 * judged by the C.UTF-8 locale's iswalpha (Go's unicode.IsLetter; the two
 * tables differ on a few non-Latin digits), or taken as letters when that
 * locale is missing.
 */
static int valid_wildcard_name(const char *s, apr_size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    locale_t loc = (locale_t)0;
    apr_size_t i = 0;
    int ok = n > 0;

    while (ok && i < n) {
        unsigned r;
        int w = utf8_rune(u + i, n - i, &r);
        if (w == 0) {
            ok = 0;
        } else if (r < 0x80) {
            ok = (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '_' ||
                 (i > 0 && r >= '0' && r <= '9');
        } else {
            if (loc == (locale_t)0)
                loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
            ok = loc == (locale_t)0 || iswalpha_l((wint_t)r, loc);
        }
        i += w > 0 ? (apr_size_t)w : 1;
    }
    if (loc != (locale_t)0)
        freelocale(loc);
    return ok;
}

/* Go's parsePattern: "[METHOD ][HOST]/[PATH]". */
const char *mux_pattern_parse(apr_pool_t *p, const char *s, mux_pattern_t **out)
{
    apr_size_t slen = strlen(s), mlen = 0, rs = 0, re = slen, i, off = 0;
    apr_size_t nsl = 0, k;
    mux_pattern_t *pat;
    mux_segment_t *segs;
    const char *why = NULL, *path;
    int found = 0, nsegs = 0, nnames = 0;

    if (slen == 0)
        return "empty pattern";
    /* The method ends at the first blank; blanks around the rest go. */
    i = strcspn(s, " \t");
    if (i < slen) {
        mlen = i;
        rs = i + 1;
        trim_space(s, &rs, &re);
        found = 1;
    }
    if (mlen > 0 && !valid_method(s, mlen)) {
        why = apr_psprintf(p, "invalid method %s",
                           mux_quote(p, apr_pstrmemdup(p, s, mlen)));
        goto fail;
    }
    pat = apr_pcalloc(p, sizeof(*pat));
    pat->str = apr_pstrdup(p, s);
    pat->method = apr_pstrmemdup(p, s, mlen);
    if (found)
        off = mlen + 1;
    for (i = rs; i < re && s[i] != '/'; i++)
        ;
    if (i == re) {
        why = "host/path missing /";
        goto fail;
    }
    pat->host = apr_pstrmemdup(p, s + rs, i - rs);
    if ((path = strchr(pat->host, '{')) != NULL) {
        off += (apr_size_t)(path - pat->host);
        why = "host contains '{' (missing initial '/'?)";
        goto fail;
    }
    off += i - rs;
    rs = i; /* [rs, re) is the path now */
    path = apr_pstrmemdup(p, s + rs, re - rs);

    /* Paths are cleaned before matching, so an unclean one never matches;
     * CONNECT requests alone keep theirs. */
    if (mlen > 0 && strcmp(pat->method, "CONNECT") != 0 &&
        strcmp(path, mux_clean_path(p, path)) != 0) {
        why = "non-CONNECT pattern with unclean path can never match";
        goto fail;
    }

    for (k = rs; k < re; k++)
        nsl += s[k] == '/';
    segs = apr_pcalloc(p, sizeof(*segs) * nsl);
    pat->names = apr_pcalloc(p, sizeof(*pat->names) * nsl);
    while (rs < re) {
        apr_size_t slash;
        const char *seg, *name;
        apr_size_t seglen, nlen;
        int multi = 0, j;

        rs++; /* the '/' */
        off = slen - (re - rs);
        if (rs == re) {
            /* A trailing slash: an anonymous multi wildcard. */
            segs[nsegs].s = "";
            segs[nsegs].wild = segs[nsegs].multi = 1;
            nsegs++;
            break;
        }
        for (slash = rs; slash < re && s[slash] != '/'; slash++)
            ;
        seg = s + rs;
        seglen = slash - rs;
        rs = slash;
        if (memchr(seg, '{', seglen) == NULL) {
            segs[nsegs].s = mux_path_unescape(p, seg, seglen, &segs[nsegs].len);
            nsegs++;
            continue;
        }
        if (seg[0] != '{') {
            why = "bad wildcard segment (must start with '{')";
            goto fail;
        }
        if (seg[seglen - 1] != '}') {
            why = "bad wildcard segment (must end with '}')";
            goto fail;
        }
        name = seg + 1;
        nlen = seglen - 2;
        if (nlen == 1 && name[0] == '$') {
            if (rs != re) {
                why = "{$} not at end";
                goto fail;
            }
            segs[nsegs].s = "/";
            segs[nsegs].len = 1;
            nsegs++;
            break;
        }
        if (nlen >= 3 && memcmp(name + nlen - 3, "...", 3) == 0) {
            multi = 1;
            nlen -= 3;
        }
        if (multi && rs != re) {
            why = "{...} wildcard not at end";
            goto fail;
        }
        if (nlen == 0) {
            why = "empty wildcard";
            goto fail;
        }
        if (!valid_wildcard_name(name, nlen)) {
            why = apr_psprintf(p, "bad wildcard name %s",
                               mux_quote(p, apr_pstrmemdup(p, name, nlen)));
            goto fail;
        }
        for (j = 0; j < nnames; j++)
            if (strlen(pat->names[j]) == nlen &&
                memcmp(pat->names[j], name, nlen) == 0)
                break;
        if (j < nnames) {
            why = apr_psprintf(p, "duplicate wildcard name %s",
                               mux_quote(p, apr_pstrmemdup(p, name, nlen)));
            goto fail;
        }
        segs[nsegs].s = apr_pstrmemdup(p, name, nlen);
        segs[nsegs].len = nlen;
        segs[nsegs].wild = 1;
        segs[nsegs].multi = multi;
        pat->names[nnames++] = segs[nsegs].s;
        nsegs++;
    }
    pat->segs = segs;
    pat->nsegs = nsegs;
    pat->nnames = nnames;
    *out = pat;
    return NULL;

fail:
    return apr_psprintf(p, "at offset %" APR_SIZE_T_FMT ": %s", off, why);
}

/* ---- precedence --------------------------------------------------------- */

static const mux_segment_t *last_segment(const mux_pattern_t *pat)
{
    return &pat->segs[pat->nsegs - 1];
}

static int seg_is(const mux_segment_t *g, const char *lit)
{
    return !g->wild && g->len == strlen(lit) && memcmp(g->s, lit, g->len) == 0;
}

static int seg_eq(const mux_segment_t *a, const mux_segment_t *b)
{
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

const char *mux_rel_name(mux_rel_t rel)
{
    switch (rel) {
    case MUX_EQUIVALENT:
        return "equivalent";
    case MUX_MORE_GENERAL:
        return "moreGeneral";
    case MUX_MORE_SPECIFIC:
        return "moreSpecific";
    case MUX_DISJOINT:
        return "disjoint";
    case MUX_OVERLAPS:
        return "overlaps";
    }
    return "?";
}

static mux_rel_t inverse(mux_rel_t r)
{
    if (r == MUX_MORE_SPECIFIC)
        return MUX_MORE_GENERAL;
    if (r == MUX_MORE_GENERAL)
        return MUX_MORE_SPECIFIC;
    return r;
}

/* The relation of two patterns from the relations of two parts of them:
 * wider in one part and narrower in the other is an overlap. */
static mux_rel_t combine(mux_rel_t r1, mux_rel_t r2)
{
    switch (r1) {
    case MUX_EQUIVALENT:
        return r2;
    case MUX_DISJOINT:
        return MUX_DISJOINT;
    case MUX_OVERLAPS:
        return r2 == MUX_DISJOINT ? MUX_DISJOINT : MUX_OVERLAPS;
    case MUX_MORE_GENERAL:
    case MUX_MORE_SPECIFIC:
        if (r2 == MUX_EQUIVALENT)
            return r1;
        if (r2 == inverse(r1))
            return MUX_OVERLAPS;
        return r2;
    }
    return MUX_DISJOINT;
}

/* No method matches everything; GET matches HEAD too; else only itself. */
mux_rel_t mux_compare_methods(const mux_pattern_t *p1, const mux_pattern_t *p2)
{
    const char *m1 = p1->method, *m2 = p2->method;

    if (strcmp(m1, m2) == 0)
        return MUX_EQUIVALENT;
    if (*m1 == '\0')
        return MUX_MORE_GENERAL;
    if (*m2 == '\0')
        return MUX_MORE_SPECIFIC;
    if (strcmp(m1, "GET") == 0 && strcmp(m2, "HEAD") == 0)
        return MUX_MORE_GENERAL;
    if (strcmp(m2, "GET") == 0 && strcmp(m1, "HEAD") == 0)
        return MUX_MORE_SPECIFIC;
    return MUX_DISJOINT;
}

static mux_rel_t compare_segments(const mux_segment_t *s1,
                                  const mux_segment_t *s2)
{
    if (s1->multi && s2->multi)
        return MUX_EQUIVALENT;
    if (s1->multi)
        return MUX_MORE_GENERAL;
    if (s2->multi)
        return MUX_MORE_SPECIFIC;
    if (s1->wild && s2->wild)
        return MUX_EQUIVALENT;
    if (s1->wild) /* a single wildcard never matches the trailing slash */
        return seg_is(s2, "/") ? MUX_DISJOINT : MUX_MORE_GENERAL;
    if (s2->wild)
        return seg_is(s1, "/") ? MUX_DISJOINT : MUX_MORE_SPECIFIC;
    return seg_eq(s1, s2) ? MUX_EQUIVALENT : MUX_DISJOINT;
}

mux_rel_t mux_compare_paths(const mux_pattern_t *p1, const mux_pattern_t *p2)
{
    mux_rel_t rel = MUX_EQUIVALENT;
    int i, n = p1->nsegs < p2->nsegs ? p1->nsegs : p2->nsegs;

    /* Without a multi wildcard, only paths of as many segments match. */
    if (p1->nsegs != p2->nsegs && !last_segment(p1)->multi &&
        !last_segment(p2)->multi)
        return MUX_DISJOINT;
    for (i = 0; i < n; i++) {
        rel = combine(rel, compare_segments(&p1->segs[i], &p2->segs[i]));
        if (rel == MUX_DISJOINT)
            return rel;
    }
    if (p1->nsegs == p2->nsegs)
        return rel;
    /* The shorter one can only go on matching with its final multi, which
     * is wider than whatever the longer one has left. */
    if (p1->nsegs < p2->nsegs && last_segment(p1)->multi)
        return combine(rel, MUX_MORE_GENERAL);
    if (p2->nsegs < p1->nsegs && last_segment(p2)->multi)
        return combine(rel, MUX_MORE_SPECIFIC);
    return MUX_DISJOINT;
}

static mux_rel_t compare_all(const mux_pattern_t *p1, const mux_pattern_t *p2)
{
    mux_rel_t mrel = mux_compare_methods(p1, p2);

    if (mrel == MUX_DISJOINT)
        return MUX_DISJOINT;
    return combine(mrel, mux_compare_paths(p1, p2));
}

/*
 * Precedence: a pattern with a host beats one without (and two different
 * hosts never meet); otherwise the more specific pattern wins.  Patterns
 * that match the same requests, or overlap without either being more
 * specific, conflict.
 */
int mux_conflicts(const mux_pattern_t *p1, const mux_pattern_t *p2)
{
    mux_rel_t rel;

    if (strcmp(p1->host, p2->host) != 0)
        return 0;
    rel = compare_all(p1, p2);
    return rel == MUX_EQUIVALENT || rel == MUX_OVERLAPS;
}

/* ---- describing a conflict (Go's describeConflict) ---------------------- */

static void write_segment(sb_t *b, const mux_segment_t *g)
{
    sb_putc(b, '/');
    if (!g->multi && !seg_is(g, "/"))
        sb_add(b, g->s, g->len);
}

const char *mux_common_path(apr_pool_t *p, const mux_pattern_t *p1,
                            const mux_pattern_t *p2)
{
    int i, n = p1->nsegs < p2->nsegs ? p1->nsegs : p2->nsegs;
    sb_t b;

    sb_init(&b, p);
    for (i = 0; i < n; i++)
        write_segment(&b, p1->segs[i].wild ? &p2->segs[i] : &p1->segs[i]);
    for (; i < p1->nsegs; i++)
        write_segment(&b, &p1->segs[i]);
    for (; i < p2->nsegs; i++)
        write_segment(&b, &p2->segs[i]);
    return b.buf;
}

const char *mux_difference_path(apr_pool_t *p, const mux_pattern_t *p1,
                                const mux_pattern_t *p2)
{
    int i, n = p1->nsegs < p2->nsegs ? p1->nsegs : p2->nsegs;
    sb_t b;

    sb_init(&b, p);
    for (i = 0; i < n; i++) {
        const mux_segment_t *s1 = &p1->segs[i], *s2 = &p2->segs[i];
        if (s1->multi && s2->multi) {
            /* From here both match the same paths: the difference was
             * earlier. */
            sb_putc(&b, '/');
            return b.buf;
        }
        if (s1->multi) {
            /* A trailing slash tells them apart, unless s2 is {$}: then
             * any segment does; the wildcard's name if it has one. */
            sb_putc(&b, '/');
            if (seg_is(s2, "/"))
                sb_puts(&b, s1->len > 0 ? s1->s : "x");
            return b.buf;
        }
        if (s2->multi || (s1->wild && s2->wild) || !s1->wild) {
            write_segment(&b, s1);
        } else if (!seg_eq(s1, s2)) {
            write_segment(&b, s1); /* any segment but s2's literal */
        } else {
            sb_putc(&b, '/');
            sb_add(&b, s2->s, s2->len);
            sb_putc(&b, 'x');
        }
    }
    for (; i < p1->nsegs; i++)
        write_segment(&b, &p1->segs[i]);
    for (; i < p2->nsegs; i++)
        write_segment(&b, &p2->segs[i]);
    return b.buf;
}

const char *mux_describe_conflict(apr_pool_t *p, const mux_pattern_t *p1,
                                  const mux_pattern_t *p2)
{
    mux_rel_t mrel = mux_compare_methods(p1, p2);
    mux_rel_t prel = mux_compare_paths(p1, p2);
    mux_rel_t rel = combine(mrel, prel);

    if (rel == MUX_EQUIVALENT)
        return apr_psprintf(p, "%s matches the same requests as %s", p1->str,
                            p2->str);
    if (prel == MUX_OVERLAPS)
        return apr_psprintf(
            p,
            "%s and %s both match some paths, like %s. But neither is more "
            "specific than the other. %s matches %s, but %s doesn't. %s "
            "matches %s, but %s doesn't.",
            p1->str, p2->str, mux_quote(p, mux_common_path(p, p1, p2)), p1->str,
            mux_quote(p, mux_difference_path(p, p1, p2)), p2->str, p2->str,
            mux_quote(p, mux_difference_path(p, p2, p1)), p1->str);
    if (mrel == MUX_MORE_GENERAL && prel == MUX_MORE_SPECIFIC)
        return apr_psprintf(p,
                            "%s matches more methods than %s, but has a more "
                            "specific path pattern",
                            p1->str, p2->str);
    if (mrel == MUX_MORE_SPECIFIC && prel == MUX_MORE_GENERAL)
        return apr_psprintf(p,
                            "%s matches fewer methods than %s, but has a more "
                            "general path pattern",
                            p1->str, p2->str);
    return apr_psprintf(p,
                        "bug: unexpected way for two patterns %s and %s to "
                        "conflict: methods %s, paths %s",
                        p1->str, p2->str, mux_rel_name(mrel),
                        mux_rel_name(prel));
}

/* ---- registration, through Go's routing index --------------------------- */

mux_t *mux_create(apr_pool_t *p)
{
    mux_t *m = apr_pcalloc(p, sizeof(*m));

    m->pool = p;
    m->root = mux_tree_create(p);
    m->index = apr_hash_make(p);
    m->multis = apr_array_make(p, 4, sizeof(const mux_pattern_t *));
    m->patterns = apr_array_make(p, 16, sizeof(const mux_pattern_t *));
    return m;
}

/* The index's key for a segment position and literal ("" for a wildcard,
 * as in Go, where an empty literal shares it: the index may return more
 * candidates than needed, never fewer). */
static apr_array_header_t *index_list(const mux_t *m, apr_pool_t *p, int pos,
                                      const char *lit, apr_size_t len,
                                      char **key, apr_size_t *klen)
{
    char head[16];
    int hn = apr_snprintf(head, sizeof(head), "%d:", pos);
    char *k = apr_palloc(p, (apr_size_t)hn + len + 1);

    memcpy(k, head, (apr_size_t)hn);
    memcpy(k + hn, lit, len);
    k[hn + len] = '\0';
    if (key != NULL) {
        *key = k;
        *klen = (apr_size_t)hn + len;
    }
    return apr_hash_get(m->index, k, (apr_ssize_t)((apr_size_t)hn + len));
}

static void index_add(mux_t *m, const mux_pattern_t *pat)
{
    int i;

    if (last_segment(pat)->multi) {
        APR_ARRAY_PUSH(m->multis, const mux_pattern_t *) = pat;
        return;
    }
    for (i = 0; i < pat->nsegs; i++) {
        const mux_segment_t *g = &pat->segs[i];
        char *key;
        apr_size_t klen;
        apr_array_header_t *l = index_list(m, m->pool, i, g->wild ? "" : g->s,
                                           g->wild ? 0 : g->len, &key, &klen);
        if (l == NULL) {
            l = apr_array_make(m->pool, 2, sizeof(const mux_pattern_t *));
            apr_hash_set(m->index, key, (apr_ssize_t)klen, l);
        }
        APR_ARRAY_PUSH(l, const mux_pattern_t *) = pat;
    }
}

static const mux_pattern_t *first_conflict(const apr_array_header_t *l,
                                           const mux_pattern_t *pat)
{
    int i;

    for (i = 0; l != NULL && i < l->nelts; i++) {
        const mux_pattern_t *q = APR_ARRAY_IDX(l, i, const mux_pattern_t *);
        if (mux_conflicts(pat, q))
            return q;
    }
    return NULL;
}

/*
 * Go's possiblyConflictingPatterns, stopping at the first conflict: every
 * multi pattern; for a {$} pattern, those with {$} at the same position;
 * otherwise those sharing the literal (or a wildcard) at the literal
 * position with the fewest such patterns; for all-wildcard patterns,
 * everything.
 */
static const mux_pattern_t *index_conflict(const mux_t *m, apr_pool_t *p,
                                           const mux_pattern_t *pat)
{
    const apr_array_header_t *lmin = NULL, *wmin = NULL;
    const mux_pattern_t *q;
    int i, min = -1, has_lit = 0;

    if ((q = first_conflict(m->multis, pat)) != NULL)
        return q;
    if (seg_is(last_segment(pat), "/"))
        return first_conflict(
            index_list(m, p, pat->nsegs - 1, "/", 1, NULL, NULL), pat);
    for (i = 0; i < pat->nsegs; i++) {
        const mux_segment_t *g = &pat->segs[i];
        const apr_array_header_t *l, *w;
        int sum;
        if (g->multi)
            break;
        if (g->wild)
            continue;
        has_lit = 1;
        l = index_list(m, p, i, g->s, g->len, NULL, NULL);
        w = index_list(m, p, i, "", 0, NULL, NULL);
        sum = (l ? l->nelts : 0) + (w ? w->nelts : 0);
        if (min < 0 || sum < min) {
            lmin = l;
            wmin = w;
            min = sum;
        }
    }
    if (has_lit) {
        if ((q = first_conflict(lmin, pat)) != NULL)
            return q;
        return first_conflict(wmin, pat);
    }
    /* All wildcards: check it against everything (multis are done). */
    for (i = 0; i < m->patterns->nelts; i++) {
        q = APR_ARRAY_IDX(m->patterns, i, const mux_pattern_t *);
        if (!last_segment(q)->multi && mux_conflicts(pat, q))
            return q;
    }
    return NULL;
}

const char *mux_register(mux_t *m, const char *pattern, const char *loc,
                         weft_handler_fn *handler, const mux_pattern_t **out)
{
    apr_pool_t *p = m->pool;
    mux_pattern_t *pat;
    const mux_pattern_t *other;
    const char *why = mux_pattern_parse(p, pattern, &pat);

    if (why != NULL)
        return apr_psprintf(p, "invalid pattern %s: %s", mux_quote(p, pattern),
                            why);
    pat->loc = loc != NULL ? apr_pstrdup(p, loc) : "unknown location";
    pat->handler = handler;
    other = index_conflict(m, p, pat);
    if (other != NULL)
        return apr_psprintf(p,
                            "pattern %s (%s) conflicts with pattern %s (%s): "
                            "%s",
                            mux_quote(p, pat->str), pat->loc,
                            mux_quote(p, other->str), other->loc,
                            mux_describe_conflict(p, pat, other));
    mux_tree_add(p, m->root, pat);
    index_add(m, pat);
    APR_ARRAY_PUSH(m->patterns, const mux_pattern_t *) = pat;
    if (pat->nnames > m->max_values)
        m->max_values = pat->nnames;
    if (out != NULL)
        *out = pat;
    return NULL;
}
