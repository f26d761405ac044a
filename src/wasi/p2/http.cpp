// wasi:http 0.2 (types, outgoing-handler) and serving the exported
// incoming-handler: requests, responses and their bodies over the HTTP/1.1
// server and client of wasi/http. Bodies are wasi:io streams: an incoming
// body reads ahead from the exchange's ByteSource, an outgoing body buffers
// what the guest writes (a bounded amount) and hands it to the exchange's
// ByteSink one write at a time, then finishes or aborts the exchange.
#include <algorithm>
#include <charconv>
#include <utility>

#include "wasi/http/client.h"
#include "wasi/http/values.h"
#include "wasi/p2/http_body.h"
#include "wasi/p2/state.h"

namespace weft::wasi::p2 {

using common::ByteSink;
using common::Errno;
using component::Type;
using http::error_result;
using http::Fields;
using http::HttpError;
using http::method_of;
using http::method_val;
using http::scheme_val;
using http::to_lower;
using http::valid_scheme;

// ---- body streams (http_body.h) ----

uint64_t Waiters::add(std::function<void()> wake) {
  list_.emplace_back(++last_, std::move(wake));
  return last_;
}

void Waiters::remove(uint64_t id) {
  std::erase_if(list_, [id](const auto& w) { return w.first == id; });
}

void Waiters::wake() {
  auto woken = std::move(list_);
  list_.clear();
  for (auto& w : woken) w.second();
}

WaitPollable::WaitPollable(std::shared_ptr<void> owner, Waiters& waiters, std::function<bool()> ready)
    : owner_(std::move(owner)), waiters_(waiters), ready_(std::move(ready)) {}

WaitPollable::~WaitPollable() { unwatch(); }

void WaitPollable::watch(std::function<void()> wake) {
  unwatch();
  id_ = waiters_.add(std::move(wake));
}

void WaitPollable::unwatch() {
  if (id_) waiters_.remove(std::exchange(id_, 0));
}

BodyReader::~BodyReader() {
  if (reading_) source_->cancel();
}

StreamStatus BodyReader::read(uint64_t len, std::string& out) {
  if (buffer_.empty()) fill();
  if (!buffer_.empty()) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, buffer_.size()));
    out.append(buffer_, 0, n);
    buffer_.erase(0, n);
    fill();  // the next bytes are on their way while the guest handles these
    return StreamStatus::ok();
  }
  if (error_ != Errno::Success) return StreamStatus::failed(error_);
  return ended_ ? StreamStatus::closed() : StreamStatus::ok();
}

bool BodyReader::readable() {
  fill();
  return !buffer_.empty() || done();
}

void BodyReader::drain() {
  draining_ = true;
  buffer_.clear();
  fill();
}

bool BodyReader::done() const { return ended_ || error_ != Errno::Success; }

std::shared_ptr<Pollable> BodyReader::readiness() {
  auto self = shared_from_this();
  return std::make_shared<WaitPollable>(self, waiters_, [self] { return self->readable(); });
}

std::shared_ptr<Pollable> BodyReader::end() {
  auto self = shared_from_this();
  return std::make_shared<WaitPollable>(self, waiters_, [self] { return self->done(); });
}

// One read at a time; a read that completes at once continues the loop
// here rather than recursing (a drained body may be long).
void BodyReader::fill() {
  if (filling_) return;
  filling_ = true;
  auto self = shared_from_this();  // a wake may drop the guest's last handle
  while (!reading_ && !done() && (buffer_.empty() || draining_)) {
    reading_ = true;
    source_->read(kReadAhead, [weak = weak_from_this()](Errno e, std::string_view data) {
      if (auto r = weak.lock()) r->on_read(e, data);
    });
  }
  filling_ = false;
}

void BodyReader::on_read(Errno e, std::string_view data) {
  auto self = shared_from_this();
  reading_ = false;
  if (e != Errno::Success)
    error_ = e;
  else if (data.empty())
    ended_ = true;
  else if (!draining_)
    buffer_.append(data);
  waiters_.wake();
  if (draining_) fill();
}

BodyWriter::BodyWriter(std::shared_ptr<uint64_t> writes_in_flight)
    : in_flight_(std::move(writes_in_flight)) {}

void BodyWriter::attach(std::shared_ptr<ByteSink> sink) {
  sink_ = std::move(sink);
  push();
}

uint64_t BodyWriter::permitted() const {
  if (error_ != Errno::Success || flushing_) return 0;
  return queue_.size() >= kBuffer ? 0 : kBuffer - queue_.size();
}

void BodyWriter::write(std::string_view data) {
  queue_.append(data);
  push();
}

void BodyWriter::flush() {
  // Before the body has somewhere to go (a response not yet set), what is
  // buffered counts as flushed: waiting could never end.
  if (sink_ && busy()) flushing_ = true;
}

bool BodyWriter::writable() const { return error_ != Errno::Success || permitted() > 0; }

bool BodyWriter::busy() const { return writing_ || !queue_.empty(); }

void BodyWriter::when_drained(std::function<void()> f) {
  if (!busy() || error_ != Errno::Success) return f();
  drained_ = std::move(f);
}

std::shared_ptr<Pollable> BodyWriter::readiness() {
  auto self = shared_from_this();
  return std::make_shared<WaitPollable>(self, waiters_, [self] { return self->writable(); });
}

