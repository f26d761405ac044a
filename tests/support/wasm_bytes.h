// Building blocks for hand-assembled module and component binaries in tests.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace weft::test {

using Bytes = std::vector<uint8_t>;

// Unsigned LEB128.
inline Bytes leb(uint64_t v) {
  Bytes out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(v ? b | 0x80 : b);
  } while (v);
  return out;
}

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A name: length, then the bytes.
inline Bytes str(const std::string& s) { return cat({leb(s.size()), Bytes(s.begin(), s.end())}); }

}  // namespace weft::test
