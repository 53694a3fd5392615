/* fixture_badmagic.c -- exports NAME_module that is not a weft module. */
#include "weft.h"

const weft_module_t badmagic_module = {
    0x12345678u,
    WEFT_MODULE_ABI_MAJOR,
    WEFT_MODULE_ABI_MINOR,
    "badmagic",
    NULL,
    NULL,
    NULL,
};
