#include "ledger/storage/chain_verifier.h"

#include <map>
#include <optional>

namespace ledger::storage {
namespace {

// The re-executed state, held in memory.
class MapState final : public AccountReader {
 public:
  StatusOr<Account> account(const Address& address) const override {
    auto it = accounts_.find(address);
    return it == accounts_.end() ? Account{} : it->second;
  }
  void apply(const std::map<Address, Account>& changed) {
    for (const auto& [address, account] : changed) {
      if (account.is_empty()) {
        accounts_.erase(address);
      } else {
        accounts_[address] = account;
      }
    }
  }
  const std::map<Address, Account>& accounts() const { return accounts_; }

 private:
  std::map<Address, Account> accounts_;
};

std::string short_id(const Hash& h) {
  return h.hex().substr(0, 16);
}

class Verifier {
 public:
  Verifier(const ChainStore& store, const Genesis& genesis, const VerifyOptions& options)
      : store_(store),
        genesis_(genesis),
        options_(options),
        genesis_block_(genesis.genesis_block()),
        genesis_qc_(genesis_qc(genesis_block_)) {}

  StatusOr<VerifyReport> run() {
    auto tip = store_.tip();
    if (!tip) {
      problem(0, "the store holds no blocks (not even genesis)");
      return report_;
    }
    if (store_.chain_id() != genesis_.chain_id) {
      problem(0, "store chain id '" + store_.chain_id() + "' differs from genesis chain id '" +
                     genesis_.chain_id + "'");
    }
    for (const auto& a : genesis_.accounts)
      state_.apply({{a.address, Account{a.balance, 0}}});
    accumulator_ = genesis_.genesis_state();
    for (std::uint64_t height = 0; height <= tip->height; ++height) {
      verify_height(height);
      ++report_.blocks_checked;
      if (options_.progress) options_.progress(height);
    }
    if (prev_ && prev_id_ != tip->block_id) {
      problem(tip->height, "the tip id in metadata " + short_id(tip->block_id) +
                               " differs from the stored block's id " + short_id(prev_id_));
    }
    if (execution_ok_) check_final_state(tip->height);
    return report_;
  }

 private:
  void problem(std::uint64_t height, std::string message) {
    if (report_.problems.size() >= kVerifyProblemsMax) {
      report_.truncated = true;
      return;
    }
    report_.problems.push_back({height, std::move(message)});
  }

  void verify_height(std::uint64_t height) {
    auto raw = store_.raw_block_at(height);
    if (!raw.is_ok()) {
      problem(height, "cannot read block: " + raw.status().to_string());
      lose_continuity();
      return;
    }
    auto decoded = decode_block(*raw, genesis_.consensus.block_limits());
    if (!decoded.is_ok()) {
      problem(height, "stored block does not decode: " + decoded.status().to_string());
      lose_continuity();
      return;
    }
    const Block& block = *decoded;
    const Hash id = block.id();
    if (height == 0) {
      if (encode_block(block) != encode_block(genesis_block_)) {
        problem(0, "genesis block differs from the one genesis.json defines");
      }
    } else if (prev_) {
      check_links(height, block);
    }
    check_indexes(height, block, id);
    check_commit_cert(height, block, id);
    if (execution_ok_) check_execution(height, block);
    prev_ = block;
    prev_id_ = id;
  }

  // After an unreadable block nothing later can be linked or re-executed.
  void lose_continuity() {
    prev_.reset();
    execution_ok_ = false;
  }

  void check_links(std::uint64_t height, const Block& block) {
    const BlockHeader& h = block.header;
    const BlockHeader& p = prev_->header;
    if (h.height != height) {
      problem(height, "header height is " + std::to_string(h.height));
    }
    if (h.chain_id != genesis_.chain_id) problem(height, "chain id is '" + h.chain_id + "'");
    if (h.parent_id != prev_id_) {
      problem(height, "parent id " + short_id(h.parent_id) + " is not block " +
                          std::to_string(height - 1) + " id " + short_id(prev_id_));
    }
    if (h.parent_qc.block_id() != prev_id_ || h.parent_qc.data.round != p.round) {
      problem(height, "parent QC does not certify block " + std::to_string(height - 1));
    }
    if (h.round <= p.round) {
      problem(height, "round " + std::to_string(h.round) + " is not above the parent's " +
                          std::to_string(p.round));
    }
    if (h.timestamp_ms <= p.timestamp_ms) {
      problem(height, "timestamp is not after the parent's");
    }
    if (options_.check_signatures) {
      Status s = verify_qc(h.parent_qc, genesis_.chain_id, genesis_.validators, genesis_qc_);
      if (!s.is_ok()) problem(height, "parent QC: " + s.message());
    }
  }

