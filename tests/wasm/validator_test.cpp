#include <catch2/catch.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "support/wasm_bytes.h"
#include "base/error.h"
#include "wasm/decoder.h"
#include "wasm/validator.h"

using namespace weft::wasm;
using weft::Error;
using weft::ErrorKind;

namespace {

constexpr ValType i32 = ValType::I32;
constexpr ValType i64 = ValType::I64;
constexpr ValType funcref = ValType::FuncRef;

// Builds a Module directly (no decoder involved): each function body is
// "no locals" + the given code + `end`.
struct TestModule {
  Module m;

  uint32_t type(std::vector<ValType> params, std::vector<ValType> results) {
    m.types.push_back({std::move(params), std::move(results)});
    return static_cast<uint32_t>(m.types.size() - 1);
  }
  uint32_t func(uint32_t type_index, std::initializer_list<uint8_t> code,
                std::initializer_list<uint8_t> locals = {0x00}) {
    ByteRange r{static_cast<uint32_t>(m.bytes.size()), 0};
    m.bytes.vec().insert(m.bytes.vec().end(), locals);
    m.bytes.vec().insert(m.bytes.vec().end(), code);
    m.bytes.vec().push_back(0x0b);
    r.size = static_cast<uint32_t>(m.bytes.size()) - r.offset;
    m.funcs.push_back(type_index);
    m.bodies.push_back({r});
    return static_cast<uint32_t>(m.funcs.size() - 1);
  }
  ConstExpr expr(std::initializer_list<uint8_t> code) {
    ConstExpr e{static_cast<uint32_t>(m.bytes.size()), static_cast<uint32_t>(code.size())};
    m.bytes.vec().insert(m.bytes.vec().end(), code);
    return e;
  }
  void memory(uint64_t min, bool shared = false, std::optional<uint64_t> max = std::nullopt) {
    MemoryType mt;
    mt.limits.min = min;
    mt.limits.max = max;
    mt.limits.shared = shared;
    m.memories.push_back(mt);
  }
  void global(ValType t, bool mut, std::initializer_list<uint8_t> init) {
    m.globals.push_back({{t, mut}, expr(init)});
  }
  uint32_t tag(uint32_t type_index) {
    m.tags.push_back({type_index});
    return static_cast<uint32_t>(m.tags.size() - 1);
  }
};

// Validates everything; returns "" on success, else the error message
// (requiring the given kind).
std::string check(const Module& m, ErrorKind kind = ErrorKind::Invalid) {
  try {
    validate(m, true);
  } catch (const Error& e) {
    CHECK(static_cast<int>(e.kind()) == static_cast<int>(kind));
    return e.what();
  }
  return "";
}

// One function of type `params -> results` with `code`.
std::string check_func(std::vector<ValType> params, std::vector<ValType> results,
                       std::initializer_list<uint8_t> code) {
  TestModule t;
  t.func(t.type(std::move(params), std::move(results)), code);
  return check(t.m);
}

}  // namespace

TEST_CASE("operand types of numeric instructions are checked", "[validator]") {
  CHECK(check_func({}, {i32}, {0x41, 0x01, 0x41, 0x02, 0x6a}) == "");
  CHECK(check_func({}, {i32}, {0x41, 0x01, 0x42, 0x02, 0x6a}) == "type mismatch");
  CHECK(check_func({}, {i32}, {0x41, 0x01}) == "");
  CHECK(check_func({}, {}, {0x41, 0x01}) == "type mismatch");   // leftover value
  CHECK(check_func({}, {i32}, {}) == "type mismatch");          // missing result
  CHECK(check_func({i32}, {i32}, {0x20, 0x00}) == "");
  CHECK(check_func({i32}, {i32}, {0x20, 0x01}) == "unknown local 1");
}

TEST_CASE("branches need existing labels of the right types", "[validator]") {
  CHECK(check_func({}, {}, {0x0c, 0x00}) == "");
  CHECK(check_func({}, {}, {0x0c, 0x01}) == "unknown label 1");
  CHECK(check_func({}, {}, {0x02, 0x40, 0x0c, 0x01, 0x0b}) == "");
  // br_table whose targets disagree in arity.
  CHECK(check_func({}, {i32}, {0x02, 0x40, 0x41, 0x00, 0x41, 0x00, 0x0e, 0x01, 0x00, 0x01, 0x0b}) ==
        "type mismatch");
  // br_if keeps the label's values on the stack.
  CHECK(check_func({}, {i32}, {0x41, 0x07, 0x41, 0x01, 0x0d, 0x00}) == "");
}

