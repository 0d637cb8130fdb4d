// How ledgerctl prints results: aligned text for people, one JSON document per line for scripts
// (--json). The JSON shapes are documented in docs/ledgerctl.md; keep the two in step.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "ledger/v1/admin.pb.h"
#include "ledger/v1/ledger.pb.h"

namespace ledger::ctl {

using Json = nlohmann::ordered_json;

// "name: value" lines with the values aligned.
using Fields = std::vector<std::pair<std::string, std::string>>;
void print_fields(const Fields& fields);
// A table with a header row; every column padded to its widest cell. Numeric columns are not
// right-aligned: the output is for reading, --json is for parsing.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);
// One JSON document on one line, then a newline; flushed (watch and bench stream these).
void print_json(const Json& document);

// "SUCCESS", "BAD_NONCE", ... (the enum name without its TX_RESULT_ prefix).
std::string result_name(v1::TxResult result);
// "PENDING", "COMMITTED", "UNSPECIFIED".
std::string status_name(v1::TxStatus status);
// A memo for reading: the text if it is printable ASCII, else "hex:<hex>"; "" if empty.
std::string memo_text(const std::string& memo);
// The first 12 characters of a hex id, for one-line summaries.
std::string short_id(const std::string& hex);

Json to_json(const v1::GetAccountResponse& account);
Json to_json(const v1::GetTransactionResponse& tx);
Json to_json(const v1::Transaction& tx);
Json to_json(const v1::QuorumCert& qc);
Json to_json(const v1::Block& block);  // header fields, certificates, transactions with results
Json to_json(const v1::GetStatusResponse& status);
Json to_json(const v1::GetValidatorsResponse& validators);
Json to_json(const v1::GetNetworkResponse& network);
Json to_json(const v1::SetNetworkResponse& network);
// The one-line summary of a block that watch prints.
Json block_summary_json(const v1::Block& block);

void print_text(const v1::GetAccountResponse& account);
void print_text(const v1::GetTransactionResponse& tx);
void print_text(const v1::Block& block);
void print_text(const v1::GetStatusResponse& status);
void print_text(const v1::GetValidatorsResponse& validators);
void print_text(const v1::GetNetworkResponse& network);
void print_text(const v1::SetNetworkResponse& network);
// "height 12  id 3fa2c1d09e8b  txs 5  2024-05-01T12:00:00.123Z" with fixed-width columns.
std::string block_summary_line(const v1::Block& block);

}  // namespace ledger::ctl
