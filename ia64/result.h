// A value or one clear error message, for the host-side ia64 tools.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace charon::ia64 {

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  static Result failure(std::string message) { return Result(Error{std::move(message)}); }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  const std::string& error() const { return std::get<Error>(v_).message; }

 private:
  struct Error {
    std::string message;
  };
  explicit Result(Error e) : v_(std::move(e)) {}
  std::variant<T, Error> v_;
};

}  // namespace charon::ia64
