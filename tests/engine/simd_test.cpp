#include "engine/simd.h"

#include <array>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <set>

#include "wasm/opcodes.h"

using weft::engine::V128;
using namespace weft::engine::simd;

namespace {

template <typename T, size_t N = 16 / sizeof(T)>
V128 vec(const std::array<T, N>& l) {
  V128 r;
  std::memcpy(r.bytes, l.data(), 16);
  return r;
}

template <typename T>
std::array<T, 16 / sizeof(T)> lanes(const V128& v) {
  std::array<T, 16 / sizeof(T)> l;
  std::memcpy(l.data(), v.bytes, 16);
  return l;
}

u32 bits(f32 x) { return std::bit_cast<u32>(x); }
u64 bits(f64 x) { return std::bit_cast<u64>(x); }

// Float lanes as raw bits, so -0 and NaN payloads compare exactly.
std::array<u32, 4> f32_bits(std::array<f32, 4> l) { return {bits(l[0]), bits(l[1]), bits(l[2]), bits(l[3])}; }
std::array<u64, 2> f64_bits(std::array<f64, 2> l) { return {bits(l[0]), bits(l[1])}; }

constexpr f32 kInf = std::numeric_limits<f32>::infinity();
constexpr f64 kInf64 = std::numeric_limits<f64>::infinity();
const f32 kNan = std::bit_cast<f32>(u32(0x7fc00000));
const f32 kNegNan = std::bit_cast<f32>(u32(0xffc00000));
const f32 kSNan = std::bit_cast<f32>(u32(0x7fa00001));  // signalling, with payload

bool is_nan(u32 b) { return (b & 0x7f800000) == 0x7f800000 && (b & 0x007fffff) != 0; }
bool is_canonical_nan(u32 b) { return (b & 0x7fffffff) == 0x7fc00000; }
bool is_arithmetic_nan(u32 b) { return is_nan(b) && (b & 0x00400000) != 0; }
bool is_nan64(u64 b) {
  return (b & 0x7ff0000000000000) == 0x7ff0000000000000 && (b & 0x000fffffffffffff) != 0;
}

// The function simd_ops.def names for a relaxed op, so the mapping is tested.
using Unary = V128 (*)(V128);
using Binary = V128 (*)(V128, V128);
using Ternary = V128 (*)(V128, V128, V128);
Unary unary_fn(weft::wasm::Op op) {
#define SIMD_UNARY(N, fn) \
  if (op == weft::wasm::Op::N) return fn;
#include "engine/simd_ops.def"
  return nullptr;
}
Binary binary_fn(weft::wasm::Op op) {
#define SIMD_BINARY(N, fn) \
  if (op == weft::wasm::Op::N) return fn;
#include "engine/simd_ops.def"
  return nullptr;
}
Ternary ternary_fn(weft::wasm::Op op) {
#define SIMD_TERNARY(N, fn) \
  if (op == weft::wasm::Op::N) return fn;
#include "engine/simd_ops.def"
  return nullptr;
}

}  // namespace

TEST_CASE("simd_ops.def lists every non-memory SIMD instruction once", "[simd]") {
  using weft::wasm::Imm;
  using weft::wasm::Op;
  std::multiset<Op> listed;
#define SIMD_CONST(N) listed.insert(Op::N);
#define SIMD_UNARY(N, fn) listed.insert(Op::N);
#define SIMD_BINARY(N, fn) listed.insert(Op::N);
#define SIMD_TERNARY(N, fn) listed.insert(Op::N);
#define SIMD_SHIFT(N, fn) listed.insert(Op::N);
#define SIMD_TEST(N, fn) listed.insert(Op::N);
#define SIMD_SPLAT(N, fn) listed.insert(Op::N);
#define SIMD_EXTRACT(N, fn) listed.insert(Op::N);
#define SIMD_REPLACE(N, fn) listed.insert(Op::N);
#define SIMD_SHUFFLE(N, fn) listed.insert(Op::N);
#include "engine/simd_ops.def"
  std::multiset<Op> expected;
  for (uint16_t i = 0; i < static_cast<uint16_t>(Op::Count_); ++i) {
    const auto& info = weft::wasm::op_info(static_cast<Op>(i));
    if (info.prefix == 0xfd && info.imm != Imm::MemArg && info.imm != Imm::MemArgLane)
      expected.insert(static_cast<Op>(i));
  }
  CHECK(listed == expected);
  CHECK(listed.size() == 234);
}

