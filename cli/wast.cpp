// weft wast: runs wabt wast2json command scripts (see
// shared/core-testsuite/README.md for the format) against the engine. One
// fresh store per script, with `spectest` registered.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/load.h"
#include "cli/values.h"
#include "component/decoder.h"
#include "component/validator.h"
#include "engine/spectest.h"
#include "engine/store.h"
#include "wasm/decoder.h"
#include "wasm/validator.h"

namespace weft::cli {

namespace {

using json = nlohmann::json;
using engine::Value;
using wasm::ValType;

// Why a command failed; thrown by the checks below, caught per command.
struct Failure {
  std::string reason;
};

[[noreturn]] void failure(std::string reason) { throw Failure{std::move(reason)}; }

enum class Outcome { Pass, Fail, Skip };

struct Counts {
  size_t passed = 0, failed = 0, skipped = 0, known = 0;
  void add(const Counts& o) {
    passed += o.passed;
    failed += o.failed;
    skipped += o.skipped;
    known += o.known;
  }
  std::string summary() const {
    std::string s = std::to_string(passed) + " passed, " + std::to_string(failed) + " failed, " +
                    std::to_string(skipped) + " skipped";
    if (known) s += " (" + std::to_string(known) + " known failure" + (known == 1 ? "" : "s") + ")";
    return s;
  }
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// --expect: tests allowed to fail, one `file.wast:LINE` per line (`#`
// comments). `file.wast` is the script's source_filename or a trailing part
// of its path (`proposals/threads/imports.wast`), for same-named scripts in
// different folders.
class KnownFailures {
 public:
  void load(const std::string& path) {
    std::vector<uint8_t> bytes = read_file(path);
    std::istringstream in(std::string(bytes.begin(), bytes.end()));
    std::string line;
    while (std::getline(in, line)) {
      line = line.substr(0, line.find('#'));
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
      size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos) continue;
      line = line.substr(start);
      size_t colon = line.rfind(':');
      int number = 0;
      if (colon == std::string::npos ||
          std::from_chars(line.data() + colon + 1, line.data() + line.size(), number).ptr !=
              line.data() + line.size())
        throw Error(ErrorKind::Usage, path + ": expected 'file.wast:LINE', got '" + line + "'");
      by_line_.emplace(number, line.substr(0, colon));
    }
  }

  bool contains(const std::string& source, const std::string& wast_path, int line) const {
    auto [begin, end] = by_line_.equal_range(line);
    for (auto it = begin; it != end; ++it)
      if (it->second == source || it->second == wast_path || ends_with(wast_path, "/" + it->second))
        return true;
    return false;
  }

