// Component decoding, type interning and validation on hand-built binaries.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/wasm_bytes.h"
#include "base/error.h"
#include "component/decoder.h"
#include "component/names.h"
#include "component/types.h"
#include "component/validator.h"

using weft::Error;
using weft::ErrorKind;
using namespace weft::component;

namespace {

using namespace weft::test;

// A type index in a valtype position: signed LEB (s33).
Bytes type_index(uint32_t v) {
  Bytes out;
  while (true) {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v == 0 && !(b & 0x40)) {
      out.push_back(b);
      return out;
    }
    out.push_back(b | 0x80);
  }
}

Bytes section(uint8_t id, const Bytes& content) { return cat({{id}, leb(content.size()), content}); }
// A vec section: count, then the items.
Bytes vec_section(uint8_t id, std::initializer_list<Bytes> items) {
  Bytes content = leb(items.size());
  for (const Bytes& i : items) content.insert(content.end(), i.begin(), i.end());
  return section(id, content);
}

Bytes component(std::initializer_list<Bytes> sections) {
  Bytes out = {0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00};
  for (const Bytes& s : sections) out.insert(out.end(), s.begin(), s.end());
  return out;
}

// A core module exporting "f" of type `params -> results`, body `unreachable`.
Bytes core_module(const Bytes& params, const Bytes& results) {
  Bytes header = {0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00};
  return cat({header,
              section(1, cat({{0x01, 0x60}, leb(params.size()), params, leb(results.size()), results})),
              section(3, {0x01, 0x00}),
              section(7, cat({{0x01}, str("f"), {0x00, 0x00}})),
              section(10, {0x01, 0x03, 0x00, 0x00, 0x0b})});
}

// Sections instantiating `core_module(params, results)` and aliasing its
// "f" as core func 0.
Bytes core_func_f(const Bytes& params, const Bytes& results) {
  return cat({section(1, core_module(params, results)),
              vec_section(2, {{0x00, 0x00, 0x00}}),                     // instantiate module 0
              vec_section(6, {cat({{0x00, 0x00, 0x01, 0x00}, str("f")})})});  // core func alias
}

ComponentInfo check(const Bytes& b) { return validate(*decode_component(b), true); }

std::string error_of(const Bytes& b, ErrorKind kind) {
  try {
    check(b);
  } catch (const Error& e) {
    CHECK(e.kind() == kind);
    return e.what();
  }
  FAIL("no error");
  return "";
}

// (export name (func 0))
Bytes export_func(const std::string& name, uint32_t index) {
  return cat({{0x00}, str(name), {0x01}, leb(index), {0x00}});
}

}  // namespace

TEST_CASE("component preamble and empty component") {
  ComponentInfo info = check(component({}));
  REQUIRE(info.type->kind == TypeKind::Component);
  CHECK(info.type->imports.empty());
  CHECK(info.type->exports.empty());
  CHECK(is_component(component({})));

  Bytes core = {0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00};
  CHECK_FALSE(is_component(core));
  CHECK(error_of({0x00, 'a', 's', 'm', 0x0e, 0x00, 0x01, 0x00}, ErrorKind::Malformed).find("unknown binary version") == 0);
  CHECK(error_of({0x00, 'a', 's', 'x', 0x0d, 0x00, 0x01, 0x00}, ErrorKind::Malformed) == "magic header not detected");
}

TEST_CASE("malformed components report what and where") {
  // Unknown section id.
  CHECK(error_of(component({{0x0d, 0x00}}), ErrorKind::Malformed).find("malformed section id") == 0);
  // Section longer than the input.
  CHECK(error_of(component({{0x07, 0x05, 0x00}}), ErrorKind::Malformed) == "unexpected end-of-file");
  // A huge count fails before anything is allocated.
  CHECK(error_of(component({section(7, {0xbf, 0x84, 0x3d, 0x73})}), ErrorKind::Malformed).find("unexpected end") == 0);
  // Bad type opcode, with its offset.
  try {
    check(component({vec_section(7, {{0x62}})}));
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "invalid leading byte (0x62) for component defined type");
    CHECK(e.offset() == 11);
  }
  // Canon opcodes and options.
  CHECK(error_of(component({vec_section(8, {{0x07}})}), ErrorKind::Malformed) ==
        "invalid leading byte (0x7) for canonical function");
  CHECK(error_of(component({vec_section(8, {{0x0c, 0x02}})}), ErrorKind::Malformed) == "invalid boolean value");
  // Trailing bytes in a section.
  CHECK(error_of(component({section(7, {0x00, 0x00})}), ErrorKind::Malformed).find("section size mismatch") == 0);
  // A core module section holding a component.
  CHECK(error_of(component({section(1, component({}))}), ErrorKind::Malformed) ==
        "expected a version header for a module");
}

