// Fuzz target: valid modules are instantiated against stand-in imports and
// every exported function is called with zero arguments under a fuel limit.
// Traps and link errors are fine; crashes, hangs and sanitizer reports are not.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/error.h"
#include "engine/store.h"
#include "wasm/decoder.h"
#include "wasm/validator.h"

using namespace weft;

namespace {

std::vector<engine::Extern> stand_in_imports(engine::Store& store, const wasm::Module& m) {
  std::vector<engine::Extern> out;
  for (const auto& imp : m.imports) {
    switch (imp.kind) {
      case wasm::ExternKind::Func: {
        const wasm::FuncType& type = m.types[imp.func_type];
        size_t results = 0;
        for (auto t : type.results) results += wasm::slot_count(t);
        out.push_back(engine::Extern::of(store.create_host_function(
            type, imp.module + "." + imp.name,
            [results](engine::HostCall& call) {
              for (size_t i = 0; i < results; ++i) call.slots[i] = 0;
            })));
        break;
      }
      case wasm::ExternKind::Table:
        out.push_back(engine::Extern::of(store.create_table(imp.table)));
        break;
      case wasm::ExternKind::Memory:
        out.push_back(engine::Extern::of(store.create_memory(imp.memory)));
        break;
      case wasm::ExternKind::Global:
        out.push_back(engine::Extern::of(
            store.create_global(imp.global, engine::Value::zero(imp.global.type))));
        break;
      case wasm::ExternKind::Tag:
        out.push_back(engine::Extern::of(store.create_tag(m.types[imp.tag.type_index])));
        break;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::shared_ptr<wasm::Module> module;
  try {
    module = wasm::decode_module(std::vector<uint8_t>(data, data + size));
    wasm::validate(*module, /*all_bodies=*/true);
  } catch (const Error&) {
    return 0;
  }
  engine::StoreLimits limits;
  limits.fuel = 100000;
  limits.max_stack_bytes = 1 << 20;
  limits.max_memory_bytes = 16 << 20;
  engine::Store store(limits);
  try {
    auto imports = stand_in_imports(store, *module);
    engine::Instance* instance = store.instantiate(module, imports);
    for (const auto& exp : module->exports) {
      if (exp.kind != wasm::ExternKind::Func) continue;
      engine::Function* f = instance->funcs[exp.index];
      std::vector<engine::Value> args;
      for (auto t : f->type->params) args.push_back(engine::Value::zero(t));
      try {
        store.call(f, args);
      } catch (const engine::Trap&) {
      }
    }
  } catch (const engine::Trap&) {
  } catch (const Error&) {
  }
  return 0;
}
