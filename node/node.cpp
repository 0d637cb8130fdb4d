// Node: startup, the event loop, and carrying out the replica's Actions.
#include "node_impl.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>

#include "ledger/core/assert.h"
#include "ledger/core/bytes.h"
#include "ledger/node/home.h"

namespace ledger::node {
namespace {

std::uint64_t wall_clock_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::string short_id(const Hash& id) {
  return to_hex(id.bytes).substr(0, 12);
}

// The genesis block as the chain store keeps it: no transactions, the allocation as state.
storage::BlockCommit genesis_commit(const Genesis& genesis) {
  storage::BlockCommit commit;
  commit.block = genesis.genesis_block();
  commit.commit_cert = genesis_qc(commit.block);
  commit.accumulator = genesis.genesis_state();
  commit.results.state_root = commit.accumulator.digest();
  for (const auto& account : genesis.accounts) {
    commit.changed_accounts[account.address] = Account{account.balance, 0};
  }
  return commit;
}

// Opens the store and makes sure it holds this genesis (committing it into an empty store).
StatusOr<std::unique_ptr<storage::RocksChainStore>> open_store(const NodeOptions& options) {
  const auto path = NodeConfig::resolve(options.home, options.config.data_dir);
  storage::RocksChainStore::Options store_options;
  store_options.block_limits = options.genesis.consensus.block_limits();
  LEDGER_ASSIGN_OR_RETURN(auto store, storage::RocksChainStore::open(
                                          path.string(), options.genesis.chain_id, store_options));
  const Block genesis_block = options.genesis.genesis_block();
  if (!store->tip()) {
    LEDGER_RETURN_IF_ERROR(store->commit(genesis_commit(options.genesis)));
    spdlog::info("committed genesis block {} of chain {}", short_id(genesis_block.id()),
                 options.genesis.chain_id);
    return store;
  }
  LEDGER_ASSIGN_OR_RETURN(const Block stored, store->block_at(0));
  if (stored.id() != genesis_block.id()) {
    return Status::failed_precondition(
        "the data directory " + path.string() + " holds a chain whose genesis block is " +
        to_hex(stored.id().bytes) + ", but genesis.json gives " + to_hex(genesis_block.id().bytes) +
        "; point data_dir elsewhere or remove it");
  }
  return store;
}

// Room in a p2p frame for what travels with a full block: header, certificates, envelope.
constexpr std::uint64_t kFrameOverheadMax = 1024 * 1024;
// A proposal whose timestamp is further ahead of this node's clock is refused.
constexpr std::uint64_t kBlockTimeAheadMaxMs = 30'000;

}  // namespace

Node::Impl::Impl(NodeOptions opts, std::unique_ptr<storage::RocksChainStore> store_in)
    : options(std::move(opts)),
      store(std::move(store_in)),
      signatures(options.config.signature_cache_max),
      mempool(options.genesis.chain_id, options.config.mempool, signatures),
      speculative(*store, signatures.as_check(), options.config.consensus.pending_blocks_max + 2) {}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() = default;

StatusOr<std::unique_ptr<Node>> Node::open(NodeOptions options) {
  LEDGER_ASSIGN_OR_RETURN(auto signer, Signer::create(options.node_key));
  const PublicKey node_id = signer.public_key();
  const std::uint64_t frame_needed = options.genesis.consensus.block_bytes_max + kFrameOverheadMax;
  if (options.config.p2p.frame_bytes_max < frame_needed) {
    return Status::invalid_argument(
        "config.toml: p2p.frame_bytes_max (" + std::to_string(options.config.p2p.frame_bytes_max) +
        ") must be at least the genesis consensus.block_bytes_max (" +
        std::to_string(options.genesis.consensus.block_bytes_max) + ") + " +
        std::to_string(kFrameOverheadMax) + ", or a full block could not be sent to peers");
  }
  LEDGER_ASSIGN_OR_RETURN(auto store, open_store(options));
  auto impl = std::make_unique<Impl>(std::move(options), std::move(store));
  impl->node_id = node_id;

  const NodeOptions& o = impl->options;
  consensus::ReplicaConfig& config = impl->replica_config;
  config.chain_id = o.genesis.chain_id;
  config.validators = o.genesis.validators;
  config.genesis = o.genesis.genesis_block();
  config.pacemaker =
      consensus::PacemakerConfig::from_params(o.genesis.consensus, o.config.consensus.tick_ms);
  config.block_limits = o.genesis.consensus.block_limits();
  config.pending_blocks_max = o.config.consensus.pending_blocks_max;
  LEDGER_RETURN_IF_ERROR(config.validate());

  impl->validator_node = o.genesis.validators.contains(node_id);
  if (impl->validator_node) {
    LEDGER_RETURN_IF_ERROR(impl->restore_replica());
  } else {
    spdlog::info(
        "the node key {} is not a genesis validator: running as a full node that "
        "follows the chain by block sync",
        to_hex(node_id.bytes).substr(0, 12));
  }
  const auto tip = impl->store->tip();
  LEDGER_ASSERT(tip.has_value());
  LEDGER_ASSIGN_OR_RETURN(const Block tip_block, impl->store->block_at(tip->height));
  impl->publish_tip(tip_block, tip->block_id);
  spdlog::info("opened chain {} at height {} ({}), round {}", o.genesis.chain_id, tip->height,
               short_id(tip->block_id), impl->replica ? impl->replica->current_round() : 0);
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

// Recovery: the committed tip, the persisted tree and certificates, the safety data. The tip's
// commit certificate is a verified QC too: after block sync it may be the highest one known.
Status Node::Impl::restore_replica() {
  const auto tip = store->tip();
  LEDGER_ASSERT(tip.has_value());
  consensus::RecoveryData recovery;
  LEDGER_ASSIGN_OR_RETURN(recovery.committed_root, store->block_at(tip->height));
  LEDGER_ASSIGN_OR_RETURN(auto tree, store->tree_store().load());
  recovery.high_qc = tree.high_qc ? *tree.high_qc : genesis_qc(replica_config.genesis);
  LEDGER_ASSIGN_OR_RETURN(const QuorumCert tip_cert, store->commit_cert_at(tip->height));
  if (tip_cert.round() > recovery.high_qc.round()) recovery.high_qc = tip_cert;
  recovery.high_tc = tree.high_tc;
  // Blocks at or below the committed round can never be used again: drop them from the store.
  consensus::TreeUpdate stale;
  for (Block& block : tree.blocks) {
    if (block.header.round <= recovery.committed_root.header.round) {
      stale.forget.push_back(block.id());
    } else {
      recovery.blocks.push_back(std::move(block));
    }
  }
  if (!stale.empty()) LEDGER_RETURN_IF_ERROR(store->tree_store().save(stale));
  const std::size_t recovered_blocks = recovery.blocks.size();
  LEDGER_ASSIGN_OR_RETURN(auto signer, Signer::create(options.node_key));
  replica.reset();
  speculative.clear();
  pending_payload.reset();
  payload_waits_for_work = false;
  LEDGER_ASSIGN_OR_RETURN(
      replica, consensus::Replica::create(replica_config, std::move(signer), store->safety_store(),
                                          std::move(recovery), {}, this));
  spdlog::info("consensus restored at height {} round {}: {} uncommitted blocks, {} stale dropped",
               tip->height, replica->current_round(), recovered_blocks, stale.forget.size());
  return Status::ok();
}

// A proposal of another leader: what consensus cannot check itself.
Status Node::Impl::validate(const Block& block, const Hash& /*id*/) {
  const std::uint64_t now_ms = wall_clock_ms();
  if (block.header.timestamp_ms > now_ms + kBlockTimeAheadMaxMs) {
    return Status::invalid_argument("timestamp " + std::to_string(block.header.timestamp_ms) +
                                    " is more than " + std::to_string(kBlockTimeAheadMaxMs) +
                                    " ms ahead of this node's clock (" + std::to_string(now_ms) +
                                    ")");
  }
  for (std::size_t i = 0; i < block.transactions.size(); ++i) {
    const SignedTransfer& tx = block.transactions[i];
    if (tx.transfer.chain_id != options.genesis.chain_id) {
      return Status::invalid_argument("transaction " + std::to_string(i) + " is for chain " +
                                      tx.transfer.chain_id);
    }
    if (!signatures.verify(tx)) {
      return Status::invalid_argument("transaction " + std::to_string(i) +
                                      " is not signed by its sender");
    }
  }
  auto parent = speculative.execute(block.header.parent_id,
                                    [this](const Hash& id) { return find_uncommitted(id); });
  if (!parent.is_ok()) return parent.status().with_context("executing the parent");
  LEDGER_ASSIGN_OR_RETURN(const auto accumulator,
                          speculative.accumulator_after(block.header.parent_id));
  if (accumulator.digest() != block.header.state_root) {
    return Status::invalid_argument("state root " + short_id(block.header.state_root) +
                                    " is not the state after the parent (" +
                                    short_id(accumulator.digest()) + ")");
  }
  return Status::ok();
}

// ---- The event loop ---------------------------------------------------------------------

Status Node::run() {
  Impl& n = *impl_;
  LEDGER_ASSERT(!n.run_called);
  n.run_called = true;

  rpc::ServerOptions rpc_options = n.options.config.rpc;
  rpc_options.version = n.options.version;
  LEDGER_ASSIGN_OR_RETURN(n.rpc_server, rpc::RpcServer::start(rpc_options, *this, this));
  LEDGER_RETURN_IF_ERROR(write_rpc_address(n.options.home, n.rpc_server->address()));
  spdlog::info("gRPC listening on {}", n.rpc_server->address());

  if (n.options.handle_signals) {
    n.signals.add(SIGINT);
    n.signals.add(SIGTERM);
    n.signals.async_wait([&n](const boost::system::error_code& error, int signal) {
      if (error) return;
      spdlog::info("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
      n.begin_shutdown();
    });
  }
  LEDGER_RETURN_IF_ERROR(n.start_network());
  boost::asio::post(n.io, [&n] {
    const Status started = n.start_consensus();
    if (!started.is_ok()) n.fail(started);
  });
  n.io.run();
  n.transport.reset();  // its sockets belong to n.io

  // Everything below runs after the loop: no handler is in progress any more.
  if (n.rpc_server) n.rpc_server->shutdown(std::chrono::milliseconds(0));
  remove_rpc_address(n.options.home);
  if (!n.fatal.is_ok()) {
    spdlog::critical("stopped on a fatal error: {}", n.fatal.to_string());
    return n.fatal;
  }
  spdlog::info("stopped cleanly at height {}", latest_height());
  return Status::ok();
}

void Node::stop() {
  Impl& n = *impl_;
  boost::asio::post(n.io, [&n] { n.begin_shutdown(); });
}

void Node::Impl::begin_shutdown() {
  if (stopping.exchange(true)) return;
  {
    std::lock_guard lock(tip_mutex);  // waiters re-check stopping under the lock
  }
  tip_changed.notify_all();
  // Stop accepting calls and let the ones in flight finish (waits return kUnavailable now).
  if (rpc_server) rpc_server->shutdown(std::chrono::milliseconds(2000));
  tick_timer.cancel();
  payload_timer.cancel();
  stop_network();
  signals.cancel();
  io.stop();
}

void Node::Impl::fail(const Status& status) {
  LEDGER_ASSERT(!status.is_ok());
  if (fatal.is_ok()) fatal = status;
  spdlog::critical("fatal: {}", status.to_string());
  begin_shutdown();
}

Status Node::Impl::start_consensus() {
  if (!replica) return Status::ok();  // a full node follows by block sync only
  next_tick = std::chrono::steady_clock::now();
  schedule_tick();
  handle(replica->start());
  return Status::ok();
}

void Node::Impl::schedule_tick() {
  next_tick += std::chrono::milliseconds(options.config.consensus.tick_ms);
  const auto now = std::chrono::steady_clock::now();
  if (next_tick < now) next_tick = now;  // after a stall, do not replay missed ticks in a burst
  tick_timer.expires_at(next_tick);
  tick_timer.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping) return;
    on_tick();
    if (!stopping) schedule_tick();
  });
}