TEST_CASE("the stack is polymorphic after unreachable code", "[validator]") {
  CHECK(check_func({}, {i32}, {0x00, 0x6a}) == "");              // unreachable i32.add
  CHECK(check_func({}, {i32}, {0x41, 0x00, 0x0c, 0x00, 0x6a}) == "");  // br 0; i32.add
  CHECK(check_func({}, {}, {0x00, 0x42, 0x00, 0x6a, 0x1a}) == "type mismatch");
  CHECK(check_func({}, {}, {0x00, 0x1b, 0x1a}) == "");           // select of unknowns
  CHECK(check_func({}, {}, {0x00, 0x1b}) == "type mismatch");    // ... still leaves a value
  CHECK(check_func({}, {}, {0x02, 0x40, 0x00, 0x0b, 0x41, 0x00}) == "type mismatch");
}

TEST_CASE("blocks take parameters from a type index", "[validator]") {
  TestModule t;
  uint32_t bt = t.type({i32}, {i32});
  uint32_t ft = t.type({}, {i32});
  t.func(ft, {0x41, 0x01, 0x02, static_cast<uint8_t>(bt), 0x41, 0x02, 0x6a, 0x0b});
  CHECK(check(t.m) == "");

  TestModule u;
  bt = u.type({i32}, {i32});
  ft = u.type({}, {i32});
  u.func(ft, {0x02, static_cast<uint8_t>(bt), 0x41, 0x02, 0x6a, 0x0b});  // no param given
  CHECK(check(u.m) == "type mismatch");

  TestModule v;
  v.func(v.type({}, {}), {0x02, 0x05, 0x0b});
  CHECK(check(v.m) == "unknown type 5");
  // An if without else must produce what it consumes.
  CHECK(check_func({}, {i32}, {0x41, 0x00, 0x04, 0x7f, 0x41, 0x01, 0x0b}) == "type mismatch");
}

TEST_CASE("select needs matching numeric operands or an explicit type", "[validator]") {
  CHECK(check_func({}, {i32}, {0x41, 0x01, 0x41, 0x02, 0x41, 0x00, 0x1b}) == "");
  CHECK(check_func({}, {i32}, {0x41, 0x01, 0x42, 0x02, 0x41, 0x00, 0x1b}) == "type mismatch");
  CHECK(check_func({}, {}, {0xd0, 0x70, 0xd0, 0x70, 0x41, 0x00, 0x1b, 0x1a}) == "type mismatch");
  CHECK(check_func({}, {}, {0xd0, 0x70, 0xd0, 0x70, 0x41, 0x00, 0x1c, 0x01, 0x70, 0x1a}) == "");
  CHECK(check_func({}, {}, {0x41, 0x01, 0x41, 0x01, 0x41, 0x00, 0x1c, 0x02, 0x7f, 0x7f, 0x1a}) ==
        "invalid result arity");
}

TEST_CASE("memory instructions check memory, alignment and atomics", "[validator]") {
  auto load = [](std::initializer_list<uint8_t> code, bool with_memory = true) {
    TestModule t;
    if (with_memory) t.memory(1, true, 1);
    t.func(t.type({}, {}), code);
    return check(t.m);
  };
  CHECK(load({0x41, 0x00, 0x28, 0x02, 0x00, 0x1a}) == "");
  CHECK(load({0x41, 0x00, 0x28, 0x03, 0x00, 0x1a}) == "alignment must not be larger than natural");
  CHECK(load({0x41, 0x00, 0x2c, 0x01, 0x00, 0x1a}) == "alignment must not be larger than natural");
  CHECK(load({0x41, 0x00, 0x28, 0x02, 0x00, 0x1a}, false) == "unknown memory 0");
  CHECK(load({0x41, 0x00, 0x28, 0x42, 0x01, 0x00, 0x1a}) == "unknown memory 1");  // multi-memory
  CHECK(load({0x42, 0x00, 0x28, 0x02, 0x00, 0x1a}) == "type mismatch");
  // Atomics need exactly natural alignment.
  CHECK(load({0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a}) == "");
  CHECK(load({0x41, 0x00, 0xfe, 0x10, 0x01, 0x00, 0x1a}) == "atomic alignment must be natural");
  CHECK(load({0x41, 0x00, 0xfe, 0x12, 0x00, 0x00, 0x1a}) == "");  // i32.atomic.load8_u
  // memory.atomic.wait32: address, expected i32, timeout i64.
  CHECK(load({0x41, 0x00, 0x41, 0x00, 0x42, 0x00, 0xfe, 0x01, 0x02, 0x00, 0x1a}) == "");
}

