// The consensus replica: 2-chain HotStuff (DESIGN.md section 3) as a pure state machine.
//
// Inputs are on_* calls; every call returns the Actions the host must carry out. The replica
// does no I/O, reads no clock, starts no thread and draws no randomness: logical time is
// on_tick(), payloads and timestamps come from the host (on_payload), and the only durable
// write it makes itself is the safety data, through SafetyStore, inside SafetyRules.
//
// THE OUTPUT CONTRACT, in order of obligation (etcd raft's Ready):
//   1. Persist. Safety data was already saved through the SafetyStore before the call
//      returned (SafetyRules saves before it releases a signature). The host must then durably
//      store Actions::blocks_to_persist, high_qc_to_persist and high_tc_to_persist, and may
//      delete Actions::blocks_to_forget from its store of uncommitted blocks.
//   2. Send Actions::messages (to one validator, or to every other validator), only after 1.
//   3. Apply Actions::commits in order (execute, then store with the commit certificate).
//   Requests, answered with a new input once 1-3 are done: payload_request (answer with
//   on_payload), payload_check (answer with on_payload_checked).
//   Informational, no ordering: rejections (log and count), evidence (keep; both signed
//   messages of an equivocation).
// If the host crashes anywhere in this sequence, restarting from what it had persisted is safe
// (create() with RecoveryData), because nothing signed left the node before step 1.
//
// THE HOST'S CONTRACT for inputs:
//   - `from` is the validator key the transport authenticated for the peer (handshake); it is
//     used only to pick whom to ask for missing blocks (for a proposal, its proposer is asked
//     instead: a relayer need not have them), never for authenticity: every
//     proposal, vote, timeout and certificate carries signatures that the replica verifies.
//   - The payload that consensus cannot judge (every transaction's signature and format, and
//     that state_root is the state after executing the parent, the timestamp against the host's
//     clock) is checked by the host: for a proposal of another leader whose parent is in the
//     tree, the replica emits Actions::payload_check and waits, without inserting the block or
//     voting, until the host answers on_payload_checked(id, verdict). The replica itself checks
//     structure, signatures, certificates, the transactions root, the leader, the rounds, and
//     timestamp > parent's. With ReplicaConfig::payload_checks false no check is asked for and
//     every payload is accepted (consensus unit tests, the bare-replica simulator).
//   - on_payload answers a PayloadRequest with the transactions, the state root after the
//     parent and a timestamp (ms) greater than the parent's; the replica ignores a payload for
//     a round it is no longer leading.
//   - BlockRequests are answered by the replica from its tree (on_block_request); a host that
//     keeps committed blocks may extend the answer further back (older committed ancestors).
//
// Thread-compatible: one thread drives a replica.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ledger/consensus/block_tree.h"
#include "ledger/consensus/messages.h"
#include "ledger/consensus/pacemaker.h"
#include "ledger/consensus/pending_votes.h"
#include "ledger/consensus/safety_rules.h"

namespace ledger::consensus {

struct ReplicaConfig {
  std::string chain_id;
  ValidatorSet validators;
  Block genesis;  // round 0, height 0; committed by definition
  PacemakerConfig pacemaker;
  BlockLimits block_limits;
  std::size_t pending_blocks_max = 1024;  // uncommitted blocks in the tree (+ fetched orphans)
  std::size_t vote_rounds_max = 8;        // rounds of votes/timeouts kept from the current one
  std::size_t verified_certs_max = 256;   // certificate verification cache entries
  std::size_t failed_certs_max = 256;     // certificates remembered as failed (never re-checked)
  std::size_t evidence_max = 64;          // equivocation evidence kept in memory
  std::size_t proposals_seen_max = 64;    // rounds whose first proposal is remembered
  std::uint32_t fetch_blocks_max = 64;    // blocks asked for / answered in one request
  std::size_t fetches_inflight_max = 8;   // outstanding block requests
  std::uint64_t fetch_retry_ticks = 20;   // re-ask another validator after this many ticks
  std::uint32_t fetch_attempts_max = 8;   // validators asked for one block before giving up
  bool payload_checks = true;             // ask the host to check other leaders' payloads
  // Checks asked for one proposal while the host's verdict is transient (see
  // on_payload_checked); the first check counts.
  std::uint32_t payload_check_attempts_max = 4;

