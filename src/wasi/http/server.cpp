#include "wasi/http/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <list>
#include <vector>

#include "base/error.h"
#include "wasi/http/connection.h"

namespace weft::wasi::http {

using detail::BodyPipe;

namespace {

// How long a closing connection keeps reading (and dropping) what the
// client still sends, so that its last response is not lost to a reset.
constexpr uint64_t kLingerMs = 1000;

std::string status_line(uint16_t status) {
  const char* reason = http_status_str(static_cast<http_status>(status));
  std::string line = "HTTP/1.1 " + std::to_string(status) + " ";
  if (std::strcmp(reason, "<unknown>") != 0) line += reason;
  line += "\r\n";
  return line;
}

void log_exchange(std::string_view method, std::string_view target, uint16_t status, uint64_t bytes,
                  uint64_t start_ns) {
  double ms = static_cast<double>(uv_hrtime() - start_ns) / 1e6;
  spdlog::info("{} {} {} {}B {:.1f}ms", method, target, status, bytes, ms);
}

}  // namespace

class Connection;

// One request and its response; the connection's link to it is `conn`,
// cut when the connection lets go of it (finished, or the client gone).
class ExchangeImpl final : public Exchange, public std::enable_shared_from_this<ExchangeImpl> {
 public:
  enum class Framing { None, Length, Chunked, Close };

  const RequestHead& request() const override { return head; }
  std::shared_ptr<ByteSource> body() override { return body_pipe; }
  const Fields& trailers() const override { return request_trailers; }
  std::shared_ptr<ByteSink> respond(ResponseHead response) override;
  void finish(Fields trailers) override;
  void abort(uint16_t status) override;

  void write(std::string_view data, std::function<void(Errno)> done);
  // The response head, complete, the first time; then nothing.
  std::string take_head();
  // Nothing of the response has gone out yet.
  bool unsent() const { return !responded || head_pending; }

  Connection* conn = nullptr;
  RequestHead head;
  Fields request_trailers;
  std::shared_ptr<BodyPipe> body_pipe = std::make_shared<BodyPipe>();
  bool keep_alive = true;
  bool http10 = false;
  bool head_method = false;
  bool expect_continue = false;
  bool continue_sent = false;
  bool dispatched = false;
  uint64_t start_ns = 0;

  bool responded = false;
  bool finished = false;
  uint16_t status = 0;
  Framing framing = Framing::None;
  std::string out_head;  // the response head, until it goes out with the first bytes
  bool head_pending = false;
  uint64_t length = 0;  // with Framing::Length
  uint64_t sent = 0;    // body bytes taken from the handler
};

class ResponseSink final : public ByteSink {
 public:
  explicit ResponseSink(std::shared_ptr<ExchangeImpl> ex) : ex_(std::move(ex)) {}
  void write(std::string_view data, std::function<void(Errno)> done) override {
    ex_->write(data, std::move(done));
  }

 private:
  std::shared_ptr<ExchangeImpl> ex_;
};

// The server's state; Server::Impl is this under the name the header
// declares (private there, so connections use this one).
class ServerState {
 public:
  using Handler = Server::Handler;
  ServerState(loop::Reactor& r, ServerLimits l, Handler h) : reactor(r), limits(l), handler(std::move(h)) {}
  ~ServerState();

  void on_connection();
  void sweep();
  // Dispatches waiting requests while in-flight slots are free.
  void wake();
  void forget(Connection* c);

  struct Listener {
    uv_tcp_t uv;
    ServerState* owner;
  };
  struct Sweeper {
    uv_timer_t uv;
    ServerState* owner;
  };

  loop::Reactor& reactor;
  ServerLimits limits;
  Handler handler;
  Listener* listener = nullptr;
  Sweeper* sweeper = nullptr;
  std::list<Connection*> conns;
  std::deque<Connection*> waiting;
  uint32_t in_flight = 0;
  bool stopping = false;
  bool waking = false;
};

// A client's TCP connection: reads and parses requests one at a time,
// writes their responses. Lives until libuv has closed its handle; the
// server forgets it when it starts closing.
class Connection {
 public:
  explicit Connection(ServerState* s);