TEST_CASE("memory64 addresses are i64", "[validator]") {
  TestModule t;
  t.memory(1);
  t.m.memories[0].limits.is64 = true;
  t.func(t.type({}, {}), {0x42, 0x00, 0x28, 0x02, 0x00, 0x1a, 0x3f, 0x00, 0x1a});
  CHECK(check(t.m) == "");
  t.func(t.type({}, {}), {0x41, 0x00, 0x28, 0x02, 0x00, 0x1a});
  CHECK(check(t.m) == "type mismatch");
}

TEST_CASE("lane immediates are bounded by the lane count", "[validator]") {
  auto simd = [](uint8_t opcode, uint8_t lane) {
    TestModule t;
    std::vector<uint8_t> code = {0xfd, 0x0c};  // v128.const
    code.resize(18, 0);
    code.insert(code.end(), {0xfd, opcode, lane, 0x1a});
    t.m.bytes.vec().push_back(0x00);
    ByteRange r{0, 0};
    t.m.bytes.vec().insert(t.m.bytes.vec().end(), code.begin(), code.end());
    t.m.bytes.vec().push_back(0x0b);
    r.size = static_cast<uint32_t>(t.m.bytes.size());
    t.m.funcs.push_back(t.type({}, {}));
    t.m.bodies.push_back({r});
    return check(t.m);
  };
  CHECK(simd(0x15, 15) == "");                    // i8x16.extract_lane_s
  CHECK(simd(0x15, 16) == "invalid lane index");
  CHECK(simd(0x1d, 1) == "");                     // i64x2.extract_lane
  CHECK(simd(0x1d, 2) == "invalid lane index");
}

TEST_CASE("globals: mutability and constant initialisers", "[validator]") {
  TestModule t;
  t.global(i32, false, {0x41, 0x00, 0x0b});
  t.func(t.type({}, {}), {0x41, 0x00, 0x24, 0x00});
  CHECK(check(t.m) == "global is immutable");

  TestModule u;
  u.global(i32, true, {0x41, 0x00, 0x0b});
  u.func(u.type({}, {}), {0x41, 0x00, 0x24, 0x00, 0x23, 0x01, 0x1a});
  CHECK(check(u.m) == "unknown global 1");

  TestModule c;
  c.global(i32, false, {0x41, 0x01, 0x41, 0x02, 0x6a, 0x0b});  // extended-const
  c.global(i64, false, {0x41, 0x00, 0x0b});
  CHECK(check(c.m) == "type mismatch");
  TestModule d;
  d.global(i32, false, {0x41, 0x01, 0x67, 0x0b});  // i32.clz
  CHECK(check(d.m) == "constant expression required");
  TestModule e;
  e.global(i32, false, {0x41, 0x00, 0x0b});
  e.global(i32, false, {0x23, 0x00, 0x0b});  // only imported globals are visible
  CHECK(check(e.m) == "unknown global 0");
}

TEST_CASE("ref.func needs a declared function", "[validator]") {
  TestModule t;
  uint32_t ft = t.type({}, {});
  t.func(ft, {0xd2, 0x00, 0x1a});
  CHECK(check(t.m) == "undeclared function reference");
  t.m.exports.push_back({"f", ExternKind::Func, 0});
  CHECK(check(t.m) == "");

  TestModule u;
  ft = u.type({}, {});
  u.func(ft, {0xd2, 0x00, 0x1a});
  ElemSegment seg;
  seg.mode = ElemSegment::Mode::Declarative;
  seg.func_indices = {0};
  u.m.elems.push_back(seg);
  CHECK(check(u.m) == "");
}

