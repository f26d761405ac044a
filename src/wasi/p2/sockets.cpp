// wasi:sockets 0.2 (network, instance-network, tcp, tcp-create-socket, udp,
// udp-create-socket, ip-name-lookup). Host sockets are non-blocking; the
// WIT's start-*/finish-* pairs do their system call in start-* and report
// in finish-*, and waiting happens on the loop through pollables. Without
// -S inherit-network every socket operation fails with access-denied.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>

#include "wasi/p2/state.h"

namespace weft::wasi::p2 {

using common::Errno;

// ---- error codes and addresses ----

const char* net_error_label(NetError e) {
  static const char* const kLabels[] = {
      "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory", "timeout",
      "concurrency-conflict", "not-in-progress", "would-block", "invalid-state", "new-socket-limit",
      "address-not-bindable", "address-in-use", "remote-unreachable", "connection-refused",
      "connection-reset", "connection-aborted", "datagram-too-large", "name-unresolvable",
      "temporary-resolver-failure", "permanent-resolver-failure",
  };
  return kLabels[static_cast<size_t>(e) - 1];
}

NetError net_error(Errno e) {
  switch (e) {
    case Errno::Success: return NetError::Ok;
    case Errno::Acces: case Errno::Perm: case Errno::NotCapable: return NetError::AccessDenied;
    case Errno::NotSup: case Errno::ProtoNoSupport: case Errno::NoProtoOpt: case Errno::NoSys:
      return NetError::NotSupported;
    case Errno::Inval: case Errno::AfNoSupport: case Errno::Fault: return NetError::InvalidArgument;
    case Errno::NoMem: case Errno::NoBufs: return NetError::OutOfMemory;
    case Errno::TimedOut: return NetError::Timeout;
    case Errno::Already: return NetError::ConcurrencyConflict;
    case Errno::Again: case Errno::InProgress: return NetError::WouldBlock;
    case Errno::IsConn: case Errno::NotConn: case Errno::DestAddrReq: return NetError::InvalidState;
    case Errno::MFile: case Errno::NFile: return NetError::NewSocketLimit;
    case Errno::AddrNotAvail: return NetError::AddressNotBindable;
    case Errno::AddrInUse: return NetError::AddressInUse;
    case Errno::HostUnreach: case Errno::NetUnreach: case Errno::NetDown: case Errno::NetReset:
      return NetError::RemoteUnreachable;
    case Errno::ConnRefused: return NetError::ConnectionRefused;
    case Errno::ConnReset: case Errno::Pipe: return NetError::ConnectionReset;
    case Errno::ConnAborted: return NetError::ConnectionAborted;
    case Errno::MsgSize: return NetError::DatagramTooLarge;
    default: return NetError::Unknown;
  }
}

namespace {

NetError last_net_error() { return net_error(common::last_error()); }

// A failed connect: an implicit bind without a free port is EADDRNOTAVAIL
// on Linux, which the WIT calls address-in-use.
NetError connect_error(Errno e) { return e == Errno::AddrNotAvail ? NetError::AddressInUse : net_error(e); }

socklen_t to_sockaddr(const IpSocketAddress& a, sockaddr_storage& ss) {
  ss = {};
  if (!a.ip.ipv6) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(a.port);
    std::memcpy(&s4->sin_addr, a.ip.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
  s6->sin6_family = AF_INET6;
  s6->sin6_port = htons(a.port);
  s6->sin6_flowinfo = htonl(a.flow_info);
  std::memcpy(&s6->sin6_addr, a.ip.bytes.data(), 16);
  s6->sin6_scope_id = a.scope_id;
  return sizeof(sockaddr_in6);
}

IpSocketAddress from_sockaddr(const sockaddr_storage& ss) {
  IpSocketAddress a;
  if (ss.ss_family == AF_INET) {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
    a.port = ntohs(s4->sin_port);
    std::memcpy(a.ip.bytes.data(), &s4->sin_addr, 4);
  } else {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    a.ip.ipv6 = true;
    a.port = ntohs(s6->sin6_port);
    a.flow_info = ntohl(s6->sin6_flowinfo);
    std::memcpy(a.ip.bytes.data(), &s6->sin6_addr, 16);
    a.scope_id = s6->sin6_scope_id;
  }
  return a;
}

bool v4_mapped(const IpAddress& a) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return a.ipv6 && std::memcmp(a.bytes.data(), kPrefix, 12) == 0;
}

// An IPv4-mapped IPv6 address as the IPv4 address it maps (name lookup
// never returns mapped addresses); others as they are.
IpAddress unmapped(IpAddress a) {
  if (!v4_mapped(a)) return a;
  std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
  std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
  a.ipv6 = false;
  return a;
}

bool unspecified(const IpAddress& a) {
  size_t n = a.ipv6 ? 16 : 4;
  return std::all_of(a.bytes.begin(), a.bytes.begin() + n, [](uint8_t b) { return b == 0; });
}

// Multicast, and for IPv4 also broadcast and the reserved 240/4.
bool not_unicast(const IpAddress& a) { return a.ipv6 ? a.bytes[0] == 0xff : a.bytes[0] >= 224; }

// The checks the WIT asks of a local address (bind) and a remote one
// (connect, send): each failure is invalid-argument.
bool bad_local(bool ipv6, const IpSocketAddress& a, bool unicast_only) {
  return a.ip.ipv6 != ipv6 || v4_mapped(a.ip) || (unicast_only && not_unicast(a.ip));
}
bool bad_remote(bool ipv6, const IpSocketAddress& a, bool unicast_only) {
  return bad_local(ipv6, a, unicast_only) || unspecified(a.ip) || a.port == 0;
}

NetError sock_name(int fd, bool peer, IpSocketAddress& out) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
               : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (r < 0) return last_net_error();
  out = from_sockaddr(ss);
  return NetError::Ok;
}

NetError bind_to(int fd, const IpSocketAddress& local) {
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(local, ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) return last_net_error();
  return NetError::Ok;
}

// Whether `fd` has any of `events` (or an error) now, without waiting.
bool fd_ready(int fd, short events) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, 0) > 0;
}

