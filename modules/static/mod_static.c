/*
 * mod_static.c -- the `static` handler: Go's http.FileServer over the
 * directory named by StaticRoot (serveFile and serveContent: redirects,
 * index.html, listings, preconditions, ranges, multipart), with small
 * files copied into the response and larger ones sent with sendfile(2).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_portable.h>
#include <apr_strings.h>

#include "static.h"

#define DEFAULT_SENDFILE_MIN (16 * 1024)
#define DEFAULT_MIME_TYPES "/etc/mime.types"

/* The per-server config: filled while the files are read (mime by
 * post_config), immutable once serving starts, so any thread reads it. */
typedef struct {
    const char *root;      /* StaticRoot, resolved; NULL: unconfigured */
    const char *root_file; /* where StaticRoot was written, for errors */
    unsigned root_line;
    const char *strip;       /* StaticStripPrefix; NULL: none */
    int listing;             /* StaticListing */
    int follow;              /* StaticFollowSymlinks */
    apr_size_t sendfile_min; /* StaticSendfileMin */
    const char *mime_path;   /* StaticMimeTypes; NULL: none */
    int mime_explicit;       /* StaticMimeTypes was written */
    apr_hash_t *mime;        /* loaded at post_config; read-only after */
} static_config_t;

WEFT_DECLARE_MODULE(static); /* defined below; the handler needs it */

/* ---- configuration -------------------------------------------------------- */

static void *static_create_config(apr_pool_t *p, weft_server_t *s)
{
    static_config_t *c = apr_pcalloc(p, sizeof(*c));

    c->sendfile_min = DEFAULT_SENDFILE_MIN;
    c->mime_path = DEFAULT_MIME_TYPES;
    return c;
}

/* StaticRoot: a path like any other, plus where it was written, so the
 * check at test_config can point at the line. */
static const char *set_root(const weft_cmd_t *cmd, void *mconfig, int argc,
                            const char *const *argv)
{
    static_config_t *c = mconfig;

    c->root_file = cmd->file;
    c->root_line = cmd->line;
    return weft_set_path(cmd, mconfig, argc, argv);
}

static const char *set_mime_types(const weft_cmd_t *cmd, void *mconfig,
                                  int argc, const char *const *argv)
{
    static_config_t *c = mconfig;

    c->mime_explicit = 1;
    if (strcasecmp(argv[0], "none") == 0) {
        c->mime_path = NULL;
        return NULL;
    }
    return weft_set_path(cmd, mconfig, argc, argv);
}

static const weft_directive_t static_directives[] = {
    WEFT_DIRECTIVE_SLOT("StaticRoot", WEFT_ARGS_ONE, set_root, static_config_t,
                        root, "StaticRoot DIR: the directory to serve"),
    WEFT_DIRECTIVE_SLOT("StaticStripPrefix", WEFT_ARGS_ONE, weft_set_string,
                        static_config_t, strip,
                        "StaticStripPrefix PREFIX: removed from the path "
                        "first (Go's http.StripPrefix)"),
    WEFT_DIRECTIVE_SLOT("StaticListing", WEFT_ARGS_FLAG, weft_set_flag,
                        static_config_t, listing,
                        "StaticListing on|off: list directories without "
                        "index.html (off: 403)"),
    WEFT_DIRECTIVE_SLOT("StaticFollowSymlinks", WEFT_ARGS_FLAG, weft_set_flag,
                        static_config_t, follow,
                        "StaticFollowSymlinks on|off: follow symlinks that "
                        "leave StaticRoot"),
    WEFT_DIRECTIVE_SLOT("StaticSendfileMin", WEFT_ARGS_ONE, weft_set_size,
                        static_config_t, sendfile_min,
                        "StaticSendfileMin SIZE: bodies this large go out "
                        "with sendfile (default 16K)"),
    WEFT_DIRECTIVE_SLOT("StaticMimeTypes", WEFT_ARGS_ONE, set_mime_types,
                        static_config_t, mime_path,
                        "StaticMimeTypes FILE|none: types for extensions "
                        "the built-in table lacks (/etc/mime.types)"),
    WEFT_DIRECTIVE_END,
};