 private:
  std::multimap<int, std::string> by_line_;
};

uint64_t parse_u64(const std::string& text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) failure("bad number '" + text + "' in script");
  return v;
}

ValType parse_type(const std::string& name) {
  static const std::unordered_map<std::string, ValType> types = {
      {"i32", ValType::I32},
      {"i64", ValType::I64},
      {"f32", ValType::F32},
      {"f64", ValType::F64},
      {"v128", ValType::V128},
      {"funcref", ValType::FuncRef},
      {"externref", ValType::ExternRef},
      {"exnref", ValType::ExnRef},
  };
  auto it = types.find(name);
  if (it == types.end()) failure("unknown value type '" + name + "' in script");
  return it->second;
}

unsigned lane_bytes(const std::string& lane_type) {
  if (lane_type == "i8") return 1;
  if (lane_type == "i16") return 2;
  if (lane_type == "i32" || lane_type == "f32") return 4;
  if (lane_type == "i64" || lane_type == "f64") return 8;
  failure("unknown lane type '" + lane_type + "' in script");
}

uint64_t lane(const engine::V128& v, unsigned width, size_t i) {
  uint64_t bits = 0;
  std::memcpy(&bits, v.bytes + i * width, width);  // little-endian host
  return bits;
}

// An argument value.
Value parse_value(const json& j) {
  ValType type = parse_type(j.at("type").get<std::string>());
  switch (type) {
    case ValType::I32:
      return Value::make_i32(static_cast<uint32_t>(parse_u64(j.at("value"))));
    case ValType::I64:
      return Value::make_i64(parse_u64(j.at("value")));
    case ValType::F32:
      return Value::make_f32_bits(static_cast<uint32_t>(parse_u64(j.at("value"))));
    case ValType::F64:
      return Value::make_f64_bits(parse_u64(j.at("value")));
    case ValType::V128: {
      unsigned width = lane_bytes(j.at("lane_type"));
      const json& lanes = j.at("value");
      if (lanes.size() * width != 16) failure("v128 with the wrong number of lanes in script");
      engine::V128 v{};
      for (size_t i = 0; i < lanes.size(); ++i) {
        uint64_t bits = parse_u64(lanes[i]);
        std::memcpy(v.bytes + i * width, &bits, width);
      }
      return Value::make_v128(v);
    }
    case ValType::FuncRef:
    case ValType::ExternRef:
    case ValType::ExnRef: {
      const std::string& text = j.at("value").get_ref<const std::string&>();
      if (text == "null") return Value::make_ref(type, 0);
      if (type != ValType::ExternRef)
        failure("non-null " + std::string(wasm::to_string(type)) + " argument in script");
      return Value::extern_ref(parse_u64(text));
    }
  }
  failure("bad value in script");
}

// f32 lanes/values: `bits` of width 32 or 64 against a JSON lane string.
bool float_matches(uint64_t bits, const std::string& want, bool is64) {
  uint64_t sign = is64 ? uint64_t{1} << 63 : uint64_t{1} << 31;
  uint64_t quiet = is64 ? 0x7ff8000000000000 : 0x7fc00000;
  if (want == "nan:canonical") return (bits & ~sign) == quiet;
  if (want == "nan:arithmetic") return (bits & quiet) == quiet;
  return bits == parse_u64(want);
}

bool matches(const Value& got, const json& want) {
  ValType type = parse_type(want.at("type").get<std::string>());
  if (got.type != type) return false;
  switch (type) {
    case ValType::I32:
      return got.i32 == static_cast<uint32_t>(parse_u64(want.at("value")));
    case ValType::I64:
      return got.i64 == parse_u64(want.at("value"));
    case ValType::F32:
      return float_matches(got.f32, want.at("value"), false);
    case ValType::F64:
      return float_matches(got.f64, want.at("value"), true);
    case ValType::V128: {
      const std::string& lane_type = want.at("lane_type").get_ref<const std::string&>();
      unsigned width = lane_bytes(lane_type);
      const json& lanes = want.at("value");
      if (lanes.size() * width != 16) failure("v128 with the wrong number of lanes in script");
      bool is_float = lane_type[0] == 'f';
      for (size_t i = 0; i < lanes.size(); ++i) {
        uint64_t bits = lane(got.v128, width, i);
        const std::string& text = lanes[i].get_ref<const std::string&>();
        if (is_float ? !float_matches(bits, text, width == 8) : bits != parse_u64(text)) return false;
      }
      return true;
    }
    case ValType::FuncRef:
    case ValType::ExternRef:
    case ValType::ExnRef: {
      const std::string& text = want.at("value").get_ref<const std::string&>();
      if (text == "null") return got.ref == 0;
      if (type == ValType::ExternRef) return got.ref == Value::extern_ref(parse_u64(text)).ref;
      return got.ref != 0;  // `ref.func`: any non-null reference
    }
  }
  return false;
}

// Values in the script's notation (bit patterns in unsigned decimal), with
// the number as well for floats, so a mismatch reads against the JSON.
std::string describe(const Value& v, const std::string& lane_type = "i32") {
  std::string type = wasm::to_string(v.type);
  switch (v.type) {
    case ValType::I32:
      return "i32:" + std::to_string(v.i32);
    case ValType::I64:
      return "i64:" + std::to_string(v.i64);
    case ValType::F32:
    case ValType::F64:
      return type + ":" + std::to_string(v.type == ValType::F32 ? v.f32 : v.f64) + " (" + format_value(v) +
             ")";
    case ValType::V128: {
      unsigned width = lane_bytes(lane_type);
      std::string s = "v128:" + lane_type + "x" + std::to_string(16 / width) + ":";
      for (unsigned i = 0; i < 16 / width; ++i) s += (i ? " " : "") + std::to_string(lane(v.v128, width, i));
      return s;
    }
    default:
      if (v.ref == 0) return type + ":null";
      if (v.type == ValType::ExternRef) return type + ":" + std::to_string(v.extern_index());
      return type + ":non-null";
  }
}

std::string describe(const json& want) {
  std::string type = want.at("type");
  if (!want.contains("value")) return type;
  const json& value = want["value"];
  if (value.is_array()) {
    std::string lane_type = want.value("lane_type", "?");
    std::string s = "v128:" + lane_type + "x" + std::to_string(value.size()) + ":";
    for (size_t i = 0; i < value.size(); ++i) s += (i ? " " : "") + value[i].get<std::string>();
    return s;
  }
  return type + ":" + value.get<std::string>();
}

std::string describe_results(const std::vector<Value>& got, const json& want) {
  std::string s = "[";
  for (size_t i = 0; i < got.size(); ++i) {
    std::string lane_type = i < want.size() ? want[i].value("lane_type", "i32") : "i32";
    s += (i ? ", " : "") + describe(got[i], lane_type);
  }
  return s + "]";
}

std::string describe_expected(const json& want) {
  std::string s = "[";
  for (size_t i = 0; i < want.size(); ++i) s += (i ? ", " : "") + describe(want[i]);
  return s + "]";
}

std::string describe_error(const Error& e) {
  switch (e.kind()) {
    case ErrorKind::Malformed:
      return "malformed: " + e.describe();
    case ErrorKind::Invalid:
      return "invalid: " + e.describe();
    case ErrorKind::Unlinkable:
      return "unlinkable: " + e.describe();
    default:
      return e.describe();
  }
}

// One script: its store, registered modules and named instances.
class Script {
 public:
  Script(const std::string& json_path, const KnownFailures& known, const WastOptions& options)
      : json_path_(json_path), known_(known), options_(options) {
    size_t slash = json_path.rfind('/');
    dir_ = slash == std::string::npos ? "" : json_path.substr(0, slash + 1);
    wast_path_ =
        ends_with(json_path, ".json") ? json_path.substr(0, json_path.size() - 5) + ".wast" : json_path;
    registry_["spectest"] = engine::make_spectest(store_);
  }

