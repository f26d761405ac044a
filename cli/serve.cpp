// weft serve: an HTTP/1.1 server on the loop (wasi/http/server.h) whose
// requests a wasi:http component answers. As wasmtime does it: a 0.3
// service (wasi:http/handler) keeps one instance for all requests, each a
// task beside the others in flight; a 0.2 incoming-handler gets a fresh
// instance per request, as guests of that API assume. SIGINT or SIGTERM
// stops taking requests, lets those in flight finish and exits 0.
#include <spdlog/spdlog.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/guest.h"
#include "component/decoder.h"
#include "component/instance.h"
#include "component/validator.h"
#include "engine/store.h"
#include "loop/reactor.h"
#include "wasi/http/server.h"
#include "wasi/p2/host.h"

namespace weft::cli {

namespace {

using wasi::http::Exchange;

// "127.0.0.1:8080" or "[::1]:8080" as host and port; the server checks
// that the host is an IP address.
std::pair<std::string, uint16_t> split_address(const std::string& addr) {
  size_t colon = addr.rfind(':');
  std::string host = colon == std::string::npos ? "" : addr.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  std::string_view digits = colon == std::string::npos ? "" : std::string_view(addr).substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (host.empty() || digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      port > 65535)
    throw Error(ErrorKind::Usage,
                "--addr: expected IP:PORT (e.g. 127.0.0.1:8080 or [::1]:8080), got '" + addr + "'");
  return {host, static_cast<uint16_t>(port)};
}

struct Program {
  std::shared_ptr<component::Component> comp;
  component::ComponentInfo info;
  bool p3 = false;      // wasi:http/handler@0.3 (else incoming-handler@0.2)
  std::string handler;  // the export, as find_export names it
};

// One instance of the component and everything it owns, in the order they
// must go: the host before the runtime its pending work posts to.
class Guest {
 public:
  Guest(const Program& program, loop::Reactor& reactor, const wasi::common::WasiConfig& config,
        const engine::StoreLimits& limits)
      : p3_(program.p3), store_(limits), runtime_(store_, program.info.store), wasi_(reactor, config) {
    runtime_.set_event_loop([&reactor](bool block) { return reactor.run_once(block); });
    wasi_.add_to(host_);
    component::ComponentInstance* instance = runtime_.instantiate(*program.comp, program.info.type, host_);
    handle_ = find_export(instance->exports, program.handler);
  }

  void serve(std::shared_ptr<Exchange> exchange) {
    if (p3_) return wasi_.serve_p3(runtime_, *handle_, std::move(exchange));
    wasi_.serve_p2(runtime_, *handle_, std::move(exchange));
  }
  component::Runtime& runtime() { return runtime_; }
  bool idle() const { return wasi_.idle(); }

 private:
  bool p3_;
  engine::Store store_;
  component::Runtime runtime_;
  wasi::p2::WasiHost wasi_;
  component::Host host_;
  component::ComponentFunc* handle_ = nullptr;
};

class Service {
 public:
  // Guest steps between two looks at the loop while guests are busy.
  static constexpr uint32_t kTicksPerTurn = 1024;

  Service(const Program& program, const ServeOptions& options)
      : program_(program),
        config_(wasi_config(options)),
        limits_(store_limits(options)),
        types_base_(program.info.store->mark()),
        server_(reactor_, server_limits(options),
                [this](std::shared_ptr<Exchange> e) { pending_.push_back(e); }) {
    config_.http = true;  // as wasmtime serve: a service may send requests
    for (int signum : {SIGINT, SIGTERM})
      signals_.push_back(std::make_unique<loop::SignalWatch>(reactor_, signum, [this] { stop(); }));
  }

  int run(const std::pair<std::string, uint16_t>& addr) {
    // Instantiating once up front reports an unmet import or a trapping
    // start function before anything listens.
    active_ = std::make_unique<Guest>(program_, reactor_, config_, limits_);
    if (!program_.p3) retire();
    server_.listen(addr.first, addr.second);
    std::fprintf(stderr, "Serving HTTP on http://%s/\n", server_.address().c_str());
    std::fflush(stderr);
    while (!(stopping_ && server_.drained())) {
      dispatch();
      wait();
      reap();
    }
    // What guests handed to the OS goes out before the process ends.
    if (active_) active_->runtime().settle([this] { return active_->idle(); });
    return 0;
  }

 private:
  static wasi::http::ServerLimits server_limits(const ServeOptions& options) {
    wasi::http::ServerLimits limits;
    limits.max_in_flight = options.max_concurrent;
    limits.max_connections = options.max_connections;
    limits.head_timeout_ms = options.head_timeout_ms;
    return limits;
  }

  void stop() {
    if (stopping_) {
      // A second signal: the user does not want to wait.
      std::fprintf(stderr, "error: stopped with %u requests in flight\n", server_.in_flight());
      std::_Exit(1);
    }
    spdlog::info("stopping: {} requests in flight", server_.in_flight());
    stopping_ = true;
    server_.stop();
  }

