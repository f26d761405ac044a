// Error types shared by every layer. Decoding, validation and linking report
// failures by throwing; traps are values (see engine/trap.h).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace weft {

// What went wrong, in the categories the spec tests distinguish.
enum class ErrorKind {
  Malformed,  // the bytes are not a module (decode error)
  Invalid,    // decodes, but fails validation
  Unlinkable, // imports do not match what is provided
  Usage,      // bad command line or bad host-side request
  Io,         // file could not be read
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, size_t offset = npos)
      : std::runtime_error(std::move(message)), kind_(kind), offset_(offset) {}

  static constexpr size_t npos = static_cast<size_t>(-1);

  ErrorKind kind() const { return kind_; }
  // Byte offset in the input where the problem was found, or npos.
  size_t offset() const { return offset_; }
  // "message" or "message (at byte 0x1f)".
  std::string describe() const;

 private:
  ErrorKind kind_;
  size_t offset_;
};

[[noreturn]] inline void throw_malformed(size_t offset, std::string message) {
  throw Error(ErrorKind::Malformed, std::move(message), offset);
}
[[noreturn]] inline void throw_invalid(size_t offset, std::string message) {
  throw Error(ErrorKind::Invalid, std::move(message), offset);
}

}  // namespace weft
