/*
 * static.h -- mod_static's internals: paths confined to a root
 * (static_fs.c), Go's ServeContent rules for dates, preconditions, ranges,
 * multipart and listings (static_http.c), and the MIME table
 * (static_mime.c).  None of it touches the response writer, so
 * tests/unit/test_static.c links these files directly.
 */
#ifndef STATIC_H
#define STATIC_H

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <sys/stat.h>

#include "weft.h"

#if defined(__GNUC__) && __GNUC__ >= 4
#define STATIC_HIDDEN __attribute__((visibility("hidden")))
#else
#define STATIC_HIDDEN
#endif

/* ---- paths and files (static_fs.c) ------------------------------------- */

/*
 * Go's url unescape of a raw path, keeping NUL bytes: the result (in p)
 * is NUL-terminated and *len counts every byte, so a "%00" shows as a
 * length beyond strlen.  NULL for a malformed escape.
 */
STATIC_HIDDEN char *static_unescape(apr_pool_t *p, const char *raw,
                                    apr_size_t *len);

/* Go's path.Clean, in p.  "" becomes ".". */
STATIC_HIDDEN char *static_path_clean(apr_pool_t *p, const char *path);

/* Go's path.Base, in p: "b" for "/a/b/", "/" for "/", "." for "". */
STATIC_HIDDEN char *static_path_base(apr_pool_t *p, const char *path);

/*
 * Go's http.StripPrefix on URL.Path and URL.RawPath: the stripped path
 * (in p), or NULL when Go answers 404 (path lacks the prefix, or the raw
 * path is kept by Go and lacks it).
 */
STATIC_HIDDEN const char *static_strip_prefix(apr_pool_t *p, const char *path,
                                              const char *raw,
                                              const char *prefix);

/* What opening a path under the root came to (Go's toHTTPError classes,
 * plus the confinement refusal). */
typedef enum {
    STATIC_FS_OK = 0,
    STATIC_FS_NOT_FOUND, /* 404: missing, or a non-directory in the way */
    STATIC_FS_FORBIDDEN, /* 403: permission, a symlink leaving the root,
                            not a regular file or directory */
    STATIC_FS_ERROR      /* 500: anything else */
} static_fs_status_t;

/* An open file or directory and what fstat(2) said of it.  The descriptor
 * belongs to the pool given to static_fs_open (closed with it). */
typedef struct {
    int fd;
    struct stat st;
} static_file_t;

/*
 * Opens rel (a cleaned relative path without "..": "" is the root
 * itself) under the directory root, once: no stat-then-open race.  With
 * follow off, every symlink on the way is resolved by hand, and one whose
 * target leaves the root is refused (STATIC_FS_FORBIDDEN); ".." in a
 * target is resolved lexically.  With follow on the kernel follows them.
 * Only regular files and directories are served.  Any thread.
 */
STATIC_HIDDEN static_fs_status_t static_fs_open(apr_pool_t *p, const char *root,
                                                const char *rel, int follow,
                                                static_file_t *out);

/*
 * Opens "index.html" in the directory dir (rel is that directory's path
 * under root), with the same rules: a direct openat in the common case,
 * the full walk when a symlink is in the way.
 */
STATIC_HIDDEN static_fs_status_t
static_fs_open_index(apr_pool_t *p, const char *root, const char *rel,
                     int follow, const static_file_t *dir, static_file_t *out);

/* One directory entry for the listing. */
typedef struct {
    const char *name;
    int is_dir; /* the entry itself, not what a symlink points at (Go) */
} static_dirent_t;

/* The entries of the open directory dir ("." and ".." left out), sorted
 * by name bytewise as Go's dirList does; an array in p.  APR_SUCCESS or
 * the errno of the failure. */
STATIC_HIDDEN apr_status_t static_fs_list(apr_pool_t *p,
                                          const static_file_t *dir,
                                          apr_array_header_t **out);

/* ---- Go's ServeContent rules (static_http.c) --------------------------- */

/* Go's http.TimeFormat of a Unix time, into buf (at least 30 bytes). */
STATIC_HIDDEN void static_http_date(char *buf, apr_int64_t unix_sec);

/* Go's http.ParseTime: TimeFormat, RFC 850, then ANSI C.  1 and *unix_sec
 * set, or 0 when text is none of them. */
STATIC_HIDDEN int static_parse_http_date(const char *text,
                                         apr_int64_t *unix_sec);

/* weft's weak validator: W/"<size hex>-<mtime ns hex>", in p. */
STATIC_HIDDEN const char *static_etag(apr_pool_t *p, const struct stat *st);

/* The request fields the preconditions read (NULL when absent). */
typedef struct {
    int get_or_head;
    const char *if_match;
    const char *if_unmodified_since;
    const char *if_none_match;
    const char *if_modified_since;
    const char *if_range;
    const char *range;
} static_conds_t;

