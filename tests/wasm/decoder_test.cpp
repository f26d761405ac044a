#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "support/wasm_bytes.h"
#include "base/error.h"
#include "base/reader.h"
#include "wasm/code_reader.h"
#include "wasm/decoder.h"
#include "wasm/opcodes.h"

using weft::Error;
using weft::ErrorKind;
using weft::Reader;
using namespace weft::wasm;

namespace {

using namespace weft::test;

Bytes section(uint8_t id, const Bytes& content) { return cat({{id}, leb(content.size()), content}); }

Bytes module(std::initializer_list<Bytes> sections) {
  static constexpr uint8_t kHeader[] = {0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00};
  Bytes out;
  for (uint8_t b : kHeader) out.push_back(b);  // (insert trips GCC 12's -Warray-bounds)
  for (const Bytes& s : sections) out.insert(out.end(), s.begin(), s.end());
  return out;
}

// A function body: no locals, the given instructions, end.
Bytes body(const Bytes& code) {
  Bytes b = cat({{0x00}, code, {0x0b}});
  return cat({leb(b.size()), b});
}

std::shared_ptr<Module> decode(const Bytes& b) { return decode_module(b); }

// One module using every section and most encodings.
Bytes full_module() {
  Bytes name_section = section(0, cat({str("name"),
                                       {0x00}, leb(4), str("mod"),
                                       {0x01}, leb(10), {0x02}, {0x00}, str("imp"), {0x02}, str("fn")}));
  return module({
      section(1, cat({{0x02},
                      {0x60, 0x02, 0x7f, 0x7e, 0x01, 0x7d},  // (i32 i64) -> (f32)
                      {0x60, 0x00, 0x00}})),                 // () -> ()
      section(2, cat({{0x05},
                      str("env"), str("f"), {0x00, 0x01},
                      str("env"), str("t"), {0x01, 0x6f, 0x01, 0x01, 0x02},
                      str("env"), str("m"), {0x02, 0x03, 0x01, 0x02},      // shared, 1..2
                      str("env"), str("g"), {0x03, 0x7e, 0x01},
                      str("env"), str("e"), {0x04, 0x00, 0x01}})),
      section(3, {0x02, 0x01, 0x00}),
      section(4, {0x01, 0x70, 0x00, 0x0a}),
      section(5, cat({{0x02, 0x04}, leb(uint64_t{1} << 40), {0x00, 0x00}})),  // memory64 min 2^40
      section(13, {0x01, 0x00, 0x01}),
      section(6, {0x02, 0x7f, 0x00, 0x41, 0x2a, 0x0b,        // i32 42
                  0x70, 0x01, 0xd2, 0x01, 0x0b}),            // mut funcref (ref.func 1)
      section(7, cat({{0x02}, str("run"), {0x00, 0x01}, str("mem"), {0x02, 0x01}})),
      section(8, {0x01}),
      section(9, {0x04,
                  0x00, 0x41, 0x00, 0x0b, 0x02, 0x01, 0x02,          // active, table 0, funcs
                  0x01, 0x00, 0x01, 0x02,                            // passive funcs
                  0x06, 0x00, 0x41, 0x01, 0x0b, 0x70, 0x01, 0xd0, 0x70, 0x0b,  // table 0, exprs
                  0x07, 0x70, 0x00}),                                // declarative, no exprs
      section(12, {0x02}),
      section(10, cat({{0x02}, body({0x01}), body({0x41, 0x00, 0x1a})})),
      section(11, {0x02,
                   0x00, 0x41, 0x10, 0x0b, 0x03, 'a', 'b', 'c',      // active, memory 0
                   0x01, 0x02, 'x', 'y'}),                           // passive
      name_section,
  });
}

}  // namespace

