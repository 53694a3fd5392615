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
