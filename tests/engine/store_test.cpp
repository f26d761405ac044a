#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <bit>
#include <cstring>
#include <fstream>

#include "base/error.h"
#include "engine/store.h"
#include "wasm/decoder.h"
#include "wasm/validator.h"

using namespace weft;
using namespace weft::engine;
using wasm::ExternKind;
using wasm::ValType;

namespace {

// Hand-assembles the parts of a module the instantiation tests need.
struct ModuleBuilder {
  std::shared_ptr<wasm::Module> m = std::make_shared<wasm::Module>();

  wasm::ByteRange bytes(const std::vector<uint8_t>& b) {
    wasm::ByteRange r{static_cast<uint32_t>(m->bytes.size()), static_cast<uint32_t>(b.size())};
    m->bytes.vec().insert(m->bytes.vec().end(), b.begin(), b.end());
    return r;
  }
  uint32_t type(wasm::FuncType t) {
    m->types.push_back(std::move(t));
    return static_cast<uint32_t>(m->types.size() - 1);
  }
  wasm::Import& import(ExternKind kind, std::string name) {
    wasm::Import& imp = m->imports.emplace_back();
    imp.module = "env";
    imp.name = std::move(name);
    imp.kind = kind;
    return imp;
  }
  void import_func(uint32_t type_index) {
    import(ExternKind::Func, "f").func_type = type_index;
    m->funcs.push_back(type_index);
    ++m->num_imported_funcs;
  }
  void import_memory(wasm::Limits limits) {
    import(ExternKind::Memory, "mem").memory.limits = limits;
    m->memories.push_back({limits});
    ++m->num_imported_memories;
  }
  void import_table(wasm::TableType t) {
    import(ExternKind::Table, "tab").table = t;
    m->tables.push_back(t);
    ++m->num_imported_tables;
  }
  void import_global(wasm::GlobalType t) {
    import(ExternKind::Global, "g").global = t;
    m->globals.push_back({t, {}});
    ++m->num_imported_globals;
  }
  void func(uint32_t type_index) {
    m->funcs.push_back(type_index);
    m->bodies.push_back({});
  }
  void global(wasm::GlobalType t, const std::vector<uint8_t>& init) { m->globals.push_back({t, bytes(init)}); }
  void active_data(uint32_t offset, const std::string& s) {
    wasm::DataSegment& d = m->datas.emplace_back();
    d.mode = wasm::DataSegment::Mode::Active;
    d.offset = bytes(i32_const(static_cast<int32_t>(offset)));
    d.init = bytes(std::vector<uint8_t>(s.begin(), s.end()));
  }
  void active_elem(uint32_t offset, std::vector<uint32_t> funcs) {
    wasm::ElemSegment& e = m->elems.emplace_back();
    e.mode = wasm::ElemSegment::Mode::Active;
    e.offset = bytes(i32_const(static_cast<int32_t>(offset)));
    e.func_indices = std::move(funcs);
  }
  void exp(std::string name, ExternKind kind, uint32_t index) { m->exports.push_back({std::move(name), kind, index}); }

  static void sleb(std::vector<uint8_t>& out, int64_t v) {
    for (;;) {
      uint8_t b = v & 0x7f;
      v >>= 7;
      bool done = (v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40));
      out.push_back(done ? b : (b | 0x80));
      if (done) return;
    }
  }
  static std::vector<uint8_t> i32_const(int32_t v) {
    std::vector<uint8_t> out{0x41};
    sleb(out, v);
    out.push_back(0x0b);
    return out;
  }
};

wasm::Limits limits(uint64_t min, std::optional<uint64_t> max = {}, bool shared = false, bool is64 = false) {
  wasm::Limits l;
  l.min = min;
  l.max = max;
  l.shared = shared;
  l.is64 = is64;
  return l;
}

wasm::FuncType sig(std::vector<ValType> params, std::vector<ValType> results) { return {params, results}; }

Function* nop_host(Store& store, const wasm::FuncType& t) {
  return store.create_host_function(t, "nop", [](HostCall&) {});
}

std::string link_error(Store& store, ModuleBuilder& b, std::vector<Extern> imports) {
  try {
    store.instantiate(b.m, imports);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Unlinkable);
    return e.what();
  }
  return "linked";
}

}  // namespace

