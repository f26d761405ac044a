#include "wasi/common/config.h"

#include <unistd.h>

#include <cstdlib>

#include "base/error.h"

namespace weft::wasi::common {

Preopen parse_dir_flag(std::string_view text) {
  Preopen p;
  constexpr std::string_view kRo = ":ro";
  if (text.size() > kRo.size() && text.ends_with(kRo)) {
    p.read_only = true;
    text.remove_suffix(kRo.size());
  }
  size_t sep = text.find("::");
  if (sep == std::string_view::npos) {
    p.host_path = p.guest_path = std::string(text);
  } else {
    p.host_path = std::string(text.substr(0, sep));
    p.guest_path = std::string(text.substr(sep + 2));
  }
  if (p.host_path.empty() || p.guest_path.empty())
    throw Error(ErrorKind::Usage, "--dir expects HOST[::GUEST][:ro], got '" + std::string(text) + "'");
  return p;
}

void add_env_flag(WasiConfig& config, std::string_view text) {
  size_t eq = text.find('=');
  if (eq == 0 || text.empty()) throw Error(ErrorKind::Usage, "--env expects NAME[=VALUE]");
  if (eq != std::string_view::npos) {
    config.env.emplace_back(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
    return;
  }
  std::string name(text);
  if (const char* value = std::getenv(name.c_str())) config.env.emplace_back(name, value);
}

std::vector<std::pair<std::string, std::string>> guest_environment(const WasiConfig& config) {
  std::vector<std::pair<std::string, std::string>> out;
  auto set = [&](std::string name, std::string value) {
    for (auto& [n, v] : out)
      if (n == name) { v = std::move(value); return; }
    out.emplace_back(std::move(name), std::move(value));
  };
  if (config.inherit_env) {
    for (char** e = environ; *e; ++e) {
      std::string_view kv(*e);
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      set(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  for (const auto& [n, v] : config.env) set(n, v);
  return out;
}

}  // namespace weft::wasi::common
