// The simulation's internals (simulator.h is the interface): one seeded run of N whole
// validators. simulator.cpp holds the event loop, the network, faults and the client;
// sim_checks.cpp the invariant checks; sim_byzantine.cpp what Byzantine validators send.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/consensus/replica.h"
#include "ledger/core/genesis.h"
#include "sim_host.h"
#include "simulator.h"

namespace ledger::sim {

inline constexpr std::string_view kChainId = "sim-chain";
inline constexpr std::uint64_t kTickMs = 10;
inline constexpr std::uint64_t kGenesisTimeMs = 1'000'000;

// Every signed message that left an honest validator, across its restarts.
struct SignedLog {
  std::map<std::uint64_t, VoteData> votes;
  std::map<std::uint64_t, Timeout> timeouts;
  std::map<std::uint64_t, Hash> proposals;
  std::uint64_t max_vote_round = 0;
  std::uint64_t max_timeout_round = 0;
  std::map<std::uint64_t, std::uint64_t>
      incarnation;  // per round: the incarnation that signed first
};

// What a Byzantine validator does on the block sync side (sim_byzantine.cpp), fixed per node by
// the seed: a persistent attack, not a per-message coin.
enum class SyncLie : std::uint8_t {
  kNone,            // honest claims and answers
  kHugeEmpty,       // claims a huge height (up to u64 max) and answers every request with no blocks
  kTampered,        // answers with other transactions, a forged or wrong certificate, or blocks
                    // that do not link (chosen per answer)
  kUnanswered,      // claims to be ahead and never answers
  kFarCertificate,  // answers with the genuine certificate of a later batch for its last blocks
};

struct SimNode {
  std::size_t index = 0;
  PublicKey key;
  bool byzantine = false;
  bool silent = false;      // Byzantine and never sends anything
  bool withholder = false;  // Byzantine and always withholds its proposals (and their QC)
  bool up = true;
  bool crash_mid_step = false;    // the next step's actions are lost (crash after safety save)
  std::uint64_t incarnation = 0;  // bumped at each start: stale timer events are ignored
  std::unique_ptr<SimDurable> durable;
  std::unique_ptr<SimHost> host;     // null while down
  std::optional<Signer> own_signer;  // Byzantine validators craft messages with it
  std::vector<QuorumCert> seen_qcs;  // Byzantine: QCs seen, for timeouts that carry old ones
  std::optional<std::uint64_t> hidden_qc_round;  // Byzantine: a QC it formed and withholds
  std::optional<consensus::Proposal> withheld;   // Byzantine: its proposal carrying that QC
  SyncLie sync_lie = SyncLie::kNone;             // Byzantine: its block sync behaviour
  SignedLog log;
  // Honest: the highest height its ChainView published, across restarts; and the heights up to
  // which the published blocks passed the publication checks (sim_checks.cpp).
  std::uint64_t published_max = 0;
  std::uint64_t published_checked = 0;
};

// What every honest validator must agree on at a height.
struct Canonical {
  Hash id;
  Hash content;     // SHA-256 of the whole encoded block (transactions included)
  Hash state_root;  // after executing it
};

enum class EventKind {
  kDeliver,
  kTick,
  kCrash,
  kRestart,
  kPartition,
  kHeal,
  kPropose,
  kSubmit,
  kStatus,  // every validator tells the others its committed height (ledgerd's PeerStatus)
};

// What a kDeliver event carries: a consensus message (bytes), or one of block sync's messages,
// as ledgerd's p2p envelope would (node/peer_network.cpp).
enum class Channel : std::uint8_t { kConsensus, kPeerStatus, kSyncRequest, kSyncResponse };

struct Event {
  std::uint64_t time = 0;
  std::uint64_t seq = 0;
  EventKind kind = EventKind::kTick;
  std::size_t to = 0;
  std::size_t from = 0;
  std::uint64_t incarnation = 0;  // kPropose: the node's incarnation when it was scheduled
  Bytes bytes;                    // kDeliver, kConsensus
  std::optional<consensus::PayloadRequest> request;                // kPropose
  Channel channel = Channel::kConsensus;                           // kDeliver
  std::uint64_t claimed_height = 0;                                // kPeerStatus
  node::SyncRequestMessage sync_request;                           // kSyncRequest
  std::shared_ptr<const node::SyncResponseMessage> sync_response;  // kSyncResponse
};

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return std::tie(a.time, a.seq) > std::tie(b.time, b.seq);
  }
};

