// wasi:io (error, poll, streams) and the streams over host descriptors that
// stdio and sockets hand out.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "wasi/common/io.h"
#include "wasi/p2/state.h"

namespace weft::wasi::p2 {

using common::Errno;

namespace {

// A pipe or tty write of at most PIPE_BUF bytes, once poll(2) reports the
// descriptor writable, completes without waiting; it is also the most
// blocking-write-and-flush may take (streams.wit).
constexpr uint64_t kPipeChunk = 4096;
// What one check-write permits for a regular file (the write just happens).
constexpr uint64_t kFileBudget = 1 << 20;
// The most one read returns (the guest allocates the list).
constexpr uint64_t kMaxRead = 64 * 1024;

[[noreturn]] void trap(const std::string& what) { throw engine::Trap(engine::TrapKind::Host, what); }

// The events of `events` (POLLIN / POLLOUT) that `fd` is ready for now, or
// error bits; a failing poll counts as ready so the next syscall reports it.
short ready_events(int fd, short events) {
  pollfd p{fd, events, 0};
  int r;
  do r = ::poll(&p, 1, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) return POLLERR;
  return r > 0 ? p.revents : 0;
}

// One host descriptor as p2's streams and pollables see it, shared by all of
// them: libuv allows one watch per descriptor, and output that a
// non-blocking descriptor did not take yet must go out before anything
// written through another handle of it (two get-stdout handles never
// reorder bytes).
class FdChannel {
 public:
  FdChannel(State& st, int fd, const struct stat& s)
      : st_(st),
        fd_(fd),
        dev_(s.st_dev),
        ino_(s.st_ino),
        regular_(S_ISREG(s.st_mode) || S_ISBLK(s.st_mode)),
        socket_(S_ISSOCK(s.st_mode)) {}
  ~FdChannel() {
    // Output still queued on the process's stdout/stderr goes out before
    // the channel goes, even if that means waiting for a slow reader; not
    // if the descriptor now names another file (its owner closed it). A
    // socket's peer may never read: what it does not take now is dropped.
    watch_.reset();
    struct stat s {};
    if (pending_.empty() || fstat(fd_, &s) != 0 || !same_file(s)) return;
    if (fd_ > STDERR_FILENO) {
      push_pending();
      return;
    }
    while (push_pending() && !pending_.empty())
      if (st_.reactor.wait_fd(fd_, UV_WRITABLE) != 0) break;
  }
  FdChannel(const FdChannel&) = delete;
  FdChannel& operator=(const FdChannel&) = delete;

  bool same_file(const struct stat& s) const { return s.st_dev == dev_ && s.st_ino == ino_; }

  // Whether a read (POLLIN) or a write (POLLOUT) would not wait now.
  bool ready(short events) {
    if (regular_) return true;
    if (events & POLLOUT) {
      if (!push_pending()) return true;  // the error is ready to report
      if (!pending_.empty()) return false;
    }
    return ready_events(fd_, events) != 0;
  }

  // Up to `len` bytes available now (none when the descriptor would wait);
  // `eof` at end of file.
  Errno read(uint64_t len, std::string& out, bool& eof) {
    eof = false;
    if (!regular_ && !socket_ && ready_events(fd_, POLLIN) == 0) return Errno::Success;
    size_t old = out.size();
    out.resize(old + len);
    ssize_t r;
    do r = socket_ ? ::recv(fd_, out.data() + old, len, MSG_DONTWAIT) : ::read(fd_, out.data() + old, len);
    while (r < 0 && errno == EINTR);
    out.resize(old + static_cast<size_t>(std::max<ssize_t>(r, 0)));
    if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? Errno::Success : common::last_error();
    eof = r == 0 && len > 0;
    return Errno::Success;
  }

  // How many bytes write() takes now without queueing.
  Errno budget(uint64_t& permitted) {
    permitted = 0;
    if (!push_pending()) return take_error();
    if (regular_) {
      permitted = kFileBudget;
    } else if (pending_.empty() && ready_events(fd_, POLLOUT) != 0) {
      permitted = kPipeChunk;
      writable_ = true;
    }
    return Errno::Success;
  }

