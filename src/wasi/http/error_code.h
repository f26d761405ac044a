// wasi:http's error-code variant (the same cases in 0.2 and 0.3) as a
// component value, built against the type the component declared.
#pragma once

#include "component/value.h"
#include "wasi/http/message.h"

namespace weft::wasi::http {

// The error-code value of `t` for `e`; payloads the host does not know
// (DNS-error's rcode, a size) are none.
component::Val error_code_val(const component::Type* t, const HttpError& e);
// What a guest's error-code value says (its case, and internal-error's
// message).
HttpError error_code_of(const component::Val& v);

}  // namespace weft::wasi::http