struct ClientAccount {
  Signer signer;
  std::uint64_t next_nonce = 0;
};

class Simulation {
 public:
  explicit Simulation(const SimConfig& config);
  SimResult run();

 private:
  // simulator.cpp
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {  // inclusive
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  bool faulty_now() const { return now_ < config_.fault_ms; }
  std::uint64_t wall_ms() const { return kGenesisTimeMs + now_; }
  void schedule(Event e) {
    e.seq = seq_++;
    queue_.push(std::move(e));
  }
  void fail(std::string what) {
    if (result_.ok) {
      result_.ok = false;
      result_.failure = "t=" + std::to_string(now_) + "ms: " + std::move(what);
    }
  }
  SimHostOptions host_options() const;
  void start_node(SimNode& node);
  void crash(SimNode& node);
  void handle(SimNode& node, consensus::Actions actions);
  void send(SimNode& from, const consensus::OutgoingMessage& m);
  void send_bytes(std::size_t from, std::size_t to, const Bytes& bytes);
  // Through the simulated network: partitions, loss, duplication, delays.
  void send_event(std::size_t from, std::size_t to, Event e);
  void deliver(const Event& e);
  void deliver_consensus(const Event& e);
  // Block sync (simulator.cpp): the shell around BlockSync and SyncService, as in ledgerd.
  node::SyncTime sync_now() const { return node::SyncTime{} + std::chrono::milliseconds(now_); }
  void broadcast_status();
  void drive_sync(SimNode& node);
  void deliver_sync(const Event& e);
  void on_sync_request(SimNode& node, std::size_t from, const node::SyncRequestMessage& request);
  void on_sync_response(SimNode& node, std::size_t from, const node::SyncResponseMessage& response);
  void propose(const Event& e);
  void submit();

  // sim_byzantine.cpp
  void byzantine_send(SimNode& node, const consensus::OutgoingMessage& m);
  void byzantine_receive(SimNode& node, const consensus::Message& message);
  SignedTransfer forged_transfer();
  std::uint64_t byzantine_claim(SimNode& node, std::uint64_t height);
  // What a lying validator sends instead of `answer`; nullopt: nothing.
  std::optional<node::SyncResponseMessage> byzantine_sync_answer(SimNode& node,
                                                                 node::SyncResponseMessage answer);
  node::SyncResponseMessage far_certificate_answer(const SimNode& node,
                                                   node::SyncResponseMessage answer);

  // sim_checks.cpp
  void check_signed(SimNode& node, const consensus::Message& message);
  // `synced`: committed by block sync, which may cut a commit batch across responses.
  void check_commits(SimNode& node, const std::vector<consensus::CommittedBlock>& commits,
                     bool synced = false);
  bool verified_once(const QuorumCert& qc);
  // What `node`'s ChainView publishes (after every step, honest nodes that are up).
  void check_published(SimNode& node);
  void check_liveness();

  SimConfig config_;
  std::mt19937_64 rng_;
  Genesis genesis_;
  consensus::ReplicaConfig replica_config_;
  QuorumCert genesis_qc_;
  std::vector<SecretKey> validator_keys_;
  std::vector<SimNode> nodes_;
  std::unordered_map<PublicKey, std::size_t, PublicKeyHasher> index_of_;
  std::vector<ClientAccount> clients_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::uint64_t seq_ = 0;
  std::uint64_t now_ = 0;
  std::vector<int> partition_;        // group per node; all 0 when healed
  std::vector<Canonical> canonical_;  // per height, agreed by every honest validator
  std::set<Hash> verified_certs_;
  std::optional<std::uint64_t> height_at_heal_;
  bool live_ = false;
  std::string validity_failure_;  // the first one; reported at the end unless agreement fails
  SimResult result_;
};

}  // namespace ledger::sim