  // Writes `data` after what is queued: regular files at once, other
  // descriptors as far as they take it without waiting, the rest queued.
  Errno write(std::string_view data) {
    if (regular_) {
      iovec iov{const_cast<char*>(data.data()), data.size()};
      size_t n;
      return common::write_stream(st_.reactor, fd_, {&iov, 1}, false, n);
    }
    pending_.append(data);
    return push_pending() ? Errno::Success : take_error();
  }

  // Wakes `wake` (from the loop) once the descriptor may be ready for
  // `events`; returns an id for remove_waiter.
  uint64_t add_waiter(short events, std::function<void()> wake) {
    waiters_.push_back({++last_waiter_, events, std::move(wake)});
    if (std::string err = rearm(); !err.empty()) {
      waiters_.pop_back();
      if (waiters_.empty()) watch_.reset();
      trap("poll: cannot watch descriptor " + std::to_string(fd_) + ": " + err);
    }
    return last_waiter_;
  }
  // The watch stops with the last waiter; until then it may cover events
  // nobody waits for any more, which only costs a spurious wake.
  void remove_waiter(uint64_t id) {
    std::erase_if(waiters_, [&](const Waiter& w) { return w.id == id; });
    if (waiters_.empty()) watch_.reset();
  }

 private:
  struct Waiter {
    uint64_t id;
    short events;
    std::function<void()> wake;
  };

  // Writes queued output as far as the descriptor takes it now; false on a
  // write error (kept in error_ for the next check-write).
  bool push_pending() {
    if (error_ != Errno::Success) return false;
    size_t done = 0;
    while (done < pending_.size()) {
      size_t chunk = pending_.size() - done;
      ssize_t r;
      if (socket_) {
        r = ::send(fd_, pending_.data() + done, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
      } else {
        // One write of at most PIPE_BUF right after a POLLOUT cannot block:
        // budget() just polled (a poll is a syscall per 4 KiB otherwise).
        if (!std::exchange(writable_, false) && ready_events(fd_, POLLOUT) == 0) break;
        r = ::write(fd_, pending_.data() + done, std::min<size_t>(chunk, kPipeChunk));
      }
      if (r >= 0) {
        done += static_cast<size_t>(r);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;
      } else if (errno != EINTR) {
        error_ = common::last_error();
        pending_.clear();
        return false;
      }
    }
    pending_.erase(0, done);
    return true;
  }

  Errno take_error() { return std::exchange(error_, Errno::Success); }

  // Watches for the union of the waiters' events. The watch lives only
  // while someone waits: it makes the descriptor non-blocking, and stdio is
  // shared with other processes. Returns why it cannot watch, or "".
  std::string rearm() {
    int events = 0;
    for (const Waiter& w : waiters_)
      events |= (w.events & POLLIN ? UV_READABLE : 0) | (w.events & POLLOUT ? UV_WRITABLE : 0);
    if (!watch_) watch_ = std::make_unique<loop::FdWatch>(st_.reactor, fd_);
    if (!watch_->pollable()) return "the loop cannot watch it (is another watch on it?)";
    int err = watch_->start(events, [this](int, int) { fire(); });
    return err ? uv_strerror(err) : "";
  }

  // The descriptor may be ready: every waiter rechecks (and watches again
  // if it was not, or was ready for the other direction only).
  void fire() {
    auto woken = std::move(waiters_);
    waiters_.clear();
    for (Waiter& w : woken) w.wake();
  }

  State& st_;
  int fd_;
  dev_t dev_;
  ino_t ino_;
  bool regular_, socket_;
  std::unique_ptr<loop::FdWatch> watch_;
  std::vector<Waiter> waiters_;
  uint64_t last_waiter_ = 0;
  std::string pending_;
  Errno error_ = Errno::Success;
  bool writable_ = false;  // budget() saw POLLOUT and nothing was written since
};

// Ready when its channel is ready for `events`; holds the channel, so it
// stays valid after the stream it came from is dropped (streams.wit calls
// it a child resource).
class FdPollable final : public Pollable {
 public:
  FdPollable(std::shared_ptr<FdChannel> ch, short events) : ch_(std::move(ch)), events_(events) {}
  ~FdPollable() override { unwatch(); }
  bool ready() override { return ch_->ready(events_); }
  void watch(std::function<void()> wake) override {
    unwatch();
    waiter_ = ch_->add_waiter(events_, std::move(wake));
  }
  void unwatch() override {
    if (waiter_) ch_->remove_waiter(std::exchange(waiter_, 0));
  }

