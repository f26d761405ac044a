// WAVE parsing and printing against interned component types.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "base/error.h"
#include "component/types.h"
#include "component/value.h"
#include "component/wave.h"

using weft::Error;
using weft::ErrorKind;
using namespace weft::component;

namespace {

struct Types {
  TypeStore store;

  const Type* prim(TypeKind k) { return store.primitive(k); }
  const Type* list(const Type* e, uint32_t length = 0) {
    Type t{TypeKind::List};
    t.a = e;
    t.length = length;
    return store.intern(t);
  }
  const Type* option(const Type* e) {
    Type t{TypeKind::Option};
    t.a = e;
    return store.intern(t);
  }
  const Type* result(const Type* ok, const Type* err) {
    Type t{TypeKind::Result};
    t.a = ok;
    t.b = err;
    return store.intern(t);
  }
  const Type* tuple(std::vector<const Type*> elems) {
    Type t{TypeKind::Tuple};
    t.elems = std::move(elems);
    return store.intern(t);
  }
  // Record fields, Variant cases (null type: no payload), Func params.
  const Type* fields(TypeKind k, std::vector<Field> fields, const Type* result = nullptr) {
    Type t{k};
    t.fields = std::move(fields);
    t.a = result;
    return store.intern(t);
  }
  const Type* labels(TypeKind k, std::vector<std::string> labels) {
    Type t{k};
    t.labels = std::move(labels);
    return store.intern(t);
  }
  const Type* handle(TypeKind k, const Type* resource) {
    Type t{k};
    t.a = resource;
    return store.intern(t);
  }
};

bool same(const Val& a, const Val& b) {
  if (a.type != b.type || a.bits != b.bits || a.str != b.str || a.case_index != b.case_index ||
      a.flags != b.flags || a.items.size() != b.items.size())
    return false;
  if (std::isnan(a.f64) != std::isnan(b.f64)) return false;
  if (!std::isnan(a.f64) && std::bit_cast<uint64_t>(a.f64) != std::bit_cast<uint64_t>(b.f64)) return false;
  for (size_t i = 0; i < a.items.size(); ++i)
    if (!same(a.items[i], b.items[i])) return false;
  return true;
}

// `text` parses, prints as `canonical`, and the canonical text parses back
// to the same value.
void round_trip(const std::string& text, const Type* t, const std::string& canonical) {
  INFO("text: " << text);
  Val v = parse_wave(text, t);
  CHECK(print_wave(v) == canonical);
  CHECK(same(parse_wave(canonical, t), v));
}
void round_trip(const std::string& text, const Type* t) { round_trip(text, t, text); }

// The usage error that parsing `text` raises, which must contain `part`.
void rejects(const std::string& text, const Type* t, const std::string& part) {
  INFO("text: " << text);
  try {
    parse_wave(text, t);
    FAIL("parsed");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Usage);
    CHECK_THAT(e.what(), Catch::Contains(part));
  }
}

std::string call_error(const std::string& call, const Type* func) {
  try {
    parse_wave_args(call, func, nullptr);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Usage);
    return e.what();
  }
  return "parsed";
}

}  // namespace

