// The synchronous Canonical ABI (CanonicalABI.md, definitions.py): layout,
// flattening, and lifting/lowering between Val trees and core values in
// linear memory. Names follow the spec. Everything that depends only on
// types and options is computed once into a Layout / CanonPlan, so a call
// only walks its values.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "component/types.h"
#include "component/value.h"
#include "engine/store.h"
#include "engine/trap.h"
#include "wasm/types.h"

namespace weft::component {

// The spec's `trap()` / `trap_if()`: a Component Model rule was broken.
[[noreturn]] inline void trap(std::string detail) {
  throw engine::Trap(engine::TrapKind::Component, std::move(detail));
}
inline void trap_if(bool cond, const char* detail) {
  if (cond) trap(detail);
}

constexpr uint32_t MAX_FLAT_PARAMS = 16;
constexpr uint32_t MAX_FLAT_ASYNC_PARAMS = 4;
constexpr uint32_t MAX_FLAT_RESULTS = 1;
constexpr uint64_t MAX_STRING_BYTE_LENGTH = (uint64_t{1} << 28) - 1;
constexpr uint64_t MAX_LIST_BYTE_LENGTH = (uint64_t{1} << 28) - 1;
constexpr uint32_t UTF16_TAG = uint32_t{1} << 31;  // 32-bit memories
constexpr uint64_t UTF16_TAG_64 = uint64_t{1} << 63;

// The shape a type takes after despecialization: tuple -> record; enum,
// option, result -> variant; map -> list<tuple<k, v>>.
enum class Shape : uint8_t {
  Bool, S8, U8, S16, U16, S32, U32, S64, U64, F32, F64, Char,
  String, List, Record, Variant, Flags,
  Own, Borrow, Stream, Future, ErrorContext,
};

// Everything about one value type that lifting and lowering need, for one
// pointer size. `type` is null for the synthesized tuples (spilled
// parameters/results, map entries).
struct Layout {
  const Type* type = nullptr;
  Shape shape = Shape::Bool;
  uint32_t size = 0;
  uint32_t align = 1;
  std::vector<wasm::ValType> flat;  // flatten_type
  // Record: its fields; Variant: each case's payload (null if none);
  // List: the element.
  std::vector<const Layout*> children;
  std::vector<uint32_t> offsets;  // Record: field offsets
  uint32_t disc_size = 0;         // Variant: discriminant bytes
  uint32_t payload_offset = 0;    // Variant: aligned to max case alignment
  uint32_t length = 0;            // List: fixed length (0 = variable)
  uint32_t label_count = 0;       // Flags
  bool map = false;               // List: a map, element is the entry tuple
  bool bytes = false;             // List: list<u8>, its Val holds the bytes in str
};

// Layouts of the types of one component, built on first use and kept:
// types are interned, so a Type* identifies a layout.
class Layouts {
 public:
  const Layout* of(const Type* t, bool memory64 = false);
  // A record of `types` (the tuple spilled parameters and results use).
  const Layout* tuple(const std::vector<const Layout*>& types);

