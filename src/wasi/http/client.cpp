#include "wasi/http/client.h"

#include <netdb.h>

#include <cstring>
#include <vector>

#include "wasi/http/connection.h"

namespace weft::wasi::http {

using detail::BodyPipe;

namespace {

HttpError http_error(std::string code, std::optional<std::string> message = std::nullopt) {
  return HttpError{std::move(code), std::move(message)};
}

// What a failed connect means, as an error-code.
HttpError connect_error(int status) {
  switch (status) {
    case UV_ECONNREFUSED:
      return http_error("connection-refused");
    case UV_ETIMEDOUT:
      return http_error("connection-timeout");
    case UV_ENETUNREACH:
    case UV_EHOSTUNREACH:
      return http_error("destination-IP-unroutable");
    default:
      return http_error("internal-error", std::string("connect: ") + uv_strerror(status));
  }
}

// Methods whose requests have no body unless one is given.
bool bodiless(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "DELETE" || method == "OPTIONS" ||
         method == "TRACE";
}

// Splits host[:port] ([v6]:port for IPv6): false when malformed.
bool split_authority(std::string_view authority, std::string& host, std::string& port) {
  std::string_view rest;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    rest = authority.substr(close + 1);
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (host.empty()) return false;
  if (rest.empty()) {
    port = "80";
    return true;
  }
  uint64_t n;
  if (rest[0] != ':' || !detail::parse_length(rest.substr(1), n) || n == 0 || n > 65535) return false;
  port = std::to_string(n);
  return true;
}

}  // namespace

class ClientImpl final : public ClientExchange, public std::enable_shared_from_this<ClientImpl> {
 public:
  ClientImpl(loop::Reactor& reactor, RequestHead head, ClientTimeouts timeouts, OnResponse on_response)
      : reactor_(reactor),
        head_(std::move(head)),
        timeouts_(timeouts),
        on_response_(std::move(on_response)),
        timer_(reactor) {}
  ~ClientImpl() override { stop(); }

  void begin();

  std::shared_ptr<ByteSink> body() override;
  void finish(Fields trailers) override;
  void abort() override {
    stop();
    on_response_ = nullptr;
  }
  const ResponseHead& response() const override { return response_; }
  std::shared_ptr<ByteSource> response_body() override { return body_; }
  const Fields& response_trailers() const override { return trailers_; }
  std::optional<HttpError> error() const override { return error_; }

  void write(std::string_view data, std::function<void(Errno)> done);

 private:
  // The TCP handle lives until libuv has closed it; `owner` is cut first.
  struct Socket {
    uv_tcp_t tcp;
    uv_connect_t connect;
    ClientImpl* owner;
  };
  struct Resolve {
    uv_getaddrinfo_t req;
    std::weak_ptr<ClientImpl> owner;
  };

  void resolved(int status, addrinfo* addrs);
  void connect_next(int last_status);
  void connected();
  void transmit(std::string_view data, std::function<void(Errno)> done);
  void send_end();
  std::string take_head(std::string_view framing);
  void read_response(ssize_t nread, const uv_buf_t* buf);
  void update_reading();
  void arm_read_timer();
  void fail(HttpError e);
  void close_socket();
  void stop();

  static const http_parser_settings settings;
  static ClientImpl* of(http_parser* p) { return static_cast<ClientImpl*>(p->data); }
  int on_message_begin();
  int on_header_field(const char* at, size_t n);
  int on_header_value(const char* at, size_t n);
  int on_headers_complete();
  int on_message_complete();

  loop::Reactor& reactor_;
  RequestHead head_;
  ClientTimeouts timeouts_;
  OnResponse on_response_;
  loop::Timer timer_;
  Resolve* resolve_ = nullptr;
  addrinfo* addrs_ = nullptr;
  addrinfo* next_addr_ = nullptr;
  Socket* sock_ = nullptr;
  bool connected_ = false;
  bool done_ = false;  // failed, aborted, or the response is all in

  // The request.
  std::optional<uint64_t> length_;  // its content-length, if given
  uint64_t sent_ = 0;
  bool head_sent_ = false;
  bool chunked_ = false;
  bool finished_ = false;
  bool end_sent_ = false;
  std::string pending_;  // a body write waiting for the connection
  std::function<void(Errno)> write_done_;
  Fields finish_trailers_;

  // The response.
  http_parser parser_;
  detail::FieldCollector fields_;
  std::vector<char> in_;
  ResponseHead response_;
  Fields trailers_;
  std::shared_ptr<BodyPipe> body_ = std::make_shared<BodyPipe>();
  std::optional<HttpError> error_;
  bool got_byte_ = false;
  bool interim_ = false;  // a 1xx response before the real one
  bool head_received_ = false;
  bool head_reported_ = false;
  bool message_done_ = false;
  bool reading_ = false;
};

class RequestSink final : public ByteSink {
 public:
  explicit RequestSink(std::shared_ptr<ClientImpl> c) : c_(std::move(c)) {}
  void write(std::string_view data, std::function<void(Errno)> done) override {
    c_->write(data, std::move(done));
  }