TEST_CASE("wave: bools and integers", "[wave]") {
  Types ty;
  const Type* u8 = ty.prim(TypeKind::U8);
  const Type* s8 = ty.prim(TypeKind::S8);
  const Type* u32 = ty.prim(TypeKind::U32);
  round_trip("true", ty.prim(TypeKind::Bool));
  round_trip("  false // no\n", ty.prim(TypeKind::Bool), "false");
  round_trip("0", u8);
  round_trip("255", u8);
  round_trip("-0", u8, "0");
  round_trip("-0", s8, "0");
  round_trip("-128", s8);
  round_trip("127", s8);
  CHECK(parse_wave("-1", s8).bits == ~uint64_t{0});  // sign-extended, as Val keeps it
  round_trip("65535", ty.prim(TypeKind::U16));
  round_trip("-32768", ty.prim(TypeKind::S16));
  round_trip("4294967295", u32);
  round_trip("-2147483648", ty.prim(TypeKind::S32));
  round_trip("18446744073709551615", ty.prim(TypeKind::U64));
  round_trip("-9223372036854775808", ty.prim(TypeKind::S64));
  round_trip("9223372036854775807", ty.prim(TypeKind::S64));

  rejects("    abc", u32, "expected u32 at column 5, found \"abc\"");
  rejects("256", u8, "integer 256 out of range for u8 at column 1");
  rejects("-1", u32, "integer -1 out of range for u32");
  rejects("128", s8, "out of range for s8");
  rejects("-129", s8, "out of range for s8");
  rejects("18446744073709551616", ty.prim(TypeKind::U64), "out of range for u64");
  rejects("-9223372036854775809", ty.prim(TypeKind::S64), "out of range for s64");
  rejects("1.5", u32, "expected u32 at column 1, found \"1.5\"");
  rejects("1e3", u32, "expected u32");
  rejects("007", u32, "invalid number \"007\"");
  rejects("12abc", u32, "invalid number \"12abc\"");
  rejects("TRUE", ty.prim(TypeKind::Bool), "expected bool at column 1, found \"TRUE\"");
  rejects("True", ty.prim(TypeKind::Bool), "invalid label \"True\" at column 1");
  rejects("%true", ty.prim(TypeKind::Bool), "expected bool");
  rejects("\"1\"", u32, "expected u32 at column 1, found string \"1\"");
  rejects("", u32, "expected u32 at column 1, found end of input");
  rejects("1 2", u8, "trailing characters after the value at column 3, found \"2\"");
  rejects("1,", u8, "trailing characters");
  rejects("1 $", u8, "unexpected character \"$\" at column 3");
  rejects("\xff", u8, "not valid UTF-8");
}

TEST_CASE("wave: floats", "[wave]") {
  Types ty;
  const Type* f32 = ty.prim(TypeKind::F32);
  const Type* f64 = ty.prim(TypeKind::F64);
  for (const char* zero : {"0", "0.0", "0e0", "0.0e0", "0e-1", "0e+1", "0.000e100"}) round_trip(zero, f32, "0");
  round_trip("-0.0e-0", f32, "-0");
  round_trip("-3.1415", f32);
  round_trip("-100000", f32);
  round_trip("nan", f32);
  round_trip("inf", f32);
  round_trip("-inf", f64);
  round_trip("0.1", f32);
  round_trip("0.1", f64);
  round_trip("6.022e+23", f64, "602200000000000000000000");
  // Largest f32, rounding, overflow and underflow, as wasm-wave reads them.
  round_trip("3.4028234664e38", f32, "340282350000000000000000000000000000000");
  round_trip("3.4028234664123e38", f32, "340282350000000000000000000000000000000");
  round_trip("3.4028234664e39", f32, "inf");
  round_trip("-3.4028234664e39", f32, "-inf");
  round_trip("1.4012984643e-45", f32, "0.000000000000000000000000000000000000000000001");
  round_trip("1.4012984643e-46", f32, "0");
  round_trip("1e999", f64, "inf");
  round_trip("-1e-999", f64, "-0");
  round_trip("5e-324", f64, "0." + std::string(323, '0') + "5");
  round_trip("1.7976931348623157e308", f64, "17976931348623157" + std::string(292, '0'));
  CHECK(std::signbit(parse_wave("-0", f64).f64));
  CHECK(parse_wave("16777217", f32).f32() == 16777216.0f);  // rounded as an f32, not via f64

  rejects("NaN", f32, "invalid label \"NaN\"");
  rejects("-nan", f64, "invalid number \"-nan\"");
  rejects("infinity", f64, "expected f64 at column 1, found \"infinity\"");
  rejects("%inf", f64, "expected f64");
  rejects("1.", f64, "invalid number \"1.\"");
  rejects(".5", f64, "unexpected character \".\"");
  rejects("+1", f64, "unexpected character \"+\"");
  rejects("1e", f64, "invalid number");

  // Shortest round-trip printing is exact for any bit pattern.
  uint64_t seed = 0x9e3779b97f4a7c15;
  for (int i = 0; i < 4000; ++i) {
    seed = seed * 6364136223846793005 + 1442695040888963407;
    Val v;
    if (i % 2) {
      v.type = f64;
      v.f64 = std::bit_cast<double>(seed);
    } else {
      v.type = f32;
      v.f64 = std::bit_cast<float>(static_cast<uint32_t>(seed >> 32));
    }
    if (std::isnan(v.f64)) continue;
    std::string text = print_wave(v);
    INFO(text);
    REQUIRE(same(parse_wave(text, v.type), v));
  }
}

