// wasi:sockets@0.3.0 (types: tcp-socket, udp-socket; ip-name-lookup). Host
// sockets are non-blocking: an operation that would block waits for
// readiness on the socket's loop watch, and the async function returns
// (or the stream moves) once it is done. What does not depend on the
// version is in wasi/common/sockets.
#include "wasi/p3/sockets.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <utility>

#include "wasi/common/resource_table.h"

namespace weft::wasi::p3 {

using common::bad_local;
using common::bad_remote;
using common::connect_error;
using common::last_net_error;
using common::read_socket_address;
using common::socket_address_val;
using component::CopyResult;
using component::HostBuffer;
using component::Type;

// ---- the loop watch ----

uint64_t SocketWatch::wait(int events, std::function<void()> ready) {
  waiters_[++last_] = {events, std::move(ready)};
  arm();
  return last_;
}

void SocketWatch::cancel(uint64_t id) {
  if (waiters_.erase(id)) arm();
}

void SocketWatch::arm() {
  int events = 0;
  for (const auto& [id, w] : waiters_) events |= w.first;
  if (events == 0) return watch_.stop();
  std::weak_ptr<SocketWatch> weak = weak_from_this();
  watch_.start(events, [weak](int status, int ready) {
    auto self = weak.lock();
    if (!self) return;
    // An error wakes everyone: their next system call reports it.
    std::vector<std::function<void()>> woken;
    for (auto it = self->waiters_.begin(); it != self->waiters_.end();) {
      if (status < 0 || (it->second.first & ready)) {
        woken.push_back(std::move(it->second.second));
        it = self->waiters_.erase(it);
      } else {
        ++it;
      }
    }
    self->arm();
    for (auto& wake : woken) wake();
  });
}

namespace {

bool interrupted() { return errno == EINTR; }
bool would_block() { return errno == EAGAIN || errno == EWOULDBLOCK; }

// A connection's bytes: what the guest sends goes out with send(2), what
// arrives comes in with recv(2), each waiting on the socket's watch.
class TcpSink final : public ByteSink, public std::enable_shared_from_this<TcpSink> {
 public:
  explicit TcpSink(std::shared_ptr<TcpSocket> socket) : socket_(std::move(socket)) {}
  void write(std::string_view data, std::function<void(Errno)> done) override {
    while (!data.empty() && failed_ == Errno::Success) {
      ssize_t r = ::send(socket_->fd(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (r >= 0) {
        data.remove_prefix(static_cast<size_t>(r));
      } else if (would_block()) {
        socket_->watch()->wait(UV_WRITABLE,
                               [self = shared_from_this(), data, done] { self->write(data, done); });
        return;
      } else if (!interrupted()) {
        failed_ = common::last_error();
      }
    }
    done(failed_);
  }

 private:
  std::shared_ptr<TcpSocket> socket_;
  Errno failed_ = Errno::Success;
};

class TcpSource final : public ByteSource, public std::enable_shared_from_this<TcpSource> {
 public:
  explicit TcpSource(std::shared_ptr<TcpSocket> socket) : socket_(std::move(socket)) {}
  void read(size_t max, std::function<void(Errno, std::string_view)> done) override {
    std::string buf(max, '\0');
    ssize_t r;
    do r = ::recv(socket_->fd(), buf.data(), max, MSG_DONTWAIT);
    while (r < 0 && interrupted());
    if (r < 0 && would_block()) {
      waiting_ = socket_->watch()->wait(UV_READABLE, [self = shared_from_this(), max, done] {
        self->waiting_ = 0;
        self->read(max, done);
      });
      return;
    }
    if (r < 0) return done(common::last_error(), {});
    done(Errno::Success, std::string_view(buf).substr(0, static_cast<size_t>(r)));
  }
  void cancel() override {
    if (waiting_) socket_->watch()->cancel(std::exchange(waiting_, 0));
  }

 private:
  std::shared_ptr<TcpSocket> socket_;
  uint64_t waiting_ = 0;
};

}  // namespace

// ---- tcp ----

NetError TcpSocket::create(State& st, bool ipv6, std::shared_ptr<TcpSocket>& out) {
  std::shared_ptr<SocketFd> fd;
  if (NetError e = common::new_socket(st.config.tcp, ipv6, SOCK_STREAM, fd); e != NetError::Ok) return e;
  out = std::make_shared<TcpSocket>(st, std::move(fd), ipv6, Phase::Unbound);
  return NetError::Ok;
}

NetError TcpSocket::bind(const IpSocketAddress& local) {
  if (phase_ != Phase::Unbound) return NetError::InvalidState;
  if (bad_local(ipv6_, local, true)) return NetError::InvalidArgument;
  // As the WIT's implementors note asks: a port in TIME_WAIT is bindable.
  if (!network_) return NetError::AccessDenied;
  int one = 1;
  if (setsockopt(fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) return last_net_error();
  if (NetError e = common::bind_to(fd(), local); e != NetError::Ok) return e;
  phase_ = Phase::Bound;
  return NetError::Ok;
}

void TcpSocket::connect(const IpSocketAddress& remote, Done done) {
  if (phase_ != Phase::Unbound && phase_ != Phase::Bound) return done(NetError::InvalidState);
  if (bad_remote(ipv6_, remote, true)) return done(NetError::InvalidArgument);
  if (!network_) return done(NetError::AccessDenied);
  sockaddr_storage ss;
  socklen_t len = common::to_sockaddr(remote, ss);
  int r;
  do r = ::connect(fd(), reinterpret_cast<sockaddr*>(&ss), len);
  while (r < 0 && interrupted());
  if (r == 0) {
    phase_ = Phase::Connected;
    return done(NetError::Ok);
  }
  if (errno != EINPROGRESS) {
    phase_ = Phase::Closed;
    return done(connect_error(common::last_error()));
  }
  phase_ = Phase::Connecting;
  waiting_ = watch_->wait(UV_WRITABLE, [self = shared_from_this(), done] {
    self->waiting_ = 0;
    int err = 0;
    socklen_t n = sizeof err;
    if (getsockopt(self->fd(), SOL_SOCKET, SO_ERROR, &err, &n) < 0) err = errno;
    self->phase_ = err == 0 ? Phase::Connected : Phase::Closed;
    done(err == 0 ? NetError::Ok : connect_error(common::from_host_errno(err)));
  });
}

void TcpSocket::cancel_connect() {
  if (phase_ != Phase::Connecting) return;
  watch_->cancel(std::exchange(waiting_, 0));
  phase_ = Phase::Closed;
}

NetError TcpSocket::listen() {
  if (phase_ != Phase::Unbound && phase_ != Phase::Bound) return NetError::InvalidState;
  if (!network_) return NetError::AccessDenied;
  // Linux binds an unbound socket to a free port here, as the WIT asks.
  if (::listen(fd(), backlog_) < 0) return last_net_error();
  phase_ = Phase::Listening;
  return NetError::Ok;
}

void TcpSocket::accept(std::function<void(NetError, std::shared_ptr<TcpSocket>)> done) {
  int s;
  do s = accept4(fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (s < 0 && interrupted());
  if (s < 0 && would_block()) {
    waiting_ = watch_->wait(UV_READABLE, [self = shared_from_this(), done] {
      self->waiting_ = 0;
      self->accept(done);
    });
    return;
  }
  if (s < 0) return done(last_net_error(), nullptr);
  // Linux copies the listener's options (keep-alive, hop limit, buffer
  // sizes) to the accepted socket, as the WIT asks.
  done(NetError::Ok,
       std::make_shared<TcpSocket>(st_, std::make_shared<SocketFd>(s), ipv6_, Phase::Connected));
}

void TcpSocket::cancel_accept() {
  if (waiting_) watch_->cancel(std::exchange(waiting_, 0));
}

NetError TcpSocket::start_send(std::shared_ptr<ByteSink>& out) {
  if (phase_ != Phase::Connected || sent_) return NetError::InvalidState;
  sent_ = true;
  out = std::make_shared<TcpSink>(shared_from_this());
  return NetError::Ok;
}

NetError TcpSocket::start_receive(std::shared_ptr<ByteSource>& out) {
  if (phase_ != Phase::Connected || received_) return NetError::InvalidState;
  received_ = true;
  out = std::make_shared<TcpSource>(shared_from_this());
  return NetError::Ok;
}

void TcpSocket::finish_send() { ::shutdown(fd(), SHUT_WR); }

NetError TcpSocket::local_address(IpSocketAddress& out) const {
  if (phase_ == Phase::Unbound || phase_ == Phase::Closed) return NetError::InvalidState;
  return common::sock_name(fd(), false, out);
}

NetError TcpSocket::remote_address(IpSocketAddress& out) const {
  if (phase_ != Phase::Connected) return NetError::InvalidState;
  return common::sock_name(fd(), true, out);
}

NetError TcpSocket::set_listen_backlog_size(uint64_t value) {
  if (value == 0) return NetError::InvalidArgument;
  if (phase_ == Phase::Connecting || phase_ == Phase::Connected) return NetError::InvalidState;
  backlog_ = static_cast<int>(std::min<uint64_t>(value, INT_MAX));
  // Linux takes a new backlog by listening again.
  if (phase_ == Phase::Listening && ::listen(fd(), backlog_) < 0) return last_net_error();
  return NetError::Ok;
}

// ---- udp ----

NetError UdpSocket::create(State& st, bool ipv6, std::shared_ptr<UdpSocket>& out) {
  std::shared_ptr<SocketFd> fd;
  if (NetError e = common::new_socket(st.config.udp, ipv6, SOCK_DGRAM, fd); e != NetError::Ok) return e;
  out = std::make_shared<UdpSocket>(st, std::move(fd), ipv6);
  return NetError::Ok;
}

NetError UdpSocket::bind(const IpSocketAddress& local) {
  if (bound_) return NetError::InvalidState;
  if (bad_local(ipv6_, local, false)) return NetError::InvalidArgument;
  if (!network_) return NetError::AccessDenied;
  if (NetError e = common::bind_to(fd(), local); e != NetError::Ok) return e;
  bound_ = true;
  return NetError::Ok;
}

NetError UdpSocket::connect(const IpSocketAddress& remote) {
  if (bad_remote(ipv6_, remote, false)) return NetError::InvalidArgument;
  if (!network_) return NetError::AccessDenied;
  // Linux wants a disconnect before another peer.
  if (remote_) {
    if (NetError e = disconnect(); e != NetError::Ok) return e;
  }
  sockaddr_storage ss;
  socklen_t len = common::to_sockaddr(remote, ss);
  if (::connect(fd(), reinterpret_cast<sockaddr*>(&ss), len) < 0) return connect_error(common::last_error());
  remote_ = remote;
  bound_ = true;  // connect binds implicitly
  return NetError::Ok;
}

NetError UdpSocket::disconnect() {
  if (!remote_) return NetError::InvalidState;
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  if (::connect(fd(), &unspec, sizeof unspec) < 0) return last_net_error();
  remote_.reset();
  return NetError::Ok;
}

void UdpSocket::send(std::string data, const std::optional<IpSocketAddress>& remote, Wait wait,
                     std::function<void(NetError)> done) {
  if (remote_ ? remote && *remote != *remote_ : !remote || bad_remote(ipv6_, *remote, false))
    return done(NetError::InvalidArgument);
  if (!network_) return done(NetError::AccessDenied);
  // A connected socket sends to its peer (no address), others sendto.
  sockaddr_storage ss;
  socklen_t len = remote_ ? 0 : common::to_sockaddr(*remote, ss);
  ssize_t r;
  do
    r = ::sendto(fd(), data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                 remote_ ? nullptr : reinterpret_cast<sockaddr*>(&ss), len);
  while (r < 0 && interrupted());
  if (r < 0 && would_block()) {
    auto retry = [self = shared_from_this(), data = std::move(data), remote, wait, done]() mutable {
      self->send(std::move(data), remote, std::move(wait), std::move(done));
    };
    *wait = watch_->wait(UV_WRITABLE, std::move(retry));
    return;
  }
  *wait = 0;
  if (r >= 0) bound_ = true;  // sendto binds implicitly
  done(r < 0 ? last_net_error() : NetError::Ok);
}

void UdpSocket::receive(Wait wait, std::function<void(NetError, Datagram)> done) {
  *wait = 0;
  if (!bound_) return done(NetError::InvalidState, {});
  std::string buf(65536, '\0');
  sockaddr_storage from{};
  socklen_t len = sizeof from;
  ssize_t r;
  do r = ::recvfrom(fd(), buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
  while (r < 0 && interrupted());
  if (r < 0 && would_block()) {
    *wait = watch_->wait(UV_READABLE, [self = shared_from_this(), wait, done] { self->receive(wait, done); });
    return;
  }
  if (r < 0) return done(last_net_error(), {});
  buf.resize(static_cast<size_t>(r));
  done(NetError::Ok, {std::move(buf), common::from_sockaddr(from)});
}

NetError UdpSocket::local_address(IpSocketAddress& out) const {
  if (!bound_) return NetError::InvalidState;
  return common::sock_name(fd(), false, out);
}

NetError UdpSocket::remote_address(IpSocketAddress& out) const {
  if (!remote_) return NetError::InvalidState;
  return common::sock_name(fd(), true, out);
}

// ---- bindings ----

struct State::Sockets {
  common::ResourceTable<std::shared_ptr<TcpSocket>> tcp;
  common::ResourceTable<std::shared_ptr<UdpSocket>> udp;
};

namespace {

using Sockets = State::Sockets;

// types.error-code: 0.3 has no codes for the host's other conditions.
Val error_val(const Type* t, NetError e) {
  const char* label = "other";
  switch (e) {
    case NetError::AccessDenied:
      label = "access-denied";
      break;
    case NetError::NotSupported:
      label = "not-supported";
      break;
    case NetError::InvalidArgument:
      label = "invalid-argument";
      break;
    case NetError::OutOfMemory:
      label = "out-of-memory";
      break;
    case NetError::Timeout:
      label = "timeout";
      break;
    case NetError::InvalidState:
    case NetError::ConcurrencyConflict:
      label = "invalid-state";
      break;
    case NetError::AddressNotBindable:
      label = "address-not-bindable";
      break;
    case NetError::AddressInUse:
      label = "address-in-use";
      break;
    case NetError::RemoteUnreachable:
      label = "remote-unreachable";
      break;
    case NetError::ConnectionRefused:
      label = "connection-refused";
      break;
    case NetError::ConnectionBroken:
      label = "connection-broken";
      break;
    case NetError::ConnectionReset:
      label = "connection-reset";
      break;
    case NetError::ConnectionAborted:
      label = "connection-aborted";
      break;
    case NetError::DatagramTooLarge:
      label = "datagram-too-large";
      break;
    default:
      return hv::variant(t, label, hv::none(hv::case_type(t, label)));
  }
  return hv::variant(t, label);
}

// ip-name-lookup.error-code.
Val lookup_error_val(const Type* t, NetError e) {
  const char* label = "other";
  switch (e) {
    case NetError::AccessDenied:
      label = "access-denied";
      break;
    case NetError::InvalidArgument:
      label = "invalid-argument";
      break;
    case NetError::NameUnresolvable:
      label = "name-unresolvable";
      break;
    case NetError::TemporaryResolverFailure:
      label = "temporary-resolver-failure";
      break;
    case NetError::PermanentResolverFailure:
      label = "permanent-resolver-failure";
      break;
    default:
      return hv::variant(t, label, hv::none(hv::case_type(t, label)));
  }
  return hv::variant(t, label);
}

// A result<T, error-code> of type `t`: err(e), or ok with `value(ok-type)`.
Val result_val(const Type* t, NetError e, const std::function<Val(const Type*)>& value = {}) {
  if (e != NetError::Ok) return hv::err(t, error_val(hv::err_type(t), e));
  return value ? hv::ok(t, value(hv::ok_type(t))) : hv::ok(t);
}

void reply(HostCall& c, NetError e, const std::function<Val(const Type*)>& value = {}) {
  c.result = result_val(c.result_type(), e, value);
}

bool ipv6_family(const Val& v) { return hv::case_label(v) == "ipv6"; }
Val family_val(const Type* t, bool ipv6) { return hv::enum_case(t, ipv6 ? "ipv6" : "ipv4"); }
uint64_t rep(const Val& v) { return hv::as_uint(v); }

struct OptionName {
  const char* name;
  common::Socket::Option option;
};

// The get- and set- methods of each option of a socket resource.
void add_options(component::HostInterface& iface, const std::string& resource,
                 std::function<common::Socket&(const Val&)> socket,
                 std::initializer_list<OptionName> options) {
  for (const OptionName& o : options) {
    iface.func("[method]" + resource + ".get-" + o.name, 1, [socket, o](HostCall& c) {
      uint64_t value = 0;
      NetError e = socket(c.args[0]).get_option(o.option, value);
      reply(c, e, [&](const Type* t) {
        // Narrow results (hop-limit: u8) take the largest value they hold.
        using component::TypeKind;
        uint64_t max = t->kind == TypeKind::U8 ? 0xff : t->kind == TypeKind::U32 ? 0xffffffff : UINT64_MAX;
        return hv::scalar(t, std::min(value, max));
      });
    });
    iface.func("[method]" + resource + ".set-" + o.name, 2, [socket, o](HostCall& c) {
      reply(c, socket(c.args[0]).set_option(o.option, hv::as_uint(c.args[1])));
    });
  }
}

// Delivers how a stream ended to `future` (a future<result<_, error-code>>),
// after `on_ok` when it ended well.
// result<_, error-code> of how a connection's stream ended.
Val stream_outcome(const Type* t, Errno e) { return result_val(t, common::net_error(e)); }

// Feeds the stream<tcp-socket> that listen returns from accept. A
// connection is accepted only while the guest reads (a zero-length write
// waits for its read), so a guest that dropped the stream is noticed and
// the listener released, and connections it does not take wait in the
// kernel's backlog.
class Acceptor : public std::enable_shared_from_this<Acceptor> {
 public:
  Acceptor(Runtime& rt, State& st, Sockets& sk, std::shared_ptr<TcpSocket> listener,
           std::unique_ptr<HostEnd> to)
      : rt_(rt), st_(st), sk_(sk), listener_(std::move(listener)), to_(std::move(to)) {}

  void start() {
    id_ = st_.ops.add(shared_from_this());
    wait_for_reader();
  }

 private:
  void wait_for_reader() {
    give({}, 0, [self = shared_from_this()] { self->accept(); });
  }

  void accept() {
    listener_->accept([self = shared_from_this()](NetError e, std::shared_ptr<TcpSocket> client) {
      self->rt_.post([self, e, client] { self->accepted(e, client); });
    });
  }

  void accepted(NetError e, const std::shared_ptr<TcpSocket>& client) {
    if (e != NetError::Ok) {
      // The implementors note: errors of one connection are skipped, the
      // stream stays; others (no descriptors left) end it.
      if (e == NetError::ConnectionAborted || e == NetError::ConnectionReset ||
          e == NetError::RemoteUnreachable || e == NetError::NotSupported)
        return accept();
      return end();
    }
    uint32_t r = sk_.tcp.add(std::make_unique<std::shared_ptr<TcpSocket>>(client));
    give({hv::scalar(to_->element(), r)}, r, [self = shared_from_this()] { self->wait_for_reader(); });
  }

  // Writes `vals` (none: waits until the guest reads) and runs `next` once
  // the copy completed. The socket `rep` is freed if the guest did not take it.
  void give(std::vector<Val> vals, uint32_t rep, std::function<void()> next) {
    to_->copy(std::make_unique<HostBuffer>(to_->element(), std::move(vals)),
              [self = shared_from_this(), rep, next](CopyResult result, std::unique_ptr<HostBuffer> b) {
                bool taken = b->progress > 0;
                // The guest may bind the port again before posted work
                // runs: the listener goes now.
                if (result != CopyResult::COMPLETED) self->release_listener();
                self->rt_.post([self, result, taken, rep, next] {
                  if (rep && !taken) self->sk_.tcp.remove(rep);
                  if (result == CopyResult::COMPLETED) return next();
                  self->end();
                });
              });
  }

  void release_listener() {
    if (listener_) listener_->cancel_accept();
    listener_.reset();
  }

  void end() {
    release_listener();
    to_.reset();
    st_.ops.remove(id_);
  }

  Runtime& rt_;
  State& st_;
  Sockets& sk_;
  std::shared_ptr<TcpSocket> listener_;
  std::unique_ptr<HostEnd> to_;
  uint64_t id_ = 0;
};

void add_tcp(component::HostInterface& types, State& st, Sockets& sk) {
  types.resource("tcp-socket", [&sk](uint32_t r) { sk.tcp.remove(r); });
  auto get = [&sk](const Val& v) -> std::shared_ptr<TcpSocket> { return sk.tcp.get(rep(v)); };
  auto m = [](const char* name) { return std::string("[method]tcp-socket.") + name; };

  types.func("[static]tcp-socket.create", 1, [&st, &sk](HostCall& c) {
    std::shared_ptr<TcpSocket> s;
    NetError e = TcpSocket::create(st, ipv6_family(c.args[0]), s);
    reply(c, e, [&](const Type* t) {
      return hv::scalar(t, sk.tcp.add(std::make_unique<std::shared_ptr<TcpSocket>>(s)));
    });
  });
  types.func(m("bind"), 2,
             [get](HostCall& c) { reply(c, get(c.args[0])->bind(read_socket_address(c.args[1]))); });
  types.func(m("connect"), 2, [get](HostCall& c) {
    std::shared_ptr<TcpSocket> s = get(c.args[0]);
    IpSocketAddress remote = read_socket_address(c.args[1]);
    const Type* t = c.result_type();
    std::shared_ptr<component::HostPending> pending = c.defer();
    pending->on_cancel = [s, weak = std::weak_ptr(pending)] {
      s->cancel_connect();
      if (auto p = weak.lock()) p->cancel();
    };
    s->connect(remote, [pending, t](NetError e) {
      if (!pending->done()) pending->resolve(result_val(t, e));
    });
  });
  types.func(m("listen"), 1, [&st, &sk, get](HostCall& c) {
    std::shared_ptr<TcpSocket> s = get(c.args[0]);
    NetError e = s->listen();
    reply(c, e, [&](const Type* t) {
      auto [stream, writer] = c.runtime.host_stream(t);
      std::make_shared<Acceptor>(c.runtime, st, sk, s, std::move(writer))->start();
      return std::move(stream);
    });
  });
  types.func(m("send"), 2, [&st, get](HostCall& c) {
    std::shared_ptr<TcpSocket> s = get(c.args[0]);
    std::unique_ptr<HostEnd> data = c.runtime.host_readable(c.args[1]);
    auto [future, promise] = c.runtime.host_stream(c.result_type());
    c.result = std::move(future);
    std::shared_ptr<ByteSink> sink;
    if (NetError e = s->start_send(sink); e != NetError::Ok) {
      data.reset();
      const Type* t = promise->element();
      return deliver(st, std::move(promise), result_val(t, e));
    }
    pump_to_sink(c.runtime, st, std::move(data), sink,
                 [s, finished = deliver_outcome(st, std::move(promise), stream_outcome)](Errno e) {
                   if (e == Errno::Success) s->finish_send();
                   finished(e);
                 });
  });
  types.func(m("receive"), 1, [&st, get](HostCall& c) {
    std::shared_ptr<TcpSocket> s = get(c.args[0]);
    const Type* t = c.result_type();
    auto [stream, writer] = c.runtime.host_stream(hv::tuple_type(t, 0));
    auto [future, promise] = c.runtime.host_stream(hv::tuple_type(t, 1));
    c.result = hv::tuple(t, {std::move(stream), std::move(future)});
    std::shared_ptr<ByteSource> source;
    if (NetError e = s->start_receive(source); e != NetError::Ok) {
      writer.reset();  // a stream that is closed at once
      const Type* ft = promise->element();
      return deliver(st, std::move(promise), result_val(ft, e));
    }
    pump_from_source(c.runtime, st, std::move(writer), source,
                     deliver_outcome(st, std::move(promise), stream_outcome));
  });
  for (bool remote : {false, true}) {
    types.func(m(remote ? "get-remote-address" : "get-local-address"), 1, [get, remote](HostCall& c) {
      IpSocketAddress a;
      std::shared_ptr<TcpSocket> s = get(c.args[0]);
      NetError e = remote ? s->remote_address(a) : s->local_address(a);
      reply(c, e, [&](const Type* t) { return socket_address_val(t, a); });
    });
  }
  types.func(m("get-is-listening"), 1, [get](HostCall& c) {
    c.result = hv::scalar(c.result_type(), get(c.args[0])->phase() == TcpSocket::Phase::Listening);
  });
  types.func(m("get-address-family"), 1,
             [get](HostCall& c) { c.result = family_val(c.result_type(), get(c.args[0])->ipv6()); });
  types.func(m("set-listen-backlog-size"), 2, [get](HostCall& c) {
    reply(c, get(c.args[0])->set_listen_backlog_size(hv::as_uint(c.args[1])));
  });
  using O = common::Socket::Option;
  add_options(types, "tcp-socket", [get](const Val& v) -> common::Socket& { return *get(v); },
              {{"keep-alive-enabled", O::KeepAliveEnabled},
               {"keep-alive-idle-time", O::KeepAliveIdleTime},
               {"keep-alive-interval", O::KeepAliveInterval},
               {"keep-alive-count", O::KeepAliveCount},
               {"hop-limit", O::HopLimit},
               {"receive-buffer-size", O::ReceiveBufferSize},
               {"send-buffer-size", O::SendBufferSize}});
}

void add_udp(component::HostInterface& types, State& st, Sockets& sk) {
  types.resource("udp-socket", [&sk](uint32_t r) { sk.udp.remove(r); });
  auto get = [&sk](const Val& v) -> std::shared_ptr<UdpSocket> { return sk.udp.get(rep(v)); };
  auto m = [](const char* name) { return std::string("[method]udp-socket.") + name; };

  types.func("[static]udp-socket.create", 1, [&st, &sk](HostCall& c) {
    std::shared_ptr<UdpSocket> s;
    NetError e = UdpSocket::create(st, ipv6_family(c.args[0]), s);
    reply(c, e, [&](const Type* t) {
      return hv::scalar(t, sk.udp.add(std::make_unique<std::shared_ptr<UdpSocket>>(s)));
    });
  });
  types.func(m("bind"), 2,
             [get](HostCall& c) { reply(c, get(c.args[0])->bind(read_socket_address(c.args[1]))); });
  types.func(m("connect"), 2,
             [get](HostCall& c) { reply(c, get(c.args[0])->connect(read_socket_address(c.args[1]))); });
  types.func(m("disconnect"), 1, [get](HostCall& c) { reply(c, get(c.args[0])->disconnect()); });
  types.func(m("send"), 3, [get](HostCall& c) {
    std::shared_ptr<UdpSocket> s = get(c.args[0]);
    std::optional<IpSocketAddress> remote;
    if (const Val* a = hv::option(c.args[2])) remote = read_socket_address(*a);
    const Type* t = c.result_type();
    std::shared_ptr<component::HostPending> pending = c.defer();
    auto wait = std::make_shared<uint64_t>(0);
    s->send(std::string(hv::as_bytes(c.args[1])), remote, wait, [pending, t](NetError e) {
      if (!pending->done()) pending->resolve(result_val(t, e));
    });
    pending->on_cancel = [s, wait, weak = std::weak_ptr(pending)] {
      s->cancel(wait);
      if (auto p = weak.lock(); p && !p->done()) p->cancel();
    };
  });
  types.func(m("receive"), 1, [get](HostCall& c) {
    std::shared_ptr<UdpSocket> s = get(c.args[0]);
    const Type* t = c.result_type();
    std::shared_ptr<component::HostPending> pending = c.defer();
    auto wait = std::make_shared<uint64_t>(0);
    s->receive(wait, [pending, t](NetError e, UdpSocket::Datagram d) {
      if (pending->done()) return;
      pending->resolve(result_val(t, e, [&](const Type* ok) {
        return hv::tuple(ok, {hv::bytes(hv::tuple_type(ok, 0), d.data),
                              socket_address_val(hv::tuple_type(ok, 1), d.remote)});
      }));
    });
    pending->on_cancel = [s, wait, weak = std::weak_ptr(pending)] {
      s->cancel(wait);
      if (auto p = weak.lock(); p && !p->done()) p->cancel();
    };
  });
  for (bool remote : {false, true}) {
    types.func(m(remote ? "get-remote-address" : "get-local-address"), 1, [get, remote](HostCall& c) {
      IpSocketAddress a;
      std::shared_ptr<UdpSocket> s = get(c.args[0]);
      NetError e = remote ? s->remote_address(a) : s->local_address(a);
      reply(c, e, [&](const Type* t) { return socket_address_val(t, a); });
    });
  }
  types.func(m("get-address-family"), 1,
             [get](HostCall& c) { c.result = family_val(c.result_type(), get(c.args[0])->ipv6()); });
  using O = common::Socket::Option;
  add_options(types, "udp-socket", [get](const Val& v) -> common::Socket& { return *get(v); },
              {{"unicast-hop-limit", O::HopLimit},
               {"receive-buffer-size", O::ReceiveBufferSize},
               {"send-buffer-size", O::SendBufferSize}});
}

// The result of resolve-addresses once `l` is done.
Val lookup_result(const Type* t, const common::NameLookup& l) {
  if (l.error != NetError::Ok) return hv::err(t, lookup_error_val(hv::err_type(t), l.error));
  const Type* lt = hv::ok_type(t);
  const Type* at = hv::element(lt);
  std::vector<Val> list;
  for (const IpAddress& a : l.addresses) {
    const char* label = a.ipv6 ? "ipv6" : "ipv4";
    list.push_back(hv::variant(at, label, common::ip_tuple(hv::case_type(at, label), a)));
  }
  return hv::ok(t, hv::list(lt, std::move(list)));
}

void add_ip_name_lookup(component::Host& host, State& st) {
  host.add("wasi:sockets/ip-name-lookup", kVersion).func("resolve-addresses", 1, [&st](HostCall& c) {
    const Type* t = c.result_type();
    std::shared_ptr<common::NameLookup> l;
    NetError e = common::NameLookup::start(st.reactor, st.config.ip_name_lookup_allowed(),
                                           hv::as_string(c.args[0]), l);
    if (e != NetError::Ok) {
      c.result = hv::err(t, lookup_error_val(hv::err_type(t), e));
      return;
    }
    if (l->done) {
      c.result = lookup_result(t, *l);
      return;
    }
    std::shared_ptr<component::HostPending> pending = c.defer();
    l->watchers[pending.get()] = [pending, t, l] { pending->resolve(lookup_result(t, *l)); };
    pending->on_cancel = [l, weak = std::weak_ptr(pending)] {
      auto p = weak.lock();
      if (!p) return;
      l->watchers.erase(p.get());
      l->cancel();
      p->cancel();
    };
  });
}

}  // namespace

void add_sockets(component::Host& host, State& st) {
  st.sockets = {new State::Sockets, [](State::Sockets* s) { delete s; }};
  Sockets& sk = *st.sockets;
  auto& types = host.add("wasi:sockets/types", kVersion);
  add_tcp(types, st, sk);
  add_udp(types, st, sk);
  add_ip_name_lookup(host, st);
}

}  // namespace weft::wasi::p3
