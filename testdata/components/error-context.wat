;; canon error-context.new / .debug-message / .drop: `describe` makes an
;; error context from a message in memory, reads its debug message back
;; through realloc and drops it, returning the message; `use-after-drop`
;; reads a dropped one (a trap); `relay` returns the message of an error
;; context a nested component made and returned (lifted from its table,
;; lowered into this one's).
(component $errors
  (component $inner
    (core module $mem-module
      (memory (export "memory") 1)
      (data (i32.const 16) "from inside"))
    (core instance $mem-instance (instantiate $mem-module))
    (alias core export $mem-instance "memory" (core memory $mem))
    (core func $new (canon error-context.new (memory $mem)))
    (core module $main
      (import "ec" "new" (func $new (param i32 i32) (result i32)))
      (func (export "make") (result i32) (call $new (i32.const 16) (i32.const 11))))
    (core instance $main-instance (instantiate $main (with "ec" (instance (export "new" (func $new))))))
    (func (export "make") (result error-context) (canon lift (core func $main-instance "make"))))
  (instance $inner-instance (instantiate $inner))
  (alias export $inner-instance "make" (func $make))

  (core module $mem-module
    (memory (export "memory") 1)
    (data (i32.const 16) "disk on fire")
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

  (core func $new (canon error-context.new (memory $mem)))
  (core func $message (canon error-context.debug-message (memory $mem) (realloc $realloc)))
  (core func $drop (canon error-context.drop))
  (core func $make-lowered (canon lower (func $make)))
  (core instance $ec
    (export "new" (func $new))
    (export "message" (func $message))
    (export "drop" (func $drop))
    (export "make" (func $make-lowered)))

  (core module $main
    (import "env" "memory" (memory 1))
    (import "ec" "new" (func $new (param i32 i32) (result i32)))
    (import "ec" "message" (func $message (param i32 i32)))
    (import "ec" "drop" (func $drop (param i32)))
    (import "ec" "make" (func $make (result i32)))
    (func (export "relay") (result i32)
      (local $e i32)
      (local.set $e (call $make))
      (call $message (local.get $e) (i32.const 8))
      (call $drop (local.get $e))
      (i32.const 8))
    (func (export "describe") (result i32)
      (local $e i32)
      (local.set $e (call $new (i32.const 16) (i32.const 12)))
      ;; (ptr, len) of the message at 0..7
      (call $message (local.get $e) (i32.const 0))
      (call $drop (local.get $e))
      (i32.const 0))
    (func (export "use-after-drop")
      (local $e i32)
      (local.set $e (call $new (i32.const 16) (i32.const 4)))
      (call $drop (local.get $e))
      (call $message (local.get $e) (i32.const 0))))
  (core instance $main-instance (instantiate $main
    (with "env" (instance (export "memory" (memory $mem))))
    (with "ec" (instance $ec))))

  (func (export "describe") (result string)
    (canon lift (core func $main-instance "describe") (memory $mem) (realloc $realloc)))
  (func (export "use-after-drop") (canon lift (core func $main-instance "use-after-drop")))
  (func (export "relay") (result string)
    (canon lift (core func $main-instance "relay") (memory $mem) (realloc $realloc))))
