// The ledger.v1.Ledger service over a NodeApi, on gRPC's synchronous server, plus
// grpc.health.v1.Health and server reflection. ledger.proto has the error table; docs/api.md
// says what each RPC answers and when.
//
// Every call runs on a gRPC thread (bounded by threads_max through the resource quota). Calls
// that wait (SubmitTransaction with wait_for_commit, SubscribeBlocks) wait in slices of at most
// kWaitSlice so that they notice a client that left and a server that is shutting down, and
// they never queue anything: a subscriber is served from the store at its own pace.
#include "ledger/rpc/server.h"

#include <grpc/support/time.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/server_interceptor.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "admin_service.h"
#include "convert.h"
#include "ledger/v1/ledger.grpc.pb.h"

namespace ledger::rpc {
namespace {

using Clock = std::chrono::steady_clock;

// The longest a SubmitTransaction with wait_for_commit holds its thread, whatever deadline the
// call carries (and the whole wait of a call without one).
constexpr std::chrono::seconds kCommitWaitMax{60};
// One wait_for_height lasts at most this long, so that waiting calls re-check cancellation and
// shutdown at least this often.
constexpr std::chrono::milliseconds kWaitSlice{1000};
// A commit wait answers this much (at most a tenth of the time left) before the call's
// deadline, so that the explanation reaches the client before its own timer fires.
constexpr std::chrono::milliseconds kDeadlineReplyMarginMax{100};
// Server keepalive pings find clients that vanished without closing their connection, which
// would otherwise hold a subscriber slot and a thread until the kernel gives up on the socket.
constexpr int kKeepaliveTimeMs = 120'000;
constexpr int kKeepaliveTimeoutMs = 20'000;
// What a request or response adds around the one large field it carries (a transaction, a
// block): its tag and length, and a few small fields.
constexpr std::size_t kEnvelopeBytesMax = 16;
// The smallest message_bytes_max: room for a SubmitTransaction of the largest transfer.
constexpr std::size_t kMessageBytesMin = 1024;
static_assert(kTransferBytesMax + kEnvelopeBytesMax < kMessageBytesMin);
// A poller thread plus at least one call.
constexpr int kThreadsMin = 2;

constexpr char kServiceName[] = "ledger.v1.Ledger";
constexpr char kAdminServiceName[] = "ledger.v1.Admin";

grpc::Status grpc_status(const Status& status) {
  LEDGER_ASSERT(!status.is_ok());
  return {static_cast<grpc::StatusCode>(grpc_code_for(status.code())), status.message()};
}

grpc::Status grpc_status(grpc::StatusCode code, std::string message) {
  return {code, std::move(message)};
}

// A refusal of the transaction with hash `tx_hash`, naming it: a non-OK call carries no
// response body, so the message is all a client log keeps (docs/api.md, Conventions). Most
// mempool messages ("insufficient funds: ...", "mempool full: ...") do not name it themselves.
Status naming_transaction(const Status& refusal, const Hash& tx_hash) {
  LEDGER_ASSERT(!refusal.is_ok());
  const std::string hex = tx_hash.hex();
  if (refusal.message().find(hex) != std::string::npos) return refusal;
  return refusal.with_context("transaction " + hex);
}

// The height after `height`. Heights come from the node, which cannot reach 2^64-1.
std::uint64_t next_height(std::uint64_t height) {
  LEDGER_ASSERT(height < std::numeric_limits<std::uint64_t>::max());
  return height + 1;
}

grpc::Status shutting_down_while_waiting(const Hash& tx_hash) {
  return grpc_status(grpc::StatusCode::UNAVAILABLE,
                     "the node is shutting down; transaction " + tx_hash.hex() +
                         " was admitted but had not committed yet (check it with "
                         "GetTransaction once the node is back, and resubmit if unknown)");
}

grpc::Status shutting_down_while_streaming(std::uint64_t next) {
  return grpc_status(grpc::StatusCode::UNAVAILABLE,
                     "the node is shutting down; resubscribe with from_height " +
                         std::to_string(next) + " to continue");
}

// One unit of a bounded count (waiters, subscribers), held for the life of the guard.
class CountedSlot {
 public:
  CountedSlot(std::atomic<std::size_t>& count, std::size_t max) : count_(count) {
    std::size_t current = count_.load();
    while (current < max) {
      if (count_.compare_exchange_weak(current, current + 1)) {
        acquired_ = true;
        return;
      }
    }
  }
  ~CountedSlot() {
    if (acquired_) count_.fetch_sub(1);
  }
  CountedSlot(const CountedSlot&) = delete;
  CountedSlot& operator=(const CountedSlot&) = delete;

