// Catch2's own SIGSEGV handler would replace the interpreter's guard-page
// handler, which turns out-of-bounds accesses into traps.
#define CATCH_CONFIG_NO_POSIX_SIGNALS
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
