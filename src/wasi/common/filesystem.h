// wasi:filesystem's descriptor as WASI 0.2 and 0.3 both define it: the
// methods whose WIT is the same in both (0.3 only made them `async func`,
// which the host may complete at once) run here, over host descriptors with
// every path sandboxed by resolve_path as the preview1 host does. Each
// version keeps its own resource table (FsDescriptors) and adds the methods
// that differ: the streams, and reading directories.
//
// Values are built by label against the types the component imported, so
// one body serves 0.2's enums (error-code, descriptor-type) and 0.3's
// variants with an `other` case, and 0.2's datetime and 0.3's instant.
//
// Writes through a read-only preopen (or anything opened under one) fail with
// `read-only`, as preview1's fail with `rofs`. Directories opened under a
// writable preopen may mutate like their parent (the preview1 adapter never
// asks for mutate-directory); files may be read or written only as their
// descriptor-flags asked (`bad-descriptor` otherwise, as read(2) on a file
// not opened for reading).
#pragma once

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "component/host.h"
#include "loop/reactor.h"
#include "wasi/common/config.h"
#include "wasi/common/descriptor.h"
#include "wasi/common/errno.h"
#include "wasi/common/path.h"

namespace weft::wasi::common {

struct FsDescriptor {
  std::shared_ptr<OwnedFd> fd;  // shared with the streams made from it
  unsigned mode = 0;            // st_mode & S_IFMT
  bool read = false, write = false;  // files: opened for reading / writing
  bool mutate = false;               // not under a read-only preopen
  bool mutate_asked = false;         // opened with mutate-directory (preopens are)
  bool file_sync = false, data_sync = false, read_sync = false;  // as requested at open

  bool is_dir() const { return mode == S_IFDIR; }
};

// The descriptors one version's filesystem host hands out (numbered by its
// own resource table), and what its methods share.
class FsDescriptors {
 public:
  explicit FsDescriptors(loop::Reactor& reactor);
  virtual ~FsDescriptors() = default;
  // The descriptor a handle's representation names (traps if none).
  virtual FsDescriptor& get(uint64_t rep) = 0;
  virtual uint32_t add(std::unique_ptr<FsDescriptor> d) = 0;

  // Opens the configured preopened directories; throws Error(Usage) if one
  // cannot be opened.
  void open_preopens(const WasiConfig& config);

  loop::Reactor& reactor;  // sync and sync-data wait on the thread pool
  // get-flags reports mutate-directory for every directory that may mutate,
  // asked or not (0.2: the preview1 adapter never asks); 0.3 reports it
  // only when it was asked for.
  bool report_inherited_mutate = true;
  std::array<uint64_t, 2> hash_key{};  // keeps metadata hashes from exposing inode numbers

 private:
  friend void get_directories(FsDescriptors& fs, component::HostCall& c);
  struct Preopen {
    std::shared_ptr<OwnedFd> fd;
    const common::Preopen* config;
  };
  std::vector<Preopen> preopens_;
};

// Registers on wasi:filesystem/types the descriptor methods 0.2 and 0.3
// share (all but the streams, read, write and read-directory).
void add_descriptor_methods(component::HostInterface& types, FsDescriptors& fs);

// wasi:filesystem/preopens' get-directories: a new descriptor per preopen.
void get_directories(FsDescriptors& fs, component::HostCall& c);

// c.result for a method returning result<_, error-code> / result<T, error-code>.
void set_ok(component::HostCall& c, std::optional<component::Val> v = std::nullopt);
void set_error(component::HostCall& c, Errno e);
// The error-code value of `e` (anything without a case of its own is `io`).
component::Val error_code(const component::Type* t, Errno e);

// Checks a file descriptor for read / write access.
Errno file_access(const FsDescriptor& d, bool write);

// A directory's entries without "." and "..".
Errno list_entries(const FsDescriptor& d, std::vector<DirEntry>& out);
// The directory-entry record of `e`; IlSeq when its name is not UTF-8.
Errno directory_entry(const component::Type* t, const DirEntry& e, component::Val& out);

}  // namespace weft::wasi::common
