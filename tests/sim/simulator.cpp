#include "simulator.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include "ledger/consensus/replica.h"
#include "ledger/core/encoding.h"
#include "ledger/storage/memory_safety_store.h"

namespace ledger::sim {
namespace {

using consensus::Actions;
using consensus::Message;
using consensus::OutgoingMessage;
using consensus::Proposal;
using consensus::Replica;
using consensus::TimeoutMessage;

constexpr std::string_view kChainId = "sim-chain";
constexpr std::uint64_t kTickMs = 10;
constexpr std::uint64_t kEventsMax = 20'000'000;  // a livelock guard, far above any real run

SecretKey key_for(std::size_t index) {
  std::array<std::uint8_t, 32> bytes{};
  bytes[0] = 0x5e;
  bytes[30] = static_cast<std::uint8_t>(index >> 8);
  bytes[31] = static_cast<std::uint8_t>(index + 1);
  return SecretKey::from_bytes(bytes).value().copy();
}

// Deterministic signatures (auxiliary randomness from the message) keep a seed reproducible.
Signature sign_det(const Signer& signer, const Hash& message) {
  return signer.sign(message, message.bytes);
}

Block make_genesis() {
  Block g;
  g.header.chain_id = std::string(kChainId);
  g.header.parent_id = sha256(as_bytes("sim genesis document"));
  g.header.timestamp_ms = 1'000;
  g.header.transactions_root = transactions_root({});
  g.header.state_root = sha256(as_bytes("sim genesis state"));
  return g;
}

// What survives a crash: exactly what the host had persisted when it went down.
struct Durable {
  storage::MemorySafetyStore safety;
  std::map<Hash, Block> pending;  // uncommitted blocks persisted and not forgotten
  std::optional<QuorumCert> high_qc;
  std::optional<TimeoutCert> high_tc;
  std::vector<Block> chain;  // committed blocks, index == height
  std::unordered_map<Hash, std::size_t, HashHasher> height_of;
};

// Every signed message that left an honest replica, across its restarts.
struct SignedLog {
  std::map<std::uint64_t, VoteData> votes;
  std::map<std::uint64_t, Timeout> timeouts;
  std::map<std::uint64_t, Hash> proposals;
  std::uint64_t max_vote_round = 0;
  std::uint64_t max_timeout_round = 0;
};

struct Node {
  std::size_t index = 0;
  PublicKey key;
  bool byzantine = false;
  bool silent = false;  // Byzantine and never sends anything
  bool up = true;
  bool crash_mid_step = false;  // the next step's actions are lost (crash after safety save)
  std::unique_ptr<Durable> durable;
  std::unique_ptr<Replica> replica;
  std::optional<Signer> own_signer;  // Byzantine nodes craft messages with it
  SignedLog log;
};

enum class EventKind { kDeliver, kTick, kCrash, kRestart, kPartition, kHeal };

struct Event {
  std::uint64_t time = 0;
  std::uint64_t seq = 0;
  EventKind kind = EventKind::kTick;
  std::size_t to = 0;
  std::size_t from = 0;
  Bytes bytes;
};

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return std::tie(a.time, a.seq) > std::tie(b.time, b.seq);
  }
};

class Simulation {
 public:
  explicit Simulation(const SimConfig& config);
  SimResult run();

