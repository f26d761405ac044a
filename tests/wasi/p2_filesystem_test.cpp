// The WASI 0.2 host's wasi:filesystem: descriptor methods, preopens, file
// streams and error codes, called directly with hand-made component types
// (as the WIT declares them) over a temporary directory.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "base/error.h"
#include "p2_support.h"
#include "wasi/p2/state.h"

using namespace weft;
using namespace weft::testing;  // Type, TypeKind, Val, WitTypes, HostCaller
using wasi::p2::State;
using wasi::p2::StreamStatus;
namespace hv = component::host_values;
namespace fs = std::filesystem;

namespace {

// The WIT types of wasi:filesystem/types, built once per fixture.
struct FsTypes : WitTypes {
  const Type* u64 = prim(TypeKind::U64);
  const Type* u32 = prim(TypeKind::U32);
  const Type* string = prim(TypeKind::String);
  const Type* descriptor = resource();
  const Type* dir_stream = resource();
  const Type* stream = resource();
  const Type* error = resource();
  const Type* error_code = enum_(
      {"access", "would-block", "already", "bad-descriptor", "busy", "deadlock", "quota", "exist", "file-too-large",
       "illegal-byte-sequence", "in-progress", "interrupted", "invalid", "io", "is-directory", "loop",
       "too-many-links", "message-size", "name-too-long", "no-device", "no-entry", "no-lock", "insufficient-memory",
       "insufficient-space", "not-directory", "not-empty", "not-recoverable", "unsupported", "no-tty",
       "no-such-device", "overflow", "not-permitted", "pipe", "read-only", "invalid-seek", "text-file-busy",
       "cross-device"});
  const Type* descriptor_type = enum_({"unknown", "block-device", "character-device", "directory", "fifo",
                                       "symbolic-link", "regular-file", "socket"});
  const Type* descriptor_flags = flags({"read", "write", "file-integrity-sync", "data-integrity-sync",
                                        "requested-write-sync", "mutate-directory"});
  const Type* path_flags = flags({"symlink-follow"});
  const Type* open_flags = flags({"create", "directory", "exclusive", "truncate"});
  const Type* datetime = record({{"seconds", u64}, {"nanoseconds", u32}});
  const Type* stat = record({{"type", descriptor_type}, {"link-count", u64}, {"size", u64},
                             {"data-access-timestamp", option(datetime)},
                             {"data-modification-timestamp", option(datetime)},
                             {"status-change-timestamp", option(datetime)}});
  const Type* new_timestamp = variant({{"no-change", nullptr}, {"now", nullptr}, {"timestamp", datetime}});
  const Type* entry = record({{"type", descriptor_type}, {"name", string}});
  const Type* hash = record({{"lower", u64}, {"upper", u64}});
  const Type* bytes = list(prim(TypeKind::U8));
};

struct Fixture {
  fs::path root;
  loop::Reactor reactor;
  wasi::common::WasiConfig config;
  std::unique_ptr<State> st;
  FsTypes t;
  HostCaller caller{t};
  component::Host& host = caller.host;
  uint64_t dir = 0;  // the preopen's rep

  explicit Fixture(bool read_only = false) {
    std::string tmpl = (fs::temp_directory_path() / "weft-p2fs-XXXXXX").string();
    root = mkdtemp(tmpl.data());
    fs::create_directories(root / "sandbox/sub");
    fs::create_directories(root / "outside");
    std::ofstream(root / "sandbox/hello.txt") << "hello";
    std::ofstream(root / "outside/secret") << "secret";
    config.preopens.push_back({(root / "sandbox").string(), "/sandbox", read_only});
    st = std::make_unique<State>(reactor, config);
    wasi::p2::open_preopens(*st);
    wasi::p2::add_io(host, *st);
    wasi::p2::add_filesystem(host, *st);
    Val dirs = call("wasi:filesystem/preopens@0.2.0", "get-directories", {},
                    t.list(t.tuple({t.own(t.descriptor), t.string})));
    REQUIRE(dirs.items.size() == 1);
    CHECK(dirs.items[0].items[1].str == "/sandbox");
    dir = dirs.items[0].items[0].bits;
  }
  ~Fixture() { fs::remove_all(root); }

