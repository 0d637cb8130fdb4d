// The mempool (mempool.h): one test per admission rule, selection rule and eviction rule, with a
// real RocksChainStore as the committed state.
#include "ledger/node/mempool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ledger/storage/rocks_chain_store.h"
#include "support/chain_fixture.h"
#include "support/temp_dir.h"
#include "support/test_keys.h"

namespace ledger::node {
namespace {

using ledger::storage::RocksChainStore;
using ledger::testing::contains;
using ledger::testing::make_transfer;
using ledger::testing::TempDir;
using ledger::testing::test_signer;
using ledger::testing::TestChain;

constexpr char kChainId[] = "mempool-test";
constexpr std::uint8_t kKeyPrefix = 0x6d;
constexpr std::size_t kSenders = 8;
constexpr std::uint64_t kBalance = 1'000;

std::vector<Signer> make_signers(std::size_t n) {
  std::vector<Signer> signers;
  for (std::size_t i = 0; i < n; ++i)
    signers.push_back(test_signer(kKeyPrefix, static_cast<std::uint8_t>(i + 1)));
  return signers;
}

std::map<Address, Account> fund(const std::vector<Signer>& signers) {
  std::map<Address, Account> accounts;
  for (const Signer& signer : signers)
    accounts[signer.public_key()] = Account{kBalance, 0};
  return accounts;
}

class MempoolTest : public ::testing::Test {
 protected:
  MempoolTest()
      : signers_(make_signers(kSenders)),
        recipient_(test_signer(kKeyPrefix, 200)),
        chain_(kChainId, fund(signers_)) {}

  void SetUp() override {
    auto store = RocksChainStore::open((dir_.path() / "db").string(), kChainId, {});
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
    Status status = store_->commit(chain_.genesis(), std::nullopt);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    reset(MempoolLimits{});
  }

  void reset(const MempoolLimits& limits) {
    mempool_ = std::make_unique<Mempool>(kChainId, limits, signatures_);
  }

  const Address& address(std::size_t sender) const { return signers_.at(sender).public_key(); }

  SignedTransfer tx(std::size_t sender, std::uint64_t nonce, std::uint64_t amount = 1) const {
    return make_transfer(signers_.at(sender), kChainId, nonce, recipient_.public_key(), amount);
  }

  SignedTransfer tx_with_memo(std::size_t sender, std::uint64_t nonce, std::size_t memo_bytes) {
    Transfer transfer{kChainId, address(sender),        nonce, recipient_.public_key(),
                      1,        Bytes(memo_bytes, 0x4d)};
    return sign_transfer(transfer, signers_.at(sender), std::array<std::uint8_t, 32>{});
  }

  std::uint64_t height() const { return store_->tip()->height; }

  StatusOr<Hash> admit(const SignedTransfer& t) {
    return mempool_->admit(t, *store_, committed_lookup(), height());
  }

  CommittedLookup committed_lookup() const {
    return [this](const Hash& hash) { return store_->transaction_location(hash).is_ok(); };
  }

  // Commits a block with `txs` to the store and, if `notify`, tells the mempool.
  const Block& commit(std::vector<SignedTransfer> txs, bool notify = true) {
    const auto& next = chain_.next(std::move(txs));
    Status status = store_->commit(next, std::nullopt);
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    if (notify) {
      status = mempool_->on_commit(next.block, *store_);
      EXPECT_TRUE(status.is_ok()) << status.to_string();
    }
    return next.block;
  }

  StatusOr<std::vector<SignedTransfer>> select(const BlockLimits& limits = {}) const {
    return mempool_->select(limits, *store_);
  }

  static std::size_t wire_bytes(const SignedTransfer& t) { return encode_transaction(t).size(); }

