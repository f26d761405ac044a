// The WASI 0.3.0 host's wasi:filesystem: the methods shared with 0.2 as 0.3
// declares their types (variants with `other`, instant), and the streams —
// file bytes and directory entries through host stream ends, each with the
// future of its outcome — called directly over a temporary directory.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "component/host_async.h"
#include "p2_support.h"
#include "wasi/common/filesystem.h"
#include "wasi/p3/state.h"

using namespace weft;
using namespace weft::testing;  // Type, TypeKind, Val, WitTypes, HostCaller
using component::CopyResult;
using component::HostBuffer;
using component::HostEnd;
namespace hv = component::host_values;
namespace fs = std::filesystem;

namespace {

// The WIT types of wasi:filesystem/types@0.3.0.
struct FsTypes : WitTypes {
  const Type* u8 = prim(TypeKind::U8);
  const Type* u64 = prim(TypeKind::U64);
  const Type* string = prim(TypeKind::String);
  const Type* descriptor = resource();
  const Type* error_code = variant(
      {{"access", nullptr}, {"already", nullptr}, {"bad-descriptor", nullptr}, {"busy", nullptr},
       {"deadlock", nullptr}, {"quota", nullptr}, {"exist", nullptr}, {"file-too-large", nullptr},
       {"illegal-byte-sequence", nullptr}, {"in-progress", nullptr}, {"interrupted", nullptr},
       {"invalid", nullptr}, {"io", nullptr}, {"is-directory", nullptr}, {"loop", nullptr},
       {"too-many-links", nullptr}, {"message-size", nullptr}, {"name-too-long", nullptr},
       {"no-device", nullptr}, {"no-entry", nullptr}, {"no-lock", nullptr}, {"insufficient-memory", nullptr},
       {"insufficient-space", nullptr}, {"not-directory", nullptr}, {"not-empty", nullptr},
       {"not-recoverable", nullptr}, {"unsupported", nullptr}, {"no-tty", nullptr}, {"no-such-device", nullptr},
       {"overflow", nullptr}, {"not-permitted", nullptr}, {"pipe", nullptr}, {"read-only", nullptr},
       {"invalid-seek", nullptr}, {"text-file-busy", nullptr}, {"cross-device", nullptr},
       {"other", option(string)}});
  const Type* descriptor_type = variant({{"block-device", nullptr}, {"character-device", nullptr},
                                         {"directory", nullptr}, {"fifo", nullptr}, {"symbolic-link", nullptr},
                                         {"regular-file", nullptr}, {"socket", nullptr},
                                         {"other", option(string)}});
  const Type* descriptor_flags = flags({"read", "write", "file-integrity-sync", "data-integrity-sync",
                                        "requested-write-sync", "mutate-directory"});
  const Type* path_flags = flags({"symlink-follow"});
  const Type* open_flags = flags({"create", "directory", "exclusive", "truncate"});
  const Type* instant = record({{"seconds", prim(TypeKind::S64)}, {"nanoseconds", prim(TypeKind::U32)}});
  const Type* stat = record({{"type", descriptor_type}, {"link-count", u64}, {"size", u64},
                             {"data-access-timestamp", option(instant)},
                             {"data-modification-timestamp", option(instant)},
                             {"status-change-timestamp", option(instant)}});
  const Type* new_timestamp = variant({{"no-change", nullptr}, {"now", nullptr}, {"timestamp", instant}});
  const Type* entry = record({{"type", descriptor_type}, {"name", string}});
  const Type* hash = record({{"lower", u64}, {"upper", u64}});
  const Type* outcome = result(nullptr, error_code);
  const Type* byte_stream = make(Type{.kind = TypeKind::Stream, .a = u8});
  const Type* entry_stream = make(Type{.kind = TypeKind::Stream, .a = entry});
  const Type* outcome_future = make(Type{.kind = TypeKind::Future, .a = outcome});
};

constexpr const char* kTypes = "wasi:filesystem/types@0.3.0";

struct Fixture {
  fs::path root;
  loop::Reactor reactor;
  wasi::common::WasiConfig config;
  FsTypes t;
  HostCaller caller{t};
  component::Runtime& rt = caller.runtime;
  std::unique_ptr<wasi::p3::State> st;  // freed before the runtime its stream ends belong to
  uint64_t dir = 0;                     // the preopen's rep