  Counts run() {
    json script;
    try {
      if (ends_with(json_path_, ".wast"))
        throw Error(ErrorKind::Usage,
                    json_path_ + ": .wast scripts need a WAT parser; convert them with wast2json");
      std::vector<uint8_t> bytes = read_file(json_path_);
      try {
        script = json::parse(bytes.begin(), bytes.end());
        source_ = script.value("source_filename", wast_path_);
      } catch (const json::exception& e) {
        throw Error(ErrorKind::Usage, json_path_ + ": " + e.what());
      }
    } catch (const Error& e) {
      std::printf("error: %s\n", e.what());
      counts_.failed++;
      return counts_;
    }
    for (const json& command : script.value("commands", json::array())) run_command(command);
    return counts_;
  }

 private:
  void run_command(const json& command) {
    std::string type = command.value("type", "?");
    int line = command.value("line", 0);
    if (type == "register") {
      do_register(command);
      return;
    }
    Outcome outcome = Outcome::Pass;
    std::string reason;
    try {
      outcome = execute(type, command);
    } catch (const Failure& f) {
      outcome = Outcome::Fail;
      reason = f.reason;
    } catch (const engine::Trap& trap) {
      outcome = Outcome::Fail;
      reason = std::string("trap: ") + trap.what();
    } catch (const Error& e) {
      outcome = Outcome::Fail;
      reason = describe_error(e);
    } catch (const engine::ExitRequest& exit) {
      outcome = Outcome::Fail;
      reason = "exit(" + std::to_string(exit.code) + ")";
    } catch (const std::exception& e) {
      outcome = Outcome::Fail;
      reason = e.what();
    }

    bool listed = known_.contains(source_, wast_path_, line);
    switch (outcome) {
      case Outcome::Skip:
        counts_.skipped++;
        break;
      case Outcome::Pass:
        counts_.passed++;
        if (listed)
          std::printf("%s:%d: %s: passes, but is listed as a known failure\n", source_.c_str(), line,
                      type.c_str());
        break;
      case Outcome::Fail:
        if (listed) {
          counts_.known++;
          if (!options_.quiet)
            std::printf("%s:%d: %s: known failure: %s\n", source_.c_str(), line, type.c_str(),
                        reason.c_str());
        } else {
          counts_.failed++;
          std::printf("%s:%d: %s: %s\n", source_.c_str(), line, type.c_str(), reason.c_str());
        }
        break;
    }
  }

