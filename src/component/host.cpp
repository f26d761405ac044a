#include "component/host.h"

#include <charconv>

#include "engine/trap.h"

namespace weft::component {

void HostInterface::func(std::string name, uint32_t params, HostFunction fn) {
  funcs_[std::move(name)] = Func{params, std::move(fn)};
}

std::shared_ptr<HostResource> HostInterface::resource(std::string name, std::function<void(uint32_t)> drop) {
  auto r = std::make_shared<HostResource>(HostResource{name, std::move(drop)});
  resources_[std::move(name)] = r;
  return r;
}

void HostInterface::use(std::shared_ptr<HostResource> r) { resources_[r->name] = std::move(r); }

const HostInterface::Func* HostInterface::find_func(std::string_view name) const {
  auto it = funcs_.find(name);
  return it == funcs_.end() ? nullptr : &it->second;
}

const HostResource* HostInterface::find_resource(std::string_view name) const {
  auto it = resources_.find(name);
  return it == resources_.end() ? nullptr : it->second.get();
}

namespace {

// MAJOR.MINOR of a semver, ignoring patch, pre-release and build.
bool major_minor(std::string_view v, uint64_t& major, uint64_t& minor) {
  const char* end = v.data() + v.size();
  auto r = std::from_chars(v.data(), end, major);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != '.') return false;
  r = std::from_chars(r.ptr + 1, end, minor);
  return r.ec == std::errc();
}

}  // namespace

bool semver_compatible(std::string_view a, std::string_view b) {
  uint64_t amaj, amin, bmaj, bmin;
  if (!major_minor(a, amaj, amin) || !major_minor(b, bmaj, bmin)) return a == b;
  return amaj == bmaj && (amaj != 0 || amin == bmin);
}

HostInterface& Host::add(std::string name, std::string version) {
  auto& entries = interfaces_[std::move(name)];
  for (auto& e : entries)
    if (e->version == version) return e->iface;
  entries.push_back(std::make_unique<Entry>());
  entries.back()->version = std::move(version);
  return entries.back()->iface;
}

const HostInterface* Host::find(std::string_view import_name) const {
  size_t at = import_name.find('@');
  std::string_view name = import_name.substr(0, at);
  auto it = interfaces_.find(name);
  if (it == interfaces_.end()) return nullptr;
  if (at == std::string_view::npos) return &it->second.back()->iface;
  std::string_view version = import_name.substr(at + 1);
  for (const auto& e : it->second)
    if (semver_compatible(e->version, version)) return &e->iface;
  return nullptr;
}

namespace host_values {

namespace {

[[noreturn]] void mismatch(const Type* t, const char* expected) {
  throw engine::Trap(engine::TrapKind::Host, std::string("host: the component's import type has ") +
                                                 (t ? to_string(t) : "nothing") + " where the host expects " +
                                                 expected);
}

const Type* expect(const Type* t, TypeKind k) {
  if (!t || t->kind != k) mismatch(t, to_string(k));
  return t;
}

size_t field_index(const Type* t, std::string_view label) {
  for (size_t i = 0; i < t->fields.size(); ++i)
    if (t->fields[i].label == label) return i;
  mismatch(t, std::string(label).c_str());
}

size_t label_index(const Type* t, std::string_view label) {
  for (size_t i = 0; i < t->labels.size(); ++i)
    if (t->labels[i] == label) return i;
  mismatch(t, std::string(label).c_str());
}

bool is_scalar(TypeKind k) {
  return k <= TypeKind::U64 || k == TypeKind::Char || k == TypeKind::Own || k == TypeKind::Borrow;
}

}  // namespace

Val scalar(const Type* t, uint64_t bits) {
  if (!t || !is_scalar(t->kind)) mismatch(t, "an integer or handle");
  Val v;
  v.type = t;
  v.bits = bits;
  return v;
}

Val float64(const Type* t, double d) {
  if (!t || (t->kind != TypeKind::F32 && t->kind != TypeKind::F64)) mismatch(t, "a float");
  Val v;
  v.type = t;
  v.f64 = d;
  return v;
}

Val string(const Type* t, std::string s) {
  Val v;
  v.type = expect(t, TypeKind::String);
  v.str = std::move(s);
  return v;
}

Val bytes(const Type* t, std::string_view data) {
  if (!t || !holds_bytes(t)) mismatch(t, "list<u8>");
  Val v;
  v.type = t;
  v.str.assign(data);
  return v;
}

Val list(const Type* t, std::vector<Val> items) {
  Val v;
  v.type = expect(t, TypeKind::List);
  if (holds_bytes(t)) mismatch(t, "a list of other than u8 (list<u8> is built with bytes())");
  for (const Val& i : items)
    if (i.type != t->a) mismatch(t->a, "the list's element");
  v.items = std::move(items);
  return v;
}

Val record(const Type* t, std::vector<Val> fields) {
  Val v;
  v.type = expect(t, TypeKind::Record);
  if (fields.size() != t->fields.size()) mismatch(t, "a record of another size");
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].type != t->fields[i].type) mismatch(t->fields[i].type, "another field type");
  v.items = std::move(fields);
  return v;
}

