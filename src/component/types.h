// Component-level types (Explainer.md "Type Definitions"), interned once per
// component by a TypeStore: two structurally equal types are the same
// object, so type equality is a pointer comparison. Resource types are
// generative: every definition, `(sub resource)` import or instantiation
// makes a fresh one, which is equal only to itself.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "wasm/types.h"

namespace weft::component {

enum class TypeKind : uint8_t {
  // primvaltype
  Bool, S8, U8, S16, U16, S32, U32, S64, U64, F32, F64, Char, String, ErrorContext,
  // defvaltype
  Record, Variant, List, Tuple, Flags, Enum, Option, Result, Own, Borrow, Stream, Future, Map,
  // other deftypes
  Func, Resource, Component, Instance,
};
const char* to_string(TypeKind k);  // the spec's keyword: "record", "u32", ...

inline bool is_primitive(TypeKind k) { return k <= TypeKind::ErrorContext; }
inline bool is_value(TypeKind k) { return k <= TypeKind::Map; }

// The kinds of things a component can import or export (externdesc).
enum class ExternKind : uint8_t { CoreModule, Func, Value, Type, Component, Instance };
const char* to_string(ExternKind k);

struct Type;

// A core extern type, as a core module imports or exports it.
struct CoreExtern {
  wasm::ExternKind kind = wasm::ExternKind::Func;
  wasm::FuncType func;  // Func, and Tag (its parameter list)
  wasm::TableType table;
  wasm::MemoryType memory;
  wasm::GlobalType global;
};
std::string to_string(const CoreExtern& e);

// The type of a core module: what it imports and exports. Core types are
// small and compared structurally (core-subtyping of limits).
struct CoreModuleType {
  struct Import {
    std::string module, name;
    CoreExtern type;
  };
  std::vector<Import> imports;
  std::vector<std::pair<std::string, CoreExtern>> exports;
};

// The type of a core instance: its exports by name.
struct CoreInstanceType {
  std::vector<std::pair<std::string, CoreExtern>> exports;
  const CoreExtern* find(const std::string& name) const;
};

// externdesc: what an import or export is. For `Type`, `type` is the type the
// name stands for (a fresh resource for `(sub resource)`).
struct ExternDesc {
  ExternKind kind = ExternKind::Func;
  const Type* type = nullptr;                       // all but CoreModule
  std::shared_ptr<const CoreModuleType> module;  // CoreModule
};

struct Field {
  std::string label;
  const Type* type = nullptr;  // null for a variant case without payload
};

struct NamedExtern {
  std::string name;
  ExternDesc desc;
};

struct Type {
  TypeKind kind;
  uint32_t id = 0;  // unique within the store; resources: their identity

  std::vector<Field> fields;        // Record fields, Variant cases, Func params
  std::vector<std::string> labels;  // Flags, Enum
  std::vector<const Type*> elems;   // Tuple
  // List/Option/Stream/Future element (null for a bare stream/future), Result
  // ok, Own/Borrow resource, Map key; Func result (null if none).
  const Type* a = nullptr;
  const Type* b = nullptr;  // Result error, Map value
  uint32_t length = 0;      // fixed-size List (0 = variable)
  // Nonzero for the copy of a record/variant/enum/flags that a component
  // export introduces: equal in structure, but a type of its own for the
  // rules on naming exported types (see the validator's export_aliases).
  uint32_t nominal = 0;
  bool async = false;       // Func

  // Resource: representation and destructor (a core func index of the
  // defining component), absent for abstract (imported) resources.
  wasm::ValType rep = wasm::ValType::I32;
  std::optional<uint32_t> dtor;
  bool abstract = false;

  std::vector<NamedExtern> imports;  // Component
  std::vector<NamedExtern> exports;  // Component, Instance

  // Computed once when interned, so that checks over deep type DAGs stay
  // linear: whether a value type holds a borrow / any handle, and its
  // flattened core-value count (saturating at kFlatSaturate).
  bool has_borrow = false;
  bool has_handle = false;
  bool has_list = false;  // a string, list or map: lifting/lowering needs memory
  uint32_t flat_count = 0;
  uint32_t depth = 0;  // longest chain of child types; bounded by kMaxTypeDepth

  const ExternDesc* find_export(const std::string& name) const;
  const ExternDesc* find_import(const std::string& name) const;
};

// Owns and interns every type of one component (nested components share
// their root's store, so types flow between them by pointer).
class TypeStore {
 public:
  TypeStore();
  const Type* primitive(TypeKind k) const { return primitives_[static_cast<size_t>(k)]; }
  // Returns the canonical object for a structurally equal type; `t.id` is
  // assigned here. Resource types are not interned: use fresh_resource.
  const Type* intern(Type t);
  const Type* fresh_resource(wasm::ValType rep, std::optional<uint32_t> dtor, bool abstract);
  // A distinct copy of a record, variant, enum or flags type.
  const Type* nominal_copy(const Type* t);
  size_t size() const { return types_.size(); }
  // Instantiating adds types (fresh resources and the types built on
  // them). A server that instantiates one component again and again marks
  // the store first and rolls back to the mark once nothing that refers
  // to the newer types (a Runtime, its values) is left.
  struct Mark {
    size_t size = 0;
    uint32_t nominal_count = 0;
  };
  Mark mark() const { return {types_.size(), nominal_count_}; }
  void rollback(Mark m);

 private:
  std::string key(const Type& t) const;
  std::deque<Type> types_;
  std::unordered_map<std::string, const Type*> interned_;
  std::vector<const Type*> primitives_;
  uint32_t nominal_count_ = 0;
};

constexpr uint32_t kFlatSaturate = 1024;

// The canonical ABI's string-encoding option (Binary.md canonopt 0x00-0x02).
enum class StringEncoding : uint8_t { Utf8, Utf16, Latin1Utf16 };
// Deeper types are rejected, so that recursive walks stay within the stack.
constexpr uint32_t kMaxTypeDepth = 1000;
// Every resource type reachable from `t`.
void collect_resources(const Type* t, std::vector<const Type*>& out);

// Type substitution: maps abstract resources (and export copies of types) to
// the types that replace them (component instantiation, subtyping of types
// with `(sub resource)`).
using Substitution = std::unordered_map<const Type*, const Type*>;
// `t` with every resource in `s` replaced; `t` itself when nothing changes.
const Type* substitute(TypeStore& store, const Type* t, const Substitution& s);
ExternDesc substitute(TypeStore& store, const ExternDesc& d, const Substitution& s);

// Subtyping (Explainer.md "Subtyping"): is `sub` usable where `super` is
// expected? Abstract resources exported by `super` instance types are bound,
// in `s`, to the matching resources of `sub`. On failure `why` says what
// differs.
bool is_subtype(TypeStore& store, const ExternDesc& sub, const ExternDesc& super, Substitution& s,
                std::string& why);
bool core_is_subtype(const CoreExtern& sub, const CoreExtern& super);

// WIT-like rendering for messages and `weft wit`: "list<u32>", "own<r>".
std::string to_string(const Type* t);

}  // namespace weft::component
