#include "wasi/common/io.h"

#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

namespace weft::wasi::common {

namespace {

// Waits for `events` on `fd`, or says why the caller must return now.
Errno await(loop::Reactor& reactor, int fd, int events, bool nonblock) {
  if (nonblock) return Errno::Again;
  int err = reactor.wait_fd(fd, events);
  return err ? from_host_errno(-err) : Errno::Success;
}

// For a guest that asked for non-blocking I/O on a descriptor the host keeps
// blocking (stdio is shared with other processes, so its flags stay as they
// are): whether a read or write would block right now.
bool would_block(int fd, short events) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace

Errno read_stream(loop::Reactor& reactor, int fd, std::span<const iovec> iov, bool nonblock, size_t& n) {
  n = 0;
  if (nonblock && would_block(fd, POLLIN)) return Errno::Again;
  for (;;) {
    ssize_t r = readv(fd, iov.data(), static_cast<int>(iov.size()));
    if (r >= 0) {
      n = static_cast<size_t>(r);
      return Errno::Success;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return last_error();
    if (Errno e = await(reactor, fd, UV_READABLE, nonblock); e != Errno::Success) return e;
  }
}

Errno write_stream(loop::Reactor& reactor, int fd, std::span<const iovec> iov_in, bool nonblock, size_t& n) {
  n = 0;
  if (nonblock && would_block(fd, POLLOUT)) return Errno::Again;
  size_t total = 0;
  for (const iovec& v : iov_in) total += v.iov_len;
  // The common case: one writev takes everything.
  ssize_t r = writev(fd, iov_in.data(), static_cast<int>(std::min<size_t>(iov_in.size(), IOV_MAX)));
  if (r >= 0 && static_cast<size_t>(r) == total) {
    n = total;
    return Errno::Success;
  }
  if (r < 0 && errno != EAGAIN && errno != EINTR) return last_error();
  std::vector<iovec> iov(iov_in.begin(), iov_in.end());
  size_t first = 0;
  // Drops `count` written bytes from the front of `iov`.
  auto consume = [&](size_t count) {
    n += count;
    while (first < iov.size() && (count > 0 || iov[first].iov_len == 0)) {
      size_t take = std::min(count, iov[first].iov_len);
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + take;
      iov[first].iov_len -= take;
      count -= take;
      if (iov[first].iov_len == 0) ++first;
    }
  };
  consume(r > 0 ? static_cast<size_t>(r) : 0);
  while (first < iov.size()) {
    r = writev(fd, iov.data() + first, static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX)));
    if (r >= 0) {
      consume(static_cast<size_t>(r));
      continue;
    }
    if (errno == EINTR) continue;
    // After a partial write, report it; the error comes again on the next call.
    if (errno != EAGAIN) return n ? Errno::Success : last_error();
    if (nonblock && n) return Errno::Success;
    if (Errno e = await(reactor, fd, UV_WRITABLE, nonblock); e != Errno::Success) return e;
  }
  return Errno::Success;
}

Errno tcp_listen(std::string_view address, int& fd) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return Errno::Inval;
  std::string host(address.substr(0, colon));
  std::string port(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  sockaddr_storage ss{};
  int p = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || p > 65535) return Errno::Inval;
    p = p * 10 + (c - '0');
  }
  if (port.empty() || p > 65535) return Errno::Inval;
  socklen_t len;
  if (uv_ip4_addr(host.c_str(), p, reinterpret_cast<sockaddr_in*>(&ss)) == 0) {
    len = sizeof(sockaddr_in);
  } else if (uv_ip6_addr(host.c_str(), p, reinterpret_cast<sockaddr_in6*>(&ss)) == 0) {
    len = sizeof(sockaddr_in6);
  } else {
    return Errno::Inval;
  }
  // Non-blocking on the host: a guest waiting in accept waits on the loop.
  int s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return last_error();
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s, reinterpret_cast<sockaddr*>(&ss), len) < 0 || listen(s, SOMAXCONN) < 0) {
    Errno e = last_error();
    close(s);
    return e;
  }
  fd = s;
  return Errno::Success;
}

Errno tcp_accept(loop::Reactor& reactor, int listener, bool nonblock, int& fd) {
  for (;;) {
    int s = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (s >= 0) {
      fd = s;
      return Errno::Success;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN) return last_error();
    if (Errno e = await(reactor, listener, UV_READABLE, nonblock); e != Errno::Success) return e;
  }
}

Errno socket_recv(loop::Reactor& reactor, int fd, std::span<const iovec> iov, int msg_flags, bool nonblock,
                  size_t& n, bool& truncated) {
  for (;;) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov.data());
    msg.msg_iovlen = iov.size();
    ssize_t r = recvmsg(fd, &msg, msg_flags | MSG_DONTWAIT);
    if (r >= 0) {
      n = static_cast<size_t>(r);
      truncated = (msg.msg_flags & MSG_TRUNC) != 0;
      return Errno::Success;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return last_error();
    if (Errno e = await(reactor, fd, UV_READABLE, nonblock); e != Errno::Success) return e;
  }
}

Errno socket_send(loop::Reactor& reactor, int fd, std::span<const iovec> iov, bool nonblock, size_t& n) {
  for (;;) {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov.data());
    msg.msg_iovlen = iov.size();
    ssize_t r = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r >= 0) {
      n = static_cast<size_t>(r);
      return Errno::Success;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return last_error();
    if (Errno e = await(reactor, fd, UV_WRITABLE, nonblock); e != Errno::Success) return e;
  }
}

}  // namespace weft::wasi::common
