#include "ledger/node/block_sync.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "ledger/core/assert.h"

namespace ledger::node {
namespace {

std::string peer_name(const PublicKey& key) {
  return to_hex(key.bytes).substr(0, 12);
}

std::string short_id(const Hash& id) {
  return to_hex(id.bytes).substr(0, 12);
}

SyncNote note(SyncNote::Level level, std::string text) {
  return SyncNote{level, std::move(text)};
}

// Protobuf framing around each bytes field of a SyncResponse, as SyncService counts it.
constexpr std::uint64_t kItemOverheadBytes = 16;

// The encoded size of a response as SyncService counts it when it cuts an answer: its blocks
// and certificates, and (with `proofs`) its proof headers, each with its framing.
std::uint64_t counted_bytes(const SyncResponseMessage& response, bool proofs) {
  std::uint64_t bytes = 0;
  for (const SyncResponseMessage::Item& item : response.blocks)
    bytes += item.block.size() + item.commit_cert.size() + kItemOverheadBytes;
  if (proofs) {
    for (const Bytes& header : response.proof_headers)
      bytes += header.size() + kItemOverheadBytes;
  }
  return bytes;
}

// backoff_min * 2^(failures - 1), at most backoff_max, without overflow.
std::chrono::milliseconds backoff_for(std::uint32_t failures, std::chrono::milliseconds min,
                                      std::chrono::milliseconds max) {
  LEDGER_ASSERT(failures >= 1);
  std::chrono::milliseconds backoff = min;
  for (std::uint32_t i = 1; i < failures && backoff < max; ++i)
    backoff *= 2;
  return std::min(backoff, max);
}

}  // namespace

std::size_t encoded_header_bytes_min(const std::string& chain_id) {
  BlockHeader header;
  header.chain_id = chain_id;
  return encode_header(header).size();
}

Status BlockSyncConfig::validate() const {
  if (chain_id.empty()) return Status::invalid_argument("block sync: chain_id is empty");
  if (validators.size() == 0) return Status::invalid_argument("block sync: no validators");
  if (verified_certs_max < 1) return Status::invalid_argument("block sync: verified_certs_max < 1");
  if (blocks_max < 1) return Status::invalid_argument("block sync: blocks_max < 1");
  if (proof_headers_max < 1) return Status::invalid_argument("block sync: proof_headers_max < 1");
  if (request_timeout.count() <= 0) {
    return Status::invalid_argument("block sync: request_timeout must be positive");
  }
  if (backoff_min.count() <= 0 || backoff_max < backoff_min) {
    return Status::invalid_argument("block sync: need 0 < backoff_min <= backoff_max");
  }
  if (retry_interval.count() < 0) {
    return Status::invalid_argument("block sync: retry_interval is negative");
  }
  if (retry_after_max < retry_interval || retry_after_max.count() < 1) {
    return Status::invalid_argument("block sync: need retry_interval <= retry_after_max, >= 1 ms");
  }
  if (peers_max < 1 || penalties_max < 1) {
    return Status::invalid_argument("block sync: peers_max and penalties_max must be >= 1");
  }
  if (response_bytes_max < 1) {
    return Status::invalid_argument("block sync: response_bytes_max < 1");
  }
  return Status::ok();
}

BlockSync::BlockSync(BlockSyncConfig config)
    : config_(std::move(config)),
      verifier_(config_.chain_id, config_.validators, config_.genesis_qc,
                std::max<std::size_t>(config_.verified_certs_max, 1)) {
  LEDGER_ASSERT(config_.validate().is_ok());
}

std::uint32_t BlockSync::failures_of(const PublicKey& peer) const {
  const auto it = penalties_.find(peer);
  return it == penalties_.end() ? 0 : it->second.failures;
}

std::uint32_t BlockSync::short_answers_of(const PublicKey& peer) const {
  const auto it = short_answers_.find(peer);
  return it == short_answers_.end() ? 0 : it->second.answers;
}

std::uint32_t BlockSync::busy_answers_of(const PublicKey& peer) const {
  const auto it = busy_.find(peer);
  return it == busy_.end() ? 0 : it->second.answers;
}

std::optional<std::uint32_t> BlockSync::rate_level_of(const PublicKey& peer) const {
  const auto it = rate_levels_.find(peer);
  if (it == rate_levels_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint64_t> BlockSync::claim_of(const PublicKey& peer) const {
  const auto it = claims_.find(peer);
  if (it == claims_.end()) return std::nullopt;
  return it->second.claimed;
}

void BlockSync::raise_claim(const PublicKey& peer, std::uint64_t height) {
  if (auto it = claims_.find(peer); it != claims_.end()) {
    it->second.claimed = std::max(it->second.claimed, height);
  }
}

// ---- Inputs ------------------------------------------------------------------------------------

SyncOutput BlockSync::on_peer_status(const PublicKey& peer, std::uint64_t committed_height) {
  SyncOutput out;
  auto it = claims_.find(peer);
  if (it == claims_.end()) {
    if (claims_.size() >= config_.peers_max) {
      out.notes.push_back(
          note(SyncNote::Level::kDebug, "sync: status of " + peer_name(peer) + " not tracked: " +
                                            std::to_string(claims_.size()) + " peers already"));
      return out;
    }
    // A new connection ranks as if asked just now: a peer that reconnects after each answer
    // must not come first in the rotation ("asked least recently") at every request.
    it = claims_.emplace(peer, Peer{0, stats_.requests}).first;
  }
  raise_claim(peer, committed_height);
  return out;
}

SyncOutput BlockSync::on_peer_gone(const PublicKey& peer, SyncTime now) {
  SyncOutput out;
  claims_.erase(peer);
  if (in_flight_ && in_flight_->peer == peer) {
    in_flight_.reset();
    penalise(peer, "disconnected with a request in flight", now, out);
  }
  return out;
}

SyncOutput BlockSync::on_response(const PublicKey& peer, const SyncResponseMessage& response,
                                  const storage::ChainTip& tip, SyncTime now) {
  SyncOutput out;
  if (!in_flight_ || in_flight_->peer != peer) {
    ++stats_.responses_unsolicited;
    out.notes.push_back(note(SyncNote::Level::kDebug,
                             "sync: unsolicited response from " + peer_name(peer) + " ignored (" +
                                 std::to_string(response.blocks.size()) + " blocks)"));
    return out;
  }
  // An answer to an earlier request of this peer that timed out (requests carry no id; the
  // height tells them apart): late, not a lie. The request in flight stands.
  if (response.from_height != in_flight_->request.from_height) {
    auto late = timed_out_.find(peer);
    std::vector<std::uint64_t>::iterator height;
    if (late != timed_out_.end() &&
        (height = std::ranges::find(late->second, response.from_height)) != late->second.end()) {
      late->second.erase(height);  // one copy: the same height may have timed out twice
      if (late->second.empty()) timed_out_.erase(late);
      ++stats_.responses_late;
      out.notes.push_back(note(SyncNote::Level::kDebug,
                               "sync: late answer of " + peer_name(peer) + " from height " +
                                   std::to_string(response.from_height) + " ignored"));
      return out;
    }
  }
  const InFlight asked = *in_flight_;
  in_flight_.reset();
  raise_claim(peer, response.committed_height);
  if (response.blocks.empty() && response.retry_after_ms > 0) {
    // An honest busy answer comes before any store read: one that took long is a slow peer
    // keeping its place (it would otherwise keep the pace of an earlier fast answer).
    const auto elapsed_ms = std::max<std::int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now - asked.asked_at).count(), 1);
    set_pace(peer,
             static_cast<std::uint32_t>(std::bit_width(static_cast<std::uint64_t>(elapsed_ms))),
             true);
    note_busy(peer, response, now, out);
    return out;
  }

  auto groups = verify(asked, response, tip);
  if (!groups.is_ok()) {
    penalise(peer, "sent a bad response: " + groups.status().message(), now, out);
    return out;
  }
  if (groups.value().empty()) {
    ++stats_.responses_stale;
    out.notes.push_back(
        note(SyncNote::Level::kDebug, "sync: the response of " + peer_name(peer) + " from height " +
                                          std::to_string(asked.request.from_height) +
                                          " is at or below the tip " + std::to_string(tip.height) +
                                          ", committed meanwhile"));
    return out;
  }
  busy_.erase(peer);
  note_rate(peer, asked, response, now);
  if (is_short(asked, response)) {
    note_short(peer, asked, response, now, out);
  } else {
    penalties_.erase(peer);
    short_answers_.erase(peer);
  }
  ++stats_.responses_accepted;
  std::size_t blocks = 0;
  for (const SyncCommitGroup& group : groups.value())
    blocks += group.blocks.size();
  stats_.blocks_verified += blocks;
  out.notes.push_back(note(SyncNote::Level::kDebug,
                           "sync: " + std::to_string(blocks) + " blocks from " + peer_name(peer) +
                               " verified in " + std::to_string(groups.value().size()) +
                               " commit groups, " + std::to_string(response.proof_headers.size()) +
                               " proof headers"));
  out.commits = std::move(groups).value();
  return out;
}

SyncOutput BlockSync::on_commit_refused(const PublicKey& peer, const std::string& reason,
                                        SyncTime now) {
  SyncOutput out;
  penalise(peer, "sent a block that failed at commit: " + reason, now, out);
  return out;
}

SyncOutput BlockSync::poll(const storage::ChainTip& tip, SyncTime now) {
  SyncOutput out;
  if (in_flight_) {
    if (now < in_flight_->deadline) return out;
    const PublicKey peer = in_flight_->peer;
    if (!timed_out_.contains(peer) && timed_out_.size() >= config_.penalties_max) {
      timed_out_.erase(timed_out_.begin());
    }
    std::vector<std::uint64_t>& heights = timed_out_[peer];
    if (heights.size() >= kLateHeightsMax) heights.erase(heights.begin());
    heights.push_back(in_flight_->request.from_height);
    // It held the turn for the whole timeout: slow, whatever its pace before.
    set_pace(peer,
             static_cast<std::uint32_t>(std::bit_width(static_cast<std::uint64_t>(
                 std::max<std::int64_t>(config_.request_timeout.count(), 1)))),
             true);
    in_flight_.reset();
    penalise(peer,
             "did not answer within " + std::to_string(config_.request_timeout.count()) + " ms",
             now, out);
  }
  if (now < quiet_until_) return out;
  if (tip.height == std::numeric_limits<std::uint64_t>::max()) return out;
  prune_penalties(now);
  const auto peer = pick(tip, now);
  if (!peer) return out;
  const SyncRequestMessage request{tip.height + 1, config_.blocks_max, config_.response_bytes_max};
  Peer& chosen = claims_.at(*peer);
  const std::uint64_t claimed = chosen.claimed;
  in_flight_ = InFlight{*peer, request, claimed, now, now + config_.request_timeout};
  ++stats_.requests;
  chosen.asked_seq = stats_.requests;
  out.request = SyncRequestOut{*peer, request};
  out.notes.push_back(
      note(SyncNote::Level::kDebug, "sync: asking " + peer_name(*peer) + " for " +
                                        std::to_string(request.count) + " blocks from height " +
                                        std::to_string(request.from_height) + " (it claims " +
                                        std::to_string(claimed) + ")"));
  return out;
}

std::optional<SyncTime> BlockSync::next_poll(SyncTime now) const {
  if (in_flight_) return in_flight_->deadline;
  std::optional<SyncTime> next;
  auto consider = [&](SyncTime t) {
    if (t > now && (!next || t < *next)) next = t;
  };
  consider(quiet_until_);
  for (const auto& [peer, penalty] : penalties_) {
    if (claims_.contains(peer)) consider(penalty.until);
  }
  for (const auto& [peer, busy] : busy_) {
    if (claims_.contains(peer)) consider(busy.until);
  }
  return next;
}

// ---- Peers and penalties -----------------------------------------------------------------------

void BlockSync::penalise(const PublicKey& peer, const std::string& reason, SyncTime now,
                         SyncOutput& out) {
  prune_penalties(now);
  auto it = penalties_.find(peer);
  if (it == penalties_.end()) {
    if (penalties_.size() >= config_.penalties_max) {
      // Forget the penalty that ends first: the peer closest to being asked anyway.
      auto oldest = std::min_element(penalties_.begin(), penalties_.end(), [](auto& a, auto& b) {
        return a.second.until < b.second.until;
      });
      penalties_.erase(oldest);
    }
    it = penalties_.emplace(peer, Penalty{}).first;
  }
  Penalty& penalty = it->second;
  if (penalty.failures < std::numeric_limits<std::uint32_t>::max()) ++penalty.failures;
  const auto backoff = backoff_for(penalty.failures, config_.backoff_min, config_.backoff_max);
  penalty.until = now + backoff;
  quiet_until_ = now + config_.retry_interval;
  ++stats_.failures;
  LEDGER_ASSERT(penalties_.size() <= config_.penalties_max);
  out.notes.push_back(
      note(SyncNote::Level::kWarn, "sync: " + peer_name(peer) + " " + reason +
                                       "; not asked again for " + std::to_string(backoff.count()) +
                                       " ms (failure " + std::to_string(penalty.failures) + ")"));
  out.penalties.push_back(SyncPenalty{peer, reason, penalty.failures, backoff});
}

bool BlockSync::is_short(const InFlight& asked, const SyncResponseMessage& response) const {
  const std::uint64_t count = asked.request.count;
  if (response.blocks.size() >= count) return false;
  // The last height asked, saturating (the tip is never u64::max when asking).
  const std::uint64_t from = asked.request.from_height;
  const std::uint64_t last_asked = from > std::numeric_limits<std::uint64_t>::max() - (count - 1)
                                       ? std::numeric_limits<std::uint64_t>::max()
                                       : from + (count - 1);
  // What the peer claims: the highest of its claims, not just the answer's own (an under-claim
  // there, stating only the last height sent, must not excuse a drip).
  std::uint64_t claimed = std::max(response.committed_height, asked.claimed_height);
  if (auto it = claims_.find(asked.peer); it != claims_.end()) {
    claimed = std::max(claimed, it->second.claimed);
  }
  if (claimed < last_asked) return false;  // it does not claim to have more
  // Proof headers do not excuse it: the responder chooses the certificate (the genuine one of a
  // later batch will do) and with it how many headers follow, so headers that took the room
  // of blocks say nothing of what it could have sent. (An honest answer cut by its proof headers,
  // a batch longer than a frame's worth of blocks, is rare, and short is not a failure.)
  const std::uint64_t bytes = counted_bytes(response, false);
  std::uint64_t cert_bytes_max = 0;
  for (const SyncResponseMessage::Item& item : response.blocks)
    cert_bytes_max = std::max<std::uint64_t>(cert_bytes_max, item.commit_cert.size());
  // One more block as large as the genesis allows might not have fitted: cut by bytes.
  const std::uint64_t next_bytes_max =
      config_.block_limits.bytes_max + cert_bytes_max + kItemOverheadBytes;
  return bytes + next_bytes_max <= config_.response_bytes_max;
}

void BlockSync::note_short(const PublicKey& peer, const InFlight& asked,
                           const SyncResponseMessage& response, SyncTime now, SyncOutput& out) {
  ++stats_.responses_short;
  auto it = short_answers_.find(peer);
  if (it == short_answers_.end()) {
    if (short_answers_.size() >= config_.penalties_max) {
      // Forget the oldest mark: the one closest to no longer counting.
      short_answers_.erase(
          std::min_element(short_answers_.begin(), short_answers_.end(),
                           [](auto& a, auto& b) { return a.second.last < b.second.last; }));
    }
    it = short_answers_.emplace(peer, Short{}).first;
  }
  if (it->second.answers < std::numeric_limits<std::uint32_t>::max()) ++it->second.answers;
  it->second.last = now;
  LEDGER_ASSERT(short_answers_.size() <= config_.penalties_max);
  out.notes.push_back(
      note(SyncNote::Level::kInfo,
           "sync: " + peer_name(peer) + " sent " + std::to_string(response.blocks.size()) +
               " of the " + std::to_string(asked.request.count) + " blocks asked from height " +
               std::to_string(asked.request.from_height) + ", though it claims height " +
               std::to_string(std::max(
                   {response.committed_height, asked.claimed_height, claim_of(peer).value_or(0)})) +
               " and more would have fitted (short answer " + std::to_string(it->second.answers) +
               "); peers with fewer short answers are asked first"));
}

// The pace of an answer: the time from the request to the answer (at least 1 ms), scaled to a
// full answer, by count or by bytes (proof headers not counted: the peer chooses them),
// whichever it came nearer to. Every answer sets it: one that ends where the peer's claim ends
// is judged as if the peer could have filled the request, for a peer chooses its claim, and a
// slow peer claiming one block at a time must not keep the level of an earlier fast answer.
// An answer to a request that timed out is not timed: its request is not the one in flight.
void BlockSync::note_rate(const PublicKey& peer, const InFlight& asked,
                          const SyncResponseMessage& response, SyncTime now) {
  if (auto late = timed_out_.find(peer); late != timed_out_.end()) {
    if (std::ranges::find(late->second, response.from_height) != late->second.end()) return;
  }
  const auto elapsed_ms = std::max<std::int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now - asked.asked_at).count(), 1);
  // What the peer could have sent: the blocks asked, or fewer if its claim ends before them (an
  // honest peer at the head has only the newest blocks; a slow peer claiming one block at a time
  // is slow by its time alone).
  const std::uint64_t claimed =
      std::max({response.committed_height, asked.claimed_height, claim_of(peer).value_or(0)});
  const std::uint64_t available =
      claimed >= asked.request.from_height ? claimed - asked.request.from_height + 1 : 1;
  const double by_count =
      static_cast<double>(std::min<std::uint64_t>(asked.request.count, available)) /
      static_cast<double>(std::max<std::size_t>(response.blocks.size(), 1));
  const double by_bytes =
      static_cast<double>(config_.response_bytes_max) /
      static_cast<double>(std::max<std::uint64_t>(counted_bytes(response, false), 1));
  const double projected =
      static_cast<double>(elapsed_ms) * std::max(1.0, std::min(by_count, by_bytes));
  const std::uint64_t projected_ms = projected >= 1.8e19 ? std::numeric_limits<std::uint64_t>::max()
                                                         : static_cast<std::uint64_t>(projected);
  const auto level =
      static_cast<std::uint32_t>(std::bit_width(std::max<std::uint64_t>(projected_ms, 1)));
  set_pace(peer, level, false);
}

