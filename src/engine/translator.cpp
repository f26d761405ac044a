#include "engine/translator.h"

#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "wasm/code_reader.h"
#include "wasm/validator.h"

namespace weft::engine {

using wasm::Op;
using wasm::Sig;
using wasm::ValType;

namespace {

constexpr uint32_t kNone = UINT32_MAX;
constexpr auto kNoOp = IOp::Count_;

// Per-IOp tables derived from interp_ops.def / simd_ops.def.
struct OpTables {
  IOp direct[static_cast<size_t>(Op::Count_)];  // wasm op -> handler
  IOp imm[static_cast<size_t>(IOp::Count_)];    // op -> op with s32 immediate
  IOp br[static_cast<size_t>(IOp::Count_)];     // compare -> compare-and-branch
  IOp neg[static_cast<size_t>(IOp::Count_)];    // compare -> its negation
  bool commutes[static_cast<size_t>(IOp::Count_)];
  bool single_variant[static_cast<size_t>(IOp::Count_)];  // VLOAD & co.
  bool is_cmp[static_cast<size_t>(IOp::Count_)];

  OpTables() {
    for (auto& x : direct) x = kNoOp;
    for (auto& x : imm) x = kNoOp;
    for (auto& x : br) x = kNoOp;
    for (auto& x : neg) x = kNoOp;
    for (auto& x : commutes) x = false;
    for (auto& x : is_cmp) x = false;
    for (auto& x : single_variant) x = false;
#define D(name) direct[static_cast<size_t>(Op::name)] = IOp::name;
#define UN(name, tin, tout, expr) D(name)
#define BIN(name, tin, tout, expr) D(name)
#define BINI(name, tin, tout, expr) D(name) imm[static_cast<size_t>(IOp::name)] = IOp::name##_I;
#define CMP(name, t, expr, n)                                       \
  D(name) imm[static_cast<size_t>(IOp::name)] = IOp::name##_I;      \
  br[static_cast<size_t>(IOp::name)] = IOp::BrIf_##name;            \
  br[static_cast<size_t>(IOp::name##_I)] = IOp::BrIf_##name##_I;    \
  neg[static_cast<size_t>(IOp::name)] = IOp::n;                     \
  neg[static_cast<size_t>(IOp::name##_I)] = IOp::n##_I;             \
  is_cmp[static_cast<size_t>(IOp::name)] = true;                    \
  is_cmp[static_cast<size_t>(IOp::name##_I)] = true;
#define LOAD(name, memt, outt) D(name)
#define STORE(name, int_, memt) D(name)
#define S(name) D(name) single_variant[static_cast<size_t>(IOp::name)] = true;
#define VLOAD(name, n, expr) S(name)
#define VLOAD_LANE(name, t) S(name)
#define VSTORE_LANE(name, t) S(name)
#include "engine/interp_ops.def"
#undef S
#define SIMD_UNARY(name, fn) D(name)
#define SIMD_BINARY(name, fn) D(name)
#define SIMD_TERNARY(name, fn) D(name)
#define SIMD_SHIFT(name, fn) D(name)
#define SIMD_TEST(name, fn) D(name)
#define SIMD_SPLAT(name, fn) D(name)
#define SIMD_EXTRACT(name, fn) D(name)
#define SIMD_REPLACE(name, fn) D(name)
#define SIMD_SHUFFLE(name, fn) D(name)
#include "engine/simd_ops.def"
#undef D
    for (IOp op : {IOp::I32Add, IOp::I32Mul, IOp::I32And, IOp::I32Or, IOp::I32Xor, IOp::I32Eq,
                   IOp::I32Ne, IOp::I64Add, IOp::I64Mul, IOp::I64And, IOp::I64Or, IOp::I64Xor,
                   IOp::I64Eq, IOp::I64Ne})
      commutes[static_cast<size_t>(op)] = true;
  }
  IOp of(Op op) const { return direct[static_cast<size_t>(op)]; }
  IOp imm_of(IOp op) const { return imm[static_cast<size_t>(op)]; }
  IOp br_of(IOp op) const { return br[static_cast<size_t>(op)]; }
  IOp neg_of(IOp op) const { return neg[static_cast<size_t>(op)]; }
  bool commutative(IOp op) const { return commutes[static_cast<size_t>(op)]; }
  bool compare(IOp op) const { return is_cmp[static_cast<size_t>(op)]; }
  bool single(IOp op) const { return single_variant[static_cast<size_t>(op)]; }
};

const OpTables& tables() {
  static const OpTables t;
  return t;
}

IOp operator+(IOp op, int k) { return static_cast<IOp>(static_cast<int>(op) + k); }

// Operand/result types of an instruction with a fixed signature, as letters
// (see wasm::Sig): "ii_i" takes two i32 and yields an i32.
const char* shape(Sig s) {
  switch (s) {
    case Sig::S_i_i: return "i_i";
    case Sig::S_ii_i: return "ii_i";
    case Sig::S_I_I: return "I_I";
    case Sig::S_II_I: return "II_I";
    case Sig::S_I_i: return "I_i";
    case Sig::S_II_i: return "II_i";
    case Sig::S_f_f: return "f_f";
    case Sig::S_ff_f: return "ff_f";
    case Sig::S_F_F: return "F_F";
    case Sig::S_FF_F: return "FF_F";
    case Sig::S_ff_i: return "ff_i";
    case Sig::S_FF_i: return "FF_i";
    case Sig::S_i_I: return "i_I";
    case Sig::S_I_f: return "I_f";
    case Sig::S_I_F: return "I_F";
    case Sig::S_i_f: return "i_f";
    case Sig::S_i_F: return "i_F";
    case Sig::S_f_i: return "f_i";
    case Sig::S_f_I: return "f_I";
    case Sig::S_F_i: return "F_i";
    case Sig::S_F_I: return "F_I";
    case Sig::S_f_F: return "f_F";
    case Sig::S_F_f: return "F_f";
    case Sig::S_v_v: return "v_v";
    case Sig::S_vv_v: return "vv_v";
    case Sig::S_vvv_v: return "vvv_v";
    case Sig::S_v_i: return "v_i";
    case Sig::S_vi_v: return "vi_v";
    case Sig::S_i_v: return "i_v";
    case Sig::S_I_v: return "I_v";
    case Sig::S_f_v: return "f_v";
    case Sig::S_F_v: return "F_v";
    case Sig::S_v_I: return "v_I";
    case Sig::S_v_f: return "v_f";
    case Sig::S_v_F: return "v_F";
    case Sig::S_vI_v: return "vI_v";
    case Sig::S_vf_v: return "vf_v";
    case Sig::S_vF_v: return "vF_v";
    default: return nullptr;
  }
}

ValType letter_type(char c) {
  switch (c) {
    case 'i': return ValType::I32;
    case 'I': return ValType::I64;
    case 'f': return ValType::F32;
    case 'F': return ValType::F64;
    default: return ValType::V128;
  }
}

// A value on the translation-time operand stack.
struct Entry {
  enum Kind : uint8_t { Temp, Local, Const };
  Kind kind = Temp;
  ValType type = ValType::I32;
  uint32_t slot = 0;  // canonical slot of this stack position
  uint32_t src = 0;   // Local: the local's slot
  uint64_t bits = 0;  // Const: the value (scalars only)
};

// A pending branch operand: code[instr]'s 32-bit operand `operand` gets the
// offset to the label once it is bound.
struct Fixup {
  uint32_t instr;
  uint32_t operand;
};

struct Ctrl {
  Op op = Op::Block;  // Block, Loop, If, or End for the function body
  uint32_t height = 0;  // stack entries below the params
  uint32_t base = 0;    // slot of the first param/result
  std::span<const ValType> params, results;
  uint32_t loop_pos = 0;
  std::vector<Fixup> fixups;
  Fixup else_fixup{kNone, 0};
  bool unreachable = false;
  // Try / TryTable
  int32_t try_level = 0;
  uint32_t try_start = 0;
  bool in_catch = false;        // Try: past the first catch clause
  uint32_t exn_slot = kNone;    // Try: where its catch clauses keep the exception
  std::vector<Handler> pending;  // TryTable: clauses, bound at its end
};

// The interpreter's view of a branch condition: a plain i32, or a fused
// compare whose instruction was taken back.
struct Cond {
  IOp cmp = kNoOp;  // kNoOp: plain value in slot a; I32Eqz/I64Eqz; or a CMP op
  uint32_t a = 0, b = 0;
};

constexpr ValType kAllTypes[] = {ValType::I32, ValType::I64, ValType::F32, ValType::F64,
                                 ValType::V128, ValType::FuncRef, ValType::ExternRef,
                                 ValType::ExnRef};

std::span<const ValType> one_type(ValType t) {
  for (const ValType& x : kAllTypes)
    if (x == t) return {&x, 1};
  return {};
}

class Translator {
 public:
  Translator(Store::ExecState& st, Function* func)
      : st_(st), func_(func), inst_(func->instance), module_(*inst_->module), h_(handler_table()) {}

  std::unique_ptr<CompiledFunction> run();

 private:
  // --- emission
  uint32_t emit(IOp op, std::initializer_list<uint32_t> ops) {
    uint32_t pos = static_cast<uint32_t>(code_.size());
    code_.push_back(reinterpret_cast<Word>(h_[static_cast<size_t>(op)]));
    size_t n = ops.size();
    size_t first = code_.size();
    code_.resize(first + (n + 1) / 2, 0);
    if (n) std::memcpy(&code_[first], ops.begin(), n * 4);  // begin() may be null when empty
    last_result_ = last_cmp_ = kNone;
    return pos;
  }
  uint32_t operand(uint32_t instr, uint32_t k) const {
    uint32_t v;
    std::memcpy(&v, reinterpret_cast<const char*>(&code_[instr + 1]) + 4 * k, 4);
    return v;
  }
  void set_operand(uint32_t instr, uint32_t k, uint32_t v) {
    std::memcpy(reinterpret_cast<char*>(&code_[instr + 1]) + 4 * k, &v, 4);
  }
  static uint32_t lo(uint64_t v) { return static_cast<uint32_t>(v); }
  static uint32_t hi(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
  static uint32_t lo(const void* p) { return lo(reinterpret_cast<uint64_t>(p)); }
  static uint32_t hi(const void* p) { return hi(reinterpret_cast<uint64_t>(p)); }
  uint32_t here() const { return static_cast<uint32_t>(code_.size()); }
  void bind(const Fixup& f, uint32_t target) {
    set_operand(f.instr, f.operand, target - f.instr);
  }

  // --- operand stack
  uint32_t stack_end() const {
    return stack_.empty() ? locals_end_ : stack_.back().slot + wasm::slot_count(stack_.back().type);
  }
  Entry& push(Entry::Kind kind, ValType t) {
    Entry e;
    e.kind = kind;
    e.type = t;
    e.slot = stack_end();
    uint32_t end = e.slot + wasm::slot_count(t);
    if (end > max_slots_) max_slots_ = end;
    stack_.push_back(e);
    return stack_.back();
  }
  // Pushes the result of the instruction at `instr`, whose operand 0 is the
  // destination slot (already set to the new entry's slot by the caller).
  void push_result(ValType t, uint32_t instr) {
    push(Entry::Temp, t);
    last_result_ = instr;
  }
  uint32_t result_slot() const { return stack_end(); }
  Entry pop() {
    Entry e = stack_.back();
    stack_.pop_back();
    if (e.kind == Entry::Local) --local_refs_[e.src];
    return e;
  }
  void truncate_stack(uint32_t height) {
    while (stack_.size() > height) pop();
  }
  // Writes entry `e` (whatever it is) into slot `dst`.
  void copy_to(const Entry& e, uint32_t dst) {
    bool wide = e.type == ValType::V128;
    if (e.kind == Entry::Const) {
      if (e.type == ValType::I32 || e.type == ValType::F32)
        emit(IOp::Const32, {dst, lo(e.bits)});
      else
        emit(IOp::Const64, {dst, lo(e.bits), hi(e.bits)});
    } else {
      uint32_t src = e.kind == Entry::Local ? e.src : e.slot;
      if (src != dst) emit(wide ? IOp::Copy2 : IOp::Copy, {dst, src});
    }
  }
  void materialize(Entry& e) {
    if (e.kind == Entry::Temp) return;
    copy_to(e, e.slot);
    if (e.kind == Entry::Local) --local_refs_[e.src];
    e.kind = Entry::Temp;
  }
  // The slot holding popped entry `e`'s value (constants are written to their
  // canonical slot first).
  uint32_t slot_of(Entry& e) {
    if (e.kind == Entry::Local) return e.src;
    if (e.kind == Entry::Const) {
      copy_to(e, e.slot);
      e.kind = Entry::Temp;
    }
    return e.slot;
  }
  uint32_t pop_slot() {
    Entry e = pop();
    return slot_of(e);
  }
  void materialize_top(size_t n) {
    for (size_t i = stack_.size() - n; i < stack_.size(); ++i) materialize(stack_[i]);
  }
  void materialize_local_refs() {
    if (total_refs() == 0) return;
    for (Entry& e : stack_)
      if (e.kind == Entry::Local) materialize(e);
  }
  void materialize_refs_to(uint32_t local_slot) {
    if (local_refs_[local_slot] == 0) return;
    for (Entry& e : stack_)
      if (e.kind == Entry::Local && e.src == local_slot) materialize(e);
  }
  size_t total_refs() const {
    size_t n = 0;
    for (const Entry& e : stack_) n += e.kind == Entry::Local;
    return n;
  }

  // --- control
  Ctrl& label(uint32_t depth) { return ctrls_[ctrls_.size() - 1 - depth]; }
  std::span<const ValType> label_types(const Ctrl& c) const {
    return c.op == Op::Loop ? c.params : c.results;
  }
  void set_unreachable() {
    Ctrl& c = ctrls_.back();
    truncate_stack(c.height);
    c.unreachable = true;
  }
  // Whether the top values already sit in the label's slots.
  bool values_in_place(const Ctrl& c) const {
    auto types = label_types(c);
    uint32_t dst = c.base;
    size_t first = stack_.size() - types.size();
    for (size_t i = 0; i < types.size(); ++i) {
      const Entry& e = stack_[first + i];
      if (e.kind != Entry::Temp || e.slot != dst) return false;
      dst += wasm::slot_count(types[i]);
    }
    return true;
  }
  void copy_values_to(const Ctrl& c) {
    auto types = label_types(c);
    uint32_t dst = c.base;
    size_t first = stack_.size() - types.size();
    for (size_t i = 0; i < types.size(); ++i) {
      copy_to(stack_[first + i], dst);
      dst += wasm::slot_count(types[i]);
    }
  }
  // Emits a branch instruction whose operand `k` is the offset to label
  // `depth` (which must not be the function body).
  void link(uint32_t instr, uint32_t k, uint32_t depth) {
    Ctrl& c = label(depth);
    if (c.op == Op::Loop)
      set_operand(instr, k, c.loop_pos - instr);
    else
      c.fixups.push_back({instr, k});
  }
  void branch(uint32_t depth) {
    if (depth == ctrls_.size() - 1) return emit_return();
    copy_values_to(label(depth));
    link(emit(IOp::Br, {0}), 0, depth);
  }
  void emit_return();

  Cond take_cond();
  // Emits a branch taken when `c` is `when`; returns the instruction, whose
  // last operand is the offset (index returned in *k).
  uint32_t emit_cond_branch(const Cond& c, bool when, uint32_t* k);

  // --- instructions
  void block_start(Op op, std::span<const ValType> params, std::span<const ValType> results);
  void op_else();
  void op_end();
  void op_catch(Tag* tag);
  void op_delegate(uint32_t depth);
  void op_try_table(Reader& r);
  void op_throw(Tag* tag);
  void op_br_if(uint32_t depth);
  void op_br_table(Reader& r);
  void op_call(Function* callee, bool tail);
  void op_call_indirect(uint32_t type_index, uint32_t table, bool tail);
  void op_local_set(uint32_t index, bool tee);
  void op_select();
  void op_numeric(IOp iop, const char* shape);
  void set_last_cmp(uint32_t instr, IOp op) {
    last_cmp_ = instr;
    last_cmp_op_ = op;
  }
  void op_load(Op op, const wasm::MemArg& m, ValType result);
  void op_store(Op op, const wasm::MemArg& m);
  void op_atomic(Op op, const wasm::MemArg& m);
  void unsupported(Op op);
  std::span<const ValType> block_params(const wasm::BlockType& bt) const;
  std::span<const ValType> block_results(const wasm::BlockType& bt) const;
  void translate_op(Op op, Reader& r);

  Store::ExecState& st_;
  Function* func_;
  Instance* inst_;
  const wasm::Module& module_;
  const void* const* h_;
  std::vector<Word> code_;
  std::vector<Handler> handlers_;
  std::vector<Entry> stack_;
  std::vector<Ctrl> ctrls_;
  std::vector<ValType> local_types_;
  std::vector<uint32_t> local_slot_;  // slot of each local
  std::vector<uint32_t> local_refs_;  // deferred local.get entries, by slot
  uint32_t locals_end_ = 0;
  uint32_t next_exn_slot_ = 0;          // hidden locals of legacy try blocks
  uint32_t max_slots_ = 0;
  uint32_t skip_depth_ = 0;            // nesting inside unreachable code
  uint32_t last_result_ = kNone;       // instr whose dst is the top entry
  uint32_t last_cmp_ = kNone;          // same, for a compare or eqz
  IOp last_cmp_op_ = kNoOp;
};

std::span<const ValType> Translator::block_params(const wasm::BlockType& bt) const {
  if (bt.kind != wasm::BlockType::Kind::Index) return {};
  return module_.types[bt.index].params;
}
std::span<const ValType> Translator::block_results(const wasm::BlockType& bt) const {
  switch (bt.kind) {
    case wasm::BlockType::Kind::Empty: return {};
    case wasm::BlockType::Kind::Value: return one_type(bt.type);
    case wasm::BlockType::Kind::Index: return module_.types[bt.index].results;
  }
  return {};
}

void Translator::emit_return() {
  auto types = ctrls_.front().results;
  size_t n = types.size();
  if (n == 0) {
    emit(IOp::Return0, {});
  } else if (n == 1) {
    // Entries are left as they are: this may be a conditional path (br_if,
    // br_table), after which the stack is still used.
    const Entry& e = stack_.back();
    if (e.kind == Entry::Const) {
      copy_to(e, 0);
      emit(IOp::Return0, {});
    } else {
      uint32_t src = e.kind == Entry::Local ? e.src : e.slot;
      emit(types[0] == ValType::V128 ? IOp::Return2 : IOp::Return1, {src});
    }
  } else {
    // Gather the results in their own stack slots (harmless on any path),
    // then move them down to slot 0 in ascending order, which never
    // overwrites a value still to be moved.
    for (size_t i = stack_.size() - n; i < stack_.size(); ++i)
      if (stack_[i].kind != Entry::Temp) copy_to(stack_[i], stack_[i].slot);
    uint32_t base = stack_[stack_.size() - n].slot;
    emit(IOp::ReturnN, {base, stack_end() - base});
  }
}

Cond Translator::take_cond() {
  Entry e = pop();
  Cond c;
  if (e.kind == Entry::Temp && last_cmp_ != kNone && operand(last_cmp_, 0) == e.slot) {
    // Take back the compare and branch on its operands instead.
    uint32_t instr = last_cmp_;
    c.cmp = last_cmp_op_;
    c.a = operand(instr, 1);
    if (c.cmp != IOp::I32Eqz && c.cmp != IOp::I64Eqz) c.b = operand(instr, 2);
    code_.resize(instr);
    last_result_ = last_cmp_ = kNone;
    return c;
  }
  c.a = slot_of(e);
  return c;
}

uint32_t Translator::emit_cond_branch(const Cond& c, bool when, uint32_t* k) {
  if (c.cmp == kNoOp) {
    *k = 1;
    return emit(when ? IOp::BrIfNez : IOp::BrIfEqz, {c.a, 0});
  }
  if (c.cmp == IOp::I32Eqz) {
    *k = 1;
    return emit(when ? IOp::BrIfEqz : IOp::BrIfNez, {c.a, 0});
  }
  if (c.cmp == IOp::I64Eqz) {
    *k = 1;
    return emit(when ? IOp::BrIfEqz64 : IOp::BrIfNez64, {c.a, 0});
  }
  IOp cmp = when ? c.cmp : tables().neg_of(c.cmp);
  *k = 2;
  return emit(tables().br_of(cmp), {c.a, c.b, 0});
}

void Translator::block_start(Op op, std::span<const ValType> params, std::span<const ValType> results) {
  // Values below the block must not change under the block's local.sets on
  // only some paths: make deferred local reads real copies first.
  materialize_local_refs();
  materialize_top(params.size());
  Ctrl c;
  c.op = op;
  c.height = static_cast<uint32_t>(stack_.size() - params.size());
  c.base = params.empty() ? stack_end() : stack_[c.height].slot;
  c.params = params;
  c.results = results;
  // Results may need more slots than anything pushed inside the block.
  uint32_t end = c.base;
  for (ValType t : results) end += wasm::slot_count(t);
  if (end > max_slots_) max_slots_ = end;
  c.loop_pos = here();
  if (op == Op::Try || op == Op::TryTable) {
    for (const Ctrl& o : ctrls_) c.try_level += o.op == Op::Try || o.op == Op::TryTable;
    c.try_start = here();
    if (op == Op::Try) c.exn_slot = next_exn_slot_++;
  }
  last_result_ = last_cmp_ = kNone;
  ctrls_.push_back(std::move(c));
  if (op == Op::Loop && st_.fuel_enabled) emit(IOp::Fuel, {});
}

void Translator::op_else() {
  Ctrl& c = ctrls_.back();
  if (!c.unreachable) {
    materialize_top(c.results.size());
    c.fixups.push_back({emit(IOp::Br, {0}), 0});
  }
  bind(c.else_fixup, here());
  c.else_fixup.instr = kNone;
  truncate_stack(c.height);
  for (ValType t : c.params) push(Entry::Temp, t);
  c.unreachable = false;
  c.op = Op::Else;
  last_result_ = last_cmp_ = kNone;
}

void Translator::op_end() {
  Ctrl& c = ctrls_.back();
  if (ctrls_.size() == 1) {
    if (!c.unreachable) emit_return();
    ctrls_.pop_back();
    return;
  }
  if (!c.unreachable) materialize_top(c.results.size());
  bool reachable = !c.unreachable || !c.fixups.empty();
  uint32_t pos = here();
  for (Handler& h : c.pending) {
    h.start = c.try_start;
    h.end = pos;
    handlers_.push_back(h);
  }
  if (c.op != Op::Loop)
    for (const Fixup& f : c.fixups) bind(f, pos);
  if (c.else_fixup.instr != kNone) {
    bind(c.else_fixup, pos);
    reachable = true;
  }
  truncate_stack(c.height);
  for (ValType t : c.results) push(Entry::Temp, t);
  ctrls_.pop_back();
  last_result_ = last_cmp_ = kNone;
  if (!reachable) set_unreachable();
}

void Translator::op_catch(Tag* tag) {
  Ctrl& c = ctrls_.back();
  if (!c.unreachable) {
    materialize_top(c.results.size());
    c.fixups.push_back({emit(IOp::Br, {0}), 0});
  }
  if (!c.in_catch) {
    c.in_catch = true;
    c.loop_pos = here();  // end of the try body
  }
  Handler h;
  h.start = c.try_start;
  h.end = c.loop_pos;
  h.level = c.try_level;
  h.tag = tag;
  h.target = here();
  h.payload_dst = tag ? c.base : kNoSlot;
  h.exn_dst = c.exn_slot;
  handlers_.push_back(h);
  truncate_stack(c.height);
  if (tag)
    for (ValType t : tag->type->params) push(Entry::Temp, t);
  c.unreachable = false;
  last_result_ = last_cmp_ = kNone;
}

void Translator::op_delegate(uint32_t depth) {
  Ctrl& c = ctrls_.back();
  if (!c.unreachable) materialize_top(c.results.size());
  Handler h;
  h.start = c.try_start;
  h.end = here();
  h.level = c.try_level;
  h.delegate = true;
  // The label is counted from outside the try; the innermost try block at
  // or outside it handles what this one delegates.
  for (size_t i = ctrls_.size() - 1 - depth; i-- > 0;) {
    if (ctrls_[i].op == Op::Try || ctrls_[i].op == Op::TryTable) {
      h.delegate_level = ctrls_[i].try_level;
      break;
    }
  }
  handlers_.push_back(h);
  op_end();
}

void Translator::op_try_table(Reader& r) {
  auto bt = wasm::read_blocktype(r);
  uint32_t n = r.u32();
  // Each clause lands on a stub that branches to its label; the unwinder
  // puts the values straight into the label's slots.
  uint32_t over = emit(IOp::Br, {0});
  std::vector<Handler> pending;
  for (uint32_t i = 0; i < n; ++i) {
    uint8_t kind = r.u8();
    Handler h;
    if (kind < 2) h.tag = inst_->tags[r.u32()];
    uint32_t depth = r.u32();
    bool is_return = depth == ctrls_.size() - 1;
    uint32_t dst = is_return ? 0 : label(depth).base;
    uint32_t payload = 0;
    if (h.tag)
      for (ValType t : h.tag->type->params) payload += wasm::slot_count(t);
    if (kind < 2) h.payload_dst = dst;
    if (kind == 1 || kind == 3) h.exn_dst = dst + payload;
    h.target = here();
    if (is_return)
      emit(IOp::Return0, {});
    else
      link(emit(IOp::Br, {0}), 0, depth);
    pending.push_back(h);
  }
  bind({over, 0}, here());
  block_start(Op::TryTable, block_params(bt), block_results(bt));
  ctrls_.back().try_start = here();
  for (Handler& h : pending) h.level = ctrls_.back().try_level;
  ctrls_.back().pending = std::move(pending);
}

void Translator::op_throw(Tag* tag) {
  size_t np = tag->type->params.size();
  materialize_top(np);
  uint32_t arg = np ? stack_[stack_.size() - np].slot : stack_end();
  uint32_t nslots = stack_end() - arg;
  emit(IOp::Throw, {lo(tag), hi(tag), arg, nslots});
  set_unreachable();
}

void Translator::op_br_if(uint32_t depth) {
  Cond cond = take_cond();
  bool is_return = depth == ctrls_.size() - 1;
  uint32_t k;
  if (!is_return && values_in_place(label(depth))) {
    uint32_t instr = emit_cond_branch(cond, true, &k);
    link(instr, k, depth);
    return;
  }
  // Values must move (or the function returns): branch around the moves.
  uint32_t skip = emit_cond_branch(cond, false, &k);
  branch(depth);
  bind({skip, k}, here());
  last_result_ = last_cmp_ = kNone;
}

void Translator::op_br_table(Reader& r) {
  uint32_t n = r.u32();
  std::vector<uint32_t> depths(n + 1);
  for (uint32_t i = 0; i <= n; ++i) depths[i] = r.u32();
  uint32_t index = pop_slot();
  uint32_t instr = here();
  code_.push_back(reinterpret_cast<Word>(h_[static_cast<size_t>(IOp::BrTable)]));
  code_.resize(code_.size() + (n + 4) / 2, 0);
  set_operand(instr, 0, index);
  set_operand(instr, 1, n);
  last_result_ = last_cmp_ = kNone;
  // Targets whose values are in place are jumped to directly, the others
  // through a stub that moves the values first (one per distinct label).
  std::unordered_map<uint32_t, uint32_t> stubs;
  for (uint32_t i = 0; i <= n; ++i) {
    uint32_t d = depths[i];
    if (d != ctrls_.size() - 1 && values_in_place(label(d))) {
      link(instr, 2 + i, d);
      continue;
    }
    auto it = stubs.find(d);
    if (it == stubs.end()) {
      it = stubs.emplace(d, here()).first;
      branch(d);
    }
    set_operand(instr, 2 + i, it->second - instr);
  }
  set_unreachable();
}

void Translator::op_call(Function* callee, bool tail) {
  const wasm::FuncType& ft = *callee->type;
  size_t np = ft.params.size();
  materialize_top(np);
  uint32_t arg = np ? stack_[stack_.size() - np].slot : stack_end();
  uint32_t nslots = stack_end() - arg;
  truncate_stack(stack_.size() - np);
  if (tail) {
    emit(IOp::ReturnCall, {lo(callee), hi(callee), arg, nslots});
    set_unreachable();
    return;
  }
  emit(IOp::Call, {lo(callee), hi(callee), arg});
  for (ValType t : ft.results) push(Entry::Temp, t);
}

void Translator::op_call_indirect(uint32_t type_index, uint32_t table, bool tail) {
  const wasm::FuncType& ft = module_.types[type_index];
  uint32_t sig = st_.store.intern(ft);
  Table* t = inst_->tables[table];
  Entry ie = pop();
  size_t np = ft.params.size();
  materialize_top(np);
  uint32_t index = slot_of(ie);
  uint32_t arg = np ? stack_[stack_.size() - np].slot : stack_end();
  uint32_t nslots = stack_end() - arg;
  truncate_stack(stack_.size() - np);
  if (tail) {
    emit(IOp::ReturnCallIndirect, {lo(t), hi(t), sig, index, arg, nslots});
    set_unreachable();
    return;
  }
  emit(IOp::CallIndirect, {lo(t), hi(t), sig, index, arg});
  for (ValType r : ft.results) push(Entry::Temp, r);
}

void Translator::op_local_set(uint32_t index, bool tee) {
  uint32_t x = local_slot_[index];
  Entry& top = stack_.back();
  if (top.kind == Entry::Local && top.src == x) {
    if (!tee) pop();
    return;
  }
  if (top.kind == Entry::Temp && last_result_ != kNone && local_refs_[x] == 0 &&
      operand(last_result_, 0) == top.slot) {
    // Retarget the instruction that produced the value to write the local.
    set_operand(last_result_, 0, x);
    pop();
  } else {
    Entry e = pop();
    materialize_refs_to(x);
    copy_to(e, x);
  }
  last_result_ = last_cmp_ = kNone;
  if (tee) {
    Entry& n = push(Entry::Local, local_types_[index]);
    n.src = x;
    ++local_refs_[x];
  }
}

void Translator::op_select() {
  Entry c = pop();
  Entry b = pop();
  Entry a = pop();
  uint32_t cs = slot_of(c), bs = slot_of(b), as = slot_of(a);
  uint32_t dst = result_slot();
  push_result(a.type, emit(a.type == ValType::V128 ? IOp::Select2 : IOp::Select, {dst, cs, as, bs}));
}

void Translator::op_numeric(IOp iop, const char* sh) {
  size_t nin = std::strchr(sh, '_') - sh;
  ValType out = letter_type(sh[nin + 1]);
  uint32_t in[3];
  IOp imm = tables().imm_of(iop);
  if (nin == 2 && imm != kNoOp) {
    // A constant operand becomes an immediate (either side if commutative).
    Entry& b = stack_.back();
    Entry& a = stack_[stack_.size() - 2];
    auto fits = [](const Entry& e) {
      return e.kind == Entry::Const &&
             (e.type == ValType::I32 || static_cast<int64_t>(e.bits) == static_cast<int32_t>(e.bits));
    };
    bool use_b = fits(b), use_a = !use_b && fits(a) && tables().commutative(iop);
    if (use_b || use_a) {
      Entry eb = pop();
      Entry ea = pop();
      Entry& c = use_b ? eb : ea;
      Entry& x = use_b ? ea : eb;
      uint32_t xs = slot_of(x);
      uint32_t dst = result_slot();
      uint32_t instr = emit(imm, {dst, xs, lo(c.bits)});
      push_result(out, instr);
      if (tables().compare(imm)) set_last_cmp(instr, imm);
      return;
    }
  }
  Entry es[3];
  for (size_t i = nin; i-- > 0;) es[i] = pop();
  for (size_t i = 0; i < nin; ++i) in[i] = slot_of(es[i]);
  uint32_t dst = result_slot();
  uint32_t instr;
  switch (nin) {
    case 1: instr = emit(iop, {dst, in[0]}); break;
    case 2: instr = emit(iop, {dst, in[0], in[1]}); break;
    default: instr = emit(iop, {dst, in[0], in[1], in[2]}); break;
  }
  push_result(out, instr);
  if (tables().compare(iop) || iop == IOp::I32Eqz || iop == IOp::I64Eqz) set_last_cmp(instr, iop);
}

void Translator::op_load(Op op, const wasm::MemArg& m, ValType result) {
  IOp base = tables().of(op);
  Memory* mem = inst_->memories[m.memory];
  uint32_t addr = pop_slot();
  uint32_t dst = result_slot();
  uint32_t instr;
  if (m.memory == 0 && !mem->type().limits.is64)
    instr = emit(mem->guarded() ? base : base + 1, {dst, addr, lo(m.offset)});
  else
    instr = emit(base + 2, {dst, addr, lo(mem), hi(mem), lo(m.offset), hi(m.offset)});
  push_result(result, instr);
}

void Translator::op_store(Op op, const wasm::MemArg& m) {
  IOp base = tables().of(op);
  Memory* mem = inst_->memories[m.memory];
  uint32_t value = pop_slot();
  uint32_t addr = pop_slot();
  if (m.memory == 0 && !mem->type().limits.is64)
    emit(mem->guarded() ? base : base + 1, {addr, value, lo(m.offset)});
  else
    emit(base + 2, {addr, value, lo(mem), hi(mem), lo(m.offset), hi(m.offset)});
}

void Translator::unsupported(Op op) {
  const char* text = wasm::op_info(op).text;
  emit(IOp::Unreachable, {lo(text), hi(text)});
  set_unreachable();
}

std::unique_ptr<CompiledFunction> Translator::run() {
  uint32_t defined = func_->index - module_.num_imported_funcs;
  wasm::ByteRange body = module_.bodies[defined].body;
  Reader r(module_.range(body), body.offset);

  const wasm::FuncType& ft = *func_->type;
  std::vector<std::pair<uint32_t, ValType>> groups;
  wasm::decode_locals(r, groups);
  local_types_.assign(ft.params.begin(), ft.params.end());
  for (auto& [n, t] : groups) local_types_.insert(local_types_.end(), n, t);
  uint32_t slot = 0, param_slots = 0;
  for (size_t i = 0; i < local_types_.size(); ++i) {
    if (i == ft.params.size()) param_slots = slot;
    local_slot_.push_back(slot);
    slot += wasm::slot_count(local_types_[i]);
  }
  if (local_types_.size() == ft.params.size()) param_slots = slot;
  if (!module_.tags.empty()) {
    // Legacy try blocks keep their caught exception in a hidden local.
    next_exn_slot_ = slot;
    for (Reader scan = r; !scan.at_end();) {
      Op op = wasm::read_op(scan);
      wasm::skip_immediates(scan, op, module_.memories);
      slot += op == Op::Try;
    }
  }
  locals_end_ = max_slots_ = slot;
  local_refs_.assign(slot, 0);

  Ctrl body_ctrl;
  body_ctrl.op = Op::End;
  body_ctrl.results = ft.results;
  ctrls_.push_back(std::move(body_ctrl));
  if (st_.fuel_enabled) emit(IOp::Fuel, {});

  while (!ctrls_.empty()) {
    Op op = wasm::read_op(r);
    if (ctrls_.back().unreachable) {
      // Dead code: only track nesting until this block's else/end.
      switch (op) {
        case Op::Block: case Op::Loop: case Op::If: case Op::Try: case Op::TryTable:
          ++skip_depth_;
          wasm::skip_immediates(r, op, module_.memories);
          continue;
        case Op::End:
          if (skip_depth_ == 0) break;
          --skip_depth_;
          continue;
        case Op::Delegate:
          if (skip_depth_ == 0) break;
          --skip_depth_;
          r.u32();
          continue;
        case Op::Else: case Op::Catch: case Op::CatchAll:
          if (skip_depth_ == 0) break;
          wasm::skip_immediates(r, op, module_.memories);
          continue;
        default:
          wasm::skip_immediates(r, op, module_.memories);
          continue;
      }
    }
    translate_op(op, r);
  }

  auto cf = std::make_unique<CompiledFunction>();
  cf->code = std::move(code_);
  cf->handlers = std::move(handlers_);
  cf->param_slots = param_slots;
  cf->local_slots = locals_end_ - param_slots;
  cf->frame_slots = max_slots_;
  cf->instance = inst_;
  cf->memory0 = inst_->memories.empty() ? nullptr : inst_->memories[0];
  return cf;
}

void Translator::translate_op(Op op, Reader& r) {
  switch (op) {
    case Op::Unreachable:
      emit(IOp::Unreachable, {0, 0});
      set_unreachable();
      return;
    case Op::Nop:
      return;
    case Op::Block: case Op::Loop: {
      auto bt = wasm::read_blocktype(r);
      block_start(op, block_params(bt), block_results(bt));
      return;
    }
    case Op::If: {
      auto bt = wasm::read_blocktype(r);
      auto params = block_params(bt);
      Cond cond = take_cond();
      block_start(op, params, block_results(bt));
      uint32_t k;
      uint32_t instr = emit_cond_branch(cond, false, &k);
      ctrls_.back().else_fixup = {instr, k};
      return;
    }
    case Op::Else:
      op_else();
      return;
    case Op::Try: {
      auto bt = wasm::read_blocktype(r);
      block_start(op, block_params(bt), block_results(bt));
      return;
    }
    case Op::Catch:
      op_catch(inst_->tags[r.u32()]);
      return;
    case Op::CatchAll:
      op_catch(nullptr);
      return;
    case Op::Delegate:
      op_delegate(r.u32());
      return;
    case Op::TryTable:
      op_try_table(r);
      return;
    case Op::Throw:
      op_throw(inst_->tags[r.u32()]);
      return;
    case Op::Rethrow:
      emit(IOp::ThrowRef, {label(r.u32()).exn_slot});
      set_unreachable();
      return;
    case Op::ThrowRef:
      emit(IOp::ThrowRef, {pop_slot()});
      set_unreachable();
      return;
    case Op::End:
      op_end();
      return;
    case Op::Br: {
      uint32_t d = r.u32();
      branch(d);
      set_unreachable();
      return;
    }
    case Op::BrIf:
      op_br_if(r.u32());
      return;
    case Op::BrTable:
      op_br_table(r);
      return;
    case Op::Return:
      emit_return();
      set_unreachable();
      return;
    case Op::Call: case Op::ReturnCall:
      op_call(inst_->funcs[r.u32()], op == Op::ReturnCall);
      return;
    case Op::CallIndirect: case Op::ReturnCallIndirect: {
      uint32_t type = r.u32();
      uint32_t table = r.u32();
      op_call_indirect(type, table, op == Op::ReturnCallIndirect);
      return;
    }
    case Op::Drop:
      pop();
      return;
    case Op::Select:
      op_select();
      return;
    case Op::SelectTyped:
      wasm::skip_immediates(r, op, module_.memories);
      op_select();
      return;
    case Op::LocalGet: {
      uint32_t i = r.u32();
      Entry& e = push(Entry::Local, local_types_[i]);
      e.src = local_slot_[i];
      ++local_refs_[e.src];
      return;
    }
    case Op::LocalSet: case Op::LocalTee:
      op_local_set(r.u32(), op == Op::LocalTee);
      return;
    case Op::GlobalGet: {
      Global* g = inst_->globals[r.u32()];
      ValType t = g->type.type;
      uint32_t dst = result_slot();
      push_result(t, emit(t == ValType::V128 ? IOp::GlobalGet2 : IOp::GlobalGet,
                          {dst, lo(g->bits), hi(g->bits)}));
      return;
    }
    case Op::GlobalSet: {
      Global* g = inst_->globals[r.u32()];
      uint32_t src = pop_slot();
      emit(g->type.type == ValType::V128 ? IOp::GlobalSet2 : IOp::GlobalSet,
           {src, lo(g->bits), hi(g->bits)});
      return;
    }
    case Op::TableGet: {
      Table* t = inst_->tables[r.u32()];
      uint32_t i = pop_slot();
      uint32_t dst = result_slot();
      push_result(t->type.elem, emit(IOp::TableGet, {dst, i, lo(t), hi(t)}));
      return;
    }
    case Op::TableSet: {
      Table* t = inst_->tables[r.u32()];
      uint32_t v = pop_slot();
      uint32_t i = pop_slot();
      emit(IOp::TableSet, {i, v, lo(t), hi(t)});
      return;
    }
    case Op::MemorySize: {
      Memory* m = inst_->memories[r.u32()];
      uint32_t dst = result_slot();
      push_result(m->type().limits.is64 ? ValType::I64 : ValType::I32,
                  emit(IOp::MemorySize, {dst, lo(m), hi(m)}));
      return;
    }
    case Op::MemoryGrow: {
      Memory* m = inst_->memories[r.u32()];
      uint32_t delta = pop_slot();
      uint32_t dst = result_slot();
      push_result(m->type().limits.is64 ? ValType::I64 : ValType::I32,
                  emit(IOp::MemoryGrow, {dst, delta, lo(m), hi(m)}));
      return;
    }
    case Op::I32Const: {
      Entry& e = push(Entry::Const, ValType::I32);
      e.bits = static_cast<uint32_t>(r.s32());
      return;
    }
    case Op::I64Const: {
      Entry& e = push(Entry::Const, ValType::I64);
      e.bits = static_cast<uint64_t>(r.s64());
      return;
    }
    case Op::F32Const: {
      Entry& e = push(Entry::Const, ValType::F32);
      e.bits = r.fixed_u32();
      return;
    }
    case Op::F64Const: {
      Entry& e = push(Entry::Const, ValType::F64);
      e.bits = r.fixed_u64();
      return;
    }
    case Op::V128Const: {
      uint32_t w[4];
      std::memcpy(w, r.bytes(16).data(), 16);
      uint32_t dst = result_slot();
      push_result(ValType::V128, emit(IOp::Const128, {dst, w[0], w[1], w[2], w[3]}));
      return;
    }
    case Op::I32ReinterpretF32: case Op::I64ReinterpretF64:
    case Op::F32ReinterpretI32: case Op::F64ReinterpretI64: {
      // Slots hold raw bits: only the static type changes.
      static constexpr ValType kTo[] = {ValType::I32, ValType::I64, ValType::F32, ValType::F64};
      size_t k = op == Op::I32ReinterpretF32 ? 0 : op == Op::I64ReinterpretF64 ? 1
               : op == Op::F32ReinterpretI32 ? 2 : 3;
      stack_.back().type = kTo[k];
      last_cmp_ = kNone;
      return;
    }
    case Op::RefNull: {
      Entry& e = push(Entry::Const, wasm::read_reftype(r));
      e.bits = 0;
      return;
    }
    case Op::RefIsNull:
      // A reference slot is zero exactly when null.
      op_numeric(IOp::I64Eqz, "I_i");
      return;
    case Op::RefFunc: {
      Function* f = inst_->funcs[r.u32()];
      uint32_t dst = result_slot();
      push_result(ValType::FuncRef, emit(IOp::RefFunc, {dst, lo(f), hi(f)}));
      return;
    }
    case Op::MemoryInit: {
      uint32_t seg = r.u32();
      Memory* m = inst_->memories[r.u32()];
      uint32_t n = pop_slot(), s = pop_slot(), d = pop_slot();
      emit(IOp::MemoryInit, {d, s, n, lo(m), hi(m), lo(inst_), hi(inst_), seg});
      return;
    }
    case Op::DataDrop:
      emit(IOp::DataDrop, {lo(inst_), hi(inst_), r.u32()});
      return;
    case Op::MemoryCopy: {
      Memory* dm = inst_->memories[r.u32()];
      Memory* sm = inst_->memories[r.u32()];
      uint32_t n = pop_slot(), s = pop_slot(), d = pop_slot();
      emit(IOp::MemoryCopy, {d, s, n, lo(dm), hi(dm), lo(sm), hi(sm)});
      return;
    }
    case Op::MemoryFill: {
      Memory* m = inst_->memories[r.u32()];
      uint32_t n = pop_slot(), v = pop_slot(), d = pop_slot();
      emit(IOp::MemoryFill, {d, v, n, lo(m), hi(m)});
      return;
    }
    case Op::TableInit: {
      uint32_t seg = r.u32();
      Table* t = inst_->tables[r.u32()];
      uint32_t n = pop_slot(), s = pop_slot(), d = pop_slot();
      emit(IOp::TableInit, {d, s, n, lo(t), hi(t), lo(inst_), hi(inst_), seg});
      return;
    }
    case Op::ElemDrop:
      emit(IOp::ElemDrop, {lo(inst_), hi(inst_), r.u32()});
      return;
    case Op::TableCopy: {
      Table* dt = inst_->tables[r.u32()];
      Table* tt = inst_->tables[r.u32()];
      uint32_t n = pop_slot(), s = pop_slot(), d = pop_slot();
      emit(IOp::TableCopy, {d, s, n, lo(dt), hi(dt), lo(tt), hi(tt)});
      return;
    }
    case Op::TableGrow: {
      Table* t = inst_->tables[r.u32()];
      uint32_t delta = pop_slot(), init = pop_slot();
      uint32_t dst = result_slot();
      push_result(ValType::I32, emit(IOp::TableGrow, {dst, init, delta, lo(t), hi(t)}));
      return;
    }
    case Op::TableSize: {
      Table* t = inst_->tables[r.u32()];
      uint32_t dst = result_slot();
      push_result(ValType::I32, emit(IOp::TableSize, {dst, lo(t), hi(t)}));
      return;
    }
    case Op::TableFill: {
      Table* t = inst_->tables[r.u32()];
      uint32_t n = pop_slot(), v = pop_slot(), d = pop_slot();
      emit(IOp::TableFill, {d, v, n, lo(t), hi(t)});
      return;
    }
    default:
      break;
  }

  const wasm::OpInfo& info = wasm::op_info(op);
  IOp iop = tables().of(op);
  if (iop != kNoOp && tables().single(iop)) {
    // SIMD memory access: one checked variant for every memory.
    wasm::MemArg m = wasm::read_memarg(r, module_.memories);
    Memory* mem = inst_->memories[m.memory];
    if (info.imm == wasm::Imm::MemArgLane) {
      uint32_t lane = r.u8();
      uint32_t vec = pop_slot();
      uint32_t addr = pop_slot();
      if (info.sig == Sig::S_av_0) {
        emit(iop, {addr, vec, lo(mem), hi(mem), lo(m.offset), hi(m.offset), lane});
        return;
      }
      uint32_t dst = result_slot();
      push_result(ValType::V128,
                  emit(iop, {dst, addr, vec, lo(mem), hi(mem), lo(m.offset), hi(m.offset), lane}));
      return;
    }
    uint32_t addr = pop_slot();
    uint32_t dst = result_slot();
    push_result(ValType::V128, emit(iop, {dst, addr, lo(mem), hi(mem), lo(m.offset), hi(m.offset)}));
    return;
  }
  if (info.imm == wasm::Imm::MemArg && iop != kNoOp && info.prefix != 0xfe) {
    wasm::MemArg m = wasm::read_memarg(r, module_.memories);
    switch (info.sig) {
      case Sig::S_a_i: op_load(op, m, ValType::I32); return;
      case Sig::S_a_I: op_load(op, m, ValType::I64); return;
      case Sig::S_a_f: op_load(op, m, ValType::F32); return;
      case Sig::S_a_F: op_load(op, m, ValType::F64); return;
      case Sig::S_a_v: op_load(op, m, ValType::V128); return;
      default: op_store(op, m); return;
    }
  }
  if (iop != kNoOp && info.imm == wasm::Imm::None) {
    if (const char* sh = shape(info.sig)) {
      op_numeric(iop, sh);
      return;
    }
  }
  if (iop != kNoOp && info.imm == wasm::Imm::Lane) {
    uint32_t lane = r.u8();
    if (info.sig == Sig::S_v_i || info.sig == Sig::S_v_I || info.sig == Sig::S_v_f ||
        info.sig == Sig::S_v_F) {
      uint32_t a = pop_slot();
      uint32_t dst = result_slot();
      push_result(letter_type(shape(info.sig)[2]), emit(iop, {dst, a, lane}));
    } else {
      uint32_t b = pop_slot();
      uint32_t a = pop_slot();
      uint32_t dst = result_slot();
      push_result(ValType::V128, emit(iop, {dst, a, b, lane}));
    }
    return;
  }
  if (iop != kNoOp && info.imm == wasm::Imm::Shuffle) {
    uint32_t w[4];
    std::memcpy(w, r.bytes(16).data(), 16);
    uint32_t b = pop_slot();
    uint32_t a = pop_slot();
    uint32_t dst = result_slot();
    push_result(ValType::V128, emit(iop, {dst, a, b, w[0], w[1], w[2], w[3]}));
    return;
  }
  if (info.prefix == 0xfe && info.imm == wasm::Imm::MemArg) {
    op_atomic(op, wasm::read_memarg(r, module_.memories));
    return;
  }
  if (op == Op::AtomicFence) {
    r.u8();
    return;
  }
  wasm::skip_immediates(r, op, module_.memories);
  unsupported(op);
}

void Translator::op_atomic(Op op, const wasm::MemArg& m) {
  // Width and operation from the instruction's name, e.g.
  // "i64.atomic.rmw16.xchg_u" or "i32.atomic.load8_u".
  std::string_view text = wasm::op_info(op).text;
  uint32_t width = text.starts_with("i64") ? 8 : 4;
  size_t digits = text.find_first_of("0123456789", 4);
  if (digits != std::string_view::npos) width = std::stoi(std::string(text.substr(digits))) / 8;
  std::string_view name = text.substr(text.rfind('.') + 1);
  Memory* mem = inst_->memories[m.memory];
  uint32_t ml = lo(mem), mh = hi(mem), ol = lo(m.offset), oh = hi(m.offset);
  Sig sig = wasm::op_info(op).sig;
  ValType result = sig == Sig::S_a_I || sig == Sig::S_aI_I || sig == Sig::S_aII_I ? ValType::I64 : ValType::I32;
  if (op == Op::MemoryAtomicNotify) {
    uint32_t count = pop_slot(), addr = pop_slot(), dst = result_slot();
    push_result(ValType::I32, emit(IOp::AtomicNotify, {dst, addr, count, ml, mh, ol, oh}));
  } else if (op == Op::MemoryAtomicWait32 || op == Op::MemoryAtomicWait64) {
    width = op == Op::MemoryAtomicWait32 ? 4 : 8;
    uint32_t timeout = pop_slot(), expected = pop_slot(), addr = pop_slot(), dst = result_slot();
    push_result(ValType::I32, emit(IOp::AtomicWait, {dst, addr, expected, timeout, ml, mh, ol, oh, width}));
  } else if (sig == Sig::S_a_i || sig == Sig::S_a_I) {
    uint32_t addr = pop_slot(), dst = result_slot();
    push_result(result, emit(IOp::AtomicLoad, {dst, addr, ml, mh, ol, oh, width}));
  } else if (sig == Sig::S_ai_0 || sig == Sig::S_aI_0) {
    uint32_t value = pop_slot(), addr = pop_slot();
    emit(IOp::AtomicStore, {addr, value, ml, mh, ol, oh, width});
  } else if (sig == Sig::S_aii_i || sig == Sig::S_aII_I) {
    uint32_t repl = pop_slot(), expected = pop_slot(), addr = pop_slot(), dst = result_slot();
    push_result(result, emit(IOp::AtomicCmpxchg, {dst, addr, expected, repl, ml, mh, ol, oh, width}));
  } else {
    static constexpr std::string_view kOps[] = {"add", "sub", "and", "or", "xor", "xchg"};
    uint32_t k = 0;
    while (k < 5 && !name.starts_with(kOps[k])) ++k;
    uint32_t value = pop_slot(), addr = pop_slot(), dst = result_slot();
    push_result(result, emit(IOp::AtomicRmw, {dst, addr, value, ml, mh, ol, oh, width, k}));
  }
}

}  // namespace

CompiledFunction* compile(Store::ExecState& st, Function* func) {
  const wasm::Module& m = *func->instance->module;
  wasm::validate_function(m, func->index - m.num_imported_funcs);
  auto cf = Translator(st, func).run();
  func->compiled = cf.get();
  st.compiled.push_back(std::move(cf));
  return func->compiled;
}

}  // namespace weft::engine
