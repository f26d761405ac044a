#include "engine/interpreter.h"

#include <signal.h>
#include <sys/mman.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <type_traits>
#include <utility>

#include "engine/simd.h"
#include "engine/translator.h"

namespace weft::engine {

namespace {

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
// Operands are read as 32-bit units out of 64-bit code words.
using u32a = uint32_t __attribute__((may_alias));

[[noreturn]] void trap(TrapKind kind) { throw Trap(kind); }

// --- numeric semantics that need more than an operator

template <class T>
T div_s(T a, T b) {
  if (b == 0) trap(TrapKind::IntegerDivideByZero);
  if (a == std::numeric_limits<T>::min() && b == -1) trap(TrapKind::IntegerOverflow);
  return a / b;
}
template <class T>
T div_u(T a, T b) {
  if (b == 0) trap(TrapKind::IntegerDivideByZero);
  return a / b;
}
template <class T>
T rem_s(T a, T b) {
  if (b == 0) trap(TrapKind::IntegerDivideByZero);
  return b == -1 ? 0 : a % b;
}
template <class T>
T rem_u(T a, T b) {
  if (b == 0) trap(TrapKind::IntegerDivideByZero);
  return a % b;
}

// Rounding result `r` of `a`, except that a NaN comes back quiet (libm may
// return a signalling NaN unchanged).
template <class F>
F fround(F a, F r) {
  return std::isnan(a) ? a + a : r;
}
// IEEE min/max as wasm wants them: NaN wins, -0 < +0.
template <class F>
F min_(F a, F b) {
  if (std::isnan(a) || std::isnan(b)) return a + b;
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}
template <class F>
F max_(F a, F b) {
  if (std::isnan(a) || std::isnan(b)) return a + b;
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

// The range [lo, hi) of truncated floats that fit in I; both bounds are
// powers of two (or zero), so exact in F.
template <class I, class F>
constexpr F trunc_lo() {
  return std::is_signed_v<I> ? static_cast<F>(std::numeric_limits<I>::min()) : F(0);
}
template <class I, class F>
constexpr F trunc_hi() {
  return std::is_signed_v<I> ? -trunc_lo<I, F>() : F(2) * static_cast<F>(I(1) << (sizeof(I) * 8 - 1));
}
template <class I, class F>
I trunc_trap(F x) {
  if (std::isnan(x)) trap(TrapKind::InvalidConversionToInteger);
  F t = std::trunc(x);
  if (t < trunc_lo<I, F>() || t >= trunc_hi<I, F>()) trap(TrapKind::IntegerOverflow);
  return static_cast<I>(t);
}
template <class I, class F>
I trunc_sat(F x) {
  if (std::isnan(x)) return 0;
  F t = std::trunc(x);
  if (t < trunc_lo<I, F>()) return std::numeric_limits<I>::min();
  if (t >= trunc_hi<I, F>()) return std::numeric_limits<I>::max();
  return static_cast<I>(t);
}

// --- slots: 4-byte values live zero-extended in the low half, raw bits

template <class T>
inline T rd(const uint64_t* fp, uint32_t s) {
  if constexpr (std::is_same_v<T, V128>) {
    V128 v;
    std::memcpy(v.bytes, fp + s, 16);
    return v;
  } else if constexpr (sizeof(T) == 4) {
    return std::bit_cast<T>(static_cast<uint32_t>(fp[s]));
  } else {
    return std::bit_cast<T>(fp[s]);
  }
}
template <class T>
inline void wr(uint64_t* fp, uint32_t s, T v) {
  if constexpr (std::is_same_v<T, V128>) {
    std::memcpy(fp + s, v.bytes, 16);
  } else if constexpr (sizeof(T) == 4) {
    fp[s] = std::bit_cast<uint32_t>(v);
  } else if constexpr (sizeof(T) == 8) {
    fp[s] = std::bit_cast<uint64_t>(v);
  } else {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8);
  }
}

inline uint64_t load64(const Word* pc, uint32_t k) {
  uint64_t v;
  std::memcpy(&v, reinterpret_cast<const char*>(pc + 1) + 4 * k, 8);
  return v;
}

// An address operand of a memory or table with 32- or 64-bit indices.
inline uint64_t index_of(bool is64, uint64_t slot) { return is64 ? slot : static_cast<uint32_t>(slot); }

// call_indirect / return_call_indirect: the entry at `slot` must exist, be
// set, and have the expected signature.
inline Function* indirect_callee(Table* t, uint64_t slot, uint32_t sig) {
  uint64_t i = index_of(t->type.limits.is64, slot);
  if (i >= t->elems.size()) trap(TrapKind::UndefinedElement);
  auto* callee = reinterpret_cast<Function*>(t->elems[i]);
  if (!callee) trap(TrapKind::UninitializedElement);
  if (callee->sig != sig) trap(TrapKind::IndirectCallTypeMismatch);
  return callee;
}

// The address of a `size`-byte access to m at addr + offset, or a trap.
inline uint8_t* checked_address(Memory* m, uint64_t addr_slot, uint64_t offset, uint64_t size) {
  uint64_t a = index_of(m->type().limits.is64, addr_slot);
  uint64_t ea = a + offset;
  if (ea < a || !m->in_bounds(ea, size)) trap(TrapKind::OutOfBoundsMemoryAccess);
  return m->data() + ea;
}

// The innermost handler of `cf` at code position p that catches `exn`.
const Handler* find_handler(const CompiledFunction* cf, uint32_t p, const Exception* exn) {
  int32_t max_level = std::numeric_limits<int32_t>::max();
  for (const Handler& h : cf->handlers) {
    if (p < h.start || p >= h.end || h.level > max_level) continue;
    if (h.delegate)
      max_level = h.delegate_level;
    else if (!h.tag || h.tag == exn->tag)
      return &h;
  }
  return nullptr;
}

// The address of an atomic access: in bounds and naturally aligned.
inline uint8_t* atomic_address(Memory* m, uint64_t addr_slot, uint64_t offset, uint32_t width) {
  uint8_t* p = checked_address(m, addr_slot, offset, width);
  if ((p - m->data()) & (width - 1)) trap(TrapKind::UnalignedAtomic);
  return p;
}
inline uint64_t load_n(const uint8_t* p, uint32_t width) {
  uint64_t v = 0;
  std::memcpy(&v, p, width);
  return v;
}
inline uint64_t width_mask(uint32_t width) { return width == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * width)) - 1; }

