#!/bin/sh
# Builds the test guests from their sources into OUTDIR (never into the
# source tree):
#   core/NAME.wat       -> OUTDIR/core/NAME.wasm   (wabt's wat2wasm, with names)
#   core/NAME.wast      -> OUTDIR/core/NAME.json + NAME.N.wasm  (wabt's wast2json)
#   p2/NAME.c           -> OUTDIR/p2/NAME.wasm     (clang-19 + wasi-libc, then the
#                          preview1 adapter: `jco new --wasi-command`)
#   p2/NAME.wat         -> OUTDIR/p2/NAME.wasm     (component WAT: `jco parse`)
#   p3/NAME.wat         -> OUTDIR/p3/NAME.wasm     (component WAT: `jco parse`)
#   components/NAME.wat -> OUTDIR/components/NAME.wasm  (`jco parse`)
# jco is the pinned one in node_modules (`npm ci` in the project root); without
# it, or without clang-19 and wasi-libc, the guests that need them are skipped
# with a note on stderr and the test runners skip what is missing.
# Component guests already newer than their sources are not built again.
# usage: testdata/build.sh OUTDIR [PART...]   PART: core, p2, p3, components (default: all)
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 OUTDIR [core|p2|p3|components]..." >&2
  exit 2
fi
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
shift
parts=${*:-core p2 p3 components}
jco=$src/../node_modules/.bin/jco

# up_to_date OUT SRC...: OUT exists and no SRC is newer.
up_to_date() {
  target=$1
  shift
  [ -e "$target" ] || return 1
  for dep in "$@"; do
    [ -e "$dep" ] || continue  # an unmatched glob
    [ -z "$(find "$dep" -newer "$target")" ] || return 1
  done
}

build_core() {
  mkdir -p "$out/core"
  for wat in "$src"/core/*.wat; do
    [ -e "$wat" ] || continue
    name=$(basename "$wat" .wat)
    wat2wasm --debug-names "$wat" -o "$out/core/$name.wasm"
  done
  # wast2json records the path it was given as source_filename; run it from
  # the source folder so failures read `NAME.wast:LINE`.
  (
    cd "$src/core"
    for wast in *.wast; do
      [ -e "$wast" ] || continue
      wast2json "$wast" -o "$out/core/${wast%.wast}.json"
    done
  )
}

# build_component_wats DIR: DIR/*.wat -> OUTDIR/DIR/*.wasm
build_component_wats() {
  mkdir -p "$out/$1"
  for wat in "$src/$1"/*.wat; do
    [ -e "$wat" ] || continue
    wasm=$out/$1/$(basename "$wat" .wat).wasm
    up_to_date "$wasm" "$wat" || "$jco" parse "$wat" -o "$wasm" >/dev/null
  done
}

build_p2() {
  build_component_wats p2
  if ! command -v clang-19 >/dev/null || [ ! -e /usr/lib/wasm32-wasi/libc.a ]; then
    echo "note: clang-19 and wasi-libc are missing: p2 C guests not built" >&2
    return
  fi
  for c in "$src"/p2/*.c; do
    [ -e "$c" ] || continue
    name=$(basename "$c" .c)
    # Every guest may include the shared headers.
    up_to_date "$out/p2/$name.wasm" "$c" "$src"/p2/*.h && continue
    clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror "$c" -o "$out/p2/$name.core.wasm"
    "$jco" new "$out/p2/$name.core.wasm" --wasi-command -o "$out/p2/$name.wasm" >/dev/null
    rm "$out/p2/$name.core.wasm"
  done
}

for part in $parts; do
  case $part in
    core) build_core ;;
    p2|p3|components)
      if [ ! -x "$jco" ]; then
        echo "note: $jco is missing (run 'npm ci' in the project root): $part guests not built" >&2
        continue
      fi
      if [ "$part" = p2 ]; then
        build_p2
      else
        build_component_wats "$part"
      fi
      ;;
    *)
      echo "$0: unknown part '$part'" >&2
      exit 2
      ;;
  esac
done
