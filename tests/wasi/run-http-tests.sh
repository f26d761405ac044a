#!/bin/sh
# End-to-end test of `weft serve` and of wasi:http's client, all over
# loopback. Builds the guests of testdata/http (`jco parse`) into OUTDIR
# and checks that `weft wit` prints what `jco wit` does for each. Then for
# each service (hello-p3: wasi:http@0.3.0, hello-p2: 0.2) it starts
#   weft --log-level info serve --addr 127.0.0.1:0 [--header-timeout 1000] NAME.wasm
# reads the port from the "http://HOST:PORT/" line on stderr and checks
# the server with python3 (standard library only):
#   basic       GET / -> 200 text/plain "hello, world\n"; two requests on
#               one kept-alive connection; POST /echo with a content-length
#               body, a chunked one and an empty one -> echoed
#   concurrent  64 clients, 32 at a time, each a GET and an echo
#   malformed   over raw sockets: a bad request line -> 400, a head over
#               64 KiB -> 431 (either may instead close); a body cut
#               short; a head that stalls -> 408 or closed after the head
#               timeout and not before; a good request after each
#   gone        200 clients that close or reset before their answers
#               (their requests queued), then a good request
#   trap        (hello-p3) a request whose handler traps gets 500, one in
#               flight beside it is cut off, the next gets a fresh instance
#   stop        SIGINT with a request in flight: it still gets its whole
#               answer, a new connection is not served, weft exits 0
# and between gone and stop the client guest fetch-p3 (-S http) gets
# "hello, world\n" from it, and the log names the requests. Last,
# fetch-p3 under `weft run`: without -S http send fails with
# HTTP-request-denied (exit 1); with it, against python's http.server,
# it prints 200 and the file (404 for a missing one); once that server is
# gone, send fails with connection-refused. Skips (77) without jco or
# python3. Every socket has a timeout, every weft process a watchdog.
# usage: run-http-tests.sh WEFT OUTDIR TESTDATA_DIR
set -u

