// SIMD128 and relaxed-SIMD lane semantics as inline functions over V128.
// simd_ops.def maps every non-memory 0xFD instruction to one of these, and
// the interpreter generates its handlers from that table.
//
// Lanes are copied out with memcpy into fixed-size arrays, worked on in
// plain loops and copied back; GCC turns most of these into SSE code. Ops
// that are bitwise on floats (abs, neg, pmin/pmax selection) work on the raw
// bits so NaN payloads survive; arithmetic uses the hardware, whose NaNs are
// arithmetic NaNs as the spec allows.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

#include "engine/value.h"

namespace weft::engine::simd {

using i8 = int8_t;
using u8 = uint8_t;
using i16 = int16_t;
using u16 = uint16_t;
using i32 = int32_t;
using u32 = uint32_t;
using i64 = int64_t;
using u64 = uint64_t;
using f32 = float;
using f64 = double;

// ---------------------------------------------------------------------------
// Lane access

template <typename T>
struct Lanes {
  static constexpr int N = 16 / sizeof(T);
  T v[N];
  T& operator[](int i) { return v[i]; }
  const T& operator[](int i) const { return v[i]; }
};

template <typename T>
inline Lanes<T> get(const V128& x) {
  Lanes<T> l;
  std::memcpy(l.v, x.bytes, 16);
  return l;
}

template <typename T>
inline V128 put(const Lanes<T>& l) {
  V128 r;
  std::memcpy(r.bytes, l.v, 16);
  return r;
}

// The unsigned integer type as wide as T (the lane mask type of T).
template <typename T>
using Bits =
    std::conditional_t<sizeof(T) == 1, u8,
                       std::conditional_t<sizeof(T) == 2, u16, std::conditional_t<sizeof(T) == 4, u32, u64>>>;

template <typename T, typename R = T, typename F>
inline V128 map(V128 a, F f) {
  static_assert(sizeof(T) == sizeof(R));
  const Lanes<T> x = get<T>(a);
  Lanes<R> r;
  for (int i = 0; i < Lanes<T>::N; ++i) r[i] = f(x[i]);
  return put(r);
}

template <typename T, typename R = T, typename F>
inline V128 zip(V128 a, V128 b, F f) {
  static_assert(sizeof(T) == sizeof(R));
  const Lanes<T> x = get<T>(a), y = get<T>(b);
  Lanes<R> r;
  for (int i = 0; i < Lanes<T>::N; ++i) r[i] = f(x[i], y[i]);
  return put(r);
}

// All ones when c holds, else zero, as a lane of T's width.
template <typename T>
inline Bits<T> mask(bool c) {
  return static_cast<Bits<T>>(Bits<T>(0) - Bits<T>(c));
}

// c ? x : y for floats, as a bit blend. With a plain ?: GCC sinks the float
// ops into the branches, then will not if-convert them (they might trap),
// and the loop stays scalar.
template <typename F>
inline F blend(bool c, F x, F y) {
  using B = Bits<F>;
  const B m = mask<F>(c);
  return std::bit_cast<F>(static_cast<B>((std::bit_cast<B>(x) & m) | (std::bit_cast<B>(y) & ~m)));
}

template <typename T, typename F>
inline V128 cmp(V128 a, V128 b, F f) {
  return zip<T, Bits<T>>(a, b, [f](T x, T y) { return mask<T>(f(x, y)); });
}

// A signed type twice as wide as the 8- or 16-bit T: exact for sums and
// differences of two T, and narrow enough for the loops to stay vectorized.
template <typename T>
using Twice = std::conditional_t<sizeof(T) == 1, i16, i32>;

// v clamped to Out's range; In is wide enough to hold every Out.
template <typename Out, typename In>
inline Out sat(In v) {
  constexpr In lo = std::numeric_limits<Out>::min(), hi = std::numeric_limits<Out>::max();
  return static_cast<Out>(v < lo ? lo : v > hi ? hi : v);
}

// ---------------------------------------------------------------------------
// v128 bitwise

inline V128 v128_not(V128 a) {
  return map<u64>(a, [](u64 x) { return ~x; });
}
inline V128 v128_and(V128 a, V128 b) {
  return zip<u64>(a, b, [](u64 x, u64 y) { return x & y; });
}
inline V128 v128_andnot(V128 a, V128 b) {
  return zip<u64>(a, b, [](u64 x, u64 y) { return x & ~y; });
}
inline V128 v128_or(V128 a, V128 b) {
  return zip<u64>(a, b, [](u64 x, u64 y) { return x | y; });
}
inline V128 v128_xor(V128 a, V128 b) {
  return zip<u64>(a, b, [](u64 x, u64 y) { return x ^ y; });
}

inline V128 v128_bitselect(V128 a, V128 b, V128 c) {
  const Lanes<u64> x = get<u64>(a), y = get<u64>(b), m = get<u64>(c);
  Lanes<u64> r;
  for (int i = 0; i < 2; ++i) r[i] = (x[i] & m[i]) | (y[i] & ~m[i]);
  return put(r);
}

inline u32 v128_any_true(V128 a) {
  const Lanes<u64> x = get<u64>(a);
  return (x[0] | x[1]) != 0;
}

// ---------------------------------------------------------------------------
// Integer lanes, generic over the lane type

template <typename T>
inline V128 add(V128 a, V128 b) {
  using U = Bits<T>;
  return zip<U>(a, b, [](U x, U y) { return static_cast<U>(x + y); });
}

template <typename T>
inline V128 sub(V128 a, V128 b) {
  using U = Bits<T>;
  return zip<U>(a, b, [](U x, U y) { return static_cast<U>(x - y); });
}

template <typename T>
inline V128 mul(V128 a, V128 b) {
  // Unsigned and at least 32 bits wide: u16 * u16 would overflow int.
  using U = Bits<T>;
  using W = std::conditional_t<(sizeof(T) < 4), u32, U>;
  return zip<U>(a, b, [](U x, U y) { return static_cast<U>(W(x) * W(y)); });
}

template <typename T>
inline V128 neg(V128 a) {
  using U = Bits<T>;
  return map<U>(a, [](U x) { return static_cast<U>(U(0) - x); });
}

// abs of the minimum value wraps to itself, as in the spec.
template <typename T>
inline V128 abs(V128 a) {
  using U = Bits<T>;
  return map<T, U>(a, [](T x) { return x < 0 ? static_cast<U>(U(0) - U(x)) : U(x); });
}

template <typename T>
inline V128 add_sat(V128 a, V128 b) {
  return zip<T>(a, b, [](T x, T y) { return sat<T>(Twice<T>(x + y)); });
}

template <typename T>
inline V128 sub_sat(V128 a, V128 b) {
  return zip<T>(a, b, [](T x, T y) { return sat<T>(Twice<T>(x - y)); });
}

template <typename T>
inline V128 min(V128 a, V128 b) {
  return zip<T>(a, b, [](T x, T y) { return x < y ? x : y; });
}
template <typename T>
inline V128 max(V128 a, V128 b) {
  return zip<T>(a, b, [](T x, T y) { return x > y ? x : y; });
}

template <typename T>
inline V128 avgr(V128 a, V128 b) {
  return zip<T>(a, b, [](T x, T y) { return static_cast<T>((u32(x) + u32(y) + 1) >> 1); });
}

template <typename T>
inline V128 eq(V128 a, V128 b) {
  return cmp<T>(a, b, [](T x, T y) { return x == y; });
}
template <typename T>
inline V128 ne(V128 a, V128 b) {
  return cmp<T>(a, b, [](T x, T y) { return x != y; });
}
template <typename T>
inline V128 lt(V128 a, V128 b) {
  return cmp<T>(a, b, [](T x, T y) { return x < y; });
}
template <typename T>
inline V128 gt(V128 a, V128 b) {
  return cmp<T>(a, b, [](T x, T y) { return x > y; });
}
template <typename T>
inline V128 le(V128 a, V128 b) {
  return cmp<T>(a, b, [](T x, T y) { return x <= y; });
}
template <typename T>
inline V128 ge(V128 a, V128 b) {
  return cmp<T>(a, b, [](T x, T y) { return x >= y; });
}

// Shift counts are taken modulo the lane width.
template <typename T>
inline V128 shl(V128 a, u32 n) {
  using U = Bits<T>;
  const u32 s = n & (sizeof(T) * 8 - 1);
  return map<U>(a, [s](U x) { return static_cast<U>(x << s); });
}

// Arithmetic for signed T, logical for unsigned T.
template <typename T>
inline V128 shr(V128 a, u32 n) {
  const u32 s = n & (sizeof(T) * 8 - 1);
  return map<T>(a, [s](T x) { return static_cast<T>(x >> s); });
}

template <typename T>
inline u32 bitmask(V128 a) {
  const Lanes<T> x = get<T>(a);
  u32 r = 0;
  for (int i = 0; i < Lanes<T>::N; ++i) r |= u32(x[i] < 0) << i;
  return r;
}

// 1 when no lane is zero. Works on 64-bit words: a lane is zero exactly when
// subtracting one borrows into its top bit while that bit was clear.
template <typename T>
inline u32 all_true(V128 a) {
  const Lanes<u64> x = get<u64>(a);
  if constexpr (sizeof(T) == 8) {
    return x[0] != 0 && x[1] != 0;
  } else {
    constexpr u64 ones = ~u64(0) / Bits<T>(~Bits<T>(0));  // 0x0101.. / 0x0001.. / ...
    constexpr u64 tops = ones << (sizeof(T) * 8 - 1);
    const u64 zero = ((x[0] - ones) & ~x[0] & tops) | ((x[1] - ones) & ~x[1] & tops);
    return zero == 0;
  }
}

// Narrow (a, b) into lanes of half the width, saturating; Out may be unsigned.
template <typename In, typename Out>
inline V128 narrow(V128 a, V128 b) {
  const Lanes<In> x = get<In>(a), y = get<In>(b);
  constexpr int n = Lanes<In>::N;
  Lanes<Out> r;
  for (int i = 0; i < n; ++i) r[i] = sat<Out>(x[i]);
  for (int i = 0; i < n; ++i) r[n + i] = sat<Out>(y[i]);
  return put(r);
}

// Widen the low (from 0) or high (from N/2) half of the lanes.
template <typename In, typename Out, int from>
inline V128 extend(V128 a) {
  const Lanes<In> x = get<In>(a);
  Lanes<Out> r;
  for (int i = 0; i < Lanes<Out>::N; ++i) r[i] = static_cast<Out>(x[from + i]);
  return put(r);
}

template <typename In, typename Out, int from>
inline V128 extmul(V128 a, V128 b) {
  const Lanes<In> x = get<In>(a), y = get<In>(b);
  Lanes<Out> r;
  for (int i = 0; i < Lanes<Out>::N; ++i) r[i] = static_cast<Out>(Out(x[from + i]) * Out(y[from + i]));
  return put(r);
}

template <typename In, typename Out>
inline V128 extadd_pairwise(V128 a) {
  const Lanes<In> x = get<In>(a);
  Lanes<Out> r;
  for (int i = 0; i < Lanes<Out>::N; ++i) r[i] = static_cast<Out>(Out(x[2 * i]) + Out(x[2 * i + 1]));
  return put(r);
}

template <typename T>
inline V128 splat(u64 bits) {
  Lanes<T> r;
  for (int i = 0; i < Lanes<T>::N; ++i) r[i] = static_cast<T>(bits);
  return put(r);
}

// Lane indices are validated immediates; the mask only keeps a bad one in
// bounds. The result is the scalar's bits: i32 zero-extended, floats raw.
template <typename T>
inline u64 extract(V128 a, u32 lane) {
  T v;
  std::memcpy(&v, a.bytes + (lane & (Lanes<T>::N - 1)) * sizeof(T), sizeof(T));
  if constexpr (sizeof(T) < 4)
    return u32(i32(v));  // sign- or zero-extended to i32 by T's signedness
  else
    return v;
}

template <typename T>
inline V128 replace(V128 a, u32 lane, u64 bits) {
  const T v = static_cast<T>(bits);
  std::memcpy(a.bytes + (lane & (Lanes<T>::N - 1)) * sizeof(T), &v, sizeof(T));
  return a;
}

// ---------------------------------------------------------------------------
// Float lanes, generic over f32/f64

template <typename F>
inline constexpr Bits<F> kSignBit = Bits<F>(1) << (sizeof(F) * 8 - 1);
template <typename F>
inline constexpr Bits<F> kCanonicalNan = sizeof(F) == 4 ? Bits<F>(0x7fc00000) : Bits<F>(0x7ff8000000000000);

template <typename F>
inline V128 fabs(V128 a) {
  using B = Bits<F>;
  return map<B>(a, [](B x) { return static_cast<B>(x & ~kSignBit<F>); });
}

template <typename F>
inline V128 fneg(V128 a) {
  using B = Bits<F>;
  return map<B>(a, [](B x) { return static_cast<B>(x ^ kSignBit<F>); });
}

template <typename F>
inline V128 fadd(V128 a, V128 b) {
  return zip<F>(a, b, [](F x, F y) { return x + y; });
}
template <typename F>
inline V128 fsub(V128 a, V128 b) {
  return zip<F>(a, b, [](F x, F y) { return x - y; });
}
template <typename F>
inline V128 fmul(V128 a, V128 b) {
  return zip<F>(a, b, [](F x, F y) { return x * y; });
}
template <typename F>
inline V128 fdiv(V128 a, V128 b) {
  return zip<F>(a, b, [](F x, F y) { return x / y; });
}
template <typename F>
inline V128 fsqrt(V128 a) {
  return map<F>(a, [](F x) { return std::sqrt(x); });
}

// Spec min/max: NaN if either operand is NaN (the canonical NaN is always an
// allowed result), and -0 < +0. Equal operands differ at most in the sign of
// zero, so OR (min) or AND (max) of their bits picks the right one.
template <typename F>
inline V128 fmin(V128 a, V128 b) {
  using B = Bits<F>;
  return zip<F, B>(a, b, [](F x, F y) {
    const B xb = std::bit_cast<B>(x), yb = std::bit_cast<B>(y);
    const B r = x < y ? xb : y < x ? yb : static_cast<B>(xb | yb);
    return x != x || y != y ? kCanonicalNan<F> : r;
  });
}

template <typename F>
inline V128 fmax(V128 a, V128 b) {
  using B = Bits<F>;
  return zip<F, B>(a, b, [](F x, F y) {
    const B xb = std::bit_cast<B>(x), yb = std::bit_cast<B>(y);
    const B r = x > y ? xb : y > x ? yb : static_cast<B>(xb & yb);
    return x != x || y != y ? kCanonicalNan<F> : r;
  });
}

// pmin/pmax return one operand unchanged (NaN payload included).
template <typename F>
inline V128 fpmin(V128 a, V128 b) {
  using B = Bits<F>;
  return zip<F, B>(a, b, [](F x, F y) { return std::bit_cast<B>(y < x ? y : x); });
}

template <typename F>
inline V128 fpmax(V128 a, V128 b) {
  using B = Bits<F>;
  return zip<F, B>(a, b, [](F x, F y) { return std::bit_cast<B>(x < y ? y : x); });
}

template <typename F>
inline V128 feq(V128 a, V128 b) {
  return cmp<F>(a, b, [](F x, F y) { return x == y; });
}
template <typename F>
inline V128 fne(V128 a, V128 b) {
  return cmp<F>(a, b, [](F x, F y) { return x != y; });
}
template <typename F>
inline V128 flt(V128 a, V128 b) {
  return cmp<F>(a, b, [](F x, F y) { return x < y; });
}
template <typename F>
inline V128 fgt(V128 a, V128 b) {
  return cmp<F>(a, b, [](F x, F y) { return x > y; });
}
template <typename F>
inline V128 fle(V128 a, V128 b) {
  return cmp<F>(a, b, [](F x, F y) { return x <= y; });
}
template <typename F>
inline V128 fge(V128 a, V128 b) {
  return cmp<F>(a, b, [](F x, F y) { return x >= y; });
}

enum class Round { Ceil, Floor, Trunc, Nearest };

// Rounding without libm calls, so the loop vectorizes. Below 2^mantissa,
// (|x| + 2^m) - 2^m rounds |x| to nearest-even in the default rounding mode;
// ceil/floor/trunc step that by one where it went the wrong way. Larger
// values, infinities and NaNs are already integral; x + 0 quiets a NaN. All
// results take x's sign, which keeps -0 and e.g. ceil(-0.5) = -0.
template <Round mode, typename F>
inline V128 fround(V128 a) {
  constexpr F big = sizeof(F) == 4 ? F(8388608.0f) : F(4503599627370496.0);  // 2^23, 2^52
  return map<F>(a, [](F x) {
    const F ax = std::fabs(x);
    const F n = std::copysign((ax + big) - big, x);  // x rounded to nearest-even
    const F up = n + F(1), down = n - F(1), quiet = x + F(0);
    F r = n;
    if constexpr (mode == Round::Ceil)
      r = blend(n < x, up, n);
    else if constexpr (mode == Round::Floor)
      r = blend(n > x, down, n);
    else if constexpr (mode == Round::Trunc)
      r = blend(std::fabs(n) > ax, blend(x < F(0), up, down), n);
    return blend(ax < big, std::copysign(r, x), quiet);
  });
}

// ---------------------------------------------------------------------------
// Conversions

// f32 -> i32 truncation, saturating; NaN -> 0.
inline V128 i32x4_trunc_sat_f32x4_s(V128 a) {
  return map<f32, i32>(a, [](f32 x) {
    // Clamp into the range where the conversion is defined first: the largest
    // f32 below 2^31 is 2^31 - 128, and 2^31 itself saturates to INT32_MAX.
    f32 c = x < -2147483648.0f ? -2147483648.0f : x;
    c = c > 2147483520.0f ? 2147483520.0f : c;
    c = x != x ? 0.0f : c;
    return x >= 2147483648.0f ? std::numeric_limits<i32>::max() : i32(c);
  });
}

// Values from 2^31 convert as i32 after subtracting 2^31 (exact there), so
// only signed conversions are needed and the loop vectorizes.
inline V128 i32x4_trunc_sat_f32x4_u(V128 a) {
  return map<f32, u32>(a, [](f32 x) {
    f32 c = blend(x > 0.0f, x, 0.0f);                // also NaN -> 0
    c = blend(c > 4294967040.0f, 4294967040.0f, c);  // largest f32 below 2^32
    const bool high = c >= 2147483648.0f;
    const f32 low = c - blend(high, 2147483648.0f, 0.0f);
    return (u32(i32(low)) + (mask<f32>(high) & 0x80000000u)) | mask<f32>(x >= 4294967296.0f);
  });
}

inline i32 trunc_sat_s32(f64 x) {
  if (x != x) return 0;
  return i32(x < -2147483648.0 ? -2147483648.0 : x > 2147483647.0 ? 2147483647.0 : x);
}

inline u32 trunc_sat_u32(f64 x) {
  if (!(x > 0.0)) return 0;
  return u32(x > 4294967295.0 ? 4294967295.0 : x);
}

inline V128 i32x4_trunc_sat_f64x2_s_zero(V128 a) {
  const Lanes<f64> x = get<f64>(a);
  return put(Lanes<i32>{{trunc_sat_s32(x[0]), trunc_sat_s32(x[1]), 0, 0}});
}

inline V128 i32x4_trunc_sat_f64x2_u_zero(V128 a) {
  const Lanes<f64> x = get<f64>(a);
  return put(Lanes<u32>{{trunc_sat_u32(x[0]), trunc_sat_u32(x[1]), 0, 0}});
}

inline V128 f32x4_convert_i32x4_s(V128 a) {
  return map<i32, f32>(a, [](i32 x) { return f32(x); });
}

// Both halves convert exactly and hi * 2^16 is exact, so the one rounding
// step is the final add: correctly rounded, and vectorizable from i32.
inline V128 f32x4_convert_i32x4_u(V128 a) {
  return map<u32, f32>(a, [](u32 x) { return f32(i32(x >> 16)) * 65536.0f + f32(i32(x & 0xffff)); });
}

inline V128 f64x2_convert_low_i32x4_s(V128 a) {
  const Lanes<i32> x = get<i32>(a);
  return put(Lanes<f64>{{f64(x[0]), f64(x[1])}});
}

inline V128 f64x2_convert_low_i32x4_u(V128 a) {
  const Lanes<u32> x = get<u32>(a);
  return put(Lanes<f64>{{f64(x[0]), f64(x[1])}});
}

inline V128 f32x4_demote_f64x2_zero(V128 a) {
  const Lanes<f64> x = get<f64>(a);
  return put(Lanes<f32>{{f32(x[0]), f32(x[1]), 0.0f, 0.0f}});
}

inline V128 f64x2_promote_low_f32x4(V128 a) {
  const Lanes<f32> x = get<f32>(a);
  return put(Lanes<f64>{{f64(x[0]), f64(x[1])}});
}

// ---------------------------------------------------------------------------
// Lane permutations and the odd ones out

// Byte permutes do not vectorize from portable code; with SSSE3 they are
// pshufb, which zeroes a lane whose index byte has its top bit set. Adding
// 0x70 with unsigned saturation sets that bit exactly for indices >= 16 and
// keeps the low four bits of the others.
#if defined(__SSSE3__)
inline __m128i to_m128(const V128& v) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(v.bytes)); }

