// What the WASI 0.2 bindings share: the host's tables of resources (each a
// component resource whose representation is an index here), and the two
// abstractions wasi:io is built from — a Pollable (something that becomes
// ready, waited for on the loop) and the input/output streams that files,
// stdio and sockets provide. Internal to src/wasi/p2.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "component/host.h"
#include "component/instance.h"
#include "engine/trap.h"
#include "loop/reactor.h"
#include "wasi/common/config.h"
#include "wasi/common/errno.h"
#include "wasi/common/resource_table.h"
#include "wasi/common/sockets.h"
#include "wasi/http/server.h"

namespace weft::wasi::p2 {

using component::HostCall;
using component::Val;
namespace hv = component::host_values;
using common::ResourceTable;

// wasi:io/poll's pollable: something that is ready now or becomes ready.
class Pollable {
 public:
  virtual ~Pollable() = default;
  // Whether it is ready now (never waits).
  virtual bool ready() = 0;
  // Starts watching: `wake` is called from the loop once it may be ready.
  // A watch lasts until unwatch() (or until it fired).
  virtual void watch(std::function<void()> wake) = 0;
  virtual void unwatch() = 0;
};

// A pollable that is always ready (regular files, closed streams).
class ReadyPollable final : public Pollable {
 public:
  bool ready() override { return true; }
  void watch(std::function<void()>) override {}
  void unwatch() override {}
};

// The outcome of a stream operation (wasi:io/streams stream-error): ok,
// `closed`, or `last-operation-failed` with an error code for the `error`
// resource (filesystem-error-code / sockets read it back).
struct StreamStatus {
  enum class Kind : uint8_t { Ok, Closed, Failed } kind = Kind::Ok;
  common::Errno error = common::Errno::Success;
  static StreamStatus ok() { return {}; }
  static StreamStatus closed() { return {Kind::Closed, common::Errno::Success}; }
  static StreamStatus failed(common::Errno e) { return {Kind::Failed, e}; }
};

class InputStream {
 public:
  virtual ~InputStream() = default;
  // Appends up to `len` bytes that are available now to `out` (none is not
  // an error); Closed at end of stream.
  virtual StreamStatus read(uint64_t len, std::string& out) = 0;
  // Ready when read() would return data, end of stream or an error.
  virtual std::shared_ptr<Pollable> readiness() = 0;
};

class OutputStream {
 public:
  virtual ~OutputStream() = default;
  // How many bytes write() accepts now (0: wait for readiness()).
  virtual StreamStatus check_write(uint64_t& permitted) = 0;
  // Writes all of `data` (at most what check_write permitted).
  virtual StreamStatus write(std::string_view data) = 0;
  // Starts (and for simple streams completes) a flush.
  virtual StreamStatus flush() = 0;
  // Ready when check_write would permit bytes (or fail).
  virtual std::shared_ptr<Pollable> readiness() = 0;
};

// A pollable resource handed to the guest: shares its source's readiness.
struct PollableEntry {
  std::shared_ptr<Pollable> pollable;
};

// The io/error resource: what failed, as WASI's error code and a message.
struct IoError {
  common::Errno code = common::Errno::Io;
  std::string message;
};

struct State {
  State(loop::Reactor& reactor, const common::WasiConfig& config) : reactor(reactor), config(config) {}
  loop::Reactor& reactor;
  const common::WasiConfig& config;

  // wasi:io's resource types, which other interfaces re-export (`use`).
  std::shared_ptr<component::HostResource> pollable_resource, input_stream_resource, output_stream_resource,
      error_resource;

  ResourceTable<PollableEntry> pollables;
  ResourceTable<InputStream> input_streams;
  ResourceTable<OutputStream> output_streams;
  ResourceTable<IoError> errors;

