;; A wasi:cli@0.3.0 command that sends one GET with wasi:http/client@0.3.0
;; `send`, as one stackful async task (canon lift async without a callback:
;; it blocks in waitable-set.wait):
;;   FETCH_AUTHORITY=HOST:PORT FETCH_PATH=/PATH weft run -S http fetch-p3.wasm
;; The request has no body (its trailers future says ok(none)); the
;; response's status code (decimal) and a newline, then its body, go to
;; stdout and run returns ok. When send fails, "fetch: send failed: CASE"
;; (the error-code case, e.g. HTTP-request-denied) goes to stderr and run
;; returns err (exit status 1); so does "fetch: FETCH_AUTHORITY is not set".
;; FETCH_PATH defaults to "/". Traps (unreachable) on anything unexpected.
(component $fetch
  (import "wasi:cli/environment@0.3.0" (instance $environment
    (export "get-environment" (func (result (list (tuple string string)))))))
  (import "wasi:cli/types@0.3.0" (instance $cli-types
    (type $ec (enum "io" "illegal-byte-sequence" "pipe"))
    (export "error-code" (type (eq $ec)))))
  (alias export $cli-types "error-code" (type $cli-error-code))
  (import "wasi:cli/stdout@0.3.0" (instance $stdout
    (alias outer $fetch $cli-error-code (type $ec))
    (export "error-code" (type $ec-e (eq $ec)))
    (export "write-via-stream" (func (param "data" (stream u8)) (result (future (result (error $ec-e))))))))
  (import "wasi:cli/stderr@0.3.0" (instance $stderr
    (alias outer $fetch $cli-error-code (type $ec))
    (export "error-code" (type $ec-e (eq $ec)))
    (export "write-via-stream" (func (param "data" (stream u8)) (result (future (result (error $ec-e))))))))
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
    (export "fields" (type $fields (sub resource)))
    (export "headers" (type $headers (eq $fields)))
    (export "trailers" (type $trailers (eq $fields)))
    (export "request" (type $request (sub resource)))
    (export "request-options" (type $request-options (sub resource)))
    (export "response" (type $response (sub resource)))
    (type $res (future (result (error $ec-e))))
    (type $trailers-future (future (result (option (own $trailers)) (error $ec-e))))
    (export "[constructor]fields" (func (result (own $fields))))
    (export "[static]request.new"
      (func (param "headers" (own $headers)) (param "contents" (option (stream u8)))
            (param "trailers" $trailers-future) (param "options" (option (own $request-options)))
            (result (tuple (own $request) $res))))
    (export "[method]request.set-path-with-query"
      (func (param "self" (borrow $request)) (param "path-with-query" (option string)) (result (result))))
    (export "[method]request.set-authority"
      (func (param "self" (borrow $request)) (param "authority" (option string)) (result (result))))
    (export "[method]response.get-status-code" (func (param "self" (borrow $response)) (result u16)))
    (export "[static]response.consume-body"
      (func (param "this" (own $response)) (param "res" $res) (result (tuple (stream u8) $trailers-future))))))
  (alias export $types "request" (type $request))
  (alias export $types "response" (type $response))
  (alias export $types "trailers" (type $trailers))
  (alias export $types "error-code" (type $error-code))
  (import "wasi:http/client@0.3.0" (instance $client
    (alias outer $fetch $request (type $rq))
    (export "request" (type $rq-e (eq $rq)))
    (alias outer $fetch $response (type $rs))
    (export "response" (type $rs-e (eq $rs)))
    (alias outer $fetch $error-code (type $ec))
    (export "error-code" (type $ec-e (eq $ec)))
    (export "send" (func async (param "request" (own $rq-e)) (result (result (own $rs-e) (error $ec-e)))))))

  (type $bytes (stream u8))
  (type $res (future (result (error $error-code))))
  (type $trailers-future (future (result (option (own $trailers)) (error $error-code))))
  (type $cli-outcome (future (result (error $cli-error-code))))
  (type $run-result (result))

  ;; The memory and a bump allocator for what the host returns (the
  ;; environment, an error's strings); nothing is freed.
  (core module $mem-module
    (memory (export "memory") 3)
    (global $heap (mut i32) (i32.const 0x1000))
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

  (core func $get-environment (canon lower (func $environment "get-environment") (memory $mem) (realloc $realloc)))
  (core func $stdout-write (canon lower (func $stdout "write-via-stream")))
  (core func $stderr-write (canon lower (func $stderr "write-via-stream")))
  (core func $fields-new (canon lower (func $types "[constructor]fields")))
  (core func $request-new (canon lower (func $types "[static]request.new") (memory $mem)))
  (core func $set-path (canon lower (func $types "[method]request.set-path-with-query") (memory $mem)))
  (core func $set-authority (canon lower (func $types "[method]request.set-authority") (memory $mem)))
  (core func $get-status-code (canon lower (func $types "[method]response.get-status-code")))
  (core func $consume-body (canon lower (func $types "[static]response.consume-body") (memory $mem)))
  (core func $send (canon lower (func $client "send") async (memory $mem) (realloc $realloc)))
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
  (core func $cli-outcome-read (canon future.read $cli-outcome async (memory $mem)))
  (core func $cli-outcome-drop-readable (canon future.drop-readable $cli-outcome))
  (core func $subtask-drop (canon subtask.drop))
  (core func $waitable-set-new (canon waitable-set.new))
  (core func $waitable-set-wait (canon waitable-set.wait (memory $mem)))
  (core func $waitable-join (canon waitable.join))
  (core func $task-return (canon task.return (result $run-result)))
  (core instance $wasi
    (export "get-environment" (func $get-environment))
    (export "stdout-write" (func $stdout-write))
    (export "stderr-write" (func $stderr-write))
    (export "fields-new" (func $fields-new))
    (export "request-new" (func $request-new))
    (export "set-path" (func $set-path))
    (export "set-authority" (func $set-authority))
    (export "get-status-code" (func $get-status-code))
    (export "consume-body" (func $consume-body))
    (export "send" (func $send))
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
    (export "cli-outcome-read" (func $cli-outcome-read))
    (export "cli-outcome-drop-readable" (func $cli-outcome-drop-readable))
    (export "subtask-drop" (func $subtask-drop))
    (export "waitable-set-new" (func $waitable-set-new))
    (export "waitable-set-wait" (func $waitable-set-wait))
    (export "waitable-join" (func $waitable-join))
    (export "task-return" (func $task-return)))

  (core module $main
    (import "env" "memory" (memory 3))
    (import "wasi" "get-environment" (func $get-environment (param i32)))
    (import "wasi" "stdout-write" (func $stdout-write (param i32) (result i32)))
    (import "wasi" "stderr-write" (func $stderr-write (param i32) (result i32)))
    (import "wasi" "fields-new" (func $fields-new (result i32)))
    ;; headers, option<stream> (case, stream), trailers,
    ;; option<request-options> (case, options), return area
    (import "wasi" "request-new" (func $request-new (param i32 i32 i32 i32 i32 i32 i32)))
    ;; self, option<string> (case, pointer, length)
    (import "wasi" "set-path" (func $set-path (param i32 i32 i32 i32) (result i32)))
    (import "wasi" "set-authority" (func $set-authority (param i32 i32 i32 i32) (result i32)))
    (import "wasi" "get-status-code" (func $get-status-code (param i32) (result i32)))
    (import "wasi" "consume-body" (func $consume-body (param i32 i32 i32)))
    (import "wasi" "send" (func $send (param i32 i32) (result i32)))
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
    (import "wasi" "cli-outcome-read" (func $cli-outcome-read (param i32 i32) (result i32)))
    (import "wasi" "cli-outcome-drop-readable" (func $cli-outcome-drop-readable (param i32)))
    (import "wasi" "subtask-drop" (func $subtask-drop (param i32)))
    (import "wasi" "waitable-set-new" (func $waitable-set-new (result i32)))
    (import "wasi" "waitable-set-wait" (func $waitable-set-wait (param i32 i32) (result i32)))
    (import "wasi" "waitable-join" (func $waitable-join (param i32 i32)))
    (import "wasi" "task-return" (func $task-return (param i32)))

    ;; Memory: 0x10 results through a pointer; 0x20 an event's (index,
    ;; payload); 0x30..0x60 zeros (the futures' ok values); 0x60 a cli
    ;; future's value; 0x80 send's result (40 bytes); 0x100.. texts; 0x400..
    ;; the error-code case names, one a line; 0x1000..0x10000 the allocator's;
    ;; 0x10000.. the output line and the copy buffer.
    (global $RET i32 (i32.const 0x10))
    (global $EVENT i32 (i32.const 0x20))
    (global $ZEROS i32 (i32.const 0x30))
    (global $CLI_VALUE i32 (i32.const 0x60))
    (global $SENT i32 (i32.const 0x80))
    (global $NAMES i32 (i32.const 0x400))
    (global $LINE i32 (i32.const 0x10000))
    (global $BUFFER i32 (i32.const 0x10100))
    (global $BUFFER_SIZE i32 (i32.const 0xff00))
    (global $BLOCKED i32 (i32.const -1))
    (data (i32.const 0x100) "FETCH_AUTHORITY")                        ;; 15
    (data (i32.const 0x110) "FETCH_PATH")                             ;; 10
    (data (i32.const 0x120) "/")                                      ;; 1
    (data (i32.const 0x130) "fetch: FETCH_AUTHORITY is not set\0a")   ;; 34
    (data (i32.const 0x160) "fetch: send failed: ")                   ;; 20
    (data (i32.const 0x400)
      "DNS-timeout\0aDNS-error\0adestination-not-found\0adestination-unavailable\0a"
      "destination-IP-prohibited\0adestination-IP-unroutable\0aconnection-refused\0a"
      "connection-terminated\0aconnection-timeout\0aconnection-read-timeout\0a"
      "connection-write-timeout\0aconnection-limit-reached\0aTLS-protocol-error\0a"
      "TLS-certificate-error\0aTLS-alert-received\0aHTTP-request-denied\0a"
      "HTTP-request-length-required\0aHTTP-request-body-size\0aHTTP-request-method-invalid\0a"
      "HTTP-request-URI-invalid\0aHTTP-request-URI-too-long\0aHTTP-request-header-section-size\0a"
      "HTTP-request-header-size\0aHTTP-request-trailer-section-size\0aHTTP-request-trailer-size\0a"
      "HTTP-response-incomplete\0aHTTP-response-header-section-size\0aHTTP-response-header-size\0a"
      "HTTP-response-body-size\0aHTTP-response-trailer-section-size\0aHTTP-response-trailer-size\0a"
      "HTTP-response-transfer-coding\0aHTTP-response-content-coding\0aHTTP-response-timeout\0a"
      "HTTP-upgrade-failed\0aHTTP-protocol-error\0aloop-detected\0aconfiguration-error\0a"
      "internal-error\0a")
    (global $set (mut i32) (i32.const 0))
    ;; The writable ends of the request's trailers and the response's
    ;; outcome while their writes wait for the host's read (else 0).
    (global $trailers-pending (mut i32) (i32.const 0))
    (global $res-pending (mut i32) (i32.const 0))

    (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))

    ;; One event from the set: a pending future write that finished is
    ;; noted; else it must be waitable $w's. Returns the event code (0 for
    ;; a future write).
    (func $next-event (param $w i32) (result i32)
      (local $event i32) (local $index i32)
      (local.set $event (call $waitable-set-wait (global.get $set) (global.get $EVENT)))
      (local.set $index (i32.load (global.get $EVENT)))
      (call $waitable-join (local.get $index) (i32.const 0))
      (if (i32.eq (local.get $event) (i32.const 5 (; FUTURE_WRITE ;)))
        (then
          ;; COMPLETED, or DROPPED: the host no longer wants it.
          (call $check (i32.le_u (i32.load offset=4 (global.get $EVENT)) (i32.const 1)))
          (if (i32.eq (local.get $index) (global.get $trailers-pending))
            (then (global.set $trailers-pending (i32.const 0)) (return (i32.const 0))))
          (call $check (i32.eq (local.get $index) (global.get $res-pending)))
          (global.set $res-pending (i32.const 0))
          (return (i32.const 0))))
      (call $check (i32.eq (local.get $index) (local.get $w)))
      (local.get $event))

    ;; Waits for the one event of waitable $w, which must be $event; returns
    ;; its payload.
    (func $await (param $w i32) (param $event i32) (result i32)
      (local $got i32)
      (loop $wait
        (call $waitable-join (local.get $w) (global.get $set))
        (local.set $got (call $next-event (local.get $w)))
        (br_if $wait (i32.eqz (local.get $got))))
      (call $check (i32.eq (local.get $got) (local.get $event)))
      (i32.load offset=4 (global.get $EVENT)))

    ;; Starts writing a future's value: returns its writable end when the
    ;; write waits for the host (it then waits in the set), else 0.
    (func $pending (param $w i32) (param $r i32) (result i32)
      (if (i32.eq (local.get $r) (global.get $BLOCKED))
        (then
          (call $waitable-join (local.get $w) (global.get $set))
          (return (local.get $w))))
      (call $check (i32.le_u (local.get $r) (i32.const 1)))
      (i32.const 0))

    ;; Writes $n bytes at $at into stream $w.
    (func $write-all (param $w i32) (param $at i32) (param $n i32)
      (local $r i32)
      (loop $more
        (if (i32.eqz (local.get $n)) (then (return)))
        (local.set $r (call $bytes-write (local.get $w) (local.get $at) (local.get $n)))
        (if (i32.eq (local.get $r) (global.get $BLOCKED))
          (then (local.set $r (call $await (local.get $w) (i32.const 3 (; STREAM_WRITE ;))))))
        (call $check (i32.eqz (i32.and (local.get $r) (i32.const 0xf))))
        (local.set $at (i32.add (local.get $at) (i32.shr_u (local.get $r) (i32.const 4))))
        (local.set $n (i32.sub (local.get $n) (i32.shr_u (local.get $r) (i32.const 4))))
        (br $more)))

    ;; A stream for stdout ($stdout-write) or stderr: returns its writable
    ;; end and the future that says how it went.
    (func $open-output (param $stdout i32) (result i32 i32)
      (local $ends i64)
      (local.set $ends (call $bytes-new))
      (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32)))
      (if (result i32) (local.get $stdout)
        (then (call $stdout-write (i32.wrap_i64 (local.get $ends))))
        (else (call $stderr-write (i32.wrap_i64 (local.get $ends))))))

    ;; Ends an output stream and waits until its future says ok.
    (func $close-output (param $w i32) (param $done i32)
      (local $r i32)
      (call $bytes-drop-writable (local.get $w))
      (local.set $r (call $cli-outcome-read (local.get $done) (global.get $CLI_VALUE)))
      (if (i32.eq (local.get $r) (global.get $BLOCKED))
        (then (local.set $r (call $await (local.get $done) (i32.const 4 (; FUTURE_READ ;))))))
      (call $check (i32.eqz (local.get $r (; COMPLETED ;))))
      (call $check (i32.eqz (i32.load8_u (global.get $CLI_VALUE))))
      (call $cli-outcome-drop-readable (local.get $done)))

    ;; Writes $n bytes at $at to stderr.
    (func $complain (param $at i32) (param $n i32)
      (local $w i32) (local $done i32)
      (call $open-output (i32.const 0))
      (local.set $done)
      (local.set $w)
      (call $write-all (local.get $w) (local.get $at) (local.get $n))
      (call $close-output (local.get $w) (local.get $done)))

    ;; The environment variable named by ($name, $n) as (pointer, length),
    ;; or (0, -1) when it is not set.
    (func $getenv (param $name i32) (param $n i32) (result i32 i32)
      (local $entry i32) (local $end i32) (local $i i32)
      (local.set $entry (i32.load (global.get $RET)))
      (local.set $end (i32.add (local.get $entry) (i32.shl (i32.load offset=4 (global.get $RET)) (i32.const 4))))
      (block $absent
        (loop $entries
          (br_if $absent (i32.ge_u (local.get $entry) (local.get $end)))
          (block $differs
            (br_if $differs (i32.ne (i32.load offset=4 (local.get $entry)) (local.get $n)))
            (local.set $i (i32.const 0))
            (loop $bytes
              (if (i32.lt_u (local.get $i) (local.get $n))
                (then
                  (br_if $differs (i32.ne (i32.load8_u (i32.add (i32.load (local.get $entry)) (local.get $i)))
                                          (i32.load8_u (i32.add (local.get $name) (local.get $i)))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br $bytes))))
            (return (i32.load offset=8 (local.get $entry)) (i32.load offset=12 (local.get $entry))))
          (local.set $entry (i32.add (local.get $entry) (i32.const 16)))
          (br $entries)))
      (i32.const 0) (i32.const -1))

    ;; Reports the error-code case $case on stderr.
    (func $send-failed (param $case i32)
      (local $at i32) (local $end i32)
      (local.set $at (global.get $NAMES))
      (loop $skip
        (if (local.get $case)
          (then
            (loop $line
              (local.set $at (i32.add (local.get $at) (i32.const 1)))
              (br_if $line (i32.ne (i32.load8_u (i32.sub (local.get $at) (i32.const 1))) (i32.const 10))))
            (local.set $case (i32.sub (local.get $case) (i32.const 1)))
            (br $skip))))
      (local.set $end (local.get $at))
      (loop $line
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br_if $line (i32.ne (i32.load8_u (i32.sub (local.get $end) (i32.const 1))) (i32.const 10))))
      ;; "fetch: send failed: CASE\n" in one write
      (memory.copy (global.get $LINE) (i32.const 0x160) (i32.const 20))
      (memory.copy (i32.add (global.get $LINE) (i32.const 20)) (local.get $at) (i32.sub (local.get $end) (local.get $at)))
      (call $complain (global.get $LINE) (i32.add (i32.const 20) (i32.sub (local.get $end) (local.get $at)))))

    ;; Writes $value in decimal and a newline at $at; returns the length.
    (func $status-line (param $at i32) (param $value i32) (result i32)
      (local $n i32) (local $v i32)
      (local.set $v (local.get $value))
      (loop $digits
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
        (br_if $digits (local.get $v)))
      (i32.store8 (i32.add (local.get $at) (local.get $n)) (i32.const 10))
      (local.set $v (local.get $n))
      (loop $each
        (local.set $v (i32.sub (local.get $v) (i32.const 1)))
        (i32.store8 (i32.add (local.get $at) (local.get $v))
          (i32.add (i32.const 48) (i32.rem_u (local.get $value) (i32.const 10))))
        (local.set $value (i32.div_u (local.get $value) (i32.const 10)))
        (br_if $each (local.get $v)))
      (i32.add (local.get $n) (i32.const 1)))

    ;; The response: its status line, then its body, to stdout.
    (func $print-response (param $response i32)
      (local $ends i64) (local $res i32) (local $in i32) (local $out i32) (local $done i32) (local $r i32)
      (call $open-output (i32.const 1))
      (local.set $done)
      (local.set $out)
      (call $write-all (local.get $out) (global.get $LINE)
        (call $status-line (global.get $LINE) (call $get-status-code (local.get $response))))
      (local.set $ends (call $res-new))
      (local.set $res (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (call $consume-body (local.get $response) (i32.wrap_i64 (local.get $ends)) (global.get $RET))
      (local.set $in (i32.load (global.get $RET)))
      (call $trailers-drop-readable (i32.load offset=4 (global.get $RET)))
      (loop $copy
        (local.set $r (call $bytes-read (local.get $in) (global.get $BUFFER) (global.get $BUFFER_SIZE)))
        (if (i32.eq (local.get $r) (global.get $BLOCKED))
          (then (local.set $r (call $await (local.get $in) (i32.const 2 (; STREAM_READ ;))))))
        (call $check (i32.le_u (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1 (; DROPPED ;))))
        (call $write-all (local.get $out) (global.get $BUFFER) (i32.shr_u (local.get $r) (i32.const 4)))
        (br_if $copy (i32.eqz (i32.and (local.get $r) (i32.const 0xf)))))
      (call $bytes-drop-readable (local.get $in))
      (call $close-output (local.get $out) (local.get $done))
      ;; Handling the response went well.
      (global.set $res-pending (call $pending (local.get $res) (call $res-write (local.get $res) (global.get $ZEROS))))
      (loop $wait
        (if (global.get $res-pending)
          (then
            (drop (call $next-event (i32.const 0)))
            (br $wait))))
      (call $res-drop-writable (local.get $res)))

    (func (export "run")
      (local $authority i32) (local $authority-n i32) (local $path i32) (local $path-n i32)
      (local $ends i64) (local $trailers i32) (local $request i32) (local $r i32) (local $subtask i32)
      (global.set $set (call $waitable-set-new))
      (call $get-environment (global.get $RET))
      (call $getenv (i32.const 0x100) (i32.const 15))
      (local.set $authority-n)
      (local.set $authority)
      (call $getenv (i32.const 0x110) (i32.const 10))
      (local.set $path-n)
      (local.set $path)
      (if (i32.eq (local.get $path-n) (i32.const -1))
        (then
          (local.set $path (i32.const 0x120))
          (local.set $path-n (i32.const 1))))
      (if (i32.eq (local.get $authority-n) (i32.const -1))
        (then
          (call $complain (i32.const 0x130) (i32.const 34))
          (call $task-return (i32.const 1 (; err ;)))
          (return)))

      ;; GET http://AUTHORITY/PATH without a body: the trailers future's
      ;; value ok(none) goes when the host reads it.
      (local.set $ends (call $trailers-new))
      (local.set $trailers (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (call $request-new (call $fields-new) (i32.const 0 (; none ;)) (i32.const 0) (i32.wrap_i64 (local.get $ends))
        (i32.const 0 (; none ;)) (i32.const 0) (global.get $RET))
      (local.set $request (i32.load (global.get $RET)))
      (call $res-drop-readable (i32.load offset=4 (global.get $RET)))
      (call $check (i32.eqz (call $set-authority (local.get $request) (i32.const 1)
        (local.get $authority) (local.get $authority-n))))
      (call $check (i32.eqz (call $set-path (local.get $request) (i32.const 1) (local.get $path) (local.get $path-n))))
      (global.set $trailers-pending (call $pending (local.get $trailers)
        (call $trailers-write (local.get $trailers) (global.get $ZEROS))))

      (local.set $r (call $send (local.get $request) (global.get $SENT)))
      (if (i32.ne (local.get $r) (i32.const 2 (; RETURNED ;)))
        (then
          (local.set $subtask (i32.shr_u (local.get $r) (i32.const 4)))
          (loop $progress
            (br_if $progress (i32.ne (call $await (local.get $subtask) (i32.const 1 (; SUBTASK ;)))
                                     (i32.const 2 (; RETURNED ;)))))
          (call $subtask-drop (local.get $subtask))))
      ;; result<response, error-code>: the case at 0, the payload at 8
      (if (i32.load8_u (global.get $SENT))
        (then (call $send-failed (i32.load8_u offset=8 (global.get $SENT))))
        (else (call $print-response (i32.load offset=8 (global.get $SENT)))))
      (loop $wait
        (if (global.get $trailers-pending)
          (then
            (drop (call $next-event (i32.const 0)))
            (br $wait))))
      (call $trailers-drop-writable (local.get $trailers))
      (call $task-return (i32.load8_u (global.get $SENT) (; ok or err ;)))))
  (core instance $main-instance (instantiate $main
    (with "env" (instance (export "memory" (memory $mem))))
    (with "wasi" (instance $wasi))))

  (func $run async (result $run-result)
    (canon lift (core func $main-instance "run") async))
  (instance $cli-run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $cli-run)))