  bool acquired() const { return acquired_; }

 private:
  std::atomic<std::size_t>& count_;
  bool acquired_ = false;
};

// When a commit wait must answer: the call's deadline less a reply margin, capped at
// kCommitWaitMax from now. `capped` says whether the server's cap, not the client, decided.
struct CommitWaitDeadline {
  Clock::time_point at;
  bool capped = false;
};

CommitWaitDeadline commit_wait_deadline(const grpc::ServerContext& context) {
  const Clock::time_point now = Clock::now();
  // gpr arithmetic rather than std::chrono: a client may send a deadline centuries away, which
  // a nanosecond time_point cannot hold.
  const gpr_timespec client_deadline =
      gpr_convert_clock_type(context.raw_deadline(), GPR_CLOCK_MONOTONIC);
  const gpr_timespec remaining = gpr_time_sub(client_deadline, gpr_now(GPR_CLOCK_MONOTONIC));
  if (gpr_time_cmp(client_deadline, gpr_inf_future(GPR_CLOCK_MONOTONIC)) == 0 ||
      remaining.tv_sec > static_cast<std::int64_t>(kCommitWaitMax.count()) + 1) {
    return {now + kCommitWaitMax, true};
  }
  const auto left = std::chrono::duration_cast<Clock::duration>(
      std::chrono::seconds(remaining.tv_sec) + std::chrono::nanoseconds(remaining.tv_nsec));
  if (left <= Clock::duration::zero()) return {now, false};
  const Clock::duration margin = std::min<Clock::duration>(kDeadlineReplyMarginMax, left / 10);
  if (left - margin >= kCommitWaitMax) return {now + kCommitWaitMax, true};
  return {now + (left - margin), false};
}

class LedgerService final : public v1::Ledger::Service {
 public:
  LedgerService(const ServerOptions& options, NodeApi& api) : options_(options), api_(api) {}

  // From here on waiting calls end (UNAVAILABLE) at their next check.
  void begin_shutdown() { stopping_.store(true); }

