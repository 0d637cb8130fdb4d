// keys new NAME | keys list | keys show NAME: named key files in the keys directory. No command
// here talks to a node, and none ever prints a secret key.
#include <iostream>

#include "cli.h"
#include "commands.h"
#include "key_store.h"
#include "output.h"

namespace ledger::ctl {
namespace {

struct KeysOptions {
  std::string keys_dir;
  bool json = false;
  std::string name;
};

void describe(po::options_description& desc, KeysOptions& options) {
  add_keys_dir_option(desc, options.keys_dir);
  add_json_option(desc, options.json);
}

Json key_json(const std::string& name, const std::string& address, const std::string& path) {
  return Json{{"name", name}, {"address", address}, {"file", path}};
}

void print_key(const KeysOptions& options, const std::string& name, const std::string& address,
               const std::string& path) {
  if (options.json) {
    print_json(key_json(name, address, path));
  } else {
    print_fields({{"name", name}, {"address", address}, {"file", path}});
  }
}

int run_new(const Args& args) {
  const CommandSpec spec{"keys new", "keys new NAME [--keys-dir DIR] [--json]",
                         "Creates a fresh secret key in <keys-dir>/NAME.json (mode 0600; the "
                         "directory is created mode 0700) and prints its address. Never "
                         "replaces an existing key."};
  KeysOptions options;
  po::options_description desc("options");
  describe(desc, options);
  desc.add_options()("name", po::value(&options.name)->required(), "key name");
  po::positional_options_description positional;
  positional.add("name", 1);
  po::variables_map vm;
  if (auto code = parse_command_line(args, spec, desc, positional, vm)) return *code;
  if (Status status = validate_key_name(options.name); !status.is_ok()) {
    return usage_error(spec, status.message());
  }

  auto key = create_key(options.name, options.keys_dir);
  if (!key.is_ok()) return local_error(key.status());
  auto address = address_of(key->secret);
  if (!address.is_ok()) return local_error(address.status());
  print_key(options, options.name, address->hex(), key->path.string());
  return kExitOk;
}

int run_list(const Args& args) {
  const CommandSpec spec{"keys list", "keys list [--keys-dir DIR] [--json]",
                         "Lists the keys in the keys directory with their addresses. A file that "
                         "cannot be read is listed with the reason."};
  KeysOptions options;
  po::options_description desc("options");
  describe(desc, options);
  po::variables_map vm;
  if (auto code = parse_command_line(args, spec, desc, {}, vm)) return *code;

  auto keys = list_keys(options.keys_dir);
  if (!keys.is_ok()) return local_error(keys.status());
  if (options.json) {
    Json list = Json::array();
    for (const KeyEntry& key : *keys) {
      Json entry = key_json(key.name, key.address, key.path.string());
      if (!key.error.empty()) entry["error"] = key.error;
      list.push_back(std::move(entry));
    }
    print_json(Json{{"keys_dir", options.keys_dir}, {"keys", std::move(list)}});
    return kExitOk;
  }
  if (keys->empty()) {
    std::cout << "no keys in " << options.keys_dir
              << " (create one with: ledgerctl keys new NAME)\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const KeyEntry& key : *keys)
    rows.push_back({key.name, key.error.empty() ? key.address : "unreadable: " + key.error});
  print_table({"NAME", "ADDRESS"}, rows);
  return kExitOk;
}

int run_show(const Args& args) {
  const CommandSpec spec{"keys show", "keys show NAME|PATH [--keys-dir DIR] [--json]",
                         "Prints the address of a named key (or of a key file given by path). "
                         "The secret key is never printed."};
  KeysOptions options;
  po::options_description desc("options");
  describe(desc, options);
  desc.add_options()("name", po::value(&options.name)->required(), "key name or key file path");
  po::positional_options_description positional;
  positional.add("name", 1);
  po::variables_map vm;
  if (auto code = parse_command_line(args, spec, desc, positional, vm)) return *code;

  auto key = load_key(options.name, options.keys_dir);
  if (!key.is_ok()) return local_error(key.status());
  auto address = address_of(key->secret);
  if (!address.is_ok()) return local_error(address.status());
  print_key(options, options.name, address->hex(), key->path.string());
  return kExitOk;
}

void print_keys_usage(std::ostream& out) {
  out << "usage: ledgerctl keys <new|list|show> [options]\n\n"
      << "  keys new NAME     create a key in the keys directory and print its address\n"
      << "  keys list         list the keys and their addresses\n"
      << "  keys show NAME    print a key's address (never the secret)\n\n"
      << "The keys directory is --keys-dir, else $LEDGERCTL_HOME/keys, else ~/.ledgerctl/keys.\n"
      << "Run 'ledgerctl keys <subcommand> --help' for its options.\n";
}

}  // namespace

int run_keys(const Args& args) {
  if (args.empty()) {
    print_keys_usage(std::cerr);
    return kExitUsage;
  }
  const std::string& sub = args.front();
  Args rest(args.begin() + 1, args.end());
  if (sub == "new") return run_new(rest);
  if (sub == "list") return run_list(rest);
  if (sub == "show") return run_show(rest);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    print_keys_usage(std::cout);
    return kExitOk;
  }
  std::cerr << "error: unknown keys subcommand '" << sub << "'\n\n";
  print_keys_usage(std::cerr);
  return kExitUsage;
}

}  // namespace ledger::ctl
