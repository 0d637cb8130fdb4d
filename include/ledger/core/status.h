// Status and StatusOr: how expected failures travel across module boundaries.
//
// Expected failures (bad input, I/O errors, full queues) are returned, never thrown. Each
// carries a code a caller can branch on and a message a person can act on.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "ledger/core/assert.h"

namespace ledger {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // malformed input: bad bytes, bad signature, wrong chain id
  kNotFound,            // the thing asked for does not exist
  kAlreadyExists,       // refusing to overwrite
  kFailedPrecondition,  // well-formed, but not valid in the current state (nonce, parent)
  kResourceExhausted,   // a named limit was reached
  kCorruption,          // stored data does not decode or does not check out
  kIoError,             // the operating system or the database failed
  kUnavailable,         // shutting down, or not ready
  kInternal,            // a bug; should never be seen
};

// Returns a stable lowercase name for `code`, e.g. "invalid_argument".
const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status invalid_argument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status already_exists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status failed_precondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status resource_exhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status io_error(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid_argument: chain id mismatch ..." or "ok".
  std::string to_string() const;

  // Returns a copy whose message is prefixed with `context` and ": ".
  Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-ok Status. Accessing the value of an error is a programmer error.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : state_(std::move(value)) {}        // NOLINT: implicit by design
  StatusOr(Status status) : state_(std::move(status)) {  // NOLINT: implicit by design
    LEDGER_ASSERT(!std::get<Status>(state_).is_ok());
  }

  bool is_ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(state_);
  }

  T& value() & {
    LEDGER_ASSERT(is_ok());
    return std::get<T>(state_);
  }
  const T& value() const& {
    LEDGER_ASSERT(is_ok());
    return std::get<T>(state_);
  }
  T&& value() && {
    LEDGER_ASSERT(is_ok());
    return std::get<T>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<Status, T> state_;
};

}  // namespace ledger

#define LEDGER_STATUS_CONCAT_INNER(a, b) a##b
#define LEDGER_STATUS_CONCAT(a, b) LEDGER_STATUS_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expression` is not ok.
#define LEDGER_RETURN_IF_ERROR(expression)              \
  do {                                                  \
    ::ledger::Status ledger_status_ = (expression);     \
    if (!ledger_status_.is_ok()) return ledger_status_; \
  } while (false)

// `lhs = value of expression`, or returns its Status from the enclosing function.
#define LEDGER_ASSIGN_OR_RETURN(lhs, expression) \
  LEDGER_ASSIGN_OR_RETURN_IMPL(LEDGER_STATUS_CONCAT(ledger_status_or_, __LINE__), lhs, expression)
#define LEDGER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expression) \
  auto tmp = (expression);                                 \
  if (!tmp.is_ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()
