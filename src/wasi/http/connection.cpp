#include "wasi/http/connection.h"

#include <algorithm>
#include <cstring>

namespace weft::wasi::http::detail {

void BodyPipe::read(size_t max, std::function<void(Errno, std::string_view)> done) {
  pending_ = std::move(done);
  pending_max_ = std::max<size_t>(max, 1);
  deliver();
  if (on_read) on_read();
}

void BodyPipe::deliver() {
  if (!pending_) return;
  size_t avail = buf_.size() - pos_;
  if (avail == 0 && !ended_ && !error_) return;
  auto done = std::move(pending_);
  pending_ = nullptr;
  if (avail == 0) return done(error_ ? Errno::Io : Errno::Success, {});
  size_t n = std::min(avail, pending_max_);
  std::string_view bytes(buf_.data() + pos_, n);
  pos_ += n;
  done(Errno::Success, bytes);
}

void BodyPipe::push(const char* data, size_t n) {
  // Compacted here, never in deliver(): a reader's bytes stay valid for its
  // whole callback even when it reads again from inside it.
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ >= kHighWater) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data, n);
}

void FieldCollector::field(Fields& out, const char* at, size_t n) {
  if (in_value_ || out.empty()) {
    done(out);
    out.emplace_back();
    in_value_ = false;
  }
  std::string& name = out.back().first;
  for (size_t i = 0; i < n; ++i) {
    char c = at[i];
    name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  }
}

void FieldCollector::value(Fields& out, const char* at, size_t n) {
  if (out.empty()) return;
  in_value_ = true;
  out.back().second.append(at, n);
}

void FieldCollector::done(Fields& out) {
  if (!out.empty()) {
    std::string& v = out.back().second;
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
  }
  in_value_ = false;
}

int write_or_queue(uv_stream_t* stream, const uv_buf_t* bufs, unsigned nbufs,
                   std::function<void(int)>& done) {
  size_t total = 0;
  for (unsigned i = 0; i < nbufs; ++i) total += bufs[i].len;
  int written = uv_try_write(stream, bufs, nbufs);
  if (written == UV_EAGAIN || written == UV_ENOSYS) written = 0;
  if (written < 0) return written;
  if (static_cast<size_t>(written) == total) return 0;
  // The rest is copied: the caller's bytes need not outlive this call.
  struct Req {
    uv_write_t uv;
    std::string rest;
    std::function<void(int)> done;
  };
  auto* req = new Req{{}, {}, std::move(done)};
  req->rest.reserve(total - written);
  size_t skip = written;
  for (unsigned i = 0; i < nbufs; ++i) {
    size_t len = bufs[i].len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    req->rest.append(bufs[i].base + skip, len - skip);
    skip = 0;
  }
  uv_buf_t buf = buf_of(req->rest);
  req->uv.data = req;
  int err = uv_write(&req->uv, stream, &buf, 1, [](uv_write_t* w, int status) {
    std::unique_ptr<Req> r(static_cast<Req*>(w->data));
    r->done(status);
  });
  if (err) {
    delete req;
    return err;
  }
  return 1;
}

bool parse_length(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  out = v;
  return true;
}

bool iequals(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != lower[i]) return false;
  }
  return true;
}

void append_fields(std::string& out, const Fields& fields) {
  for (const auto& [name, value] : fields) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
}

}  // namespace weft::wasi::http::detail