TEST_CASE("opcode table: every op round-trips through lookup_op", "[opcodes]") {
  std::set<std::pair<uint8_t, uint32_t>> codes;
  size_t per_prefix[4] = {};
  for (size_t i = 0; i < static_cast<size_t>(Op::Count_); ++i) {
    Op op = static_cast<Op>(i);
    const OpInfo& info = op_info(op);
    CHECK(codes.insert({info.prefix, info.code}).second);
    Op found;
    REQUIRE(lookup_op(info.prefix, info.code, &found));
    CHECK(found == op);
    per_prefix[info.prefix == 0 ? 0 : info.prefix - 0xfb]++;
  }
  CHECK(per_prefix[0] == 193);  // single-byte
  CHECK(per_prefix[1] == 18);   // 0xfc
  CHECK(per_prefix[2] == 256);  // 0xfd: 236 SIMD + 20 relaxed
  CHECK(per_prefix[3] == 67);   // 0xfe
  Op op;
  CHECK_FALSE(lookup_op(0, 0x14, &op));
  CHECK_FALSE(lookup_op(0xfc, 18, &op));
  CHECK_FALSE(lookup_op(0xfd, 0x9a, &op));
  CHECK_FALSE(lookup_op(0xfd, 0x114, &op));
  CHECK_FALSE(lookup_op(0xfe, 0x04, &op));
  CHECK_FALSE(lookup_op(0xfe, 0x4f, &op));
  CHECK_FALSE(lookup_op(0xfb, 0, &op));
}

TEST_CASE("opcode table: spot checks", "[opcodes]") {
  CHECK(op_info(Op::I32Add).code == 0x6a);
  CHECK(std::string(op_info(Op::I32Add).text) == "i32.add");
  CHECK(op_info(Op::I32Add).sig == Sig::S_ii_i);
  CHECK(op_info(Op::SelectTyped).imm == Imm::SelectTypes);
  CHECK(op_info(Op::V128Load8Lane).code == 0x54);
  CHECK(op_info(Op::V128Load8Lane).imm == Imm::MemArgLane);
  CHECK(op_info(Op::V128Load64Zero).code == 0x5d);
  CHECK(std::string(op_info(Op::I32TruncSatF32S).text) == "i32.trunc_sat_f32_s");
  CHECK(op_info(Op::TableFill).code == 17);
  CHECK(op_info(Op::I32x4RelaxedDotI8x16I7x16AddS).code == 0x113);
  CHECK(std::string(op_info(Op::I8x16RelaxedSwizzle).text) == "i8x16.relaxed_swizzle");
  CHECK(op_info(Op::I32AtomicRmw8AddU).code == 0x20);
  CHECK(op_info(Op::I64AtomicRmw32CmpxchgU).code == 0x4e);
  CHECK(op_info(Op::I64AtomicRmw32CmpxchgU).sig == Sig::S_aII_I);
  CHECK(op_info(Op::MemoryAtomicWait32).sig == Sig::S_aiI_i);
  CHECK(op_info(Op::AtomicFence).imm == Imm::Zero);
  CHECK(op_info(Op::TryTable).code == 0x1f);
  CHECK(op_info(Op::ReturnCallIndirect).imm == Imm::CallIndirect);
}

TEST_CASE("code_reader: opcodes, locals, memargs", "[decoder]") {
  Bytes ops = {0x6a, 0xfd, 0x93, 0x02, 0xfe, 0x03, 0x00, 0xfc, 0x11};
  Reader r(ops);
  CHECK(read_op(r) == Op::I32Add);
  CHECK(read_op(r) == Op::I32x4RelaxedDotI8x16I7x16AddS);  // 0x113 as LEB
  CHECK(read_op(r) == Op::AtomicFence);
  r.u8();
  CHECK(read_op(r) == Op::TableFill);

  Bytes bad = {0xfd, 0x9a, 0x01};
  Reader rb(bad);
  CHECK_THROWS_WITH(read_op(rb), "illegal opcode");
  Bytes bad1 = {0x14};
  Reader rb1(bad1);
  CHECK_THROWS_WITH(read_op(rb1), "illegal opcode");

  std::vector<std::pair<uint32_t, ValType>> locals;
  Bytes l = {0x02, 0x03, 0x7f, 0x01, 0x7b};
  Reader rl(l);
  CHECK(decode_locals(rl, locals) == 4);
  CHECK(locals == std::vector<std::pair<uint32_t, ValType>>{{3, ValType::I32}, {1, ValType::V128}});
  Bytes many = {0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x02, 0x7e};
  Reader rm(many);
  CHECK_THROWS_WITH(decode_locals(rm, locals), "too many locals");
  Bytes badtype = {0x01, 0x01, 0x40};
  Reader rt(badtype);
  CHECK_THROWS_WITH(decode_locals(rt, locals), "malformed value type");

  std::vector<MemoryType> mems(2);
  mems[1].limits.is64 = true;
  Bytes m = cat({{0x42, 0x01}, leb(uint64_t{1} << 40), {0x03, 0x05}});
  Reader rmem(m);
  MemArg a = read_memarg(rmem, mems);
  CHECK(a.align == 2);
  CHECK(a.memory == 1);
  CHECK(a.offset == uint64_t{1} << 40);
  a = read_memarg(rmem, mems);
  CHECK(a.align == 3);
  CHECK(a.memory == 0);
  CHECK(a.offset == 5);
  Bytes m32 = cat({{0x00}, leb(uint64_t{1} << 40)});  // too wide for a 32-bit memory
  Reader r32(m32);
  CHECK_THROWS_WITH(read_memarg(r32, mems), "integer representation too long");
  Bytes wide = {0x3f, 0x00};  // exponent 63: decodes, the validator rejects it
  Reader rw(wide);
  CHECK(read_memarg(rw, mems).align == 63);
  Bytes flags = {0x80, 0x01, 0x00};
  Reader rf(flags);
  CHECK_THROWS_WITH(read_memarg(rf, mems), "malformed memop flags");
}

