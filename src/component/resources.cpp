// The runtime's calls across the canonical ABI: canon lift (a host calling
// into a component), canon lower (trampolines a core instance imports),
// resource.new/rep/drop, and the handle rules of lift_own/lift_borrow/
// lower_own/lower_borrow (definitions.py).
#include <string>
#include <utility>

#include "component/canonical.h"
#include "component/concurrency.h"
#include "component/instance.h"

namespace weft::component {

namespace {

uint64_t slot_of(const engine::Value& v) {
  switch (v.type) {
    case wasm::ValType::I32:
      return v.i32;
    case wasm::ValType::F32:
      return v.f32;
    default:
      return v.i64;
  }
}

engine::Value value_of(wasm::ValType t, uint64_t slot) {
  switch (t) {
    case wasm::ValType::I32:
      return engine::Value::make_i32(static_cast<uint32_t>(slot));
    case wasm::ValType::F32:
      return engine::Value::make_f32_bits(static_cast<uint32_t>(slot));
    case wasm::ValType::F64:
      return engine::Value::make_f64_bits(slot);
    default:
      return engine::Value::make_i64(slot);
  }
}

CanonOptions canon_options(const RtOptions& o) {
  CanonOptions c;
  c.string_encoding = static_cast<StringEncoding>(o.string_encoding);
  c.memory = o.memory;
  c.realloc = o.realloc;
  c.post_return = o.post_return;
  c.async = o.async;
  c.callback = o.callback;
  return c;
}

const Type* resource_of(const Type* t) { return t->kind == TypeKind::Resource ? t : t->a; }

void check_type(const ResourceHandle& h, const Type* rt, uint32_t i) {
  if (h.rt != rt) trap("handle index " + std::to_string(i) + " used with the wrong type");
}

}  // namespace

// Handles as one instance sees them during one call. `borrow_scope` counts
// borrows lowered into the callee (its task's num_borrows); `lenders` are
// the caller's handles lent out for the call (its subtask).
class InstanceHooks : public ResourceHooks {
 public:
  InstanceHooks(Runtime& rt, ComponentInstance* inst, uint32_t* borrow_scope = nullptr)
      : rt_(rt), inst_(inst), borrow_scope_(borrow_scope) {}

  uint64_t lift_own(uint32_t i, const Type* t) override {
    ResourceHandle h = inst_->handles.remove_resource(i);
    check_type(h, resource_of(t), i);
    trap_if(h.num_lends != 0, "cannot remove owned resource while borrowed");
    trap_if(!h.own, "cannot lift a borrowed handle as owned");
    return h.rep;
  }

  uint64_t lift_borrow(uint32_t i, const Type* t) override {
    ResourceHandle& h = inst_->handles.resource(i);
    check_type(h, resource_of(t), i);
    h.num_lends++;
    lenders.push_back(i);
    return h.rep;
  }

  uint32_t lower_own(uint64_t rep, const Type* t) override {
    return inst_->handles.add(ResourceHandle{resource_of(t), static_cast<uint32_t>(rep), true, 0, nullptr});
  }

  uint32_t lower_borrow(uint64_t rep, const Type* t) override {
    const Type* rt = resource_of(t);
    if (rt_.resources_.at(rt).impl == inst_) return static_cast<uint32_t>(rep);
    ++*borrow_scope_;
    return inst_->handles.add(ResourceHandle{rt, static_cast<uint32_t>(rep), false, 0, borrow_scope_});
  }

  uint64_t lift_async_value(uint32_t i, const Type* t) override { return rt_.lift_async_value(inst_, i, t); }

  uint32_t lower_async_value(uint64_t token, const Type* t) override {
    return rt_.lower_async_value(inst_, token, t);
  }

  uint64_t lift_error_context(uint32_t i) override { return rt_.lift_error_context(inst_, i); }
  uint32_t lower_error_context(uint64_t token) override { return rt_.lower_error_context(inst_, token); }

  // Subtask resolution: the lent handles may be dropped again.
  void release_lenders() {
    for (uint32_t i : lenders) inst_->handles.resource(i).num_lends--;
    lenders.clear();
  }

  std::vector<uint32_t> lenders;

