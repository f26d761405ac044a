// The canon built-ins other than lift, lower and resource.* (CanonicalABI.md
// "canon context.get" .. "canon thread.available-parallelism"). Each becomes
// a core host function of the spec's core signature. Those of tasks,
// subtasks, waitable sets, streams and futures run on the async runtime
// (concurrency.h, streams.cpp); explicit threads are not implemented yet and
// trap when called.
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "component/canonical.h"
#include "component/concurrency.h"
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

bool is_stream_or_future(CanonKind k) {
  return k >= CanonKind::StreamNew && k <= CanonKind::FutureDropWritable;  // contiguous in Binary.md
}

// The element at handle `i` as a T (a waitable or a waitable set).
template <class T>
std::shared_ptr<T> handle_as(ComponentInstance* inst, uint32_t i, const char* what) {
  std::shared_ptr<T> p;
  if (auto* w = std::get_if<std::shared_ptr<Waitable>>(&inst->handles.get(i))) {
    if constexpr (!std::is_same_v<T, WaitableSet>) p = std::dynamic_pointer_cast<T>(*w);
  } else if (auto* ws = std::get_if<std::shared_ptr<WaitableSet>>(&inst->handles.get(i))) {
    if constexpr (std::is_same_v<T, WaitableSet>) p = *ws;
  }
  if (!p) trap("handle index " + std::to_string(i) + " is not a " + what);
  return p;
}

// unpack_event: the event's payloads go to `ptr`, its code is the result.
void unpack_event(const RtOptions& opts, uint32_t ptr, const EventTuple& e, engine::HostCall& call) {
  trap_if(!opts.memory, "waitable-set.wait/poll: no memory option");
  trap_if(ptr % 4 != 0 || !opts.memory->in_bounds(ptr, 8), "waitable-set event pointer out of bounds");
  std::memcpy(opts.memory->data() + ptr, &e.index, 4);  // little-endian host
  std::memcpy(opts.memory->data() + ptr + 4, &e.payload, 4);
  call.set_i32(0, static_cast<uint32_t>(e.code));
}

}  // namespace

namespace {

std::shared_ptr<const ErrorContext> error_context_at(ComponentInstance* inst, uint32_t i) {
  auto* e = std::get_if<std::shared_ptr<const ErrorContext>>(&inst->handles.get(i));
  if (!e) trap("handle index " + std::to_string(i) + " is not an error context");
  return *e;
}

}  // namespace

uint64_t Runtime::lift_error_context(ComponentInstance* inst, uint32_t i) {
  const uint64_t token = next_lifted_error_++;
  lifted_errors_[token] = error_context_at(inst, i);
  return token;
}

uint32_t Runtime::lower_error_context(ComponentInstance* inst, uint64_t token) {
  auto it = lifted_errors_.find(token);
  trap_if(it == lifted_errors_.end(), "error context passed twice");
  std::shared_ptr<const ErrorContext> e = std::move(it->second);
  lifted_errors_.erase(it);
  return inst->handles.add(std::move(e));
}

// canon error-context.new / .debug-message / .drop. The debug message is
// kept as the guest gave it (the spec lets a host drop or change it).
void Runtime::error_context_builtin(engine::HostCall& call, CanonKind kind, ComponentInstance* inst,
                                    const RtOptions& opts) {
  CanonOptions copts;
  copts.string_encoding = static_cast<StringEncoding>(opts.string_encoding);
  copts.memory = opts.memory;
  copts.realloc = opts.realloc;
  LiftLowerContext cx{copts, store_, nullptr};
  const Layout& string = *layouts_->of(types_->primitive(TypeKind::String));
  switch (kind) {
    case CanonKind::ErrorContextNew: {
      trap_if(!opts.memory, "error-context.new needs a memory option");
      const uint64_t flat[2] = {call.i32(0), call.i32(1)};
      CoreValueIter vi(flat);
      auto e = std::make_shared<ErrorContext>();
      e->debug_message = lift_flat(cx, vi, string).str;
      call.set_i32(0, inst->handles.add(std::shared_ptr<const ErrorContext>(std::move(e))));
      return;
    }
    case CanonKind::ErrorContextDebugMessage: {
      std::shared_ptr<const ErrorContext> e = error_context_at(inst, call.i32(0));
      trap_if(!opts.memory || !opts.realloc, "error-context.debug-message needs memory and realloc options");
      const uint32_t ptr = call.i32(1);
      trap_if(ptr % string.align != 0 || !opts.memory->in_bounds(ptr, string.size),
              "error-context.debug-message pointer out of bounds");
      Val v;
      v.type = string.type;
      v.str = e->debug_message;
      component::store(cx, v, string, ptr);
      return;
    }
    default: {
      const uint32_t i = call.i32(0);
      error_context_at(inst, i);
      inst->handles.remove(i);
      return;
    }
  }
}

