// Linear memory. A 32-bit memory reserves its whole addressable range plus
// the largest static offset behind guard pages, so the interpreter's loads
// and stores need no bounds check: a fault in the reservation is turned into
// an out-of-bounds trap (see interpreter). memory64 memories and memories that
// cannot be reserved use explicit checks (`guarded()` is false). data() stays
// put, except that when even the maximum size could not be reserved (a tight
// ulimit -v) a successful grow() may move it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wasm/types.h"

namespace weft::engine {

class Memory {
 public:
  // Throws Trap(OutOfMemory) if the initial size cannot be allocated.
  Memory(const wasm::MemoryType& type, uint64_t max_bytes_limit);
  ~Memory();
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;

  const wasm::MemoryType& type() const { return type_; }
  uint8_t* data() const { return base_; }
  uint64_t size_bytes() const { return size_; }
  uint64_t pages() const { return size_ / wasm::kPageSize; }
  // True if every address below 2^32 + 2^32 (base + offset) is reserved, so
  // out-of-bounds accesses fault instead of needing a check.
  bool guarded() const { return guarded_; }

  // Grows by `delta` pages; returns the old size in pages, or -1.
  int64_t grow(uint64_t delta);

  // Whether [addr, addr+len) lies in the current size.
  bool in_bounds(uint64_t addr, uint64_t len) const { return addr <= size_ && len <= size_ - addr; }

  // True if `p` points into this memory's reservation (guard region included).
  bool owns_address(const void* p) const;
  // True if `p` lies in the reservation of any live guarded memory, i.e. a
  // fault there is a wasm out-of-bounds access (for the SIGSEGV handler).
  static bool is_guard_fault(const void* p);

  // The largest size in pages this memory may reach (type max, bounded by the
  // store's per-memory limit).
  uint64_t max_pages() const { return max_bytes_ / wasm::kPageSize; }

 private:
  wasm::MemoryType type_;
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint64_t reserved_ = 0;  // bytes of address space mapped (accessible or not)
  uint64_t max_bytes_ = 0;
  bool guarded_ = false;
  bool movable_ = false;  // no reservation: growth remaps and may move base_
};

}  // namespace weft::engine
