#include "support/chain_fixture.h"

#include <algorithm>
#include <limits>

#include "ledger/core/assert.h"

namespace ledger::testing {
namespace {

Account account_in(const std::map<Address, Account>& state, const Address& address) {
  auto it = state.find(address);
  return it == state.end() ? Account() : it->second;
}

// Reads a std::map as account state, for execute_block.
class MapReader final : public AccountReader {
 public:
  explicit MapReader(const std::map<Address, Account>& state) : state_(state) {}
  StatusOr<Account> account(const Address& address) const override {
    return account_in(state_, address);
  }

 private:
  const std::map<Address, Account>& state_;
};

}  // namespace

Signer fixture_signer(std::uint32_t index) {
  LEDGER_ASSERT(index < std::numeric_limits<std::uint32_t>::max());
  std::array<std::uint8_t, SecretKey::kSize> bytes{};
  const std::uint32_t value = index + 1;
  for (std::size_t i = 0; i < 4; ++i)
    bytes[SecretKey::kSize - 1 - i] = static_cast<std::uint8_t>(value >> (8 * i));
  auto secret = SecretKey::from_bytes(bytes);
  LEDGER_ASSERT(secret.is_ok());
  auto signer = Signer::create(*secret);
  LEDGER_ASSERT(signer.is_ok());
  return std::move(signer).value();
}

SignedTransfer make_transfer(const Signer& from, const std::string& chain_id, std::uint64_t nonce,
                             const Address& to, std::uint64_t amount) {
  Transfer transfer{chain_id, from.public_key(), nonce, to, amount, {}};
  return sign_transfer(transfer, from, std::array<std::uint8_t, 32>{});
}

Hash fixture_document_hash(const std::string& chain_id) {
  return sha256(as_bytes("ledgerd test genesis document for " + chain_id));
}

Block make_genesis_block(const std::string& chain_id, const Hash& state_root,
                         const Hash& document_hash) {
  Block block;
  block.header.chain_id = chain_id;
  block.header.parent_id = document_hash;
  block.header.timestamp_ms = kFixtureGenesisTimeMs;
  block.header.transactions_root = transactions_root({});
  block.header.state_root = state_root;
  return block;
}

Block make_child_block(const Block& parent, std::vector<SignedTransfer> transactions,
                       const Hash& state_root) {
  Block block;
  BlockHeader& h = block.header;
  h.chain_id = parent.header.chain_id;
  h.height = parent.header.height + 1;
  h.round = parent.header.round + 1;
  h.parent_id = parent.id();
  h.parent_qc = unsigned_qc(parent);
  h.timestamp_ms = parent.header.timestamp_ms + kFixtureBlockIntervalMs;
  h.transactions_root = transactions_root(transactions);
  h.state_root = state_root;
  block.transactions = std::move(transactions);
  return block;
}

QuorumCert unsigned_qc(const Block& block) {
  if (block.header.height == 0) return genesis_qc(block);
  QuorumCert qc;
  qc.data.block_id = block.id();
  qc.data.round = block.header.round;
  qc.data.parent_id = block.header.parent_id;
  qc.data.parent_round = block.header.parent_qc.round();
  return qc;
}

StateAccumulator apply_changes(StateAccumulator accumulator,
                               const std::map<Address, Account>& previous,
                               const std::map<Address, Account>& changed) {
  for (const auto& [address, account] : changed) {
    accumulator.remove(address, account_in(previous, address));
    accumulator.add(address, account);
  }
  return accumulator;
}

BlockCommit make_block_commit(Block block, std::vector<TxResultCode> codes,
                              std::map<Address, Account> changed,
                              const std::map<Address, Account>& previous,
                              const StateAccumulator& before) {
  BlockCommit commit;
  commit.accumulator = apply_changes(before, previous, changed);
  commit.results.codes = std::move(codes);
  commit.results.state_root = commit.accumulator.digest();
  commit.commit_cert = unsigned_qc(block);
  commit.changed_accounts = std::move(changed);
  commit.block = std::move(block);
  return commit;
}

QuorumCert sign_qc(const VoteData& data, const std::string& chain_id,
                   const std::vector<Signer>& signers) {
  QuorumCert qc;
  qc.data = data;
  const Hash message = vote_signing_hash(chain_id, data);
  for (const Signer& signer : signers) {
    qc.signatures.push_back({signer.public_key(), signer.sign(message)});
  }
  std::sort(qc.signatures.begin(), qc.signatures.end(),
            [](const auto& a, const auto& b) { return a.signer < b.signer; });
  return qc;
}

TestChain::TestChain(std::string chain_id, std::map<Address, Account> allocation)
    : chain_id_(std::move(chain_id)) {
  std::erase_if(allocation, [](const auto& entry) { return entry.second.is_empty(); });
  const StateAccumulator state = apply_changes(StateAccumulator(), {}, allocation);
  Block genesis = make_genesis_block(chain_id_, state.digest(), fixture_document_hash(chain_id_));
  commits_.push_back(make_block_commit(std::move(genesis), {}, allocation, {}, StateAccumulator()));
  accounts_ = std::move(allocation);
}

TestChain::TestChain(const Genesis& genesis, std::vector<Signer> validator_signers)
    : chain_id_(genesis.chain_id),
      signers_(std::make_shared<const std::vector<Signer>>(std::move(validator_signers))) {
  std::map<Address, Account> allocation;
  for (const auto& a : genesis.accounts)
    allocation[a.address] = Account{a.balance, 0};
  commits_.push_back(
      make_block_commit(genesis.genesis_block(), {}, allocation, {}, StateAccumulator()));
  LEDGER_ASSERT(commits_.back().accumulator == genesis.genesis_state());
  accounts_ = std::move(allocation);
}

QuorumCert TestChain::certify(const VoteData& data) const {
  if (!signers_) {
    QuorumCert qc;
    qc.data = data;
    return qc;
  }
  return sign_qc(data, chain_id_, *signers_);
}

BlockCommit TestChain::build(std::vector<SignedTransfer> transactions) const {
  const Block& parent = last().block;
  Block block = make_child_block(parent, std::move(transactions), last().results.state_root);
  if (parent.header.height > 0) {
    block.header.parent_qc = certify(unsigned_qc(parent).data);
    block.header.transactions_root = transactions_root(block.transactions);
  }
  auto output = execute_block(block, MapReader(accounts_), last().accumulator);
  LEDGER_ASSERT(output.is_ok());
  BlockCommit commit;
  commit.accumulator = output->accumulator;
  commit.results = output->results;
  commit.changed_accounts = std::move(output->changed);
  // The 2-chain that commits `block`: a QC for a child one round later.
  VoteData child;
  child.block_id = sha256(as_bytes("fixture child of " + block.id().hex()));
  child.round = block.header.round + 1;
  child.parent_id = block.id();
  child.parent_round = block.header.round;
  commit.commit_cert = certify(child);
  commit.block = std::move(block);
  return commit;
}

const BlockCommit& TestChain::next(std::vector<SignedTransfer> transactions) {
  commits_.push_back(build(std::move(transactions)));
  for (const auto& [address, account] : commits_.back().changed_accounts) {
    if (account.is_empty()) {
      accounts_.erase(address);
    } else {
      accounts_[address] = account;
    }
  }
  return commits_.back();
}

SignedTransfer TestChain::transfer(const Signer& from, const Address& to, std::uint64_t amount,
                                   std::uint64_t pending) const {
  const std::uint64_t nonce = account_in(accounts_, from.public_key()).nonce + pending;
  return make_transfer(from, chain_id_, nonce, to, amount);
}

}  // namespace ledger::testing
