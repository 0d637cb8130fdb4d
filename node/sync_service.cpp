#include "ledger/node/sync_service.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "ledger/core/assert.h"
#include "ledger/core/encoding.h"

namespace ledger::node {
namespace {

// Protobuf framing around each bytes field of a SyncResponse (tag, length, nested message).
constexpr std::uint64_t kItemOverheadBytes = 16;

std::string peer_name(const PublicKey& key) {
  return to_hex(key.bytes).substr(0, 12);
}

}  // namespace

Status SyncServiceConfig::validate() const {
  if (blocks_max < 1) return Status::invalid_argument("sync service: blocks_max < 1");
  if (proof_headers_max < 1) return Status::invalid_argument("sync service: proof_headers_max < 1");
  if (response_bytes_max < 1)
    return Status::invalid_argument("sync service: response_bytes_max < 1");
  if (requests_per_second < 1) {
    return Status::invalid_argument("sync service: requests_per_second < 1");
  }
  if (bytes_per_second < 1) return Status::invalid_argument("sync service: bytes_per_second < 1");
  if (peers_max < 1) return Status::invalid_argument("sync service: peers_max < 1");
  if (busy_interval.count() < 0) {
    return Status::invalid_argument("sync service: busy_interval is negative");
  }
  return Status::ok();
}

SyncService::SyncService(const storage::ChainStore& chain, SyncServiceConfig config,
                         HeightSource servable_height)
    : chain_(chain),
      config_(config),
      servable_height_(std::move(servable_height)),
      header_bytes_min_(encoded_header_bytes_min(chain.chain_id())) {
  LEDGER_ASSERT(config_.validate().is_ok());
}

std::optional<std::uint64_t> SyncService::servable_tip() const {
  const auto tip = chain_.tip();
  if (!tip) return std::nullopt;
  if (!servable_height_) return tip->height;
  return std::min(tip->height, servable_height_());
}

// ---- Rate limit ------------------------------------------------------------------------------

void SyncService::refill(Bucket& bucket, SyncTime now) const {
  if (now <= bucket.refilled) return;
  const double elapsed_s = std::chrono::duration<double>(now - bucket.refilled).count();
  const double requests = config_.requests_per_second;
  const double bytes = static_cast<double>(config_.bytes_per_second);
  bucket.tokens = std::min(requests, bucket.tokens + elapsed_s * requests);
  bucket.bytes = std::min(bytes, bucket.bytes + elapsed_s * bytes);
  bucket.refilled = now;
}

// Whether both of the bucket's counts would be back at their capacity by `now`: forgetting such
// a bucket changes nothing.
bool SyncService::is_full(const Bucket& bucket, SyncTime now) const {
  Bucket refilled = bucket;
  refill(refilled, now);
  return refilled.tokens >= config_.requests_per_second &&
         refilled.bytes >= static_cast<double>(config_.bytes_per_second);
}

SyncAdmission SyncService::admit(const PublicKey& peer, SyncTime now) {
  auto it = buckets_.find(peer);
  if (it == buckets_.end()) {
    if (buckets_.size() >= config_.peers_max) {
      // If none is full, forget the one refilled longest ago.
      std::erase_if(buckets_, [&](const auto& entry) { return is_full(entry.second, now); });
      if (buckets_.size() >= config_.peers_max) {
        buckets_.erase(std::min_element(buckets_.begin(), buckets_.end(), [](auto& a, auto& b) {
          return a.second.refilled < b.second.refilled;
        }));
      }
    }
    const Bucket full{static_cast<double>(config_.requests_per_second),
                      static_cast<double>(config_.bytes_per_second),
                      now,
                      0,
                      std::nullopt,
                      std::nullopt};
    it = buckets_.emplace(peer, full).first;
  }
  LEDGER_ASSERT(buckets_.size() <= config_.peers_max);
  Bucket& bucket = it->second;
  refill(bucket, now);
  if (bucket.bytes < 1.0) {
    return drop(peer, bucket, now,
                "more than " + std::to_string(config_.bytes_per_second) +
                    " bytes per second sent to it (p2p.sync_bytes_per_second)");
  }
  if (bucket.tokens < 1.0) {
    return drop(peer, bucket, now,
                "more than " + std::to_string(config_.requests_per_second) +
                    " requests per second (p2p.sync_requests_per_second)");
  }
  bucket.tokens -= 1.0;
  return SyncAdmission{true, static_cast<std::uint64_t>(bucket.bytes), std::nullopt, std::nullopt};
}

// The longer of the two refills: a request token, and byte tokens back above zero.
std::chrono::milliseconds SyncService::wait_for(const Bucket& bucket) const {
  double seconds = 0;
  if (bucket.tokens < 1.0) seconds = (1.0 - bucket.tokens) / config_.requests_per_second;
  if (bucket.bytes < 1.0) {
    seconds =
        std::max(seconds, (1.0 - bucket.bytes) / static_cast<double>(config_.bytes_per_second));
  }
  // Rounded up, so that the peer does not come back a moment too early and be refused again.
  const double ms = std::ceil(seconds * 1000.0);
  constexpr double kMsMax = std::numeric_limits<std::uint32_t>::max();
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::clamp(ms, 1.0, kMsMax)));
}

