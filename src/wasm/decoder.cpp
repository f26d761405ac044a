#include "wasm/decoder.h"

#include <limits>
#include <string_view>

#include "base/reader.h"
#include "wasm/code_reader.h"

namespace weft::wasm {

namespace {

enum SectionId : uint8_t {
  kCustom = 0,
  kType = 1,
  kImport = 2,
  kFunction = 3,
  kTable = 4,
  kMemory = 5,
  kGlobal = 6,
  kExport = 7,
  kStart = 8,
  kElement = 9,
  kCode = 10,
  kData = 11,
  kDataCount = 12,
  kTag = 13,
};

// Position of each non-custom section in the required order; the tag section
// sits between memory and global, the data count section before code.
constexpr uint8_t kRank[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};

class Decoder {
 public:
  explicit Decoder(Module& m) : m_(m), f_(m.features) {}

  void run() {
    Reader r(m_.bytes);
    if (r.fixed_u32() != 0x6d736100) throw_malformed(0, "magic header not detected");
    if (r.fixed_u32() != 1) throw_malformed(4, "unknown binary version");

    uint8_t last_rank = 0;
    while (!r.at_end()) {
      size_t id_at = r.offset();
      uint8_t id = r.u8();
      if (!known_section(id)) throw_malformed(id_at, "malformed section id");
      size_t size_at = r.offset();
      uint32_t size = r.u32();
      if (size > r.remaining()) throw_malformed(size_at, "length out of bounds");
      size_t start = r.offset();
      Reader s(r.bytes(size), start);
      if (id != kCustom) {
        if (kRank[id] <= last_rank) throw_malformed(id_at, "unexpected content after last section");
        last_rank = kRank[id];
      }
      try {
        section(id, s);
      } catch (const Error& e) {
        // Running out of a (non-custom) section is worded as the spec tests do.
        if (id == kCustom || std::string_view(e.what()) != "unexpected end") throw;
        throw_malformed(e.offset(), "unexpected end of section or function");
      }
      if (!s.at_end()) throw_malformed(s.offset(), "section size mismatch");
    }

    // Checked after all sections, so that a misplaced section is reported
    // as such first.
    if (m_.bodies.size() != m_.funcs.size() - m_.num_imported_funcs)
      throw_malformed(code_at_ != Error::npos ? code_at_ : r.offset(),
                      "function and code section have inconsistent lengths");
    if (!saw_data_ && m_.data_count.value_or(0) != 0)
      throw_malformed(r.offset(), "data count and data section have inconsistent lengths");
  }

 private:
  // The tag section comes with exceptions, data count with bulk memory.
  bool known_section(uint8_t id) const {
    if (id == kTag) return f_.exceptions;
    if (id == kDataCount) return f_.bulk_memory;
    return id < kTag;
  }

  void section(uint8_t id, Reader& s) {
    switch (id) {
      case kCustom: custom(s); break;
      case kType: types(s); break;
      case kImport: imports(s); break;
      case kFunction: functions(s); break;
      case kTable: tables(s); break;
      case kMemory: memories(s); break;
      case kTag: tags(s); break;
      case kGlobal: globals(s); break;
      case kExport: exports(s); break;
      case kStart:
        m_.start_offset = here(s);
        m_.start = s.u32();
        break;
      case kElement: elems(s); break;
      case kDataCount: m_.data_count = s.u32(); break;
      case kCode: code(s); break;
      case kData: datas(s); break;
    }
  }

  void custom(Reader& s) {
    std::string name = s.name();
    size_t base = s.offset();
    auto payload = s.bytes(s.remaining());
    if (name == "name" && !saw_names_) {
      saw_names_ = true;
      names(Reader(payload, base));
    }
  }

  // The name section is advisory: parse what is well-formed (module name,
  // function names) and silently stop at the first problem.
  void names(Reader s) {
    try {
      while (!s.at_end()) {
        uint8_t id = s.u8();
        uint32_t size = s.u32();
        size_t base = s.offset();
        Reader sub(s.bytes(size), base);
        if (id == 0) {
          m_.module_name = sub.name();
        } else if (id == 1) {
          std::unordered_map<uint32_t, std::string> names;
          uint32_t n = sub.count(2);
          for (uint32_t i = 0; i < n; ++i) {
            uint32_t index = sub.u32();
            names[index] = sub.name();
          }
          m_.func_names = std::move(names);
        }
      }
    } catch (const Error&) {
    }
  }

  void types(Reader& s) {
    uint32_t n = s.count(3);  // form byte and two vector lengths
    m_.types.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      size_t at = s.offset();
      m_.type_offsets.push_back(here(s));
      // The form is an s7 (0x60 is -0x20), so an over-long one is malformed
      // as an integer first.
      if (s.sleb(7) != -0x20) throw_malformed(at, "malformed function type");
      FuncType t;
      read_valtypes(s, t.params);
      read_valtypes(s, t.results);
      m_.types.push_back(std::move(t));
    }
  }