  TempDir dir_;
  std::vector<Signer> signers_;
  Signer recipient_;
  TestChain chain_;
  std::unique_ptr<RocksChainStore> store_;
  SignatureCache signatures_{1'000};
  std::unique_ptr<Mempool> mempool_;
};

// Asserts that `result` failed with `code` and a message containing `text`.
template <typename T>
void expect_error(const StatusOr<T>& result, StatusCode code, const std::string& text) {
  ASSERT_FALSE(result.is_ok()) << "expected " << status_code_name(code) << " with: " << text;
  EXPECT_EQ(result.status().code(), code) << result.status().to_string();
  EXPECT_TRUE(contains(result.status(), text)) << result.status().to_string();
}

// --- Admission ---------------------------------------------------------------------------

TEST_F(MempoolTest, Admit_AcceptsValidTransfer) {
  const SignedTransfer t = tx(0, 0);
  auto hash = admit(t);
  ASSERT_TRUE(hash.is_ok()) << hash.status().to_string();
  EXPECT_EQ(*hash, transaction_hash(t));
  EXPECT_EQ(mempool_->find(*hash), t);
  EXPECT_EQ(mempool_->size(), 1u);
  EXPECT_EQ(mempool_->bytes(), wire_bytes(t));
}

TEST_F(MempoolTest, Admit_RejectsMalformedTransfer) {
  SignedTransfer t = tx(0, 0);
  t.transfer.memo.assign(kMemoBytesMax + 1, 0x01);
  expect_error(admit(t), StatusCode::kInvalidArgument, "malformed transaction: memo");
  EXPECT_EQ(mempool_->size(), 0u);
}

TEST_F(MempoolTest, Admit_RejectsOversizedTransaction) {
  MempoolLimits limits;
  limits.tx_bytes_max = 200;
  reset(limits);
  const SignedTransfer big = tx_with_memo(0, 0, 100);
  expect_error(
      admit(big), StatusCode::kInvalidArgument,
      "transaction is " + std::to_string(wire_bytes(big)) + " bytes, above the limit of 200");
  EXPECT_TRUE(admit(tx(0, 0)).is_ok());
}

TEST_F(MempoolTest, Admit_RejectsWrongChainId) {
  const SignedTransfer foreign = make_transfer(signers_[0], "x", 0, recipient_.public_key(), 1);
  expect_error(admit(foreign), StatusCode::kInvalidArgument,
               "wrong chain id \"x\", this node runs \"mempool-test\"");
}

TEST_F(MempoolTest, Admit_RejectsPendingDuplicate) {
  const SignedTransfer t = tx(0, 0);
  ASSERT_TRUE(admit(t).is_ok());
  const std::uint64_t verified = signatures_.verifications();
  expect_error(admit(t), StatusCode::kAlreadyExists,
               "transaction " + transaction_hash(t).hex() + " is already pending");
  EXPECT_EQ(signatures_.verifications(), verified);  // answered before the signature check
  EXPECT_EQ(mempool_->size(), 1u);
}

TEST_F(MempoolTest, Admit_RejectsCommittedDuplicate) {
  const SignedTransfer t = tx(0, 0);
  commit({t});
  // Its nonce is now below the committed one too; the duplicate check comes first.
  expect_error(admit(t), StatusCode::kAlreadyExists,
               "transaction " + transaction_hash(t).hex() + " is already committed");
}

TEST_F(MempoolTest, Admit_RejectsBadSignature) {
  SignedTransfer forged = tx(0, 0);
  forged.signature.bytes[0] ^= 0x80;
  expect_error(admit(forged), StatusCode::kInvalidArgument,
               "invalid signature: transaction " + transaction_hash(forged).hex() +
                   " is not signed by its sender " + address(0).hex());
  EXPECT_EQ(signatures_.size(), 0u);
}

TEST_F(MempoolTest, Admit_VerifiesEachSignatureThroughTheCache) {
  const SignedTransfer t = tx(0, 0);
  ASSERT_TRUE(signatures_.verify(t));  // e.g. seen earlier in a proposal
  ASSERT_TRUE(admit(t).is_ok());
  EXPECT_EQ(signatures_.verifications(), 1u);
  EXPECT_EQ(signatures_.hits(), 1u);
}

TEST_F(MempoolTest, Admit_RejectsNonceBelowCommitted) {
  commit({tx(0, 0), tx(0, 1)});
  expect_error(admit(tx(0, 1, 7)), StatusCode::kFailedPrecondition,
               "nonce 1 is below the account's next nonce 2");
  EXPECT_TRUE(admit(tx(0, 2)).is_ok());
}

TEST_F(MempoolTest, Admit_RejectsNonceBeyondWindow) {
  MempoolLimits limits;
  limits.nonce_window = 10;
  reset(limits);
  commit({tx(0, 0)});
  expect_error(admit(tx(0, 11)), StatusCode::kFailedPrecondition,
               "nonce 11 is beyond the admission window (next nonce 1, window 10)");
  EXPECT_TRUE(admit(tx(0, 10)).is_ok());
}

TEST_F(MempoolTest, Admit_RejectsSecondTransactionAtSameNonce) {
  const SignedTransfer first = tx(0, 0, 1);
  ASSERT_TRUE(admit(first).is_ok());
  expect_error(admit(tx(0, 0, 2)), StatusCode::kAlreadyExists,
               "sender " + address(0).hex() + " already has transaction " +
                   transaction_hash(first).hex() + " pending at nonce 0");
}

TEST_F(MempoolTest, Admit_RejectsInsufficientFunds) {
  expect_error(admit(tx(0, 0, kBalance + 1)), StatusCode::kFailedPrecondition,
               "insufficient funds: amount 1001 exceeds balance 1000");
  EXPECT_TRUE(admit(tx(0, 0, kBalance)).is_ok());
}

TEST_F(MempoolTest, Admit_RejectsWhenFull_Count) {
  MempoolLimits limits;
  limits.txs_max = 2;
  reset(limits);
  ASSERT_TRUE(admit(tx(0, 0)).is_ok());
  ASSERT_TRUE(admit(tx(1, 0)).is_ok());
  expect_error(admit(tx(2, 0)), StatusCode::kResourceExhausted,
               "mempool full: 2 transactions (mempool.txs_max)");
}

TEST_F(MempoolTest, Admit_RejectsWhenFull_Bytes) {
  MempoolLimits limits;
  limits.bytes_max = limits.tx_bytes_max;  // 471: two 177-byte transfers fit, not three
  reset(limits);
  ASSERT_TRUE(admit(tx(0, 0)).is_ok());
  ASSERT_TRUE(admit(tx(1, 0)).is_ok());
  const SignedTransfer third = tx(2, 0);
  expect_error(admit(third), StatusCode::kResourceExhausted,
               "mempool full: " + std::to_string(2 * wire_bytes(third)) + " bytes pending, a " +
                   std::to_string(wire_bytes(third)) +
                   "-byte transaction would exceed 471 (mempool.bytes_max)");
}

TEST_F(MempoolTest, Admit_RejectsWhenSenderLimitReached) {
  MempoolLimits limits;
  limits.per_sender_max = 2;
  reset(limits);
  ASSERT_TRUE(admit(tx(0, 0)).is_ok());
  ASSERT_TRUE(admit(tx(0, 1)).is_ok());
  expect_error(
      admit(tx(0, 2)), StatusCode::kResourceExhausted,
      "sender " + address(0).hex() + " has 2 pending transactions (mempool.per_sender_max)");
  EXPECT_TRUE(admit(tx(1, 0)).is_ok());
}

TEST_F(MempoolTest, Admit_CapacityLimitsAreCheckedInOrder) {
  // txs_max, then bytes_max, then per_sender_max: with all three reached, the count is named.
  const SignedTransfer big = tx_with_memo(0, 0, kMemoBytesMax);
  MempoolLimits limits;
  limits.txs_max = 1;
  limits.bytes_max = wire_bytes(big) + wire_bytes(tx(0, 1));  // not two big ones
  limits.per_sender_max = 1;
  reset(limits);
  ASSERT_TRUE(admit(big).is_ok());
  expect_error(admit(tx_with_memo(0, 1, kMemoBytesMax)), StatusCode::kResourceExhausted,
               "(mempool.txs_max)");
  // Room in the count: the bytes are named before the sender's count.
  limits.txs_max = 2;
  reset(limits);
  ASSERT_TRUE(admit(big).is_ok());
  expect_error(admit(tx_with_memo(0, 1, kMemoBytesMax)), StatusCode::kResourceExhausted,
               "(mempool.bytes_max)");
  // Room in the count and the bytes: the sender's count.
  expect_error(admit(tx(0, 1)), StatusCode::kResourceExhausted, "(mempool.per_sender_max)");
  EXPECT_EQ(mempool_->size(), 1u);
  EXPECT_EQ(mempool_->bytes(), wire_bytes(big));
}

TEST_F(MempoolTest, Admit_ReportsTheFirstFailingCheck) {
  MempoolLimits limits;
  limits.tx_bytes_max = 300;
  limits.nonce_window = 10;
  limits.txs_max = 2;
  reset(limits);
  // size before chain id
  Transfer foreign_big{"x", address(0), 0, recipient_.public_key(), 1, Bytes(200, 0)};
  expect_error(admit(sign_transfer(foreign_big, signers_[0], std::array<std::uint8_t, 32>{})),
               StatusCode::kInvalidArgument, "above the limit of 300");
  // chain id before signature
  SignedTransfer foreign_forged = make_transfer(signers_[0], "x", 0, recipient_.public_key(), 1);
  foreign_forged.signature.bytes[0] ^= 0x80;
  expect_error(admit(foreign_forged), StatusCode::kInvalidArgument, "wrong chain id");
  // signature before nonce
  SignedTransfer forged_far = tx(0, 50);
  forged_far.signature.bytes[0] ^= 0x80;
  expect_error(admit(forged_far), StatusCode::kInvalidArgument, "invalid signature");
  // nonce before funds
  expect_error(admit(tx(0, 50, kBalance + 1)), StatusCode::kFailedPrecondition,
               "beyond the admission window");
  // nonce slot before funds
  ASSERT_TRUE(admit(tx(0, 0)).is_ok());
  expect_error(admit(tx(0, 0, kBalance + 1)), StatusCode::kAlreadyExists, "pending at nonce 0");
  // funds before capacity
  ASSERT_TRUE(admit(tx(1, 0)).is_ok());
  expect_error(admit(tx(2, 0, kBalance + 1)), StatusCode::kFailedPrecondition,
               "insufficient funds");
}

TEST_F(MempoolTest, Admit_ConcurrentDistinctSendersAllAdmitted) {
  constexpr std::size_t kNonces = 6;
  // Signed up front (a Signer is not thread-safe); two threads race on each sender's list, so
  // every transaction is also submitted twice at once and admitted exactly once.
  std::vector<std::vector<SignedTransfer>> by_sender(kSenders);
  for (std::size_t s = 0; s < kSenders; ++s) {
    for (std::uint64_t n = 0; n < kNonces; ++n)
      by_sender[s].push_back(tx(s, n));
  }
  std::atomic<std::size_t> admitted{0};
  std::atomic<std::size_t> unexpected{0};
  std::vector<std::thread> threads;
  for (std::size_t s = 0; s < kSenders; ++s) {
    for (int copy = 0; copy < 2; ++copy) {
      threads.emplace_back([&, s] {
        for (const SignedTransfer& t : by_sender[s]) {
          auto result = admit(t);
          if (result.is_ok()) {
            ++admitted;
          } else if (result.status().code() != StatusCode::kAlreadyExists) {
            ++unexpected;
          }
        }
      });
    }
  }
  // Selection runs alongside and sees only whole runs of consecutive nonces.
  threads.emplace_back([&] {
    for (int i = 0; i < 20; ++i) {
      auto selected = select();
      if (!selected.is_ok()) ++unexpected;
    }
  });
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(unexpected.load(), 0u);
  EXPECT_EQ(admitted.load(), kSenders * kNonces);
  EXPECT_EQ(mempool_->size(), kSenders * kNonces);
  EXPECT_EQ(mempool_->bytes(), kSenders * kNonces * wire_bytes(tx(0, 0)));
  auto selected = select();
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(selected->size(), kSenders * kNonces);
}

// --- Selection ---------------------------------------------------------------------------

TEST_F(MempoolTest, Select_TakesConsecutiveNoncesPerSender) {
  for (std::uint64_t n : {3, 0, 1})  // nonce 2 missing
    ASSERT_TRUE(admit(tx(0, n)).is_ok());
  auto selected = select();
  ASSERT_TRUE(selected.is_ok()) << selected.status().to_string();
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{tx(0, 0), tx(0, 1)}));
  EXPECT_EQ(mempool_->size(), 3u);  // selection does not remove
}

TEST_F(MempoolTest, Select_OrdersSendersByFirstArrival) {
  ASSERT_TRUE(admit(tx(2, 0)).is_ok());
  ASSERT_TRUE(admit(tx(0, 0)).is_ok());
  ASSERT_TRUE(admit(tx(2, 1)).is_ok());
  ASSERT_TRUE(admit(tx(1, 0)).is_ok());
  auto selected = select();
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{tx(2, 0), tx(2, 1), tx(0, 0), tx(1, 0)}));
}

