#include "ledger/storage/rocks_chain_store.h"

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <vector>

#include "commit_validation.h"
#include "exception_boundary.h"
#include "ledger/core/chain_id.h"
#include "rocks_database.h"
#include "rocks_safety_store.h"
#include "rocks_tree_store.h"

namespace ledger::storage {

using detail::BatchBuilder;
using detail::Column;
using detail::Database;

struct RocksChainStore::Impl {
  Impl(std::unique_ptr<Database> database, const BlockLimits& limits)
      : db(std::move(database)), safety(*db), tree(*db, limits) {}

  std::unique_ptr<Database> db;     // never null; outlives `safety` and `tree`
  detail::RocksSafetyStore safety;  // writes into db's "safety" column family
  detail::RocksTreeStore tree;      // writes into db's "tree" column family
  mutable std::mutex tip_mutex;
  std::optional<ChainTip> tip;  // guarded by tip_mutex; always equals the tip stored in meta
};

struct RocksChainStore::PreparedCommit::Batch {
  explicit Batch(const Database& db) : builder(db) {}
  BatchBuilder builder;            // every put and delete of the batch
  std::uint64_t first_height = 0;  // the height of the batch's first block
  ChainTip tip;                    // the tip once the batch is written: its last block
};

RocksChainStore::PreparedCommit::PreparedCommit(std::unique_ptr<Batch> batch)
    : batch_(std::move(batch)) {}
RocksChainStore::PreparedCommit::PreparedCommit(PreparedCommit&&) noexcept = default;
RocksChainStore::PreparedCommit& RocksChainStore::PreparedCommit::operator=(
    PreparedCommit&&) noexcept = default;
RocksChainStore::PreparedCommit::~PreparedCommit() = default;

namespace {

constexpr std::size_t kTxLocationBytes = 12;  // height u64 BE || index u32 BE

std::string height_what(std::string_view thing, std::uint64_t height) {
  return std::string(thing) + " at height " + std::to_string(height);
}

Bytes to_bytes(std::string_view value) {
  ByteView view = detail::as_view(value);
  return Bytes(view.begin(), view.end());
}

// The value at `key`, or kNotFound "no <what>" when absent.
StatusOr<std::string> get_required(const Database& db, Column column, std::string_view key,
                                   const std::string& what) {
  LEDGER_ASSIGN_OR_RETURN(std::optional<std::string> value, db.get(column, key, what));
  if (!value) return Status::not_found("no " + what);
  return std::move(*value);
}

StatusOr<Block> read_block(const Database& db, std::uint64_t height, const BlockLimits& limits) {
  const std::string what = height_what("block", height);
  LEDGER_ASSIGN_OR_RETURN(std::string bytes,
                          get_required(db, Column::kBlocks, detail::u64_bytes(height), what));
  auto block = decode_block(detail::as_view(bytes), limits);
  if (!block.is_ok()) {
    return Status::corruption("stored " + what + " does not decode: " + block.status().message());
  }
  return std::move(block).value();
}

StatusOr<BlockResults> read_results(const Database& db, std::uint64_t height) {
  const std::string what = height_what("results", height);
  LEDGER_ASSIGN_OR_RETURN(std::string bytes,
                          get_required(db, Column::kResults, detail::u64_bytes(height), what));
  auto results = decode_block_results(detail::as_view(bytes));
  if (!results.is_ok()) {
    return Status::corruption("stored " + what + " do not decode: " + results.status().message());
  }
  return std::move(results).value();
}

StatusOr<StateAccumulator> read_accumulator(const Database& db) {
  LEDGER_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                          db.get(Column::kMeta, detail::kMetaAccumulatorKey, "state accumulator"));
  if (!bytes) return StateAccumulator();
  auto accumulator = StateAccumulator::decode(detail::as_view(*bytes));
  if (!accumulator.is_ok()) {
    return Status::corruption("stored state accumulator does not decode: " +
                              accumulator.status().message());
  }
  return std::move(accumulator).value();
}

StatusOr<std::optional<std::string>> get_meta(const Database& db, std::string_view key) {
  return db.get(Column::kMeta, key, "meta key " + std::string(key));
}

constexpr std::size_t kPublicationHoldBytes = 8 + Hash::kSize + 8;

std::string encode_publication_hold(const PublicationHold& hold) {
  return detail::u64_bytes(hold.first_height) + detail::array_key(hold.b0_id.bytes) +
         detail::u64_bytes(hold.b0_round);
}

StatusOr<PublicationHold> decode_publication_hold(std::string_view bytes) {
  constexpr std::string_view what = "meta publication_hold";
  if (bytes.size() != kPublicationHoldBytes) {
    return Status::corruption(std::string(what) + " is " + std::to_string(bytes.size()) +
                              " bytes, expected " + std::to_string(kPublicationHoldBytes));
  }
  PublicationHold hold;
  LEDGER_ASSIGN_OR_RETURN(hold.first_height, detail::decode_u64(bytes.substr(0, 8), what));
  const std::string_view id = bytes.substr(8, Hash::kSize);
  std::copy(id.begin(), id.end(), hold.b0_id.bytes.begin());
  LEDGER_ASSIGN_OR_RETURN(hold.b0_round, detail::decode_u64(bytes.substr(8 + Hash::kSize), what));
  return hold;
}

// The height of the last stored block, or nullopt when no block is stored.
StatusOr<std::optional<std::uint64_t>> last_block_height(const Database& db) {
  std::unique_ptr<rocksdb::Iterator> it = db.iterator(Column::kBlocks);
  it->SeekToLast();
  if (!it->Valid()) {
    if (!it->status().ok()) return detail::from_rocks(it->status(), "scan blocks");
    return std::optional<std::uint64_t>();
  }
  LEDGER_ASSIGN_OR_RETURN(std::uint64_t height,
                          detail::decode_u64(it->key().ToStringView(), "last block key"));
  return std::optional<std::uint64_t>(height);
}

// A directory with no metadata at all becomes a new, empty store for `chain_id`.
Status initialize_meta(Database& db, const std::string& chain_id) {
  LEDGER_ASSIGN_OR_RETURN(std::optional<std::uint64_t> last, last_block_height(db));
  if (last) {
    return Status::corruption("blocks are stored up to height " + std::to_string(*last) +
                              " but the meta column family is empty");
  }
  BatchBuilder builder(db);
  builder.put(Column::kMeta, detail::kMetaChainIdKey, as_bytes(chain_id));
  builder.put(Column::kMeta, detail::kMetaSchemaVersionKey,
              detail::as_view(detail::u32_bytes(kSchemaVersion)));
  LEDGER_RETURN_IF_ERROR(builder.status());
  return db.write(builder.batch(), "initial metadata");
}

Status check_schema_and_chain(const std::optional<std::string>& schema,
                              const std::optional<std::string>& chain,
                              const std::string& expected_chain_id) {
  if (!schema) return Status::corruption("meta has a chain id but no schema version");
  LEDGER_ASSIGN_OR_RETURN(std::uint32_t version,
                          detail::decode_u32(*schema, "meta schema_version"));
  if (version != kSchemaVersion) {
    return Status::failed_precondition(
        "the database has schema version " + std::to_string(version) +
        " but this build reads schema version " + std::to_string(kSchemaVersion) +
        "; migrate or resync the data directory");
  }
  if (!chain) return Status::corruption("meta has a schema version but no chain id");
  if (*chain != expected_chain_id) {
    return Status::failed_precondition("the database belongs to chain '" + *chain +
                                       "', not to the expected chain '" + expected_chain_id + "'");
  }
  return Status::ok();
}

// The column families a database of this schema lacks (added since, or lost): created when
// the store may create things, refused otherwise.
Status complete_columns(Database& db, bool create_if_missing) {
  const std::vector<std::string_view> missing = db.missing_columns();
  if (missing.empty()) return Status::ok();
  if (create_if_missing) return db.create_missing_columns();
  std::string names;
  for (std::string_view name : missing)
    names += (names.empty() ? "" : ", ") + std::string(name);
  return Status::failed_precondition("the database has no column family " + names +
                                     " and create_if_missing is off");
}

// The schema version is checked before anything is created, so a database of another schema
// is refused exactly as it was found.
Status open_meta(Database& db, const std::string& expected_chain_id, bool create_if_missing) {
  std::optional<std::string> schema;
  std::optional<std::string> chain;
  if (db.has_column(Column::kMeta)) {
    LEDGER_ASSIGN_OR_RETURN(schema, get_meta(db, detail::kMetaSchemaVersionKey));
    LEDGER_ASSIGN_OR_RETURN(chain, get_meta(db, detail::kMetaChainIdKey));
  }
  if (schema || chain) {
    LEDGER_RETURN_IF_ERROR(check_schema_and_chain(schema, chain, expected_chain_id));
    return complete_columns(db, create_if_missing);
  }
  if (!create_if_missing) {
    return Status::failed_precondition(
        "the database has no ledgerd metadata (not a ledgerd store?) and create_if_missing is "
        "off");
  }
  LEDGER_RETURN_IF_ERROR(db.create_missing_columns());
  return initialize_meta(db, expected_chain_id);
}

// The tip as meta records it, nullopt if none; kCorruption if only half of it is there.
StatusOr<std::optional<ChainTip>> read_meta_tip(const Database& db) {
  LEDGER_ASSIGN_OR_RETURN(std::optional<std::string> height,
                          get_meta(db, detail::kMetaTipHeightKey));
  LEDGER_ASSIGN_OR_RETURN(std::optional<std::string> id, get_meta(db, detail::kMetaTipIdKey));
  if (!height && !id) return std::optional<ChainTip>();
  if (!height || !id) return Status::corruption("meta has only one of tip_height and tip_id");
  ChainTip tip;
  LEDGER_ASSIGN_OR_RETURN(tip.height, detail::decode_u64(*height, "meta tip_height"));
  if (id->size() != Hash::kSize) {
    return Status::corruption("meta tip_id is " + std::to_string(id->size()) + " bytes, expected " +
                              std::to_string(Hash::kSize));
  }
  std::copy(id->begin(), id->end(), tip.block_id.bytes.begin());
  return std::optional<ChainTip>(tip);
}

// A read made while checking the tip failed: missing or undecodable data is corruption of
// the store, an I/O error stays one.
Status tip_problem(const std::string& where, const Status& read) {
  const StatusCode code =
      read.code() == StatusCode::kIoError ? StatusCode::kIoError : StatusCode::kCorruption;
  return Status(code, where + " but " + read.message());
}

// Checks that the block, results and accumulator of `tip` are stored and agree with meta.
Status check_tip_block(const Database& db, const ChainTip& tip, const BlockLimits& limits) {
  const std::string where =
      "meta tip is height " + std::to_string(tip.height) + " (id " + tip.block_id.hex() + ")";
  auto block = read_block(db, tip.height, limits);
  if (!block.is_ok()) return tip_problem(where, block.status());
  if (block->id() != tip.block_id) {
    return Status::corruption(where + " but the stored block at that height has id " +
                              block->id().hex());
  }
  auto results = read_results(db, tip.height);
  if (!results.is_ok()) return tip_problem(where, results.status());
  LEDGER_ASSIGN_OR_RETURN(StateAccumulator accumulator, read_accumulator(db));
  if (accumulator.digest() != results->state_root) {
    return Status::corruption(where + " but the stored accumulator digest " +
                              accumulator.digest().hex() + " is not its state root " +
                              results->state_root.hex());
  }
  return Status::ok();
}

// Recovers the tip from meta and checks that it is the last stored block.
StatusOr<std::optional<ChainTip>> recover_tip(const Database& db, const BlockLimits& limits) {
  LEDGER_ASSIGN_OR_RETURN(std::optional<ChainTip> tip, read_meta_tip(db));
  LEDGER_ASSIGN_OR_RETURN(std::optional<std::uint64_t> last, last_block_height(db));
  if (!tip) {
    if (!last) return std::optional<ChainTip>();
    return Status::corruption("blocks are stored up to height " + std::to_string(*last) +
                              " but meta records no tip");
  }
  if (!last || *last != tip->height) {
    return Status::corruption("meta tip is height " + std::to_string(tip->height) + " (id " +
                              tip->block_id.hex() + ") but " +
                              (last ? "the last stored block is at height " + std::to_string(*last)
                                    : std::string("no block is stored")));
  }
  LEDGER_RETURN_IF_ERROR(check_tip_block(db, *tip, limits));
  return tip;
}

void add_block(BatchBuilder& builder, const BlockCommit& commit, const Bytes& block_bytes,
               const Hash& block_id) {
  const std::string height_key = detail::u64_bytes(commit.block.header.height);
  builder.put(Column::kBlocks, height_key, block_bytes);
  builder.put(Column::kBlockIds, detail::array_key(block_id.bytes), detail::as_view(height_key));
  builder.put(Column::kCommitCerts, height_key, encode_qc(commit.commit_cert));
  builder.put(Column::kResults, height_key, encode_block_results(commit.results));
}

// Indexes each transaction hash at its first location: a hash already indexed (by a stored
// block, or earlier in this batch, which `seen` holds) keeps the location where it first
// appeared.
Status add_transaction_index(const Database& db, BatchBuilder& builder, const Block& block,
                             std::set<Hash>& seen) {
  for (std::size_t i = 0; i < block.transactions.size(); ++i) {
    const Hash hash = transaction_hash(block.transactions[i]);
    if (!seen.insert(hash).second) continue;
    const std::string key = detail::array_key(hash.bytes);
    LEDGER_ASSIGN_OR_RETURN(std::optional<std::string> existing,
                            db.get(Column::kTxIndex, key, "transaction " + hash.hex()));
    if (existing) continue;
    LEDGER_ASSERT(i <= std::numeric_limits<std::uint32_t>::max());  // validated block limits
    const std::string location =
        detail::u64_bytes(block.header.height) + detail::u32_bytes(static_cast<std::uint32_t>(i));
    builder.put(Column::kTxIndex, key, detail::as_view(location));
  }
  return Status::ok();
}

// The accounts after the batch (the last value each address took in it), the accumulator after
// its last block, and the new tip.
void add_state(BatchBuilder& builder, std::span<const BlockCommit> commits, const ChainTip& tip) {
  std::map<Address, Account> changed;
  for (const BlockCommit& commit : commits) {
    for (const auto& [address, account] : commit.changed_accounts)
      changed.insert_or_assign(address, account);
  }
  for (const auto& [address, account] : changed) {
    const std::string key = detail::array_key(address.bytes);
    if (account.is_empty()) {
      builder.remove(Column::kAccounts, key);
    } else {
      builder.put(Column::kAccounts, key, encode_account(account));
    }
  }
  builder.put(Column::kMeta, detail::kMetaAccumulatorKey, commits.back().accumulator.encode());
  builder.put(Column::kMeta, detail::kMetaTipHeightKey,
              detail::as_view(detail::u64_bytes(tip.height)));
  builder.put(Column::kMeta, detail::kMetaTipIdKey, tip.block_id.bytes);
}

}  // namespace

