// The wasm proposals a module may use. Decoder and validator reject what a
// disabled proposal adds (its instructions, sections and encodings) with the
// errors a runtime without it gives, so a spec test folder can be run with
// exactly the features it was written for.
#pragma once

#include <cstdint>
#include <string_view>

namespace weft::wasm {

// The proposal that introduced an instruction (a column of opcodes.def).
// Mvp instructions are always available.
enum class Feature : uint8_t {
  Mvp,
  SignExt,
  SatFloatToInt,
  BulkMemory,
  ReferenceTypes,
  Simd,
  RelaxedSimd,
  TailCall,
  Exceptions,
  Threads,
};

struct Features {
  bool multi_memory = true;
  bool memory64 = true;
  bool threads = true;
  bool exceptions = true;
  bool tail_call = true;
  bool extended_const = true;
  bool simd = true;
  bool relaxed_simd = true;
  bool reference_types = true;
  bool bulk_memory = true;
  bool multi_value = true;
  bool sign_ext = true;
  bool sat_float_to_int = true;
  bool mutable_globals = true;

  bool has(Feature f) const {
    switch (f) {
      case Feature::Mvp: return true;
      case Feature::SignExt: return sign_ext;
      case Feature::SatFloatToInt: return sat_float_to_int;
      case Feature::BulkMemory: return bulk_memory;
      case Feature::ReferenceTypes: return reference_types;
      case Feature::Simd: return simd;
      case Feature::RelaxedSimd: return relaxed_simd;
      case Feature::TailCall: return tail_call;
      case Feature::Exceptions: return exceptions;
      case Feature::Threads: return threads;
    }
    return false;
  }
};

// The switch for a feature by the name wasmtime's `-W` gives it
// ("multi-memory", "tail-call", ...; wabt's names for the three wasmtime
// always enables: "sign-extension", "saturating-float-to-int",
// "mutable-globals"), or nullptr for an unknown name.
bool* find_feature(Features& features, std::string_view name);

}  // namespace weft::wasm
