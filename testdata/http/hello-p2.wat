;; A wasi:http@0.2 proxy: exports wasi:http/incoming-handler `handle`
;; (synchronous; the host gives each request a fresh instance, so globals
;; are per request).
;;   POST /echo  200, content-type: text/plain, the request body copied
;;               back: incoming-request.consume -> incoming-body.stream ->
;;               input-stream.blocking-read, each chunk (up to 4096 bytes,
;;               what blocking-write-and-flush takes) written to the body
;;   otherwise   200, content-type: text/plain, "hello, world\n"
;; The response is set (response-outparam.set) before its body is written,
;; then the output stream is dropped and the body finished. A client that
;; goes away (a write fails) ends the copy early. Traps (unreachable) on
;; anything unexpected.
(component $hello
  (import "wasi:io/error@0.2.0" (instance $io-error
    (export "error" (type (sub resource)))))
  (alias export $io-error "error" (type $error))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer $hello $error (type $e))
    (export "error" (type $e-e (eq $e)))
    (export "input-stream" (type $is (sub resource)))
    (export "output-stream" (type $os (sub resource)))
    (type $se (variant (case "last-operation-failed" (own $e-e)) (case "closed")))
    (export "stream-error" (type $se-e (eq $se)))
    (export "[method]input-stream.blocking-read"
      (func (param "self" (borrow $is)) (param "len" u64) (result (result (list u8) (error $se-e)))))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result (error $se-e)))))))
  (alias export $streams "input-stream" (type $input-stream))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:http/types@0.2.0" (instance $types
    (alias outer $hello $input-stream (type $is))
    (export "input-stream" (type $is-e (eq $is)))
    (alias outer $hello $output-stream (type $os))
    (export "output-stream" (type $os-e (eq $os)))
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
    (type $he (variant (case "invalid-syntax") (case "forbidden") (case "immutable")))
    (export "header-error" (type $he-e (eq $he)))
    (type $method (variant (case "get") (case "head") (case "post") (case "put") (case "delete")
      (case "connect") (case "options") (case "trace") (case "patch") (case "other" string)))
    (export "method" (type $method-e (eq $method)))
    (export "fields" (type $fields (sub resource)))
    (export "headers" (type $headers (eq $fields)))
    (export "trailers" (type $trailers (eq $fields)))
    (export "incoming-request" (type $incoming-request (sub resource)))
    (export "incoming-body" (type $incoming-body (sub resource)))
    (export "outgoing-response" (type $outgoing-response (sub resource)))
    (export "outgoing-body" (type $outgoing-body (sub resource)))
    (export "response-outparam" (type $response-outparam (sub resource)))
    (export "[constructor]fields" (func (result (own $fields))))
    (export "[method]fields.append"
      (func (param "self" (borrow $fields)) (param "name" string) (param "value" (list u8))
            (result (result (error $he-e)))))
    (export "[method]incoming-request.method" (func (param "self" (borrow $incoming-request)) (result $method-e)))
    (export "[method]incoming-request.path-with-query"
      (func (param "self" (borrow $incoming-request)) (result (option string))))
    (export "[method]incoming-request.consume"
      (func (param "self" (borrow $incoming-request)) (result (result (own $incoming-body)))))
    (export "[method]incoming-body.stream"
      (func (param "self" (borrow $incoming-body)) (result (result (own $is-e)))))
    (export "[constructor]outgoing-response"
      (func (param "headers" (own $headers)) (result (own $outgoing-response))))
    (export "[method]outgoing-response.body"
      (func (param "self" (borrow $outgoing-response)) (result (result (own $outgoing-body)))))
    (export "[method]outgoing-body.write"
      (func (param "self" (borrow $outgoing-body)) (result (result (own $os-e)))))
    (export "[static]outgoing-body.finish"
      (func (param "this" (own $outgoing-body)) (param "trailers" (option (own $trailers)))
            (result (result (error $ec-e)))))
    (export "[static]response-outparam.set"
      (func (param "param" (own $response-outparam))
            (param "response" (result (own $outgoing-response) (error $ec-e)))))))
  (alias export $types "incoming-request" (type $incoming-request))
  (alias export $types "incoming-body" (type $incoming-body))
  (alias export $types "response-outparam" (type $response-outparam))

  ;; The memory and a bump allocator for what the host returns (a chunk
  ;; read, the path), reset before each such call: all is used at once.
  (core module $mem-module
    (memory (export "memory") 1)
    (global $heap (export "heap") (mut i32) (i32.const 0x1000))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (if (local.get 0) (then unreachable))  ;; only fresh allocations
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (global.get $heap) (i32.const 0x10000)) (then unreachable))
      (local.get $p)))
  (core instance $mem-instance (instantiate $mem-module))
  (alias core export $mem-instance "memory" (core memory $mem))
  (alias core export $mem-instance "realloc" (core func $realloc))
  (alias core export $mem-instance "heap" (core global $heap))

  (core func $read (canon lower (func $streams "[method]input-stream.blocking-read") (memory $mem) (realloc $realloc)))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush") (memory $mem)))
  (core func $fields-new (canon lower (func $types "[constructor]fields")))
  (core func $fields-append (canon lower (func $types "[method]fields.append") (memory $mem)))
  (core func $method (canon lower (func $types "[method]incoming-request.method") (memory $mem) (realloc $realloc)))
  (core func $path (canon lower (func $types "[method]incoming-request.path-with-query") (memory $mem) (realloc $realloc)))
  (core func $consume (canon lower (func $types "[method]incoming-request.consume") (memory $mem)))
  (core func $body-stream (canon lower (func $types "[method]incoming-body.stream") (memory $mem)))
  (core func $response-new (canon lower (func $types "[constructor]outgoing-response")))
  (core func $response-body (canon lower (func $types "[method]outgoing-response.body") (memory $mem)))
  (core func $body-write (canon lower (func $types "[method]outgoing-body.write") (memory $mem)))
  (core func $body-finish (canon lower (func $types "[static]outgoing-body.finish") (memory $mem) (realloc $realloc)))
  (core func $outparam-set (canon lower (func $types "[static]response-outparam.set") (memory $mem)))
  (core func $drop-error (canon resource.drop $error))
  (core func $drop-input-stream (canon resource.drop $input-stream))
  (core func $drop-output-stream (canon resource.drop $output-stream))
  (core func $drop-incoming-request (canon resource.drop $incoming-request))
  (core func $drop-incoming-body (canon resource.drop $incoming-body))
  (core instance $wasi
    (export "read" (func $read))
    (export "write" (func $write))
    (export "fields-new" (func $fields-new))
    (export "fields-append" (func $fields-append))
    (export "method" (func $method))
    (export "path" (func $path))
    (export "consume" (func $consume))
    (export "body-stream" (func $body-stream))
    (export "response-new" (func $response-new))
    (export "response-body" (func $response-body))
    (export "body-write" (func $body-write))
    (export "body-finish" (func $body-finish))
    (export "outparam-set" (func $outparam-set))
    (export "drop-error" (func $drop-error))
    (export "drop-input-stream" (func $drop-input-stream))
    (export "drop-output-stream" (func $drop-output-stream))
    (export "drop-incoming-request" (func $drop-incoming-request))
    (export "drop-incoming-body" (func $drop-incoming-body)))

  (core module $main
    (import "env" "memory" (memory 1))
    (import "env" "heap" (global $heap (mut i32)))
    (import "wasi" "read" (func $read (param i32 i64 i32)))
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "fields-new" (func $fields-new (result i32)))
    (import "wasi" "fields-append" (func $fields-append (param i32 i32 i32 i32 i32 i32)))
    (import "wasi" "method" (func $method (param i32 i32)))
    (import "wasi" "path" (func $path (param i32 i32)))
    (import "wasi" "consume" (func $consume (param i32 i32)))
    (import "wasi" "body-stream" (func $body-stream (param i32 i32)))
    (import "wasi" "response-new" (func $response-new (param i32) (result i32)))
    (import "wasi" "response-body" (func $response-body (param i32 i32)))
    (import "wasi" "body-write" (func $body-write (param i32 i32)))
    ;; body, option<trailers> (case, trailers), return area
    (import "wasi" "body-finish" (func $body-finish (param i32 i32 i32 i32)))
    ;; outparam, then result<outgoing-response, error-code> flattened: case,
    ;; response (or the error's case), the error-code payload's slots
    (import "wasi" "outparam-set" (func $outparam-set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
    (import "wasi" "drop-error" (func $drop-error (param i32)))
    (import "wasi" "drop-input-stream" (func $drop-input-stream (param i32)))
    (import "wasi" "drop-output-stream" (func $drop-output-stream (param i32)))
    (import "wasi" "drop-incoming-request" (func $drop-incoming-request (param i32)))
    (import "wasi" "drop-incoming-body" (func $drop-incoming-body (param i32)))

    ;; Memory: 0x10.. a result through a pointer (12 bytes); 0x100.. texts;
    ;; 0x1000..0x10000 the allocator's.
    (global $RET i32 (i32.const 0x10))
    (global $HEAP i32 (i32.const 0x1000))
    (data (i32.const 0x100) "hello, world\0a")  ;; 13
    (data (i32.const 0x120) "content-type")     ;; 12
    (data (i32.const 0x130) "text/plain")       ;; 10
    (data (i32.const 0x140) "/echo")            ;; 5

    (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))

    ;; The own handle in an ok result<own T> at $RET (case 0, handle at +4).
    (func $ok-handle (result i32)
      (call $check (i32.eqz (i32.load8_u (global.get $RET))))
      (i32.load offset=4 (global.get $RET)))

    ;; Is the request POST /echo?
    (func $is-echo (param $request i32) (result i32)
      (global.set $heap (global.get $HEAP))
      (call $method (local.get $request) (global.get $RET))
      (if (i32.ne (i32.load8_u (global.get $RET)) (i32.const 2 (; post ;))) (then (return (i32.const 0))))
      (global.set $heap (global.get $HEAP))
      (call $path (local.get $request) (global.get $RET))
      (i32.and
        (i32.and (i32.eq (i32.load8_u (global.get $RET)) (i32.const 1 (; some ;)))
                 (i32.eq (i32.load offset=8 (global.get $RET)) (i32.const 5)))
        (i32.and (i32.eq (i32.load (i32.load offset=4 (global.get $RET))) (i32.load (i32.const 0x140)))
                 (i32.eq (i32.load8_u offset=4 (i32.load offset=4 (global.get $RET))) (i32.load8_u (i32.const 0x144))))))

    ;; A stream's result<_, stream-error> or result<list<u8>, stream-error>
    ;; at $RET: 1 when ok; on an error its io error (last-operation-failed)
    ;; is dropped.
    (func $stream-ok (result i32)
      (if (i32.eqz (i32.load8_u (global.get $RET))) (then (return (i32.const 1))))
      (if (i32.eqz (i32.load8_u offset=4 (global.get $RET) (; last-operation-failed ;)))
        (then (call $drop-error (i32.load offset=8 (global.get $RET)))))
      (i32.const 0))

    ;; Writes $n bytes at $at to $out in pieces of up to 4096 bytes; 0 once
    ;; a write failed (the client went away), else 1.
    (func $write-all (param $out i32) (param $at i32) (param $n i32) (result i32)
      (local $piece i32)
      (loop $more
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (local.set $piece (select (i32.const 4096) (local.get $n) (i32.gt_u (local.get $n) (i32.const 4096))))
        (call $write (local.get $out) (local.get $at) (local.get $piece) (global.get $RET))
        (if (i32.eqz (call $stream-ok)) (then (return (i32.const 0))))
        (local.set $at (i32.add (local.get $at) (local.get $piece)))
        (local.set $n (i32.sub (local.get $n) (local.get $piece)))
        (br $more))
      unreachable)

    ;; Copies the request's body to $out until it is closed (or failed, or
    ;; $out failed).
    (func $echo (param $request i32) (param $out i32)
      (local $body i32) (local $in i32)
      (call $consume (local.get $request) (global.get $RET))
      (local.set $body (call $ok-handle))
      (call $body-stream (local.get $body) (global.get $RET))
      (local.set $in (call $ok-handle))
      (loop $more
        (global.set $heap (global.get $HEAP))
        (call $read (local.get $in) (i64.const 4096) (global.get $RET))
        (if (call $stream-ok)
          (then
            (br_if $more (call $write-all (local.get $out)
              (i32.load offset=4 (global.get $RET)) (i32.load offset=8 (global.get $RET)))))))
      ;; The stream is a child of the body: it goes first.
      (call $drop-input-stream (local.get $in))
      (call $drop-incoming-body (local.get $body)))

    (func (export "handle") (param $request i32) (param $response-out i32)
      (local $fields i32) (local $response i32) (local $body i32) (local $out i32)
      (local.set $fields (call $fields-new))
      (call $fields-append (local.get $fields) (i32.const 0x120) (i32.const 12) (i32.const 0x130) (i32.const 10)
        (global.get $RET))
      (call $check (i32.eqz (i32.load8_u (global.get $RET))))
      (local.set $response (call $response-new (local.get $fields)))
      (call $response-body (local.get $response) (global.get $RET))
      (local.set $body (call $ok-handle))
      (call $outparam-set (local.get $response-out) (i32.const 0 (; ok ;)) (local.get $response)
        (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
      (call $body-write (local.get $body) (global.get $RET))
      (local.set $out (call $ok-handle))
      (if (call $is-echo (local.get $request))
        (then (call $echo (local.get $request) (local.get $out)))
        (else (drop (call $write-all (local.get $out) (i32.const 0x100) (i32.const 13)))))
      (call $drop-incoming-request (local.get $request))
      ;; The output stream is a child of the body: it goes before finish.
      (call $drop-output-stream (local.get $out))
      ;; No trailers. An error here means the client went away: nothing to do.
      (global.set $heap (global.get $HEAP))
      (call $body-finish (local.get $body) (i32.const 0 (; none ;)) (i32.const 0) (global.get $RET))))
  (core instance $main-instance (instantiate $main
    (with "env" (instance (export "memory" (memory $mem)) (export "heap" (global $heap))))
    (with "wasi" (instance $wasi))))

  (func $handle (param "request" (own $incoming-request)) (param "response-out" (own $response-outparam))
    (canon lift (core func $main-instance "handle")))
  (instance $incoming-handler (export "handle" (func $handle)))
  (export "wasi:http/incoming-handler@0.2.0" (instance $incoming-handler)))
