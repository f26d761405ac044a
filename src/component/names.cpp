#include "component/names.h"

#include <cctype>

namespace weft::component {

namespace {

bool lower(char c) { return c >= 'a' && c <= 'z'; }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }

// words ::= first-word ('-' word)*: lowercase only (namespaces, packages).
bool is_words(std::string_view s) {
  if (s.empty() || !lower(s[0])) return false;
  bool start = true;
  for (char c : s) {
    if (c == '-') {
      if (start) return false;
      start = true;
    } else if (lower(c) || digit(c)) {
      start = false;
    } else {
      return false;
    }
  }
  return !start;
}

bool numeric(std::string_view s, bool allow_leading_zero) {
  if (s.empty()) return false;
  for (char c : s)
    if (!digit(c)) return false;
  return allow_leading_zero || s.size() == 1 || s[0] != '0';
}

// Dot-separated identifiers of [0-9A-Za-z-]; `pre` forbids leading zeros in
// numeric ones.
bool identifiers(std::string_view s, bool pre) {
  if (s.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view id = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (id.empty()) return false;
    bool all_digits = true;
    for (char c : id) {
      if (!(lower(c) || upper(c) || digit(c) || c == '-')) return false;
      all_digits &= digit(c);
    }
    if (pre && all_digits && !numeric(id, false)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

bool is_label(std::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  bool first = true;
  while (true) {
    size_t dash = s.find('-', start);
    std::string_view frag = s.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
    if (frag.empty()) return false;
    bool is_lower = lower(frag[0]) || (!first && digit(frag[0]));
    bool is_upper = upper(frag[0]) || (!first && digit(frag[0]));
    if (!is_lower && !is_upper) return false;
    bool words = true, acronym = true;
    for (char c : frag) {
      words &= lower(c) || digit(c);
      acronym &= upper(c) || digit(c);
    }
    if (!words && !acronym) return false;
    if (dash == std::string_view::npos) return true;
    start = dash + 1;
    first = false;
  }
}

bool is_semver(std::string_view s) {
  size_t plus = s.find('+');
  if (plus != std::string_view::npos) {
    if (!identifiers(s.substr(plus + 1), false)) return false;
    s = s.substr(0, plus);
  }
  size_t dash = s.find('-');
  if (dash != std::string_view::npos) {
    if (!identifiers(s.substr(dash + 1), true)) return false;
    s = s.substr(0, dash);
  }
  for (int i = 0; i < 3; ++i) {
    size_t dot = s.find('.');
    if ((i < 2) != (dot != std::string_view::npos)) return false;
    if (!numeric(s.substr(0, dot), false)) return false;
    s = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  }
  return true;
}

std::optional<ExternNameParts> parse_extern_name(std::string_view name) {
  ExternNameParts p;
  auto prefixed = [&](std::string_view prefix) {
    if (name.substr(0, prefix.size()) != prefix) return false;
    name.remove_prefix(prefix.size());
    return true;
  };
  auto dotted = [&]() {
    size_t dot = name.find('.');
    if (dot == std::string_view::npos) return false;
    p.resource = name.substr(0, dot);
    p.label = name.substr(dot + 1);
    return is_label(p.resource) && is_label(p.label);
  };
  if (prefixed("[constructor]")) {
    p.kind = ExternNameParts::Kind::Constructor;
    p.resource = name;
    return is_label(name) ? std::optional(p) : std::nullopt;
  }
  if (prefixed("[method]")) {
    p.kind = ExternNameParts::Kind::Method;
    return dotted() ? std::optional(p) : std::nullopt;
  }
  if (prefixed("[static]")) {
    p.kind = ExternNameParts::Kind::Static;
    return dotted() ? std::optional(p) : std::nullopt;
  }
  if (is_label(name)) {
    p.label = name;
    return p;
  }
  // interfacename: (words ':')+ words ('/' label)+ ('@' version)?
  p.kind = ExternNameParts::Kind::Interface;
  size_t at = name.find('@');
  if (at != std::string_view::npos) {
    p.version = name.substr(at + 1);
    if (!is_semver(p.version)) return std::nullopt;
    name = name.substr(0, at);
  }
  size_t slash = name.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view path = name.substr(0, slash);
  std::string_view projections = name.substr(slash + 1);
  size_t colon = path.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  p.namespace_ = path.substr(0, colon);
  p.package = path.substr(colon + 1);
  p.interface = projections;
  // Nested namespaces and projections are 🪺-gated: one of each only.
  if (!is_words(p.namespace_) || !is_words(p.package) || !is_label(p.interface)) return std::nullopt;
  return p;
}

std::string uniqueness_key(std::string_view name) {
  std::string s(name);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view prefix : {"[method]", "[static]"}) {
    if (s.rfind(prefix, 0) != 0) continue;
    std::string rest = s.substr(prefix.size());
    size_t dot = rest.find('.');
    if (dot != std::string::npos && rest.substr(0, dot) == rest.substr(dot + 1)) return rest.substr(0, dot);
    return rest;
  }
  return s;
}

}  // namespace weft::component
