// WASI 0.2 (wasi:io, wasi:cli, wasi:clocks, wasi:random, wasi:filesystem,
// wasi:sockets) and WASI 0.3.0 (wasi/p3) as host interfaces for
// components, over the services in wasi/common and the loop, side by side
// in one host: today's toolchains import both. Every 0.2.x version of each
// interface is served by the same implementation.
#pragma once

#include <memory>

#include "component/host.h"
#include "loop/reactor.h"
#include "wasi/common/config.h"

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

 private:
  std::unique_ptr<State> state_;
  std::unique_ptr<p3::State> state3_;
};

}  // namespace weft::wasi::p2