TEST_CASE("simd_ops.def functions have the documented signatures", "[simd]") {
  // Compiles only if each fn matches its shape; counts the shapes.
  int n[10] = {};
#define SIMD_CONST(N) ++n[0];
#define SIMD_UNARY(N, fn) \
  {                       \
    V128 (*f)(V128) = fn; \
    (void)f;              \
    ++n[1];               \
  }
#define SIMD_BINARY(N, fn)      \
  {                             \
    V128 (*f)(V128, V128) = fn; \
    (void)f;                    \
    ++n[2];                     \
  }
#define SIMD_TERNARY(N, fn)           \
  {                                   \
    V128 (*f)(V128, V128, V128) = fn; \
    (void)f;                          \
    ++n[3];                           \
  }
#define SIMD_SHIFT(N, fn)           \
  {                                 \
    V128 (*f)(V128, uint32_t) = fn; \
    (void)f;                        \
    ++n[4];                         \
  }
#define SIMD_TEST(N, fn)      \
  {                           \
    uint32_t (*f)(V128) = fn; \
    (void)f;                  \
    ++n[5];                   \
  }
#define SIMD_SPLAT(N, fn)     \
  {                           \
    V128 (*f)(uint64_t) = fn; \
    (void)f;                  \
    ++n[6];                   \
  }
#define SIMD_EXTRACT(N, fn)             \
  {                                     \
    uint64_t (*f)(V128, uint32_t) = fn; \
    (void)f;                            \
    ++n[7];                             \
  }
#define SIMD_REPLACE(N, fn)                   \
  {                                           \
    V128 (*f)(V128, uint32_t, uint64_t) = fn; \
    (void)f;                                  \
    ++n[8];                                   \
  }
#define SIMD_SHUFFLE(N, fn)                     \
  {                                             \
    V128 (*f)(V128, V128, const uint8_t*) = fn; \
    (void)f;                                    \
    ++n[9];                                     \
  }
#include "engine/simd_ops.def"
  CHECK(n[0] == 1);
  CHECK(n[1] + n[2] + n[3] + n[4] + n[5] + n[6] + n[7] + n[8] + n[9] == 233);
}

TEST_CASE("v128 bitwise ops", "[simd]") {
  const V128 a = vec<u64>({0xff00ff00ff00ff00, 0x0123456789abcdef});
  const V128 b = vec<u64>({0xf0f0f0f0f0f0f0f0, 0xffffffff00000000});
  CHECK(lanes<u64>(v128_not(a)) == std::array<u64, 2>{0x00ff00ff00ff00ff, 0xfedcba9876543210});
  CHECK(lanes<u64>(v128_andnot(a, b)) == std::array<u64, 2>{0x0f000f000f000f00, 0x0000000089abcdef});
  const V128 m = vec<u64>({0xffffffff00000000, 0x00000000ffffffff});
  CHECK(lanes<u64>(v128_bitselect(a, b, m)) == std::array<u64, 2>{0xff00ff00f0f0f0f0, 0xffffffff89abcdef});
  CHECK(v128_any_true(vec<u64>({0, 0})) == 0);
  CHECK(v128_any_true(vec<u64>({0, u64(1) << 63})) == 1);
}