// Sets the peer's pace level, or with `at_least` only raises it (slower).
void BlockSync::set_pace(const PublicKey& peer, std::uint32_t level, bool at_least) {
  auto it = rate_levels_.find(peer);
  if (it == rate_levels_.end()) {
    if (rate_levels_.size() >= config_.penalties_max) {
      // Forget the fastest: it goes back to "unmeasured", behind the fast measured peers and
      // ahead of the slow ones, and is measured again when asked; forgetting a slow peer would
      // move it ahead of slow peers it is no better than.
      rate_levels_.erase(std::min_element(rate_levels_.begin(), rate_levels_.end(),
                                          [](auto& a, auto& b) { return a.second < b.second; }));
    }
    it = rate_levels_.emplace(peer, level).first;
  }
  if (!at_least || level > it->second) it->second = level;
  LEDGER_ASSERT(rate_levels_.size() <= config_.penalties_max);
}

// Busy is not a failure: no backoff, no quiet interval for the others; only this peer waits,
// at least retry_interval (so that a peer saying "1 ms" cannot make this node ask in a loop) and
// at most retry_after_max (so that a peer saying "an hour" cannot park itself for long).
void BlockSync::note_busy(const PublicKey& peer, const SyncResponseMessage& response, SyncTime now,
                          SyncOutput& out) {
  ++stats_.responses_busy;
  const auto wait = std::clamp(std::chrono::milliseconds(response.retry_after_ms),
                               config_.retry_interval, config_.retry_after_max);
  auto it = busy_.find(peer);
  if (it == busy_.end()) {
    if (busy_.size() >= config_.penalties_max) {
      // Forget the wait that ends first: the peer closest to being asked anyway.
      busy_.erase(std::min_element(busy_.begin(), busy_.end(), [](auto& a, auto& b) {
        return a.second.until < b.second.until;
      }));
    }
    it = busy_.emplace(peer, Busy{}).first;
  }
  Busy& busy = it->second;
  if (busy.answers < std::numeric_limits<std::uint32_t>::max()) ++busy.answers;
  busy.until = now + wait;
  LEDGER_ASSERT(busy_.size() <= config_.penalties_max);
  out.notes.push_back(
      note(SyncNote::Level::kInfo, "sync: " + peer_name(peer) + " is busy (retry after " +
                                       std::to_string(response.retry_after_ms) +
                                       " ms); not asked again for " + std::to_string(wait.count()) +
                                       " ms (busy answer " + std::to_string(busy.answers) + ")"));
}

