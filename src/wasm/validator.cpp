#include "wasm/validator.h"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/reader.h"
#include "wasm/code_reader.h"
#include "wasm/opcodes.h"

namespace weft::wasm {

namespace {

// Operand stack entries are value type bytes; 0 is the "unknown" type that
// pops from a polymorphic (unreachable) stack produce.
constexpr uint8_t kUnknown = 0;
constexpr uint8_t kI32 = static_cast<uint8_t>(ValType::I32);
constexpr uint8_t kI64 = static_cast<uint8_t>(ValType::I64);
constexpr uint8_t kF32 = static_cast<uint8_t>(ValType::F32);
constexpr uint8_t kF64 = static_cast<uint8_t>(ValType::F64);
constexpr uint8_t kV128 = static_cast<uint8_t>(ValType::V128);
constexpr uint8_t kFuncRef = static_cast<uint8_t>(ValType::FuncRef);
constexpr uint8_t kExnRef = static_cast<uint8_t>(ValType::ExnRef);
constexpr uint8_t kAddr = 1;  // in a SigShape: the memory's address type

uint8_t byte_of(ValType t) { return static_cast<uint8_t>(t); }
bool is_ref_byte(uint8_t t) { return t != kUnknown && is_ref(static_cast<ValType>(t)); }
uint8_t addr_type(const Limits& l) { return l.is64 ? kI64 : kI32; }

std::string indexed(const char* what, uint64_t index) {
  return std::string(what) + " " + std::to_string(index);
}

// ---------------------------------------------------------------------------
// Facts derived once from the opcode table.

// Operand and result types of a Sig, decoded from its enumerator name
// ("S_aii_i": pops address, i32, i32; pushes i32).
struct SigShape {
  uint8_t npop = 0;
  uint8_t pop[3] = {};
  uint8_t push = 0;  // 0: no result
};

constexpr const char* sig_name(Sig s) {
  switch (s) {
#define S(n) \
  case Sig::S_##n: return #n;
    S(0_i) S(0_I) S(0_f) S(0_F) S(0_v)
    S(i_i) S(ii_i) S(I_I) S(II_I) S(I_i) S(II_i)
    S(f_f) S(ff_f) S(F_F) S(FF_F) S(ff_i) S(FF_i)
    S(i_I) S(I_f) S(I_F) S(i_f) S(i_F) S(f_i) S(f_I) S(F_i) S(F_I) S(f_F) S(F_f)
    S(v_v) S(vv_v) S(vvv_v) S(v_i) S(vi_v) S(i_v) S(I_v) S(f_v) S(F_v)
    S(v_I) S(v_f) S(v_F) S(vI_v) S(vf_v) S(vF_v)
    S(a_i) S(a_I) S(a_f) S(a_F) S(a_v)
    S(ai_0) S(aI_0) S(af_0) S(aF_0) S(av_0)
    S(av_v) S(ai_i) S(aI_I) S(aii_i) S(aII_I) S(aiI_i) S(aII_i) S(0_0)
#undef S
    case Sig::Special: return "";
  }
  return "";
}

constexpr uint8_t letter_type(char c) {
  switch (c) {
    case 'i': return kI32;
    case 'I': return kI64;
    case 'f': return kF32;
    case 'F': return kF64;
    case 'v': return kV128;
    case 'a': return kAddr;
    default: return 0;
  }
}

constexpr SigShape make_shape(const char* name) {
  SigShape s;
  const char* p = name;
  for (; *p && *p != '_'; ++p)
    if (*p != '0') s.pop[s.npop++] = letter_type(*p);
  if (*p == '_') s.push = letter_type(p[1]);
  return s;
}

constexpr size_t kNumSigs = static_cast<size_t>(Sig::S_0_0) + 1;  // S_0_0 is the last Sig
constexpr auto kShapes = [] {
  std::array<SigShape, kNumSigs> a{};
  for (size_t i = 0; i < kNumSigs; ++i) a[i] = make_shape(sig_name(static_cast<Sig>(i)));
  return a;
}();

// Per-op facts the table's text names imply: the access size of memory
// instructions (their natural alignment) and the lane count that bounds a
// lane immediate.
struct OpFacts {
  uint8_t align_log2 = 0;  // log2 of the natural alignment
  uint8_t lanes = 0;
};

unsigned digits_at(std::string_view s, size_t pos) {
  unsigned n = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') n = n * 10 + unsigned(s[pos++] - '0');
  return n;
}

unsigned log2_of(unsigned bytes) {
  unsigned l = 0;
  while ((1u << l) < bytes) ++l;
  return l;
}

OpFacts derive_facts(const OpInfo& info) {
  OpFacts f;
  std::string_view text = info.text;
  std::string_view shape = text.substr(0, text.find('.'));
  if (info.imm == Imm::Lane) f.lanes = static_cast<uint8_t>(digits_at(shape, shape.find('x') + 1));
  if (info.imm != Imm::MemArg && info.imm != Imm::MemArgLane) return f;
  // Default access size: the value type in front of the dot.
  unsigned bytes = shape == "v128" ? 16 : digits_at(shape, 1) / 8;
  if (text == "memory.atomic.notify") bytes = 4;
  for (std::string_view key : {"load", "store", "rmw", "wait"}) {
    size_t at = text.rfind(key);
    if (at == std::string_view::npos) continue;
    size_t d = at + key.size();
    if (unsigned bits = digits_at(text, d)) {
      // "load8x8": eight bytes whatever the lane width; "load8": one byte.
      size_t after = text.find_first_not_of("0123456789", d);
      bytes = (after != std::string_view::npos && text[after] == 'x') ? 8 : bits / 8;
    }
    break;
  }
  f.align_log2 = static_cast<uint8_t>(log2_of(bytes));
  if (info.imm == Imm::MemArgLane) f.lanes = static_cast<uint8_t>(16 / bytes);
  return f;
}

const OpFacts& facts(Op op) {
  static const std::vector<OpFacts> table = [] {
    std::vector<OpFacts> t(static_cast<size_t>(Op::Count_));
    for (size_t i = 0; i < t.size(); ++i) t[i] = derive_facts(op_info(static_cast<Op>(i)));
    return t;
  }();
  return table[static_cast<size_t>(op)];
}

// ---------------------------------------------------------------------------
// Module-level checks.

void check_limits(const Limits& l, uint64_t bound, const char* too_big, size_t at) {
  if (l.min > bound || (l.max && *l.max > bound)) throw_invalid(at, too_big);
  if (l.max && *l.max < l.min) throw_invalid(at, "size minimum must not be greater than maximum");
}

void check_memory(const MemoryType& m, size_t at) {
  if (m.limits.is64)
    check_limits(m.limits, kMaxPages64, "memory size must be at most 2^48 pages", at);
  else
    check_limits(m.limits, kMaxPages32, "memory size must be at most 65536 pages (4GiB)", at);
  if (m.limits.shared && !m.limits.max) throw_invalid(at, "shared memory must have maximum");
}

void check_table(const TableType& t, size_t at) {
  check_limits(t.limits, t.limits.is64 ? ~uint64_t{0} : 0xffffffffu,
               "table size must be at most 2^32-1", at);
}

void check_tag(const Module& m, const TagType& t, size_t at) {
  if (t.type_index >= m.types.size()) throw_invalid(at, indexed("unknown type", t.type_index));
  if (!m.types[t.type_index].results.empty()) throw_invalid(at, "non-empty tag result type");
}

// A constant expression must produce exactly one `type`. global.get may only
// read immutable imported globals.
void check_const_expr(const Module& m, ConstExpr expr, uint8_t type) {
  Reader r(m.range(expr), expr.offset);
  std::vector<uint8_t> stack;
  auto binary = [&](uint8_t t, size_t at) {
    size_t n = stack.size();
    if (n < 2 || stack[n - 1] != t || stack[n - 2] != t) throw_invalid(at, "type mismatch");
    stack.pop_back();
  };
  for (;;) {
    size_t at = r.offset();
    Op op = read_op(r);
    switch (op) {
      case Op::I32Const: r.s32(); stack.push_back(kI32); break;
      case Op::I64Const: r.s64(); stack.push_back(kI64); break;
      case Op::F32Const: r.skip(4); stack.push_back(kF32); break;
      case Op::F64Const: r.skip(8); stack.push_back(kF64); break;
      case Op::V128Const: r.skip(16); stack.push_back(kV128); break;
      case Op::RefNull: stack.push_back(byte_of(read_reftype(r))); break;
      case Op::RefFunc: {
        uint32_t f = r.u32();
        if (f >= m.funcs.size()) throw_invalid(at, indexed("unknown function", f));
        stack.push_back(kFuncRef);
        break;
      }
      case Op::GlobalGet: {
        uint32_t g = r.u32();
        if (g >= m.num_imported_globals) throw_invalid(at, indexed("unknown global", g));
        if (m.globals[g].type.mut) throw_invalid(at, "constant expression required");
        stack.push_back(byte_of(m.globals[g].type.type));
        break;
      }
      case Op::I32Add: case Op::I32Sub: case Op::I32Mul:
        if (!m.features.extended_const) throw_invalid(at, "constant expression required");
        binary(kI32, at);
        break;
      case Op::I64Add: case Op::I64Sub: case Op::I64Mul:
        if (!m.features.extended_const) throw_invalid(at, "constant expression required");
        binary(kI64, at);
        break;
      case Op::End:
        if (stack.size() != 1 || stack[0] != type) throw_invalid(at, "type mismatch");
        return;
      default: throw_invalid(at, "constant expression required");
    }
  }
}

// Marks the functions a (validated) constant expression references.
void collect_refs_from_expr(const Module& m, ConstExpr expr, std::vector<uint8_t>& declared) {
  Reader r(m.range(expr), expr.offset);
  for (;;) {
    Op op = read_op(r);
    switch (op) {
      case Op::I32Const: r.s32(); break;
      case Op::I64Const: r.s64(); break;
      case Op::F32Const: r.skip(4); break;
      case Op::F64Const: r.skip(8); break;
      case Op::V128Const: r.skip(16); break;
      case Op::RefNull: r.u8(); break;
      case Op::GlobalGet: r.u32(); break;
      case Op::RefFunc: {
        uint32_t f = r.u32();
        if (f < declared.size()) declared[f] = 1;
        break;
      }
      case Op::End: return;
      default: break;  // only validated expressions reach here
    }
  }
}

// The functions ref.func may name inside bodies (the spec's C.refs): those
// referenced from exports, element segments and global initialisers.
void collect_declared_funcs(const Module& m, std::vector<uint8_t>& declared) {
  declared.assign(m.funcs.size(), 0);
  for (const Export& e : m.exports)
    if (e.kind == ExternKind::Func && e.index < declared.size()) declared[e.index] = 1;
  for (const ElemSegment& seg : m.elems) {
    for (uint32_t f : seg.func_indices)
      if (f < declared.size()) declared[f] = 1;
    for (ConstExpr e : seg.exprs) collect_refs_from_expr(m, e, declared);
  }
  for (size_t g = m.num_imported_globals; g < m.globals.size(); ++g)
    collect_refs_from_expr(m, m.globals[g].init, declared);
}

// ---------------------------------------------------------------------------
// Function bodies: the spec appendix's algorithm.

// One-element result lists for single-value block types.
constexpr ValType kSingle[] = {ValType::I32,  ValType::I64,     ValType::F32,       ValType::F64,
                               ValType::V128, ValType::FuncRef, ValType::ExternRef, ValType::ExnRef};

const ValType* single(ValType t) { return std::find(std::begin(kSingle), std::end(kSingle), t); }

struct Types {
  const ValType* data = nullptr;
  uint32_t size = 0;
  uint8_t operator[](uint32_t i) const { return byte_of(data[i]); }
  bool operator==(const Types& o) const {
    return size == o.size && std::equal(data, data + size, o.data);
  }
};

Types types_of(const std::vector<ValType>& v) { return {v.data(), static_cast<uint32_t>(v.size())}; }

enum class FrameKind : uint8_t { Block, Loop, If, Else, Try, Catch, CatchAll, TryTable };

struct Frame {
  FrameKind kind;
  bool unreachable;
  uint32_t height;
  Types params;
  Types results;
  Types labels() const { return kind == FrameKind::Loop ? params : results; }
};

// A run of locals of one type: indices [previous end, end).
struct LocalRun {
  uint32_t end;
  uint8_t type;
};

// Scratch storage reused across functions so validation allocates only
// while the vectors grow.
struct Scratch {
  std::vector<uint8_t> stack;
  std::vector<Frame> frames;
  std::vector<LocalRun> locals;
  std::vector<std::pair<uint32_t, ValType>> groups;
  std::vector<uint8_t> declared;
};

class FunctionValidator {
 public:
  FunctionValidator(const Module& m, uint32_t func_index, Scratch& s)
      : m_(m),
        type_(m.func_type(func_index)),
        r_(m.range(m.bodies[func_index - m.num_imported_funcs].body),
           m.bodies[func_index - m.num_imported_funcs].body.offset),
        stack_(s.stack),
        frames_(s.frames),
        locals_(s.locals),
        groups_(s.groups),
        declared_(s.declared) {
    stack_.clear();
    frames_.clear();
    locals_.clear();
  }

