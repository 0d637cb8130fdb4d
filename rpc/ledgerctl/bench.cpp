// bench: the load tool. Funds --accounts fresh in-memory accounts from --from, then has each
// send --txs transfers to random bench accounts through SubmitTransactions batches, and reports
// throughput and submit-to-commit latency measured on a SubscribeBlocks stream.
//
// Phases: (1) read the chain id and the funder's nonce and balance; generate the accounts and
// sign every transaction up front (signing is not what is measured); (2) subscribe to blocks
// from the next height; (3) submit the funding transfers and wait until they commit, polling
// the funder's account (GetAccount) and looking up stragglers (GetTransaction); (4) submit the
// load and wait for its commits; (5) report. --max-seconds bounds phases 3 and 4 together.
#include <unistd.h>

#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "bench_submitter.h"
#include "bench_tracker.h"
#include "cli.h"
#include "client.h"
#include "commands.h"
#include "key_store.h"
#include "ledger/core/chain_id.h"
#include "ledger/core/transaction.h"
#include "output.h"

namespace ledger::ctl {
namespace {

// Bounds on what one run may ask for: every transaction is signed and held in memory.
constexpr std::uint64_t kAccountsMax = 100'000;
constexpr std::uint64_t kTxsPerAccountMax = 1'000'000;
constexpr std::uint64_t kBenchTxsMax = 1'000'000;  // accounts * txs
constexpr std::uint64_t kBatchMax = 10'000;
constexpr std::uint64_t kConcurrencyMax = 256;
constexpr std::uint64_t kMaxSecondsMax = 24 * 3600;
constexpr std::chrono::milliseconds kPollInterval{500};
constexpr std::chrono::seconds kProgressInterval{5};

const CommandSpec kSpec{
    "bench", "bench --from KEY --accounts N --txs M [options]",
    "Funds N fresh accounts (kept in memory only) from KEY with one transfer each, waits for "
    "those to commit, then has every account send M transfers (nonces 0..M-1) of --amount to "
    "random bench accounts in SubmitTransactions batches of --batch, with --concurrency calls in "
    "flight. Commit times come from a SubscribeBlocks stream. Reports transactions submitted, "
    "admitted, committed and failed by result, the committed transfers per second (first "
    "submit to last commit) and submit-to-commit latency percentiles. Stops when everything "
    "committed or after --max-seconds, and reports what is missing. KEY must hold at least "
    "N*M*amount and must not be used by anything else during the run."};

struct BenchOptions {
  ConnectionOptions connection;
  bool json = false;
  std::string keys_dir;
  std::string from;
  std::string accounts = "10";
  std::string txs = "100";
  std::string batch = "100";
  std::string concurrency = "4";
  std::string max_seconds = "120";
  std::string amount = "1";
  std::string chain_id;
};

struct BenchConfig {
  std::uint64_t accounts = 0;
  std::uint64_t txs = 0;
  std::uint64_t batch = 0;
  std::uint64_t concurrency = 0;
  std::uint64_t max_seconds = 0;
  std::uint64_t amount = 0;
  std::uint64_t funding_amount = 0;  // txs * amount: what each account must be able to send
  std::uint64_t total_amount = 0;    // accounts * funding_amount: what the funder pays
};

StatusOr<std::uint64_t> parse_bounded(const std::string& text, std::string_view what,
                                      std::uint64_t min, std::uint64_t max) {
  LEDGER_ASSIGN_OR_RETURN(std::uint64_t value, parse_u64(text, what));
  if (value < min || value > max) {
    return Status::invalid_argument(std::string(what) + " must be between " + std::to_string(min) +
                                    " and " + std::to_string(max));
  }
  return value;
}

StatusOr<BenchConfig> config_from(const BenchOptions& options) {
  BenchConfig c;
  LEDGER_ASSIGN_OR_RETURN(c.accounts,
                          parse_bounded(options.accounts, "--accounts", 1, kAccountsMax));
  LEDGER_ASSIGN_OR_RETURN(c.txs, parse_bounded(options.txs, "--txs", 1, kTxsPerAccountMax));
  LEDGER_ASSIGN_OR_RETURN(c.batch, parse_bounded(options.batch, "--batch", 1, kBatchMax));
  LEDGER_ASSIGN_OR_RETURN(c.concurrency,
                          parse_bounded(options.concurrency, "--concurrency", 1, kConcurrencyMax));
  LEDGER_ASSIGN_OR_RETURN(c.max_seconds,
                          parse_bounded(options.max_seconds, "--max-seconds", 1, kMaxSecondsMax));
  LEDGER_ASSIGN_OR_RETURN(c.amount, parse_bounded(options.amount, "--amount", 1, UINT64_MAX));
  if (c.accounts * c.txs > kBenchTxsMax) {
    return Status::invalid_argument("--accounts x --txs is " + std::to_string(c.accounts * c.txs) +
                                    "; at most " + std::to_string(kBenchTxsMax) + " per run");
  }
  if (__builtin_mul_overflow(c.txs, c.amount, &c.funding_amount) ||
      __builtin_mul_overflow(c.accounts, c.funding_amount, &c.total_amount)) {
    return Status::invalid_argument("--accounts x --txs x --amount exceeds 2^64-1");
  }
  if (!options.chain_id.empty()) {
    Status status = validate_chain_id(options.chain_id);
    if (!status.is_ok()) return status.with_context("--chain-id");
  }
  return c;
}

// Everything the run signs, in tracker order: funding transfer a at index a, then account a's
// transfer with nonce k at index accounts + a * txs + k.
struct SignedRun {
  std::vector<Address> addresses;  // of the bench accounts
  std::vector<BenchTx> txs;
};

std::size_t load_index(const BenchConfig& c, std::uint64_t account, std::uint64_t nonce) {
  return static_cast<std::size_t>(c.accounts + account * c.txs + nonce);
}

BenchTx make_tx(const Transfer& transfer, const Signer& signer) {
  SignedTransfer signed_transfer = sign_transfer(transfer, signer);
  BenchTx tx;
  tx.wire = encode_transaction(signed_transfer);
  tx.hash = transaction_hash(signed_transfer);
  return tx;
}

StatusOr<SignedRun> sign_run(const BenchConfig& c, const Signer& funder,
                             const std::string& chain_id, std::uint64_t funder_nonce) {
  std::vector<Signer> signers;
  SignedRun run;
  for (std::uint64_t a = 0; a < c.accounts; ++a) {
    LEDGER_ASSIGN_OR_RETURN(SecretKey secret, SecretKey::generate());
    LEDGER_ASSIGN_OR_RETURN(Signer signer, Signer::create(secret));
    run.addresses.push_back(signer.public_key());
    signers.push_back(std::move(signer));
  }
  run.txs.resize(c.accounts + c.accounts * c.txs);
  for (std::uint64_t a = 0; a < c.accounts; ++a) {
    Transfer t{chain_id,         funder.public_key(), funder_nonce + a,
               run.addresses[a], c.funding_amount,    {}};
    run.txs[a] = make_tx(t, funder);
  }
  // Each thread signs for its own accounts: a Signer is used by one thread only.
  std::uint64_t seed = 0;
  LEDGER_RETURN_IF_ERROR(
      os_random(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&seed), sizeof(seed))));
  const std::uint64_t threads =
      std::clamp<std::uint64_t>(std::thread::hardware_concurrency(), 1, c.accounts);
  std::vector<std::thread> workers;
  for (std::uint64_t w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937_64 random(seed + w);
      std::uniform_int_distribution<std::uint64_t> pick(0, c.accounts - 1);
      for (std::uint64_t a = w; a < c.accounts; a += threads) {
        for (std::uint64_t k = 0; k < c.txs; ++k) {
          std::uint64_t to = pick(random);
          if (to == a && c.accounts > 1) to = (to + 1) % c.accounts;  // not to itself
          Transfer t{chain_id, run.addresses[a], k, run.addresses[to], c.amount, {}};
          run.txs[load_index(c, a, k)] = make_tx(t, signers[a]);
        }
      }
    });
  }
  for (std::thread& worker : workers)
    worker.join();
  return run;
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string fixed(double value, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << value;
  return out.str();
}

