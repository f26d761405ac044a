// wasi:http 0.2 message bodies as wasi:io streams (http.cpp): an incoming
// body reads ahead from an exchange's ByteSource, an outgoing body buffers
// what the guest writes and hands it to a ByteSink one write at a time,
// then finishes or aborts its exchange. Internal to src/wasi/p2.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wasi/http/message.h"
#include "wasi/p2/state.h"

namespace weft::wasi::p2 {

// Wake-ups for pollables watching one object.
class Waiters {
 public:
  uint64_t add(std::function<void()> wake);
  void remove(uint64_t id);
  // Calls (and forgets) every waiter.
  void wake();

 private:
  std::vector<std::pair<uint64_t, std::function<void()>>> list_;
  uint64_t last_ = 0;
};

// Ready when `ready` holds, woken through `waiters`; keeps `owner` (which
// holds the waiters) alive, so it outlives the stream it came from.
class WaitPollable final : public Pollable {
 public:
  WaitPollable(std::shared_ptr<void> owner, Waiters& waiters, std::function<bool()> ready);
  ~WaitPollable() override;
  bool ready() override { return ready_(); }
  void watch(std::function<void()> wake) override;
  void unwatch() override;

 private:
  std::shared_ptr<void> owner_;
  Waiters& waiters_;
  std::function<bool()> ready_;
  uint64_t id_ = 0;
};

// Reads a ByteSource ahead of the guest: one read at a time, started when
// the buffer runs empty (so network backpressure holds while the guest
// does not read). The guest's pollables start it too.
class BodyReader : public std::enable_shared_from_this<BodyReader> {
 public:
  static constexpr size_t kReadAhead = 64 * 1024;

  explicit BodyReader(std::shared_ptr<common::ByteSource> source) : source_(std::move(source)) {}
  ~BodyReader();  // cancels a read in progress
  BodyReader(const BodyReader&) = delete;
  BodyReader& operator=(const BodyReader&) = delete;

  // Up to `len` buffered bytes (none is not an error); Closed at the end,
  // Failed with the source's error.
  StreamStatus read(uint64_t len, std::string& out);
  // Whether read() has bytes, the end or the error.
  bool readable();
  // Reads on to the end, discarding (incoming-body.finish: the trailers
  // come after the body).
  void drain();
  // The end or an error was reached.
  bool done() const;
  common::Errno error() const { return error_; }
  std::shared_ptr<Pollable> readiness();  // readable()
  std::shared_ptr<Pollable> end();        // done()

 private:
  void fill();
  void on_read(common::Errno e, std::string_view data);

  std::shared_ptr<common::ByteSource> source_;
  std::string buffer_;
  bool reading_ = false, filling_ = false, ended_ = false, draining_ = false;
  common::Errno error_ = common::Errno::Success;
  Waiters waiters_;
};

// Buffers what the guest writes (up to kBuffer beyond the write in
// flight) until a sink is attached, then writes it to the sink one write
// at a time. `writes_in_flight` counts writes handed to a sink and not yet
// done (WasiHost::idle).
class BodyWriter : public std::enable_shared_from_this<BodyWriter> {
 public:
  static constexpr uint64_t kBuffer = 64 * 1024;

  explicit BodyWriter(std::shared_ptr<uint64_t> writes_in_flight);
  BodyWriter(const BodyWriter&) = delete;
  BodyWriter& operator=(const BodyWriter&) = delete;

  void attach(std::shared_ptr<common::ByteSink> sink);
  // What write() takes now: 0 while full, flushing or failed.
  uint64_t permitted() const;
  void write(std::string_view data);
  // check-write permits nothing until what is buffered has been written.
  void flush();
  bool writable() const;  // permitted() > 0 or failed
  bool busy() const;      // bytes queued or being written
  common::Errno error() const { return error_; }
  // Runs `f` once nothing is queued or in flight, or a write failed.
  void when_drained(std::function<void()> f);
  std::shared_ptr<Pollable> readiness();  // writable()

 private:
  void push();
  void on_written(common::Errno e);

  std::shared_ptr<uint64_t> in_flight_;
  std::shared_ptr<common::ByteSink> sink_;
  std::string queue_, current_;
  bool writing_ = false, flushing_ = false;
  common::Errno error_ = common::Errno::Success;
  Waiters waiters_;
  std::function<void()> drained_;
};

// An outgoing-body: its writer, what was written against the message's
// content-length, and how it ended. Once attached to its exchange (the
// response set, the request sent) the end goes there: finish after the
// last write, abort when broken.
class OutgoingBody : public std::enable_shared_from_this<OutgoingBody> {
 public:
  struct Target {
    std::function<void(http::Fields trailers)> finish;
    std::function<void()> abort;
  };
  enum class End : uint8_t { Open, Finished, Broken };

  OutgoingBody(std::shared_ptr<uint64_t> writes_in_flight, bool request)
      : writer(std::make_shared<BodyWriter>(std::move(writes_in_flight))), request(request) {}

  void attach(std::shared_ptr<common::ByteSink> sink, Target target);
  void finish(http::Fields trailers);
  // Dropped unfinished, or not what its content-length said.
  void broken();
  // What a failed write of the body means.
  http::HttpError failure() const { return {"connection-terminated", std::nullopt}; }

  std::shared_ptr<BodyWriter> writer;
  const bool request;  // a request's body (else a response's)
  std::optional<uint64_t> content_length;
  uint64_t written = 0;
  bool stream_taken = false;
  std::weak_ptr<void> stream;  // the output-stream child while the guest has it
  End end = End::Open;

 private:
  void settle();
  http::Fields trailers_;
  std::optional<Target> target_;
};

// Whether every body write handed to the HTTP server or client is done.
bool http_idle(const State& st);

}  // namespace weft::wasi::p2
