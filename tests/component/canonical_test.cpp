// The synchronous canonical ABI: layouts against values worked out by hand
// from CanonicalABI.md, flattening, and lower -> lift round trips through
// the linear memory of a real core instance with a bump-allocator realloc.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "component/canonical.h"
#include "component/strings.h"
#include "engine/store.h"
#include "wasm/decoder.h"
#include "wasm/validator.h"

using namespace weft;
using namespace weft::component;
using wasm::ValType;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes name(const std::string& s) { return cat({{static_cast<uint8_t>(s.size())}, Bytes(s.begin(), s.end())}); }
Bytes section(uint8_t id, const Bytes& content) {
  return cat({{id, static_cast<uint8_t>(content.size())}, content});
}
Bytes body(const Bytes& b) { return cat({{static_cast<uint8_t>(b.size())}, b}); }

// (memory (export "mem") 1)
// (global $next (mut i32) (i32.const 16))
// (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32)
//   (result i32) (local $r i32): bump-allocates, copies min(old_size, new_size) bytes
// (func (export "realloc_unaligned") ... (i32.const 17))
// (func (export "realloc_oob") ... (i32.const 65536))
// (func (export "post") (param i32) (global.set $post_seen (local.get 0)))
// (global $post_seen (export "post_seen") (mut i32) (i32.const 0))
Bytes guest_module() {
  Bytes realloc = {0x01, 0x01, 0x7f,                         // local $r i32
                   0x23, 0x00, 0x20, 0x02, 0x6a, 0x41, 0x01, 0x6b,  // next + align - 1
                   0x41, 0x00, 0x20, 0x02, 0x6b, 0x71,        // & -align
                   0x22, 0x04, 0x20, 0x03, 0x6a, 0x24, 0x00,  // next = r + new_size
                   0x20, 0x04, 0x20, 0x00,                    // dst, src
                   0x20, 0x01, 0x20, 0x03, 0x20, 0x01, 0x20, 0x03, 0x49, 0x1b,  // min
                   0xfc, 0x0a, 0x00, 0x00,                    // memory.copy
                   0x20, 0x04, 0x0b};
  return cat({{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00},
              section(1, {0x02, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x00}),
              section(3, {0x04, 0x00, 0x00, 0x00, 0x01}),
              section(5, {0x01, 0x00, 0x01}),
              section(6, {0x02, 0x7f, 0x01, 0x41, 0x10, 0x0b, 0x7f, 0x01, 0x41, 0x00, 0x0b}),
              section(7, cat({{0x06}, name("mem"), {0x02, 0x00}, name("realloc"), {0x00, 0x00},
                              name("realloc_unaligned"), {0x00, 0x01}, name("realloc_oob"), {0x00, 0x02},
                              name("post"), {0x00, 0x03}, name("post_seen"), {0x03, 0x01}})),
              section(10, cat({{0x04}, body(realloc), body({0x00, 0x41, 0x11, 0x0b}),
                               body({0x00, 0x41, 0x80, 0x80, 0x04, 0x0b}), body({0x00, 0x20, 0x00, 0x24, 0x01, 0x0b})}))});
}

// The memory64 variant: (memory i64 1) and the same realloc over i64.
Bytes guest_module64() {
  Bytes realloc = {0x01, 0x01, 0x7e,                                      // local $r i64
                   0x23, 0x00, 0x20, 0x02, 0x7c, 0x42, 0x01, 0x7d,        // next + align - 1
                   0x42, 0x00, 0x20, 0x02, 0x7d, 0x83,                    // & -align
                   0x22, 0x04, 0x20, 0x03, 0x7c, 0x24, 0x00,              // next = r + new_size
                   0x20, 0x04, 0x20, 0x00,                                // dst, src
                   0x20, 0x01, 0x20, 0x03, 0x20, 0x01, 0x20, 0x03, 0x54, 0x1b,  // min
                   0xfc, 0x0a, 0x00, 0x00,                                // memory.copy
                   0x20, 0x04, 0x0b};
  return cat({{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00},
              section(1, {0x01, 0x60, 0x04, 0x7e, 0x7e, 0x7e, 0x7e, 0x01, 0x7e}),
              section(3, {0x01, 0x00}),
              section(5, {0x01, 0x04, 0x01}),
              section(6, {0x01, 0x7e, 0x01, 0x42, 0x10, 0x0b}),
              section(7, cat({{0x02}, name("mem"), {0x02, 0x00}, name("realloc"), {0x00, 0x00}})),
              section(10, cat({{0x01}, body(realloc)}))});
}

struct Guest {
  engine::Store store;
  engine::Instance* inst = nullptr;
  CanonOptions opts;

  explicit Guest(StringEncoding enc = StringEncoding::Utf8, bool memory64 = false) {
    auto m = wasm::decode_module(memory64 ? guest_module64() : guest_module());
    wasm::validate(*m, true);
    inst = store.instantiate(m, {});
    opts.string_encoding = enc;
    opts.memory = inst->memories[0];
    opts.realloc = inst->find_function("realloc");
  }
  LiftLowerContext cx() { return LiftLowerContext{opts, store, nullptr}; }
  uint8_t* mem() { return opts.memory->data(); }
};

