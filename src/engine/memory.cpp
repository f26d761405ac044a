#include "engine/memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "engine/trap.h"

namespace weft::engine {
namespace {

using wasm::kPageSize;

// base + u32 address + u32 static offset + a 16-byte access stays inside.
constexpr uint64_t kGuardedReservation = (uint64_t{1} << 33) + kPageSize;

// [begin, end) of every live guarded memory's reservation. Namespace-scope
// and constant-initialized so the fault handler never runs an initializer.
std::vector<std::pair<uintptr_t, uintptr_t>> g_guard_ranges;

uint8_t* reserve(uint64_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
}

bool make_accessible(uint8_t* p, uint64_t bytes) {
  return bytes == 0 || mprotect(p, bytes, PROT_READ | PROT_WRITE) == 0;
}

}  // namespace

Memory::Memory(const wasm::MemoryType& type, uint64_t max_bytes_limit) : type_(type) {
  const wasm::Limits& limits = type.limits;
  uint64_t max_pages = limits.max.value_or(limits.is64 ? wasm::kMaxPages64 : wasm::kMaxPages32);
  max_pages = std::min(max_pages, max_bytes_limit / kPageSize);
  if (limits.min > max_pages) throw Trap(TrapKind::OutOfMemory, "initial memory size exceeds the limit");
  max_bytes_ = max_pages * kPageSize;
  size_ = limits.min * kPageSize;

  if (!limits.is64) {
    base_ = reserve(kGuardedReservation);
    if (base_) {
      reserved_ = kGuardedReservation;
      guarded_ = true;
    }
  }
  // No guard pages: reserve the maximum once so the base never moves.
  if (!base_) {
    uint64_t bytes = std::max(max_bytes_, kPageSize);
    base_ = reserve(bytes);
    if (base_) reserved_ = bytes;
  }
  if (base_) {
    if (!make_accessible(base_, size_)) {
      munmap(base_, reserved_);
      throw Trap(TrapKind::OutOfMemory, "cannot commit linear memory");
    }
  } else if (limits.shared) {
    // Other agents may hold the base: it can never move.
    throw Trap(TrapKind::OutOfMemory, "cannot reserve shared memory");
  } else {
    // Address space is short (ulimit -v): map only the current size and
    // let grow() remap, moving the base. Reserving less than the maximum
    // up front would let the first memories starve the later ones.
    reserved_ = std::max(size_, kPageSize);
    void* p = mmap(nullptr, reserved_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw Trap(TrapKind::OutOfMemory, "cannot allocate linear memory");
    base_ = static_cast<uint8_t*>(p);
    movable_ = true;
  }
  if (guarded_) {
    auto begin = reinterpret_cast<uintptr_t>(base_);
    g_guard_ranges.emplace_back(begin, begin + reserved_);
  }
}

Memory::~Memory() {
  if (guarded_) {
    auto begin = reinterpret_cast<uintptr_t>(base_);
    auto it = std::find_if(g_guard_ranges.begin(), g_guard_ranges.end(),
                           [&](const auto& r) { return r.first == begin; });
    *it = g_guard_ranges.back();
    g_guard_ranges.pop_back();
  }
  munmap(base_, reserved_);
}

int64_t Memory::grow(uint64_t delta) {
  uint64_t old_pages = pages();
  if (delta > max_bytes_ / kPageSize - old_pages) return -1;
  uint64_t new_size = (old_pages + delta) * kPageSize;
  if (movable_) {
    if (new_size > reserved_) {
      void* p = mremap(base_, reserved_, new_size, MREMAP_MAYMOVE);
      if (p == MAP_FAILED) return -1;
      base_ = static_cast<uint8_t*>(p);
      reserved_ = new_size;
    }
  } else if (!make_accessible(base_ + size_, new_size - size_)) {
    return -1;
  }
  size_ = new_size;
  return static_cast<int64_t>(old_pages);
}

bool Memory::owns_address(const void* p) const {
  auto* b = static_cast<const uint8_t*>(p);
  return b >= base_ && b < base_ + reserved_;
}

bool Memory::is_guard_fault(const void* p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  for (const auto& [begin, end] : g_guard_ranges)
    if (a >= begin && a < end) return true;
  return false;
}

}  // namespace weft::engine
