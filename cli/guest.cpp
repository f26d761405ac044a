#include "cli/guest.h"

#include <cstdio>
#include <filesystem>

namespace weft::cli {

int fail(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

// Deep recursion gives backtraces of 100k frames: the whole listing is capped.
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

wasi::common::WasiConfig wasi_config(const GuestOptions& options) {
  wasi::common::WasiConfig config;
  // As wasmtime: the file's name without its directories.
  config.args.push_back(options.argv0.empty() ? std::filesystem::path(options.file).filename().string()
                                              : options.argv0);
  config.args.insert(config.args.end(), options.args.begin(), options.args.end());
  for (const std::string& dir : options.dirs) config.preopens.push_back(wasi::common::parse_dir_flag(dir));
  for (const std::string& env : options.envs) wasi::common::add_env_flag(config, env);
  for (const std::string& option : options.wasi_options) {
    // NAME, NAME=y or NAME=n (main.cpp checks the names).
    std::string_view name = option;
    bool on = !name.ends_with("=n");
    if (size_t eq = name.find('='); eq != std::string_view::npos) name = name.substr(0, eq);
    if (name == "inherit-env") config.inherit_env = on;
    if (name == "inherit-network") config.inherit_network = on;
    if (name == "tcp") config.tcp = on;
    if (name == "udp") config.udp = on;
    if (name == "allow-ip-name-lookup") config.allow_ip_name_lookup = on;
    if (name == "http") config.http = on;
  }
  config.tcplisten = options.tcplisten;
  return config;
}

engine::StoreLimits store_limits(const GuestOptions& options) {
  engine::StoreLimits limits;
  if (options.max_wasm_stack) limits.max_stack_bytes = options.max_wasm_stack;
  if (options.max_memory_size) limits.max_memory_bytes = options.max_memory_size;
  limits.fuel = options.fuel;
  return limits;
}

const component::ExternDesc* find_export(const component::Type* component, const std::string& name) {
  size_t hash = name.rfind('#');
  if (hash == std::string::npos) return component->find_export(name);
  const component::ExternDesc* inst = component->find_export(name.substr(0, hash));
  if (!inst || inst->kind != component::ExternKind::Instance) return nullptr;
  return inst->type->find_export(name.substr(hash + 1));
}

component::ComponentFunc* find_export(const component::RtExports& exports, const std::string& name) {
  size_t hash = name.rfind('#');
  const component::RtExports* scope = &exports;
  std::string func = name;
  if (hash != std::string::npos) {
    auto inst = exports.find(name.substr(0, hash));
    if (inst == exports.end() || inst->second.kind != component::ExternKind::Instance) return nullptr;
    scope = inst->second.instance;
    func = name.substr(hash + 1);
  }
  auto it = scope->find(func);
  return it == scope->end() || it->second.kind != component::ExternKind::Func ? nullptr : it->second.func;
}

std::string find_instance_export(const component::Type* component,
                                 std::initializer_list<std::string_view> prefixes) {
  for (std::string_view prefix : prefixes)
    for (const component::NamedExtern& e : component->exports)
      if (e.desc.kind == component::ExternKind::Instance && e.name.starts_with(prefix)) return e.name;
  return {};
}

}  // namespace weft::cli