std::string label(char c, size_t i) {
  std::string s(1, c);
  s += std::to_string(i);
  return s;
}

Type make(TypeKind k) {
  Type t{};
  t.kind = k;
  return t;
}

struct Types {
  TypeStore ts;
  const Type* p(TypeKind k) { return ts.primitive(k); }
  const Type* list(const Type* e, uint32_t length = 0) {
    Type t = make(TypeKind::List);
    t.a = e;
    t.length = length;
    return ts.intern(std::move(t));
  }
  const Type* map(const Type* k, const Type* v) {
    Type t = make(TypeKind::Map);
    t.a = k;
    t.b = v;
    return ts.intern(std::move(t));
  }
  const Type* record(std::vector<const Type*> fields) {
    Type t = make(TypeKind::Record);
    for (size_t i = 0; i < fields.size(); ++i) t.fields.push_back({label('f', i), fields[i]});
    return ts.intern(std::move(t));
  }
  const Type* tuple(std::vector<const Type*> elems) {
    Type t = make(TypeKind::Tuple);
    t.elems = std::move(elems);
    return ts.intern(std::move(t));
  }
  const Type* variant(std::vector<const Type*> cases) {
    Type t = make(TypeKind::Variant);
    for (size_t i = 0; i < cases.size(); ++i) t.fields.push_back({label('c', i), cases[i]});
    return ts.intern(std::move(t));
  }
  const Type* labelled(TypeKind k, size_t n) {
    Type t = make(k);
    for (size_t i = 0; i < n; ++i) t.labels.push_back(label('l', i));
    return ts.intern(std::move(t));
  }
  const Type* option(const Type* e) {
    Type t = make(TypeKind::Option);
    t.a = e;
    return ts.intern(std::move(t));
  }
  const Type* result(const Type* ok, const Type* err) {
    Type t = make(TypeKind::Result);
    t.a = ok;
    t.b = err;
    return ts.intern(std::move(t));
  }
  const Type* handle(TypeKind k, const Type* resource) {
    Type t = make(k);
    t.a = resource;
    return ts.intern(std::move(t));
  }
  const Type* func(std::vector<const Type*> params, const Type* result) {
    Type t = make(TypeKind::Func);
    for (size_t i = 0; i < params.size(); ++i) t.fields.push_back({label('p', i), params[i]});
    t.a = result;
    return ts.intern(std::move(t));
  }
};

Val num(const Type* t, uint64_t bits) {
  Val v;
  v.type = t;
  v.bits = bits;
  return v;
}
Val flt(const Type* t, double d) {
  Val v;
  v.type = t;
  v.f64 = d;
  return v;
}
Val str(const Type* t, std::string s) {
  Val v;
  v.type = t;
  v.str = std::move(s);
  return v;
}
Val agg(const Type* t, std::vector<Val> items, uint32_t case_index = 0) {
  Val v;
  v.type = t;
  v.items = std::move(items);
  v.case_index = case_index;
  return v;
}
Val flags(const Type* t, std::vector<uint32_t> words) {
  Val v;
  v.type = t;
  v.flags = std::move(words);
  return v;
}

// A printable form that two equal values share.
std::string show(const Val& v) {
  std::string s = to_string(v.kind());
  s += '(';
  switch (v.kind()) {
    case TypeKind::F32:
    case TypeKind::F64: {
      uint64_t b;
      std::memcpy(&b, &v.f64, 8);
      s += std::to_string(b);
      break;
    }
    case TypeKind::String:
      s += '"';
      s += v.str;
      s += '"';
      break;
    case TypeKind::Flags:
      for (uint32_t w : v.flags) {
        s += std::to_string(w);
        s += ',';
      }
      break;
    default:
      s += std::to_string(v.bits);
      s += '#';
      s += std::to_string(v.case_index);
      for (char c : v.str) {  // list<u8>
        s += ' ';
        s += std::to_string(static_cast<uint8_t>(c));
      }
      for (const Val& i : v.items) {
        s += ' ';
        s += show(i);
      }
  }
  s += ')';
  return s;
}

std::vector<ValType> i32s(size_t n) { return std::vector<ValType>(n, ValType::I32); }

// Lowers `v` flat and in memory and lifts it back both ways.
void round_trip(Guest& g, const Val& v) {
  Layouts layouts;
  const Layout& l = *layouts.of(v.type, g.opts.memory64());
  LiftLowerContext cx = g.cx();
  std::vector<uint64_t> flat;
  lower_flat(cx, v, l, flat);
  REQUIRE(flat.size() == l.flat.size());
  CoreValueIter vi(flat);
  CHECK(show(lift_flat(cx, vi, l)) == show(v));
  CHECK(vi.done());

  uint64_t ptr = cx.allocate(l.align, l.size);
  store(cx, v, l, ptr);
  CHECK(show(load(cx, ptr, l)) == show(v));
}

