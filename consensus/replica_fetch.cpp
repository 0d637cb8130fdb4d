// Replica: the block tree's inputs and missing-ancestor fetching.
//
// A block is only ever requested by an id that a verified certificate (or a verified proposal's
// QC) names, and a response is accepted only as a hash chain starting at an id we asked for, so
// every fetched block is authenticated by hashes back to a verified QC. Their own QCs are
// verified as well before they are used.
#include <algorithm>

#include "ledger/consensus/replica.h"

namespace ledger::consensus {

void Replica::request_block(Actions& out, const Hash& id, const PublicKey& peer) {
  if (fetches_.contains(id) || fetches_.size() >= config_.fetches_inflight_max) return;
  PublicKey target = peer;
  if (target == public_key()) {
    // No better idea whom to ask: rotate over the other validators.
    const std::size_t n = config_.validators.size();
    if (n < 2) return;
    target = config_.validators.at(next_fetch_peer_ % n).key;
    if (target == public_key()) target = config_.validators.at(++next_fetch_peer_ % n).key;
    ++next_fetch_peer_;
  }
  const auto deadline = checked_add(timer_.now_ticks(), config_.fetch_retry_ticks);
  fetches_.emplace(id, Fetch{target, deadline.value_or(UINT64_MAX)});
  out.messages.push_back(OutgoingMessage{target, BlockRequest{id, config_.fetch_blocks_max}});
  LEDGER_ASSERT(fetches_.size() <= config_.fetches_inflight_max);
}

void Replica::retry_fetches(Actions& out) {
  const std::size_t n = config_.validators.size();
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    if (tree_.contains(it->first) || orphans_.contains(it->first)) {
      it = fetches_.erase(it);
      continue;
    }
    if (it->second.deadline_ticks > timer_.now_ticks() || n < 2) {
      ++it;
      continue;
    }
    PublicKey target = config_.validators.at(next_fetch_peer_++ % n).key;
    if (target == public_key() || target == it->second.peer) {
      target = config_.validators.at(next_fetch_peer_++ % n).key;
    }
    if (target == public_key()) target = config_.validators.at(next_fetch_peer_++ % n).key;
    it->second.peer = target;
    it->second.deadline_ticks =
        checked_add(timer_.now_ticks(), config_.fetch_retry_ticks).value_or(UINT64_MAX);
    out.messages.push_back(
        OutgoingMessage{target, BlockRequest{it->first, config_.fetch_blocks_max}});
    ++it;
  }
}

bool Replica::add_to_tree(Actions& out, const Block& block, const Hash& id, const PublicKey& from) {
  if (block.header.round <= tree_.committed_round()) return false;
  Status s = tree_.insert(block, id);
  if (s.code() == StatusCode::kAlreadyExists) return true;
  if (!s.is_ok()) {
    reject(out,
           s.code() == StatusCode::kResourceExhausted ? RejectReason::kResourceExhausted
                                                      : RejectReason::kInvalidBlock,
           from, "block " + id.hex() + ": " + s.message());
    return false;
  }
  out.blocks_to_persist.push_back(block);
  apply_qc(out, block.header.parent_qc, from);  // verified by the caller
  return true;
}

bool Replica::insert_block(Actions& out, const Block& block, const Hash& id,
                           const PublicKey& from) {
  if (!add_to_tree(out, block, id, from)) return false;
  connect_orphans(out, id, from);
  try_commit(out);
  maybe_request_payload(out);
  resume_pending_proposal(out);
  return true;
}

void Replica::connect_orphans(Actions& out, const Hash& parent_id, const PublicKey& from) {
  std::vector<Hash> parents{parent_id};
  while (!parents.empty()) {
    const Hash parent = parents.back();
    parents.pop_back();
    std::vector<Hash> children;
    for (const auto& [id, block] : orphans_) {
      if (block.header.parent_id == parent) children.push_back(id);
    }
    for (const Hash& child : children) {
      Block block = std::move(orphans_.at(child));
      orphans_.erase(child);
      if (add_to_tree(out, block, child, from)) parents.push_back(child);
    }
  }
}

void Replica::resume_pending_proposal(Actions& out) {
  if (!waiting_proposal_) return;
  if (!tree_.contains(waiting_proposal_->second.block.header.parent_id)) return;
  auto [from, proposal] = std::move(*waiting_proposal_);
  waiting_proposal_.reset();
  if (proposal.block.header.round != current_round_) return;
  process_proposal(out, from, proposal, proposal.block.id());
}

Actions Replica::on_block_request(const PublicKey& from, const BlockRequest& request) {
  Actions out;
  const std::size_t count = std::min<std::size_t>(request.count, config_.fetch_blocks_max);
  out.messages.push_back(
      OutgoingMessage{from, BlockResponse{tree_.chain_back(request.block_id, count)}});
  return out;
}

Actions Replica::on_block_response(const PublicKey& from, const BlockResponse& response) {
  Actions out;
  if (response.blocks.empty()) return out;  // the peer does not have it; retried on the timer
  const Hash first_id = response.blocks.front().id();
  if (!fetches_.contains(first_id)) {
    if (!tree_.contains(first_id)) {
      reject(out, RejectReason::kUnsolicited, from, "block " + first_id.hex() + " not requested");
    }
    return out;
  }
  fetches_.erase(first_id);
  // Keep the hash-linked prefix: each block must be the parent of the one before.
  std::vector<std::pair<Hash, const Block*>> chain{{first_id, &response.blocks.front()}};
  for (std::size_t i = 1; i < response.blocks.size(); ++i) {
    Hash id = response.blocks[i].id();
    if (id != chain.back().second->header.parent_id) {
      reject(out, RejectReason::kUnsolicited, from, "block response is not a parent chain");
      break;
    }
    chain.emplace_back(id, &response.blocks[i]);
  }
  // Oldest first. Blocks at or below the committed round are our committed ancestors (or
  // conflict with them); either way they are not needed.
  std::reverse(chain.begin(), chain.end());
  const Block* oldest_missing = nullptr;
  for (const auto& [id, block] : chain) {
    const BlockHeader& h = block->header;
    if (h.round <= tree_.committed_round() || tree_.contains(id) || orphans_.contains(id)) continue;
    if (h.chain_id != config_.chain_id) {
      reject(out, RejectReason::kWrongChain, from, "fetched block of chain " + h.chain_id);
      return out;
    }
    if (Status s = safety_.verifier().verify_qc(h.parent_qc); !s.is_ok()) {
      reject(out, RejectReason::kInvalidCertificate, from, "fetched block QC: " + s.message());
      return out;
    }
    if (tree_.contains(h.parent_id)) {
      if (!insert_block(out, *block, id, from)) return out;
      continue;
    }
    if (h.parent_qc.round() <= tree_.committed_round() && h.parent_id != tree_.root_id()) {
      reject(out, RejectReason::kConflictsWithCommit, from,
             "fetched block does not extend the committed chain");
      return out;
    }
    if (tree_.size() + orphans_.size() >= config_.pending_blocks_max) {
      reject(out, RejectReason::kResourceExhausted, from,
             "pending_blocks_max reached while fetching");
      return out;
    }
    orphans_.emplace(id, *block);
    if (oldest_missing == nullptr) oldest_missing = block;
  }
  // Still not connected: ask the same peer for what comes before.
  if (oldest_missing != nullptr && !tree_.contains(oldest_missing->header.parent_id)) {
    request_block(out, oldest_missing->header.parent_id, from);
  }
  return out;
}

}  // namespace ledger::consensus
