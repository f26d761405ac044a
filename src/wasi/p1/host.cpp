#include "wasi/p1/host.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "wasi/common/clocks.h"
#include "wasi/common/descriptor.h"
#include "wasi/common/files.h"
#include "wasi/common/io.h"
#include "wasi/common/path.h"

namespace weft::wasi::p1 {

using common::Descriptor;
using common::Errno;
using common::FileType;
using wasm::ValType;

namespace {

// preview1 `rights` bits.
enum : uint64_t {
  kFdDatasync = 1 << 0, kFdRead = 1 << 1, kFdSeek = 1 << 2, kFdFdstatSetFlags = 1 << 3,
  kFdSync = 1 << 4, kFdTell = 1 << 5, kFdWrite = 1 << 6, kFdAdvise = 1 << 7, kFdAllocate = 1 << 8,
  kPathCreateDirectory = 1 << 9, kPathCreateFile = 1 << 10, kPathLinkSource = 1 << 11,
  kPathLinkTarget = 1 << 12, kPathOpen = 1 << 13, kFdReaddir = 1 << 14, kPathReadlink = 1 << 15,
  kPathRenameSource = 1 << 16, kPathRenameTarget = 1 << 17, kPathFilestatGet = 1 << 18,
  kPathFilestatSetSize = 1 << 19, kPathFilestatSetTimes = 1 << 20, kFdFilestatGet = 1 << 21,
  kFdFilestatSetSize = 1 << 22, kFdFilestatSetTimes = 1 << 23, kPathSymlink = 1 << 24,
  kPathRemoveDirectory = 1 << 25, kPathUnlinkFile = 1 << 26, kPollFdReadwrite = 1 << 27,
  kSockShutdown = 1 << 28, kSockAccept = 1 << 29,
};
constexpr uint64_t kFileRights = kFdDatasync | kFdRead | kFdSeek | kFdFdstatSetFlags | kFdSync | kFdTell |
                                 kFdWrite | kFdAdvise | kFdAllocate | kFdFilestatGet | kFdFilestatSetSize |
                                 kFdFilestatSetTimes | kPollFdReadwrite;
constexpr uint64_t kDirRights = kFdFdstatSetFlags | kFdSync | kFdReaddir | kFdFilestatGet |
                                kFdFilestatSetTimes | kPathCreateDirectory | kPathCreateFile |
                                kPathLinkSource | kPathLinkTarget | kPathOpen | kPathReadlink |
                                kPathRenameSource | kPathRenameTarget | kPathFilestatGet |
                                kPathFilestatSetSize | kPathFilestatSetTimes | kPathSymlink |
                                kPathRemoveDirectory | kPathUnlinkFile | kPollFdReadwrite;
constexpr uint64_t kSocketRights = kFdRead | kFdWrite | kFdFdstatSetFlags | kFdFilestatGet |
                                   kPollFdReadwrite | kSockShutdown | kSockAccept;
// Rights that ask path_open for a writable descriptor (as wasi-libc and
// Rust's std compute them); directories hold none of them, so reopening a
// directory with its own rights gives a readable descriptor.
constexpr uint64_t kWriteRights = kFdWrite | kFdDatasync | kFdAllocate | kFdFilestatSetSize;

enum : uint16_t { kFdflagAppend = 1, kFdflagDsync = 2, kFdflagNonblock = 4, kFdflagRsync = 8, kFdflagSync = 16 };
enum : uint16_t { kOflagCreat = 1, kOflagDirectory = 2, kOflagExcl = 4, kOflagTrunc = 8 };
enum : uint16_t { kFstAtim = 1, kFstAtimNow = 2, kFstMtim = 4, kFstMtimNow = 8 };
constexpr uint32_t kLookupSymlinkFollow = 1;
enum : uint8_t { kEventClock = 0, kEventFdRead = 1, kEventFdWrite = 2 };

// A guest pointer out of bounds: the call returns `fault`.
struct Fault {};

// The calling instance's memory 0, with bounds-checked access.
class Mem {
 public:
  explicit Mem(engine::HostCall& call) : m_(call.memory(0)) {}
  uint8_t* at(uint32_t addr, uint64_t len) const {
    if (!m_ || !m_->in_bounds(addr, len)) throw Fault{};
    return m_->data() + addr;
  }
  template <class T>
  T load(uint32_t addr) const {
    T v;
    std::memcpy(&v, at(addr, sizeof v), sizeof v);
    return v;
  }
  template <class T>
  void store(uint32_t addr, T v) const { std::memcpy(at(addr, sizeof v), &v, sizeof v); }
  std::string_view str(uint32_t addr, uint32_t len) const {
    return {reinterpret_cast<const char*>(at(addr, len)), len};
  }
  // A guest iovec array (pointer, length pairs) as host iovecs.
  std::vector<iovec> iovecs(uint32_t addr, uint32_t count) const {
    std::vector<iovec> out(count);
    at(addr, uint64_t{count} * 8);
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t buf = load<uint32_t>(addr + i * 8);
      uint32_t len = load<uint32_t>(addr + i * 8 + 4);
      out[i] = {at(buf, len), len};
    }
    return out;
  }

