#include "component/validator.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "base/error.h"
#include "component/names.h"
#include "wasm/validator.h"

namespace weft::component {

namespace {

using wasm::ValType;

constexpr size_t kMaxFlatParams = 16;
constexpr size_t kMaxFlatAsyncParams = 4;
constexpr size_t kMaxFlatResults = 1;

// A core type: a function type or a module type.
struct CoreTypeEntry {
  bool is_module = false;
  wasm::FuncType func;
  std::shared_ptr<const CoreModuleType> module;
};

enum class ScopeKind : uint8_t { Component, ComponentType, InstanceType };

// One component definition or component/instance type being validated:
// its index spaces, in definition order.
struct Scope {
  Scope* parent = nullptr;
  ScopeKind kind = ScopeKind::Component;

  std::vector<wasm::FuncType> core_funcs;
  std::vector<wasm::TableType> core_tables;
  std::vector<wasm::MemoryType> core_memories;
  std::vector<wasm::GlobalType> core_globals;
  std::vector<wasm::FuncType> core_tags;
  std::vector<CoreTypeEntry> core_types;
  std::vector<std::shared_ptr<const CoreModuleType>> core_modules;
  std::vector<std::shared_ptr<const CoreInstanceType>> core_instances;
  std::vector<const Type*> funcs, values, types, components, instances;

  std::vector<NamedExtern> imports, exports;
  std::unordered_set<std::string> import_keys, export_keys;
  // Resources defined here (resource.new/rep need one of these).
  std::unordered_set<const Type*> defined_resources;
  // Resource types by the import (or export) name that introduced them, for
  // the `[method]R.f` rules: imports may only use imported names.
  std::unordered_map<std::string, const Type*> import_resources, export_resources;
  // Named types (records, variants, enums, flags, resources) that imports,
  // respectively exports, may refer to: those introduced by a preceding
  // type import (or export). See named_ok.
  std::unordered_set<const Type*> import_named, export_named;
  // Resources and named types introduced by exports, mapped to the types
  // they export.
  Substitution export_aliases;
};

[[noreturn]] void invalid(size_t at, std::string message) { throw_invalid(at, std::move(message)); }

CoreExtern core_func(wasm::FuncType t) {
  CoreExtern e;
  e.kind = wasm::ExternKind::Func;
  e.func = std::move(t);
  return e;
}

ValType join(ValType a, ValType b) {
  if (a == b) return a;
  if ((a == ValType::I32 && b == ValType::F32) || (a == ValType::F32 && b == ValType::I32)) return ValType::I32;
  return ValType::I64;
}

// CanonicalABI.md flatten_type; only called on types whose flat_count is
// small, so the work is bounded.
void flatten(const Type* t, std::vector<ValType>& out) {
  switch (t->kind) {
    case TypeKind::S64:
    case TypeKind::U64: out.push_back(ValType::I64); return;
    case TypeKind::F32: out.push_back(ValType::F32); return;
    case TypeKind::F64: out.push_back(ValType::F64); return;
    case TypeKind::String:
    case TypeKind::Map: out.insert(out.end(), {ValType::I32, ValType::I32}); return;
    case TypeKind::List:
      if (!t->length) {
        out.insert(out.end(), {ValType::I32, ValType::I32});
      } else {
        for (uint32_t i = 0; i < t->length; ++i) flatten(t->a, out);
      }
      return;
    case TypeKind::Record:
      for (const Field& f : t->fields) flatten(f.type, out);
      return;
    case TypeKind::Tuple:
      for (const Type* e : t->elems) flatten(e, out);
      return;
    case TypeKind::Variant:
    case TypeKind::Option:
    case TypeKind::Result: {
      std::vector<const Type*> cases;
      if (t->kind == TypeKind::Variant) {
        for (const Field& f : t->fields) cases.push_back(f.type);
      } else if (t->kind == TypeKind::Option) {
        cases = {nullptr, t->a};
      } else {
        cases = {t->a, t->b};
      }
      std::vector<ValType> joined;
      for (const Type* c : cases) {
        if (!c) continue;
        std::vector<ValType> flat;
        flatten(c, flat);
        for (size_t i = 0; i < flat.size(); ++i) {
          if (i < joined.size()) joined[i] = join(joined[i], flat[i]);
          else joined.push_back(flat[i]);
        }
      }
      out.push_back(ValType::I32);
      out.insert(out.end(), joined.begin(), joined.end());
      return;
    }
    default: out.push_back(ValType::I32); return;
  }
}

std::vector<ValType> flatten_all(const std::vector<const Type*>& ts) {
  std::vector<ValType> out;
  for (const Type* t : ts) flatten(t, out);
  return out;
}

}  // namespace

wasm::FuncType flatten_functype(const Type* ft, bool lift, bool async, bool callback) {
  std::vector<const Type*> params;
  for (const Field& f : ft->fields) params.push_back(f.type);
  std::vector<const Type*> results;
  if (ft->a) results.push_back(ft->a);
  // Flattened, or a single pointer when there are more than `limit` values.
  auto flat = [](const std::vector<const Type*>& ts, size_t limit, bool& spilled) {
    uint32_t n = 0;
    for (const Type* t : ts) n = std::min(n + t->flat_count, kFlatSaturate);
    spilled = n > limit;
    return spilled ? std::vector<ValType>{ValType::I32} : flatten_all(ts);
  };
  bool spilled = false;
  wasm::FuncType out;
  if (!async) {
    out.params = flat(params, kMaxFlatParams, spilled);
    out.results = flat(results, kMaxFlatResults, spilled);
    if (spilled && !lift) {
      out.params.push_back(ValType::I32);
      out.results.clear();
    }
    return out;
  }
  if (lift) {
    out.params = flat(params, kMaxFlatParams, spilled);
    if (callback) out.results = {ValType::I32};
    return out;
  }
  out.params = flat(params, kMaxFlatAsyncParams, spilled);
  if (!results.empty()) out.params.push_back(ValType::I32);
  out.results = {ValType::I32};
  return out;
}

namespace {

class Validator {
 public:
  Validator(TypeStore& store, bool all_bodies) : store_(store), all_bodies_(all_bodies) {}

  const Type* component(const Component& c, Scope& sc) {
    for (const Definition& d : c.definitions) std::visit([&](const auto& def) { define(sc, def); }, d);
    Type t{TypeKind::Component};
    t.imports = sc.imports;
    // Outside, an exported resource is the resource itself: two exports of
    // one resource stay equal.
    for (const NamedExtern& e : sc.exports) t.exports.push_back({e.name, substitute(store_, e.desc, sc.export_aliases)});
    return intern(std::move(t), 0);
  }

