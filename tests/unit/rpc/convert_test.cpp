// rpc/convert.h: parsing what clients send (hex hashes and addresses, transaction bytes) with
// messages a person can act on, and core types -> ledger.v1 messages on real chains.
#include "convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ledger/core/genesis.h"
#include "support/chain_fixture.h"
#include "support/test_keys.h"

namespace ledger::rpc {
namespace {

using ledger::testing::fixture_signer;
using ledger::testing::TestChain;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kChainId[] = "rpc-convert";
constexpr std::uint32_t kValidatorCount = 4;
constexpr std::array<std::uint8_t, 32> kAux{};

std::string bytes_string(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

ByteView string_bytes(const std::string& s) {
  return as_bytes(s);
}

std::vector<Signer> validator_signers() {
  std::vector<Signer> signers;
  for (std::uint32_t i = 0; i < kValidatorCount; ++i)
    signers.push_back(fixture_signer(i));
  return signers;
}

Genesis make_genesis() {
  Genesis g;
  g.chain_id = kChainId;
  g.genesis_time_ms = ledger::testing::kFixtureGenesisTimeMs;
  std::vector<Validator> validators;
  for (std::uint32_t i = 0; i < kValidatorCount; ++i) {
    validators.push_back({fixture_signer(i).public_key(), i + 1, "v" + std::to_string(i)});
  }
  g.validators = *ValidatorSet::create(validators);
  for (std::uint32_t i = 10; i < 12; ++i) {
    g.accounts.push_back({fixture_signer(i).public_key(), 1'000'000});
  }
  std::sort(g.accounts.begin(), g.accounts.end(),
            [](const auto& a, const auto& b) { return a.address < b.address; });
  return g;
}

BlockView view_of(const storage::BlockCommit& commit) {
  return BlockView{commit.block, commit.block.id(), commit.results, commit.commit_cert};
}

// block_to_proto for a view whose commit certificate height the view itself tells.
Status to_proto(const BlockView& view, v1::Block& out) {
  const auto certified_height = commit_cert_height(view);
  EXPECT_TRUE(certified_height.has_value());
  return block_to_proto(view, certified_height.value_or(0), out);
}

// ---- Hashes ----

TEST(ParseHash, AcceptsLowercaseHexAndRoundTrips) {
  const Hash hash = sha256(as_bytes("anything"));
  const auto parsed = parse_hash_hex("tx_hash", hash.hex());
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(*parsed, hash);
}

TEST(ParseHash, WrongLength_NamesFieldExpectedAndActualLength) {
  const auto parsed = parse_hash_hex("tx_hash", "0123456789ab");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "tx_hash must be 64 hex characters (got 12)");
}

TEST(ParseHash, Empty_IsAWrongLength) {
  const auto parsed = parse_hash_hex("id", "");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().message(), "id must be 64 hex characters (got 0)");
}

TEST(ParseHash, ZeroXPrefix_IsPointedOut) {
  const std::string hex = "0x" + sha256(as_bytes("x")).hex();
  const auto parsed = parse_hash_hex("tx_hash", hex);
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("(got 66)"));
  EXPECT_THAT(parsed.status().message(), HasSubstr("0x prefix"));
}

TEST(ParseHash, Uppercase_IsRejectedNamingThePosition) {
  std::string hex(64, '0');
  hex[3] = 'A';
  const auto parsed = parse_hash_hex("tx_hash", hex);
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "tx_hash must be lowercase hex ('A' at position 3)");
}

TEST(ParseHash, NonHexCharacter_IsRejectedNamingItAndThePosition) {
  std::string hex(64, 'f');
  hex[5] = 'g';
  const auto parsed = parse_hash_hex("id", hex);
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "id must be hex ('g' at position 5 is not 0-9 or a-f)");
}

TEST(ParseHash, UnprintableCharacter_IsShownEscaped) {
  std::string hex(64, '1');
  hex[63] = '\n';
  const auto parsed = parse_hash_hex("id", hex);
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("'\\x0a' at position 63"));
}

