// Host functions that complete later, and the host's ends of streams and
// futures (see host_async.h).
#include "component/host_async.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "component/canonical.h"
#include "component/instance.h"

namespace weft::component {

std::shared_ptr<HostPending> HostCall::defer() {
  if (!pending) pending = std::make_shared<HostPending>(runtime, func->a);
  return pending;
}

void HostPending::resolve(std::optional<Val> result) {
  if (done_) throw std::logic_error("host call resolved twice");
  done_ = true;
  // From the scheduler: lowering the result may call the guest's realloc.
  runtime_.post([this, keep = shared_from_this(), result = std::move(result)]() mutable {
    trap_if(result_type_ ? !result || result->type != result_type_ : result.has_value(),
            "host function returned a value of another type");
    std::vector<Val> results;
    if (result) results.push_back(std::move(*result));
    std::exchange(on_resolve_, nullptr)(std::move(results));
  });
}

void HostPending::cancel() {
  if (done_) throw std::logic_error("host call cancelled after it resolved");
  done_ = true;
  runtime_.post([this, keep = shared_from_this()] { std::exchange(on_resolve_, nullptr)(std::nullopt); });
}

std::shared_ptr<HostPending> Runtime::start_host(ComponentFunc& f, std::span<const Val> args,
                                                 OnResolve on_resolve) {
  HostCall call{*this, f.type, args, std::nullopt, nullptr};
  (*f.host)(call);
  if (call.pending) {
    call.pending->on_resolve_ = std::move(on_resolve);
    return call.pending;
  }
  std::vector<Val> results;
  if (f.type->a) {
    trap_if(!call.result || call.result->type != f.type->a, "host function returned a value of another type");
    results.push_back(std::move(*call.result));
  }
  on_resolve(std::move(results));
  return nullptr;
}

void Runtime::settle(const std::function<bool()>& idle) {
  for (;;) {
    while (run_posted()) {
    }
    if (idle() || !event_loop_ || !event_loop_(true)) return;
  }
}

// Room for bytes is left uninitialised: a pump's 64 KiB that a guest fills
// with a few bytes would otherwise cost a memset (and fresh pages) each.
HostBuffer::HostBuffer(const Type* elem, uint32_t capacity)
    : CopyBuffer(capacity), elem_(elem), is_bytes_(elem && elem->kind == TypeKind::U8) {
  if (is_bytes_) room_.reset(new char[capacity]);
}

HostBuffer::HostBuffer(const Type* elem, std::string bytes)
    : CopyBuffer(static_cast<uint32_t>(bytes.size())),
      elem_(elem),
      is_bytes_(true),
      bytes_(std::move(bytes)) {
  if (!elem || elem->kind != TypeKind::U8) throw std::logic_error("host bytes for a stream of another type");
}

HostBuffer::HostBuffer(const Type* elem, std::vector<Val> vals)
    : CopyBuffer(static_cast<uint32_t>(vals.size())),
      elem_(elem),
      is_bytes_(elem && elem->kind == TypeKind::U8),
      vals_(std::move(vals)) {
  if (is_bytes_) {
    for (const Val& v : vals_) bytes_.push_back(static_cast<char>(v.bits));
    vals_.clear();
  }
}

std::vector<Val> HostBuffer::read(uint32_t n) {
  std::vector<Val> vs;
  vs.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (is_bytes_) {
      Val v;
      v.type = elem_;
      v.bits = static_cast<uint8_t>(data()[progress + i]);
      vs.push_back(std::move(v));
    } else if (elem_) {
      vs.push_back(std::move(vals_.at(read_at_++)));
    } else {
      vs.emplace_back();
    }
  }
  progress += n;
  return vs;
}

void HostBuffer::write(const std::vector<Val>& vs) {
  for (const Val& v : vs) {
    if (is_bytes_) {
      data()[progress] = static_cast<char>(v.bits);
    } else if (elem_) {
      vals_.push_back(v);
    }
    ++progress;
  }
}

void HostBuffer::clear() {
  progress = 0;
  read_at_ = 0;
  vals_.clear();
}

uint8_t* HostBuffer::bytes() {
  return is_bytes_ ? reinterpret_cast<uint8_t*>(data()) + progress : nullptr;
}

HostEnd::HostEnd(std::shared_ptr<SharedCopy> shared, bool readable)
    : shared_(std::move(shared)), readable_(readable) {}

HostEnd::~HostEnd() { drop(); }

void HostEnd::copy(std::unique_ptr<HostBuffer> buffer, Done done) {
  if (dropped_ || buffer_) throw std::logic_error("host stream end is dropped or busy");
  buffer_ = std::move(buffer);
  done_ = std::move(done);
  // The peer copied into or out of the pending buffer: take it back at once.
  OnCopy on_copy = [this](const ReclaimBuffer& reclaim) {
    HostEnd* self = this;  // reclaiming frees this closure
    reclaim();
    self->finish(CopyResult::COMPLETED);
  };
  OnCopyDone on_copy_done = [this](CopyResult result) { finish(result); };
  shared_->copy(nullptr, buffer_.get(), readable_, std::move(on_copy), std::move(on_copy_done));
}

void HostEnd::finish(CopyResult result) {
  Done done = std::move(done_);
  done_ = nullptr;
  std::unique_ptr<HostBuffer> buffer = std::move(buffer_);
  if (done) done(result, std::move(buffer));
}

void HostEnd::cancel() {
  if (buffer_ && shared_->pending_buffer == buffer_.get()) shared_->cancel();
}

void HostEnd::on_peer_drop(std::function<void()> f) {
  if (shared_->dropped) return f();
  shared_->on_drop = std::move(f);
  watching_peer_ = true;
}

void HostEnd::drop() {
  if (dropped_) return;
  dropped_ = true;
  if (watching_peer_) shared_->on_drop = nullptr;
  if (buffer_ && shared_->pending_buffer == buffer_.get()) shared_->reset_pending();
  buffer_.reset();
  done_ = nullptr;
  shared_->drop();
}

std::pair<Val, std::unique_ptr<HostEnd>> Runtime::host_stream(const Type* t) {
  if (t->kind != TypeKind::Stream && t->kind != TypeKind::Future)
    throw std::logic_error("host_stream of a type that is not a stream or future");
  auto shared = std::make_shared<SharedCopy>(t->a, t->kind == TypeKind::Future);
  const uint64_t id = next_in_flight_++;
  in_flight_[id] = shared;
  Val v;
  v.type = t;
  v.bits = id;
  return {std::move(v), std::make_unique<HostEnd>(std::move(shared), false)};
}

std::unique_ptr<HostEnd> Runtime::host_readable(const Val& v) {
  auto it = in_flight_.find(v.bits);
  trap_if(it == in_flight_.end() || (v.kind() != TypeKind::Stream && v.kind() != TypeKind::Future),
          "host expected a stream or future");
  auto end = std::make_unique<HostEnd>(std::move(it->second), true);
  in_flight_.erase(it);
  return end;
}

}  // namespace weft::component