// Prints a progress line to stderr every kProgressInterval when stderr is a terminal.
class Progress {
 public:
  Progress(const Tracker& tracker, Clock::time_point start)
      : tracker_(tracker), start_(start), enabled_(::isatty(STDERR_FILENO) == 1) {}

  void tick(const std::string& phase, const std::vector<std::size_t>& indices) {
    const Clock::time_point now = Clock::now();
    if (!enabled_ || now - last_ < kProgressInterval) return;
    last_ = now;
    BenchFigures f = tracker_.summarize(indices);
    std::cerr << "bench: " << phase << "  " << fixed(seconds_between(start_, now), 0)
              << " s  submitted " << f.submitted << "/" << f.planned << "  admitted " << f.admitted
              << "  committed " << f.committed << "\n";
  }

 private:
  const Tracker& tracker_;
  const Clock::time_point start_;
  const bool enabled_;
  Clock::time_point last_ = Clock::now();
};

// Why a wait ended.
enum class Stop { kAllSettled, kDeadline, kInterrupted, kStreamEnded };

std::string stop_text(Stop stop) {
  switch (stop) {
    case Stop::kAllSettled:
      return "all settled";
    case Stop::kDeadline:
      return "deadline (--max-seconds)";
    case Stop::kInterrupted:
      return "interrupted";
    case Stop::kStreamEnded:
      return "block stream ended";
  }
  return "unknown";
}

