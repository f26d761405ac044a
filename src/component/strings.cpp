#include "component/strings.h"

#include "base/utf8.h"

namespace weft::component {

bool utf16_to_utf8(const uint8_t* p, size_t units, std::string& out) {
  out.reserve(out.size() + units);
  for (size_t i = 0; i < units; ++i) {
    char32_t u = p[2 * i] | (p[2 * i + 1] << 8);
    if (u >= 0xdc00 && u <= 0xdfff) return false;
    if (u >= 0xd800 && u <= 0xdbff) {
      if (i + 1 == units) return false;
      char32_t lo = p[2 * i + 2] | (p[2 * i + 3] << 8);
      if (lo < 0xdc00 || lo > 0xdfff) return false;
      u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
      ++i;
    }
    utf8::append(out, u);
  }
  return true;
}

void latin1_to_utf8(const uint8_t* p, size_t n, std::string& out) {
  out.reserve(out.size() + n);
  for (size_t i = 0; i < n; ++i) utf8::append(out, p[i]);
}

char32_t next_code_point(std::string_view s, size_t& i) {
  auto b = [&](size_t k) { return static_cast<char32_t>(static_cast<uint8_t>(s[i + k])); };
  char32_t c = b(0);
  if (c < 0x80) {
    i += 1;
  } else if (c < 0xe0) {
    c = ((c & 0x1f) << 6) | (b(1) & 0x3f);
    i += 2;
  } else if (c < 0xf0) {
    c = ((c & 0x0f) << 12) | ((b(1) & 0x3f) << 6) | (b(2) & 0x3f);
    i += 3;
  } else {
    c = ((c & 0x07) << 18) | ((b(1) & 0x3f) << 12) | ((b(2) & 0x3f) << 6) | (b(3) & 0x3f);
    i += 4;
  }
  return c;
}

size_t put_utf16(uint8_t* p, char32_t c) {
  if (c < 0x10000) {
    p[0] = static_cast<uint8_t>(c);
    p[1] = static_cast<uint8_t>(c >> 8);
    return 1;
  }
  c -= 0x10000;
  char32_t hi = 0xd800 + (c >> 10), lo = 0xdc00 + (c & 0x3ff);
  p[0] = static_cast<uint8_t>(hi);
  p[1] = static_cast<uint8_t>(hi >> 8);
  p[2] = static_cast<uint8_t>(lo);
  p[3] = static_cast<uint8_t>(lo >> 8);
  return 2;
}

}  // namespace weft::component
