// Block sync, the asking side: a sans-IO state machine that pulls committed history from peers
// (DESIGN.md sections 3 and 9; the wire rules are in docs/p2p.md, "Block sync").
//
// BlockSync owns what the asking side knows: each peer's claimed committed height, the one
// request in flight, and per-peer failures with an exponential backoff. It owns no socket, timer
// or thread and never reads a clock: the shell (node/sync_driver.cpp; tests/sim/sim_host.cpp in the
// simulator) passes the current time and the committed tip into the calls that need them, sends the
// request poll() returns, commits the blocks on_response() returns, and calls poll() again at
// next_poll() and after every input. The simulator and the unit tests drive it the same way with a
// fake clock.
//
// Inputs
//   on_peer_status(peer, height)       a PeerStatus: the committed height the peer claims
//   on_peer_gone(peer, now)            the connection closed
//   on_response(peer, response, tip, now)  a SyncResponse, fields as received (not yet decoded)
//   on_commit_refused(peer, reason, now)   the shell's executor refused a block this returned
//                                          (its state root is not the state after its parent)
//   poll(tip, now)                     time passed: may time out the request in flight and
//                                      may start the next one
// Outputs (SyncOutput, returned by every input)
//   request    poll() only: send this SyncRequest to this peer (at most one in flight)
//   commits    on_response() only: verified blocks above `tip`, in height order, grouped by their
//              shared commit certificate; commit them in this order. Proof headers are never
//              among them (their transactions were not sent).
//   penalties  a peer failed (a refused or empty response, a timeout, a disconnect with a
//              request in flight, a block refused at commit): it is not asked again before
//              `backoff` has passed (short answers are not penalties; see below)
//   notes      log lines, each with a level
//
// Error cases of a response; none is a crash or an assert:
//   ignored, no penalty (a debug note): unsolicited, i.e. no request in flight to that peer
//   refused whole, nothing committed, a penalty naming the reason: more blocks than asked; more
//   proof headers than proof_headers_max; above response_bytes_max, which every request states
//   as its bytes_max (unless one block without proof headers: it could be served no other
//   way); no blocks at all (only a peer that claims to be
//   ahead is asked); from_height other than asked; a block, certificate or header that does not
//   decode; another chain id; heights not consecutive; a block that does not extend the tip or
//   its predecessor by hash; transactions that do not match the header's transactions root;
//   proof headers that do not link, or whose last one is not the last block's B0; a certificate
//   that does not prove a 2-chain over its block (round != parent_round + 1, or B0 neither this
//   block nor a later block or proof header of the response, or B0's round not parent_round);
//   a certificate that does not verify against the validator set.
//   neither failure nor success: every block at or below a tip that moved since the request
//   (consensus committed them meanwhile).
//   ignored, no penalty, the request in flight stands: a late answer, i.e. from the height of
//   one of the peer's last four requests that timed out (already its failure) while a later request
//   to it, from another height, is in flight. Requests carry no id; an honest answer can take
//   longer than request_timeout on a slow link.
// A peer's claimed height is only used to choose whom to ask, and only up to tip + blocks_max:
// a claim of u64::max (or any height far beyond what the validators have proved) ranks no
// higher than a claim of one full request ahead. Claims only go up on one connection: an honest
// committed height never goes down, so a lower claim (in a PeerStatus or a response) is not
// believed and the higher one is kept. (Not a failure: PeerStatus and responses read the tip at
// different moments, so an honest peer may state one height less than it just did.)
//
// Short answers (slow-drip peers). A verified answer is short when it holds fewer blocks than
// asked, although the peer's claim (the highest it made on this connection, including the one
// it was asked on and the answer's committed_height) covers every height asked, and the byte limit
// does not explain it: the encoded size of its blocks (proof headers do not count: the peer
// chooses them by its choice of certificate) plus one more block of the largest size the genesis
// allows (block_limits.bytes_max) and its certificate would still fit response_bytes_max. Its
// blocks are committed (they are verified), but it does not clear the peer's failures and it
// adds one to the peer's consecutive short answers, which only a full answer clears. It is not
// a failure (no backoff): an honest responder can be short for reasons the asker cannot see
// (its own sync_blocks_max or byte budget is smaller, or the block after its answer cannot be
// proved yet), and a lone honest peer must still be asked. So a peer that drips one block per
// request is asked only when no peer with fewer short answers is ahead: peers rotate, and the
// one that delivered full answers is preferred. A dripper cannot dodge the rule by stating
// in its answer only the height it sent: the claim it was asked on (and any higher one) stands.
//
// Busy answers. A response with no blocks and retry_after_ms > 0 says the responder is over its
// rate limit for this node (SyncService::admit). It is neither a failure nor a short answer: the
// peer is not asked again for retry_after_ms, clamped to [retry_interval, retry_after_max], and
// it adds one to the peer's consecutive busy answers, which rank it after the peers with fewer
// (any verified answer clears them). So an honest responder that paces this node is never
// penalised, and a peer that always says busy is asked only when no peer with fewer busy answers
// is ahead. retry_after_ms in a response with blocks is ignored.
//
// Both marks rank a peer lower only for retry_after_max (a short mark after the short answer, a
// busy mark after the wait it asked for): otherwise a peer that claims, and sends, one block at
// a time (never short, never busy) would outrank for good an honest peer marked once, which
// would then never be asked again to clear its mark. The statements above on who is asked first
// hold while the marks count.
//
// Nearest certificates. A peer may answer a block with the genuine commit certificate of a
// later batch: it does prove the block committed, but its B0 may lie up to proof_headers_max
// blocks ahead. Stored as sent, such certificates would hold this node's published height
// (ChainView) below each such block until its far B0 is stored, for a whole catch-up if the
// peer does it on every answer, and would spread: this node serves what it stores, and a node
// with smaller limits cannot take the proof headers. So each block is committed under the
// nearest certificate that the response proves: where the headers show a child one round later
// (B1) and a grandchild whose parent QC certifies it, at positions up to the highest B0 (so on
// the committed chain: every such parent QC was checked by the honest validators that voted for
// its block; it is verified here all the same, from the cache if seen). That is the very
// certificate consensus commits with, so honest answers, whose certificates are usually the
// nearest already, are unchanged (stats().certificates_replaced counts the blocks that were
// given another).
//
// Delivery rate. With one request in flight, a peer that answers slowly holds up sync for as
// long as it takes, up to request_timeout, without ever failing: a peer that sends correct
// answers just before the timeout would, in a plain rotation, slow sync a thousandfold while it
// has the turn. So each verified answer that advances the tip measures the peer's pace: the
// time from the request to the answer (at least 1 ms) scaled to a full answer, by count (of
// the blocks its claim allowed) or by bytes (blocks and certificates; proof headers are the
// peer's choice), whichever the answer came nearer to; kept as a level, the bit width of those
// milliseconds, by peer key across reconnects, and set by every answer (a peer that claims one
// block at a time and sends it slowly is judged as slow, whatever it did before). A busy
// answer raises the level to that of its own delay (an honest one comes before any store
// read), a timeout to that of request_timeout. A peer is fast when its level is at most that
// of request_timeout / 4 (a full answer within about 4 s with the default 10 s). Fast peers rank
// first, by level; then peers not measured yet (each gets measured when no fast peer is at hand,
// but fresh identities cannot push a fast peer aside); then slow peers, by level. So a slow peer is
// asked only when no fast or unmeasured one is ahead and not failing. An answer to a request that
// timed out is not timed. Levels are coarse (a factor of two) so that peers of about the same pace
// still take turns.
//
// Pacing: one request in flight; after any failure no request (to anyone) for retry_interval;
// a failed peer waits backoff_min * 2^(failures - 1), at most backoff_max. Among the peers more
// than lag_blocks ahead, not backing off and not busy, the one asked is the first by: fewest
// failures, fast before unmeasured before slow (then lowest pace level), fewest consecutive short
// answers, fewest consecutive busy answers, highest claim (capped as above), asked least recently
// (a new connection as if asked just now), smallest key. A verified response that advances the tip
// and is not short clears the peer's failures and short answers.
//
// Thread: thread-compatible; the node uses it on its event loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ledger/consensus/certificate_verifier.h"
#include "ledger/core/block.h"
#include "ledger/core/certificates.h"
#include "ledger/core/keys.h"
#include "ledger/core/validators.h"
#include "ledger/storage/chain_store.h"

