// The immutable bytes of a loaded binary: either a read-only private mapping
// of the file (no copy, pages fault in only where the decoder looks) or an
// owned vector (built in memory, or read from a pipe).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace weft {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(std::vector<uint8_t> bytes);  // NOLINT: implicit, a vector is a buffer
  ByteBuffer(ByteBuffer&&) noexcept;
  ByteBuffer& operator=(ByteBuffer&&) noexcept;
  ~ByteBuffer();

  // Maps a regular file, or reads anything else (pipes, /dev/stdin). Throws
  // Error(Io) "cannot read 'PATH': REASON".
  static ByteBuffer read_file(const std::string& path);

  const uint8_t* data() const { return mapping_ ? static_cast<const uint8_t*>(mapping_) : owned_.data(); }
  size_t size() const { return mapping_ ? mapped_size_ : owned_.size(); }
  bool empty() const { return size() == 0; }
  const uint8_t* begin() const { return data(); }
  const uint8_t* end() const { return data() + size(); }
  uint8_t operator[](size_t i) const { return data()[i]; }
  operator std::span<const uint8_t>() const { return {data(), size()}; }  // NOLINT

  // The owned vector, for code that builds a module in memory (tests); a
  // mapped file has none (the vector is empty).
  std::vector<uint8_t>& vec() { return owned_; }

 private:
  void release();
  std::vector<uint8_t> owned_;
  void* mapping_ = nullptr;  // a read-only file mapping of mapped_size_ bytes
  size_t mapped_size_ = 0;
};

}  // namespace weft
