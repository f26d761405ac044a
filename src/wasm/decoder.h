// The core-module binary decoder: bytes in, a `Module` of sections out.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "wasm/module.h"

namespace weft::wasm {

// Decodes every section of a core module (wasm 2.0 plus multi-memory,
// memory64, threads, exception handling), accepting only what `features`
// enables. Throws weft::Error (Malformed, with the file offset) in the spec
// tests' words.
//
// Function bodies are not decoded here, only delimited: problems inside a
// body (unknown opcode, missing `end`, too many locals, memory.init without a
// data count section, bad immediates) are malformed by the spec, but they
// are found, and reported with ErrorKind::Malformed, by the validator when
// it walks the body. Constant expressions are walked up to their `end`, so
// an unknown opcode in one is reported here; their constness and types are
// checked by the validator.
std::shared_ptr<Module> decode_module(ByteBuffer bytes, const Features& features = {});

}  // namespace weft::wasm
