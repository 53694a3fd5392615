#!/usr/bin/env bash
# tests/bench/bench.sh -- weft's benchmark (not a test: make check and CI
# never run it).
#
# Starts weftd twice (MPM thread and MPM worker, /hello via mod_testapp),
# nginx from Debian's package (own prefix and config on loopback, one worker,
# `return 200 "hello\n"`, access log off) and Go's net/http hello server
# (hello.go beside this script), then runs `wrk -t1` with keep-alive against
# each of them in the same run, interleaved: for every round, for every
# connection count, every server gets a warm-up and then a measured run.
# It prints requests/s, p99 latency, server CPU microseconds per request
# (utime+stime from /proc) and ratios to nginx for every round, then the
# medians over the rounds, the ratios weft/nginx and weft/go, and PASS/FAIL
# against the project's targets. See README.md beside this script.
#
# --scenario static-4k and static-100m measure static files instead: weftd
# with mod_static (and mod_log's combined access log when it loads) against
# nginx serving the same directory with its access log on in the same
# format; static-4k counts requests/s for a 4 KiB file, static-100m MiB/s
# for a 100 MiB one. --scenario static runs both, one after the other.
#
# --scenario tls-keepalive and tls-close measure HTTPS (mod_tls): weftd
# and nginx with the same self-signed ECDSA P-256 certificate made by the
# openssl command, TLS 1.3 only, the one ciphersuite TLS_AES_128_GCM_SHA256;
# tls-keepalive counts keep-alive requests/s over HTTPS, tls-close new TLS
# connections/s (every request says Connection: close, so each is a full
# handshake). --scenario tls runs both.
#
# Usage: tests/bench/bench.sh [--quick] [--duration S] [--warmup S]
#          [--rounds N] [--conns "16 64 256 1024"]
#          [--servers "weft-thread weft-worker nginx go"]
#          [--scenario hello|static-4k|static-100m|static|tls-keepalive|
#                      tls-close|tls]
#          [--weftd PATH] [--testapp PATH] [--keep]
# Exit status: 0 every measured target met, 1 a target missed, 2 usage or
# set-up error.

set -u -o pipefail

PROG=${0##*/}
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_TOP=$(cd "$SCRIPT_DIR/../.." && pwd)

usage() {
    cat <<EOF
Usage: $PROG [options]

Benchmarks weftd (MPM thread and MPM worker) against nginx and Go's
net/http on GET /hello with wrk -t1, keep-alive, on 127.0.0.1.

  --duration S    seconds per measured wrk run (default 10)
  --warmup S      seconds of warm-up before each measured run (default 2)
  --rounds N      interleaved rounds (default 3)
  --conns LIST    connection counts (default "16 64 256 1024")
  --servers LIST  servers among weft-thread weft-worker nginx go
                  (default: all four; static scenarios: weft-thread nginx)
  --scenario NAME hello (default): GET /hello; static-4k: a 4 KiB file,
                  req/s, 64 conns by default; static-100m: a 100 MiB file,
                  MiB/s, 8 conns by default; static: both static ones;
                  tls-keepalive: /hello over HTTPS, keep-alive; tls-close:
                  /hello over HTTPS with Connection: close (new TLS
                  connections/s), both 64 conns by default; tls: both
  --weftd PATH    weftd to run (default: ./core/weftd of the build tree)
  --testapp PATH  mod_testapp.so (default: the one under the build tree's
                  tests/)
  --quick         1 round of 3 s (1 s warm-up) unless given otherwise
  --keep          keep the temporary directory (configs, logs, wrk output)
  -h, --help      this text

Exit status: 0 all measured targets met, 1 a target missed, 2 usage or
set-up error.
EOF
}

die() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit 2
}
note() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- options

DURATION='' WARMUP='' ROUNDS='' QUICK=0 KEEP=0
CONNS='' SERVERS='' SCENARIO=hello
WEFTD='' TESTAPP=''
ARGS=("$@") # for --scenario static, which runs this script twice

while (($#)); do
    opt=$1 val=''
    case $opt in
    --*=*) val=${opt#*=} opt=${opt%%=*} ;;
    esac
    case $opt in
    --duration | --warmup | --rounds | --conns | --servers | --weftd | --testapp | --scenario)
        if [[ -z $val && $1 != *=* ]]; then
            (($# >= 2)) || die "$opt needs an argument"
            val=$2
            shift
        fi
        ;;
    esac
    case $opt in
    --duration) DURATION=$val ;;
    --warmup) WARMUP=$val ;;
    --rounds) ROUNDS=$val ;;
    --conns) CONNS=$val ;;
    --servers) SERVERS=$val ;;
    --scenario) SCENARIO=$val ;;
    --weftd) WEFTD=$val ;;
    --testapp) TESTAPP=$val ;;
    --quick) QUICK=1 ;;
    --keep) KEEP=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        die "unknown option: $1"
        ;;
    esac
    shift
done

# --scenario static: each static scenario in turn, by this very script
# (the later options win, so the scenario given last is the one run).
if [[ $SCENARIO == static ]]; then
    rc=0
    for sc in static-4k static-100m; do
        "$0" "${ARGS[@]}" --scenario "$sc" || { r=$?; ((r > rc)) && rc=$r; }
    done
    exit "$rc"
fi
# --scenario tls: both TLS scenarios in turn, the same way.
if [[ $SCENARIO == tls ]]; then
    rc=0
    for sc in tls-keepalive tls-close; do
        "$0" "${ARGS[@]}" --scenario "$sc" || { r=$?; ((r > rc)) && rc=$r; }
    done
    exit "$rc"
fi
# What the scenario serves, counts and defaults to.
case $SCENARIO in
hello)
    BENCH_PATH=/hello METRIC=req/s
    : "${CONNS:=16 64 256 1024}" "${SERVERS:=weft-thread weft-worker nginx go}"
    ;;
static-4k)
    BENCH_PATH=/4k.bin METRIC=req/s
    : "${CONNS:=64}" "${SERVERS:=weft-thread nginx}"
    ;;
