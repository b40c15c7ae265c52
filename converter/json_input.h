// JSON the converter reads from users' files (config.json, safetensors headers): parsed only
// when its nesting is shallow (nlohmann-json recurses when it prints or compares, so a file
// nested 100,000 deep would overflow the stack), and quoted in errors only briefly.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace terra {

// config.json and safetensors headers nest a few levels; anything deeper is refused.
inline constexpr int kMaxJsonDepth = 64;

// Parses text as JSON; the error names `path` and the problem (not JSON, nested too deep).
Result<nlohmann::json> parse_json(const std::string& text, const std::string& path);

// A value as an error message quotes it: in full when short, else its start.
std::string brief(const nlohmann::json& value);

}  // namespace terra