namespace {
// Counts one write handed to a sink until its `done` ran or was dropped
// unrun (the exchange went away).
struct InFlight {
  explicit InFlight(std::shared_ptr<uint64_t> n) : n(std::move(n)) { ++*this->n; }
  ~InFlight() { --*n; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  std::shared_ptr<uint64_t> n;
};
}  // namespace

void BodyWriter::push() {
  if (!sink_ || writing_ || queue_.empty() || error_ != Errno::Success) return;
  current_ = std::move(queue_);
  queue_.clear();
  writing_ = true;
  sink_->write(current_, [self = shared_from_this(),
                          token = std::make_shared<InFlight>(in_flight_)](Errno e) { self->on_written(e); });
}

void BodyWriter::on_written(Errno e) {
  auto self = shared_from_this();
  writing_ = false;
  current_.clear();
  if (e != Errno::Success) {
    error_ = e;
    queue_.clear();
  }
  push();
  if (!busy()) flushing_ = false;
  waiters_.wake();
  if ((!busy() || error_ != Errno::Success) && drained_) std::exchange(drained_, nullptr)();
}

void OutgoingBody::attach(std::shared_ptr<ByteSink> sink, Target target) {
  target_ = std::move(target);
  writer->attach(std::move(sink));
  settle();
}

void OutgoingBody::finish(Fields trailers) {
  end = End::Finished;
  trailers_ = std::move(trailers);
  settle();
}

void OutgoingBody::broken() {
  end = End::Broken;
  settle();
}

// Hands the body's end to its exchange once it has one: an abort at once,
// a finish once every byte has been written (an abort if a write failed).
void OutgoingBody::settle() {
  if (!target_ || end == End::Open) return;
  if (end == End::Broken) return std::exchange(target_, std::nullopt)->abort();
  writer->when_drained([self = shared_from_this()] {
    if (!self->target_) return;
    Target t = *std::exchange(self->target_, std::nullopt);
    if (self->writer->error() != Errno::Success)
      t.abort();
    else
      t.finish(std::move(self->trailers_));
  });
}

// ---- the bindings ----

namespace {

[[noreturn]] void trap(const std::string& what) { throw engine::Trap(engine::TrapKind::Host, what); }

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && to_lower(a) == to_lower(b);
}

// Fields as the exchanges send them: names in lower case, without those
// only the host may frame (a clone of received fields may have them).
Fields sendable(Fields fields) {
  for (auto& f : fields) f.first = to_lower(f.first);
  std::erase_if(fields, [](const auto& f) { return http::forbidden_field(f.first); });
  return fields;
}

// A fields resource: names as the guest gave them (or as received).
struct FieldsEntry {
  Fields list;
  bool immutable = false;
};

// Where an incoming body comes from: its bytes, its trailers once they
// ended, what went wrong when a read failed, and what keeps the exchange.
struct BodySource {
  std::shared_ptr<BodyReader> reader;
  std::function<Fields()> trailers;
  std::function<HttpError()> error;
};

struct IncomingBody {
  std::shared_ptr<BodySource> source;
  bool stream_taken = false;
  std::weak_ptr<void> stream;  // the input-stream child while the guest has it
};

struct FutureTrailers {
  std::shared_ptr<BodySource> source;
  bool taken = false;
};

struct IncomingRequest {
  std::shared_ptr<http::Exchange> exchange;
  bool consumed = false;
};

struct OutgoingRequest {
  std::string method = "GET";
  std::optional<std::string> path_with_query, scheme, authority;  // scheme: "http", "https" or other
  Fields headers;
  std::shared_ptr<OutgoingBody> body;
  bool body_taken = false;
};

struct OutgoingResponse {
  uint16_t status = 200;
  Fields headers;
  std::shared_ptr<OutgoingBody> body;
  bool body_taken = false;
};

struct RequestOptions {
  http::ClientTimeouts timeouts;
};

// The response of one served request, shared by the response-outparam and
// serve_request (which answers for a guest that never set it).
struct ResponseSlot {
  std::shared_ptr<http::Exchange> exchange;
  bool set = false;
  std::shared_ptr<OutgoingBody> body;  // once set with a response
};

// One outgoing request: its exchange (aborted once nothing refers to it)
// and, for future-incoming-response, how it resolved.
struct ClientHold {
  explicit ClientHold(std::shared_ptr<http::ClientExchange> e) : exchange(std::move(e)) {}
  ~ClientHold() { exchange->abort(); }
  ClientHold(const ClientHold&) = delete;
  ClientHold& operator=(const ClientHold&) = delete;
  std::shared_ptr<http::ClientExchange> exchange;
};

struct ClientCall {
  std::shared_ptr<ClientHold> hold;
  bool resolved = false, taken = false;
  std::optional<HttpError> error;
  Waiters waiters;
  void resolve(std::optional<HttpError> e) {
    if (resolved) return;
    resolved = true;
    error = std::move(e);
    waiters.wake();
  }
};

struct FutureResponse {
  std::shared_ptr<ClientCall> call;
};

struct IncomingResponse {
  std::shared_ptr<ClientHold> hold;
  uint16_t status = 0;
  Fields headers;
  bool consumed = false;
};

// The body stream of an incoming body; `token` tells the body the child is
// alive.
class BodyInputStream final : public InputStream {
 public:
  BodyInputStream(State::Http& h, std::shared_ptr<BodySource> source)
      : h_(h), source_(std::move(source)), token_(std::make_shared<char>()) {}
  StreamStatus read(uint64_t len, std::string& out) override;
  std::shared_ptr<Pollable> readiness() override {
    if (closed_) return std::make_shared<ReadyPollable>();
    return source_->reader->readiness();
  }
  std::weak_ptr<void> token() const { return token_; }

