// Import/export names (Explainer.md "Import and Export Definitions"): kebab
// labels, annotated plain names, interface names with semver versions, and
// the strong-uniqueness key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace weft::component {

// label ::= first-fragment ('-' fragment)*, kebab case with all-caps acronyms.
bool is_label(std::string_view s);
// The MAJOR.MINOR.PATCH[-pre][+build] of semver.org.
bool is_semver(std::string_view s);

struct ExternNameParts {
  enum class Kind : uint8_t { Label, Constructor, Method, Static, Interface } kind = Kind::Label;
  // Label: label; Constructor: resource; Method/Static: resource and label.
  std::string resource, label;
  // Interface `ns:pkg/iface@version`: nested namespaces/packages (🪺) are
  // kept joined, e.g. namespace "a:b" for `a:b:c/d`.
  std::string namespace_, package, interface, version;
};

// Parses an externname; nullopt if it is neither a valid plainname nor a
// valid interfacename.
std::optional<ExternNameParts> parse_extern_name(std::string_view name);

// Names that map to the same key are not strongly-unique: acronyms
// lowercased, `[method]l.l`/`[static]l.l` reduced to `l`, other annotations
// (but `[constructor]`) stripped.
std::string uniqueness_key(std::string_view name);

}  // namespace weft::component
