// The genesis document (genesis.h): parsing, one rejection per field, the canonical hash, the
// genesis block, and the RFC 3339 time conversions.
#include "ledger/core/genesis.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace ledger {
namespace {

using Json = nlohmann::json;

// Keys of the secret keys 1, 2 and 3, and two keys from docs/transaction-format.md.
constexpr const char* kKey1 = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
constexpr const char* kKey2 = "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";
constexpr const char* kKey3 = "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9";
constexpr const char* kKey4 = "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659";
constexpr const char* kKey5 = "dd308afec5777e13121fa72b9cc1b7cc0139715309b086c960e18fd969774eb8";

constexpr const char* kValidDocument = R"({
  "chain_id": "ledgerd-test",
  "genesis_time": "2026-11-22T00:00:00Z",
  "validators": [
    {"public_key": "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", "power": 1, "name": "v0"},
    {"public_key": "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5", "power": 2, "name": "v1"},
    {"public_key": "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9", "power": 3, "name": "v2"}
  ],
  "accounts": [
    {"address": "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659", "balance": "1000000"},
    {"address": "dd308afec5777e13121fa72b9cc1b7cc0139715309b086c960e18fd969774eb8", "balance": 5}
  ],
  "consensus": {
    "block_transactions_max": 5000, "block_bytes_max": 4194304, "transaction_bytes_max": 471,
    "round_timeout_ms": 1000, "round_timeout_multiplier_percent": 150,
    "round_timeout_backoff_max": 6
  }
})";

Json valid_json() {
  return Json::parse(kValidDocument);
}

Genesis valid_genesis() {
  auto g = parse_genesis(kValidDocument);
  LEDGER_ASSERT(g.is_ok());
  return std::move(g).value();
}

Address key(const char* hex) {
  auto k = PublicKey::from_hex(hex);
  LEDGER_ASSERT(k.is_ok());
  return *k;
}

// Expects `text` to be rejected with kInvalidArgument and a message containing `needle`.
void expect_rejected(const std::string& text, const std::string& needle) {
  auto g = parse_genesis(text);
  ASSERT_FALSE(g.is_ok()) << "accepted; expected an error containing: " << needle;
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument) << g.status().to_string();
  EXPECT_NE(g.status().message().find(needle), std::string::npos)
      << "message: " << g.status().message() << "\nexpected to contain: " << needle;
}

void expect_rejected(const Json& doc, const std::string& needle) {
  expect_rejected(doc.dump(), needle);
}

TEST(Genesis, ValidDocument_Parses) {
  auto g = parse_genesis(kValidDocument);
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  EXPECT_EQ(g->chain_id, "ledgerd-test");
  EXPECT_EQ(g->genesis_time_ms, 1795305600000u);
  ASSERT_EQ(g->validators.size(), 3u);
  EXPECT_EQ(g->validators.at(1).key, key(kKey2));
  EXPECT_EQ(g->validators.at(2).power, 3u);
  EXPECT_EQ(g->validators.at(0).name, "v0");
  EXPECT_EQ(g->validators.total_power(), 6u);
  // Sorted by address: dd30... before dff1...
  ASSERT_EQ(g->accounts.size(), 2u);
  EXPECT_EQ(g->accounts[0], (GenesisAccount{key(kKey5), 5}));
  EXPECT_EQ(g->accounts[1], (GenesisAccount{key(kKey4), 1000000}));
  EXPECT_EQ(g->consensus, ConsensusParams{});
  EXPECT_EQ(g->consensus.block_limits().transactions_max, 5000u);
}

TEST(Genesis, RoundTrip_ThroughGenesisToJson) {
  Genesis g = valid_genesis();
  g.genesis_time_ms += 123;  // exercise the fraction form too
  std::string text = genesis_to_json(g);
  auto again = parse_genesis(text);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string() << "\n" << text;
  EXPECT_EQ(*again, g);
  EXPECT_EQ(genesis_to_json(*again), text);
  EXPECT_NE(text.find("\"balance\": \"1000000\""), std::string::npos) << text;
}

