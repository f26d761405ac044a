#include "cli/load.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "wasm/decoder.h"
#include "wasm/validator.h"

namespace weft::cli {

std::vector<uint8_t> read_file(const std::string& path) {
  auto fail = [&](int err) -> std::vector<uint8_t> {
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
  // Size the buffer once and read straight into it: a 60 MB module must not
  // be copied around while it is read.
  std::vector<uint8_t> bytes(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0);
  size_t used = 0;
  for (;;) {
    // Grow only when the file turns out larger than fstat said (or is a pipe):
    // probe with a small read first, so a full buffer at EOF is not doubled.
    uint8_t probe[4096];
    bool full = used == bytes.size();
    ssize_t n = full ? ::read(fd, probe, sizeof probe) : ::read(fd, bytes.data() + used, bytes.size() - used);
    if (full && n > 0) {
      bytes.resize(std::max(bytes.size() * 2, size_t{65536}));
      std::memcpy(bytes.data() + used, probe, static_cast<size_t>(n));
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return fail(err);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  bytes.resize(used);
  return bytes;
}

std::shared_ptr<wasm::Module> load_module(ByteBuffer bytes, bool all_bodies,
                                          const wasm::Features& features) {
  std::shared_ptr<wasm::Module> module = wasm::decode_module(std::move(bytes), features);
  wasm::validate(*module, all_bodies);
  return module;
}

}  // namespace weft::cli
