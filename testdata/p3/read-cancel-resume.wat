;; Cancelled reads lose no input: run reads stdin's stream<u8> with async
;; stream.read and, the first 50 times one blocks, cancels it at once
;; (stream.cancel-read); later blocked reads wait for their event. Whatever
;; each read or cancel reports as copied (COMPLETED, CANCELLED or DROPPED
;; with a count) is kept; at stdin's end the bytes must be exactly
;; read-cancel-resume.stdin. Traps (unreachable) on any mismatch.
(component $resume
  (import "wasi:cli/types@0.3.0" (instance $types
    (type $error-code (enum "io" "illegal-byte-sequence" "pipe"))
    (export "error-code" (type (eq $error-code)))))
  (alias export $types "error-code" (type $error-code))
  (import "wasi:cli/stdin@0.3.0" (instance $stdin
    (alias outer $resume $error-code (type $error-code-outer))
    (export "error-code" (type $error-code-in (eq $error-code-outer)))
    (type $result (result (error $error-code-in)))
    (export "read-via-stream" (func (result (tuple (stream u8) (future $result)))))))

  (type $bytes (stream u8))
  (type $io-result (result (error $error-code)))
  (type $done (future $io-result))
  (type $run-result (result))

  (core module $mem-module (memory (export "memory") 1))
  (core instance $mem-instance (instantiate $mem-module))
  (alias core export $mem-instance "memory" (core memory $mem))

  (core func $read-via-stream (canon lower (func $stdin "read-via-stream") (memory $mem)))
  (core func $stream.read (canon stream.read $bytes async (memory $mem)))
  (core func $stream.cancel-read (canon stream.cancel-read $bytes))
  (core func $stream.drop-readable (canon stream.drop-readable $bytes))
  (core func $future.read (canon future.read $done async (memory $mem)))
  (core func $future.drop-readable (canon future.drop-readable $done))
  (core func $waitable-set.new (canon waitable-set.new))
  (core func $waitable-set.wait (canon waitable-set.wait (memory $mem)))
  (core func $waitable-set.drop (canon waitable-set.drop))
  (core func $waitable.join (canon waitable.join))
  (core func $task.return (canon task.return (result $run-result)))
  (core instance $wasi
    (export "read-via-stream" (func $read-via-stream))
    (export "stream.read" (func $stream.read))
    (export "stream.cancel-read" (func $stream.cancel-read))
    (export "stream.drop-readable" (func $stream.drop-readable))
    (export "future.read" (func $future.read))
    (export "future.drop-readable" (func $future.drop-readable))
    (export "waitable-set.new" (func $waitable-set.new))
    (export "waitable-set.wait" (func $waitable-set.wait))
    (export "waitable-set.drop" (func $waitable-set.drop))
    (export "waitable.join" (func $waitable.join))
    (export "task.return" (func $task.return)))

  (core module $main
    (import "env" "memory" (memory 1))
    (import "wasi" "read-via-stream" (func $read-via-stream (param i32)))
    (import "wasi" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
    (import "wasi" "stream.cancel-read" (func $stream.cancel-read (param i32) (result i32)))
    (import "wasi" "stream.drop-readable" (func $stream.drop-readable (param i32)))
    (import "wasi" "future.read" (func $future.read (param i32 i32) (result i32)))
    (import "wasi" "future.drop-readable" (func $future.drop-readable (param i32)))
    (import "wasi" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "wasi" "waitable-set.wait" (func $waitable-set.wait (param i32 i32) (result i32)))
    (import "wasi" "waitable-set.drop" (func $waitable-set.drop (param i32)))
    (import "wasi" "waitable.join" (func $waitable.join (param i32 i32)))
    (import "wasi" "task.return" (func $task.return (param i32)))

    ;; Memory: 8..15 an event's (index, payload); 16..23 read-via-stream's
    ;; (stream, future); 24..25 stdin's result; 256.. the expected bytes;
    ;; 1024..2047 what was read.
    (data (i32.const 256) "line one\0aline two, read between cancelled reads\0a")
    (global $expected i32 (i32.const 256))
    (global $expected-size i32 (i32.const 48))
    (global $buffer i32 (i32.const 1024))
    (global $buffer-size i32 (i32.const 1024))
    (global $BLOCKED i32 (i32.const -1))

    (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))

    ;; Waits in a set of its own for the one event of $w, which must be
    ;; $event; returns its payload.
    (func $await (param $w i32) (param $event i32) (result i32)
      (local $set i32)
      (local.set $set (call $waitable-set.new))
      (call $waitable.join (local.get $w) (local.get $set))
      (call $check (i32.eq (call $waitable-set.wait (local.get $set) (i32.const 8)) (local.get $event)))
      (call $check (i32.eq (i32.load (i32.const 8)) (local.get $w)))
      (call $waitable.join (local.get $w) (i32.const 0))
      (call $waitable-set.drop (local.get $set))
      (i32.load (i32.const 12)))

    (func (export "run") (result i32)
      (local $in i32) (local $r i32) (local $total i32) (local $cancels i32) (local $i i32)
      (call $read-via-stream (i32.const 16))
      (local.set $in (i32.load (i32.const 16)))
      (loop $read
        (local.set $r (call $stream.read (local.get $in)
          (i32.add (global.get $buffer) (local.get $total))
          (i32.sub (global.get $buffer-size) (local.get $total))))
        (if (i32.eq (local.get $r) (global.get $BLOCKED))
          (then
            (if (i32.lt_u (local.get $cancels) (i32.const 50))
              (then
                (local.set $cancels (i32.add (local.get $cancels) (i32.const 1)))
                (local.set $r (call $stream.cancel-read (local.get $in))))
              (else (local.set $r (call $await (local.get $in) (i32.const 2 (; STREAM_READ ;))))))))
        ;; COMPLETED, DROPPED or CANCELLED, each with what it copied.
        (call $check (i32.le_u (i32.and (local.get $r) (i32.const 0xf)) (i32.const 2)))
        (local.set $total (i32.add (local.get $total) (i32.shr_u (local.get $r) (i32.const 4))))
        (call $check (i32.lt_u (local.get $total) (global.get $buffer-size)))
        (br_if $read (i32.ne (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1 (; DROPPED ;)))))
      (call $stream.drop-readable (local.get $in))
      (local.set $r (call $future.read (i32.load (i32.const 20)) (i32.const 24)))
      (if (i32.eq (local.get $r) (global.get $BLOCKED))
        (then (local.set $r (call $await (i32.load (i32.const 20)) (i32.const 4 (; FUTURE_READ ;))))))
      (call $check (i32.eqz (local.get $r (; COMPLETED ;))))
      (call $check (i32.eqz (i32.load8_u (i32.const 24) (; ok ;))))
      (call $future.drop-readable (i32.load (i32.const 20)))
      ;; Every byte, in order, once.
      (call $check (i32.eq (local.get $total) (global.get $expected-size)))
      (loop $compare
        (call $check (i32.eq (i32.load8_u (i32.add (global.get $buffer) (local.get $i)))
                             (i32.load8_u (i32.add (global.get $expected) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $compare (i32.lt_u (local.get $i) (local.get $total))))
      (call $task.return (i32.const 0 (; ok ;)))
      (i32.const 0 (; EXIT ;)))
    (func (export "callback") (param i32 i32 i32) (result i32) unreachable))
  (core instance $main-instance (instantiate $main
    (with "env" (instance (export "memory" (memory $mem))))
    (with "wasi" (instance $wasi))))

  (func $run async (result $run-result)
    (canon lift (core func $main-instance "run") async
      (callback (core func $main-instance "callback"))))
  (instance $cli-run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $cli-run)))