inline V128 from_m128(__m128i x) {
  V128 r;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(r.bytes), x);
  return r;
}

inline __m128i pshufb_index(__m128i idx) { return _mm_adds_epu8(idx, _mm_set1_epi8(0x70)); }
#endif

inline V128 i8x16_swizzle(V128 a, V128 s) {
#if defined(__SSSE3__)
  return from_m128(_mm_shuffle_epi8(to_m128(a), pshufb_index(to_m128(s))));
#else
  const Lanes<u8> x = get<u8>(a), idx = get<u8>(s);
  Lanes<u8> r;
  for (int i = 0; i < 16; ++i) r[i] = x[idx[i] & 15] & mask<u8>(idx[i] < 16);
  return put(r);
#endif
}

// Lane indices are validated (< 32); the mask only keeps a bad one in bounds.
inline V128 i8x16_shuffle(V128 a, V128 b, const uint8_t lanes[16]) {
#if defined(__SSSE3__)
  // Indices 0-15 pick from a; flipping bit 4 makes 16-31 the ones for b.
  const __m128i idx =
      _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lanes)), _mm_set1_epi8(31));
  const __m128i from_a = _mm_shuffle_epi8(to_m128(a), pshufb_index(idx));
  const __m128i from_b = _mm_shuffle_epi8(to_m128(b), pshufb_index(_mm_xor_si128(idx, _mm_set1_epi8(16))));
  return from_m128(_mm_or_si128(from_a, from_b));
