#include "component/instance.h"

#include <utility>
#include <variant>

#include "base/error.h"
#include "component/canonical.h"
#include "component/decoder.h"

namespace weft::component {

namespace {

[[noreturn]] void unsupported(const std::string& what) {
  throw Error(ErrorKind::Unlinkable, "component instantiation: " + what + " is not supported yet");
}

using CoreExports = std::map<std::string, engine::Extern, std::less<>>;

}  // namespace

// The runtime index spaces of one component instance. The component was
// validated, so indices are in bounds and kinds match.
struct ComponentScope {
  ComponentScope* parent = nullptr;
  ComponentInstance* inst = nullptr;
  std::vector<engine::Function*> core_funcs;
  std::vector<engine::Table*> core_tables;
  std::vector<engine::Memory*> core_memories;
  std::vector<engine::Global*> core_globals;
  std::vector<engine::Tag*> core_tags;
  std::vector<std::shared_ptr<const wasm::Module>> core_modules;
  std::vector<std::shared_ptr<const CoreExports>> core_instances;
  std::vector<const Type*> types;  // null for component and instance types
  std::vector<ComponentFunc*> funcs;
  std::vector<RtItem> components;  // closures: the component and its defining scope
  std::vector<const RtExports*> instances;
};

namespace {

class Instantiator {
 public:
  Instantiator(Runtime& rt, ComponentScope& sc) : rt_(rt), sc_(sc) {}

  void run(const Component& c, const std::map<std::string, RtItem, std::less<>>& args) {
    args_ = &args;
    for (const Definition& d : c.definitions) std::visit([&](const auto& def) { define(def); }, d);
  }

 private:
  void define(const CoreModuleDef& def) { sc_.core_modules.push_back(def.module); }

  engine::Extern core_item(SortIdx item) {
    switch (item.sort) {
      case Sort::CoreFunc:
        return engine::Extern::of(sc_.core_funcs[item.index]);
      case Sort::CoreTable:
        return engine::Extern::of(sc_.core_tables[item.index]);
      case Sort::CoreMemory:
        return engine::Extern::of(sc_.core_memories[item.index]);
      case Sort::CoreGlobal:
        return engine::Extern::of(sc_.core_globals[item.index]);
      case Sort::CoreTag:
        return engine::Extern::of(sc_.core_tags[item.index]);
      default:
        unsupported(std::string("core instance export of a ") + to_string(item.sort));
    }
  }

  void define(const CoreInstanceDef& def) {
    auto exports = std::make_shared<CoreExports>();
    if (!def.instantiate) {
      for (const auto& [name, item] : def.exports) (*exports)[name] = core_item(item);
      sc_.core_instances.push_back(std::move(exports));
      return;
    }
    std::shared_ptr<const wasm::Module> module = sc_.core_modules[def.module];
    std::map<std::string, const CoreExports*, std::less<>> args;
    for (const auto& [name, index] : def.args) args[name] = sc_.core_instances[index].get();
    auto lookup = [&](const wasm::Import& im) -> const engine::Extern* {
      auto a = args.find(im.module);
      if (a == args.end()) return nullptr;
      auto it = a->second->find(im.name);
      return it == a->second->end() ? nullptr : &it->second;
    };
    std::vector<engine::Extern> imports;
    for (const wasm::Import& im : module->imports) {
      const engine::Extern* e = lookup(im);
      if (!e) throw Error(ErrorKind::Unlinkable, "unknown import \"" + im.module + "\" \"" + im.name + "\"");
      imports.push_back(*e);
    }
    engine::Instance* instance = rt_.store().instantiate(module, imports);
    for (const auto& [name, e] : instance->exports) (*exports)[std::string(name)] = e;
    sc_.core_instances.push_back(std::move(exports));
  }

  void define(const std::shared_ptr<CoreTypeDef>&) {}  // core types matter to validation only

  void define(const NestedComponent& def) {
    RtItem it;
    it.kind = ExternKind::Component;
    it.component = def.component;
    it.env = &sc_;
    sc_.components.push_back(std::move(it));
  }

  RtItem item(SortIdx s) {
    RtItem it;
    switch (s.sort) {
      case Sort::CoreModule:
        it.kind = ExternKind::CoreModule;
        it.module = sc_.core_modules[s.index];
        break;
      case Sort::Func:
        it.kind = ExternKind::Func;
        it.func = sc_.funcs[s.index];
        break;
      case Sort::Type:
        it.kind = ExternKind::Type;
        it.type = sc_.types[s.index];
        break;
      case Sort::Component:
        it = sc_.components[s.index];
        break;
      case Sort::Instance:
        it.kind = ExternKind::Instance;
        it.instance = sc_.instances[s.index];
        break;
      default:
        unsupported(std::string("passing a ") + to_string(s.sort));
    }
    return it;
  }

