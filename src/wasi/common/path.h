// Path resolution inside a preopened directory, as WASI's path-resolution.md
// describes: a path is resolved one component at a time with openat on
// directory descriptors, symbolic links are read and followed here (not by
// the kernel) so their targets are resolved under the same rules, and any
// step that would leave the base directory fails. The kernel never sees a
// path with more than one component, except the final name plus a trailing
// slash once that name is known not to be a symlink. (The guest cannot race
// that check, it is single-threaded while in a host call; another host
// process swapping in a symlink at that moment could.)
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "wasi/common/errno.h"

namespace weft::wasi::common {

// A host descriptor closed on destruction.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(OwnedFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& o) noexcept;
  ~OwnedFd();
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// Symbolic links followed in one resolution before it fails with Loop.
constexpr int kMaxSymlinks = 40;

struct ResolvedPath {
  int dir = -1;           // directory holding `name`: the base or `holder`
  OwnedFd holder;         // owns `dir` when it is not the base
  std::string name;       // the last component; "." when the path names `dir` itself
  bool trailing_slash = false;  // the path ended in '/': `name` must be a directory

  // `name`, with a '/' appended when the path had one, for the final *at()
  // call (so the kernel applies its must-be-a-directory rules).
  std::string final_name() const { return trailing_slash && name != "." ? name + "/" : name; }
};

// Resolves `path` relative to the directory `base`. With `follow_last`, a
// final symlink is followed (within the sandbox); without it the link itself
// is the result, unless the path ends in '/'. Errors: NoEnt (empty path or a
// missing directory on the way), Perm (absolute path, `..` above the base, a
// symlink to an absolute path), Loop (more than kMaxSymlinks), NotDir, Inval
// (NUL byte), NameTooLong, and the host's errors from openat/readlinkat.
Errno resolve_path(int base, std::string_view path, bool follow_last, ResolvedPath& out);

}  // namespace weft::wasi::common
