// Node: startup, the event loop, and carrying out the replica's Actions.
#include "node_impl.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>

#include "file_io.h"
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
// Room for the envelope around a block response.
constexpr std::uint64_t kEnvelopeSlack = 64 * 1024;

// A validator key that has signed on a chain leaves this mark in the home directory, outside
// data_dir. Safety data lives in data_dir: a validator restarted with a fresh data directory and
// the same key would otherwise start from last_voted_round 0 and could sign a round it already
// signed (DESIGN.md section 3; issue 11, point 8). With the mark and no safety data, it refuses.
Status check_signing_mark(const std::filesystem::path& home, const std::string& chain_id,
                          const PublicKey& key, const consensus::SafetyStore& safety) {
  if (home.empty()) return Status::ok();  // embedded use without a home directory
  const std::filesystem::path mark = home / "keys" / "validator-signed";
  const std::string text =
      "{\"chain_id\": \"" + chain_id + "\", \"validator\": \"" + key.hex() + "\"}\n";
  LEDGER_ASSIGN_OR_RETURN(const auto data, safety.load());
  std::error_code error;
  const bool exists = std::filesystem::exists(mark, error);
  if (exists && !data) {
    std::ifstream in(mark);
    const std::string stored((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    if (stored == text) {
      return Status::failed_precondition(
          "validator key " + key.hex() + " has signed consensus messages on chain " + chain_id +
          " before (" + mark.string() +
          "), but the data directory holds no safety data: starting now could sign a round it "
          "already signed (double signing). Restore the data directory; or, only if this key "
          "never signed on this chain, remove " +
          mark.string());
    }
  }
  if (exists) {
    std::ifstream in(mark);
    const std::string stored((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
    if (stored == text) return Status::ok();
  }
  // Written (synced) before consensus starts, so before anything can be signed.
  return write_file_atomically(mark, text, 0600);
}

}  // namespace

Node::Impl::Impl(NodeOptions opts, std::unique_ptr<storage::RocksChainStore> store_in)
    : options(std::move(opts)),
      store(std::move(store_in)),
      signatures(options.config.signature_cache_max),
      mempool(options.genesis.chain_id, options.config.mempool, signatures),
      // The tree may hold twice pending_blocks_max on its certified chain (BlockTree::insert).
      speculative(*store, signatures.as_check(),
                  2 * options.config.consensus.pending_blocks_max + 2),
      checker({options.genesis.chain_id, kBlockTimeAheadMaxMs}, signatures, speculative),
      proposer({options.genesis.consensus.block_limits(), options.genesis.validators.size(),
                options.config.consensus.block_interval_ms,
                options.config.consensus.empty_block_interval_ms},
               mempool, speculative),
      pipeline(*store, speculative, mempool),
      block_service(
          {consensus::ReplicaConfig{}.fetch_blocks_max,
           options.config.p2p.frame_bytes_max > kEnvelopeSlack
               ? options.config.p2p.frame_bytes_max - kEnvelopeSlack
               : 0,
           options.config.p2p.block_requests_per_second, options.config.p2p.block_requests_burst,
           options.config.p2p.connections_max + options.genesis.validators.size(),
           options.config.p2p.block_bytes_per_second},
          *store),
      outbox([this](consensus::OutgoingMessage m) {
        std::vector<consensus::OutgoingMessage> one;
        one.push_back(std::move(m));
        send_messages(std::move(one));
      }),
      driver(store->tree_store(), pipeline, checker, speculative, outbox) {}

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
    LEDGER_RETURN_IF_ERROR(
        check_signing_mark(o.home, o.genesis.chain_id, node_id, impl->store->safety_store()));
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
  std::size_t stale = 0;
  LEDGER_ASSIGN_OR_RETURN(
      auto recovery, load_recovery(*store, store->tree_store(), replica_config.genesis, stale));
  const std::uint64_t height = recovery.committed_root.header.height;
  const std::size_t recovered_blocks = recovery.blocks.size();
  LEDGER_ASSIGN_OR_RETURN(auto signer, Signer::create(options.node_key));
  replica.reset();
  speculative.clear();
  pending_payload.reset();
  payload_waits_for_work = false;
  LEDGER_ASSIGN_OR_RETURN(
      replica, consensus::Replica::create(replica_config, std::move(signer), store->safety_store(),
                                          std::move(recovery)));
  spdlog::info("consensus restored at height {} round {}: {} uncommitted blocks, {} stale dropped",
               height, replica->current_round(), recovered_blocks, stale);
  return Status::ok();
}

// ---- The event loop ---------------------------------------------------------------------

Status Node::run() {
  Impl& n = *impl_;
  LEDGER_ASSERT(!n.run_called);
  n.run_called = true;

  // Signals first: a client that sees the RPC address may send SIGTERM at once.
  if (n.options.handle_signals) {
    n.signals.add(SIGINT);
    n.signals.add(SIGTERM);
    n.signals.async_wait([&n](const boost::system::error_code& error, int signal) {
      if (error) return;
      spdlog::info("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
      n.begin_shutdown();
    });
  }
  rpc::ServerOptions rpc_options = n.options.config.rpc;
  rpc_options.version = n.options.version;
  LEDGER_ASSIGN_OR_RETURN(n.rpc_server, rpc::RpcServer::start(rpc_options, *this, this));
  LEDGER_RETURN_IF_ERROR(write_rpc_address(n.options.home, n.rpc_server->address()));
  spdlog::info("gRPC listening on {}", n.rpc_server->address());

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

std::uint64_t Node::Impl::steady_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
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

// The replica's output contract, carried out by the driver; then what only the shell does:
// publish the tip, tell peers, log, arm the proposal timer.
void Node::Impl::handle(consensus::Actions actions) {
  if (stopping) return;
  DriverOutcome outcome;
  const Status s = driver.handle(*replica, std::move(actions), wall_clock_ms(), outcome);
  published(outcome.committed);
  if (!s.is_ok()) return fail(s);
  if (!outcome.committed.empty()) broadcast_status();
  if (stopping) return;
  log_rejections(outcome);
  if (outcome.payload_request) {
    pending_payload = outcome.payload_request;
    schedule_payload();
  }
}

Status Node::Impl::commit_blocks(std::vector<consensus::CommittedBlock> blocks) {
  LEDGER_ASSIGN_OR_RETURN(const auto stored, pipeline.commit(std::move(blocks)));
  published(stored);
  return Status::ok();
}

// Readers see a batch only now, all at once: the tip is published once, after the last block.
void Node::Impl::published(const std::vector<consensus::CommittedBlock>& stored) {
  if (stored.empty()) return;
  const Block& last = stored.back().block;
  publish_tip(last, last.id());
  for (std::size_t i = 0; i < stored.size(); ++i) {
    const Block& block = stored[i].block;
    spdlog::info(
        "committed height={} round={} txs={} id={} mempool={}{}", block.header.height,
        block.header.round, block.transactions.size(), short_id(block.id()), mempool.size(),
        stored.size() > 1 ? " batch=" + std::to_string(i + 1) + "/" + std::to_string(stored.size())
                          : std::string());
  }
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

void Node::Impl::log_rejections(const DriverOutcome& outcome) {
  for (const auto& rejection : outcome.rejections) {
    // A vote or timeout that arrives after its round was left is normal with several
    // validators (the quorum formed without it): not worth a warning.
    const bool routine = rejection.reason == consensus::RejectReason::kStaleRound;
    spdlog::log(routine ? spdlog::level::debug : spdlog::level::warn,
                "consensus rejected input from {}: {}: {}",
                to_hex(rejection.from.bytes).substr(0, 12),
                consensus::reject_reason_name(rejection.reason), rejection.message);
  }
  for (std::size_t i = 0; i < outcome.evidence; ++i) {
    spdlog::warn("equivocation evidence recorded ({} kept)", replica->evidence().size());
  }
}

const Block* Node::Impl::find_uncommitted(const Hash& id) const {
  return replica ? replica->tree().find(id) : nullptr;
}

// ---- Proposing --------------------------------------------------------------------------

void Node::Impl::schedule_payload() {
  if (!pending_payload || stopping) return;
  auto schedule =
      proposer.schedule(*pending_payload, [this](const Hash& id) { return find_uncommitted(id); });
  if (!schedule.is_ok()) {
    spdlog::error("cannot execute the parent of round {}: {}", pending_payload->round,
                  schedule.status().to_string());
    pending_payload.reset();
    return;
  }
  const std::uint64_t ready_ms = schedule.value().ready_at_ms;
  const std::uint64_t now_ms = wall_clock_ms();
  payload_waits_for_work = !schedule.value().has_work;
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
  auto payload = proposer.build(request, wall_clock_ms());
  if (!payload.is_ok()) {
    spdlog::error("cannot build the block of round {}: {}", request.round,
                  payload.status().to_string());
    return;
  }
  handle(replica->on_payload(payload.value()));
}

}  // namespace ledger::node
