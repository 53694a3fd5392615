#!/bin/sh
# test_install.sh -- the install test: stage `make install` under a DESTDIR,
# check the layout, build the README's mod_hello out of tree with
# pkg-config against the staged install and load it, drive weft-module
# (-q, -g, -c through the generated Makefile, -i -a) against the stage and
# load what it built, then `make uninstall`.
#
# Run by `make check` (tests/local.mk exports WEFT_BUILDDIR, WEFT_SRCDIR and
# MAKE).  Exit 0: pass, 1: fail, 77: skip.  WEFT_KEEP_TMP=1 keeps the
# scratch directory for a post-mortem.
#
# Nothing is written outside the scratch directory: the source tree may be
# read-only (make distcheck) and the build tree may be a VPATH build.  The
# build tree may be built with sanitizers; the modules built here are not
# instrumented, which an ASan/UBSan/TSan weftd loads without help.

me=test_install

if [ -z "${WEFT_BUILDDIR:-}" ] || [ -z "${WEFT_SRCDIR:-}" ]; then
    echo "$me: SKIP: WEFT_BUILDDIR and WEFT_SRCDIR are unset (run by make check)"
    exit 77
fi
MAKE=${MAKE:-make}
for tool in pkg-config cc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$me: SKIP: $tool is not installed (the README's build needs it)"
        exit 77
    fi
done

weftd=$WEFT_BUILDDIR/core/weftd
readme=$WEFT_SRCDIR/README.md
pid=""

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-install.XXXXXX") || {
    echo "$me: FAIL: cannot make a scratch directory"
    exit 1
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [ -n "$pid" ]; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    if [ "${WEFT_KEEP_TMP:-0}" = 1 ]; then
        echo "$me: kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

say() { echo "$me: $*"; }

# show FILE...: print files, indented, for a failure report.
show() {
    for f in "$@"; do
        [ -f "$f" ] || continue
        echo "---- $f"
        sed 's/^/    /' "$f"
    done
}

# fail MESSAGE [FILE...]: report, show the files, exit 1.
fail() {
    msg=$1
    shift
    echo "$me: FAIL: $msg"
    show "$@"
    exit 1
}

# run LOG CMD...: run CMD with stdout and stderr in LOG; its exit status.
run() {
    log=$1
    shift
    "$@" >"$log" 2>&1
}

# has_symbol FILE.so SYMBOL: SYMBOL is defined and exported by FILE.so.
has_symbol() {
    if ! command -v nm >/dev/null 2>&1; then
        say "  (nm is not installed: not checking that $1 exports $2)"
        return 0
    fi
    nm -D --defined-only "$1" | awk -v s="$2" '$NF == s { f = 1 } END { exit !f }'
}

# wait_for_log LOG TEXT: wait up to 10 s for TEXT in LOG while weftd ($pid)
# runs.  0: found; 1: timed out; 2: weftd exited first.
wait_for_log() {
    i=0
    while [ $i -lt 100 ]; do
        grep -F -q -- "$2" "$1" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || {
            grep -F -q -- "$2" "$1" 2>/dev/null && return 0
            return 2
        }
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# stop_weftd LOG: SIGTERM weftd ($pid); it must exit 0 within 10 s.
stop_weftd() {
    kill -TERM "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        pid=""
        fail "weftd did not exit within 10 s of SIGTERM" "$1"
    fi
    wait "$pid"
    rc=$?
    pid=""
    [ "$rc" -eq 0 ] || fail "weftd exited $rc after SIGTERM (expected 0)" "$1"
}

# serve NAME CONF TEXT [PATH BODY]: start weftd -f CONF, wait for TEXT in
# its log ($tmp/NAME.log); with PATH, GET it (the port is the one the log
# says it listens on) and expect exactly BODY and a newline; then stop it
# with SIGTERM and expect exit status 0.
serve() {
    log=$tmp/$1.log
    "$weftd" -f "$2" >"$tmp/$1.out" 2>"$log" &
    pid=$!
    wait_for_log "$log" "$3"
    case $? in
    0) ;;
    1) fail "no '$3' in weftd's log within 10 s" "$2" "$tmp/$1.out" "$log" ;;
    *)
        wait "$pid"
        rc=$?
        pid=""
        fail "weftd exited ($rc) before logging '$3'" "$2" "$tmp/$1.out" "$log"
        ;;
    esac
    if [ $# -ge 5 ]; then
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -n 1)
        curl -sS --max-time 10 -o "$tmp/$1.body" "http://127.0.0.1:$port$4" \
            2>"$tmp/$1.curl" || fail "GET $4 failed" "$tmp/$1.curl" "$log"
        [ "$(cat "$tmp/$1.body")" = "$5" ] ||
            fail "GET $4 did not answer '$5'" "$tmp/$1.body" "$log"
        say "  GET $4 answered '$5'"
    fi
    stop_weftd "$log"
    say "  weftd -f logged '$3' and exited 0 on SIGTERM"
}

