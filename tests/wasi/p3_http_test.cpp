// wasi:http@0.3.0 host bindings called directly: field syntax, the
// error-code variant both ways, fields / request / response /
// request-options semantics (immutability, validation, case-insensitive
// names), a body the guest made and consumes itself; client.send over
// loopback to the HTTP/1.1 server of wasi/http (bodies, trailers, the
// `sent` future, timeouts, refusals); and serve_request with a handle the
// test plays: its response, the request body it consumes, an error-code,
// and a client's response it returns unread (relayed by the host).
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "component/host_async.h"
#include "p2_support.h"
#include "wasi/http/client.h"
#include "wasi/http/values.h"
#include "wasi/http/server.h"
#include "wasi/http_test_support.h"
#include "wasi/p3/state.h"

using namespace weft;
using namespace weft::testing;  // Type, TypeKind, Val, WitTypes, HostCaller
using component::CopyResult;
using component::HostBuffer;
using component::HostEnd;
using wasi::http::HttpError;
namespace hv = component::host_values;
namespace http = wasi::http;

namespace {

// The WIT types of wasi:http/types@0.3.0.
struct HttpTypes : WitTypes {
  const Type* u8 = prim(TypeKind::U8);
  const Type* u16 = prim(TypeKind::U16);
  const Type* u32 = prim(TypeKind::U32);
  const Type* u64 = prim(TypeKind::U64);
  const Type* boolean = prim(TypeKind::Bool);
  const Type* string = prim(TypeKind::String);
  const Type* bytes = list(u8);
  const Type* fields = resource();
  const Type* request = resource();
  const Type* response = resource();
  const Type* options = resource();
  const Type* entries = list(tuple({string, bytes}));
  const Type* values = list(bytes);
  const Type* field_size = record({{"field-name", option(string)}, {"field-size", option(u32)}});
  const Type* error_code = variant({
      {"DNS-timeout", nullptr},
      {"DNS-error", record({{"rcode", option(string)}, {"info-code", option(u16)}})},
      {"destination-not-found", nullptr},
      {"destination-unavailable", nullptr},
      {"destination-IP-prohibited", nullptr},
      {"destination-IP-unroutable", nullptr},
      {"connection-refused", nullptr},
      {"connection-terminated", nullptr},
      {"connection-timeout", nullptr},
      {"connection-read-timeout", nullptr},
      {"connection-write-timeout", nullptr},
      {"connection-limit-reached", nullptr},
      {"TLS-protocol-error", nullptr},
      {"TLS-certificate-error", nullptr},
      {"TLS-alert-received", record({{"alert-id", option(u8)}, {"alert-message", option(string)}})},
      {"HTTP-request-denied", nullptr},
      {"HTTP-request-length-required", nullptr},
      {"HTTP-request-body-size", option(u64)},
      {"HTTP-request-method-invalid", nullptr},
      {"HTTP-request-URI-invalid", nullptr},
      {"HTTP-request-URI-too-long", nullptr},
      {"HTTP-request-header-section-size", option(u32)},
      {"HTTP-request-header-size", option(field_size)},
      {"HTTP-request-trailer-section-size", option(u32)},
      {"HTTP-request-trailer-size", field_size},
      {"HTTP-response-incomplete", nullptr},
      {"HTTP-response-header-section-size", option(u32)},
      {"HTTP-response-header-size", field_size},
      {"HTTP-response-body-size", option(u64)},
      {"HTTP-response-trailer-section-size", option(u32)},
      {"HTTP-response-trailer-size", field_size},
      {"HTTP-response-transfer-coding", option(string)},
      {"HTTP-response-content-coding", option(string)},
      {"HTTP-response-timeout", nullptr},
      {"HTTP-upgrade-failed", nullptr},
      {"HTTP-protocol-error", nullptr},
      {"loop-detected", nullptr},
      {"configuration-error", nullptr},
      {"internal-error", option(string)},
  });
  const Type* header_error = variant({{"invalid-syntax", nullptr},
                                      {"forbidden", nullptr},
                                      {"immutable", nullptr},
                                      {"size-exceeded", nullptr},
                                      {"other", option(string)}});
  const Type* options_error =
      variant({{"not-supported", nullptr}, {"immutable", nullptr}, {"other", option(string)}});
  const Type* method = variant({{"get", nullptr},
                                {"head", nullptr},
                                {"post", nullptr},
                                {"put", nullptr},
                                {"delete", nullptr},
                                {"connect", nullptr},
                                {"options", nullptr},
                                {"trace", nullptr},
                                {"patch", nullptr},
                                {"other", string}});
  const Type* scheme = variant({{"HTTP", nullptr}, {"HTTPS", nullptr}, {"other", string}});
  const Type* unit_result = result(nullptr, nullptr);
  const Type* outcome = result(nullptr, error_code);
  const Type* outcome_future = make(Type{.kind = TypeKind::Future, .a = outcome});
  const Type* trailers = result(option(own(fields)), error_code);
  const Type* trailers_future = make(Type{.kind = TypeKind::Future, .a = trailers});
  const Type* byte_stream = make(Type{.kind = TypeKind::Stream, .a = u8});
  const Type* body = tuple({byte_stream, trailers_future});
  const Type* send_result = result(own(response), error_code);
};

constexpr const char* kTypes = "wasi:http/types@0.3.0";

struct Fixture {
  loop::Reactor reactor;
  wasi::common::WasiConfig config;
  HttpTypes t;
  HostCaller caller{t};
  component::Runtime& rt = caller.runtime;
  std::unique_ptr<wasi::p3::State> st;  // freed before the runtime its stream ends belong to

