// Conversions between core types and ledger.v1 messages (rpc/proto/ledger/v1/ledger.proto), and
// the parsing of what clients send: hex addresses and hashes, and transaction wire bytes.
//
// Every parse failure is kInvalidArgument with a message that names the request field and says
// what was wrong, e.g. "address must be 64 hex characters (got 12)". The *_to_proto functions
// write into a message the caller owns and never fail on client input; block_to_proto checks
// the one thing a corrupt store could get wrong.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ledger/core/block.h"
#include "ledger/core/certificates.h"
#include "ledger/core/hash.h"
#include "ledger/core/keys.h"
#include "ledger/core/state.h"
#include "ledger/core/status.h"
#include "ledger/core/transaction.h"
#include "ledger/core/validators.h"
#include "ledger/rpc/node_api.h"
#include "ledger/v1/ledger.pb.h"

namespace ledger::rpc {

// ---- From requests ----

// A 32-byte hash (transaction hash, block id): exactly 64 lowercase hex characters. `field` is
// the request field's name, used in the message: "tx_hash must be 64 hex characters (got 12)",
// "tx_hash must be lowercase hex ('A' at position 0)", "id must be hex ('g' at position 5 is
// not 0-9 or a-f)". A "0x" prefix is pointed out rather than silently accepted.
StatusOr<Hash> parse_hash_hex(std::string_view field, std::string_view hex);

// An account address: as parse_hash_hex, and the 32 bytes must be a valid x-only secp256k1
// key ("address <hex> is not a valid account address (not an x-only secp256k1 public key)").
StatusOr<Address> parse_address_hex(std::string_view field, std::string_view hex);

// Decodes canonical transaction wire bytes (docs/transaction-format.md) with the core's strict
// decoder. Errors: "malformed transaction: <what the decoder found>". The signature is not
// checked here (NodeApi::submit does that).
StatusOr<SignedTransfer> parse_transaction(std::string_view wire_bytes);

// ---- To responses ----

// Same numbers on both sides (static_asserted in convert.cpp).
v1::TxResult tx_result_to_proto(TxResultCode code);

// All fields, including hash (transaction_hash) and raw (encode_transaction).
void transaction_to_proto(const SignedTransfer& tx, v1::Transaction& out);

// A QC names the block it certifies by id and round only; `certified_height` is that block's
// height, which the caller knows from context (the block for a commit certificate, the parent
// for a header's parent QC).
void quorum_cert_to_proto(const QuorumCert& qc, std::uint64_t certified_height,
                          v1::QuorumCert& out);

void header_to_proto(const BlockHeader& header, v1::BlockHeader& out);

// The height of the block that `view.commit_cert` certifies, when the view alone tells: the
// block itself (the genesis QC) or its child (the usual 2-chain commit, the QC's parent is this
// block). nullopt when the QC's parent is a later block (ancestors committed together share
// their batch's QC); the answer is then that block's height + 1, which only the store knows.
std::optional<std::uint64_t> commit_cert_height(const BlockView& view);

// The block with its id, results, result state root, commit certificate (certifying the block
// at `commit_cert_height`) and canonical encoding. kCorruption if the stored results do not
// have one code per transaction (a store bug).
Status block_to_proto(const BlockView& view, std::uint64_t commit_cert_height, v1::Block& out);

// Status PENDING without a location, or COMMITTED with height, index and result.
void tx_lookup_to_proto(const TxLookup& lookup, v1::GetTransactionResponse& out);

void account_to_proto(const Address& address, const AccountAt& account,
                      v1::GetAccountResponse& out);

// `version` replaces status.version unless it is empty.
void status_to_proto(const NodeStatusView& status, std::string_view version,
                     v1::GetStatusResponse& out);

// Validators in genesis order with their power; total and quorum power from the set.
void validators_to_proto(const ValidatorSet& validators, std::uint64_t latest_height,
                         v1::GetValidatorsResponse& out);

}  // namespace ledger::rpc
