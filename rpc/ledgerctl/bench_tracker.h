// What bench knows about each of its transactions (signed bytes, admission, commit, timings),
// and the SubscribeBlocks stream that reports commits into it.
//
// Thread-safety: Tracker's methods may be called from any thread (one internal mutex); the
// signed bytes and hashes are fixed at construction and read without locking. BlockFeed runs
// its stream on its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client.h"
#include "ledger/core/bytes.h"
#include "ledger/core/hash.h"
#include "ledger/v1/ledger.pb.h"

namespace ledger::ctl {

using Clock = std::chrono::steady_clock;

// One signed transfer of the bench.
struct BenchTx {
  Bytes wire;  // canonical wire bytes; fixed
  Hash hash;   // transaction hash; fixed

  // Guarded by the Tracker's mutex.
  bool submitted = false;  // sent in at least one SubmitTransactions call
  bool admitted = false;   // the node answered OK (or ALREADY_EXISTS: it has it)
  bool refused = false;    // refused with a code that retrying cannot fix
  bool committed = false;  // seen in a block on the subscription
  int refused_code = 0;    // grpc::StatusCode of the last refusal
  v1::TxResult result = v1::TX_RESULT_SUCCESS;  // when committed
  Clock::time_point admitted_at;                // when the call that admitted it returned
  Clock::time_point committed_at;               // when its block arrived
};

// What the node's answer for one transaction means for the bench.
enum class SubmitOutcome {
  kAdmitted,
  kRetry,    // refused for now (mempool full, nonce beyond the window): submit again later
  kRefused,  // refused for good (e.g. INVALID_ARGUMENT)
};

inline constexpr std::size_t kBenchSampleMax = 5;

// Figures over a set of transactions (see Tracker::summarize).
struct BenchFigures {
  std::uint64_t planned = 0;
  std::uint64_t submitted = 0;
  std::uint64_t admitted = 0;
  std::uint64_t refused = 0;           // refused for good, or still refused at the end
  std::uint64_t committed = 0;         // with any result
  std::uint64_t failed_by_result = 0;  // committed with a result other than SUCCESS
  std::uint64_t missing = 0;           // admitted but not seen committed
  std::map<std::string, std::uint64_t> refused_by_code;  // "RESOURCE_EXHAUSTED" -> count
  std::map<std::string, std::uint64_t> failed_by_name;   // "BAD_NONCE" -> count
  std::optional<Clock::time_point> last_commit;
  std::vector<double> latencies_ms;  // admitted -> committed, per committed tx, sorted
  // Hashes of the first few admitted-but-uncommitted and never-admitted transactions, so that
  // a report can name what is missing (ledgerctl tx HASH).
  std::vector<std::string> missing_sample;
  std::vector<std::string> not_admitted_sample;
};

class Tracker {
 public:
  explicit Tracker(std::vector<BenchTx> txs);
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  std::size_t size() const { return txs_.size(); }
  const Bytes& wire(std::size_t index) const { return txs_[index].wire; }

  void mark_submitted(const std::vector<std::size_t>& indices);
  // Records the node's per-transaction answer (`code` a grpc::StatusCode value) at `now`; also
  // used with the call's code when a whole SubmitTransactions call failed.
  SubmitOutcome on_submit_result(std::size_t index, int code, Clock::time_point now);
  bool is_committed(std::size_t index) const;
  // The result if committed.
  std::optional<v1::TxResult> committed_result(std::size_t index) const;
  // Marks one transaction committed at `now` (no-op if it already is). For commits learned
  // outside the block stream (GetTransaction).
  void on_committed(std::size_t index, v1::TxResult result, Clock::time_point now);
  const Hash& hash(std::size_t index) const { return txs_[index].hash; }
  // Marks every transaction of `block` that is ours committed at `now`, with its result.
  void on_block(const v1::Block& block, Clock::time_point now);

  // Whether every admitted transaction of `indices` is committed and none is still waiting to
  // be admitted (each is admitted or refused).
  bool all_settled(const std::vector<std::size_t>& indices) const;
  // Waits up to `timeout` for the next block (or returns at once if one arrived since the
  // last call).
  void wait_for_block(std::chrono::milliseconds timeout);

  BenchFigures summarize(const std::vector<std::size_t>& indices) const;
  std::uint64_t blocks_seen() const;

 private:
  void commit_locked(BenchTx& tx, v1::TxResult result, Clock::time_point now);

  std::vector<BenchTx> txs_;
  std::unordered_map<Hash, std::size_t, HashHasher> index_by_hash_;  // fixed at construction
  mutable std::mutex mutex_;
  std::condition_variable block_arrived_;
  std::uint64_t blocks_seen_ = 0;        // guarded
  std::uint64_t blocks_waited_for_ = 0;  // guarded; blocks_seen_ at the last wait_for_block
};

// Runs SubscribeBlocks from `from_height` on its own thread and feeds each block to the tracker.
class BlockFeed {
 public:
  BlockFeed(Client& client, Tracker& tracker, std::uint64_t from_height);
  ~BlockFeed();  // stop()
  BlockFeed(const BlockFeed&) = delete;
  BlockFeed& operator=(const BlockFeed&) = delete;

  // Cancels the stream and joins the thread. Idempotent.
  void stop();
  // The status the stream ended with, if it ended before stop() was called.
  std::optional<grpc::Status> ended() const;

 private:
  void run(Client& client, Tracker& tracker, std::uint64_t from_height);

  grpc::ClientContext context_;
  mutable std::mutex mutex_;
  bool stopping_ = false;              // guarded
  std::optional<grpc::Status> ended_;  // guarded
  std::thread thread_;
};

// The nearest-rank percentile `p` (0 < p <= 100) of sorted `values`; 0 if empty.
double percentile(const std::vector<double>& sorted, double p);

}  // namespace ledger::ctl