 private:
  std::shared_ptr<ClientImpl> c_;
};

const http_parser_settings ClientImpl::settings = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = [](http_parser* p) { return of(p)->on_message_begin(); };
  s.on_header_field = [](http_parser* p, const char* at, size_t n) { return of(p)->on_header_field(at, n); };
  s.on_header_value = [](http_parser* p, const char* at, size_t n) { return of(p)->on_header_value(at, n); };
  s.on_headers_complete = [](http_parser* p) { return of(p)->on_headers_complete(); };
  s.on_body = [](http_parser* p, const char* at, size_t n) {
    of(p)->body_->push(at, n);
    return 0;
  };
  s.on_message_complete = [](http_parser* p) { return of(p)->on_message_complete(); };
  return s;
}();

std::shared_ptr<ClientExchange> ClientExchange::start(loop::Reactor& reactor, RequestHead head,
                                                      ClientTimeouts timeouts, OnResponse on_response) {
  auto c = std::make_shared<ClientImpl>(reactor, std::move(head), timeouts, std::move(on_response));
  c->begin();
  return c;
}

void ClientImpl::begin() {
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  body_->on_read = [this] { update_reading(); };
  for (const auto& [name, value] : head_.headers) {
    uint64_t n;
    if (name == "content-length" && detail::parse_length(value, n)) length_ = n;
  }
  // Failures found here are reported from the loop, as all others.
  auto fail_soon = [this](HttpError e) { timer_.start(0, [this, e] { fail(e); }); };
  if (head_.scheme != "http") {
    // No TLS here: the request cannot be made at all, which is this
    // host's limitation rather than anything about the request or the
    // destination, so internal-error says so.
    return fail_soon(http_error("internal-error", "scheme " + head_.scheme + " is not supported (no TLS)"));
  }
  std::string host, port;
  if (!split_authority(head_.authority, host, port)) return fail_soon(http_error("HTTP-request-URI-invalid"));
  if (timeouts_.connect_ns)
    timer_.start(*timeouts_.connect_ns, [this] { fail(http_error("connection-timeout")); });
  resolve_ = new Resolve{{}, weak_from_this()};
  resolve_->req.data = resolve_;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int err = uv_getaddrinfo(
      reactor_.uv(), &resolve_->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        std::unique_ptr<Resolve> r(static_cast<Resolve*>(req->data));
        auto self = r->owner.lock();
        if (!self || self->resolve_ != r.get()) return uv_freeaddrinfo(res);
        self->resolve_ = nullptr;
        self->resolved(status, res);
      },
      host.c_str(), port.c_str(), &hints);
  if (err) {
    delete resolve_;
    resolve_ = nullptr;
    fail_soon(http_error("DNS-error"));
  }
}

void ClientImpl::resolved(int status, addrinfo* addrs) {
  if (status != 0) {
    uv_freeaddrinfo(addrs);
    return fail(http_error("DNS-error"));
  }
  addrs_ = next_addr_ = addrs;
  connect_next(UV_ECONNREFUSED);
}

// Tries the resolved addresses in turn; the last one's failure is the
// exchange's.
void ClientImpl::connect_next(int last_status) {
  if (!next_addr_) return fail(connect_error(last_status));
  addrinfo* a = next_addr_;
  next_addr_ = a->ai_next;
  sock_ = new Socket{{}, {}, this};
  uv_tcp_init(reactor_.uv(), &sock_->tcp);
  sock_->tcp.data = sock_;
  sock_->connect.data = sock_;
  int err = uv_tcp_connect(&sock_->connect, &sock_->tcp, a->ai_addr, [](uv_connect_t* req, int status) {
    auto* s = static_cast<Socket*>(req->data);
    ClientImpl* self = s->owner;
    if (!self) return;
    if (status == 0) return self->connected();
    self->close_socket();
    self->connect_next(status);
  });
  if (err) {
    close_socket();
    connect_next(err);
  }
}

void ClientImpl::connected() {
  connected_ = true;
  uv_freeaddrinfo(addrs_);
  addrs_ = next_addr_ = nullptr;
  timer_.stop();
  uv_tcp_nodelay(&sock_->tcp, 1);
  update_reading();
  if (write_done_) transmit(pending_, std::move(write_done_));
  pending_.clear();
  pending_.shrink_to_fit();
  if (finished_ && !done_) send_end();
}