  void start();
  void pump();
  // Closes at once: the exchange is let go, queued writes are dropped.
  void close_now();
  // Sends what is queued, then FIN, then waits a little for the client's.
  void close_gracefully();
  void check_deadline(uint64_t now);
  bool busy() const { return ex_ && head_done_; }
  bool may_keep_alive() const { return !close_after_ && !peer_eof_ && server && !server->stopping; }

  // For ExchangeImpl:
  void send(const uv_buf_t* bufs, unsigned n, std::function<void(Errno)> done);
  void exchange_done(ExchangeImpl& ex);
  void on_body_read();

  uv_tcp_t tcp;
  ServerState* server;  // null once the server is gone
  std::list<Connection*>::iterator it;
  bool waiting = false;  // in server->waiting for an in-flight slot

 private:
  enum class Deadline { None, Head, Idle, Linger };

  void parse();
  void fail_request(uint16_t status);
  void dispatch();
  void update_reading();
  void release_exchange();
  void next_request();
  void written();
  void shutdown();
  bool add_head_bytes(size_t n);
  void set_deadline(Deadline kind, uint64_t ms);

  static const http_parser_settings settings;
  static Connection* of(http_parser* p) { return static_cast<Connection*>(p->data); }
  int on_message_begin();
  int on_url(const char* at, size_t n);
  int on_header_field(const char* at, size_t n);
  int on_header_value(const char* at, size_t n);
  int on_headers_complete();
  int on_body(const char* at, size_t n);
  int on_message_complete();

  http_parser parser_;
  detail::FieldCollector fields_;
  std::vector<char> in_;
  size_t in_start_ = 0, in_end_ = 0;  // unparsed bytes in in_
  std::shared_ptr<ExchangeImpl> ex_;  // the request being received or answered
  std::string url_;
  size_t head_bytes_ = 0;
  uint64_t body_bytes_ = 0;
  uint16_t error_status_ = 0;  // what a callback found wrong
  bool head_done_ = false;
  bool message_done_ = false;
  bool got_bytes_ = false;  // of the current request
  bool reading_ = false;
  bool peer_eof_ = false;
  bool broken_ = false;       // no more parsing: the request stream is unusable
  bool close_after_ = false;  // no request after the current one
  bool draining_ = false;     // closing gracefully
  bool shut_ = false;         // FIN sent
  bool closing_ = false;      // uv_close called
  bool pumping_ = false, repump_ = false;
  unsigned pending_writes_ = 0;
  Deadline deadline_kind_ = Deadline::None;
  uint64_t deadline_ = 0;
  uv_shutdown_t shutdown_req_;
};

const http_parser_settings Connection::settings = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = [](http_parser* p) { return of(p)->on_message_begin(); };
  s.on_url = [](http_parser* p, const char* at, size_t n) { return of(p)->on_url(at, n); };
  s.on_header_field = [](http_parser* p, const char* at, size_t n) { return of(p)->on_header_field(at, n); };
  s.on_header_value = [](http_parser* p, const char* at, size_t n) { return of(p)->on_header_value(at, n); };
  s.on_headers_complete = [](http_parser* p) { return of(p)->on_headers_complete(); };
  s.on_body = [](http_parser* p, const char* at, size_t n) { return of(p)->on_body(at, n); };
  s.on_message_complete = [](http_parser* p) { return of(p)->on_message_complete(); };
  return s;
}();

Connection::Connection(ServerState* s) : server(s) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  tcp.data = this;
}

void Connection::start() {
  uv_tcp_nodelay(&tcp, 1);
  // A new connection must send its first request as promptly as a head.
  set_deadline(Deadline::Head, server->limits.head_timeout_ms);
  update_reading();
}

void Connection::set_deadline(Deadline kind, uint64_t ms) {
  deadline_kind_ = kind;
  deadline_ = kind == Deadline::None ? 0 : uv_now(tcp.loop) + ms;
}

void Connection::check_deadline(uint64_t now) {
  if (deadline_kind_ == Deadline::None || now < deadline_ || closing_) return;
  if (deadline_kind_ == Deadline::Head && got_bytes_ && !draining_) return fail_request(408);
  close_now();
}

