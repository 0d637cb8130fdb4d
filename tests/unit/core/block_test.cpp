// Blocks (block.h): header and block encodings, block ids, strict block decoding and the
// transactions root.
#include "ledger/core/block.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "ledger/core/encoding.h"
#include "support/test_keys.h"

namespace ledger {
namespace {

using ledger::testing::contains;
Signer signer_from(std::uint8_t last) {
  return ledger::testing::test_signer(0x44, last);
}

constexpr std::array<std::uint8_t, 32> kAux{};

Hash hash_of(std::string_view text) {
  return sha256(as_bytes(text));
}

class BlockTest : public ::testing::Test {
 protected:
  BlockTest() : alice_(signer_from(1)), bob_(signer_from(2)), proposer_(signer_from(3)) {}

  SignedTransfer tx(std::uint64_t nonce, std::uint64_t amount = 10) const {
    Transfer t;
    t.chain_id = "ledgerd-test";
    t.sender = alice_.public_key();
    t.nonce = nonce;
    t.recipient = bob_.public_key();
    t.amount = amount;
    return sign_transfer(t, alice_, kAux);
  }

  std::vector<SignedTransfer> txs(std::size_t count) const {
    std::vector<SignedTransfer> out;
    for (std::size_t i = 0; i < count; ++i)
      out.push_back(tx(i));
    return out;
  }

  BlockHeader header() const {
    BlockHeader h;
    h.chain_id = "ledgerd-test";
    h.height = 12;
    h.round = 15;
    h.parent_id = hash_of("parent");
    h.parent_qc.data = {h.parent_id, 14, hash_of("grandparent"), 13};
    h.parent_qc.signatures = {{alice_.public_key(), Signature{}}};
    h.parent_qc.signatures[0].signature.bytes.fill(0x5c);
    h.proposer = proposer_.public_key();
    h.timestamp_ms = 1'790'000'000'000;
    h.transactions_root = hash_of("transactions");
    h.state_root = hash_of("state");
    return h;
  }

  Block block(std::size_t tx_count) const {
    Block b;
    b.transactions = txs(tx_count);
    b.header = header();
    b.header.transactions_root = transactions_root(b.transactions);
    return b;
  }

  Signer alice_;
  Signer bob_;
  Signer proposer_;
};

using BlockHeaderEncoding = BlockTest;
using BlockId = BlockTest;
using BlockDecode = BlockTest;
using TransactionsRoot = BlockTest;

// ---- Header ----

TEST_F(BlockHeaderEncoding, RoundTrips) {
  BlockHeader h = header();
  auto decoded = decode_header(encode_header(h));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, h);
}

TEST_F(BlockHeaderEncoding, RoundTripsGenesisLikeHeader) {
  BlockHeader h;
  h.chain_id = "c";
  h.parent_id = hash_of("genesis document");
  auto decoded = decode_header(encode_header(h));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, h);
}

TEST_F(BlockHeaderEncoding, StartsWithTheBlockTag) {
  Bytes bytes = encode_header(header());
  ByteReader r(bytes);
  EXPECT_TRUE(r.expect_tag("block header", kBlockTag).is_ok());
  std::uint8_t version = 0;
  ASSERT_TRUE(r.u8("version", version).is_ok());
  EXPECT_EQ(version, kBlockVersion);
}

TEST_F(BlockHeaderEncoding, DecodeRejectsWrongTag) {
  Bytes bytes = encode_header(header());
  bytes[1] = 'L';  // "Ledgerd/block"
  auto decoded = decode_header(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "not a block header")) << decoded.status().message();
}

TEST_F(BlockHeaderEncoding, DecodeRejectsUnknownVersion) {
  Bytes bytes = encode_header(header());
  bytes[1 + kBlockTag.size()] = 2;
  auto decoded = decode_header(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(contains(decoded.status(), "unknown block version 2")) << decoded.status().message();
}

TEST_F(BlockHeaderEncoding, DecodeRejectsBadChainId) {
  Bytes bytes = encode_header(header());
  bytes[1 + kBlockTag.size() + 1 + 1] = ' ';  // first chain id character
  auto decoded = decode_header(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "chain id")) << decoded.status().message();
}

