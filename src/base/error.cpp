#include "base/error.h"

#include <cstdio>

namespace weft {

std::string Error::describe() const {
  std::string text = what();
  if (offset_ != npos) {
    char buf[40];
    std::snprintf(buf, sizeof buf, " (at byte 0x%zx)", offset_);
    text += buf;
  }
  return text;
}

}  // namespace weft