#else
  uint8_t both[32];
  std::memcpy(both, a.bytes, 16);
  std::memcpy(both + 16, b.bytes, 16);
  V128 r;
  for (int i = 0; i < 16; ++i) r.bytes[i] = both[lanes[i] & 31];
  return r;
#endif
}

// Per-byte population count on 64-bit words.
inline V128 i8x16_popcnt(V128 a) {
  return map<u64>(a, [](u64 x) {
    x -= (x >> 1) & 0x5555555555555555;
    x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333);
    return (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f;
  });
}

// Rounding Q15 multiply; only 0x8000 * 0x8000 leaves the i16 range.
inline V128 i16x8_q15mulr_sat_s(V128 a, V128 b) {
  return zip<i16>(a, b, [](i16 x, i16 y) { return sat<i16>(i32((i32(x) * y + 0x4000) >> 15)); });
}

// Each product fits i32; their sum wraps only for four times -32768, as the
// spec says it should.
inline V128 i32x4_dot_i16x8_s(V128 a, V128 b) {
  const Lanes<i16> x = get<i16>(a), y = get<i16>(b);
  Lanes<u32> r;
  for (int i = 0; i < 4; ++i) r[i] = u32(i32(x[2 * i]) * y[2 * i]) + u32(i32(x[2 * i + 1]) * y[2 * i + 1]);
  return put(r);
}