# syntax_ok CONF: weftd -t -f CONF prints Syntax OK and exits 0.
syntax_ok() {
    out=$tmp/$(basename "$1" .conf).t.out
    run "$out" "$weftd" -t -f "$1"
    rc=$?
    if [ "$rc" -ne 0 ] || ! grep -q '^Syntax OK$' "$out"; then
        fail "weftd -t -f $1 exited $rc without Syntax OK" "$1" "$out"
    fi
    say "  weftd -t -f $(basename "$1"): Syntax OK"
}

say "build tree $WEFT_BUILDDIR, source tree $WEFT_SRCDIR, scratch $tmp"
[ -x "$weftd" ] || fail "no $weftd (was the build tree built?)"
run "$tmp/version.out" "$weftd" -V || fail "weftd -V failed" "$tmp/version.out"
sed 's/^/    /' "$tmp/version.out"

# ---- 1. make install DESTDIR=stage, and the layout ----------------------
stage=$tmp/stage
say "1. $MAKE install DESTDIR=$stage"
# $MAKE may carry options ("make -s"): split it.
# shellcheck disable=SC2086
run "$tmp/install.log" $MAKE -C "$WEFT_BUILDDIR" install DESTDIR="$stage" ||
    fail "make install DESTDIR=$stage failed" "$tmp/install.log"

# The prefix is configure's choice: find it from the one staged weftd.
found=$(cd "$stage" && find . -path '*/sbin/weftd' -type f)
n=$(printf '%s' "$found" | grep -c .)
[ "$n" -eq 1 ] || fail "expected one */sbin/weftd under the stage, found $n: $found"
prefix=${found#.}
prefix=${prefix%/sbin/weftd}
sp=$stage$prefix
say "  prefix is '$prefix'"

wm=$sp/bin/weft-module
[ -x "$wm" ] || fail "no executable bin/weft-module under the staged prefix"
# Every other directory is as configure set it; the installed weft-module
# knows them (with a default configure they are PREFIX/lib, PREFIX/include/
# weft, PREFIX/etc/weft and PREFIX/lib/weft/modules).
# query VAR: weft-module -q VAR, into $tmp/q.out.
query() {
    run "$tmp/q.out" "$wm" -q "$1" || fail "weft-module -q $1 failed" "$tmp/q.out"
}
query LIBDIR && libdir=$(cat "$tmp/q.out")
query INCLUDEDIR && includedir=$(cat "$tmp/q.out")
query CONFDIR && confdir=$(cat "$tmp/q.out")
query MODULEDIR && moduledir=$(cat "$tmp/q.out")
query VERSION && version=$(cat "$tmp/q.out")
say "  libdir $libdir, includedir $includedir, confdir $confdir"
for f in "$sp/sbin/weftd" "$wm" "$stage$libdir/libweft.so" \
    "$stage$libdir/pkgconfig/weft.pc" "$stage$includedir/weft.h" \
    "$stage$confdir/weft.conf"; do
    [ -f "$f" ] || fail "not installed: ${f#"$stage"}" "$tmp/install.log"
    say "  installed ${f#"$stage"}"
done
[ -x "$sp/sbin/weftd" ] || fail "$prefix/sbin/weftd is not executable"
set -- "$stage$libdir"/libweft.so.*
[ -f "$1" ] || fail "no versioned libweft.so.* in $libdir" "$tmp/install.log"
say "  installed $libdir/$(basename "$1") (and libweft.so)"

# ---- 2. the README's mod_hello, built out of tree with pkg-config --------
say "2. the README example, built with pkg-config against the stage"
[ -f "$readme" ] || fail "no $readme"
mkdir "$tmp/hello"
awk '
    /^<!-- example: mod_hello\.c -->/ { state = 1; next }
    state == 1 && /^```c[ \t]*$/ { state = 2; next }
    state == 2 && /^```[ \t]*$/ { done = 1; exit }
    state == 2 { print }
    END { exit !done }
' "$readme" >"$tmp/hello/mod_hello.c" ||
    fail "no \`\`\`c block closed by \`\`\` after '<!-- example: mod_hello.c -->' in README.md"
grep -q 'hello_module' "$tmp/hello/mod_hello.c" ||
    fail "the README example defines no hello_module" "$tmp/hello/mod_hello.c"
say "  extracted $(wc -l <"$tmp/hello/mod_hello.c") lines into hello/mod_hello.c"

# The build command, also from the README: the indented `cc ...` line after
# "Build it against the installed headers".
build=$(awk '
    /^Build it against the installed headers/ { look = 1; next }
    look && /^    cc / { sub(/^    /, ""); print; exit }
' "$readme")
case $build in
*pkg-config*weft*) ;;
*) fail "README.md: no '    cc ... \$(pkg-config ... weft)' line after 'Build it against the installed headers'" ;;
esac

