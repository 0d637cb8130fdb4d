// The lattice state digest (state.h): order independence, exact inverses, encoding.
#include <gtest/gtest.h>

#include <set>

#include "ledger/core/state.h"

namespace ledger {
namespace {

// The accumulator hashes any 32 bytes; addresses need not be valid keys here.
Address address(std::uint8_t n) {
  Address a;
  a.bytes.fill(n);
  return a;
}

TEST(StateAccumulator, OrderIndependent) {
  StateAccumulator forward;
  StateAccumulator backward;
  for (std::uint8_t i = 1; i <= 5; ++i)
    forward.add(address(i), {i * 100u, i});
  for (std::uint8_t i = 5; i >= 1; --i)
    backward.add(address(i), {i * 100u, i});
  EXPECT_EQ(forward, backward);
  EXPECT_EQ(forward.digest(), backward.digest());
}

TEST(StateAccumulator, RemoveIsTheInverseOfAdd) {
  StateAccumulator only_b;
  only_b.add(address(2), {20, 1});
  StateAccumulator acc;
  acc.add(address(1), {10, 0});
  acc.add(address(2), {20, 1});
  acc.remove(address(1), {10, 0});
  EXPECT_EQ(acc, only_b);
  acc.remove(address(2), {20, 1});
  EXPECT_EQ(acc, StateAccumulator{});
  EXPECT_EQ(acc.digest(), StateAccumulator{}.digest());
}

TEST(StateAccumulator, UpdateIsRemoveOldAddNew) {
  StateAccumulator updated;
  updated.add(address(1), {10, 0});
  updated.remove(address(1), {10, 0});
  updated.add(address(1), {9, 1});
  StateAccumulator direct;
  direct.add(address(1), {9, 1});
  EXPECT_EQ(updated, direct);
}

TEST(StateAccumulator, EmptyAccountsAreIgnored) {
  StateAccumulator acc;
  acc.add(address(1), Account{});
  EXPECT_EQ(acc, StateAccumulator{});
  acc.add(address(2), {5, 0});
  StateAccumulator before = acc;
  acc.remove(address(2), Account{});
  EXPECT_EQ(acc, before);
}

TEST(StateAccumulator, DistinctStatesHaveDistinctDigests) {
  std::vector<StateAccumulator> states(6);
  states[1].add(address(1), {1, 0});
  states[2].add(address(1), {2, 0});
  states[3].add(address(1), {1, 1});
  states[4].add(address(2), {1, 0});
  states[5].add(address(1), {1, 0});
  states[5].add(address(2), {1, 0});
  std::set<Hash> digests;
  for (const auto& s : states)
    digests.insert(s.digest());
  EXPECT_EQ(digests.size(), states.size());
}

TEST(StateAccumulator, SwappedAccountsDiffer) {
  // The address is bound to its account: swapping two accounts' values changes the state.
  StateAccumulator a;
  a.add(address(1), {1, 0});
  a.add(address(2), {2, 0});
  StateAccumulator b;
  b.add(address(1), {2, 0});
  b.add(address(2), {1, 0});
  EXPECT_NE(a.digest(), b.digest());
}

TEST(StateAccumulator, EncodeDecodeRoundTrip) {
  StateAccumulator acc;
  for (std::uint8_t i = 1; i <= 3; ++i)
    acc.add(address(i), {i, i});
  Bytes encoded = acc.encode();
  ASSERT_EQ(encoded.size(), StateAccumulator::kEncodedSize);
  auto decoded = StateAccumulator::decode(encoded);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, acc);
  EXPECT_EQ(decoded->digest(), acc.digest());
}

TEST(StateAccumulator, DecodeRejectsWrongLength) {
  Bytes encoded = StateAccumulator{}.encode();
  for (std::size_t size : {std::size_t{0}, encoded.size() - 1, encoded.size() + 1}) {
    Bytes bytes(size, 0);
    auto decoded = StateAccumulator::decode(bytes);
    ASSERT_FALSE(decoded.is_ok()) << size;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace ledger