 private:
  engine::Memory* m_;
};

bool is_dir(const Descriptor* d) { return d->type == FileType::Directory; }

// The filestat layout: preview1's (64 bytes) or wasi_unstable's (56, with a
// 32-bit nlink).
void store_filestat(const Mem& mem, uint32_t at, const struct stat& st, bool p0) {
  mem.at(at, p0 ? 56 : 64);
  mem.store<uint64_t>(at, st.st_dev);
  mem.store<uint64_t>(at + 8, st.st_ino);
  mem.store<uint64_t>(at + 16, static_cast<uint8_t>(common::file_type_of_mode(st.st_mode)));
  uint32_t o = p0 ? 24 : 32;
  if (p0) mem.store<uint32_t>(at + 20, static_cast<uint32_t>(st.st_nlink));
  else mem.store<uint64_t>(at + 24, st.st_nlink);
  mem.store<uint64_t>(at + o, static_cast<uint64_t>(st.st_size));
  mem.store<uint64_t>(at + o + 8, common::timespec_ns(st.st_atim));
  mem.store<uint64_t>(at + o + 16, common::timespec_ns(st.st_mtim));
  mem.store<uint64_t>(at + o + 24, common::timespec_ns(st.st_ctim));
}

// futimens/utimensat times from preview1's fstflags.
bool make_times(uint64_t atim, uint64_t mtim, uint32_t flags, timespec times[2]) {
  if (((flags & kFstAtim) && (flags & kFstAtimNow)) || ((flags & kFstMtim) && (flags & kFstMtimNow))) return false;
  if (flags & ~uint32_t{15}) return false;
  auto one = [](uint64_t t, bool set, bool now) {
    using common::TimeChange;
    return common::make_timespec(now ? TimeChange::Now : set ? TimeChange::Set : TimeChange::Keep,
                                 t / 1000000000u, static_cast<uint32_t>(t % 1000000000u));
  };
  times[0] = one(atim, flags & kFstAtim, flags & kFstAtimNow);
  times[1] = one(mtim, flags & kFstMtim, flags & kFstMtimNow);
  return true;
}

}  // namespace

bool is_wasi_module(std::string_view module) {
  return module == "wasi_snapshot_preview1" || module == "wasi_unstable";
}

struct Host::State {
  engine::Store& store;
  loop::Reactor& reactor;
  std::vector<std::string> args;
  std::vector<std::string> env;  // "NAME=VALUE"
  common::DescriptorTable fds;
  std::map<std::pair<std::string, std::string>, engine::Function*, std::less<>> made;

  State(engine::Store& s, loop::Reactor& r) : store(s), reactor(r) {}

  // The descriptor `fd`, or BadF.
  Errno get(uint32_t fd, Descriptor*& d) {
    d = fds.get(fd);
    return d ? Errno::Success : Errno::BadF;
  }
  Errno get_dir(uint32_t fd, Descriptor*& d) {
    if (Errno e = get(fd, d); e != Errno::Success) return e;
    return is_dir(d) ? Errno::Success : Errno::NotDir;
  }
  // Resolves a guest path under directory descriptor `fd`.
  Errno resolve(uint32_t fd, const Mem& mem, uint32_t path, uint32_t len, bool follow, Descriptor*& d,
                common::ResolvedPath& out) {
    std::string_view p = mem.str(path, len);
    if (Errno e = get_dir(fd, d); e != Errno::Success) return e;
    return common::resolve_path(d->fd, p, follow, out);
  }
  uint32_t add_stdio(int fd) {
    struct stat st;
    FileType type = fstat(fd, &st) == 0 ? common::file_type_of_mode(st.st_mode) : FileType::Unknown;
    auto d = Descriptor::borrow(fd, type);
    d->rights_base = kFileRights;
    // wasi-libc's isatty: a character device without seek/tell rights.
    if (isatty(fd)) d->rights_base &= ~(kFdSeek | kFdTell);
    return fds.insert(std::move(d));
  }
};

