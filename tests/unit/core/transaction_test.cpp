// The transfer transaction (transaction.h): strict wire decoding, signatures and their domain.
#include "ledger/core/transaction.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "ledger/core/certificates.h"
#include "ledger/core/encoding.h"
#include "support/test_keys.h"

namespace ledger {
namespace {

using ledger::testing::contains;
using ledger::testing::off_curve_key;
Signer signer_from(std::uint8_t last) {
  return ledger::testing::test_signer(0x11, last);
}

constexpr std::array<std::uint8_t, 32> kAux{};

class TransactionTest : public ::testing::Test {
 protected:
  TransactionTest() : sender_(signer_from(1)), recipient_(signer_from(2)) {}

  Transfer transfer(Bytes memo = {}) const {
    Transfer t;
    t.chain_id = "ledgerd-test";
    t.sender = sender_.public_key();
    t.nonce = 7;
    t.recipient = recipient_.public_key();
    t.amount = 1'000'000;
    t.memo = std::move(memo);
    return t;
  }
  SignedTransfer signed_transfer(Bytes memo = {}) const {
    return sign_transfer(transfer(std::move(memo)), sender_, kAux);
  }

  Signer sender_;
  Signer recipient_;
};

// Writes a wire form field by field, so tests can build encodings the encoder refuses to.
struct Wire {
  std::string tag{kTransferTag};
  std::uint8_t version = kTransferVersion;
  std::string chain_id = "ledgerd-test";
  PublicKey sender;
  std::uint64_t nonce = 1;
  PublicKey recipient;
  std::uint64_t amount = 5;
  Bytes memo;
  Signature signature;

  Bytes encode() const {
    ByteWriter w;
    w.string8(tag)
        .u8(version)
        .string8(chain_id)
        .fixed(sender.bytes)
        .u64(nonce)
        .fixed(recipient.bytes)
        .u64(amount)
        .bytes16(memo)
        .fixed(signature.bytes);
    return std::move(w).take();
  }
};

class TransactionDecode : public TransactionTest {
 protected:
  Wire wire() const {
    Wire w;
    w.sender = sender_.public_key();
    w.recipient = recipient_.public_key();
    return w;
  }
};

TEST_F(TransactionTest, EncodeDecodeRoundTripsWithoutMemo) {
  SignedTransfer tx = signed_transfer();
  auto decoded = decode_transaction(encode_transaction(tx));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, tx);
  EXPECT_TRUE(decoded->transfer.memo.empty());
}

TEST_F(TransactionTest, EncodeDecodeRoundTripsWithMemo) {
  SignedTransfer tx = signed_transfer(Bytes{'r', 'e', 'n', 't', 0x00, 0xff});
  auto decoded = decode_transaction(encode_transaction(tx));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, tx);
}

TEST_F(TransactionTest, EncodeDecodeRoundTripsMaximumMemo) {
  SignedTransfer tx = signed_transfer(Bytes(kMemoBytesMax, 0x5a));
  Bytes wire = encode_transaction(tx);
  auto decoded = decode_transaction(wire);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, tx);
  EXPECT_EQ(decoded->transfer.memo.size(), kMemoBytesMax);
  EXPECT_TRUE(verify_transfer_signature(*decoded));
}

TEST_F(TransactionTest, EncodeDecodeRoundTripsExtremeIntegers) {
  Transfer t = transfer();
  t.nonce = UINT64_MAX;
  t.amount = UINT64_MAX;
  SignedTransfer tx = sign_transfer(t, sender_, kAux);
  auto decoded = decode_transaction(encode_transaction(tx));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, tx);
}

TEST_F(TransactionTest, WireFormIsSigningBytesThenSignature) {
  SignedTransfer tx = signed_transfer(Bytes{1, 2});
  Bytes wire = encode_transaction(tx);
  Bytes signing = transfer_signing_bytes(tx.transfer);
  ASSERT_EQ(wire.size(), signing.size() + Signature::kSize);
  EXPECT_TRUE(std::equal(signing.begin(), signing.end(), wire.begin()));
  EXPECT_TRUE(std::equal(tx.signature.bytes.begin(), tx.signature.bytes.end(),
                         wire.begin() + static_cast<std::ptrdiff_t>(signing.size())));
  EXPECT_EQ(transfer_signing_hash(tx.transfer), sha256(signing));
}

TEST_F(TransactionDecode, AcceptsHandBuiltWire) {
  Wire w = wire();
  auto decoded = decode_transaction(w.encode());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->transfer.chain_id, w.chain_id);
  EXPECT_EQ(decoded->transfer.amount, 5u);
}

TEST_F(TransactionDecode, RejectsWrongTag) {
  for (const char* tag : {"ledgerd/vote", "ledgerd/transfeR", "", "ledgerd/transfers"}) {
    Wire w = wire();
    w.tag = tag;
    auto decoded = decode_transaction(w.encode());
    ASSERT_FALSE(decoded.is_ok()) << tag;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(decoded.status(), "not a transfer transaction"))
        << decoded.status().message();
  }
}

