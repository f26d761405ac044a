;; Imports nothing weft provides yet: every unmet import must be reported.
(module
  (import "env" "log" (func (param i32)))
  (import "env" "memory" (memory 1))
  (func (export "_start")))