  Fixture() {
    st = std::make_unique<wasi::p3::State>(reactor, config);
    wasi::p3::add_http(caller.host, *st);
    rt.set_event_loop([this](bool block) { return reactor.run_once(block); });
  }
  ~Fixture() { st.reset(); }

  Val call(const std::string& name, std::vector<Val> args, const Type* result) {
    return caller.call(kTypes, name, std::move(args), result);
  }
  Val str(std::string s) { return hv::string(t.string, std::move(s)); }
  Val bytes(std::string_view s) { return hv::bytes(t.bytes, s); }
  Val own(const Type* r, uint64_t rep) { return hv::scalar(t.own(r), rep); }
  Val borrow(const Type* r, uint64_t rep) { return hv::scalar(t.borrow(r), rep); }

  // ---- fields ----
  uint64_t new_fields() { return call("[constructor]fields", {}, t.own(t.fields)).bits; }
  // A fields method returning result<T, header-error>: its error label, or "ok".
  std::string fields_op(const char* name, uint64_t f, std::vector<Val> args, const Type* ok = nullptr) {
    args.insert(args.begin(), borrow(t.fields, f));
    Val r = call(std::string("[method]fields.") + name, std::move(args), t.result(ok, t.header_error));
    return label(r);
  }
  std::string append(uint64_t f, std::string name, std::string_view value) {
    return fields_op("append", f, {str(std::move(name)), bytes(value)});
  }
  std::vector<std::string> get(uint64_t f, std::string name) {
    Val r = call("[method]fields.get", {borrow(t.fields, f), str(std::move(name))}, t.values);
    std::vector<std::string> out;
    for (const Val& v : r.items) out.emplace_back(hv::as_bytes(v));
    return out;
  }
  bool has(uint64_t f, std::string name) {
    return call("[method]fields.has", {borrow(t.fields, f), str(std::move(name))}, t.boolean).bits != 0;
  }
  http::Fields copy_all(uint64_t f) {
    Val r = call("[method]fields.copy-all", {borrow(t.fields, f)}, t.entries);
    http::Fields out;
    for (const Val& e : r.items) out.emplace_back(e.items[0].str, std::string(hv::as_bytes(e.items[1])));
    return out;
  }
  static std::string label(const Val& result) {
    return result.case_index == 0 ? "ok" : std::string(hv::case_label(result.items.at(0)));
  }

  // ---- streams and futures, from the guest's side ----