struct Run {
  Client& client;
  Tracker& tracker;
  BlockFeed& feed;
  const InterruptWatcher& interrupts;
  Clock::time_point deadline;
  Progress& progress;

  std::optional<Stop> stop_requested() const {
    if (interrupts.interrupted()) return Stop::kInterrupted;
    if (feed.ended()) return Stop::kStreamEnded;
    if (Clock::now() >= deadline) return Stop::kDeadline;
    return std::nullopt;
  }

  // Waits until every one of `indices` is committed or refused for good. `poll`, if given, runs
  // every kPollInterval and may settle transactions itself (the funding phase's polling).
  Stop wait_settled(const std::string& phase, const std::vector<std::size_t>& indices,
                    const std::function<void()>& poll) {
    Clock::time_point next_poll = Clock::now();
    while (!tracker.all_settled(indices)) {
      if (auto stop = stop_requested()) return *stop;
      if (poll && Clock::now() >= next_poll) {
        poll();
        next_poll = Clock::now() + kPollInterval;
        continue;
      }
      tracker.wait_for_block(std::chrono::milliseconds(200));
      progress.tick(phase, indices);
    }
    return Stop::kAllSettled;
  }
};

// Polls the funder's account; once its nonce shows every funding transfer executed, looks up
// those the block stream has not reported (GetTransaction) so the wait can end.
void poll_funding(Run& run, const Address& funder, std::uint64_t nonce_after,
                  const std::vector<std::size_t>& funding) {
  grpc::ClientContext context;
  run.client.prepare(context);
  v1::GetAccountRequest request;
  request.set_address(funder.hex());
  v1::GetAccountResponse account;
  if (!run.client.stub().GetAccount(&context, request, &account).ok()) return;
  if (account.nonce() < nonce_after) return;
  for (std::size_t index : funding) {
    if (run.tracker.is_committed(index)) continue;
    grpc::ClientContext tx_context;
    run.client.prepare(tx_context);
    v1::GetTransactionRequest tx_request;
    tx_request.set_tx_hash(run.tracker.hash(index).hex());
    v1::GetTransactionResponse tx;
    if (run.client.stub().GetTransaction(&tx_context, tx_request, &tx).ok() &&
        tx.status() == v1::TX_STATUS_COMMITTED) {
      run.tracker.on_committed(index, tx.result(), Clock::now());
    }
  }
}

struct Report {
  BenchConfig config;
  std::uint64_t accounts_funded = 0;
  double funding_seconds = 0;
  BenchFigures load;
  std::optional<Clock::time_point> first_submit;
  Clock::time_point end;
  std::uint64_t blocks = 0;
  Stop stop = Stop::kAllSettled;
};

Json report_json(const Report& r) {
  const BenchFigures& f = r.load;
  double wall = r.first_submit ? seconds_between(*r.first_submit, r.end) : 0;
  double active =
      r.first_submit && f.last_commit ? seconds_between(*r.first_submit, *f.last_commit) : 0;
  return Json{{"accounts", r.config.accounts},
              {"accounts_funded", r.accounts_funded},
              {"txs_per_account", r.config.txs},
              {"batch", r.config.batch},
              {"concurrency", r.config.concurrency},
              {"funding_seconds", r.funding_seconds},
              {"planned", f.planned},
              {"submitted", f.submitted},
              {"admitted", f.admitted},
              {"refused", f.refused},
              {"refused_by_code", f.refused_by_code},
              {"committed", f.committed},
              {"failed_by_result", f.failed_by_result},
              {"failed_by_result_code", f.failed_by_name},
              {"missing", f.missing},
              {"missing_sample", f.missing_sample},
              {"not_admitted_sample", f.not_admitted_sample},
              {"wall_seconds", wall},
              {"tps", active > 0 ? static_cast<double>(f.committed) / active : 0.0},
              {"latency_ms",
               {{"p50", percentile(f.latencies_ms, 50)},
                {"p90", percentile(f.latencies_ms, 90)},
                {"p99", percentile(f.latencies_ms, 99)},
                {"max", f.latencies_ms.empty() ? 0.0 : f.latencies_ms.back()}}},
              {"blocks", r.blocks},
              {"complete", f.planned > 0 && f.committed == f.planned},
              {"stopped", stop_text(r.stop)}};
}

