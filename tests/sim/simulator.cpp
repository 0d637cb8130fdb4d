// The simulation's event loop, network, faults and client (simulation.h).
#include <algorithm>
#include <sstream>

#include "ledger/core/assert.h"
#include "ledger/core/encoding.h"
#include "simulation.h"

namespace ledger::sim {
namespace {

using consensus::Actions;
using consensus::OutgoingMessage;

constexpr std::uint64_t kEventsMax = 20'000'000;  // a livelock guard, far above any real run
constexpr std::size_t kClients = 6;
constexpr std::uint64_t kClientBalance = 1'000'000'000;
// Block sync, at the simulation's time scale (rounds of tens of ms, not seconds): how often a
// validator tells the others its committed height, how far behind its best peer a validator
// syncs instead of fetching, blocks per request (fewer with small limits, so that commit batches
// are cut across responses), and BlockSync's pacing.
constexpr std::uint64_t kStatusIntervalMs = 200;
constexpr std::uint64_t kSyncLagBlocks = 4;
constexpr std::uint32_t kSyncBlocksMax = 16;
constexpr std::uint32_t kSyncBlocksMaxSmall = 3;
constexpr std::chrono::milliseconds kSyncRequestTimeout{300};
constexpr std::chrono::milliseconds kSyncBackoffMin{100};
constexpr std::chrono::milliseconds kSyncBackoffMax{2'000};
constexpr std::chrono::milliseconds kSyncRetryInterval{50};
constexpr std::uint32_t kSyncRequestsPerSecond = 50;

SecretKey key_for(std::uint8_t tag, std::size_t index) {
  std::array<std::uint8_t, 32> bytes{};
  bytes[0] = tag;
  bytes[30] = static_cast<std::uint8_t>(index >> 8);
  bytes[31] = static_cast<std::uint8_t>(index + 1);
  return SecretKey::from_bytes(bytes).value().copy();
}

}  // namespace

Simulation::Simulation(const SimConfig& config)
    : config_(config), rng_(config.seed), partition_(config.validators, 0) {
  std::vector<Validator> vs;
  for (std::size_t i = 0; i < config_.validators; ++i) {
    validator_keys_.push_back(key_for(0x5e, i));
    Signer s = Signer::create(validator_keys_.back()).value();
    const std::uint64_t power = config_.unequal_power ? uniform(1, 3) : 1;
    vs.push_back(Validator{s.public_key(), power, "v" + std::to_string(i)});
  }
  for (std::size_t i = 0; i < kClients; ++i) {
    clients_.push_back(ClientAccount{Signer::create(key_for(0xc1, i)).value(), 0});
  }
  genesis_.chain_id = std::string(kChainId);
  genesis_.genesis_time_ms = kGenesisTimeMs;
  genesis_.validators = ValidatorSet::create(vs).value();
  for (const ClientAccount& c : clients_) {
    genesis_.accounts.push_back(GenesisAccount{c.signer.public_key(), kClientBalance});
  }
  std::sort(genesis_.accounts.begin(), genesis_.accounts.end(),
            [](const auto& a, const auto& b) { return a.address < b.address; });
  genesis_.consensus.block_transactions_max = 64;
  genesis_.consensus.block_bytes_max = 256 * 1024;

  replica_config_.chain_id = genesis_.chain_id;
  replica_config_.validators = genesis_.validators;
  replica_config_.genesis = genesis_.genesis_block();
  replica_config_.block_limits = genesis_.consensus.block_limits();
  replica_config_.pacemaker.round_timeout_ticks = 200 / kTickMs;
  replica_config_.pacemaker.multiplier_percent = 150;
  replica_config_.pacemaker.backoff_max = 4;
  replica_config_.fetch_retry_ticks = 10;
  if (config_.small_limits) {
    replica_config_.pending_blocks_max = 6;
    replica_config_.fetches_inflight_max = 2;
    replica_config_.fetch_blocks_max = 4;
  }
  genesis_qc_ = genesis_qc(replica_config_.genesis);
  canonical_.push_back(Canonical{replica_config_.genesis.id(),
                                 sha256(encode_block(replica_config_.genesis)),
                                 genesis_.genesis_state().digest()});
  // Byzantine validators: a seed-chosen subset of at most `byzantine`, whose power stays below
  // a third (total - quorum).
  std::vector<std::size_t> order(config_.validators);
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::shuffle(order.begin(), order.end(), rng_);
  const ValidatorSet& set = genesis_.validators;
  const std::uint64_t power_max = set.total_power() - set.quorum_power();
  std::set<std::size_t> byzantine;
  std::uint64_t power = 0;
  for (std::size_t i : order) {
    if (byzantine.size() >= config_.byzantine) break;
    const std::uint64_t p = set.power_of(vs[i].key);
    if (power + p > power_max) continue;
    power += p;
    byzantine.insert(i);
  }
  nodes_.resize(config_.validators);
  for (std::size_t i = 0; i < config_.validators; ++i) {
    SimNode& n = nodes_[i];
    n.index = i;
    n.key = vs[i].key;
    n.byzantine = byzantine.contains(i);
    n.silent = n.byzantine && chance(0.2);
    n.withholder = n.byzantine && !n.silent && chance(0.4);
    n.durable = std::make_unique<SimDurable>(genesis_);
    if (n.byzantine) n.own_signer.emplace(Signer::create(validator_keys_[i]).value());
    index_of_[n.key] = i;
  }
  // Drawn after everything above, so that the other choices of a seed stay what they were.
  for (SimNode& n : nodes_) {
    if (!n.byzantine || n.silent) continue;
    const std::uint64_t lie = uniform(0, 3);
    n.sync_lie = static_cast<SyncLie>(config_.sync_lie >= 0 ? config_.sync_lie : lie);
  }
}

SimHostOptions Simulation::host_options() const {
  SimHostOptions o;
  o.replica = replica_config_;
  o.mempool.txs_max = 2'000;
  o.empty_block_interval_ms = 50;
  const std::size_t proof_headers_max = 2 * replica_config_.pending_blocks_max;  // as ledgerd
  const std::uint32_t blocks_max = config_.small_limits ? kSyncBlocksMaxSmall : kSyncBlocksMax;
  node::BlockSyncConfig& sync = o.sync;
  sync.chain_id = replica_config_.chain_id;
  sync.validators = replica_config_.validators;
  sync.genesis_qc = genesis_qc_;
  sync.block_limits = replica_config_.block_limits;
  sync.verified_certs_max = replica_config_.verified_certs_max;
  sync.blocks_max = blocks_max;
  sync.proof_headers_max = proof_headers_max;
  sync.lag_blocks = kSyncLagBlocks;
  sync.request_timeout = kSyncRequestTimeout;
  sync.backoff_min = kSyncBackoffMin;
  sync.backoff_max = kSyncBackoffMax;
  sync.retry_interval = kSyncRetryInterval;
  sync.peers_max = replica_config_.validators.size();
  node::SyncServiceConfig& service = o.sync_service;
  service.blocks_max = blocks_max;
  service.proof_headers_max = proof_headers_max;
  service.requests_per_second = kSyncRequestsPerSecond;
  service.peers_max = replica_config_.validators.size();
  return o;
}

void Simulation::start_node(SimNode& node) {
  auto host = SimHost::start(host_options(), validator_keys_[node.index].copy(), *node.durable);
  if (!host.is_ok()) {
    fail("node " + std::to_string(node.index) + " cannot restart: " + host.status().to_string());
    return;
  }
  node.host = std::move(host).value();
  node.up = true;
  ++node.incarnation;
  handle(node, node.host->replica().start());
}

void Simulation::crash(SimNode& node) {
  node.up = false;
  node.crash_mid_step = false;
  node.host.reset();  // everything not persisted is gone
  ++result_.crashes;
}

void Simulation::handle(SimNode& node, Actions actions) {
  if (!node.host) return;
  if (node.crash_mid_step) {
    // The process dies after SafetyRules saved, before the host persisted or sent anything.
    crash(node);
    return;
  }
  node::DriverOutcome outcome;
  const Status s = node.host->handle(std::move(actions), wall_ms(), outcome);
  for (const OutgoingMessage& m : node.host->take_outgoing()) {
    if (node.byzantine) {
      byzantine_send(node, m);
    } else {
      check_signed(node, m.message);
      send(node, m);
    }
  }
  if (!node.byzantine) check_commits(node, outcome.committed);
  if (!s.is_ok()) {
    if (!node.byzantine) {
      fail("honest node " + std::to_string(node.index) + " stopped: " + s.to_string());
    }
    crash(node);
    return;
  }
  result_.rejections += outcome.rejections.size();
  if (!node.byzantine) result_.evidence += outcome.evidence;
  if (outcome.payload_request) {
    const consensus::PayloadRequest& request = *outcome.payload_request;
    auto plan = node.host->proposer().schedule(
        request, [&node](const Hash& id) { return node.host->find_uncommitted(id); }, wall_ms());
    if (!plan.is_ok()) {
      if (!node.byzantine) {
        fail("honest node " + std::to_string(node.index) +
             " cannot execute its proposal's parent: " + plan.status().to_string());
      }
      return;
    }
    Event e;
    e.kind = EventKind::kPropose;
    e.to = node.index;
    e.incarnation = node.incarnation;
    e.request = request;
    const std::uint64_t ready = plan.value().ready_at_ms;
    e.time = std::max(now_, ready > kGenesisTimeMs ? ready - kGenesisTimeMs : 0);
    schedule(std::move(e));
  }
}

void Simulation::propose(const Event& e) {
  SimNode& node = nodes_[e.to];
  if (!node.up || !node.host || node.incarnation != e.incarnation) return;
  if (node.host->replica().current_round() != e.request->round) return;  // the round moved on
  auto payload = node.host->proposer().build(*e.request, wall_ms());
  if (!payload.is_ok()) {
    if (!node.byzantine)
      fail("honest node cannot build a payload: " + payload.status().to_string());
    return;
  }
  handle(node, node.host->replica().on_payload(payload.value()));
}

// A client transfer to one or two validators' mempools. A client that lost a transaction (its
// validator crashed) starts again from its committed nonce.
void Simulation::submit() {
  ClientAccount& client = clients_[uniform(0, clients_.size() - 1)];
  const SimNode& reference = nodes_[uniform(0, nodes_.size() - 1)];
  if (!reference.byzantine) {
    auto account = reference.durable->chain.account(client.signer.public_key());
    if (account.is_ok() && client.next_nonce > account.value().nonce + 16) {
      client.next_nonce = account.value().nonce;
    }
  }
  Transfer t;
  t.chain_id = std::string(kChainId);
  t.sender = client.signer.public_key();
  t.recipient = clients_[uniform(0, clients_.size() - 1)].signer.public_key();
  t.nonce = client.next_nonce++;
  t.amount = uniform(1, 1000);
  const SignedTransfer tx = sign_transfer(t, client.signer, std::array<std::uint8_t, 32>{});
  const std::uint64_t copies = uniform(1, 2);
  for (std::uint64_t i = 0; i < copies; ++i) {
    SimNode& node = nodes_[uniform(0, nodes_.size() - 1)];
    if (node.up && node.host) (void)node.host->submit(tx);
  }
}

void Simulation::send(SimNode& from, const OutgoingMessage& m) {
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
  Event e;
  e.bytes = bytes;
  send_event(from, to, std::move(e));
}

void Simulation::send_event(std::size_t from, std::size_t to, Event e) {
  if (partition_[from] != partition_[to]) return;
  const bool faults = config_.network_faults && faulty_now();
  if (faults && chance(static_cast<double>(config_.loss_percent) / 100.0)) return;
  const int copies = faults && chance(0.03) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    std::uint64_t delay = uniform(1, 20);
    if (faults && chance(static_cast<double>(config_.slow_percent) / 100.0)) {
      delay = uniform(20, 300);
    }
    Event copy = e;
    copy.time = now_ + delay;
    copy.kind = EventKind::kDeliver;
    copy.to = to;
    copy.from = from;
    schedule(std::move(copy));
  }
}

void Simulation::deliver(const Event& e) {
  SimNode& node = nodes_[e.to];
  if (!node.up || !node.host || partition_[e.from] != partition_[e.to]) return;
  ++result_.messages;
  if (e.channel == Channel::kConsensus) {
    deliver_consensus(e);
  } else {
    deliver_sync(e);
  }
}

void Simulation::deliver_consensus(const Event& e) {
  SimNode& node = nodes_[e.to];
  auto message = consensus::decode_message(e.bytes, replica_config_.message_limits());
  if (!message.is_ok()) {
    if (!nodes_[e.from].byzantine) {
      fail("a message sent by honest node " + std::to_string(e.from) +
           " does not decode: " + message.status().to_string());
    }
    return;
  }
  const PublicKey& from = nodes_[e.from].key;
  if (node.byzantine) byzantine_receive(node, message.value());
  // Block requests go to the block service, as in ledgerd (node/peer_network.cpp).
  if (const auto* request = std::get_if<consensus::BlockRequest>(&message.value())) {
    auto response =
        node.host->block_service().answer(from, *request, &node.host->replica().tree(), now_);
    if (!response) return;
    OutgoingMessage out{from, std::move(*response)};
    if (node.byzantine) {
      byzantine_send(node, out);
    } else {
      send(node, out);
    }
    return;
  }
  handle(node, node.host->replica().on_message(from, message.value()));
}

// ---- Block sync: the shell around BlockSync and SyncService, as node/sync_driver.cpp ----------

void Simulation::broadcast_status() {
  for (SimNode& n : nodes_) {
    if (!n.up || !n.host || n.silent) continue;
    const std::uint64_t height = n.durable->chain.tip()->height;
    for (std::size_t to = 0; to < nodes_.size(); ++to) {
      if (to == n.index) continue;
      Event e;
      e.channel = Channel::kPeerStatus;
      e.claimed_height = n.byzantine ? byzantine_claim(n, height) : height;
      send_event(n.index, to, std::move(e));
    }
  }
}

// Polls BlockSync with the simulated clock and sends the request it returns.
void Simulation::drive_sync(SimNode& node) {
  if (!config_.block_sync || !node.up || !node.host || node.silent) return;
  node::SyncOutput out = node.host->block_sync().poll(*node.durable->chain.tip(), sync_now());
  if (!out.request) return;
  auto it = index_of_.find(out.request->peer);
  if (it == index_of_.end() || it->second == node.index) {
    fail("node " + std::to_string(node.index) + "'s block sync asked an unknown peer");
    return;
  }
  Event e;
  e.channel = Channel::kSyncRequest;
  e.sync_request = out.request->request;
  send_event(node.index, it->second, std::move(e));
}

void Simulation::deliver_sync(const Event& e) {
  SimNode& node = nodes_[e.to];
  switch (e.channel) {
    case Channel::kPeerStatus:
      (void)node.host->block_sync().on_peer_status(nodes_[e.from].key, e.claimed_height);
      drive_sync(node);
      return;
    case Channel::kSyncRequest:
      on_sync_request(node, e.from, e.sync_request);
      return;
    case Channel::kSyncResponse:
      on_sync_response(node, e.from, *e.sync_response);
      return;
    case Channel::kConsensus:
      break;
  }
  LEDGER_ASSERT(false);
}

void Simulation::on_sync_request(SimNode& node, std::size_t from,
                                 const node::SyncRequestMessage& request) {
  if (node.silent) return;
  // As node/sync_driver.cpp: admitted, answered busy, or dropped, by the node's own rules.
  node::SyncReply reply = node.host->sync_service().reply(nodes_[from].key, request, sync_now());
  if (!reply.error.is_ok()) {
    if (!node.byzantine) {
      fail("honest node " + std::to_string(node.index) +
           " cannot answer a sync request: " + reply.error.to_string());
    }
    return;
  }
  if (!reply.response) return;
  node::SyncResponseMessage response = std::move(*reply.response);
  if (node.byzantine) {
    auto lie = byzantine_sync_answer(node, std::move(response));
    if (!lie) return;
    response = std::move(*lie);
  }
  Event e;
  e.channel = Channel::kSyncResponse;
  e.sync_response = std::make_shared<const node::SyncResponseMessage>(std::move(response));
  send_event(node.index, from, std::move(e));
}

// Verified groups go through the node's SyncApplier (commit pipeline, publication, the replica
// fed the new tip); the simulator checks what it stored and carries out the replica's Actions.
void Simulation::on_sync_response(SimNode& node, std::size_t from,
                                  const node::SyncResponseMessage& response) {
  node::SyncApplied applied = node.host->on_sync_response(nodes_[from].key, response, sync_now());
  if (!node.byzantine) {
    check_commits(node, applied.stored, /*synced=*/true);
    result_.synced_blocks += applied.stored.size();
  }
  if (applied.fatal) {
    if (!node.byzantine) {
      fail("honest node " + std::to_string(node.index) +
           " stopped committing synced blocks: " + applied.status.to_string());
    }
    crash(node);
    return;
  }
  if (applied.replica_actions) {
    for (const consensus::Rejection& r : applied.replica_actions->rejections) {
      const bool refused_sync = r.reason == consensus::RejectReason::kConflictsWithCommit ||
                                r.reason == consensus::RejectReason::kInvalidCertificate;
      if (!node.byzantine && r.from == node.key && refused_sync) {
        fail("honest node " + std::to_string(node.index) +
             "'s replica refused what block sync committed: " + r.message);
      }
    }
    handle(node, std::move(*applied.replica_actions));
    if (!node.host) return;  // crashed inside that step
  }
  drive_sync(node);
}

SimResult Simulation::run() {
  for (SimNode& n : nodes_) {
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
      // A long outage leaves the restarted node far behind.
      e.time += config_.long_outages ? uniform(500, 3000) : uniform(50, 800);
      schedule(e);
    }
  }
  if (config_.straggler) {
    std::vector<std::size_t> honest;
    for (const SimNode& n : nodes_) {
      if (!n.byzantine) honest.push_back(n.index);
    }
    Event e;
    e.kind = EventKind::kCrash;
    e.time = std::min<std::uint64_t>(100, config_.fault_ms - 1);
    e.to = honest[uniform(0, honest.size() - 1)];
    schedule(e);  // restarted when the network heals
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
  if (config_.block_sync) {
    Event status;
    status.kind = EventKind::kStatus;
    status.time = kStatusIntervalMs;
    schedule(status);
  }
  Event tick;
  tick.kind = EventKind::kTick;
  tick.time = kTickMs;
  schedule(tick);
  if (config_.txs_per_second > 0) {
    Event submit_event;
    submit_event.kind = EventKind::kSubmit;
    submit_event.time = 1;
    schedule(submit_event);
  }

  const std::uint64_t deadline = config_.fault_ms + config_.liveness_ms;
  std::uint64_t events = 0;
  while (!queue_.empty() && result_.ok && !live_) {
    Event e = queue_.top();
    queue_.pop();
    now_ = e.time;
    if (now_ > deadline) {
      fail("LIVENESS: honest validators did not all commit " + std::to_string(config_.new_blocks) +
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
      case EventKind::kPropose:
        propose(e);
        break;
      case EventKind::kSubmit:
        submit();
        e.time += std::max<std::uint64_t>(1, 1000 / config_.txs_per_second);
        schedule(std::move(e));
        break;
      case EventKind::kTick:
        for (SimNode& n : nodes_) {
          if (n.up && n.host && result_.ok) handle(n, n.host->replica().on_tick());
          if (n.up && n.host && result_.ok) drive_sync(n);
        }
        e.time += kTickMs;
        schedule(std::move(e));
        break;
      case EventKind::kStatus:
        broadcast_status();
        e.time += kStatusIntervalMs;
        schedule(std::move(e));
        break;
      case EventKind::kCrash: {
        SimNode& n = nodes_[e.to];
        if (n.byzantine || !n.up || now_ >= config_.fault_ms) break;
        if (chance(0.5)) {
          n.crash_mid_step = true;  // dies inside its next step
        } else {
          crash(n);
        }
        break;
      }
      case EventKind::kRestart: {
        SimNode& n = nodes_[e.to];
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
          for (SimNode& n : nodes_) {
            if (n.crash_mid_step) crash(n);
            if (!n.up) start_node(n);
          }
          std::uint64_t best = 0;
          for (const SimNode& n : nodes_) {
            if (!n.byzantine) best = std::max<std::uint64_t>(best, n.durable->chain.tip()->height);
          }
          height_at_heal_ = best;
        }
        break;
    }
    for (SimNode& n : nodes_) {
      if (!n.byzantine && n.up && n.host) check_published(n);
    }
    check_liveness();
  }
  if (result_.ok && !validity_failure_.empty()) {
    result_.ok = false;
    result_.failure = validity_failure_;
  }
  result_.end_ms = now_;
  result_.committed_height = canonical_.size() - 1;
  return result_;
}

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
  s << faults << " --fault-ms " << fault_ms << " --liveness-ms " << liveness_ms << " --new-blocks "
    << new_blocks << " --unequal-power " << unequal_power << " --small-limits " << small_limits
    << " --long-outages " << long_outages << " --txs-per-second " << txs_per_second
    << " --loss-percent " << loss_percent << " --slow-percent " << slow_percent << " --sync-lie "
    << sync_lie << " --block-sync " << block_sync << " --straggler " << straggler;
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