 private:
  // ---- core modules, instances and types ----

  static CoreExtern module_extern(const wasm::Module& m, wasm::ExternKind kind, uint32_t index) {
    CoreExtern e;
    e.kind = kind;
    switch (kind) {
      case wasm::ExternKind::Func: e.func = m.func_type(index); break;
      case wasm::ExternKind::Table: e.table = m.tables[index]; break;
      case wasm::ExternKind::Memory: e.memory = m.memories[index]; break;
      case wasm::ExternKind::Global: e.global = m.globals[index].type; break;
      case wasm::ExternKind::Tag: e.func = m.types[m.tags[index].type_index]; break;
    }
    return e;
  }

  void define(Scope& sc, const CoreModuleDef& def) {
    const wasm::Module& m = *def.module;
    try {
      wasm::validate(m, all_bodies_);
    } catch (const Error& e) {
      throw Error(e.kind(), e.what(), e.offset() == Error::npos ? def.offset : def.offset + e.offset());
    }
    auto t = std::make_shared<CoreModuleType>();
    std::unordered_set<std::string> import_names;
    for (const wasm::Import& im : m.imports) {
      // Two-level names mangle to one (`module:name`) at the component level.
      if (!import_names.insert(im.module + ":" + im.name).second)
        invalid(def.offset, "duplicate import name `" + im.module + ":" + im.name + "`");
      CoreExtern e;
      e.kind = im.kind;
      switch (im.kind) {
        case wasm::ExternKind::Func: e.func = m.types[im.func_type]; break;
        case wasm::ExternKind::Table: e.table = im.table; break;
        case wasm::ExternKind::Memory: e.memory = im.memory; break;
        case wasm::ExternKind::Global: e.global = im.global; break;
        case wasm::ExternKind::Tag: e.func = m.types[im.tag.type_index]; break;
      }
      t->imports.push_back({im.module, im.name, e});
    }
    for (const wasm::Export& ex : m.exports) t->exports.emplace_back(ex.name, module_extern(m, ex.kind, ex.index));
    sc.core_modules.push_back(std::move(t));
  }

  CoreExtern core_item(Scope& sc, SortIdx item, size_t at) {
    auto check = [&](size_t size) {
      if (item.index >= size)
        invalid(at, std::string("unknown ") + to_string(item.sort) + " " + std::to_string(item.index) +
                        ": index out of bounds");
    };
    CoreExtern e;
    switch (item.sort) {
      case Sort::CoreFunc: check(sc.core_funcs.size()); return core_func(sc.core_funcs[item.index]);
      case Sort::CoreTable:
        check(sc.core_tables.size());
        e.kind = wasm::ExternKind::Table, e.table = sc.core_tables[item.index];
        return e;
      case Sort::CoreMemory:
        check(sc.core_memories.size());
        e.kind = wasm::ExternKind::Memory, e.memory = sc.core_memories[item.index];
        return e;
      case Sort::CoreGlobal:
        check(sc.core_globals.size());
        e.kind = wasm::ExternKind::Global, e.global = sc.core_globals[item.index];
        return e;
      case Sort::CoreTag:
        check(sc.core_tags.size());
        e.kind = wasm::ExternKind::Tag, e.func = sc.core_tags[item.index];
        return e;
      default: invalid(at, std::string("a core instance cannot export a ") + to_string(item.sort));
    }
  }

  void define(Scope& sc, const CoreInstanceDef& def) {
    auto t = std::make_shared<CoreInstanceType>();
    if (def.instantiate) {
      if (def.module >= sc.core_modules.size())
        invalid(def.offset, "unknown module " + std::to_string(def.module) + ": module index out of bounds");
      std::unordered_map<std::string, const CoreInstanceType*> args;
      for (const auto& [name, index] : def.args) {
        if (index >= sc.core_instances.size())
          invalid(def.offset, "unknown core instance " + std::to_string(index) + ": instance index out of bounds");
        if (!args.emplace(name, sc.core_instances[index].get()).second)
          invalid(def.offset, "duplicate module instantiation argument named `" + name + "`");
      }
      const CoreModuleType& m = *sc.core_modules[def.module];
      for (const auto& im : m.imports) {
        auto it = args.find(im.module);
        if (it == args.end()) invalid(def.offset, "missing module instantiation argument named `" + im.module + "`");
        const CoreExtern* e = it->second->find(im.name);
        if (!e)
          invalid(def.offset, "module instantiation argument `" + im.module + "` does not export an item named `" +
                                  im.name + "`");
        if (!core_is_subtype(*e, im.type))
          invalid(def.offset, "type mismatch for export `" + im.name + "` of module instantiation argument `" +
                                  im.module + "`: expected " + to_string(im.type) + ", found " + to_string(*e));
      }
      t->exports = m.exports;
    } else {
      std::unordered_set<std::string> names;
      for (const auto& [name, item] : def.exports) {
        if (!names.insert(name).second) invalid(def.offset, "export name `" + name + "` already defined");
        t->exports.emplace_back(name, core_item(sc, item, def.offset));
      }
    }
    sc.core_instances.push_back(std::move(t));
  }

  static void check_limits(const wasm::Limits& l, uint64_t max, const char* message, size_t at) {
    if (l.min > max || (l.max && *l.max > max)) invalid(at, message);
    if (l.max && *l.max < l.min) invalid(at, "size minimum must not be greater than maximum");
    if (l.shared && !l.max) invalid(at, "shared memory must have maximum size");
  }