std::shared_ptr<ByteSink> ClientImpl::body() { return std::make_shared<RequestSink>(shared_from_this()); }

void ClientImpl::write(std::string_view data, std::function<void(Errno)> done) {
  if (done_ || finished_) return done(Errno::Pipe);
  if (length_ && data.size() > *length_ - sent_) {
    fail(http_error("HTTP-request-body-size"));
    return done(Errno::Inval);
  }
  if (data.empty()) return done(Errno::Success);
  sent_ += data.size();
  if (!connected_) {
    // Held until connected: the writer waits for `done` meanwhile.
    pending_.assign(data);
    write_done_ = std::move(done);
    return;
  }
  transmit(data, std::move(done));
}

// The request head with its framing field, the first time only.
std::string ClientImpl::take_head(std::string_view framing) {
  if (head_sent_) return {};
  head_sent_ = true;
  std::string out =
      head_.method + " " + (head_.path_with_query.empty() ? "/" : head_.path_with_query) + " HTTP/1.1\r\n";
  bool has_host = false;
  for (const auto& [name, value] : head_.headers) {
    // The framing is this client's: the caller's own could contradict it.
    if (name == "transfer-encoding" || name == "connection" || name == "keep-alive") continue;
    if (name == "content-length" && !length_) continue;  // not a number: chunked instead
    if (name == "host") has_host = true;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!has_host) out += "host: " + head_.authority + "\r\n";
  out += framing;
  out += "connection: close\r\n\r\n";
  return out;
}

void ClientImpl::transmit(std::string_view data, std::function<void(Errno)> done) {
  chunked_ = chunked_ || (!head_sent_ && !length_);
  std::string head = take_head(chunked_ ? "transfer-encoding: chunked\r\n" : "");
  uv_buf_t bufs[4];
  unsigned n = 0;
  if (!head.empty()) bufs[n++] = detail::buf_of(head);
  char size_line[20];
  if (chunked_) {
    int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
    bufs[n++] = uv_buf_init(size_line, static_cast<unsigned>(len));
  }
  bufs[n++] = detail::buf_of(data);
  if (chunked_) bufs[n++] = detail::buf_of("\r\n");
  write_done_ = std::move(done);
  Socket* s = sock_;
  std::function<void(int)> written = [s](int status) {
    ClientImpl* self = s->owner;
    if (!self) return;  // aborted: no callback runs after it
    auto done = std::move(self->write_done_);
    self->write_done_ = nullptr;
    if (status != 0) {
      if (done) done(Errno::Pipe);
      return self->fail(http_error("connection-terminated"));
    }
    if (done) done(Errno::Success);
  };
  int r = detail::write_or_queue(reinterpret_cast<uv_stream_t*>(&sock_->tcp), bufs, n, written);
  if (r != 1) written(r);
}

void ClientImpl::finish(Fields trailers) {
  if (done_ || finished_) return;
  finished_ = true;
  if (length_ && sent_ != *length_) return fail(http_error("HTTP-request-body-size"));
  finish_trailers_ = std::move(trailers);
  if (connected_) send_end();
}

void ClientImpl::send_end() {
  std::string out;
  if (!head_sent_) {
    if (!length_ && finish_trailers_.empty()) {
      out = take_head(bodiless(head_.method) ? "" : "content-length: 0\r\n");
    } else {
      chunked_ = !length_;
      out = take_head(chunked_ ? "transfer-encoding: chunked\r\n" : "");
    }
  }
  if (chunked_) {
    out += "0\r\n";
    detail::append_fields(out, finish_trailers_);
    out += "\r\n";
  }
  end_sent_ = true;
  if (!out.empty()) {
    uv_buf_t buf = detail::buf_of(out);
    Socket* s = sock_;
    std::function<void(int)> written = [s](int status) {
      if (s->owner && status != 0) s->owner->fail(http_error("connection-terminated"));
    };
    int r = detail::write_or_queue(reinterpret_cast<uv_stream_t*>(&sock_->tcp), &buf, 1, written);
    if (r < 0) return fail(http_error("connection-terminated"));
  }
  arm_read_timer();
}

// first-byte from the request's end until the response starts, then
// between-bytes while the response is read.
void ClientImpl::arm_read_timer() {
  if (done_ || message_done_) return;
  if (!got_byte_) {
    if (!end_sent_ || !timeouts_.first_byte_ns) return;
    if (!connected_) return;
    timer_.start(*timeouts_.first_byte_ns, [this] { fail(http_error("HTTP-response-timeout")); });
    return;
  }
  if (!reading_ || !timeouts_.between_bytes_ns) return timer_.stop();
  timer_.start(*timeouts_.between_bytes_ns, [this] { fail(http_error("connection-read-timeout")); });
}

