// wasi:clocks@0.3.0's waits: monotonic-clock wait-for and wait-until are
// async functions that resolve from a loop timer; cancelling one stops
// its timer. And timezone: the host's, as the C library sees it. (The
// clocks' readings are the p2 bindings', at 0.3.0.)
#include "wasi/common/clocks.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

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

// The IANA name of the host's zone: TZ when it names one, else where
// /etc/localtime points into the zone database.
std::optional<std::string> iana_id() {
  if (const char* tz = std::getenv("TZ"); tz && *tz) {
    // Area/Location names only, not POSIX rules ("CET-1CEST,M3.5.0,...").
    std::string name = tz[0] == ':' ? tz + 1 : tz;
    const bool iana =
        std::isalpha(static_cast<unsigned char>(name[0])) &&
        name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") ==
            std::string::npos &&
        (name.find('/') != std::string::npos || name == "UTC");
    return iana ? std::optional(name) : std::nullopt;
  }
  char buf[4096];
  ssize_t n = readlink("/etc/localtime", buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  std::string target(buf, static_cast<size_t>(n));
  const std::string marker = "zoneinfo/";
  size_t at = target.find(marker);
  if (at == std::string::npos) return std::nullopt;
  return target.substr(at + marker.size());
}

// Seconds east of UTC at `seconds` since the epoch, if the C library knows.
std::optional<int64_t> utc_offset(int64_t seconds) {
  tzset();
  const time_t t = static_cast<time_t>(seconds);
  tm local{};
  if (!localtime_r(&t, &local)) return std::nullopt;
  return static_cast<int64_t>(local.tm_gmtoff);
}

void add_timezone(component::Host& host) {
  auto& timezone = host.add("wasi:clocks/timezone", kVersion);
  timezone.func("iana-id", 0, [](HostCall& c) {
    std::optional<std::string> id = iana_id();
    const component::Type* t = c.result_type();
    c.result = id ? hv::some(t, hv::string(hv::element(t), *id)) : hv::none(t);
  });
  timezone.func("utc-offset", 1, [](HostCall& c) {
    const int64_t seconds = static_cast<int64_t>(hv::as_uint(hv::field(c.args[0], "seconds")));
    std::optional<int64_t> offset = utc_offset(seconds);
    const component::Type* t = c.result_type();
    c.result = offset ? hv::some(t, hv::scalar(hv::element(t), static_cast<uint64_t>(*offset * 1000000000)))
                      : hv::none(t);
  });
  timezone.func("to-debug-string", 0, [](HostCall& c) {
    std::string text;
    if (std::optional<std::string> id = iana_id()) {
      text = *id;
    } else if (std::optional<int64_t> offset = utc_offset(std::time(nullptr))) {
      const int64_t minutes = (*offset < 0 ? -*offset : *offset) / 60;
      char buf[48];
      std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", *offset < 0 ? '-' : '+',
                    static_cast<long long>(minutes / 60), static_cast<long long>(minutes % 60));
      text = buf;
    } else {
      text = "unknown";
    }
    c.result = hv::string(c.result_type(), text);
  });
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
  add_timezone(host);
}

}  // namespace weft::wasi::p3