 private:
  State::Http& h_;
  std::shared_ptr<BodySource> source_;
  std::shared_ptr<char> token_;
  bool closed_ = false;
};

// The body stream of an outgoing body: counts what was written against a
// content-length, which it may not exceed.
class BodyOutputStream final : public OutputStream {
 public:
  BodyOutputStream(State::Http& h, std::shared_ptr<OutgoingBody> body)
      : h_(h), body_(std::move(body)), token_(std::make_shared<char>()) {}
  StreamStatus check_write(uint64_t& permitted) override;
  StreamStatus write(std::string_view data) override;
  StreamStatus flush() override;
  std::shared_ptr<Pollable> readiness() override {
    if (closed_) return std::make_shared<ReadyPollable>();
    return body_->writer->readiness();
  }
  std::weak_ptr<void> token() const { return token_; }

 private:
  StreamStatus fail(Errno e, HttpError why);
  State::Http& h_;
  std::shared_ptr<OutgoingBody> body_;
  std::shared_ptr<char> token_;
  uint64_t permit_ = 0;
  bool closed_ = false;
};

}  // namespace

struct State::Http {
  ResourceTable<FieldsEntry> fields;
  ResourceTable<IncomingRequest> incoming_requests;
  ResourceTable<OutgoingRequest> outgoing_requests;
  ResourceTable<RequestOptions> options;
  ResourceTable<std::shared_ptr<ResponseSlot>> outparams;
  ResourceTable<IncomingResponse> incoming_responses;
  ResourceTable<IncomingBody> incoming_bodies;
  ResourceTable<FutureTrailers> future_trailers;
  ResourceTable<OutgoingResponse> outgoing_responses;
  ResourceTable<std::shared_ptr<OutgoingBody>> outgoing_bodies;
  ResourceTable<FutureResponse> future_responses;
  // Body writes handed to the server or client and not yet done (idle()).
  std::shared_ptr<uint64_t> writes_in_flight = std::make_shared<uint64_t>(0);
  // io's error resource carries an errno only: the HTTP error of the
  // latest failed body stream, for http-error-code of an error with its
  // errno (the error a guest asks about is the one it just got).
  std::optional<std::pair<Errno, HttpError>> last_failure;
};

namespace {

StreamStatus BodyInputStream::read(uint64_t len, std::string& out) {
  if (closed_) return StreamStatus::closed();
  StreamStatus s = source_->reader->read(len, out);
  if (s.kind != StreamStatus::Kind::Ok) closed_ = true;
  if (s.kind == StreamStatus::Kind::Failed) h_.last_failure = {s.error, source_->error()};
  return s;
}

StreamStatus BodyOutputStream::fail(Errno e, HttpError why) {
  closed_ = true;
  permit_ = 0;
  h_.last_failure = {e, std::move(why)};
  return StreamStatus::failed(e);
}

HttpError body_size_error(const OutgoingBody& b) {
  return {b.request ? "HTTP-request-body-size" : "HTTP-response-body-size", std::nullopt};
}

StreamStatus BodyOutputStream::check_write(uint64_t& permitted) {
  permitted = 0;
  if (closed_) return StreamStatus::closed();
  if (Errno e = body_->writer->error(); e != Errno::Success) return fail(e, body_->failure());
  permitted = permit_ = body_->writer->permitted();
  return StreamStatus::ok();
}

StreamStatus BodyOutputStream::write(std::string_view data) {
  if (closed_) return StreamStatus::closed();
  if (data.size() > permit_)
    trap("output-stream.write of " + std::to_string(data.size()) +
         " bytes exceeds the check-write permit of " + std::to_string(permit_));
  if (Errno e = body_->writer->error(); e != Errno::Success) return fail(e, body_->failure());
  if (body_->content_length && data.size() > *body_->content_length - body_->written)
    return fail(Errno::FBig, body_size_error(*body_));
  permit_ -= data.size();
  body_->written += data.size();
  body_->writer->write(data);
  return StreamStatus::ok();
}

StreamStatus BodyOutputStream::flush() {
  if (closed_) return StreamStatus::closed();
  if (Errno e = body_->writer->error(); e != Errno::Success) return fail(e, body_->failure());
  body_->writer->flush();
  return StreamStatus::ok();
}

State::Http& http_state(State& st) {
  if (!st.http) trap("wasi:http is not set up in this host");
  return *st.http;
}

uint64_t rep(const Val& v) { return hv::as_uint(v); }
Val own(const Type* t, uint32_t r) { return hv::scalar(t, r); }

// ---- method, scheme, field syntax ----

// Whether `c` is one of `set` (never NUL, unlike strchr).
bool one_of(std::string_view set, char c) { return set.find(c) != std::string_view::npos; }

// The scheme a scheme value names ("http", "https" or other's); empty when
// other's is no valid scheme.
std::string scheme_of(const Val& v) {
  std::string_view label = hv::case_label(v);
  if (label == "HTTP") return "http";
  if (label == "HTTPS") return "https";
  const std::string& s = hv::as_string(v.items.at(0));
  return valid_scheme(s) ? to_lower(s) : "";
}

// An authority as URIs spell it: reg-name or IP literal, optional port
// (userinfo is not for HTTP).
bool valid_authority(std::string_view a) {
  return std::all_of(a.begin(), a.end(), [](char c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
           one_of("-._~!$&'()*+,;=:[]%", c);
  });
}

// An origin-form target: visible ASCII without a fragment.
bool valid_path_with_query(std::string_view p) {
  return std::all_of(p.begin(), p.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '#'; });
}

std::optional<uint64_t> content_length(const Fields& fields) {
  for (const auto& [name, value] : fields) {
    if (!same_name(name, "content-length")) continue;
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec == std::errc() && end == value.data() + value.size()) return n;
  }
  return std::nullopt;
}

// Why a field cannot be set: "" when it can.
const char* field_error(const FieldsEntry& f, std::string_view name,
                        const std::vector<std::string_view>& values) {
  if (f.immutable) return "immutable";
  if (!http::valid_field_name(name)) return "invalid-syntax";
  for (std::string_view v : values)
    if (!http::valid_field_value(v)) return "invalid-syntax";
  if (http::forbidden_field(to_lower(name))) return "forbidden";
  return "";
}