 private:
  std::shared_ptr<FdChannel> ch_;
  short events_;
  uint64_t waiter_ = 0;
};

}  // namespace

struct State::Io {
  std::map<int, std::weak_ptr<FdChannel>> channels;
};

namespace {

// The channel of `fd`, shared while anything uses it. A descriptor number
// that now names another file (closed and reused) gets a new one.
std::shared_ptr<FdChannel> channel(State& st, int fd) {
  if (!st.io) st.io = {new State::Io, [](State::Io* io) { delete io; }};
  struct stat s {};
  if (fstat(fd, &s) != 0) trap("stream over descriptor " + std::to_string(fd) + ": not open");
  auto& slot = st.io->channels[fd];
  auto ch = slot.lock();
  if (!ch || !ch->same_file(s)) {
    ch = std::make_shared<FdChannel>(st, fd, s);
    slot = ch;
  }
  return ch;
}

// Once an operation failed, or the end was reached, the stream is closed
// (streams.wit: later operations return `closed`).
class FdInputStream final : public InputStream {
 public:
  explicit FdInputStream(std::shared_ptr<FdChannel> ch) : ch_(std::move(ch)) {}
  StreamStatus read(uint64_t len, std::string& out) override {
    if (closed_) return StreamStatus::closed();
    if (len == 0) return StreamStatus::ok();
    bool eof;
    Errno e = ch_->read(std::min(len, kMaxRead), out, eof);
    if (e != Errno::Success || eof) closed_ = true;
    if (e != Errno::Success) return StreamStatus::failed(e);
    return eof ? StreamStatus::closed() : StreamStatus::ok();
  }
  std::shared_ptr<Pollable> readiness() override {
    if (closed_) return std::make_shared<ReadyPollable>();
    return std::make_shared<FdPollable>(ch_, POLLIN);
  }

 private:
  std::shared_ptr<FdChannel> ch_;
  bool closed_ = false;
};

class FdOutputStream final : public OutputStream {
 public:
  explicit FdOutputStream(std::shared_ptr<FdChannel> ch) : ch_(std::move(ch)) {}
  StreamStatus check_write(uint64_t& permitted) override {
    permitted = 0;
    if (closed_) return StreamStatus::closed();
    if (Errno e = ch_->budget(permit_); e != Errno::Success) return fail(e);
    permitted = permit_;
    return StreamStatus::ok();
  }
  StreamStatus write(std::string_view data) override {
    if (closed_) return StreamStatus::closed();
    if (data.size() > permit_)
      trap("output-stream.write of " + std::to_string(data.size()) +
           " bytes exceeds the check-write permit of " + std::to_string(permit_));
    permit_ -= data.size();
    Errno e = ch_->write(data);
    return e == Errno::Success ? StreamStatus::ok() : fail(e);
  }
  StreamStatus flush() override {
    // Nothing is held back beyond what check-write already waits for.
    return closed_ ? StreamStatus::closed() : StreamStatus::ok();
  }
  std::shared_ptr<Pollable> readiness() override {
    if (closed_) return std::make_shared<ReadyPollable>();
    return std::make_shared<FdPollable>(ch_, POLLOUT);
  }

 private:
  StreamStatus fail(Errno e) {
    closed_ = true;
    permit_ = 0;
    return StreamStatus::failed(e);
  }

