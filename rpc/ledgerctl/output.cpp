#include "output.h"

#include <algorithm>
#include <iostream>
#include <string_view>

#include "ledger/core/bytes.h"

namespace ledger::ctl {

namespace {

std::string without_prefix(const std::string& name, std::string_view prefix) {
  if (name.rfind(prefix, 0) == 0) return name.substr(prefix.size());
  return name;
}

std::string pad(const std::string& text, std::size_t width) {
  if (text.size() >= width) return text;
  return text + std::string(width - text.size(), ' ');
}

// The result of transaction `index` of `block`; "UNKNOWN" if the node sent fewer results.
std::string block_result_name(const v1::Block& block, int index) {
  if (index >= block.results_size()) return "UNKNOWN";
  return result_name(block.results(index));
}

std::string qc_summary(const v1::QuorumCert& qc) {
  if (qc.block_id().empty()) return "-";
  return "round " + std::to_string(qc.round()) + ", height " + std::to_string(qc.height()) + ", " +
         std::to_string(qc.signers_size()) + " signers, block " + qc.block_id();
}

}  // namespace

void print_fields(const Fields& fields) {
  std::size_t width = 0;
  for (const auto& [name, value] : fields)
    width = std::max(width, name.size() + 1);
  for (const auto& [name, value] : fields)
    std::cout << pad(name + ":", width) << "  " << value << "\n";
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size(), 0);
  for (std::size_t c = 0; c < header.size(); ++c)
    widths[c] = header[c].size();
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], row[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      // The last column is not padded: no trailing spaces.
      line += c + 1 == row.size() ? row[c] : pad(row[c], widths[c]) + "  ";
    }
    std::cout << line << "\n";
  };
  print_row(header);
  for (const auto& row : rows)
    print_row(row);
}

void print_json(const Json& document) {
  std::cout << document.dump() << std::endl;
}

std::string result_name(v1::TxResult result) {
  return without_prefix(v1::TxResult_Name(result), "TX_RESULT_");
}

std::string status_name(v1::TxStatus status) {
  return without_prefix(v1::TxStatus_Name(status), "TX_STATUS_");
}

std::string memo_text(const std::string& memo) {
  bool printable =
      std::all_of(memo.begin(), memo.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (printable) return memo;
  return "hex:" + to_hex(as_bytes(memo));
}

std::string short_id(const std::string& hex) {
  return hex.substr(0, 12);
}

Json to_json(const v1::GetAccountResponse& account) {
  return Json{{"address", account.address()},
              {"balance", account.balance()},
              {"nonce", account.nonce()},
              {"height", account.height()}};
}

Json to_json(const v1::Transaction& tx) {
  return Json{{"hash", tx.hash()},
              {"chain_id", tx.chain_id()},
              {"sender", tx.sender()},
              {"nonce", tx.nonce()},
              {"recipient", tx.recipient()},
              {"amount", tx.amount()},
              {"memo_hex", to_hex(as_bytes(tx.memo()))},
              {"signature", tx.signature()}};
}

Json to_json(const v1::GetTransactionResponse& tx) {
  Json out{{"hash", tx.transaction().hash()}, {"status", status_name(tx.status())}};
  if (tx.status() == v1::TX_STATUS_COMMITTED) {
    out["height"] = tx.height();
    out["index"] = tx.index();
    out["result"] = result_name(tx.result());
  }
  out["transaction"] = to_json(tx.transaction());
  return out;
}

Json to_json(const v1::QuorumCert& qc) {
  Json signers = Json::array();
  for (const auto& signer : qc.signers())
    signers.push_back(signer);
  return Json{{"round", qc.round()},
              {"block_id", qc.block_id()},
              {"height", qc.height()},
              {"signers", std::move(signers)}};
}

Json to_json(const v1::Block& block) {
  const v1::BlockHeader& h = block.header();
  Json txs = Json::array();
  for (int i = 0; i < block.transactions_size(); ++i) {
    const v1::Transaction& tx = block.transactions(i);
    txs.push_back(Json{{"index", i},
                       {"hash", tx.hash()},
                       {"sender", tx.sender()},
                       {"recipient", tx.recipient()},
                       {"amount", tx.amount()},
                       {"nonce", tx.nonce()},
                       {"memo_hex", to_hex(as_bytes(tx.memo()))},
                       {"result", block_result_name(block, i)}});
  }
  return Json{{"id", block.id()},
              {"height", h.height()},
              {"round", h.round()},
              {"chain_id", h.chain_id()},
              {"time", h.time()},
              {"timestamp_ms", h.timestamp_ms()},
              {"proposer", h.proposer()},
              {"parent_id", h.parent_id()},
              {"transactions_root", h.transactions_root()},
              {"state_root", h.state_root()},
              {"result_state_root", block.result_state_root()},
              {"parent_qc", to_json(h.parent_qc())},
              {"commit_cert", to_json(block.commit_cert())},
              {"tx_count", block.transactions_size()},
              {"transactions", std::move(txs)}};
}

Json to_json(const v1::GetStatusResponse& s) {
  return Json{{"chain_id", s.chain_id()},
              {"node_id", s.node_id()},
              {"validator", s.validator()},
              {"latest_height", s.latest_height()},
              {"latest_block_id", s.latest_block_id()},
              {"latest_block_time", s.latest_block_time()},
              {"latest_block_time_ms", s.latest_block_time_ms()},
              {"current_round", s.current_round()},
              {"mempool_size", s.mempool_size()},
              {"mempool_bytes", s.mempool_bytes()},
              {"peer_count", s.peer_count()},
              {"version", s.version()}};
}

Json to_json(const v1::GetValidatorsResponse& v) {
  Json validators = Json::array();
  for (const auto& validator : v.validators())
    validators.push_back(Json{{"address", validator.address()}, {"power", validator.power()}});
  return Json{{"validators", std::move(validators)},
              {"total_power", v.total_power()},
              {"quorum_power", v.quorum_power()},
              {"height", v.height()}};
}

Json to_json(const v1::GetNetworkResponse& network) {
  Json peers = Json::array();
  for (const auto& peer : network.connected_peers())
    peers.push_back(peer);
  return Json{{"enabled", network.enabled()}, {"connected_peers", std::move(peers)}};
}

Json to_json(const v1::SetNetworkResponse& network) {
  return Json{{"enabled", network.enabled()}};
}

Json block_summary_json(const v1::Block& block) {
  const v1::BlockHeader& h = block.header();
  return Json{{"height", h.height()},
              {"id", block.id()},
              {"tx_count", block.transactions_size()},
              {"time", h.time()},
              {"timestamp_ms", h.timestamp_ms()},
              {"round", h.round()},
              {"proposer", h.proposer()}};
}

void print_text(const v1::GetAccountResponse& account) {
  print_fields({{"address", account.address()},
                {"balance", std::to_string(account.balance())},
                {"nonce", std::to_string(account.nonce())},
                {"height", std::to_string(account.height())}});
}

void print_text(const v1::GetTransactionResponse& response) {
  const v1::Transaction& tx = response.transaction();
  Fields fields{{"hash", tx.hash()}, {"status", status_name(response.status())}};
  if (response.status() == v1::TX_STATUS_COMMITTED) {
    fields.push_back({"height", std::to_string(response.height())});
    fields.push_back({"index", std::to_string(response.index())});
    fields.push_back({"result", result_name(response.result())});
  }
  fields.push_back({"chain id", tx.chain_id()});
  fields.push_back({"sender", tx.sender()});
  fields.push_back({"nonce", std::to_string(tx.nonce())});
  fields.push_back({"recipient", tx.recipient()});
  fields.push_back({"amount", std::to_string(tx.amount())});
  fields.push_back({"memo", memo_text(tx.memo())});
  fields.push_back({"signature", tx.signature()});
  print_fields(fields);
}

void print_text(const v1::Block& block) {
  const v1::BlockHeader& h = block.header();
  print_fields({{"height", std::to_string(h.height())},
                {"id", block.id()},
                {"chain id", h.chain_id()},
                {"round", std::to_string(h.round())},
                {"time", h.time()},
                {"proposer", h.proposer()},
                {"parent id", h.parent_id()},
                {"transactions root", h.transactions_root()},
                {"state root", h.state_root()},
                {"result state root", block.result_state_root()},
                {"parent qc", qc_summary(h.parent_qc())},
                {"commit cert", qc_summary(block.commit_cert())},
                {"transactions", std::to_string(block.transactions_size())}});
  if (block.transactions_size() == 0) return;
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < block.transactions_size(); ++i) {
    const v1::Transaction& tx = block.transactions(i);
    rows.push_back({std::to_string(i), tx.hash(), short_id(tx.sender()), short_id(tx.recipient()),
                    std::to_string(tx.amount()), std::to_string(tx.nonce()),
                    block_result_name(block, i)});
  }
  std::cout << "\n";
  print_table({"INDEX", "HASH", "FROM", "TO", "AMOUNT", "NONCE", "RESULT"}, rows);
}

