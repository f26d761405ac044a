// wasi:http values. The host knows an error-code case by its label; the
// payload it fills is internal-error's message, anything else is "unknown":
// none, or a record whose (optional) fields are all none.
#include "wasi/http/values.h"

#include <utility>

#include "component/host.h"
#include "engine/trap.h"

namespace weft::wasi::http {

namespace hv = component::host_values;
using component::Type;
using component::TypeKind;
using component::Val;

namespace {

// The method variant's cases other than `other`: label, and as sent.
constexpr std::pair<const char*, const char*> kMethods[] = {
    {"get", "GET"},         {"head", "HEAD"},     {"post", "POST"},
    {"put", "PUT"},         {"delete", "DELETE"}, {"connect", "CONNECT"},
    {"options", "OPTIONS"}, {"trace", "TRACE"},   {"patch", "PATCH"},
};

// The value of `t` that says nothing: none, or a record of nones (the
// payload records of error-code have only optional fields).
Val unknown(const Type* t) {
  if (t->kind == TypeKind::Record) {
    std::vector<Val> fields;
    for (const component::Field& f : t->fields) fields.push_back(unknown(f.type));
    return hv::record(t, std::move(fields));
  }
  return hv::none(t);
}

}  // namespace

Val method_val(const Type* t, std::string_view method) {
  for (auto [label, name] : kMethods)
    if (method == name) return hv::variant(t, label);
  return hv::variant(t, "other", hv::string(hv::case_type(t, "other"), std::string(method)));
}

std::string method_of(const Val& v) {
  std::string_view label = hv::case_label(v);
  if (label == "other") return hv::as_string(v.items.at(0));
  for (auto [l, name] : kMethods)
    if (label == l) return name;
  throw engine::Trap(engine::TrapKind::Host, "unknown method case " + std::string(label));
}

Val scheme_val(const Type* t, std::string_view scheme) {
  if (scheme == "http") return hv::variant(t, "HTTP");
  if (scheme == "https") return hv::variant(t, "HTTPS");
  return hv::variant(t, "other", hv::string(hv::case_type(t, "other"), std::string(scheme)));
}

Val error_code_val(const Type* t, const HttpError& e) {
  const Type* pt = hv::case_type(t, e.code);
  if (!pt) return hv::variant(t, e.code);
  if (e.code == "internal-error" && e.message)
    return hv::variant(t, e.code, hv::some(pt, hv::string(hv::element(pt), *e.message)));
  return hv::variant(t, e.code, unknown(pt));
}

HttpError error_code_of(const Val& v) {
  HttpError e{std::string(hv::case_label(v)), std::nullopt};
  if (e.code == "internal-error")
    if (const Val* m = hv::option(v.items.at(0))) e.message = hv::as_string(*m);
  return e;
}

Val error_result(const Type* t, const HttpError& e) { return hv::err(t, error_code_val(hv::err_type(t), e)); }

}  // namespace weft::wasi::http
