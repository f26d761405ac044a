// wasi:filesystem/types and wasi:filesystem/preopens: descriptors over host
// files and directories, every path sandboxed by common::resolve_path as the
// preview1 host does, and file streams that are plain pread/pwrite at an
// offset (regular files are always ready).
//
// Writes through a read-only preopen (or anything opened under one) fail with
// `read-only`, as preview1's fail with `rofs`. Directories opened under a
// writable preopen may mutate like their parent (the preview1 adapter never
// asks for mutate-directory); files may be read or written only as their
// descriptor-flags asked (`bad-descriptor` otherwise, as read(2) on a file
// not opened for reading).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "base/error.h"
#include "base/utf8.h"
#include "wasi/common/clocks.h"
#include "wasi/common/descriptor.h"
#include "wasi/common/files.h"
#include "wasi/common/path.h"
#include "wasi/p2/state.h"

namespace weft::wasi::p2 {

using common::Errno;
using common::OwnedFd;
using component::Type;

namespace {

// The most one stream read, check-write or `read` hands over at once, so a
// guest asking for 4 GiB does not make the host allocate it.
constexpr uint64_t kMaxChunk = uint64_t{1} << 20;

struct Descriptor {
  std::shared_ptr<OwnedFd> fd;  // shared with the streams made from it
  unsigned mode = 0;            // st_mode & S_IFMT
  bool read = false, write = false;  // files: opened for reading / writing
  bool mutate = false;               // not under a read-only preopen
  bool file_sync = false, data_sync = false, read_sync = false;  // as requested at open

