// Reading a module file from disk and turning it into a validated module.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wasm/module.h"

namespace weft::cli {

// A small input file (JSON script, component) as bytes. Throws Error(Io)
// "cannot read 'PATH': REASON". Modules to run use ByteBuffer::read_file.
std::vector<uint8_t> read_file(const std::string& path);

// Decodes and validates (function bodies too when `all_bodies`) against
// `features`. Throws Error(Malformed / Invalid) as the decoder and validator do.
std::shared_ptr<wasm::Module> load_module(ByteBuffer bytes, bool all_bodies,
                                          const wasm::Features& features);

}  // namespace weft::cli
