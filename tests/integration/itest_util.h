// Helpers the subscribe, durability and ledgerctl integration tests share, over a stub of their
// own: a test that kills and restarts a DevNode must not use DevNode::stub() from another
// thread, because a restart replaces it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ledger/core/transaction.h"
#include "ledger/v1/ledger.grpc.pb.h"

namespace ledger::itest {

// A stub on a fresh channel to `address` (host:port). Thread-safe to use from one thread while
// other threads use their own.
std::unique_ptr<ledger::v1::Ledger::Stub> connect(const std::string& address);

// The calls below carry a 10 s deadline unless given one.
grpc::Status get_block(ledger::v1::Ledger::Stub& stub, std::uint64_t height,
                       ledger::v1::Block* block);
grpc::Status get_transaction(ledger::v1::Ledger::Stub& stub, const std::string& tx_hash,
                             ledger::v1::GetTransactionResponse* response);
grpc::Status get_account(ledger::v1::Ledger::Stub& stub, const Address& address,
                         ledger::v1::GetAccountResponse* response);
grpc::Status submit(ledger::v1::Ledger::Stub& stub, const SignedTransfer& tx, bool wait_for_commit,
                    ledger::v1::SubmitTransactionResponse* response,
                    std::chrono::milliseconds deadline = std::chrono::seconds(10));

// The ids of the blocks at heights 0..`to_height`; a gtest failure (and an empty id) for a
// height that GetBlock does not answer.
std::vector<std::string> block_ids(ledger::v1::Ledger::Stub& stub, std::uint64_t to_height);

std::string hash_hex(const SignedTransfer& tx);

}  // namespace ledger::itest