TEST_CASE("decoder: minimal module", "[decoder]") {
  auto m = decode(module({}));
  CHECK(m->types.empty());
  CHECK(m->funcs.empty());
  CHECK_FALSE(m->start);
  CHECK(m->func_name(3) == "func[3]");
}

TEST_CASE("decoder: every section", "[decoder]") {
  Bytes bytes = full_module();
  auto m = decode(bytes);
  REQUIRE(m->types.size() == 2);
  CHECK(to_string(m->types[0]) == "(i32 i64) -> (f32)");
  CHECK(to_string(m->types[1]) == "() -> ()");

  REQUIRE(m->imports.size() == 5);
  CHECK(m->imports[0].module == "env");
  CHECK(m->imports[0].name == "f");
  CHECK(m->imports[0].kind == ExternKind::Func);
  CHECK(m->imports[0].func_type == 1);
  CHECK(m->imports[1].kind == ExternKind::Table);
  CHECK(m->imports[1].table.elem == ValType::ExternRef);
  CHECK(m->imports[1].table.limits.max == 2u);
  CHECK(m->imports[2].memory.limits.shared);
  CHECK(m->imports[3].global.type == ValType::I64);
  CHECK(m->imports[3].global.mut);
  CHECK(m->imports[4].kind == ExternKind::Tag);
  CHECK(m->imports[4].tag.type_index == 1);
  CHECK(m->num_imported_funcs == 1);
  CHECK(m->num_imported_tables == 1);
  CHECK(m->num_imported_memories == 1);
  CHECK(m->num_imported_globals == 1);
  CHECK(m->num_imported_tags == 1);

  CHECK(m->funcs == std::vector<uint32_t>{1, 1, 0});
  REQUIRE(m->tables.size() == 2);
  CHECK(m->tables[1].elem == ValType::FuncRef);
  CHECK(m->tables[1].limits.min == 10);
  CHECK_FALSE(m->tables[1].limits.max);
  REQUIRE(m->memories.size() == 3);
  CHECK(m->memories[1].limits.is64);
  CHECK(m->memories[1].limits.min == uint64_t{1} << 40);
  REQUIRE(m->tags.size() == 2);

  REQUIRE(m->globals.size() == 3);
  CHECK(m->globals[0].init.size == 0);
  CHECK(m->globals[1].type.type == ValType::I32);
  CHECK(m->range(m->globals[1].init).size() == 3);
  CHECK(m->range(m->globals[1].init)[0] == 0x41);
  CHECK(m->range(m->globals[1].init)[2] == 0x0b);
  CHECK(m->globals[2].type.mut);
  CHECK(m->globals[2].type.type == ValType::FuncRef);

  REQUIRE(m->exports.size() == 2);
  CHECK(m->exports[0].name == "run");
  CHECK(m->exports[0].index == 1);
  CHECK(m->exports[1].kind == ExternKind::Memory);
  CHECK(m->start == 1u);

  REQUIRE(m->elems.size() == 4);
  CHECK(m->elems[0].mode == ElemSegment::Mode::Active);
  CHECK(m->elems[0].func_indices == std::vector<uint32_t>{1, 2});
  CHECK(m->range(m->elems[0].offset).size() == 3);
  CHECK(m->elems[1].mode == ElemSegment::Mode::Passive);
  CHECK(m->elems[1].size() == 1);
  CHECK(m->elems[2].mode == ElemSegment::Mode::Active);
  CHECK(m->elems[2].uses_exprs);
  REQUIRE(m->elems[2].exprs.size() == 1);
  CHECK(m->range(m->elems[2].exprs[0]).size() == 3);
  CHECK(m->elems[3].mode == ElemSegment::Mode::Declarative);
  CHECK(m->elems[3].size() == 0);

  CHECK(m->data_count == 2u);
  REQUIRE(m->bodies.size() == 2);
  CHECK(m->range(m->bodies[0].body).size() == 3);
  CHECK(m->range(m->bodies[1].body).size() == 5);
  CHECK(m->range(m->bodies[1].body)[1] == 0x41);

  REQUIRE(m->datas.size() == 2);
  CHECK(m->datas[0].mode == DataSegment::Mode::Active);
  auto init = m->range(m->datas[0].init);
  CHECK(std::string(init.begin(), init.end()) == "abc");
  CHECK(m->datas[1].mode == DataSegment::Mode::Passive);
  CHECK(m->datas[1].init.size == 2);

  CHECK(m->module_name == "mod");
  CHECK(m->func_name(0) == "imp");
  CHECK(m->func_name(2) == "fn");
  CHECK(m->func_name(1) == "func[1]");
}

