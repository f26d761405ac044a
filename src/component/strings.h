// Transcoding between the canonical ABI's string encodings and UTF-8 (what
// Val holds). Decoders report malformed input; encoders take valid UTF-8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace weft::component {

// Appends the UTF-8 form of `units` little-endian UTF-16 code units at `p`;
// false on an unpaired surrogate.
bool utf16_to_utf8(const uint8_t* p, size_t units, std::string& out);
// Appends the UTF-8 form of `n` latin-1 bytes at `p` (cannot fail).
void latin1_to_utf8(const uint8_t* p, size_t n, std::string& out);

// Decodes the code point of valid UTF-8 at s[i] and advances i.
char32_t next_code_point(std::string_view s, size_t& i);
// Writes `c` as UTF-16LE at `p`; returns the code units written (1 or 2).
size_t put_utf16(uint8_t* p, char32_t c);

}  // namespace weft::component
