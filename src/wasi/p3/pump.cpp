// Moving bytes between guests' streams and the OS (state.h): a pump keeps
// one host buffer in flight, so a stream never holds more than one chunk
// the other side has not taken (backpressure both ways). Completions from
// the loop or from a guest's stream built-in are posted to the scheduler.
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>

#include "wasi/p3/state.h"

namespace weft::wasi::p3 {

using component::CopyResult;
using component::HostBuffer;

namespace {

// The most one copy moves: large enough that per-chunk costs vanish.
constexpr uint32_t kChunk = 64 * 1024;

class SinkPump : public std::enable_shared_from_this<SinkPump> {
 public:
  SinkPump(Runtime& rt, State& st, std::unique_ptr<HostEnd> from, std::shared_ptr<ByteSink> sink,
           std::function<void(Errno)> finished)
      : rt_(rt), st_(st), from_(std::move(from)), sink_(std::move(sink)), finished_(std::move(finished)) {}

  void start() {
    id_ = st_.ops.add(shared_from_this(), [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->close();
    });
    read(std::make_unique<HostBuffer>(from_->element(), kChunk));
  }

 private:
  void read(std::unique_ptr<HostBuffer> buffer) {
    buffer->clear();
    from_->copy(std::move(buffer), [self = shared_from_this()](CopyResult r, std::unique_ptr<HostBuffer> b) {
      self->rt_.post([self, r, b = std::shared_ptr<HostBuffer>(std::move(b))]() mutable {
        self->received(r, std::move(b));
      });
    });
  }

  void received(CopyResult r, std::shared_ptr<HostBuffer> buffer) {
    if (!from_) return;  // closed
    if (r != CopyResult::COMPLETED) return end(Errno::Success);
    if (buffer->progress == 0) return read(std::make_unique<HostBuffer>(std::move(*buffer)));
    sink_->write(buffer->received_bytes(), [self = shared_from_this(), buffer](Errno e) {
      self->rt_.post([self, e, buffer] {
        if (!self->from_) return;
        if (e != Errno::Success) return self->end(e);
        // The buffer goes round again: the next copy fills it.
        self->read(std::make_unique<HostBuffer>(std::move(*buffer)));
      });
    });
  }

  void end(Errno e) {
    close();
    finished_(e);
    st_.ops.remove(id_);
  }

  void close() {
    from_.reset();
    sink_.reset();
  }

  Runtime& rt_;
  State& st_;
  std::unique_ptr<HostEnd> from_;
  std::shared_ptr<ByteSink> sink_;
  std::function<void(Errno)> finished_;
  uint64_t id_ = 0;
};

class SourcePump : public std::enable_shared_from_this<SourcePump> {
 public:
  SourcePump(Runtime& rt, State& st, std::unique_ptr<HostEnd> to, std::shared_ptr<ByteSource> source,
             std::function<void(Errno)> finished)
      : rt_(rt), st_(st), to_(std::move(to)), source_(std::move(source)), finished_(std::move(finished)) {}

  void start() {
    id_ = st_.ops.add(shared_from_this(), [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->close();
    });
    // The guest may drop its end while a read waits for the OS.
    to_->on_peer_drop([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->rt_.post([self] { self->end(Errno::Success); });
    });
    read();
  }

 private:
  void read() {
    source_->read(kChunk, [self = shared_from_this()](Errno e, std::string_view data) {
      auto buffer = std::make_shared<HostBuffer>(self->to_->element(), std::string(data));
      self->rt_.post([self, e, buffer] {
        if (!self->to_) return;
        if (e != Errno::Success) return self->end(e);
        if (buffer->is_zero_length()) return self->end(Errno::Success);
        self->give(std::make_unique<HostBuffer>(std::move(*buffer)));
      });
    });
  }

  // The guest may take part of the chunk at a time.
  void give(std::unique_ptr<HostBuffer> buffer) {
    to_->copy(std::move(buffer), [self = shared_from_this()](CopyResult r, std::unique_ptr<HostBuffer> b) {
      self->rt_.post([self, r, b = std::shared_ptr<HostBuffer>(std::move(b))] {
        if (!self->to_) return;
        if (r != CopyResult::COMPLETED) return self->end(Errno::Success);
        if (b->remain() > 0) return self->give(std::make_unique<HostBuffer>(std::move(*b)));
        self->read();
      });
    });
  }

  void end(Errno e) {
    if (!to_) return;  // ended already
    close();
    finished_(e);
    st_.ops.remove(id_);
  }

  void close() {
    source_->cancel();
    to_.reset();
  }