bool Connection::add_head_bytes(size_t n) {
  head_bytes_ += n;
  if (head_bytes_ <= server->limits.max_head_bytes) return true;
  error_status_ = 431;
  return false;
}

int Connection::on_message_begin() {
  ex_ = std::make_shared<ExchangeImpl>();
  ex_->conn = this;
  ex_->body_pipe->on_read = [this] { on_body_read(); };
  ex_->start_ns = uv_hrtime();
  url_.clear();
  head_bytes_ = 0;
  body_bytes_ = 0;
  head_done_ = false;
  message_done_ = false;
  got_bytes_ = true;
  set_deadline(Deadline::Head, server->limits.head_timeout_ms);
  return 0;
}

int Connection::on_url(const char* at, size_t n) {
  if (!add_head_bytes(n)) return -1;
  url_.append(at, n);
  return 0;
}

int Connection::on_header_field(const char* at, size_t n) {
  // Each field costs its name, its value and ": " and CRLF around them.
  if (!add_head_bytes(n + 4)) return -1;
  if (!ex_) return 0;
  fields_.field(head_done_ ? ex_->request_trailers : ex_->head.headers, at, n);
  return 0;
}

int Connection::on_header_value(const char* at, size_t n) {
  if (!add_head_bytes(n)) return -1;
  if (!ex_) return 0;
  fields_.value(head_done_ ? ex_->request_trailers : ex_->head.headers, at, n);
  return 0;
}

int Connection::on_headers_complete() {
  ExchangeImpl& ex = *ex_;
  RequestHead& head = ex.head;
  fields_.done(head.headers);
  head_done_ = true;
  head_bytes_ = 0;  // from here on it counts the trailers
  set_deadline(Deadline::None, 0);
  head.method = http_method_str(static_cast<http_method>(parser_.method));
  ex.head_method = parser_.method == HTTP_HEAD;
  ex.http10 = parser_.http_major == 1 && parser_.http_minor == 0;
  ex.keep_alive = http_should_keep_alive(&parser_) && !close_after_;
  bool has_host = false;
  for (const auto& [name, value] : head.headers) {
    // http_parser, built lenient, lets spaces into field names.
    if (!valid_field_name(name) || !valid_field_value(value)) return error_status_ = 400, -1;
    if (name == "host") {
      if (has_host) return error_status_ = 400, -1;
      has_host = true;
      head.authority = value;
    } else if (name == "expect" && detail::iequals(value, "100-continue")) {
      ex.expect_continue = !ex.http10;
    }
  }
  if (!has_host && !ex.http10) return error_status_ = 400, -1;
  if ((!url_.empty() && url_[0] == '/') || url_ == "*") {
    head.path_with_query = std::move(url_);
  } else {
    // The absolute form ("http://host/path"): its path and query.
    http_parser_url u;
    http_parser_url_init(&u);
    if (parser_.method == HTTP_CONNECT || http_parser_parse_url(url_.data(), url_.size(), 0, &u) != 0)
      return error_status_ = 400, -1;
    if (u.field_set & (1 << UF_PATH))
      head.path_with_query.assign(
          url_, u.field_data[UF_PATH].off,
          (u.field_set & (1 << UF_QUERY))
              ? u.field_data[UF_QUERY].off + u.field_data[UF_QUERY].len - u.field_data[UF_PATH].off
              : u.field_data[UF_PATH].len);
    else
      head.path_with_query = "/";
  }
  if ((parser_.flags & F_CONTENTLENGTH) && parser_.content_length > server->limits.max_body_bytes)
    return error_status_ = 413, -1;
  return 0;
}

int Connection::on_body(const char* at, size_t n) {
  body_bytes_ += n;
  if (body_bytes_ > server->limits.max_body_bytes) return error_status_ = 413, -1;
  if (ex_) ex_->body_pipe->push(at, n);
  return 0;
}

int Connection::on_message_complete() {
  if (!ex_) {
    // The body of a request answered before it was all read: dropped.
    set_deadline(Deadline::Idle, server->limits.idle_timeout_ms);
    got_bytes_ = false;
    return 0;
  }
  fields_.done(ex_->request_trailers);
  ex_->body_pipe->end();
  message_done_ = true;
  // Pipelined requests wait in in_ until this one is answered.
  http_parser_pause(&parser_, 1);
  return 0;
}

