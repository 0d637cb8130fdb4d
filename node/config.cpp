#include "ledger/node/config.h"

#include "ledger/storage/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <cerrno>
#include <set>
#include <string>
#include <type_traits>

namespace ledger::node {

namespace {

constexpr std::string_view kSourceName = "config.toml";
constexpr std::size_t kMonikerBytesMax = 64;
constexpr std::size_t kPathBytesMax = 4096;
constexpr std::size_t kPeersMax = 1024;
// Room in a peer's send queue beyond one largest frame (length prefix, authentication tag).
constexpr std::uint64_t kFrameQueueSlack = 64 * 1024;
// gRPC threads left for submissions and queries when every waiter and subscriber holds one.
constexpr std::size_t kRpcThreadsSpare = 16;

struct Range {
  std::uint64_t min;
  std::uint64_t max;
};

// ---- Checks of one string value. Each returns ok or kInvalidArgument("must be ...") without
// the key's name, which the caller prefixes.

Status check_moniker(std::string_view value) {
  if (value.empty() || value.size() > kMonikerBytesMax) {
    return Status::invalid_argument("must be 1 to 64 printable ASCII characters (got " +
                                    std::to_string(value.size()) + ")");
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    auto ch = static_cast<unsigned char>(value[i]);
    if (ch < 0x20 || ch > 0x7e) {
      return Status::invalid_argument("must be printable ASCII (character " + std::to_string(i) +
                                      " is not)");
    }
  }
  return Status::ok();
}

Status check_path(std::string_view value) {
  if (value.empty() || value.size() > kPathBytesMax) {
    return Status::invalid_argument("must be a path of 1 to 4096 bytes (got " +
                                    std::to_string(value.size()) + ")");
  }
  for (char ch : value) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      return Status::invalid_argument("must not contain control characters");
    }
  }
  return Status::ok();
}

Status check_log_level(std::string_view value) {
  for (std::string_view level : {"trace", "debug", "info", "warn", "error"}) {
    if (value == level) return Status::ok();
  }
  return Status::invalid_argument("must be one of trace, debug, info, warn, error (got \"" +
                                  std::string(value) + "\")");
}

// "host:port": the port is the text after the last colon, 0..65535; the host is non-empty,
// without whitespace, and an IPv6 host is bracketed ("[::1]:26657").
Status check_host_port(std::string_view value) {
  const std::string expected =
      "must be host:port with a port from 0 to 65535 (got \"" + std::string(value) + "\")";
  const std::size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) return Status::invalid_argument(expected);
  const std::string_view host = value.substr(0, colon);
  const std::string_view port = value.substr(colon + 1);
  if (host.empty() || port.empty() || port.size() > 5) return Status::invalid_argument(expected);
  std::uint32_t number = 0;
  for (char ch : port) {
    if (ch < '0' || ch > '9') return Status::invalid_argument(expected);
    number = number * 10 + static_cast<std::uint32_t>(ch - '0');
  }
  if (number > 65535) return Status::invalid_argument(expected);
  for (char ch : host) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      return Status::invalid_argument("host must not contain spaces or control characters (got \"" +
                                      std::string(value) + "\")");
    }
  }
  const bool bracketed = host.front() == '[';
  if (bracketed != (host.back() == ']') || (bracketed && host.size() < 3) ||
      (!bracketed && host.find(':') != std::string_view::npos)) {
    return Status::invalid_argument(
        "an IPv6 host must be in brackets, e.g. \"[::1]:26657\" (got \"" + std::string(value) +
        "\")");
  }
  return Status::ok();
}

// "<64 hex public key>@host:port".
Status check_peer(std::string_view value) {
  const std::size_t at = value.find('@');
  if (at == std::string_view::npos) {
    return Status::invalid_argument("must be <64 hex public key>@host:port (got \"" +
                                    std::string(value) + "\")");
  }
  auto key = PublicKey::from_hex(value.substr(0, at));
  if (!key.is_ok()) return key.status().with_context("public key before '@'");
  const std::string_view address = value.substr(at + 1);
  LEDGER_RETURN_IF_ERROR(check_host_port(address));
  if (address.substr(address.rfind(':') + 1) == "0") {
    return Status::invalid_argument("a peer's port must be 1 to 65535 (got \"" +
                                    std::string(value) + "\")");
  }
  return Status::ok();
}

