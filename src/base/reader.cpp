#include "base/reader.h"

#include "base/utf8.h"

namespace weft {

void Reader::fail_eof() const { throw_malformed(offset(), "unexpected end"); }

uint64_t Reader::uleb(unsigned bits) {
  uint64_t result = 0;
  unsigned shift = 0;
  const unsigned max_bytes = (bits + 6) / 7;
  for (unsigned i = 0;; ++i) {
    if (p_ == end_) fail_eof();
    uint8_t byte = *p_++;
    if (i == max_bytes - 1) {
      // Last permitted byte: continuation bit set means too long; bits beyond
      // the target width must be zero.
      if (byte & 0x80) fail("integer representation too long");
      unsigned used = bits - shift;
      if (used < 7 && (byte >> used) != 0) fail("integer too large");
      return result | (static_cast<uint64_t>(byte) << shift);
    }
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    shift += 7;
    if (!(byte & 0x80)) return result;
  }
}

int64_t Reader::sleb(unsigned bits) {
  int64_t result = 0;
  unsigned shift = 0;
  const unsigned max_bytes = (bits + 6) / 7;
  for (unsigned i = 0;; ++i) {
    if (p_ == end_) fail_eof();
    uint8_t byte = *p_++;
    if (i == max_bytes - 1) {
      if (byte & 0x80) fail("integer representation too long");
      unsigned used = bits - shift;  // value bits left, including sign bit
      if (used < 7) {
        // The unused high bits must all equal the sign bit.
        int8_t sext = static_cast<int8_t>(byte << 1) >> 1;  // 7-bit value sign-extended
        int8_t top = static_cast<int8_t>(sext >> (used - 1));
        if (top != 0 && top != -1) fail("integer too large");
      }
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      shift += 7;
      if (shift < 64 && (byte & 0x40)) result |= ~uint64_t{0} << shift;
      return result;
    }
    result |= static_cast<int64_t>(static_cast<uint64_t>(byte & 0x7f) << shift);
    shift += 7;
    if (!(byte & 0x80)) {
      if (shift < 64 && (byte & 0x40)) result |= static_cast<int64_t>(~uint64_t{0} << shift);
      return result;
    }
  }
}

uint32_t Reader::count(size_t min_elem_size) {
  size_t at = offset();
  uint32_t n = u32();
  if (min_elem_size && static_cast<uint64_t>(n) * min_elem_size > remaining())
    throw_malformed(at, n > remaining() ? "unexpected end of section or function" : "unexpected end");
  return n;
}

std::string Reader::name() {
  uint32_t len = u32();
  if (len > remaining()) fail_eof();
  auto s = bytes(len);
  if (!utf8::valid(s)) throw_malformed(offset() - len, "malformed UTF-8 encoding");
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

}  // namespace weft
