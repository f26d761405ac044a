// What the host offers a component's imports: functions and resource types
// grouped by interface (`wasi:io/streams`), matched to the component's
// imports by name, with any 0.2.x-style compatible version (same major, and
// same minor while the major is 0). Host functions see lifted values
// (component/value.h); an own or borrow of a host resource carries the
// host's representation in Val::bits. Values are built against the types
// the component declared, so host code asks for cases and fields by name
// (host_values below) and stays correct across interface versions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "component/types.h"
#include "component/value.h"

namespace weft::component {

class Runtime;
class HostPending;

struct HostCall {
  Runtime& runtime;
  const Type* func;              // the function type the component imported
  std::span<const Val> args;     // lifted, one per parameter
  std::optional<Val> result;     // set by the host when func->a is not null
  const Type* result_type() const { return func->a; }
  const Type* param_type(size_t i) const { return func->fields.at(i).type; }
  // The call completes later: the host keeps what this returns and
  // resolves it (component/host_async.h) instead of setting `result`.
  std::shared_ptr<HostPending> defer();
  std::shared_ptr<HostPending> pending;
};
using HostFunction = std::function<void(HostCall&)>;

// A resource type the host implements. `drop` runs when a component drops
// its last owning handle (resource.drop) with the host's representation.
struct HostResource {
  std::string name;
  std::function<void(uint32_t rep)> drop;
};

class HostInterface {
 public:
  // `params`: the parameter count the component's import must have (a
  // different count is a link error, not a crash at the first call).
  void func(std::string name, uint32_t params, HostFunction fn);
  // Declares a resource type of this interface, or (`use`) one of another
  // interface that this one re-exports, as WIT's `use` does.
  std::shared_ptr<HostResource> resource(std::string name, std::function<void(uint32_t)> drop);
  void use(std::shared_ptr<HostResource> r);

  struct Func {
    uint32_t params = 0;
    HostFunction fn;
  };
  const Func* find_func(std::string_view name) const;
  const HostResource* find_resource(std::string_view name) const;

 private:
  std::map<std::string, Func, std::less<>> funcs_;
  std::map<std::string, std::shared_ptr<HostResource>, std::less<>> resources_;
};

class Host {
 public:
  // `name` is "ns:pkg/iface"; `version` the newest version implemented. An
  // import `ns:pkg/iface@V` matches when V is compatible with `version`.
  // Adding the same name and version again gives the same interface.
  HostInterface& add(std::string name, std::string version);
  // The interface an import name (with or without version) resolves to.
  const HostInterface* find(std::string_view import_name) const;

 private:
  struct Entry {
    std::string version;
    HostInterface iface;
  };
  std::map<std::string, std::vector<std::unique_ptr<Entry>>, std::less<>> interfaces_;
};

// Semver compatibility as toolchains use it for WIT packages: equal major,
// and for 0.x equal minor (0.2.0 .. 0.2.12 all match 0.2.x).
bool semver_compatible(std::string_view a, std::string_view b);

// Building and reading Vals against the component's types. Each checks the
// type's kind and the names it is given and traps (engine::Trap) when the
// component declared something else, so a component with unexpected import
// types gets a clear trap instead of a host reading the wrong shape.
namespace host_values {

Val scalar(const Type* t, uint64_t bits);                  // bool, integers, char, own, borrow
Val float64(const Type* t, double v);                      // f32 / f64
Val string(const Type* t, std::string s);                  // string
Val bytes(const Type* t, std::string_view data);           // list<u8>
Val list(const Type* t, std::vector<Val> items);           // list<T>
Val record(const Type* t, std::vector<Val> fields);        // record, in declaration order
Val tuple(const Type* t, std::vector<Val> elems);
Val enum_case(const Type* t, std::string_view label);
Val variant(const Type* t, std::string_view label, std::optional<Val> payload = std::nullopt);
Val flags(const Type* t, std::span<const std::string_view> set);
Val none(const Type* t);
Val some(const Type* t, Val v);
Val ok(const Type* t, std::optional<Val> v = std::nullopt);
Val err(const Type* t, std::optional<Val> v = std::nullopt);

// Child types, by kind: option/list element, result ok/err, record field
// and variant case payload by name, tuple element by index.
const Type* element(const Type* t);
const Type* ok_type(const Type* t);
const Type* err_type(const Type* t);
const Type* field_type(const Type* t, std::string_view label);
const Type* case_type(const Type* t, std::string_view label);
const Type* tuple_type(const Type* t, size_t i);

// Readers (trap on a kind mismatch).
uint64_t as_uint(const Val& v);  // bool, unsigned/signed integers (raw bits), char, handles
const std::string& as_string(const Val& v);
std::string_view as_bytes(const Val& v);  // list<u8>
const Val& field(const Val& v, std::string_view label);  // record field by name
const Val* option(const Val& v);                         // option payload or null
std::string_view case_label(const Val& v);               // variant / enum
bool has_flag(const Val& v, std::string_view label);

}  // namespace host_values

}  // namespace weft::component
