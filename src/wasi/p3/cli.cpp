// wasi:cli@0.3.0's stdio: stdin is a stream the host fills from descriptor
// 0; stdout and stderr take a stream from the guest and pump it to 1 and 2.
// Each also returns a future of how it ended (error-code: io, pipe).
#include <unistd.h>

#include <memory>

#include "wasi/p3/state.h"

namespace weft::wasi::p3 {

namespace {

// The future<result<_, error-code>> value for how a stream ended.
Val stream_result(const component::Type* t, Errno e) {
  if (e == Errno::Success) return hv::ok(t);
  return hv::err(t, hv::enum_case(hv::err_type(t), e == Errno::Pipe ? "pipe" : "io"));
}

}  // namespace

void add_cli(component::Host& host, State& st) {
  host.add("wasi:cli/types", kVersion);  // type definitions only

  host.add("wasi:cli/stdin", kVersion).func("read-via-stream", 0, [&st](HostCall& c) {
    const component::Type* t = c.result_type();
    auto [stream, writer] = c.runtime.host_stream(hv::tuple_type(t, 0));
    auto [future, promise] = c.runtime.host_stream(hv::tuple_type(t, 1));
    c.result = hv::tuple(t, {std::move(stream), std::move(future)});
    pump_from_source(c.runtime, st, std::move(writer), fd_source(st, STDIN_FILENO),
                     deliver_outcome(st, std::move(promise), stream_result));
  });

  for (auto [name, fd] :
       {std::pair{"wasi:cli/stdout", STDOUT_FILENO}, std::pair{"wasi:cli/stderr", STDERR_FILENO}}) {
    host.add(name, kVersion).func("write-via-stream", 1, [&st, fd](HostCall& c) {
      std::unique_ptr<HostEnd> reader = c.runtime.host_readable(c.args[0]);
      auto [future, promise] = c.runtime.host_stream(c.result_type());
      c.result = std::move(future);
      pump_to_sink(c.runtime, st, std::move(reader), fd_sink(st, fd),
                   deliver_outcome(st, std::move(promise), stream_result));
    });
  }
}

}  // namespace weft::wasi::p3
