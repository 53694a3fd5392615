/* fixture_nosym.c -- a shared object that exports no nosym_module. */
#include "weft.h"

const weft_module_t other_module = {
    WEFT_MODULE_HEADER, "other", NULL, NULL, NULL,
};
