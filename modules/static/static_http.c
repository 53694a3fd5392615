/*
 * static_http.c -- Go's ServeContent rules as pure functions: HTTP dates,
 * the weak ETag, checkPreconditions, parseRange, the multipart/byteranges
 * layout of mime/multipart, and dirList's page with url.URL's escaping.
 */
#include <string.h>

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "static.h"

static const char day_names[7][10] = { "Sunday",    "Monday",   "Tuesday",
                                       "Wednesday", "Thursday", "Friday",
                                       "Saturday" };
static const char month_names[12][4] = { "Jan", "Feb", "Mar", "Apr",
                                         "May", "Jun", "Jul", "Aug",
                                         "Sep", "Oct", "Nov", "Dec" };

/* ---- dates ------------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static apr_int64_t days_from_civil(apr_int64_t y, int m, int d)
{
    apr_int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(apr_int64_t z, apr_int64_t *y, int *m, int *d)
{
    apr_int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void static_http_date(char *buf, apr_int64_t t)
{
    apr_int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    apr_int64_t secs = t - days * 86400, y;
    int m, d, wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01: Thu */

    civil_from_days(days, &y, &m, &d);
    apr_snprintf(buf, 30, "%.3s, %02d %s %04d %02d:%02d:%02d GMT",
                 day_names[wday], d, month_names[m - 1], (int)y,
                 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

/* A cursor over the text being parsed, as Go's time.Parse consumes it. */
typedef struct {
    const char *s;
    int ok;
} scan_t;

/* Go's skip: literal layout text, where a space matches any run of
 * spaces (at least one) in the value. */
static void lit(scan_t *c, const char *l)
{
    while (c->ok && *l != '\0') {
        if (*l == ' ') {
            if (c->s[0] != '\0' && c->s[0] != ' ') {
                c->ok = 0;
                return;
            }
            while (*l == ' ')
                l++;
            while (c->s[0] == ' ')
                c->s++;
            continue;
        }
        if (c->s[0] != *l) {
            c->ok = 0;
            return;
        }
        c->s++;
        l++;
    }
}

/* Go's getnum: one or two digits, exactly two when fixed. */
static int num2(scan_t *c, int fixed)
{
    int v;

    if (!c->ok || !apr_isdigit(c->s[0])) {
        c->ok = 0;
        return 0;
    }
    v = c->s[0] - '0';
    if (!apr_isdigit(c->s[1])) {
        if (fixed)
            c->ok = 0;
        c->s += 1;
        return v;
    }
    v = v * 10 + c->s[1] - '0';
    c->s += 2;
    return v;
}

static int num4(scan_t *c)
{
    int i, v = 0;

    for (i = 0; i < 4 && c->ok; i++) {
        if (!apr_isdigit(c->s[i]))
            c->ok = 0;
        else
            v = v * 10 + c->s[i] - '0';
    }
    if (c->ok)
        c->s += 4;
    return v;
}

/* Go's lookup: a name from the table, case-insensitively; its index. */
static int name_of(scan_t *c, const char *names, int count, int stride, int len)
{
    int i;

    for (i = 0; i < count && c->ok; i++) {
        const char *nm = names + i * stride;
        apr_size_t n = len > 0 ? (apr_size_t)len : strlen(nm);
        if (strncasecmp(c->s, nm, n) == 0) {
            c->s += n;
            return i;
        }
    }
    c->ok = 0;
    return 0;
}

static int short_day(scan_t *c)
{
    return name_of(c, &day_names[0][0], 7, 10, 3);
}

static int long_day(scan_t *c)
{
    return name_of(c, &day_names[0][0], 7, 10, 0);
}

static int month(scan_t *c)
{
    return name_of(c, &month_names[0][0], 12, 4, 3) + 1;
}

/* "15:04:05": hour one or two digits, minutes and seconds two. */
static void hms(scan_t *c, int *h, int *mi, int *s)
{
    *h = num2(c, 0);
    lit(c, ":");
    *mi = num2(c, 1);
    lit(c, ":");
    *s = num2(c, 1);
    /* Go takes a fraction the layout does not ask for. */
    if (c->ok && (c->s[0] == '.' || c->s[0] == ',') && apr_isdigit(c->s[1])) {
        c->s++;
        while (apr_isdigit(c->s[0]))
            c->s++;
    }
}

/* Go's parseTimeZone for RFC 850's "MST": "UTC", or three upper-case
 * letters, or four or five ending in 'T'.  Taken as UTC: Go fabricates a
 * zero offset for an abbreviation it does not know. */
static void zone(scan_t *c)
{
    int n = 0;

    while (c->ok && n < 6 && c->s[n] >= 'A' && c->s[n] <= 'Z')
        n++;
    if (n == 3 || ((n == 4 || n == 5) && c->s[n - 1] == 'T') ||
        (n == 4 && strncmp(c->s, "WITA", 4) == 0))
        c->s += n;
    else
        c->ok = 0;
}

static int days_in(int m, apr_int64_t y)
{
    static const int dm[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dm[m - 1];
}

static int finish_date(scan_t *c, int y, int mo, int d, int h, int mi, int s,
                       apr_int64_t *out)
{
    if (!c->ok || *c->s != '\0')
        return 0; /* Go: "extra text" */
    if (h > 23 || mi > 59 || s > 59 || d < 1 || d > days_in(mo, y))
        return 0;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return 1;
}

/* "Mon, 02 Jan 2006 15:04:05 GMT" */
static int parse_imf(const char *t, apr_int64_t *out)
{
    scan_t c = { t, 1 };
    int d, mo, y, h, mi, s;

    short_day(&c);
    lit(&c, ", ");
    d = num2(&c, 1);
    lit(&c, " ");
    mo = month(&c);
    lit(&c, " ");
    y = num4(&c);
    lit(&c, " ");
    hms(&c, &h, &mi, &s);
    lit(&c, " GMT");
    return finish_date(&c, y, mo, d, h, mi, s, out);
}

/* "Monday, 02-Jan-06 15:04:05 MST" */
static int parse_rfc850(const char *t, apr_int64_t *out)
{
    scan_t c = { t, 1 };
    int d, mo, y, h, mi, s;

    long_day(&c);
    lit(&c, ", ");
    d = num2(&c, 1);
    lit(&c, "-");
    mo = month(&c);
    lit(&c, "-");
    y = num2(&c, 1);
    y += y >= 69 ? 1900 : 2000;
    lit(&c, " ");
    hms(&c, &h, &mi, &s);
    lit(&c, " ");
    zone(&c);
    return finish_date(&c, y, mo, d, h, mi, s, out);
}

/* "Mon Jan _2 15:04:05 2006" */
static int parse_ansic(const char *t, apr_int64_t *out)
{
    scan_t c = { t, 1 };
    int d, mo, y, h, mi, s;

    short_day(&c);
    lit(&c, " ");
    mo = month(&c);
    lit(&c, " ");
    if (c.ok && c.s[0] == ' ')
        c.s++;
    d = num2(&c, 0);
    lit(&c, " ");
    hms(&c, &h, &mi, &s);
    lit(&c, " ");
    y = num4(&c);
    return finish_date(&c, y, mo, d, h, mi, s, out);
}

int static_parse_http_date(const char *text, apr_int64_t *unix_sec)
{
    return parse_imf(text, unix_sec) || parse_rfc850(text, unix_sec) ||
           parse_ansic(text, unix_sec);
}

const char *static_etag(apr_pool_t *p, const struct stat *st)
{
    apr_uint64_t ns = (apr_uint64_t)st->st_mtim.tv_sec * 1000000000u +
                      (apr_uint64_t)st->st_mtim.tv_nsec;

    return apr_psprintf(
        p, "W/\"%" APR_UINT64_T_HEX_FMT "-%" APR_UINT64_T_HEX_FMT "\"",
        (apr_uint64_t)st->st_size, ns);
}

/* ---- preconditions (RFC 7232 section 6, as Go) ------------------------- */

typedef enum { COND_NONE, COND_TRUE, COND_FALSE } cond_t;

/* textproto.TrimString. */
static const char *trim(const char *s, apr_size_t *n)
{
    while (*n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        (*n)--;
    }
    while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t' ||
                      s[*n - 1] == '\n' || s[*n - 1] == '\r'))
        (*n)--;
    return s;
}

