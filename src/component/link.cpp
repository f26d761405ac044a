// Linking a root component's imports to the host: each imported instance
// becomes an instance of host functions and host resource types, with the
// component's abstract resource types bound to the host's (so the types of
// the component's functions name the host's resources). Every import the
// host cannot serve is collected first and reported in one error.
#include <string>

#include "base/error.h"
#include "component/instance.h"

namespace weft::component {

const Type* Runtime::host_resource_type(const HostResource& r) {
  auto it = host_resources_.find(&r);
  if (it != host_resources_.end()) return it->second;
  const Type* t = types_->fresh_resource(wasm::ValType::I32, std::nullopt, false);
  engine::Function* dtor = nullptr;
  if (r.drop)
    dtor = store_.create_host_function({{wasm::ValType::I32}, {}}, r.name + " destructor",
                                       [&r](engine::HostCall& call) { r.drop(call.i32(0)); });
  resources_[t] = {nullptr, dtor};
  host_resources_[&r] = t;
  return t;
}

RtExports Runtime::link(const Type* component_type, const Host& host) {
  std::vector<std::string> unmet;
  Substitution subst;
  RtExports args;
  for (const NamedExtern& im : component_type->imports) {
    const HostInterface* iface = im.desc.kind == ExternKind::Instance ? host.find(im.name) : nullptr;
    if (!iface) {
      unmet.push_back(im.name);
      continue;
    }
    RtExports* exports = new_exports();
    for (const NamedExtern& e : im.desc.type->exports) {
      std::string full = im.name + "#" + e.name;
      RtItem item;
      item.kind = e.desc.kind;
      switch (e.desc.kind) {
        case ExternKind::Type: {
          const Type* t = e.desc.type;
          if (t->kind == TypeKind::Resource && !subst.count(t)) {
            const HostResource* r = iface->find_resource(e.name);
            if (!r) {
              unmet.push_back(full);
              continue;
            }
            subst[t] = host_resource_type(*r);
          }
          item.type = substitute(*types_, t, subst);
          break;
        }
        case ExternKind::Func: {
          const HostInterface::Func* hf = iface->find_func(e.name);
          const Type* ft = substitute(*types_, e.desc.type, subst);
          if (!hf || hf->params != ft->fields.size()) {
            unmet.push_back(hf ? full + " (the host's takes " + std::to_string(hf->params) + " parameters)"
                               : full);
            continue;
          }
          auto f = std::make_unique<ComponentFunc>();
          f->type = ft;
          f->host = &hf->fn;
          item.func = f.get();
          funcs_.push_back(std::move(f));
          break;
        }
        default:
          unmet.push_back(full);
          continue;
      }
      (*exports)[e.name] = item;
    }
    RtItem inst;
    inst.kind = ExternKind::Instance;
    inst.instance = exports;
    args[im.name] = inst;
  }
  if (!unmet.empty()) {
    std::string list;
    for (const std::string& u : unmet) list += (list.empty() ? "" : ", ") + u;
    throw Error(ErrorKind::Unlinkable,
                std::string(unmet.size() == 1 ? "unmet import: " : "unmet imports: ") + list);
  }
  return args;
}

}  // namespace weft::component