TEST_CASE("legacy exception handling: try, catch, rethrow, delegate", "[validator]") {
  TestModule t;
  uint32_t empty = t.type({}, {});
  uint32_t ti = t.type({i32}, {});
  t.tag(ti);
  // try (result i32) i32.const 1 catch 0 (pushes the i32) end drop
  t.func(empty, {0x06, 0x7f, 0x41, 0x01, 0x07, 0x00, 0x0b, 0x1a});
  // try catch_all rethrow 0 end
  t.func(empty, {0x06, 0x40, 0x19, 0x09, 0x00, 0x0b});
  // try delegate 0
  t.func(empty, {0x06, 0x40, 0x18, 0x00});
  CHECK(check(t.m) == "");

  t.func(empty, {0x06, 0x40, 0x09, 0x00, 0x0b});  // rethrow in the try part
  CHECK(check(t.m) == "invalid rethrow label");
  t.m.funcs.pop_back();
  t.m.bodies.pop_back();
  t.func(empty, {0x06, 0x40, 0x18, 0x01});  // delegate past the function
  CHECK(check(t.m) == "unknown label 1");
  t.m.funcs.pop_back();
  t.m.bodies.pop_back();
  t.func(empty, {0x06, 0x40, 0x07, 0x00, 0x0b});  // catch leaves the tag's i32
  CHECK(check(t.m) == "type mismatch");
  t.m.funcs.pop_back();
  t.m.bodies.pop_back();
  t.func(empty, {0x08, 0x00});  // throw without its argument
  CHECK(check(t.m) == "type mismatch");
}

TEST_CASE("exnref exception handling: try_table and throw_ref", "[validator]") {
  TestModule t;
  uint32_t empty = t.type({}, {});
  uint32_t ti = t.type({i32}, {});
  t.tag(ti);
  uint32_t ret_i32 = t.type({}, {i32});
  // block (result i32) try_table (catch 0 0) ... end unreachable end
  t.func(ret_i32, {0x02, 0x7f, 0x1f, 0x40, 0x01, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x0b});
  // block (result exnref) try_table (catch_all_ref 0) end unreachable end throw_ref
  t.func(empty, {0x02, 0x69, 0x1f, 0x40, 0x01, 0x03, 0x00, 0x0b, 0x00, 0x0b, 0x0a});
  CHECK(check(t.m) == "");
  // catch_ref to a label without the exnref
  t.func(ret_i32, {0x02, 0x7f, 0x1f, 0x40, 0x01, 0x01, 0x00, 0x00, 0x0b, 0x00, 0x0b});
  CHECK(check(t.m) == "type mismatch");

  // Clauses target labels outside the try_table: here the function's [].
  TestModule u;
  u.tag(u.type({}, {}));
  u.func(u.type({}, {}), {0x1f, 0x40, 0x01, 0x02, 0x00, 0x0b});  // catch_all 0
  CHECK(check(u.m) == "");
  u.func(u.type({}, {}), {0x1f, 0x40, 0x01, 0x03, 0x00, 0x0b});  // catch_all_ref 0
  CHECK(check(u.m) == "type mismatch");
  u.m.funcs.pop_back();
  u.m.bodies.pop_back();
  u.func(u.type({}, {}), {0x0a});  // throw_ref on an empty stack
  CHECK(check(u.m) == "type mismatch");
}

TEST_CASE("tail calls must return what the caller returns", "[validator]") {
  TestModule t;
  uint32_t ret_i32 = t.type({}, {i32});
  uint32_t ret_i64 = t.type({}, {i64});
  t.func(ret_i32, {0x41, 0x00});
  t.func(ret_i64, {0x42, 0x00});
  t.func(ret_i32, {0x12, 0x00});
  CHECK(check(t.m) == "");
  t.func(ret_i32, {0x12, 0x01});
  CHECK(check(t.m) == "type mismatch");
}