  void push(const RtItem& it) {
    switch (it.kind) {
      case ExternKind::CoreModule:
        sc_.core_modules.push_back(it.module);
        break;
      case ExternKind::Func:
        sc_.funcs.push_back(it.func);
        break;
      case ExternKind::Type:
        sc_.types.push_back(it.type);
        break;
      case ExternKind::Component:
        sc_.components.push_back(it);
        break;
      case ExternKind::Instance:
        sc_.instances.push_back(it.instance);
        break;
      default:
        unsupported(std::string("a ") + to_string(it.kind) + " item");
    }
  }

  void define(const InstanceDef& def) {
    if (!def.instantiate) {
      RtExports* exports = rt_.new_exports();
      for (const auto& [name, s] : def.exports) (*exports)[name.name] = item(s);
      sc_.instances.push_back(exports);
      return;
    }
    std::map<std::string, RtItem, std::less<>> args;
    for (const auto& [name, s] : def.args) args[name] = item(s);
    const RtItem& c = sc_.components[def.component];
    ComponentScope* inner = rt_.new_scope(c.env, rt_.new_instance());
    Instantiator(rt_, *inner).run(*c.component, args);
    sc_.instances.push_back(&inner->inst->exports);
  }

  void define(const AliasDef& a) {
    switch (a.target) {
      case AliasDef::Target::Export:
        push(sc_.instances[a.instance]->find(a.name)->second);
        return;
      case AliasDef::Target::CoreExport: {
        const engine::Extern& e = sc_.core_instances[a.instance]->find(a.name)->second;
        switch (e.kind) {
          case wasm::ExternKind::Func:
            sc_.core_funcs.push_back(e.func);
            break;
          case wasm::ExternKind::Table:
            sc_.core_tables.push_back(e.table);
            break;
          case wasm::ExternKind::Memory:
            sc_.core_memories.push_back(e.memory);
            break;
          case wasm::ExternKind::Global:
            sc_.core_globals.push_back(e.global);
            break;
          case wasm::ExternKind::Tag:
            sc_.core_tags.push_back(e.tag);
            break;
        }
        return;
      }
      case AliasDef::Target::Outer: {
        ComponentScope* target = &sc_;
        for (uint32_t i = 0; i < a.instance; ++i) target = target->parent;
        switch (a.sort) {
          case Sort::CoreType:
            return;
          case Sort::CoreModule:
            sc_.core_modules.push_back(target->core_modules[a.index]);
            return;
          case Sort::Component:
            sc_.components.push_back(target->components[a.index]);
            return;
          case Sort::Type:
            sc_.types.push_back(target->types[a.index]);
            return;
          default:
            unsupported(std::string("outer alias of a ") + to_string(a.sort));
        }
      }
    }
  }

  const Type* valtype(const ValTypeRef& r) {
    return r.index ? sc_.types[*r.index] : rt_.types().primitive(r.primitive);
  }
  const Type* opt_valtype(const std::optional<ValTypeRef>& r) { return r ? valtype(*r) : nullptr; }

  // The validator resolved these already, but kept no map from indices to
  // types; interning makes ours the same objects (resources aside, which
  // are fresh per instantiation anyway).
  const Type* deftype(const TypeDef& d) {
    Type t{d.kind};
    switch (d.kind) {
      case TypeKind::Record:
      case TypeKind::Variant:
        for (const Labeled& m : d.members) t.fields.push_back({m.label, opt_valtype(m.type)});
        break;
      case TypeKind::Flags:
      case TypeKind::Enum:
        for (const Labeled& m : d.members) t.labels.push_back(m.label);
        break;
      case TypeKind::Tuple:
        for (const ValTypeRef& e : d.elems) t.elems.push_back(valtype(e));
        break;
      case TypeKind::List:
        t.a = valtype(*d.a);
        t.length = d.length;
        break;
      case TypeKind::Option:
        t.a = valtype(*d.a);
        break;
      case TypeKind::Result:
      case TypeKind::Map:
        t.a = opt_valtype(d.a);
        t.b = opt_valtype(d.b);
        break;
      case TypeKind::Own:
      case TypeKind::Borrow:
        t.a = sc_.types[*d.handle];
        break;
      case TypeKind::Stream:
      case TypeKind::Future:
        t.a = opt_valtype(d.a);
        break;
      case TypeKind::Func:
        for (const Labeled& m : d.members) t.fields.push_back({m.label, valtype(*m.type)});
        t.a = opt_valtype(d.a);
        t.async = d.async;
        break;
      case TypeKind::Resource:
        return rt_.define_resource(sc_.inst, d.dtor ? sc_.core_funcs[*d.dtor] : nullptr);
      case TypeKind::Component:
      case TypeKind::Instance:
        return nullptr;  // only imports use them, and those take their arguments
      default:
        return rt_.types().primitive(d.kind);
    }
    return rt_.types().intern(std::move(t));
  }