 private:
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {  // inclusive
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  bool faulty_now() const { return now_ < config_.fault_ms; }
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

  consensus::ReplicaConfig replica_config() const;
  void start_node(Node& node);
  void crash(Node& node);
  void handle(Node& node, Actions actions);
  void send(Node& from, const OutgoingMessage& m);
  void send_bytes(std::size_t from, std::size_t to, const Bytes& bytes);
  void byzantine_send(Node& node, const OutgoingMessage& m);
  void deliver(const Event& e);
  void extend_response(Node& node, consensus::BlockResponse& response, std::uint32_t count);

  void check_signed(Node& node, const Message& message);
  void check_commits(Node& node, const std::vector<consensus::CommittedBlock>& commits);
  bool verified_once(const QuorumCert& qc);
  void check_liveness();

  SimConfig config_;
  std::mt19937_64 rng_;
  ValidatorSet validators_;
  Block genesis_;
  QuorumCert genesis_qc_;
  std::vector<Node> nodes_;
  std::unordered_map<PublicKey, std::size_t, PublicKeyHasher> index_of_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::uint64_t seq_ = 0;
  std::uint64_t now_ = 0;
  std::vector<int> partition_;   // group per node; all 0 when healed
  std::vector<Hash> canonical_;  // committed block id per height, agreed by every honest node
  std::set<Hash> verified_certs_;
  std::optional<std::uint64_t> height_at_heal_;
  bool live_ = false;
  SimResult result_;
};

Simulation::Simulation(const SimConfig& config)
    : config_(config), rng_(config.seed), partition_(config.validators, 0) {
  std::vector<Validator> vs;
  for (std::size_t i = 0; i < config_.validators; ++i) {
    Signer s = Signer::create(key_for(i)).value();
    vs.push_back(Validator{s.public_key(), 1, "v" + std::to_string(i)});
  }
  validators_ = ValidatorSet::create(vs).value();
  genesis_ = make_genesis();
  genesis_qc_ = genesis_qc(genesis_);
  canonical_.push_back(genesis_.id());
  // Byzantine replicas are a seed-chosen subset.
  std::vector<std::size_t> order(config_.validators);
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::shuffle(order.begin(), order.end(), rng_);
  std::set<std::size_t> byzantine(order.begin(), order.begin() + config_.byzantine);
  nodes_.resize(config_.validators);
  for (std::size_t i = 0; i < config_.validators; ++i) {
    Node& n = nodes_[i];
    n.index = i;
    n.key = vs[i].key;
    n.byzantine = byzantine.contains(i);
    n.silent = n.byzantine && chance(0.25);
    n.durable = std::make_unique<Durable>();
    n.durable->chain.push_back(genesis_);
    n.durable->height_of[genesis_.id()] = 0;
    if (n.byzantine) n.own_signer.emplace(Signer::create(key_for(i)).value());
    index_of_[n.key] = i;
  }
}

consensus::ReplicaConfig Simulation::replica_config() const {
  consensus::ReplicaConfig c;
  c.chain_id = std::string(kChainId);
  c.validators = validators_;
  c.genesis = genesis_;
  c.pacemaker.round_timeout_ticks = 200 / kTickMs;
  c.pacemaker.multiplier_percent = 150;
  c.pacemaker.backoff_max = 4;
  c.fetch_retry_ticks = 10;
  c.payload_checks = false;  // payloads are empty stand-ins here
  return c;
}

void Simulation::start_node(Node& node) {
  const Durable& d = *node.durable;
  consensus::RecoveryData recovery;
  recovery.committed_root = d.chain.back();
  for (const auto& [id, block] : d.pending)
    recovery.blocks.push_back(block);
  recovery.high_qc = d.high_qc.value_or(genesis_qc_);
  recovery.high_tc = d.high_tc;
  auto replica = Replica::create(replica_config(), Signer::create(key_for(node.index)).value(),
                                 node.durable->safety, std::move(recovery));
  if (!replica.is_ok()) {
    fail("node " + std::to_string(node.index) + " cannot restart: " + replica.status().to_string());
    return;
  }
  node.replica = std::move(replica).value();
  node.up = true;
  handle(node, node.replica->start());
}

void Simulation::crash(Node& node) {
  node.up = false;
  node.crash_mid_step = false;
  node.replica.reset();  // everything not persisted is gone
  ++result_.crashes;
}

void Simulation::handle(Node& node, Actions actions) {
  if (node.crash_mid_step) {
    // The process dies after SafetyRules saved, before the host persisted or sent anything.
    crash(node);
    return;
  }
  Durable& d = *node.durable;
  // 1. Persist.
  for (const Block& b : actions.blocks_to_persist)
    d.pending[b.id()] = b;
  if (actions.high_qc_to_persist) d.high_qc = actions.high_qc_to_persist;
  if (actions.high_tc_to_persist) d.high_tc = actions.high_tc_to_persist;
  for (const Hash& id : actions.blocks_to_forget)
    d.pending.erase(id);
  // 2. Send.
  for (auto& m : actions.messages) {
    if (!node.byzantine) {
      check_signed(node, m.message);
      if (auto* response = std::get_if<consensus::BlockResponse>(&m.message)) {
        extend_response(node, *response, replica_config().fetch_blocks_max);
      }
      send(node, m);
    } else {
      byzantine_send(node, m);
    }
  }
  // 3. Commit.
  if (!node.byzantine) check_commits(node, actions.commits);
  for (const auto& c : actions.commits) {
    d.height_of[c.block.id()] = d.chain.size();
    d.chain.push_back(c.block);
  }
  result_.rejections += actions.rejections.size();
  if (!node.byzantine) result_.evidence += actions.evidence.size();
  if (actions.payload_request && node.replica) {
    const auto& req = *actions.payload_request;
    consensus::Payload payload;
    payload.round = req.round;
    payload.state_root = sha256(req.parent_id.bytes);
    payload.timestamp_ms =
        std::max(now_ + genesis_.header.timestamp_ms, req.parent_timestamp_ms + 1);
    handle(node, node.replica->on_payload(payload));
  }
}

// A host keeps its committed blocks; it extends the replica's answer with older ones.
void Simulation::extend_response(Node& node, consensus::BlockResponse& response,
                                 std::uint32_t count) {
  const Durable& d = *node.durable;
  if (response.blocks.empty() || response.blocks.size() >= count) return;
  auto it = d.height_of.find(response.blocks.back().header.parent_id);
  if (it == d.height_of.end()) return;
  for (std::size_t h = it->second + 1; h-- > 0 && response.blocks.size() < count;) {
    response.blocks.push_back(d.chain[h]);
  }
}

void Simulation::send(Node& from, const OutgoingMessage& m) {
  const Bytes bytes = consensus::encode_message(m.message);
  if (m.to) {
    auto it = index_of_.find(*m.to);
    if (it != index_of_.end() && it->second != from.index)
      send_bytes(from.index, it->second, bytes);
    return;
  }
  for (std::size_t to = 0; to < nodes_.size(); ++to) {
    if (to != from.index) send_bytes(from.index, to, bytes);
  }
}

void Simulation::send_bytes(std::size_t from, std::size_t to, const Bytes& bytes) {
  if (partition_[from] != partition_[to]) return;
  const bool faults = config_.network_faults && faulty_now();
  if (faults && chance(0.05)) return;
  const int copies = faults && chance(0.03) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    std::uint64_t delay = uniform(1, 20);
    if (faults && chance(0.1)) delay = uniform(20, 300);
    Event e;
    e.time = now_ + delay;
    e.kind = EventKind::kDeliver;
    e.to = to;
    e.from = from;
    e.bytes = bytes;
    schedule(std::move(e));
  }
}