void Node::Impl::on_tick() {
  handle(replica->on_tick());
  std::lock_guard lock(tip_mutex);
  snapshot.current_round = replica->current_round();
}

// The replica's output contract: persist, then send, then commit; forget committed blocks from
// the tree store only once they are in the chain store.
void Node::Impl::handle(consensus::Actions actions) {
  if (stopping) return;
  if (Status s = persist(actions); !s.is_ok()) return fail(s);
  send_messages(std::move(actions.messages));
  for (const auto& committed : actions.commits) {
    if (Status s = commit(committed); !s.is_ok()) return fail(s);
  }
  forget(actions.blocks_to_forget);
  if (!actions.commits.empty()) broadcast_status();
  if (stopping) return;
  log_rejections(actions);
  if (actions.payload_request) {
    pending_payload = actions.payload_request;
    schedule_payload();
  }
}

Status Node::Impl::persist(const consensus::Actions& actions) {
  consensus::TreeUpdate update;
  update.blocks = actions.blocks_to_persist;
  update.high_qc = actions.high_qc_to_persist;
  update.high_tc = actions.high_tc_to_persist;
  if (update.empty()) return Status::ok();
  return store->tree_store().save(update);
}

Status Node::Impl::commit(const consensus::CommittedBlock& committed) {
  return commit_block(committed.block, committed.block.id(), committed.commit_cert);
}