namespace {

using State = Host::State;
using Fn = Errno (*)(State&, const Mem&, engine::HostCall&, bool p0);

// ---- args, environment, clocks, random, process ----

Errno strings_sizes(const std::vector<std::string>& v, const Mem& mem, uint32_t count_at, uint32_t size_at) {
  uint64_t total = 0;
  for (const std::string& s : v) total += s.size() + 1;
  mem.store<uint32_t>(count_at, static_cast<uint32_t>(v.size()));
  mem.store<uint32_t>(size_at, static_cast<uint32_t>(total));
  return Errno::Success;
}

Errno strings_get(const std::vector<std::string>& v, const Mem& mem, uint32_t ptrs, uint32_t buf) {
  for (size_t i = 0; i < v.size(); ++i) {
    std::memcpy(mem.at(buf, v[i].size() + 1), v[i].c_str(), v[i].size() + 1);
    mem.store<uint32_t>(ptrs + static_cast<uint32_t>(i) * 4, buf);
    buf += static_cast<uint32_t>(v[i].size() + 1);
  }
  return Errno::Success;
}

Errno args_get(State& s, const Mem& m, engine::HostCall& c, bool) { return strings_get(s.args, m, c.i32(0), c.i32(1)); }
Errno args_sizes_get(State& s, const Mem& m, engine::HostCall& c, bool) {
  return strings_sizes(s.args, m, c.i32(0), c.i32(1));
}
Errno environ_get(State& s, const Mem& m, engine::HostCall& c, bool) { return strings_get(s.env, m, c.i32(0), c.i32(1)); }
Errno environ_sizes_get(State& s, const Mem& m, engine::HostCall& c, bool) {
  return strings_sizes(s.env, m, c.i32(0), c.i32(1));
}

Errno clock_res_get(State&, const Mem& m, engine::HostCall& c, bool) {
  uint64_t ns;
  if (Errno e = common::clock_resolution(c.i32(0), ns); e != Errno::Success) return e;
  m.store<uint64_t>(c.i32(1), ns);
  return Errno::Success;
}

Errno clock_time_get(State&, const Mem& m, engine::HostCall& c, bool) {
  uint64_t ns;
  if (Errno e = common::clock_now(c.i32(0), ns); e != Errno::Success) return e;
  m.store<uint64_t>(c.i32(2), ns);
  return Errno::Success;
}

Errno random_get(State&, const Mem& m, engine::HostCall& c, bool) {
  uint32_t len = c.i32(1);
  common::random_fill(m.at(c.i32(0), len), len);
  return Errno::Success;
}

Errno proc_exit(State&, const Mem&, engine::HostCall& c, bool) {
  throw engine::ExitRequest{static_cast<int>(c.i32(0))};
}

// Signals are not part of any later WASI; no runtime delivers them.
Errno proc_raise(State&, const Mem&, engine::HostCall&, bool) { return Errno::NotSup; }

Errno sched_yield(State&, const Mem&, engine::HostCall&, bool) { return Errno::Success; }

// ---- descriptors ----

Errno fd_advise(State& s, const Mem&, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  uint32_t advice = c.i32(3);
  static constexpr int kAdvice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                    POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
  if (advice > 5) return Errno::Inval;
  if (d->type != FileType::RegularFile) return is_dir(d) ? Errno::BadF : Errno::SPipe;
  int err = posix_fadvise(d->fd, static_cast<off_t>(c.i64(1)), static_cast<off_t>(c.i64(2)), kAdvice[advice]);
  return common::from_host_errno(err);
}

Errno fd_allocate(State& s, const Mem&, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  if (d->type != FileType::RegularFile) return is_dir(d) ? Errno::BadF : Errno::SPipe;
  int fd = d->fd;
  off_t off = static_cast<off_t>(c.i64(1)), len = static_cast<off_t>(c.i64(2));
  return common::from_host_errno(s.reactor.run_blocking([=] { return posix_fallocate(fd, off, len); }));
}

Errno fd_close(State& s, const Mem&, engine::HostCall& c, bool) {
  return s.fds.remove(c.i32(0)) ? Errno::Success : Errno::BadF;
}

Errno sync_common(State& s, engine::HostCall& c, bool data_only) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  int fd = d->fd;
  int r = s.reactor.run_blocking([=] { return (data_only ? fdatasync(fd) : fsync(fd)) == 0 ? 0 : errno; });
  return common::from_host_errno(r);
}
Errno fd_datasync(State& s, const Mem&, engine::HostCall& c, bool) { return sync_common(s, c, true); }
Errno fd_sync(State& s, const Mem&, engine::HostCall& c, bool) { return sync_common(s, c, false); }

Errno fd_fdstat_get(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  uint32_t at = c.i32(1);
  m.at(at, 24);
  int fl = fcntl(d->fd, F_GETFL);
  uint16_t flags = 0;
  if (fl >= 0) {
    if (fl & O_APPEND) flags |= kFdflagAppend;
    if ((fl & O_SYNC) == O_SYNC) flags |= kFdflagSync;
    else if (fl & O_DSYNC) flags |= kFdflagDsync;
  }
  if (d->nonblock) flags |= kFdflagNonblock;
  std::memset(m.at(at, 24), 0, 24);
  m.store<uint8_t>(at, static_cast<uint8_t>(d->type));
  m.store<uint16_t>(at + 2, flags);
  m.store<uint64_t>(at + 8, d->rights_base);
  m.store<uint64_t>(at + 16, d->rights_inheriting);
  return Errno::Success;
}

Errno fd_fdstat_set_flags(State& s, const Mem&, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  uint32_t flags = c.i32(1);
  // Only append and nonblock can change on an open file on Linux.
  if (flags & (kFdflagDsync | kFdflagRsync | kFdflagSync)) return Errno::NotSup;
  if (flags & ~uint32_t{31}) return Errno::Inval;
  int fl = fcntl(d->fd, F_GETFL);
  if (fl < 0) return common::last_error();
  fl = (flags & kFdflagAppend) ? (fl | O_APPEND) : (fl & ~O_APPEND);
  if (fcntl(d->fd, F_SETFL, fl) < 0) return common::last_error();
  d->nonblock = flags & kFdflagNonblock;
  return Errno::Success;
}

Errno fd_fdstat_set_rights(State& s, const Mem&, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  uint64_t base = c.i64(1), inheriting = c.i64(2);
  if ((base & ~d->rights_base) || (inheriting & ~d->rights_inheriting)) return Errno::NotCapable;
  d->rights_base = base;
  d->rights_inheriting = inheriting;
  return Errno::Success;
}

Errno fd_filestat_get(State& s, const Mem& m, engine::HostCall& c, bool p0) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  struct stat st;
  if (fstat(d->fd, &st) != 0) return common::last_error();
  store_filestat(m, c.i32(1), st, p0);
  return Errno::Success;
}

Errno fd_filestat_set_size(State& s, const Mem&, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  if (d->read_only) return Errno::RoFs;
  if (ftruncate(d->fd, static_cast<off_t>(c.i64(1))) != 0) return common::last_error();
  return Errno::Success;
}

Errno fd_filestat_set_times(State& s, const Mem&, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  timespec times[2];
  if (!make_times(c.i64(1), c.i64(2), c.i32(3), times)) return Errno::Inval;
  if (d->read_only) return Errno::RoFs;
  if (futimens(d->fd, times) != 0) return common::last_error();
  return Errno::Success;
}

// Checks a descriptor for fd_read/fd_write-style access.
Errno io_check(State& s, uint32_t fd, uint64_t right, Descriptor*& d) {
  if (Errno e = s.get(fd, d); e != Errno::Success) return e;
  if (is_dir(d)) return Errno::IsDir;
  if (!(d->rights_base & right)) return Errno::NotCapable;
  return Errno::Success;
}