static-100m)
    BENCH_PATH=/100m.bin METRIC=MiB/s
    : "${CONNS:=8}" "${SERVERS:=weft-thread nginx}"
    ;;
tls-keepalive)
    BENCH_PATH=/hello METRIC=req/s
    : "${CONNS:=64}" "${SERVERS:=weft-thread nginx}"
    ;;
tls-close)
    BENCH_PATH=/hello METRIC=conn/s
    : "${CONNS:=64}" "${SERVERS:=weft-thread nginx}"
    ;;
*) die "--scenario: hello, static-4k, static-100m, static, tls-keepalive, tls-close or tls, not '$SCENARIO'" ;;
esac
is_static() { [[ $SCENARIO == static-* ]]; }
is_tls() { [[ $SCENARIO == tls-* ]]; }
# The TLS scenarios' one protocol and one ciphersuite, for both servers.
TLS_SUITE=TLS_AES_128_GCM_SHA256

if ((QUICK)); then
    : "${DURATION:=3}" "${WARMUP:=1}" "${ROUNDS:=1}"
fi
: "${DURATION:=10}" "${WARMUP:=2}" "${ROUNDS:=3}"

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
if ! is_uint "$DURATION" || ((DURATION == 0)); then die "--duration: a positive number of seconds"; fi
is_uint "$WARMUP" || die "--warmup: a number of seconds (0: none)"
if ! is_uint "$ROUNDS" || ((ROUNDS == 0)); then die "--rounds: a positive number"; fi

