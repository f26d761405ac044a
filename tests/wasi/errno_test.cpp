#include <catch2/catch.hpp>

#include <cerrno>

#include "wasi/common/errno.h"

using namespace weft::wasi::common;

TEST_CASE("host errno values map to WASI's numbering", "[wasi][errno]") {
  CHECK(from_host_errno(0) == Errno::Success);
  CHECK(static_cast<int>(from_host_errno(E2BIG)) == 1);
  CHECK(static_cast<int>(from_host_errno(EACCES)) == 2);
  CHECK(static_cast<int>(from_host_errno(EAGAIN)) == 6);
  CHECK(static_cast<int>(from_host_errno(EBADF)) == 8);
  CHECK(static_cast<int>(from_host_errno(EEXIST)) == 20);
  CHECK(static_cast<int>(from_host_errno(EFAULT)) == 21);
  CHECK(static_cast<int>(from_host_errno(EINVAL)) == 28);
  CHECK(static_cast<int>(from_host_errno(EISDIR)) == 31);
  CHECK(static_cast<int>(from_host_errno(ELOOP)) == 32);
  CHECK(static_cast<int>(from_host_errno(ENAMETOOLONG)) == 37);
  CHECK(static_cast<int>(from_host_errno(ENOENT)) == 44);
  CHECK(static_cast<int>(from_host_errno(ENOTDIR)) == 54);
  CHECK(static_cast<int>(from_host_errno(ENOTEMPTY)) == 55);
  CHECK(static_cast<int>(from_host_errno(ENOTSOCK)) == 57);
  CHECK(static_cast<int>(from_host_errno(EOPNOTSUPP)) == 58);
  CHECK(static_cast<int>(from_host_errno(EPERM)) == 63);
  CHECK(static_cast<int>(from_host_errno(EPIPE)) == 64);
  CHECK(static_cast<int>(from_host_errno(EROFS)) == 69);
  CHECK(static_cast<int>(from_host_errno(ESPIPE)) == 70);
  CHECK(static_cast<int>(from_host_errno(EXDEV)) == 75);
  CHECK(static_cast<int>(Errno::NotCapable) == 76);
  // Values with no WASI counterpart become Io.
  CHECK(from_host_errno(ENOKEY) == Errno::Io);
  errno = ENOENT;
  CHECK(last_error() == Errno::NoEnt);
}
