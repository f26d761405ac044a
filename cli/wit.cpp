// weft wit: prints a component's world in WIT, in the layout `jco wit`
// (wasm-tools' printer) uses: interface imports/exports by name, plain-named
// functions and types inline. With --interfaces, the interfaces' own
// functions and types follow the world.
#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <unordered_map>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/load.h"
#include "component/decoder.h"
#include "component/names.h"
#include "component/validator.h"

namespace weft::cli {

namespace {

using namespace weft::component;

// WIT keywords must be written with a `%` to be identifiers.
std::string ident(const std::string& name) {
  static const std::set<std::string> keywords = {
      "use",    "type",  "func",   "u8",     "u16",      "u32",    "u64",     "s8",     "s16",
      "s32",    "s64",   "f32",    "f64",    "char",     "bool",   "string",  "option", "result",
      "future", "stream", "list",  "record", "flags",    "variant", "enum",   "tuple",  "resource",
      "own",    "borrow", "static", "interface", "world", "import", "export", "package", "constructor",
      "include", "with", "async",  "error-context", "map", "as",   "from",    "float32", "float64"};
  return keywords.count(name) ? "%" + name : name;
}

class WitPrinter {
 public:
  std::string world(const Type* component, bool interfaces) {
    out_ = "package root:component;\n\nworld root {\n";
    names_.clear();
    for (const NamedExtern& e : component->imports) item("import", e, "  ");
    if (!component->imports.empty() && !component->exports.empty()) out_ += "\n";
    for (const NamedExtern& e : component->exports) item("export", e, "  ");
    out_ += "}\n";
    if (interfaces) {
      for (const NamedExtern& e : component->imports) interface(e);
      for (const NamedExtern& e : component->exports) interface(e);
    }
    return out_;
  }

 private:
  void item(const char* dir, const NamedExtern& e, const std::string& indent) {
    auto parts = parse_extern_name(e.name);
    bool is_interface = parts && parts->kind == ExternNameParts::Kind::Interface;
    switch (e.desc.kind) {
      case ExternKind::Instance:
        if (is_interface) {
          out_ += indent + dir + " " + e.name + ";\n";
        } else {
          out_ += indent + dir + " " + ident(e.name) + ": interface {\n";
          body(e.desc.type, indent + "  ");
          out_ += indent + "}\n";
        }
        return;
      case ExternKind::Func:
        out_ += indent + dir + " " + ident(e.name) + ": " + func(e.desc.type) + ";\n";
        return;
      case ExternKind::Type:
        typedef_(e.name, e.desc.type, indent);
        return;
      default:
        out_ += indent + "/* " + dir + " " + e.name + ": " + to_string(e.desc.kind) + " (not expressible in WIT) */\n";
    }
  }

  // An interface's types and functions.
  // Multi-line definitions are set off by blank lines, as wasm-tools does.
  static bool multiline(const ExternDesc& d) {
    if (d.kind != ExternKind::Type) return false;
    TypeKind k = d.type->kind;
    return k == TypeKind::Record || k == TypeKind::Variant || k == TypeKind::Enum || k == TypeKind::Flags;
  }

  void body(const Type* instance, const std::string& indent) {
    for (size_t i = 0; i < instance->exports.size(); ++i) {
      const NamedExtern& e = instance->exports[i];
      if (i > 0 && (multiline(e.desc) || multiline(instance->exports[i - 1].desc))) out_ += "\n";
      if (e.desc.kind == ExternKind::Type) typedef_(e.name, e.desc.type, indent);
      else if (e.desc.kind == ExternKind::Func) out_ += indent + ident(e.name) + ": " + func(e.desc.type) + ";\n";
    }
  }

  void interface(const NamedExtern& e) {
    auto parts = parse_extern_name(e.name);
    if (e.desc.kind != ExternKind::Instance || !parts || parts->kind != ExternNameParts::Kind::Interface) return;
    std::string package = parts->namespace_ + ":" + parts->package;
    if (!parts->version.empty()) package += "@" + parts->version;
    out_ += "\npackage " + package + " {\n  interface " + ident(parts->interface) + " {\n";
    body(e.desc.type, "    ");
    out_ += "  }\n}\n";
  }

