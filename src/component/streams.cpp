// Streams and futures within the store (definitions.py "Buffer State",
// "Stream State", "Future State", canon stream.* / future.*): copies
// between the two ends' guest buffers, partial and zero-length copies, and
// the handle rules for passing readable ends in calls.
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "component/canonical.h"
#include "component/concurrency.h"
#include "component/decoder.h"

namespace weft::component {

namespace {

bool none_or_number_type(const Type* t) {
  if (!t) return true;
  switch (t->kind) {
    case TypeKind::U8:
    case TypeKind::U16:
    case TypeKind::U32:
    case TypeKind::U64:
    case TypeKind::S8:
    case TypeKind::S16:
    case TypeKind::S32:
    case TypeKind::S64:
    case TypeKind::F32:
    case TypeKind::F64:
      return true;
    default:
      return false;
  }
}

std::shared_ptr<CopyEnd> copy_end(ComponentInstance* inst, uint32_t i, bool readable, const Type* t) {
  auto* w = std::get_if<std::shared_ptr<Waitable>>(&inst->handles.get(i));
  auto e = w ? std::dynamic_pointer_cast<CopyEnd>(*w) : nullptr;
  const bool future = t->kind == TypeKind::Future;
  if (!e || e->readable != readable || e->shared->future != future)
    trap("handle index " + std::to_string(i) + " is not a " + (readable ? "readable " : "writable ") +
         (future ? "future end" : "stream end"));
  trap_if(e->shared->t != t->a, "stream or future end used with the wrong type");
  return e;
}

}  // namespace

CopyBuffer::~CopyBuffer() = default;

void transfer(CopyBuffer& src, CopyBuffer& dst, uint32_t n) {
  uint8_t* from = src.bytes();
  uint8_t* to = dst.bytes();
  if (from && to) {
    std::memmove(to, from, n);
    src.progress += n;
    dst.progress += n;
    return;
  }
  dst.write(src.read(n));
}

GuestBuffer::GuestBuffer(engine::Store& store, std::unique_ptr<ResourceHooks> hooks, const Layout* elem,
                         const RtOptions& opts, uint64_t ptr, uint32_t length)
    : CopyBuffer(length), store_(store), hooks_(std::move(hooks)), elem_(elem), ptr_(ptr) {
  opts_.string_encoding = static_cast<StringEncoding>(opts.string_encoding);
  opts_.memory = opts.memory;
  opts_.realloc = opts.realloc;
  trap_if(length > MAX_LENGTH, "stream or future buffer too long");
  if (elem && length > 0) {
    trap_if(!opts.memory, "stream or future copy needs a memory option");
    trap_if(ptr % elem->align != 0, "stream or future buffer pointer not aligned");
    trap_if(!opts.memory->in_bounds(ptr, uint64_t{length} * elem->size),
            "stream or future buffer out of bounds");
  }
}

GuestBuffer::~GuestBuffer() = default;

std::vector<Val> GuestBuffer::read(uint32_t n) {
  std::vector<Val> vs(n);
  if (elem_) {
    LiftLowerContext cx{opts_, store_, hooks_.get()};
    for (Val& v : vs) {
      v = load(cx, ptr_, *elem_);
      ptr_ += elem_->size;
    }
  }
  progress += n;
  return vs;
}

void GuestBuffer::write(const std::vector<Val>& vs) {
  if (elem_) {
    LiftLowerContext cx{opts_, store_, hooks_.get()};
    for (const Val& v : vs) {
      store(cx, v, *elem_, ptr_);
      ptr_ += elem_->size;
    }
  }
  progress += static_cast<uint32_t>(vs.size());
}

// Bytes stay where the constructor checked them: memory never shrinks.
uint8_t* GuestBuffer::bytes() {
  if (!elem_ || elem_->shape != Shape::U8 || !opts_.memory) return nullptr;
  return opts_.memory->data() + ptr_ + progress;
}

void SharedCopy::reset_pending() {
  pending_inst = nullptr;
  pending_buffer = nullptr;
  pending_on_copy = nullptr;
  pending_on_copy_done = nullptr;
}

void SharedCopy::reset_and_notify_pending(CopyResult result) {
  OnCopyDone on_copy_done = std::move(pending_on_copy_done);
  reset_pending();
  on_copy_done(result);
}

void SharedCopy::drop() {
  if (dropped) return;
  dropped = true;
  if (pending_buffer) reset_and_notify_pending(CopyResult::DROPPED);
  if (on_drop) std::exchange(on_drop, nullptr)();
}

// SharedStreamImpl.read / .write and SharedFutureImpl.read / .write: the
// spec's two functions are mirror images (but for the zero-length write
// rendezvous), so one copy serves both, `mine` being the caller's buffer.
void SharedCopy::copy(ComponentInstance* inst, CopyBuffer* mine, bool reading, OnCopy on_copy,
                      OnCopyDone on_copy_done) {
  if (dropped) {
    on_copy_done(CopyResult::DROPPED);
    return;
  }
  if (!pending_buffer) {
    pending_inst = inst;
    pending_buffer = mine;
    pending_on_copy = std::move(on_copy);
    pending_on_copy_done = std::move(on_copy_done);
    return;
  }
  trap_if(inst && inst == pending_inst && !none_or_number_type(t),
          future ? "cannot read from and write to intra-component future"
                 : "cannot read from and write to intra-component stream");
  CopyBuffer* src = reading ? pending_buffer : mine;
  CopyBuffer* dst = reading ? mine : pending_buffer;
  if (future) {
    transfer(*src, *dst, 1);
    reset_and_notify_pending(CopyResult::COMPLETED);
    on_copy_done(CopyResult::COMPLETED);
  } else if (pending_buffer->remain() > 0) {
    if (mine->remain() > 0) {
      transfer(*src, *dst, std::min(src->remain(), dst->remain()));
      pending_on_copy([this] { reset_pending(); });
    }
    on_copy_done(CopyResult::COMPLETED);
  } else if (!reading && mine->is_zero_length() && pending_buffer->is_zero_length()) {
    on_copy_done(CopyResult::COMPLETED);
  } else {
    reset_and_notify_pending(CopyResult::COMPLETED);
    copy(inst, mine, reading, std::move(on_copy), std::move(on_copy_done));
  }
}

void CopyEnd::drop() {
  trap_if(copying(), shared->future ? "cannot drop busy future" : "cannot drop busy stream");
  trap_if(shared->future && !readable && state != CopyState::DONE,
          "cannot drop future write end without first writing a value");
  shared->drop();
  Waitable::drop();
}

// lift_async_value: the readable end leaves the instance's table for a
// registry entry the receiving side's lower_async_value takes.
uint64_t Runtime::lift_async_value(ComponentInstance* inst, uint32_t i, const Type* t) {
  auto e = copy_end(inst, i, true, t);
  trap_if(e->state != CopyState::IDLE,
          t->kind == TypeKind::Future
              ? "cannot lift future after previous read succeeded"
              : "cannot lift stream after being notified that the writable end dropped");
  trap_if(e->in_waitable_set(), t->kind == TypeKind::Future
                                    ? "cannot lift future while it's in a waitable set"
                                    : "cannot lift stream while it's in a waitable set");
  inst->handles.remove(i);
  const uint64_t id = next_in_flight_++;
  in_flight_[id] = e->shared;
  return id;
}

uint32_t Runtime::lower_async_value(ComponentInstance* inst, uint64_t id, const Type*) {
  auto it = in_flight_.find(id);
  trap_if(it == in_flight_.end(), "stream or future passed twice");
  auto e = std::make_shared<CopyEnd>(std::move(it->second), true);
  in_flight_.erase(it);
  return inst->handles.add(std::shared_ptr<Waitable>(std::move(e)));
}

void Runtime::copy_builtin(engine::HostCall& call, CanonKind kind, ComponentInstance* inst, const Type* t,
                           const RtOptions& opts, bool async) {
  const bool future = t->kind == TypeKind::Future;
  switch (kind) {
    case CanonKind::StreamNew:
    case CanonKind::FutureNew: {
      auto shared = std::make_shared<SharedCopy>(t->a, future);
      const uint64_t ri =
          inst->handles.add(std::shared_ptr<Waitable>(std::make_shared<CopyEnd>(shared, true)));
      const uint64_t wi =
          inst->handles.add(std::shared_ptr<Waitable>(std::make_shared<CopyEnd>(shared, false)));
      call.slots[0] = ri | (wi << 32);
      return;
    }
    case CanonKind::StreamRead:
    case CanonKind::StreamWrite:
    case CanonKind::FutureRead:
    case CanonKind::FutureWrite: {
      const bool readable = kind == CanonKind::StreamRead || kind == CanonKind::FutureRead;
      const uint32_t i = call.i32(0);
      auto e = copy_end(inst, i, readable, t);
      trap_if(
          e->state != CopyState::IDLE,
          e->state == CopyState::DONE
              ? (future
                     ? (readable
                            ? "cannot read from future after previous read succeeded"
                            : "cannot write to future after previous write succeeded or readable end dropped")
                     : (readable
                            ? "cannot read from stream after being notified that the writable end dropped"
                            : "cannot write to stream after being notified that the readable end dropped"))
              : "stream or future end is already copying");
      trap_if_sync_in_set(*e, opts.async);
      const uint32_t n = future ? 1 : call.i32(2);
      e->buffer = std::make_unique<GuestBuffer>(store_, hooks_for(inst), t->a ? layouts_->of(t->a) : nullptr,
                                               opts, call.i32(1), n);
      const EventCode code = future ? (readable ? EventCode::FUTURE_READ : EventCode::FUTURE_WRITE)
                                    : (readable ? EventCode::STREAM_READ : EventCode::STREAM_WRITE);
      CopyEnd* end = e.get();
      // stream_event / future_event: the copy's result as the end's event.
      auto copy_event = [end, code, i, future](CopyResult result, const ReclaimBuffer& reclaim) {
        if (reclaim) reclaim();
        const bool done = result == CopyResult::DROPPED || (future && result == CopyResult::COMPLETED);
        end->state = done ? CopyState::DONE : CopyState::IDLE;
        const uint32_t progress = end->buffer->progress;
        end->buffer.reset();
        const uint32_t payload =
            future ? static_cast<uint32_t>(result) : static_cast<uint32_t>(result) | (progress << 4);
        return EventTuple{code, i, payload};
      };
      OnCopy on_copy = [end, copy_event](ReclaimBuffer reclaim) {
        end->set_pending_event([copy_event, reclaim] { return copy_event(CopyResult::COMPLETED, reclaim); });
      };
      OnCopyDone on_copy_done = [end, copy_event](CopyResult result) {
        end->set_pending_event([copy_event, result] { return copy_event(result, nullptr); });
      };
      e->state = CopyState::COPYING;
      if (readable) {
        e->shared->read(inst, e->buffer.get(), on_copy, on_copy_done);
      } else {
        e->shared->write(inst, e->buffer.get(), on_copy, on_copy_done);
      }
      call.set_i32(0, await_event(*e, opts.async) ? e->get_pending_event().payload : BLOCKED);
      return;
    }
    case CanonKind::StreamCancelRead:
    case CanonKind::StreamCancelWrite:
    case CanonKind::FutureCancelRead:
    case CanonKind::FutureCancelWrite: {
      const bool readable = kind == CanonKind::StreamCancelRead || kind == CanonKind::FutureCancelRead;
      auto e = copy_end(inst, call.i32(0), readable, t);
      trap_if(e->state != CopyState::COPYING, "stream or future end is not copying");
      trap_if_sync_in_set(*e, async);
      e->state = CopyState::CANCELLING_COPY;
      if (!e->has_pending_event()) e->shared->cancel();
      call.set_i32(0, await_event(*e, async) ? e->get_pending_event().payload : BLOCKED);
      return;
    }
    case CanonKind::StreamDropReadable:
    case CanonKind::StreamDropWritable:
    case CanonKind::FutureDropReadable:
    case CanonKind::FutureDropWritable: {
      const bool readable = kind == CanonKind::StreamDropReadable || kind == CanonKind::FutureDropReadable;
      auto e = copy_end(inst, call.i32(0), readable, t);
      e->drop();
      inst->handles.remove(call.i32(0));
      return;
    }
    default:
      break;
  }
  throw std::logic_error(std::string("not a stream or future built-in: ") + to_string(kind));
}

}  // namespace weft::component
