// The HTTP/1.1 server over loopback: answered by the client of this
// directory and by raw sockets that send exactly the bytes a test needs
// (keep-alive, pipelining, HTTP/1.0, malformed and slow requests), with
// the loop driving both ends and every wait bounded.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "wasi/http/client.h"
#include "wasi/http/server.h"
#include "wasi/http_test_support.h"

using namespace weft;
using namespace weft::wasi::http;
using namespace weft::http_test;

namespace {

struct Fixture {
  loop::Reactor reactor;
  std::vector<std::shared_ptr<Exchange>> exchanges;
  std::function<void(std::shared_ptr<Exchange>)> on_request;
  std::unique_ptr<Server> server;

  explicit Fixture(ServerLimits limits = {}) {
    server = std::make_unique<Server>(reactor, limits, [this](std::shared_ptr<Exchange> ex) {
      exchanges.push_back(ex);
      if (on_request) on_request(std::move(ex));
    });
    server->listen("127.0.0.1", 0);
  }
  uint16_t port() const { return port_of(server->address()); }
  bool run_until(const std::function<bool()>& done, uint64_t ms = 5000) {
    return http_test::run_until(reactor, done, ms);
  }
};

// Answers each request with `body` and a content-length.
void answer_fixed(const std::shared_ptr<Exchange>& ex, std::string body) {
  auto sink = ex->respond(
      {200, {{"content-length", std::to_string(body.size())}, {"x-path", ex->request().path_with_query}}});
  write_all(sink, {std::move(body)}, [ex](Errno) { ex->finish(); });
}

// Sends the request body back, chunked, with the request's trailers and
// one more.
struct Echo : std::enable_shared_from_this<Echo> {
  std::shared_ptr<Exchange> ex;
  std::shared_ptr<ByteSink> sink;
  std::shared_ptr<ByteSource> body;

  // Kept alive by its pending callbacks only.
  void next() {
    body->read(65536, [self = shared_from_this()](Errno e, std::string_view data) {
      if (e != Errno::Success) return self->ex->abort();
      if (data.empty()) {
        Fields trailers = self->ex->trailers();
        trailers.emplace_back("x-echoed", "yes");
        return self->ex->finish(trailers);
      }
      self->sink->write(data, [self](Errno we) {
        if (we == Errno::Success) self->next();
      });
    });
  }
};

void echo(const std::shared_ptr<Exchange>& ex) {
  auto e = std::make_shared<Echo>();
  e->ex = ex;
  e->sink = ex->respond({200, {{"content-type", "text/plain"}}});
  e->body = ex->body();
  e->next();
}

size_t count(const std::string& s, std::string_view what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("http server: GET with a content-length body, through the client", "[http]") {
  Fixture f;
  // The exchange's log line goes to a stream for a look below.
  std::ostringstream log;
  auto saved = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(log)));
  f.on_request = [](std::shared_ptr<Exchange> ex) { answer_fixed(ex, "hello world"); };
  std::optional<HttpError> err{HttpError{"none"}};
  bool responded = false;
  auto c =
      ClientExchange::start(f.reactor, {"GET", "http", f.server->address(), "/a/b?c=d", {{"x-test", "1"}}},
                            {}, [&](std::optional<HttpError> e) {
                              err = e;
                              responded = true;
                            });
  c->finish();
  REQUIRE(f.run_until([&] { return responded; }));
  REQUIRE_FALSE(err);
  CHECK(c->response().status == 200);
  CHECK(c->response().headers ==
        Fields{{"content-length", "11"}, {"x-path", "/a/b?c=d"}, {"connection", "close"}});
  auto drain = Drain::start(c->response_body());
  REQUIRE(f.run_until([&] { return drain->ended; }));
  CHECK(drain->status == Errno::Success);
  CHECK(drain->body == "hello world");
  CHECK_FALSE(c->error());

