;; A TCP echo server on wasi:sockets 0.3.0, one async task (callback ABI):
;;   tcp-echo.wasm [PORT [CONNECTIONS]]      (defaults: 0, 0)
;; binds 127.0.0.1:PORT (0: any free port), listens with a backlog of 4096,
;; writes "tcp-echo: listening on 127.0.0.1:PORT" to stdout, and echoes every
;; byte of each accepted connection back to it: receive() into a 64 KiB
;; buffer of its own, then write that into the stream given to send(). All
;; connections run at once in one waitable set. When the peer closes, the
;; send stream is dropped (the host shuts down writing); once both futures of
;; the connection have resolved its socket is dropped and its buffer reused.
;; After CONNECTIONS connections were accepted and finished, run returns ok;
;; with 0 it returns once listening. Any failure (bad arguments, a socket
;; call, a connection whose send or receive ended in an error) writes
;; "tcp-echo: WHAT failed (code N)" to stderr and run returns err.
(component $c
  (import "wasi:cli/environment@0.3.0" (instance $environment
    (export "get-arguments" (func (result (list string))))))
  (import "wasi:cli/types@0.3.0" (instance $cli-types
    (type $ec (enum "io" "illegal-byte-sequence" "pipe"))
    (export "error-code" (type (eq $ec)))))
  (alias export $cli-types "error-code" (type $cli-error-code))
  (import "wasi:cli/stdout@0.3.0" (instance $stdout
    (alias outer $c $cli-error-code (type $ec))
    (export "error-code" (type $ec-e (eq $ec)))
    (export "write-via-stream" (func (param "data" (stream u8)) (result (future (result (error $ec-e))))))))
  (import "wasi:cli/stderr@0.3.0" (instance $stderr
    (alias outer $c $cli-error-code (type $ec))
    (export "error-code" (type $ec-e (eq $ec)))
    (export "write-via-stream" (func (param "data" (stream u8)) (result (future (result (error $ec-e))))))))
  (import "wasi:sockets/types@0.3.0" (instance $sockets
    (type $ec (variant (case "access-denied") (case "not-supported") (case "invalid-argument")
      (case "out-of-memory") (case "timeout") (case "invalid-state") (case "address-not-bindable")
      (case "address-in-use") (case "remote-unreachable") (case "connection-refused")
      (case "connection-broken") (case "connection-reset") (case "connection-aborted")
      (case "datagram-too-large") (case "other" (option string))))
    (export "error-code" (type $ec-e (eq $ec)))
    (type $fam (enum "ipv4" "ipv6"))
    (export "ip-address-family" (type $fam-e (eq $fam)))
    (type $v4 (tuple u8 u8 u8 u8))
    (export "ipv4-address" (type $v4-e (eq $v4)))
    (type $v4sa (record (field "port" u16) (field "address" $v4-e)))
    (export "ipv4-socket-address" (type $v4sa-e (eq $v4sa)))
    (type $v6 (tuple u16 u16 u16 u16 u16 u16 u16 u16))
    (export "ipv6-address" (type $v6-e (eq $v6)))
    (type $v6sa (record (field "port" u16) (field "flow-info" u32) (field "address" $v6-e) (field "scope-id" u32)))
    (export "ipv6-socket-address" (type $v6sa-e (eq $v6sa)))
    (type $sa (variant (case "ipv4" $v4sa-e) (case "ipv6" $v6sa-e)))
    (export "ip-socket-address" (type $sa-e (eq $sa)))
    (export "tcp-socket" (type $s (sub resource)))
    (type $unit-result (result (error $ec-e)))
    (type $accepts (stream (own $s)))
    (type $outcome (future $unit-result))
    (type $connection (tuple (stream u8) (future $unit-result)))
    (export "[static]tcp-socket.create"
      (func (param "address-family" $fam-e) (result (result (own $s) (error $ec-e)))))
    (export "[method]tcp-socket.bind"
      (func (param "self" (borrow $s)) (param "local-address" $sa-e) (result $unit-result)))
    (export "[method]tcp-socket.listen"
      (func (param "self" (borrow $s)) (result (result $accepts (error $ec-e)))))
    (export "[method]tcp-socket.send"
      (func (param "self" (borrow $s)) (param "data" (stream u8)) (result $outcome)))
    (export "[method]tcp-socket.receive"
      (func (param "self" (borrow $s)) (result $connection)))
    (export "[method]tcp-socket.get-local-address"
      (func (param "self" (borrow $s)) (result (result $sa-e (error $ec-e)))))
    (export "[method]tcp-socket.set-listen-backlog-size"
      (func (param "self" (borrow $s)) (param "value" u64) (result $unit-result)))))
  (alias export $sockets "tcp-socket" (type $tcp-socket))
  (alias export $sockets "error-code" (type $error-code))

  (type $bytes (stream u8))
  (type $accepts (stream (own $tcp-socket)))
  (type $outcome (future (result (error $error-code))))
  (type $cli-outcome (future (result (error $cli-error-code))))
  (type $run-result (result))

  ;; Memory and a bump allocator for the lists and strings the host returns;
  ;; nothing allocated is kept past the event it came with, so the main
  ;; module resets $heap at every entry.
  ;;   0x00000  return area, message texts, the accept buffer, the writers
  ;;   0x01000  the bump heap (60 KiB)
  ;;   0x10000  handle -> connection map (64 Ki handles, i32 each)
  ;;   0x50000  connection slots, 128 bytes each (8 Ki slots)
  ;;   0x150000 a 64 KiB buffer per slot, grown as slots are first used
  (core module $mem-module
    (memory (export "memory") 21)
    (global $heap (export "heap") (mut i32) (i32.const 0x1000))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (if (local.get 0) (then unreachable))  ;; only fresh allocations
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (global.get $heap) (i32.const 0x10000)) (then unreachable))
      (local.get $p)))
  (core instance $mem-instance (instantiate $mem-module))
  (alias core export $mem-instance "memory" (core memory $mem))
  (alias core export $mem-instance "realloc" (core func $realloc))
  (alias core export $mem-instance "heap" (core global $heap))

  (core func $get-arguments (canon lower (func $environment "get-arguments") (memory $mem) (realloc $realloc)))
  (core func $stdout-write (canon lower (func $stdout "write-via-stream")))
  (core func $stderr-write (canon lower (func $stderr "write-via-stream")))
  (core func $create (canon lower (func $sockets "[static]tcp-socket.create") (memory $mem) (realloc $realloc)))
  (core func $bind (canon lower (func $sockets "[method]tcp-socket.bind") (memory $mem) (realloc $realloc)))
  (core func $set-backlog
    (canon lower (func $sockets "[method]tcp-socket.set-listen-backlog-size") (memory $mem) (realloc $realloc)))
  (core func $listen (canon lower (func $sockets "[method]tcp-socket.listen") (memory $mem) (realloc $realloc)))
  (core func $local-address
    (canon lower (func $sockets "[method]tcp-socket.get-local-address") (memory $mem) (realloc $realloc)))
  (core func $receive (canon lower (func $sockets "[method]tcp-socket.receive") (memory $mem)))
  (core func $send (canon lower (func $sockets "[method]tcp-socket.send")))
  (core func $drop-socket (canon resource.drop $tcp-socket))
  (core func $bytes-new (canon stream.new $bytes))
  (core func $bytes-read (canon stream.read $bytes async (memory $mem)))
  (core func $bytes-write (canon stream.write $bytes async (memory $mem)))
  (core func $bytes-drop-readable (canon stream.drop-readable $bytes))
  (core func $bytes-drop-writable (canon stream.drop-writable $bytes))
  (core func $accepts-read (canon stream.read $accepts async (memory $mem)))
  (core func $accepts-drop-readable (canon stream.drop-readable $accepts))
  (core func $outcome-read (canon future.read $outcome async (memory $mem) (realloc $realloc)))
  (core func $outcome-drop-readable (canon future.drop-readable $outcome))
  (core func $cli-outcome-drop-readable (canon future.drop-readable $cli-outcome))
  (core func $waitable-set-new (canon waitable-set.new))
  (core func $waitable-join (canon waitable.join))
  (core func $task-return (canon task.return (result $run-result)))
  (core instance $wasi
    (export "get-arguments" (func $get-arguments))
    (export "stdout-write" (func $stdout-write))
    (export "stderr-write" (func $stderr-write))
    (export "create" (func $create))
    (export "bind" (func $bind))
    (export "set-backlog" (func $set-backlog))
    (export "listen" (func $listen))
    (export "local-address" (func $local-address))
    (export "receive" (func $receive))
    (export "send" (func $send))
    (export "drop-socket" (func $drop-socket))
    (export "bytes-new" (func $bytes-new))
    (export "bytes-read" (func $bytes-read))
    (export "bytes-write" (func $bytes-write))
    (export "bytes-drop-readable" (func $bytes-drop-readable))
    (export "bytes-drop-writable" (func $bytes-drop-writable))
    (export "accepts-read" (func $accepts-read))
    (export "accepts-drop-readable" (func $accepts-drop-readable))
    (export "outcome-read" (func $outcome-read))
    (export "outcome-drop-readable" (func $outcome-drop-readable))
    (export "cli-outcome-drop-readable" (func $cli-outcome-drop-readable))
    (export "waitable-set-new" (func $waitable-set-new))
    (export "waitable-join" (func $waitable-join))
    (export "task-return" (func $task-return)))

  (core module $main
    (import "env" "memory" (memory 21))
    (import "env" "heap" (global $heap (mut i32)))
    (import "wasi" "get-arguments" (func $get-arguments (param i32)))
    (import "wasi" "stdout-write" (func $stdout-write (param i32) (result i32)))
    (import "wasi" "stderr-write" (func $stderr-write (param i32) (result i32)))
    (import "wasi" "create" (func $create (param i32 i32)))
    ;; self, ip-socket-address flattened (case + 11 payload slots), return area
    (import "wasi" "bind" (func $bind (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
    (import "wasi" "set-backlog" (func $set-backlog (param i32 i64 i32)))
    (import "wasi" "listen" (func $listen (param i32 i32)))
    (import "wasi" "local-address" (func $local-address (param i32 i32)))
    (import "wasi" "receive" (func $receive (param i32 i32)))
    (import "wasi" "send" (func $send (param i32 i32) (result i32)))
    (import "wasi" "drop-socket" (func $drop-socket (param i32)))
    (import "wasi" "bytes-new" (func $bytes-new (result i64)))
    (import "wasi" "bytes-read" (func $bytes-read (param i32 i32 i32) (result i32)))
    (import "wasi" "bytes-write" (func $bytes-write (param i32 i32 i32) (result i32)))
    (import "wasi" "bytes-drop-readable" (func $bytes-drop-readable (param i32)))
    (import "wasi" "bytes-drop-writable" (func $bytes-drop-writable (param i32)))
    (import "wasi" "accepts-read" (func $accepts-read (param i32 i32 i32) (result i32)))
    (import "wasi" "accepts-drop-readable" (func $accepts-drop-readable (param i32)))
    (import "wasi" "outcome-read" (func $outcome-read (param i32 i32) (result i32)))
    (import "wasi" "outcome-drop-readable" (func $outcome-drop-readable (param i32)))
    (import "wasi" "cli-outcome-drop-readable" (func $cli-outcome-drop-readable (param i32)))
    (import "wasi" "waitable-set-new" (func $waitable-set-new (result i32)))
    (import "wasi" "waitable-join" (func $waitable-join (param i32 i32)))
    (import "wasi" "task-return" (func $task-return (param i32)))

    ;; The texts of messages; "what" strings are (offset, length) pairs below.
    (data (i32.const 0x200) "tcp-echo: listening on 127.0.0.1:")  ;; 33 bytes, then the port
    (data (i32.const 0x300) "tcp-echo: ")
    (data (i32.const 0x310) " failed (code ")
    (data (i32.const 0x320) ")\0a")
    (data (i32.const 0x330) "arguments")               ;; 9
    (data (i32.const 0x340) "create")                  ;; 6
    (data (i32.const 0x350) "bind")                    ;; 4
    (data (i32.const 0x360) "set-listen-backlog-size") ;; 23
    (data (i32.const 0x380) "listen")                  ;; 6
    (data (i32.const 0x390) "get-local-address")       ;; 17
    (data (i32.const 0x3b0) "accept")                  ;; 6
    (data (i32.const 0x3c0) "a connection slot")       ;; 17
    (data (i32.const 0x3e0) "a connection")            ;; 12

    ;; Canonical ABI codes.
    (global $BLOCKED i32 (i32.const -1))
    (global $DROPPED i32 (i32.const 1))  ;; copy result: the other end is gone
    (global $STREAM_READ i32 (i32.const 2))
    (global $STREAM_WRITE i32 (i32.const 3))
    (global $FUTURE_READ i32 (i32.const 4))
    (global $WAIT i32 (i32.const 2))

    (global $RET i32 (i32.const 0x20))      ;; return area (32 bytes)
    (global $ACCEPTED i32 (i32.const 0x100)) ;; up to 16 own<tcp-socket>
    (global $WRITERS i32 (i32.const 0x180)) ;; 0: stdout, 1: stderr; handle, ptr, len
    (global $LINE i32 (i32.const 0x200))
    (global $MESSAGE i32 (i32.const 0x400))
    (global $HEAP i32 (i32.const 0x1000))
    (global $MAP i32 (i32.const 0x10000))
    (global $MAP_LENGTH i32 (i32.const 0x10000))
    (global $SLOTS i32 (i32.const 0x50000))
    (global $MAX_SLOTS i32 (i32.const 0x2000))
    (global $BUFFERS_PAGE i32 (i32.const 21))  ;; 0x150000
    (global $BUFFER_SIZE i32 (i32.const 0x10000))

    ;; A slot's fields, at these offsets (load/store immediates):
    ;;   0 the socket        4 rx, the receive stream   8 tx, the writable
    ;;   end given to send  12 the send future         16 the receive future
    ;;  20 the state (below) 24 bytes of the buffer written so far
    ;;  28 bytes in the buffer   32 what must end before the socket goes
    ;;  36 the receive stream ended   40 the next free slot
    ;;  64 the send future's value, 96 the receive future's (20 bytes each)

    ;; Handle kinds in the map: (slot << 3) | kind.
    (global $RX i32 (i32.const 1))
    (global $TX i32 (i32.const 2))
    (global $SEND_FUTURE i32 (i32.const 3))
    (global $RECEIVE_FUTURE i32 (i32.const 4))

    ;; Slot states.
    (global $READING i32 (i32.const 1))
    (global $WRITING i32 (i32.const 2))
    (global $CLOSING i32 (i32.const 3))  ;; the echo is over: drop its streams
    (global $CLOSED i32 (i32.const 4))   ;; waiting for the futures

    (global $ws (mut i32) (i32.const 0))
    (global $listener (mut i32) (i32.const 0))
    (global $accepts (mut i32) (i32.const 0))  ;; 0 once dropped
    (global $limit (mut i32) (i32.const 0))
    (global $accepted (mut i32) (i32.const 0))
    (global $finished (mut i32) (i32.const 0))
    (global $failures (mut i32) (i32.const 0))
    (global $last-error (mut i32) (i32.const 0))
    (global $failed (mut i32) (i32.const 0))
    (global $free (mut i32) (i32.const -1))
    (global $slots (mut i32) (i32.const 0))

    ;; ---- output: one message per writer, through write-via-stream ----

    (func $writer (param $w i32) (result i32)
      (i32.add (global.get $WRITERS) (i32.shl (local.get $w) (i32.const 4))))

    ;; Starts writing [ptr, ptr+len) to stdout (w = 0) or stderr (w = 1).
    (func $print (param $w i32) (param $ptr i32) (param $len i32)
      (local $ends i64) (local $rec i32)
      (local.set $rec (call $writer (local.get $w)))
      (local.set $ends (call $bytes-new))
      (i32.store (local.get $rec) (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (i32.store offset=4 (local.get $rec) (local.get $ptr))
      (i32.store offset=8 (local.get $rec) (local.get $len))
      ;; How the host's write ends is of no interest: a lost line fails the
      ;; test that waits for it.
      (call $cli-outcome-drop-readable
        (if (result i32) (local.get $w)
          (then (call $stderr-write (i32.wrap_i64 (local.get $ends))))
          (else (call $stdout-write (i32.wrap_i64 (local.get $ends))))))
      (call $waitable-join (i32.load (local.get $rec)) (global.get $ws))
      (call $print-pump (local.get $w)))

    ;; A write of the writer `w` completed with `r` (copy result, count << 4).
    (func $print-done (param $w i32) (param $r i32)
      (local $rec i32) (local $n i32)
      (local.set $rec (call $writer (local.get $w)))
      (local.set $n (i32.shr_u (local.get $r) (i32.const 4)))
      (i32.store offset=4 (local.get $rec) (i32.add (i32.load offset=4 (local.get $rec)) (local.get $n)))
      (i32.store offset=8 (local.get $rec) (i32.sub (i32.load offset=8 (local.get $rec)) (local.get $n)))
      (if (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (global.get $DROPPED))
        (then (i32.store offset=8 (local.get $rec) (i32.const 0)))))

    ;; Writes what is left until the write blocks; drops the stream when done.
    (func $print-pump (param $w i32)
      (local $rec i32) (local $r i32)
      (local.set $rec (call $writer (local.get $w)))
      (loop $more
        (if (i32.eqz (i32.load offset=8 (local.get $rec)))
          (then
            (call $bytes-drop-writable (i32.load (local.get $rec)))
            (i32.store (local.get $rec) (i32.const 0))
            (return)))
        (local.set $r (call $bytes-write (i32.load (local.get $rec))
          (i32.load offset=4 (local.get $rec)) (i32.load offset=8 (local.get $rec))))
        (if (i32.eq (local.get $r) (global.get $BLOCKED)) (then (return)))
        (call $print-done (local.get $w) (local.get $r))
        (br $more)))

    ;; Writes the decimal digits of `value` at `ptr`; returns their count.
    (func $utoa (param $ptr i32) (param $value i32) (result i32)
      (local $n i32) (local $v i32) (local $i i32)
      (local.set $v (local.get $value))
      (loop $count
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
        (br_if $count (local.get $v)))
      (local.set $v (local.get $value))
      (local.set $i (local.get $n))
      (loop $digit
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (i32.store8 (i32.add (local.get $ptr) (local.get $i))
          (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
        (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
        (br_if $digit (local.get $i)))
      (local.get $n))

    ;; Reports "tcp-echo: WHAT failed (code N)" on stderr (the first failure
    ;; only); run returns err once it is written.
    (func $fail (param $what i32) (param $what-len i32) (param $code i32)
      (local $p i32)
      (if (global.get $failed) (then (return)))
      (global.set $failed (i32.const 1))
      (local.set $p (global.get $MESSAGE))
      (memory.copy (local.get $p) (i32.const 0x300) (i32.const 10))
      (local.set $p (i32.add (local.get $p) (i32.const 10)))
      (memory.copy (local.get $p) (local.get $what) (local.get $what-len))
      (local.set $p (i32.add (local.get $p) (local.get $what-len)))
      (memory.copy (local.get $p) (i32.const 0x310) (i32.const 14))
      (local.set $p (i32.add (local.get $p) (i32.const 14)))
      (local.set $p (i32.add (local.get $p) (call $utoa (local.get $p) (local.get $code))))
      (memory.copy (local.get $p) (i32.const 0x320) (i32.const 2))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (call $print (i32.const 1) (global.get $MESSAGE) (i32.sub (local.get $p) (global.get $MESSAGE))))

    ;; The result in the return area, or the future value at `at`:
    ;; result<_, error-code> or result<T, error-code> with T 4-aligned has
    ;; its case at 0 and the error-code's case at 4. Returns 1 on err.
    (func $failed-at (param $at i32) (param $what i32) (param $what-len i32) (result i32)
      (if (i32.eqz (i32.load8_u (local.get $at))) (then (return (i32.const 0))))
      (call $fail (local.get $what) (local.get $what-len) (i32.load8_u offset=4 (local.get $at)))
      (i32.const 1))

    ;; ---- arguments ----

    ;; The decimal number in the string (ptr, len), or -1 if it is not one
    ;; below 10^8.
    (func $atoi (param $ptr i32) (param $len i32) (result i32)
      (local $v i32) (local $d i32)
      (if (i32.or (i32.eqz (local.get $len)) (i32.gt_u (local.get $len) (i32.const 8)))
        (then (return (i32.const -1))))
      (loop $digit
        (local.set $d (i32.sub (i32.load8_u (local.get $ptr)) (i32.const 48)))
        (if (i32.gt_u (local.get $d) (i32.const 9)) (then (return (i32.const -1))))
        (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10)) (local.get $d)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br_if $digit (local.get $len)))
      (local.get $v))

    ;; Reads [PORT [CONNECTIONS]] (after argv[0]); returns the port, or -1
    ;; after a failure.
    (func $parse-arguments (result i32)
      (local $list i32) (local $count i32) (local $port i32)
      (call $get-arguments (global.get $RET))
      (local.set $list (i32.load (global.get $RET)))
      (local.set $count (i32.load offset=4 (global.get $RET)))
      (if (i32.gt_u (local.get $count) (i32.const 3))
        (then (call $fail (i32.const 0x330) (i32.const 9) (local.get $count)) (return (i32.const -1))))
      (if (i32.gt_u (local.get $count) (i32.const 1))
        (then
          (local.set $port (call $atoi (i32.load offset=8 (local.get $list)) (i32.load offset=12 (local.get $list))))
          (if (i32.gt_u (local.get $port) (i32.const 65535))
            (then (call $fail (i32.const 0x330) (i32.const 9) (i32.const 1)) (return (i32.const -1))))))
      (if (i32.gt_u (local.get $count) (i32.const 2))
        (then
          (global.set $limit (call $atoi (i32.load offset=16 (local.get $list)) (i32.load offset=20 (local.get $list))))
          (if (i32.lt_s (global.get $limit) (i32.const 0))
            (then (call $fail (i32.const 0x330) (i32.const 9) (i32.const 2)) (return (i32.const -1))))))
      (local.get $port))

    ;; ---- connections ----

    (func $slot (param $s i32) (result i32)
      (i32.add (global.get $SLOTS) (i32.shl (local.get $s) (i32.const 7))))

    (func $buffer (param $s i32) (result i32)
      (i32.shl (i32.add (global.get $BUFFERS_PAGE) (local.get $s)) (i32.const 16)))

    (func $map-entry (param $h i32) (result i32)
      ;; Handles index one table; the map covers the first 64 Ki.
      (if (i32.ge_u (local.get $h) (global.get $MAP_LENGTH)) (then unreachable))
      (i32.add (global.get $MAP) (i32.shl (local.get $h) (i32.const 2))))

    (func $map (param $h i32) (param $value i32)
      (i32.store (call $map-entry (local.get $h)) (local.get $value)))

    ;; A free slot (its buffer grown the first time), or -1.
    (func $alloc-slot (result i32)
      (local $s i32)
      (if (i32.ge_s (global.get $free) (i32.const 0))
        (then
          (local.set $s (global.get $free))
          (global.set $free (i32.load offset=40 (call $slot (local.get $s))))
          (return (local.get $s))))
      (if (i32.ge_u (global.get $slots) (global.get $MAX_SLOTS)) (then (return (i32.const -1))))
      (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then (return (i32.const -1))))
      (global.set $slots (i32.add (global.get $slots) (i32.const 1)))
      (i32.sub (global.get $slots) (i32.const 1)))

    ;; Starts echoing on an accepted socket.
    (func $start-connection (param $socket i32)
      (local $s i32) (local $a i32) (local $ends i64) (local $r i32)
      (global.set $accepted (i32.add (global.get $accepted) (i32.const 1)))
      (local.set $s (call $alloc-slot))
      (if (i32.lt_s (local.get $s) (i32.const 0))
        (then
          (call $drop-socket (local.get $socket))
          (global.set $finished (i32.add (global.get $finished) (i32.const 1)))
          (call $fail (i32.const 0x3c0) (i32.const 17) (global.get $slots))
          (return)))
      (local.set $a (call $slot (local.get $s)))
      (i32.store (local.get $a) (local.get $socket))
      (call $receive (local.get $socket) (global.get $RET))
      (i32.store offset=4 (local.get $a) (i32.load (global.get $RET)))
      (i32.store offset=16 (local.get $a) (i32.load offset=4 (global.get $RET)))
      (local.set $ends (call $bytes-new))
      (i32.store offset=8 (local.get $a) (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (i32.store offset=12 (local.get $a) (call $send (local.get $socket) (i32.wrap_i64 (local.get $ends))))
      (i32.store offset=20 (local.get $a) (global.get $READING))
      (i32.store offset=32 (local.get $a) (i32.const 3))  ;; the echo and two futures
      (i32.store offset=36 (local.get $a) (i32.const 0))
      (call $map (i32.load offset=4 (local.get $a)) (i32.or (i32.shl (local.get $s) (i32.const 3)) (global.get $RX)))
      (call $map (i32.load offset=8 (local.get $a)) (i32.or (i32.shl (local.get $s) (i32.const 3)) (global.get $TX)))
      (call $map (i32.load offset=12 (local.get $a))
        (i32.or (i32.shl (local.get $s) (i32.const 3)) (global.get $SEND_FUTURE)))
      (call $map (i32.load offset=16 (local.get $a))
        (i32.or (i32.shl (local.get $s) (i32.const 3)) (global.get $RECEIVE_FUTURE)))
      (call $waitable-join (i32.load offset=4 (local.get $a)) (global.get $ws))
      (call $waitable-join (i32.load offset=8 (local.get $a)) (global.get $ws))
      (call $waitable-join (i32.load offset=12 (local.get $a)) (global.get $ws))
      (call $waitable-join (i32.load offset=16 (local.get $a)) (global.get $ws))
      (local.set $r (call $outcome-read (i32.load offset=12 (local.get $a)) (i32.add (local.get $a) (i32.const 64))))
      (if (i32.ne (local.get $r) (global.get $BLOCKED))
        (then (call $future-done (local.get $s) (global.get $SEND_FUTURE) (local.get $r))))
      (local.set $r (call $outcome-read (i32.load offset=16 (local.get $a)) (i32.add (local.get $a) (i32.const 96))))
      (if (i32.ne (local.get $r) (global.get $BLOCKED))
        (then (call $future-done (local.get $s) (global.get $RECEIVE_FUTURE) (local.get $r))))
      (call $pump (local.get $s)))

    ;; One of the three things a connection waits for is over; after the
    ;; last, its socket goes and the slot is free again.
    (func $settle (param $s i32)
      (local $a i32)
      (local.set $a (call $slot (local.get $s)))
      (i32.store offset=32 (local.get $a) (i32.sub (i32.load offset=32 (local.get $a)) (i32.const 1)))
      (if (i32.load offset=32 (local.get $a)) (then (return)))
      (call $map (i32.load offset=12 (local.get $a)) (i32.const 0))
      (call $map (i32.load offset=16 (local.get $a)) (i32.const 0))
      (call $outcome-drop-readable (i32.load offset=12 (local.get $a)))
      (call $outcome-drop-readable (i32.load offset=16 (local.get $a)))
      (call $drop-socket (i32.load (local.get $a)))
      (i32.store offset=40 (local.get $a) (global.get $free))
      (global.set $free (local.get $s))
      (global.set $finished (i32.add (global.get $finished) (i32.const 1))))

    ;; A future of slot `s` (kind SEND_FUTURE or RECEIVE_FUTURE) resolved
    ;; with copy result `r`: an err value counts as a failed connection.
    (func $future-done (param $s i32) (param $kind i32) (param $r i32)
      (local $value i32)
      (local.set $value (i32.add (call $slot (local.get $s))
        (select (i32.const 64) (i32.const 96) (i32.eq (local.get $kind) (global.get $SEND_FUTURE)))))
      (if (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (global.get $DROPPED))
        (then  ;; the host dropped it without a value
          (global.set $failures (i32.add (global.get $failures) (i32.const 1)))
          (global.set $last-error (i32.const 99)))
        (else
          (if (i32.load8_u (local.get $value))
            (then
              (global.set $failures (i32.add (global.get $failures) (i32.const 1)))
              (global.set $last-error (i32.load8_u offset=4 (local.get $value)))))))
      (call $settle (local.get $s)))

    ;; The receive stream of slot `s` delivered `r` (copy result, count << 4).
    (func $read-done (param $s i32) (param $r i32)
      (local $a i32) (local $n i32)
      (local.set $a (call $slot (local.get $s)))
      (local.set $n (i32.shr_u (local.get $r) (i32.const 4)))
      (if (local.get $n)
        (then
          (i32.store offset=24 (local.get $a) (i32.const 0))
          (i32.store offset=28 (local.get $a) (local.get $n))
          (i32.store offset=20 (local.get $a) (global.get $WRITING))))
      (if (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (global.get $DROPPED))
        (then
          (i32.store offset=36 (local.get $a) (i32.const 1))
          (if (i32.eqz (local.get $n)) (then (i32.store offset=20 (local.get $a) (global.get $CLOSING)))))))

    ;; The send stream of slot `s` took `r` (copy result, count << 4).
    (func $write-done (param $s i32) (param $r i32)
      (local $a i32) (local $off i32)
      (local.set $a (call $slot (local.get $s)))
      (local.set $off (i32.add (i32.load offset=24 (local.get $a)) (i32.shr_u (local.get $r) (i32.const 4))))
      (i32.store offset=24 (local.get $a) (local.get $off))
      (if (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (global.get $DROPPED))
        (then (i32.store offset=20 (local.get $a) (global.get $CLOSING)) (return)))
      (if (i32.ge_u (local.get $off) (i32.load offset=28 (local.get $a)))
        (then (i32.store offset=20 (local.get $a)
          (select (global.get $CLOSING) (global.get $READING) (i32.load offset=36 (local.get $a)))))))

    ;; Moves slot `s` on until a read or write blocks:
    ;; READING -> WRITING (some bytes) -> READING ..., and CLOSING once the
    ;; receive stream ended and all was written (or send's stream went).
    (func $pump (param $s i32)
      (local $a i32) (local $state i32) (local $r i32)
      (local.set $a (call $slot (local.get $s)))
      (loop $next
        (local.set $state (i32.load offset=20 (local.get $a)))
        (if (i32.eq (local.get $state) (global.get $READING))
          (then
            (local.set $r (call $bytes-read (i32.load offset=4 (local.get $a))
              (call $buffer (local.get $s)) (global.get $BUFFER_SIZE)))
            (if (i32.eq (local.get $r) (global.get $BLOCKED)) (then (return)))
            (call $read-done (local.get $s) (local.get $r))
            (br $next)))
        (if (i32.eq (local.get $state) (global.get $WRITING))
          (then
            (local.set $r (call $bytes-write (i32.load offset=8 (local.get $a))
              (i32.add (call $buffer (local.get $s)) (i32.load offset=24 (local.get $a)))
              (i32.sub (i32.load offset=28 (local.get $a)) (i32.load offset=24 (local.get $a)))))
            (if (i32.eq (local.get $r) (global.get $BLOCKED)) (then (return)))
            (call $write-done (local.get $s) (local.get $r))
            (br $next)))
        (if (i32.eq (local.get $state) (global.get $CLOSING))
          (then
            (call $map (i32.load offset=4 (local.get $a)) (i32.const 0))
            (call $map (i32.load offset=8 (local.get $a)) (i32.const 0))
            (call $bytes-drop-readable (i32.load offset=4 (local.get $a)))
            ;; The host shuts down writing once it sent what it took.
            (call $bytes-drop-writable (i32.load offset=8 (local.get $a)))
            (i32.store offset=20 (local.get $a) (global.get $CLOSED))
            (call $settle (local.get $s))))))

    ;; ---- the listener ----

    ;; The accept stream delivered `r` (copy result, count << 4) sockets.
    (func $accept-done (param $r i32)
      (local $i i32)
      (block $all
        (loop $each
          (br_if $all (i32.ge_u (local.get $i) (i32.shr_u (local.get $r) (i32.const 4))))
          (call $start-connection (i32.load (i32.add (global.get $ACCEPTED) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $each)))
      (if (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (global.get $DROPPED))
        (then
          (call $accepts-drop-readable (global.get $accepts))
          (global.set $accepts (i32.const 0))
          (call $fail (i32.const 0x3b0) (i32.const 6) (global.get $accepted)))))

    ;; Reads sockets until the read blocks; stops listening after $limit.
    (func $accept-more
      (local $r i32)
      (loop $more
        (if (i32.eqz (global.get $accepts)) (then (return)))
        (if (i32.ge_u (global.get $accepted) (global.get $limit))
          (then
            (call $accepts-drop-readable (global.get $accepts))
            (global.set $accepts (i32.const 0))
            (call $drop-socket (global.get $listener))
            (return)))
        (local.set $r (call $accepts-read (global.get $accepts) (global.get $ACCEPTED)
          (select (i32.sub (global.get $limit) (global.get $accepted)) (i32.const 16)
            (i32.lt_u (i32.sub (global.get $limit) (global.get $accepted)) (i32.const 16)))))
        (if (i32.eq (local.get $r) (global.get $BLOCKED)) (then (return)))
        (call $accept-done (local.get $r))
        (br $more)))

    ;; ---- the task ----

    ;; What the callback returns: EXIT once all is done (or a failure is
    ;; written), else WAIT on the set.
    (func $next (result i32)
      (local $done i32)
      (if (global.get $failed)
        (then
          (if (i32.load (call $writer (i32.const 1)))
            (then (return (i32.or (global.get $WAIT) (i32.shl (global.get $ws) (i32.const 4))))))
          (call $task-return (i32.const 1))
          (return (i32.const 0))))
      (local.set $done (i32.and
        (i32.and (i32.eq (global.get $accepted) (global.get $limit)) (i32.eq (global.get $finished) (global.get $limit)))
        (i32.eqz (i32.load (call $writer (i32.const 0))))))
      (if (i32.eqz (local.get $done))
        (then (return (i32.or (global.get $WAIT) (i32.shl (global.get $ws) (i32.const 4))))))
      (if (global.get $failures)
        (then
          (call $fail (i32.const 0x3e0) (i32.const 12) (global.get $last-error))
          (return (call $next))))
      (call $task-return (i32.const 0))
      (i32.const 0))

    (func (export "run") (result i32)
      (local $port i32) (local $n i32)
      (global.set $ws (call $waitable-set-new))
      (block $failed
        (local.set $port (call $parse-arguments))
        (br_if $failed (i32.lt_s (local.get $port) (i32.const 0)))
        (call $create (i32.const 0) (global.get $RET))  ;; ipv4
        (br_if $failed (call $failed-at (global.get $RET) (i32.const 0x340) (i32.const 6)))
        (global.set $listener (i32.load offset=4 (global.get $RET)))
        (call $bind (global.get $listener)
          (i32.const 0) (local.get $port) (i32.const 127) (i32.const 0) (i32.const 0) (i32.const 1)
          (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
          (global.get $RET))
        (br_if $failed (call $failed-at (global.get $RET) (i32.const 0x350) (i32.const 4)))
        ;; Connections are taken one per read of the accept stream: a burst
        ;; of thousands of connects waits in the backlog (Linux caps it at
        ;; net.core.somaxconn).
        (call $set-backlog (global.get $listener) (i64.const 4096) (global.get $RET))
        (br_if $failed (call $failed-at (global.get $RET) (i32.const 0x360) (i32.const 23)))
        (call $listen (global.get $listener) (global.get $RET))
        (br_if $failed (call $failed-at (global.get $RET) (i32.const 0x380) (i32.const 6)))
        (global.set $accepts (i32.load offset=4 (global.get $RET)))
        ;; ok(ipv4({port, address})): the port at 8
        (call $local-address (global.get $listener) (global.get $RET))
        (br_if $failed (call $failed-at (global.get $RET) (i32.const 0x390) (i32.const 17)))
        (local.set $n (call $utoa (i32.add (global.get $LINE) (i32.const 33)) (i32.load16_u offset=8 (global.get $RET))))
        (i32.store8 (i32.add (global.get $LINE) (i32.add (i32.const 33) (local.get $n))) (i32.const 10))
        (call $print (i32.const 0) (global.get $LINE) (i32.add (i32.const 34) (local.get $n)))
        (call $waitable-join (global.get $accepts) (global.get $ws))
        (call $accept-more))
      (global.set $heap (global.get $HEAP))
      (call $next))

    (func (export "run-callback") (param $event i32) (param $index i32) (param $payload i32) (result i32)
      (local $entry i32) (local $s i32) (local $kind i32)
      (global.set $heap (global.get $HEAP))
      (block $handled
        (if (i32.and (i32.eq (local.get $event) (global.get $STREAM_READ)) (i32.eq (local.get $index) (global.get $accepts)))
          (then
            (call $accept-done (local.get $payload))
            (call $accept-more)
            (br $handled)))
        (if (i32.eq (local.get $event) (global.get $STREAM_WRITE))
          (then
            (if (i32.eq (local.get $index) (i32.load (call $writer (i32.const 0))))
              (then
                (call $print-done (i32.const 0) (local.get $payload))
                (call $print-pump (i32.const 0))
                (br $handled)))
            (if (i32.eq (local.get $index) (i32.load (call $writer (i32.const 1))))
              (then
                (call $print-done (i32.const 1) (local.get $payload))
                (call $print-pump (i32.const 1))
                (br $handled)))))
        (local.set $entry (i32.load (call $map-entry (local.get $index))))
        ;; No other event (a cancelled task included) is expected.
        (if (i32.eqz (local.get $entry)) (then unreachable))
        (local.set $s (i32.shr_u (local.get $entry) (i32.const 3)))
        (local.set $kind (i32.and (local.get $entry) (i32.const 7)))
        (if (i32.and (i32.eq (local.get $event) (global.get $STREAM_READ)) (i32.eq (local.get $kind) (global.get $RX)))
          (then
            (call $read-done (local.get $s) (local.get $payload))
            (call $pump (local.get $s))
            (br $handled)))
        (if (i32.and (i32.eq (local.get $event) (global.get $STREAM_WRITE)) (i32.eq (local.get $kind) (global.get $TX)))
          (then
            (call $write-done (local.get $s) (local.get $payload))
            (call $pump (local.get $s))
            (br $handled)))
        (if (i32.and (i32.eq (local.get $event) (global.get $FUTURE_READ)) (i32.ge_u (local.get $kind) (global.get $SEND_FUTURE)))
          (then
            (call $future-done (local.get $s) (local.get $kind) (local.get $payload))
            (br $handled)))
        unreachable)
      (call $next)))
  (core instance $main-instance (instantiate $main
    (with "env" (instance (export "memory" (memory $mem)) (export "heap" (global $heap))))
    (with "wasi" (instance $wasi))))

  (func $run async (result $run-result)
    (canon lift (core func $main-instance "run") async (callback (core func $main-instance "run-callback"))))
  (instance $cli-run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $cli-run)))