  Outcome execute(const std::string& type, const json& command) {
    if (command.value("module_kind", "core") == "component" && command.contains("filename"))
      return component_command(type, command);
    if (type == "module_instance") {
      current_ = nullptr;
      current_is_component_ = true;
    }
    if (type == "module_instance" || (current_is_component_ && command.contains("action")))
      failure("component instantiation not implemented");
    if (type == "module") return do_module(command);
    if (type == "action") {
      perform(command.at("action"));
      return Outcome::Pass;
    }
    if (type == "assert_return") return assert_return(command);
    if (type == "assert_trap" && command.contains("filename")) return assert_uninstantiable(command);
    if (type == "assert_trap" || type == "assert_exhaustion") return assert_trap(command);
    if (type == "assert_exception") return assert_exception(command);
    if (type == "assert_invalid") return assert_invalid(command);
    if (type == "assert_malformed") return assert_malformed(command);
    if (type == "assert_unlinkable") return assert_unlinkable(command);
    if (type == "assert_uninstantiable") return assert_uninstantiable(command);
    failure("unknown command type");
  }

  // Component scripts (cm-testsuite): decoding and validation only, for now.
  Outcome component_command(const std::string& type, const json& command) {
    if (is_text(command)) return Outcome::Skip;
    auto check = [&] {
      std::vector<uint8_t> bytes = read_file(dir_ + command.at("filename").get<std::string>());
      component::validate(*component::decode_component(bytes), true);
    };
    if (type == "module_definition") {
      check();
      return Outcome::Pass;
    }
    if (type == "assert_invalid" || type == "assert_malformed") {
      bool malformed = type == "assert_malformed";
      try {
        check();
      } catch (const Error& e) {
        // A decode error passes assert_invalid too (SCHEMA.md).
        if (e.kind() == ErrorKind::Malformed || (!malformed && e.kind() == ErrorKind::Invalid))
          return Outcome::Pass;
        throw;
      }
      failure(std::string("component ") + (malformed ? "decodes" : "is valid") + ", expected \"" +
              command.value("text", "") + "\"");
    }
    if (type == "module") {
      current_ = nullptr;
      current_is_component_ = true;
    }
    check();
    failure("component instantiation not implemented");
  }

  static bool is_text(const json& command) {
    return command.value("module_type", "binary") == "text" ||
           ends_with(command.value("filename", ""), ".wat");
  }

  std::shared_ptr<wasm::Module> decode(const json& command) {
    return wasm::decode_module(read_file(dir_ + command.at("filename").get<std::string>()),
                               options_.features);
  }

