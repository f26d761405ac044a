// The interpreter's internal code, shared by translator and dispatch loop.
//
// A function is translated once into a flat array of 8-byte words. Each
// instruction is its handler's address (direct threading: the dispatch loop
// does `goto *pc[0]`) followed by 32-bit operands packed two per word.
// Operands name frame slots (8 bytes each, v128 takes two) relative to the
// frame pointer, immediates, pointers to runtime objects (resolved at
// translation time: code belongs to one instance), or branch offsets in words
// relative to the instruction's start.
//
// Frame layout: [params][locals][operand stack]. Every wasm operand stack
// position has a fixed slot, so a call's arguments are already in place as
// the start of the callee's frame, and its results land where the caller
// expects them.
#pragma once

#include <cstdint>
#include <vector>

namespace weft::engine {

class Memory;
struct Instance;
struct Tag;

enum class IOp : uint16_t {
#define OP(name) name,
#define UN(name, tin, tout, expr) name,
#define BIN(name, tin, tout, expr) name,
#define BINI(name, tin, tout, expr) name, name##_I,
#define CMP(name, t, expr, neg) name, name##_I, BrIf_##name, BrIf_##name##_I,
#define LOAD(name, memt, outt) name, name##_C, name##_M,
#define STORE(name, int_, memt) name, name##_C, name##_M,
#define VLOAD(name, n, expr) name,
#define VLOAD_LANE(name, t) name,
#define VSTORE_LANE(name, t) name,
#include "engine/interp_ops.def"
#define SIMD_UNARY(name, fn) name,
#define SIMD_BINARY(name, fn) name,
#define SIMD_TERNARY(name, fn) name,
#define SIMD_SHIFT(name, fn) name,
#define SIMD_TEST(name, fn) name,
#define SIMD_SPLAT(name, fn) name,
#define SIMD_EXTRACT(name, fn) name,
#define SIMD_REPLACE(name, fn) name,
#define SIMD_SHUFFLE(name, fn) name,
#include "engine/simd_ops.def"
  Count_
};

using Word = uint64_t;

// Words an instruction with `n32` 32-bit operands occupies.
constexpr uint32_t instr_words(uint32_t n32) { return 1 + (n32 + 1) / 2; }

constexpr uint32_t kNoSlot = UINT32_MAX;

// An exception handler: a catch clause (legacy try or try_table) covering
// the code range [start, end), or a legacy `delegate`. Handlers are listed
// innermost first.
struct Handler {
  uint32_t start = 0, end = 0;
  int32_t level = 0;           // number of enclosing try blocks
  bool delegate = false;       // if so: continue with handlers at delegate_level or outside
  int32_t delegate_level = -1;
  Tag* tag = nullptr;          // null: catches everything
  uint32_t target = 0;         // code position to continue at
  uint32_t payload_dst = kNoSlot;  // slots receiving the tag's values
  uint32_t exn_dst = kNoSlot;      // slot receiving the exception reference
};

struct CompiledFunction {
  std::vector<Word> code;
  std::vector<Handler> handlers;
  uint32_t param_slots = 0;
  uint32_t local_slots = 0;  // declared locals (zeroed on entry), after params
  uint32_t frame_slots = 0;  // params + locals + deepest operand stack
  Instance* instance = nullptr;
  Memory* memory0 = nullptr;  // cached for the fast load/store handlers
};

// Handler addresses indexed by IOp (filled in by the dispatch loop).
const void* const* handler_table();

}  // namespace weft::engine
