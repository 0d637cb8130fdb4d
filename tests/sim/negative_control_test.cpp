// A negative control: this binary links the real code compiled again with one rule broken
// (tests/sim/CMakeLists.txt, ledger_negative_control). The simulator's checkers must catch it
// within a bounded number of seeds, with a failure that names the violated invariant; if they
// did not, the green runs of the real build would prove nothing.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "simulator.h"

namespace ledger::sim {
namespace {

constexpr std::uint64_t kSeedsMax = 100;

TEST(NegativeControl, BrokenRuleIsCaught) {
  const std::string name = LEDGER_NEGATIVE_CONTROL;
  const std::string expect = LEDGER_NEGATIVE_CONTROL_EXPECT;
  for (std::uint64_t seed = 1; seed <= kSeedsMax; ++seed) {
    SimConfig config;
    config.seed = seed;
    config.validators = 4;
    config.byzantine = 1;  // tampers with block responses, withholds QCs
    SimResult result = run_simulation(config);
    if (result.ok) continue;
    // A seed may first trip another check (a broken commit rule also commits without a valid
    // 2-chain certificate); the control counts only once the invariant it breaks is named.
    if (result.failure.find(expect) == std::string::npos) {
      std::printf("[sim] broken %s, seed %llu, other failure: %s\n", name.c_str(),
                  static_cast<unsigned long long>(seed), result.failure.c_str());
      continue;
    }
    std::printf("[sim] broken %s caught at seed %llu: %s\n  replay: %s\n", name.c_str(),
                static_cast<unsigned long long>(seed), result.failure.c_str(),
                replay_command(config).c_str());
    return;
  }
  FAIL() << "the broken " << name << " was not caught by \"" << expect << "\" in " << kSeedsMax
         << " seeds";
}

}  // namespace
}  // namespace ledger::sim