TEST_CASE("guarded 32-bit memory grows in place up to its max", "[memory]") {
  Memory mem({limits(1, 3)}, uint64_t{1} << 34);
  REQUIRE(mem.guarded());
  CHECK(mem.pages() == 1);
  CHECK(mem.size_bytes() == wasm::kPageSize);
  CHECK(mem.max_pages() == 3);
  uint8_t* base = mem.data();
  base[wasm::kPageSize - 1] = 7;

  CHECK(mem.grow(1) == 1);
  CHECK(mem.data() == base);
  CHECK(base[wasm::kPageSize - 1] == 7);
  CHECK(base[2 * wasm::kPageSize - 1] == 0);  // new pages are zeroed
  base[2 * wasm::kPageSize - 1] = 9;
  CHECK(mem.grow(2) == -1);
  CHECK(mem.pages() == 2);
  CHECK(mem.grow(0) == 2);
  CHECK(mem.grow(1) == 2);
  CHECK(mem.pages() == 3);
  CHECK(mem.in_bounds(3 * wasm::kPageSize - 16, 16));
  CHECK_FALSE(mem.in_bounds(3 * wasm::kPageSize - 15, 16));
  CHECK_FALSE(mem.in_bounds(UINT64_MAX, 2));
}

TEST_CASE("guard region covers address plus offset and is registered", "[memory]") {
  const uint8_t* far;
  {
    Memory mem({limits(0, 1)}, uint64_t{1} << 34);
    REQUIRE(mem.guarded());
    far = mem.data() + UINT32_MAX + UINT32_MAX + 15;
    CHECK(mem.owns_address(mem.data()));
    CHECK(mem.owns_address(far));
    CHECK(Memory::is_guard_fault(far));
    CHECK(Memory::is_guard_fault(mem.data()));
    int local = 0;
    CHECK_FALSE(mem.owns_address(&local));
    CHECK_FALSE(Memory::is_guard_fault(&local));
  }
  CHECK_FALSE(Memory::is_guard_fault(far));
}

TEST_CASE("memory page limits", "[memory]") {
  SECTION("no declared max: 65536 pages") {
    Memory mem({limits(0)}, uint64_t{1} << 34);
    CHECK(mem.max_pages() == wasm::kMaxPages32);
    CHECK(mem.grow(wasm::kMaxPages32 + 1) == -1);
    CHECK(mem.grow(UINT64_MAX) == -1);
    CHECK(mem.pages() == 0);
  }
  SECTION("the store's per-memory limit caps growth") {
    Memory mem({limits(1)}, 4 * wasm::kPageSize);
    CHECK(mem.grow(3) == 1);
    CHECK(mem.grow(1) == -1);
  }
  SECTION("an initial size over the limit is out of memory") {
    try {
      Memory mem({limits(5)}, 4 * wasm::kPageSize);
      FAIL("constructed");
    } catch (const Trap& t) {
      CHECK(t.kind() == TrapKind::OutOfMemory);
    }
  }
  SECTION("through the store") {
    StoreLimits sl;
    sl.max_memory_bytes = 2 * wasm::kPageSize;
    Store store(sl);
    Memory* mem = store.create_memory({limits(1)});
    CHECK(mem->grow(1) == 1);
    CHECK(mem->grow(1) == -1);
  }
}

TEST_CASE("memory64 uses explicit bounds and a fixed base", "[memory]") {
  Memory mem({limits(1, {}, false, true)}, 16 * wasm::kPageSize);
  CHECK_FALSE(mem.guarded());
  uint8_t* base = mem.data();
  base[wasm::kPageSize - 1] = 1;
  CHECK(mem.grow(15) == 1);
  CHECK(mem.data() == base);
  base[16 * wasm::kPageSize - 1] = 2;
  CHECK(mem.grow(1) == -1);
  CHECK(mem.in_bounds(16 * wasm::kPageSize, 0));
  CHECK_FALSE(mem.in_bounds(16 * wasm::kPageSize, 1));
}

TEST_CASE("memory falls back to explicit checks when address space is short", "[memory]") {
  // Cap the address space 1 GiB above what the process uses now, so neither
  // the guarded nor the maximum-size reservation fits.
  uint64_t vm_pages = 0;
  std::ifstream("/proc/self/statm") >> vm_pages;
  rlimit saved;
  REQUIRE(getrlimit(RLIMIT_AS, &saved) == 0);
  rlimit tight = saved;
  tight.rlim_cur = vm_pages * 4096 + (uint64_t{1} << 30);
  REQUIRE(setrlimit(RLIMIT_AS, &tight) == 0);
  {
    Memory mem({limits(1)}, uint64_t{1} << 34);
    bool guarded = mem.guarded();
    mem.data()[wasm::kPageSize - 1] = 5;
    int64_t grown = mem.grow(3);
    int64_t too_far = mem.grow(wasm::kMaxPages32);
    bool shared_fails = false;
    try {
      Memory shared({limits(1, 65536, true)}, uint64_t{1} << 34);
    } catch (const Trap& t) {
      shared_fails = t.kind() == TrapKind::OutOfMemory;
    }
    setrlimit(RLIMIT_AS, &saved);
    CHECK_FALSE(guarded);
    CHECK(grown == 1);
    CHECK(too_far == -1);
    CHECK(mem.pages() == 4);
    CHECK(mem.data()[wasm::kPageSize - 1] == 5);  // contents survive a move
    CHECK(mem.data()[4 * wasm::kPageSize - 1] == 0);
    CHECK(shared_fails);
  }
  setrlimit(RLIMIT_AS, &saved);
}