  // A module type is validated with an initially empty core type space;
  // outer aliases reach the enclosing scopes' core types.
  std::shared_ptr<const CoreModuleType> module_type(Scope& sc, const CoreTypeDef& def) {
    auto t = std::make_shared<CoreModuleType>();
    std::vector<wasm::FuncType> types;
    std::unordered_set<std::string> export_names, import_names;
    auto func_type = [&](uint32_t index, size_t at) -> const wasm::FuncType& {
      if (index >= types.size()) invalid(at, "type index out of bounds");
      return types[index];
    };
    auto resolve = [&](const CoreExternDecl& d, size_t at) {
      CoreExtern e;
      e.kind = d.kind;
      e.table = d.table;
      e.memory = d.memory;
      e.global = d.global;
      if (d.kind == wasm::ExternKind::Func || d.kind == wasm::ExternKind::Tag) e.func = func_type(d.type_index, at);
      if (d.kind == wasm::ExternKind::Memory) check_limits(d.memory.limits, d.memory.limits.is64 ? wasm::kMaxPages64 : wasm::kMaxPages32, "memory size must be at most 65536 pages (4GiB)", at);
      if (d.kind == wasm::ExternKind::Table) check_limits(d.table.limits, d.table.limits.is64 ? ~uint64_t{0} : 0xffffffff, "table size must be at most 2^32 - 1", at);
      return e;
    };
    for (const CoreModuleDecl& d : def.decls) {
      switch (d.kind) {
        case CoreModuleDecl::Kind::Import:
          if (!import_names.insert(d.module + ":" + d.name).second)
            invalid(d.offset, "duplicate import name `" + d.module + ":" + d.name + "`");
          t->imports.push_back({d.module, d.name, resolve(d.desc, d.offset)});
          break;
        case CoreModuleDecl::Kind::Export:
          if (!export_names.insert(d.name).second) invalid(d.offset, "duplicate export name `" + d.name + "`");
          t->exports.emplace_back(d.name, resolve(d.desc, d.offset));
          break;
        case CoreModuleDecl::Kind::Type:
          types.push_back(d.type->func);
          break;
        case CoreModuleDecl::Kind::Alias: {
          if (d.outer_count == 0) {
            if (d.outer_index >= types.size()) invalid(d.offset, "type index out of bounds");
            types.push_back(types[d.outer_index]);
            break;
          }
          Scope* target = &sc;
          for (uint32_t i = 1; i < d.outer_count; ++i) {
            target = target->parent;
            if (!target) invalid(d.offset, "invalid outer alias count of " + std::to_string(d.outer_count));
          }
          if (d.outer_index >= target->core_types.size()) invalid(d.offset, "type index out of bounds");
          const CoreTypeEntry& e = target->core_types[d.outer_index];
          if (e.is_module) invalid(d.offset, "a module type cannot refer to a module type");
          types.push_back(e.func);
          break;
        }
      }
    }
    return t;
  }

  void define(Scope& sc, const std::shared_ptr<CoreTypeDef>& def) {
    CoreTypeEntry e;
    e.is_module = def->is_module;
    if (def->is_module) e.module = module_type(sc, *def);
    else e.func = def->func;
    sc.core_types.push_back(std::move(e));
  }

  // ---- nested components and instances ----

  void define(Scope& sc, const NestedComponent& def) {
    Scope inner;
    inner.parent = &sc;
    sc.components.push_back(component(*def.component, inner));
  }

  // Gives every resource that `exports` introduce with `(sub resource)` (or,
  // with `all`, any resource they export), and that `s` does not already
  // bind, a fresh identity: each instantiation or import of a type makes its
  // own resources.
  void freshen(const std::vector<NamedExtern>& exports, Substitution& s, bool all) {
    for (const NamedExtern& e : exports) {
      if (!e.desc.type) continue;
      if (e.desc.kind == ExternKind::Type && e.desc.type->kind == TypeKind::Resource &&
          (e.desc.type->abstract || all) && !s.count(e.desc.type))
        s[e.desc.type] = store_.fresh_resource(ValType::I32, std::nullopt, true);
      if (e.desc.kind == ExternKind::Instance) freshen(e.desc.type->exports, s, all);
    }
  }

  ExternDesc fresh_desc(const ExternDesc& d) {
    if (d.kind != ExternKind::Instance) return d;
    Substitution s;
    freshen(d.type->exports, s, false);
    return substitute(store_, d, s);
  }

  ExternDesc item_desc(Scope& sc, SortIdx item, size_t at) {
    auto get = [&](const std::vector<const Type*>& space) {
      if (item.index >= space.size())
        invalid(at, std::string("unknown ") + to_string(item.sort) + " " + std::to_string(item.index) +
                        ": index out of bounds");
      return space[item.index];
    };
    switch (item.sort) {
      case Sort::Func: return {ExternKind::Func, get(sc.funcs), nullptr};
      case Sort::Value: return {ExternKind::Value, get(sc.values), nullptr};
      case Sort::Type: return {ExternKind::Type, get(sc.types), nullptr};
      case Sort::Component: return {ExternKind::Component, get(sc.components), nullptr};
      case Sort::Instance: return {ExternKind::Instance, get(sc.instances), nullptr};
      case Sort::CoreModule:
        if (item.index >= sc.core_modules.size())
          invalid(at, "unknown module " + std::to_string(item.index) + ": index out of bounds");
        return {ExternKind::CoreModule, nullptr, sc.core_modules[item.index]};
      default: invalid(at, std::string("a ") + to_string(item.sort) + " cannot be an import or export of a component");
    }
  }

  void push(Scope& sc, const ExternDesc& d) {
    switch (d.kind) {
      case ExternKind::CoreModule: sc.core_modules.push_back(d.module); break;
      case ExternKind::Func: sc.funcs.push_back(d.type); break;
      case ExternKind::Value: sc.values.push_back(d.type); break;
      case ExternKind::Type: sc.types.push_back(d.type); break;
      case ExternKind::Component: sc.components.push_back(d.type); break;
      case ExternKind::Instance: sc.instances.push_back(d.type); break;
    }
  }

  void define(Scope& sc, const InstanceDef& def) {
    Type t{TypeKind::Instance};
    if (def.instantiate) {
      if (def.component >= sc.components.size())
        invalid(def.offset, "unknown component " + std::to_string(def.component) + ": index out of bounds");
      const Type* c = sc.components[def.component];
      std::unordered_map<std::string, ExternDesc> args;
      for (const auto& [name, item] : def.args) {
        if (!args.emplace(name, item_desc(sc, item, def.offset)).second)
          invalid(def.offset, "instantiation argument `" + name + "` conflicts with previous argument");
      }
      Substitution s;
      for (const NamedExtern& im : c->imports) {
        auto it = args.find(im.name);
        if (it == args.end()) invalid(def.offset, "missing import named `" + im.name + "`");
        std::string why;
        if (!is_subtype(store_, it->second, im.desc, s, why))
          invalid(def.offset, "type mismatch for component instantiation argument `" + im.name + "`: " + why);
      }
      freshen(c->exports, s, true);
      for (const NamedExtern& ex : c->exports) t.exports.push_back({ex.name, substitute(store_, ex.desc, s)});
    } else {
      std::unordered_set<std::string> keys;
      for (const auto& [name, item] : def.exports) {
        check_name(name, def.offset, "export");
        if (!keys.insert(uniqueness_key(name.name)).second)
          invalid(def.offset, "export name `" + name.name + "` conflicts with previous name");
        t.exports.push_back({name.name, item_desc(sc, item, def.offset)});
      }
    }
    sc.instances.push_back(intern(std::move(t), def.offset));
  }

