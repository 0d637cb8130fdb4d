// Checks every test vector of docs/transaction-format.md against the implementation. If this
// test fails, either the code or the document changed the protocol: fix whichever is wrong.
#include <gtest/gtest.h>

#include <string>

#include "ledger/core/transaction.h"

namespace ledger {
namespace {

struct Vector {
  const char* secret_key;
  const char* sender;
  const char* chain_id;
  std::uint64_t nonce;
  const char* recipient;
  std::uint64_t amount;
  const char* memo_hex;
  const char* aux_random;
  const char* signing_bytes;
  const char* signing_hash;
  const char* signature;
  const char* wire;
  const char* hash;
};

// Copied from docs/transaction-format.md.
const Vector kVectors[] = {
    {"0000000000000000000000000000000000000000000000000000000000000001",
     "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", "ledgerd-test", 0ULL,
     "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5", 1000ULL, "",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "106c6564676572642f7472616e73666572010c6c6564676572642d7465737479be667ef9dcbbac55a06295ce870b0"
     "7029bfcdb2dce28d959f2815b16f817980000000000000000c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef"
     "3ca7abac09b95c709ee500000000000003e80000",
     "c3a5656c97781b3aee1d57806328ac27682a186afab4d85b1ba0b96da0c33594",
     "4f1a559440e89b058d7418299945150afb30f8ce1db2f6e109ecda5be73a167c602206d38e738ca89166258d124fd"
     "33c2ec6efb5c784811d426266cbb0ab8cc9",
     "106c6564676572642f7472616e73666572010c6c6564676572642d7465737479be667ef9dcbbac55a06295ce870b0"
     "7029bfcdb2dce28d959f2815b16f817980000000000000000c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef"
     "3ca7abac09b95c709ee500000000000003e800004f1a559440e89b058d7418299945150afb30f8ce1db2f6e109ecd"
     "a5be73a167c602206d38e738ca89166258d124fd33c2ec6efb5c784811d426266cbb0ab8cc9",
     "ee6403d8251ef48bd234e3f75f3143870672a0c2a232a5b33eeedf3f2bd7519f"},
    {"b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef",
     "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659", "ledgerd-test", 7ULL,
     "dd308afec5777e13121fa72b9cc1b7cc0139715309b086c960e18fd969774eb8", 18446744073709551615ULL,
     "72656e742c206e6f76656d626572",
     "0000000000000000000000000000000000000000000000000000000000000001",
     "106c6564676572642f7472616e73666572010c6c6564676572642d74657374dff1d77f2a671c5f36183726db2341b"
     "e58feae1da2deced843240f7b502ba6590000000000000007dd308afec5777e13121fa72b9cc1b7cc0139715309b0"
     "86c960e18fd969774eb8ffffffffffffffff000e72656e742c206e6f76656d626572",
     "f26db58bf669405f3a2eb07757a7152b701f1834b0e994c06ddb96768bbd6892",
     "e92424053ffa25ab57f5a7ac44991c62c56b8c85aaa36b03a5668c105254950cf11f846c41271bc8925a9f49a483e"
     "8262e1dc5916b7578ea9dfadc463bc975ab",
     "106c6564676572642f7472616e73666572010c6c6564676572642d74657374dff1d77f2a671c5f36183726db2341b"
     "e58feae1da2deced843240f7b502ba6590000000000000007dd308afec5777e13121fa72b9cc1b7cc0139715309b0"
     "86c960e18fd969774eb8ffffffffffffffff000e72656e742c206e6f76656d626572e92424053ffa25ab57f5a7ac4"
     "4991c62c56b8c85aaa36b03a5668c105254950cf11f846c41271bc8925a9f49a483e8262e1dc5916b7578ea9dfadc"
     "463bc975ab",
     "a9183dbee94ae4340933fc208bd4845d7356095c0405f88d9899ee7269b6fe60"},
    {"0b432b2677937381aef05bb02a66ecd012773062cf3fa2549e44f58ed2401710",
     "25d1dff95105f5253c4022f628a996ad3a0d95fbf21d468a1b33f8c160d8f517", "mainnet-1", 42ULL,
     "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9", 5ULL, "e282ac",
     "c87aa53824b4d7ae2eb035a2b5bbbccc080e76cdc6d1692c4b0b62d798e6d906",
     "106c6564676572642f7472616e7366657201096d61696e6e65742d3125d1dff95105f5253c4022f628a996ad3a0d9"
     "5fbf21d468a1b33f8c160d8f517000000000000002af9308a019258c31049344f85f89d5229b531c845836f99b086"
     "01f113bce036f900000000000000050003e282ac",
     "efa9eab207f5d1242e769df603e9a9bc0396a8439916a48b2146678a9efcc9dd",
     "8e671c493c45034457be4bed6308dfc5fa51b39e80aa2e57dd1806e9e2ba240e63a7b7c7429947ac0b9eedea363c8"
     "aef7c45851a703a4c373dfa55cb7dde085b",
     "106c6564676572642f7472616e7366657201096d61696e6e65742d3125d1dff95105f5253c4022f628a996ad3a0d9"
     "5fbf21d468a1b33f8c160d8f517000000000000002af9308a019258c31049344f85f89d5229b531c845836f99b086"
     "01f113bce036f900000000000000050003e282ac8e671c493c45034457be4bed6308dfc5fa51b39e80aa2e57dd180"
     "6e9e2ba240e63a7b7c7429947ac0b9eedea363c8aef7c45851a703a4c373dfa55cb7dde085b",
     "1662b29ddec59db9e5acf11c3fb6330cf198bb425e82a48f40f233650ffb1bef"},
};

Bytes hex(const char* text) {
  auto bytes = from_hex(text);
  EXPECT_TRUE(bytes.is_ok()) << text;
  return bytes.is_ok() ? *bytes : Bytes{};
}

class TransactionVectors : public ::testing::TestWithParam<Vector> {};

TEST_P(TransactionVectors, BuildSignAndHashMatchTheDocument) {
  const Vector& v = GetParam();
  auto secret = SecretKey::from_hex(v.secret_key);
  ASSERT_TRUE(secret.is_ok());
  auto signer = Signer::create(*secret);
  ASSERT_TRUE(signer.is_ok());
  ASSERT_EQ(signer->public_key().hex(), v.sender);

  Transfer t;
  t.chain_id = v.chain_id;
  t.sender = signer->public_key();
  t.nonce = v.nonce;
  t.recipient = *PublicKey::from_hex(v.recipient);
  t.amount = v.amount;
  t.memo = hex(v.memo_hex);

  EXPECT_EQ(to_hex(transfer_signing_bytes(t)), v.signing_bytes);
  EXPECT_EQ(transfer_signing_hash(t).hex(), v.signing_hash);
  auto aux = from_hex_fixed<32>(v.aux_random);
  ASSERT_TRUE(aux.is_ok());
  SignedTransfer tx = sign_transfer(t, *signer, *aux);
  EXPECT_EQ(tx.signature.hex(), v.signature);
  EXPECT_EQ(to_hex(encode_transaction(tx)), v.wire);
  EXPECT_EQ(transaction_hash(tx).hex(), v.hash);
  EXPECT_TRUE(verify_transfer_signature(tx));
}

TEST_P(TransactionVectors, WireFormDecodesToTheDocumentedFields) {
  const Vector& v = GetParam();
  auto tx = decode_transaction(hex(v.wire));
  ASSERT_TRUE(tx.is_ok()) << tx.status().to_string();
  EXPECT_EQ(tx->transfer.chain_id, v.chain_id);
  EXPECT_EQ(tx->transfer.sender.hex(), v.sender);
  EXPECT_EQ(tx->transfer.nonce, v.nonce);
  EXPECT_EQ(tx->transfer.recipient.hex(), v.recipient);
  EXPECT_EQ(tx->transfer.amount, v.amount);
  EXPECT_EQ(to_hex(tx->transfer.memo), v.memo_hex);
  EXPECT_EQ(tx->signature.hex(), v.signature);
  EXPECT_TRUE(verify_transfer_signature(*tx));
}

// The document states the largest wire form; the constant and the encoder must agree with it.
TEST(TransactionFormat, LargestWireFormIsTheDocumentedMaximum) {
  auto signer = Signer::create(*SecretKey::from_hex(kVectors[0].secret_key));
  ASSERT_TRUE(signer.is_ok());
  Transfer t;
  t.chain_id = std::string(50, 'c');
  t.sender = signer->public_key();
  t.recipient = signer->public_key();
  t.memo = Bytes(kMemoBytesMax, 0xab);
  Bytes wire = encode_transaction(sign_transfer(t, *signer));
  EXPECT_EQ(wire.size(), 471u);
  EXPECT_EQ(kTransferBytesMax, 471u);
  EXPECT_TRUE(decode_transaction(wire).is_ok());
}

INSTANTIATE_TEST_SUITE_P(Documented, TransactionVectors, ::testing::ValuesIn(kVectors));

}  // namespace
}  // namespace ledger
