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

EXTRA_DIST += tests/install/test_install.sh tests/bench tests/fuzz

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
	tests/unit/test_sniff tests/unit/test_reqline
integration_tests = tests/integration/test_weftd

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

TESTS += $(unit_tests) $(integration_tests) tests/install/test_install.sh
else
check-local:
	@echo "make check needs Check: install the Debian package check" >&2
	@exit 1
endif
