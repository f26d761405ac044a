// The event loop: the one owner of the process's uv_loop_t. Host operations
// are objects (a readiness watch, a timer, a thread-pool job) that start a uv
// handle or request and report completion through a callback. A synchronous
// host call (WASI preview1) starts such objects and then runs the loop until
// the ones it needs have completed; the loop thread sleeps in the kernel
// meanwhile, it never spins.
#pragma once

#include <cstdint>
#include <functional>

#include <uv.h>

namespace weft::loop {

class Reactor {
 public:
  Reactor();
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  uv_loop_t* uv() { return &loop_; }

  // Runs the loop one turn at a time until `done()` holds. Returns false if
  // the loop ran out of active handles and requests first (done() can then
  // never become true).
  bool run_until(const std::function<bool()>& done);
  // One turn for a scheduler that waits on the loop when it has nothing
  // else to do: with `block`, sleeps until something happened. False when
  // nothing can ever happen (no active handle or request).
  bool run_once(bool block);
  // Loop turns run_until and run_once have taken: each one sleeps in the kernel until
  // something is ready, so a wait that costs many turns is spinning.
  uint64_t turns() const { return turns_; }

  // Runs `work` on libuv's thread pool and waits (running the loop) for it;
  // returns what `work` returned. For OS calls that may block for long
  // (fsync, fallocate) so other loop work keeps going meanwhile.
  int run_blocking(std::function<int()> work);

  // Runs `work` on libuv's thread pool; `done` gets its result from the
  // loop. For OS calls that may block (a write to a pipe someone reads
  // slowly) while the loop goes on.
  void queue_work(std::function<int()> work, std::function<void(int)> done);

  // Waits until `fd` is ready for `events` (UV_READABLE / UV_WRITABLE).
  // Returns 0, or a negative uv error. Descriptors epoll cannot watch
  // (regular files, /dev/null) are always ready: returns 0 at once.
  int wait_fd(int fd, int events);

 private:
  uv_loop_t loop_;
  uint64_t turns_ = 0;
};

// A readiness watch on an OS descriptor (uv_poll). The handle outlives this
// object until libuv has closed it.
class FdWatch {
 public:
  using Callback = std::function<void(int status, int events)>;
  FdWatch(Reactor& reactor, int fd);
  ~FdWatch();
  FdWatch(const FdWatch&) = delete;
  FdWatch& operator=(const FdWatch&) = delete;

  // False if epoll cannot watch the descriptor (a regular file, /dev/null):
  // such descriptors never block, so callers treat them as ready.
  bool pollable() const { return handle_ != nullptr; }
  // Calls `cb` once the descriptor is ready for `events`, then stops.
  // Only for pollable() watches.
  int start(int events, Callback cb);
  void stop();

 private:
  struct Handle;
  Handle* handle_ = nullptr;
};

// A one-shot timer (uv_timer).
class Timer {
 public:
  explicit Timer(Reactor& reactor);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Calls `cb` once `timeout_ns` have passed on CLOCK_MONOTONIC (never
  // sooner; libuv's millisecond resolution makes it up to 1 ms later).
  void start(uint64_t timeout_ns, std::function<void()> cb);
  void stop();

 private:
  struct Handle;
  static void arm(Handle* h);
  Handle* handle_;
};

// Delivery of a POSIX signal (SIGINT, SIGTERM) through the loop
// (uv_signal): `cb` runs from the loop each time the signal arrives, for as
// long as this lives, instead of the signal's default action.
class SignalWatch {
 public:
  SignalWatch(Reactor& reactor, int signum, std::function<void()> cb);
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

 private:
  struct Handle;
  Handle* handle_;
};

}  // namespace weft::loop