  grpc::Status SubmitTransaction(grpc::ServerContext* context,
                                 const v1::SubmitTransactionRequest* request,
                                 v1::SubmitTransactionResponse* response) override;
  grpc::Status SubmitTransactions(grpc::ServerContext* context,
                                  const v1::SubmitTransactionsRequest* request,
                                  v1::SubmitTransactionsResponse* response) override;
  grpc::Status GetTransaction(grpc::ServerContext* context,
                              const v1::GetTransactionRequest* request,
                              v1::GetTransactionResponse* response) override;
  grpc::Status GetAccount(grpc::ServerContext* context, const v1::GetAccountRequest* request,
                          v1::GetAccountResponse* response) override;
  grpc::Status GetBlock(grpc::ServerContext* context, const v1::GetBlockRequest* request,
                        v1::GetBlockResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status GetValidators(grpc::ServerContext* context, const v1::GetValidatorsRequest* request,
                             v1::GetValidatorsResponse* response) override;
  grpc::Status SubscribeBlocks(grpc::ServerContext* context,
                               const v1::SubscribeBlocksRequest* request,
                               grpc::ServerWriter<v1::BlockEvent>* writer) override;

 private:
  bool stopping() const { return stopping_.load() || api_.shutting_down(); }

  grpc::Status wait_for_commit(const grpc::ServerContext& context, const Hash& tx_hash,
                               v1::SubmitTransactionResponse& response) const;
  // The height of the block that view.commit_cert certifies (see commit_cert_height()).
  StatusOr<std::uint64_t> commit_cert_height_of(const BlockView& view) const;
  // The block at `height` as a message no larger than message_bytes_max.
  grpc::Status block_message(std::uint64_t height, const StatusOr<BlockView>& view,
                             v1::Block& out) const;

  const ServerOptions options_;
  NodeApi& api_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> waiters_{0};      // <= options_.waiters_max
  std::atomic<std::size_t> subscribers_{0};  // <= options_.subscribers_max
};

grpc::Status LedgerService::SubmitTransaction(grpc::ServerContext* context,
                                              const v1::SubmitTransactionRequest* request,
                                              v1::SubmitTransactionResponse* response) {
  auto tx = parse_transaction(request->transaction());
  if (!tx.is_ok()) return grpc_status(tx.status());
  const Hash tx_hash = transaction_hash(*tx);
  const Status admitted = api_.submit(*tx);
  if (!admitted.is_ok()) return grpc_status(naming_transaction(admitted, tx_hash));

  response->set_tx_hash(tx_hash.hex());
  response->set_status(v1::TX_STATUS_PENDING);
  if (!request->wait_for_commit()) return grpc::Status::OK;

  const CountedSlot waiter(waiters_, options_.waiters_max);
  if (!waiter.acquired()) {
    return grpc_status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       "transaction " + tx_hash.hex() +
                           " was admitted and is pending, but too many calls are already "
                           "waiting for commits (rpc waiters_max " +
                           std::to_string(options_.waiters_max) +
                           "); poll GetTransaction for its status instead of resubmitting");
  }
  return wait_for_commit(*context, tx_hash, *response);
}

grpc::Status LedgerService::wait_for_commit(const grpc::ServerContext& context, const Hash& tx_hash,
                                            v1::SubmitTransactionResponse& response) const {
  const CommitWaitDeadline deadline = commit_wait_deadline(context);
  for (;;) {
    // The height is read before the index: a commit that lands in between makes the wait
    // below return at once, and the next pass finds the transaction.
    const std::uint64_t latest = api_.latest_height();
    const auto committed = api_.committed_transaction(tx_hash);
    if (committed.is_ok()) {
      response.set_status(v1::TX_STATUS_COMMITTED);
      response.set_height(committed->height);
      response.set_index(committed->index);
      response.set_result(tx_result_to_proto(committed->result));
      return grpc::Status::OK;
    }
    if (committed.status().code() != StatusCode::kNotFound) {
      return grpc_status(committed.status());
    }
    if (stopping()) return shutting_down_while_waiting(tx_hash);
    if (context.IsCancelled()) {
      return grpc_status(grpc::StatusCode::CANCELLED, "the client cancelled the call");
    }
    const Clock::time_point now = Clock::now();
    if (now >= deadline.at) {
      std::string message = "transaction " + tx_hash.hex() +
                            " admitted but not committed before the deadline; it is still pending";
      if (deadline.capped) {
        message += " (the server waits at most " + std::to_string(kCommitWaitMax.count()) +
                   " s for a commit; poll GetTransaction)";
      }
      return grpc_status(grpc::StatusCode::DEADLINE_EXCEEDED, std::move(message));
    }
    const auto waited =
        api_.wait_for_height(next_height(latest), std::min(deadline.at, now + kWaitSlice));
    if (!waited.is_ok()) {
      if (waited.status().code() == StatusCode::kUnavailable) {
        return shutting_down_while_waiting(tx_hash);
      }
      return grpc_status(waited.status());
    }
  }
}

grpc::Status LedgerService::SubmitTransactions(grpc::ServerContext* /*context*/,
                                               const v1::SubmitTransactionsRequest* request,
                                               v1::SubmitTransactionsResponse* response) {
  const auto count = static_cast<std::size_t>(request->transactions_size());
  if (count > options_.submit_batch_max) {
    return grpc_status(grpc::StatusCode::INVALID_ARGUMENT,
                       "SubmitTransactions takes at most " +
                           std::to_string(options_.submit_batch_max) +
                           " transactions per call (rpc submit_batch_max); got " +
                           std::to_string(count) + ", split the batch");
  }
  for (const std::string& wire_bytes : request->transactions()) {
    v1::SubmitResult* result = response->add_results();
    auto tx = parse_transaction(wire_bytes);
    if (!tx.is_ok()) {
      result->set_code(grpc::StatusCode::INVALID_ARGUMENT);
      result->set_message(tx.status().message());
      continue;
    }
    const Hash tx_hash = transaction_hash(*tx);
    result->set_tx_hash(tx_hash.hex());
    const Status admitted = api_.submit(*tx);
    if (admitted.is_ok()) continue;  // code 0, empty message
    result->set_code(grpc_code_for(admitted.code()));
    result->set_message(naming_transaction(admitted, tx_hash).message());
  }
  return grpc::Status::OK;
}

grpc::Status LedgerService::GetTransaction(grpc::ServerContext* /*context*/,
                                           const v1::GetTransactionRequest* request,
                                           v1::GetTransactionResponse* response) {
  const auto tx_hash = parse_hash_hex("tx_hash", request->tx_hash());
  if (!tx_hash.is_ok()) return grpc_status(tx_hash.status());
  const auto found = api_.transaction(*tx_hash);
  if (!found.is_ok()) {
    if (found.status().code() == StatusCode::kNotFound) {
      return grpc_status(grpc::StatusCode::NOT_FOUND,
                         "no pending or committed transaction " + tx_hash->hex());
    }
    return grpc_status(found.status());
  }
  tx_lookup_to_proto(*found, *response);
  return grpc::Status::OK;
}

grpc::Status LedgerService::GetAccount(grpc::ServerContext* /*context*/,
                                       const v1::GetAccountRequest* request,
                                       v1::GetAccountResponse* response) {
  const auto address = parse_address_hex("address", request->address());
  if (!address.is_ok()) return grpc_status(address.status());
  const auto account = api_.account(*address);
  if (!account.is_ok()) return grpc_status(account.status());
  account_to_proto(*address, *account, *response);
  return grpc::Status::OK;
}

StatusOr<std::uint64_t> LedgerService::commit_cert_height_of(const BlockView& view) const {
  if (const auto height = commit_cert_height(view)) return *height;
  // The certificate's parent B0 is a later block of the batch that committed this one; the
  // certified block is its child. A batch becomes visible all at once (NodeApi: reads answer
  // from heights up to latest_height(), which moves past a whole batch at once), so B0 is
  // readable whenever this block is: failing to read it is damage, not a race.
  const Hash& parent_id = view.commit_cert.data.parent_id;
  const std::uint64_t height = view.block.header.height;
  const auto parent = api_.block_by_id(parent_id);
  if (!parent.is_ok()) {
    return Status::corruption("block " + std::to_string(height) +
                              ": the block its commit certificate builds on (" + parent_id.hex() +
                              ") cannot be read: " + parent.status().message());
  }
  if (parent->block.header.height <= height) {
    return Status::corruption("block " + std::to_string(height) +
                              ": its commit certificate builds on block " + parent_id.hex() +
                              " at height " + std::to_string(parent->block.header.height) +
                              ", which is not above it");
  }
  return next_height(parent->block.header.height);
}

grpc::Status LedgerService::block_message(std::uint64_t height, const StatusOr<BlockView>& view,
                                          v1::Block& out) const {
  if (!view.is_ok()) {
    if (view.status().code() == StatusCode::kNotFound) {
      return grpc_status(grpc::StatusCode::NOT_FOUND,
                         "no block at height " + std::to_string(height) + " (latest is " +
                             std::to_string(api_.latest_height()) + ")");
    }
    return grpc_status(view.status());
  }
  const auto certified_height = commit_cert_height_of(*view);
  if (!certified_height.is_ok()) return grpc_status(certified_height.status());
  const Status converted = block_to_proto(*view, *certified_height, out);
  if (!converted.is_ok()) return grpc_status(converted);
  const std::size_t bytes = out.ByteSizeLong();
  // gRPC would fail the call anyway, with a message that does not say which block or limit.
  if (bytes + kEnvelopeBytesMax > options_.message_bytes_max) {
    return grpc_status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       "block " + std::to_string(view->block.header.height) + " takes " +
                           std::to_string(bytes) +
                           " bytes as a message, more than the node's rpc message_bytes_max (" +
                           std::to_string(options_.message_bytes_max) +
                           "); raise it (and the client's receive limit)");
  }
  return grpc::Status::OK;
}

grpc::Status LedgerService::GetBlock(grpc::ServerContext* /*context*/,
                                     const v1::GetBlockRequest* request,
                                     v1::GetBlockResponse* response) {
  switch (request->selector_case()) {
    case v1::GetBlockRequest::kHeight:
      return block_message(request->height(), api_.block_at(request->height()),
                           *response->mutable_block());
    case v1::GetBlockRequest::kId: {
      const auto id = parse_hash_hex("id", request->id());
      if (!id.is_ok()) return grpc_status(id.status());
      const auto view = api_.block_by_id(*id);
      if (!view.is_ok() && view.status().code() == StatusCode::kNotFound) {
        return grpc_status(grpc::StatusCode::NOT_FOUND, "no committed block with id " + id->hex());
      }
      return block_message(view.is_ok() ? view->block.header.height : 0, view,
                           *response->mutable_block());
    }
    case v1::GetBlockRequest::kLatest: {
      if (!request->latest()) {
        return grpc_status(grpc::StatusCode::INVALID_ARGUMENT,
                           "latest must be true when set (or select by height or id)");
      }
      const std::uint64_t latest = api_.latest_height();
      return block_message(latest, api_.block_at(latest), *response->mutable_block());
    }
    case v1::GetBlockRequest::SELECTOR_NOT_SET:
      break;
  }
  return grpc_status(grpc::StatusCode::INVALID_ARGUMENT,
                     "select a block: set one of height, id or latest");
}

grpc::Status LedgerService::GetStatus(grpc::ServerContext* /*context*/,
                                      const v1::GetStatusRequest* /*request*/,
                                      v1::GetStatusResponse* response) {
  status_to_proto(api_.status(), options_.version, *response);
  return grpc::Status::OK;
}

grpc::Status LedgerService::GetValidators(grpc::ServerContext* /*context*/,
                                          const v1::GetValidatorsRequest* /*request*/,
                                          v1::GetValidatorsResponse* response) {
  validators_to_proto(api_.validators(), api_.latest_height(), *response);
  return grpc::Status::OK;
}

grpc::Status LedgerService::SubscribeBlocks(grpc::ServerContext* context,
                                            const v1::SubscribeBlocksRequest* request,
                                            grpc::ServerWriter<v1::BlockEvent>* writer) {
  const CountedSlot subscriber(subscribers_, options_.subscribers_max);
  if (!subscriber.acquired()) {
    return grpc_status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       "too many block subscriptions (rpc subscribers_max " +
                           std::to_string(options_.subscribers_max) + "); retry later");
  }
  // The next height to send. Only this cursor is kept per subscriber: blocks are read from the
  // store when the subscriber can take them, never queued for it.
  std::uint64_t cursor =
      request->has_from_height() ? request->from_height() : next_height(api_.latest_height());
  for (;;) {
    const std::uint64_t latest = api_.latest_height();
    while (cursor <= latest) {
      if (stopping() || context->IsCancelled()) break;
      v1::BlockEvent event;
      const grpc::Status built =
          block_message(cursor, api_.block_at(cursor), *event.mutable_block());
      if (!built.ok()) return built;
      if (!writer->Write(event)) {
        return grpc_status(grpc::StatusCode::CANCELLED, "the stream was closed by the client");
      }
      if (cursor == std::numeric_limits<std::uint64_t>::max()) return grpc::Status::OK;
      ++cursor;
    }
    if (stopping()) return shutting_down_while_streaming(cursor);
    if (context->IsCancelled()) {
      return grpc_status(grpc::StatusCode::CANCELLED, "the client cancelled the stream");
    }
    const auto waited = api_.wait_for_height(cursor, Clock::now() + kWaitSlice);
    if (!waited.is_ok()) {
      if (waited.status().code() == StatusCode::kUnavailable) {
        return shutting_down_while_streaming(cursor);
      }
      return grpc_status(waited.status());
    }
  }
}

