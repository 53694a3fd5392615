/* fixture_dupdir.c -- declares a directive the core already has: refused
 * at load, before it changes anything. */
#include "weft.h"

static const char *set_nothing(const weft_cmd_t *cmd, void *mconfig, int argc,
                               const char *const *argv)
{
    return NULL;
}

static const weft_directive_t dupdir_directives[] = {
    WEFT_DIRECTIVE("Listen", WEFT_ARGS_ONE, set_nothing, "Listen X: clash"),
    WEFT_DIRECTIVE_END,
};

const weft_module_t dupdir_module = {
    WEFT_MODULE_HEADER, "dupdir", dupdir_directives, NULL, NULL,
};
