// wasi:sockets@0.3.0's host objects (internal to src/wasi/p3): TCP and UDP
// sockets whose waits happen on the loop, reported through callbacks that
// run from the loop (or at once when nothing had to wait). The bindings in
// sockets.cpp turn them into async functions and streams.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "wasi/common/sockets.h"
#include "wasi/p3/state.h"

namespace weft::wasi::p3 {

using common::IpAddress;
using common::IpSocketAddress;
using common::NetError;
using common::SocketFd;

// The one loop watch libuv allows per descriptor, shared by everything that
// waits on a socket (a connection's sender and receiver at once).
class SocketWatch : public std::enable_shared_from_this<SocketWatch> {
 public:
  SocketWatch(loop::Reactor& reactor, std::shared_ptr<SocketFd> fd)
      : fd_(std::move(fd)), watch_(reactor, fd_->fd) {}
  // Calls `ready` once, from the loop, when the socket has `events`
  // (UV_READABLE / UV_WRITABLE) or an error; returns an id for cancel().
  uint64_t wait(int events, std::function<void()> ready);
  void cancel(uint64_t id);

 private:
  void arm();
  std::shared_ptr<SocketFd> fd_;  // outlives watch_
  loop::FdWatch watch_;
  std::map<uint64_t, std::pair<int, std::function<void()>>> waiters_;
  uint64_t last_ = 0;
};

// What TCP and UDP sockets add to the shared socket: the loop watch.
class LoopSocket : public common::Socket {
 public:
  const std::shared_ptr<SocketWatch>& watch() const { return watch_; }

 protected:
  LoopSocket(State& st, std::shared_ptr<SocketFd> fd, bool ipv6)
      : Socket(fd, ipv6, st.config.inherit_network),
        watch_(std::make_shared<SocketWatch>(st.reactor, std::move(fd))) {}
  std::shared_ptr<SocketWatch> watch_;
};

// tcp-socket (TcpSocketOperationalSemantics-0.3.0.md).
class TcpSocket : public LoopSocket, public std::enable_shared_from_this<TcpSocket> {
 public:
  enum class Phase : uint8_t { Unbound, Bound, Listening, Connecting, Connected, Closed };
  using Done = std::function<void(NetError)>;

  TcpSocket(State& st, std::shared_ptr<SocketFd> fd, bool ipv6, Phase phase)
      : LoopSocket(st, std::move(fd), ipv6), st_(st), phase_(phase) {}
  // access-denied unless the configuration allows TCP.
  static NetError create(State& st, bool ipv6, std::shared_ptr<TcpSocket>& out);

  NetError bind(const IpSocketAddress& local);
  // `done` runs once connected or failed (then the socket is closed).
  void connect(const IpSocketAddress& remote, Done done);
  // Stops a connect in progress; the socket is closed.
  void cancel_connect();
  NetError listen();
  // The next inbound connection, or an error; one accept at a time.
  void accept(std::function<void(NetError, std::shared_ptr<TcpSocket>)> done);
  void cancel_accept();
  // send and receive may each be called once, when connected; they give
  // the connection's byte sink and source.
  NetError start_send(std::shared_ptr<ByteSink>& out);
  NetError start_receive(std::shared_ptr<ByteSource>& out);
  // After the guest closed its send stream: the peer sees end of stream.
  void finish_send();

  NetError local_address(IpSocketAddress& out) const;
  NetError remote_address(IpSocketAddress& out) const;
  NetError set_listen_backlog_size(uint64_t value);
  Phase phase() const { return phase_; }

 private:
  State& st_;
  Phase phase_;
  int backlog_ = 128;
  bool sent_ = false, received_ = false;
  uint64_t waiting_ = 0;  // the watch waiter of a connect or accept
};

// udp-socket.
class UdpSocket : public LoopSocket, public std::enable_shared_from_this<UdpSocket> {
 public:
  struct Datagram {
    std::string data;
    IpSocketAddress remote;
  };
  UdpSocket(State& st, std::shared_ptr<SocketFd> fd, bool ipv6) : LoopSocket(st, std::move(fd), ipv6) {}
  // access-denied unless the configuration allows UDP.
  static NetError create(State& st, bool ipv6, std::shared_ptr<UdpSocket>& out);

  NetError bind(const IpSocketAddress& local);
  NetError connect(const IpSocketAddress& remote);
  NetError disconnect();
  // Where a send or receive keeps its current watch waiter, for cancel().
  using Wait = std::shared_ptr<uint64_t>;
  // Sends one datagram (waiting while the socket's buffer is full); `done`
  // runs with the outcome.
  void send(std::string data, const std::optional<IpSocketAddress>& remote, Wait wait,
            std::function<void(NetError)> done);
  // Receives one datagram, waiting for it.
  void receive(Wait wait, std::function<void(NetError, Datagram)> done);
  // Stops a send or receive that waits: its `done` never runs.
  void cancel(const Wait& wait) { watch_->cancel(std::exchange(*wait, 0)); }

  NetError local_address(IpSocketAddress& out) const;
  NetError remote_address(IpSocketAddress& out) const;

 private:
  bool bound_ = false;
  std::optional<IpSocketAddress> remote_;
};

}  // namespace weft::wasi::p3
