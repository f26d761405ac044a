#include "component/canonical.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "base/utf8.h"
#include "component/strings.h"

namespace weft::component {

using engine::Trap;
using engine::TrapKind;
using wasm::ValType;

namespace {

constexpr uint32_t CANONICAL_FLOAT32_NAN = 0x7fc00000;
constexpr uint64_t CANONICAL_FLOAT64_NAN = 0x7ff8000000000000;

uint64_t align_to(uint64_t ptr, uint32_t alignment) { return (ptr + alignment - 1) / alignment * alignment; }

uint32_t flags_words(uint32_t labels) { return (labels + 31) / 32; }

Shape shape_of(TypeKind k) {
  switch (k) {
    case TypeKind::Bool: return Shape::Bool;
    case TypeKind::S8: return Shape::S8;
    case TypeKind::U8: return Shape::U8;
    case TypeKind::S16: return Shape::S16;
    case TypeKind::U16: return Shape::U16;
    case TypeKind::S32: return Shape::S32;
    case TypeKind::U32: return Shape::U32;
    case TypeKind::S64: return Shape::S64;
    case TypeKind::U64: return Shape::U64;
    case TypeKind::F32: return Shape::F32;
    case TypeKind::F64: return Shape::F64;
    case TypeKind::Char: return Shape::Char;
    case TypeKind::String: return Shape::String;
    case TypeKind::ErrorContext: return Shape::ErrorContext;
    case TypeKind::Record:
    case TypeKind::Tuple: return Shape::Record;
    case TypeKind::Variant:
    case TypeKind::Enum:
    case TypeKind::Option:
    case TypeKind::Result: return Shape::Variant;
    case TypeKind::List:
    case TypeKind::Map: return Shape::List;
    case TypeKind::Flags: return Shape::Flags;
    case TypeKind::Own: return Shape::Own;
    case TypeKind::Borrow: return Shape::Borrow;
    case TypeKind::Stream: return Shape::Stream;
    case TypeKind::Future: return Shape::Future;
    default: throw std::logic_error(std::string("canonical ABI: not a value type: ") + to_string(k));
  }
}

}  // namespace

// ---- Layout ---------------------------------------------------------------

uint32_t discriminant_size(size_t case_count) {
  if (case_count <= (size_t{1} << 8)) return 1;
  if (case_count <= (size_t{1} << 16)) return 2;
  return 4;
}

ValType join(ValType a, ValType b) {
  if (a == b) return a;
  if ((a == ValType::I32 && b == ValType::F32) || (a == ValType::F32 && b == ValType::I32)) return ValType::I32;
  return ValType::I64;
}

const Layout* Layouts::of(const Type* t, bool memory64) {
  auto it = cache_.find({t, memory64});
  if (it != cache_.end()) return it->second;
  const Layout* l = build(t, memory64);
  cache_[{t, memory64}] = l;
  return l;
}

const Layout* Layouts::tuple(const std::vector<const Layout*>& types) {
  auto& l = owned_.emplace_back(std::make_unique<Layout>());
  l->shape = Shape::Record;
  return record(types, *l);
}

Layout* Layouts::record(const std::vector<const Layout*>& fields, Layout& out) {
  uint64_t s = 0;
  out.align = 1;
  for (const Layout* f : fields) {
    s = align_to(s, f->align);
    out.offsets.push_back(static_cast<uint32_t>(s));
    s += f->size;
    out.align = std::max(out.align, f->align);
    out.flat.insert(out.flat.end(), f->flat.begin(), f->flat.end());
  }
  out.size = static_cast<uint32_t>(align_to(s, out.align));
  out.children = fields;
  return &out;
}

const Layout* Layouts::build(const Type* t, bool memory64) {
  auto& owned = owned_.emplace_back(std::make_unique<Layout>());
  Layout& l = *owned;
  l.type = t;
  l.shape = shape_of(t->kind);
  const uint32_t ps = memory64 ? 8 : 4;
  const ValType pt = memory64 ? ValType::I64 : ValType::I32;
  auto scalar = [&](uint32_t size, ValType flat) {
    l.size = l.align = size;
    l.flat = {flat};
  };
  switch (l.shape) {
    case Shape::Bool:
    case Shape::S8:
    case Shape::U8: scalar(1, ValType::I32); break;
    case Shape::S16:
    case Shape::U16: scalar(2, ValType::I32); break;
    case Shape::S32:
    case Shape::U32:
    case Shape::Char:
    case Shape::Own:
    case Shape::Borrow:
    case Shape::Stream:
    case Shape::Future:
    case Shape::ErrorContext: scalar(4, ValType::I32); break;
    case Shape::S64:
    case Shape::U64: scalar(8, ValType::I64); break;
    case Shape::F32: scalar(4, ValType::F32); break;
    case Shape::F64: scalar(8, ValType::F64); break;
    case Shape::String:
      l.size = 2 * ps;
      l.align = ps;
      l.flat = {pt, pt};
      break;
    case Shape::List: {
      const Layout* elem;
      if (t->kind == TypeKind::Map) {
        l.map = true;
        elem = tuple({of(t->a, memory64), of(t->b, memory64)});
      } else {
        elem = of(t->a, memory64);
        l.bytes = holds_bytes(t);
      }
      l.children = {elem};
      l.length = t->length;
      if (l.length) {
        l.align = elem->align;
        l.size = l.length * elem->size;
        for (uint32_t i = 0; i < l.length; ++i) l.flat.insert(l.flat.end(), elem->flat.begin(), elem->flat.end());
      } else {
        l.size = 2 * ps;
        l.align = ps;
        l.flat = {pt, pt};
      }
      break;
    }
    case Shape::Record: {
      std::vector<const Layout*> fields;
      if (t->kind == TypeKind::Tuple) {
        for (const Type* e : t->elems) fields.push_back(of(e, memory64));
      } else {
        for (const Field& f : t->fields) fields.push_back(of(f.type, memory64));
      }
      record(fields, l);
      break;
    }
    case Shape::Variant: {
      std::vector<const Type*> cases;
      switch (t->kind) {
        case TypeKind::Variant:
          for (const Field& f : t->fields) cases.push_back(f.type);
          break;
        case TypeKind::Enum: cases.assign(t->labels.size(), nullptr); break;
        case TypeKind::Option: cases = {nullptr, t->a}; break;
        default: cases = {t->a, t->b}; break;  // Result: ok, error
      }
      l.disc_size = discriminant_size(cases.size());
      uint32_t max_case_align = 1, max_case_size = 0;
      std::vector<ValType> payload;
      for (const Type* c : cases) {
        const Layout* cl = c ? of(c, memory64) : nullptr;
        l.children.push_back(cl);
        if (!cl) continue;
        max_case_align = std::max(max_case_align, cl->align);
        max_case_size = std::max(max_case_size, cl->size);
        for (size_t i = 0; i < cl->flat.size(); ++i) {
          if (i < payload.size()) {
            payload[i] = join(payload[i], cl->flat[i]);
          } else {
            payload.push_back(cl->flat[i]);
          }
        }
      }
      l.align = std::max(l.disc_size, max_case_align);
      l.payload_offset = static_cast<uint32_t>(align_to(l.disc_size, max_case_align));
      l.size = static_cast<uint32_t>(align_to(l.payload_offset + max_case_size, l.align));
      l.flat = {ValType::I32};
      l.flat.insert(l.flat.end(), payload.begin(), payload.end());
      break;
    }
    case Shape::Flags: {
      l.label_count = static_cast<uint32_t>(t->labels.size());
      // Up to 32 labels as the spec has it; more (older spec versions) as
      // one u32 per 32 labels.
      l.size = l.label_count <= 8 ? 1 : l.label_count <= 16 ? 2 : 4 * flags_words(l.label_count);
      l.align = std::min<uint32_t>(l.size, 4);
      l.flat.assign(flags_words(l.label_count), ValType::I32);
      break;
    }
  }
  return &l;
}

uint32_t alignment(const Type* t, bool memory64) { return Layouts().of(t, memory64)->align; }
uint32_t elem_size(const Type* t, bool memory64) { return Layouts().of(t, memory64)->size; }
std::vector<ValType> flatten_type(const Type* t, bool memory64) { return Layouts().of(t, memory64)->flat; }

// ---- Plans ------------------------------------------------------------------

namespace {

ValuesPlan values_plan(Layouts& layouts, std::vector<const Type*> types, bool memory64, uint32_t max_flat) {
  ValuesPlan p;
  for (const Type* t : types) {
    p.types.push_back(layouts.of(t, memory64));
    p.flat.insert(p.flat.end(), p.types.back()->flat.begin(), p.types.back()->flat.end());
  }
  if (p.flat.size() > max_flat) p.tuple = layouts.tuple(p.types);
  return p;
}

std::vector<const Type*> param_types(const Type* ft) {
  std::vector<const Type*> ts;
  for (const Field& f : ft->fields) ts.push_back(f.type);
  return ts;
}

std::vector<const Type*> result_types(const Type* ft) {
  if (!ft->a) return {};
  return {ft->a};
}

}  // namespace

CanonPlan make_canon_plan(Layouts& layouts, const Type* func, const CanonOptions& opts, CanonContext context) {
  CanonPlan plan;
  plan.func = func;
  plan.opts = opts;
  plan.context = context;
  const bool m64 = opts.memory64();
  const ValType pt = m64 ? ValType::I64 : ValType::I32;
  // An async lower passes its parameters flat only up to
  // MAX_FLAT_ASYNC_PARAMS and its results always through a pointer; an async
  // lift returns through task.return (whose parameters `results` then
  // plans), its core result the callback code.
  const bool async_lower = opts.async && context == CanonContext::Lower;
  const bool async_lift = opts.async && context == CanonContext::Lift;
  plan.params = values_plan(layouts, param_types(func), m64, async_lower ? MAX_FLAT_ASYNC_PARAMS : MAX_FLAT_PARAMS);
  plan.results = values_plan(layouts, result_types(func), m64,
                             async_lower ? 0 : async_lift ? MAX_FLAT_PARAMS : MAX_FLAT_RESULTS);
  plan.core_type.params = plan.params.spilled() ? std::vector<ValType>{pt} : plan.params.flat;
  if (opts.async) {
    if (async_lower) {
      if (plan.results.spilled()) plan.core_type.params.push_back(pt);
      plan.core_type.results = {ValType::I32};
    } else if (opts.callback) {
      plan.core_type.results = {ValType::I32};
    }
  } else if (!plan.results.spilled()) {
    plan.core_type.results = plan.results.flat;
  } else if (context == CanonContext::Lift) {
    plan.core_type.results = {pt};
  } else {
    plan.core_type.params.push_back(pt);
  }
  return plan;
}

wasm::FuncType flatten_functype(Layouts& layouts, const Type* ft, const CanonOptions& opts, CanonContext context) {
  return make_canon_plan(layouts, ft, opts, context).core_type;
}

// ---- Context and core values ------------------------------------------------

namespace {

engine::Value core_value(ValType t, uint64_t slot) {
  switch (t) {
    case ValType::I32: return engine::Value::make_i32(static_cast<uint32_t>(slot));
    case ValType::F32: return engine::Value::make_f32_bits(static_cast<uint32_t>(slot));
    case ValType::F64: return engine::Value::make_f64_bits(slot);
    default: return engine::Value::make_i64(slot);
  }
}

}  // namespace

uint64_t LiftLowerContext::reallocate(uint64_t old_ptr, uint64_t old_size, uint32_t align, uint64_t new_size) {
  trap_if(!opts.realloc, "canonical ABI: no realloc option to allocate with");
  const bool m64 = opts.memory64();
  const ValType pt = m64 ? ValType::I64 : ValType::I32;
  engine::Value args[4] = {core_value(pt, old_ptr), core_value(pt, old_size), core_value(pt, align),
                           core_value(pt, new_size)};
  std::vector<engine::Value> r = store.call(opts.realloc, args);
  trap_if(r.size() != 1 || r[0].type != pt, "realloc: unexpected result type");
  uint64_t ptr = m64 ? r[0].i64 : r[0].i32;
  trap_if(ptr % align != 0, "realloc return: result not aligned");
  trap_if(!opts.memory->in_bounds(ptr, new_size), "realloc return: beyond end of memory");
  return ptr;
}

uint64_t CoreValueIter::next() {
  if (i_ == slots_.size()) trap("canonical ABI: too few core values");
  return slots_[i_++];
}

// ---- Loading ------------------------------------------------------------------

namespace {

uint64_t load_int(LiftLowerContext& cx, uint64_t ptr, uint32_t nbytes) {
  uint64_t v = 0;
  std::memcpy(&v, cx.opts.memory->data() + ptr, nbytes);  // little-endian host
  return v;
}

void store_int(LiftLowerContext& cx, uint64_t v, uint64_t ptr, uint32_t nbytes) {
  std::memcpy(cx.opts.memory->data() + ptr, &v, nbytes);
}

uint32_t ptr_size(LiftLowerContext& cx) { return cx.opts.memory64() ? 8 : 4; }

uint64_t sign_extend(uint64_t v, unsigned bits) {
  unsigned shift = 64 - bits;
  return static_cast<uint64_t>(static_cast<int64_t>(v << shift) >> shift);
}

double decode_i32_as_float(uint32_t i) {
  float f = std::bit_cast<float>(i);
  return std::isnan(f) ? static_cast<double>(std::bit_cast<float>(CANONICAL_FLOAT32_NAN)) : f;
}

double decode_i64_as_float(uint64_t i) {
  double d = std::bit_cast<double>(i);
  return std::isnan(d) ? std::bit_cast<double>(CANONICAL_FLOAT64_NAN) : d;
}

// Deterministic profile: NaNs leave as the canonical NaN.
uint32_t encode_float_as_i32(double d) {
  float f = static_cast<float>(d);
  return std::isnan(f) ? CANONICAL_FLOAT32_NAN : std::bit_cast<uint32_t>(f);
}

uint64_t encode_float_as_i64(double d) { return std::isnan(d) ? CANONICAL_FLOAT64_NAN : std::bit_cast<uint64_t>(d); }

uint64_t convert_i32_to_char(uint32_t i) {
  trap_if(i >= 0x110000 || (i >= 0xd800 && i <= 0xdfff), "invalid `char` bit pattern");
  return i;
}

uint64_t tag_of(LiftLowerContext& cx) { return cx.opts.memory64() ? UTF16_TAG_64 : UTF16_TAG; }

void memory_required(LiftLowerContext& cx) {
  trap_if(!cx.opts.memory, "canonical ABI: no memory option");
}

std::string load_string_from_range(LiftLowerContext& cx, uint64_t ptr, uint64_t tagged_code_units) {
  memory_required(cx);
  enum { Utf8, Utf16, Latin1 } encoding = Utf8;
  uint32_t align = 1;
  uint64_t units = tagged_code_units;
  switch (cx.opts.string_encoding) {
    case StringEncoding::Utf8: break;
    case StringEncoding::Utf16:
      align = 2;
      encoding = Utf16;
      break;
    case StringEncoding::Latin1Utf16:
      align = 2;
      if (tagged_code_units & tag_of(cx)) {
        units = tagged_code_units ^ tag_of(cx);
        encoding = Utf16;
      } else {
        encoding = Latin1;
      }
      break;
  }
  trap_if(units > (encoding == Utf16 ? MAX_STRING_BYTE_LENGTH / 2 : MAX_STRING_BYTE_LENGTH),
          "string byte length exceeds the maximum");
  uint64_t byte_length = encoding == Utf16 ? 2 * units : units;
  trap_if(ptr % align != 0, "unaligned pointer");
  trap_if(!cx.opts.memory->in_bounds(ptr, byte_length), "string content out-of-bounds");
  const uint8_t* p = cx.opts.memory->data() + ptr;
  std::string s;
  switch (encoding) {
    case Utf8:
      trap_if(!utf8::valid({p, byte_length}), "invalid utf-8");
      s.assign(reinterpret_cast<const char*>(p), byte_length);
      break;
    case Utf16: trap_if(!utf16_to_utf8(p, units, s), "invalid utf-16"); break;
    case Latin1: latin1_to_utf8(p, units, s); break;
  }
  return s;
}

void append_list_elem(Val& list, Val&& e, bool map) {
  if (map) {
    for (Val& kv : e.items) list.items.push_back(std::move(kv));
  } else {
    list.items.push_back(std::move(e));
  }
}

void load_list_from_valid_range(LiftLowerContext& cx, uint64_t ptr, uint64_t length, const Layout& list, Val& v) {
  if (list.bytes) {
    v.str.assign(reinterpret_cast<const char*>(cx.opts.memory->data() + ptr), length);
    return;
  }
  const Layout& elem = *list.children[0];
  v.items.reserve(list.map ? 2 * length : length);
  for (uint64_t i = 0; i < length; ++i) append_list_elem(v, load(cx, ptr + i * elem.size, elem), list.map);
}

void load_list_from_range(LiftLowerContext& cx, uint64_t ptr, uint64_t length, const Layout& list, Val& v) {
  memory_required(cx);
  const Layout& elem = *list.children[0];
  trap_if(elem.size && length > MAX_LIST_BYTE_LENGTH / elem.size, "list byte length exceeds the maximum");
  trap_if(ptr % elem.align != 0, "unaligned pointer");
  trap_if(!cx.opts.memory->in_bounds(ptr, length * elem.size), "list content out-of-bounds");
  load_list_from_valid_range(cx, ptr, length, list, v);
}

void unpack_flags(const uint32_t* words, uint32_t labels, Val& v) {
  v.flags.assign(words, words + flags_words(labels));
  if (labels % 32) v.flags.back() &= (uint32_t{1} << (labels % 32)) - 1;
}

uint64_t lift_handle(LiftLowerContext& cx, Shape shape, uint32_t i, const Type* t) {
  if (cx.hooks && shape == Shape::Own) return cx.hooks->lift_own(i, t);
  if (cx.hooks && shape == Shape::Borrow) return cx.hooks->lift_borrow(i, t);
  if (cx.hooks && (shape == Shape::Stream || shape == Shape::Future)) return cx.hooks->lift_async_value(i, t);
  if (cx.hooks && shape == Shape::ErrorContext) return cx.hooks->lift_error_context(i);
  return i;
}

uint32_t lower_handle(LiftLowerContext& cx, Shape shape, uint64_t bits, const Type* t) {
  if (cx.hooks && shape == Shape::Own) return cx.hooks->lower_own(bits, t);
  if (cx.hooks && shape == Shape::Borrow) return cx.hooks->lower_borrow(bits, t);
  if (cx.hooks && (shape == Shape::Stream || shape == Shape::Future)) return cx.hooks->lower_async_value(bits, t);
  if (cx.hooks && shape == Shape::ErrorContext) return cx.hooks->lower_error_context(bits);
  return static_cast<uint32_t>(bits);
}

}  // namespace

Val load(LiftLowerContext& cx, uint64_t ptr, const Layout& t) {
  Val v;
  v.type = t.type;
  switch (t.shape) {
    case Shape::Bool: v.bits = load_int(cx, ptr, 1) != 0; break;
    case Shape::U8:
    case Shape::U16:
    case Shape::U32:
    case Shape::U64: v.bits = load_int(cx, ptr, t.size); break;
    case Shape::S8:
    case Shape::S16:
    case Shape::S32:
    case Shape::S64: v.bits = sign_extend(load_int(cx, ptr, t.size), 8 * t.size); break;
    case Shape::F32: v.f64 = decode_i32_as_float(static_cast<uint32_t>(load_int(cx, ptr, 4))); break;
    case Shape::F64: v.f64 = decode_i64_as_float(load_int(cx, ptr, 8)); break;
    case Shape::Char: v.bits = convert_i32_to_char(static_cast<uint32_t>(load_int(cx, ptr, 4))); break;
    case Shape::String: {
      uint32_t ps = ptr_size(cx);
      v.str = load_string_from_range(cx, load_int(cx, ptr, ps), load_int(cx, ptr + ps, ps));
      break;
    }
    case Shape::List:
      if (t.length) {
        load_list_from_valid_range(cx, ptr, t.length, t, v);
      } else {
        uint32_t ps = ptr_size(cx);
        load_list_from_range(cx, load_int(cx, ptr, ps), load_int(cx, ptr + ps, ps), t, v);
      }
      break;
    case Shape::Record:
      v.items.reserve(t.children.size());
      for (size_t i = 0; i < t.children.size(); ++i) v.items.push_back(load(cx, ptr + t.offsets[i], *t.children[i]));
      break;
    case Shape::Variant: {
      uint64_t case_index = load_int(cx, ptr, t.disc_size);
      trap_if(case_index >= t.children.size(), "invalid variant discriminant");
      v.case_index = static_cast<uint32_t>(case_index);
      if (const Layout* c = t.children[case_index]) v.items.push_back(load(cx, ptr + t.payload_offset, *c));
      break;
    }
    case Shape::Flags: {
      std::vector<uint32_t> words((t.size + 3) / 4);
      std::memcpy(words.data(), cx.opts.memory->data() + ptr, t.size);
      unpack_flags(words.data(), t.label_count, v);
      break;
    }
    case Shape::Own:
    case Shape::Borrow:
    case Shape::Stream:
    case Shape::Future:
    case Shape::ErrorContext:
      v.bits = lift_handle(cx, t.shape, static_cast<uint32_t>(load_int(cx, ptr, 4)), t.type);
      break;
  }
  return v;
}

// ---- Storing --------------------------------------------------------------------

namespace {

const Val* payload_of(const Val& v, const Layout& t) {
  trap_if(v.case_index >= t.children.size(), "invalid variant discriminant");
  if (!t.children[v.case_index]) return nullptr;
  trap_if(v.items.size() != 1, "canonical ABI: variant case value without its payload");
  return &v.items[0];
}

uint32_t char_to_i32(uint64_t c) {
  // Host-made values are checked too: a bad char must not reach a guest.
  return static_cast<uint32_t>(convert_i32_to_char(c > 0xffffffff ? 0xffffffff : static_cast<uint32_t>(c)));
}

std::pair<uint64_t, uint64_t> store_string_copy(LiftLowerContext& cx, const std::string& s) {
  uint64_t ptr = cx.allocate(1, s.size());
  std::memcpy(cx.opts.memory->data() + ptr, s.data(), s.size());
  return {ptr, s.size()};
}

std::pair<uint64_t, uint64_t> store_utf8_to_utf16(LiftLowerContext& cx, const std::string& s) {
  uint64_t worst_case_size = 2 * s.size();
  uint64_t ptr = cx.allocate(2, worst_case_size);
  uint8_t* p = cx.opts.memory->data() + ptr;
  uint64_t units = 0;
  for (size_t i = 0; i < s.size();) units += put_utf16(p + 2 * units, next_code_point(s, i));
  if (2 * units < worst_case_size) ptr = cx.reallocate(ptr, worst_case_size, 2, 2 * units);
  return {ptr, units};
}

std::pair<uint64_t, uint64_t> store_string_to_latin1_or_utf16(LiftLowerContext& cx, const std::string& s) {
  uint64_t src_code_units = s.size();
  uint64_t ptr = cx.allocate(2, src_code_units);
  uint64_t dst_byte_length = 0;
  for (size_t i = 0; i < s.size();) {
    size_t at = i;
    char32_t c = next_code_point(s, i);
    if (c < 0x100) {
      cx.opts.memory->data()[ptr + dst_byte_length++] = static_cast<uint8_t>(c);
      continue;
    }
    // The first code point beyond latin-1: inflate what is there to UTF-16
    // and encode the rest as UTF-16.
    uint64_t worst_case_size = 2 * src_code_units;
    ptr = cx.reallocate(ptr, src_code_units, 2, worst_case_size);
    uint8_t* p = cx.opts.memory->data() + ptr;
    for (uint64_t j = dst_byte_length; j-- > 0;) {
      p[2 * j] = p[j];
      p[2 * j + 1] = 0;
    }
    uint64_t units = dst_byte_length;
    for (i = at; i < s.size();) units += put_utf16(p + 2 * units, next_code_point(s, i));
    if (worst_case_size > 2 * units) ptr = cx.reallocate(ptr, worst_case_size, 2, 2 * units);
    return {ptr, units | tag_of(cx)};
  }
  if (dst_byte_length < src_code_units) ptr = cx.reallocate(ptr, src_code_units, 2, dst_byte_length);
  return {ptr, dst_byte_length};
}

// Val strings are UTF-8, so the source encoding is always utf8.
std::pair<uint64_t, uint64_t> store_string_into_range(LiftLowerContext& cx, const std::string& s) {
  memory_required(cx);
  trap_if(s.size() > MAX_STRING_BYTE_LENGTH, "string length overflow");
  switch (cx.opts.string_encoding) {
    case StringEncoding::Utf8: return store_string_copy(cx, s);
    case StringEncoding::Utf16: return store_utf8_to_utf16(cx, s);
    case StringEncoding::Latin1Utf16: return store_string_to_latin1_or_utf16(cx, s);
  }
  return {};
}

uint64_t list_length(const Val& v, const Layout& list) {
  if (list.bytes) {
    trap_if(!v.items.empty(), "canonical ABI: a list<u8> value keeps its bytes in str, not in items");
    return v.str.size();
  }
  if (!list.map) return v.items.size();
  trap_if(v.items.size() % 2 != 0, "canonical ABI: map value with a key but no value");
  return v.items.size() / 2;
}

void store_fields(LiftLowerContext& cx, std::span<const Val> items, const Layout& t, uint64_t ptr);

// The first `length` elements of `list`, from `ptr` on (in bounds).
void store_list_elems(LiftLowerContext& cx, const Val& list, const Layout& t, uint64_t length, uint64_t ptr) {
  if (t.bytes) {
    if (length) std::memcpy(cx.opts.memory->data() + ptr, list.str.data(), length);
    return;
  }
  const Layout& elem = *t.children[0];
  for (uint64_t i = 0; i < length; ++i) {
    uint64_t at = ptr + i * elem.size;
    if (t.map) {
      store_fields(cx, std::span<const Val>(list.items).subspan(2 * i, 2), elem, at);
    } else {
      store(cx, list.items[i], elem, at);
    }
  }
}

std::pair<uint64_t, uint64_t> store_list_into_range(LiftLowerContext& cx, const Val& v, const Layout& t) {
  memory_required(cx);
  const Layout& elem = *t.children[0];
  uint64_t length = list_length(v, t);
  trap_if(elem.size && length > MAX_LIST_BYTE_LENGTH / elem.size, "list length overflow");
  uint64_t ptr = cx.allocate(elem.align, length * elem.size);
  store_list_elems(cx, v, t, length, ptr);
  return {ptr, length};
}

void store_fields(LiftLowerContext& cx, std::span<const Val> items, const Layout& t, uint64_t ptr) {
  trap_if(items.size() != t.children.size(), "canonical ABI: wrong number of record fields");
  for (size_t i = 0; i < items.size(); ++i) store(cx, items[i], *t.children[i], ptr + t.offsets[i]);
}

uint32_t flags_word(const Val& v, uint32_t labels, uint32_t i) {
  uint32_t w = i < v.flags.size() ? v.flags[i] : 0;
  uint32_t bits = labels - 32 * i;
  return bits >= 32 ? w : w & ((uint32_t{1} << bits) - 1);
}

}  // namespace

void store(LiftLowerContext& cx, const Val& v, const Layout& t, uint64_t ptr) {
  switch (t.shape) {
    case Shape::Bool: store_int(cx, v.bits != 0, ptr, 1); break;
    case Shape::S8:
    case Shape::U8:
    case Shape::S16:
    case Shape::U16:
    case Shape::S32:
    case Shape::U32:
    case Shape::S64:
    case Shape::U64: store_int(cx, v.bits, ptr, t.size); break;
    case Shape::F32: store_int(cx, encode_float_as_i32(v.f64), ptr, 4); break;
    case Shape::F64: store_int(cx, encode_float_as_i64(v.f64), ptr, 8); break;
    case Shape::Char: store_int(cx, char_to_i32(v.bits), ptr, 4); break;
    case Shape::String: {
      auto [begin, tagged_code_units] = store_string_into_range(cx, v.str);
      uint32_t ps = ptr_size(cx);
      store_int(cx, begin, ptr, ps);
      store_int(cx, tagged_code_units, ptr + ps, ps);
      break;
    }
    case Shape::List:
      if (t.length) {
        trap_if(list_length(v, t) != t.length, "canonical ABI: fixed-size list of the wrong length");
        store_list_elems(cx, v, t, t.length, ptr);
      } else {
        auto [begin, length] = store_list_into_range(cx, v, t);
        uint32_t ps = ptr_size(cx);
        store_int(cx, begin, ptr, ps);
        store_int(cx, length, ptr + ps, ps);
      }
      break;
    case Shape::Record: store_fields(cx, v.items, t, ptr); break;
    case Shape::Variant: {
      const Val* payload = payload_of(v, t);
      store_int(cx, v.case_index, ptr, t.disc_size);
      if (payload) store(cx, *payload, *t.children[v.case_index], ptr + t.payload_offset);
      break;
    }
    case Shape::Flags:
      if (t.size <= 4) {
        store_int(cx, flags_word(v, t.label_count, 0), ptr, t.size);
      } else {
        for (uint32_t i = 0; i < t.size / 4; ++i) store_int(cx, flags_word(v, t.label_count, i), ptr + 4 * i, 4);
      }
      break;
    case Shape::Own:
    case Shape::Borrow:
    case Shape::Stream:
    case Shape::Future:
    case Shape::ErrorContext: store_int(cx, lower_handle(cx, t.shape, v.bits, t.type), ptr, 4); break;
  }
}

// ---- Flat lifting and lowering --------------------------------------------------

Val lift_flat(LiftLowerContext& cx, CoreValueIter& vi, const Layout& t) {
  Val v;
  v.type = t.type;
  // i32-typed values take the low 32 bits of their slot: that is also the
  // wrap_i64_to_i32 / f32 coercion of a joined variant payload slot.
  auto i32 = [&] { return static_cast<uint32_t>(vi.next()); };
  auto ptr = [&] { return cx.opts.memory64() ? vi.next() : i32(); };
  switch (t.shape) {
    case Shape::Bool: v.bits = i32() != 0; break;
    case Shape::U8:
    case Shape::U16: v.bits = i32() & ((uint32_t{1} << (8 * t.size)) - 1); break;
    case Shape::U32: v.bits = i32(); break;
    case Shape::U64:
    case Shape::S64: v.bits = vi.next(); break;
    case Shape::S8:
    case Shape::S16:
    case Shape::S32: v.bits = sign_extend(i32(), 8 * t.size); break;
    case Shape::F32: v.f64 = decode_i32_as_float(i32()); break;
    case Shape::F64: v.f64 = decode_i64_as_float(vi.next()); break;
    case Shape::Char: v.bits = convert_i32_to_char(i32()); break;
    case Shape::String: {
      uint64_t p = ptr();
      v.str = load_string_from_range(cx, p, ptr());
      break;
    }
    case Shape::List:
      if (t.length && t.bytes) {
        v.str.reserve(t.length);
        for (uint32_t i = 0; i < t.length; ++i) v.str += static_cast<char>(i32());
      } else if (t.length) {
        for (uint32_t i = 0; i < t.length; ++i) append_list_elem(v, lift_flat(cx, vi, *t.children[0]), t.map);
      } else {
        uint64_t p = ptr();
        load_list_from_range(cx, p, ptr(), t, v);
      }
      break;
    case Shape::Record:
      v.items.reserve(t.children.size());
      for (const Layout* f : t.children) v.items.push_back(lift_flat(cx, vi, *f));
      break;
    case Shape::Variant: {
      uint32_t case_index = i32();
      trap_if(case_index >= t.children.size(), "invalid variant discriminant");
      v.case_index = case_index;
      size_t used = 0;
      if (const Layout* c = t.children[case_index]) {
        v.items.push_back(lift_flat(cx, vi, *c));
        used = c->flat.size();
      }
      for (size_t i = used + 1; i < t.flat.size(); ++i) vi.next();
      break;
    }
    case Shape::Flags: {
      std::vector<uint32_t> words(t.flat.size());
      for (uint32_t& w : words) w = i32();
      unpack_flags(words.data(), t.label_count, v);
      break;
    }
    case Shape::Own:
    case Shape::Borrow:
    case Shape::Stream:
    case Shape::Future:
    case Shape::ErrorContext: v.bits = lift_handle(cx, t.shape, i32(), t.type); break;
  }
  return v;
}

namespace {

void lower_flat_fields(LiftLowerContext& cx, std::span<const Val> items, const Layout& t, std::vector<uint64_t>& out) {
  trap_if(items.size() != t.children.size(), "canonical ABI: wrong number of record fields");
  for (size_t i = 0; i < items.size(); ++i) lower_flat(cx, items[i], *t.children[i], out);
}

}  // namespace

// Slots hold i32 and f32 zero-extended, so a payload slot needs no
// conversion to its joined type (f32->i32, i32->i64, f32->i64, f64->i64 are
// all bit-preserving here).
void lower_flat(LiftLowerContext& cx, const Val& v, const Layout& t, std::vector<uint64_t>& out) {
  const uint64_t mask32 = 0xffffffff;
  switch (t.shape) {
    case Shape::Bool: out.push_back(v.bits != 0); break;
    case Shape::S8:
    case Shape::U8:
    case Shape::S16:
    case Shape::U16:
    case Shape::S32:
    case Shape::U32: out.push_back(v.bits & mask32); break;
    case Shape::S64:
    case Shape::U64: out.push_back(v.bits); break;
    case Shape::F32: out.push_back(encode_float_as_i32(v.f64)); break;
    case Shape::F64: out.push_back(encode_float_as_i64(v.f64)); break;
    case Shape::Char: out.push_back(char_to_i32(v.bits)); break;
    case Shape::String: {
      auto [ptr, tagged_code_units] = store_string_into_range(cx, v.str);
      out.push_back(ptr);
      out.push_back(tagged_code_units);
      break;
    }
    case Shape::List:
      if (t.length) {
        trap_if(list_length(v, t) != t.length, "canonical ABI: fixed-size list of the wrong length");
        for (uint32_t i = 0; i < t.length; ++i) {
          if (t.bytes) {
            out.push_back(static_cast<uint8_t>(v.str[i]));
          } else if (t.map) {
            lower_flat_fields(cx, std::span<const Val>(v.items).subspan(2 * i, 2), *t.children[0], out);
          } else {
            lower_flat(cx, v.items[i], *t.children[0], out);
          }
        }
      } else {
        auto [ptr, length] = store_list_into_range(cx, v, t);
        out.push_back(ptr);
        out.push_back(length);
      }
      break;
    case Shape::Record: lower_flat_fields(cx, v.items, t, out); break;
    case Shape::Variant: {
      const Val* payload = payload_of(v, t);
      size_t start = out.size();
      out.push_back(v.case_index);
      if (payload) lower_flat(cx, *payload, *t.children[v.case_index], out);
      out.resize(start + t.flat.size(), 0);
      break;
    }
    case Shape::Flags:
      for (uint32_t i = 0; i < t.flat.size(); ++i) out.push_back(flags_word(v, t.label_count, i));
      break;
    case Shape::Own:
    case Shape::Borrow:
    case Shape::Stream:
    case Shape::Future:
    case Shape::ErrorContext: out.push_back(lower_handle(cx, t.shape, v.bits, t.type)); break;
  }
}

// ---- Function-level values -------------------------------------------------------

namespace {

void check_tuple_range(LiftLowerContext& cx, uint64_t ptr, const Layout& tuple) {
  memory_required(cx);
  trap_if(ptr % tuple.align != 0, "unaligned pointer");
  trap_if(!cx.opts.memory->in_bounds(ptr, tuple.size), "pointer out of bounds of memory");
}

}  // namespace

std::vector<Val> lift_values(LiftLowerContext& cx, const ValuesPlan& plan, CoreValueIter& vi) {
  std::vector<Val> vals;
  vals.reserve(plan.types.size());
  if (plan.spilled()) {
    uint64_t ptr = cx.opts.memory64() ? vi.next() : static_cast<uint32_t>(vi.next());
    check_tuple_range(cx, ptr, *plan.tuple);
    for (size_t i = 0; i < plan.types.size(); ++i) vals.push_back(load(cx, ptr + plan.tuple->offsets[i], *plan.types[i]));
  } else {
    for (const Layout* t : plan.types) vals.push_back(lift_flat(cx, vi, *t));
  }
  return vals;
}

std::vector<uint64_t> lower_values(LiftLowerContext& cx, const ValuesPlan& plan, std::span<const Val> vals,
                                   std::optional<uint64_t> out_param) {
  trap_if(vals.size() != plan.types.size(), "canonical ABI: wrong number of values");
  std::vector<uint64_t> flat;
  if (!plan.spilled()) {
    flat.reserve(plan.flat.size());
    for (size_t i = 0; i < vals.size(); ++i) lower_flat(cx, vals[i], *plan.types[i], flat);
    return flat;
  }
  uint64_t ptr;
  if (out_param) {
    ptr = *out_param;
  } else {
    ptr = cx.allocate(plan.tuple->align, plan.tuple->size);
    flat.push_back(ptr);
  }
  check_tuple_range(cx, ptr, *plan.tuple);
  store_fields(cx, vals, *plan.tuple, ptr);
  return flat;
}

void post_return(engine::Store& store, const CanonPlan& plan, std::span<const uint64_t> flat_results) {
  if (!plan.opts.post_return) return;
  std::vector<engine::Value> args;
  for (size_t i = 0; i < plan.core_type.results.size() && i < flat_results.size(); ++i)
    args.push_back(core_value(plan.core_type.results[i], flat_results[i]));
  store.call(plan.opts.post_return, args);
}

}  // namespace weft::component
