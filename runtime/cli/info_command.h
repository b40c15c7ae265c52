#pragma once

#include <string>

namespace terra::cli {

// Prints a model file's config, metadata and tensor table. Returns an exit code.
int run_info(const std::string& path);

}  // namespace terra::cli