const void* const* g_handlers = nullptr;
Word g_exit_code[1];

void run(Store::ExecState* st, const Word* pc, uint64_t* fp);

// --- guard-page faults

thread_local Store::ExecState* t_active = nullptr;
struct sigaction g_old_segv, g_old_bus;

void on_fault(int sig, siginfo_t* info, void* ctx) {
  Store::ExecState* st = t_active;
  if (st && st->landing && Memory::is_guard_fault(info->si_addr)) siglongjmp(*st->landing, 1);
  // Not a wasm access: hand over to whoever was there before (by default,
  // returning re-executes the access and the default action ends us).
  const struct sigaction& old = sig == SIGSEGV ? g_old_segv : g_old_bus;
  if (old.sa_flags & SA_SIGINFO) {
    old.sa_sigaction(sig, info, ctx);
  } else if (old.sa_handler != SIG_IGN && old.sa_handler != SIG_DFL) {
    old.sa_handler(sig);
  } else {
    signal(sig, SIG_DFL);
  }
}

void install_fault_handler() {
  // Checked on every outermost invoke, not once: embedders (and test
  // frameworks) install handlers of their own; ours chains to theirs.
  struct sigaction cur {};
  sigaction(SIGSEGV, nullptr, &cur);
  if (!(cur.sa_flags & SA_SIGINFO) || cur.sa_sigaction != on_fault) {
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
  }
  // The handler runs on an alternate stack, so it works even when the
  // thread's own stack is what overflowed.
  // Kept (and reachable from here) for the thread's whole life.
  thread_local char* altstack = nullptr;
  if (!altstack) {
    stack_t ss{};
    ss.ss_size = 64 * 1024;
    altstack = new char[ss.ss_size];
    ss.ss_sp = altstack;
    sigaltstack(&ss, nullptr);
  }
}

void add_backtrace(Trap& trap, Frame* base, Frame* top) {
  for (Frame* f = top; f-- != base;) {
    Function* fn = f->func;
    if (fn->host)
      trap.backtrace().push_back({fn->index, fn->host->name});
    else
      trap.backtrace().push_back({fn->index, fn->instance->module->func_name(fn->index)});
  }
}

