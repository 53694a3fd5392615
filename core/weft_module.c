/*
 * weft_module.c -- loading modules: apr_dso, the ABI check, directive
 * registration, register_hooks under the module's name (so hook ordering by
 * name works), per-server module configs, and the handler table.
 */
#include <apr_dso.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "weft_build.h"
#include "weft_core.h"

#ifndef WEFT_MODULE_DIR
#define WEFT_MODULE_DIR "/usr/local/lib/weft/modules"
#endif

/* Handlers by name.  Process-wide; allocated in apr_hook_global_pool (the
 * hook pool of the live server) and read-only once serving starts. */
static apr_hash_t *handlers;

WEFT_DECLARE(apr_status_t)
weft_handler_register(const char *name, weft_handler_fn *fn)
{
    if (name == NULL || fn == NULL || apr_hook_global_pool == NULL)
        return APR_EINVAL;
    if (handlers == NULL)
        handlers = apr_hash_make(apr_hook_global_pool);
    if (apr_hash_get(handlers, name, APR_HASH_KEY_STRING) != NULL) {
        weft_log_error(WEFT_LOG_ERR, 0,
                       "handler '%s' is registered twice (second by %s)", name,
                       apr_hook_debug_current ? apr_hook_debug_current : "?");
        return APR_EEXIST;
    }
    apr_hash_set(handlers, apr_pstrdup(apr_hook_global_pool, name),
                 APR_HASH_KEY_STRING, (void *)fn);
    return APR_SUCCESS;
}

WEFT_DECLARE(weft_handler_fn *) weft_handler_find(const char *name)
{
    if (handlers == NULL || name == NULL)
        return NULL;
    return (weft_handler_fn *)apr_hash_get(handlers, name, APR_HASH_KEY_STRING);
}

void weft_handlers_reset(void)
{
    handlers = NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "a,b,c" sorted, or "none", for messages. */
WEFT_DECLARE(const char *) weft_handler_names(apr_pool_t *p)
{
    apr_array_header_t *names = apr_array_make(p, 8, sizeof(const char *));
    apr_hash_index_t *hi;

    if (handlers != NULL)
        for (hi = apr_hash_first(p, handlers); hi; hi = apr_hash_next(hi))
            APR_ARRAY_PUSH(names, const char *) = apr_hash_this_key(hi);
    if (names->nelts == 0)
        return "none";
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *), cmp_str);
    return apr_array_pstrcat(p, names, ',');
}

/* A linear scan: servers load a dozen modules, and comparing a dozen
 * pointers costs less than hashing one. */
WEFT_DECLARE(void *)
weft_module_config(const weft_server_t *s, const weft_module_t *m)
{
    int i;

    for (i = 0; i < s->modules->nelts; i++) {
        weft_loaded_module_t *lm =
            &APR_ARRAY_IDX(s->modules, i, weft_loaded_module_t);
        if (lm->module == m)
            return lm->mconfig;
    }
    return NULL;
}

WEFT_DECLARE(const weft_module_t *)
weft_module_find(const weft_server_t *s, const char *name)
{
    int i;

    for (i = 0; i < s->modules->nelts; i++) {
        weft_loaded_module_t *lm =
            &APR_ARRAY_IDX(s->modules, i, weft_loaded_module_t);
        if (strcmp(lm->module->name, name) == 0)
            return lm->module;
    }
    return NULL;
}

const weft_directive_entry_t *weft_directive_lookup(const weft_server_t *s,
                                                    const char *name)
{
    char lower[64];
    apr_size_t i, n = strlen(name);

    if (n >= sizeof(lower))
        return NULL;
    for (i = 0; i <= n; i++)
        lower[i] = (char)apr_tolower(name[i]);
    return apr_hash_get(s->directives, lower, APR_HASH_KEY_STRING);
}

/*
 * Directives of the modules weft ships, so that using one before its
 * LoadModule line gets a useful hint rather than just "unknown".
 */
static const struct {
    const char *prefix;
    const char *module;
} hints[] = {
    { "Handle", "mux_module" },        { "TLS", "tls_module" },
    { "Static", "static_module" },     { "AccessLog", "log_module" },
    { "WebSocket", "upgrade_module" }, { "Continue", "continue_module" },
};

const char *weft_module_hint(const char *directive)
{
    static char buf[160];
    size_t i;

    for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        size_t n = strlen(hints[i].prefix);
        if (strncasecmp(directive, hints[i].prefix, n) == 0 &&
            (strcasecmp(hints[i].prefix, "Handle") != 0 ||
             strcasecmp(directive, "Handle") == 0)) {
            apr_snprintf(buf, sizeof(buf),
                         " (it belongs to %s: put `LoadModule %s PATH` "
                         "before this line)",
                         hints[i].module, hints[i].module);
            return buf;
        }
    }
    return " (misspelled, or defined by a module that is not loaded)";
}