// ---- The list of keys. visit_keys calls the visitor once per section and key, in file order,
// with a reference into `config` (const or not), so that writing, parsing and validating share
// one list. The comment of each key is written above it by config_to_toml.

template <typename Config, typename Visitor>
void visit_keys(Config& c, Visitor& v) {
  v.section("node", "This node: its name and where its files are.");
  v.string("moniker", c.moniker, check_moniker,
           "Name of this node in logs and status: 1 to 64 printable ASCII characters.");
  v.string("key_file", c.key_file, check_path,
           "The node's (validator's) key file, mode 0600. Relative paths are under the home "
           "directory.");
  v.string("genesis_file", c.genesis_file, check_path,
           "The genesis document. Relative paths are under the home directory.");
  v.string("data_dir", c.data_dir, check_path,
           "The block store (RocksDB). Relative paths are under the home directory.");
  v.string("log_level", c.log_level, check_log_level,
           "Least severe level logged: trace, debug, info, warn or error.");

  v.section("rpc", "The gRPC API (ledger.v1.Ledger) that ledgerctl and clients use.");
  v.string("listen", c.rpc.listen_address, check_host_port,
           "host:port to listen on; port 0 picks a free port (the bound address is written to "
           "<home>/rpc.address). The API is unauthenticated: keep it on loopback unless the "
           "network is trusted.");
  v.integer("message_bytes_max", c.rpc.message_bytes_max, Range{4096, 64 * 1024 * 1024},
            "Largest request or response message, in bytes.");
  v.integer("submit_batch_max", c.rpc.submit_batch_max, Range{1, 100'000},
            "Transactions accepted in one SubmitTransactions call.");
  v.integer("subscribers_max", c.rpc.subscribers_max, Range{1, 2'000},
            "Concurrent SubscribeBlocks streams.");
  v.integer("waiters_max", c.rpc.waiters_max, Range{1, 2'000},
            "Concurrent SubmitTransaction calls waiting for their commit.");
  v.integer("threads_max", c.rpc.threads_max, Range{2 + kRpcThreadsSpare, 4096},
            "gRPC server threads (one per call in progress). At least waiters_max + "
            "subscribers_max + 16.");
  v.boolean("admin", c.rpc.admin,
            "Also serve ledger.v1.Admin, which can cut this node off from its peers (testnet "
            "fault injection). Only allowed when listen is on loopback (127.0.0.1, [::1] or "
            "localhost).");

  v.section("mempool",
            "Transactions admitted but not yet committed. The largest transaction comes from "
            "genesis (consensus.transaction_bytes_max).");
  v.integer("txs_max", c.mempool.txs_max, Range{1, 10'000'000}, "Pending transactions.");
  v.integer("bytes_max", c.mempool.bytes_max,
            Range{1024 * 1024, std::uint64_t{64} * 1024 * 1024 * 1024},
            "Pending transactions' wire bytes.");
  v.integer("per_sender_max", c.mempool.per_sender_max, Range{1, 1'000'000},
            "Pending transactions of one sender.");
  v.integer("nonce_window", c.mempool.nonce_window, Range{1, 1'000'000},
            "How far above a sender's committed nonce a transaction may be admitted.");
  v.integer("ttl_blocks", c.mempool.ttl_blocks, Range{1, 1'000'000},
            "A pending transaction is dropped after this many committed blocks.");
  v.integer("signature_cache_max", c.signature_cache_max, Range{1, 100'000'000},
            "Verified signatures remembered, so that a transaction is verified once.");

  v.section("consensus",
            "Local timing. What all nodes must agree on (round timeout, block limits) is in "
            "genesis.");
  v.integer("tick_ms", c.consensus.tick_ms, Range{1, 1000},
            "How often the round timer advances, in milliseconds.");
  v.integer("empty_block_interval_ms", c.consensus.empty_block_interval_ms, Range{0, 600'000},
            "A leader without transactions proposes this long after the parent block. Must be "
            "below the genesis round_timeout_ms.");
  v.integer("block_interval_ms", c.consensus.block_interval_ms, Range{0, 60'000},
            "A leader with transactions waits at least this long after the parent block, so "
            "that blocks fill under load. Must be below the genesis round_timeout_ms.");
  v.integer("pending_blocks_max", c.consensus.pending_blocks_max, Range{16, 1'000'000},
            "Uncommitted blocks kept.");
  v.integer("vote_rounds_max", c.consensus.vote_rounds_max, Range{2, 1000},
            "Rounds, from the current one, whose votes and timeouts are kept; a vote for a "
            "round beyond is refused before its signature is checked.");
  v.integer("verified_certs_max", c.consensus.verified_certs_max, Range{1, 1'000'000},
            "Certificates remembered as verified, so that copies cost no signature check.");
  v.integer("failed_certs_max", c.consensus.failed_certs_max, Range{1, 1'000'000},
            "Certificates remembered as invalid, so that a resent one costs no signature check.");
  v.integer("evidence_max", c.consensus.evidence_max, Range{1, 100'000},
            "Equivocation evidence kept in memory, oldest dropped first.");
  v.integer("proposals_seen_max", c.consensus.proposals_seen_max, Range{2, 100'000},
            "Rounds whose first proposal is remembered, to detect a leader that proposes twice.");
  v.integer("fetches_inflight_max", c.consensus.fetches_inflight_max, Range{1, 1024},
            "Outstanding requests for missing blocks.");
  v.integer("fetch_attempts_max", c.consensus.fetch_attempts_max, Range{1, 1000},
            "Validators asked for one missing block before the request is given up.");
  v.integer("payload_check_attempts_max", c.consensus.payload_check_attempts_max, Range{1, 100},
            "Checks of one proposal's transactions while this node's own check fails "
            "transiently (a failed read, say); the proposal is not voted for after the last.");

  v.section("p2p", "Peer-to-peer networking: consensus messages, transaction gossip, block sync.");
  v.string("listen", c.p2p.listen, check_host_port,
           "host:port to listen on for peers; port 0 picks a free port.");
  v.strings("peers", c.p2p.peers, kPeersMax, check_peer,
            "Peers to connect to, each \"<64 hex public key>@host:port\"; at most 1024. A peer "
            "that answers with another key is refused.");
  v.boolean("accept_unknown_peers", c.p2p.accept_unknown_peers,
            "Accept connections from nodes that are neither genesis validators nor listed in "
            "peers (full nodes). Validators and listed peers are always accepted.");
  v.integer("frame_bytes_max", c.p2p.frame_bytes_max,
            Range{64 * 1024, std::uint64_t{1024} * 1024 * 1024},
            "Largest message to or from a peer, in bytes; a peer that sends a larger one is "
            "dropped.");
  v.integer("send_queue_bytes_max", c.p2p.send_queue_bytes_max,
            Range{128 * 1024, std::uint64_t{16} * 1024 * 1024 * 1024},
            "Bytes queued for one peer; a peer that falls this far behind is dropped. At least "
            "frame_bytes_max + 65536.");
  v.integer("connections_max", c.p2p.connections_max, Range{1, 4096},
            "Peer connections, authenticated or still in their handshake.");
  v.integer("handshake_timeout_ms", c.p2p.handshake_timeout_ms, Range{100, 600'000},
            "A connection that has not completed its handshake after this long is closed.");
  v.integer("write_timeout_ms", c.p2p.write_timeout_ms, Range{100, 600'000},
            "A peer that does not take a queued message within this long is dropped.");
  v.integer("dial_backoff_min_ms", c.p2p.dial_backoff_min_ms, Range{10, 600'000},
            "First delay before redialing a peer; doubles after each failure.");
  v.integer("dial_backoff_max_ms", c.p2p.dial_backoff_max_ms, Range{10, 600'000},
            "Longest delay between redials. At least dial_backoff_min_ms.");
  v.integer("gossip_interval_ms", c.p2p.gossip_interval_ms, Range{1, 10'000},
            "Admitted transactions are sent to peers in batches at most this often.");
  v.integer("gossip_batch_max", c.p2p.gossip_batch_max, Range{1, 100'000},
            "Transactions in one gossip batch.");
  v.integer("sync_blocks_max", c.p2p.sync_blocks_max, Range{1, 10'000},
            "Committed blocks asked for in one block-sync request.");
  v.integer("sync_requests_per_second", c.p2p.sync_requests_per_second, Range{1, 100'000},
            "Block-sync requests answered per peer per second (bursts of as many); more are "
            "dropped unanswered.");
  v.integer("sync_bytes_per_second", c.p2p.sync_bytes_per_second,
            Range{64 * 1024, std::uint64_t{16} * 1024 * 1024 * 1024},
            "Bytes of block-sync answers sent per peer per second (bursts of as many). Answers "
            "are cut to what the peer has left; a peer in debt after a large answer has its "
            "requests dropped until it is repaid.");
  v.integer("status_interval_ms", c.p2p.status_interval_ms, Range{10, 600'000},
            "How often this node tells its peers its committed height.");
  v.integer("block_requests_per_second", c.p2p.block_requests_per_second, Range{1, 100'000},
            "Consensus block requests answered per peer and second; more are dropped.");
  v.integer("block_requests_burst", c.p2p.block_requests_burst, Range{1, 100'000},
            "Consensus block requests a peer may make at once before its rate applies.");
  v.integer("block_bytes_per_second", c.p2p.block_bytes_per_second,
            Range{64 * 1024, std::uint64_t{16} * 1024 * 1024 * 1024},
            "Bytes of answers to consensus block requests sent per peer per second (bursts of "
            "as many), as for sync_bytes_per_second.");
  v.integer("sync_proof_headers_max", c.p2p.sync_proof_headers_max, Range{32, 2'000'000},
            "Proof headers in one block-sync response, asked or sent. A batch of blocks "
            "committed together can be twice the pending_blocks_max of the validators that "
            "made it (up to 2000000), whatever this node's own; a smaller value can make such "
            "a batch impossible to sync. At least 2 * consensus.pending_blocks_max.");
  v.integer("sync_retry_after_max_ms", c.p2p.sync_retry_after_max_ms, Range{250, 600'000},
            "The longest wait a peer's busy answer to a block-sync request is honoured for; "
            "a longer one is cut to this.");
}

std::string range_text(Range range) {
  return "between " + std::to_string(range.min) + " and " + std::to_string(range.max);
}

// How messages name a key: "config.toml: rpc.listen".
struct KeyNamer {
  std::string source;
  std::string section;
  std::string operator()(std::string_view key) const {
    return source + ": " + section + "." + std::string(key);
  }
};

// ---- Writing.

std::string toml_string(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char ch : value) {
    auto byte = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (byte < 0x20 || byte == 0x7f) {
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

class TomlWriter {
 public:
  explicit TomlWriter(std::string& out) : out_(out) {}

  void section(std::string_view name, std::string_view doc) {
    out_ += "\n# " + std::string(doc) + "\n[" + std::string(name) + "]\n";
  }
  template <typename T>
  void integer(std::string_view key, const T& value, Range range, std::string_view doc) {
    out_ += "# " + std::string(doc) + " " + capitalized(range_text(range)) + ".\n";
    out_ += std::string(key) + " = " + std::to_string(value) + "\n";
  }
  void string(std::string_view key, const std::string& value, Status (*)(std::string_view),
              std::string_view doc) {
    out_ += "# " + std::string(doc) + "\n";
    out_ += std::string(key) + " = " + toml_string(value) + "\n";
  }
  void boolean(std::string_view key, bool value, std::string_view doc) {
    out_ += "# " + std::string(doc) + " true or false.\n";
    out_ += std::string(key) + " = " + (value ? "true" : "false") + "\n";
  }
  void strings(std::string_view key, const std::vector<std::string>& values, std::size_t,
               Status (*)(std::string_view), std::string_view doc) {
    out_ += "# " + std::string(doc) + "\n";
    out_ += std::string(key) + " = [";
    for (std::size_t i = 0; i < values.size(); ++i) {
      out_ += (i == 0 ? "\n  " : ",\n  ") + toml_string(values[i]);
    }
    out_ += values.empty() ? "]\n" : ",\n]\n";
  }

 private:
  static std::string capitalized(std::string text) {
    text[0] = static_cast<char>(text[0] - 'a' + 'A');
    return text;
  }
  std::string& out_;
};

// ---- Checking a config built in code.

class Checker {
 public:
  void section(std::string_view name, std::string_view) { namer_.section = name; }
  template <typename T>
  void integer(std::string_view key, const T& value, Range range, std::string_view) {
    if (!status_.is_ok()) return;
    bool negative = false;
    if constexpr (std::is_signed_v<T>) negative = value < 0;
    if (negative || static_cast<std::uint64_t>(value) < range.min ||
        static_cast<std::uint64_t>(value) > range.max) {
      status_ = Status::invalid_argument(namer_(key) + ": must be " + range_text(range) + " (got " +
                                         std::to_string(value) + ")");
    }
  }
  void string(std::string_view key, const std::string& value, Status (*check)(std::string_view),
              std::string_view) {
    if (status_.is_ok()) status_ = check(value).with_context(namer_(key));
  }
  void boolean(std::string_view, bool, std::string_view) {}
  void strings(std::string_view key, const std::vector<std::string>& values, std::size_t count_max,
               Status (*check)(std::string_view), std::string_view) {
    if (!status_.is_ok()) return;
    status_ = check_list(namer_, key, values, count_max, check);
  }

  // Also used by the parser once it holds the list: count, each entry, no repeats.
  static Status check_list(const KeyNamer& namer, std::string_view key,
                           const std::vector<std::string>& values, std::size_t count_max,
                           Status (*check)(std::string_view)) {
    const std::string name = namer(key);
    if (values.size() > count_max) {
      return Status::invalid_argument(name + ": must have at most " + std::to_string(count_max) +
                                      " entries (got " + std::to_string(values.size()) + ")");
    }
    std::set<std::string_view> seen;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::string entry = name + "[" + std::to_string(i) + "]";
      LEDGER_RETURN_IF_ERROR(check(values[i]).with_context(entry));
      if (!seen.insert(values[i]).second) {
        return Status::invalid_argument(entry + ": repeats an earlier entry");
      }
    }
    return Status::ok();
  }

  Status status() const { return status_; }

 private:
  KeyNamer namer_{std::string(kSourceName), ""};
  Status status_;
};

// ---- Parsing.

// Collects the known sections and "section.key" names.
class KeyCollector {
 public:
  void section(std::string_view name, std::string_view) {
    section_ = name;
    sections.insert(section_);
  }
  template <typename T>
  void integer(std::string_view key, const T&, Range, std::string_view) {
    keys.insert(section_ + "." + std::string(key));
  }
  void string(std::string_view key, const std::string&, Status (*)(std::string_view),
              std::string_view) {
    keys.insert(section_ + "." + std::string(key));
  }
  void boolean(std::string_view key, bool, std::string_view) {
    keys.insert(section_ + "." + std::string(key));
  }
  void strings(std::string_view key, const std::vector<std::string>&, std::size_t,
               Status (*)(std::string_view), std::string_view) {
    keys.insert(section_ + "." + std::string(key));
  }

  std::set<std::string, std::less<>> sections;
  std::set<std::string, std::less<>> keys;

 private:
  std::string section_;
};

// Every top-level entry must be a known section holding only known keys.
Status check_known_keys(const toml::table& root, const std::string& source) {
  NodeConfig unused;
  KeyCollector known;
  visit_keys(unused, known);
  for (auto&& [name, node] : root) {
    const std::string section(name.str());
    if (!known.sections.contains(section)) {
      return Status::invalid_argument(source + ": " + section + ": unknown " +
                                      (node.is_table() ? "section" : "key"));
    }
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      return Status::invalid_argument(source + ": " + section + ": must be a table ([" + section +
                                      "])");
    }
    for (auto&& [key, value] : *table) {
      const std::string full = section + "." + std::string(key.str());
      if (known.keys.contains(full)) continue;
      if (full == "mempool.tx_bytes_max") {
        return Status::invalid_argument(
            source + ": " + full +
            ": unknown key (it comes from the genesis consensus.transaction_bytes_max)");
      }
      return Status::invalid_argument(source + ": " + full + ": unknown key");
    }
  }
  return Status::ok();
}

// Reads the values present in `root` into the config; absent keys keep their values.
class Reader {
 public:
  Reader(const toml::table& root, std::string source)
      : root_(root), namer_{std::move(source), ""} {}

  void section(std::string_view name, std::string_view) {
    namer_.section = name;
    table_ = root_.get_as<toml::table>(name);
  }
  template <typename T>
  void integer(std::string_view key, T& value, Range range, std::string_view) {
    const toml::node* node = find(key);
    if (node == nullptr) return;
    const auto* integer = node->as_integer();
    if (integer == nullptr) {
      fail(key, "must be an integer");
      return;
    }
    const std::int64_t got = integer->get();
    if (got < 0 || static_cast<std::uint64_t>(got) < range.min ||
        static_cast<std::uint64_t>(got) > range.max) {
      fail(key, "must be " + range_text(range) + " (got " + std::to_string(got) + ")");
      return;
    }
    value = static_cast<T>(got);
  }
  void string(std::string_view key, std::string& value, Status (*check)(std::string_view),
              std::string_view) {
    const toml::node* node = find(key);
    if (node == nullptr) return;
    const auto* text = node->as_string();
    if (text == nullptr) {
      fail(key, "must be a string");
      return;
    }
    Status checked = check(text->get());
    if (!checked.is_ok()) {
      fail(key, checked.message());
      return;
    }
    value = text->get();
  }
  void boolean(std::string_view key, bool& value, std::string_view) {
    const toml::node* node = find(key);
    if (node == nullptr) return;
    const auto* flag = node->as_boolean();
    if (flag == nullptr) {
      fail(key, "must be true or false");
      return;
    }
    value = flag->get();
  }
  void strings(std::string_view key, std::vector<std::string>& values, std::size_t count_max,
               Status (*check)(std::string_view), std::string_view) {
    const toml::node* node = find(key);
    if (node == nullptr) return;
    const toml::array* array = node->as_array();
    std::vector<std::string> parsed;
    if (array != nullptr) {
      for (const toml::node& element : *array) {
        const auto* text = element.as_string();
        if (text == nullptr) break;
        parsed.push_back(text->get());
      }
    }
    if (array == nullptr || parsed.size() != array->size()) {
      fail(key, "must be an array of strings");
      return;
    }
    status_ = Checker::check_list(namer_, key, parsed, count_max, check);
    if (status_.is_ok()) values = std::move(parsed);
  }

  Status status() const { return status_; }

 private:
  // The key's node, or null if absent or if an earlier key failed.
  const toml::node* find(std::string_view key) const {
    if (!status_.is_ok() || table_ == nullptr) return nullptr;
    return table_->get(key);
  }
  void fail(std::string_view key, const std::string& what) {
    status_ = Status::invalid_argument(namer_(key) + ": " + what);
  }

  const toml::table& root_;
  const toml::table* table_ = nullptr;
  KeyNamer namer_;
  Status status_;
};

// Waiters and subscribers each hold a gRPC thread for as long as they last; if together they
// could take every thread, a burst of them would leave none for submissions and queries.
Status check_rpc_threads(const NodeConfig& config, const std::string& source) {
  const std::size_t held = config.rpc.waiters_max + config.rpc.subscribers_max;
  const std::size_t threads = static_cast<std::size_t>(config.rpc.threads_max);
  if (held + kRpcThreadsSpare <= threads) return Status::ok();
  return Status::invalid_argument(
      source + ": rpc.threads_max (" + std::to_string(threads) +
      ") must be at least rpc.waiters_max + rpc.subscribers_max + " +
      std::to_string(kRpcThreadsSpare) + " (" + std::to_string(held + kRpcThreadsSpare) +
      "), so that waiting calls and subscriptions cannot take every server thread");
}

// The admin service can cut a validator off from its peers: loopback only.
Status check_rpc_admin(const NodeConfig& config, const std::string& source) {
  if (!config.rpc.admin) return Status::ok();
  const std::string& listen = config.rpc.listen_address;
  const std::string host = listen.substr(0, listen.rfind(':'));
  if (host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0) return Status::ok();
  return Status::invalid_argument(source +
                                  ": rpc.admin is only allowed with a loopback rpc.listen "
                                  "(127.0.0.1, [::1] or localhost), not \"" +
                                  listen + "\"");
}

// Pairs of p2p keys that bound each other.
Status check_p2p_pairs(const NodeConfig& config, const std::string& source) {
  const P2pConfig& p = config.p2p;
  if (p.send_queue_bytes_max < p.frame_bytes_max + kFrameQueueSlack) {
    return Status::invalid_argument(
        source + ": p2p.send_queue_bytes_max (" + std::to_string(p.send_queue_bytes_max) +
        ") must be at least p2p.frame_bytes_max + " + std::to_string(kFrameQueueSlack) + " (" +
        std::to_string(p.frame_bytes_max + kFrameQueueSlack) +
        "), or the largest message could never be queued");
  }
  // Not a pair of p2p keys, but the same kind of bound: this node's own batches must be servable.
  if (p.sync_proof_headers_max < 2 * config.consensus.pending_blocks_max) {
    return Status::invalid_argument(
        source + ": p2p.sync_proof_headers_max (" + std::to_string(p.sync_proof_headers_max) +
        ") must be at least 2 * consensus.pending_blocks_max (" +
        std::to_string(2 * config.consensus.pending_blocks_max) +
        "), or a batch this node's validator set commits could not be synced");
  }
  if (p.dial_backoff_max_ms < p.dial_backoff_min_ms) {
    return Status::invalid_argument(source + ": p2p.dial_backoff_max_ms (" +
                                    std::to_string(p.dial_backoff_max_ms) +
                                    ") must be at least p2p.dial_backoff_min_ms (" +
                                    std::to_string(p.dial_backoff_min_ms) + ")");
  }
  return Status::ok();
}

StatusOr<NodeConfig> parse_config_from(std::string_view toml_text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& error) {
    const toml::source_position& where = error.source().begin;
    return Status::invalid_argument(source + ":" + std::to_string(where.line) + ":" +
                                    std::to_string(where.column) +
                                    ": syntax error: " + std::string(error.description()));
  }
  LEDGER_RETURN_IF_ERROR(check_known_keys(root, source));
  NodeConfig config;
  Reader reader(root, source);
  visit_keys(config, reader);
  LEDGER_RETURN_IF_ERROR(reader.status());
  LEDGER_RETURN_IF_ERROR(check_rpc_threads(config, source));
  LEDGER_RETURN_IF_ERROR(check_p2p_pairs(config, source));
  LEDGER_RETURN_IF_ERROR(check_rpc_admin(config, source));
  return config;
}

}  // namespace

Status NodeConfig::apply_genesis(const Genesis& genesis) {
  const std::uint64_t round_timeout_ms = genesis.consensus.round_timeout_ms;
  auto below_timeout = [&](const char* key, std::uint64_t value) -> Status {
    if (value < round_timeout_ms) return Status::ok();
    return Status::invalid_argument(
        std::string(kSourceName) + ": consensus." + key + " (" + std::to_string(value) +
        ") must be below the genesis consensus.round_timeout_ms (" +
        std::to_string(round_timeout_ms) + "), or rounds would time out before their block");
  };
  LEDGER_RETURN_IF_ERROR(
      below_timeout("empty_block_interval_ms", consensus.empty_block_interval_ms));
  LEDGER_RETURN_IF_ERROR(below_timeout("block_interval_ms", consensus.block_interval_ms));
  mempool.tx_bytes_max = genesis.consensus.transaction_bytes_max;
  return Status::ok();
}

std::filesystem::path NodeConfig::resolve(const std::filesystem::path& home,
                                          const std::string& path) {
  const std::filesystem::path configured(path);
  return configured.is_absolute() ? configured : home / configured;
}

StatusOr<NodeConfig> parse_config(std::string_view toml_text) {
  return parse_config_from(toml_text, std::string(kSourceName));
}

StatusOr<NodeConfig> load_config(const std::filesystem::path& path) {
  storage::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::not_found(path.string() + ": config file does not exist");
    return storage::errno_status(path, "cannot open config file");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return storage::errno_status(path, "cannot stat config file");
  if (!S_ISREG(st.st_mode)) {
    return Status::invalid_argument(path.string() + ": config file is not a regular file");
  }
  // Read one byte past the limit, so that a file that grew since fstat is caught too.
  std::string text(kConfigFileBytesMax + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return storage::errno_status(path, "cannot read config file");
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > kConfigFileBytesMax) {
    return Status::invalid_argument(path.string() + ": config file is larger than " +
                                    std::to_string(kConfigFileBytesMax) + " bytes");
  }
  text.resize(got);
  return parse_config_from(text, path.string());
}

Status validate_config(const NodeConfig& config) {
  Checker checker;
  visit_keys(config, checker);
  LEDGER_RETURN_IF_ERROR(checker.status());
  LEDGER_RETURN_IF_ERROR(check_rpc_threads(config, std::string(kSourceName)));
  LEDGER_RETURN_IF_ERROR(check_p2p_pairs(config, std::string(kSourceName)));
  return check_rpc_admin(config, std::string(kSourceName));
}

std::string config_to_toml(const NodeConfig& config) {
  std::string out =
      "# ledgerd node configuration. Every key is optional and shown with its value; the\n"
      "# reference is docs/operator.md. Unknown keys are errors.\n";
  TomlWriter writer(out);
  visit_keys(config, writer);
  return out;
}

Status write_config(const std::filesystem::path& path, const NodeConfig& config) {
  LEDGER_RETURN_IF_ERROR(
      validate_config(config).with_context(path.string() + ": refusing to write"));
  return storage::write_file_atomically(path, config_to_toml(config), 0644);
}

}  // namespace ledger::node
