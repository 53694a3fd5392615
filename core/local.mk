## core/: libweft (the runtime) and weftd.

weftinclude_HEADERS += include/weft.h include/weft_common.h \
	include/weft_config.h include/weft_hooks.h include/weft_log.h \
	include/weft_module.h include/weft_server.h include/weft_ctx.h \
	include/weft_wait.h include/weft_http.h include/weft_conn.h \
	include/weft_transport.h include/weft_request.h include/weft_response.h \
	include/weft_upgrade.h
weftinclude_HEADERS += include/weft_tls.h
noinst_HEADERS += core/weft_core.h core/weft_reqline.h core/weft_engine.h

# Every core source, as a convenience library: libweft.so is this whole,
# and the unit tests link it statically to reach internal functions.
noinst_LTLIBRARIES += core/libweft_core.la
core_libweft_core_la_SOURCES = \
	core/weft_accept.c \
	core/weft_body.c \
	core/weft_config.c \
	core/weft_conn.c \
	core/weft_core_module.c \
	core/weft_ctx.c \
	core/weft_hijack.c \
	core/weft_hooks.c \
	core/weft_idle.c \
	core/weft_listen.c \
	core/weft_log.c \
	core/weft_module.c \
	core/weft_mpm_thread.c \
	core/weft_mpm_worker.c \
	core/weft_parse.c \
	core/weft_reqline.c \
	core/weft_request.c \
	core/weft_request_api.c \
	core/weft_response.c \
	core/weft_serve.c \
	core/weft_server.c \
	core/weft_shutdown.c \
	core/weft_sniff.c \
	core/weft_status.c \
	core/weft_transport_tcp.c \
	core/weft_wait.c \
	core/weft_watch.c
core_libweft_core_la_CPPFLAGS = $(AM_CPPFLAGS) $(LLHTTP_CFLAGS)
core_libweft_core_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
core_libweft_core_la_LIBADD = $(APU_LIBS) $(APR_LIBS) $(LLHTTP_LIBS)

if LLHTTP_BUNDLED
# llhttp's generated code is not ours to warn about; strict mode is the
# point (DESIGN.md, "Wire rules").
noinst_LTLIBRARIES += core/libweft_llhttp.la
core_libweft_llhttp_la_SOURCES = core/weft_llhttp_api.c \
	core/weft_llhttp_http.c core/weft_llhttp_llhttp.c
core_libweft_llhttp_la_CPPFLAGS = -I$(top_builddir)/core $(LLHTTP_CFLAGS) \
	-DLLHTTP_STRICT_MODE=1
core_libweft_llhttp_la_CFLAGS = -fvisibility=hidden -w $(SANITIZER_CFLAGS)
core_libweft_core_la_LIBADD += core/libweft_llhttp.la
endif

lib_LTLIBRARIES += core/libweft.la
core_libweft_la_SOURCES =
core_libweft_la_LIBADD = core/libweft_core.la
core_libweft_la_LDFLAGS = -version-info 0:0:0 -no-undefined

sbin_PROGRAMS += core/weftd
core_weftd_SOURCES = core/main.c
core_weftd_LDADD = core/libweft.la $(APU_LIBS) $(APR_LIBS)