  // Imports come from registered modules; instantiate checks their types.
  std::vector<engine::Extern> resolve_imports(const wasm::Module& module) {
    std::vector<engine::Extern> imports;
    imports.reserve(module.imports.size());
    for (const wasm::Import& import : module.imports) {
      auto m = registry_.find(import.module);
      if (m != registry_.end()) {
        auto e = m->second.find(import.name);
        if (e != m->second.end()) {
          imports.push_back(e->second);
          continue;
        }
      }
      throw Error(ErrorKind::Unlinkable, "unknown import \"" + import.module + "\" \"" + import.name + "\"");
    }
    return imports;
  }

  engine::Instance* instantiate(std::shared_ptr<wasm::Module> module) {
    std::vector<engine::Extern> imports = resolve_imports(*module);
    return store_.instantiate(std::move(module), imports);
  }

  Outcome do_module(const json& command) {
    if (is_text(command)) return Outcome::Skip;
    // Later commands must not silently run against an older module.
    current_ = nullptr;
    current_is_component_ = false;
    std::string name = command.value("name", "");
    if (!name.empty()) named_.erase(name);
    std::shared_ptr<wasm::Module> module = decode(command);
    wasm::validate(*module, true);
    current_ = instantiate(std::move(module));
    if (!name.empty()) named_[name] = current_;
    return Outcome::Pass;
  }

  void do_register(const json& command) {
    std::string name = command.value("name", "");
    engine::Instance* instance = name.empty() ? current_ : lookup(name);
    if (!instance) return;  // the module failed; its importers will report it
    auto& exports = registry_[command.at("as").get<std::string>()];
    exports.clear();
    for (const wasm::Export& e : instance->module->exports) exports[e.name] = instance->find_export(e.name);
  }

  engine::Instance* lookup(const std::string& name) {
    auto it = named_.find(name);
    return it == named_.end() ? nullptr : it->second;
  }

  std::vector<Value> perform(const json& action) {
    std::string module_name = action.value("module", "");
    engine::Instance* instance = module_name.empty() ? current_ : lookup(module_name);
    if (!instance) failure(module_name.empty() ? "no current module" : "no module " + module_name);
    const std::string& field = action.at("field").get_ref<const std::string&>();
    engine::Extern ext = instance->find_export(field);
    if (ext.ptr == nullptr) failure("unknown export \"" + field + "\"");
    std::string type = action.at("type");
    if (type == "get") {
      if (ext.kind != wasm::ExternKind::Global) failure("export \"" + field + "\" is not a global");
      return {ext.global->get()};
    }
    if (type != "invoke") failure("unknown action type '" + type + "'");
    if (ext.kind != wasm::ExternKind::Func) failure("export \"" + field + "\" is not a function");
    std::vector<Value> args;
    for (const json& arg : action.value("args", json::array())) args.push_back(parse_value(arg));
    const auto& params = ext.func->type->params;
    bool fits = args.size() == params.size();
    for (size_t i = 0; fits && i < args.size(); ++i) fits = args[i].type == params[i];
    if (!fits)
      failure("arguments do not match the type of \"" + field + "\": " + wasm::to_string(*ext.func->type));
    return store_.call(ext.func, args);
  }

  Outcome assert_return(const json& command) {
    std::vector<Value> got = perform(command.at("action"));
    if (command.contains("either")) {
      const json& either = command["either"];
      for (const json& want : either)
        if (got.size() == 1 && matches(got[0], want)) return Outcome::Pass;
      failure("got " + describe_results(got, either) + ", expected one of " + describe_expected(either));
    }
    const json& want = command.at("expected");
    bool ok = got.size() == want.size();
    for (size_t i = 0; ok && i < got.size(); ++i) ok = matches(got[i], want[i]);
    if (!ok) failure("got " + describe_results(got, want) + ", expected " + describe_expected(want));
    return Outcome::Pass;
  }