// A penalty is remembered for backoff_max after it ends, so that a peer that keeps failing
// keeps doubling its backoff, and one that stopped being asked is eventually forgiven.
void BlockSync::prune_penalties(SyncTime now) {
  std::erase_if(penalties_,
                [&](const auto& entry) { return entry.second.until + config_.backoff_max <= now; });
}

// Among peers more than lag_blocks ahead, not backing off and not busy: fewest failures, highest
// rate level, fewest short answers, fewest busy answers, highest claim capped at tip +
// blocks_max, asked least recently, smallest key.
std::optional<PublicKey> BlockSync::pick(const storage::ChainTip& tip, SyncTime now) const {
  const std::uint64_t threshold =
      tip.height > std::numeric_limits<std::uint64_t>::max() - config_.lag_blocks
          ? std::numeric_limits<std::uint64_t>::max()
          : tip.height + config_.lag_blocks;
  // A claim beyond one full request ahead is worth no more than that (a liar claims u64::max).
  const std::uint64_t claim_cap =
      tip.height > std::numeric_limits<std::uint64_t>::max() - config_.blocks_max
          ? std::numeric_limits<std::uint64_t>::max()
          : tip.height + config_.blocks_max;
  using Rank = std::tuple<std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t,
                          std::uint64_t, std::uint64_t>;
  // A fast peer would fill a request within a quarter of the request timeout.
  const auto fast_level_max = static_cast<std::uint32_t>(std::bit_width(
      static_cast<std::uint64_t>(std::max<std::int64_t>(config_.request_timeout.count() / 4, 1))));
  std::optional<PublicKey> best;
  Rank best_rank{};
  for (const auto& [peer, state] : claims_) {
    const std::uint64_t claimed = state.claimed;
    if (claimed <= threshold) continue;
    std::uint32_t failures = 0;
    if (auto it = penalties_.find(peer); it != penalties_.end()) {
      if (it->second.until > now) continue;
      failures = it->second.failures;
    }
    // A short or busy mark ranks a peer lower only for retry_after_max after it was earned: an
    // honest peer marked once (cut or refused by its rate limits) must not be outranked for good
    // by one that earns no mark because it claims, and sends, one block at a time; the marked
    // peer would never be asked again to clear its mark.
    std::uint32_t busy = 0;
    if (auto it = busy_.find(peer); it != busy_.end()) {
      if (it->second.until > now) continue;
      if (now - it->second.until < config_.retry_after_max) busy = it->second.answers;
    }
    std::uint32_t shorts = 0;
    if (auto it = short_answers_.find(peer); it != short_answers_.end()) {
      if (now - it->second.last < config_.retry_after_max) shorts = it->second.answers;
    }
    // Fast measured peers first, by pace; then the unmeasured (so that each gets measured
    // when no fast peer is at hand); then the slow ones, by pace.
    std::uint32_t tier = 1;
    std::uint32_t pace = 0;
    if (auto it = rate_levels_.find(peer); it != rate_levels_.end()) {
      pace = it->second;
      tier = pace <= fast_level_max ? 0 : 2;
    }
    // Lower is better (keys are visited in ascending order, so ties keep the smallest).
    const Rank rank{
        failures,       tier,
        pace,           shorts,
        busy,           std::numeric_limits<std::uint64_t>::max() - std::min(claimed, claim_cap),
        state.asked_seq};
    if (!best || rank < best_rank) {
      best = peer;
      best_rank = rank;
    }
  }
  return best;
}