  // Runs the scheduler (and the loop) until `done`, at most 5 s.
  bool run_until(const std::function<bool()>& done) {
    bool timed_out = false;
    loop::Timer timer(reactor);
    timer.start(5'000'000'000, [&] { timed_out = true; });
    rt.run_until([&] { return done() || timed_out; });
    return done();
  }
  std::pair<CopyResult, std::unique_ptr<HostBuffer>> copy(HostEnd& end, std::unique_ptr<HostBuffer> buffer) {
    std::optional<std::pair<CopyResult, std::unique_ptr<HostBuffer>>> got;
    end.copy(std::move(buffer),
             [&](CopyResult r, std::unique_ptr<HostBuffer> b) { got.emplace(r, std::move(b)); });
    REQUIRE(run_until([&] { return got.has_value(); }));
    return std::move(*got);
  }
  std::string drain(HostEnd& end) {
    std::string all;
    for (;;) {
      auto [r, b] = copy(end, std::make_unique<HostBuffer>(t.u8, 4096));
      all += b->received_bytes();
      if (r == CopyResult::DROPPED) return all;
      REQUIRE(r == CopyResult::COMPLETED);
    }
  }
  // The one value of a future the host writes.
  Val read_future(const Val& future, const Type* elem) {
    std::unique_ptr<HostEnd> end = rt.host_readable(future);
    auto [r, b] = copy(*end, std::make_unique<HostBuffer>(elem, 1));
    REQUIRE(r == CopyResult::COMPLETED);
    REQUIRE(b->received_values().size() == 1);
    return b->received_values()[0];
  }

  // A body as the guest gives one to request.new / response.new: `data`
  // (none without), then trailers ok(`trailers`, none when empty).
  struct GuestBody {
    Val contents, trailers;
    std::unique_ptr<HostEnd> writer, promise;
  };
  GuestBody guest_body(std::optional<std::string> data) {
    GuestBody b;
    if (data) {
      auto [stream, writer] = rt.host_stream(t.byte_stream);
      b.contents = hv::some(t.option(t.byte_stream), std::move(stream));
      b.writer = std::move(writer);
    } else {
      b.contents = hv::none(t.option(t.byte_stream));
    }
    auto [future, promise] = rt.host_stream(t.trailers_future);
    b.trailers = std::move(future);
    b.promise = std::move(promise);
    return b;
  }
  // request-options with every timeout at 5 s: a send that would hang fails.
  uint64_t timeouts(uint64_t ns = 5'000'000'000) {
    uint64_t opts = call("[constructor]request-options", {}, t.own(t.options)).bits;
    for (const char* name : {"connect-timeout", "first-byte-timeout", "between-bytes-timeout"}) {
      Val set = call(std::string("[method]request-options.set-") + name,
                     {borrow(t.options, opts), hv::some(t.option(t.u64), hv::scalar(t.u64, ns))},
                     t.result(nullptr, t.options_error));
      REQUIRE(set.case_index == 0);
    }
    return opts;
  }

  // A body kept as long as the fixture (its writes finish later).
  GuestBody& keep(GuestBody b) { return *kept.emplace_back(std::make_unique<GuestBody>(std::move(b))); }
  std::vector<std::unique_ptr<GuestBody>> kept;

  // The guest writes its body, drops its stream, then writes its trailers
  // (none when empty): started here, done as the host reads (or drops its
  // ends: the tests check what arrived).
  void feed_body(GuestBody& b, std::string data, const http::Fields& trailers) {
    const Type* opt = hv::ok_type(t.trailers);
    Val some = hv::none(opt);
    if (!trailers.empty()) {
      uint64_t f = new_fields();
      for (const auto& [name, value] : trailers) REQUIRE(append(f, name, value) == "ok");
      some = hv::some(opt, own(t.fields, f));
    }
    auto write_trailers = [this, &b, v = hv::ok(t.trailers, std::move(some))] {
      b.promise->copy(std::make_unique<HostBuffer>(t.trailers, std::vector<Val>{v}),
                      [](CopyResult, std::unique_ptr<HostBuffer>) {});
    };
    if (!b.writer) return write_trailers();
    b.writer->copy(std::make_unique<HostBuffer>(t.u8, std::move(data)),
                   [this, &b, write_trailers](CopyResult, std::unique_ptr<HostBuffer>) {
                     rt.post([&b] { b.writer.reset(); });
                     write_trailers();
                   });
  }

  // request.new: the request's rep and its `sent` future.
  std::pair<uint64_t, Val> new_request(uint64_t headers, GuestBody& b, std::optional<uint64_t> options = {}) {
    const Type* ot = t.option(t.own(t.options));
    Val r = call("[static]request.new",
                 {own(t.fields, headers), b.contents, b.trailers,
                  options ? hv::some(ot, own(t.options, *options)) : hv::none(ot)},
                 t.tuple({t.own(t.request), t.outcome_future}));
    return {r.items[0].bits, r.items[1]};
  }
  bool request_set(const char* name, uint64_t req, Val v) {
    return call(std::string("[method]request.set-") + name, {borrow(t.request, req), std::move(v)},
                t.unit_result)
               .case_index == 0;
  }
  Val request_get(const char* name, uint64_t req, const Type* result) {
    return call(std::string("[method]request.get-") + name, {borrow(t.request, req)}, result);
  }
  std::optional<std::string> optional_string(const Val& v) {
    const Val* s = hv::option(v);
    return s ? std::optional<std::string>(s->str) : std::nullopt;
  }

  // consume-body of a request or response (`res` resolved by the guest
  // as ok): the stream and the trailers future.
  Val consume(const char* resource, const Type* rt_type, uint64_t rep) {
    auto [res, promise] = rt.host_stream(t.outcome_future);
    Val r = call(std::string("[static]") + resource + ".consume-body", {own(rt_type, rep), res}, t.body);
    std::vector<Val> ok{hv::ok(t.outcome)};
    copy(*promise, std::make_unique<HostBuffer>(t.outcome, std::move(ok)));
    return r;
  }

  // client.send, the scheduler and loop running until it resolves (what
  // bounds the wait is the request's own timeouts, see timeouts()).
  Val send(uint64_t req) {
    const component::HostInterface::Func* f = caller.host.find("wasi:http/client@0.3.0")->find_func("send");
    REQUIRE(f != nullptr);
    component::ComponentFunc func;
    func.type =
        t.make(Type{.kind = TypeKind::Func, .fields = {{"request", t.own(t.request)}}, .a = t.send_result});
    func.host = &f->fn;
    std::vector<Val> args{own(t.request, req)};
    std::vector<Val> results = rt.call(func, args);
    REQUIRE(results.size() == 1);
    return results[0];
  }
};

}  // namespace

TEST_CASE("http fields: names are tokens, values have no controls, framing fields are forbidden",
          "[p3-http]") {
  CHECK(http::valid_field_name("content-type"));
  CHECK(http::valid_field_name("X-Custom_1!#$%&'*+.^`|~"));
  CHECK_FALSE(http::valid_field_name(""));
  CHECK_FALSE(http::valid_field_name("a b"));
  CHECK_FALSE(http::valid_field_name("a:b"));
  CHECK_FALSE(http::valid_field_name("voil\xc3\xa0"));
  CHECK_FALSE(http::valid_field_name("(x)"));
  CHECK(http::valid_field_value(""));
  CHECK(http::valid_field_value(" padded\t"));
  CHECK(http::valid_field_value("caf\xc3\xa9"));  // obs-text
  CHECK_FALSE(http::valid_field_value("a\r\nb"));
  CHECK_FALSE(http::valid_field_value(std::string_view("a\0b", 3)));
  CHECK_FALSE(http::valid_field_value("\x7f"));
  for (const char* f : {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "proxy-connection", "transfer-encoding", "upgrade", "http2-settings", "host"})
    CHECK(http::forbidden_field(f));
  CHECK_FALSE(http::forbidden_field("content-length"));
  CHECK_FALSE(http::forbidden_field("trailer"));
}

TEST_CASE("http error-code: built against the declared type and read back", "[p3-http]") {
  HttpTypes t;
  Val refused = http::error_code_val(t.error_code, {"connection-refused", std::nullopt});
  CHECK(hv::case_label(refused) == "connection-refused");
  CHECK(refused.items.empty());

  Val internal = http::error_code_val(t.error_code, {"internal-error", "boom"});
  REQUIRE(hv::option(internal.items.at(0)) != nullptr);
  HttpError back = http::error_code_of(internal);
  CHECK(back.code == "internal-error");
  CHECK(back.message == "boom");
  CHECK_FALSE(
      http::error_code_of(http::error_code_val(t.error_code, {"internal-error", std::nullopt})).message);

  // Payloads the host does not know are none, records of nones.
  Val dns = http::error_code_val(t.error_code, {"DNS-error", std::nullopt});
  CHECK(hv::option(hv::field(dns.items.at(0), "rcode")) == nullptr);
  CHECK(hv::option(hv::field(dns.items.at(0), "info-code")) == nullptr);
  Val size = http::error_code_val(t.error_code, {"HTTP-request-body-size", std::nullopt});
  CHECK(hv::option(size.items.at(0)) == nullptr);
  CHECK(http::error_code_of(size).code == "HTTP-request-body-size");
  CHECK_FALSE(http::error_code_of(size).message);
  CHECK(http::error_code_of(http::error_code_val(t.error_code, {"HTTP-response-trailer-size", std::nullopt}))
            .code == "HTTP-response-trailer-size");

  // A label the type does not have is the component's mistake: a trap.
  CHECK_THROWS_AS(http::error_code_val(t.error_code, {"no-such-case", std::nullopt}), engine::Trap);
}

TEST_CASE("p3 http fields: set, append, get, delete, case-insensitive names, clone", "[p3-http]") {
  Fixture f;
  uint64_t h = f.new_fields();
  CHECK_FALSE(f.has(h, "foo"));
  CHECK(f.append(h, "Foo", "a") == "ok");
  CHECK(f.append(h, "foo", "b") == "ok");
  CHECK(f.has(h, "FOO"));
  CHECK(f.get(h, "fOo") == std::vector<std::string>{"a", "b"});
  CHECK(f.copy_all(h) == http::Fields{{"foo", "a"}, {"foo", "b"}});

  Val list = hv::list(f.t.values, {f.bytes("x"), f.bytes("y")});
  CHECK(f.fields_op("set", h, {f.str("foo"), list}) == "ok");
  CHECK(f.get(h, "foo") == std::vector<std::string>{"x", "y"});
  CHECK(f.fields_op("set", h, {f.str("foo"), hv::list(f.t.values, {})}) == "ok");
  CHECK_FALSE(f.has(h, "foo"));

  CHECK(f.append(h, "bar", "1") == "ok");
  uint64_t copy = f.call("[method]fields.clone", {f.borrow(f.t.fields, h)}, f.t.own(f.t.fields)).bits;
  Val taken = f.call("[method]fields.get-and-delete", {f.borrow(f.t.fields, h), f.str("BAR")},
                     f.t.result(f.t.values, f.t.header_error));
  REQUIRE(taken.case_index == 0);
  CHECK(taken.items[0].items.size() == 1);
  CHECK_FALSE(f.has(h, "bar"));
  CHECK(f.has(copy, "bar"));  // a deep copy
  CHECK(f.fields_op("delete", copy, {f.str("bar")}) == "ok");
  CHECK(f.copy_all(copy).empty());
}

TEST_CASE("p3 http fields: invalid, forbidden and from-list", "[p3-http]") {
  Fixture f;
  uint64_t h = f.new_fields();
  CHECK(f.append(h, "bad name", "v") == "invalid-syntax");
  CHECK(f.append(h, "", "v") == "invalid-syntax");
  CHECK(f.append(h, "ok", "a\nb") == "invalid-syntax");
  CHECK(f.append(h, "Transfer-Encoding", "chunked") == "forbidden");
  CHECK(f.append(h, "HOST", "example.com") == "forbidden");
  CHECK(f.fields_op("delete", h, {f.str("(x)")}) == "invalid-syntax");
  CHECK_FALSE(f.has(h, "bad name"));
  CHECK(f.get(h, "bad name").empty());
  CHECK(f.copy_all(h).empty());

  const Type* et = hv::element(f.t.entries);
  auto from_list = [&](std::vector<std::pair<std::string, std::string>> entries) {
    std::vector<Val> items;
    for (auto& [n, v] : entries) items.push_back(hv::tuple(et, {f.str(n), f.bytes(v)}));
    return f.call("[static]fields.from-list", {hv::list(f.t.entries, std::move(items))},
                  f.t.result(f.t.own(f.t.fields), f.t.header_error));
  };
  Val made = from_list({{"A", "1"}, {"b", "2"}, {"a", "3"}});
  REQUIRE(made.case_index == 0);
  CHECK(f.copy_all(made.items[0].bits) == http::Fields{{"a", "1"}, {"b", "2"}, {"a", "3"}});
  CHECK(Fixture::label(from_list({{"a", "1"}, {"connection", "close"}})) == "forbidden");
  CHECK(Fixture::label(from_list({{"a b", "1"}})) == "invalid-syntax");
}

TEST_CASE("p3 http request: defaults, validated setters, immutable headers and options", "[p3-http]") {
  Fixture f;
  uint64_t h = f.new_fields();
  REQUIRE(f.append(h, "x-a", "1") == "ok");
  uint64_t opts = f.call("[constructor]request-options", {}, f.t.own(f.t.options)).bits;
  Val set = f.call("[method]request-options.set-connect-timeout",
                   {f.borrow(f.t.options, opts), hv::some(f.t.option(f.t.u64), hv::scalar(f.t.u64, 5))},
                   f.t.result(nullptr, f.t.options_error));
  REQUIRE(set.case_index == 0);
  auto body = f.guest_body(std::nullopt);
  auto [req, sent] = f.new_request(h, body, opts);

  CHECK(hv::case_label(f.request_get("method", req, f.t.method)) == "get");
  CHECK_FALSE(f.optional_string(f.request_get("path-with-query", req, f.t.option(f.t.string))));
  CHECK(hv::option(f.request_get("scheme", req, f.t.option(f.t.scheme))) == nullptr);

  // other("PATCH") is the patch case; other methods must be tokens.
  CHECK(f.request_set("method", req, hv::variant(f.t.method, "other", f.str("PATCH"))));
  CHECK(hv::case_label(f.request_get("method", req, f.t.method)) == "patch");
  CHECK(f.request_set("method", req, hv::variant(f.t.method, "other", f.str("PURGE"))));
  CHECK_FALSE(f.request_set("method", req, hv::variant(f.t.method, "other", f.str(""))));
  CHECK_FALSE(f.request_set("method", req, hv::variant(f.t.method, "other", f.str("A B"))));
  CHECK(f.request_get("method", req, f.t.method).items.at(0).str == "PURGE");

  const Type* os = f.t.option(f.t.scheme);
  CHECK(f.request_set("scheme", req, hv::some(os, hv::variant(f.t.scheme, "other", f.str("https")))));
  CHECK(hv::case_label(*hv::option(f.request_get("scheme", req, os))) == "HTTPS");
  CHECK_FALSE(f.request_set("scheme", req, hv::some(os, hv::variant(f.t.scheme, "other", f.str("1x")))));

  const Type* ostr = f.t.option(f.t.string);
  auto some = [&](std::string s) { return hv::some(ostr, f.str(std::move(s))); };
  CHECK(f.request_set("path-with-query", req, some("")));
  CHECK(f.optional_string(f.request_get("path-with-query", req, ostr)) == "/");
  CHECK(f.request_set("path-with-query", req, some("/a/b?c=d&e=%20")));
  CHECK_FALSE(f.request_set("path-with-query", req, some("/a b")));
  CHECK_FALSE(f.request_set("path-with-query", req, some("/a<b")));
  CHECK(f.optional_string(f.request_get("path-with-query", req, ostr)) == "/a/b?c=d&e=%20");

  for (const char* ok : {"example.com", "1.2.3.4:80", "user:pass@localhost:8080", "[::1]:80"})
    CHECK(f.request_set("authority", req, some(ok)));
  for (const char* bad : {"", "::", "@:", "localhost:what", "a b", "[", "#"})
    CHECK_FALSE(f.request_set("authority", req, some(bad)));
  CHECK(f.optional_string(f.request_get("authority", req, ostr)) == "[::1]:80");

  uint64_t got = f.request_get("headers", req, f.t.own(f.t.fields)).bits;
  CHECK(f.copy_all(got) == http::Fields{{"x-a", "1"}});
  CHECK(f.append(got, "x-b", "2") == "immutable");
  CHECK(f.fields_op("delete", got, {f.str("x-a")}) == "immutable");

  Val o = f.request_get("options", req, f.t.option(f.t.own(f.t.options)));
  REQUIRE(hv::option(o) != nullptr);
  uint64_t ro = hv::option(o)->bits;
  Val timeout =
      f.call("[method]request-options.get-connect-timeout", {f.borrow(f.t.options, ro)}, f.t.option(f.t.u64));
  REQUIRE(hv::option(timeout) != nullptr);
  CHECK(hv::option(timeout)->bits == 5);
  Val refused = f.call("[method]request-options.set-first-byte-timeout",
                       {f.borrow(f.t.options, ro), hv::none(f.t.option(f.t.u64))},
                       f.t.result(nullptr, f.t.options_error));
  CHECK(Fixture::label(refused) == "immutable");
  uint64_t clone =
      f.call("[method]request-options.clone", {f.borrow(f.t.options, ro)}, f.t.own(f.t.options)).bits;
  Val set_clone = f.call("[method]request-options.set-first-byte-timeout",
                         {f.borrow(f.t.options, clone), hv::none(f.t.option(f.t.u64))},
                         f.t.result(nullptr, f.t.options_error));
  CHECK(Fixture::label(set_clone) == "ok");  // a clone is mutable
}

TEST_CASE("p3 http response: status codes 100..599", "[p3-http]") {
  Fixture f;
  auto body = f.guest_body(std::nullopt);
  Val r = f.call("[static]response.new", {f.own(f.t.fields, f.new_fields()), body.contents, body.trailers},
                 f.t.tuple({f.t.own(f.t.response), f.t.outcome_future}));
  uint64_t res = r.items[0].bits;
  auto status = [&] {
    return f.call("[method]response.get-status-code", {f.borrow(f.t.response, res)}, f.t.u16).bits;
  };
  auto set = [&](uint64_t s) {
    return f.call("[method]response.set-status-code", {f.borrow(f.t.response, res), hv::scalar(f.t.u16, s)},
                  f.t.unit_result)
               .case_index == 0;
  };
  CHECK(status() == 200);
  CHECK(set(404));
  CHECK(set(100));
  CHECK(set(599));
  CHECK_FALSE(set(99));
  CHECK_FALSE(set(600));
  CHECK_FALSE(set(0));
  CHECK(status() == 599);
}

TEST_CASE("p3 http: a body the guest made and consumes itself; `res` resolves `sent`", "[p3-http]") {
  Fixture f;
  auto body = f.guest_body(std::string("hello"));
  Val r = f.call("[static]response.new", {f.own(f.t.fields, f.new_fields()), body.contents, body.trailers},
                 f.t.tuple({f.t.own(f.t.response), f.t.outcome_future}));
  Val consumed = f.consume("response", f.t.response, r.items[0].bits);
  std::unique_ptr<HostEnd> stream = f.rt.host_readable(consumed.items[0]);
  f.feed_body(body, "hello", {{"x-sum", "42"}});
  CHECK(f.drain(*stream) == "hello");
  Val trailers = f.read_future(consumed.items[1], f.t.trailers);
  REQUIRE(trailers.case_index == 0);
  const Val* some = hv::option(trailers.items.at(0));
  REQUIRE(some != nullptr);
  CHECK(f.copy_all(some->bits) == http::Fields{{"x-sum", "42"}});
  CHECK(Fixture::label(f.read_future(r.items[1], f.t.outcome)) == "ok");
}

TEST_CASE("p3 http client: send is refused without -S http", "[p3-http]") {
  Fixture f;  // config.http is off
  auto body = f.guest_body(std::nullopt);
  auto [req, sent] = f.new_request(f.new_fields(), body);
  REQUIRE(f.request_set("authority", req, hv::some(f.t.option(f.t.string), f.str("127.0.0.1:1"))));
  Val r = f.send(req);
  REQUIRE(r.case_index == 1);
  CHECK(hv::case_label(r.items.at(0)) == "HTTP-request-denied");
  CHECK(Fixture::label(f.read_future(sent, f.t.outcome)) == "HTTP-request-denied");
}

namespace {

// An upstream server: takes a request's body and trailers, then answers
// 201 "pong" with an x-len header and an x-done trailer.
struct Upstream {
  http::RequestHead head;
  std::string received;
  http::Fields trailers;
  http::Server server;

