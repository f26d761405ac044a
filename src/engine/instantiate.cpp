// Store::instantiate, following the spec's instantiation algorithm: match
// imports, allocate the instance, apply active element then data segments in
// module order, run the start function.
#include <algorithm>
#include <cstring>

#include "base/error.h"
#include "engine/const_expr.h"
#include "engine/store.h"

namespace weft::engine {
namespace {

using wasm::ExternKind;

// Limits subtyping: the provided object's current size and declared max must
// lie within what the import asks for.
bool limits_match(uint64_t size, std::optional<uint64_t> max, const wasm::Limits& expected) {
  if (size < expected.min) return false;
  return !expected.max || (max && *max <= *expected.max);
}

bool import_matches(const wasm::Import& imp, const Extern& ext, const std::vector<uint32_t>& sigs) {
  if (ext.kind != imp.kind || !ext.ptr) return false;
  switch (imp.kind) {
    case ExternKind::Func:
      return ext.func->sig == sigs[imp.func_type];
    case ExternKind::Table: {
      const Table& t = *ext.table;
      return t.type.elem == imp.table.elem && t.type.limits.is64 == imp.table.limits.is64 &&
             limits_match(t.elems.size(), t.type.limits.max, imp.table.limits);
    }
    case ExternKind::Memory: {
      const wasm::Limits& have = ext.memory->type().limits;
      return have.shared == imp.memory.limits.shared && have.is64 == imp.memory.limits.is64 &&
             limits_match(ext.memory->pages(), have.max, imp.memory.limits);
    }
    case ExternKind::Global:
      return ext.global->type.type == imp.global.type && ext.global->type.mut == imp.global.mut;
    case ExternKind::Tag:
      return ext.tag->sig == sigs[imp.tag.type_index];
  }
  return false;
}

// Segment offsets are i32, or i64 for memory64/table64.
uint64_t offset_of(const Value& v) { return v.type == wasm::ValType::I64 ? v.i64 : v.i32; }

Extern export_of(const Instance& inst, const wasm::Export& e) {
  switch (e.kind) {
    case ExternKind::Func: return Extern::of(inst.funcs[e.index]);
    case ExternKind::Table: return Extern::of(inst.tables[e.index]);
    case ExternKind::Memory: return Extern::of(inst.memories[e.index]);
    case ExternKind::Global: return Extern::of(inst.globals[e.index]);
    case ExternKind::Tag: return Extern::of(inst.tags[e.index]);
  }
  return {};
}

}  // namespace

Instance* Store::instantiate(std::shared_ptr<const wasm::Module> module, std::span<const Extern> imports) {
  const wasm::Module& m = *module;
  if (imports.size() != m.imports.size())
    throw Error(ErrorKind::Usage, "module needs " + std::to_string(m.imports.size()) + " imports, got " +
                                      std::to_string(imports.size()));
  std::vector<uint32_t> sigs(m.types.size());
  for (size_t i = 0; i < m.types.size(); ++i) sigs[i] = intern(m.types[i]);
  for (size_t i = 0; i < imports.size(); ++i) {
    const wasm::Import& imp = m.imports[i];
    if (!import_matches(imp, imports[i], sigs))
      throw Error(ErrorKind::Unlinkable, "incompatible import type for \"" + imp.module + "\" \"" + imp.name + "\"");
  }

  // From here on the instance stays in the store even if a segment or the
  // start function traps: imported tables may already refer to its functions.
  Instance& inst = *instances_.emplace_back(std::make_unique<Instance>());
  inst.module = std::move(module);
  inst.funcs.reserve(m.funcs.size());
  inst.tables.reserve(m.tables.size());
  inst.memories.reserve(m.memories.size());
  inst.globals.reserve(m.globals.size());
  inst.tags.reserve(m.tags.size());
  for (const Extern& ext : imports) {
    switch (ext.kind) {
      case ExternKind::Func: inst.funcs.push_back(ext.func); break;
      case ExternKind::Table: inst.tables.push_back(ext.table); break;
      case ExternKind::Memory: inst.memories.push_back(ext.memory); break;
      case ExternKind::Global: inst.globals.push_back(ext.global); break;
      case ExternKind::Tag: inst.tags.push_back(ext.tag); break;
    }
  }

  // One allocation for all defined functions: modules with hundreds of
  // thousands of functions must instantiate in milliseconds.
  inst.defined_funcs = std::make_unique<Function[]>(m.funcs.size() - m.num_imported_funcs);
  for (uint32_t i = m.num_imported_funcs; i < m.funcs.size(); ++i) {
    Function& f = inst.defined_funcs[i - m.num_imported_funcs];
    f.sig = sigs[m.funcs[i]];
    f.type = type_of(f.sig);
    f.instance = &inst;
    f.index = i;
    inst.funcs.push_back(&f);
  }
  for (size_t i = m.num_imported_tables; i < m.tables.size(); ++i) inst.tables.push_back(create_table(m.tables[i]));
  for (size_t i = m.num_imported_memories; i < m.memories.size(); ++i)
    inst.memories.push_back(create_memory(m.memories[i]));
  // One at a time: an initializer may read the globals before it.
  for (size_t i = m.num_imported_globals; i < m.globals.size(); ++i)
    inst.globals.push_back(create_global(m.globals[i].type, eval_const_expr(inst, m.globals[i].init)));
  for (size_t i = m.num_imported_tags; i < m.tags.size(); ++i)
    inst.tags.push_back(create_tag(m.types[m.tags[i].type_index]));

  // Declarative segments are dropped at once, so their references are never built.
  inst.elems.resize(m.elems.size());
  for (size_t i = 0; i < m.elems.size(); ++i) {
    const wasm::ElemSegment& seg = m.elems[i];
    if (seg.mode == wasm::ElemSegment::Mode::Declarative) continue;
    std::vector<Ref>& refs = inst.elems[i];
    refs.reserve(seg.size());
    if (seg.uses_exprs) {
      for (const wasm::ConstExpr& e : seg.exprs) refs.push_back(eval_const_expr(inst, e).ref);
    } else {
      for (uint32_t f : seg.func_indices) refs.push_back(reinterpret_cast<Ref>(inst.funcs[f]));
    }
  }
  inst.data_dropped.assign(m.datas.size(), false);

  inst.exports.reserve(m.exports.size());
  for (const wasm::Export& e : m.exports) inst.exports.emplace(e.name, export_of(inst, e));

  // table.init + elem.drop for each active segment, then memory.init +
  // data.drop; the first out-of-bounds segment traps, earlier writes stay.
  for (size_t i = 0; i < m.elems.size(); ++i) {
    const wasm::ElemSegment& seg = m.elems[i];
    if (seg.mode != wasm::ElemSegment::Mode::Active) continue;
    uint64_t offset = offset_of(eval_const_expr(inst, seg.offset));
    std::vector<Ref>& table = inst.tables[seg.table]->elems;
    std::vector<Ref>& refs = inst.elems[i];
    if (offset > table.size() || refs.size() > table.size() - offset) throw Trap(TrapKind::OutOfBoundsTableAccess);
    std::copy(refs.begin(), refs.end(), table.begin() + static_cast<ptrdiff_t>(offset));
    std::vector<Ref>().swap(refs);
  }
  for (size_t i = 0; i < m.datas.size(); ++i) {
    const wasm::DataSegment& seg = m.datas[i];
    if (seg.mode != wasm::DataSegment::Mode::Active) continue;
    uint64_t offset = offset_of(eval_const_expr(inst, seg.offset));
    Memory& mem = *inst.memories[seg.memory];
    std::span<const uint8_t> bytes = m.range(seg.init);
    if (!mem.in_bounds(offset, bytes.size())) throw Trap(TrapKind::OutOfBoundsMemoryAccess);
    if (!bytes.empty()) std::memcpy(mem.data() + offset, bytes.data(), bytes.size());
    inst.data_dropped[i] = true;
  }

  if (m.start) call(inst.funcs[*m.start], {});
  return &inst;
}

}  // namespace weft::engine
