// A table of host objects that components hold as resources: the
// representation a component sees is the object's index here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/trap.h"

namespace weft::wasi::common {

// Host objects of one resource type, numbered from 1 (reps are never 0, so a
// stale 0 is caught), freed slots reused.
template <class T>
class ResourceTable {
 public:
  uint32_t add(std::unique_ptr<T> obj) {
    if (!free_.empty()) {
      uint32_t rep = free_.back();
      free_.pop_back();
      slots_[rep - 1] = std::move(obj);
      return rep;
    }
    slots_.push_back(std::move(obj));
    return static_cast<uint32_t>(slots_.size());
  }
  T& get(uint64_t rep) const {
    if (rep == 0 || rep > slots_.size() || !slots_[rep - 1])
      throw engine::Trap(engine::TrapKind::Host, "unknown resource representation " + std::to_string(rep));
    return *slots_[rep - 1];
  }
  std::unique_ptr<T> take(uint64_t rep) {
    get(rep);
    free_.push_back(static_cast<uint32_t>(rep));
    return std::move(slots_[rep - 1]);
  }
  void remove(uint64_t rep) { take(rep); }

 private:
  std::vector<std::unique_ptr<T>> slots_;
  std::vector<uint32_t> free_;
};

}  // namespace weft::wasi::common