TEST(Genesis, Reject_MissingField) {
  Json doc = valid_json();
  doc.erase("consensus");
  expect_rejected(doc, "genesis: consensus: missing");
  doc = valid_json();
  doc["validators"][0].erase("name");
  expect_rejected(doc, "genesis: validators[0].name: missing");
  doc = valid_json();
  doc["accounts"][1].erase("balance");
  expect_rejected(doc, "genesis: accounts[1].balance: missing");
  doc = valid_json();
  doc["consensus"].erase("round_timeout_ms");
  expect_rejected(doc, "genesis: consensus.round_timeout_ms: missing");
}

TEST(Genesis, Reject_WrongType) {
  Json doc = valid_json();
  doc["chain_id"] = 5;
  expect_rejected(doc, "genesis: chain_id: must be a string");
  doc = valid_json();
  doc["validators"] = Json::object();
  expect_rejected(doc, "genesis: validators: must be an array");
  doc = valid_json();
  doc["accounts"][0] = "x";
  expect_rejected(doc, "genesis: accounts[0]: must be an object");
  doc = valid_json();
  doc["consensus"]["round_timeout_ms"] = "1000";
  expect_rejected(doc, "genesis: consensus.round_timeout_ms: must be an integer");
  doc = valid_json();
  doc["genesis_time"] = 1795305600000ull;
  expect_rejected(doc, "genesis: genesis_time: must be a string");
  expect_rejected(std::string("[1, 2]"), "genesis: must be a JSON object");
}

TEST(Genesis, Reject_BadChainId) {
  Json doc = valid_json();
  doc["chain_id"] = "bad chain";
  expect_rejected(doc, "genesis: chain_id:");
  doc["chain_id"] = "";
  expect_rejected(doc, "genesis: chain_id:");
  doc["chain_id"] = std::string(51, 'a');
  expect_rejected(doc, "genesis: chain_id:");
}

TEST(Genesis, Reject_BadKeyHex) {
  Json doc = valid_json();
  std::string upper = kKey2;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(c));
  doc["validators"][1]["public_key"] = upper;
  expect_rejected(doc, "genesis: validators[1].public_key: public key must be lowercase hex");
  doc["validators"][1]["public_key"] = std::string(kKey2).substr(2);
  expect_rejected(doc, "genesis: validators[1].public_key: expected 64 hex characters");
  doc["validators"][1]["public_key"] = std::string(64, 'f');  // above the field size: no point
  expect_rejected(doc, "genesis: validators[1].public_key:");
  doc = valid_json();
  doc["accounts"][0]["address"] = std::string(63, '0') + "g";
  expect_rejected(doc, "genesis: accounts[0].address:");
}

TEST(Genesis, Reject_BadPower) {
  for (Json power : {Json(0), Json(-1), Json(1.5), Json("1"), Json(nullptr)}) {
    Json doc = valid_json();
    doc["validators"][2]["power"] = power;
    expect_rejected(doc, "genesis: validators[2].power: must be a positive integer");
  }
  Json doc = valid_json();
  doc["validators"][2]["power"] = kTotalPowerMax;
  expect_rejected(doc, "genesis: validators[2].power: total voting power exceeds");
}

TEST(Genesis, Reject_DuplicateValidator) {
  Json doc = valid_json();
  doc["validators"][2]["public_key"] = kKey1;
  expect_rejected(doc, "genesis: validators[2].public_key: duplicate key");
  doc = valid_json();
  doc["validators"][1]["name"] = "v0";
  expect_rejected(doc, "genesis: validators[1].name: duplicate name");
}

TEST(Genesis, Reject_BadValidatorSetOrName) {
  Json doc = valid_json();
  doc["validators"] = Json::array();
  expect_rejected(doc, "genesis: validators: must hold 1..");
  doc = valid_json();
  doc["validators"][0]["name"] = "";
  expect_rejected(doc, "genesis: validators[0].name: must be 1..64 bytes");
  doc["validators"][0]["name"] = std::string(65, 'n');
  expect_rejected(doc, "genesis: validators[0].name: must be 1..64 bytes");
  doc["validators"][0]["name"] = "v 0";
  expect_rejected(doc, "genesis: validators[0].name: must contain only");
}

