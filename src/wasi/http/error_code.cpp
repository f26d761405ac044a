// wasi:http error-code values. The host knows a case by its label; the
// payload it fills is internal-error's message, anything else is "unknown":
// none, or a record whose (optional) fields are all none.
#include "wasi/http/error_code.h"

#include "component/host.h"

namespace weft::wasi::http {

namespace hv = component::host_values;
using component::Type;
using component::TypeKind;
using component::Val;

namespace {

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

}  // namespace weft::wasi::http