void Simulation::byzantine_send(Node& node, const OutgoingMessage& m) {
  if (node.silent) return;
  const Signer& signer = *node.own_signer;
  const std::string chain(kChainId);
  auto random_hash = [this] {
    Hash h;
    for (auto& b : h.bytes)
      b = static_cast<std::uint8_t>(uniform(0, 255));
    return h;
  };
  const std::uint64_t behavior = uniform(0, 4);
  if (behavior == 0) {  // honest
    send(node, m);
    return;
  }
  if (const auto* p = std::get_if<Proposal>(&m.message)) {
    if (behavior == 1) {  // equivocate: a second block for the same round to half of the peers
      Proposal other = *p;
      other.block.header.timestamp_ms += 1 + uniform(0, 5);
      other.signature =
          sign_det(signer, consensus::proposal_signing_hash(chain, other.block.id(), other.tc));
      const Bytes a = consensus::encode_message(*p);
      const Bytes b = consensus::encode_message(other);
      for (std::size_t to = 0; to < nodes_.size(); ++to) {
        if (to != node.index) send_bytes(node.index, to, to % 2 == 0 ? a : b);
      }
      return;
    }
    if (behavior == 2) {  // bad signature
      Proposal bad = *p;
      bad.signature.bytes[uniform(0, 63)] ^= 0x01;
      send(node, OutgoingMessage{m.to, bad});
      return;
    }
  }
  if (const auto* v = std::get_if<Vote>(&m.message)) {
    if (behavior == 1 || behavior == 3) {  // double vote: a second vote in the same round
      Vote other = *v;
      other.data.block_id = random_hash();
      other.signature = sign_det(signer, vote_signing_hash(chain, other.data));
      send(node, OutgoingMessage{m.to, other});
      send(node, m);
      return;
    }
    if (behavior == 2) {
      Vote bad = *v;
      bad.signature.bytes[uniform(0, 63)] ^= 0x80;
      send(node, OutgoingMessage{m.to, bad});
      return;
    }
    if (behavior == 4 && v->data.round > 2) {  // a vote that breaks the rules: old round
      Vote old = *v;
      old.data.round = v->data.round - 2;
      old.data.parent_round = old.data.round - 1;
      old.data.block_id = random_hash();
      old.signature = sign_det(signer, vote_signing_hash(chain, old.data));
      send(node, OutgoingMessage{std::nullopt, old});
      return;
    }
  }
  if (const auto* t = std::get_if<TimeoutMessage>(&m.message)) {
    if (behavior == 2) {
      TimeoutMessage bad = *t;
      bad.timeout.signature.bytes[uniform(0, 63)] ^= 0x02;
      send(node, OutgoingMessage{m.to, bad});
      return;
    }
    if (behavior == 4) {  // a timeout for a round far ahead, validly signed
      TimeoutMessage ahead = *t;
      ahead.timeout.round += 5;
      ahead.timeout.signature = sign_det(
          signer, timeout_signing_hash(chain, ahead.timeout.round, ahead.timeout.high_qc.round()));
      send(node, OutgoingMessage{std::nullopt, ahead});
      return;
    }
    if (behavior == 1) {  // a TC without quorum, carrying only its own entry
      TimeoutCert tc;
      tc.round = t->timeout.round;
      tc.entries.push_back(
          TimeoutCertEntry{node.key, t->timeout.high_qc.round(), t->timeout.signature});
      tc.high_qc = t->timeout.high_qc;
      send(node, OutgoingMessage{std::nullopt, tc});
      send(node, m);
      return;
    }
  }
  if (behavior == 3 && chance(0.5)) return;  // selective silence
  send(node, m);
}