  // Names the first bad field.
  Status validate() const;
  MessageLimits message_limits() const;
};

// What a replica restarts from: everything the host persisted through Actions.
struct RecoveryData {
  Block committed_root;       // the last committed block (genesis before any commit)
  std::vector<Block> blocks;  // persisted uncommitted blocks, any order; extras ignored
  QuorumCert high_qc;         // the last high_qc_to_persist (genesis QC if none)
  std::optional<TimeoutCert> high_tc;
};

enum class RejectReason : std::uint8_t {
  kMalformed,            // structurally invalid (bad header links, TC presence, tx root)
  kWrongChain,           // another chain id
  kNonValidator,         // signer not in the validator set
  kBadSignature,         // a signature does not verify
  kInvalidCertificate,   // a QC/TC that does not verify (power, signers, genesis QC)
  kWrongLeader,          // a proposal from a validator that does not lead its round
  kStaleRound,           // for a round this replica has left
  kFutureRound,          // for a round no certificate justifies yet
  kNotNextLeader,        // a vote sent to a replica that does not lead the next round
  kEquivocation,         // a second, different proposal/vote/timeout in a round
  kInvalidBlock,         // does not extend its parent correctly (height, round, timestamp)
  kUnsolicited,          // a block response nobody asked for, or not matching the request
  kResourceExhausted,    // a named bound was reached
  kConflictsWithCommit,  // extends a block that conflicts with the committed chain
  kSafetyRefused,        // not Byzantine: SafetyRules refused to sign (e.g. already timed out)
  kBadPayload,           // on_payload: wrong round/leader, timestamp not after the parent
  kInvalidPayload,       // a proposal whose payload the host's check refused
  kNotChecked,           // from a validator that sent a bad signature or certificate this round
};

const char* reject_reason_name(RejectReason reason);

// Whether a payload check verdict says the block is invalid (true), as opposed to OK or a
// transient failure of this node's own (false): see Replica::on_payload_checked.
bool payload_verdict_refuses(const Status& verdict);

struct Rejection {
  RejectReason reason;
  PublicKey from;  // the peer the input came from (own key for local inputs)
  std::string message;
};

// A proposal as signed: enough to check the leader's signature without the transactions.
struct SignedHeader {
  BlockHeader header;
  std::optional<TimeoutCert> tc;  // signed together with the header
  Signature signature;
  friend bool operator==(const SignedHeader&, const SignedHeader&) = default;
};

struct ProposalEquivocation {
  SignedHeader first;
  SignedHeader second;
};

struct VoteEquivocation {
  Vote first;
  Vote second;
};

using Evidence = std::variant<ProposalEquivocation, VoteEquivocation>;

struct OutgoingMessage {
  std::optional<PublicKey> to;  // nullopt: every other validator
  Message message;
};

// The leader of `round` needs a payload for a block on `parent_id`.
struct PayloadRequest {
  std::uint64_t round = 0;
  Hash parent_id;
  std::uint64_t parent_height = 0;
  std::uint64_t parent_timestamp_ms = 0;  // the payload's timestamp must be greater
};

// A proposed block whose payload the host must check (see THE HOST'S CONTRACT). Its parent is in
// the tree (committed or not): the host can execute the uncommitted ancestors it needs.
struct PayloadCheck {
  Block block;
  Hash id;  // block.id()
};

struct Payload {
  std::uint64_t round = 0;
  std::vector<SignedTransfer> transactions;
  Hash state_root;
  std::uint64_t timestamp_ms = 0;
};

struct CommittedBlock {
  Block block;
  QuorumCert commit_cert;  // a QC for B1 with parent B0, B1.round == B0.round + 1; shared by
                           // every block committed by that QC
};

struct Actions {
  // 1. Persist (before sending).
  std::vector<Block> blocks_to_persist;
  std::optional<QuorumCert> high_qc_to_persist;
  std::optional<TimeoutCert> high_tc_to_persist;
  std::vector<Hash> blocks_to_forget;  // left the tree: committed (now in the chain) or pruned
  // 2. Send.
  std::vector<OutgoingMessage> messages;
  // 3. Commit, in order.
  std::vector<CommittedBlock> commits;
  // Informational.
  std::optional<PayloadRequest> payload_request;
  std::optional<PayloadCheck> payload_check;
  std::vector<Rejection> rejections;
  std::vector<Evidence> evidence;
};

class Replica {
 public:
  // Restores from `recovery` (use genesis_recovery() for a fresh node) and the safety data in
  // `safety_store`. Errors: invalid config, a signer that is not a validator, a safety store
  // that fails to load or whose one_chain_qc does not verify (kCorruption), a recovery whose
  // root or high QC does not check out. `safety_store`
  // must outlive the replica. `leaders` defaults to round-robin.
  static StatusOr<std::unique_ptr<Replica>> create(ReplicaConfig config, Signer signer,
                                                   SafetyStore& safety_store, RecoveryData recovery,
                                                   std::unique_ptr<LeaderElection> leaders = {});
  static RecoveryData genesis_recovery(const ReplicaConfig& config);

  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Arms the timer of the current round and asks for a payload if this replica leads it.
  // Call once, after create().
  Actions start();

