#include "wasi/p2/host.h"

#include "wasi/p2/state.h"

namespace weft::wasi::p2 {

WasiHost::WasiHost(loop::Reactor& reactor, const common::WasiConfig& config)
    : state_(std::make_unique<State>(reactor, config)) {
  open_preopens(*state_);
}

WasiHost::~WasiHost() = default;

void WasiHost::add_to(component::Host& host) {
  add_io(host, *state_);
  add_cli(host, *state_);
  add_clocks_random(host, *state_);
  add_filesystem(host, *state_);
  add_sockets(host, *state_);
}

}  // namespace weft::wasi::p2
