// Byte streams between the host and the OS, as the asynchronous hosts see
// them: what a guest writes goes to a ByteSink, what it reads comes from a
// ByteSource. WASI 0.3 pumps them to and from component streams; the
// HTTP server and client give a message body as one of each.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "wasi/common/errno.h"

namespace weft::wasi::common {

// Where bytes go. One write at a time; `done` runs from the loop (or at
// once) with how it went; a sink that fails stays failed.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(std::string_view data, std::function<void(Errno)> done) = 0;
};

// Where bytes come from. One read at a time: `done` runs from the loop (or
// at once) with up to `max` bytes, none at end of stream. cancel() stops a
// read in progress without calling its `done`.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual void read(size_t max, std::function<void(Errno, std::string_view)> done) = 0;
  virtual void cancel() = 0;
};

}  // namespace weft::wasi::common
