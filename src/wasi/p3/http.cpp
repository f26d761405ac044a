// wasi:http@0.3.0: types (fields, request, response, request-options),
// client.send over the HTTP/1.1 client, handler.handle imported as the same
// client, and serving a request with a component's exported handler.
//
// A message's body comes from the guest (request.new / response.new: a
// stream, a trailers future, and the future that tells the guest how its
// body went) or from the host (a served request, a client's response: a
// ByteSource and its trailers once it ends). Whoever takes the body next,
// the guest (consume-body) or the network (send, a served response),
// moves it on from there. Host objects are shared: a handle the guest
// drops leaves the object to the host work still using it.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "component/instance.h"
#include "wasi/common/resource_table.h"
#include "wasi/http/client.h"
#include "wasi/http/values.h"
#include "wasi/p3/state.h"

namespace weft::wasi::p3 {

using component::CopyResult;
using component::HostBuffer;
using component::HostPending;
using component::Type;
using http::error_result;
using http::Fields;
using http::HttpError;
using http::method_of;
using http::method_val;
using http::scheme_val;
using http::to_lower;
using http::valid_scheme;

namespace {

constexpr uint32_t kChunk = 64 * 1024;

struct FieldsRes {
  Fields fields;
  bool immutable = false;
};

struct OptionsRes {
  http::ClientTimeouts timeouts;
  bool immutable = false;
};

// How a body went: its trailers, or why it failed; `written` is false
// when the sink failed (then whoever runs the sink knows better why).
struct BodyEnd {
  Fields trailers;
  std::optional<HttpError> error;
  bool written = true;
};
using BodyDone = std::function<void(BodyEnd)>;

// A message's body. It goes with its message's handle, which consume-body,
// send and handle take: it is taken once.
struct Body {
  // From the guest (request.new / response.new).
  std::unique_ptr<HostEnd> contents;  // null: an empty body
  std::unique_ptr<HostEnd> trailers;  // future<result<option<trailers>, error-code>>
  std::unique_ptr<HostEnd> sent;      // future<result<_, error-code>>: how the body went
  // From the host (a served request, a client's response).
  std::shared_ptr<ByteSource> source;
  // Once `source` ended (`read` is how): the trailers, or an error.
  std::function<std::optional<HttpError>(Errno read, Fields& trailers)> end;
  // The consumer's verdict (consume-body's `res`): an error stops the
  // exchange behind the body.
  std::function<void(const std::optional<HttpError>&)> on_verdict;
  bool from_guest() const { return !source; }
};

struct RequestRes {
  std::string method = "GET";
  std::optional<std::string> scheme, authority, path_with_query;
  Fields headers;
  std::optional<http::ClientTimeouts> options;
  std::shared_ptr<Body> body;
};

struct ResponseRes {
  uint16_t status = 200;
  Fields headers;
  std::shared_ptr<Body> body;
};

}  // namespace

struct State::Http {
  common::ResourceTable<std::shared_ptr<FieldsRes>> fields;
  common::ResourceTable<std::shared_ptr<RequestRes>> requests;
  common::ResourceTable<std::shared_ptr<ResponseRes>> responses;
  common::ResourceTable<std::shared_ptr<OptionsRes>> options;
};

namespace {

using Http = State::Http;

uint64_t rep(const Val& v) { return hv::as_uint(v); }

template <class T>
uint32_t add(common::ResourceTable<std::shared_ptr<T>>& table, std::shared_ptr<T> obj) {
  return table.add(std::make_unique<std::shared_ptr<T>>(std::move(obj)));
}

// A new handle (of own type `t`) to fields the guest may only read.
Val immutable_fields(Http& h, const Type* t, Fields f) {
  return hv::scalar(t, add(h.fields, std::make_shared<FieldsRes>(FieldsRes{std::move(f), true})));
}

// A result<_, error-code> value: ok, or err(e).
Val outcome_val(const Type* t, const std::optional<HttpError>& e) {
  return e ? error_result(t, *e) : hv::ok(t);
}

// The error in a result<_, error-code> (none for ok).
std::optional<HttpError> outcome_of(const Val& v) {
  if (v.case_index == 0) return std::nullopt;
  return http::error_code_of(v.items.at(0));
}

// Reads the one value of a guest's future; `got` runs from the scheduler
// with it, or with nothing when the guest dropped its end first.
void read_future(Runtime& rt, State& st, std::unique_ptr<HostEnd> future,
                 std::function<void(std::optional<Val>)> got) {
  auto end = std::shared_ptr<HostEnd>(std::move(future));
  const uint64_t id = st.ops.add(end);
  end->copy(std::make_unique<HostBuffer>(end->element(), 1),
            [&rt, &st, id, got = std::move(got)](CopyResult r, std::unique_ptr<HostBuffer> b) {
              std::optional<Val> v;
              if (r == CopyResult::COMPLETED && b->progress > 0) v = std::move(b->received_values().at(0));
              rt.post([&st, id, got, v = std::move(v)] {
                st.ops.remove(id);
                got(v);
              });
            });
}

// ---- field syntax ----

// list<tuple<field-name, field-value>>
Val fields_list(const Type* t, const Fields& f) {
  const Type* et = hv::element(t);
  std::vector<Val> items;
  for (const auto& [name, value] : f)
    items.push_back(
        hv::tuple(et, {hv::string(hv::tuple_type(et, 0), name), hv::bytes(hv::tuple_type(et, 1), value)}));
  return hv::list(t, std::move(items));
}

std::vector<std::string> values_of(const Fields& f, std::string_view lower_name) {
  std::vector<std::string> out;
  for (const auto& [name, value] : f)
    if (name == lower_name) out.push_back(value);
  return out;
}

Val values_list(const Type* t, const std::vector<std::string>& values) {
  std::vector<Val> items;
  for (const std::string& v : values) items.push_back(hv::bytes(hv::element(t), v));
  return hv::list(t, std::move(items));
}

void erase_field(Fields& f, std::string_view lower_name) {
  std::erase_if(f, [&](const auto& kv) { return kv.first == lower_name; });
}

// Why `name` (and `values`) may not be added: a header-error label, or null.
const char* refusal(std::string_view name, const std::vector<std::string_view>& values = {}) {
  if (!http::valid_field_name(name)) return "invalid-syntax";
  if (!std::all_of(values.begin(), values.end(), http::valid_field_value)) return "invalid-syntax";
  if (http::forbidden_field(to_lower(name))) return "forbidden";
  return nullptr;
}

// ---- URI parts (RFC 3986) ----

bool unreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || (c != '\0' && std::strchr("-._~", c));
}
bool sub_delim(char c) { return c != '\0' && std::strchr("!$&'()*+,;=", c); }

bool valid_method(std::string_view m) { return http::valid_field_name(m); }  // a token

// path-abempty / relative path, then an optional query: pchars, '/', '?',
// and raw UTF-8 (non-ASCII bytes), which clients send and servers take.
bool valid_path_with_query(std::string_view p) {
  return std::all_of(p.begin(), p.end(), [](char c) {
    return unreserved(c) || sub_delim(c) || c == '%' || c == ':' || c == '@' || c == '/' || c == '?' ||
           static_cast<unsigned char>(c) >= 0x80;
  });
}

// [ userinfo "@" ] host [ ":" port ], host a reg-name or an IP-literal.
bool valid_authority(std::string_view a) {
  if (size_t at = a.rfind('@'); at != std::string_view::npos) {
    std::string_view user = a.substr(0, at);
    if (!std::all_of(user.begin(), user.end(),
                     [](char c) { return unreserved(c) || sub_delim(c) || c == '%' || c == ':'; }))
      return false;
    a.remove_prefix(at + 1);
  }
  std::string_view port;
  if (!a.empty() && a[0] == '[') {
    size_t close = a.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    std::string_view ip = a.substr(1, close - 1);
    if (!std::all_of(ip.begin(), ip.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        }))
      return false;
    std::string_view rest = a.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
  } else {
    std::string_view host = a;
    if (size_t colon = a.rfind(':'); colon != std::string_view::npos) {
      host = a.substr(0, colon);
      port = a.substr(colon + 1);
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(),
                                     [](char c) { return unreserved(c) || sub_delim(c) || c == '%'; }))
      return false;
  }
  return std::all_of(port.begin(), port.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// ---- bodies ----

// Writes each chunk to a writable end of the guest's stream (a body the
// guest made and consumes itself).
class EndSink final : public ByteSink {
 public:
  explicit EndSink(std::unique_ptr<HostEnd> to) : to_(std::move(to)) {}
  void write(std::string_view data, std::function<void(Errno)> done) override {
    give(std::make_unique<HostBuffer>(to_->element(), std::string(data)), std::move(done));
  }

 private:
  void give(std::unique_ptr<HostBuffer> b, std::function<void(Errno)> done) {
    to_->copy(std::move(b), [this, done](CopyResult r, std::unique_ptr<HostBuffer> rest) {
      if (r != CopyResult::COMPLETED) return done(Errno::Pipe);
      if (rest->remain() > 0) return give(std::move(rest), done);
      done(Errno::Success);
    });
  }
  std::unique_ptr<HostEnd> to_;
};

// Copies a host source into a sink, a chunk at a time, until the source
// ends or fails (`done(read, Success)`) or the sink fails (`done(Success,
// written)`); `done` runs from the scheduler.
void copy_source(Runtime& rt, std::shared_ptr<ByteSource> source, std::shared_ptr<ByteSink> sink,
                 std::function<void(Errno read, Errno written)> done) {
  source->read(kChunk, [&rt, source, sink, done](Errno e, std::string_view data) {
    if (e != Errno::Success || data.empty()) return rt.post([done, e] { done(e, Errno::Success); });
    auto chunk = std::make_shared<std::string>(data);
    sink->write(*chunk, [&rt, source, sink, done, chunk](Errno w) {
      rt.post([&rt, source, sink, done, w] {
        if (w != Errno::Success) return done(Errno::Success, w);
        copy_source(rt, source, sink, done);
      });
    });
  });
}

// The end of a host body whose source said `read`.
BodyEnd source_end(Body& body, Errno read) {
  BodyEnd end;
  end.error = body.end(read, end.trailers);
  return end;
}

BodyEnd sink_failed() { return {{}, HttpError{"connection-terminated", std::nullopt}, false}; }

// Delivers how the guest's body went to its `sent` future (if it has one
// still).
void report_sent(State& st, Body& body, const std::optional<HttpError>& e) {
  if (!body.sent) return;
  const Type* t = body.sent->element();
  deliver(st, std::move(body.sent), outcome_val(t, e));
}

// Moves a body into `sink`: its contents, then (`done`) its trailers or
// why it failed. Leaves the guest's `sent` future to the caller.
void transmit(Runtime& rt, State& st, Http& h, std::shared_ptr<Body> body, std::shared_ptr<ByteSink> sink,
              BodyDone done) {
  if (!body->from_guest()) {
    return copy_source(rt, body->source, sink, [body, done](Errno read, Errno written) {
      done(written == Errno::Success ? source_end(*body, read) : sink_failed());
    });
  }
  auto after_contents = [&rt, &st, &h, body, done](Errno written) {
    if (written != Errno::Success) return done(sink_failed());
    read_future(rt, st, std::move(body->trailers), [&h, done](std::optional<Val> v) {
      BodyEnd end;
      if (!v) {
        end.error = HttpError{"internal-error", "the trailers future was dropped"};
      } else if (!(end.error = outcome_of(*v))) {
        if (const Val* some = hv::option(v->items.at(0))) end.trailers = (*h.fields.take(rep(*some)))->fields;
      }
      done(std::move(end));
    });
  };
  if (!body->contents) return after_contents(Errno::Success);
  pump_to_sink(rt, st, std::move(body->contents), std::move(sink), after_contents);
}

// consume-body: the body as a stream and a trailers future for the guest;
// `res` (the guest's verdict) goes to whoever made the body.
Val consume(HostCall& c, State& st, Http& h, const std::shared_ptr<Body>& body) {
  Runtime& rt = c.runtime;
  const Type* t = c.result_type();
  auto [stream, writer] = rt.host_stream(hv::tuple_type(t, 0));
  auto [future, promise] = rt.host_stream(hv::tuple_type(t, 1));
  Val result = hv::tuple(t, {std::move(stream), std::move(future)});

  auto trailers_end = std::make_shared<std::unique_ptr<HostEnd>>(std::move(promise));
  BodyDone finished = [&st, &h, trailers_end](BodyEnd end) {
    const Type* ft = (*trailers_end)->element();
    const Type* ot = end.error ? nullptr : hv::ok_type(ft);
    Val v = end.error ? error_result(ft, *end.error)
            : end.trailers.empty()
                ? hv::ok(ft, hv::none(ot))
                : hv::ok(ft, hv::some(ot, immutable_fields(h, hv::element(ot), end.trailers)));
    deliver(st, std::move(*trailers_end), std::move(v));
  };

  auto sent = std::make_shared<std::unique_ptr<HostEnd>>(std::move(body->sent));
  read_future(rt, st, rt.host_readable(c.args[1]), [&st, body, sent](std::optional<Val> v) {
    std::optional<HttpError> verdict = v ? outcome_of(*v) : std::nullopt;
    if (*sent) {
      const Type* ft = (*sent)->element();
      deliver(st, std::move(*sent), outcome_val(ft, verdict));
    }
    if (body->on_verdict) body->on_verdict(verdict);
  });

  if (body->from_guest()) {
    transmit(rt, st, h, body, std::make_shared<EndSink>(std::move(writer)), finished);
  } else {
    pump_from_source(rt, st, std::move(writer), body->source,
                     [body, finished](Errno read) { finished(source_end(*body, read)); });
  }
  return result;
}

// A body the guest made: its contents stream (an option), trailers future,
// and the `sent` future of the tuple `new` returns.
std::shared_ptr<Body> guest_body(HostCall& c, const Val& contents, const Val& trailers, Val& sent_val) {
  auto body = std::make_shared<Body>();
  if (const Val* s = hv::option(contents)) body->contents = c.runtime.host_readable(*s);
  body->trailers = c.runtime.host_readable(trailers);
  auto [future, promise] = c.runtime.host_stream(hv::tuple_type(c.result_type(), 1));
  sent_val = std::move(future);
  body->sent = std::move(promise);
  return body;
}

// ---- types ----

void add_fields(component::HostInterface& types, Http& h) {
  types.resource("fields", [&h](uint32_t r) { h.fields.remove(r); });
  auto get = [&h](const Val& v) -> FieldsRes& { return *h.fields.get(rep(v)); };
  auto m = [](const char* name) { return std::string("[method]fields.") + name; };
  auto header_error = [](HostCall& c, const char* label) {
    const Type* t = c.result_type();
    c.result = hv::err(t, hv::variant(hv::err_type(t), label));
  };

  types.func("[constructor]fields", 0, [&h](HostCall& c) {
    c.result = hv::scalar(c.result_type(), add(h.fields, std::make_shared<FieldsRes>()));
  });
  types.func("[static]fields.from-list", 1, [&h, header_error](HostCall& c) {
    Fields f;
    for (const Val& e : c.args[0].items) {
      std::string_view name = hv::as_string(e.items.at(0)), value = hv::as_bytes(e.items.at(1));
      if (const char* why = refusal(name, {value})) return header_error(c, why);
      f.emplace_back(to_lower(name), std::string(value));
    }
    const Type* t = c.result_type();
    c.result =
        hv::ok(t, hv::scalar(hv::ok_type(t), add(h.fields, std::make_shared<FieldsRes>(FieldsRes{f}))));
  });
  types.func(m("get"), 2, [get](HostCall& c) {
    c.result =
        values_list(c.result_type(), values_of(get(c.args[0]).fields, to_lower(hv::as_string(c.args[1]))));
  });
  types.func(m("has"), 2, [get](HostCall& c) {
    const Fields& f = get(c.args[0]).fields;
    std::string name = to_lower(hv::as_string(c.args[1]));
    c.result = hv::scalar(c.result_type(),
                          std::any_of(f.begin(), f.end(), [&](const auto& kv) { return kv.first == name; }));
  });
  types.func(m("set"), 3, [get, header_error](HostCall& c) {
    FieldsRes& f = get(c.args[0]);
    std::string_view name = hv::as_string(c.args[1]);
    std::vector<std::string_view> values;
    for (const Val& v : c.args[2].items) values.push_back(hv::as_bytes(v));
    if (f.immutable) return header_error(c, "immutable");
    if (const char* why = refusal(name, values)) return header_error(c, why);
    std::string key = to_lower(name);
    erase_field(f.fields, key);
    for (std::string_view v : values) f.fields.emplace_back(key, std::string(v));
    c.result = hv::ok(c.result_type());
  });
  types.func(m("append"), 3, [get, header_error](HostCall& c) {
    FieldsRes& f = get(c.args[0]);
    std::string_view name = hv::as_string(c.args[1]), value = hv::as_bytes(c.args[2]);
    if (f.immutable) return header_error(c, "immutable");
    if (const char* why = refusal(name, {value})) return header_error(c, why);
    f.fields.emplace_back(to_lower(name), std::string(value));
    c.result = hv::ok(c.result_type());
  });
  for (bool give_back : {false, true}) {
    types.func(m(give_back ? "get-and-delete" : "delete"), 2, [get, header_error, give_back](HostCall& c) {
      FieldsRes& f = get(c.args[0]);
      std::string_view name = hv::as_string(c.args[1]);
      if (f.immutable) return header_error(c, "immutable");
      if (const char* why = refusal(name)) return header_error(c, why);
      std::string key = to_lower(name);
      std::vector<std::string> old = values_of(f.fields, key);
      erase_field(f.fields, key);
      const Type* t = c.result_type();
      c.result = give_back ? hv::ok(t, values_list(hv::ok_type(t), old)) : hv::ok(t);
    });
  }
  types.func(m("copy-all"), 1,
             [get](HostCall& c) { c.result = fields_list(c.result_type(), get(c.args[0]).fields); });
  types.func(m("clone"), 1, [&h, get](HostCall& c) {
    c.result = hv::scalar(c.result_type(),
                          add(h.fields, std::make_shared<FieldsRes>(FieldsRes{get(c.args[0]).fields})));
  });
}

// option<duration> of a timeout.
Val timeout_val(const Type* t, const std::optional<uint64_t>& ns) {
  return ns ? hv::some(t, hv::scalar(hv::element(t), *ns)) : hv::none(t);
}

void add_request_options(component::HostInterface& types, Http& h) {
  types.resource("request-options", [&h](uint32_t r) { h.options.remove(r); });
  auto get = [&h](const Val& v) -> OptionsRes& { return *h.options.get(rep(v)); };
  types.func("[constructor]request-options", 0, [&h](HostCall& c) {
    c.result = hv::scalar(c.result_type(), add(h.options, std::make_shared<OptionsRes>()));
  });
  using Member = std::optional<uint64_t> http::ClientTimeouts::*;
  for (auto [name, member] :
       {std::pair<const char*, Member>{"connect-timeout", &http::ClientTimeouts::connect_ns},
        std::pair<const char*, Member>{"first-byte-timeout", &http::ClientTimeouts::first_byte_ns},
        std::pair<const char*, Member>{"between-bytes-timeout", &http::ClientTimeouts::between_bytes_ns}}) {
    types.func(std::string("[method]request-options.get-") + name, 1, [get, member](HostCall& c) {
      c.result = timeout_val(c.result_type(), get(c.args[0]).timeouts.*member);
    });
    types.func(std::string("[method]request-options.set-") + name, 2, [get, member](HostCall& c) {
      OptionsRes& o = get(c.args[0]);
      const Type* t = c.result_type();
      if (o.immutable) {
        c.result = hv::err(t, hv::variant(hv::err_type(t), "immutable"));
        return;
      }
      const Val* ns = hv::option(c.args[1]);
      o.timeouts.*member = ns ? std::optional<uint64_t>(hv::as_uint(*ns)) : std::nullopt;
      c.result = hv::ok(t);
    });
  }
  types.func("[method]request-options.clone", 1, [&h, get](HostCall& c) {
    c.result = hv::scalar(c.result_type(),
                          add(h.options, std::make_shared<OptionsRes>(OptionsRes{get(c.args[0]).timeouts})));
  });
}

Val optional_scheme_val(const Type* t, const std::optional<std::string>& scheme) {
  return scheme ? hv::some(t, scheme_val(hv::element(t), *scheme)) : hv::none(t);
}

Val optional_string(const Type* t, const std::optional<std::string>& s) {
  return s ? hv::some(t, hv::string(hv::element(t), *s)) : hv::none(t);
}

std::shared_ptr<component::HostResource> add_request(component::HostInterface& types, State& st, Http& h) {
  auto resource = types.resource("request", [&h](uint32_t r) { h.requests.remove(r); });
  auto get = [&h](const Val& v) -> RequestRes& { return *h.requests.get(rep(v)); };
  auto m = [](const char* name) { return std::string("[method]request.") + name; };
  auto reply = [](HostCall& c, bool ok) {
    c.result = ok ? hv::ok(c.result_type()) : hv::err(c.result_type());
  };

  types.func("[static]request.new", 4, [&h](HostCall& c) {
    auto req = std::make_shared<RequestRes>();
    req->headers = (*h.fields.take(rep(c.args[0])))->fields;
    if (const Val* o = hv::option(c.args[3])) req->options = (*h.options.take(rep(*o)))->timeouts;
    Val sent;
    req->body = guest_body(c, c.args[1], c.args[2], sent);
    const Type* t = c.result_type();
    c.result = hv::tuple(t, {hv::scalar(hv::tuple_type(t, 0), add(h.requests, req)), std::move(sent)});
  });
  types.func(m("get-method"), 1,
             [get](HostCall& c) { c.result = method_val(c.result_type(), get(c.args[0]).method); });
  types.func(m("set-method"), 2, [get, reply](HostCall& c) {
    std::string method = method_of(c.args[1]);
    bool ok = valid_method(method);
    if (ok) get(c.args[0]).method = std::move(method);
    reply(c, ok);
  });
  types.func(m("get-path-with-query"), 1, [get](HostCall& c) {
    c.result = optional_string(c.result_type(), get(c.args[0]).path_with_query);
  });
  types.func(m("set-path-with-query"), 2, [get, reply](HostCall& c) {
    const Val* p = hv::option(c.args[1]);
    if (p && !valid_path_with_query(hv::as_string(*p))) return reply(c, false);
    std::optional<std::string> path;
    if (p) path = hv::as_string(*p).empty() ? "/" : hv::as_string(*p);
    get(c.args[0]).path_with_query = std::move(path);
    reply(c, true);
  });
  types.func(m("get-scheme"), 1,
             [get](HostCall& c) { c.result = optional_scheme_val(c.result_type(), get(c.args[0]).scheme); });
  types.func(m("set-scheme"), 2, [get, reply](HostCall& c) {
    std::optional<std::string> scheme;
    if (const Val* s = hv::option(c.args[1])) {
      std::string_view label = hv::case_label(*s);
      if (label != "other") {
        scheme = to_lower(label);
      } else {
        const std::string& other = hv::as_string(s->items.at(0));
        if (!valid_scheme(other)) return reply(c, false);
        // Schemes are case-insensitive: "HTTP" is the HTTP case.
        std::string l = to_lower(other);
        scheme = l == "http" || l == "https" ? l : other;
      }
    }
    get(c.args[0]).scheme = std::move(scheme);
    reply(c, true);
  });
  types.func(m("get-authority"), 1,
             [get](HostCall& c) { c.result = optional_string(c.result_type(), get(c.args[0]).authority); });
  types.func(m("set-authority"), 2, [get, reply](HostCall& c) {
    const Val* a = hv::option(c.args[1]);
    if (a && !valid_authority(hv::as_string(*a))) return reply(c, false);
    get(c.args[0]).authority = a ? std::optional<std::string>(hv::as_string(*a)) : std::nullopt;
    reply(c, true);
  });
  types.func(m("get-options"), 1, [&h, get](HostCall& c) {
    const std::optional<http::ClientTimeouts>& o = get(c.args[0]).options;
    const Type* t = c.result_type();
    c.result = o ? hv::some(t, hv::scalar(hv::element(t),
                                          add(h.options, std::make_shared<OptionsRes>(OptionsRes{*o, true}))))
                 : hv::none(t);
  });
  types.func(m("get-headers"), 1, [&h, get](HostCall& c) {
    c.result = immutable_fields(h, c.result_type(), get(c.args[0]).headers);
  });
  types.func("[static]request.consume-body", 2, [&st, &h](HostCall& c) {
    std::shared_ptr<RequestRes> req = *h.requests.take(rep(c.args[0]));
    c.result = consume(c, st, h, req->body);
  });
  return resource;
}

std::shared_ptr<component::HostResource> add_response(component::HostInterface& types, State& st, Http& h) {
  auto resource = types.resource("response", [&h](uint32_t r) { h.responses.remove(r); });
  auto get = [&h](const Val& v) -> ResponseRes& { return *h.responses.get(rep(v)); };
  types.func("[static]response.new", 3, [&h](HostCall& c) {
    auto res = std::make_shared<ResponseRes>();
    res->headers = (*h.fields.take(rep(c.args[0])))->fields;
    Val sent;
    res->body = guest_body(c, c.args[1], c.args[2], sent);
    const Type* t = c.result_type();
    c.result = hv::tuple(t, {hv::scalar(hv::tuple_type(t, 0), add(h.responses, res)), std::move(sent)});
  });
  types.func("[method]response.get-status-code", 1,
             [get](HostCall& c) { c.result = hv::scalar(c.result_type(), get(c.args[0]).status); });
  types.func("[method]response.set-status-code", 2, [get](HostCall& c) {
    uint64_t status = hv::as_uint(c.args[1]);
    bool ok = http::valid_status(status);
    if (ok) get(c.args[0]).status = static_cast<uint16_t>(status);
    c.result = ok ? hv::ok(c.result_type()) : hv::err(c.result_type());
  });
  types.func("[method]response.get-headers", 1, [&h, get](HostCall& c) {
    c.result = immutable_fields(h, c.result_type(), get(c.args[0]).headers);
  });
  types.func("[static]response.consume-body", 2, [&st, &h](HostCall& c) {
    std::shared_ptr<ResponseRes> res = *h.responses.take(rep(c.args[0]));
    c.result = consume(c, st, h, res->body);
  });
  return resource;
}

// ---- client ----

// One outgoing request: the response head and the request body finish in
// either order; the guest's `sent` future is delivered once both are known.
struct Sending {
  std::shared_ptr<http::ClientExchange> exchange;
  std::shared_ptr<HostPending> pending;
  std::shared_ptr<Body> body;
  bool body_done = false, head_done = false;
  bool write_failed = false;  // the connection failed under the body
  std::optional<HttpError> error;
  uint64_t op = 0;
};

// Delivers `sent` once the outcome is known. After the response head the
// exchange is the response body's.
void settle(State& st, Sending& s) {
  if (!s.error && !(s.body_done && s.head_done)) return;
  report_sent(st, *s.body, s.error);
  if (s.head_done) {
    s.exchange.reset();
    st.ops.remove(s.op);
  }
}

// A host body over the client's response.
std::shared_ptr<Body> response_body(const std::shared_ptr<http::ClientExchange>& cx) {
  auto body = std::make_shared<Body>();
  body->source = cx->response_body();
  body->end = [cx](Errno read, Fields& trailers) -> std::optional<HttpError> {
    if (std::optional<HttpError> e = cx->error()) return e;
    if (read != Errno::Success) return HttpError{"HTTP-response-incomplete", std::nullopt};
    trailers = cx->response_trailers();
    return std::nullopt;
  };
  body->on_verdict = [cx](const std::optional<HttpError>& e) {
    if (e) cx->abort();
  };
  return body;
}

void send(HostCall& c, State& st, Http& h) {
  std::shared_ptr<RequestRes> req = *h.requests.take(rep(c.args[0]));
  Runtime& rt = c.runtime;
  const Type* t = c.result_type();
  std::shared_ptr<Body> body = req->body;
  auto refuse = [&](HttpError e) {
    report_sent(st, *body, e);
    c.result = error_result(t, e);
  };
  if (!st.config.http_allowed()) return refuse({"HTTP-request-denied", std::nullopt});
  if (!req->authority) return refuse({"HTTP-request-URI-invalid", std::nullopt});

  http::RequestHead head{req->method, req->scheme.value_or("http"), *req->authority,
                         req->path_with_query.value_or("/"), req->headers};
  auto s = std::make_shared<Sending>();
  s->body = body;
  s->pending = c.defer();
  // Host shutdown or the guest cancelling: the exchange stops.
  auto stop = [weak = std::weak_ptr<Sending>(s)] {
    auto s = weak.lock();
    if (s && s->exchange) std::exchange(s->exchange, nullptr)->abort();
    return s;
  };
  s->op = st.ops.add(s, stop);
  s->pending->on_cancel = [&st, stop] {
    if (std::shared_ptr<Sending> s = stop()) {
      st.ops.remove(s->op);
      if (!s->pending->done()) s->pending->cancel();
    }
  };
  // The request cannot go on: the connection closes, send and `sent`
  // fail (`sent` only, once the response came).
  auto fail = [&st, t, s](const HttpError& e) {
    if (s->exchange) std::exchange(s->exchange, nullptr)->abort();
    s->error = s->error.value_or(e);
    settle(st, *s);
    if (!s->pending->done()) s->pending->resolve(error_result(t, e));
    st.ops.remove(s->op);
  };

  s->exchange = http::ClientExchange::start(
      st.reactor, std::move(head), req->options.value_or(http::ClientTimeouts{}),
      [&rt, &st, &h, t, s, fail](std::optional<HttpError> error) {
        rt.post([&st, &h, t, s, fail, error] {
          if (!s->exchange) return;  // stopped meanwhile
          if (error) return fail(*error);
          std::shared_ptr<http::ClientExchange> cx = s->exchange;
          auto res = std::make_shared<ResponseRes>();
          res->status = cx->response().status;
          res->headers = cx->response().headers;
          res->body = response_body(cx);
          s->head_done = true;
          s->pending->resolve(hv::ok(t, hv::scalar(hv::ok_type(t), add(h.responses, res))));
          // The server answered before taking the whole body.
          if (s->write_failed) s->error = HttpError{"connection-terminated", std::nullopt};
          settle(st, *s);
        });
      });
  transmit(rt, st, h, body, s->exchange->body(), [&st, s, fail](BodyEnd end) {
    if (!s->exchange) return;
    if (!end.written) {
      // The exchange failed: on_response says why, or it came already.
      s->write_failed = true;
      if (s->head_done) {
        s->error = end.error;
        settle(st, *s);
      }
      return;
    }
    if (end.error) return fail(*end.error);
    s->exchange->finish(std::move(end.trailers));
    s->body_done = true;
    settle(st, *s);
  });
}

}  // namespace

