// weft wast: runs wabt wast2json command scripts (see
// shared/core-testsuite/README.md for the format) against the engine. One
// fresh store per script, with `spectest` registered.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
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
#include "component/instance.h"
#include "component/validator.h"
#include "component/wave.h"
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

// The code point of a `char.const` (one scalar value; the JSON is UTF-8).
char32_t one_scalar(const std::string& s) {
  if (s.empty()) failure("empty char value");
  auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t c = b(0);
  if (c < 0x80) return c;
  size_t n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
  char32_t cp = c & (0x3f >> n);
  for (size_t i = 1; i <= n && i < s.size(); ++i) cp = (cp << 6) | (b(i) & 0x3f);
  return cp;
}

uint64_t float_bits(const json& v) { return std::stoull(v.get<std::string>()); }

// A component value (SCHEMA.md "Values") as the declared type `t` reads it.
component::Val json_to_val(const json& j, const component::Type* t) {
  using component::TypeKind;
  component::Val v;
  v.type = t;
  const json& x = j.at("value");
  auto label_index = [&](const std::string& name) -> uint32_t {
    for (uint32_t i = 0; i < t->fields.size(); ++i)
      if (t->fields[i].label == name) return i;
    for (uint32_t i = 0; i < t->labels.size(); ++i)
      if (t->labels[i] == name) return i;
    failure("no case or label \"" + name + "\" in " + component::to_string(t));
  };
  switch (t->kind) {
    case TypeKind::Bool:
      v.bits = x.get<bool>();
      break;
    case TypeKind::S8:
    case TypeKind::S16:
    case TypeKind::S32:
    case TypeKind::S64:
      v.bits = static_cast<uint64_t>(std::stoll(x.get<std::string>()));
      break;
    case TypeKind::U8:
    case TypeKind::U16:
    case TypeKind::U32:
    case TypeKind::U64:
      v.bits = std::stoull(x.get<std::string>());
      break;
    case TypeKind::F32: {
      uint32_t bits = static_cast<uint32_t>(float_bits(x));
      float f;
      std::memcpy(&f, &bits, 4);
      v.f64 = f;
      break;
    }
    case TypeKind::F64: {
      uint64_t bits = float_bits(x);
      std::memcpy(&v.f64, &bits, 8);
      break;
    }
    case TypeKind::Char:
      v.bits = one_scalar(x.get<std::string>());
      break;
    case TypeKind::String:
      v.str = x.get<std::string>();
      break;
    case TypeKind::List:
      for (const json& e : x) {
        component::Val elem = json_to_val(e, t->a);
        if (component::holds_bytes(t)) {
          v.str += static_cast<char>(elem.bits);
        } else {
          v.items.push_back(std::move(elem));
        }
      }
      break;
    case TypeKind::Tuple:
      if (x.size() != t->elems.size()) failure("tuple arity differs from " + component::to_string(t));
      for (size_t i = 0; i < x.size(); ++i) v.items.push_back(json_to_val(x[i], t->elems[i]));
      break;
    case TypeKind::Record:
      v.items.resize(t->fields.size());
      if (x.size() != t->fields.size()) failure("record fields differ from " + component::to_string(t));
      for (const json& f : x) {
        uint32_t i = label_index(f.at(0).get<std::string>());
        v.items[i] = json_to_val(f.at(1), t->fields[i].type);
      }
      break;
    case TypeKind::Variant: {
      v.case_index = label_index(x.at("case").get<std::string>());
      const component::Type* payload = t->fields[v.case_index].type;
      if (payload) v.items.push_back(json_to_val(x.at("payload"), payload));
      break;
    }
    case TypeKind::Enum:
      v.case_index = label_index(x.get<std::string>());
      break;
    case TypeKind::Option:
      if (!x.is_null()) {
        v.case_index = 1;
        v.items.push_back(json_to_val(x, t->a));
      }
      break;
    case TypeKind::Result: {
      v.case_index = x.contains("Err");
      const json& payload = x.at(v.case_index ? "Err" : "Ok");
      const component::Type* pt = v.case_index ? t->b : t->a;
      if (pt) v.items.push_back(json_to_val(payload, pt));
      break;
    }
    case TypeKind::Flags:
      v.flags.assign((t->labels.size() + 31) / 32, 0);
      for (const json& l : x) {
        uint32_t i = label_index(l.get<std::string>());
        v.flags[i / 32] |= uint32_t{1} << (i % 32);
      }
      break;
    default:
      failure(std::string("no JSON form for a ") + component::to_string(t->kind) + " value");
  }
  return v;
}

