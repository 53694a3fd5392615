## tests/: Check suites (unit/ against the core's internals, integration/
## against a running weftd), the contract's mod_testapp, refused-module
## fixtures, and the install test that builds modules out of tree.

AM_TESTS_ENVIRONMENT = \
	WEFT_BUILDDIR='$(abs_top_builddir)'; export WEFT_BUILDDIR; \
	WEFT_SRCDIR='$(abs_top_srcdir)'; export WEFT_SRCDIR; \
	MAKE='$(MAKE)'; export MAKE;

# The contract's test module: built by make check, never installed.
# -rpath makes libtool build a shared object rather than a convenience lib.
check_LTLIBRARIES += tests/modules/mod_testapp.la
tests_modules_mod_testapp_la_SOURCES = tests/modules/mod_testapp.c
tests_modules_mod_testapp_la_LDFLAGS = $(module_ldopts) -rpath /nowhere
tests_modules_mod_testapp_la_LIBADD = $(module_libs)

# Modules the loader must refuse, named so none is taken for mod_testapp.
check_LTLIBRARIES += tests/modules/fixture_badabi.la \
	tests/modules/fixture_badmagic.la tests/modules/fixture_nosym.la \
	tests/modules/fixture_dupdir.la
tests_modules_fixture_badabi_la_SOURCES = tests/modules/fixture_badabi.c
tests_modules_fixture_badabi_la_LDFLAGS = $(module_ldopts) -rpath /nowhere
tests_modules_fixture_badabi_la_LIBADD = $(module_libs)
tests_modules_fixture_badmagic_la_SOURCES = tests/modules/fixture_badmagic.c
tests_modules_fixture_badmagic_la_LDFLAGS = $(module_ldopts) -rpath /nowhere
tests_modules_fixture_badmagic_la_LIBADD = $(module_libs)
tests_modules_fixture_nosym_la_SOURCES = tests/modules/fixture_nosym.c
tests_modules_fixture_nosym_la_LDFLAGS = $(module_ldopts) -rpath /nowhere
tests_modules_fixture_nosym_la_LIBADD = $(module_libs)
tests_modules_fixture_dupdir_la_SOURCES = tests/modules/fixture_dupdir.c
tests_modules_fixture_dupdir_la_LDFLAGS = $(module_ldopts) -rpath /nowhere
tests_modules_fixture_dupdir_la_LIBADD = $(module_libs)

EXTRA_DIST += tests/install/test_install.sh tests/bench tests/fuzz \
	tests/integration/ws_client.py tests/integration/ws_client.js

if HAVE_CHECK
check_LTLIBRARIES += tests/common/libweft_test.la
tests_common_libweft_test_la_SOURCES = tests/common/weft_test.c \
	tests/common/weft_test.h

# Unit suites link the core statically (libweft_core) to reach internals;
# suites that load modules link the shared libweft, as weftd does.
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/common
UNIT_LDADD = tests/common/libweft_test.la core/libweft_core.la \
	$(CHECK_LIBS) $(APU_LIBS) $(APR_LIBS)
SHARED_LDADD = tests/common/libweft_test.la core/libweft.la \
	$(CHECK_LIBS) $(APU_LIBS) $(APR_LIBS)

unit_tests = tests/unit/test_parse tests/unit/test_config \
	tests/unit/test_hooks tests/unit/test_module tests/unit/test_ctx \
	tests/unit/test_sniff tests/unit/test_reqline tests/unit/test_mux \
	tests/unit/test_static tests/unit/test_wait
integration_tests = tests/integration/test_weftd \
	tests/integration/test_http_request tests/integration/test_http_body \
	tests/integration/test_http_response tests/integration/test_http_conn \
	tests/integration/test_cancel tests/integration/test_shutdown \
	tests/integration/test_stress tests/integration/test_mux \
	tests/integration/test_continue tests/integration/test_websocket \
	tests/integration/test_static tests/integration/test_log \
	tests/integration/test_status tests/integration/test_tls

check_PROGRAMS += $(unit_tests) $(integration_tests)

tests_unit_test_parse_SOURCES = tests/unit/test_parse.c
tests_unit_test_parse_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_parse_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_parse_LDADD = $(UNIT_LDADD)

tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)

tests_unit_test_hooks_SOURCES = tests/unit/test_hooks.c
tests_unit_test_hooks_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_hooks_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_hooks_LDADD = $(UNIT_LDADD)

tests_unit_test_module_SOURCES = tests/unit/test_module.c
tests_unit_test_module_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_module_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_module_LDADD = $(SHARED_LDADD)

tests_unit_test_ctx_SOURCES = tests/unit/test_ctx.c
tests_unit_test_ctx_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ctx_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_ctx_LDADD = $(UNIT_LDADD)

tests_unit_test_wait_SOURCES = tests/unit/test_wait.c
tests_unit_test_wait_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_wait_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_wait_LDADD = $(UNIT_LDADD)

tests_unit_test_sniff_SOURCES = tests/unit/test_sniff.c
tests_unit_test_sniff_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sniff_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_sniff_LDADD = $(UNIT_LDADD)

tests_unit_test_reqline_SOURCES = tests/unit/test_reqline.c
tests_unit_test_reqline_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_reqline_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_reqline_LDADD = $(UNIT_LDADD)

