// A decoded (not yet validated) core module. Function bodies and constant
// expressions stay as byte ranges into `bytes`: bodies are validated and
// translated lazily, so decoding a 60 MB module touches each body only to
// find its extent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "wasm/features.h"
#include "base/byte_buffer.h"
#include "base/error.h"
#include "wasm/types.h"

namespace weft::wasm {

// A range of the module's bytes.
struct ByteRange {
  uint32_t offset = 0;
  uint32_t size = 0;
};

// A constant expression: the instruction bytes including the final `end`.
using ConstExpr = ByteRange;

struct Import {
  std::string module;
  std::string name;
  ExternKind kind = ExternKind::Func;
  uint32_t func_type = 0;  // kind == Func: type index
  TableType table;         // kind == Table
  MemoryType memory;       // kind == Memory
  GlobalType global;       // kind == Global
  TagType tag;             // kind == Tag
};

struct Export {
  std::string name;
  ExternKind kind = ExternKind::Func;
  uint32_t index = 0;
};

struct Global {
  GlobalType type;
  ConstExpr init;
};

struct ElemSegment {
  enum class Mode : uint8_t { Passive, Active, Declarative };
  Mode mode = Mode::Passive;
  uint32_t table = 0;
  ConstExpr offset;        // Active only
  ValType type = ValType::FuncRef;
  // Either function indices (the compact encodings) or expressions.
  bool uses_exprs = false;
  std::vector<uint32_t> func_indices;
  std::vector<ConstExpr> exprs;
  uint32_t size() const {
    return static_cast<uint32_t>(uses_exprs ? exprs.size() : func_indices.size());
  }
};

struct DataSegment {
  enum class Mode : uint8_t { Passive, Active };
  Mode mode = Mode::Passive;
  uint32_t memory = 0;
  ConstExpr offset;  // Active only
  ByteRange init;
};

// A function defined in this module: its body (locals + code, excluding the
// size prefix). Locals are decoded lazily together with the code.
struct FunctionBody {
  ByteRange body;
};

struct Module {
  // The whole binary; all ByteRanges point into it.
  ByteBuffer bytes;
  // What it was decoded with; the validator holds its bodies to the same set.
  Features features;

  std::vector<FuncType> types;
  std::vector<Import> imports;
  // Type index of every function, imported ones first.
  std::vector<uint32_t> funcs;
  // Every table/memory/global/tag, imported ones first (imported entries carry
  // the declared type from the import).
  std::vector<TableType> tables;
  std::vector<MemoryType> memories;
  std::vector<Global> globals;  // imported: init is empty
  std::vector<TagType> tags;
  std::vector<Export> exports;
  std::optional<uint32_t> start;
  std::vector<ElemSegment> elems;
  std::vector<DataSegment> datas;
  std::optional<uint32_t> data_count;
  std::vector<FunctionBody> bodies;  // one per defined function

  uint32_t num_imported_funcs = 0;
  uint32_t num_imported_tables = 0;
  uint32_t num_imported_memories = 0;
  uint32_t num_imported_globals = 0;
  uint32_t num_imported_tags = 0;

  // File offset where each entry starts, parallel to the vectors above
  // (imported functions/tables/memories/globals/tags name their import
  // entry). Filled by the decoder; a Module built by hand may leave them
  // empty, see entry_offset().
  std::vector<uint32_t> type_offsets;
  std::vector<uint32_t> import_offsets;
  std::vector<uint32_t> func_offsets;
  std::vector<uint32_t> table_offsets;
  std::vector<uint32_t> memory_offsets;
  std::vector<uint32_t> global_offsets;
  std::vector<uint32_t> tag_offsets;
  std::vector<uint32_t> export_offsets;
  std::vector<uint32_t> elem_offsets;
  std::vector<uint32_t> data_offsets;
  std::optional<uint32_t> start_offset;  // of the start section's function index

  // From the "name" custom section (malformed name sections are ignored, as
  // the spec allows for custom sections).
  std::string module_name;
  std::unordered_map<uint32_t, std::string> func_names;

  const FuncType& func_type(uint32_t func_index) const { return types[funcs[func_index]]; }
  std::span<const uint8_t> range(ByteRange r) const { return {bytes.data() + r.offset, r.size}; }
  // "name" from the name section, or "func[N]".
  std::string func_name(uint32_t func_index) const;
  // offsets[i], or Error::npos when not recorded.
  static size_t entry_offset(const std::vector<uint32_t>& offsets, size_t i) {
    return i < offsets.size() ? offsets[i] : Error::npos;
  }
};

}  // namespace weft::wasm
