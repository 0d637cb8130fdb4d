// execute_block (DESIGN.md section 4): one test per result code and per rule of state.h.
#include <gtest/gtest.h>

#include <limits>
#include <map>

#include "ledger/core/state.h"
#include "support/test_keys.h"

namespace ledger {
namespace {

Signer make_signer(std::uint8_t last) {
  return ledger::testing::test_signer(0, last);
}

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr const char* kChain = "ledgerd-test";

// Committed state as a map; absent accounts read as empty.
class MapReader : public AccountReader {
 public:
  StatusOr<Account> account(const Address& address) const override {
    ++reads;
    auto it = accounts.find(address);
    return it == accounts.end() ? Account{} : it->second;
  }
  std::map<Address, Account> accounts;
  mutable int reads = 0;
};

class FailingReader : public AccountReader {
 public:
  StatusOr<Account> account(const Address&) const override {
    return Status::io_error("disk read failed");
  }
};

StateAccumulator accumulate(const std::map<Address, Account>& accounts) {
  StateAccumulator acc;
  for (const auto& [address, account] : accounts)
    acc.add(address, account);
  return acc;
}

class Execution : public ::testing::Test {
 protected:
  Execution() : alice_(make_signer(1)), bob_(make_signer(2)), carol_(make_signer(3)) {}

  const Address& alice() const { return alice_.public_key(); }
  const Address& bob() const { return bob_.public_key(); }
  const Address& carol() const { return carol_.public_key(); }

  static SignedTransfer transfer(const Signer& from, const Address& to, std::uint64_t nonce,
                                 std::uint64_t amount, const std::string& chain = kChain) {
    Transfer t{chain, from.public_key(), nonce, to, amount, {}};
    return sign_transfer(t, from, std::array<std::uint8_t, 32>{});
  }

  static Block block_of(std::vector<SignedTransfer> transactions) {
    Block block;
    block.header.chain_id = kChain;
    block.header.height = 1;
    block.transactions = std::move(transactions);
    return block;
  }

  ExecutionOutput run(const Block& block, const SignatureCheck& check = {}) {
    auto out = execute_block(block, state_, accumulate(state_.accounts), check);
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
    return out.is_ok() ? std::move(out).value() : ExecutionOutput{};
  }

  // Runs a one-transaction block and expects `code` with no state change unless it succeeded.
  void expect_code(const SignedTransfer& tx, TxResultCode code) {
    ExecutionOutput out = run(block_of({tx}));
    ASSERT_EQ(out.results.codes.size(), 1u);
    EXPECT_EQ(out.results.codes[0], code) << tx_result_name(out.results.codes[0]);
    if (code != TxResultCode::kSuccess) expect_unchanged(out);
  }

  void expect_unchanged(const ExecutionOutput& out) {
    EXPECT_TRUE(out.changed.empty());
    EXPECT_EQ(out.accumulator, accumulate(state_.accounts));
    EXPECT_EQ(out.results.state_root, accumulate(state_.accounts).digest());
  }