void Connection::pump() {
  if (pumping_) {
    repump_ = true;
    return;
  }
  pumping_ = true;
  do {
    repump_ = false;
    parse();
    if (closing_ || draining_) break;
    dispatch();
    if (ex_) ex_->body_pipe->deliver();
    update_reading();
  } while (repump_ && !closing_);
  pumping_ = false;
}

void Connection::parse() {
  if (broken_ || draining_ || in_start_ == in_end_ || HTTP_PARSER_ERRNO(&parser_) == HPE_PAUSED) return;
  size_t n = http_parser_execute(&parser_, &settings, in_.data() + in_start_, in_end_ - in_start_);
  in_start_ += n;
  http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (parser_.upgrade) {
    // No protocol switching here: the request is answered as a plain one
    // and the connection then closed.
    close_after_ = true;
    broken_ = true;
    if (ex_) ex_->keep_alive = false;
  } else if (err != HPE_OK && err != HPE_PAUSED) {
    fail_request(error_status_ ? error_status_ : err == HPE_HEADER_OVERFLOW ? 431 : 400);
  }
}

void Connection::fail_request(uint16_t status) {
  broken_ = true;
  if (ex_) {
    ex_->body_pipe->fail();
    if (!ex_->unsent()) {
      // The handler's answer is on its way: it may finish, then the
      // connection closes.
      close_after_ = true;
      ex_->body_pipe->deliver();
      update_reading();
      return;
    }
  }
  std::string_view method = ex_ && head_done_ ? std::string_view(ex_->head.method) : "-";
  std::string_view target = ex_ && head_done_ ? std::string_view(ex_->head.path_with_query) : "-";
  log_exchange(method, target, status, 0, ex_ ? ex_->start_ns : uv_hrtime());
  release_exchange();
  std::string response = status_line(status) + "content-length: 0\r\nconnection: close\r\n\r\n";
  uv_buf_t buf = detail::buf_of(response);
  send(&buf, 1, nullptr);
  close_gracefully();
}

void Connection::dispatch() {
  if (!ex_ || !head_done_ || ex_->dispatched || waiting || !server) return;
  if (server->in_flight >= server->limits.max_in_flight) {
    waiting = true;
    server->waiting.push_back(this);
    return;
  }
  ex_->dispatched = true;
  ++server->in_flight;
  auto ex = ex_;
  try {
    server->handler(ex);
  } catch (const std::exception& e) {
    spdlog::error("http handler failed: {}", e.what());
    ex->abort(500);
  } catch (...) {
    ex->abort(500);
  }
}

void Connection::update_reading() {
  if (closing_) return;
  bool want;
  if (draining_)
    want = shut_ && !peer_eof_;
  else
    want = !peer_eof_ && !broken_ && !waiting && !(ex_ && message_done_) && !(ex_ && ex_->body_pipe->full());
  if (want == reading_) return;
  reading_ = want;
  if (!want) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
    return;
  }
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&tcp),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* c = static_cast<Connection*>(h->data);
        auto& in = c->in_;
        if (c->in_start_ == c->in_end_) c->in_start_ = c->in_end_ = 0;
        constexpr size_t kMinRead = 16 * 1024;
        if (in.size() - c->in_end_ < kMinRead && c->in_start_ > 0) {
          std::memmove(in.data(), in.data() + c->in_start_, c->in_end_ - c->in_start_);
          c->in_end_ -= c->in_start_;
          c->in_start_ = 0;
        }
        if (in.size() - c->in_end_ < kMinRead) in.resize(std::max(in.size() * 2, kMinRead));
        *buf = uv_buf_init(in.data() + c->in_end_, static_cast<unsigned>(in.size() - c->in_end_));
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        auto* c = static_cast<Connection*>(s->data);
        if (nread == 0 || c->closing_) return;
        if (nread < 0) {
          c->peer_eof_ = true;
          // A last response still being written is sent before the close.
          if (c->draining_ && c->pending_writes_ > 0) return c->update_reading();
          if (nread != UV_EOF || c->draining_ || !c->ex_ || !c->message_done_) {
            // Gone, or gone mid-request: the body reader gets Io, the
            // response sink Pipe.
            if (c->ex_) c->ex_->body_pipe->fail();
            return c->close_now();
          }
          // Half-closed after a whole request: answer it, then close.
          c->close_after_ = true;
          return c->update_reading();
        }
        if (c->draining_) return;
        c->in_end_ += static_cast<size_t>(nread);
        c->pump();
      });
}

