// Runtime values as the embedder sees them. Inside the interpreter values
// live in untyped 8-byte slots (v128 takes two); Value is the typed form used
// at API boundaries (invoke arguments/results, globals, the wast runner).
#pragma once

#include <cstdint>
#include <cstring>

#include "wasm/types.h"

namespace weft::engine {

// A reference: 0 is null. funcref holds a Function*, exnref an Exception*,
// externref an embedder-chosen non-zero token (see Value::extern_ref).
using Ref = uintptr_t;

struct V128 {
  alignas(16) uint8_t bytes[16];
  bool operator==(const V128& o) const { return std::memcmp(bytes, o.bytes, 16) == 0; }
};

struct Value {
  wasm::ValType type = wasm::ValType::I32;
  union {
    uint32_t i32;
    uint64_t i64;
    uint32_t f32;  // raw bits: NaN payloads survive
    uint64_t f64;  // raw bits
    V128 v128;
    Ref ref;
  };

  Value() : v128{} {}
  static Value make_i32(uint32_t v) { Value x; x.type = wasm::ValType::I32; x.i32 = v; return x; }
  static Value make_i64(uint64_t v) { Value x; x.type = wasm::ValType::I64; x.i64 = v; return x; }
  static Value make_f32_bits(uint32_t v) { Value x; x.type = wasm::ValType::F32; x.f32 = v; return x; }
  static Value make_f64_bits(uint64_t v) { Value x; x.type = wasm::ValType::F64; x.f64 = v; return x; }
  static Value make_v128(const V128& v) { Value x; x.type = wasm::ValType::V128; x.v128 = v; return x; }
  static Value make_ref(wasm::ValType t, Ref r) { Value x; x.type = t; x.ref = r; return x; }
  // Host reference number n (the spec tests' `ref.extern n`) as a non-null
  // externref token; extern_index() gives n back.
  static Value extern_ref(uint64_t n) { return make_ref(wasm::ValType::ExternRef, static_cast<Ref>(n + 1)); }
  uint64_t extern_index() const { return static_cast<uint64_t>(ref - 1); }
  // A zero value of type t (null for references), as locals start.
  static Value zero(wasm::ValType t) { Value x; x.type = t; return x; }
};

}  // namespace weft::engine
