// Validation of decoded core modules, following the spec's validation rules
// and its algorithm appendix (operand and control stacks). Validation errors
// throw weft::Error with ErrorKind::Invalid; problems that only show up while
// reading a function body's bytes (unknown opcode, missing `end`) throw
// ErrorKind::Malformed. Offsets in errors are file offsets.
#pragma once

#include <cstdint>

#include "wasm/module.h"

namespace weft::wasm {

// Everything except function bodies: types, imports, exports, limits, start,
// constant expressions, element/data segments and tags.
void validate_module(const Module& module);

// One function body, by index among the defined (non-imported) functions.
// Assumes validate_module has succeeded. Cheap enough to run lazily on a
// function's first call.
void validate_function(const Module& module, uint32_t defined_index);

// validate_module, then every body when `all_bodies` is set.
void validate(const Module& module, bool all_bodies);

}  // namespace weft::wasm
