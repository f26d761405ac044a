// Synchronous component instantiation (Explainer.md "Instance Definitions",
// CanonicalABI.md "canon lift" / "canon lower" / resource built-ins): a
// validated component's definitions are walked in order into core
// instances, lifted component functions and nested component instances.
// Names follow definitions.py (ComponentInstance, Table, ResourceHandle).
// instance.cpp walks definitions; resources.cpp lifts and lowers (canon
// lift/lower trampolines and the resource built-ins).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
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
class Waitable;
struct WaitableSet;
struct SharedCopy;
class ResourceHooks;
class HostEnd;
class HostPending;
enum class CanonKind : uint8_t;
struct Task;
struct Thread;
using OnStart = std::function<std::vector<Val>()>;
using OnResolve = std::function<void(std::optional<std::vector<Val>>)>;

struct ResourceHandle {
  const Type* rt = nullptr;  // the resource type
  uint32_t rep = 0;
  bool own = false;
  uint32_t num_lends = 0;            // own: borrows lent out to calls in progress
  uint32_t* borrow_scope = nullptr;  // borrow: the callee task's count of live borrows
};

// definitions.py Table: index 0 is never handed out; freed slots are reused
// last-freed first (the reference tests check handle numbers).
// Elements are resource handles, waitables (subtasks, stream and future
// ends), waitable sets and error contexts (definitions.py
// ComponentInstance.handles).
// definitions.py ErrorContext: immutable, shared by every table holding it.
struct ErrorContext {
  std::string debug_message;  // UTF-8
};

using HandleElem = std::variant<ResourceHandle, std::shared_ptr<Waitable>, std::shared_ptr<WaitableSet>,
                                std::shared_ptr<const ErrorContext>>;
class HandleTable {
 public:
  static constexpr uint32_t MAX_LENGTH = (uint32_t{1} << 28) - 1;
  uint32_t add(HandleElem e);
  HandleElem& get(uint32_t i);
  HandleElem remove(uint32_t i);
  // get / remove that trap unless element `i` is a resource handle.
  ResourceHandle& resource(uint32_t i);
  ResourceHandle remove_resource(uint32_t i);

 private:
  std::vector<std::optional<HandleElem>> array_{std::nullopt};
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
  uint32_t num_waiting_to_enter = 0;
  Thread* exclusive_thread = nullptr;  // the callback or sync task running core code
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
  bool async = false;
  engine::Function* callback = nullptr;
};

