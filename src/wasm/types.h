// Core wasm types, as decoded from a module and shared by validator and engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace weft::wasm {

// Value types, with their binary encodings as enumerator values.
enum class ValType : uint8_t {
  I32 = 0x7f,
  I64 = 0x7e,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b,
  FuncRef = 0x70,
  ExternRef = 0x6f,
  ExnRef = 0x69,
};

inline bool is_ref(ValType t) {
  return t == ValType::FuncRef || t == ValType::ExternRef || t == ValType::ExnRef;
}
inline bool is_num(ValType t) { return !is_ref(t); }
// Number of 8-byte interpreter slots a value of this type occupies.
inline unsigned slot_count(ValType t) { return t == ValType::V128 ? 2 : 1; }
const char* to_string(ValType t);

struct FuncType {
  std::vector<ValType> params;
  std::vector<ValType> results;
  bool operator==(const FuncType&) const = default;
};
std::string to_string(const FuncType& t);  // "(i32 i64) -> (f32)"

struct Limits {
  uint64_t min = 0;
  std::optional<uint64_t> max;
  bool shared = false;  // threads
  bool is64 = false;    // memory64 / table64 index type
};

struct TableType {
  ValType elem = ValType::FuncRef;
  Limits limits;
};

struct MemoryType {
  Limits limits;  // in 64 KiB pages
};

struct GlobalType {
  ValType type = ValType::I32;
  bool mut = false;
};

struct TagType {
  uint32_t type_index = 0;  // a function type with empty results
};

enum class ExternKind : uint8_t { Func = 0, Table = 1, Memory = 2, Global = 3, Tag = 4 };
const char* to_string(ExternKind k);

constexpr uint64_t kPageSize = 65536;
constexpr uint64_t kMaxPages32 = 65536;            // 4 GiB
constexpr uint64_t kMaxPages64 = uint64_t{1} << 48;  // 2^64 bytes / page size

}  // namespace weft::wasm
