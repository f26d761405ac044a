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

run_wast() {  # label, expect-file, json files...
  local label=$1 expect=$2; shift 2
  echo "== $label"
  "$weft" wast -q --expect "$here/$expect" "$@" || status=1
}

core=$shared/core-testsuite
if [ -d "$core" ]; then
  run_wast "core wasm-2.0" core-wasm-2.0.expect "$core"/wasm-2.0/*.json
  for p in tail-call extended-const multi-memory memory64 exception-handling threads; do
    run_wast "core proposal $p" "core-$p.expect" $(find "$core/proposals/$p" -name '*.json' | sort)
  done
else
  echo "conformance: $core not found, skipped"
fi
exit $status
