// What a guest may see and touch: arguments, environment, preopened
// directories, network policy. Built by the CLI from its flags; p1, p2 and p3
// all read the same structure.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft::wasi::common {

struct Preopen {
  std::string host_path;
  std::string guest_path;
  bool read_only = false;  // no writes, creations, renames or removals through it
};

struct WasiConfig {
  std::vector<std::string> args;  // args[0] is the program name (--argv0 or FILE)
  std::vector<std::pair<std::string, std::string>> env;
  bool inherit_env = false;      // -S inherit-env: the host's environment first, then `env`
  std::vector<Preopen> preopens;
  // Network capabilities, as wasmtime's -S flags: -S tcp and -S udp (on
  // unless =n) allow creating sockets of the kind; using an address (bind,
  // connect, listen, send) needs -S inherit-network; name lookup needs
  // -S allow-ip-name-lookup or -S inherit-network. What is not allowed
  // fails with access-denied.
  bool inherit_network = false;
  bool tcp = true;
  bool udp = true;
  bool allow_ip_name_lookup = false;
  bool ip_name_lookup_allowed() const { return inherit_network || allow_ip_name_lookup; }
  // -S http: outgoing wasi:http requests (`weft serve` turns it on);
  // -S inherit-network allows them too. Without either, sending fails
  // with HTTP-request-denied.
  bool http = false;
  bool http_allowed() const { return http || inherit_network; }
  std::vector<std::string> tcplisten;  // --tcplisten HOST:PORT, preopened as sockets after the dirs
};

// Parses a --dir value: HOST, HOST::GUEST, and either with a ":ro" suffix.
// GUEST defaults to HOST. Throws weft::Error(Usage) on an empty part.
Preopen parse_dir_flag(std::string_view text);

// Parses a --env value: NAME=VALUE, or NAME alone to take the host's value
// (skipped when the host has none). Appends to config.env.
void add_env_flag(WasiConfig& config, std::string_view text);

// The guest's environment: the host's when inherit_env, then config.env
// (a later NAME replaces an earlier one).
std::vector<std::pair<std::string, std::string>> guest_environment(const WasiConfig& config);

}  // namespace weft::wasi::common
