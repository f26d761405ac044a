// weft run: load a core module, instantiate it, then call `--invoke` exports
// in order (or `_start`). Components and WASI come later.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/load.h"
#include "cli/values.h"
#include "engine/store.h"
#include "loop/reactor.h"
#include "wasi/common/config.h"
#include "wasi/p1/host.h"

namespace weft::cli {

namespace {

int fail(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

// Deep recursion gives backtraces of 100k frames: runs of one function are
// folded into a line, and the whole listing is capped.
int report_trap(const engine::Trap& trap) {
  constexpr size_t kMaxLines = 100;
  std::fflush(stdout);
  std::fprintf(stderr, "error: wasm trap: %s\n", trap.what());
  const auto& frames = trap.backtrace();
  size_t lines = 0;
  for (size_t i = 0; i < frames.size();) {
    if (lines++ == kMaxLines) {
      std::fprintf(stderr, "  ... %zu more frames\n", frames.size() - i);
      break;
    }
    size_t run = 1;
    while (i + run < frames.size() && frames[i + run].name == frames[i].name) ++run;
    std::fprintf(stderr, "  %zu: %s\n", i, frames[i].name.c_str());
    if (run > 2) {
      std::fprintf(stderr, "  %zu-%zu: %s (repeated)\n", i + 1, i + run - 1, frames[i].name.c_str());
      i += run;
    } else {
      ++i;
    }
  }
  return 134;
}

// A call checked against the module's exports before anything runs (not even
// its start function), so a typo in the last --invoke changes nothing.
struct Call {
  uint32_t func_index = 0;
  std::vector<engine::Value> args;
};

const wasm::Export* find_export(const wasm::Module& module, std::string_view name) {
  for (const wasm::Export& e : module.exports)
    if (e.name == name) return &e;
  return nullptr;
}

Call prepare_call(const wasm::Module& module, const std::string& text) {
  Invocation invocation = parse_invocation(text);
  const std::string& name = invocation.name;
  const wasm::Export* exp = find_export(module, name);
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

// What the guest may see, from --dir, --env, -S, --tcplisten and --argv0.
wasi::common::WasiConfig wasi_config(const RunOptions& options) {
  wasi::common::WasiConfig config;
  config.args.push_back(options.argv0.empty() ? options.file : options.argv0);
  config.args.insert(config.args.end(), options.args.begin(), options.args.end());
  for (const std::string& dir : options.dirs) config.preopens.push_back(wasi::common::parse_dir_flag(dir));
  for (const std::string& env : options.envs) wasi::common::add_env_flag(config, env);
  for (const std::string& option : options.wasi_options) {
    if (option == "inherit-env") config.inherit_env = true;
    if (option == "inherit-network") config.inherit_network = true;
  }
  config.tcplisten = options.tcplisten;
  return config;
}

int run_module(const RunOptions& options) {
  std::shared_ptr<wasm::Module> module;
  try {
    module = load_module(ByteBuffer::read_file(options.file), options.validate_all, options.features);
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
      const wasm::Export* start = find_export(*module, "_start");
      if (!start || start->kind != wasm::ExternKind::Func)
        return fail("no --invoke given and the module exports no _start");
      calls.push_back(prepare_call(*module, "_start"));
    }
  } catch (const Error& e) {
    return fail(e.what());
  }

  engine::StoreLimits limits;
  if (options.max_wasm_stack) limits.max_stack_bytes = options.max_wasm_stack;
  if (options.max_memory_size) limits.max_memory_bytes = options.max_memory_size;
  limits.fuel = options.fuel;
  engine::Store store(limits);
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
