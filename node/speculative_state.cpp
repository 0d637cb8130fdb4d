#include "ledger/node/speculative_state.h"

#include <utility>
#include <vector>

#include "ledger/core/assert.h"
#include "ledger/core/bytes.h"

namespace ledger::node {

// Reads through the executed blocks from `id` down to the committed tip, then the chain store.
class SpeculativeState::Reader final : public AccountReader {
 public:
  Reader(const SpeculativeState& state, std::vector<const Executed*> path)
      : state_(state), path_(std::move(path)) {}

  StatusOr<Account> account(const Address& address) const override {
    for (const Executed* executed : path_) {  // newest first
      const auto it = executed->output.changed.find(address);
      if (it != executed->output.changed.end()) return it->second;
    }
    return state_.chain_.account(address);
  }

 private:
  const SpeculativeState& state_;
  std::vector<const Executed*> path_;
};

SpeculativeState::SpeculativeState(const storage::ChainStore& chain, SignatureCheck signatures,
                                   std::size_t entries_max)
    : chain_(chain), signatures_(std::move(signatures)), entries_max_(entries_max) {
  LEDGER_ASSERT(entries_max_ > 0);
}

StatusOr<const SpeculativeState::Executed*> SpeculativeState::execute(const Hash& id,
                                                                      const BlockLookup& lookup) {
  if (const auto it = executed_.find(id); it != executed_.end()) return &it->second;
  // Collect the unexecuted blocks from `id` down to an executed block or the tip, then execute
  // them oldest first (iteratively: the chain may be long after a partition).
  const auto tip = chain_.tip();
  if (!tip) return Status::failed_precondition("the chain store has no genesis block");
  std::vector<std::pair<Hash, const Block*>> todo;
  Hash cursor = id;
  while (cursor != tip->block_id && !executed_.contains(cursor)) {
    const Block* block = lookup(cursor);
    if (block == nullptr) {
      return Status::not_found("block " + to_hex(cursor.bytes) +
                               " is neither committed, executed nor in the block tree");
    }
    todo.emplace_back(cursor, block);
    if (todo.size() > entries_max_) {
      return Status::resource_exhausted("more than " + std::to_string(entries_max_) +
                                        " uncommitted blocks to execute");
    }
    cursor = block->header.parent_id;
  }
  const Executed* last = nullptr;
  if (todo.empty()) return last;  // `id` is the committed tip
  for (auto it = todo.rbegin(); it != todo.rend(); ++it) {
    LEDGER_ASSIGN_OR_RETURN(last, execute_block_on_parent(*it->second, it->first));
  }
  return last;
}

StatusOr<const SpeculativeState::Executed*> SpeculativeState::execute_block_on_parent(
    const Block& block, const Hash& id) {
  if (const auto it = executed_.find(id); it != executed_.end()) return &it->second;
  if (executed_.size() >= entries_max_) {
    return Status::resource_exhausted("speculative execution holds " +
                                      std::to_string(entries_max_) + " blocks already");
  }
  LEDGER_ASSIGN_OR_RETURN(auto reader, reader_after(block.header.parent_id));
  LEDGER_ASSIGN_OR_RETURN(auto before, accumulator_after(block.header.parent_id));
  LEDGER_ASSIGN_OR_RETURN(auto output, execute_block(block, *reader, before, signatures_));
  const auto [it, inserted] = executed_.emplace(id, Executed{block, std::move(output)});
  LEDGER_ASSERT(inserted);
  return &it->second;
}

StatusOr<std::unique_ptr<AccountReader>> SpeculativeState::reader_after(const Hash& id) const {
  const auto tip = chain_.tip();
  if (!tip) return Status::failed_precondition("the chain store has no genesis block");
  std::vector<const Executed*> path;
  Hash cursor = id;
  while (cursor != tip->block_id) {
    const auto it = executed_.find(cursor);
    if (it == executed_.end()) {
      return Status::not_found("no state after block " + to_hex(cursor.bytes) +
                               ": neither the committed tip nor executed");
    }
    path.push_back(&it->second);
    cursor = it->second.block.header.parent_id;
  }
  return std::unique_ptr<AccountReader>(std::make_unique<Reader>(*this, std::move(path)));
}

StatusOr<StateAccumulator> SpeculativeState::accumulator_after(const Hash& id) const {
  if (const auto it = executed_.find(id); it != executed_.end()) {
    return it->second.output.accumulator;
  }
  const auto tip = chain_.tip();
  if (!tip || tip->block_id != id) {
    return Status::not_found("no state after block " + to_hex(id.bytes) +
                             ": neither the committed tip nor executed");
  }
  return chain_.accumulator();
}

bool SpeculativeState::uncommitted_transactions_below(const Hash& id) const {
  Hash cursor = id;
  for (auto it = executed_.find(cursor); it != executed_.end(); it = executed_.find(cursor)) {
    if (it->second.has_transactions()) return true;
    cursor = it->second.block.header.parent_id;
  }
  return false;
}

void SpeculativeState::forget(const Hash& id) {
  executed_.erase(id);
}

}  // namespace ledger::node