StatusOr<std::unique_ptr<RocksChainStore>> RocksChainStore::open(
    const std::string& path, const std::string& expected_chain_id, const Options& options) {
  using Result = StatusOr<std::unique_ptr<RocksChainStore>>;
  return detail::guard_exceptions("open chain store at " + path, [&]() -> Result {
    Status valid = validate_chain_id(expected_chain_id);
    if (!valid.is_ok()) return valid.with_context("expected chain id");
    detail::DatabaseOptions db_options{options.create_if_missing, options.paranoid_checks};
    LEDGER_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::open(path, db_options));
    const std::string context = "chain store at " + path;
    Status meta = open_meta(*db, expected_chain_id, options.create_if_missing);
    if (!meta.is_ok()) return meta.with_context(context);
    auto tip = recover_tip(*db, options.block_limits);
    if (!tip.is_ok()) return tip.status().with_context(context);
    auto impl = std::make_unique<Impl>(std::move(db), options.block_limits);
    impl->tip = *tip;
    return std::unique_ptr<RocksChainStore>(
        new RocksChainStore(expected_chain_id, options, std::move(impl)));
  });
}

RocksChainStore::RocksChainStore(std::string chain_id, const Options& options,
                                 std::unique_ptr<Impl> impl)
    : chain_id_(std::move(chain_id)), options_(options), impl_(std::move(impl)) {
  LEDGER_ASSERT(impl_ != nullptr);
}

