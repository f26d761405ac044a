#include "component/types.h"

#include <algorithm>
#include <unordered_set>

namespace weft::component {

const char* to_string(TypeKind k) {
  static const char* const names[] = {
      "bool",   "s8",    "u8",    "s16",   "u16",    "s32",    "u32",     "s64",      "u64",
      "f32",    "f64",   "char",  "string", "error-context", "record", "variant", "list", "tuple",
      "flags",  "enum",  "option", "result", "own",  "borrow", "stream",  "future",   "map",
      "func",   "resource", "component", "instance",
  };
  return names[static_cast<size_t>(k)];
}

const char* to_string(ExternKind k) {
  static const char* const names[] = {"core module", "func", "value", "type", "component", "instance"};
  return names[static_cast<size_t>(k)];
}

std::string to_string(const CoreExtern& e) {
  switch (e.kind) {
    case wasm::ExternKind::Func: return "func " + wasm::to_string(e.func);
    case wasm::ExternKind::Tag: return "tag " + wasm::to_string(e.func);
    default: return wasm::to_string(e.kind);
  }
}

const CoreExtern* CoreInstanceType::find(const std::string& name) const {
  for (const auto& [n, e] : exports)
    if (n == name) return &e;
  return nullptr;
}

namespace {

const ExternDesc* find_in(const std::vector<NamedExtern>& list, const std::string& name) {
  for (const NamedExtern& e : list)
    if (e.name == name) return &e.desc;
  return nullptr;
}

uint32_t sat_add(uint32_t a, uint32_t b) { return std::min(a + b, kFlatSaturate); }

// The spec's flattening count (CanonicalABI.md flatten_type), saturating.
uint32_t flat_count_of(const Type& t) {
  auto count = [](const Type* x) { return x ? x->flat_count : 0u; };
  switch (t.kind) {
    case TypeKind::String:
    case TypeKind::Map:
      return 2;
    case TypeKind::List:
      if (!t.length) return 2;
      return static_cast<uint32_t>(std::min<uint64_t>(uint64_t{t.length} * t.a->flat_count, kFlatSaturate));
    case TypeKind::Record:
    case TypeKind::Variant: {
      uint32_t n = 0;
      for (const Field& f : t.fields) n = t.kind == TypeKind::Record ? sat_add(n, count(f.type)) : std::max(n, count(f.type));
      return t.kind == TypeKind::Record ? n : sat_add(n, 1);
    }
    case TypeKind::Tuple: {
      uint32_t n = 0;
      for (const Type* e : t.elems) n = sat_add(n, e->flat_count);
      return n;
    }
    case TypeKind::Option:
      return sat_add(count(t.a), 1);
    case TypeKind::Result:
      return sat_add(std::max(count(t.a), count(t.b)), 1);
    default:
      return is_value(t.kind) ? 1 : 0;
  }
}

void compute_summary(Type& t) {
  // A stream or future is a handle: what it carries is copied by its own
  // built-ins, so its element never makes the handle itself need memory.
  bool handle = t.kind == TypeKind::Stream || t.kind == TypeKind::Future;
  auto visit = [&](const Type* c) {
    if (!c || !is_value(c->kind)) return;
    t.has_borrow |= c->has_borrow;
    t.has_handle |= c->has_handle;
    if (!handle) t.has_list |= c->has_list;
  };
  if (t.kind == TypeKind::Borrow) t.has_borrow = t.has_handle = true;
  if (t.kind == TypeKind::Own) t.has_handle = true;
  if (t.kind == TypeKind::String || t.kind == TypeKind::List || t.kind == TypeKind::Map) t.has_list = true;
  auto deeper = [&](const Type* c) {
    if (c) t.depth = std::max(t.depth, c->depth + 1);
  };
  for (const Field& f : t.fields) deeper(f.type);
  for (const Type* e : t.elems) deeper(e);
  deeper(t.a);
  deeper(t.b);
  for (const NamedExtern& e : t.imports) deeper(e.desc.type);
  for (const NamedExtern& e : t.exports) deeper(e.desc.type);
  if (is_value(t.kind) && t.kind != TypeKind::Own && t.kind != TypeKind::Borrow) {
    for (const Field& f : t.fields) visit(f.type);
    for (const Type* e : t.elems) visit(e);
    visit(t.a);
    visit(t.b);
  }
  t.flat_count = flat_count_of(t);
}

}  // namespace

const ExternDesc* Type::find_export(const std::string& name) const { return find_in(exports, name); }
const ExternDesc* Type::find_import(const std::string& name) const { return find_in(imports, name); }

TypeStore::TypeStore() {
  for (uint8_t k = 0; k <= static_cast<uint8_t>(TypeKind::ErrorContext); ++k)
    primitives_.push_back(intern(Type{static_cast<TypeKind>(k)}));
}

std::string TypeStore::key(const Type& t) const {
  // Children are already interned, so their ids identify them.
  std::string k;
  auto num = [&](uint64_t v) { k += std::to_string(v) + ','; };
  auto str = [&](const std::string& s) { num(s.size()), k += s; };
  auto ref = [&](const Type* c) { num(c ? c->id + 1 : 0); };
  auto externs = [&](const std::vector<NamedExtern>& list) {
    num(list.size());
    for (const NamedExtern& e : list) {
      str(e.name);
      num(static_cast<uint8_t>(e.desc.kind));
      ref(e.desc.type);
      // Core module types are not interned; their identity is the object.
      num(reinterpret_cast<uintptr_t>(e.desc.module.get()));
    }
  };
  num(static_cast<uint8_t>(t.kind));
  num(t.fields.size());
  for (const Field& f : t.fields) str(f.label), ref(f.type);
  num(t.labels.size());
  for (const std::string& l : t.labels) str(l);
  num(t.elems.size());
  for (const Type* e : t.elems) ref(e);
  ref(t.a);
  ref(t.b);
  num(t.length);
  num(t.nominal);
  num(t.async);
  externs(t.imports);
  externs(t.exports);
  return k;
}

const Type* TypeStore::intern(Type t) {
  std::string k = key(t);
  auto it = interned_.find(k);
  if (it != interned_.end()) return it->second;
  t.id = static_cast<uint32_t>(types_.size());
  compute_summary(t);
  const Type* p = &types_.emplace_back(std::move(t));
  interned_.emplace(std::move(k), p);
  return p;
}

void TypeStore::rollback(Mark m) {
  while (types_.size() > m.size) {
    const Type& t = types_.back();
    // Interned ones only: fresh resources have no key entry of their own.
    if (auto it = interned_.find(key(t)); it != interned_.end() && it->second == &t) interned_.erase(it);
    types_.pop_back();
  }
  nominal_count_ = m.nominal_count;
}

const Type* TypeStore::fresh_resource(wasm::ValType rep, std::optional<uint32_t> dtor, bool abstract) {
  Type t{TypeKind::Resource};
  t.id = static_cast<uint32_t>(types_.size());
  t.rep = rep;
  t.dtor = dtor;
  t.abstract = abstract;
  return &types_.emplace_back(std::move(t));
}

const Type* TypeStore::nominal_copy(const Type* t) {
  Type copy = *t;
  copy.nominal = ++nominal_count_;
  return intern(std::move(copy));
}

void collect_resources(const Type* t, std::vector<const Type*>& out) {
  std::unordered_set<const Type*> seen;
  auto walk = [&](auto& self, const Type* x) -> void {
    if (!x || !seen.insert(x).second) return;
    if (x->kind == TypeKind::Resource) {
      out.push_back(x);
      return;
    }
    for (const Field& f : x->fields) self(self, f.type);
    for (const Type* e : x->elems) self(self, e);
    self(self, x->a);
    self(self, x->b);
    for (const NamedExtern& e : x->imports) self(self, e.desc.type);
    for (const NamedExtern& e : x->exports) self(self, e.desc.type);
  };
  walk(walk, t);
}

namespace {

// Memoized per call: types are DAGs, and shared subtrees are rebuilt once.
const Type* substitute(TypeStore& store, const Type* t, const Substitution& s,
                       std::unordered_map<const Type*, const Type*>& memo) {
  if (!t) return t;
  auto it = s.find(t);
  // An export copy stands for a type that may itself use copies.
  if (it != s.end()) return t->nominal ? substitute(store, it->second, s, memo) : it->second;
  if (t->kind == TypeKind::Resource || is_primitive(t->kind)) return t;
  auto done = memo.find(t);
  if (done != memo.end()) return done->second;
  Type copy = *t;
  bool changed = false;
  auto sub = [&](const Type*& x) {
    const Type* y = substitute(store, x, s, memo);
    changed |= y != x;
    x = y;
  };
  for (Field& f : copy.fields) sub(f.type);
  for (const Type*& e : copy.elems) sub(e);
  sub(copy.a);
  sub(copy.b);
  for (NamedExtern& e : copy.imports) sub(e.desc.type);
  for (NamedExtern& e : copy.exports) sub(e.desc.type);
  copy.has_borrow = copy.has_handle = copy.has_list = false;
  const Type* out = changed ? store.intern(std::move(copy)) : t;
  memo.emplace(t, out);
  return out;
}

}  // namespace

const Type* substitute(TypeStore& store, const Type* t, const Substitution& s) {
  if (s.empty()) return t;
  std::unordered_map<const Type*, const Type*> memo;
  return substitute(store, t, s, memo);
}

ExternDesc substitute(TypeStore& store, const ExternDesc& d, const Substitution& s) {
  ExternDesc out = d;
  out.type = substitute(store, d.type, s);
  return out;
}

bool core_is_subtype(const CoreExtern& sub, const CoreExtern& super) {
  if (sub.kind != super.kind) return false;
  auto limits_ok = [](const wasm::Limits& a, const wasm::Limits& b) {
    if (a.is64 != b.is64 || a.shared != b.shared || a.min < b.min) return false;
    if (!b.max) return true;
    return a.max && *a.max <= *b.max;
  };
  switch (sub.kind) {
    case wasm::ExternKind::Func:
    case wasm::ExternKind::Tag:
      return sub.func == super.func;
    case wasm::ExternKind::Table:
      return sub.table.elem == super.table.elem && limits_ok(sub.table.limits, super.table.limits);
    case wasm::ExternKind::Memory:
      return limits_ok(sub.memory.limits, super.memory.limits);
    case wasm::ExternKind::Global:
      return sub.global.type == super.global.type && sub.global.mut == super.global.mut;
  }
  return false;
}

namespace {

bool module_is_subtype(const CoreModuleType& sub, const CoreModuleType& super, std::string& why) {
  // A module may import less and export more than the type promises.
  for (const auto& im : sub.imports) {
    auto it = std::find_if(super.imports.begin(), super.imports.end(),
                           [&](const auto& x) { return x.module == im.module && x.name == im.name; });
    if (it == super.imports.end() || !core_is_subtype(it->type, im.type)) {
      why = "module import `" + im.module + "::" + im.name + "` does not match";
      return false;
    }
  }
  for (const auto& [name, ex] : super.exports) {
    auto it = std::find_if(sub.exports.begin(), sub.exports.end(), [&](const auto& x) { return x.first == name; });
    if (it == sub.exports.end() || !core_is_subtype(it->second, ex)) {
      why = "module export `" + name + "` is missing or does not match";
      return false;
    }
  }
  return true;
}

bool type_is_subtype(TypeStore& store, const Type* sub, const Type* super, Substitution& s, std::string& why);

bool externs_match(TypeStore& store, const std::vector<NamedExtern>& have, const std::vector<NamedExtern>& want,
                   Substitution& s, std::string& why, bool contravariant, const char* what) {
  for (const NamedExtern& w : want) {
    const ExternDesc* h = find_in(have, w.name);
    if (!h) {
      why = std::string("missing ") + what + " `" + w.name + "`";
      return false;
    }
    bool ok = contravariant ? is_subtype(store, w.desc, *h, s, why) : is_subtype(store, *h, w.desc, s, why);
    if (!ok) {
      why = std::string("type mismatch in ") + what + " `" + w.name + "`: " + why;
      return false;
    }
  }
  return true;
}

bool type_is_subtype(TypeStore& store, const Type* sub, const Type* super, Substitution& s, std::string& why) {
  if (sub->kind != super->kind) {
    why = std::string("expected ") + to_string(super->kind) + ", found " + to_string(sub->kind);
    return false;
  }
  if (super->kind == TypeKind::Instance)
    return externs_match(store, sub->exports, super->exports, s, why, false, "export");
  if (super->kind == TypeKind::Component) {
    // Imports are contravariant: every import of `sub` must be satisfiable
    // by what `super` imports.
    return externs_match(store, super->imports, sub->imports, s, why, true, "import") &&
           externs_match(store, sub->exports, super->exports, s, why, false, "export");
  }
  if (substitute(store, sub, s) == substitute(store, super, s)) return true;
  why = "expected `" + to_string(super) + "`, found `" + to_string(sub) + "`";
  return false;
}

}  // namespace

bool is_subtype(TypeStore& store, const ExternDesc& sub, const ExternDesc& super, Substitution& s,
                std::string& why) {
  if (sub.kind != super.kind) {
    why = std::string("expected ") + to_string(super.kind) + ", found " + to_string(sub.kind);
    return false;
  }
  if (sub.kind == ExternKind::CoreModule) return module_is_subtype(*sub.module, *super.module, why);
  if (sub.kind == ExternKind::Type && super.type->kind == TypeKind::Resource && super.type->abstract &&
      !s.count(super.type)) {
    // `(sub resource)`: any resource will do, and stands for it from now on.
    if (sub.type->kind != TypeKind::Resource) {
      why = "expected resource, found " + std::string(to_string(sub.type->kind));
      return false;
    }
    s[super.type] = sub.type;
    return true;
  }
  return type_is_subtype(store, sub.type, super.type, s, why);
}

std::string to_string(const Type* t) {
  if (!t) return "_";
  // Deep types print their outline only: messages stay short.
  if (t->depth > 4 && !is_primitive(t->kind)) return std::string(to_string(t->kind)) + "<...>";
  auto join = [](const std::vector<std::string>& parts) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
    return out;
  };
  std::vector<std::string> parts;
  switch (t->kind) {
    case TypeKind::Record:
    case TypeKind::Variant:
      for (const Field& f : t->fields) parts.push_back(f.type ? f.label + ": " + to_string(f.type) : f.label);
      return std::string(to_string(t->kind)) + " { " + join(parts) + " }";
    case TypeKind::Flags:
    case TypeKind::Enum:
      return std::string(to_string(t->kind)) + " { " + join(t->labels) + " }";
    case TypeKind::List:
      return "list<" + to_string(t->a) + (t->length ? ", " + std::to_string(t->length) : "") + ">";
    case TypeKind::Tuple:
      for (const Type* e : t->elems) parts.push_back(to_string(e));
      return "tuple<" + join(parts) + ">";
    case TypeKind::Option:
      return "option<" + to_string(t->a) + ">";
    case TypeKind::Result:
      return "result<" + to_string(t->a) + ", " + to_string(t->b) + ">";
    case TypeKind::Own:
    case TypeKind::Borrow:
      return std::string(to_string(t->kind)) + "<resource#" + std::to_string(t->a->id) + ">";
    case TypeKind::Stream:
    case TypeKind::Future:
      return t->a ? std::string(to_string(t->kind)) + "<" + to_string(t->a) + ">" : to_string(t->kind);
    case TypeKind::Map:
      return "map<" + to_string(t->a) + ", " + to_string(t->b) + ">";
    case TypeKind::Func:
      for (const Field& f : t->fields) parts.push_back(f.label + ": " + to_string(f.type));
      return std::string(t->async ? "async " : "") + "func(" + join(parts) + ")" +
             (t->a ? " -> " + to_string(t->a) : "");
    case TypeKind::Resource:
      return "resource#" + std::to_string(t->id);
    case TypeKind::Component:
    case TypeKind::Instance:
      for (const NamedExtern& e : t->exports) parts.push_back(e.name);
      return std::string(to_string(t->kind)) + " { " + join(parts) + " }";
    default:
      return to_string(t->kind);
  }
}

}  // namespace weft::component
