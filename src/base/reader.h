// Bounds-checked little-endian byte reader with LEB128, as the wasm and
// component binary formats need. Every read past the end or overlong/oversized
// LEB throws a Malformed error naming the offset, in the spec's words.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"

namespace weft {

class Reader {
 public:
  // `base` is the offset of data[0] within the whole file, for error messages.
  explicit Reader(std::span<const uint8_t> data, size_t base = 0)
      : begin_(data.data()), p_(data.data()), end_(data.data() + data.size()), base_(base) {}

  size_t offset() const { return base_ + static_cast<size_t>(p_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool at_end() const { return p_ == end_; }
  const uint8_t* position() const { return p_; }

  uint8_t u8() {
    if (p_ == end_) fail_eof();
    return *p_++;
  }
  uint8_t peek() const {
    if (p_ == end_) fail_eof();
    return *p_;
  }
  uint32_t fixed_u32() {
    uint32_t v;
    std::memcpy(&v, bytes(4).data(), 4);
    return v;
  }
  uint64_t fixed_u64() {
    uint64_t v;
    std::memcpy(&v, bytes(8).data(), 8);
    return v;
  }
  std::span<const uint8_t> bytes(size_t n) {
    if (n > remaining()) fail_eof();
    std::span<const uint8_t> s(p_, n);
    p_ += n;
    return s;
  }
  void skip(size_t n) { bytes(n); }

  // LEB128. `bits` is the width of the target type; extra bits in the last
  // byte must be a sign/zero extension ("integer too large"), and the encoding
  // may use at most ceil(bits/7) bytes ("integer representation too long").
  uint64_t uleb(unsigned bits);
  int64_t sleb(unsigned bits);
  uint32_t u32() { return static_cast<uint32_t>(uleb(32)); }
  uint64_t u64() { return uleb(64); }
  int32_t s32() { return static_cast<int32_t>(sleb(32)); }
  int64_t s64() { return sleb(64); }
  int64_t s33() { return sleb(33); }

  // A vec length; rejects counts that could not possibly fit in the rest of
  // the input (each element is at least `min_elem_size` bytes).
  uint32_t count(size_t min_elem_size = 1);

  // A name: u32 length + UTF-8 bytes ("malformed UTF-8 encoding").
  std::string name();

  [[noreturn]] void fail(std::string message) const { throw_malformed(offset(), std::move(message)); }

 private:
  [[noreturn]] void fail_eof() const;

  const uint8_t* begin_;
  const uint8_t* p_;
  const uint8_t* end_;
  size_t base_;
};

}  // namespace weft
