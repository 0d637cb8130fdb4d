// The ledger.v1.Admin service (rpc/proto/ledger/v1/admin.proto) over an AdminApi. Private to
// rpc/: RpcServer registers it when ServerOptions::admin is set and an AdminApi is given.
#pragma once

#include "ledger/rpc/admin_api.h"
#include "ledger/v1/admin.grpc.pb.h"

namespace ledger::rpc {

// Stateless: every call goes straight to the AdminApi, on the gRPC thread that serves it.
class AdminService final : public v1::Admin::Service {
 public:
  explicit AdminService(AdminApi& api) : api_(api) {}  // `api` outlives the service

  grpc::Status SetNetwork(grpc::ServerContext* context, const v1::SetNetworkRequest* request,
                          v1::SetNetworkResponse* response) override;
  grpc::Status GetNetwork(grpc::ServerContext* context, const v1::GetNetworkRequest* request,
                          v1::GetNetworkResponse* response) override;

 private:
  AdminApi& api_;
};

}  // namespace ledger::rpc
