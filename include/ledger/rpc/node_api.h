// The narrow interface the gRPC service needs from a node (DESIGN.md section 1: rpc depends on
// core and on this, never on node internals). node/ implements it; rpc/ serves it.
//
// Thread-safety: every method may be called concurrently from any gRPC thread. Blocking
// methods (wait_for_height) return early when the node shuts down.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ledger/core/block.h"
#include "ledger/core/certificates.h"
#include "ledger/core/hash.h"
#include "ledger/core/keys.h"
#include "ledger/core/state.h"
#include "ledger/core/status.h"
#include "ledger/core/transaction.h"
#include "ledger/core/validators.h"

namespace ledger::rpc {

struct CommittedTx {
  std::uint64_t height = 0;
  std::uint32_t index = 0;
  TxResultCode result = TxResultCode::kSuccess;
};

// A transaction as the node knows it: pending in the mempool, or committed.
struct TxLookup {
  SignedTransfer transaction;
  std::optional<CommittedTx> committed;  // nullopt: pending
};

struct AccountAt {
  Account account;
  std::uint64_t height = 0;  // committed height the account is read at
};

// A committed block with everything stored beside it.
struct BlockView {
  Block block;
  Hash id;
  BlockResults results;
  QuorumCert commit_cert;
};

struct NodeStatusView {
  std::string chain_id;
  PublicKey node_id;
  bool validator = false;
  std::uint64_t latest_height = 0;
  Hash latest_block_id;
  std::uint64_t latest_block_time_ms = 0;
  std::uint64_t current_round = 0;
  std::uint64_t mempool_size = 0;
  std::uint64_t mempool_bytes = 0;
  std::uint64_t peer_count = 0;
  std::string version;
};

class NodeApi {
 public:
  virtual ~NodeApi() = default;

  // Admits `tx` into the mempool. Errors carry the code the gRPC status is made from:
  //   kInvalidArgument     wrong chain id, bad signature, oversized
  //   kFailedPrecondition  nonce below the committed nonce or beyond the window; funds
  //   kAlreadyExists       same hash pending or committed, or another tx pending at that nonce
  //   kResourceExhausted   mempool full (count or bytes) or the sender's limit reached
  //   kUnavailable         the node is shutting down
  virtual Status submit(const SignedTransfer& tx) = 0;

  // Blocks and committed transactions are answered from heights up to latest_height() only.
  // Blocks committed together (one batch) become visible together, when the latest height
  // moves past all of them, so a block found here has its commit certificate's B0 (the last
  // block of its batch) readable too, and a transaction found committed has its block readable.

  // Pending or committed; kNotFound if neither.
  virtual StatusOr<TxLookup> transaction(const Hash& tx_hash) const = 0;
  // The committed location of a transaction; kNotFound if it is not committed (or not visible
  // yet: its height is above latest_height()).
  virtual StatusOr<CommittedTx> committed_transaction(const Hash& tx_hash) const = 0;

  // Exactly as of AccountAt::height: the node's stored height when read, at or above
  // latest_height() (above it while a batch is being published, or while stored blocks wait for
  // the block their commit certificate names).
  virtual StatusOr<AccountAt> account(const Address& address) const = 0;

  // kNotFound for a height above the tip or an unknown id.
  virtual StatusOr<BlockView> block_at(std::uint64_t height) const = 0;
  virtual StatusOr<BlockView> block_by_id(const Hash& id) const = 0;
  // The latest committed height (0 = genesis only).
  virtual std::uint64_t latest_height() const = 0;

  virtual NodeStatusView status() const = 0;
  virtual const ValidatorSet& validators() const = 0;

  // Blocks until the committed height is >= `height`, `deadline` passes, or the node shuts
  // down. Returns the committed height at return; kUnavailable once shutting down.
  virtual StatusOr<std::uint64_t> wait_for_height(
      std::uint64_t height, std::chrono::steady_clock::time_point deadline) const = 0;
  virtual bool shutting_down() const = 0;
};

}  // namespace ledger::rpc
