// Constant expressions (global initializers, segment offsets, element
// expressions), evaluated while an instance is being built.
#pragma once

#include "engine/value.h"
#include "wasm/module.h"

namespace weft::engine {

struct Instance;

// Evaluates a validated constant expression of `inst`'s module. It may read
// inst.funcs (ref.func) and the globals allocated so far (global.get).
Value eval_const_expr(const Instance& inst, wasm::ConstExpr expr);

}  // namespace weft::engine