void add_http(component::Host& host, State& st) {
  st.http = {new State::Http, [](State::Http* h) { delete h; }};
  Http& h = *st.http;
  auto& types = host.add("wasi:http/types", kVersion);
  add_fields(types, h);
  add_request_options(types, h);
  std::shared_ptr<component::HostResource> request = add_request(types, st, h);
  std::shared_ptr<component::HostResource> response = add_response(types, st, h);
  // client.send and handler.handle (the middleware world imports it): the
  // same function, with the types' resources.
  for (auto [name, func] :
       {std::pair{"wasi:http/client", "send"}, std::pair{"wasi:http/handler", "handle"}}) {
    auto& iface = host.add(name, kVersion);
    iface.use(request);
    iface.use(response);
    iface.func(func, 1, [&st, &h](HostCall& c) { send(c, st, h); });
  }
}

void serve_request(Runtime& rt, State& st, component::ComponentFunc& handle,
                   std::shared_ptr<http::Exchange> exchange) {
  Http& h = *st.http;
  const http::RequestHead& head = exchange->request();
  auto req = std::make_shared<RequestRes>();
  req->method = head.method;
  req->scheme = head.scheme;
  if (!head.authority.empty()) req->authority = head.authority;
  req->path_with_query = head.path_with_query;
  req->headers = head.headers;
  req->body = std::make_shared<Body>();
  req->body->source = exchange->body();
  req->body->end = [exchange](Errno read, Fields& trailers) -> std::optional<HttpError> {
    if (read != Errno::Success) return HttpError{"connection-terminated", std::nullopt};
    trailers = exchange->trailers();
    return std::nullopt;
  };
  const Type* pt = handle.type->fields.at(0).type;
  rt.start_call(handle, {hv::scalar(pt, add(h.requests, req))},
                [&rt, &st, &h, exchange](std::optional<std::vector<Val>> results) {
                  if (!results || results->empty() || results->front().case_index != 0)
                    return exchange->abort(500);
                  std::shared_ptr<ResponseRes> res = *h.responses.take(rep(results->front().items.at(0)));
                  std::shared_ptr<Body> body = res->body;
                  std::shared_ptr<ByteSink> sink = exchange->respond({res->status, res->headers});
                  transmit(rt, st, h, body, sink, [&st, exchange, body](BodyEnd end) {
                    if (end.error) {
                      exchange->abort(500);
                    } else {
                      exchange->finish(std::move(end.trailers));
                    }
                    report_sent(st, *body, end.error);
                  });
                });
}

}  // namespace weft::wasi::p3