TEST_CASE("module-level rules", "[validator]") {
  TestModule t;
  uint32_t ft = t.type({i32}, {});
  t.func(ft, {});
  t.m.exports.push_back({"a", ExternKind::Func, 0});
  t.m.exports.push_back({"a", ExternKind::Func, 0});
  CHECK(check(t.m) == "duplicate export name");
  t.m.exports.pop_back();
  t.m.start = 0;
  CHECK(check(t.m) == "start function");

  TestModule mem;
  mem.memory(65537);
  CHECK(check(mem.m) == "memory size must be at most 65536 pages (4GiB)");
  TestModule mm;
  mm.memory(2, false, 1);
  CHECK(check(mm.m) == "size minimum must not be greater than maximum");
  TestModule sh;
  sh.memory(1, true);
  CHECK(check(sh.m) == "shared memory must have maximum");

  TestModule tag;
  tag.tag(tag.type({}, {i32}));
  CHECK(check(tag.m) == "non-empty tag result type");

  TestModule elem;
  elem.m.tables.push_back({ValType::ExternRef, {}});
  ElemSegment seg;
  seg.mode = ElemSegment::Mode::Active;
  seg.offset = elem.expr({0x41, 0x00, 0x0b});
  seg.type = funcref;
  elem.m.elems.push_back(seg);
  CHECK(check(elem.m) == "type mismatch");
}

TEST_CASE("body encoding problems are malformed", "[validator]") {
  TestModule t;
  uint32_t ft = t.type({}, {});
  t.func(ft, {0x02, 0x40});  // block never closed
  CHECK(check(t.m, ErrorKind::Malformed) == "END opcode expected");

  TestModule u;
  u.memory(1);
  u.m.datas.push_back({});
  u.func(u.type({}, {}), {0xfc, 0x09, 0x00});  // data.drop without a data count section
  CHECK(check(u.m, ErrorKind::Malformed) == "data count section required");
  u.m.data_count = 1;
  CHECK(check(u.m) == "");

  TestModule v;
  v.func(v.type({}, {}), {0xf6});  // no such opcode
  CHECK(check(v.m, ErrorKind::Malformed) == "illegal opcode");
}

TEST_CASE("a disabled proposal's modules are invalid or malformed", "[validator][features]") {
  // `build` makes a module that validates with every feature on; with `off`
  // switched off it fails with `message` of `kind`.
  struct Case {
    const char* what;
    bool Features::*off;
    void (*build)(TestModule&);
    const char* message;
    ErrorKind kind = ErrorKind::Invalid;
  };
  const Case cases[] = {
      {"two memories", &Features::multi_memory,
       [](TestModule& t) {
         t.memory(1);
         t.memory(1);
       },
       "multiple memories"},
      {"two shared memories", &Features::multi_memory,
       [](TestModule& t) {
         t.memory(1, true, 1);
         t.memory(1, true, 1);
       },
       "multiple memories"},
      {"memory.size with a LEB index", &Features::multi_memory,
       [](TestModule& t) {
         t.memory(1);
         t.func(t.type({}, {}), {0x3f, 0x80, 0x00, 0x1a});
       },
       "zero byte expected", ErrorKind::Malformed},
      {"load from an indexed memory", &Features::multi_memory,
       [](TestModule& t) {
         t.memory(1);
         t.func(t.type({}, {}), {0x41, 0x00, 0x28, 0x42, 0x00, 0x00, 0x1a});
       },
       "malformed memop flags", ErrorKind::Malformed},
      {"return_call", &Features::tail_call,
       [](TestModule& t) { t.func(t.type({}, {}), {0x12, 0x00}); }, "illegal opcode",
       ErrorKind::Malformed},
      {"atomic.fence", &Features::threads,
       [](TestModule& t) { t.func(t.type({}, {}), {0xfe, 0x03, 0x00}); }, "illegal opcode",
       ErrorKind::Malformed},
      {"throw", &Features::exceptions,
       [](TestModule& t) { t.func(t.type({}, {}), {0x08, static_cast<uint8_t>(t.tag(t.type({}, {})))}); },
       "illegal opcode", ErrorKind::Malformed},
      {"v128.const", &Features::simd,
       [](TestModule& t) {
         t.func(t.type({}, {}), {0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1a});
       },
       "illegal opcode", ErrorKind::Malformed},
      {"i32.add in a global's initialiser", &Features::extended_const,
       [](TestModule& t) { t.global(i32, false, {0x41, 0x01, 0x41, 0x02, 0x6a, 0x0b}); },
       "constant expression required"},
      {"two results", &Features::multi_value,
       [](TestModule& t) { t.func(t.type({}, {i32, i32}), {0x41, 0x00, 0x41, 0x00}); },
       "invalid result arity"},
      {"two tables", &Features::reference_types,
       [](TestModule& t) {
         t.m.tables.push_back({funcref, {}});
         t.m.tables.push_back({funcref, {}});
       },
       "multiple tables"},
      {"exported mutable global", &Features::mutable_globals,
       [](TestModule& t) {
         t.global(i32, true, {0x41, 0x00, 0x0b});
         t.m.exports.push_back({"g", ExternKind::Global, 0});
       },
       "mutable globals cannot be exported"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    TestModule on;
    c.build(on);
    CHECK(check(on.m) == "");
    TestModule off;
    c.build(off);
    off.m.features.*c.off = false;
    CHECK(check(off.m, c.kind) == c.message);
  }
}

namespace {

using weft::test::Bytes;
using weft::test::cat;
using weft::test::leb;
using weft::test::str;

const Bytes kHeader = {0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00};

Bytes section(uint8_t id, const Bytes& content) { return cat({{id}, leb(content.size()), content}); }

// The offset of a validation error in the decoded `bytes` (npos if valid).
size_t invalid_offset(const Bytes& bytes, const std::string& message) {
  auto m = decode_module(bytes);
  try {
    validate(*m, true);
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == message);
    CHECK(static_cast<int>(e.kind()) == static_cast<int>(ErrorKind::Invalid));
    return e.offset();
  }
  FAIL("valid: " << message);
  return Error::npos;
}

}  // namespace