TEST_F(MempoolTest, Select_StartsAtTheStateNonce) {
  for (std::uint64_t n = 0; n < 3; ++n)
    ASSERT_TRUE(admit(tx(0, n)).is_ok());
  commit({tx(0, 0)}, /*notify=*/false);  // the state moved on; the mempool was not told
  auto selected = select();
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{tx(0, 1), tx(0, 2)}));
}

TEST_F(MempoolTest, Select_SkipsSenderWithAllNoncesBelowState) {
  ASSERT_TRUE(admit(tx(0, 0)).is_ok());
  ASSERT_TRUE(admit(tx(1, 0)).is_ok());
  commit({tx(0, 0, 5)}, /*notify=*/false);  // another transaction took sender 0's nonce 0
  auto selected = select();
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{tx(1, 0)}));
}

TEST_F(MempoolTest, Select_SenderWithAGapAtTheStateNonceContributesNothing) {
  ASSERT_TRUE(admit(tx(0, 1)).is_ok());  // sender 0's nonce 0 is missing
  ASSERT_TRUE(admit(tx(0, 2)).is_ok());
  ASSERT_TRUE(admit(tx(1, 0)).is_ok());
  auto selected = select();
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{tx(1, 0)}));
  // Once the gap is filled, the whole run follows in nonce order.
  ASSERT_TRUE(admit(tx(0, 0)).is_ok());
  selected = select();
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{tx(0, 0), tx(0, 1), tx(0, 2), tx(1, 0)}));
}

