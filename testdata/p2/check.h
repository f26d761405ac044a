// Self-checks for the p2 test guests: a failed CHECK prints where and why
// on stderr and exits 1, so the runner reports the guest's own message.
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      fprintf(stderr, "%s:%d: check failed: %s (errno: %s)\n", __FILE__, __LINE__,   \
              #cond, strerror(errno));                                               \
      exit(1);                                                                       \
    }                                                                                \
  } while (0)