  // Hands the requests that came in to the component: 0.3 ones start as
  // tasks of the one instance; a 0.2 one runs in an instance of its own,
  // one per turn of the loop, so that the instances whose answers went out
  // are gone before the next is made (memory stays flat under load).
  void dispatch() {
    while (!pending_.empty()) {
      std::shared_ptr<Exchange> exchange = std::move(pending_.front());
      pending_.pop_front();
      if (!active_) active_ = std::make_unique<Guest>(program_, reactor_, config_, limits_);
      if (program_.p3) {
        // The instance's requests, for when it traps (finished ones expire).
        std::erase_if(dispatched_, [](const std::weak_ptr<Exchange>& e) { return e.expired(); });
        dispatched_.push_back(exchange);
      }
      try {
        active_->serve(exchange);
      } catch (const engine::Trap& trap) {
        failed(trap, exchange);
        continue;
      }
      if (!program_.p3) return retire();
    }
  }

  // Runs what guests can do now, then the loop: a request that came in
  // waits until the guests have nothing ready (or had a good share of the
  // time), so requests in flight are not starved by new ones.
  void wait() {
    bool busy = false;
    if (program_.p3 && active_) {
      try {
        busy = active_->runtime().run_ready(kTicksPerTurn);
      } catch (const engine::Trap& trap) {
        failed(trap, nullptr);
        return;
      }
    }
    bool more = busy || !pending_.empty() || (stopping_ && server_.drained());
    reactor_.run_once(!more);
  }

  // A trap poisons the instance: its requests in flight end (500, or a
  // closed connection once the answer had begun; finished ones ignore the
  // abort) and the next request gets a fresh instance.
  void failed(const engine::Trap& trap, const std::shared_ptr<Exchange>& exchange) {
    spdlog::error("wasm trap while handling a request: {}", trap.what());
    if (exchange) exchange->abort(500);
    for (const std::weak_ptr<Exchange>& e : std::exchange(dispatched_, {}))
      if (auto live = e.lock()) live->abort(500);
    active_.reset();
    reap();
  }

  // An instance whose work is done but whose output may still be going out.
  void retire() { finishing_.push_back(std::move(active_)); }

  void reap() {
    std::erase_if(finishing_, [](const std::unique_ptr<Guest>& g) { return g->idle(); });
    // Nothing refers to the types instantiating added any more.
    if (!active_ && finishing_.empty()) program_.info.store->rollback(types_base_);
  }

  const Program& program_;
  wasi::common::WasiConfig config_;
  engine::StoreLimits limits_;
  component::TypeStore::Mark types_base_;
  loop::Reactor reactor_;
  wasi::http::Server server_;
  std::vector<std::unique_ptr<loop::SignalWatch>> signals_;
  std::deque<std::shared_ptr<Exchange>> pending_;  // arrived, not yet handed to a guest
  std::unique_ptr<Guest> active_;
  std::vector<std::weak_ptr<Exchange>> dispatched_;  // to active_ (0.3), maybe still in flight
  std::vector<std::unique_ptr<Guest>> finishing_;
  bool stopping_ = false;
};

Program load_program(const ServeOptions& options) {
  Program program;
  ByteBuffer bytes = ByteBuffer::read_file(options.file);
  if (!component::is_component(bytes))
    throw Error(ErrorKind::Usage, options.file + " is a core module; weft serve needs a wasi:http component");
  program.comp = component::decode_component(bytes);
  program.info = component::validate(*program.comp, options.validate_all);
  std::string p3 = find_instance_export(program.info.type, {"wasi:http/handler@0.3."});
  std::string p2 = find_instance_export(program.info.type, {"wasi:http/incoming-handler@0.2."});
  if (p3.empty() && p2.empty())
    throw Error(ErrorKind::Usage, options.file +
                                      " exports no wasi:http handler (wasi:http/handler@0.3.x or "
                                      "wasi:http/incoming-handler@0.2.x)");
  program.p3 = !p3.empty();
  program.handler = (program.p3 ? p3 : p2) + "#handle";
  const component::ExternDesc* handle = find_export(program.info.type, program.handler);
  if (!handle || handle->kind != component::ExternKind::Func)
    throw Error(ErrorKind::Usage, options.file + ": " + (program.p3 ? p3 : p2) + " has no function 'handle'");
  return program;
}

}  // namespace

int serve_command(const ServeOptions& options) {
  try {
    std::pair<std::string, uint16_t> addr = split_address(options.addr);
    Program program = load_program(options);
    Service service(program, options);
    return service.run(addr);
  } catch (const engine::Trap& trap) {
    return report_trap(trap);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Usage || e.kind() == ErrorKind::Io) return fail(e.what());
    return fail(options.file + ": " + e.describe());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

}  // namespace weft::cli
