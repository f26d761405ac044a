// Fuzz target: decoding and full validation of arbitrary bytes must either
// succeed or throw weft::Error; anything else (crash, sanitizer report,
// other exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/error.h"
#include "wasm/decoder.h"
#include "wasm/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto module = weft::wasm::decode_module(std::vector<uint8_t>(data, data + size));
    weft::wasm::validate(*module, /*all_bodies=*/true);
  } catch (const weft::Error&) {
  }
  return 0;
}
