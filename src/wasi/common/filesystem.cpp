#include "wasi/common/filesystem.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "base/error.h"
#include "base/utf8.h"
#include "wasi/common/clocks.h"
#include "wasi/common/files.h"

namespace weft::wasi::common {

using component::HostCall;
using component::Type;
using component::TypeKind;
using component::Val;
namespace hv = component::host_values;

FsDescriptors::FsDescriptors(loop::Reactor& reactor) : reactor(reactor) {
  random_fill(reinterpret_cast<uint8_t*>(hash_key.data()), sizeof hash_key);
}

void FsDescriptors::open_preopens(const WasiConfig& config) {
  for (const common::Preopen& p : config.preopens) {
    int fd = open(p.host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      throw Error(ErrorKind::Usage, "cannot open directory '" + p.host_path + "': " + std::strerror(errno));
    preopens_.push_back({std::make_shared<OwnedFd>(fd), &p});
  }
}

namespace {

// ---- values ----

bool has_case(const Type* t, std::string_view label) {
  if (t->kind == TypeKind::Enum) return std::ranges::find(t->labels, label) != t->labels.end();
  return std::ranges::any_of(t->fields, [&](const component::Field& f) { return f.label == label; });
}

// A case without payload of an enum (0.2) or a variant (0.3).
Val case_of(const Type* t, std::string_view label) {
  return t->kind == TypeKind::Enum ? hv::enum_case(t, label) : hv::variant(t, label);
}

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

std::string_view type_label(FileType t) {
  switch (t) {
    case FileType::BlockDevice: return "block-device";
    case FileType::CharacterDevice: return "character-device";
    case FileType::Directory: return "directory";
    case FileType::RegularFile: return "regular-file";
    case FileType::SocketDgram:
    case FileType::SocketStream: return "socket";
    case FileType::SymbolicLink: return "symbolic-link";
    case FileType::Unknown: break;
  }
  return "unknown";
}

// A descriptor-type: 0.2's enum has `unknown`, 0.3's variant `other`.
Val descriptor_type_case(const Type* t, std::string_view label) {
  if (label == "unknown" && t->kind == TypeKind::Variant)
    return hv::variant(t, "other", hv::none(hv::case_type(t, "other")));
  return case_of(t, label);
}

Val descriptor_type(const Type* t, unsigned mode) {
  // preview1's filetype (FileType) has no fifo.
  return descriptor_type_case(t, (mode & S_IFMT) == S_IFIFO ? "fifo" : type_label(file_type_of_mode(mode)));
}

// A datetime (0.2) or instant (0.3): seconds are u64 in one, s64 in the
// other, the same bits either way.
Val timestamp(const Type* t, const timespec& ts) {
  return hv::record(t, {hv::scalar(hv::field_type(t, "seconds"), static_cast<uint64_t>(ts.tv_sec)),
                        hv::scalar(hv::field_type(t, "nanoseconds"), static_cast<uint64_t>(ts.tv_nsec))});
}

Val descriptor_stat(const Type* t, const struct stat& st) {
  auto time = [&](std::string_view field, const timespec& ts) {
    const Type* ot = hv::field_type(t, field);
    return hv::some(ot, timestamp(hv::element(ot), ts));
  };
  return hv::record(t, {descriptor_type(hv::field_type(t, "type"), st.st_mode),
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
Val metadata_hash(const FsDescriptors& fs, const Type* t, const struct stat& st) {
  uint64_t lower = mix(mix(st.st_dev ^ fs.hash_key[0]) ^ st.st_ino);
  uint64_t upper = mix(lower ^ fs.hash_key[1]);
  return hv::record(t, {hv::scalar(hv::field_type(t, "lower"), lower), hv::scalar(hv::field_type(t, "upper"), upper)});
}

// A new-timestamp argument as a futimens/utimensat time.
Errno new_timestamp(const Val& v, timespec& out) {
  std::string_view label = hv::case_label(v);
  if (label == "no-change") {
    out = make_timespec(TimeChange::Keep);
  } else if (label == "now") {
    out = make_timespec(TimeChange::Now);
  } else {
    const Val& dt = v.items.at(0);
    uint64_t ns = hv::as_uint(hv::field(dt, "nanoseconds"));
    if (ns >= 1000000000u) return Errno::Inval;
    out = make_timespec(TimeChange::Set, hv::as_uint(hv::field(dt, "seconds")), static_cast<uint32_t>(ns));
  }
  return Errno::Success;
}

// ---- descriptor methods ----

// A method returning result<_, error-code> or result<T, error-code>: on
// success it sets c.result itself; an error becomes the err case.
using Method = Errno (*)(FsDescriptors& fs, HostCall& c);

FsDescriptor& self(FsDescriptors& fs, HostCall& c) { return fs.get(hv::as_uint(c.args[0])); }
const Type* ok_type(HostCall& c) { return hv::ok_type(c.result_type()); }

Errno done(HostCall& c, int syscall_result) {
  if (syscall_result != 0) return last_error();
  set_ok(c);
  return Errno::Success;
}

// Resolves `path` under directory descriptor `d`.
Errno resolve(const FsDescriptor& d, const Val& path, bool follow, ResolvedPath& r) {
  if (!d.is_dir()) return Errno::NotDir;
  return resolve_path(d.fd->get(), hv::as_string(path), follow, r);
}

bool follow(const Val& path_flags) { return hv::has_flag(path_flags, "symlink-follow"); }

Errno advise(FsDescriptors& fs, HostCall& c) {
  FsDescriptor& d = self(fs, c);
  static constexpr std::pair<std::string_view, int> kAdvice[] = {
      {"normal", POSIX_FADV_NORMAL},     {"sequential", POSIX_FADV_SEQUENTIAL}, {"random", POSIX_FADV_RANDOM},
      {"will-need", POSIX_FADV_WILLNEED}, {"dont-need", POSIX_FADV_DONTNEED},   {"no-reuse", POSIX_FADV_NOREUSE}};
  std::string_view label = hv::case_label(c.args[3]);
  auto it = std::find_if(std::begin(kAdvice), std::end(kAdvice), [&](const auto& a) { return a.first == label; });
  if (it == std::end(kAdvice)) return Errno::Inval;
  if (d.mode != S_IFREG) return d.is_dir() ? Errno::BadF : Errno::SPipe;
  int err = posix_fadvise(d.fd->get(), static_cast<off_t>(hv::as_uint(c.args[1])),
                          static_cast<off_t>(hv::as_uint(c.args[2])), it->second);
  if (err != 0) return from_host_errno(err);
  set_ok(c);
  return Errno::Success;
}

Errno sync_common(FsDescriptors& fs, HostCall& c, bool data_only) {
  int fd = self(fs, c).fd->get();
  int err = fs.reactor.run_blocking([=] { return (data_only ? fdatasync(fd) : fsync(fd)) == 0 ? 0 : errno; });
  if (err != 0) return from_host_errno(err);
  set_ok(c);
  return Errno::Success;
}
Errno sync_data(FsDescriptors& fs, HostCall& c) { return sync_common(fs, c, true); }
Errno sync(FsDescriptors& fs, HostCall& c) { return sync_common(fs, c, false); }

Errno get_flags(FsDescriptors& fs, HostCall& c) {
  const FsDescriptor& d = self(fs, c);
  std::vector<std::string_view> set;
  if (d.read) set.push_back("read");
  if (d.write) set.push_back("write");
  if (d.file_sync) set.push_back("file-integrity-sync");
  if (d.data_sync) set.push_back("data-integrity-sync");
  if (d.read_sync) set.push_back("requested-write-sync");
  if (d.is_dir() && d.mutate && (d.mutate_asked || fs.report_inherited_mutate))
    set.push_back("mutate-directory");
  set_ok(c, hv::flags(ok_type(c), set));
  return Errno::Success;
}

Errno get_type(FsDescriptors& fs, HostCall& c) {
  set_ok(c, descriptor_type(ok_type(c), self(fs, c).mode));
  return Errno::Success;
}

Errno set_size(FsDescriptors& fs, HostCall& c) {
  const FsDescriptor& d = self(fs, c);
  if (Errno e = file_access(d, true); e != Errno::Success) return e;
  return done(c, ftruncate(d.fd->get(), static_cast<off_t>(hv::as_uint(c.args[1]))));
}

Errno set_times(FsDescriptors& fs, HostCall& c) {
  const FsDescriptor& d = self(fs, c);
  timespec times[2];
  if (Errno e = new_timestamp(c.args[1], times[0]); e != Errno::Success) return e;
  if (Errno e = new_timestamp(c.args[2], times[1]); e != Errno::Success) return e;
  if (!d.mutate) return Errno::RoFs;
  return done(c, futimens(d.fd->get(), times));
}

Errno create_directory_at(FsDescriptors& fs, HostCall& c) {
  const FsDescriptor& d = self(fs, c);
  ResolvedPath r;
  if (Errno e = resolve(d, c.args[1], false, r); e != Errno::Success) return e;
  if (!d.mutate) return Errno::RoFs;
  return done(c, mkdirat(r.dir, r.final_name().c_str(), 0777));
}

Errno stat(FsDescriptors& fs, HostCall& c) {
  struct stat st;
  if (fstat(self(fs, c).fd->get(), &st) != 0) return last_error();
  set_ok(c, descriptor_stat(ok_type(c), st));
  return Errno::Success;
}

// fstatat of a path (flags, path at args 1, 2) under the descriptor.
Errno stat_path(FsDescriptors& fs, HostCall& c, struct stat& st) {
  ResolvedPath r;
  if (Errno e = resolve(self(fs, c), c.args[2], follow(c.args[1]), r); e != Errno::Success) return e;
  if (fstatat(r.dir, r.final_name().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return last_error();
  return Errno::Success;
}

Errno stat_at(FsDescriptors& fs, HostCall& c) {
  struct stat st;
  if (Errno e = stat_path(fs, c, st); e != Errno::Success) return e;
  set_ok(c, descriptor_stat(ok_type(c), st));
  return Errno::Success;
}

Errno set_times_at(FsDescriptors& fs, HostCall& c) {
  const FsDescriptor& d = self(fs, c);
  ResolvedPath r;
  if (Errno e = resolve(d, c.args[2], follow(c.args[1]), r); e != Errno::Success) return e;
  timespec times[2];
  if (Errno e = new_timestamp(c.args[3], times[0]); e != Errno::Success) return e;
  if (Errno e = new_timestamp(c.args[4], times[1]); e != Errno::Success) return e;
  if (!d.mutate) return Errno::RoFs;
  return done(c, utimensat(r.dir, r.final_name().c_str(), times, AT_SYMLINK_NOFOLLOW));
}

Errno link_at(FsDescriptors& fs, HostCall& c) {
  const FsDescriptor& od = self(fs, c);
  const FsDescriptor& nd = fs.get(hv::as_uint(c.args[3]));
  ResolvedPath o, n;
  if (Errno e = resolve(od, c.args[2], follow(c.args[1]), o); e != Errno::Success) return e;
  if (Errno e = resolve(nd, c.args[4], false, n); e != Errno::Success) return e;
  if (!nd.mutate) return Errno::RoFs;
  return done(c, linkat(o.dir, o.final_name().c_str(), n.dir, n.final_name().c_str(), 0));
}

Errno open_at(FsDescriptors& fs, HostCall& c) {
  const FsDescriptor& d = self(fs, c);
  const Val &oflags = c.args[3], &dflags = c.args[4];
  ResolvedPath r;
  if (Errno e = resolve(d, c.args[2], follow(c.args[1]), r); e != Errno::Success) return e;
  OpenOptions o;
  o.create = hv::has_flag(oflags, "create");
  // Creating implies write; asking for neither read nor write means read.
  o.write = hv::has_flag(dflags, "write") || o.create;
  o.read = hv::has_flag(dflags, "read") || !hv::has_flag(dflags, "write");
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
  if (Errno e = open_resolved(r, o, fd, st); e != Errno::Success) return e;
  auto nd = std::make_unique<FsDescriptor>();
  nd->fd = std::make_shared<OwnedFd>(std::move(fd));
  nd->mode = st.st_mode & S_IFMT;
  nd->read = o.read;
  nd->write = o.write;
  nd->mutate = d.mutate;
  nd->mutate_asked = hv::has_flag(dflags, "mutate-directory");
  nd->file_sync = o.sync;
  nd->data_sync = o.dsync;
  nd->read_sync = o.rsync;
  set_ok(c, hv::scalar(ok_type(c), fs.add(std::move(nd))));
  return Errno::Success;
}

Errno readlink_at(FsDescriptors& fs, HostCall& c) {
  ResolvedPath r;
  if (Errno e = resolve(self(fs, c), c.args[1], false, r); e != Errno::Success) return e;
  std::string target(256, '\0');
  for (;;) {
    ssize_t n = readlinkat(r.dir, r.final_name().c_str(), target.data(), target.size());
    if (n < 0) return last_error();
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
Errno unlink_common(FsDescriptors& fs, HostCall& c, int flags) {
  const FsDescriptor& d = self(fs, c);
  ResolvedPath r;
  if (Errno e = resolve(d, c.args[1], false, r); e != Errno::Success) return e;
  if (!d.mutate) return Errno::RoFs;
  return done(c, unlinkat(r.dir, r.final_name().c_str(), flags));
}
Errno remove_directory_at(FsDescriptors& fs, HostCall& c) { return unlink_common(fs, c, AT_REMOVEDIR); }
Errno unlink_file_at(FsDescriptors& fs, HostCall& c) { return unlink_common(fs, c, 0); }

Errno rename_at(FsDescriptors& fs, HostCall& c) {
  const FsDescriptor& od = self(fs, c);
  const FsDescriptor& nd = fs.get(hv::as_uint(c.args[2]));
  ResolvedPath o, n;
  if (Errno e = resolve(od, c.args[1], false, o); e != Errno::Success) return e;
  if (Errno e = resolve(nd, c.args[3], false, n); e != Errno::Success) return e;
  if (!od.mutate || !nd.mutate) return Errno::RoFs;
  return done(c, renameat(o.dir, o.final_name().c_str(), n.dir, n.final_name().c_str()));
}

Errno symlink_at(FsDescriptors& fs, HostCall& c) {
  const FsDescriptor& d = self(fs, c);
  const std::string& target = hv::as_string(c.args[1]);
  if (target.find('\0') != std::string::npos) return Errno::Inval;
  // A link that could only ever point outside the sandbox is refused.
  if (!target.empty() && target.front() == '/') return Errno::Perm;
  ResolvedPath r;
  if (Errno e = resolve(d, c.args[2], false, r); e != Errno::Success) return e;
  if (!d.mutate) return Errno::RoFs;
  return done(c, symlinkat(target.c_str(), r.dir, r.final_name().c_str()));
}

Errno metadata_hash_of(FsDescriptors& fs, HostCall& c) {
  struct stat st;
  if (fstat(self(fs, c).fd->get(), &st) != 0) return last_error();
  set_ok(c, metadata_hash(fs, ok_type(c), st));
  return Errno::Success;
}

Errno metadata_hash_at(FsDescriptors& fs, HostCall& c) {
  struct stat st;
  if (Errno e = stat_path(fs, c, st); e != Errno::Success) return e;
  set_ok(c, metadata_hash(fs, ok_type(c), st));
  return Errno::Success;
}

void is_same_object(FsDescriptors& fs, HostCall& c) {
  struct stat a, b;
  bool same = fstat(self(fs, c).fd->get(), &a) == 0 && fstat(fs.get(hv::as_uint(c.args[1])).fd->get(), &b) == 0 &&
              a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  c.result = hv::scalar(c.result_type(), same);
}

struct MethodEntry {
  const char* name;
  uint32_t params;
  Method fn;
};

constexpr MethodEntry kMethods[] = {
    {"[method]descriptor.advise", 4, advise},
    {"[method]descriptor.sync-data", 1, sync_data},
    {"[method]descriptor.get-flags", 1, get_flags},
    {"[method]descriptor.get-type", 1, get_type},
    {"[method]descriptor.set-size", 2, set_size},
    {"[method]descriptor.set-times", 3, set_times},
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
};

}  // namespace

void add_descriptor_methods(component::HostInterface& types, FsDescriptors& fs) {
  for (const MethodEntry& m : kMethods) {
    types.func(m.name, m.params, [&fs, fn = m.fn](HostCall& c) {
      if (Errno e = fn(fs, c); e != Errno::Success) set_error(c, e);
    });
  }
  types.func("[method]descriptor.is-same-object", 2, [&fs](HostCall& c) { is_same_object(fs, c); });
}

void get_directories(FsDescriptors& fs, HostCall& c) {
  const Type* lt = c.result_type();
  const Type* tt = hv::element(lt);
  std::vector<Val> items;
  for (const FsDescriptors::Preopen& p : fs.preopens_) {
    auto d = std::make_unique<FsDescriptor>();
    d->fd = p.fd;
    d->mode = S_IFDIR;
    d->read = true;
    d->mutate = !p.config->read_only;
    d->mutate_asked = true;
    uint32_t rep = fs.add(std::move(d));
    items.push_back(hv::tuple(tt, {hv::scalar(hv::tuple_type(tt, 0), rep),
                                   hv::string(hv::tuple_type(tt, 1), p.config->guest_path)}));
  }
  c.result = hv::list(lt, std::move(items));
}

void set_ok(HostCall& c, std::optional<Val> v) { c.result = hv::ok(c.result_type(), std::move(v)); }

void set_error(HostCall& c, Errno e) {
  c.result = hv::err(c.result_type(), error_code(hv::err_type(c.result_type()), e));
}

Val error_code(const Type* t, Errno e) {
  for (const auto& [errno_value, label] : kErrorCodes)
    if (errno_value == e && has_case(t, label)) return case_of(t, label);
  return case_of(t, "io");
}

Errno file_access(const FsDescriptor& d, bool write) {
  if (d.is_dir()) return Errno::IsDir;
  return (write ? d.write : d.read) ? Errno::Success : Errno::BadF;
}

Errno list_entries(const FsDescriptor& d, std::vector<DirEntry>& out) {
  if (!d.is_dir()) return Errno::NotDir;
  if (Errno e = list_directory(d.fd->get(), out); e != Errno::Success) return e;
  std::erase_if(out, [](const DirEntry& e) { return e.name == "." || e.name == ".."; });
  return Errno::Success;
}

Errno directory_entry(const Type* t, const DirEntry& e, Val& out) {
  if (!utf8::valid({reinterpret_cast<const uint8_t*>(e.name.data()), e.name.size()})) return Errno::IlSeq;
  out = hv::record(t, {descriptor_type_case(hv::field_type(t, "type"), type_label(e.type)),
                       hv::string(hv::field_type(t, "name"), e.name)});
  return Errno::Success;
}

}  // namespace weft::wasi::common
