// The verified-signature cache (signature_cache.h): one verification per transaction hash,
// only valid signatures kept, oldest evicted first.
#include "ledger/node/signature_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "support/chain_fixture.h"
#include "support/test_keys.h"

namespace ledger::node {
namespace {

using ledger::testing::make_transfer;
using ledger::testing::test_signer;

constexpr char kChainId[] = "sigcache-test";
constexpr std::uint8_t kKeyPrefix = 0x5c;

class SignatureCacheTest : public ::testing::Test {
 protected:
  SignatureCacheTest()
      : sender_(test_signer(kKeyPrefix, 1)), recipient_(test_signer(kKeyPrefix, 2)) {}

  // A distinct valid transaction per nonce.
  SignedTransfer tx(std::uint64_t nonce) const {
    return make_transfer(sender_, kChainId, nonce, recipient_.public_key(), 10);
  }

  Signer sender_;
  Signer recipient_;
};

TEST_F(SignatureCacheTest, SignatureCache_VerifiesOncePerHash) {
  SignatureCache cache(16);
  const SignedTransfer t = tx(0);
  EXPECT_TRUE(cache.verify(t));
  EXPECT_TRUE(cache.verify(t, transaction_hash(t)));
  EXPECT_TRUE(cache.as_check()(t));
  EXPECT_EQ(cache.verifications(), 1u);
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(SignatureCacheTest, SignatureCache_DoesNotCacheInvalidSignatures) {
  SignatureCache cache(16);
  SignedTransfer forged = tx(0);
  forged.signature.bytes[5] ^= 0x01;
  EXPECT_FALSE(cache.verify(forged));
  EXPECT_FALSE(cache.verify(forged));
  EXPECT_EQ(cache.verifications(), 2u);  // each arrival pays for its own check
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(SignatureCacheTest, SignatureCache_RejectsInvalidFieldsWithoutCaching) {
  SignatureCache cache(16);
  SignedTransfer bad = tx(0);
  const Hash hash = transaction_hash(bad);
  bad.transfer.memo.assign(kMemoBytesMax + 1, 0xaa);  // cannot be encoded, let alone verified
  EXPECT_FALSE(cache.verify(bad, hash));
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(SignatureCacheTest, SignatureCache_EvictsOldest) {
  SignatureCache cache(2);
  const SignedTransfer a = tx(0), b = tx(1), c = tx(2);
  EXPECT_TRUE(cache.verify(a));
  EXPECT_TRUE(cache.verify(b));
  EXPECT_TRUE(cache.verify(c));  // evicts a, the oldest insertion
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.verifications(), 3u);

  EXPECT_TRUE(cache.verify(c));
  EXPECT_TRUE(cache.verify(b));
  EXPECT_EQ(cache.hits(), 2u);
  EXPECT_EQ(cache.verifications(), 3u);

  EXPECT_TRUE(cache.verify(a));  // verified again, and now evicts b
  EXPECT_EQ(cache.verifications(), 4u);
  EXPECT_TRUE(cache.verify(b));
  EXPECT_EQ(cache.verifications(), 5u);
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(SignatureCacheTest, SignatureCache_ConcurrentVerifiersAgree) {
  constexpr std::size_t kTxs = 32;
  constexpr int kThreads = 4;
  std::vector<SignedTransfer> txs;
  for (std::uint64_t n = 0; n < kTxs; ++n)
    txs.push_back(tx(n));
  SignatureCache cache(kTxs);
  std::atomic<int> invalid{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (const SignedTransfer& one : txs) {
        if (!cache.verify(one)) ++invalid;
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(invalid.load(), 0);
  EXPECT_EQ(cache.size(), kTxs);
  // Every answer is a verification or a hit; racing threads may both verify one hash.
  EXPECT_EQ(cache.verifications() + cache.hits(), kTxs * kThreads);
  EXPECT_GE(cache.verifications(), kTxs);
}

}  // namespace
}  // namespace ledger::node