  // With --match-traps, the trap message and the script's text (the spec
  // interpreter's words, sometimes with a detail such as an index) must agree
  // as far as the shorter goes; otherwise any trap will do.
  void check_trap_text(const engine::Trap& trap, const json& command) const {
    std::string want = command.value("text", "");
    std::string_view got = trap.what();
    size_t n = std::min(got.size(), want.size());
    if (options_.match_traps && got.substr(0, n) != std::string_view(want).substr(0, n))
      failure("trapped with \"" + std::string(trap.what()) + "\", expected \"" + want + "\"");
  }

  Outcome assert_trap(const json& command) {
    std::vector<Value> got;
    try {
      got = perform(command.at("action"));
    } catch (const engine::Trap& trap) {
      check_trap_text(trap, command);
      return Outcome::Pass;
    }
    failure("returned " + describe_results(got, json::array()) + ", expected trap \"" +
            command.value("text", "") + "\"");
  }

  Outcome assert_exception(const json& command) {
    std::vector<Value> got;
    try {
      got = perform(command.at("action"));
    } catch (const engine::Trap& trap) {
      if (trap.kind() == engine::TrapKind::UncaughtException) return Outcome::Pass;
      throw;
    }
    failure("returned " + describe_results(got, json::array()) + ", expected an exception");
  }

  Outcome assert_invalid(const json& command) {
    if (is_text(command)) return Outcome::Skip;
    try {
      wasm::validate(*decode(command), true);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Invalid) return Outcome::Pass;
      throw;
    }
    failure("module is valid, expected \"" + command.value("text", "") + "\"");
  }

  Outcome assert_malformed(const json& command) {
    if (is_text(command)) return Outcome::Skip;
    try {
      wasm::validate(*decode(command), true);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Malformed) return Outcome::Pass;
      throw;
    }
    failure("module decodes and validates, expected \"" + command.value("text", "") + "\"");
  }

  Outcome assert_unlinkable(const json& command) {
    if (is_text(command)) return Outcome::Skip;
    std::shared_ptr<wasm::Module> module = decode(command);
    wasm::validate(*module, true);
    try {
      instantiate(std::move(module));
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Unlinkable) return Outcome::Pass;
      throw;
    }
    failure("module linked, expected \"" + command.value("text", "") + "\"");
  }

  Outcome assert_uninstantiable(const json& command) {
    if (is_text(command)) return Outcome::Skip;
    std::shared_ptr<wasm::Module> module = decode(command);
    wasm::validate(*module, true);
    try {
      instantiate(std::move(module));
    } catch (const engine::Trap& trap) {
      check_trap_text(trap, command);
      return Outcome::Pass;
    }
    failure("module instantiated, expected trap \"" + command.value("text", "") + "\"");
  }

  std::string json_path_;
  std::string wast_path_;
  std::string dir_;
  std::string source_;
  const KnownFailures& known_;
  const WastOptions& options_;
  Counts counts_;
  engine::Store store_;
  std::unordered_map<std::string, std::unordered_map<std::string, engine::Extern>> registry_;
  std::unordered_map<std::string, engine::Instance*> named_;
  engine::Instance* current_ = nullptr;
  bool current_is_component_ = false;  // actions target a component instance
};

}  // namespace

int wast_command(const WastOptions& options) {
  KnownFailures known;
  try {
    if (!options.expect.empty()) known.load(options.expect);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  Counts total;
  for (const std::string& file : options.files) {
    Counts counts;
    try {
      counts = Script(file, known, options).run();
    } catch (const std::exception& e) {
      // A script whose JSON has the wrong shape outside any one command.
      std::printf("error: %s: %s\n", file.c_str(), e.what());
      counts.failed++;
    }
    if (!options.quiet && options.files.size() > 1)
      std::printf("%s: %s\n", file.c_str(), counts.summary().c_str());
    std::fflush(stdout);
    total.add(counts);
  }
  std::printf("%s\n", total.summary().c_str());
  return total.failed == 0 ? 0 : 1;
}

}  // namespace weft::cli
