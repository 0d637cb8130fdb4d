// Core types <-> ledger.v1 messages, and parsing of client-supplied hex and bytes.
#include "convert.h"

#include <array>
#include <cstdio>
#include <limits>
#include <string>

#include "ledger/core/genesis.h"

namespace ledger::rpc {
namespace {

// The proto enum mirrors TxResultCode number for number, so the conversion is a cast.
static_assert(v1::TX_RESULT_SUCCESS == static_cast<int>(TxResultCode::kSuccess));
static_assert(v1::TX_RESULT_BAD_NONCE == static_cast<int>(TxResultCode::kBadNonce));
static_assert(v1::TX_RESULT_INSUFFICIENT_FUNDS ==
              static_cast<int>(TxResultCode::kInsufficientFunds));
static_assert(v1::TX_RESULT_BALANCE_OVERFLOW == static_cast<int>(TxResultCode::kBalanceOverflow));
static_assert(v1::TX_RESULT_NONCE_EXHAUSTED == static_cast<int>(TxResultCode::kNonceExhausted));
static_assert(v1::TX_RESULT_WRONG_CHAIN_ID == static_cast<int>(TxResultCode::kWrongChainId));
static_assert(v1::TX_RESULT_BAD_SIGNATURE == static_cast<int>(TxResultCode::kBadSignature));
static_assert(v1::TxResult_MAX == static_cast<int>(TxResultCode::kBadSignature));

// How a character is shown in a message: as itself when printable, else as \xNN.
std::string describe_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string(1, c);
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "\\x%02x", byte);
  return buffer;
}

// Checks that `hex` is exactly 2 * N lowercase hex characters and decodes it.
template <std::size_t N>
StatusOr<std::array<std::uint8_t, N>> parse_fixed_hex(std::string_view field,
                                                      std::string_view hex) {
  const std::size_t expected = 2 * N;
  if (hex.size() != expected) {
    std::string message = std::string(field) + " must be " + std::to_string(expected) +
                          " hex characters (got " + std::to_string(hex.size()) + ")";
    if (hex.size() == expected + 2 && (hex.starts_with("0x") || hex.starts_with("0X"))) {
      message += "; leave out the 0x prefix";
    }
    return Status::invalid_argument(std::move(message));
  }
  for (std::size_t i = 0; i < hex.size(); ++i) {
    const char c = hex[i];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) continue;
    if (c >= 'A' && c <= 'F') {
      return Status::invalid_argument(std::string(field) + " must be lowercase hex ('" +
                                      describe_char(c) + "' at position " + std::to_string(i) +
                                      ")");
    }
    return Status::invalid_argument(std::string(field) + " must be hex ('" + describe_char(c) +
                                    "' at position " + std::to_string(i) + " is not 0-9 or a-f)");
  }
  auto bytes = from_hex_fixed<N>(hex);
  // Every character was checked above, so the core decoder cannot disagree.
  LEDGER_ASSERT(bytes.is_ok());
  return std::move(bytes).value();
}

}  // namespace

StatusOr<Hash> parse_hash_hex(std::string_view field, std::string_view hex) {
  LEDGER_ASSIGN_OR_RETURN(auto bytes, parse_fixed_hex<Hash::kSize>(field, hex));
  Hash hash;
  hash.bytes = bytes;
  return hash;
}

StatusOr<Address> parse_address_hex(std::string_view field, std::string_view hex) {
  LEDGER_ASSIGN_OR_RETURN(auto bytes, parse_fixed_hex<PublicKey::kSize>(field, hex));
  Address address;
  address.bytes = bytes;
  if (!address.is_valid()) {
    return Status::invalid_argument(std::string(field) + " " + std::string(hex) +
                                    " is not a valid account address (not an x-only secp256k1 "
                                    "public key)");
  }
  return address;
}

StatusOr<SignedTransfer> parse_transaction(std::string_view wire_bytes) {
  if (wire_bytes.empty()) {
    return Status::invalid_argument(
        "malformed transaction: no bytes (expected the canonical wire encoding, "
        "docs/transaction-format.md)");
  }
  auto tx = decode_transaction(as_bytes(wire_bytes));
  if (!tx.is_ok()) return tx.status().with_context("malformed transaction");
  return tx;
}

v1::TxResult tx_result_to_proto(TxResultCode code) {
  return static_cast<v1::TxResult>(static_cast<int>(code));
}

void transaction_to_proto(const SignedTransfer& tx, v1::Transaction& out) {
  const Bytes raw = encode_transaction(tx);
  out.set_hash(transaction_hash(tx).hex());
  out.set_chain_id(tx.transfer.chain_id);
  out.set_sender(tx.transfer.sender.hex());
  out.set_nonce(tx.transfer.nonce);
  out.set_recipient(tx.transfer.recipient.hex());
  out.set_amount(tx.transfer.amount);
  out.set_memo(std::string(tx.transfer.memo.begin(), tx.transfer.memo.end()));
  out.set_signature(tx.signature.hex());
  out.set_raw(std::string(raw.begin(), raw.end()));
}

