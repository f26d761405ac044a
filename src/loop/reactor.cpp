#include "loop/reactor.h"

#include <fcntl.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace weft::loop {

namespace {

// Frees a handle's owner once libuv is done with it.
template <class H>
void close_and_delete(H* h) {
  uv_close(reinterpret_cast<uv_handle_t*>(&h->uv), [](uv_handle_t* handle) {
    delete static_cast<H*>(handle->data);
  });
}

}  // namespace

Reactor::Reactor() {
  // A stdio descriptor the parent closed gets /dev/null first: libuv's own
  // descriptors must not land on 0-2 (it asserts so), and neither may a
  // preopen, or it would become the guest's stdin.
  for (int fd = 0; fd <= 2; ++fd)
    if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) open("/dev/null", O_RDWR);
  int err = uv_loop_init(&loop_);
  if (err) throw std::runtime_error(std::string("uv_loop_init: ") + uv_strerror(err));
}

Reactor::~Reactor() {
  // Let closing handles finish, then close whatever is still open.
  uv_run(&loop_, UV_RUN_NOWAIT);
  uv_walk(&loop_, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

bool Reactor::run_until(const std::function<bool()>& done) {
  while (!done()) {
    ++turns_;
    if (uv_run(&loop_, UV_RUN_ONCE) == 0 && !done()) return false;
  }
  return true;
}

bool Reactor::run_once(bool block) {
  if (!uv_loop_alive(&loop_)) return false;
  ++turns_;
  uv_run(&loop_, block ? UV_RUN_ONCE : UV_RUN_NOWAIT);
  return true;
}

int Reactor::run_blocking(std::function<int()> work) {
  struct Job {
    uv_work_t req;
    std::function<int()> work;
    int result = 0;
    bool finished = false;
  } job;
  job.work = std::move(work);
  job.req.data = &job;
  int err = uv_queue_work(
      &loop_, &job.req, [](uv_work_t* r) { auto* j = static_cast<Job*>(r->data); j->result = j->work(); },
      [](uv_work_t* r, int) { static_cast<Job*>(r->data)->finished = true; });
  if (err) return job.work();
  run_until([&] { return job.finished; });
  return job.result;
}

void Reactor::queue_work(std::function<int()> work, std::function<void(int)> done) {
  struct Job {
    uv_work_t req;
    std::function<int()> work;
    std::function<void(int)> done;
    int result = 0;
  };
  auto* job = new Job{{}, std::move(work), std::move(done)};
  job->req.data = job;
  int err = uv_queue_work(
      &loop_, &job->req, [](uv_work_t* r) { auto* j = static_cast<Job*>(r->data); j->result = j->work(); },
      [](uv_work_t* r, int) {
        std::unique_ptr<Job> j(static_cast<Job*>(r->data));
        j->done(j->result);
      });
  if (err) {
    std::unique_ptr<Job> j(job);
    j->done(j->work());
  }
}

int Reactor::wait_fd(int fd, int events) {
  FdWatch watch(*this, fd);
  if (!watch.pollable()) return 0;
  int result = 1;
  int err = watch.start(events, [&](int status, int) { result = status; });
  if (err) return err;
  run_until([&] { return result != 1; });
  return result;
}

struct FdWatch::Handle {
  uv_poll_t uv;
  Callback cb;
  int fd;
  int saved_flags;
};

FdWatch::FdWatch(Reactor& reactor, int fd) {
  // uv_poll_init makes the descriptor non-blocking; stdio descriptors are
  // shared with other processes, so their flags are put back on close.
  int flags = fcntl(fd, F_GETFL);
  auto* h = new Handle{{}, {}, fd, flags};
  if (uv_poll_init(reactor.uv(), &h->uv, fd) != 0) {
    if (flags >= 0) fcntl(fd, F_SETFL, flags);
    delete h;
    return;
  }
  h->uv.data = h;
  handle_ = h;
}

FdWatch::~FdWatch() {
  if (!handle_) return;
  uv_poll_stop(&handle_->uv);
  if (handle_->saved_flags >= 0) fcntl(handle_->fd, F_SETFL, handle_->saved_flags);
  close_and_delete(handle_);
}

int FdWatch::start(int events, Callback cb) {
  handle_->cb = std::move(cb);
  return uv_poll_start(&handle_->uv, events, [](uv_poll_t* p, int status, int ev) {
    auto* h = static_cast<Handle*>(p->data);
    uv_poll_stop(p);
    h->cb(status, ev);
  });
}

void FdWatch::stop() {
  if (handle_) uv_poll_stop(&handle_->uv);
}

struct Timer::Handle {
  uv_timer_t uv;
  std::function<void()> cb;
  uint64_t deadline_ns = 0;  // uv_hrtime (CLOCK_MONOTONIC)
};

Timer::Timer(Reactor& reactor) : handle_(new Handle{}) {
  uv_timer_init(reactor.uv(), &handle_->uv);
  handle_->uv.data = handle_;
}

Timer::~Timer() {
  uv_timer_stop(&handle_->uv);
  close_and_delete(handle_);
}

// libuv's timers count whole milliseconds from a loop time rounded down, so
// one may fire up to a millisecond before the deadline: it then waits again
// for what is left.
void Timer::arm(Handle* h) {
  uint64_t now = uv_hrtime();
  uint64_t left = h->deadline_ns > now ? h->deadline_ns - now : 0;
  uint64_t ms = left / 1000000 + (left % 1000000 ? 1 : 0);
  uv_update_time(h->uv.loop);  // the cached time may be stale after guest code ran
  uv_timer_start(
      &h->uv,
      [](uv_timer_t* t) {
        auto* handle = static_cast<Handle*>(t->data);
        if (uv_hrtime() < handle->deadline_ns) return arm(handle);
        handle->cb();
      },
      ms, 0);
}

void Timer::start(uint64_t timeout_ns, std::function<void()> cb) {
  handle_->cb = std::move(cb);
  handle_->deadline_ns = uv_hrtime() + timeout_ns;
  arm(handle_);
}

void Timer::stop() { uv_timer_stop(&handle_->uv); }

struct SignalWatch::Handle {
  uv_signal_t uv;
  std::function<void()> cb;
};

SignalWatch::SignalWatch(Reactor& reactor, int signum, std::function<void()> cb)
    : handle_(new Handle{{}, std::move(cb)}) {
  uv_signal_init(reactor.uv(), &handle_->uv);
  handle_->uv.data = handle_;
  uv_signal_start(
      &handle_->uv, [](uv_signal_t* s, int) { static_cast<Handle*>(s->data)->cb(); }, signum);
}

SignalWatch::~SignalWatch() {
  uv_signal_stop(&handle_->uv);
  close_and_delete(handle_);
}

}  // namespace weft::loop
