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

if ! "$testdata/build.sh" "$tmp/build" core components >"$tmp/build.log" 2>&1; then
  cat "$tmp/build.log"
  echo "error: building testdata failed"
  exit 1
fi
core=$tmp/build/core
components=$tmp/build/components

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

# --- components (testdata/components, built with jco: skipped without it)
if [ -e "$components/values.wasm" ]; then
  values=$components/values.wasm
  named=weft:values/named
  # echo_value NAME WANT CALL: `weft run --invoke CALL values.wasm` prints WANT.
  echo_value() {
    check "component --invoke $1" 0 "$2" "" "$weft" run --invoke "$3" "$values"
  }
  echo_value "bool" "true" 'echo-bool(true)'
  echo_value "s8" "-128" 'echo-s8(-128)'
  echo_value "u8" "255" 'echo-u8(255)'
  echo_value "s16" "-32768" 'echo-s16(-32768)'
  echo_value "u16" "65535" 'echo-u16(65535)'
  echo_value "s32" "-2147483648" 'echo-s32(-2147483648)'
  echo_value "u32" "4294967295" 'echo-u32(4294967295)'
  echo_value "s64" "-9223372036854775808" 'echo-s64(-9223372036854775808)'
  echo_value "u64" "18446744073709551615" 'echo-u64(18446744073709551615)'
  echo_value "f32" "340282350000000000000000000000000000000" 'echo-f32(3.4028235e38)'
  echo_value "f32 rounds" "0.1" 'echo-f32(0.1)'
  echo_value "f64" "0.0000001" 'echo-f64(1e-7)'
  echo_value "char" "'😀'" "echo-char('😀')"
  echo_value "char escaped" "'\\''" "echo-char('\\'')"
  echo_value "string" '"héllo, \"quoted\"\\\t\u{7f}"' 'echo-string("héllo, \"quoted\"\\\t\u{7f}")'
  echo_value "empty string" '""' 'echo-string("")'
  echo_value "list" "[1, 2, 3]" 'echo-list([1, 2, 3])'
  echo_value "empty list" "[]" 'echo-list([])'
  echo_value "list of strings" '["a", "", "bc"]' 'echo-strings(["a", "", "bc"])'
  echo_value "tuple" '(7, "x")' 'echo-tuple((7, "x"))'
  echo_value "option" "some(3)" 'echo-option(some(3))'
  echo_value "option none" "none" 'echo-option(none)'
  echo_value "option<u64>" "some(18446744073709551615)" 'echo-option-u64(some(18446744073709551615))'
  echo_value "result ok" 'ok("y")' 'echo-result(ok("y"))'
  echo_value "result err" "err(4)" 'echo-result(err(4))'
  echo_value "two parameters, tuple result" "(2, 1)" 'swap(1, 2)'
  echo_value "record" '{a: 1, b: "x"}' "$named#echo-record({a: 1, b: \"x\"})"
  echo_value "variant" "rect((2, 3))" "$named#echo-variant(rect((2, 3)))"
  echo_value "variant f32 payload" "circle(1.5)" "$named#echo-variant(circle(1.5))"
  echo_value "variant without payload" "empty" "$named#echo-variant(empty)"
  echo_value "enum" "green" "$named#echo-enum(green)"
  echo_value "flags" "{read, exec}" "$named#echo-flags({exec, read})"
  echo_value "no flags" "{}" "$named#echo-flags({})"
  check "component --invoke, in order" 0 "true${nl}false${nl}(2, 1)" "" \
    "$weft" run --invoke 'echo-bool(true)' --invoke 'echo-bool(false)' --invoke 'swap(1, 2)' "$values"
  # 80 KB through the guest's realloc (its memory grows) and back.
  list="[$(seq -s ', ' 0 19999)]"
  check "component --invoke, a list larger than a page" 0 "$list" "" \
    "$weft" run --invoke "echo-list($list)" "$values"
  # Handles number the resources weft was given (from 1), not their reps.
  check "component resource constructor and method" 0 "#own(1)${nl}#own(2)${nl}9${nl}7" "" \
    "$weft" run --invoke 'weft:values/counter#[constructor]counter(7)' \
    --invoke 'weft:values/counter#[constructor]counter(9)' \
    --invoke 'weft:values/counter#[method]counter.get(#borrow(2))' \
    --invoke 'weft:values/counter#[method]counter.get(#borrow(1))' "$values"
  check "component resource handle never given out" 1 "" "error: no such resource: #borrow(7)" \
    "$weft" run --invoke 'weft:values/counter#[method]counter.get(#borrow(7))' "$values"

  check "component --invoke, value out of range" 1 "" "error: integer 256 out of range for u8 at column 9" \
    "$weft" run --invoke 'echo-u8(256)' "$values"
  check "component --invoke, wrong type" 1 "" 'error: expected string at column 13, found "5"' \
    "$weft" run --invoke 'echo-string(5)' "$values"
  check "component --invoke, unknown export" 1 "" "error: unknown export 'echo-nope'" \
    "$weft" run --invoke 'echo-nope()' "$values"
  check "component --invoke, all calls checked before any runs" 1 "" \
    "error: too many arguments: echo-u8 takes 1 at column 12" \
    "$weft" run --invoke 'echo-u8(1)' --invoke 'echo-u8(1, 2)' "$values"
  check "component without wasi:cli/run" 1 "" \
    "error: no --invoke given and the component exports no wasi:cli/run (0.2.x or 0.3.x)" "$weft" run "$values"

  # Traps in a component: exit 134, the trap and the backtrace.
  check "component trap in --invoke" 134 "" "error: wasm trap: unreachable" \
    "$weft" run --invoke 'fail()' "$values"
  check "component trap in wasi:cli/run" 134 "" "error: wasm trap: unreachable${nl}  0: inner${nl}  1: middle" \
    "$weft" run "$components/trap.wasm"

  # Error contexts: made from a guest's message, read back, dropped, and
  # passed from one component's table to another's.
  check "component error-context round trip" 0 '"disk on fire"' "" \
    "$weft" run --invoke 'describe()' "$components/error-context.wasm"
  check "component error-context from a nested component" 0 '"from inside"' "" \
    "$weft" run --invoke 'relay()' "$components/error-context.wasm"
  check "component error-context used after drop" 134 "" "error: wasm trap: component model: unknown handle index 1" \
    "$weft" run --invoke 'use-after-drop()' "$components/error-context.wasm"

  # Every import weft cannot serve, in one line; nothing runs.
  check "component with unmet imports" 1 "" \
    "error: $components/missing-imports.wasm: unmet imports: weft:missing/thing@1.0.0, wasi:cli/environment@0.2.0#get-nothing" \
    "$weft" run "$components/missing-imports.wasm"
  # one_error_line NAME REGEX: the last run's stderr is one line matching REGEX.
  one_error_line() {
    if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "$2" "$tmp/err"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAIL: $1: expected one line matching '$2', got:"
      cat "$tmp/err"
    fi
  }
  one_error_line "component with unmet imports, one line" "^error: .*: unmet imports: "
  # A truncated component's error is the decoder's; only its shape is fixed.
  head -c 100 "$values" >"$tmp/truncated-component.wasm"
  check "truncated component" 1 "" "*" "$weft" run "$tmp/truncated-component.wasm"
  one_error_line "truncated component, one line" \
    "^error: $tmp/truncated-component.wasm: .* (at byte 0x[0-9a-f]*)$"

  # weft serve refuses what it cannot serve before anything listens.
  check "serve a component without a wasi:http handler" 1 "" \
    "error: $values exports no wasi:http handler (wasi:http/handler@0.3.x or wasi:http/incoming-handler@0.2.x)" \
    "$weft" serve "$values"
  check "serve a core module" 1 "" \
    "error: $arith is a core module; weft serve needs a wasi:http component" "$weft" serve "$arith"
  check "serve a truncated component" 1 "" "*" "$weft" serve "$tmp/truncated-component.wasm"
  one_error_line "serve a truncated component, one line" \
    "^error: $tmp/truncated-component.wasm: .* (at byte 0x[0-9a-f]*)$"
  check "serve with a bad --addr" 1 "" \
    "error: --addr: expected IP:PORT (e.g. 127.0.0.1:8080 or [::1]:8080), got 'localhost'" \
    "$weft" serve --addr localhost "$values"

  # weft wit prints the world as wasm-tools (inside jco) does.
  jco=$testdata/../node_modules/.bin/jco
  for c in values trap missing-imports error-context; do
    "$jco" wit "$components/$c.wasm" -o "$tmp/$c.wit" >/dev/null
    check "wit $c.wasm, as jco prints it" 0 "$(cat "$tmp/$c.wit")" "" "$weft" wit "$components/$c.wasm"
  done
else
  echo "skip: component tests (testdata/components not built: jco missing, run 'npm ci')"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
