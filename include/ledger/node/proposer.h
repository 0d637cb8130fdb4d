// The leader's side of a round: when to propose and what (the answer to the replica's
// Actions::payload_request; docs/architecture.md).
//
// A leader proposes at once (after block_interval_ms from the parent's timestamp) when there is
// something to commit: a transaction the block could include, or transactions in uncommitted
// ancestors that only a child's certificate will commit (2-chain). Otherwise it waits
// empty_block_interval_ms. Transactions waiting behind a nonce gap do not count.
// Inputs: the request, the time now (the shell reads the clock), a lookup of uncommitted blocks.
// Outputs: the time at which to propose, then the payload. The shell owns the timer.
//
// Thread-compatible: the event loop (or the simulator) calls it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ledger/consensus/replica.h"
#include "ledger/node/mempool.h"
#include "ledger/node/speculative_state.h"

namespace ledger::node {

class Proposer {
 public:
  struct Options {
    BlockLimits block_limits;    // the genesis block limits
    std::size_t validators = 1;  // the header's QC and TC carry up to one signature each
    std::uint64_t block_interval_ms = 0;
    std::uint64_t empty_block_interval_ms = 500;
  };
  struct Schedule {
    std::uint64_t ready_at_ms = 0;  // propose at this time (ms since the epoch) or later
    bool has_work = false;          // false: an empty block is being held back
  };

  // `mempool` and `speculative` must outlive the proposer.
  Proposer(Options options, Mempool& mempool, SpeculativeState& speculative);

  // Executes the parent (and uncommitted ancestors) first. Errors: the parent cannot be
  // executed (kNotFound or a store error), with context. The interval counts from the parent's
  // timestamp, but never from later than `now_ms`: the parent's leader chose its timestamp, up
  // to PayloadChecker's time_ahead_max_ms ahead of the validators' clocks, and waiting for it
  // would hold every leader on that parent past its round timer.
  StatusOr<Schedule> schedule(const consensus::PayloadRequest& request,
                              const SpeculativeState::BlockLookup& lookup, std::uint64_t now_ms);
  // The payload: transactions from the mempool that fit the block limits (room kept for the
  // header's certificates), the state root after the parent, a timestamp max(now, parent + 1).
  // The parent must have been executed (schedule()).
  StatusOr<consensus::Payload> build(const consensus::PayloadRequest& request,
                                     std::uint64_t now_ms) const;

 private:
  bool has_work(const consensus::PayloadRequest& request) const;

  Options options_;
  Mempool& mempool_;
  SpeculativeState& speculative_;
};

}  // namespace ledger::node
