// Block sync, the answering side: which sync requests a peer may make, and the self-proving
// answer from the chain store (docs/p2p.md, "Block sync").
//
// Inputs:  admit(peer, now) for every SyncRequest, before any store read; answer(request,
//          bytes_max) with the admission's byte allowance; charge(peer, bytes, now) with the
//          size of the answer sent.
// Outputs: whether to answer (and a log line when a request is dropped); the SyncResponse, as
//          data for the shell to serialise and send, and its size.
//
// Rate limits, both per peer key, both checked before the store is read:
//  - requests: a token bucket that holds at most requests_per_second tokens and refills at
//    requests_per_second; a request takes one token, a request that finds none is dropped.
//  - bytes: a token bucket that holds at most bytes_per_second bytes and refills at that rate.
//    A request is admitted only while the peer's byte tokens are positive, and its answer holds
//    no more blocks than those tokens pay for (its first block always goes, so that any block
//    can be synced). The answer's size is then charged, which may leave the bucket in debt; a
//    request while in debt is dropped. So a peer is sent at most about bytes_per_second bytes a
//    second, plus one answer. A cut answer is short: the asker ranks this node lower and asks
//    other peers meanwhile (block_sync.h, "Short answers").
// A refused request is answered "busy": a SyncResponse without blocks whose retry_after_ms is
// how long until the peer's buckets admit a request again (busy()). The asker waits that long
// for this node without counting it a failure (block_sync.h, "Busy answers"): honest rate
// limiting must not look like a fault, or the asker would time out and back off from an honest
// node. A peer is told busy at most once per busy_interval; a refused request within it is
// dropped unanswered, so a flood of requests is not a flood of answers. Refusals are logged at
// most once a second per peer, with the count since the previous line.
//
// Buckets are kept by peer key, not by connection (a reconnect must not refill them); at
// peers_max keys the full ones go first, then the one refilled longest ago.
//
// Answer: up to min(count, blocks_max) committed blocks from from_height, each with its stored
// commit certificate, within response_bytes_max and the request's bytes_max (the asker's own
// limit: an answer above it would be refused, and counted a failure of this node). When the last
// block's certificate names a B0 above it (the block that certificate commits, later in the same
// commit batch), the headers of the blocks after the last one up to B0 follow as proof headers, so
// that the asker can check the 2-chain over every block without the rest of the batch. If that
// takes more than proof_headers_max headers, or B0 is not stored, or the headers do not fit, the
// response ends at an earlier block that can be proved (possibly none). No block is ever sent that
// the asker could not verify from the response alone. Proof headers are read without their blocks'
// transactions (ChainStore::raw_header_at).
//
// Answers and the height they claim stop at the servable height when one is given (the node
// gives its published height, ChainView): a stored block above it may await its B0 (a batch cut
// across responses, or a later batch's certificate), so it cannot be proved yet, and a request
// starting there would get no block and count as this node's failure.
//
// Thread: thread-compatible; the node uses it on its event loop thread. The chain store is only
// read (ChainStore reads are thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ledger/node/block_sync.h"
#include "ledger/storage/chain_store.h"

namespace ledger::node {

struct SyncServiceConfig {
  std::uint32_t blocks_max = 64;  // p2p.sync_blocks_max: blocks in one answer
  std::size_t proof_headers_max = kSyncProofHeadersMax;  // p2p.sync_proof_headers_max
  // Encoded bytes of blocks, certificates and proof headers in one answer: the frame limit
  // minus room for the envelope. At least one block always fits (Node::open checks the frame
  // limit against the genesis block size).
  std::uint64_t response_bytes_max = 64ull * 1024 * 1024;
  std::uint32_t requests_per_second = 50;  // p2p.sync_requests_per_second: rate and burst
  std::uint64_t bytes_per_second = 16ull * 1024 * 1024;  // p2p.sync_bytes_per_second: same
  std::size_t peers_max = 4096;                          // token buckets kept
  // A peer is told busy at most this often; an asker waits at least its retry_interval (250 ms
  // in the node) after a busy answer, so an honest asker is always told.
  std::chrono::milliseconds busy_interval{100};

