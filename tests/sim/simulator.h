// Deterministic simulation of N whole validators (DESIGN.md sections 8 and 9).
//
// Each validator is the real Replica inside the real host components (tests/sim/sim_host.h:
// consensus driver, payload checker, proposer, commit pipeline, block service, mempool,
// speculative execution) over the in-memory stores; a seeded client submits real signed
// transfers that the real executor runs. Only the network and the clock are simulated, all
// drawn from one seed: message delays (uniform plus a long tail), loss, duplication,
// reordering, partitions that come and heal, honest validators that crash and restart from what
// they had durably persisted, and up to f (by power) Byzantine validators (equivocating leader,
// double voting, votes that break the rules, invalid signatures, silence, withheld proposals,
// tampered and unsolicited block responses, proposals relayed with another TC, timeouts
// carrying other QCs, and on the block sync side huge height claims with empty answers,
// tampered answers or none). Validators that fall behind catch up by the real block sync
// (BlockSync and SyncService, fed to the replica). Voting power may be unequal. After every step it
// checks:
//   - agreement: no two honest validators commit different blocks at one height, nor different
//     contents (the block's bytes) or state roots after it;
//   - signing: no honest replica signs two different votes in one round, a vote in a round it
//     already timed out in (or below one it voted or timed out in), a timeout below a round it
//     voted in, or two different proposals in a round, across restarts;
//   - validity: every committed block links to its parent through a valid QC, back to genesis,
//     and its commit certificate is a valid QC proving the 2-chain;
//   - publication: what each honest node's ChainView publishes never goes down (restarts
//     included), is stored, and every published block is readable with its certificate's B0
//     stored at or below the published height;
//   - liveness: once the network heals, every honest replica commits new blocks within a
//     bounded simulated time.
#pragma once

#include <cstdint>
#include <string>

namespace ledger::sim {

struct SimConfig {
  std::uint64_t seed = 1;
  std::size_t validators = 4;
  std::size_t byzantine = 0;          // <= f = (validators - 1) / 3
  bool network_faults = true;         // loss, duplication, long delays
  bool partitions = true;             // partitions that come and heal
  bool crashes = true;                // honest crash-restart from persisted state
  std::uint64_t fault_ms = 1500;      // faults happen in [0, fault_ms); then the network heals
  std::uint64_t liveness_ms = 15000;  // after healing, every honest replica must commit by then
  std::uint64_t new_blocks = 2;       // ... at least this many blocks above the best at healing
  bool unequal_power = false;         // validator powers drawn from 1..3
  bool small_limits = false;          // pending_blocks_max 6, fetches_inflight_max 2
  bool long_outages = false;          // crashed validators restart after 0.5..3 s, not 50..800 ms
  std::uint64_t txs_per_second = 40;  // client transfers submitted (simulated time)
  std::uint64_t loss_percent = 5;     // while faulty: messages lost
  std::uint64_t slow_percent = 10;    // while faulty: messages delayed 20..300 ms
  // Byzantine block sync: -1 seed-chosen per validator; else every Byzantine validator does the
  // same: 0 honest, 1 claims a huge height and answers with no blocks, 2 tampered answers,
  // 3 never answers, 4 answers with the genuine commit certificate of a later batch (never
  // seed-chosen, so that the seeds of the sweeps keep their runs).
  int sync_lie = -1;
  // Validators broadcast their committed height and catch up by block sync (as ledgerd); off,
  // a validator far behind has only the replica's block fetches (for comparison runs).
  bool block_sync = true;
  // One honest validator, seed-chosen, is down from 100 ms until the network heals: it must
  // catch up from far behind (by block sync when that is more than its replica can fetch).
  bool straggler = false;

  // "--seed 7 --validators 4 --byzantine 1 --faults net,partition,crash ..."
  std::string flags() const;
  std::string describe() const;
};

struct SimResult {
  bool ok = true;
  std::string failure;                 // the first violated property, empty if ok
  std::uint64_t committed_height = 0;  // highest honest committed height at the end
  std::uint64_t end_ms = 0;            // simulated time at the end
  std::uint64_t messages = 0;          // delivered messages
  std::uint64_t rejections = 0;        // inputs the replicas rejected (Byzantine or stale)
  std::uint64_t evidence = 0;          // equivocations recorded by honest replicas
  std::uint64_t crashes = 0;
  std::uint64_t transactions = 0;   // transfers in blocks committed by honest validators
  std::uint64_t synced_blocks = 0;  // blocks honest validators committed by block sync
};

SimResult run_simulation(const SimConfig& config);

// The command that replays `config` with the runner binary built next to the tests.
std::string replay_command(const SimConfig& config);

}  // namespace ledger::sim
