#include "engine/const_expr.h"

#include <vector>

#include "base/reader.h"
#include "engine/store.h"

namespace weft::engine {
namespace {

// Operand stack that lives on the C++ stack for the usual one or two
// operands and only spills to the heap for long extended-const chains.
class ConstStack {
 public:
  void push(const Value& v) {
    if (size_ < kInline) inline_[size_] = v;
    else spill_.push_back(v);
    ++size_;
  }
  Value pop() {
    --size_;
    if (size_ < kInline) return inline_[size_];
    Value v = spill_.back();
    spill_.pop_back();
    return v;
  }

 private:
  static constexpr size_t kInline = 4;
  Value inline_[kInline];
  std::vector<Value> spill_;
  size_t size_ = 0;
};

wasm::ValType heap_type_to_ref(uint8_t heap) {
  switch (heap) {
    case 0x6f: return wasm::ValType::ExternRef;
    case 0x69: return wasm::ValType::ExnRef;
    default: return wasm::ValType::FuncRef;
  }
}

}  // namespace

Value eval_const_expr(const Instance& inst, wasm::ConstExpr expr) {
  Reader r(inst.module->range(expr), expr.offset);
  ConstStack stack;
  for (;;) {
    uint8_t op = r.u8();
    switch (op) {
      case 0x0b:  // end
        return stack.pop();
      case 0x23:  // global.get
        stack.push(inst.globals[r.u32()]->get());
        break;
      case 0x41: stack.push(Value::make_i32(static_cast<uint32_t>(r.s32()))); break;
      case 0x42: stack.push(Value::make_i64(static_cast<uint64_t>(r.s64()))); break;
      case 0x43: stack.push(Value::make_f32_bits(r.fixed_u32())); break;
      case 0x44: stack.push(Value::make_f64_bits(r.fixed_u64())); break;
      case 0xd0:  // ref.null
        stack.push(Value::make_ref(heap_type_to_ref(r.u8()), 0));
        break;
      case 0xd2:  // ref.func
        stack.push(Value::make_ref(wasm::ValType::FuncRef, reinterpret_cast<Ref>(inst.funcs[r.u32()])));
        break;
      case 0xfd: {  // v128.const is the only SIMD constant instruction
        r.u32();
        V128 v;
        std::memcpy(v.bytes, r.bytes(16).data(), 16);
        stack.push(Value::make_v128(v));
        break;
      }
      case 0x6a: case 0x6b: case 0x6c: {  // i32.add/sub/mul (extended-const)
        uint32_t b = stack.pop().i32, a = stack.pop().i32;
        stack.push(Value::make_i32(op == 0x6a ? a + b : op == 0x6b ? a - b : a * b));
        break;
      }
      case 0x7c: case 0x7d: case 0x7e: {  // i64.add/sub/mul
        uint64_t b = stack.pop().i64, a = stack.pop().i64;
        stack.push(Value::make_i64(op == 0x7c ? a + b : op == 0x7d ? a - b : a * b));
        break;
      }
      default:
        r.fail("constant expression required");
    }
  }
}

}  // namespace weft::engine
