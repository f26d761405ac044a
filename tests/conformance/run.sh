#!/usr/bin/env bash
# Runs the conformance suites from ../shared (when present) against a built
# weft, each with the project's known-failures list beside this script. Fails
# only on a regression: a failure that is not on the list.
# Usage: tests/conformance/run.sh [WEFT] [SHARED]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
weft=${1:-$here/../../build/cli/weft}
shared=${2:-$here/../../../shared}
status=0

# Each core folder was generated for wasm 2.0 plus (for a proposal folder)
# that proposal, and some of its tests only hold for exactly that set
# (core-testsuite/README.md, "FLAGS per folder").
post_2_0="multi-memory memory64 threads exceptions tail-call extended-const relaxed-simd"

# -W flags that turn off every post-2.0 proposal except the given ones.
feature_flags() {
  local off="" f
  for f in $post_2_0; do
    case " $* " in *" $f "*) ;; *) off+="${off:+,}$f=n" ;; esac
  done
  echo "-W $off"
}

run_wast() {  # label, expect-file, -W flags, json files...
  local label=$1 expect=$2 flags=$3; shift 3
  echo "== $label"
  # shellcheck disable=SC2086  # the flags are two words
  "$weft" wast -q --expect "$here/$expect" $flags "$@" || status=1
}

core=$shared/core-testsuite
if [ -d "$core" ]; then
  run_wast "core wasm-2.0" core-wasm-2.0.expect "$(feature_flags)" "$core"/wasm-2.0/*.json
  for p in tail-call extended-const multi-memory memory64 exception-handling threads relaxed-simd; do
    case $p in
      exception-handling) features="exceptions tail-call" ;;  # legacy try tests use return_call
      *) features=$p ;;
    esac
    run_wast "core proposal $p" "core-$p.expect" "$(feature_flags $features)" \
      $(find "$core/proposals/$p" -name '*.json' | sort)
  done
else
  echo "conformance: $core not found, skipped"
fi

# Component Model reference tests (binary form; text forms are skipped).
cm=$shared/cm-testsuite
if [ -d "$cm" ]; then
  for d in values resources linking binary validation async; do
    run_wast "cm-testsuite $d" "cm-$d.expect" "" "$cm/$d"/*.json
  done
else
  echo "conformance: $cm not found, skipped"
fi

# The official WASI test suite, preview1 (rust, c, assemblyscript).
wasi=$shared/wasi-testsuite
if [ -d "$wasi" ]; then
  echo "== wasi-testsuite wasm32-wasip1"
  "$shared/tools/wasi-testsuite-run" --runner "$weft" -j 2 --expect "$here/wasi-p1.expect" \
    "$wasi"/tests/*/testsuite/wasm32-wasip1 | tail -n 1
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
else
  echo "conformance: $wasi not found, skipped"
fi

# The WASI 0.3 tests (Rust components importing 0.2 and 0.3 side by side),
# wasi:http ones included (services run under `weft serve`). The runner
# holds back http-client-send-errors as a test that resolves names; its
# only non-loopback name is a 64-byte label, which the resolver refuses
# without asking any DNS server, so it runs here too.
wasi_p3=$wasi/tests/rust/testsuite/wasm32-wasip3
if [ -d "$wasi_p3" ]; then
  echo "== wasi-testsuite wasm32-wasip3"
  "$shared/tools/wasi-testsuite-run" --runner "$weft" -j 2 --allow-external-dns "$wasi_p3" | tail -n 1
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi

# The same tests as WASI 0.2 command components (the preview1 adapter).
wasi_p2=$shared/wasi-testsuite-p2
if [ -d "$wasi_p2" ]; then
  echo "== wasi-testsuite-p2 (0.2 components)"
  "$shared/tools/wasi-testsuite-run" --runner "$weft" -j 2 --expect "$here/wasi-p2.expect" "$wasi_p2" | tail -n 1
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
else
  echo "conformance: $wasi_p2 not found, skipped"
fi
exit $status
