// config.toml: a node's local settings (docs/operator.md has the reference). The genesis
// document holds what every node must agree on; this file holds what each operator may choose.
//
// Parsing is strict: an unknown section or key, a value of the wrong type or out of range is
// an error naming it, e.g. "config.toml: mempool.txs_max: must be between 1 and 10000000 (got 0)".
// Missing keys take the defaults below. Thread-compatible value types; the functions touch no
// shared state and are thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/core/genesis.h"
#include "ledger/core/status.h"
#include "ledger/node/mempool.h"
#include "ledger/rpc/server.h"

namespace ledger::node {

struct ConsensusConfig {
  std::uint64_t tick_ms = 10;  // 1..1000: how often the round timer advances
  // A leader proposes a block without transactions only this long after its parent (unless an
  // uncommitted ancestor holds transactions that this block would commit). Must be below the
  // genesis round_timeout_ms, or empty rounds would time out (the default genesis has 1000).
  std::uint64_t empty_block_interval_ms = 500;  // 0..600000
  // A leader with transactions waits at least this long after its parent's timestamp, so that
  // a block collects more than one transaction under load. Also below round_timeout_ms.
  std::uint64_t block_interval_ms = 0;    // 0..60000
  std::size_t pending_blocks_max = 1024;  // 16..1000000: uncommitted blocks kept
  // Bounds on what peers' consensus messages can make the replica keep or redo
  // (consensus::ReplicaConfig has the meaning of each; docs/operator.md the ranges).
  std::size_t vote_rounds_max = 8;               // 2..1000: rounds of votes and timeouts kept
  std::size_t verified_certs_max = 256;          // 1..1000000: certificates known valid
  std::size_t failed_certs_max = 256;            // 1..1000000: certificates known invalid
  std::size_t evidence_max = 64;                 // 1..100000: equivocation evidence kept
  std::size_t proposals_seen_max = 64;           // 2..100000: rounds whose proposal is kept
  std::size_t fetches_inflight_max = 8;          // 1..1024: outstanding block requests
  std::uint32_t fetch_attempts_max = 8;          // 1..1000: validators asked for one block
  std::uint32_t payload_check_attempts_max = 4;  // 1..100: checks of one proposal's payload

  friend bool operator==(const ConsensusConfig&, const ConsensusConfig&) = default;
};

struct P2pConfig {
  std::string listen = "127.0.0.1:26656";
  std::vector<std::string> peers;  // "<64 hex public key>@host:port"; at most 1024, distinct
  // Accept connections from nodes that are neither genesis validators nor listed in peers
  // (full nodes following the chain). Validators and listed peers are always accepted.
  bool accept_unknown_peers = false;
  std::uint64_t frame_bytes_max = 64ull * 1024 * 1024;  // 64 KiB..1 GiB, one message
  std::uint64_t send_queue_bytes_max =
      256ull * 1024 * 1024;          // 128 KiB..16 GiB per peer, >= frame_bytes_max + 64 KiB
  std::size_t connections_max = 64;  // 1..4096: authenticated and handshaking
  std::uint64_t handshake_timeout_ms = 5000;     // 100..600000
  std::uint64_t write_timeout_ms = 10000;        // 100..600000: a stuck peer is dropped
  std::uint64_t dial_backoff_min_ms = 100;       // 10..600000
  std::uint64_t dial_backoff_max_ms = 5000;      // 10..600000, >= dial_backoff_min_ms
  std::uint64_t gossip_interval_ms = 20;         // 1..10000: admitted transactions sent in batches
  std::size_t gossip_batch_max = 2000;           // 1..100000 transactions per batch
  std::uint32_t sync_blocks_max = 64;            // 1..10000 committed blocks per sync request
  std::uint64_t status_interval_ms = 1000;       // 10..600000: committed height told to peers
  std::uint32_t block_requests_per_second = 50;  // 1..100000 consensus block requests per peer
  std::uint32_t block_requests_burst = 100;      // 1..100000 of them at once
  // 1..100000: sync requests answered per peer per second (a token bucket of as many tokens);
  // more are dropped unanswered.
  std::uint32_t sync_requests_per_second = 50;
  // 65536..17179869184 (64 KiB..16 GiB): bytes of block-sync answers sent per peer per second
  // (a token bucket of as many bytes; answers shrink to fit it, one in debt drops requests).
  std::uint64_t sync_bytes_per_second = 16ull * 1024 * 1024;
  // The same for answers to consensus block requests (64 KiB..16 GiB).
  std::uint64_t block_bytes_per_second = 16ull * 1024 * 1024;
  // 32..2000000, >= 2 * consensus.pending_blocks_max: proof headers in one sync response. The
  // default covers the longest batch any honest validator can commit (kSyncProofHeadersMax).
  std::size_t sync_proof_headers_max = 2'000'000;
  // 250..600000: the longest a peer's busy answer ("retry after N ms") is waited for.
  std::uint64_t sync_retry_after_max_ms = 10'000;

