#include "wasi/p2/host.h"

#include "wasi/p2/http_body.h"
#include "wasi/p2/state.h"
#include "wasi/p3/state.h"

namespace weft::wasi::p2 {

WasiHost::WasiHost(loop::Reactor& reactor, const common::WasiConfig& config)
    : state_(std::make_unique<State>(reactor, config)), state3_(std::make_unique<p3::State>(reactor, config)) {
  open_preopens(*state_);
}

// Output still being written goes out first; then the 0.3 host's pending
// work is freed while the runtime it posts to still exists.
WasiHost::~WasiHost() {
  state3_->reactor.run_until([this] { return idle(); });
  state3_.reset();
}

void WasiHost::add_to(component::Host& host) {
  add_io(host, *state_);
  add_cli(host, *state_);
  add_clocks_random(host, *state_);
  add_filesystem(host, *state_);
  add_sockets(host, *state_);
  add_http(host, *state_);
  p3::add_cli(host, *state3_);
  p3::add_clocks(host, *state3_);
  p3::add_filesystem(host, *state3_);
  p3::add_sockets(host, *state3_);
  p3::add_http(host, *state3_);
}

void WasiHost::serve_p3(component::Runtime& rt, component::ComponentFunc& handle,
                        std::shared_ptr<http::Exchange> exchange) {
  p3::serve_request(rt, *state3_, handle, std::move(exchange));
}

void WasiHost::serve_p2(component::Runtime& rt, component::ComponentFunc& handle,
                        std::shared_ptr<http::Exchange> exchange) {
  serve_request(rt, *state_, handle, std::move(exchange));
}

bool WasiHost::idle() const { return state3_->writes_in_flight == 0 && http_idle(*state_); }

}  // namespace weft::wasi::p2