TEST_CASE("wave: chars and strings", "[wave]") {
  Types ty;
  const Type* ch = ty.prim(TypeKind::Char);
  const Type* str = ty.prim(TypeKind::String);
  round_trip("'x'", ch);
  round_trip("'🌊'", ch);
  round_trip("'\\u{1F600}'", ch, "'😀'");
  round_trip("'\\u{000078}'", ch, "'x'");
  CHECK(parse_wave("'\\u{1F600}'", ch).bits == 0x1f600);
  round_trip("'\\n'", ch);
  round_trip("'\\''", ch);
  round_trip("'\"'", ch, "'\\\"'");  // quotes are always escaped, as wasmtime prints them
  round_trip("'\\\\'", ch);
  round_trip("'\\u{0}'", ch);
  round_trip("'\\u{7f}'", ch);
  round_trip("'\t'", ch, "'\\t'");

  round_trip("\"\"", str);
  round_trip("\"abc\\t123\"", str);
  round_trip("\"WAVE🌊\"", str);
  round_trip("\"it's\"", str, "\"it\\'s\"");
  round_trip("\"\\\\\\'\\\"\\t\\n\\r\"", str);
  round_trip("\"☃\\u{2603}\\u{002603}\"", str, "\"☃☃☃\"");
  round_trip("\"a\\u{200b}b\\u{301}\"", str);  // invisible and combining chars stay escaped
  round_trip("\"\\u{1b}[0m\"", str);

  // Multiline strings (the spec's examples).
  round_trip("\"\"\"\n\"\"\"", str, "\"\"");
  round_trip("\"\"\"\nA single line\n\"\"\"", str, "\"A single line\"");
  round_trip("\"\"\"\n    Indentation determined\n      by ending delimiter\n  \"\"\"", str,
             "\"  Indentation determined\\n    by ending delimiter\"");
  round_trip("\"\"\"\r\n  Must escape carriage return at end of line: \\r\r\n  Must break up double quote triplets: "
             "\"\"\\\"\"\r\n  \"\"\"",
             str, "\"Must escape carriage return at end of line: \\r\\nMust break up double quote triplets: "
                  "\\\"\\\"\\\"\\\"\"");
  round_trip("\"\"\"\n\nEmpty leading and trailing lines are retained\n\n\"\"\"", str,
             "\"\\nEmpty leading and trailing lines are retained\\n\"");

  rejects("''", ch, "empty char literal at column 1");
  rejects("'ab'", ch, "char literal holds more than one character");
  rejects("'☃☃'", ch, "more than one character");
  rejects("'x", ch, "unterminated char literal");
  rejects("'\\z'", ch, "invalid escape \"\\z\" at column 2");
  rejects("'\\x1f'", ch, "invalid escape");
  rejects("'\\u1f'", ch, "invalid escape");
  rejects("'\\u{}'", ch, "invalid escape");
  rejects("'\\u{1f'", ch, "invalid escape");
  rejects("'\\u{1234567}'", ch, "at most 6 hex digits");
  rejects("'\\u{110000}'", ch, "not a Unicode scalar value");
  rejects("'\\u{d800}'", ch, "not a Unicode scalar value");
  rejects("'x'", str, "expected string at column 1, found char 'x'");
  rejects("\"abc", str, "unterminated string at column 1");
  rejects("\"a\nb\"", str, "unterminated string at line 1, column 1");
  rejects("\"\\q\"", str, "invalid escape \"\\q\" at column 2");
  rejects("\"\\u{dc00}\"", str, "not a Unicode scalar value");
  rejects("\"\"\"\"\"\"", str, "opening \"\"\" must be followed by a line break");
  rejects("\"\"\"x\n\"\"\"", str, "opening \"\"\" must be followed by a line break");
  rejects("\"\"\"\nabc\"\"\"", str, "closing \"\"\" must be preceded only by spaces");
  rejects("\"\"\"\nabc\n  \"\"\"", str, "lines must be indented at least as much");
  rejects("\"\"\"\nabc\n", str, "unterminated multiline string");
  rejects("\"\"\"\n\\j\n\"\"\"", str, "invalid escape \"\\j\" at line 2, column 1");
}

