// config.toml (node/config.h): strict parsing, defaults, ranges, round trip, atomic write.
#include "ledger/node/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "support/test_keys.h"

namespace ledger::node {
namespace {

using ledger::testing::contains;

namespace fs = std::filesystem;

constexpr const char* kPeerKeyA =
    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
constexpr const char* kPeerKeyB =
    "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";

// The message of parsing `text`, which must fail with kInvalidArgument.
std::string parse_error(const std::string& text) {
  auto parsed = parse_config(text);
  EXPECT_FALSE(parsed.is_ok()) << text;
  if (parsed.is_ok()) return "";
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
  return parsed.status().message();
}

NodeConfig parse_ok(const std::string& text) {
  auto parsed = parse_config(text);
  EXPECT_TRUE(parsed.is_ok()) << text << "\n" << parsed.status().to_string();
  return parsed.is_ok() ? *parsed : NodeConfig{};
}

// Every field that config.toml holds (not rpc.version or mempool.tx_bytes_max).
void expect_same_file_fields(const NodeConfig& a, const NodeConfig& b) {
  EXPECT_EQ(a.moniker, b.moniker);
  EXPECT_EQ(a.key_file, b.key_file);
  EXPECT_EQ(a.genesis_file, b.genesis_file);
  EXPECT_EQ(a.data_dir, b.data_dir);
  EXPECT_EQ(a.log_level, b.log_level);
  EXPECT_EQ(a.rpc.listen_address, b.rpc.listen_address);
  EXPECT_EQ(a.rpc.message_bytes_max, b.rpc.message_bytes_max);
  EXPECT_EQ(a.rpc.submit_batch_max, b.rpc.submit_batch_max);
  EXPECT_EQ(a.rpc.subscribers_max, b.rpc.subscribers_max);
  EXPECT_EQ(a.rpc.waiters_max, b.rpc.waiters_max);
  EXPECT_EQ(a.rpc.threads_max, b.rpc.threads_max);
  EXPECT_EQ(a.rpc.admin, b.rpc.admin);
  EXPECT_EQ(a.mempool.txs_max, b.mempool.txs_max);
  EXPECT_EQ(a.mempool.bytes_max, b.mempool.bytes_max);
  EXPECT_EQ(a.mempool.per_sender_max, b.mempool.per_sender_max);
  EXPECT_EQ(a.mempool.nonce_window, b.mempool.nonce_window);
  EXPECT_EQ(a.mempool.ttl_blocks, b.mempool.ttl_blocks);
  EXPECT_EQ(a.signature_cache_max, b.signature_cache_max);
  EXPECT_EQ(a.consensus, b.consensus);
  EXPECT_EQ(a.p2p, b.p2p);
}

// A config with every file field away from its default.
NodeConfig unusual_config() {
  NodeConfig c;
  c.moniker = "node \"one\" \\ #7";
  c.key_file = "/etc/ledgerd/k\u00e9y.json";
  c.genesis_file = "chain/genesis.json";
  c.data_dir = "/var/lib/ledgerd";
  c.log_level = "debug";
  c.rpc.listen_address = "[::1]:0";
  c.rpc.admin = true;
  c.rpc.message_bytes_max = 4096;
  c.rpc.submit_batch_max = 100'000;
  c.rpc.subscribers_max = 3;
  c.rpc.waiters_max = 7;
  c.rpc.threads_max = 26;  // the least for 3 subscribers and 7 waiters
  c.mempool.txs_max = 10'000'000;
  c.mempool.bytes_max = std::size_t{64} * 1024 * 1024 * 1024;
  c.mempool.per_sender_max = 5;
  c.mempool.nonce_window = 1;
  c.mempool.ttl_blocks = 1'000'000;
  c.signature_cache_max = 1;
  c.consensus.tick_ms = 1000;
  c.consensus.empty_block_interval_ms = 0;
  c.consensus.block_interval_ms = 60'000;
  c.consensus.pending_blocks_max = 16;
  c.consensus.vote_rounds_max = 1000;
  c.consensus.verified_certs_max = 1;
  c.consensus.failed_certs_max = 1'000'000;
  c.consensus.evidence_max = 100'000;
  c.consensus.proposals_seen_max = 2;
  c.consensus.fetches_inflight_max = 1024;
  c.consensus.fetch_attempts_max = 1;
  c.consensus.payload_check_attempts_max = 100;
  c.p2p.listen = "0.0.0.0:65535";
  c.p2p.peers = {std::string(kPeerKeyA) + "@10.0.0.1:26656",
                 std::string(kPeerKeyB) + "@peer.example:1"};
  c.p2p.accept_unknown_peers = true;
  c.p2p.frame_bytes_max = 65536;
  c.p2p.send_queue_bytes_max = 131072;
  c.p2p.connections_max = 4096;
  c.p2p.handshake_timeout_ms = 100;
  c.p2p.write_timeout_ms = 600'000;
  c.p2p.dial_backoff_min_ms = 10;
  c.p2p.dial_backoff_max_ms = 10;
  c.p2p.gossip_interval_ms = 10'000;
  c.p2p.gossip_batch_max = 1;
  c.p2p.sync_blocks_max = 10'000;
  c.p2p.sync_requests_per_second = 100'000;
  c.p2p.status_interval_ms = 10;
  c.p2p.block_requests_per_second = 100'000;
  c.p2p.block_requests_burst = 1;
  c.p2p.sync_bytes_per_second = 65536;
  c.p2p.block_bytes_per_second = 17179869184ull;
  c.p2p.sync_proof_headers_max = 32;
  c.p2p.sync_retry_after_max_ms = 600'000;
  return c;
}

struct IntegerKey {
  std::string section;
  std::string key;
  std::uint64_t min;
  std::uint64_t max;
};

// docs/operator.md lists the same ranges.
const std::vector<IntegerKey>& integer_keys() {
  static const std::vector<IntegerKey> keys = {
      {"rpc", "message_bytes_max", 4096, 67108864},
      {"rpc", "submit_batch_max", 1, 100000},
      {"rpc", "subscribers_max", 1, 2000},
      {"rpc", "waiters_max", 1, 2000},
      {"rpc", "threads_max", 18, 4096},
      {"mempool", "txs_max", 1, 10000000},
      {"mempool", "bytes_max", 1048576, 68719476736},
      {"mempool", "per_sender_max", 1, 1000000},
      {"mempool", "nonce_window", 1, 1000000},
      {"mempool", "ttl_blocks", 1, 1000000},
      {"mempool", "signature_cache_max", 1, 100000000},
      {"consensus", "tick_ms", 1, 1000},
      {"consensus", "empty_block_interval_ms", 0, 600000},
      {"consensus", "block_interval_ms", 0, 60000},
      {"consensus", "pending_blocks_max", 16, 1000000},
      {"consensus", "vote_rounds_max", 2, 1000},
      {"consensus", "verified_certs_max", 1, 1000000},
      {"consensus", "failed_certs_max", 1, 1000000},
      {"consensus", "evidence_max", 1, 100000},
      {"consensus", "proposals_seen_max", 2, 100000},
      {"consensus", "fetches_inflight_max", 1, 1024},
      {"consensus", "fetch_attempts_max", 1, 1000},
      {"consensus", "payload_check_attempts_max", 1, 100},
      {"p2p", "frame_bytes_max", 65536, 1073741824},
      {"p2p", "send_queue_bytes_max", 131072, 17179869184},
      {"p2p", "connections_max", 1, 4096},
      {"p2p", "handshake_timeout_ms", 100, 600000},
      {"p2p", "write_timeout_ms", 100, 600000},
      {"p2p", "dial_backoff_min_ms", 10, 600000},
      {"p2p", "dial_backoff_max_ms", 10, 600000},
      {"p2p", "gossip_interval_ms", 1, 10000},
      {"p2p", "gossip_batch_max", 1, 100000},
      {"p2p", "sync_blocks_max", 1, 10000},
      {"p2p", "sync_requests_per_second", 1, 100000},
      {"p2p", "status_interval_ms", 10, 600000},
      {"p2p", "block_requests_per_second", 1, 100000},
      {"p2p", "block_requests_burst", 1, 100000},
      {"p2p", "sync_bytes_per_second", 65536, 17179869184},
      {"p2p", "block_bytes_per_second", 65536, 17179869184},
      {"p2p", "sync_proof_headers_max", 32, 2000000},
      {"p2p", "sync_retry_after_max_ms", 250, 600000},
  };
  return keys;
}

std::string entry(const std::string& section, const std::string& key, const std::string& value) {
  return "[" + section + "]\n" + key + " = " + value + "\n";
}

TEST(Config, EmptyFile_GivesDefaults) {
  NodeConfig parsed = parse_ok("");
  NodeConfig defaults;
  expect_same_file_fields(parsed, defaults);
  EXPECT_EQ(parsed.moniker, "ledgerd");
  EXPECT_EQ(parsed.key_file, "keys/node_key.json");
  EXPECT_EQ(parsed.rpc.listen_address, "127.0.0.1:26657");
  EXPECT_EQ(parsed.p2p.listen, "127.0.0.1:26656");
  EXPECT_TRUE(parsed.p2p.peers.empty());
  EXPECT_TRUE(validate_config(defaults).is_ok());
}

TEST(Config, MissingKeys_KeepDefaults) {
  NodeConfig parsed = parse_ok("[rpc]\nthreads_max = 300\n[node]\n");
  EXPECT_EQ(parsed.rpc.threads_max, 300);
  NodeConfig expected;
  expected.rpc.threads_max = 300;
  expect_same_file_fields(parsed, expected);
}

TEST(Config, DefaultEmptyBlockInterval_FitsTheDefaultGenesis) {
  NodeConfig config;
  Genesis genesis;
  EXPECT_TRUE(config.apply_genesis(genesis).is_ok());
}

TEST(Config, UnknownKey_IsNamed) {
  EXPECT_EQ(parse_error("[rpc]\nlistn = \"127.0.0.1:1\"\n"), "config.toml: rpc.listn: unknown key");
}

TEST(Config, UnknownSection_IsNamed) {
  EXPECT_EQ(parse_error("[rpcc]\nlisten = \"127.0.0.1:1\"\n"),
            "config.toml: rpcc: unknown section");
  EXPECT_EQ(parse_error("moniker = \"x\"\n"), "config.toml: moniker: unknown key");
}

TEST(Config, SectionThatIsNotATable_IsRefused) {
  EXPECT_EQ(parse_error("rpc = 5\n"), "config.toml: rpc: must be a table ([rpc])");
  EXPECT_EQ(parse_error("[[rpc]]\nthreads_max = 4\n"), "config.toml: rpc: must be a table ([rpc])");
}

TEST(Config, TxBytesMax_IsUnknownAndPointsAtGenesis) {
  std::string message = parse_error(entry("mempool", "tx_bytes_max", "400"));
  EXPECT_NE(message.find("config.toml: mempool.tx_bytes_max: unknown key"), std::string::npos);
  EXPECT_NE(message.find("transaction_bytes_max"), std::string::npos);
}

TEST(Config, RpcVersion_IsNotAKey) {
  EXPECT_EQ(parse_error(entry("rpc", "version", "\"1\"")), "config.toml: rpc.version: unknown key");
}

TEST(Config, WrongType_IsNamed) {
  EXPECT_EQ(parse_error(entry("rpc", "threads_max", "\"8\"")),
            "config.toml: rpc.threads_max: must be an integer");
  EXPECT_EQ(parse_error(entry("mempool", "txs_max", "1.5")),
            "config.toml: mempool.txs_max: must be an integer");
  EXPECT_EQ(parse_error(entry("consensus", "tick_ms", "true")),
            "config.toml: consensus.tick_ms: must be an integer");
  EXPECT_EQ(parse_error(entry("node", "moniker", "7")),
            "config.toml: node.moniker: must be a string");
  EXPECT_EQ(parse_error(entry("rpc", "listen", "26657")),
            "config.toml: rpc.listen: must be a string");
  EXPECT_EQ(parse_error(entry("p2p", "peers", "\"a@b:1\"")),
            "config.toml: p2p.peers: must be an array of strings");
  EXPECT_EQ(parse_error(entry("p2p", "peers", "[1, 2]")),
            "config.toml: p2p.peers: must be an array of strings");
}

TEST(Config, SyntaxError_GivesLineAndColumn) {
  std::string message = parse_error("[node]\nmoniker = \"a\"\nlog_level = = \"info\"\n");
  EXPECT_EQ(message.rfind("config.toml:3:", 0), 0u) << message;
  EXPECT_NE(message.find("syntax error"), std::string::npos) << message;
  // A repeated key is a syntax error too (TOML forbids it).
  message = parse_error("[rpc]\nthreads_max = 4\nthreads_max = 5\n");
  EXPECT_EQ(message.rfind("config.toml:3:", 0), 0u) << message;
}

TEST(Config, EveryInteger_OutOfRangeIsNamedWithItsRange) {
  for (const IntegerKey& k : integer_keys()) {
    const std::string name = "config.toml: " + k.section + "." + k.key + ": ";
    const std::string range =
        "must be between " + std::to_string(k.min) + " and " + std::to_string(k.max);
    EXPECT_EQ(parse_error(entry(k.section, k.key, std::to_string(k.max + 1))),
              name + range + " (got " + std::to_string(k.max + 1) + ")");
    EXPECT_EQ(parse_error(entry(k.section, k.key, "-1")), name + range + " (got -1)");
    if (k.min > 0) {
      EXPECT_EQ(parse_error(entry(k.section, k.key, std::to_string(k.min - 1))),
                name + range + " (got " + std::to_string(k.min - 1) + ")");
    }
  }
  EXPECT_EQ(parse_error(entry("mempool", "txs_max", "0")),
            "config.toml: mempool.txs_max: must be between 1 and 10000000 (got 0)");
}

// The rpc thread keys are also checked together (threads_max >= waiters_max +
// subscribers_max + 16); the others of the three are set so that any one key's bound fits.
std::string bound_entry(const IntegerKey& k, std::uint64_t value) {
  std::string text = entry(k.section, k.key, std::to_string(value));
  if (k.section == "p2p") {
    // frame_bytes_max + 65536 <= send_queue_bytes_max; dial_backoff_min_ms <= dial_backoff_max_ms.
    if (k.key == "frame_bytes_max") text += "send_queue_bytes_max = 17179869184\n";
    if (k.key == "send_queue_bytes_max") text += "frame_bytes_max = 65536\n";
    if (k.key == "dial_backoff_min_ms") text += "dial_backoff_max_ms = 600000\n";
    if (k.key == "dial_backoff_max_ms") text += "dial_backoff_min_ms = 10\n";
    // sync_proof_headers_max >= 2 * consensus.pending_blocks_max.
    if (k.key == "sync_proof_headers_max") text += "[consensus]\npending_blocks_max = 16\n";
    return text;
  }
  if (k.section != "rpc") return text;
  if (k.key != "threads_max") text += "threads_max = 4096\n";
  if (k.key != "waiters_max") text += "waiters_max = 1\n";
  if (k.key != "subscribers_max") text += "subscribers_max = 1\n";
  return text;
}

TEST(Config, EveryInteger_AcceptsItsBounds) {
  for (const IntegerKey& k : integer_keys()) {
    for (std::uint64_t value : {k.min, k.max}) {
      auto parsed = parse_config(bound_entry(k, value));
      EXPECT_TRUE(parsed.is_ok()) << k.section << "." << k.key << " = " << value << ": "
                                  << parsed.status().to_string();
    }
  }
}

TEST(Config, P2p_SendQueueMustHoldTheLargestFrame) {
  EXPECT_EQ(parse_error("[p2p]\nframe_bytes_max = 1048576\nsend_queue_bytes_max = 1048576\n"),
            "config.toml: p2p.send_queue_bytes_max (1048576) must be at least "
            "p2p.frame_bytes_max + 65536 (1114112), or the largest message could never be "
            "queued");
  EXPECT_TRUE(
      parse_config("[p2p]\nframe_bytes_max = 1048576\nsend_queue_bytes_max = 1114112\n").is_ok());
}

TEST(Config, P2p_SyncProofHeadersMax_CoversAnyHonestBatchAndAtLeastOwnBatches) {
  EXPECT_EQ(parse_ok("").p2p.sync_proof_headers_max, 2'000'000u);  // 2 * the largest pending
  EXPECT_EQ(parse_ok("").p2p.sync_retry_after_max_ms, 10'000u);
  EXPECT_EQ(parse_error("[p2p]\nsync_proof_headers_max = 2047\n"),
            "config.toml: p2p.sync_proof_headers_max (2047) must be at least 2 * "
            "consensus.pending_blocks_max (2048), or a batch this node's validator set commits "
            "could not be synced");
  EXPECT_TRUE(parse_config("[p2p]\nsync_proof_headers_max = 2048\n").is_ok());
}

TEST(Config, P2p_DialBackoffMaxAtLeastMin) {
  EXPECT_EQ(parse_error("[p2p]\ndial_backoff_min_ms = 500\ndial_backoff_max_ms = 499\n"),
            "config.toml: p2p.dial_backoff_max_ms (499) must be at least "
            "p2p.dial_backoff_min_ms (500)");
  NodeConfig c;
  c.p2p.dial_backoff_min_ms = 600'000;
  EXPECT_TRUE(contains(validate_config(c), "p2p.dial_backoff_max_ms"));
}

TEST(Config, P2p_AcceptUnknownPeersIsABoolean) {
  EXPECT_FALSE(parse_ok("").p2p.accept_unknown_peers);
  EXPECT_TRUE(parse_ok(entry("p2p", "accept_unknown_peers", "true")).p2p.accept_unknown_peers);
  EXPECT_EQ(parse_error(entry("p2p", "accept_unknown_peers", "1")),
            "config.toml: p2p.accept_unknown_peers: must be true or false");
  EXPECT_EQ(parse_error(entry("p2p", "accept_unknown_peers", "\"yes\"")),
            "config.toml: p2p.accept_unknown_peers: must be true or false");
}

TEST(Config, P2p_SyncRequestsPerSecond_DefaultsTo50AndIsBounded) {
  EXPECT_EQ(parse_ok("").p2p.sync_requests_per_second, 50u);
  EXPECT_EQ(parse_ok(entry("p2p", "sync_requests_per_second", "7")).p2p.sync_requests_per_second,
            7u);
  EXPECT_EQ(parse_error(entry("p2p", "sync_requests_per_second", "0")),
            "config.toml: p2p.sync_requests_per_second: must be between 1 and 100000 (got 0)");
  NodeConfig c;
  c.p2p.sync_requests_per_second = 0;
  EXPECT_TRUE(contains(validate_config(c), "p2p.sync_requests_per_second"));
  c.p2p.sync_requests_per_second = 9;
  EXPECT_NE(config_to_toml(c).find("sync_requests_per_second = 9"), std::string::npos);
}

TEST(Config, P2p_ByteRates_Default16MiBAndAreBounded) {
  EXPECT_EQ(parse_ok("").p2p.sync_bytes_per_second, 16u << 20);
  EXPECT_EQ(parse_ok("").p2p.block_bytes_per_second, 16u << 20);
  EXPECT_EQ(parse_ok(entry("p2p", "sync_bytes_per_second", "1000000")).p2p.sync_bytes_per_second,
            1'000'000u);
  EXPECT_EQ(parse_error(entry("p2p", "block_bytes_per_second", "1000")),
            "config.toml: p2p.block_bytes_per_second: must be between 65536 and 17179869184 "
            "(got 1000)");
  NodeConfig c;
  c.p2p.sync_bytes_per_second = 0;
  EXPECT_TRUE(contains(validate_config(c), "p2p.sync_bytes_per_second"));
  c.p2p.sync_bytes_per_second = 123456;
  EXPECT_NE(config_to_toml(c).find("sync_bytes_per_second = 123456"), std::string::npos);
}

TEST(Config, RpcAdmin_OnlyOnLoopback) {
  for (const char* listen : {"127.0.0.1:26657", "127.0.0.2:1", "localhost:0", "[::1]:9000"}) {
    NodeConfig c = parse_ok("[rpc]\nadmin = true\nlisten = \"" + std::string(listen) + "\"\n");
    EXPECT_TRUE(c.rpc.admin) << listen;
  }
  for (const char* listen : {"0.0.0.0:26657", "10.0.0.1:1", "[::]:9000", "example.com:1"}) {
    const std::string message =
        parse_error("[rpc]\nadmin = true\nlisten = \"" + std::string(listen) + "\"\n");
    EXPECT_EQ(message.rfind("config.toml: rpc.admin is only allowed with a loopback rpc.listen", 0),
              0u)
        << message;
    NodeConfig c;
    c.rpc.admin = true;
    c.rpc.listen_address = listen;
    EXPECT_TRUE(contains(validate_config(c), "rpc.admin")) << listen;
  }
  // Without admin any address is fine.
  EXPECT_FALSE(parse_ok(entry("rpc", "listen", "\"0.0.0.0:26657\"")).rpc.admin);
}

TEST(Config, RpcThreads_MustLeaveRoomBeyondWaitersAndSubscribers) {
  EXPECT_EQ(parse_error("[rpc]\nthreads_max = 100\nwaiters_max = 50\nsubscribers_max = 40\n"),
            "config.toml: rpc.threads_max (100) must be at least rpc.waiters_max + "
            "rpc.subscribers_max + 16 (106), so that waiting calls and subscriptions cannot take "
            "every server thread");
  EXPECT_TRUE(
      parse_config("[rpc]\nthreads_max = 106\nwaiters_max = 50\nsubscribers_max = 40\n").is_ok());
  NodeConfig config;
  config.rpc.waiters_max = 2000;
  EXPECT_EQ(validate_config(config).code(), StatusCode::kInvalidArgument);
  EXPECT_NE(validate_config(config).message().find("rpc.threads_max (256)"), std::string::npos);
}

TEST(Config, Moniker_MustBe1To64PrintableAscii) {
  EXPECT_EQ(parse_ok(entry("node", "moniker", "\"" + std::string(64, 'm') + "\"")).moniker,
            std::string(64, 'm'));
  EXPECT_EQ(parse_error(entry("node", "moniker", "\"\"")).rfind("config.toml: node.moniker: ", 0),
            0u);
  EXPECT_NE(parse_error(entry("node", "moniker", "\"" + std::string(65, 'm') + "\""))
                .find("node.moniker: must be 1 to 64 printable ASCII characters (got 65)"),
            std::string::npos);
  EXPECT_NE(
      parse_error(entry("node", "moniker", "\"a\\tb\"")).find("node.moniker: must be printable"),
      std::string::npos);
  EXPECT_NE(parse_error(entry("node", "moniker", "\"caf\u00e9\""))
                .find("node.moniker: must be printable"),
            std::string::npos);
}

TEST(Config, LogLevel_MustBeOneOfFive) {
  for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
    EXPECT_EQ(parse_ok(entry("node", "log_level", std::string("\"") + level + "\"")).log_level,
              level);
  }
  EXPECT_EQ(parse_error(entry("node", "log_level", "\"verbose\"")),
            "config.toml: node.log_level: must be one of trace, debug, info, warn, error (got "
            "\"verbose\")");
}

TEST(Config, Paths_MustBeNonEmpty) {
  for (const char* key : {"key_file", "genesis_file", "data_dir"}) {
    EXPECT_EQ(parse_error(entry("node", key, "\"\""))
                  .rfind("config.toml: node." + std::string(key) + ": must be a path", 0),
              0u);
  }
}

TEST(Config, Listen_MustBeHostColonPort) {
  for (const char* good :
       {"127.0.0.1:26657", "localhost:0", "0.0.0.0:65535", "[::1]:9000", "node.example:80"}) {
    EXPECT_EQ(parse_ok(entry("rpc", "listen", std::string("\"") + good + "\"")).rpc.listen_address,
              good);
    EXPECT_EQ(parse_ok(entry("p2p", "listen", std::string("\"") + good + "\"")).p2p.listen, good);
  }
  for (const char* bad : {"127.0.0.1", ":26657", "host:", "host:65536", "host:-1", "host:12a",
                          "host:000001", "::1:80", "[::1:80", "a b:1", "[]:1"}) {
    std::string message = parse_error(entry("rpc", "listen", std::string("\"") + bad + "\""));
    EXPECT_EQ(message.rfind("config.toml: rpc.listen: ", 0), 0u) << bad << ": " << message;
    EXPECT_NE(message.find(bad), std::string::npos) << message;
    message = parse_error(entry("p2p", "listen", std::string("\"") + bad + "\""));
    EXPECT_EQ(message.rfind("config.toml: p2p.listen: ", 0), 0u) << bad << ": " << message;
  }
  EXPECT_EQ(parse_error(entry("rpc", "listen", "\"host:65536\"")),
            "config.toml: rpc.listen: must be host:port with a port from 0 to 65535 (got "
            "\"host:65536\")");
}

TEST(Config, Peers_MustBeKeyAtHostPort) {
  const std::string good = std::string(kPeerKeyA) + "@127.0.0.1:26656";
  EXPECT_EQ(parse_ok(entry("p2p", "peers", "[\"" + good + "\"]")).p2p.peers,
            std::vector<std::string>{good});
  EXPECT_NE(parse_error(entry("p2p", "peers", "[\"" + good + "\", \"127.0.0.1:1\"]"))
                .find("config.toml: p2p.peers[1]: must be <64 hex public key>@host:port"),
            std::string::npos);
  // Not hex, uppercase, short, and off the curve.
  const std::string upper = "79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798";
  for (const std::string& key : {std::string(64, 'z'), upper, std::string(kPeerKeyA).substr(2),
                                 ledger::testing::off_curve_key().hex()}) {
    std::string message = parse_error(entry("p2p", "peers", "[\"" + key + "@h:1\"]"));
    EXPECT_EQ(message.rfind("config.toml: p2p.peers[0]: public key before '@': ", 0), 0u)
        << message;
  }
  EXPECT_EQ(parse_error(entry("p2p", "peers", "[\"" + std::string(kPeerKeyA) + "@h:99999\"]"))
                .rfind("config.toml: p2p.peers[0]: must be host:port", 0),
            0u);
  EXPECT_EQ(parse_error(entry("p2p", "peers", "[\"" + std::string(kPeerKeyA) + "@h:0\"]")),
            "config.toml: p2p.peers[0]: a peer's port must be 1 to 65535 (got \"" +
                std::string(kPeerKeyA) + "@h:0\")");
  EXPECT_EQ(parse_error(entry("p2p", "peers", "[\"" + good + "\", \"" + good + "\"]")),
            "config.toml: p2p.peers[1]: repeats an earlier entry");
}

TEST(Config, Peers_AtMost1024) {
  NodeConfig config;
  for (int i = 0; i < 1025; ++i) {
    config.p2p.peers.push_back(std::string(kPeerKeyA) + "@h:" + std::to_string(i + 1));
  }
  EXPECT_EQ(validate_config(config).message(),
            "config.toml: p2p.peers: must have at most 1024 entries (got 1025)");
  EXPECT_EQ(parse_error(config_to_toml(config)),
            "config.toml: p2p.peers: must have at most 1024 entries (got 1025)");
  config.p2p.peers.pop_back();
  EXPECT_TRUE(validate_config(config).is_ok());
}

TEST(Config, DottedKeysAndInlineTables_AreTheSameKeys) {
  NodeConfig parsed = parse_ok("rpc.threads_max = 309\nconsensus = { tick_ms = 20 }\n");
  EXPECT_EQ(parsed.rpc.threads_max, 309);
  EXPECT_EQ(parsed.consensus.tick_ms, 20u);
}

TEST(Config, ToToml_RoundTripsEveryField) {
  for (const NodeConfig& config : {NodeConfig{}, unusual_config()}) {
    ASSERT_TRUE(validate_config(config).is_ok()) << validate_config(config).to_string();
    std::string text = config_to_toml(config);
    auto parsed = parse_config(text);
    ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string() << "\n" << text;
    expect_same_file_fields(*parsed, config);
  }
}

TEST(Config, ToToml_PutsACommentAboveEveryKey) {
  std::string text = config_to_toml(unusual_config());
  std::vector<std::string> lines;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  int keys = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    bool is_key = !line.empty() && line[0] != '#' && line[0] != '[' && line[0] != ' ' &&
                  line[0] != ']' && line.find(" = ") != std::string::npos;
    if (!is_key) continue;
    ++keys;
    ASSERT_GT(i, 0u);
    EXPECT_EQ(lines[i - 1].rfind("# ", 0), 0u) << line;
  }
  EXPECT_EQ(keys, 51);  // 5 node, 7 rpc, 6 mempool, 12 consensus, 21 p2p
  // Integer comments state the range.
  EXPECT_NE(text.find("Between 1 and 10000000.\ntxs_max = 10000000\n"), std::string::npos) << text;
}

TEST(Config, Validate_NamesTheBadField) {
  NodeConfig config;
  config.rpc.threads_max = -3;
  EXPECT_EQ(validate_config(config).message(),
            "config.toml: rpc.threads_max: must be between 18 and 4096 (got -3)");
  config = NodeConfig{};
  config.mempool.txs_max = 0;
  EXPECT_EQ(validate_config(config).message(),
            "config.toml: mempool.txs_max: must be between 1 and 10000000 (got 0)");
  config = NodeConfig{};
  config.rpc.listen_address = "nowhere";
  EXPECT_EQ(validate_config(config).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(validate_config(config), "config.toml: rpc.listen: must be host:port"));
}

TEST(Config, ApplyGenesis_RefusesEmptyBlockIntervalNotBelowRoundTimeout) {
  NodeConfig config;
  config.consensus.empty_block_interval_ms = 2000;
  Genesis genesis;
  genesis.consensus.round_timeout_ms = 2000;
  Status status = config.apply_genesis(genesis);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(status, "consensus.empty_block_interval_ms (2000)")) << status.message();
  EXPECT_TRUE(contains(status, "round_timeout_ms (2000)")) << status.message();
  config.consensus.empty_block_interval_ms = 1999;
  EXPECT_TRUE(config.apply_genesis(genesis).is_ok());
}