TEST_CASE("decoder: constant expressions may hold any instruction", "[decoder]") {
  // A nested block and a memory op still decode; the validator rejects them.
  auto m = decode(module({section(6, {0x01, 0x7f, 0x00, 0x02, 0x7f, 0x41, 0x01, 0x0b, 0x0b})}));
  CHECK(m->globals[0].init.size == 6);
  m = decode(module({section(6, {0x01, 0x7f, 0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x0b})}));
  CHECK(m->globals[0].init.size == 6);
  CHECK_THROWS_WITH(decode(module({section(6, {0x01, 0x7f, 0x00, 0xf3, 0x0b})})), "illegal opcode");
}

TEST_CASE("decoder: malformed modules give the spec's message", "[decoder]") {
  struct Case {
    const char* what;
    Bytes bytes;
    const char* message;
  };
  const Bytes type0 = section(1, {0x01, 0x60, 0x00, 0x00});
  const std::vector<Case> cases = {
      {"empty", {}, "unexpected end"},
      {"short header", {0x00, 'a', 's'}, "unexpected end"},
      {"bad magic", {'a', 's', 'm', 0x00, 0x01, 0x00, 0x00, 0x00}, "magic header not detected"},
      {"no version", {0x00, 'a', 's', 'm', 0x01}, "unexpected end"},
      {"bad version", {0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00}, "unknown binary version"},
      {"section id 14", module({{0x0e, 0x01, 0x00}}), "malformed section id"},
      {"section id 0x7f", module({{0x7f, 0x01, 0x00}}), "malformed section id"},
      {"section too long", module({{0x01, 0x05, 0x00}}), "length out of bounds"},
      {"section short", module({{0x01, 0x02, 0x01, 0x60}}), "unexpected end of section or function"},
      {"section not consumed", module({section(1, {0x00, 0x00})}), "section size mismatch"},
      {"section order", module({section(3, {0x00}), type0}), "unexpected content after last section"},
      {"duplicate section", module({type0, type0}), "unexpected content after last section"},
      {"tag after global", module({section(6, {0x00}), section(13, {0x00})}),
       "unexpected content after last section"},
      {"custom name empty", module({{0x00, 0x00}}), "unexpected end"},
      {"custom name utf8", module({section(0, {0x01, 0xff})}), "malformed UTF-8 encoding"},
      {"import name utf8", module({section(2, {0x01, 0x01, 0xc0, 0x00, 0x00, 0x00})}),
       "malformed UTF-8 encoding"},
      {"func type form", module({section(1, {0x01, 0x5f, 0x00, 0x00})}), "malformed function type"},
      {"value type", module({section(1, {0x01, 0x60, 0x01, 0x40, 0x00})}), "malformed value type"},
      {"import kind", module({section(2, {0x01, 0x00, 0x00, 0x05, 0x00})}), "malformed import kind"},
      {"export kind", module({section(7, {0x01, 0x00, 0x05, 0x00})}), "malformed export kind"},
      {"table ref type", module({section(4, {0x01, 0x7f, 0x00, 0x00})}), "malformed reference type"},
      {"table shared", module({section(4, {0x01, 0x70, 0x03, 0x00, 0x01})}), "malformed limits flags"},
      {"memory flags", module({section(5, {0x01, 0x08, 0x00})}), "malformed limits flags"},
      {"memory32 min", module({section(5, {0x01, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10})}),
       "integer too large"},
      {"mutability", module({section(6, {0x01, 0x7f, 0x02, 0x41, 0x00, 0x0b})}), "malformed mutability"},
      {"global init without end", module({section(6, {0x01, 0x7f, 0x00, 0x41, 0x00})}),
       "unexpected end of section or function"},
      {"tag attribute", module({section(13, {0x01, 0x01, 0x00})}), "malformed tag attribute"},
      {"elem kind", module({section(9, {0x01, 0x08, 0x00})}), "malformed elements segment kind"},
      {"elem element kind", module({section(9, {0x01, 0x01, 0x01, 0x00})}), "malformed element kind"},
      {"elem ref type", module({section(9, {0x01, 0x05, 0x7f, 0x00})}), "malformed reference type"},
      {"data kind", module({section(11, {0x01, 0x03, 0x00})}), "malformed data segment kind"},
      {"data too long", module({section(11, {0x01, 0x01, 0x05, 'a'})}),
       "unexpected end of section or function"},
      {"functions without code", module({type0, section(3, {0x01, 0x00})}),
       "function and code section have inconsistent lengths"},
      {"code without functions", module({section(10, {0x01, 0x02, 0x00, 0x0b})}),
       "function and code section have inconsistent lengths"},
      {"more code than functions",
       module({type0, section(3, {0x01, 0x00}), section(10, {0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b})}),
       "function and code section have inconsistent lengths"},
      {"data count without data", module({section(12, {0x01})}),
       "data count and data section have inconsistent lengths"},
      {"data count mismatch", module({section(12, {0x02}), section(11, {0x01, 0x01, 0x00})}),
       "data count and data section have inconsistent lengths"},
      {"body too long", module({type0, section(3, {0x01, 0x00}), section(10, {0x01, 0x05, 0x00, 0x0b})}),
       "unexpected end of section or function"},
      {"leb too long", module({section(1, {0x80, 0x80, 0x80, 0x80, 0x80, 0x00})}),
       "integer representation too long"},
      {"concatenated modules", cat({module({}), module({})}), "length out of bounds"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    try {
      decode(c.bytes);
      FAIL("decoded");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Malformed);
      CHECK(std::string(e.what()) == c.message);
      CHECK(e.offset() <= c.bytes.size());
    }
  }
}