// ---- Verification ------------------------------------------------------------------------------

namespace {

// A response decoded: its blocks with their certificates, then its proof headers. Position p
// counts through both: p < blocks.size() is a block, the rest proof headers.
struct DecodedResponse {
  std::vector<Block> blocks;
  std::vector<QuorumCert> certs;    // certs[i] commits blocks[i]
  std::vector<BlockHeader> proofs;  // after the blocks
  std::vector<Hash> ids;            // ids[p]: the id of the header at position p (check_chain)

  std::size_t size() const { return blocks.size() + proofs.size(); }
  const BlockHeader& header(std::size_t p) const {
    return p < blocks.size() ? blocks[p].header : proofs[p - blocks.size()];
  }
};

StatusOr<DecodedResponse> decode_response(const SyncResponseMessage& response, std::uint64_t from,
                                          const BlockLimits& limits) {
  DecodedResponse d;
  d.blocks.reserve(response.blocks.size());
  d.certs.reserve(response.blocks.size());
  d.proofs.reserve(response.proof_headers.size());
  for (std::size_t i = 0; i < response.blocks.size(); ++i) {
    const std::string what = "block at height " + std::to_string(from + i);
    auto block = decode_block(response.blocks[i].block, limits);
    if (!block.is_ok()) return block.status().with_context(what);
    auto cert = decode_qc(response.blocks[i].commit_cert);
    if (!cert.is_ok()) return cert.status().with_context("commit certificate of " + what);
    d.blocks.push_back(std::move(block).value());
    d.certs.push_back(std::move(cert).value());
  }
  for (std::size_t k = 0; k < response.proof_headers.size(); ++k) {
    auto header = decode_header(response.proof_headers[k]);
    if (!header.is_ok()) {
      const std::uint64_t height = from + response.blocks.size() + k;
      return header.status().with_context("proof header at height " + std::to_string(height));
    }
    d.proofs.push_back(std::move(header).value());
  }
  return d;
}

// The blocks then the proof headers form one chain: consecutive heights from `from`, this chain
// id, each linked to the one before by parent id; each block's transactions match its root.
// Fills d.ids.
Status check_chain(DecodedResponse& d, std::uint64_t from, const std::string& chain_id) {
  d.ids.clear();
  d.ids.reserve(d.size());
  for (std::size_t p = 0; p < d.size(); ++p) {
    const BlockHeader& h = d.header(p);
    const bool is_block = p < d.blocks.size();
    const std::string what =
        std::string(is_block ? "block" : "proof header") + " at height " + std::to_string(from + p);
    if (h.chain_id != chain_id) {
      return Status::invalid_argument(what + " is for chain " + h.chain_id);
    }
    if (h.height != from + p) {
      return Status::invalid_argument(what + " has height " + std::to_string(h.height));
    }
    if (p > 0 && h.parent_id != d.ids.back()) {
      return Status::invalid_argument(what + " does not link to the block before it");
    }
    if (is_block && transactions_root(d.blocks[p].transactions) != h.transactions_root) {
      return Status::invalid_argument(what + ": transactions do not match the root");
    }
    d.ids.push_back(block_id(h));
  }
  return Status::ok();
}

// Whether the headers at positions p + 1 and p + 2 prove the block at p committed: p + 1 is its
// child one round later, and the parent QC of p + 2 certifies p + 1 over p (a 2-chain over
// B0 = p, the certificate consensus itself would commit p with).
bool proves_commit_at(const DecodedResponse& d, std::size_t p) {
  const BlockHeader& b0 = d.header(p);
  const BlockHeader& b1 = d.header(p + 1);
  const VoteData& v = d.header(p + 2).parent_qc.data;
  return b1.round > b0.round && b1.round - b0.round == 1 && v.block_id == d.ids[p + 1] &&
         v.round == b1.round && v.parent_id == d.ids[p] && v.parent_round == b0.round;
}

// Checks that the certificate of each block from position `first` on proves a 2-chain over it,
// and groups those blocks by certificate (moving them out of `d`). A block whose certificate's
// B0 lies beyond a nearer commit point that the response's own headers prove is grouped under
// that nearer certificate instead (see "Nearest certificates" in block_sync.h); `replaced`
// counts those blocks.
StatusOr<std::vector<SyncCommitGroup>> certified_groups(DecodedResponse& d, std::size_t first,
                                                        std::uint64_t from,
                                                        consensus::CertificateVerifier& verifier,
                                                        std::uint64_t& replaced) {
  std::unordered_map<Hash, std::size_t, HashHasher> position;  // block id -> p
  for (std::size_t p = first; p < d.size(); ++p)
    position.emplace(d.ids[p], p);
  const std::size_t n = d.blocks.size();
  std::vector<std::size_t> b0_of(n, 0);  // the position of each block's B0
  std::size_t committed_end = 0;         // every position below is proved committed
  const QuorumCert* verified = nullptr;  // the last certificate verified (batches share one)
  for (std::size_t i = first; i < n; ++i) {
    const QuorumCert& cert = d.certs[i];
    const VoteData& v = cert.data;
    const std::string what = "the commit certificate of height " + std::to_string(from + i);
    if (v.round <= v.parent_round || v.round - v.parent_round != 1) {
      return Status::invalid_argument(what + " does not prove a 2-chain: round " +
                                      std::to_string(v.round) + " after parent round " +
                                      std::to_string(v.parent_round));
    }
    const auto b0 = position.find(v.parent_id);
    if (b0 == position.end() || b0->second < i) {
      return Status::invalid_argument(what + " does not prove a 2-chain over it: its block " +
                                      short_id(v.parent_id) +
                                      " is neither this block nor a later one of the response");
    }
    if (d.header(b0->second).round != v.parent_round) {
      return Status::invalid_argument(what + " names parent round " +
                                      std::to_string(v.parent_round) + ", its block has round " +
                                      std::to_string(d.header(b0->second).round));
    }
    if (verified == nullptr || *verified != cert) {
      if (Status s = verifier.verify_qc(cert); !s.is_ok()) return s.with_context(what);
      verified = &cert;
    }
    b0_of[i] = b0->second;
    committed_end = std::max(committed_end, b0->second + 1);
  }

  // The nearest commit point at or after each block whose proof lies within the committed
  // headers. Every header up to the highest B0 is on the committed chain, so its parent QC was
  // checked by the honest validators that voted for it; it is verified here all the same.
  constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> nearest(n, kNone);
  if (committed_end >= 3) {
    std::size_t next = kNone;
    for (std::size_t p = committed_end - 2; p-- > first;) {
      if (proves_commit_at(d, p)) next = p;
      if (p < n) nearest[p] = next;
    }
  }

  std::vector<SyncCommitGroup> groups;
  for (std::size_t i = first; i < n; ++i) {
    const QuorumCert* cert = &d.certs[i];
    if (nearest[i] != kNone && nearest[i] < b0_of[i]) {
      const QuorumCert& near = d.header(nearest[i] + 2).parent_qc;
      // Fails only if more than f validators signed a bad parent QC: keep the one sent.
      if (verifier.verify_qc(near).is_ok()) {
        cert = &near;
        ++replaced;
      }
    }
    if (groups.empty() || groups.back().commit_cert != *cert) {
      groups.push_back(SyncCommitGroup{*cert, {}});
    }
    groups.back().blocks.push_back(SyncedBlock{std::move(d.blocks[i]), d.ids[i]});
  }
  return groups;
}

}  // namespace