  // ---- aliases ----

  void alias(Scope& sc, const AliasDef& a) {
    switch (a.target) {
      case AliasDef::Target::Export: {
        if (a.instance >= sc.instances.size())
          invalid(a.offset, "unknown instance " + std::to_string(a.instance) + ": instance index out of bounds");
        const ExternDesc* d = sc.instances[a.instance]->find_export(a.name);
        if (!d) invalid(a.offset, "instance " + std::to_string(a.instance) + " has no export named `" + a.name + "`");
        static const Sort sorts[] = {Sort::CoreModule, Sort::Func, Sort::Value, Sort::Type, Sort::Component,
                                     Sort::Instance};
        if (sorts[static_cast<size_t>(d->kind)] != a.sort)
          invalid(a.offset, "export `" + a.name + "` for instance " + std::to_string(a.instance) + " is not a " +
                                to_string(a.sort));
        push(sc, *d);
        return;
      }
      case AliasDef::Target::CoreExport: {
        if (a.instance >= sc.core_instances.size())
          invalid(a.offset, "unknown core instance " + std::to_string(a.instance) + ": instance index out of bounds");
        const CoreExtern* e = sc.core_instances[a.instance]->find(a.name);
        if (!e)
          invalid(a.offset, "core instance " + std::to_string(a.instance) + " has no export named `" + a.name + "`");
        static const Sort sorts[] = {Sort::CoreFunc, Sort::CoreTable, Sort::CoreMemory, Sort::CoreGlobal,
                                     Sort::CoreTag};
        if (sorts[static_cast<size_t>(e->kind)] != a.sort)
          invalid(a.offset, "export `" + a.name + "` for core instance " + std::to_string(a.instance) +
                                " is not a " + to_string(a.sort));
        switch (e->kind) {
          case wasm::ExternKind::Func: sc.core_funcs.push_back(e->func); break;
          case wasm::ExternKind::Table: sc.core_tables.push_back(e->table); break;
          case wasm::ExternKind::Memory: sc.core_memories.push_back(e->memory); break;
          case wasm::ExternKind::Global: sc.core_globals.push_back(e->global); break;
          case wasm::ExternKind::Tag: sc.core_tags.push_back(e->func); break;
        }
        return;
      }
      case AliasDef::Target::Outer: {
        Scope* target = &sc;
        bool crosses_component = false;
        for (uint32_t i = 0; i < a.instance; ++i) {
          crosses_component |= target->kind == ScopeKind::Component;
          target = target->parent;
          if (!target) invalid(a.offset, "invalid outer alias count of " + std::to_string(a.instance));
        }
        auto bounds = [&](size_t size) {
          if (a.index >= size)
            invalid(a.offset, std::string("unknown ") + to_string(a.sort) + " " + std::to_string(a.index) +
                                  ": index out of bounds");
        };
        switch (a.sort) {
          case Sort::CoreType:
            bounds(target->core_types.size());
            sc.core_types.push_back(target->core_types[a.index]);
            return;
          case Sort::CoreModule:
            bounds(target->core_modules.size());
            sc.core_modules.push_back(target->core_modules[a.index]);
            return;
          case Sort::Component:
            bounds(target->components.size());
            sc.components.push_back(target->components[a.index]);
            return;
          case Sort::Type: {
            bounds(target->types.size());
            const Type* t = target->types[a.index];
            if (crosses_component) {
              std::vector<const Type*> resources;
              collect_resources(t, resources);
              if (!resources.empty())
                invalid(a.offset, "refers to resources not defined in the current component");
            }
            sc.types.push_back(t);
            return;
          }
          default: invalid(a.offset, std::string("cannot alias outer ") + to_string(a.sort));
        }
      }
    }
  }

  void define(Scope& sc, const AliasDef& a) { alias(sc, a); }

  // ---- types ----

  const Type* type_at(Scope& sc, uint32_t index, size_t at) {
    if (index >= sc.types.size()) invalid(at, "type index out of bounds");
    return sc.types[index];
  }

  const Type* valtype(Scope& sc, const ValTypeRef& r, size_t at) {
    if (!r.index) return store_.primitive(r.primitive);
    const Type* t = type_at(sc, *r.index, at);
    if (!is_value(t->kind)) invalid(at, "type index " + std::to_string(*r.index) + " is not a defined type");
    return t;
  }

  const Type* opt_valtype(Scope& sc, const std::optional<ValTypeRef>& r, size_t at) {
    return r ? valtype(sc, *r, at) : nullptr;
  }

  void check_labels(const std::vector<Labeled>& members, size_t at, const char* what) {
    std::unordered_set<std::string> keys;
    for (const Labeled& m : members) {
      if (!is_label(m.label)) invalid(at, what + std::string(" name `") + m.label + "` is not in kebab case");
      if (!keys.insert(uniqueness_key(m.label)).second)
        invalid(at, what + std::string(" name `") + m.label + "` conflicts with previous name");
    }
  }