tests_integration_test_weftd_SOURCES = tests/integration/test_weftd.c
tests_integration_test_weftd_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_weftd_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_weftd_LDADD = $(SHARED_LDADD)

tests_integration_test_http_request_SOURCES = \
	tests/integration/test_http_request.c
tests_integration_test_http_request_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_http_request_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_http_request_LDADD = $(SHARED_LDADD)

tests_integration_test_http_body_SOURCES = tests/integration/test_http_body.c
tests_integration_test_http_body_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_http_body_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_http_body_LDADD = $(SHARED_LDADD)

tests_integration_test_http_response_SOURCES = \
	tests/integration/test_http_response.c
tests_integration_test_http_response_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_http_response_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_http_response_LDADD = $(SHARED_LDADD)

tests_integration_test_http_conn_SOURCES = tests/integration/test_http_conn.c
tests_integration_test_http_conn_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_http_conn_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_http_conn_LDADD = $(SHARED_LDADD)

tests_integration_test_cancel_SOURCES = tests/integration/test_cancel.c
tests_integration_test_cancel_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_cancel_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_cancel_LDADD = $(SHARED_LDADD)

tests_integration_test_shutdown_SOURCES = tests/integration/test_shutdown.c
tests_integration_test_shutdown_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_shutdown_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_shutdown_LDADD = $(SHARED_LDADD)

tests_integration_test_stress_SOURCES = tests/integration/test_stress.c
tests_integration_test_stress_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_stress_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_stress_LDADD = $(SHARED_LDADD) -lpthread

# The mux's pattern and tree code, compiled into the suite directly.
tests_unit_test_mux_SOURCES = tests/unit/test_mux.c \
	modules/mux/mux_pattern.c modules/mux/mux_tree.c
tests_unit_test_mux_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mux_CPPFLAGS = $(UNIT_CPPFLAGS) -I$(top_srcdir)/modules/mux
tests_unit_test_mux_LDADD = $(SHARED_LDADD)

tests_integration_test_mux_SOURCES = tests/integration/test_mux.c
tests_integration_test_mux_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_mux_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_mux_LDADD = $(SHARED_LDADD)

tests_integration_test_continue_SOURCES = tests/integration/test_continue.c
tests_integration_test_continue_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_continue_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_continue_LDADD = $(SHARED_LDADD)

tests_integration_test_websocket_SOURCES = \
	tests/integration/test_websocket.c
tests_integration_test_websocket_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_websocket_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_websocket_LDADD = $(SHARED_LDADD)

# mod_static's path, range and MIME code, compiled into the suite directly.
tests_unit_test_static_SOURCES = tests/unit/test_static.c \
	modules/static/static_fs.c modules/static/static_http.c \
	modules/static/static_mime.c
tests_unit_test_static_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_static_CPPFLAGS = $(UNIT_CPPFLAGS) \
	-I$(top_srcdir)/modules/static
tests_unit_test_static_LDADD = $(SHARED_LDADD)

tests_integration_test_static_SOURCES = tests/integration/test_static.c
tests_integration_test_static_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_static_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_static_LDADD = $(SHARED_LDADD)

tests_integration_test_log_SOURCES = tests/integration/test_log.c
tests_integration_test_log_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_log_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_log_LDADD = $(SHARED_LDADD) -lpthread

tests_integration_test_status_SOURCES = tests/integration/test_status.c
tests_integration_test_status_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_status_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_status_LDADD = $(SHARED_LDADD)

tests_integration_test_tls_SOURCES = tests/integration/test_tls.c
tests_integration_test_tls_CFLAGS = $(UNIT_CFLAGS) $(OPENSSL_CFLAGS)
tests_integration_test_tls_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_integration_test_tls_LDADD = $(SHARED_LDADD) $(OPENSSL_LIBS)

# A module claiming a made-up ALPN protocol (mod_tls's process_connection
# path).
check_LTLIBRARIES += tests/modules/fixture_alpn.la
tests_modules_fixture_alpn_la_SOURCES = tests/modules/fixture_alpn.c
tests_modules_fixture_alpn_la_LDFLAGS = $(module_ldopts) -rpath /nowhere
tests_modules_fixture_alpn_la_LIBADD = $(module_libs)

# The request context's life seen from a handler and the log hook.
check_LTLIBRARIES += tests/modules/fixture_reqctx.la
tests_modules_fixture_reqctx_la_SOURCES = tests/modules/fixture_reqctx.c
tests_modules_fixture_reqctx_la_LDFLAGS = $(module_ldopts) -rpath /nowhere
tests_modules_fixture_reqctx_la_LIBADD = $(module_libs)

# Not a test: `make tests/bench/mux_bench` builds the mux benchmark.
EXTRA_PROGRAMS = tests/bench/mux_bench
tests_bench_mux_bench_SOURCES = tests/bench/mux_bench.c \
	modules/mux/mux_pattern.c modules/mux/mux_tree.c
tests_bench_mux_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/modules/mux
tests_bench_mux_bench_LDADD = core/libweft.la $(APU_LIBS) $(APR_LIBS)
CLEANFILES += tests/bench/mux_bench

TESTS += $(unit_tests) $(integration_tests) tests/install/test_install.sh
else
check-local:
	@echo "make check needs Check: install the Debian package check" >&2
	@exit 1
endif