TEST_F(MempoolTest, Select_TakesEachSendersNoncesInOrderWithinByteAndCountLimits) {
  // Admitted in reverse nonce order, interleaved between two senders.
  for (std::uint64_t n : {2, 1, 0}) {
    ASSERT_TRUE(admit(tx(0, n)).is_ok());
    ASSERT_TRUE(admit(tx(1, n)).is_ok());
  }
  const std::size_t one = wire_bytes(tx(0, 0));
  BlockLimits limits;
  limits.bytes_max = 4 * one;  // exactly four
  auto selected = select(limits);
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{tx(0, 0), tx(0, 1), tx(0, 2), tx(1, 0)}));
  limits.transactions_max = 2;  // the count binds first now
  selected = select(limits);
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{tx(0, 0), tx(0, 1)}));
}

TEST_F(MempoolTest, Select_RespectsCountLimit) {
  for (std::size_t s = 0; s < 3; ++s) {
    ASSERT_TRUE(admit(tx(s, 0)).is_ok());
    ASSERT_TRUE(admit(tx(s, 1)).is_ok());
  }
  BlockLimits limits;
  limits.transactions_max = 3;
  auto selected = select(limits);
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{tx(0, 0), tx(0, 1), tx(1, 0)}));
}

TEST_F(MempoolTest, Select_RespectsByteLimit) {
  const SignedTransfer big = tx_with_memo(0, 0, 200);
  ASSERT_TRUE(admit(big).is_ok());
  ASSERT_TRUE(admit(tx(1, 0)).is_ok());
  ASSERT_TRUE(admit(tx(2, 0)).is_ok());
  BlockLimits limits;
  // Room for the big one and one small one, less a byte: the selection stops at the first
  // transaction that does not fit, even though nothing smaller follows it.
  limits.bytes_max = wire_bytes(big) + 2 * wire_bytes(tx(1, 0)) - 1;
  auto selected = select(limits);
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{big, tx(1, 0)}));

  limits.bytes_max = wire_bytes(big) - 1;
  selected = select(limits);
  ASSERT_TRUE(selected.is_ok());
  EXPECT_TRUE(selected->empty());
}

