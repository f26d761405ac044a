// Tasks, waitables and the scheduler (definitions.py "Concurrency",
// Store.tick). See concurrency.h for how threads block on their fibers.
#include "component/concurrency.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "component/canonical.h"
#include "component/host_async.h"

namespace weft::component {

namespace {

// Engine stacks kept for later threads (each is large, if lazily committed).
constexpr size_t MAX_FREE_STACKS = 256;

}  // namespace

Waitable::~Waitable() = default;

EventTuple Waitable::get_pending_event() {
  std::function<EventTuple()> pending_event = std::move(pending_event_);
  pending_event_ = nullptr;
  return pending_event();
}

void Waitable::join(WaitableSet* wset) {
  if (wset_) std::erase(wset_->elems, this);
  wset_ = wset;
  if (wset) wset->elems.push_back(this);
}

void Waitable::drop() { join(nullptr); }

bool WaitableSet::has_pending_event() const {
  return std::any_of(elems.begin(), elems.end(), [](const Waitable* w) { return w->has_pending_event(); });
}

EventTuple WaitableSet::get_pending_event() {
  for (Waitable* w : elems)
    if (w->has_pending_event()) return w->get_pending_event();
  return {};
}

void WaitableSet::drop() const {
  trap_if(!elems.empty(), "cannot drop waitable set with elements");
  trap_if(num_waiting > 0, "cannot drop waitable set with waiters");
}

void Subtask::deliver_resolve() {
  if (on_deliver) on_deliver();
  delivered_ = true;
}

void Subtask::drop() {
  trap_if(!resolve_delivered(), "cannot drop a subtask which has not yet resolved");
  Waitable::drop();
}

Task::Task(ComponentFunc& f, OnStart start, OnResolve resolve)
    : func(f), inst(f.instance), on_start(std::move(start)), on_resolve(std::move(resolve)) {
  implicit_thread.task = this;
}

bool Task::ft_async() const { return func.type->async; }

bool Task::opts_async() const { return func.plan->opts.async; }

bool Task::needs_exclusive() const { return !opts_async() || func.plan->opts.callback; }

std::vector<Val> Task::start() {
  state = State::STARTED;
  return on_start();
}

void Task::return_(std::vector<Val> result) {
  trap_if(state == State::RESOLVED, "task already returned a result");
  trap_if(num_borrows > 0, "borrow handles still remain at the end of the call");
  on_resolve(std::move(result));
  state = State::RESOLVED;
}

void Task::cancel() {
  trap_if(state != State::CANCEL_DELIVERED, "task.cancel called without a cancellation request");
  trap_if(num_borrows > 0, "borrow handles still remain at the end of the call");
  on_resolve(std::nullopt);
  state = State::RESOLVED;
}

Runtime::ThreadScope::ThreadScope(Runtime& rt, Thread& thread) : rt_(rt) { rt_.current_.push_back(&thread); }

Runtime::ThreadScope::~ThreadScope() { rt_.current_.pop_back(); }

void Runtime::release_waiting() {
  while (!waiting_.empty()) discard(*waiting_.front());
}

Thread& Runtime::current_thread() {
  if (current_.empty()) trap("canon built-in called outside of a task");
  return *current_.back();
}

void Runtime::start_waiting(Thread& t, std::function<bool()> ready, bool cancellable) {
  t.ready_func = std::move(ready);
  t.cancellable = cancellable;
  waiting_.push_back(&t);
}

void Runtime::spawn(Thread& t, std::function<void()> body) {
  if (free_stacks_.empty()) {
    t.stacks = std::make_unique<engine::CallStacks>(store_.limits());
  } else {
    t.stacks = std::move(free_stacks_.back());
    free_stacks_.pop_back();
  }
  t.fiber = std::make_unique<Fiber>(std::move(body));
  run_fiber(t, false);
}

void Runtime::resume(Thread& t, bool cancelled) {
  std::erase(waiting_, &t);
  t.ready_func = nullptr;
  t.cancelled = cancelled;
  run_fiber(t, false);
}

void Runtime::discard(Thread& t) {
  std::erase(waiting_, &t);
  t.ready_func = nullptr;
  run_fiber(t, true);
}

// Switches to `t`'s fiber, its engine stacks in place of the resumer's,
// until it blocks or ends. An ended fiber goes, and with it what its body
// held: the task, and so `t`.
void Runtime::run_fiber(Thread& t, bool unwind) {
  struct Switch {
    Runtime& rt;
    Thread& t;
    Switch(Runtime& rt, Thread& t) : rt(rt), t(t) {
      engine::swap_call_stacks(rt.store_, *t.stacks);
      rt.current_.push_back(&t);
    }
    ~Switch() {
      rt.current_.pop_back();
      engine::swap_call_stacks(rt.store_, *t.stacks);
      if (!t.fiber->done()) return;
      if (rt.free_stacks_.size() < MAX_FREE_STACKS) rt.free_stacks_.push_back(std::move(t.stacks));
      std::unique_ptr<Fiber> ended = std::move(t.fiber);
    }
    Switch(const Switch&) = delete;
    Switch& operator=(const Switch&) = delete;
  } in{*this, t};
  if (unwind) {
    t.fiber->unwind();
  } else {
    t.fiber->resume();
  }
}

bool Runtime::tick() {
  if (run_posted()) return true;
  // A trap poisoned these instances: their threads never run again.
  while (poisoned_) {
    auto it = std::find_if(waiting_.begin(), waiting_.end(), [](const Thread* t) { return !t->task->inst->may_enter; });
    if (it == waiting_.end()) break;
    discard(**it);
  }
  auto it = std::find_if(waiting_.begin(), waiting_.end(), [](const Thread* t) { return t->ready_func(); });
  if (it == waiting_.end()) return false;
  resume(**it, false);
  return true;
}

void Runtime::post(std::function<void()> work) { posted_.push_back(std::move(work)); }

bool Runtime::run_posted() {
  if (posted_.empty()) return false;
  std::function<void()> work = std::move(posted_.front());
  posted_.pop_front();
  work();
  return true;
}

// Task.request_cancellation: a waiting thread that may be cancelled gets it
// now; otherwise it is delivered at the task's next cancellable wait.
void Runtime::request_cancellation(Task& task, ComponentInstance* caller) {
  Thread& t = task.implicit_thread;
  const bool waiting = std::find(waiting_.begin(), waiting_.end(), &t) != waiting_.end();
  if (task.state == Task::State::INITIAL) {
    task.state = Task::State::CANCEL_DELIVERED;
    resume(t, true);
    return;
  }
  ComponentInstance* inst = task.inst;
  const bool exclusive_elsewhere =
      task.needs_exclusive() && inst->exclusive_thread && inst->exclusive_thread != &t;
  if (waiting && t.cancellable && !exclusive_elsewhere && inst->may_enter && inst != caller) {
    task.state = Task::State::CANCEL_DELIVERED;
    resume(t, true);
  } else {
    task.state = Task::State::PENDING_CANCEL;
  }
}

bool Task::deliver_pending_cancel(bool cancellable) {
  if (!cancellable || state != State::PENDING_CANCEL) return false;
  state = State::CANCEL_DELIVERED;
  return true;
}

// Guest work first, but the host's events are polled every so often so a
// guest that keeps yielding cannot starve them.
void Runtime::run_until(const std::function<bool()>& ready) {
  uint32_t ticks = 0;
  while (!ready()) {
    if (tick()) {
      if (++ticks % 64 == 0 && event_loop_) event_loop_(false);
      continue;
    }
    trap_if(!event_loop_ || !event_loop_(true), "deadlock detected: event loop cannot make further progress");
  }
}

bool Runtime::run_ready(uint32_t max_ticks) {
  for (uint32_t n = 0; n < max_ticks; ++n)
    if (!tick()) return false;
  return true;
}

bool Runtime::wait_until(std::function<bool()> ready, bool cancellable) {
  // Outside of any task (core start functions) is synchronous too.
  trap_if(current_.empty() || !current_.back()->task->may_block(),
          "cannot block a synchronous task before returning");
  if (current_.back()->task->deliver_pending_cancel(cancellable)) return true;
  if (ready()) return false;
  return suspend_until(std::move(ready), cancellable);
}

bool Runtime::suspend_until(std::function<bool()> ready, bool cancellable) {
  trap_if(current_.empty() || !current_.back()->task->may_block(),
          "cannot block a synchronous task before returning");
  Thread& t = *current_.back();
  if (t.task->deliver_pending_cancel(cancellable)) return true;
  if (!t.fiber || Fiber::current() != t.fiber.get()) throw std::logic_error("a blocking thread is not on its fiber");
  start_waiting(t, std::move(ready), cancellable);
  try {
    Fiber::suspend();
  } catch (const Fiber::Unwind&) {
    std::erase(waiting_, &t);
    t.ready_func = nullptr;
    throw;
  }
  return t.cancelled;
}

bool Runtime::await_event(Waitable& w, bool async) {
  if (w.has_pending_event()) return true;
  if (async) return false;
  wait_until([&w] { return w.has_pending_event(); });
  return true;
}

std::function<void()> Runtime::invoke(ComponentInstance* caller, ComponentFunc& f, OnStart on_start,
                                     OnResolve on_resolve) {
  if (f.host) {
    std::shared_ptr<HostPending> pending = start_host(f, on_start(), std::move(on_resolve));
    if (!pending) return nullptr;
    // Weak: the host's work owns the call until it completes.
    return [weak = std::weak_ptr<HostPending>(pending)] {
      if (auto p = weak.lock(); p && !p->done() && p->on_cancel) p->on_cancel();
    };
  }
  if (!f.type->async && !f.plan->opts.async) {
    std::vector<Val> args = on_start();
    on_resolve(call_from(caller, f, args));
    return nullptr;
  }
  std::shared_ptr<Task> task = start_task(caller, f, std::move(on_start), std::move(on_resolve));
  // Weak: the task's on_resolve owns the caller's subtask, which holds this.
  return [this, weak = std::weak_ptr<Task>(task), caller] {
    if (auto t = weak.lock()) request_cancellation(*t, caller);
  };
}

}  // namespace weft::component