  Runtime& rt_;
  State& st_;
  std::unique_ptr<HostEnd> to_;
  std::shared_ptr<ByteSource> source_;
  std::function<void(Errno)> finished_;
  uint64_t id_ = 0;
};

bool is_regular(int fd) {
  struct stat s {};
  return fstat(fd, &s) == 0 && S_ISREG(s.st_mode);
}

// Writes all of `data` to `fd`, waiting in poll(2) if the descriptor is
// non-blocking; returns 0 or an errno. Runs on the thread pool for pipes
// and ttys, so a slow reader never stalls the loop.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t r = ::write(fd, data.data(), data.size());
    if (r >= 0) {
      data.remove_prefix(static_cast<size_t>(r));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
    } else if (errno != EINTR) {
      return errno;
    }
  }
  return 0;
}

class FdSink final : public ByteSink, public std::enable_shared_from_this<FdSink> {
 public:
  FdSink(State& st, int fd) : st_(st), fd_(fd), regular_(is_regular(fd)) {}

  void write(std::string_view data, std::function<void(Errno)> done) override {
    if (failed_ != Errno::Success) return done(failed_);
    if (regular_) return finish(write_all(fd_, data), done);
    ++st_.writes_in_flight;
    st_.reactor.queue_work([fd = fd_, data] { return write_all(fd, data); },
                           [self = shared_from_this(), done = std::move(done)](int err) {
                             --self->st_.writes_in_flight;
                             self->finish(err, done);
                           });
  }

 private:
  void finish(int err, const std::function<void(Errno)>& done) {
    if (err) failed_ = common::from_host_errno(err);
    done(failed_);
  }

  State& st_;
  int fd_;
  bool regular_;
  Errno failed_ = Errno::Success;
};

class FdSource final : public ByteSource {
 public:
  FdSource(State& st, int fd) : st_(st), fd_(fd) {}

  void read(size_t max, std::function<void(Errno, std::string_view)> done) override {
    // Data that is there already needs no watch (a poll, then the read).
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) return read_now(max, done);
    watch_ = std::make_unique<loop::FdWatch>(st_.reactor, fd_);
    if (!watch_->pollable()) {
      watch_.reset();
      return read_now(max, done);
    }
    int err = watch_->start(UV_READABLE, [this, max, done](int, int) {
      watch_.reset();
      read(max, done);
    });
    if (err) {
      watch_.reset();
      done(common::from_host_errno(-err), {});
    }
  }

  void cancel() override { watch_.reset(); }

 private:
  void read_now(size_t max, const std::function<void(Errno, std::string_view)>& done) {
    std::string buf(max, '\0');
    ssize_t r;
    do r = ::read(fd_, buf.data(), max);
    while (r < 0 && errno == EINTR);
    if (r < 0) return done(common::last_error(), {});
    done(Errno::Success, std::string_view(buf.data(), static_cast<size_t>(r)));
  }

  State& st_;
  int fd_;
  std::unique_ptr<loop::FdWatch> watch_;
};

}  // namespace

void pump_to_sink(Runtime& rt, State& st, std::unique_ptr<HostEnd> from, std::shared_ptr<ByteSink> sink,
                  std::function<void(Errno)> finished) {
  std::make_shared<SinkPump>(rt, st, std::move(from), std::move(sink), std::move(finished))->start();
}

void pump_from_source(Runtime& rt, State& st, std::unique_ptr<HostEnd> to, std::shared_ptr<ByteSource> source,
                      std::function<void(Errno)> finished) {
  std::make_shared<SourcePump>(rt, st, std::move(to), std::move(source), std::move(finished))->start();
}

void deliver(State& st, std::unique_ptr<HostEnd> future, Val v) {
  auto end = std::shared_ptr<HostEnd>(std::move(future));
  const uint64_t id = st.ops.add(end);
  std::vector<Val> vals;
  vals.push_back(std::move(v));
  end->copy(std::make_unique<HostBuffer>(end->element(), std::move(vals)),
            [&st, id](CopyResult, std::unique_ptr<HostBuffer>) { st.ops.remove(id); });
}

std::function<void(Errno)> deliver_outcome(State& st, std::unique_ptr<HostEnd> future, Outcome outcome) {
  auto end = std::make_shared<std::unique_ptr<HostEnd>>(std::move(future));
  return [&st, end, outcome = std::move(outcome)](Errno e) {
    const component::Type* t = (*end)->element();
    deliver(st, std::move(*end), outcome(t, e));
  };
}

std::shared_ptr<ByteSink> fd_sink(State& st, int fd) { return std::make_shared<FdSink>(st, fd); }

std::shared_ptr<ByteSource> fd_source(State& st, int fd) { return std::make_shared<FdSource>(st, fd); }

}  // namespace weft::wasi::p3
