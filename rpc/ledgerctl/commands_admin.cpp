// admin network [on|off]: fault injection on a testnet node over ledger.v1.Admin
// (rpc/proto/ledger/v1/admin.proto, docs/testnet.md). Nodes serve it only with rpc.admin = true,
// which `ledgerd testnet` sets and which is allowed only on a loopback rpc.listen.
#include <iostream>
#include <optional>
#include <string>

#include "cli.h"
#include "client.h"
#include "commands.h"
#include "output.h"

namespace ledger::ctl {
namespace {

struct AdminOptions {
  ConnectionOptions connection;
  bool json = false;
};

// A failed admin call: UNIMPLEMENTED means the node does not serve the service at all, which
// is a configuration matter the plain gRPC message does not explain.
int report_admin(const Client& client, const grpc::Status& status, const std::string& call) {
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return fail(kExitNodeError, call + ": the node at " + client.address() +
                                    " does not serve ledger.v1.Admin: set rpc.admin = true in "
                                    "its config.toml (only allowed with a loopback rpc.listen) "
                                    "and restart it");
  }
  return client.report(status, call);
}

int run_network(const Args& args) {
  const CommandSpec spec{
      "admin network", "admin network [on|off] [options]",
      "Without an argument, shows whether the node's peer-to-peer networking is on and which "
      "peers are connected. 'off' closes every peer connection and keeps the node cut off "
      "(no dialing, inbound connections refused) while its gRPC API keeps serving; 'on' "
      "reconnects it to its configured peers. For testnets: the node must run with "
      "rpc.admin = true (ledgerd testnet sets it)."};
  AdminOptions options;
  std::string state;
  po::options_description desc("options");
  add_connection_options(desc, options.connection);
  add_json_option(desc, options.json);
  desc.add_options()("state", po::value(&state), "on or off (omit to show the state)");
  po::positional_options_description positional;
  positional.add("state", 1);
  po::variables_map vm;
  if (auto code = parse_command_line(args, spec, desc, positional, vm)) return *code;
  if (auto error = check_connection_options(options.connection)) return usage_error(spec, *error);
  std::optional<bool> enable;
  if (state == "on") {
    enable = true;
  } else if (state == "off") {
    enable = false;
  } else if (vm.count("state") != 0) {
    return usage_error(spec, "the state must be 'on' or 'off' (got '" + state + "')");
  }

  Client client(options.connection);
  grpc::ClientContext context;
  client.prepare(context);
  if (enable) {
    v1::SetNetworkRequest request;
    request.set_enabled(*enable);
    v1::SetNetworkResponse response;
    const grpc::Status status = client.admin_stub().SetNetwork(&context, request, &response);
    if (!status.ok()) return report_admin(client, status, "SetNetwork");
    if (options.json) {
      print_json(to_json(response));
    } else {
      print_text(response);
    }
    return kExitOk;
  }
  v1::GetNetworkResponse response;
  const grpc::Status status =
      client.admin_stub().GetNetwork(&context, v1::GetNetworkRequest(), &response);
  if (!status.ok()) return report_admin(client, status, "GetNetwork");
  if (options.json) {
    print_json(to_json(response));
  } else {
    print_text(response);
  }
  return kExitOk;
}

void print_admin_usage(std::ostream& out) {
  out << "usage: ledgerctl admin network [on|off] [options]\n\n"
      << "  admin network        show whether peer-to-peer networking is on, and the peers\n"
      << "  admin network off    cut the node off from its peers (fault injection)\n"
      << "  admin network on     reconnect it\n\n"
      << "The node must run with rpc.admin = true (loopback only; ledgerd testnet sets it).\n"
      << "Run 'ledgerctl admin network --help' for its options.\n";
}

}  // namespace

int run_admin(const Args& args) {
  if (args.empty()) {
    print_admin_usage(std::cerr);
    return kExitUsage;
  }
  const std::string& sub = args.front();
  Args rest(args.begin() + 1, args.end());
  if (sub == "network") return run_network(rest);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    print_admin_usage(std::cout);
    return kExitOk;
  }
  std::cerr << "error: unknown admin subcommand '" << sub << "'\n\n";
  print_admin_usage(std::cerr);
  return kExitUsage;
}

}  // namespace ledger::ctl
