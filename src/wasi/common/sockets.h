// What the WASI 0.2 and 0.3 socket hosts share: error codes, IP addresses
// and their checks, non-blocking host socket descriptors with their
// options, and name resolution on libuv's resolver. Each version wraps
// these in its own state machine (p2: start-*/finish-* and pollables, p3:
// async functions and streams) and spells the error codes its own way.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "component/host.h"
#include "loop/reactor.h"
#include "wasi/common/errno.h"

namespace weft::wasi::common {

// The union of both versions' socket error codes, after a host-only Ok
// (0.2's WIT order; ConnectionBroken is 0.3's, 0.2 calls it reset).
enum class NetError : uint8_t {
  Ok, Unknown, AccessDenied, NotSupported, InvalidArgument, OutOfMemory, Timeout, ConcurrencyConflict,
  NotInProgress, WouldBlock, InvalidState, NewSocketLimit, AddressNotBindable, AddressInUse, RemoteUnreachable,
  ConnectionRefused, ConnectionReset, ConnectionAborted, DatagramTooLarge, NameUnresolvable,
  TemporaryResolverFailure, PermanentResolverFailure, ConnectionBroken,
};
// A socket operation's errno as an error code (Unknown when none fits).
NetError net_error(Errno e);
NetError last_net_error();
// A failed connect: an implicit bind without a free port is EADDRNOTAVAIL
// on Linux, which the WIT calls address-in-use.
NetError connect_error(Errno e);

// ip-address: IPv4 uses the first 4 bytes; network byte order.
struct IpAddress {
  bool ipv6 = false;
  std::array<uint8_t, 16> bytes{};
  bool operator==(const IpAddress&) const = default;
};
struct IpSocketAddress {
  IpAddress ip;
  uint16_t port = 0;
  uint32_t flow_info = 0, scope_id = 0;  // IPv6 only
  bool operator==(const IpSocketAddress&) const = default;
};

socklen_t to_sockaddr(const IpSocketAddress& a, sockaddr_storage& ss);
IpSocketAddress from_sockaddr(const sockaddr_storage& ss);
// The checks the WITs ask of a local address (bind) and a remote one
// (connect, send): each failure is invalid-argument.
bool bad_local(bool ipv6, const IpSocketAddress& a, bool unicast_only);
bool bad_remote(bool ipv6, const IpSocketAddress& a, bool unicast_only);
// getsockname / getpeername.
NetError sock_name(int fd, bool peer, IpSocketAddress& out);
NetError bind_to(int fd, const IpSocketAddress& local);
// Whether `fd` has any of `events` (POLLIN, POLLOUT) or an error now.
bool fd_ready(int fd, short events);

// A host socket descriptor shared by the socket resource and what is made
// from it (streams, pollables), so it stays open until the last one goes.
struct SocketFd {
  explicit SocketFd(int fd) : fd(fd) {}
  ~SocketFd();
  SocketFd(const SocketFd&) = delete;
  SocketFd& operator=(const SocketFd&) = delete;
  int fd;
};

// A non-blocking socket of `type` (SOCK_STREAM, SOCK_DGRAM); access-denied
// unless `allowed`. IPv6 sockets are IPv6 only (WASI has no mapped addresses).
NetError new_socket(bool allowed, bool ipv6, int type, std::shared_ptr<SocketFd>& out);

// What TCP and UDP sockets share: the descriptor, its family, options.
class Socket {
 public:
  enum class Option : uint8_t {
    KeepAliveEnabled, KeepAliveIdleTime, KeepAliveInterval, KeepAliveCount,  // TCP only
    HopLimit, ReceiveBufferSize, SendBufferSize,
  };
  bool ipv6() const { return ipv6_; }
  int fd() const { return fd_->fd; }
  const std::shared_ptr<SocketFd>& shared_fd() const { return fd_; }
  // Durations in nanoseconds, as wasi:clocks' duration; booleans 0/1.
  // Setting 0 (other than KeepAliveEnabled) is invalid-argument.
  NetError get_option(Option o, uint64_t& value) const;
  NetError set_option(Option o, uint64_t value);

 protected:
  Socket(std::shared_ptr<SocketFd> fd, bool ipv6, bool network)
      : fd_(std::move(fd)), ipv6_(ipv6), network_(network) {}
  std::shared_ptr<SocketFd> fd_;
  bool ipv6_;
  bool network_;  // addresses may be used (-S inherit-network): else access-denied
};

// A name being resolved. IP literals and "localhost" resolve at once;
// other names on libuv's resolver.
struct NameLookup {
  uv_getaddrinfo_t* request = nullptr;  // while libuv resolves
  bool done = false;
  NetError error = NetError::Ok;
  std::vector<IpAddress> addresses;  // deduplicated, never IPv4-mapped
  // Called (from the loop) once done; keyed by who waits.
  std::map<const void*, std::function<void()>> watchers;

  // invalid-argument for a name that is no valid host name or address;
  // access-denied unless `allowed`.
  static NetError start(loop::Reactor& reactor, bool allowed, std::string_view name,
                        std::shared_ptr<NameLookup>& out);
  // Drops a lookup still queued (one already running finishes on its own).
  void cancel();
  void finish();
};

// ---- As component values (both versions' WITs spell addresses alike) ----

using component::Val;

// The elements of a tuple or list value (checked, so a wrong shape traps).
const std::vector<Val>& items(const Val& v, component::TypeKind k, size_t count);
// ip-address's payloads: ipv4-address (tuple of 4 u8) or ipv6-address
// (tuple of 8 u16).
IpAddress read_ip(const Val& v, bool ipv6);
Val ip_tuple(const component::Type* t, const IpAddress& a);
// ip-socket-address.
IpSocketAddress read_socket_address(const Val& v);
Val socket_address_val(const component::Type* t, const IpSocketAddress& a);

}  // namespace weft::wasi::common