 private:
  Runtime& rt_;
  ComponentInstance* inst_;
  uint32_t* borrow_scope_;
};

Runtime::Runtime(engine::Store& store, std::shared_ptr<TypeStore> types)
    : store_(store), types_(std::move(types)), layouts_(std::make_unique<Layouts>()) {}

Runtime::~Runtime() { release_waiting(); }

std::unique_ptr<ResourceHooks> Runtime::hooks_for(ComponentInstance* inst) {
  return std::make_unique<InstanceHooks>(*this, inst);
}

const Type* Runtime::define_resource(ComponentInstance* inst, engine::Function* dtor) {
  const Type* t = types_->fresh_resource(wasm::ValType::I32, std::nullopt, false);
  resources_[t] = {inst, dtor};
  return t;
}

ComponentFunc* Runtime::lift(ComponentInstance* inst, const Type* ft, engine::Function* core,
                             const RtOptions& opts) {
  auto f = std::make_unique<ComponentFunc>();
  f->type = ft;
  f->instance = inst;
  f->core = core;
  f->plan =
      std::make_shared<CanonPlan>(make_canon_plan(*layouts_, ft, canon_options(opts), CanonContext::Lift));
  funcs_.push_back(std::move(f));
  return funcs_.back().get();
}

// canon_lift, synchronous: lower the arguments into the callee, run it,
// lift its results, post-return, and check that it dropped every borrow.
// Async functions run as tasks the caller waits for.
std::vector<Val> Runtime::call_from(ComponentInstance* caller, ComponentFunc& f, std::span<const Val> args) {
  if (f.host) return call_host(caller, f, args);
  if (f.type->async || f.plan->opts.async) {
    // Shared: the calling thread may be discarded while the task runs on.
    auto results = std::make_shared<std::optional<std::vector<Val>>>();
    start_task(
        caller, f, [args = std::vector<Val>(args.begin(), args.end())] { return args; },
        [results](std::optional<std::vector<Val>> r) { *results = std::move(r); });
    auto resolved = [results] { return results->has_value(); };
    if (caller) {
      wait_until(resolved);
    } else {
      run_until(resolved);
    }
    return std::move(**results);
  }
  ComponentInstance* inst = f.instance;
  trap_if(!inst->may_enter || inst == caller, "cannot enter component instance");
  const CanonPlan& plan = *f.plan;
  Task task(f, nullptr, nullptr);
  ThreadScope thread(*this, task.implicit_thread);  // the call's task, through post-return
  InstanceHooks hooks(*this, inst, &task.num_borrows);
  LiftLowerContext cx{plan.opts, store_, &hooks};
  std::vector<Val> results;
  try {
    std::vector<uint64_t> flat_args = lower_values(cx, plan.params, args);
    std::vector<engine::Value> core_args;
    for (size_t i = 0; i < flat_args.size(); ++i)
      core_args.push_back(value_of(plan.core_type.params[i], flat_args[i]));
    std::vector<engine::Value> core_results = store_.call(f.core, core_args);
    std::vector<uint64_t> flat_results;
    for (const engine::Value& v : core_results) flat_results.push_back(slot_of(v));
    CoreValueIter vi(flat_results);
    results = lift_values(cx, plan.results, vi);
    task.state = Task::State::RESOLVED;
    inst->may_leave = false;  // post-return may not call out
    post_return(store_, plan, flat_results);
    inst->may_leave = true;
    trap_if(task.num_borrows != 0, "borrow handles still remain at the end of the call");
  } catch (const engine::Trap&) {
    inst->may_enter = false;
    poisoned_ = true;
    throw;
  }
  return results;
}

void Runtime::start_call(ComponentFunc& f, std::vector<Val> args, OnResolve on_resolve) {
  if (f.host || !(f.type->async || f.plan->opts.async)) {
    post([this, &f, args = std::move(args), on_resolve = std::move(on_resolve)] {
      on_resolve(call_from(nullptr, f, args));
    });
    return;
  }
  start_task(
      nullptr, f, [args = std::move(args)] { return args; }, std::move(on_resolve));
}

// canon_lift of an async function type or with the async option: the
// task's implicit thread starts on its fiber, and this returns once it
// blocks or ends. Task.enter_implicit_thread may wait for backpressure
// first.
std::shared_ptr<Task> Runtime::start_task(ComponentInstance* caller, ComponentFunc& f, OnStart on_start,
                                          OnResolve on_resolve) {
  ComponentInstance* inst = f.instance;
  trap_if(!inst->may_enter || inst == caller, "cannot enter component instance");
  auto task = std::make_shared<Task>(f, std::move(on_start), std::move(on_resolve));
  // The fiber's body holds the task until it ends.
  spawn(task->implicit_thread, [this, task] {
    if (task->ft_async()) {
      ComponentInstance* inst = task->inst;
      auto has_backpressure = [inst, t = task.get()] {
        return inst->backpressure > 0 || (t->needs_exclusive() && inst->exclusive_thread);
      };
      if (has_backpressure() || inst->num_waiting_to_enter > 0) {
        inst->num_waiting_to_enter++;
        const bool cancelled = suspend_until([has_backpressure] { return !has_backpressure(); }, true);
        inst->num_waiting_to_enter--;
        if (cancelled) {
          task->cancel();
          return;
        }
      }
    }
    run_task(task);
  });
  return task;
}

// canon_lift's thread_func once the task has entered, on its own thread.
// A trap poisons the instance (and reaches the host through the scheduler).
void Runtime::run_task(const std::shared_ptr<Task>& task) {
  try {
    enter_task(task);
  } catch (const engine::Trap&) {
    task->inst->may_enter = false;
    poisoned_ = true;
    throw;
  }
}

void Runtime::enter_task(const std::shared_ptr<Task>& task) {
  ComponentInstance* inst = task->inst;
  const CanonPlan& plan = *task->func.plan;
  if (task->ft_async() && task->needs_exclusive()) inst->exclusive_thread = &task->implicit_thread;
  InstanceHooks hooks(*this, inst, &task->num_borrows);
  LiftLowerContext cx{plan.opts, store_, &hooks};
  std::vector<Val> args = task->start();
  std::vector<uint64_t> flat_args = lower_values(cx, plan.params, args);
  std::vector<engine::Value> core_args;
  for (size_t i = 0; i < flat_args.size(); ++i) core_args.push_back(value_of(plan.core_type.params[i], flat_args[i]));
  if (!plan.opts.async) {
    std::vector<engine::Value> core_results = store_.call(task->func.core, core_args);
    std::vector<uint64_t> flat_results;
    for (const engine::Value& v : core_results) flat_results.push_back(slot_of(v));
    CoreValueIter vi(flat_results);
    task->return_(lift_values(cx, plan.results, vi));
    inst->may_leave = false;  // post-return may not call out
    post_return(store_, plan, flat_results);
    inst->may_leave = true;
    exit_implicit_thread(*task);
    return;
  }
  if (!plan.opts.callback) {
    // Stackful: it blocks on its fiber (Runtime::wait_until).
    store_.call(task->func.core, core_args);
    exit_implicit_thread(*task);
    return;
  }
  std::vector<engine::Value> packed = store_.call(task->func.core, core_args);
  callback_loop(task, packed.at(0).i32);
}

// canon_lift's callback loop: each callback's code says whether the task
// is done or what it waits for (without the instance's exclusive hold)
// before its next callback.
void Runtime::callback_loop(const std::shared_ptr<Task>& task, uint32_t packed) {
  ComponentInstance* inst = task->inst;
  for (;;) {
    const uint32_t code = packed & 0xf;
    if (code > static_cast<uint32_t>(CallbackCode::MAX)) trap("unsupported callback code: " + std::to_string(code));
    if (code == static_cast<uint32_t>(CallbackCode::EXIT)) break;
    inst->exclusive_thread = nullptr;
    std::shared_ptr<WaitableSet> wset;
    std::function<bool()> ready = [inst] { return !inst->exclusive_thread; };
    if (code == static_cast<uint32_t>(CallbackCode::WAIT)) {
      auto* e = std::get_if<std::shared_ptr<WaitableSet>>(&inst->handles.get(packed >> 4));
      trap_if(!e, "callback WAIT: handle is not a waitable set");
      wset = *e;
      wset->num_waiting++;
      ready = [inst, w = wset.get()] { return !inst->exclusive_thread && w->has_pending_event(); };
    }
    const bool cancelled = suspend_until(std::move(ready), true);
    EventTuple event;
    if (cancelled) event.code = EventCode::TASK_CANCELLED;
    if (wset) {
      if (!cancelled) event = wset->get_pending_event();
      wset->num_waiting--;
    }
    inst->exclusive_thread = &task->implicit_thread;
    engine::Value args[3] = {engine::Value::make_i32(static_cast<uint32_t>(event.code)),
                             engine::Value::make_i32(event.index), engine::Value::make_i32(event.payload)};
    packed = store_.call(task->func.plan->opts.callback, args).at(0).i32;
  }
  exit_implicit_thread(*task);
}

void Runtime::exit_implicit_thread(Task& task) {
  trap_if(task.state != Task::State::RESOLVED, "async-lifted export failed to produce a result");
  if (task.ft_async() && task.needs_exclusive()) task.inst->exclusive_thread = nullptr;
}

std::vector<Val> Runtime::call_host(ComponentInstance* caller, ComponentFunc& f, std::span<const Val> args) {
  // Shared: a trap while waiting leaves the call pending with this.
  auto results = std::make_shared<std::optional<std::vector<Val>>>();
  if (start_host(f, args, [results](std::optional<std::vector<Val>> r) { *results = std::move(r); })) {
    auto resolved = [results] { return results->has_value(); };
    if (caller) {
      wait_until(resolved);
    } else {
      run_until(resolved);
    }
  }
  trap_if(!results->has_value(), "host function was cancelled");
  return std::move(**results);
}

// canon_lower: a core host function that lifts its arguments out of the
// caller, calls the callee, and lowers the results back into the caller.
engine::Function* Runtime::lower(ComponentInstance* caller, ComponentFunc* callee, const RtOptions& opts) {
  auto plan = std::make_shared<CanonPlan>(
      make_canon_plan(*layouts_, callee->type, canon_options(opts), CanonContext::Lower));
  if (opts.async) return lower_async(caller, callee, std::move(plan));
  const wasm::FuncType& core_type = plan->core_type;
  return store_.create_host_function(
      core_type, "canon lower", [this, caller, callee, plan](engine::HostCall& call) {
        trap_if(!caller->may_leave, "cannot leave component instance");
        InstanceHooks hooks(*this, caller);
        LiftLowerContext cx{plan->opts, store_, &hooks};
        size_t nparams = plan->core_type.params.size();
        std::vector<uint64_t> flat(call.slots, call.slots + nparams);
        std::optional<uint64_t> out_param;
        if (plan->results.spilled()) {
          out_param = flat.back();
          flat.pop_back();
        }
        CoreValueIter vi(flat);
        std::vector<Val> args = lift_values(cx, plan->params, vi);
        std::vector<Val> results = call_from(caller, *callee, args);
        hooks.release_lenders();
        std::vector<uint64_t> flat_results = lower_values(cx, plan->results, results, out_param);
        for (size_t i = 0; i < flat_results.size(); ++i) call.slots[i] = flat_results[i];
      });
}

void Runtime::task_return(engine::HostCall& call, const Type* result, const RtOptions& opts) {
  Task& task = *current_thread().task;
  trap_if(!task.opts_async(), "task.return called from a synchronous task");
  trap_if(result != task.func.type->a, "task.return result type does not match the function's");
  const CanonPlan& plan = *task.func.plan;
  // LiftOptions.equal, except that (as in wasmtime, which the reference
  // tests follow) a task.return without a memory option matches any.
  trap_if(static_cast<StringEncoding>(opts.string_encoding) != plan.opts.string_encoding ||
              (opts.memory && opts.memory != plan.opts.memory),
          "task.return options do not match the function's");
  InstanceHooks hooks(*this, task.inst, &task.num_borrows);
  LiftLowerContext cx{plan.opts, store_, &hooks};
  CoreValueIter vi(std::span<const uint64_t>(call.slots, plan.results.spilled() ? 1 : plan.results.flat.size()));
  task.return_(lift_values(cx, plan.results, vi));
}

// canon_lower with the async option: the callee runs until it returns or
// blocks; then the caller gets its Subtask's state, and its handle while
// unresolved (state | index << 4), and SUBTASK events as it progresses.
engine::Function* Runtime::lower_async(ComponentInstance* caller, ComponentFunc* callee,
                                       std::shared_ptr<const CanonPlan> plan) {
  const wasm::FuncType& core_type = plan->core_type;
  return store_.create_host_function(core_type, "canon lower", [this, caller, callee, plan](engine::HostCall& call) {
    trap_if(!caller->may_leave, "cannot leave component instance");
    auto flat_args = std::make_shared<std::vector<uint64_t>>(call.slots, call.slots + plan->core_type.params.size());
    std::optional<uint64_t> out_param;
    if (plan->results.spilled()) {
      out_param = flat_args->back();
      flat_args->pop_back();
    }
    auto hooks = std::make_shared<InstanceHooks>(*this, caller);
    auto subtask = std::make_shared<Subtask>();
    subtask->on_deliver = [hooks] { hooks->release_lenders(); };
    auto on_progress = std::make_shared<std::function<void()>>();
    auto on_start = [this, plan, flat_args, hooks, subtask, on_progress] {
      if (*on_progress) (*on_progress)();
      subtask->state = Subtask::State::STARTED;
      LiftLowerContext cx{plan->opts, store_, hooks.get()};
      CoreValueIter vi(*flat_args);
      return lift_values(cx, plan->params, vi);
    };
    auto on_resolve = [this, plan, hooks, subtask, on_progress, out_param](std::optional<std::vector<Val>> result) {
      if (*on_progress) (*on_progress)();
      if (!result) {
        subtask->resolve(subtask->state == Subtask::State::STARTING ? Subtask::State::CANCELLED_BEFORE_STARTED
                                                                    : Subtask::State::CANCELLED_BEFORE_RETURNED);
        return;
      }
      LiftLowerContext cx{plan->opts, store_, hooks.get()};
      lower_values(cx, plan->results, *result, out_param);
      subtask->resolve(Subtask::State::RETURNED);
    };
    subtask->on_cancel = invoke(caller, *callee, on_start, on_resolve);
    if (!subtask->on_cancel) subtask->on_cancel = [] {};
    if (subtask->resolved()) {
      subtask->deliver_resolve();
      call.set_i32(0, static_cast<uint32_t>(Subtask::State::RETURNED));
      return;
    }
    const uint32_t subtaski = caller->handles.add(subtask);
    *on_progress = [s = subtask.get(), subtaski] {
      s->set_pending_event([s, subtaski] {
        if (s->resolved()) s->deliver_resolve();
        return EventTuple{EventCode::SUBTASK, subtaski, static_cast<uint32_t>(s->state)};
      });
    };
    call.set_i32(0, static_cast<uint32_t>(subtask->state) | (subtaski << 4));
  });
}

engine::Function* Runtime::resource_builtin(ComponentInstance* inst, ResourceBuiltin which, const Type* rt) {
  using wasm::ValType;
  switch (which) {
    case ResourceBuiltin::New:
      return store_.create_host_function(
          {{ValType::I32}, {ValType::I32}}, "resource.new", [inst, rt](engine::HostCall& call) {
            trap_if(!inst->may_leave, "cannot leave component instance");
            call.set_i32(0, inst->handles.add(ResourceHandle{rt, call.i32(0), true, 0, nullptr}));
          });
    case ResourceBuiltin::Rep:
      return store_.create_host_function({{ValType::I32}, {ValType::I32}}, "resource.rep",
                                         [inst, rt](engine::HostCall& call) {
                                           ResourceHandle& h = inst->handles.resource(call.i32(0));
                                           check_type(h, rt, call.i32(0));
                                           call.set_i32(0, h.rep);
                                         });
    case ResourceBuiltin::Drop:
      break;
  }
  return store_.create_host_function(
      {{ValType::I32}, {}}, "resource.drop", [this, inst, rt](engine::HostCall& call) {
        trap_if(!inst->may_leave, "cannot leave component instance");
        ResourceHandle h = inst->handles.remove_resource(call.i32(0));
        check_type(h, rt, call.i32(0));
        if (!h.own) {
          --*h.borrow_scope;
          return;
        }
        trap_if(h.num_lends != 0, "cannot remove owned resource while borrowed");
        const ResourceType& r = resources_.at(rt);
        if (!r.dtor) return;
        trap_if(r.impl && r.impl != inst && !r.impl->may_enter, "cannot enter component instance");
        engine::Value arg = engine::Value::make_i32(h.rep);
        store_.call(r.dtor, std::span<const engine::Value>(&arg, 1));
      });
}

}  // namespace weft::component