// A request whose bytes are not a protobuf encoding of the method's request message never
// reaches the service: grpc++ answers it with INTERNAL and an empty message, which the API
// reserves for the node's own faults. This turns that answer into INVALID_ARGUMENT naming the
// method. Only for calls with one request message (unary, server streaming), where a missing
// message after POST_RECV_MESSAGE can only mean that it did not parse (or was absent).
class UnparsableRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit UnparsableRequestInterceptor(std::string method) : method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparsable_ = true;
    }
    if (unparsable_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::INTERNAL) {
      methods->ModifySendStatus(
          grpc_status(grpc::StatusCode::INVALID_ARGUMENT,
                      "the request to " + method_ +
                          " is not a valid protobuf encoding of its request message (see "
                          "rpc/proto/ledger/v1/ or server reflection)"));
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  bool unparsable_ = false;  // the request message did not deserialize
};

class UnparsableRequestInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    using Type = grpc::experimental::ServerRpcInfo::Type;
    if (info->type() != Type::UNARY && info->type() != Type::SERVER_STREAMING) return nullptr;
    // gRPC owns the interceptor and deletes it with the call.
    return new UnparsableRequestInterceptor(info->method() == nullptr ? "" : info->method());
  }
};

// "host:port" with the port replaced by `port` (e.g. after binding port 0).
std::string with_port(const std::string& listen_address, int port) {
  const std::size_t colon = listen_address.rfind(':');
  LEDGER_ASSERT(colon != std::string::npos);
  return listen_address.substr(0, colon + 1) + std::to_string(port);
}

