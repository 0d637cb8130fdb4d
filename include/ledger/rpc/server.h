// The gRPC server of a node: ledger.v1.Ledger (rpc/proto/ledger/v1/ledger.proto) over a NodeApi,
// plus grpc.health.v1.Health and server reflection, and ledger.v1.Admin (admin.proto) over an
// AdminApi when asked for.
//
// Thread-safety: start() and shutdown() from one thread (the node's); the services run on
// gRPC's own threads and call NodeApi and AdminApi concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "ledger/core/status.h"
#include "ledger/rpc/admin_api.h"
#include "ledger/rpc/node_api.h"

namespace ledger::rpc {

// Every bound is checked when a call needs it; a call over a bound gets RESOURCE_EXHAUSTED (or
// INVALID_ARGUMENT for a batch) naming the option. docs/api.md lists them.
struct ServerOptions {
  std::string listen_address = "127.0.0.1:26657";  // host:port; port 0 picks a free port
  // Largest request or response message, 1024..2^31-1. Also bounds GetBlock/SubscribeBlocks:
  // a block whose message would be larger is refused with RESOURCE_EXHAUSTED.
  std::size_t message_bytes_max = 16 * 1024 * 1024;  // room for a full default block
  std::size_t submit_batch_max = 1000;  // >= 1: transactions per SubmitTransactions call
  std::size_t subscribers_max = 64;     // concurrent SubscribeBlocks streams (0: none allowed)
  // Concurrent SubmitTransaction calls waiting for a commit (0: wait_for_commit always refused).
  std::size_t waiters_max = 128;
  // >= 2: gRPC server threads (sync server: one per active call, plus pollers). Calls beyond it
  // are refused by gRPC with RESOURCE_EXHAUSTED "Server Threadpool Exhausted", so waiters and
  // subscribers are in effect also bounded by it.
  int threads_max = 256;
  std::string version;  // reported by GetStatus; empty: NodeStatusView::version
  // Also serve ledger.v1.Admin (fault injection for testnets: cut the node off its peers),
  // when start() is given an AdminApi. The node's config refuses it unless listen_address is
  // on loopback.
  bool admin = false;
};

class RpcServer {
 public:
  // Binds and starts serving; grpc.health.v1.Health reports SERVING (for "" and
  // "ledger.v1.Ledger", and "ledger.v1.Admin" when served) once this returns. ledger.v1.Admin
  // is served only if options.admin and `admin` is not null; otherwise its calls answer
  // UNIMPLEMENTED. kInvalidArgument for bad options (the message names the option);
  // kUnavailable if the address cannot be bound (the message names it). `api` and `admin`
  // must outlive the server.
  static StatusOr<std::unique_ptr<RpcServer>> start(const ServerOptions& options, NodeApi& api,
                                                    AdminApi* admin = nullptr);
  // Whether ledger.v1.Admin is served.
  bool admin_served() const;
  ~RpcServer();  // shutdown() with no grace (calls in flight are cancelled) if not done yet
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // The bound address, e.g. "127.0.0.1:41234" (the real port when 0 was asked for).
  const std::string& address() const;
  int port() const;

  // Marks health NOT_SERVING, stops accepting calls, ends subscriptions and commit waits
  // (UNAVAILABLE, within about a second) and waits (up to `grace`) for calls in flight, then
  // cancels the rest; returns when every handler has returned. The NodeApi should already
  // report shutting_down() so that blocked waits return at once. Idempotent.
  void shutdown(std::chrono::milliseconds grace);

 private:
  struct Impl;
  explicit RpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// grpc::StatusCode value for a core status code (kOk -> 0, kInvalidArgument -> 3, ...).
int grpc_code_for(StatusCode code);

}  // namespace ledger::rpc