  void run() {
    read_locals();
    frames_.push_back({FrameKind::Block, false, 0, {}, types_of(type_.results)});
    while (!frames_.empty()) {
      if (r_.at_end()) throw_malformed(r_.offset(), "END opcode expected");
      at_ = r_.offset();
      step(read_op(r_));
    }
    if (!r_.at_end()) throw_malformed(r_.offset(), "section size mismatch");
  }

 private:
  [[noreturn]] void fail(std::string message) const { throw_invalid(at_, std::move(message)); }

  void read_locals() {
    uint32_t n = 0;
    for (ValType p : type_.params) locals_.push_back({++n, byte_of(p)});
    decode_locals(r_, groups_);
    for (auto [count, t] : groups_)
      if (count) locals_.push_back({n += count, byte_of(t)});
    num_locals_ = n;
  }

  uint8_t local_type(uint32_t index) const {
    if (index >= num_locals_) fail(indexed("unknown local", index));
    auto it = std::upper_bound(locals_.begin(), locals_.end(), index,
                               [](uint32_t i, const LocalRun& run) { return i < run.end; });
    return it->type;
  }

  // --- operand stack ---
  void push(uint8_t t) { stack_.push_back(t); }
  void push(Types ts) {
    for (uint32_t i = 0; i < ts.size; ++i) stack_.push_back(ts[i]);
  }
  uint8_t pop() {
    const Frame& f = frames_.back();
    if (stack_.size() == f.height) {
      if (f.unreachable) return kUnknown;
      fail("type mismatch");
    }
    uint8_t t = stack_.back();
    stack_.pop_back();
    return t;
  }
  uint8_t pop(uint8_t expect) {
    uint8_t t = pop();
    if (t != expect && t != kUnknown && expect != kUnknown) fail("type mismatch");
    return t;
  }
  void pop(Types ts) {
    for (uint32_t i = ts.size; i-- > 0;) pop(ts[i]);
  }
  // Checks the top of the stack against `ts` without consuming it.
  void peek(Types ts) {
    const Frame& f = frames_.back();
    size_t avail = stack_.size() - f.height;
    for (uint32_t i = 0; i < ts.size; ++i) {
      size_t depth = ts.size - i;  // 1 = top of stack
      if (depth > avail) {
        if (!f.unreachable) fail("type mismatch");
        continue;
      }
      uint8_t t = stack_[stack_.size() - depth];
      if (t != ts[i] && t != kUnknown) fail("type mismatch");
    }
  }
  void unreachable() {
    Frame& f = frames_.back();
    stack_.resize(f.height);
    f.unreachable = true;
  }

