#include "component/decoder.h"

#include <cstdio>

#include "base/reader.h"
#include "wasm/code_reader.h"
#include "wasm/decoder.h"

namespace weft::component {

const char* to_string(Sort s) {
  static const char* const names[] = {"core func",     "core table", "core memory", "core global",
                                      "core tag",      "core type",  "core module", "core instance",
                                      "func",          "value",      "type",        "component",
                                      "instance"};
  return names[static_cast<size_t>(s)];
}

const char* to_string(CanonKind k) {
  switch (k) {
#define X(name, spelling, opcode, imm) \
  case CanonKind::name:                \
    return spelling;
    WEFT_CANON_OPS(X)
#undef X
  }
  return "?";
}

bool is_component(std::span<const uint8_t> bytes) {
  static const uint8_t magic[] = {0x00, 0x61, 0x73, 0x6d};
  return bytes.size() >= 8 && std::equal(magic, magic + 4, bytes.begin()) && bytes[6] == 1 && bytes[7] == 0;
}

namespace {

enum SectionId : uint8_t {
  kCustom = 0, kCoreModule, kCoreInstance, kCoreType, kComponent, kInstance, kAlias, kType,
  kCanon, kStart, kImport, kExport, kValue,
};

constexpr uint8_t kVersion = 0x0d;

std::string hex(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

// wasmparser's wording, which the suite's messages use.
[[noreturn]] void bad_byte(size_t at, unsigned byte, const char* what) {
  throw_malformed(at, "invalid leading byte (" + hex(byte) + ") for " + what);
}

class Decoder {
 public:
  std::shared_ptr<Component> component(Reader& r, unsigned depth) {
    // Nesting is bounded by the input size, but recursion depth is not: cap it.
    if (depth > 100) r.fail("components nested too deeply");
    size_t start = r.offset();
    if (r.remaining() < 8 || r.fixed_u32() != 0x6d736100) throw_malformed(start, "magic header not detected");
    size_t at = r.offset();
    uint16_t version = static_cast<uint16_t>(r.u8() | r.u8() << 8);
    uint16_t layer = static_cast<uint16_t>(r.u8() | r.u8() << 8);
    if (layer != 1) throw_malformed(at, "expected a version header for a component");
    if (version != kVersion) throw_malformed(at, "unknown binary version: " + hex(version));

    auto c = std::make_shared<Component>();
    while (!r.at_end()) {
      size_t id_at = r.offset();
      uint8_t id = r.u8();
      if (id > kValue) throw_malformed(id_at, "malformed section id: " + std::to_string(id));
      uint32_t size = r.u32();
      if (size > r.remaining()) throw_malformed(r.offset(), "unexpected end-of-file");
      size_t body = r.offset();
      Reader s(r.bytes(size), body);
      section(*c, id, s, depth);
      if (!s.at_end()) throw_malformed(s.offset(), "section size mismatch: unexpected data at the end of the section");
    }
    return c;
  }

 private:
  void section(Component& c, uint8_t id, Reader& s, unsigned depth) {
    auto each = [&](size_t min_size, auto&& read) {
      uint32_t n = s.count(min_size);
      for (uint32_t i = 0; i < n; ++i) c.definitions.emplace_back(read());
    };
    switch (id) {
      case kCustom:
        s.name();
        s.skip(s.remaining());
        return;
      case kCoreModule:
        c.definitions.emplace_back(core_module(s));
        return;
      case kCoreInstance: return each(2, [&] { return core_instance(s); });
      case kCoreType: return each(1, [&] { return core_type(s, true); });
      case kComponent: {
        size_t at = s.offset();
        c.definitions.emplace_back(NestedComponent{component(s, depth + 1), at});
        return;
      }
      case kInstance: return each(2, [&] { return instance(s); });
      case kAlias: return each(3, [&] { return alias(s); });
      case kType: return each(1, [&] { return type(s, depth); });
      case kCanon: return each(1, [&] { return canon(s); });
      case kStart: {
        StartDef st;
        st.offset = s.offset();
        st.func = s.u32();
        uint32_t n = s.count(1);
        for (uint32_t i = 0; i < n; ++i) st.args.push_back(s.u32());
        st.results = s.u32();
        c.definitions.emplace_back(st);
        return;
      }
      case kImport: return each(3, [&] { return import(s); });
      case kExport: return each(4, [&] { return export_(s); });
      case kValue: throw_malformed(s.offset(), "value definitions are not supported");
    }
  }

  CoreModuleDef core_module(Reader& s) {
    size_t at = s.offset();
    auto bytes = s.bytes(s.remaining());
    if (bytes.size() >= 8 && bytes[6] == 1) throw_malformed(at + 4, "expected a version header for a module");
    try {
      return {wasm::decode_module(std::vector<uint8_t>(bytes.begin(), bytes.end())), at};
    } catch (const Error& e) {
      // Report the offset within the component file.
      throw Error(e.kind(), e.what(), e.offset() == Error::npos ? at : at + e.offset());
    }
  }

  static bool boolean(Reader& s) {
    size_t at = s.offset();
    uint8_t b = s.u8();
    if (b > 1) throw_malformed(at, "invalid boolean value");
    return b;
  }

  static Sort core_sort(Reader& s) {
    size_t at = s.offset();
    uint8_t b = s.u8();
    switch (b) {
      case 0x00: return Sort::CoreFunc;
      case 0x01: return Sort::CoreTable;
      case 0x02: return Sort::CoreMemory;
      case 0x03: return Sort::CoreGlobal;
      case 0x04: return Sort::CoreTag;
      case 0x10: return Sort::CoreType;
      case 0x11: return Sort::CoreModule;
      case 0x12: return Sort::CoreInstance;
      default: bad_byte(at, b, "core sort");
    }
  }

  static Sort sort(Reader& s) {
    size_t at = s.offset();
    uint8_t b = s.u8();
    switch (b) {
      case 0x00: return core_sort(s);
      case 0x01: return Sort::Func;
      case 0x02: return Sort::Value;
      case 0x03: return Sort::Type;
      case 0x04: return Sort::Component;
      case 0x05: return Sort::Instance;
      default: bad_byte(at, b, "component external kind");
    }
  }

  CoreInstanceDef core_instance(Reader& s) {
    CoreInstanceDef d;
    d.offset = s.offset();
    uint8_t b = s.u8();
    if (b == 0x00) {
      d.module = s.u32();
      uint32_t n = s.count(3);
      for (uint32_t i = 0; i < n; ++i) {
        std::string name = s.name();
        size_t at = s.offset();
        uint8_t kind = s.u8();
        if (kind != 0x12) bad_byte(at, kind, "instantiation arg kind");
        d.args.emplace_back(std::move(name), s.u32());
      }
    } else if (b == 0x01) {
      d.instantiate = false;
      uint32_t n = s.count(3);
      for (uint32_t i = 0; i < n; ++i) {
        std::string name = s.name();
        Sort sort = core_sort(s);
        d.exports.emplace_back(std::move(name), SortIdx{sort, s.u32()});
      }
    } else {
      bad_byte(d.offset, b, "core instance");
    }
    return d;
  }

  InstanceDef instance(Reader& s) {
    InstanceDef d;
    d.offset = s.offset();
    uint8_t b = s.u8();
    if (b == 0x00) {
      d.component = s.u32();
      uint32_t n = s.count(3);
      for (uint32_t i = 0; i < n; ++i) {
        std::string name = s.name();
        Sort sort = this->sort(s);
        d.args.emplace_back(std::move(name), SortIdx{sort, s.u32()});
      }
    } else if (b == 0x01) {
      d.instantiate = false;
      uint32_t n = s.count(4);
      for (uint32_t i = 0; i < n; ++i) {
        ExternName name = extern_name(s);
        Sort sort = this->sort(s);
        d.exports.emplace_back(std::move(name), SortIdx{sort, s.u32()});
      }
    } else {
      bad_byte(d.offset, b, "instance");
    }
    return d;
  }

  AliasDef alias(Reader& s) {
    AliasDef a;
    a.offset = s.offset();
    uint8_t sort_byte = s.peek();
    a.sort = sort(s);
    size_t at = s.offset();
    uint8_t target = s.u8();
    switch (target) {
      case 0x00:
        a.target = AliasDef::Target::Export;
        a.instance = s.u32();
        a.name = s.name();
        break;
      case 0x01:
        a.target = AliasDef::Target::CoreExport;
        a.instance = s.u32();
        a.name = s.name();
        break;
      case 0x02:
        a.target = AliasDef::Target::Outer;
        if (a.sort != Sort::CoreModule && a.sort != Sort::CoreType && a.sort != Sort::Type &&
            a.sort != Sort::Component)
          bad_byte(a.offset, sort_byte, "component outer alias kind");
        a.instance = s.u32();
        a.index = s.u32();
        break;
      default:
        bad_byte(at, target, "alias");
    }
    return a;
  }

  // ---- core types ----

  static CoreExternDecl core_extern(Reader& s) {
    CoreExternDecl d;
    size_t at = s.offset();
    uint8_t kind = s.u8();
    switch (kind) {
      case 0x00: d.type_index = s.u32(); break;
      case 0x01:
        d.table.elem = wasm::read_reftype(s);
        d.table.limits = limits(s, false);
        break;
      case 0x02: d.memory.limits = limits(s, true); break;
      case 0x03:
        d.global.type = wasm::read_valtype(s);
        d.global.mut = boolean(s);
        break;
      case 0x04: {
        size_t a = s.offset();
        if (s.u8() != 0) throw_malformed(a, "malformed tag attribute");
        d.type_index = s.u32();
        break;
      }
      default: bad_byte(at, kind, "external kind");
    }
    d.kind = static_cast<wasm::ExternKind>(kind);
    return d;
  }

  static wasm::Limits limits(Reader& s, bool memory) {
    size_t at = s.offset();
    uint8_t flags = s.u8();
    if (flags & (memory ? ~0x07 : ~0x05)) throw_malformed(at, "malformed limits flags");
    wasm::Limits l;
    l.shared = flags & 0x02;
    l.is64 = flags & 0x04;
    l.min = l.is64 ? s.u64() : s.u32();
    if (flags & 0x01) l.max = l.is64 ? s.u64() : s.u32();
    return l;
  }

  static wasm::FuncType core_functype(Reader& s) {
    wasm::FuncType t;
    for (auto* list : {&t.params, &t.results}) {
      uint32_t n = s.count(1);
      for (uint32_t i = 0; i < n; ++i) list->push_back(wasm::read_valtype(s));
    }
    return t;
  }

  // core:type. Module types may not nest (`allow_module`).
  std::shared_ptr<CoreTypeDef> core_type(Reader& s, bool allow_module) {
    auto t = std::make_shared<CoreTypeDef>();
    t->offset = s.offset();
    uint8_t b = s.u8();
    // A function type, possibly as a GC subtype: a final `0x4f` one or the
    // `0x00 0x50` prefixed non-final one (Binary.md's pre-1.0 wart).
    if (b == 0x4f || (b == 0x00 && s.peek() == 0x50)) {
      if (b == 0x00) s.u8();
      uint32_t supertypes = s.count(1);
      for (uint32_t i = 0; i < supertypes; ++i) s.u32();
      if (supertypes) throw_invalid(t->offset, "core subtyping is not supported");
      size_t at = s.offset();
      b = s.u8();
      if (b != 0x60) bad_byte(at, b, "core composite type (only function types are supported)");
    }
    if (b == 0x60) {
      t->func = core_functype(s);
      return t;
    }
    if (b != 0x50) bad_byte(t->offset, b, "core type (only function and module types are supported)");
    if (!allow_module) throw_malformed(t->offset, "module types may not be nested");
    t->is_module = true;
    uint32_t n = s.count(2);
    for (uint32_t i = 0; i < n; ++i) {
      CoreModuleDecl d;
      d.offset = s.offset();
      uint8_t k = s.u8();
      switch (k) {
        case 0x00:
          d.kind = CoreModuleDecl::Kind::Import;
          d.module = s.name();
          d.name = s.name();
          d.desc = core_extern(s);
          break;
        case 0x01:
          d.kind = CoreModuleDecl::Kind::Type;
          d.type = core_type(s, false);
          break;
        case 0x02: {
          d.kind = CoreModuleDecl::Kind::Alias;
          size_t at = s.offset();
          uint8_t sort = s.u8();
          if (sort != 0x10) bad_byte(at, sort, "outer alias kind");
          at = s.offset();
          uint8_t target = s.u8();
          if (target != 0x01) bad_byte(at, target, "outer alias target");
          d.outer_count = s.u32();
          d.outer_index = s.u32();
          break;
        }
        case 0x03:
          d.kind = CoreModuleDecl::Kind::Export;
          d.name = s.name();
          d.desc = core_extern(s);
          break;
        default: bad_byte(d.offset, k, "type definition");
      }
      t->decls.push_back(std::move(d));
    }
    return t;
  }

  // ---- component types ----

  static std::optional<TypeKind> primitive(uint8_t b) {
    if (b >= 0x73 && b <= 0x7f) return static_cast<TypeKind>(0x7f - b);
    if (b == 0x64) return TypeKind::ErrorContext;
    return std::nullopt;
  }

  static ValTypeRef valtype(Reader& s) {
    size_t at = s.offset();
    int64_t v = s.s33();
    if (v >= 0) return ValTypeRef{static_cast<uint32_t>(v), TypeKind::Bool};
    uint8_t b = static_cast<uint8_t>(v & 0x7f);
    auto p = primitive(b);
    if (!p || v < -64) bad_byte(at, b, "primitive value type");
    return ValTypeRef{std::nullopt, *p};
  }

  static std::optional<ValTypeRef> opt_valtype(Reader& s, const char* what) {
    size_t at = s.offset();
    uint8_t b = s.u8();
    if (b == 0) return std::nullopt;
    if (b != 1) bad_byte(at, b, what);
    return valtype(s);
  }

  static std::string label(Reader& s) { return s.name(); }

  std::shared_ptr<TypeDef> type(Reader& s, unsigned depth) {
    if (depth > 100) s.fail("types nested too deeply");
    auto t = std::make_shared<TypeDef>();
    t->offset = s.offset();
    uint8_t b = s.u8();
    if (auto p = primitive(b)) {
      t->kind = *p;
      return t;
    }
    switch (b) {
      case 0x72:
      case 0x71: {
        t->kind = b == 0x72 ? TypeKind::Record : TypeKind::Variant;
        uint32_t n = s.count(2);
        for (uint32_t i = 0; i < n; ++i) {
          Labeled m;
          m.label = label(s);
          if (b == 0x72) {
            m.type = valtype(s);
          } else {
            m.type = opt_valtype(s, "optional variant case type");
            size_t at = s.offset();
            uint8_t z = s.u8();
            if (z != 0) bad_byte(at, z, "zero byte required");
          }
          t->members.push_back(std::move(m));
        }
        return t;
      }
      case 0x70:
        t->kind = TypeKind::List;
        t->a = valtype(s);
        return t;
      case 0x67:
        t->kind = TypeKind::List;
        t->a = valtype(s);
        t->length = s.u32();
        return t;
      case 0x6f: {
        t->kind = TypeKind::Tuple;
        uint32_t n = s.count(1);
        for (uint32_t i = 0; i < n; ++i) t->elems.push_back(valtype(s));
        return t;
      }
      case 0x6e:
      case 0x6d: {
        t->kind = b == 0x6e ? TypeKind::Flags : TypeKind::Enum;
        uint32_t n = s.count(1);
        for (uint32_t i = 0; i < n; ++i) t->members.push_back(Labeled{label(s), std::nullopt});
        return t;
      }
      case 0x6b:
        t->kind = TypeKind::Option;
        t->a = valtype(s);
        return t;
      case 0x6a:
        t->kind = TypeKind::Result;
        t->a = opt_valtype(s, "optional result type");
        t->b = opt_valtype(s, "optional result type");
        return t;
      case 0x69:
      case 0x68:
        t->kind = b == 0x69 ? TypeKind::Own : TypeKind::Borrow;
        t->handle = s.u32();
        return t;
      case 0x66:
      case 0x65:
        t->kind = b == 0x66 ? TypeKind::Stream : TypeKind::Future;
        t->a = opt_valtype(s, "optional element type");
        return t;
      case 0x63:
        t->kind = TypeKind::Map;
        t->a = valtype(s);
        t->b = valtype(s);
        return t;
      case 0x40:
      case 0x43: {
        t->kind = TypeKind::Func;
        t->async = b == 0x43;
        uint32_t n = s.count(2);
        for (uint32_t i = 0; i < n; ++i) {
          std::string l = label(s);
          t->members.push_back(Labeled{std::move(l), valtype(s)});
        }
        t->a = result_list(s);
        return t;
      }
      case 0x3f:
        t->kind = TypeKind::Resource;
        t->rep = wasm::read_valtype(s);
        {
          size_t at = s.offset();
          uint8_t has = s.u8();
          if (has > 1) bad_byte(at, has, "resource destructor");
          if (has) t->dtor = s.u32();
        }
        return t;
      case 0x41:
      case 0x42: {
        t->kind = b == 0x41 ? TypeKind::Component : TypeKind::Instance;
        uint32_t n = s.count(2);
        for (uint32_t i = 0; i < n; ++i) t->decls.push_back(decl(s, b == 0x41, depth));
        return t;
      }
      default: bad_byte(t->offset, b, "component defined type");
    }
  }

  static std::optional<ValTypeRef> result_list(Reader& s) {
    size_t at = s.offset();
    uint8_t b = s.u8();
    if (b == 0x00) return valtype(s);
    if (b != 0x01) bad_byte(at, b, "component function results");
    at = s.offset();
    uint8_t z = s.u8();
    if (z != 0x00) bad_byte(at, z, "number of results");
    return std::nullopt;
  }

  Decl decl(Reader& s, bool component, unsigned depth) {
    Decl d;
    d.offset = s.offset();
    uint8_t b = s.u8();
    switch (b) {
      case 0x00:
        d.kind = Decl::Kind::CoreType;
        d.core_type = core_type(s, true);
        break;
      case 0x01:
        d.kind = Decl::Kind::Type;
        d.type = type(s, depth + 1);
        break;
      case 0x02:
        d.kind = Decl::Kind::Alias;
        d.alias = alias(s);
        break;
      case 0x03:
        if (!component) bad_byte(d.offset, b, "component or instance type declaration");
        d.kind = Decl::Kind::Import;
        d.name = extern_name(s);
        d.desc = extern_type(s);
        break;
      case 0x04:
        d.kind = Decl::Kind::Export;
        d.name = extern_name(s);
        d.desc = extern_type(s);
        break;
      default: bad_byte(d.offset, b, "component or instance type declaration");
    }
    return d;
  }

  static ExternTypeRef extern_type(Reader& s) {
    ExternTypeRef t;
    size_t at = s.offset();
    uint8_t b = s.u8();
    switch (b) {
      case 0x00: {
        size_t at2 = s.offset();
        uint8_t m = s.u8();
        if (m != 0x11) bad_byte(at2, m, "component external kind");
        t.kind = ExternKind::CoreModule;
        t.index = s.u32();
        break;
      }
      case 0x01: t.kind = ExternKind::Func, t.index = s.u32(); break;
      case 0x02: {
        t.kind = ExternKind::Value;
        size_t at2 = s.offset();
        uint8_t k = s.u8();
        if (k == 0x00) t.index = s.u32();
        else if (k == 0x01) t.value = valtype(s);
        else bad_byte(at2, k, "value bound");
        break;
      }
      case 0x03: {
        t.kind = ExternKind::Type;
        size_t at2 = s.offset();
        uint8_t k = s.u8();
        if (k == 0x00) t.index = s.u32();
        else if (k == 0x01) t.sub_resource = true;
        else bad_byte(at2, k, "type bound");
        break;
      }
      case 0x04: t.kind = ExternKind::Component, t.index = s.u32(); break;
      case 0x05: t.kind = ExternKind::Instance, t.index = s.u32(); break;
      default: bad_byte(at, b, "component external kind");
    }
    return t;
  }

  static ExternName extern_name(Reader& s) {
    ExternName n;
    size_t at = s.offset();
    uint8_t b = s.u8();
    if (b > 0x02) bad_byte(at, b, "component name");
    n.name = s.name();
    if (b != 0x02) return n;
    uint32_t count = s.count(2);
    for (uint32_t i = 0; i < count; ++i) {
      size_t a = s.offset();
      uint8_t kind = s.u8();
      std::optional<std::string>* slot = nullptr;
      const char* what = "";
      switch (kind) {
        case 0x00: slot = &n.implements, what = "implements"; break;
        case 0x01: slot = &n.version_suffix, what = "versionsuffix"; break;
        case 0x02: slot = &n.external_id, what = "external-id"; break;
        default: bad_byte(a, kind, "name option");
      }
      // A duplicate is a validation error by the spec, but only decoding
      // sees it: the attributes are folded into optional fields here.
      if (*slot) throw_invalid(a, std::string("duplicate '") + what + "' option in name");
      *slot = s.name();
    }
    return n;
  }

  ImportDef import(Reader& s) {
    ImportDef d;
    d.offset = s.offset();
    d.name = extern_name(s);
    d.desc = extern_type(s);
    return d;
  }

  ExportDef export_(Reader& s) {
    ExportDef d;
    d.offset = s.offset();
    d.name = extern_name(s);
    Sort sort = this->sort(s);
    d.item = SortIdx{sort, s.u32()};
    size_t at = s.offset();
    uint8_t has = s.u8();
    if (has > 1) bad_byte(at, has, "optional component export type");
    if (has) d.desc = extern_type(s);
    return d;
  }

  // ---- canon ----

  static CanonOpts opts(Reader& s) {
    CanonOpts o;
    o.offset = s.offset();
    uint32_t n = s.count(1);
    for (uint32_t i = 0; i < n; ++i) {
      size_t at = s.offset();
      uint8_t b = s.u8();
      // Duplicate or conflicting options are invalid rather than malformed,
      // but only the decoder sees them: the options are folded into fields.
      auto set = [&](std::optional<uint32_t>& slot) {
        if (slot) throw_invalid(at, "canonical option `" + std::string(option_name(b)) + "` is specified more than once");
        slot = s.u32();
      };
      switch (b) {
        case 0x00:
        case 0x01:
        case 0x02:
          if (o.string_encoding) throw_invalid(at, "canonical encoding option `" + std::string(option_name(b)) + "` conflicts with option `" + option_name(static_cast<uint8_t>(*o.string_encoding)) + "`");
          o.string_encoding = static_cast<StringEncoding>(b);
          break;
        case 0x03: set(o.memory); break;
        case 0x04: set(o.realloc); break;
        case 0x05: set(o.post_return); break;
        case 0x06:
          if (o.async) throw_invalid(at, "canonical option `async` is specified more than once");
          o.async = true;
          break;
        case 0x07: set(o.callback); break;
        default: bad_byte(at, b, "canonical option");
      }
    }
    return o;
  }

  static const char* option_name(uint8_t b) {
    static const char* const names[] = {"utf8", "utf16", "latin1-utf16", "memory", "realloc", "post-return", "async", "callback"};
    return b < 8 ? names[b] : "?";
  }

  enum class Imm { LiftImm, LowerImm, TypeImm, NoImm, ResultOptsImm, ContextImm, AsyncImm, TypeOptsImm,
                   TypeAsyncImm, OptsImm, CancelMemoryImm, CoreTypeTableImm, CancelImm, SharedCoreTypeImm,
                   SharedCoreTypeTableImm, SharedImm };

  Canon canon(Reader& s) {
    Canon c;
    c.offset = s.offset();
    uint8_t b = s.u8();
    Imm imm;
    switch (b) {
#define X(name, spelling, opcode, im) \
  case opcode:                        \
    c.kind = CanonKind::name;         \
    imm = Imm::im;                    \
    break;
      WEFT_CANON_OPS(X)
#undef X
      default: bad_byte(c.offset, b, "canonical function");
    }
    auto func_sort = [&](const char* what) {
      size_t at = s.offset();
      uint8_t z = s.u8();
      if (z != 0x00) bad_byte(at, z, what);
    };
    switch (imm) {
      case Imm::LiftImm:
        func_sort("canonical function lift");
        c.func = s.u32();
        c.opts = opts(s);
        c.type = s.u32();
        break;
      case Imm::LowerImm:
        func_sort("canonical function lower");
        c.func = s.u32();
        c.opts = opts(s);
        break;
      case Imm::TypeImm: c.type = s.u32(); break;
      case Imm::NoImm: break;
      case Imm::ResultOptsImm:
        c.result = result_list(s);
        c.opts = opts(s);
        break;
      case Imm::ContextImm:
        c.core_type = wasm::read_valtype(s);
        c.slot = s.u32();
        break;
      case Imm::AsyncImm: c.flag = boolean(s); break;
      case Imm::TypeOptsImm:
        c.type = s.u32();
        c.opts = opts(s);
        break;
      case Imm::TypeAsyncImm:
        c.type = s.u32();
        c.flag = boolean(s);
        break;
      case Imm::OptsImm: c.opts = opts(s); break;
      case Imm::CancelMemoryImm:
        c.flag = boolean(s);
        c.opts.memory = s.u32();
        break;
      case Imm::CoreTypeTableImm:
        c.type = s.u32();
        c.table = s.u32();
        break;
      case Imm::CancelImm: c.flag = boolean(s); break;
      case Imm::SharedCoreTypeImm:
        c.flag = boolean(s);
        c.type = s.u32();
        break;
      case Imm::SharedCoreTypeTableImm:
        c.flag = boolean(s);
        c.type = s.u32();
        c.table = s.u32();
        break;
      case Imm::SharedImm: c.flag = boolean(s); break;
    }
    return c;
  }
};

}  // namespace

std::shared_ptr<Component> decode_component(std::span<const uint8_t> bytes) {
  Decoder d;
  Reader r(bytes);
  return d.component(r, 0);
}

}  // namespace weft::component
