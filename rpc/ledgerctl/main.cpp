// ledgerctl: the command-line client of a ledgerd node (docs/ledgerctl.md).
//
//   ledgerctl <command> [options]      ledgerctl <command> --help
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
};

void print_usage(std::ostream& out) {
  out << "usage: ledgerctl <command> [options]\n\ncommands:\n";
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

int run(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cerr);
    return kExitUsage;
  }
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(std::cout);
    return kExitOk;
  }
  Args args(argv + 2, argv + argc);
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
