// The one Result type of charon's hosted code (charon-kexec, its library,
// the ia64 planner and interpreter): every fallible step returns a
// Result<T> or a Status carrying one human-readable sentence. The CLI
// prints that sentence as is, so each message names the field or file and
// the value that was wrong. Freestanding code returns status codes
// instead (common/include/charon/kimage/status.h); a hosted adapter turns
// them into these sentences.
#pragma once
#include <cstdarg>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

namespace charon {

[[gnu::format(printf, 1, 2)]] inline std::string strf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  va_list ap2;
  va_copy(ap2, ap);
  const int n = std::vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  std::string out;
  if (n < 0) {
    va_end(ap2);
    return "(format error)";
  }
  if (static_cast<size_t>(n) < sizeof(small)) {
    out.assign(small, static_cast<size_t>(n));
  } else {
    out.resize(static_cast<size_t>(n) + 1);
    std::vsnprintf(out.data(), out.size(), fmt, ap2);
    out.resize(static_cast<size_t>(n));
  }
  va_end(ap2);
  return out;
}

struct Error {
  std::string message;
};

[[gnu::format(printf, 1, 2)]] inline Error fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char buf[1024];
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return Error{buf};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Error e) : error_(std::move(e.message)) {}
  static Result failure(std::string message) { return Result(Error{std::move(message)}); }
  bool ok() const { return value_.has_value(); }
  const T& value() const { return *value_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  std::string error_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e.message)) {}
  static Status Ok() { return Status(); }
  bool ok() const { return error_.empty(); }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace charon
