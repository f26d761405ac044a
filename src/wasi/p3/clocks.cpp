// wasi:clocks@0.3.0's waits: monotonic-clock wait-for and wait-until are
// async functions that resolve from a loop timer; cancelling one stops
// its timer. (The clocks' readings are the p2 bindings', at 0.3.0.)
#include "wasi/common/clocks.h"

#include <memory>

#include "wasi/p3/state.h"

namespace weft::wasi::p3 {

namespace {

// Resolves the call after `ns` nanoseconds; a wait for nothing returns at
// once (a caller polling it sees it ready).
void wait(HostCall& c, State& st, uint64_t ns) {
  if (ns == 0) return;
  std::shared_ptr<component::HostPending> pending = c.defer();
  auto timer = std::make_shared<loop::Timer>(st.reactor);
  const uint64_t id = st.ops.add(timer);
  timer->start(ns, [&st, id, pending] {
    st.ops.remove(id);
    if (!pending->done()) pending->resolve();
  });
  pending->on_cancel = [&st, id, weak = std::weak_ptr<component::HostPending>(pending)] {
    st.ops.remove(id);
    if (auto p = weak.lock()) p->cancel();
  };
}

}  // namespace

void add_clocks(component::Host& host, State& st) {
  auto& monotonic = host.add("wasi:clocks/monotonic-clock", kVersion);
  monotonic.func("wait-for", 1, [&st](HostCall& c) { wait(c, st, hv::as_uint(c.args[0])); });
  monotonic.func("wait-until", 1, [&st](HostCall& c) {
    const uint64_t when = hv::as_uint(c.args[0]);
    uint64_t now = 0;
    common::clock_now(static_cast<uint32_t>(common::Clock::Monotonic), now);
    wait(c, st, when > now ? when - now : 0);
  });
}

}  // namespace weft::wasi::p3
