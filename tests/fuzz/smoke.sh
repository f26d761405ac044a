#!/usr/bin/env bash
# Short libFuzzer run of every target, seeded with the test guests' sources
# assembled by testdata/build.sh. Usage: smoke.sh BUILD_DIR SECONDS
set -euo pipefail
build=$1 seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
for wat in "$here"/../../testdata/examples/*.wat "$here"/../../testdata/core/*.wat; do
  [ -f "$wat" ] && wat2wasm --enable-all "$wat" -o "$corpus/$(basename "$wat" .wat).wasm" 2>/dev/null || true
done
# Components: the test components, when jco is there to assemble them.
"$here/../../testdata/build.sh" "$corpus/built" components >/dev/null 2>&1 || true
mkdir -p "$corpus/component"
cp "$corpus"/built/components/*.wasm "$corpus/component/" 2>/dev/null || true
# HTTP requests for the server: a GET, a chunked POST with a trailer, two
# pipelined ones.
mkdir -p "$corpus/http"
printf 'GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n' >"$corpus/http/get"
printf 'POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n' \
  >"$corpus/http/chunked"
printf 'PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET / HTTP/1.0\r\n\r\n' >"$corpus/http/pipelined"
export ASAN_OPTIONS=handle_segv=0:allow_user_segv_handler=1:detect_leaks=0
for target in decode run component http; do
  mkdir -p "$corpus/$target"
  [ "$target" = component ] || [ "$target" = http ] || cp "$corpus"/*.wasm "$corpus/$target/" 2>/dev/null || true
  echo "fuzz-$target: ${seconds}s"
  "$build/tests/fuzz/fuzz-$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -max_len=4096 -print_final_stats=0 "$corpus/$target" 2>&1 | tail -n 3
done