void quorum_cert_to_proto(const QuorumCert& qc, std::uint64_t certified_height,
                          v1::QuorumCert& out) {
  const Bytes raw = encode_qc(qc);
  out.set_round(qc.round());
  out.set_block_id(qc.block_id().hex());
  out.set_height(certified_height);
  out.clear_signers();
  for (const SignerSignature& entry : qc.signatures)
    out.add_signers(entry.signer.hex());
  out.set_raw(std::string(raw.begin(), raw.end()));
}

void header_to_proto(const BlockHeader& header, v1::BlockHeader& out) {
  out.set_chain_id(header.chain_id);
  out.set_height(header.height);
  out.set_round(header.round);
  out.set_parent_id(header.parent_id.hex());
  out.set_proposer(header.proposer.hex());
  out.set_timestamp_ms(header.timestamp_ms);
  out.set_time(format_rfc3339_utc_ms(header.timestamp_ms));
  out.set_transactions_root(header.transactions_root.hex());
  out.set_state_root(header.state_root.hex());
  // The parent QC certifies the block one below; genesis carries an empty QC of its own.
  const std::uint64_t parent_height = header.height == 0 ? 0 : header.height - 1;
  quorum_cert_to_proto(header.parent_qc, parent_height, *out.mutable_parent_qc());
}

std::optional<std::uint64_t> commit_cert_height(const BlockView& view) {
  const std::uint64_t height = view.block.header.height;
  if (view.commit_cert.block_id() == view.id) return height;
  if (view.commit_cert.data.parent_id == view.id &&
      height < std::numeric_limits<std::uint64_t>::max())
    return height + 1;
  return std::nullopt;
}

Status block_to_proto(const BlockView& view, std::uint64_t commit_cert_height, v1::Block& out) {
  const Block& block = view.block;
  if (view.results.codes.size() != block.transactions.size()) {
    return Status::corruption("block " + std::to_string(block.header.height) + " has " +
                              std::to_string(block.transactions.size()) +
                              " transactions but its stored results have " +
                              std::to_string(view.results.codes.size()) + " codes");
  }
  const Bytes raw = encode_block(block);
  out.set_id(view.id.hex());
  header_to_proto(block.header, *out.mutable_header());
  out.clear_transactions();
  out.clear_results();
  for (std::size_t i = 0; i < block.transactions.size(); ++i) {
    transaction_to_proto(block.transactions[i], *out.add_transactions());
    out.add_results(tx_result_to_proto(view.results.codes[i]));
  }
  out.set_result_state_root(view.results.state_root.hex());
  quorum_cert_to_proto(view.commit_cert, commit_cert_height, *out.mutable_commit_cert());
  out.set_raw(std::string(raw.begin(), raw.end()));
  return Status::ok();
}

void tx_lookup_to_proto(const TxLookup& lookup, v1::GetTransactionResponse& out) {
  transaction_to_proto(lookup.transaction, *out.mutable_transaction());
  if (!lookup.committed) {
    out.set_status(v1::TX_STATUS_PENDING);
    out.clear_height();
    out.clear_index();
    out.clear_result();
    return;
  }
  out.set_status(v1::TX_STATUS_COMMITTED);
  out.set_height(lookup.committed->height);
  out.set_index(lookup.committed->index);
  out.set_result(tx_result_to_proto(lookup.committed->result));
}

void account_to_proto(const Address& address, const AccountAt& account,
                      v1::GetAccountResponse& out) {
  out.set_address(address.hex());
  out.set_balance(account.account.balance);
  out.set_nonce(account.account.nonce);
  out.set_height(account.height);
}

void status_to_proto(const NodeStatusView& status, std::string_view version,
                     v1::GetStatusResponse& out) {
  out.set_chain_id(status.chain_id);
  out.set_node_id(status.node_id.hex());
  out.set_validator(status.validator);
  out.set_latest_height(status.latest_height);
  out.set_latest_block_id(status.latest_block_id.hex());
  out.set_latest_block_time_ms(status.latest_block_time_ms);
  out.set_latest_block_time(format_rfc3339_utc_ms(status.latest_block_time_ms));
  out.set_current_round(status.current_round);
  out.set_mempool_size(status.mempool_size);
  out.set_mempool_bytes(status.mempool_bytes);
  out.set_peer_count(status.peer_count);
  out.set_version(version.empty() ? status.version : std::string(version));
}

void validators_to_proto(const ValidatorSet& validators, std::uint64_t latest_height,
                         v1::GetValidatorsResponse& out) {
  out.clear_validators();
  for (const Validator& validator : validators.validators()) {
    v1::Validator* entry = out.add_validators();
    entry->set_address(validator.key.hex());
    entry->set_power(validator.power);
  }
  out.set_total_power(validators.total_power());
  out.set_quorum_power(validators.quorum_power());
  out.set_height(latest_height);
}

}  // namespace ledger::rpc
