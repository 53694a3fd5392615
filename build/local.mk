## build/: pkg-config file and weft-module, the module author's tool
## (Apache's apxs), with the install paths filled in at build time.

bin_SCRIPTS += build/weft-module
EXTRA_DIST += build/weft-module.in build/weft.pc.in
CLEANFILES += build/weft-module

build/weft-module: $(top_srcdir)/build/weft-module.in Makefile
	$(AM_V_GEN)$(MKDIR_P) build && sed \
		-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
		-e 's|@prefix[@]|$(prefix)|g' \
		-e 's|@sbindir[@]|$(sbindir)|g' \
		-e 's|@libdir[@]|$(libdir)|g' \
		-e 's|@weftincludedir[@]|$(weftincludedir)|g' \
		-e 's|@weftmoduledir[@]|$(weftmoduledir)|g' \
		-e 's|@weftconfdir[@]|$(weftconfdir)|g' \
		-e 's|@CC[@]|$(CC)|g' \
		-e 's|@APR_CFLAGS[@]|$(APR_CFLAGS) $(APU_CFLAGS)|g' \
		-e 's|@APR_LIBS[@]|$(APU_LIBS) $(APR_LIBS)|g' \
		$(top_srcdir)/build/weft-module.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

# configure's exit trap runs `rm -f core *.core ... && rm -f -r conftest*
# confdefs* ...`: the build tree's core/ directory makes the first rm fail,
# so confdefs.h stays behind, and distcheck's distcleancheck refuses it.
DISTCLEANFILES += confdefs.h
