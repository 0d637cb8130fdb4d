#include "ledger/node/sync_applier.h"

#include <algorithm>

#include "ledger/core/bytes.h"

namespace ledger::node {
namespace {

// A failed write, a damaged store or a safety violation stops the node.
bool fatal(const Status& s) {
  return s.code() == StatusCode::kIoError || s.code() == StatusCode::kCorruption ||
         s.code() == StatusCode::kInternal;
}

// This node's own limits (the speculative state full even for one block): not what the peer
// sent. The rest (a state root that is not the state after the parent, above all) is that
// peer's failure, and the node asks another one.
bool local(const Status& s) {
  return s.code() == StatusCode::kResourceExhausted;
}

void append(std::vector<SyncNote>& to, std::vector<SyncNote> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

}  // namespace

SyncApplied SyncApplier::on_response(const PublicKey& peer, const SyncResponseMessage& response,
                                     const storage::ChainTip& tip, SyncTime now,
                                     consensus::Replica* replica) {
  SyncApplied applied;
  SyncOutput out = sync_.on_response(peer, response, tip, now);
  applied.notes = std::move(out.notes);
  if (out.commits.empty()) return applied;
  const std::uint64_t round = replica ? replica->current_round() : 0;
  applied.status = commit(std::move(out.commits), round, applied);
  if (!applied.status.is_ok()) {
    applied.fatal = fatal(applied.status);
    if (applied.fatal) return applied;
    if (local(applied.status)) {
      applied.notes.push_back(SyncNote{
          SyncNote::Level::kWarn, "sync: cannot commit what " + to_hex(peer.bytes).substr(0, 12) +
                                      " sent yet: " + applied.status.message()});
    } else {
      append(applied.notes, sync_.on_commit_refused(peer, applied.status.message(), now).notes);
    }
  }
  // The replica is fed the new committed tip, not rebuilt (issue 11, point E): it re-roots its
  // tree there and keeps its round, votes, fetches and the blocks that extend the tip.
  if (replica && applied.last && applied.last->block.header.height > replica->committed_height()) {
    const consensus::CommittedBlock& last = *applied.last;
    applied.replica_actions =
        replica->on_synced_commit(last.block, last.block.id(), last.commit_cert);
  }
  return applied;
}

// One write per shared commit certificate, so that readers see each batch at once, unless the
// batch is longer than the commit pipeline's room: an honest batch can be twice the voters'
// pending_blocks_max, which need not be this node's. Such a batch is written in parts, and the
// publication rule (ChainView) keeps readers off it until its B0 is stored. The state root is
// this node's to check: the commit pipeline compares it with the state after the parent.
Status SyncApplier::commit(std::vector<SyncCommitGroup> groups, std::uint64_t current_round,
                           SyncApplied& applied) {
  for (SyncCommitGroup& group : groups) {
    std::size_t next = 0;
    while (next < group.blocks.size()) {
      const std::size_t size =
          std::min(group.blocks.size() - next, std::max<std::size_t>(pipeline_.room(), 1));
      std::vector<consensus::CommittedBlock> batch;
      batch.reserve(size);
      for (std::size_t i = next; i < next + size; ++i) {
        batch.push_back(
            consensus::CommittedBlock{std::move(group.blocks[i].block), group.commit_cert});
      }
      next += size;
      consensus::CommittedBlock tail = batch.back();
      LEDGER_ASSIGN_OR_RETURN(auto stored, pipeline_.commit(std::move(batch)));
      view_.publish_batch(stored, current_round);
      applied.stored.insert(applied.stored.end(), std::make_move_iterator(stored.begin()),
                            std::make_move_iterator(stored.end()));
      applied.committed += size;
      applied.last = std::move(tail);
    }
  }
  return Status::ok();
}

}  // namespace ledger::node
