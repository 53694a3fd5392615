#!/bin/sh
# build/deps.sh [--test] -- installs the Debian 12 packages weft needs to
# build (and, with --test, to run its test suite), with apt-get.  Uses sudo
# when not root.  Safe to run again: apt-get skips what is installed.
set -eu

build_pkgs="build-essential autoconf automake libtool pkg-config \
libapr1-dev libaprutil1-dev node-llhttp libssl-dev"
test_pkgs="check python3 curl openssl clang-format python3-websockets nodejs$(command -v npm >/dev/null || echo ' npm')" # NodeSource's nodejs bundles npm

pkgs=$build_pkgs
[ "${1:-}" = "--test" ] && pkgs="$pkgs $test_pkgs"

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
else
    SUDO="sudo"
fi
# shellcheck disable=SC2086
if dpkg-query -W -f='${Status}\n' $pkgs 2>/dev/null |
    grep -qv "install ok installed" ||
    [ "$(dpkg-query -W -f='${Status}\n' $pkgs 2>/dev/null | wc -l)" -ne \
      "$(echo $pkgs | wc -w)" ]; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends $pkgs
fi