  Actions on_proposal(const PublicKey& from, const Proposal& proposal);
  Actions on_vote(const PublicKey& from, const Vote& vote);
  Actions on_timeout(const PublicKey& from, const TimeoutMessage& timeout);
  Actions on_timeout_cert(const PublicKey& from, const TimeoutCert& tc);
  Actions on_block_request(const PublicKey& from, const BlockRequest& request);
  Actions on_block_response(const PublicKey& from, const BlockResponse& response);
  Actions on_payload(const Payload& payload);
  // The host's verdict on Actions::payload_check `id`: OK to vote, otherwise why not. A verdict
  // for a block no longer awaited (another round) is ignored. The code says whose fault it is:
  //   - kInvalidArgument, kFailedPrecondition: the payload is invalid (a transaction, the state
  //     root, the timestamp, an ancestor that does not execute). The proposal is refused for
  //     the round (kInvalidPayload) and later copies are ignored.
  //   - any other code (kUnavailable, kIoError, kNotFound, kResourceExhausted, ...): this node
  //     could not judge the block (a store error, a parent state not available yet). Nothing is
  //     refused: the check is asked again on the next tick, or at once when another copy of
  //     the proposal arrives, while the round lasts, up to payload_check_attempts_max checks in
  //     all (then a kResourceExhausted rejection, and no vote this round).
  // See payload_verdict_refuses().
  Actions on_payload_checked(const Hash& id, const Status& verdict);
  Actions on_tick();
  // Block sync (replica_sync.cpp). The host has durably committed `block` (id `id`) by block
  // sync, with `commit_cert`: a QC proving a 2-chain whose B0 is `block` or a later block (the
  // certificate a commit batch shares). Call it once the chain store holds the block, with the
  // highest block a sync response committed; the replica is fed, never rebuilt.
  // The block becomes the committed root: blocks of the tree that do not descend from it leave
  // (Actions::blocks_to_forget), fetched blocks that extend it join the tree, fetches and a
  // waiting proposal it made moot are dropped; high QC rises to commit_cert when that is higher
  // (Actions::high_qc_to_persist, persisted before anything is sent) and the round with it; a
  // later B0 is committed as soon as it is in the tree. The safety data is never touched: a
  // replica that synced past rounds it signed in still refuses to sign in them again.
  // Rejected, nothing changed (Actions::rejections): another chain (kWrongChain), an id that is
  // not the block's (kMalformed), a certificate that does not verify or does not commit `block`
  // (kInvalidCertificate), a block at the committed height other than the committed block, or
  // above it with a round not above the committed round (kConflictsWithCommit). A block below
  // the committed height, or the committed block itself, changes nothing.
  Actions on_synced_commit(const Block& block, const Hash& id, const QuorumCert& commit_cert);
  // Dispatches to the on_* above.
  Actions on_message(const PublicKey& from, const Message& message);