// The dispatch loop. Registers: pc, fp, cf (current function) and the base
// and size of its memory 0; everything else lives in *st.
void run(Store::ExecState* st, const Word* pc, uint64_t* fp) {
  static const void* const kLabels[] = {
#define OP(name) &&L_##name,
#define UN(name, tin, tout, expr) &&L_##name,
#define BIN(name, tin, tout, expr) &&L_##name,
#define BINI(name, tin, tout, expr) &&L_##name, &&L_##name##_I,
#define CMP(name, t, expr, neg) &&L_##name, &&L_##name##_I, &&L_BrIf_##name, &&L_BrIf_##name##_I,
#define LOAD(name, memt, outt) &&L_##name, &&L_##name##_C, &&L_##name##_M,
#define STORE(name, int_, memt) &&L_##name, &&L_##name##_C, &&L_##name##_M,
#define VLOAD(name, n, expr) &&L_##name,
#define VLOAD_LANE(name, t) &&L_##name,
#define VSTORE_LANE(name, t) &&L_##name,
#include "engine/interp_ops.def"
#define SIMD_UNARY(name, fn) &&L_##name,
#define SIMD_BINARY(name, fn) &&L_##name,
#define SIMD_TERNARY(name, fn) &&L_##name,
#define SIMD_SHIFT(name, fn) &&L_##name,
#define SIMD_TEST(name, fn) &&L_##name,
#define SIMD_SPLAT(name, fn) &&L_##name,
#define SIMD_EXTRACT(name, fn) &&L_##name,
#define SIMD_REPLACE(name, fn) &&L_##name,
#define SIMD_SHUFFLE(name, fn) &&L_##name,
#include "engine/simd_ops.def"
  };
  static_assert(std::size(kLabels) == static_cast<size_t>(IOp::Count_));
  if (!pc) {
    g_handlers = kLabels;
    return;
  }

  CompiledFunction* cf = (st->top - 1)->func->compiled;
  uint8_t* mem;
  uint64_t memsize;
  Function* callee;
  uint64_t* nfp;
  const Word* ret;
  Exception* exn;

#define RELOAD_MEMORY()                          \
  do {                                           \
    Memory* m_ = cf->memory0;                    \
    mem = m_ ? m_->data() : nullptr;             \
    memsize = m_ ? m_->size_bytes() : 0;         \
  } while (0)
#define NEXT() goto* reinterpret_cast<const void*>(*pc)
#define O(k) (reinterpret_cast<const u32a*>(pc + 1)[k])
#define P(T, k) reinterpret_cast<T>(load64(pc, k))
#define ADV(n32) pc += instr_words(n32)
#define JUMP(k) pc += static_cast<int32_t>(O(k))

  RELOAD_MEMORY();
  NEXT();

  // --- control
L_Exit:
  return;
L_Unreachable: {
  const char* what = P(const char*, 0);
  throw Trap(TrapKind::Unreachable, what ? std::string("unsupported instruction ") + what : "");
}
L_Br:
  JUMP(0);
  NEXT();
L_BrIfNez:
  if (static_cast<u32>(fp[O(0)])) JUMP(1); else ADV(2);
  NEXT();
L_BrIfEqz:
  if (!static_cast<u32>(fp[O(0)])) JUMP(1); else ADV(2);
  NEXT();
L_BrIfNez64:
  if (fp[O(0)]) JUMP(1); else ADV(2);
  NEXT();
L_BrIfEqz64:
  if (!fp[O(0)]) JUMP(1); else ADV(2);
  NEXT();
L_BrTable: {
  u32 i = static_cast<u32>(fp[O(0)]);
  u32 n = O(1);
  JUMP(2 + (i < n ? i : n));
  NEXT();
}
L_Return1:
  fp[0] = fp[O(0)];
  goto do_return;
L_Return2: {
  u64 a = fp[O(0)], b = fp[O(0) + 1];
  fp[0] = a;
  fp[1] = b;
  goto do_return;
}
L_ReturnN: {
  u32 src = O(0), n = O(1);
  for (u32 k = 0; k < n; ++k) fp[k] = fp[src + k];
  goto do_return;
}
L_Return0:
do_return: {
  Frame* f = --st->top;
  pc = f->ret;
  fp = f->fp;
  if (f->caller) {
    cf = f->caller;
    RELOAD_MEMORY();
  }
  NEXT();
}
L_Call:
  callee = P(Function*, 0);
  nfp = fp + O(2);
  ret = pc + instr_words(3);
  goto do_call;
L_CallIndirect: {
  callee = indirect_callee(P(Table*, 0), fp[O(3)], O(2));
  nfp = fp + O(4);
  ret = pc + instr_words(5);
  goto do_call;
}
do_call: {
  Frame* f = st->top;
  if (f == st->frames_end) trap(TrapKind::CallStackExhausted);
  f->ret = ret;
  f->fp = fp;
  f->func = callee;
  f->caller = cf;
  if (callee->host) {
    // Host code may re-enter invoke: give it the stack above this frame, and
    // no fault landing point of ours.
    st->top = f + 1;
    Store& store = st->store;
    uint64_t* saved_top = store.stack_top();
    sigjmp_buf* landing = st->landing;
    store.set_stack_top(fp + cf->frame_slots);
    st->landing = nullptr;
    HostCall call{store, cf->instance, nfp};
    callee->host->fn(call);
    st->landing = landing;
    store.set_stack_top(saved_top);
    st->top = f;
    RELOAD_MEMORY();
    pc = ret;
    NEXT();
  }
  CompiledFunction* ncf = callee->compiled;
  if (!ncf) ncf = compile(*st, callee);
  if (nfp + ncf->frame_slots > st->stack_limit) trap(TrapKind::CallStackExhausted);
  st->top = f + 1;
  for (uint64_t *l = nfp + ncf->param_slots, *e = l + ncf->local_slots; l != e; ++l) *l = 0;
  fp = nfp;
  cf = ncf;
  pc = ncf->code.data();
  RELOAD_MEMORY();
  NEXT();
}
L_ReturnCall:
  callee = P(Function*, 0);
  std::memmove(fp, fp + O(2), O(3) * sizeof(uint64_t));
  goto do_tail_call;
L_ReturnCallIndirect: {
  callee = indirect_callee(P(Table*, 0), fp[O(3)], O(2));
  std::memmove(fp, fp + O(4), O(5) * sizeof(uint64_t));
  goto do_tail_call;
}
do_tail_call: {
  if (callee->host) {
    // Run it as a call from this frame, then return its results.
    static Word after_host[1];
    after_host[0] = reinterpret_cast<Word>(&&L_Return0);
    nfp = fp;
    ret = after_host;
    goto do_call;
  }
  CompiledFunction* ncf = callee->compiled;
  if (!ncf) ncf = compile(*st, callee);
  if (fp + ncf->frame_slots > st->stack_limit) trap(TrapKind::CallStackExhausted);
  (st->top - 1)->func = callee;
  for (uint64_t *l = fp + ncf->param_slots, *e = l + ncf->local_slots; l != e; ++l) *l = 0;
  cf = ncf;
  pc = ncf->code.data();
  RELOAD_MEMORY();
  NEXT();
}
L_Fuel:
  if (--st->fuel < 0) trap(TrapKind::OutOfFuel);
  ADV(0);
  NEXT();
L_Throw: {
  auto e = std::make_unique<Exception>();
  e->tag = P(Tag*, 0);
  e->payload.assign(fp + O(2), fp + O(2) + O(3));
  exn = e.get();
  st->exceptions.push_back(std::move(e));
  goto do_throw;
}
L_ThrowRef:
  exn = reinterpret_cast<Exception*>(fp[O(0)]);
  if (!exn) trap(TrapKind::NullReference);
  goto do_throw;
do_throw: {
  // Unwind to the innermost handler; frames of callers are searched at
  // their call instruction.
  uint32_t p = static_cast<uint32_t>(pc - cf->code.data());
  for (;;) {
    if (const Handler* h = find_handler(cf, p, exn)) {
      if (h->payload_dst != kNoSlot)
        std::copy(exn->payload.begin(), exn->payload.end(), fp + h->payload_dst);
      if (h->exn_dst != kNoSlot) fp[h->exn_dst] = reinterpret_cast<Ref>(exn);
      pc = cf->code.data() + h->target;
      NEXT();
    }
    Frame* f = st->top - 1;
    if (!f->caller) throw Trap(TrapKind::UncaughtException);
    st->top = f;
    pc = f->ret;
    fp = f->fp;
    cf = f->caller;
    RELOAD_MEMORY();
    p = static_cast<uint32_t>(pc - cf->code.data()) - 1;
  }
}

  // --- values
L_Copy:
  fp[O(0)] = fp[O(1)];
  ADV(2);
  NEXT();
L_Copy2: {
  u64 a = fp[O(1)], b = fp[O(1) + 1];
  fp[O(0)] = a;
  fp[O(0) + 1] = b;
  ADV(2);
  NEXT();
}
L_Const32:
  fp[O(0)] = O(1);
  ADV(2);
  NEXT();
L_Const64:
  fp[O(0)] = load64(pc, 1);
  ADV(3);
  NEXT();
L_Const128:
  fp[O(0)] = load64(pc, 1);
  fp[O(0) + 1] = load64(pc, 3);
  ADV(5);
  NEXT();
L_Select:
  fp[O(0)] = static_cast<u32>(fp[O(1)]) ? fp[O(2)] : fp[O(3)];
  ADV(4);
  NEXT();
L_Select2: {
  u32 src = static_cast<u32>(fp[O(1)]) ? O(2) : O(3);
  u64 a = fp[src], b = fp[src + 1];
  fp[O(0)] = a;
  fp[O(0) + 1] = b;
  ADV(4);
  NEXT();
}
L_GlobalGet:
  fp[O(0)] = *P(uint64_t*, 1);
  ADV(3);
  NEXT();
L_GlobalGet2: {
  uint64_t* g = P(uint64_t*, 1);
  fp[O(0)] = g[0];
  fp[O(0) + 1] = g[1];
  ADV(3);
  NEXT();
}
L_GlobalSet:
  *P(uint64_t*, 1) = fp[O(0)];
  ADV(3);
  NEXT();
L_GlobalSet2: {
  uint64_t* g = P(uint64_t*, 1);
  g[0] = fp[O(0)];
  g[1] = fp[O(0) + 1];
  ADV(3);
  NEXT();
}

  // --- memory, tables, references
L_MemorySize:
  fp[O(0)] = P(Memory*, 1)->pages();
  ADV(3);
  NEXT();
L_MemoryGrow: {
  Memory* m = P(Memory*, 2);
  bool is64 = m->type().limits.is64;
  int64_t old = m->grow(index_of(is64, fp[O(1)]));
  fp[O(0)] = is64 ? static_cast<u64>(old) : static_cast<u32>(old);
  RELOAD_MEMORY();
  ADV(4);
  NEXT();
}
L_MemoryFill: {
  Memory* m = P(Memory*, 3);
  bool is64 = m->type().limits.is64;
  u64 d = index_of(is64, fp[O(0)]), n = index_of(is64, fp[O(2)]);
  if (!m->in_bounds(d, n)) trap(TrapKind::OutOfBoundsMemoryAccess);
  std::memset(m->data() + d, static_cast<u8>(fp[O(1)]), n);
  ADV(5);
  NEXT();
}
L_MemoryCopy: {
  Memory* dm = P(Memory*, 3);
  Memory* sm = P(Memory*, 5);
  bool d64 = dm->type().limits.is64, s64 = sm->type().limits.is64;
  u64 d = index_of(d64, fp[O(0)]), s = index_of(s64, fp[O(1)]), n = index_of(d64 && s64, fp[O(2)]);
  if (!dm->in_bounds(d, n) || !sm->in_bounds(s, n)) trap(TrapKind::OutOfBoundsMemoryAccess);
  std::memmove(dm->data() + d, sm->data() + s, n);
  ADV(7);
  NEXT();
}
L_MemoryInit: {
  Memory* m = P(Memory*, 3);
  Instance* inst = P(Instance*, 5);
  u32 seg = O(7);
  u64 d = index_of(m->type().limits.is64, fp[O(0)]);
  u64 s = static_cast<u32>(fp[O(1)]), n = static_cast<u32>(fp[O(2)]);
  std::span<const uint8_t> data;
  if (!inst->data_dropped[seg]) data = inst->module->range(inst->module->datas[seg].init);
  if (s + n > data.size() || !m->in_bounds(d, n)) trap(TrapKind::OutOfBoundsMemoryAccess);
  if (n) std::memcpy(m->data() + d, data.data() + s, n);
  ADV(8);
  NEXT();
}
L_DataDrop:
  P(Instance*, 0)->data_dropped[O(2)] = true;
  ADV(3);
  NEXT();
L_TableGet: {
  Table* t = P(Table*, 2);
  u64 i = index_of(t->type.limits.is64, fp[O(1)]);
  if (i >= t->elems.size()) trap(TrapKind::OutOfBoundsTableAccess);
  fp[O(0)] = t->elems[i];
  ADV(4);
  NEXT();
}
L_TableSet: {
  Table* t = P(Table*, 2);
  u64 i = index_of(t->type.limits.is64, fp[O(0)]);
  if (i >= t->elems.size()) trap(TrapKind::OutOfBoundsTableAccess);
  t->elems[i] = fp[O(1)];
  ADV(4);
  NEXT();
}
L_TableSize:
  fp[O(0)] = P(Table*, 1)->elems.size();
  ADV(3);
  NEXT();
L_TableGrow: {
  Table* t = P(Table*, 3);
  bool is64 = t->type.limits.is64;
  int64_t old = t->grow(index_of(is64, fp[O(2)]), fp[O(1)]);
  fp[O(0)] = is64 ? static_cast<u64>(old) : static_cast<u32>(old);
  ADV(5);
  NEXT();
}
L_TableFill: {
  Table* t = P(Table*, 3);
  bool is64 = t->type.limits.is64;
  u64 d = index_of(is64, fp[O(0)]), n = index_of(is64, fp[O(2)]);
  u64 size = t->elems.size();
  if (d > size || n > size - d) trap(TrapKind::OutOfBoundsTableAccess);
  std::fill_n(t->elems.begin() + d, n, fp[O(1)]);
  ADV(5);
  NEXT();
}
L_TableCopy: {
  Table* dt = P(Table*, 3);
  Table* tt = P(Table*, 5);
  bool d64 = dt->type.limits.is64, s64 = tt->type.limits.is64;
  u64 d = index_of(d64, fp[O(0)]), s = index_of(s64, fp[O(1)]), n = index_of(d64 && s64, fp[O(2)]);
  u64 dsize = dt->elems.size(), ssize = tt->elems.size();
  if (d > dsize || n > dsize - d || s > ssize || n > ssize - s) trap(TrapKind::OutOfBoundsTableAccess);
  if (n) std::memmove(dt->elems.data() + d, tt->elems.data() + s, n * sizeof(Ref));
  ADV(7);
  NEXT();
}
L_TableInit: {
  Table* t = P(Table*, 3);
  const std::vector<Ref>& e = P(Instance*, 5)->elems[O(7)];
  u64 d = index_of(t->type.limits.is64, fp[O(0)]);
  u64 s = static_cast<u32>(fp[O(1)]), n = static_cast<u32>(fp[O(2)]);
  u64 size = t->elems.size();
  if (s + n > e.size() || d > size || n > size - d) trap(TrapKind::OutOfBoundsTableAccess);
  std::copy_n(e.begin() + s, n, t->elems.begin() + d);
  ADV(8);
  NEXT();
}
L_ElemDrop:
  P(Instance*, 0)->elems[O(2)].clear();
  ADV(3);
  NEXT();
L_RefFunc:
  fp[O(0)] = reinterpret_cast<Ref>(P(Function*, 1));
  ADV(3);
  NEXT();

  // --- threads
L_AtomicLoad:
  fp[O(0)] = load_n(atomic_address(P(Memory*, 2), fp[O(1)], load64(pc, 4), O(6)), O(6));
  ADV(7);
  NEXT();
L_AtomicStore: {
  uint64_t v = fp[O(1)];
  std::memcpy(atomic_address(P(Memory*, 2), fp[O(0)], load64(pc, 4), O(6)), &v, O(6));
  ADV(7);
  NEXT();
}
L_AtomicRmw: {
  u32 w = O(7);
  uint8_t* p = atomic_address(P(Memory*, 3), fp[O(1)], load64(pc, 5), w);
  u64 old = load_n(p, w), v = fp[O(2)], r;
  switch (O(8)) {
    case 0: r = old + v; break;
    case 1: r = old - v; break;
    case 2: r = old & v; break;
    case 3: r = old | v; break;
    case 4: r = old ^ v; break;
    default: r = v; break;
  }
  std::memcpy(p, &r, w);
  fp[O(0)] = old;
  ADV(9);
  NEXT();
}
L_AtomicCmpxchg: {
  u32 w = O(8);
  uint8_t* p = atomic_address(P(Memory*, 4), fp[O(1)], load64(pc, 6), w);
  u64 old = load_n(p, w);
  if (old == (fp[O(2)] & width_mask(w))) {
    u64 r = fp[O(3)];
    std::memcpy(p, &r, w);
  }
  fp[O(0)] = old;
  ADV(9);
  NEXT();
}
L_AtomicNotify:
  // No other thread can be waiting.
  atomic_address(P(Memory*, 3), fp[O(1)], load64(pc, 5), 4);
  fp[O(0)] = 0;
  ADV(7);
  NEXT();
L_AtomicWait: {
  Memory* m = P(Memory*, 4);
  if (!m->type().limits.shared) trap(TrapKind::ExpectedSharedMemory);
  u32 w = O(8);
  uint8_t* p = atomic_address(m, fp[O(1)], load64(pc, 6), w);
  if (load_n(p, w) != (fp[O(2)] & width_mask(w))) {
    fp[O(0)] = 1;  // not-equal
  } else if (static_cast<i64>(fp[O(3)]) >= 0) {
    fp[O(0)] = 2;  // timed-out: nobody else can notify
  } else {
    throw Trap(TrapKind::Host, "wait without timeout on the only thread would never return");
  }
  ADV(9);
  NEXT();
}

  // --- numeric
#define UN(name, tin, tout, expr)                          \
  L_##name : {                                             \
    tin a = rd<tin>(fp, O(1));                             \
    wr<tout>(fp, O(0), static_cast<tout>(expr));           \
    ADV(2);                                                \
    NEXT();                                                \
  }
