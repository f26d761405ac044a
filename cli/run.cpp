// weft run: load a core module or a component, instantiate it with the WASI
// host it imports (preview1 or 0.2), then call `--invoke` exports in order,
// or the program's entry (`_start`, `wasi:cli/run@0.2.x#run`).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/guest.h"
#include "cli/load.h"
#include "cli/values.h"
#include "component/decoder.h"
#include "component/instance.h"
#include "component/validator.h"
#include "component/wave.h"
#include "engine/store.h"
#include "loop/reactor.h"
#include "wasi/common/config.h"
#include "wasi/p1/host.h"
#include "wasi/p2/host.h"

namespace weft::cli {

namespace {

// A call checked against the module's exports before anything runs (not even
// its start function), so a typo in the last --invoke changes nothing.
struct Call {
  uint32_t func_index = 0;
  std::vector<engine::Value> args;
};

const wasm::Export* find_module_export(const wasm::Module& module, std::string_view name) {
  for (const wasm::Export& e : module.exports)
    if (e.name == name) return &e;
  return nullptr;
}

Call prepare_call(const wasm::Module& module, const std::string& text) {
  Invocation invocation = parse_invocation(text);
  const std::string& name = invocation.name;
  const wasm::Export* exp = find_module_export(module, name);
  if (!exp) throw Error(ErrorKind::Usage, "unknown export '" + name + "'");
  if (exp->kind != wasm::ExternKind::Func)
    throw Error(ErrorKind::Usage,
                "export '" + name + "' is a " + wasm::to_string(exp->kind) + ", not a function");
  Call call{exp->index, {}};
  const auto& params = module.func_type(exp->index).params;
  if (invocation.args.size() != params.size())
    throw Error(ErrorKind::Usage, "'" + name + "' takes " + std::to_string(params.size()) + " argument" +
                                      (params.size() == 1 ? "" : "s") + ", got " +
                                      std::to_string(invocation.args.size()));
  for (size_t i = 0; i < params.size(); ++i) {
    try {
      call.args.push_back(parse_literal(invocation.args[i], params[i]));
    } catch (const Error& e) {
      throw Error(ErrorKind::Usage, "'" + name + "' argument " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  return call;
}

// The component's `wasi:cli/run` export, or an empty string. Toolchains
// export 0.3.x beside 0.2.x, whose `run` may then be a stub: 0.3.x first.
std::string cli_run_export(const component::Type* component) {
  std::string run = find_instance_export(component, {"wasi:cli/run@0.3.", "wasi:cli/run@0.2."});
  return run.empty() ? run : run + "#run";
}

// Checks every --invoke against the component's exports (name, arity, WAVE
// arguments) before anything is instantiated.
void check_invocations(const component::Type* component, const std::vector<std::string>& invokes) {
  for (const std::string& text : invokes) {
    std::string name = component::wave_call_name(text);
    const component::ExternDesc* desc = find_export(component, name);
    if (!desc) throw Error(ErrorKind::Usage, "unknown export '" + name + "'");
    if (desc->kind != component::ExternKind::Func)
      throw Error(ErrorKind::Usage,
                  "export '" + name + "' is a " + component::to_string(desc->kind) + ", not a function");
    component::parse_wave_args(text, desc->type, nullptr);
  }
}

// Resources a component hands out through --invoke results are shown as
// `#own(N)`, N numbering them in weft's own table (from 1), not as the
// component's representation; arguments name them the same way. So a call
// can pass only handles it was given, and an owned one only once.
class InvokeHandles {
 public:
  void take_results(std::vector<component::Val>& vals) {
    for (component::Val& v : vals) walk(v, [this](component::Val& h) {
        if (h.kind() != component::TypeKind::Own) return;
        table_.push_back(Entry{h.type->a, h.bits});
        h.bits = table_.size();
      });
  }

  void give_args(std::vector<component::Val>& vals) {
    for (component::Val& v : vals) walk(v, [this](component::Val& h) {
        std::optional<Entry>* e = h.bits - 1 < table_.size() ? &table_[h.bits - 1] : nullptr;
        if (!e || !*e || (*e)->resource != h.type->a)
          throw Error(ErrorKind::Usage, "no such resource: #" + std::string(component::to_string(h.kind())) +
                                            "(" + std::to_string(h.bits) + ")");
        h.bits = (*e)->rep;
        if (h.kind() == component::TypeKind::Own) e->reset();  // moved into the component
      });
  }

 private:
  struct Entry {
    const component::Type* resource;
    uint64_t rep;
  };
  template <class F>
  static void walk(component::Val& v, const F& on_handle) {
    if (v.kind() == component::TypeKind::Own || v.kind() == component::TypeKind::Borrow) return on_handle(v);
    for (component::Val& item : v.items) walk(item, on_handle);
  }
  std::vector<std::optional<Entry>> table_;
};

int run_component(const RunOptions& options, ByteBuffer bytes) {
  std::shared_ptr<component::Component> comp;
  component::ComponentInfo info;
  try {
    comp = component::decode_component(bytes);
    info = component::validate(*comp, options.validate_all);
  } catch (const Error& e) {
    return fail(options.file + ": " + e.describe());
  }
  std::string entry;
  try {
    check_invocations(info.type, options.invokes);
    if (options.invokes.empty()) {
      entry = cli_run_export(info.type);
      if (entry.empty()) return fail("no --invoke given and the component exports no wasi:cli/run (0.2.x or 0.3.x)");
    }
  } catch (const Error& e) {
    return fail(e.what());
  }

  engine::Store store(store_limits(options));
  loop::Reactor reactor;
  // Before the host: the host's pending work refers to the runtime.
  component::Runtime runtime(store, info.store);
  runtime.set_event_loop([&reactor](bool block) { return reactor.run_once(block); });
  wasi::common::WasiConfig config = wasi_config(options);
  wasi::p2::WasiHost wasi(reactor, config);
  component::Host host;
  wasi.add_to(host);
  component::ComponentInstance* instance = runtime.instantiate(*comp, info.type, host);

  if (!entry.empty()) {
    std::vector<component::Val> result = runtime.call(*find_export(instance->exports, entry), {});
    runtime.settle([&wasi] { return wasi.idle(); });
    std::fflush(stdout);
    // run: func() -> result: `err` is a failed program.
    return !result.empty() && result[0].case_index != 0 ? 1 : 0;
  }
  InvokeHandles handles;
  for (const std::string& text : options.invokes) {
    std::string name = component::wave_call_name(text);
    component::ComponentFunc* func = find_export(instance->exports, name);
    // Parsed again against the instance's types: its resource types are
    // fresh ones, not the validator's.
    std::vector<component::Val> args = component::parse_wave_args(text, func->type, nullptr);
    try {
      handles.give_args(args);
    } catch (const Error& e) {
      return fail(e.what());
    }
    std::vector<component::Val> results = runtime.call(*func, args);
    handles.take_results(results);
    std::printf("%s\n", component::print_wave_results(results).c_str());
  }
  return 0;
}

int run_module(const RunOptions& options) {
  std::shared_ptr<wasm::Module> module;
  try {
    ByteBuffer bytes = ByteBuffer::read_file(options.file);
    if (component::is_component(bytes)) return run_component(options, std::move(bytes));
    module = load_module(std::move(bytes), options.validate_all, options.features);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Io) return fail(e.what());
    return fail(options.file + ": " + e.describe());
  }

  // A module importing WASI preview1 gets the p1 host, which then must
  // provide every import; otherwise nothing can be imported.
  bool uses_wasi = std::any_of(module->imports.begin(), module->imports.end(),
                               [](const wasm::Import& i) { return wasi::p1::is_wasi_module(i.module); });
  if (!uses_wasi && !module->imports.empty()) {
    std::string names;
    for (const wasm::Import& import : module->imports) {
      if (!names.empty()) names += ", ";
      names += import.module + "::" + import.name;
    }
    return fail("unknown import: " + names);
  }

  std::vector<Call> calls;
  try {
    for (const std::string& text : options.invokes) calls.push_back(prepare_call(*module, text));
    if (options.invokes.empty()) {
      const wasm::Export* start = find_module_export(*module, "_start");
      if (!start || start->kind != wasm::ExternKind::Func)
        return fail("no --invoke given and the module exports no _start");
      calls.push_back(prepare_call(*module, "_start"));
    }
  } catch (const Error& e) {
    return fail(e.what());
  }

  engine::Store store(store_limits(options));
  loop::Reactor reactor;
  std::unique_ptr<wasi::p1::Host> host;
  std::vector<engine::Extern> imports;
  if (uses_wasi) {
    host = std::make_unique<wasi::p1::Host>(store, reactor, wasi_config(options));
    imports = wasi::p1::link_imports(*host, *module);
  }
  engine::Instance* instance = store.instantiate(module, imports);

  bool print_results = !options.invokes.empty();
  for (const Call& call : calls) {
    std::vector<engine::Value> results = store.call(instance->funcs[call.func_index], call.args);
    if (print_results)
      for (const engine::Value& value : results) std::printf("%s\n", format_value(value).c_str());
  }
  return 0;
}

}  // namespace

int run_command(const RunOptions& options) {
  try {
    return run_module(options);
  } catch (const engine::Trap& trap) {
    return report_trap(trap);
  } catch (const engine::ExitRequest& exit) {
    std::fflush(stdout);
    return exit.code;
  } catch (const Error& e) {
    return fail(options.file + ": " + e.describe());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

}  // namespace weft::cli
