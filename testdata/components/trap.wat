;; A command whose wasi:cli/run traps two calls deep: weft exits with 134
;; and prints the trap.
(component
  (core module $m
    (func $inner unreachable)
    (func $middle (call $inner))
    (func (export "run") (result i32) (call $middle) (i32.const 0)))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $cli-run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $cli-run)))
