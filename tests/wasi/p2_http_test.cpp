// wasi:http 0.2: the body stream adapters over fake ByteSources and
// ByteSinks, the wasi:http/types functions called directly with hand-made
// component types, and serve_request with a handler written in C++ (a host
// function standing in for the guest's incoming-handler export) against a
// fake Exchange; then outgoing-handler against the HTTP server on loopback.
#include <catch2/catch.hpp>
#include <deque>
#include <string>

#include "loop/reactor.h"
#include "p2_support.h"
#include "wasi/http/server.h"
#include "wasi/p2/http_body.h"
#include "wasi/p2/state.h"

using namespace weft;
using namespace weft::testing;  // Type, TypeKind, Val, WitTypes, HostCaller
using wasi::common::Errno;
using wasi::http::Fields;
using namespace wasi::p2;
namespace hv = component::host_values;

namespace {

// A source whose reads complete at once from `chunks` (then end of
// stream) when `immediate`, or wait in `pending` for the test.
struct FakeSource : wasi::common::ByteSource {
  std::deque<std::string> chunks;
  bool immediate = false;
  Errno error = Errno::Success;  // given instead of the end
  std::function<void(Errno, std::string_view)> pending;
  int reads = 0, cancels = 0;

  void read(size_t max, std::function<void(Errno, std::string_view)> done) override {
    REQUIRE_FALSE(pending);  // one read at a time
    ++reads;
    REQUIRE(max > 0);
    pending = std::move(done);
    if (immediate) complete();
  }
  void cancel() override {
    ++cancels;
    pending = nullptr;
  }
  // Completes the read in progress with the next chunk, the end or the error.
  void complete() {
    auto done = std::exchange(pending, nullptr);
    REQUIRE(done);
    if (chunks.empty()) return done(error, "");
    std::string c = std::move(chunks.front());
    chunks.pop_front();
    done(Errno::Success, c);
  }
};

// A sink that records writes; they complete at once when `immediate`, else
// wait in `pending`.
struct FakeSink : wasi::common::ByteSink {
  std::string data;
  std::vector<size_t> writes;
  bool immediate = false;
  Errno result = Errno::Success;
  std::function<void(Errno)> pending;

  void write(std::string_view d, std::function<void(Errno)> done) override {
    REQUIRE_FALSE(pending);  // one write at a time
    data.append(d);
    writes.push_back(d.size());
    pending = std::move(done);
    if (immediate) complete();
  }
  void complete() {
    auto done = std::exchange(pending, nullptr);
    REQUIRE(done);
    done(result);
  }
};

}  // namespace

TEST_CASE("p2 http: an incoming body reads ahead one read at a time", "[p2-http]") {
  auto src = std::make_shared<FakeSource>();
  src->chunks = {"hello", "world"};
  auto r = std::make_shared<BodyReader>(src);
  CHECK(src->reads == 0);  // nothing is read before someone asks

  auto p = r->readiness();
  CHECK_FALSE(p->ready());  // starts the first read
  CHECK(src->reads == 1);
  bool woken = false;
  p->watch([&] { woken = true; });
  src->complete();
  CHECK(woken);
  CHECK(p->ready());
  CHECK(src->reads == 1);  // the buffer holds bytes: no second read yet

  std::string out;
  CHECK(r->read(3, out).kind == StreamStatus::Kind::Ok);
  CHECK(out == "hel");
  CHECK(src->reads == 1);
  CHECK(r->read(100, out).kind == StreamStatus::Kind::Ok);
  CHECK(out == "hello");
  CHECK(src->reads == 2);                                   // emptied: the next read is on its way
  CHECK(r->read(100, out).kind == StreamStatus::Kind::Ok);  // nothing yet is not an error
  CHECK(out == "hello");
  src->complete();
  CHECK(r->read(100, out).kind == StreamStatus::Kind::Ok);
  CHECK(out == "helloworld");
  src->complete();  // the end
  CHECK(r->done());
  CHECK(r->read(100, out).kind == StreamStatus::Kind::Closed);
  CHECK(r->end()->ready());
}

TEST_CASE("p2 http: a failed body read is last-operation-failed", "[p2-http]") {
  auto src = std::make_shared<FakeSource>();
  src->immediate = true;
  src->chunks = {"ab"};
  src->error = Errno::Io;
  auto r = std::make_shared<BodyReader>(src);
  std::string out;
  CHECK(r->read(10, out).kind == StreamStatus::Kind::Ok);
  CHECK(out == "ab");
  StreamStatus s = r->read(10, out);
  CHECK(s.kind == StreamStatus::Kind::Failed);
  CHECK(s.error == Errno::Io);
  CHECK(r->done());
}

TEST_CASE("p2 http: draining discards the rest without recursing per chunk", "[p2-http]") {
  auto src = std::make_shared<FakeSource>();
  src->immediate = true;
  for (int i = 0; i < 100000; ++i) src->chunks.push_back("x");
  auto r = std::make_shared<BodyReader>(src);
  std::string out;
  r->read(1, out);
  r->drain();
  CHECK(r->done());
  CHECK(r->error() == Errno::Success);
  CHECK(src->chunks.empty());
}

TEST_CASE("p2 http: dropping a reader cancels its read", "[p2-http]") {
  auto src = std::make_shared<FakeSource>();
  {
    auto r = std::make_shared<BodyReader>(src);
    CHECK_FALSE(r->readable());
  }
  CHECK(src->cancels == 1);
  CHECK_FALSE(src->pending);
}

