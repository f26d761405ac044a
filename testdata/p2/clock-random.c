// wasi:clocks and wasi:random: the wall clock reads a plausible date, the
// monotonic clock never goes back and a 20 ms sleep (a monotonic-clock
// pollable) takes at least 20 ms of it; random bytes are not all equal
// and two draws differ.
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int64_t ns(clockid_t id) {
  struct timespec ts;
  CHECK(clock_gettime(id, &ts) == 0);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(void) {
  struct timespec res;
  CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0);
  CHECK(res.tv_sec == 0 && res.tv_nsec > 0);
  CHECK(clock_getres(CLOCK_REALTIME, &res) == 0);
  CHECK(res.tv_sec == 0 && res.tv_nsec > 0);

  int64_t wall = ns(CLOCK_REALTIME);
  CHECK(wall > (int64_t)1577836800 * 1000000000);  // after 2020-01-01
  CHECK(wall < (int64_t)4102444800 * 1000000000);  // before 2100-01-01

  int64_t before = ns(CLOCK_MONOTONIC);
  CHECK(ns(CLOCK_MONOTONIC) >= before);
  struct timespec nap = {0, 20 * 1000000};
  CHECK(nanosleep(&nap, NULL) == 0);
  int64_t slept = ns(CLOCK_MONOTONIC) - before;
  CHECK(slept >= 20 * 1000000);
  CHECK(slept < 5 * (int64_t)1000000000);

  unsigned char a[64], b[64];
  CHECK(getentropy(a, sizeof a) == 0);
  CHECK(getentropy(b, sizeof b) == 0);
  CHECK(memcmp(a, b, sizeof a) != 0);
  int same = 1;
  for (size_t i = 1; i < sizeof a; ++i) same &= a[i] == a[0];
  CHECK(!same);
  CHECK(arc4random() != arc4random() || arc4random() != arc4random());
  return 0;
}