// ---------------------------------------------------------------------------
// Relaxed SIMD. Where a non-relaxed equivalent exists (swizzle, trunc_sat,
// laneselect = bitselect, min/max, q15mulr_sat) simd_ops.def maps the relaxed
// op to it, so results never depend on the host.

// Unfused multiply-add (ISO C++ mode does not contract a * b + c into fma).
template <typename F>
inline V128 relaxed_madd(V128 a, V128 b, V128 c) {
  const Lanes<F> x = get<F>(a), y = get<F>(b), z = get<F>(c);
  Lanes<F> r;
  for (int i = 0; i < Lanes<F>::N; ++i) r[i] = x[i] * y[i] + z[i];
  return put(r);
}

template <typename F>
inline V128 relaxed_nmadd(V128 a, V128 b, V128 c) {
  const Lanes<F> x = get<F>(a), y = get<F>(b), z = get<F>(c);
  Lanes<F> r;
  for (int i = 0; i < Lanes<F>::N; ++i) r[i] = -x[i] * y[i] + z[i];
  return put(r);
}

// Both operands signed; pairs of products add with i16 saturation (only
// reachable when b is outside the i7 range the op is meant for).
inline V128 i16x8_relaxed_dot_i8x16_i7x16_s(V128 a, V128 b) {
  const Lanes<i8> x = get<i8>(a), y = get<i8>(b);
  Lanes<i16> r;
  for (int i = 0; i < 8; ++i) r[i] = sat<i16>(i32(x[2 * i] * y[2 * i] + x[2 * i + 1] * y[2 * i + 1]));
  return put(r);
}

