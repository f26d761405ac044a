#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "loop/reactor.h"

using weft::loop::FdWatch;
using weft::loop::Reactor;
using weft::loop::Timer;

TEST_CASE("a timer wakes run_until no earlier than asked", "[loop]") {
  Reactor reactor;
  Timer timer(reactor);
  bool fired = false;
  auto start = std::chrono::steady_clock::now();
  timer.start(20'000'000, [&] { fired = true; });
  REQUIRE(reactor.run_until([&] { return fired; }));
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(20));
  // It slept in the kernel: a turn or two (millisecond rounding), counted.
  CHECK(reactor.turns() >= 1);
  CHECK(reactor.turns() <= 3);
  CHECK(reactor.run_until([] { return true; }));
  CHECK(reactor.turns() <= 3);  // nothing to wait for: no turn
}

TEST_CASE("run_until says when nothing can complete", "[loop]") {
  Reactor reactor;
  CHECK_FALSE(reactor.run_until([] { return false; }));
}

TEST_CASE("wait_fd waits for a pipe and restores its flags", "[loop]") {
  Reactor reactor;
  int p[2];
  REQUIRE(pipe(p) == 0);
  int flags = fcntl(p[0], F_GETFL);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(write(p[1], "x", 1) == 1);
  });
  CHECK(reactor.wait_fd(p[0], UV_READABLE) == 0);
  writer.join();
  char c;
  CHECK(read(p[0], &c, 1) == 1);
  CHECK(fcntl(p[0], F_GETFL) == flags);
  close(p[0]);
  close(p[1]);
}

TEST_CASE("descriptors epoll cannot watch count as ready", "[loop]") {
  Reactor reactor;
  int fd = open("/dev/null", O_RDONLY);
  REQUIRE(fd >= 0);
  FdWatch watch(reactor, fd);
  CHECK_FALSE(watch.pollable());
  CHECK(reactor.wait_fd(fd, UV_READABLE) == 0);
  close(fd);
}

TEST_CASE("run_blocking runs work off the loop thread", "[loop]") {
  Reactor reactor;
  auto loop_thread = std::this_thread::get_id();
  bool elsewhere = false;
  CHECK(reactor.run_blocking([&] {
    elsewhere = std::this_thread::get_id() != loop_thread;
    return 42;
  }) == 42);
  CHECK(elsewhere);
}

TEST_CASE("a signal watch turns a signal into a loop callback", "[loop]") {
  Reactor reactor;
  int seen = 0;
  {
    weft::loop::SignalWatch watch(reactor, SIGUSR1, [&] { ++seen; });
    raise(SIGUSR1);  // would end the process without the watch
    REQUIRE(reactor.run_until([&] { return seen == 1; }));
    raise(SIGUSR1);
    REQUIRE(reactor.run_until([&] { return seen == 2; }));
  }
  // Gone with the watch: nothing keeps the loop alive any more.
  CHECK_FALSE(reactor.run_until([] { return false; }));
}
