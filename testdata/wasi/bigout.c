// Writes MIB mebibytes (argv[1]) of a known pattern to stdout, or to the
// file argv[2] when given: block k is 1 MiB of (i * 31 + k) & 0xff.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned char buf[1 << 20];

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int fd = 1;
  if (argc > 2 && (fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
    perror("open");
    return 1;
  }
  long blocks = atol(argv[1]);
  for (long k = 0; k < blocks; ++k) {
    for (size_t i = 0; i < sizeof buf; ++i) buf[i] = (unsigned char)((i * 31 + k) & 0xff);
    for (size_t done = 0; done < sizeof buf;) {
      ssize_t n = write(fd, buf + done, sizeof buf - done);
      if (n < 0) {
        perror("write");
        return 1;
      }
      done += (size_t)n;
    }
  }
  return 0;
}
