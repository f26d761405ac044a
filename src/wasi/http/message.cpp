// Field syntax (RFC 9110 section 5) and the fields only the host frames.
#include "wasi/http/message.h"

#include <algorithm>
#include <array>

namespace weft::wasi::http {

namespace {

// tchar: any VCHAR except the delimiters.
bool tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

bool valid_field_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return tchar(c); });
}

// field-vchar, SP and HTAB. Whitespace at either end is accepted: what a
// peer sent may have it (a field-value of only spaces is what the official
// test suite expects to round-trip), and the HTTP/1.1 writer sends it as is.
bool valid_field_value(std::string_view value) {
  return std::all_of(value.begin(), value.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
  });
}

bool valid_scheme(std::string_view s) {
  auto alpha = [](char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; };
  if (s.empty() || !alpha(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
  });
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool forbidden_field(std::string_view lower_name) {
  // Connection-specific fields (RFC 9110 section 7.6.1, RFC 9113 section
  // 8.2.2) and host, which the host derives from the request's authority.
  static constexpr std::array<std::string_view, 9> kForbidden = {"connection",
                                                                 "keep-alive",
                                                                 "proxy-authenticate",
                                                                 "proxy-authorization",
                                                                 "proxy-connection",
                                                                 "transfer-encoding",
                                                                 "upgrade",
                                                                 "http2-settings",
                                                                 "host"};
  return std::find(kForbidden.begin(), kForbidden.end(), lower_name) != kForbidden.end();
}

}  // namespace weft::wasi::http
