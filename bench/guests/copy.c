// stdin -> stdout in 64 KiB reads: the stream path of a WASI host, timed
// by bench/stdio.sh as a preview1 module and as a 0.2 component.
#include <stdio.h>
#include <unistd.h>

int main(void) {
  static char buf[65536];
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0) {
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(1, buf + done, (size_t)(n - done));
      if (w <= 0) {
        perror("write");
        return 1;
      }
      done += w;
    }
  }
  if (n < 0) {
    perror("read");
    return 1;
  }
  return 0;
}
