// The chain verifier behind `ledgerd verify`: re-reads every stored block and checks it against
// the genesis document, its parent, its indexes and its commit certificate, then re-executes
// every transaction from the genesis allocation and compares results and state digests.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ledger/core/genesis.h"
#include "ledger/storage/chain_store.h"

namespace ledger::storage {

// Stop collecting after this many problems; the report says it was cut.
inline constexpr std::size_t kVerifyProblemsMax = 100;

struct VerifyOptions {
  bool check_signatures = true;  // QC signatures and transaction signatures
  // Called after each verified height (for progress output); may be empty.
  std::function<void(std::uint64_t height)> progress;
};

struct VerifyProblem {
  std::uint64_t height = 0;
  std::string message;  // what is wrong, e.g. "parent id ... does not match block 4 id ..."
};

struct VerifyReport {
  std::uint64_t blocks_checked = 0;
  std::uint64_t transactions_checked = 0;
  std::vector<VerifyProblem> problems;  // at most kVerifyProblemsMax
  bool truncated = false;               // more problems than kVerifyProblemsMax were found

  bool ok() const { return problems.empty(); }
};

// Checks, for every height from 0 to the tip:
//  - the stored bytes decode (corruption is a problem, not a crash);
//  - height 0 equals genesis.genesis_block();
//  - height, chain id, parent id and parent QC link to the previous block; round and
//    timestamp increase; the block id index points back at the height;
//  - the transactions root matches; every transaction is indexed at its position or, for a
//    repeated transaction, at its first earlier position;
//  - the commit certificate is a valid QC of the genesis validators proving a 2-chain over this
//    block or a stored descendant;
//  - re-execution gives the stored results, the stored state root, and the header state root of
//    the next block; at the tip, the stored accounts and accumulator equal the recomputed state.
// Holds the re-executed account state in memory (O(accounts)).
// Returns an error only if the store cannot be read at all; everything else is a problem in the
// report.
StatusOr<VerifyReport> verify_chain(const ChainStore& store, const Genesis& genesis,
                                    const VerifyOptions& options = {});

}  // namespace ledger::storage
