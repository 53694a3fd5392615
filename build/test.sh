#!/bin/sh
# build/test.sh [--sanitize=LIST] -- the README's test command: installs the
# Debian packages, builds weft in _build/NAME (out of tree), and runs the
# whole test suite and the contract smoke check.  With --sanitize it builds
# with -fsanitize=LIST (address,undefined or thread) and fails on any
# sanitizer report, in the server as well as in the tests.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh build/deps.sh --test

san=""
name=plain
for arg in "$@"; do
    case $arg in
    --sanitize=*) san=${arg#--sanitize=}; name=$(echo "$san" | tr ',' '-') ;;
    *) echo "usage: build/test.sh [--sanitize=LIST]" >&2; exit 2 ;;
    esac
done

if [ -f config.status ]; then
    echo "build/test.sh: the source tree has an in-tree build; run" \
         "'make distclean' first" >&2
    exit 1
fi
if [ ! -x configure ] || [ configure.ac -nt configure ] ||
   [ Makefile.am -nt Makefile.in ]; then
    autoreconf -fi
fi

jobs=$(nproc 2>/dev/null || echo 2)
build="$top/_build/$name"
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
    "$top/configure" --enable-werror ${san:+--enable-sanitizers=$san}
fi
make -j"$jobs"

# Sanitizer reports from any process (weftd included) land in $reports;
# any file there fails the run even when no test noticed.
reports="$build/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0:handle_abort=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="log_path=$reports/tsan:halt_on_error=0:second_deadlock_stack=1"

status=0
make -j"$jobs" check || status=1
if [ $status -ne 0 ]; then
    for log in $(find tests -name '*.log' ! -name 'test-suite.log'); do
        if grep -q '^FAIL\|^ERROR' "${log%.log}.trs" 2>/dev/null; then
            echo "==== $log"
            tail -n 80 "$log"
        fi
    done
fi

smoke="$top/../shared/contract/smoke.py"
[ -f "$smoke" ] || smoke="$top/tests/contract/smoke.py"
python3 "$smoke" "$build" || status=1

if [ -n "$(ls -A "$reports")" ]; then
    echo "build/test.sh: sanitizer reports:" >&2
    for f in "$reports"/*; do
        echo "==== $f" >&2
        head -n 60 "$f" >&2
    done
    status=1
fi
[ $status -eq 0 ] && echo "build/test.sh: all passed ($name)"
exit $status
