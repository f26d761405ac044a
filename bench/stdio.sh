#!/usr/bin/env bash
# Stream throughput through a WASI host: `cat FILE | weft run copy.wasm > OUT`
# with bench/guests/copy.c as a preview1 module and as a WASI 0.2 component
# (jco's preview1 adapter), and with testdata/p3/copy.wat (a WASI 0.3
# component: stream<u8> from stdin to stdout through a 64 KiB buffer),
# beside `cat FILE | cat > OUT` in the same run. Every output is compared
# with the input byte for byte.
# Usage: bench/stdio.sh [WEFT] [MIB]   (default build/cli/weft, 256 MiB)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
weft=${1:-$root/build/cli/weft}
mib=${2:-256}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

clang-19 --target=wasm32-wasi --sysroot=/usr -O2 "$root/bench/guests/copy.c" -o "$tmp/copy-p1.wasm"
"$root/node_modules/.bin/jco" new "$tmp/copy-p1.wasm" --wasi-command -o "$tmp/copy-p2.wasm" >/dev/null
"$root/node_modules/.bin/jco" parse "$root/testdata/p3/copy.wat" -o "$tmp/copy-p3.wasm" >/dev/null
head -c "$((mib * 1048576))" /dev/urandom >"$tmp/in"

# Best of three wall-clock times, in seconds.
best() {
  local t best=""
  for _ in 1 2 3; do
    t=$( { /usr/bin/time -f %e bash -c "$1" >/dev/null; } 2>&1 | tail -n 1)
    cmp -s "$tmp/in" "$tmp/out" || { echo "output differs: $1" >&2; exit 1; }
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
  done
  echo "$best"
}

printf '| pipeline (%d MiB) | seconds | MB/s |\n|---|---|---|\n' "$mib"
for row in "cat|cat" "weft, preview1 module|$weft run $tmp/copy-p1.wasm" \
           "weft, 0.2 component|$weft run $tmp/copy-p2.wasm" \
           "weft, 0.3 component|$weft run $tmp/copy-p3.wasm"; do
  label=${row%%|*} cmd=${row#*|}
  s=$(best "cat $tmp/in | $cmd > $tmp/out")
  awk -v l="$label" -v s="$s" -v m="$mib" 'BEGIN{printf "| %s | %.2f | %.0f |\n", l, s, (s > 0 ? m * 1.048576 / s : 0)}'
done