  friend bool operator==(const P2pConfig&, const P2pConfig&) = default;
};

// load_config refuses a larger file before reading it.
inline constexpr std::uintmax_t kConfigFileBytesMax = 1024 * 1024;

struct NodeConfig {
  // [node]
  std::string moniker = "ledgerd";              // 1..64 characters, printable ASCII
  std::string key_file = "keys/node_key.json";  // relative paths are under the home directory
  std::string genesis_file = "genesis.json";
  std::string data_dir = "data";
  std::string log_level = "info";  // trace | debug | info | warn | error
  // [rpc]: listen_address, message_bytes_max, submit_batch_max, subscribers_max, waiters_max,
  // threads_max (keys as named in ServerOptions; "listen" for listen_address). rpc.version is
  // not in the file: the binary sets it.
  rpc::ServerOptions rpc;
  // [mempool]: txs_max, bytes_max, per_sender_max, nonce_window, ttl_blocks (tx_bytes_max comes
  // from genesis), and signature_cache_max.
  MempoolLimits mempool;
  std::size_t signature_cache_max = 200'000;  // 1..100000000
  // [consensus]
  ConsensusConfig consensus;
  // [p2p]
  P2pConfig p2p;

  // Checks what needs the genesis document: empty_block_interval_ms and block_interval_ms below
  // round_timeout_ms (kInvalidArgument, the message names both keys and values), and fills
  // mempool.tx_bytes_max from transaction_bytes_max. Changes nothing on error.
  Status apply_genesis(const Genesis& genesis);
  // Resolves a configured path against the home directory: absolute paths stay as they are.
  static std::filesystem::path resolve(const std::filesystem::path& home, const std::string& path);
};

// kInvalidArgument naming the key: unknown section or key, wrong type, out of range, or a TOML
// syntax error ("config.toml:3:7: syntax error: ..."). Messages start with "config.toml".
StatusOr<NodeConfig> parse_config(std::string_view toml_text);
// kNotFound if absent; kInvalidArgument if not a regular file or larger than
// kConfigFileBytesMax; kIoError on system failure; otherwise as parse_config, with the path in
// place of "config.toml" at the start of each message.
StatusOr<NodeConfig> load_config(const std::filesystem::path& path);
// The checks parse_config makes, on a config built in code (e.g. after command-line overrides).
// kInvalidArgument naming the key as in config.toml: "config.toml: rpc.threads_max: ...".
Status validate_config(const NodeConfig& config);
// Every key, with a comment line per key saying what it does and its range; parse_config of the
// result gives back `config`, except rpc.version and mempool.tx_bytes_max, which are not kept
// in the file (see above).
std::string config_to_toml(const NodeConfig& config);
// Atomic write (temporary file, fsync, rename, directory fsync), mode 0644. kInvalidArgument
// (writing nothing) if validate_config fails; kIoError naming the path on system failure.
Status write_config(const std::filesystem::path& path, const NodeConfig& config);

}  // namespace ledger::node