typedef enum {
    STATIC_PRE_GO = 0,       /* serve; *range says which Range to honour */
    STATIC_PRE_NOT_MODIFIED, /* 304 */
    STATIC_PRE_FAILED        /* 412 */
} static_pre_t;

/*
 * Go's checkPreconditions (RFC 7232 section 6) against the response's
 * ETag (NULL: none) and the content's modification time (0: unknown).
 * On STATIC_PRE_GO, *range is the Range value to honour, or NULL when
 * there is none or If-Range voided it.
 */
STATIC_HIDDEN static_pre_t static_preconditions(const static_conds_t *c,
                                                const char *etag,
                                                apr_int64_t mtime_sec,
                                                const char **range);

/* Go's checkIfModifiedSince alone (for directory listings): 1 when the
 * answer is 304. */
STATIC_HIDDEN int static_not_modified_since(const static_conds_t *c,
                                            apr_int64_t mtime_sec);

/* One byte range: start and length, both within the content. */
typedef struct {
    apr_off_t start;
    apr_off_t length;
} static_range_t;

typedef enum {
    STATIC_RANGE_OK = 0,     /* *out holds the ranges (maybe none) */
    STATIC_RANGE_NO_OVERLAP, /* "invalid range: failed to overlap" */
    STATIC_RANGE_INVALID     /* "invalid range" */
} static_range_status_t;

/* Go's parseRange: the ranges of s (NULL or "": none) over size bytes,
 * as an array of static_range_t in p. */
STATIC_HIDDEN static_range_status_t static_parse_range(
    apr_pool_t *p, const char *s, apr_off_t size, apr_array_header_t **out);

/* Go's sumRangesSize. */
STATIC_HIDDEN apr_off_t static_ranges_sum(const apr_array_header_t *ranges);

/* "bytes START-END/SIZE", in p. */
STATIC_HIDDEN const char *
static_content_range(apr_pool_t *p, const static_range_t *ra, apr_off_t size);

/* A multipart/byteranges body in the layout of Go's mime/multipart. */
#define STATIC_BOUNDARY_LEN 60 /* 30 random bytes in hex, as Go */
typedef struct {
    char boundary[STATIC_BOUNDARY_LEN + 1];
    const char *ctype; /* each part's Content-Type */
    apr_off_t size;    /* the whole content's size */
} static_multipart_t;

/* A fresh random boundary. */
STATIC_HIDDEN apr_status_t static_multipart_init(static_multipart_t *m,
                                                 const char *ctype,
                                                 apr_off_t size);
/* The bytes before part i (boundary line and part header), in p. */
STATIC_HIDDEN const char *static_multipart_head(apr_pool_t *p,
                                                const static_multipart_t *m,
                                                int i, const static_range_t *ra,
                                                apr_size_t *len);
/* The closing boundary, in p. */
STATIC_HIDDEN const char *static_multipart_tail(apr_pool_t *p,
                                                const static_multipart_t *m,
                                                apr_size_t *len);
/* Go's rangesMIMESize: the body's exact length. */
STATIC_HIDDEN apr_off_t static_multipart_size(apr_pool_t *p,
                                              const static_multipart_t *m,
                                              const apr_array_header_t *ranges);

/* Go's dirList page for the sorted entries, in p. */
STATIC_HIDDEN const char *static_listing_html(apr_pool_t *p,
                                              const apr_array_header_t *ents,
                                              apr_size_t *len);

/* Go's url.URL{Path: s}.String() (what dirList puts in href), in p. */
STATIC_HIDDEN const char *static_url_path(apr_pool_t *p, const char *s);

/* Go's url escape(s, encodePath), in p. */
STATIC_HIDDEN const char *static_escape_path(apr_pool_t *p, const char *s);

/* ---- Content-Type by extension (static_mime.c) ------------------------- */

/* Go's filepath.Ext: from the last '.' of the last element, or "". */
STATIC_HIDDEN const char *static_ext(const char *name);

/* The built-in table (Go's mime builtins and more common web types), by
 * extension with its dot, case-insensitively; NULL when it lacks it. */
STATIC_HIDDEN const char *static_mime_builtin(const char *ext);

/*
 * Reads a mime.types file (type, then extensions, '#' comments) into a
 * hash in p mapping ".ext" (lower case) to the type, text/ types given
 * "; charset=utf-8" as Go's mime package does; the last line naming an
 * extension wins (Go's loadMimeFile).  APR_SUCCESS, or the error opening the file.
 */
STATIC_HIDDEN apr_status_t static_mime_load(apr_pool_t *p, const char *path,
                                            apr_hash_t **out);

/* The type for ext: the built-in table first, then the loaded hash
 * (may be NULL); NULL when neither knows it.  Any thread. */
STATIC_HIDDEN const char *static_mime_type(const apr_hash_t *loaded,
                                           const char *ext);

#endif /* STATIC_H */
