// Node: startup, the event loop, and carrying out the replica's Actions.
#include "node_impl.h"

#include <spdlog/spdlog.h>

#include <csignal>

#include "ledger/core/assert.h"
#include "ledger/core/bytes.h"
#include "ledger/node/block_sync.h"
#include "ledger/node/home.h"

namespace ledger::node {
namespace {

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
    LEDGER_RETURN_IF_ERROR(store->commit(genesis_commit(options.genesis), std::nullopt));
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
// Room for the envelope around a block response.
constexpr std::uint64_t kEnvelopeSlack = 64 * 1024;

// The replica's configuration from the genesis and config.toml.
StatusOr<consensus::ReplicaConfig> replica_config_of(const NodeOptions& o) {
  consensus::ReplicaConfig config;
  config.chain_id = o.genesis.chain_id;
  config.validators = o.genesis.validators;
  config.genesis = o.genesis.genesis_block();
  config.pacemaker =
      consensus::PacemakerConfig::from_params(o.genesis.consensus, o.config.consensus.tick_ms);
  config.block_limits = o.genesis.consensus.block_limits();
  config.pending_blocks_max = o.config.consensus.pending_blocks_max;
  config.vote_rounds_max = o.config.consensus.vote_rounds_max;
  config.verified_certs_max = o.config.consensus.verified_certs_max;
  config.failed_certs_max = o.config.consensus.failed_certs_max;
  config.evidence_max = o.config.consensus.evidence_max;
  config.proposals_seen_max = o.config.consensus.proposals_seen_max;
  config.fetches_inflight_max = o.config.consensus.fetches_inflight_max;
  config.fetch_attempts_max = o.config.consensus.fetch_attempts_max;
  config.payload_check_attempts_max = o.config.consensus.payload_check_attempts_max;
  LEDGER_RETURN_IF_ERROR(config.validate());
  return config;
}

}  // namespace

Node::Impl::Impl(NodeOptions opts, std::unique_ptr<storage::RocksChainStore> store_in,
                 consensus::ReplicaConfig replica_config)
    : options(std::move(opts)),
      store(std::move(store_in)),
      signatures(options.config.signature_cache_max),
      mempool(options.genesis.chain_id, options.config.mempool, signatures),
      view(*store, mempool),
      consensus_loop(io, options, std::move(replica_config), *store, signatures, mempool, view,
                     stopping,
                     ConsensusLoop::Hooks{[this](std::vector<consensus::OutgoingMessage> m) {
                                            if (network) network->send_messages(std::move(m));
                                          },
                                          [this] {
                                            if (network) network->broadcast_status();
                                          },
                                          [this](const Status& s) { fail(s); }}),
      gossip(io,
             Gossip::Config{options.config.p2p.gossip_batch_max,
                            options.config.p2p.frame_bytes_max - kEnvelopeSlack,
                            options.config.p2p.gossip_interval_ms},
             Gossip::Hooks{
                 [this](const SignedTransfer& tx, const PublicKey& origin) {
                   return admit(tx, origin);
                 },
                 [this] { return network ? network->peer_keys() : std::vector<PublicKey>{}; },
                 [this](const PublicKey& peer, std::shared_ptr<const Bytes> payload) {
                   if (network) network->send(peer, std::move(payload));
                 }},
             stopping) {}

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
  LEDGER_ASSIGN_OR_RETURN(auto replica_config, replica_config_of(options));
  LEDGER_ASSIGN_OR_RETURN(auto store, open_store(options));
  auto impl =
      std::make_unique<Impl>(std::move(options), std::move(store), std::move(replica_config));
  impl->node_id = node_id;
  const NodeOptions& o = impl->options;

  impl->validator_node = o.genesis.validators.contains(node_id);
  if (impl->validator_node) {
    impl->safety_store = std::make_unique<MarkingSafetyStore>(impl->store->safety_store(), o.home,
                                                              o.genesis.chain_id, node_id);
    LEDGER_RETURN_IF_ERROR(impl->safety_store->check());
    LEDGER_RETURN_IF_ERROR(impl->consensus_loop.restore(*impl->safety_store));
  } else {
    spdlog::info(
        "the node key {} is not a genesis validator: running as a full node that "
        "follows the chain by block sync",
        to_hex(node_id.bytes).substr(0, 12));
  }
  Impl* raw = impl.get();
  impl->network = std::make_unique<PeerNetwork>(
      impl->io, o, node_id, impl->validator_node, *impl->store, impl->view, impl->consensus_loop,
      impl->gossip, impl->stopping, [raw](const Status& s) { raw->fail(s); });
  LEDGER_RETURN_IF_ERROR(impl->view.publish_stored(impl->consensus_loop.current_round()));
  const PublishedTip tip = impl->view.tip();
  spdlog::info("opened chain {} at height {} ({}), round {}", o.genesis.chain_id, tip.height,
               short_id(tip.block_id), impl->consensus_loop.current_round());
  return std::unique_ptr<Node>(new Node(std::move(impl)));
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

  LEDGER_RETURN_IF_ERROR(n.network->start());
  n.gossip.start();
  boost::asio::post(n.io, [&n] { n.consensus_loop.start(); });
  n.io.run();
  n.network->close();  // the transport's sockets belong to n.io

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
  view.shut_down();
  // Stop accepting calls and let the ones in flight finish (waits return kUnavailable now).
  if (rpc_server) rpc_server->shutdown(std::chrono::milliseconds(2000));
  consensus_loop.stop();
  if (network) network->stop();
  gossip.stop();  // admissions in progress refuse with kUnavailable (stopping is set)
  signals.cancel();
  io.stop();
}

void Node::Impl::fail(const Status& status) {
  LEDGER_ASSERT(!status.is_ok());
  if (fatal.is_ok()) fatal = status;
  spdlog::critical("fatal: {}", status.to_string());
  begin_shutdown();
}

}  // namespace ledger::node
