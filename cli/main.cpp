// weft command line: flag parsing only; each subcommand lives in its own file.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"

namespace {

constexpr const char* kVersion = "0.1.0";

// Logs go to stderr: stdout is the guest's.
void configure_logging(const std::string& level) {
  spdlog::set_default_logger(spdlog::stderr_color_st("weft"));
  spdlog::set_pattern("[%l] %v");
  spdlog::set_level(spdlog::level::from_str(level));
}

// -W NAME[=y|n], repeatable or comma-separated: turns a wasm proposal on or
// off, by wasmtime's names for them.
void add_feature_flag(CLI::App* cmd, weft::wasm::Features& features) {
  auto apply = [&features](const std::vector<std::string>& flags) {
    for (const std::string& flag : flags) {
      size_t eq = flag.find('=');
      std::string name = flag.substr(0, eq);
      std::string value = eq == std::string::npos ? "y" : flag.substr(eq + 1);
      bool* on = weft::wasm::find_feature(features, name);
      if (!on) throw CLI::ValidationError("-W", "unknown wasm feature '" + name + "'");
      if (value == "y" || value == "yes" || value == "true") *on = true;
      else if (value == "n" || value == "no" || value == "false") *on = false;
      else throw CLI::ValidationError("-W", "expected " + name + "=y or " + name + "=n, got '" + flag + "'");
    }
  };
  cmd->add_option_function<std::vector<std::string>>(
         "-W", apply, "enable or disable a wasm feature: NAME[=y|n], e.g. -W multi-memory=n (repeatable)")
      ->delimiter(',')
      ->allow_extra_args(false);
}

// The flags of every command that runs a guest: limits, what it may see.
void add_guest_flags(CLI::App* cmd, weft::cli::GuestOptions& guest) {
  cmd->add_flag("--validate-all", guest.validate_all, "validate every function before running");
  cmd->add_option("--fuel", guest.fuel, "stop the guest after N instructions' worth of fuel");
  cmd->add_option("--max-wasm-stack", guest.max_wasm_stack, "bytes of wasm value stack");
  cmd->add_option("--max-memory-size", guest.max_memory_size, "largest size of a linear memory in bytes");
  cmd->add_option("--dir", guest.dirs, "preopen a directory: HOST[::GUEST][:ro] (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--env", guest.envs, "guest variable NAME=VALUE, or NAME to pass the host's (repeatable)")
      ->allow_extra_args(false);
  std::vector<std::string> wasi_flags;
  for (const char* name : {"inherit-env", "inherit-network", "tcp", "udp", "allow-ip-name-lookup", "http"})
    for (const char* value : {"", "=y", "=n"}) wasi_flags.push_back(std::string(name) + value);
  cmd->add_option("-S", guest.wasi_options,
                  "WASI option, NAME[=y|n]: inherit-env, inherit-network, tcp, udp, allow-ip-name-lookup, "
                  "http (repeatable)")
      ->allow_extra_args(false)
      ->check(CLI::IsMember(wasi_flags));
  add_feature_flag(cmd, guest.features);
}

}  // namespace

int main(int argc, char** argv) {
  // A guest writing to a closed pipe (`weft run x.wasm | head`) gets EPIPE,
  // as WASI says, instead of weft dying of SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"weft: a runner for WebAssembly components and modules", "weft"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("weft ") + kVersion);
  std::string log_level = "warn";
  app.add_option("-v,--log-level", log_level, "log level: trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  weft::cli::RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "run a WebAssembly module or component");
  run_cmd->add_option("--invoke", run.invokes, "call an export: 'name(arg, ...)' (repeatable)")
      ->allow_extra_args(false);  // one call per --invoke, or it would swallow FILE
  add_guest_flags(run_cmd, run);
  run_cmd->add_option("--tcplisten", run.tcplisten, "preopen a listening TCP socket on HOST:PORT (repeatable)")
      ->allow_extra_args(false);
  run_cmd->add_option("--argv0", run.argv0, "the program name the guest sees (default: FILE's name)");
  std::vector<std::string> run_line;  // FILE, then the guest's arguments
  run_cmd->add_option("file", run_line, "the .wasm file, then arguments for the guest")->required();
  // Everything after FILE belongs to the guest, even words that look like
  // weft's own flags.
  run_cmd->positionals_at_end();

  weft::cli::ServeOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "serve a wasi:http component (0.3 handler, 0.2 incoming-handler)");
  serve_cmd->add_option("--addr", serve.addr, "listen on HOST:PORT (default 127.0.0.1:8080; port 0 picks one)");
  serve_cmd->add_option("--max-concurrent", serve.max_concurrent, "requests in flight at once (default 128)")
      ->check(CLI::Range(1u, 1u << 20));
  serve_cmd->add_option("--max-connections", serve.max_connections, "open client connections (default 1024)")
      ->check(CLI::Range(1u, 1u << 20));
  serve_cmd->add_option("--header-timeout", serve.head_timeout_ms,
                        "milliseconds a client has to send a request's head (default 10000)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  add_guest_flags(serve_cmd, serve);
  serve_cmd->add_option("file", serve.file, "the component .wasm file")->required();

  weft::cli::WastOptions wast;
  auto* wast_cmd = app.add_subcommand("wast", "run spec test scripts (wast2json JSON)");
  wast_cmd->add_flag("-q,--quiet", wast.quiet, "print only failures and the summary line");
  wast_cmd->add_option("--expect", wast.expect, "file of known failures, one 'file.wast:LINE' per line");
  wast_cmd->add_flag("--match-traps", wast.match_traps, "fail traps whose message differs from the script's");
  add_feature_flag(wast_cmd, wast.features);
  wast_cmd->add_option("files", wast.files, "JSON command scripts")->required();

  weft::cli::WitOptions wit;
  auto* wit_cmd = app.add_subcommand("wit", "print a component's world (imports and exports) in WIT");
  wit_cmd->add_flag("--interfaces", wit.interfaces, "also print the functions and types of each interface");
  wit_cmd->add_option("file", wit.file, "the component .wasm file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "error: %s\n", e.what());
    std::fprintf(stderr, "Run 'weft --help' for usage.\n");
    return 1;
  }
  configure_logging(log_level);

  if (*run_cmd) {
    run.file = run_line.front();
    run.args.assign(run_line.begin() + 1, run_line.end());
    return weft::cli::run_command(run);
  }
  if (*serve_cmd) return weft::cli::serve_command(serve);
  if (*wast_cmd) return weft::cli::wast_command(wast);
  if (*wit_cmd) return weft::cli::wit_command(wit);
  return 1;
}
