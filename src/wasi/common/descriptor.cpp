#include "wasi/common/descriptor.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace weft::wasi::common {

FileType file_type_of_mode(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFBLK: return FileType::BlockDevice;
    case S_IFCHR: return FileType::CharacterDevice;
    case S_IFDIR: return FileType::Directory;
    case S_IFREG: return FileType::RegularFile;
    case S_IFSOCK: return FileType::SocketStream;
    case S_IFLNK: return FileType::SymbolicLink;
    default: return FileType::Unknown;  // pipes and FIFOs have no WASI type
  }
}

std::unique_ptr<Descriptor> Descriptor::own(int host_fd, FileType type) {
  auto d = std::make_unique<Descriptor>();
  d->owned = OwnedFd(host_fd);
  d->fd = host_fd;
  d->type = type;
  return d;
}

std::unique_ptr<Descriptor> Descriptor::borrow(int host_fd, FileType type) {
  auto d = std::make_unique<Descriptor>();
  d->fd = host_fd;
  d->type = type;
  return d;
}

Errno list_directory(int dir_fd, std::vector<DirEntry>& out) {
  // A fresh descriptor: fdopendir takes ownership, and the guest's own
  // descriptor may have been opened without read access (O_PATH).
  int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  DIR* dir = fdopendir(fd);
  if (!dir) {
    Errno e = last_error();
    close(fd);
    return e;
  }
  out.clear();
  errno = 0;
  while (dirent* ent = readdir(dir)) {
    DirEntry e;
    e.ino = ent->d_ino;
    e.name = ent->d_name;
    switch (ent->d_type) {
      case DT_BLK: e.type = FileType::BlockDevice; break;
      case DT_CHR: e.type = FileType::CharacterDevice; break;
      case DT_DIR: e.type = FileType::Directory; break;
      case DT_REG: e.type = FileType::RegularFile; break;
      case DT_SOCK: e.type = FileType::SocketStream; break;
      case DT_LNK: e.type = FileType::SymbolicLink; break;
      default: {
        struct stat st;
        if (fstatat(fd, ent->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) e.type = file_type_of_mode(st.st_mode);
      }
    }
    out.push_back(std::move(e));
  }
  Errno result = errno ? last_error() : Errno::Success;
  closedir(dir);
  return result;
}

uint32_t DescriptorTable::insert(std::unique_ptr<Descriptor> d) {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i]) {
      slots_[i] = std::move(d);
      return i;
    }
  }
  slots_.push_back(std::move(d));
  return static_cast<uint32_t>(slots_.size() - 1);
}

bool DescriptorTable::remove(uint32_t n) {
  if (!get(n)) return false;
  slots_[n].reset();
  return true;
}

Errno DescriptorTable::renumber(uint32_t from, uint32_t to) {
  if (!get(from) || !get(to)) return Errno::BadF;
  if (from != to) slots_[to] = std::move(slots_[from]);
  return Errno::Success;
}

}  // namespace weft::wasi::common
