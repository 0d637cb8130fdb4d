// Replica: blocks committed by block sync, fed to the replica (issue 11, point E).
//
// A validator far behind pulls committed history by height (the host's BlockSync verifies hash
// links, transactions roots and every commit certificate) and commits it through the host's
// commit pipeline. The replica is then told where the committed chain is now: it re-roots its
// tree there instead of being destroyed and rebuilt, so its pacemaker, pending votes, fetches of
// blocks above the new root and the orphans that extend it survive. Nothing here signs, and the
// safety data is never read or written: moving the committed root, high QC and round up can only
// make SafetyRules refuse more, never sign what it refused before.
#include <algorithm>

#include "ledger/consensus/replica.h"

namespace ledger::consensus {
namespace {

std::string str(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

// Everything but the certificate's signatures, cheapest first; then the signatures.
bool Replica::check_synced_commit(Actions& out, const Block& block, const Hash& id,
                                  const QuorumCert& commit_cert) {
  const PublicKey& self = public_key();
  const BlockHeader& h = block.header;
  if (h.chain_id != config_.chain_id) {
    reject(out, RejectReason::kWrongChain, self, "synced block of chain " + h.chain_id);
    return false;
  }
  if (block.id() != id) {
    reject(out, RejectReason::kMalformed, self, "synced block id " + id.hex() + " is not its id");
    return false;
  }
  if (h.height <= committed_height()) {
    if (h.height == committed_height() && id != committed_id()) {
      reject(out, RejectReason::kConflictsWithCommit, self,
             "synced block " + id.hex() + " at committed height " + str(h.height) +
                 " is not the committed block " + committed_id().hex());
    }
    return false;  // already committed: nothing to do
  }
  if (h.round <= committed_round()) {
    reject(out, RejectReason::kConflictsWithCommit, self,
           "synced block " + id.hex() + " at height " + str(h.height) + " has round " +
               str(h.round) + ", not above the committed round " + str(committed_round()));
    return false;
  }
  const QuorumCert& qc = commit_cert;
  const auto next = checked_add(qc.data.parent_round, 1);
  // A round with no successor could never be left (advance_round): refused like create() does.
  const bool two_chain =
      qc.round() > 0 && next && *next == qc.round() && checked_add(qc.round(), 1).has_value();
  // B0 is this block, or a later block of the same commit batch (a higher round).
  const bool commits_block =
      qc.data.parent_id == id ? qc.data.parent_round == h.round : qc.data.parent_round > h.round;
  if (!two_chain || !commits_block) {
    reject(out, RejectReason::kInvalidCertificate, self,
           "the commit certificate of synced block " + id.hex() + " (round " + str(qc.round()) +
               ", parent round " + str(qc.data.parent_round) + ") does not commit it");
    return false;
  }
  if (Status s = safety_.verifier().verify_qc(qc); !s.is_ok()) {
    reject(out, RejectReason::kInvalidCertificate, self,
           "the commit certificate of synced block " + id.hex() + ": " + s.message());
    return false;
  }
  return true;
}

// What the new committed root made pointless: orphans and fetches at or below it, and a proposal
// waiting for a parent that can no longer join the tree.
void Replica::drop_moot_after_reroot() {
  const std::uint64_t committed = tree_.committed_round();
  std::erase_if(orphans_,
                [committed](const auto& entry) { return entry.second.header.round <= committed; });
  std::erase_if(fetches_, [this, committed](const auto& entry) {
    return entry.second.round <= committed || tree_.contains(entry.first);
  });
  if (waiting_proposal_) {
    const BlockHeader& h = waiting_proposal_->second.block.header;
    if (!tree_.contains(h.parent_id) && h.parent_qc.round() <= committed) {
      waiting_proposal_.reset();
    }
  }
  if (checking_proposal_ && !tree_.contains(checking_proposal_->proposal.block.header.parent_id)) {
    checking_proposal_.reset();  // its parent left the tree: the verdict could not be used
  }
  if (pending_commit_ && pending_commit_->data.parent_round <= committed) pending_commit_.reset();
}

Actions Replica::on_synced_commit(const Block& block, const Hash& id,
                                  const QuorumCert& commit_cert) {
  Actions out;
  if (!check_synced_commit(out, block, id, commit_cert)) return out;
  const std::uint64_t last_voted_round = safety_.data().last_voted_round;
  std::vector<Hash> dropped = tree_.reroot(block, id);
  out.blocks_to_forget.insert(out.blocks_to_forget.end(), dropped.begin(), dropped.end());
  drop_moot_after_reroot();
  // Fetched blocks that extend the new root join the tree (and are persisted).
  connect_orphans(out, id, public_key());
  // High QC, a later B0 to commit once it is here (fetched if not), the round.
  apply_qc(out, commit_cert, public_key());
  maybe_request_payload(out);
  resume_pending_proposal(out);
  LEDGER_ASSERT(tree_.committed_round() >= block.header.round);
  LEDGER_ASSERT(high_qc_.round() >= commit_cert.round());
  LEDGER_ASSERT(current_round_ > high_qc_.round());
  LEDGER_ASSERT(safety_.data().last_voted_round >= last_voted_round);
  return out;
}

}  // namespace ledger::consensus