  void define(const std::shared_ptr<TypeDef>& def) { sc_.types.push_back(deftype(*def)); }

  // task.return's result type, or the type of a stream or future built-in.
  const Type* builtin_type(const Canon& c) {
    if (c.kind >= CanonKind::StreamNew && c.kind <= CanonKind::FutureDropWritable) return sc_.types[c.type];
    return opt_valtype(c.result);
  }

  RtOptions options(const CanonOpts& o) {
    RtOptions r;
    r.async = o.async;
    if (o.callback) r.callback = sc_.core_funcs[*o.callback];
    r.string_encoding = static_cast<uint8_t>(o.string_encoding.value_or(StringEncoding::Utf8));
    if (o.memory) r.memory = sc_.core_memories[*o.memory];
    if (o.realloc) r.realloc = sc_.core_funcs[*o.realloc];
    if (o.post_return) r.post_return = sc_.core_funcs[*o.post_return];
    return r;
  }

  void define(const Canon& c) {
    switch (c.kind) {
      case CanonKind::Lift:
        sc_.funcs.push_back(rt_.lift(sc_.inst, sc_.types[c.type], sc_.core_funcs[c.func], options(c.opts)));
        return;
      case CanonKind::Lower:
        sc_.core_funcs.push_back(rt_.lower(sc_.inst, sc_.funcs[c.func], options(c.opts)));
        return;
      case CanonKind::ResourceNew:
      case CanonKind::ResourceDrop:
      case CanonKind::ResourceRep: {
        ResourceBuiltin which = c.kind == CanonKind::ResourceNew    ? ResourceBuiltin::New
                                : c.kind == CanonKind::ResourceDrop ? ResourceBuiltin::Drop
                                                                    : ResourceBuiltin::Rep;
        sc_.core_funcs.push_back(rt_.resource_builtin(sc_.inst, which, sc_.types[c.type]));
        return;
      }
      default:
        sc_.core_funcs.push_back(rt_.canon_builtin(sc_.inst, c, builtin_type(c), options(c.opts)));
        return;
    }
  }

  void define(const StartDef&) { unsupported("a component start function"); }

  void define(const ImportDef& def) {
    auto a = args_->find(def.name.name);
    if (a == args_->end()) throw Error(ErrorKind::Unlinkable, "missing import `" + def.name.name + "`");
    push(a->second);
  }

  void define(const ExportDef& def) {
    RtItem it = item(def.item);
    sc_.inst->exports[def.name.name] = it;
    push(it);  // an export is also a new index
  }

  Runtime& rt_;
  ComponentScope& sc_;
  const std::map<std::string, RtItem, std::less<>>* args_ = nullptr;
};

}  // namespace

uint32_t HandleTable::add(HandleElem e) {
  uint32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
    array_[i] = std::move(e);
  } else {
    i = static_cast<uint32_t>(array_.size());
    if (i > MAX_LENGTH) trap("handle table is full");
    array_.push_back(std::move(e));
  }
  return i;
}

HandleElem& HandleTable::get(uint32_t i) {
  if (i >= array_.size() || !array_[i])
    trap("unknown handle index " + std::to_string(i));
  return *array_[i];
}

HandleElem HandleTable::remove(uint32_t i) {
  HandleElem e = std::move(get(i));
  array_[i].reset();
  free_.push_back(i);
  return e;
}

ResourceHandle& HandleTable::resource(uint32_t i) {
  auto* h = std::get_if<ResourceHandle>(&get(i));
  if (!h) trap("handle index " + std::to_string(i) + " is not a resource handle");
  return *h;
}

ResourceHandle HandleTable::remove_resource(uint32_t i) {
  resource(i);
  return std::get<ResourceHandle>(remove(i));
}

ComponentInstance* Runtime::new_instance() {
  instances_.push_back(std::make_unique<ComponentInstance>());
  return instances_.back().get();
}

RtExports* Runtime::new_exports() {
  exports_.push_back(std::make_unique<RtExports>());
  return exports_.back().get();
}

ComponentScope* Runtime::new_scope(ComponentScope* parent, ComponentInstance* inst) {
  auto sc = std::make_shared<ComponentScope>();
  sc->parent = parent;
  sc->inst = inst;
  scopes_.push_back(sc);
  return sc.get();
}

ComponentInstance* Runtime::instantiate(const Component& component, const Type* type, const Host& host) {
  RtExports args = link(type, host);
  ComponentScope* root = new_scope(nullptr, new_instance());
  Instantiator(*this, *root).run(component, args);
  return root->inst;
}

ComponentInstance* Runtime::instantiate(const Component& component) {
  ComponentScope* root = new_scope(nullptr, new_instance());
  Instantiator(*this, *root).run(component, {});
  return root->inst;
}

}  // namespace weft::component