  // A named type definition; names it for later references.
  void typedef_(const std::string& name, const Type* t, const std::string& indent) {
    std::string n = ident(name);
    auto labels = [&](const std::vector<std::string>& ls) {
      std::string s;
      for (const std::string& l : ls) s += indent + "  " + ident(l) + ",\n";
      return s;
    };
    std::string def;
    switch (t->kind) {
      case TypeKind::Resource: def = indent + "resource " + n + ";\n"; break;
      case TypeKind::Record:
        def = indent + "record " + n + " {\n";
        for (const Field& f : t->fields) def += indent + "  " + ident(f.label) + ": " + ref(f.type) + ",\n";
        def += indent + "}\n";
        break;
      case TypeKind::Variant:
        def = indent + "variant " + n + " {\n";
        for (const Field& f : t->fields) {
          def += indent + "  " + ident(f.label);
          if (f.type) def.append("(").append(ref(f.type)).append(")");
          def += ",\n";
        }
        def += indent + "}\n";
        break;
      case TypeKind::Flags: def = indent + "flags " + n + " {\n" + labels(t->labels) + indent + "}\n"; break;
      case TypeKind::Enum: def = indent + "enum " + n + " {\n" + labels(t->labels) + indent + "}\n"; break;
      default:
        // An alias of an already named type, or an anonymous one.
        def = indent + "type " + n + " = " + ref(t) + ";\n";
    }
    out_ += def;
    names_.emplace(t, n);
  }

  std::string func(const Type* f) {
    std::string s = f->async ? "async func(" : "func(";
    for (size_t i = 0; i < f->fields.size(); ++i)
      s += (i ? ", " : "") + ident(f->fields[i].label) + ": " + ref(f->fields[i].type);
    s += ")";
    if (f->a) s += " -> " + ref(f->a);
    return s;
  }

  // A reference to a value type: its name if it has one, else its structure.
  std::string ref(const Type* t) {
    if (!t) return "_";
    auto it = names_.find(t);
    if (it != names_.end()) return it->second;
    switch (t->kind) {
      case TypeKind::List: {
        std::string s = "list<" + ref(t->a);
        if (t->length) s.append(", ").append(std::to_string(t->length));
        return s + ">";
      }
      case TypeKind::Option: return "option<" + ref(t->a) + ">";
      case TypeKind::Result:
        if (!t->a && !t->b) return "result";
        if (!t->b) return "result<" + ref(t->a) + ">";
        return "result<" + (t->a ? ref(t->a) : "_") + ", " + ref(t->b) + ">";
      case TypeKind::Tuple: {
        std::string s = "tuple<";
        for (size_t i = 0; i < t->elems.size(); ++i) s += (i ? ", " : "") + ref(t->elems[i]);
        return s + ">";
      }
      case TypeKind::Own: return ref(t->a);
      case TypeKind::Borrow: return "borrow<" + ref(t->a) + ">";
      case TypeKind::Stream:
      case TypeKind::Future:
      {
        std::string s = to_string(t->kind);
        if (t->a) s.append("<").append(ref(t->a)).append(">");
        return s;
      }
      case TypeKind::Map: return "map<" + ref(t->a) + ", " + ref(t->b) + ">";
      default: return component::to_string(t);
    }
  }

  std::string out_;
  std::unordered_map<const Type*, std::string> names_;
};

}  // namespace

int wit_command(const WitOptions& options) {
  try {
    std::vector<uint8_t> bytes = read_file(options.file);
    // A core module has no world; anything else is decoded as a component
    // so that a broken preamble is reported as such.
    static const uint8_t core_preamble[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    if (bytes.size() >= 8 && std::equal(core_preamble, core_preamble + 8, bytes.begin()))
      throw Error(ErrorKind::Usage, options.file + " is a core module, not a component");
    ComponentInfo info = validate(*decode_component(bytes), false);
    std::fputs(WitPrinter().world(info.type, options.interfaces).c_str(), stdout);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.describe().c_str());
    return 1;
  }
}

}  // namespace weft::cli
