// Open descriptors and the table that numbers them. A descriptor is a host
// file, directory, stdio stream or socket plus what WASI tracks beside it
// (type, rights, preopen name, directory listing state).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wasi/common/errno.h"
#include "wasi/common/path.h"

namespace weft::wasi::common {

// Numbered as preview1's `filetype`.
enum class FileType : uint8_t {
  Unknown = 0, BlockDevice, CharacterDevice, Directory, RegularFile, SocketDgram, SocketStream,
  SymbolicLink,
};

// The type of a host file from its st_mode.
FileType file_type_of_mode(unsigned mode);

struct DirEntry {
  uint64_t ino = 0;
  FileType type = FileType::Unknown;
  std::string name;
};

struct Descriptor {
  OwnedFd owned;           // the host descriptor, unless it is borrowed (stdio)
  int fd = -1;             // the host descriptor to use
  FileType type = FileType::Unknown;
  bool read_only = false;  // opened under a read-only preopen
  bool nonblock = false;   // the guest asked for EAGAIN instead of waiting
  std::optional<std::string> preopen;  // guest path, for a preopened directory
  // preview1 rights: tracked so they can only shrink, and checked where the
  // test suite and old libcs rely on them.
  uint64_t rights_base = 0;
  uint64_t rights_inheriting = 0;
  // A directory's listing, read when fd_readdir starts from cookie 0 so
  // later calls continue from a cookie (an index into it).
  std::vector<DirEntry> listing;

  static std::unique_ptr<Descriptor> own(int host_fd, FileType type);
  static std::unique_ptr<Descriptor> borrow(int host_fd, FileType type);
};

// Lists a directory (including "." and ".."), in the host's order.
Errno list_directory(int dir_fd, std::vector<DirEntry>& out);

class DescriptorTable {
 public:
  // Puts `d` at the lowest free number and returns it.
  uint32_t insert(std::unique_ptr<Descriptor> d);
  Descriptor* get(uint32_t n) const { return n < slots_.size() ? slots_[n].get() : nullptr; }
  bool remove(uint32_t n);
  // Moves `from` onto `to` (closing what `to` held); both must be open.
  Errno renumber(uint32_t from, uint32_t to);

 private:
  std::vector<std::unique_ptr<Descriptor>> slots_;
};

}  // namespace weft::wasi::common
