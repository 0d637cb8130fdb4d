#include "client.h"

#include <chrono>
#include <iostream>

namespace ledger::ctl {

namespace {

// Blocks can be large (a block carries up to 10'000 transactions); accept what a node may send.
constexpr int kReceiveMessageBytesMax = 64 * 1024 * 1024;

}  // namespace

std::string grpc_code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      break;
  }
  return "CODE_" + std::to_string(static_cast<int>(code));
}

std::string grpc_code_name(int code) {
  return grpc_code_name(static_cast<grpc::StatusCode>(code));
}

Client::Client(ConnectionOptions options) : options_(std::move(options)) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kReceiveMessageBytesMax);
  channel_ = grpc::CreateCustomChannel(options_.node, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::Ledger::NewStub(channel_);
  admin_stub_ = v1::Admin::NewStub(channel_);
}

void Client::prepare(grpc::ClientContext& context) const {
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(options_.timeout_seconds));
}

bool Client::is_unreachable(const grpc::Status& status) const {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) return true;
  if (status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) return false;
  // A deadline on a channel that is not READY means the connection never came up (a host
  // that drops packets), not a slow answer from a node.
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/false);
  return state == GRPC_CHANNEL_CONNECTING || state == GRPC_CHANNEL_TRANSIENT_FAILURE ||
         state == GRPC_CHANNEL_IDLE;
}

int Client::report(const grpc::Status& status, const std::string& context) const {
  std::string message = grpc_code_name(status.error_code());
  if (!context.empty()) message = context + ": " + message;
  if (!status.error_message().empty()) message += ": " + status.error_message();
  if (is_unreachable(status)) {
    return fail(kExitUnreachable, "cannot reach node at " + options_.node + ": " + message);
  }
  return fail(kExitNodeError, message);
}

}  // namespace ledger::ctl
