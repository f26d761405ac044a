// The host's side of the async runtime: host ends of streams and futures
// (partial copies, drops seen by the other end) and host functions that
// complete later from the event loop.
#include "component/host_async.h"

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "component/instance.h"
#include "engine/store.h"
#include "engine/trap.h"
#include "loop/reactor.h"

using namespace weft;
using namespace weft::component;

namespace {

struct Fixture {
  std::shared_ptr<TypeStore> types = std::make_shared<TypeStore>();
  engine::Store store;
  Runtime runtime{store, types};
  const Type* u8() const { return types->primitive(TypeKind::U8); }
  const Type* stream_of(const Type* t) { return types->intern(Type{.kind = TypeKind::Stream, .a = t}); }
  const Type* future_of(const Type* t) { return types->intern(Type{.kind = TypeKind::Future, .a = t}); }
};

struct Outcome {
  std::optional<CopyResult> result;
  std::unique_ptr<HostBuffer> buffer;
  HostEnd::Done done() {
    return [this](CopyResult r, std::unique_ptr<HostBuffer> b) {
      result = r;
      buffer = std::move(b);
    };
  }
};

}  // namespace

TEST_CASE("host stream ends: a reader smaller than the write takes it in parts", "[component][host-async]") {
  Fixture f;
  auto [value, writer] = f.runtime.host_stream(f.stream_of(f.u8()));
  std::unique_ptr<HostEnd> reader = f.runtime.host_readable(value);
  REQUIRE(reader->readable());
  REQUIRE_FALSE(writer->readable());

  Outcome wrote;
  writer->copy(std::make_unique<HostBuffer>(f.u8(), std::string("hello, world")), wrote.done());
  REQUIRE(writer->copying());  // nobody reads yet
  REQUIRE_FALSE(wrote.result);

  Outcome first;
  reader->copy(std::make_unique<HostBuffer>(f.u8(), 5u), first.done());
  REQUIRE(first.result == CopyResult::COMPLETED);
  CHECK(first.buffer->received_bytes() == "hello");
  // The writer's copy completes with what was taken; it gives the rest again.
  REQUIRE(wrote.result == CopyResult::COMPLETED);
  REQUIRE(wrote.buffer->remain() == 7);
  writer->copy(std::move(wrote.buffer), wrote.done());

  Outcome second;
  reader->copy(std::make_unique<HostBuffer>(f.u8(), 64u), second.done());
  REQUIRE(second.result == CopyResult::COMPLETED);
  CHECK(second.buffer->received_bytes() == ", world");

  // A drop reaches a pending reader, and a watcher of the other end.
  bool peer_dropped = false;
  Outcome third;
  reader->copy(std::make_unique<HostBuffer>(f.u8(), 64u), third.done());
  REQUIRE_FALSE(third.result);
  writer->on_peer_drop([&] { peer_dropped = true; });
  writer.reset();
  CHECK(third.result == CopyResult::DROPPED);
  CHECK_FALSE(peer_dropped);  // the writer dropped itself: no peer drop

  bool reader_saw_drop = false;
  reader->on_peer_drop([&] { reader_saw_drop = true; });
  CHECK(reader_saw_drop);  // already dropped: called at once
}

TEST_CASE("host stream ends: cancelling a pending copy", "[component][host-async]") {
  Fixture f;
  auto [value, writer] = f.runtime.host_stream(f.stream_of(f.u8()));
  std::unique_ptr<HostEnd> reader = f.runtime.host_readable(value);
  Outcome read;
  reader->copy(std::make_unique<HostBuffer>(f.u8(), 8u), read.done());
  reader->cancel();
  REQUIRE(read.result == CopyResult::CANCELLED);
  CHECK(read.buffer->progress == 0);
  // The reader dropping is what the writer sees next.
  bool dropped = false;
  writer->on_peer_drop([&] { dropped = true; });
  reader.reset();
  CHECK(dropped);
  Outcome wrote;
  writer->copy(std::make_unique<HostBuffer>(f.u8(), std::string("x")), wrote.done());
  CHECK(wrote.result == CopyResult::DROPPED);
}

TEST_CASE("host futures carry one value of their type", "[component][host-async]") {
  Fixture f;
  const Type* s32 = f.types->primitive(TypeKind::S32);
  auto [value, writer] = f.runtime.host_stream(f.future_of(s32));
  std::unique_ptr<HostEnd> reader = f.runtime.host_readable(value);
  Val v;
  v.type = s32;
  v.bits = static_cast<uint64_t>(-7);
  std::vector<Val> vals{v};
  Outcome wrote, read;
  writer->copy(std::make_unique<HostBuffer>(s32, std::move(vals)), wrote.done());
  reader->copy(std::make_unique<HostBuffer>(s32, 1u), read.done());
  REQUIRE(read.result == CopyResult::COMPLETED);
  REQUIRE(wrote.result == CopyResult::COMPLETED);
  REQUIRE(read.buffer->received_values().size() == 1);
  CHECK(read.buffer->received_values()[0].bits == static_cast<uint64_t>(-7));
  // A stream or future value is taken once.
  CHECK_THROWS_AS(f.runtime.host_readable(value), engine::Trap);
}

TEST_CASE("a deferred host call completes from the event loop", "[component][host-async]") {
  Fixture f;
  loop::Reactor reactor;
  f.runtime.set_event_loop([&reactor](bool block) { return reactor.run_once(block); });
  const Type* u32 = f.types->primitive(TypeKind::U32);
  const Type* ft = f.types->intern(Type{.kind = TypeKind::Func, .a = u32});
  loop::Timer timer(reactor);
  HostFunction fn = [&](HostCall& c) {
    std::shared_ptr<HostPending> pending = c.defer();
    timer.start(1000000, [pending, u32] {
      Val v;
      v.type = u32;
      v.bits = 42;
      pending->resolve(v);
    });
  };
  ComponentFunc func;
  func.type = ft;
  func.host = &fn;
  std::vector<Val> results = f.runtime.call(func, {});
  REQUIRE(results.size() == 1);
  CHECK(results[0].bits == 42);
}

TEST_CASE("a deferred host call nobody can complete is a deadlock, not a hang", "[component][host-async]") {
  Fixture f;
  loop::Reactor reactor;  // nothing pending on it
  f.runtime.set_event_loop([&reactor](bool block) { return reactor.run_once(block); });
  const Type* ft = f.types->intern(Type{.kind = TypeKind::Func});
  std::shared_ptr<HostPending> kept;
  HostFunction fn = [&](HostCall& c) { kept = c.defer(); };
  ComponentFunc func;
  func.type = ft;
  func.host = &fn;
  CHECK_THROWS_WITH(f.runtime.call(func, {}), Catch::Contains("deadlock detected"));
}

TEST_CASE("a deferred host call's result must have the function's type", "[component][host-async]") {
  Fixture f;
  const Type* u32 = f.types->primitive(TypeKind::U32);
  const Type* ft = f.types->intern(Type{.kind = TypeKind::Func, .a = u32});
  HostFunction fn = [&](HostCall& c) { c.defer()->resolve(); };  // no value
  ComponentFunc func;
  func.type = ft;
  func.host = &fn;
  CHECK_THROWS_WITH(f.runtime.call(func, {}), Catch::Contains("another type"));
}