TEST_CASE("shared memory keeps its base", "[memory]") {
  Store store;
  Memory* mem = store.create_memory({limits(1, 2, true)});
  CHECK(mem->type().limits.shared);
  uint8_t* base = mem->data();
  CHECK(mem->grow(1) == 1);
  CHECK(mem->data() == base);
  mem->data()[2 * wasm::kPageSize - 1] = 1;
  CHECK(mem->grow(1) == -1);
}

TEST_CASE("function types are interned", "[store]") {
  Store store;
  uint32_t a = store.intern(sig({ValType::I32}, {}));
  uint32_t b = store.intern(sig({ValType::I32}, {}));
  uint32_t c = store.intern(sig({}, {ValType::I32}));
  uint32_t d = store.intern(sig({ValType::I32, ValType::I32}, {}));
  uint32_t e = store.intern(sig({ValType::I32}, {ValType::I32}));
  CHECK(a == b);
  CHECK(a != c);
  CHECK(d != e);
  CHECK(store.type_of(a) == store.type_of(b));
  CHECK(*store.type_of(e) == sig({ValType::I32}, {ValType::I32}));
  Function* f = nop_host(store, sig({ValType::I32}, {}));
  CHECK(f->sig == a);
  CHECK(f->type == store.type_of(a));
  CHECK(store.create_tag(sig({ValType::I32}, {}))->sig == a);
}

TEST_CASE("tables grow within their limits", "[store]") {
  Store store;
  wasm::TableType tt;
  tt.limits = limits(2, 4);
  Table* t = store.create_table(tt);
  CHECK(t->elems == std::vector<Ref>{0, 0});
  CHECK(t->grow(2, 5) == 2);
  CHECK(t->elems == std::vector<Ref>{0, 0, 5, 5});
  CHECK(t->grow(1, 0) == -1);
  CHECK(t->grow(0, 0) == 4);

  tt.limits = limits(0);
  Table* unbounded = store.create_table(tt, 3);
  CHECK(unbounded->grow(10, 1) == 0);
  CHECK(unbounded->grow(UINT32_MAX, 0) == -1);  // past the 32-bit index space
  CHECK(unbounded->elems.size() == 10);
}

TEST_CASE("globals keep raw bits", "[store]") {
  Store store;
  Global* g = store.create_global({ValType::F32, true}, Value::make_f32_bits(0x7fa00001));
  CHECK(g->get().type == ValType::F32);
  CHECK(g->get().f32 == 0x7fa00001);
  g->set(Value::make_f32_bits(0xffc00000));
  CHECK(g->get().f32 == 0xffc00000);
  CHECK(g->bits[0] == 0xffc00000);

  V128 v;
  for (int i = 0; i < 16; ++i) v.bytes[i] = static_cast<uint8_t>(i * 3);
  Global* gv = store.create_global({ValType::V128, false}, Value::make_v128(v));
  CHECK(gv->get().v128 == v);

  Global* gr = store.create_global({ValType::ExternRef, true}, Value::extern_ref(7));
  CHECK(gr->get().type == ValType::ExternRef);
  CHECK(gr->get().extern_index() == 7);
}

TEST_CASE("Store::call runs host functions and checks arguments", "[store]") {
  Store store;
  Function* add = store.create_host_function(sig({ValType::I32, ValType::I64}, {ValType::I64}), "add",
                                             [](HostCall& c) { c.set_i64(0, c.i32(0) + c.i64(1)); });
  auto r = store.call(add, std::vector<Value>{Value::make_i32(2), Value::make_i64(40)});
  REQUIRE(r.size() == 1);
  CHECK(r[0].type == ValType::I64);
  CHECK(r[0].i64 == 42);

  CHECK_THROWS_AS(store.call(add, std::vector<Value>{Value::make_i32(2)}), Error);
  CHECK_THROWS_AS(store.call(add, std::vector<Value>{Value::make_i32(2), Value::make_i32(2)}), Error);

  Function* fail = store.create_host_function(sig({}, {}), "fail", [](HostCall& c) { c.trap("nope"); });
  try {
    store.call(fail, {});
    FAIL("no trap");
  } catch (const Trap& t) {
    CHECK(t.kind() == TrapKind::Host);
    CHECK(std::string(t.what()) == "host error: nope");
  }
  CHECK(store.stack_top() == store.stack_base());
}

