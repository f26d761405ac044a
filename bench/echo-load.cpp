// Load for a TCP echo server on loopback: opens C connections at once to
// 127.0.0.1:PORT, sends B pseudo-random bytes on each (a stream of its own,
// from the seed and the connection's number), shuts down writing, and checks
// that exactly the same bytes come back before the server closes. Reports
// the echoed MB/s and connections/s; exits 1 on any mismatch, error, early
// close or when the time limit is reached.
//   echo-load [-c CONNECTIONS] [-b BYTES] [-s SEED] [-t SECONDS] PORT
// As the native reference to time a guest against in the same run, it also
// is the echo server (on a free port, printed like tcp-echo.wasm does; it
// returns after CONNECTIONS connections):
//   echo-load --serve CONNECTIONS
#include <uv.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

// splitmix64, read as a byte stream (each word low byte first). Whole
// words go at once: the client checks as many bytes as the server echoes.
class ByteStream {
 public:
  explicit ByteStream(uint64_t seed) : state_(seed) {}

  void fill(uint8_t* out, size_t n) {
    size_t i = 0;
    for (; i < n && left_ > 0; ++i) out[i] = next();
    for (; i + 8 <= n; i += 8) {
      uint64_t w = word();
      for (int k = 0; k < 8; ++k) out[i + k] = static_cast<uint8_t>(w >> (8 * k));
    }
    for (; i < n; ++i) out[i] = next();
  }
  // The position of the first byte of `in` that differs from the stream,
  // or n (the stream then moved past them all).
  size_t match(const uint8_t* in, size_t n) {
    size_t i = 0;
    for (; i < n && left_ > 0; ++i)
      if (in[i] != next()) return i;
    for (; i + 8 <= n; i += 8) {
      uint64_t w = word();
      for (int k = 0; k < 8; ++k)
        if (in[i + k] != static_cast<uint8_t>(w >> (8 * k))) return i + k;
    }
    for (; i < n; ++i)
      if (in[i] != next()) return i;
    return n;
  }

 private:
  uint64_t word() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint8_t next() {
    if (left_ == 0) {
      rest_ = word();
      left_ = 8;
    }
    --left_;
    auto b = static_cast<uint8_t>(rest_);
    rest_ >>= 8;
    return b;
  }

  uint64_t state_;
  uint64_t rest_ = 0;  // the bytes of the last word not yet read
  int left_ = 0;
};

// One write in flight per connection: the kernel's buffers keep the pipe
// full, and 1,000 connections need only 1,000 chunks of memory.
constexpr size_t kChunk = 64 * 1024;

struct Load;

struct Connection {
  Load* load = nullptr;
  size_t index = 0;
  uv_tcp_t tcp{};
  uv_connect_t connect{};
  uv_write_t write{};
  uv_shutdown_t shutdown{};
  std::unique_ptr<uint8_t[]> chunk;
  ByteStream sent{0};
  ByteStream expected{0};
  uint64_t to_send = 0;
  uint64_t received = 0;
  bool done = false;
};

struct Load {
  uv_loop_t* loop = nullptr;
  sockaddr_in address{};
  uint64_t bytes = 0;
  std::vector<Connection> connections;
  size_t finished = 0;
  uv_timer_t timer{};
  bool failed = false;
  std::chrono::steady_clock::time_point start;
};

void stop(Load& load) {
  uv_timer_stop(&load.timer);
  uv_stop(load.loop);
}

// Reports the first failure only: the loop stops after this turn.
void fail(Connection& c, const std::string& what) {
  if (c.load->failed) return;
  std::fprintf(stderr, "echo-load: connection %zu: %s (%llu of %llu bytes back)\n", c.index, what.c_str(),
               static_cast<unsigned long long>(c.received), static_cast<unsigned long long>(c.load->bytes));
  c.load->failed = true;
  stop(*c.load);
}

void fail_uv(Connection& c, const char* step, int status) { fail(c, std::string(step) + ": " + uv_strerror(status)); }

void closed(uv_handle_t* handle) {
  auto& c = *static_cast<Connection*>(handle->data);
  c.chunk.reset();
  if (++c.load->finished == c.load->connections.size()) stop(*c.load);
}

void send_more(Connection& c);

void wrote(uv_write_t* req, int status) {
  auto& c = *static_cast<Connection*>(req->data);
  if (status < 0) return fail_uv(c, "write", status);
  send_more(c);
}

void shut_down(uv_shutdown_t* req, int status) {
  auto& c = *static_cast<Connection*>(req->data);
  if (status < 0) fail_uv(c, "shutdown", status);
}

