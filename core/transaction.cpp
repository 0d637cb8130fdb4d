#include "ledger/core/transaction.h"

#include "ledger/core/chain_id.h"
#include "ledger/core/encoding.h"

namespace ledger {

Status validate_transfer(const Transfer& transfer) {
  LEDGER_RETURN_IF_ERROR(validate_chain_id(transfer.chain_id));
  if (transfer.memo.size() > kMemoBytesMax) {
    return Status::invalid_argument("memo is " + std::to_string(transfer.memo.size()) +
                                    " bytes, the limit is " + std::to_string(kMemoBytesMax));
  }
  if (!transfer.sender.is_valid()) {
    return Status::invalid_argument("sender is not a valid secp256k1 x-only public key");
  }
  if (!transfer.recipient.is_valid()) {
    return Status::invalid_argument("recipient is not a valid secp256k1 x-only public key");
  }
  return Status::ok();
}

namespace {

void write_signing_bytes(ByteWriter& w, const Transfer& t) {
  w.string8(kTransferTag)
      .u8(kTransferVersion)
      .string8(t.chain_id)
      .fixed(t.sender.bytes)
      .u64(t.nonce)
      .fixed(t.recipient.bytes)
      .u64(t.amount)
      .bytes16(t.memo);
}

}  // namespace

Bytes transfer_signing_bytes(const Transfer& transfer) {
  LEDGER_ASSERT(validate_chain_id(transfer.chain_id).is_ok());
  LEDGER_ASSERT(transfer.memo.size() <= kMemoBytesMax);
  ByteWriter w;
  write_signing_bytes(w, transfer);
  return std::move(w).take();
}

Hash transfer_signing_hash(const Transfer& transfer) {
  return sha256(transfer_signing_bytes(transfer));
}

Bytes encode_transaction(const SignedTransfer& tx) {
  LEDGER_ASSERT(validate_chain_id(tx.transfer.chain_id).is_ok());
  LEDGER_ASSERT(tx.transfer.memo.size() <= kMemoBytesMax);
  ByteWriter w;
  write_signing_bytes(w, tx.transfer);
  w.fixed(tx.signature.bytes);
  return std::move(w).take();
}

StatusOr<SignedTransfer> decode_transaction(ByteView bytes) {
  if (bytes.size() > kTransferBytesMax) {
    return Status::invalid_argument("transaction is " + std::to_string(bytes.size()) +
                                    " bytes, no valid transfer exceeds " +
                                    std::to_string(kTransferBytesMax));
  }
  ByteReader r(bytes);
  LEDGER_RETURN_IF_ERROR(r.expect_tag("transfer transaction", kTransferTag));
  std::uint8_t version = 0;
  LEDGER_RETURN_IF_ERROR(r.u8("version", version));
  if (version != kTransferVersion) {
    return Status::invalid_argument("unknown transfer version " + std::to_string(version) +
                                    " (this node reads version " +
                                    std::to_string(kTransferVersion) + ")");
  }
  SignedTransfer tx;
  Transfer& t = tx.transfer;
  LEDGER_RETURN_IF_ERROR(r.string8("chain id", t.chain_id));
  LEDGER_RETURN_IF_ERROR(r.fixed("sender", t.sender.bytes));
  LEDGER_RETURN_IF_ERROR(r.u64("nonce", t.nonce));
  LEDGER_RETURN_IF_ERROR(r.fixed("recipient", t.recipient.bytes));
  LEDGER_RETURN_IF_ERROR(r.u64("amount", t.amount));
  LEDGER_RETURN_IF_ERROR(r.bytes16("memo", kMemoBytesMax, t.memo));
  LEDGER_RETURN_IF_ERROR(r.fixed("signature", tx.signature.bytes));
  LEDGER_RETURN_IF_ERROR(r.finish("transfer transaction"));
  LEDGER_RETURN_IF_ERROR(validate_transfer(t));
  return tx;
}

Hash transaction_hash(const SignedTransfer& tx) {
  return sha256(encode_transaction(tx));
}

SignedTransfer sign_transfer(const Transfer& transfer, const Signer& signer,
                             const std::optional<std::array<std::uint8_t, 32>>& aux_random) {
  LEDGER_ASSERT(signer.public_key() == transfer.sender);
  SignedTransfer tx{transfer, signer.sign(transfer_signing_hash(transfer), aux_random)};
  return tx;
}

bool verify_transfer_signature(const SignedTransfer& tx) {
  if (!validate_transfer(tx.transfer).is_ok()) return false;
  return verify_signature(tx.transfer.sender, transfer_signing_hash(tx.transfer), tx.signature);
}

}  // namespace ledger
