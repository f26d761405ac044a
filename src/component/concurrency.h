// The async runtime's state (CanonicalABI.md "Concurrency", definitions.py
// Thread, Task, Waitable, WaitableSet, Subtask). Names follow the spec.
//
// Every task of an async function type or with the async option runs its
// implicit thread on a fiber of its own (base/fiber.h): a thread that blocks
// (Thread.wait_until) joins Runtime's waiting list and suspends, which
// returns control to whoever resumed it: the caller that started the task
// (an async-lowered call then gets its subtask) or the scheduler
// (Runtime::tick), which resumes a waiting thread once it is ready.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "base/fiber.h"
#include "component/canonical.h"
#include "component/instance.h"
#include "component/value.h"
#include "engine/interpreter.h"

namespace weft::component {

enum class EventCode : uint32_t {
  NONE = 0,
  SUBTASK = 1,
  STREAM_READ = 2,
  STREAM_WRITE = 3,
  FUTURE_READ = 4,
  FUTURE_WRITE = 5,
  TASK_CANCELLED = 6,
};

struct EventTuple {
  EventCode code = EventCode::NONE;
  uint32_t index = 0;
  uint32_t payload = 0;
};

enum class CallbackCode : uint32_t { EXIT = 0, YIELD = 1, WAIT = 2, MAX = 2 };

// What an async built-in returns when the operation goes on in the
// background (its event arrives through a waitable set).
constexpr uint32_t BLOCKED = 0xffffffff;

class Waitable {
 public:
  virtual ~Waitable();
  void set_pending_event(std::function<EventTuple()> pending_event) {
    pending_event_ = std::move(pending_event);
  }
  bool has_pending_event() const { return static_cast<bool>(pending_event_); }
  bool in_waitable_set() const { return wset_ != nullptr; }
  EventTuple get_pending_event();
  void join(WaitableSet* wset);
  // Leaves its waitable set; the handle is gone.
  virtual void drop();

 private:
  std::function<EventTuple()> pending_event_;
  WaitableSet* wset_ = nullptr;
};

// A synchronous wait on `w` would steal the event its waitable set expects.
inline void trap_if_sync_in_set(const Waitable& w, bool async) {
  trap_if(w.in_waitable_set() && !async, "waitable cannot be used synchronously while added to a waitable set");
}

struct WaitableSet {
  std::vector<Waitable*> elems;
  uint32_t num_waiting = 0;

  bool has_pending_event() const;
  // The first element with an event (the spec picks at random; any choice
  // conforms).
  EventTuple get_pending_event();
  void drop() const;
};

class Subtask : public Waitable {
 public:
  enum class State : uint32_t {
    STARTING = 0,
    STARTED = 1,
    RETURNED = 2,
    CANCELLED_BEFORE_STARTED = 3,
    CANCELLED_BEFORE_RETURNED = 4,
  };

  bool resolved() const { return state >= State::RETURNED; }
  void resolve(State s) { state = s; }
  // Returns the caller's lent handles (on_deliver).
  void deliver_resolve();
  bool resolve_delivered() const { return delivered_; }
  void drop() override;

  State state = State::STARTING;
  std::function<void()> on_deliver;
  std::function<void()> on_cancel;  // requests the callee task's cancellation
  bool cancellation_requested = false;

 private:
  bool delivered_ = false;
};

// A thread runs on its fiber (it is on `Runtime::current_`) or waits for
// `ready_func` (it is on `Runtime::waiting_`). A synchronous task's thread,
// which never blocks, runs on its caller's stack and has no fiber.
struct Thread {
  Task* task = nullptr;
  uint32_t storage[2] = {0, 0};
  std::function<bool()> ready_func;
  bool cancellable = false;  // while waiting: request_cancellation may resume it
  bool cancelled = false;    // what the wait it was resumed from returns
  std::unique_ptr<Fiber> fiber;
  std::unique_ptr<engine::CallStacks> stacks;  // the engine's stacks for its calls
};

struct Task {
  enum class State : uint8_t { INITIAL, STARTED, PENDING_CANCEL, CANCEL_DELIVERED, RESOLVED };

  Task(ComponentFunc& f, OnStart start, OnResolve resolve);
  bool ft_async() const;
  bool opts_async() const;
  bool needs_exclusive() const;
  // The wasmtime rule the reference tests check: a task of a non-async
  // function type may not block until it has returned.
  bool may_block() const { return ft_async() || state == State::RESOLVED; }
  std::vector<Val> start();
  void return_(std::vector<Val> result);
  void cancel();
  bool deliver_pending_cancel(bool cancellable);