  bool is_dir() const { return mode == S_IFDIR; }
};

struct DirectoryEntryStream {
  std::vector<common::DirEntry> entries;
  size_t next = 0;
};

struct Preopen {
  std::shared_ptr<OwnedFd> fd;
  const common::Preopen* config;
};

}  // namespace

struct State::Filesystem {
  ResourceTable<Descriptor> descriptors;
  ResourceTable<DirectoryEntryStream> directory_streams;
  std::vector<Preopen> preopens;
  std::array<uint64_t, 2> hash_key{};  // keeps metadata hashes from exposing inode numbers
};

namespace {

using Fs = State::Filesystem;

Fs& filesystem(State& st) {
  if (!st.filesystem) {
    st.filesystem = {new Fs(), [](Fs* f) { delete f; }};
    common::random_fill(reinterpret_cast<uint8_t*>(st.filesystem->hash_key.data()),
                        sizeof st.filesystem->hash_key);
  }
  return *st.filesystem;
}

// ---- values ----

// The one mapping from WASI errno values to error-code; anything else is io.
constexpr std::pair<Errno, std::string_view> kErrorCodes[] = {
    {Errno::Acces, "access"}, {Errno::Again, "would-block"}, {Errno::Already, "already"},
    {Errno::BadF, "bad-descriptor"}, {Errno::Busy, "busy"}, {Errno::DeadLk, "deadlock"},
    {Errno::DQuot, "quota"}, {Errno::Exist, "exist"}, {Errno::FBig, "file-too-large"},
    {Errno::IlSeq, "illegal-byte-sequence"}, {Errno::InProgress, "in-progress"}, {Errno::Intr, "interrupted"},
    {Errno::Inval, "invalid"}, {Errno::Io, "io"}, {Errno::IsDir, "is-directory"}, {Errno::Loop, "loop"},
    {Errno::MLink, "too-many-links"}, {Errno::MsgSize, "message-size"}, {Errno::NameTooLong, "name-too-long"},
    {Errno::NoDev, "no-device"}, {Errno::NoEnt, "no-entry"}, {Errno::NoLck, "no-lock"},
    {Errno::NoMem, "insufficient-memory"}, {Errno::NoSpc, "insufficient-space"},
    {Errno::NotDir, "not-directory"}, {Errno::NotEmpty, "not-empty"},
    {Errno::NotRecoverable, "not-recoverable"}, {Errno::NotSup, "unsupported"}, {Errno::NoSys, "unsupported"},
    {Errno::NotTy, "no-tty"}, {Errno::NxIo, "no-such-device"}, {Errno::Overflow, "overflow"},
    {Errno::Perm, "not-permitted"}, {Errno::NotCapable, "not-permitted"}, {Errno::Pipe, "pipe"},
    {Errno::RoFs, "read-only"}, {Errno::SPipe, "invalid-seek"}, {Errno::TxtBsy, "text-file-busy"},
    {Errno::XDev, "cross-device"},
};

std::string_view error_code_label(Errno e) {
  for (const auto& [errno_value, label] : kErrorCodes)
    if (errno_value == e) return label;
  return "io";
}

Val error_code(const Type* t, Errno e) { return hv::enum_case(t, error_code_label(e)); }

std::string_view type_label(common::FileType t) {
  switch (t) {
    case common::FileType::BlockDevice: return "block-device";
    case common::FileType::CharacterDevice: return "character-device";
    case common::FileType::Directory: return "directory";
    case common::FileType::RegularFile: return "regular-file";
    case common::FileType::SocketDgram:
    case common::FileType::SocketStream: return "socket";
    case common::FileType::SymbolicLink: return "symbolic-link";
    case common::FileType::Unknown: break;
  }
  return "unknown";
}

std::string_view descriptor_type(unsigned mode) {
  // preview1's filetype (common::FileType) has no fifo.
  return (mode & S_IFMT) == S_IFIFO ? "fifo" : type_label(common::file_type_of_mode(mode));
}

Val datetime(const Type* t, const timespec& ts) {
  return hv::record(t, {hv::scalar(hv::field_type(t, "seconds"), static_cast<uint64_t>(ts.tv_sec)),
                        hv::scalar(hv::field_type(t, "nanoseconds"), static_cast<uint64_t>(ts.tv_nsec))});
}

Val descriptor_stat(const Type* t, const struct stat& st) {
  auto time = [&](std::string_view field, const timespec& ts) {
    const Type* ot = hv::field_type(t, field);
    return hv::some(ot, datetime(hv::element(ot), ts));
  };
  return hv::record(t, {hv::enum_case(hv::field_type(t, "type"), descriptor_type(st.st_mode)),
                        hv::scalar(hv::field_type(t, "link-count"), st.st_nlink),
                        hv::scalar(hv::field_type(t, "size"), static_cast<uint64_t>(st.st_size)),
                        time("data-access-timestamp", st.st_atim), time("data-modification-timestamp", st.st_mtim),
                        time("status-change-timestamp", st.st_ctim)});
}

uint64_t mix(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9u;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

// Hashes the device and inode only: the preview1 adapter reports the hash
// as the inode number, which must not change when the file is written.
Val metadata_hash(const Fs& fs, const Type* t, const struct stat& st) {
  uint64_t lower = mix(mix(st.st_dev ^ fs.hash_key[0]) ^ st.st_ino);
  uint64_t upper = mix(lower ^ fs.hash_key[1]);
  return hv::record(t, {hv::scalar(hv::field_type(t, "lower"), lower), hv::scalar(hv::field_type(t, "upper"), upper)});
}

// A new-timestamp argument as a futimens/utimensat time.
Errno new_timestamp(const Val& v, timespec& out) {
  std::string_view label = hv::case_label(v);
  if (label == "no-change") {
    out = common::make_timespec(common::TimeChange::Keep);
  } else if (label == "now") {
    out = common::make_timespec(common::TimeChange::Now);
  } else {
    const Val& dt = v.items.at(0);
    uint64_t ns = hv::as_uint(hv::field(dt, "nanoseconds"));
    if (ns >= 1000000000u) return Errno::Inval;
    out = common::make_timespec(common::TimeChange::Set, hv::as_uint(hv::field(dt, "seconds")),
                                static_cast<uint32_t>(ns));
  }
  return Errno::Success;
}

// ---- file streams ----

class FileInputStream final : public InputStream {
 public:
  FileInputStream(std::shared_ptr<OwnedFd> fd, uint64_t offset) : fd_(std::move(fd)), offset_(offset) {}

  StreamStatus read(uint64_t len, std::string& out) override {
    if (failed_) return StreamStatus::closed();
    size_t want = static_cast<size_t>(std::min(len, kMaxChunk));
    if (want == 0) return StreamStatus::ok();
    size_t old = out.size();
    out.resize(old + want);
    ssize_t n = pread(fd_->get(), out.data() + old, want, static_cast<off_t>(offset_));
    out.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) {
      failed_ = true;
      return StreamStatus::failed(common::last_error());
    }
    if (n == 0) return StreamStatus::closed();
    offset_ += static_cast<uint64_t>(n);
    return StreamStatus::ok();
  }
  std::shared_ptr<Pollable> readiness() override { return std::make_shared<ReadyPollable>(); }

 private:
  std::shared_ptr<OwnedFd> fd_;
  uint64_t offset_;
  bool failed_ = false;  // a failed stream is closed from then on
};

class FileOutputStream final : public OutputStream {
 public:
  // `append`: every write goes to the end of the file, wherever that is then.
  FileOutputStream(std::shared_ptr<OwnedFd> fd, uint64_t offset, bool append)
      : fd_(std::move(fd)), offset_(offset), append_(append) {}

