// Fibers (base/fiber.h): suspending and resuming, nesting, what escapes a
// fiber's body, and unwinding one that never ends.
#include <catch2/catch.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/fiber.h"

using weft::Fiber;

TEST_CASE("fiber: resume runs until suspend, and on from there", "[base][fiber]") {
  std::vector<int> trace;
  Fiber f([&] {
    trace.push_back(1);
    Fiber::suspend();
    trace.push_back(3);
  });
  CHECK(Fiber::current() == nullptr);
  f.resume();
  trace.push_back(2);
  CHECK_FALSE(f.done());
  f.resume();
  CHECK(f.done());
  CHECK(trace == std::vector<int>{1, 2, 3});
}

TEST_CASE("fiber: suspend returns to whichever fiber resumed it", "[base][fiber]") {
  std::vector<std::string> trace;
  Fiber inner([&] {
    trace.push_back("inner");
    Fiber::suspend();
    trace.push_back("inner again");
  });
  Fiber outer([&] {
    inner.resume();
    trace.push_back("outer");
    Fiber::suspend();
  });
  outer.resume();
  inner.resume();  // from the thread's stack this time
  CHECK(trace == std::vector<std::string>{"inner", "outer", "inner again"});
  outer.resume();
  CHECK(outer.done());
}

TEST_CASE("fiber: an exception escaping the body reaches resume's caller", "[base][fiber]") {
  Fiber f([] {
    Fiber::suspend();
    throw std::runtime_error("boom");
  });
  f.resume();
  CHECK_THROWS_WITH(f.resume(), "boom");
  CHECK(f.done());
}

TEST_CASE("fiber: a suspended fiber is unwound: its destructors run", "[base][fiber]") {
  auto held = std::make_shared<int>(7);
  std::weak_ptr<int> watch = held;
  {
    Fiber f([held = std::move(held)] {
      auto local = held;
      Fiber::suspend();
      FAIL("resumed past suspend while unwinding");
    });
    f.resume();
    CHECK(watch.use_count() == 2);
  }
  CHECK(watch.expired());
}

TEST_CASE("fiber: many suspended at once keep their own stacks", "[base][fiber]") {
  std::vector<std::unique_ptr<Fiber>> fibers;
  std::vector<int> out(500);
  for (int i = 0; i < 500; ++i) {
    fibers.push_back(std::make_unique<Fiber>([i, &out] {
      int local = i * 3;  // lives on this fiber's stack across the suspend
      Fiber::suspend();
      out[i] = local;
    }));
    fibers.back()->resume();
  }
  for (auto& f : fibers) f->resume();
  for (int i = 0; i < 500; ++i) CHECK(out[i] == i * 3);
}