void Simulation::deliver(const Event& e) {
  Node& node = nodes_[e.to];
  if (!node.up || partition_[e.from] != partition_[e.to]) return;
  ++result_.messages;
  auto message = consensus::decode_message(e.bytes, replica_config().message_limits());
  if (!message.is_ok()) {
    fail("a message sent by node " + std::to_string(e.from) +
         " does not decode: " + message.status().to_string());
    return;
  }
  handle(node, node.replica->on_message(nodes_[e.from].key, message.value()));
}

void Simulation::check_signed(Node& node, const Message& message) {
  SignedLog& log = node.log;
  const std::string who = "honest node " + std::to_string(node.index);
  if (const auto* p = std::get_if<Proposal>(&message)) {
    if (p->block.header.proposer != node.key) return;
    const std::uint64_t r = p->block.header.round;
    auto [it, inserted] = log.proposals.emplace(r, p->block.id());
    if (!inserted && it->second != p->block.id())
      fail(who + " proposed two blocks in round " + std::to_string(r));
    return;
  }
  if (const auto* v = std::get_if<Vote>(&message)) {
    if (v->signer != node.key) return;
    const std::uint64_t r = v->data.round;
    auto it = log.votes.find(r);
    if (it != log.votes.end()) {
      if (it->second != v->data)
        fail(who + " signed two different votes in round " + std::to_string(r));
      return;
    }
    if (!log.timeouts.empty() && r <= log.max_timeout_round) {
      fail(who + " voted in round " + std::to_string(r) + " after timing out in round " +
           std::to_string(log.max_timeout_round));
    }
    if (r < log.max_vote_round) {
      fail(who + " voted in round " + std::to_string(r) + " after voting in round " +
           std::to_string(log.max_vote_round));
    }
    log.votes.emplace(r, v->data);
    log.max_vote_round = std::max(log.max_vote_round, r);
    return;
  }
  if (const auto* t = std::get_if<TimeoutMessage>(&message)) {
    if (t->timeout.signer != node.key) return;
    const std::uint64_t r = t->timeout.round;
    auto it = log.timeouts.find(r);
    if (it != log.timeouts.end()) {
      if (it->second != t->timeout)
        fail(who + " signed two different timeouts in round " + std::to_string(r));
      return;
    }
    if (r < log.max_vote_round) {
      fail(who + " timed out in round " + std::to_string(r) + " below its vote in round " +
           std::to_string(log.max_vote_round));
    }
    log.timeouts.emplace(r, t->timeout);
    log.max_timeout_round = std::max(log.max_timeout_round, r);
  }
}