/* Registers m under symbol: its config, directives and hooks. */
apr_status_t weft_module_add(weft_server_t *s, const weft_module_t *m,
                             const char *symbol, const char *path,
                             const char *file, unsigned line, const char **why)
{
    weft_loaded_module_t *lm;
    const weft_directive_t *d;
    void *mconf = NULL;

    /* Refuse clashing directive names before changing anything. */
    for (d = m->directives; d != NULL && d->name != NULL; d++) {
        const weft_directive_entry_t *e = weft_directive_lookup(s, d->name);
        if (e != NULL) {
            *why = apr_psprintf(s->pool,
                                "%s declares directive %s, which %s already "
                                "declares",
                                m->name, d->name, e->module->name);
            return APR_EEXIST;
        }
        if (strlen(d->name) >= 64 || d->fn == NULL) {
            *why = apr_psprintf(s->pool, "%s: directive %s is malformed",
                                m->name, d->name);
            return APR_EINVAL;
        }
    }
    /* APR records each hook's owner from apr_hook_debug_current, and its
     * sort needs a name for every hook: a module registering from its
     * config constructor gets its own too. */
    apr_hook_debug_current = m->name;
    if (m->create_server_config != NULL)
        mconf = m->create_server_config(s->pool, s);
    lm = apr_array_push(s->modules);
    lm->module = m;
    lm->mconfig = mconf;
    lm->symbol = symbol;
    lm->path = path;
    lm->file = file;
    lm->line = line;
    for (d = m->directives; d != NULL && d->name != NULL; d++) {
        weft_directive_entry_t *e = apr_palloc(s->pool, sizeof(*e));
        char *key = apr_pstrdup(s->pool, d->name), *k;
        for (k = key; *k != '\0'; k++)
            *k = (char)apr_tolower(*k);
        e->directive = d;
        e->module = m;
        e->mconfig = mconf;
        apr_hash_set(s->directives, key, APR_HASH_KEY_STRING, e);
    }
    /* Predecessor lists match on the recorded owner name, so without it
     * ordering by name silently does nothing. */
    if (m->register_hooks != NULL)
        m->register_hooks(s->pool);
    apr_hook_debug_current = NULL;
    return APR_SUCCESS;
}

static const char *resolve_module_path(const weft_cmd_t *cmd, const char *path)
{
    const char *full = weft_server_root_relative(cmd->pool, cmd->server, path);
    apr_finfo_t fi;

    if (path[0] == '/' || strchr(path, '/') != NULL)
        return full;
    /* A bare file name: ServerRoot first, then the installed modules. */
    if (apr_stat(&fi, full, APR_FINFO_TYPE, cmd->temp_pool) == APR_SUCCESS)
        return full;
    return apr_pstrcat(cmd->pool, WEFT_MODULE_DIR, "/", path, NULL);
}

/* LoadModule SYMBOL PATH.  Returns NULL or why the module was refused. */
const char *weft_module_load(const weft_cmd_t *cmd, const char *symbol,
                             const char *path)
{
    weft_server_t *s = cmd->server;
    apr_dso_handle_t *dso;
    apr_dso_handle_sym_t sym;
    const weft_module_t *m;
    const char *full, *why;
    char err[256];
    int i;

    full = resolve_module_path(cmd, path);
    for (i = 0; i < s->modules->nelts; i++) {
        weft_loaded_module_t *lm =
            &APR_ARRAY_IDX(s->modules, i, weft_loaded_module_t);
        if (strcmp(lm->symbol, symbol) == 0 ||
            (lm->path != NULL && strcmp(lm->path, full) == 0))
            return apr_psprintf(cmd->pool, "%s (%s) is already loaded at %s:%u",
                                symbol, full, lm->file, lm->line);
    }
    if (apr_dso_load(&dso, full, s->pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "cannot load %s: %s", full,
                            apr_dso_error(dso, err, sizeof(err)));
    if (apr_dso_sym(&sym, dso, symbol) != APR_SUCCESS) {
        apr_dso_unload(dso);
        return apr_psprintf(cmd->pool,
                            "%s does not export the symbol %s (a module "
                            "exports NAME_module)",
                            full, symbol);
    }
    m = (const weft_module_t *)sym;
    if (m->magic != WEFT_MODULE_MAGIC) {
        /* m lives in the object: read it before unloading */
        unsigned magic = (unsigned)m->magic;
        apr_dso_unload(dso);
        return apr_psprintf(cmd->pool,
                            "%s: %s is not a weft module (bad magic "
                            "0x%08x)",
                            full, symbol, magic);
    }
    if (m->abi_major != WEFT_MODULE_ABI_MAJOR ||
        m->abi_minor > WEFT_MODULE_ABI_MINOR) {
        unsigned major = m->abi_major, minor = m->abi_minor;
        apr_dso_unload(dso);
        return apr_psprintf(cmd->pool,
                            "%s: %s was built for module ABI %u.%u, this "
                            "weftd has %d.%d: rebuild the module against "
                            "this weft",
                            full, symbol, major, minor, WEFT_MODULE_ABI_MAJOR,
                            WEFT_MODULE_ABI_MINOR);
    }
    if (m->name == NULL || m->name[0] == '\0') {
        apr_dso_unload(dso);
        return apr_psprintf(cmd->pool, "%s: %s has no name", full, symbol);
    }
    if (weft_module_find(s, m->name) != NULL) {
        why = apr_psprintf(cmd->pool,
                           "%s: a module named '%s' is already "
                           "loaded",
                           full, m->name);
        apr_dso_unload(dso);
        return why;
    }
    if (weft_module_add(s, m, apr_pstrdup(s->pool, symbol), full, cmd->file,
                        cmd->line, &why) != APR_SUCCESS) {
        apr_dso_unload(dso);
        return apr_psprintf(cmd->pool, "%s: %s", full, why);
    }
    return NULL;
}
