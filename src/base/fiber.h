// Fibers: functions that run on a stack of their own and can suspend midway,
// to be resumed later (asymmetric coroutines: suspend returns control to
// whoever called resume). The component model's threads that block inside
// core code run on these (component/concurrency.h).
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <ucontext.h>

namespace weft {

class Fiber {
 public:
  // Native stack of each fiber (lazily committed, a guard page below it).
  static const size_t STACK_SIZE;

  explicit Fiber(std::function<void()> body);
  // A fiber that has started and not finished is unwound first (see unwind).
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Runs the fiber until it suspends or its body ends. Rethrows what the body
  // threw (once, when it ends).
  void resume();
  // From inside the running fiber: back to the caller of resume.
  static void suspend();
  // Resumes a suspended fiber to unwind it: its suspend throws Unwind, which
  // runs the destructors of its frames and ends it.
  void unwind();
  bool started() const { return started_; }
  bool done() const { return done_; }
  // The innermost fiber running on this thread; null on the thread's own stack.
  static Fiber* current();

  // What suspend throws in a fiber being unwound; the fiber's body ends with
  // it. Code that catches everything must rethrow it.
  struct Unwind {};

 private:
  static void entry(unsigned lo, unsigned hi);
  void switch_in();
  void switch_out(bool finished);

  std::function<void()> body_;
  void* stack_ = nullptr;  // the mapping, guard page first
  ucontext_t context_{};
  ucontext_t resumer_{};
  Fiber* outer_ = nullptr;  // the fiber running when resume was called
  bool started_ = false;
  bool done_ = false;
  bool unwinding_ = false;
  std::exception_ptr failure_;
  // AddressSanitizer's view of the stacks switched between.
  void* fake_stack_ = nullptr;
  void* resumer_fake_stack_ = nullptr;
  const void* resumer_bottom_ = nullptr;
  size_t resumer_size_ = 0;
};

}  // namespace weft
