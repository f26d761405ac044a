#!/usr/bin/env bash
# HTTP load on `weft serve` with wrk, beside a native reference server in
# the same run:
#   wrk -t2 -c256 -dSECONDSs --latency http://127.0.0.1:PORT/
# against, in turn,
#   native (libuv + http_parser)  bench/http-hello: no guest, the same
#                                 "hello, world\n" answer; the ceiling
#   weft serve hello-p3.wasm      wasi:http@0.3.0 handler, one instance,
#                                 a task per request
#   weft serve hello-p2.wasm      wasi:http@0.2 incoming-handler, a fresh
#                                 instance per request
# (testdata/http; there is no other wasi:http runtime on this machine to
# compare with). Per server: requests, req/s, p99 latency, socket errors
# and non-2xx answers (any makes the script fail), the server's CPU time
# (user + system) and its RSS before and after the load. weft must then
# exit 0 on SIGINT.
# Usage: bench/http-load.sh [WEFT [SECONDS]]
#   (default build/cli/weft, 10; HELLO_P3=, HELLO_P2= take built guests,
#   HTTP_HELLO= the reference server, default bench/http-hello of WEFT's
#   build folder)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
weft=${1:-$root/build/cli/weft}
seconds=${2:-10}
reference=${HTTP_HELLO:-$(dirname "$weft")/../bench/http-hello}
tick=$(getconf CLK_TCK)
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

command -v wrk >/dev/null || { echo "http-load: wrk is not installed" >&2; exit 1; }
for name in hello-p3 hello-p2; do
  var=HELLO_${name#hello-}
  var=${var^^}
  if [ -n "${!var:-}" ]; then
    cp "${!var}" "$tmp/$name.wasm"
  else
    "$root/node_modules/.bin/jco" parse "$root/testdata/http/$name.wat" -o "$tmp/$name.wasm" >/dev/null
  fi
done

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server/status"; }
# The server's user + system time so far, in clock ticks (the fields after
# the parenthesized command name, which has no spaces here).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }

# load LABEL COMMAND...: starts the server COMMAND (it prints a line with
# 127.0.0.1:PORT on stdout or stderr), runs wrk against it, prints the
# table row and stops the server with SIGINT (it must exit 0).
load() {
  local label=$1 port='' before rss_before status=0
  shift
  # Emptied here, not only by the job's redirections: the loop below must
  # not read the previous server's port. A background job of a script
  # ignores SIGINT unless told otherwise.
  : >"$tmp/out"
  : >"$tmp/err"
  env --default-signal=INT "$@" >"$tmp/out" 2>"$tmp/err" &
  server=$!
  for _ in $(seq 100); do
    port=$(sed -n 's|.*127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$tmp/out" "$tmp/err" | head -n 1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "$label printed no port:" >&2; cat "$tmp/err" >&2; exit 1; }
  rss_before=$(rss_kib)
  before=$(cpu_ticks)
  wrk -t2 -c256 -d"${seconds}s" --latency "http://127.0.0.1:$port/" >"$tmp/wrk"
  local cpu rss_after requests rate p99 socket_errors non_2xx
  cpu=$(echo "$(cpu_ticks) $before $tick" | awk '{printf "%.2f", ($1 - $2) / $3}')
  rss_after=$(rss_kib)
  requests=$(awk '/requests in/ {print $1}' "$tmp/wrk")
  rate=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk")
  p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk")
  # wrk prints these two lines only when there were any.
  socket_errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$tmp/wrk")
  non_2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$tmp/wrk")
  # A server that died under the load is a zombie without an RSS.
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$requests" "$rate" "$p99" \
    "${socket_errors:-0}" "${non_2xx:-0}" "$cpu" "$rss_before" "${rss_after:-(died)}"
  local when="under the load"
  if [ -n "$rss_after" ]; then
    when="after SIGINT"
    kill -INT "$server"
  fi
  wait "$server" || status=$?
  server=
  if [ "$status" != 0 ]; then
    echo "$label exited with status $status $when:" >&2
    tail -n 5 "$tmp/err" >&2
    exit 1
  fi
  if [ "${socket_errors:-0}" != 0 ] || [ "${non_2xx:-0}" != 0 ] || [ -z "$requests" ]; then
    echo "$label: failed requests; wrk said:" >&2
    cat "$tmp/wrk" >&2
    exit 1
  fi
}

printf 'wrk -t2 -c256 -d%ss --latency, GET / -> 200 "hello, world\\n"; load average %s:\n' \
  "$seconds" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo '| server | requests | req/s | p99 latency | socket errors | non-2xx | server CPU s | RSS before (KiB) | RSS after (KiB) |'
echo '|---|---|---|---|---|---|---|---|---|'
load "native (libuv + http_parser, no guest)" "$reference" 0
load "weft serve, hello-p3.wasm (wasi:http 0.3)" "$weft" serve --addr 127.0.0.1:0 "$tmp/hello-p3.wasm"
load "weft serve, hello-p2.wasm (wasi:http 0.2)" "$weft" serve --addr 127.0.0.1:0 "$tmp/hello-p2.wasm"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