NetError new_socket(State& st, bool ipv6, int type, std::shared_ptr<SocketFd>& out) {
  if (!st.config.inherit_network) return NetError::AccessDenied;
  int fd = socket(ipv6 ? AF_INET6 : AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_net_error();
  out = std::make_shared<SocketFd>(fd);
  // WASI has no IPv4-mapped addresses, so an IPv6 socket is IPv6 only.
  int one = 1;
  if (ipv6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) return last_net_error();
  return NetError::Ok;
}

// Ready when the socket has the events `events()` asks for (UV_READABLE /
// UV_WRITABLE), or at once when it asks for none. Waits through io's
// descriptor pollables, which share one loop watch per descriptor.
class SocketPollable final : public Pollable {
 public:
  SocketPollable(State& st, std::shared_ptr<SocketFd> fd, std::function<int()> events)
      : st_(st), fd_(std::move(fd)), events_(std::move(events)) {}
  bool ready() override {
    int ev = events_();
    return ev == 0 || fd_pollable(st_, fd_->fd, ev)->ready();
  }
  void watch(std::function<void()> wake) override {
    int ev = events_();
    if (ev == 0) return;
    inner_ = fd_pollable(st_, fd_->fd, ev);
    inner_->watch(std::move(wake));
  }
  void unwatch() override { inner_.reset(); }

 private:
  State& st_;
  std::shared_ptr<SocketFd> fd_;  // outlives inner_
  std::function<int()> events_;
  std::shared_ptr<Pollable> inner_;
};

// A stream's pollable that also keeps the socket's descriptor open.
class KeepOpenPollable final : public Pollable {
 public:
  KeepOpenPollable(std::shared_ptr<SocketFd> fd, std::shared_ptr<Pollable> inner)
      : fd_(std::move(fd)), inner_(std::move(inner)) {}
  bool ready() override { return inner_->ready(); }
  void watch(std::function<void()> wake) override { inner_->watch(std::move(wake)); }
  void unwatch() override { inner_->unwatch(); }

 private:
  std::shared_ptr<SocketFd> fd_;
  std::shared_ptr<Pollable> inner_;
};

// io's descriptor streams, holding the socket open while the guest has
// them (it may drop the tcp-socket first). Members go in reverse order, so
// the inner stream is gone before the descriptor closes.
class SocketInputStream final : public InputStream {
 public:
  SocketInputStream(std::shared_ptr<SocketFd> fd, std::unique_ptr<InputStream> inner)
      : fd_(std::move(fd)), inner_(std::move(inner)) {}
  StreamStatus read(uint64_t len, std::string& out) override { return inner_->read(len, out); }
  std::shared_ptr<Pollable> readiness() override {
    return std::make_shared<KeepOpenPollable>(fd_, inner_->readiness());
  }

 private:
  std::shared_ptr<SocketFd> fd_;
  std::unique_ptr<InputStream> inner_;
};

class SocketOutputStream final : public OutputStream {
 public:
  SocketOutputStream(std::shared_ptr<SocketFd> fd, std::unique_ptr<OutputStream> inner)
      : fd_(std::move(fd)), inner_(std::move(inner)) {}
  StreamStatus check_write(uint64_t& permitted) override { return inner_->check_write(permitted); }
  StreamStatus write(std::string_view data) override { return inner_->write(data); }
  StreamStatus flush() override { return inner_->flush(); }
  std::shared_ptr<Pollable> readiness() override {
    return std::make_shared<KeepOpenPollable>(fd_, inner_->readiness());
  }

 private:
  std::shared_ptr<SocketFd> fd_;
  std::unique_ptr<OutputStream> inner_;
};

}  // namespace

SocketFd::~SocketFd() { close(fd); }

// ---- socket options ----

namespace {

// The setsockopt level and name of an option.
std::pair<int, int> sockopt_name(Socket::Option o, bool ipv6) {
  using O = Socket::Option;
  switch (o) {
    case O::KeepAliveEnabled: return {SOL_SOCKET, SO_KEEPALIVE};
    case O::KeepAliveIdleTime: return {IPPROTO_TCP, TCP_KEEPIDLE};
    case O::KeepAliveInterval: return {IPPROTO_TCP, TCP_KEEPINTVL};
    case O::KeepAliveCount: return {IPPROTO_TCP, TCP_KEEPCNT};
    case O::HopLimit: return ipv6 ? std::pair{IPPROTO_IPV6, IPV6_UNICAST_HOPS} : std::pair{IPPROTO_IP, IP_TTL};
    case O::ReceiveBufferSize: return {SOL_SOCKET, SO_RCVBUF};
    case O::SendBufferSize: return {SOL_SOCKET, SO_SNDBUF};
  }
  return {};
}

constexpr uint64_t kNanosPerSecond = 1000000000;

}  // namespace

NetError Socket::get_option(Option o, uint64_t& value) const {
  auto [level, name] = sockopt_name(o, ipv6_);
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd(), level, name, &v, &len) < 0) return last_net_error();
  value = static_cast<uint64_t>(std::max(v, 0));
  // Keep-alive times are whole seconds on the host, durations here.
  if (o == Option::KeepAliveIdleTime || o == Option::KeepAliveInterval) value *= kNanosPerSecond;
  return NetError::Ok;
}

NetError Socket::set_option(Option o, uint64_t value) {
  if (value == 0 && o != Option::KeepAliveEnabled) return NetError::InvalidArgument;
  // The WIT lets hosts clamp and round; these are Linux's limits.
  uint64_t v = value;
  switch (o) {
    case Option::KeepAliveEnabled: v = value != 0; break;
    case Option::KeepAliveIdleTime:
    case Option::KeepAliveInterval:
      v = std::min<uint64_t>(value / kNanosPerSecond + (value % kNanosPerSecond != 0), 32767);
      break;
    case Option::KeepAliveCount: v = std::min<uint64_t>(value, 127); break;
    case Option::HopLimit: v = std::min<uint64_t>(value, 255); break;
    case Option::ReceiveBufferSize:
    case Option::SendBufferSize: v = std::min<uint64_t>(value, INT_MAX / 2); break;
  }
  auto [level, name] = sockopt_name(o, ipv6_);
  int iv = static_cast<int>(v);
  if (setsockopt(fd(), level, name, &iv, sizeof iv) < 0) return last_net_error();
  return NetError::Ok;
}