Status Node::Impl::commit_block(const Block& block, const Hash& id, const QuorumCert& commit_cert) {
  const auto tip = store->tip();
  LEDGER_ASSERT(tip.has_value());
  if (block.header.height <= tip->height) {
    // Committed already (by block sync): the same block, or the chain has forked.
    LEDGER_ASSIGN_OR_RETURN(const Block stored, store->block_at(block.header.height));
    if (stored.id() == id) return Status::ok();
    return Status::internal("safety violation: consensus committed block " + to_hex(id.bytes) +
                            " at height " + std::to_string(block.header.height) +
                            ", where the chain store holds " + to_hex(stored.id().bytes));
  }
  // The block's parent is the chain tip, so its execution is at hand (or cheap to redo).
  LEDGER_ASSIGN_OR_RETURN(const auto* executed, speculative.execute_block_on_parent(block, id));
  storage::BlockCommit batch;
  batch.block = block;
  batch.commit_cert = commit_cert;
  batch.results = executed->output.results;
  batch.changed_accounts = executed->output.changed;
  batch.accumulator = executed->output.accumulator;
  LEDGER_RETURN_IF_ERROR(store->commit(batch));
  speculative.forget(id);
  if (Status s = mempool.on_commit(block, *store); !s.is_ok()) {
    return Status(s.code(), "mempool eviction after height " + std::to_string(block.header.height) +
                                ": " + s.message());
  }
  publish_tip(block, id);
  spdlog::info("committed height={} round={} txs={} id={} mempool={}", block.header.height,
               block.header.round, block.transactions.size(), short_id(id), mempool.size());
  return Status::ok();
}