static int static_test_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                              weft_server_t *s, const char **err)
{
    static_config_t *c = weft_module_config(s, &static_module);
    apr_finfo_t fi;
    apr_status_t rv;

    if (c == NULL || c->root == NULL)
        return WEFT_DECLINED;
    rv = apr_stat(&fi, c->root, APR_FINFO_TYPE, ptemp);
    if (rv != APR_SUCCESS) {
        char msg[120];
        *err = weft_config_errorf(pconf, c->root_file, c->root_line,
                                  "StaticRoot", "%s: %s", c->root,
                                  apr_strerror(rv, msg, sizeof(msg)));
        return WEFT_ERROR;
    }
    if (fi.filetype != APR_DIR) {
        *err =
            weft_config_errorf(pconf, c->root_file, c->root_line, "StaticRoot",
                               "%s is not a directory", c->root);
        return WEFT_ERROR;
    }
    return WEFT_OK;
}

/* The system's types, once, into the server pool: read-only afterwards,
 * so every handler thread may look them up. */
static int static_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                              weft_server_t *s)
{
    static_config_t *c = weft_module_config(s, &static_module);
    apr_status_t rv;

    if (c == NULL || c->root == NULL || c->mime_path == NULL)
        return WEFT_OK;
    rv = static_mime_load(pconf, c->mime_path, &c->mime);
    if (rv != APR_SUCCESS && c->mime_explicit)
        weft_log_error(WEFT_LOG_WARN, rv, "mod_static: cannot read %s",
                       c->mime_path);
    return WEFT_OK;
}

/* ---- answers ---------------------------------------------------------------- */

/* Go's toHTTPError bodies: never a path or an errno. */
static void fs_error(weft_rw_t *w, static_fs_status_t st)
{
    switch (st) {
    case STATIC_FS_NOT_FOUND:
        weft_rw_error(w, 404, "404 page not found");
        break;
    case STATIC_FS_FORBIDDEN:
        weft_rw_error(w, 403, "403 Forbidden");
        break;
    default:
        weft_rw_error(w, 500, "500 Internal Server Error");
        break;
    }
}

/* Go's localRedirect: a relative Location, keeping the query. */
static void local_redirect(weft_rw_t *w, weft_request_t *r, const char *to)
{
    const char *q = weft_req_query(r);

    if (q != NULL && q[0] != '\0')
        to = apr_pstrcat(weft_req_pool(r), to, "?", q, NULL);
    apr_table_set(weft_rw_headers(w), "Location", to);
    weft_rw_write_header(w, 301);
}

/* Go's writeNotModified. */
static void not_modified(weft_rw_t *w)
{
    apr_table_t *h = weft_rw_headers(w);

    apr_table_unset(h, "Content-Type");
    apr_table_unset(h, "Content-Length");
    apr_table_unset(h, "Content-Encoding");
    if (apr_table_get(h, "ETag") != NULL)
        apr_table_unset(h, "Last-Modified");
    weft_rw_write_header(w, 304);
}

static apr_int64_t mtime_of(const struct stat *st)
{
    /* Go's isZeroTime: the epoch means "unknown". */
    if (st->st_mtim.tv_sec == 0 && st->st_mtim.tv_nsec == 0)
        return 0;
    return (apr_int64_t)st->st_mtim.tv_sec;
}

static void set_last_modified(weft_rw_t *w, apr_pool_t *p, apr_int64_t mtime)
{
    char *date;

    if (mtime == 0)
        return;
    date = apr_palloc(p, 30);
    static_http_date(date, mtime);
    apr_table_setn(weft_rw_headers(w), "Last-Modified", date);
}

static void conds_of(weft_request_t *r, static_conds_t *c)
{
    const char *m = weft_req_method(r);

    c->get_or_head = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    c->if_match = weft_req_header(r, "If-Match");
    c->if_unmodified_since = weft_req_header(r, "If-Unmodified-Since");
    c->if_none_match = weft_req_header(r, "If-None-Match");
    c->if_modified_since = weft_req_header(r, "If-Modified-Since");
    c->if_range = weft_req_header(r, "If-Range");
    c->range = weft_req_header(r, "Range");
}

/* ---- sending bytes ---------------------------------------------------------- */

