// weft command line: flag parsing only; each subcommand lives in its own file.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"

namespace {

constexpr const char* kVersion = "0.1.0";

void configure_logging(const std::string& level) {
  spdlog::set_pattern("[%l] %v");
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace

int main(int argc, char** argv) {
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
  run_cmd->add_flag("--validate-all", run.validate_all, "validate every function before running");
  run_cmd->add_option("--fuel", run.fuel, "stop the guest after N instructions' worth of fuel");
  run_cmd->add_option("--max-wasm-stack", run.max_wasm_stack, "bytes of wasm value stack");
  run_cmd->add_option("--max-memory-size", run.max_memory_size, "largest size of a linear memory in bytes");
  run_cmd->add_option("--dir", run.dirs, "preopen a directory: HOST[::GUEST][:ro] (repeatable)")
      ->allow_extra_args(false);
  run_cmd->add_option("--env", run.envs, "guest variable NAME=VALUE, or NAME to pass the host's (repeatable)")
      ->allow_extra_args(false);
  run_cmd->add_option("-S", run.wasi_options, "WASI option: inherit-env, inherit-network (repeatable)")
      ->allow_extra_args(false)
      ->check(CLI::IsMember({"inherit-env", "inherit-network"}));
  run_cmd->add_option("--tcplisten", run.tcplisten, "preopen a listening TCP socket on HOST:PORT (repeatable)")
      ->allow_extra_args(false);
  run_cmd->add_option("--argv0", run.argv0, "the program name the guest sees (default: FILE)");
  std::vector<std::string> run_line;  // FILE, then the guest's arguments
  run_cmd->add_option("file", run_line, "the .wasm file, then arguments for the guest")->required();
  // Everything after FILE belongs to the guest, even words that look like
  // weft's own flags.
  run_cmd->positionals_at_end();

  weft::cli::WastOptions wast;
  auto* wast_cmd = app.add_subcommand("wast", "run spec test scripts (wast2json JSON)");
  wast_cmd->add_flag("-q,--quiet", wast.quiet, "print only failures and the summary line");
  wast_cmd->add_option("--expect", wast.expect, "file of known failures, one 'file.wast:LINE' per line");
  wast_cmd->add_flag("--match-traps", wast.match_traps, "fail traps whose message differs from the script's");
  wast_cmd->add_option("files", wast.files, "JSON command scripts")->required();

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
  if (*wast_cmd) return weft::cli::wast_command(wast);
  return 1;
}
