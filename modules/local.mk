## modules/: loadable modules, one file (or folder) each.  Each builds to
## mod_NAME.so exporting only NAME_module (-fvisibility=hidden), and
## resolves core symbols from libweft.

MODULE_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden

# mod_mux: Go 1.22 ServeMux.
weftmodule_LTLIBRARIES += modules/mod_mux.la
modules_mod_mux_la_SOURCES = modules/mux/mod_mux.c modules/mux/mux_pattern.c \
	modules/mux/mux_tree.c modules/mux/mux.h
modules_mod_mux_la_CFLAGS = $(MODULE_CFLAGS)
modules_mod_mux_la_LDFLAGS = $(module_ldopts)
modules_mod_mux_la_LIBADD = $(module_libs)

# mod_continue: Expect: 100-continue.
weftmodule_LTLIBRARIES += modules/mod_continue.la
modules_mod_continue_la_SOURCES = modules/mod_continue.c
modules_mod_continue_la_CFLAGS = $(MODULE_CFLAGS)
modules_mod_continue_la_LDFLAGS = $(module_ldopts)
modules_mod_continue_la_LIBADD = $(module_libs)

# mod_upgrade: protocol upgrades through hijack, and WebSocket (RFC 6455).
weftmodule_LTLIBRARIES += modules/mod_upgrade.la
modules_mod_upgrade_la_SOURCES = modules/upgrade/mod_upgrade.c \
	modules/upgrade/ws.c modules/upgrade/ws.h
modules_mod_upgrade_la_CFLAGS = $(MODULE_CFLAGS)
modules_mod_upgrade_la_LDFLAGS = $(module_ldopts)
modules_mod_upgrade_la_LIBADD = $(module_libs)

# mod_static: Go's http.FileServer.
weftmodule_LTLIBRARIES += modules/mod_static.la
modules_mod_static_la_SOURCES = modules/static/mod_static.c \
	modules/static/static_fs.c modules/static/static_http.c \
	modules/static/static_mime.c modules/static/static.h
modules_mod_static_la_CFLAGS = $(MODULE_CFLAGS)
modules_mod_static_la_LDFLAGS = $(module_ldopts)
modules_mod_static_la_LIBADD = $(module_libs)

# mod_log: access logs.
weftmodule_LTLIBRARIES += modules/mod_log.la
modules_mod_log_la_SOURCES = modules/mod_log.c modules/log_format.c \
	modules/log_writer.c modules/log_private.h
modules_mod_log_la_CFLAGS = $(MODULE_CFLAGS)
modules_mod_log_la_LDFLAGS = $(module_ldopts)
modules_mod_log_la_LIBADD = $(module_libs)

# mod_status: the status page (text, JSON, Prometheus).
weftmodule_LTLIBRARIES += modules/mod_status.la
modules_mod_status_la_SOURCES = modules/mod_status.c
modules_mod_status_la_CFLAGS = $(MODULE_CFLAGS)
modules_mod_status_la_LDFLAGS = $(module_ldopts)
modules_mod_status_la_LIBADD = $(module_libs)

# mod_tls: TLS with OpenSSL (the only module that links it).
weftmodule_LTLIBRARIES += modules/mod_tls.la
modules_mod_tls_la_SOURCES = modules/tls/mod_tls.c modules/tls/tls_transport.c \
	modules/tls/tls_config.c modules/tls/tls.h
modules_mod_tls_la_CFLAGS = $(MODULE_CFLAGS) $(OPENSSL_CFLAGS)
modules_mod_tls_la_LDFLAGS = $(module_ldopts)
modules_mod_tls_la_LIBADD = $(module_libs) $(OPENSSL_LIBS)