void Node::Impl::publish_tip(const Block& block, const Hash& id) {
  {
    std::lock_guard lock(tip_mutex);
    snapshot.height = block.header.height;
    snapshot.block_id = id;
    snapshot.block_time_ms = block.header.timestamp_ms;
    if (replica) snapshot.current_round = replica->current_round();
  }
  tip_changed.notify_all();
}

void Node::Impl::forget(const std::vector<Hash>& ids) {
  if (ids.empty()) return;
  for (const Hash& id : ids)
    speculative.forget(id);
  consensus::TreeUpdate update;
  update.forget = ids;
  if (Status s = store->tree_store().save(update); !s.is_ok()) fail(s);
}

void Node::Impl::log_rejections(const consensus::Actions& actions) {
  for (const auto& rejection : actions.rejections) {
    // A vote or timeout that arrives after its round was left is normal with several
    // validators (the quorum formed without it): not worth a warning.
    const bool routine = rejection.reason == consensus::RejectReason::kStaleRound;
    spdlog::log(routine ? spdlog::level::debug : spdlog::level::warn,
                "consensus rejected input from {}: {}: {}",
                to_hex(rejection.from.bytes).substr(0, 12),
                consensus::reject_reason_name(rejection.reason), rejection.message);
  }
  for (std::size_t i = 0; i < actions.evidence.size(); ++i) {
    spdlog::warn("equivocation evidence recorded ({} kept)", replica->evidence().size());
  }
}