void Connection::on_body_read() {
  if (!ex_) return;
  if (ex_->expect_continue && !ex_->continue_sent && ex_->unsent() && !message_done_) {
    ex_->continue_sent = true;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_buf_t buf = detail::buf_of(kContinue);
    send(&buf, 1, nullptr);
  }
  update_reading();
}

void Connection::send(const uv_buf_t* bufs, unsigned n, std::function<void(Errno)> done) {
  if (closing_) {
    if (done) done(Errno::Pipe);
    return;
  }
  ++pending_writes_;
  std::function<void(int)> on_written = [this, done = std::move(done)](int status) {
    --pending_writes_;
    if (done) done(status == 0 ? Errno::Success : Errno::Pipe);
    if (status != 0) return close_now();
    written();
  };
  int r = detail::write_or_queue(reinterpret_cast<uv_stream_t*>(&tcp), bufs, n, on_written);
  if (r != 1) on_written(r);
}

void Connection::written() {
  if (draining_ && pending_writes_ == 0 && !shut_) shutdown();
}

void Connection::release_exchange() {
  if (waiting && server) {
    auto& w = server->waiting;
    w.erase(std::remove(w.begin(), w.end(), this), w.end());
  }
  waiting = false;
  auto ex = std::move(ex_);
  if (!ex) return;
  ex->conn = nullptr;
  ex->body_pipe->on_read = nullptr;
  ex->body_pipe->fail();
  if (ex->dispatched && server) {
    --server->in_flight;
    server->wake();
  }
  ex->body_pipe->deliver();
}

void Connection::exchange_done(ExchangeImpl& ex) {
  log_exchange(ex.head.method, ex.head.path_with_query, ex.status, ex.sent, ex.start_ns);
  if (!ex.keep_alive) close_after_ = true;
  release_exchange();
  if (close_after_ || peer_eof_ || !server || server->stopping) return close_gracefully();
  next_request();
}

void Connection::next_request() {
  if (message_done_) {
    got_bytes_ = false;
    set_deadline(Deadline::Idle, server->limits.idle_timeout_ms);
    http_parser_pause(&parser_, 0);
  }
  // Otherwise the rest of this request's body is read and dropped first.
  message_done_ = false;
  head_done_ = false;
  pump();
}

void Connection::close_gracefully() {
  if (closing_ || draining_) return;
  draining_ = true;
  release_exchange();
  if (peer_eof_ && pending_writes_ == 0) return close_now();
  // A client that does not take the last response is given as long as an
  // idle one.
  set_deadline(Deadline::Linger, server ? server->limits.idle_timeout_ms : 0);
  written();
}

void Connection::shutdown() {
  shut_ = true;
  set_deadline(Deadline::Linger, kLingerMs);
  shutdown_req_.data = this;
  int err =
      uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp), [](uv_shutdown_t* req, int status) {
        auto* c = static_cast<Connection*>(req->data);
        if (c->closing_) return;
        if (status != 0 || c->peer_eof_) return c->close_now();
        c->update_reading();
      });
  if (err) return close_now();
  update_reading();
}

