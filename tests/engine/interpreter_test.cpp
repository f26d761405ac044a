// End-to-end tests of translator + interpreter: modules assembled from the
// WAT in the comments (wat2wasm --enable-tail-call), decoded, instantiated
// and called through Store::call.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "engine/interpreter.h"
#include "engine/store.h"
#include "wasm/decoder.h"
#include "wasm/validator.h"

using namespace weft;
using namespace weft::engine;

namespace {

// (module
//   (type $ii (func (param i32) (result i32)))
//   (import "env" "twice" (func $twice (param i32) (result i32)))
//   (memory 1)
//   (table 4 funcref)
//   (elem (i32.const 0) $fib $twice $bad)
//   (global $g (mut i32) (i32.const 7))
//   (func $fib (export "fib") (type $ii)
//     (if (result i32) (i32.lt_s (local.get 0) (i32.const 2))
//       (then (local.get 0))
//       (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
//                      (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
//   (func (export "sum") (param $n i32) (result i64)
//     (local $i i32) (local $s i64)
//     (block $done
//       (loop $l
//         (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
//         (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get $i))))
//         (local.set $i (i32.add (local.get $i) (i32.const 1)))
//         (br $l)))
//     (local.get $s))
//   (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
//   (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
//   (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
//   (func (export "sat") (param f32) (result i32) (i32.trunc_sat_f32_u (local.get 0)))
//   (func (export "fneg") (param f32) (result f32) (f32.neg (local.get 0)))
//   (func (export "fcopy") (param f32) (result f32) (local.get 0))
//   (func (export "fmin") (param f64 f64) (result f64) (f64.min (local.get 0) (local.get 1)))
//   (func (export "swap") (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
//   (func (export "table") (param i32) (result i32)
//     (block $a (block $b (block $c
//       (br_table $a $b $c (local.get 0)))
//       (return (i32.const 30)))
//       (return (i32.const 20)))
//     (i32.const 10))
//   (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
//   (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
//   (func (export "grow_and_load") (param i32) (result i32)
//     (drop (memory.grow (local.get 0)))
//     (i32.store (i32.const 70000) (i32.const 42))
//     (i32.load (i32.const 70000)))
//   (func (export "indirect") (param i32 i32) (result i32)
//     (call_indirect (type $ii) (local.get 1) (local.get 0)))
//   (func $bad (param i32) (result i32 i32) (local.get 0) (local.get 0))
//   (func $recurse (export "recurse") (param i32) (result i32)
//     (call $recurse (i32.add (local.get 0) (i32.const 1))))
//   (func (export "global") (result i32)
//     (global.set $g (i32.add (global.get $g) (i32.const 1))) (global.get $g))
//   (func (export "tee") (param i32) (result i32) (local $x i32)
//     (i32.add (local.tee $x (i32.mul (local.get 0) (i32.const 3))) (local.get $x)))
//   (func (export "unreachable") (unreachable))
//   (func (export "host") (param i32) (result i32) (i32.add (call $twice (local.get 0)) (i32.const 1)))
//   (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
//   (func (export "select") (param i32) (result i64) (select (i64.const 5) (i64.const 6) (local.get 0)))
//   (func $rc (export "ret_call") (param i32) (result i32)
//     (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 99))
//       (else (return_call $rc (i32.sub (local.get 0) (i32.const 1))))))
// )
const std::vector<uint8_t> kBasic = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x45, 0x0d, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x60, 0x01, 0x7f, 0x01, 0x7e, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7c, 0x01, 0x7f,
    0x60, 0x01, 0x7d, 0x01, 0x7f, 0x60, 0x01, 0x7d, 0x01, 0x7d, 0x60, 0x02, 0x7c, 0x7c, 0x01, 0x7c,
    0x60, 0x02, 0x7f, 0x7e, 0x02, 0x7e, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x60, 0x01, 0x7f, 0x02,
    0x7f, 0x7f, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x00, 0x00, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, 0x02,
    0x0d, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x05, 0x74, 0x77, 0x69, 0x63, 0x65, 0x00, 0x00, 0x03, 0x19,
    0x18, 0x00, 0x01, 0x02, 0x02, 0x03, 0x04, 0x05, 0x05, 0x06, 0x07, 0x00, 0x00, 0x08, 0x00, 0x02,
    0x09, 0x00, 0x0a, 0x00, 0x0b, 0x00, 0x0c, 0x01, 0x00, 0x04, 0x04, 0x01, 0x70, 0x00, 0x04, 0x05,
    0x03, 0x01, 0x00, 0x01, 0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x07, 0x0b, 0x07, 0xc3, 0x01, 0x17,
    0x03, 0x66, 0x69, 0x62, 0x00, 0x01, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x02, 0x05, 0x64, 0x69, 0x76,
    0x5f, 0x73, 0x00, 0x03, 0x05, 0x72, 0x65, 0x6d, 0x5f, 0x73, 0x00, 0x04, 0x05, 0x74, 0x72, 0x75,
    0x6e, 0x63, 0x00, 0x05, 0x03, 0x73, 0x61, 0x74, 0x00, 0x06, 0x04, 0x66, 0x6e, 0x65, 0x67, 0x00,
    0x07, 0x05, 0x66, 0x63, 0x6f, 0x70, 0x79, 0x00, 0x08, 0x04, 0x66, 0x6d, 0x69, 0x6e, 0x00, 0x09,
    0x04, 0x73, 0x77, 0x61, 0x70, 0x00, 0x0a, 0x05, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x00, 0x0b, 0x04,
    0x6c, 0x6f, 0x61, 0x64, 0x00, 0x0c, 0x05, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x00, 0x0d, 0x0d, 0x67,
    0x72, 0x6f, 0x77, 0x5f, 0x61, 0x6e, 0x64, 0x5f, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x0e, 0x08, 0x69,
    0x6e, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74, 0x00, 0x0f, 0x07, 0x72, 0x65, 0x63, 0x75, 0x72, 0x73,
    0x65, 0x00, 0x11, 0x06, 0x67, 0x6c, 0x6f, 0x62, 0x61, 0x6c, 0x00, 0x12, 0x03, 0x74, 0x65, 0x65,
    0x00, 0x13, 0x0b, 0x75, 0x6e, 0x72, 0x65, 0x61, 0x63, 0x68, 0x61, 0x62, 0x6c, 0x65, 0x00, 0x14,
    0x04, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x15, 0x04, 0x66, 0x69, 0x6c, 0x6c, 0x00, 0x16, 0x06, 0x73,
    0x65, 0x6c, 0x65, 0x63, 0x74, 0x00, 0x17, 0x08, 0x72, 0x65, 0x74, 0x5f, 0x63, 0x61, 0x6c, 0x6c,
    0x00, 0x18, 0x09, 0x09, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x03, 0x01, 0x00, 0x10, 0x0a, 0xaf, 0x02,
    0x18, 0x1c, 0x00, 0x20, 0x00, 0x41, 0x02, 0x48, 0x04, 0x7f, 0x20, 0x00, 0x05, 0x20, 0x00, 0x41,
    0x01, 0x6b, 0x10, 0x01, 0x20, 0x00, 0x41, 0x02, 0x6b, 0x10, 0x01, 0x6a, 0x0b, 0x0b, 0x26, 0x02,
    0x01, 0x7f, 0x01, 0x7e, 0x02, 0x40, 0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01, 0x20,
    0x02, 0x20, 0x01, 0xad, 0x7c, 0x21, 0x02, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x0c, 0x00,
    0x0b, 0x0b, 0x20, 0x02, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6d, 0x0b, 0x07, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x6f, 0x0b, 0x05, 0x00, 0x20, 0x00, 0xaa, 0x0b, 0x06, 0x00, 0x20, 0x00, 0xfc,
    0x01, 0x0b, 0x05, 0x00, 0x20, 0x00, 0x8c, 0x0b, 0x04, 0x00, 0x20, 0x00, 0x0b, 0x07, 0x00, 0x20,
    0x00, 0x20, 0x01, 0xa4, 0x0b, 0x06, 0x00, 0x20, 0x01, 0x20, 0x00, 0x0b, 0x1a, 0x00, 0x02, 0x40,
    0x02, 0x40, 0x02, 0x40, 0x20, 0x00, 0x0e, 0x02, 0x02, 0x01, 0x00, 0x0b, 0x41, 0x1e, 0x0f, 0x0b,
    0x41, 0x14, 0x0f, 0x0b, 0x41, 0x0a, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b, 0x09,
    0x00, 0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x00, 0x0b, 0x17, 0x00, 0x20, 0x00, 0x40, 0x00, 0x1a,
    0x41, 0xf0, 0xa2, 0x04, 0x41, 0x2a, 0x36, 0x02, 0x00, 0x41, 0xf0, 0xa2, 0x04, 0x28, 0x02, 0x00,
    0x0b, 0x09, 0x00, 0x20, 0x01, 0x20, 0x00, 0x11, 0x00, 0x00, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x20,
    0x00, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x10, 0x11, 0x0b, 0x0b, 0x00, 0x23, 0x00,
    0x41, 0x01, 0x6a, 0x24, 0x00, 0x23, 0x00, 0x0b, 0x0e, 0x01, 0x01, 0x7f, 0x20, 0x00, 0x41, 0x03,
    0x6c, 0x22, 0x01, 0x20, 0x01, 0x6a, 0x0b, 0x03, 0x00, 0x00, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x10,
    0x00, 0x41, 0x01, 0x6a, 0x0b, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfc, 0x0b, 0x00,
    0x0b, 0x09, 0x00, 0x42, 0x05, 0x42, 0x06, 0x20, 0x00, 0x1b, 0x0b, 0x13, 0x00, 0x20, 0x00, 0x45,
    0x04, 0x7f, 0x41, 0xe3, 0x00, 0x05, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x12, 0x18, 0x0b, 0x0b,
};

