// Component-level values (Explainer.md "Value types") as a tree: what host
// functions receive and return, what `--invoke` parses and prints (WAVE),
// and what the canonical ABI lifts from / lowers into guest memory. Hot data
// paths (stream copies) do not go through Val.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "component/types.h"

namespace weft::component {

struct Val {
  const Type* type = nullptr;  // a value type (TypeKind <= Map)

  // Bool (0/1), S8..S64 (sign-extended), U8..U64, Char (code point), Own/
  // Borrow (handle index), Stream/Future/ErrorContext (handle index).
  uint64_t bits = 0;
  // F32 / F64 (NaNs are canonicalized on lift, as the canonical ABI says).
  double f64 = 0;
  // String (UTF-8, valid); the bytes of a list<u8> (see holds_bytes).
  std::string str;
  // List elements (but not list<u8>'s), Record fields, Tuple elements; the
  // payload of a Variant case, Option some, Result ok/err (empty when the
  // case has none); Map keys and values alternating (k0, v0, k1, v1, ...).
  std::vector<Val> items;
  // Variant / Enum case index; Option: 0 none, 1 some; Result: 0 ok, 1 err.
  uint32_t case_index = 0;
  // Flags: bit i of word i/32 is label i.
  std::vector<uint32_t> flags;

  TypeKind kind() const { return type->kind; }
  float f32() const { return static_cast<float>(f64); }
};

// A list<u8> (also fixed-length) keeps its bytes in Val::str, `items`
// empty: byte buffers (stream reads and writes, file contents) lift and
// lower with one copy instead of one Val per byte.
inline bool holds_bytes(const Type* t) { return t->kind == TypeKind::List && t->a->kind == TypeKind::U8; }

}  // namespace weft::component
