// wasi:io/poll through poll(2): a timeout alone sleeps (a monotonic-clock
// pollable), stdin (a pipe) polls readable beside a long timeout, and
// after end of file stdin stays ready and reads 0. The adapter turns each
// poll into one wasi:io/poll poll call.
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int64_t now_ms(void) {
  struct timespec ts;
  CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void) {
  int64_t start = now_ms();
  CHECK(poll(NULL, 0, 30) == 0);
  CHECK(now_ms() - start >= 30);

  char buf[64];
  size_t got = 0;
  for (;;) {
    struct pollfd p = {.fd = 0, .events = POLLIN};
    start = now_ms();
    CHECK(poll(&p, 1, 10000) == 1);
    CHECK(now_ms() - start < 5000);
    CHECK(p.revents & (POLLIN | POLLHUP));
    ssize_t n = read(0, buf + got, sizeof buf - got);
    CHECK(n >= 0);
    if (n == 0) break;
    got += (size_t)n;
    CHECK(got < sizeof buf);
  }
  CHECK(got == 6 && memcmp(buf, "ready\n", 6) == 0);
  struct pollfd p = {.fd = 0, .events = POLLIN};
  CHECK(poll(&p, 1, 10000) == 1);
  CHECK(read(0, buf, sizeof buf) == 0);
  return 0;
}
