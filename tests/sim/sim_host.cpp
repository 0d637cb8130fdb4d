#include "sim_host.h"

#include "ledger/core/assert.h"

namespace ledger::sim {

SimDurable::SimDurable(const Genesis& genesis)
    : tree([&] {
        storage::MemoryTreeStore::Options o;
        o.block_limits = genesis.consensus.block_limits();
        return o;
      }()),
      chain(genesis.chain_id, [&] {
        storage::MemoryChainStore::Options o;
        o.block_limits = genesis.consensus.block_limits();
        return o;
      }()) {
  const Status s = chain.commit(node::genesis_commit(genesis), std::nullopt);
  LEDGER_ASSERT(s.is_ok());
}

SimHost::SimHost(const SimHostOptions& options, SimDurable& durable)
    : durable_(durable),
      signatures_(4096),
      mempool_(options.replica.chain_id, options.mempool, signatures_),
      speculative_(durable.chain, signatures_.as_check(),
                   node::SpeculativeState::entries_for(options.replica.pending_blocks_max)),
      checker_({options.replica.chain_id, 30'000}, signatures_, speculative_),
      proposer_({options.replica.block_limits, options.replica.validators.size(),
                 options.block_interval_ms, options.empty_block_interval_ms},
                mempool_, speculative_),
      pipeline_(durable.chain, speculative_, mempool_),
      block_service_({options.replica.fetch_blocks_max, 64u << 20, 1000, 1000,
                      options.replica.validators.size()},
                     durable.chain),
      driver_(durable.tree, pipeline_, checker_, speculative_, *this),
      block_sync_(options.sync),
      sync_service_(durable.chain, options.sync_service,
                    [this] { return view_.latest_height(); }),  // as ledgerd: the published
      view_(durable.chain, mempool_),
      sync_applier_(block_sync_, pipeline_, view_) {}

StatusOr<std::unique_ptr<SimHost>> SimHost::start(const SimHostOptions& options, SecretKey key,
                                                  SimDurable& durable) {
  std::unique_ptr<SimHost> host(new SimHost(options, durable));
  std::size_t stale = 0;
  LEDGER_ASSIGN_OR_RETURN(auto recovery, node::load_recovery(durable.chain, durable.tree,
                                                             options.replica.genesis, stale));
  LEDGER_ASSIGN_OR_RETURN(auto signer, Signer::create(key));
  LEDGER_ASSIGN_OR_RETURN(
      host->replica_, consensus::Replica::create(options.replica, std::move(signer), durable.safety,
                                                 std::move(recovery)));
  LEDGER_RETURN_IF_ERROR(host->view_.publish_stored(host->replica_->current_round()));
  return host;
}

Status SimHost::handle(consensus::Actions actions, std::uint64_t wall_ms,
                       node::DriverOutcome& outcome) {
  const Status s = driver_.handle(*replica_, std::move(actions), wall_ms, outcome);
  if (!outcome.committed.empty()) view_.publish_batch(outcome.committed, replica_->current_round());
  return s;
}

node::SyncApplied SimHost::on_sync_response(const PublicKey& peer,
                                            const node::SyncResponseMessage& response,
                                            node::SyncTime now) {
  return sync_applier_.on_response(peer, response, *durable_.chain.tip(), now, replica_.get());
}

Status SimHost::submit(const SignedTransfer& tx) {
  const storage::ChainStore& chain = durable_.chain;
  auto committed = [&chain](const Hash& hash) { return chain.transaction_location(hash).is_ok(); };
  return mempool_.admit(tx, chain, committed, chain.tip()->height).status();
}

}  // namespace ledger::sim
