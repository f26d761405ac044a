// One entry point per subcommand. main.cpp parses flags into these option
// structs; each subcommand file turns them into library calls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wasm/features.h"

namespace weft::cli {

// What `run` and `serve` share: the file, what the guest may see, limits.
struct GuestOptions {
  std::string file;
  std::vector<std::string> args;     // guest arguments after FILE
  bool validate_all = false;         // --validate-all
  uint64_t fuel = 0;                 // --fuel (0 = unlimited)
  uint64_t max_wasm_stack = 0;       // --max-wasm-stack (0 = default)
  uint64_t max_memory_size = 0;      // --max-memory-size (0 = default)
  std::vector<std::string> dirs;     // --dir HOST[::GUEST][:ro]
  std::vector<std::string> envs;     // --env NAME[=VALUE]
  std::vector<std::string> wasi_options;  // -S NAME[=y|n]
  std::vector<std::string> tcplisten;     // --tcplisten HOST:PORT
  std::string argv0;                 // --argv0 (default: FILE)
  wasm::Features features;           // -W NAME=y|n
};

struct RunOptions : GuestOptions {
  std::vector<std::string> invokes;  // --invoke 'name(args)', in order
};

struct ServeOptions : GuestOptions {
  std::string addr = "127.0.0.1:8080";  // --addr HOST:PORT
  uint32_t max_concurrent = 128;        // --max-concurrent: requests in flight
  uint32_t max_connections = 1024;      // --max-connections
  uint64_t head_timeout_ms = 10'000;    // --header-timeout: a request's head must arrive within
};

struct WastOptions {
  std::vector<std::string> files;
  bool quiet = false;        // only failures and the summary line
  std::string expect;        // --expect: file of known failures (`file.wast:LINE`)
  bool match_traps = false;  // --match-traps: trap messages must match the script's
  wasm::Features features;   // -W NAME=y|n
};

struct WitOptions {
  std::string file;
  bool interfaces = false;  // --interfaces: also print each interface's body
};

// Each returns the process exit status.
int run_command(const RunOptions& options);
int wast_command(const WastOptions& options);
int wit_command(const WitOptions& options);
int serve_command(const ServeOptions& options);

}  // namespace weft::cli