  REQUIRE(f.exchanges.size() == 1);
  const RequestHead& req = f.exchanges[0]->request();
  CHECK(req.method == "GET");
  CHECK(req.authority == f.server->address());
  CHECK(req.path_with_query == "/a/b?c=d");
  CHECK(req.headers[0] == std::pair<std::string, std::string>{"x-test", "1"});
  REQUIRE(f.run_until([&] { return f.server->in_flight() == 0; }));
  spdlog::set_default_logger(saved);
  CHECK(log.str().find("[info] GET /a/b?c=d 200 11B ") != std::string::npos);
}

TEST_CASE("http server: POST chunked with trailers both ways", "[http]") {
  Fixture f;
  f.on_request = echo;
  bool responded = false;
  std::optional<HttpError> err;
  auto c = ClientExchange::start(f.reactor, {"POST", "http", f.server->address(), "/echo", {}}, {},
                                 [&](std::optional<HttpError> e) {
                                   err = e;
                                   responded = true;
                                 });
  std::string big(200'000, 'x');  // more than the body buffer: backpressure on the way
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  bool sent = false;
  write_all(c->body(), {"first,", big, "last"}, [&](Errno e) {
    CHECK(e == Errno::Success);
    c->finish({{"x-sum", "42"}});
    sent = true;
  });
  REQUIRE(f.run_until([&] { return responded; }));
  REQUIRE_FALSE(err);
  CHECK(c->response().status == 200);
  CHECK(c->response().headers ==
        Fields{{"content-type", "text/plain"}, {"transfer-encoding", "chunked"}, {"connection", "close"}});
  auto drain = Drain::start(c->response_body());
  REQUIRE(f.run_until([&] { return drain->ended && sent; }));
  CHECK(drain->status == Errno::Success);
  CHECK(drain->body == "first," + big + "last");
  CHECK(c->response_trailers() == Fields{{"x-sum", "42"}, {"x-echoed", "yes"}});
  REQUIRE(f.exchanges.size() == 1);
  CHECK(f.exchanges[0]->trailers() == Fields{{"x-sum", "42"}});
  bool chunked = false;
  for (const auto& [name, value] : f.exchanges[0]->request().headers)
    chunked = chunked || (name == "transfer-encoding" && value == "chunked");
  CHECK(chunked);
}

TEST_CASE("http server: keep-alive and pipelined requests on one connection", "[http]") {
  Fixture f;
  f.on_request = [](std::shared_ptr<Exchange> ex) {
    answer_fixed(ex, "ok:" + ex->request().path_with_query);
  };
  RawClient raw(f.reactor, f.port());
  REQUIRE(raw.connected());
  raw.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  raw.read_for("ok:/one");
  CHECK(raw.received().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(raw.received().find("connection: close") == std::string::npos);
  // Two at once, the second with a body: answered in order, one at a time.
  raw.received().clear();
  raw.send(
      "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /three HTTP/1.1\r\nHost: "
      "x\r\n\r\n");
  std::string& got = raw.read_for("ok:/three");
  REQUIRE(got.find("ok:/two") != std::string::npos);
  CHECK(got.find("ok:/two") < got.find("ok:/three"));
  CHECK(count(got, "HTTP/1.1 200") == 2);
  CHECK_FALSE(raw.eof());
  CHECK(f.exchanges.size() == 3);
  // Connection: close ends it after the answer.
  raw.received().clear();
  raw.send("GET /four HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  raw.read_to_eof();
  CHECK(raw.eof());
  CHECK(raw.received().find("connection: close\r\n") != std::string::npos);
  CHECK(raw.received().find("ok:/four") != std::string::npos);
}

TEST_CASE("http server: HTTP/1.0, HEAD, and 100-continue", "[http]") {
  Fixture f;
  f.on_request = [](std::shared_ptr<Exchange> ex) {
    if (ex->request().path_with_query == "/echo") return echo(ex);
    // No content-length: chunked for 1.1, delimited by the close for 1.0.
    auto sink = ex->respond({200, {}});
    write_all(sink, {"ten bytes!"}, [ex](Errno) { ex->finish(); });
  };
  SECTION("HTTP/1.0 without keep-alive: the body ends with the connection") {
    RawClient raw(f.reactor, f.port());
    raw.send("GET /x HTTP/1.0\r\n\r\n");
    std::string& got = raw.read_to_eof();
    CHECK(raw.eof());
    CHECK(got.find("transfer-encoding") == std::string::npos);
    CHECK(got.find("connection: close\r\n") != std::string::npos);
    CHECK(got.substr(got.size() - 14) == "\r\n\r\nten bytes!");
  }
  SECTION("HTTP/1.0 with keep-alive and a content-length stays open") {
    f.on_request = [](std::shared_ptr<Exchange> ex) { answer_fixed(ex, "abc"); };
    RawClient raw(f.reactor, f.port());
    raw.send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    raw.read_for("\r\n\r\nabc");
    CHECK(raw.received().find("connection: keep-alive\r\n") != std::string::npos);
    raw.send("GET /y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    raw.read_until([](const std::string& s) { return count(s, "abc") == 2; });
    CHECK_FALSE(raw.eof());
  }
  SECTION("HEAD: no body, the connection goes on") {
    RawClient raw(f.reactor, f.port());
    raw.send("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string& got = raw.read_for("0\r\n\r\n");
    CHECK(count(got, "HTTP/1.1 200") == 2);
    CHECK(count(got, "ten bytes!") == 1);
  }
  SECTION("Expect: 100-continue is answered once the body is read") {
    RawClient raw(f.reactor, f.port());
    raw.send("PUT /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    raw.read_for("\r\n\r\n");
    CHECK(raw.received() == "HTTP/1.1 100 Continue\r\n\r\n");
    raw.send("data");
    raw.read_for("0\r\n");
    CHECK(raw.received().find("HTTP/1.1 200 OK") != std::string::npos);
    CHECK(raw.received().find("4\r\ndata\r\n") != std::string::npos);
  }
}

TEST_CASE("http server: malformed requests are answered and closed, others go on", "[http]") {
  ServerLimits limits;
  limits.max_head_bytes = 1024;
  limits.max_body_bytes = 100;
  Fixture f(limits);
  // "/drain" reads the body and never answers, as a handler still busy.
  f.on_request = [](std::shared_ptr<Exchange> ex) {
    if (ex->request().path_with_query == "/drain") return (void)Drain::start(ex->body());
    answer_fixed(ex, "fine");
  };
  auto expect = [&](std::string request, std::string status) {
    RawClient raw(f.reactor, f.port());
    raw.send(request);
    std::string& got = raw.read_to_eof();
    CHECK(raw.eof());
    CHECK(got.rfind("HTTP/1.1 " + status, 0) == 0);
    CHECK(got.find("connection: close") != std::string::npos);
  };
  SECTION("bad request line") { expect("GARBAGE\r\n\r\n", "400 Bad Request"); }
  SECTION("invalid header") { expect("GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", "400"); }
  SECTION("no host in 1.1") { expect("GET / HTTP/1.1\r\n\r\n", "400"); }
  SECTION("content-length and transfer-encoding") {
    expect("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           "400");
  }
  SECTION("bad content-length") { expect("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", "400"); }
  SECTION("oversized head") {
    expect("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n", "431");
  }
  SECTION("content-length over the limit") {
    expect("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", "413 Payload Too Large");
  }
  SECTION("chunked body over the limit, while the handler waits for it") {
    expect("POST /drain HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n" +
               std::string(101, 'z') + "\r\n",
           "413");
  }
  CHECK(f.server->in_flight() == 0);
  RawClient good(f.reactor, f.port());
  good.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(good.read_for("fine").find("HTTP/1.1 200 OK") == 0);
}

TEST_CASE("http server: a client gone mid-body fails the body and the response", "[http]") {
  Fixture f;
  std::shared_ptr<Drain> drain;
  f.on_request = [&](std::shared_ptr<Exchange> ex) { drain = Drain::start(ex->body()); };
  {
    RawClient raw(f.reactor, f.port());
    raw.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly some");
    REQUIRE(f.run_until([&] { return drain && !drain->body.empty(); }));
  }
  REQUIRE(f.run_until([&] { return drain->ended; }));
  CHECK(drain->status == Errno::Io);
  CHECK(drain->body == "only some");
  CHECK(f.server->in_flight() == 0);
  // The exchange stays usable for its holder: its writes fail.
  auto sink = f.exchanges[0]->respond({200, {}});
  std::optional<Errno> wrote;
  sink->write("late", [&](Errno e) { wrote = e; });
  REQUIRE(wrote);
  CHECK(*wrote == Errno::Pipe);
  f.exchanges[0]->finish();

  // A chunked body cut short, too.
  drain.reset();
  {
    RawClient raw(f.reactor, f.port());
    raw.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc");
    REQUIRE(f.run_until([&] { return drain && drain->body.size() >= 8; }));
  }
  REQUIRE(f.run_until([&] { return drain->ended; }));
  CHECK(drain->status == Errno::Io);
  CHECK(drain->body == "helloabc");
}

TEST_CASE("http server: slow heads get 408, idle connections are closed", "[http]") {
  ServerLimits limits;
  limits.head_timeout_ms = 150;
  limits.idle_timeout_ms = 150;
  Fixture f(limits);
  f.on_request = [](std::shared_ptr<Exchange> ex) { answer_fixed(ex, "fine"); };
  RawClient slow(f.reactor, f.port());
  slow.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  std::string& got = slow.read_to_eof(3000);
  CHECK(slow.eof());
  CHECK(got.rfind("HTTP/1.1 408", 0) == 0);

  RawClient idle(f.reactor, f.port());
  idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  idle.read_for("fine");
  idle.received().clear();
  idle.read_to_eof(3000);
  CHECK(idle.eof());
  CHECK(idle.received().empty());

  RawClient silent(f.reactor, f.port());
  silent.read_to_eof(3000);
  CHECK(silent.eof());
  CHECK(silent.received().empty());
}

TEST_CASE("http server: in-flight limit, abort, and a graceful stop", "[http]") {
  ServerLimits limits;
  limits.max_in_flight = 1;
  Fixture f(limits);
  RawClient a(f.reactor, f.port());
  RawClient b(f.reactor, f.port());
  a.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  b.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(f.run_until([&] { return f.exchanges.size() == 1; }));
  f.run_until([] { return false; }, 100);
  CHECK(f.exchanges.size() == 1);
  CHECK(f.server->in_flight() == 1);
  // Aborted before a response: the client gets the status, empty.
  f.exchanges[0]->abort(503);
  REQUIRE(f.run_until([&] { return f.exchanges.size() == 2; }));
  RawClient& first = f.exchanges[0]->request().path_with_query == "/a" ? a : b;
  RawClient& second = &first == &a ? b : a;
  first.read_for("\r\n\r\n");
  CHECK(first.received().rfind("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n", 0) == 0);

  // stop(): the idle connection closes now, the busy one after its answer.
  f.server->stop();
  first.read_to_eof(2000);
  CHECK(first.eof());
  CHECK_FALSE(f.server->drained());
  answer_fixed(f.exchanges[1], "last");
  second.read_to_eof(2000);
  CHECK(second.eof());
  CHECK(second.received().find("connection: close\r\n") != std::string::npos);
  CHECK(second.received().find("last") != std::string::npos);
  CHECK(f.run_until([&] { return f.server->drained(); }));
}

TEST_CASE("http server: the destructor closes busy connections", "[http]") {
  Fixture f;
  RawClient raw(f.reactor, f.port());
  raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(f.run_until([&] { return f.exchanges.size() == 1; }));
  f.server.reset();
  raw.read_to_eof(2000);
  CHECK(raw.eof());
  auto sink = f.exchanges[0]->respond({200, {}});
  std::optional<Errno> wrote;
  sink->write("x", [&](Errno e) { wrote = e; });
  CHECK(wrote == Errno::Pipe);
}

TEST_CASE("http server: a slow client holds back the response writes", "[http]") {
  Fixture f;
  const std::string chunk(1 << 20, 'r');
  int written = 0;
  bool failed = false;
  // Writes `chunk` 64 times, counting the writes done.
  struct Repeat : std::enable_shared_from_this<Repeat> {
    std::shared_ptr<Exchange> ex;
    std::shared_ptr<ByteSink> sink;
    const std::string* chunk;
    int* written;
    bool* failed;
    void next() {
      if (*written == 64) return ex->finish();
      sink->write(*chunk, [self = shared_from_this()](Errno e) {
        if (e != Errno::Success) {
          *self->failed = true;
          return;
        }
        ++*self->written;
        self->next();
      });
    }
  };
  f.on_request = [&](std::shared_ptr<Exchange> ex) {
    auto r = std::make_shared<Repeat>();
    r->ex = ex;
    r->sink = ex->respond({200, {{"content-length", std::to_string(64 * chunk.size())}}});
    r->chunk = &chunk;
    r->written = &written;
    r->failed = &failed;
    r->next();
  };
  RawClient raw(f.reactor, f.port());
  int size = 64 * 1024;
  setsockopt(raw.fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  f.run_until([] { return false; }, 200);
  // The socket buffers hold a few MiB at most: the rest waits.
  CHECK(written < 16);
  CHECK_FALSE(failed);
  size_t total = 0;
  raw.read_until(
      [&](std::string& s) {
        total += s.size();
        s.clear();
        return written == 64 && total >= 64 * chunk.size();
      },
      10000);
  CHECK(written == 64);
  CHECK(total > 64 * chunk.size());
}

TEST_CASE("http server: connections over max_connections are closed at once", "[http]") {
  ServerLimits limits;
  limits.max_connections = 1;
  Fixture f(limits);
  f.on_request = [](std::shared_ptr<Exchange> ex) { answer_fixed(ex, "fine"); };
  RawClient first(f.reactor, f.port());
  first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  first.read_for("fine");
  RawClient second(f.reactor, f.port());
  second.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  second.read_to_eof(2000);
  CHECK(second.eof());
  CHECK(second.received().empty());
  first.received().clear();
  first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(first.read_for("fine").find("HTTP/1.1 200 OK") == 0);
}

TEST_CASE("http server: a request body with a content-length, through the client", "[http]") {
  Fixture f;
  f.on_request = echo;
  bool responded = false;
  auto c =
      ClientExchange::start(f.reactor, {"PUT", "http", f.server->address(), "/", {{"content-length", "10"}}},
                            {}, [&](std::optional<HttpError> e) {
                              CHECK_FALSE(e);
                              responded = true;
                            });
  write_all(c->body(), {"hello", "world"}, [&](Errno e) {
    CHECK(e == Errno::Success);
    c->finish();
  });
  REQUIRE(f.run_until([&] { return responded; }));
  auto drain = Drain::start(c->response_body());
  REQUIRE(f.run_until([&] { return drain->ended; }));
  CHECK(drain->body == "helloworld");
  REQUIRE(f.exchanges.size() == 1);
  CHECK(f.exchanges[0]->request().headers ==
        Fields{{"content-length", "10"}, {"host", f.server->address()}, {"connection", "close"}});
}

TEST_CASE("http server: a request body nobody reads stops the reading", "[http]") {
  Fixture f;
  f.on_request = [](std::shared_ptr<Exchange>) {};  // holds on, reads nothing for now
  RawClient raw(f.reactor, f.port());
  raw.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n");
  const std::string block(1 << 16, 'b');
  size_t sent = 0;
  uint64_t until = uv_hrtime() + 300'000'000;
  while (uv_hrtime() < until) {
    ssize_t n = send(raw.fd(), block.data(), block.size(), MSG_NOSIGNAL);
    if (n > 0)
      sent += static_cast<size_t>(n);
    else
      f.run_until([] { return false; }, 10);
  }
  // What the kernel buffers on both sides takes, and no more.
  CHECK(sent < (32u << 20));
  REQUIRE(f.exchanges.size() == 1);
  auto drain = Drain::start(f.exchanges[0]->body());
  f.run_until([&] { return drain->body.size() >= sent - 2 * block.size(); });
  CHECK(drain->body.size() <= sent);
  CHECK(drain->body.size() >= sent - 2 * block.size());
}
