;; stdin -> stdout through WASI 0.3 streams, with the callback ABI: run gets
;; stdin's stream<u8> (read-via-stream), hands the readable end of a stream
;; of its own to stdout (write-via-stream) and copies in chunks of up to
;; 64 KiB through one buffer of its memory. Every blocked read, write or
;; future read returns WAIT on the one waitable set; the callback resumes the
;; copy. At stdin's end it checks stdin's future, drops its writer and waits
;; for stdout's future to say ok. If stdout drops the stream (a write
;; failed), stdout's future must say error and run returns err (exit
;; status 1). Traps (unreachable) on any unexpected code. The throughput
;; guest of bench/stdio.sh.
(component $copy
  (import "wasi:cli/types@0.3.0" (instance $types
    (type $error-code (enum "io" "illegal-byte-sequence" "pipe"))
    (export "error-code" (type (eq $error-code)))))
  (alias export $types "error-code" (type $error-code))
  (import "wasi:cli/stdin@0.3.0" (instance $stdin
    (alias outer $copy $error-code (type $error-code-outer))
    (export "error-code" (type $error-code-in (eq $error-code-outer)))
    (type $result (result (error $error-code-in)))
    (export "read-via-stream" (func (result (tuple (stream u8) (future $result)))))))
  (import "wasi:cli/stdout@0.3.0" (instance $stdout
    (alias outer $copy $error-code (type $error-code-outer))
    (export "error-code" (type $error-code-in (eq $error-code-outer)))
    (type $result (result (error $error-code-in)))
    (export "write-via-stream" (func (param "data" (stream u8)) (result (future $result))))))

  (type $bytes (stream u8))
  (type $io-result (result (error $error-code)))
  (type $done (future $io-result))
  (type $run-result (result))

  (core module $mem-module (memory (export "memory") 2))
  (core instance $mem-instance (instantiate $mem-module))
  (alias core export $mem-instance "memory" (core memory $mem))

  (core func $read-via-stream (canon lower (func $stdin "read-via-stream") (memory $mem)))
  (core func $write-via-stream (canon lower (func $stdout "write-via-stream")))
  (core func $stream.new (canon stream.new $bytes))
  (core func $stream.read (canon stream.read $bytes async (memory $mem)))
  (core func $stream.write (canon stream.write $bytes async (memory $mem)))
  (core func $stream.drop-readable (canon stream.drop-readable $bytes))
  (core func $stream.drop-writable (canon stream.drop-writable $bytes))
  (core func $future.read (canon future.read $done async (memory $mem)))
  (core func $future.drop-readable (canon future.drop-readable $done))
  (core func $waitable-set.new (canon waitable-set.new))
  (core func $waitable.join (canon waitable.join))
  (core func $task.return (canon task.return (result $run-result)))
  (core instance $wasi
    (export "read-via-stream" (func $read-via-stream))
    (export "write-via-stream" (func $write-via-stream))
    (export "stream.new" (func $stream.new))
    (export "stream.read" (func $stream.read))
    (export "stream.write" (func $stream.write))
    (export "stream.drop-readable" (func $stream.drop-readable))
    (export "stream.drop-writable" (func $stream.drop-writable))
    (export "future.read" (func $future.read))
    (export "future.drop-readable" (func $future.drop-readable))
    (export "waitable-set.new" (func $waitable-set.new))
    (export "waitable.join" (func $waitable.join))
    (export "task.return" (func $task.return)))

  (core module $main
    (import "env" "memory" (memory 2))
    (import "wasi" "read-via-stream" (func $read-via-stream (param i32)))
    (import "wasi" "write-via-stream" (func $write-via-stream (param i32) (result i32)))
    (import "wasi" "stream.new" (func $stream.new (result i64)))
    (import "wasi" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
    (import "wasi" "stream.write" (func $stream.write (param i32 i32 i32) (result i32)))
    (import "wasi" "stream.drop-readable" (func $stream.drop-readable (param i32)))
    (import "wasi" "stream.drop-writable" (func $stream.drop-writable (param i32)))
    (import "wasi" "future.read" (func $future.read (param i32 i32) (result i32)))
    (import "wasi" "future.drop-readable" (func $future.drop-readable (param i32)))
    (import "wasi" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "wasi" "waitable.join" (func $waitable.join (param i32 i32)))
    (import "wasi" "task.return" (func $task.return (param i32)))

    ;; Memory: 16..23 read-via-stream's (stream, future); 32..33 stdin's
    ;; result<_, error-code>, 34..35 stdout's; 64 KiB..128 KiB the buffer.
    (global $buffer i32 (i32.const 65536))
    (global $buffer-size i32 (i32.const 65536))
    (global $BLOCKED i32 (i32.const -1))
    (global $in (mut i32) (i32.const 0))          ;; stdin's stream
    (global $in-done (mut i32) (i32.const 0))     ;; stdin's future
    (global $out (mut i32) (i32.const 0))         ;; the writable end given to stdout
    (global $out-done (mut i32) (i32.const 0))    ;; stdout's future
    (global $set (mut i32) (i32.const 0))
    (global $pending (mut i32) (i32.const 0))     ;; bytes read, not yet written
    (global $offset (mut i32) (i32.const 0))      ;; where they start in the buffer
    (global $end (mut i32) (i32.const 0))         ;; stdin's writer dropped
    (global $failed (mut i32) (i32.const 0))      ;; stdout dropped its reader
    ;; 0 copying, 1 reading stdin's future, 2 reading stdout's, 3 done
    (global $phase (mut i32) (i32.const 0))

    (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))

    ;; A stream.read's result (COMPLETED or DROPPED | count << 4).
    (func $read-done (param $r i32)
      (local $count i32)
      (local.set $count (i32.shr_u (local.get $r) (i32.const 4)))
      (call $check (i32.le_u (local.get $count) (global.get $buffer-size)))
      (if (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1 (; DROPPED ;)))
        (then (global.set $end (i32.const 1)))
        (else (call $check (i32.eqz (i32.and (local.get $r) (i32.const 0xf))))))
      (global.set $pending (local.get $count))
      (global.set $offset (i32.const 0)))

    ;; A stream.write's result: COMPLETED, maybe partial, or DROPPED: stdout
    ;; failed, so stop reading and wait for stdout's future.
    (func $write-done (param $w i32)
      (local $count i32)
      (local.set $count (i32.shr_u (local.get $w) (i32.const 4)))
      (call $check (i32.le_u (local.get $count) (global.get $pending)))
      (if (i32.eq (i32.and (local.get $w) (i32.const 0xf)) (i32.const 1 (; DROPPED ;)))
        (then
          (global.set $failed (i32.const 1))
          (call $stream.drop-readable (global.get $in))
          (call $future.drop-readable (global.get $in-done))
          (call $stream.drop-writable (global.get $out))
          (global.set $phase (i32.const 2))
          (return)))
      (call $check (i32.eqz (i32.and (local.get $w) (i32.const 0xf))))
      (global.set $offset (i32.add (global.get $offset) (local.get $count)))
      (global.set $pending (i32.sub (global.get $pending) (local.get $count))))

    ;; A future.read's result: COMPLETED, and the value at $at is ok.
    (func $check-ok (param $r i32) (param $at i32)
      (call $check (i32.eqz (local.get $r)))
      (call $check (i32.eqz (i32.load8_u (local.get $at)))))

    (func $stdin-done (param $r i32)
      (call $check-ok (local.get $r) (i32.const 32))
      (call $future.drop-readable (global.get $in-done))
      ;; Dropping the writer ends stdout's stream; its future then resolves.
      (call $stream.drop-writable (global.get $out))
      (global.set $phase (i32.const 2)))

    ;; stdout's future: ok, or error after it dropped the stream.
    (func $stdout-done (param $r i32)
      (call $check (i32.eqz (local.get $r (; COMPLETED ;))))
      (call $check (i32.eq (i32.load8_u (i32.const 34)) (global.get $failed)))
      (call $future.drop-readable (global.get $out-done))
      (global.set $phase (i32.const 3)))

    ;; Goes on until an operation blocks (WAIT on the set) or all is done
    ;; (task.return, EXIT).
    (func $pump (result i32)
      (local $r i32)
      (local $wait i32)
      (local.set $wait (i32.or (i32.shl (global.get $set) (i32.const 4)) (i32.const 2 (; WAIT ;))))
      (loop $next
        (if (i32.eqz (global.get $phase))
          (then
            (if (global.get $pending)
              (then
                (local.set $r (call $stream.write (global.get $out)
                  (i32.add (global.get $buffer) (global.get $offset)) (global.get $pending)))
                (if (i32.eq (local.get $r) (global.get $BLOCKED)) (then (return (local.get $wait))))
                (call $write-done (local.get $r))
                (br $next)))
            (if (i32.eqz (global.get $end))
              (then
                (local.set $r (call $stream.read (global.get $in) (global.get $buffer) (global.get $buffer-size)))
                (if (i32.eq (local.get $r) (global.get $BLOCKED)) (then (return (local.get $wait))))
                (call $read-done (local.get $r))
                (br $next)))
            (call $stream.drop-readable (global.get $in))
            (global.set $phase (i32.const 1))
            (local.set $r (call $future.read (global.get $in-done) (i32.const 32)))
            (if (i32.eq (local.get $r) (global.get $BLOCKED)) (then (return (local.get $wait))))
            (call $stdin-done (local.get $r))))
        (if (i32.eq (global.get $phase) (i32.const 2))
          (then
            (local.set $r (call $future.read (global.get $out-done) (i32.const 34)))
            (if (i32.eq (local.get $r) (global.get $BLOCKED)) (then (return (local.get $wait))))
            (call $stdout-done (local.get $r)))))
      (call $check (i32.eq (global.get $phase) (i32.const 3)))
      (call $task.return (global.get $failed (; ok or err ;)))
      (i32.const 0 (; EXIT ;)))

    (func (export "run") (result i32)
      (local $ends i64)
      (call $read-via-stream (i32.const 16))
      (global.set $in (i32.load (i32.const 16)))
      (global.set $in-done (i32.load (i32.const 20)))
      (local.set $ends (call $stream.new))
      (global.set $out (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (global.set $out-done (call $write-via-stream (i32.wrap_i64 (local.get $ends))))
      (global.set $set (call $waitable-set.new))
      (call $waitable.join (global.get $in) (global.get $set))
      (call $waitable.join (global.get $in-done) (global.get $set))
      (call $waitable.join (global.get $out) (global.get $set))
      (call $waitable.join (global.get $out-done) (global.get $set))
      (call $pump))

    ;; The event of one blocked operation; each waitable has at most one.
    (func (export "callback") (param $event i32) (param $index i32) (param $payload i32) (result i32)
      (block $dispatched
        (if (i32.eq (local.get $event) (i32.const 2 (; STREAM_READ ;)))
          (then
            (call $check (i32.eq (local.get $index) (global.get $in)))
            (call $read-done (local.get $payload))
            (br $dispatched)))
        (if (i32.eq (local.get $event) (i32.const 3 (; STREAM_WRITE ;)))
          (then
            (call $check (i32.eq (local.get $index) (global.get $out)))
            (call $write-done (local.get $payload))
            (br $dispatched)))
        (call $check (i32.eq (local.get $event) (i32.const 4 (; FUTURE_READ ;))))
        (if (i32.and (i32.eq (local.get $index) (global.get $in-done))
                     (i32.eq (global.get $phase) (i32.const 1)))
          (then
            (call $stdin-done (local.get $payload))
            (br $dispatched)))
        (call $check (i32.eq (local.get $index) (global.get $out-done)))
        (call $check (i32.eq (global.get $phase) (i32.const 2)))
        (call $stdout-done (local.get $payload)))
      (call $pump)))
  (core instance $main-instance (instantiate $main
    (with "env" (instance (export "memory" (memory $mem))))
    (with "wasi" (instance $wasi))))

  (func $run async (result $run-result)
    (canon lift (core func $main-instance "run") async
      (callback (core func $main-instance "callback"))))
  (instance $cli-run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $cli-run)))