  // --- control stack ---
  void push_frame(FrameKind kind, Types params, Types results) {
    frames_.push_back({kind, false, static_cast<uint32_t>(stack_.size()), params, results});
    push(params);
  }
  Frame pop_frame() {
    const Frame f = frames_.back();
    pop(f.results);
    if (stack_.size() != f.height) fail("type mismatch");
    frames_.pop_back();
    return f;
  }
  const Frame& label(uint32_t depth) const {
    if (depth >= frames_.size()) fail(indexed("unknown label", depth));
    return frames_[frames_.size() - 1 - depth];
  }

  // --- immediates ---
  void block_type(Types* params, Types* results) {
    BlockType bt = read_blocktype(r_);
    switch (bt.kind) {
      case BlockType::Kind::Empty: *params = *results = {}; break;
      case BlockType::Kind::Value:
        *params = {};
        *results = {single(bt.type), 1};
        break;
      case BlockType::Kind::Index: {
        const FuncType& ft = type(bt.index);
        *params = types_of(ft.params);
        *results = types_of(ft.results);
        break;
      }
    }
  }
  const FuncType& func(uint32_t f) const {
    if (f >= m_.funcs.size()) fail(indexed("unknown function", f));
    return m_.func_type(f);
  }
  const TableType& table(uint32_t t) const {
    if (t >= m_.tables.size()) fail(indexed("unknown table", t));
    return m_.tables[t];
  }
  const MemoryType& memory(uint32_t i) const {
    if (i >= m_.memories.size()) fail(indexed("unknown memory", i));
    return m_.memories[i];
  }
  const FuncType& type(uint32_t t) const {
    if (t >= m_.types.size()) fail(indexed("unknown type", t));
    return m_.types[t];
  }
  const FuncType& tag(uint32_t t) const {
    if (t >= m_.tags.size()) fail(indexed("unknown tag", t));
    return m_.types[m_.tags[t].type_index];
  }
  void elem(uint32_t e) const {
    if (e >= m_.elems.size()) fail(indexed("unknown elem segment", e));
  }
  void data(uint32_t d) const {
    // Without a data count section the index is still checked first, so a
    // module with no data at all gets the validation error the tests expect.
    if (d >= m_.datas.size()) fail(indexed("unknown data segment", d));
    if (!m_.data_count) throw_malformed(at_, "data count section required");
  }
  uint32_t memidx() { return read_memidx(r_, m_.features.multi_memory); }
  // Reads a memarg and returns the memory's address type.
  uint8_t memarg(Op op) {
    MemArg ma = read_memarg(r_, m_.memories, m_.features.multi_memory);
    const MemoryType& mt = memory(ma.memory);
    unsigned natural = facts(op).align_log2;
    if (op_info(op).prefix == 0xfe) {
      if (ma.align != natural) fail("atomic alignment must be natural");
    } else if (ma.align > natural) {
      fail("alignment must not be larger than natural");
    }
    return addr_type(mt.limits);
  }
  void lane(Op op) {
    if (r_.u8() >= facts(op).lanes) fail("invalid lane index");
  }

