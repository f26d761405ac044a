#!/bin/sh
# End-to-end test of wasi:sockets 0.3.0 over loopback: builds
# testdata/p3/tcp-echo.wat (`jco parse`) into OUTDIR, runs it as a server
#   weft run -S inherit-network tcp-echo.wasm 0 2*CONNECTIONS+1
# and the load client bench/echo-load against the port it prints, twice:
# CONNECTIONS connections at once, each echoing BYTES pseudo-random bytes
# that the client checks (and one last connection). The server must exit 0 with an empty stderr once
# all are done. Also checks that bad arguments and a denied network end
# the guest with status 1 and its message. Skips (77) without jco.
# Between the rounds the server's open descriptors (/proc) must not grow.
# usage: run-tcp-echo-test.sh WEFT ECHO_LOAD OUTDIR TESTDATA_DIR [CONNECTIONS [BYTES]]
set -u

if [ $# -lt 4 ] || [ $# -gt 6 ]; then
  echo "usage: $0 WEFT ECHO_LOAD OUTDIR TESTDATA_DIR [CONNECTIONS [BYTES]]" >&2
  exit 2
fi
weft=$1
load=$2
out=$3
testdata=$4
connections=${5:-100}
bytes=${6:-65536}
jco=$testdata/../node_modules/.bin/jco
if [ ! -x "$jco" ]; then
  echo "skip: the guest needs jco (npm ci)"
  exit 77
fi
mkdir -p "$out"
wasm=$out/tcp-echo.wasm
source=$testdata/p3/tcp-echo.wat
if [ ! -e "$wasm" ] || [ -n "$(find "$source" -newer "$wasm")" ]; then
  "$jco" parse "$source" -o "$wasm" >/dev/null || { echo "error: jco parse $source failed"; exit 1; }
fi
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

failed=0
# fail PROBLEM: reports a failure with the server's output.
fail() {
  echo "FAIL: $1"
  echo "  stdout:"; sed -n '1,10s/^/    /p' "$tmp/out"
  echo "  stderr:"; sed -n '1,10s/^/    /p' "$tmp/err"
  failed=1
}

# descriptors: the server's open descriptors once their count settled (the
# client has its last byte before the server drops the socket).
descriptors() {
  last=-1
  for _ in $(seq 50); do
    now=$(find "/proc/$server/fd" -mindepth 1 2>/dev/null | wc -l)
    [ "$now" = "$last" ] && break
    last=$now
    sleep 0.1
  done
  echo "$now"
}

# The echo under load: two rounds, after which the server holds as many
# descriptors as after the first (none leak), then one last connection.
"$weft" run -S inherit-network "$wasm" 0 $((2 * connections + 1)) >"$tmp/out" 2>"$tmp/err" &
server=$!
# The server has 60 seconds (the watcher ends with it).
(timeout 60 tail --pid="$server" -f /dev/null || kill "$server") >/dev/null 2>&1 &
port=
for _ in $(seq 100); do
  port=$(sed -n 's/^tcp-echo: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/out")
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  kill "$server" 2>/dev/null && fail "the server printed no port within 10 seconds"
elif ! "$load" -c "$connections" -b "$bytes" -s 1 -t 30 "$port"; then
  kill "$server"
  fail "the load client failed (round 1)"
else
  after_first=$(descriptors)
  if ! "$load" -c "$connections" -b "$bytes" -s 2 -t 30 "$port"; then
    kill "$server"
    fail "the load client failed (round 2)"
  else
    after_second=$(descriptors)
    [ "$after_second" = "$after_first" ] ||
      fail "the server holds $after_second descriptors after round 2, $after_first after round 1"
    "$load" -c 1 -b 1 -t 30 "$port" >/dev/null || { kill "$server"; fail "the last connection failed"; }
  fi
fi
wait "$server"
status=$?
server=
[ "$status" = 0 ] || fail "the server exited with status $status"
[ -s "$tmp/err" ] && fail "the server wrote to stderr"
# The client fails when nothing answers (the server is gone).
if [ -n "$port" ] && "$load" -c 1 -b 1 -t 5 "$port" 2>/dev/null; then
  fail "the load client passed without a server"
fi

# expect_failure PATTERN WEFT_ARGS...: the guest ends with status 1 and a
# stderr line that matches PATTERN (grep -x, basic regex).
expect_failure() {
  pattern=$1
  shift
  timeout 60 "$weft" run "$@" >"$tmp/out" 2>"$tmp/err"
  status=$?
  [ "$status" = 1 ] || fail "'weft run $*' exited with status $status, expected 1"
  grep -qx -- "$pattern" "$tmp/err" || fail "'weft run $*': no stderr line matches '$pattern'"
}
expect_failure 'tcp-echo: arguments failed (code 1)' -S inherit-network "$wasm" 70000
expect_failure 'tcp-echo: arguments failed (code 2)' -S inherit-network "$wasm" 0 x
# Without -S inherit-network: access-denied (0), from create or from bind.
expect_failure 'tcp-echo: \(create\|bind\) failed (code 0)' "$wasm" 0 1

[ "$failed" = 0 ] && echo "tcp-echo: $connections connections x $bytes bytes echoed"
exit "$failed"
