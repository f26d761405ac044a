;; A command written directly against WASI 0.2, without the preview1
;; adapter: it gets stdout (an own<output-stream>), writes to it through a
;; borrow with blocking-write-and-flush, checks the result, drops the stream
;; and returns ok from wasi:cli/run.
(component $raw
  (import "wasi:io/error@0.2.0" (instance $io-error
    (export "error" (type (sub resource)))))
  (alias export $io-error "error" (type $error))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer $raw $error (type $error-outer))
    (export "error" (type $error-in (eq $error-outer)))
    (export "output-stream" (type $output-stream-in (sub resource)))
    (type $stream-error (variant (case "last-operation-failed" (own $error-in)) (case "closed")))
    (export "stream-error" (type $stream-error-in (eq $stream-error)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $output-stream-in)) (param "contents" (list u8))
        (result (result (error $stream-error-in)))))))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer $raw $output-stream (type $output-stream-outer))
    (export "output-stream" (type $output-stream-in (eq $output-stream-outer)))
    (export "get-stdout" (func (result (own $output-stream-in))))))

  (core module $mem-module (memory (export "memory") 1))
  (core instance $mem-instance (instantiate $mem-module))
  (alias core export $mem-instance "memory" (core memory $mem))

  (core func $get-stdout (canon lower (func $stdout "get-stdout")))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush")
    (memory $mem)))
  (core func $drop-stream (canon resource.drop $output-stream))
  (core instance $wasi
    (export "get-stdout" (func $get-stdout))
    (export "write" (func $write))
    (export "drop" (func $drop-stream)))

  (core module $main
    (import "env" "memory" (memory 1))
    (import "wasi" "get-stdout" (func $get-stdout (result i32)))
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "drop" (func $drop (param i32)))
    ;; 16..31: the write's result<_, stream-error>
    (data (i32.const 64) "raw hello\0a")
    (data (i32.const 80) "written without the adapter\0a")
    (func $write-checked (param $stream i32) (param $ptr i32) (param $len i32)
      (call $write (local.get $stream) (local.get $ptr) (local.get $len) (i32.const 16))
      (if (i32.load8_u (i32.const 16)) (then unreachable)))
    (func (export "run") (result i32)
      (local $stream i32)
      (local.set $stream (call $get-stdout))
      (call $write-checked (local.get $stream) (i32.const 64) (i32.const 10))
      (call $write-checked (local.get $stream) (i32.const 80) (i32.const 28))
      (call $drop (local.get $stream))
      (i32.const 0)))
  (core instance $main-instance (instantiate $main
    (with "env" (instance (export "memory" (memory $mem))))
    (with "wasi" (instance $wasi))))

  (func $run (result (result)) (canon lift (core func $main-instance "run")))
  (instance $cli-run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $cli-run)))
