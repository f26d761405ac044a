// The bundled example component: a C program built for preview1 with
// wasi-libc, then made a WASI 0.2 command component by the preview1 adapter
// (`jco new --wasi-command`), as toolchains do.
#include <stdio.h>
#include <time.h>

int main(int argc, char** argv) {
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  printf("hello, %s, from a WASI 0.2 component (it is %04d-%02d-%02d UTC)\n", argc > 1 ? argv[1] : "world",
         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return 0;
}