TEST_CASE("wave: lists and tuples", "[wave]") {
  Types ty;
  const Type* u8 = ty.prim(TypeKind::U8);
  const Type* lu8 = ty.list(u8);
  round_trip("[]", lu8);
  round_trip("[1, 2, 3]", lu8);
  round_trip("[ 1,2 , 3, ]", lu8, "[1, 2, 3]");
  round_trip("[[], [1], [2, 3]]", ty.list(lu8));
  round_trip("['a', 'b']", ty.list(ty.prim(TypeKind::Char)));
  round_trip("[1, 2, 3]", ty.list(u8, 3));
  round_trip("(\"abc\", 123)", ty.tuple({ty.prim(TypeKind::String), u8}));
  round_trip("(1, (true,),)", ty.tuple({u8, ty.tuple({ty.prim(TypeKind::Bool)})}), "(1, (true))");

  // list<u8> (also fixed-length) holds its bytes in Val::str; other lists hold items.
  Val bytes = parse_wave("[0, 1, 255]", lu8);
  CHECK(bytes.str == std::string("\x00\x01\xff", 3));
  CHECK(bytes.items.empty());
  CHECK(parse_wave("[7, 8, 9]", ty.list(u8, 3)).str == "\x07\x08\x09");
  CHECK(parse_wave("[]", lu8).str.empty());
  Val nested = parse_wave("[[1], [], [2, 3]]", ty.list(lu8));
  REQUIRE(nested.items.size() == 3);
  CHECK(nested.items[2].str == "\x02\x03");
  Val words = parse_wave("[1, 2]", ty.list(ty.prim(TypeKind::U16)));
  CHECK(words.items.size() == 2);
  CHECK(words.str.empty());
  Val made;
  made.type = lu8;
  made.str = std::string("\xff\x00" "a", 3);
  CHECK(print_wave(made) == "[255, 0, 97]");

  rejects("[1,,]", lu8, "expected u8 at column 4, found \",\"");
  rejects("[,]", lu8, "expected u8 at column 2");
  rejects("[1 2]", lu8, "expected \",\" or \"]\" at column 4, found \"2\"");
  rejects("[1, 2", lu8, "found end of input");
  rejects("[1, 256]", lu8, "integer 256 out of range for u8 at column 5");
  rejects("(1)", lu8, "expected list<u8> at column 1, found \"(\"");
  rejects("[1, 2]", ty.list(u8, 3), "expected 3 elements for list<u8, 3> at column 6, found 2");
  const Type* pair = ty.tuple({u8, u8});
  rejects("(1)", pair, "expected 2 elements for tuple<u8, u8>");
  rejects("(1, 2, 3)", pair, "too many elements for tuple<u8, u8> at column 8");
  rejects("()", pair, "expected 2 elements");

  // Nesting is bounded, not a stack overflow.
  const Type* deep = u8;
  for (int i = 0; i < 150; ++i) deep = ty.list(deep);
  rejects(std::string(150, '[') + std::string(150, ']'), deep, "value nested too deeply");
}

