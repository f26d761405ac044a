// WASI 0.3's byte pumps: a source pumped into a stream and that stream
// pumped into a sink deliver every byte in order; a failing sink ends its
// pump with the error and the source's pump sees the stream dropped; stdio
// descriptors as source and sink through the loop.
#include <poll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "component/host_async.h"
#include "component/instance.h"
#include "engine/store.h"
#include "loop/reactor.h"
#include "wasi/p3/state.h"

using namespace weft;
using namespace weft::wasi;

namespace {

struct Fixture {
  std::shared_ptr<component::TypeStore> types = std::make_shared<component::TypeStore>();
  engine::Store store;
  loop::Reactor reactor;
  component::Runtime runtime{store, types};
  common::WasiConfig config;
  p3::State st{reactor, config};
  Fixture() {
    runtime.set_event_loop([this](bool block) { return reactor.run_once(block); });
  }
  const component::Type* byte_stream() {
    return types->intern(
        component::Type{.kind = component::TypeKind::Stream, .a = types->primitive(component::TypeKind::U8)});
  }
};

// Gives its chunks one read at a time (each at most `max`), then the end.
class ChunkSource final : public p3::ByteSource {
 public:
  explicit ChunkSource(std::vector<std::string> chunks) : chunks_(std::move(chunks)) {}
  void read(size_t max, std::function<void(common::Errno, std::string_view)> done) override {
    if (next_ == chunks_.size()) return done(common::Errno::Success, {});
    std::string& c = chunks_[next_];
    std::string part = c.substr(0, max);
    c.erase(0, part.size());
    if (c.empty()) ++next_;
    done(common::Errno::Success, part);
  }
  void cancel() override { ++cancels; }
  int cancels = 0;

 private:
  std::vector<std::string> chunks_;
  size_t next_ = 0;
};

// Keeps what it is given; fails with `fail_with` once it holds `limit` bytes.
class CollectingSink final : public p3::ByteSink {
 public:
  void write(std::string_view data, std::function<void(common::Errno)> done) override {
    if (got.size() >= limit) return done(fail_with);
    got.append(data);
    done(common::Errno::Success);
  }
  std::string got;
  size_t limit = SIZE_MAX;
  common::Errno fail_with = common::Errno::Pipe;
};

}  // namespace

TEST_CASE("p3 pumps: source -> stream -> sink keeps every byte in order", "[wasi][p3]") {
  Fixture f;
  auto [value, writer] = f.runtime.host_stream(f.byte_stream());
  std::string big(200000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 251);
  auto source = std::make_shared<ChunkSource>(std::vector<std::string>{"first ", big, "last"});
  auto sink = std::make_shared<CollectingSink>();
  std::optional<common::Errno> from_done, to_done;
  p3::pump_from_source(f.runtime, f.st, std::move(writer), source, [&](common::Errno e) { from_done = e; });
  p3::pump_to_sink(f.runtime, f.st, f.runtime.host_readable(value), sink,
                   [&](common::Errno e) { to_done = e; });
  f.runtime.settle([&] { return from_done && to_done; });
  REQUIRE(from_done == common::Errno::Success);
  REQUIRE(to_done == common::Errno::Success);
  CHECK(sink->got == "first " + big + "last");
  CHECK(f.st.ops.size() == 0);  // both pumps are gone
}

TEST_CASE("p3 pumps: a failing sink ends both pumps", "[wasi][p3]") {
  Fixture f;
  auto [value, writer] = f.runtime.host_stream(f.byte_stream());
  auto source = std::make_shared<ChunkSource>(std::vector<std::string>(100, std::string(1000, 'x')));
  auto sink = std::make_shared<CollectingSink>();
  sink->limit = 3000;
  std::optional<common::Errno> from_done, to_done;
  p3::pump_from_source(f.runtime, f.st, std::move(writer), source, [&](common::Errno e) { from_done = e; });
  p3::pump_to_sink(f.runtime, f.st, f.runtime.host_readable(value), sink,
                   [&](common::Errno e) { to_done = e; });
  f.runtime.settle([&] { return from_done && to_done; });
  CHECK(to_done == common::Errno::Pipe);
  CHECK(from_done == common::Errno::Success);  // its reader went away
  CHECK(source->cancels > 0);
  CHECK(sink->got.size() == 3000);
  CHECK(f.st.ops.size() == 0);
}

TEST_CASE("p3 pumps: a pipe through fd_source and fd_sink", "[wasi][p3]") {
  Fixture f;
  int in[2], out[2];
  REQUIRE(pipe(in) == 0);
  REQUIRE(pipe(out) == 0);
  auto [value, writer] = f.runtime.host_stream(f.byte_stream());
  std::optional<common::Errno> from_done, to_done;
  p3::pump_from_source(f.runtime, f.st, std::move(writer), p3::fd_source(f.st, in[0]),
                       [&](common::Errno e) { from_done = e; });
  p3::pump_to_sink(f.runtime, f.st, f.runtime.host_readable(value), p3::fd_sink(f.st, out[1]),
                   [&](common::Errno e) { to_done = e; });
  // Bytes go through as they come, before the end of input.
  REQUIRE(write(in[1], "through the loop", 16) == 16);
  f.runtime.settle([&] {
    pollfd p{out[0], POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  });
  REQUIRE_FALSE(from_done);
  close(in[1]);
  f.runtime.settle([&] { return from_done && to_done && f.st.writes_in_flight == 0; });
  CHECK(from_done == common::Errno::Success);
  CHECK(to_done == common::Errno::Success);
  close(out[1]);
  char buf[64];
  ssize_t n = read(out[0], buf, sizeof buf);
  CHECK(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) == "through the loop");
  close(in[0]);
  close(out[0]);
}
