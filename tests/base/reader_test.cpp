#include <catch2/catch.hpp>

#include "base/reader.h"
#include "base/utf8.h"

using weft::Error;
using weft::Reader;

namespace {
Reader reader_of(const std::vector<uint8_t>& v) { return Reader(std::span<const uint8_t>(v)); }
}  // namespace

TEST_CASE("uleb decodes values and rejects overlong or oversized encodings", "[reader]") {
  std::vector<uint8_t> ok = {0xe5, 0x8e, 0x26};
  CHECK(reader_of(ok).u32() == 624485);
  std::vector<uint8_t> max32 = {0xff, 0xff, 0xff, 0xff, 0x0f};
  CHECK(reader_of(max32).u32() == 0xffffffffu);
  std::vector<uint8_t> too_large = {0xff, 0xff, 0xff, 0xff, 0x1f};
  CHECK_THROWS_WITH(reader_of(too_large).u32(), "integer too large");
  std::vector<uint8_t> too_long = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  CHECK_THROWS_WITH(reader_of(too_long).u32(), "integer representation too long");
  std::vector<uint8_t> truncated = {0x80};
  CHECK_THROWS_WITH(reader_of(truncated).u32(), "unexpected end");
}

TEST_CASE("sleb sign-extends and checks the unused bits of the last byte", "[reader]") {
  std::vector<uint8_t> minus1 = {0x7f};
  CHECK(reader_of(minus1).s32() == -1);
  std::vector<uint8_t> min32 = {0x80, 0x80, 0x80, 0x80, 0x78};
  CHECK(reader_of(min32).s32() == INT32_MIN);
  std::vector<uint8_t> bad = {0x80, 0x80, 0x80, 0x80, 0x70};
  CHECK_THROWS_WITH(reader_of(bad).s32(), "integer too large");
  std::vector<uint8_t> min64 = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f};
  CHECK(reader_of(min64).s64() == INT64_MIN);
  std::vector<uint8_t> s33 = {0xff, 0xff, 0xff, 0xff, 0x0f};
  CHECK(reader_of(s33).s33() == 0xffffffffll);
}

TEST_CASE("utf8 validation rejects overlongs, surrogates and truncation", "[utf8]") {
  auto valid = [](std::initializer_list<uint8_t> b) {
    std::vector<uint8_t> v(b);
    return weft::utf8::valid(v);
  };
  CHECK(valid({'a', 0xc3, 0xa9}));
  CHECK(valid({0xf0, 0x9f, 0x98, 0x80}));
  CHECK_FALSE(valid({0xc0, 0x80}));        // overlong NUL
  CHECK_FALSE(valid({0xed, 0xa0, 0x80}));  // surrogate
  CHECK_FALSE(valid({0xf4, 0x90, 0x80, 0x80}));  // > U+10FFFF
  CHECK_FALSE(valid({0xe2, 0x82}));        // truncated
}