// ---- values ----

Val fields_val(State::Http& h, const Type* t, Fields list, bool immutable) {
  return own(t, h.fields.add(std::make_unique<FieldsEntry>(FieldsEntry{std::move(list), immutable})));
}

Val entries_val(const Type* t, const Fields& list) {
  const Type* tt = hv::element(t);
  std::vector<Val> items;
  items.reserve(list.size());
  for (const auto& [name, value] : list)
    items.push_back(
        hv::tuple(tt, {hv::string(hv::tuple_type(tt, 0), name), hv::bytes(hv::tuple_type(tt, 1), value)}));
  return hv::list(t, std::move(items));
}

Val opt_string(const Type* t, const std::optional<std::string>& s) {
  return s ? hv::some(t, hv::string(hv::element(t), *s)) : hv::none(t);
}

std::optional<std::string> string_of(const Val& v) {
  const Val* s = hv::option(v);
  return s ? std::optional(hv::as_string(*s)) : std::nullopt;
}

// A 0.2 future's get: option<result<result<T, error-code>>>. None until
// `ready`, then once the value `inner_value` makes for the inner result
// type; an error after that.
Val future_get(const Type* t, bool ready, bool& taken, const std::function<Val(const Type*)>& inner_value) {
  if (!ready) return hv::none(t);
  const Type* once = hv::element(t);
  if (std::exchange(taken, true)) return hv::some(t, hv::err(once));
  return hv::some(t, hv::ok(once, inner_value(hv::ok_type(once))));
}

// Sets result<_, header-error> for a fields operation.
void header_result(HostCall& c, const char* error) {
  const Type* t = c.result_type();
  c.result = *error ? hv::err(t, hv::variant(hv::err_type(t), error)) : hv::ok(t);
}

// Sets a plain result (no payloads) from whether it worked.
void unit_result(HostCall& c, bool ok) { c.result = ok ? hv::ok(c.result_type()) : hv::err(c.result_type()); }

std::shared_ptr<OutgoingBody> new_body(State::Http& h, const Fields& headers, bool request) {
  auto b = std::make_shared<OutgoingBody>(h.writes_in_flight, request);
  b->content_length = content_length(headers);
  return b;
}

// The body of a message sent without taking its body: empty. Returns
// whether that suits its content-length.
bool finish_untaken(OutgoingBody& b) {
  if (b.content_length.value_or(0) != 0) {
    b.broken();
    return false;
  }
  b.finish({});
  return true;
}

// A body the guest hands to an exchange: broken (dropped unfinished, or
// without its declared length) or not.
bool ready_to_send(OutgoingBody& b, bool taken) {
  if (!taken) return finish_untaken(b);
  return b.end != OutgoingBody::End::Broken;
}

// ---- wasi:http/types ----

void add_fields(component::HostInterface& iface, State::Http& h) {
  auto entry = [&h](const Val& v) -> FieldsEntry& { return h.fields.get(rep(v)); };
  iface.func("[constructor]fields", 0,
             [&h](HostCall& c) { c.result = fields_val(h, c.result_type(), {}, false); });
  iface.func("[static]fields.from-list", 1, [&h](HostCall& c) {
    const Type* t = c.result_type();
    FieldsEntry f;
    for (const Val& e : c.args[0].items) {
      const std::string& name = hv::as_string(e.items.at(0));
      std::string_view value = hv::as_bytes(e.items.at(1));
      if (const char* error = field_error(f, name, {value}); *error) {
        c.result = hv::err(t, hv::variant(hv::err_type(t), error));
        return;
      }
      f.list.emplace_back(name, value);
    }
    c.result = hv::ok(t, own(hv::ok_type(t), h.fields.add(std::make_unique<FieldsEntry>(std::move(f)))));
  });
  iface.func("[method]fields.get", 2, [entry](HostCall& c) {
    const Type* t = c.result_type();
    std::vector<Val> values;
    for (const auto& [name, value] : entry(c.args[0]).list)
      if (same_name(name, hv::as_string(c.args[1]))) values.push_back(hv::bytes(hv::element(t), value));
    c.result = hv::list(t, std::move(values));
  });
  iface.func("[method]fields.has", 2, [entry](HostCall& c) {
    const Fields& list = entry(c.args[0]).list;
    const std::string& name = hv::as_string(c.args[1]);
    bool has = std::any_of(list.begin(), list.end(), [&](const auto& f) { return same_name(f.first, name); });
    c.result = hv::scalar(c.result_type(), has);
  });
  iface.func("[method]fields.set", 3, [entry](HostCall& c) {
    FieldsEntry& f = entry(c.args[0]);
    const std::string& name = hv::as_string(c.args[1]);
    std::vector<std::string_view> values;
    for (const Val& v : c.args[2].items) values.push_back(hv::as_bytes(v));
    const char* error = field_error(f, name, values);
    if (!*error) {
      std::erase_if(f.list, [&](const auto& e) { return same_name(e.first, name); });
      for (std::string_view v : values) f.list.emplace_back(name, v);
    }
    header_result(c, error);
  });
  iface.func("[method]fields.delete", 2, [entry](HostCall& c) {
    FieldsEntry& f = entry(c.args[0]);
    const std::string& name = hv::as_string(c.args[1]);
    const char* error = f.immutable ? "immutable" : http::valid_field_name(name) ? "" : "invalid-syntax";
    if (!*error) std::erase_if(f.list, [&](const auto& e) { return same_name(e.first, name); });
    header_result(c, error);
  });
  iface.func("[method]fields.append", 3, [entry](HostCall& c) {
    FieldsEntry& f = entry(c.args[0]);
    const std::string& name = hv::as_string(c.args[1]);
    std::string_view value = hv::as_bytes(c.args[2]);
    const char* error = field_error(f, name, {value});
    if (!*error) f.list.emplace_back(name, value);
    header_result(c, error);
  });
  iface.func("[method]fields.entries", 1,
             [entry](HostCall& c) { c.result = entries_val(c.result_type(), entry(c.args[0]).list); });
  iface.func("[method]fields.clone", 1, [&h, entry](HostCall& c) {
    c.result = fields_val(h, c.result_type(), entry(c.args[0]).list, false);
  });
}

