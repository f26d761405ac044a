#!/bin/sh
# Integration tests of the weft command line: build the guests in testdata/
# into a temporary folder, run the built binary on them and check the exit
# status, stdout and stderr of each run.
# usage: run-cli-tests.sh WEFT TESTDATA_DIR
set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 WEFT TESTDATA_DIR" >&2
  exit 2
fi
weft=$1
testdata=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$testdata/build.sh" "$tmp/build" >"$tmp/build.log" 2>&1; then
  cat "$tmp/build.log"
  echo "error: building testdata failed"
  exit 1
fi
core=$tmp/build/core

passed=0
failed=0

# check NAME STATUS STDOUT STDERR COMMAND...
# The run must exit with STATUS and print exactly STDOUT; its stderr must
# contain every line of STDERR (empty: stderr must be empty). STDOUT or
# STDERR `*` leaves that stream to the caller, in $tmp/out or $tmp/err.
check() {
  name=$1 want_status=$2 want_out=$3 want_err=$4
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  status=$?
  problem=
  if [ "$status" != "$want_status" ]; then
    problem="exit status $status, expected $want_status"
  elif [ "$want_out" != "*" ] && [ "$(cat "$tmp/out")" != "$want_out" ]; then
    problem="unexpected stdout"
  elif [ "$want_err" = "*" ]; then
    :
  elif [ -z "$want_err" ] && [ -s "$tmp/err" ]; then
    problem="unexpected stderr"
  elif [ -n "$want_err" ]; then
    printf '%s\n' "$want_err" >"$tmp/want_err"
    while IFS= read -r line; do
      grep -qxF -- "$line" "$tmp/err" || problem="stderr lacks '$line'"
    done <"$tmp/want_err"
  fi
  if [ -z "$problem" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name: $problem"
    echo "  command: $*"
    echo "  stdout:"; sed -n '1,20s/^/    /p' "$tmp/out"
    echo "  stderr:"; sed -n '1,20s/^/    /p' "$tmp/err"
  fi
}

nl='
'

# --- weft itself
check "version" 0 "weft 0.1.0" "" "$weft" --version
check "run without a file" 1 "" "error: file is required" "$weft" run

# --- weft run --invoke on core modules
arith=$core/arith.wasm
check "add" 0 "5" "" "$weft" run --invoke 'add(2, 3)' "$arith"
check "negative and hex literals" 0 "15" "" "$weft" run --invoke 'add(-1,0x10)' "$arith"
check "i32 wraps, printed signed" 0 "-2" "" "$weft" run --invoke 'add(0xffffffff, 4294967295)' "$arith"
check "i64 overflow" 0 "-9223372036854775808" "" \
  "$weft" run --invoke 'add64(9223372036854775807, 1)' "$arith"
check "fib" 0 "6765" "" "$weft" run --invoke 'fib(20)' "$arith"
check "invokes run in order" 0 "3${nl}55${nl}0.5" "" \
  "$weft" run --invoke 'add(1, 2)' --invoke 'fib(10)' --invoke 'fdiv(1, 2)' "$arith"
check "float formatting" 0 \
  "0.5${nl}0.3333333333333333${nl}0.33333334${nl}inf${nl}-inf${nl}nan${nl}-0${nl}1e+300${nl}5e-324" "" \
  "$weft" run --invoke 'fdiv(1, 2)' --invoke 'fdiv(1, 3)' --invoke 'fdiv32(1, 3)' --invoke 'fdiv(1, 0)' \
  --invoke 'fdiv(-inf, 2)' --invoke 'fdiv(nan, 1)' --invoke 'neg(0)' --invoke 'fdiv(1e300, 1)' \
  --invoke 'fdiv(0x1p-1074, 1)' "$arith"
check "multiple results" 0 "-7${nl}-7" "" "$weft" run --invoke 'pair(-7)' "$arith"
check "no results" 0 "" "" "$weft" run --invoke 'nothing()' "$arith"
check "bare name" 0 "" "" "$weft" run --invoke nothing "$arith"

# --- traps: exit 134, the trap and a backtrace with name-section names
check "trap backtrace" 134 "" "error: wasm trap: unreachable${nl}  0: inner${nl}  1: middle" \
  "$weft" run --invoke 'crash()' "$arith"
check "integer divide by zero" 134 "" "error: wasm trap: integer divide by zero" \
  "$weft" run --invoke 'div(1, 0)' "$arith"
check "stack exhaustion, folded backtrace" 134 "" "error: wasm trap: call stack exhausted${nl}  0: fib" \
  "$weft" run --invoke 'fib(100000000)' "$arith"
check "results before a trap are printed" 134 "3" "error: wasm trap: unreachable" \
  "$weft" run --invoke 'add(1, 2)' --invoke 'crash()' "$arith"

# --- bad invocations: one-line error, exit 1, nothing runs
check "unknown export" 1 "" "error: unknown export 'nope'" "$weft" run --invoke 'nope()' "$arith"
check "not a function" 1 "" "error: export 'answer' is a global, not a function" \
  "$weft" run --invoke 'answer()' "$arith"
check "wrong arity" 1 "" "error: 'add' takes 2 arguments, got 1" "$weft" run --invoke 'add(1)' "$arith"
check "bad literal" 1 "" "error: 'add' argument 2: invalid i32 literal 'x'" \
  "$weft" run --invoke 'add(1, x)' "$arith"
check "literal out of range" 1 "" "error: 'add' argument 1: i32 literal '4294967296' out of range" \
  "$weft" run --invoke 'add(4294967296, 1)' "$arith"
check "float literal for an integer" 1 "" "error: 'add' argument 1: invalid i32 literal '1.5'" \
  "$weft" run --invoke 'add(1.5, 1)' "$arith"
check "unbalanced parenthesis" 1 "" "error: invalid --invoke 'add(1, 2': expected 'name(arg, ...)'" \
  "$weft" run --invoke 'add(1, 2' "$arith"
check "all calls checked before any runs" 1 "" "error: 'add' takes 2 arguments, got 3" \
  "$weft" run --invoke 'add(1, 2)' --invoke 'add(1, 2, 3)' "$arith"

# --- -W: the wasm feature set
check "-W with features on" 0 "5" "" "$weft" run -W multi-value=y,simd --invoke 'add(2, 3)' "$arith"
check "-W turns a feature off" 1 "" "error: $arith: invalid result arity (at byte 0x2d)" \
  "$weft" run -W threads=n -W multi-value=n --invoke 'add(2, 3)' "$arith"
check "-W unknown feature" 1 "" "error: -W: unknown wasm feature 'gc2'" \
  "$weft" run -W gc2 --invoke 'add(2, 3)' "$arith"
check "-W bad value" 1 "" "error: -W: expected simd=y or simd=n, got 'simd=2'" \
  "$weft" wast -W simd=2 x.json

# --- files that are not runnable modules
check "missing file" 1 "" "error: cannot read '$tmp/missing.wasm': No such file or directory" \
  "$weft" run "$tmp/missing.wasm"
printf 'hello, world\n' >"$tmp/text.wasm"
check "not wasm" 1 "" "error: $tmp/text.wasm: magic header not detected (at byte 0x0)" \
  "$weft" run "$tmp/text.wasm"
head -c 40 "$arith" >"$tmp/truncated.wasm"
check "truncated wasm" 1 "" "*" "$weft" run --invoke 'add(1, 2)' "$tmp/truncated.wasm"
# A truncated module's error is the decoder's; only its shape is fixed.
if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^error: $tmp/truncated.wasm: .* (at byte 0x[0-9a-f]*)$" "$tmp/err"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "FAIL: truncated wasm: expected one 'error: FILE: ... (at byte 0x..)' line, got:"
  cat "$tmp/err"
fi
check "unmet imports, all named" 1 "" "error: unknown import: env::log, env::memory" \
  "$weft" run "$core/imports.wasm"

# --- no --invoke: _start, and the guest's arguments after FILE
check "_start" 0 "" "" "$weft" run "$core/start.wasm"
check "arguments after FILE belong to the guest" 0 "" "" \
  "$weft" run "$core/start.wasm" a --invoke 'nope()' --validate-all
check "no _start" 1 "" "error: no --invoke given and the module exports no _start" \
  "$weft" run "$core/no-start.wasm"
check "--validate-all" 0 "5" "" "$weft" run --validate-all --invoke 'add(2, 3)' "$arith"

# --- weft wast: script.wast fails on lines 23 and 25 on purpose
script=$core/script.json
fail23='script.wast:23: assert_return: got [i32:2], expected [i32:3]'
fail25='script.wast:25: assert_trap: returned [i32:2], expected trap "integer divide by zero"'
check "wast" 1 "${fail23}${nl}${fail25}${nl}26 passed, 2 failed, 1 skipped" "" "$weft" wast "$script"
check "wast, two files" 1 \
  "${fail23}${nl}${fail25}${nl}$script: 26 passed, 2 failed, 1 skipped${nl}${fail23}${nl}${fail25}${nl}$script: 26 passed, 2 failed, 1 skipped${nl}52 passed, 4 failed, 2 skipped" "" \
  "$weft" wast "$script" "$script"
check "wast -q" 1 "${fail23}${nl}${fail25}${nl}${fail23}${nl}${fail25}${nl}52 passed, 4 failed, 2 skipped" "" \
  "$weft" wast -q "$script" "$script"
printf '# known failures\nscript.wast:23\n\ncore/script.wast:25  # by path suffix\n' >"$tmp/expect"
check "wast --expect" 0 \
  "script.wast:23: assert_return: known failure: got [i32:2], expected [i32:3]${nl}script.wast:25: assert_trap: known failure: returned [i32:2], expected trap \"integer divide by zero\"${nl}26 passed, 0 failed, 1 skipped (2 known failures)" "" \
  "$weft" wast --expect "$tmp/expect" "$script"
printf 'script.wast:22\nscript.wast:23\nscript.wast:25\n' >"$tmp/expect"
check "wast --expect, listed test passes" 0 \
  "script.wast:22: assert_return: passes, but is listed as a known failure${nl}26 passed, 0 failed, 1 skipped (2 known failures)" "" \
  "$weft" wast -q --expect "$tmp/expect" "$script"
printf 'script.wast:23\n' >"$tmp/expect"
check "wast --expect, unlisted failure" 1 "${fail25}${nl}26 passed, 1 failed, 1 skipped (1 known failure)" "" \
  "$weft" wast -q --expect "$tmp/expect" "$script"
check "wast --match-traps" 1 \
  "${fail23}${nl}${fail25}${nl}script.wast:60: assert_trap: trapped with \"integer divide by zero\", expected \"integer overflow\"${nl}25 passed, 3 failed, 1 skipped" "" \
  "$weft" wast --match-traps "$script"
check "wast, missing script" 1 \
  "error: cannot read '$tmp/missing.json': No such file or directory${nl}0 passed, 1 failed, 0 skipped" "" \
  "$weft" wast "$tmp/missing.json"
printf '{"source_filename": "x.wast", "commands": [' >"$tmp/broken.json"
check "wast, broken JSON" 1 "*" "" "$weft" wast -q "$tmp/broken.json"
grep -q "^error: $tmp/broken.json: .*parse error" "$tmp/out" && passed=$((passed + 1)) || {
  failed=$((failed + 1))
  echo "FAIL: wast, broken JSON: no parse error reported"
}

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
