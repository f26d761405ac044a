#include "wasm/features.h"

namespace weft::wasm {

bool* find_feature(Features& f, std::string_view name) {
  struct Entry {
    std::string_view name;
    bool Features::*flag;
  };
  static constexpr Entry kNames[] = {
      {"multi-memory", &Features::multi_memory},
      {"memory64", &Features::memory64},
      {"threads", &Features::threads},
      {"exceptions", &Features::exceptions},
      {"tail-call", &Features::tail_call},
      {"extended-const", &Features::extended_const},
      {"simd", &Features::simd},
      {"relaxed-simd", &Features::relaxed_simd},
      {"reference-types", &Features::reference_types},
      {"bulk-memory", &Features::bulk_memory},
      {"multi-value", &Features::multi_value},
      {"sign-extension", &Features::sign_ext},
      {"saturating-float-to-int", &Features::sat_float_to_int},
      {"mutable-globals", &Features::mutable_globals},
  };
  for (const Entry& e : kNames)
    if (e.name == name) return &(f.*e.flag);
  return nullptr;
}

}  // namespace weft::wasm