if [ $# -ne 3 ]; then
  echo "usage: $0 WEFT OUTDIR TESTDATA_DIR" >&2
  exit 2
fi
weft=$1
out=$2
testdata=$3
jco=$testdata/../node_modules/.bin/jco
if [ ! -x "$jco" ]; then
  echo "skip: the http guests need jco (npm ci)"
  exit 77
fi
if ! command -v python3 >/dev/null; then
  echo "skip: the http checks need python3"
  exit 77
fi
mkdir -p "$out"
for source in "$testdata"/http/*.wat; do
  wasm=$out/$(basename "$source" .wat).wasm
  if [ ! -e "$wasm" ] || [ -n "$(find "$source" -newer "$wasm")" ]; then
    "$jco" parse "$source" -o "$wasm" >/dev/null || { echo "error: jco parse $source failed"; exit 1; }
  fi
done

tmp=$(mktemp -d)
server=
http_server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; [ -n "$http_server" ] && kill "$http_server" 2>/dev/null; rm -rf "$tmp"' EXIT

failed=0  # failures so far
# fail PROBLEM: reports a failure.
fail() {
  echo "FAIL: $1"
  failed=$((failed + 1))
}
# fail_server PROBLEM: reports a failure with the server's output.
fail_server() {
  fail "$1"
  echo "  stdout:"; sed -n '1,10s/^/    /p' "$tmp/out"
  echo "  stderr:"; sed -n '1,20s/^/    /p' "$tmp/err"
}

# weft's view of each guest's world must be jco's (wasm-tools').
for wasm in "$out"/*.wasm; do
  "$jco" wit "$wasm" -o "$tmp/want-wit" >/dev/null 2>&1
  "$weft" wit "$wasm" >"$tmp/got-wit" 2>&1
  cmp -s "$tmp/want-wit" "$tmp/got-wit" ||
    fail "'weft wit $(basename "$wasm")' differs from 'jco wit': $(diff "$tmp/want-wit" "$tmp/got-wit" | head -5)"
done

# The slowloris check waits for the head timeout: shorten it where weft
# has the flag.
head_timeout_ms=10000
timeout_flag=
if "$weft" serve --help 2>/dev/null | grep -q -- --header-timeout; then
  head_timeout_ms=1000
  timeout_flag="--header-timeout $head_timeout_ms"
fi

# The checks of one running server; their own failures are printed as
# "FAIL: ..." lines and the exit status is their count. The stop check
# (last) sends SIGINT to the server itself.
cat >"$tmp/check.py" <<'EOF'
import concurrent.futures, http.client, os, signal, socket, struct, sys, time

port, pid, head_timeout = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000
checks = sys.argv[4].split(",")
HELLO = b"hello, world\n"
failures = 0

def fail(what):
    global failures
    failures += 1
    print("FAIL: " + what, flush=True)

def connection():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)

def get(conn, path="/"):
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.getheader("content-type"), r.read()

def echo(conn, body, chunked=False):
    if chunked:
        # an iterator of pieces: http.client sends it chunked
        pieces = (body[i:i + 1000] for i in range(0, len(body), 1000))
        conn.request("POST", "/echo", body=pieces, encode_chunked=True)
    else:
        conn.request("POST", "/echo", body=body)
    r = conn.getresponse()
    return r.status, r.read()

def expect_hello(what):
    try:
        conn = connection()
        got = get(conn)
        conn.close()
        if got != (200, "text/plain", HELLO):
            fail(f"{what}: GET / gave {got!r}")
    except OSError as e:
        fail(f"{what}: GET / failed: {e!r}")

# raw(data, ...): sends bytes on a fresh socket and returns what comes back
# until the server closes or `wait` seconds pass; a reset counts as closed.
def raw(data, wait=5, close_after_send=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    got = b""
    try:
        s.sendall(data)
        if close_after_send:
            return got
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            got += piece
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        got += b"<timeout>"
    finally:
        s.close()
    return got

def status_or_closed(got, status, what):
    if got and not got.startswith(b"HTTP/1.1 %d" % status):
        fail(f"{what}: expected {status} or a closed connection, got {got[:80]!r}")

def check_basic():
    expect_hello("one request")
    conn = connection()
    first = get(conn)
    sock = conn.sock
    second = get(conn)
    if first != second or first[0] != 200 or conn.sock is not sock or sock is None:
        fail(f"keep-alive: {first!r} then {second!r}, same socket: {conn.sock is sock}")
    conn.close()
    body = os.urandom(200_000)
    for chunked in (False, True):
        conn = connection()
        got = echo(conn, body, chunked)
        if got != (200, body):
            fail(f"POST /echo ({'chunked' if chunked else 'content-length'}): status {got[0]}, "
                 f"{len(got[1])} bytes back of {len(body)}")
        # an empty body, and a second echo on the same connection
        if echo(conn, b"") != (200, b""):
            fail("POST /echo with an empty body")
        conn.close()

def check_concurrent():
    def one(i):
        conn = connection()
        try:
            body = (b"%d;" % i) * (1000 + i * 100)
            return get(conn) == (200, "text/plain", HELLO) and echo(conn, body) == (200, body)
        finally:
            conn.close()
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        results = list(pool.map(one, range(64)))
    if not all(results):
        fail(f"concurrent: {results.count(False)} of 64 clients got a wrong answer")

def check_malformed():
    got = raw(b"NOT A REQUEST\r\n\r\n")
    status_or_closed(got, 400, "bad request line")
    expect_hello("after a bad request line")

    got = raw(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
    status_or_closed(got, 431, "a head over 64 KiB")
    expect_hello("after a head over 64 KiB")

    raw(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"0123456789",
        close_after_send=True)
    time.sleep(0.2)
    expect_hello("after a body cut short")

    # slowloris: part of a head, then nothing
    start = time.monotonic()
    got = raw(b"GET / HTTP/1.1\r\nHost: x\r\n", wait=head_timeout + 5)
    took = time.monotonic() - start
    if got.endswith(b"<timeout>"):
        fail(f"a stalled head: no answer within {head_timeout + 5:.0f} s")
    else:
        status_or_closed(got, 408, "a stalled head")
        if took < head_timeout * 0.8:
            fail(f"a stalled head: answered after {took:.2f} s, before the head timeout")
    expect_hello("after a stalled head")

def check_gone():
    # Clients that go away before their answers are written: 200 at once
    # (their requests queue up), half closing, half resetting, every tenth
    # in the middle of sending an echo's body.
    clients = []
    for i in range(200):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            if i % 10:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            else:
                s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n" + b"x" * 150_000)
        except OSError:
            pass
        clients.append(s)
    for i, s in enumerate(clients):
        if i % 2:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    time.sleep(1)
    expect_hello("after 200 clients that went away")

def check_stop():
    # A request in flight (half its body sent) when SIGINT comes: it still
    # gets its whole answer, and no new connection is served.
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
    time.sleep(0.3)
    os.kill(pid, signal.SIGINT)
    time.sleep(0.3)
    try:
        late = connection()
        late.request("GET", "/")
        fail(f"after SIGINT a new connection was served: {late.getresponse().status}")
    except OSError:
        pass
    s.sendall(b"56789")
    try:
        r = http.client.HTTPResponse(s)
        r.begin()
        got = (r.status, r.read())
        if got != (200, b"0123456789"):
            fail(f"the request in flight at SIGINT got {got!r}")
    except OSError as e:
        fail(f"the request in flight at SIGINT: {e!r}")
    s.close()

def check_trap():
    # (hello-p3) DELETE traps in the guest: that request gets 500; one in
    # flight on the same instance (its answer begun, its body half sent)
    # is cut off; the next request gets a fresh instance.
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
    time.sleep(0.3)
    conn = connection()
    conn.request("DELETE", "/")
    r = conn.getresponse()
    if r.status != 500:
        fail(f"a trapping request got {r.status}, not 500")
    r.read()
    conn.close()
    got = b""
    try:
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            got += piece
    except ConnectionResetError:
        pass
    except socket.timeout:
        fail("the request in flight at the trap was left hanging")
    s.close()
    if got.endswith(b"0\r\n\r\n"):
        fail(f"the request in flight at the trap was answered in full: {got!r}")
    expect_hello("after a trap")

def alive():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # not a zombie
    except OSError:
        return False

for name in checks:
    try:
        globals()["check_" + name]()
    except Exception as e:
        fail(f"{name}: {e!r}")
    if name != "stop" and not alive():
        fail(f"the server died during the {name} checks")
        break
sys.exit(min(failures, 100))
EOF

# serve NAME: starts `weft serve` on NAME.wasm and sets $server and $port.
serve() {
  port=
  # Emptied here, not only by the job's redirections: the loop below must
  # not read the previous server's port. A background job of a script
  # ignores SIGINT unless told otherwise; info is the level that logs each
  # request.
  : >"$tmp/out"
  : >"$tmp/err"
  # shellcheck disable=SC2086
  env --default-signal=INT "$weft" --log-level info serve --addr 127.0.0.1:0 $timeout_flag "$out/$1.wasm" \
    >"$tmp/out" 2>"$tmp/err" &
  server=$!
  # The server has 120 seconds (the watcher ends with it).
  (timeout 120 tail --pid="$server" -f /dev/null || kill "$server") >/dev/null 2>&1 &
  for _ in $(seq 100); do
    port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' "$tmp/err" | head -n 1)
    [ -n "$port" ] && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  kill "$server" 2>/dev/null
  wait "$server"
  server=
  fail_server "$1: weft serve printed no http://127.0.0.1:PORT/ line within 10 seconds"
  return 1
}

# alive: the server runs (it is neither gone nor a zombie).
alive() {
  kill -0 "$server" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$server/stat" | cut -d' ' -f1)" != Z ]
}

# check NAME CHECKS: runs the python checks CHECKS (comma-separated).
check() {
  timeout 120 python3 "$tmp/check.py" "$port" "$server" "$head_timeout_ms" "$2" >"$tmp/check" 2>&1 ||
    fail_server "$1: $(cat "$tmp/check")"
}

# fetch FLAGS...: runs fetch-p3 under `weft run` with FLAGS; stdout and
# stderr into $tmp/fetch-out and $tmp/fetch-err, the exit status in $status.
fetch() {
  timeout 60 "$weft" run "$@" "$out/fetch-p3.wasm" >"$tmp/fetch-out" 2>"$tmp/fetch-err"
  status=$?
}

# fetched WHAT STDOUT: the last fetch exited 0 and printed STDOUT exactly.
fetched() {
  printf '%s' "$2" >"$tmp/want"
  if [ "$status" != 0 ] || ! cmp -s "$tmp/want" "$tmp/fetch-out"; then
    fail "$1: fetch-p3 exited $status, printed '$(cat "$tmp/fetch-out")', stderr '$(cat "$tmp/fetch-err")'"
  fi
}

for service in hello-p3 hello-p2; do
  failed_before=$failed
  serve "$service" || continue
  check "$service" basic,concurrent,malformed,gone
  [ "$service" = hello-p3 ] && check "$service" trap
  if ! alive; then
    wait "$server"
    status=$?
    server=
    fail_server "$service: weft serve died (status $status)"
    continue
  fi
  # The client guest against this server.
  fetch -S http --env FETCH_AUTHORITY="127.0.0.1:$port" --env FETCH_PATH=/
  fetched "$service: fetch-p3 against it" "200
hello, world
"
  # Each request is logged (at info level) with its target.
  grep -q 'POST /echo' "$tmp/out" "$tmp/err" || fail_server "$service: no request was logged"
  check "$service" stop
  wait "$server"
  status=$?
  server=
  [ "$status" = 0 ] || fail_server "$service: weft serve exited with status $status after SIGINT"
  [ "$failed" = "$failed_before" ] && echo "$service: served"
done

# fetch-p3 without -S http: the host denies the request.
fetch --env FETCH_AUTHORITY=127.0.0.1:9 --env FETCH_PATH=/
if [ "$status" != 1 ] || ! grep -qx 'fetch: send failed: HTTP-request-denied' "$tmp/fetch-err"; then
  fail "fetch-p3 without -S http exited $status, stderr '$(cat "$tmp/fetch-err")'"
fi

# fetch-p3 with -S http against python's http.server (-u: its "Serving
# HTTP on ... port N" line is not buffered).
mkdir "$tmp/www"
printf 'served by python\n' >"$tmp/www/file.txt"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/http-out" 2>&1 &
http_server=$!
http_port=
for _ in $(seq 100); do
  http_port=$(sed -n 's/.* port \([0-9][0-9]*\).*/\1/p' "$tmp/http-out" | head -n 1)
  [ -n "$http_port" ] && break
  sleep 0.1
done
if [ -z "$http_port" ]; then
  fail "python3 -m http.server printed no port"
else
  fetch -S http --env FETCH_AUTHORITY="127.0.0.1:$http_port" --env FETCH_PATH=/file.txt
  fetched "fetch-p3 against http.server" "200
served by python
"
  # A path that is not there: the status is still printed (and run is ok).
  fetch -S http --env FETCH_AUTHORITY="127.0.0.1:$http_port" --env FETCH_PATH=/missing
  if [ "$status" != 0 ] || [ "$(head -n 1 "$tmp/fetch-out")" != 404 ]; then
    fail "fetch-p3 of a missing file exited $status, printed '$(head -n 1 "$tmp/fetch-out")'"
  fi
  # Nothing listens there any more: send fails with connection-refused.
  kill "$http_server"
  wait "$http_server" 2>/dev/null
  http_server=
  fetch -S http --env FETCH_AUTHORITY="127.0.0.1:$http_port" --env FETCH_PATH=/
  if [ "$status" != 1 ] || ! grep -qx 'fetch: send failed: connection-refused' "$tmp/fetch-err"; then
    fail "fetch-p3 of a closed port exited $status, stderr '$(cat "$tmp/fetch-err")'"
  fi
fi

[ "$failed" = 0 ] || exit 1
echo "http: all checks passed"