// ---- Addresses ----

TEST(ParseAddress, AcceptsAValidKey) {
  const Address address = fixture_signer(10).public_key();
  const auto parsed = parse_address_hex("address", address.hex());
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(*parsed, address);
}

TEST(ParseAddress, WrongLength_NamesFieldExpectedAndActualLength) {
  const auto parsed = parse_address_hex("address", "abcdef012345");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "address must be 64 hex characters (got 12)");
}

TEST(ParseAddress, Uppercase_IsRejected) {
  std::string hex = fixture_signer(10).public_key().hex();
  std::transform(hex.begin(), hex.end(), hex.begin(), [](char c) {
    return static_cast<char>(c >= 'a' && c <= 'f' ? c - 'a' + 'A' : c);
  });
  const auto parsed = parse_address_hex("address", hex);
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_THAT(parsed.status().message(), StartsWith("address must be lowercase hex"));
}

TEST(ParseAddress, KeyOffTheCurve_IsNotAnAddress) {
  const PublicKey off_curve = ledger::testing::off_curve_key();
  const auto parsed = parse_address_hex("address", off_curve.hex());
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), StartsWith("address " + off_curve.hex()));
  EXPECT_THAT(parsed.status().message(), HasSubstr("is not a valid account address"));
}

// ---- Transactions ----

class TransactionConvertTest : public ::testing::Test {
 protected:
  TransactionConvertTest() : alice_(fixture_signer(10)), bob_(fixture_signer(11)) {}

  SignedTransfer transfer_with_memo() const {
    Transfer t;
    t.chain_id = kChainId;
    t.sender = alice_.public_key();
    t.nonce = 7;
    t.recipient = bob_.public_key();
    t.amount = 12'345;
    t.memo = {0x00, 'h', 'i', 0xff};
    return sign_transfer(t, alice_, kAux);
  }

  Signer alice_;
  Signer bob_;
};

TEST_F(TransactionConvertTest, ParseTransaction_DecodesWireBytes) {
  const SignedTransfer tx = transfer_with_memo();
  const auto parsed = parse_transaction(bytes_string(encode_transaction(tx)));
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(*parsed, tx);
}

TEST_F(TransactionConvertTest, ParseTransaction_EmptyBytesAreMalformed) {
  const auto parsed = parse_transaction("");
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), StartsWith("malformed transaction: "));
}

TEST_F(TransactionConvertTest, ParseTransaction_TruncatedBytesAreMalformed) {
  std::string wire = bytes_string(encode_transaction(transfer_with_memo()));
  wire.pop_back();
  const auto parsed = parse_transaction(wire);
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), StartsWith("malformed transaction: "));
  // The decoder's own explanation follows the prefix.
  EXPECT_GT(parsed.status().message().size(), std::string("malformed transaction: ").size());
}

TEST_F(TransactionConvertTest, ParseTransaction_TrailingBytesAreMalformed) {
  std::string wire = bytes_string(encode_transaction(transfer_with_memo()));
  wire.push_back('\0');
  const auto parsed = parse_transaction(wire);
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_THAT(parsed.status().message(), StartsWith("malformed transaction: "));
}