struct Fixture {
  Store store;
  Instance* inst = nullptr;
  Function* fib = nullptr;
  int nested_calls = 0;

  explicit Fixture(StoreLimits limits = {}) : store(limits) {
    auto module = wasm::decode_module(kBasic);
    wasm::validate(*module, true);
    wasm::FuncType twice_type{{wasm::ValType::I32}, {wasm::ValType::I32}};
    Function* twice = store.create_host_function(twice_type, "env.twice", [this](HostCall& c) {
      uint32_t x = c.i32(0);
      // Re-enter the interpreter from inside a host call.
      if (fib) {
        auto r = store.call(fib, std::vector<Value>{Value::make_i32(10)});
        if (r[0].i32 == 55) ++nested_calls;
      }
      c.set_i32(0, x * 2);
    });
    Extern imports[] = {Extern::of(twice)};
    inst = store.instantiate(module, imports);
    fib = inst->find_function("fib");
  }

  std::vector<Value> call(const char* name, std::vector<Value> args) {
    Function* f = inst->find_function(name);
    REQUIRE(f != nullptr);
    return store.call(f, args);
  }
  TrapKind trap_of(const char* name, std::vector<Value> args) {
    try {
      call(name, std::move(args));
    } catch (const Trap& t) {
      CHECK(!t.backtrace().empty());
      return t.kind();
    }
    FAIL("no trap");
    return TrapKind::Host;
  }
};

