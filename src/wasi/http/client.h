// An HTTP/1.1 client on the loop (libuv TCP and getaddrinfo, http_parser)
// for outgoing wasi:http requests: one connection per request, the request
// body streamed (chunked unless the head has a content-length), the
// response handed over once its head arrives and its body streamed after.
// Timeouts as wasi:http's request-options: connect, first byte, between
// bytes. Everything here runs on the loop thread; callbacks run from it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "loop/reactor.h"
#include "wasi/http/message.h"

namespace weft::wasi::http {

struct ClientTimeouts {
  std::optional<uint64_t> connect_ns;        // until the TCP connection is up
  std::optional<uint64_t> first_byte_ns;     // from the request's end to the response's first byte
  std::optional<uint64_t> between_bytes_ns;  // between reads of the response
};

class ClientExchange {
 public:
  // `error` is empty once the response head has arrived; otherwise it says
  // why there is none (connection-refused, DNS-error, connection-timeout,
  // HTTP-protocol-error, ...).
  using OnResponse = std::function<void(std::optional<HttpError> error)>;

  // Starts a request: resolves the authority (port 80 by default),
  // connects and sends the head. Only "http" is supported; https fails
  // with an error-code. `on_response` runs once, from the loop.
  static std::shared_ptr<ClientExchange> start(loop::Reactor& reactor, RequestHead head,
                                               ClientTimeouts timeouts, OnResponse on_response);
  virtual ~ClientExchange() = default;

  // The request body: writes are queued until connected. finish() ends
  // it (with trailers when chunked); a body with a content-length must
  // have exactly that length (else finish() fails the exchange with
  // HTTP-request-body-size).
  virtual std::shared_ptr<ByteSink> body() = 0;
  virtual void finish(Fields trailers = {}) = 0;
  // Stops the exchange: the connection closes, pending callbacks never run.
  virtual void abort() = 0;

  // After on_response without error:
  virtual const ResponseHead& response() const = 0;
  // The response body for one reader; a read fails (Errno::Io) when the
  // body ended early or was malformed: error() then says how.
  virtual std::shared_ptr<ByteSource> response_body() = 0;
  // The response's trailers, once its body has ended.
  virtual const Fields& response_trailers() const = 0;
  // Why the exchange failed after the response head (HTTP-response-
  // incomplete, connection-read-timeout, ...), if it did.
  virtual std::optional<HttpError> error() const = 0;
};

}  // namespace weft::wasi::http
