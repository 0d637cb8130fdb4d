// ledger_sim: replays one seed of the whole-node simulator, or soaks many.
//
//   ledger_sim --seed 1234 --validators 7 --byzantine 2 --faults net,partition,crash
//   ledger_sim --seed 1 --seeds 100000 --validators 10 --byzantine 3      (a soak)
//
// Exits 1 at the first failing seed, printing its configuration and its replay command.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "simulator.h"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: ledger_sim [--seed N] [--seeds COUNT] [--validators N] [--byzantine K]\n"
               "                  [--faults net,partition,crash|none] [--fault-ms MS]\n"
               "                  [--liveness-ms MS] [--new-blocks N] [--unequal-power 0|1]\n"
               "                  [--small-limits 0|1] [--long-outages 0|1] [--txs-per-second N]\n"
               "                  [--loss-percent P] [--slow-percent P] [--sync-lie -1|0..4]\n"
               "                  [--block-sync 0|1] [--straggler 0|1]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using ledger::sim::SimConfig;
  SimConfig config;
  std::uint64_t seeds = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string value = argv[++i];
    char* end = nullptr;
    const unsigned long long number = std::strtoull(value.c_str(), &end, 10);
    const bool numeric = end != nullptr && *end == '\0' && !value.empty();
    if (flag == "--faults") {
      config.network_faults = value.find("net") != std::string::npos;
      config.partitions = value.find("partition") != std::string::npos;
      config.crashes = value.find("crash") != std::string::npos;
      continue;
    }
    if (flag == "--sync-lie") {
      if (value == "-1") {
        config.sync_lie = -1;
      } else if (numeric && number <= 4) {
        config.sync_lie = static_cast<int>(number);
      } else {
        return usage();
      }
      continue;
    }
    if (!numeric) return usage();
    if (flag == "--seed") {
      config.seed = number;
    } else if (flag == "--seeds") {
      seeds = number;
    } else if (flag == "--validators") {
      config.validators = number;
    } else if (flag == "--byzantine") {
      config.byzantine = number;
    } else if (flag == "--fault-ms") {
      config.fault_ms = number;
    } else if (flag == "--liveness-ms") {
      config.liveness_ms = number;
    } else if (flag == "--new-blocks") {
      config.new_blocks = number;
    } else if (flag == "--unequal-power") {
      config.unequal_power = number != 0;
    } else if (flag == "--small-limits") {
      config.small_limits = number != 0;
    } else if (flag == "--straggler") {
      config.straggler = number != 0;
    } else if (flag == "--block-sync") {
      config.block_sync = number != 0;
    } else if (flag == "--long-outages") {
      config.long_outages = number != 0;
    } else if (flag == "--txs-per-second") {
      config.txs_per_second = number;
    } else if (flag == "--loss-percent" && number <= 100) {
      config.loss_percent = number;
    } else if (flag == "--slow-percent" && number <= 100) {
      config.slow_percent = number;
    } else {
      return usage();
    }
  }
  if (config.validators < 1 || config.validators > 100 ||
      config.byzantine > (config.validators - 1) / 3 || config.fault_ms < 2 || seeds == 0 ||
      config.txs_per_second > 1000) {
    std::fprintf(stderr,
                 "need 1..100 validators, byzantine <= f, fault-ms >= 2, seeds >= 1, "
                 "txs-per-second <= 1000\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t first = config.seed;
  for (std::uint64_t s = 0; s < seeds; ++s) {
    config.seed = first + s;
    const ledger::sim::SimResult r = ledger::sim::run_simulation(config);
    if (seeds == 1 || !r.ok) {
      std::printf(
          "%s: %s height=%llu transactions=%llu end=%llums messages=%llu rejections=%llu "
          "evidence=%llu crashes=%llu synced=%llu\n",
          config.describe().c_str(), r.ok ? "ok" : "FAILED",
          static_cast<unsigned long long>(r.committed_height),
          static_cast<unsigned long long>(r.transactions),
          static_cast<unsigned long long>(r.end_ms), static_cast<unsigned long long>(r.messages),
          static_cast<unsigned long long>(r.rejections),
          static_cast<unsigned long long>(r.evidence), static_cast<unsigned long long>(r.crashes),
          static_cast<unsigned long long>(r.synced_blocks));
    }
    if (!r.ok) {
      std::printf("failure: %s\nreplay: %s\n", r.failure.c_str(),
                  ledger::sim::replay_command(config).c_str());
      return 1;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%llu seeds ok in %.2fs (%.1f seeds/s)\n", static_cast<unsigned long long>(seeds),
              seconds, static_cast<double>(seeds) / seconds);
  return 0;
}
