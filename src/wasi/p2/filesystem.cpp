// wasi:filesystem/types and wasi:filesystem/preopens at 0.2: the methods
// 0.2 and 0.3 share come from common/filesystem.h; here are 0.2's own —
// file streams that are plain pread/pwrite at an offset (regular files are
// always ready), read, write, and the directory-entry-stream.
#include <algorithm>
#include <utility>

#include "wasi/common/files.h"
#include "wasi/common/filesystem.h"
#include "wasi/p2/state.h"

namespace weft::wasi::p2 {

using common::Errno;
using common::FsDescriptor;
using common::OwnedFd;
using common::set_ok;
using component::Type;

namespace {

// The most one stream read, check-write or `read` hands over at once, so a
// guest asking for 4 GiB does not make the host allocate it.
constexpr uint64_t kMaxChunk = uint64_t{1} << 20;

struct DirectoryEntryStream {
  std::vector<common::DirEntry> entries;
  size_t next = 0;
};

}  // namespace

struct State::Filesystem final : common::FsDescriptors {
  using FsDescriptors::FsDescriptors;
  FsDescriptor& get(uint64_t rep) override { return descriptors.get(rep); }
  uint32_t add(std::unique_ptr<FsDescriptor> d) override { return descriptors.add(std::move(d)); }

  ResourceTable<FsDescriptor> descriptors;
  ResourceTable<DirectoryEntryStream> directory_streams;
};

namespace {

using Fs = State::Filesystem;

Fs& filesystem(State& st) {
  if (!st.filesystem) st.filesystem = {new Fs(st.reactor), [](Fs* f) { delete f; }};
  return *st.filesystem;
}

// ---- file streams ----

class FileInputStream final : public InputStream {
 public:
  FileInputStream(std::shared_ptr<OwnedFd> fd, uint64_t offset) : fd_(std::move(fd)), offset_(offset) {}

