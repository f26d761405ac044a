// Fuzz target: arbitrary bytes as a component. Decoding and full validation
// must succeed or throw weft::Error; a valid component without imports is
// instantiated and each exported function taking no parameters is called
// under a fuel limit. Traps and link errors are fine; crashes, hangs and
// sanitizer reports are not.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/error.h"
#include "component/decoder.h"
#include "component/host.h"
#include "component/instance.h"
#include "component/validator.h"
#include "engine/store.h"

using namespace weft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto comp = component::decode_component(std::span<const uint8_t>(data, size));
    component::ComponentInfo info = component::validate(*comp, /*all_bodies=*/true);
    engine::StoreLimits limits;
    limits.fuel = 100000;
    engine::Store store(limits);
    component::Runtime runtime(store, info.store);
    component::Host host;
    component::ComponentInstance* inst = runtime.instantiate(*comp, info.type, host);
    for (auto& [name, item] : inst->exports) {
      if (item.kind != component::ExternKind::Func || !item.func->type->fields.empty()) continue;
      try {
        runtime.call(*item.func, {});
      } catch (const engine::Trap&) {
      }
    }
  } catch (const weft::Error&) {
  } catch (const engine::Trap&) {
  }
  return 0;
}
