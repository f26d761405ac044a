;; A file copy through wasi:filesystem@0.3.0's streams, written as one
;; stackful async task (canon lift async without a callback: it blocks in
;; waitable-set.wait). In the one preopen, /sandbox, run creates src.txt
;; from its memory through write-via-stream, then copies it to dst.txt:
;; read-via-stream into a 16-byte buffer, each chunk written to the stream
;; given to dst's write-via-stream, until src's writer drops. Opens are
;; async-lowered open-at calls; each future must say ok. The runner checks
;; both files (file-copy.tmp). Traps (unreachable) on any mismatch.
(component $file-copy
  (import "wasi:filesystem/types@0.3.0" (instance $types
    (type $option-string (option string))
    (type $error-code-type (variant (case "access") (case "already") (case "bad-descriptor")
      (case "busy") (case "deadlock") (case "quota") (case "exist") (case "file-too-large")
      (case "illegal-byte-sequence") (case "in-progress") (case "interrupted") (case "invalid")
      (case "io") (case "is-directory") (case "loop") (case "too-many-links") (case "message-size")
      (case "name-too-long") (case "no-device") (case "no-entry") (case "no-lock")
      (case "insufficient-memory") (case "insufficient-space") (case "not-directory")
      (case "not-empty") (case "not-recoverable") (case "unsupported") (case "no-tty")
      (case "no-such-device") (case "overflow") (case "not-permitted") (case "pipe")
      (case "read-only") (case "invalid-seek") (case "text-file-busy") (case "cross-device")
      (case "other" $option-string)))
    (export "error-code" (type $error-code (eq $error-code-type)))
    (export "descriptor" (type $descriptor (sub resource)))
    (type $filesize-type u64)
    (export "filesize" (type $filesize (eq $filesize-type)))
    (type $path-flags-type (flags "symlink-follow"))
    (export "path-flags" (type $path-flags (eq $path-flags-type)))
    (type $open-flags-type (flags "create" "directory" "exclusive" "truncate"))
    (export "open-flags" (type $open-flags (eq $open-flags-type)))
    (type $descriptor-flags-type (flags "read" "write" "file-integrity-sync"
      "data-integrity-sync" "requested-write-sync" "mutate-directory"))
    (export "descriptor-flags" (type $descriptor-flags (eq $descriptor-flags-type)))
    (type $result (result (error $error-code)))
    (type $done (future $result))
    (type $open-result (result (own $descriptor) (error $error-code)))
    (export "[method]descriptor.read-via-stream"
      (func (param "self" (borrow $descriptor)) (param "offset" $filesize)
        (result (tuple (stream u8) $done))))
    (export "[method]descriptor.write-via-stream"
      (func (param "self" (borrow $descriptor)) (param "data" (stream u8)) (param "offset" $filesize)
        (result $done)))
    (export "[method]descriptor.open-at"
      (func async (param "self" (borrow $descriptor)) (param "path-flags" $path-flags)
        (param "path" string) (param "open-flags" $open-flags) (param "flags" $descriptor-flags)
        (result $open-result)))))
  (alias export $types "descriptor" (type $descriptor))
  (alias export $types "error-code" (type $error-code))
  (import "wasi:filesystem/preopens@0.3.0" (instance $preopens
    (alias outer $file-copy $descriptor (type $descriptor-outer))
    (export "descriptor" (type $descriptor-in (eq $descriptor-outer)))
    (export "get-directories" (func (result (list (tuple (own $descriptor-in) string)))))))

  (type $bytes (stream u8))
  (type $io-result (result (error $error-code)))
  (type $done (future $io-result))
  (type $run-result (result))

  ;; Memory and a bump allocator for the lowered strings and lists.
  (core module $mem-module
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                              (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at)))
  (core instance $mem-instance (instantiate $mem-module))
  (alias core export $mem-instance "memory" (core memory $mem))
  (alias core export $mem-instance "realloc" (core func $realloc))

  (core func $get-directories (canon lower (func $preopens "get-directories")
    (memory $mem) (realloc $realloc)))
  (core func $open-at (canon lower (func $types "[method]descriptor.open-at") async
    (memory $mem) (realloc $realloc)))
  (core func $read-via-stream (canon lower (func $types "[method]descriptor.read-via-stream")
    (memory $mem)))
  (core func $write-via-stream (canon lower (func $types "[method]descriptor.write-via-stream")))
  (core func $drop-descriptor (canon resource.drop $descriptor))
  (core func $stream.new (canon stream.new $bytes))
  (core func $stream.read (canon stream.read $bytes async (memory $mem)))
  (core func $stream.write (canon stream.write $bytes async (memory $mem)))
  (core func $stream.drop-readable (canon stream.drop-readable $bytes))
  (core func $stream.drop-writable (canon stream.drop-writable $bytes))
  (core func $future.read (canon future.read $done async (memory $mem) (realloc $realloc)))
  (core func $future.drop-readable (canon future.drop-readable $done))
  (core func $subtask.drop (canon subtask.drop))
  (core func $waitable-set.new (canon waitable-set.new))
  (core func $waitable-set.wait (canon waitable-set.wait (memory $mem)))
  (core func $waitable.join (canon waitable.join))
  (core func $task.return (canon task.return (result $run-result)))
  (core instance $wasi
    (export "get-directories" (func $get-directories))
    (export "open-at" (func $open-at))
    (export "read-via-stream" (func $read-via-stream))
    (export "write-via-stream" (func $write-via-stream))
    (export "drop-descriptor" (func $drop-descriptor))
    (export "stream.new" (func $stream.new))
    (export "stream.read" (func $stream.read))
    (export "stream.write" (func $stream.write))
    (export "stream.drop-readable" (func $stream.drop-readable))
    (export "stream.drop-writable" (func $stream.drop-writable))
    (export "future.read" (func $future.read))
    (export "future.drop-readable" (func $future.drop-readable))
    (export "subtask.drop" (func $subtask.drop))
    (export "waitable-set.new" (func $waitable-set.new))
    (export "waitable-set.wait" (func $waitable-set.wait))
    (export "waitable.join" (func $waitable.join))
    (export "task.return" (func $task.return)))

  (core module $main
    (import "env" "memory" (memory 1))
    (import "wasi" "get-directories" (func $get-directories (param i32)))
    (import "wasi" "open-at" (func $open-at (param i32 i32) (result i32)))
    (import "wasi" "read-via-stream" (func $read-via-stream (param i32 i64 i32)))
    (import "wasi" "write-via-stream" (func $write-via-stream (param i32 i32 i64) (result i32)))
    (import "wasi" "drop-descriptor" (func $drop-descriptor (param i32)))
    (import "wasi" "stream.new" (func $stream.new (result i64)))
    (import "wasi" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
    (import "wasi" "stream.write" (func $stream.write (param i32 i32 i32) (result i32)))
    (import "wasi" "stream.drop-readable" (func $stream.drop-readable (param i32)))
    (import "wasi" "stream.drop-writable" (func $stream.drop-writable (param i32)))
    (import "wasi" "future.read" (func $future.read (param i32 i32) (result i32)))
    (import "wasi" "future.drop-readable" (func $future.drop-readable (param i32)))
    (import "wasi" "subtask.drop" (func $subtask.drop (param i32)))
    (import "wasi" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "wasi" "waitable-set.wait" (func $waitable-set.wait (param i32 i32) (result i32)))
    (import "wasi" "waitable.join" (func $waitable.join (param i32 i32)))
    (import "wasi" "task.return" (func $task.return (param i32)))

    ;; Memory: 8..15 an event's (index, payload); 16..23 results through a
    ;; pointer; 64..83 open-at's parameters; 96..115 its result; 128..147 a
    ;; future's result<_, error-code>; 256.. strings; 1024..1039 the copy
    ;; buffer; 4096.. the allocator's.
    (data (i32.const 256) "/sandbox")
    (data (i32.const 272) "src.txt")
    (data (i32.const 288) "dst.txt")
    (data (i32.const 512) "copied through wasi:filesystem@0.3.0 streams, 16 bytes at a time,\0a"
                          "over more than one read and write.\0a")
    (global $text i32 (i32.const 512))
    (global $text-size i32 (i32.const 101))
    (global $buffer i32 (i32.const 1024))
    (global $buffer-size i32 (i32.const 16))
    (global $BLOCKED i32 (i32.const -1))
    (global $set (mut i32) (i32.const 0))

    (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))

    ;; Waits for the one event of waitable $w, which must be $event; returns
    ;; its payload.
    (func $await (param $w i32) (param $event i32) (result i32)
      (call $waitable.join (local.get $w) (global.get $set))
      (call $check (i32.eq (call $waitable-set.wait (global.get $set) (i32.const 8)) (local.get $event)))
      (call $check (i32.eq (i32.load (i32.const 8)) (local.get $w)))
      (call $waitable.join (local.get $w) (i32.const 0))
      (i32.load (i32.const 12)))

    ;; An async-lowered call's result: RETURNED at once, or a subtask to wait
    ;; for until it says RETURNED.
    (func $returned (param $r i32)
      (local $subtask i32)
      (if (i32.eq (local.get $r) (i32.const 2 (; RETURNED ;))) (then (return)))
      (local.set $subtask (i32.shr_u (local.get $r) (i32.const 4)))
      (call $check (i32.le_u (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1 (; STARTED ;))))
      (loop $progress
        (br_if $progress (i32.ne (call $await (local.get $subtask) (i32.const 1 (; SUBTASK ;)))
                                 (i32.const 2 (; RETURNED ;)))))
      (call $subtask.drop (local.get $subtask)))

    ;; Opens path ($path, $len) in $dir; returns the descriptor.
    (func $open (param $dir i32) (param $path i32) (param $len i32)
                (param $open-flags i32) (param $flags i32) (result i32)
      (i32.store (i32.const 64) (local.get $dir))
      (i32.store8 (i32.const 68) (i32.const 0))
      (i32.store (i32.const 72) (local.get $path))
      (i32.store (i32.const 76) (local.get $len))
      (i32.store8 (i32.const 80) (local.get $open-flags))
      (i32.store8 (i32.const 81) (local.get $flags))
      (call $returned (call $open-at (i32.const 64) (i32.const 96)))
      (call $check (i32.eqz (i32.load8_u (i32.const 96))))
      (i32.load (i32.const 100)))

    ;; Writes all $n bytes at $at into stream $w.
    (func $write-all (param $w i32) (param $at i32) (param $n i32)
      (local $r i32)
      (block $written
        (loop $more
          (br_if $written (i32.eqz (local.get $n)))
          (local.set $r (call $stream.write (local.get $w) (local.get $at) (local.get $n)))
          (if (i32.eq (local.get $r) (global.get $BLOCKED))
            (then (local.set $r (call $await (local.get $w) (i32.const 3 (; STREAM_WRITE ;))))))
          (call $check (i32.eqz (i32.and (local.get $r) (i32.const 0xf))))
          (call $check (i32.le_u (i32.shr_u (local.get $r) (i32.const 4)) (local.get $n)))
          (local.set $at (i32.add (local.get $at) (i32.shr_u (local.get $r) (i32.const 4))))
          (local.set $n (i32.sub (local.get $n) (i32.shr_u (local.get $r) (i32.const 4))))
          (br $more))))

    ;; Reads future $f, which must say ok, and drops it.
    (func $check-ok (param $f i32)
      (local $r i32)
      (local.set $r (call $future.read (local.get $f) (i32.const 128)))
      (if (i32.eq (local.get $r) (global.get $BLOCKED))
        (then (local.set $r (call $await (local.get $f) (i32.const 4 (; FUTURE_READ ;))))))
      (call $check (i32.eqz (local.get $r (; COMPLETED ;))))
      (call $check (i32.eqz (i32.load8_u (i32.const 128))))
      (call $future.drop-readable (local.get $f)))

    ;; Gives a new stream's readable end to $file's write-via-stream; returns
    ;; (writable end, the future).
    (func $write-stream (param $file i32) (result i32 i32)
      (local $ends i64)
      (local.set $ends (call $stream.new))
      (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32)))
      (call $write-via-stream (local.get $file) (i32.wrap_i64 (local.get $ends)) (i64.const 0)))

    (func (export "run")
      (local $dir i32) (local $src i32) (local $dst i32)
      (local $in i32) (local $out i32) (local $out-done i32) (local $r i32)
      (global.set $set (call $waitable-set.new))
      ;; The one preopen, /sandbox.
      (call $get-directories (i32.const 16))
      (call $check (i32.eq (i32.load (i32.const 20)) (i32.const 1)))
      (local.set $r (i32.load (i32.const 16)))
      (local.set $dir (i32.load (local.get $r)))
      (call $check (i32.eq (i32.load offset=8 (local.get $r)) (i32.const 8)))
      (call $check (i64.eq (i64.load (i32.load offset=4 (local.get $r))) (i64.load (i32.const 256))))

      ;; src.txt: create|truncate, read|write; its text in one stream.
      (local.set $src (call $open (local.get $dir) (i32.const 272) (i32.const 7) (i32.const 9) (i32.const 3)))
      (call $write-stream (local.get $src))
      (local.set $out-done)
      (local.set $out)
      (call $write-all (local.get $out) (global.get $text) (global.get $text-size))
      (call $stream.drop-writable (local.get $out))
      (call $check-ok (local.get $out-done))

      ;; dst.txt: create|truncate, write; src.txt's bytes 16 at a time.
      (local.set $dst (call $open (local.get $dir) (i32.const 288) (i32.const 7) (i32.const 9) (i32.const 2)))
      (call $read-via-stream (local.get $src) (i64.const 0) (i32.const 16))
      (local.set $in (i32.load (i32.const 16)))
      (call $write-stream (local.get $dst))
      (local.set $out-done)
      (local.set $out)
      (loop $copy
        (local.set $r (call $stream.read (local.get $in) (global.get $buffer) (global.get $buffer-size)))
        (if (i32.eq (local.get $r) (global.get $BLOCKED))
          (then (local.set $r (call $await (local.get $in) (i32.const 2 (; STREAM_READ ;))))))
        (call $check (i32.le_u (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1 (; DROPPED ;))))
        (call $check (i32.le_u (i32.shr_u (local.get $r) (i32.const 4)) (global.get $buffer-size)))
        (call $write-all (local.get $out) (global.get $buffer) (i32.shr_u (local.get $r) (i32.const 4)))
        (br_if $copy (i32.eqz (i32.and (local.get $r) (i32.const 0xf)))))
      (call $stream.drop-readable (local.get $in))
      (call $check-ok (i32.load (i32.const 20)))
      (call $stream.drop-writable (local.get $out))
      (call $check-ok (local.get $out-done))

      (call $drop-descriptor (local.get $dst))
      (call $drop-descriptor (local.get $src))
      (call $drop-descriptor (local.get $dir))
      (call $task.return (i32.const 0 (; ok ;)))))
  (core instance $main-instance (instantiate $main
    (with "env" (instance (export "memory" (memory $mem))))
    (with "wasi" (instance $wasi))))

  (func $run async (result $run-result)
    (canon lift (core func $main-instance "run") async))
  (instance $cli-run (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $cli-run)))
