// Small readers for the pieces of a function body or constant expression:
// value types, locals, opcodes and their immediates. The decoder (to find the
// end of constant expressions), the validator and the translator share them,
// so each encoding is decoded in exactly one place.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "base/reader.h"
#include "wasm/features.h"
#include "wasm/opcodes.h"
#include "wasm/types.h"

namespace weft::wasm {

// Declared locals beyond this are rejected (the spec allows up to 2^32-1; a
// cap keeps frame sizes sane, as wasmtime's 50000 does).
constexpr uint32_t kMaxLocals = 50000;

inline bool is_valtype_byte(uint8_t b) {
  switch (b) {
    case 0x7f: case 0x7e: case 0x7d: case 0x7c: case 0x7b:
    case 0x70: case 0x6f: case 0x69:
      return true;
    default:
      return false;
  }
}

inline ValType read_valtype(Reader& r) {
  size_t at = r.offset();
  uint8_t b = r.u8();
  if (!is_valtype_byte(b)) throw_malformed(at, "malformed value type");
  return static_cast<ValType>(b);
}

// A reference type, or the heap type of ref.null (the same bytes without the
// function-references proposal).
inline ValType read_reftype(Reader& r) {
  size_t at = r.offset();
  uint8_t b = r.u8();
  if (b != 0x70 && b != 0x6f && b != 0x69) throw_malformed(at, "malformed reference type");
  return static_cast<ValType>(b);
}

// Reads the local declarations at the start of a body as (count, type)
// groups into `out` (cleared first); returns the total number of locals.
inline uint32_t decode_locals(Reader& r, std::vector<std::pair<uint32_t, ValType>>& out) {
  out.clear();
  uint32_t groups = r.count(2);  // each group is at least a count and a type
  uint64_t total = 0;
  out.reserve(groups);
  for (uint32_t i = 0; i < groups; ++i) {
    size_t at = r.offset();
    uint32_t n = r.u32();
    total += n;
    if (total > kMaxLocals) throw_malformed(at, "too many locals");
    out.emplace_back(n, read_valtype(r));
  }
  return static_cast<uint32_t>(total);
}

// The opcode at the reader, prefixes included.
inline Op read_op(Reader& r) {
  size_t at = r.offset();
  uint8_t b = r.u8();
  Op op;
  if (b >= 0xfc && b <= 0xfe) {
    if (lookup_op(b, r.u32(), &op)) return op;
  } else if (lookup_op(0, b, &op)) {
    return op;
  }
  throw_malformed(at, "illegal opcode");
}

// The opcode at the reader; one of a disabled proposal is illegal.
inline Op read_op(Reader& r, const Features& features) {
  size_t at = r.offset();
  Op op = read_op(r);
  if (!features.has(op_info(op).feature)) throw_malformed(at, "illegal opcode");
  return op;
}

struct BlockType {
  enum class Kind : uint8_t { Empty, Value, Index };
  Kind kind = Kind::Empty;
  ValType type = ValType::I32;  // Kind::Value
  uint32_t index = 0;           // Kind::Index: a type index
};

// s33: 0x40 (empty), a value type byte, or a non-negative type index.
inline BlockType read_blocktype(Reader& r) {
  uint8_t b = r.peek();
  if (b == 0x40) {
    r.u8();
    return {};
  }
  if (is_valtype_byte(b)) {
    r.u8();
    return {BlockType::Kind::Value, static_cast<ValType>(b), 0};
  }
  size_t at = r.offset();
  int64_t index = r.s33();
  if (index < 0) throw_malformed(at, "malformed value type");
  return {BlockType::Kind::Index, ValType::I32, static_cast<uint32_t>(index)};
}

struct MemArg {
  uint32_t align = 0;  // log2 of the alignment
  uint32_t memory = 0;
  uint64_t offset = 0;
};

// Alignment flags: bits 0-5 the alignment exponent, bit 6 "a memory index
// follows" (multi-memory); anything larger is malformed. Without
// multi-memory, as in wasm 2.0, the flags are only an exponent below 32. A
// too-large exponent is left to the validator ("alignment must not be larger
// than natural", as the tests expect). The offset is a u64 for memory64
// memories and a u32 otherwise; an unknown memory index reads a u64 and is
// left to the validator.
inline MemArg read_memarg(Reader& r, std::span<const MemoryType> memories, bool multi_memory = true) {
  size_t at = r.offset();
  uint32_t flags = r.u32();
  if (flags >= (multi_memory ? 0x80u : 0x20u)) throw_malformed(at, "malformed memop flags");
  MemArg m;
  m.align = flags & 0x3f;
  if (flags & 0x40) m.memory = r.u32();
  bool is64 = m.memory >= memories.size() || memories[m.memory].limits.is64;
  m.offset = is64 ? r.u64() : r.u32();
  return m;
}

// The memory index of memory.size/grow/fill/copy/init: a u32 with
// multi-memory, else (wasm 2.0) a reserved zero byte.
inline uint32_t read_memidx(Reader& r, bool multi_memory) {
  if (multi_memory) return r.u32();
  if (r.u8() != 0) throw_malformed(r.offset() - 1, "zero byte expected");
  return 0;
}

// Reads past the immediates of `op`, checking only their encoding.
inline void skip_immediates(Reader& r, Op op, std::span<const MemoryType> memories,
                            bool multi_memory = true) {
  switch (op_info(op).imm) {
    case Imm::None:
      return;
    case Imm::BlockType:
      read_blocktype(r);
      return;
    case Imm::Label: case Imm::Func: case Imm::Local: case Imm::Global: case Imm::Table:
    case Imm::Elem: case Imm::Data: case Imm::Tag:
      r.u32();
      return;
    case Imm::Memory:
      read_memidx(r, multi_memory);
      return;
    case Imm::MemoryInit:
      r.u32();
      read_memidx(r, multi_memory);
      return;
    case Imm::MemoryCopy:
      read_memidx(r, multi_memory);
      read_memidx(r, multi_memory);
      return;
    case Imm::CallIndirect: case Imm::TableCopy: case Imm::TableInit:
      r.u32();
      r.u32();
      return;
    case Imm::LabelTable: {
      uint32_t n = r.count(1);
      for (uint32_t i = 0; i <= n; ++i) r.u32();  // targets, then the default
      return;
    }
    case Imm::MemArg:
      read_memarg(r, memories, multi_memory);
      return;
    case Imm::MemArgLane:
      read_memarg(r, memories, multi_memory);
      r.u8();
      return;
    case Imm::Lane:
      r.u8();
      return;
    case Imm::Shuffle: case Imm::V128:
      r.skip(16);
      return;
    case Imm::I32:
      r.s32();
      return;
    case Imm::I64:
      r.s64();
      return;
    case Imm::F32:
      r.skip(4);
      return;
    case Imm::F64:
      r.skip(8);
      return;
    case Imm::RefType:
      read_reftype(r);
      return;
    case Imm::SelectTypes: {
      uint32_t n = r.count(1);
      for (uint32_t i = 0; i < n; ++i) read_valtype(r);
      return;
    }
    case Imm::TryTable: {
      read_blocktype(r);
      uint32_t n = r.count(2);
      for (uint32_t i = 0; i < n; ++i) {
        size_t at = r.offset();
        uint8_t kind = r.u8();  // 0 catch, 1 catch_ref, 2 catch_all, 3 catch_all_ref
        if (kind > 3) throw_malformed(at, "malformed catch clause");
        if (kind < 2) r.u32();  // tag
        r.u32();                // label
      }
      return;
    }
    case Imm::Zero:
      if (r.u8() != 0) throw_malformed(r.offset() - 1, "zero byte expected");
      return;
  }
}

}  // namespace weft::wasm