TEST_CASE("p2 http: an outgoing body buffers until attached, then writes one at a time", "[p2-http]") {
  auto in_flight = std::make_shared<uint64_t>(0);
  auto w = std::make_shared<BodyWriter>(in_flight);
  CHECK(w->permitted() == BodyWriter::kBuffer);
  w->write("abc");
  w->flush();  // nowhere to go yet: does not hold the writer up
  CHECK(w->permitted() == BodyWriter::kBuffer - 3);
  w->write(std::string(BodyWriter::kBuffer - 3, 'x'));
  CHECK(w->permitted() == 0);
  auto ready = w->readiness();
  CHECK_FALSE(ready->ready());

  auto sink = std::make_shared<FakeSink>();
  bool woken = false;
  ready->watch([&] { woken = true; });
  w->attach(sink);
  REQUIRE(sink->writes.size() == 1);  // everything queued, in one write
  CHECK(*in_flight == 1);
  CHECK(w->permitted() == BodyWriter::kBuffer);  // the queue is free again
  w->write("de");
  w->write("f");
  CHECK(sink->writes.size() == 1);  // the first is still in flight
  w->flush();
  CHECK(w->permitted() == 0);  // until the flush is done
  sink->complete();
  CHECK(sink->writes.size() == 2);
  CHECK(sink->data.substr(sink->data.size() - 3) == "def");
  CHECK(w->permitted() == 0);
  bool drained = false;
  w->when_drained([&] { drained = true; });
  sink->complete();
  CHECK(drained);
  CHECK(woken);
  CHECK(*in_flight == 0);
  CHECK(w->permitted() == BodyWriter::kBuffer);
  CHECK_FALSE(w->busy());
}

TEST_CASE("p2 http: a failed sink write fails the writer; an unrun write still counts down", "[p2-http]") {
  auto in_flight = std::make_shared<uint64_t>(0);
  auto sink = std::make_shared<FakeSink>();
  {
    auto w = std::make_shared<BodyWriter>(in_flight);
    w->attach(sink);
    w->write("a");
    CHECK(*in_flight == 1);
    w->write("b");
    sink->result = Errno::Pipe;
    sink->complete();
    CHECK(w->error() == Errno::Pipe);
    CHECK(w->writable());  // ready, to report the error
    CHECK(w->permitted() == 0);
    CHECK(sink->writes.size() == 1);  // the queued byte is dropped
    sink->result = Errno::Success;
  }
  auto w = std::make_shared<BodyWriter>(in_flight);
  w->attach(sink);
  w->write("c");
  CHECK(*in_flight == 1);
  sink->pending = nullptr;  // the exchange went away without calling back
  CHECK(*in_flight == 0);
}

TEST_CASE("p2 http: an outgoing body finishes after its last write, or aborts", "[p2-http]") {
  auto in_flight = std::make_shared<uint64_t>(0);
  Fields finished;
  int finishes = 0, aborts = 0;
  OutgoingBody::Target target{[&](Fields t) {
                                finished = std::move(t);
                                ++finishes;
                              },
                              [&] { ++aborts; }};
  SECTION("finished before it was attached") {
    auto b = std::make_shared<OutgoingBody>(in_flight, false);
    b->writer->write("body");
    b->finish({{"x-t", "1"}});
    auto sink = std::make_shared<FakeSink>();
    b->attach(sink, target);
    CHECK(finishes == 0);  // the write is in flight
    sink->complete();
    CHECK(sink->data == "body");
    CHECK(finishes == 1);
    CHECK(finished == Fields{{"x-t", "1"}});
  }
  SECTION("a write fails") {
    auto b = std::make_shared<OutgoingBody>(in_flight, false);
    auto sink = std::make_shared<FakeSink>();
    b->attach(sink, target);
    b->writer->write("body");
    b->finish({});
    sink->result = Errno::Pipe;
    sink->complete();
    CHECK(finishes == 0);
    CHECK(aborts == 1);
  }
  SECTION("broken") {
    auto b = std::make_shared<OutgoingBody>(in_flight, true);
    b->broken();
    CHECK(aborts == 0);  // nowhere to report it yet
    b->attach(std::make_shared<FakeSink>(), target);
    CHECK(aborts == 1);
    CHECK(finishes == 0);
  }
}

