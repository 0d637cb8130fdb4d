// Builds valid chains of BlockCommits for tests, without consensus or a node.
//
// Blocks are well formed (height, round, parent id, parent QC, transactions root, state root
// all set as the protocol wants), signed transfers are real BIP340 signatures by fixed keys,
// and execution is the product's execute_block. A chain made from a Genesis with its
// validators' signers has fully signed QCs (parent QCs and commit certificates) and passes the
// chain verifier; one made from a bare chain id and allocation has unsigned QCs, which stores
// accept since they do not verify certificates.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ledger/core/block.h"
#include "ledger/core/genesis.h"
#include "ledger/core/keys.h"
#include "ledger/core/state.h"
#include "ledger/core/transaction.h"
#include "ledger/storage/chain_store.h"

namespace ledger::testing {

using storage::BlockCommit;

// Milliseconds between the timestamps of consecutive fixture blocks.
inline constexpr std::uint64_t kFixtureBlockIntervalMs = 1000;
// The genesis timestamp of fixture chains (2026-01-01T00:00:00Z).
inline constexpr std::uint64_t kFixtureGenesisTimeMs = 1'767'225'600'000;

// The same key pair on every run: secret key = index + 1 (as a 256-bit big-endian integer).
Signer fixture_signer(std::uint32_t index);

// A transfer signed by `from` with fixed aux randomness, so the bytes are reproducible.
SignedTransfer make_transfer(const Signer& from, const std::string& chain_id, std::uint64_t nonce,
                             const Address& to, std::uint64_t amount);

// Stands in for Genesis::document_hash(): the genesis block's parent id.
Hash fixture_document_hash(const std::string& chain_id);

// Height 0, round 0, parent id `document_hash`, parent QC empty, proposer zero, the given
// state root (the digest of the genesis allocation).
Block make_genesis_block(const std::string& chain_id, const Hash& state_root,
                         const Hash& document_hash);

// The child of `parent`: height and round + 1, parent id = parent.id(), parent QC =
// unsigned_qc(parent), timestamp + kFixtureBlockIntervalMs, transactions root of
// `transactions`, and `state_root` (the state digest after the parent).
Block make_child_block(const Block& parent, std::vector<SignedTransfer> transactions,
                       const Hash& state_root);

// A QC certifying `block` without signatures (genesis_qc for genesis).
QuorumCert unsigned_qc(const Block& block);

// `accumulator` with every account of `changed` replaced: remove its value in `previous`
// (absent = empty), add its new value (empty = deleted).
StateAccumulator apply_changes(StateAccumulator accumulator,
                               const std::map<Address, Account>& previous,
                               const std::map<Address, Account>& changed);

// The commit of `block`: the given result codes, the changed accounts, the accumulator from
// apply_changes(before, previous, changed), results.state_root = its digest, and
// commit_cert = unsigned_qc(block).
BlockCommit make_block_commit(Block block, std::vector<TxResultCode> codes,
                              std::map<Address, Account> changed,
                              const std::map<Address, Account>& previous,
                              const StateAccumulator& before);

// A QC over `data` signed by every signer, signatures sorted by signer.
QuorumCert sign_qc(const VoteData& data, const std::string& chain_id,
                   const std::vector<Signer>& signers);

// A chain under construction: its genesis, the commits made so far, and the model account
// state after the last one. Copy it to build a fork or a block ahead without disturbing it.
class TestChain {
 public:
  // Unsigned QCs; genesis parent id is fixture_document_hash(chain_id).
  TestChain(std::string chain_id, std::map<Address, Account> allocation);
  // Genesis block and allocation from `genesis`; every QC signed by `validator_signers`.
  TestChain(const Genesis& genesis, std::vector<Signer> validator_signers);

  const std::string& chain_id() const { return chain_id_; }
  const BlockCommit& genesis() const { return commits_.front(); }
  const BlockCommit& last() const { return commits_.back(); }
  const std::vector<BlockCommit>& commits() const { return commits_; }  // genesis first
  const std::map<Address, Account>& accounts() const { return accounts_; }
  const StateAccumulator& accumulator() const { return last().accumulator; }

  // The commit of the block after last() carrying `transactions`, without advancing.
  BlockCommit build(std::vector<SignedTransfer> transactions) const;
  // build(), then advance: the new commit becomes last() and its changes enter accounts().
  const BlockCommit& next(std::vector<SignedTransfer> transactions);

  // A transfer from `from` with nonce = its current model nonce + `pending` (for several
  // transfers from one sender in the same block).
  SignedTransfer transfer(const Signer& from, const Address& to, std::uint64_t amount,
                          std::uint64_t pending = 0) const;

 private:
  QuorumCert certify(const VoteData& data) const;

  std::string chain_id_;
  std::shared_ptr<const std::vector<Signer>> signers_;  // null: QCs unsigned
  std::vector<BlockCommit> commits_;                    // never empty: genesis first
  std::map<Address, Account> accounts_;  // model state after last(); no empty account
};

}  // namespace ledger::testing
