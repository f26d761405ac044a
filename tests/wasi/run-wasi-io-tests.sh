#!/bin/sh
# End-to-end checks of the preview1 host through the built weft: 100 MiB
# to stdout through a pipe, a non-blocking pipe with a slow reader and a
# file arrive byte for byte; stdin is read to end of file; a guest cannot
# reach outside its --dir by any path, and nothing outside changes.
# A guest serves one TCP connection on a --tcplisten socket.
# usage: run-wasi-io-tests.sh WEFT TESTDATA_WASI_DIR
set -eu

weft=$1
src=$2
if ! command -v clang-19 >/dev/null || [ ! -e /usr/lib/wasm32-wasi/libc.a ]; then
  echo "skip: clang-19 and wasi-libc are needed to build the guests"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for g in bigout copy escape echo-server; do
  clang-19 --target=wasm32-wasi -O2 "$src/$g.c" -o "$tmp/$g.wasm"
done

fail=0
check() {
  if [ "$2" = "$3" ]; then
    echo "ok: $1"
  else
    echo "FAIL: $1: got '$2', want '$3'"
    fail=1
  fi
}

mib=100
want=$(python3 -c "
import hashlib
h = hashlib.sha256()
base = bytes((i * 31) & 0xff for i in range(1 << 20))
for k in range($mib):
    h.update(base.translate(bytes((b + k) & 0xff for b in range(256))))
print(h.hexdigest())")

got=$("$weft" run "$tmp/bigout.wasm" $mib | sha256sum | cut -d' ' -f1)
check "100 MiB to stdout through a pipe" "$got" "$want"

mkdir "$tmp/out"
"$weft" run --dir "$tmp/out::/out" "$tmp/bigout.wasm" $mib /out/big
check "100 MiB to a file" "$(sha256sum < "$tmp/out/big" | cut -d' ' -f1)" "$want"

"$weft" run "$tmp/bigout.wasm" $mib > "$tmp/out/stdout"
check "100 MiB to stdout redirected to a file" "$(sha256sum < "$tmp/out/stdout" | cut -d' ' -f1)" "$want"

got=$("$weft" run "$tmp/copy.wasm" < "$tmp/out/big" | sha256sum | cut -d' ' -f1)
check "stdin from a file, read to end of file" "$got" "$want"

got=$(cat "$tmp/out/big" | "$weft" run "$tmp/copy.wasm" | sha256sum | cut -d' ' -f1)
check "stdin from a pipe, read to end of file" "$got" "$want"

# A parent may leave a shared stdout pipe non-blocking: the guest must wait
# for the slow reader instead of losing output on EAGAIN.
got=$(python3 - "$weft" run "$tmp/bigout.wasm" $mib <<'PY'
import fcntl, hashlib, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
h, start = hashlib.sha256(), time.time()
while True:
    if time.time() - start < 0.5:
        time.sleep(0.01)
    b = os.read(r, 1 << 16)
    if not b:
        break
    h.update(b)
print(h.hexdigest() if p.wait() == 0 else "exit %d" % p.returncode)
PY
)
check "100 MiB through a non-blocking pipe with a slow reader" "$got" "$want"

mkdir -p "$tmp/box/sandbox/a" "$tmp/box/outside"
echo secret > "$tmp/box/outside/secret"
ln -s ../outside "$tmp/box/sandbox/out"
before=$(cd "$tmp/box/outside" && ls -la --time-style=full-iso . && cat secret)
got=$("$weft" run --dir "$tmp/box/sandbox::/sandbox" "$tmp/escape.wasm" | tr '\n' ';')
check "escape attempts are refused" "$got" "read dotdot EPERM;read deep dotdot EPERM;read symlink EPERM;\
stat symlink EPERM;stat dotdot EPERM;create via symlink EPERM;create dotdot EPERM;mkdir via symlink EPERM;\
rename out EPERM;rename in EPERM;link out EPERM;link in EPERM;unlink via symlink EPERM;absolute symlink EPERM;\
symlink loop ELOOP;long name ENAMETOOLONG;unpreopened ENOTCAPABLE;"
check "nothing outside the sandbox changed" "$(cd "$tmp/box/outside" && ls -la --time-style=full-iso . && cat secret)" "$before"

got=$(python3 - "$weft" "$tmp/echo-server.wasm" <<'PY'
import socket, subprocess, sys, time
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
p = subprocess.Popen([sys.argv[1], "run", "--tcplisten", "127.0.0.1:%d" % port, sys.argv[2]])
for _ in range(200):
    try:
        s = socket.create_connection(("127.0.0.1", port))
        break
    except OSError:
        time.sleep(0.05)
data = bytes(range(256)) * 4096
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
print("echoed" if got == data and p.wait() == 0 else "lost %d of %d bytes" % (len(data) - len(got), len(data)))
PY
)
check "sock_accept/recv/send/shutdown on a --tcplisten socket" "$got" "echoed"

exit $fail
