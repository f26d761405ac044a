// wasi:filesystem/types and wasi:filesystem/preopens at 0.3.0. The methods
// 0.2 and 0.3 share come from common/filesystem.h (0.3's `async func`s
// complete at once: regular files do not wait); here are 0.3's streams.
// A file stream is pread/pwrite at an advancing offset pumped to or from the
// guest's stream<u8>; a directory's entries go to a stream<directory-entry>.
// Each comes with a future that gets the outcome once the stream is done.
#include "wasi/common/filesystem.h"

#include <utility>

#include "wasi/common/files.h"
#include "wasi/common/resource_table.h"
#include "wasi/p3/state.h"

namespace weft::wasi::p3 {

using common::FsDescriptor;
using component::CopyResult;
using component::HostBuffer;
using component::Type;

struct State::Filesystem final : common::FsDescriptors {
  using FsDescriptors::FsDescriptors;
  FsDescriptor& get(uint64_t rep) override { return descriptors.get(rep); }
  uint32_t add(std::unique_ptr<FsDescriptor> d) override { return descriptors.add(std::move(d)); }

  common::ResourceTable<FsDescriptor> descriptors;
};

namespace {

using Fs = State::Filesystem;

// A file read from `offset` on; regular files are always ready.
class FileSource final : public ByteSource {
 public:
  FileSource(std::shared_ptr<common::OwnedFd> fd, uint64_t offset) : fd_(std::move(fd)), offset_(offset) {}

  void read(size_t max, std::function<void(Errno, std::string_view)> done) override {
    std::string data;
    Errno e = common::read_at(fd_->get(), offset_, max, data);
    offset_ += data.size();
    done(e, data);
  }
  void cancel() override {}  // reads complete before read() returns

 private:
  std::shared_ptr<common::OwnedFd> fd_;
  uint64_t offset_;
};

// A file written from `offset` on, or (`append`) at its end each time.
class FileSink final : public ByteSink {
 public:
  FileSink(std::shared_ptr<common::OwnedFd> fd, uint64_t offset, bool append)
      : fd_(std::move(fd)), offset_(offset), append_(append) {}

  void write(std::string_view data, std::function<void(Errno)> done) override {
    if (failed_ == Errno::Success) {
      uint64_t written;
      failed_ = common::write_at(fd_->get(), data, offset_, append_, written);
      offset_ += written;
    }
    done(failed_);
  }

 private:
  std::shared_ptr<common::OwnedFd> fd_;
  uint64_t offset_;
  bool append_;
  Errno failed_ = Errno::Success;
};

// result<_, error-code> of an outcome.
Val outcome(const Type* t, Errno e) {
  return e == Errno::Success ? hv::ok(t) : hv::err(t, common::error_code(hv::err_type(t), e));
}

// Gives a listing's entries to the guest's stream<directory-entry> (as many
// per copy as the guest takes), then drops the stream and reports `error`:
// Success, or why the listing stopped short.
class EntryGiver : public std::enable_shared_from_this<EntryGiver> {
 public:
  EntryGiver(Runtime& rt, State& st, std::unique_ptr<HostEnd> to, Errno error,
             std::function<void(Errno)> finished)
      : rt_(rt), st_(st), to_(std::move(to)), error_(error), finished_(std::move(finished)) {}

  void start(std::vector<Val> entries) {
    if (entries.empty()) return end();
    id_ = st_.ops.add(shared_from_this());
    give(std::make_unique<HostBuffer>(to_->element(), std::move(entries)));
  }

 private:
  void give(std::unique_ptr<HostBuffer> buffer) {
    to_->copy(std::move(buffer), [self = shared_from_this()](CopyResult r, std::unique_ptr<HostBuffer> b) {
      self->rt_.post([self, r, b = std::shared_ptr<HostBuffer>(std::move(b))] {
        if (r == CopyResult::COMPLETED && b->remain() > 0)
          return self->give(std::make_unique<HostBuffer>(std::move(*b)));
        // All given, or the reader dropped its end: done either way.
        self->end();
      });
    });
  }

  void end() {
    to_.reset();
    finished_(error_);
    if (id_) st_.ops.remove(id_);
  }

