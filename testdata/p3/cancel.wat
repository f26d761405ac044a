;; Cancellation against the WASI 0.3 host; stdin must be a pipe that stays
;; open and empty (cancel.stdin-open). run checks, then returns ok:
;;   (a) an async stream.read of stdin's stream returns BLOCKED and
;;       stream.cancel-read then returns CANCELLED with nothing read;
;;   (b) subtask.cancel of a pending 10 s wait-for returns
;;       CANCELLED_BEFORE_RETURNED at once (well under 1 s);
;;   (c) the same with `subtask.cancel async` on a subtask in a waitable set:
;;       CANCELLED_BEFORE_RETURNED either at once or as its SUBTASK event.
;; Traps (unreachable) on any mismatch.
(component $cancel
  (import "wasi:cli/types@0.3.0" (instance $types
    (type $error-code (enum "io" "illegal-byte-sequence" "pipe"))
    (export "error-code" (type (eq $error-code)))))
  (alias export $types "error-code" (type $error-code))
  (import "wasi:cli/stdin@0.3.0" (instance $stdin
    (alias outer $cancel $error-code (type $error-code-outer))
    (export "error-code" (type $error-code-in (eq $error-code-outer)))
    (type $result (result (error $error-code-in)))
    (export "read-via-stream" (func (result (tuple (stream u8) (future $result)))))))
  (import "wasi:clocks/types@0.3.0" (instance $clock-types
    (type $duration u64)
    (export "duration" (type (eq $duration)))))
  (alias export $clock-types "duration" (type $duration))
  (import "wasi:clocks/monotonic-clock@0.3.0" (instance $clock
    (alias outer $cancel $duration (type $duration-outer))
    (export "duration" (type $duration-in (eq $duration-outer)))
    (type $mark-type u64)
    (export "mark" (type $mark (eq $mark-type)))
    (export "now" (func (result $mark)))
    (export "wait-for" (func async (param "how-long" $duration-in)))))

  (type $bytes (stream u8))
  (type $io-result (result (error $error-code)))
  (type $done (future $io-result))
  (type $run-result (result))

  (core module $mem-module (memory (export "memory") 1))
  (core instance $mem-instance (instantiate $mem-module))
  (alias core export $mem-instance "memory" (core memory $mem))

  (core func $read-via-stream (canon lower (func $stdin "read-via-stream") (memory $mem)))
  (core func $now (canon lower (func $clock "now")))
  (core func $wait-for (canon lower (func $clock "wait-for") async (memory $mem)))
  (core func $stream.read (canon stream.read $bytes async (memory $mem)))
  (core func $stream.cancel-read (canon stream.cancel-read $bytes))
  (core func $stream.drop-readable (canon stream.drop-readable $bytes))
  (core func $future.drop-readable (canon future.drop-readable $done))
  (core func $subtask.cancel (canon subtask.cancel))
  (core func $subtask.cancel-async (canon subtask.cancel async))
  (core func $subtask.drop (canon subtask.drop))
  (core func $waitable-set.new (canon waitable-set.new))
  (core func $waitable-set.wait (canon waitable-set.wait (memory $mem)))
  (core func $waitable-set.drop (canon waitable-set.drop))
  (core func $waitable.join (canon waitable.join))
  (core func $task.return (canon task.return (result $run-result)))
  (core instance $wasi
    (export "read-via-stream" (func $read-via-stream))
    (export "now" (func $now))
    (export "wait-for" (func $wait-for))
    (export "stream.read" (func $stream.read))
    (export "stream.cancel-read" (func $stream.cancel-read))
    (export "stream.drop-readable" (func $stream.drop-readable))
    (export "future.drop-readable" (func $future.drop-readable))
    (export "subtask.cancel" (func $subtask.cancel))
    (export "subtask.cancel-async" (func $subtask.cancel-async))
    (export "subtask.drop" (func $subtask.drop))
    (export "waitable-set.new" (func $waitable-set.new))
    (export "waitable-set.wait" (func $waitable-set.wait))
    (export "waitable-set.drop" (func $waitable-set.drop))
    (export "waitable.join" (func $waitable.join))
    (export "task.return" (func $task.return)))

  (core module $main
    (import "env" "memory" (memory 1))
    (import "wasi" "read-via-stream" (func $read-via-stream (param i32)))
    (import "wasi" "now" (func $now (result i64)))
    (import "wasi" "wait-for" (func $wait-for (param i64) (result i32)))
    (import "wasi" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
    (import "wasi" "stream.cancel-read" (func $stream.cancel-read (param i32) (result i32)))
    (import "wasi" "stream.drop-readable" (func $stream.drop-readable (param i32)))
    (import "wasi" "future.drop-readable" (func $future.drop-readable (param i32)))
    (import "wasi" "subtask.cancel" (func $subtask.cancel (param i32) (result i32)))
    (import "wasi" "subtask.cancel-async" (func $subtask.cancel-async (param i32) (result i32)))
    (import "wasi" "subtask.drop" (func $subtask.drop (param i32)))
    (import "wasi" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "wasi" "waitable-set.wait" (func $waitable-set.wait (param i32 i32) (result i32)))
    (import "wasi" "waitable-set.drop" (func $waitable-set.drop (param i32)))
    (import "wasi" "waitable.join" (func $waitable.join (param i32 i32)))
    (import "wasi" "task.return" (func $task.return (param i32)))

    (global $BLOCKED i32 (i32.const -1))
    (global $ten-seconds i64 (i64.const 10000000000))
    (global $one-second i64 (i64.const 1000000000))

    (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))

    ;; Memory: 16..23 read-via-stream's (stream, future); 32..39 an event's
    ;; (index, payload); 1024.. the read buffer, which must stay untouched.
    (func $cancel-read
      (local $in i32)
      (call $read-via-stream (i32.const 16))
      (local.set $in (i32.load (i32.const 16)))
      (i32.store (i32.const 1024) (i32.const 0x5a5a5a5a))
      (call $check (i32.eq (call $stream.read (local.get $in) (i32.const 1024) (i32.const 100))
                           (global.get $BLOCKED)))
      (call $check (i32.eq (call $stream.cancel-read (local.get $in)) (i32.const 2 (; CANCELLED, 0 read ;))))
      (call $check (i32.eq (i32.load (i32.const 1024)) (i32.const 0x5a5a5a5a)))
      (call $stream.drop-readable (local.get $in))
      (call $future.drop-readable (i32.load (i32.const 20))))

    ;; Starts a 10 s wait; returns its subtask.
    (func $start-long-wait (result i32)
      (local $r i32)
      (local.set $r (call $wait-for (global.get $ten-seconds)))
      (call $check (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1 (; STARTED ;))))
      (i32.shr_u (local.get $r) (i32.const 4)))

    (func $cancel-wait
      (local $start i64)
      (local $subtask i32)
      (local.set $start (call $now))
      (local.set $subtask (call $start-long-wait))
      (call $check (i32.eq (call $subtask.cancel (local.get $subtask))
                           (i32.const 4 (; CANCELLED_BEFORE_RETURNED ;))))
      (call $check (i64.lt_u (i64.sub (call $now) (local.get $start)) (global.get $one-second)))
      (call $subtask.drop (local.get $subtask)))

    (func $cancel-wait-async
      (local $start i64)
      (local $subtask i32)
      (local $set i32)
      (local $r i32)
      (local.set $start (call $now))
      (local.set $set (call $waitable-set.new))
      (local.set $subtask (call $start-long-wait))
      (call $waitable.join (local.get $subtask) (local.get $set))
      (local.set $r (call $subtask.cancel-async (local.get $subtask)))
      (if (i32.eq (local.get $r) (global.get $BLOCKED))
        (then
          (call $check (i32.eq (call $waitable-set.wait (local.get $set) (i32.const 32))
                               (i32.const 1 (; SUBTASK ;))))
          (call $check (i32.eq (i32.load (i32.const 32)) (local.get $subtask)))
          (local.set $r (i32.load (i32.const 36)))))
      (call $check (i32.eq (local.get $r) (i32.const 4 (; CANCELLED_BEFORE_RETURNED ;))))
      (call $check (i64.lt_u (i64.sub (call $now) (local.get $start)) (global.get $one-second)))
      (call $subtask.drop (local.get $subtask))
      (call $waitable-set.drop (local.get $set)))

    (func (export "run") (result i32)
      (call $cancel-read)
      (call $cancel-wait)
      (call $cancel-wait-async)
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
