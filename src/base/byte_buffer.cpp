#include "base/byte_buffer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "base/error.h"

namespace weft {

ByteBuffer::ByteBuffer(std::vector<uint8_t> bytes) : owned_(std::move(bytes)) {}

ByteBuffer::ByteBuffer(ByteBuffer&& o) noexcept { *this = std::move(o); }

ByteBuffer& ByteBuffer::operator=(ByteBuffer&& o) noexcept {
  if (this != &o) {
    release();
    owned_ = std::move(o.owned_);
    mapping_ = std::exchange(o.mapping_, nullptr);
    mapped_size_ = std::exchange(o.mapped_size_, 0);
  }
  return *this;
}

ByteBuffer::~ByteBuffer() { release(); }

void ByteBuffer::release() {
  if (mapping_) munmap(mapping_, mapped_size_);
  mapping_ = nullptr;
  mapped_size_ = 0;
}

ByteBuffer ByteBuffer::read_file(const std::string& path) {
  auto fail = [&](int err) -> ByteBuffer {
    throw Error(ErrorKind::Io, "cannot read '" + path + "': " + std::strerror(err));
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return fail(err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return fail(EISDIR);
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      ::close(fd);
      ByteBuffer b;
      b.mapping_ = p;
      b.mapped_size_ = static_cast<size_t>(st.st_size);
      return b;
    }
  }
  // Pipes, character devices, or a file that cannot be mapped: read it.
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return fail(err);
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  ::close(fd);
  return ByteBuffer(std::move(bytes));
}

}  // namespace weft