  std::shared_ptr<FdChannel> ch_;
  uint64_t permit_ = 0;
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<InputStream> fd_input_stream(State& st, int fd) {
  return std::make_unique<FdInputStream>(channel(st, fd));
}

std::unique_ptr<OutputStream> fd_output_stream(State& st, int fd) {
  return std::make_unique<FdOutputStream>(channel(st, fd));
}

std::shared_ptr<Pollable> fd_pollable(State& st, int fd, int events) {
  short e = static_cast<short>((events & UV_READABLE ? POLLIN : 0) | (events & UV_WRITABLE ? POLLOUT : 0));
  return std::make_shared<FdPollable>(channel(st, fd), e);
}

std::vector<uint32_t> poll(State& st, const std::vector<Pollable*>& ps) {
  if (ps.empty()) trap("poll: the list of pollables is empty");
  if (ps.size() > UINT32_MAX) trap("poll: more pollables than a u32 indexes");
  // One watch per distinct pollable (a list may name one twice).
  std::vector<Pollable*> distinct(ps);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (;;) {
    std::vector<uint32_t> ready;
    for (uint32_t i = 0; i < ps.size(); ++i)
      if (ps[i]->ready()) ready.push_back(i);
    if (!ready.empty()) return ready;

    bool woken = false;
    struct Unwatch {
      std::vector<Pollable*>& ps;
      ~Unwatch() {
        for (Pollable* p : ps) p->unwatch();
      }
    } unwatch{distinct};
    for (Pollable* p : distinct) p->watch([&woken] { woken = true; });
    if (!st.reactor.run_until([&] { return woken; }))
      trap("poll: none of the pollables can become ready (nothing is pending on the loop)");
  }
}

void block(State& st, Pollable& p) { poll(st, {&p}); }

Val new_pollable(State& st, const component::Type* t, std::shared_ptr<Pollable> p) {
  uint32_t rep = st.pollables.add(std::make_unique<PollableEntry>(PollableEntry{std::move(p)}));
  return hv::scalar(t, rep);
}

Val stream_error(State& st, const component::Type* t, const StreamStatus& s) {
  if (s.kind == StreamStatus::Kind::Closed) return hv::variant(t, "closed");
  if (s.kind != StreamStatus::Kind::Failed) trap("stream_error: the operation succeeded");
  uint32_t rep = st.errors.add(std::make_unique<IoError>(IoError{
      s.error, "stream operation failed (WASI errno " + std::to_string(static_cast<int>(s.error)) + ")"}));
  return hv::variant(t, "last-operation-failed", hv::scalar(hv::case_type(t, "last-operation-failed"), rep));
}

namespace {

// result<T, stream-error> from `s`, with `ok` as T's value when it is ok.
Val stream_result(State& st, HostCall& c, const StreamStatus& s, std::optional<Val> ok = std::nullopt) {
  const component::Type* t = c.result_type();
  if (s.kind != StreamStatus::Kind::Ok) return hv::err(t, stream_error(st, hv::err_type(t), s));
  return hv::ok(t, std::move(ok));
}

bool is_ok(const StreamStatus& s) { return s.kind == StreamStatus::Kind::Ok; }

// Blocks until `in` has data, end of stream or an error.
void wait_readable(State& st, InputStream& in) { block(st, *in.readiness()); }

// Blocks until `out` permits a write (or fails); the permit goes to `permitted`.
StreamStatus wait_writable(State& st, OutputStream& out, uint64_t& permitted) {
  for (;;) {
    StreamStatus s = out.check_write(permitted);
    if (!is_ok(s) || permitted > 0) return s;
    block(st, *out.readiness());
  }
}

// blocking-flush: flush, then wait until the stream takes writes again.
StreamStatus blocking_flush(State& st, OutputStream& out) {
  if (StreamStatus s = out.flush(); !is_ok(s)) return s;
  uint64_t permitted;
  return wait_writable(st, out, permitted);
}

// blocking-write-and-flush: every byte of `data` (at most 4096), waiting
// for permits on the loop, then a blocking flush.
StreamStatus blocking_write_and_flush(State& st, OutputStream& out, std::string_view data) {
  if (data.size() > kPipeChunk)
    trap("blocking-write-and-flush of " + std::to_string(data.size()) + " bytes (at most 4096)");
  while (!data.empty()) {
    uint64_t permitted;
    if (StreamStatus s = wait_writable(st, out, permitted); !is_ok(s)) return s;
    size_t n = static_cast<size_t>(std::min<uint64_t>(permitted, data.size()));
    if (StreamStatus s = out.write(data.substr(0, n)); !is_ok(s)) return s;
    data.remove_prefix(n);
  }
  return blocking_flush(st, out);
}

// Zeroes for write-zeroes, written a chunk at a time so a large count is
// no large allocation (the stream's permit check still sees every byte).
const std::string& zeroes() {
  static const std::string z(kPipeChunk, '\0');
  return z;
}

StreamStatus write_zeroes(OutputStream& out, uint64_t len) {
  while (len > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, kPipeChunk));
    if (StreamStatus s = out.write(std::string_view(zeroes()).substr(0, n)); !is_ok(s)) return s;
    len -= n;
  }
  return StreamStatus::ok();
}

// splice: check-write on `out`, read the smaller of that and `len` from
// `in`, write it; returns the count moved (streams.wit).
StreamStatus splice(OutputStream& out, InputStream& in, uint64_t len, uint64_t& moved) {
  moved = 0;
  uint64_t permitted;
  if (StreamStatus s = out.check_write(permitted); !is_ok(s)) return s;
  std::string data;
  if (StreamStatus s = in.read(std::min(permitted, len), data); !is_ok(s)) return s;
  if (StreamStatus s = out.write(data); !is_ok(s)) return s;
  moved = data.size();
  return StreamStatus::ok();
}

void add_error(component::Host& host, State& st) {
  auto& iface = host.add("wasi:io/error", kVersion);
  st.error_resource = iface.resource("error", [&st](uint32_t rep) { st.errors.remove(rep); });
  iface.func("[method]error.to-debug-string", 1, [&st](HostCall& c) {
    c.result = hv::string(c.result_type(), st.errors.get(hv::as_uint(c.args[0])).message);
  });
}

void add_poll(component::Host& host, State& st) {
  auto& iface = host.add("wasi:io/poll", kVersion);
  st.pollable_resource = iface.resource("pollable", [&st](uint32_t rep) { st.pollables.remove(rep); });
  auto pollable = [&st](const Val& v) -> Pollable& { return *st.pollables.get(hv::as_uint(v)).pollable; };
  iface.func("[method]pollable.ready", 1,
             [=](HostCall& c) { c.result = hv::scalar(c.result_type(), pollable(c.args[0]).ready()); });
  iface.func("[method]pollable.block", 1, [=, &st](HostCall& c) { block(st, pollable(c.args[0])); });
  iface.func("poll", 1, [=, &st](HostCall& c) {
    const Val& list = c.args[0];
    if (list.type->kind != component::TypeKind::List) trap("poll: the argument is no list");
    std::vector<Pollable*> ps;
    ps.reserve(list.items.size());
    for (const Val& h : list.items) ps.push_back(&pollable(h));
    std::vector<Val> indices;
    for (uint32_t i : poll(st, ps)) indices.push_back(hv::scalar(hv::element(c.result_type()), i));
    c.result = hv::list(c.result_type(), std::move(indices));
  });
}

void add_streams(component::Host& host, State& st) {
  auto& iface = host.add("wasi:io/streams", kVersion);
  iface.use(st.error_resource);
  iface.use(st.pollable_resource);
  st.input_stream_resource =
      iface.resource("input-stream", [&st](uint32_t rep) { st.input_streams.remove(rep); });
  st.output_stream_resource =
      iface.resource("output-stream", [&st](uint32_t rep) { st.output_streams.remove(rep); });
  auto input = [&st](const Val& v) -> InputStream& { return st.input_streams.get(hv::as_uint(v)); };
  auto output = [&st](const Val& v) -> OutputStream& { return st.output_streams.get(hv::as_uint(v)); };

  // read / blocking-read / skip / blocking-skip: one read, optionally after
  // waiting, returning the bytes or their count.
  auto read = [=, &st](bool blocking, bool skip) {
    return [=, &st](HostCall& c) {
      InputStream& in = input(c.args[0]);
      uint64_t len = hv::as_uint(c.args[1]);
      if (blocking && len > 0) wait_readable(st, in);
      std::string data;
      StreamStatus s = in.read(len, data);
      const component::Type* ok = is_ok(s) ? hv::ok_type(c.result_type()) : nullptr;
      c.result = stream_result(
          st, c, s,
          ok ? std::optional(skip ? hv::scalar(ok, data.size()) : hv::bytes(ok, data)) : std::nullopt);
    };
  };
  iface.func("[method]input-stream.read", 2, read(false, false));
  iface.func("[method]input-stream.blocking-read", 2, read(true, false));
  iface.func("[method]input-stream.skip", 2, read(false, true));
  iface.func("[method]input-stream.blocking-skip", 2, read(true, true));
  iface.func("[method]input-stream.subscribe", 1, [=, &st](HostCall& c) {
    c.result = new_pollable(st, c.result_type(), input(c.args[0]).readiness());
  });

  iface.func("[method]output-stream.check-write", 1, [=, &st](HostCall& c) {
    uint64_t permitted = 0;
    StreamStatus s = output(c.args[0]).check_write(permitted);
    c.result = stream_result(
        st, c, s,
        is_ok(s) ? std::optional(hv::scalar(hv::ok_type(c.result_type()), permitted)) : std::nullopt);
  });
  iface.func("[method]output-stream.write", 2, [=, &st](HostCall& c) {
    c.result = stream_result(st, c, output(c.args[0]).write(hv::as_bytes(c.args[1])));
  });
  iface.func("[method]output-stream.blocking-write-and-flush", 2, [=, &st](HostCall& c) {
    c.result = stream_result(st, c, blocking_write_and_flush(st, output(c.args[0]), hv::as_bytes(c.args[1])));
  });
  iface.func("[method]output-stream.flush", 1,
             [=, &st](HostCall& c) { c.result = stream_result(st, c, output(c.args[0]).flush()); });
  iface.func("[method]output-stream.blocking-flush", 1, [=, &st](HostCall& c) {
    c.result = stream_result(st, c, blocking_flush(st, output(c.args[0])));
  });
  iface.func("[method]output-stream.subscribe", 1, [=, &st](HostCall& c) {
    c.result = new_pollable(st, c.result_type(), output(c.args[0]).readiness());
  });
  iface.func("[method]output-stream.write-zeroes", 2, [=, &st](HostCall& c) {
    c.result = stream_result(st, c, write_zeroes(output(c.args[0]), hv::as_uint(c.args[1])));
  });
  iface.func("[method]output-stream.blocking-write-zeroes-and-flush", 2, [=, &st](HostCall& c) {
    uint64_t len = hv::as_uint(c.args[1]);
    if (len > kPipeChunk)
      trap("blocking-write-zeroes-and-flush of " + std::to_string(len) + " bytes (at most 4096)");
    c.result = stream_result(st, c, blocking_write_and_flush(st, output(c.args[0]), zeroes().substr(0, len)));
  });
  // splice / blocking-splice: the blocking one first waits until `out`
  // takes bytes and `in` has some (streams.wit).
  auto splice_fn = [=, &st](bool blocking) {
    return [=, &st](HostCall& c) {
      OutputStream& out = output(c.args[0]);
      InputStream& in = input(c.args[1]);
      uint64_t len = hv::as_uint(c.args[2]);
      if (blocking && len > 0) {
        uint64_t permitted;
        if (StreamStatus s = wait_writable(st, out, permitted); !is_ok(s)) {
          c.result = stream_result(st, c, s);
          return;
        }
        wait_readable(st, in);
      }
      uint64_t moved;
      StreamStatus s = splice(out, in, len, moved);
      c.result = stream_result(
          st, c, s, is_ok(s) ? std::optional(hv::scalar(hv::ok_type(c.result_type()), moved)) : std::nullopt);
    };
  };
  iface.func("[method]output-stream.splice", 3, splice_fn(false));
  iface.func("[method]output-stream.blocking-splice", 3, splice_fn(true));
}

}  // namespace

void add_io(component::Host& host, State& st) {
  add_error(host, st);
  add_poll(host, st);
  add_streams(host, st);
}

}  // namespace weft::wasi::p2
