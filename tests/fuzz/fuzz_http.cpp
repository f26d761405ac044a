// Fuzz target: the HTTP/1.1 server (wasi/http/server.h) on arbitrary bytes
// from a client. Each input is sent over a fresh loopback connection, then
// the client half-closes; the server must answer, close or ignore it, but
// never crash, leak or hang (every connection ends once the client's bytes
// are all read). The handler reads each request's body to its end and
// answers with a chunked body and a trailer.
#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "loop/reactor.h"
#include "wasi/http/server.h"

namespace {

using weft::wasi::common::Errno;
using weft::wasi::http::Exchange;

void read_body(const std::shared_ptr<Exchange>& ex) {
  ex->body()->read(4096, [ex](Errno e, std::string_view data) {
    if (e != Errno::Success) return ex->abort(400);
    if (!data.empty()) return read_body(ex);
    auto sink = ex->respond({200, {{"content-type", "text/plain"}}});
    sink->write("ok", [ex](Errno) { ex->finish({{"x-done", "yes"}}); });
  });
}

struct Harness {
  weft::loop::Reactor reactor;
  weft::wasi::http::Server server{reactor, limits(), [](std::shared_ptr<Exchange> ex) { read_body(ex); }};
  uint16_t port = 0;

  static weft::wasi::http::ServerLimits limits() {
    weft::wasi::http::ServerLimits l;
    l.max_head_bytes = 1024;  // inputs are short: reach the 431 path too
    l.max_body_bytes = 2048;
    l.head_timeout_ms = 2000;
    return l;
  }

  Harness() {
    spdlog::set_level(spdlog::level::off);
    server.listen("127.0.0.1", 0);
    std::string addr = server.address();
    port = static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness h;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(h.port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) __builtin_trap();  // the harness failed
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  size_t sent = 0;
  bool shut = false, closed = false;
  char buf[4096];
  // Until the server has read everything and closed: after the client's
  // end of stream it answers what it can, then closes.
  while (!closed) {
    if (sent < size) {
      ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
    }
    if (sent == size && !shut) {
      shutdown(fd, SHUT_WR);
      shut = true;
    }
    h.reactor.run_once(false);
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) closed = true;
  }
  // A reset, not a FIN: hundreds of thousands of connections would
  // otherwise leave as many ports in TIME_WAIT, and connect would fail.
  linger reset{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  close(fd);
  // The server drops the connection's state on the loop.
  for (int i = 0; i < 4; ++i) h.reactor.run_once(false);
  return 0;
}
