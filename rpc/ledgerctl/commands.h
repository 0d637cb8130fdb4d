// The ledgerctl commands. Each takes the words after its name (e.g. for
// `ledgerctl send --from a --to b`, {"--from", "a", "--to", "b"}), parses its own options, and
// returns the process exit code (cli.h ExitCode). Results go to stdout, errors to stderr.
#pragma once

#include <string>
#include <vector>

namespace ledger::ctl {

using Args = std::vector<std::string>;

int run_keys(const Args& args);  // keys new | list | show
int run_send(const Args& args);
int run_account(const Args& args);
int run_tx(const Args& args);
int run_block(const Args& args);
int run_status(const Args& args);
int run_validators(const Args& args);
int run_watch(const Args& args);
int run_bench(const Args& args);
int run_admin(const Args& args);  // admin network [on|off]

}  // namespace ledger::ctl