TEST_F(TransactionDecode, RejectsUnknownVersion) {
  for (std::uint8_t version : {0, 2, 255}) {
    Wire w = wire();
    w.version = version;
    auto decoded = decode_transaction(w.encode());
    ASSERT_FALSE(decoded.is_ok()) << int{version};
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(decoded.status(), "unknown transfer version " + std::to_string(version)))
        << decoded.status().message();
  }
}

TEST_F(TransactionDecode, RejectsBadChainId) {
  for (const std::string& chain_id :
       {std::string(), std::string("bad id"), std::string("a/b"), std::string(51, 'c')}) {
    Wire w = wire();
    w.chain_id = chain_id;
    auto decoded = decode_transaction(w.encode());
    ASSERT_FALSE(decoded.is_ok()) << chain_id;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(decoded.status(), "chain id")) << decoded.status().message();
  }
}

TEST_F(TransactionDecode, RejectsMemoOfTwoHundredFiftySevenBytes) {
  Wire w = wire();
  w.chain_id = "c";
  w.memo = Bytes(kMemoBytesMax + 1, 0x01);
  Bytes bytes = w.encode();
  ASSERT_LE(bytes.size(), kTransferBytesMax);  // the memo limit, not the size limit, fires
  auto decoded = decode_transaction(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "memo: length 257 exceeds the limit of 256"))
      << decoded.status().message();
}

TEST_F(TransactionDecode, RejectsEveryTruncation) {
  Bytes full = encode_transaction(signed_transfer(Bytes{9, 8, 7}));
  for (std::size_t size = 0; size < full.size(); ++size) {
    auto decoded = decode_transaction(ByteView(full.data(), size));
    ASSERT_FALSE(decoded.is_ok()) << "prefix of " << size << " bytes decoded";
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << size;
    EXPECT_TRUE(contains(decoded.status(), "truncated"))
        << size << ": " << decoded.status().message();
  }
}

TEST_F(TransactionDecode, RejectsOneTrailingByte) {
  Bytes bytes = encode_transaction(signed_transfer());
  bytes.push_back(0x00);
  auto decoded = decode_transaction(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "trailing")) << decoded.status().message();
}

TEST_F(TransactionDecode, RejectsInputLargerThanTheLargestTransfer) {
  Bytes bytes = encode_transaction(signed_transfer());
  bytes.resize(kTransferBytesMax + 1, 0x00);
  auto decoded = decode_transaction(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), std::to_string(kTransferBytesMax)))
      << decoded.status().message();

  Bytes huge(1 << 20, 0x10);
  EXPECT_EQ(decode_transaction(huge).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TransactionDecode, RejectsInvalidSenderKey) {
  Wire w = wire();
  w.sender = off_curve_key();
  auto decoded = decode_transaction(w.encode());
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "sender")) << decoded.status().message();

  w.sender.bytes.fill(0xff);  // x >= p
  EXPECT_EQ(decode_transaction(w.encode()).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TransactionDecode, RejectsInvalidRecipientKey) {
  Wire w = wire();
  w.recipient = off_curve_key();
  auto decoded = decode_transaction(w.encode());
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "recipient")) << decoded.status().message();
}

TEST_F(TransactionDecode, DoesNotCheckTheSignature) {
  Wire w = wire();  // all-zero signature
  auto decoded = decode_transaction(w.encode());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_FALSE(verify_transfer_signature(*decoded));
}

TEST_F(TransactionTest, ValidateTransferAcceptsAValidTransfer) {
  EXPECT_TRUE(validate_transfer(transfer(Bytes(kMemoBytesMax, 1))).is_ok());
}

TEST_F(TransactionTest, ValidateTransferRejectsEachBadField) {
  Transfer t = transfer();
  t.chain_id = "";
  EXPECT_EQ(validate_transfer(t).code(), StatusCode::kInvalidArgument);
  t = transfer(Bytes(kMemoBytesMax + 1, 0));
  EXPECT_TRUE(contains(validate_transfer(t), "memo")) << validate_transfer(t).message();
  t = transfer();
  t.sender = off_curve_key();
  EXPECT_TRUE(contains(validate_transfer(t), "sender"));
  t = transfer();
  t.recipient = PublicKey{};
  EXPECT_TRUE(contains(validate_transfer(t), "recipient"));
}

TEST_F(TransactionTest, SignatureVerifies) {
  SignedTransfer tx = signed_transfer(Bytes{1, 2, 3});
  EXPECT_TRUE(verify_transfer_signature(tx));
  SignedTransfer random_aux = sign_transfer(transfer(Bytes{1, 2, 3}), sender_);
  EXPECT_TRUE(verify_transfer_signature(random_aux));
}

