//===- Result.h - Errors as values ------------------------------*- C++ -*-===//
//
// Every Tessel call that can fail returns a Status or a Result<T>: the value,
// or a message a user can act on. Nothing in the public API throws or aborts.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_RESULT_H
#define TESSEL_RESULT_H

#include <optional>
#include <string>
#include <utility>

namespace tessel {

/// Success, or an error message.
class Status {
public:
  Status() = default;
  static Status error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !message_; }
  explicit operator bool() const { return ok(); }
  /// The error message; empty on success.
  const std::string &message() const {
    static const std::string none;
    return message_ ? *message_ : none;
  }

private:
  explicit Status(std::string message) : message_(std::move(message)) {}
  std::optional<std::string> message_;
};

/// A value of type T, or an error message.
template <typename T> class Result {
public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status status) : status_(std::move(status)) {}
  static Result error(std::string message) { return Status::error(std::move(message)); }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status &status() const { return status_; }
  const std::string &message() const { return status_.message(); }

  T &value() { return *value_; }
  const T &value() const { return *value_; }
  T &operator*() { return *value_; }
  const T &operator*() const { return *value_; }
  T *operator->() { return &*value_; }
  const T *operator->() const { return &*value_; }

private:
  std::optional<T> value_;
  Status status_;
};

} // namespace tessel

#endif // TESSEL_RESULT_H