TEST_CASE("saturating add and sub at the limits", "[simd]") {
  const V128 a = vec<i8>({127, -128, 100, -100, 0, 1, -1, 127, 0, 0, 0, 0, 0, 0, 0, 0});
  const V128 b = vec<i8>({1, -1, 100, -100, 0, -1, 1, -128, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i8>(i8x16_add_sat_s(a, b)) ==
        std::array<i8, 16>{127, -128, 127, -128, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i8>(i8x16_sub_sat_s(a, b)) ==
        std::array<i8, 16>{126, -127, 0, 0, 0, 2, -2, 127, 0, 0, 0, 0, 0, 0, 0, 0});
  const V128 c = vec<u8>({255, 200, 0, 1, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  const V128 d = vec<u8>({1, 100, 1, 2, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<u8>(i8x16_add_sat_u(c, d)) ==
        std::array<u8, 16>{255, 255, 1, 3, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<u8>(i8x16_sub_sat_u(c, d)) ==
        std::array<u8, 16>{254, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  const V128 e = vec<i16>({32767, -32768, 32767, -32768, 0, 0, 0, 0});
  const V128 f = vec<i16>({1, -1, -32768, 32767, 0, 0, 0, 0});
  CHECK(lanes<i16>(i16x8_add_sat_s(e, f)) == std::array<i16, 8>{32767, -32768, -1, -1, 0, 0, 0, 0});
  CHECK(lanes<i16>(i16x8_sub_sat_s(e, f)) == std::array<i16, 8>{32766, -32767, 32767, -32768, 0, 0, 0, 0});
  const V128 g = vec<u16>({65535, 0, 40000, 1, 0, 0, 0, 0});
  const V128 h = vec<u16>({1, 1, 40000, 0, 0, 0, 0, 0});
  CHECK(lanes<u16>(i16x8_add_sat_u(g, h)) == std::array<u16, 8>{65535, 1, 65535, 1, 0, 0, 0, 0});
  CHECK(lanes<u16>(i16x8_sub_sat_u(g, h)) == std::array<u16, 8>{65534, 0, 0, 1, 0, 0, 0, 0});
}

TEST_CASE("wrapping integer arithmetic, abs, min/max, avgr", "[simd]") {
  const V128 a = vec<i8>({-128, 127, -1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i8>(i8x16_abs(a)) == std::array<i8, 16>{-128, 127, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i8>(i8x16_neg(a)) == std::array<i8, 16>{-128, -127, 1, -5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i8>(i8x16_add(a, a)) == std::array<i8, 16>{0, -2, -2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i16>(
            i16x8_mul(vec<i16>({-1, 300, 256, 0, 0, 0, 0, 0}), vec<i16>({-1, 300, 256, 0, 0, 0, 0, 0}))) ==
        std::array<i16, 8>{1, 24464, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<u64>(i64x2_mul(vec<u64>({~u64(0), 1ull << 32}), vec<u64>({~u64(0), 1ull << 32}))) ==
        std::array<u64, 2>{1, 0});
  const V128 x = vec<i32>({-1, 1, INT32_MIN, 7});
  const V128 y = vec<i32>({1, -1, 0, 7});
  CHECK(lanes<i32>(i32x4_min_s(x, y)) == std::array<i32, 4>{-1, -1, INT32_MIN, 7});
  CHECK(lanes<i32>(i32x4_min_u(x, y)) == std::array<i32, 4>{1, 1, 0, 7});
  CHECK(lanes<i32>(i32x4_max_u(x, y)) == std::array<i32, 4>{-1, -1, INT32_MIN, 7});
  CHECK(lanes<u8>(i8x16_avgr_u(vec<u8>({255, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
                               vec<u8>({255, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))) ==
        std::array<u8, 16>{255, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<u16>(
            i16x8_avgr_u(vec<u16>({65535, 3, 0, 0, 0, 0, 0, 0}), vec<u16>({65534, 4, 0, 0, 0, 0, 0, 0}))) ==
        std::array<u16, 8>{65535, 4, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i64>(i64x2_abs(vec<i64>({INT64_MIN, -3}))) == std::array<i64, 2>{INT64_MIN, 3});
}

TEST_CASE("comparisons produce all-ones lanes", "[simd]") {
  const V128 a = vec<i8>({-1, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  const V128 b = vec<i8>({1, -1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<u8>(i8x16_lt_s(a, b)) ==
        std::array<u8, 16>{255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<u8>(i8x16_lt_u(a, b)) ==
        std::array<u8, 16>{0, 255, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<u64>(i64x2_ge_s(vec<i64>({-1, 5}), vec<i64>({0, 5}))) == std::array<u64, 2>{0, ~u64(0)});
  const V128 f = vec<f32>({kNan, 1.0f, -0.0f, 2.0f});
  const V128 g = vec<f32>({kNan, 2.0f, 0.0f, 1.0f});
  CHECK(lanes<u32>(f32x4_eq(f, g)) == std::array<u32, 4>{0, 0, ~0u, 0});
  CHECK(lanes<u32>(f32x4_ne(f, g)) == std::array<u32, 4>{~0u, ~0u, 0, ~0u});
  CHECK(lanes<u32>(f32x4_le(f, g)) == std::array<u32, 4>{0, ~0u, ~0u, 0});
  CHECK(lanes<u64>(f64x2_gt(vec<f64>({1.0, std::nan("")}), vec<f64>({0.5, 0.0}))) ==
        std::array<u64, 2>{~u64(0), 0});
}

TEST_CASE("narrow saturates, signed into unsigned included", "[simd]") {
  const V128 a = vec<i16>({-129, -128, 127, 128, 255, 256, -1, 0});
  const V128 b = vec<i16>({32767, -32768, 1, 2, 3, 4, 5, 6});
  CHECK(lanes<i8>(i8x16_narrow_i16x8_s(a, b)) ==
        std::array<i8, 16>{-128, -128, 127, 127, 127, 127, -1, 0, 127, -128, 1, 2, 3, 4, 5, 6});
  CHECK(lanes<u8>(i8x16_narrow_i16x8_u(a, b)) ==
        std::array<u8, 16>{0, 0, 127, 128, 255, 255, 0, 0, 255, 0, 1, 2, 3, 4, 5, 6});
  const V128 c = vec<i32>({-32769, 32768, 65535, 65536});
  const V128 d = vec<i32>({-1, 0, INT32_MAX, INT32_MIN});
  CHECK(lanes<i16>(i16x8_narrow_i32x4_s(c, d)) ==
        std::array<i16, 8>{-32768, 32767, 32767, 32767, -1, 0, 32767, -32768});
  CHECK(lanes<u16>(i16x8_narrow_i32x4_u(c, d)) == std::array<u16, 8>{0, 32768, 65535, 65535, 0, 0, 65535, 0});
}

TEST_CASE("q15mulr_sat rounds and saturates 0x8000 * 0x8000", "[simd]") {
  const V128 a = vec<i16>({-32768, -32768, 16384, 1, -1, 32767, 3, -3});
  const V128 b = vec<i16>({-32768, 32767, 16384, 16384, 16384, 32767, 16384, 16384});
  const std::array<i16, 8> want{32767, -32767, 8192, 1, 0, 32766, 2, -1};
  CHECK(lanes<i16>(i16x8_q15mulr_sat_s(a, b)) == want);
}

TEST_CASE("shift counts are taken modulo the lane width", "[simd]") {
  const V128 a = vec<i8>({-128, 64, 1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i8>(i8x16_shl(a, 9)) == std::array<i8, 16>{0, -128, 2, -2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i8>(i8x16_shr_s(a, 8)) == lanes<i8>(a));
  CHECK(lanes<i8>(i8x16_shr_s(a, 15)) ==
        std::array<i8, 16>{-1, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<u8>(i8x16_shr_u(a, 15)) == std::array<u8, 16>{1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i16>(i16x8_shr_s(vec<i16>({-32768, 4, 0, 0, 0, 0, 0, 0}), 17)) ==
        std::array<i16, 8>{-16384, 2, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i32>(i32x4_shr_s(vec<i32>({INT32_MIN, 8, -8, 1}), 33)) ==
        std::array<i32, 4>{-(1 << 30), 4, -4, 0});
  CHECK(lanes<u32>(i32x4_shr_u(vec<u32>({0x80000000, 8, 0, 1}), 0xffffffff)) ==
        std::array<u32, 4>{1, 0, 0, 0});
  CHECK(lanes<u64>(i64x2_shl(vec<u64>({1, 3}), 64)) == std::array<u64, 2>{1, 3});
  CHECK(lanes<u64>(i64x2_shl(vec<u64>({1, 3}), 127)) == std::array<u64, 2>{u64(1) << 63, u64(1) << 63});
  CHECK(lanes<i64>(i64x2_shr_s(vec<i64>({INT64_MIN, 5}), 63)) == std::array<i64, 2>{-1, 0});
}

TEST_CASE("bitmask, all_true", "[simd]") {
  CHECK(i8x16_bitmask(vec<i8>({-1, 0, -128, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -5})) == 0x8005);
  CHECK(i16x8_bitmask(vec<i16>({0, -1, 0, 0, 0, 0, 0, -32768})) == 0x82);
  CHECK(i32x4_bitmask(vec<i32>({-1, 1, INT32_MIN, 0})) == 0x5);
  CHECK(i64x2_bitmask(vec<i64>({1, -1})) == 0x2);
  CHECK(i8x16_all_true(vec<u8>({1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 128})) == 1);
  CHECK(i8x16_all_true(vec<u8>({1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1})) == 0);
  CHECK(i8x16_all_true(vec<u8>({0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})) == 0);
  CHECK(i16x8_all_true(vec<u16>({0x100, 1, 1, 1, 1, 1, 1, 0x8000})) == 1);
  CHECK(i16x8_all_true(vec<u16>({0x100, 1, 1, 1, 0, 1, 1, 1})) == 0);
  CHECK(i32x4_all_true(vec<u32>({0x10000, 1, 0x80000000, 1})) == 1);
  CHECK(i32x4_all_true(vec<u32>({1, 1, 1, 0})) == 0);
  CHECK(i64x2_all_true(vec<u64>({u64(1) << 40, 1})) == 1);
  CHECK(i64x2_all_true(vec<u64>({0, 1})) == 0);
}

TEST_CASE("popcnt, dot, extmul, extadd, extend", "[simd]") {
  CHECK(lanes<u8>(i8x16_popcnt(vec<u8>({0, 1, 3, 255, 128, 0x55, 0xf0, 7, 0, 0, 0, 0, 0, 0, 0, 0x81}))) ==
        std::array<u8, 16>{0, 1, 2, 8, 1, 4, 4, 3, 0, 0, 0, 0, 0, 0, 0, 2});
  const V128 a = vec<i16>({-32768, -32768, 1, 2, 3, -4, 32767, 32767});
  const V128 b = vec<i16>({-32768, -32768, 5, 6, 7, 8, 32767, 32767});
  CHECK(lanes<i32>(i32x4_dot_i16x8_s(a, b)) == std::array<i32, 4>{INT32_MIN, 17, -11, 2147352578});
  CHECK(lanes<i32>(i32x4_extmul_low_i16x8_s(a, b)) == std::array<i32, 4>{1 << 30, 1 << 30, 5, 12});
  CHECK(lanes<u32>(i32x4_extmul_high_i16x8_u(a, b)) ==
        std::array<u32, 4>{21, 65532u * 8, 1073676289, 1073676289});
  CHECK(lanes<i16>(
            i16x8_extmul_high_i8x16_s(vec<i8>({0, 0, 0, 0, 0, 0, 0, 0, -128, 127, -1, 0, 0, 0, 0, 2}),
                                      vec<i8>({0, 0, 0, 0, 0, 0, 0, 0, -128, -128, 127, 0, 0, 0, 0, 3}))) ==
        std::array<i16, 8>{16384, -16256, -127, 0, 0, 0, 0, 6});
  CHECK(lanes<u64>(
            i64x2_extmul_low_i32x4_u(vec<u32>({0xffffffff, 2, 0, 0}), vec<u32>({0xffffffff, 3, 0, 0}))) ==
        std::array<u64, 2>{0xfffffffe00000001, 6});
  CHECK(lanes<i64>(
            i64x2_extmul_high_i32x4_s(vec<i32>({0, 0, INT32_MIN, -1}), vec<i32>({0, 0, INT32_MIN, 5}))) ==
        std::array<i64, 2>{i64(1) << 62, -5});
  const V128 p = vec<i8>({-128, -128, 127, 127, -1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i16>(i16x8_extadd_pairwise_i8x16_s(p)) == std::array<i16, 8>{-256, 254, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<u16>(i16x8_extadd_pairwise_i8x16_u(p)) == std::array<u16, 8>{256, 254, 256, 0, 0, 0, 0, 0});
  CHECK(lanes<i32>(i32x4_extadd_pairwise_i16x8_s(a)) == std::array<i32, 4>{-65536, 3, -1, 65534});
  CHECK(lanes<u32>(i32x4_extadd_pairwise_i16x8_u(a)) == std::array<u32, 4>{65536, 3, 65535, 65534});
  CHECK(
      lanes<i16>(i16x8_extend_high_i8x16_s(vec<i8>({0, 0, 0, 0, 0, 0, 0, 0, -1, 2, -128, 0, 0, 0, 0, 9}))) ==
      std::array<i16, 8>{-1, 2, -128, 0, 0, 0, 0, 9});
  CHECK(lanes<u16>(i16x8_extend_low_i8x16_u(vec<i8>({-1, 2, -128, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0}))) ==
        std::array<u16, 8>{255, 2, 128, 0, 0, 0, 0, 9});
  CHECK(lanes<i64>(i64x2_extend_low_i32x4_s(vec<i32>({-5, INT32_MIN, 0, 0}))) ==
        std::array<i64, 2>{-5, INT32_MIN});
  CHECK(lanes<u64>(i64x2_extend_high_i32x4_u(vec<i32>({0, 0, -1, 7}))) == std::array<u64, 2>{0xffffffff, 7});
}

TEST_CASE("f32x4.min/max: NaN wins, -0 < +0; pmin/pmax keep operands", "[simd]") {
  const V128 a = vec<f32>({kNan, 1.0f, -0.0f, 0.0f});
  const V128 b = vec<f32>({1.0f, kSNan, 0.0f, -0.0f});
  const auto mn = lanes<u32>(f32x4_min(a, b));
  CHECK(is_canonical_nan(mn[0]));
  CHECK(is_arithmetic_nan(mn[1]));
  CHECK(mn[2] == bits(-0.0f));
  CHECK(mn[3] == bits(-0.0f));
  const auto mx = lanes<u32>(f32x4_max(a, b));
  CHECK(is_canonical_nan(mx[0]));
  CHECK(is_arithmetic_nan(mx[1]));
  CHECK(mx[2] == bits(0.0f));
  CHECK(mx[3] == bits(0.0f));
  CHECK(lanes<u32>(f32x4_min(vec<f32>({-kInf, 2.0f, -3.0f, 5.0f}), vec<f32>({kInf, 1.0f, 3.0f, 5.0f}))) ==
        f32_bits({-kInf, 1.0f, -3.0f, 5.0f}));
  CHECK(lanes<u64>(f64x2_max(vec<f64>({-0.0, 2.0}), vec<f64>({0.0, std::nan("")})))[0] == bits(0.0));
  CHECK(is_nan64(lanes<u64>(f64x2_max(vec<f64>({-0.0, 2.0}), vec<f64>({0.0, std::nan("")})))[1]));
  // pmin(a, b) = b < a ? b : a, bit for bit.
  CHECK(lanes<u32>(f32x4_pmin(a, b)) == f32_bits({kNan, 1.0f, -0.0f, 0.0f}));
  CHECK(lanes<u32>(f32x4_pmax(a, b)) == f32_bits({kNan, 1.0f, -0.0f, 0.0f}));
  CHECK(lanes<u32>(f32x4_pmin(b, a)) == f32_bits({1.0f, kSNan, 0.0f, -0.0f}));
  CHECK(lanes<u32>(f32x4_pmin(vec<f32>({2.0f, -1.0f, 0, 0}), vec<f32>({1.0f, 3.0f, 0, 0}))) ==
        f32_bits({1.0f, -1.0f, 0, 0}));
  CHECK(lanes<u64>(f64x2_pmax(vec<f64>({2.0, -1.0}), vec<f64>({1.0, 3.0}))) == f64_bits({2.0, 3.0}));
}

TEST_CASE("float abs/neg flip bits only", "[simd]") {
  const V128 a = vec<u32>({0x7fa00001, 0xffc00000, bits(-0.0f), bits(1.5f)});
  CHECK(lanes<u32>(f32x4_neg(a)) == std::array<u32, 4>{0xffa00001, 0x7fc00000, 0, bits(-1.5f)});
  CHECK(lanes<u32>(f32x4_abs(a)) == std::array<u32, 4>{0x7fa00001, 0x7fc00000, 0, bits(1.5f)});
  CHECK(lanes<u64>(f64x2_neg(vec<u64>({0x7ff0000000000001, 0}))) ==
        std::array<u64, 2>{0xfff0000000000001, u64(1) << 63});
  CHECK(lanes<u64>(f64x2_abs(vec<u64>({0xfff0000000000001, u64(1) << 63}))) ==
        std::array<u64, 2>{0x7ff0000000000001, 0});
}

TEST_CASE("float arithmetic", "[simd]") {
  CHECK(lanes<u32>(f32x4_add(vec<f32>({1.5f, -0.0f, kInf, 1e38f}), vec<f32>({2.25f, -0.0f, 1.0f, 1e38f}))) ==
        f32_bits({3.75f, -0.0f, kInf, 2e38f}));
  CHECK(is_nan(lanes<u32>(f32x4_sub(vec<f32>({kInf, 0, 0, 0}), vec<f32>({kInf, 0, 0, 0})))[0]));
  CHECK(lanes<u32>(f32x4_div(vec<f32>({1.0f, -1.0f, 6.0f, 0}), vec<f32>({0.0f, 0.0f, 4.0f, 1}))) ==
        f32_bits({kInf, -kInf, 1.5f, 0}));
  CHECK(lanes<u32>(f32x4_sqrt(vec<f32>({4.0f, -0.0f, kInf, 2.0f}))) ==
        f32_bits({2.0f, -0.0f, kInf, std::sqrt(2.0f)}));
  CHECK(is_nan(lanes<u32>(f32x4_sqrt(vec<f32>({-1.0f, 0, 0, 0})))[0]));
  CHECK(lanes<u64>(f64x2_mul(vec<f64>({3.0, -2.0}), vec<f64>({0.5, 0.0}))) == f64_bits({1.5, -0.0}));
}

TEST_CASE("ceil/floor/trunc/nearest: ties to even, signed zeros, big values, NaN", "[simd]") {
  const V128 a = vec<f32>({0.5f, 1.5f, 2.5f, -0.5f});
  CHECK(lanes<u32>(f32x4_nearest(a)) == f32_bits({0.0f, 2.0f, 2.0f, -0.0f}));
  CHECK(lanes<u32>(f32x4_ceil(a)) == f32_bits({1.0f, 2.0f, 3.0f, -0.0f}));
  CHECK(lanes<u32>(f32x4_floor(a)) == f32_bits({0.0f, 1.0f, 2.0f, -1.0f}));
  CHECK(lanes<u32>(f32x4_trunc(a)) == f32_bits({0.0f, 1.0f, 2.0f, -0.0f}));
  const V128 b = vec<f32>({-1.5f, -2.5f, -0.7f, 0.7f});
  CHECK(lanes<u32>(f32x4_nearest(b)) == f32_bits({-2.0f, -2.0f, -1.0f, 1.0f}));
  CHECK(lanes<u32>(f32x4_ceil(b)) == f32_bits({-1.0f, -2.0f, -0.0f, 1.0f}));
  CHECK(lanes<u32>(f32x4_floor(b)) == f32_bits({-2.0f, -3.0f, -1.0f, 0.0f}));
  CHECK(lanes<u32>(f32x4_trunc(b)) == f32_bits({-1.0f, -2.0f, -0.0f, 0.0f}));
  // 2^23 - 0.5 is the largest non-integer; beyond it every value is integral.
  const V128 c = vec<f32>({8388607.5f, -8388607.5f, 16777216.0f, -kInf});
  CHECK(lanes<u32>(f32x4_nearest(c)) == f32_bits({8388608.0f, -8388608.0f, 16777216.0f, -kInf}));
  CHECK(lanes<u32>(f32x4_floor(c)) == f32_bits({8388607.0f, -8388608.0f, 16777216.0f, -kInf}));
  CHECK(lanes<u32>(f32x4_ceil(c)) == f32_bits({8388608.0f, -8388607.0f, 16777216.0f, -kInf}));
  CHECK(lanes<u32>(f32x4_trunc(c)) == f32_bits({8388607.0f, -8388607.0f, 16777216.0f, -kInf}));
  const auto n = lanes<u32>(f32x4_floor(vec<f32>({kSNan, kNegNan, -0.0f, 1e-40f})));
  CHECK(is_arithmetic_nan(n[0]));
  CHECK(is_canonical_nan(n[1]));
  CHECK(n[2] == bits(-0.0f));
  CHECK(n[3] == bits(0.0f));
  CHECK(lanes<u64>(f64x2_nearest(vec<f64>({2.5, -3.5}))) == f64_bits({2.0, -4.0}));
  CHECK(lanes<u64>(f64x2_ceil(vec<f64>({-0.25, 4503599627370495.5}))) ==
        f64_bits({-0.0, 4503599627370496.0}));
  CHECK(lanes<u64>(f64x2_floor(vec<f64>({-0.25, 1e300}))) == f64_bits({-1.0, 1e300}));
  CHECK(lanes<u64>(f64x2_trunc(vec<f64>({-7.9, kInf64}))) == f64_bits({-7.0, kInf64}));
}

TEST_CASE("trunc_sat: NaN to 0, out of range saturates", "[simd]") {
  CHECK(lanes<i32>(i32x4_trunc_sat_f32x4_s(vec<f32>({kNan, kInf, -kInf, -1.9f}))) ==
        std::array<i32, 4>{0, INT32_MAX, INT32_MIN, -1});
  CHECK(
      lanes<i32>(i32x4_trunc_sat_f32x4_s(vec<f32>({2147483648.0f, -2147483648.0f, 2147483520.0f, -3e9f}))) ==
      std::array<i32, 4>{INT32_MAX, INT32_MIN, 2147483520, INT32_MIN});
  CHECK(lanes<u32>(i32x4_trunc_sat_f32x4_u(vec<f32>({kNan, kInf, -kInf, -0.9f}))) ==
        std::array<u32, 4>{0, UINT32_MAX, 0, 0});
  CHECK(lanes<u32>(i32x4_trunc_sat_f32x4_u(vec<f32>({4294967296.0f, 4294967040.0f, 3e9f, 2147483648.0f}))) ==
        std::array<u32, 4>{UINT32_MAX, 4294967040u, 3000000000u, 2147483648u});
  CHECK(lanes<u32>(i32x4_trunc_sat_f32x4_u(vec<f32>({1.9f, 2147483520.0f, -1.0f, 16777217.0f}))) ==
        std::array<u32, 4>{1, 2147483520u, 0, 16777216u});
  CHECK(lanes<i32>(i32x4_trunc_sat_f64x2_s_zero(vec<f64>({2147483647.9, -2147483648.9}))) ==
        std::array<i32, 4>{INT32_MAX, INT32_MIN, 0, 0});
  CHECK(lanes<i32>(i32x4_trunc_sat_f64x2_s_zero(vec<f64>({std::nan(""), -1e10}))) ==
        std::array<i32, 4>{0, INT32_MIN, 0, 0});
  CHECK(lanes<u32>(i32x4_trunc_sat_f64x2_u_zero(vec<f64>({4294967295.9, -0.9}))) ==
        std::array<u32, 4>{UINT32_MAX, 0, 0, 0});
  CHECK(lanes<u32>(i32x4_trunc_sat_f64x2_u_zero(vec<f64>({std::nan(""), 1e300}))) ==
        std::array<u32, 4>{0, UINT32_MAX, 0, 0});
}

TEST_CASE("int to float conversions, demote/promote", "[simd]") {
  CHECK(lanes<u32>(f32x4_convert_i32x4_s(vec<i32>({INT32_MIN, -1, 16777217, INT32_MAX}))) ==
        f32_bits({-2147483648.0f, -1.0f, 16777216.0f, 2147483648.0f}));
  // Correct rounding for the unsigned case, ties to even included.
  CHECK(lanes<u32>(f32x4_convert_i32x4_u(vec<u32>({UINT32_MAX, 0x80000000, 16777217, 0x80000080}))) ==
        f32_bits({4294967296.0f, 2147483648.0f, 16777216.0f, 2147483648.0f}));
  CHECK(lanes<u32>(f32x4_convert_i32x4_u(vec<u32>({0x80000081, 16777219, 0, 1}))) ==
        f32_bits({2147483904.0f, 16777220.0f, 0.0f, 1.0f}));
  CHECK(lanes<u64>(f64x2_convert_low_i32x4_s(vec<i32>({INT32_MIN, -1, 5, 5}))) ==
        f64_bits({-2147483648.0, -1.0}));
  CHECK(lanes<u64>(f64x2_convert_low_i32x4_u(vec<u32>({UINT32_MAX, 1, 5, 5}))) ==
        f64_bits({4294967295.0, 1.0}));
  CHECK(lanes<u32>(f32x4_demote_f64x2_zero(vec<f64>({1e300, -1e-300}))) ==
        f32_bits({kInf, -0.0f, 0.0f, 0.0f}));
  CHECK(lanes<u32>(f32x4_demote_f64x2_zero(vec<f64>({0.1, -kInf64}))) == f32_bits({0.1f, -kInf, 0.0f, 0.0f}));
  CHECK(is_canonical_nan(lanes<u32>(f32x4_demote_f64x2_zero(vec<f64>({std::nan(""), 0})))[0]));
  CHECK(lanes<u64>(f64x2_promote_low_f32x4(vec<f32>({0.1f, -0.0f, 7.0f, 7.0f}))) ==
        f64_bits({double(0.1f), -0.0}));
  CHECK(lanes<u64>(f64x2_promote_low_f32x4(vec<f32>({kNan, 0, 0, 0})))[0] == 0x7ff8000000000000);
}

TEST_CASE("swizzle and shuffle; out-of-range swizzle lanes give 0", "[simd]") {
  const V128 a = vec<u8>({0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150});
  const V128 b = vec<u8>({200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215});
  const V128 s = vec<u8>({15, 0, 16, 255, 128, 1, 17, 2, 3, 3, 3, 3, 3, 3, 3, 14});
  const std::array<u8, 16> want{150, 0, 0, 0, 0, 10, 0, 20, 30, 30, 30, 30, 30, 30, 30, 140};
  CHECK(lanes<u8>(i8x16_swizzle(a, s)) == want);
  const uint8_t sel[16] = {0, 16, 31, 15, 1, 17, 30, 14, 2, 2, 2, 2, 18, 18, 18, 18};
  CHECK(lanes<u8>(i8x16_shuffle(a, b, sel)) ==
        std::array<u8, 16>{0, 200, 215, 150, 10, 201, 214, 140, 20, 20, 20, 20, 202, 202, 202, 202});
}

TEST_CASE("splat, extract_lane, replace_lane", "[simd]") {
  CHECK(lanes<u8>(i8x16_splat(0x1ff)) ==
        std::array<u8, 16>{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255});
  CHECK(lanes<u16>(i16x8_splat(0xfffe8001)) ==
        std::array<u16, 8>{0x8001, 0x8001, 0x8001, 0x8001, 0x8001, 0x8001, 0x8001, 0x8001});
  CHECK(lanes<u32>(f32x4_splat(0x7fa00001)) ==
        std::array<u32, 4>{0x7fa00001, 0x7fa00001, 0x7fa00001, 0x7fa00001});
  CHECK(lanes<u64>(i64x2_splat(0x8000000000000001)) ==
        std::array<u64, 2>{0x8000000000000001, 0x8000000000000001});
  const V128 v = vec<u8>({0x80, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x80});
  CHECK(i8x16_extract_lane_s(v, 0) == 0xffffff80);
  CHECK(i8x16_extract_lane_u(v, 0) == 0x80);
  CHECK(i8x16_extract_lane_s(v, 2) == 0x7f);
  CHECK(i16x8_extract_lane_s(v, 7) == 0xffff8001);
  CHECK(i16x8_extract_lane_u(v, 7) == 0x8001);
  CHECK(i32x4_extract_lane(v, 0) == 0x007fff80);
  CHECK(i64x2_extract_lane(v, 1) == 0x8001000000000000);
  CHECK(f32x4_extract_lane(vec<u32>({1, 2, 3, 0xffc00001}), 3) == 0xffc00001);
  CHECK(f64x2_extract_lane(vec<u64>({1, 0x7ff0000000000001}), 1) == 0x7ff0000000000001);
  CHECK(lanes<u8>(i8x16_replace_lane(v, 15, 0x1234)) ==
        std::array<u8, 16>{0x80, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x34});
  CHECK(lanes<u16>(i16x8_replace_lane(vec<u16>({0, 0, 0, 0, 0, 0, 0, 0}), 3, 0xabcdef)) ==
        std::array<u16, 8>{0, 0, 0, 0xcdef, 0, 0, 0, 0});
  CHECK(lanes<u32>(f32x4_replace_lane(vec<u32>({0, 0, 0, 0}), 1, 0x7fa00001)) ==
        std::array<u32, 4>{0, 0x7fa00001, 0, 0});
  CHECK(lanes<u64>(i64x2_replace_lane(vec<u64>({5, 6}), 0, ~u64(0))) == std::array<u64, 2>{~u64(0), 6});
}

TEST_CASE("relaxed SIMD picks deterministic behaviours", "[simd]") {
  using weft::wasm::Op;
  CHECK(lanes<u32>(f32x4_relaxed_madd(vec<f32>({2.0f, -1.0f, 0.5f, 0}), vec<f32>({3.0f, 4.0f, 0.5f, 0}),
                                      vec<f32>({1.0f, 1.0f, -0.25f, -0.0f}))) ==
        f32_bits({7.0f, -3.0f, 0.0f, 0.0f}));
  CHECK(lanes<u64>(f64x2_relaxed_nmadd(vec<f64>({2.0, -1.0}), vec<f64>({3.0, 4.0}), vec<f64>({1.0, 1.0}))) ==
        f64_bits({-5.0, 5.0}));
  CHECK(lanes<i16>(i16x8_relaxed_dot_i8x16_i7x16_s(
            vec<i8>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}),
            vec<i8>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}))) ==
        std::array<i16, 8>{1, 13, 41, 85, 145, 221, 313, 421});
  CHECK(lanes<i16>(i16x8_relaxed_dot_i8x16_i7x16_s(
            vec<i8>({-128, -128, 127, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
            vec<i8>({127, 127, 127, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))) ==
        std::array<i16, 8>{-32512, 32258, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i32>(i32x4_relaxed_dot_i8x16_i7x16_add_s(
            vec<i8>({-128, -128, -128, -128, 127, 127, 127, 127, 0, 0, 0, 0, 1, 2, 3, 4}),
            vec<i8>({127, 127, 127, 127, 127, 127, 127, 127, 0, 0, 0, 0, 5, 6, 7, 8}),
            vec<i32>({1, 2, 3, -4}))) == std::array<i32, 4>{-65023, 64518, 3, 66});
  // laneselect is bitselect; the mask need not be lane-uniform.
  CHECK(lanes<u32>(ternary_fn(Op::I32x4RelaxedLaneselect)(vec<u32>({0x12345678, 0, 0, 0}),
                                                          vec<u32>({0x9abcdef0, 0, 0, 0}),
                                                          vec<u32>({0xffff0000, 0, 0, 0})))[0] == 0x1234def0);
  // The others behave as their non-relaxed counterparts.
  const V128 s = vec<u8>({15, 16, 255, 0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  const V128 a = vec<u8>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  CHECK(lanes<u8>(binary_fn(Op::I8x16RelaxedSwizzle)(a, s)) ==
        std::array<u8, 16>{15, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(lanes<i16>(binary_fn(Op::I16x8RelaxedQ15mulrS)(vec<i16>({-32768, 0, 0, 0, 0, 0, 0, 0}),
                                                       vec<i16>({-32768, 0, 0, 0, 0, 0, 0, 0})))[0] == 32767);
  const auto mn = lanes<u32>(binary_fn(Op::F32x4RelaxedMin)(vec<f32>({-0.0f, kNan, 1.0f, 2.0f}),
                                                            vec<f32>({0.0f, 1.0f, kNan, 1.0f})));
  CHECK(mn[0] == bits(-0.0f));
  CHECK(is_nan(mn[1]));
  CHECK(is_nan(mn[2]));
  CHECK(mn[3] == bits(1.0f));
  CHECK(lanes<i32>(unary_fn(Op::I32x4RelaxedTruncF32x4S)(vec<f32>({kNan, 3e9f, -3e9f, -2.5f}))) ==
        std::array<i32, 4>{0, INT32_MAX, INT32_MIN, -2});
}