Status validate_options(const ServerOptions& options) {
  const std::string& address = options.listen_address;
  const std::size_t colon = address.rfind(':');
  const std::string port = colon == std::string::npos ? std::string() : address.substr(colon + 1);
  const bool port_ok =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      std::stoi(port) <= 65535;
  if (colon == 0 || !port_ok) {
    return Status::invalid_argument("rpc listen address must be host:port, port 0..65535 (got '" +
                                    address + "')");
  }
  if (options.message_bytes_max < kMessageBytesMin ||
      options.message_bytes_max > static_cast<std::size_t>(INT_MAX)) {
    return Status::invalid_argument(
        "rpc message_bytes_max must be between " + std::to_string(kMessageBytesMin) + " and " +
        std::to_string(INT_MAX) + " (got " + std::to_string(options.message_bytes_max) + ")");
  }
  if (options.submit_batch_max == 0) {
    return Status::invalid_argument("rpc submit_batch_max must be at least 1");
  }
  if (options.threads_max < kThreadsMin) {
    return Status::invalid_argument("rpc threads_max must be at least " +
                                    std::to_string(kThreadsMin) + " (got " +
                                    std::to_string(options.threads_max) + ")");
  }
  return Status::ok();
}

// Process-wide gRPC settings the builder reads: the default health service and the reflection
// plugin. Both must be in place before a ServerBuilder is constructed.
void install_grpc_plugins() {
  static std::once_flag once;
  std::call_once(once, [] {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  });
}

}  // namespace