enum class ResourceBuiltin : uint8_t { New, Drop, Rep };

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
  // Starts a call of an exported function as the host without waiting for
  // it (a server's request): `on_resolve` gets the results from the
  // scheduler, nothing if the task was cancelled. Async callees run as a
  // task beside others; a synchronous one runs when the scheduler gets to
  // it. A trap escapes from run_until.
  void start_call(ComponentFunc& f, std::vector<Val> args, OnResolve on_resolve);
  // Runs the scheduler (on the host's stack) until `ready`: posted host
  // work, ready guest threads, and the event loop when nothing is ready.
  // Traps on deadlock.
  void run_until(const std::function<bool()>& ready);
  // Runs posted host work and ready guest threads without waiting for the
  // loop, until nothing is ready (returns false) or `max_ticks` steps ran
  // (true: more may be ready). A server drains its guests this way before
  // it takes new requests, so old requests are not starved by new ones.
  bool run_ready(uint32_t max_ticks);

  // Used while instantiating (instance.cpp); defined in resources.cpp.
  ComponentFunc* lift(ComponentInstance* inst, const Type* ft, engine::Function* core, const RtOptions& opts);
  engine::Function* lower(ComponentInstance* caller, ComponentFunc* callee, const RtOptions& opts);
  engine::Function* resource_builtin(ComponentInstance* inst, ResourceBuiltin which, const Type* rt);
  const Type* define_resource(ComponentInstance* inst, engine::Function* dtor);
  // Every other canon built-in (builtins.cpp); `result` is task.return's
  // result type or a stream/future built-in's type, `opts` the built-in's
  // canonical options. Those the async
  // runtime does not implement yet trap when called.
  engine::Function* canon_builtin(ComponentInstance* inst, const Canon& c, const Type* result,
                                  const RtOptions& opts);

  // For host implementations (host_async.cpp). A new stream or future of
  // type `t` (a stream<..> / future<..> of the function's signature): the
  // value that gives the guest its readable end, and the host's writable
  // end.
  std::pair<Val, std::unique_ptr<HostEnd>> host_stream(const Type* t);
  // The readable end of a stream or future a guest passed to the host.
  std::unique_ptr<HostEnd> host_readable(const Val& v);
  // Runs `work` from the scheduler, where it may call into guests (loop
  // callbacks post what they found instead of acting on guests).
  void post(std::function<void()> work);
  // How the scheduler waits for the host when no guest thread is ready:
  // `run(true)` returns once some host event happened, false when none can
  // ever happen (nothing is pending); `run(false)` only polls.
  void set_event_loop(std::function<bool(bool block)> run) { event_loop_ = std::move(run); }
  // After the last call: runs the host work posted so far, and the loop,
  // until `idle()` holds or nothing more can happen (output a guest handed
  // over goes out). Guest threads do not run.
  void settle(const std::function<bool()>& idle);

  engine::Store& store() { return store_; }
  TypeStore& types() { return *types_; }
  ComponentInstance* new_instance();
  RtExports* new_exports();
  ComponentScope* new_scope(ComponentScope* parent, ComponentInstance* inst);

 private:
  friend class InstanceHooks;
  std::vector<Val> call_from(ComponentInstance* caller, ComponentFunc& f, std::span<const Val> args);
  // Makes `thread` the running thread until the scope ends.
  class ThreadScope {
   public:
    ThreadScope(Runtime& rt, Thread& thread);
    ~ThreadScope();
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;

   private:
    Runtime& rt_;
  };

  // The async runtime (concurrency.cpp): Store.waiting and its scheduler.
  Thread& current_thread();
  // Thread `t` joins the waiting list until `ready`.
  void start_waiting(Thread& t, std::function<bool()> ready, bool cancellable);
  // Starts thread `t` on a fiber running `body`, until it blocks or ends.
  void spawn(Thread& t, std::function<void()> body);
  // Runs waiting thread `t` until it blocks again or ends; `cancelled` is
  // what its wait returns.
  void resume(Thread& t, bool cancelled);
  // Ends waiting thread `t` without running it further: its fiber unwinds.
  void discard(Thread& t);
  // resume / discard: switches to `t`'s fiber (to unwind it when `unwind`).
  void run_fiber(Thread& t, bool unwind);
  void request_cancellation(Task& task, ComponentInstance* caller);
  // Store.tick: resumes the first ready waiting thread; false if none is.
  bool tick();
  // Runs the oldest posted host work; false if there is none.
  bool run_posted();
  void release_waiting();  // at destruction
  std::unique_ptr<ResourceHooks> hooks_for(ComponentInstance* inst);  // resources.cpp

  // Streams and futures (streams.cpp). A readable end passed in a call is
  // held in `in_flight_` between lifting and lowering.
  uint64_t lift_async_value(ComponentInstance* inst, uint32_t i, const Type* t);
  uint32_t lower_async_value(ComponentInstance* inst, uint64_t token, const Type* t);
  // lift_error_context / lower_error_context: an error context passed in a
  // call is held in `lifted_errors_` between the two (builtins.cpp).
  uint64_t lift_error_context(ComponentInstance* inst, uint32_t i);
  uint32_t lower_error_context(ComponentInstance* inst, uint64_t token);
  void error_context_builtin(engine::HostCall& call, CanonKind kind, ComponentInstance* inst, const RtOptions& opts);
  void copy_builtin(engine::HostCall& call, CanonKind kind, ComponentInstance* inst, const Type* t,
                    const RtOptions& opts, bool async);
  // Thread.wait_until: the running thread blocks until `ready` (not at all
  // when it already is), or until its task's cancellation when
  // `cancellable`. Returns whether it was cancelled.
  bool wait_until(std::function<bool()> ready, bool cancellable = false);
  // The same, but blocks even when `ready` already is: threads that are
  // ready too get to run first (Thread.yield_, entering in turn).
  bool suspend_until(std::function<bool()> ready, bool cancellable);
  // For a built-in that may have to wait for `w`'s event: true once it is
  // there (a synchronous caller waits for it), false for an async caller
  // that is to be answered BLOCKED.
  bool await_event(Waitable& w, bool async);
  // Calls `f` from `caller` (null: the host) with Store.invoke's protocol:
  // the callee pulls its arguments with on_start and pushes its result (or
  // nothing when cancelled) with on_resolve, possibly after this returns.
  // Returns how to request the call's cancellation while it runs on (null
  // when it resolved).
  std::function<void()> invoke(ComponentInstance* caller, ComponentFunc& f, OnStart on_start, OnResolve on_resolve);

  // canon_lift of async-typed or async-lifted functions (resources.cpp).
  std::shared_ptr<Task> start_task(ComponentInstance* caller, ComponentFunc& f, OnStart on_start,
                                   OnResolve on_resolve);
  void run_task(const std::shared_ptr<Task>& task);
  void enter_task(const std::shared_ptr<Task>& task);
  void callback_loop(const std::shared_ptr<Task>& task, uint32_t packed);
  void exit_implicit_thread(Task& task);
  // canon task.return of the current task (resources.cpp: it lifts handles).
  void task_return(engine::HostCall& call, const Type* result, const RtOptions& opts);
  engine::Function* lower_async(ComponentInstance* caller, ComponentFunc* callee,
                                std::shared_ptr<const CanonPlan> plan);
  // Calls a host function; a synchronous caller waits for a deferred one.
  std::vector<Val> call_host(ComponentInstance* caller, ComponentFunc& f, std::span<const Val> args);
  // Starts a host function: null when it resolved (on_resolve has run), or
  // the call that resolves later (host_async.cpp).
  std::shared_ptr<HostPending> start_host(ComponentFunc& f, std::span<const Val> args, OnResolve on_resolve);
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
  std::vector<Thread*> current_;  // running threads, innermost last
  std::vector<Thread*> waiting_;  // Store.waiting, oldest first
  // Engine stacks of ended threads, for the next ones.
  std::vector<std::unique_ptr<engine::CallStacks>> free_stacks_;
  std::map<uint64_t, std::shared_ptr<SharedCopy>> in_flight_;
  uint64_t next_in_flight_ = 0;
  std::map<uint64_t, std::shared_ptr<const ErrorContext>> lifted_errors_;
  uint64_t next_lifted_error_ = 0;
  std::deque<std::function<void()>> posted_;  // host work for the scheduler, oldest first
  std::function<bool(bool)> event_loop_;
  bool poisoned_ = false;  // some instance trapped: its waiting threads are to be discarded
};

}  // namespace weft::component
