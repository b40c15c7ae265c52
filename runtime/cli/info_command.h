#pragma once

#include <string>

namespace terra::cli {

// Prints a model file's config, metadata and tensor table. Returns an exit code.
int run_info(const std::string& path);
// Loads the model fully (structure and binding) and checks every tensor's checksum.
int run_verify(const std::string& path);

}  // namespace terra::cli
