/*
 * static_fs.c -- mod_static's file system side: request paths as Go's
 * FileServer sees them (unescape, path.Clean, StripPrefix), opening a path
 * confined to the root (symlinks walked by hand, none may leave it), and
 * reading a directory for the listing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "static.h"

/* Linux's own limit on symlinks followed in one lookup. */
#define MAX_SYMLINKS 40

/* Flags for the last component (the file served) and the ones before it
 * (directories walked through: no read permission needed). */
#define OPEN_LEAF (O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
#ifdef O_PATH
#define OPEN_DIR (O_PATH | O_DIRECTORY | O_CLOEXEC)
#else
#define OPEN_DIR (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
#endif

/* ---- request paths ------------------------------------------------------ */

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

char *static_unescape(apr_pool_t *p, const char *raw, apr_size_t *len)
{
    apr_size_t n = strlen(raw), i, o = 0;
    char *out;

    if (memchr(raw, '%', n) == NULL) {
        *len = n;
        return (char *)raw;
    }
    out = apr_palloc(p, n + 1);
    for (i = 0; i < n; i++) {
        int hi, lo;
        if (raw[i] != '%') {
            out[o++] = raw[i];
            continue;
        }
        if (i + 2 >= n)
            return NULL;
        hi = unhex(raw[i + 1]);
        lo = hi < 0 ? -1 : unhex(raw[i + 2]);
        if (lo < 0)
            return NULL;
        out[o++] = (char)(hi << 4 | lo);
        i += 2;
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* Go's path.Clean, line for line (its lazybuf is simply out). */
char *static_path_clean(apr_pool_t *p, const char *path)
{
    apr_size_t n = strlen(path), r = 0, w = 0, dotdot = 0;
    int rooted;
    char *out;

    if (n == 0)
        return apr_pstrdup(p, ".");
    rooted = path[0] == '/';
    out = apr_palloc(p, n + 2);
    if (rooted) {
        out[w++] = '/';
        r = dotdot = 1;
    }
    while (r < n) {
        if (path[r] == '/') {
            r++;
        } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
            r++;
        } else if (path[r] == '.' && path[r + 1] == '.' &&
                   (r + 2 == n || path[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
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
            for (; r < n && path[r] != '/'; r++)
                out[w++] = path[r];
        }
    }
    if (w == 0)
        return apr_pstrdup(p, ".");
    out[w] = '\0';
    return out;
}

char *static_path_base(apr_pool_t *p, const char *path)
{
    apr_size_t n = strlen(path);
    const char *slash;

    if (n == 0)
        return apr_pstrdup(p, ".");
    while (n > 0 && path[n - 1] == '/')
        n--;
    if (n == 0)
        return apr_pstrdup(p, "/");
    slash = memrchr(path, '/', n);
    if (slash != NULL)
        return apr_pstrmemdup(p, slash + 1, n - (apr_size_t)(slash + 1 - path));
    return apr_pstrmemdup(p, path, n);
}

/*
 * Go keeps URL.RawPath only when the path as sent is not the default
 * escaping of the decoded path (url.setPath); StripPrefix must then find
 * the prefix in both.
 */
static int raw_path_kept(apr_pool_t *p, const char *path, const char *raw)
{
    /* Without escapes the raw path is the path: kept or not, it holds
     * the prefix whenever the path does. */
    if (strchr(raw, '%') == NULL)
        return 0;
    return strcmp(static_escape_path(p, path), raw) != 0;
}

const char *static_strip_prefix(apr_pool_t *p, const char *path,
                                const char *raw, const char *prefix)
{
    apr_size_t n = strlen(prefix);

    if (n == 0)
        return path; /* Go's StripPrefix("") is the handler itself */
    if (strncmp(path, prefix, n) != 0)
        return NULL;
    if (raw_path_kept(p, path, raw) && strncmp(raw, prefix, n) != 0)
        return NULL;
    return path + n;
}

/* ---- opening under the root -------------------------------------------- */

static apr_status_t close_fd(void *data)
{
    close(*(int *)data);
    return APR_SUCCESS;
}

/* Hands fd to the pool (closed when it is cleared). */
static void pool_own_fd(apr_pool_t *p, int fd)
{
    int *box = apr_palloc(p, sizeof(*box));

    *box = fd;
    apr_pool_cleanup_register(p, box, close_fd, apr_pool_cleanup_null);
}

/* Go's toHTTPError over mapOpenError: ENOTDIR is "not there" too. */
static static_fs_status_t map_errno(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return STATIC_FS_NOT_FOUND;
    case EACCES:
    case EPERM:
        return STATIC_FS_FORBIDDEN;
    default:
        return STATIC_FS_ERROR;
    }
}

/*
 * Appends the components of path to the stack parts[0..*np) as a
 * lexical walk would: "." and empty ones vanish, ".." pops.  Returns 0,
 * or -1 when ".." would climb above the root.
 */
static int push_parts(apr_pool_t *p, apr_array_header_t *parts,
                      const char *path)
{
    char *copy = apr_pstrdup(p, path), *last = NULL, *c;

    for (c = apr_strtok(copy, "/", &last); c != NULL;
         c = apr_strtok(NULL, "/", &last)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            if (parts->nelts == 0)
                return -1;
            parts->nelts--;
            continue;
        }
        APR_ARRAY_PUSH(parts, const char *) = c;
    }
    return 0;
}

static const char *join_parts(apr_pool_t *p, const apr_array_header_t *parts)
{
    return apr_array_pstrcat(p, parts, '/');
}

/* The root as written and as the kernel resolves it: an absolute link
 * target is inside the root when it starts with either. */
static const char *inside_root(apr_pool_t *p, const char *root,
                               const char *target)
{
    const char *roots[2];
    char *real = realpath(root, NULL);
    const char *hit = NULL;
    int i;

    roots[0] = static_path_clean(p, root);
    roots[1] = real != NULL ? apr_pstrdup(p, real) : NULL;
    free(real);
    for (i = 0; i < 2 && hit == NULL; i++) {
        apr_size_t n;
        if (roots[i] == NULL)
            continue;
        n = strlen(roots[i]);
        if (strcmp(roots[i], "/") == 0)
            hit = target + 1;
        else if (strncmp(target, roots[i], n) == 0 && target[n] == '\0')
            hit = "";
        else if (strncmp(target, roots[i], n) == 0 && target[n] == '/')
            hit = target + n + 1;
    }
    return hit;
}

/*
 * The path that replaces done/NAME/rest when NAME is a symlink to
 * target: NULL when that path leaves the root.
 */
static const char *relink(apr_pool_t *p, const char *root,
                          const apr_array_header_t *done, const char *target,
                          const char *rest)
{
    apr_array_header_t *parts = apr_array_make(p, 8, sizeof(const char *));

    if (target[0] == '/') {
        target = inside_root(p, root, static_path_clean(p, target));
        if (target == NULL)
            return NULL;
    } else {
        apr_array_cat(parts, done);
    }
    if (push_parts(p, parts, target) != 0)
        return NULL;
    if (rest != NULL && rest[0] != '\0')
        APR_ARRAY_PUSH(parts, const char *) = rest;
    return join_parts(p, parts);
}

/* The target of the symlink name in dirfd, or NULL if it is not one. */
static char *read_link(apr_pool_t *p, int dirfd, const char *name)
{
    struct stat st;
    char *buf;
    ssize_t n;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISLNK(st.st_mode))
        return NULL;
    buf = apr_palloc(p, PATH_MAX + 1);
    n = readlinkat(dirfd, name, buf, PATH_MAX);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

/* Checks what was opened and hands it to the caller. */
static static_fs_status_t finish(apr_pool_t *p, int fd, static_file_t *out)
{
    if (fstat(fd, &out->st) != 0) {
        int e = errno;
        close(fd);
        return map_errno(e);
    }
    if (!S_ISREG(out->st.st_mode) && !S_ISDIR(out->st.st_mode)) {
        close(fd); /* a FIFO, socket or device: never served */
        return STATIC_FS_FORBIDDEN;
    }
    out->fd = fd;
    pool_own_fd(p, fd);
    return STATIC_FS_OK;
}

/*
 * One pass from the root along rel with O_NOFOLLOW.  Returns the opened
 * leaf, or -1 with *status set, or -1 with *relinked set to the path to
 * walk instead (a symlink inside the root was met).
 */
static int walk_once(apr_pool_t *p, int rootfd, const char *root,
                     const char *rel, static_fs_status_t *status,
                     const char **relinked)
{
    apr_array_header_t *done = apr_array_make(p, 8, sizeof(const char *));
    const char *cur = rel;
    int dirfd = rootfd;

    *relinked = NULL;
    for (;;) {
        const char *slash = strchr(cur, '/');
        const char *name =
            slash ? apr_pstrmemdup(p, cur, (apr_size_t)(slash - cur)) : cur;
        const char *rest = slash ? slash + 1 : NULL;
        int leaf = rest == NULL || rest[0] == '\0';
        int fd =
            openat(dirfd, name, (leaf ? OPEN_LEAF : OPEN_DIR) | O_NOFOLLOW);
        int e = errno;

        if (fd < 0) {
            char *target = NULL;
            if (e == ELOOP || e == ENOTDIR || e == EMLINK)
                target = read_link(p, dirfd, name);
            if (target != NULL) {
                *relinked = relink(p, root, done, target, rest);
                *status = *relinked ? STATIC_FS_OK : STATIC_FS_FORBIDDEN;
            } else {
                *status = map_errno(e);
            }
            if (dirfd != rootfd)
                close(dirfd);
            return -1;
        }
        if (dirfd != rootfd)
            close(dirfd);
        if (leaf)
            return fd;
        dirfd = fd;
        APR_ARRAY_PUSH(done, const char *) = name;
        cur = rest;
    }
}

static static_fs_status_t walk(apr_pool_t *p, int rootfd, const char *root,
                               const char *rel, static_file_t *out)
{
    int hops;

    for (hops = 0; hops <= MAX_SYMLINKS; hops++) {
        static_fs_status_t st;
        const char *next;
        int fd;

        if (rel[0] == '\0') {
            fd = openat(rootfd, ".", OPEN_LEAF);
            return fd < 0 ? map_errno(errno) : finish(p, fd, out);
        }
        fd = walk_once(p, rootfd, root, rel, &st, &next);
        if (fd >= 0)
            return finish(p, fd, out);
        if (next == NULL)
            return st;
        rel = next;
    }
    return STATIC_FS_ERROR; /* ELOOP: a cycle of links */
}

static_fs_status_t static_fs_open(apr_pool_t *p, const char *root,
                                  const char *rel, int follow,
                                  static_file_t *out)
{
    static_fs_status_t st;
    int rootfd = open(root, OPEN_DIR);

    if (rootfd < 0)
        return map_errno(errno);
    if (follow) {
        int fd = openat(rootfd, rel[0] != '\0' ? rel : ".", OPEN_LEAF);
        st = fd < 0 ? map_errno(errno) : finish(p, fd, out);
    } else {
        st = walk(p, rootfd, root, rel, out);
    }
    close(rootfd);
    return st;
}

static_fs_status_t static_fs_open_index(apr_pool_t *p, const char *root,
                                        const char *rel, int follow,
                                        const static_file_t *dir,
                                        static_file_t *out)
{
    int fd =
        openat(dir->fd, "index.html", OPEN_LEAF | (follow ? 0 : O_NOFOLLOW));

    if (fd >= 0)
        return finish(p, fd, out);
    if (!follow && (errno == ELOOP || errno == EMLINK))
        return static_fs_open(p, root,
                              rel[0] != '\0'
                                  ? apr_pstrcat(p, rel, "/index.html", NULL)
                                  : "index.html",
                              0, out);
    return map_errno(errno);
}

/* ---- the listing -------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(((const static_dirent_t *)a)->name,
                  ((const static_dirent_t *)b)->name);
}

apr_status_t static_fs_list(apr_pool_t *p, const static_file_t *dir,
                            apr_array_header_t **out)
{
    apr_array_header_t *ents = apr_array_make(p, 16, sizeof(static_dirent_t));
    int fd = openat(dir->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct dirent *de;
    DIR *d;

    if (fd < 0)
        return errno;
    d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return e;
    }
    for (;;) {
        static_dirent_t *e;
        errno = 0;
        de = readdir(d);
        if (de == NULL)
            break;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        e = apr_array_push(ents);
        e->name = apr_pstrdup(p, de->d_name);
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            e->is_dir =
                fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISDIR(st.st_mode);
        } else {
            e->is_dir = de->d_type == DT_DIR;
        }
    }
    if (errno != 0) {
        int e = errno;
        closedir(d);
        return e;
    }
    closedir(d);
    qsort(ents->elts, (size_t)ents->nelts, sizeof(static_dirent_t), by_name);
    *out = ents;
    return APR_SUCCESS;
}
