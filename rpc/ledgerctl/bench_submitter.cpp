#include "bench_submitter.h"

#include <algorithm>
#include <thread>

namespace ledger::ctl {

namespace {

// How long an idle worker sleeps before looking at the queue again (retries come due, the
// deadline passes, a stop is requested).
constexpr std::chrono::milliseconds kIdlePoll{20};
constexpr std::chrono::milliseconds kTickInterval{200};

}  // namespace

Submitter::Submitter(Client& client, Tracker& tracker, SubmitterOptions options,
                     std::function<bool()> should_stop)
    : client_(client), tracker_(tracker), options_(options), should_stop_(std::move(should_stop)) {
  LEDGER_ASSERT(options_.batch >= 1);
  LEDGER_ASSERT(options_.concurrency >= 1);
}

std::optional<grpc::Status> Submitter::run(const std::vector<std::size_t>& order,
                                           const std::function<void()>& tick) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    LEDGER_ASSERT(workers_running_ == 0);
    queue_.clear();
    const Clock::time_point now = Clock::now();
    for (std::size_t index : order)
      queue_.push_back(Item{index, now});
    first_submit_.reset();
    workers_running_ = options_.concurrency;
  }
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < options_.concurrency; ++i)
    workers.emplace_back([this] { work(); });
  {
    std::unique_lock<std::mutex> lock(mutex_);
    while (workers_running_ > 0) {
      wake_.wait_for(lock, kTickInterval);
      lock.unlock();
      tick();
      lock.lock();
    }
  }
  for (std::thread& worker : workers)
    worker.join();
  std::lock_guard<std::mutex> lock(mutex_);
  return fatal_;
}

std::optional<Clock::time_point> Submitter::first_submit() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return first_submit_;
}

bool Submitter::stopped_locked() const {
  return fatal_.has_value() || should_stop_() || Clock::now() >= options_.deadline;
}

void Submitter::work() {
  while (true) {
    std::vector<std::size_t> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      while (true) {
        if (stopped_locked() || (queue_.empty() && in_flight_ == 0)) {
          --workers_running_;
          wake_.notify_all();
          return;
        }
        if (!queue_.empty() && queue_.front().not_before <= Clock::now()) break;
        wake_.wait_for(lock, kIdlePoll);
      }
      const Clock::time_point now = Clock::now();
      while (!queue_.empty() && batch.size() < options_.batch && queue_.front().not_before <= now) {
        batch.push_back(queue_.front().index);
        queue_.pop_front();
      }
      ++in_flight_;
      if (!first_submit_) first_submit_ = now;
    }
    submit(batch);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --in_flight_;
    }
    wake_.notify_all();
  }
}

void Submitter::submit(const std::vector<std::size_t>& candidates) {
  // A transaction seen committed while it waited for a retry needs no resubmission.
  std::vector<std::size_t> batch;
  for (std::size_t index : candidates) {
    if (tracker_.is_committed(index)) {
      (void)tracker_.on_submit_result(index, grpc::StatusCode::OK, Clock::now());
    } else {
      batch.push_back(index);
    }
  }
  if (batch.empty()) return;

  v1::SubmitTransactionsRequest request;
  for (std::size_t index : batch) {
    const Bytes& wire = tracker_.wire(index);
    request.add_transactions(wire.data(), wire.size());
  }
  tracker_.mark_submitted(batch);
  grpc::ClientContext context;
  client_.prepare(context);
  // Never wait past the run's deadline (converted from the steady clock to the wall clock).
  auto remaining = std::max(Clock::duration::zero(), options_.deadline - Clock::now());
  auto deadline = std::chrono::system_clock::now() +
                  std::chrono::duration_cast<std::chrono::system_clock::duration>(remaining);
  if (deadline < context.deadline()) context.set_deadline(deadline);
  v1::SubmitTransactionsResponse response;
  grpc::Status status = client_.stub().SubmitTransactions(&context, request, &response);
  const Clock::time_point now = Clock::now();

  if (!status.ok()) {
    if (client_.is_unreachable(status)) return set_fatal(status);
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
        status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      // The node is overloaded (or the call raced the deadline): some may have been admitted;
      // a resubmission answers ALREADY_EXISTS for those.
      for (std::size_t index : batch)
        (void)tracker_.on_submit_result(index, status.error_code(), now);
      return requeue(batch, now);
    }
    return set_fatal(status);
  }
  if (response.results_size() != static_cast<int>(batch.size())) {
    return set_fatal(grpc::Status(grpc::StatusCode::INTERNAL,
                                  "the node answered " + std::to_string(response.results_size()) +
                                      " results for " + std::to_string(batch.size()) +
                                      " transactions"));
  }
  std::vector<std::size_t> retry;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    SubmitOutcome outcome =
        tracker_.on_submit_result(batch[i], response.results(static_cast<int>(i)).code(), now);
    if (outcome == SubmitOutcome::kRetry) retry.push_back(batch[i]);
  }
  if (!retry.empty()) requeue(retry, now);
}

void Submitter::requeue(const std::vector<std::size_t>& indices, Clock::time_point now) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t index : indices)
      queue_.push_back(Item{index, now + options_.retry_delay});
  }
  wake_.notify_all();
}

void Submitter::set_fatal(const grpc::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!fatal_) fatal_ = status;
  }
  wake_.notify_all();
}

}  // namespace ledger::ctl