TEST_F(TransactionConvertTest, ToProto_CarriesEveryFieldHashAndRawBytes) {
  const SignedTransfer tx = transfer_with_memo();
  v1::Transaction out;
  transaction_to_proto(tx, out);
  EXPECT_EQ(out.hash(), transaction_hash(tx).hex());
  EXPECT_EQ(out.chain_id(), kChainId);
  EXPECT_EQ(out.sender(), alice_.public_key().hex());
  EXPECT_EQ(out.nonce(), 7u);
  EXPECT_EQ(out.recipient(), bob_.public_key().hex());
  EXPECT_EQ(out.amount(), 12'345u);
  EXPECT_EQ(out.memo(), std::string("\0hi\xff", 4));
  EXPECT_EQ(out.signature(), tx.signature.hex());
  EXPECT_EQ(out.signature().size(), 128u);
  EXPECT_EQ(out.raw(), bytes_string(encode_transaction(tx)));
  const auto decoded = decode_transaction(string_bytes(out.raw()));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(*decoded, tx);
  EXPECT_EQ(sha256(string_bytes(out.raw())).hex(), out.hash());
}

TEST(TxResultConvert, EveryCoreCodeMapsToTheProtoValueOfTheSameName) {
  const std::vector<std::pair<TxResultCode, v1::TxResult>> table = {
      {TxResultCode::kSuccess, v1::TX_RESULT_SUCCESS},
      {TxResultCode::kBadNonce, v1::TX_RESULT_BAD_NONCE},
      {TxResultCode::kInsufficientFunds, v1::TX_RESULT_INSUFFICIENT_FUNDS},
      {TxResultCode::kBalanceOverflow, v1::TX_RESULT_BALANCE_OVERFLOW},
      {TxResultCode::kNonceExhausted, v1::TX_RESULT_NONCE_EXHAUSTED},
      {TxResultCode::kWrongChainId, v1::TX_RESULT_WRONG_CHAIN_ID},
      {TxResultCode::kBadSignature, v1::TX_RESULT_BAD_SIGNATURE},
  };
  for (const auto& [code, expected] : table) {
    EXPECT_EQ(tx_result_to_proto(code), expected) << tx_result_name(code);
  }
}

// ---- Blocks ----

class BlockConvertTest : public ::testing::Test {
 protected:
  BlockConvertTest() : genesis_(make_genesis()), chain_(genesis_, validator_signers()) {
    const Signer a = fixture_signer(10), b = fixture_signer(11);
    chain_.next({chain_.transfer(a, b.public_key(), 100)});
    // The second transfer repeats the nonce: recorded as a failed transaction (bad nonce).
    chain_.next({chain_.transfer(b, a.public_key(), 5), chain_.transfer(b, a.public_key(), 6)});
  }

  Genesis genesis_;
  TestChain chain_;
};

TEST_F(BlockConvertTest, Block_CarriesHeaderTransactionsResultsAndCommitCert) {
  const storage::BlockCommit& commit = chain_.last();
  const Block& block = commit.block;
  ASSERT_EQ(block.header.height, 2u);
  ASSERT_EQ(block.transactions.size(), 2u);

  v1::Block out;
  ASSERT_TRUE(to_proto(view_of(commit), out).is_ok());

  EXPECT_EQ(out.id(), block.id().hex());
  const v1::BlockHeader& header = out.header();
  EXPECT_EQ(header.chain_id(), kChainId);
  EXPECT_EQ(header.height(), 2u);
  EXPECT_EQ(header.round(), block.header.round);
  EXPECT_EQ(header.parent_id(), chain_.commits()[1].block.id().hex());
  EXPECT_EQ(header.proposer(), block.header.proposer.hex());
  EXPECT_EQ(header.timestamp_ms(), block.header.timestamp_ms);
  EXPECT_EQ(header.time(), format_rfc3339_utc_ms(block.header.timestamp_ms));
  EXPECT_EQ(header.transactions_root(), block.header.transactions_root.hex());
  EXPECT_EQ(header.state_root(), block.header.state_root.hex());

  ASSERT_EQ(out.transactions_size(), 2);
  ASSERT_EQ(out.results_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(out.transactions(i).hash(), transaction_hash(block.transactions[i]).hex());
    EXPECT_EQ(out.results(i), tx_result_to_proto(commit.results.codes[i]));
  }
  EXPECT_EQ(out.results(0), v1::TX_RESULT_SUCCESS);
  EXPECT_EQ(out.results(1), v1::TX_RESULT_BAD_NONCE);
  EXPECT_EQ(out.result_state_root(), commit.results.state_root.hex());

  const auto decoded = decode_block(string_bytes(out.raw()), genesis_.consensus.block_limits());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, block);
}