TEST_F(BlockHeaderEncoding, DecodeRejectsEveryTruncation) {
  Bytes bytes = encode_header(header());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = decode_header(ByteView(bytes.data(), n));
    ASSERT_FALSE(decoded.is_ok()) << n;
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << n;
  }
}

TEST_F(BlockHeaderEncoding, DecodeRejectsTrailingBytes) {
  Bytes bytes = encode_header(header());
  bytes.push_back(0);
  auto decoded = decode_header(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(contains(decoded.status(), "block header: 1 trailing bytes"))
      << decoded.status().message();
}

TEST_F(BlockHeaderEncoding, DecodeRejectsUnsortedParentQcSigners) {
  BlockHeader h = header();
  const PublicKey low = std::min(alice_.public_key(), bob_.public_key());
  const PublicKey high = std::max(alice_.public_key(), bob_.public_key());
  h.parent_qc.signatures = {{high, {}}, {low, {}}};
  ASSERT_GT(h.parent_qc.signatures[0].signer, h.parent_qc.signatures[1].signer);
  auto decoded = decode_header(encode_header(h));
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(contains(decoded.status(), "out of order")) << decoded.status().message();
}

// ---- Block id ----

TEST_F(BlockId, IsHashOfTheEncodedHeader) {
  Block b = block(2);
  EXPECT_EQ(b.id(), sha256(encode_header(b.header)));
  EXPECT_EQ(b.id(), block_id(b.header));
}

TEST_F(BlockId, DoesNotDependOnTransactionsBeyondTheRoot) {
  Block a = block(2);
  Block b = a;
  b.transactions.pop_back();  // root left as is
  EXPECT_EQ(a.id(), b.id());
}

TEST_F(BlockId, ChangesWithAnyHeaderField) {
  const BlockHeader base = header();
  const Hash base_id = block_id(base);
  const std::vector<std::pair<const char*, std::function<void(BlockHeader&)>>> changes = {
      {"chain_id", [](BlockHeader& h) { h.chain_id = "ledgerd-tesT"; }},
      {"height", [](BlockHeader& h) { h.height += 1; }},
      {"round", [](BlockHeader& h) { h.round += 1; }},
      {"parent_id", [](BlockHeader& h) { h.parent_id.bytes[31] ^= 1; }},
      {"parent_qc.block_id", [](BlockHeader& h) { h.parent_qc.data.block_id.bytes[0] ^= 1; }},
      {"parent_qc.round", [](BlockHeader& h) { h.parent_qc.data.round += 1; }},
      {"parent_qc.parent_id", [](BlockHeader& h) { h.parent_qc.data.parent_id.bytes[5] ^= 1; }},
      {"parent_qc.parent_round", [](BlockHeader& h) { h.parent_qc.data.parent_round += 1; }},
      {"parent_qc.signature",
       [](BlockHeader& h) { h.parent_qc.signatures[0].signature.bytes[3] ^= 1; }},
      {"parent_qc.signer", [](BlockHeader& h) { h.parent_qc.signatures[0].signer.bytes[3] ^= 1; }},
      {"parent_qc.signatures removed", [](BlockHeader& h) { h.parent_qc.signatures.clear(); }},
      {"proposer", [](BlockHeader& h) { h.proposer.bytes[7] ^= 1; }},
      {"timestamp_ms", [](BlockHeader& h) { h.timestamp_ms += 1; }},
      {"transactions_root", [](BlockHeader& h) { h.transactions_root.bytes[9] ^= 1; }},
      {"state_root", [](BlockHeader& h) { h.state_root.bytes[9] ^= 1; }},
  };
  for (const auto& [name, change] : changes) {
    BlockHeader h = base;
    change(h);
    EXPECT_NE(block_id(h), base_id) << name;
  }
}

TEST_F(BlockId, GenesisQcCertifiesTheGenesisBlock) {
  Block genesis;
  genesis.header.chain_id = "ledgerd-test";
  genesis.header.parent_id = hash_of("genesis document");
  genesis.header.transactions_root = transactions_root({});
  QuorumCert qc = genesis_qc(genesis);
  EXPECT_EQ(qc.block_id(), genesis.id());
  EXPECT_EQ(qc.round(), 0u);
  EXPECT_EQ(qc.data.parent_id, genesis.header.parent_id);
  EXPECT_EQ(qc.data.parent_round, 0u);
  EXPECT_TRUE(qc.signatures.empty());
}

// ---- Block encoding ----

TEST_F(BlockDecode, RoundTripsWithAndWithoutTransactions) {
  for (std::size_t count : {0u, 1u, 3u}) {
    Block b = block(count);
    auto decoded = decode_block(encode_block(b), BlockLimits{});
    ASSERT_TRUE(decoded.is_ok()) << count << ": " << decoded.status().to_string();
    EXPECT_EQ(*decoded, b) << count;
  }
}

TEST_F(BlockDecode, WireLayoutIsPrefixedHeaderCountAndPrefixedTransactions) {
  Block b = block(2);
  ByteWriter w;
  w.bytes32(encode_header(b.header)).u32(2);
  for (const auto& t : b.transactions)
    w.bytes32(encode_transaction(t));
  EXPECT_EQ(encode_block(b), w.data());
}

TEST_F(BlockDecode, AcceptsExactlyTheLimits) {
  Block b = block(3);
  Bytes bytes = encode_block(b);
  BlockLimits limits{3, bytes.size()};
  auto decoded = decode_block(bytes, limits);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, b);
}