// Checks a response (see the header for the rules). Returns the blocks above `tip` grouped by
// certificate; empty when every block is at or below `tip` (it moved since the request).
StatusOr<std::vector<SyncCommitGroup>> BlockSync::verify(const InFlight& asked,
                                                         const SyncResponseMessage& response,
                                                         const storage::ChainTip& tip) {
  const std::size_t n = response.blocks.size();
  const std::size_t m = response.proof_headers.size();
  const std::uint64_t from = asked.request.from_height;
  if (n == 0) {
    return Status::invalid_argument("no blocks, though it claimed height " +
                                    std::to_string(asked.claimed_height));
  }
  if (n > asked.request.count) {
    return Status::invalid_argument(std::to_string(n) + " blocks, more than the " +
                                    std::to_string(asked.request.count) + " asked for");
  }
  if (m > config_.proof_headers_max) {
    return Status::invalid_argument(std::to_string(m) + " proof headers, more than " +
                                    std::to_string(config_.proof_headers_max) +
                                    " (p2p.sync_proof_headers_max)");
  }
  // An honest responder cuts its answer at response_bytes_max (its first block always goes).
  // Above it, this node could not serve what it stores: a block with the certificate of a
  // later batch and the proof headers its sender chose to fill the frame would never fit an
  // answer of this node's own.
  if (const std::uint64_t bytes = counted_bytes(response, true);
      bytes > config_.response_bytes_max && (n > 1 || m > 0)) {
    return Status::invalid_argument(std::to_string(bytes) + " bytes, more than the " +
                                    std::to_string(config_.response_bytes_max) +
                                    " bytes an answer may hold (p2p.frame_bytes_max less the "
                                    "envelope's room)");
  }
  if (response.from_height != from) {
    return Status::invalid_argument("blocks from height " + std::to_string(response.from_height) +
                                    ", asked from " + std::to_string(from));
  }
  LEDGER_ASSERT(from >= 1);  // poll() asks from tip + 1
  if (from - 1 > tip.height) {
    return Status::invalid_argument("blocks from height " + std::to_string(from) +
                                    " do not reach the tip " + std::to_string(tip.height));
  }
  if (from > std::numeric_limits<std::uint64_t>::max() - (n + m)) {
    return Status::invalid_argument("heights overflow");
  }

  LEDGER_ASSIGN_OR_RETURN(DecodedResponse d, decode_response(response, from, config_.block_limits));
  LEDGER_RETURN_IF_ERROR(check_chain(d, from, config_.chain_id));
  if (m > 0 && d.ids.back() != d.certs.back().data.parent_id) {
    return Status::invalid_argument("the last proof header is not the block that commits height " +
                                    std::to_string(from + n - 1));
  }
  // The blocks at or below the tip are ours already; the first one above must extend the tip.
  const std::uint64_t first = tip.height - (from - 1);
  if (first >= n) return std::vector<SyncCommitGroup>{};
  const Hash& parent = first == 0 ? d.blocks[0].header.parent_id : d.ids[first - 1];
  if (parent != tip.block_id) {
    return Status::invalid_argument("block at height " + std::to_string(tip.height + 1) +
                                    " does not extend the tip " + short_id(tip.block_id));
  }
  return certified_groups(d, static_cast<std::size_t>(first), from, verifier_,
                          stats_.certificates_replaced);
}

}  // namespace ledger::node