// Writes the next chunk, or shuts down writing after the last.
void send_more(Connection& c) {
  if (c.to_send == 0) {
    c.chunk.reset();
    c.shutdown.data = &c;
    if (int e = uv_shutdown(&c.shutdown, reinterpret_cast<uv_stream_t*>(&c.tcp), shut_down); e < 0)
      fail_uv(c, "shutdown", e);
    return;
  }
  size_t n = c.to_send < kChunk ? static_cast<size_t>(c.to_send) : kChunk;
  c.sent.fill(c.chunk.get(), n);
  c.to_send -= n;
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(c.chunk.get()), static_cast<unsigned>(n));
  c.write.data = &c;
  if (int e = uv_write(&c.write, reinterpret_cast<uv_stream_t*>(&c.tcp), &buf, 1, wrote); e < 0)
    fail_uv(c, "write", e);
}

// Reads go through one buffer: each is checked before the next arrives.
void allocate(uv_handle_t*, size_t, uv_buf_t* buf) {
  static char buffer[kChunk];
  *buf = uv_buf_init(buffer, sizeof buffer);
}

void received(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
  auto& c = *static_cast<Connection*>(stream->data);
  if (c.done) return;
  if (n == UV_EOF) {
    if (c.received != c.load->bytes) return fail(c, "closed early");
    c.done = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), closed);
    return;
  }
  if (n < 0) return fail_uv(c, "read", static_cast<int>(n));
  auto count = static_cast<size_t>(n);
  if (c.received + count > c.load->bytes) return fail(c, "more bytes than were sent");
  size_t same = c.expected.match(reinterpret_cast<const uint8_t*>(buf->base), count);
  if (same != count) return fail(c, "byte " + std::to_string(c.received + same) + " differs");
  c.received += count;
}

void connected(uv_connect_t* req, int status) {
  auto& c = *static_cast<Connection*>(req->data);
  if (status < 0) return fail_uv(c, "connect", status);
  if (int e = uv_read_start(reinterpret_cast<uv_stream_t*>(&c.tcp), allocate, received); e < 0)
    return fail_uv(c, "read", e);
  c.chunk = std::make_unique<uint8_t[]>(kChunk);
  send_more(c);
}

void timed_out(uv_timer_t* timer) {
  auto& load = *static_cast<Load*>(timer->data);
  size_t unfinished = 0;
  for (Connection& c : load.connections) {
    if (c.done) continue;
    if (unfinished++ < 5)
      std::fprintf(stderr, "echo-load: connection %zu: %llu of %llu bytes back\n", c.index,
                   static_cast<unsigned long long>(c.received), static_cast<unsigned long long>(load.bytes));
  }
  std::fprintf(stderr, "echo-load: time limit reached: %zu of %zu connections unfinished\n", unfinished,
               load.connections.size());
  load.failed = true;
  stop(load);
}

void usage() {
  std::fprintf(stderr,
               "usage: echo-load [-c CONNECTIONS] [-b BYTES] [-s SEED] [-t SECONDS] PORT\n"
               "       echo-load --serve CONNECTIONS\n");
}

// A whole number in [min, max] from `text`, or exits with usage.
uint64_t number(const char* text, uint64_t min, uint64_t max) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno || end == text || *end || text[0] == '-' || v < min || v > max) {
    std::fprintf(stderr, "echo-load: not a number in [%llu, %llu]: '%s'\n", static_cast<unsigned long long>(min),
                 static_cast<unsigned long long>(max), text);
    std::exit(2);
  }
  return v;
}

// ---- the native echo server ----

struct Server {
  uv_loop_t* loop = nullptr;
  uv_tcp_t listener{};
  uint64_t limit = 0;
  uint64_t accepted = 0;
  uint64_t finished = 0;
};

// One chunk in flight, as weft's pumps do: reading pauses while the
// connection's buffer is being written.
struct Echo {
  Server* server = nullptr;
  uv_tcp_t tcp{};
  uv_write_t write{};
  uv_shutdown_t shutdown{};
  char buffer[kChunk];
};

void echo_closed(uv_handle_t* handle) {
  auto* e = static_cast<Echo*>(handle->data);
  Server& server = *e->server;
  delete e;
  if (++server.finished == server.limit) uv_close(reinterpret_cast<uv_handle_t*>(&server.listener), nullptr);
}

void echo_close(Echo& e) {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&e.tcp))) uv_close(reinterpret_cast<uv_handle_t*>(&e.tcp), echo_closed);
}

void echo_allocate(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(static_cast<Echo*>(handle->data)->buffer, kChunk);
}

void echo_read(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf);

void echo_written(uv_write_t* req, int status) {
  auto& e = *static_cast<Echo*>(req->handle->data);
  if (status < 0) return echo_close(e);
  uv_read_start(req->handle, echo_allocate, echo_read);
}

