// The validator set (validators.h): creation rules and voting power arithmetic.
#include "ledger/core/validators.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>
#include "support/test_keys.h"

namespace ledger {
namespace {

using ledger::testing::contains;
using ledger::testing::off_curve_key;

PublicKey key_for(std::uint32_t index) {
  std::array<std::uint8_t, 32> bytes{};
  bytes[0] = 0x22;
  bytes[28] = static_cast<std::uint8_t>(index >> 24);
  bytes[29] = static_cast<std::uint8_t>(index >> 16);
  bytes[30] = static_cast<std::uint8_t>(index >> 8);
  bytes[31] = static_cast<std::uint8_t>(index);
  auto secret = SecretKey::from_bytes(bytes);
  EXPECT_TRUE(secret.is_ok());
  auto signer = Signer::create(*secret);
  EXPECT_TRUE(signer.is_ok());
  return signer->public_key();
}

std::vector<Validator> validators_with_powers(const std::vector<std::uint64_t>& powers) {
  std::vector<Validator> out;
  for (std::size_t i = 0; i < powers.size(); ++i) {
    out.push_back({key_for(static_cast<std::uint32_t>(i)), powers[i], "v" + std::to_string(i)});
  }
  return out;
}

struct QuorumCase {
  std::vector<std::uint64_t> powers;
  std::uint64_t total;
  std::uint64_t quorum;
  std::uint64_t f_plus_one;
};

TEST(ValidatorSetQuorum, IsMoreThanTwoThirdsOfTotalPower) {
  const QuorumCase cases[] = {
      {{1}, 1, 1, 1},
      {{1, 1, 1}, 3, 3, 1},
      {{1, 1, 1, 1}, 4, 3, 2},
      {std::vector<std::uint64_t>(7, 1), 7, 5, 3},
      {std::vector<std::uint64_t>(10, 1), 10, 7, 4},
      {{1, 1, 1, 2}, 5, 4, 2},
      {{1, 1}, 2, 2, 1},
      {{100}, 100, 67, 34},
      {{3, 3, 3}, 9, 7, 3},
  };
  for (const QuorumCase& c : cases) {
    auto set = ValidatorSet::create(validators_with_powers(c.powers));
    ASSERT_TRUE(set.is_ok()) << set.status().to_string();
    EXPECT_EQ(set->total_power(), c.total) << "total " << c.total;
    EXPECT_EQ(set->quorum_power(), c.quorum) << "total " << c.total;
    EXPECT_EQ(set->f_plus_one_power(), c.f_plus_one) << "total " << c.total;
    // Two quorums always intersect in more than f+1 - 1 power: 2q - total >= f+1.
    EXPECT_GE(2 * set->quorum_power() - set->total_power(), set->f_plus_one_power());
  }
}

TEST(ValidatorSetQuorum, ExactFormulaForOneToFifty) {
  for (std::uint64_t n = 1; n <= 50; ++n) {
    auto set = ValidatorSet::create(validators_with_powers({n}));
    ASSERT_TRUE(set.is_ok());
    EXPECT_EQ(set->quorum_power(), 2 * n / 3 + 1) << n;
    EXPECT_GT(3 * set->quorum_power(), 2 * n) << n;
    EXPECT_LE(3 * (set->quorum_power() - 1), 2 * n) << n;
    EXPECT_EQ(set->f_plus_one_power(), n - (2 * n / 3 + 1) + 1) << n;
  }
}

TEST(ValidatorSetQuorum, TotalAtTheMaximumDoesNotOverflow) {
  auto set = ValidatorSet::create(validators_with_powers({kTotalPowerMax}));
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  EXPECT_EQ(set->total_power(), kTotalPowerMax);
  EXPECT_EQ(set->quorum_power(), 2 * kTotalPowerMax / 3 + 1);
  EXPECT_LE(set->quorum_power(), set->total_power());
}

TEST(ValidatorSet, KeepsGenesisOrderAndLooksUpMembers) {
  auto validators = validators_with_powers({5, 6, 7});
  auto set = ValidatorSet::create(validators);
  ASSERT_TRUE(set.is_ok());
  EXPECT_EQ(set->size(), 3u);
  EXPECT_EQ(set->validators(), validators);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(set->at(i), validators[i]);
    EXPECT_EQ(set->index_of(validators[i].key), i);
    EXPECT_TRUE(set->contains(validators[i].key));
    EXPECT_EQ(set->power_of(validators[i].key), 5 + i);
  }
  PublicKey outsider = key_for(99);
  EXPECT_FALSE(set->index_of(outsider).has_value());
  EXPECT_FALSE(set->contains(outsider));
  EXPECT_EQ(set->power_of(outsider), 0u);
}

TEST(ValidatorSet, AcceptsTheMaximumNumberOfValidators) {
  std::vector<Validator> validators;
  for (std::uint32_t i = 0; i < kValidatorsMax; ++i)
    validators.push_back({key_for(i), 1, "v" + std::to_string(i)});
  auto set = ValidatorSet::create(validators);
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  EXPECT_EQ(set->size(), kValidatorsMax);

  validators.push_back({key_for(kValidatorsMax), 1, "extra"});
  auto too_many = ValidatorSet::create(validators);
  ASSERT_FALSE(too_many.is_ok());
  EXPECT_EQ(too_many.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(too_many.status(), "1025")) << too_many.status().message();
}

TEST(ValidatorSet, RejectsEmpty) {
  auto set = ValidatorSet::create({});
  ASSERT_FALSE(set.is_ok());
  EXPECT_EQ(set.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(set.status(), "empty"));
}

TEST(ValidatorSet, RejectsDuplicateKey) {
  auto validators = validators_with_powers({1, 1, 1});
  validators[2].key = validators[0].key;
  auto set = ValidatorSet::create(validators);
  ASSERT_FALSE(set.is_ok());
  EXPECT_EQ(set.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(set.status(), "validators[2].public_key: duplicate"))
      << set.status().message();
}

TEST(ValidatorSet, RejectsDuplicateName) {
  auto validators = validators_with_powers({1, 1, 1});
  validators[1].name = "v0";
  auto set = ValidatorSet::create(validators);
  ASSERT_FALSE(set.is_ok());
  EXPECT_EQ(set.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(set.status(), "validators[1].name: duplicate name 'v0'"))
      << set.status().message();
}

TEST(ValidatorSet, RejectsZeroPower) {
  auto set = ValidatorSet::create(validators_with_powers({1, 0, 1}));
  ASSERT_FALSE(set.is_ok());
  EXPECT_EQ(set.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(set.status(), "validators[1].power")) << set.status().message();
}

TEST(ValidatorSet, RejectsEmptyName) {
  auto validators = validators_with_powers({1, 1});
  validators[1].name.clear();
  auto set = ValidatorSet::create(validators);
  ASSERT_FALSE(set.is_ok());
  EXPECT_EQ(set.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(set.status(), "validators[1].name")) << set.status().message();
}

TEST(ValidatorSet, RejectsInvalidKey) {
  auto validators = validators_with_powers({1, 1});
  validators[0].key = off_curve_key();
  auto set = ValidatorSet::create(validators);
  ASSERT_FALSE(set.is_ok());
  EXPECT_EQ(set.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(set.status(), "validators[0].public_key")) << set.status().message();

  validators[0].key = PublicKey{};
  EXPECT_FALSE(ValidatorSet::create(validators).is_ok());
}

TEST(ValidatorSet, RejectsTotalPowerAboveTheMaximum) {
  auto set = ValidatorSet::create(validators_with_powers({kTotalPowerMax, 1}));
  ASSERT_FALSE(set.is_ok());
  EXPECT_EQ(set.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(set.status(), "validators[1].power: total voting power exceeds"))
      << set.status().message();

  auto single = ValidatorSet::create(validators_with_powers({kTotalPowerMax + 1}));
  ASSERT_FALSE(single.is_ok());
  EXPECT_EQ(single.status().code(), StatusCode::kInvalidArgument);

  // Powers whose sum wraps around 2^64 must not sneak under the limit.
  auto wrapping = ValidatorSet::create(validators_with_powers({UINT64_MAX, 2}));
  ASSERT_FALSE(wrapping.is_ok());
  EXPECT_EQ(wrapping.status().code(), StatusCode::kInvalidArgument);

  auto halves = ValidatorSet::create(
      validators_with_powers({kTotalPowerMax / 2, kTotalPowerMax / 2, kTotalPowerMax / 2}));
  ASSERT_FALSE(halves.is_ok());
  EXPECT_TRUE(contains(halves.status(), "validators[2].power")) << halves.status().message();
}

TEST(ValidatorSet, LeaderForRoundIsRoundRobinInGenesisOrder) {
  auto validators = validators_with_powers({1, 5, 1, 1});
  auto set = ValidatorSet::create(validators);
  ASSERT_TRUE(set.is_ok());
  for (std::uint64_t round = 0; round < 20; ++round) {
    EXPECT_EQ(set->leader_for_round(round), validators[round % 4]) << round;
  }
  EXPECT_EQ(set->leader_for_round(UINT64_MAX), validators[UINT64_MAX % 4]);
}

TEST(ValidatorSet, LeaderOfSingleValidatorSetIsAlwaysIt) {
  auto validators = validators_with_powers({3});
  auto set = ValidatorSet::create(validators);
  ASSERT_TRUE(set.is_ok());
  EXPECT_EQ(set->leader_for_round(0), validators[0]);
  EXPECT_EQ(set->leader_for_round(12345), validators[0]);
}

}  // namespace
}  // namespace ledger