void print_report_text(const Report& r) {
  Json j = report_json(r);
  auto counts = [](const std::map<std::string, std::uint64_t>& by) {
    std::string out;
    for (const auto& [name, count] : by)
      out += (out.empty() ? " (" : ", ") + name + " " + std::to_string(count);
    return out.empty() ? out : out + ")";
  };
  auto ms = [&](const char* p) { return fixed(j["latency_ms"][p].get<double>(), 1) + " ms"; };
  const BenchFigures& f = r.load;
  Fields fields{{"accounts", std::to_string(r.accounts_funded) + " funded of " +
                                 std::to_string(r.config.accounts) + " in " +
                                 fixed(r.funding_seconds, 2) + " s"},
                {"txs planned", std::to_string(f.planned) + " (" + std::to_string(r.config.txs) +
                                    " per account, batch " + std::to_string(r.config.batch) +
                                    ", concurrency " + std::to_string(r.config.concurrency) + ")"},
                {"submitted", std::to_string(f.submitted)},
                {"admitted", std::to_string(f.admitted)},
                {"refused", std::to_string(f.refused) + counts(f.refused_by_code)},
                {"committed", std::to_string(f.committed)},
                {"failed by result", std::to_string(f.failed_by_result) + counts(f.failed_by_name)},
                {"missing", std::to_string(f.missing) + " admitted but not committed"},
                {"wall time", fixed(j["wall_seconds"].get<double>(), 2) + " s"},
                {"committed tps", fixed(j["tps"].get<double>(), 1)},
                {"latency p50", ms("p50")},
                {"latency p90", ms("p90")},
                {"latency p99", ms("p99")},
                {"latency max", ms("max")},
                {"blocks", std::to_string(r.blocks)},
                {"stopped", stop_text(r.stop)}};
  for (const std::string& hash : f.missing_sample)
    fields.push_back({"missing tx", hash});
  for (const std::string& hash : f.not_admitted_sample)
    fields.push_back({"not admitted tx", hash});
  print_fields(fields);
}

void print_report(const Report& report, bool json) {
  if (json) {
    print_json(report_json(report));
  } else {
    print_report_text(report);
  }
}

}  // namespace

