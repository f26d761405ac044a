#include "wasi/common/clocks.h"

#include <sys/random.h>

#include <ctime>

namespace weft::wasi::common {

namespace {

bool host_clock(uint32_t clock, clockid_t& id) {
  switch (static_cast<Clock>(clock)) {
    case Clock::Realtime: id = CLOCK_REALTIME; return true;
    case Clock::Monotonic: id = CLOCK_MONOTONIC; return true;
    case Clock::ProcessCpu: id = CLOCK_PROCESS_CPUTIME_ID; return true;
    case Clock::ThreadCpu: id = CLOCK_THREAD_CPUTIME_ID; return true;
  }
  return false;
}

uint64_t to_ns(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

Errno clock_now(uint32_t clock, uint64_t& ns) {
  clockid_t id;
  if (!host_clock(clock, id)) return Errno::Inval;
  timespec ts;
  if (clock_gettime(id, &ts) != 0) return last_error();
  ns = to_ns(ts);
  return Errno::Success;
}

Errno clock_resolution(uint32_t clock, uint64_t& ns) {
  clockid_t id;
  if (!host_clock(clock, id)) return Errno::Inval;
  timespec ts;
  if (clock_getres(id, &ts) != 0) return last_error();
  ns = to_ns(ts);
  return Errno::Success;
}

void random_fill(uint8_t* buf, size_t len) {
  while (len > 0) {
    ssize_t n = getrandom(buf, len, 0);
    if (n < 0) continue;  // EINTR; getrandom cannot otherwise fail for these arguments
    buf += n;
    len -= static_cast<size_t>(n);
  }
}

}  // namespace weft::wasi::common