  void call(const FuncType& ft) {
    pop(types_of(ft.params));
    push(types_of(ft.results));
  }
  void return_call(const FuncType& ft) {
    if (ft.results != type_.results) fail("type mismatch");
    pop(types_of(ft.params));
    unreachable();
  }
  const FuncType& call_indirect() {
    uint32_t ti = r_.u32();
    const TableType& tt = table(r_.u32());
    const FuncType& ft = type(ti);
    if (tt.elem != ValType::FuncRef) fail("type mismatch");
    pop(addr_type(tt.limits));
    return ft;
  }
  void check_declared(uint32_t f) {
    if (!declared_built_) {
      collect_declared_funcs(m_, declared_);
      declared_built_ = true;
    }
    if (!declared_[f]) fail("undeclared function reference");
  }
  // The label of a try_table catch clause must take what the clause
  // delivers: the tag's parameters, plus an exnref for the _ref forms.
  void catch_clause() {
    uint8_t kind = r_.u8();
    if (kind > 3) throw_malformed(at_, "malformed catch clause");
    Types delivered;
    if (kind < 2) delivered = types_of(tag(r_.u32()).params);
    const Frame& target = label(r_.u32());
    Types want = target.labels();
    bool with_ref = kind == 1 || kind == 3;
    if (want.size != delivered.size + (with_ref ? 1 : 0)) fail("type mismatch");
    for (uint32_t i = 0; i < delivered.size; ++i)
      if (want[i] != delivered[i]) fail("type mismatch");
    if (with_ref && want[want.size - 1] != kExnRef) fail("type mismatch");
  }

