#include "cli/load.h"

#include "wasm/decoder.h"
#include "wasm/validator.h"

namespace weft::cli {

std::vector<uint8_t> read_file(const std::string& path) {
  ByteBuffer file = ByteBuffer::read_file(path);
  return {file.begin(), file.end()};
}

std::shared_ptr<wasm::Module> load_module(ByteBuffer bytes, bool all_bodies,
                                          const wasm::Features& features) {
  std::shared_ptr<wasm::Module> module = wasm::decode_module(std::move(bytes), features);
  wasm::validate(*module, all_bodies);
  return module;
}

}  // namespace weft::cli
