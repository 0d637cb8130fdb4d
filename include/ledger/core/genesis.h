// The genesis document: what every node of a chain must agree on before block 1.
//
// JSON form (genesis.json), every field required unless noted:
//   {
//     "chain_id": "ledgerd-dev",
//     "genesis_time": "2026-11-22T00:00:00Z",          RFC 3339, UTC, optional .sss
//     "validators": [{"public_key": "<64 hex>", "power": 1, "name": "v0"}],
//     "accounts":   [{"address": "<64 hex>", "balance": "1000000"}],   balance: decimal string
//     "consensus": {
//       "block_transactions_max": 5000, "block_bytes_max": 4194304,
//       "transaction_bytes_max": 471,
//       "round_timeout_ms": 1000, "round_timeout_multiplier_percent": 150,
//       "round_timeout_backoff_max": 6
//     }
//   }
// Validator names are 1..64 characters of [A-Za-z0-9._-]; balances are > 0 and may also be
// JSON integers. Unknown fields and keys repeated within one object are rejected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/core/block.h"
#include "ledger/core/state.h"
#include "ledger/core/validators.h"

namespace ledger {

// Keeps every valid genesis document within the genesis file size limit (about 140 bytes of
// JSON per account; see node/genesis_file.h).
inline constexpr std::size_t kGenesisAccountsMax = 400'000;

struct ConsensusParams {
  std::uint32_t block_transactions_max = 5000;      // 1..100000
  std::uint64_t block_bytes_max = 4 * 1024 * 1024;  // 1 KiB..64 MiB, fits a full block*
  // From the smallest transfer on this chain (no memo) to kTransferBytesMax (the largest).
  std::uint32_t transaction_bytes_max = static_cast<std::uint32_t>(kTransferBytesMax);
  std::uint64_t round_timeout_ms = 1000;                 // 10..600000
  std::uint32_t round_timeout_multiplier_percent = 150;  // 100..1000
  std::uint32_t round_timeout_backoff_max = 6;           // 0..32: exponent cap

  BlockLimits block_limits() const { return {block_transactions_max, block_bytes_max}; }
  friend bool operator==(const ConsensusParams&, const ConsensusParams&) = default;
};
// * block_bytes_max must also hold a header whose QC is signed by every validator plus one
//   transaction of transaction_bytes_max, so that no valid block can be undecodable.

struct GenesisAccount {
  Address address;
  std::uint64_t balance = 0;
  friend bool operator==(const GenesisAccount&, const GenesisAccount&) = default;
};

struct Genesis {
  std::string chain_id;
  std::uint64_t genesis_time_ms = 0;  // ms since the Unix epoch
  ValidatorSet validators;
  std::vector<GenesisAccount> accounts;  // distinct addresses, sorted by address after parsing
  ConsensusParams consensus;

  // SHA-256 of the canonical binary encoding of every field above.
  Hash document_hash() const;
  // Height 0, round 0, parent id = document_hash(), state root = digest of the allocation.
  Block genesis_block() const;
  StateAccumulator genesis_state() const;

  friend bool operator==(const Genesis&, const Genesis&) = default;
};

// Parses and validates genesis JSON. Every error names the field, e.g.
// "genesis: validators[2].power: must be a positive integer".
StatusOr<Genesis> parse_genesis(std::string_view json);
// Serializes to the JSON form above (pretty-printed, stable field order).
std::string genesis_to_json(const Genesis& genesis);

// RFC 3339 UTC ("2026-11-22T00:00:00Z" or with ".123") <-> ms since the epoch.
StatusOr<std::uint64_t> parse_rfc3339_utc_ms(std::string_view text);
std::string format_rfc3339_utc_ms(std::uint64_t ms);

}  // namespace ledger
