// preview1 host functions called directly, with a memory standing in for a
// guest's: descriptor numbering, readdir cookies, sandboxed path calls and
// bad guest pointers.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "engine/store.h"
#include "loop/reactor.h"
#include "wasi/common/descriptor.h"
#include "wasi/p1/host.h"

using namespace weft;
using wasm::ValType;
namespace fs = std::filesystem;

namespace {

constexpr uint32_t kFault = 21, kBadF = 8, kPerm = 63, kNotCapable = 76, kRoFs = 69;

struct Fixture {
  fs::path root;
  engine::Store store;
  loop::Reactor reactor;
  wasi::common::WasiConfig config;
  std::unique_ptr<wasi::p1::Host> host;
  engine::Instance instance;
  engine::Memory* memory = nullptr;
  uint32_t dir_fd = 3;  // the first preopen

  explicit Fixture(bool read_only = false) {
    std::string tmpl = (fs::temp_directory_path() / "weft-p1-XXXXXX").string();
    root = mkdtemp(tmpl.data());
    fs::create_directories(root / "sandbox");
    fs::create_directories(root / "outside");
    std::ofstream(root / "outside/secret") << "secret";
    config.args = {"prog", "x"};
    config.preopens.push_back({(root / "sandbox").string(), "/", read_only});
    host = std::make_unique<wasi::p1::Host>(store, reactor, config);
    wasm::MemoryType mt;
    mt.limits.min = 1;
    memory = store.create_memory(mt);
    instance.memories.push_back(memory);
  }
  ~Fixture() { fs::remove_all(root); }

  // Calls `name` with i32/i64 arguments as its type says; returns the errno.
  uint32_t call(const char* name, std::initializer_list<uint64_t> args,
                const char* module = "wasi_snapshot_preview1") {
    wasm::FuncType type;
    for (const Entry& e : kSigs)
      if (std::strcmp(e.name, name) == 0)
        for (const char* p = e.params; *p; ++p) type.params.push_back(*p == 'I' ? ValType::I64 : ValType::I32);
    type.results = {ValType::I32};
    if (std::strcmp(name, "proc_exit") == 0) type.results.clear();
    auto ext = host->resolve(module, name, type);
    REQUIRE(ext);
    uint64_t slots[16] = {};
    size_t i = 0;
    for (uint64_t a : args) slots[i++] = a;
    engine::HostCall hc{store, &instance, slots};
    ext->func->host->fn(hc);
    return static_cast<uint32_t>(slots[0]);
  }
  uint32_t put(uint32_t at, const std::string& s) {
    std::memcpy(memory->data() + at, s.data(), s.size());
    return static_cast<uint32_t>(s.size());
  }
  uint32_t u32(uint32_t at) const {
    uint32_t v;
    std::memcpy(&v, memory->data() + at, 4);
    return v;
  }
  uint64_t u64(uint32_t at) const {
    uint64_t v;
    std::memcpy(&v, memory->data() + at, 8);
    return v;
  }

  struct Entry {
    const char* name;
    const char* params;
  };
  static constexpr Entry kSigs[] = {
      {"fd_close", "i"},          {"fd_renumber", "ii"},         {"fd_prestat_get", "ii"},
      {"fd_readdir", "iiiIi"},    {"path_open", "iiiiiIIii"},    {"path_create_directory", "iii"},
      {"path_link", "iiiiiii"},   {"path_rename", "iiiiii"},     {"path_symlink", "iiiii"},
      {"path_unlink_file", "iii"}, {"fd_write", "iiii"},         {"args_sizes_get", "ii"},
      {"proc_exit", "i"},         {"path_filestat_get", "iiiii"}, {"fd_fdstat_set_rights", "iII"},
      {"fd_seek", "iIii"},
  };
};

std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

}  // namespace

TEST_CASE("descriptor table numbering and renumber", "[wasi][fd]") {
  wasi::common::DescriptorTable t;
  using wasi::common::Descriptor;
  using wasi::common::FileType;
  CHECK(t.insert(Descriptor::borrow(0, FileType::CharacterDevice)) == 0);
  CHECK(t.insert(Descriptor::borrow(1, FileType::CharacterDevice)) == 1);
  CHECK(t.insert(Descriptor::borrow(2, FileType::CharacterDevice)) == 2);
  CHECK(t.insert(Descriptor::own(dup(1), FileType::Unknown)) == 3);
  CHECK(t.renumber(3, 1) == wasi::common::Errno::Success);
  CHECK(t.get(3) == nullptr);
  CHECK(t.get(1)->type == FileType::Unknown);
  CHECK(t.renumber(3, 1) == wasi::common::Errno::BadF);
  CHECK(t.renumber(1, 7) == wasi::common::Errno::BadF);
  CHECK(t.remove(1));
  CHECK_FALSE(t.remove(1));
  // The lowest free number is reused.
  CHECK(t.insert(Descriptor::borrow(1, FileType::CharacterDevice)) == 1);
}