/* Go's scanETag over s[0..n): the tag's length (0: none); *skip is where
 * the rest starts, counted from s. */
static apr_size_t scan_etag(const char *s, apr_size_t n, apr_size_t *skip,
                            const char **tag)
{
    const char *t = trim(s, &n);
    apr_size_t start = 0, i;

    if (n >= 2 && t[0] == 'W' && t[1] == '/')
        start = 2;
    if (n - start < 2 || t[start] != '"')
        return 0;
    for (i = start + 1; i < n; i++) {
        unsigned char ch = (unsigned char)t[i];
        if (ch == 0x21 || (ch >= 0x23 && ch <= 0x7e) || ch >= 0x80)
            continue;
        if (ch == '"') {
            *tag = t;
            *skip = (apr_size_t)(t - s) + i + 1;
            return i + 1;
        }
        return 0;
    }
    return 0;
}

static int strong_match(const char *a, apr_size_t an, const char *b)
{
    return b != NULL && strlen(b) == an && memcmp(a, b, an) == 0 && an > 0 &&
           a[0] == '"';
}

static int weak_match(const char *a, apr_size_t an, const char *b)
{
    apr_size_t bn;

    if (b == NULL)
        b = "";
    bn = strlen(b);
    if (an >= 2 && a[0] == 'W' && a[1] == '/')
        a += 2, an -= 2;
    if (bn >= 2 && b[0] == 'W' && b[1] == '/')
        b += 2, bn -= 2;
    return an == bn && memcmp(a, b, an) == 0;
}

