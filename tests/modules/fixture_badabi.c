/* fixture_badabi.c -- a module built for a future module ABI: refused. */
#include "weft.h"

const weft_module_t badabi_module = {
    WEFT_MODULE_MAGIC, WEFT_MODULE_ABI_MAJOR + 1, 0, "badabi", NULL, NULL, NULL,
};
