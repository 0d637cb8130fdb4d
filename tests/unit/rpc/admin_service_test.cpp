// rpc/admin_service.h: ledger.v1.Admin over an AdminApi: what each call asks of the node and
// answers, and how a refusal becomes a gRPC status. The handlers are called directly (they do
// not use the server context); serving over a real server is covered by running ledgerd.
#include "admin_service.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "support/test_keys.h"

namespace ledger::rpc {
namespace {

class FakeAdminApi final : public AdminApi {
 public:
  Status set_network_enabled(bool enabled) override {
    std::lock_guard lock(mutex_);
    calls.push_back(enabled);
    if (!refusal.is_ok()) return refusal;
    view.enabled = enabled;
    return Status::ok();
  }
  NetworkView network() const override {
    std::lock_guard lock(mutex_);
    return view;
  }

  NetworkView view;
  Status refusal;           // returned by set_network_enabled when not ok
  std::vector<bool> calls;  // set_network_enabled arguments, in order

 private:
  mutable std::mutex mutex_;
};

TEST(AdminService, SetNetwork_PassesTheSettingAndAnswersTheOneInForce) {
  FakeAdminApi api;
  AdminService service(api);
  v1::SetNetworkRequest request;
  request.set_enabled(false);
  v1::SetNetworkResponse response;
  const grpc::Status status = service.SetNetwork(nullptr, &request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(response.enabled());
  EXPECT_EQ(api.calls, std::vector<bool>{false});

  request.set_enabled(true);
  ASSERT_TRUE(service.SetNetwork(nullptr, &request, &response).ok());
  EXPECT_TRUE(response.enabled());
  EXPECT_EQ(api.calls, (std::vector<bool>{false, true}));
}

TEST(AdminService, SetNetwork_ShuttingDownIsUnavailable) {
  FakeAdminApi api;
  api.refusal = Status::unavailable("the node is shutting down");
  AdminService service(api);
  v1::SetNetworkRequest request;
  v1::SetNetworkResponse response;
  const grpc::Status status = service.SetNetwork(nullptr, &request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "the node is shutting down");
}

TEST(AdminService, SetNetwork_NoNetworkingIsFailedPrecondition) {
  FakeAdminApi api;
  api.refusal = Status::failed_precondition("this node has no peers");
  AdminService service(api);
  v1::SetNetworkRequest request;
  v1::SetNetworkResponse response;
  EXPECT_EQ(service.SetNetwork(nullptr, &request, &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(AdminService, GetNetwork_ReportsTheSettingAndThePeersAsHex) {
  FakeAdminApi api;
  const PublicKey a = testing::test_signer(0x71, 1).public_key();
  const PublicKey b = testing::test_signer(0x71, 2).public_key();
  api.view = NetworkView{false, {a, b}};
  AdminService service(api);
  v1::GetNetworkResponse response;
  const v1::GetNetworkRequest request;
  ASSERT_TRUE(service.GetNetwork(nullptr, &request, &response).ok());
  EXPECT_FALSE(response.enabled());
  ASSERT_EQ(response.connected_peers_size(), 2);
  EXPECT_EQ(response.connected_peers(0), a.hex());
  EXPECT_EQ(response.connected_peers(1), b.hex());
  EXPECT_TRUE(api.calls.empty());
}

TEST(AdminService, GetNetwork_NoPeers) {
  FakeAdminApi api;
  AdminService service(api);
  v1::GetNetworkResponse response;
  const v1::GetNetworkRequest request;
  ASSERT_TRUE(service.GetNetwork(nullptr, &request, &response).ok());
  EXPECT_TRUE(response.enabled());
  EXPECT_EQ(response.connected_peers_size(), 0);
}

}  // namespace
}  // namespace ledger::rpc
