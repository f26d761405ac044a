#include "wasi/common/sockets.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "engine/trap.h"

namespace weft::wasi::common {

namespace hv = component::host_values;

// ---- error codes and addresses ----

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
    case Errno::ConnReset: return NetError::ConnectionReset;
    case Errno::Pipe: return NetError::ConnectionBroken;
    case Errno::ConnAborted: return NetError::ConnectionAborted;
    case Errno::MsgSize: return NetError::DatagramTooLarge;
    default: return NetError::Unknown;
  }
}

NetError last_net_error() { return net_error(last_error()); }

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

namespace {


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

}  // namespace

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

bool fd_ready(int fd, short events) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, 0) > 0;
}

SocketFd::~SocketFd() { close(fd); }

NetError new_socket(bool allowed, bool ipv6, int type, std::shared_ptr<SocketFd>& out) {
  if (!allowed) return NetError::AccessDenied;
  int fd = socket(ipv6 ? AF_INET6 : AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_net_error();
  out = std::make_shared<SocketFd>(fd);
  // WASI has no IPv4-mapped addresses, so an IPv6 socket is IPv6 only.
  int one = 1;
  if (ipv6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) return last_net_error();
  return NetError::Ok;
}

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
  // Linux doubles a buffer size set (room for its bookkeeping) and reports
  // the doubled value; the guest reads back what it set.
  if (o == Option::ReceiveBufferSize || o == Option::SendBufferSize) value /= 2;
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

// ---- name lookup ----

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

// A getaddrinfo request: owns itself until libuv calls back (the stream
// may be dropped before that).
struct LookupRequest {
  uv_getaddrinfo_t req;
  std::shared_ptr<NameLookup> lookup;

  static void done(uv_getaddrinfo_t* req, int status, addrinfo* res) {
    std::unique_ptr<LookupRequest> self(static_cast<LookupRequest*>(req->data));
    NameLookup& l = *self->lookup;
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

void NameLookup::finish() {
  done = true;
  auto ws = std::move(watchers);
  for (auto& [who, wake] : ws) wake();
}

void NameLookup::cancel() {
  if (request) uv_cancel(reinterpret_cast<uv_req_t*>(request));
}

NetError NameLookup::start(loop::Reactor& reactor, bool allowed, std::string_view name,
                           std::shared_ptr<NameLookup>& out) {
  if (!allowed) return NetError::AccessDenied;
  auto lookup = std::make_shared<NameLookup>();
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
    int err = uv_getaddrinfo(reactor.uv(), &req->req, LookupRequest::done, std::string(name).c_str(), nullptr,
                             &hints);
    if (err < 0) return resolver_error(err);
    lookup->request = &req.release()->req;  // LookupRequest::done frees it
  }
  out = std::move(lookup);
  return NetError::Ok;
}

// ---- as component values ----

namespace {

[[noreturn]] void bad_shape(const char* what) {
  throw engine::Trap(engine::TrapKind::Host, std::string("wasi:sockets: malformed ") + what);
}

const Val& payload(const Val& variant) {
  if (variant.items.size() != 1) bad_shape("variant");
  return variant.items[0];
}

}  // namespace

const std::vector<Val>& items(const Val& v, component::TypeKind k, size_t count) {
  if (v.kind() != k || (count && v.items.size() != count)) bad_shape(component::to_string(k));
  return v.items;
}

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

}  // namespace weft::wasi::common
