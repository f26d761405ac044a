// The textual values of `weft run --invoke`: parsing a call like
// `add(1, -2.5)` and printing results.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/value.h"

namespace weft::cli {

struct Invocation {
  std::string name;
  std::vector<std::string> args;  // literals, trimmed
};

// `name(arg, ...)`, or a bare `name` for a call without arguments. Throws
// Error(Usage).
Invocation parse_invocation(std::string_view text);

// One literal of type `type`: integers in decimal or 0x hex (negative
// allowed), floats in decimal or hex, `inf`, `nan`, `-0`; references only as
// `null`. Throws Error(Usage).
engine::Value parse_literal(std::string_view text, wasm::ValType type);

// Integers as signed decimal, floats as the shortest text that reads back to
// the same value (`1.5`, `-0`, `inf`, `nan`).
std::string format_value(const engine::Value& value);

}  // namespace weft::cli