  // Filled by each interface group's add_* (host.cpp); other groups' own
  // state hangs off here so that, e.g., filesystem streams use io's tables.
  struct Filesystem;
  std::unique_ptr<Filesystem, void (*)(Filesystem*)> filesystem{nullptr, nullptr};
  struct Sockets;
  std::unique_ptr<Sockets, void (*)(Sockets*)> sockets{nullptr, nullptr};
  struct Http;
  std::unique_ptr<Http, void (*)(Http*)> http{nullptr, nullptr};
  // io.cpp's per-descriptor state (the one loop watch libuv allows per
  // descriptor, output a descriptor has not taken yet).
  struct Io;
  std::unique_ptr<Io, void (*)(Io*)> io{nullptr, nullptr};
};

// Waits on the loop until one of `ps` is ready; returns the indices of the
// ready ones (at least one). Never spins: every pollable is watched.
std::vector<uint32_t> poll(State& st, const std::vector<Pollable*>& ps);

// Hands `p` to the guest as an own<pollable> of `t` (the function's result
// type or a part of it).
Val new_pollable(State& st, const component::Type* t, std::shared_ptr<Pollable> p);

// A stream-error value (of type `t`) for a failed status; the `error`
// resource it carries goes into st.errors.
Val stream_error(State& st, const component::Type* t, const StreamStatus& s);

// Streams over a host pipe, tty or socket `fd` (not owned): reads and
// writes wait for readiness on the loop, never in the kernel (io.cpp).
std::unique_ptr<InputStream> fd_input_stream(State& st, int fd);
std::unique_ptr<OutputStream> fd_output_stream(State& st, int fd);

// Ready when host descriptor `fd` is ready for `events` (UV_READABLE,
// UV_WRITABLE) or has an error. Every pollable on one descriptor shares one
// loop watch (libuv allows one per descriptor), so sockets use this rather
// than their own loop::FdWatch.
std::shared_ptr<Pollable> fd_pollable(State& st, int fd, int events);

// Waits on the loop until `p` is ready (poll on one pollable).
void block(State& st, Pollable& p);

// ---- wasi:sockets host objects (sockets.cpp) ----

using common::IpAddress;
using common::IpSocketAddress;
using common::net_error;
using common::NetError;
using common::Socket;
using common::SocketFd;

// wasi:sockets/network error-code's case name ("access-denied"); not for Ok.
const char* net_error_label(NetError e);

// wasi:sockets/tcp's tcp-socket and its state machine
// (TcpSocketOperationalSemantics.md). Host sockets never block.
class TcpSocket : public Socket, public std::enable_shared_from_this<TcpSocket> {
 public:
  enum class Phase : uint8_t {
    Unbound, BindInProgress, Bound, ListenInProgress, Listening, ConnectInProgress, Connected, Closed,
  };
  // access-denied unless the configuration allows TCP.
  static NetError create(State& st, bool ipv6, std::shared_ptr<TcpSocket>& out);
  NetError start_bind(const IpSocketAddress& local);
  NetError finish_bind();
  NetError start_connect(const IpSocketAddress& remote);
  NetError finish_connect(std::unique_ptr<InputStream>& in, std::unique_ptr<OutputStream>& out);
  NetError start_listen();
  NetError finish_listen();
  NetError accept(std::shared_ptr<TcpSocket>& client, std::unique_ptr<InputStream>& in,
                  std::unique_ptr<OutputStream>& out);
  NetError local_address(IpSocketAddress& out) const;
  NetError remote_address(IpSocketAddress& out) const;
  NetError set_listen_backlog_size(uint64_t value);
  NetError shutdown(bool receive, bool send);
  // Ready as the operational semantics say: when the operation in progress
  // has finished, when a listener has a connection to accept, otherwise now.
  std::shared_ptr<Pollable> subscribe();
  Phase phase() const { return phase_; }

  TcpSocket(State& st, std::shared_ptr<SocketFd> fd, bool ipv6, Phase phase)
      : Socket(std::move(fd), ipv6, st.config.inherit_network), st_(st), phase_(phase) {}

