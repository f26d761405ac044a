// The WASI 0.2 host's io, cli, clocks and random groups: poll over timers
// and pipes, the descriptor streams, and the functions the host registers,
// called directly with hand-made component types.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>
#include <thread>

#include "p2_support.h"
#include "wasi/p2/state.h"

using namespace weft;
using namespace weft::testing;  // Type, TypeKind, Val, WitTypes, HostCaller
using wasi::p2::Pollable;
using wasi::p2::State;
using wasi::p2::StreamStatus;

namespace {

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
  void close_write() { close(std::exchange(w, -1)); }
};

// The WIT types the tests use; every handle is an own of one resource.
struct IoTypes : WitTypes {
  const Type* handle_resource = resource();
  using WitTypes::own;
  const Type* own() { return own(handle_resource); }
  const Type* stream_error() { return variant({{"last-operation-failed", own()}, {"closed", nullptr}}); }
};

struct Fixture {
  loop::Reactor reactor;
  wasi::common::WasiConfig config;
  State st{reactor, config};
  IoTypes t;
  HostCaller caller{t};
  component::Host& host = caller.host;

  Fixture() {
    config.args = {"prog", "arg"};
    config.env = {{"A", "1"}};
    wasi::p2::add_io(host, st);
    wasi::p2::add_cli(host, st);
    wasi::p2::add_clocks_random(host, st);
  }

  Val call(const char* iface, const char* name, std::vector<Val> args, const Type* result) {
    return caller.call(iface, name, std::move(args), result);
  }
  Val u64(uint64_t v) { return component::host_values::scalar(t.prim(TypeKind::U64), v); }
  Val handle(uint64_t rep) { return component::host_values::scalar(t.own(), rep); }
};

Pollable& pollable(Fixture& f, const Val& handle) { return *f.st.pollables.get(handle.bits).pollable; }

}  // namespace

TEST_CASE("p2: every io, cli, clocks and random function is registered", "[wasi][p2]") {
  Fixture f;
  const std::pair<const char*, std::vector<const char*>> expected[] = {
      {"wasi:io/error@0.2.0", {"[method]error.to-debug-string"}},
      {"wasi:io/poll@0.2.0", {"[method]pollable.ready", "[method]pollable.block", "poll"}},
      {"wasi:io/streams@0.2.0",
       {"[method]input-stream.read", "[method]input-stream.blocking-read", "[method]input-stream.skip",
        "[method]input-stream.blocking-skip", "[method]input-stream.subscribe",
        "[method]output-stream.check-write", "[method]output-stream.write",
        "[method]output-stream.blocking-write-and-flush", "[method]output-stream.flush",
        "[method]output-stream.blocking-flush", "[method]output-stream.subscribe",
        "[method]output-stream.write-zeroes", "[method]output-stream.blocking-write-zeroes-and-flush",
        "[method]output-stream.splice", "[method]output-stream.blocking-splice"}},
      {"wasi:cli/environment@0.2.3", {"get-environment", "get-arguments", "initial-cwd"}},
      {"wasi:cli/exit@0.2.12", {"exit", "exit-with-code"}},
      {"wasi:cli/stdin@0.2.0", {"get-stdin"}},
      {"wasi:cli/stdout@0.2.0", {"get-stdout"}},
      {"wasi:cli/stderr@0.2.0", {"get-stderr"}},
      {"wasi:cli/terminal-stdin@0.2.0", {"get-terminal-stdin"}},
      {"wasi:cli/terminal-stdout@0.2.0", {"get-terminal-stdout"}},
      {"wasi:cli/terminal-stderr@0.2.0", {"get-terminal-stderr"}},
      {"wasi:clocks/monotonic-clock@0.2.0", {"now", "resolution", "subscribe-instant", "subscribe-duration"}},
      {"wasi:clocks/wall-clock@0.2.0", {"now", "resolution"}},
      {"wasi:random/random@0.2.0", {"get-random-bytes", "get-random-u64"}},
      {"wasi:random/insecure@0.2.0", {"get-insecure-random-bytes", "get-insecure-random-u64"}},
      {"wasi:random/insecure-seed@0.2.0", {"insecure-seed"}},
      // WASI 0.3.0's synchronous interfaces, served by the same bindings.
      {"wasi:cli/environment@0.3.0", {"get-environment", "get-arguments", "get-initial-cwd"}},
      {"wasi:cli/exit@0.3.0", {"exit", "exit-with-code"}},
      {"wasi:cli/terminal-stdout@0.3.0", {"get-terminal-stdout"}},
      {"wasi:clocks/system-clock@0.3.0", {"now", "get-resolution"}},
      {"wasi:clocks/monotonic-clock@0.3.0", {"now", "get-resolution"}},
      {"wasi:random/random@0.3.0", {"get-random-bytes", "get-random-u64"}},
      {"wasi:random/insecure-seed@0.3.0", {"get-insecure-seed"}},
  };
  for (const auto& [iface, funcs] : expected) {
    INFO(iface);
    const auto* i = f.host.find(iface);
    REQUIRE(i != nullptr);
    for (const char* name : funcs) {
      INFO(name);
      CHECK(i->find_func(name) != nullptr);
    }
  }
  const std::pair<const char*, const char*> resources[] = {
      {"wasi:io/error@0.2.0", "error"},
      {"wasi:io/poll@0.2.0", "pollable"},
      {"wasi:io/streams@0.2.0", "input-stream"},
      {"wasi:io/streams@0.2.0", "output-stream"},
      {"wasi:io/streams@0.2.0", "pollable"},
      {"wasi:cli/stdin@0.2.0", "input-stream"},
      {"wasi:cli/stdout@0.2.0", "output-stream"},
      {"wasi:cli/terminal-input@0.2.0", "terminal-input"},
      {"wasi:cli/terminal-stdout@0.2.0", "terminal-output"},
      {"wasi:clocks/monotonic-clock@0.2.0", "pollable"},
  };
  for (const auto& [iface, res] : resources) {
    INFO(iface << " " << res);
    CHECK(f.host.find(iface)->find_resource(res) != nullptr);
  }
  CHECK(f.host.find("wasi:io/streams@0.3.0") == nullptr);
}

