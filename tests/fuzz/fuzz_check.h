#pragma once
// An invariant of a fuzz target: on violation print what broke and abort, so libFuzzer saves the
// input as a crash (and the replay test fails). Not assert(): it must hold in release builds too.
#include <cstdio>
#include <cstdlib>
#include <string>

#define EGW_FUZZ_CHECK(cond, what)                                                                  \
  do {                                                                                              \
    if (!(cond)) {                                                                                  \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n  %s\n", __FILE__, __LINE__, #cond,        \
                   std::string(what).c_str());                                                      \
      std::abort();                                                                                 \
    }                                                                                               \
  } while (0)