TEST_F(BlockDecode, RejectsMoreThanTransactionsMax) {
  Bytes bytes = encode_block(block(3));
  auto decoded = decode_block(bytes, BlockLimits{2, 1 << 20});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "block has 3 transactions, the limit is 2"))
      << decoded.status().message();
}

TEST_F(BlockDecode, RejectsMoreThanBytesMax) {
  Bytes bytes = encode_block(block(3));
  auto decoded = decode_block(bytes, BlockLimits{100, bytes.size() - 1});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "the limit is " + std::to_string(bytes.size() - 1)))
      << decoded.status().message();
}

TEST_F(BlockDecode, RejectsBadTransactionAndNamesItsIndex) {
  Block b = block(3);
  Bytes bad_tx = encode_transaction(b.transactions[1]);
  bad_tx[1 + kTransferTag.size()] = 9;  // unknown transfer version
  ByteWriter w;
  w.bytes32(encode_header(b.header)).u32(3);
  w.bytes32(encode_transaction(b.transactions[0])).bytes32(bad_tx);
  w.bytes32(encode_transaction(b.transactions[2]));
  auto decoded = decode_block(w.data(), BlockLimits{});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "transaction 1: unknown transfer version 9"))
      << decoded.status().message();
}

TEST_F(BlockDecode, RejectsTransactionWithTrailingByteInsideItsPrefix) {
  Block b = block(2);
  Bytes bad_tx = encode_transaction(b.transactions[0]);
  bad_tx.push_back(0);
  ByteWriter w;
  w.bytes32(encode_header(b.header)).u32(2);
  w.bytes32(bad_tx).bytes32(encode_transaction(b.transactions[1]));
  auto decoded = decode_block(w.data(), BlockLimits{});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(contains(decoded.status(), "transaction 0:")) << decoded.status().message();
}

TEST_F(BlockDecode, RejectsTransactionLongerThanTheLargestTransfer) {
  Block b = block(1);
  ByteWriter w;
  w.bytes32(encode_header(b.header)).u32(1).bytes32(Bytes(kTransferBytesMax + 1, 0));
  auto decoded = decode_block(w.data(), BlockLimits{});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(BlockDecode, RejectsBadHeader) {
  Block b = block(1);
  Bytes header_bytes = encode_header(b.header);
  header_bytes[1] = 'X';
  ByteWriter w;
  w.bytes32(header_bytes).u32(1).bytes32(encode_transaction(b.transactions[0]));
  auto decoded = decode_block(w.data(), BlockLimits{});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(contains(decoded.status(), "not a block header")) << decoded.status().message();
}

TEST_F(BlockDecode, RejectsEveryTruncation) {
  Bytes bytes = encode_block(block(2));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto decoded = decode_block(ByteView(bytes.data(), n), BlockLimits{});
    ASSERT_FALSE(decoded.is_ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << n;
  }
}

TEST_F(BlockDecode, RejectsTrailingBytes) {
  Bytes bytes = encode_block(block(2));
  bytes.push_back(0);
  auto decoded = decode_block(bytes, BlockLimits{});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "block: 1 trailing bytes")) << decoded.status().message();
}