TEST_CASE("p1 fd_readdir continues from cookies across calls", "[wasi][p1]") {
  Fixture f;
  std::set<std::string> expected = {".", ".."};
  for (int i = 0; i < 40; ++i) {
    std::string name = "entry-with-a-longish-name-" + std::to_string(i);
    std::ofstream(f.root / "sandbox" / name) << i;
    expected.insert(name);
  }
  std::set<std::string> seen;
  uint64_t cookie = 0;
  const uint32_t buf = 1024, used_at = 64, len = 200;  // a few entries per call
  for (int calls = 0; calls < 1000; ++calls) {
    REQUIRE(f.call("fd_readdir", {f.dir_fd, buf, len, cookie, used_at}) == 0);
    uint32_t used = f.u32(used_at);
    uint32_t pos = 0;
    while (pos + 24 <= used) {
      uint64_t next = f.u64(buf + pos);
      uint32_t namlen = f.u32(buf + pos + 16);
      if (pos + 24 + namlen > used) break;  // cut off: asked for again from `cookie`
      std::string name(reinterpret_cast<char*>(f.memory->data() + buf + pos + 24), namlen);
      CHECK(seen.insert(name).second);
      cookie = next;
      pos += 24 + namlen;
    }
    if (used < len) break;
  }
  CHECK(seen == expected);
}

TEST_CASE("p1 fd_renumber works over stdio", "[wasi][p1]") {
  Fixture f;
  CHECK(f.call("fd_renumber", {f.dir_fd, 1}) == 0);
  CHECK(f.call("fd_prestat_get", {1, 0}) == 0);       // fd 1 is now the preopen
  CHECK(f.call("fd_prestat_get", {f.dir_fd, 0}) == kBadF);
  CHECK(f.call("fd_close", {f.dir_fd}) == kBadF);
  CHECK(f.call("fd_renumber", {1, 99}) == kBadF);
}

TEST_CASE("p1 path calls cannot reach outside the preopen", "[wasi][p1][sandbox]") {
  Fixture f;
  auto before = listing(f.root / "outside");
  const uint32_t p = 256, q = 512, out = 16;
  uint32_t n = f.put(p, "../outside/secret");
  CHECK(f.call("path_open", {f.dir_fd, 1, p, n, 0, 2, 0, 0, out}) == kPerm);
  CHECK(f.call("path_filestat_get", {f.dir_fd, 1, p, n, 0}) == kPerm);
  CHECK(f.call("path_unlink_file", {f.dir_fd, p, n}) == kPerm);
  n = f.put(p, "/etc/passwd");
  CHECK(f.call("path_open", {f.dir_fd, 1, p, n, 0, 2, 0, 0, out}) == kPerm);

  // A symlink pointing outside can be made (it is only text) but not used.
  uint32_t t = f.put(q, "../outside");
  uint32_t l = f.put(p, "escape");
  REQUIRE(f.call("path_symlink", {q, t, f.dir_fd, p, l}) == 0);
  l = f.put(p, "escape/secret");
  CHECK(f.call("path_open", {f.dir_fd, 1, p, l, 0, 2, 0, 0, out}) == kPerm);
  CHECK(f.call("path_open", {f.dir_fd, 1, p, l, 1 /*creat*/, 64, 0, 0, out}) == kPerm);
  uint32_t nn = f.put(q, "stolen");
  CHECK(f.call("path_link", {f.dir_fd, 1, p, l, f.dir_fd, q, nn}) == kPerm);
  CHECK(f.call("path_rename", {f.dir_fd, p, l, f.dir_fd, q, nn}) == kPerm);
  l = f.put(p, "escape");
  CHECK(f.call("path_open", {f.dir_fd, 1, p, l, 2 /*directory*/, 0, 0, 0, out}) == kPerm);

  // Renaming or linking into the outside is refused the same way.
  std::ofstream(f.root / "sandbox/mine") << "x";
  l = f.put(p, "mine");
  nn = f.put(q, "../outside/mine");
  CHECK(f.call("path_rename", {f.dir_fd, p, l, f.dir_fd, q, nn}) == kPerm);
  CHECK(f.call("path_link", {f.dir_fd, 0, p, l, f.dir_fd, q, nn}) == kPerm);
  nn = f.put(q, "escape/mine");
  CHECK(f.call("path_rename", {f.dir_fd, p, l, f.dir_fd, q, nn}) == kPerm);

  CHECK(listing(f.root / "outside") == before);
  std::ifstream secret(f.root / "outside/secret");
  std::string content;
  secret >> content;
  CHECK(content == "secret");
}