// incoming-body, future-trailers: shared by requests and responses.
void add_incoming_body(component::HostInterface& iface, State& st, State::Http& h) {
  iface.func("[method]incoming-body.stream", 1, [&st, &h](HostCall& c) {
    IncomingBody& b = h.incoming_bodies.get(rep(c.args[0]));
    const Type* t = c.result_type();
    if (b.stream_taken) {
      c.result = hv::err(t);
      return;
    }
    b.stream_taken = true;
    auto s = std::make_unique<BodyInputStream>(h, b.source);
    b.stream = s->token();
    c.result = hv::ok(t, own(hv::ok_type(t), st.input_streams.add(std::move(s))));
  });
  iface.func("[static]incoming-body.finish", 1, [&h](HostCall& c) {
    std::unique_ptr<IncomingBody> b = h.incoming_bodies.take(rep(c.args[0]));
    if (!b->stream.expired()) trap("incoming-body.finish: its input-stream has not been dropped");
    b->source->reader->drain();
    c.result = own(c.result_type(),
                   h.future_trailers.add(std::make_unique<FutureTrailers>(FutureTrailers{b->source})));
  });
  iface.func("[method]future-trailers.subscribe", 1, [&st, &h](HostCall& c) {
    FutureTrailers& f = h.future_trailers.get(rep(c.args[0]));
    c.result = new_pollable(st, c.result_type(), f.source->reader->end());
  });
  // option<result<result<option<trailers>, error-code>>>
  iface.func("[method]future-trailers.get", 1, [&h](HostCall& c) {
    FutureTrailers& f = h.future_trailers.get(rep(c.args[0]));
    BodyReader& r = *f.source->reader;
    c.result = future_get(c.result_type(), r.done(), f.taken, [&](const Type* inner) {
      if (r.error() != Errno::Success) return error_result(inner, f.source->error());
      const Type* opt = hv::ok_type(inner);
      Fields trailers = f.source->trailers();
      return hv::ok(inner, trailers.empty()
                               ? hv::none(opt)
                               : hv::some(opt, fields_val(h, hv::element(opt), std::move(trailers), true)));
    });
  });
}

void add_incoming_request(component::HostInterface& iface, State::Http& h) {
  auto request = [&h](const Val& v) -> const http::RequestHead& {
    return h.incoming_requests.get(rep(v)).exchange->request();
  };
  iface.func("[method]incoming-request.method", 1,
             [request](HostCall& c) { c.result = method_val(c.result_type(), request(c.args[0]).method); });
  iface.func("[method]incoming-request.path-with-query", 1, [request](HostCall& c) {
    c.result = opt_string(c.result_type(), request(c.args[0]).path_with_query);
  });
  iface.func("[method]incoming-request.scheme", 1, [request](HostCall& c) {
    const Type* t = c.result_type();
    c.result = hv::some(t, scheme_val(hv::element(t), request(c.args[0]).scheme));
  });
  iface.func("[method]incoming-request.authority", 1, [request](HostCall& c) {
    const std::string& a = request(c.args[0]).authority;
    c.result = opt_string(c.result_type(), a.empty() ? std::nullopt : std::optional(a));
  });
  iface.func("[method]incoming-request.headers", 1, [&h, request](HostCall& c) {
    c.result = fields_val(h, c.result_type(), request(c.args[0]).headers, true);
  });
  iface.func("[method]incoming-request.consume", 1, [&h](HostCall& c) {
    IncomingRequest& r = h.incoming_requests.get(rep(c.args[0]));
    const Type* t = c.result_type();
    if (std::exchange(r.consumed, true)) {
      c.result = hv::err(t);
      return;
    }
    auto ex = r.exchange;
    auto source = std::make_shared<BodySource>(
        BodySource{std::make_shared<BodyReader>(ex->body()), [ex] { return ex->trailers(); },
                   // The server fails a read when the client sent a malformed or
                   // truncated body, or went away.
                   [] {
                     return HttpError{"connection-terminated", std::nullopt};
                   }});
    c.result = hv::ok(
        t, own(hv::ok_type(t),
               h.incoming_bodies.add(std::make_unique<IncomingBody>(IncomingBody{std::move(source)}))));
  });
}

// An outgoing message's body(): result<outgoing-body>, once.
Val take_body(State::Http& h, const Type* t, bool& taken, const std::shared_ptr<OutgoingBody>& body) {
  if (std::exchange(taken, true)) return hv::err(t);
  auto b = std::make_unique<std::shared_ptr<OutgoingBody>>(body);
  return hv::ok(t, own(hv::ok_type(t), h.outgoing_bodies.add(std::move(b))));
}

