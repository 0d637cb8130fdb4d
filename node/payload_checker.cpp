#include "ledger/node/payload_checker.h"

#include "ledger/core/bytes.h"

namespace ledger::node {
namespace {

std::string short_id(const Hash& id) {
  return to_hex(id.bytes).substr(0, 12);
}

}  // namespace

PayloadChecker::PayloadChecker(Options options, SignatureCache& signatures,
                               SpeculativeState& speculative)
    : options_(std::move(options)), signatures_(signatures), speculative_(speculative) {}

Status PayloadChecker::check(const Block& block, std::uint64_t now_ms,
                             const SpeculativeState::BlockLookup& lookup) {
  // "Ahead of this clock" is this node's view, not a property of the block: a clock a few ms
  // behind the others' would refuse, for the whole round, a child its peers accept (a Byzantine
  // leader times its block to the edge). Transient, so the replica checks again on its next
  // ticks (payload_check_attempts_max).
  if (block.header.timestamp_ms > now_ms + options_.time_ahead_max_ms) {
    return Status::unavailable("timestamp " + std::to_string(block.header.timestamp_ms) +
                               " is more than " + std::to_string(options_.time_ahead_max_ms) +
                               " ms ahead of this node's clock (" + std::to_string(now_ms) + ")");
  }
  for (std::size_t i = 0; i < block.transactions.size(); ++i) {
    const SignedTransfer& tx = block.transactions[i];
    if (tx.transfer.chain_id != options_.chain_id) {
      return Status::invalid_argument("transaction " + std::to_string(i) + " is for chain " +
                                      tx.transfer.chain_id);
    }
    if (!signatures_.verify(tx)) {
      return Status::invalid_argument("transaction " + std::to_string(i) +
                                      " is not signed by its sender");
    }
  }
  auto parent = speculative_.execute(block.header.parent_id, lookup);
  if (!parent.is_ok()) return parent.status().with_context("executing the parent");
  LEDGER_ASSIGN_OR_RETURN(const auto accumulator,
                          speculative_.accumulator_after(block.header.parent_id));
  if (accumulator.digest() != block.header.state_root) {
    return Status::invalid_argument("state root " + short_id(block.header.state_root) +
                                    " is not the state after the parent (" +
                                    short_id(accumulator.digest()) + ")");
  }
  return Status::ok();
}

}  // namespace ledger::node