TEST_CASE("wave: records", "[wave]") {
  Types ty;
  const Type* u8 = ty.prim(TypeKind::U8);
  const Type* ou8 = ty.option(u8);
  const Type* example = ty.fields(TypeKind::Record, {{"must-have", u8}, {"optional", ou8}});
  round_trip("{must-have: 123}", example);
  round_trip("{must-have: 123, optional: none,}", example, "{must-have: 123}");
  round_trip("{optional: some(2), must-have: 1}", example, "{must-have: 1, optional: some(2)}");
  round_trip("{must-have: 1, optional: 5}", example, "{must-have: 1, optional: some(5)}");
  round_trip("{%must-have: 1}", example, "{must-have: 1}");
  Val v = parse_wave("{must-have: 7}", example);
  REQUIRE(v.items.size() == 2);
  CHECK(v.items[1].type == ou8);
  CHECK(v.items[1].case_index == 0);

  const Type* all_optional = ty.fields(TypeKind::Record, {{"a", ou8}, {"b", ou8}});
  round_trip("{:}", all_optional);
  round_trip("{ : }", all_optional, "{:}");
  round_trip("{a: none, b: none}", all_optional, "{:}");
  round_trip("{b: some(2), a: some(1)}", all_optional, "{a: some(1), b: some(2)}");

  // Keywords need no `%` as field names.
  const Type* unit = ty.result(nullptr, nullptr);
  const Type* keywords = ty.fields(TypeKind::Record, {{"true", ty.prim(TypeKind::Bool)},
                                                      {"none", ou8},
                                                      {"ok", unit},
                                                      {"inf", ty.prim(TypeKind::F32)}});
  round_trip("{true: true, none: none, ok: ok, inf: inf}", keywords, "{true: true, ok: ok, inf: inf}");

  rejects("{optional: none}", example, "missing field \"must-have\" of record { must-have: u8, optional: option<u8> }");
  rejects("{must-have: 1, other: 2}", example, "unknown field \"other\" of record");
  rejects("{must-have: 1, must-have: 2}", example, "duplicate field \"must-have\" at column 16");
  rejects("{must-have 1}", example, "expected \":\" after the field name at column 12, found \"1\"");
  rejects("{must-have: 0,, }", example, "expected a field of record");
  rejects("{}", all_optional, "write {:} when every field is left out");
  rejects("{must-have: 1", example, "found end of input");
  rejects("[1]", example, "expected record");
}

TEST_CASE("wave: variants and enums", "[wave]") {
  Types ty;
  const Type* str = ty.prim(TypeKind::String);
  const Type* response = ty.fields(TypeKind::Variant, {{"empty", nullptr},
                                                       {"body", ty.list(ty.prim(TypeKind::U8))},
                                                       {"err", str},
                                                       {"none", nullptr}});
  round_trip("empty", response);
  round_trip("body([79, 75])", response);
  round_trip("%err(\"oops\")", response);
  round_trip("%none", response);
  round_trip("%empty", response, "empty");
  CHECK(parse_wave("%none", response).case_index == 3);

  rejects("err(\"oops\")", response, "found \"err\" (the case err is written %err)");
  rejects("nope", response, "unknown case \"nope\" of variant");
  rejects("body", response, "case \"body\" needs a payload, body(<list<u8>>) at column 5, found end of input");
  rejects("empty(1)", response, "case \"empty\" has no payload at column 6");
  rejects("body([1]", response, "expected \")\"");

  const Type* dir = ty.labels(TypeKind::Enum, {"south", "west", "ok"});
  round_trip("south", dir);
  round_trip("%ok", dir);
  round_trip("%west", dir, "west");
  rejects("ok", dir, "the case ok is written %ok");
  rejects("north", dir, "unknown case \"north\" of enum { south, west, ok }");
  rejects("none", dir, "expected enum { south, west, ok } at column 1, found \"none\"");
}