  explicit Fixture(bool read_only = false) {
    std::string tmpl = (fs::temp_directory_path() / "weft-p3fs-XXXXXX").string();
    root = mkdtemp(tmpl.data());
    fs::create_directories(root / "sandbox/sub");
    fs::create_directories(root / "outside");
    std::ofstream(root / "sandbox/hello.txt") << "hello";
    config.preopens.push_back({(root / "sandbox").string(), "/sandbox", read_only});
    st = std::make_unique<wasi::p3::State>(reactor, config);
    wasi::p3::add_filesystem(caller.host, *st);
    Val dirs = caller.call("wasi:filesystem/preopens@0.3.0", "get-directories", {},
                           t.list(t.tuple({t.own(t.descriptor), t.string})));
    REQUIRE(dirs.items.size() == 1);
    CHECK(dirs.items[0].items[1].str == "/sandbox");
    dir = dirs.items[0].items[0].bits;
  }
  ~Fixture() {
    st.reset();
    fs::remove_all(root);
  }

  // Calls a descriptor method returning `result`.
  Val call(const char* name, uint64_t self, std::vector<Val> args, const Type* result) {
    args.insert(args.begin(), hv::scalar(t.borrow(t.descriptor), self));
    return caller.call(kTypes, std::string("[method]descriptor.") + name, std::move(args), result);
  }
  // A method returning result<ok, error-code>.
  Val method(const char* name, uint64_t self, std::vector<Val> args, const Type* ok = nullptr) {
    return call(name, self, std::move(args), t.result(ok, t.error_code));
  }

  Val str(std::string s) { return hv::string(t.string, std::move(s)); }
  Val u64(uint64_t v) { return hv::scalar(t.u64, v); }
  Val flags(const Type* ft, std::vector<std::string_view> set) { return hv::flags(ft, set); }
  Val borrow(uint64_t rep) { return hv::scalar(t.borrow(t.descriptor), rep); }

  Val open(uint64_t base, std::string path, std::vector<std::string_view> oflags,
           std::vector<std::string_view> dflags) {
    return method("open-at", base,
                  {flags(t.path_flags, {}), str(std::move(path)), flags(t.open_flags, oflags),
                   flags(t.descriptor_flags, dflags)},
                  t.own(t.descriptor));
  }
  uint64_t opened(uint64_t base, std::string path, std::vector<std::string_view> oflags,
                  std::vector<std::string_view> dflags) {
    Val r = open(base, std::move(path), std::move(oflags), std::move(dflags));
    REQUIRE(r.case_index == 0);
    return r.items.at(0).bits;
  }

  // Runs the host work posted so far (the runtime's scheduler would).
  void settle() {
    rt.settle([] { return true; });
  }

  // One copy into `buffer` from the guest's side of a stream or future.
  std::pair<CopyResult, std::unique_ptr<HostBuffer>> take(HostEnd& end, std::unique_ptr<HostBuffer> buffer) {
    std::optional<std::pair<CopyResult, std::unique_ptr<HostBuffer>>> got;
    end.copy(std::move(buffer), [&](CopyResult r, std::unique_ptr<HostBuffer> b) { got.emplace(r, std::move(b)); });
    settle();
    REQUIRE(got.has_value());
    return std::move(*got);
  }
  // Everything a byte stream gives until the host drops its end.
  std::string drain(HostEnd& end, uint32_t chunk = 4096) {
    std::string all;
    for (;;) {
      auto [r, b] = take(end, std::make_unique<HostBuffer>(t.u8, chunk));
      all += b->received_bytes();
      if (r == CopyResult::DROPPED) return all;
      REQUIRE(r == CopyResult::COMPLETED);
    }
  }
  // The error-code label of a future<result<_, error-code>>'s value, or "ok".
  std::string outcome_of(const Val& future) {
    std::unique_ptr<HostEnd> end = rt.host_readable(future);
    auto [r, b] = take(*end, std::make_unique<HostBuffer>(t.outcome, 1));
    REQUIRE(r == CopyResult::COMPLETED);
    REQUIRE(b->received_values().size() == 1);
    return outcome(b->received_values()[0]);
  }
  static std::string outcome(const Val& r) {
    return r.case_index == 0 ? "ok" : std::string(hv::case_label(r.items.at(0)));
  }