TEST(Genesis, Reject_DuplicateAccount) {
  Json doc = valid_json();
  doc["accounts"].push_back({{"address", kKey4}, {"balance", "7"}});
  expect_rejected(doc, "genesis: accounts[2].address: duplicate address " + std::string(kKey4));
}

TEST(Genesis, Reject_BalanceOverflow) {
  Json doc = valid_json();
  doc["accounts"][0]["balance"] = "18446744073709551616";
  expect_rejected(doc, "genesis: accounts[0].balance: exceeds 18446744073709551615");
  doc = valid_json();
  doc["accounts"][0]["balance"] = "18446744073709551615";  // alone it fits
  doc["accounts"][1]["balance"] = "1";
  expect_rejected(doc, "genesis: accounts[1].balance: the total of all balances exceeds");
  doc["accounts"][1]["balance"] = 18446744073709551615ull;
  expect_rejected(doc, "genesis: accounts[1].balance: the total of all balances exceeds");
}

TEST(Genesis, Reject_BalanceNegative) {
  for (Json balance : {Json("-5"), Json(-5)}) {
    Json doc = valid_json();
    doc["accounts"][1]["balance"] = balance;
    expect_rejected(doc, "genesis: accounts[1].balance:");
  }
}

TEST(Genesis, Reject_BalanceNotDecimal) {
  for (const char* balance : {"", "+5", "12a", "1e3", " 5", "5 ", "0x10", "1.0"}) {
    Json doc = valid_json();
    doc["accounts"][0]["balance"] = balance;
    expect_rejected(doc, "genesis: accounts[0].balance:");
  }
  Json doc = valid_json();
  doc["accounts"][0]["balance"] = "007";
  expect_rejected(doc, "genesis: accounts[0].balance: must not have leading zeros");
  doc["accounts"][0]["balance"] = "0";
  expect_rejected(doc, "genesis: accounts[0].balance: must be positive");
  doc["accounts"][0]["balance"] = 1.5;
  expect_rejected(doc, "genesis: accounts[0].balance: must be a decimal string");
}

TEST(Genesis, Reject_UnknownField) {
  Json doc = valid_json();
  doc["chain_idd"] = "ledgerd-test";
  expect_rejected(doc, "genesis: chain_idd: unknown field");
  doc = valid_json();
  doc["validators"][1]["powr"] = 1;
  expect_rejected(doc, "genesis: validators[1].powr: unknown field");
  doc = valid_json();
  doc["accounts"][0]["nonce"] = 0;
  expect_rejected(doc, "genesis: accounts[0].nonce: unknown field");
  doc = valid_json();
  doc["consensus"]["round_timeout"] = 5;
  expect_rejected(doc, "genesis: consensus.round_timeout: unknown field");
}

TEST(Genesis, Reject_DuplicateJsonKey) {
  std::string text = kValidDocument;
  text.insert(text.find("\"power\": 2"), "\"power\": 9, ");
  expect_rejected(text, "key \"power\" appears twice");
}