namespace {

// The WIT types of the tests; every handle is an own of one resource.
struct HttpTypes : WitTypes {
  const Type* res = resource();
  const Type* h = own(res);
  const Type* str = prim(TypeKind::String);
  const Type* bytes = list(prim(TypeKind::U8));
  const Type* u16 = prim(TypeKind::U16);
  const Type* u64 = prim(TypeKind::U64);
  const Type* boolean = prim(TypeKind::Bool);
  const Type* method = variant({{"get", nullptr},
                                {"head", nullptr},
                                {"post", nullptr},
                                {"put", nullptr},
                                {"delete", nullptr},
                                {"connect", nullptr},
                                {"options", nullptr},
                                {"trace", nullptr},
                                {"patch", nullptr},
                                {"other", str}});
  const Type* scheme = variant({{"HTTP", nullptr}, {"HTTPS", nullptr}, {"other", str}});
  const Type* error_code = variant({{"DNS-timeout", nullptr},
                                    {"connection-refused", nullptr},
                                    {"connection-terminated", nullptr},
                                    {"HTTP-request-denied", nullptr},
                                    {"HTTP-request-body-size", option(u64)},
                                    {"HTTP-request-URI-invalid", nullptr},
                                    {"HTTP-response-incomplete", nullptr},
                                    {"HTTP-response-body-size", option(u64)},
                                    {"HTTP-protocol-error", nullptr},
                                    {"internal-error", option(str)}});
  const Type* header_error =
      variant({{"invalid-syntax", nullptr}, {"forbidden", nullptr}, {"immutable", nullptr}});
  const Type* entries = list(tuple({str, bytes}));
  const Type* stream_error = variant({{"last-operation-failed", h}, {"closed", nullptr}});
  const Type* unit_result = result(nullptr, nullptr);
  const Type* handle_result = result(h, nullptr);
};

constexpr const char* kTypes = "wasi:http/types@0.2.0";
constexpr const char* kStreams = "wasi:io/streams@0.2.0";

struct Fixture {
  loop::Reactor reactor;
  wasi::common::WasiConfig config;
  State st{reactor, config};
  HttpTypes t;
  HostCaller caller{t};
  component::Host& host = caller.host;

  Fixture() {
    add_io(host, st);
    add_http(host, st);
  }

  Val call(const char* iface, const std::string& name, std::vector<Val> args, const Type* result) {
    return caller.call(iface, name, std::move(args), result);
  }
  Val type_call(const std::string& name, std::vector<Val> args, const Type* result) {
    return call(kTypes, name, std::move(args), result);
  }
  Val handle(uint64_t rep) { return hv::scalar(t.h, rep); }
  Val str(std::string s) { return hv::string(t.str, std::move(s)); }
  Val bytes(std::string_view s) { return hv::bytes(t.bytes, s); }
  void drop(const char* iface, const char* resource, const Val& h) {
    host.find(iface)->find_resource(resource)->drop(static_cast<uint32_t>(h.bits));
  }

  Val new_fields(Fields list) {
    std::vector<Val> entries;
    for (auto& [n, v] : list) entries.push_back(hv::tuple(hv::element(t.entries), {str(n), bytes(v)}));
    Val r = type_call("[static]fields.from-list", {hv::list(t.entries, std::move(entries))},
                      t.result(t.h, t.header_error));
    REQUIRE(r.case_index == 0);
    return r.items[0];
  }
  Fields entries(const Val& fields) {
    Val v = type_call("[method]fields.entries", {fields}, t.entries);
    Fields out;
    for (const Val& e : v.items) out.emplace_back(e.items[0].str, e.items[1].str);
    return out;
  }
  // ok(handle) of a result<own<..>> call.
  Val ok_handle(const std::string& name, const Val& self) {
    Val r = type_call(name, {self}, t.handle_result);
    REQUIRE(r.case_index == 0);
    return r.items[0];
  }
  // Writes `data` to an output-stream as a guest does: check-write, write.
  void write(const Val& stream, std::string_view data) {
    while (!data.empty()) {
      Val permit =
          call(kStreams, "[method]output-stream.check-write", {stream}, t.result(t.u64, t.stream_error));
      REQUIRE(permit.case_index == 0);
      uint64_t n = std::min<uint64_t>(permit.items[0].bits, data.size());
      if (n == 0) {
        Val p = call(kStreams, "[method]output-stream.subscribe", {stream}, t.h);
        block(st, *st.pollables.get(p.bits).pollable);
        continue;
      }
      Val r = call(kStreams, "[method]output-stream.write", {stream, bytes(data.substr(0, n))},
                   t.result(nullptr, t.stream_error));
      REQUIRE(r.case_index == 0);
      data.remove_prefix(n);
    }
  }
  // Reads an input-stream to its end with blocking-read.
  std::string read_all(const Val& stream) {
    std::string out;
    for (;;) {
      Val r = call(kStreams, "[method]input-stream.blocking-read", {stream, hv::scalar(t.u64, 4096)},
                   t.result(t.bytes, t.stream_error));
      if (r.case_index != 0) {
        CHECK(hv::case_label(r.items[0]) == "closed");
        return out;
      }
      out += r.items[0].str;
    }
  }
};

}  // namespace