  Val call(const char* iface, const std::string& name, std::vector<Val> args, const Type* result) {
    return caller.call(iface, name, std::move(args), result);
  }
  // Calls a descriptor method returning result<ok, error-code>.
  Val method(const char* name, uint64_t self, std::vector<Val> args, const Type* ok = nullptr) {
    args.insert(args.begin(), hv::scalar(t.borrow(t.descriptor), self));
    return call("wasi:filesystem/types@0.2.3", std::string("[method]descriptor.") + name, std::move(args),
                t.result(ok, t.error_code));
  }

  Val str(std::string s) { return hv::string(t.string, std::move(s)); }
  Val u64(uint64_t v) { return hv::scalar(t.u64, v); }
  Val bytes(std::string_view s) { return hv::bytes(t.bytes, s); }
  Val flags(const Type* ft, std::vector<std::string_view> set) { return hv::flags(ft, set); }
  Val path_flags(bool follow) { return follow ? flags(t.path_flags, {"symlink-follow"}) : flags(t.path_flags, {}); }
  Val borrow(uint64_t rep) { return hv::scalar(t.borrow(t.descriptor), rep); }

  Val open(uint64_t base, std::string path, std::vector<std::string_view> oflags,
           std::vector<std::string_view> dflags, bool follow = false) {
    return method("open-at", base,
                  {path_flags(follow), str(std::move(path)), flags(t.open_flags, oflags),
                   flags(t.descriptor_flags, dflags)},
                  t.own(t.descriptor));
  }
  // The descriptor of a successful open.
  uint64_t opened(uint64_t base, std::string path, std::vector<std::string_view> oflags,
                  std::vector<std::string_view> dflags) {
    Val r = open(base, std::move(path), std::move(oflags), std::move(dflags));
    REQUIRE(r.case_index == 0);
    return r.items.at(0).bits;
  }
};

// The error-code label of a failed result, or "ok".
std::string outcome(const Val& r) {
  if (r.case_index == 0) return "ok";
  return std::string(hv::case_label(r.items.at(0)));
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("p2 filesystem: files are created, written through streams and read back", "[wasi][p2]") {
  Fixture f;
  uint64_t file = f.opened(f.dir, "new.txt", {"create", "exclusive"}, {"read", "write"});
  Val w = f.method("write-via-stream", file, {f.u64(0)}, f.t.own(f.t.stream));
  REQUIRE(outcome(w) == "ok");
  wasi::p2::OutputStream& out = f.st->output_streams.get(w.items[0].bits);
  uint64_t permitted = 0;
  REQUIRE(out.check_write(permitted).kind == StreamStatus::Kind::Ok);
  CHECK(permitted > 0);
  REQUIRE(out.write("0123456789").kind == StreamStatus::Kind::Ok);
  REQUIRE(out.flush().kind == StreamStatus::Kind::Ok);
  CHECK(slurp(f.root / "sandbox/new.txt") == "0123456789");

  // A second stream at an offset overwrites in place; an append stream appends.
  Val w2 = f.method("write-via-stream", file, {f.u64(2)}, f.t.own(f.t.stream));
  REQUIRE(f.st->output_streams.get(w2.items[0].bits).write("ab").kind == StreamStatus::Kind::Ok);
  Val a = f.method("append-via-stream", file, {}, f.t.own(f.t.stream));
  REQUIRE(f.st->output_streams.get(a.items[0].bits).write("XY").kind == StreamStatus::Kind::Ok);
  CHECK(slurp(f.root / "sandbox/new.txt") == "01ab456789XY");

  // Reading from offset 8 to the end, then end of stream.
  Val r = f.method("read-via-stream", file, {f.u64(8)}, f.t.own(f.t.stream));
  wasi::p2::InputStream& in = f.st->input_streams.get(r.items[0].bits);
  std::string got;
  CHECK(in.read(100, got).kind == StreamStatus::Kind::Ok);
  CHECK(got == "89XY");
  CHECK(in.read(100, got).kind == StreamStatus::Kind::Closed);
  CHECK(in.readiness()->ready());

  // pread / pwrite without an offset of their own.
  const Type* read_ok = f.t.tuple({f.t.bytes, f.t.prim(TypeKind::Bool)});
  Val pr = f.method("read", file, {f.u64(3), f.u64(1)}, read_ok);
  REQUIRE(outcome(pr) == "ok");
  CHECK(pr.items[0].items[0].str == "1ab");
  CHECK(pr.items[0].items[1].bits == 0);
  pr = f.method("read", file, {f.u64(100), f.u64(10)}, read_ok);
  CHECK(pr.items[0].items[0].str == "XY");
  CHECK(pr.items[0].items[1].bits == 1);  // end of file
  pr = f.method("read", file, {f.u64(0), f.u64(0)}, read_ok);
  CHECK(pr.items[0].items[0].str.empty());
  CHECK(pr.items[0].items[1].bits == 0);  // nothing asked is not the end
  Val pw = f.method("write", file, {f.bytes("zz"), f.u64(12)}, f.t.u64);
  CHECK(pw.items[0].bits == 2);
  CHECK(slurp(f.root / "sandbox/new.txt") == "01ab456789XYzz");

  Val st = f.method("stat", file, {}, f.t.stat);
  REQUIRE(outcome(st) == "ok");
  CHECK(hv::case_label(hv::field(st.items[0], "type")) == "regular-file");
  CHECK(hv::field(st.items[0], "size").bits == 14);
  CHECK(hv::field(st.items[0], "link-count").bits == 1);

  CHECK(outcome(f.method("set-size", file, {f.u64(3)})) == "ok");
  CHECK(slurp(f.root / "sandbox/new.txt") == "01a");
  CHECK(outcome(f.method("sync", file, {})) == "ok");
  CHECK(outcome(f.method("sync-data", file, {})) == "ok");

  // Creating it again exclusively fails.
  CHECK(outcome(f.open(f.dir, "new.txt", {"create", "exclusive"}, {"write"})) == "exist");
}

TEST_CASE("p2 filesystem: access follows the descriptor flags", "[wasi][p2]") {
  Fixture f;
  uint64_t ro = f.opened(f.dir, "hello.txt", {}, {"read"});
  CHECK(outcome(f.method("write-via-stream", ro, {f.u64(0)}, f.t.own(f.t.stream))) == "bad-descriptor");
  CHECK(outcome(f.method("append-via-stream", ro, {}, f.t.own(f.t.stream))) == "bad-descriptor");
  CHECK(outcome(f.method("write", ro, {f.bytes("x"), f.u64(0)}, f.t.u64)) == "bad-descriptor");
  CHECK(outcome(f.method("set-size", ro, {f.u64(0)})) == "bad-descriptor");
  uint64_t wo = f.opened(f.dir, "hello.txt", {}, {"write"});
  CHECK(outcome(f.method("read-via-stream", wo, {f.u64(0)}, f.t.own(f.t.stream))) == "bad-descriptor");
  // Directories are not files, files are not directories.
  CHECK(outcome(f.method("read-via-stream", f.dir, {f.u64(0)}, f.t.own(f.t.stream))) == "is-directory");
  CHECK(outcome(f.method("read-directory", ro, {}, f.t.own(f.t.dir_stream))) == "not-directory");
  CHECK(outcome(f.open(ro, "x", {}, {"read"})) == "not-directory");
  CHECK(outcome(f.open(f.dir, "hello.txt", {"directory"}, {"read"})) == "not-directory");

  Val flags = f.method("get-flags", wo, {}, f.t.descriptor_flags);
  CHECK(hv::has_flag(flags.items[0], "write"));
  CHECK_FALSE(hv::has_flag(flags.items[0], "read"));
  flags = f.method("get-flags", f.dir, {}, f.t.descriptor_flags);
  CHECK(hv::has_flag(flags.items[0], "mutate-directory"));
  CHECK(hv::case_label(f.method("get-type", f.dir, {}, f.t.descriptor_type).items[0]) == "directory");
  CHECK(hv::case_label(f.method("get-type", ro, {}, f.t.descriptor_type).items[0]) == "regular-file");
}

TEST_CASE("p2 filesystem: paths stay inside the preopen", "[wasi][p2]") {
  Fixture f;
  CHECK(outcome(f.open(f.dir, "../outside/secret", {}, {"read"})) == "not-permitted");
  CHECK(outcome(f.open(f.dir, "/etc/passwd", {}, {"read"})) == "not-permitted");
  CHECK(outcome(f.open(f.dir, "sub/../../outside/secret", {}, {"read"})) == "not-permitted");
  CHECK(outcome(f.open(f.dir, "missing", {}, {"read"})) == "no-entry");

  fs::create_symlink("../outside/secret", f.root / "sandbox/escape");
  CHECK(outcome(f.open(f.dir, "escape", {}, {"read"}, true)) == "not-permitted");
  CHECK(outcome(f.open(f.dir, "escape", {}, {"read"}, false)) == "loop");  // the link itself, not followed
  CHECK(outcome(f.method("readlink-at", f.dir, {f.str("escape")}, f.t.string)) == "ok");

  // Symlinks are created, read and followed inside.
  CHECK(outcome(f.method("symlink-at", f.dir, {f.str("/etc/passwd"), f.str("abs")})) == "not-permitted");
  CHECK(outcome(f.method("symlink-at", f.dir, {f.str("hello.txt"), f.str("link")})) == "ok");
  Val target = f.method("readlink-at", f.dir, {f.str("link")}, f.t.string);
  CHECK(target.items[0].str == "hello.txt");
  fs::create_symlink("/etc/passwd", f.root / "sandbox/host-abs");
  CHECK(outcome(f.method("readlink-at", f.dir, {f.str("host-abs")}, f.t.string)) == "not-permitted");
  Val st = f.method("stat-at", f.dir, {f.path_flags(false), f.str("link")}, f.t.stat);
  CHECK(hv::case_label(hv::field(st.items[0], "type")) == "symbolic-link");
  st = f.method("stat-at", f.dir, {f.path_flags(true), f.str("link")}, f.t.stat);
  CHECK(hv::case_label(hv::field(st.items[0], "type")) == "regular-file");
  CHECK(hv::field(st.items[0], "size").bits == 5);
}

TEST_CASE("p2 filesystem: directories are made, listed, renamed and removed", "[wasi][p2]") {
  Fixture f;
  CHECK(outcome(f.method("create-directory-at", f.dir, {f.str("d")})) == "ok");
  CHECK(outcome(f.method("create-directory-at", f.dir, {f.str("d")})) == "exist");
  CHECK(fs::is_directory(f.root / "sandbox/d"));
  uint64_t d = f.opened(f.dir, "d", {"directory"}, {"read"});
  uint64_t file = f.opened(d, "f", {"create"}, {"write"});
  CHECK(outcome(f.method("link-at", d, {f.path_flags(false), f.str("f"), f.borrow(f.dir), f.str("hard")})) == "ok");
  CHECK(fs::hard_link_count(f.root / "sandbox/hard") == 2);

  Val ds = f.method("read-directory", f.dir, {}, f.t.own(f.t.dir_stream));
  REQUIRE(outcome(ds) == "ok");
  std::set<std::string> names;
  for (;;) {
    Val e = f.call("wasi:filesystem/types@0.2.0", "[method]directory-entry-stream.read-directory-entry",
                   {hv::scalar(f.t.borrow(f.t.dir_stream), ds.items[0].bits)},
                   f.t.result(f.t.option(f.t.entry), f.t.error_code));
    REQUIRE(outcome(e) == "ok");
    const Val* entry = hv::option(e.items[0]);
    if (!entry) break;
    std::string name = hv::field(*entry, "name").str;
    names.insert(name);
    if (name == "d") CHECK(hv::case_label(hv::field(*entry, "type")) == "directory");
    if (name == "hello.txt") CHECK(hv::case_label(hv::field(*entry, "type")) == "regular-file");
  }
  CHECK(names == std::set<std::string>{"d", "hard", "hello.txt", "sub"});

  CHECK(outcome(f.method("remove-directory-at", f.dir, {f.str("d")})) == "not-empty");
  CHECK(outcome(f.method("unlink-file-at", f.dir, {f.str("d")})) == "is-directory");
  CHECK(outcome(f.method("unlink-file-at", f.dir, {f.str("hello.txt/")})) == "not-directory");
  CHECK(outcome(f.method("rename-at", d, {f.str("f"), f.borrow(f.dir), f.str("moved")})) == "ok");
  CHECK(fs::exists(f.root / "sandbox/moved"));
  // The descriptor still names the renamed file.
  Val same = f.call("wasi:filesystem/types@0.2.0", "[method]descriptor.is-same-object",
                    {f.borrow(file), f.borrow(f.opened(f.dir, "moved", {}, {"read"}))}, f.t.prim(TypeKind::Bool));
  CHECK(same.bits == 1);
  same = f.call("wasi:filesystem/types@0.2.0", "[method]descriptor.is-same-object", {f.borrow(file), f.borrow(f.dir)},
                f.t.prim(TypeKind::Bool));
  CHECK(same.bits == 0);
  CHECK(outcome(f.method("unlink-file-at", f.dir, {f.str("moved")})) == "ok");
  CHECK(outcome(f.method("unlink-file-at", f.dir, {f.str("hard")})) == "ok");
  CHECK(outcome(f.method("remove-directory-at", f.dir, {f.str("d")})) == "ok");
  CHECK_FALSE(fs::exists(f.root / "sandbox/d"));
}

TEST_CASE("p2 filesystem: timestamps and metadata hashes", "[wasi][p2]") {
  Fixture f;
  uint64_t file = f.opened(f.dir, "hello.txt", {}, {"read", "write"});
  const Type* dt = f.t.datetime;
  Val when = hv::record(dt, {f.u64(1000000000), hv::scalar(f.t.u32, 5)});
  Val set = hv::variant(f.t.new_timestamp, "timestamp", when);
  Val keep = hv::variant(f.t.new_timestamp, "no-change");
  CHECK(outcome(f.method("set-times", file, {keep, set})) == "ok");
  struct stat st;
  REQUIRE(::stat((f.root / "sandbox/hello.txt").c_str(), &st) == 0);
  CHECK(st.st_mtim.tv_sec == 1000000000);
  CHECK(st.st_mtim.tv_nsec == 5);
  Val s = f.method("stat", file, {}, f.t.stat);
  const Val* mtime = hv::option(hv::field(s.items[0], "data-modification-timestamp"));
  REQUIRE(mtime);
  CHECK(hv::field(*mtime, "seconds").bits == 1000000000);
  CHECK(hv::field(*mtime, "nanoseconds").bits == 5);

  Val bad = hv::variant(f.t.new_timestamp, "timestamp", hv::record(dt, {f.u64(1), hv::scalar(f.t.u32, 1000000000)}));
  CHECK(outcome(f.method("set-times", file, {bad, keep})) == "invalid");
  CHECK(outcome(f.method("set-times-at", f.dir,
                         {f.path_flags(false), f.str("sub"), set, hv::variant(f.t.new_timestamp, "now")})) == "ok");
  REQUIRE(::stat((f.root / "sandbox/sub").c_str(), &st) == 0);
  CHECK(st.st_atim.tv_sec == 1000000000);

  // The hash names the file: the same through a path or a descriptor, and
  // unchanged by writes; another file hashes differently.
  Val h1 = f.method("metadata-hash", file, {}, f.t.hash);
  Val h2 = f.method("metadata-hash-at", f.dir, {f.path_flags(false), f.str("hello.txt")}, f.t.hash);
  REQUIRE(outcome(h1) == "ok");
  CHECK(hv::field(h1.items[0], "lower").bits == hv::field(h2.items[0], "lower").bits);
  CHECK(hv::field(h1.items[0], "upper").bits == hv::field(h2.items[0], "upper").bits);
  f.method("write", file, {f.bytes("more"), f.u64(5)}, f.t.u64);
  Val h3 = f.method("metadata-hash", file, {}, f.t.hash);
  CHECK(hv::field(h1.items[0], "lower").bits == hv::field(h3.items[0], "lower").bits);
  Val h4 = f.method("metadata-hash-at", f.dir, {f.path_flags(false), f.str("sub")}, f.t.hash);
  CHECK(hv::field(h1.items[0], "lower").bits != hv::field(h4.items[0], "lower").bits);
  CHECK(outcome(f.method("metadata-hash-at", f.dir, {f.path_flags(false), f.str("nope")}, f.t.hash)) == "no-entry");
}

TEST_CASE("p2 filesystem: a read-only preopen refuses every change", "[wasi][p2]") {
  Fixture f(true);
  Val flags = f.method("get-flags", f.dir, {}, f.t.descriptor_flags);
  CHECK_FALSE(hv::has_flag(flags.items[0], "mutate-directory"));
  CHECK(outcome(f.open(f.dir, "hello.txt", {}, {"read", "write"})) == "read-only");
  CHECK(outcome(f.open(f.dir, "new", {"create"}, {"read"})) == "read-only");
  CHECK(outcome(f.open(f.dir, "hello.txt", {"truncate"}, {"read"})) == "read-only");
  CHECK(outcome(f.open(f.dir, "sub", {"directory"}, {"read", "mutate-directory"})) == "read-only");
  CHECK(outcome(f.method("create-directory-at", f.dir, {f.str("d")})) == "read-only");
  CHECK(outcome(f.method("unlink-file-at", f.dir, {f.str("hello.txt")})) == "read-only");
  CHECK(outcome(f.method("remove-directory-at", f.dir, {f.str("sub")})) == "read-only");
  CHECK(outcome(f.method("symlink-at", f.dir, {f.str("hello.txt"), f.str("l")})) == "read-only");
  CHECK(outcome(f.method("rename-at", f.dir, {f.str("hello.txt"), f.borrow(f.dir), f.str("x")})) == "read-only");
  // Subdirectories inherit it; reading still works.
  uint64_t sub = f.opened(f.dir, "sub", {"directory"}, {"read"});
  CHECK(outcome(f.method("create-directory-at", sub, {f.str("d")})) == "read-only");
  uint64_t file = f.opened(f.dir, "hello.txt", {}, {"read"});
  Val r = f.method("read-via-stream", file, {f.u64(0)}, f.t.own(f.t.stream));
  std::string got;
  f.st->input_streams.get(r.items[0].bits).read(10, got);
  CHECK(got == "hello");
  CHECK(outcome(f.method("set-times", file, {hv::variant(f.t.new_timestamp, "now"),
                                             hv::variant(f.t.new_timestamp, "now")})) == "read-only");
  CHECK(slurp(f.root / "sandbox/hello.txt") == "hello");
  CHECK_FALSE(fs::exists(f.root / "sandbox/d"));
}

TEST_CASE("p2 filesystem: stream errors carry a filesystem error code", "[wasi][p2]") {
  Fixture f;
  const Type* ret = f.t.option(f.t.error_code);
  auto code = [&](wasi::common::Errno e) {
    uint32_t rep = f.st->errors.add(std::make_unique<wasi::p2::IoError>(wasi::p2::IoError{e, "x"}));
    return f.call("wasi:filesystem/types@0.2.0", "filesystem-error-code", {hv::scalar(f.t.borrow(f.t.error), rep)},
                  ret);
  };
  Val v = code(wasi::common::Errno::NoSpc);
  REQUIRE(hv::option(v));
  CHECK(hv::case_label(*hv::option(v)) == "insufficient-space");
  CHECK(hv::case_label(*hv::option(code(wasi::common::Errno::RoFs))) == "read-only");
  CHECK(hv::case_label(*hv::option(code(wasi::common::Errno::AddrInUse))) == "io");  // no such code
  // Every errno maps to a label the WIT enum has (a wrong one would trap).
  for (uint16_t e = 1; e <= static_cast<uint16_t>(wasi::common::Errno::NotCapable); ++e)
    CHECK_NOTHROW(code(static_cast<wasi::common::Errno>(e)));

  // A write the file system refuses fails the stream, which is closed from then on.
  uint64_t file = f.opened(f.dir, "hello.txt", {}, {"write"});
  Val far = f.method("write-via-stream", file, {f.u64(uint64_t{1} << 62)}, f.t.own(f.t.stream));
  wasi::p2::OutputStream& bad = f.st->output_streams.get(far.items[0].bits);
  StreamStatus s = bad.write("x");
  CHECK(s.kind == StreamStatus::Kind::Failed);
  CHECK(s.error == wasi::common::Errno::FBig);
  uint64_t permitted = 1;
  CHECK(bad.check_write(permitted).kind == StreamStatus::Kind::Closed);

  // Streams share the open file: dropping the descriptor first leaves them working.
  Val w = f.method("write-via-stream", file, {f.u64(0)}, f.t.own(f.t.stream));
  const auto* resource = f.host.find("wasi:filesystem/types@0.2.0")->find_resource("descriptor");
  REQUIRE(resource);
  resource->drop(static_cast<uint32_t>(file));
  CHECK_THROWS_AS(f.method("stat", file, {}, f.t.stat), engine::Trap);
  REQUIRE(f.st->output_streams.get(w.items[0].bits).write("x").kind == StreamStatus::Kind::Ok);
  CHECK(slurp(f.root / "sandbox/hello.txt") == "xello");
}

TEST_CASE("p2 filesystem: a preopen that cannot be opened is a usage error", "[wasi][p2]") {
  loop::Reactor reactor;
  wasi::common::WasiConfig config;
  config.preopens.push_back({"/nonexistent/weft-dir", "/x", false});
  State st(reactor, config);
  CHECK_THROWS_AS(wasi::p2::open_preopens(st), Error);
  try {
    wasi::p2::open_preopens(st);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Usage);
    CHECK(std::string(e.what()).find("/nonexistent/weft-dir") != std::string::npos);
  }
}
