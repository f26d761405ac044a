// What `weft run` and `weft serve` share: turning the guest flags into a
// WASI configuration and store limits, finding a component's exports, and
// reporting failures the way every command does.
#pragma once

#include <string>
#include <string_view>

#include "cli/commands.h"
#include "component/instance.h"
#include "component/types.h"
#include "engine/store.h"
#include "engine/trap.h"
#include "wasi/common/config.h"

namespace weft::cli {

// Prints `error: MESSAGE` on stderr (after flushing stdout); returns 1.
int fail(const std::string& message);
// Prints a trap and its backtrace (runs of one function folded); returns 134.
int report_trap(const engine::Trap& trap);

// What the guest may see, from --dir, --env and -S; `argv0` and the
// arguments come from the command.
wasi::common::WasiConfig wasi_config(const GuestOptions& options);
engine::StoreLimits store_limits(const GuestOptions& options);

// An exported function by name: `name`, or `interface#name` for a function
// of an exported instance; in the component's type (before instantiation)
// or in an instance. Null when there is none.
const component::ExternDesc* find_export(const component::Type* component, const std::string& name);
component::ComponentFunc* find_export(const component::RtExports& exports, const std::string& name);
// The name of the first exported instance whose name starts with one of
// `prefixes` (tried in order), or an empty string.
std::string find_instance_export(const component::Type* component,
                                 std::initializer_list<std::string_view> prefixes);

}  // namespace weft::cli
