// The canon built-ins other than lift, lower and resource.* (CanonicalABI.md
// "canon context.get" .. "canon thread.available-parallelism"). Each becomes
// a core host function of the spec's core signature. A synchronous call is a
// task on its own thread, so context.get/set, backpressure.inc/dec and
// thread.available-parallelism work now; the rest need the async runtime
// (tasks that block, waitables, streams and futures, threads) and trap when
// called.
#include <stdexcept>
#include <string>
#include <utility>

#include "component/canonical.h"
#include "component/decoder.h"
#include "component/instance.h"

namespace weft::component {

namespace {

using wasm::ValType;

// The spec's core function type of built-in `c`. Pointers and lengths are
// i32: like the validator, this runtime has no memory64 (🐘) built-ins.
// `result` is task.return's result layout (null when it has none).
wasm::FuncType core_type(const Canon& c, const Layout* result) {
  using V = ValType;
  switch (c.kind) {
    case CanonKind::BackpressureInc:
    case CanonKind::BackpressureDec:
    case CanonKind::TaskCancel: return {{}, {}};
    case CanonKind::TaskReturn: {
      // flatten_functype(opts, (func (param $t)?), 'lower')
      if (!result) return {{}, {}};
      if (result->flat.size() > MAX_FLAT_PARAMS) return {{V::I32}, {}};
      return {result->flat, {}};
    }
    case CanonKind::ContextGet: return {{}, {c.core_type}};
    case CanonKind::ContextSet: return {{c.core_type}, {}};
    case CanonKind::StreamNew:
    case CanonKind::FutureNew: return {{}, {V::I64}};
    case CanonKind::StreamRead:
    case CanonKind::StreamWrite: return {{V::I32, V::I32, V::I32}, {V::I32}};
    case CanonKind::FutureRead:
    case CanonKind::FutureWrite:
    case CanonKind::WaitableSetWait:
    case CanonKind::WaitableSetPoll:
    case CanonKind::ErrorContextNew:
    case CanonKind::ThreadNewIndirect:
    case CanonKind::ThreadSpawnIndirect: return {{V::I32, V::I32}, {V::I32}};
    case CanonKind::ThreadSpawnRef: return {{V::FuncRef, V::I32}, {V::I32}};
    case CanonKind::ErrorContextDebugMessage:
    case CanonKind::WaitableJoin: return {{V::I32, V::I32}, {}};
    case CanonKind::SubtaskCancel:
    case CanonKind::StreamCancelRead:
    case CanonKind::StreamCancelWrite:
    case CanonKind::FutureCancelRead:
    case CanonKind::FutureCancelWrite:
    case CanonKind::ThreadSuspendThenResume:
    case CanonKind::ThreadYieldThenResume:
    case CanonKind::ThreadSuspendThenPromote:
    case CanonKind::ThreadYieldThenPromote: return {{V::I32}, {V::I32}};
    case CanonKind::SubtaskDrop:
    case CanonKind::StreamDropReadable:
    case CanonKind::StreamDropWritable:
    case CanonKind::FutureDropReadable:
    case CanonKind::FutureDropWritable:
    case CanonKind::ErrorContextDrop:
    case CanonKind::WaitableSetDrop:
    case CanonKind::ThreadResumeLater: return {{V::I32}, {}};
    case CanonKind::WaitableSetNew:
    case CanonKind::ThreadIndex:
    case CanonKind::ThreadSuspend:
    case CanonKind::ThreadYield:
    case CanonKind::ThreadAvailableParallelism: return {{}, {V::I32}};
    case CanonKind::Lift:
    case CanonKind::Lower:
    case CanonKind::ResourceNew:
    case CanonKind::ResourceDrop:
    case CanonKind::ResourceRep: break;
  }
  throw std::logic_error(std::string("not a canon built-in: ") + to_string(c.kind));
}

// Built-ins whose spec definition does not start with
// trap_if(not inst.may_leave): they may run in post-return.
bool may_run_without_leaving(CanonKind k) {
  return k == CanonKind::ContextGet || k == CanonKind::ContextSet || k == CanonKind::BackpressureInc ||
         k == CanonKind::BackpressureDec || k == CanonKind::ThreadAvailableParallelism;
}

}  // namespace

Runtime::ThreadScope::ThreadScope(Runtime& rt) : rt_(rt) { rt_.threads_.emplace_back(); }

Runtime::ThreadScope::~ThreadScope() { rt_.threads_.pop_back(); }

engine::Function* Runtime::canon_builtin(ComponentInstance* inst, const Canon& c, const Type* result) {
  const char* name = to_string(c.kind);
  wasm::FuncType type = core_type(c, result ? layouts_->of(result) : nullptr);
  const bool check_leave = !may_run_without_leaving(c.kind);
  auto body = [this, inst, kind = c.kind, slot = c.slot, name](engine::HostCall& call) {
    switch (kind) {
      case CanonKind::ContextGet:
      case CanonKind::ContextSet: {
        if (threads_.empty()) trap(std::string(name) + " called outside of a task");
        uint32_t& storage = threads_.back().storage[slot];
        if (kind == CanonKind::ContextGet) {
          call.set_i32(0, storage);
        } else {
          storage = call.i32(0);
        }
        return;
      }
      case CanonKind::BackpressureInc:
        if (inst->backpressure + 1 == ComponentInstance::MAX_BACKPRESSURE)
          trap("backpressure counter overflow");
        ++inst->backpressure;
        return;
      case CanonKind::BackpressureDec:
        if (inst->backpressure == 0) trap("backpressure counter underflow");
        --inst->backpressure;
        return;
      case CanonKind::ThreadAvailableParallelism:
        call.set_i32(0, 1);  // threads here never run in parallel
        return;
      default:
        trap(std::string(name) + " is not supported yet (async component model)");
    }
  };
  return store_.create_host_function(type, name, [inst, check_leave, body](engine::HostCall& call) {
    if (check_leave && !inst->may_leave) trap("cannot leave component instance");
    body(call);
  });
}

}  // namespace weft::component
