// wasi:cli/environment: the arguments (argv[0] from --argv0, then the words
// after FILE, flag-like ones included) and exactly the --env variables: a
// NAME=VALUE one, an empty one and one passed through from the host.
#include <stdlib.h>
#include <string.h>

#include "check.h"

extern char** environ;

int main(int argc, char** argv) {
  CHECK(argc == 4);
  CHECK(strcmp(argv[0], "prog") == 0);
  CHECK(strcmp(argv[1], "alpha") == 0);
  CHECK(strcmp(argv[2], "--dir") == 0);
  CHECK(strcmp(argv[3], "x=y") == 0);

  CHECK(getenv("GREETING") && strcmp(getenv("GREETING"), "hello=world") == 0);
  CHECK(getenv("EMPTY") && strcmp(getenv("EMPTY"), "") == 0);
  CHECK(getenv("WEFT_P2_HOST_VAR") && strcmp(getenv("WEFT_P2_HOST_VAR"), "from the host") == 0);
  CHECK(getenv("PATH") == NULL);  // nothing else of the host's leaks in
  int count = 0;
  for (char** e = environ; *e; ++e) ++count;
  CHECK(count == 3);
  return 0;
}
