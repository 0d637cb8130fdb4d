// A full node (a key that is not a genesis validator) next to a 4-validator testnet: it follows
// the chain by block sync with the validators' block ids, says validator=false, and a transfer
// submitted to it is gossiped to the validators, committed, and seen committed on both sides.
#include <gtest/gtest.h>

#include "itest_util.h"
#include "testnet_harness.h"

namespace ledger::itest {
namespace {

TEST(FullNode, FollowsTheChainAndRelaysTransactions) {
  TestnetOptions options;
  options.config["p2p.accept_unknown_peers"] = "true";
  Testnet net(options);
  ASSERT_TRUE(net.start());
  const auto validators = net.validators();
  ASSERT_TRUE(wait_for_heights(validators, 20, 30s));

  TestnetNode& full = net.add_full_node();
  ASSERT_TRUE(full.start());
  EXPECT_NE(full.log().find("is not a genesis validator: running as a full node"),
            std::string::npos)
      << full.log_tail();
  const auto status = full.status();
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(status->validator());
  EXPECT_EQ(status->chain_id(), net.chain_id());
  EXPECT_TRUE(poll_until(
      [&] {
        const auto s = full.status();
        return s && s->peer_count() == validators.size();
      },
      10s))
      << "peer_count " << full.status().value_or(ledger::v1::GetStatusResponse{}).peer_count();

  const auto target = max_height(validators);
  ASSERT_TRUE(target.has_value());
  ASSERT_TRUE(full.wait_for_height(*target, 30s))
      << describe_heights(validators) << ", " << full.name() << "=" << full.height().value_or(0)
      << ", target " << *target;
  std::vector<TestnetNode*> everyone = validators;
  everyone.push_back(&full);
  EXPECT_TRUE(same_blocks(everyone));
  EXPECT_NE(full.log().find("sync: committed "), std::string::npos) << full.log_tail();

  // Submitted to the full node, which takes no part in consensus: gossiped, committed by the
  // validators, and synced back.
  const Signer recipient = random_signer();
  const SignedTransfer tx = net.transfer(net.faucet(), 0, recipient.public_key(), 4242);
  const std::string hash = hash_hex(tx);
  ledger::v1::SubmitTransactionResponse response;
  const grpc::Status submitted = submit(full.stub(), tx, /*wait_for_commit=*/true, &response, 30s);
  ASSERT_TRUE(submitted.ok()) << submitted.error_message();
  ASSERT_EQ(response.status(), ledger::v1::TX_STATUS_COMMITTED) << response.DebugString();
  EXPECT_EQ(response.result(), ledger::v1::TX_RESULT_SUCCESS);

  for (TestnetNode* node : everyone) {
    ledger::v1::GetTransactionResponse found;
    const bool committed = poll_until(
        [&] {
          return get_transaction(node->stub(), hash, &found).ok() &&
                 found.status() == ledger::v1::TX_STATUS_COMMITTED;
        },
        30s);
    ASSERT_TRUE(committed) << node->name() << " never reports " << hash << " committed";
    EXPECT_EQ(found.height(), response.height()) << node->name();
    EXPECT_EQ(found.index(), response.index()) << node->name();
    ledger::v1::GetAccountResponse account;
    ASSERT_TRUE(wait_for_heights({node}, response.height(), 30s));
    ASSERT_TRUE(get_account(node->stub(), recipient.public_key(), &account).ok());
    EXPECT_EQ(account.balance(), 4242u) << node->name();
  }
  EXPECT_TRUE(same_blocks(everyone));
}

}  // namespace
}  // namespace ledger::itest
