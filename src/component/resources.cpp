// The runtime's calls across the canonical ABI: canon lift (a host calling
// into a component), canon lower (trampolines a core instance imports),
// resource.new/rep/drop, and the handle rules of lift_own/lift_borrow/
// lower_own/lower_borrow (definitions.py).
#include <string>
#include <utility>

#include "component/canonical.h"
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
  return c;
}

const Type* resource_of(const Type* t) { return t->kind == TypeKind::Resource ? t : t->a; }

void check_type(const ResourceHandle& h, const Type* rt, uint32_t i) {
  if (h.rt != rt) trap("handle index " + std::to_string(i) + " used with the wrong type");
}

}  // namespace

// Handles as one instance sees them during one call. `borrow_scope` counts
// borrows lowered into the callee (its task); `lenders` are the caller's
// handles lent out for the call (its subtask).
class InstanceHooks : public ResourceHooks {
 public:
  InstanceHooks(Runtime& rt, ComponentInstance* inst) : rt_(rt), inst_(inst) {}

  uint64_t lift_own(uint32_t i, const Type* t) override {
    ResourceHandle h = inst_->handles.remove(i);
    check_type(h, resource_of(t), i);
    trap_if(h.num_lends != 0, "cannot remove owned resource while borrowed");
    trap_if(!h.own, "cannot lift a borrowed handle as owned");
    return h.rep;
  }

  uint64_t lift_borrow(uint32_t i, const Type* t) override {
    ResourceHandle& h = inst_->handles.get(i);
    check_type(h, resource_of(t), i);
    h.num_lends++;
    lenders.push_back(i);
    return h.rep;
  }

  uint32_t lower_own(uint64_t rep, const Type* t) override {
    return inst_->handles.add({resource_of(t), static_cast<uint32_t>(rep), true, 0, nullptr});
  }

  uint32_t lower_borrow(uint64_t rep, const Type* t) override {
    const Type* rt = resource_of(t);
    if (rt_.resources_.at(rt).impl == inst_) return static_cast<uint32_t>(rep);
    borrow_scope++;
    return inst_->handles.add({rt, static_cast<uint32_t>(rep), false, 0, &borrow_scope});
  }

  // Subtask resolution: the lent handles may be dropped again.
  void release_lenders() {
    for (uint32_t i : lenders) inst_->handles.get(i).num_lends--;
    lenders.clear();
  }

  uint32_t borrow_scope = 0;
  std::vector<uint32_t> lenders;

 private:
  Runtime& rt_;
  ComponentInstance* inst_;
};

Runtime::Runtime(engine::Store& store, std::shared_ptr<TypeStore> types)
    : store_(store), types_(std::move(types)), layouts_(std::make_unique<Layouts>()) {}

Runtime::~Runtime() = default;

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
std::vector<Val> Runtime::call_from(ComponentInstance* caller, ComponentFunc& f, std::span<const Val> args) {
  if (f.host) return call_host(f, args);
  ComponentInstance* inst = f.instance;
  trap_if(!inst->may_enter || inst == caller, "cannot enter component instance");
  const CanonPlan& plan = *f.plan;
  ThreadScope thread(*this);  // the call's task, through post-return
  InstanceHooks hooks(*this, inst);
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
    inst->may_leave = false;  // post-return may not call out
    post_return(store_, plan, flat_results);
    inst->may_leave = true;
    trap_if(hooks.borrow_scope != 0, "borrow handles still remain at the end of the call");
  } catch (const engine::Trap&) {
    inst->may_enter = false;
    throw;
  }
  return results;
}

std::vector<Val> Runtime::call_host(ComponentFunc& f, std::span<const Val> args) {
  HostCall call{*this, f.type, args, std::nullopt};
  (*f.host)(call);
  std::vector<Val> results;
  if (f.type->a) {
    trap_if(!call.result || call.result->type != f.type->a, "host function returned a value of another type");
    results.push_back(std::move(*call.result));
  }
  return results;
}

// canon_lower: a core host function that lifts its arguments out of the
// caller, calls the callee, and lowers the results back into the caller.
engine::Function* Runtime::lower(ComponentInstance* caller, ComponentFunc* callee, const RtOptions& opts) {
  auto plan = std::make_shared<CanonPlan>(
      make_canon_plan(*layouts_, callee->type, canon_options(opts), CanonContext::Lower));
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

engine::Function* Runtime::resource_builtin(ComponentInstance* inst, ResourceBuiltin which, const Type* rt) {
  using wasm::ValType;
  switch (which) {
    case ResourceBuiltin::New:
      return store_.create_host_function(
          {{ValType::I32}, {ValType::I32}}, "resource.new", [inst, rt](engine::HostCall& call) {
            trap_if(!inst->may_leave, "cannot leave component instance");
            call.set_i32(0, inst->handles.add({rt, call.i32(0), true, 0, nullptr}));
          });
    case ResourceBuiltin::Rep:
      return store_.create_host_function({{ValType::I32}, {ValType::I32}}, "resource.rep",
                                         [inst, rt](engine::HostCall& call) {
                                           ResourceHandle& h = inst->handles.get(call.i32(0));
                                           check_type(h, rt, call.i32(0));
                                           call.set_i32(0, h.rep);
                                         });
    case ResourceBuiltin::Drop:
      break;
  }
  return store_.create_host_function(
      {{ValType::I32}, {}}, "resource.drop", [this, inst, rt](engine::HostCall& call) {
        trap_if(!inst->may_leave, "cannot leave component instance");
        ResourceHandle h = inst->handles.remove(call.i32(0));
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