// Whether a lifted result is the expected JSON value, structurally.
bool val_matches(const component::Val& v, const json& j) {
  using component::TypeKind;
  const json& x = j.at("value");
  const component::Type* t = v.type;
  switch (t->kind) {
    case TypeKind::Bool:
      return x.is_boolean() && v.bits == x.get<bool>();
    case TypeKind::S8:
    case TypeKind::S16:
    case TypeKind::S32:
    case TypeKind::S64:
      return static_cast<int64_t>(v.bits) == std::stoll(x.get<std::string>());
    case TypeKind::U8:
    case TypeKind::U16:
    case TypeKind::U32:
    case TypeKind::U64:
      return v.bits == std::stoull(x.get<std::string>());
    case TypeKind::F32:
    case TypeKind::F64: {
      std::string want = x.get<std::string>();
      if (want.starts_with("nan:")) return std::isnan(v.f64);
      if (t->kind == TypeKind::F64) {
        uint64_t bits;
        std::memcpy(&bits, &v.f64, 8);
        return bits == std::stoull(want);
      }
      float f = v.f32();
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      return bits == std::stoull(want);
    }
    case TypeKind::Char:
      return v.bits == one_scalar(x.get<std::string>());
    case TypeKind::String:
      return v.str == x.get<std::string>();
    case TypeKind::List:
      if (component::holds_bytes(t)) {
        if (!x.is_array() || x.size() != v.str.size()) return false;
        component::Val byte;
        byte.type = t->a;
        for (size_t i = 0; i < x.size(); ++i) {
          byte.bits = static_cast<uint8_t>(v.str[i]);
          if (!val_matches(byte, x[i])) return false;
        }
        return true;
      }
      [[fallthrough]];
    case TypeKind::Tuple:
      if (!x.is_array() || x.size() != v.items.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!val_matches(v.items[i], x[i])) return false;
      return true;
    case TypeKind::Record:
      if (!x.is_array() || x.size() != v.items.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (x[i].at(0) != t->fields[i].label || !val_matches(v.items[i], x[i].at(1))) return false;
      return true;
    case TypeKind::Variant:
      if (x.at("case") != t->fields[v.case_index].label) return false;
      return v.items.empty() ? !x.contains("payload")
                             : x.contains("payload") && val_matches(v.items[0], x["payload"]);
    case TypeKind::Enum:
      return x == t->labels[v.case_index];
    case TypeKind::Option:
      return v.case_index == 0 ? x.is_null() : !x.is_null() && val_matches(v.items[0], x);
    case TypeKind::Result: {
      const char* key = v.case_index ? "Err" : "Ok";
      if (!x.contains(key)) return false;
      return v.items.empty() ? x[key].is_null() : !x[key].is_null() && val_matches(v.items[0], x[key]);
    }
    case TypeKind::Flags: {
      std::vector<uint32_t> want((t->labels.size() + 31) / 32, 0);
      for (const json& l : x)
        for (size_t i = 0; i < t->labels.size(); ++i)
          if (l == t->labels[i]) want[i / 32] |= uint32_t{1} << (i % 32);
      return want == v.flags;
    }
    default:
      return false;
  }
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
      for (unsigned i = 0; i < 16 / width; ++i) {
        if (i) s += ' ';  // not `(i ? " " : "") + ...`: GCC 12 warns falsely (-Wrestrict)
        s += std::to_string(lane(v.v128, width, i));
      }
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
    if (type == "module_instance") return component_instance(command);
    if (current_is_component_ && command.contains("action")) return component_action(type, command);
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
      current_component_.reset();
      components_.erase(command.value("name", ""));
    }
    ComponentDef def = load_component(command);
    if (type == "module_definition") {
      std::string name = command.value("name", "");
      (name.empty() ? last_definition_ : definitions_[name]) = def;
      return Outcome::Pass;
    }
    if (type == "assert_trap" || type == "assert_uninstantiable") {
      try {
        instantiate_component(def);
      } catch (const engine::Trap& trap) {
        check_component_trap_text(trap, command);
        return Outcome::Pass;
      }
      failure("component instantiated, expected trap \"" + command.value("text", "") + "\"");
    }
    if (type == "assert_unlinkable") {
      try {
        instantiate_component(def);
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::Unlinkable) return Outcome::Pass;
        throw;
      }
      failure("component linked, expected \"" + command.value("text", "") + "\"");
    }
    if (type != "module") failure("unknown component command type");
    bind_component(command.value("name", ""), instantiate_component(def));
    return Outcome::Pass;
  }

  // A decoded, validated component and the types validation interned.
  struct ComponentDef {
    std::shared_ptr<component::Component> component;
    component::ComponentInfo info;
  };
  struct ComponentRun {
    component::Runtime* runtime = nullptr;
    component::ComponentInstance* instance = nullptr;
  };

  ComponentDef load_component(const json& command) {
    ComponentDef def;
    def.component = component::decode_component(read_file(dir_ + command.at("filename").get<std::string>()));
    def.info = component::validate(*def.component, true);
    return def;
  }

  ComponentRun instantiate_component(const ComponentDef& def) {
    runtimes_.push_back(std::make_unique<component::Runtime>(store_, def.info.store));
    return {runtimes_.back().get(), runtimes_.back()->instantiate(*def.component)};
  }

  void bind_component(const std::string& name, ComponentRun run) {
    current_component_ = run;
    if (!name.empty()) components_[name] = run;
  }

  Outcome component_instance(const json& command) {
    current_ = nullptr;
    current_is_component_ = true;
    current_component_.reset();
    std::string module = command.value("module", "");
    const ComponentDef* def = &last_definition_;
    if (!module.empty()) {
      auto it = definitions_.find(module);
      if (it == definitions_.end()) failure("no component definition " + module);
      def = &it->second;
    }
    if (!def->component) failure("no component definition");
    bind_component(command.value("instance", ""), instantiate_component(*def));
    return Outcome::Pass;
  }

  std::vector<component::Val> component_perform(const json& action) {
    std::string name = action.value("module", "");
    const ComponentRun* run = current_component_ ? &*current_component_ : nullptr;
    if (!name.empty()) {
      auto it = components_.find(name);
      run = it == components_.end() ? nullptr : &it->second;
    }
    if (!run) failure(name.empty() ? "no current component instance" : "no component instance " + name);
    if (action.value("type", "") != "invoke") failure("unsupported component action");
    const std::string& field = action.at("field").get_ref<const std::string&>();
    auto it = run->instance->exports.find(field);
    if (it == run->instance->exports.end() || it->second.kind != component::ExternKind::Func)
      failure("no exported function \"" + field + "\"");
    component::ComponentFunc& f = *it->second.func;
    const json& args = action.value("args", json::array());
    if (args.size() != f.type->fields.size()) failure("wrong number of arguments for \"" + field + "\"");
    std::vector<component::Val> vals;
    for (size_t i = 0; i < args.size(); ++i) vals.push_back(json_to_val(args[i], f.type->fields[i].type));
    return run->runtime->call(f, vals);
  }

  Outcome component_action(const std::string& type, const json& command) {
    std::vector<component::Val> got;
    try {
      got = component_perform(command.at("action"));
    } catch (const engine::Trap& trap) {
      if (type != "assert_trap") throw;
      check_component_trap_text(trap, command);
      return Outcome::Pass;
    }
    if (type == "action") return Outcome::Pass;
    if (type == "assert_trap")
      failure("returned " + component::print_wave_results(got) + ", expected trap \"" +
              command.value("text", "") + "\"");
    if (type != "assert_return") failure("unsupported component command type");
    const json& want = command.at("expected");
    bool ok = got.size() == want.size();
    for (size_t i = 0; ok && i < got.size(); ++i) ok = val_matches(got[i], want[i]);
    if (!ok) failure("got " + component::print_wave_results(got) + ", expected " + want.dump());
    return Outcome::Pass;
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

  // Component scripts carry wasmtime's messages, matched as it does: the
  // trap must contain the text, less wasmtime's "wasm trap: " prefix.
  void check_component_trap_text(const engine::Trap& trap, const json& command) const {
    std::string want = command.value("text", "");
    if (want.starts_with("wasm trap: ")) want.erase(0, 11);
    if (options_.match_traps && std::string_view(trap.what()).find(want) == std::string_view::npos)
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
  std::vector<std::unique_ptr<component::Runtime>> runtimes_;  // after store_: they refer to it
  std::map<std::string, ComponentDef> definitions_;
  ComponentDef last_definition_;
  std::map<std::string, ComponentRun> components_;
  std::optional<ComponentRun> current_component_;
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