// Every field is covered by the signature: changing any one of them invalidates it.
TEST_F(TransactionTest, SignatureFailsAfterChangingAnyField) {
  const SignedTransfer good = signed_transfer(Bytes{1, 2, 3});
  ASSERT_TRUE(verify_transfer_signature(good));

  SignedTransfer tx = good;
  tx.transfer.amount += 1;
  EXPECT_FALSE(verify_transfer_signature(tx)) << "amount";

  tx = good;
  tx.transfer.nonce += 1;
  EXPECT_FALSE(verify_transfer_signature(tx)) << "nonce";

  tx = good;
  tx.transfer.recipient = signer_from(3).public_key();
  EXPECT_FALSE(verify_transfer_signature(tx)) << "recipient";

  tx = good;
  tx.transfer.chain_id = "ledgerd-main";
  EXPECT_FALSE(verify_transfer_signature(tx)) << "chain id";

  tx = good;
  tx.transfer.memo = Bytes{1, 2, 4};
  EXPECT_FALSE(verify_transfer_signature(tx)) << "memo";

  tx = good;
  tx.transfer.memo.clear();
  EXPECT_FALSE(verify_transfer_signature(tx)) << "memo removed";

  tx = good;
  tx.transfer.sender = recipient_.public_key();
  EXPECT_FALSE(verify_transfer_signature(tx)) << "sender";

  tx = good;
  tx.signature.bytes[10] ^= 0x40;
  EXPECT_FALSE(verify_transfer_signature(tx)) << "signature";
}

TEST_F(TransactionTest, SignatureFromAnotherKeyFails) {
  SignedTransfer tx = signed_transfer();
  Transfer as_recipient = transfer();
  as_recipient.sender = recipient_.public_key();
  SignedTransfer other = sign_transfer(as_recipient, recipient_, kAux);
  tx.signature = other.signature;
  EXPECT_FALSE(verify_transfer_signature(tx));
}

TEST_F(TransactionTest, VerifyReturnsFalseForInvalidTransfer) {
  SignedTransfer tx = signed_transfer();
  tx.transfer.memo = Bytes(kMemoBytesMax + 1, 0);
  EXPECT_FALSE(verify_transfer_signature(tx));
  tx = signed_transfer();
  tx.transfer.chain_id = "bad chain";
  EXPECT_FALSE(verify_transfer_signature(tx));
}

TEST_F(TransactionTest, TransactionHashIsHashOfWireForm) {
  SignedTransfer tx = signed_transfer(Bytes{4});
  EXPECT_EQ(transaction_hash(tx), sha256(encode_transaction(tx)));
  EXPECT_NE(transaction_hash(tx), transfer_signing_hash(tx.transfer));
}

TEST_F(TransactionTest, TransactionHashChangesWithTheSignature) {
  std::array<std::uint8_t, 32> other_aux{};
  other_aux[0] = 1;
  SignedTransfer a = sign_transfer(transfer(), sender_, kAux);
  SignedTransfer b = sign_transfer(transfer(), sender_, other_aux);
  ASSERT_TRUE(verify_transfer_signature(a));
  ASSERT_TRUE(verify_transfer_signature(b));
  ASSERT_NE(a.signature, b.signature);
  EXPECT_EQ(transfer_signing_hash(a.transfer), transfer_signing_hash(b.transfer));
  EXPECT_NE(transaction_hash(a), transaction_hash(b));
}

TEST_F(TransactionTest, TransactionHashChangesWithEachField) {
  const SignedTransfer base = signed_transfer();
  SignedTransfer tx = base;
  tx.transfer.amount += 1;
  EXPECT_NE(transaction_hash(tx), transaction_hash(base));
  tx = base;
  tx.transfer.nonce += 1;
  EXPECT_NE(transaction_hash(tx), transaction_hash(base));
  tx = base;
  tx.transfer.memo = Bytes{0};
  EXPECT_NE(transaction_hash(tx), transaction_hash(base));
}

// The domain tag separates signed payloads: a vote over data laid out like a transfer does not
// produce the transfer's signing hash, and a signature over one does not verify as the other.
TEST_F(TransactionTest, VoteSigningHashNeverEqualsTransferSigningHash) {
  Transfer t = transfer();
  VoteData vote;
  std::copy(t.sender.bytes.begin(), t.sender.bytes.end(), vote.block_id.bytes.begin());
  vote.round = t.nonce;
  std::copy(t.recipient.bytes.begin(), t.recipient.bytes.end(), vote.parent_id.bytes.begin());
  vote.parent_round = t.amount;
  const Hash vote_hash = vote_signing_hash(t.chain_id, vote);
  EXPECT_NE(vote_hash, transfer_signing_hash(t));
  EXPECT_NE(timeout_signing_hash(t.chain_id, t.nonce, t.amount), transfer_signing_hash(t));

  SignedTransfer forged{t, sender_.sign(vote_hash, kAux)};
  EXPECT_FALSE(verify_transfer_signature(forged));
}

}  // namespace
}  // namespace ledger