TEST_CASE("p2 http: fields validate names and values and compare names without case", "[p2-http]") {
  Fixture f;
  Val fields = f.type_call("[constructor]fields", {}, f.t.h);
  auto append = [&](std::string n, std::string v) {
    Val r = f.type_call("[method]fields.append", {fields, f.str(n), f.bytes(v)},
                        f.t.result(nullptr, f.t.header_error));
    return r.case_index == 0 ? std::string("ok") : std::string(hv::case_label(r.items[0]));
  };
  CHECK(append("Content-Type", "text/plain") == "ok");
  CHECK(append("x-a", "1") == "ok");
  CHECK(append("X-A", "2") == "ok");
  CHECK(append("bad name", "v") == "invalid-syntax");
  CHECK(append("x-b", "line\r\nbreak") == "invalid-syntax");
  CHECK(append("Connection", "close") == "forbidden");
  CHECK(append("transfer-encoding", "chunked") == "forbidden");

  Val got = f.type_call("[method]fields.get", {fields, f.str("x-A")}, f.t.list(f.t.bytes));
  REQUIRE(got.items.size() == 2);
  CHECK(got.items[0].str == "1");
  CHECK(got.items[1].str == "2");
  CHECK(f.type_call("[method]fields.has", {fields, f.str("CONTENT-TYPE")}, f.t.boolean).bits == 1);
  CHECK(f.type_call("[method]fields.has", {fields, f.str("bad name")}, f.t.boolean).bits == 0);

  std::vector<Val> values{f.bytes("3")};
  Val set = f.type_call("[method]fields.set", {fields, f.str("x-a"), hv::list(f.t.list(f.t.bytes), values)},
                        f.t.result(nullptr, f.t.header_error));
  CHECK(set.case_index == 0);
  // Names keep the case they were given, in order.
  CHECK(f.entries(fields) == Fields{{"Content-Type", "text/plain"}, {"x-a", "3"}});
  Val del = f.type_call("[method]fields.delete", {fields, f.str("CONTENT-type")},
                        f.t.result(nullptr, f.t.header_error));
  CHECK(del.case_index == 0);
  CHECK(f.entries(fields) == Fields{{"x-a", "3"}});

  Val copy = f.type_call("[method]fields.clone", {fields}, f.t.h);
  CHECK(append("x-c", "4") == "ok");
  CHECK(f.entries(copy) == Fields{{"x-a", "3"}});  // a deep copy

  std::vector<Val> bad{hv::tuple(hv::element(f.t.entries), {f.str("host"), f.bytes("x")})};
  Val r = f.type_call("[static]fields.from-list", {hv::list(f.t.entries, bad)},
                      f.t.result(f.t.h, f.t.header_error));
  REQUIRE(r.case_index == 1);
  CHECK(hv::case_label(r.items[0]) == "forbidden");
}

TEST_CASE("p2 http: outgoing-request setters validate, headers are an immutable copy", "[p2-http]") {
  Fixture f;
  Val req = f.type_call("[constructor]outgoing-request", {f.new_fields({{"X-Id", "7"}})}, f.t.h);
  CHECK(hv::case_label(f.type_call("[method]outgoing-request.method", {req}, f.t.method)) == "get");
  auto set = [&](const char* name, Val v) {
    return f.type_call(std::string("[method]outgoing-request.set-") + name, {req, std::move(v)},
                       f.t.unit_result)
               .case_index == 0;
  };
  CHECK(set("method", hv::variant(f.t.method, "other", f.str("PURGE"))));
  CHECK_FALSE(set("method", hv::variant(f.t.method, "other", f.str("BAD METHOD"))));
  Val m = f.type_call("[method]outgoing-request.method", {req}, f.t.method);
  CHECK(hv::case_label(m) == "other");
  CHECK(m.items[0].str == "PURGE");
  CHECK(set("path-with-query", hv::some(f.t.option(f.t.str), f.str("/a?b=c"))));
  CHECK_FALSE(set("path-with-query", hv::some(f.t.option(f.t.str), f.str("/a b"))));
  CHECK(set("authority", hv::some(f.t.option(f.t.str), f.str("example.com:8080"))));
  CHECK_FALSE(set("authority", hv::some(f.t.option(f.t.str), f.str("a/b"))));
  CHECK_FALSE(set("authority", hv::some(f.t.option(f.t.str), f.str(std::string("a\0b", 3)))));
  CHECK(set("scheme", hv::some(f.t.option(f.t.scheme), hv::variant(f.t.scheme, "HTTPS"))));
  CHECK_FALSE(set("scheme", hv::some(f.t.option(f.t.scheme), hv::variant(f.t.scheme, "other", f.str("1x")))));
  Val path = f.type_call("[method]outgoing-request.path-with-query", {req}, f.t.option(f.t.str));
  CHECK(path.items.at(0).str == "/a?b=c");
  Val scheme = f.type_call("[method]outgoing-request.scheme", {req}, f.t.option(f.t.scheme));
  CHECK(hv::case_label(scheme.items.at(0)) == "HTTPS");

  Val headers = f.type_call("[method]outgoing-request.headers", {req}, f.t.h);
  CHECK(f.entries(headers) == Fields{{"X-Id", "7"}});
  Val r = f.type_call("[method]fields.append", {headers, f.str("x-b"), f.bytes("1")},
                      f.t.result(nullptr, f.t.header_error));
  REQUIRE(r.case_index == 1);
  CHECK(hv::case_label(r.items[0]) == "immutable");

  f.ok_handle("[method]outgoing-request.body", req);
  CHECK(f.type_call("[method]outgoing-request.body", {req}, f.t.handle_result).case_index == 1);  // once
}

TEST_CASE("p2 http: request-options keep their timeouts", "[p2-http]") {
  Fixture f;
  Val o = f.type_call("[constructor]request-options", {}, f.t.h);
  const Type* od = f.t.option(f.t.u64);
  CHECK(f.type_call("[method]request-options.connect-timeout", {o}, od).case_index == 0);
  Val set = f.type_call("[method]request-options.set-first-byte-timeout",
                        {o, hv::some(od, hv::scalar(f.t.u64, 5))}, f.t.unit_result);
  CHECK(set.case_index == 0);
  Val got = f.type_call("[method]request-options.first-byte-timeout", {o}, od);
  REQUIRE(got.case_index == 1);
  CHECK(got.items[0].bits == 5);
}