TEST_CASE("every prefix of a valid component is rejected without crashing") {
  Bytes b = component({core_func_f({}, {}),
                       vec_section(7, {{0x40, 0x00, 0x01, 0x00}}),       // func type () -> ()
                       vec_section(8, {{0x00, 0x00, 0x00, 0x00, 0x00}}),  // lift core func 0, type 0
                       vec_section(11, {export_func("run", 0)})});
  check(b);
  for (size_t n = 8; n < b.size(); ++n) {
    Bytes prefix(b.begin(), b.begin() + static_cast<long>(n));
    try {
      check(prefix);
    } catch (const Error&) {
    }
  }
  // Flipping single bytes never crashes either.
  for (size_t i = 8; i < b.size(); ++i) {
    for (uint8_t v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      Bytes m = b;
      m[i] = v;
      try {
        check(m);
      } catch (const Error&) {
      }
    }
  }
}

TEST_CASE("types are interned once") {
  // Two identical record types and a list of each.
  Bytes rec = cat({{0x72, 0x01}, str("x"), {0x79}});
  Bytes b = component({vec_section(7, {rec, rec, {0x70, 0x00}, {0x70, 0x01}, {0x3f, 0x7f, 0x00}, {0x3f, 0x7f, 0x00}})});
  auto c = decode_component(b);
  REQUIRE(c->definitions.size() == 6);
  TypeStore store;
  Type r1{TypeKind::Record};
  r1.fields.push_back({"x", store.primitive(TypeKind::U32)});
  Type r2 = r1;
  const Type* a = store.intern(r1);
  CHECK(store.intern(r2) == a);
  Type list{TypeKind::List};
  list.a = a;
  CHECK(store.intern(list) == store.intern(list));
  Type other{TypeKind::Record};
  other.fields.push_back({"y", store.primitive(TypeKind::U32)});
  CHECK(store.intern(other) != a);
  // Resources are generative.
  CHECK(store.fresh_resource(weft::wasm::ValType::I32, std::nullopt, false) !=
        store.fresh_resource(weft::wasm::ValType::I32, std::nullopt, false));
  CHECK_NOTHROW(validate(*c, true));
}

TEST_CASE("a type store rolls back to a mark") {
  TypeStore store;
  Type rec{TypeKind::Record};
  rec.fields.push_back({"x", store.primitive(TypeKind::U32)});
  const Type* kept = store.intern(rec);
  TypeStore::Mark mark = store.mark();
  const size_t size = store.size();

  // What an instantiation adds: a fresh resource, a type built on it, a
  // nominal copy, and nothing new for a type interned before the mark.
  const Type* res = store.fresh_resource(weft::wasm::ValType::I32, std::nullopt, false);
  const uint32_t res_id = res->id;
  Type own{TypeKind::Own};
  own.a = res;
  const uint32_t own_id = store.intern(own)->id;
  const uint32_t copy_id = store.nominal_copy(kept)->id;
  CHECK(store.intern(rec) == kept);
  CHECK(store.size() == size + 3);

  store.rollback(mark);
  CHECK(store.size() == size);
  CHECK(store.intern(rec) == kept);  // older types stay interned
  // The same steps again make the same types, and the handle type is
  // interned afresh (a stale entry would be found, adding nothing).
  const Type* res2 = store.fresh_resource(weft::wasm::ValType::I32, std::nullopt, false);
  CHECK(res2->id == res_id);
  Type own2{TypeKind::Own};
  own2.a = res2;
  const Type* own2_t = store.intern(own2);
  CHECK(own2_t->id == own_id);
  CHECK(own2_t->a == res2);
  CHECK(store.size() == size + 2);
  CHECK(store.nominal_copy(kept)->id == copy_id);
  CHECK(store.size() == size + 3);
}