  // Observers, for the host's status page and for tests.
  std::uint64_t current_round() const { return current_round_; }
  const QuorumCert& high_qc() const { return high_qc_; }
  const std::optional<TimeoutCert>& high_tc() const { return high_tc_; }
  std::uint64_t committed_round() const { return tree_.committed_round(); }
  std::uint64_t committed_height() const { return tree_.root().header.height; }
  const Hash& committed_id() const { return tree_.root_id(); }
  const SafetyData& safety_data() const { return safety_.data(); }
  const PublicKey& public_key() const { return safety_.public_key(); }
  const BlockTree& tree() const { return tree_; }
  const std::deque<Evidence>& evidence() const { return evidence_; }
  // Signature checks the replica's inputs have cost so far (CertificateVerifier::checks_run).
  std::uint64_t certificate_checks_run() const { return safety_.verifier().checks_run(); }
  std::uint64_t timer_duration_ticks() const { return timer_.duration_ticks(); }
  const PublicKey& leader(std::uint64_t round) const { return leaders_->leader(round); }
  // Whether a block request to `peer` is outstanding: a block response from anyone else is
  // refused unread (the host may drop it before decoding it).
  bool awaits_block_response_from(const PublicKey& peer) const;

 private:
  struct FirstProposal {
    SignedHeader signed_header;
    Hash id;
  };
  // A proposal of the current round whose payload the host checks (or will check again).
  struct PayloadCheckState {
    PublicKey from;
    Proposal proposal;
    Hash id;                     // proposal.block.id()
    std::uint32_t attempts = 1;  // checks asked for; <= payload_check_attempts_max
    bool awaiting = true;        // a check is outstanding; false: the last one was transient
  };
  struct Fetch {
    PublicKey peer;                    // the only validator whose response is accepted
    std::uint64_t round = 0;           // the round of the block, from the certificate naming it
    std::uint64_t deadline_ticks = 0;  // ask another validator after this tick
    std::uint32_t attempts = 1;        // validators asked so far; <= fetch_attempts_max
  };

  Replica(ReplicaConfig config, SafetyRules safety, RecoveryData recovery,
          std::unique_ptr<LeaderElection> leaders);

  // Rejections and evidence.
  void reject(Actions& out, RejectReason reason, const PublicKey& from, std::string message);
  // The check budget of a peer (replica_certificates.cpp). A validator that sent a signature or
  // certificate that failed verification gets nothing more checked until this replica's round
  // moves: an honest validator never sends one, and each new bad certificate (another signer
  // subset, another bad byte: the failed-certificate cache cannot recognise it) would cost up to
  // a quorum of signature checks. may_check() rejects (kNotChecked) when the budget is spent;
  // `free` when the check would be answered from the verifier's caches. A failure spends the
  // budget only if it cost a signature check: `checks_before` is the verifier's checks_run()
  // before the certificate's check (a certificate refused for its power alone cost nothing).
  bool may_check(Actions& out, const PublicKey& from, const char* what, bool free = false);
  void charge_failed_check(const PublicKey& from);
  void charge_failed_check(const PublicKey& from, std::uint64_t checks_before);
  void record_evidence(Actions& out, Evidence evidence);

  // Certificates (replica_certificates.cpp).
  void apply_qc(Actions& out, const QuorumCert& qc, const PublicKey& from);
  void apply_tc(Actions& out, const TimeoutCert& tc, const PublicKey& from);
  bool apply_tc_from(Actions& out, const TimeoutCert& tc, const PublicKey& from);  // verifies
  void advance_round(Actions& out);
  void try_commit(Actions& out);
  void on_qc_formed(Actions& out, const QuorumCert& qc, const PublicKey& from);
  void on_tc_formed(Actions& out, const TimeoutCert& tc);
  // `certified`: the block is hash-linked to a verified certificate (fetched), so it may use
  // BlockTree's allowance beyond pending_blocks_max.
  bool add_to_tree(Actions& out, const Block& block, const Hash& id, const PublicKey& from,
                   bool certified = false);
  void local_timeout(Actions& out);
  std::uint64_t rounds_since_commit() const;