void add_outgoing_request(component::HostInterface& iface, State::Http& h) {
  auto request = [&h](const Val& v) -> OutgoingRequest& { return h.outgoing_requests.get(rep(v)); };
  iface.func("[constructor]outgoing-request", 1, [&h](HostCall& c) {
    auto r = std::make_unique<OutgoingRequest>();
    r->headers = h.fields.take(rep(c.args[0]))->list;
    r->body = new_body(h, r->headers, true);
    c.result = own(c.result_type(), h.outgoing_requests.add(std::move(r)));
  });
  iface.func("[method]outgoing-request.body", 1, [&h, request](HostCall& c) {
    OutgoingRequest& r = request(c.args[0]);
    c.result = take_body(h, c.result_type(), r.body_taken, r.body);
  });
  iface.func("[method]outgoing-request.method", 1,
             [request](HostCall& c) { c.result = method_val(c.result_type(), request(c.args[0]).method); });
  iface.func("[method]outgoing-request.set-method", 2, [request](HostCall& c) {
    std::string m = method_of(c.args[1]);
    bool ok = http::valid_field_name(m);  // a method is a token (RFC 9110 9.1)
    if (ok) request(c.args[0]).method = m;
    unit_result(c, ok);
  });
  iface.func("[method]outgoing-request.path-with-query", 1, [request](HostCall& c) {
    c.result = opt_string(c.result_type(), request(c.args[0]).path_with_query);
  });
  iface.func("[method]outgoing-request.set-path-with-query", 2, [request](HostCall& c) {
    std::optional<std::string> p = string_of(c.args[1]);
    bool ok = !p || valid_path_with_query(*p);
    if (ok) request(c.args[0]).path_with_query = std::move(p);
    unit_result(c, ok);
  });
  iface.func("[method]outgoing-request.scheme", 1, [request](HostCall& c) {
    const Type* t = c.result_type();
    const std::optional<std::string>& s = request(c.args[0]).scheme;
    c.result = s ? hv::some(t, scheme_val(hv::element(t), *s)) : hv::none(t);
  });
  iface.func("[method]outgoing-request.set-scheme", 2, [request](HostCall& c) {
    std::optional<std::string> s;
    if (const Val* v = hv::option(c.args[1])) s = scheme_of(*v);
    bool ok = !s || !s->empty();
    if (ok) request(c.args[0]).scheme = std::move(s);
    unit_result(c, ok);
  });
  iface.func("[method]outgoing-request.authority", 1, [request](HostCall& c) {
    c.result = opt_string(c.result_type(), request(c.args[0]).authority);
  });
  iface.func("[method]outgoing-request.set-authority", 2, [request](HostCall& c) {
    std::optional<std::string> a = string_of(c.args[1]);
    bool ok = !a || valid_authority(*a);
    if (ok) request(c.args[0]).authority = std::move(a);
    unit_result(c, ok);
  });
  iface.func("[method]outgoing-request.headers", 1, [&h, request](HostCall& c) {
    c.result = fields_val(h, c.result_type(), request(c.args[0]).headers, true);
  });
}

void add_request_options(component::HostInterface& iface, State::Http& h) {
  iface.func("[constructor]request-options", 0, [&h](HostCall& c) {
    c.result = own(c.result_type(), h.options.add(std::make_unique<RequestOptions>()));
  });
  using Timeout = std::optional<uint64_t> http::ClientTimeouts::*;
  for (auto [name, member] :
       {std::pair<const char*, Timeout>{"connect-timeout", &http::ClientTimeouts::connect_ns},
        {"first-byte-timeout", &http::ClientTimeouts::first_byte_ns},
        {"between-bytes-timeout", &http::ClientTimeouts::between_bytes_ns}}) {
    iface.func(std::string("[method]request-options.") + name, 1, [&h, member](HostCall& c) {
      const Type* t = c.result_type();
      const std::optional<uint64_t>& d = h.options.get(rep(c.args[0])).timeouts.*member;
      c.result = d ? hv::some(t, hv::scalar(hv::element(t), *d)) : hv::none(t);
    });
    iface.func(std::string("[method]request-options.set-") + name, 2, [&h, member](HostCall& c) {
      const Val* d = hv::option(c.args[1]);
      h.options.get(rep(c.args[0])).timeouts.*member = d ? std::optional(hv::as_uint(*d)) : std::nullopt;
      unit_result(c, true);
    });
  }
}

void add_outgoing_response(component::HostInterface& iface, State::Http& h) {
  auto response = [&h](const Val& v) -> OutgoingResponse& { return h.outgoing_responses.get(rep(v)); };
  iface.func("[constructor]outgoing-response", 1, [&h](HostCall& c) {
    auto r = std::make_unique<OutgoingResponse>();
    r->headers = h.fields.take(rep(c.args[0]))->list;
    r->body = new_body(h, r->headers, false);
    c.result = own(c.result_type(), h.outgoing_responses.add(std::move(r)));
  });
  iface.func("[method]outgoing-response.status-code", 1,
             [response](HostCall& c) { c.result = hv::scalar(c.result_type(), response(c.args[0]).status); });
  iface.func("[method]outgoing-response.set-status-code", 2, [response](HostCall& c) {
    uint64_t s = hv::as_uint(c.args[1]);
    bool ok = http::valid_status(s);
    if (ok) response(c.args[0]).status = static_cast<uint16_t>(s);
    unit_result(c, ok);
  });
  iface.func("[method]outgoing-response.headers", 1, [&h, response](HostCall& c) {
    c.result = fields_val(h, c.result_type(), response(c.args[0]).headers, true);
  });
  iface.func("[method]outgoing-response.body", 1, [&h, response](HostCall& c) {
    OutgoingResponse& r = response(c.args[0]);
    c.result = take_body(h, c.result_type(), r.body_taken, r.body);
  });
}

