// The native reference for bench/http-load.sh: the smallest HTTP/1.1
// server on the same libraries weft's server uses (libuv, http_parser),
// answering every request 200 "hello, world\n" (content-type text/plain,
// a content-length), with keep-alive and pipelining. No guest, no
// per-request work beyond parsing: what is left of weft's time over this
// is its server, host and guest. Prints "http-hello: listening on
// 127.0.0.1:PORT" once it listens (PORT 0 picks one); exits 0 on SIGINT
// or SIGTERM.
//   http-hello [PORT]
#include <http_parser.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace {

constexpr char kResponse[] =
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nhello, world\n";
constexpr size_t kBuffer = 64 * 1024;

struct Connection {
  uv_tcp_t tcp{};
  http_parser parser{};
  bool closing_after_write = false;  // the client asked for Connection: close
  char buffer[kBuffer];
};

http_parser_settings settings{};

void closed(uv_handle_t* handle) { delete static_cast<Connection*>(handle->data); }

void close(Connection& c) {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&c.tcp))) uv_close(reinterpret_cast<uv_handle_t*>(&c.tcp), closed);
}

void written(uv_write_t* req, int status) {
  auto& c = *static_cast<Connection*>(req->handle->data);
  delete req;
  if (status < 0 || c.closing_after_write) close(c);
}

// A whole request arrived: its answer is queued behind earlier ones.
int message_complete(http_parser* parser) {
  auto& c = *static_cast<Connection*>(parser->data);
  if (!http_should_keep_alive(parser)) c.closing_after_write = true;
  auto* req = new uv_write_t;
  uv_buf_t out = uv_buf_init(const_cast<char*>(kResponse), sizeof kResponse - 1);
  if (uv_write(req, reinterpret_cast<uv_stream_t*>(&c.tcp), &out, 1, written) < 0) {
    delete req;
    close(c);
  }
  return 0;
}

void allocate(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(static_cast<Connection*>(handle->data)->buffer, kBuffer);
}

void on_read(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
  auto& c = *static_cast<Connection*>(stream->data);
  if (n == 0) return;
  if (n < 0) return close(c);
  size_t parsed = http_parser_execute(&c.parser, &settings, buf->base, static_cast<size_t>(n));
  if (c.parser.http_errno != HPE_OK || parsed != static_cast<size_t>(n)) close(c);
}

void on_connection(uv_stream_t* listener, int status) {
  if (status < 0) return;
  auto* c = new Connection;
  uv_tcp_init(listener->loop, &c->tcp);
  c->tcp.data = c;
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) < 0) return close(*c);
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), allocate, on_read);
}

void on_signal(uv_signal_t* watch, int) { uv_stop(watch->loop); }

}  // namespace

int main(int argc, char** argv) {
  long port = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 0;
  if (argc > 2 || port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: http-hello [PORT]\n");
    return 2;
  }
  settings.on_message_complete = message_complete;
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t listener;
  uv_tcp_init(loop, &listener);
  sockaddr_in any{};
  uv_ip4_addr("127.0.0.1", static_cast<int>(port), &any);
  sockaddr_in bound{};
  int length = sizeof bound;
  if (int e = uv_tcp_bind(&listener, reinterpret_cast<const sockaddr*>(&any), 0);
      e < 0 || (e = uv_listen(reinterpret_cast<uv_stream_t*>(&listener), 4096, on_connection)) < 0 ||
      (e = uv_tcp_getsockname(&listener, reinterpret_cast<sockaddr*>(&bound), &length)) < 0) {
    std::fprintf(stderr, "http-hello: listen: %s\n", uv_strerror(e));
    return 1;
  }
  uv_signal_t sigint, sigterm;
  uv_signal_init(loop, &sigint);
  uv_signal_start(&sigint, on_signal, SIGINT);
  uv_signal_init(loop, &sigterm);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  std::printf("http-hello: listening on 127.0.0.1:%d\n", ntohs(bound.sin_port));
  std::fflush(stdout);
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}
