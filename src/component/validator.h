// Validation of decoded components (Explainer.md, Binary.md, and the
// "Canonical definitions" of CanonicalABI.md): index spaces per sort, type
// resolution and interning, alias/instantiation/import/export type checks
// (subtyping), canon lift/lower against core function types, resource rules
// and name rules. Errors throw weft::Error with ErrorKind::Invalid (embedded
// core module problems keep their own kind).
#pragma once

#include <memory>

#include "component/decoder.h"
#include "component/types.h"

namespace weft::component {

// A validated component: its type (imports and exports) and the store that
// owns every type it refers to.
struct ComponentInfo {
  std::shared_ptr<TypeStore> store;
  const Type* type = nullptr;  // TypeKind::Component
};

// `all_bodies`: validate every core function body as well (else they are
// left for the first call).
ComponentInfo validate(const Component& component, bool all_bodies);

// Core function type of a component function under the Canonical ABI
// (CanonicalABI.md flatten_functype); `lift` selects the context.
// Exposed for the runtime's lift/lower plans and for tests.
wasm::FuncType flatten_functype(const Type* func, bool lift, bool async, bool callback);

}  // namespace weft::component