Errno fd_pread(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = io_check(s, c.i32(0), kFdRead, d); e != Errno::Success) return e;
  std::vector<iovec> iov = m.iovecs(c.i32(1), c.i32(2));
  int64_t off = static_cast<int64_t>(c.i64(3));
  if (off < 0) return Errno::Inval;
  ssize_t n = preadv(d->fd, iov.data(), static_cast<int>(iov.size()), off);
  if (n < 0) return common::last_error();
  m.store<uint32_t>(c.i32(4), static_cast<uint32_t>(n));
  return Errno::Success;
}

Errno fd_pwrite(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = io_check(s, c.i32(0), kFdWrite, d); e != Errno::Success) return e;
  std::vector<iovec> iov = m.iovecs(c.i32(1), c.i32(2));
  int64_t off = static_cast<int64_t>(c.i64(3));
  if (off < 0) return Errno::Inval;
  ssize_t n = pwritev(d->fd, iov.data(), static_cast<int>(iov.size()), off);
  if (n < 0) return common::last_error();
  m.store<uint32_t>(c.i32(4), static_cast<uint32_t>(n));
  return Errno::Success;
}

Errno fd_read(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = io_check(s, c.i32(0), kFdRead, d); e != Errno::Success) return e;
  std::vector<iovec> iov = m.iovecs(c.i32(1), c.i32(2));
  uint32_t out = c.i32(3);
  m.at(out, 4);
  size_t n;
  if (Errno e = common::read_stream(s.reactor, d->fd, iov, d->nonblock, n); e != Errno::Success) return e;
  m.store<uint32_t>(out, static_cast<uint32_t>(n));
  return Errno::Success;
}

Errno fd_write(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = io_check(s, c.i32(0), kFdWrite, d); e != Errno::Success) return e;
  std::vector<iovec> iov = m.iovecs(c.i32(1), c.i32(2));
  uint32_t out = c.i32(3);
  m.at(out, 4);
  size_t n;
  if (Errno e = common::write_stream(s.reactor, d->fd, iov, d->nonblock, n); e != Errno::Success) return e;
  m.store<uint32_t>(out, static_cast<uint32_t>(n));
  return Errno::Success;
}

Errno fd_prestat_get(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  if (!d->preopen) return Errno::BadF;
  uint32_t at = c.i32(1);
  std::memset(m.at(at, 8), 0, 8);
  m.store<uint32_t>(at + 4, static_cast<uint32_t>(d->preopen->size()));
  return Errno::Success;
}

Errno fd_prestat_dir_name(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  if (!d->preopen) return Errno::BadF;
  uint32_t len = c.i32(2);
  if (len < d->preopen->size()) return Errno::NameTooLong;
  std::memcpy(m.at(c.i32(1), d->preopen->size()), d->preopen->data(), d->preopen->size());
  return Errno::Success;
}

Errno fd_readdir(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  if (!is_dir(d)) return Errno::NotDir;
  uint32_t buf = c.i32(1), len = c.i32(2), used_at = c.i32(4);
  uint64_t cookie = c.i64(3);
  uint8_t* out = m.at(buf, len);
  m.at(used_at, 4);
  if (cookie == 0 || d->listing.empty()) {
    if (Errno e = common::list_directory(d->fd, d->listing); e != Errno::Success) return e;
  }
  uint32_t used = 0;
  for (uint64_t i = cookie; i < d->listing.size() && used < len; ++i) {
    const common::DirEntry& ent = d->listing[i];
    uint8_t header[24] = {};
    uint64_t next = i + 1;
    uint32_t namlen = static_cast<uint32_t>(ent.name.size());
    std::memcpy(header, &next, 8);
    std::memcpy(header + 8, &ent.ino, 8);
    std::memcpy(header + 16, &namlen, 4);
    header[20] = static_cast<uint8_t>(ent.type);
    // Entries that do not fit are cut off; the guest sees a full buffer and
    // asks again from the last whole entry's cookie.
    uint32_t take = std::min<uint32_t>(24, len - used);
    std::memcpy(out + used, header, take);
    used += take;
    take = std::min<uint32_t>(namlen, len - used);
    std::memcpy(out + used, ent.name.data(), take);
    used += take;
  }
  m.store<uint32_t>(used_at, used);
  return Errno::Success;
}

Errno fd_renumber(State& s, const Mem&, engine::HostCall& c, bool) { return s.fds.renumber(c.i32(0), c.i32(1)); }

Errno fd_seek(State& s, const Mem& m, engine::HostCall& c, bool p0) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  uint32_t whence = c.i32(2), out = c.i32(3);
  m.at(out, 8);
  // preview1: set, cur, end; wasi_unstable: cur, end, set.
  static constexpr int kP1[] = {SEEK_SET, SEEK_CUR, SEEK_END};
  static constexpr int kP0[] = {SEEK_CUR, SEEK_END, SEEK_SET};
  if (whence > 2) return Errno::Inval;
  if (is_dir(d)) return Errno::BadF;
  off_t r = lseek(d->fd, static_cast<off_t>(c.i64(1)), (p0 ? kP0 : kP1)[whence]);
  if (r < 0) return common::last_error();
  m.store<uint64_t>(out, static_cast<uint64_t>(r));
  return Errno::Success;
}

Errno fd_tell(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  uint32_t out = c.i32(1);
  m.at(out, 8);
  if (is_dir(d)) return Errno::BadF;
  off_t r = lseek(d->fd, 0, SEEK_CUR);
  if (r < 0) return common::last_error();
  m.store<uint64_t>(out, static_cast<uint64_t>(r));
  return Errno::Success;
}