namespace ledger::node {

using SyncClock = std::chrono::steady_clock;
using SyncTime = SyncClock::time_point;

// The default of p2p.sync_proof_headers_max. Blocks committed together (one certificate, after
// failed rounds) are the uncommitted certified chain of the validators that voted for them, which
// BlockTree::insert lets grow to 2 * consensus.pending_blocks_max of the voter (the certified
// chain may take the tree twice over). pending_blocks_max is each operator's choice, up to
// 1'000'000, so an honest batch can hold up to 2'000'000 blocks whatever this node's own setting.
inline constexpr std::size_t kSyncProofHeadersMax = 2'000'000;

// The length of the shortest header encode_header can produce for `chain_id` (a valid chain id):
// the other fields are fixed-width but the parent QC's signatures, here none. Every block and
// proof header of that chain is at least this long.
std::size_t encoded_header_bytes_min(const std::string& chain_id);

struct BlockSyncConfig {
  std::string chain_id;
  ValidatorSet validators;  // the genesis validators: every commit certificate is checked
  QuorumCert genesis_qc;
  BlockLimits block_limits;              // genesis limits, for decoding blocks
  std::size_t verified_certs_max = 256;  // certificate verification cache
  std::uint32_t blocks_max = 64;         // p2p.sync_blocks_max: blocks asked for per request
  // Proof headers accepted in one response (p2p.sync_proof_headers_max). It must cover the
  // longest batch an honest peer can serve, which depends on the validators' own
  // consensus.pending_blocks_max, not this node's: see kSyncProofHeadersMax.
  std::size_t proof_headers_max = kSyncProofHeadersMax;
  std::uint64_t lag_blocks = 0;  // ask only a peer more than this many blocks ahead
  std::chrono::milliseconds request_timeout{10'000};  // unanswered: a failure
  std::chrono::milliseconds backoff_min{1'000};       // after a peer's first failure
  std::chrono::milliseconds backoff_max{60'000};      // the longest a failed peer waits
  std::chrono::milliseconds retry_interval{250};      // after any failure, before any request
  // The longest a busy answer's retry_after_ms is honoured (p2p.sync_retry_after_max_ms).
  std::chrono::milliseconds retry_after_max{10'000};
  std::size_t peers_max = 4096;      // claimed heights kept
  std::size_t penalties_max = 4096;  // failed peers, and peers with short answers, remembered
  // The encoded size at which a responder cuts an answer (the node: frame_bytes_max minus the
  // envelope's room): an answer that could not have held one more block is not short.
  std::uint64_t response_bytes_max = 64ull * 1024 * 1024;

  // Names the first bad field (a programmer error: BlockSync asserts it).
  Status validate() const;
};

struct SyncRequestMessage {
  std::uint64_t from_height = 0;  // >= 1: the tip + 1 when asked
  std::uint32_t count = 0;        // 1..blocks_max
  // The asker's response_bytes_max: an honest responder's answer is no larger (0: not stated,
  // the responder's own limit applies).
  std::uint64_t bytes_max = 0;
  friend bool operator==(const SyncRequestMessage&, const SyncRequestMessage&) = default;
};

// ledger.p2p.v1.SyncResponse, field by field, still in canonical encodings.
struct SyncResponseMessage {
  struct Item {
    Bytes block;        // encode_block
    Bytes commit_cert;  // encode_qc
  };
  std::uint64_t from_height = 0;
  std::uint64_t committed_height = 0;  // the responder's tip: a claim like PeerStatus
  std::vector<Item> blocks;
  std::vector<Bytes> proof_headers;  // encode_header of the blocks after the last, up to its B0
  std::uint32_t retry_after_ms = 0;  // > 0 with no blocks: busy, ask again after this long
};

struct SyncRequestOut {
  PublicKey peer;
  SyncRequestMessage request;
};

struct SyncedBlock {
  Block block;
  Hash id;  // block.id()
};

// Blocks of consecutive heights committed by one certificate (a QC whose B0 is the last of
// them or a later block).
struct SyncCommitGroup {
  QuorumCert commit_cert;
  std::vector<SyncedBlock> blocks;  // not empty, ascending heights
};

struct SyncPenalty {
  PublicKey peer;
  std::string reason;
  std::uint32_t failures = 0;           // consecutive, including this one
  std::chrono::milliseconds backoff{};  // not asked again before now + backoff
};

struct SyncNote {
  enum class Level : std::uint8_t { kDebug, kInfo, kWarn };
  Level level = Level::kDebug;
  std::string text;  // starts with "sync: "
};

struct SyncOutput {
  std::optional<SyncRequestOut> request;
  std::vector<SyncCommitGroup> commits;
  std::vector<SyncPenalty> penalties;
  std::vector<SyncNote> notes;
};

// Counters since construction (for metrics and tests).
struct BlockSyncStats {
  std::uint64_t requests = 0;
  std::uint64_t responses_accepted = 0;  // verified and advancing the tip
  std::uint64_t responses_stale = 0;     // verified against a tip that moved meanwhile
  std::uint64_t responses_unsolicited = 0;
  std::uint64_t responses_late = 0;   // to a request that timed out, while a later one is out
  std::uint64_t responses_short = 0;  // accepted, but fewer blocks than asked and claimed
  std::uint64_t responses_busy = 0;   // no blocks, retry_after_ms > 0: not a failure
  std::uint64_t failures = 0;         // penalties given
  std::uint64_t blocks_verified = 0;
  std::uint64_t certificates_replaced = 0;  // blocks given a nearer certificate (see above)
};

class BlockSync {
 public:
  // `config` must validate (asserted).
  explicit BlockSync(BlockSyncConfig config);
  BlockSync(const BlockSync&) = delete;
  BlockSync& operator=(const BlockSync&) = delete;

  // The peer claims `committed_height`. A peer beyond peers_max is not tracked (a note).
  SyncOutput on_peer_status(const PublicKey& peer, std::uint64_t committed_height);
  // Forgets the peer's claim; a request in flight to it is a failure (its penalty survives).
  SyncOutput on_peer_gone(const PublicKey& peer, SyncTime now);
  // Checks a response against the request in flight and `tip` (the committed tip now, which may
  // be above the tip the request was made from). Clears the request in flight unless the
  // response is unsolicited.
  SyncOutput on_response(const PublicKey& peer, const SyncResponseMessage& response,
                         const storage::ChainTip& tip, SyncTime now);
  // The shell could not commit a block that on_response returned from `peer` for a reason that
  // is the peer's (the state root): a failure of that peer.
  SyncOutput on_commit_refused(const PublicKey& peer, const std::string& reason, SyncTime now);
  // Times out the request in flight at its deadline; otherwise, unless one is in flight or a
  // failure is less than retry_interval old, asks the best peer more than lag_blocks ahead of
  // `tip` that is not backing off.
  SyncOutput poll(const storage::ChainTip& tip, SyncTime now);

  // When poll() may have something to do without another input: the deadline of the request
  // in flight, or else the first end, after `now`, of the retry interval or of a connected
  // peer's backoff. nullopt: nothing but an input can change what poll() does.
  std::optional<SyncTime> next_poll(SyncTime now) const;

  bool request_in_flight() const { return in_flight_.has_value(); }
  // Whether the request in flight went to `peer`: any other sync response is unsolicited and
  // may be dropped unread.
  bool awaits_response_from(const PublicKey& peer) const {
    return in_flight_ && in_flight_->peer == peer;
  }
  const BlockSyncStats& stats() const { return stats_; }
  // Consecutive failures of `peer` not yet cleared by a success (0 if none).
  std::uint32_t failures_of(const PublicKey& peer) const;
  // Consecutive short answers of `peer` not yet cleared by a full one (0 if none).
  std::uint32_t short_answers_of(const PublicKey& peer) const;
  // Consecutive busy answers of `peer` not yet cleared by a verified one (0 if none).
  std::uint32_t busy_answers_of(const PublicKey& peer) const;
  // The pace level of `peer`, lower is faster (see "Delivery rate"; nullopt: not measured yet).
  std::optional<std::uint32_t> rate_level_of(const PublicKey& peer) const;
  // The highest height `peer` claimed on its connection (nullopt: not tracked).
  std::optional<std::uint64_t> claim_of(const PublicKey& peer) const;

 private:
  struct InFlight {
    PublicKey peer;
    SyncRequestMessage request;
    std::uint64_t claimed_height = 0;  // the peer's claim when asked
    SyncTime asked_at;
    SyncTime deadline;
  };
  // A connected peer as the asking side knows it.
  struct Peer {
    std::uint64_t claimed = 0;    // its highest claim on this connection (capped when ranking)
    std::uint64_t asked_seq = 0;  // stats_.requests when it was last asked; 0: never
  };
  // A peer that failed. Invariant: failures >= 1.
  struct Penalty {
    std::uint32_t failures = 0;
    SyncTime until;  // not asked before
  };
  // A peer that answered busy. Invariant: answers >= 1.
  struct Busy {
    std::uint32_t answers = 0;  // consecutive busy answers
    SyncTime until;             // not asked before
  };

  StatusOr<std::vector<SyncCommitGroup>> verify(const InFlight& asked,
                                                const SyncResponseMessage& response,
                                                const storage::ChainTip& tip);
  void penalise(const PublicKey& peer, const std::string& reason, SyncTime now, SyncOutput& out);
  // Whether an accepted answer is short (see the header comment).
  bool is_short(const InFlight& asked, const SyncResponseMessage& response) const;
  void note_short(const PublicKey& peer, const InFlight& asked, const SyncResponseMessage& response,
                  SyncTime now, SyncOutput& out);
  void note_busy(const PublicKey& peer, const SyncResponseMessage& response, SyncTime now,
                 SyncOutput& out);
  // Raises the peer's claim to `height` if higher (claims never go down on one connection).
  void raise_claim(const PublicKey& peer, std::uint64_t height);
  void prune_penalties(SyncTime now);
  std::optional<PublicKey> pick(const storage::ChainTip& tip, SyncTime now) const;

  BlockSyncConfig config_;
  consensus::CertificateVerifier verifier_;
  std::map<PublicKey, Peer> claims_;        // connected peers and their claims; <= peers_max
  std::map<PublicKey, Penalty> penalties_;  // failed peers; <= penalties_max
  // Consecutive short answers per peer, each >= 1, and when the last came; kept across
  // reconnects; <= penalties_max.
  struct Short {
    std::uint32_t answers = 0;
    SyncTime last;
  };
  std::map<PublicKey, Short> short_answers_;
  // Peers whose last answers were busy; kept across reconnects; <= penalties_max.
  std::map<PublicKey, Busy> busy_;
  // The pace each peer showed, the bit width of the milliseconds a full answer would have taken
  // (1..64, lower is faster; see "Delivery rate"); kept across reconnects; <= penalties_max.
  // Absent: not measured yet.
  std::map<PublicKey, std::uint32_t> rate_levels_;
  // The from_height of each peer's last kLateHeightsMax requests that timed out: an answer to
  // one that arrives while a later request is in flight is late, not wrong. <= penalties_max.
  static constexpr std::size_t kLateHeightsMax = 4;
  std::map<PublicKey, std::vector<std::uint64_t>> timed_out_;
  void note_rate(const PublicKey& peer, const InFlight& asked, const SyncResponseMessage& response,
                 SyncTime now);
  void set_pace(const PublicKey& peer, std::uint32_t level, bool at_least);
  std::optional<InFlight> in_flight_;  // at most one request outstanding
  SyncTime quiet_until_{};             // no request before (retry_interval after a failure)
  BlockSyncStats stats_;
};

}  // namespace ledger::node
