// Negative control: this binary links a consensus library compiled with
// LEDGER_TEST_BREAK_VOTE_RULE, whose SafetyRules skips the last-voted-round check. The
// simulator's checkers must catch it within a bounded number of seeds; if they did not, the
// green runs of the real build would prove nothing.
#include <gtest/gtest.h>

#include "simulator.h"

namespace ledger::sim {
namespace {

constexpr std::uint64_t kSeedsMax = 100;

TEST(NegativeControl, BrokenVoteRuleIsCaught) {
  for (std::uint64_t seed = 1; seed <= kSeedsMax; ++seed) {
    SimConfig config;
    config.seed = seed;
    config.validators = 4;
    SimResult result = run_simulation(config);
    if (!result.ok) {
      std::printf("[sim] broken vote rule caught at seed %llu: %s\n  replay: %s\n",
                  static_cast<unsigned long long>(seed), result.failure.c_str(),
                  replay_command(config).c_str());
      EXPECT_NE(result.failure.find("honest node"), std::string::npos) << result.failure;
      return;
    }
  }
  FAIL() << "a vote rule without the last-voted-round check survived " << kSeedsMax << " seeds";
}

}  // namespace
}  // namespace ledger::sim