int run_bench(const Args& args) {
  BenchOptions options;
  po::options_description desc("options");
  add_connection_options(desc, options.connection);
  add_json_option(desc, options.json);
  add_keys_dir_option(desc, options.keys_dir);
  desc.add_options()                                                                         //
      ("from", po::value(&options.from)->required(), "funding key: name or key file path")   //
      ("accounts", po::value(&options.accounts)->default_value("10"), "bench accounts N")    //
      ("txs", po::value(&options.txs)->default_value("100"), "transfers per account M")      //
      ("batch", po::value(&options.batch)->default_value("100"), "transactions per call B")  //
      ("concurrency", po::value(&options.concurrency)->default_value("4"), "calls in flight C")(
          "max-seconds", po::value(&options.max_seconds)->default_value("120"),
          "stop funding and load after this many seconds")  //
      ("amount", po::value(&options.amount)->default_value("1"), "amount of each load transfer")(
          "chain-id", po::value(&options.chain_id), "chain id (default: the node's)");
  po::variables_map vm;
  if (auto code = parse_command_line(args, kSpec, desc, {}, vm)) return *code;
  if (auto error = check_connection_options(options.connection)) return usage_error(kSpec, *error);
  auto config = config_from(options);
  if (!config.is_ok()) return usage_error(kSpec, config.status().message());
  const BenchConfig& c = *config;
  auto key = load_key(options.from, options.keys_dir);
  if (!key.is_ok()) return local_error(key.status());
  auto funder = Signer::create(key->secret);
  if (!funder.is_ok()) return local_error(funder.status());

  InterruptWatcher interrupts;  // before the channel: gRPC's threads inherit the signal mask
  Client client(options.connection);
  v1::GetStatusResponse status;
  {
    grpc::ClientContext context;
    client.prepare(context);
    grpc::Status rpc = client.stub().GetStatus(&context, v1::GetStatusRequest(), &status);
    if (!rpc.ok()) return client.report(rpc);
  }
  v1::GetAccountResponse funder_account;
  {
    grpc::ClientContext context;
    client.prepare(context);
    v1::GetAccountRequest request;
    request.set_address(funder->public_key().hex());
    grpc::Status rpc = client.stub().GetAccount(&context, request, &funder_account);
    if (!rpc.ok() && rpc.error_code() != grpc::StatusCode::NOT_FOUND) return client.report(rpc);
  }
  if (funder_account.balance() < c.total_amount) {
    return usage_error(kSpec, "the funding account " + funder->public_key().hex() + " holds " +
                                  std::to_string(funder_account.balance()) + "; the run needs " +
                                  std::to_string(c.total_amount) + " (accounts x txs x amount)");
  }
  const std::string chain_id = options.chain_id.empty() ? status.chain_id() : options.chain_id;
  auto signed_run = sign_run(c, *funder, chain_id, funder_account.nonce());
  if (!signed_run.is_ok()) return local_error(signed_run.status());

  Tracker tracker(std::move(signed_run->txs));
  BlockFeed feed(client, tracker, status.latest_height() + 1);
  const Clock::time_point start = Clock::now();
  Progress progress(tracker, start);
  Run run{client, tracker, feed, interrupts, start + std::chrono::seconds(c.max_seconds), progress};
  SubmitterOptions submit_options{c.batch, c.concurrency, run.deadline};
  auto should_stop = [&run] { return run.stop_requested().has_value(); };
  Report report;
  report.config = c;

  // Funding.
  std::vector<std::size_t> funding(c.accounts);
  for (std::size_t a = 0; a < funding.size(); ++a)
    funding[a] = a;
  Submitter funding_submitter(client, tracker, submit_options, should_stop);
  auto fatal = funding_submitter.run(funding, [&] { progress.tick("funding", funding); });
  if (!fatal) {
    report.stop = run.wait_settled("funding", funding, [&] {
      poll_funding(run, funder->public_key(), funder_account.nonce() + c.accounts, funding);
    });
  }
  report.funding_seconds = seconds_between(start, Clock::now());
  std::vector<std::uint64_t> funded;
  for (std::uint64_t a = 0; a < c.accounts; ++a) {
    if (tracker.committed_result(funding[a]) == v1::TX_RESULT_SUCCESS) funded.push_back(a);
  }
  report.accounts_funded = funded.size();

  // Load: nonce k of every funded account before nonce k+1 of any.
  std::vector<std::size_t> load;
  for (std::uint64_t k = 0; k < c.txs; ++k) {
    for (std::uint64_t a : funded)
      load.push_back(load_index(c, a, k));
  }
  std::optional<Clock::time_point> first_submit;
  if (!fatal && !load.empty() && report.stop == Stop::kAllSettled) {
    Submitter load_submitter(client, tracker, submit_options, should_stop);
    fatal = load_submitter.run(load, [&] { progress.tick("load", load); });
    if (!fatal) report.stop = run.wait_settled("load", load, nullptr);
    report.first_submit = load_submitter.first_submit();
  }
  report.end = Clock::now();
  feed.stop();
  report.load = tracker.summarize(load);
  report.blocks = tracker.blocks_seen();

  if (fatal) {
    print_report(report, options.json);
    return client.report(*fatal);
  }
  if (funded.empty()) {
    BenchFigures f = tracker.summarize(funding);
    print_report(report, options.json);
    return fail(kExitNodeError, "no account was funded (" + std::to_string(f.committed) + " of " +
                                    std::to_string(f.planned) + " funding transfers committed, " +
                                    stop_text(report.stop) + "); nothing to load");
  }
  print_report(report, options.json);
  if (report.stop == Stop::kStreamEnded) {
    if (auto ended = feed.ended()) return client.report(*ended, "block stream");
  }
  return kExitOk;
}

}  // namespace ledger::ctl
