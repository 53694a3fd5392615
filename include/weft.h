/*
 * weft.h -- the umbrella header: everything a module author needs.
 * Build modules with `pkg-config --cflags --libs weft` or weft-module.
 */
#ifndef WEFT_H
#define WEFT_H

#include "weft_common.h"
#include "weft_config.h"
#include "weft_hooks.h"
#include "weft_log.h"
#include "weft_module.h"
#include "weft_server.h"

#endif /* WEFT_H */