Val tuple(const Type* t, std::vector<Val> elems) {
  Val v;
  v.type = expect(t, TypeKind::Tuple);
  if (elems.size() != t->elems.size()) mismatch(t, "a tuple of another size");
  for (size_t i = 0; i < elems.size(); ++i)
    if (elems[i].type != t->elems[i]) mismatch(t->elems[i], "another element type");
  v.items = std::move(elems);
  return v;
}

Val enum_case(const Type* t, std::string_view label) {
  Val v;
  v.type = expect(t, TypeKind::Enum);
  v.case_index = static_cast<uint32_t>(label_index(t, label));
  return v;
}

Val variant(const Type* t, std::string_view label, std::optional<Val> payload) {
  Val v;
  v.type = expect(t, TypeKind::Variant);
  v.case_index = static_cast<uint32_t>(field_index(t, label));
  const Type* pt = t->fields[v.case_index].type;
  if ((pt != nullptr) != payload.has_value() || (payload && payload->type != pt))
    mismatch(pt, "another payload");
  if (payload) v.items.push_back(std::move(*payload));
  return v;
}

Val flags(const Type* t, std::span<const std::string_view> set) {
  Val v;
  v.type = expect(t, TypeKind::Flags);
  v.flags.assign((t->labels.size() + 31) / 32, 0);
  for (std::string_view l : set) {
    size_t i = label_index(t, l);
    v.flags[i / 32] |= uint32_t{1} << (i % 32);
  }
  return v;
}

Val none(const Type* t) {
  Val v;
  v.type = expect(t, TypeKind::Option);
  return v;
}

Val some(const Type* t, Val x) {
  Val v;
  v.type = expect(t, TypeKind::Option);
  if (x.type != t->a) mismatch(t->a, "another option payload");
  v.case_index = 1;
  v.items.push_back(std::move(x));
  return v;
}

namespace {

Val result_case(const Type* t, uint32_t index, std::optional<Val> x) {
  Val v;
  v.type = expect(t, TypeKind::Result);
  const Type* pt = index == 0 ? t->a : t->b;
  if ((pt != nullptr) != x.has_value() || (x && x->type != pt)) mismatch(pt, "another result payload");
  v.case_index = index;
  if (x) v.items.push_back(std::move(*x));
  return v;
}

}  // namespace

Val ok(const Type* t, std::optional<Val> x) { return result_case(t, 0, std::move(x)); }
Val err(const Type* t, std::optional<Val> x) { return result_case(t, 1, std::move(x)); }

const Type* element(const Type* t) {
  if (!t || (t->kind != TypeKind::Option && t->kind != TypeKind::List)) mismatch(t, "an option or list");
  return t->a;
}
const Type* ok_type(const Type* t) { return expect(t, TypeKind::Result)->a; }
const Type* err_type(const Type* t) { return expect(t, TypeKind::Result)->b; }
const Type* field_type(const Type* t, std::string_view label) {
  return t->fields[field_index(expect(t, TypeKind::Record), label)].type;
}
const Type* case_type(const Type* t, std::string_view label) {
  return t->fields[field_index(expect(t, TypeKind::Variant), label)].type;
}
const Type* tuple_type(const Type* t, size_t i) {
  expect(t, TypeKind::Tuple);
  if (i >= t->elems.size()) mismatch(t, "a longer tuple");
  return t->elems[i];
}

uint64_t as_uint(const Val& v) {
  if (!v.type || !is_scalar(v.type->kind)) mismatch(v.type, "an integer or handle");
  return v.bits;
}

const std::string& as_string(const Val& v) { return expect(v.type, TypeKind::String), v.str; }

std::string_view as_bytes(const Val& v) {
  if (!v.type || !holds_bytes(v.type)) mismatch(v.type, "list<u8>");
  return v.str;
}

const Val& field(const Val& v, std::string_view label) {
  return v.items.at(field_index(expect(v.type, TypeKind::Record), label));
}

const Val* option(const Val& v) {
  expect(v.type, TypeKind::Option);
  return v.case_index ? &v.items.at(0) : nullptr;
}

std::string_view case_label(const Val& v) {
  if (v.type && v.type->kind == TypeKind::Variant) return v.type->fields.at(v.case_index).label;
  return expect(v.type, TypeKind::Enum)->labels.at(v.case_index);
}

bool has_flag(const Val& v, std::string_view label) {
  size_t i = label_index(expect(v.type, TypeKind::Flags), label);
  return i / 32 < v.flags.size() && (v.flags[i / 32] >> (i % 32)) & 1;
}

}  // namespace host_values

}  // namespace weft::component
