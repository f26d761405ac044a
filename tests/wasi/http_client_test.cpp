// The HTTP/1.1 client's failures as wasi:http error-codes: refused,
// unresolvable, timeouts at each stage, malformed and truncated responses,
// https; and abort(). Loopback only, each wait bounded.
#include <catch2/catch.hpp>
#include <string>
#include <utility>

#include "base/error.h"
#include "wasi/http/client.h"
#include "wasi/http/server.h"
#include "wasi/http_test_support.h"

using namespace weft;
using namespace weft::wasi::http;
using namespace weft::http_test;

namespace {

constexpr uint64_t kMs = 1'000'000;

struct Outcome {
  bool called = false;
  int calls = 0;
  std::optional<HttpError> error;
};

std::shared_ptr<ClientExchange> get(loop::Reactor& reactor, std::string authority, Outcome& out,
                                    ClientTimeouts timeouts = {}, std::string scheme = "http") {
  auto c = ClientExchange::start(reactor, {"GET", std::move(scheme), std::move(authority), "/", {}}, timeouts,
                                 [&out](std::optional<HttpError> e) {
                                   out.called = true;
                                   ++out.calls;
                                   out.error = std::move(e);
                                 });
  c->finish();
  return c;
}

std::string code_of(const Outcome& out) { return out.error ? out.error->code : "none"; }

// A port nobody listens on: bound, then let go.
uint16_t free_port() {
  RawListener l;
  return l.port();
}

}  // namespace

TEST_CASE("http client: connection refused", "[http]") {
  loop::Reactor reactor;
  Outcome out;
  auto c = get(reactor, "127.0.0.1:" + std::to_string(free_port()), out);
  REQUIRE(run_until(reactor, [&] { return out.called; }));
  CHECK(code_of(out) == "connection-refused");
  run_until(
      reactor, [] { return false; }, 20);
  CHECK(out.calls == 1);
}

TEST_CASE("http client: unresolvable name and bad authorities", "[http]") {
  loop::Reactor reactor;
  Outcome dns, bad, tls;
  auto a = get(reactor, "no-such-host.invalid", dns);
  auto b = get(reactor, "127.0.0.1:99999", bad);
  auto c = get(reactor, "127.0.0.1:1", tls, {}, "https");
  CHECK_FALSE(bad.called);  // reported from the loop, not from start()
  REQUIRE(run_until(reactor, [&] { return dns.called && bad.called && tls.called; }));
  CHECK(code_of(dns) == "DNS-error");
  CHECK(code_of(bad) == "HTTP-request-URI-invalid");
  CHECK(code_of(tls) == "internal-error");
  REQUIRE(tls.error->message);
  CHECK(tls.error->message->find("https") != std::string::npos);
}

