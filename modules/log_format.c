/*
 * log_format.c -- mod_log's formats: Apache's % directives compiled once
 * into a list of items, the named formats common and combined (Apache's
 * exact layouts and ap_escape_logitem escaping), and json (RFC 8259, one
 * object a line, valid even for bytes that are not UTF-8).
 */
#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

#include "log_private.h"

typedef enum {
    IT_TEXT,        /* literal text */
    IT_HOST,        /* %h %a: the client's IP */
    IT_DASH,        /* %l %u: no identd, no auth: "-" */
    IT_TIME,        /* %t: [10/Oct/2000:13:55:36 -0700], local time */
    IT_REQUEST,     /* %r: the request line */
    IT_STATUS,      /* %s %>s: the final status */
    IT_BYTES_CLF,   /* %b: body bytes, "-" for none */
    IT_BYTES,       /* %B: body bytes */
    IT_MICROS,      /* %D: microseconds taken */
    IT_SECONDS,     /* %T: whole seconds taken */
    IT_REQ_HEADER,  /* %{Name}i */
    IT_RESP_HEADER, /* %{Name}o: the handler's header table */
    IT_METHOD,      /* %m */
    IT_PATH,        /* %U: the decoded path */
    IT_QUERY,       /* %q: "?query" or "" */
    IT_PROTO,       /* %H */
    IT_JSON         /* the whole json object */
} item_kind_t;

typedef struct {
    item_kind_t kind;
    const char *text; /* IT_TEXT: the text; headers: the name */
    apr_size_t len;   /* IT_TEXT: its length */
} log_item_t;

struct log_format_t {
    const log_item_t *items;
    int nitems;
};

static const char *const named_formats[][2] = {
    { "common", "%h %l %u %t \"%r\" %>s %b" },
    { "combined",
      "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" },
};
#define NNAMED (sizeof(named_formats) / sizeof(named_formats[0]))

static const char month_names[12][4] = { "Jan", "Feb", "Mar", "Apr",
                                         "May", "Jun", "Jul", "Aug",
                                         "Sep", "Oct", "Nov", "Dec" };

/* ---- compiling ----------------------------------------------------------- */

int log_format_is_named(const char *spec)
{
    apr_size_t i;

    if (strcmp(spec, "json") == 0)
        return 1;
    for (i = 0; i < NNAMED; i++)
        if (strcmp(spec, named_formats[i][0]) == 0)
            return 1;
    return 0;
}

static log_item_t *add_item(apr_array_header_t *items, item_kind_t kind)
{
    log_item_t *it = apr_array_push(items);

    it->kind = kind;
    it->text = NULL;
    it->len = 0;
    return it;
}

/*
 * Literal text up to the next '%', with Apache's \t and \\ escapes.  A
 * \n or \r is refused: it would split one request over two lines.
 */