TEST_CASE("a stream or future of lists is a handle: it needs no memory to pass") {
  // wasi:filesystem@0.3.0 read-directory returns stream<directory-entry>
  // (a record with a string): lowering it needs neither memory nor realloc.
  TypeStore store;
  const Type* str = store.primitive(TypeKind::String);
  Type list{TypeKind::List};
  list.a = str;
  const Type* list_t = store.intern(list);
  CHECK(list_t->has_list);
  for (TypeKind k : {TypeKind::Stream, TypeKind::Future}) {
    Type h{k};
    h.a = list_t;
    const Type* t = store.intern(h);
    CHECK_FALSE(t->has_list);
    CHECK(t->flat_count == 1);
    Type opt{TypeKind::Option};
    opt.a = t;
    CHECK_FALSE(store.intern(opt)->has_list);
  }
}

TEST_CASE("every section decodes") {
  Bytes nested = component({});
  Bytes b = component({
      section(0, cat({str("custom"), {0x01, 0x02}})),
      core_func_f({0x7f}, {0x7f}),
      vec_section(3, {{0x60, 0x01, 0x7f, 0x01, 0x7f}}),                       // core type
      section(4, nested),                                                      // nested component
      vec_section(5, {{0x00, 0x00, 0x00}}),                                    // instantiate it
      vec_section(7, {{0x40, 0x01, 0x01, 'x', 0x79, 0x00, 0x79}}),             // func (x: u32) -> u32
      vec_section(8, {{0x00, 0x00, 0x00, 0x00, 0x00}}),                        // lift
      vec_section(10, {cat({{0x00}, str("wasi:cli/run@0.2.3"), {0x05, 0x01}})}),  // import (instance type 1)
      vec_section(11, {export_func("inc", 0)}),
  });
  // The import's instance type index 1 does not exist yet: decoding works,
  // validation reports it.
  auto c = decode_component(b);
  CHECK(c->definitions.size() == 10);
  CHECK(std::holds_alternative<NestedComponent>(c->definitions[4]));
  CHECK(error_of(b, ErrorKind::Invalid) == "type index out of bounds");
}

TEST_CASE("canon definitions decode into Canon") {
  Bytes b = component({vec_section(7, {{0x66, 0x01, 0x79}}),  // stream<u32>
                       vec_section(8, {{0x0e, 0x00},          // stream.new 0
                                       {0x1f},                // waitable-set.new
                                       {0x0a, 0x7f, 0x01},    // context.get i32 1
                                       {0x06, 0x01},          // subtask.cancel async
                                       {0x09, 0x01, 0x00, 0x00}})});  // task.return, no result
  auto c = decode_component(b);
  const Canon& s = std::get<Canon>(c->definitions[1]);
  CHECK(s.kind == CanonKind::StreamNew);
  CHECK(std::get<Canon>(c->definitions[2]).kind == CanonKind::WaitableSetNew);
  CHECK(std::get<Canon>(c->definitions[3]).slot == 1);
  CHECK(std::get<Canon>(c->definitions[4]).flag);
  CHECK(std::string(to_string(CanonKind::WaitableSetWait)) == "waitable-set.wait");
  CHECK_NOTHROW(validate(*c, true));
}

TEST_CASE("canon lift checks the core function type") {
  Bytes func_u32_u32 = {0x40, 0x01, 0x01, 'x', 0x79, 0x00, 0x79};
  Bytes ok = component({core_func_f({0x7f}, {0x7f}), vec_section(7, {func_u32_u32}),
                        vec_section(8, {{0x00, 0x00, 0x00, 0x00, 0x00}}), vec_section(11, {export_func("f", 0)})});
  ComponentInfo info = check(ok);
  REQUIRE(info.type->exports.size() == 1);
  CHECK(info.type->exports[0].desc.type->kind == TypeKind::Func);

  Bytes bad = component({core_func_f({0x7e}, {0x7f}), vec_section(7, {func_u32_u32}),
                         vec_section(8, {{0x00, 0x00, 0x00, 0x00, 0x00}})});
  CHECK(error_of(bad, ErrorKind::Invalid).find("does not match core function type") != std::string::npos);

  // A string parameter needs memory and realloc.
  Bytes func_string = {0x40, 0x01, 0x01, 's', 0x73, 0x01, 0x00};
  Bytes no_memory = component({core_func_f({0x7f, 0x7f}, {}), vec_section(7, {func_string}),
                               vec_section(8, {{0x00, 0x00, 0x00, 0x00, 0x00}})});
  CHECK(error_of(no_memory, ErrorKind::Invalid) == "canonical option `memory` is required");
}

