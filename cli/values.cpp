#include "cli/values.h"

#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "base/error.h"

namespace weft::cli {

namespace {

using wasm::ValType;

[[noreturn]] void usage(std::string message) { throw Error(ErrorKind::Usage, std::move(message)); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// An integer of `bits` width: accepts the signed and the unsigned range, so
// both -1 and 0xffffffff are the i32 with all bits set.
uint64_t parse_int(std::string_view text, unsigned bits) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  const char* type = bits == 32 ? "i32" : "i64";
  if (s.empty() || ec == std::errc::invalid_argument || end != s.data() + s.size())
    usage("invalid " + std::string(type) + " literal '" + std::string(text) + "'");
  uint64_t umax = bits == 32 ? 0xffffffffu : ~uint64_t{0};
  uint64_t neg_max = uint64_t{1} << (bits - 1);
  if (ec == std::errc::result_out_of_range || magnitude > (negative ? neg_max : umax))
    usage(std::string(type) + " literal '" + std::string(text) + "' out of range");
  uint64_t value = negative ? ~magnitude + 1 : magnitude;
  return value & umax;
}

// strtof/strtod round correctly and read inf, nan and hex floats; wasm's
// canonical NaN is what `nan` means here.
template <typename F>
F parse_float(std::string_view text, const char* type) {
  std::string s(text);
  if (s == "nan" || s == "+nan") return std::numeric_limits<F>::quiet_NaN();
  if (s == "-nan") return -std::numeric_limits<F>::quiet_NaN();
  char* end = nullptr;
  errno = 0;
  F value;
  if constexpr (sizeof(F) == 4)
    value = std::strtof(s.c_str(), &end);
  else
    value = std::strtod(s.c_str(), &end);
  bool is_nan_text = s.find("nan") != std::string::npos || s.find("NAN") != std::string::npos;
  if (s.empty() || end != s.c_str() + s.size() || std::isspace(static_cast<unsigned char>(s[0])) ||
      is_nan_text)
    usage("invalid " + std::string(type) + " literal '" + s + "'");
  // Overflow to infinity is an error; underflow to a subnormal or zero is fine.
  if (errno == ERANGE && std::isinf(value)) usage(std::string(type) + " literal '" + s + "' out of range");
  return value;
}

template <typename F>
std::string format_float(F value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;  // 64 bytes always suffice for the shortest form
  return std::string(buf, end);
}

}  // namespace

Invocation parse_invocation(std::string_view text) {
  Invocation call;
  size_t open = text.find('(');
  if (open == std::string_view::npos) {
    call.name = std::string(trim(text));
  } else {
    std::string_view rest = trim(text.substr(open + 1));
    if (rest.empty() || rest.back() != ')')
      usage("invalid --invoke '" + std::string(text) + "': expected 'name(arg, ...)'");
    rest.remove_suffix(1);
    call.name = std::string(trim(text.substr(0, open)));
    if (!trim(rest).empty()) {
      while (true) {
        size_t comma = rest.find(',');
        std::string_view arg = trim(rest.substr(0, comma));
        if (arg.empty()) usage("invalid --invoke '" + std::string(text) + "': empty argument");
        call.args.emplace_back(arg);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
  }
  if (call.name.empty()) usage("invalid --invoke '" + std::string(text) + "': missing function name");
  return call;
}

engine::Value parse_literal(std::string_view text, ValType type) {
  switch (type) {
    case ValType::I32:
      return engine::Value::make_i32(static_cast<uint32_t>(parse_int(text, 32)));
    case ValType::I64:
      return engine::Value::make_i64(parse_int(text, 64));
    case ValType::F32:
      return engine::Value::make_f32_bits(std::bit_cast<uint32_t>(parse_float<float>(text, "f32")));
    case ValType::F64:
      return engine::Value::make_f64_bits(std::bit_cast<uint64_t>(parse_float<double>(text, "f64")));
    case ValType::FuncRef:
    case ValType::ExternRef:
    case ValType::ExnRef:
      if (text == "null") return engine::Value::make_ref(type, 0);
      usage("invalid " + std::string(wasm::to_string(type)) + " literal '" + std::string(text) +
            "': only null can be passed");
    case ValType::V128:
      break;
  }
  usage(std::string(wasm::to_string(type)) + " arguments are not supported");
}

std::string format_value(const engine::Value& value) {
  switch (value.type) {
    case ValType::I32:
      return std::to_string(static_cast<int32_t>(value.i32));
    case ValType::I64:
      return std::to_string(static_cast<int64_t>(value.i64));
    case ValType::F32:
      return format_float(std::bit_cast<float>(value.f32));
    case ValType::F64:
      return format_float(std::bit_cast<double>(value.f64));
    case ValType::V128: {
      // One 128-bit hex number, most significant byte first.
      static const char kHex[] = "0123456789abcdef";
      std::string out = "0x";
      for (int i = 15; i >= 0; --i) {
        out += kHex[value.v128.bytes[i] >> 4];
        out += kHex[value.v128.bytes[i] & 15];
      }
      return out;
    }
    case ValType::FuncRef:
    case ValType::ExternRef:
    case ValType::ExnRef:
      if (value.ref == 0) return "null";
      return std::string("<").append(wasm::to_string(value.type)).append(">");
  }
  return "?";
}

}  // namespace weft::cli
