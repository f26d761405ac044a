#!/bin/sh
# Builds the test guests from their sources into OUTDIR (never into the
# source tree):
#   core/NAME.wat   -> OUTDIR/core/NAME.wasm   (wabt's wat2wasm, with names)
#   core/NAME.wast  -> OUTDIR/core/NAME.json + NAME.N.wasm  (wabt's wast2json)
# usage: testdata/build.sh OUTDIR
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1/core"
out=$(cd "$1" && pwd)

for wat in "$src"/core/*.wat; do
  [ -e "$wat" ] || continue
  name=$(basename "$wat" .wat)
  wat2wasm --debug-names "$wat" -o "$out/core/$name.wasm"
done

# wast2json records the path it was given as source_filename; run it from the
# source folder so failures read `NAME.wast:LINE`.
cd "$src/core"
for wast in *.wast; do
  [ -e "$wast" ] || continue
  wast2json "$wast" -o "$out/core/${wast%.wast}.json"
done
