// The tree of uncommitted blocks, rooted at the last committed block (DESIGN.md section 3).
//
// Every block in the tree descends from the root; inserting a block whose parent is not in the
// tree is refused (the replica fetches the parent first). Committing a block makes it the new
// root and prunes every branch that does not descend from it: such a branch can never commit.
// The number of non-root blocks is bounded by pending_blocks_max.
//
// Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "ledger/core/block.h"
#include "ledger/core/status.h"

namespace ledger::consensus {

class BlockTree {
 public:
  // `root` is committed (genesis, or the last committed block on restart).
  BlockTree(Block root, std::size_t pending_blocks_max);

  // The most uncommitted blocks a tree with this pending_blocks_max ever holds: twice over, on
  // the certified chain (insert's `extends_certified`). What keeps state per uncommitted block
  // (the host's speculative execution) must hold this many.
  static constexpr std::size_t blocks_max(std::size_t pending_blocks_max) {
    return 2 * pending_blocks_max;
  }

  const Block& root() const { return nodes_.at(root_id_).block; }
  const Hash& root_id() const { return root_id_; }
  std::uint64_t committed_round() const { return root().header.round; }
  std::size_t size() const { return nodes_.size() - 1; }  // uncommitted blocks
  std::size_t pending_blocks_max() const { return pending_blocks_max_; }

  bool contains(const Hash& id) const { return nodes_.contains(id); }
  // nullptr if absent. Valid until the next insert or commit.
  const Block* find(const Hash& id) const;

  // Inserts a block whose parent is in the tree. Checks that the transactions are the ones the
  // header commits to (transactions_root: the block id covers the header only, so a block with
  // the right id can carry other transactions), and the links a block must have to its parent:
  // parent id == parent QC block id, QC round == parent round, height == parent + 1, round >
  // parent round, timestamp > parent's, same chain id. Errors: kInvalidArgument (transactions
  // do not match the root), kFailedPrecondition (parent missing, or a link broken),
  // kResourceExhausted (pending_blocks_max reached), kAlreadyExists (already in the tree).
  // `extends_certified`: the block's parent is the highest certified block. Such a block may
  // take the tree up to twice pending_blocks_max: when rounds keep failing every other round,
  // the certified chain alone can fill the tree (nothing on it can be evicted: committing needs
  // it), and without room for the next proposal on it nothing would ever commit again.
  Status insert(const Block& block, const Hash& id, bool extends_certified = false);

  // Makes room: removes up to `count` leaves that are neither the root nor an ancestor of (or
  // equal to) any id in `keep`, lowest round first, and returns their ids. Used when the tree is
  // full: rounds that end in a TC leave one uncertified proposal each, and without eviction
  // they would fill the tree for good. An evicted block is only a cache entry: if a certificate
  // later names it, the replica fetches it again.
  std::vector<Hash> evict(const std::vector<Hash>& keep, std::size_t count);

  // The blocks from the root (exclusive) to `id` (inclusive), oldest first; empty if `id` is
  // the root or not in the tree.
  std::vector<const Block*> path_from_root(const Hash& id) const;

  // Makes `id` (in the tree, not the root) the root. Returns the ids pruned (every block that
  // does not descend from `id`, and the old root chain). Precondition: contains(id).
  std::vector<Hash> commit(const Hash& id);

  // Makes `root` (id `id`), committed by other means (block sync), the root. If it is in the
  // tree this is commit(id); otherwise no block of the tree descends from it, and every block
  // (the old root included) is dropped. Returns the ids dropped, sorted. Precondition: `root`
  // is above the current root (height), and id == root.id().
  std::vector<Hash> reroot(const Block& root, const Hash& id);

  // `id` and up to count - 1 ancestors still in the tree (root included), newest first.
  std::vector<Block> chain_back(const Hash& id, std::size_t count) const;

 private:
  struct Node {
    Block block;
    Hash parent;  // zero for the root
  };
  bool descends_from(const Hash& id, const Hash& ancestor) const;

  std::unordered_map<Hash, Node, HashHasher> nodes_;  // root included; size <= 2 * max + 1
  Hash root_id_;
  std::size_t pending_blocks_max_;
};

}  // namespace ledger::consensus