static const char *compile_text(apr_pool_t *p, const char **sp,
                                apr_array_header_t *items)
{
    const char *s = *sp;
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;
    log_item_t *it;

    while (*s != '\0' && *s != '%') {
        if (*s == '\\' && (s[1] == 'n' || s[1] == 'r'))
            return "a log format cannot contain a line break";
        if (*s == '\\' && s[1] == 't') {
            *o++ = '\t';
            s += 2;
        } else if (*s == '\\' && s[1] == '\\') {
            *o++ = '\\';
            s += 2;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    it = add_item(items, IT_TEXT);
    it->text = out;
    it->len = (apr_size_t)(o - out);
    *sp = s;
    return NULL;
}

static int kind_of(char c, item_kind_t *kind)
{
    static const struct {
        char c;
        item_kind_t kind;
    } table[] = {
        { 'h', IT_HOST },        { 'a', IT_HOST },      { 'l', IT_DASH },
        { 'u', IT_DASH },        { 't', IT_TIME },      { 'r', IT_REQUEST },
        { 's', IT_STATUS },      { 'b', IT_BYTES_CLF }, { 'B', IT_BYTES },
        { 'D', IT_MICROS },      { 'T', IT_SECONDS },   { 'i', IT_REQ_HEADER },
        { 'o', IT_RESP_HEADER }, { 'm', IT_METHOD },    { 'U', IT_PATH },
        { 'q', IT_QUERY },       { 'H', IT_PROTO },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (table[i].c == c) {
            *kind = table[i].kind;
            return 1;
        }
    }
    return 0;
}

/* One directive after its '%': [<|>][{arg}][<|>]LETTER. */
static const char *compile_directive(apr_pool_t *p, const char **sp,
                                     apr_array_header_t *items)
{
    const char *s = *sp, *arg = NULL;
    char modifier = '\0';
    item_kind_t kind;
    log_item_t *it;

    if (*s == '%') {
        it = add_item(items, IT_TEXT);
        it->text = "%";
        it->len = 1;
        *sp = s + 1;
        return NULL;
    }
    if (*s == '<' || *s == '>')
        modifier = *s++;
    if (*s == '{') {
        const char *end = strchr(s, '}');
        if (end == NULL)
            return "unterminated %{ in the log format";
        arg = apr_pstrmemdup(p, s + 1, (apr_size_t)(end - s - 1));
        s = end + 1;
    }
    if (modifier == '\0' && (*s == '<' || *s == '>'))
        modifier = *s++;
    if (*s == '\0')
        return "the log format ends in the middle of a % directive";
    if (!kind_of(*s, &kind))
        return apr_psprintf(p,
                            "unknown log format directive %%%c (known: %%h "
                            "%%a %%l %%u %%t %%r %%s %%>s %%b %%B %%D %%T "
                            "%%m %%U %%q %%H %%{Name}i %%{Name}o %%%%)",
                            *s);
    if (modifier != '\0' && kind != IT_STATUS)
        return apr_psprintf(p, "%%%c%c: only %%s takes < or >", modifier, *s);
    if ((kind == IT_REQ_HEADER || kind == IT_RESP_HEADER) &&
        (arg == NULL || *arg == '\0'))
        return apr_psprintf(p, "%%%c needs a header name, as in %%{Name}%c", *s,
                            *s);
    if (arg != NULL && kind != IT_REQ_HEADER && kind != IT_RESP_HEADER)
        return apr_psprintf(p, "%%{%s}%c: %%%c takes no {argument}", arg, *s,
                            *s);
    it = add_item(items, kind);
    it->text = arg;
    *sp = s + 1;
    return NULL;
}

const char *log_format_compile(apr_pool_t *p, const char *spec,
                               const log_format_t **out)
{
    apr_array_header_t *items = apr_array_make(p, 16, sizeof(log_item_t));
    log_format_t *f = apr_pcalloc(p, sizeof(*f));
    const char *s = spec, *why;
    apr_size_t i;

    if (strcmp(spec, "json") == 0) {
        add_item(items, IT_JSON);
        s = "";
    }
    for (i = 0; i < NNAMED; i++)
        if (strcmp(spec, named_formats[i][0]) == 0)
            s = named_formats[i][1];
    if (s == spec && strchr(spec, '%') == NULL)
        return apr_psprintf(p,
                            "unknown log format '%s' (named formats: "
                            "common, combined, json; or a format string "
                            "with %% directives)",
                            spec);
    while (*s != '\0') {
        if (*s == '%') {
            s++;
            why = compile_directive(p, &s, items);
        } else {
            why = compile_text(p, &s, items);
        }
        if (why != NULL)
            return why;
    }
    f->items = (const log_item_t *)items->elts;
    f->nitems = items->nelts;
    *out = f;
    return NULL;
}

/* ---- the line builder ---------------------------------------------------- */

/* Room for n more bytes, growing into the pool (the stack start is never
 * freed; pool growth is freed with the request). */
static char *reserve(log_line_t *b, apr_size_t n)
{
    if (b->len + n > b->cap) {
        apr_size_t cap = b->cap * 2;
        char *np;
        if (cap < b->len + n)
            cap = b->len + n;
        np = apr_palloc(b->pool, cap);
        memcpy(np, b->p, b->len);
        b->p = np;
        b->cap = cap;
    }
    return b->p + b->len;
}

static void put(log_line_t *b, const char *s, apr_size_t n)
{
    memcpy(reserve(b, n), s, n);
    b->len += n;
}

static void put_str(log_line_t *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_num(log_line_t *b, apr_int64_t v)
{
    char tmp[24];
    int n = apr_snprintf(tmp, sizeof(tmp), "%" APR_INT64_T_FMT, v);

    put(b, tmp, (apr_size_t)n);
}

static const char hexdigits[] = "0123456789abcdef";

/* Apache's ap_escape_logitem: '"' and '\' and every byte that is not
 * printable ASCII are escaped, control bytes C-style where C has a name,
 * the rest as \xhh. */
static void put_clf(log_line_t *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    char *d = reserve(b, 4 * strlen(str)), *start = d;

    for (; *s; s++) {
        if (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\') {
            *d++ = (char)*s;
            continue;
        }
        *d++ = '\\';
        switch (*s) {
        case '\b':
            *d++ = 'b';
            break;
        case '\n':
            *d++ = 'n';
            break;
        case '\r':
            *d++ = 'r';
            break;
        case '\t':
            *d++ = 't';
            break;
        case '\v':
            *d++ = 'v';
            break;
        case '\\':
        case '"':
            *d++ = (char)*s;
            break;
        default:
            *d++ = 'x';
            *d++ = hexdigits[*s >> 4];
            *d++ = hexdigits[*s & 0xf];
        }
    }
    b->len += (apr_size_t)(d - start);
}

/* The value, escaped, or "-" when there is none (Apache). */
static void put_clf_or_dash(log_line_t *b, const char *s)
{
    if (s == NULL)
        put(b, "-", 1);
    else
        put_clf(b, s);
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0 if there is none.
 */
static int utf8_len(const unsigned char *s)
{
    int n, i;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    for (i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

/* A JSON string (RFC 8259), quoted: '"' and '\' escaped, control bytes
 * and DEL as \u00xx, and so is every byte that is not part of valid
 * UTF-8, so the line parses as JSON whatever the client sent. */
static void put_json(log_line_t *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    char *d = reserve(b, 6 * strlen((const char *)s) + 2), *start = d;

    *d++ = '"';
    while (*s) {
        int n;
        if (*s >= 0x20 && *s < 0x7f) {
            if (*s == '"' || *s == '\\')
                *d++ = '\\';
            *d++ = (char)*s++;
        } else if (*s >= 0x80 && (n = utf8_len(s)) > 0) {
            memcpy(d, s, (size_t)n);
            d += n;
            s += n;
        } else {
            memcpy(d, "\\u00", 4);
            d[4] = hexdigits[*s >> 4];
            d[5] = hexdigits[*s & 0xf];
            d += 6;
            s++;
        }
    }
    *d++ = '"';
    b->len += (apr_size_t)(d - start);
}

/* ---- items --------------------------------------------------------------- */

/* The IP of "ip:port" or "[ipv6]:port", without the port or brackets. */
static void put_client_ip(log_line_t *b, const char *remote)
{
    const char *end;

    if (remote == NULL || *remote == '\0') {
        put(b, "-", 1);
        return;
    }
    if (remote[0] == '[' && (end = strchr(remote, ']')) != NULL) {
        put(b, remote + 1, (apr_size_t)(end - remote - 1));
        return;
    }
    end = strrchr(remote, ':');
    put(b, remote, end ? (apr_size_t)(end - remote) : strlen(remote));
}

/* This thread's last formatted second: requests arrive many a second,
 * and localtime_r takes a process-wide lock. */
static __thread apr_time_t clf_sec = -1;
static __thread char clf_text[40];
static __thread apr_size_t clf_len;

static void put_clf_time(log_line_t *b, apr_time_t t)
{
    apr_time_t sec = apr_time_sec(t);

    if (sec != clf_sec) {
        apr_time_exp_t x;
        apr_int32_t off;
        char sign = '+';
        apr_time_exp_lt(&x, apr_time_from_sec(sec));
        off = x.tm_gmtoff;
        if (off < 0) {
            sign = '-';
            off = -off;
        }
        clf_len = (apr_size_t)apr_snprintf(
            clf_text, sizeof(clf_text),
            "[%02d/%s/%d:%02d:%02d:%02d %c%.2d%.2d]", x.tm_mday,
            month_names[x.tm_mon], x.tm_year + 1900, x.tm_hour, x.tm_min,
            x.tm_sec, sign, off / 3600, (off % 3600) / 60);
        clf_sec = sec;
    }
    put(b, clf_text, clf_len);
}

static __thread apr_time_t rfc_sec = -1;
static __thread char rfc_text[24];

/* RFC 3339 in UTC with milliseconds: 2000-10-10T20:55:36.123Z. */
static void put_rfc3339(log_line_t *b, apr_time_t t)
{
    apr_time_t sec = apr_time_sec(t);
    char ms[6];

    if (sec != rfc_sec) {
        apr_time_exp_t x;
        apr_time_exp_gmt(&x, apr_time_from_sec(sec));
        apr_snprintf(rfc_text, sizeof(rfc_text),
                     "%04d-%02d-%02dT%02d:%02d:%02d", x.tm_year + 1900,
                     x.tm_mon + 1, x.tm_mday, x.tm_hour, x.tm_min, x.tm_sec);
        rfc_sec = sec;
    }
    put(b, rfc_text, 19);
    apr_snprintf(ms, sizeof(ms), ".%03dZ",
                 (int)(apr_time_usec(t) / 1000) % 1000);
    put(b, ms, 5);
}

/* %r: "METHOD TARGET PROTO" as sent, "-" when the line was not parsed. */
static void put_request_line(log_line_t *b, weft_request_t *r)
{
    const char *m = weft_req_method(r), *u = weft_req_uri(r),
               *p = weft_req_proto(r);

    if (m == NULL && u == NULL && p == NULL) {
        put(b, "-", 1);
        return;
    }
    put_clf_or_dash(b, m);
    put(b, " ", 1);
    put_clf_or_dash(b, u);
    put(b, " ", 1);
    put_clf_or_dash(b, p);
}

static const char *resp_header(weft_request_t *r, const char *name)
{
    apr_table_t *h = weft_rw_headers(weft_req_rw(r));

    return h != NULL ? apr_table_get(h, name) : NULL;
}

static const char *req_header(weft_request_t *r, const char *name)
{
    apr_table_t *h = weft_req_headers(r);

    return h != NULL ? apr_table_get(h, name) : NULL;
}

static void put_json_field(log_line_t *b, const char *name, const char *v)
{
    put_str(b, name);
    put_json(b, v);
}

/* The json format's one object; field order is fixed. */
static void put_json_record(log_line_t *b, weft_request_t *r, apr_time_t now)
{
    put_str(b, "{\"time\":\"");
    put_rfc3339(b, weft_req_start(r));
    put(b, "\"", 1);
    put_json_field(b, ",\"remote\":", weft_req_remote(r));
    put_json_field(b, ",\"method\":", weft_req_method(r));
    put_json_field(b, ",\"uri\":", weft_req_uri(r));
    put_json_field(b, ",\"proto\":", weft_req_proto(r));
    put_str(b, ",\"status\":");
    put_num(b, weft_req_status(r));
    put_str(b, ",\"bytes\":");
    put_num(b, weft_req_bytes_sent(r));
    put_str(b, ",\"duration_us\":");
    put_num(b, now - weft_req_start(r));
    put_json_field(b, ",\"referer\":", req_header(r, "Referer"));
    put_json_field(b, ",\"user_agent\":", req_header(r, "User-Agent"));
    put(b, "}", 1);
}

static void put_item(log_line_t *b, const log_item_t *it, weft_request_t *r,
                     apr_time_t now)
{
    apr_off_t bytes;
    const char *q;

    switch (it->kind) {
    case IT_TEXT:
        put(b, it->text, it->len);
        break;
    case IT_HOST:
        put_client_ip(b, weft_req_remote(r));
        break;
    case IT_DASH:
        put(b, "-", 1);
        break;
    case IT_TIME:
        put_clf_time(b, weft_req_start(r));
        break;
    case IT_REQUEST:
        put_request_line(b, r);
        break;
    case IT_STATUS:
        /* Apache prints "-" for a status never set. */
        if (weft_req_status(r) <= 0)
            put(b, "-", 1);
        else
            put_num(b, weft_req_status(r));
        break;
    case IT_BYTES_CLF:
        bytes = weft_req_bytes_sent(r);
        if (bytes == 0)
            put(b, "-", 1);
        else
            put_num(b, bytes);
        break;
    case IT_BYTES:
        put_num(b, weft_req_bytes_sent(r));
        break;
    case IT_MICROS:
        put_num(b, now - weft_req_start(r));
        break;
    case IT_SECONDS:
        put_num(b, apr_time_sec(now - weft_req_start(r)));
        break;
    case IT_REQ_HEADER:
        put_clf_or_dash(b, req_header(r, it->text));
        break;
    case IT_RESP_HEADER:
        put_clf_or_dash(b, resp_header(r, it->text));
        break;
    case IT_METHOD:
        put_clf_or_dash(b, weft_req_method(r));
        break;
    case IT_PATH:
        put_clf_or_dash(b, weft_req_method(r) ? weft_req_path(r) : NULL);
        break;
    case IT_QUERY:
        q = weft_req_method(r) ? weft_req_query(r) : NULL;
        if (q != NULL) {
            put(b, "?", 1);
            put_clf(b, q);
        }
        break;
    case IT_PROTO:
        put_clf_or_dash(b, weft_req_proto(r));
        break;
    case IT_JSON:
        put_json_record(b, r, now);
        break;
    }
}

void log_format_render(const log_format_t *f, weft_request_t *r, apr_time_t now,
                       log_line_t *out)
{
    int i;

    for (i = 0; i < f->nitems; i++)
        put_item(out, &f->items[i], r, now);
    put(out, "\n", 1);
}
