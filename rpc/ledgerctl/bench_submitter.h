// Submits a list of bench transactions with SubmitTransactions batches from several threads,
// resubmitting those the node refuses for now (mempool full, nonce beyond its window) until each
// is admitted or refused for good, the deadline passes, or the run is stopped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "bench_tracker.h"
#include "client.h"

namespace ledger::ctl {

struct SubmitterOptions {
  std::size_t batch = 100;                     // transactions per SubmitTransactions call; >= 1
  std::size_t concurrency = 4;                 // calls in flight; >= 1
  Clock::time_point deadline;                  // nothing is sent after it
  std::chrono::milliseconds retry_delay{200};  // before resubmitting a refused-for-now one
};

class Submitter {
 public:
  // `should_stop` is polled by the workers (e.g. Ctrl-C, the block stream ended); it must be
  // thread-safe. `client` and `tracker` must outlive the submitter.
  Submitter(Client& client, Tracker& tracker, SubmitterOptions options,
            std::function<bool()> should_stop);
  Submitter(const Submitter&) = delete;
  Submitter& operator=(const Submitter&) = delete;

  // Submits `order` (tracker indices, in this order) and returns when every one is admitted or
  // refused for good, or the run stops. Calls `tick` about every 200 ms from the calling thread
  // (progress). Returns the status of a call that makes going on pointless (node unreachable,
  // a batch the node rejects as a whole), if one failed so.
  std::optional<grpc::Status> run(const std::vector<std::size_t>& order,
                                  const std::function<void()>& tick);

  // When the first SubmitTransactions call of the last run() was sent.
  std::optional<Clock::time_point> first_submit() const;

 private:
  struct Item {
    std::size_t index = 0;
    Clock::time_point not_before;
  };

  void work();
  bool stopped_locked() const;  // fatal, stopped or past the deadline
  void submit(const std::vector<std::size_t>& batch);
  void requeue(const std::vector<std::size_t>& indices, Clock::time_point now);
  void set_fatal(const grpc::Status& status);

  Client& client_;
  Tracker& tracker_;
  const SubmitterOptions options_;
  const std::function<bool()> should_stop_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;                         // guarded; ordered by not_before
  std::size_t in_flight_ = 0;                      // guarded; calls being made
  std::size_t workers_running_ = 0;                // guarded
  std::optional<grpc::Status> fatal_;              // guarded
  std::optional<Clock::time_point> first_submit_;  // guarded
};

}  // namespace ledger::ctl