void add_outgoing_body(component::HostInterface& iface, State& st, State::Http& h) {
  iface.func("[method]outgoing-body.write", 1, [&st, &h](HostCall& c) {
    OutgoingBody& b = *h.outgoing_bodies.get(rep(c.args[0]));
    const Type* t = c.result_type();
    if (std::exchange(b.stream_taken, true)) {
      c.result = hv::err(t);
      return;
    }
    auto s = std::make_unique<BodyOutputStream>(h, b.shared_from_this());
    b.stream = s->token();
    c.result = hv::ok(t, own(hv::ok_type(t), st.output_streams.add(std::move(s))));
  });
  iface.func("[static]outgoing-body.finish", 2, [&h](HostCall& c) {
    std::shared_ptr<OutgoingBody> b = std::move(*h.outgoing_bodies.take(rep(c.args[0])));
    if (!b->stream.expired()) trap("outgoing-body.finish: its output-stream has not been dropped");
    Fields trailers;
    if (const Val* t = hv::option(c.args[1])) trailers = sendable(h.fields.take(rep(*t))->list);
    if (b->content_length && *b->content_length != b->written) {
      b->broken();
      c.result = error_result(c.result_type(), body_size_error(*b));
      return;
    }
    b->finish(std::move(trailers));
    c.result = hv::ok(c.result_type());
  });
}

// future-incoming-response and incoming-response (outgoing-handler's side).
void add_client_response(component::HostInterface& iface, State& st, State::Http& h) {
  iface.func("[method]future-incoming-response.subscribe", 1, [&st, &h](HostCall& c) {
    std::shared_ptr<ClientCall> call = h.future_responses.get(rep(c.args[0])).call;
    auto p = std::make_shared<WaitPollable>(call, call->waiters, [call] { return call->resolved; });
    c.result = new_pollable(st, c.result_type(), std::move(p));
  });
  // option<result<result<incoming-response, error-code>>>
  iface.func("[method]future-incoming-response.get", 1, [&h](HostCall& c) {
    ClientCall& call = *h.future_responses.get(rep(c.args[0])).call;
    c.result = future_get(c.result_type(), call.resolved, call.taken, [&](const Type* inner) {
      if (call.error) return error_result(inner, *call.error);
      const http::ResponseHead& head = call.hold->exchange->response();
      auto r = std::make_unique<IncomingResponse>(IncomingResponse{call.hold, head.status, head.headers});
      return hv::ok(inner, own(hv::ok_type(inner), h.incoming_responses.add(std::move(r))));
    });
  });
  auto response = [&h](const Val& v) -> IncomingResponse& { return h.incoming_responses.get(rep(v)); };
  iface.func("[method]incoming-response.status", 1,
             [response](HostCall& c) { c.result = hv::scalar(c.result_type(), response(c.args[0]).status); });
  iface.func("[method]incoming-response.headers", 1, [&h, response](HostCall& c) {
    c.result = fields_val(h, c.result_type(), response(c.args[0]).headers, true);
  });
  iface.func("[method]incoming-response.consume", 1, [&h, response](HostCall& c) {
    IncomingResponse& r = response(c.args[0]);
    const Type* t = c.result_type();
    if (std::exchange(r.consumed, true)) {
      c.result = hv::err(t);
      return;
    }
    auto hold = r.hold;
    auto source = std::make_shared<BodySource>(BodySource{
        std::make_shared<BodyReader>(hold->exchange->response_body()),
        [hold] { return hold->exchange->response_trailers(); },
        [hold] {
          return hold->exchange->error().value_or(HttpError{"HTTP-response-incomplete", std::nullopt});
        }});
    c.result = hv::ok(
        t, own(hv::ok_type(t),
               h.incoming_bodies.add(std::make_unique<IncomingBody>(IncomingBody{std::move(source)}))));
  });
}

// response-outparam.set: the response goes out (its body as the guest
// writes it), or the client gets a 500.
void set_response(State::Http& h, ResponseSlot& slot, const Val& response) {
  slot.set = true;
  if (response.case_index != 0) {
    slot.exchange->abort(500);
    return;
  }
  std::unique_ptr<OutgoingResponse> r = h.outgoing_responses.take(rep(response.items.at(0)));
  if (!ready_to_send(*r->body, r->body_taken)) {
    slot.exchange->abort(500);
    return;
  }
  slot.body = r->body;
  auto ex = slot.exchange;
  std::shared_ptr<ByteSink> sink = ex->respond({r->status, sendable(std::move(r->headers))});
  slot.body->attach(std::move(sink),
                    {[ex](Fields t) { ex->finish(std::move(t)); }, [ex] { ex->abort(500); }});
}