TEST_CASE("p2 http: outgoing-handler refuses without the http capability", "[p2-http]") {
  Fixture f;
  Val req = f.type_call("[constructor]outgoing-request", {f.new_fields({})}, f.t.h);
  f.type_call("[method]outgoing-request.set-authority",
              {req, hv::some(f.t.option(f.t.str), f.str("127.0.0.1:9"))}, f.t.unit_result);
  Val r = f.call("wasi:http/outgoing-handler@0.2.0", "handle", {req, hv::none(f.t.option(f.t.h))},
                 f.t.result(f.t.h, f.t.error_code));
  REQUIRE(r.case_index == 1);
  CHECK(hv::case_label(r.items[0]) == "HTTP-request-denied");
}

namespace {

// An exchange as the server hands one over, recording the response.
struct FakeExchange : wasi::http::Exchange {
  wasi::http::RequestHead head{
      "POST", "http", "example.com", "/p?q=1", {{"content-type", "text/plain"}, {"host", "example.com"}}};
  std::shared_ptr<FakeSource> source = std::make_shared<FakeSource>();
  Fields request_trailers{{"x-checksum", "abc"}};
  std::optional<wasi::http::ResponseHead> response;
  std::shared_ptr<FakeSink> sink = std::make_shared<FakeSink>();
  std::optional<Fields> finished;
  std::optional<uint16_t> aborted;

  const wasi::http::RequestHead& request() const override { return head; }
  std::shared_ptr<wasi::common::ByteSource> body() override { return source; }
  const Fields& trailers() const override { return request_trailers; }
  std::shared_ptr<wasi::common::ByteSink> respond(wasi::http::ResponseHead h) override {
    REQUIRE_FALSE(response);
    response = std::move(h);
    return sink;
  }
  void finish(Fields t) override {
    REQUIRE(response);
    finished = std::move(t);
  }
  void abort(uint16_t status) override { aborted = status; }
};

// Serves `ex` with `handler` standing in for the guest's incoming-handler
// (args: own<incoming-request>, own<response-outparam>).
void serve(Fixture& f, std::shared_ptr<FakeExchange> ex,
           std::function<void(const Val& request, const Val& out)> handler) {
  component::HostFunction fn = [&](component::HostCall& c) { handler(c.args[0], c.args[1]); };
  component::ComponentFunc func;
  func.type = f.t.make(Type{.kind = TypeKind::Func, .fields = {{"request", f.t.h}, {"response-out", f.t.h}}});
  func.host = &fn;
  serve_request(f.caller.runtime, f.st, func, std::move(ex));
}

// response-outparam.set(out, ok(response)).
void set_ok(Fixture& f, const Val& out, const Val& response) {
  const Type* rt = f.t.result(f.t.h, f.t.error_code);
  f.type_call("[static]response-outparam.set", {out, hv::ok(rt, response)}, nullptr);
}

}  // namespace

TEST_CASE("p2 http: a served request is read, answered and its body finished", "[p2-http]") {
  Fixture f;
  auto ex = std::make_shared<FakeExchange>();
  ex->source->immediate = true;
  ex->source->chunks = {"ping ", "pong"};
  ex->sink->immediate = true;
  std::string got_body;
  serve(f, ex, [&](const Val& req, const Val&) {
    CHECK(hv::case_label(f.type_call("[method]incoming-request.method", {req}, f.t.method)) == "post");
    CHECK(
        f.type_call("[method]incoming-request.path-with-query", {req}, f.t.option(f.t.str)).items.at(0).str ==
        "/p?q=1");
    CHECK(f.type_call("[method]incoming-request.authority", {req}, f.t.option(f.t.str)).items.at(0).str ==
          "example.com");
    Val scheme = f.type_call("[method]incoming-request.scheme", {req}, f.t.option(f.t.scheme));
    CHECK(hv::case_label(scheme.items.at(0)) == "HTTP");
    Val headers = f.type_call("[method]incoming-request.headers", {req}, f.t.h);
    CHECK(f.entries(headers) == Fields{{"content-type", "text/plain"}, {"host", "example.com"}});
    f.drop(kTypes, "fields", headers);

    Val body = f.ok_handle("[method]incoming-request.consume", req);
    CHECK(f.type_call("[method]incoming-request.consume", {req}, f.t.handle_result).case_index == 1);
    Val in = f.ok_handle("[method]incoming-body.stream", body);
    got_body = f.read_all(in);
    // The stream is a child: finish traps while it lives.
    CHECK_THROWS_AS(f.type_call("[static]incoming-body.finish", {body}, f.t.h), engine::Trap);
  });
  CHECK(got_body == "ping pong");
  CHECK(ex->aborted == 500);  // the handler never set the response
}