 private:
  const Layout* build(const Type* t, bool memory64);
  Layout* record(const std::vector<const Layout*>& fields, Layout& out);
  std::map<std::pair<const Type*, bool>, const Layout*> cache_;
  std::vector<std::unique_ptr<Layout>> owned_;
};

// Direct forms of the spec's functions (each builds and drops a layout:
// code on a hot path keeps a Layouts).
uint32_t alignment(const Type* t, bool memory64 = false);
uint32_t elem_size(const Type* t, bool memory64 = false);
std::vector<wasm::ValType> flatten_type(const Type* t, bool memory64 = false);
uint32_t discriminant_size(size_t case_count);
wasm::ValType join(wasm::ValType a, wasm::ValType b);

enum class CanonContext : uint8_t { Lift, Lower };

struct CanonOptions {
  StringEncoding string_encoding = StringEncoding::Utf8;
  engine::Memory* memory = nullptr;
  engine::Function* realloc = nullptr;
  engine::Function* post_return = nullptr;
  bool async = false;                     // 🔀 async
  engine::Function* callback = nullptr;   // 🔀 callback (async lift)
  bool memory64() const { return memory && memory->type().limits.is64; }
};

// flatten_functype: the core signature of a lifted or lowered function.
wasm::FuncType flatten_functype(Layouts& layouts, const Type* ft, const CanonOptions& opts,
                                CanonContext context);

// Parameters or results of a function: lifted/lowered flat, or through a
// pointer to a tuple in memory when they flatten to more than `max_flat`.
struct ValuesPlan {
  std::vector<const Layout*> types;
  std::vector<wasm::ValType> flat;  // the flattened types, before spilling
  const Layout* tuple = nullptr;    // set iff spilled
  bool spilled() const { return tuple != nullptr; }
};

// Built once per lifted or lowered function (at instantiation).
struct CanonPlan {
  const Type* func = nullptr;
  CanonOptions opts;
  CanonContext context = CanonContext::Lift;
  ValuesPlan params, results;
  wasm::FuncType core_type;  // flatten_functype(opts, func, context)
};
CanonPlan make_canon_plan(Layouts& layouts, const Type* func, const CanonOptions& opts,
                          CanonContext context);

// Where handles meet the instance's tables. The instance runtime implements
// this; with no hooks, handles pass through as raw u32 indices. `lift_*`
// turn a guest handle index into Val::bits, `lower_*` the reverse.
class ResourceHooks {
 public:
  virtual ~ResourceHooks() = default;
  virtual uint64_t lift_own(uint32_t handle, const Type* t) = 0;
  virtual uint64_t lift_borrow(uint32_t handle, const Type* t) = 0;
  virtual uint32_t lower_own(uint64_t rep, const Type* t) = 0;
  virtual uint32_t lower_borrow(uint64_t rep, const Type* t) = 0;
  // Streams and futures: a readable end's handle <-> the runtime's token
  // (by default raw, as without hooks).
  virtual uint64_t lift_async_value(uint32_t handle, const Type*) { return handle; }
  virtual uint32_t lower_async_value(uint64_t token, const Type*) { return static_cast<uint32_t>(token); }
  // Error contexts: a handle <-> the runtime's token (by default raw).
  virtual uint64_t lift_error_context(uint32_t handle) { return handle; }
  virtual uint32_t lower_error_context(uint64_t token) { return static_cast<uint32_t>(token); }
};

// LiftLowerContext: the options plus what calling realloc and resolving
// handles needs.
struct LiftLowerContext {
  const CanonOptions& opts;
  engine::Store& store;
  ResourceHooks* hooks = nullptr;

  // Calls realloc and checks the result's alignment and bounds.
  uint64_t reallocate(uint64_t old_ptr, uint64_t old_size, uint32_t align, uint64_t new_size);
  uint64_t allocate(uint32_t align, uint64_t size) { return reallocate(0, 0, align, size); }
};

// CoreValueIter over raw slots (f32/f64 as their bit patterns).
class CoreValueIter {
 public:
  explicit CoreValueIter(std::span<const uint64_t> slots) : slots_(slots) {}
  uint64_t next();
  bool done() const { return i_ == slots_.size(); }

 private:
  std::span<const uint64_t> slots_;
  size_t i_ = 0;
};

// Each traps (engine::Trap) as the spec says; `ptr` of load/store must be
// in bounds and aligned for the type (the callers in the spec check).
Val load(LiftLowerContext& cx, uint64_t ptr, const Layout& t);
void store(LiftLowerContext& cx, const Val& v, const Layout& t, uint64_t ptr);
Val lift_flat(LiftLowerContext& cx, CoreValueIter& vi, const Layout& t);
void lower_flat(LiftLowerContext& cx, const Val& v, const Layout& t, std::vector<uint64_t>& out);

// lift_flat_values / lower_flat_values with the plan's spilling decision.
// `out_param` is the caller-provided result pointer of a `canon lower`
// whose results spill; otherwise a spilled tuple is allocated by realloc.
std::vector<Val> lift_values(LiftLowerContext& cx, const ValuesPlan& plan, CoreValueIter& vi);
std::vector<uint64_t> lower_values(LiftLowerContext& cx, const ValuesPlan& plan,
                                   std::span<const Val> vals,
                                   std::optional<uint64_t> out_param = std::nullopt);

// Runs the plan's post-return (if any) with the callee's flat results.
void post_return(engine::Store& store, const CanonPlan& plan, std::span<const uint64_t> flat_results);

}  // namespace weft::component