  const Type* deftype(Scope& sc, const TypeDef& d) {
    size_t at = d.offset;
    Type t{d.kind};
    auto nonempty = [&](size_t n, const char* message) {
      if (n == 0) invalid(at, message);
    };
    switch (d.kind) {
      case TypeKind::Record:
      case TypeKind::Variant:
        if (d.kind == TypeKind::Record) nonempty(d.members.size(), "record type must have at least one field");
        else nonempty(d.members.size(), "variant type must have at least one case");
        check_labels(d.members, at, d.kind == TypeKind::Record ? "record field" : "variant case");
        for (const Labeled& m : d.members) t.fields.push_back({m.label, opt_valtype(sc, m.type, at)});
        break;
      case TypeKind::Flags:
      case TypeKind::Enum:
        if (d.kind == TypeKind::Flags) {
          nonempty(d.members.size(), "flags must have at least one entry");
          if (d.members.size() > 32) invalid(at, "cannot have more than 32 flags");
        } else {
          nonempty(d.members.size(), "enum type must have at least one variant");
        }
        check_labels(d.members, at, d.kind == TypeKind::Flags ? "flag" : "enum tag");
        for (const Labeled& m : d.members) t.labels.push_back(m.label);
        break;
      case TypeKind::Tuple:
        nonempty(d.elems.size(), "tuple type must have at least one type");
        for (const ValTypeRef& e : d.elems) t.elems.push_back(valtype(sc, e, at));
        break;
      case TypeKind::List:
        t.a = valtype(sc, *d.a, at);
        t.length = d.length;
        break;
      case TypeKind::Option:
        t.a = valtype(sc, *d.a, at);
        break;
      case TypeKind::Result:
        t.a = opt_valtype(sc, d.a, at);
        t.b = opt_valtype(sc, d.b, at);
        break;
      case TypeKind::Map:
        t.a = valtype(sc, *d.a, at);
        t.b = valtype(sc, *d.b, at);
        break;
      case TypeKind::Own:
      case TypeKind::Borrow: {
        const Type* r = type_at(sc, *d.handle, at);
        if (r->kind != TypeKind::Resource)
          invalid(at, "type index " + std::to_string(*d.handle) + " is not a resource type");
        t.a = r;
        break;
      }
      case TypeKind::Stream:
      case TypeKind::Future:
        t.a = opt_valtype(sc, d.a, at);
        if (t.a && t.a->has_borrow) invalid(at, std::string(to_string(d.kind)) + " element type may not contain a borrow");
        if (d.kind == TypeKind::Stream && t.a && t.a->kind == TypeKind::Char)
          invalid(at, "`stream<char>` is not valid at this time");
        break;
      case TypeKind::Func: {
        check_labels(d.members, at, "function parameter");
        for (const Labeled& m : d.members) t.fields.push_back({m.label, valtype(sc, *m.type, at)});
        t.a = opt_valtype(sc, d.a, at);
        t.async = d.async;
        if (t.a && t.a->has_borrow) invalid(at, "function result cannot contain a `borrow` type");
        break;
      }
      case TypeKind::Resource: {
        if (sc.kind != ScopeKind::Component) invalid(at, "resources can only be defined within a concrete component");
        if (d.rep != ValType::I32) invalid(at, "resources can only be represented by `i32`");
        if (d.dtor) {
          if (*d.dtor >= sc.core_funcs.size()) invalid(at, "unknown core func " + std::to_string(*d.dtor));
          if (!(sc.core_funcs[*d.dtor] == wasm::FuncType{{ValType::I32}, {}}))
            invalid(at, "wrong signature for a destructor");
        }
        const Type* r = store_.fresh_resource(d.rep, d.dtor, false);
        sc.defined_resources.insert(r);
        return r;
      }
      case TypeKind::Component:
      case TypeKind::Instance:
        return decls_type(sc, d);
      default:
        return store_.primitive(d.kind);
    }
    return intern(std::move(t), at);
  }

  const Type* decls_type(Scope& sc, const TypeDef& d) {
    Scope inner;
    inner.parent = &sc;
    inner.kind = d.kind == TypeKind::Component ? ScopeKind::ComponentType : ScopeKind::InstanceType;
    for (const Decl& decl : d.decls) {
      switch (decl.kind) {
        case Decl::Kind::CoreType: define(inner, decl.core_type); break;
        case Decl::Kind::Type: inner.types.push_back(deftype(inner, *decl.type)); break;
        case Decl::Kind::Alias:
          if (decl.alias.target == AliasDef::Target::CoreExport ||
              (decl.alias.sort != Sort::Type && decl.alias.sort != Sort::CoreType && decl.alias.sort != Sort::Instance))
            invalid(decl.offset, "aliases in a type declaration may only refer to types or instances");
          alias(inner, decl.alias);
          break;
        case Decl::Kind::Import: import(inner, decl.name, decl.desc, decl.offset); break;
        case Decl::Kind::Export: {
          ExternDesc desc = extern_desc(inner, decl.desc, decl.offset);
          add_export(inner, decl.name, desc, decl.offset);
          break;
        }
      }
    }
    Type t{d.kind};
    t.imports = std::move(inner.imports);
    t.exports = std::move(inner.exports);
    return intern(std::move(t), d.offset);
  }

  void define(Scope& sc, const std::shared_ptr<TypeDef>& def) { sc.types.push_back(deftype(sc, *def)); }

  const Type* intern(Type t, size_t at) {
    const Type* p = store_.intern(std::move(t));
    if (p->depth > kMaxTypeDepth) invalid(at, "type nesting is too deep");
    return p;
  }

  // ---- imports and exports ----

  ExternDesc extern_desc(Scope& sc, const ExternTypeRef& r, size_t at) {
    auto typed = [&](TypeKind want, ExternKind kind) -> ExternDesc {
      const Type* t = type_at(sc, r.index, at);
      if (t->kind != want)
        invalid(at, "type index " + std::to_string(r.index) + " is not a " + to_string(want) + " type");
      return {kind, t, nullptr};
    };
    switch (r.kind) {
      case ExternKind::CoreModule:
        if (r.index >= sc.core_types.size() || !sc.core_types[r.index].is_module)
          invalid(at, "core type index " + std::to_string(r.index) + " is not a module type");
        return {ExternKind::CoreModule, nullptr, sc.core_types[r.index].module};
      case ExternKind::Func: return typed(TypeKind::Func, ExternKind::Func);
      case ExternKind::Component: return typed(TypeKind::Component, ExternKind::Component);
      case ExternKind::Instance: return fresh_desc(typed(TypeKind::Instance, ExternKind::Instance));
      case ExternKind::Value:
        return {ExternKind::Value, r.value ? valtype(sc, *r.value, at) : type_at(sc, r.index, at), nullptr};
      case ExternKind::Type:
        if (r.sub_resource) return {ExternKind::Type, store_.fresh_resource(ValType::I32, std::nullopt, true), nullptr};
        return {ExternKind::Type, type_at(sc, r.index, at), nullptr};
    }
    invalid(at, "bad extern type");
  }

  void check_name(const ExternName& n, size_t at, const char* what) {
    auto parts = parse_extern_name(n.name);
    if (!parts) invalid(at, "`" + n.name + "` is not a valid extern name");
    if (n.implements) {
      auto iface = parse_extern_name(*n.implements);
      if (!iface || iface->kind != ExternNameParts::Kind::Interface)
        invalid(at, "`" + *n.implements + "` is not a valid interface name");
      if (parts->kind != ExternNameParts::Kind::Label)
        invalid(at, std::string("an `implements` ") + what + " must have a plain name");
    }
  }