bool traps(const std::function<void()>& f, const std::string& text) {
  try {
    f();
  } catch (const engine::Trap& t) {
    if (std::string(t.what()).find(text) != std::string::npos) return true;
    FAIL_CHECK("trap message: " << t.what());
    return false;
  }
  return false;
}

Val lift_one(Guest& g, const Type* t, std::vector<uint64_t> flat) {
  Layouts layouts;
  LiftLowerContext cx = g.cx();
  CoreValueIter vi(flat);
  return lift_flat(cx, vi, *layouts.of(t, g.opts.memory64()));
}

}  // namespace

TEST_CASE("canonical ABI: sizes, alignments and flattening", "[component][canonical]") {
  Types T;
  auto u8 = T.p(TypeKind::U8), u16 = T.p(TypeKind::U16), u32 = T.p(TypeKind::U32), u64 = T.p(TypeKind::U64);
  auto f32 = T.p(TypeKind::F32), f64 = T.p(TypeKind::F64), string = T.p(TypeKind::String);
  auto chr = T.p(TypeKind::Char), bl = T.p(TypeKind::Bool);
  Layouts layouts;

  SECTION("primitives") {
    CHECK(elem_size(bl) == 1);
    CHECK(elem_size(u16) == 2);
    CHECK(alignment(u64) == 8);
    CHECK(elem_size(chr) == 4);
    CHECK(elem_size(string) == 8);
    CHECK(alignment(string) == 4);
    CHECK(elem_size(string, true) == 16);
    CHECK(alignment(string, true) == 8);
    CHECK(flatten_type(string, true) == std::vector<ValType>{ValType::I64, ValType::I64});
    CHECK(flatten_type(f32) == std::vector<ValType>{ValType::F32});
  }
  SECTION("records and tuples") {
    const Layout* r = layouts.of(T.record({u8, u32, u16}));
    CHECK(r->offsets == std::vector<uint32_t>{0, 4, 8});
    CHECK(r->size == 12);
    CHECK(r->align == 4);
    CHECK(r->flat == i32s(3));
    const Layout* t = layouts.of(T.tuple({u8, u64, string}));
    CHECK(t->offsets == std::vector<uint32_t>{0, 8, 16});
    CHECK(t->size == 24);
    CHECK(t->align == 8);
    CHECK(t->flat == std::vector<ValType>{ValType::I32, ValType::I64, ValType::I32, ValType::I32});
    // record { option<string>, list<tuple<char, bool>> }
    const Layout* n = layouts.of(T.record({T.option(string), T.list(T.tuple({chr, bl}))}));
    CHECK(n->offsets == std::vector<uint32_t>{0, 12});
    CHECK(n->size == 20);
    CHECK(n->align == 4);
    CHECK(n->flat == i32s(5));
    CHECK(layouts.of(T.tuple({chr, bl}))->size == 8);
  }
  SECTION("variants") {
    const Layout* v = layouts.of(T.variant({u8, u64, nullptr}));
    CHECK(v->disc_size == 1);
    CHECK(v->payload_offset == 8);
    CHECK(v->size == 16);
    CHECK(v->align == 8);
    CHECK(v->flat == std::vector<ValType>{ValType::I32, ValType::I64});
    const Layout* o = layouts.of(T.option(f32));
    CHECK(o->payload_offset == 4);
    CHECK(o->size == 8);
    CHECK(o->flat == std::vector<ValType>{ValType::I32, ValType::F32});
    const Layout* e = layouts.of(T.result(nullptr, nullptr));
    CHECK(e->size == 1);
    CHECK(e->align == 1);
    CHECK(e->flat == i32s(1));
    CHECK(layouts.of(T.labelled(TypeKind::Enum, 3))->size == 1);
    CHECK(layouts.of(T.labelled(TypeKind::Enum, 256))->size == 1);
    const Layout* big = layouts.of(T.labelled(TypeKind::Enum, 257));
    CHECK(big->size == 2);
    CHECK(big->align == 2);
    CHECK(discriminant_size(65536) == 2);
    CHECK(discriminant_size(65537) == 4);
    // variant { u8, tuple<u8, string> } : payload aligned to 4
    const Layout* w = layouts.of(T.variant({u8, T.tuple({u8, string})}));
    CHECK(w->payload_offset == 4);
    CHECK(w->size == 16);
  }
  SECTION("joined flat types") {
    CHECK(join(ValType::I32, ValType::F32) == ValType::I32);
    CHECK(join(ValType::F32, ValType::F32) == ValType::F32);
    CHECK(join(ValType::F32, ValType::F64) == ValType::I64);
    CHECK(join(ValType::I32, ValType::I64) == ValType::I64);
    CHECK(flatten_type(T.result(f32, u32)) == i32s(2));
    CHECK(flatten_type(T.result(f64, f32)) == std::vector<ValType>{ValType::I32, ValType::I64});
    CHECK(flatten_type(T.option(f64)) == std::vector<ValType>{ValType::I32, ValType::F64});
    CHECK(flatten_type(T.variant({T.tuple({u8, f64}), T.tuple({f32, f32}), nullptr})) ==
          std::vector<ValType>{ValType::I32, ValType::I32, ValType::I64});
    CHECK(flatten_type(T.variant({f32, T.tuple({u32, u32})})) == i32s(3));
  }
  SECTION("flags and lists") {
    auto f3 = T.labelled(TypeKind::Flags, 3), f9 = T.labelled(TypeKind::Flags, 9);
    auto f17 = T.labelled(TypeKind::Flags, 17), f33 = T.labelled(TypeKind::Flags, 33);
    CHECK(elem_size(f3) == 1);
    CHECK(alignment(f9) == 2);
    CHECK(elem_size(f9) == 2);
    CHECK(elem_size(f17) == 4);
    CHECK(flatten_type(f17) == i32s(1));
    CHECK(elem_size(f33) == 8);
    CHECK(alignment(f33) == 4);
    CHECK(flatten_type(f33) == i32s(2));
    CHECK(elem_size(T.list(u16)) == 8);
    CHECK(flatten_type(T.list(u64)) == i32s(2));
    CHECK(elem_size(T.list(u16, 3)) == 6);
    CHECK(alignment(T.list(u16, 3)) == 2);
    CHECK(flatten_type(T.list(u16, 3)) == i32s(3));
    CHECK(elem_size(T.map(string, u8)) == 8);
  }
  SECTION("function types") {
    CanonOptions opts;
    auto ft = T.func({string, u32}, string);
    wasm::FuncType lift = flatten_functype(layouts, ft, opts, CanonContext::Lift);
    CHECK(lift.params == i32s(3));
    CHECK(lift.results == i32s(1));
    wasm::FuncType lower = flatten_functype(layouts, ft, opts, CanonContext::Lower);
    CHECK(lower.params == i32s(4));
    CHECK(lower.results.empty());

    std::vector<const Type*> sixteen(16, u32), seventeen(17, u32);
    CanonPlan p16 = make_canon_plan(layouts, T.func(sixteen, u64), opts, CanonContext::Lift);
    CHECK(!p16.params.spilled());
    CHECK(p16.core_type.params == i32s(16));
    CHECK(p16.core_type.results == std::vector<ValType>{ValType::I64});
    CanonPlan p17 = make_canon_plan(layouts, T.func(seventeen, nullptr), opts, CanonContext::Lower);
    CHECK(p17.params.spilled());
    CHECK(p17.params.tuple->size == 68);
    CHECK(p17.core_type.params == i32s(1));
    CHECK(p17.core_type.results.empty());
  }
}

