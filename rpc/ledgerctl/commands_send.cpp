// send: build, sign and submit one transfer (docs/transaction-format.md), by default waiting for
// its commit.
#include <iostream>
#include <optional>

#include "cli.h"
#include "client.h"
#include "commands.h"
#include "key_store.h"
#include "ledger/core/chain_id.h"
#include "ledger/core/transaction.h"
#include "output.h"

namespace ledger::ctl {
namespace {

struct SendOptions {
  ConnectionOptions connection;
  bool json = false;
  std::string keys_dir;
  std::string from;
  std::string to;
  std::string amount;
  std::string memo;
  std::string nonce;
  std::string chain_id;
  bool no_wait = false;
};

const CommandSpec kSpec{
    "send", "send --from KEY --to ADDRESS --amount N [options]",
    "Signs a transfer with the key --from (a key name in the keys directory or a key file path) "
    "and submits it. Unless given, the chain id is read from the node (GetStatus) and the nonce "
    "is the account's next one (GetAccount); pass --nonce to send several transfers without "
    "waiting. Waits until the transfer is committed unless --no-wait. --to also accepts a key "
    "name."};

// The transfer fields that come from the command line.
struct Plan {
  std::uint64_t amount = 0;
  std::optional<std::uint64_t> nonce;
  Address recipient;
};

// Checks every argument before anything is read or sent; a usage error message or the plan.
StatusOr<Plan> plan_from(const SendOptions& options) {
  Plan plan;
  LEDGER_ASSIGN_OR_RETURN(plan.amount, parse_u64(options.amount, "--amount"));
  if (!options.nonce.empty()) {
    LEDGER_ASSIGN_OR_RETURN(plan.nonce, parse_u64(options.nonce, "--nonce"));
  }
  if (options.memo.size() > kMemoBytesMax) {
    return Status::invalid_argument("--memo is " + std::to_string(options.memo.size()) +
                                    " bytes; at most " + std::to_string(kMemoBytesMax));
  }
  if (!options.chain_id.empty()) {
    Status status = validate_chain_id(options.chain_id);
    if (!status.is_ok()) return status.with_context("--chain-id");
  }
  return plan;
}

void print_result(const SendOptions& options, const Transfer& transfer,
                  const v1::SubmitTransactionResponse& response) {
  bool committed = response.status() == v1::TX_STATUS_COMMITTED;
  if (options.json) {
    Json out{{"tx_hash", response.tx_hash()}, {"status", status_name(response.status())}};
    if (committed) {
      out["height"] = response.height();
      out["index"] = response.index();
      out["result"] = result_name(response.result());
    }
    out["chain_id"] = transfer.chain_id;
    out["sender"] = transfer.sender.hex();
    out["recipient"] = transfer.recipient.hex();
    out["nonce"] = transfer.nonce;
    out["amount"] = transfer.amount;
    print_json(out);
    return;
  }
  Fields fields{{"tx hash", response.tx_hash()}, {"status", status_name(response.status())}};
  if (committed) {
    fields.push_back({"height", std::to_string(response.height())});
    fields.push_back({"index", std::to_string(response.index())});
    fields.push_back({"result", result_name(response.result())});
  }
  fields.push_back({"from", transfer.sender.hex()});
  fields.push_back({"to", transfer.recipient.hex()});
  fields.push_back({"amount", std::to_string(transfer.amount)});
  fields.push_back({"nonce", std::to_string(transfer.nonce)});
  print_fields(fields);
}

// Fills in the chain id and nonce the command line left out, asking the node.
int complete_transfer(Client& client, const SendOptions& options, const Plan& plan,
                      Transfer& transfer) {
  if (!options.chain_id.empty()) {
    transfer.chain_id = options.chain_id;
  } else {
    grpc::ClientContext context;
    client.prepare(context);
    v1::GetStatusResponse status;
    grpc::Status rpc = client.stub().GetStatus(&context, v1::GetStatusRequest(), &status);
    if (!rpc.ok()) return client.report(rpc);
    transfer.chain_id = status.chain_id();
  }
  if (plan.nonce) {
    transfer.nonce = *plan.nonce;
  } else {
    grpc::ClientContext context;
    client.prepare(context);
    v1::GetAccountRequest request;
    request.set_address(transfer.sender.hex());
    v1::GetAccountResponse account;
    grpc::Status rpc = client.stub().GetAccount(&context, request, &account);
    // An account that was never credited may be reported as absent: its next nonce is 0.
    if (!rpc.ok() && rpc.error_code() != grpc::StatusCode::NOT_FOUND) return client.report(rpc);
    transfer.nonce = rpc.ok() ? account.nonce() : 0;
  }
  return kExitOk;
}

}  // namespace

int run_send(const Args& args) {
  SendOptions options;
  po::options_description desc("options");
  add_connection_options(desc, options.connection);
  add_json_option(desc, options.json);
  add_keys_dir_option(desc, options.keys_dir);
  desc.add_options()                                                                        //
      ("from", po::value(&options.from)->required(), "signing key: name or key file path")  //
      ("to", po::value(&options.to)->required(), "recipient address (or key name)")         //
      ("amount", po::value(&options.amount)->required(), "amount to move (uint64)")         //
      ("memo", po::value(&options.memo), "memo text, at most 256 bytes")                    //
      ("nonce", po::value(&options.nonce), "nonce (default: the account's next, from the node)")(
          "chain-id", po::value(&options.chain_id), "chain id (default: the node's)")  //
      ("no-wait", po::bool_switch(&options.no_wait),
       "return once admitted, do not wait for the commit");
  po::variables_map vm;
  if (auto code = parse_command_line(args, kSpec, desc, {}, vm)) return *code;
  if (auto error = check_connection_options(options.connection)) return usage_error(kSpec, *error);
  auto plan = plan_from(options);
  if (!plan.is_ok()) return usage_error(kSpec, plan.status().message());
  auto recipient = resolve_address(options.to, options.keys_dir);
  if (!recipient.is_ok()) {
    if (recipient.status().code() == StatusCode::kInvalidArgument) {
      return usage_error(kSpec, "--to: " + recipient.status().message());
    }
    return local_error(recipient.status());
  }
  auto key = load_key(options.from, options.keys_dir);
  if (!key.is_ok()) return local_error(key.status());
  auto signer = Signer::create(key->secret);
  if (!signer.is_ok()) return local_error(signer.status());

  Client client(options.connection);
  Transfer transfer;
  transfer.sender = signer->public_key();
  transfer.recipient = *recipient;
  transfer.amount = plan->amount;
  transfer.memo.assign(options.memo.begin(), options.memo.end());
  if (int code = complete_transfer(client, options, *plan, transfer); code != kExitOk) return code;
  if (Status status = validate_transfer(transfer); !status.is_ok()) {
    return usage_error(kSpec, status.message());
  }
  SignedTransfer signed_transfer = sign_transfer(transfer, *signer);
  const std::string hash = transaction_hash(signed_transfer).hex();
  const Bytes wire = encode_transaction(signed_transfer);

  grpc::ClientContext context;
  client.prepare(context);
  v1::SubmitTransactionRequest request;
  request.set_transaction(wire.data(), wire.size());
  request.set_wait_for_commit(!options.no_wait);
  v1::SubmitTransactionResponse response;
  grpc::Status rpc = client.stub().SubmitTransaction(&context, request, &response);
  if (!rpc.ok()) {
    if (rpc.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && !client.is_unreachable(rpc)) {
      std::cerr << "note: transaction " << hash << " may still commit; check with: ledgerctl tx "
                << hash << "\n";
    }
    return client.report(rpc);
  }
  if (response.tx_hash() != hash) {
    std::cerr << "warning: the node reports hash " << response.tx_hash() << ", expected " << hash
              << "\n";
  }
  print_result(options, transfer, response);
  if (response.status() == v1::TX_STATUS_COMMITTED && response.result() != v1::TX_RESULT_SUCCESS) {
    return fail(kExitTxFailed, "transaction " + response.tx_hash() + " committed with result " +
                                   result_name(response.result()));
  }
  return kExitOk;
}

}  // namespace ledger::ctl
