// The one table of every instruction weft knows (opcodes.def), and the enums
// its columns use. Decoder, validator, translator and printer all derive from
// it instead of keeping their own switch statements of opcode numbers.
#pragma once

#include <cstdint>

#include "wasm/features.h"

namespace weft::wasm {

// Immediate operands that follow an opcode.
enum class Imm : uint8_t {
  None,
  BlockType,     // s33 block type (empty, value type or type index)
  Label,         // u32 label index (br, br_if, rethrow, delegate)
  LabelTable,    // vec(u32) + u32 default (br_table)
  Func,          // u32 function index (call, return_call, ref.func)
  CallIndirect,  // u32 type index, u32 table index
  Local,         // u32
  Global,        // u32
  Table,         // u32 table index (table.get/set/size/grow/fill)
  TableCopy,     // u32 dst table, u32 src table
  TableInit,     // u32 elem index, u32 table index
  Elem,          // u32 elem index (elem.drop)
  Data,          // u32 data index (data.drop)
  MemoryInit,    // u32 data index, u32 memory index
  Memory,        // u32 memory index (memory.size/grow/fill)
  MemoryCopy,    // u32 dst memory, u32 src memory
  MemArg,        // u32 align (bit 6: memory index follows), [u32 memidx], offset (u32, or u64 for memory64)
  MemArgLane,    // memarg then one lane byte
  Lane,          // one lane byte
  Shuffle,       // 16 lane bytes
  I32,           // s32
  I64,           // s64
  F32,           // 4 bytes
  F64,           // 8 bytes
  V128,          // 16 bytes
  RefType,       // heap type byte (ref.null)
  SelectTypes,   // vec(valtype) (typed select)
  Tag,           // u32 tag index (throw, catch)
  TryTable,      // block type, vec(catch clause) (try_table)
  Zero,          // one reserved zero byte (atomic.fence)
};

// Operand and result types of instructions whose typing is fixed. Letters:
// i = i32, I = i64, f = f32, F = f64, v = v128, a = the address type of the
// instruction's memory (i32, or i64 for memory64); 0 = nothing.
// `Special` instructions are typed by hand in the validator.
enum class Sig : uint8_t {
  Special,
  // numeric
  S_0_i, S_0_I, S_0_f, S_0_F, S_0_v,  // constants
  S_i_i, S_ii_i, S_I_I, S_II_I, S_I_i, S_II_i,
  S_f_f, S_ff_f, S_F_F, S_FF_F, S_ff_i, S_FF_i,
  S_i_I, S_I_f, S_I_F, S_i_f, S_i_F, S_f_i, S_f_I, S_F_i, S_F_I, S_f_F, S_F_f,
  // v128
  S_v_v, S_vv_v, S_vvv_v, S_v_i, S_vi_v, S_i_v, S_I_v, S_f_v, S_F_v,
  S_v_I, S_v_f, S_v_F, S_vI_v, S_vf_v, S_vF_v,
  // memory (a = address)
  S_a_i, S_a_I, S_a_f, S_a_F, S_a_v,          // loads
  S_ai_0, S_aI_0, S_af_0, S_aF_0, S_av_0,     // stores
  S_av_v,                                     // v128.loadN_lane
  S_ai_i, S_aI_I,                             // atomic rmw, notify (ai_i)
  S_aii_i, S_aII_I,                           // atomic cmpxchg
  S_aiI_i, S_aII_i,                           // memory.atomic.wait32 / wait64
  S_0_0,                                      // nop, atomic.fence
};

enum class Op : uint16_t {
#define WEFT_OP(name, prefix, code, text, imm, sig, feature) name,
#include "wasm/opcodes.def"
#undef WEFT_OP
  Count_
};

struct OpInfo {
  const char* text;  // "i32.add"
  uint8_t prefix;    // 0, 0xfc, 0xfd or 0xfe
  uint32_t code;
  Imm imm;
  Sig sig;
  Feature feature;  // the proposal that added it
};

const OpInfo& op_info(Op op);

// Maps (prefix, code) to an Op; returns false for unknown opcodes.
bool lookup_op(uint8_t prefix, uint32_t code, Op* out);

}  // namespace weft::wasm
