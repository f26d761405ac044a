// UTF-8 validation and the transcodings the component model needs later.
#pragma once

#include <cstdint>
#include <span>

namespace weft::utf8 {

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool valid(std::span<const uint8_t> s);

}  // namespace weft::utf8