void Connection::close_now() {
  if (closing_) return;
  closing_ = true;
  release_exchange();
  if (server) server->forget(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp),
           [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
}

// --- Exchange ----------------------------------------------------------------

std::shared_ptr<ByteSink> ExchangeImpl::respond(ResponseHead response) {
  auto sink = std::make_shared<ResponseSink>(shared_from_this());
  if (responded || finished) return sink;
  responded = true;
  status = response.status;
  bool no_body = head_method || status / 100 == 1 || status == 204 || status == 304;
  std::optional<uint64_t> content_length;
  out_head = status_line(status);
  for (const auto& [name, value] : response.headers) {
    // The server owns the framing: the handler's own would contradict it.
    if (name == "transfer-encoding" || name == "connection" || name == "keep-alive") continue;
    if (name == "content-length") {
      uint64_t n;
      if (content_length || !detail::parse_length(value, n)) continue;
      content_length = n;
    }
    out_head += name;
    out_head += ": ";
    out_head += value;
    out_head += "\r\n";
  }
  if (no_body) {
    framing = Framing::None;
  } else if (content_length) {
    framing = Framing::Length;
    length = *content_length;
  } else if (http10) {
    framing = Framing::Close;
    keep_alive = false;
  } else {
    framing = Framing::Chunked;
    out_head += "transfer-encoding: chunked\r\n";
  }
  head_pending = true;
  return sink;
}

std::string ExchangeImpl::take_head() {
  if (!head_pending) return {};
  head_pending = false;
  if (!conn->may_keep_alive()) keep_alive = false;
  // The body after an unanswered `Expect: 100-continue` may never come.
  if (expect_continue && !continue_sent && !body_pipe->ended()) keep_alive = false;
  if (!keep_alive)
    out_head += "connection: close\r\n";
  else if (http10)
    out_head += "connection: keep-alive\r\n";
  out_head += "\r\n";
  return std::move(out_head);
}

void ExchangeImpl::write(std::string_view data, std::function<void(Errno)> done) {
  if (!conn || finished || !responded) return done(Errno::Pipe);
  if (framing == Framing::Length && data.size() > length - sent) {
    // More than the content-length announced: the exchange is broken.
    keep_alive = false;
    return done(Errno::Inval);
  }
  if (data.empty()) return done(Errno::Success);
  sent += data.size();
  if (framing == Framing::None) return done(Errno::Success);
  std::string head = take_head();
  uv_buf_t bufs[4];
  unsigned n = 0;
  if (!head.empty()) bufs[n++] = detail::buf_of(head);
  char size_line[20];
  if (framing == Framing::Chunked) {
    int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
    bufs[n++] = uv_buf_init(size_line, static_cast<unsigned>(len));
  }
  bufs[n++] = detail::buf_of(data);
  if (framing == Framing::Chunked) bufs[n++] = detail::buf_of("\r\n");
  conn->send(bufs, n, std::move(done));
}

void ExchangeImpl::finish(Fields trailers) {
  if (!conn || finished) return;
  if (!responded) return abort(500);
  finished = true;
  // A body shorter than its content-length leaves the client waiting for
  // the rest: only closing the connection tells it.
  if (framing == Framing::Close || (framing == Framing::Length && sent != length)) keep_alive = false;
  std::string tail = take_head();
  if (framing == Framing::Chunked) {
    tail += "0\r\n";
    detail::append_fields(tail, trailers);
    tail += "\r\n";
  }
  if (!tail.empty()) {
    uv_buf_t buf = detail::buf_of(tail);
    conn->send(&buf, 1, nullptr);
  }
  // A send that failed at once (the client reset) has closed the
  // connection and released this exchange already.
  if (conn) conn->exchange_done(*this);
}

void ExchangeImpl::abort(uint16_t status_code) {
  if (!conn || finished) return;
  if (!responded) {
    respond(ResponseHead{status_code, {{"content-length", "0"}}});
    return finish({});
  }
  finished = true;
  log_exchange(head.method, head.path_with_query, status, sent, start_ns);
  conn->close_now();
}

// --- Server ------------------------------------------------------------------

class Server::Impl : public ServerState {
  using ServerState::ServerState;
};

void ServerState::on_connection() {
  auto* c = new Connection(this);
  uv_tcp_init(reactor.uv(), &c->tcp);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener->uv), reinterpret_cast<uv_stream_t*>(&c->tcp)) !=
      0) {
    c->server = nullptr;
    return c->close_now();
  }
  if (stopping || conns.size() >= limits.max_connections) {
    c->server = nullptr;
    return c->close_now();
  }
  c->it = conns.insert(conns.end(), c);
  c->start();
}

void ServerState::sweep() {
  uint64_t now = uv_now(reactor.uv());
  // Closing one connection may close others (their handlers run): a copy.
  std::vector<Connection*> all(conns.begin(), conns.end());
  for (Connection* c : all) c->check_deadline(now);
}

