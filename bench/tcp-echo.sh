#!/usr/bin/env bash
# TCP echo throughput through weft's wasi:sockets 0.3.0 host, beside a
# native libuv echo server in the same run, and a leak check.
# Each server (`weft run -S inherit-network tcp-echo.wasm 0 2C+1`, then
# `echo-load --serve 2C+1`) serves two rounds of bench/echo-load: C
# connections at once, B bytes each, every byte checked. Per round the
# report gives the client's wall time and MB/s and the server's CPU time
# (user + system; on a shared machine the steadier number). After each
# round the server's open descriptors (/proc/PID/fd) and RSS are taken: for
# weft the second round must leave them where the first did (descriptors
# exactly, RSS within 10% + 4 MiB). A last connection then ends the server,
# which must exit 0.
# Usage: bench/tcp-echo.sh [WEFT [CONNECTIONS [BYTES]]]
#   (default build/cli/weft, 1000, 1000000; ECHO_LOAD=path overrides the
#   client, default bench/echo-load of WEFT's build folder)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
weft=${1:-$root/build/cli/weft}
connections=${2:-1000}
bytes=${3:-1000000}
load=${ECHO_LOAD:-$(dirname "$weft")/../bench/echo-load}
tick=$(getconf CLK_TCK)
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

fds() { find "/proc/$server/fd" -mindepth 1 | wc -l; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server/status"; }
# The server's user + system time so far, in clock ticks (the fields after
# the parenthesized command name, which has no spaces here).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
# settled: waits until the server's descriptor count stops changing (the
# client sees its last byte before the server drops the socket).
settled() {
  local last=-1 now
  for _ in $(seq 50); do
    now=$(fds)
    [ "$now" = "$last" ] && return
    last=$now
    sleep 0.1
  done
}

# rounds LABEL COMMAND...: starts the server COMMAND (which prints
# "...listening on 127.0.0.1:PORT"), runs the rounds and the last
# connection; leaves the descriptors and RSS after each round in
# fd_after and rss_after.
rounds() {
  local label=$1 port='' round result before status=0
  shift
  "$@" >"$tmp/out" 2>"$tmp/err" &
  server=$!
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/out")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "$label printed no port:" >&2; cat "$tmp/err" >&2; exit 1; }
  echo "$label listening: $(fds) descriptors, RSS $(rss_kib) KiB" >&2
  for round in 1 2; do
    before=$(cpu_ticks)
    if ! result=$("$load" -c "$connections" -b "$bytes" -s "$round" -t 300 "$port"); then
      echo "$label: round $round failed; the server's stderr:" >&2
      cat "$tmp/err" >&2
      exit 1
    fi
    settled
    fd_after[round]=$(fds)
    rss_after[round]=$(rss_kib)
    # "echo-load: C connections x B bytes in S s: M MB/s echoed, N connections/s"
    read -r seconds rate per_second < <(echo "$result" | awk '{print $8, $10, $13}')
    printf '| %s | %d | %s | %s | %s | %.2f | %d | %d |\n' "$label" "$round" "$seconds" "$rate" "$per_second" \
      "$(echo "$(cpu_ticks) $before $tick" | awk '{print ($1 - $2) / $3}')" "${fd_after[round]}" "${rss_after[round]}"
  done
  "$load" -c 1 -b 1 -t 60 "$port" >/dev/null
  wait "$server" || status=$?
  server=
  [ "$status" = 0 ] || { echo "$label exited with status $status:" >&2; cat "$tmp/err" >&2; exit 1; }
}

"$root/node_modules/.bin/jco" parse "$root/testdata/p3/tcp-echo.wat" -o "$tmp/tcp-echo.wasm" >/dev/null
limit=$((2 * connections + 1))
declare -a fd_after rss_after
echo "$connections connections at once x $bytes bytes, two rounds per server:"
echo
echo '| server | round | seconds | MB/s | connections/s | server CPU s | descriptors after | RSS after (KiB) |'
echo '|---|---|---|---|---|---|---|---|'
rounds "native (libuv)" "$load" --serve "$limit"
rounds "weft, tcp-echo.wasm" "$weft" run -S inherit-network "$tmp/tcp-echo.wasm" 0 "$limit"

if [ "${fd_after[2]}" != "${fd_after[1]}" ]; then
  echo "weft: descriptor leak: ${fd_after[1]} after round 1, ${fd_after[2]} after round 2" >&2
  exit 1
fi
if [ "${rss_after[2]}" -gt $((rss_after[1] + rss_after[1] / 10 + 4096)) ]; then
  echo "weft: RSS grew: ${rss_after[1]} KiB after round 1, ${rss_after[2]} KiB after round 2" >&2
  exit 1
fi
echo
echo "weft: no leak: descriptors ${fd_after[1]} -> ${fd_after[2]}, RSS ${rss_after[1]} -> ${rss_after[2]} KiB"
