;; wasi:io/poll without the adapter: poll on [soon, late, soon] (one
;; monotonic-clock pollable listed twice) waits for `soon` only, returns
;; the indices [0, 2] as a list<u32> lowered through cabi_realloc, and
;; leaves `late` not ready. Traps (unreachable) on any mismatch.
(component $timers
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type $pollable-in (sub resource)))
    (export "[method]pollable.ready" (func (param "self" (borrow $pollable-in)) (result bool)))
    (export "poll" (func (param "in" (list (borrow $pollable-in))) (result (list u32))))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (alias outer $timers $pollable (type $pollable-outer))
    (export "pollable" (type $pollable-in (eq $pollable-outer)))
    (export "now" (func (result u64)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $pollable-in))))))

  ;; Memory and a bump allocator for the lowered result list.
  (core module $mem-module
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                              (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at)))
  (core instance $mem-instance (instantiate $mem-module))
  (alias core export $mem-instance "memory" (core memory $mem))
  (alias core export $mem-instance "realloc" (core func $realloc))

  (core func $now (canon lower (func $clock "now")))
  (core func $subscribe (canon lower (func $clock "subscribe-duration")))
  (core func $ready (canon lower (func $poll "[method]pollable.ready")))
  (core func $poll-fn (canon lower (func $poll "poll") (memory $mem) (realloc $realloc)))
  (core func $drop (canon resource.drop $pollable))
  (core instance $wasi
    (export "now" (func $now))
    (export "subscribe" (func $subscribe))
    (export "ready" (func $ready))
    (export "poll" (func $poll-fn))
    (export "drop" (func $drop)))

  (core module $main
    (import "env" "memory" (memory 1))
    (import "wasi" "now" (func $now (result i64)))
    (import "wasi" "subscribe" (func $subscribe (param i64) (result i32)))
    (import "wasi" "ready" (func $ready (param i32) (result i32)))
    (import "wasi" "poll" (func $poll (param i32 i32 i32)))
    (import "wasi" "drop" (func $drop (param i32)))
    (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))
    (func (export "run") (result i32)
      (local $soon i32) (local $late i32) (local $start i64) (local $list i32)
      (local.set $start (call $now))
      (local.set $late (call $subscribe (i64.const 10000000000)))
      (local.set $soon (call $subscribe (i64.const 20000000)))
      (call $check (i32.eqz (call $ready (local.get $soon))))
      ;; 100..111: the list [soon, late, soon]; 16..23: the result (ptr, len)
      (i32.store (i32.const 100) (local.get $soon))
      (i32.store (i32.const 104) (local.get $late))
      (i32.store (i32.const 108) (local.get $soon))
      (call $poll (i32.const 100) (i32.const 3) (i32.const 16))
      (call $check (i64.ge_u (i64.sub (call $now) (local.get $start)) (i64.const 20000000)))
      (call $check (i32.eq (i32.load (i32.const 20)) (i32.const 2)))
      (local.set $list (i32.load (i32.const 16)))
      (call $check (i32.eq (i32.load (local.get $list)) (i32.const 0)))
      (call $check (i32.eq (i32.load offset=4 (local.get $list)) (i32.const 2)))
      (call $check (call $ready (local.get $soon)))
      (call $check (i32.eqz (call $ready (local.get $late))))
      (call $drop (local.get $soon))
      (call $drop (local.get $late))
      (i32.const 0)))
  (core instance $main-instance (instantiate $main
    (with "env" (instance (export "memory" (memory $mem))))
    (with "wasi" (instance $wasi))))

  (func $run (result (result)) (canon lift (core func $main-instance "run")))
  (instance $cli-run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $cli-run)))
