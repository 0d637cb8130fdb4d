#include "ledger/node/proposer.h"

#include <algorithm>

namespace ledger::node {

Proposer::Proposer(Options options, Mempool& mempool, SpeculativeState& speculative)
    : options_(std::move(options)), mempool_(mempool), speculative_(speculative) {}

bool Proposer::has_work(const consensus::PayloadRequest& request) const {
  if (speculative_.uncommitted_transactions_below(request.parent_id)) return true;
  if (mempool_.size() == 0) return false;
  auto state = speculative_.reader_after(request.parent_id);
  if (!state.is_ok()) return false;
  auto one = mempool_.select(BlockLimits{1, options_.block_limits.bytes_max}, *state.value());
  return one.is_ok() && !one.value().empty();
}

StatusOr<Proposer::Schedule> Proposer::schedule(const consensus::PayloadRequest& request,
                                                const SpeculativeState::BlockLookup& lookup,
                                                std::uint64_t now_ms) {
  auto parent = speculative_.execute(request.parent_id, lookup);
  if (!parent.is_ok()) return parent.status().with_context("executing the parent");
  Schedule out;
  out.has_work = has_work(request);
  const std::uint64_t delay_ms =
      out.has_work ? options_.block_interval_ms : options_.empty_block_interval_ms;
  out.ready_at_ms = std::min(request.parent_timestamp_ms, now_ms) + delay_ms;
  return out;
}

StatusOr<consensus::Payload> Proposer::build(const consensus::PayloadRequest& request,
                                             std::uint64_t now_ms) const {
  LEDGER_ASSIGN_OR_RETURN(auto state, speculative_.reader_after(request.parent_id));
  LEDGER_ASSIGN_OR_RETURN(auto accumulator, speculative_.accumulator_after(request.parent_id));
  // Leave room for the header: its parent QC (and a TC) carry up to one signature per validator.
  BlockLimits limits = options_.block_limits;
  const std::uint64_t header_reserve = 4096 + 2 * 128 * options_.validators;
  limits.bytes_max = limits.bytes_max > header_reserve ? limits.bytes_max - header_reserve : 0;
  consensus::Payload payload;
  payload.round = request.round;
  LEDGER_ASSIGN_OR_RETURN(payload.transactions, mempool_.select(limits, *state));
  payload.state_root = accumulator.digest();
  payload.timestamp_ms = std::max(now_ms, request.parent_timestamp_ms + 1);
  return payload;
}

}  // namespace ledger::node