TEST_F(BlockConvertTest, ParentQc_CertifiesTheParentAtTheHeightBelow) {
  const Block& block = chain_.last().block;
  v1::Block out;
  ASSERT_TRUE(to_proto(view_of(chain_.last()), out).is_ok());
  const v1::QuorumCert& parent_qc = out.header().parent_qc();
  EXPECT_EQ(parent_qc.height(), 1u);
  EXPECT_EQ(parent_qc.block_id(), block.header.parent_id.hex());
  EXPECT_EQ(parent_qc.round(), block.header.parent_qc.round());
  EXPECT_EQ(parent_qc.raw(), bytes_string(encode_qc(block.header.parent_qc)));
}

TEST_F(BlockConvertTest, CommitCertHeight_IsTheChildsWhenTheQcBuildsOnTheBlock) {
  // The 2-chain commit of block 2 is a QC for its child, at height 3.
  const BlockView view = view_of(chain_.last());
  ASSERT_EQ(view.commit_cert.data.parent_id, view.id);
  EXPECT_EQ(commit_cert_height(view), std::optional<std::uint64_t>(3));
}

TEST_F(BlockConvertTest, CommitCertHeight_IsTheBlocksOwnForTheGenesisQc) {
  EXPECT_EQ(commit_cert_height(view_of(chain_.genesis())), std::optional<std::uint64_t>(0));
}

TEST_F(BlockConvertTest, CommitCertHeight_IsUnknownWhenTheQcBuildsOnALaterBlock) {
  // Block 1 committed together with block 2 carries block 2's certificate.
  BlockView view = view_of(chain_.commits()[1]);
  view.commit_cert = chain_.last().commit_cert;
  EXPECT_EQ(commit_cert_height(view), std::nullopt);
}

TEST_F(BlockConvertTest, CommitCert_NamesTheCertifiedBlockAndEverySigner) {
  const storage::BlockCommit& commit = chain_.last();
  v1::Block out;
  ASSERT_TRUE(block_to_proto(view_of(commit), 3, out).is_ok());
  const v1::QuorumCert& cert = out.commit_cert();
  EXPECT_EQ(cert.height(), 3u);
  EXPECT_EQ(cert.block_id(), commit.commit_cert.block_id().hex());
  EXPECT_EQ(cert.round(), commit.commit_cert.round());
  ASSERT_EQ(cert.signers_size(), static_cast<int>(kValidatorCount));
  for (std::size_t i = 0; i < kValidatorCount; ++i) {
    EXPECT_EQ(cert.signers(static_cast<int>(i)), commit.commit_cert.signatures[i].signer.hex());
  }
  const auto decoded = decode_qc(string_bytes(cert.raw()));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, commit.commit_cert);
}

TEST_F(BlockConvertTest, Genesis_HasNoTransactionsAndAParentQcAtHeightZero) {
  v1::Block out;
  ASSERT_TRUE(to_proto(view_of(chain_.genesis()), out).is_ok());
  EXPECT_EQ(out.header().height(), 0u);
  EXPECT_EQ(out.header().parent_qc().height(), 0u);
  EXPECT_EQ(out.header().parent_id(), genesis_.document_hash().hex());
  EXPECT_EQ(out.transactions_size(), 0);
  EXPECT_EQ(out.results_size(), 0);
  EXPECT_EQ(out.commit_cert().height(), 0u);
  EXPECT_EQ(out.header().time(), "2026-01-01T00:00:00Z");
}

TEST_F(BlockConvertTest, ResultsThatDoNotMatchTheTransactions_AreCorruption) {
  BlockView view = view_of(chain_.last());
  view.results.codes.pop_back();
  v1::Block out;
  const Status status = to_proto(view, out);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_EQ(status.message(), "block 2 has 2 transactions but its stored results have 1 codes");
}

// ---- Lookups and status ----

TEST_F(TransactionConvertTest, PendingLookup_HasNoLocation) {
  v1::GetTransactionResponse out;
  tx_lookup_to_proto(TxLookup{transfer_with_memo(), std::nullopt}, out);
  EXPECT_EQ(out.status(), v1::TX_STATUS_PENDING);
  EXPECT_EQ(out.transaction().hash(), transaction_hash(transfer_with_memo()).hex());
  EXPECT_EQ(out.height(), 0u);
  EXPECT_EQ(out.index(), 0u);
}