  void check_indexes(std::uint64_t height, const Block& block, const Hash& id) {
    auto indexed = store_.height_of(id);
    if (!indexed.is_ok() || *indexed != height) {
      problem(height,
              "block id index does not point at this height: " +
                  (indexed.is_ok() ? std::to_string(*indexed) : indexed.status().to_string()));
    }
    if (transactions_root(block.transactions) != block.header.transactions_root) {
      problem(height, "transactions root does not match the transactions");
    }
    for (std::uint32_t i = 0; i < block.transactions.size(); ++i) {
      // The index keeps a transaction's first position: a later copy (a replay, recorded as a
      // failure) points back at it.
      auto location = store_.transaction_location(transaction_hash(block.transactions[i]));
      bool indexed = location.is_ok() && (location->height < height ||
                                          (location->height == height && location->index <= i));
      if (!indexed) {
        problem(height,
                "transaction " + std::to_string(i) + " is not indexed at or before its position");
      }
      ++report_.transactions_checked;
    }
  }

  void check_commit_cert(std::uint64_t height, const Block& block, const Hash& id) {
    auto cert = store_.commit_cert_at(height);
    if (!cert.is_ok()) {
      problem(height, "commit certificate: " + cert.status().to_string());
      return;
    }
    if (height == 0) {
      if (*cert != genesis_qc_) problem(0, "genesis commit certificate is not the genesis QC");
      return;
    }
    // The certificate is QC(B1) for a committed B0 at this height or above, with consecutive
    // rounds; B0 must be this block or link down to it (checked by the hash links).
    const VoteData& d = cert->data;
    auto b0_height = store_.height_of(d.parent_id);
    bool ok = b0_height.is_ok() && *b0_height >= height && d.round == d.parent_round + 1;
    if (ok && *b0_height == height) ok = d.parent_id == id && d.parent_round == block.header.round;
    if (!ok) {
      problem(height, "commit certificate does not prove a 2-chain over this block");
      return;
    }
    if (options_.check_signatures) {
      Status s = verify_qc(*cert, genesis_.chain_id, genesis_.validators, genesis_qc_);
      if (!s.is_ok()) problem(height, "commit certificate: " + s.message());
    }
  }

  void check_execution(std::uint64_t height, const Block& block) {
    if (block.header.state_root != accumulator_.digest()) {
      problem(height, "header state root " + short_id(block.header.state_root) +
                          " differs from the re-executed parent state " +
                          short_id(accumulator_.digest()));
      execution_ok_ = false;
      return;
    }
    auto stored = store_.results_at(height);
    if (!stored.is_ok()) {
      problem(height, "results: " + stored.status().to_string());
      execution_ok_ = false;
      return;
    }
    if (height == 0) {
      if (!stored->codes.empty() || stored->state_root != accumulator_.digest()) {
        problem(0, "genesis results do not hold the genesis state root");
        execution_ok_ = false;
      }
      return;
    }
    SignatureCheck check;
    if (!options_.check_signatures) check = [](const SignedTransfer&) { return true; };
    auto output = execute_block(block, state_, accumulator_, check);
    if (!output.is_ok()) {
      problem(height, "re-execution failed: " + output.status().to_string());
      execution_ok_ = false;
      return;
    }
    if (output->results != *stored) {
      problem(height, "re-executed results or state root " + short_id(output->results.state_root) +
                          " differ from the stored " + short_id(stored->state_root));
      execution_ok_ = false;
      return;
    }
    state_.apply(output->changed);
    accumulator_ = output->accumulator;
  }

  void check_final_state(std::uint64_t tip_height) {
    auto stored_acc = store_.accumulator();
    if (!stored_acc.is_ok() || *stored_acc != accumulator_) {
      problem(tip_height, "stored state accumulator differs from the re-executed state");
    }
    auto expected = state_.accounts().begin();
    bool match = true;
    Status s = store_.for_each_account([&](const Address& address, const Account& account) {
      if (expected == state_.accounts().end() || expected->first != address ||
          expected->second != account) {
        match = false;
        return Status::failed_precondition("mismatch");
      }
      ++expected;
      return Status::ok();
    });
    if (!match || expected != state_.accounts().end()) {
      problem(tip_height, "stored accounts differ from the re-executed state at account " +
                              (expected == state_.accounts().end() ? std::string("(end)")
                                                                   : expected->first.hex()));
    } else if (!s.is_ok()) {
      problem(tip_height, "cannot read accounts: " + s.to_string());
    }
  }

  const ChainStore& store_;
  const Genesis& genesis_;
  const VerifyOptions& options_;
  const Block genesis_block_;
  const QuorumCert genesis_qc_;
  VerifyReport report_;
  std::optional<Block> prev_;  // the last block that decoded, if it was the previous height
  Hash prev_id_;
  MapState state_;                // re-executed state after prev_
  StateAccumulator accumulator_;  // digest source of state_
  bool execution_ok_ = true;      // false once re-execution can no longer be trusted
};

}  // namespace

StatusOr<VerifyReport> verify_chain(const ChainStore& store, const Genesis& genesis,
                                    const VerifyOptions& options) {
  return Verifier(store, genesis, options).run();
}

}  // namespace ledger::storage
