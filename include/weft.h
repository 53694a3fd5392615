/*
 * weft.h -- the umbrella header: everything a module author needs.
 * Build modules with `pkg-config --cflags --libs weft` or weft-module.
 */
#ifndef WEFT_H
#define WEFT_H

#include "weft_common.h"
#include "weft_config.h"
#include "weft_conn.h"
#include "weft_ctx.h"
#include "weft_hooks.h"
#include "weft_http.h"
#include "weft_log.h"
#include "weft_module.h"
#include "weft_request.h"
#include "weft_response.h"
#include "weft_server.h"
#include "weft_transport.h"
#include "weft_wait.h"

#endif /* WEFT_H */
