#include "trax/gin.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "platform/platform.h"

namespace terra::trax {

std::string short_name(const std::string& configurable) {
  const size_t slash = configurable.rfind('/');
  const std::string name = slash == std::string::npos ? configurable : configurable.substr(slash + 1);
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

std::string scope_of(const std::string& configurable) {
  const size_t slash = configurable.rfind('/');
  return slash == std::string::npos ? "" : configurable.substr(0, slash);
}

namespace {

constexpr int kMaxNesting = 64;

class Parser {
 public:
  Parser(const std::string& text, std::string name) : s_(text), name_(std::move(name)) {}

  bool at_end() {
    skip_space(true);
    return i_ >= s_.size();
  }
  Status error(const std::string& what) const {
    return Status::Error(ErrorCode::kInvalidArgument, name_ + ":" + std::to_string(line_) + ": " + what);
  }
  int line() const { return line_; }

  // One statement: returns its kind ("binding", "import", "include") and fills key/value.
  Status statement(std::string* kind, std::string* key, GinValue* value) {
    skip_space(true);
    const size_t start = i_;
    std::string word = dotted_name();
    if (word.empty()) return error("expected a binding, found '" + s_.substr(start, 20) + "'");
    if (word == "import" || word == "from") {
      *kind = "import";
      while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      return Status::Ok();
    }
    if (word == "include") {
      *kind = "include";
      skip_space(false);
      GinValue v;
      TERRA_RETURN_IF_ERROR(parse_value(&v, 0));
      if (v.kind != GinValue::Kind::kString) return error("include needs a quoted file name");
      *key = v.text;
      return Status::Ok();
    }
    *kind = "binding";
    *key = word;
    skip_space(false);
    if (i_ >= s_.size() || s_[i_] != '=') return error("expected '=' after '" + word + "'");
    ++i_;
    skip_space(false);
    const size_t vstart = i_;
    TERRA_RETURN_IF_ERROR(parse_value(value, 0));
    value->source = s_.substr(vstart, i_ - vstart);
    skip_space(false);
    if (i_ < s_.size() && s_[i_] != '\n') return error("unexpected '" + s_.substr(i_, 20) + "' after the value of " + word);
    return Status::Ok();
  }

 private:
  // Spaces and comments; newlines too when `newlines` (between statements, inside brackets).
  void skip_space(bool newlines) {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (c == '\\' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') {
        i_ += 2;
        ++line_;
      } else if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')) {
        if (c == '\n') ++line_;
        ++i_;
      } else {
        break;
      }
    }
  }
  static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/';
  }
  std::string dotted_name() {
    const size_t start = i_;
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  Status parse_string(GinValue* v) {
    const char q = s_[i_];
    const bool triple = s_.compare(i_, 3, std::string(3, q)) == 0;
    i_ += triple ? 3 : 1;
    std::string out;
    while (i_ < s_.size()) {
      if (triple ? s_.compare(i_, 3, std::string(3, q)) == 0 : s_[i_] == q) {
        i_ += triple ? 3 : 1;
        v->kind = GinValue::Kind::kString;
        v->text = out;
        return Status::Ok();
      }
      if (s_[i_] == '\n') {
        if (!triple) return error("a string does not end on its line");
        ++line_;
      }
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
        const char e = s_[++i_];
        out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        ++i_;
        continue;
      }
      out.push_back(s_[i_++]);
    }
    return error("a string does not end");
  }
  Status parse_number(GinValue* v) {
    const char* begin = s_.c_str() + i_;
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(begin, &end, 0);
    const char* fend = nullptr;
    char* f_end = nullptr;
    const double d = std::strtod(begin, &f_end);
    fend = f_end;
    if (fend > end) {  // a float (has a '.', an exponent, inf ...)
      v->kind = GinValue::Kind::kFloat;
      v->number = d;
      i_ += size_t(fend - begin);
      return Status::Ok();
    }
    if (end == begin || errno == ERANGE) return error("bad number '" + s_.substr(i_, 20) + "'");
    v->kind = GinValue::Kind::kInt;
    v->integer = n;
    i_ += size_t(end - begin);
    return Status::Ok();
  }
  // Items up to `close`, separated by commas (a trailing comma allowed).
  Status parse_items(GinValue* v, char close, int depth, bool dict) {
    ++i_;
    for (;;) {
      skip_space(true);
      if (i_ >= s_.size()) return error(std::string("a bracket is not closed (expected '") + close + "')");
      if (s_[i_] == close) {
        ++i_;
        return Status::Ok();
      }
      GinValue item;
      TERRA_RETURN_IF_ERROR(parse_value(&item, depth + 1));
      v->items.push_back(std::move(item));
      skip_space(true);
      if (dict) {
        if (i_ >= s_.size() || s_[i_] != ':') return error("expected ':' in a dict");
        ++i_;
        skip_space(true);
        GinValue value;
        TERRA_RETURN_IF_ERROR(parse_value(&value, depth + 1));
        v->items.push_back(std::move(value));
        skip_space(true);
      }
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        if (close == ')') v->kind = GinValue::Kind::kTuple;  // "(x,)" is a tuple
      } else if (i_ >= s_.size() || s_[i_] != close) {
        return error(std::string("expected ',' or '") + close + "', found '" + s_.substr(i_, 20) + "'");
      }
    }
  }
  Status parse_value(GinValue* v, int depth) {
    if (depth > kMaxNesting) return error("values nested more than " + std::to_string(kMaxNesting) + " deep");
    skip_space(false);
    if (i_ >= s_.size()) return error("a value is missing");
    const char c = s_[i_];
    if (c == '\'' || c == '"') return parse_string(v);
    if (c == '@' || c == '%') {
      ++i_;
      v->kind = c == '@' ? GinValue::Kind::kReference : GinValue::Kind::kMacro;
      v->text = dotted_name();
      if (v->text.empty()) return error(std::string("a name must follow '") + c + "'");
      if (c == '@' && s_.compare(i_, 2, "()") == 0) {
        v->called = true;
        i_ += 2;
      }
      return Status::Ok();
    }
    if (c == '[') {
      v->kind = GinValue::Kind::kList;
      return parse_items(v, ']', depth, false);
    }
    if (c == '{') {
      v->kind = GinValue::Kind::kDict;
      return parse_items(v, '}', depth, true);
    }
    if (c == '(') {
      // A tuple, or a parenthesised value: "(x)" is x, "(x,)" and "(x, y)" and "()" are tuples.
      GinValue t;
      t.kind = GinValue::Kind::kList;  // becomes kTuple at a comma
      TERRA_RETURN_IF_ERROR(parse_items(&t, ')', depth, false));
      if (t.kind == GinValue::Kind::kList && t.items.size() == 1) {
        *v = t.items[0];
      } else {
        t.kind = GinValue::Kind::kTuple;
        *v = std::move(t);
      }
      return Status::Ok();
    }
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') return parse_number(v);
    const std::string word = dotted_name();
    if (word == "True" || word == "False") {
      v->kind = GinValue::Kind::kBool;
      v->boolean = word == "True";
      return Status::Ok();
    }
    if (word == "None") {
      v->kind = GinValue::Kind::kNone;
      return Status::Ok();
    }
    if (word == "inf" || word == "nan") {
      v->kind = GinValue::Kind::kFloat;
      v->number = word == "inf" ? HUGE_VAL : NAN;
      return Status::Ok();
    }
    return error("'" + (word.empty() ? s_.substr(i_, 20) : word) + "' is not a value gin understands");
  }

  const std::string& s_;
  std::string name_;
  size_t i_ = 0;
  int line_ = 1;
};

}  // namespace

