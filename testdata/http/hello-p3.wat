;; A wasi:http@0.3.0 service: exports wasi:http/handler `handle` as a
;; stackful async task (canon lift async without a callback: it blocks in
;; waitable-set.wait), so requests the host hands over at the same time each
;; run on their own stack. Every task gets a 16 KiB slot of memory of its
;; own (a free list; memory grows as more run at once).
;;   POST /echo  200, content-type: text/plain, the request body streamed
;;               back: consume-body, then each chunk read from its stream
;;               is written to the response's stream
;;   DELETE      traps (unreachable): the server's answer to a guest that
;;               fails, and the fresh instance after it, are tested on it
;;   otherwise   200, content-type: text/plain, "hello, world\n"
;; The response goes back (task.return) before its body is written; then
;; the body stream ends (drop-writable) and the trailers future says
;; ok(none). A client that goes away (a write says DROPPED) ends the copy
;; early. Traps (unreachable) on anything unexpected.
(component $hello
  (import "wasi:http/types@0.3.0" (instance $types
    (type $dns (record (field "rcode" (option string)) (field "info-code" (option u16))))
    (export "DNS-error-payload" (type $dns-e (eq $dns)))
    (type $tls (record (field "alert-id" (option u8)) (field "alert-message" (option string))))
    (export "TLS-alert-received-payload" (type $tls-e (eq $tls)))
    (type $fsp (record (field "field-name" (option string)) (field "field-size" (option u32))))
    (export "field-size-payload" (type $fsp-e (eq $fsp)))
    (type $ec (variant
      (case "DNS-timeout") (case "DNS-error" $dns-e) (case "destination-not-found")
      (case "destination-unavailable") (case "destination-IP-prohibited")
      (case "destination-IP-unroutable") (case "connection-refused") (case "connection-terminated")
      (case "connection-timeout") (case "connection-read-timeout") (case "connection-write-timeout")
      (case "connection-limit-reached") (case "TLS-protocol-error") (case "TLS-certificate-error")
      (case "TLS-alert-received" $tls-e) (case "HTTP-request-denied")
      (case "HTTP-request-length-required") (case "HTTP-request-body-size" (option u64))
      (case "HTTP-request-method-invalid") (case "HTTP-request-URI-invalid")
      (case "HTTP-request-URI-too-long") (case "HTTP-request-header-section-size" (option u32))
      (case "HTTP-request-header-size" (option $fsp-e))
      (case "HTTP-request-trailer-section-size" (option u32))
      (case "HTTP-request-trailer-size" $fsp-e) (case "HTTP-response-incomplete")
      (case "HTTP-response-header-section-size" (option u32))
      (case "HTTP-response-header-size" $fsp-e) (case "HTTP-response-body-size" (option u64))
      (case "HTTP-response-trailer-section-size" (option u32))
      (case "HTTP-response-trailer-size" $fsp-e)
      (case "HTTP-response-transfer-coding" (option string))
      (case "HTTP-response-content-coding" (option string)) (case "HTTP-response-timeout")
      (case "HTTP-upgrade-failed") (case "HTTP-protocol-error") (case "loop-detected")
      (case "configuration-error") (case "internal-error" (option string))))
    (export "error-code" (type $ec-e (eq $ec)))
    (type $he (variant (case "invalid-syntax") (case "forbidden") (case "immutable")
      (case "size-exceeded") (case "other" (option string))))
    (export "header-error" (type $he-e (eq $he)))
    (type $method (variant (case "get") (case "head") (case "post") (case "put") (case "delete")
      (case "connect") (case "options") (case "trace") (case "patch") (case "other" string)))
    (export "method" (type $method-e (eq $method)))
    (export "fields" (type $fields (sub resource)))
    (export "headers" (type $headers (eq $fields)))
    (export "trailers" (type $trailers (eq $fields)))
    (export "request" (type $request (sub resource)))
    (export "response" (type $response (sub resource)))
    (type $res (future (result (error $ec-e))))
    (type $trailers-future (future (result (option (own $trailers)) (error $ec-e))))
    (export "[constructor]fields" (func (result (own $fields))))
    (export "[method]fields.append"
      (func (param "self" (borrow $fields)) (param "name" string) (param "value" (list u8))
            (result (result (error $he-e)))))
    (export "[method]request.get-method" (func (param "self" (borrow $request)) (result $method-e)))
    (export "[method]request.get-path-with-query"
      (func (param "self" (borrow $request)) (result (option string))))
    (export "[static]request.consume-body"
      (func (param "this" (own $request)) (param "res" $res) (result (tuple (stream u8) $trailers-future))))
    (export "[static]response.new"
      (func (param "headers" (own $headers)) (param "contents" (option (stream u8)))
            (param "trailers" $trailers-future) (result (tuple (own $response) $res))))))
  (alias export $types "request" (type $request))
  (alias export $types "response" (type $response))
  (alias export $types "trailers" (type $trailers))
  (alias export $types "error-code" (type $error-code))

  (type $bytes (stream u8))
  (type $res (future (result (error $error-code))))
  (type $trailers-future (future (result (option (own $trailers)) (error $error-code))))
  (type $handle-result (result (own $response) (error $error-code)))

  ;; The memory and an allocator for the strings the host returns: a
  ;; scratch area at 0x1000..0x20000 that the main module resets before each
  ;; call that returns one (the string is used before the task can block,
  ;; so tasks never see each other's).
  (core module $mem-module
    (memory (export "memory") 2)
    (global $heap (export "heap") (mut i32) (i32.const 0x1000))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (if (local.get 0) (then unreachable))  ;; only fresh allocations
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (global.get $heap) (i32.const 0x20000)) (then unreachable))
      (local.get $p)))
  (core instance $mem-instance (instantiate $mem-module))
  (alias core export $mem-instance "memory" (core memory $mem))
  (alias core export $mem-instance "realloc" (core func $realloc))
  (alias core export $mem-instance "heap" (core global $heap))

  (core func $fields-new (canon lower (func $types "[constructor]fields")))
  (core func $fields-append (canon lower (func $types "[method]fields.append") (memory $mem) (realloc $realloc)))
  (core func $get-method (canon lower (func $types "[method]request.get-method") (memory $mem) (realloc $realloc)))
  (core func $get-path (canon lower (func $types "[method]request.get-path-with-query") (memory $mem) (realloc $realloc)))
  (core func $consume-body (canon lower (func $types "[static]request.consume-body") (memory $mem)))
  (core func $response-new (canon lower (func $types "[static]response.new") (memory $mem)))
  (core func $request-drop (canon resource.drop $request))
  (core func $bytes-new (canon stream.new $bytes))
  (core func $bytes-read (canon stream.read $bytes async (memory $mem)))
  (core func $bytes-write (canon stream.write $bytes async (memory $mem)))
  (core func $bytes-drop-readable (canon stream.drop-readable $bytes))
  (core func $bytes-drop-writable (canon stream.drop-writable $bytes))
  (core func $res-new (canon future.new $res))
  (core func $res-write (canon future.write $res async (memory $mem)))
  (core func $res-drop-readable (canon future.drop-readable $res))
  (core func $res-drop-writable (canon future.drop-writable $res))
  (core func $trailers-new (canon future.new $trailers-future))
  (core func $trailers-write (canon future.write $trailers-future async (memory $mem)))
  (core func $trailers-drop-readable (canon future.drop-readable $trailers-future))
  (core func $trailers-drop-writable (canon future.drop-writable $trailers-future))
  (core func $waitable-set-new (canon waitable-set.new))
  (core func $waitable-set-wait (canon waitable-set.wait (memory $mem)))
  (core func $waitable-set-drop (canon waitable-set.drop))
  (core func $waitable-join (canon waitable.join))
  (core func $task-return (canon task.return (result $handle-result) (memory $mem)))
  (core instance $wasi
    (export "fields-new" (func $fields-new))
    (export "fields-append" (func $fields-append))
    (export "get-method" (func $get-method))
    (export "get-path" (func $get-path))
    (export "consume-body" (func $consume-body))
    (export "response-new" (func $response-new))
    (export "request-drop" (func $request-drop))
    (export "bytes-new" (func $bytes-new))
    (export "bytes-read" (func $bytes-read))
    (export "bytes-write" (func $bytes-write))
    (export "bytes-drop-readable" (func $bytes-drop-readable))
    (export "bytes-drop-writable" (func $bytes-drop-writable))
    (export "res-new" (func $res-new))
    (export "res-write" (func $res-write))
    (export "res-drop-readable" (func $res-drop-readable))
    (export "res-drop-writable" (func $res-drop-writable))
    (export "trailers-new" (func $trailers-new))
    (export "trailers-write" (func $trailers-write))
    (export "trailers-drop-readable" (func $trailers-drop-readable))
    (export "trailers-drop-writable" (func $trailers-drop-writable))
    (export "waitable-set-new" (func $waitable-set-new))
    (export "waitable-set-wait" (func $waitable-set-wait))
    (export "waitable-set-drop" (func $waitable-set-drop))
    (export "waitable-join" (func $waitable-join))
    (export "task-return" (func $task-return)))

  (core module $main
    (import "env" "memory" (memory 2))
    (import "env" "heap" (global $heap (mut i32)))
    (import "wasi" "fields-new" (func $fields-new (result i32)))
    (import "wasi" "fields-append" (func $fields-append (param i32 i32 i32 i32 i32 i32)))
    (import "wasi" "get-method" (func $get-method (param i32 i32)))
    (import "wasi" "get-path" (func $get-path (param i32 i32)))
    (import "wasi" "consume-body" (func $consume-body (param i32 i32 i32)))
    ;; headers, option<stream> (case, stream), trailers, return area
    (import "wasi" "response-new" (func $response-new (param i32 i32 i32 i32 i32)))
    (import "wasi" "request-drop" (func $request-drop (param i32)))
    (import "wasi" "bytes-new" (func $bytes-new (result i64)))
    (import "wasi" "bytes-read" (func $bytes-read (param i32 i32 i32) (result i32)))
    (import "wasi" "bytes-write" (func $bytes-write (param i32 i32 i32) (result i32)))
    (import "wasi" "bytes-drop-readable" (func $bytes-drop-readable (param i32)))
    (import "wasi" "bytes-drop-writable" (func $bytes-drop-writable (param i32)))
    (import "wasi" "res-new" (func $res-new (result i64)))
    (import "wasi" "res-write" (func $res-write (param i32 i32) (result i32)))
    (import "wasi" "res-drop-readable" (func $res-drop-readable (param i32)))
    (import "wasi" "res-drop-writable" (func $res-drop-writable (param i32)))
    (import "wasi" "trailers-new" (func $trailers-new (result i64)))
    (import "wasi" "trailers-write" (func $trailers-write (param i32 i32) (result i32)))
    (import "wasi" "trailers-drop-readable" (func $trailers-drop-readable (param i32)))
    (import "wasi" "trailers-drop-writable" (func $trailers-drop-writable (param i32)))
    (import "wasi" "waitable-set-new" (func $waitable-set-new (result i32)))
    (import "wasi" "waitable-set-wait" (func $waitable-set-wait (param i32 i32) (result i32)))
    (import "wasi" "waitable-set-drop" (func $waitable-set-drop (param i32)))
    (import "wasi" "waitable-join" (func $waitable-join (param i32 i32)))
    ;; result<response, error-code> flattened: case, response (or the error's
    ;; case), then the error-code payload's slots
    (import "wasi" "task-return" (func $task-return (param i32 i32 i32 i64 i32 i32 i32 i32)))

    ;; Memory: 0x100.. texts; 0x1000..0x20000 the scratch heap; from 0x20000
    ;; the task slots. A slot (16 KiB):
    ;;   +0    an event's (index, payload); the next free slot while free
    ;;   +8    get-method's / get-path-with-query's result (12 bytes)
    ;;   +32   consume-body's (stream, future); +40 response.new's (response, future)
    ;;   +64   fields.append's result<_, header-error> (20 bytes)
    ;;   +96   the trailers value ok(none) (40 bytes, zero); +144 res's ok (zero)
    ;;   +256  the copy buffer
    (data (i32.const 0x100) "hello, world\0a")  ;; 13
    (data (i32.const 0x120) "content-type")     ;; 12
    (data (i32.const 0x130) "text/plain")       ;; 10
    (data (i32.const 0x140) "/echo")            ;; 5
    (global $SCRATCH i32 (i32.const 0x1000))
    (global $SLOT_SIZE i32 (i32.const 0x4000))
    (global $BUFFER i32 (i32.const 256))         ;; in the slot
    (global $BUFFER_SIZE i32 (i32.const 0x3f00))
    (global $BLOCKED i32 (i32.const -1))
    (global $free (mut i32) (i32.const 0))       ;; free slots, linked through +0
    (global $top (mut i32) (i32.const 0x20000))  ;; the first slot never used

    (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))

    (func $alloc-slot (result i32)
      (local $s i32)
      (local.set $s (global.get $free))
      (if (local.get $s)
        (then (global.set $free (i32.load (local.get $s))))
        (else
          (local.set $s (global.get $top))
          (global.set $top (i32.add (local.get $s) (global.get $SLOT_SIZE)))
          (if (i32.gt_u (global.get $top) (i32.shl (memory.size) (i32.const 16)))
            (then (call $check (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))))))
      (memory.fill (local.get $s) (i32.const 0) (global.get $BUFFER))
      (local.get $s))

    (func $free-slot (param $s i32)
      (i32.store (local.get $s) (global.get $free))
      (global.set $free (local.get $s)))

    ;; Waits in the task's set for the one event of waitable $w, which must
    ;; be $event; returns its payload.
    (func $await (param $set i32) (param $s i32) (param $w i32) (param $event i32) (result i32)
      (call $waitable-join (local.get $w) (local.get $set))
      (call $check (i32.eq (call $waitable-set-wait (local.get $set) (local.get $s)) (local.get $event)))
      (call $check (i32.eq (i32.load (local.get $s)) (local.get $w)))
      (call $waitable-join (local.get $w) (i32.const 0))
      (i32.load offset=4 (local.get $s)))

    ;; Writes $n bytes at $at into stream $w; 0 once the reader dropped it
    ;; (the client went away), else 1.
    (func $write-all (param $set i32) (param $s i32) (param $w i32) (param $at i32) (param $n i32) (result i32)
      (local $r i32)
      (loop $more
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (local.set $r (call $bytes-write (local.get $w) (local.get $at) (local.get $n)))
        (if (i32.eq (local.get $r) (global.get $BLOCKED))
          (then (local.set $r (call $await (local.get $set) (local.get $s) (local.get $w) (i32.const 3 (; STREAM_WRITE ;))))))
        (call $check (i32.le_u (i32.shr_u (local.get $r) (i32.const 4)) (local.get $n)))
        (local.set $at (i32.add (local.get $at) (i32.shr_u (local.get $r) (i32.const 4))))
        (local.set $n (i32.sub (local.get $n) (i32.shr_u (local.get $r) (i32.const 4))))
        (if (i32.and (local.get $r) (i32.const 0xf))
          (then
            (call $check (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1 (; DROPPED ;))))
            (return (i32.const 0))))
        (br $more))
      unreachable)

    ;; Copies stream $in into stream $out until $in's writer drops it or
    ;; $out's reader does.
    (func $copy (param $set i32) (param $s i32) (param $in i32) (param $out i32)
      (local $r i32)
      (loop $more
        (local.set $r (call $bytes-read (local.get $in)
          (i32.add (local.get $s) (global.get $BUFFER)) (global.get $BUFFER_SIZE)))
        (if (i32.eq (local.get $r) (global.get $BLOCKED))
          (then (local.set $r (call $await (local.get $set) (local.get $s) (local.get $in) (i32.const 2 (; STREAM_READ ;))))))
        (call $check (i32.le_u (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1 (; DROPPED ;))))
        (br_if 1 (i32.eqz (call $write-all (local.get $set) (local.get $s) (local.get $out)
          (i32.add (local.get $s) (global.get $BUFFER)) (i32.shr_u (local.get $r) (i32.const 4)))))
        (br_if $more (i32.eqz (i32.and (local.get $r) (i32.const 0xf))))))

    ;; Is the request POST /echo?
    (func $is-echo (param $request i32) (param $s i32) (result i32)
      (local $at i32)
      (local.set $at (i32.add (local.get $s) (i32.const 8)))
      (global.set $heap (global.get $SCRATCH))
      (call $get-method (local.get $request) (local.get $at))
      (if (i32.eq (i32.load8_u (local.get $at)) (i32.const 4 (; delete ;))) (then unreachable))
      (if (i32.ne (i32.load8_u (local.get $at)) (i32.const 2 (; post ;))) (then (return (i32.const 0))))
      (global.set $heap (global.get $SCRATCH))
      (call $get-path (local.get $request) (local.get $at))
      (i32.and
        (i32.and (i32.eq (i32.load8_u (local.get $at)) (i32.const 1 (; some ;)))
                 (i32.eq (i32.load offset=8 (local.get $at)) (i32.const 5)))
        (i32.and (i32.eq (i32.load (i32.load offset=4 (local.get $at))) (i32.load (i32.const 0x140)))
                 (i32.eq (i32.load8_u offset=4 (i32.load offset=4 (local.get $at))) (i32.load8_u (i32.const 0x144))))))

    ;; Writes a future's value, or starts to: 1 when the write blocked (its
    ;; end then waits in $set).
    (func $started (param $set i32) (param $w i32) (param $r i32) (result i32)
      (if (i32.eq (local.get $r) (global.get $BLOCKED))
        (then
          (call $waitable-join (local.get $w) (local.get $set))
          (return (i32.const 1))))
      ;; COMPLETED, or DROPPED: the host no longer wants it.
      (call $check (i32.le_u (local.get $r) (i32.const 1)))
      (i32.const 0))

    (func (export "handle") (param $request i32)
      (local $s i32) (local $set i32) (local $echo i32) (local $ends i64)
      (local $fields i32) (local $body i32) (local $contents i32) (local $trailers i32) (local $res i32)
      (local $in i32) (local $pending i32)
      (local.set $s (call $alloc-slot))
      (local.set $set (call $waitable-set-new))
      (local.set $echo (call $is-echo (local.get $request) (local.get $s)))

      ;; The response: its headers, a body stream and a trailers future whose
      ;; writable ends stay here.
      (local.set $fields (call $fields-new))
      (global.set $heap (global.get $SCRATCH))
      (call $fields-append (local.get $fields) (i32.const 0x120) (i32.const 12) (i32.const 0x130) (i32.const 10)
        (i32.add (local.get $s) (i32.const 64)))
      (call $check (i32.eqz (i32.load8_u offset=64 (local.get $s))))
      (local.set $ends (call $bytes-new))
      (local.set $body (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (local.set $contents (i32.wrap_i64 (local.get $ends)))
      (local.set $ends (call $trailers-new))
      (local.set $trailers (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (call $response-new (local.get $fields) (i32.const 1 (; some ;)) (local.get $contents)
        (i32.wrap_i64 (local.get $ends)) (i32.add (local.get $s) (i32.const 40)))
      ;; The response's own outcome is not needed.
      (call $res-drop-readable (i32.load offset=44 (local.get $s)))

      (if (local.get $echo)
        (then
          (local.set $ends (call $res-new))
          (local.set $res (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
          (call $consume-body (local.get $request) (i32.wrap_i64 (local.get $ends)) (i32.add (local.get $s) (i32.const 32)))
          (local.set $in (i32.load offset=32 (local.get $s))))
        (else (call $request-drop (local.get $request))))
      (call $task-return (i32.const 0 (; ok ;)) (i32.load offset=40 (local.get $s)) (i32.const 0)
        (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))

      (if (local.get $echo)
        (then
          (call $copy (local.get $set) (local.get $s) (local.get $in) (local.get $body))
          (call $bytes-drop-readable (local.get $in))
          (call $trailers-drop-readable (i32.load offset=36 (local.get $s))))
        (else
          (drop (call $write-all (local.get $set) (local.get $s) (local.get $body) (i32.const 0x100) (i32.const 13)))))
      (call $bytes-drop-writable (local.get $body))

      ;; The trailers (none) and, for the echo, the outcome of handling the
      ;; request (ok) go at once: the host may read them in either order.
      (local.set $pending (call $started (local.get $set) (local.get $trailers)
        (call $trailers-write (local.get $trailers) (i32.add (local.get $s) (i32.const 96)))))
      (if (local.get $echo)
        (then
          (local.set $pending (i32.add (local.get $pending) (call $started (local.get $set) (local.get $res)
            (call $res-write (local.get $res) (i32.add (local.get $s) (i32.const 144))))))))
      (loop $wait
        (if (local.get $pending)
          (then
            (call $check (i32.eq (call $waitable-set-wait (local.get $set) (local.get $s)) (i32.const 5 (; FUTURE_WRITE ;))))
            (call $check (i32.le_u (i32.load offset=4 (local.get $s)) (i32.const 1)))
            (call $waitable-join (i32.load (local.get $s)) (i32.const 0))
            (local.set $pending (i32.sub (local.get $pending) (i32.const 1)))
            (br $wait))))
      (call $trailers-drop-writable (local.get $trailers))
      (if (local.get $echo) (then (call $res-drop-writable (local.get $res))))
      (call $waitable-set-drop (local.get $set))
      (call $free-slot (local.get $s))))
  (core instance $main-instance (instantiate $main
    (with "env" (instance (export "memory" (memory $mem)) (export "heap" (global $heap))))
    (with "wasi" (instance $wasi))))

  (func $handle async (param "request" (own $request)) (result $handle-result)
    (canon lift (core func $main-instance "handle") async (memory $mem)))
  (instance $handler (export "handle" (func $handle)))
  (export "wasi:http/handler@0.3.0" (instance $handler)))
