// WAVE, the WebAssembly Value Encoding (wasm-tools crates/wasm-wave): the
// text form of component values that `weft run --invoke 'f(args)'` reads
// and prints, as wasmtime's `--invoke` does.
//
// Parsing is typed: the expected component type decides how a token reads
// (`5` is a u8, or `some(5)` for an option<u8>, or `ok(5)` for a result<u8>).
// Errors throw weft::Error (ErrorKind::Usage) naming the column.
//
// Handles (own, borrow, stream, future, error-context) have no WAVE form yet.
// weft writes and reads them as `#own(3)`, `#borrow(3)`, `#stream(1)`,
// `#future(1)`, `#error-context(1)` (handle index): the `#` marks a weft
// extension that no WAVE value can start with. map<K, V> is not supported.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "component/types.h"
#include "component/value.h"

namespace weft::component {

// One value of `type` (a value type), surrounded only by whitespace and
// `//` comments.
Val parse_wave(std::string_view text, const Type* type);

// The function name of a call `name(arg, ...)`: a plain export name
// (`run`, `[method]res.name`, `[static]res.name`, `[constructor]res`),
// optionally qualified by the exporting interface, `wasi:cli/run@0.2.0#run`.
std::string wave_call_name(std::string_view call);

// The arguments of `name(arg, ...)` for `functype` (a Func type), in
// parameter order. Trailing option-typed arguments may be left out (they are
// `none`), as WAVE allows. The name goes to `name_out` when not null.
std::vector<Val> parse_wave_args(std::string_view call, const Type* functype, std::string* name_out);

// Canonical WAVE text: shortest round-trip floats, escapes only where needed
// or where a character would be invisible, `none` record fields left out.
// parse_wave(print_wave(v), v.type) equals v.
std::string print_wave(const Val& v);

// A call's results as wasmtime prints them: the value itself when there is
// one, else a parenthesized list (`()` for none).
std::string print_wave_results(std::span<const Val> results);

}  // namespace weft::component
