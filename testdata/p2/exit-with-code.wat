;; wasi:cli/exit's exit-with-code (WASI 0.2.12): the guest's code becomes
;; weft's exit status (exit-with-code.status), and run never returns.
(component
  (import "wasi:cli/exit@0.2.12" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))))
  (core func $exit-with-code (canon lower (func $exit "exit-with-code")))
  (core instance $wasi (export "exit-with-code" (func $exit-with-code)))
  (core module $main
    (import "wasi" "exit-with-code" (func $exit-with-code (param i32)))
    (func (export "run") (result i32)
      (call $exit-with-code (i32.const 42))
      unreachable))
  (core instance $main-instance (instantiate $main (with "wasi" (instance $wasi))))
  (func $run (result (result)) (canon lift (core func $main-instance "run")))
  (instance $cli-run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.12" (instance $cli-run)))