#define BIN(name, tin, tout, expr)                         \
  L_##name : {                                             \
    tin a = rd<tin>(fp, O(1));                             \
    tin b = rd<tin>(fp, O(2));                             \
    wr<tout>(fp, O(0), static_cast<tout>(expr));           \
    ADV(3);                                                \
    NEXT();                                                \
  }
#define BINI(name, tin, tout, expr)                        \
  BIN(name, tin, tout, expr)                               \
  L_##name##_I : {                                         \
    tin a = rd<tin>(fp, O(1));                             \
    tin b = static_cast<tin>(static_cast<i32>(O(2)));      \
    wr<tout>(fp, O(0), static_cast<tout>(expr));           \
    ADV(3);                                                \
    NEXT();                                                \
  }
#define CMP(name, t, expr, neg)                            \
  BINI(name, t, u32, expr)                                 \
  L_BrIf_##name : {                                        \
    t a = rd<t>(fp, O(0));                                 \
    t b = rd<t>(fp, O(1));                                 \
    if (expr) JUMP(2); else ADV(3);                        \
    NEXT();                                                \
  }                                                        \
  L_BrIf_##name##_I : {                                    \
    t a = rd<t>(fp, O(0));                                 \
    t b = static_cast<t>(static_cast<i32>(O(1)));          \
    if (expr) JUMP(2); else ADV(3);                        \
    NEXT();                                                \
  }
  // Guarded memory 0: the reservation covers any 32-bit address + offset.