/* The list walk shared by checkIfMatch (strong, '*' true) and
 * checkIfNoneMatch (weak, '*' false): COND_TRUE when a tag matched. */
static cond_t etag_list(const char *v, const char *etag, int strong, int *star)
{
    apr_size_t n = strlen(v);

    *star = 0;
    for (;;) {
        const char *tag;
        apr_size_t skip, tn;
        v = trim(v, &n);
        if (n == 0)
            break;
        if (v[0] == ',') {
            v++, n--;
            continue;
        }
        if (v[0] == '*') {
            *star = 1;
            return COND_TRUE;
        }
        tn = scan_etag(v, n, &skip, &tag);
        if (tn == 0)
            break;
        if (strong ? strong_match(tag, tn, etag) : weak_match(tag, tn, etag))
            return COND_TRUE;
        v += skip, n -= skip;
    }
    return COND_FALSE;
}

static int empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static cond_t if_match(const static_conds_t *c, const char *etag)
{
    int star;

    if (empty(c->if_match))
        return COND_NONE;
    return etag_list(c->if_match, etag, 1, &star);
}

static cond_t if_none_match(const static_conds_t *c, const char *etag)
{
    int star;

    if (empty(c->if_none_match))
        return COND_NONE;
    /* Any match (or '*') makes the condition false. */
    return etag_list(c->if_none_match, etag, 0, &star) == COND_TRUE ? COND_FALSE
                                                                    : COND_TRUE;
}

static cond_t if_unmodified_since(const static_conds_t *c, apr_int64_t mtime)
{
    apr_int64_t t;

    if (empty(c->if_unmodified_since) || mtime == 0 ||
        !static_parse_http_date(c->if_unmodified_since, &t))
        return COND_NONE;
    return mtime <= t ? COND_TRUE : COND_FALSE;
}

