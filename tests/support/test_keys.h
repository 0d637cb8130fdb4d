// Small helpers shared by the unit tests: fixed keys and status message checks.
#pragma once

#include <cstdint>
#include <string_view>

#include "ledger/core/keys.h"
#include "ledger/core/status.h"

namespace ledger::testing {

// A signer with a fixed secret key: all zero except byte 0 = `prefix` and byte 31 = `last`
// (not both zero). Different prefixes give test files disjoint key sets.
Signer test_signer(std::uint8_t prefix, std::uint8_t last);

// The smallest x in 1..255 (as a 32-byte big-endian value) that is not on the curve.
PublicKey off_curve_key();

// Whether `status`'s message contains `text`.
bool contains(const Status& status, std::string_view text);

}  // namespace ledger::testing
