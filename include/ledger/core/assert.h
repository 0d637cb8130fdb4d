// Assertions that stay on in release builds.
//
// LEDGER_ASSERT is for programmer errors only: a broken invariant aborts the process with the
// file, line and expression. Input from peers, clients and disk is never asserted on; it is
// validated and answered with a Status.
#pragma once

namespace ledger::detail {
[[noreturn]] void assert_failed(const char* expression, const char* file, int line);
}  // namespace ledger::detail

#define LEDGER_ASSERT(expression)                                       \
  do {                                                                  \
    if (!(expression)) [[unlikely]] {                                   \
      ::ledger::detail::assert_failed(#expression, __FILE__, __LINE__); \
    }                                                                   \
  } while (false)