  explicit Upstream(Fixture& f)
      : server(f.reactor, {}, [this, &f](std::shared_ptr<http::Exchange> ex) { take(f, ex, ex->body()); }) {
    server.listen("127.0.0.1", 0);
  }

 private:
  void take(Fixture& f, std::shared_ptr<http::Exchange> ex,
            std::shared_ptr<wasi::common::ByteSource> source) {
    head = ex->request();
    source->read(4096, [this, &f, ex, source](wasi::common::Errno e, std::string_view data) {
      if (e != wasi::common::Errno::Success) return ex->abort();
      if (!data.empty()) {
        received += data;
        return f.rt.post([this, &f, ex, source] { take(f, ex, source); });
      }
      trailers = ex->trailers();
      auto sink = ex->respond({201, {{"x-len", std::to_string(received.size())}}});
      // Finished from the scheduler, as the bindings do (a write may
      // complete before write() returns).
      sink->write("pong", [&f, ex](wasi::common::Errno) {
        f.rt.post([ex] { ex->finish({{"x-done", "yes"}}); });
      });
    });
  }
};

// A server whose requests go to `fn`, the component's exported handle as
// the test plays it, through serve_request.
struct Served {
  component::HostFunction fn;
  component::ComponentFunc handle;
  http::Server server;

