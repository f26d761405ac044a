// Fibers on ucontext (makecontext / swapcontext), with AddressSanitizer told
// of every switch so it keeps track of which stack is live.
#include "base/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_ASAN 1
#endif
#endif

#ifdef WEFT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace weft {

// Instrumented frames are several times larger.
#ifdef WEFT_ASAN
const size_t Fiber::STACK_SIZE = size_t{8} << 20;
#else
const size_t Fiber::STACK_SIZE = size_t{1} << 20;
#endif

namespace {

thread_local Fiber* t_current = nullptr;

size_t guard_size() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

// Stacks of finished fibers, kept for the next ones (a task's fiber lives as
// long as the task: many are made and ended).
class StackPool {
 public:
  static constexpr size_t MAX_FREE = 256;
  ~StackPool() {
    for (void* s : free_) munmap(s, guard_size() + Fiber::STACK_SIZE);
  }
  void* take() {
    if (!free_.empty()) {
      void* s = free_.back();
      free_.pop_back();
      return s;
    }
    void* s = mmap(nullptr, guard_size() + Fiber::STACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (s == MAP_FAILED) throw std::bad_alloc();
    if (mprotect(s, guard_size(), PROT_NONE) != 0) {
      munmap(s, guard_size() + Fiber::STACK_SIZE);
      throw std::bad_alloc();
    }
    return s;
  }
  void give(void* s) {
#ifdef WEFT_ASAN
    // Frames that never returned (the entry's) leave their redzones poisoned.
    ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(s) + guard_size(), Fiber::STACK_SIZE);
#endif
    if (free_.size() < MAX_FREE) {
      free_.push_back(s);
    } else {
      munmap(s, guard_size() + Fiber::STACK_SIZE);
    }
  }

 private:
  std::vector<void*> free_;
};

thread_local StackPool t_pool;

void start_switch([[maybe_unused]] void** fake_stack_save, [[maybe_unused]] const void* bottom,
                  [[maybe_unused]] size_t size) {
#ifdef WEFT_ASAN
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#endif
}

void finish_switch([[maybe_unused]] void* fake_stack_save, [[maybe_unused]] const void** bottom_old,
                   [[maybe_unused]] size_t* size_old) {
#ifdef WEFT_ASAN
  __sanitizer_finish_switch_fiber(fake_stack_save, bottom_old, size_old);
#endif
}

}  // namespace

Fiber::Fiber(std::function<void()> body) : body_(std::move(body)), stack_(t_pool.take()) {}

Fiber::~Fiber() {
  if (started_ && !done_) unwind();
  if (stack_) t_pool.give(stack_);
}

Fiber* Fiber::current() { return t_current; }

void Fiber::entry(unsigned lo, unsigned hi) {
  auto* f = reinterpret_cast<Fiber*>((static_cast<uintptr_t>(hi) << 32) | lo);
  finish_switch(nullptr, &f->resumer_bottom_, &f->resumer_size_);
  try {
    f->body_();
  } catch (const Unwind&) {
  } catch (...) {
    f->failure_ = std::current_exception();
  }
  f->switch_out(true);
}

void Fiber::resume() {
  if (done_) throw std::logic_error("resuming a finished fiber");
  if (!started_) {
    started_ = true;
    getcontext(&context_);
    context_.uc_stack.ss_sp = static_cast<char*>(stack_) + guard_size();
    context_.uc_stack.ss_size = STACK_SIZE;
    context_.uc_link = nullptr;
    const auto p = reinterpret_cast<uintptr_t>(this);
    makecontext(&context_, reinterpret_cast<void (*)()>(&Fiber::entry), 2, static_cast<unsigned>(p),
                static_cast<unsigned>(p >> 32));
  }
  switch_in();
  if (done_) {
    t_pool.give(std::exchange(stack_, nullptr));
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
  }
}

void Fiber::switch_in() {
  outer_ = t_current;
  t_current = this;
  start_switch(&resumer_fake_stack_, static_cast<char*>(stack_) + guard_size(), STACK_SIZE);
  swapcontext(&resumer_, &context_);
  finish_switch(resumer_fake_stack_, nullptr, nullptr);
  t_current = outer_;
}

void Fiber::switch_out(bool finished) {
  // A finished fiber's fake stack goes (null), a suspended one's is kept.
  start_switch(finished ? nullptr : &fake_stack_, resumer_bottom_, resumer_size_);
  done_ = finished;
  swapcontext(&context_, &resumer_);
  finish_switch(fake_stack_, &resumer_bottom_, &resumer_size_);
}

void Fiber::suspend() {
  Fiber* f = t_current;
  if (!f) throw std::logic_error("suspending outside of a fiber");
  if (!f->unwinding_) f->switch_out(false);
  if (f->unwinding_) throw Unwind{};
}

void Fiber::unwind() {
  unwinding_ = true;
  resume();
}

}  // namespace weft