#define LOAD(name, memt, outt)                                                   \
  L_##name : {                                                                   \
    memt v;                                                                      \
    std::memcpy(&v, mem + static_cast<u64>(static_cast<u32>(fp[O(1)])) + O(2), sizeof v); \
    wr<outt>(fp, O(0), static_cast<outt>(v));                                    \
    ADV(3);                                                                      \
    NEXT();                                                                      \
  }                                                                              \
  L_##name##_C : {                                                               \
    u64 ea = static_cast<u64>(static_cast<u32>(fp[O(1)])) + O(2);               \
    if (ea + sizeof(memt) > memsize) trap(TrapKind::OutOfBoundsMemoryAccess);    \
    memt v;                                                                      \
    std::memcpy(&v, mem + ea, sizeof v);                                         \
    wr<outt>(fp, O(0), static_cast<outt>(v));                                    \
    ADV(3);                                                                      \
    NEXT();                                                                      \
  }                                                                              \
  L_##name##_M : {                                                               \
    Memory* m = P(Memory*, 2);                                                   \
    u64 a = index_of(m->type().limits.is64, fp[O(1)]);                           \
    u64 ea = a + load64(pc, 4);                                                  \
    if (ea < a || !m->in_bounds(ea, sizeof(memt))) trap(TrapKind::OutOfBoundsMemoryAccess); \
    memt v;                                                                      \
    std::memcpy(&v, m->data() + ea, sizeof v);                                   \
    wr<outt>(fp, O(0), static_cast<outt>(v));                                    \
    ADV(6);                                                                      \
    NEXT();                                                                      \
  }