  static void read_valtypes(Reader& s, std::vector<ValType>& out) {
    uint32_t n = s.count(1);
    out.reserve(n);
    for (uint32_t i = 0; i < n; ++i) out.push_back(read_valtype(s));
  }

  void imports(Reader& s) {
    uint32_t n = s.count(4);  // two names, kind, descriptor
    m_.imports.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      Import im;
      uint32_t entry_at = here(s);
      m_.import_offsets.push_back(entry_at);
      im.module = s.name();
      im.name = s.name();
      size_t at = s.offset();
      uint8_t kind = s.u8();
      switch (kind) {
        case 0:
          im.func_type = s.u32();
          m_.funcs.push_back(im.func_type);
          m_.func_offsets.push_back(entry_at);
          ++m_.num_imported_funcs;
          break;
        case 1:
          im.table = table_type(s);
          m_.tables.push_back(im.table);
          m_.table_offsets.push_back(entry_at);
          ++m_.num_imported_tables;
          break;
        case 2:
          im.memory = MemoryType{limits(s, true)};
          m_.memories.push_back(im.memory);
          m_.memory_offsets.push_back(entry_at);
          ++m_.num_imported_memories;
          break;
        case 3:
          im.global = global_type(s);
          m_.globals.push_back(Global{im.global, {}});
          m_.global_offsets.push_back(entry_at);
          ++m_.num_imported_globals;
          break;
        case 4:
          if (!f_.exceptions) throw_malformed(at, "malformed import kind");
          im.tag = tag_type(s);
          m_.tags.push_back(im.tag);
          m_.tag_offsets.push_back(entry_at);
          ++m_.num_imported_tags;
          break;
        default:
          throw_malformed(at, "malformed import kind");
      }
      im.kind = static_cast<ExternKind>(kind);
      m_.imports.push_back(std::move(im));
    }
  }

  // Memory flags: bit 0 has max, bit 1 shared (threads), bit 2 64-bit
  // addresses (memory64). Tables allow bits 0 and 2 only.
  Limits limits(Reader& s, bool memory) const {
    size_t at = s.offset();
    uint8_t flags = s.u8();
    uint8_t allowed = 0x01 | (memory && f_.threads ? 0x02 : 0) | (f_.memory64 ? 0x04 : 0);
    if (flags & ~allowed) throw_malformed(at, "malformed limits flags");
    Limits l;
    l.shared = flags & 0x02;
    l.is64 = flags & 0x04;
    l.min = l.is64 ? s.u64() : s.u32();
    if (flags & 0x01) l.max = l.is64 ? s.u64() : s.u32();
    return l;
  }

  TableType table_type(Reader& s) const {
    TableType t;
    t.elem = read_reftype(s);
    t.limits = limits(s, false);
    return t;
  }

  static GlobalType global_type(Reader& s) {
    GlobalType g;
    g.type = read_valtype(s);
    size_t at = s.offset();
    uint8_t mut = s.u8();
    if (mut > 1) throw_malformed(at, "malformed mutability");
    g.mut = mut == 1;
    return g;
  }

  static TagType tag_type(Reader& s) {
    size_t at = s.offset();
    if (s.u8() != 0) throw_malformed(at, "malformed tag attribute");
    return TagType{s.u32()};
  }

  void functions(Reader& s) {
    uint32_t n = s.count(1);
    m_.funcs.reserve(m_.funcs.size() + n);
    for (uint32_t i = 0; i < n; ++i) {
      m_.func_offsets.push_back(here(s));
      m_.funcs.push_back(s.u32());
    }
  }

  void tables(Reader& s) {
    uint32_t n = s.count(3);
    for (uint32_t i = 0; i < n; ++i) {
      m_.table_offsets.push_back(here(s));
      m_.tables.push_back(table_type(s));
    }
  }

  void memories(Reader& s) {
    uint32_t n = s.count(2);
    for (uint32_t i = 0; i < n; ++i) {
      m_.memory_offsets.push_back(here(s));
      m_.memories.push_back(MemoryType{limits(s, true)});
    }
  }

  void tags(Reader& s) {
    uint32_t n = s.count(2);
    for (uint32_t i = 0; i < n; ++i) {
      m_.tag_offsets.push_back(here(s));
      m_.tags.push_back(tag_type(s));
    }
  }

  void globals(Reader& s) {
    uint32_t n = s.count(3);  // type, mutability, end
    m_.globals.reserve(m_.globals.size() + n);
    for (uint32_t i = 0; i < n; ++i) {
      m_.global_offsets.push_back(here(s));
      GlobalType t = global_type(s);
      m_.globals.push_back(Global{t, const_expr(s)});
    }
  }

