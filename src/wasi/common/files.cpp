#include "wasi/common/files.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace weft::wasi::common {

Errno open_resolved(const ResolvedPath& r, const OpenOptions& o, OwnedFd& fd, struct stat& st) {
  bool read = o.read || !o.write;
  int flags = O_CLOEXEC | O_NOFOLLOW | (read && o.write ? O_RDWR : o.write ? O_WRONLY : O_RDONLY);
  if (o.create) flags |= O_CREAT;
  if (o.directory) flags |= O_DIRECTORY;
  if (o.exclusive) flags |= O_EXCL;
  if (o.truncate) flags |= O_TRUNC;
  if (o.append) flags |= O_APPEND;
  if (o.dsync) flags |= O_DSYNC;
  if (o.sync) flags |= O_SYNC;
  if (o.rsync) flags |= O_RSYNC;
  if (o.nonblock) flags |= O_NONBLOCK;
  OwnedFd opened(openat(r.dir, r.final_name().c_str(), flags, 0666));
  if (opened.get() < 0) return last_error();
  if (fstat(opened.get(), &st) != 0) return last_error();
  fd = std::move(opened);
  return Errno::Success;
}

Errno read_at(int fd, uint64_t offset, size_t max, std::string& out) {
  out.resize(max);
  ssize_t n;
  do n = pread(fd, out.data(), max, static_cast<off_t>(offset));
  while (n < 0 && errno == EINTR);
  out.resize(static_cast<size_t>(std::max<ssize_t>(n, 0)));
  return n < 0 ? last_error() : Errno::Success;
}

Errno write_at(int fd, std::string_view data, uint64_t offset, bool append, uint64_t& written) {
  written = 0;
  while (written < data.size()) {
    iovec iov{const_cast<char*>(data.data() + written), data.size() - written};
    ssize_t n = append ? pwritev2(fd, &iov, 1, -1, RWF_APPEND)
                       : pwritev(fd, &iov, 1, static_cast<off_t>(offset + written));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    written += static_cast<uint64_t>(n);
  }
  return Errno::Success;
}

uint64_t timespec_ns(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

timespec make_timespec(TimeChange change, uint64_t seconds, uint32_t nanoseconds) {
  switch (change) {
    case TimeChange::Now: return {0, UTIME_NOW};
    case TimeChange::Set: return {static_cast<time_t>(seconds), static_cast<long>(nanoseconds)};
    case TimeChange::Keep: break;
  }
  return {0, UTIME_OMIT};
}

}  // namespace weft::wasi::common