# Point pkg-config at the staged weft.pc and relocate it: weft.pc's paths
# all derive from ${prefix}, so --define-variable=prefix=STAGE/PREFIX moves
# -I and -L into the stage.  PKG_CONFIG_SYSROOT_DIR would be wrong here: it
# prefixes every -I/-L, including apr-1's and apr-util-1's absolute
# /usr/include/apr-1.0, which are not in the stage.  (--define-variable
# applies to apr-1.pc too, but its paths do not use ${prefix}.)  A wrapper
# named pkg-config runs the README's line unchanged.
real_pkg_config=$(command -v pkg-config)
mkdir "$tmp/bin"
cat >"$tmp/bin/pkg-config" <<'EOF'
#!/bin/sh
exec "$WEFT_TEST_PKG_CONFIG" --define-variable=prefix="$WEFT_TEST_PREFIX" "$@"
EOF
chmod +x "$tmp/bin/pkg-config"
WEFT_TEST_PKG_CONFIG=$real_pkg_config
WEFT_TEST_PREFIX=$sp
PKG_CONFIG_PATH=$stage$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export WEFT_TEST_PKG_CONFIG WEFT_TEST_PREFIX PKG_CONFIG_PATH

run "$tmp/pc.out" "$tmp/bin/pkg-config" --cflags --libs weft ||
    fail "pkg-config --cflags --libs weft failed on the staged weft.pc" \
        "$tmp/pc.out" "$stage$libdir/pkgconfig/weft.pc"
say "  pkg-config --cflags --libs weft: $(cat "$tmp/pc.out")"
case " $(cat "$tmp/pc.out") " in
*" -I$stage$includedir "*" -L$stage$libdir "*) ;;
*)
    fail "pkg-config does not point into the stage ($stage$includedir, $stage$libdir)" \
        "$tmp/pc.out" "$stage$libdir/pkgconfig/weft.pc"
    ;;
esac
pcver=$("$tmp/bin/pkg-config" --modversion weft)
[ "$pcver" = "$version" ] ||
    fail "weft.pc says version '$pcver', weft-module says '$version'"

say "  (cd hello && $build)"
(
    cd "$tmp/hello" || exit 1
    PATH=$tmp/bin:$PATH
    export PATH
    eval "$build"
) >"$tmp/hello/build.log" 2>&1 ||
    fail "the README's build command failed" "$tmp/hello/build.log"
[ -f "$tmp/hello/mod_hello.so" ] ||
    fail "the README's build command made no mod_hello.so" "$tmp/hello/build.log"
has_symbol "$tmp/hello/mod_hello.so" hello_module ||
    fail "mod_hello.so does not export hello_module" "$tmp/hello/build.log"
say "  built hello/mod_hello.so, which exports hello_module"

# ---- 3. load mod_hello into the build tree's weftd -----------------------
say "3. LoadModule hello_module in the build tree's weftd"
cat >"$tmp/hello.conf" <<EOF
Listen 127.0.0.1:0
LoadModule hello_module "$tmp/hello/mod_hello.so"
HelloGreeting "good morning"
Handler hello
EOF
syntax_ok "$tmp/hello.conf"

# A module's directives exist only after its LoadModule line.
cat >"$tmp/early.conf" <<EOF
Listen 127.0.0.1:0
HelloGreeting "good morning"
LoadModule hello_module "$tmp/hello/mod_hello.so"
EOF
run "$tmp/early.t.out" "$weftd" -t -f "$tmp/early.conf"
rc=$?
[ "$rc" -eq 1 ] || fail "HelloGreeting before LoadModule: weftd -t exited $rc, not 1" \
    "$tmp/early.conf" "$tmp/early.t.out"
grep -q 'HelloGreeting' "$tmp/early.t.out" ||
    fail "HelloGreeting before LoadModule: the error does not name it" "$tmp/early.t.out"
say "  HelloGreeting before LoadModule is refused: $(head -n 1 "$tmp/early.t.out")"

serve hello "$tmp/hello.conf" "mod_hello: good morning" \
    /greet "good morning from /greet"

# ---- 4. weft-module against the stage ------------------------------------
say "4. $prefix/bin/weft-module with DESTDIR=$stage"
# What configure chose, as weftd itself reports it.
vmod=$(sed -n 's/^modules dir: *//p' "$tmp/version.out")
[ "$moduledir" = "$vmod" ] ||
    fail "weft-module -q MODULEDIR says '$moduledir', weftd -V says '$vmod'"