inline V128 i32x4_relaxed_dot_i8x16_i7x16_add_s(V128 a, V128 b, V128 c) {
  const Lanes<i16> d = get<i16>(i16x8_relaxed_dot_i8x16_i7x16_s(a, b));
  const Lanes<u32> z = get<u32>(c);
  Lanes<u32> r;
  for (int i = 0; i < 4; ++i) r[i] = u32(i32(d[2 * i]) + i32(d[2 * i + 1])) + z[i];
  return put(r);
}

// ---------------------------------------------------------------------------
// Named instances for simd_ops.def

#define WEFT_SIMD_INT_OPS(s, T, U)                              \
  inline V128 s##_add(V128 a, V128 b) { return add<T>(a, b); }  \
  inline V128 s##_sub(V128 a, V128 b) { return sub<T>(a, b); }  \
  inline V128 s##_neg(V128 a) { return neg<T>(a); }             \
  inline V128 s##_abs(V128 a) { return abs<T>(a); }             \
  inline V128 s##_eq(V128 a, V128 b) { return eq<T>(a, b); }    \
  inline V128 s##_ne(V128 a, V128 b) { return ne<T>(a, b); }    \
  inline V128 s##_lt_s(V128 a, V128 b) { return lt<T>(a, b); }  \
  inline V128 s##_gt_s(V128 a, V128 b) { return gt<T>(a, b); }  \
  inline V128 s##_le_s(V128 a, V128 b) { return le<T>(a, b); }  \
  inline V128 s##_ge_s(V128 a, V128 b) { return ge<T>(a, b); }  \
  inline V128 s##_shl(V128 a, u32 n) { return shl<T>(a, n); }   \
  inline V128 s##_shr_s(V128 a, u32 n) { return shr<T>(a, n); } \
  inline V128 s##_shr_u(V128 a, u32 n) { return shr<U>(a, n); } \
  inline u32 s##_all_true(V128 a) { return all_true<T>(a); }    \
  inline u32 s##_bitmask(V128 a) { return bitmask<T>(a); }      \
  inline V128 s##_splat(u64 x) { return splat<U>(x); }          \
  inline V128 s##_replace_lane(V128 a, u32 l, u64 x) { return replace<U>(a, l, x); }