TEST(Config, ApplyGenesis_RefusesBlockIntervalNotBelowRoundTimeout) {
  NodeConfig config;
  config.consensus.block_interval_ms = 1000;
  Genesis genesis;
  genesis.consensus.round_timeout_ms = 1000;
  Status status = config.apply_genesis(genesis);
  EXPECT_TRUE(contains(status, "consensus.block_interval_ms (1000)")) << status.message();
  EXPECT_TRUE(contains(status, "round_timeout_ms (1000)")) << status.message();
}

TEST(Config, ApplyGenesis_TakesTxBytesMaxFromGenesis) {
  NodeConfig config;
  Genesis genesis;
  genesis.consensus.transaction_bytes_max = 300;
  ASSERT_TRUE(config.apply_genesis(genesis).is_ok());
  EXPECT_EQ(config.mempool.tx_bytes_max, 300u);
  // Nothing changes on error.
  config.consensus.empty_block_interval_ms = genesis.consensus.round_timeout_ms;
  genesis.consensus.transaction_bytes_max = 200;
  EXPECT_FALSE(config.apply_genesis(genesis).is_ok());
  EXPECT_EQ(config.mempool.tx_bytes_max, 300u);
}

TEST(Config, Resolve_JoinsRelativeAndKeepsAbsolute) {
  EXPECT_EQ(NodeConfig::resolve("/h", "keys/node_key.json"), fs::path("/h/keys/node_key.json"));
  EXPECT_EQ(NodeConfig::resolve("/h", "/abs/data"), fs::path("/abs/data"));
}