 private:
  State& st_;
  void streams(std::unique_ptr<InputStream>& in, std::unique_ptr<OutputStream>& out);
  Phase phase_;
  int backlog_ = 128;
};

// wasi:sockets/udp's udp-socket; its datagram streams are the pair made by
// the latest stream() (`generation`); older pairs fail with invalid-state.
class UdpSocket : public Socket, public std::enable_shared_from_this<UdpSocket> {
 public:
  struct Datagram {
    std::string data;
    std::optional<IpSocketAddress> remote;  // always set when received
  };
  static NetError create(State& st, bool ipv6, std::shared_ptr<UdpSocket>& out);
  NetError start_bind(const IpSocketAddress& local);
  NetError finish_bind();
  NetError stream(const std::optional<IpSocketAddress>& remote, uint64_t& generation);
  NetError local_address(IpSocketAddress& out) const;
  NetError remote_address(IpSocketAddress& out) const;
  // Up to `max` datagrams that have arrived (none is not an error).
  NetError receive(uint64_t generation, uint64_t max, std::vector<Datagram>& out);
  // How many datagrams the next send() may take (0: wait for writable()).
  NetError check_send(uint64_t generation, uint64_t& permitted);
  // Traps when `ds` holds more than check_send permitted.
  NetError send(uint64_t generation, const std::vector<Datagram>& ds, uint64_t& sent);
  std::shared_ptr<Pollable> readable();
  std::shared_ptr<Pollable> writable();

  UdpSocket(State& st, std::shared_ptr<SocketFd> fd, bool ipv6)
      : Socket(std::move(fd), ipv6, st.config.inherit_network), st_(st) {}

 private:
  State& st_;
  enum class Phase : uint8_t { Unbound, BindInProgress, Bound } phase_ = Phase::Unbound;
  std::optional<IpSocketAddress> remote_;
  uint64_t generation_ = 0;
  uint64_t permitted_ = 0;
};

// wasi:sockets/ip-name-lookup's resolve-address-stream over a NameLookup.
class ResolveAddressStream {
 public:
  // invalid-argument for a name that is no valid host name or address.
  static NetError start(State& st, std::string_view name, std::unique_ptr<ResolveAddressStream>& out);
  // The next address, none at the end; would-block while resolving.
  NetError next(std::optional<IpAddress>& out);
  std::shared_ptr<Pollable> subscribe();

  explicit ResolveAddressStream(std::shared_ptr<common::NameLookup> lookup) : lookup_(std::move(lookup)) {}
  ~ResolveAddressStream();  // cancels a lookup that has not started yet
  ResolveAddressStream(const ResolveAddressStream&) = delete;
  ResolveAddressStream& operator=(const ResolveAddressStream&) = delete;

 private:
  std::shared_ptr<common::NameLookup> lookup_;
  size_t index_ = 0;
};

// The interface groups; each registers its interfaces (every 0.2.x) on `host`.
void add_io(component::Host& host, State& st);           // io.cpp: error, poll, streams (first: sets the resources)
void add_cli(component::Host& host, State& st);          // cli.cpp: environment, exit, stdio, terminal-*
void add_clocks_random(component::Host& host, State& st);  // clocks.cpp: clocks, random
void add_filesystem(component::Host& host, State& st);   // filesystem.cpp: types, preopens
void add_sockets(component::Host& host, State& st);      // sockets.cpp: network … ip-name-lookup
void add_http(component::Host& host, State& st);         // http.cpp: wasi:http types, outgoing-handler

// http.cpp: serves one request with the component's exported
// wasi:http/incoming-handler `handle` (a synchronous call on the host's
// stack; the instance is fresh for each request). Returns once the
// handler returned; the response body may still be going out then: idle()
// says when it is all written.
void serve_request(component::Runtime& rt, State& st, component::ComponentFunc& handle,
                   std::shared_ptr<http::Exchange> exchange);

// Opens config.preopens for wasi:filesystem/preopens (filesystem.cpp);
// throws weft::Error(Usage) naming a directory that cannot be opened.
void open_preopens(State& st);

// The version every WASI 0.2 interface is registered with (matches 0.2.x).
inline constexpr const char* kVersion = "0.2.12";
// WASI 0.3.0 kept some interfaces synchronous and, but for a few names, as
// they were (cli environment/exit/terminal-*, random, the clocks' readings):
// these bindings serve them at this version too. Its async interfaces need
// async host functions (the WASI 0.3 host, issue 5).
inline constexpr const char* kVersion3 = "0.3.0";

}  // namespace weft::wasi::p2