WEFT_SIMD_INT_OPS(i8x16, i8, u8)
WEFT_SIMD_INT_OPS(i16x8, i16, u16)
WEFT_SIMD_INT_OPS(i32x4, i32, u32)
WEFT_SIMD_INT_OPS(i64x2, i64, u64)
#undef WEFT_SIMD_INT_OPS

// Unsigned comparisons and min/max, which i64x2 lacks.
#define WEFT_SIMD_UNSIGNED_OPS(s, T, U)                          \
  inline V128 s##_lt_u(V128 a, V128 b) { return lt<U>(a, b); }   \
  inline V128 s##_gt_u(V128 a, V128 b) { return gt<U>(a, b); }   \
  inline V128 s##_le_u(V128 a, V128 b) { return le<U>(a, b); }   \
  inline V128 s##_ge_u(V128 a, V128 b) { return ge<U>(a, b); }   \
  inline V128 s##_min_s(V128 a, V128 b) { return min<T>(a, b); } \
  inline V128 s##_min_u(V128 a, V128 b) { return min<U>(a, b); } \
  inline V128 s##_max_s(V128 a, V128 b) { return max<T>(a, b); } \
  inline V128 s##_max_u(V128 a, V128 b) { return max<U>(a, b); }

WEFT_SIMD_UNSIGNED_OPS(i8x16, i8, u8)
WEFT_SIMD_UNSIGNED_OPS(i16x8, i16, u16)
WEFT_SIMD_UNSIGNED_OPS(i32x4, i32, u32)
#undef WEFT_SIMD_UNSIGNED_OPS

