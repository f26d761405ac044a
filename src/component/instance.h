// Synchronous component instantiation (Explainer.md "Instance Definitions",
// CanonicalABI.md "canon lift" / "canon lower" / resource built-ins): a
// validated component's definitions are walked in order into core
// instances, lifted component functions and nested component instances.
// Names follow definitions.py (ComponentInstance, Table, ResourceHandle).
// instance.cpp walks definitions; resources.cpp lifts and lowers (canon
// lift/lower trampolines and the resource built-ins).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "component/host.h"
#include "component/types.h"
#include "component/value.h"
#include "engine/store.h"

namespace weft::component {

struct Component;
struct Canon;
struct CanonPlan;
class Layouts;
struct ComponentInstance;
struct ComponentScope;

struct ResourceHandle {
  const Type* rt = nullptr;  // the resource type
  uint32_t rep = 0;
  bool own = false;
  uint32_t num_lends = 0;            // own: borrows lent out to calls in progress
  uint32_t* borrow_scope = nullptr;  // borrow: the callee task's count of live borrows
};

// definitions.py Table: index 0 is never handed out; freed slots are reused
// last-freed first (the reference tests check handle numbers).
class HandleTable {
 public:
  static constexpr uint32_t MAX_LENGTH = (uint32_t{1} << 28) - 1;
  uint32_t add(const ResourceHandle& h);
  ResourceHandle& get(uint32_t i);
  ResourceHandle remove(uint32_t i);

 private:
  std::vector<std::optional<ResourceHandle>> array_{std::nullopt};
  std::vector<uint32_t> free_;
};

// A resource type at runtime: each instantiation of its definition makes a
// fresh one.
struct ResourceType {
  ComponentInstance* impl = nullptr;  // the instance that defined it; null for the host
  engine::Function* dtor = nullptr;
};

// A `canon lift`ed function, or a host function a component imports
// (`host` set, no instance, core function or plan).
struct ComponentFunc {
  const Type* type = nullptr;
  ComponentInstance* instance = nullptr;
  engine::Function* core = nullptr;
  std::shared_ptr<const CanonPlan> plan;
  const HostFunction* host = nullptr;
};

struct RtItem;
using RtExports = std::map<std::string, RtItem, std::less<>>;

// One entry of a component-level index space at runtime.
struct RtItem {
  ExternKind kind = ExternKind::Func;
  std::shared_ptr<const wasm::Module> module;  // CoreModule
  ComponentFunc* func = nullptr;               // Func
  const Type* type = nullptr;                  // Type
  std::shared_ptr<const Component> component;  // Component
  ComponentScope* env = nullptr;               // Component: where it was defined (for outer aliases)
  const RtExports* instance = nullptr;         // Instance
};

struct ComponentInstance {
  static constexpr uint32_t MAX_BACKPRESSURE = uint32_t{1} << 16;  // exclusive
  bool may_leave = true;
  bool may_enter = true;  // false once a trap has poisoned the instance
  uint32_t backpressure = 0;  // backpressure.inc/dec
  HandleTable handles;
  RtExports exports;
};

// Canonical options as instantiation resolved them (the decoder's encoding
// enum, by value, in the same order as canonical.h's).
struct RtOptions {
  uint8_t string_encoding = 0;
  engine::Memory* memory = nullptr;
  engine::Function* realloc = nullptr;
  engine::Function* post_return = nullptr;
};

enum class ResourceBuiltin : uint8_t { New, Drop, Rep };

// definitions.py Thread, as much of it as a synchronous call needs: each
// call of a lifted function is a task running on a new thread, whose
// context.get/set storage starts at 0 and lasts through post-return.
struct GuestThread {
  uint32_t storage[2] = {0, 0};
};

// The instances of one root component and everything they own; lives no
// longer than the store it was instantiated in.
class Runtime {
 public:
  Runtime(engine::Store& store, std::shared_ptr<TypeStore> types);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Instantiates a validated root component of type `type` (ComponentInfo),
  // its imports served by `host`. Throws Error(Unlinkable) naming every
  // import the host does not provide, or a definition this runtime does not
  // support yet, and engine::Trap when a core start function traps.
  ComponentInstance* instantiate(const Component& component, const Type* type, const Host& host);
  // A root component without imports.
  ComponentInstance* instantiate(const Component& component);

  // Calls an exported function as the host (canon_lift with a host caller):
  // traps become engine::Trap and poison the callee's instance.
  std::vector<Val> call(ComponentFunc& f, std::span<const Val> args) { return call_from(nullptr, f, args); }

  // Used while instantiating (instance.cpp); defined in resources.cpp.
  ComponentFunc* lift(ComponentInstance* inst, const Type* ft, engine::Function* core, const RtOptions& opts);
  engine::Function* lower(ComponentInstance* caller, ComponentFunc* callee, const RtOptions& opts);
  engine::Function* resource_builtin(ComponentInstance* inst, ResourceBuiltin which, const Type* rt);
  const Type* define_resource(ComponentInstance* inst, engine::Function* dtor);
  // Every other canon built-in (builtins.cpp); `result` is task.return's
  // result type. Those that need the async runtime trap when called.
  engine::Function* canon_builtin(ComponentInstance* inst, const Canon& c, const Type* result);

  engine::Store& store() { return store_; }
  TypeStore& types() { return *types_; }
  ComponentInstance* new_instance();
  RtExports* new_exports();
  ComponentScope* new_scope(ComponentScope* parent, ComponentInstance* inst);

 private:
  friend class InstanceHooks;
  std::vector<Val> call_from(ComponentInstance* caller, ComponentFunc& f, std::span<const Val> args);
  // Makes a new thread current for a lifted call (call_from) until it ends.
  class ThreadScope {
   public:
    explicit ThreadScope(Runtime& rt);
    ~ThreadScope();
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;

   private:
    Runtime& rt_;
  };
  std::vector<Val> call_host(ComponentFunc& f, std::span<const Val> args);
  // The root's import arguments from `host` (link.cpp).
  RtExports link(const Type* component_type, const Host& host);
  const Type* host_resource_type(const HostResource& r);

  engine::Store& store_;
  std::shared_ptr<TypeStore> types_;
  std::unique_ptr<Layouts> layouts_;
  std::map<const Type*, ResourceType> resources_;
  std::map<const HostResource*, const Type*> host_resources_;
  std::vector<std::unique_ptr<ComponentInstance>> instances_;
  std::vector<std::unique_ptr<ComponentFunc>> funcs_;
  std::vector<std::unique_ptr<RtExports>> exports_;
  std::vector<std::shared_ptr<ComponentScope>> scopes_;  // kept: nested components close over them
  std::vector<GuestThread> threads_;  // the current thread last
};

}  // namespace weft::component