Result<GinConfig> GinConfig::parse_file(const std::string& path) {
  TERRA_ASSIGN_OR_RETURN(auto text, platform::read_file(path, uint64_t(16) << 20));
  GinConfig c;
  c.name_ = path;
  const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  TERRA_RETURN_IF_ERROR(c.parse_into(text, path, dir, 0));
  return c;
}

Result<GinConfig> GinConfig::parse(const std::string& text, const std::string& name) {
  GinConfig c;
  c.name_ = name;
  TERRA_RETURN_IF_ERROR(c.parse_into(text, name, ".", 0));
  return c;
}

Status GinConfig::parse_into(const std::string& text, const std::string& name, const std::string& dir, int depth) {
  if (depth > 8) return Status::Error(ErrorCode::kInvalidArgument, name + ": includes nested more than 8 deep");
  Parser p(text, name);
  while (!p.at_end()) {
    std::string kind, key;
    GinValue value;
    TERRA_RETURN_IF_ERROR(p.statement(&kind, &key, &value));
    if (kind == "include") {
      const std::string path = !key.empty() && key[0] == '/' ? key : dir + "/" + key;
      auto included = platform::read_file(path, uint64_t(16) << 20);
      if (!included.ok()) return p.error("include: " + included.status().message());
      const std::string sub = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
      TERRA_RETURN_IF_ERROR(parse_into(included.value(), path, sub, depth + 1));
    } else if (kind == "binding") {
      // A name with a '.' binds a configurable's parameter; without one it defines a macro.
      const size_t slash = key.rfind('/');
      if (key.find('.', slash == std::string::npos ? 0 : slash) == std::string::npos) {
        macros_[key] = value;
      } else {
        bindings_[key] = value;
      }
    }
  }
  return Status::Ok();
}

const GinValue* GinConfig::find(const std::string& name, const std::string& param) const {
  // A binding in the reference's scope wins over an unscoped one (gin's rule for scoped references).
  const std::string scope = scope_of(name), cls = short_name(name);
  const GinValue* unscoped = nullptr;
  const GinValue* scoped = nullptr;
  for (const auto& [key, value] : bindings_) {
    const size_t dot = key.rfind('.');
    if (dot == std::string::npos || key.compare(dot + 1, std::string::npos, param) != 0) continue;
    const std::string configurable = key.substr(0, dot);
    if (short_name(configurable) != cls) continue;
    const std::string key_scope = scope_of(configurable);
    if (key_scope.empty()) unscoped = &value;
    else if (!scope.empty() && key_scope == scope) scoped = &value;
  }
  return scoped ? scoped : unscoped;
}

Result<GinValue> GinConfig::resolve(const GinValue& v) const { return resolve(v, 0); }

Result<GinValue> GinConfig::resolve(const GinValue& v, int depth) const {
  if (depth > 32) return Status::Error(ErrorCode::kInvalidArgument, name_ + ": macros refer to each other in a cycle");
  if (v.kind == GinValue::Kind::kMacro) {
    auto it = macros_.find(v.text);
    if (it == macros_.end()) {
      return Status::Error(ErrorCode::kInvalidArgument, name_ + ": macro %" + v.text + " is never defined");
    }
    return resolve(it->second, depth + 1);
  }
  GinValue out = v;
  for (GinValue& item : out.items) {
    TERRA_ASSIGN_OR_RETURN(auto r, resolve(item, depth + 1));
    item = std::move(r);
  }
  return out;
}

}  // namespace terra::trax