TEST_F(MempoolTest, Select_KeepsArrivalOrderAcrossStateReads) {
  // More senders than select() reads the state for at once (256). They are unfunded, so their
  // transfers move 0, which their empty balance covers.
  constexpr std::uint32_t kMany = 300;
  std::vector<SignedTransfer> expected;
  for (std::uint32_t i = 0; i < kMany; ++i) {
    const Signer signer = ledger::testing::fixture_signer(10'000 + (i * 7919) % kMany);
    expected.push_back(make_transfer(signer, kChainId, 0, recipient_.public_key(), 0));
    ASSERT_TRUE(admit(expected.back()).is_ok());
  }
  auto selected = select();
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, expected);

  BlockLimits limits;
  limits.transactions_max = 270;
  selected = select(limits);
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, std::vector<SignedTransfer>(expected.begin(), expected.begin() + 270));
}

// --- Eviction ----------------------------------------------------------------------------

TEST_F(MempoolTest, OnCommit_EvictsIncludedAndStale) {
  const SignedTransfer pending_replaced = tx(0, 0, 1);  // sender 0, nonce 0: superseded
  const SignedTransfer pending_next = tx(0, 1, 1);      // sender 0, nonce 1: still valid
  const SignedTransfer included = tx(1, 0, 1);          // sender 1: in the block
  const SignedTransfer untouched = tx(2, 0, 1);         // sender 2: not in the block
  for (const SignedTransfer& t : {pending_replaced, pending_next, included, untouched})
    ASSERT_TRUE(admit(t).is_ok());

  // The block carries another transaction at sender 0's nonce 0 (from elsewhere).
  commit({tx(0, 0, 9), included});

  EXPECT_FALSE(mempool_->find(transaction_hash(pending_replaced)).has_value());
  EXPECT_FALSE(mempool_->find(transaction_hash(included)).has_value());
  EXPECT_TRUE(mempool_->find(transaction_hash(pending_next)).has_value());
  EXPECT_TRUE(mempool_->find(transaction_hash(untouched)).has_value());
  EXPECT_EQ(mempool_->size(), 2u);
  EXPECT_EQ(mempool_->bytes(), wire_bytes(pending_next) + wire_bytes(untouched));
}