SyncAdmission SyncService::drop(const PublicKey& peer, Bucket& bucket, SyncTime now,
                                const std::string& why) {
  ++dropped_;
  ++bucket.dropped_unlogged;
  SyncAdmission out;
  if (!bucket.told_busy || now - *bucket.told_busy >= config_.busy_interval) {
    out.retry_after = wait_for(bucket);
    bucket.told_busy = now;
  }
  if (!bucket.logged || now - *bucket.logged >= std::chrono::seconds(1)) {
    out.log_line = "sync: refused a request from " + peer_name(peer) + ": " + why + "; " +
                   std::to_string(bucket.dropped_unlogged) + " refused since the last such line";
    bucket.logged = now;
    bucket.dropped_unlogged = 0;
  }
  return out;
}

void SyncService::charge(const PublicKey& peer, std::uint64_t bytes) {
  const auto it = buckets_.find(peer);
  if (it == buckets_.end()) return;
  it->second.bytes -= static_cast<double>(bytes);
}

SyncReply SyncService::reply(const PublicKey& peer, const SyncRequestMessage& request,
                             SyncTime now) {
  SyncReply out;
  const SyncAdmission admission = admit(peer, now);
  out.log_line = admission.log_line;
  if (!admission.admitted) {
    // Over its rates: told when to come back, so that the asker does not time out on this
    // honest node and count it a failure. Told at most every busy_interval, else dropped.
    if (admission.retry_after) out.response = busy(request, *admission.retry_after);
    return out;
  }
  auto answer = this->answer(request, admission.bytes_max);
  if (!answer.is_ok()) {
    out.error = answer.status();
    SyncResponseMessage empty;
    empty.from_height = request.from_height;
    if (const auto tip = servable_tip()) empty.committed_height = *tip;
    out.response = std::move(empty);
    return out;
  }
  charge(peer, answer.value().bytes);
  out.notes = std::move(answer.value().notes);
  out.response = std::move(answer.value().response);
  return out;
}

// ---- Answers -----------------------------------------------------------------------------------

SyncResponseMessage SyncService::busy(const SyncRequestMessage& request,
                                      std::chrono::milliseconds retry_after) const {
  SyncResponseMessage response;
  response.from_height = std::max<std::uint64_t>(request.from_height, 1);
  if (const auto tip = servable_tip()) response.committed_height = *tip;
  const std::int64_t ms =
      std::clamp<std::int64_t>(retry_after.count(), 1, std::numeric_limits<std::uint32_t>::max());
  response.retry_after_ms = static_cast<std::uint32_t>(ms);
  return response;
}