RocksChainStore::~RocksChainStore() = default;

std::optional<ChainTip> RocksChainStore::tip() const {
  std::lock_guard lock(impl_->tip_mutex);
  return impl_->tip;
}

consensus::SafetyStore& RocksChainStore::safety_store() {
  return impl_->safety;
}

consensus::TreeStore& RocksChainStore::tree_store() {
  return impl_->tree;
}

Status RocksChainStore::commit_batch(std::span<const BlockCommit> commits,
                                     const std::optional<PublicationHold>& hold) {
  return detail::guard_exceptions("commit", [&]() -> Status {
    LEDGER_ASSIGN_OR_RETURN(PreparedCommit prepared, prepare(commits, hold));
    return write(std::move(prepared));
  });
}

StatusOr<std::optional<PublicationHold>> RocksChainStore::publication_hold() const {
  using Result = StatusOr<std::optional<PublicationHold>>;
  return detail::guard_exceptions("publication_hold", [&]() -> Result {
    LEDGER_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                            get_meta(*impl_->db, detail::kMetaPublicationHoldKey));
    if (!bytes) return std::optional<PublicationHold>();
    LEDGER_ASSIGN_OR_RETURN(PublicationHold hold, decode_publication_hold(*bytes));
    return std::optional<PublicationHold>(hold);
  });
}

