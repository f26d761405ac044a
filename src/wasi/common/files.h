// File operations every WASI version performs the same way once its own
// encoding is decoded: opening a resolved path, and converting timestamps.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "wasi/common/errno.h"
#include "wasi/common/path.h"

namespace weft::wasi::common {

// How an opened file is to be accessed and created (preview1 oflags and
// fdflags; 0.2 open-flags and descriptor-flags).
struct OpenOptions {
  bool read = false, write = false;  // neither: read-only
  bool create = false, directory = false, exclusive = false, truncate = false;
  bool append = false, dsync = false, sync = false, rsync = false, nonblock = false;
};

// Opens `r` (from resolve_path, which already followed any symlink the
// caller wanted followed, so the kernel follows none). On success `fd` owns
// the descriptor and `st` is its fstat.
Errno open_resolved(const ResolvedPath& r, const OpenOptions& o, OwnedFd& fd, struct stat& st);

// Reads up to `max` bytes at `offset` into `out` (replacing it); a
// regular file gives fewer only at its end.
Errno read_at(int fd, uint64_t offset, size_t max, std::string& out);

// Writes all of `data` at `offset`, or with `append` at the end of the file
// wherever that is then. `written` counts what went out, also when an error
// stopped it part way.
Errno write_at(int fd, std::string_view data, uint64_t offset, bool append, uint64_t& written);

// Nanoseconds since the epoch.
uint64_t timespec_ns(const timespec& ts);

// A futimens/utimensat time: left unchanged, the current time, or the
// given one.
enum class TimeChange : uint8_t { Keep, Now, Set };
timespec make_timespec(TimeChange change, uint64_t seconds = 0, uint32_t nanoseconds = 0);

}  // namespace weft::wasi::common
