// The genesis document: JSON parsing and validation, its canonical hash, the genesis block and
// state, and the RFC 3339 time conversions its genesis_time uses.
//
// Parsing never throws: nlohmann::json is parsed with allow_exceptions=false and values are read
// through get_ptr<>, which returns nullptr on a type mismatch instead of throwing. A catch at
// parse_genesis's boundary turns anything unexpected (e.g. std::bad_alloc) into a Status.
#include "ledger/core/genesis.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "ledger/core/chain_id.h"
#include "ledger/core/encoding.h"

namespace ledger {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kGenesisTag = "ledgerd/genesis";
constexpr std::uint8_t kGenesisVersion = 1;
constexpr std::size_t kValidatorNameBytesMax = 64;
constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

Status field_error(const std::string& path, const std::string& message) {
  return Status::invalid_argument("genesis: " + path + ": " + message);
}

std::string child(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

std::string element(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// Requires `object` to be a JSON object holding exactly the `fields` (unknown fields are
// rejected so that a misspelt field is never silently ignored).
Status check_fields(const Json& object, const std::string& path,
                    std::initializer_list<std::string_view> fields) {
  if (!object.is_object()) {
    if (path.empty()) return Status::invalid_argument("genesis: must be a JSON object");
    return field_error(path, "must be an object");
  }
  for (const auto& item : object.items()) {
    if (std::find(fields.begin(), fields.end(), item.key()) == fields.end()) {
      return field_error(child(path, item.key()), "unknown field");
    }
  }
  for (std::string_view name : fields) {
    if (!object.contains(std::string(name))) return field_error(child(path, name), "missing");
  }
  return Status::ok();
}

// The member `name` of an object that check_fields accepted.
const Json& member(const Json& object, std::string_view name) {
  auto it = object.find(std::string(name));
  LEDGER_ASSERT(it != object.end());
  return *it;
}

StatusOr<std::string> read_string(const Json& value, const std::string& path) {
  const auto* text = value.get_ptr<const Json::string_t*>();
  if (text == nullptr) return field_error(path, "must be a string");
  return *text;
}

StatusOr<std::uint64_t> read_uint(const Json& value, const std::string& path, std::uint64_t min,
                                  std::uint64_t max) {
  const auto* number = value.get_ptr<const Json::number_unsigned_t*>();
  if (number == nullptr || *number < min || *number > max) {
    return field_error(
        path, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return static_cast<std::uint64_t>(*number);
}

// A uint64 written in decimal: digits only, no sign, no leading zeros, no overflow.
StatusOr<std::uint64_t> parse_decimal_u64(std::string_view text) {
  if (text.empty()) return Status::invalid_argument("must not be empty");
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Status::invalid_argument("must be a decimal string of digits (no sign or spaces)");
    }
    auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kU64Max - digit) / 10) {
      return Status::invalid_argument("exceeds " + std::to_string(kU64Max));
    }
    value = value * 10 + digit;
  }
  if (text.size() > 1 && text[0] == '0') {
    return Status::invalid_argument("must not have leading zeros");
  }
  return value;
}

// A balance: a decimal string (the documented form, safe in every JSON reader) or a JSON
// unsigned integer. Zero is rejected: a zero allocation would not exist in the state.
StatusOr<std::uint64_t> read_balance(const Json& value, const std::string& path) {
  std::uint64_t balance = 0;
  if (const auto* number = value.get_ptr<const Json::number_unsigned_t*>()) {
    balance = *number;
  } else if (const auto* text = value.get_ptr<const Json::string_t*>()) {
    auto parsed = parse_decimal_u64(*text);
    if (!parsed.is_ok()) return field_error(path, parsed.status().message());
    balance = *parsed;
  } else {
    return field_error(path, "must be a decimal string such as \"1000\"");
  }
  if (balance == 0) return field_error(path, "must be positive");
  return balance;
}

StatusOr<Address> read_key(const Json& value, const std::string& path) {
  LEDGER_ASSIGN_OR_RETURN(std::string hex, read_string(value, path));
  auto key = PublicKey::from_hex(hex);
  if (!key.is_ok()) return field_error(path, key.status().message());
  return *key;
}

Status validate_name(std::string_view name, const std::string& path) {
  if (name.empty() || name.size() > kValidatorNameBytesMax) {
    return field_error(path, "must be 1.." + std::to_string(kValidatorNameBytesMax) + " bytes");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return field_error(path, "must contain only [A-Za-z0-9._-]");
  }
  return Status::ok();
}

StatusOr<Validator> parse_validator(const Json& value, const std::string& path) {
  LEDGER_RETURN_IF_ERROR(check_fields(value, path, {"public_key", "power", "name"}));
  Validator v;
  LEDGER_ASSIGN_OR_RETURN(v.key, read_key(member(value, "public_key"), child(path, "public_key")));
  const auto* power = member(value, "power").get_ptr<const Json::number_unsigned_t*>();
  if (power == nullptr || *power == 0) {
    return field_error(child(path, "power"), "must be a positive integer");
  }
  v.power = *power;  // ValidatorSet::create bounds the total
  LEDGER_ASSIGN_OR_RETURN(v.name, read_string(member(value, "name"), child(path, "name")));
  LEDGER_RETURN_IF_ERROR(validate_name(v.name, child(path, "name")));
  return v;
}

StatusOr<ValidatorSet> parse_validators(const Json& value) {
  if (!value.is_array()) return field_error("validators", "must be an array");
  if (value.empty() || value.size() > kValidatorsMax) {
    return field_error("validators", "must hold 1.." + std::to_string(kValidatorsMax) + " entries");
  }
  std::vector<Validator> validators;
  for (std::size_t i = 0; i < value.size(); ++i) {
    LEDGER_ASSIGN_OR_RETURN(Validator v, parse_validator(value[i], element("validators", i)));
    validators.push_back(std::move(v));
  }
  // Duplicates and the total power; its messages already name "validators[i].field".
  auto set = ValidatorSet::create(std::move(validators));
  if (!set.is_ok()) return Status::invalid_argument("genesis: " + set.status().message());
  return std::move(set).value();
}

StatusOr<GenesisAccount> parse_account(const Json& value, const std::string& path) {
  LEDGER_RETURN_IF_ERROR(check_fields(value, path, {"address", "balance"}));
  GenesisAccount account;
  LEDGER_ASSIGN_OR_RETURN(account.address,
                          read_key(member(value, "address"), child(path, "address")));
  LEDGER_ASSIGN_OR_RETURN(account.balance,
                          read_balance(member(value, "balance"), child(path, "balance")));
  return account;
}

// Sorts `accounts` by address; fails naming the first entry (in document order) whose address
// an earlier entry already has.
Status sort_distinct(std::vector<GenesisAccount>& accounts) {
  std::vector<std::size_t> order(accounts.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return accounts[a].address < accounts[b].address;
  });
  std::size_t duplicate = accounts.size();
  for (std::size_t k = 1; k < order.size(); ++k) {
    if (accounts[order[k]].address == accounts[order[k - 1]].address) {
      duplicate = std::min(duplicate, order[k]);
    }
  }
  if (duplicate != accounts.size()) {
    return field_error(element("accounts", duplicate) + ".address",
                       "duplicate address " + accounts[duplicate].address.hex());
  }
  std::vector<GenesisAccount> sorted;
  sorted.reserve(accounts.size());
  for (std::size_t i : order)
    sorted.push_back(accounts[i]);
  accounts = std::move(sorted);
  return Status::ok();
}

