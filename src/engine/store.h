// The store: owner of every runtime object (functions, memories, tables,
// globals, tags, instances), the value stack the interpreter runs on, and the
// embedding API (instantiate, call). One store per program run; objects live
// as long as the store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/memory.h"
#include "engine/trap.h"
#include "engine/value.h"
#include "wasm/module.h"

namespace weft::engine {

class Store;
struct Instance;
struct Function;
struct CompiledFunction;  // the interpreter's translated code (interpreter.h)
struct CallStacks;        // interpreter.h

// What a host function sees. Arguments and results are raw 8-byte slots laid
// out as the function's type says (one slot per value, two for v128); results
// overwrite the arguments, so read every argument before writing a result.
struct HostCall {
  Store& store;
  Instance* caller;  // the calling wasm instance, or null when called from the host
  uint64_t* slots;

  uint32_t i32(size_t i) const { return static_cast<uint32_t>(slots[i]); }
  uint64_t i64(size_t i) const { return slots[i]; }
  void set_i32(size_t i, uint32_t v) { slots[i] = v; }
  void set_i64(size_t i, uint64_t v) { slots[i] = v; }
  // The caller's memory `index`, or null.
  Memory* memory(uint32_t index = 0) const;
  [[noreturn]] void trap(std::string detail) const { throw Trap(TrapKind::Host, std::move(detail)); }
};

using HostFn = std::function<void(HostCall&)>;

struct HostFunction {
  std::string name;  // for backtraces, e.g. "wasi_snapshot_preview1.fd_write"
  HostFn fn;
};

struct Function {
  const wasm::FuncType* type = nullptr;  // interned in the store
  uint32_t sig = 0;                      // store-wide id of *type: equal ids <=> equal types
  Instance* instance = nullptr;          // null for host functions
  uint32_t index = 0;                    // index in instance->module's function space
  HostFunction* host = nullptr;          // non-null for host functions
  CompiledFunction* compiled = nullptr;  // translated on first call (interpreter)
};

struct Table {
  wasm::TableType type;
  std::vector<Ref> elems;
  // Returns the old size, or -1 if the table cannot grow that far.
  int64_t grow(uint64_t delta, Ref init);
};

struct Global {
  wasm::GlobalType type;
  alignas(16) uint64_t bits[2] = {0, 0};  // raw value; v128 uses both words
  Value get() const;
  void set(const Value& v);
};

struct Tag {
  const wasm::FuncType* type = nullptr;
  uint32_t sig = 0;
};

// Something an instance imports or exports.
struct Extern {
  wasm::ExternKind kind = wasm::ExternKind::Func;
  union {
    Function* func;
    Table* table;
    Memory* memory;
    Global* global;
    Tag* tag;
    void* ptr = nullptr;
  };
  static Extern of(Function* f) { Extern e; e.kind = wasm::ExternKind::Func; e.func = f; return e; }
  static Extern of(Table* t) { Extern e; e.kind = wasm::ExternKind::Table; e.table = t; return e; }
  static Extern of(Memory* m) { Extern e; e.kind = wasm::ExternKind::Memory; e.memory = m; return e; }
  static Extern of(Global* g) { Extern e; e.kind = wasm::ExternKind::Global; e.global = g; return e; }
  static Extern of(Tag* t) { Extern e; e.kind = wasm::ExternKind::Tag; e.tag = t; return e; }
};

struct Instance {
  std::shared_ptr<const wasm::Module> module;
  std::vector<Function*> funcs;
  std::unique_ptr<Function[]> defined_funcs;  // the non-imported entries of `funcs`
  std::vector<Table*> tables;
  std::vector<Memory*> memories;
  std::vector<Global*> globals;
  std::vector<Tag*> tags;
  // Element segments' references; a dropped segment is emptied.
  std::vector<std::vector<Ref>> elems;
  std::vector<bool> data_dropped;
  // Export name -> extern, built at instantiation; keys view the names in
  // module->exports.
  std::unordered_map<std::string_view, Extern> exports;

  // The export named `name`, or null kind-less lookup failure (ptr == nullptr).
  Extern find_export(std::string_view name) const;
  Function* find_function(std::string_view name) const;
};

struct StoreLimits {
  uint64_t max_stack_bytes = 64u << 20;  // interpreter value stack (--max-wasm-stack)
  uint32_t max_call_depth = 200000;      // wasm frames
  uint64_t max_memory_bytes = uint64_t{1} << 34;  // per memory (--max-memory-size)
  uint64_t fuel = 0;                     // 0 = unlimited (--fuel)
};

class Store {
 public:
  explicit Store(StoreLimits limits = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const StoreLimits& limits() const { return limits_; }

  // Canonical function types: equal types get the same id and pointer.
  uint32_t intern(const wasm::FuncType& type);
  const wasm::FuncType* type_of(uint32_t sig) const { return types_[sig].get(); }

  Function* create_host_function(const wasm::FuncType& type, std::string name, HostFn fn);
  Memory* create_memory(const wasm::MemoryType& type);  // throws Trap(OutOfMemory) if it cannot be reserved
  Table* create_table(const wasm::TableType& type, Ref init = 0);
  Global* create_global(const wasm::GlobalType& type, const Value& value);
  Tag* create_tag(const wasm::FuncType& type);

  // Links a validated module against `imports` (one per module import, in
  // order), allocates its objects, applies active segments and runs the start
  // function. Throws Error(Unlinkable) ("unknown import", "incompatible import
  // type") when an import does not match, and Trap when a segment is out of
  // bounds or the start function traps; in that case writes already done to
  // imported memories and tables stay.
  Instance* instantiate(std::shared_ptr<const wasm::Module> module, std::span<const Extern> imports);

  // Calls a function. Throws Trap; arguments must match the function's type.
  std::vector<Value> call(Function* func, std::span<const Value> args);

  // The interpreter's value stack (owned here so nested host->wasm calls
  // share it).
  uint64_t* stack_base() { return stack_begin_; }
  uint64_t* stack_limit() { return stack_begin_ + stack_slots_; }
  // First free slot: Store::call puts a call's arguments here. The
  // interpreter moves it past its live frames before calling a host function
  // (and restores it after), so a nested call does not overwrite them.
  uint64_t* stack_top() const { return stack_top_; }
  void set_stack_top(uint64_t* top) { stack_top_ = top; }

 private:
  friend void swap_call_stacks(Store& store, CallStacks& stacks);
  StoreLimits limits_;
  std::vector<std::unique_ptr<wasm::FuncType>> types_;
  std::unordered_map<std::string, uint32_t> type_ids_;
  std::vector<std::unique_ptr<Function>> functions_;
  std::vector<std::unique_ptr<HostFunction>> host_functions_;
  std::vector<std::unique_ptr<Memory>> memories_;
  std::vector<std::unique_ptr<Table>> tables_;
  std::vector<std::unique_ptr<Global>> globals_;
  std::vector<std::unique_ptr<Tag>> tags_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::unique_ptr<uint64_t[]> stack_;
  uint64_t* stack_begin_ = nullptr;  // stack_, or the CallStacks swapped in
  size_t stack_slots_ = 0;
  uint64_t* stack_top_ = nullptr;

 public:
  // Interpreter-owned state: translated code and the activation in progress.
  // Kept here so it dies with the store.
  struct ExecState;
  std::unique_ptr<ExecState> exec;
};

}  // namespace weft::engine
