## conf/: the sample configuration, its paths filled in at build time and
## installed to $(sysconfdir)/weft without overwriting a user's edits; the
## sample document root; the access log's directory.

conf/weft.conf: $(top_srcdir)/conf/weft.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) conf && sed \
		-e 's|@weftmoduledir[@]|$(weftmoduledir)|g' \
		-e 's|@weftconfdir[@]|$(weftconfdir)|g' \
		-e 's|@weftdatadir[@]|$(weftdatadir)|g' \
		-e 's|@weftlogdir[@]|$(weftlogdir)|g' \
		-e 's|@localstatedir[@]|$(localstatedir)|g' \
		$(top_srcdir)/conf/weft.conf.in > $@.tmp && mv $@.tmp $@

noinst_DATA = conf/weft.conf
CLEANFILES += conf/weft.conf
EXTRA_DIST += conf/weft.conf.in

htdocsdir = $(weftdatadir)/htdocs
htdocs_DATA = conf/htdocs/index.html
EXTRA_DIST += conf/htdocs/index.html

install-data-local: install-conf
uninstall-local: uninstall-conf

install-conf: conf/weft.conf
	$(MKDIR_P) $(DESTDIR)$(weftconfdir) $(DESTDIR)$(weftlogdir)
	if test -f $(DESTDIR)$(weftconfdir)/weft.conf; then \
		$(INSTALL_DATA) conf/weft.conf $(DESTDIR)$(weftconfdir)/weft.conf.default; \
	else \
		$(INSTALL_DATA) conf/weft.conf $(DESTDIR)$(weftconfdir)/weft.conf; \
	fi

uninstall-conf:
	rm -f $(DESTDIR)$(weftconfdir)/weft.conf.default
	if test -f $(DESTDIR)$(weftconfdir)/weft.conf && \
	   cmp -s conf/weft.conf $(DESTDIR)$(weftconfdir)/weft.conf; then \
		rm -f $(DESTDIR)$(weftconfdir)/weft.conf; \
	fi

.PHONY: install-conf uninstall-conf
