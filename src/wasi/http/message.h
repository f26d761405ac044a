// HTTP messages as the wasi:http hosts (0.2 and 0.3) and the HTTP/1.1
// server and client in this directory share them: heads, fields, and the
// error-code of wasi:http, which is the same variant in both versions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wasi/common/byte_stream.h"

namespace weft::wasi::http {

using common::ByteSink;
using common::ByteSource;
using common::Errno;

// Header or trailer fields in the order they came; names in lower case
// (HTTP field names are case-insensitive), values as sent.
using Fields = std::vector<std::pair<std::string, std::string>>;

// A wasi:http error-code: `code` is the variant's case label as the WIT
// spells it ("connection-refused", "HTTP-protocol-error",
// "internal-error"); `message` is internal-error's payload. Cases with a
// record or size payload are given with their fields unset.
struct HttpError {
  std::string code;
  std::optional<std::string> message;
};

// A request as the server received it or the client sends it.
struct RequestHead {
  std::string method;           // as sent: "GET", "POST", "PATCH", ...
  std::string scheme = "http";  // "http" or "https"
  std::string authority;        // host[:port]: the Host header on the server side
  std::string path_with_query;  // origin form: "/a/b?c=d"
  Fields headers;
};

struct ResponseHead {
  uint16_t status = 200;
  Fields headers;
};

// Field names and values as RFC 9110 allows them: a name is a token; a
// value has no CR, LF or NUL (surrounding whitespace is kept as given:
// wasi:http hands fields back unchanged).
bool valid_field_name(std::string_view name);
bool valid_field_value(std::string_view value);
// RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool valid_scheme(std::string_view scheme);
// A status code a response may carry (100-599).
inline bool valid_status(uint64_t status) { return status >= 100 && status <= 599; }
// ASCII lower case (field names, schemes).
std::string to_lower(std::string_view s);
// Hop-by-hop fields a guest may not set (connection, keep-alive,
// transfer-encoding, upgrade, ...): the server and client own framing.
bool forbidden_field(std::string_view lower_name);

}  // namespace weft::wasi::http
