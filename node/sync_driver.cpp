#include "sync_driver.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "envelope.h"

namespace ledger::node {
namespace {

namespace wire = ::ledger::p2p::v1;

// A validator more than this many blocks behind its best peer (and more than half of
// consensus.pending_blocks_max, so that what it leaves to consensus fetches always fits its
// tree) syncs blocks instead of waiting for consensus to fetch them; a full node syncs whenever
// a peer is ahead.
constexpr std::uint64_t kValidatorSyncLagBlocks = 8;
// A sync request unanswered for this long is a failure of that peer.
constexpr std::chrono::milliseconds kSyncTimeout{10'000};
// A peer that failed a sync request waits kSyncBackoffMin, doubling with each consecutive
// failure up to kSyncBackoffMax; after any failure no request leaves for kSyncRetryInterval.
constexpr std::chrono::milliseconds kSyncBackoffMin{1'000};
constexpr std::chrono::milliseconds kSyncBackoffMax{60'000};
constexpr std::chrono::milliseconds kSyncRetryInterval{250};
// A peer over this node's sync rates is told "busy" at most this often (below
// kSyncRetryInterval, the least an asker waits after a busy answer, so an honest one is told).
constexpr std::chrono::milliseconds kSyncBusyInterval{100};
// Room for the envelope around a message's own bytes.
constexpr std::size_t kEnvelopeSlack = 64 * 1024;

SyncResponseMessage from_wire(const wire::SyncResponse& in) {
  SyncResponseMessage out;
  out.from_height = in.from_height();
  out.committed_height = in.committed_height();
  out.blocks.reserve(static_cast<std::size_t>(in.blocks_size()));
  for (const wire::SyncedBlock& synced : in.blocks()) {
    out.blocks.push_back({to_bytes(synced.block()), to_bytes(synced.commit_cert())});
  }
  out.proof_headers.reserve(static_cast<std::size_t>(in.proof_headers_size()));
  for (const std::string& header : in.proof_headers())
    out.proof_headers.push_back(to_bytes(header));
  out.retry_after_ms = in.retry_after_ms();
  return out;
}

void to_wire(const SyncResponseMessage& in, wire::SyncResponse& out) {
  out.set_from_height(in.from_height);
  out.set_committed_height(in.committed_height);
  for (const auto& item : in.blocks) {
    wire::SyncedBlock* synced = out.add_blocks();
    synced->set_block(as_string(item.block));
    synced->set_commit_cert(as_string(item.commit_cert));
  }
  for (const Bytes& header : in.proof_headers)
    out.add_proof_headers(as_string(header));
  if (in.retry_after_ms > 0) out.set_retry_after_ms(in.retry_after_ms);
}

void log_notes(const std::vector<SyncNote>& notes) {
  for (const SyncNote& note : notes) {
    switch (note.level) {
      case SyncNote::Level::kDebug:
        spdlog::debug("{}", note.text);
        break;
      case SyncNote::Level::kInfo:
        spdlog::info("{}", note.text);
        break;
      case SyncNote::Level::kWarn:
        spdlog::warn("{}", note.text);
        break;
    }
  }
}

BlockSyncConfig block_sync_config(const NodeOptions& options, bool validator,
                                  const consensus::ReplicaConfig& replica_config) {
  BlockSyncConfig c;
  c.chain_id = replica_config.chain_id;
  c.validators = replica_config.validators;
  c.genesis_qc = genesis_qc(replica_config.genesis);
  c.block_limits = replica_config.block_limits;
  c.verified_certs_max = replica_config.verified_certs_max;
  c.blocks_max = options.config.p2p.sync_blocks_max;
  c.proof_headers_max = options.config.p2p.sync_proof_headers_max;
  c.lag_blocks =
      validator ? std::min<std::uint64_t>(
                      kValidatorSyncLagBlocks,
                      std::max<std::uint64_t>(1, options.config.consensus.pending_blocks_max / 2))
                : 0;
  c.request_timeout = kSyncTimeout;
  c.backoff_min = kSyncBackoffMin;
  c.backoff_max = kSyncBackoffMax;
  c.retry_interval = kSyncRetryInterval;
  c.retry_after_max = std::chrono::milliseconds(options.config.p2p.sync_retry_after_max_ms);
  c.peers_max = options.config.p2p.connections_max;
  c.response_bytes_max = options.config.p2p.frame_bytes_max - kEnvelopeSlack;
  return c;
}

SyncServiceConfig sync_service_config(const NodeOptions& options) {
  SyncServiceConfig s;
  s.blocks_max = options.config.p2p.sync_blocks_max;
  s.proof_headers_max = options.config.p2p.sync_proof_headers_max;
  s.response_bytes_max = options.config.p2p.frame_bytes_max - kEnvelopeSlack;
  s.requests_per_second = options.config.p2p.sync_requests_per_second;
  s.bytes_per_second = options.config.p2p.sync_bytes_per_second;
  s.peers_max = options.config.p2p.connections_max;
  s.busy_interval = kSyncBusyInterval;
  return s;
}

}  // namespace

SyncDriver::SyncDriver(boost::asio::io_context& io, const NodeOptions& options, bool validator,
                       storage::RocksChainStore& store, const ChainView& view,
                       ConsensusLoop& consensus, const std::atomic<bool>& stopping, Hooks hooks)
    : store_(store),
      consensus_(consensus),
      stopping_(stopping),
      hooks_(std::move(hooks)),
      block_sync_(block_sync_config(options, validator, consensus.replica_config())),
      sync_service_(store, sync_service_config(options), [&view] { return view.latest_height(); }),
      timer_(io) {}

void SyncDriver::stop() {
  timer_.cancel();
}

void SyncDriver::on_peer_status(const PublicKey& peer, std::uint64_t committed_height) {
  log_notes(block_sync_.on_peer_status(peer, committed_height).notes);
  poll();
}

void SyncDriver::on_peer_gone(const PublicKey& peer) {
  log_notes(block_sync_.on_peer_gone(peer, std::chrono::steady_clock::now()).notes);
  poll();
}

// Runs BlockSync's poll: sends the request it returns and wakes up again when it asks to.
void SyncDriver::poll() {
  if (stopping_) return;
  const auto now = std::chrono::steady_clock::now();
  SyncOutput out = block_sync_.poll(*store_.tip(), now);
  log_notes(out.notes);
  if (out.request) {
    const SyncRequestOut& request = *out.request;
    wire::Envelope envelope;
    envelope.mutable_sync_request()->set_from_height(request.request.from_height);
    envelope.mutable_sync_request()->set_count(request.request.count);
    envelope.mutable_sync_request()->set_bytes_max(request.request.bytes_max);
    if (!hooks_.send(request.peer, serialize(envelope))) {
      log_notes(block_sync_.on_peer_gone(request.peer, now).notes);
    }
  }
  const auto next = block_sync_.next_poll(now);
  if (!next) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(std::max(*next, now));
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || stopping_) return;
    poll();
  });
}

void SyncDriver::on_request(const PublicKey& peer, const SyncRequestMessage& request) {
  SyncReply reply = sync_service_.reply(peer, request, std::chrono::steady_clock::now());
  if (reply.log_line) spdlog::warn("{}", *reply.log_line);
  log_notes(reply.notes);
  if (!reply.error.is_ok()) {
    spdlog::error("sync: cannot answer {} from height {}: {}", peer_name(peer), request.from_height,
                  reply.error.to_string());
  }
  if (!reply.response) return;
  wire::Envelope envelope;
  to_wire(*reply.response, *envelope.mutable_sync_response());
  hooks_.send(peer, serialize(envelope));
}

void SyncDriver::on_response(const PublicKey& peer, const wire::SyncResponse& response) {
  const SyncApplied applied = consensus_.on_sync_response(block_sync_, peer, from_wire(response),
                                                          std::chrono::steady_clock::now());
  log_notes(applied.notes);
  if (applied.fatal) return hooks_.fail(applied.status.with_context("block sync"));
  if (applied.committed > 0) {
    spdlog::info("sync: committed {} blocks from {}, height now {} (peer at {})", applied.committed,
                 peer_name(peer), store_.tip()->height, response.committed_height());
    hooks_.committed();
  }
  if (!stopping_) poll();
}

}  // namespace ledger::node
