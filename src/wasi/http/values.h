// wasi:http's variants that 0.2 and 0.3 share (method, scheme, error-code)
// as component values, built against the types the component declared.
#pragma once

#include <string>
#include <string_view>

#include "component/value.h"
#include "wasi/http/message.h"

namespace weft::wasi::http {

// The method variant for `method` as sent ("GET", or other's "PURGE").
component::Val method_val(const component::Type* t, std::string_view method);
// The method a method value names, as sent; other's string unchecked.
std::string method_of(const component::Val& v);
// The scheme variant for "http", "https" or other's scheme.
component::Val scheme_val(const component::Type* t, std::string_view scheme);

// The error-code value of `t` for `e`; payloads the host does not know
// (DNS-error's rcode, a size) are none.
component::Val error_code_val(const component::Type* t, const HttpError& e);
// What a guest's error-code value says (its case, and internal-error's
// message).
HttpError error_code_of(const component::Val& v);
// err(error-code) of a result<_, error-code> or result<T, error-code>.
component::Val error_result(const component::Type* t, const HttpError& e);

}  // namespace weft::wasi::http
