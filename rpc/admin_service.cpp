#include "admin_service.h"

#include <grpcpp/grpcpp.h>

#include "ledger/rpc/server.h"

namespace ledger::rpc {

namespace {

grpc::Status grpc_status(const Status& status) {
  LEDGER_ASSERT(!status.is_ok());
  return {static_cast<grpc::StatusCode>(grpc_code_for(status.code())), status.message()};
}

}  // namespace

grpc::Status AdminService::SetNetwork(grpc::ServerContext* /*context*/,
                                      const v1::SetNetworkRequest* request,
                                      v1::SetNetworkResponse* response) {
  const Status set = api_.set_network_enabled(request->enabled());
  if (!set.is_ok()) return grpc_status(set);
  response->set_enabled(api_.network().enabled);
  return grpc::Status::OK;
}

grpc::Status AdminService::GetNetwork(grpc::ServerContext* /*context*/,
                                      const v1::GetNetworkRequest* /*request*/,
                                      v1::GetNetworkResponse* response) {
  const NetworkView view = api_.network();
  response->set_enabled(view.enabled);
  for (const PublicKey& peer : view.connected_peers)
    response->add_connected_peers(peer.hex());
  return grpc::Status::OK;
}

}  // namespace ledger::rpc
