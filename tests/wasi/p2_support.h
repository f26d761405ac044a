// Calling WASI 0.2 host functions directly from tests: component types
// built by hand as the WIT declares them, and a call through the host's
// registered function as the runtime would make it.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "component/host.h"
#include "component/instance.h"
#include "engine/store.h"

namespace weft::testing {

using component::Type;
using component::TypeKind;
using component::Val;

// Interned component types of one test.
struct WitTypes {
  std::shared_ptr<component::TypeStore> store = std::make_shared<component::TypeStore>();
  const Type* make(Type t) { return store->intern(std::move(t)); }
  const Type* prim(TypeKind k) { return store->primitive(k); }
  const Type* enum_(std::vector<std::string> l) {
    return make(Type{.kind = TypeKind::Enum, .labels = std::move(l)});
  }
  const Type* flags(std::vector<std::string> l) {
    return make(Type{.kind = TypeKind::Flags, .labels = std::move(l)});
  }
  const Type* record(std::vector<component::Field> f) {
    return make(Type{.kind = TypeKind::Record, .fields = std::move(f)});
  }
  const Type* variant(std::vector<component::Field> f) {
    return make(Type{.kind = TypeKind::Variant, .fields = std::move(f)});
  }
  const Type* tuple(std::vector<const Type*> e) {
    return make(Type{.kind = TypeKind::Tuple, .elems = std::move(e)});
  }
  const Type* option(const Type* t) { return make(Type{.kind = TypeKind::Option, .a = t}); }
  const Type* list(const Type* t) { return make(Type{.kind = TypeKind::List, .a = t}); }
  const Type* result(const Type* ok, const Type* err) {
    return make(Type{.kind = TypeKind::Result, .a = ok, .b = err});
  }
  const Type* own(const Type* r) { return make(Type{.kind = TypeKind::Own, .a = r}); }
  const Type* borrow(const Type* r) { return make(Type{.kind = TypeKind::Borrow, .a = r}); }
  const Type* resource() { return store->fresh_resource(wasm::ValType::I32, std::nullopt, true); }
};

// A host with some interfaces registered, and calls into it.
struct HostCaller {
  WitTypes& types;
  component::Host host;
  engine::Store store;
  component::Runtime runtime{store, types.store};

  explicit HostCaller(WitTypes& t) : types(t) {}

  // Calls `iface`'s `name` with `args`, the function returning `result`
  // (null: none).
  Val call(const char* iface, const std::string& name, std::vector<Val> args, const Type* result) {
    const component::HostInterface* i = host.find(iface);
    REQUIRE(i != nullptr);
    const component::HostInterface::Func* f = i->find_func(name);
    REQUIRE(f != nullptr);
    REQUIRE(f->params == args.size());
    Type ft{.kind = TypeKind::Func, .a = result};
    for (const Val& a : args) ft.fields.push_back({"p", a.type});
    component::HostCall c{runtime, types.make(std::move(ft)), args, std::nullopt};
    f->fn(c);
    REQUIRE(c.result.has_value() == (result != nullptr));
    return result ? *c.result : Val{};
  }
};

}  // namespace weft::testing
