;; A command that imports what weft's host lacks: an unknown interface and
;; an unknown function of a known one. weft names both in one error and
;; runs nothing.
(component
  (import "weft:missing/thing@1.0.0" (instance (export "nothing" (func))))
  (import "wasi:cli/environment@0.2.0" (instance
    (export "get-environment" (func (result (list (tuple string string)))))
    (export "get-nothing" (func (result string)))))
  (core module $m (func (export "run") (result i32) unreachable))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $cli-run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $cli-run)))
