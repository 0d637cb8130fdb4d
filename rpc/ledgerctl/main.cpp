// ledgerctl: the command-line client of a ledgerd node (docs/ledgerctl.md).
//
//   ledgerctl [common options] <command> [options]      ledgerctl <command> --help
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli.h"
#include "commands.h"

namespace ledger::ctl {
namespace {

struct Command {
  std::string_view name;
  int (*run)(const Args&);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"keys", run_keys, "manage named keys: keys new NAME | keys list | keys show NAME"},
    {"send", run_send, "sign and submit a transfer, wait for its commit"},
    {"account", run_account, "show an account's balance and nonce"},
    {"tx", run_tx, "show a transaction by hash"},
    {"block", run_block, "show a block by height, id, or the latest"},
    {"status", run_status, "show the node's status"},
    {"validators", run_validators, "show the validator set"},
    {"watch", run_watch, "print committed blocks as they arrive"},
    {"bench", run_bench, "load-test a node with many signed transfers"},
    {"admin", run_admin, "testnet fault injection: admin network [on|off]"},
};

void print_usage(std::ostream& out) {
  out << "usage: ledgerctl [--node HOST:PORT] [--timeout S] [--json] <command> [options]\n\n"
      << "commands:\n";
  for (const Command& command : kCommands) {
    out << "  " << command.name << std::string(12 - command.name.size(), ' ') << command.summary
        << "\n";
  }
  out << "\nRun 'ledgerctl <command> --help' for a command's options.\n"
      << "Common options: --node HOST:PORT (default $LEDGERCTL_NODE or " << kDefaultNode
      << "), --timeout SECONDS, --json.\n"
      << "Exit codes: 0 ok, 1 usage error, 2 node error, 3 node unreachable, "
         "4 transaction failed, 5 local error.\n";
}

// Common options may also come before the command ("ledgerctl --node H:P status"); they are
// passed on to the command as if written after it.
bool takes_value(std::string_view option) {
  return option == "--node" || option == "--timeout" || option == "--keys-dir";
}
bool is_common_flag(std::string_view option) {
  return option == "--json";
}

int run(int argc, char** argv) {
  std::vector<std::string> leading;
  int next = 1;
  while (next < argc) {
    const std::string_view arg = argv[next];
    const std::string_view option = arg.substr(0, arg.find('='));
    if (takes_value(option) && option.size() == arg.size() && next + 1 < argc) {
      leading.emplace_back(arg);
      leading.emplace_back(argv[next + 1]);
      next += 2;
    } else if (takes_value(option) || is_common_flag(arg)) {
      leading.emplace_back(arg);
      next += 1;
    } else {
      break;
    }
  }
  if (next >= argc) {
    print_usage(std::cerr);
    return kExitUsage;
  }
  std::string_view name = argv[next];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(std::cout);
    return kExitOk;
  }
  Args args(argv + next + 1, argv + argc);
  args.insert(args.end(), leading.begin(), leading.end());
  for (const Command& command : kCommands) {
    if (command.name == name) return command.run(args);
  }
  std::cerr << "error: unknown command '" << name << "'\n\n";
  print_usage(std::cerr);
  return kExitUsage;
}

}  // namespace
}  // namespace ledger::ctl

int main(int argc, char** argv) {
  try {
    return ledger::ctl::run(argc, argv);
  } catch (const std::exception& e) {
    // Nothing is expected to throw past a command (errors are returned); this keeps an
    // unexpected one (bad_alloc, a library's) from ending in std::terminate.
    std::cerr << "error: " << e.what() << "\n";
    return ledger::ctl::kExitLocalError;
  }
}
