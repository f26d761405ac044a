// UTF-8 validation and the transcodings the component model needs later.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace weft::utf8 {

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool valid(std::span<const uint8_t> s);

// Appends the UTF-8 encoding of code point `c` (a valid scalar value).
void append(std::string& out, char32_t c);

}  // namespace weft::utf8