// Registers wasi:http/types; returns the resources outgoing-handler uses.
std::vector<std::shared_ptr<component::HostResource>> add_types(component::Host& host, State& st,
                                                                State::Http& h) {
  auto& iface = host.add("wasi:http/types", kVersion);
  iface.use(st.error_resource);
  iface.use(st.pollable_resource);
  iface.use(st.input_stream_resource);
  iface.use(st.output_stream_resource);
  iface.resource("fields", [&h](uint32_t r) { h.fields.remove(r); });
  iface.resource("incoming-request", [&h](uint32_t r) { h.incoming_requests.remove(r); });
  auto outgoing_request =
      iface.resource("outgoing-request", [&h](uint32_t r) { h.outgoing_requests.remove(r); });
  auto request_options = iface.resource("request-options", [&h](uint32_t r) { h.options.remove(r); });
  iface.resource("response-outparam", [&h](uint32_t r) { h.outparams.remove(r); });
  iface.resource("incoming-response", [&h](uint32_t r) { h.incoming_responses.remove(r); });
  iface.resource("incoming-body", [&h](uint32_t r) { h.incoming_bodies.remove(r); });
  iface.resource("future-trailers", [&h](uint32_t r) { h.future_trailers.remove(r); });
  iface.resource("outgoing-response", [&h](uint32_t r) { h.outgoing_responses.remove(r); });
  // Dropped rather than finished: the body is incomplete (types.wit).
  iface.resource("outgoing-body", [&h](uint32_t r) {
    std::shared_ptr<OutgoingBody> b = std::move(*h.outgoing_bodies.take(r));
    if (!b->stream.expired()) trap("outgoing-body dropped before its output-stream");
    b->broken();
  });
  auto future_response =
      iface.resource("future-incoming-response", [&h](uint32_t r) { h.future_responses.remove(r); });

  iface.func("http-error-code", 1, [&st, &h](HostCall& c) {
    const IoError& e = st.errors.get(rep(c.args[0]));
    const Type* t = c.result_type();
    c.result = h.last_failure && h.last_failure->first == e.code
                   ? hv::some(t, http::error_code_val(hv::element(t), h.last_failure->second))
                   : hv::none(t);
  });
  add_fields(iface, h);
  add_incoming_request(iface, h);
  add_outgoing_request(iface, h);
  add_request_options(iface, h);
  iface.func("[static]response-outparam.set", 2, [&h](HostCall& c) {
    std::shared_ptr<ResponseSlot> slot = std::move(*h.outparams.take(rep(c.args[0])));
    set_response(h, *slot, c.args[1]);
  });
  add_client_response(iface, st, h);
  add_incoming_body(iface, st, h);
  add_outgoing_response(iface, h);
  add_outgoing_body(iface, st, h);
  return {outgoing_request, request_options, future_response};
}

// outgoing-handler.handle: result<future-incoming-response, error-code>.
void handle_outgoing(State& st, State::Http& h, HostCall& c) {
  std::unique_ptr<OutgoingRequest> r = h.outgoing_requests.take(rep(c.args[0]));
  http::ClientTimeouts timeouts;
  if (const Val* o = hv::option(c.args[1])) timeouts = h.options.take(rep(*o))->timeouts;
  const Type* t = c.result_type();
  auto refuse = [&](const char* code, std::optional<std::string> message = std::nullopt) {
    c.result = error_result(t, {code, std::move(message)});
  };
  if (!st.config.http_allowed()) return refuse("HTTP-request-denied");
  std::string scheme = r->scheme.value_or("http");
  if (scheme != "http" && scheme != "https") return refuse("HTTP-protocol-error");
  if (!r->authority || r->authority->empty()) return refuse("HTTP-request-URI-invalid");
  if (!ready_to_send(*r->body, r->body_taken))
    return refuse("internal-error",
                  "the request's outgoing-body was dropped unfinished or mismatches its "
                  "content-length");

  http::RequestHead head{r->method, scheme, *r->authority, r->path_with_query.value_or("/"),
                         sendable(std::move(r->headers))};
  if (head.path_with_query.empty() || head.path_with_query[0] != '/')
    head.path_with_query.insert(head.path_with_query.begin(), '/');
  auto call = std::make_shared<ClientCall>();
  auto ex = http::ClientExchange::start(st.reactor, std::move(head), timeouts,
                                        [weak = std::weak_ptr<ClientCall>(call)](std::optional<HttpError> e) {
                                          if (auto call = weak.lock()) call->resolve(std::move(e));
                                        });
  call->hold = std::make_shared<ClientHold>(ex);
  // A request body the guest gives up on ends the exchange; a response
  // still awaited then never comes.
  auto hold = call->hold;
  r->body->attach(ex->body(), {[hold](Fields trailers) { hold->exchange->finish(std::move(trailers)); },
                               [hold, weak = std::weak_ptr<ClientCall>(call)] {
                                 hold->exchange->abort();
                                 if (auto call = weak.lock())
                                   call->resolve(HttpError{"HTTP-request-body-size", std::nullopt});
                               }});
  uint32_t f = h.future_responses.add(std::make_unique<FutureResponse>(FutureResponse{std::move(call)}));
  c.result = hv::ok(t, own(hv::ok_type(t), f));
}

}  // namespace

void add_http(component::Host& host, State& st) {
  st.http = {new State::Http, [](State::Http* h) { delete h; }};
  State::Http& h = *st.http;
  auto used = add_types(host, st, h);
  auto& handler = host.add("wasi:http/outgoing-handler", kVersion);
  for (auto& r : used) handler.use(r);
  handler.func("handle", 2, [&st, &h](HostCall& c) { handle_outgoing(st, h, c); });
}

namespace {

// After the handler: its instance never runs again, so a response it did
// not set is a 500 and a body it neither finished nor dropped is
// incomplete. A finished body may still be going out.
void abandon(ResponseSlot& slot) {
  if (!slot.set) slot.exchange->abort(500);
  if (slot.body && slot.body->end == OutgoingBody::End::Open) slot.body->broken();
}

}  // namespace

bool http_idle(const State& st) { return !st.http || *st.http->writes_in_flight == 0; }

void serve_request(component::Runtime& rt, State& st, component::ComponentFunc& handle,
                   std::shared_ptr<http::Exchange> exchange) {
  State::Http& h = http_state(st);
  const Type* ft = handle.type;
  if (ft->fields.size() != 2) trap("incoming-handler.handle does not take (request, response-out)");
  auto slot = std::make_shared<ResponseSlot>(ResponseSlot{exchange});
  uint32_t request = h.incoming_requests.add(std::make_unique<IncomingRequest>(IncomingRequest{exchange}));
  uint32_t out = h.outparams.add(std::make_unique<std::shared_ptr<ResponseSlot>>(slot));
  std::vector<Val> args{own(ft->fields[0].type, request), own(ft->fields[1].type, out)};
  try {
    rt.call(handle, args);
  } catch (const engine::Trap&) {
    abandon(*slot);
    throw;
  }
  abandon(*slot);
}

}  // namespace weft::wasi::p2
