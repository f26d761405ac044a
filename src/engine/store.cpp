#include "engine/store.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "base/error.h"
#include "engine/interpreter.h"

namespace weft::engine {
namespace {

// Tables grow in host memory; past this many entries growth fails (as the
// spec permits) instead of exhausting memory.
constexpr uint64_t kMaxTableEntries = 10'000'000;

uint64_t table_max(const wasm::TableType& type) {
  uint64_t index_max = type.limits.is64 ? UINT64_MAX : UINT32_MAX;
  return std::min({type.limits.max.value_or(index_max), index_max, kMaxTableEntries});
}

size_t slots_of(const std::vector<wasm::ValType>& types) {
  size_t n = 0;
  for (auto t : types) n += wasm::slot_count(t);
  return n;
}

// Raw slot layout: i32/f32 zero-extended, i64/f64/ref in one slot, v128 in
// two (low half first).
uint64_t* write_slots(uint64_t* slot, const Value& v) {
  switch (v.type) {
    case wasm::ValType::I32:
    case wasm::ValType::F32: *slot = v.i32; return slot + 1;
    case wasm::ValType::V128: std::memcpy(slot, v.v128.bytes, 16); return slot + 2;
    case wasm::ValType::I64:
    case wasm::ValType::F64: *slot = v.i64; return slot + 1;
    default: *slot = v.ref; return slot + 1;
  }
}

const uint64_t* read_slots(const uint64_t* slot, wasm::ValType type, Value* out) {
  switch (type) {
    case wasm::ValType::I32: *out = Value::make_i32(static_cast<uint32_t>(*slot)); return slot + 1;
    case wasm::ValType::F32: *out = Value::make_f32_bits(static_cast<uint32_t>(*slot)); return slot + 1;
    case wasm::ValType::I64: *out = Value::make_i64(*slot); return slot + 1;
    case wasm::ValType::F64: *out = Value::make_f64_bits(*slot); return slot + 1;
    case wasm::ValType::V128: {
      V128 v;
      std::memcpy(v.bytes, slot, 16);
      *out = Value::make_v128(v);
      return slot + 2;
    }
    default: *out = Value::make_ref(type, static_cast<Ref>(*slot)); return slot + 1;
  }
}

}  // namespace

Memory* HostCall::memory(uint32_t index) const {
  return caller && index < caller->memories.size() ? caller->memories[index] : nullptr;
}

int64_t Table::grow(uint64_t delta, Ref init) {
  uint64_t old = elems.size();
  uint64_t max = table_max(type);
  if (old > max || delta > max - old) return -1;
  try {
    elems.resize(old + delta, init);
  } catch (const std::bad_alloc&) {
    return -1;
  }
  return static_cast<int64_t>(old);
}

Value Global::get() const {
  Value v;
  v.type = type.type;
  switch (type.type) {
    case wasm::ValType::I32:
    case wasm::ValType::F32: v.i32 = static_cast<uint32_t>(bits[0]); break;
    case wasm::ValType::V128: std::memcpy(v.v128.bytes, bits, 16); break;
    case wasm::ValType::I64:
    case wasm::ValType::F64: v.i64 = bits[0]; break;
    default: v.ref = static_cast<Ref>(bits[0]); break;
  }
  return v;
}

void Global::set(const Value& v) {
  bits[1] = 0;
  write_slots(bits, v);
}

Extern Instance::find_export(std::string_view name) const {
  auto it = exports.find(name);
  return it == exports.end() ? Extern{} : it->second;
}

Function* Instance::find_function(std::string_view name) const {
  Extern e = find_export(name);
  return e.kind == wasm::ExternKind::Func ? e.func : nullptr;
}

Store::Store(StoreLimits limits) : limits_(limits) {
  stack_slots_ = limits_.max_stack_bytes / sizeof(uint64_t);
  // Left uninitialized: pages of a large stack that are never used cost nothing.
  stack_ = std::make_unique_for_overwrite<uint64_t[]>(stack_slots_);
  stack_begin_ = stack_.get();
  stack_top_ = stack_begin_;
}

Store::~Store() = default;

uint32_t Store::intern(const wasm::FuncType& type) {
  // Key: the value type encodings, params and results split by a zero byte
  // (no value type encodes as zero).
  std::string key;
  key.reserve(type.params.size() + type.results.size() + 1);
  for (auto t : type.params) key += static_cast<char>(t);
  key += '\0';
  for (auto t : type.results) key += static_cast<char>(t);
  auto [it, inserted] = type_ids_.try_emplace(std::move(key), static_cast<uint32_t>(types_.size()));
  if (inserted) types_.push_back(std::make_unique<wasm::FuncType>(type));
  return it->second;
}

Function* Store::create_host_function(const wasm::FuncType& type, std::string name, HostFn fn) {
  auto& host = host_functions_.emplace_back(
      std::make_unique<HostFunction>(HostFunction{std::move(name), std::move(fn)}));
  auto& f = *functions_.emplace_back(std::make_unique<Function>());
  f.sig = intern(type);
  f.type = type_of(f.sig);
  f.host = host.get();
  return &f;
}

Memory* Store::create_memory(const wasm::MemoryType& type) {
  return memories_.emplace_back(std::make_unique<Memory>(type, limits_.max_memory_bytes)).get();
}

Table* Store::create_table(const wasm::TableType& type, Ref init) {
  if (type.limits.min > table_max(type)) throw Trap(TrapKind::OutOfMemory, "table too large");
  auto& t = *tables_.emplace_back(std::make_unique<Table>());
  t.type = type;
  t.elems.assign(type.limits.min, init);
  return &t;
}

Global* Store::create_global(const wasm::GlobalType& type, const Value& value) {
  auto& g = *globals_.emplace_back(std::make_unique<Global>());
  g.type = type;
  g.set(value);
  return &g;
}

Tag* Store::create_tag(const wasm::FuncType& type) {
  auto& t = *tags_.emplace_back(std::make_unique<Tag>());
  t.sig = intern(type);
  t.type = type_of(t.sig);
  return &t;
}

std::vector<Value> Store::call(Function* func, std::span<const Value> args) {
  const wasm::FuncType& type = *func->type;
  if (args.size() != type.params.size())
    throw Error(ErrorKind::Usage, "wrong number of arguments: expected " + std::to_string(type.params.size()) +
                                      ", got " + std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].type != type.params[i])
      throw Error(ErrorKind::Usage, "argument " + std::to_string(i) + " has type " + wasm::to_string(args[i].type) +
                                        ", expected " + wasm::to_string(type.params[i]));
  }
  uint64_t* slots = stack_top_;
  size_t frame = std::max(slots_of(type.params), slots_of(type.results));
  if (frame > static_cast<size_t>(stack_limit() - slots)) throw Trap(TrapKind::CallStackExhausted);

  uint64_t* p = slots;
  for (const Value& v : args) p = write_slots(p, v);

  if (func->host) {
    // Reserve the host's slots so a call it makes back into wasm lands above them.
    struct TopGuard {
      Store& store;
      uint64_t* saved;
      ~TopGuard() { store.stack_top_ = saved; }
    } guard{*this, stack_top_};
    stack_top_ = slots + frame;
    HostCall call{*this, nullptr, slots};
    func->host->fn(call);
  } else {
    invoke(*this, func, slots);
  }

  std::vector<Value> results(type.results.size());
  const uint64_t* q = slots;
  for (size_t i = 0; i < results.size(); ++i) q = read_slots(q, type.results[i], &results[i]);
  return results;
}

}  // namespace weft::engine
