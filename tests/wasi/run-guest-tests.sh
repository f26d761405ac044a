#!/bin/sh
# End-to-end tests of a WASI host through the guests of one testdata folder
# (p2: WASI 0.2, p3: WASI 0.3): builds them into OUTDIR/PART
# (testdata/build.sh) and runs each with
#   weft run [NAME.flags] NAME.wasm [NAME.args]
# A guest checks itself; beside NAME.c or NAME.wat these optional files say
# what else to expect:
#   NAME.flags          weft's flags (split at white space); @TMP@ stands for a
#                       fresh empty directory, e.g. `--dir @TMP@::/sandbox`
#   NAME.args           the guest's arguments (split at white space)
#   NAME.stdin          stdin, through a pipe (default: an empty pipe)
#   NAME.stdin-open     (empty) stdin is a pipe that stays open and empty
#                       until the guest exits
#   NAME.status         the exit status (default 0)
#   NAME.stdout         stdout, exactly
#   NAME.stdout.sha256  the SHA-256 of stdout, for large outputs
#   NAME.stderr         lines stderr must contain (default: stderr must be
#                       empty when the expected status is 0)
#   NAME.tmp            the files in @TMP@ after the run and their contents,
#                       as `== ./PATH` lines each followed by the contents
# The variable WEFT_P2_HOST_VAR is set for guests that pass a host variable.
# Each guest has 60 seconds. Also checks that `weft wit` prints what
# `jco wit` does for every guest.
# usage: run-guest-tests.sh WEFT OUTDIR TESTDATA_DIR PART
set -u

if [ $# -ne 4 ]; then
  echo "usage: $0 WEFT OUTDIR TESTDATA_DIR PART" >&2
  exit 2
fi
weft=$1
out=$2
testdata=$3
part=$4
jco=$testdata/../node_modules/.bin/jco
if [ ! -x "$jco" ]; then
  echo "skip: the $part guests need jco (npm ci)"
  exit 77
fi
# C guests need clang-19 and wasi-libc.
for c in "$testdata/$part"/*.c; do
  [ -e "$c" ] || break
  if ! command -v clang-19 >/dev/null || [ ! -e /usr/lib/wasm32-wasi/libc.a ]; then
    echo "skip: the $part guests need clang-19 and wasi-libc"
    exit 77
  fi
  break
done
if ! "$testdata/build.sh" "$out" "$part"; then
  echo "error: building the $part guests failed"
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export WEFT_P2_HOST_VAR="from the host"

passed=0
failed=0
# fail PROBLEM: reports the last run's failure; returns 1.
fail() {
  echo "FAIL: $name: $1"
  echo "  command: $weft run $flags $wasm $args"
  echo "  stdout:"; head -c 2000 "$tmp/out" | sed -n '1,20s/^/    /p'
  echo "  stderr:"; sed -n '1,20s/^/    /p' "$tmp/err"
  return 1
}
# run_weft: runs the guest $wasm with $flags and $args (split at white
# space, SC2086), stdout and stderr into $tmp/out and $tmp/err.
run_weft() {
  # shellcheck disable=SC2086
  timeout 60 "$weft" run $flags "$wasm" $args >"$tmp/out" 2>"$tmp/err"
}
# check_guest: runs the guest $name; returns 1 when the run is not what its
# files expect.
check_guest() {
  rm -rf "$tmp/dir"
  mkdir "$tmp/dir"
  flags=
  [ -e "$base.flags" ] && flags=$(sed "s|@TMP@|$tmp/dir|g" "$base.flags")
  args=
  [ -e "$base.args" ] && args=$(cat "$base.args")
  want_status=0
  [ -e "$base.status" ] && want_status=$(cat "$base.status")
  input=/dev/null
  [ -e "$base.stdin" ] && input=$base.stdin

  set -f  # flags and arguments are split at white space, never globbed
  if [ -e "$base.stdin-open" ]; then
    mkfifo "$tmp/fifo"
    # The runner holds a writer that never writes: no end of input.
    exec 3<>"$tmp/fifo"
    run_weft <"$tmp/fifo" 3>&-
    status=$?
    exec 3>&-
    rm "$tmp/fifo"
  else
    # stdin is a pipe on purpose (SC2002).
    # shellcheck disable=SC2002
    cat "$input" | run_weft
    status=$?
  fi
  set +f
  [ "$status" != 124 ] || fail "no exit within 60 seconds" || return
  [ "$status" = "$want_status" ] || fail "exit status $status, expected $want_status" || return
  if [ -e "$base.stdout" ] && ! cmp -s "$base.stdout" "$tmp/out"; then
    fail "stdout differs from $name.stdout"
    return
  fi
  if [ -e "$base.stdout.sha256" ] &&
    [ "$(sha256sum <"$tmp/out" | cut -d' ' -f1)" != "$(cat "$base.stdout.sha256")" ]; then
    fail "stdout ($(wc -c <"$tmp/out") bytes) does not match $name.stdout.sha256"
    return
  fi
  if [ -e "$base.stderr" ]; then
    while IFS= read -r line; do
      grep -qxF -- "$line" "$tmp/err" || fail "stderr lacks '$line'" || return
    done <"$base.stderr"
  elif [ "$want_status" = 0 ] && [ -s "$tmp/err" ]; then
    fail "unexpected stderr"
    return
  fi
  if [ -e "$base.tmp" ]; then
    (cd "$tmp/dir" && find . -type f | sort | while read -r f; do echo "== $f"; cat "$f"; done) >"$tmp/files"
    cmp -s "$base.tmp" "$tmp/files" || fail "the files left in @TMP@ differ from $name.tmp: $(cat "$tmp/files")"
  fi
}

# check_wit: weft's view of the component's world must be jco's (wasm-tools').
check_wit() {
  "$jco" wit "$wasm" -o "$tmp/want-wit" >/dev/null 2>&1
  "$weft" wit "$wasm" >"$tmp/out" 2>"$tmp/err"
  cmp -s "$tmp/want-wit" "$tmp/out" && return
  echo "FAIL: $name: 'weft wit' differs from 'jco wit':"
  diff "$tmp/want-wit" "$tmp/out" | head -20
  return 1
}

for source in "$testdata/$part"/*.c "$testdata/$part"/*.wat; do
  [ -e "$source" ] || continue
  base=${source%.*}
  name=$(basename "$base")
  wasm=$out/$part/$name.wasm
  for check in check_guest check_wit; do
    if $check; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
    fi
  done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
