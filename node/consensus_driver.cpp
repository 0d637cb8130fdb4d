#include "ledger/node/consensus_driver.h"

#include "ledger/core/assert.h"

namespace ledger::node {

ConsensusDriver::ConsensusDriver(consensus::TreeStore& tree_store, CommitPipeline& pipeline,
                                 PayloadChecker& checker, SpeculativeState& speculative,
                                 Outbox& outbox)
    : tree_store_(tree_store),
      pipeline_(pipeline),
      checker_(checker),
      speculative_(speculative),
      outbox_(outbox) {}

Status ConsensusDriver::handle(consensus::Replica& replica, consensus::Actions actions,
                               std::uint64_t now_ms, DriverOutcome& outcome) {
  // 1. Persist.
  consensus::TreeUpdate update;
  update.blocks = std::move(actions.blocks_to_persist);
  update.high_qc = std::move(actions.high_qc_to_persist);
  update.high_tc = std::move(actions.high_tc_to_persist);
  if (!update.empty()) LEDGER_RETURN_IF_ERROR(tree_store_.save(update));
  // 2. Send.
  for (auto& message : actions.messages)
    outbox_.send(std::move(message));
  // 3. Commit, then forget what left the tree: committed blocks only once they are in the chain.
  if (!actions.commits.empty()) {
    // One call: the blocks of one 2-chain are stored, and become visible, together.
    LEDGER_ASSIGN_OR_RETURN(auto stored, pipeline_.commit(std::move(actions.commits)));
    outcome.committed.insert(outcome.committed.end(), std::make_move_iterator(stored.begin()),
                             std::make_move_iterator(stored.end()));
  }
  if (!actions.blocks_to_forget.empty()) {
    for (const Hash& id : actions.blocks_to_forget)
      speculative_.forget(id);
    consensus::TreeUpdate forget;
    forget.forget = std::move(actions.blocks_to_forget);
    LEDGER_RETURN_IF_ERROR(tree_store_.save(forget));
  }
  // Informational.
  outcome.rejections.insert(outcome.rejections.end(),
                            std::make_move_iterator(actions.rejections.begin()),
                            std::make_move_iterator(actions.rejections.end()));
  outcome.evidence += actions.evidence.size();
  // Requests.
  if (actions.payload_request) outcome.payload_request = actions.payload_request;
  if (actions.payload_check) {
    const consensus::PayloadCheck& check = *actions.payload_check;
    const Status verdict = checker_.check(
        check.block, now_ms, [&replica](const Hash& id) { return replica.tree().find(id); });
    return handle(replica, replica.on_payload_checked(check.id, verdict), now_ms, outcome);
  }
  return Status::ok();
}

StatusOr<consensus::RecoveryData> load_recovery(const storage::ChainStore& chain,
                                                consensus::TreeStore& tree_store,
                                                const Block& genesis, std::size_t& stale) {
  const auto tip = chain.tip();
  LEDGER_ASSERT(tip.has_value());
  consensus::RecoveryData recovery;
  LEDGER_ASSIGN_OR_RETURN(recovery.committed_root, chain.block_at(tip->height));
  LEDGER_ASSIGN_OR_RETURN(auto tree, tree_store.load());
  recovery.high_qc = tree.high_qc ? *tree.high_qc : genesis_qc(genesis);
  LEDGER_ASSIGN_OR_RETURN(const QuorumCert tip_cert, chain.commit_cert_at(tip->height));
  if (tip_cert.round() > recovery.high_qc.round()) recovery.high_qc = tip_cert;
  recovery.high_tc = tree.high_tc;
  consensus::TreeUpdate drop;
  for (Block& block : tree.blocks) {
    if (block.header.round <= recovery.committed_root.header.round) {
      drop.forget.push_back(block.id());
    } else {
      recovery.blocks.push_back(std::move(block));
    }
  }
  stale = drop.forget.size();
  if (!drop.empty()) LEDGER_RETURN_IF_ERROR(tree_store.save(drop));
  return recovery;
}

}  // namespace ledger::node