TEST_CASE("a host function can call back without clobbering its arguments", "[store]") {
  Store store;
  Function* inner = store.create_host_function(sig({ValType::I32}, {ValType::I32}), "inner",
                                               [](HostCall& c) { c.set_i32(0, c.i32(0) * 2); });
  Function* outer = store.create_host_function(
      sig({ValType::I32}, {ValType::I32}), "outer", [inner](HostCall& c) {
        auto r = c.store.call(inner, std::vector<Value>{Value::make_i32(100)});
        c.set_i32(0, c.i32(0) + r[0].i32);
      });
  auto r = store.call(outer, std::vector<Value>{Value::make_i32(1)});
  CHECK(r[0].i32 == 201);
}

TEST_CASE("import matching", "[instantiate]") {
  Store store;
  ModuleBuilder b;

  SECTION("function types compare by signature") {
    b.import_func(b.type(sig({ValType::I32}, {})));
    CHECK(link_error(store, b, {Extern::of(nop_host(store, sig({}, {})))}).starts_with("incompatible import type"));
    CHECK(link_error(store, b, {Extern::of(nop_host(store, sig({ValType::I32}, {})))}) == "linked");
  }
  SECTION("kind mismatch") {
    b.import_func(b.type(sig({}, {})));
    Global* g = store.create_global({ValType::I32, false}, Value::make_i32(1));
    CHECK(link_error(store, b, {Extern::of(g)}) == "incompatible import type for \"env\" \"f\"");
  }
  SECTION("memory limits") {
    Memory* mem = store.create_memory({limits(1, 2)});
    auto try_import = [&](wasm::Limits l) {
      ModuleBuilder mb;
      mb.import_memory(l);
      return link_error(store, mb, {Extern::of(mem)});
    };
    CHECK(try_import(limits(1)) == "linked");
    CHECK(try_import(limits(0, 2)) == "linked");
    CHECK(try_import(limits(1, 3)) == "linked");
    CHECK(try_import(limits(2)) != "linked");     // min larger than the current size
    CHECK(try_import(limits(1, 1)) != "linked");  // max smaller
    CHECK(try_import(limits(1, 2, true)) != "linked");
    CHECK(try_import(limits(1, 2, false, true)) != "linked");
    mem->grow(1);
    CHECK(try_import(limits(2)) == "linked");  // the current size counts

    Memory* unbounded = store.create_memory({limits(1)});
    ModuleBuilder mb;
    mb.import_memory(limits(1, 5));
    CHECK(link_error(store, mb, {Extern::of(unbounded)}) != "linked");
  }
  SECTION("table limits and element type") {
    wasm::TableType tt;
    tt.limits = limits(10, 20);
    Table* t = store.create_table(tt);
    auto try_import = [&](wasm::TableType want) {
      ModuleBuilder mb;
      mb.import_table(want);
      return link_error(store, mb, {Extern::of(t)});
    };
    CHECK(try_import(tt) == "linked");
    wasm::TableType want = tt;
    want.limits = limits(11);
    CHECK(try_import(want) != "linked");
    want.limits = limits(10, 15);
    CHECK(try_import(want) != "linked");
    want = tt;
    want.elem = ValType::ExternRef;
    CHECK(try_import(want) != "linked");
  }
  SECTION("globals: type and mutability") {
    Global* g = store.create_global({ValType::I32, false}, Value::make_i32(1));
    auto try_import = [&](wasm::GlobalType want) {
      ModuleBuilder mb;
      mb.import_global(want);
      return link_error(store, mb, {Extern::of(g)});
    };
    CHECK(try_import({ValType::I32, false}) == "linked");
    CHECK(try_import({ValType::I32, true}) != "linked");
    CHECK(try_import({ValType::I64, false}) != "linked");
  }
}

