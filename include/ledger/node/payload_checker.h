// The host's check of another leader's proposed payload: the answer to the replica's
// Actions::payload_check (docs/architecture.md). What consensus cannot judge itself:
//   - every transaction is for this chain and signed by its sender (through the signature cache,
//     so a transaction already verified at admission costs nothing);
//   - the header's state root is the state after the parent, which may need the speculative
//     execution of uncommitted ancestors (found through the replica's tree);
//   - the timestamp is at most time_ahead_max_ms ahead of this node's clock (kUnavailable when
//     it is: transient, the replica checks again on its next ticks).
// Inputs: the block, the time now (the shell reads the clock) and a lookup of uncommitted blocks.
// Output: OK, or an error whose message says what is wrong. No I/O beyond the chain store reads
// of SpeculativeState; no clock.
//
// Thread-compatible: the event loop (or the simulator) calls it.
#pragma once

#include <cstdint>
#include <string>

#include "ledger/core/block.h"
#include "ledger/core/status.h"
#include "ledger/node/signature_cache.h"
#include "ledger/node/speculative_state.h"

namespace ledger::node {

class PayloadChecker {
 public:
  struct Options {
    std::string chain_id;
    std::uint64_t time_ahead_max_ms = 30'000;  // a block further ahead of our clock waits
  };

  // `signatures` and `speculative` must outlive the checker.
  PayloadChecker(Options options, SignatureCache& signatures, SpeculativeState& speculative);

  // kInvalidArgument naming the first bad transaction or the state root; kUnavailable for a
  // timestamp too far ahead of `now_ms`; kNotFound (or another store error) with context when
  // the parent cannot be executed.
  Status check(const Block& block, std::uint64_t now_ms,
               const SpeculativeState::BlockLookup& lookup);

 private:
  Options options_;
  SignatureCache& signatures_;
  SpeculativeState& speculative_;
};

}  // namespace ledger::node
