;; Timer fan-out on wasi:clocks@0.3.0 with the callback ABI: run starts
;; eight async-lowered waits at once (wait-for, and wait-until on marks
;; from the same start) of 50..400 ms in a shuffled order, joins their
;; subtasks to one waitable set and returns WAIT. The callback checks that
;; each SUBTASK event says RETURNED, that they arrive shortest first, none
;; before its time, and that all are done well before the sum of the waits
;; (1.8 s): they ran at once. Traps (unreachable) on any mismatch.
(component $timers
  (import "wasi:clocks/types@0.3.0" (instance $clock-types
    (type $duration u64)
    (export "duration" (type (eq $duration)))))
  (alias export $clock-types "duration" (type $duration))
  (import "wasi:clocks/monotonic-clock@0.3.0" (instance $clock
    (alias outer $timers $duration (type $duration-outer))
    (export "duration" (type $duration-in (eq $duration-outer)))
    (type $mark-type u64)
    (export "mark" (type $mark (eq $mark-type)))
    (export "now" (func (result $mark)))
    (export "wait-until" (func async (param "when" $mark)))
    (export "wait-for" (func async (param "how-long" $duration-in)))))

  (type $run-result (result))

  (core module $mem-module (memory (export "memory") 1))
  (core instance $mem-instance (instantiate $mem-module))
  (alias core export $mem-instance "memory" (core memory $mem))

  (core func $now (canon lower (func $clock "now")))
  (core func $wait-for (canon lower (func $clock "wait-for") async (memory $mem)))
  (core func $wait-until (canon lower (func $clock "wait-until") async (memory $mem)))
  (core func $subtask.drop (canon subtask.drop))
  (core func $waitable-set.new (canon waitable-set.new))
  (core func $waitable.join (canon waitable.join))
  (core func $task.return (canon task.return (result $run-result)))
  (core instance $wasi
    (export "now" (func $now))
    (export "wait-for" (func $wait-for))
    (export "wait-until" (func $wait-until))
    (export "subtask.drop" (func $subtask.drop))
    (export "waitable-set.new" (func $waitable-set.new))
    (export "waitable.join" (func $waitable.join))
    (export "task.return" (func $task.return)))

  (core module $main
    (import "env" "memory" (memory 1))
    (import "wasi" "now" (func $now (result i64)))
    (import "wasi" "wait-for" (func $wait-for (param i64) (result i32)))
    (import "wasi" "wait-until" (func $wait-until (param i64) (result i32)))
    (import "wasi" "subtask.drop" (func $subtask.drop (param i32)))
    (import "wasi" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "wasi" "waitable.join" (func $waitable.join (param i32 i32)))
    (import "wasi" "task.return" (func $task.return (param i32)))

    (global $count i32 (i32.const 8))
    ;; 64..127: the waits in ms, as started; 128..159: their subtasks.
    (data (i32.const 64)
      "\96\00\00\00\00\00\00\00" (; 150 ;) "\32\00\00\00\00\00\00\00" (; 50 ;)
      "\2c\01\00\00\00\00\00\00" (; 300 ;) "\64\00\00\00\00\00\00\00" (; 100 ;)
      "\90\01\00\00\00\00\00\00" (; 400 ;) "\c8\00\00\00\00\00\00\00" (; 200 ;)
      "\5e\01\00\00\00\00\00\00" (; 350 ;) "\fa\00\00\00\00\00\00\00" (; 250 ;))
    (global $set (mut i32) (i32.const 0))
    (global $start (mut i64) (i64.const 0))
    (global $done (mut i32) (i32.const 0))        ;; waits seen done
    (global $last (mut i64) (i64.const 0))        ;; the longest of them, in ns

    (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))
    (func $wait-ns (param $i i32) (result i64)
      (i64.mul (i64.load offset=64 (i32.shl (local.get $i) (i32.const 3))) (i64.const 1000000)))

    (func (export "run") (result i32)
      (local $i i32)
      (local $r i32)
      (global.set $set (call $waitable-set.new))
      (global.set $start (call $now))
      (loop $start-one
        ;; Odd ones wait until a mark, even ones for a duration.
        (if (i32.and (local.get $i) (i32.const 1))
          (then (local.set $r (call $wait-until
                  (i64.add (global.get $start) (call $wait-ns (local.get $i))))))
          (else (local.set $r (call $wait-for (call $wait-ns (local.get $i))))))
        (call $check (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1 (; STARTED ;))))
        (i32.store offset=128 (i32.shl (local.get $i) (i32.const 2))
          (i32.shr_u (local.get $r) (i32.const 4)))
        (call $waitable.join (i32.shr_u (local.get $r) (i32.const 4)) (global.get $set))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $start-one (i32.lt_u (local.get $i) (global.get $count))))
      (i32.or (i32.shl (global.get $set) (i32.const 4)) (i32.const 2 (; WAIT ;))))

    (func (export "callback") (param $event i32) (param $subtask i32) (param $state i32) (result i32)
      (local $i i32)
      (local $ns i64)
      (local $elapsed i64)
      (local.set $elapsed (i64.sub (call $now) (global.get $start)))
      (call $check (i32.eq (local.get $event) (i32.const 1 (; SUBTASK ;))))
      (call $check (i32.eq (local.get $state) (i32.const 2 (; RETURNED ;))))
      ;; Which wait this is.
      (block $found
        (loop $search
          (br_if $found (i32.eq (local.get $subtask)
            (i32.load offset=128 (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (call $check (i32.lt_u (local.get $i) (global.get $count)))
          (br $search)))
      (local.set $ns (call $wait-ns (local.get $i)))
      (call $check (i64.gt_u (local.get $ns) (global.get $last)))
      (call $check (i64.ge_u (local.get $elapsed) (local.get $ns)))
      (global.set $last (local.get $ns))
      (call $subtask.drop (local.get $subtask))
      (global.set $done (i32.add (global.get $done) (i32.const 1)))
      (if (i32.lt_u (global.get $done) (global.get $count))
        (then (return (i32.or (i32.shl (global.get $set) (i32.const 4)) (i32.const 2 (; WAIT ;))))))
      ;; All eight within 1 s of the start: the longest is 400 ms, the sum 1.8 s.
      (call $check (i64.lt_u (local.get $elapsed) (i64.const 1000000000)))
      (call $task.return (i32.const 0 (; ok ;)))
      (i32.const 0 (; EXIT ;))))
  (core instance $main-instance (instantiate $main
    (with "env" (instance (export "memory" (memory $mem))))
    (with "wasi" (instance $wasi))))

  (func $run async (result $run-result)
    (canon lift (core func $main-instance "run") async
      (callback (core func $main-instance "callback"))))
  (instance $cli-run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $cli-run)))