void print_text(const v1::GetStatusResponse& s) {
  print_fields({{"chain id", s.chain_id()},
                {"node id", s.node_id()},
                {"validator", s.validator() ? "yes" : "no"},
                {"latest height", std::to_string(s.latest_height())},
                {"latest block id", s.latest_block_id()},
                {"latest block time", s.latest_block_time()},
                {"current round", std::to_string(s.current_round())},
                {"mempool", std::to_string(s.mempool_size()) + " txs, " +
                                std::to_string(s.mempool_bytes()) + " bytes"},
                {"peers", std::to_string(s.peer_count())},
                {"version", s.version()}});
}

void print_text(const v1::GetValidatorsResponse& v) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& validator : v.validators())
    rows.push_back({validator.address(), std::to_string(validator.power())});
  print_table({"ADDRESS", "POWER"}, rows);
  std::cout << "\n";
  print_fields({{"validators", std::to_string(v.validators_size())},
                {"total power", std::to_string(v.total_power())},
                {"quorum power", std::to_string(v.quorum_power())},
                {"height", std::to_string(v.height())}});
}

void print_text(const v1::GetNetworkResponse& network) {
  print_fields({{"network", network.enabled() ? "on" : "off"},
                {"connected peers", std::to_string(network.connected_peers_size())}});
  for (const auto& peer : network.connected_peers())
    std::cout << "  " << peer << "\n";
}

void print_text(const v1::SetNetworkResponse& network) {
  print_fields({{"network", network.enabled() ? "on" : "off"}});
}

std::string block_summary_line(const v1::Block& block) {
  const v1::BlockHeader& h = block.header();
  std::string height = std::to_string(h.height());
  std::string txs = std::to_string(block.transactions_size());
  // Fixed widths keep a scrolling watch readable: heights to 10 digits, counts to 5.
  return "height " + std::string(height.size() < 10 ? 10 - height.size() : 0, ' ') + height +
         "  id " + short_id(block.id()) + "  txs " +
         std::string(txs.size() < 5 ? 5 - txs.size() : 0, ' ') + txs + "  " + h.time();
}

}  // namespace ledger::ctl