bool Simulation::verified_once(const QuorumCert& qc) {
  ByteWriter w;
  write_qc(w, qc);
  const Hash digest = sha256(w.data());
  if (verified_certs_.contains(digest)) return true;
  if (!verify_qc(qc, kChainId, validators_, genesis_qc_).is_ok()) return false;
  verified_certs_.insert(digest);
  return true;
}

void Simulation::check_commits(Node& node, const std::vector<consensus::CommittedBlock>& commits) {
  const Durable& d = *node.durable;
  const std::string who = "honest node " + std::to_string(node.index);
  std::uint64_t height = d.chain.size();
  Hash parent = d.chain.back().id();
  for (std::size_t i = 0; i < commits.size(); ++i) {
    const Block& b = commits[i].block;
    const Hash id = b.id();
    if (b.header.height != height || b.header.parent_id != parent) {
      fail(who + " committed a block at height " + std::to_string(b.header.height) +
           " that does not extend its chain of height " + std::to_string(height - 1));
      return;
    }
    if (height < canonical_.size()) {
      if (canonical_[height] != id) {
        fail("AGREEMENT: " + who + " committed " + id.hex() + " at height " +
             std::to_string(height) + ", another honest node committed " +
             canonical_[height].hex());
        return;
      }
    } else {
      // First commit at this height: it must link to the previous one through a valid QC.
      if (b.header.parent_qc.block_id() != canonical_[height - 1] ||
          !verified_once(b.header.parent_qc)) {
        fail(who + " committed block at height " + std::to_string(height) +
             " without a valid QC for its parent");
        return;
      }
      canonical_.push_back(id);
    }
    const QuorumCert& cert = commits[i].commit_cert;
    const bool last_of_batch = i + 1 == commits.size() || commits[i + 1].commit_cert != cert;
    if (last_of_batch && (cert.data.parent_id != id || cert.round() != cert.data.parent_round + 1 ||
                          !verified_once(cert))) {
      fail(who + " committed height " + std::to_string(height) +
           " without a valid 2-chain commit certificate");
      return;
    }
    parent = id;
    ++height;
  }
}

void Simulation::check_liveness() {
  if (!height_at_heal_ || live_) return;
  std::uint64_t lowest = UINT64_MAX;
  for (const Node& n : nodes_) {
    if (!n.byzantine) lowest = std::min<std::uint64_t>(lowest, n.durable->chain.size() - 1);
  }
  if (lowest >= *height_at_heal_ + config_.new_blocks) live_ = true;
}