TEST_CASE("decoder: valid edge cases", "[decoder]") {
  // Zero counts, a zero data count without data, custom sections anywhere,
  // sections that the spec allows to be empty.
  CHECK_NOTHROW(decode(module({section(3, {0x00})})));
  CHECK_NOTHROW(decode(module({section(10, {0x00})})));
  CHECK_NOTHROW(decode(module({section(12, {0x00})})));
  CHECK_NOTHROW(decode(module({section(0, str("a")), section(1, {0x00}), section(0, str("")),
                               section(2, {0x00}), section(0, cat({str("b"), {1, 2, 3}}))})));
  // Non-minimal LEB encodings are fine within the size limit.
  auto m = decode(module({section(4, {0x01, 0x70, 0x00, 0x00}),
                          section(9, {0x01, 0x82, 0x00, 0x80, 0x00, 0x41, 0x00, 0x0b, 0x00, 0x00})}));
  REQUIRE(m->elems.size() == 1);
  CHECK(m->elems[0].mode == ElemSegment::Mode::Active);
  CHECK(m->elems[0].table == 0);
  // Shared memory without maximum decodes; the validator rejects it.
  m = decode(module({section(5, {0x01, 0x02, 0x01})}));
  CHECK(m->memories[0].limits.shared);
  CHECK_FALSE(m->memories[0].limits.max);
  // exnref value type.
  m = decode(module({section(1, {0x01, 0x60, 0x01, 0x69, 0x00})}));
  CHECK(m->types[0].params[0] == ValType::ExnRef);
}