TEST_CASE("p2 http: incoming-body.finish gives the trailers once the body ended", "[p2-http]") {
  Fixture f;
  auto ex = std::make_shared<FakeExchange>();
  ex->source->chunks = {"unread"};
  ex->sink->immediate = true;
  serve(f, ex, [&](const Val& req, const Val& out) {
    Val body = f.ok_handle("[method]incoming-request.consume", req);
    Val in = f.ok_handle("[method]incoming-body.stream", body);
    f.drop(kStreams, "input-stream", in);
    Val future = f.type_call("[static]incoming-body.finish", {body}, f.t.h);
    const Type* inner = f.t.result(f.t.option(f.t.h), f.t.error_code);
    const Type* gt = f.t.option(f.t.result(inner, nullptr));
    CHECK(f.type_call("[method]future-trailers.get", {future}, gt).case_index == 0);  // not yet
    Val p = f.type_call("[method]future-trailers.subscribe", {future}, f.t.h);
    Pollable& pollable = *f.st.pollables.get(p.bits).pollable;
    CHECK_FALSE(pollable.ready());
    ex->source->immediate = true;  // the rest of the body arrives: discarded
    ex->source->complete();
    CHECK(pollable.ready());
    Val got = f.type_call("[method]future-trailers.get", {future}, gt);
    REQUIRE(got.case_index == 1);
    REQUIRE(got.items[0].case_index == 0);
    const Val& trailers = got.items[0].items[0];
    REQUIRE(trailers.case_index == 0);
    REQUIRE(trailers.items[0].case_index == 1);
    Val fields = trailers.items[0].items[0];
    CHECK(f.entries(fields) == Fields{{"x-checksum", "abc"}});
    Val again = f.type_call("[method]future-trailers.get", {future}, gt);
    CHECK(again.items.at(0).case_index == 1);  // taken
    // A copy of the request's fields has one only the host may send.
    Val received = f.type_call("[method]incoming-request.headers", {req}, f.t.h);
    Val copy = f.type_call("[method]fields.clone", {received}, f.t.h);
    Val resp = f.type_call("[constructor]outgoing-response", {copy}, f.t.h);
    f.type_call("[method]outgoing-response.set-status-code", {resp, hv::scalar(f.t.u16, 204)},
                f.t.unit_result);
    set_ok(f, out, resp);
  });
  REQUIRE(ex->response);
  CHECK(ex->response->status == 204);
  CHECK(ex->response->headers == Fields{{"content-type", "text/plain"}});
  CHECK(ex->finished == Fields{});  // no body taken: an empty one
  CHECK_FALSE(ex->aborted);
}

TEST_CASE("p2 http: the response body goes out after the handler returned", "[p2-http]") {
  Fixture f;
  auto ex = std::make_shared<FakeExchange>();
  serve(f, ex, [&](const Val&, const Val& out) {
    Val resp = f.type_call("[constructor]outgoing-response",
                           {f.new_fields({{"Content-Type", "text/plain"}, {"Content-Length", "11"}})}, f.t.h);
    CHECK(f.type_call("[method]outgoing-response.set-status-code", {resp, hv::scalar(f.t.u16, 99)},
                      f.t.unit_result)
              .case_index == 1);
    Val body = f.ok_handle("[method]outgoing-response.body", resp);
    set_ok(f, out, resp);
    Val s = f.ok_handle("[method]outgoing-body.write", body);
    f.write(s, "hello ");
    f.write(s, "world");
    // The body's stream is a child: finishing before dropping it traps.
    CHECK_THROWS_AS(f.type_call("[static]outgoing-body.finish", {body, hv::none(f.t.option(f.t.h))},
                                f.t.result(nullptr, f.t.error_code)),
                    engine::Trap);
  });
  // The trap above took the body's handle with it: the body is not
  // finished, so the exchange is aborted once the handler returned.
  REQUIRE(ex->response);
  CHECK(ex->response->status == 200);
  CHECK(ex->response->headers == Fields{{"content-type", "text/plain"}, {"content-length", "11"}});
  CHECK(ex->aborted);
  // The server fails a write it still holds once the exchange is aborted;
  // so does the fake (its held callback would keep the body alive).
  ex->sink->result = Errno::Pipe;
  ex->sink->complete();
}

TEST_CASE("p2 http: a finished response body is written out, then the exchange finished", "[p2-http]") {
  Fixture f;
  auto ex = std::make_shared<FakeExchange>();
  serve(f, ex, [&](const Val&, const Val& out) {
    Val resp = f.type_call("[constructor]outgoing-response", {f.new_fields({{"x-r", "1"}})}, f.t.h);
    Val body = f.ok_handle("[method]outgoing-response.body", resp);
    Val s = f.ok_handle("[method]outgoing-body.write", body);
    f.write(s, "early ");  // before the response is set: buffered
    set_ok(f, out, resp);
    f.write(s, "late");
    f.drop(kStreams, "output-stream", s);
    Val r = f.type_call("[static]outgoing-body.finish",
                        {body, hv::some(f.t.option(f.t.h), f.new_fields({{"X-Trailer", "t"}}))},
                        f.t.result(nullptr, f.t.error_code));
    CHECK(r.case_index == 0);
  });
  CHECK(ex->sink->data == "early ");  // the first write is still in flight
  CHECK_FALSE(http_idle(f.st));
  CHECK_FALSE(ex->finished);
  ex->sink->complete();
  CHECK(ex->sink->data == "early late");
  CHECK_FALSE(ex->finished);
  ex->sink->complete();
  CHECK(http_idle(f.st));
  CHECK(ex->finished == Fields{{"x-trailer", "t"}});
  CHECK_FALSE(ex->aborted);
}