  void exports(Reader& s) {
    uint32_t n = s.count(3);  // name, kind, index
    m_.exports.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      Export e;
      m_.export_offsets.push_back(here(s));
      e.name = s.name();
      size_t at = s.offset();
      uint8_t kind = s.u8();
      if (kind > (f_.exceptions ? 4 : 3)) throw_malformed(at, "malformed export kind");
      e.kind = static_cast<ExternKind>(kind);
      e.index = s.u32();
      m_.exports.push_back(std::move(e));
    }
  }

  // Flags: bit 0 passive/declarative (else active), bit 1 explicit table
  // index (active) or declarative (bit 0 set), bit 2 expressions instead of
  // function indices.
  void elems(Reader& s) {
    uint32_t n = s.count(2);
    m_.elems.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      size_t at = s.offset();
      m_.elem_offsets.push_back(here(s));
      uint32_t flags = s.u32();
      if (flags > 7) throw_malformed(at, "malformed elements segment kind");
      ElemSegment e;
      if (flags & 1) {
        e.mode = flags & 2 ? ElemSegment::Mode::Declarative : ElemSegment::Mode::Passive;
      } else {
        e.mode = ElemSegment::Mode::Active;
        if (flags & 2) e.table = s.u32();
        e.offset = const_expr(s);
      }
      e.uses_exprs = flags & 4;
      if (flags & 3) {
        if (e.uses_exprs) {
          e.type = read_reftype(s);
        } else {
          size_t kind_at = s.offset();
          if (s.u8() != 0) throw_malformed(kind_at, "malformed element kind");
        }
      }
      uint32_t count = s.count(1);
      if (e.uses_exprs) {
        e.exprs.reserve(count);
        for (uint32_t k = 0; k < count; ++k) e.exprs.push_back(const_expr(s));
      } else {
        e.func_indices.reserve(count);
        for (uint32_t k = 0; k < count; ++k) e.func_indices.push_back(s.u32());
      }
      m_.elems.push_back(std::move(e));
    }
  }

  void code(Reader& s) {
    code_at_ = s.offset();
    uint32_t n = s.count(1);
    m_.bodies.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t size = s.u32();
      uint32_t offset = static_cast<uint32_t>(s.offset());
      s.skip(size);
      m_.bodies.push_back(FunctionBody{ByteRange{offset, size}});
    }
  }

  void datas(Reader& s) {
    saw_data_ = true;
    size_t at = s.offset();
    uint32_t n = s.count(2);
    if (m_.data_count && *m_.data_count != n)
      throw_malformed(at, "data count and data section have inconsistent lengths");
    m_.datas.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      size_t flags_at = s.offset();
      m_.data_offsets.push_back(here(s));
      uint32_t flags = s.u32();
      DataSegment d;
      switch (flags) {
        case 0:
          d.mode = DataSegment::Mode::Active;
          d.offset = const_expr(s);
          break;
        case 1:
          break;
        case 2:
          d.mode = DataSegment::Mode::Active;
          d.memory = s.u32();
          d.offset = const_expr(s);
          break;
        default:
          throw_malformed(flags_at, "malformed data segment kind");
      }
      uint32_t len = s.u32();
      uint32_t offset = static_cast<uint32_t>(s.offset());
      s.skip(len);
      d.init = ByteRange{offset, len};
      m_.datas.push_back(std::move(d));
    }
  }

  // The current offset (modules are < 4 GiB, see decode_module).
  static uint32_t here(const Reader& s) { return static_cast<uint32_t>(s.offset()); }

  // Walks instructions up to the `end` that closes the expression. Nested
  // blocks are followed so that a (non-constant) block inside still decodes
  // and is rejected by the validator as invalid rather than as malformed.
  ConstExpr const_expr(Reader& s) {
    size_t start = s.offset();
    uint32_t depth = 0;
    for (;;) {
      Op op = read_op(s, f_);
      switch (op) {
        case Op::Block: case Op::Loop: case Op::If: case Op::Try: case Op::TryTable:
          ++depth;
          break;
        case Op::End:
          if (depth == 0)
            return ConstExpr{static_cast<uint32_t>(start), static_cast<uint32_t>(s.offset() - start)};
          --depth;
          break;
        case Op::Delegate:  // closes a `try` like `end`
          if (depth > 0) --depth;
          break;
        default:
          break;
      }
      skip_immediates(s, op, m_.memories, f_.multi_memory);
    }
  }

  Module& m_;
  const Features& f_;
  size_t code_at_ = Error::npos;  // offset of the code section's count
  bool saw_data_ = false;
  bool saw_names_ = false;
};

}  // namespace

std::shared_ptr<Module> decode_module(ByteBuffer bytes, const Features& features) {
  // ByteRanges are 32-bit.
  if (bytes.size() > std::numeric_limits<uint32_t>::max())
    throw_malformed(Error::npos, "module too large");
  auto m = std::make_shared<Module>();
  m->bytes = std::move(bytes);
  m->features = features;
  Decoder(*m).run();
  return m;
}

}  // namespace weft::wasm
