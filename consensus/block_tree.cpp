#include "ledger/consensus/block_tree.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <unordered_set>

namespace ledger::consensus {

BlockTree::BlockTree(Block root, std::size_t pending_blocks_max)
    : root_id_(root.id()), pending_blocks_max_(pending_blocks_max) {
  LEDGER_ASSERT(pending_blocks_max_ >= 1);
  nodes_.emplace(root_id_, Node{std::move(root), Hash{}});
}

const Block* BlockTree::find(const Hash& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second.block;
}

Status BlockTree::insert(const Block& block, const Hash& id, bool extends_certified) {
  LEDGER_ASSERT(block.id() == id);
  if (nodes_.contains(id)) return Status::already_exists("block " + id.hex() + " is in the tree");
  const BlockHeader& h = block.header;
#ifndef LEDGER_TEST_SKIP_TX_ROOT_CHECK  // negative control only (tests/sim)
  if (transactions_root(block.transactions) != h.transactions_root) {
    return Status::invalid_argument("block " + id.hex() + ": its " +
                                    std::to_string(block.transactions.size()) +
                                    " transactions do not match the header's transactions root");
  }
#endif
  auto parent_it = nodes_.find(h.parent_id);
  if (parent_it == nodes_.end()) {
    return Status::failed_precondition("parent " + h.parent_id.hex() + " is not in the tree");
  }
  const BlockHeader& p = parent_it->second.block.header;
  if (h.parent_qc.block_id() != h.parent_id) {
    return Status::failed_precondition("parent id differs from the parent QC's block");
  }
  if (h.parent_qc.round() != p.round) {
    return Status::failed_precondition("parent QC round " + std::to_string(h.parent_qc.round()) +
                                       " is not the parent's round " + std::to_string(p.round));
  }
  if (h.chain_id != p.chain_id) return Status::failed_precondition("chain id differs from parent");
  if (p.height == UINT64_MAX || h.height != p.height + 1) {
    return Status::failed_precondition("height " + std::to_string(h.height) +
                                       " is not parent height + 1");
  }
  if (h.round <= p.round) {
    return Status::failed_precondition("round " + std::to_string(h.round) +
                                       " is not above the parent's " + std::to_string(p.round));
  }
  if (h.timestamp_ms <= p.timestamp_ms) {
    return Status::failed_precondition("timestamp " + std::to_string(h.timestamp_ms) +
                                       " is not after the parent's " +
                                       std::to_string(p.timestamp_ms));
  }
  const std::size_t cap = extends_certified ? blocks_max(pending_blocks_max_) : pending_blocks_max_;
  if (size() >= cap) {
    return Status::resource_exhausted(
        "pending_blocks_max (" + std::to_string(pending_blocks_max_) +
        ") uncommitted blocks reached" +
        (extends_certified ? " twice over on the certified chain" : ""));
  }
  nodes_.emplace(id, Node{block, h.parent_id});
  LEDGER_ASSERT(size() <= blocks_max(pending_blocks_max_));
  return Status::ok();
}

std::vector<Hash> BlockTree::evict(const std::vector<Hash>& keep, std::size_t count) {
  std::unordered_set<Hash, HashHasher> kept{root_id_};
  for (const Hash& id : keep) {
    Hash cursor = id;
    while (nodes_.contains(cursor) && kept.insert(cursor).second) {
      cursor = nodes_.at(cursor).parent;
    }
  }
  std::unordered_map<Hash, std::size_t, HashHasher> children;
  for (const auto& [id, node] : nodes_) {
    if (id != root_id_) ++children[node.parent];
  }
  // Leaves by (round, id): the order is deterministic.
  using Leaf = std::pair<std::uint64_t, Hash>;
  std::priority_queue<Leaf, std::vector<Leaf>, std::greater<>> leaves;
  for (const auto& [id, node] : nodes_) {
    if (!kept.contains(id) && !children.contains(id)) leaves.emplace(node.block.header.round, id);
  }
  std::vector<Hash> evicted;
  while (evicted.size() < count && !leaves.empty()) {
    const Hash id = leaves.top().second;
    leaves.pop();
    const Hash parent = nodes_.at(id).parent;
    nodes_.erase(id);
    evicted.push_back(id);
    if (--children.at(parent) == 0 && !kept.contains(parent)) {
      children.erase(parent);
      leaves.emplace(nodes_.at(parent).block.header.round, parent);
    }
  }
  LEDGER_ASSERT(nodes_.contains(root_id_));
  return evicted;
}

bool BlockTree::descends_from(const Hash& id, const Hash& ancestor) const {
  Hash cursor = id;
  while (true) {
    if (cursor == ancestor) return true;
    auto it = nodes_.find(cursor);
    if (it == nodes_.end() || cursor == root_id_) return false;
    cursor = it->second.parent;
  }
}

std::vector<const Block*> BlockTree::path_from_root(const Hash& id) const {
  std::vector<const Block*> path;
  Hash cursor = id;
  while (cursor != root_id_) {
    auto it = nodes_.find(cursor);
    if (it == nodes_.end()) return {};
    path.push_back(&it->second.block);
    cursor = it->second.parent;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<Hash> BlockTree::commit(const Hash& id) {
  LEDGER_ASSERT(nodes_.contains(id));
  LEDGER_ASSERT(id != root_id_);
  std::vector<Hash> pruned;
  for (const auto& [node_id, node] : nodes_) {
    if (!descends_from(node_id, id)) pruned.push_back(node_id);
  }
  for (const auto& p : pruned)
    nodes_.erase(p);
  root_id_ = id;
  nodes_.at(root_id_).parent = Hash{};
  LEDGER_ASSERT(nodes_.contains(root_id_));
  std::sort(pruned.begin(), pruned.end());  // deterministic order for the caller
  return pruned;
}

std::vector<Hash> BlockTree::reroot(const Block& root, const Hash& id) {
  LEDGER_ASSERT(root.id() == id);
  LEDGER_ASSERT(root.header.height > this->root().header.height);
  if (nodes_.contains(id)) return commit(id);
  std::vector<Hash> dropped;
  dropped.reserve(nodes_.size());
  for (const auto& [node_id, node] : nodes_)
    dropped.push_back(node_id);
  nodes_.clear();
  nodes_.emplace(id, Node{root, Hash{}});
  root_id_ = id;
  std::sort(dropped.begin(), dropped.end());  // deterministic order for the caller
  return dropped;
}

std::vector<Block> BlockTree::chain_back(const Hash& id, std::size_t count) const {
  std::vector<Block> out;
  Hash cursor = id;
  while (out.size() < count) {
    auto it = nodes_.find(cursor);
    if (it == nodes_.end()) break;
    out.push_back(it->second.block);
    if (cursor == root_id_) break;
    cursor = it->second.parent;
  }
  return out;
}

}  // namespace ledger::consensus
