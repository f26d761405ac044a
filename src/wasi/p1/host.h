// WASI preview1 (`wasi_snapshot_preview1`, and `wasi_unstable` where its
// ABI is the same or the difference is handled here) as host functions over
// the shared services in wasi/common and the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/store.h"
#include "loop/reactor.h"
#include "wasi/common/config.h"
#include "wasm/module.h"

namespace weft::wasi::p1 {

// True for the import modules this host serves.
bool is_wasi_module(std::string_view module);

class Host {
 public:
  // Opens the preopened directories and --tcplisten sockets (fd 3 onwards,
  // in that order). Throws weft::Error(Usage) when one cannot be opened.
  Host(engine::Store& store, loop::Reactor& reactor, const common::WasiConfig& config);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // The function `module`.`name` as an import of type `expected`, or nullopt
  // if there is none (or its type differs).
  std::optional<engine::Extern> resolve(std::string_view module, std::string_view name,
                                        const wasm::FuncType& expected);

  struct State;  // descriptors, args, env; named by the call handlers in host.cpp

 private:
  std::unique_ptr<State> state_;
};

// One extern per import of `module`, from `host`. Throws
// weft::Error(Unlinkable) naming every import the host does not provide.
std::vector<engine::Extern> link_imports(Host& host, const wasm::Module& module);

}  // namespace weft::wasi::p1