TEST_CASE("p1 read-only preopens refuse changes", "[wasi][p1][sandbox]") {
  Fixture f(true);
  const uint32_t p = 256, out = 16;
  uint32_t n = f.put(p, "new");
  CHECK(f.call("path_create_directory", {f.dir_fd, p, n}) == kRoFs);
  CHECK(f.call("path_open", {f.dir_fd, 0, p, n, 1 /*creat*/, 64, 0, 0, out}) == kRoFs);
  CHECK(listing(f.root / "sandbox").empty());
}

TEST_CASE("p1 bad guest pointers give fault, not a crash", "[wasi][p1]") {
  Fixture f;
  CHECK(f.call("args_sizes_get", {0xfffffff0u, 0}) == kFault);
  CHECK(f.call("fd_write", {1, 65534, 1, 0}) == kFault);  // iovec array runs off the end
  uint32_t iov = 100;
  std::memcpy(f.memory->data() + iov, "\xf0\xff\x00\x00\x20\x00\x00\x00", 8);  // buffer at 65520, 32 bytes
  CHECK(f.call("fd_write", {1, iov, 1, 0}) == kFault);
  CHECK(f.call("fd_prestat_get", {f.dir_fd, 70000}) == kFault);
}

TEST_CASE("p1 rights only shrink", "[wasi][p1]") {
  Fixture f;
  CHECK(f.call("fd_fdstat_set_rights", {f.dir_fd, 0, 0}) == 0);
  CHECK(f.call("fd_fdstat_set_rights", {f.dir_fd, 1, 0}) == kNotCapable);
  const uint32_t p = 256;
  uint32_t n = f.put(p, "x");
  CHECK(f.call("path_open", {f.dir_fd, 0, p, n, 1, 0, 0, 0, 16}) == kNotCapable);
}

TEST_CASE("p1 proc_exit ends the program with its code", "[wasi][p1]") {
  Fixture f;
  try {
    f.call("proc_exit", {7});
    FAIL("proc_exit returned");
  } catch (const engine::ExitRequest& e) {
    CHECK(e.code == 7);
  }
}

TEST_CASE("wasi_unstable: its own filestat layout and whence numbering", "[wasi][p1]") {
  Fixture f;
  std::ofstream(f.root / "sandbox/file") << "0123456789";
  const uint32_t p = 256, out = 16, stat = 512, pos = 600;
  uint32_t n = f.put(p, "file");
  std::memset(f.memory->data() + stat, 0xee, 64);
  REQUIRE(f.call("path_filestat_get", {f.dir_fd, 0, p, n, stat}, "wasi_unstable") == 0);
  CHECK(f.memory->data()[stat + 16] == 4);  // regular file
  CHECK(f.u32(stat + 20) == 1);             // 32-bit nlink
  CHECK(f.u64(stat + 24) == 10);            // size
  CHECK(f.memory->data()[stat + 56] == 0xee);  // 56 bytes, not 64
  REQUIRE(f.call("path_filestat_get", {f.dir_fd, 0, p, n, stat}) == 0);
  CHECK(f.u64(stat + 24) == 1);   // preview1: 64-bit nlink
  CHECK(f.u64(stat + 32) == 10);  // then size

  REQUIRE(f.call("path_open", {f.dir_fd, 0, p, n, 0, 2 /*read*/, 0, 0, out}) == 0);
  uint32_t fd = f.u32(out);
  // wasi_unstable whence: 0 = cur, 1 = end, 2 = set.
  REQUIRE(f.call("fd_seek", {fd, 3, 2, pos}, "wasi_unstable") == 0);
  CHECK(f.u64(pos) == 3);
  REQUIRE(f.call("fd_seek", {fd, 2, 0, pos}, "wasi_unstable") == 0);
  CHECK(f.u64(pos) == 5);
  REQUIRE(f.call("fd_seek", {fd, static_cast<uint64_t>(-1), 1, pos}, "wasi_unstable") == 0);
  CHECK(f.u64(pos) == 9);
  // preview1: 0 = set.
  REQUIRE(f.call("fd_seek", {fd, 1, 0, pos}) == 0);
  CHECK(f.u64(pos) == 1);
}

TEST_CASE("p1 resolve refuses unknown names and wrong types", "[wasi][p1]") {
  Fixture f;
  wasm::FuncType t{{ValType::I32}, {ValType::I32}};
  CHECK(f.host->resolve("wasi_snapshot_preview1", "fd_close", t));
  CHECK(f.host->resolve("wasi_unstable", "fd_close", t));
  CHECK_FALSE(f.host->resolve("wasi_snapshot_preview1", "fd_nonexistent", t));
  CHECK_FALSE(f.host->resolve("env", "fd_close", t));
  CHECK_FALSE(f.host->resolve("wasi_snapshot_preview1", "fd_close", wasm::FuncType{{ValType::I64}, {ValType::I32}}));
}
