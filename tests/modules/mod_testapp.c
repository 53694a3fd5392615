/*
 * mod_testapp.c -- the contract's test module (contract/testapp.md): the
 * `testapp` handler.  It grows with the engine; until requests are served
 * it only registers its name, so configurations can mount it.
 */
#include "weft.h"

static void testapp_handler(weft_rw_t *w, weft_request_t *r)
{
}

static void testapp_register_hooks(apr_pool_t *p)
{
    weft_handler_register("testapp", testapp_handler);
}

const weft_module_t testapp_module = {
    WEFT_MODULE_HEADER, "testapp", NULL, NULL, testapp_register_hooks,
};