TEST_CASE("wave: options and results", "[wave]") {
  Types ty;
  const Type* u8 = ty.prim(TypeKind::U8);
  const Type* ou8 = ty.option(u8);
  round_trip("none", ou8);
  round_trip("some(1)", ou8);
  round_trip("123", ou8, "some(123)");
  const Type* oou8 = ty.option(ou8);
  round_trip("some(none)", oou8);
  round_trip("some(some(1))", oou8);
  round_trip("some(1)", oou8, "some(some(1))");
  const Type* enum_opt = ty.option(ty.labels(TypeKind::Enum, {"none", "all"}));
  round_trip("%none", enum_opt, "some(%none)");
  round_trip("none", enum_opt);

  rejects("1", oou8, "expected option<option<u8>> at column 1, found \"1\"");
  rejects("some", ou8, "case \"some\" needs a payload");
  rejects("some()", ou8, "expected u8 at column 6, found \")\"");
  rejects("none(0)", ou8, "case \"none\" has no payload");
  rejects("some(some(0))", ou8, "expected u8 at column 6, found \"some\"");

  const Type* ok_u8 = ty.result(u8, nullptr);
  round_trip("ok(1)", ok_u8);
  round_trip("123", ok_u8, "ok(123)");
  round_trip("err", ok_u8);
  const Type* err_str = ty.result(nullptr, ty.prim(TypeKind::String));
  round_trip("ok", err_str);
  round_trip("err(\"oops\")", err_str);
  const Type* unit = ty.result(nullptr, nullptr);
  round_trip("ok", unit);
  round_trip("err", unit);
  const Type* both = ty.result(u8, u8);
  round_trip("err(2)", both);
  round_trip("2", both, "ok(2)");
  round_trip("ok(ok)", ty.result(unit, nullptr));

  rejects("ok", ok_u8, "case \"ok\" needs a payload");
  rejects("err(0)", ok_u8, "case \"err\" has no payload");
  rejects("ok(0)", unit, "case \"ok\" has no payload");
  rejects("5", err_str, "expected result<_, string> at column 1, found \"5\"");
  rejects("ok", ty.result(unit, nullptr), "case \"ok\" needs a payload");
}

TEST_CASE("wave: flags", "[wave]") {
  Types ty;
  const Type* perms = ty.labels(TypeKind::Flags, {"read", "write", "exec"});
  round_trip("{}", perms);
  round_trip("{read}", perms);
  round_trip("{write, read,}", perms, "{read, write}");
  round_trip("{%exec, read}", perms, "{read, exec}");
  CHECK(parse_wave("{exec}", perms).flags == std::vector<uint32_t>{4});
  round_trip("{%ok, none}", ty.labels(TypeKind::Flags, {"none", "ok"}), "{none, ok}");  // keywords need no `%`

  std::vector<std::string> many;
  for (int i = 0; i < 40; ++i) many.push_back(std::string("f").append(std::to_string(i)));
  const Type* wide = ty.labels(TypeKind::Flags, many);
  round_trip("{f1, f35, f39}", wide);
  CHECK(parse_wave("{f35}", wide).flags == std::vector<uint32_t>{0, 8});

  rejects("{read, execute}", perms, "unknown flag \"execute\" of flags { read, write, exec } at column 8");
  rejects("{read, read}", perms, "duplicate flag \"read\" at column 8");
  rejects("{:}", perms, "expected a flag of flags");
  rejects("{read write}", perms, "expected \",\" or \"}\"");
}

TEST_CASE("wave: handles are a marked weft extension", "[wave]") {
  Types ty;
  const Type* res = ty.store.fresh_resource(weft::wasm::ValType::I32, std::nullopt, false);
  const Type* own = ty.handle(TypeKind::Own, res);
  const Type* borrow = ty.handle(TypeKind::Borrow, res);
  round_trip("#own(3)", own);
  round_trip("# borrow ( 0 )", borrow, "#borrow(0)");
  round_trip("#error-context(1)", ty.prim(TypeKind::ErrorContext));
  CHECK(parse_wave("#own(7)", own).bits == 7);
  rejects("3", own, "a weft extension: WAVE has no handle values");
  rejects("#own(1)", borrow, "expected \"borrow\" after \"#\"");
  rejects("#own(-1)", own, "out of range for u32");
}