// ---- tcp ----

NetError TcpSocket::create(State& st, bool ipv6, std::shared_ptr<TcpSocket>& out) {
  std::shared_ptr<SocketFd> fd;
  if (NetError e = new_socket(st, ipv6, SOCK_STREAM, fd); e != NetError::Ok) return e;
  out = std::make_shared<TcpSocket>(st, std::move(fd), ipv6, Phase::Unbound);
  return NetError::Ok;
}

NetError TcpSocket::start_bind(const IpSocketAddress& local) {
  if (phase_ == Phase::BindInProgress) return NetError::ConcurrencyConflict;
  if (phase_ != Phase::Unbound) return NetError::InvalidState;
  if (bad_local(ipv6_, local, true)) return NetError::InvalidArgument;
  // As the WIT's implementors note asks: a port in TIME_WAIT is bindable.
  int one = 1;
  if (setsockopt(fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) return last_net_error();
  if (NetError e = bind_to(fd(), local); e != NetError::Ok) return e;
  phase_ = Phase::BindInProgress;
  return NetError::Ok;
}

NetError TcpSocket::finish_bind() {
  if (phase_ != Phase::BindInProgress) return NetError::NotInProgress;
  phase_ = Phase::Bound;
  return NetError::Ok;
}

NetError TcpSocket::start_connect(const IpSocketAddress& remote) {
  switch (phase_) {
    case Phase::Unbound: case Phase::Bound: break;
    case Phase::BindInProgress: case Phase::ListenInProgress: case Phase::ConnectInProgress:
      return NetError::ConcurrencyConflict;
    default: return NetError::InvalidState;
  }
  if (bad_remote(ipv6_, remote, true)) return NetError::InvalidArgument;
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(remote, ss);
  int r;
  do r = connect(fd(), reinterpret_cast<sockaddr*>(&ss), len);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno != EINPROGRESS) {
    phase_ = Phase::Closed;
    return connect_error(common::last_error());
  }
  phase_ = Phase::ConnectInProgress;
  return NetError::Ok;
}

NetError TcpSocket::finish_connect(std::unique_ptr<InputStream>& in, std::unique_ptr<OutputStream>& out) {
  if (phase_ != Phase::ConnectInProgress) return NetError::NotInProgress;
  if (!fd_ready(fd(), POLLOUT)) return NetError::WouldBlock;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err != 0) {
    phase_ = Phase::Closed;
    return connect_error(common::from_host_errno(err));
  }
  phase_ = Phase::Connected;
  streams(in, out);
  return NetError::Ok;
}

NetError TcpSocket::start_listen() {
  switch (phase_) {
    case Phase::Bound: break;
    case Phase::BindInProgress: case Phase::ListenInProgress: case Phase::ConnectInProgress:
      return NetError::ConcurrencyConflict;
    default: return NetError::InvalidState;
  }
  if (listen(fd(), backlog_) < 0) {
    phase_ = Phase::Closed;
    return last_net_error();
  }
  phase_ = Phase::ListenInProgress;
  return NetError::Ok;
}

NetError TcpSocket::finish_listen() {
  if (phase_ != Phase::ListenInProgress) return NetError::NotInProgress;
  phase_ = Phase::Listening;
  return NetError::Ok;
}