TEST(ConfigFile, WriteThenLoad_RoundTrips) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "config.toml";
  NodeConfig config = unusual_config();
  Status written = write_config(path, config);
  ASSERT_TRUE(written.is_ok()) << written.to_string();
  auto loaded = load_config(path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  expect_same_file_fields(*loaded, config);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  // Only the file: no temporary left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  // Overwrites.
  config.moniker = "second";
  ASSERT_TRUE(write_config(path, config).is_ok());
  EXPECT_EQ(load_config(path)->moniker, "second");
}

TEST(ConfigFile, Write_RefusesAnInvalidConfig) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "config.toml";
  NodeConfig config;
  config.log_level = "loud";
  Status status = write_config(path, config);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(status, "node.log_level")) << status.message();
  EXPECT_FALSE(fs::exists(path));
}

TEST(ConfigFile, Load_MissingIsNotFound) {
  testing::TempDir dir;
  auto loaded = load_config(dir.path() / "config.toml");
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(contains(loaded.status(), (dir.path() / "config.toml").string()));
}

TEST(ConfigFile, Load_ErrorsStartWithThePath) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "config.toml";
  std::ofstream(path) << "[rpc]\nthreads_max = 1\n";
  auto loaded = load_config(path);
  EXPECT_EQ(loaded.status().message(),
            path.string() + ": rpc.threads_max: must be between 18 and 4096 (got 1)");
  std::ofstream(path) << "[rpc\n";
  loaded = load_config(path);
  EXPECT_EQ(loaded.status().message().rfind(path.string() + ":1:", 0), 0u)
      << loaded.status().message();
}

TEST(ConfigFile, Load_RefusesAnOversizedFile) {
  testing::TempDir dir;
  const fs::path path = dir.path() / "config.toml";
  std::ofstream(path) << std::string(kConfigFileBytesMax + 1, '#');
  auto loaded = load_config(path);
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(loaded.status(), "larger than"));
}

TEST(ConfigFile, Load_RefusesADirectory) {
  testing::TempDir dir;
  auto loaded = load_config(dir.path());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ledger::node