#define STORE(name, int_, memt)                                                  \
  L_##name : {                                                                   \
    memt v = static_cast<memt>(rd<int_>(fp, O(1)));                              \
    std::memcpy(mem + static_cast<u64>(static_cast<u32>(fp[O(0)])) + O(2), &v, sizeof v); \
    ADV(3);                                                                      \
    NEXT();                                                                      \
  }                                                                              \
  L_##name##_C : {                                                               \
    u64 ea = static_cast<u64>(static_cast<u32>(fp[O(0)])) + O(2);               \
    if (ea + sizeof(memt) > memsize) trap(TrapKind::OutOfBoundsMemoryAccess);    \
    memt v = static_cast<memt>(rd<int_>(fp, O(1)));                              \
    std::memcpy(mem + ea, &v, sizeof v);                                         \
    ADV(3);                                                                      \
    NEXT();                                                                      \
  }                                                                              \
  L_##name##_M : {                                                               \
    Memory* m = P(Memory*, 2);                                                   \
    u64 a = index_of(m->type().limits.is64, fp[O(0)]);                           \
    u64 ea = a + load64(pc, 4);                                                  \
    if (ea < a || !m->in_bounds(ea, sizeof(memt))) trap(TrapKind::OutOfBoundsMemoryAccess); \
    memt v = static_cast<memt>(rd<int_>(fp, O(1)));                              \
    std::memcpy(m->data() + ea, &v, sizeof v);                                   \
    ADV(6);                                                                      \
    NEXT();                                                                      \
  }
