#include "wasi/common/files.h"

#include <fcntl.h>

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