TEST_CASE("flattening follows the canonical ABI") {
  TypeStore store;
  Type ft{TypeKind::Func};
  for (char c = 'a'; c <= 'q'; ++c) ft.fields.push_back({std::string(1, c), store.primitive(TypeKind::U32)});
  Type tuple{TypeKind::Tuple};
  tuple.elems = {store.primitive(TypeKind::U32), store.primitive(TypeKind::F64)};
  ft.a = store.intern(tuple);
  const Type* f = store.intern(ft);
  using V = weft::wasm::ValType;
  // 17 params spill to a pointer; 2 results spill to a return pointer.
  CHECK(flatten_functype(f, true, false, false) == weft::wasm::FuncType{{V::I32}, {V::I32}});
  CHECK(flatten_functype(f, false, false, false) == weft::wasm::FuncType{{V::I32, V::I32}, {}});
  // Variant cases join: (u32 | f32 | s64) flattens to [i32 discriminant, i64].
  Type v{TypeKind::Variant};
  v.fields = {{"a", store.primitive(TypeKind::U32)}, {"b", store.primitive(TypeKind::F32)},
              {"c", store.primitive(TypeKind::S64)}};
  Type g{TypeKind::Func};
  g.fields = {{"v", store.intern(v)}};
  CHECK(flatten_functype(store.intern(g), true, false, false) == weft::wasm::FuncType{{V::I32, V::I64}, {}});
}

TEST_CASE("validation failures") {
  // borrow in a function result.
  Bytes borrow_result = component({vec_section(7, {{0x3f, 0x7f, 0x00}, {0x68, 0x00}, {0x40, 0x00, 0x00, 0x01}})});
  CHECK(error_of(borrow_result, ErrorKind::Invalid) == "function result cannot contain a `borrow` type");

  // own of a non-resource.
  CHECK(error_of(component({vec_section(7, {{0x69, 0x00}})}), ErrorKind::Invalid) ==
        "type index out of bounds");
  CHECK(error_of(component({vec_section(7, {{0x79}, {0x69, 0x00}})}), ErrorKind::Invalid) ==
        "type index 0 is not a resource type");

  // Duplicate export names, also up to case.
  Bytes func = {0x40, 0x00, 0x01, 0x00};
  Bytes dup = component({core_func_f({}, {}), vec_section(7, {func}), vec_section(8, {{0x00, 0x00, 0x00, 0x00, 0x00}}),
                         vec_section(11, {export_func("run", 0), export_func("RUN", 0)})});
  CHECK(error_of(dup, ErrorKind::Invalid) == "export name `RUN` conflicts with previous name");

  // Names must be kebab-case labels or interface names.
  Bytes bad_name = component({core_func_f({}, {}), vec_section(7, {func}),
                              vec_section(8, {{0x00, 0x00, 0x00, 0x00, 0x00}}), vec_section(11, {export_func("no_snake", 0)})});
  CHECK(error_of(bad_name, ErrorKind::Invalid) == "`no_snake` is not a valid extern name");

  // Empty record and too many flags.
  CHECK(error_of(component({vec_section(7, {{0x72, 0x00}})}), ErrorKind::Invalid) ==
        "record type must have at least one field");
  Bytes flags = {0x6e, 33};
  // Labels "a".."z", then "aa", "bb", ...
  for (int i = 0; i < 33; ++i) flags = cat({flags, str(std::string(1 + i / 26, static_cast<char>('a' + i % 26)))});
  CHECK(error_of(component({vec_section(7, {flags})}), ErrorKind::Invalid) == "cannot have more than 32 flags");

  // Resources may not be defined in a type.
  CHECK(error_of(component({vec_section(7, {{0x42, 0x01, 0x01, 0x3f, 0x7f, 0x00}})}), ErrorKind::Invalid) ==
        "resources can only be defined within a concrete component");

  // Alias of an export the instance does not have.
  Bytes alias_missing = component({vec_section(5, {{0x01, 0x00}}), vec_section(6, {cat({{0x01, 0x00, 0x00}, str("f")})})});
  CHECK(error_of(alias_missing, ErrorKind::Invalid) == "instance 0 has no export named `f`");
}