TEST_CASE("module-level errors name the offending entry's offset", "[validator]") {
  // () -> (), one function of that type with an empty body.
  Bytes types = section(1, {0x01, 0x60, 0x00, 0x00});
  Bytes funcs = section(3, {0x01, 0x00});
  Bytes code = section(10, {0x01, 0x02, 0x00, 0x0b});

  SECTION("duplicate export name: the second entry") {
    Bytes first = cat({str("a"), {0x00, 0x00}});
    Bytes second = cat({str("a"), {0x00, 0x00}});
    Bytes prefix = cat({kHeader, types, funcs});
    Bytes exports = section(7, cat({{0x02}, first, second}));
    size_t expected = prefix.size() + 2 + 1 + first.size();  // id, size, count, first entry
    CHECK(invalid_offset(cat({prefix, exports, code}), "duplicate export name") == expected);
  }
  SECTION("unknown index in an export") {
    Bytes prefix = cat({kHeader, types, funcs});
    Bytes exports = section(7, cat({{0x01}, str("f"), {0x00, 0x05}}));
    CHECK(invalid_offset(cat({prefix, exports, code}), "unknown function 5") == prefix.size() + 3);
  }
  SECTION("memory limits: the memory's entry") {
    Bytes prefix = cat({kHeader, types, funcs});
    Bytes memory = section(5, {0x01, 0x01, 0x02, 0x01});  // min 2, max 1
    CHECK(invalid_offset(cat({prefix, memory, code}), "size minimum must not be greater than maximum") ==
          prefix.size() + 3);
  }
  SECTION("imported memory limits: the import entry") {
    Bytes import = cat({str("m"), str("mem"), {0x02, 0x00}, leb(65537)});
    Bytes imports = section(2, cat({{0x01}, import}));
    CHECK(invalid_offset(cat({kHeader, imports}), "memory size must be at most 65536 pages (4GiB)") ==
          kHeader.size() + 3);
  }
  SECTION("start function") {
    Bytes one_param = section(1, {0x01, 0x60, 0x01, 0x7f, 0x00});
    Bytes prefix = cat({kHeader, one_param, funcs});
    Bytes start = section(8, {0x00});
    CHECK(invalid_offset(cat({prefix, start, code}), "start function") == prefix.size() + 2);
  }
  SECTION("hand-built modules have no offsets") {
    TestModule t;
    t.m.exports.push_back({"a", ExternKind::Func, 0});
    t.m.exports.push_back({"a", ExternKind::Func, 0});
    t.func(t.type({}, {}), {});
    try {
      validate(t.m, true);
      FAIL("valid");
    } catch (const Error& e) {
      CHECK(e.offset() == Error::npos);
    }
  }
}