/* pread(2) until n bytes or the end of the file; bytes read, or -1. */
static apr_ssize_t pread_full(int fd, char *buf, apr_size_t n, apr_off_t off)
{
    apr_size_t got = 0;

    while (got < n) {
        ssize_t k =
            pread(fd, buf + got, n - got, (off_t)(off + (apr_off_t)got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        got += (apr_size_t)k;
    }
    return (apr_ssize_t)got;
}

/* The response is cut short: what is correct goes out, then the
 * connection closes rather than carry bytes the header did not promise. */
static void cut_short(weft_rw_t *w, const char *buf, apr_ssize_t n)
{
    if (n > 0)
        weft_rw_write(w, buf, (apr_size_t)n);
    weft_rw_flush(w);
    weft_rw_abort(w);
}

/* One region of the file as body bytes: copied when small, otherwise by
 * sendfile under the write deadline.  Not APR_SUCCESS: stop sending. */
static apr_status_t send_region(weft_rw_t *w, weft_request_t *r,
                                const static_config_t *c,
                                const static_file_t *f, apr_off_t off,
                                apr_off_t len, const char *have)
{
    apr_pool_t *p = weft_req_pool(r);
    apr_file_t *af = NULL;
    int fd = f->fd;

    if (len <= 0)
        return APR_SUCCESS;
    if ((apr_size_t)len < c->sendfile_min || have != NULL) {
        if (have == NULL) {
            char *buf = apr_palloc(p, (apr_size_t)len);
            apr_ssize_t n = pread_full(f->fd, buf, (apr_size_t)len, off);
            if (n < (apr_ssize_t)len) {
                cut_short(w, buf, n);
                return WEFT_EFILESHRANK;
            }
            have = buf;
        }
        return weft_rw_write(w, have, (apr_size_t)len);
    }
    apr_os_file_put(&af, &fd, APR_FOPEN_READ, p);
    return weft_rw_send_file(w, af, off, len);
}

/* A multipart/byteranges body: part headers through the buffer, the
 * bytes of each range through send_region. */
static void send_multipart(weft_rw_t *w, weft_request_t *r,
                           const static_config_t *c, const static_file_t *f,
                           const static_multipart_t *m,
                           const apr_array_header_t *ranges)
{
    apr_pool_t *p = weft_req_pool(r);
    const char *s;
    apr_size_t n;
    int i;

    for (i = 0; i < ranges->nelts; i++) {
        const static_range_t *ra = &APR_ARRAY_IDX(ranges, i, static_range_t);
        s = static_multipart_head(p, m, i, ra, &n);
        if (weft_rw_write(w, s, n) != APR_SUCCESS ||
            send_region(w, r, c, f, ra->start, ra->length, NULL) != APR_SUCCESS)
            return;
    }
    s = static_multipart_tail(p, m, &n);
    weft_rw_write(w, s, n);
}

/*
 * The Content-Type: by extension, else sniffed from the first 512 bytes
 * (Go's serveContent).  A small file is read whole here and *whole keeps
 * it for the body.
 */
static const char *content_type(weft_request_t *r, const static_config_t *c,
                                const static_file_t *f, const char *name,
                                const char **whole)
{
    apr_size_t size = (apr_size_t)f->st.st_size, want;
    const char *t = static_mime_type(c->mime, static_ext(name));
    apr_ssize_t n;
    char *buf;

    *whole = NULL;
    if (t != NULL)
        return t;
    want = size < c->sendfile_min ? size : WEFT_SNIFF_LEN;
    buf = apr_palloc(weft_req_pool(r), want > 0 ? want : 1);
    n = pread_full(f->fd, buf, want, 0);
    if (n < 0)
        n = 0;
    if ((apr_size_t)n == size && size < c->sendfile_min)
        *whole = buf;
    return weft_detect_content_type(
        buf, (apr_size_t)n < WEFT_SNIFF_LEN ? (apr_size_t)n : WEFT_SNIFF_LEN);
}

/* Go's serveContent for an open regular file. */
static void serve_content(weft_rw_t *w, weft_request_t *r,
                          const static_config_t *c, const static_file_t *f,
                          const char *name)
{
    apr_pool_t *p = weft_req_pool(r);
    apr_table_t *h = weft_rw_headers(w);
    apr_int64_t mtime = mtime_of(&f->st);
    apr_off_t size = f->st.st_size, send = size, off = 0;
    const char *range, *ctype, *whole;
    apr_array_header_t *ranges;
    static_multipart_t mp;
    static_conds_t conds;
    int code = 200;

    /* The validator goes in first, as a handler's ETag would. */
    apr_table_setn(h, "ETag", static_etag(p, &f->st));
    set_last_modified(w, p, mtime);
    conds_of(r, &conds);
    switch (
        static_preconditions(&conds, apr_table_get(h, "ETag"), mtime, &range)) {
    case STATIC_PRE_NOT_MODIFIED:
        not_modified(w);
        return;
    case STATIC_PRE_FAILED:
        weft_rw_write_header(w, 412);
        return;
    default:
        break;
    }
    ctype = content_type(r, c, f, name, &whole);
    apr_table_setn(h, "Content-Type", ctype);

    switch (static_parse_range(p, range, size, &ranges)) {
    case STATIC_RANGE_OK:
        break;
    case STATIC_RANGE_NO_OVERLAP:
        if (size == 0) {
            /* Go: a Range on an empty file is ignored, not refused. */
            ranges->nelts = 0;
            break;
        }
        apr_table_setn(h, "Content-Range",
                       apr_psprintf(p, "bytes */%" APR_OFF_T_FMT, size));
        weft_rw_error(w, 416, "invalid range: failed to overlap");
        return;
    default:
        weft_rw_error(w, 416, "invalid range");
        return;
    }
    if (static_ranges_sum(ranges) > size)
        ranges->nelts = 0; /* more bytes than the file: ignore it (Go) */
    if (ranges->nelts == 1) {
        const static_range_t *ra = &APR_ARRAY_IDX(ranges, 0, static_range_t);
        off = ra->start;
        send = ra->length;
        code = 206;
        apr_table_setn(h, "Content-Range", static_content_range(p, ra, size));
    } else if (ranges->nelts > 1) {
        if (static_multipart_init(&mp, ctype, size) != APR_SUCCESS) {
            weft_rw_error(w, 500, "500 Internal Server Error");
            return;
        }
        send = static_multipart_size(p, &mp, ranges);
        code = 206;
        apr_table_setn(h, "Content-Type",
                       apr_pstrcat(p, "multipart/byteranges; boundary=",
                                   mp.boundary, NULL));
    }
    apr_table_setn(h, "Accept-Ranges", "bytes");
    apr_table_setn(h, "Content-Length",
                   apr_psprintf(p, "%" APR_OFF_T_FMT, send));
    weft_rw_write_header(w, code);
    if (strcmp(weft_req_method(r), "HEAD") == 0)
        return;
    if (ranges->nelts > 1)
        send_multipart(w, r, c, f, &mp, ranges);
    else
        send_region(w, r, c, f, off, send,
                    whole != NULL && send == size ? whole : NULL);
}

/* A directory without index.html: Go's dirList, when allowed. */
static void serve_listing(weft_rw_t *w, weft_request_t *r,
                          const static_config_t *c, const static_file_t *dir)
{
    apr_pool_t *p = weft_req_pool(r);
    apr_int64_t mtime = mtime_of(&dir->st);
    apr_array_header_t *ents;
    static_conds_t conds;
    const char *html;
    apr_size_t len;

    if (!c->listing) {
        fs_error(w, STATIC_FS_FORBIDDEN);
        return;
    }
    conds_of(r, &conds);
    if (static_not_modified_since(&conds, mtime)) {
        not_modified(w);
        return;
    }
    set_last_modified(w, p, mtime);
    if (static_fs_list(p, dir, &ents) != APR_SUCCESS) {
        weft_rw_error(w, 500, "500 Internal Server Error");
        return;
    }
    html = static_listing_html(p, ents, &len);
    apr_table_setn(weft_rw_headers(w), "Content-Type",
                   "text/html; charset=utf-8");
    weft_rw_write(w, html, len);
}

/* ---- the handler -------------------------------------------------------------- */

static int has_suffix(const char *s, apr_size_t n, const char *suffix)
{
    apr_size_t k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/*
 * The request's path as Go's FileServer sees it (URL.Path after
 * StripPrefix, with a leading '/'), NUL bytes kept: *len counts them.
 * NULL when StripPrefix answers 404.
 */
static const char *url_path(weft_request_t *r, const static_config_t *c,
                            apr_size_t *len)
{
    apr_pool_t *p = weft_req_pool(r);
    const char *raw = weft_req_raw_path(r), *path;
    apr_size_t n;
    char *full = static_unescape(p, raw, &n);

    if (full == NULL) { /* the core refuses bad escapes; be safe anyway */
        full = (char *)weft_req_path(r);
        n = strlen(full);
    }
    path = full;
    if (c->strip != NULL) {
        path = static_strip_prefix(p, full, raw, c->strip);
        if (path == NULL)
            return NULL;
        n -= (apr_size_t)(path - full);
    }
    if (path[0] != '/' || n == 0) {
        char *s = apr_palloc(p, n + 2);
        s[0] = '/';
        memcpy(s + 1, path, n);
        s[n + 1] = '\0';
        path = s;
        n++;
    }
    *len = n;
    return path;
}

/* Go's serveFile(w, r, root, path.Clean(upath), redirect=true). */
static void static_handler(weft_rw_t *w, weft_request_t *r)
{
    static_config_t *c = weft_module_config(weft_req_server(r), &static_module);
    apr_pool_t *p = weft_req_pool(r);
    const char *method = weft_req_method(r), *upath, *name, *rel;
    static_file_t f, idx;
    static_fs_status_t st;
    apr_size_t ulen;

    if (c == NULL || c->root == NULL) {
        weft_rw_error(w, 404, "404 page not found");
        return;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        apr_table_setn(weft_rw_headers(w), "Allow", "GET, HEAD");
        weft_rw_error(w, 405, "Method Not Allowed");
        return;
    }
    upath = url_path(r, c, &ulen);
    if (upath == NULL) {
        weft_rw_error(w, 404, "404 page not found");
        return;
    }
    /* Go redirects .../index.html to ./ before it looks at the disk. */
    if (has_suffix(upath, ulen, "/index.html")) {
        local_redirect(w, r, "./");
        return;
    }
    if (strlen(upath) != ulen) {
        /* A NUL byte: no file has one in its name (Go's open fails). */
        fs_error(w, STATIC_FS_ERROR);
        return;
    }
    name = static_path_clean(p, upath);
    rel = name + 1;
    st = static_fs_open(p, c->root, rel, c->follow, &f);
    if (st != STATIC_FS_OK) {
        fs_error(w, st);
        return;
    }
    /* Redirect to the canonical path: a slash ends a directory's URL, and
     * only a directory's. */
    if (S_ISDIR(f.st.st_mode)) {
        if (upath[ulen - 1] != '/') {
            local_redirect(
                w, r, apr_pstrcat(p, static_path_base(p, upath), "/", NULL));
            return;
        }
        if (static_fs_open_index(p, c->root, rel, c->follow, &f, &idx) ==
            STATIC_FS_OK) {
            f = idx;
            name = "index.html";
        }
    } else if (upath[ulen - 1] == '/') {
        const char *base = static_path_base(p, upath);
        if (strcmp(base, "/") == 0 || strcmp(base, ".") == 0)
            fs_error(w, STATIC_FS_ERROR);
        else
            local_redirect(w, r, apr_pstrcat(p, "../", base, NULL));
        return;
    }
    if (S_ISDIR(f.st.st_mode))
        serve_listing(w, r, c, &f);
    else
        serve_content(w, r, c, &f, static_path_base(p, name));
}

static void static_register_hooks(apr_pool_t *p)
{
    weft_handler_register("static", static_handler);
    weft_hook_test_config(static_test_config, NULL, NULL, WEFT_HOOK_MIDDLE);
    weft_hook_post_config(static_post_config, NULL, NULL, WEFT_HOOK_MIDDLE);
}

WEFT_DECLARE_MODULE(static) = {
    WEFT_MODULE_HEADER,    /* magic and ABI version */
    "static",              /* name, for logs and hook ordering */
    static_directives,     /* StaticRoot, StaticListing, ... */
    static_create_config,  /* per-server static_config_t */
    static_register_hooks, /* the handler, test_config, post_config */
};
