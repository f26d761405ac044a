// wasi:sockets 0.2 (network, instance-network, tcp, tcp-create-socket, udp,
// udp-create-socket, ip-name-lookup). Host sockets are non-blocking; the
// WIT's start-*/finish-* pairs do their system call in start-* and report
// in finish-*, and waiting happens on the loop through pollables. What
// does not depend on the version is in wasi/common/sockets.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "wasi/p2/state.h"

namespace weft::wasi::p2 {

using common::Errno;
using common::bad_local;
using common::bad_remote;
using common::bind_to;
using common::connect_error;
using common::fd_ready;
using common::items;
using common::ip_tuple;
using common::last_net_error;
using common::new_socket;
using common::read_socket_address;
using common::sock_name;
using common::socket_address_val;
using common::to_sockaddr;
using common::from_sockaddr;

// ---- error codes and addresses ----

const char* net_error_label(NetError e) {
  static const char* const kLabels[] = {
      "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory", "timeout",
      "concurrency-conflict", "not-in-progress", "would-block", "invalid-state", "new-socket-limit",
      "address-not-bindable", "address-in-use", "remote-unreachable", "connection-refused",
      "connection-reset", "connection-aborted", "datagram-too-large", "name-unresolvable",
      "temporary-resolver-failure", "permanent-resolver-failure",
      "connection-reset",  // ConnectionBroken: 0.2 has no connection-broken
  };
  return kLabels[static_cast<size_t>(e) - 1];
}

namespace {

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

// ---- tcp ----

NetError TcpSocket::create(State& st, bool ipv6, std::shared_ptr<TcpSocket>& out) {
  std::shared_ptr<SocketFd> fd;
  if (NetError e = new_socket(st.config.tcp, ipv6, SOCK_STREAM, fd); e != NetError::Ok) return e;
  out = std::make_shared<TcpSocket>(st, std::move(fd), ipv6, Phase::Unbound);
  return NetError::Ok;
}

NetError TcpSocket::start_bind(const IpSocketAddress& local) {
  if (phase_ == Phase::BindInProgress) return NetError::ConcurrencyConflict;
  if (phase_ != Phase::Unbound) return NetError::InvalidState;
  if (bad_local(ipv6_, local, true)) return NetError::InvalidArgument;
  // As the WIT's implementors note asks: a port in TIME_WAIT is bindable.
  if (!network_) return NetError::AccessDenied;
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
  if (!network_) return NetError::AccessDenied;
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
  if (!network_) return NetError::AccessDenied;
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
  if (NetError e = new_socket(st.config.udp, ipv6, SOCK_DGRAM, fd); e != NetError::Ok) return e;
  out = std::make_shared<UdpSocket>(st, std::move(fd), ipv6);
  return NetError::Ok;
}

NetError UdpSocket::start_bind(const IpSocketAddress& local) {
  if (phase_ == Phase::BindInProgress) return NetError::ConcurrencyConflict;
  if (phase_ != Phase::Unbound) return NetError::InvalidState;
  if (bad_local(ipv6_, local, false)) return NetError::InvalidArgument;
  if (!network_) return NetError::AccessDenied;
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
  if (remote && !network_) return NetError::AccessDenied;
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
    } else if (!network_) {
      e = NetError::AccessDenied;
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

namespace {

class LookupPollable final : public Pollable {
 public:
  explicit LookupPollable(std::shared_ptr<common::NameLookup> lookup) : lookup_(std::move(lookup)) {}
  ~LookupPollable() override { unwatch(); }
  bool ready() override { return lookup_->done; }
  void watch(std::function<void()> wake) override {
    if (!lookup_->done) lookup_->watchers[this] = std::move(wake);
  }
  void unwatch() override { lookup_->watchers.erase(this); }

 private:
  std::shared_ptr<common::NameLookup> lookup_;
};

}  // namespace

NetError ResolveAddressStream::start(State& st, std::string_view name, std::unique_ptr<ResolveAddressStream>& out) {
  std::shared_ptr<common::NameLookup> lookup;
  NetError e = common::NameLookup::start(st.reactor, st.config.ip_name_lookup_allowed(), name, lookup);
  if (e == NetError::Ok) out = std::make_unique<ResolveAddressStream>(std::move(lookup));
  return e;
}

// Nobody can read the answer any more.
ResolveAddressStream::~ResolveAddressStream() { lookup_->cancel(); }

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
