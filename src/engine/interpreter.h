// The interpreter: runs translated code (code.h, translator.h) on the store's
// value stack with a direct-threaded dispatch loop. Calls between wasm
// functions do not recurse natively: a separate call-frame stack holds return
// addresses, so deep wasm recursion ends in a CallStackExhausted trap, never
// a native stack overflow. Out-of-bounds accesses to guarded memories fault
// and are turned into traps by a SIGSEGV/SIGBUS handler.
#pragma once

#include <csetjmp>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/code.h"
#include "engine/store.h"

namespace weft::engine {

// One activation on the call-frame stack.
struct Frame {
  const Word* ret;  // where the caller continues
  uint64_t* fp;     // the caller's frame pointer
  Function* func;   // the function this frame runs (for backtraces)
  CompiledFunction* caller;  // null when the caller is the host
};

// A thrown wasm exception (exnref values point to these).
struct Exception {
  Tag* tag;
  std::vector<uint64_t> payload;
};

struct Store::ExecState {
  explicit ExecState(Store& store);

  Store& store;
  std::unique_ptr<Frame[]> frames;  // max_call_depth entries
  Frame* frames_end = nullptr;      // of these, or of the CallStacks swapped in
  Frame* top = nullptr;             // next free frame
  uint64_t* stack_limit = nullptr;
  // Landing point of the innermost invoke for a guard-page fault; null while
  // host code runs (a fault there is a host bug, not a wasm trap).
  sigjmp_buf* landing = nullptr;
  // Remaining fuel; translated code checks it only when fuel is enabled.
  bool fuel_enabled = false;
  int64_t fuel = 0;
  std::vector<std::unique_ptr<CompiledFunction>> compiled;
  // Exceptions live as long as the store: exnref values may hold them.
  std::vector<std::unique_ptr<Exception>> exceptions;
};

// A second set of the stacks calls run on (the value stack and the call-frame
// stack) with the state of the activations on them. An embedder that
// suspends calls midway and resumes them in another order (the component
// model's fibers) gives each such call its own set: swap_call_stacks
// exchanges it with the store's current one, on entering and on leaving.
struct CallStacks {
  // Sized as `limits` say, reserved but committed only as used.
  explicit CallStacks(const StoreLimits& limits);
  ~CallStacks();
  CallStacks(const CallStacks&) = delete;
  CallStacks& operator=(const CallStacks&) = delete;

  uint64_t* values = nullptr;
  size_t value_slots = 0;
  uint64_t* value_top = nullptr;
  Frame* frames = nullptr;
  Frame* frames_end = nullptr;
  Frame* frame_top = nullptr;
  sigjmp_buf* landing = nullptr;
  Store::ExecState* active = nullptr;  // the fault handler's activation

 private:
  void* map_ = nullptr;
  size_t map_size_ = 0;
};
void swap_call_stacks(Store& store, CallStacks& stacks);

// Runs `func` with its arguments in slots[0..] (one slot per value, two for
// v128) and leaves its results there. `slots` lies within the store's value
// stack. Throws Trap (with a backtrace, innermost frame first) and lets
// ExitRequest and weft::Error (a function failing lazy validation) through.
void invoke(Store& store, Function* func, uint64_t* slots);

}  // namespace weft::engine