  Signer alice_;
  Signer bob_;
  Signer carol_;
  MapReader state_;
};

TEST_F(Execution, Success_MovesFundsAndIncrementsNonce) {
  state_.accounts[alice()] = {1000, 0};
  ExecutionOutput out = run(block_of({transfer(alice_, bob(), 0, 300)}));
  ASSERT_EQ(out.results.codes, std::vector<TxResultCode>{TxResultCode::kSuccess});
  EXPECT_EQ(out.changed.size(), 2u);
  EXPECT_EQ(out.changed.at(alice()), (Account{700, 1}));
  EXPECT_EQ(out.changed.at(bob()), (Account{300, 0}));
}

TEST_F(Execution, BadNonce_TooLow) {
  state_.accounts[alice()] = {1000, 5};
  expect_code(transfer(alice_, bob(), 4, 1), TxResultCode::kBadNonce);
}

TEST_F(Execution, BadNonce_TooHigh) {
  state_.accounts[alice()] = {1000, 5};
  expect_code(transfer(alice_, bob(), 6, 1), TxResultCode::kBadNonce);
}

TEST_F(Execution, InsufficientFunds_AmountAboveBalance) {
  state_.accounts[alice()] = {100, 0};
  expect_code(transfer(alice_, bob(), 0, 101), TxResultCode::kInsufficientFunds);
}

TEST_F(Execution, InsufficientFunds_AbsentSender) {
  expect_code(transfer(alice_, bob(), 0, 1), TxResultCode::kInsufficientFunds);
}

TEST_F(Execution, BalanceOverflow_AtTheRecipient) {
  state_.accounts[alice()] = {100, 0};
  state_.accounts[bob()] = {kU64Max - 10, 0};
  expect_code(transfer(alice_, bob(), 0, 11), TxResultCode::kBalanceOverflow);
  // Exactly reaching 2^64-1 is fine.
  ExecutionOutput out = run(block_of({transfer(alice_, bob(), 0, 10)}));
  EXPECT_EQ(out.results.codes, std::vector<TxResultCode>{TxResultCode::kSuccess});
  EXPECT_EQ(out.changed.at(bob()), (Account{kU64Max, 0}));
}

TEST_F(Execution, NonceExhausted_AtTheLastNonce) {
  state_.accounts[alice()] = {100, kU64Max};
  expect_code(transfer(alice_, bob(), kU64Max, 1), TxResultCode::kNonceExhausted);
  expect_code(transfer(alice_, bob(), 0, 1), TxResultCode::kBadNonce);
}

TEST_F(Execution, WrongChainId) {
  state_.accounts[alice()] = {100, 0};
  expect_code(transfer(alice_, bob(), 0, 1, "other-chain"), TxResultCode::kWrongChainId);
}

TEST_F(Execution, BadSignature_TamperedAmount) {
  state_.accounts[alice()] = {100, 0};
  SignedTransfer tx = transfer(alice_, bob(), 0, 1);
  tx.transfer.amount = 2;
  expect_code(tx, TxResultCode::kBadSignature);
}

TEST_F(Execution, BadSignature_SignedByAnotherKey) {
  state_.accounts[alice()] = {100, 0};
  SignedTransfer tx = transfer(bob_, carol(), 0, 1);
  tx.transfer.sender = alice();
  expect_code(tx, TxResultCode::kBadSignature);
}

// The documented order: chain id, signature, nonce, nonce exhaustion, funds, overflow.
TEST_F(Execution, CheckOrder_FirstFailingCheckIsReported) {
  state_.accounts[alice()] = {10, 3};
  state_.accounts[bob()] = {kU64Max, 0};
  SignedTransfer foreign_forged = transfer(alice_, bob(), 9, 100, "other-chain");
  foreign_forged.signature.bytes[0] ^= 1;
  SignedTransfer forged_bad_nonce = transfer(alice_, bob(), 9, 100);
  forged_bad_nonce.signature.bytes[0] ^= 1;
  ExecutionOutput out = run(block_of({
      foreign_forged,                   // wrong chain beats bad signature
      forged_bad_nonce,                 // bad signature beats bad nonce
      transfer(alice_, bob(), 9, 100),  // bad nonce beats insufficient funds
      transfer(alice_, bob(), 3, 100),  // insufficient funds beats overflow
      transfer(alice_, bob(), 3, 1),    // overflow
  }));
  EXPECT_EQ(out.results.codes,
            (std::vector<TxResultCode>{TxResultCode::kWrongChainId, TxResultCode::kBadSignature,
                                       TxResultCode::kBadNonce, TxResultCode::kInsufficientFunds,
                                       TxResultCode::kBalanceOverflow}));
  expect_unchanged(out);
}

TEST_F(Execution, FailedTransactions_LeaveStateUnchanged) {
  state_.accounts[alice()] = {50, 2};
  state_.accounts[bob()] = {kU64Max - 1, 7};
  SignedTransfer forged = transfer(alice_, carol(), 2, 1);
  forged.signature.bytes[10] ^= 0x40;
  ExecutionOutput out = run(block_of({
      transfer(alice_, carol(), 1, 1),
      transfer(alice_, carol(), 2, 51),
      transfer(alice_, bob(), 2, 2),
      transfer(alice_, carol(), 2, 1, "other-chain"),
      forged,
  }));
  EXPECT_EQ(out.results.codes.size(), 5u);
  for (TxResultCode code : out.results.codes)
    EXPECT_NE(code, TxResultCode::kSuccess);
  expect_unchanged(out);
}

TEST_F(Execution, EmptyBlock_KeepsTheStateRoot) {
  state_.accounts[alice()] = {50, 2};
  ExecutionOutput out = run(block_of({}));
  EXPECT_TRUE(out.results.codes.empty());
  expect_unchanged(out);
}

TEST_F(Execution, ChainOfTransactionsFromOneSender_InOneBlock) {
  state_.accounts[alice()] = {1000, 0};
  ExecutionOutput out = run(block_of({
      transfer(alice_, bob(), 0, 100),
      transfer(alice_, bob(), 1, 200),
      transfer(alice_, carol(), 2, 300),
  }));
  EXPECT_EQ(out.results.codes, std::vector<TxResultCode>(3, TxResultCode::kSuccess));
  EXPECT_EQ(out.changed.at(alice()), (Account{400, 3}));
  EXPECT_EQ(out.changed.at(bob()), (Account{300, 0}));
  EXPECT_EQ(out.changed.at(carol()), (Account{300, 0}));
}

TEST_F(Execution, LaterTransactionsSeeEarlierOnes) {
  // Bob can only pay Carol with what Alice sent him earlier in the same block; a nonce skipped
  // ahead of its turn fails even though the missing one comes later.
  state_.accounts[alice()] = {100, 0};
  ExecutionOutput out = run(block_of({
      transfer(bob_, carol(), 0, 60),
      transfer(alice_, bob(), 1, 10),
      transfer(alice_, bob(), 0, 100),
      transfer(bob_, carol(), 0, 60),
  }));
  EXPECT_EQ(out.results.codes,
            (std::vector<TxResultCode>{TxResultCode::kInsufficientFunds, TxResultCode::kBadNonce,
                                       TxResultCode::kSuccess, TxResultCode::kSuccess}));
  EXPECT_EQ(out.changed.at(alice()), (Account{0, 1}));
  EXPECT_EQ(out.changed.at(bob()), (Account{40, 1}));
  EXPECT_EQ(out.changed.at(carol()), (Account{60, 0}));
}

TEST_F(Execution, SelfTransfer_OnlyIncrementsTheNonce) {
  state_.accounts[alice()] = {1000, 0};
  ExecutionOutput out = run(block_of({transfer(alice_, alice(), 0, 1000)}));
  EXPECT_EQ(out.results.codes, std::vector<TxResultCode>{TxResultCode::kSuccess});
  EXPECT_EQ(out.changed.size(), 1u);
  EXPECT_EQ(out.changed.at(alice()), (Account{1000, 1}));
}

TEST_F(Execution, SelfTransfer_StillNeedsTheFunds) {
  state_.accounts[alice()] = {kU64Max - 1, 0};
  expect_code(transfer(alice_, alice(), 0, kU64Max), TxResultCode::kInsufficientFunds);
}

TEST_F(Execution, DrainedAccount_StillExistsWithItsNonce) {
  state_.accounts[alice()] = {100, 0};
  ExecutionOutput out = run(block_of({transfer(alice_, bob(), 0, 100)}));
  ASSERT_EQ(out.results.codes, std::vector<TxResultCode>{TxResultCode::kSuccess});
  const Account& drained = out.changed.at(alice());
  EXPECT_EQ(drained, (Account{0, 1}));
  EXPECT_FALSE(drained.is_empty());
  // The drained account is still part of the state digest.
  StateAccumulator without_alice;
  without_alice.add(bob(), {100, 0});
  EXPECT_NE(out.accumulator, without_alice);
}

TEST_F(Execution, EveryTransactionGetsExactlyOneResult) {
  state_.accounts[alice()] = {10, 0};
  std::vector<SignedTransfer> txs;
  for (std::uint64_t nonce = 0; nonce < 20; ++nonce)
    txs.push_back(transfer(alice_, bob(), nonce % 7, 1));
  ExecutionOutput out = run(block_of(txs));
  ASSERT_EQ(out.results.codes.size(), txs.size());
  // Nonces 0..6 succeed in turn; the later runs repeat nonces already used.
  std::size_t successes = 0;
  for (TxResultCode code : out.results.codes)
    successes += code == TxResultCode::kSuccess ? 1 : 0;
  EXPECT_EQ(successes, 7u);
  EXPECT_EQ(out.changed.at(alice()), (Account{3, 7}));
}

TEST_F(Execution, Accumulator_EqualsOneRecomputedFromTheFinalState) {
  Signer dave = make_signer(4);
  state_.accounts[alice()] = {1000, 4};
  state_.accounts[bob()] = {500, 0};
  state_.accounts[carol()] = {7, 1};
  ExecutionOutput out = run(block_of({
      transfer(alice_, bob(), 4, 250),
      transfer(bob_, carol(), 0, 700),
      transfer(carol_, dave.public_key(), 1, 7),
      transfer(alice_, carol(), 5, 1),
      transfer(dave, alice(), 0, 3),
      transfer(bob_, bob(), 1, 0),
  }));
  std::map<Address, Account> final_state = state_.accounts;
  for (const auto& [address, account] : out.changed) {
    if (account.is_empty()) {
      final_state.erase(address);
    } else {
      final_state[address] = account;
    }
  }
  EXPECT_EQ(out.accumulator, accumulate(final_state));
  EXPECT_EQ(out.results.state_root, accumulate(final_state).digest());
  EXPECT_NE(out.results.state_root, accumulate(state_.accounts).digest());
  EXPECT_EQ(final_state.at(dave.public_key()), (Account{4, 1}));
  // `changed` lists only accounts whose value differs.
  for (const auto& [address, account] : out.changed) {
    auto before = state_.accounts.find(address);
    EXPECT_TRUE(before == state_.accounts.end() || before->second != account);
  }
}

TEST_F(Execution, SignatureCheck_OverrideIsHonoured) {
  state_.accounts[alice()] = {100, 0};
  SignedTransfer unsigned_tx = transfer(alice_, bob(), 0, 5);
  unsigned_tx.signature = Signature{};
  int calls = 0;
  ExecutionOutput accepted = run(block_of({unsigned_tx}), [&](const SignedTransfer& tx) {
    ++calls;
    EXPECT_EQ(tx, unsigned_tx);
    return true;
  });
  EXPECT_EQ(accepted.results.codes, std::vector<TxResultCode>{TxResultCode::kSuccess});
  EXPECT_EQ(calls, 1);

  ExecutionOutput rejected =
      run(block_of({transfer(alice_, bob(), 0, 5)}), [](const SignedTransfer&) { return false; });
  EXPECT_EQ(rejected.results.codes, std::vector<TxResultCode>{TxResultCode::kBadSignature});
  expect_unchanged(rejected);
}

TEST_F(Execution, ReaderError_Propagates) {
  FailingReader failing;
  Block block = block_of({transfer(alice_, bob(), 0, 5)});
  auto out = execute_block(block, failing, StateAccumulator{});
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), StatusCode::kIoError);
  EXPECT_NE(out.status().message().find("disk read failed"), std::string::npos);
}

TEST_F(Execution, StatelessFailures_DoNotReadState) {
  SignedTransfer forged = transfer(alice_, bob(), 0, 5);
  forged.signature.bytes[0] ^= 1;
  Block block = block_of({transfer(alice_, bob(), 0, 5, "other-chain"), forged});
  FailingReader failing;
  auto out = execute_block(block, failing, StateAccumulator{});
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(out->results.codes,
            (std::vector<TxResultCode>{TxResultCode::kWrongChainId, TxResultCode::kBadSignature}));
}

TEST_F(Execution, EachAccountIsReadOnce) {
  state_.accounts[alice()] = {1000, 0};
  run(block_of({
      transfer(alice_, bob(), 0, 1),
      transfer(alice_, bob(), 1, 1),
      transfer(bob_, alice(), 0, 1),
  }));
  EXPECT_EQ(state_.reads, 2);
}

}  // namespace
}  // namespace ledger