static cond_t if_modified_since(const static_conds_t *c, apr_int64_t mtime)
{
    apr_int64_t t;

    if (!c->get_or_head || empty(c->if_modified_since) || mtime == 0 ||
        !static_parse_http_date(c->if_modified_since, &t))
        return COND_NONE;
    return mtime <= t ? COND_FALSE : COND_TRUE;
}

static cond_t if_range(const static_conds_t *c, const char *etag,
                       apr_int64_t mtime)
{
    const char *tag;
    apr_size_t skip, tn;
    apr_int64_t t;

    if (!c->get_or_head || empty(c->if_range))
        return COND_NONE;
    tn = scan_etag(c->if_range, strlen(c->if_range), &skip, &tag);
    if (tn > 0)
        return strong_match(tag, tn, etag) ? COND_TRUE : COND_FALSE;
    /* Go tests modtime.IsZero() here, which an mtime at the epoch is
     * not: only an unparsable date fails. */
    if (!static_parse_http_date(c->if_range, &t))
        return COND_FALSE;
    return t == mtime ? COND_TRUE : COND_FALSE;
}

static_pre_t static_preconditions(const static_conds_t *c, const char *etag,
                                  apr_int64_t mtime, const char **range)
{
    cond_t ch = if_match(c, etag);

    *range = NULL;
    if (ch == COND_NONE)
        ch = if_unmodified_since(c, mtime);
    if (ch == COND_FALSE)
        return STATIC_PRE_FAILED;
    switch (if_none_match(c, etag)) {
    case COND_FALSE:
        return c->get_or_head ? STATIC_PRE_NOT_MODIFIED : STATIC_PRE_FAILED;
    case COND_NONE:
        if (if_modified_since(c, mtime) == COND_FALSE)
            return STATIC_PRE_NOT_MODIFIED;
        break;
    default:
        break;
    }
    if (!empty(c->range) && if_range(c, etag, mtime) != COND_FALSE)
        *range = c->range;
    return STATIC_PRE_GO;
}

int static_not_modified_since(const static_conds_t *c, apr_int64_t mtime)
{
    return if_modified_since(c, mtime) == COND_FALSE;
}

/* ---- ranges -------------------------------------------------------------- */

/* strconv.ParseInt(s, 10, 64): optional sign, digits, no overflow. */
static int parse_int64(const char *s, apr_size_t n, apr_int64_t *out)
{
    apr_uint64_t v = 0, lim;
    apr_size_t i = 0;
    int neg = 0;

    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return 0;
    lim = neg ? (apr_uint64_t)APR_INT64_MAX + 1 : (apr_uint64_t)APR_INT64_MAX;
    for (; i < n; i++) {
        if (!apr_isdigit(s[i]))
            return 0;
        if (v > (lim - (apr_uint64_t)(s[i] - '0')) / 10)
            return 0;
        v = v * 10 + (apr_uint64_t)(s[i] - '0');
    }
    *out = neg ? (apr_int64_t)(0 - v) : (apr_int64_t)v;
    return 1;
}

/* One "start-end" spec of parseRange; 1 on a range, 0 when it starts
 * past the end (no overlap), -1 when invalid. */
static int parse_spec(const char *ra, apr_size_t n, apr_off_t size,
                      static_range_t *r)
{
    const char *dash = memchr(ra, '-', n), *start, *end;
    apr_size_t sn, en;
    apr_int64_t i;

    if (dash == NULL)
        return -1;
    sn = (apr_size_t)(dash - ra);
    en = n - sn - 1;
    start = trim(ra, &sn);
    end = trim(dash + 1, &en);
    if (sn == 0) {
        /* A suffix length, which must be a non-negative integer. */
        if (en == 0 || end[0] == '-' || !parse_int64(end, en, &i) || i < 0)
            return -1;
        if (i > size)
            i = size;
        r->start = size - i;
        r->length = size - r->start;
        return 1;
    }
    if (!parse_int64(start, sn, &i) || i < 0)
        return -1;
    if (i >= size)
        return 0;
    r->start = i;
    if (en == 0) {
        r->length = size - r->start;
        return 1;
    }
    if (!parse_int64(end, en, &i) || r->start > i)
        return -1;
    if (i >= size)
        i = size - 1;
    r->length = i - r->start + 1;
    return 1;
}