NetError TcpSocket::accept(std::shared_ptr<TcpSocket>& client, std::unique_ptr<InputStream>& in,
                           std::unique_ptr<OutputStream>& out) {
  if (phase_ != Phase::Listening) return NetError::InvalidState;
  int s;
  do s = accept4(fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (s < 0 && errno == EINTR);
  if (s < 0) return last_net_error();
  // Linux copies the listener's options (keep-alive, hop limit, buffer
  // sizes) to the accepted socket, as the WIT asks.
  client = std::make_shared<TcpSocket>(st_, std::make_shared<SocketFd>(s), ipv6_, Phase::Connected);
  client->streams(in, out);
  return NetError::Ok;
}

void TcpSocket::streams(std::unique_ptr<InputStream>& in, std::unique_ptr<OutputStream>& out) {
  in = std::make_unique<SocketInputStream>(fd_, fd_input_stream(st_, fd()));
  out = std::make_unique<SocketOutputStream>(fd_, fd_output_stream(st_, fd()));
}

NetError TcpSocket::local_address(IpSocketAddress& out) const {
  if (phase_ == Phase::Unbound || phase_ == Phase::BindInProgress || phase_ == Phase::Closed)
    return NetError::InvalidState;
  return sock_name(fd(), false, out);
}

NetError TcpSocket::remote_address(IpSocketAddress& out) const {
  if (phase_ != Phase::Connected) return NetError::InvalidState;
  return sock_name(fd(), true, out);
}

NetError TcpSocket::set_listen_backlog_size(uint64_t value) {
  if (value == 0) return NetError::InvalidArgument;
  if (phase_ == Phase::ConnectInProgress || phase_ == Phase::Connected) return NetError::InvalidState;
  backlog_ = static_cast<int>(std::min<uint64_t>(value, INT_MAX));
  // Linux takes a new backlog by listening again.
  if (phase_ == Phase::Listening && listen(fd(), backlog_) < 0) return last_net_error();
  return NetError::Ok;
}

NetError TcpSocket::shutdown(bool receive, bool send) {
  if (phase_ != Phase::Connected) return NetError::InvalidState;
  int how = receive && send ? SHUT_RDWR : receive ? SHUT_RD : SHUT_WR;
  if (::shutdown(fd(), how) < 0) return last_net_error();
  return NetError::Ok;
}

std::shared_ptr<Pollable> TcpSocket::subscribe() {
  auto self = shared_from_this();
  return std::make_shared<SocketPollable>(st_, fd_, [self] {
    return self->phase_ == Phase::ConnectInProgress ? UV_WRITABLE
           : self->phase_ == Phase::Listening       ? UV_READABLE
                                                    : 0;
  });
}

// ---- udp ----

namespace {
// The most datagrams one receive() returns or one check-send() permits.
constexpr uint64_t kMaxDatagrams = 64;
}  // namespace

NetError UdpSocket::create(State& st, bool ipv6, std::shared_ptr<UdpSocket>& out) {
  std::shared_ptr<SocketFd> fd;
  if (NetError e = new_socket(st, ipv6, SOCK_DGRAM, fd); e != NetError::Ok) return e;
  out = std::make_shared<UdpSocket>(st, std::move(fd), ipv6);
  return NetError::Ok;
}

NetError UdpSocket::start_bind(const IpSocketAddress& local) {
  if (phase_ == Phase::BindInProgress) return NetError::ConcurrencyConflict;
  if (phase_ != Phase::Unbound) return NetError::InvalidState;
  if (bad_local(ipv6_, local, false)) return NetError::InvalidArgument;
  if (NetError e = bind_to(fd(), local); e != NetError::Ok) return e;
  phase_ = Phase::BindInProgress;
  return NetError::Ok;
}

NetError UdpSocket::finish_bind() {
  if (phase_ != Phase::BindInProgress) return NetError::NotInProgress;
  phase_ = Phase::Bound;
  return NetError::Ok;
}

NetError UdpSocket::stream(const std::optional<IpSocketAddress>& remote, uint64_t& generation) {
  if (phase_ != Phase::Bound) return NetError::InvalidState;
  if (remote && bad_remote(ipv6_, *remote, false)) return NetError::InvalidArgument;
  if (remote_) {
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    if (connect(fd(), &unspec, sizeof unspec) < 0) return last_net_error();
    remote_.reset();
  }
  if (remote) {
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(*remote, ss);
    if (connect(fd(), reinterpret_cast<sockaddr*>(&ss), len) < 0) return connect_error(common::last_error());
    remote_ = remote;
  }
  generation = ++generation_;
  permitted_ = 0;
  return NetError::Ok;
}

NetError UdpSocket::local_address(IpSocketAddress& out) const {
  if (phase_ != Phase::Bound) return NetError::InvalidState;
  return sock_name(fd(), false, out);
}

NetError UdpSocket::remote_address(IpSocketAddress& out) const {
  if (!remote_) return NetError::InvalidState;
  return sock_name(fd(), true, out);
}

NetError UdpSocket::receive(uint64_t generation, uint64_t max, std::vector<Datagram>& out) {
  if (generation != generation_) return NetError::InvalidState;
  std::string buf(65536, '\0');
  for (uint64_t i = 0; i < std::min(max, kMaxDatagrams); ++i) {
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    ssize_t r = recvfrom(fd(), buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
    if (r < 0) {
      if (errno == EINTR) {
        --i;
        continue;
      }
      // Errors only count when nothing arrived before them.
      if (errno == EAGAIN || !out.empty()) break;
      return last_net_error();
    }
    out.push_back({buf.substr(0, static_cast<size_t>(r)), from_sockaddr(from)});
  }
  return NetError::Ok;
}

NetError UdpSocket::check_send(uint64_t generation, uint64_t& permitted) {
  if (generation != generation_) return NetError::InvalidState;
  permitted_ = fd_ready(fd(), POLLOUT) ? kMaxDatagrams : 0;
  permitted = permitted_;
  return NetError::Ok;
}

NetError UdpSocket::send(uint64_t generation, const std::vector<Datagram>& ds, uint64_t& sent) {
  if (generation != generation_) return NetError::InvalidState;
  sent = 0;
  if (ds.empty()) return NetError::Ok;
  if (ds.size() > permitted_)
    throw engine::Trap(engine::TrapKind::Host, "outgoing-datagram-stream.send: " + std::to_string(ds.size()) +
                                                   " datagrams, check-send permitted " + std::to_string(permitted_));
  permitted_ = 0;
  for (const Datagram& d : ds) {
    NetError e = NetError::Ok;
    if (remote_ ? d.remote && *d.remote != *remote_ : !d.remote || bad_remote(ipv6_, *d.remote, false)) {
      e = NetError::InvalidArgument;
    } else {
      // A connected socket sends to its peer (no address), others sendto.
      sockaddr_storage ss;
      socklen_t len = remote_ ? 0 : to_sockaddr(*d.remote, ss);
      ssize_t r;
      do r = sendto(fd(), d.data.data(), d.data.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                    remote_ ? nullptr : reinterpret_cast<sockaddr*>(&ss), len);
      while (r < 0 && errno == EINTR);
      if (r < 0) e = last_net_error();
    }
    // Once one datagram went out, a failure only ends the batch.
    if (e != NetError::Ok) return sent == 0 && e != NetError::WouldBlock ? e : NetError::Ok;
    ++sent;
  }
  return NetError::Ok;
}

std::shared_ptr<Pollable> UdpSocket::readable() {
  return std::make_shared<KeepOpenPollable>(fd_, fd_pollable(st_, fd(), UV_READABLE));
}

std::shared_ptr<Pollable> UdpSocket::writable() {
  return std::make_shared<KeepOpenPollable>(fd_, fd_pollable(st_, fd(), UV_WRITABLE));
}

// ---- ip-name-lookup ----

struct ResolveAddressStream::Lookup {
  uv_getaddrinfo_t* request = nullptr;  // while libuv resolves
  bool done = false;
  NetError error = NetError::Ok;
  std::vector<IpAddress> addresses;
  std::map<const Pollable*, std::function<void()>> watchers;

  void finish() {
    done = true;
    auto ws = std::move(watchers);
    for (auto& [p, wake] : ws) wake();
  }
};

namespace {

// An IP literal (IPv6 also in brackets).
bool parse_ip(std::string_view name, IpAddress& out) {
  std::string s(name);
  bool bracketed = s.size() > 2 && s.front() == '[' && s.back() == ']';
  if (bracketed) s = s.substr(1, s.size() - 2);
  out = {};
  if (!bracketed && inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) return true;
  if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) != 1) return false;
  out.ipv6 = true;
  out = unmapped(out);
  return true;
}

// A DNS name: labels of 1-63 letters, digits, '-' or '_' (non-ASCII is left
// to libuv's IDNA conversion), 253 bytes at most, one trailing dot allowed.
bool valid_host_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!(c >= 0x80 || std::isalnum(c) || c == '-' || c == '_') || ++label > 63) return false;
  }
  return label != 0;
}