TEST_F(MempoolTest, OnCommit_EvictsExpired) {
  MempoolLimits limits;
  limits.ttl_blocks = 2;
  reset(limits);
  const SignedTransfer old_tx = tx(0, 5);  // a gap keeps it from ever being selected
  ASSERT_TRUE(admit(old_tx).is_ok());      // admitted at height 0
  commit({});
  const SignedTransfer young_tx = tx(1, 5);
  ASSERT_TRUE(admit(young_tx).is_ok());  // admitted at height 1
  commit({});                            // height 2: 0 + 2 < 2 is false, both stay
  EXPECT_EQ(mempool_->size(), 2u);
  commit({});  // height 3: 0 + 2 < 3, the old one leaves
  EXPECT_FALSE(mempool_->find(transaction_hash(old_tx)).has_value());
  EXPECT_TRUE(mempool_->find(transaction_hash(young_tx)).has_value());
  commit({});  // height 4: 1 + 2 < 4
  EXPECT_EQ(mempool_->size(), 0u);
  EXPECT_EQ(mempool_->bytes(), 0u);
}

TEST_F(MempoolTest, OnCommit_EvictsEveryNonceBelowTheNewCommittedNonce) {
  for (std::uint64_t n = 0; n < 4; ++n)
    ASSERT_TRUE(admit(tx(0, n, 1)).is_ok());
  // Other transactions at sender 0's nonces 0-2 (e.g. from another node's mempool) commit.
  commit({tx(0, 0, 7), tx(0, 1, 7), tx(0, 2, 7)});
  for (std::uint64_t n = 0; n < 3; ++n)
    EXPECT_FALSE(mempool_->find(transaction_hash(tx(0, n, 1))).has_value()) << n;
  EXPECT_TRUE(mempool_->find(transaction_hash(tx(0, 3, 1))).has_value());
  EXPECT_EQ(mempool_->size(), 1u);
  EXPECT_EQ(mempool_->bytes(), wire_bytes(tx(0, 3, 1)));
  auto selected = select();
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{tx(0, 3, 1)}));
}