TEST_CASE("globals are initialized in order by constant expressions", "[instantiate]") {
  Store store;
  ModuleBuilder b;
  uint32_t t = b.type(sig({}, {}));
  b.import_global({ValType::I32, false});
  b.func(t);
  // global 1 = g0 * 3 - 2 (extended-const)
  b.global({ValType::I32, false}, {0x23, 0, 0x41, 3, 0x6c, 0x41, 2, 0x6b, 0x0b});
  // global 2 = g1 + g1
  b.global({ValType::I32, true}, {0x23, 1, 0x23, 1, 0x6a, 0x0b});
  b.global({ValType::I64, false}, {0x42, 0x7f, 0x42, 0x05, 0x7e, 0x0b});   // -1 * 5
  b.global({ValType::FuncRef, false}, {0xd2, 0, 0x0b});
  b.global({ValType::ExternRef, false}, {0xd0, 0x6f, 0x0b});
  std::vector<uint8_t> v128{0xfd, 12};
  for (int i = 0; i < 16; ++i) v128.push_back(static_cast<uint8_t>(i));
  v128.push_back(0x0b);
  b.global({ValType::V128, false}, v128);
  b.global({ValType::F64, false}, {0x44, 1, 0, 0, 0, 0, 0, 0xf0, 0x7f, 0x0b});  // sNaN, payload 1
  // 1 + (2 + (3 + ... (9 + 10))): ten operands deep
  std::vector<uint8_t> deep;
  for (uint8_t i = 1; i <= 10; ++i) deep.insert(deep.end(), {0x41, i});
  for (int i = 0; i < 9; ++i) deep.push_back(0x6a);
  deep.push_back(0x0b);
  b.global({ValType::I32, false}, deep);

  Global* g0 = store.create_global({ValType::I32, false}, Value::make_i32(10));
  Instance* inst = store.instantiate(b.m, std::vector<Extern>{Extern::of(g0)});
  CHECK(inst->globals[0] == g0);
  CHECK(inst->globals[1]->get().i32 == 28);
  CHECK(inst->globals[2]->get().i32 == 56);
  CHECK(inst->globals[3]->get().i64 == static_cast<uint64_t>(-5));
  CHECK(inst->globals[4]->get().ref == reinterpret_cast<Ref>(inst->funcs[0]));
  CHECK(inst->globals[5]->get().type == ValType::ExternRef);
  CHECK(inst->globals[5]->get().ref == 0);
  CHECK(inst->globals[6]->get().v128.bytes[15] == 15);
  CHECK(inst->globals[7]->get().f64 == 0x7ff0000000000001);
  CHECK(inst->globals[8]->get().i32 == 55);
}

TEST_CASE("functions, exports and lookups", "[instantiate]") {
  Store store;
  ModuleBuilder b;
  uint32_t t0 = b.type(sig({}, {}));
  uint32_t t1 = b.type(sig({ValType::I32}, {ValType::I32}));
  b.import_func(t0);
  b.func(t1);
  b.m->memories.push_back({limits(1)});
  b.exp("", ExternKind::Func, 1);
  b.exp("\xe2\x98\x83", ExternKind::Memory, 0);
  b.exp("imported", ExternKind::Func, 0);
  Function* host = nop_host(store, sig({}, {}));
  Instance* inst = store.instantiate(b.m, std::vector<Extern>{Extern::of(host)});

  REQUIRE(inst->funcs.size() == 2);
  CHECK(inst->funcs[0] == host);
  Function* f = inst->funcs[1];
  CHECK(f->instance == inst);
  CHECK(f->index == 1);
  CHECK(f->host == nullptr);
  CHECK(f->sig == store.intern(sig({ValType::I32}, {ValType::I32})));

  CHECK(inst->find_function("") == f);
  CHECK(inst->find_function("imported") == host);
  Extern m = inst->find_export("\xe2\x98\x83");
  CHECK(m.kind == ExternKind::Memory);
  CHECK(m.memory == inst->memories[0]);
  CHECK(inst->find_function("\xe2\x98\x83") == nullptr);
  CHECK(inst->find_export("missing").ptr == nullptr);
  CHECK(inst->find_function("missing") == nullptr);
}

TEST_CASE("element segments", "[instantiate]") {
  Store store;
  ModuleBuilder b;
  uint32_t t = b.type(sig({}, {}));
  b.func(t);
  b.func(t);
  wasm::TableType tt;
  tt.limits = limits(4);
  b.m->tables.push_back(tt);
  b.active_elem(1, {0, 1});
  wasm::ElemSegment& passive = b.m->elems.emplace_back();
  passive.uses_exprs = true;
  passive.exprs = {b.bytes({0xd2, 1, 0x0b}), b.bytes({0xd0, 0x70, 0x0b})};
  wasm::ElemSegment& declared = b.m->elems.emplace_back();
  declared.mode = wasm::ElemSegment::Mode::Declarative;
  declared.func_indices = {0};

  Instance* inst = store.instantiate(b.m, {});
  Ref f0 = reinterpret_cast<Ref>(inst->funcs[0]);
  Ref f1 = reinterpret_cast<Ref>(inst->funcs[1]);
  CHECK(inst->tables[0]->elems == std::vector<Ref>{0, f0, f1, 0});
  CHECK(inst->elems[0].empty());  // active: dropped once applied
  CHECK(inst->elems[1] == std::vector<Ref>{f1, 0});
  CHECK(inst->elems[2].empty());  // declarative: dropped at once
}