#define VLOAD(name, n, expr)                                                     \
  L_##name : {                                                                   \
    uint8_t* p = checked_address(P(Memory*, 2), fp[O(1)], load64(pc, 4), n);                                    \
    V128 v{};                                                                    \
    std::memcpy(v.bytes, p, n);                                                  \
    u64 x;                                                                       \
    std::memcpy(&x, v.bytes, 8);                                                 \
    wr<V128>(fp, O(0), expr);                                                    \
    ADV(6);                                                                      \
    NEXT();                                                                      \
  }
#define VLOAD_LANE(name, t)                                                      \
  L_##name : {                                                                   \
    uint8_t* p = checked_address(P(Memory*, 3), fp[O(1)], load64(pc, 5), sizeof(t)); \
    t x;                                                                         \
    std::memcpy(&x, p, sizeof x);                                                \
    wr<V128>(fp, O(0), simd::replace<t>(rd<V128>(fp, O(2)), O(7), x));           \
    ADV(8);                                                                      \
    NEXT();                                                                      \
  }
#define VSTORE_LANE(name, t)                                                     \
  L_##name : {                                                                   \
    uint8_t* p = checked_address(P(Memory*, 2), fp[O(0)], load64(pc, 4), sizeof(t)); \
    t x = static_cast<t>(simd::extract<t>(rd<V128>(fp, O(1)), O(6)));            \
    std::memcpy(p, &x, sizeof x);                                                \
    ADV(7);                                                                      \
    NEXT();                                                                      \
  }
#include "engine/interp_ops.def"

  // --- SIMD (lane semantics in simd.h)
#define SIMD_UNARY(name, fn)                                                     \
  L_##name:                                                                      \
  wr<V128>(fp, O(0), simd::fn(rd<V128>(fp, O(1))));                              \
  ADV(2);                                                                        \
  NEXT();
#define SIMD_BINARY(name, fn)                                                    \
  L_##name:                                                                      \
  wr<V128>(fp, O(0), simd::fn(rd<V128>(fp, O(1)), rd<V128>(fp, O(2))));          \
  ADV(3);                                                                        \
  NEXT();
#define SIMD_TERNARY(name, fn)                                                   \
  L_##name:                                                                      \
  wr<V128>(fp, O(0), simd::fn(rd<V128>(fp, O(1)), rd<V128>(fp, O(2)), rd<V128>(fp, O(3)))); \
  ADV(4);                                                                        \
  NEXT();
#define SIMD_SHIFT(name, fn)                                                     \
  L_##name:                                                                      \
  wr<V128>(fp, O(0), simd::fn(rd<V128>(fp, O(1)), rd<u32>(fp, O(2))));           \
  ADV(3);                                                                        \
  NEXT();
#define SIMD_TEST(name, fn)                                                      \
  L_##name:                                                                      \
  wr<u32>(fp, O(0), simd::fn(rd<V128>(fp, O(1))));                               \
  ADV(2);                                                                        \
  NEXT();