Value i32(uint32_t v) { return Value::make_i32(v); }
Value i64(uint64_t v) { return Value::make_i64(v); }
Value f32(uint32_t bits) { return Value::make_f32_bits(bits); }
Value f64(double d) { return Value::make_f64_bits(std::bit_cast<uint64_t>(d)); }

}  // namespace

TEST_CASE("interpreter: calls, recursion and loops", "[interpreter]") {
  Fixture fx;
  CHECK(fx.call("fib", {i32(20)})[0].i32 == 6765);
  CHECK(fx.call("sum", {i32(100000)})[0].i64 == 4999950000ull);
  CHECK(fx.call("tee", {i32(5)})[0].i32 == 30);
  CHECK(fx.call("global", {})[0].i32 == 8);
  CHECK(fx.call("global", {})[0].i32 == 9);
  CHECK(fx.call("select", {i32(1)})[0].i64 == 5);
  CHECK(fx.call("select", {i32(0)})[0].i64 == 6);
  // A million tail calls run in constant stack.
  CHECK(fx.call("ret_call", {i32(1000000)})[0].i32 == 99);
}

TEST_CASE("interpreter: multi-value and br_table", "[interpreter]") {
  Fixture fx;
  auto r = fx.call("swap", {i32(1), i64(2)});
  REQUIRE(r.size() == 2);
  CHECK(r[0].i64 == 2);
  CHECK(r[1].i32 == 1);
  CHECK(fx.call("table", {i32(0)})[0].i32 == 10);
  CHECK(fx.call("table", {i32(1)})[0].i32 == 20);
  CHECK(fx.call("table", {i32(2)})[0].i32 == 30);
  CHECK(fx.call("table", {i32(-1u)})[0].i32 == 30);
}

TEST_CASE("interpreter: integer traps and edge cases", "[interpreter]") {
  Fixture fx;
  const uint32_t min = 0x80000000u;
  CHECK(fx.call("div_s", {i32(-7u), i32(2)})[0].i32 == -3u);
  CHECK(fx.trap_of("div_s", {i32(1), i32(0)}) == TrapKind::IntegerDivideByZero);
  CHECK(fx.trap_of("div_s", {i32(min), i32(-1u)}) == TrapKind::IntegerOverflow);
  CHECK(fx.call("rem_s", {i32(min), i32(-1u)})[0].i32 == 0);
  CHECK(fx.trap_of("rem_s", {i32(1), i32(0)}) == TrapKind::IntegerDivideByZero);
}

