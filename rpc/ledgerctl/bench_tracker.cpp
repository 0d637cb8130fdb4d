#include "bench_tracker.h"

#include <algorithm>
#include <cmath>

#include "output.h"

namespace ledger::ctl {

Tracker::Tracker(std::vector<BenchTx> txs) : txs_(std::move(txs)) {
  index_by_hash_.reserve(txs_.size());
  for (std::size_t i = 0; i < txs_.size(); ++i)
    index_by_hash_.emplace(txs_[i].hash, i);
}

void Tracker::mark_submitted(const std::vector<std::size_t>& indices) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::size_t i : indices)
    txs_[i].submitted = true;
}

SubmitOutcome Tracker::on_submit_result(std::size_t index, int code, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  BenchTx& tx = txs_[index];
  // ALREADY_EXISTS: the node has this hash, pending or committed (an earlier call whose answer
  // was lost admitted it). For a fresh bench account nothing else can hold its nonce.
  if (code == grpc::StatusCode::OK || code == grpc::StatusCode::ALREADY_EXISTS || tx.committed) {
    if (!tx.admitted) {
      tx.admitted = true;
      tx.admitted_at = now;
    }
    tx.refused = false;
    return SubmitOutcome::kAdmitted;
  }
  tx.refused_code = code;
  switch (static_cast<grpc::StatusCode>(code)) {
    case grpc::StatusCode::RESOURCE_EXHAUSTED:   // mempool or per-sender limit: it drains
    case grpc::StatusCode::FAILED_PRECONDITION:  // nonce beyond the window: earlier ones commit
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return SubmitOutcome::kRetry;
    default:
      tx.refused = true;
      return SubmitOutcome::kRefused;
  }
}

bool Tracker::is_committed(std::size_t index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return txs_[index].committed;
}

std::optional<v1::TxResult> Tracker::committed_result(std::size_t index) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!txs_[index].committed) return std::nullopt;
  return txs_[index].result;
}

void Tracker::on_committed(std::size_t index, v1::TxResult result, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  commit_locked(txs_[index], result, now);
}

void Tracker::commit_locked(BenchTx& tx, v1::TxResult result, Clock::time_point now) {
  if (tx.committed) return;
  tx.committed = true;
  tx.committed_at = now;
  tx.result = result;
}

void Tracker::on_block(const v1::Block& block, Clock::time_point now) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int i = 0; i < block.transactions_size(); ++i) {
      auto hash = Hash::from_hex(block.transactions(i).hash());
      if (!hash.is_ok()) continue;  // not one of ours: ours all have well-formed hashes
      auto it = index_by_hash_.find(*hash);
      if (it == index_by_hash_.end()) continue;
      // A block without a result for it would be a node bug; count it as SUCCESS rather than
      // invent a failure (block shows such a transaction as UNKNOWN).
      commit_locked(txs_[it->second],
                    i < block.results_size() ? block.results(i) : v1::TX_RESULT_SUCCESS, now);
    }
    ++blocks_seen_;
  }
  block_arrived_.notify_all();
}

bool Tracker::all_settled(const std::vector<std::size_t>& indices) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::all_of(indices.begin(), indices.end(), [this](std::size_t i) {
    const BenchTx& tx = txs_[i];
    return tx.committed || tx.refused;
  });
}

void Tracker::wait_for_block(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  block_arrived_.wait_for(lock, timeout, [this] { return blocks_seen_ != blocks_waited_for_; });
  blocks_waited_for_ = blocks_seen_;
}

std::uint64_t Tracker::blocks_seen() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return blocks_seen_;
}

BenchFigures Tracker::summarize(const std::vector<std::size_t>& indices) const {
  std::lock_guard<std::mutex> lock(mutex_);
  BenchFigures f;
  f.planned = indices.size();
  for (std::size_t i : indices) {
    const BenchTx& tx = txs_[i];
    if (tx.submitted) ++f.submitted;
    if (tx.admitted) ++f.admitted;
    if (!tx.admitted && tx.submitted) {
      ++f.refused;
      ++f.refused_by_code[grpc_code_name(tx.refused_code)];
    }
    if (!tx.admitted && f.not_admitted_sample.size() < kBenchSampleMax) {
      f.not_admitted_sample.push_back(tx.hash.hex());
    }
    if (tx.admitted && !tx.committed) {
      ++f.missing;
      if (f.missing_sample.size() < kBenchSampleMax) f.missing_sample.push_back(tx.hash.hex());
    }
    if (!tx.committed) continue;
    ++f.committed;
    if (tx.result != v1::TX_RESULT_SUCCESS) {
      ++f.failed_by_result;
      ++f.failed_by_name[result_name(tx.result)];
    }
    if (!f.last_commit || tx.committed_at > *f.last_commit) f.last_commit = tx.committed_at;
    if (tx.admitted) {
      auto latency = std::max(Clock::duration::zero(), tx.committed_at - tx.admitted_at);
      f.latencies_ms.push_back(std::chrono::duration<double, std::milli>(latency).count());
    }
  }
  std::sort(f.latencies_ms.begin(), f.latencies_ms.end());
  return f;
}

BlockFeed::BlockFeed(Client& client, Tracker& tracker, std::uint64_t from_height) {
  thread_ =
      std::thread([this, &client, &tracker, from_height] { run(client, tracker, from_height); });
}

BlockFeed::~BlockFeed() {
  stop();
}

void BlockFeed::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  context_.TryCancel();
  if (thread_.joinable()) thread_.join();
}

std::optional<grpc::Status> BlockFeed::ended() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ended_;
}

void BlockFeed::run(Client& client, Tracker& tracker, std::uint64_t from_height) {
  v1::SubscribeBlocksRequest request;
  request.set_from_height(from_height);
  auto stream = client.stub().SubscribeBlocks(&context_, request);
  v1::BlockEvent event;
  while (stream->Read(&event))
    tracker.on_block(event.block(), Clock::now());
  grpc::Status status = stream->Finish();
  std::lock_guard<std::mutex> lock(mutex_);
  if (!stopping_) {
    ended_ = status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "the node ended the stream")
                         : status;
  }
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace ledger::ctl
