// The connection to one node: a gRPC channel with ledger.v1.Ledger and ledger.v1.Admin stubs,
// per-call deadlines, and the mapping from a failed call to a message and an exit code.
//
// Thread-safety: stub() and prepare() may be used from any thread (gRPC stubs are thread-safe);
// each call needs its own grpc::ClientContext.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "cli.h"
#include "ledger/v1/admin.grpc.pb.h"
#include "ledger/v1/ledger.grpc.pb.h"

namespace ledger::ctl {

// "FAILED_PRECONDITION" for grpc::StatusCode::FAILED_PRECONDITION; "CODE_<n>" if unknown.
std::string grpc_code_name(grpc::StatusCode code);
std::string grpc_code_name(int code);

class Client {
 public:
  // Creates the channel lazily connecting to options.node (no I/O happens here).
  explicit Client(ConnectionOptions options);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  v1::Ledger::Stub& stub() { return *stub_; }
  // ledger.v1.Admin: served only by nodes with rpc.admin = true (else UNIMPLEMENTED).
  v1::Admin::Stub& admin_stub() { return *admin_stub_; }
  const std::string& address() const { return options_.node; }

  // Sets the --timeout deadline on `context`. Not for streams, which run until cancelled.
  void prepare(grpc::ClientContext& context) const;

  // Whether a failed call means the node could not be reached: UNAVAILABLE, or a deadline that
  // passed while the channel never connected.
  bool is_unreachable(const grpc::Status& status) const;

  // Prints the failure of a call to stderr and returns its exit code:
  //   kExitUnreachable  "error: cannot reach node at HOST:PORT: UNAVAILABLE: ..."
  //   kExitNodeError    "error: FAILED_PRECONDITION: insufficient funds: ..."
  // `context`, if not empty, prefixes the node's message ("GetStatus").
  int report(const grpc::Status& status, const std::string& context = "") const;

 private:
  ConnectionOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Ledger::Stub> stub_;
  std::unique_ptr<v1::Admin::Stub> admin_stub_;
};

}  // namespace ledger::ctl
