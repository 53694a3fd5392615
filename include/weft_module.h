/*
 * weft_module.h -- the module ABI: the one symbol a module exports, how the
 * core checks it at load, and how a module finds its per-server config.
 */
#ifndef WEFT_MODULE_H
#define WEFT_MODULE_H

#include <stdint.h>

#include "weft_common.h"
#include "weft_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 'WEFT' in ASCII: a shared object whose symbol lacks it is not a module. */
#define WEFT_MODULE_MAGIC 0x57454654u

/*
 * The module ABI.  The major number changes when weft_module_t or any
 * exported function changes incompatibly: the core refuses a module built
 * against another major.  The minor number grows when functions are added:
 * the core refuses a module built against a newer minor than its own,
 * because that module may call functions this libweft lacks.
 */
#define WEFT_MODULE_ABI_MAJOR 1
#define WEFT_MODULE_ABI_MINOR 0

/*
 * A module.  Export exactly one, named NAME_module, with
 * WEFT_MODULE_HEADER as its first initializer:
 *
 *     WEFT_DECLARE_MODULE(hello) = {
 *         WEFT_MODULE_HEADER,
 *         "hello",              -- name, for logs and hook ordering
 *         hello_directives,     -- directive table, or NULL
 *         hello_create_config,  -- per-server config, or NULL
 *         hello_register_hooks  -- or NULL
 *     };
 *
 * The core calls create_server_config and then register_hooks when the
 * LoadModule line is read, before any of the module's directives; both run
 * on the main thread at start-up.  Hook predecessor/successor lists name
 * other modules by this name.  The core never writes to the struct, so it
 * may be const.
 */
struct weft_module_t {
    uint32_t magic;     /* WEFT_MODULE_MAGIC */
    uint16_t abi_major; /* WEFT_MODULE_ABI_MAJOR the module was built with */
    uint16_t abi_minor; /* WEFT_MODULE_ABI_MINOR the module was built with */
    const char *name;
    const weft_directive_t *directives;
    void *(*create_server_config)(apr_pool_t *p, weft_server_t *s);
    void (*register_hooks)(apr_pool_t *p);
};

#define WEFT_MODULE_HEADER \
    WEFT_MODULE_MAGIC, WEFT_MODULE_ABI_MAJOR, WEFT_MODULE_ABI_MINOR

/*
 * Defines a module's one exported symbol, NAME_module, visible even when
 * the module is built with -fvisibility=hidden (as weft's own are):
 *
 *     WEFT_DECLARE_MODULE(hello) = { WEFT_MODULE_HEADER, "hello", ... };
 */
#define WEFT_DECLARE_MODULE(name) \
    WEFT_DECLARE_DATA const weft_module_t name##_module

/* The module's per-server config, as its create_server_config made it
 * (NULL if it has none).  Immutable once the server starts: any thread. */
WEFT_DECLARE(void *)
weft_module_config(const weft_server_t *s, const weft_module_t *m);

/* The loaded module named name ("mux"), or NULL. */
WEFT_DECLARE(const weft_module_t *)
weft_module_find(const weft_server_t *s, const char *name);

/*
 * Handlers by name.  A module registers its handlers in register_hooks; the
 * `Handler NAME` directive and the mux's `Handle PATTERN NAME` look them up
 * once the files are read.  Registering a name twice is refused with
 * APR_EEXIST.  The table is process-wide and read-only once serving starts.
 */
WEFT_DECLARE(apr_status_t)
weft_handler_register(const char *name, weft_handler_fn *fn);
WEFT_DECLARE(weft_handler_fn *) weft_handler_find(const char *name);
/* The registered handler names, sorted and joined by ',' ("none" when
 * there is none), in p: for "no handler named X" messages. */
WEFT_DECLARE(const char *) weft_handler_names(apr_pool_t *p);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_MODULE_H */
