#include "cli/load.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/error.h"
#include "wasm/decoder.h"
#include "wasm/validator.h"

namespace weft::cli {

std::vector<uint8_t> read_file(const std::string& path) {
  auto fail = [&](int err) -> std::vector<uint8_t> {
    throw Error(ErrorKind::Io, "cannot read '" + path + "': " + std::strerror(err));
  };
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail(errno);
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  // fopen succeeds on a directory on Linux; the read then fails with EISDIR.
  if (err) return fail(err);
  return bytes;
}

std::shared_ptr<wasm::Module> load_module(std::vector<uint8_t> bytes, bool all_bodies) {
  std::shared_ptr<wasm::Module> module = wasm::decode_module(std::move(bytes));
  wasm::validate(*module, all_bodies);
  return module;
}

}  // namespace weft::cli