TEST_CASE("decoder: a malformed name section is ignored", "[decoder]") {
  auto with_names = [](const Bytes& payload) {
    return module({section(1, {0x01, 0x60, 0x00, 0x00}), section(3, {0x01, 0x00}),
                   section(10, cat({{0x01}, body({})})), section(0, cat({str("name"), payload}))});
  };
  auto m = decode(with_names(cat({{0x01}, leb(5), {0x01, 0x00}, str("fn")})));
  CHECK(m->func_name(0) == "fn");
  // Invalid UTF-8 in a function name.
  m = decode(with_names(cat({{0x01}, leb(5), {0x01, 0x00, 0x02, 0xff, 0xfe}})));
  CHECK(m->func_names.empty());
  // Subsection longer than the section.
  m = decode(with_names(cat({{0x00}, leb(200), str("mod")})));
  CHECK(m->module_name.empty());
  // A good module name, then garbage: the module name is kept.
  m = decode(with_names(cat({{0x00}, leb(4), str("mod"), {0x01, 0xff}})));
  CHECK(m->module_name == "mod");
  // Huge name count.
  m = decode(with_names(cat({{0x01}, leb(5), {0xff, 0xff, 0xff, 0xff, 0x0f}})));
  CHECK(m->func_names.empty());
  // Local names (subsection 2) are skipped.
  m = decode(with_names(cat({{0x02}, leb(3), {0x00, 0x00, 0x00}, {0x01}, leb(5), {0x01, 0x00}, str("fn")})));
  CHECK(m->func_name(0) == "fn");
}

TEST_CASE("decoder: huge counts are rejected without allocating", "[decoder]") {
  const Bytes huge = {0xff, 0xff, 0xff, 0xff, 0x0f};
  for (uint8_t id : {1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 13}) {
    INFO(int(id));
    CHECK_THROWS_AS(decode(module({section(id, huge)})), Error);
  }
  // Vectors inside entries: params, elem function indices, data bytes, locals of
  // a body (not decoded here), br_table in a constant expression.
  CHECK_THROWS_AS(decode(module({section(1, cat({{0x01, 0x60}, huge, {0x00}}))})), Error);
  CHECK_THROWS_AS(decode(module({section(9, cat({{0x01, 0x01, 0x00}, huge}))})), Error);
  CHECK_THROWS_AS(decode(module({section(11, cat({{0x01, 0x01}, huge}))})), Error);
  CHECK_THROWS_AS(decode(module({section(6, cat({{0x01, 0x7f, 0x00, 0x0e}, huge, {0x0b}}))})), Error);
  CHECK_THROWS_AS(decode(module({section(6, cat({{0x01, 0x7f, 0x00, 0x1c}, huge, {0x0b}}))})), Error);
}

TEST_CASE("decoder: every truncation and byte flip either decodes or throws", "[decoder]") {
  const Bytes full = full_module();
  REQUIRE_NOTHROW(decode(full));
  size_t decoded = 0;
  for (size_t n = 0; n < full.size(); ++n) {
    Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      decode(prefix);
      ++decoded;
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Malformed);
    }
  }
  // Only prefixes ending at a section boundary before the function section
  // (header only, +type, +import) or just before the name section decode.
  CHECK(decoded == 4);
  for (size_t i = 8; i < full.size(); ++i) {
    for (uint8_t x : {0x01, 0x40, 0x80, 0xff}) {
      Bytes b = full;
      b[i] ^= x;
      try {
        decode(b);
      } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Malformed);
      }
    }
  }
}

