// Encodings of account state and block results (the accumulator and execution live in
// state_accumulator.cpp and execution.cpp).
#include "ledger/core/encoding.h"
#include "ledger/core/state.h"

namespace ledger {

Bytes encode_account(const Account& account) {
  ByteWriter w;
  w.u64(account.balance).u64(account.nonce);
  return std::move(w).take();
}

StatusOr<Account> decode_account(ByteView bytes) {
  ByteReader r(bytes);
  Account a;
  LEDGER_RETURN_IF_ERROR(r.u64("balance", a.balance));
  LEDGER_RETURN_IF_ERROR(r.u64("nonce", a.nonce));
  LEDGER_RETURN_IF_ERROR(r.finish("account"));
  return a;
}

const char* tx_result_name(TxResultCode code) {
  switch (code) {
    case TxResultCode::kSuccess:
      return "success";
    case TxResultCode::kBadNonce:
      return "bad_nonce";
    case TxResultCode::kInsufficientFunds:
      return "insufficient_funds";
    case TxResultCode::kBalanceOverflow:
      return "balance_overflow";
    case TxResultCode::kNonceExhausted:
      return "nonce_exhausted";
    case TxResultCode::kWrongChainId:
      return "wrong_chain_id";
    case TxResultCode::kBadSignature:
      return "bad_signature";
  }
  return "unknown";
}

bool is_known_tx_result(std::uint8_t value) {
  return value <= static_cast<std::uint8_t>(TxResultCode::kBadSignature);
}

Bytes encode_block_results(const BlockResults& results) {
  ByteWriter w;
  w.u8(1).u32(static_cast<std::uint32_t>(results.codes.size()));
  for (TxResultCode code : results.codes)
    w.u8(static_cast<std::uint8_t>(code));
  w.fixed(results.state_root.bytes);
  return std::move(w).take();
}

StatusOr<BlockResults> decode_block_results(ByteView bytes) {
  ByteReader r(bytes);
  std::uint8_t version = 0;
  LEDGER_RETURN_IF_ERROR(r.u8("version", version));
  if (version != 1) {
    return Status::invalid_argument("unknown block results version " + std::to_string(version));
  }
  std::uint32_t count = 0;
  LEDGER_RETURN_IF_ERROR(r.u32("result count", count));
  if (count > r.remaining()) {
    return Status::invalid_argument("result count " + std::to_string(count) +
                                    " exceeds the remaining bytes");
  }
  BlockResults results;
  results.codes.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint8_t code = 0;
    LEDGER_RETURN_IF_ERROR(r.u8("result code", code));
    if (!is_known_tx_result(code)) {
      return Status::invalid_argument("unknown result code " + std::to_string(code) + " at index " +
                                      std::to_string(i));
    }
    results.codes.push_back(static_cast<TxResultCode>(code));
  }
  LEDGER_RETURN_IF_ERROR(r.fixed("state root", results.state_root.bytes));
  LEDGER_RETURN_IF_ERROR(r.finish("block results"));
  return results;
}

}  // namespace ledger
