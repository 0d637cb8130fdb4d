// Chain ids name a ledger; every signed payload carries one so that nothing signed for one
// chain verifies on another.
#pragma once

#include <cstddef>
#include <string_view>

#include "ledger/core/status.h"

namespace ledger {

// Same bound as CometBFT's chain id.
inline constexpr std::size_t kChainIdBytesMax = 50;

// A chain id is 1..50 characters of [A-Za-z0-9._-]. The error names the first bad character.
Status validate_chain_id(std::string_view chain_id);

}  // namespace ledger
