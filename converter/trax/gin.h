// The subset of gin-config (github.com/google/gin-config) that trax's config.gin files use:
// bindings `scope/Configurable.param = value`, macros `name = value` and `%name`, references
// `@Configurable` and `@Configurable()`, Python literals (numbers, strings, True/False/None,
// lists, tuples, dicts) spanning lines inside brackets, comments, and `import` / `include` lines.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace terra::trax {

struct GinValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kList, kTuple, kDict, kReference, kMacro };
  Kind kind = Kind::kNone;
  bool boolean = false;
  long long integer = 0;
  double number = 0;
  std::string text;             // kString; kReference / kMacro: the name (without @ or %)
  bool called = false;          // kReference: @name() rather than @name
  std::vector<GinValue> items;  // kList, kTuple; kDict: key, value, key, value ...
  std::string source;           // the value as written, for messages

  bool is_number() const { return kind == Kind::kInt || kind == Kind::kFloat; }
  double as_double() const { return kind == Kind::kInt ? double(integer) : number; }
};

class GinConfig {
 public:
  // Parses a config file; `include` lines are followed relative to its folder.
  static Result<GinConfig> parse_file(const std::string& path);
  static Result<GinConfig> parse(const std::string& text, const std::string& name);

  // The value bound to `param` of the configurable `name` (its last dotted component is enough:
  // "ConfigurableTerraformer" finds "trax.models.ConfigurableTerraformer.d_model"); for a scoped
  // name ("encoder/SelfAttention") a binding in that scope wins over an unscoped one. Unresolved
  // (%macros stay); null when unbound.
  const GinValue* find(const std::string& name, const std::string& param) const;
  // The configurable a reference names, as written: "trax.models.ConfigurableTerraformer".
  const std::map<std::string, GinValue>& bindings() const { return bindings_; }
  const std::string& name() const { return name_; }
  // Resolves %macros (also nested in lists and tuples); an unknown macro is an error.
  Result<GinValue> resolve(const GinValue& v) const;

 private:
  Status parse_into(const std::string& text, const std::string& name, const std::string& dir, int depth);
  Result<GinValue> resolve(const GinValue& v, int depth) const;
  std::map<std::string, GinValue> bindings_;  // "scope/name.param" as written
  std::map<std::string, GinValue> macros_;
  std::string name_;
};

// The last dotted component of a configurable's name, without its scope: "trax.models.X" -> "X",
// "encoder/X" -> "X".
std::string short_name(const std::string& configurable);
// The scope of a scoped name: "encoder/X" -> "encoder", else "".
std::string scope_of(const std::string& configurable);

}  // namespace terra::trax