TEST_CASE("active segments apply in order until the first out-of-bounds one", "[instantiate]") {
  Store store;
  wasm::TableType tt;
  tt.limits = limits(3);
  Table* table = store.create_table(tt);
  Memory* mem = store.create_memory({limits(1)});
  int starts = 0;
  Function* start = store.create_host_function(sig({}, {}), "start", [&](HostCall&) { ++starts; });

  auto build = [&](uint32_t elem_offset, uint32_t data_offset) {
    ModuleBuilder b;
    uint32_t t = b.type(sig({}, {}));
    b.import_func(t);
    b.import_table(tt);
    b.import_memory(limits(1));
    b.func(t);
    b.active_elem(0, {1});
    b.active_elem(elem_offset, {1, 1});
    b.active_data(0, "ab");
    b.active_data(data_offset, "xyz");
    b.active_data(10, "late");
    b.m->start = 0;
    return b;
  };
  std::vector<Extern> imports{Extern::of(start), Extern::of(table), Extern::of(mem)};

  SECTION("all in bounds: segments applied, then start runs") {
    ModuleBuilder b = build(1, wasm::kPageSize - 3);
    Instance* inst = store.instantiate(b.m, imports);
    CHECK(table->elems[2] == reinterpret_cast<Ref>(inst->funcs[1]));
    CHECK(std::memcmp(mem->data() + wasm::kPageSize - 3, "xyz", 3) == 0);
    CHECK(std::memcmp(mem->data() + 10, "late", 4) == 0);
    CHECK(inst->data_dropped == std::vector<bool>{true, true, true});
    CHECK(starts == 1);
  }
  SECTION("data out of bounds: elements and earlier data stay") {
    ModuleBuilder b = build(1, wasm::kPageSize - 2);
    try {
      store.instantiate(b.m, imports);
      FAIL("no trap");
    } catch (const Trap& t) {
      CHECK(t.kind() == TrapKind::OutOfBoundsMemoryAccess);
      CHECK(std::string(t.what()) == "out of bounds memory access");
    }
    CHECK(table->elems[0] != 0);
    // The instance outlives the trap: the table still refers to its function.
    auto* f = reinterpret_cast<Function*>(table->elems[2]);
    CHECK(f->instance->module == b.m);
    CHECK(std::memcmp(mem->data(), "ab", 2) == 0);
    CHECK(mem->data()[wasm::kPageSize - 2] == 0);  // no partial write
    CHECK(mem->data()[10] == 0);
    CHECK(starts == 0);
  }
  SECTION("element out of bounds: nothing after it runs") {
    ModuleBuilder b = build(2, 0);
    try {
      store.instantiate(b.m, imports);
      FAIL("no trap");
    } catch (const Trap& t) {
      CHECK(t.kind() == TrapKind::OutOfBoundsTableAccess);
    }
    CHECK(table->elems[0] != 0);
    CHECK(table->elems[2] == 0);
    CHECK(mem->data()[0] == 0);
    CHECK(starts == 0);
  }
  SECTION("an empty segment past the end still traps") {
    ModuleBuilder b;
    b.import_memory(limits(1));
    b.active_data(wasm::kPageSize + 1, "");
    CHECK_THROWS_AS(store.instantiate(b.m, std::vector<Extern>{Extern::of(mem)}), Trap);
  }
}

TEST_CASE("memory64 data segments take i64 offsets", "[instantiate]") {
  Store store;
  ModuleBuilder b;
  b.m->memories.push_back({limits(1, {}, false, true)});
  wasm::DataSegment& d = b.m->datas.emplace_back();
  d.mode = wasm::DataSegment::Mode::Active;
  d.offset = b.bytes({0x42, 0x80, 0x01, 0x0b});  // i64.const 128
  d.init = b.bytes({1, 2, 3});
  wasm::DataSegment& passive = b.m->datas.emplace_back();
  passive.init = b.bytes({4});
  Instance* inst = store.instantiate(b.m, {});
  CHECK(inst->memories[0]->data()[130] == 3);
  CHECK(inst->data_dropped == std::vector<bool>{true, false});
}