  // write-via-stream (offset) or append-via-stream (none) of `data`, the
  // guest dropping its end after; the future's outcome.
  std::string write(uint64_t file, std::string data, std::optional<uint64_t> offset) {
    auto [stream, end] = rt.host_stream(t.byte_stream);
    std::vector<Val> args{stream};
    if (offset) args.push_back(u64(*offset));
    Val future = call(offset ? "write-via-stream" : "append-via-stream", file, std::move(args), t.outcome_future);
    if (!data.empty()) {
      auto [r, b] = take(*end, std::make_unique<HostBuffer>(t.u8, std::move(data)));
      if (r != CopyResult::COMPLETED) CHECK(r == CopyResult::DROPPED);  // the host refused it
    }
    end.reset();
    settle();
    return outcome_of(future);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("p3 filesystem: shared methods answer with 0.3's types", "[wasi][p3]") {
  Fixture f;
  Val st = f.method("stat-at", f.dir, {f.flags(f.t.path_flags, {}), f.str("hello.txt")}, f.t.stat);
  REQUIRE(Fixture::outcome(st) == "ok");
  CHECK(hv::case_label(hv::field(st.items[0], "type")) == "regular-file");
  CHECK(hv::field(st.items[0], "size").bits == 5);
  const Val& mtime = *hv::option(hv::field(st.items[0], "data-modification-timestamp"));
  CHECK(mtime.type == f.t.instant);
  CHECK(static_cast<int64_t>(hv::field(mtime, "seconds").bits) > 0);

  // error-code is a variant here; paths stay in the sandbox.
  CHECK(Fixture::outcome(f.open(f.dir, "missing", {}, {"read"})) == "no-entry");
  CHECK(Fixture::outcome(f.open(f.dir, "../outside", {}, {"read"})) == "not-permitted");
  CHECK(Fixture::outcome(f.open(f.dir, "hello.txt", {"create", "exclusive"}, {"write"})) == "exist");

  // A fifo has a type of its own (preview1 has none).
  REQUIRE(mkfifo((f.root / "sandbox/pipe").c_str(), 0600) == 0);
  Val fifo = f.method("stat-at", f.dir, {f.flags(f.t.path_flags, {}), f.str("pipe")}, f.t.stat);
  CHECK(hv::case_label(hv::field(fifo.items[0], "type")) == "fifo");

  Val type = f.method("get-type", f.dir, {}, f.t.descriptor_type);
  CHECK(hv::case_label(type.items[0]) == "directory");

  // is-same-object is an async func returning a plain bool.
  uint64_t a = f.opened(f.dir, "hello.txt", {}, {"read"});
  uint64_t b = f.opened(f.dir, "hello.txt", {}, {"read"});
  const Type* boolean = f.t.prim(TypeKind::Bool);
  CHECK(f.call("is-same-object", a, {f.borrow(b)}, boolean).bits == 1);
  CHECK(f.call("is-same-object", a, {f.borrow(f.dir)}, boolean).bits == 0);

  Val h1 = f.method("metadata-hash", a, {}, f.t.hash);
  Val h2 = f.method("metadata-hash-at", f.dir, {f.flags(f.t.path_flags, {}), f.str("hello.txt")}, f.t.hash);
  REQUIRE(Fixture::outcome(h1) == "ok");
  CHECK(hv::field(h1.items[0], "lower").bits == hv::field(h2.items[0], "lower").bits);
  CHECK(hv::field(h1.items[0], "upper").bits == hv::field(h2.items[0], "upper").bits);

  Val times = f.method("set-times", a,
                       {hv::variant(f.t.new_timestamp, "timestamp",
                                    hv::record(f.t.instant, {hv::scalar(f.t.prim(TypeKind::S64), 1000),
                                                             hv::scalar(f.t.prim(TypeKind::U32), 5)})),
                        hv::variant(f.t.new_timestamp, "no-change")});
  CHECK(Fixture::outcome(times) == "ok");
  struct stat hs;
  REQUIRE(::stat((f.root / "sandbox/hello.txt").c_str(), &hs) == 0);
  CHECK(hs.st_atim.tv_sec == 1000);
  CHECK(hs.st_atim.tv_nsec == 5);
}

TEST_CASE("p3 filesystem: error codes without a case of their own are io", "[wasi][p3]") {
  FsTypes t;
  using wasi::common::Errno;
  CHECK(hv::case_label(wasi::common::error_code(t.error_code, Errno::NoEnt)) == "no-entry");
  CHECK(hv::case_label(wasi::common::error_code(t.error_code, Errno::Again)) == "io");  // 0.3 has no would-block
  CHECK(hv::case_label(wasi::common::error_code(t.error_code, Errno::Canceled)) == "io");
  const Type* p2_codes = t.enum_({"would-block", "io"});
  CHECK(hv::case_label(wasi::common::error_code(p2_codes, Errno::Again)) == "would-block");
}

TEST_CASE("p3 filesystem: read-via-stream pumps the file from an offset", "[wasi][p3]") {
  Fixture f;
  std::string big;
  for (int i = 0; i < 200000; ++i) big += static_cast<char>('a' + i % 26);
  std::ofstream(f.root / "sandbox/big.bin") << big;
  uint64_t file = f.opened(f.dir, "big.bin", {}, {"read"});
  const Type* rt = f.t.tuple({f.t.byte_stream, f.t.outcome_future});

  Val r = f.call("read-via-stream", file, {f.u64(10)}, rt);
  std::unique_ptr<HostEnd> data = f.rt.host_readable(r.items[0]);
  CHECK(f.drain(*data, 7000) == big.substr(10));
  CHECK(f.outcome_of(r.items[1]) == "ok");

  // Past the end: nothing, and success.
  Val past = f.call("read-via-stream", file, {f.u64(1u << 30)}, rt);
  CHECK(f.drain(*f.rt.host_readable(past.items[0])).empty());
  CHECK(f.outcome_of(past.items[1]) == "ok");

  // A reader that leaves early stops the pump; the future still settles.
  Val early = f.call("read-via-stream", file, {f.u64(0)}, rt);
  {
    std::unique_ptr<HostEnd> e = f.rt.host_readable(early.items[0]);
    auto [res, b] = f.take(*e, std::make_unique<HostBuffer>(f.t.u8, 100));
    CHECK(res == CopyResult::COMPLETED);
    CHECK(b->received_bytes() == big.substr(0, 100));
  }
  f.settle();
  CHECK(f.outcome_of(early.items[1]) == "ok");

  // Not readable: the stream ends at once and the future has the error.
  uint64_t wo = f.opened(f.dir, "big.bin", {}, {"write"});
  Val denied = f.call("read-via-stream", wo, {f.u64(0)}, rt);
  CHECK(f.drain(*f.rt.host_readable(denied.items[0])).empty());
  CHECK(f.outcome_of(denied.items[1]) == "bad-descriptor");
  Val of_dir = f.call("read-via-stream", f.dir, {f.u64(0)}, rt);
  CHECK(f.drain(*f.rt.host_readable(of_dir.items[0])).empty());
  CHECK(f.outcome_of(of_dir.items[1]) == "is-directory");
  CHECK(f.st->ops.size() == 0);
}

TEST_CASE("p3 filesystem: write-via-stream and append-via-stream", "[wasi][p3]") {
  Fixture f;
  uint64_t file = f.opened(f.dir, "hello.txt", {}, {"read", "write"});
  CHECK(f.write(file, "XY", 1) == "ok");
  CHECK(slurp(f.root / "sandbox/hello.txt") == "hXYlo");
  CHECK(f.write(file, "123", 7) == "ok");  // past the end: a hole of zeros
  CHECK(slurp(f.root / "sandbox/hello.txt") == std::string("hXYlo\0\0" "123", 10));
  CHECK(f.write(file, "!!", std::nullopt) == "ok");
  CHECK(slurp(f.root / "sandbox/hello.txt") == std::string("hXYlo\0\0" "123!!", 12));
  CHECK(f.write(file, "", 0) == "ok");  // nothing written, nothing changed
  CHECK(fs::file_size(f.root / "sandbox/hello.txt") == 12);

  uint64_t ro = f.opened(f.dir, "hello.txt", {}, {"read"});
  CHECK(f.write(ro, "no", 0) == "bad-descriptor");
  CHECK(f.write(ro, "no", std::nullopt) == "bad-descriptor");
  CHECK(fs::file_size(f.root / "sandbox/hello.txt") == 12);
  CHECK(f.st->ops.size() == 0);
}

TEST_CASE("p3 filesystem: descriptor flags default as 0.3 says", "[wasi][p3]") {
  Fixture f;
  auto flags_of = [&](uint64_t d) {
    Val r = f.method("get-flags", d, {}, f.t.descriptor_flags);
    REQUIRE(Fixture::outcome(r) == "ok");
    std::string set;
    for (const char* l : {"read", "write", "mutate-directory"})
      if (hv::has_flag(r.items[0], l)) set += std::string(set.empty() ? "" : "|") + l;
    return set;
  };
  CHECK(flags_of(f.dir) == "read|mutate-directory");
  // Neither read nor write: read. A directory may mutate only when asked.
  CHECK(flags_of(f.opened(f.dir, ".", {}, {})) == "read");
  CHECK(flags_of(f.opened(f.dir, "sub", {}, {"read", "mutate-directory"})) == "read|mutate-directory");
  CHECK(flags_of(f.opened(f.dir, "hello.txt", {"exclusive"}, {})) == "read");
  CHECK(flags_of(f.opened(f.dir, "hello.txt", {}, {"write"})) == "write");
  // Creating implies write (and, unless only write was asked for, read).
  CHECK(flags_of(f.opened(f.dir, "c1", {"create", "exclusive"}, {})) == "read|write");
  CHECK(flags_of(f.opened(f.dir, "c2", {"create", "exclusive"}, {"read"})) == "read|write");
  uint64_t c3 = f.opened(f.dir, "c3", {"create", "exclusive"}, {"write"});
  CHECK(flags_of(c3) == "write");
  CHECK(f.write(c3, "w", 0) == "ok");
  CHECK(slurp(f.root / "sandbox/c3") == "w");
}

TEST_CASE("p3 filesystem: a read-only preopen refuses writes", "[wasi][p3]") {
  Fixture f(true);
  CHECK(Fixture::outcome(f.open(f.dir, "hello.txt", {}, {"write"})) == "read-only");
  CHECK(Fixture::outcome(f.method("create-directory-at", f.dir, {f.str("d")})) == "read-only");
  Val flags = f.method("get-flags", f.dir, {}, f.t.descriptor_flags);
  CHECK(!hv::has_flag(flags.items[0], "mutate-directory"));
}

TEST_CASE("p3 filesystem: read-directory streams the entries", "[wasi][p3]") {
  Fixture f;
  const Type* rt = f.t.tuple({f.t.entry_stream, f.t.outcome_future});
  Val r = f.call("read-directory", f.dir, {}, rt);
  std::unique_ptr<HostEnd> entries = f.rt.host_readable(r.items[0]);
  // One entry per copy: the host gives the rest on the next.
  std::map<std::string, std::string> got;
  for (;;) {
    auto [res, b] = f.take(*entries, std::make_unique<HostBuffer>(f.t.entry, 1));
    for (const Val& e : b->received_values())
      got[hv::field(e, "name").str] = std::string(hv::case_label(hv::field(e, "type")));
    if (res == CopyResult::DROPPED) break;
    REQUIRE(res == CopyResult::COMPLETED);
  }
  CHECK(got == std::map<std::string, std::string>{{"hello.txt", "regular-file"}, {"sub", "directory"}});
  CHECK(f.outcome_of(r.items[1]) == "ok");

  // An empty directory: the stream just ends.
  uint64_t sub = f.opened(f.dir, "sub", {"directory"}, {"read"});
  Val empty = f.call("read-directory", sub, {}, rt);
  auto [res, b] = f.take(*f.rt.host_readable(empty.items[0]), std::make_unique<HostBuffer>(f.t.entry, 8));
  CHECK(res == CopyResult::DROPPED);
  CHECK(f.outcome_of(empty.items[1]) == "ok");

  // A name that is not UTF-8 cannot be given: the listing stops with an error.
  fs::create_directories(f.root / "sandbox/bad");
  std::ofstream(f.root / "sandbox/bad/\xff");
  uint64_t bad = f.opened(f.dir, "bad", {"directory"}, {"read"});
  Val bad_names = f.call("read-directory", bad, {}, rt);
  auto [res1, b1] = f.take(*f.rt.host_readable(bad_names.items[0]), std::make_unique<HostBuffer>(f.t.entry, 8));
  CHECK(res1 == CopyResult::DROPPED);
  CHECK(f.outcome_of(bad_names.items[1]) == "illegal-byte-sequence");

  uint64_t file = f.opened(f.dir, "hello.txt", {}, {"read"});
  Val not_dir = f.call("read-directory", file, {}, rt);
  auto [res2, b2] = f.take(*f.rt.host_readable(not_dir.items[0]), std::make_unique<HostBuffer>(f.t.entry, 8));
  CHECK(res2 == CopyResult::DROPPED);
  CHECK(f.outcome_of(not_dir.items[1]) == "not-directory");
  CHECK(f.st->ops.size() == 0);
}
