// The component binary format (Binary.md): bytes in, a `Component` of
// definitions out, in section order (index spaces are built from that order
// by the validator). Type definitions stay syntactic here, with indices
// unresolved; the validator resolves and interns them.
//
// Embedded core modules are decoded eagerly with wasm::decode_module: the
// validator needs their import and export types to check core
// instantiations anyway, and decoding only delimits function bodies, so it
// stays cheap; the bodies are still validated lazily unless asked.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "component/types.h"
#include "wasm/module.h"

namespace weft::component {

// sort (Binary.md "Instance Definitions"): core sorts first.
enum class Sort : uint8_t {
  CoreFunc, CoreTable, CoreMemory, CoreGlobal, CoreTag, CoreType, CoreModule, CoreInstance,
  Func, Value, Type, Component, Instance,
};
const char* to_string(Sort s);  // "core func", "instance", ...
inline bool is_core(Sort s) { return s <= Sort::CoreInstance; }

struct SortIdx {
  Sort sort = Sort::Func;
  uint32_t index = 0;
};

// valtype: a primitive value type or a type index.
struct ValTypeRef {
  std::optional<uint32_t> index;
  TypeKind primitive = TypeKind::Bool;
};

struct Labeled {
  std::string label;
  std::optional<ValTypeRef> type;
};

// A core extern type as written in a core module type (indices unresolved).
struct CoreExternDecl {
  wasm::ExternKind kind = wasm::ExternKind::Func;
  uint32_t type_index = 0;  // Func, Tag
  wasm::TableType table;
  wasm::MemoryType memory;
  wasm::GlobalType global;
};

struct CoreTypeDef;

struct CoreModuleDecl {
  enum class Kind : uint8_t { Import, Type, Alias, Export } kind = Kind::Import;
  std::string module, name;  // Import: both; Export: name
  CoreExternDecl desc;       // Import, Export
  std::shared_ptr<CoreTypeDef> type;  // Type
  uint32_t outer_count = 0, outer_index = 0;  // Alias (outer core type)
  size_t offset = 0;
};

// core:type: a core function type or a module type.
struct CoreTypeDef {
  bool is_module = false;
  wasm::FuncType func;
  std::vector<CoreModuleDecl> decls;
  size_t offset = 0;
};

struct AliasDef {
  enum class Target : uint8_t { Export, CoreExport, Outer };
  Sort sort = Sort::Func;
  Target target = Target::Export;
  uint32_t instance = 0;  // Export/CoreExport: the instance; Outer: the count
  uint32_t index = 0;     // Outer
  std::string name;       // Export/CoreExport
  size_t offset = 0;
};

// externdesc as written.
struct ExternTypeRef {
  ExternKind kind = ExternKind::Func;
  uint32_t index = 0;          // the type (core type for CoreModule)
  bool sub_resource = false;   // Type: `(sub resource)` rather than `(eq index)`
  std::optional<ValTypeRef> value;  // Value with a type bound
};

// An import or export name with its attributes (nameattributes).
struct ExternName {
  std::string name;
  std::optional<std::string> implements;  // 🏷️
  std::optional<std::string> version_suffix;  // 🔗
  std::optional<std::string> external_id;  // 🏷️
};

struct TypeDef;

struct Decl {
  enum class Kind : uint8_t { CoreType, Type, Alias, Import, Export } kind = Kind::Type;
  std::shared_ptr<CoreTypeDef> core_type;
  std::shared_ptr<TypeDef> type;
  AliasDef alias;
  ExternName name;  // Import, Export
  ExternTypeRef desc;
  size_t offset = 0;
};

// deftype, with the `kind` saying which production.
struct TypeDef {
  TypeKind kind = TypeKind::Bool;
  std::vector<Labeled> members;      // Record fields, Variant cases, Func params, Flags/Enum labels
  std::vector<ValTypeRef> elems;     // Tuple
  std::optional<ValTypeRef> a, b;    // element / ok / key, error / value; Func result
  std::optional<uint32_t> handle;    // Own/Borrow: the resource type index
  uint32_t length = 0;               // fixed-size list 🔧
  bool async = false;                // Func
  wasm::ValType rep = wasm::ValType::I32;  // Resource
  std::optional<uint32_t> dtor;            // Resource: core func index
  std::vector<Decl> decls;           // Component/Instance type
  size_t offset = 0;
};

struct CanonOpts {
  std::optional<StringEncoding> string_encoding;
  std::optional<uint32_t> memory, realloc, post_return, callback;
  bool async = false;
  size_t offset = 0;
};

// Every canonical definition, in Binary.md order: X(Name, "spelling", opcode, immediates).
#define WEFT_CANON_OPS(X)                                               \
  X(Lift, "lift", 0x00, LiftImm)                                        \
  X(Lower, "lower", 0x01, LowerImm)                                     \
  X(ResourceNew, "resource.new", 0x02, TypeImm)                         \
  X(ResourceDrop, "resource.drop", 0x03, TypeImm)                       \
  X(ResourceRep, "resource.rep", 0x04, TypeImm)                         \
  X(BackpressureInc, "backpressure.inc", 0x24, NoImm)                   \
  X(BackpressureDec, "backpressure.dec", 0x25, NoImm)                   \
  X(TaskReturn, "task.return", 0x09, ResultOptsImm)                     \
  X(TaskCancel, "task.cancel", 0x05, NoImm)                             \
  X(ContextGet, "context.get", 0x0a, ContextImm)                        \
  X(ContextSet, "context.set", 0x0b, ContextImm)                        \
  X(SubtaskCancel, "subtask.cancel", 0x06, AsyncImm)                    \
  X(SubtaskDrop, "subtask.drop", 0x0d, NoImm)                           \
  X(StreamNew, "stream.new", 0x0e, TypeImm)                             \
  X(StreamRead, "stream.read", 0x0f, TypeOptsImm)                       \
  X(StreamWrite, "stream.write", 0x10, TypeOptsImm)                     \
  X(StreamCancelRead, "stream.cancel-read", 0x11, TypeAsyncImm)         \
  X(StreamCancelWrite, "stream.cancel-write", 0x12, TypeAsyncImm)       \
  X(StreamDropReadable, "stream.drop-readable", 0x13, TypeImm)          \
  X(StreamDropWritable, "stream.drop-writable", 0x14, TypeImm)          \
  X(FutureNew, "future.new", 0x15, TypeImm)                             \
  X(FutureRead, "future.read", 0x16, TypeOptsImm)                       \
  X(FutureWrite, "future.write", 0x17, TypeOptsImm)                     \
  X(FutureCancelRead, "future.cancel-read", 0x18, TypeAsyncImm)         \
  X(FutureCancelWrite, "future.cancel-write", 0x19, TypeAsyncImm)       \
  X(FutureDropReadable, "future.drop-readable", 0x1a, TypeImm)          \
  X(FutureDropWritable, "future.drop-writable", 0x1b, TypeImm)          \
  X(ErrorContextNew, "error-context.new", 0x1c, OptsImm)                \
  X(ErrorContextDebugMessage, "error-context.debug-message", 0x1d, OptsImm) \
  X(ErrorContextDrop, "error-context.drop", 0x1e, NoImm)                \
  X(WaitableSetNew, "waitable-set.new", 0x1f, NoImm)                    \
  X(WaitableSetWait, "waitable-set.wait", 0x20, CancelMemoryImm)        \
  X(WaitableSetPoll, "waitable-set.poll", 0x21, CancelMemoryImm)        \
  X(WaitableSetDrop, "waitable-set.drop", 0x22, NoImm)                  \
  X(WaitableJoin, "waitable.join", 0x23, NoImm)                         \
  X(ThreadIndex, "thread.index", 0x26, NoImm)                           \
  X(ThreadNewIndirect, "thread.new-indirect", 0x27, CoreTypeTableImm)   \
  X(ThreadResumeLater, "thread.resume-later", 0x28, NoImm)              \
  X(ThreadSuspend, "thread.suspend", 0x29, CancelImm)                   \
  X(ThreadYield, "thread.yield", 0x0c, CancelImm)                       \
  X(ThreadSuspendThenResume, "thread.suspend-then-resume", 0x2a, CancelImm) \
  X(ThreadYieldThenResume, "thread.yield-then-resume", 0x2b, CancelImm) \
  X(ThreadSuspendThenPromote, "thread.suspend-then-promote", 0x2c, CancelImm) \
  X(ThreadYieldThenPromote, "thread.yield-then-promote", 0x2d, CancelImm) \
  X(ThreadSpawnRef, "thread.spawn-ref", 0x40, SharedCoreTypeImm)        \
  X(ThreadSpawnIndirect, "thread.spawn-indirect", 0x41, SharedCoreTypeTableImm) \
  X(ThreadAvailableParallelism, "thread.available-parallelism", 0x42, SharedImm)

enum class CanonKind : uint8_t {
#define X(name, spelling, opcode, imm) name,
  WEFT_CANON_OPS(X)
#undef X
};
const char* to_string(CanonKind k);

// One canonical definition. Which fields are meaningful depends on `kind`
// (see the immediates column of WEFT_CANON_OPS).
struct Canon {
  CanonKind kind = CanonKind::Lift;
  uint32_t func = 0;     // Lift: core func; Lower: func
  uint32_t type = 0;     // Lift: func type; resource/stream/future type; core type (thread.*)
  uint32_t table = 0;    // thread.new-indirect / spawn-indirect
  CanonOpts opts;
  std::optional<ValTypeRef> result;  // TaskReturn
  wasm::ValType core_type = wasm::ValType::I32;  // ContextGet/Set
  uint32_t slot = 0;     // ContextGet/Set index
  bool flag = false;     // async / cancellable / shared, per kind
  size_t offset = 0;
};

struct CoreInstanceDef {
  bool instantiate = true;
  uint32_t module = 0;
  std::vector<std::pair<std::string, uint32_t>> args;  // name -> core instance
  std::vector<std::pair<std::string, SortIdx>> exports;  // inline exports (core sorts)
  size_t offset = 0;
};

struct InstanceDef {
  bool instantiate = true;
  uint32_t component = 0;
  std::vector<std::pair<std::string, SortIdx>> args;
  std::vector<std::pair<ExternName, SortIdx>> exports;
  size_t offset = 0;
};

struct StartDef {
  uint32_t func = 0;
  std::vector<uint32_t> args;
  uint32_t results = 0;
  size_t offset = 0;
};

struct ImportDef {
  ExternName name;
  ExternTypeRef desc;
  size_t offset = 0;
};

struct ExportDef {
  ExternName name;
  SortIdx item;
  std::optional<ExternTypeRef> desc;
  size_t offset = 0;
};

struct Component;

// A core module embedded in a component, with where it sits in the file.
struct CoreModuleDef {
  std::shared_ptr<wasm::Module> module;
  size_t offset = 0;
};

struct NestedComponent {
  std::shared_ptr<Component> component;
  size_t offset = 0;
};

using Definition = std::variant<CoreModuleDef, CoreInstanceDef, std::shared_ptr<CoreTypeDef>, NestedComponent,
                                InstanceDef, AliasDef, std::shared_ptr<TypeDef>, Canon, StartDef, ImportDef,
                                ExportDef>;

struct Component {
  std::vector<Definition> definitions;
};

// True if `bytes` start with the component preamble's magic and layer 1.
bool is_component(std::span<const uint8_t> bytes);

// Decodes a whole component. Throws weft::Error (Malformed) with the file
// offset; counts are checked against the remaining input before anything is
// reserved.
std::shared_ptr<Component> decode_component(std::span<const uint8_t> bytes);

}  // namespace weft::component
