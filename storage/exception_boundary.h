// Keeps exceptions inside storage/ (STYLE.md: exceptions do not cross module boundaries).
// Every public entry point of a store runs its body through guard_exceptions, so an allocation
// failure or an exception thrown inside RocksDB comes back as a Status instead of unwinding
// into consensus or the node.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "ledger/core/status.h"

namespace ledger::storage::detail {

// Runs `body` (returning Status or StatusOr<T>) and turns any std::exception into kInternal
// naming `operation`.
template <typename Body>
auto guard_exceptions(std::string_view operation, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return Status::internal(std::string(operation) + ": unexpected exception: " + e.what());
  } catch (...) {
    return Status::internal(std::string(operation) + ": unexpected non-standard exception");
  }
}

}  // namespace ledger::storage::detail
