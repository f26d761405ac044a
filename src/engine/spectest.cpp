#include "engine/spectest.h"

#include <bit>

namespace weft::engine {

using wasm::ValType;

std::unordered_map<std::string, Extern> make_spectest(Store& store) {
  std::unordered_map<std::string, Extern> exports;

  // The print functions only exist to be imported; tests never check output.
  auto print = [&](const char* name, std::vector<ValType> params) {
    wasm::FuncType type{std::move(params), {}};
    exports[name] =
        Extern::of(store.create_host_function(type, std::string("spectest.") + name, [](HostCall&) {}));
  };
  print("print", {});
  print("print_i32", {ValType::I32});
  print("print_i64", {ValType::I64});
  print("print_f32", {ValType::F32});
  print("print_f64", {ValType::F64});
  print("print_i32_f32", {ValType::I32, ValType::F32});
  print("print_f64_f64", {ValType::F64, ValType::F64});

  auto global = [&](const char* name, const Value& value) {
    exports[name] = Extern::of(store.create_global(wasm::GlobalType{value.type, false}, value));
  };
  global("global_i32", Value::make_i32(666));
  global("global_i64", Value::make_i64(666));
  global("global_f32", Value::make_f32_bits(std::bit_cast<uint32_t>(666.6f)));
  global("global_f64", Value::make_f64_bits(std::bit_cast<uint64_t>(666.6)));

  wasm::TableType table;
  table.elem = ValType::FuncRef;
  table.limits.min = 10;
  table.limits.max = 20;
  exports["table"] = Extern::of(store.create_table(table));
  table.limits.is64 = true;
  exports["table64"] = Extern::of(store.create_table(table));

  wasm::MemoryType memory;
  memory.limits.min = 1;
  memory.limits.max = 2;
  exports["memory"] = Extern::of(store.create_memory(memory));
  memory.limits.shared = true;
  exports["shared_memory"] = Extern::of(store.create_memory(memory));
  return exports;
}

}  // namespace weft::engine
