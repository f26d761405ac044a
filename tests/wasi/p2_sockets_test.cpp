// wasi:sockets 0.2 host objects over loopback: the TCP and UDP state
// machines and their error codes, pollables waited for on the loop, name
// lookup, and the network capability. Every wait is bounded by a timer.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "engine/trap.h"
#include "loop/reactor.h"
#include "wasi/p2/state.h"

using namespace weft;
using namespace weft::wasi::p2;

namespace Catch {
template <>
struct StringMaker<NetError> {
  static std::string convert(NetError e) { return e == NetError::Ok ? "ok" : net_error_label(e); }
};
}  // namespace Catch

namespace {

struct Fixture {
  loop::Reactor reactor;
  wasi::common::WasiConfig config;
  State st{reactor, config};
  explicit Fixture(bool network = true) { config.inherit_network = network; }

  // Waits on the loop (at most 5 s) until `p` is ready; false on timeout.
  bool wait(Pollable& p) {
    if (p.ready()) return true;
    bool woke = false, timed_out = false;
    p.watch([&] { woke = true; });
    loop::Timer timer(reactor);
    timer.start(5'000'000'000, [&] { timed_out = true; });
    reactor.run_until([&] { return woke || timed_out; });
    p.unwatch();
    return woke && p.ready();
  }
};

IpSocketAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  IpSocketAddress s;
  s.ip.bytes = {a, b, c, d};
  s.port = port;
  return s;
}

IpSocketAddress v6_loopback(uint16_t port) {
  IpSocketAddress s;
  s.ip.ipv6 = true;
  s.ip.bytes[15] = 1;
  s.port = port;
  return s;
}

std::shared_ptr<TcpSocket> listener(Fixture& f, const IpSocketAddress& at) {
  std::shared_ptr<TcpSocket> s;
  REQUIRE(TcpSocket::create(f.st, at.ip.ipv6, s) == NetError::Ok);
  REQUIRE(s->start_bind(at) == NetError::Ok);
  REQUIRE(s->finish_bind() == NetError::Ok);
  REQUIRE(s->start_listen() == NetError::Ok);
  REQUIRE(s->finish_listen() == NetError::Ok);
  return s;
}

// Both ends of a connection to `server` and their streams.
struct Connection {
  std::shared_ptr<TcpSocket> client, accepted;
  std::unique_ptr<InputStream> client_in, accepted_in;
  std::unique_ptr<OutputStream> client_out, accepted_out;
};

Connection connect_pair(Fixture& f, TcpSocket& server) {
  Connection c;
  IpSocketAddress addr;
  REQUIRE(server.local_address(addr) == NetError::Ok);
  REQUIRE(TcpSocket::create(f.st, addr.ip.ipv6, c.client) == NetError::Ok);
  REQUIRE(c.client->start_connect(addr) == NetError::Ok);
  REQUIRE(c.client->phase() == TcpSocket::Phase::ConnectInProgress);
  auto pollable = c.client->subscribe();
  REQUIRE(f.wait(*pollable));
  REQUIRE(c.client->finish_connect(c.client_in, c.client_out) == NetError::Ok);
  REQUIRE(c.client->phase() == TcpSocket::Phase::Connected);
  std::unique_ptr<InputStream> in;
  std::unique_ptr<OutputStream> out;
  REQUIRE(c.client->finish_connect(in, out) == NetError::NotInProgress);
  auto accepting = server.subscribe();
  REQUIRE(f.wait(*accepting));
  REQUIRE(server.accept(c.accepted, c.accepted_in, c.accepted_out) == NetError::Ok);
  REQUIRE(c.accepted->phase() == TcpSocket::Phase::Connected);
  REQUIRE(c.client_in);
  REQUIRE(c.accepted_out);
  return c;
}

// Writes `data` to `out` and reads it back from `in`, through io's streams.
void through_streams(Fixture& f, OutputStream& out, InputStream& in, const std::string& data) {
  uint64_t permitted = 0;
  auto writable = out.readiness();
  REQUIRE(f.wait(*writable));
  REQUIRE(out.check_write(permitted).kind == StreamStatus::Kind::Ok);
  REQUIRE(permitted >= data.size());
  REQUIRE(out.write(data).kind == StreamStatus::Kind::Ok);
  REQUIRE(out.flush().kind == StreamStatus::Kind::Ok);
  std::string got;
  auto readable = in.readiness();
  while (got.size() < data.size()) {
    REQUIRE(f.wait(*readable));
    REQUIRE(in.read(data.size() - got.size(), got).kind == StreamStatus::Kind::Ok);
  }
  CHECK(got == data);
}

void exchange(TcpSocket& a, TcpSocket& b) {
  REQUIRE(::send(a.fd(), "ping", 4, MSG_NOSIGNAL) == 4);
  char buf[8] = {};
  pollfd p{b.fd(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  REQUIRE(::recv(b.fd(), buf, sizeof buf, 0) == 4);
  CHECK(std::string(buf, 4) == "ping");
}

}  // namespace

TEST_CASE("p2 sockets: error codes carry the WIT's labels and errno mapping", "[wasi][p2][sockets]") {
  CHECK(std::string(net_error_label(NetError::Unknown)) == "unknown");
  CHECK(std::string(net_error_label(NetError::WouldBlock)) == "would-block");
  CHECK(std::string(net_error_label(NetError::PermanentResolverFailure)) == "permanent-resolver-failure");
  using wasi::common::Errno;
  CHECK(net_error(Errno::ConnRefused) == NetError::ConnectionRefused);
  CHECK(net_error(Errno::ConnReset) == NetError::ConnectionReset);
  CHECK(net_error(Errno::AddrInUse) == NetError::AddressInUse);
  CHECK(net_error(Errno::AddrNotAvail) == NetError::AddressNotBindable);
  CHECK(net_error(Errno::Again) == NetError::WouldBlock);
  CHECK(net_error(Errno::MFile) == NetError::NewSocketLimit);
  CHECK(net_error(Errno::MsgSize) == NetError::DatagramTooLarge);
  CHECK(net_error(Errno::NoEnt) == NetError::Unknown);
}

TEST_CASE("p2 sockets: without inherit-network no address can be used", "[wasi][p2][sockets]") {
  Fixture f(false);
  std::shared_ptr<TcpSocket> tcp;
  REQUIRE(TcpSocket::create(f.st, false, tcp) == NetError::Ok);
  CHECK(tcp->start_bind(v4(127, 0, 0, 1, 0)) == NetError::AccessDenied);
  CHECK(tcp->start_connect(v4(127, 0, 0, 1, 80)) == NetError::AccessDenied);
  CHECK(tcp->start_listen() == NetError::InvalidState);  // not bound
  std::shared_ptr<UdpSocket> udp;
  REQUIRE(UdpSocket::create(f.st, true, udp) == NetError::Ok);
  CHECK(udp->start_bind(v6_loopback(0)) == NetError::AccessDenied);
  std::unique_ptr<ResolveAddressStream> lookup;
  CHECK(ResolveAddressStream::start(f.st, "127.0.0.1", lookup) == NetError::AccessDenied);
  CHECK(!lookup);
  // -S tcp=n and -S udp=n: no sockets at all.
  f.config.tcp = f.config.udp = false;
  CHECK(TcpSocket::create(f.st, false, tcp) == NetError::AccessDenied);
  CHECK(UdpSocket::create(f.st, true, udp) == NetError::AccessDenied);
  // -S allow-ip-name-lookup alone.
  f.config.allow_ip_name_lookup = true;
  CHECK(ResolveAddressStream::start(f.st, "127.0.0.1", lookup) == NetError::Ok);
}

TEST_CASE("p2 sockets: TCP listen, connect and accept over 127.0.0.1", "[wasi][p2][sockets]") {
  Fixture f;
  std::shared_ptr<TcpSocket> server;
  REQUIRE(TcpSocket::create(f.st, false, server) == NetError::Ok);
  IpSocketAddress addr;
  // Before bind: no address, nothing to finish, nothing to listen with.
  CHECK(server->local_address(addr) == NetError::InvalidState);
  CHECK(server->finish_bind() == NetError::NotInProgress);
  CHECK(server->start_listen() == NetError::InvalidState);
  CHECK(server->finish_listen() == NetError::NotInProgress);
  std::shared_ptr<TcpSocket> none;
  std::unique_ptr<InputStream> in;
  std::unique_ptr<OutputStream> out;
  CHECK(server->accept(none, in, out) == NetError::InvalidState);
  // An unbound socket's pollable is ready at once.
  CHECK(server->subscribe()->ready());

  CHECK(server->start_bind(v6_loopback(0)) == NetError::InvalidArgument);         // wrong family
  CHECK(server->start_bind(v4(224, 0, 0, 1, 0)) == NetError::InvalidArgument);    // multicast
  REQUIRE(server->start_bind(v4(127, 0, 0, 1, 0)) == NetError::Ok);
  CHECK(server->start_bind(v4(127, 0, 0, 1, 0)) == NetError::ConcurrencyConflict);
  REQUIRE(server->finish_bind() == NetError::Ok);
  CHECK(server->start_bind(v4(127, 0, 0, 1, 0)) == NetError::InvalidState);
  REQUIRE(server->local_address(addr) == NetError::Ok);
  CHECK(addr.ip == v4(127, 0, 0, 1, 0).ip);
  CHECK(addr.port != 0);
  CHECK(server->remote_address(addr) == NetError::InvalidState);
  CHECK(server->set_listen_backlog_size(0) == NetError::InvalidArgument);
  CHECK(server->set_listen_backlog_size(16) == NetError::Ok);
  REQUIRE(server->start_listen() == NetError::Ok);
  CHECK(server->start_listen() == NetError::ConcurrencyConflict);
  REQUIRE(server->finish_listen() == NetError::Ok);
  CHECK(server->phase() == TcpSocket::Phase::Listening);
  CHECK(server->start_listen() == NetError::InvalidState);
  CHECK(server->accept(none, in, out) == NetError::WouldBlock);
  CHECK(!server->subscribe()->ready());  // no connection pending
  CHECK(server->set_listen_backlog_size(1000) == NetError::Ok);
  CHECK(server->shutdown(true, true) == NetError::InvalidState);

  // A second listener on the same port is refused.
  IpSocketAddress bound;
  REQUIRE(server->local_address(bound) == NetError::Ok);
  std::shared_ptr<TcpSocket> clash;
  REQUIRE(TcpSocket::create(f.st, false, clash) == NetError::Ok);
  CHECK(clash->start_bind(bound) == NetError::AddressInUse);

  Connection conn = connect_pair(f, *server);
  auto& client = conn.client;
  auto& accepted = conn.accepted;
  CHECK(client->start_connect(bound) == NetError::InvalidState);
  CHECK(client->start_listen() == NetError::InvalidState);
  CHECK(client->set_listen_backlog_size(4) == NetError::InvalidState);
  REQUIRE(client->remote_address(addr) == NetError::Ok);
  CHECK(addr == bound);
  IpSocketAddress client_local, accepted_remote;
  REQUIRE(client->local_address(client_local) == NetError::Ok);
  REQUIRE(accepted->remote_address(accepted_remote) == NetError::Ok);
  CHECK(client_local == accepted_remote);
  CHECK(!accepted->ipv6());
  exchange(*client, *accepted);
  exchange(*accepted, *client);

  // shutdown(send) gives the peer end of stream; it is idempotent.
  CHECK(client->shutdown(false, true) == NetError::Ok);
  CHECK(client->shutdown(false, true) == NetError::Ok);
  char c;
  pollfd p{accepted->fd(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  CHECK(::recv(accepted->fd(), &c, 1, 0) == 0);
}

TEST_CASE("p2 sockets: TCP over ::1", "[wasi][p2][sockets]") {
  Fixture f;
  auto server = listener(f, v6_loopback(0));
  Connection c = connect_pair(f, *server);
  CHECK(c.client->ipv6());
  IpSocketAddress remote;
  REQUIRE(c.client->remote_address(remote) == NetError::Ok);
  CHECK(remote.ip == v6_loopback(0).ip);
  exchange(*c.client, *c.accepted);
}

TEST_CASE("p2 sockets: TCP streams carry bytes and outlive their socket", "[wasi][p2][sockets]") {
  Fixture f;
  auto server = listener(f, v4(127, 0, 0, 1, 0));
  Connection c = connect_pair(f, *server);
  through_streams(f, *c.client_out, *c.accepted_in, "hello from the client");
  through_streams(f, *c.accepted_out, *c.client_in, std::string(1000, 'x'));
  // The guest may drop the sockets before their streams.
  c.client.reset();
  c.accepted.reset();
  server.reset();
  through_streams(f, *c.client_out, *c.accepted_in, "still open");
  // The client's end of stream reaches the peer's input stream as closed.
  c.client_out.reset();
  c.client_in.reset();
  auto readable = c.accepted_in->readiness();
  REQUIRE(f.wait(*readable));
  std::string rest;
  CHECK(c.accepted_in->read(16, rest).kind == StreamStatus::Kind::Closed);
  CHECK(rest.empty());
}

TEST_CASE("p2 sockets: TCP shutdown(receive) closes the input stream", "[wasi][p2][sockets]") {
  Fixture f;
  auto server = listener(f, v4(127, 0, 0, 1, 0));
  Connection c = connect_pair(f, *server);
  REQUIRE(c.accepted->shutdown(true, false) == NetError::Ok);
  auto readable = c.accepted_in->readiness();
  REQUIRE(f.wait(*readable));
  std::string got;
  CHECK(c.accepted_in->read(16, got).kind == StreamStatus::Kind::Closed);
}

TEST_CASE("p2 sockets: TCP connect checks its address and reports refusal", "[wasi][p2][sockets]") {
  Fixture f;
  std::shared_ptr<TcpSocket> s;
  REQUIRE(TcpSocket::create(f.st, false, s) == NetError::Ok);
  CHECK(s->start_connect(v4(127, 0, 0, 1, 0)) == NetError::InvalidArgument);      // port 0
  CHECK(s->start_connect(v4(0, 0, 0, 0, 80)) == NetError::InvalidArgument);       // unspecified
  CHECK(s->start_connect(v4(255, 255, 255, 255, 80)) == NetError::InvalidArgument);  // broadcast
  CHECK(s->start_connect(v6_loopback(80)) == NetError::InvalidArgument);          // wrong family
  std::shared_ptr<TcpSocket> s6;
  REQUIRE(TcpSocket::create(f.st, true, s6) == NetError::Ok);
  IpSocketAddress mapped = v6_loopback(80);
  mapped.ip.bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  CHECK(s6->start_connect(mapped) == NetError::InvalidArgument);
  CHECK(s6->start_bind(mapped) == NetError::InvalidArgument);

  // A port that was bound and released has no listener: refused, and the
  // socket is closed for good.
  uint16_t port;
  {
    IpSocketAddress a;
    std::shared_ptr<TcpSocket> tmp;
    REQUIRE(TcpSocket::create(f.st, false, tmp) == NetError::Ok);
    REQUIRE(tmp->start_bind(v4(127, 0, 0, 1, 0)) == NetError::Ok);
    CHECK(tmp->local_address(a) == NetError::InvalidState);  // bind not finished
    REQUIRE(tmp->finish_bind() == NetError::Ok);
    REQUIRE(tmp->local_address(a) == NetError::Ok);
    port = a.port;
  }
  std::unique_ptr<InputStream> in;
  std::unique_ptr<OutputStream> out;
  NetError e = s->start_connect(v4(127, 0, 0, 1, port));
  if (e == NetError::Ok) {
    auto p = s->subscribe();
    REQUIRE(f.wait(*p));
    e = s->finish_connect(in, out);
  }
  CHECK(e == NetError::ConnectionRefused);
  CHECK(s->phase() == TcpSocket::Phase::Closed);
  CHECK(s->start_connect(v4(127, 0, 0, 1, port)) == NetError::InvalidState);
  CHECK(s->finish_connect(in, out) == NetError::NotInProgress);
  CHECK(!in);
}

TEST_CASE("p2 sockets: TCP options round-trip and reject zero", "[wasi][p2][sockets]") {
  Fixture f;
  std::shared_ptr<TcpSocket> s;
  REQUIRE(TcpSocket::create(f.st, false, s) == NetError::Ok);
  using O = Socket::Option;
  uint64_t v = 0;
  REQUIRE(s->set_option(O::KeepAliveEnabled, 1) == NetError::Ok);
  REQUIRE(s->get_option(O::KeepAliveEnabled, v) == NetError::Ok);
  CHECK(v == 1);
  REQUIRE(s->set_option(O::KeepAliveEnabled, 0) == NetError::Ok);
  REQUIRE(s->get_option(O::KeepAliveEnabled, v) == NetError::Ok);
  CHECK(v == 0);
  // Durations are nanoseconds, rounded up to the host's whole seconds.
  REQUIRE(s->set_option(O::KeepAliveIdleTime, 1) == NetError::Ok);
  REQUIRE(s->get_option(O::KeepAliveIdleTime, v) == NetError::Ok);
  CHECK(v == 1'000'000'000);
  REQUIRE(s->set_option(O::KeepAliveInterval, 30'000'000'000) == NetError::Ok);
  REQUIRE(s->get_option(O::KeepAliveInterval, v) == NetError::Ok);
  CHECK(v == 30'000'000'000);
  REQUIRE(s->set_option(O::KeepAliveIdleTime, UINT64_MAX) == NetError::Ok);  // clamped
  REQUIRE(s->set_option(O::KeepAliveCount, 5) == NetError::Ok);
  REQUIRE(s->get_option(O::KeepAliveCount, v) == NetError::Ok);
  CHECK(v == 5);
  REQUIRE(s->set_option(O::HopLimit, 42) == NetError::Ok);
  REQUIRE(s->get_option(O::HopLimit, v) == NetError::Ok);
  CHECK(v == 42);
  REQUIRE(s->set_option(O::ReceiveBufferSize, 65536) == NetError::Ok);
  REQUIRE(s->get_option(O::ReceiveBufferSize, v) == NetError::Ok);
  CHECK(v > 0);
  CHECK(s->set_option(O::SendBufferSize, UINT64_MAX) == NetError::Ok);
  for (O o : {O::KeepAliveIdleTime, O::KeepAliveInterval, O::KeepAliveCount, O::HopLimit, O::ReceiveBufferSize,
              O::SendBufferSize})
    CHECK(s->set_option(o, 0) == NetError::InvalidArgument);
}

TEST_CASE("p2 sockets: UDP datagrams over 127.0.0.1", "[wasi][p2][sockets]") {
  Fixture f;
  std::shared_ptr<UdpSocket> a, b;
  REQUIRE(UdpSocket::create(f.st, false, a) == NetError::Ok);
  REQUIRE(UdpSocket::create(f.st, false, b) == NetError::Ok);
  uint64_t gen_a = 0, gen_b = 0, n = 0;
  CHECK(a->stream(std::nullopt, gen_a) == NetError::InvalidState);  // not bound
  IpSocketAddress addr_a, addr_b;
  CHECK(a->local_address(addr_a) == NetError::InvalidState);
  CHECK(a->finish_bind() == NetError::NotInProgress);
  for (auto* s : {&a, &b}) {
    REQUIRE((*s)->start_bind(v4(127, 0, 0, 1, 0)) == NetError::Ok);
    CHECK((*s)->start_bind(v4(127, 0, 0, 1, 0)) == NetError::ConcurrencyConflict);
    REQUIRE((*s)->finish_bind() == NetError::Ok);
  }
  REQUIRE(a->local_address(addr_a) == NetError::Ok);
  REQUIRE(b->local_address(addr_b) == NetError::Ok);
  CHECK(a->remote_address(addr_a) == NetError::InvalidState);

  REQUIRE(a->stream(std::nullopt, gen_a) == NetError::Ok);  // any peer
  CHECK(b->stream(v4(127, 0, 0, 1, 0), gen_b) == NetError::InvalidArgument);
  REQUIRE(b->stream(addr_a, gen_b) == NetError::Ok);  // only a
  IpSocketAddress r;
  REQUIRE(b->remote_address(r) == NetError::Ok);
  CHECK(r == addr_a);

  std::vector<UdpSocket::Datagram> got;
  REQUIRE(a->receive(gen_a, 10, got) == NetError::Ok);
  CHECK(got.empty());
  CHECK(!a->readable()->ready());

  // b sends two datagrams (connected: no address, or exactly a's).
  REQUIRE(b->check_send(gen_b, n) == NetError::Ok);
  REQUIRE(n >= 2);
  uint64_t sent = 0;
  REQUIRE(b->send(gen_b, {{"one", std::nullopt}, {"two", addr_a}}, sent) == NetError::Ok);
  CHECK(sent == 2);
  REQUIRE(b->check_send(gen_b, n) == NetError::Ok);
  CHECK(b->send(gen_b, {{"x", addr_b}}, sent) == NetError::InvalidArgument);  // not its peer
  // Sending without a check-send permit traps.
  CHECK_THROWS_AS(b->send(gen_b, {{"x", std::nullopt}}, sent), engine::Trap);
  REQUIRE(b->send(gen_b, {}, sent) == NetError::Ok);
  CHECK(sent == 0);

  auto readable = a->readable();
  REQUIRE(f.wait(*readable));
  // Both may not have arrived at once; collect up to two.
  for (int i = 0; i < 2 && got.size() < 2; ++i) {
    if (!got.empty()) REQUIRE(f.wait(*readable));
    REQUIRE(a->receive(gen_a, 10, got) == NetError::Ok);
  }
  REQUIRE(got.size() == 2);
  CHECK(got[0].data == "one");
  CHECK(got[1].data == "two");
  CHECK(*got[0].remote == addr_b);

  // a answers; unconnected, so it must name the peer.
  REQUIRE(a->check_send(gen_a, n) == NetError::Ok);
  CHECK(a->send(gen_a, {{"no address", std::nullopt}}, sent) == NetError::InvalidArgument);
  REQUIRE(a->check_send(gen_a, n) == NetError::Ok);
  CHECK(a->send(gen_a, {{"bad", v4(127, 0, 0, 1, 0)}}, sent) == NetError::InvalidArgument);
  REQUIRE(a->check_send(gen_a, n) == NetError::Ok);
  REQUIRE(a->send(gen_a, {{"reply", addr_b}}, sent) == NetError::Ok);
  CHECK(sent == 1);
  auto b_readable = b->readable();
  REQUIRE(f.wait(*b_readable));
  got.clear();
  REQUIRE(b->receive(gen_b, 1, got) == NetError::Ok);
  REQUIRE(got.size() == 1);
  CHECK(got[0].data == "reply");

  // A new stream() retires the previous pair.
  uint64_t gen_b2 = 0;
  REQUIRE(b->stream(std::nullopt, gen_b2) == NetError::Ok);
  CHECK(b->receive(gen_b, 1, got) == NetError::InvalidState);
  CHECK(b->check_send(gen_b, n) == NetError::InvalidState);
  CHECK(b->remote_address(r) == NetError::InvalidState);
}

TEST_CASE("p2 sockets: UDP options", "[wasi][p2][sockets]") {
  Fixture f;
  std::shared_ptr<UdpSocket> s;
  REQUIRE(UdpSocket::create(f.st, true, s) == NetError::Ok);
  CHECK(s->ipv6());
  uint64_t v = 0;
  REQUIRE(s->set_option(Socket::Option::HopLimit, 7) == NetError::Ok);
  REQUIRE(s->get_option(Socket::Option::HopLimit, v) == NetError::Ok);
  CHECK(v == 7);
  CHECK(s->set_option(Socket::Option::HopLimit, 0) == NetError::InvalidArgument);
  CHECK(s->start_bind(v4(127, 0, 0, 1, 0)) == NetError::InvalidArgument);  // wrong family
}

TEST_CASE("p2 sockets: name lookup of literals and localhost needs no resolver", "[wasi][p2][sockets]") {
  Fixture f;
  auto all = [&](std::string_view name) {
    std::unique_ptr<ResolveAddressStream> s;
    REQUIRE(ResolveAddressStream::start(f.st, name, s) == NetError::Ok);
    CHECK(s->subscribe()->ready());
    std::vector<IpAddress> out;
    for (;;) {
      std::optional<IpAddress> a;
      REQUIRE(s->next(a) == NetError::Ok);
      if (!a) break;
      out.push_back(*a);
    }
    return out;
  };
  IpAddress lo4 = v4(127, 0, 0, 1, 0).ip, lo6 = v6_loopback(0).ip;
  CHECK(all("127.0.0.1") == std::vector<IpAddress>{lo4});
  CHECK(all("::1") == std::vector<IpAddress>{lo6});
  CHECK(all("[::1]") == std::vector<IpAddress>{lo6});
  CHECK(all("::ffff:127.0.0.1") == std::vector<IpAddress>{lo4});  // never a mapped address
  CHECK(all("LocalHost") == std::vector<IpAddress>{lo4, lo6});

  std::unique_ptr<ResolveAddressStream> s;
  for (std::string_view bad : {"", "a b", "http://example.com", "exa..mple", "-/x", "[127.0.0.1]"})
    CHECK(ResolveAddressStream::start(f.st, bad, s) == NetError::InvalidArgument);
  CHECK(ResolveAddressStream::start(f.st, std::string(64, 'a') + ".com", s) == NetError::InvalidArgument);
}

TEST_CASE("p2 sockets: name lookup of other names resolves on the loop", "[wasi][p2][sockets]") {
  Fixture f;
  std::unique_ptr<ResolveAddressStream> s;
  // The .invalid TLD never resolves (RFC 6761): whatever the resolver
  // setup, the stream ends in a resolver error, never in an address.
  REQUIRE(ResolveAddressStream::start(f.st, "weft-test.invalid", s) == NetError::Ok);
  auto p = s->subscribe();
  REQUIRE(f.wait(*p));
  std::optional<IpAddress> a;
  NetError e = s->next(a);
  CHECK((e == NetError::NameUnresolvable || e == NetError::TemporaryResolverFailure ||
         e == NetError::PermanentResolverFailure));
  CHECK(!a);
  // Dropping a stream whose lookup is still running is safe.
  REQUIRE(ResolveAddressStream::start(f.st, "weft-test-2.invalid", s) == NetError::Ok);
  std::optional<IpAddress> b;
  CHECK(s->next(b) == NetError::WouldBlock);
  s.reset();
}