TEST_F(MempoolTest, OnCommit_FreesCapacityForNewAdmissions) {
  MempoolLimits limits;
  limits.txs_max = 3;
  limits.per_sender_max = 2;
  reset(limits);
  ASSERT_TRUE(admit(tx(0, 0)).is_ok());
  ASSERT_TRUE(admit(tx(0, 1)).is_ok());
  ASSERT_TRUE(admit(tx(1, 0)).is_ok());
  expect_error(admit(tx(2, 0)), StatusCode::kResourceExhausted, "(mempool.txs_max)");
  commit({tx(0, 0), tx(1, 0)});
  EXPECT_EQ(mempool_->size(), 1u);
  EXPECT_EQ(mempool_->bytes(), wire_bytes(tx(0, 1)));
  EXPECT_TRUE(admit(tx(2, 0)).is_ok());
  EXPECT_TRUE(admit(tx(0, 2)).is_ok());  // sender 0 is below per_sender_max again
  expect_error(admit(tx(0, 3)), StatusCode::kResourceExhausted, "(mempool.txs_max)");
}

TEST_F(MempoolTest, OnCommit_AloneEvictsCommittedTransactions) {
  // Eviction is driven by on_commit alone: a commit the mempool is not told about leaves the
  // included transaction pending (select() skips it by the state nonce).
  ASSERT_TRUE(admit(tx(0, 0)).is_ok());
  const Block& block = commit({tx(0, 0)}, /*notify=*/false);
  EXPECT_EQ(mempool_->size(), 1u);
  ASSERT_TRUE(mempool_->on_commit(block, *store_).is_ok());
  EXPECT_EQ(mempool_->size(), 0u);
  EXPECT_EQ(mempool_->bytes(), 0u);
}

TEST_F(MempoolTest, OnCommit_SenderRejoinsAtTheBackOfTheArrivalOrder) {
  ASSERT_TRUE(admit(tx(0, 0)).is_ok());
  ASSERT_TRUE(admit(tx(1, 0)).is_ok());
  commit({tx(0, 0)});  // sender 0 has nothing pending now
  ASSERT_TRUE(admit(tx(0, 1)).is_ok());
  auto selected = select();
  ASSERT_TRUE(selected.is_ok());
  EXPECT_EQ(*selected, (std::vector<SignedTransfer>{tx(1, 0), tx(0, 1)}));
}

// --- Limits ------------------------------------------------------------------------------

TEST(MempoolLimitsTest, Limits_ValidateNamesTheFirstBadField) {
  EXPECT_TRUE(MempoolLimits{}.validate().is_ok());
  MempoolLimits limits;
  limits.txs_max = 0;
  limits.ttl_blocks = 0;
  Status status = limits.validate();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "mempool.txs_max: must be at least 1 (got 0)");

  limits = MempoolLimits{};
  limits.bytes_max = 100;
  status = limits.validate();
  EXPECT_TRUE(contains(status, "mempool.bytes_max: must be at least mempool.tx_bytes_max (471)"))
      << status.to_string();

  for (auto field : {&MempoolLimits::per_sender_max, &MempoolLimits::txs_max}) {
    limits = MempoolLimits{};
    limits.*field = 0;
    EXPECT_FALSE(limits.validate().is_ok());
  }
  limits = MempoolLimits{};
  limits.nonce_window = 0;
  EXPECT_TRUE(contains(limits.validate(), "mempool.nonce_window"));
  limits = MempoolLimits{};
  limits.ttl_blocks = 0;
  EXPECT_TRUE(contains(limits.validate(), "mempool.ttl_blocks"));
}

}  // namespace
}  // namespace ledger::node
