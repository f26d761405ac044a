// wasi:clocks (monotonic-clock, wall-clock) and wasi:random (random,
// insecure, insecure-seed).
#include "wasi/common/clocks.h"

#include <utility>

#include "wasi/p2/state.h"

namespace weft::wasi::p2 {

namespace {

using common::Clock;

uint64_t now(Clock clock) {
  uint64_t ns = 0;
  if (common::clock_now(static_cast<uint32_t>(clock), ns) != common::Errno::Success)
    throw engine::Trap(engine::TrapKind::Host, "the host clock cannot be read");
  return ns;
}

uint64_t resolution(Clock clock) {
  uint64_t ns = 0;
  if (common::clock_resolution(static_cast<uint32_t>(clock), ns) != common::Errno::Success)
    throw engine::Trap(engine::TrapKind::Host, "the host clock's resolution cannot be read");
  return ns;
}

// Ready once the monotonic clock reaches `deadline`; waits on a loop timer.
class TimerPollable final : public Pollable {
 public:
  TimerPollable(loop::Reactor& reactor, uint64_t deadline) : timer_(reactor), deadline_(deadline) {}
  bool ready() override { return now(Clock::Monotonic) >= deadline_; }
  void watch(std::function<void()> wake) override {
    uint64_t t = now(Clock::Monotonic);
    timer_.start(deadline_ > t ? deadline_ - t : 0, std::move(wake));
  }
  void unwatch() override { timer_.stop(); }

 private:
  loop::Timer timer_;
  uint64_t deadline_;
};

void add_monotonic_clock(component::Host& host, State& st) {
  auto& iface = host.add("wasi:clocks/monotonic-clock", kVersion);
  iface.use(st.pollable_resource);
  iface.func("now", 0, [](HostCall& c) { c.result = hv::scalar(c.result_type(), now(Clock::Monotonic)); });
  iface.func("resolution", 0,
             [](HostCall& c) { c.result = hv::scalar(c.result_type(), resolution(Clock::Monotonic)); });
  iface.func("subscribe-instant", 1, [&st](HostCall& c) {
    uint64_t when = hv::as_uint(c.args[0]);
    c.result = new_pollable(st, c.result_type(), std::make_shared<TimerPollable>(st.reactor, when));
  });
  iface.func("subscribe-duration", 1, [&st](HostCall& c) {
    uint64_t t = now(Clock::Monotonic), d = hv::as_uint(c.args[0]);
    uint64_t deadline = d > UINT64_MAX - t ? UINT64_MAX : t + d;
    c.result = new_pollable(st, c.result_type(), std::make_shared<TimerPollable>(st.reactor, deadline));
  });
}

// wall-clock's datetime record from nanoseconds.
Val datetime(const component::Type* t, uint64_t ns) {
  return hv::record(t, {hv::scalar(hv::field_type(t, "seconds"), ns / 1000000000u),
                        hv::scalar(hv::field_type(t, "nanoseconds"), ns % 1000000000u)});
}

void add_wall_clock(component::Host& host) {
  auto& iface = host.add("wasi:clocks/wall-clock", kVersion);
  iface.func("now", 0, [](HostCall& c) { c.result = datetime(c.result_type(), now(Clock::Realtime)); });
  iface.func("resolution", 0,
             [](HostCall& c) { c.result = datetime(c.result_type(), resolution(Clock::Realtime)); });
}

// 0.3.0's clocks: the same readings, system-clock's instant is wall-clock's
// datetime with signed seconds, resolutions are durations; the waits
// (monotonic-clock wait-for/wait-until) are async, not served here.
void add_clocks_v3(component::Host& host) {
  host.add("wasi:clocks/types", kVersion3);  // type definitions only
  auto& system = host.add("wasi:clocks/system-clock", kVersion3);
  system.func("now", 0, [](HostCall& c) { c.result = datetime(c.result_type(), now(Clock::Realtime)); });
  system.func("get-resolution", 0,
              [](HostCall& c) { c.result = hv::scalar(c.result_type(), resolution(Clock::Realtime)); });
  auto& monotonic = host.add("wasi:clocks/monotonic-clock", kVersion3);
  monotonic.func("now", 0, [](HostCall& c) { c.result = hv::scalar(c.result_type(), now(Clock::Monotonic)); });
  monotonic.func("get-resolution", 0,
                 [](HostCall& c) { c.result = hv::scalar(c.result_type(), resolution(Clock::Monotonic)); });
}

// The most bytes one get-random-bytes call returns: a guest asking for more
// is misbehaving, and the host would have to allocate it all.
constexpr uint64_t kMaxRandomBytes = 64u << 20;

void random_bytes(HostCall& c) {
  uint64_t len = hv::as_uint(c.args[0]);
  if (len > kMaxRandomBytes)
    throw engine::Trap(engine::TrapKind::Host, "get-random-bytes of " + std::to_string(len) +
                                                   " bytes (at most " + std::to_string(kMaxRandomBytes) +
                                                   ")");
  std::string buf(len, '\0');
  common::random_fill(reinterpret_cast<uint8_t*>(buf.data()), buf.size());
  c.result = hv::bytes(c.result_type(), buf);
}

uint64_t random_u64() {
  uint64_t v;
  common::random_fill(reinterpret_cast<uint8_t*>(&v), sizeof v);
  return v;
}

// The insecure interfaces are served from the same CSPRNG: it is fast
// enough, and "insecure" only permits weaker sources.
void add_random(component::Host& host) {
  for (auto [version, seed_name] :
       {std::pair{kVersion, "insecure-seed"}, std::pair{kVersion3, "get-insecure-seed"}}) {
    for (auto [name, bytes, u64] :
         {std::tuple{"wasi:random/random", "get-random-bytes", "get-random-u64"},
          std::tuple{"wasi:random/insecure", "get-insecure-random-bytes", "get-insecure-random-u64"}}) {
      auto& iface = host.add(name, version);
      iface.func(bytes, 1, random_bytes);
      iface.func(u64, 0, [](HostCall& c) { c.result = hv::scalar(c.result_type(), random_u64()); });
    }
    auto& seed = host.add("wasi:random/insecure-seed", version);
    seed.func(seed_name, 0, [](HostCall& c) {
      // One value per process: the WIT means it as a value import (a seed
      // for hash-map DoS protection), and tests read it twice.
      static const std::pair<uint64_t, uint64_t> value{random_u64(), random_u64()};
      const component::Type* t = c.result_type();
      c.result = hv::tuple(t, {hv::scalar(hv::tuple_type(t, 0), value.first),
                               hv::scalar(hv::tuple_type(t, 1), value.second)});
    });
  }
}

}  // namespace

void add_clocks_random(component::Host& host, State& st) {
  add_monotonic_clock(host, st);
  add_wall_clock(host);
  add_clocks_v3(host);
  add_random(host);
}

}  // namespace weft::wasi::p2
