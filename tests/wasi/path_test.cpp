// Path resolution inside a preopen: every way out is refused with the
// errno WASI programs expect, and the resolver never touches anything
// outside the base directory.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "wasi/common/path.h"

using namespace weft::wasi::common;
namespace fs = std::filesystem;

namespace {

// tmp/outside/secret and tmp/sandbox/{a/file, links...}; `base` is an open
// descriptor on tmp/sandbox.
struct Sandbox {
  fs::path root;
  int base = -1;

  Sandbox() {
    std::string tmpl = (fs::temp_directory_path() / "weft-path-XXXXXX").string();
    root = mkdtemp(tmpl.data());
    fs::create_directories(root / "outside");
    fs::create_directories(root / "sandbox/a/b");
    std::ofstream(root / "outside/secret") << "secret";
    std::ofstream(root / "sandbox/a/file") << "inside";
    fs::create_symlink("../outside", root / "sandbox/out");
    fs::create_symlink("/etc", root / "sandbox/abs");
    fs::create_symlink("loop2", root / "sandbox/loop1");
    fs::create_symlink("loop1", root / "sandbox/loop2");
    fs::create_symlink("a", root / "sandbox/inner");
    fs::create_symlink("..", root / "sandbox/a/up");
    fs::create_symlink("../..", root / "sandbox/a/upup");
    fs::create_symlink("missing", root / "sandbox/dangling");
    base = open((root / "sandbox").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  ~Sandbox() {
    close(base);
    fs::remove_all(root);
  }

  Errno resolve(const std::string& path, bool follow, ResolvedPath* out = nullptr) {
    ResolvedPath r;
    Errno e = resolve_path(base, path, follow, r);
    if (out) *out = std::move(r);
    return e;
  }
};

}  // namespace

TEST_CASE("path resolution stays inside the base directory", "[wasi][path]") {
  Sandbox sb;

  SECTION("plain and dotted paths resolve") {
    ResolvedPath r;
    REQUIRE(sb.resolve("a/file", false, &r) == Errno::Success);
    CHECK(r.name == "file");
    CHECK(r.dir != sb.base);
    REQUIRE(sb.resolve("a/./b/../file", false, &r) == Errno::Success);
    CHECK(r.name == "file");
    REQUIRE(sb.resolve(".", false, &r) == Errno::Success);
    CHECK(r.name == ".");
    CHECK(r.dir == sb.base);
    REQUIRE(sb.resolve("a/..", false, &r) == Errno::Success);
    CHECK(r.name == ".");
    CHECK(r.dir == sb.base);
    REQUIRE(sb.resolve("a//b///", false, &r) == Errno::Success);
    CHECK(r.name == "b");
    CHECK(r.trailing_slash);
    CHECK(r.final_name() == "b/");
  }

  SECTION("escapes are refused") {
    CHECK(sb.resolve("..", false) == Errno::Perm);
    CHECK(sb.resolve("../outside/secret", false) == Errno::Perm);
    CHECK(sb.resolve("a/../../outside/secret", false) == Errno::Perm);
    CHECK(sb.resolve("a/b/../../..", false) == Errno::Perm);
    CHECK(sb.resolve("/etc/passwd", false) == Errno::Perm);
    CHECK(sb.resolve("/", false) == Errno::Perm);
    CHECK(sb.resolve("out/secret", false) == Errno::Perm);
    CHECK(sb.resolve("out", true) == Errno::Perm);
    CHECK(sb.resolve("abs/passwd", false) == Errno::Perm);
    CHECK(sb.resolve("abs", true) == Errno::Perm);
    CHECK(sb.resolve("abs/", false) == Errno::Perm);
    CHECK(sb.resolve("a/upup/outside", false) == Errno::Perm);
  }

  SECTION("symlinks inside the sandbox are followed") {
    ResolvedPath r;
    REQUIRE(sb.resolve("inner/file", false, &r) == Errno::Success);
    CHECK(r.name == "file");
    REQUIRE(sb.resolve("a/up/a/file", false, &r) == Errno::Success);
    CHECK(r.name == "file");
    // Without follow the link itself is the result.
    REQUIRE(sb.resolve("abs", false, &r) == Errno::Success);
    CHECK(r.name == "abs");
    REQUIRE(sb.resolve("inner", true, &r) == Errno::Success);
    CHECK(r.name == "a");
    // A dangling link resolves to its (missing) target, for O_CREAT.
    REQUIRE(sb.resolve("dangling", true, &r) == Errno::Success);
    CHECK(r.name == "missing");
  }

  SECTION("loops, bad names and non-directories") {
    CHECK(sb.resolve("loop1", true) == Errno::Loop);
    CHECK(sb.resolve("loop1/x", false) == Errno::Loop);
    CHECK(sb.resolve("loop1/", false) == Errno::Loop);
    CHECK(sb.resolve("", false) == Errno::NoEnt);
    CHECK(sb.resolve(std::string("a\0b", 3), false) == Errno::Inval);
    CHECK(sb.resolve(std::string(300, 'x') + "/y", false) == Errno::NameTooLong);
    CHECK(sb.resolve(std::string(300, 'x'), false) == Errno::NameTooLong);
    CHECK(sb.resolve(std::string(5000, 'a'), false) == Errno::NameTooLong);
    CHECK(sb.resolve("a/file/x", false) == Errno::NotDir);
    CHECK(sb.resolve("nothere/x", false) == Errno::NoEnt);
  }

  SECTION("a chain of kMaxSymlinks links resolves, one more is a loop") {
    // Link i points to link i-1; link 0 points to "a".
    auto name = [](int i) { return std::to_string(i) + ".link"; };
    for (int i = 0; i <= kMaxSymlinks; ++i) fs::create_symlink(i == 0 ? std::string("a") : name(i - 1), sb.root / "sandbox" / name(i));
    CHECK(sb.resolve(name(kMaxSymlinks - 1) + "/file", false) == Errno::Success);
    CHECK(sb.resolve(name(kMaxSymlinks) + "/file", false) == Errno::Loop);
  }
}