read -ra CONN_LIST <<<"$CONNS"
((${#CONN_LIST[@]})) || die "--conns: no connection counts"
for c in "${CONN_LIST[@]}"; do
    if ! is_uint "$c" || ((c == 0)); then die "--conns: not a positive number: $c"; fi
done

read -ra SERVER_LIST <<<"$SERVERS"
((${#SERVER_LIST[@]})) || die "--servers: no servers"
declare -A WANT=()
for s in "${SERVER_LIST[@]}"; do
    case $s in
    weft-thread | weft-worker | nginx | go) ;;
    *) die "--servers: unknown server '$s' (weft-thread weft-worker nginx go)" ;;
    esac
    if is_static && [[ $s == go ]]; then
        die "--servers: go has no part in the static scenarios"
    fi
    if is_tls && [[ $s == go ]]; then
        die "--servers: go has no part in the TLS scenarios"
    fi
    [[ -z ${WANT[$s]:-} ]] || die "--servers: '$s' given twice"
    WANT[$s]=1
done
has() { [[ -n ${WANT[$1]:-} ]]; }
need_weft() { has weft-thread || has weft-worker; }

MAX_CONNS=0
for c in "${CONN_LIST[@]}"; do ((c > MAX_CONNS)) && MAX_CONNS=$c; done

# ------------------------------------------------------- tools and packages

find_nginx() {
    local p
    p=$(command -v nginx 2>/dev/null) && { printf '%s\n' "$p"; return 0; }
    for p in /usr/sbin/nginx /sbin/nginx /usr/local/sbin/nginx; do
        [[ -x $p ]] && { printf '%s\n' "$p"; return 0; }
    done
    return 1
}
find_go() {
    local p
    p=$(command -v go 2>/dev/null) && { printf '%s\n' "$p"; return 0; }
    for p in /usr/lib/go/bin/go /usr/local/go/bin/go; do
        [[ -x $p ]] && { printf '%s\n' "$p"; return 0; }
    done
    return 1
}

install_packages() {
    local -a sudo=() pkgs=("$@")
    local i
    command -v apt-get >/dev/null 2>&1 ||
        die "missing ${pkgs[*]} and no apt-get to install them; install them by hand"
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || die "missing ${pkgs[*]}: run as root or install sudo"
        sudo=(sudo)
    fi
    # nginx-light is gone from newer Debian releases; take nginx there.
    for i in "${!pkgs[@]}"; do
        if [[ ${pkgs[$i]} == nginx-light ]] &&
            ! apt-cache show nginx-light >/dev/null 2>&1; then
            pkgs[i]=nginx
        fi
    done
    note "installing ${pkgs[*]} (apt-get)"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
        note "apt-get update failed; trying the install anyway"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2 ||
        die "apt-get install ${pkgs[*]} failed"
}

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
has nginx && ! find_nginx >/dev/null && missing+=(nginx-light)
has go && ! find_go >/dev/null && missing+=(golang-go)
((${#missing[@]})) && install_packages "${missing[@]}"

WRK=$(command -v wrk) || die "wrk not found"
NGINX='' GO=''
if has nginx; then NGINX=$(find_nginx) || die "nginx not found"; fi
if has go; then GO=$(find_go) || die "go not found"; fi
for t in awk timeout; do
    command -v "$t" >/dev/null 2>&1 || die "$t not found"
done

# weftd and mod_testapp: the build tree is the current directory if it has
# core/weftd, otherwise the tree this script lives in.
if need_weft; then
    if [[ -z $WEFTD ]]; then
        for d in "$PWD" "$SRC_TOP"; do
            [[ -x $d/core/weftd ]] && { WEFTD=$d/core/weftd; break; }
        done
        [[ -n $WEFTD ]] || die "no core/weftd here or in $SRC_TOP: build first, or give --weftd"
    fi
    [[ -x $WEFTD ]] || die "--weftd: not an executable: $WEFTD"
    [[ $WEFTD == /* ]] || WEFTD=$PWD/$WEFTD
    if [[ -z $TESTAPP ]]; then
        for d in "$(dirname "$(dirname "$WEFTD")")" "$PWD" "$SRC_TOP"; do
            [[ -d $d/tests ]] || continue
            TESTAPP=$(find "$d/tests" -name mod_testapp.so -print -quit 2>/dev/null)
            [[ -n $TESTAPP ]] && break
        done
        [[ -n $TESTAPP ]] || die "no mod_testapp.so under tests/: run 'make tests/modules/mod_testapp.la', or give --testapp"
    fi
    [[ -f $TESTAPP ]] || die "--testapp: no such file: $TESTAPP"
    [[ $TESTAPP == /* ]] || TESTAPP=$PWD/$TESTAPP
    # `make` alone does not rebuild it (a check-only library): say so
    # rather than measure yesterday's module.
    if [[ $SRC_TOP/tests/modules/mod_testapp.c -nt $TESTAPP ]]; then
        note "warning: $TESTAPP is older than tests/modules/mod_testapp.c;" \
            "run 'make tests/modules/mod_testapp.la' first"
    fi
fi

# mod_static and mod_log for the static scenarios: beside weftd's tree.
MOD_STATIC='' MOD_LOG=''
if need_weft && is_static; then
    for d in "$(dirname "$(dirname "$WEFTD")")" "$PWD" "$SRC_TOP"; do
        [[ -f $d/modules/.libs/mod_static.so ]] || continue
        MOD_STATIC=$d/modules/.libs/mod_static.so
        [[ -f $d/modules/.libs/mod_log.so ]] && MOD_LOG=$d/modules/.libs/mod_log.so
        break
    done
    [[ -n $MOD_STATIC ]] || die "no modules/.libs/mod_static.so beside $WEFTD: build first"
fi

# mod_tls for the TLS scenarios, beside weftd's tree; the openssl command
# makes the certificate both servers use.
MOD_TLS=''
if is_tls; then
    command -v openssl >/dev/null 2>&1 || die "openssl (the command) not found"
    if need_weft; then
        for d in "$(dirname "$(dirname "$WEFTD")")" "$PWD" "$SRC_TOP"; do
            [[ -f $d/modules/.libs/mod_tls.so ]] && { MOD_TLS=$d/modules/.libs/mod_tls.so; break; }
        done
        [[ -n $MOD_TLS ]] || die "no modules/.libs/mod_tls.so beside $WEFTD: build first"
    fi
fi

# ---------------------------------------------------- limits and clean-up

# Every server and wrk need a descriptor per connection, plus some.
NOFILE_WANT=$((MAX_CONNS * 2 + 512))
((NOFILE_WANT < 4096)) && NOFILE_WANT=4096
nofile_hard=$(ulimit -Hn)
if [[ $nofile_hard != unlimited ]] && ((nofile_hard < NOFILE_WANT)); then
    ulimit -Hn "$NOFILE_WANT" 2>/dev/null || true
    nofile_hard=$(ulimit -Hn)
fi
nofile_soft=$(ulimit -Sn)
if [[ $nofile_soft != unlimited ]] && ((nofile_soft < NOFILE_WANT)); then
    if [[ $nofile_hard == unlimited ]] || ((nofile_hard >= NOFILE_WANT)); then
        ulimit -Sn "$NOFILE_WANT" 2>/dev/null || true
    else
        ulimit -Sn "$nofile_hard" 2>/dev/null || true
    fi
fi
NOFILE=$(ulimit -Sn)
if [[ $NOFILE != unlimited ]] && ((NOFILE < MAX_CONNS + 64)); then
    note "warning: ulimit -n is $NOFILE, too low for $MAX_CONNS connections; expect socket errors"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/weft-bench.XXXXXX") || die "mktemp failed"
chmod 755 "$TMP" # nginx workers may run as another user when we are root

declare -a STARTED=() # "pid:starttime" of every process this script started
declare -A PID=() PORT=() DESC=() RESP=()
WRK_PID=''

# starttime (field 22 of /proc/PID/stat): with the pid, names a process
# uniquely, so a recycled pid is never signalled.
proc_start() {
    local line rest
    read -r line 2>/dev/null <"/proc/$1/stat" || return 1
    rest=${line##*) }
    local -a f
    read -ra f <<<"$rest"
    printf '%s\n' "${f[19]}"
}
track() {
    local st
    st=$(proc_start "$1") && STARTED+=("$1:$st")
}
# shellcheck disable=SC2317 # reached from the EXIT trap
ours_alive() { # pid:starttime
    local st
    st=$(proc_start "${1%%:*}") && [[ $st == "${1#*:}" ]]
}

# shellcheck disable=SC2317
stop_all() {
    local e i alive
    if [[ -n $WRK_PID ]] && kill -0 "$WRK_PID" 2>/dev/null; then
        kill -TERM "$WRK_PID" 2>/dev/null
    fi
    for e in "${STARTED[@]}"; do
        ours_alive "$e" && kill -TERM "${e%%:*}" 2>/dev/null
    done
    for ((i = 0; i < 50; i++)); do # at most 5 s
        alive=0
        for e in "${STARTED[@]}"; do ours_alive "$e" && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for e in "${STARTED[@]}"; do
        if ours_alive "$e"; then
            note "${e%%:*} did not stop within 5 s; killing it"
            kill -KILL "${e%%:*}" 2>/dev/null
        fi
    done
    # Reap our own children (nginx workers are the master's).
    for e in "${STARTED[@]}"; do wait "${e%%:*}" 2>/dev/null; done
    STARTED=()
}

# shellcheck disable=SC2317
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    stop_all
    if ((KEEP)); then
        note "temporary files kept in $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The static scenarios' directory: /hello (so the readiness check works
# unchanged), a 4 KiB file and a 100 MiB file, all served as files.
WWW=$TMP/www
if is_static; then
    mkdir -p "$WWW" && chmod 755 "$WWW"
    printf 'hello\n' >"$WWW/hello"
    head -c 4096 /dev/urandom >"$WWW/4k.bin" || die "cannot write $WWW/4k.bin"
    if [[ $SCENARIO == static-100m ]]; then
        head -c $((100 * 1024 * 1024)) /dev/urandom >"$WWW/100m.bin" ||
            die "cannot write $WWW/100m.bin"
    fi
    chmod 644 "$WWW"/*
fi

# The TLS scenarios' certificate and key (self-signed ECDSA P-256).
TLS_CERT=$TMP/tls/cert.pem TLS_KEY=$TMP/tls/key.pem
if is_tls; then
    mkdir -p "$TMP/tls" && chmod 755 "$TMP/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$TLS_KEY" -out "$TLS_CERT" -days 2 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >"$TMP/tls/openssl.log" 2>&1 ||
        die "openssl req failed: $(tail -n 1 "$TMP/tls/openssl.log")"
    chmod 644 "$TLS_CERT" "$TLS_KEY" # nginx workers may run as another user
fi

# ---------------------------------------------------------------- helpers

CLK_TCK=$(getconf CLK_TCK 2>/dev/null) || CLK_TCK=100

# A port nobody on this host uses, below the ephemeral range wrk's own
# connections come from. Races with other programs are handled by retrying.
free_port() {
    local used=' ' b p i
    while read -r _ b _; do
        [[ $b == *:* ]] || continue
        used+="$((16#${b##*:})) "
    done < <(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null)
    for ((i = 0; i < 500; i++)); do
        p=$((20000 + RANDOM % 12000))
        [[ $used == *" $p "* ]] || { printf '%s\n' "$p"; return 0; }
    done
    return 1
}

# GET /hello with Connection: close; the raw response goes to file $2.
fetch_hello() {
    local port=$1 out=$2 fd
    if is_tls; then
        curl -sk --http1.1 -i --max-time 3 -H 'Connection: close' \
            "https://127.0.0.1:$port/hello" >"$out" 2>/dev/null || return 1
        [[ $(head -c 12 "$out") == "HTTP/1.1 200" ]] &&
            [[ $(tail -c 10 "$out" | od -An -c | tr -d ' ') == '\r\n\r\nhello\n' ]]
        return
    fi
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET /hello HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' \
        "$port" 1>&"$fd" 2>/dev/null
    timeout 3 cat <&"$fd" >"$out" 2>/dev/null
    exec {fd}>&-
    [[ $(head -c 12 "$out") == "HTTP/1.1 200" ]] &&
        [[ $(tail -c 10 "$out" | od -An -c | tr -d ' ') == '\r\n\r\nhello\n' ]]
}

# Wait (bounded) until server $1 (pid $2, port $3) answers /hello.
wait_ready() {
    local name=$1 pid=$2 port=$3 i
    for ((i = 0; i < 100; i++)); do # at most ~10 s
        kill -0 "$pid" 2>/dev/null || return 1
        if fetch_hello "$port" "$TMP/$name/hello.txt" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# Direct children of pid $1.
children() {
    if command -v pgrep >/dev/null 2>&1; then
        pgrep -P "$1" 2>/dev/null
    else
        cat /proc/"$1"/task/*/children 2>/dev/null
    fi
}

# utime+stime in clock ticks of pid $1 (all its threads, living and gone)
# and of its direct children (nginx's worker).
cpu_ticks() {
    local total=0 p line rest
    local -a f
    for p in "$1" $(children "$1"); do
        read -r line 2>/dev/null <"/proc/$p/stat" || continue
        rest=${line##*) }
        read -ra f <<<"$rest"
        total=$((total + f[11] + f[12]))
    done
    printf '%s\n' "$total"
}

# Escape a path for a double-quoted weft configuration argument.
wq() {
    local s=${1//\\/\\\\}
    printf '"%s"' "${s//\"/\\\"}"
}

# ---------------------------------------------------------------- servers

# Whether weft can log like nginx does: mod_log's combined AccessLog, if
# it is built and weftd -t takes it ("on"), else why not.
WEFT_ACCESS_LOG=''
probe_access_log() {
    local dir=$TMP/access-check
    mkdir -p "$dir"
    WEFT_ACCESS_LOG="mod_log not built"
    if [[ -n $MOD_LOG ]]; then
        printf 'Listen 127.0.0.1:1\nLoadModule log_module %s\nAccessLog %s combined\n' \
            "$(wq "$MOD_LOG")" "$(wq "$dir/access.log")" >"$dir/weft.conf"
        if "$WEFTD" -t -f "$dir/weft.conf" >"$dir/check.log" 2>&1; then
            WEFT_ACCESS_LOG=on
        else
            WEFT_ACCESS_LOG="AccessLog refused: $(head -n 1 "$dir/check.log")"
        fi
    fi
    [[ $WEFT_ACCESS_LOG == on ]] ||
        note "warning: weft runs without an access log ($WEFT_ACCESS_LOG)"
}

# The static scenarios' part of a weft configuration.
weft_static_conf() { # dir
    printf 'LoadModule static_module %s\nHandler static\nStaticRoot %s\n' \
        "$(wq "$MOD_STATIC")" "$(wq "$WWW")"
    if [[ $WEFT_ACCESS_LOG == on ]]; then
        printf 'LoadModule log_module %s\nAccessLog %s combined\n' \
            "$(wq "$MOD_LOG")" "$(wq "$1/access.log")"
    fi
}

# The TLS scenarios' part of a weft configuration.
weft_tls_conf() {
    printf 'LoadModule tls_module %s\nTLSCertificateFile %s\n' \
        "$(wq "$MOD_TLS")" "$(wq "$TLS_CERT")"
    printf 'TLSCertificateKeyFile %s\nTLSProtocols TLSv1.3\n' "$(wq "$TLS_KEY")"
    printf 'TLSCipherSuites %s\n' "$TLS_SUITE"
}

launch_weft() { # name mpm port -> sets LAUNCHED_PID
    local name=$1 mpm=$2 port=$3 dir=$TMP/$1 handler listen=$3
    if is_static; then
        handler=$(weft_static_conf "$dir")
    else
        handler="LoadModule testapp_module $(wq "$TESTAPP")"$'\n'"Handler testapp"
    fi
    if is_tls; then
        listen="$port tls"
        handler+=$'\n'"$(weft_tls_conf)"
    fi
    cat >"$dir/weft.conf" <<EOF
# weft benchmark server: $name
Listen 127.0.0.1:$listen
$handler
MPM $mpm
ReadHeaderTimeout 10s
ReadTimeout 60s
WriteTimeout 60s
IdleTimeout 120s
ShutdownTimeout 2s
ErrorLog $(wq "$dir/error.log")
LogLevel warn
EOF
    if ! "$WEFTD" -t -f "$dir/weft.conf" >"$dir/check.log" 2>&1; then
        cat "$dir/check.log" >&2
        die "$name: weftd -t refused $dir/weft.conf"
    fi
    "$WEFTD" -f "$dir/weft.conf" >>"$dir/stderr.log" 2>&1 </dev/null &
    LAUNCHED_PID=$!
}

nginx_has() { "$NGINX" -V 2>&1 | grep -q -- "$1"; }

launch_nginx() { # name port
    local name=$1 port=$2 dir=$TMP/$1 m temps='' eopt=() http site
    mkdir -p "$dir/temp" "$dir/logs"
    # Debian's build points the temp paths at /var/lib/nginx; keep ours.
    temps+="    client_body_temp_path $dir/temp/body;"$'\n'
    for m in proxy fastcgi uwsgi scgi; do
        if nginx_has "--http-$m-temp-path" && ! nginx_has "--without-http_${m}_module"; then
            temps+="    ${m}_temp_path $dir/temp/$m;"$'\n'
        fi
    done
    # hello: a fixed answer, no log.  Static: the directory as files
    # (sendfile, as Debian ships it) with the combined access log on.
    if is_static; then
        http="    access_log $dir/access.log combined;
    default_type application/octet-stream;
    sendfile on;"
        site="        root $WWW;"
    else
        http="    access_log off;
    default_type \"text/plain; charset=utf-8\";"
        site="        location = /hello {
            return 200 \"hello\\n\";
        }"
    fi
    local listen="127.0.0.1:$port"
    if is_tls; then
        listen+=" ssl"
        http+="
    ssl_certificate $TLS_CERT;
    ssl_certificate_key $TLS_KEY;
    ssl_protocols TLSv1.3;
    ssl_conf_command Ciphersuites $TLS_SUITE;"
    fi
    cat >"$dir/nginx.conf" <<EOF
# weft benchmark: nginx baseline
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;

events {
    worker_connections $((MAX_CONNS + 512 > 1024 ? MAX_CONNS + 512 : 1024));
}

http {
$http
    keepalive_timeout 120s;
    keepalive_requests 100000000;
$temps
    server {
        listen $listen;
$site
    }
}
EOF
    # -e keeps the start-up log out of /var/log/nginx (nginx >= 1.19.5).
    "$NGINX" -h 2>&1 | grep -q -- '-e filename' && eopt=(-e "$dir/error.log")
    if ! "$NGINX" -t -q -p "$dir/" -c "$dir/nginx.conf" "${eopt[@]}" >"$dir/check.log" 2>&1; then
        cat "$dir/check.log" >&2
        die "$name: nginx -t refused $dir/nginx.conf"
    fi
    "$NGINX" -p "$dir/" -c "$dir/nginx.conf" "${eopt[@]}" >>"$dir/stderr.log" 2>&1 </dev/null &
    LAUNCHED_PID=$!
}

GO_BIN=''
build_go() {
    local dir=$TMP/go cache
    mkdir -p "$dir"
    cache=$("$GO" env GOCACHE 2>/dev/null)
    if [[ -z $cache || $cache == off ]] || ! mkdir -p "$cache" 2>/dev/null || [[ ! -w $cache ]]; then
        cache=$dir/gocache
    fi
    # Standard library only: no modules, no proxy, no network.
    if ! (cd "$dir" && GO111MODULE=off GOFLAGS='' GOPROXY=off GOTOOLCHAIN=local \
        GOCACHE=$cache "$GO" build -o "$dir/hello" "$SCRIPT_DIR/hello.go") \
        >"$dir/build.log" 2>&1; then
        cat "$dir/build.log" >&2
        die "go build of $SCRIPT_DIR/hello.go failed"
    fi
    GO_BIN=$dir/hello
}

launch_go() { # name port
    local name=$1 port=$2 dir=$TMP/$1
    "$GO_BIN" -host 127.0.0.1 -port "$port" >>"$dir/stderr.log" 2>&1 </dev/null &
    LAUNCHED_PID=$!
}

start_server() {
    local name=$1 attempt port pid c
    mkdir -p "$TMP/$name"
    for attempt in 1 2 3; do
        port=$(free_port) || die "no free port found"
        case $name in
        weft-thread) launch_weft "$name" thread "$port" ;;
        weft-worker) launch_weft "$name" worker "$port" ;;
        nginx) launch_nginx "$name" "$port" ;;
        go) launch_go "$name" "$port" ;;
        esac
        pid=$LAUNCHED_PID
        track "$pid"
        if wait_ready "$name" "$pid" "$port"; then
            PID[$name]=$pid PORT[$name]=$port
            for c in $(children "$pid"); do track "$c"; done
            return 0
        fi
        if kill -0 "$pid" 2>/dev/null; then
            break # running but not answering: no point in another port
        fi
        wait "$pid" 2>/dev/null
        note "$name exited at start on port $port (attempt $attempt)"
    done
    note "---- $name logs ($TMP/$name):"
    tail -n 20 "$TMP/$name"/*.log >&2 2>/dev/null
    die "$name did not come up"
}

# ---------------------------------------------------------------- wrk

declare -A R_RPS=() R_P99=() R_CPU=() R_ERR=() R_NOTE=()

# Latency as wrk prints it (us, ms, s, m, h) -> microseconds.
to_us() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") f = 1; else if (u == "ms") f = 1e3
        else if (u == "s") f = 1e6; else if (u == "m") f = 6e7
        else if (u == "h") f = 3.6e9; else f = -1
        if (f < 0 || v !~ /^[0-9.]/) print "nan"; else printf "%.1f\n", n * f
    }'
}

# wrk's Transfer/sec (binary units: KB is 1024 bytes) -> MiB/s.
to_mib() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "B") f = 1 / 1048576; else if (u == "KB") f = 1 / 1024
        else if (u == "MB") f = 1; else if (u == "GB") f = 1024
        else if (u == "TB") f = 1048576; else f = -1
        if (f < 0 || v !~ /^[0-9.]/) exit; printf "%.1f\n", n * f
    }'
}

# The TLS scenarios speak https; tls-close asks for a new connection
# (so a new handshake) with every request.
WRK_SCHEME=http WRK_EXTRA=() WRK_MODE=keep-alive
if is_tls; then WRK_SCHEME=https; fi
if [[ $SCENARIO == tls-close ]]; then
    WRK_EXTRA=(-H 'Connection: close') WRK_MODE='Connection: close'
fi
# A 100 MiB answer shared by many connections takes seconds: wrk's 2 s
# default would count slow-but-whole answers as timeouts (errors).
if [[ $SCENARIO == static-100m ]]; then WRK_EXTRA=(--timeout 60s); fi

run_wrk() { # conns seconds port outfile
    timeout -k 5 $(($2 + 30)) "$WRK" -t1 -c"$1" -d"$2s" --latency \
        "${WRK_EXTRA[@]}" "$WRK_SCHEME://127.0.0.1:$3$BENCH_PATH" >"$4" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID"
    local rc=$?
    WRK_PID=''
    return "$rc"
}

# One measured run of server $2 at $3 connections in round $1.
measure() {
    local r=$1 name=$2 c=$3 pid=${PID[$2]} port=${PORT[$2]}
    local key="$r,$name,$c" out="$TMP/$name/wrk-r$r-c$c.txt"
    local before after reqs rps p99 sock non2xx rc

    if ! kill -0 "$pid" 2>/dev/null; then
        R_NOTE[$key]="server dead"
        R_ERR[$key]=1
        return
    fi
    if ((WARMUP > 0)); then
        run_wrk "$c" "$WARMUP" "$port" "$TMP/$name/warmup-r$r-c$c.txt"
    fi
    before=$(cpu_ticks "$pid")
    run_wrk "$c" "$DURATION" "$port" "$out"
    rc=$?
    after=$(cpu_ticks "$pid")

    reqs=$(awk '/ requests in / { print $1; exit }' "$out")
    if [[ $METRIC == MiB/s ]]; then
        rps=$(to_mib "$(awk '/^Transfer\/sec:/ { print $2; exit }' "$out")")
    else
        rps=$(awk '/^Requests\/sec:/ { print $2; exit }' "$out")
    fi
    p99=$(awk '$1 == "99%" { print $2; exit }' "$out")
    sock=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10; exit }' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF; exit }' "$out")
    : "${sock:=0}" "${non2xx:=0}"

    if ((rc != 0)) || [[ -z $reqs || -z $rps ]]; then
        R_NOTE[$key]="wrk failed (exit $rc): $(head -n 1 "$out")"
        R_ERR[$key]=$((sock + non2xx + 1))
    else
        R_RPS[$key]=$rps
        R_P99[$key]=$(to_us "${p99:-x}")
        R_ERR[$key]=$((sock + non2xx))
        if ((reqs > 0)); then
            R_CPU[$key]=$(awk -v d=$((after - before)) -v hz="$CLK_TCK" -v n="$reqs" \
                'BEGIN { printf "%.3f\n", d * 1e6 / hz / n }')
        fi
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        R_NOTE[$key]="server died during the run"
        R_ERR[$key]=$((${R_ERR[$key]:-0} + 1))
        note "$name died; logs in $TMP/$name (use --keep to keep them)"
        tail -n 20 "$TMP/$name"/*.log >&2 2>/dev/null
    fi
}

# ---------------------------------------------------------------- output

fmt() { # printf format, value or empty -> formatted or "-"
    if [[ -z $2 || $2 == nan ]]; then printf '%s' -; else
        awk -v f="$1" -v v="$2" 'BEGIN { printf f, v }'
    fi
}
ratio() { # a b -> a/b or empty
    [[ -n $1 && -n $2 && $1 != nan && $2 != nan ]] || return 0
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.4f\n", a / b }'
}
median() { # values... (empty ones ignored) -> median or empty
    printf '%s\n' "$@" | awk '/^[0-9.eE+-]+$/ { v[n++] = $1 + 0 }
        END {
            if (!n) exit
            for (i = 1; i < n; i++) {          # insertion sort: n is tiny
                x = v[i]
                for (j = i - 1; j >= 0 && v[j] > x; j--) v[j + 1] = v[j]
                v[j + 1] = x
            }
            m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
            printf "%.4f\n", m
        }'
}
xr() { # ratio -> "0.93x" or "-"
    if [[ -z $1 ]]; then printf '%s' -; else awk -v v="$1" 'BEGIN { printf "%.2fx", v }'; fi
}

ROW_FMT='%6s  %-12s %11s %9s %10s %7s %10s %10s\n'

print_round() {
    local r=$1 c s key nk
    printf '\nRound %d of %d: %d s runs after %d s warm-up, wrk -t1, %s\n' \
        "$r" "$ROUNDS" "$DURATION" "$WARMUP" "$WRK_MODE"
    # shellcheck disable=SC2059
    printf "$ROW_FMT" conns server "$METRIC" 'p99 ms' 'cpu us/req' errors "$METRIC:ngx" 'cpu:ngx'
    for c in "${CONN_LIST[@]}"; do
        for s in "${SERVER_LIST[@]}"; do
            key="$r,$s,$c" nk="$r,nginx,$c"
            local rr='' cr=''
            if [[ $s != nginx ]] && has nginx; then
                rr=$(ratio "${R_RPS[$key]:-}" "${R_RPS[$nk]:-}")
                cr=$(ratio "${R_CPU[$key]:-}" "${R_CPU[$nk]:-}")
            fi
            # shellcheck disable=SC2059
            printf "$ROW_FMT" "$c" "$s" "$(fmt '%.1f' "${R_RPS[$key]:-}")" \
                "$(fmt '%.3f' "$(awk -v u="${R_P99[$key]:-nan}" 'BEGIN { if (u != "nan") print u / 1000; else print "nan" }')")" \
                "$(fmt '%.2f' "${R_CPU[$key]:-}")" "${R_ERR[$key]:-0}" "$(xr "$rr")" "$(xr "$cr")"
            [[ -n ${R_NOTE[$key]:-} ]] && printf '        ^ %s\n' "${R_NOTE[$key]}"
        done
    done
}

# Medians over rounds, for the summary and the targets.
declare -A M_RPS=() M_P99=() M_CPU=() M_ERR=() M_RATIO=()
summarise() {
    local c s r key base v
    local -a rps p99 cpu rat
    for c in "${CONN_LIST[@]}"; do
        for s in "${SERVER_LIST[@]}"; do
            rps=() p99=() cpu=()
            local errs=0
            for ((r = 1; r <= ROUNDS; r++)); do
                key="$r,$s,$c"
                rps+=("${R_RPS[$key]:-}") p99+=("${R_P99[$key]:-}") cpu+=("${R_CPU[$key]:-}")
                errs=$((errs + ${R_ERR[$key]:-0}))
            done
            M_RPS[$s,$c]=$(median "${rps[@]}")
            M_P99[$s,$c]=$(median "${p99[@]}")
            M_CPU[$s,$c]=$(median "${cpu[@]}")
            M_ERR[$s,$c]=$errs
            # Ratios: medians of the per-round ratios (pairs measured
            # minutes apart at most, so slow drifts cancel out).
            for base in nginx go; do
                if [[ $s == "$base" ]] || ! has "$base"; then continue; fi
                for v in RPS CPU; do
                    rat=()
                    for ((r = 1; r <= ROUNDS; r++)); do
                        if [[ $v == RPS ]]; then
                            rat+=("$(ratio "${R_RPS[$r,$s,$c]:-}" "${R_RPS[$r,$base,$c]:-}")")
                        else
                            rat+=("$(ratio "${R_CPU[$r,$s,$c]:-}" "${R_CPU[$r,$base,$c]:-}")")
                        fi
                    done
                    M_RATIO[$v,$s,$base,$c]=$(median "${rat[@]}")
                done
            done
        done
    done
}

SUM_FMT='%6s  %-12s %11s %9s %10s %7s %10s %10s %10s %10s\n'
print_summary() {
    local c s p99
    printf '\nSummary: medians over %d round(s); ratios are medians of the per-round ratios\n' "$ROUNDS"
    # shellcheck disable=SC2059
    printf "$SUM_FMT" conns server "$METRIC" 'p99 ms' 'cpu us/req' errors \
        "$METRIC:ngx" 'cpu:ngx' "$METRIC:go" 'cpu:go'
    for c in "${CONN_LIST[@]}"; do
        for s in "${SERVER_LIST[@]}"; do
            p99=${M_P99[$s,$c]:-}
            [[ -n $p99 ]] && p99=$(awk -v u="$p99" 'BEGIN { print u / 1000 }')
            local gr='' gc=''
            if [[ $s == weft-* ]]; then
                gr=${M_RATIO[RPS,$s,go,$c]:-} gc=${M_RATIO[CPU,$s,go,$c]:-}
            fi
            # shellcheck disable=SC2059
            printf "$SUM_FMT" "$c" "$s" "$(fmt '%.1f' "${M_RPS[$s,$c]:-}")" \
                "$(fmt '%.3f' "$p99")" "$(fmt '%.2f' "${M_CPU[$s,$c]:-}")" \
                "${M_ERR[$s,$c]:-0}" \
                "$(xr "${M_RATIO[RPS,$s,nginx,$c]:-}")" "$(xr "${M_RATIO[CPU,$s,nginx,$c]:-}")" \
                "$(xr "$gr")" "$(xr "$gc")"
        done
    done
}

# Targets (from the issue): weft-thread and weft-worker at or above 0.7x
# nginx's req/s at 64 connections; weft-thread ahead of Go at 16, 256 and
# 1024 connections. A weft run with any error misses its target.
N_PASS=0 N_FAIL=0 N_SKIP=0
target() { # server base conns min_ratio strict(0: >=, 1: >)
    local s=$1 base=$2 c=$3 min=$4 strict=$5 label verdict r e
    if ((strict)); then label="$s $METRIC > $base at $c conns, no errors"
    else label="$s $METRIC >= ${min}x $base at $c conns, no errors"; fi
    if ! has "$s" || ! has "$base" || [[ " ${CONN_LIST[*]} " != *" $c "* ]]; then
        printf '  SKIP  %-56s (not measured)\n' "$label"
        N_SKIP=$((N_SKIP + 1))
        return
    fi
    r=${M_RATIO[RPS,$s,$base,$c]:-} e=${M_ERR[$s,$c]:-0}
    verdict=FAIL
    if [[ -n $r ]] && ((e == 0)) &&
        awk -v r="$r" -v m="$min" -v s="$strict" 'BEGIN { exit !(s ? r > m : r >= m) }'; then
        verdict=PASS
    fi
    if [[ $verdict == PASS ]]; then N_PASS=$((N_PASS + 1)); else N_FAIL=$((N_FAIL + 1)); fi
    printf '  %s  %-56s %s, %s error(s)\n' "$verdict" "$label" "$(xr "$r")" "$e"
}

# The static scenarios' targets (from the issue): a 4 KiB file at 0.7x
# nginx's req/s at 64 connections; a 100 MiB file at 0.8x its MiB/s.
print_targets() {
    local need='weft-thread, weft-worker, nginx and go at 16 64 256 1024'
    printf '\nTargets (median %s ratio over the rounds; errors summed over the rounds)\n' "$METRIC"
    case $SCENARIO in
    static-4k)
        target weft-thread nginx 64 0.7 0
        target weft-worker nginx 64 0.7 0
        need='weft-thread or weft-worker, and nginx, at 64'
        ;;
    static-100m)
        target weft-thread nginx "${CONN_LIST[0]}" 0.8 0
        target weft-worker nginx "${CONN_LIST[0]}" 0.8 0
        need='weft-thread or weft-worker, and nginx'
        ;;
    tls-*)
        # mod_tls (from the issue): 0.8x nginx at 64 connections, for
        # keep-alive requests/s and for new TLS connections/s alike.
        target weft-thread nginx 64 0.8 0
        target weft-worker nginx 64 0.8 0
        need='weft-thread or weft-worker, and nginx, at 64'
        ;;
    *)
        target weft-thread nginx 64 0.7 0
        target weft-worker nginx 64 0.7 0
        target weft-thread go 16 1 1
        target weft-thread go 256 1 1
        target weft-thread go 1024 1 1
        ;;
    esac
    if ((N_PASS + N_FAIL == 0)); then
        printf 'Result: no target measured (needs %s)\n' "$need"
    elif ((N_FAIL)); then
        printf 'Result: FAIL (%d met, %d missed, %d not measured)\n' "$N_PASS" "$N_FAIL" "$N_SKIP"
    else
        printf 'Result: PASS (%d met, %d not measured)\n' "$N_PASS" "$N_SKIP"
    fi
}

# ---------------------------------------------------------------- main

printf 'weft benchmark, %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
printf 'host: %s, %s CPU(s), kernel %s, ulimit -n %s\n' "$(uname -n)" \
    "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')" "$(uname -r)" "$NOFILE"
read -r load1 _ </proc/loadavg 2>/dev/null || load1='?'
printf 'load average (1 min): %s\n' "$load1"
if awk -v l="$load1" 'BEGIN { exit !(l + 0 > 1.0) }'; then
    note "warning: the machine is busy (load $load1): expect noisy numbers and rounds that disagree"
fi
printf 'wrk:   %s\n' "$("$WRK" -v 2>&1 | head -n 1 | awk '{ print $1, $2 }')"
if need_weft; then
    printf 'weftd: %s (%s)\n' "$WEFTD" "$("$WEFTD" -V 2>&1 | head -n 1)"
    if is_static; then
        probe_access_log
        printf 'mod_static: %s\nmod_log: %s (access log: %s)\n' "$MOD_STATIC" \
            "${MOD_LOG:-none}" "$WEFT_ACCESS_LOG"
    else
        printf 'mod_testapp: %s\n' "$TESTAPP"
    fi
    is_tls && printf 'mod_tls: %s\n' "$MOD_TLS"
fi
printf 'scenario: %s (GET %s, %s)\n' "$SCENARIO" "$BENCH_PATH" "$METRIC"
has nginx && printf 'nginx: %s (%s)\n' "$NGINX" "$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
has go && printf 'go:    %s (%s)\n' "$GO" "$("$GO" version 2>&1)"
printf 'plan: %d round(s) x conns [%s] x servers [%s], %d s + %d s warm-up per run\n' \
    "$ROUNDS" "${CONN_LIST[*]}" "${SERVER_LIST[*]}" "$DURATION" "$WARMUP"

has go && build_go

DESC[weft-thread]='weftd, MPM thread'
DESC[weft-worker]='weftd, MPM worker (default Threads)'
DESC[nginx]='nginx, 1 worker, return 200'
DESC[go]='Go net/http (hello.go)'
if is_static; then
    DESC[weft-thread]+=', mod_static'
    DESC[weft-worker]+=', mod_static'
    [[ $WEFT_ACCESS_LOG == on ]] && DESC[weft-thread]+=' + combined log' &&
        DESC[weft-worker]+=' + combined log'
    DESC[nginx]='nginx, 1 worker, root + sendfile + combined log'
fi
if is_tls; then
    printf 'tls: %s, TLS 1.3 only, %s, ECDSA P-256 certificate (both servers)\n' \
        "$(openssl version)" "$TLS_SUITE"
    DESC[weft-thread]+=', mod_tls'
    DESC[weft-worker]+=', mod_tls'
    DESC[nginx]+=', ssl'
fi

printf '\nServers (all on 127.0.0.1):\n'
for s in "${SERVER_LIST[@]}"; do
    start_server "$s"
    RESP[$s]=$(wc -c <"$TMP/$s/hello.txt")
    extra=''
    [[ $s == nginx ]] && extra=", worker pid(s) $(children "${PID[$s]}" | tr '\n' ' ' | sed 's/ $//')"
    printf '  %-12s port %-5s pid %-7s %s; /hello answer %s bytes%s\n' "$s" "${PORT[$s]}" \
        "${PID[$s]}" "${DESC[$s]}" "${RESP[$s]// /}" "$extra"
done

total_runs=$((ROUNDS * ${#CONN_LIST[@]} * ${#SERVER_LIST[@]}))
eta=$((total_runs * (DURATION + WARMUP + 1)))
note "about $((eta / 60)) min $((eta % 60)) s to go ($total_runs runs)"

run=0
for ((r = 1; r <= ROUNDS; r++)); do
    # Rotate the server order each round so no server always goes first.
    n=${#SERVER_LIST[@]}
    order=()
    for ((i = 0; i < n; i++)); do order+=("${SERVER_LIST[(i + r - 1) % n]}"); done
    for c in "${CONN_LIST[@]}"; do
        for s in "${order[@]}"; do
            run=$((run + 1))
            measure "$r" "$s" "$c"
            key="$r,$s,$c"
            note "  [$run/$total_runs] round $r, $c conns, $s: $(fmt '%.0f' "${R_RPS[$key]:-}") $METRIC${R_NOTE[$key]:+ (${R_NOTE[$key]})}"
        done
    done
    print_round "$r"
done

summarise
print_summary
print_targets

((N_FAIL == 0))
exit_rc=$?
exit "$exit_rc"