// ---- paths ----

Errno path_create_directory(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  common::ResolvedPath r;
  if (Errno e = s.resolve(c.i32(0), m, c.i32(1), c.i32(2), false, d, r); e != Errno::Success) return e;
  if (d->read_only) return Errno::RoFs;
  if (mkdirat(r.dir, r.final_name().c_str(), 0777) != 0) return common::last_error();
  return Errno::Success;
}

Errno path_filestat_get(State& s, const Mem& m, engine::HostCall& c, bool p0) {
  Descriptor* d;
  common::ResolvedPath r;
  bool follow = c.i32(1) & kLookupSymlinkFollow;
  if (Errno e = s.resolve(c.i32(0), m, c.i32(2), c.i32(3), follow, d, r); e != Errno::Success) return e;
  struct stat st;
  if (fstatat(r.dir, r.final_name().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return common::last_error();
  store_filestat(m, c.i32(4), st, p0);
  return Errno::Success;
}

Errno path_filestat_set_times(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  common::ResolvedPath r;
  bool follow = c.i32(1) & kLookupSymlinkFollow;
  if (Errno e = s.resolve(c.i32(0), m, c.i32(2), c.i32(3), follow, d, r); e != Errno::Success) return e;
  timespec times[2];
  if (!make_times(c.i64(4), c.i64(5), c.i32(6), times)) return Errno::Inval;
  if (d->read_only) return Errno::RoFs;
  if (utimensat(r.dir, r.final_name().c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) return common::last_error();
  return Errno::Success;
}

Errno path_link(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor *od, *nd;
  common::ResolvedPath o, n;
  bool follow = c.i32(1) & kLookupSymlinkFollow;
  if (Errno e = s.resolve(c.i32(0), m, c.i32(2), c.i32(3), follow, od, o); e != Errno::Success) return e;
  if (Errno e = s.resolve(c.i32(4), m, c.i32(5), c.i32(6), false, nd, n); e != Errno::Success) return e;
  if (nd->read_only) return Errno::RoFs;
  if (linkat(o.dir, o.final_name().c_str(), n.dir, n.final_name().c_str(), 0) != 0) return common::last_error();
  return Errno::Success;
}

Errno path_open(State& s, const Mem& m, engine::HostCall& c, bool) {
  uint32_t dirflags = c.i32(1), oflags = c.i32(4), fdflags = c.i32(7), out = c.i32(8);
  uint64_t base = c.i64(5);
  Descriptor* d;
  common::ResolvedPath r;
  if (Errno e = s.resolve(c.i32(0), m, c.i32(2), c.i32(3), dirflags & kLookupSymlinkFollow, d, r);
      e != Errno::Success)
    return e;
  m.at(out, 4);
  if (oflags & ~uint32_t{15}) return Errno::Inval;
  if (!(d->rights_base & kPathOpen)) return Errno::NotCapable;
  if ((oflags & kOflagCreat) && !(d->rights_base & kPathCreateFile)) return Errno::NotCapable;
  if ((oflags & kOflagTrunc) && !(d->rights_base & kPathFilestatSetSize)) return Errno::NotCapable;

  bool write = base & kWriteRights;
  bool read = (base & (kFdRead | kFdReaddir)) || !write;
  if (d->read_only && (write || (oflags & (kOflagCreat | kOflagTrunc)))) return Errno::RoFs;
  common::OpenOptions o;
  o.read = read;
  o.write = write;
  o.create = oflags & kOflagCreat;
  o.directory = oflags & kOflagDirectory;
  o.exclusive = oflags & kOflagExcl;
  o.truncate = oflags & kOflagTrunc;
  o.append = fdflags & kFdflagAppend;
  o.dsync = fdflags & kFdflagDsync;
  o.sync = fdflags & kFdflagSync;
  o.rsync = fdflags & kFdflagRsync;
  o.nonblock = fdflags & kFdflagNonblock;
  common::OwnedFd fd;
  struct stat st;
  if (Errno e = common::open_resolved(r, o, fd, st); e != Errno::Success) return e;
  FileType type = common::file_type_of_mode(st.st_mode);
  auto nd = Descriptor::own(fd.release(), type);
  nd->read_only = d->read_only;
  nd->nonblock = fdflags & kFdflagNonblock;
  if (type == FileType::Directory) {
    nd->rights_base = kDirRights & d->rights_inheriting;
    nd->rights_inheriting = (kDirRights | kFileRights) & d->rights_inheriting;
  } else {
    uint64_t rights = kFileRights;
    if (!read) rights &= ~kFdRead;
    if (!write) rights &= ~kWriteRights;
    nd->rights_base = rights & d->rights_inheriting;
  }
  m.store<uint32_t>(out, s.fds.insert(std::move(nd)));
  return Errno::Success;
}

Errno path_readlink(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  common::ResolvedPath r;
  if (Errno e = s.resolve(c.i32(0), m, c.i32(1), c.i32(2), false, d, r); e != Errno::Success) return e;
  uint32_t buf = c.i32(3), len = c.i32(4), used_at = c.i32(5);
  uint8_t* out = m.at(buf, len);
  m.at(used_at, 4);
  std::vector<char> target(4096);
  ssize_t n = readlinkat(r.dir, r.final_name().c_str(), target.data(), target.size());
  if (n < 0) return common::last_error();
  // A target longer than the buffer is cut off, as readlink(2) does.
  uint32_t take = std::min<uint32_t>(len, static_cast<uint32_t>(n));
  std::memcpy(out, target.data(), take);
  m.store<uint32_t>(used_at, take);
  return Errno::Success;
}

Errno path_remove_directory(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  common::ResolvedPath r;
  if (Errno e = s.resolve(c.i32(0), m, c.i32(1), c.i32(2), false, d, r); e != Errno::Success) return e;
  if (d->read_only) return Errno::RoFs;
  if (unlinkat(r.dir, r.final_name().c_str(), AT_REMOVEDIR) != 0) return common::last_error();
  return Errno::Success;
}

Errno path_rename(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor *od, *nd;
  common::ResolvedPath o, n;
  if (Errno e = s.resolve(c.i32(0), m, c.i32(1), c.i32(2), false, od, o); e != Errno::Success) return e;
  if (Errno e = s.resolve(c.i32(3), m, c.i32(4), c.i32(5), false, nd, n); e != Errno::Success) return e;
  if (od->read_only || nd->read_only) return Errno::RoFs;
  if (renameat(o.dir, o.final_name().c_str(), n.dir, n.final_name().c_str()) != 0) return common::last_error();
  return Errno::Success;
}

Errno path_symlink(State& s, const Mem& m, engine::HostCall& c, bool) {
  std::string target(m.str(c.i32(0), c.i32(1)));
  if (target.find('\0') != std::string::npos) return Errno::Inval;
  // A link that could only ever point outside the sandbox is refused.
  if (!target.empty() && target.front() == '/') return Errno::Perm;
  Descriptor* d;
  common::ResolvedPath r;
  if (Errno e = s.resolve(c.i32(2), m, c.i32(3), c.i32(4), false, d, r); e != Errno::Success) return e;
  if (d->read_only) return Errno::RoFs;
  if (symlinkat(target.c_str(), r.dir, r.final_name().c_str()) != 0) return common::last_error();
  return Errno::Success;
}

Errno path_unlink_file(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  common::ResolvedPath r;
  if (Errno e = s.resolve(c.i32(0), m, c.i32(1), c.i32(2), false, d, r); e != Errno::Success) return e;
  if (d->read_only) return Errno::RoFs;
  if (unlinkat(r.dir, r.final_name().c_str(), 0) != 0) return common::last_error();
  return Errno::Success;
}

// ---- poll_oneoff ----

struct Subscription {
  uint64_t userdata = 0;
  uint8_t type = 0;
  Errno error = Errno::Success;  // reported at once
  uint64_t deadline = 0;         // clocks: monotonic ns
  Descriptor* d = nullptr;       // fd events
  bool always_ready = false;     // regular files never block
};

Errno poll_oneoff(State& s, const Mem& m, engine::HostCall& c, bool p0) {
  uint32_t in = c.i32(0), out = c.i32(1), n = c.i32(2), nevents_at = c.i32(3);
  if (n == 0) return Errno::Inval;
  uint32_t size = p0 ? 56 : 48;
  m.at(in, uint64_t{n} * size);
  m.at(out, uint64_t{n} * 32);
  m.at(nevents_at, 4);

  uint64_t now_mono;
  common::clock_now(static_cast<uint32_t>(common::Clock::Monotonic), now_mono);
  std::vector<Subscription> subs(n);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t at = in + i * size;
    Subscription& sub = subs[i];
    sub.userdata = m.load<uint64_t>(at);
    sub.type = m.load<uint8_t>(at + 8);
    if (sub.type == kEventClock) {
      uint32_t o = p0 ? 24 : 16;  // wasi_unstable has a 64-bit identifier first
      uint32_t id = m.load<uint32_t>(at + o);
      uint64_t timeout = m.load<uint64_t>(at + o + 8);
      bool abs = m.load<uint16_t>(at + o + 24) & 1;
      uint64_t now;
      if (Errno e = common::clock_now(id, now); e != Errno::Success) {
        sub.error = e;
        continue;
      }
      uint64_t wait = abs ? (timeout > now ? timeout - now : 0) : timeout;
      sub.deadline = now_mono + wait;
    } else if (sub.type == kEventFdRead || sub.type == kEventFdWrite) {
      if (Errno e = s.get(m.load<uint32_t>(at + 16), sub.d); e != Errno::Success) {
        sub.error = e;
        continue;
      }
      sub.always_ready = sub.d->type == FileType::RegularFile || is_dir(sub.d);
    } else {
      sub.error = Errno::Inval;
    }
  }

  uint32_t nevents = 0;
  auto emit = [&](const Subscription& sub, Errno error, uint64_t nbytes, uint16_t flags) {
    uint32_t at = out + nevents++ * 32;
    std::memset(m.at(at, 32), 0, 32);
    m.store<uint64_t>(at, sub.userdata);
    m.store<uint16_t>(at + 8, static_cast<uint16_t>(error));
    m.store<uint8_t>(at + 10, sub.type);
    m.store<uint64_t>(at + 16, nbytes);
    m.store<uint16_t>(at + 24, flags);
  };

  for (;;) {
    // Collect what is ready now: errors, expired clocks, ready descriptors.
    std::vector<pollfd> pfds;
    std::vector<size_t> which;
    uint64_t now;
    common::clock_now(static_cast<uint32_t>(common::Clock::Monotonic), now);
    uint64_t earliest = UINT64_MAX;
    for (size_t i = 0; i < n; ++i) {
      const Subscription& sub = subs[i];
      if (sub.error != Errno::Success) {
        emit(sub, sub.error, 0, 0);
      } else if (sub.type == kEventClock) {
        if (sub.deadline <= now) emit(sub, Errno::Success, 0, 0);
        else earliest = std::min(earliest, sub.deadline);
      } else if (sub.always_ready) {
        uint64_t nbytes = 0;
        struct stat st;
        if (sub.type == kEventFdRead && sub.d->type == FileType::RegularFile && fstat(sub.d->fd, &st) == 0) {
          off_t pos = lseek(sub.d->fd, 0, SEEK_CUR);
          if (pos >= 0 && st.st_size > pos) nbytes = static_cast<uint64_t>(st.st_size - pos);
        }
        emit(sub, Errno::Success, nbytes, 0);
      } else {
        pfds.push_back({sub.d->fd, static_cast<short>(sub.type == kEventFdRead ? POLLIN : POLLOUT), 0});
        which.push_back(i);
      }
    }
    if (!pfds.empty() && ::poll(pfds.data(), pfds.size(), 0) > 0) {
      for (size_t k = 0; k < pfds.size(); ++k) {
        short re = pfds[k].revents;
        if (!re) continue;
        const Subscription& sub = subs[which[k]];
        if (re & POLLNVAL) {
          emit(sub, Errno::BadF, 0, 0);
          continue;
        }
        int avail = 0;
        if (sub.type == kEventFdRead) ioctl(sub.d->fd, FIONREAD, &avail);
        emit(sub, Errno::Success, static_cast<uint64_t>(std::max(avail, 0)), (re & POLLHUP) ? 1 : 0);
      }
    }
    if (nevents > 0) break;

    // Nothing yet: sleep in the loop until a descriptor or the first clock
    // fires. One watch per host descriptor (libuv allows no more), with the
    // union of the events asked for it.
    std::map<int, int> events;
    for (const pollfd& p : pfds) events[p.fd] |= p.events == POLLIN ? UV_READABLE : UV_WRITABLE;
    bool fired = false;
    std::vector<std::unique_ptr<loop::FdWatch>> watches;
    for (auto [fd, ev] : events) {
      auto w = std::make_unique<loop::FdWatch>(s.reactor, fd);
      if (!w->pollable()) {
        // epoll cannot watch it, so reading or writing it does not block.
        for (size_t k = 0; k < pfds.size(); ++k)
          if (pfds[k].fd == fd) subs[which[k]].always_ready = true;
        fired = true;
        continue;
      }
      w->start(ev, [&](int, int) { fired = true; });
      watches.push_back(std::move(w));
    }
    loop::Timer timer(s.reactor);
    if (earliest != UINT64_MAX) timer.start(earliest - now, [&] { fired = true; });
    bool ran = fired || s.reactor.run_until([&] { return fired; });
    // Last made, first gone: descriptors sharing one open file (2>&1) get
    // their original flags back in the right order.
    while (!watches.empty()) watches.pop_back();
    if (!ran) break;
  }
  m.store<uint32_t>(nevents_at, nevents);
  return Errno::Success;
}

// ---- sockets ----

Errno sock_accept(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  uint32_t flags = c.i32(1), out = c.i32(2);
  m.at(out, 4);
  if (flags & ~uint32_t{kFdflagNonblock}) return Errno::Inval;
  if (d->type != FileType::SocketStream) return Errno::NotSock;
  int fd;
  bool nonblock = flags & kFdflagNonblock;
  if (Errno e = common::tcp_accept(s.reactor, d->fd, d->nonblock, fd); e != Errno::Success) return e;
  auto nd = Descriptor::own(fd, FileType::SocketStream);
  nd->nonblock = nonblock;
  nd->rights_base = kSocketRights & ~kSockAccept;
  m.store<uint32_t>(out, s.fds.insert(std::move(nd)));
  return Errno::Success;
}

Errno sock_recv(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  std::vector<iovec> iov = m.iovecs(c.i32(1), c.i32(2));
  uint32_t riflags = c.i32(3), len_at = c.i32(4), flags_at = c.i32(5);
  m.at(len_at, 4);
  m.at(flags_at, 2);
  if (riflags & ~uint32_t{3}) return Errno::Inval;
  if (d->type != FileType::SocketStream) return Errno::NotSock;
  int msg_flags = ((riflags & 1) ? MSG_PEEK : 0) | ((riflags & 2) ? MSG_WAITALL : 0);
  size_t n;
  bool truncated;
  if (Errno e = common::socket_recv(s.reactor, d->fd, iov, msg_flags, d->nonblock, n, truncated);
      e != Errno::Success)
    return e;
  m.store<uint32_t>(len_at, static_cast<uint32_t>(n));
  m.store<uint16_t>(flags_at, truncated ? 1 : 0);
  return Errno::Success;
}

Errno sock_send(State& s, const Mem& m, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  std::vector<iovec> iov = m.iovecs(c.i32(1), c.i32(2));
  uint32_t out = c.i32(4);
  m.at(out, 4);
  if (c.i32(3) != 0) return Errno::Inval;
  if (d->type != FileType::SocketStream) return Errno::NotSock;
  size_t n;
  if (Errno e = common::socket_send(s.reactor, d->fd, iov, d->nonblock, n); e != Errno::Success) return e;
  m.store<uint32_t>(out, static_cast<uint32_t>(n));
  return Errno::Success;
}

Errno sock_shutdown(State& s, const Mem&, engine::HostCall& c, bool) {
  Descriptor* d;
  if (Errno e = s.get(c.i32(0), d); e != Errno::Success) return e;
  uint32_t how = c.i32(1);
  if (how == 0 || how > 3) return Errno::Inval;
  if (d->type != FileType::SocketStream) return Errno::NotSock;
  int h = how == 1 ? SHUT_RD : how == 2 ? SHUT_WR : SHUT_RDWR;
  if (shutdown(d->fd, h) != 0) return common::last_error();
  return Errno::Success;
}

// ---- the import table ----

struct Entry {
  std::string_view name;
  std::string_view sig;  // params then "->" result: 'i' i32, 'I' i64; "" result = none
  Fn fn;
};

#define F(name, sig) {#name, sig, name}
constexpr Entry kFunctions[] = {
    F(args_get, "ii>i"), F(args_sizes_get, "ii>i"), F(environ_get, "ii>i"), F(environ_sizes_get, "ii>i"),
    F(clock_res_get, "ii>i"), F(clock_time_get, "iIi>i"), F(random_get, "ii>i"), F(proc_exit, "i>"),
    F(proc_raise, "i>i"), F(sched_yield, ">i"), F(fd_advise, "iIIi>i"), F(fd_allocate, "iII>i"),
    F(fd_close, "i>i"), F(fd_datasync, "i>i"), F(fd_sync, "i>i"), F(fd_fdstat_get, "ii>i"),
    F(fd_fdstat_set_flags, "ii>i"), F(fd_fdstat_set_rights, "iII>i"), F(fd_filestat_get, "ii>i"),
    F(fd_filestat_set_size, "iI>i"), F(fd_filestat_set_times, "iIIi>i"), F(fd_pread, "iiiIi>i"),
    F(fd_pwrite, "iiiIi>i"), F(fd_read, "iiii>i"), F(fd_write, "iiii>i"), F(fd_prestat_get, "ii>i"),
    F(fd_prestat_dir_name, "iii>i"), F(fd_readdir, "iiiIi>i"), F(fd_renumber, "ii>i"), F(fd_seek, "iIii>i"),
    F(fd_tell, "ii>i"), F(path_create_directory, "iii>i"), F(path_filestat_get, "iiiii>i"),
    F(path_filestat_set_times, "iiiiIIi>i"), F(path_link, "iiiiiii>i"), F(path_open, "iiiiiIIii>i"),
    F(path_readlink, "iiiiii>i"), F(path_remove_directory, "iii>i"), F(path_rename, "iiiiii>i"),
    F(path_symlink, "iiiii>i"), F(path_unlink_file, "iii>i"), F(poll_oneoff, "iiii>i"),
    F(sock_accept, "iii>i"), F(sock_recv, "iiiiii>i"), F(sock_send, "iiiii>i"), F(sock_shutdown, "ii>i"),
};
#undef F

wasm::FuncType type_of(std::string_view sig) {
  wasm::FuncType t;
  auto* list = &t.params;
  for (char ch : sig) {
    if (ch == '>') list = &t.results;
    else list->push_back(ch == 'I' ? ValType::I64 : ValType::I32);
  }
  return t;
}

}  // namespace

Host::Host(engine::Store& store, loop::Reactor& reactor, const common::WasiConfig& config)
    : state_(std::make_unique<State>(store, reactor)) {
  state_->args = config.args;
  for (auto& [name, value] : common::guest_environment(config)) state_->env.push_back(name + "=" + value);
  for (int fd = 0; fd < 3; ++fd) state_->add_stdio(fd);
  for (const common::Preopen& p : config.preopens) {
    int fd = open(p.host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      throw Error(ErrorKind::Usage, "cannot open directory '" + p.host_path + "': " + std::strerror(errno));
    auto d = Descriptor::own(fd, FileType::Directory);
    d->preopen = p.guest_path;
    d->read_only = p.read_only;
    d->rights_base = kDirRights;
    d->rights_inheriting = kDirRights | kFileRights;
    state_->fds.insert(std::move(d));
  }
  for (const std::string& address : config.tcplisten) {
    int fd;
    if (Errno e = common::tcp_listen(address, fd); e != Errno::Success)
      throw Error(ErrorKind::Usage, "cannot listen on '" + address + "' (wasi errno " +
                                        std::to_string(static_cast<int>(e)) + ")");
    auto d = Descriptor::own(fd, FileType::SocketStream);
    d->rights_base = kSocketRights;
    state_->fds.insert(std::move(d));
  }
}

Host::~Host() = default;

std::optional<engine::Extern> Host::resolve(std::string_view module, std::string_view name,
                                            const wasm::FuncType& expected) {
  if (!is_wasi_module(module)) return std::nullopt;
  bool p0 = module == "wasi_unstable";
  for (const Entry& e : kFunctions) {
    if (e.name != name) continue;
    if (type_of(e.sig) != expected) return std::nullopt;
    auto key = std::make_pair(std::string(module), std::string(name));
    engine::Function*& f = state_->made[key];
    if (!f) {
      State* st = state_.get();
      Fn fn = e.fn;
      f = state_->store.create_host_function(
          expected, std::string(module) + "." + std::string(name), [st, fn, p0](engine::HostCall& call) {
            Mem mem(call);
            Errno result;
            try {
              result = fn(*st, mem, call, p0);
            } catch (const Fault&) {
              result = Errno::Fault;
            }
            call.set_i32(0, static_cast<uint32_t>(result));
          });
    }
    return engine::Extern::of(f);
  }
  return std::nullopt;
}

std::vector<engine::Extern> link_imports(Host& host, const wasm::Module& module) {
  std::vector<engine::Extern> imports;
  std::string unknown;
  for (const wasm::Import& import : module.imports) {
    std::optional<engine::Extern> ext;
    if (import.kind == wasm::ExternKind::Func)
      ext = host.resolve(import.module, import.name, module.types[import.func_type]);
    if (ext) imports.push_back(*ext);
    else unknown += (unknown.empty() ? "" : ", ") + import.module + "::" + import.name;
  }
  if (!unknown.empty()) throw Error(ErrorKind::Unlinkable, "unknown import: " + unknown);
  return imports;
}

}  // namespace weft::wasi::p1