NetError resolver_error(int status) {
  switch (status) {
    case UV_EAI_NONAME: case UV_EAI_NODATA: case UV_EAI_ADDRFAMILY: case UV_EAI_SERVICE:
      return NetError::NameUnresolvable;
    case UV_EAI_AGAIN: return NetError::TemporaryResolverFailure;
    case UV_EAI_FAIL: return NetError::PermanentResolverFailure;
    case UV_EAI_MEMORY: case UV_ENOMEM: return NetError::OutOfMemory;
    case UV_EINVAL: return NetError::InvalidArgument;
    default: return NetError::Unknown;
  }
}

class LookupPollable final : public Pollable {
 public:
  explicit LookupPollable(std::shared_ptr<ResolveAddressStream::Lookup> lookup) : lookup_(std::move(lookup)) {}
  ~LookupPollable() override { unwatch(); }
  bool ready() override { return lookup_->done; }
  void watch(std::function<void()> wake) override {
    if (!lookup_->done) lookup_->watchers[this] = std::move(wake);
  }
  void unwatch() override { lookup_->watchers.erase(this); }

 private:
  std::shared_ptr<ResolveAddressStream::Lookup> lookup_;
};

// A getaddrinfo request: owns itself until libuv calls back (the stream
// may be dropped before that).
struct LookupRequest {
  uv_getaddrinfo_t req;
  std::shared_ptr<ResolveAddressStream::Lookup> lookup;

  static void done(uv_getaddrinfo_t* req, int status, addrinfo* res) {
    std::unique_ptr<LookupRequest> self(static_cast<LookupRequest*>(req->data));
    ResolveAddressStream::Lookup& l = *self->lookup;
    l.request = nullptr;
    if (status < 0) l.error = resolver_error(status);
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      sockaddr_storage ss{};
      std::memcpy(&ss, ai->ai_addr, std::min<size_t>(ai->ai_addrlen, sizeof ss));
      IpAddress a = unmapped(from_sockaddr(ss).ip);
      if (std::find(l.addresses.begin(), l.addresses.end(), a) == l.addresses.end()) l.addresses.push_back(a);
    }
    if (status == 0 && l.addresses.empty()) l.error = NetError::NameUnresolvable;
    uv_freeaddrinfo(res);
    l.finish();
  }
};

}  // namespace

NetError ResolveAddressStream::start(State& st, std::string_view name, std::unique_ptr<ResolveAddressStream>& out) {
  if (!st.config.inherit_network) return NetError::AccessDenied;
  auto lookup = std::make_shared<Lookup>();
  IpAddress literal;
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (parse_ip(name, literal)) {
    lookup->addresses = {literal};
    lookup->done = true;
  } else if (lower == "localhost" || lower == "localhost.") {
    IpAddress v4, v6;
    v4.bytes = {127, 0, 0, 1};
    v6.ipv6 = true;
    v6.bytes[15] = 1;
    lookup->addresses = {v4, v6};
    lookup->done = true;
  } else if (!valid_host_name(name) || name.find('\0') != std::string_view::npos) {
    return NetError::InvalidArgument;
  } else {
    auto req = std::make_unique<LookupRequest>();
    req->req.data = req.get();
    req->lookup = lookup;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;  // one entry per address
    int err = uv_getaddrinfo(st.reactor.uv(), &req->req, LookupRequest::done, std::string(name).c_str(), nullptr,
                             &hints);
    if (err < 0) return resolver_error(err);
    lookup->request = &req.release()->req;  // LookupRequest::done frees it
  }
  out = std::make_unique<ResolveAddressStream>(std::move(lookup));
  return NetError::Ok;
}

// Nobody can read the answer any more: a lookup still queued is dropped
// (one already running finishes on its own).
ResolveAddressStream::~ResolveAddressStream() {
  if (lookup_->request) uv_cancel(reinterpret_cast<uv_req_t*>(lookup_->request));
}

NetError ResolveAddressStream::next(std::optional<IpAddress>& out) {
  if (!lookup_->done) return NetError::WouldBlock;
  if (lookup_->error != NetError::Ok) return lookup_->error;
  out.reset();
  if (index_ < lookup_->addresses.size()) out = lookup_->addresses[index_++];
  return NetError::Ok;
}

std::shared_ptr<Pollable> ResolveAddressStream::subscribe() { return std::make_shared<LookupPollable>(lookup_); }

// ---- bindings ----

namespace {

struct Network {};

// A datagram stream: works while it is its socket's latest pair.
struct DatagramStream {
  std::shared_ptr<UdpSocket> socket;
  uint64_t generation;
};

}  // namespace

struct State::Sockets {
  ResourceTable<Network> networks;
  ResourceTable<std::shared_ptr<TcpSocket>> tcp;
  ResourceTable<std::shared_ptr<UdpSocket>> udp;
  ResourceTable<DatagramStream> incoming, outgoing;
  ResourceTable<ResolveAddressStream> lookups;
};

