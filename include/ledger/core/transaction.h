// The transfer transaction: its fields, signing bytes, wire encoding and hash.
//
// The byte layout is specified in docs/transaction-format.md, with test vectors that
// tests/unit/transaction_vectors_test.cpp checks. Changing anything here changes the protocol.
#pragma once

#include <cstdint>
#include <string>

#include "ledger/core/bytes.h"
#include "ledger/core/hash.h"
#include "ledger/core/keys.h"

namespace ledger {

inline constexpr std::string_view kTransferTag = "ledgerd/transfer";
inline constexpr std::uint8_t kTransferVersion = 1;
inline constexpr std::size_t kMemoBytesMax = 256;
// The largest possible encoded transfer: every field at its maximum size.
inline constexpr std::size_t kTransferBytesMax =
    1 + kTransferTag.size() + 1 + 1 + 50 + 32 + 8 + 32 + 8 + 2 + kMemoBytesMax + 64;

struct Transfer {
  std::string chain_id;  // validate_chain_id holds
  Address sender;        // also the key that signs
  std::uint64_t nonce = 0;
  Address recipient;
  std::uint64_t amount = 0;
  Bytes memo;  // at most kMemoBytesMax bytes

  friend bool operator==(const Transfer&, const Transfer&) = default;
};

struct SignedTransfer {
  Transfer transfer;
  Signature signature;  // BIP340 by transfer.sender over transfer_signing_hash(transfer)

  friend bool operator==(const SignedTransfer&, const SignedTransfer&) = default;
};

// Fields must be valid (asserted): callers build transfers through validated input.
Bytes transfer_signing_bytes(const Transfer& transfer);
// SHA-256 of the signing bytes: the 32-byte message that BIP340 signs.
Hash transfer_signing_hash(const Transfer& transfer);

// Checks the fields a decoder would reject: chain id, memo size, valid sender/recipient keys.
Status validate_transfer(const Transfer& transfer);

// The wire form: signing bytes followed by the 64-byte signature.
Bytes encode_transaction(const SignedTransfer& tx);
// Strict decoder: rejects a wrong tag, an unknown version, a bad chain id, an invalid key, an
// oversized memo, truncation and trailing bytes. Does not check the signature.
StatusOr<SignedTransfer> decode_transaction(ByteView bytes);

// SHA-256 of the wire form. Identifies a transaction everywhere (mempool, index, RPC).
Hash transaction_hash(const SignedTransfer& tx);

SignedTransfer sign_transfer(const Transfer& transfer, const Signer& signer,
                             const std::optional<std::array<std::uint8_t, 32>>& aux_random = {});
// Whether tx.signature is the sender's valid signature over the signing hash.
bool verify_transfer_signature(const SignedTransfer& tx);

}  // namespace ledger
