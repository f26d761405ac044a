// exit(42) from a nested call: the preview1 adapter's proc_exit reports any
// non-zero code as wasi:cli/exit exit(err), so weft exits with 1 (as
// wasmtime does); stdout buffered before the exit still arrives.
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void leave(int code) {
  printf("leaving with %d\n", code);
  exit(code);
}

int main(void) {
  leave(42);
  printf("not reached\n");
  return 0;
}