namespace {

[[noreturn]] void bad_shape(const char* what) {
  throw engine::Trap(engine::TrapKind::Host, std::string("wasi:sockets: malformed ") + what);
}

// The elements of a tuple or list value (checked, so a wrong shape traps).
const std::vector<Val>& items(const Val& v, component::TypeKind k, size_t count) {
  if (v.kind() != k || (count && v.items.size() != count)) bad_shape(component::to_string(k));
  return v.items;
}

const Val& payload(const Val& variant) {
  if (variant.items.size() != 1) bad_shape("variant");
  return variant.items[0];
}

// ipv4-address (tuple of 4 u8) or ipv6-address (tuple of 8 u16).
IpAddress read_ip(const Val& v, bool ipv6) {
  IpAddress a;
  a.ipv6 = ipv6;
  const auto& e = items(v, component::TypeKind::Tuple, ipv6 ? 8 : 4);
  for (size_t i = 0; i < e.size(); ++i) {
    uint64_t x = hv::as_uint(e[i]);
    if (ipv6) {
      a.bytes[2 * i] = static_cast<uint8_t>(x >> 8);
      a.bytes[2 * i + 1] = static_cast<uint8_t>(x);
    } else {
      a.bytes[i] = static_cast<uint8_t>(x);
    }
  }
  return a;
}

Val ip_tuple(const component::Type* t, const IpAddress& a) {
  std::vector<Val> e;
  for (size_t i = 0; i < (a.ipv6 ? 8u : 4u); ++i)
    e.push_back(hv::scalar(hv::tuple_type(t, i), a.ipv6 ? (a.bytes[2 * i] << 8 | a.bytes[2 * i + 1]) : a.bytes[i]));
  return hv::tuple(t, std::move(e));
}

IpSocketAddress read_socket_address(const Val& v) {
  bool ipv6 = hv::case_label(v) == "ipv6";
  const Val& r = payload(v);
  IpSocketAddress a;
  a.port = static_cast<uint16_t>(hv::as_uint(hv::field(r, "port")));
  a.ip = read_ip(hv::field(r, "address"), ipv6);
  if (ipv6) {
    a.flow_info = static_cast<uint32_t>(hv::as_uint(hv::field(r, "flow-info")));
    a.scope_id = static_cast<uint32_t>(hv::as_uint(hv::field(r, "scope-id")));
  }
  return a;
}

Val socket_address_val(const component::Type* t, const IpSocketAddress& a) {
  const char* label = a.ip.ipv6 ? "ipv6" : "ipv4";
  const component::Type* rt = hv::case_type(t, label);
  Val port = hv::scalar(hv::field_type(rt, "port"), a.port);
  Val address = ip_tuple(hv::field_type(rt, "address"), a.ip);
  if (!a.ip.ipv6) return hv::variant(t, label, hv::record(rt, {std::move(port), std::move(address)}));
  return hv::variant(t, label,
                     hv::record(rt, {std::move(port), hv::scalar(hv::field_type(rt, "flow-info"), a.flow_info),
                                     std::move(address), hv::scalar(hv::field_type(rt, "scope-id"), a.scope_id)}));
}

// Sets a result<T, error-code>: err(e), or ok with `value(ok-type)`.
void reply(HostCall& c, NetError e, const std::function<Val(const component::Type*)>& value = {}) {
  const component::Type* t = c.result_type();
  if (e != NetError::Ok)
    c.result = hv::err(t, hv::enum_case(hv::err_type(t), net_error_label(e)));
  else
    c.result = value ? hv::ok(t, value(hv::ok_type(t))) : hv::ok(t);
}

bool ipv6_family(const Val& v) { return hv::case_label(v) == "ipv6"; }

Val family_val(const component::Type* t, bool ipv6) { return hv::enum_case(t, ipv6 ? "ipv6" : "ipv4"); }

uint64_t rep(const Val& v) { return hv::as_uint(v); }

// An own<T> of a new resource.
Val own(const component::Type* t, uint32_t r) { return hv::scalar(t, r); }

// The streams of a new connection, as the tuple elements from `first`.
std::vector<Val> stream_vals(State& st, const component::Type* tuple, size_t first, std::unique_ptr<InputStream> in,
                             std::unique_ptr<OutputStream> out) {
  return {own(hv::tuple_type(tuple, first), st.input_streams.add(std::move(in))),
          own(hv::tuple_type(tuple, first + 1), st.output_streams.add(std::move(out)))};
}

struct OptionName {
  const char* name;
  Socket::Option option;
};

// The getter and `set-` method of each option of a socket resource.
void add_options(component::HostInterface& iface, const std::string& resource,
                 std::function<Socket&(const Val&)> socket, std::initializer_list<OptionName> options) {
  for (const OptionName& o : options) {
    iface.func("[method]" + resource + "." + o.name, 1, [socket, o](HostCall& c) {
      uint64_t value = 0;
      NetError e = socket(c.args[0]).get_option(o.option, value);
      reply(c, e, [&](const component::Type* t) { return hv::scalar(t, value); });
    });
    iface.func("[method]" + resource + ".set-" + o.name, 2, [socket, o](HostCall& c) {
      reply(c, socket(c.args[0]).set_option(o.option, hv::as_uint(c.args[1])));
    });
  }
}

void add_tcp(component::Host& host, State& st, State::Sockets& sk,
             const std::shared_ptr<component::HostResource>& network) {
  auto& tcp = host.add("wasi:sockets/tcp", kVersion);
  tcp.use(st.input_stream_resource);
  tcp.use(st.output_stream_resource);
  tcp.use(st.pollable_resource);
  tcp.use(network);
  auto tcp_socket = tcp.resource("tcp-socket", [&sk](uint32_t r) { sk.tcp.remove(r); });
  auto sock = [&sk](const Val& v) -> TcpSocket& { return *sk.tcp.get(rep(v)); };
  auto m = [](const char* name) { return std::string("[method]tcp-socket.") + name; };

  tcp.func(m("start-bind"), 3, [&sk, sock](HostCall& c) {
    sk.networks.get(rep(c.args[1]));
    reply(c, sock(c.args[0]).start_bind(read_socket_address(c.args[2])));
  });
  tcp.func(m("finish-bind"), 1, [sock](HostCall& c) { reply(c, sock(c.args[0]).finish_bind()); });
  tcp.func(m("start-connect"), 3, [&sk, sock](HostCall& c) {
    sk.networks.get(rep(c.args[1]));
    reply(c, sock(c.args[0]).start_connect(read_socket_address(c.args[2])));
  });
  tcp.func(m("finish-connect"), 1, [&st, sock](HostCall& c) {
    std::unique_ptr<InputStream> in;
    std::unique_ptr<OutputStream> out;
    NetError e = sock(c.args[0]).finish_connect(in, out);
    reply(c, e, [&](const component::Type* t) {
      return hv::tuple(t, stream_vals(st, t, 0, std::move(in), std::move(out)));
    });
  });
  tcp.func(m("start-listen"), 1, [sock](HostCall& c) { reply(c, sock(c.args[0]).start_listen()); });
  tcp.func(m("finish-listen"), 1, [sock](HostCall& c) { reply(c, sock(c.args[0]).finish_listen()); });
  tcp.func(m("accept"), 1, [&st, &sk, sock](HostCall& c) {
    std::shared_ptr<TcpSocket> client;
    std::unique_ptr<InputStream> in;
    std::unique_ptr<OutputStream> out;
    NetError e = sock(c.args[0]).accept(client, in, out);
    reply(c, e, [&](const component::Type* t) {
      std::vector<Val> elems = stream_vals(st, t, 1, std::move(in), std::move(out));
      elems.insert(elems.begin(),
                   own(hv::tuple_type(t, 0), sk.tcp.add(std::make_unique<std::shared_ptr<TcpSocket>>(client))));
      return hv::tuple(t, std::move(elems));
    });
  });
  for (bool remote : {false, true}) {
    tcp.func(m(remote ? "remote-address" : "local-address"), 1, [sock, remote](HostCall& c) {
      IpSocketAddress a;
      TcpSocket& s = sock(c.args[0]);
      NetError e = remote ? s.remote_address(a) : s.local_address(a);
      reply(c, e, [&](const component::Type* t) { return socket_address_val(t, a); });
    });
  }
  tcp.func(m("is-listening"), 1, [sock](HostCall& c) {
    c.result = hv::scalar(c.result_type(), sock(c.args[0]).phase() == TcpSocket::Phase::Listening);
  });
  tcp.func(m("address-family"), 1,
           [sock](HostCall& c) { c.result = family_val(c.result_type(), sock(c.args[0]).ipv6()); });
  tcp.func(m("set-listen-backlog-size"), 2, [sock](HostCall& c) {
    reply(c, sock(c.args[0]).set_listen_backlog_size(hv::as_uint(c.args[1])));
  });
  add_options(tcp, "tcp-socket", sock,
              {{"keep-alive-enabled", Socket::Option::KeepAliveEnabled},
               {"keep-alive-idle-time", Socket::Option::KeepAliveIdleTime},
               {"keep-alive-interval", Socket::Option::KeepAliveInterval},
               {"keep-alive-count", Socket::Option::KeepAliveCount},
               {"hop-limit", Socket::Option::HopLimit},
               {"receive-buffer-size", Socket::Option::ReceiveBufferSize},
               {"send-buffer-size", Socket::Option::SendBufferSize}});
  tcp.func(m("subscribe"), 1,
           [&st, sock](HostCall& c) { c.result = new_pollable(st, c.result_type(), sock(c.args[0]).subscribe()); });
  tcp.func(m("shutdown"), 2, [sock](HostCall& c) {
    std::string_view how = hv::case_label(c.args[1]);
    reply(c, sock(c.args[0]).shutdown(how != "send", how != "receive"));
  });

  auto& create = host.add("wasi:sockets/tcp-create-socket", kVersion);
  create.use(network);
  create.use(tcp_socket);
  create.func("create-tcp-socket", 1, [&st, &sk](HostCall& c) {
    std::shared_ptr<TcpSocket> s;
    NetError e = TcpSocket::create(st, ipv6_family(c.args[0]), s);
    reply(c, e, [&](const component::Type* t) {
      return own(t, sk.tcp.add(std::make_unique<std::shared_ptr<TcpSocket>>(s)));
    });
  });
}

void add_udp(component::Host& host, State& st, State::Sockets& sk,
             const std::shared_ptr<component::HostResource>& network) {
  auto& udp = host.add("wasi:sockets/udp", kVersion);
  udp.use(st.pollable_resource);
  udp.use(network);
  auto udp_socket = udp.resource("udp-socket", [&sk](uint32_t r) { sk.udp.remove(r); });
  udp.resource("incoming-datagram-stream", [&sk](uint32_t r) { sk.incoming.remove(r); });
  udp.resource("outgoing-datagram-stream", [&sk](uint32_t r) { sk.outgoing.remove(r); });
  auto sock = [&sk](const Val& v) -> UdpSocket& { return *sk.udp.get(rep(v)); };
  auto m = [](const char* name) { return std::string("[method]udp-socket.") + name; };

  udp.func(m("start-bind"), 3, [&sk, sock](HostCall& c) {
    sk.networks.get(rep(c.args[1]));
    reply(c, sock(c.args[0]).start_bind(read_socket_address(c.args[2])));
  });
  udp.func(m("finish-bind"), 1, [sock](HostCall& c) { reply(c, sock(c.args[0]).finish_bind()); });
  udp.func(m("stream"), 2, [&sk](HostCall& c) {
    std::shared_ptr<UdpSocket> s = sk.udp.get(rep(c.args[0]));
    std::optional<IpSocketAddress> remote;
    if (const Val* a = hv::option(c.args[1])) remote = read_socket_address(*a);
    uint64_t generation = 0;
    NetError e = s->stream(remote, generation);
    reply(c, e, [&](const component::Type* t) {
      return hv::tuple(t, {own(hv::tuple_type(t, 0), sk.incoming.add(std::make_unique<DatagramStream>(
                                                         DatagramStream{s, generation}))),
                           own(hv::tuple_type(t, 1), sk.outgoing.add(std::make_unique<DatagramStream>(
                                                         DatagramStream{s, generation})))});
    });
  });
  for (bool remote : {false, true}) {
    udp.func(m(remote ? "remote-address" : "local-address"), 1, [sock, remote](HostCall& c) {
      IpSocketAddress a;
      UdpSocket& s = sock(c.args[0]);
      NetError e = remote ? s.remote_address(a) : s.local_address(a);
      reply(c, e, [&](const component::Type* t) { return socket_address_val(t, a); });
    });
  }
  udp.func(m("address-family"), 1,
           [sock](HostCall& c) { c.result = family_val(c.result_type(), sock(c.args[0]).ipv6()); });
  add_options(udp, "udp-socket", sock,
              {{"unicast-hop-limit", Socket::Option::HopLimit},
               {"receive-buffer-size", Socket::Option::ReceiveBufferSize},
               {"send-buffer-size", Socket::Option::SendBufferSize}});
  // Bind completes in start-bind, so there is never anything to wait for.
  udp.func(m("subscribe"), 1, [&st, sock](HostCall& c) {
    sock(c.args[0]);
    c.result = new_pollable(st, c.result_type(), std::make_shared<ReadyPollable>());
  });

  udp.func("[method]incoming-datagram-stream.receive", 2, [&sk](HostCall& c) {
    DatagramStream& d = sk.incoming.get(rep(c.args[0]));
    std::vector<UdpSocket::Datagram> got;
    NetError e = d.socket->receive(d.generation, hv::as_uint(c.args[1]), got);
    reply(c, e, [&](const component::Type* t) {
      const component::Type* rt = hv::element(t);
      std::vector<Val> list;
      for (const UdpSocket::Datagram& g : got)
        list.push_back(hv::record(rt, {hv::bytes(hv::field_type(rt, "data"), g.data),
                                       socket_address_val(hv::field_type(rt, "remote-address"), *g.remote)}));
      return hv::list(t, std::move(list));
    });
  });
  udp.func("[method]incoming-datagram-stream.subscribe", 1, [&st, &sk](HostCall& c) {
    c.result = new_pollable(st, c.result_type(), sk.incoming.get(rep(c.args[0])).socket->readable());
  });
  udp.func("[method]outgoing-datagram-stream.check-send", 1, [&sk](HostCall& c) {
    DatagramStream& d = sk.outgoing.get(rep(c.args[0]));
    uint64_t n = 0;
    NetError e = d.socket->check_send(d.generation, n);
    reply(c, e, [&](const component::Type* t) { return hv::scalar(t, n); });
  });
  udp.func("[method]outgoing-datagram-stream.send", 2, [&sk](HostCall& c) {
    DatagramStream& d = sk.outgoing.get(rep(c.args[0]));
    std::vector<UdpSocket::Datagram> ds;
    for (const Val& r : items(c.args[1], component::TypeKind::List, 0)) {
      UdpSocket::Datagram g{std::string(hv::as_bytes(hv::field(r, "data"))), std::nullopt};
      if (const Val* a = hv::option(hv::field(r, "remote-address"))) g.remote = read_socket_address(*a);
      ds.push_back(std::move(g));
    }
    uint64_t sent = 0;
    NetError e = d.socket->send(d.generation, ds, sent);
    reply(c, e, [&](const component::Type* t) { return hv::scalar(t, sent); });
  });
  udp.func("[method]outgoing-datagram-stream.subscribe", 1, [&st, &sk](HostCall& c) {
    c.result = new_pollable(st, c.result_type(), sk.outgoing.get(rep(c.args[0])).socket->writable());
  });

  auto& create = host.add("wasi:sockets/udp-create-socket", kVersion);
  create.use(network);
  create.use(udp_socket);
  create.func("create-udp-socket", 1, [&st, &sk](HostCall& c) {
    std::shared_ptr<UdpSocket> s;
    NetError e = UdpSocket::create(st, ipv6_family(c.args[0]), s);
    reply(c, e, [&](const component::Type* t) {
      return own(t, sk.udp.add(std::make_unique<std::shared_ptr<UdpSocket>>(s)));
    });
  });
}

void add_ip_name_lookup(component::Host& host, State& st, State::Sockets& sk,
                        const std::shared_ptr<component::HostResource>& network) {
  auto& lookup = host.add("wasi:sockets/ip-name-lookup", kVersion);
  lookup.use(st.pollable_resource);
  lookup.use(network);
  lookup.resource("resolve-address-stream", [&sk](uint32_t r) { sk.lookups.remove(r); });
  lookup.func("resolve-addresses", 2, [&st, &sk](HostCall& c) {
    sk.networks.get(rep(c.args[0]));
    std::unique_ptr<ResolveAddressStream> s;
    NetError e = ResolveAddressStream::start(st, hv::as_string(c.args[1]), s);
    reply(c, e, [&](const component::Type* t) { return own(t, sk.lookups.add(std::move(s))); });
  });
  lookup.func("[method]resolve-address-stream.resolve-next-address", 1, [&sk](HostCall& c) {
    std::optional<IpAddress> a;
    NetError e = sk.lookups.get(rep(c.args[0])).next(a);
    reply(c, e, [&](const component::Type* t) {
      if (!a) return hv::none(t);
      const component::Type* vt = hv::element(t);
      const char* label = a->ipv6 ? "ipv6" : "ipv4";
      return hv::some(t, hv::variant(vt, label, ip_tuple(hv::case_type(vt, label), *a)));
    });
  });
  lookup.func("[method]resolve-address-stream.subscribe", 1, [&st, &sk](HostCall& c) {
    c.result = new_pollable(st, c.result_type(), sk.lookups.get(rep(c.args[0])).subscribe());
  });
}

}  // namespace

void add_sockets(component::Host& host, State& st) {
  st.sockets = {new State::Sockets, [](State::Sockets* s) { delete s; }};
  State::Sockets& sk = *st.sockets;

  auto& net = host.add("wasi:sockets/network", kVersion);
  net.use(st.error_resource);
  auto network = net.resource("network", [&sk](uint32_t r) { sk.networks.remove(r); });
  // Some for errors of socket streams (the errno maps to a network code).
  net.func("network-error-code", 1, [&st](HostCall& c) {
    NetError e = net_error(st.errors.get(rep(c.args[0])).code);
    const component::Type* t = c.result_type();
    c.result = e == NetError::Unknown || e == NetError::Ok
                   ? hv::none(t)
                   : hv::some(t, hv::enum_case(hv::element(t), net_error_label(e)));
  });

  auto& instance = host.add("wasi:sockets/instance-network", kVersion);
  instance.use(network);
  instance.func("instance-network", 0, [&sk](HostCall& c) {
    c.result = own(c.result_type(), sk.networks.add(std::make_unique<Network>()));
  });

  add_tcp(host, st, sk, network);
  add_udp(host, st, sk, network);
  add_ip_name_lookup(host, st, sk, network);
}

}  // namespace weft::wasi::p2