  // The rules for `[constructor]`, `[method]` and `[static]` names.
  void check_annotated(Scope& sc, const ExternName& n, const ExternDesc& d, bool is_import, size_t at) {
    auto parts = parse_extern_name(n.name);
    using K = ExternNameParts::Kind;
    auto& resources = is_import ? sc.import_resources : sc.export_resources;
    if (parts->kind == K::Label || parts->kind == K::Interface) {
      if (d.kind == ExternKind::Type && d.type->kind == TypeKind::Resource) resources[n.name] = d.type;
      if (n.implements && d.kind != ExternKind::Instance)
        invalid(at, "`implements` is only allowed on instances");
      return;
    }
    if (d.kind != ExternKind::Func) invalid(at, "`" + n.name + "` is not a function, but its name is annotated");
    auto it = resources.find(parts->resource);
    if (it == resources.end())
      invalid(at, "resource used in function does not have a name in this context: `" + parts->resource + "`");
    const Type* r = it->second;
    const Type* f = d.type;
    if (parts->kind == K::Constructor) {
      const Type* res = f->a;
      if (res && res->kind == TypeKind::Result) res = res->a;
      if (!res || res->kind != TypeKind::Own || res->a != r)
        invalid(at, "function does not match expected resource name `" + parts->resource + "`");
    } else if (parts->kind == K::Method) {
      if (f->fields.empty() || f->fields[0].label != "self" || f->fields[0].type->kind != TypeKind::Borrow ||
          f->fields[0].type->a != r)
        invalid(at, "function `" + n.name + "` should have a first parameter `self` of type `(borrow $" +
                        parts->resource + ")`");
    }
  }

  // Types a binding generator has to name (WIT's named types).
  static bool is_nominal(const Type* t) {
    switch (t->kind) {
      case TypeKind::Record:
      case TypeKind::Variant:
      case TypeKind::Enum:
      case TypeKind::Flags:
      case TypeKind::Resource: return true;
      default: return false;
    }
  }

  // External visibility: every named type an import or export refers to
  // must itself have been imported (or exported) by name before. `t` itself
  // may be anonymous when it is what a type import/export names.
  static bool named_ok(const Type* t, const std::unordered_set<const Type*>& named, bool top) {
    std::unordered_set<const Type*> checked;
    return named_ok(t, named, top, checked);
  }

  // `checked` holds anonymous types already found fine in this walk.
  static bool named_ok(const Type* t, const std::unordered_set<const Type*>& named, bool top,
                       std::unordered_set<const Type*>& checked) {
    if (!t) return true;
    if (!top && is_nominal(t)) return named.count(t) > 0;
    if (checked.count(t)) return true;
    switch (t->kind) {
      case TypeKind::Instance: {
        // Instance types name their own type exports, in order.
        std::unordered_set<const Type*> local = named;
        for (const NamedExtern& e : t->exports) {
          if (!named_ok(e.desc.type, local, e.desc.kind == ExternKind::Type)) return false;
          add_named(e.desc, local);
        }
        return true;
      }
      case TypeKind::Component: return true;  // checked where it was defined
      default: break;
    }
    for (const Field& f : t->fields)
      if (!named_ok(f.type, named, false, checked)) return false;
    for (const Type* e : t->elems)
      if (!named_ok(e, named, false, checked)) return false;
    if (!named_ok(t->a, named, false, checked) || !named_ok(t->b, named, false, checked)) return false;
    checked.insert(t);
    return true;
  }

  // A type import/export names its type; an instance names all the types
  // it exports, transitively.
  static void add_named(const ExternDesc& d, std::unordered_set<const Type*>& named) {
    if (d.kind == ExternKind::Type) named.insert(d.type);
    if (d.kind == ExternKind::Instance)
      for (const NamedExtern& e : d.type->exports) add_named(e.desc, named);
  }

  void check_visible(Scope& sc, const ExternDesc& d, bool is_import, const std::string& name, size_t at) {
    if (sc.kind == ScopeKind::InstanceType || !d.type) return;
    const auto& named = is_import ? sc.import_named : sc.export_named;
    if (!named_ok(d.type, named, d.kind != ExternKind::Value))
      invalid(at, std::string(to_string(d.kind)) + " not valid to be used as " + (is_import ? "import" : "export") +
                      " (`" + name + "` refers to a type that is not named by a preceding import or export)");
    if (is_import) add_named(d, sc.import_named);
    add_named(d, sc.export_named);
  }

  void import(Scope& sc, const ExternName& name, const ExternTypeRef& r, size_t at) {
    check_name(name, at, "import");
    ExternDesc d = extern_desc(sc, r, at);
    if (!sc.import_keys.insert(uniqueness_key(name.name)).second)
      invalid(at, "import name `" + name.name + "` conflicts with previous name");
    check_visible(sc, d, true, name.name, at);
    check_annotated(sc, name, d, true, at);
    sc.imports.push_back({name.name, d});
    push(sc, d);
  }

  void define(Scope& sc, const ImportDef& def) { import(sc, def.name, def.desc, def.offset); }

  void add_export(Scope& sc, const ExternName& name, const ExternDesc& d, size_t at) {
    check_name(name, at, "export");
    if (!sc.export_keys.insert(uniqueness_key(name.name)).second)
      invalid(at, "export name `" + name.name + "` conflicts with previous name");
    check_visible(sc, d, false, name.name, at);
    check_annotated(sc, name, d, false, at);
    sc.exports.push_back({name.name, d});
    push(sc, d);
  }

  void define(Scope& sc, const ExportDef& def) {
    ExternDesc d = item_desc(sc, def.item, def.offset);
    if (def.desc) {
      ExternDesc ascribed = extern_desc(sc, *def.desc, def.offset);
      // Types written against earlier resource exports mean the resources.
      Substitution s = sc.export_aliases;
      std::string why;
      if (!is_subtype(store_, d, ascribed, s, why))
        invalid(def.offset, "type mismatch in export `" + def.name.name + "`: " + why);
      if (!(ascribed.kind == ExternKind::Type && def.desc->sub_resource)) d = ascribed;
    }
    if (sc.kind == ScopeKind::Component && d.kind == ExternKind::Type && is_nominal(d.type) &&
        d.type->kind != TypeKind::Resource) {
      // Likewise, an exported record/variant/enum/flags is a named copy.
      auto root = sc.export_aliases.find(d.type);
      const Type* copy = store_.nominal_copy(d.type);
      sc.export_aliases[copy] = root == sc.export_aliases.end() ? d.type : root->second;
      d.type = copy;
    }
    if (sc.kind == ScopeKind::Component && d.kind == ExternKind::Type && d.type->kind == TypeKind::Resource) {
      // An exported resource is a new type to the outside, distinct from the
      // definition it exports (types still using that are not exportable).
      auto root = sc.export_aliases.find(d.type);
      const Type* r = store_.fresh_resource(d.type->rep, d.type->dtor, false);
      // Ascribed `(sub resource)`, it is a resource of its own outside.
      if (!(def.desc && def.desc->sub_resource))
        sc.export_aliases[r] = root == sc.export_aliases.end() ? d.type : root->second;
      if (sc.defined_resources.count(d.type)) sc.defined_resources.insert(r);
      d.type = r;
    }
    add_export(sc, def.name, d, def.offset);
  }