TEST(Genesis, Reject_OutOfRangeConsensusParams) {
  struct Case {
    const char* field;
    std::uint64_t value;
  };
  const Case cases[] = {
      {"block_transactions_max", 0},
      {"block_transactions_max", 100'001},
      {"block_bytes_max", 1023},
      {"block_bytes_max", (64ull << 20) + 1},
      {"transaction_bytes_max", 128},
      {"transaction_bytes_max", kTransferBytesMax + 1},
      {"round_timeout_ms", 9},
      {"round_timeout_ms", 600'001},
      {"round_timeout_multiplier_percent", 99},
      {"round_timeout_multiplier_percent", 1001},
      {"round_timeout_backoff_max", 33},
  };
  for (const Case& c : cases) {
    Json doc = valid_json();
    doc["consensus"][c.field] = c.value;
    expect_rejected(doc,
                    "genesis: consensus." + std::string(c.field) + ": must be an integer between");
  }
  Json doc = valid_json();
  doc["consensus"]["round_timeout_ms"] = -1;
  expect_rejected(doc,
                  "genesis: consensus.round_timeout_ms: must be an integer between 10 and 600000");
}

TEST(Genesis, ConsensusParams_Bounds) {
  // The extremes that are allowed.
  Json doc = valid_json();
  doc["consensus"] = {{"block_transactions_max", 1},
                      {"block_bytes_max", 64ull << 20},
                      {"transaction_bytes_max", 471},
                      {"round_timeout_ms", 10},
                      {"round_timeout_multiplier_percent", 1000},
                      {"round_timeout_backoff_max", 0}};
  auto g = parse_genesis(doc.dump());
  ASSERT_TRUE(g.is_ok()) << g.status().to_string();
  EXPECT_EQ(g->consensus.block_bytes_max, 64ull << 20);
}

TEST(Genesis, TransactionBytesMax_MustFitTheSmallestTransfer) {
  // A memo-less transfer on "ledgerd-test" is 177 bytes: a smaller limit admits nothing.
  Json doc = valid_json();
  doc["consensus"]["transaction_bytes_max"] = 176;
  expect_rejected(doc,
                  "genesis: consensus.transaction_bytes_max: must be an integer between 177 "
                  "and 471");
  doc["consensus"]["transaction_bytes_max"] = 177;
  EXPECT_TRUE(parse_genesis(doc.dump()).is_ok());
}

TEST(Genesis, BlockBytesMax_MustFitAFullHeaderAndOneTransaction) {
  // With 3 validators a header carrying a QC from all of them plus one 471-byte transaction
  // exceeds 1 KiB, so 1 KiB is refused.
  Json doc = valid_json();
  doc["consensus"]["block_bytes_max"] = 1024;
  expect_rejected(doc, "genesis: consensus.block_bytes_max: must be an integer between");
  doc["consensus"]["block_bytes_max"] = 4096;
  EXPECT_TRUE(parse_genesis(doc.dump()).is_ok());
}

TEST(Genesis, Reject_TooManyAccounts) {
  Json doc = valid_json();
  doc["accounts"] = Json::array();
  for (std::size_t i = 0; i <= kGenesisAccountsMax; ++i)
    doc["accounts"].push_back(nullptr);
  expect_rejected(doc, "genesis: accounts: has 400001 entries, the limit is 400000");
}

TEST(Genesis, Reject_MalformedJson) {
  expect_rejected(std::string(""), "genesis: malformed JSON");
  expect_rejected(std::string("{"), "genesis: malformed JSON");
  std::string truncated = kValidDocument;
  truncated.pop_back();
  expect_rejected(truncated, "genesis: malformed JSON");
  expect_rejected(std::string(kValidDocument) + " x", "genesis: malformed JSON");
  expect_rejected(std::string("{\"chain_id\": \"a\xff\"}"), "genesis: malformed JSON");
  // The message says where.
  expect_rejected(std::string("{\n  \"chain_id\": ,\n}"), "parse error at line 2, column 15");
}

TEST(Genesis, Reject_DeeplyNestedJson_WithoutExhaustingTheStack) {
  std::string nested = std::string(200'000, '[') + std::string(200'000, ']');
  expect_rejected("{\"accounts\": " + nested + "}", "genesis: chain_id: missing");
  expect_rejected("{\"accounts\": " + std::string(200'000, '['), "genesis: malformed JSON");
}

TEST(Genesis, Reject_BadTime) {
  for (const char* time : {"2026-11-22", "2026-02-30T00:00:00Z", "2026-11-22T00:00:00+00:00",
                           "1969-12-31T23:59:59Z", "not a time"}) {
    Json doc = valid_json();
    doc["genesis_time"] = time;
    expect_rejected(doc, "genesis: genesis_time:");
  }
}

TEST(Genesis, DocumentHash_ChangesWithEveryField) {
  const Genesis base = valid_genesis();
  auto with_validator = [&](auto change) {
    std::vector<Validator> v = base.validators.validators();
    change(v);
    Genesis g = base;
    g.validators = ValidatorSet::create(v).value();
    return g;
  };
  std::vector<Genesis> variants;
  auto add = [&](auto change) {
    Genesis g = base;
    change(g);
    variants.push_back(g);
  };
  add([](Genesis& g) { g.chain_id = "ledgerd-other"; });
  add([](Genesis& g) { g.genesis_time_ms += 1; });
  variants.push_back(with_validator([](auto& v) { v[0].power += 1; }));
  variants.push_back(with_validator([](auto& v) { v[0].name = "w0"; }));
  variants.push_back(with_validator([&](auto& v) { v[0].key = key(kKey4); }));
  variants.push_back(with_validator([](auto& v) { std::swap(v[0], v[1]); }));
  variants.push_back(with_validator([](auto& v) { v.pop_back(); }));
  add([](Genesis& g) { g.accounts[0].balance += 1; });
  add([](Genesis& g) { g.accounts[0].address = key(kKey1); });
  add([](Genesis& g) { g.accounts.pop_back(); });
  add([](Genesis& g) { g.consensus.block_transactions_max += 1; });
  add([](Genesis& g) { g.consensus.block_bytes_max += 1; });
  add([](Genesis& g) { g.consensus.transaction_bytes_max -= 1; });
  add([](Genesis& g) { g.consensus.round_timeout_ms += 1; });
  add([](Genesis& g) { g.consensus.round_timeout_multiplier_percent += 1; });
  add([](Genesis& g) { g.consensus.round_timeout_backoff_max += 1; });
  std::set<Hash> hashes{base.document_hash()};
  for (const Genesis& g : variants)
    hashes.insert(g.document_hash());
  EXPECT_EQ(hashes.size(), variants.size() + 1);
}

TEST(Genesis, DocumentHash_IndependentOfAccountOrder) {
  Genesis g = valid_genesis();
  Genesis reversed = g;
  std::swap(reversed.accounts[0], reversed.accounts[1]);
  EXPECT_EQ(g.document_hash(), reversed.document_hash());
  EXPECT_EQ(g.document_hash(), valid_genesis().document_hash());
}

TEST(Genesis, GenesisBlock_IsDeterministicAndWellFormed) {
  Genesis g = valid_genesis();
  Block block = g.genesis_block();
  EXPECT_EQ(block, valid_genesis().genesis_block());
  EXPECT_EQ(block.id(), valid_genesis().genesis_block().id());
  const BlockHeader& h = block.header;
  EXPECT_EQ(h.chain_id, g.chain_id);
  EXPECT_EQ(h.height, 0u);
  EXPECT_EQ(h.round, 0u);
  EXPECT_EQ(h.parent_id, g.document_hash());
  EXPECT_EQ(h.parent_qc, QuorumCert{});
  EXPECT_EQ(h.proposer, PublicKey{});
  EXPECT_EQ(h.timestamp_ms, g.genesis_time_ms);
  EXPECT_EQ(h.transactions_root, transactions_root({}));
  EXPECT_EQ(h.state_root, g.genesis_state().digest());
  EXPECT_TRUE(block.transactions.empty());
  // It encodes and decodes under its own limits.
  auto decoded = decode_block(encode_block(block), g.consensus.block_limits());
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, block);
  // A different document gives a different genesis block.
  Genesis other = g;
  other.accounts[0].balance += 1;
  EXPECT_NE(other.genesis_block().id(), block.id());
}

TEST(Genesis, GenesisState_HoldsEveryAllocation) {
  Genesis g = valid_genesis();
  StateAccumulator expected;
  expected.add(key(kKey4), {1000000, 0});
  expected.add(key(kKey5), {5, 0});
  EXPECT_EQ(g.genesis_state(), expected);
  EXPECT_EQ(g.genesis_block().header.state_root, expected.digest());
}

TEST(Rfc3339, Parse_KnownValues) {
  struct Case {
    const char* text;
    std::uint64_t ms;
  };
  const Case cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"1970-01-01T00:00:00.001Z", 1},
      {"2026-11-22T00:00:00Z", 1795305600000},
      {"2000-02-29T12:34:56.789Z", 951827696789},
      {"2000-02-29T12:34:56.7Z", 951827696700},
      {"2000-02-29T12:34:56.789999999Z", 951827696789},  // truncated, not rounded
      {"2024-02-29T23:59:59Z", 1709251199000},
      {"9999-12-31T23:59:59.999Z", 253402300799999},
  };
  for (const Case& c : cases) {
    auto ms = parse_rfc3339_utc_ms(c.text);
    ASSERT_TRUE(ms.is_ok()) << c.text << ": " << ms.status().to_string();
    EXPECT_EQ(*ms, c.ms) << c.text;
  }
}

TEST(Rfc3339, Format_KnownValues) {
  EXPECT_EQ(format_rfc3339_utc_ms(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339_utc_ms(1), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(format_rfc3339_utc_ms(1795305600000), "2026-11-22T00:00:00Z");
  EXPECT_EQ(format_rfc3339_utc_ms(951827696789), "2000-02-29T12:34:56.789Z");
  EXPECT_EQ(format_rfc3339_utc_ms(253402300799999), "9999-12-31T23:59:59.999Z");
}

TEST(Rfc3339, RoundTrip) {
  // Every day boundary across several leap cycles, plus odd milliseconds within a day.
  for (std::uint64_t ms = 0; ms < 253402300800000; ms += 86'400'000ull * 97 + 3'723'001) {
    auto parsed = parse_rfc3339_utc_ms(format_rfc3339_utc_ms(ms));
    ASSERT_TRUE(parsed.is_ok()) << ms << ": " << parsed.status().to_string();
    ASSERT_EQ(*parsed, ms);
  }
}

TEST(Rfc3339, Rejects) {
  for (const char* text : {
           "",
           "2026-11-22",
           "2026-11-22T00:00:00",              // no zone
           "2026-11-22T00:00:00+00:00",        // offsets are not accepted, only Z
           "2026-11-22t00:00:00z",             // lowercase
           "2026-11-22 00:00:00Z",             // space separator
           "2026-11-22T00:00:00.Z",            // empty fraction
           "2026-11-22T00:00:00.0000000000Z",  // 10 fraction digits
           "2026-11-22T00:00:00,5Z",
           "+2026-11-22T00:00:00Z",
           " 2026-11-22T00:00:00Z",
           "2026-1-22T00:00:00Z",
           "20261122T000000Z",
           "2026-13-01T00:00:00Z",
           "2026-00-01T00:00:00Z",
           "2026-11-00T00:00:00Z",
           "2026-04-31T00:00:00Z",
           "2025-02-29T00:00:00Z",  // not a leap year
           "2100-02-29T00:00:00Z",  // not a leap year either
           "2026-11-22T24:00:00Z",
           "2026-11-22T23:60:00Z",
           "2026-11-22T23:59:60Z",  // leap seconds are not supported
           "1969-12-31T23:59:59Z",
           "0000-01-01T00:00:00Z",
       }) {
    auto ms = parse_rfc3339_utc_ms(text);
    EXPECT_FALSE(ms.is_ok()) << "accepted \"" << text << "\" as " << (ms.is_ok() ? *ms : 0);
    if (!ms.is_ok()) {
      EXPECT_EQ(ms.status().code(), StatusCode::kInvalidArgument);
    }
  }
  auto bad = parse_rfc3339_utc_ms("2026-11-22 00:00:00Z");
  EXPECT_NE(bad.status().message().find("YYYY-MM-DDTHH:MM:SS"), std::string::npos);
  EXPECT_TRUE(parse_rfc3339_utc_ms("2000-02-29T00:00:00Z").is_ok());
}

}  // namespace
}  // namespace ledger