pcmod=$(PKG_CONFIG_PATH=$stage$libdir/pkgconfig "$real_pkg_config" --variable=moduledir weft)
[ "$moduledir" = "$pcmod" ] ||
    fail "weft-module -q MODULEDIR says '$moduledir', weft.pc's moduledir is '$pcmod'"
run "$tmp/q.out" env DESTDIR="$stage" "$wm" -q MODULEDIR ||
    fail "DESTDIR=... weft-module -q MODULEDIR failed" "$tmp/q.out"
[ "$(cat "$tmp/q.out")" = "$moduledir" ] ||
    fail "DESTDIR=... weft-module -q MODULEDIR does not print $moduledir" "$tmp/q.out"
say "  -q MODULEDIR: $moduledir (as weftd -V and weft.pc say)"

(cd "$tmp" && DESTDIR=$stage "$wm" -g greet) >"$tmp/gen.log" 2>&1 ||
    fail "weft-module -g greet failed" "$tmp/gen.log"
for f in mod_greet.c Makefile; do
    [ -f "$tmp/mod_greet/$f" ] || fail "weft-module -g greet wrote no mod_greet/$f" "$tmp/gen.log"
done
say "  -g greet wrote mod_greet/mod_greet.c and mod_greet/Makefile"

# shellcheck disable=SC2086
run "$tmp/greet-build.log" $MAKE -C "$tmp/mod_greet" \
    WEFT_MODULE="env DESTDIR=$stage $wm" ||
    fail "make in mod_greet failed" "$tmp/greet-build.log"
[ -f "$tmp/mod_greet/mod_greet.so" ] ||
    fail "make in mod_greet made no mod_greet.so" "$tmp/greet-build.log"
has_symbol "$tmp/mod_greet/mod_greet.so" greet_module ||
    fail "mod_greet.so does not export greet_module" "$tmp/greet-build.log"
say "  make (weft-module -c) built mod_greet/mod_greet.so, which exports greet_module"

conf=$stage$confdir/weft.conf
line="LoadModule greet_module \"$moduledir/mod_greet.so\""
for pass in 1 2; do
    (cd "$tmp/mod_greet" && DESTDIR=$stage "$wm" -i -a mod_greet.so) \
        >"$tmp/inst$pass.log" 2>&1 ||
        fail "weft-module -i -a mod_greet.so (run $pass) failed" "$tmp/inst$pass.log"
    [ -f "$stage$moduledir/mod_greet.so" ] ||
        fail "weft-module -i did not install $moduledir/mod_greet.so under the stage" \
            "$tmp/inst$pass.log"
    n=$(grep -c -x -F -- "$line" "$conf")
    [ "$n" -eq 1 ] ||
        fail "after -i -a run $pass, weft.conf has $n lines '$line' (expected 1)" \
            "$tmp/inst$pass.log" "$conf"
done
say "  -i -a installed $moduledir/mod_greet.so and added, once in two runs: $line"

# Reinstalling must keep the edited weft.conf (the new one goes beside it).
# shellcheck disable=SC2086
run "$tmp/install2.log" $MAKE -C "$WEFT_BUILDDIR" install DESTDIR="$stage" ||
    fail "make install over the edited stage failed" "$tmp/install2.log"
grep -q -x -F -- "$line" "$conf" ||
    fail "make install overwrote the edited weft.conf" "$tmp/install2.log" "$conf"
[ -f "$conf.default" ] ||
    fail "make install over an edited weft.conf did not write weft.conf.default" \
        "$tmp/install2.log"
say "  make install again kept the edited weft.conf and wrote weft.conf.default"

cat >"$tmp/greet.conf" <<EOF
Listen 127.0.0.1:0
LoadModule greet_module "$stage$moduledir/mod_greet.so"
greetGreeting "hi"
Handler greet
EOF
syntax_ok "$tmp/greet.conf"
serve greet "$tmp/greet.conf" "mod_greet: hi" / "hi"

# ---- 5. make uninstall ----------------------------------------------------
say "5. $MAKE uninstall DESTDIR=$stage"
# shellcheck disable=SC2086
run "$tmp/uninstall.log" $MAKE -C "$WEFT_BUILDDIR" uninstall DESTDIR="$stage" ||
    fail "make uninstall DESTDIR=$stage failed" "$tmp/uninstall.log"
for f in "$sp/sbin/weftd" "$wm" "$stage$libdir/libweft.so" \
    "$stage$libdir/pkgconfig/weft.pc" "$stage$includedir/weft.h" \
    "$conf.default"; do
    [ ! -e "$f" ] || fail "make uninstall left ${f#"$stage"}" "$tmp/uninstall.log"
done
[ -f "$conf" ] || fail "make uninstall removed the edited weft.conf" "$tmp/uninstall.log"
say "  removed what it installed; kept the edited weft.conf"

say "PASS"
exit 0
