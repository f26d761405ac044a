#include "wasm/module.h"
#include "wasm/types.h"

namespace weft::wasm {

const char* to_string(ValType t) {
  switch (t) {
    case ValType::I32: return "i32";
    case ValType::I64: return "i64";
    case ValType::F32: return "f32";
    case ValType::F64: return "f64";
    case ValType::V128: return "v128";
    case ValType::FuncRef: return "funcref";
    case ValType::ExternRef: return "externref";
    case ValType::ExnRef: return "exnref";
  }
  return "?";
}

std::string to_string(const FuncType& t) {
  auto list = [](const std::vector<ValType>& types) {
    std::string s = "(";
    for (size_t i = 0; i < types.size(); ++i) {
      if (i) s += ' ';
      s += to_string(types[i]);
    }
    return s + ")";
  };
  return list(t.params) + " -> " + list(t.results);
}

const char* to_string(ExternKind k) {
  switch (k) {
    case ExternKind::Func: return "func";
    case ExternKind::Table: return "table";
    case ExternKind::Memory: return "memory";
    case ExternKind::Global: return "global";
    case ExternKind::Tag: return "tag";
  }
  return "?";
}

std::string Module::func_name(uint32_t func_index) const {
  auto it = func_names.find(func_index);
  if (it != func_names.end()) return it->second;
  return "func[" + std::to_string(func_index) + "]";
}

}  // namespace weft::wasm