TEST_CASE("wave: printing values built by hand", "[wave]") {
  Types ty;
  Val s;
  s.type = ty.prim(TypeKind::String);
  s.str = "quote\" apostrophe' tab\t nul";
  s.str += '\0';
  s.str += " bell\x07 del\x7f e\xcc\x81 zwj\xe2\x80\x8d bom\xef\xbb\xbf 🌊";
  CHECK(print_wave(s) ==
        "\"quote\\\" apostrophe\\' tab\\t nul\\u{0} bell\\u{7} del\\u{7f} e\\u{301} zwj\\u{200d} bom\\u{feff} 🌊\"");
  CHECK(same(parse_wave(print_wave(s), s.type), s));

  Val s8;
  s8.type = ty.prim(TypeKind::S8);
  s8.bits = 0xff;  // printed by width, however the high bits were left
  CHECK(print_wave(s8) == "-1");

  Val u;
  u.type = ty.prim(TypeKind::U32);
  u.bits = 7;
  CHECK(print_wave_results({}) == "()");
  CHECK(print_wave_results({&u, 1}) == "7");
  std::vector<Val> two = {u, s8};
  CHECK(print_wave_results(two) == "(7, -1)");
}

TEST_CASE("wave: function calls", "[wave]") {
  Types ty;
  const Type* u32 = ty.prim(TypeKind::U32);
  const Type* str = ty.prim(TypeKind::String);
  const Type* ou8 = ty.option(ty.prim(TypeKind::U8));
  const Type* f = ty.fields(TypeKind::Func, {{"a", u32}, {"b", str}, {"c", ou8}, {"d", ou8}}, u32);
  const Type* nullary = ty.fields(TypeKind::Func, {});

  std::string name;
  std::vector<Val> args = parse_wave_args("f(1, \"x\")", f, &name);
  CHECK(name == "f");
  REQUIRE(args.size() == 4);
  CHECK(args[0].bits == 1);
  CHECK(args[1].str == "x");
  CHECK(args[2].type == ou8);
  CHECK(args[2].case_index == 0);
  CHECK(args[3].case_index == 0);
  args = parse_wave_args(" f ( 1, \"x\", 2, some(3), ) // done", f, &name);
  CHECK(print_wave(args[2]) == "some(2)");
  CHECK(print_wave(args[3]) == "some(3)");
  CHECK(parse_wave_args("run()", nullary, &name).empty());

  for (const char* n : {"wasi:cli/run@0.2.0#run", "[method]res.name", "[static]res.make", "[constructor]res",
                        "my:pkg/iface#[method]r.get-x", "HTTP-get"}) {
    CHECK(parse_wave_args(std::string(n) + "()", nullary, &name).empty());
    CHECK(name == n);
    CHECK(wave_call_name(std::string(n) + "(1, 2)") == n);
  }

  CHECK(call_error("f(1)", f) == "missing argument b: string of f at column 4");
  CHECK(call_error("f(1, \"x\", none, none, 5)", f) == "too many arguments: f takes 4 at column 23");
  CHECK(call_error("f(\"1\", \"x\")", f) == "expected u32 at column 3, found string \"1\"");
  CHECK(call_error("f(1, \"x\") x", f) == "trailing characters after the value at column 11, found \"x\"");
  CHECK(call_error("f", f) == "expected \"(\" after the function name at column 2, found end of input");
  CHECK(call_error("f 1", f) == "expected \"(\" after the function name at column 3, found \"1\"");
  CHECK(call_error("bad name()", nullary) ==
        "expected \"(\" after the function name at column 5, found \"name\"");
  CHECK(call_error("1abc()", nullary) ==
        "expected a function name like f, [method]r.f or ns:pkg/iface#f at column 1, found \"1abc\"");
  CHECK(call_error("(1)", nullary) ==
        "expected a function name like f, [method]r.f or ns:pkg/iface#f at column 1, found \"(\"");
  CHECK(call_error("wasi:cli#run()", nullary).find("expected a function name") == 0);
  CHECK(call_error("f(1)", nullary) == "too many arguments: f takes 0 at column 3");
}
