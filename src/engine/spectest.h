// The `spectest` host module that the core spec tests import from: print
// functions, constant globals, a table and memories, as the reference
// interpreter defines them.
#pragma once

#include <string>
#include <unordered_map>

#include "engine/store.h"

namespace weft::engine {

// Creates spectest's objects in `store` and returns its exports by name.
std::unordered_map<std::string, Extern> make_spectest(Store& store);

}  // namespace weft::engine