// Saturating arithmetic, averaging and lane extraction with extension: only
// for the lanes narrower than i32.
#define WEFT_SIMD_SAT_OPS(s, T, U)                                          \
  inline V128 s##_add_sat_s(V128 a, V128 b) { return add_sat<T>(a, b); }    \
  inline V128 s##_add_sat_u(V128 a, V128 b) { return add_sat<U>(a, b); }    \
  inline V128 s##_sub_sat_s(V128 a, V128 b) { return sub_sat<T>(a, b); }    \
  inline V128 s##_sub_sat_u(V128 a, V128 b) { return sub_sat<U>(a, b); }    \
  inline V128 s##_avgr_u(V128 a, V128 b) { return avgr<U>(a, b); }          \
  inline u64 s##_extract_lane_s(V128 a, u32 l) { return extract<T>(a, l); } \
  inline u64 s##_extract_lane_u(V128 a, u32 l) { return extract<U>(a, l); }

WEFT_SIMD_SAT_OPS(i8x16, i8, u8)
WEFT_SIMD_SAT_OPS(i16x8, i16, u16)
#undef WEFT_SIMD_SAT_OPS

inline V128 i16x8_mul(V128 a, V128 b) { return mul<i16>(a, b); }
inline V128 i32x4_mul(V128 a, V128 b) { return mul<i32>(a, b); }
inline V128 i64x2_mul(V128 a, V128 b) { return mul<i64>(a, b); }
inline u64 i32x4_extract_lane(V128 a, u32 l) { return extract<u32>(a, l); }
inline u64 i64x2_extract_lane(V128 a, u32 l) { return extract<u64>(a, l); }

// extend and extmul from source lanes s (SS/SU) to destination lanes d
// (DS/DU), each in a signed and an unsigned flavour.
#define WEFT_SIMD_WIDEN_OPS(d, s, DS, DU, SS, SU)                                                    \
  inline V128 d##_extend_low_##s##_s(V128 a) { return extend<SS, DS, 0>(a); }                        \
  inline V128 d##_extend_high_##s##_s(V128 a) { return extend<SS, DS, Lanes<DS>::N>(a); }            \
  inline V128 d##_extend_low_##s##_u(V128 a) { return extend<SU, DU, 0>(a); }                        \
  inline V128 d##_extend_high_##s##_u(V128 a) { return extend<SU, DU, Lanes<DU>::N>(a); }            \
  inline V128 d##_extmul_low_##s##_s(V128 a, V128 b) { return extmul<SS, DS, 0>(a, b); }             \
  inline V128 d##_extmul_high_##s##_s(V128 a, V128 b) { return extmul<SS, DS, Lanes<DS>::N>(a, b); } \
  inline V128 d##_extmul_low_##s##_u(V128 a, V128 b) { return extmul<SU, DU, 0>(a, b); }             \
  inline V128 d##_extmul_high_##s##_u(V128 a, V128 b) { return extmul<SU, DU, Lanes<DU>::N>(a, b); }

