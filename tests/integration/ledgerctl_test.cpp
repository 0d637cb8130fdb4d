// ledgerctl end to end against a real dev chain: keys, send, the queries in text and --json,
// watch bounded by --count, and the exit codes scripts rely on (docs/ledgerctl.md).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness.h"
#include "itest_util.h"

namespace ledger::itest {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

CommandResult ctl(std::vector<std::string> args) {
  args.insert(args.begin(), ledgerctl_path());
  return run_command(args, 30s);
}

// The value of a "name:  value" line of ledgerctl's text output; empty if absent.
std::string field(const std::string& output, const std::string& name) {
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + ":", 0) != 0) continue;
    const std::size_t value = line.find_first_not_of(' ', name.size() + 1);
    return value == std::string::npos ? std::string() : line.substr(value);
  }
  return {};
}

// The output parsed as one JSON document; a failure (and null) if it is not one.
Json parse_json(const CommandResult& result) {
  Json document = Json::parse(result.output, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(document.is_discarded()) << "not JSON: " << result.output;
  return document;
}

std::vector<std::string> lines_of(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

bool is_hex64(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// A loopback port that is bound but not listening: connections to it are refused, and no other
// process can take it while this object lives.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd_, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(Ledgerctl, Keys_NewListShowNeverPrintTheSecret) {
  testing::TempDir dir;
  const std::string keys_dir = (dir.path() / "keys").string();

  const auto created = ctl({"keys", "new", "alice", "--keys-dir", keys_dir});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string address = field(created.output, "address");
  EXPECT_TRUE(is_hex64(address)) << created.output;
  const fs::path key_file = fs::path(keys_dir) / "alice.json";
  ASSERT_TRUE(fs::exists(key_file));
  struct stat info {};
  ASSERT_EQ(::stat(key_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  std::ifstream in(key_file);
  const std::string secret = Json::parse(in).at("secret_key").get<std::string>();

  const auto again = ctl({"keys", "new", "alice", "--keys-dir", keys_dir});
  EXPECT_EQ(again.exit_code, 5) << "an existing key must never be replaced\n" << again.output;
  EXPECT_EQ(ctl({"keys", "new", ".hidden", "--keys-dir", keys_dir}).exit_code, 1);
  ASSERT_EQ(ctl({"keys", "new", "bob", "--keys-dir", keys_dir}).exit_code, 0);

  const auto listed = ctl({"keys", "list", "--keys-dir", keys_dir});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("alice"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find(address), std::string::npos) << listed.output;
  const auto listed_json = ctl({"keys", "list", "--keys-dir", keys_dir, "--json"});
  ASSERT_EQ(listed_json.exit_code, 0) << listed_json.output;
  const Json list = parse_json(listed_json);
  ASSERT_EQ(list.at("keys").size(), 2u) << listed_json.output;
  EXPECT_EQ(list["keys"][0]["name"], "alice");  // sorted by name
  EXPECT_EQ(list["keys"][0]["address"], address);
  EXPECT_EQ(list["keys"][1]["name"], "bob");

  const auto shown = ctl({"keys", "show", "alice", "--keys-dir", keys_dir});
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_EQ(field(shown.output, "address"), address);
  const auto shown_json = ctl({"keys", "show", "alice", "--keys-dir", keys_dir, "--json"});
  ASSERT_EQ(shown_json.exit_code, 0) << shown_json.output;
  EXPECT_EQ(parse_json(shown_json).at("address"), address);
  for (const auto* output :
       {&created.output, &listed.output, &listed_json.output, &shown.output, &shown_json.output}) {
    EXPECT_EQ(output->find(secret), std::string::npos) << "a secret key was printed";
  }
}

TEST(Ledgerctl, SendThenQueries_AgreeWithTheNode) {
  DevNode node;
  node.start();
  testing::TempDir dir;
  const std::string keys_dir = (dir.path() / "keys").string();
  const auto created = ctl({"keys", "new", "bob", "--keys-dir", keys_dir});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string bob = field(created.output, "address");
  // --node for every command here; --keys-dir only where a key name may appear.
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--node", node.address()});
    if (args[0] == "send" || args[0] == "account")
      args.insert(args.end(), {"--keys-dir", keys_dir});
    return ctl(args);
  };

  const auto sent = with({"send", "--from", node.dev_key_file().string(), "--to", "bob", "--amount",
                          "1234", "--memo", "hi"});
  ASSERT_EQ(sent.exit_code, 0) << sent.output;
  EXPECT_EQ(field(sent.output, "status"), "COMMITTED") << sent.output;
  EXPECT_EQ(field(sent.output, "result"), "SUCCESS") << sent.output;
  EXPECT_EQ(field(sent.output, "to"), bob);
  const std::string hash = field(sent.output, "tx hash");
  ASSERT_TRUE(is_hex64(hash)) << sent.output;
  const std::string height = field(sent.output, "height");
  ledger::v1::GetTransactionResponse stored;
  ASSERT_TRUE(get_transaction(node.stub(), hash, &stored).ok());
  EXPECT_EQ(stored.status(), ledger::v1::TX_STATUS_COMMITTED);
  EXPECT_EQ(std::to_string(stored.height()), height);

  const auto sent_json = with(
      {"send", "--from", node.dev_key_file().string(), "--to", bob, "--amount", "66", "--json"});
  ASSERT_EQ(sent_json.exit_code, 0) << sent_json.output;
  const Json second = parse_json(sent_json);
  EXPECT_EQ(second.at("status"), "COMMITTED");
  EXPECT_EQ(second.at("result"), "SUCCESS");
  EXPECT_EQ(second.at("amount"), 66u);
  EXPECT_EQ(second.at("nonce"), 1u);  // read from the node
  EXPECT_EQ(node.account(node.dev().public_key()).nonce(), 2u);

  const auto account = with({"account", "bob"});
  ASSERT_EQ(account.exit_code, 0) << account.output;
  EXPECT_EQ(field(account.output, "balance"), "1300") << account.output;
  EXPECT_EQ(field(account.output, "address"), bob);
  const auto account_json = with({"account", bob, "--json"});
  ASSERT_EQ(account_json.exit_code, 0) << account_json.output;
  EXPECT_EQ(parse_json(account_json).at("balance"), 1300u);
  EXPECT_EQ(parse_json(account_json).at("nonce"), 0u);

  const auto tx = with({"tx", hash});
  ASSERT_EQ(tx.exit_code, 0) << tx.output;
  EXPECT_EQ(field(tx.output, "status"), "COMMITTED");
  EXPECT_EQ(field(tx.output, "height"), height);
  EXPECT_EQ(field(tx.output, "amount"), "1234");
  EXPECT_EQ(field(tx.output, "memo"), "hi");
  const auto tx_json = with({"tx", hash, "--json"});
  ASSERT_EQ(tx_json.exit_code, 0) << tx_json.output;
  const Json tx_doc = parse_json(tx_json);
  EXPECT_EQ(tx_doc.at("height"), stored.height());
  EXPECT_EQ(tx_doc.at("index"), stored.index());
  EXPECT_EQ(tx_doc.at("result"), "SUCCESS");

  ledger::v1::Block block;
  ASSERT_TRUE(get_block(node.stub(), stored.height(), &block).ok());
  const auto block_text = with({"block", height});
  ASSERT_EQ(block_text.exit_code, 0) << block_text.output;
  EXPECT_EQ(field(block_text.output, "id"), block.id());
  EXPECT_NE(block_text.output.find(hash), std::string::npos) << block_text.output;
  const auto block_json = with({"block", height, "--json"});
  ASSERT_EQ(block_json.exit_code, 0) << block_json.output;
  const Json block_doc = parse_json(block_json);
  EXPECT_EQ(block_doc.at("id"), block.id());
  ASSERT_EQ(block_doc.at("transactions").size(), 1u);
  EXPECT_EQ(block_doc["transactions"][0]["hash"], hash);
  EXPECT_EQ(block_doc["transactions"][0]["result"], "SUCCESS");

  const auto by_id = with({"block", "--id", block.id(), "--json"});
  ASSERT_EQ(by_id.exit_code, 0) << by_id.output;
  EXPECT_EQ(parse_json(by_id).at("height"), stored.height());

  const std::uint64_t latest_before = node.height();
  const auto latest = with({"block"});
  ASSERT_EQ(latest.exit_code, 0) << latest.output;
  EXPECT_GE(std::stoull(field(latest.output, "height")), latest_before);
  const auto latest_json = with({"block", "latest", "--json"});
  ASSERT_EQ(latest_json.exit_code, 0) << latest_json.output;
  EXPECT_GE(parse_json(latest_json).at("height").get<std::uint64_t>(), latest_before);

  const auto status = with({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_EQ(field(status.output, "chain id"), "ledger-dev");
  EXPECT_EQ(field(status.output, "validator"), "yes");
  const auto status_json = with({"status", "--json"});
  ASSERT_EQ(status_json.exit_code, 0) << status_json.output;
  const Json status_doc = parse_json(status_json);
  EXPECT_EQ(status_doc.at("chain_id"), "ledger-dev");
  EXPECT_GE(status_doc.at("latest_height").get<std::uint64_t>(), latest_before);

  const auto validators = with({"validators"});
  ASSERT_EQ(validators.exit_code, 0) << validators.output;
  EXPECT_NE(validators.output.find(status_doc.at("node_id").get<std::string>()), std::string::npos)
      << validators.output;
  const auto validators_json = with({"validators", "--json"});
  ASSERT_EQ(validators_json.exit_code, 0) << validators_json.output;
  const Json set = parse_json(validators_json);
  ASSERT_EQ(set.at("validators").size(), 1u);
  EXPECT_EQ(set["validators"][0]["address"], status_doc.at("node_id"));
  EXPECT_EQ(set.at("total_power"), set["validators"][0]["power"]);
  EXPECT_EQ(set.at("quorum_power"), set.at("total_power"));  // floor(2*1/3)+1 = 1 per unit
  EXPECT_EQ(node.stop(), 0);
}

TEST(Ledgerctl, Watch_StopsAfterCount) {
  DevNode node;
  node.start();
  ASSERT_TRUE(node.wait_for_height(1));
  const auto replay =
      ctl({"watch", "--node", node.address(), "--from", "0", "--count", "2", "--json"});
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  const auto lines = lines_of(replay.output);
  ASSERT_EQ(lines.size(), 2u) << replay.output;
  for (std::uint64_t height = 0; height < lines.size(); ++height) {
    const Json summary = Json::parse(lines[height]);
    EXPECT_EQ(summary.at("height"), height);
    ledger::v1::Block block;
    ASSERT_TRUE(get_block(node.stub(), height, &block).ok());
    EXPECT_EQ(summary.at("id"), block.id());
  }

  // Live blocks: the empty-block interval (500 ms) bounds how long this waits.
  const std::uint64_t before = node.height();
  const auto live = ctl({"watch", "--node", node.address(), "--count", "2"});
  ASSERT_EQ(live.exit_code, 0) << live.output;
  const auto live_lines = lines_of(live.output);
  ASSERT_EQ(live_lines.size(), 2u) << live.output;
  std::istringstream first(live_lines[0]);
  std::string word;
  std::uint64_t height = 0;
  first >> word >> height;
  EXPECT_EQ(word, "height");
  EXPECT_GT(height, before);
  EXPECT_EQ(node.stop(), 0);
}

TEST(Ledgerctl, ExitCodes_UsageNodeErrorUnreachableLocal) {
  DevNode node;
  node.start();
  testing::TempDir dir;
  const std::string keys_dir = (dir.path() / "keys").string();
  ASSERT_EQ(ctl({"keys", "new", "poor", "--keys-dir", keys_dir}).exit_code, 0);
  const std::string to = random_signer().public_key().hex();
  const std::string dev = node.dev_key_file().string();
  const auto balance = node.account(node.dev().public_key()).balance();

  // 1: usage
  EXPECT_EQ(ctl({"frobnicate"}).exit_code, 1);
  EXPECT_EQ(ctl({"send", "--node", node.address(), "--from", dev}).exit_code, 1);
  EXPECT_EQ(ctl({"send", "--node", node.address(), "--from", dev, "--to", to, "--amount", "-1"})
                .exit_code,
            1);
  EXPECT_EQ(ctl({"block", "tall", "--node", node.address()}).exit_code, 1);
  EXPECT_EQ(ctl({"tx", "xyz", "--node", node.address()}).exit_code, 1);
  EXPECT_EQ(ctl({"watch", "--count", "0", "--node", node.address()}).exit_code, 1);
  EXPECT_EQ(ctl({"status", "--timeout", "0", "--node", node.address()}).exit_code, 1);

  // 2: the node answered with an error
  const auto too_much = ctl({"send", "--node", node.address(), "--from", dev, "--to", to,
                             "--amount", std::to_string(balance + 1)});
  EXPECT_EQ(too_much.exit_code, 2) << too_much.output;
  EXPECT_NE(too_much.output.find("FAILED_PRECONDITION"), std::string::npos) << too_much.output;
  const auto empty = ctl({"send", "--node", node.address(), "--from", "poor", "--keys-dir",
                          keys_dir, "--to", to, "--amount", "1"});
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  const auto unknown_tx = ctl({"tx", std::string(64, '0'), "--node", node.address()});
  EXPECT_EQ(unknown_tx.exit_code, 2) << unknown_tx.output;
  EXPECT_NE(unknown_tx.output.find("NOT_FOUND"), std::string::npos) << unknown_tx.output;
  EXPECT_EQ(ctl({"block", "999999", "--node", node.address()}).exit_code, 2);

  // 3: nothing listens at the address
  const RefusingPort refusing;
  const auto unreachable = ctl({"status", "--node", refusing.address(), "--timeout", "3"});
  EXPECT_EQ(unreachable.exit_code, 3) << unreachable.output;
  EXPECT_NE(unreachable.output.find(refusing.address()), std::string::npos) << unreachable.output;
  EXPECT_EQ(ctl({"send", "--node", refusing.address(), "--timeout", "3", "--from", dev, "--to", to,
                 "--amount", "1"})
                .exit_code,
            3);
  EXPECT_EQ(ctl({"watch", "--node", refusing.address(), "--count", "1"}).exit_code, 3);

  // 5: a local error (the key file)
  const auto no_key = ctl({"send", "--node", node.address(), "--from",
                           (dir.path() / "missing.json").string(), "--to", to, "--amount", "1"});
  EXPECT_EQ(no_key.exit_code, 5) << no_key.output;

  // Nothing above moved funds.
  EXPECT_EQ(node.account(node.dev().public_key()).balance(), balance);
  EXPECT_EQ(node.stop(), 0);
}

}  // namespace
}  // namespace ledger::itest
