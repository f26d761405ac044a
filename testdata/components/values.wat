;; Identity functions over every WAVE value type, for `weft run --invoke`:
;; each `echo-T` returns its argument. The core functions only move the flat
;; values back: results of more than one flat value go through a return area
;; in memory whose layout (offsets 0, 4, 8) matches the type's memory layout,
;; and strings and lists stay where the host's realloc put them.
;; Functions over anonymous types are exports of the component; those over
;; named types (record, variant, enum, flags) are in the exported interface
;; weft:values/named, as WIT requires, and a `counter` resource (rep: its
;; value) with a constructor and a method is in weft:values/counter.
(component
  (core module $m
    (memory (export "memory") 1)
    ;; 0..63: the return area; the heap starts at 64.
    (global $heap (mut i32) (i32.const 64))

    ;; A bump allocator: a new block each time, the old contents copied over.
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32)
      (result i32)
      (local $p i32)
      (local.set $p
        (i32.and
          (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get $align))))
      (global.set $heap (i32.add (local.get $p) (local.get $new_size)))
      (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16)))
        (then
          (if (i32.eq
                (memory.grow
                  (i32.shr_u (i32.sub (i32.add (global.get $heap) (i32.const 0xffff))
                                      (i32.shl (memory.size) (i32.const 16)))
                             (i32.const 16)))
                (i32.const -1))
            (then unreachable))))
      (if (local.get $old)
        (then
          (memory.copy (local.get $p) (local.get $old)
            (select (local.get $old_size) (local.get $new_size)
              (i32.lt_u (local.get $old_size) (local.get $new_size))))))
      (local.get $p))

    (func (export "id-i32") (param i32) (result i32) (local.get 0))
    (func (export "id-i64") (param i64) (result i64) (local.get 0))
    (func (export "id-f32") (param f32) (result f32) (local.get 0))
    (func (export "id-f64") (param f64) (result f64) (local.get 0))
    ;; Two flat i32s at offsets 0 and 4: a string or list (pointer, length),
    ;; option<u32> (case, payload).
    (func (export "id-i32x2") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0))
    ;; Three at 0, 4, 8: record {u32, string}, tuple<u8, string>,
    ;; result<string, u32>, a variant whose payloads are at most two i32s.
    (func (export "id-i32x3") (param i32 i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.store (i32.const 8) (local.get 2))
      (i32.const 0))
    ;; option<u64>: the case at 0, the payload at 8.
    (func (export "id-opt-i64") (param i32 i64) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i64.store (i32.const 8) (local.get 1))
      (i32.const 0))
    ;; swap's tuple<u32, u32> at 0 and 4.
    (func (export "swap") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 1))
      (i32.store (i32.const 4) (local.get 0))
      (i32.const 0))
    (func (export "trap") unreachable)
  )
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))

  (type $point (record (field "a" u32) (field "b" string)))
  (type $shape (variant (case "circle" f32) (case "rect" (tuple u32 u32)) (case "empty")))
  (type $color (enum "red" "green" "blue"))
  (type $perms (flags "read" "write" "exec"))
  (type $counter (resource (rep i32)))
  (core func $counter.new (canon resource.new $counter))
  (core instance $res (export "new" (func $counter.new)))
  (core module $ctor
    (import "res" "new" (func $new (param i32) (result i32)))
    ;; The rep is the counter's value.
    (func (export "ctor") (param i32) (result i32) (call $new (local.get 0))))
  (core instance $c (instantiate $ctor (with "res" (instance $res))))

  (func (export "echo-bool") (param "x" bool) (result bool) (canon lift (core func $i "id-i32")))
  (func (export "echo-s8") (param "x" s8) (result s8) (canon lift (core func $i "id-i32")))
  (func (export "echo-u8") (param "x" u8) (result u8) (canon lift (core func $i "id-i32")))
  (func (export "echo-s16") (param "x" s16) (result s16) (canon lift (core func $i "id-i32")))
  (func (export "echo-u16") (param "x" u16) (result u16) (canon lift (core func $i "id-i32")))
  (func (export "echo-s32") (param "x" s32) (result s32) (canon lift (core func $i "id-i32")))
  (func (export "echo-u32") (param "x" u32) (result u32) (canon lift (core func $i "id-i32")))
  (func (export "echo-s64") (param "x" s64) (result s64) (canon lift (core func $i "id-i64")))
  (func (export "echo-u64") (param "x" u64) (result u64) (canon lift (core func $i "id-i64")))
  (func (export "echo-f32") (param "x" f32) (result f32) (canon lift (core func $i "id-f32")))
  (func (export "echo-f64") (param "x" f64) (result f64) (canon lift (core func $i "id-f64")))
  (func (export "echo-char") (param "x" char) (result char) (canon lift (core func $i "id-i32")))
  (func (export "echo-string") (param "x" string) (result string)
    (canon lift (core func $i "id-i32x2") (memory $mem) (realloc $realloc)))
  (func (export "echo-list") (param "x" (list u32)) (result (list u32))
    (canon lift (core func $i "id-i32x2") (memory $mem) (realloc $realloc)))
  (func (export "echo-strings") (param "x" (list string)) (result (list string))
    (canon lift (core func $i "id-i32x2") (memory $mem) (realloc $realloc)))
  (func $echo-record (param "x" $point) (result $point)
    (canon lift (core func $i "id-i32x3") (memory $mem) (realloc $realloc)))
  (func (export "echo-tuple") (param "x" (tuple u8 string)) (result (tuple u8 string))
    (canon lift (core func $i "id-i32x3") (memory $mem) (realloc $realloc)))
  (func $echo-variant (param "x" $shape) (result $shape)
    (canon lift (core func $i "id-i32x3") (memory $mem) (realloc $realloc)))
  (func $echo-enum (param "x" $color) (result $color) (canon lift (core func $i "id-i32")))
  (func (export "echo-option") (param "x" (option u32)) (result (option u32))
    (canon lift (core func $i "id-i32x2") (memory $mem) (realloc $realloc)))
  (func (export "echo-option-u64") (param "x" (option u64)) (result (option u64))
    (canon lift (core func $i "id-opt-i64") (memory $mem) (realloc $realloc)))
  (func (export "echo-result") (param "x" (result string (error u32))) (result (result string (error u32)))
    (canon lift (core func $i "id-i32x3") (memory $mem) (realloc $realloc)))
  (func $echo-flags (param "x" $perms) (result $perms) (canon lift (core func $i "id-i32")))
  (func (export "swap") (param "a" u32) (param "b" u32) (result (tuple u32 u32))
    (canon lift (core func $i "swap") (memory $mem) (realloc $realloc)))
  (func (export "fail") (canon lift (core func $i "trap")))
  (func $constructor-counter (param "value" u32) (result (own $counter))
    (canon lift (core func $c "ctor")))
  ;; A borrow of the component's own resource arrives as its rep: the value.
  (func $method-counter.get (param "self" (borrow $counter)) (result u32)
    (canon lift (core func $i "id-i32")))

  (instance $named
    (export "point" (type $point))
    (export "shape" (type $shape))
    (export "color" (type $color))
    (export "perms" (type $perms))
    (export "echo-record" (func $echo-record))
    (export "echo-variant" (func $echo-variant))
    (export "echo-enum" (func $echo-enum))
    (export "echo-flags" (func $echo-flags)))
  (export "weft:values/named" (instance $named))

  ;; An exported resource needs a name before functions use it: a nested
  ;; component imports the type and functions and exports them under names.
  (component $counter-interface
    (import "counter-type" (type $r (sub resource)))
    (import "new" (func $new (param "value" u32) (result (own $r))))
    (import "get" (func $get (param "self" (borrow $r)) (result u32)))
    (export $counter "counter" (type $r))
    (type $new-type (func (param "value" u32) (result (own $counter))))
    (type $get-type (func (param "self" (borrow $counter)) (result u32)))
    (export "[constructor]counter" (func $new) (func (type $new-type)))
    (export "[method]counter.get" (func $get) (func (type $get-type))))
  (instance $counter-instance (instantiate $counter-interface
    (with "counter-type" (type $counter))
    (with "new" (func $constructor-counter))
    (with "get" (func $method-counter.get))))
  (export "weft:values/counter" (instance $counter-instance))
)