static_range_status_t static_parse_range(apr_pool_t *p, const char *s,
                                         apr_off_t size,
                                         apr_array_header_t **out)
{
    apr_array_header_t *ranges = apr_array_make(p, 2, sizeof(static_range_t));
    int no_overlap = 0;

    *out = ranges;
    if (empty(s))
        return STATIC_RANGE_OK;
    if (strncmp(s, "bytes=", 6) != 0)
        return STATIC_RANGE_INVALID;
    s += 6;
    for (;;) {
        const char *comma = strchr(s, ',');
        apr_size_t n = comma ? (apr_size_t)(comma - s) : strlen(s);
        const char *ra = trim(s, &n);
        static_range_t r;
        if (n > 0) {
            int k = parse_spec(ra, n, size, &r);
            if (k < 0)
                return STATIC_RANGE_INVALID;
            if (k == 0)
                no_overlap = 1;
            else
                APR_ARRAY_PUSH(ranges, static_range_t) = r;
        }
        if (comma == NULL)
            break;
        s = comma + 1;
    }
    if (no_overlap && ranges->nelts == 0)
        return STATIC_RANGE_NO_OVERLAP;
    return STATIC_RANGE_OK;
}

apr_off_t static_ranges_sum(const apr_array_header_t *ranges)
{
    apr_off_t sum = 0;
    int i;

    for (i = 0; i < ranges->nelts; i++)
        sum += APR_ARRAY_IDX(ranges, i, static_range_t).length;
    return sum;
}

const char *static_content_range(apr_pool_t *p, const static_range_t *ra,
                                 apr_off_t size)
{
    return apr_psprintf(
        p, "bytes %" APR_OFF_T_FMT "-%" APR_OFF_T_FMT "/%" APR_OFF_T_FMT,
        ra->start, ra->start + ra->length - 1, size);
}

/* ---- multipart/byteranges ----------------------------------------------- */

apr_status_t static_multipart_init(static_multipart_t *m, const char *ctype,
                                   apr_off_t size)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char rnd[STATIC_BOUNDARY_LEN / 2];
    apr_status_t rv = apr_generate_random_bytes(rnd, sizeof(rnd));
    apr_size_t i;

    if (rv != APR_SUCCESS)
        return rv;
    for (i = 0; i < sizeof(rnd); i++) {
        m->boundary[2 * i] = hex[rnd[i] >> 4];
        m->boundary[2 * i + 1] = hex[rnd[i] & 15];
    }
    m->boundary[STATIC_BOUNDARY_LEN] = '\0';
    m->ctype = ctype;
    m->size = size;
    return APR_SUCCESS;
}

/* CreatePart: a CRLF before every boundary but the first, then the part's
 * header fields in sorted order (Content-Range, Content-Type). */
const char *static_multipart_head(apr_pool_t *p, const static_multipart_t *m,
                                  int i, const static_range_t *ra,
                                  apr_size_t *len)
{
    char *s = apr_psprintf(p,
                           "%s--%s\r\nContent-Range: %s\r\n"
                           "Content-Type: %s\r\n\r\n",
                           i > 0 ? "\r\n" : "", m->boundary,
                           static_content_range(p, ra, m->size), m->ctype);

    *len = strlen(s);
    return s;
}

const char *static_multipart_tail(apr_pool_t *p, const static_multipart_t *m,
                                  apr_size_t *len)
{
    char *s = apr_psprintf(p, "\r\n--%s--\r\n", m->boundary);

    *len = strlen(s);
    return s;
}

