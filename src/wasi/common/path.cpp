#include "wasi/common/path.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <vector>

namespace weft::wasi::common {

OwnedFd& OwnedFd::operator=(OwnedFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

// Splits a path into components, dropping empty ones ("a//b") but keeping
// "." and ".." for the resolver.
void push_components(std::deque<std::string>& pending, std::string_view path) {
  std::deque<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  pending.insert(pending.begin(), parts.begin(), parts.end());
}

// Reads the symlink `name` in `dir`. Returns 1 with the target, 0 if `name`
// is not a symlink (or does not exist), or -1 with errno set.
int read_link(int dir, const std::string& name, std::string& target) {
  std::vector<char> buf(256);
  for (;;) {
    ssize_t n = readlinkat(dir, name.c_str(), buf.data(), buf.size());
    if (n < 0) return (errno == EINVAL || errno == ENOENT) ? 0 : -1;
    if (static_cast<size_t>(n) < buf.size()) {
      target.assign(buf.data(), static_cast<size_t>(n));
      return 1;
    }
    buf.resize(buf.size() * 2);
  }
}

}  // namespace

Errno resolve_path(int base, std::string_view path, bool follow_last, ResolvedPath& out) {
  if (path.empty()) return Errno::NoEnt;
  if (path.find('\0') != std::string_view::npos) return Errno::Inval;
  if (path.size() >= PATH_MAX) return Errno::NameTooLong;
  if (path.front() == '/') return Errno::Perm;

  std::vector<OwnedFd> stack;  // directories entered below `base`
  auto top = [&] { return stack.empty() ? base : stack.back().get(); };
  std::deque<std::string> pending;
  push_components(pending, path);
  bool trailing = path.back() == '/';
  int links = 0;
  std::string name;  // empty: the path names the directory reached

  // Replaces a symlink met during resolution by its target's components.
  auto splice = [&](const std::string& target) -> Errno {
    if (++links > kMaxSymlinks) return Errno::Loop;
    if (target.empty()) return Errno::NoEnt;
    if (target.front() == '/') return Errno::Perm;
    if (pending.empty() && target.back() == '/') trailing = true;
    push_components(pending, target);
    return Errno::Success;
  };

  while (!pending.empty()) {
    std::string c = std::move(pending.front());
    pending.pop_front();
    bool last = pending.empty();
    name.clear();
    if (c == ".") continue;
    if (c == "..") {
      if (stack.empty()) return Errno::Perm;
      stack.pop_back();
      continue;
    }
    if (c.size() > NAME_MAX) return Errno::NameTooLong;
    if (last) {
      if (follow_last || trailing) {
        std::string target;
        int r = read_link(top(), c, target);
        if (r < 0) return last_error();
        if (r == 1) {
          if (Errno e = splice(target); e != Errno::Success) return e;
          continue;
        }
      }
      name = std::move(c);
      break;
    }
    int fd = openat(top(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      stack.emplace_back(fd);
      continue;
    }
    int err = errno;
    if (err != ELOOP && err != ENOTDIR) return from_host_errno(err);
    std::string target;
    int r = read_link(top(), c, target);
    if (r < 0) return last_error();
    if (r == 0) return Errno::NotDir;
    if (Errno e = splice(target); e != Errno::Success) return e;
  }

  out.holder = stack.empty() ? OwnedFd() : std::move(stack.back());
  out.dir = stack.empty() ? base : out.holder.get();
  out.name = name.empty() ? std::string(".") : std::move(name);
  out.trailing_slash = trailing;
  return Errno::Success;
}

}  // namespace weft::wasi::common