StatusOr<RocksChainStore::PreparedCommit> RocksChainStore::prepare(
    std::span<const BlockCommit> commits, const std::optional<PublicationHold>& hold) const {
  const Database& db = *impl_->db;
  std::vector<Bytes> block_bytes;
  std::vector<std::size_t> sizes;
  for (const BlockCommit& commit : commits) {
    block_bytes.push_back(encode_block(commit.block));
    sizes.push_back(block_bytes.back().size());
  }
  const detail::BatchTarget target{
      chain_id_, tip(), options_.block_limits, [&db](std::uint64_t height) -> StatusOr<bool> {
        LEDGER_ASSIGN_OR_RETURN(
            std::optional<std::string> existing,
            db.get(Column::kBlocks, detail::u64_bytes(height), height_what("block", height)));
        return existing.has_value();
      }};
  LEDGER_RETURN_IF_ERROR(detail::validate_batch(commits, sizes, target));
  LEDGER_RETURN_IF_ERROR(detail::validate_hold(hold, commits.back().block.header.height));

  auto batch = std::make_unique<PreparedCommit::Batch>(db);
  std::set<Hash> indexed;  // transaction hashes indexed by this batch, or found already indexed
  for (std::size_t i = 0; i < commits.size(); ++i) {
    const BlockCommit& commit = commits[i];
    batch->tip = ChainTip{commit.block.header.height, commit.block.id()};
    add_block(batch->builder, commit, block_bytes[i], batch->tip.block_id);
    LEDGER_RETURN_IF_ERROR(add_transaction_index(db, batch->builder, commit.block, indexed));
  }
  add_state(batch->builder, commits, batch->tip);
  if (hold) {
    const std::string encoded = encode_publication_hold(*hold);
    batch->builder.put(Column::kMeta, detail::kMetaPublicationHoldKey, detail::as_view(encoded));
  } else {
    batch->builder.remove(Column::kMeta, detail::kMetaPublicationHoldKey);
  }
  LEDGER_RETURN_IF_ERROR(batch->builder.status());
  batch->first_height = commits.front().block.header.height;
  return PreparedCommit(std::move(batch));
}