apr_off_t static_multipart_size(apr_pool_t *p, const static_multipart_t *m,
                                const apr_array_header_t *ranges)
{
    apr_off_t size = 0;
    apr_size_t n;
    int i;

    for (i = 0; i < ranges->nelts; i++) {
        const static_range_t *ra = &APR_ARRAY_IDX(ranges, i, static_range_t);
        static_multipart_head(p, m, i, ra, &n);
        size += (apr_off_t)n + ra->length;
    }
    static_multipart_tail(p, m, &n);
    return size + (apr_off_t)n;
}

/* ---- the listing ---------------------------------------------------------- */

/* Go's shouldEscape(c, encodePath). */
static int path_escapes(unsigned char c)
{
    if (apr_isalnum(c) && c < 0x80)
        return 0;
    return strchr("-_.~$&+,/:;=@", c) == NULL || c == '\0';
}

const char *static_escape_path(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t n = 0, i;
    const unsigned char *u = (const unsigned char *)s;
    char *out, *o;

    for (i = 0; u[i] != '\0'; i++)
        n += path_escapes(u[i]) ? 3 : 1;
    if (n == i)
        return s;
    o = out = apr_palloc(p, n + 1);
    for (i = 0; u[i] != '\0'; i++) {
        if (path_escapes(u[i])) {
            *o++ = '%';
            *o++ = hex[u[i] >> 4];
            *o++ = hex[u[i] & 15];
        } else {
            *o++ = (char)u[i];
        }
    }
    *o = '\0';
    return out;
}

const char *static_url_path(apr_pool_t *p, const char *s)
{
    const char *e = static_escape_path(p, s);
    const char *slash = strchr(e, '/');
    apr_size_t seg = slash ? (apr_size_t)(slash - e) : strlen(e);

    /* RFC 3986 section 4.2: a colon in the first segment of a relative
     * reference would read as a scheme. */
    if (memchr(e, ':', seg) != NULL)
        return apr_pstrcat(p, "./", e, NULL);
    return e;
}

/* Go's htmlReplacer. */
static const char *html_escape(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0, i;
    char *out, *o;

    for (i = 0; s[i] != '\0'; i++) {
        switch (s[i]) {
        case '&':
            n += 5;
            break;
        case '<':
        case '>':
            n += 4;
            break;
        case '"':
        case '\'':
            n += 5;
            break;
        default:
            n++;
        }
    }
    if (n == i)
        return s;
    o = out = apr_palloc(p, n + 1);
    for (i = 0; s[i] != '\0'; i++) {
        const char *rep = NULL;
        switch (s[i]) {
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
            rep = "&#34;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            *o++ = s[i];
            continue;
        }
        o = stpcpy(o, rep);
    }
    *o = '\0';
    return out;
}

const char *static_listing_html(apr_pool_t *p, const apr_array_header_t *ents,
                                apr_size_t *len)
{
    apr_array_header_t *parts =
        apr_array_make(p, ents->nelts * 5 + 4, sizeof(const char *));
    const char *html;
    int i;

    APR_ARRAY_PUSH(parts, const char *) =
        "<!doctype html>\n"
        "<meta name=\"viewport\" content=\"width=device-width\">\n"
        "<pre>\n";
    for (i = 0; i < ents->nelts; i++) {
        const static_dirent_t *e = &APR_ARRAY_IDX(ents, i, static_dirent_t);
        const char *name =
            e->is_dir ? apr_pstrcat(p, e->name, "/", NULL) : e->name;
        APR_ARRAY_PUSH(parts, const char *) = "<a href=\"";
        APR_ARRAY_PUSH(parts, const char *) = static_url_path(p, name);
        APR_ARRAY_PUSH(parts, const char *) = "\">";
        APR_ARRAY_PUSH(parts, const char *) = html_escape(p, name);
        APR_ARRAY_PUSH(parts, const char *) = "</a>\n";
    }
    APR_ARRAY_PUSH(parts, const char *) = "</pre>\n";
    html = apr_array_pstrcat(p, parts, 0);
    *len = strlen(html);
    return html;
}
