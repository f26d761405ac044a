// What the WASI 0.3.0 bindings share (internal to src/wasi/p3). Their
// interfaces are async: functions that wait return later (HostCall::defer),
// and byte streams are component streams the host pumps to and from the OS
// (pump.cpp): a ByteSink takes what a guest writes, a ByteSource gives what
// a guest reads. Interfaces WASI 0.3.0 kept synchronous are served by the
// p2 bindings at kVersion3 (wasi/p2/state.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "component/host.h"
#include "component/host_async.h"
#include "loop/reactor.h"
#include "wasi/common/byte_stream.h"
#include "wasi/common/config.h"
#include "wasi/common/errno.h"
#include "wasi/http/server.h"

namespace weft::wasi::p3 {

using common::ByteSink;
using common::ByteSource;
using common::Errno;
using component::HostCall;
using component::HostEnd;
using component::Runtime;
using component::Val;
namespace hv = component::host_values;

inline constexpr const char* kVersion = "0.3.0";

// Host work that outlives the call that started it (a pump, a future being
// delivered): kept here until it finishes. What is left when the host goes
// is closed first (`close` breaks the work's references to itself).
class Operations {
 public:
  Operations() = default;
  Operations(const Operations&) = delete;
  Operations& operator=(const Operations&) = delete;
  ~Operations() {
    for (auto& [id, op] : std::exchange(live_, {}))
      if (op.close) op.close();
  }
  uint64_t add(std::shared_ptr<void> op, std::function<void()> close = nullptr) {
    live_[++last_] = {std::move(op), std::move(close)};
    return last_;
  }
  void remove(uint64_t id) { live_.erase(id); }
  size_t size() const { return live_.size(); }

 private:
  struct Op {
    std::shared_ptr<void> obj;
    std::function<void()> close;
  };
  std::map<uint64_t, Op> live_;
  uint64_t last_ = 0;
};

struct State {
  State(loop::Reactor& reactor, const common::WasiConfig& config) : reactor(reactor), config(config) {}
  loop::Reactor& reactor;
  const common::WasiConfig& config;
  Operations ops;
  // Writes handed to the OS and not finished yet (fd_sink): what is
  // drained before the process exits.
  uint64_t writes_in_flight = 0;

  // Each interface group's own state, set by its add_*.
  struct Filesystem;
  std::unique_ptr<Filesystem, void (*)(Filesystem*)> filesystem{nullptr, nullptr};
  struct Sockets;
  std::unique_ptr<Sockets, void (*)(Sockets*)> sockets{nullptr, nullptr};
  struct Http;
  std::unique_ptr<Http, void (*)(Http*)> http{nullptr, nullptr};
};

// ---- pump.cpp ----

// Copies the guest's stream (`from`, a readable host end) into `sink`
// until the guest drops its writable end or the sink fails; then
// `finished` runs (from the scheduler) with Success or the sink's error.
void pump_to_sink(Runtime& rt, State& st, std::unique_ptr<HostEnd> from, std::shared_ptr<ByteSink> sink,
                  std::function<void(Errno)> finished);
// Copies `source` into the guest's stream (`to`, a writable host end) until
// end of stream, a read error, or the guest dropping its readable end
// (then the source's reads stop); `finished` runs with Success or the error.
void pump_from_source(Runtime& rt, State& st, std::unique_ptr<HostEnd> to, std::shared_ptr<ByteSource> source,
                      std::function<void(Errno)> finished);
// Writes `v` to the future's writable host end, kept alive until the guest
// has read it or dropped its end.
void deliver(State& st, std::unique_ptr<HostEnd> future, Val v);
// A pump's `finished` that delivers to `future` (a future<result<_, E>>)
// how the work ended: `outcome(type, errno)` builds the value.
using Outcome = std::function<Val(const component::Type*, Errno)>;
std::function<void(Errno)> deliver_outcome(State& st, std::unique_ptr<HostEnd> future, Outcome outcome);

// A sink and a source over a stdio descriptor (not owned): reads wait for
// readiness on the loop; writes that may block run on the thread pool.
std::shared_ptr<ByteSink> fd_sink(State& st, int fd);
std::shared_ptr<ByteSource> fd_source(State& st, int fd);

// ---- The interface groups; each registers its interfaces at kVersion ----
void add_cli(component::Host& host, State& st);         // cli.cpp: types, stdin, stdout, stderr
void add_clocks(component::Host& host, State& st);      // clocks.cpp: monotonic-clock wait-for/wait-until
void add_filesystem(component::Host& host, State& st);  // filesystem.cpp: types, preopens
void add_sockets(component::Host& host, State& st);     // sockets.cpp: types, ip-name-lookup
void add_http(component::Host& host, State& st);        // http.cpp: wasi:http types, client

// http.cpp: serves one request with the component's exported
// wasi:http/handler `handle` (a task beside the others in flight); the
// response, its body and trailers go back through `exchange`. From the
// scheduler (Runtime::post), never from a loop callback.
void serve_request(Runtime& rt, State& st, component::ComponentFunc& handle,
                   std::shared_ptr<http::Exchange> exchange);

}  // namespace weft::wasi::p3