  Status validate() const;  // names the first bad field
};

struct SyncAdmission {
  bool admitted = false;
  std::uint64_t bytes_max = 0;  // admitted: the byte tokens the answer may spend (>= 1)
  // Not admitted: answer busy() with this (>= 1 ms); unset: drop the request unanswered (the
  // peer was told busy less than busy_interval ago).
  std::optional<std::chrono::milliseconds> retry_after;
  std::optional<std::string> log_line;  // warn level; set on a refusal at most once a second
};

struct SyncAnswer {
  SyncResponseMessage response;
  std::vector<SyncNote> notes;  // why the answer is shorter than asked, when it is
  std::uint64_t bytes = 0;      // encoded blocks, certificates and proof headers, as charged
};

// What to do with one request (SyncService::reply).
struct SyncReply {
  // The response to send; unset: drop the request unanswered (over the rates, and told busy
  // less than busy_interval ago).
  std::optional<SyncResponseMessage> response;
  std::vector<SyncNote> notes;          // why the answer is shorter than asked, when it is
  std::optional<std::string> log_line;  // warn level: a refusal, at most once a second
  // The store could not be read (the answer then has no blocks: the asker counts it a failure
  // of this node and asks another peer at once). Error level.
  Status error;
};

class SyncService {
 public:
  // The highest height answers may reach; read once per answer.
  using HeightSource = std::function<std::uint64_t()>;

  // `chain` must outlive this object; `config` must validate (asserted). Without
  // `servable_height`, answers reach the chain store's tip.
  SyncService(const storage::ChainStore& chain, SyncServiceConfig config,
              HeightSource servable_height = {});
  SyncService(const SyncService&) = delete;
  SyncService& operator=(const SyncService&) = delete;

  // Takes a request token from `peer`'s bucket; admitted false when there is none, or when
  // the peer's byte tokens are not positive (in debt after a large answer).
  SyncAdmission admit(const PublicKey& peer, SyncTime now);

  // The busy answer to `request`: no blocks, this node's tip, and retry_after (clamped to
  // 1 ms..u32::max ms).
  SyncResponseMessage busy(const SyncRequestMessage& request,
                           std::chrono::milliseconds retry_after) const;

  // The answer to `request`, its blocks within min(response_bytes_max, request.bytes_max if
  // stated, bytes_max) bytes (the first block always goes; blocks and proof headers together
  // only need to fit min(response_bytes_max, request.bytes_max)). A request from
  // height 0 is answered from height 1; one above the tip gets no blocks and the tip in
  // committed_height. kIoError / kCorruption (and kNotFound for a block the tip says is stored)
  // from the store's reads.
  StatusOr<SyncAnswer> answer(const SyncRequestMessage& request,
                              std::uint64_t bytes_max = UINT64_MAX) const;

  // Takes `bytes` (SyncAnswer::bytes of the answer sent) from `peer`'s byte tokens, possibly
  // into debt. A peer without a bucket (forgotten meanwhile) is not charged.
  void charge(const PublicKey& peer, std::uint64_t bytes);

  // The whole answering side for one request, as ledgerd's shell and the simulator both use
  // it: admit(); over the rates, busy() or nothing; else answer() within the admitted bytes,
  // and charge() what it holds.
  SyncReply reply(const PublicKey& peer, const SyncRequestMessage& request, SyncTime now);

  // Requests refused (answered busy or not at all) since construction.
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct Bucket {
    double tokens = 0;  // 0..requests_per_second
    double bytes = 0;   // <= bytes_per_second; below 0 (debt) by at most one answer
    SyncTime refilled;
    std::uint64_t dropped_unlogged = 0;  // drops since the last log line
    std::optional<SyncTime> logged;      // the last log line
    std::optional<SyncTime> told_busy;   // the last busy answer
  };
  void refill(Bucket& bucket, SyncTime now) const;
  bool is_full(const Bucket& bucket, SyncTime now) const;
  // How long until the bucket admits a request (>= 1 ms).
  std::chrono::milliseconds wait_for(const Bucket& bucket) const;
  SyncAdmission drop(const PublicKey& peer, Bucket& bucket, SyncTime now, const std::string& why);
  // Headers read while building one answer, by height (at most the answer's room plus the
  // blocks asked for: each call reads upward from its last block until the room overflows).
  using HeaderCache = std::map<std::uint64_t, Bytes>;
  // The proof headers for a response that ends at `last_height` with `cert`, within `room`
  // bytes; nullopt (and the reason in `why`) if it cannot be proved or they do not fit. Reads
  // nothing when their count alone rules them out, stops reading once they overflow, and reads
  // no header already in `cache`.
  StatusOr<std::optional<std::vector<Bytes>>> proof_headers(std::uint64_t last_height,
                                                            const QuorumCert& cert,
                                                            std::uint64_t room, HeaderCache& cache,
                                                            std::string& why) const;

  // The height answers stop at: the store's tip, or the servable height if lower.
  std::optional<std::uint64_t> servable_tip() const;

  const storage::ChainStore& chain_;
  SyncServiceConfig config_;
  HeightSource servable_height_;
  std::uint64_t header_bytes_min_;       // encoded_header_bytes_min of the store's chain
  std::map<PublicKey, Bucket> buckets_;  // <= peers_max
  std::uint64_t dropped_ = 0;
};

}  // namespace ledger::node