  ComponentFunc& func;
  ComponentInstance* inst;
  OnStart on_start;
  OnResolve on_resolve;
  State state = State::INITIAL;
  uint32_t num_borrows = 0;
  Thread implicit_thread;
};

// ---- Streams and futures (streams.cpp) ------------------------------------

enum class CopyResult : uint32_t { COMPLETED = 0, DROPPED = 1, CANCELLED = 2 };
enum class CopyState : uint8_t { IDLE, COPYING, CANCELLING_COPY, DONE };

// Buffer (definitions.py): `length` elements a copy reads from or writes
// into; `progress` counts those already copied.
class CopyBuffer {
 public:
  static constexpr uint32_t MAX_LENGTH = (uint32_t{1} << 28) - 1;
  explicit CopyBuffer(uint32_t length) : length_(length) {}
  virtual ~CopyBuffer();
  uint32_t remain() const { return length_ - progress; }
  bool is_zero_length() const { return length_ == 0; }
  // The next `n` elements, as values / stores `vs` as the next elements.
  virtual std::vector<Val> read(uint32_t n) = 0;
  virtual void write(const std::vector<Val>& vs) = 0;
  // Where the remaining elements are when they are bytes held contiguously
  // (stream<u8>), else null: copies between two such buffers are one memcpy.
  virtual uint8_t* bytes() { return nullptr; }

  uint32_t progress = 0;

 protected:
  uint32_t length_;
};

// Moves `n` elements from `src` to `dst`.
void transfer(CopyBuffer& src, CopyBuffer& dst, uint32_t n);

// BufferGuestImpl: `length` elements of the stream's type at `ptr` in the
// memory of the instance copying (no elements for a stream without a type).
class GuestBuffer final : public CopyBuffer {
 public:
  GuestBuffer(engine::Store& store, std::unique_ptr<ResourceHooks> hooks, const Layout* elem,
              const RtOptions& opts, uint64_t ptr, uint32_t length);
  ~GuestBuffer() override;
  std::vector<Val> read(uint32_t n) override;
  void write(const std::vector<Val>& vs) override;
  uint8_t* bytes() override;

 private:
  CanonOptions opts_;
  engine::Store& store_;
  std::unique_ptr<ResourceHooks> hooks_;
  const Layout* elem_;
  uint64_t ptr_;
};

using ReclaimBuffer = std::function<void()>;
using OnCopy = std::function<void(ReclaimBuffer)>;
using OnCopyDone = std::function<void(CopyResult)>;

// SharedStreamImpl / SharedFutureImpl: the one pending copy of either end.
struct SharedCopy {
  SharedCopy(const Type* t, bool future) : t(t), future(future) {}
  void reset_pending();
  void reset_and_notify_pending(CopyResult result);
  void cancel() { reset_and_notify_pending(CopyResult::CANCELLED); }
  void drop();
  void read(ComponentInstance* inst, CopyBuffer* dst, OnCopy on_copy, OnCopyDone on_copy_done) {
    copy(inst, dst, true, std::move(on_copy), std::move(on_copy_done));
  }
  void write(ComponentInstance* inst, CopyBuffer* src, OnCopy on_copy, OnCopyDone on_copy_done) {
    copy(inst, src, false, std::move(on_copy), std::move(on_copy_done));
  }

  void copy(ComponentInstance* inst, CopyBuffer* mine, bool reading, OnCopy on_copy, OnCopyDone on_copy_done);

  const Type* t;  // the element type (null: none)
  bool future;
  bool dropped = false;
  // A host end that is not copying learns here that the other end dropped.
  std::function<void()> on_drop;
  ComponentInstance* pending_inst = nullptr;  // null: the host (never "intra-component")
  CopyBuffer* pending_buffer = nullptr;
  OnCopy pending_on_copy;
  OnCopyDone pending_on_copy_done;
};

// ReadableStreamEnd, WritableStreamEnd, ReadableFutureEnd, WritableFutureEnd.
class CopyEnd : public Waitable {
 public:
  CopyEnd(std::shared_ptr<SharedCopy> shared, bool readable)
      : shared(std::move(shared)), readable(readable) {}
  bool copying() const { return state == CopyState::COPYING || state == CopyState::CANCELLING_COPY; }
  void drop() override;

  std::shared_ptr<SharedCopy> shared;
  bool readable;
  CopyState state = CopyState::IDLE;
  std::unique_ptr<CopyBuffer> buffer;  // the copy in progress
};

}  // namespace weft::component
