/*
 * static_mime.c -- Content-Type by file extension: a built-in table (Go's
 * mime package builtins and the other common web types), then a
 * mime.types file read once at start-up for what the table lacks.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "static.h"

/* Longest extension looked up (longer ones are in no table). */
#define EXT_MAX 32

typedef struct {
    const char *ext;
    const char *type;
} mime_entry_t;

/* Sorted by extension (bsearch).  The first block is Go's builtinTypes
 * exactly; the rest are common types Go leaves to the system files. */
static const mime_entry_t builtin[] = {
    { ".7z", "application/x-7z-compressed" },
    { ".aac", "audio/aac" },
    { ".apng", "image/apng" },
    { ".atom", "application/atom+xml" },
    { ".avif", "image/avif" },
    { ".bmp", "image/bmp" },
    { ".css", "text/css; charset=utf-8" },
    { ".csv", "text/csv; charset=utf-8" },
    { ".flac", "audio/flac" },
    { ".gif", "image/gif" },
    { ".gz", "application/gzip" },
    { ".htm", "text/html; charset=utf-8" },
    { ".html", "text/html; charset=utf-8" },
    { ".ico", "image/x-icon" },
    { ".jpeg", "image/jpeg" },
    { ".jpg", "image/jpeg" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".json", "application/json" },
    { ".jsonld", "application/ld+json" },
    { ".m4a", "audio/mp4" },
    { ".map", "application/json" },
    { ".md", "text/markdown; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".mp3", "audio/mpeg" },
    { ".mp4", "video/mp4" },
    { ".oga", "audio/ogg" },
    { ".ogg", "audio/ogg" },
    { ".ogv", "video/ogg" },
    { ".opus", "audio/ogg" },
    { ".otf", "font/otf" },
    { ".pdf", "application/pdf" },
    { ".png", "image/png" },
    { ".rss", "application/rss+xml" },
    { ".svg", "image/svg+xml" },
    { ".tar", "application/x-tar" },
    { ".tif", "image/tiff" },
    { ".tiff", "image/tiff" },
    { ".ttf", "font/ttf" },
    { ".txt", "text/plain; charset=utf-8" },
    { ".wasm", "application/wasm" },
    { ".wav", "audio/wav" },
    { ".webm", "video/webm" },
    { ".webmanifest", "application/manifest+json" },
    { ".webp", "image/webp" },
    { ".woff", "font/woff" },
    { ".woff2", "font/woff2" },
    { ".xhtml", "application/xhtml+xml" },
    { ".xml", "text/xml; charset=utf-8" },
    { ".zip", "application/zip" },
};

const char *static_ext(const char *name)
{
    apr_size_t n = strlen(name);

    while (n > 0 && name[n - 1] != '/') {
        if (name[n - 1] == '.')
            return name + n - 1;
        n--;
    }
    return "";
}

/* ext in lower case into buf; 0 when it is too long to be in a table. */
static int lower_ext(const char *ext, char *buf)
{
    apr_size_t i, n = strlen(ext);

    if (n == 0 || n >= EXT_MAX)
        return 0;
    for (i = 0; i <= n; i++)
        buf[i] = (char)apr_tolower(ext[i]);
    return 1;
}

static int by_ext(const void *key, const void *elt)
{
    return strcmp(key, ((const mime_entry_t *)elt)->ext);
}

const char *static_mime_builtin(const char *ext)
{
    char low[EXT_MAX];
    const mime_entry_t *e;

    if (!lower_ext(ext, low))
        return NULL;
    e = bsearch(low, builtin, sizeof(builtin) / sizeof(builtin[0]),
                sizeof(builtin[0]), by_ext);
    return e != NULL ? e->type : NULL;
}

/* Go's setExtensionType: a text/ type without a charset gets utf-8. */
static const char *with_charset(apr_pool_t *p, const char *type)
{
    if (strncasecmp(type, "text/", 5) == 0 && strstr(type, "charset") == NULL)
        return apr_pstrcat(p, type, "; charset=utf-8", NULL);
    return type;
}

/* One line: "type ext ext ...", '#' starting a comment. */
static void load_line(apr_pool_t *p, apr_hash_t *h, char *line)
{
    char *hash = strchr(line, '#'), *last = NULL, *tok;
    const char *type = NULL;

    if (hash != NULL)
        *hash = '\0';
    for (tok = apr_strtok(line, " \t\r\n", &last); tok != NULL;
         tok = apr_strtok(NULL, " \t\r\n", &last)) {
        char *ext;
        apr_size_t i;
        if (type == NULL) {
            type = with_charset(p, apr_pstrdup(p, tok));
            continue;
        }
        ext = apr_pstrcat(p, ".", tok, NULL);
        for (i = 0; ext[i] != '\0'; i++)
            ext[i] = (char)apr_tolower(ext[i]);
        /* A later line overrides an earlier one, as in Go's
         * loadMimeFile. */
        apr_hash_set(h, ext, APR_HASH_KEY_STRING, type);
    }
}

apr_status_t static_mime_load(apr_pool_t *p, const char *path, apr_hash_t **out)
{
    apr_hash_t *h = apr_hash_make(p);
    apr_file_t *f;
    char line[4096];
    apr_status_t rv;

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BUFFERED,
                       APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS)
        return rv;
    while (apr_file_gets(line, sizeof(line), f) == APR_SUCCESS)
        load_line(p, h, line);
    apr_file_close(f);
    *out = h;
    return APR_SUCCESS;
}

const char *static_mime_type(const apr_hash_t *loaded, const char *ext)
{
    const char *t = static_mime_builtin(ext);
    char low[EXT_MAX];

    if (t != NULL || loaded == NULL || !lower_ext(ext, low))
        return t;
    return apr_hash_get((apr_hash_t *)loaded, low, APR_HASH_KEY_STRING);
}