  Runtime& rt_;
  State& st_;
  std::unique_ptr<HostEnd> to_;
  Errno error_;
  std::function<void(Errno)> finished_;
  uint64_t id_ = 0;
};

FsDescriptor& self(Fs& fs, HostCall& c) { return fs.descriptors.get(hv::as_uint(c.args[0])); }

// read-via-stream: tuple<stream<u8>, future<result<_, error-code>>>.
void read_via_stream(State& st, Fs& fs, HostCall& c) {
  const FsDescriptor& d = self(fs, c);
  const Type* t = c.result_type();
  auto [data, data_end] = c.runtime.host_stream(hv::tuple_type(t, 0));
  auto [result, result_end] = c.runtime.host_stream(hv::tuple_type(t, 1));
  c.result = hv::tuple(t, {std::move(data), std::move(result)});
  std::function<void(Errno)> finished = deliver_outcome(st, std::move(result_end), outcome);
  if (Errno e = common::file_access(d, false); e != Errno::Success) {
    data_end.reset();
    return finished(e);
  }
  pump_from_source(c.runtime, st, std::move(data_end),
                   std::make_shared<FileSource>(d.fd, hv::as_uint(c.args[1])), std::move(finished));
}

// write-via-stream and append-via-stream: the guest's stream<u8> at
// args[1] goes to the file; the result is a future<result<_, error-code>>.
void write_to_file(State& st, Fs& fs, HostCall& c, uint64_t offset, bool append) {
  const FsDescriptor& d = self(fs, c);
  std::unique_ptr<HostEnd> data = c.runtime.host_readable(c.args[1]);
  auto [result, result_end] = c.runtime.host_stream(c.result_type());
  c.result = std::move(result);
  std::function<void(Errno)> finished = deliver_outcome(st, std::move(result_end), outcome);
  if (Errno e = common::file_access(d, true); e != Errno::Success) {
    data.reset();
    return finished(e);
  }
  pump_to_sink(c.runtime, st, std::move(data), std::make_shared<FileSink>(d.fd, offset, append),
               std::move(finished));
}

// read-directory: tuple<stream<directory-entry>, future<result<_, error-code>>>.
void read_directory(State& st, Fs& fs, HostCall& c) {
  const FsDescriptor& d = self(fs, c);
  const Type* t = c.result_type();
  auto [entries, entries_end] = c.runtime.host_stream(hv::tuple_type(t, 0));
  auto [result, result_end] = c.runtime.host_stream(hv::tuple_type(t, 1));
  c.result = hv::tuple(t, {std::move(entries), std::move(result)});
  std::vector<common::DirEntry> listing;
  Errno error = common::list_entries(d, listing);
  std::vector<Val> vals;
  for (const common::DirEntry& e : listing) {
    Val v;
    if (error == Errno::Success) error = common::directory_entry(entries_end->element(), e, v);
    if (error != Errno::Success) break;
    vals.push_back(std::move(v));
  }
  std::make_shared<EntryGiver>(c.runtime, st, std::move(entries_end), error,
                               deliver_outcome(st, std::move(result_end), outcome))
      ->start(std::move(vals));
}

}  // namespace

void add_filesystem(component::Host& host, State& st) {
  st.filesystem = {new Fs(st.reactor), [](Fs* f) { delete f; }};
  Fs& fs = *st.filesystem;
  fs.report_inherited_mutate = false;
  fs.open_preopens(st.config);

  component::HostInterface& types = host.add("wasi:filesystem/types", kVersion);
  auto descriptor = types.resource("descriptor", [&fs](uint32_t rep) { fs.descriptors.remove(rep); });
  common::add_descriptor_methods(types, fs);
  types.func("[method]descriptor.read-via-stream", 2,
             [&st, &fs](HostCall& c) { read_via_stream(st, fs, c); });
  types.func("[method]descriptor.write-via-stream", 3,
             [&st, &fs](HostCall& c) { write_to_file(st, fs, c, hv::as_uint(c.args[2]), false); });
  types.func("[method]descriptor.append-via-stream", 2,
             [&st, &fs](HostCall& c) { write_to_file(st, fs, c, 0, true); });
  types.func("[method]descriptor.read-directory", 1, [&st, &fs](HostCall& c) { read_directory(st, fs, c); });

  component::HostInterface& preopens = host.add("wasi:filesystem/preopens", kVersion);
  preopens.use(descriptor);
  preopens.func("get-directories", 0, [&fs](HostCall& c) { common::get_directories(fs, c); });
}

}  // namespace weft::wasi::p3
