// The host's side of the async runtime: host functions that complete later
// (an `async func` waiting on the loop), and the host's ends of streams and
// futures. Loop callbacks never touch a guest directly: they post their
// work to the runtime (Runtime::post), which runs it from its scheduler,
// where a guest's trap reaches the caller like any other.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "component/concurrency.h"
#include "component/value.h"

namespace weft::component {

// A host call that completes later (HostCall::defer). Resolve it from
// anywhere, once; the result reaches the caller from the scheduler. The
// host's work that will resolve it owns it (the runtime only keeps a weak
// reference for cancellation): work that is dropped drops the call.
class HostPending : public std::enable_shared_from_this<HostPending> {
 public:
  HostPending(Runtime& runtime, const Type* result_type) : runtime_(runtime), result_type_(result_type) {}
  // Completes the call with its result (none for a function without one).
  void resolve(std::optional<Val> result = std::nullopt);
  // Completes the call as cancelled, after on_cancel asked for it.
  void cancel();
  bool done() const { return done_; }
  // Set by the host function when its work can be cancelled: the caller
  // asked (subtask.cancel); the host stops and calls cancel(), or resolve()
  // if the result is already there.
  std::function<void()> on_cancel;

 private:
  friend class Runtime;
  Runtime& runtime_;
  const Type* result_type_;
  OnResolve on_resolve_;
  bool done_ = false;
};

// A buffer of host memory for one copy: the elements the host gives, or
// room for those it takes. Bytes (stream<u8>) are kept as bytes, anything
// else as values of the element type.
class HostBuffer final : public CopyBuffer {
 public:
  // Room for `capacity` elements of `elem` (null: a stream without type).
  HostBuffer(const Type* elem, uint32_t capacity);
  // Elements to give: bytes of a stream<u8>, or values.
  HostBuffer(const Type* elem, std::string bytes);
  HostBuffer(const Type* elem, std::vector<Val> vals);

  std::vector<Val> read(uint32_t n) override;
  void write(const std::vector<Val>& vs) override;
  uint8_t* bytes() override;
  // What a copy into the buffer brought: the first `progress` elements.
  std::string_view received_bytes() const { return {room_ ? room_.get() : bytes_.data(), progress}; }
  std::vector<Val>& received_values() { return vals_; }
  // Empties a buffer of received elements for another copy.
  void clear();

 private:
  const Type* elem_;
  bool is_bytes_;
  char* data() { return room_ ? room_.get() : bytes_.data(); }

  std::string bytes_;                // bytes given
  std::unique_ptr<char[]> room_;     // or room for bytes to take
  std::vector<Val> vals_;
  uint32_t read_at_ = 0;  // vals_: the next value read() gives
};

// The host's end of a stream or future: readable (the host takes what a
// guest writes) or writable (the host gives). One copy at a time.
class HostEnd {
 public:
  // `buffer` comes back with the outcome: COMPLETED (buffer->progress
  // elements copied), DROPPED (the other end is gone) or CANCELLED.
  using Done = std::function<void(CopyResult, std::unique_ptr<HostBuffer> buffer)>;

  HostEnd(std::shared_ptr<SharedCopy> shared, bool readable);
  ~HostEnd();
  HostEnd(const HostEnd&) = delete;
  HostEnd& operator=(const HostEnd&) = delete;

  // Starts a copy into (readable) or out of (writable) `buffer`; `done`
  // may run before copy() returns, or later from the scheduler or a guest's
  // stream built-in. It must not call into a guest; it may start another
  // copy. Traps if a copy is already going on or the end was dropped.
  void copy(std::unique_ptr<HostBuffer> buffer, Done done);
  bool copying() const { return static_cast<bool>(buffer_); }
  // Ends the copy in progress with CANCELLED (nothing if none).
  void cancel();
  // Drops the end (cancelling any copy without calling its `done`); the
  // other end sees DROPPED. The destructor drops too.
  void drop();
  // Calls `f` when the other end is dropped (at once if it was), whether
  // or not a copy is going on: a host producing data stops early.
  void on_peer_drop(std::function<void()> f);
  // The element type (null for a stream without one).
  const Type* element() const { return shared_->t; }
  bool readable() const { return readable_; }

 private:
  void finish(CopyResult result);

  std::shared_ptr<SharedCopy> shared_;
  bool readable_;
  bool dropped_ = false;
  bool watching_peer_ = false;  // set shared_->on_drop
  std::unique_ptr<HostBuffer> buffer_;
  Done done_;
};

}  // namespace weft::component