  void step(Op op) {
    const OpInfo& info = op_info(op);
    if (info.feature != Feature::Mvp && !m_.features.has(info.feature))
      throw_malformed(at_, "illegal opcode");
    if (info.sig != Sig::Special) {
      uint8_t addr = kI32;
      switch (info.imm) {
        case Imm::None: break;
        case Imm::I32: r_.s32(); break;
        case Imm::I64: r_.s64(); break;
        case Imm::F32: r_.skip(4); break;
        case Imm::F64: r_.skip(8); break;
        case Imm::V128: r_.skip(16); break;
        case Imm::Lane: lane(op); break;
        case Imm::Shuffle:
          for (int i = 0; i < 16; ++i)
            if (r_.u8() >= 32) fail("invalid lane index");
          break;
        case Imm::MemArg: addr = memarg(op); break;
        case Imm::MemArgLane:
          addr = memarg(op);
          lane(op);
          break;
        case Imm::Zero:
          if (r_.u8() != 0) throw_malformed(at_, "zero byte expected");
          break;
        default: fail("unexpected immediate");  // the table pairs no other Imm with a Sig
      }
      const SigShape& s = kShapes[static_cast<size_t>(info.sig)];
      for (int i = s.npop; i-- > 0;) pop(s.pop[i] == kAddr ? addr : s.pop[i]);
      if (s.push) push(s.push == kAddr ? addr : s.push);
      return;
    }
    Types params, results;
    switch (op) {
      case Op::Unreachable: unreachable(); break;
      case Op::Block: case Op::Loop: case Op::Try:
        block_type(&params, &results);
        pop(params);
        push_frame(op == Op::Block ? FrameKind::Block : op == Op::Loop ? FrameKind::Loop : FrameKind::Try,
                   params, results);
        break;
      case Op::If:
        block_type(&params, &results);
        pop(kI32);
        pop(params);
        push_frame(FrameKind::If, params, results);
        break;
      case Op::TryTable: {
        block_type(&params, &results);
        for (uint32_t n = r_.count(2); n > 0; --n) catch_clause();
        pop(params);
        push_frame(FrameKind::TryTable, params, results);
        break;
      }
      case Op::Else: {
        if (frames_.back().kind != FrameKind::If) throw_malformed(at_, "unexpected else");
        Frame f = pop_frame();
        push_frame(FrameKind::Else, f.params, f.results);
        break;
      }
      case Op::Catch: {
        FrameKind k = frames_.back().kind;
        if (k != FrameKind::Try && k != FrameKind::Catch) throw_malformed(at_, "unexpected catch");
        const FuncType& t = tag(r_.u32());
        Frame f = pop_frame();
        push_frame(FrameKind::Catch, types_of(t.params), f.results);
        break;
      }
      case Op::CatchAll: {
        FrameKind k = frames_.back().kind;
        if (k != FrameKind::Try && k != FrameKind::Catch) throw_malformed(at_, "unexpected catch_all");
        Frame f = pop_frame();
        push_frame(FrameKind::CatchAll, {}, f.results);
        break;
      }
      case Op::Delegate: {
        if (frames_.back().kind != FrameKind::Try) throw_malformed(at_, "unexpected delegate");
        Frame f = pop_frame();
        label(r_.u32());
        push(f.results);
        break;
      }
      case Op::End: {
        Frame f = pop_frame();
        if (f.kind == FrameKind::If && !(f.params == f.results)) fail("type mismatch");
        push(f.results);
        break;
      }
      case Op::Br:
        pop(label(r_.u32()).labels());
        unreachable();
        break;
      case Op::BrIf: {
        Types ts = label(r_.u32()).labels();
        pop(kI32);
        pop(ts);
        push(ts);
        break;
      }
      case Op::BrTable: {
        uint32_t n = r_.count(1);
        pop(kI32);
        uint32_t arity = 0;
        for (uint32_t i = 0; i <= n; ++i) {
          Types ts = label(r_.u32()).labels();
          if (i == 0) arity = ts.size;
          else if (ts.size != arity) fail("type mismatch");
          peek(ts);
        }
        unreachable();
        break;
      }
      case Op::Return:
        pop(types_of(type_.results));
        unreachable();
        break;
      case Op::Call: call(func(r_.u32())); break;
      case Op::CallIndirect: call(call_indirect()); break;
      case Op::ReturnCall: return_call(func(r_.u32())); break;
      case Op::ReturnCallIndirect: return_call(call_indirect()); break;
      case Op::Throw:
        pop(types_of(tag(r_.u32()).params));
        unreachable();
        break;
      case Op::ThrowRef:
        pop(kExnRef);
        unreachable();
        break;
      case Op::Rethrow: {
        FrameKind k = label(r_.u32()).kind;
        if (k != FrameKind::Catch && k != FrameKind::CatchAll) fail("invalid rethrow label");
        unreachable();
        break;
      }
      case Op::Drop: pop(); break;
      case Op::Select: {
        pop(kI32);
        uint8_t a = pop(), b = pop();
        if (is_ref_byte(a) || is_ref_byte(b)) fail("type mismatch");
        if (a != b && a != kUnknown && b != kUnknown) fail("type mismatch");
        push(a == kUnknown ? b : a);
        break;
      }
      case Op::SelectTyped: {
        if (r_.u32() != 1) fail("invalid result arity");
        uint8_t t = byte_of(read_valtype(r_));
        pop(kI32);
        pop(t);
        pop(t);
        push(t);
        break;
      }
      case Op::LocalGet: push(local_type(r_.u32())); break;
      case Op::LocalSet: pop(local_type(r_.u32())); break;
      case Op::LocalTee: {
        uint8_t t = local_type(r_.u32());
        pop(t);
        push(t);
        break;
      }
      case Op::GlobalGet: {
        uint32_t g = r_.u32();
        if (g >= m_.globals.size()) fail(indexed("unknown global", g));
        push(byte_of(m_.globals[g].type.type));
        break;
      }
      case Op::GlobalSet: {
        uint32_t g = r_.u32();
        if (g >= m_.globals.size()) fail(indexed("unknown global", g));
        if (!m_.globals[g].type.mut) fail("global is immutable");
        pop(byte_of(m_.globals[g].type.type));
        break;
      }
      case Op::TableGet: {
        const TableType& t = table(r_.u32());
        pop(addr_type(t.limits));
        push(byte_of(t.elem));
        break;
      }
      case Op::TableSet: {
        const TableType& t = table(r_.u32());
        pop(byte_of(t.elem));
        pop(addr_type(t.limits));
        break;
      }
      case Op::TableSize: push(addr_type(table(r_.u32()).limits)); break;
      case Op::TableGrow: {
        const TableType& t = table(r_.u32());
        uint8_t a = addr_type(t.limits);
        pop(a);
        pop(byte_of(t.elem));
        push(a);
        break;
      }
      case Op::TableFill: {
        const TableType& t = table(r_.u32());
        uint8_t a = addr_type(t.limits);
        pop(a);
        pop(byte_of(t.elem));
        pop(a);
        break;
      }
      case Op::TableCopy: {
        const TableType& dst = table(r_.u32());
        const TableType& src = table(r_.u32());
        if (dst.elem != src.elem) fail("type mismatch");
        uint8_t da = addr_type(dst.limits), sa = addr_type(src.limits);
        pop(da == kI64 && sa == kI64 ? kI64 : kI32);
        pop(sa);
        pop(da);
        break;
      }
      case Op::TableInit: {
        uint32_t e = r_.u32();
        const TableType& t = table(r_.u32());
        elem(e);
        if (m_.elems[e].type != t.elem) fail("type mismatch");
        pop(kI32);
        pop(kI32);
        pop(addr_type(t.limits));
        break;
      }
      case Op::ElemDrop: elem(r_.u32()); break;
      case Op::MemorySize: push(addr_type(memory(memidx()).limits)); break;
      case Op::MemoryGrow: {
        uint8_t a = addr_type(memory(memidx()).limits);
        pop(a);
        push(a);
        break;
      }
      case Op::MemoryFill: {
        uint8_t a = addr_type(memory(memidx()).limits);
        pop(a);
        pop(kI32);
        pop(a);
        break;
      }
      case Op::MemoryCopy: {
        uint8_t da = addr_type(memory(memidx()).limits);
        uint8_t sa = addr_type(memory(memidx()).limits);
        pop(da == kI64 && sa == kI64 ? kI64 : kI32);
        pop(sa);
        pop(da);
        break;
      }
      case Op::MemoryInit: {
        uint32_t d = r_.u32();
        uint8_t a = addr_type(memory(memidx()).limits);
        data(d);
        pop(kI32);
        pop(kI32);
        pop(a);
        break;
      }
      case Op::DataDrop: data(r_.u32()); break;
      case Op::RefNull: push(byte_of(read_reftype(r_))); break;
      case Op::RefIsNull: {
        uint8_t t = pop();
        if (t != kUnknown && !is_ref_byte(t)) fail("type mismatch");
        push(kI32);
        break;
      }
      case Op::RefFunc: {
        uint32_t f = r_.u32();
        func(f);
        check_declared(f);
        push(kFuncRef);
        break;
      }
      default: fail(std::string("no validation rule for ") + info.text);
    }
  }