TEST_CASE("http client: connect timeout against a full accept queue", "[http]") {
  loop::Reactor reactor;
  // Backlog 0 and nobody accepting: once its queue is full the kernel
  // drops further SYNs, so the next connect hangs.
  RawListener full(0);
  std::vector<int> fillers;
  for (int i = 0; i < 2; ++i) {
    fillers.push_back(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    sockaddr_in a = loopback(full.port());
    connect(fillers.back(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  Outcome out;
  ClientTimeouts t;
  t.connect_ns = 150 * kMs;
  uint64_t start = uv_hrtime();
  auto c = get(reactor, full.authority(), out, t);
  REQUIRE(run_until(reactor, [&] { return out.called; }));
  CHECK(code_of(out) == "connection-timeout");
  CHECK(uv_hrtime() - start >= 150 * kMs);
  for (int fd : fillers) close(fd);
}

TEST_CASE("http client: first-byte timeout with a server that never answers", "[http]") {
  loop::Reactor reactor;
  RawListener mute;  // the kernel accepts; nobody reads or answers
  Outcome out;
  ClientTimeouts t;
  t.first_byte_ns = 100 * kMs;
  auto c = get(reactor, mute.authority(), out, t);
  REQUIRE(run_until(reactor, [&] { return out.called; }));
  CHECK(code_of(out) == "HTTP-response-timeout");
}

TEST_CASE("http client: responses that break off or are malformed", "[http]") {
  loop::Reactor reactor;
  SECTION("no usable head: malformed, or closed before any response") {
    for (auto [answer, code] : {std::pair{"HTTP/1.1 abc\r\n\r\n", "HTTP-protocol-error"},
                                std::pair{"", "HTTP-response-incomplete"}}) {
      RawListener l;
      l.answer(reactor, answer, true);
      Outcome out;
      auto c = get(reactor, l.authority(), out);
      REQUIRE(run_until(reactor, [&] { return out.called; }));
      CHECK(code_of(out) == code);
    }
  }
  SECTION("closed mid-body") {
    RawListener l;
    l.answer(reactor, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", true);
    Outcome out;
    auto c = get(reactor, l.authority(), out);
    REQUIRE(run_until(reactor, [&] { return out.called; }));
    REQUIRE_FALSE(out.error);
    auto drain = Drain::start(c->response_body());
    REQUIRE(run_until(reactor, [&] { return drain->ended; }));
    CHECK(drain->status == Errno::Io);
    CHECK(drain->body == "12345");
    REQUIRE(c->error());
    CHECK(c->error()->code == "HTTP-response-incomplete");
  }
  SECTION("bad chunk after the head") {
    RawListener l;
    l.answer(reactor, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n", false);
    Outcome out;
    auto c = get(reactor, l.authority(), out);
    REQUIRE(run_until(reactor, [&] { return out.called; }));
    REQUIRE_FALSE(out.error);
    auto drain = Drain::start(c->response_body());
    REQUIRE(run_until(reactor, [&] { return drain->ended; }));
    CHECK(drain->status == Errno::Io);
    REQUIRE(c->error());
    CHECK(c->error()->code == "HTTP-protocol-error");
  }
  SECTION("a body delimited by the close, after 100 Continue") {
    RawListener l;
    l.answer(reactor, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nX-A: b\r\n\r\nuntil the end", true);
    Outcome out;
    auto c = get(reactor, l.authority(), out);
    REQUIRE(run_until(reactor, [&] { return out.called; }));
    REQUIRE_FALSE(out.error);
    CHECK(c->response().status == 200);
    CHECK(c->response().headers == Fields{{"x-a", "b"}});
    auto drain = Drain::start(c->response_body());
    REQUIRE(run_until(reactor, [&] { return drain->ended; }));
    CHECK(drain->status == Errno::Success);
    CHECK(drain->body == "until the end");
  }
}

TEST_CASE("http client: between-bytes timeout, content-length checks, abort", "[http]") {
  loop::Reactor reactor;
  std::vector<std::shared_ptr<Exchange>> held;
  Server server(reactor, {}, [&](std::shared_ptr<Exchange> ex) {
    held.push_back(ex);
    auto sink = ex->respond({200, {{"content-length", "10"}}});
    sink->write("12345", [](Errno) {});  // and the rest never comes
  });
  server.listen("127.0.0.1", 0);
  SECTION("between bytes") {
    Outcome out;
    ClientTimeouts t;
    t.between_bytes_ns = 100 * kMs;
    auto c = get(reactor, server.address(), out, t);
    REQUIRE(run_until(reactor, [&] { return out.called; }));
    REQUIRE_FALSE(out.error);
    auto drain = Drain::start(c->response_body());
    REQUIRE(run_until(reactor, [&] { return drain->ended; }));
    CHECK(drain->status == Errno::Io);
    CHECK(drain->body == "12345");
    REQUIRE(c->error());
    CHECK(c->error()->code == "connection-read-timeout");
  }
  SECTION("a request body shorter than its content-length") {
    Outcome out;
    auto c = ClientExchange::start(reactor, {"PUT", "http", server.address(), "/", {{"content-length", "5"}}},
                                   {}, [&](std::optional<HttpError> e) {
                                     out.called = true;
                                     out.error = e;
                                   });
    std::optional<Errno> wrote;
    c->body()->write("abc", [&](Errno e) { wrote = e; });
    c->finish();
    REQUIRE(run_until(reactor, [&] { return out.called; }));
    CHECK(code_of(out) == "HTTP-request-body-size");
    CHECK(wrote == Errno::Pipe);  // it was still waiting for the connection
  }
  SECTION("abort: no callback afterwards") {
    Outcome out;
    auto c = get(reactor, server.address(), out);
    c->abort();
    run_until(
        reactor, [&] { return !held.empty(); }, 300);
    CHECK_FALSE(out.called);
    // And abort() mid-body keeps the reader's callback from running.
    auto d = get(reactor, server.address(), out);
    REQUIRE(run_until(reactor, [&] { return out.called; }));
    bool read_done = false;
    d->response_body()->read(100, [&](Errno, std::string_view) {
      d->response_body()->read(100, [&](Errno, std::string_view) { read_done = true; });
    });
    d->abort();
    run_until(
        reactor, [] { return false; }, 50);
    CHECK_FALSE(read_done);
  }
}

TEST_CASE("http client: an IPv6 literal authority and a HEAD response", "[http]") {
  loop::Reactor reactor;
  Server server(reactor, {}, [](std::shared_ptr<Exchange> ex) {
    // HEAD's answer names the length a GET would have: no body follows.
    auto sink = ex->respond({200, {{"content-length", "1000"}}});
    sink->write(std::string(1000, 'h'), [ex](Errno) { ex->finish(); });
  });
  try {
    server.listen("::1", 0);
  } catch (const Error&) {
    WARN("no IPv6 loopback here");
    return;
  }
  REQUIRE(server.address().rfind("[::1]:", 0) == 0);
  Outcome out;
  auto c = ClientExchange::start(reactor, {"HEAD", "http", server.address(), "/", {}}, {},
                                 [&](std::optional<HttpError> e) {
                                   out.called = true;
                                   out.error = e;
                                 });
  c->finish();
  REQUIRE(run_until(reactor, [&] { return out.called; }));
  REQUIRE_FALSE(out.error);
  CHECK(c->response().headers[0] == std::pair<std::string, std::string>{"content-length", "1000"});
  auto drain = Drain::start(c->response_body());
  REQUIRE(run_until(reactor, [&] { return drain->ended; }));
  CHECK(drain->status == Errno::Success);
  CHECK(drain->body.empty());
}
