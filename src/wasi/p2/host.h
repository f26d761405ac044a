// WASI 0.2 (wasi:io, wasi:cli, wasi:clocks, wasi:random, wasi:filesystem,
// wasi:sockets) and WASI 0.3.0 (wasi/p3) as host interfaces for
// components, over the services in wasi/common and the loop, side by side
// in one host: today's toolchains import both. Every 0.2.x version of each
// interface is served by the same implementation.
#pragma once

#include <memory>

#include "component/host.h"
#include "component/instance.h"
#include "loop/reactor.h"
#include "wasi/common/config.h"
#include "wasi/http/server.h"

namespace weft::wasi::p3 {
struct State;
}

namespace weft::wasi::p2 {

struct State;

class WasiHost {
 public:
  // Opens the preopened directories; throws weft::Error(Usage) when one
  // cannot be opened.
  WasiHost(loop::Reactor& reactor, const common::WasiConfig& config);
  ~WasiHost();
  WasiHost(const WasiHost&) = delete;
  WasiHost& operator=(const WasiHost&) = delete;

  // Registers every interface on `host` (which must not outlive this).
  void add_to(component::Host& host);
  // Whether output handed to the OS has all been written (what a runner
  // waits for before the process exits).
  bool idle() const;

  // weft serve: hands one request to the component's exported wasi:http
  // handler, from the scheduler. 0.3 `handle` starts as a task beside the
  // others in flight; 0.2 incoming-handler `handle` runs until it returns.
  void serve_p3(component::Runtime& rt, component::ComponentFunc& handle, std::shared_ptr<http::Exchange> exchange);
  void serve_p2(component::Runtime& rt, component::ComponentFunc& handle, std::shared_ptr<http::Exchange> exchange);

 private:
  std::unique_ptr<State> state_;
  std::unique_ptr<p3::State> state3_;
};

}  // namespace weft::wasi::p2
