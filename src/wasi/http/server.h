// An HTTP/1.1 server on the loop (libuv TCP, http_parser): keep-alive,
// chunked bodies both ways, one request at a time per connection. Each
// request becomes an Exchange handed to the handler; the handler answers
// through it whenever it likes (a guest runs in between). Malformed or
// oversized requests are answered 400 / 413 / 431 / 408 (or the connection
// closed) without reaching the handler; a slow client cannot hold a
// connection open forever. Each finished exchange is logged at info level
// (method, target, status, body bytes, duration). Everything here runs on
// the loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "loop/reactor.h"
#include "wasi/http/message.h"

namespace weft::wasi::http {

struct ServerLimits {
  size_t max_head_bytes = 64 * 1024;            // request line and header section: more is 431
  uint64_t max_body_bytes = uint64_t{1} << 32;  // a larger Content-Length or chunked body: 413
  uint64_t head_timeout_ms = 10'000;            // from the first byte of a request to its last header: 408
  uint64_t idle_timeout_ms = 30'000;            // a kept-alive connection without a request is closed
  uint32_t max_connections = 1024;              // more are accepted and closed at once
  uint32_t max_in_flight = 128;                 // requests handed to the handler and not finished;
                                                // beyond it, connections wait before reading on
};

// One request and its response. The connection holds its exchange until
// the response is finished or aborted; the handler may keep it longer.
class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual const RequestHead& request() const = 0;
  // The request body, for one reader: de-chunked bytes, then end of
  // stream. A read fails (Errno::Io) when the client sent a malformed or
  // truncated body or went away.
  virtual std::shared_ptr<ByteSource> body() = 0;
  // The request's trailers, once body() has reached its end.
  virtual const Fields& trailers() const = 0;
  // Starts the response. With a content-length field the body is sent as
  // is (and must have that length); otherwise it is chunked. Writes to the
  // sink fail (Errno::Pipe) once the client is gone. Once per exchange.
  virtual std::shared_ptr<ByteSink> respond(ResponseHead head) = 0;
  // Ends the response (trailers go out when the body is chunked); the
  // connection then reads its next request or closes.
  virtual void finish(Fields trailers = {}) = 0;
  // Ends the exchange badly: before respond() the client gets `status`
  // with an empty body; after it the connection is closed mid-response.
  virtual void abort(uint16_t status = 500) = 0;
};

class Server {
 public:
  // Called from the loop for each request whose head has arrived.
  using Handler = std::function<void(std::shared_ptr<Exchange>)>;

  Server(loop::Reactor& reactor, ServerLimits limits, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on `host`:`port` (an IP address; port 0 picks one).
  // Throws weft::Error(Usage) with the OS's reason when it cannot.
  void listen(const std::string& host, uint16_t port);
  // The bound address as HOST:PORT ([HOST]:PORT for IPv6).
  std::string address() const;
  // Graceful stop: no new connections or requests; idle connections close
  // now, busy ones once their exchange is finished.
  void stop();
  // Requests handed to the handler and not yet finished or aborted.
  uint32_t in_flight() const;
  // After stop(): every connection has closed.
  bool drained() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::wasi::http
