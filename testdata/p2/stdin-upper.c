// wasi:cli/stdin through a pipe: read to end of file in small reads and
// write it back upper-cased.
#include <ctype.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  char buf[7];  // small, so that reads end mid-line
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; ++i) buf[i] = (char)toupper((unsigned char)buf[i]);
    CHECK(write(1, buf, (size_t)n) == n);
  }
  CHECK(n == 0);
  return 0;
}
