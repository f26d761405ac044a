// One write(2) of 1 MiB to stdout: more than any one output-stream write
// may take, so the adapter and host must split and flush it in pieces. The
// runner checks the bytes (large-write.stdout.sha256).
#include <unistd.h>

#include "check.h"

static char buf[1 << 20];

int main(void) {
  for (size_t i = 0; i < sizeof buf; ++i) buf[i] = (char)('a' + (i * 7 + i / 4096) % 26);
  size_t done = 0;
  while (done < sizeof buf) {
    ssize_t n = write(1, buf + done, sizeof buf - done);
    CHECK(n > 0);
    done += (size_t)n;
  }
  return 0;
}