  // ---- canon ----

  const wasm::FuncType& core_func_at(Scope& sc, uint32_t index, size_t at) {
    if (index >= sc.core_funcs.size())
      invalid(at, "unknown core func " + std::to_string(index) + ": func index out of bounds");
    return sc.core_funcs[index];
  }

  const Type* resource_at(Scope& sc, uint32_t index, size_t at, bool local) {
    const Type* t = type_at(sc, index, at);
    if (t->kind != TypeKind::Resource) invalid(at, "type index " + std::to_string(index) + " is not a resource type");
    if (local && !sc.defined_resources.count(t))
      invalid(at, "type index " + std::to_string(index) + " is not a local resource");
    return t;
  }

  const Type* stream_or_future(Scope& sc, const Canon& c, TypeKind want) {
    const Type* t = type_at(sc, c.type, c.offset);
    if (t->kind != want)
      invalid(c.offset, "`" + std::string(to_string(c.kind)) + "` requires a " + to_string(want) + " type");
    return t;
  }

  void check_memory(Scope& sc, const CanonOpts& o, size_t at) {
    if (o.memory && *o.memory >= sc.core_memories.size())
      invalid(at, "unknown memory " + std::to_string(*o.memory) + ": memory index out of bounds");
  }

  void check_realloc(Scope& sc, const CanonOpts& o, size_t at) {
    if (o.realloc && !(core_func_at(sc, *o.realloc, at) ==
                       wasm::FuncType{{ValType::I32, ValType::I32, ValType::I32, ValType::I32}, {ValType::I32}}))
      invalid(at, "canonical option `realloc` uses a core function with an incorrect signature");
  }

  // Options of lift and lower (CanonicalABI.md "canon lift"/"canon lower").
  void check_opts(Scope& sc, const CanonOpts& o, const Type* ft, bool lift, size_t at) {
    check_memory(sc, o, at);
    check_realloc(sc, o, at);
    if (o.async && !ft->async) invalid(at, "the `async` canonical option requires an async function type");
    bool params_list = false, results_list = ft->a && ft->a->has_list;
    uint32_t param_count = 0;
    for (const Field& f : ft->fields) {
      params_list |= f.type->has_list;
      param_count = std::min(param_count + f.type->flat_count, kFlatSaturate);
    }
    uint32_t result_count = ft->a ? ft->a->flat_count : 0;
    bool spill_params = param_count > (o.async && !lift ? kMaxFlatAsyncParams : kMaxFlatParams);
    bool spill_results = o.async ? (!lift && result_count > 0) : result_count > kMaxFlatResults;
    // An async lift returns its results through `task.return`, with its own
    // options.
    bool needs_memory = params_list || spill_params || (!(o.async && lift) && (results_list || spill_results));
    if (needs_memory && !o.memory) invalid(at, "canonical option `memory` is required");
    bool needs_realloc = lift ? params_list || spill_params : results_list;
    if (needs_realloc && !o.realloc) invalid(at, "canonical option `realloc` is required");
    if (o.post_return) {
      if (!lift) invalid(at, "canonical option `post-return` cannot be specified for lowerings");
      if (o.async) invalid(at, "cannot specify `post-return` with `async`");
      wasm::FuncType lifted = flatten_functype(ft, true, false, false);
      if (!(core_func_at(sc, *o.post_return, at) == wasm::FuncType{lifted.results, {}}))
        invalid(at, "canonical option `post-return` uses a core function with an incorrect signature");
    }
    if (o.callback) {
      if (!lift || !o.async) invalid(at, "canonical option `callback` requires `async` on a lift");
      if (!(core_func_at(sc, *o.callback, at) ==
            wasm::FuncType{{ValType::I32, ValType::I32, ValType::I32}, {ValType::I32}}))
        invalid(at, "canonical option `callback` uses a core function with an incorrect signature");
    }
  }

  // Builtins that take options only use a subset of them.
  void check_builtin_opts(Scope& sc, const Canon& c, bool memory, bool realloc) {
    const CanonOpts& o = c.opts;
    check_memory(sc, o, c.offset);
    check_realloc(sc, o, c.offset);
    if (o.post_return || o.callback)
      invalid(c.offset, std::string("cannot specify `post-return` or `callback` on `") + to_string(c.kind) + "`");
    if (memory && !o.memory) invalid(c.offset, "canonical option `memory` is required");
    if (realloc && !o.realloc) invalid(c.offset, "canonical option `realloc` is required");
  }

