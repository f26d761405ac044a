// Translation of validated wasm function bodies into the interpreter's code
// (code.h): a register machine over frame slots, with local.get deferred,
// results written straight into locals, constants folded into immediates and
// compare+branch fused.
#pragma once

#include "engine/interpreter.h"

namespace weft::engine {

// Validates (first call only) and translates a wasm function, sets
// func->compiled and returns it. Validation failures throw weft::Error.
CompiledFunction* compile(Store::ExecState& st, Function* func);

}  // namespace weft::engine
