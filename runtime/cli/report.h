// How the CLI reports an error: one line on stderr naming the problem, exit code 1.
#pragma once

#include <cstdint>
#include <cstdio>

#include "core/status.h"

namespace terra::cli {

// Text files the CLI reads whole (--input, perplexity --text): larger ones are refused by name.
inline constexpr uint64_t kMaxTextFileBytes = uint64_t(1) << 30;

inline int fail(const Status& s) {
  std::fprintf(stderr, "terra: error: %s\n", s.message().c_str());
  return 1;
}

}  // namespace terra::cli