TEST_CASE("interpreter: float semantics", "[interpreter]") {
  Fixture fx;
  CHECK(fx.call("trunc", {f64(-2147483648.9)})[0].i32 == 0x80000000u);
  CHECK(fx.trap_of("trunc", {f64(2147483648.0)}) == TrapKind::IntegerOverflow);
  CHECK(fx.trap_of("trunc", {f64(std::nan(""))}) == TrapKind::InvalidConversionToInteger);
  CHECK(fx.call("sat", {f32(std::bit_cast<uint32_t>(-1.0f))})[0].i32 == 0);
  CHECK(fx.call("sat", {f32(std::bit_cast<uint32_t>(5e9f))})[0].i32 == 0xffffffffu);
  // Signalling NaNs keep their payload through locals and neg.
  CHECK(fx.call("fcopy", {f32(0x7fa00001)})[0].f32 == 0x7fa00001u);
  CHECK(fx.call("fneg", {f32(0x7fa00001)})[0].f32 == 0xffa00001u);
  CHECK(fx.call("fmin", {f64(-0.0), f64(0.0)})[0].f64 == 0x8000000000000000ull);
  CHECK(fx.call("fmin", {f64(0.0), f64(-0.0)})[0].f64 == 0x8000000000000000ull);
  uint64_t nan = fx.call("fmin", {f64(1.0), f64(std::nan(""))})[0].f64;
  CHECK((nan & 0x7ff8000000000000ull) == 0x7ff8000000000000ull);
}

TEST_CASE("interpreter: memory", "[interpreter]") {
  Fixture fx;
  fx.call("store", {i32(100), i32(0x12345678)});
  CHECK(fx.call("load", {i32(100)})[0].i32 == 0x12345678u);
  CHECK(fx.call("load", {i32(65532)})[0].i32 == 0);
  CHECK(fx.trap_of("load", {i32(65533)}) == TrapKind::OutOfBoundsMemoryAccess);
  CHECK(fx.trap_of("load", {i32(-1u)}) == TrapKind::OutOfBoundsMemoryAccess);
  CHECK(fx.trap_of("store", {i32(65536), i32(1)}) == TrapKind::OutOfBoundsMemoryAccess);
  // The interpreter still works after a fault was turned into a trap.
  CHECK(fx.call("load", {i32(100)})[0].i32 == 0x12345678u);
  CHECK(fx.trap_of("grow_and_load", {i32(0)}) == TrapKind::OutOfBoundsMemoryAccess);
  CHECK(fx.call("grow_and_load", {i32(1)})[0].i32 == 42);
  fx.call("fill", {i32(10), i32(7), i32(4)});
  CHECK(fx.call("load", {i32(10)})[0].i32 == 0x07070707u);
  CHECK(fx.trap_of("fill", {i32(10), i32(7), i32(200000)}) == TrapKind::OutOfBoundsMemoryAccess);
}

TEST_CASE("interpreter: call_indirect and host calls", "[interpreter]") {
  Fixture fx;
  CHECK(fx.call("indirect", {i32(0), i32(10)})[0].i32 == 55);
  CHECK(fx.call("indirect", {i32(1), i32(21)})[0].i32 == 42);
  CHECK(fx.trap_of("indirect", {i32(2), i32(1)}) == TrapKind::IndirectCallTypeMismatch);
  CHECK(fx.trap_of("indirect", {i32(3), i32(1)}) == TrapKind::UninitializedElement);
  CHECK(fx.trap_of("indirect", {i32(4), i32(1)}) == TrapKind::UndefinedElement);
  CHECK(fx.call("host", {i32(20)})[0].i32 == 41);
  CHECK(fx.nested_calls == 2);
}

TEST_CASE("interpreter: traps carry a backtrace; exhaustion is a trap", "[interpreter]") {
  Fixture fx;
  try {
    fx.call("unreachable", {});
    FAIL("no trap");
  } catch (const Trap& t) {
    CHECK(t.kind() == TrapKind::Unreachable);
    REQUIRE(t.backtrace().size() == 1);
    CHECK(t.backtrace()[0].func_index == 20);
  }
  try {
    fx.call("recurse", {i32(0)});
    FAIL("no trap");
  } catch (const Trap& t) {
    CHECK(t.kind() == TrapKind::CallStackExhausted);
    CHECK(t.backtrace().size() > 1000);
  }
  // Small limits: the value stack or the frame count runs out first.
  StoreLimits small;
  small.max_call_depth = 100;
  Fixture fx2(small);
  CHECK(fx2.trap_of("recurse", {i32(0)}) == TrapKind::CallStackExhausted);
  CHECK(fx2.call("fib", {i32(15)})[0].i32 == 610);
}
