// Tasks, waitables and the scheduler (definitions.py "Concurrency",
// Store.tick). See concurrency.h for how threads block without stack
// switching.
#include "component/concurrency.h"

#include <algorithm>
#include <utility>

#include "component/canonical.h"
#include "component/host_async.h"

namespace weft::component {

namespace {

// A waiting thread's continuation owns its task, and so the thread: freeing
// it ends both.
void release(Thread& t) { std::function<void(bool)> cont = std::move(t.cont); }

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
  for (Thread* t : std::exchange(waiting_, {})) release(*t);
}

Thread& Runtime::current_thread() {
  if (current_.empty()) trap("canon built-in called outside of a task");
  return *current_.back();
}

void Runtime::start_waiting(Thread& t, std::function<bool()> ready, std::function<void(bool)> cont,
                            bool cancellable) {
  t.ready_func = std::move(ready);
  t.cont = std::move(cont);
  t.cancellable = cancellable;
  waiting_.push_back(&t);
}

bool Runtime::tick() {
  if (!posted_.empty()) {
    std::function<void()> work = std::move(posted_.front());
    posted_.erase(posted_.begin());
    work();
    return true;
  }
  // A trap poisoned these instances: their threads never run again.
  std::erase_if(waiting_, [](Thread* t) {
    if (t->task->inst->may_enter) return false;
    release(*t);
    return true;
  });
  auto it = std::find_if(waiting_.begin(), waiting_.end(), [](const Thread* t) { return t->ready_func(); });
  if (it == waiting_.end()) return false;
  resume(**it, false);
  return true;
}

void Runtime::post(std::function<void()> work) { posted_.push_back(std::move(work)); }

void Runtime::resume(Thread& t, bool cancelled) {
  std::erase(waiting_, &t);
  t.ready_func = nullptr;
  std::function<void(bool)> cont = std::move(t.cont);  // owns t's task while it runs
  ThreadScope scope(*this, t);
  cont(cancelled);
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

void Runtime::wait_until(const std::function<bool()>& ready) {
  // Outside of any task (core start functions) is synchronous too.
  trap_if(current_.empty() || !current_.back()->task->may_block(),
          "cannot block a synchronous task before returning");
  trap_if(async_lower_depth_ > 0 && !ready(),
          "stackful async is not supported yet (a callee of an async-lowered call blocked)");
  run_until(ready);
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
    return [pending] {
      if (!pending->done() && pending->on_cancel) pending->on_cancel();
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
