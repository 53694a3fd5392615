/*
 * weft_llhttp_http.c -- compiles llhttp's http.c, from the directory configure
 * found (Debian's node-llhttp installs the sources outside any tree), into
 * libweft.  Each llhttp file is its own translation unit, as upstream
 * builds them; LLHTTP_STRICT_MODE=1 is set by core/local.mk.
 */
#include "weft_build.h"

#if !defined(LLHTTP_STRICT_MODE) || !LLHTTP_STRICT_MODE
#error "llhttp must be compiled in strict mode"
#endif

#include WEFT_LLHTTP_SRC_HTTP