TEST_F(TransactionConvertTest, CommittedLookup_HasHeightIndexAndResult) {
  v1::GetTransactionResponse out;
  tx_lookup_to_proto(
      TxLookup{transfer_with_memo(), CommittedTx{41, 3, TxResultCode::kInsufficientFunds}}, out);
  EXPECT_EQ(out.status(), v1::TX_STATUS_COMMITTED);
  EXPECT_EQ(out.height(), 41u);
  EXPECT_EQ(out.index(), 3u);
  EXPECT_EQ(out.result(), v1::TX_RESULT_INSUFFICIENT_FUNDS);
}

TEST(AccountConvert, CarriesBalanceNonceAndHeight) {
  const Address address = fixture_signer(10).public_key();
  v1::GetAccountResponse out;
  account_to_proto(address, AccountAt{Account{500, 3}, 17}, out);
  EXPECT_EQ(out.address(), address.hex());
  EXPECT_EQ(out.balance(), 500u);
  EXPECT_EQ(out.nonce(), 3u);
  EXPECT_EQ(out.height(), 17u);
}

NodeStatusView sample_status() {
  NodeStatusView s;
  s.chain_id = kChainId;
  s.node_id = fixture_signer(0).public_key();
  s.validator = true;
  s.latest_height = 12;
  s.latest_block_id = sha256(as_bytes("block 12"));
  s.latest_block_time_ms = ledger::testing::kFixtureGenesisTimeMs + 1500;
  s.current_round = 14;
  s.mempool_size = 9;
  s.mempool_bytes = 1024;
  s.peer_count = 3;
  s.version = "node-version";
  return s;
}

TEST(StatusConvert, CarriesEveryField) {
  const NodeStatusView s = sample_status();
  v1::GetStatusResponse out;
  status_to_proto(s, "0.1.0", out);
  EXPECT_EQ(out.chain_id(), kChainId);
  EXPECT_EQ(out.node_id(), s.node_id.hex());
  EXPECT_TRUE(out.validator());
  EXPECT_EQ(out.latest_height(), 12u);
  EXPECT_EQ(out.latest_block_id(), s.latest_block_id.hex());
  EXPECT_EQ(out.latest_block_time_ms(), s.latest_block_time_ms);
  EXPECT_EQ(out.latest_block_time(), "2026-01-01T00:00:01.500Z");
  EXPECT_EQ(out.current_round(), 14u);
  EXPECT_EQ(out.mempool_size(), 9u);
  EXPECT_EQ(out.mempool_bytes(), 1024u);
  EXPECT_EQ(out.peer_count(), 3u);
  EXPECT_EQ(out.version(), "0.1.0");
}

TEST(StatusConvert, EmptyServerVersion_FallsBackToTheNodes) {
  v1::GetStatusResponse out;
  status_to_proto(sample_status(), "", out);
  EXPECT_EQ(out.version(), "node-version");
}

TEST(ValidatorsConvert, GenesisOrderPowersTotalAndQuorum) {
  const Genesis genesis = make_genesis();
  v1::GetValidatorsResponse out;
  validators_to_proto(genesis.validators, 8, out);
  ASSERT_EQ(out.validators_size(), static_cast<int>(kValidatorCount));
  for (std::uint32_t i = 0; i < kValidatorCount; ++i) {
    EXPECT_EQ(out.validators(static_cast<int>(i)).address(), fixture_signer(i).public_key().hex());
    EXPECT_EQ(out.validators(static_cast<int>(i)).power(), i + 1);
  }
  EXPECT_EQ(out.total_power(), 10u);  // 1 + 2 + 3 + 4
  EXPECT_EQ(out.quorum_power(), 7u);  // floor(2 * 10 / 3) + 1
  EXPECT_EQ(out.height(), 8u);
}

}  // namespace
}  // namespace ledger::rpc