StatusOr<std::vector<GenesisAccount>> parse_accounts(const Json& value) {
  if (!value.is_array()) return field_error("accounts", "must be an array");
  if (value.size() > kGenesisAccountsMax) {
    return field_error("accounts", "has " + std::to_string(value.size()) +
                                       " entries, the limit is " +
                                       std::to_string(kGenesisAccountsMax));
  }
  std::vector<GenesisAccount> accounts;
  accounts.reserve(value.size());
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    LEDGER_ASSIGN_OR_RETURN(GenesisAccount a, parse_account(value[i], element("accounts", i)));
    if (a.balance > kU64Max - total) {
      return field_error(element("accounts", i) + ".balance",
                         "the total of all balances exceeds " + std::to_string(kU64Max));
    }
    total += a.balance;
    accounts.push_back(a);
  }
  LEDGER_RETURN_IF_ERROR(sort_distinct(accounts));
  return accounts;
}

// The encoded size of a transfer with an empty memo on `chain_id`: no transfer is smaller.
std::uint64_t transfer_bytes_min(const std::string& chain_id) {
  SignedTransfer tx;
  tx.transfer.chain_id = chain_id;
  return encode_transaction(tx).size();
}

// The encoded size of a block whose header carries a QC signed by all `validators` and
// which holds one transaction of `transaction_bytes`.
std::uint64_t full_block_bytes(const std::string& chain_id, std::size_t validators,
                               std::uint64_t transaction_bytes) {
  BlockHeader header;
  header.chain_id = chain_id;
  header.parent_qc.signatures.resize(validators);
  // u32 header length, header, u32 transaction count, u32 transaction length, transaction.
  return 4 + encode_header(header).size() + 4 + 4 + transaction_bytes;
}

