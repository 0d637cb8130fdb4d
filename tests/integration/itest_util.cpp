#include "itest_util.h"

#include <gtest/gtest.h>

#include "ledger/core/bytes.h"

namespace ledger::itest {
namespace {

void set_deadline(grpc::ClientContext& context, std::chrono::milliseconds deadline) {
  context.set_deadline(std::chrono::system_clock::now() + deadline);
}

constexpr std::chrono::seconds kCallDeadline{10};

}  // namespace

std::unique_ptr<ledger::v1::Ledger::Stub> connect(const std::string& address) {
  return ledger::v1::Ledger::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

grpc::Status get_block(ledger::v1::Ledger::Stub& stub, std::uint64_t height,
                       ledger::v1::Block* block) {
  grpc::ClientContext context;
  set_deadline(context, kCallDeadline);
  ledger::v1::GetBlockRequest request;
  request.set_height(height);
  ledger::v1::GetBlockResponse response;
  const grpc::Status status = stub.GetBlock(&context, request, &response);
  if (status.ok()) *block = response.block();
  return status;
}

grpc::Status get_transaction(ledger::v1::Ledger::Stub& stub, const std::string& tx_hash,
                             ledger::v1::GetTransactionResponse* response) {
  grpc::ClientContext context;
  set_deadline(context, kCallDeadline);
  ledger::v1::GetTransactionRequest request;
  request.set_tx_hash(tx_hash);
  return stub.GetTransaction(&context, request, response);
}

grpc::Status get_account(ledger::v1::Ledger::Stub& stub, const Address& address,
                         ledger::v1::GetAccountResponse* response) {
  grpc::ClientContext context;
  set_deadline(context, kCallDeadline);
  ledger::v1::GetAccountRequest request;
  request.set_address(address.hex());
  return stub.GetAccount(&context, request, response);
}

grpc::Status submit(ledger::v1::Ledger::Stub& stub, const SignedTransfer& tx, bool wait_for_commit,
                    ledger::v1::SubmitTransactionResponse* response,
                    std::chrono::milliseconds deadline) {
  grpc::ClientContext context;
  set_deadline(context, deadline);
  ledger::v1::SubmitTransactionRequest request;
  const Bytes wire = encode_transaction(tx);
  request.set_transaction(std::string(wire.begin(), wire.end()));
  request.set_wait_for_commit(wait_for_commit);
  return stub.SubmitTransaction(&context, request, response);
}

std::vector<std::string> block_ids(ledger::v1::Ledger::Stub& stub, std::uint64_t to_height) {
  std::vector<std::string> ids;
  for (std::uint64_t height = 0; height <= to_height; ++height) {
    ledger::v1::Block block;
    const grpc::Status status = get_block(stub, height, &block);
    EXPECT_TRUE(status.ok()) << "GetBlock " << height << ": " << status.error_message();
    ids.push_back(status.ok() ? block.id() : std::string());
  }
  return ids;
}

std::string hash_hex(const SignedTransfer& tx) {
  return transaction_hash(tx).hex();
}

}  // namespace ledger::itest