const Block* Node::Impl::find_uncommitted(const Hash& id) const {
  return replica ? replica->tree().find(id) : nullptr;
}

// ---- Proposing --------------------------------------------------------------------------

// A leader proposes at once when there is something to commit: a transaction the block could
// include, or transactions in uncommitted ancestors that only a child's certificate will commit
// (2-chain). Otherwise it waits empty_block_interval_ms (transactions waiting behind a nonce gap
// do not count: they cannot be included).
bool Node::Impl::has_work(const consensus::PayloadRequest& request) const {
  if (speculative.uncommitted_transactions_below(request.parent_id)) return true;
  if (mempool.size() == 0) return false;
  auto state = speculative.reader_after(request.parent_id);
  if (!state.is_ok()) return false;
  auto one = mempool.select(BlockLimits{1, replica_config.block_limits.bytes_max}, *state.value());
  return one.is_ok() && !one.value().empty();
}

void Node::Impl::schedule_payload() {
  if (!pending_payload || stopping) return;
  // The parent's state must be known before deciding: execute uncommitted ancestors now.
  auto parent = speculative.execute(pending_payload->parent_id,
                                    [this](const Hash& id) { return find_uncommitted(id); });
  if (!parent.is_ok()) {
    spdlog::error("cannot execute the parent of round {}: {}", pending_payload->round,
                  parent.status().to_string());
    pending_payload.reset();
    return;
  }
  const bool work = has_work(*pending_payload);
  const std::uint64_t delay_ms = work ? options.config.consensus.block_interval_ms
                                      : options.config.consensus.empty_block_interval_ms;
  const std::uint64_t ready_ms = pending_payload->parent_timestamp_ms + delay_ms;
  const std::uint64_t now_ms = wall_clock_ms();
  payload_waits_for_work = !work;
  // Through the timer even when due now: the loop then serves ticks between blocks instead of
  // proposing recursively.
  payload_timer.expires_after(std::chrono::milliseconds(ready_ms > now_ms ? ready_ms - now_ms : 0));
  payload_timer.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping) return;
    propose_payload();
  });
}

void Node::Impl::propose_payload() {
  if (!pending_payload || stopping) return;
  const consensus::PayloadRequest request = *pending_payload;
  pending_payload.reset();
  payload_waits_for_work = false;
  payload_timer.cancel();
  if (request.round != replica->current_round()) return;  // the round moved on
  auto payload = build_payload(request);
  if (!payload.is_ok()) {
    spdlog::error("cannot build the block of round {}: {}", request.round,
                  payload.status().to_string());
    return;
  }
  handle(replica->on_payload(payload.value()));
}

StatusOr<consensus::Payload> Node::Impl::build_payload(const consensus::PayloadRequest& request) {
  LEDGER_ASSIGN_OR_RETURN(auto state, speculative.reader_after(request.parent_id));
  LEDGER_ASSIGN_OR_RETURN(auto accumulator, speculative.accumulator_after(request.parent_id));
  // Leave room for the header: its parent QC (and a TC) carry up to one signature per validator.
  BlockLimits limits = replica_config.block_limits;
  const std::uint64_t header_reserve = 4096 + 2 * 128 * replica_config.validators.size();
  limits.bytes_max = limits.bytes_max > header_reserve ? limits.bytes_max - header_reserve : 0;
  consensus::Payload payload;
  payload.round = request.round;
  LEDGER_ASSIGN_OR_RETURN(payload.transactions, mempool.select(limits, *state));
  payload.state_root = accumulator.digest();
  payload.timestamp_ms = std::max(wall_clock_ms(), request.parent_timestamp_ms + 1);
  return payload;
}

}  // namespace ledger::node