TEST_CASE("decoder: a disabled proposal's encodings are malformed", "[decoder][features]") {
  // Each module decodes with every feature on and fails with `off` switched
  // off, with `message`.
  struct Case {
    const char* what;
    bool Features::*off;
    Bytes bytes;
    const char* message;
  };
  Bytes unit_type = section(1, {0x01, 0x60, 0x00, 0x00});
  Bytes v128_global = cat({{0x01, 0x7b, 0x00, 0xfd, 0x0c}, Bytes(16, 0), {0x0b}});
  const Case cases[] = {
      {"shared memory", &Features::threads, module({section(5, {0x01, 0x03, 0x01, 0x02})}),
       "malformed limits flags"},
      {"64-bit memory", &Features::memory64, module({section(5, {0x01, 0x04, 0x01})}),
       "malformed limits flags"},
      {"64-bit table", &Features::memory64, module({section(4, {0x01, 0x70, 0x04, 0x00})}),
       "malformed limits flags"},
      {"tag section", &Features::exceptions, module({unit_type, section(13, {0x01, 0x00, 0x00})}),
       "malformed section id"},
      {"tag import", &Features::exceptions,
       module({unit_type, section(2, cat({{0x01}, str("m"), str("t"), {0x04, 0x00, 0x00}}))}),
       "malformed import kind"},
      {"data count section", &Features::bulk_memory, module({section(12, {0x00})}),
       "malformed section id"},
      {"v128.const in a global", &Features::simd, module({section(6, v128_global)}), "illegal opcode"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK_NOTHROW(decode(c.bytes));
    Features f;
    f.*c.off = false;
    CHECK_THROWS_WITH(decode_module(c.bytes, f), c.message);
  }
}

TEST_CASE("code_reader: without multi-memory, memory indices are wasm 2.0's", "[decoder][features]") {
  std::vector<MemoryType> mems(1);
  // Flags 0x40: a memory index follows with multi-memory; in wasm 2.0 an
  // alignment exponent of 64, and exponents from 32 up are malformed.
  Bytes indexed = {0x40, 0x00, 0x00};
  Reader on(indexed);
  CHECK(read_memarg(on, mems, true).align == 0);
  Reader off(indexed);
  CHECK_THROWS_WITH(read_memarg(off, mems, false), "malformed memop flags");
  Bytes wide = {0x20, 0x00};
  Reader wide_on(wide);
  CHECK(read_memarg(wide_on, mems, true).align == 32);  // left to the validator
  Reader wide_off(wide);
  CHECK_THROWS_WITH(read_memarg(wide_off, mems, false), "malformed memop flags");
  Bytes natural = {0x1f, 0x00};
  Reader natural_off(natural);
  CHECK(read_memarg(natural_off, mems, false).align == 31);

  // memory.size's index: a u32, or a single reserved zero byte.
  for (Bytes index : {Bytes{0x01}, Bytes{0x80, 0x00}}) {
    Reader r_on(index);
    CHECK_NOTHROW(read_memidx(r_on, true));
    Reader r_off(index);
    CHECK_THROWS_WITH(read_memidx(r_off, false), "zero byte expected");
  }
  Bytes zero = {0x00};
  Reader rz(zero);
  CHECK(read_memidx(rz, false) == 0);
}

TEST_CASE("code_reader: a disabled proposal's opcodes are illegal", "[decoder][features]") {
  struct Case {
    bool Features::*off;
    Bytes op;
  };
  const Case cases[] = {
      {&Features::tail_call, {0x12}},           {&Features::exceptions, {0x08}},
      {&Features::threads, {0xfe, 0x03}},       {&Features::simd, {0xfd, 0x0c}},
      {&Features::relaxed_simd, {0xfd, 0x80, 0x02}}, {&Features::sign_ext, {0xc0}},
      {&Features::sat_float_to_int, {0xfc, 0x00}},   {&Features::bulk_memory, {0xfc, 0x0a}},
      {&Features::reference_types, {0xd0}},
  };
  for (const Case& c : cases) {
    Reader on(c.op);
    CHECK_NOTHROW(read_op(on, Features{}));
    Features f;
    f.*c.off = false;
    Reader off(c.op);
    CHECK_THROWS_WITH(read_op(off, f), "illegal opcode");
  }
}

TEST_CASE("features: wasmtime's -W names", "[features]") {
  Features f;
  bool* on = find_feature(f, "multi-memory");
  REQUIRE(on == &f.multi_memory);
  CHECK(find_feature(f, "tail-call") == &f.tail_call);
  CHECK(find_feature(f, "sign-extension") == &f.sign_ext);
  CHECK(find_feature(f, "multi_memory") == nullptr);
  CHECK(find_feature(f, "") == nullptr);
}