WEFT_SIMD_WIDEN_OPS(i16x8, i8x16, i16, u16, i8, u8)
WEFT_SIMD_WIDEN_OPS(i32x4, i16x8, i32, u32, i16, u16)
WEFT_SIMD_WIDEN_OPS(i64x2, i32x4, i64, u64, i32, u32)
#undef WEFT_SIMD_WIDEN_OPS

inline V128 i16x8_extadd_pairwise_i8x16_s(V128 a) { return extadd_pairwise<i8, i16>(a); }
inline V128 i16x8_extadd_pairwise_i8x16_u(V128 a) { return extadd_pairwise<u8, u16>(a); }
inline V128 i32x4_extadd_pairwise_i16x8_s(V128 a) { return extadd_pairwise<i16, i32>(a); }
inline V128 i32x4_extadd_pairwise_i16x8_u(V128 a) { return extadd_pairwise<u16, u32>(a); }

inline V128 i8x16_narrow_i16x8_s(V128 a, V128 b) { return narrow<i16, i8>(a, b); }
inline V128 i8x16_narrow_i16x8_u(V128 a, V128 b) { return narrow<i16, u8>(a, b); }
inline V128 i16x8_narrow_i32x4_s(V128 a, V128 b) { return narrow<i32, i16>(a, b); }
inline V128 i16x8_narrow_i32x4_u(V128 a, V128 b) { return narrow<i32, u16>(a, b); }

#define WEFT_SIMD_FLOAT_OPS(s, F, B)                                                        \
  inline V128 s##_abs(V128 a) { return fabs<F>(a); }                                        \
  inline V128 s##_neg(V128 a) { return fneg<F>(a); }                                        \
  inline V128 s##_sqrt(V128 a) { return fsqrt<F>(a); }                                      \
  inline V128 s##_add(V128 a, V128 b) { return fadd<F>(a, b); }                             \
  inline V128 s##_sub(V128 a, V128 b) { return fsub<F>(a, b); }                             \
  inline V128 s##_mul(V128 a, V128 b) { return fmul<F>(a, b); }                             \
  inline V128 s##_div(V128 a, V128 b) { return fdiv<F>(a, b); }                             \
  inline V128 s##_min(V128 a, V128 b) { return fmin<F>(a, b); }                             \
  inline V128 s##_max(V128 a, V128 b) { return fmax<F>(a, b); }                             \
  inline V128 s##_pmin(V128 a, V128 b) { return fpmin<F>(a, b); }                           \
  inline V128 s##_pmax(V128 a, V128 b) { return fpmax<F>(a, b); }                           \
  inline V128 s##_eq(V128 a, V128 b) { return feq<F>(a, b); }                               \
  inline V128 s##_ne(V128 a, V128 b) { return fne<F>(a, b); }                               \
  inline V128 s##_lt(V128 a, V128 b) { return flt<F>(a, b); }                               \
  inline V128 s##_gt(V128 a, V128 b) { return fgt<F>(a, b); }                               \
  inline V128 s##_le(V128 a, V128 b) { return fle<F>(a, b); }                               \
  inline V128 s##_ge(V128 a, V128 b) { return fge<F>(a, b); }                               \
  inline V128 s##_ceil(V128 a) { return fround<Round::Ceil, F>(a); }                        \
  inline V128 s##_floor(V128 a) { return fround<Round::Floor, F>(a); }                      \
  inline V128 s##_trunc(V128 a) { return fround<Round::Trunc, F>(a); }                      \
  inline V128 s##_nearest(V128 a) { return fround<Round::Nearest, F>(a); }                  \
  inline V128 s##_splat(u64 x) { return splat<B>(x); }                                      \
  inline u64 s##_extract_lane(V128 a, u32 l) { return extract<B>(a, l); }                   \
  inline V128 s##_replace_lane(V128 a, u32 l, u64 x) { return replace<B>(a, l, x); }        \
  inline V128 s##_relaxed_madd(V128 a, V128 b, V128 c) { return relaxed_madd<F>(a, b, c); } \
  inline V128 s##_relaxed_nmadd(V128 a, V128 b, V128 c) { return relaxed_nmadd<F>(a, b, c); }

WEFT_SIMD_FLOAT_OPS(f32x4, f32, u32)
WEFT_SIMD_FLOAT_OPS(f64x2, f64, u64)
#undef WEFT_SIMD_FLOAT_OPS

}  // namespace weft::engine::simd
