// Text on stdout and stderr through the preview1 adapter: the runner
// compares both streams (hello.stdout, hello.stderr).
#include <stdio.h>

int main(void) {
  printf("hello from a 0.2 component\n");
  fprintf(stderr, "hello on stderr\n");
  printf("second line, after stderr\n");
  return 0;
}