TEST_CASE("p2 http: a body shorter than its content-length fails to finish", "[p2-http]") {
  Fixture f;
  auto ex = std::make_shared<FakeExchange>();
  ex->sink->immediate = true;
  serve(f, ex, [&](const Val&, const Val& out) {
    Val resp =
        f.type_call("[constructor]outgoing-response", {f.new_fields({{"content-length", "3"}})}, f.t.h);
    Val body = f.ok_handle("[method]outgoing-response.body", resp);
    set_ok(f, out, resp);
    Val s = f.ok_handle("[method]outgoing-body.write", body);
    Val r = f.call(kStreams, "[method]output-stream.check-write", {s}, f.t.result(f.t.u64, f.t.stream_error));
    REQUIRE(r.case_index == 0);
    Val w = f.call(kStreams, "[method]output-stream.write", {s, f.bytes("toolong")},
                   f.t.result(nullptr, f.t.stream_error));
    REQUIRE(w.case_index == 1);  // more than the content-length
    REQUIRE(hv::case_label(w.items[0]) == "last-operation-failed");
    Val code = f.type_call("http-error-code", {w.items[0].items[0]}, f.t.option(f.t.error_code));
    REQUIRE(code.case_index == 1);
    CHECK(hv::case_label(code.items[0]) == "HTTP-response-body-size");
    f.drop(kStreams, "output-stream", s);
    Val fin = f.type_call("[static]outgoing-body.finish", {body, hv::none(f.t.option(f.t.h))},
                          f.t.result(nullptr, f.t.error_code));
    REQUIRE(fin.case_index == 1);
    CHECK(hv::case_label(fin.items[0]) == "HTTP-response-body-size");
  });
  CHECK(ex->response);
  CHECK_FALSE(ex->finished);
  CHECK(ex->aborted);
}

TEST_CASE("p2 http: an error response or a trapping handler is a 500", "[p2-http]") {
  Fixture f;
  SECTION("set to an error") {
    auto ex = std::make_shared<FakeExchange>();
    serve(f, ex, [&](const Val&, const Val& out) {
      const Type* rt = f.t.result(f.t.h, f.t.error_code);
      f.type_call("[static]response-outparam.set",
                  {out, hv::err(rt, hv::variant(f.t.error_code, "HTTP-protocol-error"))}, nullptr);
    });
    CHECK_FALSE(ex->response);
    CHECK(ex->aborted == 500);
  }
  SECTION("a trap") {
    auto ex = std::make_shared<FakeExchange>();
    CHECK_THROWS_AS(
        serve(f, ex, [&](const Val&, const Val&) { throw engine::Trap(engine::TrapKind::Host, "boom"); }),
        engine::Trap);
    CHECK(ex->aborted == 500);
  }
}