#define SIMD_SPLAT(name, fn)                                                     \
  L_##name:                                                                      \
  wr<V128>(fp, O(0), simd::fn(fp[O(1)]));                                        \
  ADV(2);                                                                        \
  NEXT();
#define SIMD_EXTRACT(name, fn)                                                   \
  L_##name:                                                                      \
  fp[O(0)] = simd::fn(rd<V128>(fp, O(1)), O(2));                                 \
  ADV(3);                                                                        \
  NEXT();
#define SIMD_REPLACE(name, fn)                                                   \
  L_##name:                                                                      \
  wr<V128>(fp, O(0), simd::fn(rd<V128>(fp, O(1)), O(3), fp[O(2)]));              \
  ADV(4);                                                                        \
  NEXT();
#define SIMD_SHUFFLE(name, fn)                                                   \
  L_##name : {                                                                   \
    uint8_t lanes[16];                                                           \
    std::memcpy(lanes, reinterpret_cast<const char*>(pc + 1) + 12, 16);          \
    wr<V128>(fp, O(0), simd::fn(rd<V128>(fp, O(1)), rd<V128>(fp, O(2)), lanes)); \
    ADV(7);                                                                      \
    NEXT();                                                                      \
  }
#include "engine/simd_ops.def"

#undef RELOAD_MEMORY
#undef NEXT
#undef O
#undef P
#undef ADV
#undef JUMP
}

}  // namespace

const void* const* handler_table() {
  static const void* const* table = [] {
    run(nullptr, nullptr, nullptr);
    g_exit_code[0] = reinterpret_cast<Word>(g_handlers[static_cast<size_t>(IOp::Exit)]);
    return g_handlers;
  }();
  return table;
}

Store::ExecState::ExecState(Store& s) : store(s) {
  uint32_t depth = s.limits().max_call_depth;
  frames.reset(new Frame[depth]);
  frames_end = frames.get() + depth;
  top = frames.get();
  stack_limit = s.stack_limit();
  fuel_enabled = s.limits().fuel != 0;
  fuel = static_cast<int64_t>(s.limits().fuel);
}

CallStacks::CallStacks(const StoreLimits& limits)
    : value_slots(limits.max_stack_bytes / sizeof(uint64_t)) {
  const size_t value_bytes = value_slots * sizeof(uint64_t);
  map_size_ = value_bytes + size_t{limits.max_call_depth} * sizeof(Frame);
  map_ = mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map_ == MAP_FAILED) throw std::bad_alloc();
  values = static_cast<uint64_t*>(map_);
  value_top = values;
  frames = reinterpret_cast<Frame*>(static_cast<char*>(map_) + value_bytes);
  frames_end = frames + limits.max_call_depth;
  frame_top = frames;
}

CallStacks::~CallStacks() { munmap(map_, map_size_); }

void swap_call_stacks(Store& store, CallStacks& s) {
  if (!store.exec) store.exec = std::make_unique<Store::ExecState>(store);
  Store::ExecState& st = *store.exec;
  std::swap(store.stack_begin_, s.values);
  std::swap(store.stack_slots_, s.value_slots);
  std::swap(store.stack_top_, s.value_top);
  std::swap(st.frames_end, s.frames_end);
  std::swap(st.top, s.frame_top);
  std::swap(st.landing, s.landing);
  st.stack_limit = store.stack_limit();
  std::swap(t_active, s.active);
}

void invoke(Store& store, Function* func, uint64_t* slots) {
  if (func->host) {
    HostCall call{store, nullptr, slots};
    func->host->fn(call);
    return;
  }
  if (!store.exec) store.exec = std::make_unique<Store::ExecState>(store);
  Store::ExecState& st = *store.exec;
  handler_table();
  if (!t_active) install_fault_handler();
  CompiledFunction* cf = func->compiled ? func->compiled : compile(st, func);

  Frame* const base = st.top;
  if (base == st.frames_end || slots + cf->frame_slots > st.stack_limit)
    throw Trap(TrapKind::CallStackExhausted);
  *base = {g_exit_code, nullptr, func, nullptr};
  st.top = base + 1;
  std::memset(slots + cf->param_slots, 0, cf->local_slots * sizeof(uint64_t));

  sigjmp_buf landing;
  sigjmp_buf* const outer_landing = st.landing;
  Store::ExecState* const outer_active = t_active;
  uint64_t* const stack_top = store.stack_top();
  auto leave = [&] {
    st.top = base;
    st.landing = outer_landing;
    t_active = outer_active;
    store.set_stack_top(stack_top);
  };
  if (sigsetjmp(landing, 0)) {
    Trap trap(TrapKind::OutOfBoundsMemoryAccess);
    add_backtrace(trap, base, st.top);
    leave();
    throw trap;
  }
  st.landing = &landing;
  t_active = &st;
  try {
    run(&st, cf->code.data(), slots);
  } catch (Trap& trap) {
    add_backtrace(trap, base, st.top);
    leave();
    throw;
  } catch (...) {
    leave();
    throw;
  }
  leave();
}

}  // namespace weft::engine
