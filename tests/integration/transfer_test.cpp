// A transfer on a real single-validator dev chain: admitted, committed, both balances change.
#include <gtest/gtest.h>

#include "harness.h"
#include "ledger/core/bytes.h"

namespace ledger::itest {
namespace {

TEST(DevChain, TransferCommitsAndBothBalancesChange) {
  DevNode node;
  node.start();
  const Signer recipient = random_signer();
  const auto before = node.account(node.dev().public_key());
  ASSERT_GT(before.balance(), 1000u);
  EXPECT_EQ(before.nonce(), 0u);

  ledger::v1::SubmitTransactionResponse response;
  const auto tx = node.transfer(node.dev(), 0, recipient.public_key(), 1000, "hello");
  const auto status = node.submit(tx, /*wait_for_commit=*/true, &response);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << node.log();
  EXPECT_EQ(response.status(), ledger::v1::TX_STATUS_COMMITTED);
  EXPECT_EQ(response.result(), ledger::v1::TX_RESULT_SUCCESS);
  EXPECT_EQ(response.tx_hash(), to_hex(transaction_hash(tx).bytes));
  EXPECT_GE(response.height(), 1u);

  const auto sender_after = node.account(node.dev().public_key());
  const auto recipient_after = node.account(recipient.public_key());
  EXPECT_EQ(sender_after.balance(), before.balance() - 1000);
  EXPECT_EQ(sender_after.nonce(), 1u);
  EXPECT_EQ(recipient_after.balance(), 1000u);
  EXPECT_GE(sender_after.height(), response.height());
  EXPECT_EQ(node.stop(), 0) << node.log();
}

}  // namespace
}  // namespace ledger::itest