TEST_CASE("exported types must be named by an export first") {
  Bytes rec = cat({{0x72, 0x01}, str("x"), {0x79}});
  Bytes start = cat({core_func_f({}, {0x7f}),
                     vec_section(7, {rec, {0x40, 0x00, 0x00, 0x00}}),             // 0: record, 1: func -> 0
                     vec_section(8, {{0x00, 0x00, 0x00, 0x00, 0x01}}),            // lift as type 1
                     vec_section(11, {cat({{0x00}, str("rec"), {0x03, 0x00, 0x00}})})});  // type 2 = "rec"
  // The lifted function still refers to the unexported definition.
  Bytes unnamed = component({start, vec_section(11, {export_func("f", 0)})});
  CHECK(error_of(unnamed, ErrorKind::Invalid).find("func not valid to be used as export") == 0);
  // Ascribed a type written with the exported name, it is fine.
  Bytes named = component({start, vec_section(7, {{0x40, 0x00, 0x00, 0x02}}),  // 3: func -> 2
                           vec_section(11, {cat({{0x00}, str("f"), {0x01, 0x00, 0x01, 0x01, 0x03}})})});
  ComponentInfo info = check(named);
  REQUIRE(info.type->exports.size() == 2);
  // Outside, "rec" and the result of "f" are one type.
  CHECK(info.type->exports[1].desc.type->a == info.type->exports[0].desc.type);
}

TEST_CASE("deep and wide types stay cheap") {
  // 1100 nested options: rejected before any walk could overflow the stack.
  Bytes deep = leb(1100);
  deep = cat({deep, {0x79}});
  for (uint32_t i = 0; i < 1099; ++i) deep = cat({deep, {0x6b}, type_index(i)});
  CHECK(error_of(component({section(7, deep)}), ErrorKind::Invalid) == "type nesting is too deep");

  // 60 levels of tuple<t, t>: a DAG with 2^60 leaves, imported as a func
  // parameter; every check must visit each type once.
  Bytes wide = cat({leb(62), {0x79}});
  for (uint32_t i = 0; i < 60; ++i) wide = cat({wide, {0x6f, 0x02}, type_index(i), type_index(i)});
  wide = cat({wide, {0x40, 0x01, 0x01, 'x'}, type_index(60), {0x01, 0x00}});  // func (x: t60)
  Bytes import = cat({{0x00}, str("f"), {0x01}, leb(61)});
  ComponentInfo info = check(component({section(7, wide), vec_section(10, {import})}));
  CHECK(info.type->imports[0].desc.type->fields[0].type->flat_count == kFlatSaturate);
}

TEST_CASE("extern names") {
  auto p = parse_extern_name("wasi:http/types@0.2.1");
  REQUIRE(p);
  CHECK(p->kind == ExternNameParts::Kind::Interface);
  CHECK(p->namespace_ == "wasi");
  CHECK(p->package == "http");
  CHECK(p->interface == "types");
  CHECK(p->version == "0.2.1");
  CHECK(parse_extern_name("wasi:cli/run")->version.empty());
  CHECK_FALSE(parse_extern_name("wasi:cli/run@0.2"));
  CHECK(parse_extern_name("a:b/c@1.0.0-rc.1+build.5"));
  CHECK_FALSE(parse_extern_name("a:b/c@01.0.0"));
  auto m = parse_extern_name("[method]my-res.get-JSON");
  REQUIRE(m);
  CHECK(m->kind == ExternNameParts::Kind::Method);
  CHECK(m->resource == "my-res");
  CHECK(m->label == "get-JSON");
  CHECK(is_label("a1-2-3"));
  CHECK(is_label("A11-4CR0NYMS"));
  CHECK_FALSE(is_label("1-2-3"));
  CHECK_FALSE(is_label("a--b"));
  CHECK_FALSE(is_label("aB"));
  CHECK(uniqueness_key("[method]foo.foo") == "foo");
  CHECK(uniqueness_key("[static]foo.BAR") == uniqueness_key("[method]foo.bar"));
  CHECK(uniqueness_key("[constructor]foo") != uniqueness_key("foo"));
}
