#!/bin/sh
# build/run.sh [PREFIX] -- the README's run command: installs the Debian
# packages, builds weft, installs it under PREFIX (default ~/weft, no root
# needed), and runs weftd in the foreground on the shipped sample
# configuration.  Stop it with Ctrl-C.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-$HOME/weft}
cd "$top"
sh build/deps.sh
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    autoreconf -fi
fi
mkdir -p _build/run
cd _build/run
[ -f Makefile ] || "$top/configure" --prefix="$prefix"
make -j"$(nproc 2>/dev/null || echo 2)"
make install
echo "build/run.sh: starting $prefix/sbin/weftd -f $prefix/etc/weft/weft.conf"
exec "$prefix/sbin/weftd" -f "$prefix/etc/weft/weft.conf"
