#include "wasm/opcodes.h"

#include <array>
#include <cstddef>

namespace weft::wasm {

namespace {

constexpr OpInfo kInfo[] = {
#define WEFT_OP(name, prefix, code, text, imm, sig, feature) {text, prefix, code, imm, sig, Feature::feature},
#include "wasm/opcodes.def"
#undef WEFT_OP
};
static_assert(std::size(kInfo) == static_cast<std::size_t>(Op::Count_));

constexpr uint16_t kNone = 0xffff;
static_assert(static_cast<std::size_t>(Op::Count_) < kNone);

// Table for one prefix, indexed by the (sub-)opcode, sized to the largest
// code of that prefix so lookup is one bounds check and one load.
template <uint8_t Prefix>
constexpr auto make_table() {
  constexpr uint32_t size = [] {
    uint32_t max = 0;
    for (const OpInfo& i : kInfo)
      if (i.prefix == Prefix && i.code > max) max = i.code;
    return max + 1;
  }();
  std::array<uint16_t, size> t{};
  t.fill(kNone);
  for (std::size_t k = 0; k < std::size(kInfo); ++k)
    if (kInfo[k].prefix == Prefix) t[kInfo[k].code] = static_cast<uint16_t>(k);
  return t;
}

constexpr auto kSingle = make_table<0x00>();
constexpr auto kFC = make_table<0xfc>();
constexpr auto kFD = make_table<0xfd>();
constexpr auto kFE = make_table<0xfe>();
static_assert(kSingle.size() <= 256);

template <std::size_t N>
bool find(const std::array<uint16_t, N>& t, uint32_t code, Op* out) {
  if (code >= N || t[code] == kNone) return false;
  *out = static_cast<Op>(t[code]);
  return true;
}

}  // namespace

const OpInfo& op_info(Op op) { return kInfo[static_cast<std::size_t>(op)]; }

bool lookup_op(uint8_t prefix, uint32_t code, Op* out) {
  switch (prefix) {
    case 0x00: return find(kSingle, code, out);
    case 0xfc: return find(kFC, code, out);
    case 0xfd: return find(kFD, code, out);
    case 0xfe: return find(kFE, code, out);
    default: return false;
  }
}

}  // namespace weft::wasm