namespace {

// Reads a request body to its end, then answers "got: BODY" with a
// trailer (chunked).
void echo(std::shared_ptr<wasi::http::Exchange> ex, std::shared_ptr<std::string> body) {
  ex->body()->read(65536, [ex, body](Errno e, std::string_view data) {
    REQUIRE(e == Errno::Success);
    if (!data.empty()) {
      body->append(data);
      return echo(ex, body);
    }
    auto sink = ex->respond({201, {{"x-echo", ex->request().method + " " + ex->request().path_with_query}}});
    auto text = std::make_shared<std::string>("got: " + *body);
    sink->write(*text, [ex, text](Errno) { ex->finish({{"x-done", "yes"}}); });
  });
}

// Waits (at most 5 s) for a pollable handle; false on timeout.
bool wait(Fixture& f, const Val& p) {
  Pollable& pollable = *f.st.pollables.get(p.bits).pollable;
  loop::Timer timer(f.reactor);
  bool timed_out = false;
  timer.start(5'000'000'000, [&] { timed_out = true; });
  while (!pollable.ready() && !timed_out) {
    bool woken = false;
    pollable.watch([&] { woken = true; });
    f.reactor.run_until([&] { return woken || timed_out; });
    pollable.unwatch();
  }
  return pollable.ready();
}

// future-incoming-response.get's type.
const Type* response_get_type(HttpTypes& t) {
  return t.option(t.result(t.result(t.h, t.error_code), nullptr));
}

}  // namespace

TEST_CASE("p2 http: outgoing-handler sends a request and reads the response", "[p2-http]") {
  Fixture f;
  f.config.http = true;
  wasi::http::Server server(f.reactor, {}, [](std::shared_ptr<wasi::http::Exchange> ex) {
    echo(std::move(ex), std::make_shared<std::string>());
  });
  server.listen("127.0.0.1", 0);

  Val req =
      f.type_call("[constructor]outgoing-request", {f.new_fields({{"Content-Type", "text/plain"}})}, f.t.h);
  f.type_call("[method]outgoing-request.set-method", {req, hv::variant(f.t.method, "put")}, f.t.unit_result);
  f.type_call("[method]outgoing-request.set-path-with-query",
              {req, hv::some(f.t.option(f.t.str), f.str("/up?x=1"))}, f.t.unit_result);
  f.type_call("[method]outgoing-request.set-authority",
              {req, hv::some(f.t.option(f.t.str), f.str(server.address()))}, f.t.unit_result);
  Val body = f.ok_handle("[method]outgoing-request.body", req);
  Val options = f.type_call("[constructor]request-options", {}, f.t.h);
  Val handled = f.call("wasi:http/outgoing-handler@0.2.0", "handle",
                       {req, hv::some(f.t.option(f.t.h), options)}, f.t.result(f.t.h, f.t.error_code));
  REQUIRE(handled.case_index == 0);
  Val future = handled.items[0];
  // The body is written after the request went: it streams.
  Val s = f.ok_handle("[method]outgoing-body.write", body);
  f.write(s, "ping");
  f.drop(kStreams, "output-stream", s);
  Val fin = f.type_call("[static]outgoing-body.finish", {body, hv::none(f.t.option(f.t.h))},
                        f.t.result(nullptr, f.t.error_code));
  CHECK(fin.case_index == 0);

  CHECK(f.type_call("[method]future-incoming-response.get", {future}, response_get_type(f.t)).case_index ==
        0);
  REQUIRE(wait(f, f.type_call("[method]future-incoming-response.subscribe", {future}, f.t.h)));
  Val got = f.type_call("[method]future-incoming-response.get", {future}, response_get_type(f.t));
  REQUIRE(got.case_index == 1);
  REQUIRE(got.items[0].case_index == 0);
  REQUIRE(got.items[0].items[0].case_index == 0);
  Val resp = got.items[0].items[0].items[0];
  CHECK(f.type_call("[method]future-incoming-response.get", {future}, response_get_type(f.t))
            .items.at(0)
            .case_index == 1);  // taken
  CHECK(f.type_call("[method]incoming-response.status", {resp}, f.t.u16).bits == 201);
  Val headers = f.type_call("[method]incoming-response.headers", {resp}, f.t.h);
  Val echo_header = f.type_call("[method]fields.get", {headers, f.str("X-Echo")}, f.t.list(f.t.bytes));
  REQUIRE(echo_header.items.size() == 1);
  CHECK(echo_header.items[0].str == "PUT /up?x=1");

  Val rbody = f.ok_handle("[method]incoming-response.consume", resp);
  Val in = f.ok_handle("[method]incoming-body.stream", rbody);
  CHECK(f.read_all(in) == "got: ping");
  f.drop(kStreams, "input-stream", in);
  Val trailers_future = f.type_call("[static]incoming-body.finish", {rbody}, f.t.h);
  REQUIRE(wait(f, f.type_call("[method]future-trailers.subscribe", {trailers_future}, f.t.h)));
  const Type* inner = f.t.result(f.t.option(f.t.h), f.t.error_code);
  Val trailers =
      f.type_call("[method]future-trailers.get", {trailers_future}, f.t.option(f.t.result(inner, nullptr)));
  REQUIRE(trailers.case_index == 1);
  const Val& r = trailers.items[0].items.at(0);
  REQUIRE(r.case_index == 0);
  REQUIRE(r.items.at(0).case_index == 1);
  CHECK(f.entries(r.items[0].items[0]) == Fields{{"x-done", "yes"}});
}

TEST_CASE("p2 http: a refused connection resolves the future with its error-code", "[p2-http]") {
  Fixture f;
  f.config.http = true;
  std::string authority;
  {
    wasi::http::Server server(f.reactor, {}, [](std::shared_ptr<wasi::http::Exchange>) {});
    server.listen("127.0.0.1", 0);
    authority = server.address();
  }
  Val req = f.type_call("[constructor]outgoing-request", {f.new_fields({})}, f.t.h);
  f.type_call("[method]outgoing-request.set-authority",
              {req, hv::some(f.t.option(f.t.str), f.str(authority))}, f.t.unit_result);
  Val handled = f.call("wasi:http/outgoing-handler@0.2.0", "handle", {req, hv::none(f.t.option(f.t.h))},
                       f.t.result(f.t.h, f.t.error_code));
  REQUIRE(handled.case_index == 0);
  Val future = handled.items[0];
  REQUIRE(wait(f, f.type_call("[method]future-incoming-response.subscribe", {future}, f.t.h)));
  Val got = f.type_call("[method]future-incoming-response.get", {future}, response_get_type(f.t));
  REQUIRE(got.case_index == 1);
  REQUIRE(got.items[0].items.at(0).case_index == 1);
  CHECK(hv::case_label(got.items[0].items[0].items.at(0)) == "connection-refused");
}

TEST_CASE("p2 http: http-error-code tells a failed body read from other io errors", "[p2-http]") {
  Fixture f;
  auto ex = std::make_shared<FakeExchange>();
  ex->source->immediate = true;
  ex->source->chunks = {"part"};
  ex->source->error = Errno::Io;  // the client went away mid-body
  serve(f, ex, [&](const Val& req, const Val&) {
    Val body = f.ok_handle("[method]incoming-request.consume", req);
    Val in = f.ok_handle("[method]incoming-body.stream", body);
    const Type* rt = f.t.result(f.t.bytes, f.t.stream_error);
    Val r = f.call(kStreams, "[method]input-stream.read", {in, hv::scalar(f.t.u64, 100)}, rt);
    REQUIRE(r.case_index == 0);
    CHECK(r.items[0].str == "part");
    r = f.call(kStreams, "[method]input-stream.read", {in, hv::scalar(f.t.u64, 100)}, rt);
    REQUIRE(r.case_index == 1);
    REQUIRE(hv::case_label(r.items[0]) == "last-operation-failed");
    Val code = f.type_call("http-error-code", {r.items[0].items[0]}, f.t.option(f.t.error_code));
    REQUIRE(code.case_index == 1);
    CHECK(hv::case_label(code.items[0]) == "connection-terminated");
    r = f.call(kStreams, "[method]input-stream.read", {in, hv::scalar(f.t.u64, 100)}, rt);
    REQUIRE(r.case_index == 1);
    CHECK(hv::case_label(r.items[0]) == "closed");

    uint32_t other = f.st.errors.add(std::make_unique<IoError>(IoError{Errno::BadF, "not http"}));
    CHECK(f.type_call("http-error-code", {f.handle(other)}, f.t.option(f.t.error_code)).case_index == 0);
  });
}