void ServerState::wake() {
  if (waking) return;
  waking = true;
  while (in_flight < limits.max_in_flight && !waiting.empty()) {
    Connection* c = waiting.front();
    waiting.pop_front();
    c->waiting = false;
    c->pump();
  }
  waking = false;
}

void ServerState::forget(Connection* c) {
  c->server = nullptr;
  conns.erase(c->it);
}

ServerState::~ServerState() {
  if (listener) {
    listener->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&listener->uv),
             [](uv_handle_t* h) { delete static_cast<Listener*>(h->data); });
  }
  if (sweeper) {
    uv_close(reinterpret_cast<uv_handle_t*>(&sweeper->uv),
             [](uv_handle_t* h) { delete static_cast<Sweeper*>(h->data); });
  }
  std::vector<Connection*> all(conns.begin(), conns.end());
  for (Connection* c : all) {
    conns.erase(c->it);
    c->server = nullptr;
    c->close_now();
  }
}

Server::Server(loop::Reactor& reactor, ServerLimits limits, Handler handler)
    : impl_(std::make_unique<Impl>(reactor, limits, std::move(handler))) {}

Server::~Server() = default;

void Server::listen(const std::string& host, uint16_t port) {
  Impl& s = *impl_;
  sockaddr_storage addr{};
  int err = host.find(':') != std::string::npos
                ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
                : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  auto fail = [&](int e) {
    throw Error(ErrorKind::Usage,
                "cannot listen on " + host + ":" + std::to_string(port) + ": " + uv_strerror(e));
  };
  if (err) fail(err);
  auto* l = new ServerState::Listener{{}, &s};
  uv_tcp_init(s.reactor.uv(), &l->uv);
  l->uv.data = l;
  err = uv_tcp_bind(&l->uv, reinterpret_cast<sockaddr*>(&addr), 0);
  if (!err)
    err = uv_listen(reinterpret_cast<uv_stream_t*>(&l->uv), 511, [](uv_stream_t* st, int status) {
      auto* listener = static_cast<ServerState::Listener*>(st->data);
      if (status == 0 && listener->owner) listener->owner->on_connection();
    });
  if (err) {
    uv_close(reinterpret_cast<uv_handle_t*>(&l->uv),
             [](uv_handle_t* h) { delete static_cast<ServerState::Listener*>(h->data); });
    fail(err);
  }
  s.listener = l;
  if (!s.sweeper) {
    // One timer checks every connection's deadline; it does not keep the
    // loop alive by itself.
    s.sweeper = new ServerState::Sweeper{{}, &s};
    uv_timer_init(s.reactor.uv(), &s.sweeper->uv);
    s.sweeper->uv.data = s.sweeper;
    uint64_t tick = std::min(s.limits.head_timeout_ms, s.limits.idle_timeout_ms) / 4;
    tick = std::clamp<uint64_t>(tick, 5, 1000);
    uv_timer_start(
        &s.sweeper->uv, [](uv_timer_t* t) { static_cast<ServerState::Sweeper*>(t->data)->owner->sweep(); },
        tick, tick);
    uv_unref(reinterpret_cast<uv_handle_t*>(&s.sweeper->uv));
  }
}

std::string Server::address() const {
  if (!impl_->listener) return {};
  sockaddr_storage addr{};
  int len = sizeof addr;
  uv_tcp_getsockname(&impl_->listener->uv, reinterpret_cast<sockaddr*>(&addr), &len);
  char ip[64] = {};
  if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    uv_ip6_name(a, ip, sizeof ip);
    return "[" + std::string(ip) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&addr);
  uv_ip4_name(a, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(a->sin_port));
}

void Server::stop() {
  Impl& s = *impl_;
  if (s.stopping) return;
  s.stopping = true;
  if (s.listener) {
    s.listener->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&s.listener->uv),
             [](uv_handle_t* h) { delete static_cast<ServerState::Listener*>(h->data); });
    s.listener = nullptr;
  }
  std::vector<Connection*> all(s.conns.begin(), s.conns.end());
  for (Connection* c : all)
    if (!c->busy()) c->close_gracefully();
}

uint32_t Server::in_flight() const { return impl_->in_flight; }

bool Server::drained() const { return impl_->stopping && impl_->conns.empty(); }

}  // namespace weft::wasi::http
