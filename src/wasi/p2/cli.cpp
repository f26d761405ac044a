// wasi:cli: environment, exit, stdio and the terminal-* interfaces.
#include <unistd.h>

#include <utility>

#include "wasi/p2/state.h"

namespace weft::wasi::p2 {

namespace {

void add_environment(component::Host& host, State& st) {
  for (auto [version, cwd] : {std::pair{kVersion, "initial-cwd"}, std::pair{kVersion3, "get-initial-cwd"}}) {
    auto& iface = host.add("wasi:cli/environment", version);
    iface.func("get-environment", 0, [&st](HostCall& c) {
      const component::Type* pair = hv::element(c.result_type());
      std::vector<Val> vars;
      for (const auto& [name, value] : common::guest_environment(st.config))
        vars.push_back(hv::tuple(
            pair, {hv::string(hv::tuple_type(pair, 0), name), hv::string(hv::tuple_type(pair, 1), value)}));
      c.result = hv::list(c.result_type(), std::move(vars));
    });
    iface.func("get-arguments", 0, [&st](HostCall& c) {
      std::vector<Val> args;
      for (const std::string& a : st.config.args) args.push_back(hv::string(hv::element(c.result_type()), a));
      c.result = hv::list(c.result_type(), std::move(args));
    });
    // No working directory is granted; paths resolve against preopens only.
    iface.func(cwd, 0, [](HostCall& c) { c.result = hv::none(c.result_type()); });
  }
}

void add_exit(component::Host& host) {
  for (const char* version : {kVersion, kVersion3}) {
    auto& iface = host.add("wasi:cli/exit", version);
    iface.func("exit", 1, [](HostCall& c) {
      const Val& status = c.args[0];
      hv::ok_type(status.type);  // traps unless `status` is a result
      throw engine::ExitRequest{status.case_index == 0 ? 0 : 1};
    });
    // Since 0.2.12 (exit.wit).
    iface.func("exit-with-code", 1,
               [](HostCall& c) { throw engine::ExitRequest{static_cast<int>(hv::as_uint(c.args[0]) & 0xff)}; });
  }
}

// get-stdin / get-stdout / get-stderr: a new stream handle over the
// process's descriptor on every call.
void add_stdio(component::Host& host, State& st) {
  auto& in = host.add("wasi:cli/stdin", kVersion);
  in.use(st.input_stream_resource);
  in.func("get-stdin", 0, [&st](HostCall& c) {
    c.result = hv::scalar(c.result_type(), st.input_streams.add(fd_input_stream(st, STDIN_FILENO)));
  });
  struct Out {
    const char* iface;
    const char* func;
    int fd;
  };
  for (Out o : {Out{"wasi:cli/stdout", "get-stdout", STDOUT_FILENO},
                Out{"wasi:cli/stderr", "get-stderr", STDERR_FILENO}}) {
    auto& iface = host.add(o.iface, kVersion);
    iface.use(st.output_stream_resource);
    iface.func(o.func, 0, [&st, fd = o.fd](HostCall& c) {
      c.result = hv::scalar(c.result_type(), st.output_streams.add(fd_output_stream(st, fd)));
    });
  }
}

// The terminal resources carry nothing yet (terminal.wit has no methods);
// a handle's representation is its descriptor plus one (reps are never 0).
void add_terminal(component::Host& host) {
  for (const char* version : {kVersion, kVersion3}) {
    auto& input = host.add("wasi:cli/terminal-input", version);
    auto input_resource = input.resource("terminal-input", [](uint32_t) {});
    auto& output = host.add("wasi:cli/terminal-output", version);
    auto output_resource = output.resource("terminal-output", [](uint32_t) {});

    struct Term {
      const char* iface;
      const char* func;
      int fd;
      std::shared_ptr<component::HostResource> resource;
    };
    for (const Term& t :
         {Term{"wasi:cli/terminal-stdin", "get-terminal-stdin", STDIN_FILENO, input_resource},
          Term{"wasi:cli/terminal-stdout", "get-terminal-stdout", STDOUT_FILENO, output_resource},
          Term{"wasi:cli/terminal-stderr", "get-terminal-stderr", STDERR_FILENO, output_resource}}) {
      auto& iface = host.add(t.iface, version);
      iface.use(t.resource);
      iface.func(t.func, 0, [fd = t.fd](HostCall& c) {
        const component::Type* rt = c.result_type();
        c.result = isatty(fd) ? hv::some(rt, hv::scalar(hv::element(rt), static_cast<uint64_t>(fd) + 1))
                              : hv::none(rt);
      });
    }
  }
}

}  // namespace

void add_cli(component::Host& host, State& st) {
  add_environment(host, st);
  add_exit(host);
  add_stdio(host, st);
  add_terminal(host);
}

}  // namespace weft::wasi::p2
