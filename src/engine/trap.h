// Traps: a kind (with the spec interpreter's message text) and a wasm
// backtrace. Traps cross the embedding API as C++ exceptions; inside the
// interpreter they unwind by other means (see interpreter.h).
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace weft::engine {

enum class TrapKind : uint8_t {
  Unreachable,
  IntegerDivideByZero,
  IntegerOverflow,
  InvalidConversionToInteger,
  OutOfBoundsMemoryAccess,
  OutOfBoundsTableAccess,
  UndefinedElement,
  UninitializedElement,
  IndirectCallTypeMismatch,
  CallStackExhausted,
  NullReference,          // e.g. throw_ref / call_ref on null
  UnalignedAtomic,        // "unaligned atomic"
  ExpectedSharedMemory,   // memory.atomic.wait on an unshared memory
  UncaughtException,      // a wasm exception escaped to the host
  OutOfFuel,
  Interrupted,            // --timeout
  OutOfMemory,            // host could not allocate (e.g. data segment)
  Host,                   // raised by a host function
  Component,              // a Component Model rule broken (canonical ABI, handles, may-leave)
};

// The spec interpreter's text for each kind ("integer divide by zero", ...).
const char* trap_message(TrapKind kind);

struct BacktraceFrame {
  uint32_t func_index = 0;  // in its module's function index space
  std::string name;         // from the name section, or "func[N]"; host: its name
};

class Trap : public std::exception {
 public:
  Trap(TrapKind kind, std::string detail = {}) : kind_(kind), detail_(std::move(detail)) {
    message_ = trap_message(kind);
    if (!detail_.empty()) message_ += ": " + detail_;
  }
  TrapKind kind() const { return kind_; }
  const char* what() const noexcept override { return message_.c_str(); }
  // Innermost frame first.
  std::vector<BacktraceFrame>& backtrace() { return backtrace_; }
  const std::vector<BacktraceFrame>& backtrace() const { return backtrace_; }

 private:
  TrapKind kind_;
  std::string detail_;
  std::string message_;
  std::vector<BacktraceFrame> backtrace_;
};

// A host function ends the whole program (WASI proc_exit). Not a trap: it
// unwinds every wasm activation and is caught by the embedder.
struct ExitRequest {
  int code;
};

}  // namespace weft::engine
