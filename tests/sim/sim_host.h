// One simulated validator: the real Replica inside the real host components (ConsensusDriver,
// PayloadChecker, Proposer, CommitPipeline, BlockService, Mempool, SpeculativeState, BlockSync,
// SyncService, SyncApplier, ChainView), over the in-memory stores behind the same interfaces as
// RocksDB's (their conformance suites keep both honest). Only the network and the clock belong
// to the simulator: messages the driver sends are collected here for it, and the time is passed
// in. The ChainView is published as ledgerd publishes it: publish_stored() at start, then after
// every commit batch (consensus's here, block sync's inside the SyncApplier).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "ledger/consensus/replica.h"
#include "ledger/core/genesis.h"
#include "ledger/node/block_service.h"
#include "ledger/node/block_sync.h"
#include "ledger/node/chain_view.h"
#include "ledger/node/commit_pipeline.h"
#include "ledger/node/consensus_driver.h"
#include "ledger/node/mempool.h"
#include "ledger/node/payload_checker.h"
#include "ledger/node/proposer.h"
#include "ledger/node/signature_cache.h"
#include "ledger/node/speculative_state.h"
#include "ledger/node/sync_applier.h"
#include "ledger/node/sync_service.h"
#include "ledger/storage/memory_chain_store.h"
#include "ledger/storage/memory_safety_store.h"
#include "ledger/storage/memory_tree_store.h"

namespace ledger::sim {

// What a validator's disk holds: survives crashes.
struct SimDurable {
  explicit SimDurable(const Genesis& genesis);
  storage::MemorySafetyStore safety;
  storage::MemoryTreeStore tree;
  storage::MemoryChainStore chain;  // genesis committed at construction
};

struct SimHostOptions {
  consensus::ReplicaConfig replica;
  node::MempoolLimits mempool;
  std::uint64_t block_interval_ms = 0;
  std::uint64_t empty_block_interval_ms = 50;
  node::BlockSyncConfig sync;            // the asking side of block sync
  node::SyncServiceConfig sync_service;  // the answering side, over the chain store
};

// Everything a validator process holds in memory: lost on a crash.
class SimHost final : public node::Outbox {
 public:
  // Restores the replica from `durable` exactly as ledgerd does (load_recovery).
  static StatusOr<std::unique_ptr<SimHost>> start(const SimHostOptions& options, SecretKey key,
                                                  SimDurable& durable);
  SimHost(const SimHost&) = delete;
  SimHost& operator=(const SimHost&) = delete;

  // The driver's Outbox: collects what to send.
  void send(consensus::OutgoingMessage message) override {
    outgoing_.push_back(std::move(message));
  }
  std::vector<consensus::OutgoingMessage> take_outgoing() { return std::move(outgoing_); }

  // Carries out `actions` through the real driver, then publishes what it committed, as
  // ConsensusLoop::handle does. Errors are fatal for this node.
  Status handle(consensus::Actions actions, std::uint64_t wall_ms, node::DriverOutcome& outcome);
  // A sync response, through the same SyncApplier as ledgerd's ConsensusLoop::on_sync_response
  // (the replica's Actions, if any, are for the caller to handle()).
  node::SyncApplied on_sync_response(const PublicKey& peer,
                                     const node::SyncResponseMessage& response, node::SyncTime now);
  // Admits a client transaction, as the gRPC SubmitTransaction path does.
  Status submit(const SignedTransfer& tx);

  consensus::Replica& replica() { return *replica_; }
  node::Proposer& proposer() { return proposer_; }
  node::BlockService& block_service() { return block_service_; }
  node::BlockSync& block_sync() { return block_sync_; }
  node::SyncService& sync_service() { return sync_service_; }
  node::Mempool& mempool() { return mempool_; }
  const node::ChainView& view() const { return view_; }
  SimDurable& durable() { return durable_; }
  const Block* find_uncommitted(const Hash& id) const { return replica_->tree().find(id); }

 private:
  SimHost(const SimHostOptions& options, SimDurable& durable);

  SimDurable& durable_;
  node::SignatureCache signatures_;
  node::Mempool mempool_;
  node::SpeculativeState speculative_;
  node::PayloadChecker checker_;
  node::Proposer proposer_;
  node::CommitPipeline pipeline_;
  node::BlockService block_service_;
  node::ConsensusDriver driver_;
  node::BlockSync block_sync_;
  node::SyncService sync_service_;
  node::ChainView view_;
  node::SyncApplier sync_applier_;
  std::unique_ptr<consensus::Replica> replica_;
  std::vector<consensus::OutgoingMessage> outgoing_;
};

}  // namespace ledger::sim
