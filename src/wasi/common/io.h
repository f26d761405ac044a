// Reading and writing host descriptors for a guest that waits: when a pipe,
// tty or socket is not ready, the caller waits on the loop (not by spinning,
// and not by blocking the thread in read/write) unless the guest asked for
// non-blocking I/O. Writes to streams are completed in full, so large
// outputs through a non-blocking pipe arrive byte for byte.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "loop/reactor.h"
#include "wasi/common/errno.h"

namespace weft::wasi::common {

// Reads once (a short count is not an error; 0 is end of file).
Errno read_stream(loop::Reactor& reactor, int fd, std::span<const iovec> iov, bool nonblock, size_t& n);
// Writes every byte unless an error comes first; `n` counts what was written.
Errno write_stream(loop::Reactor& reactor, int fd, std::span<const iovec> iov, bool nonblock, size_t& n);

// A listening TCP socket on "HOST:PORT" (IPv4 or [IPv6]), for --tcplisten.
Errno tcp_listen(std::string_view address, int& fd);
// Accepts a connection (waiting on the loop unless `nonblock`). Host
// sockets are always non-blocking; waiting is the loop's job.
Errno tcp_accept(loop::Reactor& reactor, int listener, bool nonblock, int& fd);
// recvmsg/sendmsg with `msg_flags` (MSG_PEEK, MSG_WAITALL), waiting on the
// loop while the socket has nothing (or no room).
Errno socket_recv(loop::Reactor& reactor, int fd, std::span<const iovec> iov, int msg_flags, bool nonblock,
                  size_t& n, bool& truncated);
Errno socket_send(loop::Reactor& reactor, int fd, std::span<const iovec> iov, bool nonblock, size_t& n);

}  // namespace weft::wasi::common