  // Proposals and votes (replica.cpp).
  bool check_proposal(Actions& out, const PublicKey& from, const Proposal& p, const Hash& id);
  void process_proposal(Actions& out, const PublicKey& from, const Proposal& p, const Hash& id);
  void accept_proposal(Actions& out, const PublicKey& from, const Proposal& p, const Hash& id);
  bool vote_on(Actions& out, const Block& block, const Hash& id,
               const std::optional<TimeoutCert>& tc);
  void handle_vote(Actions& out, const PublicKey& from, const Vote& vote);
  void maybe_request_payload(Actions& out);

  // Block fetching (replica_fetch.cpp).
  void request_block(Actions& out, const Hash& id, std::uint64_t round, const PublicKey& peer);
  PublicKey next_fetch_peer(const PublicKey& avoid);
  bool make_room(Actions& out, const Hash& parent_id);
  bool insert_block(Actions& out, const Block& block, const Hash& id, const PublicKey& from,
                    bool certified = false);
  void connect_orphans(Actions& out, const Hash& parent_id, const PublicKey& from);
  void retry_fetches(Actions& out);
  void refetch_missing(Actions& out);
  void resume_pending_proposal(Actions& out);
  // Asks the host to check checking_proposal_ again after a transient verdict, if the bound
  // allows (replica.cpp).
  void retry_payload_check(Actions& out);

  // Block sync (replica_sync.cpp).
  bool check_synced_commit(Actions& out, const Block& block, const Hash& id,
                           const QuorumCert& commit_cert);
  void drop_moot_after_reroot();

  ReplicaConfig config_;
  SafetyRules safety_;  // alone holds the Signer
  std::unique_ptr<LeaderElection> leaders_;
  BlockTree tree_;
  RoundTimer timer_;
  PendingVotes pending_;  // votes for rounds this replica aggregates, and timeouts

  QuorumCert high_qc_;                  // highest verified QC; its block is or was in the tree
  std::optional<TimeoutCert> high_tc_;  // highest verified TC
  std::uint64_t current_round_ = 1;     // == max(high_qc_.round, high_tc_.round) + 1
  // The highest verified QC that proves a 2-chain whose B0 is not committed yet (blocks missing).
  std::optional<QuorumCert> pending_commit_;
  // Round whose payload was requested / proposed (a leader proposes at most once per round).
  std::uint64_t payload_requested_round_ = 0;
  std::uint64_t proposed_round_ = 0;
  // First proposal seen per round (equivocation detection); at most proposals_seen_max rounds.
  std::map<std::uint64_t, FirstProposal> proposals_seen_;
  // A proposal of the current round waiting for its parent; at most one.
  std::optional<std::pair<PublicKey, Proposal>> waiting_proposal_;
  // A proposal of the current round whose payload the host is checking, or will check again
  // after a transient verdict; at most one.
  std::optional<PayloadCheckState> checking_proposal_;
  // Outstanding block requests by requested id; at most fetches_inflight_max. An entry leaves
  // when the block arrives, its round is committed past, or fetch_attempts_max validators failed.
  std::map<Hash, Fetch> fetches_;
  // Fetched blocks whose parent is not in the tree yet, by id; counted in pending_blocks_max.
  std::map<Hash, Block> orphans_;
  std::deque<Evidence> evidence_;    // at most evidence_max, oldest dropped first
  std::size_t next_fetch_peer_ = 0;  // rotates fetch retries over the validators
  // Per validator peer (never more than the validator set): the round in which a signature or
  // certificate it sent failed verification (may_check).
  std::map<PublicKey, std::uint64_t> failed_check_round_;
};

}  // namespace ledger::consensus