TEST_CASE("trap messages are the spec interpreter's", "[trap]") {
  CHECK(std::string(trap_message(TrapKind::IntegerDivideByZero)) == "integer divide by zero");
  CHECK(std::string(trap_message(TrapKind::UninitializedElement)) == "uninitialized element");
  CHECK(std::string(trap_message(TrapKind::CallStackExhausted)) == "call stack exhausted");
  CHECK(std::string(Trap(TrapKind::OutOfBoundsTableAccess).what()) == "out of bounds table access");
}

namespace {

// A tiny wasm binary assembler for the tests that run code.
using Bytes = std::vector<uint8_t>;

void uleb(Bytes& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(v ? (b | 0x80) : b);
  } while (v);
}
Bytes str(const std::string& s) {
  Bytes out;
  uleb(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
  return out;
}
// A vector section: id, then count + items.
Bytes section(uint8_t id, const std::vector<Bytes>& items) {
  Bytes body;
  uleb(body, items.size());
  for (const Bytes& it : items) body.insert(body.end(), it.begin(), it.end());
  Bytes out{id};
  uleb(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}
Bytes functype(Bytes params, Bytes results) {
  Bytes out{0x60};
  uleb(out, params.size());
  out.insert(out.end(), params.begin(), params.end());
  uleb(out, results.size());
  out.insert(out.end(), results.begin(), results.end());
  return out;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
// A function body without locals; `code` excludes the final end.
Bytes body(Bytes code) {
  Bytes inner{0};
  inner.insert(inner.end(), code.begin(), code.end());
  inner.push_back(0x0b);
  Bytes out;
  uleb(out, inner.size());
  return cat({out, inner});
}
std::shared_ptr<const wasm::Module> load(std::initializer_list<Bytes> sections) {
  Bytes bin{0, 'a', 's', 'm', 1, 0, 0, 0};
  for (const Bytes& s : sections) bin.insert(bin.end(), s.begin(), s.end());
  auto m = wasm::decode_module(std::move(bin));
  wasm::validate(*m, true);
  return m;
}

constexpr uint8_t I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, V128T = 0x7b;

}  // namespace

TEST_CASE("Store::call runs wasm functions", "[call]") {
  Store store;
  // (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  // (func (export "mix") (param i64 v128 f32) (result f32 v128 i64) local.get 2 local.get 1 local.get 0)
  auto m = load({section(1, {functype({I32, I32}, {I32}), functype({I64, V128T, F32}, {F32, V128T, I64})}),
                 section(3, {{0}, {1}}),
                 section(7, {cat({str("add"), {0, 0}}), cat({str("mix"), {0, 1}})}),
                 section(10, {body({0x20, 0, 0x20, 1, 0x6a}), body({0x20, 2, 0x20, 1, 0x20, 0})})});
  Instance* inst = store.instantiate(m, {});
  auto r = store.call(inst->find_function("add"), std::vector<Value>{Value::make_i32(2), Value::make_i32(3)});
  REQUIRE(r.size() == 1);
  CHECK(r[0].i32 == 5);

  V128 v;
  for (int i = 0; i < 16; ++i) v.bytes[i] = static_cast<uint8_t>(0xa0 + i);
  r = store.call(inst->find_function("mix"), std::vector<Value>{Value::make_i64(0x1122334455667788),
                                                                 Value::make_v128(v), Value::make_f32_bits(0x7f800001)});
  REQUIRE(r.size() == 3);
  CHECK(r[0].type == ValType::F32);
  CHECK(r[0].f32 == 0x7f800001);
  CHECK(r[1].v128 == v);
  CHECK(r[2].i64 == 0x1122334455667788);
  CHECK(store.stack_top() == store.stack_base());
}

TEST_CASE("wasm -> host -> wasm keeps each frame's slots", "[call]") {
  Store store;
  // (import "env" "f" (func (param i32) (result i32)))
  // (func (export "double") (param i32) (result i32) local.get 0 local.get 0 i32.add)
  // (func (export "outer") (param i32) (result i32)
  //   local.get 0  i32.const 1000  call 0  i32.add  local.get 0 i32.add)
  auto m = load({section(1, {functype({I32}, {I32})}), section(2, {cat({str("env"), str("f"), {0, 0}})}),
                 section(3, {{0}, {0}}),
                 section(7, {cat({str("double"), {0, 1}}), cat({str("outer"), {0, 2}})}),
                 section(10, {body({0x20, 0, 0x20, 0, 0x6a}),
                              body({0x20, 0, 0x41, 0xe8, 0x07, 0x10, 0, 0x6a, 0x20, 0, 0x6a})})});
  Instance* inst = nullptr;
  Function* host = store.create_host_function(
      sig({ValType::I32}, {ValType::I32}), "f", [&](HostCall& c) {
        uint32_t x = c.i32(0);
        auto r = c.store.call(inst->find_function("double"), std::vector<Value>{Value::make_i32(x)});
        c.set_i32(0, r[0].i32 + 1);
      });
  inst = store.instantiate(m, std::vector<Extern>{Extern::of(host)});
  auto r = store.call(inst->find_function("outer"), std::vector<Value>{Value::make_i32(5)});
  CHECK(r[0].i32 == 5 + 2001 + 5);
}

TEST_CASE("data segments are in place before the start function runs", "[call]") {
  Store store;
  // (import "env" "f" (func (param i32)))
  // (memory 1) (data (i32.const 8) "\2a")
  // (func $start  i32.const 8 i32.load8_u call 0) (start 1)
  auto m = load({section(1, {functype({I32}, {}), functype({}, {})}),
                 section(2, {cat({str("env"), str("f"), {0, 0}})}), section(3, {{1}}), section(5, {{0, 1}}),
                 {8, 1, 1}, section(10, {body({0x41, 8, 0x2d, 0, 0, 0x10, 0})}),
                 section(11, {{0, 0x41, 8, 0x0b, 1, 0x2a}})});
  uint32_t seen = 0;
  Function* host = store.create_host_function(sig({ValType::I32}, {}), "f", [&](HostCall& c) { seen = c.i32(0); });
  store.instantiate(m, std::vector<Extern>{Extern::of(host)});
  CHECK(seen == 42);
}

TEST_CASE("a failed instantiation leaves its functions callable through a shared table", "[call]") {
  Store store;
  wasm::TableType tt;
  tt.limits = limits(2);
  Table* table = store.create_table(tt);
  Memory* mem = store.create_memory({limits(1)});
  // (import "env" "t" (table 2 funcref)) (import "env" "m" (memory 1))
  // (func (result i32) i32.const 7)
  // (elem (i32.const 1) 0) (data (i32.const 65536) "x")
  auto m = load({section(1, {functype({}, {I32})}),
                 section(2, {cat({str("env"), str("t"), {1, 0x70, 0, 2}}), cat({str("env"), str("m"), {2, 0, 1}})}),
                 section(3, {{0}}), section(9, {{0, 0x41, 1, 0x0b, 1, 0}}), section(10, {body({0x41, 7})}),
                 section(11, {{0, 0x41, 0x80, 0x80, 0x04, 0x0b, 1, 'x'}})});
  CHECK_THROWS_AS(store.instantiate(m, std::vector<Extern>{Extern::of(table), Extern::of(mem)}), Trap);
  auto* f = reinterpret_cast<Function*>(table->elems[1]);
  REQUIRE(f);
  CHECK(store.call(f, {})[0].i32 == 7);
}

// Hidden until tests/main.cpp defines CATCH_CONFIG_NO_POSIX_SIGNALS: Catch's
// per-test SIGSEGV handler otherwise replaces the interpreter's fault handler.
TEST_CASE("out-of-bounds accesses to a guarded memory trap", "[call][guard]") {
  Store store;
  // (memory 1) (func (export "load") (param i32) (result i32) local.get 0 i32.load offset=0xffffffff)
  // (func (export "last") (result i32) i32.const 65535 i32.load8_u)
  auto m = load({section(1, {functype({I32}, {I32}), functype({}, {I32})}), section(3, {{0}, {1}}),
                 section(5, {{0, 1}}), section(7, {cat({str("load"), {0, 0}}), cat({str("last"), {0, 1}})}),
                 section(10, {body({0x20, 0, 0x28, 2, 0xff, 0xff, 0xff, 0xff, 0x0f}),
                              body({0x41, 0xff, 0xff, 0x03, 0x2d, 0, 0})})});
  Instance* inst = store.instantiate(m, {});
  REQUIRE(inst->memories[0]->guarded());
  inst->memories[0]->data()[65535] = 9;
  CHECK(store.call(inst->find_function("last"), {})[0].i32 == 9);
  for (uint32_t addr : {0u, 65536u, 0xffffffffu}) {
    try {
      store.call(inst->find_function("load"), std::vector<Value>{Value::make_i32(addr)});
      FAIL("no trap");
    } catch (const Trap& t) {
      CHECK(t.kind() == TrapKind::OutOfBoundsMemoryAccess);
    }
  }
}

TEST_CASE("a trapping start function", "[call]") {
  Store store;
  // (func unreachable) (start 0)
  auto m = load({section(1, {functype({}, {})}), section(3, {{0}}), {8, 1, 0}, section(10, {body({0x00})})});
  try {
    store.instantiate(m, {});
    FAIL("no trap");
  } catch (const Trap& t) {
    CHECK(t.kind() == TrapKind::Unreachable);
  }
}
