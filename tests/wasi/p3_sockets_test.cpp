// wasi:sockets@0.3.0 host objects over loopback: connect, accept, the byte
// sink and source of a connection, datagrams, the state machines' error
// codes, one loop watch shared by a socket's waiters, and the capability
// flags. Every wait runs the loop, bounded by a timer.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "loop/reactor.h"
#include "wasi/p2_support.h"
#include "wasi/p3/sockets.h"

using namespace weft;
using namespace weft::wasi::p3;
namespace common = weft::wasi::common;
using common::Errno;

namespace Catch {
template <>
struct StringMaker<NetError> {
  static std::string convert(NetError e) { return std::to_string(static_cast<int>(e)); }
};
}  // namespace Catch

namespace {

struct Fixture {
  loop::Reactor reactor;
  wasi::common::WasiConfig config;
  State st{reactor, config};
  Fixture() { config.inherit_network = true; }

  // Runs the loop (at most 5 s) until `done()`; false on timeout.
  bool run_until(const std::function<bool()>& done) {
    bool timed_out = false;
    loop::Timer timer(reactor);
    timer.start(5'000'000'000, [&] { timed_out = true; });
    reactor.run_until([&] { return done() || timed_out; });
    return done();
  }
};

IpSocketAddress loopback4(uint16_t port = 0) {
  IpSocketAddress a;
  a.ip.bytes = {127, 0, 0, 1};
  a.port = port;
  return a;
}

IpSocketAddress loopback6(uint16_t port = 0) {
  IpSocketAddress a;
  a.ip.ipv6 = true;
  a.ip.bytes[15] = 1;
  a.port = port;
  return a;
}

std::shared_ptr<TcpSocket> listener(Fixture& f, const IpSocketAddress& at) {
  std::shared_ptr<TcpSocket> s;
  REQUIRE(TcpSocket::create(f.st, at.ip.ipv6, s) == NetError::Ok);
  REQUIRE(s->bind(at) == NetError::Ok);
  REQUIRE(s->listen() == NetError::Ok);
  return s;
}

struct Connection {
  std::shared_ptr<TcpSocket> client, accepted;
};

Connection connect_pair(Fixture& f, TcpSocket& server) {
  Connection c;
  IpSocketAddress at;
  REQUIRE(server.local_address(at) == NetError::Ok);
  REQUIRE(TcpSocket::create(f.st, at.ip.ipv6, c.client) == NetError::Ok);
  std::optional<NetError> connected;
  c.client->connect(at, [&](NetError e) { connected = e; });
  std::optional<NetError> accepted;
  server.accept([&](NetError e, std::shared_ptr<TcpSocket> s) {
    accepted = e;
    c.accepted = std::move(s);
  });
  REQUIRE(f.run_until([&] { return connected && accepted; }));
  REQUIRE(*connected == NetError::Ok);
  REQUIRE(*accepted == NetError::Ok);
  REQUIRE(c.client->phase() == TcpSocket::Phase::Connected);
  REQUIRE(c.accepted->phase() == TcpSocket::Phase::Connected);
  return c;
}

// Reads from `source` until `want` bytes or end of stream.
std::string read_all(Fixture& f, ByteSource& source, size_t want, bool& eof) {
  std::string got;
  eof = false;
  while (got.size() < want && !eof) {
    bool done = false;
    source.read(want - got.size(), [&](Errno e, std::string_view data) {
      REQUIRE(e == Errno::Success);
      if (data.empty()) eof = true;
      got += data;
      done = true;
    });
    REQUIRE(f.run_until([&] { return done; }));
  }
  return got;
}

}  // namespace

TEST_CASE("p3 sockets: a connection carries bytes both ways and ends with FIN", "[wasi][p3][sockets]") {
  Fixture f;
  for (IpSocketAddress at : {loopback4(), loopback6()}) {
    auto server = listener(f, at);
    CHECK(server->phase() == TcpSocket::Phase::Listening);
    Connection c = connect_pair(f, *server);
    IpSocketAddress local, remote;
    REQUIRE(c.client->local_address(local) == NetError::Ok);
    REQUIRE(c.accepted->remote_address(remote) == NetError::Ok);
    CHECK(local == remote);

    std::shared_ptr<ByteSink> sink;
    std::shared_ptr<ByteSource> source, back;
    REQUIRE(c.client->start_send(sink) == NetError::Ok);
    REQUIRE(c.accepted->start_receive(source) == NetError::Ok);
    // A large write waits for the reader: the sink and source share the
    // socket's one watch with the other side's.
    std::string data(4 << 20, 'x');
    for (size_t i = 0; i < data.size(); i += 4093) data[i] = static_cast<char>('a' + i % 26);
    std::optional<Errno> written;
    sink->write(data, [&](Errno e) { written = e; });
    bool eof = false;
    CHECK(read_all(f, *source, data.size(), eof) == data);
    REQUIRE(f.run_until([&] { return written.has_value(); }));
    CHECK(*written == Errno::Success);
    c.client->finish_send();
    CHECK(read_all(f, *source, 1, eof).empty());
    CHECK(eof);

    // The other way, while the first direction is shut.
    std::shared_ptr<ByteSink> reply;
    REQUIRE(c.accepted->start_send(reply) == NetError::Ok);
    REQUIRE(c.client->start_receive(back) == NetError::Ok);
    reply->write("pong", [&](Errno e) { CHECK(e == Errno::Success); });
    CHECK(read_all(f, *back, 4, eof) == "pong");
  }
}

TEST_CASE("p3 sockets: TCP state machine errors", "[wasi][p3][sockets]") {
  Fixture f;
  std::shared_ptr<TcpSocket> s;
  REQUIRE(TcpSocket::create(f.st, false, s) == NetError::Ok);
  IpSocketAddress a;
  CHECK(s->local_address(a) == NetError::InvalidState);
  CHECK(s->bind(loopback6()) == NetError::InvalidArgument);  // wrong family
  std::shared_ptr<ByteSink> sink;
  std::shared_ptr<ByteSource> source;
  CHECK(s->start_send(sink) == NetError::InvalidState);
  CHECK(s->start_receive(source) == NetError::InvalidState);
  REQUIRE(s->bind(loopback4()) == NetError::Ok);
  CHECK(s->bind(loopback4()) == NetError::InvalidState);
  CHECK(s->set_listen_backlog_size(0) == NetError::InvalidArgument);
  REQUIRE(s->listen() == NetError::Ok);
  CHECK(s->listen() == NetError::InvalidState);
  CHECK(s->set_listen_backlog_size(16) == NetError::Ok);
  std::optional<NetError> e;
  s->connect(loopback4(1), [&](NetError r) { e = r; });
  CHECK(e == NetError::InvalidState);

  // Invalid remote addresses leave the socket usable.
  std::shared_ptr<TcpSocket> c;
  REQUIRE(TcpSocket::create(f.st, false, c) == NetError::Ok);
  IpSocketAddress any = loopback4(80);
  any.ip.bytes = {0, 0, 0, 0};
  e.reset();
  c->connect(any, [&](NetError r) { e = r; });
  CHECK(e == NetError::InvalidArgument);
  e.reset();
  c->connect(loopback4(0), [&](NetError r) { e = r; });
  CHECK(e == NetError::InvalidArgument);
  CHECK(c->phase() == TcpSocket::Phase::Unbound);

  // A connection refused closes the socket.
  IpSocketAddress closed;
  REQUIRE(s->local_address(closed) == NetError::Ok);
  s.reset();
  e.reset();
  c->connect(closed, [&](NetError r) { e = r; });
  REQUIRE(f.run_until([&] { return e.has_value(); }));
  CHECK(*e == NetError::ConnectionRefused);
  CHECK(c->phase() == TcpSocket::Phase::Closed);
  CHECK(c->local_address(a) == NetError::InvalidState);

  // send and receive once each.
  auto server = listener(f, loopback4());
  Connection conn = connect_pair(f, *server);
  REQUIRE(conn.client->start_send(sink) == NetError::Ok);
  CHECK(conn.client->start_send(sink) == NetError::InvalidState);
  REQUIRE(conn.client->start_receive(source) == NetError::Ok);
  CHECK(conn.client->start_receive(source) == NetError::InvalidState);
  CHECK(conn.client->listen() == NetError::InvalidState);
  CHECK(conn.client->set_listen_backlog_size(5) == NetError::InvalidState);
}

TEST_CASE("p3 sockets: a cancelled connect or accept stops waiting", "[wasi][p3][sockets]") {
  Fixture f;
  auto server = listener(f, loopback4());
  bool called = false;
  server->accept([&](NetError, std::shared_ptr<TcpSocket>) { called = true; });
  server->cancel_accept();
  Connection c = connect_pair(f, *server);  // accepts afresh
  CHECK_FALSE(called);
}

TEST_CASE("p3 sockets: a listen without bind binds a free port", "[wasi][p3][sockets]") {
  Fixture f;
  std::shared_ptr<TcpSocket> s;
  REQUIRE(TcpSocket::create(f.st, false, s) == NetError::Ok);
  REQUIRE(s->listen() == NetError::Ok);
  IpSocketAddress a;
  REQUIRE(s->local_address(a) == NetError::Ok);
  CHECK(a.port != 0);
}

TEST_CASE("p3 sockets: UDP datagrams, connect and disconnect", "[wasi][p3][sockets]") {
  Fixture f;
  for (IpSocketAddress at : {loopback4(), loopback6()}) {
    std::shared_ptr<UdpSocket> a, b;
    REQUIRE(UdpSocket::create(f.st, at.ip.ipv6, a) == NetError::Ok);
    REQUIRE(UdpSocket::create(f.st, at.ip.ipv6, b) == NetError::Ok);
    IpSocketAddress addr;
    CHECK(a->local_address(addr) == NetError::InvalidState);
    std::optional<NetError> got;
    a->receive(std::make_shared<uint64_t>(), [&](NetError e, UdpSocket::Datagram) { got = e; });
    CHECK(got == NetError::InvalidState);
    REQUIRE(a->bind(at) == NetError::Ok);
    CHECK(a->bind(at) == NetError::InvalidState);
    REQUIRE(a->local_address(addr) == NetError::Ok);

    // A receive waits until a datagram arrives.
    std::optional<UdpSocket::Datagram> d;
    a->receive(std::make_shared<uint64_t>(), [&](NetError e, UdpSocket::Datagram g) {
      CHECK(e == NetError::Ok);
      d = std::move(g);
    });
    CHECK_FALSE(d);
    std::optional<NetError> sent;
    b->send("hello", std::nullopt, std::make_shared<uint64_t>(), [&](NetError e) { sent = e; });
    CHECK(sent == NetError::InvalidArgument);  // neither connected nor addressed
    sent.reset();
    b->send("hello", addr, std::make_shared<uint64_t>(), [&](NetError e) { sent = e; });  // binds b implicitly
    CHECK(sent == NetError::Ok);
    REQUIRE(f.run_until([&] { return d.has_value(); }));
    CHECK(d->data == "hello");
    IpSocketAddress b_addr;
    REQUIRE(b->local_address(b_addr) == NetError::Ok);
    CHECK(d->remote.port == b_addr.port);  // b is bound to the unspecified address

    // Connected: sends go to the peer; another address is invalid.
    CHECK(b->disconnect() == NetError::InvalidState);
    CHECK(b->remote_address(b_addr) == NetError::InvalidState);
    REQUIRE(b->connect(addr) == NetError::Ok);
    IpSocketAddress peer;
    REQUIRE(b->remote_address(peer) == NetError::Ok);
    CHECK(peer == addr);
    sent.reset();
    IpSocketAddress other = addr;
    other.port = static_cast<uint16_t>(addr.port + 1);
    b->send("x", other, std::make_shared<uint64_t>(), [&](NetError e) { sent = e; });
    CHECK(sent == NetError::InvalidArgument);
    sent.reset();
    b->send("again", std::nullopt, std::make_shared<uint64_t>(), [&](NetError e) { sent = e; });
    CHECK(sent == NetError::Ok);
    d.reset();
    a->receive(std::make_shared<uint64_t>(), [&](NetError, UdpSocket::Datagram g) { d = std::move(g); });
    REQUIRE(f.run_until([&] { return d.has_value(); }));
    CHECK(d->data == "again");
    REQUIRE(b->disconnect() == NetError::Ok);
    CHECK(b->remote_address(peer) == NetError::InvalidState);

    // A cancelled receive never reports.
    bool called = false;
    auto wait = std::make_shared<uint64_t>();
    a->receive(wait, [&](NetError, UdpSocket::Datagram) { called = true; });
    REQUIRE(*wait != 0);
    a->cancel(wait);
    CHECK(*wait == 0);
    sent.reset();
    b->send("late", addr, std::make_shared<uint64_t>(), [&](NetError e) { sent = e; });
    CHECK(sent == NetError::Ok);
    loop::Timer t(f.reactor);
    bool tick = false;
    t.start(20'000'000, [&] { tick = true; });
    f.run_until([&] { return tick; });
    CHECK_FALSE(called);
    // The datagram is still there for the next receive.
    d.reset();
    a->receive(std::make_shared<uint64_t>(), [&](NetError, UdpSocket::Datagram g) { d = std::move(g); });
    REQUIRE(f.run_until([&] { return d.has_value(); }));
    CHECK(d->data == "late");
  }
}

TEST_CASE("p3 sockets: capabilities gate addresses, TCP, UDP and name lookup", "[wasi][p3][sockets]") {
  Fixture f;
  f.config.inherit_network = false;
  // Sockets and their options, but no address.
  std::shared_ptr<TcpSocket> tcp;
  std::shared_ptr<UdpSocket> udp;
  REQUIRE(TcpSocket::create(f.st, false, tcp) == NetError::Ok);
  CHECK(tcp->set_option(common::Socket::Option::HopLimit, 9) == NetError::Ok);
  CHECK(tcp->bind(loopback4()) == NetError::AccessDenied);
  CHECK(tcp->listen() == NetError::AccessDenied);  // would bind
  std::optional<NetError> e;
  tcp->connect(loopback4(80), [&](NetError r) { e = r; });
  CHECK(e == NetError::AccessDenied);
  REQUIRE(UdpSocket::create(f.st, false, udp) == NetError::Ok);
  CHECK(udp->bind(loopback4()) == NetError::AccessDenied);
  CHECK(udp->connect(loopback4(53)) == NetError::AccessDenied);
  e.reset();
  udp->send("x", loopback4(53), std::make_shared<uint64_t>(), [&](NetError r) { e = r; });
  CHECK(e == NetError::AccessDenied);
  std::shared_ptr<common::NameLookup> lookup;
  CHECK(common::NameLookup::start(f.reactor, f.config.ip_name_lookup_allowed(), "localhost", lookup) ==
        NetError::AccessDenied);
  f.config.allow_ip_name_lookup = true;
  REQUIRE(common::NameLookup::start(f.reactor, f.config.ip_name_lookup_allowed(), "localhost", lookup) ==
          NetError::Ok);
  CHECK(lookup->done);
  CHECK(lookup->addresses.size() == 2);
  // -S tcp=n, -S udp=n.
  f.config.inherit_network = true;
  f.config.tcp = false;
  CHECK(TcpSocket::create(f.st, false, tcp) == NetError::AccessDenied);
  CHECK(UdpSocket::create(f.st, false, udp) == NetError::Ok);
  f.config.udp = false;
  CHECK(UdpSocket::create(f.st, false, udp) == NetError::AccessDenied);
}

TEST_CASE("p3 sockets: one watch serves a reader and a writer", "[wasi][p3][sockets]") {
  Fixture f;
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  auto fd = std::make_shared<SocketFd>(sv[0]);
  auto watch = std::make_shared<SocketWatch>(f.reactor, fd);
  bool readable = false, writable = false, cancelled = false;
  watch->wait(UV_READABLE, [&] { readable = true; });
  uint64_t gone = watch->wait(UV_READABLE, [&] { cancelled = true; });
  watch->wait(UV_WRITABLE, [&] { writable = true; });
  watch->cancel(gone);
  REQUIRE(f.run_until([&] { return writable; }));
  CHECK_FALSE(readable);  // still waiting, its watch kept
  REQUIRE(::write(sv[1], "x", 1) == 1);
  REQUIRE(f.run_until([&] { return readable; }));
  CHECK_FALSE(cancelled);
  close(sv[1]);
}

namespace {

namespace hv = weft::component::host_values;
using weft::testing::HostCaller;
using weft::testing::WitTypes;
using weft::component::Type;
using weft::component::TypeKind;

// wasi:sockets@0.3.0's types, as the WIT declares them.
struct SocketTypes {
  WitTypes w;
  const Type* u8 = w.prim(TypeKind::U8);
  const Type* u16 = w.prim(TypeKind::U16);
  const Type* u32 = w.prim(TypeKind::U32);
  const Type* u64 = w.prim(TypeKind::U64);
  const Type* boolean = w.prim(TypeKind::Bool);
  const Type* string = w.prim(TypeKind::String);
  const Type* error_code = w.variant({{"access-denied"}, {"not-supported"}, {"invalid-argument"},
                                      {"out-of-memory"}, {"timeout"}, {"invalid-state"},
                                      {"address-not-bindable"}, {"address-in-use"}, {"remote-unreachable"},
                                      {"connection-refused"}, {"connection-broken"}, {"connection-reset"},
                                      {"connection-aborted"}, {"datagram-too-large"},
                                      {"other", w.option(string)}});
  const Type* lookup_error = w.variant({{"access-denied"}, {"invalid-argument"}, {"name-unresolvable"},
                                        {"temporary-resolver-failure"}, {"permanent-resolver-failure"},
                                        {"other", w.option(string)}});
  const Type* family = w.enum_({"ipv4", "ipv6"});
  const Type* ipv4 = w.tuple({u8, u8, u8, u8});
  const Type* ipv6 = w.tuple({u16, u16, u16, u16, u16, u16, u16, u16});
  const Type* ip_address = w.variant({{"ipv4", ipv4}, {"ipv6", ipv6}});
  const Type* socket_address =
      w.variant({{"ipv4", w.record({{"port", u16}, {"address", ipv4}})},
                 {"ipv6", w.record({{"port", u16}, {"flow-info", u32}, {"address", ipv6}, {"scope-id", u32}})}});
  const Type* tcp = w.resource();
  const Type* own_tcp = w.own(tcp);
  const Type* borrow_tcp = w.borrow(tcp);
  const Type* result(const Type* ok) { return w.result(ok, error_code); }
};

// The error-code label of a failed result, or "ok".
std::string outcome(const Val& r) {
  if (r.case_index == 0) return "ok";
  return std::string(hv::case_label(r.items.at(0)));
}

}  // namespace

TEST_CASE("p3 sockets: tcp-socket and ip-name-lookup bindings", "[wasi][p3][sockets]") {
  Fixture f;
  SocketTypes t;
  HostCaller h(t.w);
  add_sockets(h.host, f.st);
  const char* types = "wasi:sockets/types@0.3.0";
  auto method = [&](const char* name, uint64_t rep, std::vector<Val> args, const Type* result) {
    args.insert(args.begin(), hv::scalar(t.borrow_tcp, rep));
    return h.call(types, std::string("[method]tcp-socket.") + name, std::move(args), result);
  };

  f.config.tcp = false;
  Val denied = h.call(types, "[static]tcp-socket.create", {hv::enum_case(t.family, "ipv4")}, t.result(t.own_tcp));
  CHECK(outcome(denied) == "access-denied");
  f.config.tcp = true;
  Val created = h.call(types, "[static]tcp-socket.create", {hv::enum_case(t.family, "ipv4")}, t.result(t.own_tcp));
  REQUIRE(outcome(created) == "ok");
  uint64_t s = created.items.at(0).bits;

  CHECK(outcome(method("get-local-address", s, {}, t.result(t.socket_address))) == "invalid-state");
  Val at = common::socket_address_val(t.socket_address, loopback4());
  CHECK(outcome(method("bind", s, {at}, t.result(nullptr))) == "ok");
  CHECK(outcome(method("bind", s, {at}, t.result(nullptr))) == "invalid-state");
  Val local = method("get-local-address", s, {}, t.result(t.socket_address));
  REQUIRE(outcome(local) == "ok");
  IpSocketAddress a = common::read_socket_address(local.items.at(0));
  CHECK(a.ip == loopback4().ip);
  CHECK(a.port != 0);
  CHECK(hv::case_label(method("get-address-family", s, {}, t.family)) == "ipv4");
  CHECK(method("get-is-listening", s, {}, t.boolean).bits == 0);

  // Options read back what was set (buffer sizes too, which Linux doubles).
  CHECK(outcome(method("set-hop-limit", s, {hv::scalar(t.u8, 42)}, t.result(nullptr))) == "ok");
  CHECK(method("get-hop-limit", s, {}, t.result(t.u8)).items.at(0).bits == 42);
  CHECK(outcome(method("set-hop-limit", s, {hv::scalar(t.u8, 0)}, t.result(nullptr))) == "invalid-argument");
  CHECK(outcome(method("set-receive-buffer-size", s, {hv::scalar(t.u64, 0x10000)}, t.result(nullptr))) == "ok");
  CHECK(method("get-receive-buffer-size", s, {}, t.result(t.u64)).items.at(0).bits == 0x10000);
  CHECK(outcome(method("set-keep-alive-enabled", s, {hv::scalar(t.boolean, 1)}, t.result(nullptr))) == "ok");
  CHECK(method("get-keep-alive-enabled", s, {}, t.result(t.boolean)).items.at(0).bits == 1);
  CHECK(outcome(method("set-listen-backlog-size", s, {hv::scalar(t.u64, 0)}, t.result(nullptr))) ==
        "invalid-argument");

  // Names that need no resolver answer at once; others are checked first.
  const char* lookup = "wasi:sockets/ip-name-lookup@0.3.0";
  const Type* addresses = t.w.result(t.w.list(t.ip_address), t.lookup_error);
  Val v = h.call(lookup, "resolve-addresses", {hv::string(t.string, "127.0.0.1")}, addresses);
  REQUIRE(v.case_index == 0);
  REQUIRE(v.items.at(0).items.size() == 1);
  CHECK(common::read_ip(v.items.at(0).items.at(0).items.at(0), false) == loopback4().ip);
  v = h.call(lookup, "resolve-addresses", {hv::string(t.string, "a..b")}, addresses);
  CHECK(outcome(v) == "invalid-argument");
  f.config.inherit_network = false;
  v = h.call(lookup, "resolve-addresses", {hv::string(t.string, "localhost")}, addresses);
  CHECK(outcome(v) == "access-denied");
}