  Served(Fixture& f, component::HostFunction handle_fn)
      : fn(std::move(handle_fn)), server(f.reactor, {}, [this, &f](std::shared_ptr<http::Exchange> ex) {
          f.rt.post([this, &f, ex] { wasi::p3::serve_request(f.rt, *f.st, handle, ex); });
        }) {
    handle.type = f.t.make(
        Type{.kind = TypeKind::Func, .fields = {{"request", f.t.own(f.t.request)}}, .a = f.t.send_result});
    handle.host = &fn;
    server.listen("127.0.0.1", 0);
  }
};

// A request through the HTTP client, run until its response has ended.
struct Fetched {
  std::shared_ptr<http::ClientExchange> exchange;
  std::shared_ptr<http_test::Drain> body;
};
Fetched fetch(Fixture& f, http::RequestHead head, std::string body = "") {
  Fetched got;
  bool called = false;
  std::optional<HttpError> error;
  got.exchange = http::ClientExchange::start(f.reactor, std::move(head), {}, [&](std::optional<HttpError> e) {
    called = true;
    error = std::move(e);
  });
  if (!body.empty()) got.exchange->body()->write(body, [](wasi::common::Errno) {});
  got.exchange->finish();
  REQUIRE(f.run_until([&] { return called; }));
  REQUIRE_FALSE(error);
  got.body = http_test::Drain::start(got.exchange->response_body());
  REQUIRE(f.run_until([&] { return got.body->ended; }));
  return got;
}

// A POST of "ping" with a trailer through client.send to `authority`.
Val send_ping(Fixture& f, const std::string& authority, Val& sent) {
  uint64_t h = f.new_fields();
  REQUIRE(f.append(h, "x-req", "1") == "ok");
  Fixture::GuestBody& body = f.keep(f.guest_body(std::string("ping")));
  auto [req, sent_future] = f.new_request(h, body, f.timeouts());
  sent = sent_future;
  const Type* ostr = f.t.option(f.t.string);
  REQUIRE(f.request_set("method", req, hv::variant(f.t.method, "post")));
  REQUIRE(f.request_set("authority", req, hv::some(ostr, f.str(authority))));
  REQUIRE(f.request_set("path-with-query", req, hv::some(ostr, f.str("/up?x=1"))));
  f.feed_body(body, "ping", {{"x-trailer", "t"}});
  return f.send(req);
}

}  // namespace

TEST_CASE("p3 http client: send over loopback with a body, trailers both ways", "[p3-http]") {
  Fixture f;
  f.config.http = true;
  Upstream up(f);
  Val sent;
  Val r = send_ping(f, up.server.address(), sent);
  REQUIRE(r.case_index == 0);
  CHECK(up.head.method == "POST");
  CHECK(up.head.path_with_query == "/up?x=1");
  CHECK(up.head.headers.front() == std::pair<std::string, std::string>{"x-req", "1"});
  CHECK(up.received == "ping");
  CHECK(up.trailers == http::Fields{{"x-trailer", "t"}});
  CHECK(Fixture::label(f.read_future(sent, f.t.outcome)) == "ok");

  uint64_t res = r.items[0].bits;
  CHECK(f.call("[method]response.get-status-code", {f.borrow(f.t.response, res)}, f.t.u16).bits == 201);
  uint64_t rh =
      f.call("[method]response.get-headers", {f.borrow(f.t.response, res)}, f.t.own(f.t.fields)).bits;
  CHECK(f.get(rh, "x-len") == std::vector<std::string>{"4"});
  Val consumed = f.consume("response", f.t.response, res);
  std::unique_ptr<HostEnd> stream = f.rt.host_readable(consumed.items[0]);
  CHECK(f.drain(*stream) == "pong");
  Val trailers = f.read_future(consumed.items[1], f.t.trailers);
  REQUIRE(trailers.case_index == 0);
  REQUIRE(hv::option(trailers.items.at(0)) != nullptr);
  CHECK(f.get(hv::option(trailers.items.at(0))->bits, "x-done") == std::vector<std::string>{"yes"});
}

TEST_CASE("p3 http client: a refused connection fails send and `sent`", "[p3-http]") {
  Fixture f;
  f.config.http = true;
  // A port nobody listens on: bound, then let go.
  std::string authority = http_test::RawListener().authority();
  Fixture::GuestBody& body = f.keep(f.guest_body(std::string("lost")));
  auto [req, sent] = f.new_request(f.new_fields(), body, f.timeouts());
  REQUIRE(f.request_set("authority", req, hv::some(f.t.option(f.t.string), f.str(authority))));
  f.feed_body(body, "lost", {});
  Val r = f.send(req);
  REQUIRE(r.case_index == 1);
  CHECK(hv::case_label(r.items.at(0)) == "connection-refused");
  CHECK(Fixture::label(f.read_future(sent, f.t.outcome)) == "connection-refused");
}

TEST_CASE("p3 http serve: the exported handle answers; bodies and trailers both ways", "[p3-http]") {
  Fixture f;
  const Type* ostr = f.t.option(f.t.string);
  bool fail = false;
  std::optional<std::string> authority, path;
  std::vector<std::string> x_in;
  std::string method;
  std::vector<Val> request_bodies;  // what consume-body gave
  Served served(f, [&](component::HostCall& c) {
    uint64_t req = c.args[0].bits;
    method = hv::case_label(f.request_get("method", req, f.t.method));
    path = f.optional_string(f.request_get("path-with-query", req, ostr));
    authority = f.optional_string(f.request_get("authority", req, ostr));
    uint64_t headers = f.request_get("headers", req, f.t.own(f.t.fields)).bits;
    x_in = f.get(headers, "x-in");
    CHECK(f.append(headers, "x-more", "1") == "immutable");
    if (fail) {
      c.result = hv::err(f.t.send_result, http::error_code_val(f.t.error_code, {"internal-error", "no"}));
      return;
    }
    // The request body, read by the test once the response is out; `res`
    // left to the host end's drop.
    auto [res, res_end] = f.rt.host_stream(f.t.outcome_future);
    request_bodies.push_back(
        f.call("[static]request.consume-body", {f.own(f.t.request, req), res}, f.t.body));
    Fixture::GuestBody& body = f.keep(f.guest_body(std::string()));
    uint64_t h = f.new_fields();
    REQUIRE(f.append(h, "x-out", "2") == "ok");
    Val r = f.call("[static]response.new", {f.own(f.t.fields, h), body.contents, body.trailers},
                   f.t.tuple({f.t.own(f.t.response), f.t.outcome_future}));
    f.feed_body(body, "echo:" + path.value_or(""), {{"x-t", "3"}});
    c.result = hv::ok(f.t.send_result, hv::scalar(f.t.own(f.t.response), r.items[0].bits));
  });
  std::string address = served.server.address();

  Fetched ok = fetch(f, {"POST", "http", address, "/p?q=1", {{"x-in", "a"}}}, "data");
  CHECK(method == "post");
  CHECK(path == "/p?q=1");
  CHECK(authority == address);
  CHECK(x_in == std::vector<std::string>{"a"});
  CHECK(ok.exchange->response().status == 200);
  CHECK(ok.exchange->response().headers.front() == std::pair<std::string, std::string>{"x-out", "2"});
  CHECK(ok.body->body == "echo:/p?q=1");
  CHECK(ok.exchange->response_trailers() == http::Fields{{"x-t", "3"}});
  REQUIRE(request_bodies.size() == 1);
  std::unique_ptr<HostEnd> in = f.rt.host_readable(request_bodies[0].items[0]);
  CHECK(f.drain(*in) == "data");
  CHECK(Fixture::label(f.read_future(request_bodies[0].items[1], f.t.trailers)) == "ok");

  fail = true;
  CHECK(fetch(f, {"GET", "http", address, "/", {}}).exchange->response().status == 500);
}

TEST_CASE("p3 http serve: a client's response returned by handle is relayed", "[p3-http]") {
  Fixture f;
  f.config.http = true;
  Upstream up(f);
  Val sent;
  Val upstream = send_ping(f, up.server.address(), sent);
  REQUIRE(upstream.case_index == 0);
  // The handle answers with the upstream response, its body unread: the
  // host copies it from the client to the server.
  Served served(f, [&](component::HostCall& c) {
    c.result = hv::ok(f.t.send_result, hv::scalar(f.t.own(f.t.response), upstream.items[0].bits));
  });
  Fetched got = fetch(f, {"GET", "http", served.server.address(), "/", {}});
  CHECK(got.exchange->response().status == 201);
  CHECK(got.body->body == "pong");
  CHECK(got.exchange->response_trailers() == http::Fields{{"x-done", "yes"}});
}

TEST_CASE("p3 http client: request-options' timeouts reach the connection", "[p3-http]") {
  Fixture f;
  f.config.http = true;
  http_test::RawListener silent;  // accepts, never answers
  silent.answer(f.reactor, "", false);
  uint64_t opts = f.timeouts(100'000'000);
  Fixture::GuestBody& body = f.keep(f.guest_body(std::nullopt));
  auto [req, sent] = f.new_request(f.new_fields(), body, opts);
  REQUIRE(f.request_set("authority", req, hv::some(f.t.option(f.t.string), f.str(silent.authority()))));
  f.feed_body(body, "", {});
  Val r = f.send(req);
  REQUIRE(r.case_index == 1);
  CHECK(hv::case_label(r.items.at(0)) == "HTTP-response-timeout");
  CHECK(Fixture::label(f.read_future(sent, f.t.outcome)) == "HTTP-response-timeout");
}
