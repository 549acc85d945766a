#pragma once
// A small Result<T> for expected failures (std::expected is C++23). Errors are values with a
// message that already carries its context (file:line: key, peer, errno...).
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace egw {

struct Error {
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}      // NOLINT
  static Result failure(std::string msg) { return Result(Error{std::move(msg)}); }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T& value() & { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const std::string& error() const { assert(!ok()); return std::get<Error>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e.message)), failed_(true) {}  // NOLINT
  static Result failure(std::string msg) { return Result(Error{std::move(msg)}); }
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { assert(failed_); return err_; }

 private:
  std::string err_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace egw
