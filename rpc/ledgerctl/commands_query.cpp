// Read-only commands: account, tx, block, status, validators, watch.
#include <iostream>
#include <optional>

#include "cli.h"
#include "client.h"
#include "commands.h"
#include "key_store.h"
#include "ledger/core/hash.h"
#include "output.h"

namespace ledger::ctl {
namespace {

struct QueryOptions {
  ConnectionOptions connection;
  bool json = false;
};

void describe(po::options_description& desc, QueryOptions& options) {
  add_connection_options(desc, options.connection);
  add_json_option(desc, options.json);
}

// Parses and checks the common options; an exit code if the command must stop.
std::optional<int> parse(const Args& args, const CommandSpec& spec, po::options_description& desc,
                         const po::positional_options_description& positional,
                         po::variables_map& vm, const QueryOptions& options) {
  if (auto code = parse_command_line(args, spec, desc, positional, vm)) return code;
  if (auto error = check_connection_options(options.connection)) return usage_error(spec, *error);
  return std::nullopt;
}

// A 64-hex-character hash argument, normalized to lowercase.
StatusOr<std::string> parse_hash(const std::string& text, const std::string& what) {
  auto hash = Hash::from_hex(text);
  if (!hash.is_ok()) {
    return Status::invalid_argument(what + " '" + text + "': " + hash.status().message());
  }
  return hash->hex();
}

}  // namespace

int run_account(const Args& args) {
  const CommandSpec spec{"account", "account ADDRESS|KEY [options]",
                         "Shows the committed balance and nonce of an account. The argument is "
                         "an address (64 lowercase hex characters) or a key name or key file, "
                         "whose address is used."};
  QueryOptions options;
  std::string account;
  std::string keys_dir;
  po::options_description desc("options");
  describe(desc, options);
  add_keys_dir_option(desc, keys_dir);
  desc.add_options()("address", po::value(&account)->required(), "address or key");
  po::positional_options_description positional;
  positional.add("address", 1);
  po::variables_map vm;
  if (auto code = parse(args, spec, desc, positional, vm, options)) return *code;
  auto address = resolve_address(account, keys_dir);
  if (!address.is_ok()) {
    if (address.status().code() == StatusCode::kInvalidArgument) {
      return usage_error(spec, address.status().message());
    }
    return local_error(address.status());
  }

  Client client(options.connection);
  grpc::ClientContext context;
  client.prepare(context);
  v1::GetAccountRequest request;
  request.set_address(address->hex());
  v1::GetAccountResponse response;
  grpc::Status status = client.stub().GetAccount(&context, request, &response);
  if (!status.ok()) return client.report(status);
  if (options.json) {
    print_json(to_json(response));
  } else {
    print_text(response);
  }
  return kExitOk;
}

int run_tx(const Args& args) {
  const CommandSpec spec{"tx", "tx HASH [options]",
                         "Shows a transaction, pending or committed, with its height, index and "
                         "result once committed."};
  QueryOptions options;
  std::string hash_text;
  po::options_description desc("options");
  describe(desc, options);
  desc.add_options()("hash", po::value(&hash_text)->required(), "transaction hash (64 hex)");
  po::positional_options_description positional;
  positional.add("hash", 1);
  po::variables_map vm;
  if (auto code = parse(args, spec, desc, positional, vm, options)) return *code;
  auto hash = parse_hash(hash_text, "transaction hash");
  if (!hash.is_ok()) return usage_error(spec, hash.status().message());

  Client client(options.connection);
  grpc::ClientContext context;
  client.prepare(context);
  v1::GetTransactionRequest request;
  request.set_tx_hash(*hash);
  v1::GetTransactionResponse response;
  grpc::Status status = client.stub().GetTransaction(&context, request, &response);
  if (!status.ok()) return client.report(status);
  if (options.json) {
    print_json(to_json(response));
  } else {
    print_text(response);
  }
  return kExitOk;
}

int run_block(const Args& args) {
  const CommandSpec spec{"block", "block [HEIGHT|latest] [--id ID] [options]",
                         "Shows a committed block: header fields, certificates, and one line per "
                         "transaction with its result. Without an argument, the latest block."};
  QueryOptions options;
  std::string selector;
  std::string id_text;
  po::options_description desc("options");
  describe(desc, options);
  desc.add_options()("id", po::value(&id_text), "block id (64 hex) instead of a height")  //
      ("selector", po::value(&selector), "height or 'latest'");
  po::positional_options_description positional;
  positional.add("selector", 1);
  po::variables_map vm;
  if (auto code = parse(args, spec, desc, positional, vm, options)) return *code;

  v1::GetBlockRequest request;
  if (!id_text.empty()) {
    if (!selector.empty()) return usage_error(spec, "give either a height or --id, not both");
    auto id = parse_hash(id_text, "--id");
    if (!id.is_ok()) return usage_error(spec, id.status().message());
    request.set_id(*id);
  } else if (selector.empty() || selector == "latest") {
    request.set_latest(true);
  } else {
    auto height = parse_u64(selector, "height");
    if (!height.is_ok()) return usage_error(spec, height.status().message());
    request.set_height(*height);
  }

  Client client(options.connection);
  grpc::ClientContext context;
  client.prepare(context);
  v1::GetBlockResponse response;
  grpc::Status status = client.stub().GetBlock(&context, request, &response);
  if (!status.ok()) return client.report(status);
  if (options.json) {
    print_json(to_json(response.block()));
  } else {
    print_text(response.block());
  }
  return kExitOk;
}

int run_status(const Args& args) {
  const CommandSpec spec{"status", "status [options]",
                         "Shows the node's chain id, latest block, round, mempool and peers."};
  QueryOptions options;
  po::options_description desc("options");
  describe(desc, options);
  po::variables_map vm;
  if (auto code = parse(args, spec, desc, {}, vm, options)) return *code;

  Client client(options.connection);
  grpc::ClientContext context;
  client.prepare(context);
  v1::GetStatusResponse response;
  grpc::Status status = client.stub().GetStatus(&context, v1::GetStatusRequest(), &response);
  if (!status.ok()) return client.report(status);
  if (options.json) {
    print_json(to_json(response));
  } else {
    print_text(response);
  }
  return kExitOk;
}

int run_validators(const Args& args) {
  const CommandSpec spec{"validators", "validators [options]",
                         "Shows the validator set in leader rotation order, with voting power "
                         "and the power a quorum certificate needs."};
  QueryOptions options;
  po::options_description desc("options");
  describe(desc, options);
  po::variables_map vm;
  if (auto code = parse(args, spec, desc, {}, vm, options)) return *code;

  Client client(options.connection);
  grpc::ClientContext context;
  client.prepare(context);
  v1::GetValidatorsResponse response;
  grpc::Status status =
      client.stub().GetValidators(&context, v1::GetValidatorsRequest(), &response);
  if (!status.ok()) return client.report(status);
  if (options.json) {
    print_json(to_json(response));
  } else {
    print_text(response);
  }
  return kExitOk;
}

int run_watch(const Args& args) {
  const CommandSpec spec{"watch", "watch [--from HEIGHT] [--count N] [options]",
                         "Prints one line per committed block as it arrives (with --from, "
                         "starting at that height, catching up first). Stops after --count "
                         "blocks, on Ctrl-C, or when the node ends the stream. --timeout does "
                         "not apply: the stream has no deadline."};
  QueryOptions options;
  std::string from_text;
  std::string count_text;
  po::options_description desc("options");
  describe(desc, options);
  desc.add_options()("from", po::value(&from_text), "first height to print (default: the next)")  //
      ("count", po::value(&count_text), "stop after this many blocks (default: never)");
  po::variables_map vm;
  if (auto code = parse(args, spec, desc, {}, vm, options)) return *code;

  v1::SubscribeBlocksRequest request;
  if (!from_text.empty()) {
    auto from = parse_u64(from_text, "--from");
    if (!from.is_ok()) return usage_error(spec, from.status().message());
    request.set_from_height(*from);
  }
  std::optional<std::uint64_t> count;
  if (!count_text.empty()) {
    auto parsed = parse_u64(count_text, "--count");
    if (!parsed.is_ok()) return usage_error(spec, parsed.status().message());
    if (*parsed == 0) return usage_error(spec, "--count must be at least 1");
    count = *parsed;
  }

  InterruptWatcher interrupts;  // before the channel: gRPC's threads inherit the signal mask
  Client client(options.connection);
  grpc::ClientContext context;
  interrupts.on_interrupt([&context] { context.TryCancel(); });
  auto stream = client.stub().SubscribeBlocks(&context, request);
  v1::BlockEvent event;
  std::uint64_t printed = 0;
  while ((!count || printed < *count) && stream->Read(&event)) {
    if (options.json) {
      print_json(block_summary_json(event.block()));
    } else {
      std::cout << block_summary_line(event.block()) << std::endl;
    }
    ++printed;
  }
  if (count && printed >= *count) context.TryCancel();  // we stop early; the node need not
  grpc::Status status = stream->Finish();
  if (status.ok() || interrupts.interrupted() || (count && printed >= *count)) return kExitOk;
  return client.report(status);
}

}  // namespace ledger::ctl