StatusOr<ConsensusParams> parse_consensus(const Json& value, const std::string& chain_id,
                                          std::size_t validators) {
  LEDGER_RETURN_IF_ERROR(check_fields(
      value, "consensus",
      {"block_transactions_max", "block_bytes_max", "transaction_bytes_max", "round_timeout_ms",
       "round_timeout_multiplier_percent", "round_timeout_backoff_max"}));
  auto read = [&](std::string_view name, std::uint64_t min, std::uint64_t max) {
    return read_uint(member(value, name), child("consensus", name), min, max);
  };
  ConsensusParams p;
  LEDGER_ASSIGN_OR_RETURN(p.block_transactions_max, read("block_transactions_max", 1, 100'000));
  LEDGER_ASSIGN_OR_RETURN(
      p.transaction_bytes_max,
      read("transaction_bytes_max", transfer_bytes_min(chain_id), kTransferBytesMax));
  std::uint64_t block_min = std::max<std::uint64_t>(
      1024, full_block_bytes(chain_id, validators, p.transaction_bytes_max));
  LEDGER_ASSIGN_OR_RETURN(p.block_bytes_max, read("block_bytes_max", block_min, 64ull << 20));
  LEDGER_ASSIGN_OR_RETURN(p.round_timeout_ms, read("round_timeout_ms", 10, 600'000));
  LEDGER_ASSIGN_OR_RETURN(p.round_timeout_multiplier_percent,
                          read("round_timeout_multiplier_percent", 100, 1000));
  LEDGER_ASSIGN_OR_RETURN(p.round_timeout_backoff_max, read("round_timeout_backoff_max", 0, 32));
  return p;
}

StatusOr<Genesis> parse_document(const Json& doc) {
  LEDGER_RETURN_IF_ERROR(
      check_fields(doc, "", {"chain_id", "genesis_time", "validators", "accounts", "consensus"}));
  Genesis g;
  LEDGER_ASSIGN_OR_RETURN(g.chain_id, read_string(member(doc, "chain_id"), "chain_id"));
  Status chain_ok = validate_chain_id(g.chain_id);
  if (!chain_ok.is_ok()) return field_error("chain_id", chain_ok.message());
  LEDGER_ASSIGN_OR_RETURN(std::string time,
                          read_string(member(doc, "genesis_time"), "genesis_time"));
  auto time_ms = parse_rfc3339_utc_ms(time);
  if (!time_ms.is_ok()) return field_error("genesis_time", time_ms.status().message());
  g.genesis_time_ms = *time_ms;
  LEDGER_ASSIGN_OR_RETURN(g.validators, parse_validators(member(doc, "validators")));
  LEDGER_ASSIGN_OR_RETURN(g.accounts, parse_accounts(member(doc, "accounts")));
  LEDGER_ASSIGN_OR_RETURN(
      g.consensus, parse_consensus(member(doc, "consensus"), g.chain_id, g.validators.size()));
  return g;
}

// A first pass over the text (SAX, builds nothing): checks the syntax, keeping nlohmann's line
// and column for the error, and rejects a key repeated within one object, which the DOM parser
// would silently resolve to the last value (hiding the same mistakes as an unknown field).
class JsonCheck final : public nlohmann::json_sax<Json> {
 public:
  std::string error;  // empty if the text is valid JSON with distinct keys per object

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    open_objects_.emplace_back();
    return true;
  }
  bool key(string_t& key) override {
    if (open_objects_.back().insert(key).second) return true;
    error = "key \"" + key + "\" appears twice in one object";
    return false;
  }
  bool end_object() override {
    open_objects_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at line ..."
    auto tag_end = what.find("] ");
    error = "malformed JSON: " + (tag_end == std::string::npos ? what : what.substr(tag_end + 2));
    return false;
  }

 private:
  std::vector<std::set<std::string>> open_objects_;  // keys seen in each enclosing object
};

StatusOr<Json> parse_json(std::string_view text) {
  JsonCheck check;
  bool ok = Json::sax_parse(text.begin(), text.end(), &check);
  if (!ok || !check.error.empty()) {
    return Status::invalid_argument("genesis: " +
                                    (check.error.empty() ? "malformed JSON" : check.error));
  }
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::invalid_argument("genesis: malformed JSON");
  return doc;
}

// Accounts by address (they already are after parsing; a Genesis built in code may not be),
// so that the hash depends on the allocation, not on the order it was written in.
std::vector<const GenesisAccount*> accounts_by_address(
    const std::vector<GenesisAccount>& accounts) {
  std::vector<const GenesisAccount*> out;
  out.reserve(accounts.size());
  for (const auto& a : accounts)
    out.push_back(&a);
  std::sort(out.begin(), out.end(), [](const GenesisAccount* a, const GenesisAccount* b) {
    return a->address < b->address;
  });
  return out;
}

// Civil-date arithmetic on the proleptic Gregorian calendar (Howard Hinnant's algorithms):
// days since 1970-01-01 to and from year/month/day, with no locale or timezone database.
constexpr std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

struct CivilDate {
  std::int64_t year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
};

constexpr CivilDate civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2);
  return {year, month, day_of_year - (153 * mp + 2) / 5 + 1};
}
static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(civil_from_days(11017).year == 2000 && civil_from_days(11017).month == 3);

constexpr unsigned days_in_month(std::int64_t year, unsigned month) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

constexpr std::uint64_t kMsPerDay = 86'400'000;

// The `count` decimal digits at `pos`, or -1 if any is not a digit.
std::int64_t digits_at(std::string_view text, std::size_t pos, std::size_t count) {
  std::int64_t value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// The milliseconds of an optional fraction ".d{1,9}" between the seconds and the final 'Z';
// -1 if malformed. Digits past the third are truncated.
std::int64_t fraction_ms(std::string_view fraction) {
  if (fraction.empty()) return 0;
  if (fraction.size() < 2 || fraction.size() > 10 || fraction[0] != '.') return -1;
  std::int64_t digits = digits_at(fraction, 1, fraction.size() - 1);
  if (digits < 0) return -1;
  for (std::size_t n = fraction.size() - 1; n > 3; --n)
    digits /= 10;
  for (std::size_t n = fraction.size() - 1; n < 3; ++n)
    digits *= 10;
  return digits;
}

}  // namespace

StatusOr<std::uint64_t> parse_rfc3339_utc_ms(std::string_view text) {
  const std::string shown =
      "\"" + std::string(text.substr(0, 40)) + (text.size() > 40 ? "...\"" : "\"");
  const Status bad_form = Status::invalid_argument(
      shown + " is not an RFC 3339 UTC time of the form YYYY-MM-DDTHH:MM:SS[.sss]Z");
  if (text.size() < 20 || text.back() != 'Z' || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return bad_form;
  }
  std::int64_t year = digits_at(text, 0, 4), month = digits_at(text, 5, 2);
  std::int64_t day = digits_at(text, 8, 2), hour = digits_at(text, 11, 2);
  std::int64_t minute = digits_at(text, 14, 2), second = digits_at(text, 17, 2);
  std::int64_t ms = fraction_ms(text.substr(19, text.size() - 20));
  if (std::min({year, month, day, hour, minute, second, ms}) < 0) return bad_form;
  if (year < 1970) return Status::invalid_argument(shown + ": the year must be 1970..9999");
  if (month < 1 || month > 12) return Status::invalid_argument(shown + ": no such month");
  if (day < 1 || day > days_in_month(year, static_cast<unsigned>(month))) {
    return Status::invalid_argument(shown + ": no such day in that month");
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return Status::invalid_argument(shown + ": time of day out of range (no leap seconds)");
  }
  std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return static_cast<std::uint64_t>(days) * kMsPerDay +
         static_cast<std::uint64_t>(((hour * 60 + minute) * 60 + second) * 1000 + ms);
}

std::string format_rfc3339_utc_ms(std::uint64_t ms) {
  const CivilDate date = civil_from_days(static_cast<std::int64_t>(ms / kMsPerDay));
  const std::uint64_t in_day = ms % kMsPerDay;
  char text[64];
  // Past 9999 the year simply grows more digits: not parseable back, but never truncated.
  int n = std::snprintf(
      text, sizeof(text), "%04lld-%02u-%02uT%02u:%02u:%02u", static_cast<long long>(date.year),
      date.month, date.day, static_cast<unsigned>(in_day / 3'600'000),
      static_cast<unsigned>(in_day / 60'000 % 60), static_cast<unsigned>(in_day / 1000 % 60));
  LEDGER_ASSERT(n > 0 && static_cast<std::size_t>(n) < sizeof(text));
  std::string out(text, static_cast<std::size_t>(n));
  if (ms % 1000 != 0) {
    std::snprintf(text, sizeof(text), ".%03u", static_cast<unsigned>(ms % 1000));
    out += text;
  }
  return out + "Z";
}

StatusOr<Genesis> parse_genesis(std::string_view json) {
  try {
    LEDGER_ASSIGN_OR_RETURN(Json doc, parse_json(json));
    return parse_document(doc);
  } catch (const std::exception& e) {
    // Last resort: nothing above is expected to throw except on allocation failure.
    return Status::internal(std::string("genesis: unexpected error while parsing: ") + e.what());
  }
}

std::string genesis_to_json(const Genesis& g) {
  nlohmann::ordered_json doc;
  doc["chain_id"] = g.chain_id;
  doc["genesis_time"] = format_rfc3339_utc_ms(g.genesis_time_ms);
  doc["validators"] = nlohmann::ordered_json::array();
  for (const Validator& v : g.validators.validators()) {
    doc["validators"].push_back(
        {{"public_key", v.key.hex()}, {"power", v.power}, {"name", v.name}});
  }
  doc["accounts"] = nlohmann::ordered_json::array();
  for (const GenesisAccount& a : g.accounts) {
    doc["accounts"].push_back(
        {{"address", a.address.hex()}, {"balance", std::to_string(a.balance)}});
  }
  const ConsensusParams& p = g.consensus;
  doc["consensus"] = {{"block_transactions_max", p.block_transactions_max},
                      {"block_bytes_max", p.block_bytes_max},
                      {"transaction_bytes_max", p.transaction_bytes_max},
                      {"round_timeout_ms", p.round_timeout_ms},
                      {"round_timeout_multiplier_percent", p.round_timeout_multiplier_percent},
                      {"round_timeout_backoff_max", p.round_timeout_backoff_max}};
  // `replace` so that a name that is not UTF-8 (only possible if built in code) cannot throw.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

// Encoding: tag, version, chain id, genesis time, validators (count, then key, power, name in
// genesis order), accounts (count, then address, balance by address), the six consensus
// parameters in declaration order.
Hash Genesis::document_hash() const {
  LEDGER_ASSERT(validate_chain_id(chain_id).is_ok());
  ByteWriter w;
  w.string8(kGenesisTag).u8(kGenesisVersion).string8(chain_id).u64(genesis_time_ms);
  w.u32(static_cast<std::uint32_t>(validators.size()));
  for (const Validator& v : validators.validators()) {
    w.fixed(v.key.bytes).u64(v.power).bytes32(as_bytes(v.name));
  }
  w.u32(static_cast<std::uint32_t>(accounts.size()));
  for (const GenesisAccount* a : accounts_by_address(accounts)) {
    w.fixed(a->address.bytes).u64(a->balance);
  }
  w.u32(consensus.block_transactions_max).u64(consensus.block_bytes_max);
  w.u32(consensus.transaction_bytes_max).u64(consensus.round_timeout_ms);
  w.u32(consensus.round_timeout_multiplier_percent).u32(consensus.round_timeout_backoff_max);
  return sha256(w.data());
}

StateAccumulator Genesis::genesis_state() const {
  StateAccumulator state;
  for (const GenesisAccount& a : accounts)
    state.add(a.address, Account{a.balance, 0});
  return state;
}

Block Genesis::genesis_block() const {
  Block block;
  BlockHeader& h = block.header;
  h.chain_id = chain_id;
  h.height = 0;
  h.round = 0;
  h.parent_id = document_hash();
  h.parent_qc = QuorumCert{};  // all-zero vote data, no signatures
  h.proposer = PublicKey{};
  h.timestamp_ms = genesis_time_ms;
  h.transactions_root = transactions_root({});
  h.state_root = genesis_state().digest();
  return block;
}

}  // namespace ledger
