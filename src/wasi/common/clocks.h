// Clocks and randomness for every WASI version.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wasi/common/errno.h"

namespace weft::wasi::common {

// Numbered as preview1's `clockid`.
enum class Clock : uint32_t { Realtime = 0, Monotonic = 1, ProcessCpu = 2, ThreadCpu = 3 };

// Inval for an unknown clock id.
Errno clock_now(uint32_t clock, uint64_t& ns);
Errno clock_resolution(uint32_t clock, uint64_t& ns);

// Fills `buf` from the kernel's CSPRNG (getrandom); never fails.
void random_fill(uint8_t* buf, size_t len);

}  // namespace weft::wasi::common
