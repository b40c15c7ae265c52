#include "json_input.h"

namespace terra {

Result<nlohmann::json> parse_json(const std::string& text, const std::string& path) {
  // Nesting depth of [ and { outside strings, before the parser sees the text.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return Status::Error(ErrorCode::kInvalidArgument, path + ": JSON nested more than " +
                                                              std::to_string(kMaxJsonDepth) + " levels deep");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::Error(ErrorCode::kInvalidArgument, path + ": not valid JSON");
  return j;
}

std::string brief(const nlohmann::json& value) {
  std::string s = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  constexpr size_t kMax = 80;
  if (s.size() > kMax) s = s.substr(0, kMax) + "...";
  return s;
}

}  // namespace terra