  StreamStatus check_write(uint64_t& permitted) override {
    permitted = failed_ ? 0 : kMaxChunk;
    return failed_ ? StreamStatus::closed() : StreamStatus::ok();
  }
  StreamStatus write(std::string_view data) override {
    if (failed_) return StreamStatus::closed();
    while (!data.empty()) {
      iovec iov{const_cast<char*>(data.data()), data.size()};
      ssize_t n = append_ ? pwritev2(fd_->get(), &iov, 1, -1, RWF_APPEND)
                          : pwritev(fd_->get(), &iov, 1, static_cast<off_t>(offset_));
      if (n < 0) {
        if (errno == EINTR) continue;
        failed_ = true;
        return StreamStatus::failed(common::last_error());
      }
      offset_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return StreamStatus::ok();
  }
  StreamStatus flush() override { return failed_ ? StreamStatus::closed() : StreamStatus::ok(); }
  std::shared_ptr<Pollable> readiness() override { return std::make_shared<ReadyPollable>(); }

 private:
  std::shared_ptr<OwnedFd> fd_;
  uint64_t offset_;
  bool append_;
  bool failed_ = false;
};

// ---- descriptor methods ----

// A method returning result<_, error-code> or result<T, error-code>: on
// success it sets c.result itself; an error becomes the err case.
using Method = Errno (*)(State& st, Fs& fs, HostCall& c);

Descriptor& self(Fs& fs, HostCall& c) { return fs.descriptors.get(hv::as_uint(c.args[0])); }

void set_ok(HostCall& c) { c.result = hv::ok(c.result_type()); }
void set_ok(HostCall& c, Val v) { c.result = hv::ok(c.result_type(), std::move(v)); }
const Type* ok_type(HostCall& c) { return hv::ok_type(c.result_type()); }

Errno done(HostCall& c, int syscall_result) {
  if (syscall_result != 0) return common::last_error();
  set_ok(c);
  return Errno::Success;
}

// Resolves `path` under directory descriptor `d`.
Errno resolve(const Descriptor& d, const Val& path, bool follow, common::ResolvedPath& r) {
  if (!d.is_dir()) return Errno::NotDir;
  return common::resolve_path(d.fd->get(), hv::as_string(path), follow, r);
}

bool follow(const Val& path_flags) { return hv::has_flag(path_flags, "symlink-follow"); }

// Checks a file descriptor for read / write access.
Errno file_access(const Descriptor& d, bool write) {
  if (d.is_dir()) return Errno::IsDir;
  return (write ? d.write : d.read) ? Errno::Success : Errno::BadF;
}

Errno read_via_stream(State& st, Fs& fs, HostCall& c) {
  Descriptor& d = self(fs, c);
  if (Errno e = file_access(d, false); e != Errno::Success) return e;
  uint32_t rep = st.input_streams.add(std::make_unique<FileInputStream>(d.fd, hv::as_uint(c.args[1])));
  set_ok(c, hv::scalar(ok_type(c), rep));
  return Errno::Success;
}

Errno output_stream(State& st, Fs& fs, HostCall& c, uint64_t offset, bool append) {
  Descriptor& d = self(fs, c);
  if (Errno e = file_access(d, true); e != Errno::Success) return e;
  uint32_t rep = st.output_streams.add(std::make_unique<FileOutputStream>(d.fd, offset, append));
  set_ok(c, hv::scalar(ok_type(c), rep));
  return Errno::Success;
}
Errno write_via_stream(State& st, Fs& fs, HostCall& c) {
  return output_stream(st, fs, c, hv::as_uint(c.args[1]), false);
}
Errno append_via_stream(State& st, Fs& fs, HostCall& c) { return output_stream(st, fs, c, 0, true); }

Errno advise(State&, Fs& fs, HostCall& c) {
  Descriptor& d = self(fs, c);
  static constexpr std::pair<std::string_view, int> kAdvice[] = {
      {"normal", POSIX_FADV_NORMAL},     {"sequential", POSIX_FADV_SEQUENTIAL}, {"random", POSIX_FADV_RANDOM},
      {"will-need", POSIX_FADV_WILLNEED}, {"dont-need", POSIX_FADV_DONTNEED},   {"no-reuse", POSIX_FADV_NOREUSE}};
  std::string_view label = hv::case_label(c.args[3]);
  auto it = std::find_if(std::begin(kAdvice), std::end(kAdvice), [&](const auto& a) { return a.first == label; });
  if (it == std::end(kAdvice)) return Errno::Inval;
  if (d.mode != S_IFREG) return d.is_dir() ? Errno::BadF : Errno::SPipe;
  int err = posix_fadvise(d.fd->get(), static_cast<off_t>(hv::as_uint(c.args[1])),
                          static_cast<off_t>(hv::as_uint(c.args[2])), it->second);
  if (err != 0) return common::from_host_errno(err);
  set_ok(c);
  return Errno::Success;
}

Errno sync_common(State& st, Fs& fs, HostCall& c, bool data_only) {
  int fd = self(fs, c).fd->get();
  int err = st.reactor.run_blocking([=] { return (data_only ? fdatasync(fd) : fsync(fd)) == 0 ? 0 : errno; });
  if (err != 0) return common::from_host_errno(err);
  set_ok(c);
  return Errno::Success;
}
Errno sync_data(State& st, Fs& fs, HostCall& c) { return sync_common(st, fs, c, true); }
Errno sync(State& st, Fs& fs, HostCall& c) { return sync_common(st, fs, c, false); }

Errno get_flags(State&, Fs& fs, HostCall& c) {
  const Descriptor& d = self(fs, c);
  std::vector<std::string_view> set;
  if (d.read) set.push_back("read");
  if (d.write) set.push_back("write");
  if (d.file_sync) set.push_back("file-integrity-sync");
  if (d.data_sync) set.push_back("data-integrity-sync");
  if (d.read_sync) set.push_back("requested-write-sync");
  if (d.is_dir() && d.mutate) set.push_back("mutate-directory");
  set_ok(c, hv::flags(ok_type(c), set));
  return Errno::Success;
}

Errno get_type(State&, Fs& fs, HostCall& c) {
  set_ok(c, hv::enum_case(ok_type(c), descriptor_type(self(fs, c).mode)));
  return Errno::Success;
}

Errno set_size(State&, Fs& fs, HostCall& c) {
  const Descriptor& d = self(fs, c);
  if (Errno e = file_access(d, true); e != Errno::Success) return e;
  return done(c, ftruncate(d.fd->get(), static_cast<off_t>(hv::as_uint(c.args[1]))));
}

Errno set_times(State&, Fs& fs, HostCall& c) {
  const Descriptor& d = self(fs, c);
  timespec times[2];
  if (Errno e = new_timestamp(c.args[1], times[0]); e != Errno::Success) return e;
  if (Errno e = new_timestamp(c.args[2], times[1]); e != Errno::Success) return e;
  if (!d.mutate) return Errno::RoFs;
  return done(c, futimens(d.fd->get(), times));
}

Errno read(State&, Fs& fs, HostCall& c) {
  const Descriptor& d = self(fs, c);
  if (Errno e = file_access(d, false); e != Errno::Success) return e;
  size_t want = static_cast<size_t>(std::min(hv::as_uint(c.args[1]), kMaxChunk));
  std::string data(want, '\0');
  ssize_t n = pread(d.fd->get(), data.data(), want, static_cast<off_t>(hv::as_uint(c.args[2])));
  if (n < 0) return common::last_error();
  data.resize(static_cast<size_t>(n));
  const Type* t = ok_type(c);
  // A regular file reads short only at its end.
  set_ok(c, hv::tuple(t, {hv::bytes(hv::tuple_type(t, 0), data),
                          hv::scalar(hv::tuple_type(t, 1), static_cast<size_t>(n) < want)}));
  return Errno::Success;
}

Errno write(State&, Fs& fs, HostCall& c) {
  const Descriptor& d = self(fs, c);
  if (Errno e = file_access(d, true); e != Errno::Success) return e;
  std::string_view data = hv::as_bytes(c.args[1]);
  uint64_t offset = hv::as_uint(c.args[2]);
  uint64_t written = 0;
  while (written < data.size()) {
    ssize_t n = pwrite(d.fd->get(), data.data() + written, data.size() - written,
                       static_cast<off_t>(offset + written));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (written > 0) break;  // report what did get written
      return common::last_error();
    }
    written += static_cast<uint64_t>(n);
  }
  set_ok(c, hv::scalar(ok_type(c), written));
  return Errno::Success;
}

Errno read_directory(State&, Fs& fs, HostCall& c) {
  const Descriptor& d = self(fs, c);
  if (!d.is_dir()) return Errno::NotDir;
  auto stream = std::make_unique<DirectoryEntryStream>();
  if (Errno e = common::list_directory(d.fd->get(), stream->entries); e != Errno::Success) return e;
  std::erase_if(stream->entries, [](const common::DirEntry& e) { return e.name == "." || e.name == ".."; });
  set_ok(c, hv::scalar(ok_type(c), fs.directory_streams.add(std::move(stream))));
  return Errno::Success;
}

Errno create_directory_at(State&, Fs& fs, HostCall& c) {
  const Descriptor& d = self(fs, c);
  common::ResolvedPath r;
  if (Errno e = resolve(d, c.args[1], false, r); e != Errno::Success) return e;
  if (!d.mutate) return Errno::RoFs;
  return done(c, mkdirat(r.dir, r.final_name().c_str(), 0777));
}

Errno stat(State&, Fs& fs, HostCall& c) {
  struct stat st;
  if (fstat(self(fs, c).fd->get(), &st) != 0) return common::last_error();
  set_ok(c, descriptor_stat(ok_type(c), st));
  return Errno::Success;
}

// fstatat of a path (flags, path at args 1, 2) under the descriptor.
Errno stat_path(Fs& fs, HostCall& c, struct stat& st) {
  common::ResolvedPath r;
  if (Errno e = resolve(self(fs, c), c.args[2], follow(c.args[1]), r); e != Errno::Success) return e;
  if (fstatat(r.dir, r.final_name().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return common::last_error();
  return Errno::Success;
}

Errno stat_at(State&, Fs& fs, HostCall& c) {
  struct stat st;
  if (Errno e = stat_path(fs, c, st); e != Errno::Success) return e;
  set_ok(c, descriptor_stat(ok_type(c), st));
  return Errno::Success;
}

Errno set_times_at(State&, Fs& fs, HostCall& c) {
  const Descriptor& d = self(fs, c);
  common::ResolvedPath r;
  if (Errno e = resolve(d, c.args[2], follow(c.args[1]), r); e != Errno::Success) return e;
  timespec times[2];
  if (Errno e = new_timestamp(c.args[3], times[0]); e != Errno::Success) return e;
  if (Errno e = new_timestamp(c.args[4], times[1]); e != Errno::Success) return e;
  if (!d.mutate) return Errno::RoFs;
  return done(c, utimensat(r.dir, r.final_name().c_str(), times, AT_SYMLINK_NOFOLLOW));
}

Errno link_at(State&, Fs& fs, HostCall& c) {
  const Descriptor& od = self(fs, c);
  const Descriptor& nd = fs.descriptors.get(hv::as_uint(c.args[3]));
  common::ResolvedPath o, n;
  if (Errno e = resolve(od, c.args[2], follow(c.args[1]), o); e != Errno::Success) return e;
  if (Errno e = resolve(nd, c.args[4], false, n); e != Errno::Success) return e;
  if (!nd.mutate) return Errno::RoFs;
  return done(c, linkat(o.dir, o.final_name().c_str(), n.dir, n.final_name().c_str(), 0));
}

Errno open_at(State&, Fs& fs, HostCall& c) {
  const Descriptor& d = self(fs, c);
  const Val &oflags = c.args[3], &dflags = c.args[4];
  common::ResolvedPath r;
  if (Errno e = resolve(d, c.args[2], follow(c.args[1]), r); e != Errno::Success) return e;
  common::OpenOptions o;
  o.read = hv::has_flag(dflags, "read");
  o.write = hv::has_flag(dflags, "write");
  o.create = hv::has_flag(oflags, "create");
  o.directory = hv::has_flag(oflags, "directory");
  o.exclusive = hv::has_flag(oflags, "exclusive");
  o.truncate = hv::has_flag(oflags, "truncate");
  o.sync = hv::has_flag(dflags, "file-integrity-sync");
  o.dsync = hv::has_flag(dflags, "data-integrity-sync");
  o.rsync = hv::has_flag(dflags, "requested-write-sync");
  if (!d.mutate && (o.write || o.create || o.truncate || hv::has_flag(dflags, "mutate-directory")))
    return Errno::RoFs;
  OwnedFd fd;
  struct stat st;
  if (Errno e = common::open_resolved(r, o, fd, st); e != Errno::Success) return e;
  auto nd = std::make_unique<Descriptor>();
  nd->fd = std::make_shared<OwnedFd>(std::move(fd));
  nd->mode = st.st_mode & S_IFMT;
  nd->read = o.read;
  nd->write = o.write;
  nd->mutate = d.mutate;
  nd->file_sync = o.sync;
  nd->data_sync = o.dsync;
  nd->read_sync = o.rsync;
  set_ok(c, hv::scalar(ok_type(c), fs.descriptors.add(std::move(nd))));
  return Errno::Success;
}

Errno readlink_at(State&, Fs& fs, HostCall& c) {
  common::ResolvedPath r;
  if (Errno e = resolve(self(fs, c), c.args[1], false, r); e != Errno::Success) return e;
  std::string target(256, '\0');
  for (;;) {
    ssize_t n = readlinkat(r.dir, r.final_name().c_str(), target.data(), target.size());
    if (n < 0) return common::last_error();
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      break;
    }
    target.resize(target.size() * 2);
  }
  if (!target.empty() && target.front() == '/') return Errno::Perm;
  if (!utf8::valid({reinterpret_cast<const uint8_t*>(target.data()), target.size()})) return Errno::IlSeq;
  set_ok(c, hv::string(ok_type(c), std::move(target)));
  return Errno::Success;
}

// unlinkat of the path at args[1] (a directory with AT_REMOVEDIR).
Errno unlink_common(Fs& fs, HostCall& c, int flags) {
  const Descriptor& d = self(fs, c);
  common::ResolvedPath r;
  if (Errno e = resolve(d, c.args[1], false, r); e != Errno::Success) return e;
  if (!d.mutate) return Errno::RoFs;
  return done(c, unlinkat(r.dir, r.final_name().c_str(), flags));
}
Errno remove_directory_at(State&, Fs& fs, HostCall& c) { return unlink_common(fs, c, AT_REMOVEDIR); }
Errno unlink_file_at(State&, Fs& fs, HostCall& c) { return unlink_common(fs, c, 0); }

Errno rename_at(State&, Fs& fs, HostCall& c) {
  const Descriptor& od = self(fs, c);
  const Descriptor& nd = fs.descriptors.get(hv::as_uint(c.args[2]));
  common::ResolvedPath o, n;
  if (Errno e = resolve(od, c.args[1], false, o); e != Errno::Success) return e;
  if (Errno e = resolve(nd, c.args[3], false, n); e != Errno::Success) return e;
  if (!od.mutate || !nd.mutate) return Errno::RoFs;
  return done(c, renameat(o.dir, o.final_name().c_str(), n.dir, n.final_name().c_str()));
}

Errno symlink_at(State&, Fs& fs, HostCall& c) {
  const Descriptor& d = self(fs, c);
  const std::string& target = hv::as_string(c.args[1]);
  if (target.find('\0') != std::string::npos) return Errno::Inval;
  // A link that could only ever point outside the sandbox is refused.
  if (!target.empty() && target.front() == '/') return Errno::Perm;
  common::ResolvedPath r;
  if (Errno e = resolve(d, c.args[2], false, r); e != Errno::Success) return e;
  if (!d.mutate) return Errno::RoFs;
  return done(c, symlinkat(target.c_str(), r.dir, r.final_name().c_str()));
}

Errno metadata_hash_of(State&, Fs& fs, HostCall& c) {
  struct stat st;
  if (fstat(self(fs, c).fd->get(), &st) != 0) return common::last_error();
  set_ok(c, metadata_hash(fs, ok_type(c), st));
  return Errno::Success;
}

Errno metadata_hash_at(State&, Fs& fs, HostCall& c) {
  struct stat st;
  if (Errno e = stat_path(fs, c, st); e != Errno::Success) return e;
  set_ok(c, metadata_hash(fs, ok_type(c), st));
  return Errno::Success;
}

void is_same_object(Fs& fs, HostCall& c) {
  struct stat a, b;
  bool same = fstat(self(fs, c).fd->get(), &a) == 0 &&
              fstat(fs.descriptors.get(hv::as_uint(c.args[1])).fd->get(), &b) == 0 && a.st_dev == b.st_dev &&
              a.st_ino == b.st_ino;
  c.result = hv::scalar(c.result_type(), same);
}

Errno read_directory_entry(State&, Fs& fs, HostCall& c) {
  DirectoryEntryStream& s = fs.directory_streams.get(hv::as_uint(c.args[0]));
  const Type* ot = ok_type(c);
  if (s.next == s.entries.size()) {
    set_ok(c, hv::none(ot));
    return Errno::Success;
  }
  const common::DirEntry& e = s.entries[s.next++];
  if (!utf8::valid({reinterpret_cast<const uint8_t*>(e.name.data()), e.name.size()})) return Errno::IlSeq;
  const Type* et = hv::element(ot);
  set_ok(c, hv::some(ot, hv::record(et, {hv::enum_case(hv::field_type(et, "type"), type_label(e.type)),
                                         hv::string(hv::field_type(et, "name"), e.name)})));
  return Errno::Success;
}

void filesystem_error_code(State& st, HostCall& c) {
  Errno e = st.errors.get(hv::as_uint(c.args[0])).code;
  const Type* t = c.result_type();
  c.result = e == Errno::Success ? hv::none(t) : hv::some(t, error_code(hv::element(t), e));
}

void get_directories(Fs& fs, HostCall& c) {
  const Type* lt = c.result_type();
  const Type* tt = hv::element(lt);
  std::vector<Val> items;
  for (const Preopen& p : fs.preopens) {
    auto d = std::make_unique<Descriptor>();
    d->fd = p.fd;
    d->mode = S_IFDIR;
    d->read = true;
    d->mutate = !p.config->read_only;
    uint32_t rep = fs.descriptors.add(std::move(d));
    items.push_back(hv::tuple(tt, {hv::scalar(hv::tuple_type(tt, 0), rep),
                                   hv::string(hv::tuple_type(tt, 1), p.config->guest_path)}));
  }
  c.result = hv::list(lt, std::move(items));
}

struct MethodEntry {
  const char* name;
  uint32_t params;
  Method fn;
};

constexpr MethodEntry kMethods[] = {
    {"[method]descriptor.read-via-stream", 2, read_via_stream},
    {"[method]descriptor.write-via-stream", 2, write_via_stream},
    {"[method]descriptor.append-via-stream", 1, append_via_stream},
    {"[method]descriptor.advise", 4, advise},
    {"[method]descriptor.sync-data", 1, sync_data},
    {"[method]descriptor.get-flags", 1, get_flags},
    {"[method]descriptor.get-type", 1, get_type},
    {"[method]descriptor.set-size", 2, set_size},
    {"[method]descriptor.set-times", 3, set_times},
    {"[method]descriptor.read", 3, read},
    {"[method]descriptor.write", 3, write},
    {"[method]descriptor.read-directory", 1, read_directory},
    {"[method]descriptor.sync", 1, sync},
    {"[method]descriptor.create-directory-at", 2, create_directory_at},
    {"[method]descriptor.stat", 1, stat},
    {"[method]descriptor.stat-at", 3, stat_at},
    {"[method]descriptor.set-times-at", 5, set_times_at},
    {"[method]descriptor.link-at", 5, link_at},
    {"[method]descriptor.open-at", 5, open_at},
    {"[method]descriptor.readlink-at", 2, readlink_at},
    {"[method]descriptor.remove-directory-at", 2, remove_directory_at},
    {"[method]descriptor.rename-at", 4, rename_at},
    {"[method]descriptor.symlink-at", 3, symlink_at},
    {"[method]descriptor.unlink-file-at", 2, unlink_file_at},
    {"[method]descriptor.metadata-hash", 1, metadata_hash_of},
    {"[method]descriptor.metadata-hash-at", 3, metadata_hash_at},
    {"[method]directory-entry-stream.read-directory-entry", 1, read_directory_entry},
};

}  // namespace

void open_preopens(State& st) {
  Fs& fs = filesystem(st);
  for (const common::Preopen& p : st.config.preopens) {
    int fd = open(p.host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      throw Error(ErrorKind::Usage, "cannot open directory '" + p.host_path + "': " + std::strerror(errno));
    fs.preopens.push_back({std::make_shared<OwnedFd>(fd), &p});
  }
}

void add_filesystem(component::Host& host, State& st) {
  Fs& fs = filesystem(st);
  component::HostInterface& types = host.add("wasi:filesystem/types", kVersion);
  types.use(st.input_stream_resource);
  types.use(st.output_stream_resource);
  types.use(st.error_resource);
  auto descriptor = types.resource("descriptor", [&fs](uint32_t rep) { fs.descriptors.remove(rep); });
  types.resource("directory-entry-stream", [&fs](uint32_t rep) { fs.directory_streams.remove(rep); });
  for (const MethodEntry& m : kMethods) {
    types.func(m.name, m.params, [&st, &fs, fn = m.fn](HostCall& c) {
      if (Errno e = fn(st, fs, c); e != Errno::Success)
        c.result = hv::err(c.result_type(), error_code(hv::err_type(c.result_type()), e));
    });
  }
  types.func("[method]descriptor.is-same-object", 2, [&fs](HostCall& c) { is_same_object(fs, c); });
  types.func("filesystem-error-code", 1, [&st](HostCall& c) { filesystem_error_code(st, c); });

  component::HostInterface& preopens = host.add("wasi:filesystem/preopens", kVersion);
  preopens.use(descriptor);
  preopens.func("get-directories", 0, [&fs](HostCall& c) { get_directories(fs, c); });
}

}  // namespace weft::wasi::p2