// A count that cannot fit in the remaining bytes is refused before memory is reserved for it;
// with a reserve() of 2^32 transactions this test would die of bad_alloc.
TEST_F(BlockDecode, RejectsHugeDeclaredCountWithoutAllocating) {
  Block b = block(0);
  ByteWriter w;
  w.bytes32(encode_header(b.header)).u32(0xffffffffu).u32(0);
  BlockLimits limits{0xffffffffu, 1 << 20};
  auto decoded = decode_block(w.data(), limits);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "does not fit")) << decoded.status().message();

  ByteWriter small;
  small.bytes32(encode_header(b.header)).u32(1000).raw(Bytes(8, 0));
  auto decoded_small = decode_block(small.data(), limits);
  ASSERT_FALSE(decoded_small.is_ok());
  EXPECT_TRUE(contains(decoded_small.status(), "does not fit")) << decoded_small.status().message();
}

TEST_F(BlockDecode, RejectsHeaderLengthBeyondInput) {
  ByteWriter w;
  w.u32(0xfffffff0u).raw(Bytes(16, 0));
  auto decoded = decode_block(w.data(), BlockLimits{});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(decoded.status(), "block header")) << decoded.status().message();
}

// ---- Transactions root ----

Hash leaf(const SignedTransfer& t) {
  Bytes data = {0x00};
  Hash h = transaction_hash(t);
  data.insert(data.end(), h.bytes.begin(), h.bytes.end());
  return sha256(data);
}

Hash node(const Hash& left, const Hash& right) {
  Bytes data = {0x01};
  data.insert(data.end(), left.bytes.begin(), left.bytes.end());
  data.insert(data.end(), right.bytes.begin(), right.bytes.end());
  return sha256(data);
}

TEST_F(TransactionsRoot, EmptyListIsHashOfEmptyString) {
  EXPECT_EQ(transactions_root({}),
            *Hash::from_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

TEST_F(TransactionsRoot, OneTransactionIsItsLeafHash) {
  auto t = txs(1);
  EXPECT_EQ(transactions_root(t), leaf(t[0]));
  EXPECT_NE(transactions_root(t), transaction_hash(t[0]));
}

TEST_F(TransactionsRoot, TwoTransactionsAreOneNode) {
  auto t = txs(2);
  EXPECT_EQ(transactions_root(t), node(leaf(t[0]), leaf(t[1])));
}

TEST_F(TransactionsRoot, ThirdLeafIsPromoted) {
  auto t = txs(3);
  EXPECT_EQ(transactions_root(t), node(node(leaf(t[0]), leaf(t[1])), leaf(t[2])));
}

TEST_F(TransactionsRoot, FourTransactionsAreABalancedTree) {
  auto t = txs(4);
  EXPECT_EQ(transactions_root(t), node(node(leaf(t[0]), leaf(t[1])), node(leaf(t[2]), leaf(t[3]))));
}

TEST_F(TransactionsRoot, FiveTransactionsPromoteTheLastLeafTwice) {
  auto t = txs(5);
  EXPECT_EQ(transactions_root(t),
            node(node(node(leaf(t[0]), leaf(t[1])), node(leaf(t[2]), leaf(t[3]))), leaf(t[4])));
}

TEST_F(TransactionsRoot, OrderMatters) {
  auto t = txs(2);
  auto swapped = std::vector<SignedTransfer>{t[1], t[0]};
  EXPECT_NE(transactions_root(t), transactions_root(swapped));

  auto four = txs(4);
  auto four_swapped = std::vector<SignedTransfer>{four[0], four[1], four[3], four[2]};
  EXPECT_NE(transactions_root(four), transactions_root(four_swapped));
}

TEST_F(TransactionsRoot, DuplicatingTheOddLeafChangesTheRoot) {
  // Promotion (rather than Bitcoin-style duplication) keeps [a, b, c] and [a, b, c, c] apart.
  auto t = txs(3);
  auto padded = t;
  padded.push_back(t[2]);
  EXPECT_NE(transactions_root(t), transactions_root(padded));
}

}  // namespace
}  // namespace ledger