SimResult Simulation::run() {
  for (Node& n : nodes_) {
    start_node(n);
  }
  // The fault schedule, all drawn from the seed up front.
  const std::size_t f = (config_.validators - 1) / 3;
  if (config_.crashes) {
    const std::uint64_t count = uniform(0, std::max<std::uint64_t>(1, f) + 1);
    for (std::uint64_t i = 0; i < count; ++i) {
      Event e;
      e.kind = EventKind::kCrash;
      e.time = uniform(1, config_.fault_ms - 1);
      e.to = uniform(0, config_.validators - 1);
      schedule(e);
      e.kind = EventKind::kRestart;
      e.time += uniform(50, 800);
      schedule(e);
    }
  }
  if (config_.partitions) {
    const std::uint64_t count = uniform(0, 2);
    for (std::uint64_t i = 0; i < count; ++i) {
      Event e;
      e.kind = EventKind::kPartition;
      e.time = uniform(1, config_.fault_ms - 1);
      schedule(e);
    }
  }
  Event heal;
  heal.kind = EventKind::kHeal;
  heal.time = config_.fault_ms;
  schedule(heal);
  Event tick;
  tick.kind = EventKind::kTick;
  tick.time = kTickMs;
  schedule(tick);

  const std::uint64_t deadline = config_.fault_ms + config_.liveness_ms;
  std::uint64_t events = 0;
  while (!queue_.empty() && result_.ok && !live_) {
    Event e = queue_.top();
    queue_.pop();
    now_ = e.time;
    if (now_ > deadline) {
      fail("LIVENESS: honest replicas did not all commit " + std::to_string(config_.new_blocks) +
           " new blocks within " + std::to_string(config_.liveness_ms) + "ms after healing");
      break;
    }
    if (++events > kEventsMax) {
      fail("event budget exhausted");
      break;
    }
    switch (e.kind) {
      case EventKind::kDeliver:
        deliver(e);
        break;
      case EventKind::kTick:
        for (Node& n : nodes_) {
          if (n.up && result_.ok) handle(n, n.replica->on_tick());
        }
        e.time += kTickMs;
        schedule(std::move(e));
        break;
      case EventKind::kCrash: {
        Node& n = nodes_[e.to];
        if (n.byzantine || !n.up || now_ >= config_.fault_ms) break;
        if (chance(0.5)) {
          n.crash_mid_step = true;  // dies inside its next step
        } else {
          crash(n);
        }
        break;
      }
      case EventKind::kRestart: {
        Node& n = nodes_[e.to];
        if (n.crash_mid_step) crash(n);
        if (!n.up) start_node(n);
        break;
      }
      case EventKind::kPartition: {
        if (now_ >= config_.fault_ms) break;
        for (auto& g : partition_)
          g = static_cast<int>(uniform(0, 1));
        Event end;
        end.kind = EventKind::kHeal;
        end.time = std::min(config_.fault_ms, now_ + uniform(100, 700));
        schedule(end);
        break;
      }
      case EventKind::kHeal:
        std::fill(partition_.begin(), partition_.end(), 0);
        if (now_ >= config_.fault_ms && !height_at_heal_) {
          for (Node& n : nodes_) {
            if (n.crash_mid_step) crash(n);
            if (!n.up) start_node(n);
          }
          std::uint64_t best = 0;
          for (const Node& n : nodes_) {
            if (!n.byzantine) best = std::max<std::uint64_t>(best, n.durable->chain.size() - 1);
          }
          height_at_heal_ = best;
        }
        break;
    }
    check_liveness();
  }
  result_.end_ms = now_;
  result_.committed_height = canonical_.size() - 1;
  return result_;
}

}  // namespace

std::string SimConfig::flags() const {
  std::ostringstream s;
  s << "--seed " << seed << " --validators " << validators << " --byzantine " << byzantine
    << " --faults ";
  std::string faults;
  if (network_faults) faults += "net,";
  if (partitions) faults += "partition,";
  if (crashes) faults += "crash,";
  if (faults.empty()) faults = "none,";
  faults.pop_back();
  s << faults << " --fault-ms " << fault_ms << " --liveness-ms " << liveness_ms;
  return s.str();
}

std::string SimConfig::describe() const {
  return "seed=" + std::to_string(seed) + " validators=" + std::to_string(validators) +
         " byzantine=" + std::to_string(byzantine) + " (" + flags() + ")";
}

std::string replay_command(const SimConfig& config) {
#ifdef LEDGER_SIM_RUNNER
  const char* runner = LEDGER_SIM_RUNNER;
#else
  const char* runner = "ledger_sim";
#endif
  return std::string(runner) + " " + config.flags();
}

SimResult run_simulation(const SimConfig& config) {
  return Simulation(config).run();
}

}  // namespace ledger::sim