struct RpcServer::Impl {
  ServerOptions options;
  std::unique_ptr<LedgerService> service;  // outlives server (declared before it)
  std::unique_ptr<AdminService> admin;     // null unless served; outlives server too
  std::unique_ptr<grpc::Server> server;    // non-null after start()
  std::string address;                     // listen_address with the bound port
  int port = 0;                            // > 0 after start()
  bool shut_down = false;                  // shutdown() has run
};

StatusOr<std::unique_ptr<RpcServer>> RpcServer::start(const ServerOptions& options, NodeApi& api,
                                                      AdminApi* admin) {
  LEDGER_RETURN_IF_ERROR(validate_options(options));
  install_grpc_plugins();

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->service = std::make_unique<LedgerService>(options, api);
  if (options.admin && admin != nullptr) impl->admin = std::make_unique<AdminService>(*admin);

  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(options.listen_address, grpc::InsecureServerCredentials(),
                           &selected_port);
  builder.RegisterService(impl->service.get());
  if (impl->admin != nullptr) builder.RegisterService(impl->admin.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.message_bytes_max));
  builder.SetMaxSendMessageSize(static_cast<int>(options.message_bytes_max));
  grpc::ResourceQuota quota("ledger-rpc");
  quota.SetMaxThreads(options.threads_max);
  builder.SetResourceQuota(quota);
  // gRPC sets SO_REUSEPORT by default, which lets a second node bind the same port and steal
  // half the connections; a busy port must be an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<UnparsableRequestInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || selected_port == 0) {
    return Status::unavailable("cannot listen for gRPC on " + options.listen_address +
                               ": the port is in use or the host is not a local address");
  }
  impl->port = selected_port;
  impl->address = with_port(options.listen_address, selected_port);

  grpc::HealthCheckServiceInterface* health = impl->server->GetHealthCheckService();
  LEDGER_ASSERT(health != nullptr);
  health->SetServingStatus(kServiceName, true);
  if (impl->admin != nullptr) health->SetServingStatus(kAdminServiceName, true);
  health->SetServingStatus(true);
  return std::unique_ptr<RpcServer>(new RpcServer(std::move(impl)));
}

RpcServer::RpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  LEDGER_ASSERT(impl_ != nullptr && impl_->server != nullptr);
}

RpcServer::~RpcServer() {
  shutdown(std::chrono::milliseconds(0));
}

const std::string& RpcServer::address() const {
  return impl_->address;
}

int RpcServer::port() const {
  return impl_->port;
}

bool RpcServer::admin_served() const {
  return impl_->admin != nullptr;
}

void RpcServer::shutdown(std::chrono::milliseconds grace) {
  if (impl_->shut_down) return;
  impl_->shut_down = true;
  impl_->service->begin_shutdown();
  grpc::HealthCheckServiceInterface* health = impl_->server->GetHealthCheckService();
  if (health != nullptr) health->SetServingStatus(false);
  // Refuses new calls at once, lets the ones in flight finish until the deadline, then cancels
  // them; waiting calls notice begin_shutdown() within kWaitSlice.
  impl_->server->Shutdown(std::chrono::system_clock::now() + grace);
  impl_->server->Wait();
}

}  // namespace ledger::rpc