  StreamStatus read(uint64_t len, std::string& out) override {
    if (failed_) return StreamStatus::closed();
    size_t want = static_cast<size_t>(std::min(len, kMaxChunk));
    if (want == 0) return StreamStatus::ok();
    std::string chunk;
    if (common::Errno e = common::read_at(fd_->get(), offset_, want, chunk); e != Errno::Success) {
      failed_ = true;
      return StreamStatus::failed(e);
    }
    out += chunk;
    if (chunk.empty()) return StreamStatus::closed();
    offset_ += chunk.size();
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
    uint64_t written;
    Errno e = common::write_at(fd_->get(), data, offset_, append_, written);
    offset_ += written;
    if (e != Errno::Success) {
      failed_ = true;
      return StreamStatus::failed(e);
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

// ---- 0.2's own descriptor methods ----

// As common's methods: sets c.result on success, an error becomes err.
using Method = Errno (*)(State& st, Fs& fs, HostCall& c);

FsDescriptor& self(Fs& fs, HostCall& c) { return fs.descriptors.get(hv::as_uint(c.args[0])); }
const Type* ok_type(HostCall& c) { return hv::ok_type(c.result_type()); }

Errno read_via_stream(State& st, Fs& fs, HostCall& c) {
  FsDescriptor& d = self(fs, c);
  if (Errno e = common::file_access(d, false); e != Errno::Success) return e;
  uint32_t rep = st.input_streams.add(std::make_unique<FileInputStream>(d.fd, hv::as_uint(c.args[1])));
  set_ok(c, hv::scalar(ok_type(c), rep));
  return Errno::Success;
}

Errno output_stream(State& st, Fs& fs, HostCall& c, uint64_t offset, bool append) {
  FsDescriptor& d = self(fs, c);
  if (Errno e = common::file_access(d, true); e != Errno::Success) return e;
  uint32_t rep = st.output_streams.add(std::make_unique<FileOutputStream>(d.fd, offset, append));
  set_ok(c, hv::scalar(ok_type(c), rep));
  return Errno::Success;
}
Errno write_via_stream(State& st, Fs& fs, HostCall& c) {
  return output_stream(st, fs, c, hv::as_uint(c.args[1]), false);
}
Errno append_via_stream(State& st, Fs& fs, HostCall& c) { return output_stream(st, fs, c, 0, true); }

Errno read(State&, Fs& fs, HostCall& c) {
  const FsDescriptor& d = self(fs, c);
  if (Errno e = common::file_access(d, false); e != Errno::Success) return e;
  size_t want = static_cast<size_t>(std::min(hv::as_uint(c.args[1]), kMaxChunk));
  std::string data;
  if (Errno e = common::read_at(d.fd->get(), hv::as_uint(c.args[2]), want, data); e != Errno::Success) return e;
  const Type* t = ok_type(c);
  // A regular file reads short only at its end.
  set_ok(c, hv::tuple(t, {hv::bytes(hv::tuple_type(t, 0), data),
                          hv::scalar(hv::tuple_type(t, 1), data.size() < want)}));
  return Errno::Success;
}

Errno write(State&, Fs& fs, HostCall& c) {
  const FsDescriptor& d = self(fs, c);
  if (Errno e = common::file_access(d, true); e != Errno::Success) return e;
  std::string_view data = hv::as_bytes(c.args[1]);
  uint64_t written;
  Errno e = common::write_at(d.fd->get(), data, hv::as_uint(c.args[2]), false, written);
  if (e != Errno::Success && written == 0) return e;  // else report what did get written
  set_ok(c, hv::scalar(ok_type(c), written));
  return Errno::Success;
}

Errno read_directory(State&, Fs& fs, HostCall& c) {
  auto stream = std::make_unique<DirectoryEntryStream>();
  if (Errno e = common::list_entries(self(fs, c), stream->entries); e != Errno::Success) return e;
  set_ok(c, hv::scalar(ok_type(c), fs.directory_streams.add(std::move(stream))));
  return Errno::Success;
}

Errno read_directory_entry(State&, Fs& fs, HostCall& c) {
  DirectoryEntryStream& s = fs.directory_streams.get(hv::as_uint(c.args[0]));
  const Type* ot = ok_type(c);
  if (s.next == s.entries.size()) {
    set_ok(c, hv::none(ot));
    return Errno::Success;
  }
  Val entry;
  if (Errno e = common::directory_entry(hv::element(ot), s.entries[s.next++], entry); e != Errno::Success) return e;
  set_ok(c, hv::some(ot, std::move(entry)));
  return Errno::Success;
}

void filesystem_error_code(State& st, HostCall& c) {
  Errno e = st.errors.get(hv::as_uint(c.args[0])).code;
  const Type* t = c.result_type();
  c.result = e == Errno::Success ? hv::none(t) : hv::some(t, common::error_code(hv::element(t), e));
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
    {"[method]descriptor.read", 3, read},
    {"[method]descriptor.write", 3, write},
    {"[method]descriptor.read-directory", 1, read_directory},
    {"[method]directory-entry-stream.read-directory-entry", 1, read_directory_entry},
};

}  // namespace

void open_preopens(State& st) { filesystem(st).open_preopens(st.config); }

void add_filesystem(component::Host& host, State& st) {
  Fs& fs = filesystem(st);
  component::HostInterface& types = host.add("wasi:filesystem/types", kVersion);
  types.use(st.input_stream_resource);
  types.use(st.output_stream_resource);
  types.use(st.error_resource);
  auto descriptor = types.resource("descriptor", [&fs](uint32_t rep) { fs.descriptors.remove(rep); });
  types.resource("directory-entry-stream", [&fs](uint32_t rep) { fs.directory_streams.remove(rep); });
  common::add_descriptor_methods(types, fs);
  for (const MethodEntry& m : kMethods) {
    types.func(m.name, m.params, [&st, &fs, fn = m.fn](HostCall& c) {
      if (Errno e = fn(st, fs, c); e != Errno::Success) common::set_error(c, e);
    });
  }
  types.func("filesystem-error-code", 1, [&st](HostCall& c) { filesystem_error_code(st, c); });

  component::HostInterface& preopens = host.add("wasi:filesystem/preopens", kVersion);
  preopens.use(descriptor);
  preopens.func("get-directories", 0, [&fs](HostCall& c) { common::get_directories(fs, c); });
}

}  // namespace weft::wasi::p2