Status RocksChainStore::write(PreparedCommit prepared) {
  LEDGER_ASSERT(prepared.batch_ != nullptr);
  PreparedCommit::Batch& batch = *prepared.batch_;
  const std::string what = batch.first_height == batch.tip.height
                               ? height_what("block", batch.tip.height)
                               : "blocks at heights " + std::to_string(batch.first_height) +
                                     " to " + std::to_string(batch.tip.height);
  LEDGER_RETURN_IF_ERROR(impl_->db->write(batch.builder.batch(), what));
  std::lock_guard lock(impl_->tip_mutex);
  LEDGER_ASSERT(impl_->tip ? batch.first_height == impl_->tip->height + 1
                           : batch.first_height == 0);
  LEDGER_ASSERT(batch.first_height <= batch.tip.height);
  impl_->tip = batch.tip;
  return Status::ok();
}

StatusOr<Block> RocksChainStore::block_at(std::uint64_t height) const {
  return detail::guard_exceptions("block_at", [&]() -> StatusOr<Block> {
    return read_block(*impl_->db, height, options_.block_limits);
  });
}

StatusOr<Bytes> RocksChainStore::raw_block_at(std::uint64_t height) const {
  return detail::guard_exceptions("raw_block_at", [&]() -> StatusOr<Bytes> {
    LEDGER_ASSIGN_OR_RETURN(std::string bytes,
                            get_required(*impl_->db, Column::kBlocks, detail::u64_bytes(height),
                                         height_what("block", height)));
    return to_bytes(bytes);
  });
}

// RocksDB reads a value whole: the block's value is pinned in the block cache rather than copied,
// and only its header is copied out.
StatusOr<Bytes> RocksChainStore::raw_header_at(std::uint64_t height) const {
  return detail::guard_exceptions("raw_header_at", [&]() -> StatusOr<Bytes> {
    const std::string what = height_what("block", height);
    Bytes header;
    LEDGER_ASSIGN_OR_RETURN(
        const bool found,
        impl_->db->read_pinned(
            Column::kBlocks, detail::u64_bytes(height), what, [&](ByteView value) -> Status {
              LEDGER_ASSIGN_OR_RETURN(header, detail::header_of_encoded_block(value, what));
              return Status::ok();
            }));
    if (!found) return Status::not_found("no " + what);
    return header;
  });
}

