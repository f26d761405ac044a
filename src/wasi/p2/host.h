// WASI 0.2 (wasi:io, wasi:cli, wasi:clocks, wasi:random, wasi:filesystem,
// wasi:sockets) as host interfaces for components, over the services in
// wasi/common and the loop. Every 0.2.x version of each interface is
// served by the same implementation.
#pragma once

#include <memory>

#include "component/host.h"
#include "loop/reactor.h"
#include "wasi/common/config.h"

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

 private:
  std::unique_ptr<State> state_;
};

}  // namespace weft::wasi::p2