  void define(Scope& sc, const Canon& c) {
    using V = ValType;
    size_t at = c.offset;
    auto give = [&](std::vector<V> params, std::vector<V> results) {
      sc.core_funcs.push_back(wasm::FuncType{std::move(params), std::move(results)});
    };
    switch (c.kind) {
      case CanonKind::Lift: {
        const wasm::FuncType& core = core_func_at(sc, c.func, at);
        const Type* ft = type_at(sc, c.type, at);
        if (ft->kind != TypeKind::Func) invalid(at, "type index " + std::to_string(c.type) + " is not a function type");
        check_opts(sc, c.opts, ft, true, at);
        wasm::FuncType want = flatten_functype(ft, true, c.opts.async, c.opts.callback.has_value());
        if (!(core == want))
          invalid(at, "lowered function type " + wasm::to_string(want) + " does not match core function type " +
                          wasm::to_string(core));
        sc.funcs.push_back(ft);
        return;
      }
      case CanonKind::Lower: {
        if (c.func >= sc.funcs.size())
          invalid(at, "unknown func " + std::to_string(c.func) + ": func index out of bounds");
        const Type* ft = sc.funcs[c.func];
        if (c.opts.callback) invalid(at, "canonical option `callback` cannot be specified for lowerings");
        check_opts(sc, c.opts, ft, false, at);
        sc.core_funcs.push_back(flatten_functype(ft, false, c.opts.async, false));
        return;
      }
      case CanonKind::ResourceNew: return give({resource_at(sc, c.type, at, true)->rep}, {V::I32});
      case CanonKind::ResourceDrop: resource_at(sc, c.type, at, false); return give({V::I32}, {});
      case CanonKind::ResourceRep: return give({V::I32}, {resource_at(sc, c.type, at, true)->rep});
      case CanonKind::BackpressureInc:
      case CanonKind::BackpressureDec:
      case CanonKind::TaskCancel: return give({}, {});
      case CanonKind::TaskReturn: {
        const Type* result = opt_valtype(sc, c.result, at);
        if (result && result->has_borrow) invalid(at, "`task.return` result cannot contain a `borrow` type");
        check_builtin_opts(sc, c, result && result->has_list, false);
        if (c.opts.async) invalid(at, "cannot specify `async` on `task.return`");
        std::vector<const Type*> ts;
        if (result) ts.push_back(result);
        uint32_t n = result ? result->flat_count : 0;
        return give(n > kMaxFlatParams ? std::vector<V>{V::I32} : flatten_all(ts), {});
      }
      case CanonKind::ContextGet:
      case CanonKind::ContextSet:
        if (c.core_type != V::I32) invalid(at, "context type must be `i32`");
        if (c.slot >= 2) invalid(at, "context slot " + std::to_string(c.slot) + " is out of bounds");
        return c.kind == CanonKind::ContextGet ? give({}, {V::I32}) : give({V::I32}, {});
      case CanonKind::SubtaskCancel: return give({V::I32}, {V::I32});
      case CanonKind::SubtaskDrop: return give({V::I32}, {});
      case CanonKind::StreamNew: stream_or_future(sc, c, TypeKind::Stream); return give({}, {V::I64});
      case CanonKind::FutureNew: stream_or_future(sc, c, TypeKind::Future); return give({}, {V::I64});
      case CanonKind::StreamRead:
      case CanonKind::StreamWrite:
      case CanonKind::FutureRead:
      case CanonKind::FutureWrite: {
        bool stream = c.kind == CanonKind::StreamRead || c.kind == CanonKind::StreamWrite;
        const Type* t = stream_or_future(sc, c, stream ? TypeKind::Stream : TypeKind::Future);
        bool read = c.kind == CanonKind::StreamRead || c.kind == CanonKind::FutureRead;
        check_builtin_opts(sc, c, t->a != nullptr, read && t->a && t->a->has_list);
        if (stream) return give({V::I32, V::I32, V::I32}, {V::I32});
        return give({V::I32, V::I32}, {V::I32});
      }
      case CanonKind::StreamCancelRead:
      case CanonKind::StreamCancelWrite:
        stream_or_future(sc, c, TypeKind::Stream);
        return give({V::I32}, {V::I32});
      case CanonKind::FutureCancelRead:
      case CanonKind::FutureCancelWrite:
        stream_or_future(sc, c, TypeKind::Future);
        return give({V::I32}, {V::I32});
      case CanonKind::StreamDropReadable:
      case CanonKind::StreamDropWritable:
        stream_or_future(sc, c, TypeKind::Stream);
        return give({V::I32}, {});
      case CanonKind::FutureDropReadable:
      case CanonKind::FutureDropWritable:
        stream_or_future(sc, c, TypeKind::Future);
        return give({V::I32}, {});
      case CanonKind::ErrorContextNew:
        check_builtin_opts(sc, c, true, false);
        return give({V::I32, V::I32}, {V::I32});
      case CanonKind::ErrorContextDebugMessage:
        check_builtin_opts(sc, c, true, true);
        return give({V::I32, V::I32}, {});
      case CanonKind::ErrorContextDrop:
      case CanonKind::WaitableSetDrop:
      case CanonKind::ThreadResumeLater: return give({V::I32}, {});
      case CanonKind::WaitableSetNew:
      case CanonKind::ThreadIndex:
      case CanonKind::ThreadSuspend:
      case CanonKind::ThreadYield: return give({}, {V::I32});
      case CanonKind::WaitableSetWait:
      case CanonKind::WaitableSetPoll:
        check_memory(sc, c.opts, at);
        return give({V::I32, V::I32}, {V::I32});
      case CanonKind::WaitableJoin: return give({V::I32, V::I32}, {});
      case CanonKind::ThreadSuspendThenResume:
      case CanonKind::ThreadYieldThenResume:
      case CanonKind::ThreadSuspendThenPromote:
      case CanonKind::ThreadYieldThenPromote: return give({V::I32}, {V::I32});
      case CanonKind::ThreadNewIndirect:
      case CanonKind::ThreadSpawnRef:
      case CanonKind::ThreadSpawnIndirect: {
        if (c.type >= sc.core_types.size() || sc.core_types[c.type].is_module ||
            !(sc.core_types[c.type].func == wasm::FuncType{{V::I32}, {}}))
          invalid(at, std::string("`") + to_string(c.kind) + "` requires a core function type `(func (param i32))`");
        if (c.kind != CanonKind::ThreadSpawnRef) {
          if (c.table >= sc.core_tables.size()) invalid(at, "unknown table " + std::to_string(c.table));
          if (sc.core_tables[c.table].elem != V::FuncRef) invalid(at, "table must have `funcref` elements");
        }
        if (c.kind == CanonKind::ThreadSpawnRef) return give({V::FuncRef, V::I32}, {V::I32});
        return give({V::I32, V::I32}, {V::I32});
      }
      case CanonKind::ThreadAvailableParallelism: return give({}, {V::I32});
    }
  }

  void define(Scope& sc, const StartDef& def) {
    if (def.func >= sc.funcs.size())
      invalid(def.offset, "unknown func " + std::to_string(def.func) + ": func index out of bounds");
    const Type* ft = sc.funcs[def.func];
    if (def.args.size() != ft->fields.size())
      invalid(def.offset, "component start function requires " + std::to_string(ft->fields.size()) + " arguments");
    for (size_t i = 0; i < def.args.size(); ++i)
      if (def.args[i] >= sc.values.size() || sc.values[def.args[i]] != ft->fields[i].type)
        invalid(def.offset, "component start function argument " + std::to_string(i) + " has the wrong type");
    if (def.results != (ft->a ? 1u : 0u))
      invalid(def.offset, "component start function has a result count mismatch");
    if (ft->a) sc.values.push_back(ft->a);
  }

  TypeStore& store_;
  bool all_bodies_;
};

}  // namespace

ComponentInfo validate(const Component& component, bool all_bodies) {
  ComponentInfo info;
  info.store = std::make_shared<TypeStore>();
  Validator v(*info.store, all_bodies);
  Scope root;
  info.type = v.component(component, root);
  return info;
}

}  // namespace weft::component