StatusOr<std::uint64_t> RocksChainStore::height_of(const Hash& block_id) const {
  return detail::guard_exceptions("height_of", [&]() -> StatusOr<std::uint64_t> {
    const std::string what = "block with id " + block_id.hex();
    LEDGER_ASSIGN_OR_RETURN(
        std::string value,
        get_required(*impl_->db, Column::kBlockIds, detail::array_key(block_id.bytes), what));
    return detail::decode_u64(value, "stored height of " + what);
  });
}

StatusOr<TxLocation> RocksChainStore::transaction_location(const Hash& tx_hash) const {
  return detail::guard_exceptions("transaction_location", [&]() -> StatusOr<TxLocation> {
    const std::string what = "transaction with hash " + tx_hash.hex();
    LEDGER_ASSIGN_OR_RETURN(
        std::string value,
        get_required(*impl_->db, Column::kTxIndex, detail::array_key(tx_hash.bytes), what));
    if (value.size() != kTxLocationBytes) {
      return Status::corruption("stored location of " + what + " is " +
                                std::to_string(value.size()) + " bytes, expected " +
                                std::to_string(kTxLocationBytes));
    }
    TxLocation location;
    LEDGER_ASSIGN_OR_RETURN(location.height, detail::decode_u64(value.substr(0, 8), what));
    LEDGER_ASSIGN_OR_RETURN(location.index, detail::decode_u32(value.substr(8), what));
    return location;
  });
}

StatusOr<QuorumCert> RocksChainStore::commit_cert_at(std::uint64_t height) const {
  return detail::guard_exceptions("commit_cert_at", [&]() -> StatusOr<QuorumCert> {
    const std::string what = height_what("commit certificate", height);
    LEDGER_ASSIGN_OR_RETURN(std::string bytes, get_required(*impl_->db, Column::kCommitCerts,
                                                            detail::u64_bytes(height), what));
    auto qc = decode_qc(detail::as_view(bytes));
    if (!qc.is_ok()) {
      return Status::corruption("stored " + what + " does not decode: " + qc.status().message());
    }
    return std::move(qc).value();
  });
}

StatusOr<BlockResults> RocksChainStore::results_at(std::uint64_t height) const {
  return detail::guard_exceptions(
      "results_at", [&]() -> StatusOr<BlockResults> { return read_results(*impl_->db, height); });
}

StatusOr<StateAccumulator> RocksChainStore::accumulator() const {
  return detail::guard_exceptions(
      "accumulator", [&]() -> StatusOr<StateAccumulator> { return read_accumulator(*impl_->db); });
}

StatusOr<Account> RocksChainStore::account(const Address& address) const {
  return detail::guard_exceptions("account", [&]() -> StatusOr<Account> {
    const std::string what = "account " + address.hex();
    LEDGER_ASSIGN_OR_RETURN(
        std::optional<std::string> bytes,
        impl_->db->get(Column::kAccounts, detail::array_key(address.bytes), what));
    if (!bytes) return Account();
    auto account = decode_account(detail::as_view(*bytes));
    if (!account.is_ok()) {
      return Status::corruption("stored " + what +
                                " does not decode: " + account.status().message());
    }
    return std::move(account).value();
  });
}

Status RocksChainStore::for_each_account(
    const std::function<Status(const Address&, const Account&)>& visit) const {
  return detail::guard_exceptions("for_each_account", [&]() -> Status {
    std::unique_ptr<rocksdb::Iterator> it = impl_->db->iterator(Column::kAccounts);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key = it->key().ToStringView();
      Address address;
      if (key.size() != Address::kSize) {
        return Status::corruption("stored account key is " + std::to_string(key.size()) +
                                  " bytes, expected " + std::to_string(Address::kSize));
      }
      std::copy(key.begin(), key.end(), address.bytes.begin());
      auto account = decode_account(detail::as_view(it->value().ToStringView()));
      if (!account.is_ok()) {
        return Status::corruption("stored account " + address.hex() +
                                  " does not decode: " + account.status().message());
      }
      LEDGER_RETURN_IF_ERROR(visit(address, *account));
    }
    if (!it->status().ok()) return detail::from_rocks(it->status(), "scan accounts");
    return Status::ok();
  });
}

}  // namespace ledger::storage