void ClientImpl::update_reading() {
  if (!connected_ || done_ || !sock_) return;
  bool want = !message_done_ && !body_->full();
  if (want == reading_) return;
  reading_ = want;
  auto* stream = reinterpret_cast<uv_stream_t*>(&sock_->tcp);
  if (!want) {
    uv_read_stop(stream);
    if (got_byte_) timer_.stop();
    return;
  }
  uv_read_start(
      stream,
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* s = static_cast<Socket*>(h->data);
        auto& in = s->owner->in_;
        if (in.empty()) in.resize(64 * 1024);
        *buf = uv_buf_init(in.data(), static_cast<unsigned>(in.size()));
      },
      [](uv_stream_t* st, ssize_t nread, const uv_buf_t* buf) {
        auto* s = static_cast<Socket*>(st->data);
        if (s->owner && nread != 0) s->owner->read_response(nread, buf);
      });
  if (got_byte_) arm_read_timer();
}

void ClientImpl::read_response(ssize_t nread, const uv_buf_t* buf) {
  auto self = shared_from_this();  // a callback below may drop the caller's reference
  if (nread < 0 && nread != UV_EOF) return fail(http_error("connection-terminated"));
  if (nread > 0) {
    got_byte_ = true;
    http_parser_execute(&parser_, &settings, buf->base, static_cast<size_t>(nread));
  } else {
    // The end of a body delimited by the connection's close.
    http_parser_execute(&parser_, &settings, nullptr, 0);
  }
  // The head goes to the caller even when what follows it is broken.
  if (head_received_ && !head_reported_) {
    head_reported_ = true;
    auto cb = std::move(on_response_);
    on_response_ = nullptr;
    if (cb) cb(std::nullopt);
    if (done_) return;
  }
  http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (err != HPE_OK && !message_done_) {
    return fail(
        http_error(err == HPE_INVALID_EOF_STATE ? "HTTP-response-incomplete" : "HTTP-protocol-error"));
  }
  if (nread == UV_EOF && !message_done_) return fail(http_error("HTTP-response-incomplete"));
  if (message_done_) {
    done_ = true;
    timer_.stop();
    close_socket();
  } else {
    update_reading();
    arm_read_timer();
  }
  body_->deliver();
}

int ClientImpl::on_message_begin() {
  response_.headers.clear();
  return 0;
}

int ClientImpl::on_header_field(const char* at, size_t n) {
  fields_.field(head_received_ ? trailers_ : response_.headers, at, n);
  return 0;
}

int ClientImpl::on_header_value(const char* at, size_t n) {
  fields_.value(head_received_ ? trailers_ : response_.headers, at, n);
  return 0;
}

int ClientImpl::on_headers_complete() {
  fields_.done(response_.headers);
  uint16_t status = static_cast<uint16_t>(parser_.status_code);
  interim_ = status / 100 == 1 && status != 101;
  if (interim_) return 0;
  response_.status = status;
  head_received_ = true;
  // A response to HEAD has no body whatever its head says.
  return head_.method == "HEAD" ? 1 : 0;
}

int ClientImpl::on_message_complete() {
  if (interim_) {
    interim_ = false;
    return 0;
  }
  fields_.done(trailers_);
  body_->end();
  message_done_ = true;
  // Bytes after the response are not for anyone.
  http_parser_pause(&parser_, 1);
  return 0;
}

void ClientImpl::fail(HttpError e) {
  if (done_) return;
  auto self = weak_from_this().lock();  // the callbacks below may drop the last outside reference
  stop();
  auto write_done = std::move(write_done_);
  write_done_ = nullptr;
  if (write_done) write_done(Errno::Pipe);
  if (!head_reported_) {
    head_reported_ = true;
    auto cb = std::move(on_response_);
    on_response_ = nullptr;
    if (cb) cb(std::move(e));
    return;
  }
  error_ = std::move(e);
  body_->fail();
  body_->deliver();
}

void ClientImpl::close_socket() {
  if (!sock_) return;
  sock_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&sock_->tcp),
           [](uv_handle_t* h) { delete static_cast<Socket*>(h->data); });
  sock_ = nullptr;
  reading_ = false;
}

// Ends all activity: no libuv callback reaches this object afterwards.
void ClientImpl::stop() {
  done_ = true;
  timer_.stop();
  if (resolve_) {
    // Its callback still runs (canceled) and frees it.
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_->req));
    resolve_ = nullptr;
  }
  if (addrs_) uv_freeaddrinfo(addrs_);
  addrs_ = next_addr_ = nullptr;
  close_socket();
  body_->on_read = nullptr;
}

}  // namespace weft::wasi::http
