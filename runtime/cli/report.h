// How the CLI reports an error: one line on stderr naming the problem, exit code 1.
#pragma once

#include <cstdio>

#include "core/status.h"

namespace terra::cli {

inline int fail(const Status& s) {
  std::fprintf(stderr, "terra: error: %s\n", s.message().c_str());
  return 1;
}

}  // namespace terra::cli
