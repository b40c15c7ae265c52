// Errors are values: every fallible runtime call returns a Status (or a Result<T>) whose message
// names the problem (file, tensor, field, value). The runtime never throws or aborts on bad input.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace terra {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // a bad option, token or prompt from the caller
  kIo,               // a file that cannot be opened, mapped or written
  kCorruptModel,     // a model file that fails verification
  kUnsupported,      // a valid model using a feature this build does not run
  kOutOfRange,       // a context longer than the session was planned for
  kOutOfMemory,
};

const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(ErrorCode code, std::string message) {
    Status s;
    s.code_ = code;
    s.message_ = std::move(message);
    return s;
  }
  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T value() && { return std::move(*value_); }  // a temporary's value outlives it (range-for)
  T&& take() { return std::move(*value_); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace terra

#define TERRA_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::terra::Status terra_status_ = (expr);  \
    if (!terra_status_.ok()) return terra_status_; \
  } while (0)

// `TERRA_ASSIGN_OR_RETURN(auto x, make());` declares x from a Result's value, or returns its error.
#define TERRA_ASSIGN_OR_RETURN(lhs, expr) \
  TERRA_ASSIGN_OR_RETURN_IMPL(TERRA_STATUS_CONCAT(terra_result_, __LINE__), lhs, expr)
#define TERRA_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                                \
  if (!result.ok()) return result.status();            \
  lhs = result.take()
#define TERRA_STATUS_CONCAT(a, b) TERRA_STATUS_CONCAT_INNER(a, b)
#define TERRA_STATUS_CONCAT_INNER(a, b) a##b