TEST_CASE("canonical ABI: round trips through guest memory", "[component][canonical]") {
  Types T;
  Guest g;
  auto p = [&](TypeKind k) { return T.p(k); };
  auto string = p(TypeKind::String);

  SECTION("scalars") {
    round_trip(g, num(p(TypeKind::Bool), 1));
    round_trip(g, num(p(TypeKind::Bool), 0));
    round_trip(g, num(p(TypeKind::U8), 0xff));
    round_trip(g, num(p(TypeKind::S8), static_cast<uint64_t>(-5)));
    round_trip(g, num(p(TypeKind::U16), 0xfffe));
    round_trip(g, num(p(TypeKind::S16), static_cast<uint64_t>(-30000)));
    round_trip(g, num(p(TypeKind::U32), 0xfffffff0));
    round_trip(g, num(p(TypeKind::S32), static_cast<uint64_t>(-7)));
    round_trip(g, num(p(TypeKind::U64), 0xfedcba9876543210));
    round_trip(g, num(p(TypeKind::S64), static_cast<uint64_t>(-1)));
    round_trip(g, flt(p(TypeKind::F32), 1.5));
    round_trip(g, flt(p(TypeKind::F64), -0.1));
    round_trip(g, num(p(TypeKind::Char), 0x1f600));
    const Type* r = T.ts.fresh_resource(ValType::I32, std::nullopt, false);
    round_trip(g, num(T.handle(TypeKind::Own, r), 3));
    round_trip(g, num(T.handle(TypeKind::Borrow, r), 4));
    round_trip(g, num(p(TypeKind::ErrorContext), 2));
  }
  SECTION("strings and lists") {
    round_trip(g, str(string, ""));
    round_trip(g, str(string, "hello, wörld 😀"));
    auto lu32 = T.list(p(TypeKind::U32));
    round_trip(g, agg(lu32, {}));
    round_trip(g, agg(lu32, {num(p(TypeKind::U32), 1), num(p(TypeKind::U32), 2), num(p(TypeKind::U32), 3)}));
    auto ls = T.list(string);
    round_trip(g, agg(ls, {str(string, "a"), str(string, "bc"), str(string, "")}));
    auto fixed = T.list(p(TypeKind::U16), 2);
    round_trip(g, agg(fixed, {num(p(TypeKind::U16), 7), num(p(TypeKind::U16), 9)}));
    auto m = T.map(string, p(TypeKind::U8));
    round_trip(g, agg(m, {str(string, "k1"), num(p(TypeKind::U8), 1), str(string, "k2"), num(p(TypeKind::U8), 2)}));
  }
  SECTION("list<u8> as bytes") {
    auto u8 = p(TypeKind::U8);
    auto bytes = T.list(u8);
    round_trip(g, str(bytes, ""));
    round_trip(g, str(bytes, std::string("\x00\xff\x7f abc", 7)));
    round_trip(g, str(T.list(u8, 3), "\x01\x80\xff"));
    round_trip(g, agg(T.record({bytes, u8, T.list(u8, 1)}),
                      {str(bytes, "xyz"), num(u8, 5), str(T.list(u8, 1), "q")}));
    round_trip(g, agg(T.list(bytes), {str(bytes, "a"), str(bytes, ""), str(bytes, "bc")}));

    // 4 KiB lowers with one copy into the guest and lifts back without per-byte Vals.
    std::string data(4096, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
    Layouts layouts;
    LiftLowerContext cx = g.cx();
    std::vector<uint64_t> flat;
    lower_flat(cx, str(bytes, data), *layouts.of(bytes), flat);
    REQUIRE(flat.size() == 2);
    CHECK(flat[1] == 4096);
    CHECK(std::memcmp(g.mem() + flat[0], data.data(), data.size()) == 0);
    Val back = lift_one(g, bytes, flat);
    CHECK(back.items.empty());
    CHECK(back.str == data);

    // A fixed-length list<u8> flattens to one i32 per byte.
    flat.clear();
    lower_flat(cx, str(T.list(u8, 2), "\x05\xfa"), *layouts.of(T.list(u8, 2)), flat);
    CHECK(flat == std::vector<uint64_t>{5, 250});
    CHECK(lift_one(g, T.list(u8, 2), {0x105, 0xfa}).str == "\x05\xfa");  // an i32 slot keeps its low byte
  }
  SECTION("records, variants, flags") {
    auto u8 = p(TypeKind::U8), u64 = p(TypeKind::U64), f32 = p(TypeKind::F32);
    auto rec = T.record({u8, string, T.tuple({u64, f32})});
    round_trip(g, agg(rec, {num(u8, 4), str(string, "x"), agg(T.tuple({u64, f32}), {num(u64, 1ull << 40), flt(f32, 2.25)})}));
    auto var = T.variant({u8, f32, nullptr, string});
    round_trip(g, agg(var, {num(u8, 9)}, 0));
    round_trip(g, agg(var, {flt(f32, -3.5)}, 1));
    round_trip(g, agg(var, {}, 2));
    round_trip(g, agg(var, {str(string, "case three")}, 3));
    auto e = T.labelled(TypeKind::Enum, 300);
    round_trip(g, agg(e, {}, 299));
    auto opt = T.option(T.list(u8));
    round_trip(g, agg(opt, {}, 0));
    round_trip(g, agg(opt, {str(T.list(u8), "\x01")}, 1));
    auto res = T.result(u64, nullptr);
    round_trip(g, agg(res, {num(u64, 77)}, 0));
    round_trip(g, agg(res, {}, 1));
    round_trip(g, flags(T.labelled(TypeKind::Flags, 3), {5}));
    round_trip(g, flags(T.labelled(TypeKind::Flags, 12), {0x801}));
    round_trip(g, flags(T.labelled(TypeKind::Flags, 40), {0x80000001, 0xff}));
  }
  SECTION("spilled parameters and results") {
    Layouts layouts;
    auto u32 = p(TypeKind::U32);
    std::vector<const Type*> params(17, u32);
    auto res = T.tuple({string, u32});
    CanonPlan plan = make_canon_plan(layouts, T.func(params, res), g.opts, CanonContext::Lower);
    std::vector<Val> args;
    for (uint32_t i = 0; i < 17; ++i) args.push_back(num(u32, i * 11));
    LiftLowerContext cx = g.cx();
    std::vector<uint64_t> flat = lower_values(cx, plan.params, args);
    REQUIRE(flat.size() == 1);
    CHECK(flat[0] % 4 == 0);
    uint32_t tenth;
    std::memcpy(&tenth, g.mem() + flat[0] + 40, 4);
    CHECK(tenth == 110);
    CoreValueIter vi(flat);
    std::vector<Val> back = lift_values(cx, plan.params, vi);
    REQUIRE(back.size() == 17);
    CHECK(back[16].bits == 176);

    // Results through the caller's out-pointer.
    uint64_t out = cx.allocate(4, 12);
    Val r = agg(res, {str(string, "out"), num(u32, 5)});
    CHECK(lower_values(cx, plan.results, std::span<const Val>(&r, 1), out).empty());
    std::vector<uint64_t> ptr = {out};
    CoreValueIter ri(ptr);
    CHECK(show(lift_values(cx, plan.results, ri).at(0)) == show(r));
  }
  SECTION("post-return") {
    Layouts layouts;
    CanonOptions opts = g.opts;
    opts.post_return = g.inst->find_function("post");
    CanonPlan plan = make_canon_plan(layouts, T.func({}, p(TypeKind::U32)), opts, CanonContext::Lift);
    std::vector<uint64_t> results = {42};
    post_return(g.store, plan, results);
    CHECK(g.inst->find_export("post_seen").global->get().i32 == 42);
  }
}

TEST_CASE("canonical ABI: 64-bit memories", "[component][canonical]") {
  Types T;
  Guest g(StringEncoding::Utf16, true);
  REQUIRE(g.opts.memory64());
  auto string = T.p(TypeKind::String), u32 = T.p(TypeKind::U32);
  Layouts layouts;
  CanonPlan plan = make_canon_plan(layouts, T.func({string}, T.list(u32)), g.opts, CanonContext::Lift);
  CHECK(plan.core_type.params == std::vector<ValType>{ValType::I64, ValType::I64});
  CHECK(plan.core_type.results == std::vector<ValType>{ValType::I64});
  CHECK(plan.results.tuple->size == 16);
  round_trip(g, str(string, "wide \U0001F600"));
  round_trip(g, agg(T.list(u32), {num(u32, 1), num(u32, 2)}));
  Guest l(StringEncoding::Latin1Utf16, true);
  LiftLowerContext cx = l.cx();
  std::vector<uint64_t> flat;
  lower_flat(cx, str(string, "x"), *layouts.of(string, true), flat);
  CHECK(flat.at(1) == 1);
  // The tag is bit 63: the same byte 'x' and the zero after it as UTF-16.
  CHECK(lift_one(l, string, {flat[0], UTF16_TAG_64 | 1}).str == "x");
  CHECK(traps([&] { lift_one(l, string, {flat[0], UTF16_TAG | 1}); }, "exceeds the maximum"));
}

TEST_CASE("canonical ABI: lifting wraps, canonicalizes and ignores", "[component][canonical]") {
  Types T;
  Guest g;
  CHECK(lift_one(g, T.p(TypeKind::Bool), {2}).bits == 1);
  CHECK(lift_one(g, T.p(TypeKind::U8), {0x1ff}).bits == 0xff);
  CHECK(lift_one(g, T.p(TypeKind::S8), {0x80}).bits == static_cast<uint64_t>(-128));
  CHECK(lift_one(g, T.p(TypeKind::S16), {0xffff}).bits == static_cast<uint64_t>(-1));
  CHECK(lift_one(g, T.p(TypeKind::S32), {0x80000000}).bits == static_cast<uint64_t>(INT32_MIN));
  CHECK(lift_one(g, T.labelled(TypeKind::Flags, 3), {0xff}).flags == std::vector<uint32_t>{7});

  // A NaN with a payload comes out canonical, and lowers as such.
  Val nan = lift_one(g, T.p(TypeKind::F32), {0x7fc00001});
  Layouts layouts;
  LiftLowerContext cx = g.cx();
  std::vector<uint64_t> flat;
  lower_flat(cx, nan, *layouts.of(T.p(TypeKind::F32)), flat);
  CHECK(flat == std::vector<uint64_t>{0x7fc00000});
  Val nan64 = lift_one(g, T.p(TypeKind::F64), {0xfff0000000000001});
  flat.clear();
  lower_flat(cx, nan64, *layouts.of(T.p(TypeKind::F64)), flat);
  CHECK(flat == std::vector<uint64_t>{0x7ff8000000000000});

  // Joined payload slots: a bool in an i64 slot wraps to i32 first; an f32
  // travels in an i32 slot.
  auto var = T.variant({T.p(TypeKind::U64), T.p(TypeKind::Bool)});
  CHECK(lift_one(g, var, {1, 0x100000000}).items.at(0).bits == 0);
  auto res = T.result(T.p(TypeKind::F32), T.p(TypeKind::U32));
  Val f = lift_one(g, res, {0, 0x40100000});
  CHECK(f.items.at(0).f32() == 2.25f);
  // Unused trailing slots of a shorter case are consumed.
  auto v2 = T.variant({nullptr, T.tuple({T.p(TypeKind::U32), T.p(TypeKind::U32)})});
  std::vector<uint64_t> two = {0, 0, 0, 9};
  CoreValueIter vi(two);
  lift_flat(cx, vi, *layouts.of(v2));
  CHECK(vi.next() == 9);
}

TEST_CASE("canonical ABI: string encodings", "[component][canonical]") {
  Types T;
  auto string = T.p(TypeKind::String);
  Layouts layouts;
  const Layout& sl = *layouts.of(string);
  const std::string mixed = "a\u00e9\u20ac\U0001F600";  // a é € 😀
  auto lower = [&](Guest& g, const std::string& s) {
    LiftLowerContext cx = g.cx();
    std::vector<uint64_t> flat;
    lower_flat(cx, str(string, s), sl, flat);
    return flat;
  };
  auto units = [&](Guest& g, uint64_t ptr, size_t n) {
    std::vector<uint16_t> u(n);
    std::memcpy(u.data(), g.mem() + ptr, 2 * n);
    return u;
  };

  SECTION("utf16") {
    Guest g(StringEncoding::Utf16);
    std::vector<uint64_t> flat = lower(g, mixed);
    CHECK(flat[1] == 5);
    CHECK(flat[0] % 2 == 0);
    CHECK(units(g, flat[0], 5) == std::vector<uint16_t>{0x61, 0xe9, 0x20ac, 0xd83d, 0xde00});
    CHECK(lift_one(g, string, flat).str == mixed);
    round_trip(g, str(string, ""));
    round_trip(g, str(string, "plain ascii"));
  }
  SECTION("latin1+utf16") {
    Guest g(StringEncoding::Latin1Utf16);
    std::vector<uint64_t> latin = lower(g, "caf\u00e9");
    CHECK(latin[1] == 4);  // untagged: latin-1
    CHECK(std::memcmp(g.mem() + latin[0], "caf\xe9", 4) == 0);
    CHECK(lift_one(g, string, latin).str == "caf\u00e9");

    std::vector<uint64_t> wide = lower(g, mixed);
    CHECK(wide[1] == (5 | UTF16_TAG));
    CHECK(units(g, wide[0], 5) == std::vector<uint16_t>{0x61, 0xe9, 0x20ac, 0xd83d, 0xde00});
    CHECK(lift_one(g, string, wide).str == mixed);
    round_trip(g, str(string, "\u00ff\u0100"));
    round_trip(g, str(string, ""));
  }
  SECTION("decoding from guest memory") {
    Guest g(StringEncoding::Latin1Utf16);
    std::memcpy(g.mem() + 1000, "A\xff", 2);
    CHECK(lift_one(g, string, {1000, 2}).str == "A\u00ff");
    Guest u8;
    std::memcpy(u8.mem() + 1000, "\xf0\x9f\x98\x80", 4);
    CHECK(lift_one(u8, string, {1000, 4}).str == "\U0001F600");
  }
  SECTION("transcoding helpers") {
    std::string out;
    const uint8_t pair[] = {0x3d, 0xd8, 0x00, 0xde};
    CHECK(utf16_to_utf8(pair, 2, out));
    CHECK(out == "\U0001F600");
    const uint8_t lone[] = {0x00, 0xdc};
    CHECK(!utf16_to_utf8(lone, 1, out));
  }
}

TEST_CASE("canonical ABI: traps", "[component][canonical]") {
  Types T;
  Guest g;
  auto u32 = T.p(TypeKind::U32), string = T.p(TypeKind::String), chr = T.p(TypeKind::Char);
  Layouts layouts;

  SECTION("invalid char") {
    CHECK(traps([&] { lift_one(g, chr, {0xd800}); }, "invalid `char` bit pattern"));
    CHECK(traps([&] { lift_one(g, chr, {0x110000}); }, "invalid `char` bit pattern"));
    std::memcpy(g.mem() + 100, "\x00\xdf\x00\x00", 4);  // 0xdf00: a surrogate
    LiftLowerContext cx = g.cx();
    CHECK(traps([&] { load(cx, 100, *layouts.of(chr)); }, "invalid `char` bit pattern"));
  }
  SECTION("invalid discriminant") {
    CHECK(traps([&] { lift_one(g, T.option(u32), {2, 0}); }, "invalid variant discriminant"));
    CHECK(traps([&] { lift_one(g, T.labelled(TypeKind::Enum, 3), {3}); }, "invalid variant discriminant"));
    g.mem()[200] = 3;
    LiftLowerContext cx = g.cx();
    CHECK(traps([&] { load(cx, 200, *layouts.of(T.result(u32, nullptr))); }, "invalid variant discriminant"));
  }
  SECTION("misaligned pointers") {
    CHECK(traps([&] { lift_one(g, T.list(u32), {2, 1}); }, "unaligned pointer"));
    Guest w(StringEncoding::Utf16);
    CHECK(traps([&] { lift_one(w, string, {101, 1}); }, "unaligned pointer"));
    CanonPlan plan = make_canon_plan(layouts, T.func(std::vector<const Type*>(17, u32), nullptr), g.opts,
                                     CanonContext::Lower);
    LiftLowerContext cx = g.cx();
    std::vector<uint64_t> ptr = {6};
    CoreValueIter vi(ptr);
    CHECK(traps([&] { lift_values(cx, plan.params, vi); }, "unaligned pointer"));
  }
  SECTION("out of bounds") {
    CHECK(traps([&] { lift_one(g, string, {65530, 10}); }, "string content out-of-bounds"));
    CHECK(traps([&] { lift_one(g, string, {0xffffffff, 1}); }, "string content out-of-bounds"));
    CHECK(traps([&] { lift_one(g, T.list(u32), {65532, 2}); }, "list content out-of-bounds"));
    auto bytes = T.list(T.p(TypeKind::U8));
    CHECK(lift_one(g, bytes, {65536, 0}).str.empty());
    CHECK(lift_one(g, bytes, {65535, 1}).str.size() == 1);
    CHECK(traps([&] { lift_one(g, bytes, {65530, 7}); }, "list content out-of-bounds"));
    CHECK(traps([&] { lift_one(g, bytes, {0xffffffff, 2}); }, "list content out-of-bounds"));
    CHECK(traps([&] { lift_one(g, bytes, {0, uint64_t{1} << 28}); }, "exceeds the maximum"));
    CanonPlan plan = make_canon_plan(layouts, T.func(std::vector<const Type*>(17, u32), nullptr), g.opts,
                                     CanonContext::Lower);
    LiftLowerContext cx = g.cx();
    std::vector<uint64_t> ptr = {65532};
    CoreValueIter vi(ptr);
    CHECK(traps([&] { lift_values(cx, plan.params, vi); }, "out of bounds"));
  }
  SECTION("malformed strings and length overflow") {
    std::memcpy(g.mem() + 300, "\xc3", 1);
    CHECK(traps([&] { lift_one(g, string, {300, 1}); }, "invalid utf-8"));
    CHECK(traps([&] { lift_one(g, string, {0, uint64_t{1} << 28}); }, "exceeds the maximum"));
    Guest w(StringEncoding::Utf16);
    std::memcpy(w.mem() + 300, "\x00\xd8\x41\x00", 4);  // lone high surrogate, then 'A'
    CHECK(traps([&] { lift_one(w, string, {300, 2}); }, "invalid utf-16"));
    CHECK(traps([&] { lift_one(w, string, {300, UTF16_TAG | 1}); }, "exceeds the maximum"));
    CHECK(traps([&] { lift_one(g, T.list(T.p(TypeKind::U64)), {0, uint64_t{1} << 25}); }, "exceeds the maximum"));
  }
  SECTION("list<u8> values of the wrong shape") {
    const Type* fixed = T.list(T.p(TypeKind::U8), 4);
    Val v = str(fixed, "abc");
    LiftLowerContext cx = g.cx();
    std::vector<uint64_t> flat;
    CHECK(traps([&] { lower_flat(cx, v, *layouts.of(fixed), flat); }, "fixed-size list of the wrong length"));
    CHECK(traps([&] { store(cx, v, *layouts.of(fixed), 64); }, "fixed-size list of the wrong length"));
    const Type* bytes = T.list(T.p(TypeKind::U8));
    Val per_byte = agg(bytes, {num(T.p(TypeKind::U8), 1)});  // a host value built the slow way
    CHECK(traps([&] { lower_flat(cx, per_byte, *layouts.of(bytes), flat); }, "keeps its bytes in str"));
  }
  SECTION("realloc results are checked") {
    LiftLowerContext cx = g.cx();
    const Layout& l = *layouts.of(T.list(u32));
    Val v = agg(T.list(u32), {num(u32, 1)});
    std::vector<uint64_t> flat;
    g.opts.realloc = g.inst->find_function("realloc_unaligned");
    CHECK(traps([&] { lower_flat(cx, v, l, flat); }, "realloc return: result not aligned"));
    g.opts.realloc = g.inst->find_function("realloc_oob");
    CHECK(traps([&] { lower_flat(cx, v, l, flat); }, "realloc return: beyond end of memory"));
    g.opts.realloc = nullptr;
    CHECK(traps([&] { lower_flat(cx, v, l, flat); }, "no realloc"));
  }
}

TEST_CASE("canonical ABI: resource hooks", "[component][canonical]") {
  struct Hooks : ResourceHooks {
    uint64_t lift_own(uint32_t h, const Type*) override { return h + 100; }
    uint64_t lift_borrow(uint32_t h, const Type*) override { return h + 200; }
    uint32_t lower_own(uint64_t rep, const Type*) override { return static_cast<uint32_t>(rep - 100); }
    uint32_t lower_borrow(uint64_t rep, const Type*) override { return static_cast<uint32_t>(rep - 200); }
  } hooks;
  Types T;
  Guest g;
  const Type* r = T.ts.fresh_resource(ValType::I32, std::nullopt, false);
  auto own = T.handle(TypeKind::Own, r), borrow = T.handle(TypeKind::Borrow, r);
  Layouts layouts;
  LiftLowerContext cx{g.opts, g.store, &hooks};
  std::vector<uint64_t> in = {1, 2};
  CoreValueIter vi(in);
  CHECK(lift_flat(cx, vi, *layouts.of(own)).bits == 101);
  CHECK(lift_flat(cx, vi, *layouts.of(borrow)).bits == 202);
  std::vector<uint64_t> out;
  lower_flat(cx, num(own, 105), *layouts.of(own), out);
  lower_flat(cx, num(borrow, 207), *layouts.of(borrow), out);
  CHECK(out == std::vector<uint64_t>{5, 7});
}