  const Module& m_;
  const FuncType& type_;
  Reader r_;
  std::vector<uint8_t>& stack_;
  std::vector<Frame>& frames_;
  std::vector<LocalRun>& locals_;
  std::vector<std::pair<uint32_t, ValType>>& groups_;
  std::vector<uint8_t>& declared_;
  bool declared_built_ = false;
  uint32_t num_locals_ = 0;
  size_t at_ = 0;  // offset of the current instruction
};

// What the module level of a smaller feature set forbids (the rest is found
// by the decoder, or per instruction).
void check_features(const Module& m) {
  const Features& f = m.features;
  if (!f.multi_value)
    for (size_t i = 0; i < m.types.size(); ++i)
      if (m.types[i].results.size() > 1)
        throw_invalid(Module::entry_offset(m.type_offsets, i), "invalid result arity");
  if (!f.multi_memory && m.memories.size() > 1)
    throw_invalid(Module::entry_offset(m.memory_offsets, 1), "multiple memories");
  if (!f.reference_types && m.tables.size() > 1)
    throw_invalid(Module::entry_offset(m.table_offsets, 1), "multiple tables");
  if (!f.mutable_globals) {
    for (size_t i = 0; i < m.imports.size(); ++i) {
      const Import& imp = m.imports[i];
      if (imp.kind == ExternKind::Global && imp.global.mut)
        throw_invalid(Module::entry_offset(m.import_offsets, i), "mutable globals cannot be imported");
    }
    for (size_t i = 0; i < m.exports.size(); ++i) {
      const Export& e = m.exports[i];
      if (e.kind == ExternKind::Global && e.index < m.globals.size() && m.globals[e.index].type.mut)
        throw_invalid(Module::entry_offset(m.export_offsets, i), "mutable globals cannot be exported");
    }
  }
}

}  // namespace

// Module-level errors name the offset where the offending entry starts (when
// the decoder recorded it); constant expressions name their own instruction.
void validate_module(const Module& m) {
  auto at = [](const std::vector<uint32_t>& offsets, size_t i) { return Module::entry_offset(offsets, i); };
  check_features(m);
  for (size_t i = 0; i < m.funcs.size(); ++i) {
    uint32_t t = m.funcs[i];
    if (t >= m.types.size()) throw_invalid(at(m.func_offsets, i), indexed("unknown type", t));
  }
  for (size_t i = 0; i < m.imports.size(); ++i) {
    const Import& imp = m.imports[i];
    size_t imp_at = at(m.import_offsets, i);
    switch (imp.kind) {
      case ExternKind::Func:
        if (imp.func_type >= m.types.size()) throw_invalid(imp_at, indexed("unknown type", imp.func_type));
        break;
      case ExternKind::Table: check_table(imp.table, imp_at); break;
      case ExternKind::Memory: check_memory(imp.memory, imp_at); break;
      case ExternKind::Global: break;
      case ExternKind::Tag: check_tag(m, imp.tag, imp_at); break;
    }
  }
  for (size_t i = m.num_imported_tables; i < m.tables.size(); ++i)
    check_table(m.tables[i], at(m.table_offsets, i));
  for (size_t i = m.num_imported_memories; i < m.memories.size(); ++i)
    check_memory(m.memories[i], at(m.memory_offsets, i));
  for (size_t i = m.num_imported_tags; i < m.tags.size(); ++i) check_tag(m, m.tags[i], at(m.tag_offsets, i));
  for (size_t i = m.num_imported_globals; i < m.globals.size(); ++i)
    check_const_expr(m, m.globals[i].init, byte_of(m.globals[i].type.type));

  for (size_t i = 0; i < m.elems.size(); ++i) {
    const ElemSegment& seg = m.elems[i];
    size_t seg_at = at(m.elem_offsets, i);
    if (seg.mode == ElemSegment::Mode::Active) {
      if (seg.table >= m.tables.size()) throw_invalid(seg_at, indexed("unknown table", seg.table));
      const TableType& t = m.tables[seg.table];
      if (t.elem != seg.type) throw_invalid(seg.offset.offset, "type mismatch");
      check_const_expr(m, seg.offset, addr_type(t.limits));
    }
    for (uint32_t f : seg.func_indices)
      if (f >= m.funcs.size()) throw_invalid(seg_at, indexed("unknown function", f));
    for (ConstExpr e : seg.exprs) check_const_expr(m, e, byte_of(seg.type));
  }
  for (size_t i = 0; i < m.datas.size(); ++i) {
    const DataSegment& seg = m.datas[i];
    if (seg.mode != DataSegment::Mode::Active) continue;
    if (seg.memory >= m.memories.size())
      throw_invalid(at(m.data_offsets, i), indexed("unknown memory", seg.memory));
    check_const_expr(m, seg.offset, addr_type(m.memories[seg.memory].limits));
  }

  if (m.start) {
    size_t start_at = m.start_offset ? *m.start_offset : Error::npos;
    if (*m.start >= m.funcs.size()) throw_invalid(start_at, indexed("unknown function", *m.start));
    const FuncType& ft = m.func_type(*m.start);
    if (!ft.params.empty() || !ft.results.empty()) throw_invalid(start_at, "start function");
  }

  // (name, export index), to report the first export whose name repeats an
  // earlier one.
  std::vector<std::pair<std::string_view, size_t>> names;
  names.reserve(m.exports.size());
  for (size_t i = 0; i < m.exports.size(); ++i) {
    const Export& e = m.exports[i];
    size_t count = 0;
    const char* what = "";
    switch (e.kind) {
      case ExternKind::Func: count = m.funcs.size(), what = "unknown function"; break;
      case ExternKind::Table: count = m.tables.size(), what = "unknown table"; break;
      case ExternKind::Memory: count = m.memories.size(), what = "unknown memory"; break;
      case ExternKind::Global: count = m.globals.size(), what = "unknown global"; break;
      case ExternKind::Tag: count = m.tags.size(), what = "unknown tag"; break;
    }
    if (e.index >= count) throw_invalid(at(m.export_offsets, i), indexed(what, e.index));
    names.emplace_back(e.name, i);
  }
  std::sort(names.begin(), names.end());
  size_t dup = m.exports.size();
  for (size_t k = 1; k < names.size(); ++k)
    if (names[k].first == names[k - 1].first) dup = std::min(dup, names[k].second);
  if (dup < m.exports.size()) throw_invalid(at(m.export_offsets, dup), "duplicate export name");
}

void validate_function(const Module& m, uint32_t defined_index) {
  thread_local Scratch scratch;
  FunctionValidator(m, m.num_imported_funcs + defined_index, scratch).run();
}

void validate(const Module& m, bool all_bodies) {
  validate_module(m);
  if (!all_bodies) return;
  for (uint32_t i = 0; i < m.bodies.size(); ++i) validate_function(m, i);
}

}  // namespace weft::wasm