void echo_shut_down(uv_shutdown_t* req, int) { echo_close(*static_cast<Echo*>(req->handle->data)); }

void echo_read(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
  auto& e = *static_cast<Echo*>(stream->data);
  if (n == 0) return;
  uv_read_stop(stream);
  if (n < 0) {
    // After the peer's end, the shutdown follows what was written.
    if (n != UV_EOF || uv_shutdown(&e.shutdown, stream, echo_shut_down) < 0) echo_close(e);
    return;
  }
  uv_buf_t out = uv_buf_init(buf->base, static_cast<unsigned>(n));
  if (uv_write(&e.write, stream, &out, 1, echo_written) < 0) echo_close(e);
}

void echo_accept(uv_stream_t* listener, int status) {
  auto& server = *static_cast<Server*>(listener->data);
  if (status < 0 || server.accepted == server.limit) return;
  auto* e = new Echo;
  e->server = &server;
  uv_tcp_init(server.loop, &e->tcp);
  e->tcp.data = e;
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&e->tcp)) < 0)
    return uv_close(reinterpret_cast<uv_handle_t*>(&e->tcp), [](uv_handle_t* h) { delete static_cast<Echo*>(h->data); });
  ++server.accepted;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&e->tcp), echo_allocate, echo_read);
}

int serve(uint64_t connections) {
  Server server;
  server.loop = uv_default_loop();
  server.limit = connections;
  sockaddr_in any{};
  uv_ip4_addr("127.0.0.1", 0, &any);
  uv_tcp_init(server.loop, &server.listener);
  server.listener.data = &server;
  sockaddr_in bound{};
  int length = sizeof bound;
  if (int e = uv_tcp_bind(&server.listener, reinterpret_cast<const sockaddr*>(&any), 0);
      e < 0 || (e = uv_listen(reinterpret_cast<uv_stream_t*>(&server.listener), 1024, echo_accept)) < 0 ||
      (e = uv_tcp_getsockname(&server.listener, reinterpret_cast<sockaddr*>(&bound), &length)) < 0) {
    std::fprintf(stderr, "echo-load: listen: %s\n", uv_strerror(e));
    return 1;
  }
  std::printf("echo-load: listening on 127.0.0.1:%d\n", ntohs(bound.sin_port));
  std::fflush(stdout);
  uv_run(server.loop, UV_RUN_DEFAULT);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--serve") return serve(number(argv[2], 1, UINT64_MAX));
  uint64_t connections = 100, bytes = 65536, seed = 1, seconds = 60;
  int port = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "-c" || a == "-b" || a == "-s" || a == "-t") && i + 1 < argc) {
      const char* v = argv[++i];
      if (a == "-c") connections = number(v, 1, 100000);
      if (a == "-b") bytes = number(v, 0, uint64_t{1} << 40);
      if (a == "-s") seed = number(v, 0, UINT64_MAX);
      if (a == "-t") seconds = number(v, 1, 86400);
    } else if (port < 0 && a[0] != '-') {
      port = static_cast<int>(number(argv[i], 1, 65535));
    } else {
      usage();
      return 2;
    }
  }
  if (port < 0) {
    usage();
    return 2;
  }

  Load load;
  load.loop = uv_default_loop();
  load.bytes = bytes;
  uv_ip4_addr("127.0.0.1", port, &load.address);
  load.connections.resize(connections);
  uv_timer_init(load.loop, &load.timer);
  load.timer.data = &load;
  uv_timer_start(&load.timer, timed_out, seconds * 1000, 0);
  load.start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < load.connections.size(); ++i) {
    Connection& c = load.connections[i];
    c.load = &load;
    c.index = i;
    // Each connection's bytes are a stream of their own.
    c.sent = c.expected = ByteStream(seed * 0x100000001b3ULL + i);
    c.to_send = bytes;
    uv_tcp_init(load.loop, &c.tcp);
    c.tcp.data = &c;
    c.connect.data = &c;
    if (int e = uv_tcp_connect(&c.connect, &c.tcp, reinterpret_cast<const sockaddr*>(&load.address), connected);
        e < 0) {
      fail_uv(c, "connect", e);
      break;
    }
  }
  uv_run(load.loop, UV_RUN_DEFAULT);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - load.start).count();
  if (load.failed) return 1;
  double total = static_cast<double>(connections) * static_cast<double>(bytes);
  std::printf("echo-load: %llu connections x %llu bytes in %.3f s: %.1f MB/s echoed, %.0f connections/s\n",
              static_cast<unsigned long long>(connections), static_cast<unsigned long long>(bytes), elapsed,
              total / 1e6 / elapsed, static_cast<double>(connections) / elapsed);
  return 0;
}