TEST_CASE("p2: poll waits for a timer without spinning and returns the ready index", "[wasi][p2]") {
  Fixture f;
  auto start = std::chrono::steady_clock::now();
  Val late =
      f.call("wasi:clocks/monotonic-clock@0.2.0", "subscribe-duration", {f.u64(5'000'000'000)}, f.t.own());
  Val soon =
      f.call("wasi:clocks/monotonic-clock@0.2.0", "subscribe-duration", {f.u64(80'000'000)}, f.t.own());
  CHECK_FALSE(pollable(f, soon).ready());
  uint64_t turns = f.reactor.turns();
  auto ready = wasi::p2::poll(f.st, {&pollable(f, late), &pollable(f, soon), &pollable(f, soon)});
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(ready == std::vector<uint32_t>{1, 2});
  CHECK(waited >= std::chrono::milliseconds(80));  // not woken early
  // Slept in the kernel until the timer: a turn or two (libuv rounds
  // timers to milliseconds), not a loop polling the clock.
  CHECK(f.reactor.turns() - turns <= 3);
  CHECK(pollable(f, soon).ready());
  CHECK_FALSE(pollable(f, late).ready());

  // The same through the guest-facing poll, with borrowed handles.
  const Type* borrows = f.t.list(f.t.own());
  Val list = component::host_values::list(borrows, {late, soon});
  Val out = f.call("wasi:io/poll@0.2.0", "poll", {list}, f.t.list(f.t.prim(TypeKind::U32)));
  REQUIRE(out.items.size() == 1);
  CHECK(out.items[0].bits == 1);

  // subscribe-instant in the past is ready at once.
  Val past = f.call("wasi:clocks/monotonic-clock@0.2.0", "subscribe-instant", {f.u64(0)}, f.t.own());
  CHECK(pollable(f, past).ready());
  f.host.find("wasi:io/poll@0.2.0")->find_resource("pollable")->drop(static_cast<uint32_t>(past.bits));
  CHECK_THROWS_AS(pollable(f, past), engine::Trap);
}

TEST_CASE("p2: poll on an empty list traps", "[wasi][p2]") {
  Fixture f;
  CHECK_THROWS_AS(wasi::p2::poll(f.st, {}), engine::Trap);
  Val empty = component::host_values::list(f.t.list(f.t.own()), {});
  CHECK_THROWS_AS(f.call("wasi:io/poll@0.2.0", "poll", {empty}, f.t.list(f.t.prim(TypeKind::U32))),
                  engine::Trap);
}

TEST_CASE("p2: poll wakes when a pipe becomes readable", "[wasi][p2]") {
  Fixture f;
  Pipe p;
  auto in = wasi::p2::fd_input_stream(f.st, p.r);
  auto readable = in->readiness();
  Val timer =
      f.call("wasi:clocks/monotonic-clock@0.2.0", "subscribe-duration", {f.u64(5'000'000'000)}, f.t.own());
  CHECK_FALSE(readable->ready());
  int flags = fcntl(p.r, F_GETFL);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(write(p.w, "hello", 5) == 5);
  });
  uint64_t turns = f.reactor.turns();
  auto ready = wasi::p2::poll(f.st, {&pollable(f, timer), readable.get()});
  writer.join();
  CHECK(ready == std::vector<uint32_t>{1});
  CHECK(f.reactor.turns() - turns <= 3);  // slept until the write
  CHECK(fcntl(p.r, F_GETFL) == flags);  // the watch ended with the wait
  std::string data;
  CHECK(in->read(3, data).kind == StreamStatus::Kind::Ok);
  CHECK(data == "hel");  // partial: only what was asked
  CHECK(in->read(100, data).kind == StreamStatus::Kind::Ok);
  CHECK(data == "hello");
  CHECK(in->read(100, data).kind == StreamStatus::Kind::Ok);  // nothing yet, not an error
  CHECK(data == "hello");
}

TEST_CASE("p2: an input stream over a pipe is closed at end of file", "[wasi][p2]") {
  Fixture f;
  Pipe p;
  auto in = wasi::p2::fd_input_stream(f.st, p.r);
  CHECK(write(p.w, "ab", 2) == 2);
  p.close_write();
  auto readable = in->readiness();
  std::string data;
  CHECK(in->read(0, data).kind == StreamStatus::Kind::Ok);
  CHECK(in->read(10, data).kind == StreamStatus::Kind::Ok);
  CHECK(data == "ab");
  CHECK(readable->ready());
  CHECK(in->read(10, data).kind == StreamStatus::Kind::Closed);
  CHECK(in->read(10, data).kind == StreamStatus::Kind::Closed);
  wasi::p2::block(f.st, *in->readiness());  // a closed stream's pollable is ready
}

TEST_CASE("p2: blocking-write-and-flush to a slow reader arrives in full and in order", "[wasi][p2]") {
  Fixture f;
  Pipe p;
  const Type* unit_result = f.t.result(nullptr, f.t.stream_error());
  uint32_t rep = f.st.output_streams.add(wasi::p2::fd_output_stream(f.st, p.w));
  uint32_t rep2 = f.st.output_streams.add(wasi::p2::fd_output_stream(f.st, p.w));
  std::string expected;
  std::string got;
  std::thread reader([&] {
    char buf[1000];
    for (;;) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      ssize_t n = read(p.r, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
  });
  const Type* bytes = f.t.list(f.t.prim(TypeKind::U8));
  uint64_t turns = f.reactor.turns();
  // Far more than a pipe holds, through two handles of one descriptor.
  for (int i = 0; i < 80; ++i) {
    std::string chunk(4096, static_cast<char>('a' + i % 26));
    chunk[0] = static_cast<char>(i);
    expected += chunk;
    Val r = f.call("wasi:io/streams@0.2.0", "[method]output-stream.blocking-write-and-flush",
                   {f.handle(i % 2 ? rep : rep2), component::host_values::bytes(bytes, chunk)}, unit_result);
    REQUIRE(r.case_index == 0);
  }
  INFO("loop turns: " << f.reactor.turns() - turns);
  // At most a wake per read of the reader (328 of them, 1000 bytes each);
  // a loop that polled instead of sleeping would take far more turns.
  CHECK(f.reactor.turns() - turns <= 340);
  f.st.output_streams.remove(rep);
  f.st.output_streams.remove(rep2);
  p.close_write();
  reader.join();
  CHECK(got.size() == expected.size());
  CHECK(got == expected);
}

TEST_CASE("p2: output-stream write respects check-write and reports a closed reader", "[wasi][p2]") {
  Fixture f;
  Pipe p;
  auto out = wasi::p2::fd_output_stream(f.st, p.w);
  uint64_t permit = 0;
  CHECK_THROWS_AS(out->write("x"), engine::Trap);  // no permit yet
  REQUIRE(out->check_write(permit).kind == StreamStatus::Kind::Ok);
  REQUIRE(permit == 4096);
  CHECK_THROWS_AS(out->write(std::string(4097, 'x')), engine::Trap);
  CHECK(out->write("hi").kind == StreamStatus::Kind::Ok);
  char buf[4];
  CHECK(read(p.r, buf, sizeof buf) == 2);

  // Fill the pipe: check-write then permits nothing and the pollable is not
  // ready until the reader drains it.
  int filled = 0;
  while (out->check_write(permit).kind == StreamStatus::Kind::Ok && permit > 0) {
    REQUIRE(out->write(std::string(permit, 'y')).kind == StreamStatus::Kind::Ok);
    filled += static_cast<int>(permit);
  }
  CHECK(filled >= 4096);
  CHECK_FALSE(out->readiness()->ready());

  close(std::exchange(p.r, -1));
  auto writable = out->readiness();
  CHECK(writable->ready());  // an error is ready to report
  signal(SIGPIPE, SIG_IGN);
  StreamStatus s = out->check_write(permit);
  if (s.kind == StreamStatus::Kind::Ok) s = out->write(std::string(permit, 'z'));
  CHECK(s.kind == StreamStatus::Kind::Failed);
  CHECK(s.error == wasi::common::Errno::Pipe);
  CHECK(out->check_write(permit).kind == StreamStatus::Kind::Closed);
}

TEST_CASE("p2: streams over a regular file are always ready", "[wasi][p2]") {
  Fixture f;
  char path[] = "/tmp/weft-p2-io-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  unlink(path);
  auto out = wasi::p2::fd_output_stream(f.st, fd);
  uint64_t permit = 0;
  REQUIRE(out->check_write(permit).kind == StreamStatus::Kind::Ok);
  CHECK(permit > 4096);
  CHECK(out->write(std::string(10000, 'q')).kind == StreamStatus::Kind::Ok);
  CHECK(out->readiness()->ready());
  lseek(fd, 0, SEEK_SET);
  auto in = wasi::p2::fd_input_stream(f.st, fd);
  CHECK(in->readiness()->ready());
  std::string data;
  CHECK(in->read(1 << 30, data).kind == StreamStatus::Kind::Ok);
  CHECK(data == std::string(10000, 'q'));
  CHECK(in->read(10, data).kind == StreamStatus::Kind::Closed);
  close(fd);
}

TEST_CASE("p2: stream functions return results and errors as values", "[wasi][p2]") {
  Fixture f;
  Pipe p;
  uint32_t in = f.st.input_streams.add(wasi::p2::fd_input_stream(f.st, p.r));
  uint32_t out = f.st.output_streams.add(wasi::p2::fd_output_stream(f.st, p.w));
  const Type* bytes = f.t.list(f.t.prim(TypeKind::U8));
  const Type* read_result = f.t.result(bytes, f.t.stream_error());
  const Type* count_result = f.t.result(f.t.prim(TypeKind::U64), f.t.stream_error());
  const char* streams = "wasi:io/streams@0.2.0";

  Val r = f.call(streams, "[method]output-stream.check-write", {f.handle(out)}, count_result);
  REQUIRE(r.case_index == 0);
  CHECK(r.items[0].bits == 4096);
  r = f.call(streams, "[method]output-stream.write-zeroes", {f.handle(out), f.u64(3)},
             f.t.result(nullptr, f.t.stream_error()));
  CHECK(r.case_index == 0);
  r = f.call(streams, "[method]output-stream.blocking-write-zeroes-and-flush", {f.handle(out), f.u64(2)},
             f.t.result(nullptr, f.t.stream_error()));
  CHECK(r.case_index == 0);
  r = f.call(streams, "[method]input-stream.blocking-skip", {f.handle(in), f.u64(1)}, count_result);
  REQUIRE(r.case_index == 0);
  CHECK(r.items[0].bits == 1);
  r = f.call(streams, "[method]input-stream.blocking-read", {f.handle(in), f.u64(100)}, read_result);
  REQUIRE(r.case_index == 0);
  CHECK(r.items[0].str == std::string(4, '\0'));

  // splice from a second pipe into `out`.
  Pipe src;
  uint32_t src_in = f.st.input_streams.add(wasi::p2::fd_input_stream(f.st, src.r));
  CHECK(write(src.w, "spliced", 7) == 7);
  src.close_write();
  r = f.call(streams, "[method]output-stream.blocking-splice", {f.handle(out), f.handle(src_in), f.u64(100)},
             count_result);
  REQUIRE(r.case_index == 0);
  CHECK(r.items[0].bits == 7);
  r = f.call(streams, "[method]output-stream.splice", {f.handle(out), f.handle(src_in), f.u64(100)},
             count_result);
  REQUIRE(r.case_index == 1);
  CHECK(component::host_values::case_label(r.items[0]) == "closed");
  r = f.call(streams, "[method]input-stream.read", {f.handle(in), f.u64(100)}, read_result);
  REQUIRE(r.case_index == 0);
  CHECK(r.items[0].str == "spliced");

  // A failed write: last-operation-failed with an error resource whose
  // debug string says what happened, then closed.
  signal(SIGPIPE, SIG_IGN);
  close(std::exchange(p.r, -1));
  f.st.input_streams.remove(in);
  r = f.call(streams, "[method]output-stream.blocking-write-and-flush",
             {f.handle(out), component::host_values::bytes(bytes, "x")},
             f.t.result(nullptr, f.t.stream_error()));
  REQUIRE(r.case_index == 1);
  REQUIRE(component::host_values::case_label(r.items[0]) == "last-operation-failed");
  uint64_t error = r.items[0].items[0].bits;
  CHECK(f.st.errors.get(error).code == wasi::common::Errno::Pipe);
  Val text = f.call("wasi:io/error@0.2.0", "[method]error.to-debug-string", {f.handle(error)},
                    f.t.prim(TypeKind::String));
  CHECK_FALSE(text.str.empty());
  r = f.call(streams, "[method]output-stream.check-write", {f.handle(out)}, count_result);
  REQUIRE(r.case_index == 1);
  CHECK(component::host_values::case_label(r.items[0]) == "closed");

  // A stream's pollable outlives the stream (a child resource).
  Val sub = f.call(streams, "[method]input-stream.subscribe", {f.handle(src_in)}, f.t.own());
  f.host.find(streams)->find_resource("input-stream")->drop(src_in);
  CHECK(pollable(f, sub).ready());
  CHECK_THROWS_AS(f.call(streams, "[method]input-stream.read", {f.handle(src_in), f.u64(1)}, read_result),
                  engine::Trap);
  CHECK_THROWS_AS(f.call(streams, "[method]output-stream.blocking-write-and-flush",
                         {f.handle(out), component::host_values::bytes(bytes, std::string(4097, 'x'))},
                         f.t.result(nullptr, f.t.stream_error())),
                  engine::Trap);
}

TEST_CASE("p2: cli environment, exit and stdio", "[wasi][p2]") {
  Fixture f;
  const Type* str = f.t.prim(TypeKind::String);
  Val args = f.call("wasi:cli/environment@0.2.0", "get-arguments", {}, f.t.list(str));
  REQUIRE(args.items.size() == 2);
  CHECK(args.items[1].str == "arg");
  const Type* pair = f.t.tuple({str, str});
  Val env = f.call("wasi:cli/environment@0.2.0", "get-environment", {}, f.t.list(pair));
  REQUIRE(env.items.size() == 1);
  CHECK(env.items[0].items[0].str == "A");
  CHECK(env.items[0].items[1].str == "1");
  Val cwd = f.call("wasi:cli/environment@0.2.0", "initial-cwd", {}, f.t.option(str));
  CHECK(cwd.case_index == 0);

  const Type* status = f.t.result(nullptr, nullptr);
  try {
    f.call("wasi:cli/exit@0.2.0", "exit", {component::host_values::err(status)}, nullptr);
    FAIL("exit returned");
  } catch (const engine::ExitRequest& e) {
    CHECK(e.code == 1);
  }
  try {
    f.call("wasi:cli/exit@0.2.0", "exit", {component::host_values::ok(status)}, nullptr);
    FAIL("exit returned");
  } catch (const engine::ExitRequest& e) {
    CHECK(e.code == 0);
  }
  try {
    f.call("wasi:cli/exit@0.2.12", "exit-with-code",
           {component::host_values::scalar(f.t.prim(TypeKind::U8), 42)}, nullptr);
    FAIL("exit-with-code returned");
  } catch (const engine::ExitRequest& e) {
    CHECK(e.code == 42);
  }

  Val a = f.call("wasi:cli/stdout@0.2.0", "get-stdout", {}, f.t.own());
  Val b = f.call("wasi:cli/stdout@0.2.0", "get-stdout", {}, f.t.own());
  CHECK(a.bits != b.bits);  // a new handle each call
  CHECK_NOTHROW(f.st.output_streams.get(a.bits));
  Val in = f.call("wasi:cli/stdin@0.2.0", "get-stdin", {}, f.t.own());
  CHECK_NOTHROW(f.st.input_streams.get(in.bits));
  const Type* maybe = f.t.option(f.t.own());
  Val term = f.call("wasi:cli/terminal-stderr@0.2.0", "get-terminal-stderr", {}, maybe);
  CHECK(term.case_index == (isatty(STDERR_FILENO) ? 1u : 0u));
}

TEST_CASE("p2: clocks and random", "[wasi][p2]") {
  Fixture f;
  const Type* u64 = f.t.prim(TypeKind::U64);
  uint64_t a = f.call("wasi:clocks/monotonic-clock@0.2.0", "now", {}, u64).bits;
  uint64_t b = f.call("wasi:clocks/monotonic-clock@0.2.0", "now", {}, u64).bits;
  CHECK(b >= a);
  CHECK(f.call("wasi:clocks/monotonic-clock@0.2.0", "resolution", {}, u64).bits > 0);
  const Type* datetime = f.t.record({{"seconds", u64}, {"nanoseconds", f.t.prim(TypeKind::U32)}});
  Val now = f.call("wasi:clocks/wall-clock@0.2.0", "now", {}, datetime);
  CHECK(now.items[0].bits > 1'600'000'000);
  CHECK(now.items[1].bits < 1'000'000'000);

  const Type* bytes = f.t.list(f.t.prim(TypeKind::U8));
  Val r = f.call("wasi:random/random@0.2.0", "get-random-bytes", {f.u64(64)}, bytes);
  CHECK(r.str.size() == 64);
  CHECK(r.str != std::string(64, '\0'));
  CHECK(f.call("wasi:random/insecure@0.2.0", "get-insecure-random-bytes", {f.u64(5)}, bytes).str.size() == 5);
  CHECK_THROWS_AS(f.call("wasi:random/random@0.2.0", "get-random-bytes", {f.u64(uint64_t{1} << 40)}, bytes),
                  engine::Trap);
  CHECK(f.call("wasi:random/random@0.2.0", "get-random-u64", {}, u64).bits !=
        f.call("wasi:random/random@0.2.0", "get-random-u64", {}, u64).bits);
  const Type* seed = f.t.tuple({u64, u64});
  Val s1 = f.call("wasi:random/insecure-seed@0.2.0", "insecure-seed", {}, seed);
  REQUIRE(s1.items.size() == 2);
  // One seed per process, whichever version asks.
  Val s2 = f.call("wasi:random/insecure-seed@0.3.0", "get-insecure-seed", {}, seed);
  CHECK(s2.items.at(0).bits == s1.items[0].bits);
  CHECK(s2.items.at(1).bits == s1.items[1].bits);
  // A component declaring another shape gets a trap, not a misread.
  CHECK_THROWS_AS(f.call("wasi:random/random@0.2.0", "get-random-u64", {}, f.t.prim(TypeKind::String)),
                  engine::Trap);
}

TEST_CASE("p2: fd_pollable shares one watch per descriptor and traps cleanly when it cannot watch",
          "[wasi][p2]") {
  Fixture f;
  Pipe p;
  auto a = wasi::p2::fd_pollable(f.st, p.r, UV_READABLE);
  auto b = wasi::p2::fd_pollable(f.st, p.r, UV_READABLE);
  auto writable = wasi::p2::fd_pollable(f.st, p.w, UV_WRITABLE);
  CHECK(writable->ready());
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(write(p.w, "x", 1) == 1);
  });
  CHECK(wasi::p2::poll(f.st, {a.get(), b.get()}) == std::vector<uint32_t>{0, 1});  // two pollables, one fd
  writer.join();
  char c;
  CHECK(read(p.r, &c, 1) == 1);

  {
    // A watch the p2 host does not know about holds the descriptor.
    loop::FdWatch other(f.reactor, p.r);
    REQUIRE(other.pollable());
    REQUIRE(other.start(UV_READABLE, [](int, int) {}) == 0);
    CHECK_THROWS_AS(wasi::p2::poll(f.st, {a.get()}), engine::Trap);
  }
  f.reactor.run_until([] { return true; });
  CHECK(write(p.w, "y", 1) == 1);
  CHECK(wasi::p2::poll(f.st, {a.get()}) == std::vector<uint32_t>{0});
}
