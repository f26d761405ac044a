// Helpers for the HTTP server and client tests: a bounded wait on the
// loop, a raw TCP client and a raw TCP listener that speak whatever bytes
// a test gives them, and byte sources and sinks driven to the end.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "loop/reactor.h"
#include "wasi/common/byte_stream.h"

namespace weft::http_test {

using wasi::common::ByteSink;
using wasi::common::ByteSource;
using wasi::common::Errno;

// Runs the loop until `done()` or `ms` have passed; false on timeout.
inline bool run_until(loop::Reactor& reactor, const std::function<bool()>& done, uint64_t ms = 5000) {
  bool timed_out = false;
  loop::Timer timer(reactor);
  timer.start(ms * 1'000'000, [&] { timed_out = true; });
  reactor.run_until([&] { return done() || timed_out; });
  return done();
}

inline sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// The port of an "127.0.0.1:PORT" address.
inline uint16_t port_of(const std::string& address) {
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

// A client socket written and read directly, the loop running meanwhile.
class RawClient {
 public:
  RawClient(loop::Reactor& reactor, uint16_t port) : reactor_(reactor) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(port);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }

  void send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno != EAGAIN) return;
        reactor_.wait_fd(fd_, UV_WRITABLE);
        continue;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Reads until `done(received)` holds, the server closes, or `ms` passed.
  std::string& read_until(const std::function<bool(std::string&)>& done, uint64_t ms = 3000) {
    loop::Timer timer(reactor_);
    bool timed_out = false;
    // A socket shut for reading becomes readable: the wait below ends.
    timer.start(ms * 1'000'000, [&] {
      timed_out = true;
      shutdown(fd_, SHUT_RD);
    });
    while (!done(received_) && !eof_ && !timed_out) {
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        received_.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EAGAIN) {
        eof_ = !timed_out;
      } else {
        reactor_.wait_fd(fd_, UV_READABLE);
      }
    }
    return received_;
  }
  // Reads until `text` has arrived.
  std::string& read_for(std::string_view text, uint64_t ms = 3000) {
    return read_until([&](const std::string& s) { return s.find(text) != std::string::npos; }, ms);
  }
  // Reads until the server closes the connection.
  std::string& read_to_eof(uint64_t ms = 3000) {
    return read_until([](const std::string&) { return false; }, ms);
  }
  bool eof() const { return eof_; }
  std::string& received() { return received_; }
  int fd() const { return fd_; }

 private:
  loop::Reactor& reactor_;
  int fd_;
  bool connected_ = false;
  bool eof_ = false;
  std::string received_;
};

// A listening socket that accepts (or not) as the test says.
class RawListener {
 public:
  explicit RawListener(int backlog = 16) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(0);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, backlog);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~RawListener() {
    if (peer_ >= 0) close(peer_);
    close(fd_);
  }
  uint16_t port() const { return port_; }
  std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }

  // Once a client connects: accepts it and sends `data` (then closes the
  // connection when `then_close`).
  void answer(loop::Reactor& reactor, std::string data, bool then_close) {
    watch_ = std::make_unique<loop::FdWatch>(reactor, fd_);
    watch_->start(UV_READABLE, [this, data = std::move(data), then_close](int, int) {
      peer_ = accept(fd_, nullptr, nullptr);
      if (::send(peer_, data.data(), data.size(), MSG_NOSIGNAL) < 0) return;
      if (then_close) {
        close(peer_);
        peer_ = -1;
      }
    });
  }

 private:
  int fd_;
  int peer_ = -1;
  uint16_t port_;
  std::unique_ptr<loop::FdWatch> watch_;
};

// Reads `source` to its end: `body` gets the bytes, `status` the first
// error (or Success at the end), `ended` is set either way.
struct Drain : std::enable_shared_from_this<Drain> {
  std::shared_ptr<ByteSource> source;
  std::string body;
  Errno status = Errno::Success;
  bool ended = false;

  static std::shared_ptr<Drain> start(std::shared_ptr<ByteSource> source) {
    auto d = std::make_shared<Drain>();
    d->source = std::move(source);
    d->next();
    return d;
  }
  void next() {
    source->read(16384, [self = shared_from_this()](Errno e, std::string_view data) {
      if (e != Errno::Success || data.empty()) {
        self->status = e;
        self->ended = true;
        return;
      }
      self->body.append(data);
      self->next();
    });
  }
};

// Writes `parts` to `sink` one after another, then runs `then(status)`.
inline void write_all(std::shared_ptr<ByteSink> sink, std::vector<std::string> parts,
                      std::function<void(Errno)> then, size_t i = 0) {
  if (i == parts.size()) return then(Errno::Success);
  std::string_view part = parts[i];
  sink->write(part, [sink, parts = std::move(parts), then = std::move(then), i](Errno e) mutable {
    if (e != Errno::Success) return then(e);
    write_all(std::move(sink), std::move(parts), std::move(then), i + 1);
  });
}

}  // namespace weft::http_test