engine::Function* Runtime::canon_builtin(ComponentInstance* inst, const Canon& c, const Type* result,
                                         const RtOptions& opts) {
  const char* name = to_string(c.kind);
  wasm::FuncType type = core_type(c, c.kind == CanonKind::TaskReturn && result ? layouts_->of(result) : nullptr);
  const bool check_leave = !may_run_without_leaving(c.kind);
  auto body = [this, inst, kind = c.kind, slot = c.slot, flag = c.flag, name, result, opts](engine::HostCall& call) {
    if (is_stream_or_future(kind)) {
      copy_builtin(call, kind, inst, result, opts, flag);
      return;
    }
    if (kind == CanonKind::ErrorContextNew || kind == CanonKind::ErrorContextDebugMessage ||
        kind == CanonKind::ErrorContextDrop) {
      error_context_builtin(call, kind, inst, opts);
      return;
    }
    switch (kind) {
      case CanonKind::ContextGet:
      case CanonKind::ContextSet: {
        uint32_t& storage = current_thread().storage[slot];
        if (kind == CanonKind::ContextGet) {
          call.set_i32(0, storage);
        } else {
          storage = call.i32(0);
        }
        return;
      }
      case CanonKind::TaskReturn:
        task_return(call, result, opts);
        return;
      case CanonKind::TaskCancel: {
        Task& task = *current_thread().task;
        trap_if(!task.opts_async(), "task.cancel called from a synchronous task");
        task.cancel();
        return;
      }
      case CanonKind::WaitableSetNew:
        call.set_i32(0, inst->handles.add(std::make_shared<WaitableSet>()));
        return;
      case CanonKind::WaitableSetWait: {
        // WaitableSet.wait_for_event: a cancellable wait also ends when the
        // task's cancellation is requested.
        auto wset = handle_as<WaitableSet>(inst, call.i32(0), "waitable set");
        const uint32_t ptr = call.i32(1);
        // Outside of any task (a start function) wait_until traps.
        Task* task = current_.empty() ? nullptr : current_.back()->task;
        wset->num_waiting++;
        const bool cancelled = wait_until(
                                   [w = wset.get(), task, flag] {
                                     return w->has_pending_event() ||
                                            (flag && task->state == Task::State::PENDING_CANCEL);
                                   },
                                   flag) ||
                               task->deliver_pending_cancel(flag);
        wset->num_waiting--;
        unpack_event(opts, ptr, cancelled ? EventTuple{EventCode::TASK_CANCELLED, 0, 0} : wset->get_pending_event(),
                     call);
        return;
      }
      case CanonKind::WaitableSetPoll: {
        auto wset = handle_as<WaitableSet>(inst, call.i32(0), "waitable set");
        EventTuple e;
        if (current_thread().task->deliver_pending_cancel(flag)) {
          e.code = EventCode::TASK_CANCELLED;
        } else if (wset->has_pending_event()) {
          e = wset->get_pending_event();
        }
        unpack_event(opts, call.i32(1), e, call);
        return;
      }
      case CanonKind::SubtaskCancel: {
        const uint32_t i = call.i32(0);
        auto subtask = handle_as<Subtask>(inst, i, "subtask");
        trap_if(subtask->resolve_delivered(), "subtask has already resolved");
        trap_if(subtask->cancellation_requested, "subtask cancellation already requested");
        trap_if_sync_in_set(*subtask, flag);
        if (!subtask->resolved()) {
          subtask->cancellation_requested = true;
          subtask->on_cancel();
          if (!subtask->resolved()) {
            if (flag) {
              call.set_i32(0, BLOCKED);
              return;
            }
            wait_until([s = subtask.get()] { return s->has_pending_event(); });
          }
        }
        subtask->get_pending_event();
        call.set_i32(0, static_cast<uint32_t>(subtask->state));
        return;
      }
      case CanonKind::WaitableSetDrop: {
        auto wset = handle_as<WaitableSet>(inst, call.i32(0), "waitable set");
        wset->drop();
        inst->handles.remove(call.i32(0));
        return;
      }
      case CanonKind::WaitableJoin: {
        auto w = handle_as<Waitable>(inst, call.i32(0), "waitable");
        const uint32_t si = call.i32(1);
        w->join(si == 0 ? nullptr : handle_as<WaitableSet>(inst, si, "waitable set").get());
        return;
      }
      case CanonKind::SubtaskDrop: {
        auto subtask = handle_as<Subtask>(inst, call.i32(0), "subtask");
        subtask->drop();
        inst->handles.remove(call.i32(0));
        return;
      }
      case CanonKind::ThreadYield: {
        // Thread.yield_: others that are ready run first (a task that may
        // not block goes on).
        Task* task = current_.empty() ? nullptr : current_.back()->task;
        bool cancelled = false;
        if (task) {
          cancelled = (task->may_block() && suspend_until([] { return true; }, flag)) ||
                      task->deliver_pending_cancel(flag);
        }
        call.set_i32(0, cancelled ? 1 : 0);  // Cancelled
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
