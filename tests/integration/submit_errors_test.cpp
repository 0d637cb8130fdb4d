// What a client gets back when the node refuses a submission or a query (docs/api.md, "Error
// codes"; docs/mempool.md, "Admission"): the exact gRPC code, a message a person can act on,
// and a node that keeps committing, with nothing of the refused transaction in the chain.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "harness.h"
#include "itest_util.h"
#include "ledger/core/bytes.h"

namespace ledger::itest {
namespace {

using grpc::StatusCode;
using Config = std::map<std::string, std::string>;

std::string wire(const SignedTransfer& tx) {
  const Bytes bytes = encode_transaction(tx);
  return std::string(bytes.begin(), bytes.end());
}

// The hash a node gives the transaction with these wire bytes (they must decode).
std::string wire_hash_hex(const std::string& bytes) {
  auto tx = decode_transaction(as_bytes(bytes));
  EXPECT_TRUE(tx.is_ok()) << tx.status().to_string();
  return tx.is_ok() ? hash_hex(*tx) : std::string();
}

// `status` has `code` and a message containing every one of `parts`.
::testing::AssertionResult has_status(const grpc::Status& status, StatusCode code,
                                      std::initializer_list<std::string> parts) {
  if (status.error_code() != code) {
    return ::testing::AssertionFailure() << "code " << status.error_code() << " (expected " << code
                                         << "), message: " << status.error_message();
  }
  for (const std::string& part : parts) {
    if (status.error_message().find(part) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "message \"" << status.error_message() << "\" lacks \"" << part << "\"";
    }
  }
  return ::testing::AssertionSuccess();
}

ledger::v1::GetStatusResponse node_status(DevNode& node) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  ledger::v1::GetStatusResponse response;
  const auto status = node.stub().GetStatus(&context, {}, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

// The node has no trace of the transaction: neither pending nor committed.
void expect_unknown(DevNode& node, const std::string& tx_hash) {
  ledger::v1::GetTransactionResponse response;
  const auto status = get_transaction(node.stub(), tx_hash, &response);
  EXPECT_TRUE(has_status(status, StatusCode::NOT_FOUND, {tx_hash})) << "transaction " << tx_hash;
}

// Submits `tx` with wait_for_commit and expects it committed successfully: the node still
// admits and commits after whatever it refused before.
void expect_commits(DevNode& node, const SignedTransfer& tx) {
  ledger::v1::SubmitTransactionResponse response;
  const auto status = node.submit(tx, /*wait_for_commit=*/true, &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message() << "\n"
                           << node.log();
  EXPECT_EQ(response.status(), ledger::v1::TX_STATUS_COMMITTED);
  EXPECT_EQ(response.result(), ledger::v1::TX_RESULT_SUCCESS);
}

// Polls GetTransaction until `tx_hash` is committed; false on timeout.
bool wait_committed(DevNode& node, const std::string& tx_hash) {
  return poll_until(
      [&] {
        ledger::v1::GetTransactionResponse response;
        return get_transaction(node.stub(), tx_hash, &response).ok() &&
               response.status() == ledger::v1::TX_STATUS_COMMITTED;
      },
      20s);
}

// A fresh key holding `amount`, paid by the dev account at `dev_nonce`.
Signer funded_signer(DevNode& node, std::uint64_t dev_nonce, std::uint64_t amount) {
  Signer signer = random_signer();
  expect_commits(node, node.transfer(node.dev(), dev_nonce, signer.public_key(), amount));
  return signer;
}

SignedTransfer transfer_on_chain(const std::string& chain_id, const Signer& from,
                                 std::uint64_t nonce, const Address& to, std::uint64_t amount) {
  Transfer t;
  t.chain_id = chain_id;
  t.sender = from.public_key();
  t.nonce = nonce;
  t.recipient = to;
  t.amount = amount;
  return sign_transfer(t, from);
}

// Sets consensus.transaction_bytes_max in the genesis of a node that has not started yet.
void set_genesis_transaction_bytes_max(DevNode& node, std::uint64_t bytes) {
  const auto path = node.home() / "genesis.json";
  nlohmann::json genesis;
  {
    std::ifstream in(path);
    ASSERT_TRUE(in) << "cannot read " << path;
    in >> genesis;
  }
  genesis["consensus"]["transaction_bytes_max"] = bytes;
  std::ofstream(path, std::ios::trunc) << genesis.dump(2);
}

// A unary call to `method` whose request message is `body` as it is, which need not be a valid
// protobuf encoding.
grpc::Status raw_unary_call(const std::string& address, const std::string& method,
                            const std::string& body) {
  grpc::GenericStub stub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  grpc::Slice slice(body);
  const grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

TEST(SubmitErrors, InsufficientFunds_FailedPreconditionNamingAmountAndBalance) {
  DevNode node;
  node.start();
  // An account that never received anything has balance 0.
  const Signer unfunded = random_signer();
  const auto from_unfunded = node.transfer(unfunded, 0, node.dev().public_key(), 1);
  auto status = node.submit(from_unfunded, /*wait_for_commit=*/false);
  EXPECT_TRUE(
      has_status(status, StatusCode::FAILED_PRECONDITION,
                 {"insufficient funds: amount 1 exceeds balance 0", hash_hex(from_unfunded)}));

  // A funded account sending one unit more than it holds.
  const Signer funded = funded_signer(node, 0, 1000);
  const auto too_much = node.transfer(funded, 0, node.dev().public_key(), 1001);
  status = node.submit(too_much, /*wait_for_commit=*/false);
  EXPECT_TRUE(has_status(status, StatusCode::FAILED_PRECONDITION,
                         {"insufficient funds: amount 1001 exceeds balance 1000"}));

  expect_unknown(node, hash_hex(from_unfunded));
  expect_unknown(node, hash_hex(too_much));
  // The refusal used up nothing: the same nonce with an affordable amount commits.
  expect_commits(node, node.transfer(funded, 0, node.dev().public_key(), 1000));
  EXPECT_EQ(node.account(funded.public_key()).balance(), 0u);
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, NonceBelowCommitted_FailedPrecondition) {
  DevNode node;
  node.start();
  const Signer recipient = random_signer();
  expect_commits(node, node.transfer(node.dev(), 0, recipient.public_key(), 10));
  // Nonce 0 again, with another amount (another hash, so not a duplicate).
  const auto reused = node.transfer(node.dev(), 0, recipient.public_key(), 11);
  const auto status = node.submit(reused, /*wait_for_commit=*/false);
  EXPECT_TRUE(has_status(status, StatusCode::FAILED_PRECONDITION,
                         {"nonce 0 is below the account's next nonce 1", hash_hex(reused)}));
  expect_unknown(node, hash_hex(reused));
  expect_commits(node, node.transfer(node.dev(), 1, recipient.public_key(), 11));
  EXPECT_EQ(node.account(recipient.public_key()).balance(), 21u);
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, NonceBeyondWindow_FailedPreconditionNamingTheWindow) {
  DevNode node(Config{{"mempool.nonce_window", "10"}});
  node.start();
  const Signer recipient = random_signer();
  // next nonce 0, window 10: nonces 0..9 are admitted, 10 is not.
  const auto beyond = node.transfer(node.dev(), 10, recipient.public_key(), 1);
  const auto status = node.submit(beyond, /*wait_for_commit=*/false);
  EXPECT_TRUE(has_status(
      status, StatusCode::FAILED_PRECONDITION,
      {"nonce 10 is beyond the admission window (next nonce 0, window 10)", hash_hex(beyond)}));
  const auto last_inside = node.transfer(node.dev(), 9, recipient.public_key(), 1);
  EXPECT_TRUE(node.submit(last_inside, /*wait_for_commit=*/false).ok());

  expect_unknown(node, hash_hex(beyond));
  expect_commits(node, node.transfer(node.dev(), 0, recipient.public_key(), 1));
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, FlippedSignatureByte_InvalidArgumentNamingTheSender) {
  DevNode node;
  node.start();
  const Signer recipient = random_signer();
  const auto tx = node.transfer(node.dev(), 0, recipient.public_key(), 5);
  std::string bytes = wire(tx);
  bytes[bytes.size() - 10] = static_cast<char>(bytes[bytes.size() - 10] ^ 0x01);
  const std::string forged_hash = wire_hash_hex(bytes);

  ledger::v1::SubmitTransactionResponse response;
  const auto status = node.submit_raw(bytes, &response);
  EXPECT_TRUE(has_status(status, StatusCode::INVALID_ARGUMENT,
                         {"invalid signature", forged_hash, node.dev().public_key().hex()}));
  expect_unknown(node, forged_hash);
  expect_commits(node, tx);
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, OtherChainId_InvalidArgumentNamingBothChains) {
  DevNode node;
  node.start();
  const Signer recipient = random_signer();
  const auto tx = transfer_on_chain("ledger-other", node.dev(), 0, recipient.public_key(), 5);
  const auto status = node.submit(tx, /*wait_for_commit=*/false);
  EXPECT_TRUE(
      has_status(status, StatusCode::INVALID_ARGUMENT,
                 {"wrong chain id \"ledger-other\", this node runs \"ledger-dev\"", hash_hex(tx)}));
  expect_unknown(node, hash_hex(tx));
  expect_commits(node, node.transfer(node.dev(), 0, recipient.public_key(), 5));
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, MalformedTransactionBytes_InvalidArgumentSayingWhatIsWrong) {
  DevNode node;
  node.start();
  const Signer recipient = random_signer();
  ledger::v1::SubmitTransactionResponse response;

  auto status = node.submit_raw("this is not a transaction", &response);
  EXPECT_TRUE(has_status(status, StatusCode::INVALID_ARGUMENT, {"malformed transaction: "}));
  status = node.submit_raw("", &response);
  EXPECT_TRUE(has_status(status, StatusCode::INVALID_ARGUMENT,
                         {"malformed transaction: no bytes", "transaction-format.md"}));

  const auto tx = node.transfer(node.dev(), 0, recipient.public_key(), 5);
  const std::string good = wire(tx);
  status = node.submit_raw(good.substr(0, good.size() - 1), &response);
  EXPECT_TRUE(has_status(status, StatusCode::INVALID_ARGUMENT, {"malformed transaction: "}));
  status = node.submit_raw(good + '\0', &response);
  EXPECT_TRUE(has_status(status, StatusCode::INVALID_ARGUMENT, {"malformed transaction: "}));

  expect_commits(node, tx);
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, RequestNotAProtobufMessage_InvalidArgument) {
  DevNode node;
  node.start();
  // 0xff 0xff ...: a field key whose varint never ends, which no protobuf parser accepts.
  const auto status =
      raw_unary_call(node.address(), "/ledger.v1.Ledger/SubmitTransaction", std::string(8, '\xff'));
  EXPECT_TRUE(has_status(status, StatusCode::INVALID_ARGUMENT,
                         {"/ledger.v1.Ledger/SubmitTransaction", "not a valid protobuf"}));
  const auto query = raw_unary_call(node.address(), "/ledger.v1.Ledger/GetAccount", "\x0a\xff");
  EXPECT_TRUE(has_status(query, StatusCode::INVALID_ARGUMENT,
                         {"/ledger.v1.Ledger/GetAccount", "not a valid protobuf"}));
  // A well-formed request through the same generic path still reaches the service.
  ledger::v1::GetAccountRequest request;
  request.set_address("abc");
  EXPECT_TRUE(has_status(
      raw_unary_call(node.address(), "/ledger.v1.Ledger/GetAccount", request.SerializeAsString()),
      StatusCode::INVALID_ARGUMENT, {"address must be 64 hex characters"}));
  EXPECT_EQ(node_status(node).mempool_size(), 0u);
  const std::uint64_t height = node.height();
  EXPECT_TRUE(node.wait_for_height(height + 1, 10s)) << node.log();
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, TransactionAboveGenesisSizeLimit_InvalidArgumentNamingTheLimit) {
  DevNode node;
  set_genesis_transaction_bytes_max(node, 200);
  node.start();
  const Signer recipient = random_signer();
  // 175 bytes without memo on chain "ledger-dev"; a 100-byte memo makes 275.
  const auto big = node.transfer(node.dev(), 0, recipient.public_key(), 5, std::string(100, 'm'));
  ASSERT_EQ(wire(big).size(), 275u);
  auto status = node.submit(big, /*wait_for_commit=*/false);
  EXPECT_TRUE(has_status(status, StatusCode::INVALID_ARGUMENT,
                         {"transaction is 275 bytes, above the limit of 200",
                          "consensus.transaction_bytes_max", hash_hex(big)}));
  expect_unknown(node, hash_hex(big));

  // Above the largest transfer any chain allows: refused by the decoder.
  ledger::v1::SubmitTransactionResponse response;
  status = node.submit_raw(std::string(kTransferBytesMax + 1, 'x'), &response);
  EXPECT_TRUE(has_status(
      status, StatusCode::INVALID_ARGUMENT,
      {"malformed transaction: transaction is 472 bytes", "no valid transfer exceeds 471"}));

  expect_commits(node, node.transfer(node.dev(), 0, recipient.public_key(), 5, "small"));
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, RequestAboveMessageBytesMax_ResourceExhaustedFromGrpc) {
  DevNode node(Config{{"rpc.message_bytes_max", "4096"}});
  node.start();
  ledger::v1::SubmitTransactionResponse response;
  const auto status = node.submit_raw(std::string(5000, 'x'), &response);
  // gRPC refuses the message before the service sees it; its message gives both sizes.
  EXPECT_TRUE(has_status(status, StatusCode::RESOURCE_EXHAUSTED, {"larger than max", "4096"}));

  const Signer recipient = random_signer();
  expect_commits(node, node.transfer(node.dev(), 0, recipient.public_key(), 5));
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, DuplicateWhilePending_AlreadyExists) {
  DevNode node;
  node.start();
  const Signer recipient = random_signer();
  // Nonce 1 behind a gap at 0 stays pending until nonce 0 arrives.
  const auto pending = node.transfer(node.dev(), 1, recipient.public_key(), 5);
  ASSERT_TRUE(node.submit(pending, /*wait_for_commit=*/false).ok());
  auto status = node.submit(pending, /*wait_for_commit=*/false);
  EXPECT_TRUE(has_status(status, StatusCode::ALREADY_EXISTS,
                         {"transaction " + hash_hex(pending) + " is already pending"}));

  // Another transaction at the same (sender, nonce) is refused, naming the pending one.
  const auto same_slot = node.transfer(node.dev(), 1, recipient.public_key(), 6);
  status = node.submit(same_slot, /*wait_for_commit=*/false);
  EXPECT_TRUE(has_status(status, StatusCode::ALREADY_EXISTS,
                         {"already has transaction " + hash_hex(pending) + " pending at nonce 1",
                          hash_hex(same_slot)}));
  EXPECT_EQ(node_status(node).mempool_size(), 1u);

  expect_commits(node, node.transfer(node.dev(), 0, recipient.public_key(), 5));
  EXPECT_TRUE(wait_committed(node, hash_hex(pending))) << node.log();
  expect_unknown(node, hash_hex(same_slot));
  EXPECT_EQ(node.account(recipient.public_key()).balance(), 10u);
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, DuplicateAfterCommit_AlreadyExists) {
  DevNode node;
  node.start();
  const Signer recipient = random_signer();
  const auto tx = node.transfer(node.dev(), 0, recipient.public_key(), 5);
  expect_commits(node, tx);
  const auto status = node.submit(tx, /*wait_for_commit=*/false);
  EXPECT_TRUE(has_status(status, StatusCode::ALREADY_EXISTS,
                         {"transaction " + hash_hex(tx) + " is already committed"}));
  EXPECT_EQ(node.account(recipient.public_key()).balance(), 5u);
  expect_commits(node, node.transfer(node.dev(), 1, recipient.public_key(), 5));
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, MempoolFull_ResourceExhaustedUntilTransactionsLeave) {
  // ttl_blocks 3: the unselectable transactions below leave after a few blocks.
  DevNode node({{"mempool.txs_max", "3"}, {"mempool.ttl_blocks", "3"}});
  node.start();
  const Signer recipient = random_signer();
  // Nonces 1..3 behind a gap at 0: admitted, never selected.
  for (std::uint64_t nonce = 1; nonce <= 3; ++nonce) {
    const auto status =
        node.submit(node.transfer(node.dev(), nonce, recipient.public_key(), 1), false);
    ASSERT_TRUE(status.ok()) << "nonce " << nonce << ": " << status.error_message();
  }
  const auto refused = node.transfer(node.dev(), 4, recipient.public_key(), 1);
  auto status = node.submit(refused, /*wait_for_commit=*/false);
  EXPECT_TRUE(has_status(status, StatusCode::RESOURCE_EXHAUSTED,
                         {"mempool full: 3 transactions (mempool.txs_max)", hash_hex(refused)}));
  const auto gap_filler = node.transfer(node.dev(), 0, recipient.public_key(), 1);
  status = node.submit(gap_filler, /*wait_for_commit=*/false);
  EXPECT_TRUE(has_status(status, StatusCode::RESOURCE_EXHAUSTED, {"mempool full"}));
  expect_unknown(node, hash_hex(refused));

  // Full is temporary: once the stuck transactions expire, the next one is admitted.
  EXPECT_TRUE(poll_until([&] { return node_status(node).mempool_size() == 0; }, 20s)) << node.log();
  expect_commits(node, gap_filler);
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, SenderPendingLimit_ResourceExhaustedForThatSenderOnly) {
  DevNode node(Config{{"mempool.per_sender_max", "2"}});
  node.start();
  const Signer recipient = random_signer();
  const Signer sender = funded_signer(node, 0, 100);
  // Nonces 1 and 2 behind a gap at 0.
  for (std::uint64_t nonce = 1; nonce <= 2; ++nonce) {
    const auto status = node.submit(node.transfer(sender, nonce, recipient.public_key(), 1), false);
    ASSERT_TRUE(status.ok()) << "nonce " << nonce << ": " << status.error_message();
  }
  const auto refused = node.transfer(sender, 3, recipient.public_key(), 1);
  const auto status = node.submit(refused, /*wait_for_commit=*/false);
  EXPECT_TRUE(has_status(status, StatusCode::RESOURCE_EXHAUSTED,
                         {"sender " + sender.public_key().hex() +
                              " has 2 pending transactions (mempool.per_sender_max)",
                          hash_hex(refused)}));
  expect_unknown(node, hash_hex(refused));

  // Other senders are not limited by it.
  expect_commits(node, node.transfer(node.dev(), 1, recipient.public_key(), 1));
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, GetAccountBadAddress_InvalidArgumentNamingTheProblem) {
  DevNode node;
  node.start();
  auto get_account = [&](const std::string& address) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    ledger::v1::GetAccountRequest request;
    request.set_address(address);
    ledger::v1::GetAccountResponse response;
    return node.stub().GetAccount(&context, request, &response);
  };
  const std::string dev = node.dev().public_key().hex();
  EXPECT_TRUE(has_status(get_account("abc"), StatusCode::INVALID_ARGUMENT,
                         {"address must be 64 hex characters (got 3)"}));
  EXPECT_TRUE(has_status(get_account("0x" + dev), StatusCode::INVALID_ARGUMENT,
                         {"leave out the 0x prefix"}));
  std::string upper = dev;
  upper[0] = 'A';
  EXPECT_TRUE(has_status(get_account(upper), StatusCode::INVALID_ARGUMENT,
                         {"address must be lowercase hex ('A' at position 0)"}));
  const std::string not_a_key = std::string(63, '0') + "5";
  EXPECT_TRUE(has_status(get_account(not_a_key), StatusCode::INVALID_ARGUMENT,
                         {"is not a valid account address"}));
  EXPECT_TRUE(get_account(dev).ok());
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, UnknownTransactionOrBlock_NotFound) {
  DevNode node;
  node.start();
  const std::string unknown_hash(64, 'a');
  expect_unknown(node, unknown_hash);
  ledger::v1::GetTransactionResponse tx_response;
  EXPECT_TRUE(has_status(get_transaction(node.stub(), "ab", &tx_response),
                         StatusCode::INVALID_ARGUMENT, {"tx_hash must be 64 hex characters"}));

  auto get_block = [&](const ledger::v1::GetBlockRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    ledger::v1::GetBlockResponse response;
    return node.stub().GetBlock(&context, request, &response);
  };
  ledger::v1::GetBlockRequest by_height;
  by_height.set_height(1'000'000);
  EXPECT_TRUE(has_status(get_block(by_height), StatusCode::NOT_FOUND,
                         {"no block at height 1000000 (latest is "}));
  ledger::v1::GetBlockRequest by_id;
  by_id.set_id(unknown_hash);
  EXPECT_TRUE(has_status(get_block(by_id), StatusCode::NOT_FOUND,
                         {"no committed block with id " + unknown_hash}));
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, WaitForCommitPastDeadline_DeadlineExceededAndStaysPending) {
  DevNode node;
  node.start();
  const Signer recipient = random_signer();
  // Nonce 1 behind a gap at 0 cannot commit.
  const auto stuck = node.transfer(node.dev(), 1, recipient.public_key(), 5);
  const auto started = std::chrono::steady_clock::now();
  const auto status = node.submit(stuck, /*wait_for_commit=*/true, nullptr, 1500ms);
  EXPECT_TRUE(has_status(status, StatusCode::DEADLINE_EXCEEDED,
                         {"transaction " + hash_hex(stuck) +
                          " admitted but not committed before the deadline; it is still pending"}));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);

  ledger::v1::GetTransactionResponse response;
  ASSERT_TRUE(get_transaction(node.stub(), hash_hex(stuck), &response).ok());
  EXPECT_EQ(response.status(), ledger::v1::TX_STATUS_PENDING);
  // Filling the gap lets both commit.
  expect_commits(node, node.transfer(node.dev(), 0, recipient.public_key(), 5));
  EXPECT_TRUE(wait_committed(node, hash_hex(stuck))) << node.log();
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(SubmitErrors, SubmitTransactionsBatch_OneResultPerTransaction) {
  DevNode node(Config{{"rpc.submit_batch_max", "6"}});
  node.start();
  const Signer recipient = random_signer();
  const auto good = node.transfer(node.dev(), 0, recipient.public_key(), 5);
  std::string forged = wire(node.transfer(node.dev(), 1, recipient.public_key(), 5));
  forged[forged.size() - 1] = static_cast<char>(forged[forged.size() - 1] ^ 0x01);
  const Signer unfunded = random_signer();
  const auto poor = node.transfer(unfunded, 0, recipient.public_key(), 1);
  const auto other_chain =
      transfer_on_chain("ledger-other", node.dev(), 1, recipient.public_key(), 5);

  ledger::v1::SubmitTransactionsRequest request;
  request.add_transactions(wire(good));
  request.add_transactions("garbage");
  request.add_transactions(forged);
  request.add_transactions(wire(poor));
  request.add_transactions(wire(good));  // the same bytes again
  request.add_transactions(wire(other_chain));
  ledger::v1::SubmitTransactionsResponse response;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    const auto status = node.stub().SubmitTransactions(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(response.results_size(), 6);
  const auto& results = response.results();
  EXPECT_EQ(results[0].code(), 0);
  EXPECT_EQ(results[0].tx_hash(), hash_hex(good));
  EXPECT_EQ(results[0].message(), "");
  EXPECT_EQ(results[1].code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(results[1].tx_hash(), "");
  EXPECT_EQ(results[1].message().rfind("malformed transaction: ", 0), 0u) << results[1].message();
  EXPECT_EQ(results[2].code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(results[2].tx_hash(), wire_hash_hex(forged));
  EXPECT_NE(results[2].message().find("invalid signature"), std::string::npos);
  EXPECT_EQ(results[3].code(), StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(results[3].tx_hash(), hash_hex(poor));
  EXPECT_NE(results[3].message().find("insufficient funds"), std::string::npos);
  // Pending, or already committed if a block took it within the call.
  EXPECT_EQ(results[4].code(), StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(results[4].tx_hash(), hash_hex(good));
  EXPECT_NE(results[4].message().find("transaction " + hash_hex(good) + " is already"),
            std::string::npos);
  EXPECT_EQ(results[5].code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(results[5].tx_hash(), hash_hex(other_chain));
  EXPECT_NE(results[5].message().find("wrong chain id"), std::string::npos);

  EXPECT_TRUE(wait_committed(node, hash_hex(good))) << node.log();
  expect_unknown(node, wire_hash_hex(forged));
  expect_unknown(node, hash_hex(poor));
  expect_unknown(node, hash_hex(other_chain));

  // One more than submit_batch_max: the whole call is refused and nothing is admitted.
  const auto next = node.transfer(node.dev(), 1, recipient.public_key(), 5);
  request.Clear();
  for (int i = 0; i < 7; ++i)
    request.add_transactions(wire(next));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  response.Clear();
  EXPECT_TRUE(has_status(node.stub().SubmitTransactions(&context, request, &response),
                         StatusCode::INVALID_ARGUMENT,
                         {"at most 6 transactions per call (rpc submit_batch_max); got 7"}));
  expect_unknown(node, hash_hex(next));
  EXPECT_EQ(node.stop(), 0) << node.log();
}

}  // namespace
}  // namespace ledger::itest
