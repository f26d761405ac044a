// What the HTTP server and client share: the message body buffer between
// the parser and a reader, header fields from http_parser's callbacks, and
// writes to a TCP stream that take the fast path (uv_try_write) first.
#pragma once

#include <http_parser.h>
#include <uv.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "wasi/http/message.h"

namespace weft::wasi::http::detail {

// A message body on its way from the parser to one reader. The parser
// pushes what arrives; the connection stops reading the socket while
// full() (backpressure) and hands buffered bytes to a waiting reader with
// deliver() once the parser has returned (never from inside it).
class BodyPipe final : public ByteSource {
 public:
  static constexpr size_t kHighWater = 64 * 1024;

  // Runs on each read(): the connection resumes reading the socket, or
  // sends `100 Continue` on the first one.
  std::function<void()> on_read;

  void read(size_t max, std::function<void(Errno, std::string_view)> done) override;
  void cancel() override { pending_ = nullptr; }

  void push(const char* data, size_t n);
  void end() { ended_ = true; }
  // A failed body stays failed; bytes not yet read are dropped.
  void fail() {
    if (!ended_) error_ = true;
  }
  void deliver();

  bool full() const { return buf_.size() - pos_ >= kHighWater; }
  bool ended() const { return ended_; }
  bool failed() const { return error_; }

 private:
  std::string buf_;
  size_t pos_ = 0;
  bool ended_ = false;
  bool error_ = false;
  size_t pending_max_ = 0;
  std::function<void(Errno, std::string_view)> pending_;
};

// Collects header (or trailer) fields from http_parser's field and value
// callbacks, which may split one name or value over several calls.
class FieldCollector {
 public:
  void field(Fields& out, const char* at, size_t n);
  void value(Fields& out, const char* at, size_t n);
  // Ends the section: trims the last value's trailing whitespace.
  void done(Fields& out);

 private:
  bool in_value_ = false;
};

// Writes `bufs` to `stream`: what the socket takes at once is written
// there and then; the rest is copied and queued with uv_write. Returns
// 0 when all went out at once, 1 when some was queued: `done` was moved
// from and runs with the uv status once libuv has written it (or with
// UV_ECANCELED when the handle is closed first); or a negative uv error.
// Only when it returns 1 is `done` taken.
int write_or_queue(uv_stream_t* stream, const uv_buf_t* bufs, unsigned nbufs, std::function<void(int)>& done);

// Parses a Content-Length value: digits only, no sign, no overflow.
bool parse_length(std::string_view s, uint64_t& out);

// True when `s` equals `lower` ignoring ASCII case.
bool iequals(std::string_view s, std::string_view lower);

// Appends "name: value\r\n" for each field.
void append_fields(std::string& out, const Fields& fields);

// The uv_buf_t for bytes that libuv only reads.
inline uv_buf_t buf_of(std::string_view s) {
  return uv_buf_init(const_cast<char*>(s.data()), static_cast<unsigned>(s.size()));
}

}  // namespace weft::wasi::http::detail