StatusOr<SyncAnswer> SyncService::answer(const SyncRequestMessage& request,
                                         std::uint64_t bytes_max) const {
  SyncAnswer out;
  SyncResponseMessage& response = out.response;
  const auto tip = servable_tip();
  const std::uint64_t from = std::max<std::uint64_t>(request.from_height, 1);
  response.from_height = from;
  if (!tip) return out;
  response.committed_height = *tip;
  const std::uint64_t count = std::min<std::uint64_t>(request.count, config_.blocks_max);
  if (from > *tip || count == 0) return out;
  const std::uint64_t last = from + std::min(count - 1, *tip - from);
  // The asker reads no more than it stated (its own frame limit may be smaller than ours).
  const std::uint64_t answer_bytes_max =
      request.bytes_max > 0 ? std::min(config_.response_bytes_max, request.bytes_max)
                            : config_.response_bytes_max;
  const std::uint64_t blocks_bytes_max = std::min(answer_bytes_max, bytes_max);

  std::vector<QuorumCert> certs;
  std::vector<std::uint64_t> sizes;
  std::uint64_t bytes = 0;
  for (std::uint64_t h = from; h <= last; ++h) {
    LEDGER_ASSIGN_OR_RETURN(Bytes raw, chain_.raw_block_at(h));
    LEDGER_ASSIGN_OR_RETURN(QuorumCert cert, chain_.commit_cert_at(h));
    Bytes encoded = encode_qc(cert);
    const std::uint64_t size = raw.size() + encoded.size() + kItemOverheadBytes;
    if (!response.blocks.empty() && bytes + size > blocks_bytes_max) break;
    bytes += size;
    sizes.push_back(size);
    response.blocks.push_back({std::move(raw), std::move(encoded)});
    certs.push_back(std::move(cert));
  }

  // The asker checks every block's certificate against B0 within the response, and the proof
  // headers end at the LAST block's B0. Stored certificates need not rise with height (block
  // sync may have stored a later batch's genuine certificate for a block), so the answer ends
  // only at a block whose B0 is at least every earlier included block's.
  std::vector<std::optional<std::uint64_t>> b0s;  // B0 height per block; nullopt: not stored
  b0s.reserve(certs.size());
  for (const QuorumCert& cert : certs) {
    auto b0 = chain_.height_of(cert.data.parent_id);
    if (!b0.is_ok() && b0.status().code() != StatusCode::kNotFound) return b0.status();
    b0s.push_back(b0.is_ok() ? std::optional<std::uint64_t>(b0.value()) : std::nullopt);
  }

  // Make the last block provable from the response alone, dropping blocks from the end until
  // it is (a dropped block of the same batch becomes a proof header instead). Each header is
  // read from the store at most once per answer, however many blocks are dropped.
  std::map<std::uint64_t, Bytes> header_cache;
  while (!response.blocks.empty()) {
    const std::uint64_t last_height = from + response.blocks.size() - 1;
    std::string why;
    std::optional<std::uint64_t> earlier_b0_max;
    for (std::size_t i = 0; i + 1 < b0s.size(); ++i) {
      if (b0s[i]) earlier_b0_max = std::max(earlier_b0_max.value_or(0), *b0s[i]);
    }
    std::optional<std::vector<Bytes>> proofs;
    if (earlier_b0_max && b0s.back() && *earlier_b0_max > *b0s.back()) {
      why = "an earlier block of the answer is committed by height " +
            std::to_string(*earlier_b0_max) + ", beyond height " + std::to_string(last_height) +
            "'s own (" + std::to_string(*b0s.back()) + ")";
    } else {
      const std::uint64_t room = answer_bytes_max > bytes ? answer_bytes_max - bytes : 0;
      LEDGER_ASSIGN_OR_RETURN(proofs,
                              proof_headers(last_height, certs.back(), room, header_cache, why));
    }
    if (proofs) {
      std::uint64_t proof_bytes = 0;
      for (const Bytes& header : *proofs)
        proof_bytes += header.size() + kItemOverheadBytes;
      // Without proof headers the answer is as it was built (its first block always goes).
      response.proof_headers = std::move(*proofs);
      out.bytes = bytes + proof_bytes;
      break;
    }
    if (response.blocks.size() == 1) {
      out.notes.push_back(SyncNote{SyncNote::Level::kWarn, "sync: cannot answer from height " +
                                                               std::to_string(from) + ": " + why});
    }
    bytes -= sizes.back();
    sizes.pop_back();
    response.blocks.pop_back();
    certs.pop_back();
    b0s.pop_back();
  }
  return out;
}

StatusOr<std::optional<std::vector<Bytes>>> SyncService::proof_headers(std::uint64_t last_height,
                                                                       const QuorumCert& cert,
                                                                       std::uint64_t room,
                                                                       HeaderCache& cache,
                                                                       std::string& why) const {
  const auto b0 = chain_.height_of(cert.data.parent_id);
  if (!b0.is_ok()) {
    if (b0.status().code() != StatusCode::kNotFound) return b0.status();
    // Its batch was cut by a crash between the commits of its blocks: not provable yet.
    why = "the block that commits height " + std::to_string(last_height) + " is not stored";
    return std::optional<std::vector<Bytes>>{};
  }
  std::vector<Bytes> headers;
  if (b0.value() <= last_height) return std::optional<std::vector<Bytes>>(std::move(headers));
  if (b0.value() - last_height > config_.proof_headers_max) {
    why = "height " + std::to_string(last_height) + " is committed by the block at height " +
          std::to_string(b0.value()) + ", more than proof_headers_max (" +
          std::to_string(config_.proof_headers_max) + ") blocks later";
    return std::optional<std::vector<Bytes>>{};
  }
  // Known not to fit before any read: every header is at least header_bytes_min_ long. (A
  // block stored with the genuine certificate of a far later batch, as a lying peer may have
  // answered, would otherwise make every request that covers it read up to proof_headers_max
  // headers, once per block the answer drops.)
  const std::uint64_t count = b0.value() - last_height;
  const auto does_not_fit = [&] {
    why = "height " + std::to_string(last_height) + " and its " + std::to_string(count) +
          " proof headers do not fit in the answer's " + std::to_string(room) + " bytes left";
    return std::optional<std::vector<Bytes>>{};
  };
  if (count > room / (header_bytes_min_ + kItemOverheadBytes)) return does_not_fit();
  headers.reserve(static_cast<std::size_t>(count));
  std::uint64_t bytes = 0;
  for (std::uint64_t h = last_height + 1; h <= b0.value(); ++h) {
    auto cached = cache.find(h);
    if (cached == cache.end()) {
      LEDGER_ASSIGN_OR_RETURN(Bytes header, chain_.raw_header_at(h));
      cached = cache.emplace(h, std::move(header)).first;
    }
    bytes += cached->second.size() + kItemOverheadBytes;
    if (bytes > room) return does_not_fit();
    headers.push_back(cached->second);
  }
  return std::optional<std::vector<Bytes>>(std::move(headers));
}

}  // namespace ledger::node
